/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Contract between the acrn-dm command-line builder (hvk-acrn-cmdline.c,
 * hvk-acrn-appenders.c, hvk-acrn-kernel-params.c), the CPU-affinity index
 * (hvk-acrn-affinity.c), the process helpers (hvk-acrn-process.c) and the
 * lifecycle (hvk-acrn-hypervisor.c). */

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

#define HVK_ACRN_BACKEND_NAME "acrn"
/* Why the rate-limiter keys and device properties are refused. */
#define HVK_ACRN_NO_LIMITER "acrn-dm has no I/O rate limiter"

/* Kata's defaults (acrn_arch_base.go). */
#define HVK_ACRN_DEFAULT_PATH    "/usr/bin/acrn-dm"
#define HVK_ACRN_DEFAULT_CTLPATH "/usr/bin/acrnctl"

/* ACRN keeps VM names to 15 characters; ours are `sbx-ID`. */
#define HVK_ACRN_VM_NAME_PREFIX  "sbx-"
#define HVK_ACRN_VM_NAME_MAX_LEN 15

/* Slot 2 is hard-wired to GVT-g in acrn-dm; PCI has slots 0..31. */
#define HVK_ACRN_GVTG_SLOT 2
#define HVK_ACRN_MAX_SLOT  31

/* Placeholder virtio-blk devices (`nodisk`, drive indexes 1..8) whose
 * backing file `acrnctl blkrescan` swaps later: acrn-dm cannot hotplug.
 * Drive index 0 is the root image. */
#define HVK_ACRN_BLK_POOL_SIZE 8
#define HVK_ACRN_NODISK        "nodisk"

/* Kata's acrnStopSandboxTimeoutSecs. */
#define HVK_ACRN_STOP_TIMEOUT_MS 15000
/* How long start_vm() watches acrn-dm for an early exit (bounded by the
 * caller's timeout). */
#define HVK_ACRN_START_GRACE_MS  1000

#define HVK_ACRN_CONSOLE_SOCKET  "console.sock"
#define HVK_ACRN_LOG_FILE        "acrn-dm.log"
#define HVK_ACRN_AFFINITY_FILE   "cpu_affinity_idx"

/* Built-in device kinds the plugin registers. */
#define HVK_ACRN_KIND_HOSTBRIDGE "acrn-hostbridge"
#define HVK_ACRN_KIND_LPC        "acrn-lpc"
#define HVK_ACRN_KIND_CONSOLE    "acrn-console"
#define HVK_ACRN_KIND_IMAGE      "acrn-image"
#define HVK_ACRN_KIND_BLK_POOL   "acrn-blk-pool"

/* What the command line built that hotplug needs: drive index → slot. */
typedef struct {
  guint next_slot;
  int   blk_slots[HVK_ACRN_BLK_POOL_SIZE + 1];  /* -1: none */
} HvkAcrnLayout;

HvkAcrnLayout *hvk_acrn_layout_new       (void);
void           hvk_acrn_layout_free      (HvkAcrnLayout *layout);
HvkAcrnLayout *hvk_acrn_layout_copy      (const HvkAcrnLayout *layout);
gboolean       hvk_acrn_layout_take_slot (HvkAcrnLayout *layout,
                                          HvkDevice     *device,
                                          guint         *slot,
                                          GError       **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HvkAcrnLayout, hvk_acrn_layout_free)

/* The layout of a build context, created on first use. */
HvkAcrnLayout *hvk_acrn_build_context_get_layout (HvkBuildContext *ctx);

/* What the launch needs besides the configuration. */
typedef struct {
  const char *acrn_path;     /* argv[0] */
  const char *vm_name;       /* sbx-ID, last argument */
  const char *apic_id;       /* --cpu_affinity; NULL leaves it out */
  const char *console_path;  /* STATE/ID/console.sock */
} HvkAcrnLaunch;

/* Builds acrn-dm's argv in LaunchAcrn's order: -A, -m, the devices (the
 * built-ins, then @config's [device.*] groups, then @extra_devices), then
 * --cpu_affinity, -k, -B and the VM name.  Also returns the composed
 * kernel command line and the slot layout. */
HvkCmdline *hvk_acrn_build_cmdline (HvkRegistry          *registry,
                                    const char           *id,
                                    HvkConfig            *config,
                                    const HvkAcrnLaunch  *launch,
                                    GPtrArray            *extra_devices,
                                    char                **out_kernel_cmdline,
                                    HvkAcrnLayout       **out_layout,
                                    GError              **error);

/* `sbx-ID`, or an error when ACRN would refuse it. */
char *hvk_acrn_vm_name (const char  *id,
                        GError     **error);

/* Device kinds ACRN cannot express (vsock, fs …): %TRUE with a
 * NOT_SUPPORTED error set when @device is one of them and no plugin added
 * an appender for it. */
gboolean hvk_acrn_device_unsupported (HvkRegistry  *registry,
                                      HvkDevice    *device,
                                      const char   *operation,
                                      GError      **error);

/* Reads a device property whatever its integer type; %FALSE if unset. */
gboolean hvk_acrn_device_get_index (HvkDevice *device,
                                    const char *prop,
                                    gint64     *value);

/* Registration done by the plugin entry point. */
gboolean hvk_acrn_register_device_kinds    (HvkPlugin *plugin, GError **error);
gboolean hvk_acrn_register_appenders       (HvkPlugin *plugin, GError **error);
gboolean hvk_acrn_register_kernel_policies (HvkPlugin *plugin, GError **error);

/* CPU affinity (hvk-acrn-affinity.c): the APIC ids of the host CPUs, and
 * the index file STORE/cpu_affinity_idx that hands them out in turn under
 * an flock, wrapping around as Kata's getNextApicid does. */
GPtrArray *hvk_acrn_read_apic_ids  (const char  *cpuinfo_path,
                                    GError     **error);
gboolean   hvk_acrn_affinity_peek  (const char  *store,
                                    const char  *cpuinfo_path,
                                    char       **apic_id,
                                    GError     **error);
gboolean   hvk_acrn_affinity_take  (const char  *store,
                                    const char  *cpuinfo_path,
                                    char       **apic_id,
                                    GError     **error);
gboolean   hvk_acrn_affinity_release (const char  *store,
                                      GError     **error);

/* Processes (hvk-acrn-process.c). */
/* Launches @argv in its own session with stdin from /dev/null and
 * stdout/stderr to @log_path; the child is not reaped automatically. */
gboolean hvk_acrn_process_spawn      (const char * const *argv,
                                      const char         *log_path,
                                      GPid               *pid,
                                      GError            **error);
/* Reaps @pid if it is our child and has exited; returns %TRUE and its
 * wait status then. */
gboolean hvk_acrn_process_reap       (GPid pid,
                                      int  *wait_status);
/* Runs a short command (acrnctl) and fails with its stderr. */
gboolean hvk_acrn_process_run        (const char * const *argv,
                                      GCancellable       *cancellable,
                                      GError            **error);

/* The backend type (hvk-acrn-hypervisor.c). */
#define HVK_TYPE_ACRN_HYPERVISOR (hvk_acrn_hypervisor_get_type ())
G_DECLARE_FINAL_TYPE (HvkAcrnHypervisor, hvk_acrn_hypervisor, HVK, ACRN_HYPERVISOR, GObject)

#define HVK_ACRN_CAPABILITIES (HVK_CAP_BLOCK_DEVICE | HVK_CAP_BLOCK_DEVICE_HOTPLUG)

G_END_DECLS
