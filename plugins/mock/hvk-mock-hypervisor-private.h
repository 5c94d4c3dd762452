/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "hvk-mock-hypervisor.h"

G_BEGIN_DECLS

/* The mock's instance, shared by its lifecycle (hvk-mock-hypervisor.c)
 * and its saved state (hvk-mock-state.c). */
struct _HvkMockHypervisor
{
  GObject     parent_instance;

  HvkRegistry *registry;  /* the construct-only "registry" */
  char       *id;
  HvkConfig  *config;
  HvkVmState  state;
  guint32     vcpus;
  guint32     memory_mb;
  /* Counts memory resizes, as Kata's mock counts MemSlots (MK9). */
  guint32     mem_slots;
  guint64     balloon_target_mb;   /* reclaim_guest_freed_memory: 0, none */
  guint32     balloon_stats_interval_s;
  char       *kernel_cmdline;
  GPtrArray  *devices;     /* (element-type HvkDevice): cold-plugged */
  GPtrArray  *hotplugged;  /* (element-type HvkDevice) */
  GPtrArray  *calls;       /* (element-type utf8) */
  GPtrArray  *events;      /* (element-type JsonObject): {event, data} not yet followed */
};

gboolean    hvk_mock_has_config_key (HvkConfig         *config,
                                     const char        *key);
const char *hvk_mock_store_path     (HvkMockHypervisor *self);

/* Records @operation and fails it when fail_operations asks to (@config:
 * NULL for the VM's). */
gboolean    hvk_mock_begin_call     (HvkMockHypervisor *self,
                                     const char        *operation,
                                     HvkConfig         *config,
                                     GError           **error);

/* hvk-mock-io-limits.c: the devices' I/O limits. */
gboolean    hvk_mock_device_limits  (HvkMockHypervisor *self,
                                     HvkDevice         *device,
                                     HvkIoLimits       *limits,
                                     GError           **error);
gboolean    hvk_mock_set_io_limits  (HvkHypervisor     *hypervisor,
                                     const char        *device_id,
                                     const HvkIoLimits *limits,
                                     GCancellable      *cancellable,
                                     GError           **error);
gboolean    hvk_mock_get_io_limits  (HvkHypervisor     *hypervisor,
                                     const char        *device_id,
                                     HvkIoLimits       *limits,
                                     GError           **error);

/* hvk-mock-observe.c: events for follow_events, statistics. */
void        hvk_mock_queue_event    (HvkMockHypervisor *self,
                                     const char        *name,
                                     const char        *key,
                                     const char        *value);
gboolean    hvk_mock_follow_events  (HvkHypervisor     *hypervisor,
                                     GCancellable      *cancellable,
                                     GError           **error);
HvkStats   *hvk_mock_get_stats      (HvkHypervisor     *hypervisor,
                                     GCancellable      *cancellable,
                                     GError           **error);
gboolean    hvk_mock_balloon        (HvkHypervisor     *hypervisor,
                                     guint64            target_mb,
                                     gint               stats_interval_s,
                                     HvkBalloonInfo    *info,
                                     GCancellable      *cancellable,
                                     GError           **error);

/* hvk-mock-save.c */
gboolean    hvk_mock_save_to_dir    (HvkHypervisor     *hypervisor,
                                     const char        *dir,
                                     GCancellable      *cancellable,
                                     GError           **error);
gboolean    hvk_mock_restore_from_dir (HvkHypervisor   *hypervisor,
                                       const char      *dir,
                                       gboolean         paused,
                                       guint            timeout_ms,
                                       GCancellable    *cancellable,
                                       GError         **error);

JsonNode   *hvk_mock_save_private   (HvkHypervisor     *hypervisor,
                                     HvkVmRecord       *record);
gboolean    hvk_mock_load_private   (HvkHypervisor     *hypervisor,
                                     HvkVmRecord       *record,
                                     JsonNode          *private_state,
                                     GError           **error);

G_END_DECLS
