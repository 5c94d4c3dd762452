/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "hvk-fs-private.h"
#include "hvk-vm-store-private.h"
#include "hvk-vm-record-private.h"
#include "hvk-hypervisor-private.h"
#include "hvk-vm-describe-private.h"

/* A VM's state file: written atomically in its directory, read back with
 * the store's checks, and the envelope around the backend's part. */

/* Writes @text to the file @name of @dir_fd atomically: to a new file
 * beside it, flushed when it replaces one (so that a crash leaves the old
 * or the new, as G_FILE_SET_CONTENTS_CONSISTENT), renamed over it.  No
 * symlink is followed; @path names the file in errors. */
static gboolean
write_file_at (int          dir_fd,
               const char  *name,
               const char  *path,
               const char  *text,
               GError     **error)
{
  g_autofree char *tmp = NULL;
  gsize len = strlen (text);
  struct stat st;
  int saved_errno;
  int fd = -1;

  for (guint attempt = 0; fd < 0; attempt++)
    {
      g_free (tmp);
      tmp = g_strdup_printf ("%s.%06x", name,
                             (guint) g_random_int_range (0, 0x1000000));
      fd = openat (dir_fd, tmp,
                   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0 && (errno != EEXIST || attempt >= 64))
        {
          saved_errno = errno;
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot write %s: %s",
                       path, g_strerror (saved_errno));
          return FALSE;
        }
    }

  for (gsize done = 0; done < len;)
    {
      gssize n = write (fd, text + done, len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        goto fail;
      done += n;
    }
  if (fstatat (dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_size > 0
      && fsync (fd) != 0)
    goto fail;
  if (close (fd) != 0)
    {
      fd = -1;
      goto fail;
    }
  fd = -1;
  if (renameat (dir_fd, tmp, dir_fd, name) != 0)
    goto fail;
  return TRUE;

fail:
  saved_errno = errno;
  if (fd >= 0)
    close (fd);
  unlinkat (dir_fd, tmp, 0);
  g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot write %s: %s",
               path, g_strerror (saved_errno));
  return FALSE;
}

/**
 * hvk_vm_store_write_state:
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 * @state: a JSON node
 * @error: return location for an error
 *
 * Writes @state to `STORE/ID/state.json` atomically (mode 0600), creating
 * the VM's directory if needed, as hvk_vm_store_ensure_dir().
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_vm_store_write_state (const char  *store,
                          const char  *id,
                          JsonNode    *state,
                          GError     **error)
{
  g_autofree char *default_store = NULL;
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  gboolean ok;
  int store_fd, vm_fd;

  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!hvk_vm_id_validate (id, error))
    return FALSE;
  store = hvk_vm_store_resolve (store, &default_store);

  store_fd = hvk_vm_store_open (store, TRUE, error);
  if (store_fd < 0)
    return FALSE;
  vm_fd = hvk_vm_store_open_vm_dir (store_fd, store, id, TRUE, error);
  hvk_vm_store_close_fd (&store_fd);
  if (vm_fd < 0)
    return FALSE;

  path = hvk_vm_store_state_file (store, id);
  /* Compact: every hvkit command that opens a VM parses it (json-glib
   * reads an indented file ~20 % slower); `jq . state.json` shows it
   * indented. */
  text = json_to_string (state, FALSE);
  ok = write_file_at (vm_fd, HVK_VM_STATE_FILE, path, text, error);
  hvk_vm_store_close_fd (&vm_fd);
  return ok;
}

/* Reads the regular file @name of @dir_fd, not through a symlink (nor
 * blocking on a FIFO); a missing file fails with %HVK_ERROR_NOT_FOUND. */
static char *
read_file_at (int          dir_fd,
              const char  *name,
              const char  *path,
              GError     **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  struct stat st;
  int saved_errno;
  int fd;

  fd = openat (dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    {
      saved_errno = errno;
      if (saved_errno == ELOOP)
        g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                     "cannot read %s: it is a symbolic link", path);
      else
        g_set_error (error, HVK_ERROR,
                     saved_errno == ENOENT ? HVK_ERROR_NOT_FOUND : HVK_ERROR_FAILED,
                     "cannot read %s: %s", path, g_strerror (saved_errno));
      return NULL;
    }
  if (fstat (fd, &st) != 0)
    {
      saved_errno = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot read %s: %s",
                   path, g_strerror (saved_errno));
      close (fd);
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "cannot read %s: not a regular file", path);
      close (fd);
      return NULL;
    }

  for (;;)
    {
      guint8 buf[4096];
      gssize n = read (fd, buf, sizeof buf);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          saved_errno = errno;
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot read %s: %s",
                       path, g_strerror (saved_errno));
          close (fd);
          return NULL;
        }
      if (n == 0)
        break;
      g_byte_array_append (bytes, buf, n);
    }
  close (fd);

  g_byte_array_append (bytes, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (g_steal_pointer (&bytes), FALSE);
}

/**
 * hvk_vm_store_read_state:
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 * @error: return location for an error
 *
 * Reads `STORE/ID/state.json`.  A missing VM fails with
 * %HVK_ERROR_NOT_FOUND, a file that is not a JSON object with
 * %HVK_ERROR_INVALID_CONFIG naming the file, a state or VM dir that is
 * not trusted, a VM dir or state file that is a symlink with
 * %HVK_ERROR_FAILED naming it (see hvk_vm_store_ensure_dir()).
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
  int store_fd, vm_fd = -1;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!hvk_vm_id_validate (id, error))
    return NULL;
  store = hvk_vm_store_resolve (store, &default_store);
  path = hvk_vm_store_state_file (store, id);

  store_fd = hvk_vm_store_open (store, FALSE, &local_error);
  if (store_fd >= 0)
    vm_fd = hvk_vm_store_open_vm_dir (store_fd, store, id, FALSE, &local_error);
  if (vm_fd >= 0)
    text = read_file_at (vm_fd, HVK_VM_STATE_FILE, path, &local_error);
  hvk_vm_store_close_fd (&vm_fd);
  hvk_vm_store_close_fd (&store_fd);
  if (text == NULL)
    {
      if (g_error_matches (local_error, HVK_ERROR, HVK_ERROR_NOT_FOUND))
        g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                     "no VM '%s' in %s", id, store);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  g_clear_error (&local_error);

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

/* Whether the record names what would tell, without its backend, that
 * it still holds (hvk_vm_store_describe_from_state()): a running or
 * paused VM whose monitor keeps the VMM's run state. */
static gboolean
has_witnesses (HvkVmRecord *record)
{
  HvkVmState state = hvk_vm_record_get_state (record);

  return (state == HVK_VM_STATE_RUNNING || state == HVK_VM_STATE_PAUSED)
         && hvk_vm_record_get_path (record, HVK_VM_RECORD_PATH_RUN_STATE) != NULL;
}

/**
 * hvk_vm_store_save_hypervisor:
 * @store: (nullable): the state dir, %NULL for the default
 * @id: the VM id
 * @hypervisor: a created VM
 * @error: return location for an error
 *
 * Writes the VM's state file, version %HVK_VM_STATE_VERSION: the core's
 * envelope (`version`, `id`, `backend`, `state`, `config` as key-file
 * text, `cold_devices`, `launch`, `processes`, `paths`) around `private`,
 * what the backend's save_private returned.  A running or paused VM whose
 * record names the file its monitor keeps the VMM's run state in
 * (%HVK_VM_RECORD_PATH_RUN_STATE) also gets `status`, its description
 * with the vCPU threads (hvk_hypervisor_describe()), so that a reader can
 * answer from the file while the record holds
 * (hvk_vm_store_describe_from_state()).
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_vm_store_save_hypervisor (const char     *store,
                              const char     *id,
                              HvkHypervisor  *hypervisor,
                              GError        **error)
{
  g_autoptr(HvkVmRecord) record = NULL;
  g_autoptr(JsonNode) private_state = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) description = NULL;
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

  record = hvk_hypervisor_save_record (hypervisor, id, config, &private_state);
  if (record == NULL)
    {
      /* A backend that saves nothing still leaves a file naming it. */
      record = hvk_vm_record_new (id, hvk_hypervisor_get_backend_name (hypervisor),
                                  hvk_hypervisor_get_state (hypervisor), config);
    }
  else if (has_witnesses (record))
    {
      g_autoptr(GHashTable) threads = hvk_hypervisor_get_thread_ids (hypervisor, NULL, NULL);

      if (threads != NULL)
        {
          /* Asking may have corrected the record (a vCPU unplug that
           * timed out has happened since): take it again. */
          g_clear_pointer (&record, hvk_vm_record_free);
          g_clear_pointer (&private_state, json_node_unref);
          record = hvk_hypervisor_save_record (hypervisor, id, config, &private_state);
          description = hvk_vm_describe (hypervisor, threads, record, private_state);
        }
    }
  root = hvk_vm_record_to_envelope (record, private_state);
  if (description != NULL)
    json_object_set_member (json_node_get_object (root), "status", g_steal_pointer (&description));
  return hvk_vm_store_write_state (store, id, root, error);
}

/* A member the typed reader refused: the error names the file. */
static gboolean
corrupt_member (const char  *path,
                GError     **error)
{
  g_prefix_error (error, "%s: corrupt state: ", path);
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
  g_autoptr(HvkVmRecord) record = NULL;
  g_autoptr(JsonNode) private_state = NULL;
  JsonObject *object;
  JsonObject *v1_state = NULL;
  const char *saved_id;
  const char *config_text;
  const char *backend;
  gint64 version;

  g_return_val_if_fail (state != NULL, NULL);
  g_return_val_if_fail (registry == NULL || HVK_IS_REGISTRY (registry), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!hvk_vm_id_validate (id, error))
    return NULL;
  store = hvk_vm_store_resolve (store, &default_store);
  path = hvk_vm_store_state_file (store, id);
  if (!JSON_NODE_HOLDS_OBJECT (state))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: corrupt state: not a JSON object", path);
      return NULL;
    }
  object = json_node_get_object (state);

  if (!hvk_json_get_int (object, "version", TRUE, G_MININT64, G_MAXINT64,
                         &version, error))
    {
      corrupt_member (path, error);
      return NULL;
    }
  /* Version 1: the previous release's layout, converted on load. */
  if (version != 1 && version != HVK_VM_STATE_VERSION)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: unsupported state version %" G_GINT64_FORMAT,
                   path, version);
      return NULL;
    }

  /* A state file copied or moved from another VM's dir would make this
   * VM act on (and remove) the other VM's files. */
  if (!hvk_json_get_string (object, "id", TRUE, &saved_id, error))
    {
      corrupt_member (path, error);
      return NULL;
    }
  if (g_strcmp0 (saved_id, id) != 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: corrupt state: it belongs to VM '%s', not '%s'",
                   path, saved_id, id);
      return NULL;
    }

  if (!hvk_json_get_string (object, "config", TRUE, &config_text, error)
      || !hvk_json_get_string (object, "backend", TRUE, &backend, error))
    {
      corrupt_member (path, error);
      return NULL;
    }
  /* Version 1 kept everything the backend saved in one object. */
  if (version == 1 && !hvk_json_get_object (object, "hypervisor", TRUE, &v1_state, error))
    {
      corrupt_member (path, error);
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
  if (version == 1)
    record = hvk_vm_record_from_v1 (v1_state, backend, config, registry, path,
                                    &private_state, error);
  else
    record = hvk_vm_record_from_envelope (object, config, registry, &private_state, error);
  if (record == NULL)
    {
      if (version == 1)
        g_prefix_error (error, "member 'hypervisor': ");
      corrupt_member (path, error);
      return NULL;
    }
  if (!hvk_hypervisor_load_record (hypervisor, record, private_state, error))
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  hvk_hypervisor_bind_store (hypervisor, store, id);

  return g_steal_pointer (&hypervisor);
}

/* ---- the hypervisor's saved state: its record and private part ---- */

/**
 * HvkHypervisorInterface::save_private:
 * @self: a #HvkHypervisor
 * @record: the envelope the core saves for every backend
 *
 * Puts into @record what the core saves for every backend (the VM's
 * state, its processes with their start times, paths, launch command,
 * cold-plugged devices: hvk_vm_record_add_process() …) and returns what
 * only this backend needs, its private part (libvirt's private-data
 * callbacks).
 *
 * Returns: (transfer full): a JSON object, the backend's private part
 */

/**
 * HvkHypervisorInterface::load_private:
 * @self: a #HvkHypervisor
 * @record: the envelope the core read and checked (id, state, types),
 *   with the configuration it built
 * @private_state: what save_private returned in another process
 * @error: return location for an error
 *
 * Takes the VM over, in another process, so that
 * hvk_hypervisor_get_state() and the operations continue where that
 * process left.  A failed load changes nothing.
 *
 * Returns: %TRUE on success
 */

/* The record of @self, filled by its save_private; NULL without one. */
HvkVmRecord *
hvk_hypervisor_save_record (HvkHypervisor  *self,
                            const char     *id,
                            HvkConfig      *config,
                            JsonNode      **private_state)
{
  g_autoptr(HvkVmRecord) record = NULL;

  *private_state = NULL;
  if (HVK_HYPERVISOR_GET_IFACE (self)->save_private == NULL)
    return NULL;
  record = hvk_vm_record_new (id, hvk_hypervisor_get_backend_name (self),
                              hvk_hypervisor_get_state (self), config);
  *private_state = HVK_HYPERVISOR_GET_IFACE (self)->save_private (self, record);
  if (*private_state == NULL)
    {
      *private_state = json_node_new (JSON_NODE_OBJECT);
      json_node_take_object (*private_state, json_object_new ());
    }
  return g_steal_pointer (&record);
}

gboolean
hvk_hypervisor_load_record (HvkHypervisor  *self,
                            HvkVmRecord    *record,
                            JsonNode       *private_state,
                            GError        **error)
{
  HvkHypervisorInterface *iface = HVK_HYPERVISOR_GET_IFACE (self);
  const char *id = hvk_vm_record_get_id (record);

  if (iface->load_private == NULL)
    return hvk_hypervisor_not_supported (self, "load_state", error);
  if (!iface->load_private (self, record, private_state, error))
    return FALSE;
  /* The loaded VM is known by its id, as a created one. */
  if (id != NULL && *id != '\0')
    hvk_hypervisor_set_vm_id (self, id);
  return TRUE;
}

static JsonNode *
save_state_view (HvkHypervisor *self,
                 gboolean       with_config)
{
  g_autoptr(HvkVmRecord) record = NULL;
  g_autoptr(JsonNode) private_state = NULL;
  const char *id;

  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), NULL);

  id = hvk_hypervisor_get_vm_id (self);
  record = hvk_hypervisor_save_record (self, id, hvk_hypervisor_get_config (self),
                                       &private_state);
  if (record == NULL)
    {
      g_autoptr(JsonObject) empty = json_object_new ();

      return json_node_init_object (json_node_alloc (), empty);
    }
  return hvk_vm_record_to_v1 (record, private_state,
                              with_config ? HVK_VM_RECORD_VIEW_FULL : HVK_VM_RECORD_VIEW_SUMMARY);
}

/**
 * hvk_hypervisor_save_state:
 * @self: a #HvkHypervisor
 *
 * Saves what another process needs to take over the VM, in the previous
 * release's single-object layout (the state file itself is written by
 * hvk_vm_store_save_hypervisor(), in the core's envelope).
 *
 * Returns: (transfer full): a JSON object from which
 *   hvk_hypervisor_load_state() in another process can take over the VM
 */
JsonNode *
hvk_hypervisor_save_state (HvkHypervisor *self)
{
  return save_state_view (self, TRUE);
}

/**
 * hvk_hypervisor_save_state_summary:
 * @self: a #HvkHypervisor
 *
 * The top-level scalars of what hvk_hypervisor_save_state() returns:
 * the VM's state, processes, paths and the backend's own scalar values,
 * what `hvkit status` lists.  Cheaper: neither the configuration nor the
 * launch command, the devices or the backend's nested values are
 * written out again.
 *
 * Returns: (transfer full): a JSON object
 */
JsonNode *
hvk_hypervisor_save_state_summary (HvkHypervisor *self)
{
  return save_state_view (self, FALSE);
}

/**
 * hvk_hypervisor_load_state:
 * @self: a #HvkHypervisor
 * @state: what save_state() returned (or a version 1 state file's
 *   `hypervisor` member)
 * @error: return location for an error
 *
 * Takes the VM over: the core reads its record from @state (the
 * configuration, with the registry that created @self), the backend's
 * load_private the rest.  Errors say `BACKEND: corrupt state:` and name
 * the member.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_load_state (HvkHypervisor *self,
                           JsonNode      *state,
                           GError       **error)
{
  g_autoptr(HvkVmRecord) record = NULL;
  g_autoptr(JsonNode) private_state = NULL;
  g_autofree char *source = NULL;
  const char *backend;
  const char *id = NULL;

  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  backend = hvk_hypervisor_get_backend_name (self);
  if (HVK_HYPERVISOR_GET_IFACE (self)->load_private == NULL)
    return hvk_hypervisor_not_supported (self, "load_state", error);
  if (!JSON_NODE_HOLDS_OBJECT (state))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: corrupt state: not a JSON object", backend);
      return FALSE;
    }
  if (!hvk_json_get_string (json_node_get_object (state), "id", FALSE, &id, NULL) || id == NULL)
    id = "";
  source = g_strdup_printf ("state of VM '%s'", id);
  record = hvk_vm_record_from_v1 (json_node_get_object (state), backend, NULL,
                                  hvk_hypervisor_get_registry (self), source,
                                  &private_state, error);
  if (record == NULL)
    {
      g_prefix_error (error, "%s: corrupt state: ", backend);
      return FALSE;
    }
  return hvk_hypervisor_load_record (self, record, private_state, error);
}
