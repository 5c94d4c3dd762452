/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

#include "hvk-vm-record-private.h"

/**
 * SECTION:hvk-vm-record
 * @short_description: the core's part of a VM's saved state
 *
 * A VM's state file is an envelope the core writes and reads: id,
 * backend, state, configuration, cold-plugged devices, launch command,
 * processes with their start times and paths.  A backend reports its
 * part of these in save_private and reads them back in load_private; its
 * own data (layout, hot-plug records …) is the envelope's `private`
 * member, which only it reads (libvirt's private-data callbacks).
 */

typedef struct {
  char    *role;
  int      pid;
  guint64  start_time;
} Process;

typedef struct {
  char *name;
  char *path;
} Path;

struct _HvkVmRecord
{
  char       *id;
  char       *backend;
  HvkVmState  state;
  HvkConfig  *config;
  GPtrArray  *cold_devices;   /* (element-type HvkDevice) */
  gboolean    has_launch;
  GStrv       argv;
  char       *kernel_cmdline;
  char       *uuid;
  GArray     *processes;      /* of Process, in the order reported */
  GArray     *paths;          /* of Path, in the order reported */
};

static void
process_clear (gpointer data)
{
  g_free (((Process *) data)->role);
}

static void
path_clear (gpointer data)
{
  g_free (((Path *) data)->name);
  g_free (((Path *) data)->path);
}

HvkVmRecord *
hvk_vm_record_new (const char *id,
                   const char *backend,
                   HvkVmState  state,
                   HvkConfig  *config)
{
  HvkVmRecord *record = g_new0 (HvkVmRecord, 1);

  record->id = g_strdup (id);
  record->backend = g_strdup (backend);
  record->state = state;
  record->config = config ? g_object_ref (config) : NULL;
  record->cold_devices = g_ptr_array_new_with_free_func (g_object_unref);
  record->processes = g_array_new (FALSE, TRUE, sizeof (Process));
  g_array_set_clear_func (record->processes, process_clear);
  record->paths = g_array_new (FALSE, TRUE, sizeof (Path));
  g_array_set_clear_func (record->paths, path_clear);
  return record;
}

void
hvk_vm_record_free (HvkVmRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->id);
  g_free (record->backend);
  g_clear_object (&record->config);
  g_ptr_array_unref (record->cold_devices);
  g_strfreev (record->argv);
  g_free (record->kernel_cmdline);
  g_free (record->uuid);
  g_array_unref (record->processes);
  g_array_unref (record->paths);
  g_free (record);
}

/**
 * hvk_vm_record_set_state:
 * @record: a #HvkVmRecord
 * @state: the backend's own lifecycle state
 *
 * Saves @state rather than what hvk_hypervisor_get_state() answers (which
 * says stopped for a VM whose VMM died): the backend that loads the
 * record sees that its VMM went away.
 */
void
hvk_vm_record_set_state (HvkVmRecord *record,
                         HvkVmState   state)
{
  g_return_if_fail (record != NULL);

  record->state = state;
}

/**
 * hvk_vm_record_add_process:
 * @record: a #HvkVmRecord
 * @role: what the process is (`qemu`, `monitor`, `virtiofsd` …), unique
 *   in @record
 * @pid: its pid, 0 for none
 * @start_time: its start time (hvk_process_get_start_time()), 0 for none
 *
 * Records a process of the VM, so that another process can tell it from
 * a later one that reused the pid.
 */
void
hvk_vm_record_add_process (HvkVmRecord *record,
                           const char  *role,
                           int          pid,
                           guint64      start_time)
{
  Process process = { g_strdup (role), pid, start_time };

  g_return_if_fail (record != NULL);
  g_return_if_fail (role != NULL);

  g_array_append_val (record->processes, process);
}

/**
 * hvk_vm_record_add_path:
 * @record: a #HvkVmRecord
 * @name: what the path is (`vm_dir`, `qmp_socket` …), unique in @record
 * @path: (nullable): the path, %NULL for none
 *
 * Records a file or directory of the VM.
 */
void
hvk_vm_record_add_path (HvkVmRecord *record,
                        const char  *name,
                        const char  *path)
{
  Path entry = { g_strdup (name), g_strdup (path) };

  g_return_if_fail (record != NULL);
  g_return_if_fail (name != NULL);

  g_array_append_val (record->paths, entry);
}

/**
 * hvk_vm_record_add_cold_device:
 * @record: a #HvkVmRecord
 * @device: a device cold-plugged with hvk_hypervisor_add_device()
 *
 * Records a device the VM was started with besides its configuration's.
 */
void
hvk_vm_record_add_cold_device (HvkVmRecord *record,
                               HvkDevice   *device)
{
  g_return_if_fail (record != NULL);
  g_return_if_fail (HVK_IS_DEVICE (device));

  g_ptr_array_add (record->cold_devices, g_object_ref (device));
}

/**
 * hvk_vm_record_set_launch:
 * @record: a #HvkVmRecord
 * @argv: (nullable) (array zero-terminated=1): the command line launched
 * @kernel_cmdline: (nullable): the guest kernel's command line
 * @uuid: (nullable): the VM's UUID
 *
 * Records how the VMM was (or would be) launched.
 */
void
hvk_vm_record_set_launch (HvkVmRecord        *record,
                          const char * const *argv,
                          const char         *kernel_cmdline,
                          const char         *uuid)
{
  g_return_if_fail (record != NULL);

  record->has_launch = TRUE;
  g_strfreev (record->argv);
  record->argv = g_strdupv ((GStrv) argv);
  g_free (record->kernel_cmdline);
  record->kernel_cmdline = g_strdup (kernel_cmdline);
  g_free (record->uuid);
  record->uuid = g_strdup (uuid);
}

/**
 * hvk_vm_record_get_id:
 * @record: a #HvkVmRecord
 *
 * Gets the VM id the record was saved for.
 *
 * Returns: (nullable): the VM's id (%NULL or empty before create_vm)
 */
const char *
hvk_vm_record_get_id (HvkVmRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);

  return record->id;
}

/**
 * hvk_vm_record_get_state:
 * @record: a #HvkVmRecord
 *
 * Gets the VM state the record was saved in.
 *
 * Returns: the state saved
 */
HvkVmState
hvk_vm_record_get_state (HvkVmRecord *record)
{
  g_return_val_if_fail (record != NULL, HVK_VM_STATE_NONE);

  return record->state;
}

/**
 * hvk_vm_record_get_config:
 * @record: a #HvkVmRecord
 *
 * Gets the VM configuration the core rebuilt from the record.
 *
 * Returns: (transfer none) (nullable): the configuration, rebuilt from the
 *   saved text with its state dir set; %NULL before create_vm
 */
HvkConfig *
hvk_vm_record_get_config (HvkVmRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);

  return record->config;
}

/**
 * hvk_vm_record_get_process:
 * @record: a #HvkVmRecord
 * @role: the role given to hvk_vm_record_add_process()
 * @pid: (out) (optional): its pid, 0 when absent
 * @start_time: (out) (optional): its start time, 0 when absent
 *
 * Looks up a process a backend recorded under @role.
 *
 * Returns: whether @record has a process of @role
 */
gboolean
hvk_vm_record_get_process (HvkVmRecord *record,
                           const char  *role,
                           int         *pid,
                           guint64     *start_time)
{
  g_return_val_if_fail (record != NULL, FALSE);
  g_return_val_if_fail (role != NULL, FALSE);

  if (pid != NULL)
    *pid = 0;
  if (start_time != NULL)
    *start_time = 0;
  for (guint i = 0; i < record->processes->len; i++)
    {
      Process *process = &g_array_index (record->processes, Process, i);

      if (g_str_equal (process->role, role))
        {
          if (pid != NULL)
            *pid = process->pid;
          if (start_time != NULL)
            *start_time = process->start_time;
          return TRUE;
        }
    }
  return FALSE;
}

/**
 * hvk_vm_record_get_path:
 * @record: a #HvkVmRecord
 * @name: the name given to hvk_vm_record_add_path()
 *
 * Looks up a path a backend recorded under @name.
 *
 * Returns: (nullable): the path, %NULL when absent
 */
const char *
hvk_vm_record_get_path (HvkVmRecord *record,
                        const char  *name)
{
  g_return_val_if_fail (record != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < record->paths->len; i++)
    {
      Path *entry = &g_array_index (record->paths, Path, i);

      if (g_str_equal (entry->name, name))
        return entry->path;
    }
  return NULL;
}

/**
 * hvk_vm_record_get_cold_devices:
 * @record: a #HvkVmRecord
 *
 * Gets the cold-plugged devices the record holds.
 *
 * Returns: (transfer none) (element-type HvkDevice): the cold-plugged
 *   devices, oldest first (never %NULL)
 */
GPtrArray *
hvk_vm_record_get_cold_devices (HvkVmRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);

  return record->cold_devices;
}

/**
 * hvk_vm_record_get_argv:
 * @record: a #HvkVmRecord
 *
 * Gets the launch command line the record holds.
 *
 * Returns: (nullable) (array zero-terminated=1): the launch command, %NULL
 *   when none was saved
 */
const char * const *
hvk_vm_record_get_argv (HvkVmRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);

  return (const char * const *) record->argv;
}

/**
 * hvk_vm_record_get_kernel_cmdline:
 * @record: a #HvkVmRecord
 *
 * Gets the guest kernel command line the record holds.
 *
 * Returns: (nullable): the guest kernel's command line
 */
const char *
hvk_vm_record_get_kernel_cmdline (HvkVmRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);

  return record->kernel_cmdline;
}

/**
 * hvk_vm_record_get_uuid:
 * @record: a #HvkVmRecord
 *
 * Gets the VM UUID the record holds.
 *
 * Returns: (nullable): the VM's UUID
 */
const char *
hvk_vm_record_get_uuid (HvkVmRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);

  return record->uuid;
}

/* ---- JSON ---- */

static void
add_string (JsonBuilder *builder,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_devices (JsonBuilder *builder,
             const char  *name,
             GPtrArray   *devices)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; i < devices->len; i++)
    json_builder_add_value (builder, hvk_device_to_json (devices->pdata[i]));
  json_builder_end_array (builder);
}

static void
add_argv (JsonBuilder *builder,
          GStrv        argv)
{
  json_builder_set_member_name (builder, "argv");
  json_builder_begin_array (builder);
  for (guint i = 0; argv != NULL && argv[i] != NULL; i++)
    json_builder_add_string_value (builder, argv[i]);
  json_builder_end_array (builder);
}

static char *
config_text (HvkVmRecord *record)
{
  return record->config ? hvk_config_to_data (record->config, NULL) : NULL;
}

JsonNode *
hvk_vm_record_to_envelope (HvkVmRecord *record,
                           JsonNode    *private_state)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *text = config_text (record);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, HVK_VM_STATE_VERSION);
  add_string (builder, "id", record->id);
  add_string (builder, "backend", record->backend);
  add_string (builder, "state", hvk_vm_state_to_string (record->state));
  add_string (builder, "config", text ? text : "");
  add_devices (builder, "cold_devices", record->cold_devices);

  json_builder_set_member_name (builder, "launch");
  if (record->has_launch)
    {
      json_builder_begin_object (builder);
      add_argv (builder, record->argv);
      add_string (builder, "kernel_cmdline", record->kernel_cmdline);
      add_string (builder, "uuid", record->uuid);
      json_builder_end_object (builder);
    }
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "processes");
  json_builder_begin_array (builder);
  for (guint i = 0; i < record->processes->len; i++)
    {
      Process *process = &g_array_index (record->processes, Process, i);

      json_builder_begin_object (builder);
      add_string (builder, "role", process->role);
      json_builder_set_member_name (builder, "pid");
      json_builder_add_int_value (builder, process->pid);
      json_builder_set_member_name (builder, "start_time");
      json_builder_add_int_value (builder, (gint64) process->start_time);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "paths");
  json_builder_begin_object (builder);
  for (guint i = 0; i < record->paths->len; i++)
    {
      Path *entry = &g_array_index (record->paths, Path, i);

      add_string (builder, entry->name, entry->path);
    }
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "private");
  if (private_state != NULL)
    json_builder_add_value (builder, json_node_copy (private_state));
  else
    {
      json_builder_begin_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static gboolean
read_state (JsonObject  *object,
            HvkVmState  *state,
            GError     **error)
{
  const char *name;

  if (!hvk_json_get_string (object, "state", TRUE, &name, error))
    return FALSE;
  if (!hvk_vm_state_from_string (name, state))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "unknown state '%s'", name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_devices (HvkVmRecord  *record,
              JsonArray    *array,
              const char   *member,
              HvkRegistry  *registry,
              GError      **error)
{
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      g_autoptr(GError) local_error = NULL;
      HvkDevice *device = hvk_device_new_from_json (registry,
                                                    json_array_get_element (array, i),
                                                    &local_error);
      /* A device the file describes wrongly is a corrupt file. */
      if (device == NULL)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                       "member '%s': %s", member, local_error->message);
          return FALSE;
        }
      g_ptr_array_add (record->cold_devices, device);
    }
  return TRUE;
}

static gboolean
read_path (HvkVmRecord  *record,
           JsonObject   *object,
           const char   *name,
           GError      **error)
{
  const char *path;

  if (!hvk_json_get_string (object, name, FALSE, &path, error))
    return FALSE;
  hvk_vm_record_add_path (record, name, path);
  return TRUE;
}

HvkVmRecord *
hvk_vm_record_from_envelope (JsonObject   *object,
                             HvkConfig    *config,
                             HvkRegistry  *registry,
                             JsonNode    **private_state,
                             GError      **error)
{
  g_autoptr(HvkVmRecord) record = NULL;
  JsonObject *launch, *paths, *private_object;
  JsonArray *cold, *processes;
  const char *id, *backend;
  HvkVmState state;

  if (!hvk_json_get_string (object, "id", TRUE, &id, error)
      || !hvk_json_get_string (object, "backend", TRUE, &backend, error)
      || !read_state (object, &state, error)
      || !hvk_json_get_array (object, "cold_devices", TRUE, &cold, error)
      || !hvk_json_get_object (object, "launch", FALSE, &launch, error)
      || !hvk_json_get_array (object, "processes", TRUE, &processes, error)
      || !hvk_json_get_object (object, "paths", TRUE, &paths, error)
      || !hvk_json_get_object (object, "private", TRUE, &private_object, error))
    return NULL;

  record = hvk_vm_record_new (id, backend, state, config);
  if (!read_devices (record, cold, "cold_devices", registry, error))
    return NULL;

  if (launch != NULL)
    {
      g_auto(GStrv) argv = NULL;
      const char *kernel_cmdline, *uuid;

      if (!hvk_json_get_strv (launch, "argv", TRUE, &argv, error)
          || !hvk_json_get_string (launch, "kernel_cmdline", FALSE, &kernel_cmdline, error)
          || !hvk_json_get_string (launch, "uuid", FALSE, &uuid, error))
        {
          g_prefix_error (error, "launch: ");
          return NULL;
        }
      hvk_vm_record_set_launch (record, (const char * const *) argv, kernel_cmdline, uuid);
    }

  for (guint i = 0; i < json_array_get_length (processes); i++)
    {
      JsonNode *node = json_array_get_element (processes, i);
      const char *role;
      gint64 pid, start_time;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                       "member 'processes' is not an array of objects");
          return NULL;
        }
      if (!hvk_json_get_string (json_node_get_object (node), "role", TRUE, &role, error)
          || !hvk_json_get_int (json_node_get_object (node), "pid", TRUE, 0, G_MAXINT, &pid, error)
          || !hvk_json_get_int (json_node_get_object (node), "start_time", TRUE, 0, G_MAXINT64,
                                &start_time, error))
        {
          g_prefix_error (error, "processes: ");
          return NULL;
        }
      hvk_vm_record_add_process (record, role, (int) pid, (guint64) start_time);
    }

  {
    g_autoptr(GList) names = json_object_get_members (paths);

    for (GList *l = names; l != NULL; l = l->next)
      if (!read_path (record, paths, l->data, error))
        {
          g_prefix_error (error, "paths: ");
          return NULL;
        }
  }

  *private_state = json_node_init_object (json_node_alloc (), private_object);
  return g_steal_pointer (&record);
}

/* ---- the previous release's layout ---- */

/* How version 1 named a process's pid and start time: the VMM's as
 * "pid" and, depending on the backend, "pid_start_time" or "start_time";
 * any other ROLE as "ROLE_pid" and "ROLE_start_time". */
static const struct {
  const char *role;
  const char *start_time;
} v1_vmm[] = {
  { "qemu", "pid_start_time" },
  { "acrn-dm", "start_time" },
};

/* What version 1 kept as top-level strings that are paths. */
static const char * const v1_paths[] = {
  "store", "vm_dir", "qmp_socket", "console_socket", "pid_file",
  "virtiofsd_socket", "log_file", "exit_file", "console", NULL,
};

/* The order version 1 wrote each shipped backend's members in, which
 * `hvkit status` lists its scalars in (a contract): members named here
 * come first, in this order, the others after. */
static const char * const v1_order_qemu[] = {
  "id", "state", "pid", "pid_start_time", "monitor_pid", "monitor_start_time",
  "virtiofsd_pid", "virtiofsd_start_time", "uuid", "store", "vm_dir",
  "qmp_socket", "console_socket", "pid_file", "virtiofsd_socket", "log_file",
  "exit_file", "exit", "kernel_cmdline", "config", "vcpus", "memory_mb",
  "next_dimm", "vcpu_unplugged_pid", "vcpu_unplugged_start_time", NULL,
};
static const char * const v1_order_acrn[] = {
  "state", "id", "store", "vm_name", "path", "ctlpath", "console", "apic_id",
  "image", "kernel_cmdline", "config", "memory_mb", "pid", "start_time", NULL,
};
static const struct {
  const char         *backend;
  const char * const *order;
} v1_orders[] = {
  { "qemu", v1_order_qemu },
  { "acrn", v1_order_acrn },
};

static JsonNode *
v1_reorder (const char *backend,
            JsonNode   *node)
{
  JsonObject *object = json_node_get_object (node);
  g_autoptr(JsonObject) ordered = NULL;
  g_autoptr(GList) names = NULL;
  const char * const *order = NULL;

  for (guint i = 0; backend != NULL && i < G_N_ELEMENTS (v1_orders); i++)
    if (g_str_equal (backend, v1_orders[i].backend))
      order = v1_orders[i].order;
  if (order == NULL)
    return node;

  ordered = json_object_new ();
  for (guint i = 0; order[i] != NULL; i++)
    if (json_object_has_member (object, order[i]))
      json_object_set_member (ordered, order[i],
                              json_node_copy (json_object_get_member (object, order[i])));
  names = json_object_get_members (object);
  for (GList *l = names; l != NULL; l = l->next)
    if (!json_object_has_member (ordered, l->data))
      json_object_set_member (ordered, l->data,
                              json_node_copy (json_object_get_member (object, l->data)));
  json_node_unref (node);
  return json_node_init_object (json_node_alloc (), ordered);
}

static gboolean
is_v1_path (const char *name)
{
  return g_strv_contains ((const char * const *) v1_paths, name);
}

static void
add_v1_process (JsonBuilder *builder,
                Process     *process)
{
  g_autofree char *pid = NULL;
  g_autofree char *start_time = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (v1_vmm); i++)
    if (g_str_equal (process->role, v1_vmm[i].role))
      {
        pid = g_strdup ("pid");
        start_time = g_strdup (v1_vmm[i].start_time);
      }
  if (pid == NULL)
    {
      pid = g_strconcat (process->role, "_pid", NULL);
      start_time = g_strconcat (process->role, "_start_time", NULL);
    }
  json_builder_set_member_name (builder, pid);
  json_builder_add_int_value (builder, process->pid);
  json_builder_set_member_name (builder, start_time);
  json_builder_add_int_value (builder, (gint64) process->start_time);
}

JsonNode *
hvk_vm_record_to_v1 (HvkVmRecord *record,
                     JsonNode    *private_state,
                     HvkVmRecordView view)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  gboolean summary = view == HVK_VM_RECORD_VIEW_SUMMARY;
  g_autofree char *text = summary ? NULL : config_text (record);

  json_builder_begin_object (builder);
  add_string (builder, "id", record->id ? record->id : "");
  add_string (builder, "state", hvk_vm_state_to_string (record->state));
  for (guint i = 0; i < record->processes->len; i++)
    add_v1_process (builder, &g_array_index (record->processes, Process, i));
  for (guint i = 0; i < record->paths->len; i++)
    {
      Path *entry = &g_array_index (record->paths, Path, i);

      add_string (builder, entry->name, entry->path);
    }
  if (text != NULL)
    add_string (builder, "config", text);

  if (private_state != NULL && JSON_NODE_HOLDS_OBJECT (private_state))
    {
      JsonObject *object = json_node_get_object (private_state);
      g_autoptr(GList) names = json_object_get_members (object);

      for (GList *l = names; l != NULL; l = l->next)
        {
          JsonNode *value = json_object_get_member (object, l->data);

          if (summary && !JSON_NODE_HOLDS_VALUE (value))
            continue;
          json_builder_set_member_name (builder, l->data);
          json_builder_add_value (builder, json_node_copy (value));
        }
    }

  if (record->has_launch)
    {
      if (record->uuid != NULL)
        add_string (builder, "uuid", record->uuid);
      add_string (builder, "kernel_cmdline", record->kernel_cmdline);
      if (!summary)
        add_argv (builder, record->argv);
    }
  if (!summary)
    add_devices (builder, "cold_devices", record->cold_devices);
  /* Nested, so `hvkit status` (which lists top-level scalars) skips it. */
  if (!summary && record->config != NULL && hvk_config_get_vm_store_path (record->config) != NULL)
    {
      json_builder_set_member_name (builder, "saved_config");
      json_builder_begin_object (builder);
      add_string (builder, "vm_store_path", hvk_config_get_vm_store_path (record->config));
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  return v1_reorder (record->backend, json_builder_get_root (builder));
}

/* Is @name the start time of a process version 1 saved? */
static gboolean
is_v1_start_time (JsonObject *object,
                  const char *name)
{
  g_autofree char *role = NULL;
  g_autofree char *pid = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (v1_vmm); i++)
    if (g_str_equal (name, v1_vmm[i].start_time))
      return json_object_has_member (object, "pid");
  if (!g_str_has_suffix (name, "_start_time"))
    return FALSE;
  role = g_strndup (name, strlen (name) - strlen ("_start_time"));
  pid = g_strconcat (role, "_pid", NULL);
  return json_object_has_member (object, pid);
}

HvkVmRecord *
hvk_vm_record_from_v1 (JsonObject   *object,
                       const char   *backend,
                       HvkConfig    *config,
                       HvkRegistry  *registry,
                       const char   *source,
                       JsonNode    **private_state,
                       GError      **error)
{
  g_autoptr(HvkVmRecord) record = NULL;
  g_autoptr(HvkConfig) own_config = NULL;
  g_autoptr(JsonObject) private_object = json_object_new ();
  g_autoptr(GList) names = json_object_get_members (object);
  JsonObject *saved_config;
  JsonArray *array;
  const char *id, *store = NULL;
  HvkVmState state;

  if (!read_state (object, &state, error)
      || !hvk_json_get_string (object, "id", state != HVK_VM_STATE_NONE, &id, error)
      || !hvk_json_get_object (object, "saved_config", FALSE, &saved_config, error))
    return NULL;
  if (state != HVK_VM_STATE_NONE && !hvk_vm_id_validate (id, error))
    return NULL;
  if (saved_config != NULL
      && !hvk_json_get_string (saved_config, "vm_store_path", FALSE, &store, NULL))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "member 'saved_config.vm_store_path' is missing or not a string");
      return NULL;
    }

  if (config == NULL)
    {
      const char *text = NULL;

      if (!hvk_json_get_string (object, "config", FALSE, &text, error))
        return NULL;
      if (text == NULL && saved_config != NULL
          && !hvk_json_get_string (saved_config, "data", FALSE, &text, NULL))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                       "member 'saved_config.data' is missing or not a string");
          return NULL;
        }
      if (text == NULL && state != HVK_VM_STATE_NONE)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                       "member 'config' is missing or not a string");
          return NULL;
        }
      if (text != NULL)
        {
          own_config = hvk_config_new_from_data (text, -1, source, registry, error);
          if (own_config == NULL)
            return NULL;
          if (store != NULL)
            hvk_config_set_vm_store_path (own_config, store);
        }
      config = own_config;
    }

  record = hvk_vm_record_new (state != HVK_VM_STATE_NONE ? id : NULL, backend, state, config);

  for (GList *l = names; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *member = json_object_get_member (object, name);

      if (g_str_equal (name, "id") || g_str_equal (name, "state")
          || g_str_equal (name, "config") || g_str_equal (name, "saved_config")
          || g_str_equal (name, "kernel_cmdline") || g_str_equal (name, "uuid"))
        continue;
      if (g_str_equal (name, "argv"))
        {
          g_auto(GStrv) argv = NULL;
          const char *kernel_cmdline, *uuid;

          if (!hvk_json_get_strv (object, "argv", FALSE, &argv, error)
              || !hvk_json_get_string (object, "kernel_cmdline", FALSE, &kernel_cmdline, error)
              || !hvk_json_get_string (object, "uuid", FALSE, &uuid, error))
            return NULL;
          hvk_vm_record_set_launch (record, (const char * const *) argv, kernel_cmdline, uuid);
        }
      else if (g_str_equal (name, "cold_devices") || g_str_equal (name, "devices"))
        {
          if (!hvk_json_get_array (object, name, TRUE, &array, error)
              || !read_devices (record, array, name, registry, error))
            return NULL;
        }
      else if (g_str_equal (name, "pid") || g_str_has_suffix (name, "_pid"))
        {
          g_autofree char *role = NULL;
          g_autofree char *start_name = NULL;
          gint64 pid, start_time;

          if (g_str_equal (name, "pid"))
            {
              for (guint i = 0; i < G_N_ELEMENTS (v1_vmm) && role == NULL; i++)
                if (json_object_has_member (object, v1_vmm[i].start_time))
                  {
                    role = g_strdup (v1_vmm[i].role);
                    start_name = g_strdup (v1_vmm[i].start_time);
                  }
              if (role == NULL)
                {
                  role = g_strdup (backend);
                  start_name = g_strdup ("start_time");
                }
            }
          else
            {
              role = g_strndup (name, strlen (name) - strlen ("_pid"));
              start_name = g_strconcat (role, "_start_time", NULL);
            }
          if (!hvk_json_get_int (object, name, FALSE, 0, G_MAXINT, &pid, error)
              || !hvk_json_get_int (object, start_name, FALSE, 0, G_MAXINT64, &start_time, error))
            return NULL;
          hvk_vm_record_add_process (record, role, (int) pid, (guint64) start_time);
        }
      else if (is_v1_start_time (object, name))
        continue;
      else if (is_v1_path (name))
        {
          if (!read_path (record, object, name, error))
            return NULL;
        }
      else
        json_object_set_member (private_object, name, json_node_copy (member));
    }
  /* A backend that saved no argv (the mock) still had a kernel command line. */
  if (!record->has_launch && json_object_has_member (object, "kernel_cmdline"))
    {
      const char *kernel_cmdline;

      if (!hvk_json_get_string (object, "kernel_cmdline", FALSE, &kernel_cmdline, error))
        return NULL;
      hvk_vm_record_set_launch (record, NULL, kernel_cmdline, NULL);
    }

  *private_state = json_node_init_object (json_node_alloc (), private_object);
  return g_steal_pointer (&record);
}
