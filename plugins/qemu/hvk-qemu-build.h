/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Internals shared by the QEMU command-line files (hvk-qemu-cmdline*.c,
 * hvk-qemu-build-data.c, hvk-qemu-appenders*.c, hvk-qemu-kernel-params.c,
 * hvk-qemu-kinds.c).
 * The lifecycle half only needs hvk-qemu-private.h. */

#include "hvk-qemu-private.h"

G_BEGIN_DECLS

/* The built-in device kinds the QEMU backend registers, so that every
 * device, built-in or not, goes through hvk_registry_append_device() and a
 * plugin can replace any of them with a higher-priority appender. */
#define HVK_QEMU_KIND_BRIDGE          "qemu-bridge"
#define HVK_QEMU_KIND_ROOT_PORT       "qemu-root-port"
#define HVK_QEMU_KIND_IMAGE           "image"
#define HVK_QEMU_KIND_SCSI_CONTROLLER "scsi-controller"
#define HVK_QEMU_KIND_PVPANIC         "pvpanic"
#define HVK_QEMU_KIND_IOMMU           "iommu"
#define HVK_QEMU_KIND_VIRTIO_MEM      "virtio-mem"
#define HVK_QEMU_KIND_BALLOON         "balloon"

#define HVK_QEMU_DEFAULT_PATH         "/usr/bin/qemu-system-x86_64"
/* The strictest -sandbox under which QEMU 7.2 starts, hot-plugs, pauses,
 * resizes, migrates to a descriptor and stops (QEMU runs in the
 * foreground under hvkit-monitor, never -daemonize, so spawn=deny holds;
 * hvkit-monitor sets an unprivileged identity before exec, so
 * elevateprivileges=deny does too).  disable_seccomp=true removes it. */
#define HVK_QEMU_DEFAULT_SANDBOX      "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"
#define HVK_QEMU_SCSI_CONTROLLER_ID   "scsi0"
#define HVK_QEMU_RNG_ID               "rng0"
#define HVK_QEMU_CONSOLE_ID           "console0"
#define HVK_QEMU_IMAGE_ID             "image0"
#define HVK_QEMU_PVPANIC_ID           "pvpanic0"
#define HVK_QEMU_IOMMU_ID             "iommu0"
/* Kata's names: the virtio-mem device and its memory backend. */
#define HVK_QEMU_VIRTIO_MEM_ID        "virtiomem0"
#define HVK_QEMU_VIRTIO_MEM_MEMDEV    "virtiomem"
#define HVK_QEMU_BALLOON_ID           "balloon0"
#define HVK_QEMU_SHARED_FS_ID         "sharedfs0"
#define HVK_QEMU_SHARED_FS_TAG        "kataShared"
#define HVK_QEMU_BRIDGE_FIRST_ADDR    2
#define HVK_QEMU_MAX_BRIDGES          5
#define HVK_QEMU_MAX_VCPUS            240
#define HVK_QEMU_FALLBACK_MEM_DIR     "/dev/shm"
#define HVK_QEMU_TEST_UUID_ENV        "HVKIT_TEST_UUID"

/* What the builder shares with the appenders through
 * hvk_build_context_get_backend_data() while one command line is built. */
typedef struct {
  HvkQemuLayout      *layout;         /* filled as devices are appended */
  const HvkQemuPaths *paths;
  const HvkQemuSettings *settings;    /* the configuration, read once */
  const char         *machine_type;
  gboolean            pcie;           /* q35: pcie.0 */
  gboolean            tcg;            /* the accelerator is TCG */
  gboolean            virtio_serial;  /* serial0 exists (virtio console) */
  gboolean            mem_shared;     /* guest RAM is shared (vhost-user) */
  guint               n_scsi_disks;   /* next scsi-hd LUN on scsi0 */
  guint64             dimm_memory_mb; /* cold-plugged pc-dimm memory */
  guint               n_dimms;
  guint               n_fdsets;       /* -add-fd sets of rootless disks */
  guint64             virtio_mem_mb;  /* virtio-mem devices' size */
  GHashTable         *throttle_groups; /* hvk_qemu_throttle_groups_join(): each -object once */
} HvkQemuBuildData;

void hvk_qemu_build_data_free (HvkQemuBuildData *data);

HvkQemuBuildData *hvk_qemu_build_data (HvkBuildContext  *ctx,
                                       HvkDevice        *device,
                                       GError          **error);

/* The settings of the build @ctx runs (read once by the builder); outside
 * the builder, read from @ctx's config into *@owned. */
const HvkQemuSettings *hvk_qemu_build_settings (HvkBuildContext  *ctx,
                                                HvkQemuSettings **owned);

/* Device accessors: the first of the NULL-terminated property names the
 * device's kind declares and the device sets; so appenders accept the
 * spellings of every kind that reaches them. */
const char *hvk_qemu_device_string  (HvkDevice  *device,
                                     const char *first_name,
                                     ...) G_GNUC_NULL_TERMINATED;
gboolean    hvk_qemu_device_has     (HvkDevice  *device,
                                     const char *first_name,
                                     ...) G_GNUC_NULL_TERMINATED;
gboolean    hvk_qemu_device_boolean (HvkDevice  *device,
                                     gboolean    fallback,
                                     const char *first_name,
                                     ...) G_GNUC_NULL_TERMINATED;
guint64     hvk_qemu_device_uint    (HvkDevice  *device,
                                     guint64     fallback,
                                     const char *first_name,
                                     ...) G_GNUC_NULL_TERMINATED;
const char * const *hvk_qemu_device_strv (HvkDevice  *device,
                                          const char *first_name,
                                          ...) G_GNUC_NULL_TERMINATED;

gboolean hvk_qemu_register_device_kinds (HvkPlugin *plugin,
                                         GError   **error);
gboolean hvk_qemu_register_net_appenders (HvkPlugin *plugin,
                                          GError   **error);
gboolean hvk_qemu_register_memory_appenders (HvkPlugin *plugin,
                                             GError   **error);

/* Kernel-param policies registered for "qemu"; exposed for tests. */
GPtrArray *hvk_qemu_base_kernel_params (const HvkQemuSettings *settings);

G_END_DECLS
