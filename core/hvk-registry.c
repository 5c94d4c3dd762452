/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include "hvk-config-private.h"
#include "hvk-fs-private.h"
#include "hvk-hypervisor-private.h"
#include "hvk-registry-private.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/**
 * SECTION:hvk-registry
 * @short_description: finds and loads plugins, keeps what they register
 *
 * The registry loads plugins (shared objects exporting an #HvkPluginDesc),
 * checks their ABI version and keeps the backends, device kinds, device
 * appenders, config keys and kernel-param policies they register.  Every
 * plugin it refuses while scanning is reported as a #GError in
 * hvk_registry_get_refusals(); nothing is ever refused silently.
 *
 * The tables are guarded by a mutex: lookups and hypervisor creation may
 * run in many threads.  Plugin loads are serialised.
 *
 * hvk_registry_scan() may answer from a per-user plugin cache instead of
 * loading every plugin: the plugins are then loaded when a lookup needs
 * what they provide (see hvk_registry_scan()).  Every table is kept in
 * the order a full scan would have made, whichever plugin came first.
 */

/* Every table entry starts with its owner, so one function can roll back
 * whatever a refused plugin registered. */
typedef struct
{
  HvkPlugin *owner;  /* unowned; NULL for the core's own entries */
} Entry;

struct _HvkBackendInfo
{
  HvkPlugin *owner;
  char *name;
  GType type;
  HvkCapabilities caps;
};

typedef struct
{
  HvkPlugin *owner;
  HvkDeviceKind *kind;
} KindEntry;

typedef struct
{
  HvkPlugin *owner;
  char *backend;
  char *kind;
  int priority;
  guint64 seq;
  GCallback func;     /* HvkDeviceAppendFunc or HvkHotplugFunc */
  gpointer user_data;
} AppenderEntry;      /* also a hotplug handler's: (backend, kind) → func */

typedef struct
{
  HvkPlugin *owner;
  char *backend;  /* NULL: every backend */
  HvkKernelParamPhase phase;
  int priority;
  guint64 seq;
  HvkKernelParamFunc func;
  gpointer user_data;
} PolicyEntry;

typedef struct
{
  HvkPlugin *owner;
  char *backend;
  HvkConfigKey key;  /* strings owned */
} ConfigKeyEntry;

/* A table in registration order.  Entries rolled back are moved to
 * @retired rather than freed: lookups hand out borrowed pointers, which
 * must stay valid for the registry's lifetime. */
typedef struct
{
  GPtrArray *live;
  GPtrArray *retired;
} Table;

struct _HvkRegistry
{
  GObject parent_instance;

  GMutex lock;          /* the tables below */
  GRecMutex load_lock;  /* one plugin load (and init) at a time */

  GPtrArray *plugins;        /* HvkPlugin, loaded and initialised */
  GHashTable *plugin_paths;  /* real path -> HvkPlugin (borrowed) */
  GPtrArray *refusals;       /* GError */
  guint64 next_seq;

  GPtrArray *candidates;     /* HvkRegistryCandidate: files scans found */
  guint next_rank;           /* scan order of the next plugin, from 1 */
  gint n_pending;            /* atomic: candidates known from the cache
                              * only, not loaded yet */

  Table backends;    /* HvkBackendInfo */
  Table kinds;       /* KindEntry */
  Table appenders;   /* AppenderEntry */
  Table hotplug;     /* AppenderEntry, of HvkHotplugFunc */
  Table policies;    /* PolicyEntry */
  Table config_keys; /* ConfigKeyEntry */
};

G_DEFINE_FINAL_TYPE (HvkRegistry, hvk_registry, G_TYPE_OBJECT)

static void
backend_info_free (HvkBackendInfo *info)
{
  g_free (info->name);
  g_free (info);
}

static void
kind_entry_free (KindEntry *entry)
{
  hvk_device_kind_unref (entry->kind);
  g_free (entry);
}

static void
appender_entry_free (AppenderEntry *entry)
{
  g_free (entry->backend);
  g_free (entry->kind);
  g_free (entry);
}

static void
policy_entry_free (PolicyEntry *entry)
{
  g_free (entry->backend);
  g_free (entry);
}

static void
config_key_entry_free (ConfigKeyEntry *entry)
{
  g_free (entry->backend);
  g_free ((char *) entry->key.name);
  g_free ((char *) entry->key.default_value);
  g_free ((char *) entry->key.description);
  g_free (entry);
}

static void
table_init (Table          *table,
            GDestroyNotify  free_func)
{
  table->live = g_ptr_array_new_with_free_func (free_func);
  table->retired = g_ptr_array_new_with_free_func (free_func);
}

static void
table_clear (Table *table)
{
  g_clear_pointer (&table->live, g_ptr_array_unref);
  g_clear_pointer (&table->retired, g_ptr_array_unref);
}

static guint
entry_rank (gconstpointer entry)
{
  HvkPlugin *owner = ((const Entry *) entry)->owner;

  return owner != NULL ? hvk_plugin_get_rank (owner) : 0;
}

/* Called with the lock held.  Adds @entry after every entry of a plugin
 * scanned before or with its own: a plugin loaded on demand takes the
 * place a full scan would have given it, so "first registered" means the
 * same whichever plugins a process loaded and in which order. */
static void
table_add (Table    *table,
           gpointer  entry)
{
  guint rank = entry_rank (entry);
  guint i = table->live->len;

  while (i > 0 && entry_rank (g_ptr_array_index (table->live, i - 1)) > rank)
    i--;
  g_ptr_array_insert (table->live, i, entry);
}

/* Called with the lock held.  Keeps the order of what remains. */
static void
table_retire_owned_by (Table     *table,
                       HvkPlugin *owner)
{
  for (guint i = table->live->len; i > 0; i--)
    {
      Entry *entry = g_ptr_array_index (table->live, i - 1);

      if (entry->owner == owner)
        {
          /* The owner is about to be freed. */
          entry->owner = NULL;
          g_ptr_array_add (table->retired,
                           g_ptr_array_steal_index (table->live, i - 1));
        }
    }
}

static const char *
owner_name (HvkPlugin *owner)
{
  return owner ? hvk_plugin_get_name (owner) : "hvkit";
}

static void
hvk_registry_finalize (GObject *object)
{
  HvkRegistry *self = HVK_REGISTRY (object);

  /* Registrations point to their plugins (borrowed): drop them first. */
  table_clear (&self->appenders);
  table_clear (&self->hotplug);
  table_clear (&self->policies);
  table_clear (&self->config_keys);
  table_clear (&self->kinds);
  table_clear (&self->backends);
  g_clear_pointer (&self->candidates, g_ptr_array_unref);
  g_clear_pointer (&self->plugin_paths, g_hash_table_unref);
  g_clear_pointer (&self->plugins, g_ptr_array_unref);
  g_clear_pointer (&self->refusals, g_ptr_array_unref);
  g_mutex_clear (&self->lock);
  g_rec_mutex_clear (&self->load_lock);

  G_OBJECT_CLASS (hvk_registry_parent_class)->finalize (object);
}

static void
hvk_registry_class_init (HvkRegistryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hvk_registry_finalize;
}

static void
hvk_registry_init (HvkRegistry *self)
{
  g_autoptr(GPtrArray) standard = NULL;

  g_mutex_init (&self->lock);
  g_rec_mutex_init (&self->load_lock);
  self->plugins = g_ptr_array_new_with_free_func (g_object_unref);
  self->plugin_paths = g_hash_table_new_full (g_str_hash, g_str_equal,
                                              g_free, NULL);
  self->refusals = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  self->candidates =
    g_ptr_array_new_with_free_func ((GDestroyNotify) hvk_registry_candidate_free);
  self->next_rank = 1;
  table_init (&self->backends, (GDestroyNotify) backend_info_free);
  table_init (&self->kinds, (GDestroyNotify) kind_entry_free);
  table_init (&self->appenders, (GDestroyNotify) appender_entry_free);
  table_init (&self->hotplug, (GDestroyNotify) appender_entry_free);
  table_init (&self->policies, (GDestroyNotify) policy_entry_free);
  table_init (&self->config_keys, (GDestroyNotify) config_key_entry_free);

  standard = hvk_device_kinds_new_standard ();
  for (guint i = 0; standard != NULL && i < standard->len; i++)
    {
      KindEntry *entry = g_new0 (KindEntry, 1);

      entry->kind = hvk_device_kind_ref (g_ptr_array_index (standard, i));
      g_ptr_array_add (self->kinds.live, entry);
    }
}

/**
 * hvk_registry_new:
 *
 * Creates an empty registry: it knows the standard device kinds and
 * nothing else.  Load plugins with hvk_registry_scan(),
 * hvk_registry_scan_path() or hvk_registry_load_plugin().
 *
 * Returns: (transfer full): a new registry
 */
HvkRegistry *
hvk_registry_new (void)
{
  return g_object_new (HVK_TYPE_REGISTRY, NULL);
}

static gpointer
create_default_registry (gpointer data)
{
  HvkRegistry *registry = hvk_registry_new ();

  hvk_registry_scan (registry);
  return registry;
}

/**
 * hvk_registry_get_default:
 *
 * Returns the process-wide registry, created and scanned (see
 * hvk_registry_scan()) on the first call, from whichever thread makes it.
 * The environment is read then; later changes to it are not seen.
 * A plugin's init must not call it (the first call would wait for
 * itself): use hvk_plugin_get_registry().
 *
 * Returns: (transfer none): the default registry
 */
HvkRegistry *
hvk_registry_get_default (void)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, create_default_registry, NULL);
  return once.retval;
}

gboolean
hvk_registry_name_is_valid (const char *name)
{
  if (name == NULL || *name == '\0')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    {
      if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '_' ||
            *p == '-'))
        return FALSE;
    }
  return TRUE;
}

/* Lookups below are called with the lock held. */

static HvkBackendInfo *
find_backend (HvkRegistry *self,
              const char  *name)
{
  for (guint i = 0; i < self->backends.live->len; i++)
    {
      HvkBackendInfo *info = g_ptr_array_index (self->backends.live, i);

      if (g_str_equal (info->name, name))
        return info;
    }
  return NULL;
}

static KindEntry *
find_kind (HvkRegistry *self,
           const char  *name)
{
  for (guint i = 0; i < self->kinds.live->len; i++)
    {
      KindEntry *entry = g_ptr_array_index (self->kinds.live, i);

      if (g_str_equal (hvk_device_kind_get_name (entry->kind), name))
        return entry;
    }
  return NULL;
}

/* The handler of (@backend, @kind) in @table with the highest priority,
 * then the first registered. */
static AppenderEntry *
find_kind_handler (Table      *table,
                   const char *backend,
                   const char *kind)
{
  AppenderEntry *best = NULL;

  for (guint i = 0; i < table->live->len; i++)
    {
      AppenderEntry *entry = g_ptr_array_index (table->live, i);

      if (!g_str_equal (entry->backend, backend) ||
          !g_str_equal (entry->kind, kind))
        continue;
      if (best == NULL || entry->priority > best->priority)
        best = entry;
    }
  return best;
}

static AppenderEntry *
find_appender (HvkRegistry *self,
               const char  *backend,
               const char  *kind)
{
  return find_kind_handler (&self->appenders, backend, kind);
}

static ConfigKeyEntry *
find_config_key (HvkRegistry *self,
                 const char  *backend,
                 const char  *key)
{
  for (guint i = 0; i < self->config_keys.live->len; i++)
    {
      ConfigKeyEntry *entry = g_ptr_array_index (self->config_keys.live, i);

      if (g_str_equal (entry->backend, backend) &&
          g_str_equal (entry->key.name, key))
        return entry;
    }
  return NULL;
}

static HvkPlugin *
find_plugin (HvkRegistry *self,
             const char  *name)
{
  for (guint i = 0; i < self->plugins->len; i++)
    {
      HvkPlugin *plugin = g_ptr_array_index (self->plugins, i);

      if (g_str_equal (hvk_plugin_get_name (plugin), name))
        return plugin;
    }
  return NULL;
}

/* Registration.  Each validates what it can without the lock, then checks
 * for clashes and adds under it. */

static gboolean
check_backend_name (HvkPlugin   *plugin,
                    const char  *what,
                    const char  *name,
                    GError     **error)
{
  if (hvk_registry_name_is_valid (name))
    return TRUE;
  g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
               "plugin '%s': %s: invalid backend name '%s' (expected [a-z0-9_-]+)",
               owner_name (plugin), what, name ? name : "(null)");
  return FALSE;
}

gboolean
hvk_registry_add_backend (HvkRegistry      *self,
                          HvkPlugin        *plugin,
                          const char       *name,
                          GType             type,
                          HvkCapabilities   caps,
                          GError          **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  HvkBackendInfo *other;
  HvkBackendInfo *info;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), FALSE);

  if (!check_backend_name (plugin, "backend", name, error))
    return FALSE;
  if (type == G_TYPE_INVALID || !G_TYPE_IS_INSTANTIATABLE (type) ||
      G_TYPE_IS_ABSTRACT (type) || !g_type_is_a (type, G_TYPE_OBJECT) ||
      !g_type_is_a (type, HVK_TYPE_HYPERVISOR))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "plugin '%s': backend '%s': type '%s' is not an instantiatable GObject type implementing HvkHypervisor",
                   owner_name (plugin), name,
                   type != G_TYPE_INVALID ? g_type_name (type) : "(invalid)");
      return FALSE;
    }

  locker = g_mutex_locker_new (&self->lock);
  other = find_backend (self, name);
  if (other != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_PLUGIN,
                   "plugin '%s': backend '%s' already registered by plugin '%s'",
                   owner_name (plugin), name, owner_name (other->owner));
      return FALSE;
    }

  info = g_new0 (HvkBackendInfo, 1);
  info->owner = plugin;
  info->name = g_strdup (name);
  info->type = type;
  info->caps = caps;
  table_add (&self->backends, info);
  return TRUE;
}

gboolean
hvk_registry_add_device_kind (HvkRegistry    *self,
                              HvkPlugin      *plugin,
                              HvkDeviceKind  *kind,
                              GError        **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  const char *name;
  KindEntry *other;
  KindEntry *entry;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), FALSE);
  g_return_val_if_fail (kind != NULL, FALSE);

  name = hvk_device_kind_get_name (kind);
  locker = g_mutex_locker_new (&self->lock);
  other = find_kind (self, name);
  if (other != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_PLUGIN,
                   "plugin '%s': device kind '%s' already registered by %s%s%s",
                   owner_name (plugin), name,
                   other->owner ? "plugin '" : "",
                   other->owner ? owner_name (other->owner) : "the core",
                   other->owner ? "'" : "");
      return FALSE;
    }

  entry = g_new0 (KindEntry, 1);
  entry->owner = plugin;
  entry->kind = hvk_device_kind_ref (kind);
  table_add (&self->kinds, entry);
  return TRUE;
}

/* Registers @func for (@backend, @kind) in @table; @what names the
 * table in errors ("device appender", "hotplug handler"). */
static gboolean
add_kind_handler (HvkRegistry  *self,
                  Table        *table,
                  const char   *what,
                  HvkPlugin    *plugin,
                  const char   *backend,
                  const char   *kind,
                  int           priority,
                  GCallback     func,
                  gpointer      user_data,
                  GError      **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  AppenderEntry *entry;

  if (!check_backend_name (plugin, what, backend, error))
    return FALSE;
  if (kind == NULL || func == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "plugin '%s': %s for backend '%s': %s is NULL",
                   owner_name (plugin), what, backend,
                   kind == NULL ? "device kind" : "function");
      return FALSE;
    }

  locker = g_mutex_locker_new (&self->lock);
  if (find_kind (self, kind) == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "plugin '%s': %s for backend '%s': unknown device kind '%s'",
                   owner_name (plugin), what, backend, kind);
      return FALSE;
    }
  for (guint i = 0; i < table->live->len; i++)
    {
      AppenderEntry *other = g_ptr_array_index (table->live, i);

      if (g_str_equal (other->backend, backend) &&
          g_str_equal (other->kind, kind) && other->priority == priority)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_PLUGIN,
                       "plugin '%s': %s for backend '%s', device kind '%s' at priority %d already registered by plugin '%s'",
                       owner_name (plugin), what, backend, kind, priority,
                       owner_name (other->owner));
          return FALSE;
        }
    }

  entry = g_new0 (AppenderEntry, 1);
  entry->owner = plugin;
  entry->backend = g_strdup (backend);
  entry->kind = g_strdup (kind);
  entry->priority = priority;
  entry->seq = self->next_seq++;
  entry->func = func;
  entry->user_data = user_data;
  table_add (table, entry);
  return TRUE;
}

gboolean
hvk_registry_add_device_appender (HvkRegistry         *self,
                                  HvkPlugin           *plugin,
                                  const char          *backend,
                                  const char          *kind,
                                  int                  priority,
                                  HvkDeviceAppendFunc  func,
                                  gpointer             user_data,
                                  GError             **error)
{
  g_return_val_if_fail (HVK_IS_REGISTRY (self), FALSE);

  return add_kind_handler (self, &self->appenders, "device appender", plugin, backend, kind,
                           priority, (GCallback) func, user_data, error);
}

gboolean
hvk_registry_add_hotplug_handler (HvkRegistry     *self,
                                  HvkPlugin       *plugin,
                                  const char      *backend,
                                  const char      *kind,
                                  int              priority,
                                  HvkHotplugFunc   func,
                                  gpointer         user_data,
                                  GError         **error)
{
  g_return_val_if_fail (HVK_IS_REGISTRY (self), FALSE);

  return add_kind_handler (self, &self->hotplug, "hotplug handler", plugin, backend, kind,
                           priority, (GCallback) func, user_data, error);
}

static gboolean
phase_is_registrable (HvkKernelParamPhase phase)
{
  switch (phase)
    {
    case HVK_KERNEL_PARAM_PHASE_BASE:
    case HVK_KERNEL_PARAM_PHASE_DEBUG:
    case HVK_KERNEL_PARAM_PHASE_DEFAULTS:
    case HVK_KERNEL_PARAM_PHASE_MAX_CPUS:
    case HVK_KERNEL_PARAM_PHASE_OTHER:
      return TRUE;
    case HVK_KERNEL_PARAM_PHASE_DEVICES:
    case HVK_KERNEL_PARAM_PHASE_USER:
    default:
      return FALSE;
    }
}

gboolean
hvk_registry_add_kernel_param_policy (HvkRegistry         *self,
                                      HvkPlugin           *plugin,
                                      const char          *backend,
                                      HvkKernelParamPhase  phase,
                                      int                  priority,
                                      HvkKernelParamFunc   func,
                                      gpointer             user_data,
                                      GError             **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  PolicyEntry *entry;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), FALSE);

  if (backend != NULL &&
      !check_backend_name (plugin, "kernel-param policy", backend, error))
    return FALSE;
  if (!phase_is_registrable (phase))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "plugin '%s': kernel-param policy for %s%s%s: phase %d is not registrable (devices and user parameters are added by the core)",
                   owner_name (plugin),
                   backend ? "backend '" : "all backends",
                   backend ? backend : "", backend ? "'" : "", (int) phase);
      return FALSE;
    }
  if (func == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "plugin '%s': kernel-param policy for %s%s%s: function is NULL",
                   owner_name (plugin),
                   backend ? "backend '" : "all backends",
                   backend ? backend : "", backend ? "'" : "");
      return FALSE;
    }

  entry = g_new0 (PolicyEntry, 1);
  entry->owner = plugin;
  entry->backend = g_strdup (backend);
  entry->phase = phase;
  entry->priority = priority;
  entry->func = func;
  entry->user_data = user_data;

  locker = g_mutex_locker_new (&self->lock);
  entry->seq = self->next_seq++;
  table_add (&self->policies, entry);
  return TRUE;
}

gboolean
hvk_registry_add_config_keys (HvkRegistry         *self,
                              HvkPlugin           *plugin,
                              const char          *backend,
                              const HvkConfigKey  *keys,
                              guint                n_keys,
                              GError             **error)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), FALSE);

  if (!check_backend_name (plugin, "config keys", backend, error))
    return FALSE;

  /* All or nothing: check every key before adding any. */
  for (guint i = 0; i < n_keys; i++)
    {
      const HvkConfigKey *key = &keys[i];

      if (!hvk_registry_name_is_valid (key->name))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "plugin '%s': config key %u of backend '%s': invalid name '%s' (expected [a-z0-9_-]+)",
                       owner_name (plugin), i, backend,
                       key->name ? key->name : "(null)");
          return FALSE;
        }
      if ((guint) key->type > HVK_CONFIG_TYPE_PATH_LIST)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "plugin '%s': config key '%s' of backend '%s': invalid type %d",
                       owner_name (plugin), key->name, backend, (int) key->type);
          return FALSE;
        }
      for (guint j = 0; j < i; j++)
        {
          if (g_str_equal (keys[j].name, key->name))
            {
              g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "plugin '%s': config key '%s' of backend '%s' declared twice",
                           owner_name (plugin), key->name, backend);
              return FALSE;
            }
        }
      if (hvk_config_keys_lookup_core (key->name) != NULL)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_PLUGIN,
                       "plugin '%s': config key '%s' of backend '%s' clashes with a core key",
                       owner_name (plugin), key->name, backend);
          return FALSE;
        }
    }

  locker = g_mutex_locker_new (&self->lock);
  for (guint i = 0; i < n_keys; i++)
    {
      ConfigKeyEntry *other = find_config_key (self, backend, keys[i].name);

      if (other != NULL)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_PLUGIN,
                       "plugin '%s': config key '%s' of backend '%s' already registered by plugin '%s'",
                       owner_name (plugin), keys[i].name, backend,
                       owner_name (other->owner));
          return FALSE;
        }
    }
  for (guint i = 0; i < n_keys; i++)
    {
      ConfigKeyEntry *entry = g_new0 (ConfigKeyEntry, 1);

      entry->owner = plugin;
      entry->backend = g_strdup (backend);
      entry->key.name = g_strdup (keys[i].name);
      entry->key.type = keys[i].type;
      entry->key.default_value = g_strdup (keys[i].default_value);
      entry->key.description = g_strdup (keys[i].description ? keys[i].description : "");
      table_add (&self->config_keys, entry);
    }
  return TRUE;
}

/* Loading. */

static void
add_refusal (HvkRegistry  *self,
             const GError *error)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  g_ptr_array_add (self->refusals, g_error_copy (error));
}

/* Whether @desc may be initialised: ABI, name, init, name not taken.
 * Called with the load lock held, before anything of the plugin runs. */
static gboolean
check_descriptor (HvkRegistry          *self,
                  const HvkPluginDesc  *desc,
                  const char           *where,
                  GError              **error)
{
  HvkPlugin *other;

  if (desc->abi_version != HVK_PLUGIN_ABI_VERSION)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_PLUGIN,
                   "%s: plugin ABI version %u, expected %u",
                   where, (guint) desc->abi_version,
                   (guint) HVK_PLUGIN_ABI_VERSION);
      return FALSE;
    }
  if (!hvk_registry_name_is_valid (desc->name))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_PLUGIN,
                   "%s: invalid plugin name '%s' (expected [a-z0-9_-]+)",
                   where, desc->name ? desc->name : "(null)");
      return FALSE;
    }
  if (desc->init == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_PLUGIN,
                   "%s: plugin '%s' has no init function", where, desc->name);
      return FALSE;
    }

  g_mutex_lock (&self->lock);
  other = find_plugin (self, desc->name);
  g_mutex_unlock (&self->lock);
  if (other != NULL)
    {
      const char *other_file = hvk_plugin_get_filename (other);

      g_set_error (error, HVK_ERROR, HVK_ERROR_PLUGIN,
                   "%s: plugin name '%s' already taken by %s",
                   where, desc->name,
                   other_file ? other_file : "a static plugin");
      return FALSE;
    }
  return TRUE;
}

/* Checks @desc and runs its init.  Takes @module (NULL for a static
 * plugin), which @desc points into.  Called with the load lock held. */
static HvkPlugin *
register_plugin (HvkRegistry          *self,
                 const HvkPluginDesc  *desc,
                 const char           *filename,
                 const char           *real_path,
                 GModule              *module,
                 guint                 rank,
                 GError              **error)
{
  const char *where = filename ? filename : "(static plugin)";
  g_autoptr(HvkPlugin) plugin = NULL;
  g_autoptr(GError) local_error = NULL;

  if (!check_descriptor (self, desc, where, error))
    {
      /* Only now: the messages read the descriptor, inside the module. */
      if (module != NULL)
        g_module_close (module);
      return NULL;
    }

  plugin = hvk_plugin_new_internal (self, desc, filename, module);
  /* Before init: its registrations take their place by it. */
  hvk_plugin_set_rank (plugin, rank);

  /* Once init has run the module may have registered static GTypes, which
   * can never be unregistered: unloading it would leave the type system
   * pointing into unmapped code.  So it stays resident whatever init
   * returns. */
  if (!desc->init (plugin, &local_error))
    {
      if (module != NULL)
        g_module_make_resident (module);

      g_mutex_lock (&self->lock);
      table_retire_owned_by (&self->appenders, plugin);
      table_retire_owned_by (&self->hotplug, plugin);
      table_retire_owned_by (&self->policies, plugin);
      table_retire_owned_by (&self->config_keys, plugin);
      table_retire_owned_by (&self->kinds, plugin);
      table_retire_owned_by (&self->backends, plugin);
      g_mutex_unlock (&self->lock);

      g_set_error (error, HVK_ERROR, HVK_ERROR_PLUGIN,
                   "%s: plugin '%s' init failed: %s", where, desc->name,
                   local_error ? local_error->message
                               : "returned FALSE without an error");
      return NULL;
    }
  if (local_error != NULL)
    g_clear_error (&local_error);  /* set despite success: ignore */

  if (module != NULL)
    g_module_make_resident (module);

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->plugins, g_object_ref (plugin));
  if (real_path != NULL)
    g_hash_table_insert (self->plugin_paths, g_strdup (real_path), plugin);
  g_mutex_unlock (&self->lock);

  /* The registry holds the reference now; the autoptr drops ours. */
  return plugin;
}

/* Opens @filename and registers its plugin at @rank.  Called with the
 * load lock held. */
static HvkPlugin *
load_file (HvkRegistry  *self,
           const char   *filename,
           guint         rank,
           GError      **error)
{
  g_autofree char *real_path = NULL;
  HvkPlugin *loaded;
  GModule *module;
  gpointer symbol = NULL;

  real_path = realpath (filename, NULL);
  if (real_path == NULL)
    {
      int saved_errno = errno;

      g_set_error (error, HVK_ERROR,
                   saved_errno == ENOENT ? HVK_ERROR_NOT_FOUND : HVK_ERROR_PLUGIN,
                   "%s: %s", filename, g_strerror (saved_errno));
      return NULL;
    }

  g_mutex_lock (&self->lock);
  loaded = g_hash_table_lookup (self->plugin_paths, real_path);
  g_mutex_unlock (&self->lock);
  if (loaded != NULL)
    return loaded;

  module = g_module_open (filename, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  if (module == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_PLUGIN,
                   "%s: cannot load: %s", filename, g_module_error ());
      return NULL;
    }
  if (!g_module_symbol (module, HVK_PLUGIN_DESC_SYMBOL, &symbol) ||
      symbol == NULL)
    {
      g_module_close (module);
      g_set_error (error, HVK_ERROR, HVK_ERROR_PLUGIN,
                   "%s: no plugin descriptor (%s)", filename,
                   HVK_PLUGIN_DESC_SYMBOL);
      return NULL;
    }

  return register_plugin (self, symbol, filename, real_path, module, rank,
                          error);
}

static HvkRegistryCandidate *
find_pending_candidate (HvkRegistry *self,
                        const char  *path)
{
  for (guint i = 0; i < self->candidates->len; i++)
    {
      HvkRegistryCandidate *candidate = g_ptr_array_index (self->candidates, i);

      if (!candidate->attempted && g_str_equal (candidate->path, path))
        return candidate;
    }
  return NULL;
}

/* Called with the load lock held. */
static void
candidate_mark_attempted (HvkRegistry          *self,
                          HvkRegistryCandidate *candidate)
{
  if (candidate->attempted)
    return;
  candidate->attempted = TRUE;
  if (candidate->name != NULL)  /* known from the cache: it was pending */
    g_atomic_int_add (&self->n_pending, -1);
}

/* Loads @candidate if nobody tried yet; a refusal is recorded.  Called
 * with the load lock held. */
static void
load_candidate (HvkRegistry          *self,
                HvkRegistryCandidate *candidate)
{
  g_autoptr(GError) error = NULL;

  if (candidate->attempted)
    return;
  candidate_mark_attempted (self, candidate);
  candidate->plugin = load_file (self, candidate->path, candidate->rank, &error);
  if (candidate->plugin == NULL)
    add_refusal (self, error);
}

/**
 * hvk_registry_load_plugin:
 * @self: a #HvkRegistry
 * @filename: the plugin's shared object
 * @error: return location for an error
 *
 * Loads one plugin: opens @filename, finds its `hvk_plugin_desc`, checks
 * the ABI version, name and init function, then runs init.  If init fails
 * every registration it made is removed and the plugin is refused;
 * otherwise the module is made resident and the plugin listed.  Loading a
 * file already loaded (the same real path) returns the plugin loaded then
 * without running init again.
 *
 * Refusals are %HVK_ERROR_PLUGIN errors whose message starts with
 * @filename: `FILE: no plugin descriptor (hvk_plugin_desc)`,
 * `FILE: plugin ABI version N, expected M`,
 * `FILE: plugin name 'x' already taken by OTHERFILE`,
 * `FILE: plugin 'x' init failed: …`.  A missing file is
 * %HVK_ERROR_NOT_FOUND.
 *
 * Returns: (transfer none): the plugin, owned by @self, or %NULL with
 *   @error set
 */
HvkPlugin *
hvk_registry_load_plugin (HvkRegistry  *self,
                          const char   *filename,
                          GError      **error)
{
  g_autoptr(GRecMutexLocker) load_locker = NULL;
  HvkRegistryCandidate *candidate;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (filename != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  load_locker = g_rec_mutex_locker_new (&self->load_lock);
  /* A file a scan found and left to load on demand keeps its place. */
  candidate = find_pending_candidate (self, filename);
  if (candidate != NULL)
    {
      candidate_mark_attempted (self, candidate);
      candidate->plugin = load_file (self, filename, candidate->rank, error);
      return candidate->plugin;
    }
  return load_file (self, filename, self->next_rank++, error);
}

/**
 * hvk_registry_register_static_plugin:
 * @self: a #HvkRegistry
 * @desc: a plugin descriptor that lives as long as @self (static data)
 * @error: return location for an error
 *
 * Registers a plugin linked into the program rather than loaded from a
 * file (a test linking a backend's code directly, say), with the same
 * checks and rollback as hvk_registry_load_plugin().  Its filename is
 * %NULL.
 *
 * Returns: (transfer none): the plugin, owned by @self, or %NULL with
 *   @error set
 */
HvkPlugin *
hvk_registry_register_static_plugin (HvkRegistry          *self,
                                     const HvkPluginDesc  *desc,
                                     GError              **error)
{
  g_autoptr(GRecMutexLocker) load_locker = NULL;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (desc != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  load_locker = g_rec_mutex_locker_new (&self->load_lock);
  return register_plugin (self, desc, NULL, NULL, NULL, self->next_rank++,
                          error);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Lists the plugin files of @directory (every regular file ending in
 * `.so`, alphabetically) into @self's candidates and @found, each with its
 * size, mtime and rank.  Errors and refusals as hvk_registry_scan_path().
 * Called with the load lock held. */
static gboolean
list_dir (HvkRegistry  *self,
          const char   *directory,
          GPtrArray    *found,
          GError      **error)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *name;
  struct stat st;

  if (stat (directory, &st) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, HVK_ERROR,
                   (saved_errno == ENOENT || saved_errno == ENOTDIR)
                   ? HVK_ERROR_NOT_FOUND : HVK_ERROR_FAILED,
                   "plugin directory %s: %s", directory,
                   g_strerror (saved_errno));
      return FALSE;
    }
  if (!S_ISDIR (st.st_mode))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "plugin directory %s: not a directory", directory);
      return FALSE;
    }
  if (!hvk_fs_check_dir_trust (directory, &st,
                               HVK_DIR_TRUST_NOT_WORLD_WRITABLE,
                               "plugin directory", HVK_ERROR_PLUGIN,
                               &local_error))
    {
      g_prefix_error (&local_error, "refusing to load plugins: ");
      add_refusal (self, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  dir = g_dir_open (directory, 0, &local_error);
  if (dir == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "plugin directory %s: %s", directory, local_error->message);
      return FALSE;
    }

  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      if (g_str_has_suffix (name, ".so"))
        g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_sort (names, compare_strings);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (directory,
                                                g_ptr_array_index (names, i),
                                                NULL);
      HvkRegistryCandidate *candidate;
      struct stat file_st;

      /* Followed, as g_module_open() will. */
      if (stat (path, &file_st) != 0 || !S_ISREG (file_st.st_mode))
        continue;
      candidate = hvk_registry_candidate_new (path, &file_st, self->next_rank++);
      g_ptr_array_add (self->candidates, candidate);
      g_ptr_array_add (found, candidate);
    }

  return TRUE;
}

/**
 * hvk_registry_scan_path:
 * @self: a #HvkRegistry
 * @directory: a directory of plugins
 * @error: return location for an error
 *
 * Loads every regular file ending in `.so` in @directory, in
 * alphabetical order.  A plugin that is refused does not stop the scan:
 * its error is appended to hvk_registry_get_refusals().  A directory
 * anyone may write to (world-writable without the sticky bit) is refused
 * as a whole, since any user could plant code in it; that refusal is
 * reported both ways.  The plugin cache is not used (see
 * hvk_registry_scan()).
 *
 * Returns: %TRUE if @directory was scanned; %FALSE with @error set if it
 *   is missing (%HVK_ERROR_NOT_FOUND), unreadable or refused
 */
gboolean
hvk_registry_scan_path (HvkRegistry  *self,
                        const char   *directory,
                        GError      **error)
{
  g_autoptr(GRecMutexLocker) load_locker = NULL;
  g_autoptr(GPtrArray) found = NULL;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), FALSE);
  g_return_val_if_fail (directory != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  load_locker = g_rec_mutex_locker_new (&self->load_lock);
  found = g_ptr_array_new ();
  if (!list_dir (self, directory, found, error))
    return FALSE;
  for (guint i = 0; i < found->len; i++)
    load_candidate (self, g_ptr_array_index (found, i));
  return TRUE;
}

static void
scan_list (HvkRegistry *self,
           const char  *list,
           GPtrArray   *found)
{
  g_auto(GStrv) dirs = g_strsplit (list, G_SEARCHPATH_SEPARATOR_S, -1);

  for (guint i = 0; dirs[i] != NULL; i++)
    {
      /* A relative entry would load whatever the current directory
       * holds: refused, with a message. */
      if (dirs[i][0] != '\0' && !g_path_is_absolute (dirs[i]))
        {
          g_autoptr(GError) refusal =
            g_error_new (HVK_ERROR, HVK_ERROR_PLUGIN,
                         "%s: plugin directory is not an absolute path, refusing to load plugins from it",
                         dirs[i]);
          add_refusal (self, refusal);
          continue;
        }
      if (dirs[i][0] != '\0')
        {
          /* Missing directories are skipped silently; refusals are
           * already recorded by list_dir(). */
          list_dir (self, dirs[i], found, NULL);
        }
    }
}

static void
add_unique (GPtrArray  *strings,
            const char *string)
{
  for (guint i = 0; i < strings->len; i++)
    {
      if (g_str_equal (g_ptr_array_index (strings, i), string))
        return;
    }
  g_ptr_array_add (strings, g_strdup (string));
}

/* Fills the cached fields of @candidate from what its plugin registered.
 * Called with the lock held. */
static void
describe_candidate (HvkRegistry          *self,
                    HvkRegistryCandidate *candidate)
{
  HvkPlugin *plugin = candidate->plugin;

  candidate->name = g_strdup (hvk_plugin_get_name (plugin));
  candidate->description = g_strdup (hvk_plugin_get_description (plugin));
  candidate->version = g_strdup (hvk_plugin_get_version (plugin));
  candidate->license = g_strdup (hvk_plugin_get_license (plugin));

  for (guint i = 0; i < self->backends.live->len; i++)
    {
      HvkBackendInfo *info = g_ptr_array_index (self->backends.live, i);

      if (info->owner == plugin)
        {
          g_ptr_array_add (candidate->backends, g_strdup (info->name));
          g_array_append_val (candidate->backend_caps, info->caps);
        }
    }
  for (guint i = 0; i < self->kinds.live->len; i++)
    {
      KindEntry *entry = g_ptr_array_index (self->kinds.live, i);

      if (entry->owner == plugin)
        g_ptr_array_add (candidate->kinds,
                         g_strdup (hvk_device_kind_get_name (entry->kind)));
    }
  /* A hotplug handler, like an appender, makes the plugin one that a VM
   * of its backend needs loaded. */
  for (Table *table = &self->appenders; table != NULL;
       table = table == &self->appenders ? &self->hotplug : NULL)
    for (guint i = 0; i < table->live->len; i++)
      {
        AppenderEntry *entry = g_ptr_array_index (table->live, i);

        if (entry->owner == plugin)
          {
            g_ptr_array_add (candidate->appender_backends, g_strdup (entry->backend));
            g_ptr_array_add (candidate->appender_kinds, g_strdup (entry->kind));
          }
      }
  for (guint i = 0; i < self->policies.live->len; i++)
    {
      PolicyEntry *entry = g_ptr_array_index (self->policies.live, i);

      if (entry->owner == plugin)
        add_unique (candidate->policy_backends,
                    entry->backend ? entry->backend : "");
    }
  for (guint i = 0; i < self->config_keys.live->len; i++)
    {
      ConfigKeyEntry *entry = g_ptr_array_index (self->config_keys.live, i);

      if (entry->owner == plugin)
        add_unique (candidate->key_backends, entry->backend);
    }
}

/* Whether @found, all loaded, may be cached: each file loaded as a plugin
 * of its own, none refused.  Called with the lock held. */
static gboolean
cacheable (GPtrArray *found)
{
  for (guint i = 0; i < found->len; i++)
    {
      HvkRegistryCandidate *candidate = g_ptr_array_index (found, i);

      if (candidate->plugin == NULL)
        return FALSE;
      /* The same file twice (a directory listed twice, a symlink). */
      for (guint j = 0; j < i; j++)
        {
          if (((HvkRegistryCandidate *) g_ptr_array_index (found, j))->plugin ==
              candidate->plugin)
            return FALSE;
        }
    }
  return TRUE;
}

/**
 * hvk_registry_scan:
 * @self: a #HvkRegistry
 *
 * Finds the plugins of the directories listed in `HVKIT_PLUGIN_PATH`
 * (colon-separated, in order), then those of `HVKIT_PLUGIN_SYSTEM_PATH` if
 * that variable is set (empty: none), else of the installed plugin
 * directory.  Missing directories are skipped; relative ones are refused;
 * every refusal is appended to hvk_registry_get_refusals().  When two files carry the same plugin
 * name, the first found wins and the other is refused.
 *
 * The plugins found are described in a per-user cache, as GStreamer's
 * registry does: `$XDG_CACHE_HOME/hvkit/registry-ARCH.cache`, or the
 * absolute path in `HVKIT_REGISTRY_CACHE` (`none` or empty: no cache).
 * When the cache lists the same files with the same sizes and mtimes, for
 * this hvkit and plugin ABI version, no plugin is loaded here: each is
 * loaded when a lookup needs something it registers (a backend with the
 * plugins that add appenders, policies or config keys to it, a device
 * kind, a plugin by name; listing all of something loads all).  Otherwise
 * (no cache, stale, corrupt, not owned by this user or writable by
 * others) every plugin is loaded and the cache written again, atomically,
 * unless a plugin was refused: a scan with refusals is never cached, so
 * they are reported by every process.
 */
void
hvk_registry_scan (HvkRegistry *self)
{
  g_autoptr(GRecMutexLocker) load_locker = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autofree char *cache_path = NULL;
  const char *path;
  const char *system_path;

  g_return_if_fail (HVK_IS_REGISTRY (self));

  load_locker = g_rec_mutex_locker_new (&self->load_lock);
  found = g_ptr_array_new ();

  path = g_getenv (HVK_PLUGIN_PATH_ENV);
  if (path != NULL)
    scan_list (self, path, found);

  system_path = g_getenv (HVK_PLUGIN_SYSTEM_PATH_ENV);
  scan_list (self, system_path != NULL ? system_path : HVK_PLUGINSDIR, found);

  cache_path = hvk_registry_cache_get_path ();
  if (cache_path != NULL && hvk_registry_cache_read (cache_path, found))
    {
      g_atomic_int_add (&self->n_pending, (int) found->len);
      return;
    }

  for (guint i = 0; i < found->len; i++)
    load_candidate (self, g_ptr_array_index (found, i));

  if (cache_path != NULL)
    {
      g_mutex_lock (&self->lock);
      if (cacheable (found))
        {
          for (guint i = 0; i < found->len; i++)
            describe_candidate (self, g_ptr_array_index (found, i));
        }
      else
        g_clear_pointer (&cache_path, g_free);
      g_mutex_unlock (&self->lock);
      if (cache_path != NULL)
        hvk_registry_cache_write (cache_path, found);
    }
}

/* What a lookup needs loaded. */
typedef enum
{
  NEED_ALL,
  NEED_BACKEND,  /* what registers the backend or anything for it */
  NEED_KIND,     /* what registers the device kind */
  NEED_PLUGIN,   /* the plugin of that name */
} Need;

static gboolean
strings_contain (GPtrArray  *strings,
                 const char *string)
{
  for (guint i = 0; i < strings->len; i++)
    {
      if (g_str_equal (g_ptr_array_index (strings, i), string))
        return TRUE;
    }
  return FALSE;
}

static gboolean
candidate_provides (HvkRegistryCandidate *candidate,
                    Need                  need,
                    const char           *name)
{
  switch (need)
    {
    case NEED_ALL:
      return TRUE;
    case NEED_BACKEND:
      return strings_contain (candidate->backends, name) ||
             strings_contain (candidate->appender_backends, name) ||
             strings_contain (candidate->policy_backends, name) ||
             strings_contain (candidate->policy_backends, "") ||
             strings_contain (candidate->key_backends, name);
    case NEED_KIND:
      return strings_contain (candidate->kinds, name);
    case NEED_PLUGIN:
      return g_str_equal (candidate->name, name);
    default:
      g_assert_not_reached ();
    }
}

static int
compare_candidates (gconstpointer a,
                    gconstpointer b)
{
  guint ra = (*(HvkRegistryCandidate * const *) a)->rank;
  guint rb = (*(HvkRegistryCandidate * const *) b)->rank;

  return ra < rb ? -1 : (ra > rb ? 1 : 0);
}

/* Loads the plugins the cache says provide @need/@name and have not been
 * loaded yet, with those registering the device kinds their appenders
 * use (an appender's kind must be known when it registers), in scan
 * order.  Cheap when nothing is pending.  Must not be called with the
 * lock held. */
static void
ensure_loaded (HvkRegistry *self,
               Need         need,
               const char  *name)
{
  g_autoptr(GRecMutexLocker) load_locker = NULL;
  g_autoptr(GPtrArray) wanted = NULL;

  if (g_atomic_int_get (&self->n_pending) <= 0)
    return;

  load_locker = g_rec_mutex_locker_new (&self->load_lock);
  wanted = g_ptr_array_new ();
  for (guint i = 0; i < self->candidates->len; i++)
    {
      HvkRegistryCandidate *candidate = g_ptr_array_index (self->candidates, i);

      if (!candidate->attempted && candidate->name != NULL &&
          candidate_provides (candidate, need, name))
        g_ptr_array_add (wanted, candidate);
    }
  for (guint i = 0; i < wanted->len; i++)
    {
      HvkRegistryCandidate *candidate = g_ptr_array_index (wanted, i);

      for (guint k = 0; k < candidate->appender_kinds->len; k++)
        {
          const char *kind = g_ptr_array_index (candidate->appender_kinds, k);

          for (guint j = 0; j < self->candidates->len; j++)
            {
              HvkRegistryCandidate *other = g_ptr_array_index (self->candidates, j);

              if (!other->attempted && other->name != NULL &&
                  strings_contain (other->kinds, kind) &&
                  !g_ptr_array_find (wanted, other, NULL))
                g_ptr_array_add (wanted, other);
            }
        }
    }
  g_ptr_array_sort (wanted, compare_candidates);
  for (guint i = 0; i < wanted->len; i++)
    load_candidate (self, g_ptr_array_index (wanted, i));
}

static int
compare_plugins (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (hvk_plugin_get_name (*(HvkPlugin * const *) a),
                 hvk_plugin_get_name (*(HvkPlugin * const *) b));
}

/**
 * hvk_registry_get_plugins:
 * @self: a #HvkRegistry
 *
 * Returns: (transfer container) (element-type HvkPlugin): the plugins
 *   loaded, sorted by name; free the array with g_ptr_array_unref()
 */
GPtrArray *
hvk_registry_get_plugins (HvkRegistry *self)
{
  g_autoptr(GMutexLocker) locker = NULL;
  GPtrArray *plugins;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), NULL);

  ensure_loaded (self, NEED_ALL, NULL);
  locker = g_mutex_locker_new (&self->lock);
  plugins = g_ptr_array_new_full (self->plugins->len, NULL);
  for (guint i = 0; i < self->plugins->len; i++)
    g_ptr_array_add (plugins, g_ptr_array_index (self->plugins, i));
  g_ptr_array_sort (plugins, compare_plugins);
  return plugins;
}

/**
 * hvk_registry_lookup_plugin:
 * @self: a #HvkRegistry
 * @name: a plugin name
 *
 * Returns: (transfer none) (nullable): the loaded plugin called @name
 */
HvkPlugin *
hvk_registry_lookup_plugin (HvkRegistry *self,
                            const char  *name)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  ensure_loaded (self, NEED_PLUGIN, name);
  locker = g_mutex_locker_new (&self->lock);
  return find_plugin (self, name);
}

/**
 * hvk_registry_get_refusals:
 * @self: a #HvkRegistry
 *
 * The plugins and directories refused while scanning, in the order met,
 * each an %HVK_ERROR_PLUGIN error whose message names the file and why.
 *
 * Returns: (transfer container) (element-type GError): the refusals,
 *   owned by @self; free the array with g_ptr_array_unref()
 */
GPtrArray *
hvk_registry_get_refusals (HvkRegistry *self)
{
  g_autoptr(GMutexLocker) locker = NULL;
  GPtrArray *refusals;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), NULL);

  locker = g_mutex_locker_new (&self->lock);
  refusals = g_ptr_array_new_full (self->refusals->len, NULL);
  for (guint i = 0; i < self->refusals->len; i++)
    g_ptr_array_add (refusals, g_ptr_array_index (self->refusals, i));
  return refusals;
}

static int
compare_backends (gconstpointer a,
                  gconstpointer b)
{
  return strcmp ((*(HvkBackendInfo * const *) a)->name,
                 (*(HvkBackendInfo * const *) b)->name);
}

/**
 * hvk_registry_get_backends:
 * @self: a #HvkRegistry
 *
 * Returns: (transfer container) (element-type HvkBackendInfo): the
 *   registered backends, sorted by name; free the array with
 *   g_ptr_array_unref()
 */
GPtrArray *
hvk_registry_get_backends (HvkRegistry *self)
{
  g_autoptr(GMutexLocker) locker = NULL;
  GPtrArray *backends;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), NULL);

  ensure_loaded (self, NEED_ALL, NULL);
  locker = g_mutex_locker_new (&self->lock);
  backends = g_ptr_array_new_full (self->backends.live->len, NULL);
  for (guint i = 0; i < self->backends.live->len; i++)
    g_ptr_array_add (backends, g_ptr_array_index (self->backends.live, i));
  g_ptr_array_sort (backends, compare_backends);
  return backends;
}

/**
 * hvk_registry_lookup_backend:
 * @self: a #HvkRegistry
 * @name: a backend name
 *
 * Returns: (transfer none) (nullable): the backend called @name
 */
HvkBackendInfo *
hvk_registry_lookup_backend (HvkRegistry *self,
                             const char  *name)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  ensure_loaded (self, NEED_BACKEND, name);
  locker = g_mutex_locker_new (&self->lock);
  return find_backend (self, name);
}

/**
 * hvk_registry_get_device_kinds:
 * @self: a #HvkRegistry
 *
 * Returns: (transfer container) (element-type HvkDeviceKind): the device
 *   kinds, the standard ones first, then in registration order; free the
 *   array with g_ptr_array_unref()
 */
GPtrArray *
hvk_registry_get_device_kinds (HvkRegistry *self)
{
  g_autoptr(GMutexLocker) locker = NULL;
  GPtrArray *kinds;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), NULL);

  ensure_loaded (self, NEED_ALL, NULL);
  locker = g_mutex_locker_new (&self->lock);
  kinds = g_ptr_array_new_full (self->kinds.live->len, NULL);
  for (guint i = 0; i < self->kinds.live->len; i++)
    {
      KindEntry *entry = g_ptr_array_index (self->kinds.live, i);

      g_ptr_array_add (kinds, entry->kind);
    }
  return kinds;
}

/**
 * hvk_registry_lookup_device_kind:
 * @self: a #HvkRegistry
 * @name: a device kind name
 *
 * Returns: (transfer none) (nullable): the device kind called @name
 */
HvkDeviceKind *
hvk_registry_lookup_device_kind (HvkRegistry *self,
                                 const char  *name)
{
  g_autoptr(GMutexLocker) locker = NULL;
  KindEntry *entry;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  ensure_loaded (self, NEED_KIND, name);
  locker = g_mutex_locker_new (&self->lock);
  entry = find_kind (self, name);
  return entry ? entry->kind : NULL;
}

/**
 * hvk_registry_lookup_config_key:
 * @self: a #HvkRegistry
 * @backend: a backend name
 * @key: a key name
 *
 * Finds a key a plugin declared for @backend with
 * hvk_plugin_register_config_keys().  The core's own keys are not here;
 * see hvk_config_lookup_key().
 *
 * Returns: (transfer none) (nullable): the key, owned by @self
 */
const HvkConfigKey *
hvk_registry_lookup_config_key (HvkRegistry *self,
                                const char  *backend,
                                const char  *key)
{
  g_autoptr(GMutexLocker) locker = NULL;
  ConfigKeyEntry *entry;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (backend != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  ensure_loaded (self, NEED_BACKEND, backend);
  locker = g_mutex_locker_new (&self->lock);
  entry = find_config_key (self, backend, key);
  return entry ? &entry->key : NULL;
}

/**
 * hvk_registry_create_hypervisor:
 * @self: a #HvkRegistry
 * @config: a configuration; its backend selects the implementation
 * @error: return location for an error
 *
 * Creates an instance of the backend @config selects.  The VM itself is
 * not created: call hvk_hypervisor_create_vm() next.
 *
 * Returns: (transfer full): a new hypervisor, or %NULL with @error set:
 *   %HVK_ERROR_NOT_FOUND `unknown backend 'foo' (known: mock, qemu)` when
 *   no plugin registered that backend
 */
HvkHypervisor *
hvk_registry_create_hypervisor (HvkRegistry  *self,
                                HvkConfig    *config,
                                GError      **error)
{
  const char *backend;
  GType type = G_TYPE_INVALID;
  HvkHypervisor *hypervisor;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (HVK_IS_CONFIG (config), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  backend = hvk_config_get_backend (config);
  if (backend == NULL || *backend == '\0')
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: no backend selected ([hypervisor] backend=)",
                   hvk_config_get_source (config)
                   ? hvk_config_get_source (config) : "configuration");
      return NULL;
    }

  ensure_loaded (self, NEED_BACKEND, backend);
  if (g_atomic_int_get (&self->n_pending) > 0)
    {
      gboolean known;

      g_mutex_lock (&self->lock);
      known = find_backend (self, backend) != NULL;
      g_mutex_unlock (&self->lock);
      /* The error lists every backend: load them all. */
      if (!known)
        ensure_loaded (self, NEED_ALL, NULL);
    }

  g_mutex_lock (&self->lock);
  {
    HvkBackendInfo *info = find_backend (self, backend);

    if (info != NULL)
      type = info->type;
    else
      {
        g_autoptr(GString) known = g_string_new (NULL);

        for (guint i = 0; i < self->backends.live->len; i++)
          {
            HvkBackendInfo *other = g_ptr_array_index (self->backends.live, i);

            if (known->len > 0)
              g_string_append (known, ", ");
            g_string_append (known, other->name);
          }
        g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                     "unknown backend '%s' (known: %s)", backend,
                     known->len > 0 ? known->str : "none");
      }
  }
  g_mutex_unlock (&self->lock);
  if (type == G_TYPE_INVALID)
    return NULL;

  hypervisor = HVK_HYPERVISOR (g_object_new (type, "registry", self, NULL));
  hvk_hypervisor_set_backend_name (hypervisor, backend);
  return hypervisor;
}

/**
 * hvk_registry_has_device_appender:
 * @self: a #HvkRegistry
 * @backend: a backend name
 * @kind: a device kind name
 *
 * Returns: whether some plugin expresses devices of @kind for @backend
 */
gboolean
hvk_registry_has_device_appender (HvkRegistry *self,
                                  const char  *backend,
                                  const char  *kind)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), FALSE);
  g_return_val_if_fail (backend != NULL, FALSE);
  g_return_val_if_fail (kind != NULL, FALSE);

  ensure_loaded (self, NEED_BACKEND, backend);
  locker = g_mutex_locker_new (&self->lock);
  return find_appender (self, backend, kind) != NULL;
}

/* The handler registered in @table for (@backend, kind of @device), after
 * loading what @backend needs; FALSE with NOT_SUPPORTED ("backend 'B'
 * @missing 'KIND' (device 'ID')") when there is none. */
static gboolean
lookup_kind_handler (HvkRegistry  *self,
                     Table        *table,
                     const char   *backend,
                     HvkDevice    *device,
                     const char   *missing,
                     GCallback    *func,
                     gpointer     *user_data,
                     GError      **error)
{
  const char *kind = hvk_device_get_kind_name (device);
  AppenderEntry *entry;

  ensure_loaded (self, NEED_BACKEND, backend);
  g_mutex_lock (&self->lock);
  entry = find_kind_handler (table, backend, kind);
  *func = entry != NULL ? entry->func : NULL;
  *user_data = entry != NULL ? entry->user_data : NULL;
  g_mutex_unlock (&self->lock);

  if (*func != NULL)
    return TRUE;
  g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED, "backend '%s' %s '%s' (device '%s')",
               backend, missing, kind, hvk_device_get_id (device));
  return FALSE;
}

/* A handler that failed: its error, or one saying it gave none. */
static gboolean
kind_handler_failed (const char *what,
                     const char *backend,
                     HvkDevice  *device,
                     GError     *handler_error,
                     GError    **error)
{
  if (handler_error == NULL)
    g_set_error (&handler_error, HVK_ERROR, HVK_ERROR_FAILED,
                 "backend '%s': the %s for device kind '%s' failed on device '%s' without saying why",
                 backend, what, hvk_device_get_kind_name (device), hvk_device_get_id (device));
  g_propagate_error (error, handler_error);
  return FALSE;
}

/**
 * hvk_registry_append_device:
 * @self: a #HvkRegistry
 * @ctx: the build context; its backend selects the appender
 * @device: the device
 * @cmdline: where the appender adds the device's arguments
 * @error: return location for an error
 *
 * Expresses @device on @cmdline with the appender registered for
 * (backend of @ctx, kind of @device) with the highest priority, the first
 * registered among equals.
 *
 * Returns: %TRUE on success; %FALSE with @error set: the appender's
 *   error, or %HVK_ERROR_NOT_SUPPORTED `backend 'acrn' has no appender for
 *   device kind 'vsock' (device 'v0')`
 */
gboolean
hvk_registry_append_device (HvkRegistry      *self,
                            HvkBuildContext  *ctx,
                            HvkDevice        *device,
                            HvkCmdline       *cmdline,
                            GError          **error)
{
  const char *backend;
  GCallback func = NULL;
  gpointer user_data = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), FALSE);
  g_return_val_if_fail (ctx != NULL, FALSE);
  g_return_val_if_fail (HVK_IS_DEVICE (device), FALSE);
  g_return_val_if_fail (HVK_IS_CMDLINE (cmdline), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  backend = hvk_build_context_get_backend (ctx);
  if (!lookup_kind_handler (self, &self->appenders, backend, device,
                            "has no appender for device kind",
                            &func, &user_data, error))
    return FALSE;

  /* Outside the lock: an appender may look things up in the registry. */
  if (!((HvkDeviceAppendFunc) func) (ctx, device, cmdline, user_data, &local_error))
    return kind_handler_failed ("appender", backend, device, g_steal_pointer (&local_error), error);
  return TRUE;
}

/**
 * hvk_registry_has_hotplug_handler:
 * @self: a #HvkRegistry
 * @backend: a backend name
 * @kind: a device kind name
 *
 * Returns: whether some plugin hot-plugs devices of @kind into VMs of
 *   @backend
 */
gboolean
hvk_registry_has_hotplug_handler (HvkRegistry *self,
                                  const char  *backend,
                                  const char  *kind)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), FALSE);
  g_return_val_if_fail (backend != NULL, FALSE);
  g_return_val_if_fail (kind != NULL, FALSE);

  ensure_loaded (self, NEED_BACKEND, backend);
  locker = g_mutex_locker_new (&self->lock);
  return find_kind_handler (&self->hotplug, backend, kind) != NULL;
}

/**
 * hvk_registry_hotplug_device:
 * @self: a #HvkRegistry
 * @backend: the backend of @hypervisor
 * @hypervisor: a running VM of @backend
 * @device: the device, validated
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Adds @device to @hypervisor with the hotplug handler registered for
 * (@backend, kind of @device) with the highest priority, the first
 * registered among equals.  A backend calls this from its
 * hotplug_add_device once it has checked what holds for every kind (the
 * VM's state, that the id is free), so that a plugin can make a kind
 * hot-pluggable without the backend naming it.
 *
 * Returns: %TRUE on success; %FALSE with @error set: the handler's
 *   error, or %HVK_ERROR_NOT_SUPPORTED `backend 'qemu' cannot hotplug
 *   devices of kind 'rng' (device 'r0')`
 */
gboolean
hvk_registry_hotplug_device (HvkRegistry    *self,
                             const char     *backend,
                             HvkHypervisor  *hypervisor,
                             HvkDevice      *device,
                             GCancellable   *cancellable,
                             GError        **error)
{
  GCallback func = NULL;
  gpointer user_data = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), FALSE);
  g_return_val_if_fail (backend != NULL, FALSE);
  g_return_val_if_fail (HVK_IS_HYPERVISOR (hypervisor), FALSE);
  g_return_val_if_fail (HVK_IS_DEVICE (device), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!lookup_kind_handler (self, &self->hotplug, backend, device,
                            "cannot hotplug devices of kind",
                            &func, &user_data, error))
    return FALSE;

  /* Outside the lock: a handler may look things up in the registry. */
  if (!((HvkHotplugFunc) func) (hypervisor, device, cancellable, user_data, &local_error))
    return kind_handler_failed ("hotplug handler", backend, device,
                                g_steal_pointer (&local_error), error);
  return TRUE;
}

static int
compare_policies (gconstpointer a,
                  gconstpointer b)
{
  const PolicyEntry *pa = *(PolicyEntry * const *) a;
  const PolicyEntry *pb = *(PolicyEntry * const *) b;

  if (pa->phase != pb->phase)
    return pa->phase < pb->phase ? -1 : 1;
  if (pa->priority != pb->priority)
    return pa->priority > pb->priority ? -1 : 1;
  return pa->seq < pb->seq ? -1 : (pa->seq > pb->seq ? 1 : 0);
}

static void
append_copies (GPtrArray *params,
               GPtrArray *other)
{
  for (guint i = 0; other != NULL && i < other->len; i++)
    g_ptr_array_add (params, hvk_param_copy (g_ptr_array_index (other, i)));
}

/**
 * hvk_registry_build_kernel_params:
 * @self: a #HvkRegistry
 * @ctx: the build context: its backend selects the policies, its config
 *   gives the user's parameters
 * @error: return location for an error
 *
 * Composes the guest kernel command line.  The phases run in the order of
 * #HvkKernelParamPhase:
 *
 * 1. %HVK_KERNEL_PARAM_PHASE_BASE: the backend's base list;
 * 2. %HVK_KERNEL_PARAM_PHASE_DEVICES: what the device appenders added with
 *    hvk_build_context_add_kernel_param(), in device order;
 * 3. %HVK_KERNEL_PARAM_PHASE_DEBUG: `quiet` or `debug` and friends;
 * 4. %HVK_KERNEL_PARAM_PHASE_DEFAULTS: backend defaults (`panic=1`);
 * 5. %HVK_KERNEL_PARAM_PHASE_MAX_CPUS: `nr_cpus=` / `maxcpus=`;
 * 6. %HVK_KERNEL_PARAM_PHASE_OTHER: other policies;
 * 7. %HVK_KERNEL_PARAM_PHASE_USER: the configuration's `kernel_params`,
 *    last so that they win.
 *
 * Within a phase, the policies registered for the context's backend and
 * those registered for every backend run together, by descending
 * priority, then in registration order.  Each policy appends to the list
 * built so far.
 *
 * Returns: (transfer full) (element-type HvkParam): a new list of
 *   parameters (copies), or %NULL with @error set if a policy failed
 */
GPtrArray *
hvk_registry_build_kernel_params (HvkRegistry      *self,
                                  HvkBuildContext  *ctx,
                                  GError          **error)
{
  g_autoptr(GPtrArray) policies = NULL;
  g_autoptr(GPtrArray) params = NULL;
  const char *backend;
  HvkConfig *config;
  guint next = 0;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (ctx != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  backend = hvk_build_context_get_backend (ctx);
  config = hvk_build_context_get_config (ctx);

  ensure_loaded (self, NEED_BACKEND, backend);

  /* Snapshot the matching policies (copies), so they run unlocked. */
  policies = g_ptr_array_new_with_free_func (g_free);
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->policies.live->len; i++)
    {
      PolicyEntry *entry = g_ptr_array_index (self->policies.live, i);

      if (entry->backend == NULL || g_str_equal (entry->backend, backend))
        {
          PolicyEntry *copy = g_memdup2 (entry, sizeof *entry);

          copy->backend = NULL;  /* not needed, not owned */
          /* The table is in scan order (see table_add()). */
          copy->seq = i;
          g_ptr_array_add (policies, copy);
        }
    }
  g_mutex_unlock (&self->lock);
  g_ptr_array_sort (policies, compare_policies);

  params = hvk_params_new ();
  for (int phase = HVK_KERNEL_PARAM_PHASE_BASE;
       phase <= HVK_KERNEL_PARAM_PHASE_USER; phase++)
    {
      if (phase == HVK_KERNEL_PARAM_PHASE_DEVICES)
        {
          append_copies (params, hvk_build_context_get_device_kernel_params (ctx));
          continue;
        }
      if (phase == HVK_KERNEL_PARAM_PHASE_USER)
        {
          if (config != NULL)
            append_copies (params, hvk_config_get_kernel_params (config));
          continue;
        }

      for (; next < policies->len; next++)
        {
          PolicyEntry *policy = g_ptr_array_index (policies, next);
          g_autoptr(GError) local_error = NULL;

          if ((int) policy->phase != phase)
            break;
          if (!policy->func (ctx, params, policy->user_data, &local_error))
            {
              if (local_error == NULL)
                g_set_error (&local_error, HVK_ERROR, HVK_ERROR_FAILED,
                             "backend '%s': a kernel-param policy failed without saying why",
                             backend);
              g_propagate_error (error, g_steal_pointer (&local_error));
              return NULL;
            }
        }
    }

  return g_steal_pointer (&params);
}

/**
 * hvk_backend_info_get_name:
 * @info: a #HvkBackendInfo
 *
 * Returns: the backend name
 */
const char *
hvk_backend_info_get_name (HvkBackendInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->name;
}

/**
 * hvk_backend_info_get_gtype:
 * @info: a #HvkBackendInfo
 *
 * Returns: the #GType implementing #HvkHypervisor for the backend
 */
GType
hvk_backend_info_get_gtype (HvkBackendInfo *info)
{
  g_return_val_if_fail (info != NULL, G_TYPE_INVALID);
  return info->type;
}

/**
 * hvk_backend_info_get_plugin:
 * @info: a #HvkBackendInfo
 *
 * Returns: (transfer none): the plugin that registered the backend
 */
HvkPlugin *
hvk_backend_info_get_plugin (HvkBackendInfo *info)
{
  g_return_val_if_fail (info != NULL, NULL);
  return info->owner;
}

/**
 * hvk_backend_info_get_capabilities:
 * @info: a #HvkBackendInfo
 *
 * Returns: what the backend declared it can do
 */
HvkCapabilities
hvk_backend_info_get_capabilities (HvkBackendInfo *info)
{
  g_return_val_if_fail (info != NULL, HVK_CAP_NONE);
  return info->caps;
}
