/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include <gio/gunixmounts.h>

/*
 * A VM's cgroup.  The host may mount cgroup v2 alone (/sys/fs/cgroup is
 * cgroup2), v1 controllers alone, or both (v1 controllers with a v2
 * hierarchy beside them, as on this project's CI machines): each
 * controller is taken from v2 where the v2 hierarchy offers it, from its
 * v1 hierarchy otherwise, and a v2 hierarchy is always joined (it tracks
 * the VM's processes even when it offers no controller).  The object is
 * just the list of its directories: every operation finds its files there
 * (memory.max is v2, memory.limit_in_bytes v1), so a cgroup read back from
 * a VM's state file needs nothing else.
 */

struct _HvkCgroup
{
  gatomicrefcount ref_count;
  GPtrArray *dirs;   /* char *, NULL-terminated */
};

G_DEFINE_BOXED_TYPE (HvkCgroup, hvk_cgroup, hvk_cgroup_ref, hvk_cgroup_unref)

/* The controllers a VM's cgroup uses: limits (cpu, memory), usage
 * (cpuacct in v1; v2 has cpu.stat everywhere), a process count (pids). */
static const char * const wanted_controllers[] = { "cpu", "cpuacct", "memory", "pids" };

static HvkCgroup *
cgroup_alloc (void)
{
  HvkCgroup *self = g_new0 (HvkCgroup, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->dirs = g_ptr_array_new_with_free_func (g_free);
  return self;
}

/**
 * hvk_cgroup_ref:
 * @self: a cgroup
 *
 * Takes a reference on a cgroup.
 *
 * Returns: (transfer full): @self
 */
HvkCgroup *
hvk_cgroup_ref (HvkCgroup *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * hvk_cgroup_unref:
 * @self: (transfer full): a cgroup
 *
 * Drops a reference; the directories stay (hvk_cgroup_remove() removes
 * them).
 */
void
hvk_cgroup_unref (HvkCgroup *self)
{
  g_return_if_fail (self != NULL);
  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      g_ptr_array_unref (self->dirs);
      g_free (self);
    }
}

/**
 * hvk_cgroup_get_dirs:
 * @self: a cgroup
 *
 * Gets the cgroup's directories.
 *
 * Returns: (transfer none) (array zero-terminated=1): the cgroup's
 *   directories, one per hierarchy; what a VM's state records
 */
const char * const *
hvk_cgroup_get_dirs (HvkCgroup *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return (const char * const *) self->dirs->pdata;
}

static gboolean
is_cgroup_fs (const char *path)
{
  struct statfs fs;

  if (statfs (path, &fs) != 0)
    return FALSE;
  return fs.f_type == CGROUP_SUPER_MAGIC || fs.f_type == CGROUP2_SUPER_MAGIC;
}

static gboolean
write_file (const char  *dir,
            const char  *name,
            const char  *text,
            GError     **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  int fd = open (path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  gssize len = (gssize) strlen (text);
  int saved;

  if (fd < 0)
    {
      saved = errno;
      g_set_error (error, HVK_ERROR, saved == ENOENT ? HVK_ERROR_NOT_SUPPORTED : HVK_ERROR_FAILED,
                   "cannot open %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  if (write (fd, text, (size_t) len) != len)
    {
      saved = errno;
      close (fd);
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "cannot write '%s' to %s: %s", text, path, g_strerror (saved));
      return FALSE;
    }
  if (close (fd) != 0)
    {
      saved = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "cannot write '%s' to %s: %s", text, path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static char *
read_file (const char *dir,
           const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  return contents;
}

static gboolean
has_file (const char *dir,
          const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static gboolean
word_in (const char *words,
         const char *separators,
         const char *word)
{
  g_auto(GStrv) list = NULL;

  if (words == NULL)
    return FALSE;
  list = g_strsplit_set (words, separators, -1);
  return g_strv_contains ((const char * const *) list, word);
}

/* The caller's own cgroup in a hierarchy: the v2 line ("0::/path") or
 * the v1 line naming @controller ("4:memory:/path"). */
static char *
own_cgroup (const char *controller)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/self/cgroup", &contents, NULL, NULL))
    return g_strdup ("/");
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], ":", 3);

      if (g_strv_length (fields) != 3)
        continue;
      if (controller == NULL ? g_str_equal (fields[1], "")
                             : word_in (fields[1], ",", controller))
        return g_strdup (fields[2]);
    }
  return g_strdup ("/");
}

typedef struct {
  char *mount;
  char *controller;   /* one of its controllers (for own_cgroup), NULL for v2 */
} Hierarchy;

static void
hierarchy_free (gpointer data)
{
  Hierarchy *h = data;

  g_free (h->mount);
  g_free (h->controller);
  g_free (h);
}

/* The hierarchies a new cgroup joins, v2 first. */
static GPtrArray *
find_hierarchies (HvkCgroupFlags   flags,
                  GError         **error)
{
  g_autoptr(GPtrArray) result = g_ptr_array_new_with_free_func (hierarchy_free);
  g_autofree char *v2 = NULL;
  g_autofree char *v2_controllers = NULL;
  GList *mounts = g_unix_mounts_get (NULL);
  gboolean covered[G_N_ELEMENTS (wanted_controllers)] = { FALSE, };

  for (GList *l = mounts; l != NULL; l = l->next)
    if (v2 == NULL && g_strcmp0 (g_unix_mount_get_fs_type (l->data), "cgroup2") == 0)
      v2 = g_strdup (g_unix_mount_get_mount_path (l->data));

  if (v2 != NULL)
    {
      Hierarchy *h = g_new0 (Hierarchy, 1);

      h->mount = g_strdup (v2);
      g_ptr_array_add (result, h);
      v2_controllers = read_file (v2, "cgroup.controllers");
      for (guint i = 0; i < G_N_ELEMENTS (wanted_controllers); i++)
        covered[i] = word_in (v2_controllers, " \n", wanted_controllers[i])
                     || (g_str_equal (wanted_controllers[i], "cpuacct")
                         && word_in (v2_controllers, " \n", "cpu"));
    }

  if (!(flags & HVK_CGROUP_FLAGS_V2_ONLY))
    for (GList *l = mounts; l != NULL; l = l->next)
      {
        const char *options = g_unix_mount_get_options (l->data);
        const char *first = NULL;

        if (g_strcmp0 (g_unix_mount_get_fs_type (l->data), "cgroup") != 0)
          continue;
        for (guint i = 0; i < G_N_ELEMENTS (wanted_controllers); i++)
          if (!covered[i] && word_in (options, ",", wanted_controllers[i]))
            {
              covered[i] = TRUE;
              if (first == NULL)
                first = wanted_controllers[i];
            }
        if (first != NULL)
          {
            Hierarchy *h = g_new0 (Hierarchy, 1);

            h->mount = g_strdup (g_unix_mount_get_mount_path (l->data));
            h->controller = g_strdup (first);
            g_ptr_array_add (result, h);
          }
      }
  g_list_free_full (mounts, (GDestroyNotify) g_unix_mount_free);

  if (result->len == 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "no cgroup hierarchy is mounted on this host (see /proc/self/mountinfo)");
      return NULL;
    }
  return g_steal_pointer (&result);
}

static gboolean
valid_component (const char *name)
{
  return name != NULL && *name != '\0' && strchr (name, '/') == NULL
         && !g_str_equal (name, ".") && !g_str_equal (name, "..");
}

static gboolean
valid_relative_path (const char *path)
{
  g_auto(GStrv) parts = g_strsplit (path, "/", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    if (*parts[i] != '\0' && !valid_component (parts[i]))
      return FALSE;
  return TRUE;
}

/* v2: a child gets a controller only if every ancestor below the root
 * enables it for its children. */
static gboolean
enable_v2_controllers (const char  *mount,
                       const char  *parent_path,
                       GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (parent_path, "/", -1);
  g_autofree char *dir = g_strdup (mount);

  for (guint i = 0; ; i++)
    {
      g_autofree char *available = read_file (dir, "cgroup.controllers");
      g_autofree char *enabled = read_file (dir, "cgroup.subtree_control");
      g_autoptr(GString) add = g_string_new (NULL);
      const char *v2_names[] = { "cpu", "memory", "pids" };

      for (guint c = 0; c < G_N_ELEMENTS (v2_names); c++)
        if (word_in (available, " \n", v2_names[c]) && !word_in (enabled, " \n", v2_names[c]))
          g_string_append_printf (add, "%s+%s", add->len ? " " : "", v2_names[c]);
      if (add->len > 0 && !write_file (dir, "cgroup.subtree_control", add->str, error))
        return FALSE;

      while (parts[i] != NULL && *parts[i] == '\0')
        i++;
      if (parts[i] == NULL)
        return TRUE;
      {
        char *next = g_build_filename (dir, parts[i], NULL);
        g_free (dir);
        dir = next;
      }
    }
}

static gboolean
pids_in (const char *dir,
         GString    *out)
{
  g_autofree char *procs = read_file (dir, "cgroup.procs");
  g_auto(GStrv) lines = NULL;
  gboolean any = FALSE;

  if (procs == NULL)
    return FALSE;
  lines = g_strsplit (procs, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (*lines[i] != '\0')
      {
        g_string_append_printf (out, "%s%s", any ? ", " : "", lines[i]);
        any = TRUE;
      }
  return any;
}

/**
 * hvk_cgroup_new:
 * @parent: where the VMs' cgroups go: absolute ("/hvkit.slice") from each
 *   hierarchy's root, or relative to the caller's own cgroup there
 * @name: the VM's cgroup (its id): one path component
 * @flags: how to pick hierarchies
 * @error: return location for an error
 *
 * Creates the cgroup in every hierarchy it needs (see #HvkCgroupFlags),
 * with no limit (only accounting).  An existing cgroup of that name is
 * taken over if no process is in it (what a VM killed with its hvkit
 * left), refused otherwise.  On error nothing is left behind.
 *
 * Returns: (transfer full): the cgroup, or %NULL on error
 */
HvkCgroup *
hvk_cgroup_new (const char      *parent,
                const char      *name,
                HvkCgroupFlags   flags,
                GError         **error)
{
  g_autoptr(HvkCgroup) self = cgroup_alloc ();
  g_autoptr(GPtrArray) hierarchies = NULL;
  g_autoptr(GPtrArray) created = g_ptr_array_new_with_free_func (g_free);

  g_return_val_if_fail (parent != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!valid_component (name))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "invalid cgroup name '%s': one path component expected", name ? name : "");
      return NULL;
    }
  if (!valid_relative_path (parent))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "invalid cgroup parent '%s': no '.' or '..' components", parent);
      return NULL;
    }
  hierarchies = find_hierarchies (flags, error);
  if (hierarchies == NULL)
    return NULL;

  for (guint i = 0; i < hierarchies->len; i++)
    {
      Hierarchy *h = hierarchies->pdata[i];
      g_autofree char *own = g_path_is_absolute (parent) ? NULL : own_cgroup (h->controller);
      g_autofree char *base = own == NULL ? g_strdup (parent)
                              : g_build_filename (own, parent, NULL);
      g_autofree char *parent_dir = g_build_filename (h->mount, base, NULL);
      g_autofree char *dir = g_build_filename (parent_dir, name, NULL);
      g_autoptr(GString) busy = g_string_new (NULL);

      if (g_mkdir_with_parents (parent_dir, 0755) != 0)
        {
          int saved = errno;
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "cannot create cgroup %s: %s", parent_dir, g_strerror (saved));
          goto fail;
        }
      if (h->controller == NULL && !enable_v2_controllers (h->mount, base, error))
        goto fail;
      if (mkdir (dir, 0755) == 0)
        g_ptr_array_add (created, g_strdup (dir));
      else if (errno != EEXIST)
        {
          int saved = errno;
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "cannot create cgroup %s: %s", dir, g_strerror (saved));
          goto fail;
        }
      else if (pids_in (dir, busy))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_BUSY,
                       "cgroup %s is in use by processes %s", dir, busy->str);
          goto fail;
        }
      g_ptr_array_add (self->dirs, g_steal_pointer (&dir));
    }
  g_ptr_array_add (self->dirs, NULL);
  return g_steal_pointer (&self);

fail:
  for (guint i = created->len; i > 0; i--)
    (void) rmdir (created->pdata[i - 1]);
  return NULL;
}

/**
 * hvk_cgroup_lookup:
 * @parent: as for hvk_cgroup_new()
 * @name: as for hvk_cgroup_new()
 * @flags: as for hvk_cgroup_new()
 *
 * Finds the directories hvk_cgroup_new() would have made for @parent and
 * @name, among those that exist: what a VM whose hvkit was killed may
 * have left (a relative @parent is resolved against the caller's own
 * cgroup, as hvk_cgroup_new() does).  Creates nothing.
 *
 * Returns: (transfer full) (nullable): the cgroup, or %NULL if none of
 *   its directories exists
 */
HvkCgroup *
hvk_cgroup_lookup (const char     *parent,
                   const char     *name,
                   HvkCgroupFlags  flags)
{
  g_autoptr(HvkCgroup) self = cgroup_alloc ();
  g_autoptr(GPtrArray) hierarchies = NULL;

  g_return_val_if_fail (parent != NULL, NULL);

  if (!valid_component (name) || !valid_relative_path (parent))
    return NULL;
  hierarchies = find_hierarchies (flags, NULL);
  for (guint i = 0; hierarchies != NULL && i < hierarchies->len; i++)
    {
      Hierarchy *h = hierarchies->pdata[i];
      g_autofree char *own = g_path_is_absolute (parent) ? NULL : own_cgroup (h->controller);
      g_autofree char *dir = g_build_filename (h->mount, own ? own : "", parent, name, NULL);

      if (g_file_test (dir, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (self->dirs, g_steal_pointer (&dir));
    }
  if (self->dirs->len == 0)
    return NULL;
  g_ptr_array_add (self->dirs, NULL);
  return g_steal_pointer (&self);
}

/**
 * hvk_cgroup_new_from_dirs:
 * @dirs: (array zero-terminated=1): what hvk_cgroup_get_dirs() returned
 * @error: return location for an error
 *
 * The cgroup a VM's state recorded.  Each directory must be a cgroup
 * below a hierarchy's root: a state file cannot make hvkit remove any
 * other directory.
 *
 * Returns: (transfer full): the cgroup, or %NULL on error
 */
HvkCgroup *
hvk_cgroup_new_from_dirs (const char * const  *dirs,
                          GError             **error)
{
  g_autoptr(HvkCgroup) self = cgroup_alloc ();

  g_return_val_if_fail (dirs != NULL, NULL);

  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *canonical = g_canonicalize_filename (dirs[i], "/");
      g_autofree char *parent = g_path_get_dirname (dirs[i]);

      if (!g_path_is_absolute (dirs[i]) || !g_str_equal (canonical, dirs[i])
          || !is_cgroup_fs (parent))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                       "'%s' is not a cgroup directory", dirs[i]);
          return NULL;
        }
      g_ptr_array_add (self->dirs, g_strdup (dirs[i]));
    }
  g_ptr_array_add (self->dirs, NULL);
  return g_steal_pointer (&self);
}

/* Writes @text to the first of @files found in each directory; fails with
 * NOT_SUPPORTED naming @what if no directory has one. */
static gboolean
set_in_dirs (HvkCgroup          *self,
             const char         *what,
             const char * const *files,
             const char * const *texts,
             GError            **error)
{
  gboolean done = FALSE;

  for (guint i = 0; i + 1 < self->dirs->len; i++)
    {
      const char *dir = self->dirs->pdata[i];

      for (guint f = 0; files[f] != NULL; f++)
        if (has_file (dir, files[f]))
          {
            if (!write_file (dir, files[f], texts[f], error))
              return FALSE;
            done = TRUE;
            break;
          }
    }
  if (!done)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "cannot set the %s limit: no %s controller in cgroup %s",
                   what, what, (const char *) self->dirs->pdata[0]);
      return FALSE;
    }
  return TRUE;
}

/**
 * hvk_cgroup_set_memory_limit:
 * @self: a cgroup
 * @bytes: the limit, 0 for none
 * @error: return location for an error
 *
 * Limits the memory of the cgroup's processes.
 *
 * Returns: %TRUE on success; %HVK_ERROR_NOT_SUPPORTED if no hierarchy of
 *   @self has the memory controller
 */
gboolean
hvk_cgroup_set_memory_limit (HvkCgroup  *self,
                             guint64     bytes,
                             GError    **error)
{
  const char *files[] = { "memory.max", "memory.limit_in_bytes", NULL };
  g_autofree char *v2 = bytes ? g_strdup_printf ("%" G_GUINT64_FORMAT, bytes) : g_strdup ("max");
  g_autofree char *v1 = bytes ? g_strdup_printf ("%" G_GUINT64_FORMAT, bytes) : g_strdup ("-1");
  const char *texts[] = { v2, v1, NULL };

  g_return_val_if_fail (self != NULL, FALSE);
  return set_in_dirs (self, "memory", files, texts, error);
}

/**
 * hvk_cgroup_set_cpu_limit:
 * @self: a cgroup
 * @quota_us: CPU time per period, 0 for none
 * @period_us: the period (1000 to 1000000)
 * @error: return location for an error
 *
 * Limits the CPU time of the cgroup's processes.
 *
 * Returns: %TRUE on success; %HVK_ERROR_NOT_SUPPORTED if no hierarchy of
 *   @self has the cpu controller
 */
gboolean
hvk_cgroup_set_cpu_limit (HvkCgroup  *self,
                          guint64     quota_us,
                          guint64     period_us,
                          GError    **error)
{
  g_autofree char *v2 = NULL;
  g_autofree char *quota = NULL;
  g_autofree char *period = NULL;
  gboolean done = FALSE;

  g_return_val_if_fail (self != NULL, FALSE);

  if (period_us < 1000 || period_us > 1000000 || (quota_us != 0 && quota_us < 1000))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "invalid CPU limit %" G_GUINT64_FORMAT " µs per %" G_GUINT64_FORMAT
                   " µs: the period is 1000–1000000 µs, the quota at least 1000 µs",
                   quota_us, period_us);
      return FALSE;
    }
  v2 = quota_us ? g_strdup_printf ("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, quota_us, period_us)
                : g_strdup_printf ("max %" G_GUINT64_FORMAT, period_us);
  quota = quota_us ? g_strdup_printf ("%" G_GUINT64_FORMAT, quota_us) : g_strdup ("-1");
  period = g_strdup_printf ("%" G_GUINT64_FORMAT, period_us);

  for (guint i = 0; i + 1 < self->dirs->len; i++)
    {
      const char *dir = self->dirs->pdata[i];

      if (has_file (dir, "cpu.max"))
        {
          if (!write_file (dir, "cpu.max", v2, error))
            return FALSE;
          done = TRUE;
        }
      else if (has_file (dir, "cpu.cfs_quota_us"))
        {
          /* The quota first when lifting it (-1 fits any period), the
           * period first otherwise (the quota must fit the new period). */
          if (quota_us == 0
              ? !write_file (dir, "cpu.cfs_quota_us", quota, error)
                || !write_file (dir, "cpu.cfs_period_us", period, error)
              : !write_file (dir, "cpu.cfs_period_us", period, error)
                || !write_file (dir, "cpu.cfs_quota_us", quota, error))
            return FALSE;
          done = TRUE;
        }
    }
  if (!done)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "cannot set the cpu limit: no cpu controller in cgroup %s",
                   (const char *) self->dirs->pdata[0]);
      return FALSE;
    }
  return TRUE;
}

/**
 * hvk_cgroup_attach:
 * @self: a cgroup
 * @pid: a process (with all its threads)
 * @error: return location for an error
 *
 * Moves @pid into every directory of @self.  (hvkit-monitor moves the VMM
 * itself, before exec, so that not one of its threads starts outside.)
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_cgroup_attach (HvkCgroup  *self,
                   int         pid,
                   GError    **error)
{
  g_autofree char *text = g_strdup_printf ("%d", pid);

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (pid > 0, FALSE);

  for (guint i = 0; i + 1 < self->dirs->len; i++)
    if (!write_file (self->dirs->pdata[i], "cgroup.procs", text, error))
      return FALSE;
  return TRUE;
}

/**
 * hvk_cgroup_contains:
 * @self: a cgroup
 * @pid: a process
 *
 * Tells whether a process is in the cgroup.
 *
 * Returns: %TRUE if @pid is in every directory of @self
 */
gboolean
hvk_cgroup_contains (HvkCgroup *self,
                     int        pid)
{
  g_autofree char *text = g_strdup_printf ("%d", pid);

  g_return_val_if_fail (self != NULL, FALSE);

  for (guint i = 0; i + 1 < self->dirs->len; i++)
    {
      g_autofree char *procs = read_file (self->dirs->pdata[i], "cgroup.procs");

      if (!word_in (procs, "\n", text))
        return FALSE;
    }
  return self->dirs->len > 1;
}

static gboolean
read_u64 (const char *dir,
          const char *name,
          const char *key,
          guint64    *value)
{
  g_autofree char *contents = read_file (dir, name);
  g_auto(GStrv) lines = NULL;

  if (contents == NULL)
    return FALSE;
  if (key == NULL)
    return g_ascii_string_to_unsigned (g_strstrip (contents), 10, 0, G_MAXUINT64, value, NULL);
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], key) && lines[i][strlen (key)] == ' ')
      return g_ascii_string_to_unsigned (lines[i] + strlen (key) + 1, 10, 0, G_MAXUINT64, value, NULL);
  return FALSE;
}

/**
 * hvk_cgroup_get_usage:
 * @self: a cgroup
 * @memory_bytes: (out) (optional): memory in use
 * @cpu_ns: (out) (optional): CPU time used
 * @error: return location for an error
 *
 * Reads the memory and CPU time the cgroup's processes use.
 *
 * Returns: %TRUE if the hierarchies of @self account for both
 */
gboolean
hvk_cgroup_get_usage (HvkCgroup  *self,
                      guint64    *memory_bytes,
                      guint64    *cpu_ns,
                      GError    **error)
{
  gboolean have_memory = FALSE, have_cpu = FALSE;
  guint64 memory = 0, cpu = 0;

  g_return_val_if_fail (self != NULL, FALSE);

  for (guint i = 0; i + 1 < self->dirs->len; i++)
    {
      const char *dir = self->dirs->pdata[i];
      guint64 usec;

      if (!have_memory)
        have_memory = read_u64 (dir, "memory.current", NULL, &memory)
                      || read_u64 (dir, "memory.usage_in_bytes", NULL, &memory);
      if (!have_cpu && read_u64 (dir, "cpuacct.usage", NULL, &cpu))
        have_cpu = TRUE;
      else if (!have_cpu && read_u64 (dir, "cpu.stat", "usage_usec", &usec))
        {
          cpu = usec * 1000;
          have_cpu = TRUE;
        }
    }
  if (!have_memory || !have_cpu)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "cgroup %s accounts for no %s", (const char *) self->dirs->pdata[0],
                   !have_memory ? "memory" : "CPU time");
      return FALSE;
    }
  if (memory_bytes != NULL)
    *memory_bytes = memory;
  if (cpu_ns != NULL)
    *cpu_ns = cpu;
  return TRUE;
}

/**
 * hvk_cgroup_remove:
 * @self: a cgroup
 * @timeout_ms: how long to wait for its last processes to leave (an
 *   exiting process stays in its cgroup until it is reaped)
 * @error: return location for an error
 *
 * Removes every directory of @self; one already gone is fine.
 *
 * Returns: %TRUE if all are gone; on error the message names the
 *   directory and the processes still in it
 */
gboolean
hvk_cgroup_remove (HvkCgroup  *self,
                   guint       timeout_ms,
                   GError    **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  g_return_val_if_fail (self != NULL, FALSE);

  for (guint i = 0; i + 1 < self->dirs->len; i++)
    {
      const char *dir = self->dirs->pdata[i];

      while (rmdir (dir) != 0)
        {
          int saved = errno;
          g_autoptr(GString) busy = g_string_new (NULL);

          if (saved == ENOENT)
            break;
          if (saved == EBUSY && g_get_monotonic_time () < deadline)
            {
              g_usleep (5000);
              continue;
            }
          if (pids_in (dir, busy))
            g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                         "cannot remove cgroup %s: processes %s are still in it",
                         dir, busy->str);
          else
            g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                         "cannot remove cgroup %s: %s", dir, g_strerror (saved));
          return FALSE;
        }
    }
  return TRUE;
}
