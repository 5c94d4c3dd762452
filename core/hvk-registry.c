/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

#include "hvk-config-keys-private.h"
#include "hvk-device-private.h"
#include "hvk-lookup-private.h"
#include "hvk-registry-private.h"

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

static void hvk_registry_lookup_init (HvkLookupInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (HvkRegistry, hvk_registry, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (HVK_TYPE_LOOKUP, hvk_registry_lookup_init))

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
refused_key_entry_free (RefusedKeyEntry *entry)
{
  g_free (entry->backend);
  g_free ((char *) entry->key.name);
  g_free ((char *) entry->key.reason);
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
void
hvk_registry_table_add (Table    *table,
                        gpointer  entry)
{
  guint rank = entry_rank (entry);
  guint i = table->live->len;

  while (i > 0 && entry_rank (g_ptr_array_index (table->live, i - 1)) > rank)
    i--;
  g_ptr_array_insert (table->live, i, entry);
}

/* Called with the lock held.  Keeps the order of what remains. */
void
hvk_registry_table_retire_owned_by (Table     *table,
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

const char *
hvk_registry_owner_name (HvkPlugin *owner)
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
  table_clear (&self->refused_keys);
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
  table_init (&self->refused_keys, (GDestroyNotify) refused_key_entry_free);
  /* The standard kinds come with the first look at each
   * (ensure_standard_kinds()). */
}

/* Called with the lock held, before a look at self->kinds: the standard
 * kind @name (%NULL: all of them) is built on first use, and the built
 * ones stay first in the table, in their standard order.  A command that
 * reads one disk builds the block kind only. */
static void
ensure_standard_kinds (HvkRegistry *self,
                       const char  *name)
{
  guint n = hvk_device_kinds_n_standard ();

  g_assert (n <= 32);
  for (guint i = 0; i < n; i++)
    {
      KindEntry *entry;
      guint position;

      if (self->standard_kinds_built & (1u << i))
        continue;
      if (name != NULL && !g_str_equal (name, hvk_device_kinds_standard_name (i)))
        continue;
      entry = g_new0 (KindEntry, 1);
      entry->kind = hvk_device_kinds_new_standard_at (i);
      position = (guint) __builtin_popcount (self->standard_kinds_built & ((1u << i) - 1));
      g_ptr_array_insert (self->kinds.live, (gint) position, entry);
      self->standard_kinds_built |= 1u << i;
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

HvkBackendInfo *
hvk_registry_find_backend (HvkRegistry *self,
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
  ensure_standard_kinds (self, name);
  for (guint i = 0; i < self->kinds.live->len; i++)
    {
      KindEntry *entry = g_ptr_array_index (self->kinds.live, i);

      if (g_str_equal (hvk_device_kind_get_name (entry->kind), name))
        return entry;
    }
  return NULL;
}

/* Is @name a kind, standard or registered?  Without building a standard
 * kind not looked up yet (registering an appender needs no more). */
static gboolean
kind_known (HvkRegistry *self,
            const char  *name)
{
  for (guint i = 0; i < hvk_device_kinds_n_standard (); i++)
    if (g_str_equal (name, hvk_device_kinds_standard_name (i)))
      return TRUE;
  for (guint i = 0; i < self->kinds.live->len; i++)
    {
      KindEntry *entry = g_ptr_array_index (self->kinds.live, i);

      if (g_str_equal (hvk_device_kind_get_name (entry->kind), name))
        return TRUE;
    }
  return FALSE;
}

/* The handler of (@backend, @kind) in @table with the highest priority,
 * then the first registered. */
AppenderEntry *
hvk_registry_find_kind_handler (Table      *table,
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

AppenderEntry *
hvk_registry_find_appender (HvkRegistry *self,
                            const char  *backend,
                            const char  *kind)
{
  return hvk_registry_find_kind_handler (&self->appenders, backend, kind);
}

HvkPlugin *
hvk_registry_find_plugin (HvkRegistry *self,
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

gboolean
hvk_registry_check_backend_name (HvkPlugin   *plugin,
                                 const char  *what,
                                 const char  *name,
                                 GError     **error)
{
  if (hvk_registry_name_is_valid (name))
    return TRUE;
  g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
               "plugin '%s': %s: invalid backend name '%s' (expected [a-z0-9_-]+)",
               hvk_registry_owner_name (plugin), what, name ? name : "(null)");
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

  if (!hvk_registry_check_backend_name (plugin, "backend", name, error))
    return FALSE;
  if (type == G_TYPE_INVALID || !G_TYPE_IS_INSTANTIATABLE (type) ||
      G_TYPE_IS_ABSTRACT (type) || !g_type_is_a (type, G_TYPE_OBJECT) ||
      !g_type_is_a (type, HVK_TYPE_HYPERVISOR))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "plugin '%s': backend '%s': type '%s' is not an instantiatable GObject type implementing HvkHypervisor",
                   hvk_registry_owner_name (plugin), name,
                   type != G_TYPE_INVALID ? g_type_name (type) : "(invalid)");
      return FALSE;
    }

  locker = g_mutex_locker_new (&self->lock);
  other = hvk_registry_find_backend (self, name);
  if (other != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_PLUGIN,
                   "plugin '%s': backend '%s' already registered by plugin '%s'",
                   hvk_registry_owner_name (plugin), name, hvk_registry_owner_name (other->owner));
      return FALSE;
    }

  info = g_new0 (HvkBackendInfo, 1);
  info->owner = plugin;
  info->name = g_strdup (name);
  info->type = type;
  info->caps = caps;
  hvk_registry_table_add (&self->backends, info);
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
                   hvk_registry_owner_name (plugin), name,
                   other->owner ? "plugin '" : "",
                   other->owner ? hvk_registry_owner_name (other->owner) : "the core",
                   other->owner ? "'" : "");
      return FALSE;
    }

  entry = g_new0 (KindEntry, 1);
  entry->owner = plugin;
  entry->kind = hvk_device_kind_ref (kind);
  hvk_registry_table_add (&self->kinds, entry);
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

  if (!hvk_registry_check_backend_name (plugin, what, backend, error))
    return FALSE;
  if (kind == NULL || func == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "plugin '%s': %s for backend '%s': %s is NULL",
                   hvk_registry_owner_name (plugin), what, backend,
                   kind == NULL ? "device kind" : "function");
      return FALSE;
    }

  locker = g_mutex_locker_new (&self->lock);
  if (!kind_known (self, kind))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "plugin '%s': %s for backend '%s': unknown device kind '%s'",
                   hvk_registry_owner_name (plugin), what, backend, kind);
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
                       hvk_registry_owner_name (plugin), what, backend, kind, priority,
                       hvk_registry_owner_name (other->owner));
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
  hvk_registry_table_add (table, entry);
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
      !hvk_registry_check_backend_name (plugin, "kernel-param policy", backend, error))
    return FALSE;
  if (!phase_is_registrable (phase))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "plugin '%s': kernel-param policy for %s%s%s: phase %d is not registrable (devices and user parameters are added by the core)",
                   hvk_registry_owner_name (plugin),
                   backend ? "backend '" : "all backends",
                   backend ? backend : "", backend ? "'" : "", (int) phase);
      return FALSE;
    }
  if (func == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "plugin '%s': kernel-param policy for %s%s%s: function is NULL",
                   hvk_registry_owner_name (plugin),
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
  hvk_registry_table_add (&self->policies, entry);
  return TRUE;
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
 * Lists the plugins the registry loaded.
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

  hvk_registry_ensure_loaded (self, HVK_REGISTRY_NEED_ALL, NULL);
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
 * Finds a loaded plugin by name.
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

  hvk_registry_ensure_loaded (self, HVK_REGISTRY_NEED_PLUGIN, name);
  locker = g_mutex_locker_new (&self->lock);
  return hvk_registry_find_plugin (self, name);
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
 * Lists the backends the loaded plugins registered.
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

  hvk_registry_ensure_loaded (self, HVK_REGISTRY_NEED_ALL, NULL);
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
 * Finds a registered backend by name.
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

  hvk_registry_ensure_loaded (self, HVK_REGISTRY_NEED_BACKEND, name);
  locker = g_mutex_locker_new (&self->lock);
  return hvk_registry_find_backend (self, name);
}

/**
 * hvk_registry_get_device_kinds:
 * @self: a #HvkRegistry
 *
 * Lists the device kinds the registry knows.
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

  hvk_registry_ensure_loaded (self, HVK_REGISTRY_NEED_ALL, NULL);
  locker = g_mutex_locker_new (&self->lock);
  ensure_standard_kinds (self, NULL);
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
 * Finds a device kind by name.
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

  hvk_registry_ensure_loaded (self, HVK_REGISTRY_NEED_KIND, name);
  locker = g_mutex_locker_new (&self->lock);
  entry = find_kind (self, name);
  return entry ? entry->kind : NULL;
}

/**
 * hvk_backend_info_get_name:
 * @info: a #HvkBackendInfo
 *
 * Gets the backend's name.
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
 * Gets the type that implements the backend.
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
 * Gets the plugin that registered the backend.
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
 * Gets the capabilities the backend was registered with.
 *
 * Returns: what the backend declared it can do
 */
HvkCapabilities
hvk_backend_info_get_capabilities (HvkBackendInfo *info)
{
  g_return_val_if_fail (info != NULL, HVK_CAP_NONE);
  return info->caps;
}

/* HvkLookup: what configs and devices ask of the registry. */

static const HvkConfigKey *
registry_lookup_config_key (HvkLookup  *lookup,
                            const char *backend,
                            const char *key)
{
  return hvk_registry_lookup_config_key (HVK_REGISTRY (lookup), backend, key);
}

static const char *
registry_find_key_owner (HvkLookup  *lookup,
                         const char *key)
{
  return hvk_registry_find_config_key_owner (HVK_REGISTRY (lookup), key);
}

static GPtrArray *
registry_refused_keys (HvkLookup  *lookup,
                       const char *backend)
{
  return hvk_registry_get_refused_keys (HVK_REGISTRY (lookup), backend);
}

static HvkDeviceKind *
registry_lookup_device_kind (HvkLookup  *lookup,
                             const char *name)
{
  return hvk_registry_lookup_device_kind (HVK_REGISTRY (lookup), name);
}

static void
hvk_registry_lookup_init (HvkLookupInterface *iface)
{
  iface->lookup_config_key = registry_lookup_config_key;
  iface->lookup_device_kind = registry_lookup_device_kind;
  iface->find_key_owner = registry_find_key_owner;
  iface->refused_keys = registry_refused_keys;
}
