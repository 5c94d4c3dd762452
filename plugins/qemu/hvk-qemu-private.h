/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Contract between the QEMU command-line builder (hvk-qemu-cmdline.c,
 * hvk-qemu-appenders.c, hvk-qemu-kernel-params.c) and the lifecycle
 * (hvk-qemu-hypervisor.c, hvk-qemu-qmp.c). */

#include <hvkit/hvkit.h>

#include "hvk-qemu-settings.h"

G_BEGIN_DECLS

#define HVK_QEMU_BACKEND_NAME "qemu"

/* The umask of QEMU and virtiofsd: the sockets and files they create in
 * the VM dir are the owner's only (0600). */
#define HVK_QEMU_CHILD_UMASK 0177

/* Where one VM's runtime files live; all inside STATE/ID/. */
typedef struct {
  char     *vm_dir;
  char     *qmp_socket;        /* STATE/ID/qmp.sock */
  char     *events_socket;     /* STATE/ID/events.sock: a QMP monitor for watchers only */
  char     *monitor_socket;    /* STATE/ID/monitor.sock: hvkit-monitor's QMP (why QEMU ends, panics) */
  char     *console_socket;    /* STATE/ID/console.sock */
  char     *pid_file;          /* STATE/ID/pid */
  char     *virtiofsd_socket;  /* STATE/ID/vhost-fs.sock */
  char     *exit_file;         /* STATE/ID/exit: how QEMU ended (hvkit-monitor) */
  char     *runstate_file;     /* STATE/ID/runstate: QEMU's run state, kept by hvkit-monitor */
} HvkQemuPaths;

void hvk_qemu_paths_clear (HvkQemuPaths *paths);

/* What hotplug needs to know about the machine the command line built. */
typedef struct {
  GPtrArray *bridges;        /* (element-type utf8) pci-bridge / pcie-pci-bridge ids */
  GPtrArray *root_ports;     /* (element-type utf8) pcie-root-port ids */
  char      *scsi_controller;/* "scsi0" when block_device_driver=virtio-scsi */
  char      *iothread;       /* iothread id, or NULL */
  gboolean   pcie;           /* machine has pcie.0 (q35) */
  guint32    max_vcpus;
  guint32    boot_vcpus;
  guint32    boot_memory_mb;
  guint32    max_memory_mb;
  guint32    memory_slots;
  guint32    virtio_mem_mb;  /* the virtio-mem device's size (0: none) */
  guint32    numa_nodes;     /* guest NUMA nodes (0: no NUMA topology) */
  GPtrArray *cold_slots;     /* (element-type utf8) (nullable) places cold-plugged
                              * devices took on hotplug buses: "scsi0.0:LUN",
                              * "BUS:SLOT" on a bridge, "BUS" for a whole
                              * root port; NULL in the state of an older hvkit */
} HvkQemuLayout;

/* Records that a cold-plugged device took @addr (-1: the whole bus) on
 * @bus, so that hotplug picks another place. */
void           hvk_qemu_layout_add_cold_slot (HvkQemuLayout *layout,
                                              const char    *bus,
                                              gint64         addr);

HvkQemuLayout *hvk_qemu_layout_new   (void);
void           hvk_qemu_layout_free  (HvkQemuLayout *layout);
JsonNode      *hvk_qemu_layout_to_json   (HvkQemuLayout *layout);
HvkQemuLayout *hvk_qemu_layout_from_json (JsonNode *node, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HvkQemuLayout, hvk_qemu_layout_free)

/* Builds the whole QEMU argv for VM @id: hvk_registry_append_device() for
 * the built-in devices (bridges, console, image, scsi controller, rng …)
 * then @config's [device.*] groups, then @extra_devices (cold-plugged with
 * add_device()), then -kernel/-initrd/-append with the composed kernel
 * params.  argv[0] is the QEMU binary (config `path`).  @out_kernel_cmdline
 * (optional) receives the composed kernel params, what -append carries
 * (also built when there is no -kernel, then carried nowhere), and
 * @out_uuid (optional) what -uuid carries.  @settings are @config read
 * once (%NULL: read here). */
HvkCmdline *hvk_qemu_build_cmdline (HvkRegistry            *registry,
                                    const char             *id,
                                    HvkConfig              *config,
                                    const HvkQemuSettings  *settings,
                                    const HvkQemuPaths     *paths,
                                    GPtrArray              *extra_devices,
                                    HvkQemuLayout         **out_layout,
                                    char                  **out_kernel_cmdline,
                                    char                  **out_uuid,
                                    GError                **error);

/* The guest kernel command line alone (what -append carries). */
char *hvk_qemu_build_kernel_cmdline (HvkRegistry  *registry,
                                     const char   *id,
                                     HvkConfig    *config,
                                     GError      **error);

/* Registration done by the plugin entry point. */
/* The device kinds, their appenders and their hotplug handlers
 * (hvk_qemu_register_hotplug_handlers(), hvk-qemu-hotplug.c). */
gboolean hvk_qemu_register_appenders       (HvkPlugin *plugin, GError **error);
gboolean hvk_qemu_register_hotplug_handlers (HvkPlugin *plugin, GError **error);
gboolean hvk_qemu_register_kernel_policies (HvkPlugin *plugin, GError **error);
gboolean hvk_qemu_register_config_keys     (HvkPlugin *plugin, GError **error);

/* The backend type (hvk-qemu-hypervisor.c). */
#define HVK_TYPE_QEMU_HYPERVISOR (hvk_qemu_hypervisor_get_type ())
G_DECLARE_FINAL_TYPE (HvkQemuHypervisor, hvk_qemu_hypervisor, HVK, QEMU_HYPERVISOR, GObject)

HvkCapabilities hvk_qemu_capabilities_for_config (HvkConfig *config);
HvkCapabilities hvk_qemu_capabilities_for_settings (const HvkQemuSettings *settings);

/* Whether @path (what hvkit will open or run for @key, a default
 * included) matches @globs, the config's @list_key; an unset or empty
 * list allows anything.  (hvk-qemu-appenders.c) */
gboolean hvk_qemu_check_allowed (HvkConfig          *config,
                                 const char         *key,
                                 const char         *list_key,
                                 const char * const *globs,
                                 const char         *path,
                                 GError            **error);

G_END_DECLS
