/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-qemu-private.h"
#include "hvk-qemu-build.h"
#include "hvk-qemu-hypervisor-private.h"
#include "hvk-qemu-qmp.h"

/* The balloon of a VM with reclaim_guest_freed_memory: its target
 * (`balloon`), where the guest has it (`query-balloon`), and the guest's
 * memory statistics (the device's guest-stats-polling-interval and
 * guest-stats properties). */

#define BALLOON_QOM_PATH "/machine/peripheral/" HVK_QEMU_BALLOON_ID
#define MIB (G_GUINT64_CONSTANT (1024) * 1024)

/* A guest-stats value in MiB, or -1 when the guest reported none. */
static gint64
guest_stat_mb (JsonObject *stats,
               const char *name)
{
  gint64 bytes = stats != NULL ? json_object_get_int_member_with_default (stats, name, -1) : -1;

  return bytes < 0 ? -1 : bytes / (gint64) MIB;
}

static gboolean
read_guest_stats (HvkQemuHypervisor *self,
                  HvkBalloonInfo    *info,
                  GCancellable      *cancellable,
                  GError           **error)
{
  g_autoptr(JsonObject) args = json_object_new ();
  g_autoptr(JsonNode) ret = NULL;
  JsonObject *stats = NULL;

  json_object_set_string_member (args, "path", BALLOON_QOM_PATH);
  json_object_set_string_member (args, "property", "guest-stats");
  ret = hvk_qemu_vm_qmp_exec (self, "qom-get", args, cancellable, error);
  if (ret == NULL)
    return FALSE;
  if (JSON_NODE_HOLDS_OBJECT (ret))
    {
      JsonNode *node = json_object_get_member (json_node_get_object (ret), "stats");

      if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
        stats = json_node_get_object (node);
    }
  info->guest_free_mb = guest_stat_mb (stats, "stat-free-memory");
  info->guest_total_mb = guest_stat_mb (stats, "stat-total-memory");
  info->guest_available_mb = guest_stat_mb (stats, "stat-available-memory");
  return TRUE;
}

gboolean
hvk_qemu_vm_balloon (HvkHypervisor  *hypervisor,
                     guint64         target_mb,
                     gint            stats_interval_s,
                     HvkBalloonInfo *info,
                     GCancellable   *cancellable,
                     GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(JsonNode) ret = NULL;
  gint64 actual;

  if (!hvk_qemu_vm_check_state (self, "set or read the balloon of", S (RUNNING) | S (PAUSED), error))
    return FALSE;
  if (!hvk_qemu_vm_settings (self)->reclaim_guest_freed_memory)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "VM '%s' has no balloon: its configuration does not set "
                   "reclaim_guest_freed_memory=true", self->id);
      return FALSE;
    }
  if (target_mb > self->memory_mb)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "cannot set the balloon of VM '%s' to leave %" G_GUINT64_FORMAT
                   " MiB: the guest has %u MiB", self->id, target_mb, self->memory_mb);
      return FALSE;
    }
  if (target_mb > 0)
    {
      g_autoptr(JsonObject) args = json_object_new ();

      json_object_set_int_member (args, "value", (gint64) (target_mb * MIB));
      if (!hvk_qemu_vm_qmp_run (self, "balloon", args, cancellable, error))
        {
          g_prefix_error (error, "cannot set the balloon of VM '%s' to %" G_GUINT64_FORMAT " MiB: ",
                          self->id, target_mb);
          return FALSE;
        }
      /* The whole memory is no balloon at all. */
      self->balloon_target_mb = target_mb == self->memory_mb ? 0 : target_mb;
    }
  if (stats_interval_s >= 0)
    {
      g_autoptr(JsonObject) args = json_object_new ();

      json_object_set_string_member (args, "path", BALLOON_QOM_PATH);
      json_object_set_string_member (args, "property", "guest-stats-polling-interval");
      json_object_set_int_member (args, "value", stats_interval_s);
      if (!hvk_qemu_vm_qmp_run (self, "qom-set", args, cancellable, error))
        {
          g_prefix_error (error, "cannot set the balloon statistics interval of VM '%s': ", self->id);
          return FALSE;
        }
      self->balloon_stats_interval_s = (guint32) stats_interval_s;
    }

  ret = hvk_qemu_vm_qmp_exec (self, "query-balloon", NULL, cancellable, error);
  if (ret == NULL)
    {
      g_prefix_error (error, "cannot read the balloon of VM '%s': ", self->id);
      return FALSE;
    }
  actual = JSON_NODE_HOLDS_OBJECT (ret)
           ? json_object_get_int_member_with_default (json_node_get_object (ret), "actual", -1) : -1;
  if (actual < 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_QMP,
                   "QMP command 'query-balloon' of VM '%s' returned no 'actual'", self->id);
      return FALSE;
    }
  info->actual_mb = (guint64) actual / MIB;
  info->target_mb = self->balloon_target_mb;
  info->stats_interval_s = self->balloon_stats_interval_s;
  if (!read_guest_stats (self, info, cancellable, error))
    {
      g_prefix_error (error, "cannot read the guest's memory statistics of VM '%s': ", self->id);
      return FALSE;
    }
  return TRUE;
}
