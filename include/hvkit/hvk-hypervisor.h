/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <hvkit/hvk-visibility.h>
#include <hvkit/hvk-capabilities.h>
#include <hvkit/hvk-config.h>
#include <hvkit/hvk-device.h>
#include <hvkit/hvk-io-limits.h>
#include <hvkit/hvk-stats.h>

G_BEGIN_DECLS

/**
 * HvkVmState:
 * @HVK_VM_STATE_NONE: create_vm() has not been called
 * @HVK_VM_STATE_CREATED: created, not started
 * @HVK_VM_STATE_RUNNING: running
 * @HVK_VM_STATE_PAUSED: paused
 * @HVK_VM_STATE_STOPPED: stopped (or exited)
 * @HVK_VM_STATE_STARTING: start_vm() is under way: the VMM may have been
 *   spawned and is not ready yet.  Seen in a saved state when the process
 *   that started the VM died during the start.
 *
 * The lifecycle state of a VM.  Legal transitions: none → created →
 * (starting →) running ⇄ paused; running/paused/created/starting →
 * stopped.
 *
 * The wrappers enforce one table for every backend, before they dispatch
 * (a backend may refuse more, never allow more; an operation it leaves
 * out is %HVK_ERROR_NOT_SUPPORTED in every state).  An operation called
 * in another state fails with %HVK_ERROR_STATE:
 *
 * | operation | legal in |
 * |---|---|
 * | create_vm | none |
 * | add_device (cold plug) | created |
 * | start_vm | created |
 * | pause_vm | running |
 * | resume_vm | paused |
 * | save_vm | running, paused |
 * | save_to_dir | running, paused |
 * | restore_from_dir | created (instead of start_vm) |
 * | hotplug_add_device, hotplug_remove_device | running |
 * | resize_vcpus, resize_memory | running |
 * | shutdown_vm | running (ends stopped) |
 * | reboot_vm | running |
 * | get_stats | running, paused |
 * | balloon | running, paused |
 * | follow_events | running, paused, stopped |
 * | stop_vm | created, starting, running, paused, stopped (idempotent) |
 * | set_io_limits | running, paused |
 * | get_io_limits | created, starting, running, paused |
 *
 * The state checked is hvk_hypervisor_get_state(), so a backend must
 * implement get_state; a VM whose VMM died is stopped.
 */
typedef enum {
  HVK_VM_STATE_NONE,
  HVK_VM_STATE_CREATED,
  HVK_VM_STATE_RUNNING,
  HVK_VM_STATE_PAUSED,
  HVK_VM_STATE_STOPPED,
  HVK_VM_STATE_STARTING,
} HvkVmState;

HVK_AVAILABLE_IN_ALL
const char *hvk_vm_state_to_string   (HvkVmState  state);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_vm_state_from_string (const char *text,
                                      HvkVmState *state);

/**
 * HvkMemoryDevice:
 * @slot: the DIMM slot used
 * @size_mb: the size added, in MiB
 * @addr: the guest physical address, or 0
 * @probe: whether the guest must probe the memory
 *
 * What resize_memory() added, after Kata's `MemoryDevice`.
 */
typedef struct {
  int      slot;
  guint32  size_mb;
  guint64  addr;
  gboolean probe;
} HvkMemoryDevice;

/**
 * HvkBalloonInfo:
 * @actual_mb: the guest's memory with the balloon as it is now (QEMU's
 *   `query-balloon` `actual`), in MiB
 * @target_mb: the last target set with hvk_hypervisor_balloon(), in MiB
 *   (0: none, the balloon is deflated)
 * @stats_interval_s: how often the guest reports its memory statistics,
 *   in seconds (0: it does not)
 * @guest_free_mb: the guest's free memory at its last report, in MiB, or
 *   -1 when it reported none
 * @guest_total_mb: the guest's total memory at its last report, or -1
 * @guest_available_mb: the guest's available memory at its last report,
 *   or -1
 *
 * The balloon of a VM (`reclaim_guest_freed_memory`), as
 * hvk_hypervisor_balloon() reads it.
 */
typedef struct {
  guint64  actual_mb;
  guint64  target_mb;
  guint32  stats_interval_s;
  gint64   guest_free_mb;
  gint64   guest_total_mb;
  gint64   guest_available_mb;
  /*< private >*/
  gpointer padding[4];
} HvkBalloonInfo;

/**
 * HVK_DEFAULT_START_TIMEOUT_MS:
 *
 * The start bound used when a caller passes 0.
 */
#define HVK_DEFAULT_START_TIMEOUT_MS 30000

/**
 * HvkHypervisor:
 *
 * One VM under one backend: the lifecycle interface every backend
 * implements (#HvkHypervisorInterface documents each vfunc) and the
 * wrappers programs call (hvk_hypervisor_create_vm(),
 * hvk_hypervisor_start_vm() …), which check the arguments and the VM's
 * state (#HvkVmState) before they dispatch.  Get one from
 * hvk_registry_create_hypervisor().
 */

/**
 * HvkVmRecord:
 *
 * The core's part of a VM's saved state (the envelope): id, backend,
 * state, configuration, cold-plugged devices, launch command, processes
 * with their start times, and paths.  The core writes and reads it; a
 * backend fills it in its save_private vfunc and reads it back in
 * load_private (hvk_vm_record_add_process(), hvk_vm_record_get_path() …),
 * keeping only what is its own in its private part.  Owned by the core:
 * a backend never frees one.
 */
typedef struct _HvkVmRecord HvkVmRecord;

#define HVK_TYPE_HYPERVISOR (hvk_hypervisor_get_type ())
HVK_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (HvkHypervisor, hvk_hypervisor, HVK, HYPERVISOR, GObject)

/**
 * HvkHypervisorInterface:
 * @g_iface: the parent interface
 * @create_vm: validates @config and prepares the VM (its directory, its
 *   command line) without launching anything, keeping a reference on
 *   @config; called only in %HVK_VM_STATE_NONE with an id that passed
 *   hvk_vm_id_validate(); leaves the VM %HVK_VM_STATE_CREATED
 * @start_vm: launches the VMM and returns once it is ready, within
 *   @timeout_ms (never 0: the wrapper substitutes
 *   %HVK_DEFAULT_START_TIMEOUT_MS); on any failure kills the VMM and
 *   removes what the start made; called only when created; leaves the VM
 *   running (%HVK_VM_STATE_STARTING while under way)
 * @stop_vm: stops the VMM (asks, kills after a bound; with @wait_only
 *   only waits for it to exit) and removes its sockets, pid file and
 *   directory; called when created, starting, running, paused or already
 *   stopped, and must then succeed again (idempotent); leaves the VM
 *   stopped
 * @pause_vm: pauses a running VM's vCPUs; leaves it paused
 * @resume_vm: resumes a paused VM; leaves it running
 * @save_vm: saves the VM's memory and device state to the config's
 *   `memory_path` and `devices_state_path`; called only when running or
 *   paused
 * @add_device: cold-plugs @device, already validated by
 *   hvk_device_validate(); called only when created
 * @hotplug_add_device: adds @device (validated) to the VM and returns
 *   once the VMM has it; called only when running
 * @hotplug_remove_device: removes the device @device_id added by
 *   @hotplug_add_device and returns once the VMM confirms; called only
 *   when running
 * @resize_memory: grows (or, where the backend can, shrinks) the guest's
 *   memory to @mem_mb; always sets @new_mem_mb and @mem_dev, which are
 *   never %NULL (the wrapper passes its own); called only when running
 * @resize_vcpus: hot-adds or removes vCPUs within the configured maximum;
 *   always sets @old_vcpus and @new_vcpus, never %NULL; called only when
 *   running
 * @get_total_memory_mb: the guest's memory in MiB, hot-plugged memory
 *   included; without it the wrapper returns 0
 * @get_vm_console: sets @protocol and @url (never %NULL: the wrapper
 *   passes its own) to newly allocated strings, or fails with @error set
 * @disconnect: drops the connection to the VMM's monitor, leaving the VM
 *   running; may be called in any state; without it the wrapper does
 *   nothing
 * @capabilities: what the backend can do for this VM's configuration;
 *   without it the wrapper returns %HVK_CAP_NONE
 * @get_config: (transfer none): the configuration given to @create_vm,
 *   or %NULL before it; without it the wrapper returns %NULL
 * @get_thread_ids: (transfer full): a new table of vCPU index → host
 *   thread id (guint → guint), or %NULL with @error set
 * @cleanup: removes what a stopped VM left behind; without it the wrapper
 *   succeeds (nothing to clean)
 * @get_pids: (transfer full): a new array of int, the VMM's pid first and
 *   then helper daemons' (virtiofsd), empty (never %NULL) when nothing
 *   runs; without it the wrapper returns an empty array
 * @get_virtiofs_pid: the virtio-fs daemon's pid, or -1 (also the
 *   wrapper's answer without it)
 * @check: %TRUE if the VMM is alive and answering, else %FALSE with
 *   @error set; the wrappers also call it when they refuse an operation on
 *   a stopped VM, to say why it stopped (its message, unless the error is
 *   %HVK_ERROR_STATE)
 * @save_private: puts into @record what the core saves for every
 *   backend (its state, processes with their start times, paths, launch
 *   command, cold-plugged devices: hvk_vm_record_add_process() …) and
 *   returns (transfer full) a JSON object of what only this backend
 *   needs, its private part (libvirt's private-data callbacks); without
 *   it hvk_hypervisor_save_state() returns an empty object
 * @load_private: takes the VM over, in another process, from @record and
 *   the private part @save_private returned, so that
 *   hvk_hypervisor_get_state() and the operations continue where that
 *   process left; the core has checked @record (id, state, types) and
 *   built its configuration; a failed load changes nothing
 * @generate_socket: (transfer full): the agent socket of VM @id as a URI
 *   (`vsock://CID:PORT`, `hvsock://PATH:PORT`, `mock://PATH`), or %NULL
 *   with @error set
 * @is_rate_limiter_builtin: whether the VMM limits I/O rates itself;
 *   without it the wrapper returns %FALSE
 * @get_hotplugged_devices: the devices hot-plugged into the running VM
 *   (#HvkDevice, with their kind and properties), oldest first; %NULL
 *   makes the wrapper return an empty array
 * @get_state: the VM's lifecycle state as the backend knows it (a VM
 *   whose VMM died is %HVK_VM_STATE_STOPPED); every backend must
 *   implement it: the wrappers check each lifecycle operation against it
 *   (see #HvkVmState), and without it a VM is always %HVK_VM_STATE_NONE
 * @get_launch_command: sets @argv to a new copy of the exact command
 *   line the backend launches (or would launch) for the VM, and
 *   @kernel_cmdline to a new copy of the guest kernel's command line (or
 *   %NULL when the backend passes none); neither is %NULL (the wrapper
 *   passes its own); called only after @create_vm (never in
 *   %HVK_VM_STATE_NONE)
 * @get_stats: the VM's statistics now (#HvkStats: the keys it documents
 *   that the backend can measure); called only while the VM runs or is
 *   paused
 * @shutdown_vm: asks the guest to power off (an ACPI power button press)
 *   and waits up to @timeout_ms for the VMM to end: the VM is then
 *   %HVK_VM_STATE_STOPPED; fails with %HVK_ERROR_TIMEOUT, the VM still
 *   running, when the guest did not power off in time; called only while
 *   the VM runs
 * @reboot_vm: resets the guest (a hardware reset: the guest boots again,
 *   the VM stays %HVK_VM_STATE_RUNNING); called only while the VM runs
 * @save_to_dir: writes the running or paused VM's guest RAM and device
 *   state into the existing directory @dir (files of the backend's
 *   choosing), leaving the VM as it was (running or paused); refuses up
 *   front, naming it, a device the VMM cannot save; called only when
 *   running or paused (the wrapper writes the manifest after it)
 * @restore_from_dir: instead of @start_vm, launches the VMM for the VM
 *   created from the configuration hvk_save_dir_load_config() read, feeds
 *   it the state @save_to_dir wrote into @dir and leaves the VM running
 *   (paused with @paused); within @timeout_ms (never 0); on any failure
 *   kills the VMM and removes what it made; called only when created
 * @follow_events: emits #HvkHypervisor::event (hvk_hypervisor_emit_event())
 *   for each event of the VM until its VMM ends, `exited` last; returns
 *   early when @cancellable is cancelled; called while the VM runs, is
 *   paused or stopped (then it only says how the VMM ended)
 * @balloon: sets the balloon's target to @target_mb (0: leaves it) and
 *   the guest's statistics interval to @stats_interval_s (negative:
 *   leaves it), then fills @info (never %NULL: the wrapper passes its
 *   own, zeroed, the guest_* members -1); a VM without a balloon fails
 *   with %HVK_ERROR_NOT_SUPPORTED naming `reclaim_guest_freed_memory`;
 *   called only while the VM runs or is paused
 * @set_io_limits: replaces the I/O limits of the running VM's `block` or
 *   `net` device @device_id (cold- or hot-plugged) with @limits, in the
 *   VMM and in the device the VM's state keeps (hvk_io_limits_store()),
 *   so that they survive a restart of hvkit; checks @limits first
 *   (hvk_io_limits_check()) and fails with %HVK_ERROR_NOT_FOUND for a
 *   device the VM has not, %HVK_ERROR_NOT_SUPPORTED for one the backend
 *   cannot limit (naming it and why); called only while the VM runs or
 *   is paused
 * @get_io_limits: sets @limits (never %NULL) to the limits device
 *   @device_id has now: those it was given (its properties, else the
 *   configuration's keys) or the last @set_io_limits; called only after
 *   create_vm, before the VM stops
 *
 * The lifecycle of one VM, after Kata's `Hypervisor` interface.  The
 * wrappers (hvk_hypervisor_create_vm() …) check their arguments and, for
 * the lifecycle operations (@create_vm to @resize_vcpus), the state before
 * they dispatch, so those vfuncs are only called in the states the
 * #HvkVmState table allows; a backend may refuse more, with
 * %HVK_ERROR_STATE.  A %NULL vfunc makes the wrapper fail with
 * %HVK_ERROR_NOT_SUPPORTED naming the backend and the operation, unless
 * its member says what the wrapper does instead.  Every gboolean vfunc
 * returns %FALSE with @error set on failure.
 *
 * Besides the vfuncs, every implementation overrides the construct-only
 * `registry` property (#HvkHypervisor:registry) with
 * g_object_class_override_property() and keeps a reference on it:
 * hvk_registry_create_hypervisor() passes itself there, and the backend
 * looks device kinds and appenders up in hvk_hypervisor_get_registry(),
 * never in the default registry.
 */
struct _HvkHypervisorInterface
{
  GTypeInterface g_iface;

  gboolean   (*create_vm)             (HvkHypervisor  *self,
                                       const char     *id,
                                       HvkConfig      *config,
                                       GError        **error);
  gboolean   (*start_vm)              (HvkHypervisor  *self,
                                       guint           timeout_ms,
                                       GCancellable   *cancellable,
                                       GError        **error);
  gboolean   (*stop_vm)               (HvkHypervisor  *self,
                                       gboolean        wait_only,
                                       GCancellable   *cancellable,
                                       GError        **error);
  gboolean   (*pause_vm)              (HvkHypervisor  *self,
                                       GCancellable   *cancellable,
                                       GError        **error);
  gboolean   (*resume_vm)             (HvkHypervisor  *self,
                                       GCancellable   *cancellable,
                                       GError        **error);
  gboolean   (*save_vm)               (HvkHypervisor  *self,
                                       GCancellable   *cancellable,
                                       GError        **error);
  gboolean   (*add_device)            (HvkHypervisor  *self,
                                       HvkDevice      *device,
                                       GError        **error);
  gboolean   (*hotplug_add_device)    (HvkHypervisor  *self,
                                       HvkDevice      *device,
                                       GCancellable   *cancellable,
                                       GError        **error);
  gboolean   (*hotplug_remove_device) (HvkHypervisor  *self,
                                       const char     *device_id,
                                       GCancellable   *cancellable,
                                       GError        **error);
  gboolean   (*resize_memory)         (HvkHypervisor   *self,
                                       guint32          mem_mb,
                                       guint32          block_size_mb,
                                       gboolean         probe,
                                       guint32         *new_mem_mb,
                                       HvkMemoryDevice *mem_dev,
                                       GCancellable    *cancellable,
                                       GError         **error);
  gboolean   (*resize_vcpus)          (HvkHypervisor  *self,
                                       guint32         vcpus,
                                       guint32        *old_vcpus,
                                       guint32        *new_vcpus,
                                       GCancellable   *cancellable,
                                       GError        **error);
  guint32    (*get_total_memory_mb)   (HvkHypervisor  *self);
  gboolean   (*get_vm_console)        (HvkHypervisor  *self,
                                       char          **protocol,
                                       char          **url,
                                       GError        **error);
  void       (*disconnect)            (HvkHypervisor  *self);
  HvkCapabilities (*capabilities)     (HvkHypervisor  *self);
  HvkConfig *(*get_config)            (HvkHypervisor  *self);
  GHashTable *(*get_thread_ids)       (HvkHypervisor  *self,
                                       GCancellable   *cancellable,
                                       GError        **error);
  gboolean   (*cleanup)               (HvkHypervisor  *self,
                                       GError        **error);
  GArray    *(*get_pids)              (HvkHypervisor  *self);
  int        (*get_virtiofs_pid)      (HvkHypervisor  *self);
  gboolean   (*check)                 (HvkHypervisor  *self,
                                       GError        **error);
  JsonNode  *(*save_private)          (HvkHypervisor  *self,
                                       HvkVmRecord    *record);
  gboolean   (*load_private)          (HvkHypervisor  *self,
                                       HvkVmRecord    *record,
                                       JsonNode       *private_state,
                                       GError        **error);
  char      *(*generate_socket)       (HvkHypervisor  *self,
                                       const char     *id,
                                       GError        **error);
  gboolean   (*is_rate_limiter_builtin) (HvkHypervisor *self);
  HvkVmState (*get_state)             (HvkHypervisor  *self);
  GPtrArray *(*get_hotplugged_devices) (HvkHypervisor *self);
  gboolean   (*get_launch_command)    (HvkHypervisor  *self,
                                       GStrv          *argv,
                                       char          **kernel_cmdline,
                                       GError        **error);
  HvkStats  *(*get_stats)             (HvkHypervisor  *self,
                                       GCancellable   *cancellable,
                                       GError        **error);
  gboolean   (*shutdown_vm)           (HvkHypervisor  *self,
                                       guint           timeout_ms,
                                       GCancellable   *cancellable,
                                       GError        **error);
  gboolean   (*reboot_vm)             (HvkHypervisor  *self,
                                       GCancellable   *cancellable,
                                       GError        **error);
  gboolean   (*follow_events)         (HvkHypervisor  *self,
                                       GCancellable   *cancellable,
                                       GError        **error);
  gboolean   (*balloon)               (HvkHypervisor  *self,
                                       guint64         target_mb,
                                       gint            stats_interval_s,
                                       HvkBalloonInfo *info,
                                       GCancellable   *cancellable,
                                       GError        **error);

  gboolean   (*save_to_dir)           (HvkHypervisor  *self,
                                       const char     *dir,
                                       GCancellable   *cancellable,
                                       GError        **error);
  gboolean   (*restore_from_dir)      (HvkHypervisor  *self,
                                       const char     *dir,
                                       gboolean        paused,
                                       guint           timeout_ms,
                                       GCancellable   *cancellable,
                                       GError        **error);


  gboolean   (*set_io_limits)         (HvkHypervisor     *self,
                                       const char        *device_id,
                                       const HvkIoLimits *limits,
                                       GCancellable      *cancellable,
                                       GError           **error);
  gboolean   (*get_io_limits)         (HvkHypervisor     *self,
                                       const char        *device_id,
                                       HvkIoLimits       *limits,
                                       GError           **error);


  /*< private >*/
  gpointer padding[1];
};

HVK_AVAILABLE_IN_ALL
const char *hvk_hypervisor_get_backend_name (HvkHypervisor *self);
HVK_AVAILABLE_IN_ALL
HvkRegistry *hvk_hypervisor_get_registry    (HvkHypervisor *self);

HVK_AVAILABLE_IN_ALL
void       hvk_hypervisor_bind_store        (HvkHypervisor  *self,
                                             const char     *store,
                                             const char     *id);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_persist           (HvkHypervisor  *self,
                                             GError        **error);

HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_create_vm         (HvkHypervisor  *self,
                                             const char     *id,
                                             HvkConfig      *config,
                                             GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_start_vm          (HvkHypervisor  *self,
                                             guint           timeout_ms,
                                             GCancellable   *cancellable,
                                             GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_stop_vm           (HvkHypervisor  *self,
                                             gboolean        wait_only,
                                             GCancellable   *cancellable,
                                             GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_pause_vm          (HvkHypervisor  *self,
                                             GCancellable   *cancellable,
                                             GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_resume_vm         (HvkHypervisor  *self,
                                             GCancellable   *cancellable,
                                             GError        **error);
/**
 * HVK_SAVE_DIR_MANIFEST:
 *
 * The file hvk_hypervisor_save_to_dir() writes last into its directory:
 * `{"format": "hvkit-save", "version": 1, "backend", "id", "config"
 * (the configuration as text), "cold_devices", "hotplugged" (devices as
 * hvk_device_to_json() writes them)}`.
 */
#define HVK_SAVE_DIR_MANIFEST "hvkit-save.json"
/**
 * HVK_SAVE_DIR_VERSION:
 *
 * The manifest's format version this hvkit writes and reads.
 */
#define HVK_SAVE_DIR_VERSION 1

HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_save_to_dir       (HvkHypervisor  *self,
                                             const char     *dir,
                                             GCancellable   *cancellable,
                                             GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_restore_from_dir  (HvkHypervisor  *self,
                                             const char     *dir,
                                             gboolean        paused,
                                             guint           timeout_ms,
                                             GCancellable   *cancellable,
                                             GError        **error);
HVK_AVAILABLE_IN_ALL
HvkConfig *hvk_save_dir_load_config         (const char     *dir,
                                             HvkRegistry    *registry,
                                             char          **saved_id,
                                             GPtrArray     **cold_devices,
                                             GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_save_vm           (HvkHypervisor  *self,
                                             GCancellable   *cancellable,
                                             GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_add_device        (HvkHypervisor  *self,
                                             HvkDevice      *device,
                                             GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_hotplug_add_device    (HvkHypervisor  *self,
                                                 HvkDevice      *device,
                                                 GCancellable   *cancellable,
                                                 GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_hotplug_remove_device (HvkHypervisor  *self,
                                                 const char     *device_id,
                                                 GCancellable   *cancellable,
                                                 GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_resize_memory     (HvkHypervisor   *self,
                                             guint32          mem_mb,
                                             guint32          block_size_mb,
                                             gboolean         probe,
                                             guint32         *new_mem_mb,
                                             HvkMemoryDevice *mem_dev,
                                             GCancellable    *cancellable,
                                             GError         **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_resize_vcpus      (HvkHypervisor  *self,
                                             guint32         vcpus,
                                             guint32        *old_vcpus,
                                             guint32        *new_vcpus,
                                             GCancellable   *cancellable,
                                             GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_set_io_limits     (HvkHypervisor     *self,
                                             const char        *device_id,
                                             const HvkIoLimits *limits,
                                             GCancellable      *cancellable,
                                             GError           **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_get_io_limits     (HvkHypervisor     *self,
                                             const char        *device_id,
                                             HvkIoLimits       *limits,
                                             GError           **error);
HVK_AVAILABLE_IN_ALL
guint32    hvk_hypervisor_get_total_memory_mb (HvkHypervisor *self);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_get_vm_console    (HvkHypervisor  *self,
                                             char          **protocol,
                                             char          **url,
                                             GError        **error);
HVK_AVAILABLE_IN_ALL
void       hvk_hypervisor_disconnect        (HvkHypervisor  *self);
HVK_AVAILABLE_IN_ALL
HvkCapabilities hvk_hypervisor_capabilities (HvkHypervisor  *self);
HVK_AVAILABLE_IN_ALL
HvkConfig *hvk_hypervisor_get_config        (HvkHypervisor  *self);
HVK_AVAILABLE_IN_ALL
GHashTable *hvk_hypervisor_get_thread_ids   (HvkHypervisor  *self,
                                             GCancellable   *cancellable,
                                             GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_cleanup           (HvkHypervisor  *self,
                                             GError        **error);
HVK_AVAILABLE_IN_ALL
GArray    *hvk_hypervisor_get_pids          (HvkHypervisor  *self);
HVK_AVAILABLE_IN_ALL
int        hvk_hypervisor_get_virtiofs_pid  (HvkHypervisor  *self);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_check             (HvkHypervisor  *self,
                                             GError        **error);
HVK_AVAILABLE_IN_ALL
JsonNode  *hvk_hypervisor_save_state        (HvkHypervisor  *self);
HVK_AVAILABLE_IN_ALL
JsonNode  *hvk_hypervisor_save_state_summary (HvkHypervisor *self);
HVK_AVAILABLE_IN_ALL
JsonNode  *hvk_hypervisor_describe          (HvkHypervisor  *self,
                                             gboolean        with_threads);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_load_state        (HvkHypervisor  *self,
                                             JsonNode       *state,
                                             GError        **error);
HVK_AVAILABLE_IN_ALL
char      *hvk_hypervisor_generate_socket   (HvkHypervisor  *self,
                                             const char     *id,
                                             GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_is_rate_limiter_builtin (HvkHypervisor *self);
HVK_AVAILABLE_IN_ALL
HvkVmState hvk_hypervisor_get_state         (HvkHypervisor  *self);
HVK_AVAILABLE_IN_ALL
GPtrArray *hvk_hypervisor_get_hotplugged_devices (HvkHypervisor *self);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_shutdown_vm (HvkHypervisor  *self,
                                       guint           timeout_ms,
                                       GCancellable   *cancellable,
                                       GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_reboot_vm   (HvkHypervisor  *self,
                                       GCancellable   *cancellable,
                                       GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_follow_events (HvkHypervisor  *self,
                                         GCancellable   *cancellable,
                                         GError        **error);
HVK_AVAILABLE_IN_ALL
void       hvk_hypervisor_emit_event    (HvkHypervisor  *self,
                                         const char     *name,
                                         JsonObject     *data);
HVK_AVAILABLE_IN_ALL
HvkStats  *hvk_hypervisor_get_stats (HvkHypervisor  *self,
                                     GCancellable   *cancellable,
                                     GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_balloon   (HvkHypervisor  *self,
                                     guint64         target_mb,
                                     gint            stats_interval_s,
                                     HvkBalloonInfo *info,
                                     GCancellable   *cancellable,
                                     GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_hypervisor_get_launch_command (HvkHypervisor  *self,
                                              char         ***argv,
                                              char          **kernel_cmdline,
                                              GError        **error);

G_END_DECLS
