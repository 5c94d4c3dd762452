/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hvk-fs-private.h"
#include "hvk-registry-private.h"

/* Finding and loading plugins: a scan of the plugin path (answered from
 * the plugin cache when it can), a plugin's descriptor checked and its
 * init run, and the loads a lookup needs when the cache answered. */

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
  other = hvk_registry_find_plugin (self, desc->name);
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
      hvk_registry_table_retire_owned_by (&self->appenders, plugin);
      hvk_registry_table_retire_owned_by (&self->hotplug, plugin);
      hvk_registry_table_retire_owned_by (&self->policies, plugin);
      hvk_registry_table_retire_owned_by (&self->config_keys, plugin);
      hvk_registry_table_retire_owned_by (&self->refused_keys, plugin);
      hvk_registry_table_retire_owned_by (&self->kinds, plugin);
      hvk_registry_table_retire_owned_by (&self->backends, plugin);
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
 * Refusals are %HVK_ERROR_PLUGIN errors whose message starts with the
 * file name @filename: `FILE: no plugin descriptor (hvk_plugin_desc)`,
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
 * hvk_registry_register_static_plugin: (skip)
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
  for (guint i = 0; i < self->refused_keys.live->len; i++)
    {
      RefusedKeyEntry *entry = g_ptr_array_index (self->refused_keys.live, i);

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
                    HvkRegistryNeed                  need,
                    const char           *name)
{
  switch (need)
    {
    case HVK_REGISTRY_NEED_ALL:
      return TRUE;
    case HVK_REGISTRY_NEED_BACKEND:
      return strings_contain (candidate->backends, name) ||
             strings_contain (candidate->appender_backends, name) ||
             strings_contain (candidate->policy_backends, name) ||
             strings_contain (candidate->policy_backends, "") ||
             strings_contain (candidate->key_backends, name);
    case HVK_REGISTRY_NEED_KIND:
      return strings_contain (candidate->kinds, name);
    case HVK_REGISTRY_NEED_PLUGIN:
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
void
hvk_registry_ensure_loaded (HvkRegistry *self,
                            HvkRegistryNeed         need,
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
