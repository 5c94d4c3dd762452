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

/* What a second process needs to take a VM over: save_private() and
 * load_private() (libvirt's qemu_domain.c private data callbacks). */

/* ---- state ---- */

static void
add_int (JsonBuilder *builder,
         const char  *name,
         gint64       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

/* The record holds what every backend has (processes, paths, launch
 * command, cold devices); the private part what only QEMU needs. */
JsonNode *
hvk_qemu_vm_save_private (HvkHypervisor *hypervisor,
                          HvkVmRecord   *record)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  hvk_vm_record_set_state (record, self->state);
  hvk_vm_record_add_process (record, "qemu", self->pid, self->pid_start_time);
  hvk_vm_record_add_process (record, "monitor", self->monitor_pid, self->monitor_start_time);
  hvk_vm_record_add_process (record, "virtiofsd", self->virtiofsd_pid, self->virtiofsd_start_time);
  /* The QEMU a vCPU was unplugged from (no PCI hotplug there any more). */
  hvk_vm_record_add_process (record, "vcpu_unplugged", self->vcpu_unplugged_pid,
                             self->vcpu_unplugged_start_time);
  hvk_vm_record_add_path (record, "store", self->store);
  hvk_vm_record_add_path (record, "vm_dir", self->paths.vm_dir);
  hvk_vm_record_add_path (record, "qmp_socket", self->paths.qmp_socket);
  hvk_vm_record_add_path (record, "events_socket", self->paths.events_socket);
  hvk_vm_record_add_path (record, "monitor_socket", self->paths.monitor_socket);
  hvk_vm_record_add_path (record, "console_socket", self->paths.console_socket);
  hvk_vm_record_add_path (record, "pid_file", self->paths.pid_file);
  hvk_vm_record_add_path (record, "virtiofsd_socket", self->paths.virtiofsd_socket);
  hvk_vm_record_add_path (record, "log_file", self->log_file);
  hvk_vm_record_add_path (record, "exit_file", self->paths.exit_file);
  hvk_vm_record_add_path (record, HVK_VM_RECORD_PATH_RUN_STATE, self->paths.runstate_file);
  if (self->cgroup != NULL)
    {
      const char * const *dirs = hvk_cgroup_get_dirs (self->cgroup);

      for (guint i = 0; dirs[i] != NULL; i++)
        {
          g_autofree char *name = g_strdup_printf ("cgroup%u", i);
          hvk_vm_record_add_path (record, name, dirs[i]);
        }
    }
  hvk_vm_record_set_launch (record, (const char * const *) self->argv,
                            self->kernel_cmdline, self->uuid);
  for (guint i = 0; i < self->cold_devices->len; i++)
    hvk_vm_record_add_cold_device (record, self->cold_devices->pdata[i]);

  json_builder_begin_object (builder);
  /* A VM whose QEMU ended says how (hvkit-monitor's exit file). */
  if (hvk_hypervisor_get_state (hypervisor) == HVK_VM_STATE_STOPPED && self->pid > 0)
    {
      g_autofree char *how = hvk_qemu_vm_describe_end (self);
      g_autofree char *text = g_strdup_printf ("QEMU (pid %d) %s", self->pid,
                                               how ? how : "is gone (how it ended is unknown)");
      json_builder_set_member_name (builder, "exit");
      json_builder_add_string_value (builder, text);
    }
  add_int (builder, "vcpus", self->vcpus);
  add_int (builder, "memory_mb", self->memory_mb);
  add_int (builder, "next_dimm", self->next_dimm);
  add_int (builder, "balloon_target_mb", (gint64) self->balloon_target_mb);
  add_int (builder, "balloon_stats_interval_s", self->balloon_stats_interval_s);

  json_builder_set_member_name (builder, "layout");
  if (self->layout != NULL)
    json_builder_add_value (builder, hvk_qemu_layout_to_json (self->layout));
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "hotplugged");
  json_builder_add_value (builder, hvk_qemu_records_to_json (self->hotplugged));

  /* The limits iotune changed since the start, by device id. */
  if (g_hash_table_size (self->io_limits) > 0)
    {
      json_builder_set_member_name (builder, "io_limits");
      json_builder_add_value (builder, hvk_qemu_vm_io_limits_to_json (self));
    }

  /* Redundant with "hotplugged", for people reading the file. */
  json_builder_set_member_name (builder, "used_slots");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->hotplugged->len; i++)
    {
      HvkQemuRecord *record_ = g_ptr_array_index (self->hotplugged, i);

      if (record_->bus != NULL)
        {
          g_autofree char *slot = record_->has_addr && record_->addr >= 0
                                  ? g_strdup_printf ("%s:%d", record_->bus, record_->addr)
                                  : g_strdup (record_->bus);
          json_builder_add_string_value (builder, slot);
        }
    }
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

static char *
dup_path (HvkVmRecord *record,
          const char  *name)
{
  return g_strdup (hvk_vm_record_get_path (record, name));
}

/* The cgroup directories (paths cgroup0, cgroup1 …), checked to be
 * cgroups: a state file names nothing else for hvkit to remove. */
static HvkCgroup *
cgroup_from_record (HvkVmRecord *record)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) dirs = NULL;
  g_autoptr(GError) error = NULL;
  HvkCgroup *cgroup;

  for (guint n = 0;; n++)
    {
      g_autofree char *name = g_strdup_printf ("cgroup%u", n);
      const char *dir = hvk_vm_record_get_path (record, name);

      if (dir == NULL)
        break;
      g_strv_builder_add (builder, dir);
    }
  dirs = g_strv_builder_end (builder);
  if (dirs[0] == NULL)
    return NULL;
  cgroup = hvk_cgroup_new_from_dirs ((const char * const *) dirs, &error);
  if (cgroup == NULL)
    g_warning ("VM '%s': ignoring its recorded cgroup: %s",
               hvk_vm_record_get_id (record), error->message);
  return cgroup;
}

gboolean
hvk_qemu_vm_load_private (HvkHypervisor  *hypervisor,
                          HvkVmRecord    *record,
                          JsonNode       *private_state,
                          GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  HvkConfig *config = hvk_vm_record_get_config (record);
  GPtrArray *cold = hvk_vm_record_get_cold_devices (record);
  g_autoptr(HvkQemuLayout) layout = NULL;
  g_autoptr(GPtrArray) hotplugged = NULL;
  g_autoptr(GHashTable) io_limits = NULL;
  JsonObject *object, *records, *limits_object = NULL;
  JsonNode *node;
  const char *store;
  int pid, monitor_pid, virtiofsd_pid, vcpu_unplugged_pid;
  guint64 pid_start_time, monitor_start_time, virtiofsd_start_time, vcpu_unplugged_start_time;
  gint64 vcpus, memory_mb, next_dimm, balloon_target_mb = 0, balloon_interval = 0;

  if (!JSON_NODE_HOLDS_OBJECT (private_state))
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                           "corrupt QEMU state: not a JSON object");
      return FALSE;
    }
  object = json_node_get_object (private_state);
  if (config == NULL || hvk_vm_record_get_id (record) == NULL)
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                           "corrupt QEMU state: a VM that was never created");
      return FALSE;
    }
  if (hvk_vm_record_get_argv (record) == NULL)
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                           "corrupt QEMU state: member 'argv' is missing or not an array");
      return FALSE;
    }

  node = json_object_get_member (object, "layout");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      layout = hvk_qemu_layout_from_json (node, error);
      if (layout == NULL)
        return FALSE;
    }
  if (!hvk_json_get_object (object, "hotplugged", TRUE, &records, error))
    return state_error (error);
  hotplugged = hvk_qemu_records_from_json (records, error);
  if (hotplugged == NULL)
    return state_error (error);
  if (!hvk_json_get_object (object, "io_limits", FALSE, &limits_object, error))
    return state_error (error);
  io_limits = hvk_qemu_vm_io_limits_from_json (limits_object, error);
  if (io_limits == NULL)
    return state_error (error);
  if (!hvk_json_get_int (object, "vcpus", FALSE, 0, G_MAXUINT32, &vcpus, error)
      || !hvk_json_get_int (object, "memory_mb", FALSE, 0, G_MAXUINT32, &memory_mb, error)
      || !hvk_json_get_int (object, "next_dimm", FALSE, 0, G_MAXUINT, &next_dimm, error)
      || !hvk_json_get_int (object, "balloon_target_mb", FALSE, 0, G_MAXUINT32,
                            &balloon_target_mb, error)
      || !hvk_json_get_int (object, "balloon_stats_interval_s", FALSE, 0, G_MAXINT32,
                            &balloon_interval, error))
    return state_error (error);
  hvk_vm_record_get_process (record, "qemu", &pid, &pid_start_time);
  hvk_vm_record_get_process (record, "monitor", &monitor_pid, &monitor_start_time);
  hvk_vm_record_get_process (record, "virtiofsd", &virtiofsd_pid, &virtiofsd_start_time);
  hvk_vm_record_get_process (record, "vcpu_unplugged", &vcpu_unplugged_pid,
                             &vcpu_unplugged_start_time);

  /* Everything parsed: take it over. */
  g_free (self->id);
  self->id = g_strdup (hvk_vm_record_get_id (record));
  g_set_object (&self->config, config);
  store = hvk_vm_record_get_path (record, "store");
  g_free (self->store);
  self->store = store != NULL ? g_strdup (store) : hvk_vm_store_default_dir ();
  hvk_config_set_vm_store_path (self->config, self->store);
  hvk_qemu_paths_clear (&self->paths);
  self->paths.vm_dir = dup_path (record, "vm_dir");
  self->paths.qmp_socket = dup_path (record, "qmp_socket");
  self->paths.events_socket = dup_path (record, "events_socket");
  self->paths.monitor_socket = dup_path (record, "monitor_socket");
  self->paths.console_socket = dup_path (record, "console_socket");
  self->paths.pid_file = dup_path (record, "pid_file");
  self->paths.virtiofsd_socket = dup_path (record, "virtiofsd_socket");
  self->paths.exit_file = dup_path (record, "exit_file");
  /* Absent in a record of an older hvkit: status then asks QEMU. */
  self->paths.runstate_file = dup_path (record, HVK_VM_RECORD_PATH_RUN_STATE);
  g_free (self->log_file);
  self->log_file = dup_path (record, "log_file");
  g_clear_pointer (&self->cgroup, hvk_cgroup_unref);
  self->cgroup = cgroup_from_record (record);
  g_free (self->kernel_cmdline);
  self->kernel_cmdline = g_strdup (hvk_vm_record_get_kernel_cmdline (record));
  g_free (self->uuid);
  self->uuid = g_strdup (hvk_vm_record_get_uuid (record));
  g_strfreev (self->argv);
  self->argv = g_strdupv ((GStrv) hvk_vm_record_get_argv (record));
  g_clear_pointer (&self->layout, hvk_qemu_layout_free);
  self->layout = g_steal_pointer (&layout);
  g_ptr_array_set_size (self->cold_devices, 0);
  for (guint i = 0; i < cold->len; i++)
    g_ptr_array_add (self->cold_devices, g_object_ref (cold->pdata[i]));
  g_ptr_array_unref (self->hotplugged);
  self->hotplugged = g_steal_pointer (&hotplugged);
  g_hash_table_unref (self->io_limits);
  self->io_limits = g_steal_pointer (&io_limits);
  self->pid = pid;
  self->pid_start_time = pid_start_time;
  self->monitor_pid = monitor_pid;
  self->monitor_start_time = monitor_start_time;
  self->virtiofsd_pid = virtiofsd_pid;
  self->virtiofsd_start_time = virtiofsd_start_time;
  self->vcpus = (guint32) vcpus;
  self->memory_mb = (guint32) memory_mb;
  self->next_dimm = (guint) next_dimm;
  self->balloon_target_mb = (guint64) balloon_target_mb;
  self->balloon_stats_interval_s = (guint32) balloon_interval;
  self->vcpu_unplugged_pid = vcpu_unplugged_pid;
  self->vcpu_unplugged_start_time = vcpu_unplugged_start_time;
  self->vm_dir_created = FALSE;   /* not ours to remove on dispose */
  self->state = hvk_vm_record_get_state (record);
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
