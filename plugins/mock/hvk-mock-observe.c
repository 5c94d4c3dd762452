/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

#include "hvk-mock-hypervisor-private.h"

/* What a watcher sees of the mock VM: the events its operations queued
 * (replayed by follow_events) and scripted statistics. */

/* What a VMM would tell a watcher: follow_events replays it. */
void
hvk_mock_queue_event (HvkMockHypervisor *self,
             const char        *name,
             const char        *key,
             const char        *value)
{
  JsonObject *event = json_object_new ();
  JsonObject *data = json_object_new ();

  if (key != NULL)
    json_object_set_string_member (data, key, value);
  json_object_set_string_member (event, "event", name);
  json_object_set_object_member (event, "data", data);
  g_ptr_array_add (self->events, event);
}

/* A GFunc: zero I/O counters for each block device. */
static void
add_block_device (gpointer data,
                  gpointer user_data)
{
  static const char * const fields[] = {
    "rd_bytes", "wr_bytes", "rd_ops", "wr_ops", "flush_ops", "rd_total_time_ns", "wr_total_time_ns",
  };
  HvkDevice *device = data;

  if (g_strcmp0 (hvk_device_get_kind_name (device), "block") != 0)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autofree char *key = g_strdup_printf ("block.%s.%s", hvk_device_get_id (device), fields[i]);

      hvk_stats_set (user_data, key, 0);
    }
}

/* Scripted statistics: the CPU time grows by 1 ms per call in this
 * process, the memory is what the VM has, one thread per vCPU, zero I/O
 * per disk; `scripted_stats` (KEY=VALUE) sets more or overrides. */
HvkStats *
hvk_mock_get_stats (HvkHypervisor  *hypervisor,
                GCancellable   *cancellable,
                GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  g_autoptr(HvkStats) stats = NULL;
  guint64 calls = 0;

  if (!hvk_mock_begin_call (self, "get_stats", NULL, error))
    return NULL;
  for (guint i = 0; i < self->calls->len; i++)
    calls += g_str_equal (g_ptr_array_index (self->calls, i), "get_stats");

  stats = hvk_stats_new ();
  hvk_stats_set (stats, "cpu.time_ns", calls * G_TIME_SPAN_MILLISECOND * 1000);
  hvk_stats_set (stats, "memory.rss_bytes", (guint64) self->memory_mb * 1024 * 1024 / 2);
  hvk_stats_set (stats, "memory.configured_bytes", (guint64) self->memory_mb * 1024 * 1024);
  if (hvk_config_get_boolean (self->config, "reclaim_guest_freed_memory"))
    {
      guint64 target = self->balloon_target_mb;

      hvk_stats_set (stats, "memory.balloon_bytes",
                     (target > 0 ? target : self->memory_mb) * 1024 * 1024);
      hvk_stats_set (stats, "memory.balloon_target_bytes", target * 1024 * 1024);
    }
  for (guint32 i = 0; i < self->vcpus; i++)
    {
      g_autofree char *tid = g_strdup_printf ("vcpu.%u.thread_id", i);
      g_autofree char *time = g_strdup_printf ("vcpu.%u.time_ns", i);

      hvk_stats_set (stats, tid, 1000 + i);
      hvk_stats_set (stats, time, calls * G_TIME_SPAN_MILLISECOND * 1000 / MAX (self->vcpus, 1));
    }
  g_ptr_array_foreach (self->devices, add_block_device, stats);
  g_ptr_array_foreach (self->hotplugged, add_block_device, stats);

  if (hvk_mock_has_config_key (self->config, "scripted_stats"))
    {
      const char * const *script = hvk_config_get_strv (self->config, "scripted_stats");

      for (guint i = 0; script != NULL && script[i] != NULL; i++)
        {
          const char *eq = strchr (script[i], '=');
          g_autofree char *key = eq ? g_strndup (script[i], eq - script[i]) : NULL;
          guint64 value;

          if (key == NULL || !g_ascii_string_to_unsigned (eq + 1, 10, 0, G_MAXUINT64, &value, NULL))
            {
              g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                           "mock: [%s] scripted_stats: '%s' is not KEY=VALUE",
                           hvk_config_get_group (self->config), script[i]);
              return NULL;
            }
          hvk_stats_set (stats, key, value);
        }
    }
  return g_steal_pointer (&stats);
}

/* The mock's VMM lives in this process: following replays what happened
 * to the VM here since the last follow, then `exited` if it stopped; it
 * never blocks. */
gboolean
hvk_mock_follow_events (HvkHypervisor  *hypervisor,
                    GCancellable   *cancellable,
                    GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  g_autoptr(GPtrArray) events = NULL;

  if (!hvk_mock_begin_call (self, "follow_events", NULL, error))
    return FALSE;
  events = g_steal_pointer (&self->events);
  self->events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  for (guint i = 0; i < events->len; i++)
    {
      JsonObject *event = g_ptr_array_index (events, i);

      hvk_hypervisor_emit_event (hypervisor, json_object_get_string_member (event, "event"),
                                 json_object_get_object_member (event, "data"));
    }
  if (self->state == HVK_VM_STATE_STOPPED)
    {
      g_autoptr(JsonObject) exited = json_object_new ();

      json_object_set_string_member (exited, "how", "mock: stopped");
      hvk_hypervisor_emit_event (hypervisor, "exited", exited);
    }
  return TRUE;
}

/* The balloon of a mock VM with reclaim_guest_freed_memory: the guest
 * gives up at once what the target asks (the actual size is the target),
 * and reports no statistics. */
gboolean
hvk_mock_balloon (HvkHypervisor  *hypervisor,
                  guint64         target_mb,
                  gint            stats_interval_s,
                  HvkBalloonInfo *info,
                  GCancellable   *cancellable,
                  GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  if (!hvk_mock_begin_call (self, "balloon", NULL, error))
    return FALSE;
  if (!hvk_config_get_boolean (self->config, "reclaim_guest_freed_memory"))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "mock: VM '%s' has no balloon: its configuration does not set "
                   "reclaim_guest_freed_memory=true", self->id);
      return FALSE;
    }
  if (target_mb > self->memory_mb)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "mock: cannot set the balloon of VM '%s' to leave %" G_GUINT64_FORMAT
                   " MiB: the guest has %u MiB", self->id, target_mb, self->memory_mb);
      return FALSE;
    }
  if (target_mb > 0)
    self->balloon_target_mb = target_mb == self->memory_mb ? 0 : target_mb;
  if (stats_interval_s >= 0)
    self->balloon_stats_interval_s = (guint32) stats_interval_s;
  info->target_mb = self->balloon_target_mb;
  info->actual_mb = self->balloon_target_mb > 0 ? self->balloon_target_mb : self->memory_mb;
  info->stats_interval_s = self->balloon_stats_interval_s;
  return TRUE;
}
