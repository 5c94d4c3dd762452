/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "hvk-hypervisor-private.h"
#include "hvk-vm-record-private.h"
#include "hvk-vm-describe-private.h"

/* What `hvkit status` shows of a VM, and the copy of it the state file
 * keeps (member "status") so that a reader can answer without loading
 * the backend.  libvirt answers `virsh domstate` from libvirtd's memory;
 * hvkit has no daemon, so the record is the memory, and the processes it
 * names are the witnesses that it still holds: the VMM, its monitor
 * (which keeps the VMM's own word for its run state in a file) and the
 * vCPU threads.  When one of them disagrees, the reader asks the
 * backend, which says what happened. */

/**
 * hvk_vm_store_read_run_state:
 * @path: the file hvkit-monitor keeps the VMM's run state in (the
 *   record's path %HVK_VM_RECORD_PATH_RUN_STATE)
 *
 * Reads the VMM's own word for its run state (QEMU's `query-status`:
 * `running`, `paused`, `guest-panicked`…), which hvkit-monitor writes
 * followed by a newline while it is connected to the VMM, and removes
 * when the connection ends.  The file is not followed if it is a
 * symlink.
 *
 * Returns: (transfer full) (nullable): the word, or %NULL when there is
 *   no such file or it does not hold one word of letters, digits, `-`
 *   and `_` and a newline
 */
char *
hvk_vm_store_read_run_state (const char *path)
{
  char buf[64];
  ssize_t n;
  int fd;

  if (path == NULL)
    return NULL;
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return NULL;
  n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 1 || buf[n - 1] != '\n')
    return NULL;
  buf[n - 1] = '\0';
  for (ssize_t i = 0; i < n - 1; i++)
    if (!g_ascii_isalnum (buf[i]) && buf[i] != '-' && buf[i] != '_')
      return NULL;
  return g_strdup (buf);
}

static int
compare_uint (gconstpointer a,
              gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;

  return x < y ? -1 : x > y;
}

/* "vcpu_threads": [{"index", "tid", "start_time"}], by vCPU index. */
static void
add_threads (JsonBuilder *builder,
             GHashTable  *threads)
{
  g_autoptr(GArray) indexes = g_array_new (FALSE, FALSE, sizeof (guint));
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, threads);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      guint index = GPOINTER_TO_UINT (key);

      g_array_append_val (indexes, index);
    }
  g_array_sort (indexes, compare_uint);

  json_builder_set_member_name (builder, "vcpu_threads");
  json_builder_begin_array (builder);
  for (guint i = 0; i < indexes->len; i++)
    {
      guint index = g_array_index (indexes, guint, i);
      guint tid = GPOINTER_TO_UINT (g_hash_table_lookup (threads, GUINT_TO_POINTER (index)));

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "index");
      json_builder_add_int_value (builder, index);
      json_builder_set_member_name (builder, "tid");
      json_builder_add_int_value (builder, tid);
      json_builder_set_member_name (builder, "start_time");
      json_builder_add_int_value (builder, (gint64) hvk_process_get_start_time ((int) tid));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

/* The description of @self: @threads (nullable) what get_thread_ids
 * answered, @record and @private_state its record as save_record made
 * it, after the threads were asked (the backend may correct its record
 * then). */
JsonNode *
hvk_vm_describe (HvkHypervisor *self,
                 GHashTable    *threads,
                 HvkVmRecord   *record,
                 JsonNode      *private_state)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GArray) pids = hvk_hypervisor_get_pids (self);
  g_autoptr(GPtrArray) devices = hvk_hypervisor_get_hotplugged_devices (self);
  g_autofree char *protocol = NULL;
  g_autofree char *url = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "backend");
  json_builder_add_string_value (builder, hvk_hypervisor_get_backend_name (self));
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, hvk_vm_state_to_string (hvk_hypervisor_get_state (self)));

  json_builder_set_member_name (builder, "pids");
  json_builder_begin_array (builder);
  for (guint i = 0; pids != NULL && i < pids->len; i++)
    json_builder_add_int_value (builder, g_array_index (pids, int, i));
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "console");
  if (hvk_hypervisor_get_vm_console (self, &protocol, &url, NULL)
      && url != NULL && *url != '\0')
    json_builder_add_string_value (builder, url);
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "hotplugged");
  json_builder_begin_array (builder);
  for (guint i = 0; i < devices->len; i++)
    json_builder_add_value (builder, hvk_device_to_json (g_ptr_array_index (devices, i)));
  json_builder_end_array (builder);

  if (threads != NULL)
    add_threads (builder, threads);

  json_builder_set_member_name (builder, "summary");
  if (record != NULL)
    json_builder_add_value (builder, hvk_vm_record_to_v1 (record, private_state,
                                                          HVK_VM_RECORD_VIEW_SUMMARY));
  else
    {
      json_builder_begin_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/**
 * hvk_hypervisor_describe:
 * @self: a created VM
 * @with_threads: also ask the backend for the vCPU threads
 *   (hvk_hypervisor_get_thread_ids(), which may ask the VMM)
 *
 * Describes the VM as `hvkit status` shows it: a JSON object with
 * `backend`, `state`, `pids` (hvk_hypervisor_get_pids()), `console`
 * (the URL of hvk_hypervisor_get_vm_console(), or null), `hotplugged`
 * (hvk_device_to_json() of each hot-plugged device), with @with_threads
 * and when the backend can tell `vcpu_threads` (`index`, `tid` and
 * `start_time` of each vCPU thread), and `summary` (what
 * hvk_hypervisor_save_state_summary() returns).
 *
 * hvk_vm_store_save_hypervisor() keeps this description in the state
 * file when the record names witnesses for it (see
 * hvk_vm_store_describe_from_state()).
 *
 * Returns: (transfer full): a JSON object
 */
JsonNode *
hvk_hypervisor_describe (HvkHypervisor *self,
                         gboolean       with_threads)
{
  g_autoptr(GHashTable) threads = NULL;
  g_autoptr(HvkVmRecord) record = NULL;
  g_autoptr(JsonNode) private_state = NULL;

  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), NULL);

  if (with_threads)
    threads = hvk_hypervisor_get_thread_ids (self, NULL, NULL);
  record = hvk_hypervisor_save_record (self, hvk_hypervisor_get_vm_id (self),
                                       hvk_hypervisor_get_config (self), &private_state);
  return hvk_vm_describe (self, threads, record, private_state);
}

/* Whether the process (or thread) @pid that started at @start_time
 * still runs; a record without the start time cannot tell. */
static gboolean
witness_runs (JsonObject *object,
              const char *pid_member)
{
  gint64 pid, start_time;

  if (!hvk_json_get_int (object, pid_member, TRUE, 0, G_MAXINT, &pid, NULL)
      || !hvk_json_get_int (object, "start_time", TRUE, 0, G_MAXINT64, &start_time, NULL))
    return FALSE;
  if (pid == 0)
    return TRUE;    /* a role the VM does not have */
  return start_time > 0 && hvk_process_is_alive ((int) pid, (guint64) start_time);
}

static gboolean
all_witnesses_run (JsonArray  *array,
                         const char *pid_member)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_OBJECT (node)
          || !witness_runs (json_node_get_object (node), pid_member))
        return FALSE;
    }
  return TRUE;
}

/**
 * hvk_vm_store_describe_from_state:
 * @state: a state file as hvk_vm_store_read_state() returned it
 *
 * The VM's description (see hvk_hypervisor_describe()) as its state file
 * keeps it, when the record still holds without asking the backend:
 * the file is of this version and keeps a description with the vCPU
 * threads; the recorded state is `running` or `paused`; every process
 * the record names still runs (same pid, same start time); the VMM's run
 * state, as its monitor keeps it in the record's path
 * %HVK_VM_RECORD_PATH_RUN_STATE (hvk_vm_store_read_run_state()), is the
 * recorded state's name; and every recorded vCPU thread still runs.
 *
 * Otherwise (an older file, a backend without such a monitor, a VMM that
 * ended, paused behind the record's back, panicked, or whose vCPUs
 * changed since) it returns %NULL: ask the backend
 * (hvk_vm_store_load_hypervisor_from_state(), hvk_hypervisor_check()).
 *
 * Returns: (transfer full) (nullable): the description, or %NULL
 */
JsonNode *
hvk_vm_store_describe_from_state (JsonNode *state)
{
  JsonObject *object, *description, *paths;
  JsonArray *processes, *threads;
  const char *vm_state, *described_state, *run_state_file;
  g_autofree char *run_state = NULL;
  gint64 version;

  g_return_val_if_fail (state != NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (state))
    return NULL;
  object = json_node_get_object (state);
  if (!hvk_json_get_int (object, "version", TRUE, G_MININT64, G_MAXINT64, &version, NULL)
      || version != HVK_VM_STATE_VERSION
      || !hvk_json_get_string (object, "state", TRUE, &vm_state, NULL)
      || !hvk_json_get_array (object, "processes", TRUE, &processes, NULL)
      || !hvk_json_get_object (object, "paths", TRUE, &paths, NULL)
      || !hvk_json_get_string (paths, HVK_VM_RECORD_PATH_RUN_STATE, TRUE, &run_state_file, NULL)
      || !hvk_json_get_object (object, "status", TRUE, &description, NULL)
      || !hvk_json_get_string (description, "state", TRUE, &described_state, NULL)
      || !hvk_json_get_array (description, "vcpu_threads", TRUE, &threads, NULL))
    return NULL;
  if ((!g_str_equal (vm_state, "running") && !g_str_equal (vm_state, "paused"))
      || !g_str_equal (vm_state, described_state)
      || json_array_get_length (threads) == 0)
    return NULL;

  if (!all_witnesses_run (processes, "pid"))
    return NULL;
  run_state = hvk_vm_store_read_run_state (run_state_file);
  if (run_state == NULL || !g_str_equal (run_state, vm_state))
    return NULL;
  if (!all_witnesses_run (threads, "tid"))
    return NULL;

  return json_node_init_object (json_node_alloc (), description);
}
