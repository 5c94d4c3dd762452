/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

/**
 * SECTION:hvk-vm-store
 * @short_description: where VMs keep their sockets, lock and state
 *
 * Each VM lives in `STORE/ID/`: its sockets, pid files, a `.lock` file
 * that one process at a time holds, and `state.json`, from which another
 * process takes the VM over with hvk_vm_store_load_hypervisor().  A
 * stopped or failed VM leaves nothing behind there.
 */

#define LOCK_FILE ".lock"

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

static const char *
store_or_default (const char *store,
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
  store = store_or_default (store, &default_store);
  return hvk_build_socket_path (error, store, id, name, NULL);
}

static char *
vm_dir (const char *store,
        const char *id)
{
  return g_build_filename (store, id, NULL);
}

/**
 * hvk_vm_store_ensure_dir:
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 * @error: return location for an error
 *
 * Creates @store (mode 0700, with its parents) and `STORE/ID` (0700).
 *
 * Returns: (transfer full): the VM's directory, or %NULL on error
 */
char *
hvk_vm_store_ensure_dir (const char  *store,
                         const char  *id,
                         GError     **error)
{
  g_autofree char *default_store = NULL;
  g_autofree char *dir = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!hvk_vm_id_validate (id, error))
    return NULL;
  store = store_or_default (store, &default_store);

  if (g_mkdir_with_parents (store, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "cannot create state dir %s: %s", store,
                   g_strerror (saved_errno));
      return NULL;
    }

  dir = vm_dir (store, id);
  /* Another process may remove the directory between our mkdir and our
   * look (stopping the VM): then make it again, a few times at most. */
  for (guint attempt = 0;; attempt++)
    {
      struct stat st;

      if (g_mkdir (dir, 0700) != 0 && errno != EEXIST)
        {
          int saved_errno = errno;
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "cannot create VM dir %s: %s", dir,
                       g_strerror (saved_errno));
          return NULL;
        }
      if (g_file_test (dir, G_FILE_TEST_IS_DIR))
        break;
      if (attempt >= 8 || lstat (dir, &st) == 0 || errno != ENOENT)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "cannot create VM dir %s: it exists and is not a directory",
                       dir);
          return NULL;
        }
    }

  return g_steal_pointer (&dir);
}

/* Removes @path and, for a directory, what it holds; symlinks are
 * removed, never followed. */
static gboolean
remove_recursive (const char  *path,
                  GError     **error)
{
  struct stat st;

  if (lstat (path, &st) != 0)
    {
      int saved_errno = errno;
      if (saved_errno == ENOENT)
        return TRUE;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot stat %s: %s",
                   path, g_strerror (saved_errno));
      return FALSE;
    }

  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GDir) dir = g_dir_open (path, 0, &local_error);
      const char *name;

      if (dir == NULL)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "cannot remove %s: %s", path, local_error->message);
          return FALSE;
        }
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          if (!remove_recursive (child, error))
            return FALSE;
        }
      if (g_rmdir (path) != 0 && errno != ENOENT)
        {
          int saved_errno = errno;
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "cannot remove %s: %s", path, g_strerror (saved_errno));
          return FALSE;
        }
      return TRUE;
    }

  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int saved_errno = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot remove %s: %s",
                   path, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/**
 * hvk_vm_store_remove_dir:
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 * @error: return location for an error
 *
 * Removes `STORE/ID` and everything in it.  A missing directory is not an
 * error.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_vm_store_remove_dir (const char  *store,
                         const char  *id,
                         GError     **error)
{
  g_autofree char *default_store = NULL;
  g_autofree char *dir = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!hvk_vm_id_validate (id, error))
    return FALSE;
  store = store_or_default (store, &default_store);
  dir = vm_dir (store, id);
  return remove_recursive (dir, error);
}

static char *
state_file (const char *store,
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
 * Returns: (transfer full): the ids of the VMs in @store (directories
 *   holding a state file), sorted; empty when @store does not exist
 */
GStrv
hvk_vm_store_list (const char *store)
{
  g_autofree char *default_store = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) dir = NULL;
  const char *name;

  store = store_or_default (store, &default_store);
  dir = g_dir_open (store, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;

      if (!hvk_vm_id_validate (name, NULL))
        continue;
      path = state_file (store, name);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        g_ptr_array_add (ids, g_strdup (name));
    }

  g_ptr_array_sort (ids, compare_strings);
  g_ptr_array_add (ids, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&ids), FALSE);
}

/**
 * hvk_vm_store_lock:
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 * @wait: whether to wait for another holder to release the VM
 * @error: return location for an error
 *
 * Takes the VM's lock (an exclusive flock on `STORE/ID/.lock`, created
 * with its directory if needed).  Without @wait, a VM another process
 * holds fails with %HVK_ERROR_BUSY.  The lock goes with the process: a
 * crashed holder releases it.  When the holder removed the VM's directory
 * meanwhile, the lock is taken on a new lock file (the directory is
 * created again), never on the removed one.
 *
 * Returns: (transfer full): the lock, release with hvk_vm_lock_release()
 */
HvkVmLock *
hvk_vm_store_lock (const char  *store,
                   const char  *id,
                   gboolean     wait,
                   GError     **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  HvkVmLock *lock;
  int fd;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (;;)
    {
      struct stat locked, named;

      dir = hvk_vm_store_ensure_dir (store, id, error);
      if (dir == NULL)
        return NULL;

      g_free (path);
      path = g_build_filename (dir, LOCK_FILE, NULL);
      g_clear_pointer (&dir, g_free);
      fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0)
        {
          int saved_errno = errno;
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot open %s: %s",
                       path, g_strerror (saved_errno));
          return NULL;
        }

      while (flock (fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0)
        {
          int saved_errno = errno;

          if (saved_errno == EINTR)
            continue;
          close (fd);
          if (saved_errno == EWOULDBLOCK)
            g_set_error (error, HVK_ERROR, HVK_ERROR_BUSY,
                         "VM '%s' is busy (another hvkit process holds it)", id);
          else
            g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot lock %s: %s",
                         path, g_strerror (saved_errno));
          return NULL;
        }

      /* The holder we waited for (or raced with) may have removed the VM,
       * lock file and all: a lock on that unlinked file guards nothing,
       * as another process may already hold a new one.  Lock what the
       * path names now. */
      if (fstat (fd, &locked) == 0 && stat (path, &named) == 0
          && locked.st_dev == named.st_dev && locked.st_ino == named.st_ino)
        break;
      close (fd);
    }

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

/**
 * hvk_vm_store_write_state:
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 * @state: a JSON node
 * @error: return location for an error
 *
 * Writes @state to `STORE/ID/state.json` atomically (mode 0600), creating
 * the VM's directory if needed.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_vm_store_write_state (const char  *store,
                          const char  *id,
                          JsonNode    *state,
                          GError     **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  dir = hvk_vm_store_ensure_dir (store, id, error);
  if (dir == NULL)
    return FALSE;

  path = g_build_filename (dir, HVK_VM_STATE_FILE, NULL);
  text = json_to_string (state, TRUE);
  if (!g_file_set_contents_full (path, text, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                 &local_error))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot write %s: %s",
                   path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/**
 * hvk_vm_store_read_state:
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 * @error: return location for an error
 *
 * Reads `STORE/ID/state.json`.  A missing VM fails with
 * %HVK_ERROR_NOT_FOUND, a file that is not a JSON object with
 * %HVK_ERROR_INVALID_CONFIG naming the file.
 *
 * Returns: (transfer full): the JSON object, or %NULL on error
 */
JsonNode *
hvk_vm_store_read_state (const char  *store,
                         const char  *id,
                         GError     **error)
{
  g_autofree char *default_store = NULL;
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) node = NULL;
  gsize len;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!hvk_vm_id_validate (id, error))
    return NULL;
  store = store_or_default (store, &default_store);
  path = state_file (store, id);

  if (!g_file_get_contents (path, &text, &len, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                     "no VM '%s' in %s", id, store);
      else
        g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot read %s: %s",
                     path, local_error->message);
      return NULL;
    }

  node = json_from_string (text, &local_error);
  if (node == NULL && local_error == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: corrupt state: the file is empty", path);
      return NULL;
    }
  if (node == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: corrupt state: %s", path, local_error->message);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: corrupt state: not a JSON object", path);
      return NULL;
    }

  return g_steal_pointer (&node);
}

/**
 * hvk_vm_store_save_hypervisor:
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 * @hypervisor: a created VM
 * @error: return location for an error
 *
 * Writes the VM's state file: `{"version", "id", "backend", "state",
 * "config", "hypervisor"}`, where `config` is the configuration as key-file
 * text and `hypervisor` what the backend's save_state() returned.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_vm_store_save_hypervisor (const char     *store,
                              const char     *id,
                              HvkHypervisor  *hypervisor,
                              GError        **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *config_text = NULL;
  HvkConfig *config;

  g_return_val_if_fail (HVK_IS_HYPERVISOR (hypervisor), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!hvk_vm_id_validate (id, error))
    return FALSE;

  config = hvk_hypervisor_get_config (hypervisor);
  if (config == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_STATE,
                   "cannot save VM '%s': backend '%s' has no configuration "
                   "(create_vm was not called)", id,
                   hvk_hypervisor_get_backend_name (hypervisor));
      return FALSE;
    }
  config_text = hvk_config_to_data (config, NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, HVK_VM_STATE_VERSION);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id);
  json_builder_set_member_name (builder, "backend");
  json_builder_add_string_value (builder,
                                 hvk_hypervisor_get_backend_name (hypervisor));
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder,
                                 hvk_vm_state_to_string (hvk_hypervisor_get_state (hypervisor)));
  json_builder_set_member_name (builder, "config");
  json_builder_add_string_value (builder, config_text ? config_text : "");
  json_builder_set_member_name (builder, "hypervisor");
  json_builder_add_value (builder, hvk_hypervisor_save_state (hypervisor));
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return hvk_vm_store_write_state (store, id, root, error);
}

static gboolean
corrupt_member (const char  *path,
                const char  *member,
                const char  *what,
                GError     **error)
{
  g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
               "%s: corrupt state: member '%s' is missing or not %s",
               path, member, what);
  return FALSE;
}

/**
 * hvk_vm_store_load_hypervisor:
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 * @registry: (nullable): the registry to create the backend with, %NULL
 *   for the default one
 * @error: return location for an error
 *
 * Takes over a VM another process saved with
 * hvk_vm_store_save_hypervisor(): reads its state file with
 * hvk_vm_store_read_state() and loads it with
 * hvk_vm_store_load_hypervisor_from_state().
 *
 * Returns: (transfer full): the hypervisor, or %NULL on error
 */
HvkHypervisor *
hvk_vm_store_load_hypervisor (const char   *store,
                              const char   *id,
                              HvkRegistry  *registry,
                              GError      **error)
{
  g_autoptr(JsonNode) root = NULL;

  g_return_val_if_fail (registry == NULL || HVK_IS_REGISTRY (registry), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  root = hvk_vm_store_read_state (store, id, error);
  if (root == NULL)
    return NULL;
  return hvk_vm_store_load_hypervisor_from_state (store, id, root, registry,
                                                  error);
}

/**
 * hvk_vm_store_load_hypervisor_from_state:
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 * @state: the VM's state file as hvk_vm_store_read_state() returned it
 * @registry: (nullable): the registry to create the backend with, %NULL
 *   for the default one
 * @error: return location for an error
 *
 * Takes over a VM from its already read state: checks the file's version
 * and that it belongs to @id, rebuilds the configuration (the state file
 * is its source name), creates the backend and loads its state.  A caller
 * that also needs the state itself (to write it back unchanged, say)
 * reads and parses the file once.
 *
 * Returns: (transfer full): the hypervisor, or %NULL on error
 */
HvkHypervisor *
hvk_vm_store_load_hypervisor_from_state (const char   *store,
                                         const char   *id,
                                         JsonNode     *state,
                                         HvkRegistry  *registry,
                                         GError      **error)
{
  g_autofree char *default_store = NULL;
  g_autofree char *path = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  JsonObject *object;
  JsonNode *member;
  const char *config_text;
  const char *backend;
  gint64 version;

  g_return_val_if_fail (state != NULL, NULL);
  g_return_val_if_fail (registry == NULL || HVK_IS_REGISTRY (registry), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!hvk_vm_id_validate (id, error))
    return NULL;
  store = store_or_default (store, &default_store);
  path = state_file (store, id);
  if (!JSON_NODE_HOLDS_OBJECT (state))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: corrupt state: not a JSON object", path);
      return NULL;
    }
  object = json_node_get_object (state);

  member = json_object_get_member (object, "version");
  if (member == NULL || !JSON_NODE_HOLDS_VALUE (member)
      || json_node_get_value_type (member) != G_TYPE_INT64)
    {
      corrupt_member (path, "version", "a number", error);
      return NULL;
    }
  version = json_node_get_int (member);
  if (version != HVK_VM_STATE_VERSION)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: unsupported state version %" G_GINT64_FORMAT,
                   path, version);
      return NULL;
    }

  /* A state file copied or moved from another VM's dir would make this
   * VM act on (and remove) the other VM's files. */
  member = json_object_get_member (object, "id");
  if (member == NULL || !JSON_NODE_HOLDS_VALUE (member)
      || json_node_get_value_type (member) != G_TYPE_STRING)
    {
      corrupt_member (path, "id", "a string", error);
      return NULL;
    }
  if (g_strcmp0 (json_node_get_string (member), id) != 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: corrupt state: it belongs to VM '%s', not '%s'",
                   path, json_node_get_string (member), id);
      return NULL;
    }

  member = json_object_get_member (object, "config");
  if (member == NULL || !JSON_NODE_HOLDS_VALUE (member)
      || json_node_get_value_type (member) != G_TYPE_STRING)
    {
      corrupt_member (path, "config", "a string", error);
      return NULL;
    }
  config_text = json_node_get_string (member);

  member = json_object_get_member (object, "backend");
  if (member == NULL || !JSON_NODE_HOLDS_VALUE (member)
      || json_node_get_value_type (member) != G_TYPE_STRING)
    {
      corrupt_member (path, "backend", "a string", error);
      return NULL;
    }
  backend = json_node_get_string (member);

  member = json_object_get_member (object, "hypervisor");
  if (member == NULL || !JSON_NODE_HOLDS_OBJECT (member))
    {
      corrupt_member (path, "hypervisor", "an object", error);
      return NULL;
    }

  if (registry == NULL)
    registry = hvk_registry_get_default ();

  config = hvk_config_new_from_data (config_text, -1, path, registry, error);
  if (config == NULL)
    return NULL;
  if (g_strcmp0 (hvk_config_get_backend (config), backend) != 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: corrupt state: backend '%s' differs from the "
                   "configuration's '%s'", path, backend,
                   hvk_config_get_backend (config));
      return NULL;
    }
  hvk_config_set_vm_store_path (config, store);

  /* These errors do not name the file: prefix it. */
  hypervisor = hvk_registry_create_hypervisor (registry, config, error);
  if (hypervisor == NULL)
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  if (!hvk_hypervisor_load_state (hypervisor, member, error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  hvk_hypervisor_bind_store (hypervisor, store, id);

  return g_steal_pointer (&hypervisor);
}
