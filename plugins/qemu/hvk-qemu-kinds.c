/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-qemu-build.h"

/*
 * The device kinds of QEMU's built-in devices.  The command-line builder
 * creates one device of these kinds for each bridge, root port, image …
 * and appends it through the registry, so a plugin may register a
 * higher-priority appender for any of them.  Property names are part of
 * the device-string format: append-only.
 */

#define REQ HVK_PROP_FLAG_REQUIRED
#define OPT HVK_PROP_FLAG_NONE

static const HvkDevicePropSpec bridge_props[] = {
  { "type", HVK_PROP_STRING, OPT, "pci-bridge", "pci-bridge or pcie-pci-bridge" },
  { "bus", HVK_PROP_STRING, OPT, NULL, "Parent bus (pci.0 or pcie.0)" },
  { "addr", HVK_PROP_UINT, REQ, NULL, "Slot on the parent bus" },
  { "chassis", HVK_PROP_UINT, OPT, "1", "Chassis number (pci-bridge), unique and > 0" },
  { "shpc", HVK_PROP_BOOLEAN, OPT, "false", "Standard hot-plug controller (pci-bridge)" },
};

static const HvkDevicePropSpec root_port_props[] = {
  { "bus", HVK_PROP_STRING, OPT, "pcie.0", "Parent bus" },
  { "chassis", HVK_PROP_UINT, OPT, "0", "Chassis number" },
  { "slot", HVK_PROP_UINT, REQ, NULL, "Slot number, unique in the chassis" },
  { "multifunction", HVK_PROP_BOOLEAN, OPT, "false", "Multi-function port" },
  { "mem_reserve", HVK_PROP_STRING, OPT, NULL, "32-bit memory window to reserve (e.g. 64M)" },
  { "pref64_reserve", HVK_PROP_STRING, OPT, NULL, "64-bit prefetchable window to reserve" },
};

static const HvkDevicePropSpec image_props[] = {
  { "path", HVK_PROP_STRING, REQ | HVK_PROP_FLAG_PATH, NULL, "Guest root file system image" },
  { "nvdimm", HVK_PROP_BOOLEAN, OPT, "true", "Attach as a read-only NVDIMM (else virtio-blk)" },
};

static const HvkDevicePropSpec scsi_controller_props[] = {
  { "iothread", HVK_PROP_STRING, OPT, NULL, "I/O thread serving the controller" },
};

static const HvkDevicePropSpec pvpanic_props[] = {
  { "no_shutdown", HVK_PROP_BOOLEAN, OPT, "true", "Keep the VM after a guest panic (-no-shutdown)" },
};

static const HvkDevicePropSpec iommu_props[] = {
  { "intremap", HVK_PROP_BOOLEAN, OPT, "true", "Interrupt remapping" },
  { "device_iotlb", HVK_PROP_BOOLEAN, OPT, "true", "Device IOTLB" },
  { "caching_mode", HVK_PROP_BOOLEAN, OPT, "true", "Caching mode (needed by VFIO)" },
};

static const HvkDevicePropSpec virtio_mem_props[] = {
  { "size_mb", HVK_PROP_UINT, REQ, NULL, "Memory the device can plug, in MiB (its backend's size)" },
  { "mem_path", HVK_PROP_STRING, OPT, NULL, "Back it with a file in this directory (memory-backend-file), else anonymous RAM" },
  { "share", HVK_PROP_BOOLEAN, OPT, "false", "Map the memory shared (virtio-fs, vhost-user)" },
  { "node", HVK_PROP_INT, OPT, "-1", "Guest NUMA node of the device (-1: none given)" },
  { "host_nodes", HVK_PROP_STRING, OPT, NULL, "Host NUMA nodes its memory is bound to (\"0\", \"0-1\")" },
};

static const HvkDevicePropSpec balloon_props[] = {
  { "free_page_reporting", HVK_PROP_BOOLEAN, OPT, "true", "The guest reports the pages it frees; QEMU gives them back to the host" },
  { "deflate_on_oom", HVK_PROP_BOOLEAN, OPT, "true", "The guest deflates the balloon rather than run out of memory" },
};

static const struct {
  const char              *name;
  const char              *description;
  const HvkDevicePropSpec *props;
  guint                    n_props;
} qemu_kinds[] = {
#define KIND(name, desc, props) { name, desc, props, G_N_ELEMENTS (props) }
  KIND (HVK_QEMU_KIND_BRIDGE, "QEMU PCI bridge (pci-bridge or pcie-pci-bridge)", bridge_props),
  KIND (HVK_QEMU_KIND_ROOT_PORT, "QEMU PCIe root port", root_port_props),
  KIND (HVK_QEMU_KIND_IMAGE, "Guest root file system image (NVDIMM or virtio-blk)", image_props),
  KIND (HVK_QEMU_KIND_SCSI_CONTROLLER, "virtio-scsi controller", scsi_controller_props),
  KIND (HVK_QEMU_KIND_PVPANIC, "pvpanic device (guest panic notification)", pvpanic_props),
  KIND (HVK_QEMU_KIND_IOMMU, "Intel vIOMMU", iommu_props),
  KIND (HVK_QEMU_KIND_BALLOON, "virtio-balloon device (reclaim_guest_freed_memory)", balloon_props),
  KIND (HVK_QEMU_KIND_VIRTIO_MEM, "virtio-mem device (memory resized by the guest, block by block)", virtio_mem_props),
#undef KIND
};

gboolean
hvk_qemu_register_device_kinds (HvkPlugin  *plugin,
                                GError    **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (qemu_kinds); i++)
    {
      g_autoptr(HvkDeviceKind) kind = hvk_device_kind_new (qemu_kinds[i].name,
                                                           qemu_kinds[i].description,
                                                           qemu_kinds[i].props,
                                                           qemu_kinds[i].n_props,
                                                           error);

      if (kind == NULL || !hvk_plugin_register_device_kind (plugin, kind, error))
        return FALSE;
    }
  return TRUE;
}
