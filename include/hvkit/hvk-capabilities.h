/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#include <glib-object.h>
#include <hvkit/hvk-visibility.h>

G_BEGIN_DECLS

/**
 * HvkCapabilities:
 * @HVK_CAP_NONE: nothing
 * @HVK_CAP_BLOCK_DEVICE: block devices ("block-device")
 * @HVK_CAP_BLOCK_DEVICE_HOTPLUG: block hotplug ("block-device-hotplug")
 * @HVK_CAP_MULTI_QUEUE: multi-queue net ("multi-queue")
 * @HVK_CAP_FS_SHARING: a shared file system ("fs-sharing")
 * @HVK_CAP_NET_DEVICE_HOTPLUG: network hotplug ("net-device-hotplug")
 * @HVK_CAP_HYBRID_VSOCK: hybrid vsock over a UNIX socket ("hybrid-vsock")
 * @HVK_CAP_PAUSE_RESUME: pause and resume ("pause-resume")
 * @HVK_CAP_VCPU_RESIZE: vCPU hotplug ("vcpu-resize")
 * @HVK_CAP_MEMORY_RESIZE: memory hotplug ("memory-resize")
 * @HVK_CAP_SAVE_RESTORE: save a running VM and start it again from what
 *   was saved ("save-restore"): hvk_hypervisor_save_to_dir() and
 *   hvk_hypervisor_restore_from_dir() work (and, for a
 *   `boot_to_be_template` VM, hvk_hypervisor_save_vm() and its clones)
 * @HVK_CAP_VSOCK: vsock devices ("vsock")
 * @HVK_CAP_VFIO: VFIO passthrough ("vfio")
 *
 * What a backend can do.  The first five bits match Kata's
 * `types.Capabilities`.  The strings are a contract: append only.
 */
typedef enum /*< flags >*/ {
  HVK_CAP_NONE                 = 0,
  HVK_CAP_BLOCK_DEVICE         = 1 << 0,
  HVK_CAP_BLOCK_DEVICE_HOTPLUG = 1 << 1,
  HVK_CAP_MULTI_QUEUE          = 1 << 2,
  HVK_CAP_FS_SHARING           = 1 << 3,
  HVK_CAP_NET_DEVICE_HOTPLUG   = 1 << 4,
  HVK_CAP_HYBRID_VSOCK         = 1 << 5,
  HVK_CAP_PAUSE_RESUME         = 1 << 6,
  HVK_CAP_VCPU_RESIZE          = 1 << 7,
  HVK_CAP_MEMORY_RESIZE        = 1 << 8,
  HVK_CAP_SAVE_RESTORE         = 1 << 9,
  HVK_CAP_VSOCK                = 1 << 10,
  HVK_CAP_VFIO                 = 1 << 11,
} HvkCapabilities;

#define HVK_TYPE_CAPABILITIES (hvk_capabilities_get_type ())
HVK_AVAILABLE_IN_ALL
GType        hvk_capabilities_get_type     (void) G_GNUC_CONST;

HVK_AVAILABLE_IN_ALL
GStrv        hvk_capabilities_to_strv      (HvkCapabilities caps);
HVK_AVAILABLE_IN_ALL
char        *hvk_capabilities_to_string    (HvkCapabilities caps);
HVK_AVAILABLE_IN_ALL
gboolean     hvk_capabilities_from_string  (const char       *text,
                                            HvkCapabilities  *caps,
                                            GError          **error);
HVK_AVAILABLE_IN_ALL
const char  *hvk_capability_to_nick        (HvkCapabilities cap);

G_END_DECLS
