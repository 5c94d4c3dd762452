/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vhost.h>

#include "hvk-qemu-private.h"
#include "hvk-qemu-build.h"
#include "hvk-qemu-hypervisor-private.h"
#include "hvk-qemu-virtiofsd.h"
#include "hvk-qemu-qmp.h"

/* What a second process needs to take a VM over: save_state() and
 * load_state() (libvirt's qemu_domain.c status XML). */

/* ---- state ---- */

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
add_int (JsonBuilder *builder,
         const char  *name,
         gint64       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

JsonNode *
hvk_qemu_vm_save_state (HvkHypervisor *hypervisor)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *config_text = self->config ? hvk_config_to_data (self->config, NULL) : NULL;
  json_builder_begin_object (builder);
  add_string (builder, "id", self->id);
  add_string (builder, "state", hvk_vm_state_to_string (self->state));
  add_int (builder, "pid", self->pid);
  add_int (builder, "pid_start_time", (gint64) self->pid_start_time);
  add_int (builder, "monitor_pid", self->monitor_pid);
  add_int (builder, "monitor_start_time", (gint64) self->monitor_start_time);
  add_int (builder, "virtiofsd_pid", self->virtiofsd_pid);
  add_int (builder, "virtiofsd_start_time", (gint64) self->virtiofsd_start_time);
  add_string (builder, "uuid", self->uuid);
  add_string (builder, "store", self->store);
  add_string (builder, "vm_dir", self->paths.vm_dir);
  add_string (builder, "qmp_socket", self->paths.qmp_socket);
  add_string (builder, "console_socket", self->paths.console_socket);
  add_string (builder, "pid_file", self->paths.pid_file);
  add_string (builder, "virtiofsd_socket", self->paths.virtiofsd_socket);
  add_string (builder, "log_file", self->log_file);
  add_string (builder, "exit_file", self->paths.exit_file);
  /* A VM whose QEMU ended says how (hvkit-monitor's exit file). */
  if (hvk_hypervisor_get_state (hypervisor) == HVK_VM_STATE_STOPPED && self->pid > 0)
    {
      g_autofree char *how = hvk_process_describe_exit (self->paths.exit_file);
      g_autofree char *text = g_strdup_printf ("QEMU (pid %d) %s", self->pid,
                                               how ? how : "is gone (how it ended is unknown)");
      add_string (builder, "exit", text);
    }
  add_string (builder, "kernel_cmdline", self->kernel_cmdline);
  add_string (builder, "config", config_text);
  add_int (builder, "vcpus", self->vcpus);
  add_int (builder, "memory_mb", self->memory_mb);
  add_int (builder, "next_dimm", self->next_dimm);
  /* The QEMU a vCPU was unplugged from (no PCI hotplug there any more). */
  add_int (builder, "vcpu_unplugged_pid", self->vcpu_unplugged_pid);
  add_int (builder, "vcpu_unplugged_start_time", (gint64) self->vcpu_unplugged_start_time);

  json_builder_set_member_name (builder, "argv");
  json_builder_begin_array (builder);
  for (guint i = 0; self->argv != NULL && self->argv[i] != NULL; i++)
    json_builder_add_string_value (builder, self->argv[i]);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "layout");
  if (self->layout != NULL)
    json_builder_add_value (builder, hvk_qemu_layout_to_json (self->layout));
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "hotplugged");
  json_builder_add_value (builder, hvk_qemu_records_to_json (self->hotplugged));

  /* Redundant with "hotplugged", for people reading the file. */
  json_builder_set_member_name (builder, "used_slots");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->hotplugged->len; i++)
    {
      HvkQemuRecord *record = g_ptr_array_index (self->hotplugged, i);

      if (record->bus != NULL)
        {
          g_autofree char *slot = record->has_addr && record->addr >= 0
                                  ? g_strdup_printf ("%s:%d", record->bus, record->addr)
                                  : g_strdup (record->bus);
          json_builder_add_string_value (builder, slot);
        }
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "cold_devices");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->cold_devices->len; i++)
    json_builder_add_value (builder, hvk_device_to_json (self->cold_devices->pdata[i]));
  json_builder_end_array (builder);

  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* What a typed reader refused, as the backend says it. */
static gboolean
state_error (GError **error)
{
  g_prefix_error (error, "corrupt QEMU state: ");
  return FALSE;
}

gboolean
hvk_qemu_vm_load_state (HvkHypervisor  *hypervisor,
                        JsonNode       *state,
                        GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkQemuLayout) layout = NULL;
  g_autoptr(GPtrArray) cold = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) hotplugged = NULL;
  g_auto(GStrv) argv = NULL;
  g_autofree char *source = NULL;
  g_autofree char *store = NULL, *vm_dir = NULL, *qmp_socket = NULL, *console_socket = NULL;
  g_autofree char *pid_file = NULL, *virtiofsd_socket = NULL, *exit_file = NULL;
  g_autofree char *log_file = NULL, *kernel_cmdline = NULL, *uuid = NULL;
  const char *id, *state_name, *config_text;
  JsonObject *object, *records;
  JsonArray *cold_array;
  JsonNode *node;
  HvkVmState vm_state;
  gint64 pid, pid_start_time, virtiofsd_pid, virtiofsd_start_time;
  gint64 monitor_pid, monitor_start_time;
  gint64 vcpus, memory_mb, next_dimm;
  gint64 vcpu_unplugged_pid, vcpu_unplugged_start_time;

  if (state == NULL || !JSON_NODE_HOLDS_OBJECT (state))
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                           "corrupt QEMU state: not a JSON object");
      return FALSE;
    }
  object = json_node_get_object (state);

  if (!hvk_json_get_string (object, "id", TRUE, &id, error))
    return state_error (error);
  if (!hvk_vm_id_validate (id, error))
    return state_error (error);
  if (!hvk_json_get_string (object, "state", TRUE, &state_name, error))
    return state_error (error);
  if (!hvk_vm_state_from_string (state_name, &vm_state))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "corrupt QEMU state: unknown state '%s'", state_name);
      return FALSE;
    }
  if (!hvk_json_get_string (object, "config", TRUE, &config_text, error))
    return state_error (error);
  source = g_strdup_printf ("state of VM '%s'", id);
  config = hvk_config_new_from_data (config_text, -1, source, hvk_qemu_vm_registry (self), error);
  if (config == NULL)
    return FALSE;

  node = json_object_get_member (object, "layout");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      layout = hvk_qemu_layout_from_json (node, error);
      if (layout == NULL)
        return FALSE;
    }

  if (!hvk_json_get_strv (object, "argv", TRUE, &argv, error)
      || !hvk_json_get_array (object, "cold_devices", FALSE, &cold_array, error)
      || !hvk_json_get_object (object, "hotplugged", TRUE, &records, error))
    return state_error (error);
  for (guint i = 0; cold_array != NULL && i < json_array_get_length (cold_array); i++)
    {
      HvkDevice *device = hvk_device_new_from_json (hvk_qemu_vm_registry (self),
                                                    json_array_get_element (cold_array, i),
                                                    error);
      if (device == NULL)
        return FALSE;
      g_ptr_array_add (cold, device);
    }
  hotplugged = hvk_qemu_records_from_json (records, error);
  if (hotplugged == NULL)
    return state_error (error);

  if (!hvk_json_get_int (object, "pid", FALSE, 0, G_MAXINT, &pid, error)
      || !hvk_json_get_int (object, "pid_start_time", FALSE, 0, G_MAXINT64, &pid_start_time, error)
      || !hvk_json_get_int (object, "monitor_pid", FALSE, 0, G_MAXINT, &monitor_pid, error)
      || !hvk_json_get_int (object, "monitor_start_time", FALSE, 0, G_MAXINT64, &monitor_start_time, error)
      || !hvk_json_get_int (object, "virtiofsd_pid", FALSE, 0, G_MAXINT, &virtiofsd_pid, error)
      || !hvk_json_get_int (object, "virtiofsd_start_time", FALSE, 0, G_MAXINT64, &virtiofsd_start_time, error)
      || !hvk_json_get_int (object, "vcpus", FALSE, 0, G_MAXUINT32, &vcpus, error)
      || !hvk_json_get_int (object, "memory_mb", FALSE, 0, G_MAXUINT32, &memory_mb, error)
      || !hvk_json_get_int (object, "next_dimm", FALSE, 0, G_MAXUINT, &next_dimm, error)
      || !hvk_json_get_int (object, "vcpu_unplugged_pid", FALSE, 0, G_MAXINT, &vcpu_unplugged_pid, error)
      || !hvk_json_get_int (object, "vcpu_unplugged_start_time", FALSE, 0, G_MAXINT64,
                            &vcpu_unplugged_start_time, error)
      || !hvk_json_dup_string (object, "store", FALSE, &store, error)
      || !hvk_json_dup_string (object, "vm_dir", FALSE, &vm_dir, error)
      || !hvk_json_dup_string (object, "qmp_socket", FALSE, &qmp_socket, error)
      || !hvk_json_dup_string (object, "console_socket", FALSE, &console_socket, error)
      || !hvk_json_dup_string (object, "pid_file", FALSE, &pid_file, error)
      || !hvk_json_dup_string (object, "virtiofsd_socket", FALSE, &virtiofsd_socket, error)
      || !hvk_json_dup_string (object, "exit_file", FALSE, &exit_file, error)
      || !hvk_json_dup_string (object, "log_file", FALSE, &log_file, error)
      || !hvk_json_dup_string (object, "kernel_cmdline", FALSE, &kernel_cmdline, error)
      || !hvk_json_dup_string (object, "uuid", FALSE, &uuid, error))
    return state_error (error);

  /* Everything parsed: take it over. */
  g_free (self->id);
  self->id = g_strdup (id);
  g_set_object (&self->config, config);
  g_free (self->store);
  self->store = store != NULL ? g_steal_pointer (&store) : hvk_vm_store_default_dir ();
  hvk_config_set_vm_store_path (self->config, self->store);
  hvk_qemu_paths_clear (&self->paths);
  self->paths.vm_dir = g_steal_pointer (&vm_dir);
  self->paths.qmp_socket = g_steal_pointer (&qmp_socket);
  self->paths.console_socket = g_steal_pointer (&console_socket);
  self->paths.pid_file = g_steal_pointer (&pid_file);
  self->paths.virtiofsd_socket = g_steal_pointer (&virtiofsd_socket);
  self->paths.exit_file = g_steal_pointer (&exit_file);
  g_free (self->log_file);
  self->log_file = g_steal_pointer (&log_file);
  g_free (self->kernel_cmdline);
  self->kernel_cmdline = g_steal_pointer (&kernel_cmdline);
  g_free (self->uuid);
  self->uuid = g_steal_pointer (&uuid);
  g_strfreev (self->argv);
  self->argv = g_steal_pointer (&argv);
  g_clear_pointer (&self->layout, hvk_qemu_layout_free);
  self->layout = g_steal_pointer (&layout);
  g_ptr_array_unref (self->cold_devices);
  self->cold_devices = g_steal_pointer (&cold);
  g_ptr_array_unref (self->hotplugged);
  self->hotplugged = g_steal_pointer (&hotplugged);
  self->pid = (int) pid;
  self->pid_start_time = (guint64) pid_start_time;
  self->monitor_pid = (int) monitor_pid;
  self->monitor_start_time = (guint64) monitor_start_time;
  self->virtiofsd_pid = (int) virtiofsd_pid;
  self->virtiofsd_start_time = (guint64) virtiofsd_start_time;
  self->vcpus = (guint32) vcpus;
  self->memory_mb = (guint32) memory_mb;
  self->next_dimm = (guint) next_dimm;
  self->vcpu_unplugged_pid = (int) vcpu_unplugged_pid;
  self->vcpu_unplugged_start_time = (guint64) vcpu_unplugged_start_time;
  self->vm_dir_created = FALSE;   /* not ours to remove on dispose */
  self->state = vm_state;
  if (self->qmp != NULL)
    hvk_qmp_client_close (self->qmp);   /* reconnect lazily */
  return TRUE;
}


/* The hot-plug records as devices: the device the user gave where the
 * record keeps it, else (vCPUs and DIMMs that resize added) a device of
 * the record's kind with its id. */
GPtrArray *
hvk_qemu_vm_get_hotplugged_devices (HvkHypervisor *hypervisor)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  GPtrArray *devices = g_ptr_array_new_with_free_func (g_object_unref);
  HvkRegistry *registry = hvk_qemu_vm_registry (self);

  for (guint i = 0; i < self->hotplugged->len; i++)
    {
      HvkQemuRecord *record = g_ptr_array_index (self->hotplugged, i);
      HvkDeviceKind *kind;
      HvkDevice *device = NULL;

      if (record->device != NULL)
        device = hvk_device_new_from_json (registry, record->device, NULL);
      if (device == NULL
          && (kind = hvk_registry_lookup_device_kind (registry,
                                                      record->kind ? record->kind : "")) != NULL)
        {
          device = hvk_device_new (kind, record->id);
          if (record->has_size_mb
              && hvk_device_kind_lookup_prop (kind, "size_mb") != NULL)
            hvk_device_set_uint (device, "size_mb", record->size_mb);
        }
      if (device != NULL)
        g_ptr_array_add (devices, device);
    }
  return devices;
}
