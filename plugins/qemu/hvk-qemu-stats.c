/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

#include "hvk-qemu-hypervisor-private.h"

/*
 * get_stats: what a running QEMU VM uses, under the keys HvkStats
 * documents.  The process figures come from /proc, the vCPU threads from
 * `query-cpus-fast` (their times from /proc/PID/task/TID/stat), the
 * disks from `query-blockstats`, tap devices from their sysfs counters,
 * the cgroup from its controllers.  A figure that cannot be measured (a
 * tap that is gone, a cgroup controller the host lacks) is left out,
 * never made up.
 */

#define MIB ((guint64) 1024 * 1024)

/* The device id of a `query-blockstats` entry: its `qdev` QOM path is
 * `/machine/peripheral/ID[/…]` for a device created with an id. */
static char *
blockstats_device_id (JsonObject *entry)
{
  const char *qdev = json_object_get_string_member_with_default (entry, "qdev", NULL);
  const char *prefix = "/machine/peripheral/";
  const char *end;

  if (qdev == NULL || !g_str_has_prefix (qdev, prefix))
    return NULL;
  qdev += strlen (prefix);
  end = strchr (qdev, '/');
  return end ? g_strndup (qdev, end - qdev) : g_strdup (qdev);
}

static gboolean
add_blockstats (HvkQemuHypervisor *self,
                HvkStats          *stats,
                GCancellable      *cancellable,
                GError           **error)
{
  static const struct { const char *qmp; const char *key; } fields[] = {
    { "rd_bytes", "rd_bytes" },
    { "wr_bytes", "wr_bytes" },
    { "rd_operations", "rd_ops" },
    { "wr_operations", "wr_ops" },
    { "flush_operations", "flush_ops" },
    { "rd_total_time_ns", "rd_total_time_ns" },
    { "wr_total_time_ns", "wr_total_time_ns" },
  };
  g_autoptr(JsonNode) ret = hvk_qemu_vm_qmp_exec (self, "query-blockstats", NULL,
                                                  cancellable, error);
  JsonArray *entries;

  if (ret == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_ARRAY (ret))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "VM '%s': QMP command 'query-blockstats' returned no list", self->id);
      return FALSE;
    }
  entries = json_node_get_array (ret);
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *entry = json_array_get_object_element (entries, i);
      JsonObject *counters;
      g_autofree char *id = NULL;

      if (entry == NULL || !json_object_has_member (entry, "stats"))
        continue;
      id = blockstats_device_id (entry);
      counters = json_object_get_object_member (entry, "stats");
      if (id == NULL || counters == NULL)
        continue;
      for (guint f = 0; f < G_N_ELEMENTS (fields); f++)
        {
          g_autofree char *key = g_strdup_printf ("block.%s.%s", id, fields[f].key);
          gint64 value = json_object_get_int_member_with_default (counters, fields[f].qmp, -1);

          if (value >= 0)
            hvk_stats_set (stats, key, (guint64) value);
        }
    }
  return TRUE;
}

static gboolean
add_vcpus (HvkQemuHypervisor *self,
           HvkStats          *stats,
           GCancellable      *cancellable,
           GError           **error)
{
  g_autoptr(JsonNode) ret = hvk_qemu_vm_qmp_exec (self, "query-cpus-fast", NULL,
                                                  cancellable, error);
  JsonArray *cpus;

  if (ret == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_ARRAY (ret))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "VM '%s': QMP command 'query-cpus-fast' returned no list", self->id);
      return FALSE;
    }
  cpus = json_node_get_array (ret);
  for (guint i = 0; i < json_array_get_length (cpus); i++)
    {
      JsonObject *cpu = json_array_get_object_element (cpus, i);
      gint64 index = cpu ? json_object_get_int_member_with_default (cpu, "cpu-index", -1) : -1;
      gint64 thread = cpu ? json_object_get_int_member_with_default (cpu, "thread-id", -1) : -1;

      /* A thread that just left (a vCPU unplugged meanwhile) is skipped. */
      if (index >= 0 && thread > 0)
        hvk_stats_add_vcpu (stats, (guint) index, self->pid, (int) thread, NULL);
    }
  return TRUE;
}

/* A GFunc: the tap counters of a network device (cold or hot-plugged). */
static void
add_net_device (gpointer data,
                gpointer user_data)
{
  HvkDevice *device = data;
  const char *ifname;

  if (g_strcmp0 (hvk_device_get_kind_name (device), "net") != 0
      || !hvk_device_has (device, "ifname"))
    return;
  ifname = hvk_device_get_string (device, "ifname");
  if (ifname != NULL)
    hvk_stats_add_tap (user_data, hvk_device_get_id (device), ifname, NULL);
}

HvkStats *
hvk_qemu_vm_get_stats (HvkHypervisor  *hypervisor,
                       GCancellable   *cancellable,
                       GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(HvkStats) stats = hvk_stats_new ();
  g_autoptr(GPtrArray) hotplugged = NULL;

  if (!hvk_qemu_vm_alive (self))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "VM '%s': QEMU (pid %d) is not running", self->id, self->pid);
      return NULL;
    }
  if (!hvk_stats_add_process (stats, self->pid, "cpu.time_ns", "memory.rss_bytes", error))
    return NULL;
  hvk_stats_set (stats, "memory.configured_bytes", (guint64) self->memory_mb * MIB);
  if (hvk_qemu_vm_settings (self)->reclaim_guest_freed_memory)
    {
      HvkBalloonInfo balloon = { 0, };

      balloon.guest_free_mb = balloon.guest_available_mb = -1;
      if (!hvk_qemu_vm_balloon (HVK_HYPERVISOR (self), 0, -1, &balloon, cancellable, error))
        return NULL;
      hvk_stats_set (stats, "memory.balloon_bytes", balloon.actual_mb * MIB);
      hvk_stats_set (stats, "memory.balloon_target_bytes", balloon.target_mb * MIB);
      if (balloon.guest_free_mb >= 0)
        hvk_stats_set (stats, "memory.guest_free_bytes", (guint64) balloon.guest_free_mb * MIB);
      if (balloon.guest_available_mb >= 0)
        hvk_stats_set (stats, "memory.guest_available_bytes", (guint64) balloon.guest_available_mb * MIB);
    }
  if (!add_vcpus (self, stats, cancellable, error)
      || !add_blockstats (self, stats, cancellable, error))
    return NULL;

  hvk_qemu_vm_foreach_cold_device (self, add_net_device, stats);
  hotplugged = hvk_hypervisor_get_hotplugged_devices (hypervisor);
  g_ptr_array_foreach (hotplugged, add_net_device, stats);

  if (self->virtiofsd_pid > 0)
    hvk_stats_add_process (stats, self->virtiofsd_pid, "virtiofsd.time_ns",
                           "virtiofsd.rss_bytes", NULL);
  if (self->cgroup != NULL)
    {
      guint64 memory = 0, cpu = 0;

      if (hvk_cgroup_get_usage (self->cgroup, &memory, &cpu, NULL))
        {
          hvk_stats_set (stats, "cgroup.cpu_time_ns", cpu);
          hvk_stats_set (stats, "cgroup.memory_bytes", memory);
        }
    }
  return g_steal_pointer (&stats);
}
