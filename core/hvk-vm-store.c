/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "hvk-fs-private.h"
#include "hvk-vm-store-private.h"

/**
 * SECTION:hvk-vm-store
 * @short_description: where VMs keep their sockets, lock and state
 *
 * Each VM lives in `STORE/ID/`: its sockets, pid files, a `.lock` file
 * that one process at a time holds, and `state.json`, from which another
 * process takes the VM over with hvk_vm_store_load_hypervisor().  A
 * stopped or failed VM leaves nothing behind there.
 *
 * The store is trusted only if it is the caller's own: the state dir and
 * each `STORE/ID/` must be owned by the effective user and writable by
 * neither group nor others, and `STORE/ID` must be a directory, not a
 * symlink; what is inside is opened, written and removed relative to the
 * directory's descriptor, never through a symlink.  Anything else is
 * refused with an error naming the path and the reason.
 */

#define LOCK_FILE ".lock"
#define REMOVING_PREFIX ".removing-"

struct _HvkVmLock
{
  int   fd;
  char *path;
};

/**
 * hvk_vm_store_default_dir:
 *
 * The state directory when none is given: `$XDG_RUNTIME_DIR/hvkit`, else
 * `/run/hvkit` for root, else the user runtime dir's `hvkit`.
 *
 * Returns: (transfer full): the directory
 */
char *
hvk_vm_store_default_dir (void)
{
  const char *runtime = g_getenv ("XDG_RUNTIME_DIR");

  if (runtime != NULL && *runtime != '\0')
    return g_build_filename (runtime, "hvkit", NULL);
  if (getuid () == 0)
    return g_strdup ("/run/hvkit");
  return g_build_filename (g_get_user_runtime_dir (), "hvkit", NULL);
}

const char *
hvk_vm_store_resolve (const char *store,
                      char      **to_free)
{
  if (store != NULL)
    return store;
  *to_free = hvk_vm_store_default_dir ();
  return *to_free;
}

/**
 * hvk_vm_id_validate:
 * @id: (nullable): a VM id
 * @error: return location for an error
 *
 * A VM id is 1 to %HVK_VM_ID_MAX_LEN characters of `[A-Za-z0-9_.-]`,
 * starting with a letter or digit, without `..`: it names a directory.
 *
 * Returns: %TRUE if @id is valid
 */
gboolean
hvk_vm_id_validate (const char  *id,
                    GError     **error)
{
  gsize len;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (id == NULL || *id == '\0')
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "invalid VM id '': it must not be empty");
      return FALSE;
    }

  len = strlen (id);
  if (len > HVK_VM_ID_MAX_LEN)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "invalid VM id '%s': longer than %d characters",
                   id, HVK_VM_ID_MAX_LEN);
      return FALSE;
    }

  if (!g_ascii_isalnum (id[0]))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "invalid VM id '%s': it must start with a letter or a digit",
                   id);
      return FALSE;
    }

  for (const char *p = id; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '_' && *p != '.' && *p != '-')
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "invalid VM id '%s': only letters, digits, '_', '.' "
                       "and '-' are allowed", id);
          return FALSE;
        }
    }

  if (strstr (id, "..") != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "invalid VM id '%s': it must not contain '..'", id);
      return FALSE;
    }

  return TRUE;
}

/* Joins like Go's filepath.Join on clean elements: one '/' between
 * elements, whatever slashes they carry, and a leading '/' kept. */
static char *
join_socket_elements (GPtrArray *elements)
{
  GString *result = g_string_new (NULL);

  for (guint i = 0; i < elements->len; i++)
    {
      const char *element = g_ptr_array_index (elements, i);
      g_auto(GStrv) parts = g_strsplit (element, "/", -1);

      if (i == 0 && element[0] == '/')
        g_string_append_c (result, '/');

      for (guint j = 0; parts[j] != NULL; j++)
        {
          if (parts[j][0] == '\0')
            continue;
          if (result->len > 0 && result->str[result->len - 1] != '/')
            g_string_append_c (result, '/');
          g_string_append (result, parts[j]);
        }
    }

  return g_string_free (result, FALSE);
}

/**
 * hvk_build_socket_path:
 * @error: return location for an error
 * @first_element: the first path element
 * @...: more elements, then %NULL
 *
 * Joins the elements with `/`, as Kata's `BuildSocketPath`.  An empty
 * element, or a result longer than %HVK_MAX_SOCKET_PATH_LEN bytes (the
 * limit of a UNIX socket address), is an error.
 *
 * Returns: (transfer full): the socket path, or %NULL on error
 */
char *
hvk_build_socket_path (GError    **error,
                       const char *first_element,
                       ...)
{
  g_autoptr(GPtrArray) elements = g_ptr_array_new ();
  g_autofree char *path = NULL;
  const char *element;
  va_list args;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  va_start (args, first_element);
  for (element = first_element; element != NULL;
       element = va_arg (args, const char *))
    g_ptr_array_add (elements, (gpointer) element);
  va_end (args);

  for (guint i = 0; i < elements->len; i++)
    {
      if (*(const char *) g_ptr_array_index (elements, i) == '\0')
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "socket path element %u is empty", i + 1);
          return NULL;
        }
    }
  if (elements->len == 0)
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "socket path is empty");
      return NULL;
    }

  path = join_socket_elements (elements);
  if (strlen (path) > HVK_MAX_SOCKET_PATH_LEN)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "socket path '%s' is too long (%zu bytes, at most %d)",
                   path, strlen (path), HVK_MAX_SOCKET_PATH_LEN);
      return NULL;
    }

  return g_steal_pointer (&path);
}

/**
 * hvk_vm_store_socket_path:
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 * @name: the socket's file name
 * @error: return location for an error
 *
 * Builds the path of a socket in a VM's directory of the state dir.
 *
 * Returns: (transfer full): `STORE/ID/NAME`, or %NULL when @id is invalid
 *   or the path does not fit a UNIX socket address
 */
char *
hvk_vm_store_socket_path (const char  *store,
                          const char  *id,
                          const char  *name,
                          GError     **error)
{
  g_autofree char *default_store = NULL;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!hvk_vm_id_validate (id, error))
    return NULL;
  store = hvk_vm_store_resolve (store, &default_store);
  return hvk_build_socket_path (error, store, id, name, NULL);
}

/* Opens the state dir @store and checks that it is hvkit's own: owned by
 * this user and writable by nobody else, so that no other user can plant
 * or swap what hvkit reads, signals and removes there.  The caller names
 * the dir, so a symlink to it is followed; what is inside is reached
 * relative to the descriptor, never through a symlink.  With @create it
 * is made first (0700, with its parents).  A missing dir fails with
 * %HVK_ERROR_NOT_FOUND. */
int
hvk_vm_store_open (const char  *store,
                   gboolean     create,
                   GError     **error)
{
  struct stat st;
  int fd;

  if (create && g_mkdir_with_parents (store, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "cannot create state dir %s: %s", store,
                   g_strerror (saved_errno));
      return -1;
    }

  fd = open (store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, HVK_ERROR,
                   saved_errno == ENOENT ? HVK_ERROR_NOT_FOUND : HVK_ERROR_FAILED,
                   "cannot open state dir %s: %s", store,
                   g_strerror (saved_errno));
      return -1;
    }
  if (fstat (fd, &st) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "cannot stat state dir %s: %s", store,
                   g_strerror (saved_errno));
      close (fd);
      return -1;
    }
  if (!hvk_fs_check_dir_trust (store, &st, HVK_DIR_TRUST_PRIVATE, "state dir",
                               HVK_ERROR_FAILED, error))
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* Opens `STORE/ID` in @store_fd without following a symlink and checks it
 * as the state dir: a VM dir replaced by a symlink (or anything but a
 * directory) is refused, and nothing where it points is touched.  With
 * @create it is made first (0700).  A missing dir fails with
 * %HVK_ERROR_NOT_FOUND. */
int
hvk_vm_store_open_vm_dir (int          store_fd,
                          const char  *store,
                          const char  *id,
                          gboolean     create,
                          GError     **error)
{
  g_autofree char *path = g_build_filename (store, id, NULL);
  struct stat st;
  int fd;

  /* Another process may remove the directory between our mkdir and our
   * open (stopping the VM): then make it again, a few times at most. */
  for (guint attempt = 0;; attempt++)
    {
      int saved_errno;

      if (create && mkdirat (store_fd, id, 0700) != 0 && errno != EEXIST)
        {
          saved_errno = errno;
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "cannot create VM dir %s: %s", path,
                       g_strerror (saved_errno));
          return -1;
        }

      fd = openat (store_fd, id,
                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0)
        break;

      saved_errno = errno;
      if (saved_errno == ENOENT && create && attempt < 8)
        continue;
      if (saved_errno == ENOENT)
        g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                     "no VM dir %s", path);
      else if ((saved_errno == ELOOP || saved_errno == ENOTDIR)
               && fstatat (store_fd, id, &st, AT_SYMLINK_NOFOLLOW) == 0
               && S_ISLNK (st.st_mode))
        g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                     "VM dir %s is a symbolic link; refusing to follow it",
                     path);
      else if (saved_errno == ELOOP || saved_errno == ENOTDIR)
        g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                     "%s VM dir %s: it exists and is not a directory",
                     create ? "cannot create" : "cannot open", path);
      else
        g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                     "cannot open VM dir %s: %s", path,
                     g_strerror (saved_errno));
      return -1;
    }

  if (fstat (fd, &st) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "cannot stat VM dir %s: %s", path, g_strerror (saved_errno));
      close (fd);
      return -1;
    }
  if (!hvk_fs_check_dir_trust (path, &st, HVK_DIR_TRUST_PRIVATE, "VM dir",
                               HVK_ERROR_FAILED, error))
    {
      close (fd);
      return -1;
    }
  return fd;
}

void
hvk_vm_store_close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

/**
 * hvk_vm_store_ensure_dir:
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 * @error: return location for an error
 *
 * Creates @store (mode 0700, with its parents) and `STORE/ID` (0700).
 * Both must be this user's and writable by nobody else, and `STORE/ID`
 * must be a directory, not a symlink to one: else this fails, naming the
 * path and the reason.
 *
 * Returns: (transfer full): the VM's directory, or %NULL on error
 */
char *
hvk_vm_store_ensure_dir (const char  *store,
                         const char  *id,
                         GError     **error)
{
  g_autofree char *default_store = NULL;
  int store_fd, vm_fd;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!hvk_vm_id_validate (id, error))
    return NULL;
  store = hvk_vm_store_resolve (store, &default_store);

  store_fd = hvk_vm_store_open (store, TRUE, error);
  if (store_fd < 0)
    return NULL;
  vm_fd = hvk_vm_store_open_vm_dir (store_fd, store, id, TRUE, error);
  hvk_vm_store_close_fd (&store_fd);
  if (vm_fd < 0)
    return NULL;
  hvk_vm_store_close_fd (&vm_fd);

  return g_build_filename (store, id, NULL);
}

/* Renames @id of @store_fd to a fresh `.removing-ID-XXXXXX` in the same
 * dir, in one step; returns the new name, or %NULL with errno set. */
static char *
rename_away (int         store_fd,
             const char *id)
{
  for (guint attempt = 0; attempt < 64; attempt++)
    {
      g_autofree char *name = g_strdup_printf (REMOVING_PREFIX "%s-%06x", id,
                                               (guint) g_random_int_range (0, 0x1000000));
      struct stat st;

      if (fstatat (store_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
          || errno != ENOENT)
        continue;
      if (renameat (store_fd, id, store_fd, name) != 0)
        return NULL;
      return g_steal_pointer (&name);
    }
  errno = EEXIST;
  return NULL;
}

/* Whether @name is a log file: NAME.log, or a rotated NAME.log.N. */
static gboolean
is_log_name (const char *name)
{
  const char *dot = strstr (name, ".log");

  if (dot == NULL || name[0] == '.')
    return FALSE;
  if (dot[4] == '\0')
    return TRUE;
  if (dot[4] != '.' || dot[5] == '\0')
    return FALSE;
  for (const char *p = dot + 5; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

/* Moves the log files of @dir_name (a VM dir being removed) to
 * STORE/.logs/ID, replacing what an earlier VM of that id left there.
 * Best effort: a VM is removed even when its logs cannot be kept. */
static void
keep_logs (int         store_fd,
           const char *store,
           const char *dir_name,
           const char *id)
{
  g_autofree char *logs_path = g_build_filename (store, HVK_VM_STORE_LOGS_DIR, NULL);
  g_autofree char *kept_path = g_build_filename (logs_path, id, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  int dir_fd, logs_fd = -1, kept_fd = -1;
  DIR *dir;
  struct dirent *entry;

  dir_fd = openat (store_fd, dir_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir_fd < 0)
    return;
  dir = fdopendir (dup (dir_fd));
  while (dir != NULL && (entry = readdir (dir)) != NULL)
    {
      struct stat st;

      if (is_log_name (entry->d_name)
          && fstatat (dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
          && S_ISREG (st.st_mode))
        g_ptr_array_add (names, g_strdup (entry->d_name));
    }
  if (dir != NULL)
    closedir (dir);
  if (names->len > 0)
    {
      if (mkdirat (store_fd, HVK_VM_STORE_LOGS_DIR, 0700) != 0 && errno != EEXIST)
        g_debug ("cannot create %s: %s", logs_path, g_strerror (errno));
      logs_fd = openat (store_fd, HVK_VM_STORE_LOGS_DIR,
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
  if (logs_fd >= 0)
    {
      hvk_fs_remove_at (logs_fd, id, kept_path, NULL);
      if (mkdirat (logs_fd, id, 0700) == 0)
        kept_fd = openat (logs_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
  for (guint i = 0; kept_fd >= 0 && i < names->len; i++)
    if (renameat (dir_fd, names->pdata[i], kept_fd, names->pdata[i]) != 0)
      g_debug ("cannot keep log %s of VM '%s': %s", (const char *) names->pdata[i], id,
               g_strerror (errno));
  if (kept_fd >= 0)
    close (kept_fd);
  if (logs_fd >= 0)
    close (logs_fd);
  close (dir_fd);
}

/**
 * hvk_vm_store_keep_logs:
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 *
 * Moves the log files of `STORE/ID` (`NAME.log` and the rotated
 * `NAME.log.N`; regular files only) to hvk_vm_store_logs_dir(),
 * replacing what an earlier VM of that id left there: a backend calls it
 * before removing the directory of a VM that ran, so that its logs
 * outlive it (`hvkit logs`).  Best effort: nothing is reported.
 */
void
hvk_vm_store_keep_logs (const char *store,
                        const char *id)
{
  g_autofree char *default_store = NULL;
  int store_fd;

  g_return_if_fail (id != NULL);

  if (!hvk_vm_id_validate (id, NULL))
    return;
  store = hvk_vm_store_resolve (store, &default_store);
  store_fd = hvk_vm_store_open (store, FALSE, NULL);
  if (store_fd < 0)
    return;
  keep_logs (store_fd, store, id, id);
  hvk_vm_store_close_fd (&store_fd);
}

/**
 * hvk_vm_store_logs_dir:
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 *
 * Where the logs of the last VM called @id that ran are kept
 * (hvk_vm_store_keep_logs()) until hvk_vm_store_remove_logs().
 *
 * Returns: (transfer full): `STORE/.logs/ID`, whether it exists or not
 */
char *
hvk_vm_store_logs_dir (const char *store,
                       const char *id)
{
  g_autofree char *default_store = NULL;

  g_return_val_if_fail (id != NULL, NULL);

  store = hvk_vm_store_resolve (store, &default_store);
  return g_build_filename (store, HVK_VM_STORE_LOGS_DIR, id, NULL);
}

/**
 * hvk_vm_store_remove_logs:
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 * @error: return location for an error
 *
 * Removes the logs kept of the removed VM @id (hvk_vm_store_logs_dir()).
 * No kept logs is not an error.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_vm_store_remove_logs (const char  *store,
                          const char  *id,
                          GError     **error)
{
  g_autofree char *default_store = NULL;
  g_autofree char *path = NULL;
  int store_fd, logs_fd;
  gboolean ok;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!hvk_vm_id_validate (id, error))
    return FALSE;
  store = hvk_vm_store_resolve (store, &default_store);
  store_fd = hvk_vm_store_open (store, FALSE, NULL);
  if (store_fd < 0)
    return TRUE;
  logs_fd = openat (store_fd, HVK_VM_STORE_LOGS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  hvk_vm_store_close_fd (&store_fd);
  if (logs_fd < 0)
    return TRUE;
  path = g_build_filename (store, HVK_VM_STORE_LOGS_DIR, id, NULL);
  ok = hvk_fs_remove_at (logs_fd, id, path, error);
  close (logs_fd);
  return ok;
}

/**
 * hvk_vm_store_remove_dir:
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 * @error: return location for an error
 *
 * Removes `STORE/ID` and everything in it (hvk_vm_store_keep_logs()
 * first saves its logs).  A missing directory is not an error; a `STORE/ID` that is a symlink, not a directory, or not trusted
 * (see hvk_vm_store_ensure_dir()) is refused and left alone.
 *
 * The directory is first renamed, in one step, to a hidden
 * `STORE/.removing-ID-XXXXXX`, then removed: a process killed meanwhile
 * leaves either the whole VM or a hidden leftover, which
 * hvk_vm_store_sweep() removes, never a VM dir without its state file.
 * Symlinks inside are removed, never followed.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_vm_store_remove_dir (const char  *store,
                         const char  *id,
                         GError     **error)
{
  g_autofree char *default_store = NULL;
  g_autofree char *hidden = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean ok;
  int store_fd, vm_fd = -1;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!hvk_vm_id_validate (id, error))
    return FALSE;
  store = hvk_vm_store_resolve (store, &default_store);

  store_fd = hvk_vm_store_open (store, FALSE, &local_error);
  if (store_fd >= 0)
    vm_fd = hvk_vm_store_open_vm_dir (store_fd, store, id, FALSE, &local_error);
  if (store_fd < 0 || vm_fd < 0)
    {
      hvk_vm_store_close_fd (&store_fd);
      if (g_error_matches (local_error, HVK_ERROR, HVK_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  hvk_vm_store_close_fd (&vm_fd);

  /* Waiters on the VM's lock (STORE/ID/.lock) see that STORE/ID no longer
   * names the dir they locked in, and start over: hvk_vm_store_lock(). */
  hidden = rename_away (store_fd, id);
  if (hidden != NULL)
    {
      path = g_build_filename (store, hidden, NULL);
      ok = hvk_fs_remove_at (store_fd, hidden, path, error);
    }
  else if (errno == ENOENT)
    ok = TRUE;
  else
    {
      /* Renaming can fail where removing works (a dir that is a mount
       * point, a full directory block): remove in place. */
      path = g_build_filename (store, id, NULL);
      ok = hvk_fs_remove_at (store_fd, id, path, error);
    }
  hvk_vm_store_close_fd (&store_fd);
  return ok;
}

/**
 * hvk_vm_store_sweep:
 * @store: (nullable): the state dir, %NULL for the default
 * @error: return location for an error
 *
 * Removes what removals killed midway left: the `.removing-*` entries of
 * hvk_vm_store_remove_dir().  hvk_vm_store_list() calls it.  A missing
 * state dir is not an error; one that is not trusted (another user's, or
 * writable by group or others) is.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_vm_store_sweep (const char  *store,
                    GError     **error)
{
  g_autofree char *default_store = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  struct dirent *entry;
  DIR *dir;
  int store_fd, list_fd;
  gboolean ok = TRUE;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  store = hvk_vm_store_resolve (store, &default_store);
  store_fd = hvk_vm_store_open (store, FALSE, &local_error);
  if (store_fd < 0)
    {
      if (g_error_matches (local_error, HVK_ERROR, HVK_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  list_fd = dup (store_fd);
  dir = list_fd >= 0 ? fdopendir (list_fd) : NULL;
  if (dir == NULL)
    {
      int saved_errno = errno;
      if (list_fd >= 0)
        close (list_fd);
      close (store_fd);
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "cannot read state dir %s: %s", store,
                   g_strerror (saved_errno));
      return FALSE;
    }
  while ((entry = readdir (dir)) != NULL)
    if (g_str_has_prefix (entry->d_name, REMOVING_PREFIX))
      g_ptr_array_add (names, g_strdup (entry->d_name));
  closedir (dir);

  for (guint i = 0; ok && i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autofree char *path = g_build_filename (store, name, NULL);

      ok = hvk_fs_remove_at (store_fd, name, path, error);
    }
  close (store_fd);
  return ok;
}

char *
hvk_vm_store_state_file (const char *store,
                         const char *id)
{
  return g_build_filename (store, id, HVK_VM_STATE_FILE, NULL);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/**
 * hvk_vm_store_list:
 * @store: (nullable): the state dir, %NULL for the default
 *
 * Lists the VMs after hvk_vm_store_sweep().  A state dir that is not
 * trusted lists no VM, nor does a VM dir that is a symlink or not
 * trusted (see hvk_vm_store_ensure_dir()); hvk_vm_store_sweep() says why
 * for the state dir.
 *
 * Returns: (transfer full): the ids of the VMs in @store (directories
 *   holding a state file), sorted; empty when @store does not exist
 */
GStrv
hvk_vm_store_list (const char *store)
{
  g_autofree char *default_store = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  struct dirent *entry;
  DIR *dir = NULL;
  int store_fd, list_fd = -1;

  store = hvk_vm_store_resolve (store, &default_store);
  hvk_vm_store_sweep (store, NULL);

  store_fd = hvk_vm_store_open (store, FALSE, NULL);
  if (store_fd >= 0)
    list_fd = dup (store_fd);
  if (list_fd >= 0)
    dir = fdopendir (list_fd);
  if (dir == NULL && list_fd >= 0)
    close (list_fd);

  while (dir != NULL && (entry = readdir (dir)) != NULL)
    {
      struct stat st;
      int vm_fd;

      if (!hvk_vm_id_validate (entry->d_name, NULL)
          || fstatat (store_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0
          || !S_ISDIR (st.st_mode))
        continue;
      vm_fd = hvk_vm_store_open_vm_dir (store_fd, store, entry->d_name, FALSE, NULL);
      if (vm_fd < 0)
        continue;
      if (fstatat (vm_fd, HVK_VM_STATE_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0
          && S_ISREG (st.st_mode))
        g_ptr_array_add (ids, g_strdup (entry->d_name));
      close (vm_fd);
    }
  if (dir != NULL)
    closedir (dir);
  hvk_vm_store_close_fd (&store_fd);

  g_ptr_array_sort (ids, compare_strings);
  g_ptr_array_add (ids, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&ids), FALSE);
}

/* Whether @fd, locked in the VM dir @vm_fd, is still the lock file
 * `STORE/ID/.lock` names. */
static gboolean
lock_still_named (int         store_fd,
                  const char *id,
                  int         vm_fd,
                  int         fd)
{
  struct stat locked_dir, named_dir, locked, named;

  return fstat (vm_fd, &locked_dir) == 0
         && fstatat (store_fd, id, &named_dir, AT_SYMLINK_NOFOLLOW) == 0
         && locked_dir.st_dev == named_dir.st_dev
         && locked_dir.st_ino == named_dir.st_ino
         && fstat (fd, &locked) == 0
         && fstatat (vm_fd, LOCK_FILE, &named, AT_SYMLINK_NOFOLLOW) == 0
         && locked.st_dev == named.st_dev && locked.st_ino == named.st_ino;
}

/**
 * hvk_vm_store_lock: (skip)
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 * @wait: whether to wait for another holder to release the VM
 * @error: return location for an error
 *
 * Takes the VM's lock (an exclusive flock on `STORE/ID/.lock`, created
 * with its directory if needed, as hvk_vm_store_ensure_dir(); neither the
 * directory nor the lock file may be a symlink).  Without @wait, a VM
 * another process holds fails with %HVK_ERROR_BUSY.  The lock goes with
 * the process: a crashed holder releases it.  When the holder removed the
 * VM's directory meanwhile (or renamed it away, as
 * hvk_vm_store_remove_dir() does first), the lock is taken on a new lock
 * file (the directory is created again), never on the removed one.
 *
 * Returns: (transfer full): the lock, release with hvk_vm_lock_release()
 */
HvkVmLock *
hvk_vm_store_lock (const char  *store,
                   const char  *id,
                   gboolean     wait,
                   GError     **error)
{
  g_autofree char *default_store = NULL;
  g_autofree char *path = NULL;
  HvkVmLock *lock;
  int store_fd = -1, vm_fd = -1, fd = -1;
  guint attempts = 0;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!hvk_vm_id_validate (id, error))
    return NULL;
  store = hvk_vm_store_resolve (store, &default_store);
  path = g_build_filename (store, id, LOCK_FILE, NULL);

  for (;;)
    {
      /* Each round from the top, as the path names things now. */
      store_fd = hvk_vm_store_open (store, TRUE, error);
      if (store_fd < 0)
        break;
      vm_fd = hvk_vm_store_open_vm_dir (store_fd, store, id, TRUE, error);
      if (vm_fd < 0)
        break;

      fd = openat (vm_fd, LOCK_FILE,
                   O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0)
        {
          int saved_errno = errno;

          /* The holder removed the dir between our open and our create
           * (a file cannot be made in a removed dir): from the top. */
          if (saved_errno == ENOENT && ++attempts < 64)
            {
              hvk_vm_store_close_fd (&vm_fd);
              hvk_vm_store_close_fd (&store_fd);
              continue;
            }
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot open %s: %s",
                       path, g_strerror (saved_errno));
          break;
        }

      while (flock (fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0)
        {
          int saved_errno = errno;

          if (saved_errno == EINTR)
            continue;
          hvk_vm_store_close_fd (&fd);
          if (saved_errno == EWOULDBLOCK)
            g_set_error (error, HVK_ERROR, HVK_ERROR_BUSY,
                         "VM '%s' is busy (another hvkit process holds it)", id);
          else
            g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot lock %s: %s",
                         path, g_strerror (saved_errno));
          break;
        }
      if (fd < 0)
        break;

      /* The holder we waited for (or raced with) may have removed the VM,
       * lock file and all, or renamed its dir away to remove it: a lock
       * on that file guards nothing, as another process may already hold
       * a new one.  Lock what the path names now: the same dir, and in it
       * the same file. */
      if (lock_still_named (store_fd, id, vm_fd, fd))
        break;
      hvk_vm_store_close_fd (&fd);
      hvk_vm_store_close_fd (&vm_fd);
      hvk_vm_store_close_fd (&store_fd);
    }

  hvk_vm_store_close_fd (&vm_fd);
  hvk_vm_store_close_fd (&store_fd);
  if (fd < 0)
    return NULL;

  lock = g_new0 (HvkVmLock, 1);
  lock->fd = fd;
  lock->path = g_steal_pointer (&path);
  return lock;
}

/**
 * hvk_vm_lock_release:
 * @lock: (nullable): a lock from hvk_vm_store_lock()
 *
 * Releases and frees @lock.  The lock file stays (removing it would let
 * two processes lock two different files); hvk_vm_store_remove_dir()
 * takes it away with the VM.
 */
void
hvk_vm_lock_release (HvkVmLock *lock)
{
  if (lock == NULL)
    return;

  flock (lock->fd, LOCK_UN);
  close (lock->fd);
  g_free (lock->path);
  g_free (lock);
}
