/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The QEMU backend's instance and the helpers its files share: the
 * lifecycle (hvk-qemu-hypervisor.c), launch (hvk-qemu-launch.c), live
 * changes (hvk-qemu-hotplug.c), saved state (hvk-qemu-state.c) and
 * migration (hvk-qemu-migration.c).  Private to the QEMU plugin. */

#include <hvkit/hvkit.h>

#include "hvk-qemu-private.h"
#include "hvk-qemu-identity.h"
#include "hvk-qemu-qmp.h"
#include "hvk-qemu-records.h"
#include "hvk-qemu-device-props.h"

G_BEGIN_DECLS


#define QMP_CONNECT_TIMEOUT_MS   3000
#define QMP_COMMAND_TIMEOUT_MS  10000
#define DEVICE_DELETED_TIMEOUT_MS 10000
#define STATUS_CONFIRM_TIMEOUT_MS 3000
#define STOP_TIMEOUT_MS          5000   /* Kata waits 15 s; a TCG guest quits in ms */
#define KILL_TIMEOUT_MS          3000
#define VIRTIOFSD_STOP_TIMEOUT_MS 2000
#define MIGRATION_TIMEOUT_MS    60000
#define BRIDGE_FIRST_SLOT 1
#define BRIDGE_LAST_SLOT  30
#define LOG_TAIL_BYTES    4096
#define QEMU_LOG_NAME     "qemu.log"
#define VIRTIOFSD_LOG_NAME "virtiofsd.log"
#define VSOCK_AGENT_PORT  1024

struct _HvkQemuHypervisor
{
  GObject        parent_instance;

  HvkRegistry   *registry;       /* the construct-only "registry" */
  char          *id;
  HvkConfig     *config;
  HvkQemuSettings *settings;       /* config read once: hvk_qemu_vm_settings() */
  HvkConfig     *settings_config;  /* the config settings were read from */
  char          *store;
  HvkQemuPaths   paths;
  char          *log_file;
  gboolean       vm_dir_created;   /* this object made STATE/ID */

  HvkCmdline    *cmdline;          /* keeps the launch-time descriptors */
  GStrv          argv;
  char          *kernel_cmdline;
  char          *uuid;
  HvkQemuLayout *layout;
  GPtrArray     *cold_devices;     /* (element-type HvkDevice) add_device() */

  HvkVmState     state;
  int            pid;
  guint64        pid_start_time;
  int            monitor_pid;      /* hvkit-monitor, QEMU's parent */
  guint64        monitor_start_time;
  int            virtiofsd_pid;
  guint64        virtiofsd_start_time;
  HvkCgroup     *cgroup;           /* the VM's cgroup, NULL without */
  HvkQemuIdentity identity;        /* rootless: who QEMU runs as (resolved at start) */

  HvkQmpClient  *qmp;
  GPtrArray     *hotplugged;       /* (element-type HvkQemuRecord), oldest first */
  GHashTable    *io_limits;        /* device id → HvkIoLimits: iotune's changes */
  guint32        vcpus;
  guint32        memory_mb;
  guint          next_dimm;
  guint64        balloon_target_mb;      /* last target set, 0: none */
  guint32        balloon_stats_interval_s;
  /* The QEMU (pid, start time) a vCPU was unplugged from: QEMU 7.2 then
   * aborts on the next virtio-blk-pci hotplug (hvk-qemu-hotplug.c). */
  int            vcpu_unplugged_pid;
  guint64        vcpu_unplugged_start_time;
  /* restore_from_dir(): the saved state start_vm() feeds QEMU instead of
   * booting it, and whether the guest stays paused. */
  char          *restore_dir;
  gboolean       restore_paused;
};

#define S(state) (1u << HVK_VM_STATE_ ## state)

/* QEMU's log (qemu.log in the VM dir): rotated at 1 MiB, two old ones
 * kept (qemu.log.1, qemu.log.2) by hvkit-monitor. */
#define HVK_QEMU_LOG_MAX_BYTES (1024u * 1024u)
#define HVK_QEMU_LOG_KEEP 2u

/* hvk-qemu-hypervisor.c */
HvkRegistry *hvk_qemu_vm_registry      (HvkQemuHypervisor *self);
/* The VM's config read once (after create_vm() validated it). */
const HvkQemuSettings *hvk_qemu_vm_settings (HvkQemuHypervisor *self);
gboolean     hvk_qemu_vm_is_virtio_fs  (HvkQemuHypervisor *self);
gboolean     hvk_qemu_vm_alive         (HvkQemuHypervisor *self);
gboolean     hvk_qemu_vm_check_state   (HvkQemuHypervisor *self, const char *operation,
                                        guint allowed, GError **error);
gboolean     hvk_qemu_vm_qmp_ensure    (HvkQemuHypervisor *self, GCancellable *cancellable,
                                        GError **error);
JsonNode    *hvk_qemu_vm_qmp_exec      (HvkQemuHypervisor *self, const char *command,
                                        JsonObject *arguments, GCancellable *cancellable,
                                        GError **error);
gboolean     hvk_qemu_vm_qmp_run       (HvkQemuHypervisor *self, const char *command,
                                        JsonObject *arguments, GCancellable *cancellable,
                                        GError **error);
void         hvk_qemu_vm_release       (HvkQemuHypervisor *self);
/* rootless: removes the fdsets of a disk's descriptors (hvk-qemu-hotplug.c). */
void         hvk_qemu_vm_remove_fdset  (HvkQemuHypervisor *self, const char *device_id,
                                        GCancellable *cancellable);

/* hvk-qemu-observe.c: QEMU's run state as QEMU says it (query-status), or
 * as hvkit-monitor keeps it (falling back on QMP); the vCPU threads
 * (index → thread id) from /proc, or NULL when the names cannot tell. */
char        *hvk_qemu_vm_query_status  (HvkQemuHypervisor *self, GCancellable *cancellable,
                                        GError **error);
char        *hvk_qemu_vm_runstate      (HvkQemuHypervisor *self, GCancellable *cancellable,
                                        GError **error);
GHashTable  *hvk_qemu_vm_vcpu_threads  (HvkQemuHypervisor *self);

/* rootless and selinux_label (hvk-qemu-launch.c): resolves the identity
 * into self->identity, refuses what an unprivileged QEMU cannot do here
 * and a label the host cannot apply. */
gboolean     hvk_qemu_vm_check_confinement (HvkQemuHypervisor *self, GError **error);
/* Removes the VM's cgroup once its processes are gone (hvk-qemu-launch.c). */
void         hvk_qemu_vm_remove_cgroup (HvkQemuHypervisor *self);
gboolean     hvk_qemu_vm_build_cmdline (HvkQemuHypervisor *self, GError **error);

/* hvk-qemu-launch.c */
/* How QEMU ended ("exited with status 0"), from the monitor's exit file,
 * waiting up to a second for a live monitor to write it; NULL if unknown. */
char    *hvk_qemu_vm_describe_end (HvkQemuHypervisor *self);
gboolean hvk_qemu_vm_start (HvkHypervisor *hypervisor, guint timeout_ms,
                            GCancellable *cancellable, GError **error);

/* hvk-qemu-power.c */
gboolean hvk_qemu_vm_shutdown (HvkHypervisor *hypervisor, guint timeout_ms,
                               GCancellable *cancellable, GError **error);
gboolean hvk_qemu_vm_reboot   (HvkHypervisor *hypervisor, GCancellable *cancellable,
                               GError **error);

/* hvk-qemu-events.c */
gboolean hvk_qemu_vm_follow_events (HvkHypervisor *hypervisor, GCancellable *cancellable,
                                    GError **error);

/* hvk-qemu-stats.c */
HvkStats *hvk_qemu_vm_get_stats (HvkHypervisor *hypervisor, GCancellable *cancellable,
                                 GError **error);

/* hvk-qemu-iotune.c */
gboolean hvk_qemu_vm_set_io_limits (HvkHypervisor *hypervisor, const char *device_id,
                                    const HvkIoLimits *limits, GCancellable *cancellable,
                                    GError **error);
gboolean hvk_qemu_vm_get_io_limits (HvkHypervisor *hypervisor, const char *device_id,
                                    HvkIoLimits *limits, GError **error);
gboolean hvk_qemu_vm_apply_tap_limits (HvkQemuHypervisor *self, GError **error);
gboolean hvk_qemu_vm_apply_net_limits (HvkQemuHypervisor *self, HvkDevice *device,
                                       GError **error);
void     hvk_qemu_vm_clear_net_limits (HvkQemuHypervisor *self, HvkDevice *device);
void     hvk_qemu_vm_clear_tap_limits (HvkQemuHypervisor *self);
/* The throttle group object of a throttled cold-plugged disk, or NULL. */
char      *hvk_qemu_vm_cold_disk_group (HvkQemuHypervisor *self, HvkDevice *device);
/* The ids of the disks (cold-plugged, then hot-plugged) whose throttle
 * group is the QEMU object @object (hvk_qemu_block_throttle_group()). */
GPtrArray *hvk_qemu_vm_throttle_members (HvkQemuHypervisor *self, const char *object);
/* Hotplug of throttled disk @block: its group object (*@object) and,
 * for a group no disk has yet, the object-add to send first
 * (*@object_add, else NULL); a disk whose limits are not its group's
 * current ones is refused.  Unplug: whether disk @id is the last one
 * in group @object (its object-del then). */
gboolean hvk_qemu_vm_join_group (HvkQemuHypervisor *self, const HvkQemuBlock *block,
                                 char **object, JsonObject **object_add, GError **error);
gboolean hvk_qemu_vm_group_is_last (HvkQemuHypervisor *self, const char *object,
                                    const char *id);
/* The throttle group object of disk @device (hot-plugged: its @record's). */
gboolean hvk_qemu_vm_disk_group (HvkQemuHypervisor *self, HvkDevice *device,
                                 HvkQemuRecord *record, char **object, GError **error);
GHashTable *hvk_qemu_vm_io_limits_new       (void);
JsonNode   *hvk_qemu_vm_io_limits_to_json   (HvkQemuHypervisor *self);
GHashTable *hvk_qemu_vm_io_limits_from_json (JsonObject *object, GError **error);

/* hvk-qemu-saved-devices.c: what changed since boot, kept by a save to
 * a directory and made again by its restore. */
#define HVK_QEMU_SAVED_DEVICES_NAME "qemu-devices.json"
/* Refuses, naming it, a change since boot a restore cannot make again
 * (only hot-plugged disks and vCPUs are made again). */
gboolean hvk_qemu_vm_check_restorable (HvkQemuHypervisor *self, GError **error);
gboolean hvk_qemu_vm_write_saved_devices (HvkQemuHypervisor *self, const char *dir,
                                          GCancellable *cancellable, GError **error);
/* Adds the saved hot-plugged devices to the command line, at their
 * addresses; *@hotplugged (NULL: none saved) are their records, and
 * *@vcpus and *@memory_mb the vCPU count and memory they make. */
gboolean hvk_qemu_vm_read_saved_devices (HvkQemuHypervisor *self, const char *dir,
                                         GPtrArray **hotplugged, guint32 *vcpus,
                                         guint32 *memory_mb, GError **error);

/* hvk-qemu-migration.c */
gboolean hvk_qemu_vm_save (HvkHypervisor *hypervisor, GCancellable *cancellable,
                           GError **error);
/* Refuses, naming the device, a VM with a device QEMU cannot migrate. */
gboolean hvk_qemu_vm_check_migratable (HvkQemuHypervisor *self, const char *operation,
                                       GError **error);
/* A boot_from_template VM just launched (-S -incoming defer): feeds it
 * devices_state_path, waits for the migration (bounded by @deadline) and
 * resumes it. */
/* A boot_from_template VM: its memory_path and devices_state_path exist. */
gboolean hvk_qemu_vm_check_template_files (HvkQemuHypervisor *self, GError **error);
gboolean hvk_qemu_vm_save_to_dir (HvkHypervisor *hypervisor, const char *dir,
                                  GCancellable *cancellable, GError **error);
gboolean hvk_qemu_vm_restore_from_dir (HvkHypervisor *hypervisor, const char *dir,
                                       gboolean paused, guint timeout_ms,
                                       GCancellable *cancellable, GError **error);
/* A VM being restored (restore_dir set) just launched with -S -incoming
 * defer: feeds it the saved state and resumes it unless restore_paused. */
gboolean hvk_qemu_vm_load_saved (HvkQemuHypervisor *self, GCancellable *cancellable,
                                 GError **error);
gboolean hvk_qemu_vm_load_template (HvkQemuHypervisor *self, gint64 deadline,
                                    GCancellable *cancellable, GError **error);

/* hvk-qemu-hotplug.c */
gboolean hvk_qemu_vm_hotplug_add    (HvkHypervisor *hypervisor, HvkDevice *device,
                                     GCancellable *cancellable, GError **error);
gboolean hvk_qemu_vm_hotplug_remove (HvkHypervisor *hypervisor, const char *device_id,
                                     GCancellable *cancellable, GError **error);

/* What hotplug and resize share (hvk-qemu-hotplug.c). */
/* Calls @func on every device the VM was started with: its config's
 * [device.*] groups, then those cold-plugged with add_device(). */
void       hvk_qemu_vm_foreach_cold_device (HvkQemuHypervisor *self, GFunc func,
                                            gpointer user_data);
HvkDevice *hvk_qemu_vm_cold_device_lookup  (HvkQemuHypervisor *self, const char *id);
/* A GFunc for hvk_qemu_vm_foreach_cold_device(): counts pc-dimms into the
 * guint at @user_data. */
void       hvk_qemu_count_cold_dimm        (gpointer data, gpointer user_data);
/* Remembers that a vCPU left this QEMU (unless it runs KVM): PCI, memory
 * and vCPU hot-adds are refused from then on. */
void       hvk_qemu_vm_note_vcpu_unplug    (HvkQemuHypervisor *self,
                                            GCancellable *cancellable);
gboolean   hvk_qemu_vm_hotplug_allowed_after_vcpu_unplug (HvkQemuHypervisor *self,
                                                          const char *what,
                                                          GError **error);
/* Reconciles when an unplug timed out (a record says unplug_pending). */
gboolean   hvk_qemu_vm_reconcile_if_pending (HvkQemuHypervisor *self,
                                             GCancellable *cancellable,
                                             GError **error);
gboolean   hvk_qemu_vm_device_del_and_wait (HvkQemuHypervisor *self, const char *id,
                                            GCancellable *cancellable, GError **error);
/* Deletes what backed a device QEMU no longer has and forgets it. */
gboolean   hvk_qemu_vm_forget_device       (HvkQemuHypervisor *self, const char *device_id,
                                            gboolean strict, GCancellable *cancellable,
                                            GError **error);

/* hvk-qemu-resize.c */
gboolean hvk_qemu_vm_resize_vcpus   (HvkHypervisor *hypervisor, guint32 vcpus,
                                     guint32 *old_vcpus, guint32 *new_vcpus,
                                     GCancellable *cancellable, GError **error);
/* hvk-qemu-balloon.c */
gboolean hvk_qemu_vm_balloon (HvkHypervisor *hypervisor, guint64 target_mb, gint stats_interval_s,
                              HvkBalloonInfo *info, GCancellable *cancellable, GError **error);
gboolean hvk_qemu_vm_resize_memory  (HvkHypervisor *hypervisor, guint32 mem_mb,
                                     guint32 block_size_mb, gboolean probe,
                                     guint32 *new_mem_mb, HvkMemoryDevice *mem_dev,
                                     GCancellable *cancellable, GError **error);

/* Brings the hot-plug records in line with what QEMU has: a record whose
 * device QEMU no longer has (an unplug that timed out and completed
 * later) is dropped and its backend (block node, netdev, memory object)
 * deleted; the vCPU count is QEMU's (query-hotpluggable-cpus).  Asks
 * QEMU (qom-list, query-hotpluggable-cpus) every time it is called. */
gboolean hvk_qemu_vm_reconcile      (HvkQemuHypervisor *self, GCancellable *cancellable,
                                     GError **error);

/* hvk-qemu-state.c */
JsonNode *hvk_qemu_vm_save_private (HvkHypervisor *hypervisor, HvkVmRecord *record);
gboolean  hvk_qemu_vm_load_private (HvkHypervisor *hypervisor, HvkVmRecord *record,
                                    JsonNode *private_state, GError **error);
GPtrArray *hvk_qemu_vm_get_hotplugged_devices (HvkHypervisor *hypervisor);

G_END_DECLS
