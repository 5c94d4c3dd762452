/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <glib/gstdio.h>
#include <string.h>

#include "hvkit-tool.h"

/* Steps the VM commands share: load a config, take over a saved VM under
 * its lock, start a VM leaving nothing behind on failure, describe one. */

HvkConfig *
hvkit_load_config (HvkitTool  *tool,
                   const char *path,
                   int        *exit_code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = NULL;

  if (path == NULL)
    {
      *exit_code = hvkit_fail_printf (HVKIT_EXIT_USAGE,
                                      "no configuration given (use -c FILE)");
      return NULL;
    }

  config = hvk_config_new_from_file (path, hvkit_tool_get_registry (tool),
                                     &error);
  if (config == NULL)
    {
      /* A missing or unreadable file is a bad command line too. */
      *exit_code = hvkit_fail (error, HVKIT_EXIT_USAGE);
      return NULL;
    }
  return g_steal_pointer (&config);
}

/* The VM was stopped by the process that held it between our look and
 * our lock, and taking the lock created its directory again: remove it
 * if it holds nothing but the lock file (we hold the lock, so no hvkit
 * process is inside). */
static void
remove_relocked_dir (HvkitTool  *tool,
                     const char *id)
{
  g_autofree char *dir = g_build_filename (tool->state_dir, id, NULL);
  g_autoptr(GDir) entries = g_dir_open (dir, 0, NULL);
  g_autoptr(GError) error = NULL;
  const char *name;

  while (entries != NULL && (name = g_dir_read_name (entries)) != NULL)
    if (!g_str_equal (name, ".lock"))
      return;
  if (entries != NULL && !hvk_vm_store_remove_dir (tool->state_dir, id, &error))
    hvkit_warn ("%s", error->message);
}

/* Validates @id, checks the VM exists, takes its lock without waiting if
 * @lock is not %NULL and loads it, parsing its state file once; @state
 * (nullable) gets the parsed file.  With @record_error, a record that
 * cannot be loaded is not reported: the error goes there, and the lock
 * (if any was taken) to @lock. */
static HvkHypervisor *
open_vm (HvkitTool   *tool,
         const char  *id,
         HvkVmLock  **lock,
         JsonNode   **state,
         GError     **record_error,
         int         *exit_code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(HvkVmLock) vm_lock = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autofree char *state_file = NULL;
  GStatBuf buf;

  if (!hvk_vm_id_validate (id, &error))
    {
      *exit_code = hvkit_fail (error, HVKIT_EXIT_USAGE);
      return NULL;
    }

  /* Before locking: the lock would create the VM's directory.  A stat is
   * enough here; the file is read under the lock, once. */
  state_file = g_build_filename (tool->state_dir, id, HVK_VM_STATE_FILE, NULL);
  if (g_stat (state_file, &buf) != 0 && record_error == NULL)
    {
      root = hvk_vm_store_read_state (tool->state_dir, id, &error);
      if (root == NULL)
        {
          *exit_code = hvkit_fail (error, HVKIT_EXIT_FAILED);
          return NULL;
        }
      g_clear_pointer (&root, json_node_unref);
    }

  if (lock != NULL)
    {
      vm_lock = hvk_vm_store_lock (tool->state_dir, id, FALSE, &error);
      if (vm_lock == NULL)
        {
          *exit_code = hvkit_fail (error, HVKIT_EXIT_FAILED);
          return NULL;
        }
    }

  hvk_debug_kill_point ("tool:locked");
  /* Read under the lock, so no other process changes it meanwhile. */
  root = hvk_vm_store_read_state (tool->state_dir, id, &error);
  if (root != NULL)
    hypervisor = hvk_vm_store_load_hypervisor_from_state (tool->state_dir, id, root,
                                                          hvkit_tool_get_registry (tool),
                                                          &error);
  if (hypervisor == NULL)
    {
      if (vm_lock != NULL && g_error_matches (error, HVK_ERROR, HVK_ERROR_NOT_FOUND))
        remove_relocked_dir (tool, id);
      if (record_error != NULL)
        {
          g_propagate_error (record_error, g_steal_pointer (&error));
          if (lock != NULL)
            *lock = g_steal_pointer (&vm_lock);
          *exit_code = HVKIT_EXIT_FAILED;
          return NULL;
        }
      *exit_code = hvkit_fail (error, HVKIT_EXIT_FAILED);
      return NULL;
    }

  if (lock != NULL)
    *lock = g_steal_pointer (&vm_lock);
  if (state != NULL)
    *state = g_steal_pointer (&root);
  return g_steal_pointer (&hypervisor);
}

HvkHypervisor *
hvkit_open_vm (HvkitTool  *tool,
               const char *id,
               HvkVmLock **lock,
               int        *exit_code)
{
  return open_vm (tool, id, lock, NULL, NULL, exit_code);
}

/* hvkit_open_vm() without the lock, from the state file the caller has
 * already read (hvk_vm_store_read_state()): status reads it once. */
HvkHypervisor *
hvkit_open_vm_from_state (HvkitTool  *tool,
                          const char *id,
                          JsonNode   *state,
                          int        *exit_code)
{
  g_autoptr(GError) error = NULL;
  HvkHypervisor *hypervisor =
    hvk_vm_store_load_hypervisor_from_state (tool->state_dir, id, state,
                                             hvkit_tool_get_registry (tool), &error);

  if (hypervisor == NULL)
    *exit_code = hvkit_fail (error, HVKIT_EXIT_FAILED);
  return hypervisor;
}

/* hvkit_open_vm() with the lock, for stop: a record that cannot be
 * loaded is not the end (see hvkit_stop_unrecorded()), so its error goes
 * to @record_error with the lock held. */
HvkHypervisor *
hvkit_open_vm_to_stop (HvkitTool  *tool,
                       const char *id,
                       HvkVmLock **lock,
                       GError    **record_error,
                       int        *exit_code)
{
  return open_vm (tool, id, lock, NULL, record_error, exit_code);
}

int
hvkit_fail_keeping_record (HvkitTool     *tool,
                           const char    *id,
                           HvkHypervisor *hypervisor,
                           const GError  *error)
{
  hvk_vm_store_save_hypervisor (tool->state_dir, id, hypervisor, NULL);
  return hvkit_fail (error, HVKIT_EXIT_FAILED);
}

/* Stops VM @id whose record cannot be read (corrupt, or never written
 * whole): kills every process that names the VM's directory (its VMM,
 * monitor, virtiofsd: their pids and start times are in the record we
 * cannot trust, their command lines name the directory), then removes the
 * directory.  The caller holds the VM's lock.  Says what it could not
 * read and what it did. */
int
hvkit_stop_unrecorded (HvkitTool    *tool,
                       const char   *id,
                       const GError *record_error)
{
  g_autofree char *dir = g_build_filename (tool->state_dir, id, NULL);
  g_autoptr(GArray) killed = NULL;
  g_autoptr(GString) pids = g_string_new (NULL);
  g_autoptr(GError) error = NULL;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return hvkit_fail (record_error, HVKIT_EXIT_FAILED);

  hvkit_warn ("%s", record_error->message);
  killed = hvk_process_kill_referencing (dir, 3000);
  for (guint i = 0; i < killed->len; i++)
    g_string_append_printf (pids, "%s%d", i > 0 ? ", " : "", g_array_index (killed, int, i));
  /* Its cgroup, where the default configuration puts it (the record that
   * would say otherwise is what could not be read). */
  {
    g_autoptr(HvkCgroup) cgroup = hvk_cgroup_lookup ("/hvkit.slice", id, HVK_CGROUP_FLAGS_NONE);

    if (cgroup != NULL && !hvk_cgroup_remove (cgroup, 3000, &error))
      {
        hvkit_warn ("%s", error->message);
        g_clear_error (&error);
      }
  }
  if (!hvk_vm_store_remove_dir (tool->state_dir, id, &error))
    return hvkit_fail (error, HVKIT_EXIT_FAILED);
  g_print ("VM '%s' stopped without its record: %s%s%s and its directory removed\n", id,
           killed->len > 0 ? "killed pid" : "no process was left",
           killed->len > 1 ? "s " : killed->len == 1 ? " " : "", pids->str);
  return HVKIT_EXIT_OK;
}

/* hvkit_open_vm() with the lock, for a command that changes the VM: the
 * state file is written back first, as it was read, so that a state dir
 * that cannot be written (full, read-only) stops the command before the
 * VM changes behind a stale state file.  (stop does without: it must work
 * on a full disk.) */
HvkHypervisor *
hvkit_open_vm_to_change (HvkitTool  *tool,
                         const char *id,
                         HvkVmLock **lock,
                         int        *exit_code)
{
  g_autoptr(JsonNode) state = NULL;
  g_autoptr(HvkHypervisor) hypervisor = open_vm (tool, id, lock, &state, NULL, exit_code);
  g_autoptr(GError) error = NULL;

  if (hypervisor == NULL)
    return NULL;
  hvk_debug_kill_point ("tool:rewrite");
  if (!hvk_vm_store_write_state (tool->state_dir, id, state, &error))
    {
      g_prefix_error (&error, "VM '%s' left as it is: ", id);
      *exit_code = hvkit_fail (error, HVKIT_EXIT_FAILED);
      g_clear_pointer (lock, hvk_vm_lock_release);
      return NULL;
    }
  return g_steal_pointer (&hypervisor);
}

/* Stops what a failed start left and removes the VM's directory. */
static void
discard_vm (HvkitTool     *tool,
            const char    *id,
            HvkHypervisor *hypervisor)
{
  g_autoptr(GError) error = NULL;

  if (hypervisor != NULL)
    {
      HvkVmState state = hvk_hypervisor_get_state (hypervisor);

      if (state != HVK_VM_STATE_NONE && state != HVK_VM_STATE_STOPPED
          && !hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, &error))
        {
          hvkit_warn ("cannot stop VM '%s': %s", id, error->message);
          g_clear_error (&error);
        }
      if (!hvk_hypervisor_cleanup (hypervisor, &error))
        {
          hvkit_warn ("cannot clean up VM '%s': %s", id, error->message);
          g_clear_error (&error);
        }
    }
  if (!hvk_vm_store_remove_dir (tool->state_dir, id, &error))
    hvkit_warn ("%s", error->message);
}

/* Creates and starts VM @id of @config in the state dir and saves its
 * state.  The caller holds the VM's lock.  On failure nothing is left. */
HvkHypervisor *
hvkit_start_vm (HvkitTool  *tool,
                HvkConfig  *config,
                const char *id,
                int        *exit_code)
{
  return hvkit_restore_vm (tool, config, id, NULL, FALSE, NULL, exit_code);
}

/* hvkit_start_vm(), or with @restore_dir the VM saved there restored
 * (@cold_devices cold-plugged first, paused with @paused). */
HvkHypervisor *
hvkit_restore_vm (HvkitTool  *tool,
                  HvkConfig  *config,
                  const char *id,
                  const char *restore_dir,
                  gboolean    paused,
                  GPtrArray  *cold_devices,
                  int        *exit_code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autofree char *state_file = g_build_filename (tool->state_dir, id,
                                                  HVK_VM_STATE_FILE, NULL);

  if (g_file_test (state_file, G_FILE_TEST_EXISTS))
    {
      *exit_code = hvkit_fail_printf (HVKIT_EXIT_FAILED,
                                      "VM '%s' already exists in %s", id,
                                      tool->state_dir);
      return NULL;
    }

  hvk_config_set_vm_store_path (config, tool->state_dir);
  hvk_debug_kill_point ("tool:create");
  hypervisor = hvk_registry_create_hypervisor (hvkit_tool_get_registry (tool),
                                               config, &error);
  if (hypervisor == NULL)
    {
      /* An unknown backend is a configuration error. */
      *exit_code = hvkit_fail (error, HVKIT_EXIT_USAGE);
      discard_vm (tool, id, NULL);
      return NULL;
    }

  if (!hvk_hypervisor_create_vm (hypervisor, id, config, &error))
    {
      *exit_code = hvkit_fail (error, hvkit_exit_code_for (error));
      discard_vm (tool, id, hypervisor);
      return NULL;
    }

  for (guint i = 0; cold_devices != NULL && i < cold_devices->len; i++)
    if (!hvk_hypervisor_add_device (hypervisor, cold_devices->pdata[i], &error))
      {
        *exit_code = hvkit_fail (error, HVKIT_EXIT_FAILED);
        discard_vm (tool, id, hypervisor);
        return NULL;
      }

  /* The backend records the VM while it starts (state "starting"), so
   * that a process killed meanwhile leaves something `stop` acts on. */
  hvk_hypervisor_bind_store (hypervisor, tool->state_dir, id);
  if (!(restore_dir != NULL
        ? hvk_hypervisor_restore_from_dir (hypervisor, restore_dir, paused, 0, NULL, &error)
        : hvk_hypervisor_start_vm (hypervisor, 0, NULL, &error))
      || !hvk_vm_store_save_hypervisor (tool->state_dir, id, hypervisor,
                                        &error))
    {
      *exit_code = hvkit_fail (error, HVKIT_EXIT_FAILED);
      discard_vm (tool, id, hypervisor);
      return NULL;
    }

  return g_steal_pointer (&hypervisor);
}

int
hvkit_save_vm (HvkitTool     *tool,
               const char    *id,
               HvkHypervisor *hypervisor)
{
  g_autoptr(GError) error = NULL;

  hvk_debug_kill_point ("tool:save");
  if (!hvk_vm_store_save_hypervisor (tool->state_dir, id, hypervisor, &error))
    return hvkit_fail (error, HVKIT_EXIT_FAILED);
  hvk_debug_kill_point ("tool:saved");
  return HVKIT_EXIT_OK;
}

/* The JSON of `hvkit status` from a VM's description (what
 * hvk_hypervisor_describe() returns, or the state file's copy of it):
 * id, backend, state, pids, console, the error if any, hotplugged, the
 * number of vCPU threads when the description has them and there is no
 * error, then the backend's own top-level scalars (QEMU's qmp_socket …).
 * @state (nullable) replaces the description's state: a check said
 * otherwise. */
JsonNode *
hvkit_vm_status_from_description (const char *id,
                                  JsonNode   *description,
                                  const char *state,
                                  const char *error)
{
  static const char * const first[] = {
    "id", "backend", "state", "pids", "console", "error", "hotplugged", "vcpu_threads",
  };
  g_autoptr(JsonObject) status = json_object_new ();
  JsonObject *object = json_node_get_object (description);
  JsonNode *threads = json_object_get_member (object, "vcpu_threads");
  JsonNode *summary = json_object_get_member (object, "summary");

  json_object_set_string_member (status, "id", id);
  json_object_set_member (status, "backend",
                          json_node_copy (json_object_get_member (object, "backend")));
  if (state != NULL)
    json_object_set_string_member (status, "state", state);
  else
    json_object_set_member (status, "state", json_node_copy (json_object_get_member (object, "state")));
  json_object_set_member (status, "pids", json_node_copy (json_object_get_member (object, "pids")));
  json_object_set_member (status, "console",
                          json_node_copy (json_object_get_member (object, "console")));
  if (error != NULL)
    json_object_set_string_member (status, "error", error);
  json_object_set_member (status, "hotplugged",
                          json_node_copy (json_object_get_member (object, "hotplugged")));
  /* The vCPU threads the VMM has now, not what a record says: an unplug
   * that timed out may have happened after all. */
  if (error == NULL && threads != NULL && JSON_NODE_HOLDS_ARRAY (threads))
    json_object_set_int_member (status, "vcpu_threads",
                                json_array_get_length (json_node_get_array (threads)));

  if (summary != NULL && JSON_NODE_HOLDS_OBJECT (summary))
    {
      JsonObject *scalars = json_node_get_object (summary);
      g_autoptr(GList) members = json_object_get_members (scalars);

      for (GList *l = members; l != NULL; l = l->next)
        {
          JsonNode *value = json_object_get_member (scalars, l->data);
          gboolean taken = FALSE;
          GType type;

          for (guint i = 0; i < G_N_ELEMENTS (first) && !taken; i++)
            taken = g_str_equal (l->data, first[i]);
          if (taken || !JSON_NODE_HOLDS_VALUE (value))
            continue;
          type = json_node_get_value_type (value);
          if (type != G_TYPE_STRING && type != G_TYPE_INT64
              && type != G_TYPE_DOUBLE)
            continue;
          /* Multi-line blobs (a saved configuration) are not status. */
          if (type == G_TYPE_STRING
              && strchr (json_node_get_string (value), '\n') != NULL)
            continue;
          json_object_set_member (status, l->data, json_node_copy (value));
        }
    }
  return json_node_init_object (json_node_alloc (), status);
}

/* The JSON of `hvkit status` as the backend tells it: with @check, the
 * backend's check first (a VMM that ended makes the state "stopped",
 * with the error), then the VM's description, with the vCPU threads when
 * the check passed (asking lets the backend correct its record: QEMU's
 * "vcpus" follows). */
JsonNode *
hvkit_vm_status (HvkitTool     *tool,
                 const char    *id,
                 HvkHypervisor *hypervisor,
                 gboolean       check)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) description = NULL;
  const char *state;

  state = hvk_vm_state_to_string (hvk_hypervisor_get_state (hypervisor));
  if (check && !hvk_hypervisor_check (hypervisor, &error))
    state = hvk_vm_state_to_string (HVK_VM_STATE_STOPPED);
  description = hvk_hypervisor_describe (hypervisor, check && error == NULL);
  return hvkit_vm_status_from_description (id, description, state,
                                           error != NULL ? error->message : NULL);
}
