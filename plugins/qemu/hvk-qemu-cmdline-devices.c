/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <stdarg.h>

#include "hvk-qemu-builder.h"

/*
 * The devices of the QEMU command line: the built-in ones (bridges, root
 * ports, console, image, vIOMMU, pvpanic, SCSI controller, RNG, the
 * shared directory), each of a registered kind so another plugin may
 * replace its appender, then the configuration's and the cold-plugged
 * ones; all through hvk_registry_append_device().
 */

/* A built-in device of one of the kinds this backend (or the core)
 * registers, appended like any other so another plugin may replace it. */
static gboolean
append_builtin (HvkQemuBuilder  *b,
                const char      *kind_name,
                const char      *id,
                GError         **error,
                const char      *first_prop,
                ...) G_GNUC_NULL_TERMINATED;

static gboolean
append_builtin (HvkQemuBuilder  *b,
                const char      *kind_name,
                const char      *id,
                GError         **error,
                const char      *first_prop,
                ...)
{
  HvkDeviceKind *kind = hvk_registry_lookup_device_kind (b->registry, kind_name);
  g_autoptr(HvkDevice) device = NULL;
  va_list args;

  if (kind == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "backend qemu: device kind '%s' is not registered (is the qemu plugin loaded?)",
                   kind_name);
      return FALSE;
    }
  device = hvk_device_new (kind, id);

  va_start (args, first_prop);
  for (const char *prop = first_prop; prop != NULL; prop = va_arg (args, const char *))
    {
      const char *value = va_arg (args, const char *);

      if (value == NULL)
        continue;
      if (!hvk_device_set_from_string (device, prop, value, error))
        {
          va_end (args);
          return FALSE;
        }
    }
  va_end (args);

  return hvk_registry_append_device (b->registry, b->ctx, device, b->cmdline, error);
}

static gboolean
append_bridges (HvkQemuBuilder  *b,
                GError         **error)
{
  guint64 n = b->settings->default_bridges;
  const char *type = b->data->pcie ? "pcie-pci-bridge" : "pci-bridge";

  /* Only PC machines get bridges (Kata's genericBridges). */
  if (!g_str_equal (b->machine_type, "q35") && !g_str_equal (b->machine_type, "pc") &&
      !g_str_has_prefix (b->machine_type, "pc-"))
    return TRUE;
  if (n > HVK_QEMU_MAX_BRIDGES)
    n = HVK_QEMU_MAX_BRIDGES;

  for (guint64 i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("%s-%" G_GUINT64_FORMAT, type, i);
      g_autofree char *addr = g_strdup_printf ("%" G_GUINT64_FORMAT, HVK_QEMU_BRIDGE_FIRST_ADDR + i);
      g_autofree char *chassis = g_strdup_printf ("%" G_GUINT64_FORMAT, i + 1);

      if (!append_builtin (b, HVK_QEMU_KIND_BRIDGE, id, error,
                           "type", type,
                           "bus", b->data->pcie ? "pcie.0" : "pci.0",
                           "addr", addr,
                           "chassis", chassis,
                           NULL))
        return FALSE;
    }
  return TRUE;
}

static gboolean
append_root_ports (HvkQemuBuilder  *b,
                   GError         **error)
{
  guint64 n = b->settings->pcie_root_port;

  if (n == 0)
    return TRUE;
  if (!b->data->pcie)
    return hvk_qemu_builder_config_error (b, error, "pcie_root_port",
                         "PCIe root ports need machine_type=q35, not %s", b->machine_type);
  if (n > 32)
    return hvk_qemu_builder_config_error (b, error, "pcie_root_port",
                         "%" G_GUINT64_FORMAT " is more than 32", n);

  for (guint64 i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("rp%" G_GUINT64_FORMAT, i);
      g_autofree char *slot = g_strdup_printf ("%" G_GUINT64_FORMAT, i);

      if (!append_builtin (b, HVK_QEMU_KIND_ROOT_PORT, id, error,
                           "bus", "pcie.0",
                           "chassis", "0",
                           "slot", slot,
                           NULL))
        return FALSE;
    }
  return TRUE;
}

static gboolean
append_console (HvkQemuBuilder  *b,
                GError         **error)
{
  gboolean legacy = b->settings->use_legacy_serial;

  return append_builtin (b, HVK_DEVICE_KIND_CONSOLE, HVK_QEMU_CONSOLE_ID, error,
                         "backend", legacy ? "serial" : "socket",
                         "path", b->paths->console_socket,
                         NULL);
}

static gboolean
append_image (HvkQemuBuilder  *b,
              GError         **error)
{
  if (b->image == NULL)
    return TRUE;
  return append_builtin (b, HVK_QEMU_KIND_IMAGE, HVK_QEMU_IMAGE_ID, error,
                         "path", b->image,
                         "nvdimm", b->nvdimm_image ? "true" : "false",
                         NULL);
}

static gboolean
append_iommu (HvkQemuBuilder  *b,
              GError         **error)
{
  if (!b->iommu)
    return TRUE;
  return append_builtin (b, HVK_QEMU_KIND_IOMMU, HVK_QEMU_IOMMU_ID, error, NULL, NULL);
}

static gboolean
append_pvpanic (HvkQemuBuilder  *b,
                GError         **error)
{
  const char *dump = b->settings->guest_memory_dump_path;

  /* What happens around a dump means nothing without one. */
  if (dump == NULL && b->settings->guest_panic_stop)
    return hvk_qemu_builder_config_error (b, error, "guest_panic_stop",
                                          "true needs guest_memory_dump_path");
  if (dump == NULL && b->settings->guest_memory_dump_paging)
    return hvk_qemu_builder_config_error (b, error, "guest_memory_dump_paging",
                                          "true needs guest_memory_dump_path");
  if (dump == NULL)
    return TRUE;
  /* The dump's file name goes into a QMP (JSON) string. */
  if (!hvk_check_no_control_chars ("guest_memory_dump_path", dump, error))
    return FALSE;
  if (strpbrk (dump, "\"\\") != NULL)
    return hvk_qemu_builder_config_error (b, error, "guest_memory_dump_path",
                                          "'%s' holds a quote or a backslash", dump);
  return append_builtin (b, HVK_QEMU_KIND_PVPANIC, HVK_QEMU_PVPANIC_ID, error,
                         "no_shutdown", "true", NULL);
}

static gboolean
append_scsi_controller (HvkQemuBuilder  *b,
                        GError         **error)
{
  const char *driver = b->settings->block_device_driver;

  if (!g_str_equal (driver, "virtio-scsi"))
    return TRUE;
  return append_builtin (b, HVK_QEMU_KIND_SCSI_CONTROLLER, HVK_QEMU_SCSI_CONTROLLER_ID, error,
                         "iothread",
                         b->settings->enable_iothreads ? "iothread0" : NULL,
                         NULL);
}

static gboolean
append_rng (HvkQemuBuilder  *b,
            GError         **error)
{
  return append_builtin (b, HVK_DEVICE_KIND_RNG, HVK_QEMU_RNG_ID, error,
                         "filename", b->settings->entropy_source,
                         NULL);
}

/* enable_virtio_mem: one virtio-mem device of default_maxmemory -
 * default_memory MiB, a multiple of 4 MiB (Kata's setupVirtioMem), backed
 * like the boot memory (Kata's getMemArgs: hugepages, the file-backed
 * directory virtio-fs needs, shared). */
static gboolean
append_virtio_mem (HvkQemuBuilder  *b,
                   GError         **error)
{
  guint64 max_mb = b->max_memory_mb - b->settings->memory_offset;
  guint64 size_mb;
  g_autofree char *size = NULL;
  const char *mem_path = NULL;
  const HvkQemuNumaNode *first_node = NULL;

  if (!b->settings->enable_virtio_mem)
    return TRUE;
  size_mb = max_mb > b->memory_mb ? (max_mb - b->memory_mb) >> 2 << 2 : 0;
  if (size_mb == 0)
    return hvk_qemu_builder_config_error (b, error, "enable_virtio_mem",
                         "default_maxmemory (%" G_GUINT64_FORMAT " MiB) leaves no room above "
                         "default_memory (%" G_GUINT64_FORMAT " MiB) for virtio-mem",
                         max_mb, b->memory_mb);
  if (b->hugepages)
    mem_path = "/dev/hugepages";
  else if (b->file_backed && !b->settings->boot_to_be_template && !b->settings->boot_from_template)
    mem_path = b->mem_path;   /* a directory; a template's is its memory file */
  size = g_strdup_printf ("%" G_GUINT64_FORMAT, size_mb);
  /* With guest NUMA, on the first node (bound to its host nodes): the
   * memory it plugs joins that node. */
  if (b->numa != NULL && b->numa->nodes->len > 0)
    first_node = g_ptr_array_index (b->numa->nodes, 0);
  return append_builtin (b, HVK_QEMU_KIND_VIRTIO_MEM, HVK_QEMU_VIRTIO_MEM_ID, error,
                         "size_mb", size,
                         "mem_path", mem_path,
                         "share", b->mem_shared || b->hugepages ? "true" : NULL,
                         "node", first_node != NULL ? "0" : NULL,
                         "host_nodes", first_node != NULL ? first_node->host_nodes : NULL,
                         NULL);
}

/* reclaim_guest_freed_memory: Kata's balloon0, free-page reporting and
 * deflate-on-oom on. */
static gboolean
append_balloon (HvkQemuBuilder  *b,
                GError         **error)
{
  if (!b->settings->reclaim_guest_freed_memory)
    return TRUE;
  return append_builtin (b, HVK_QEMU_KIND_BALLOON, HVK_QEMU_BALLOON_ID, error, NULL, NULL);
}

static gboolean
has_fs_device (GPtrArray *devices)
{
  for (guint i = 0; devices != NULL && i < devices->len; i++)
    if (g_str_equal (hvk_device_get_kind_name (g_ptr_array_index (devices, i)), HVK_DEVICE_KIND_FS))
      return TRUE;
  return FALSE;
}

/* shared_fs with a shared_path and no fs device of the user's: the shared
 * directory Kata's sandbox adds, tag kataShared (virtio-fs through the
 * virtiofsd the lifecycle starts on the VM's vhost-fs.sock). */
static gboolean
append_shared_fs (HvkQemuBuilder  *b,
                  GError         **error)
{
  const char *shared_fs = b->settings->shared_fs;
  const char *shared_path = b->settings->shared_path;
  const char *driver;

  if (g_str_equal (shared_fs, "virtio-fs"))
    driver = "virtio-fs";
  else if (g_str_equal (shared_fs, "virtio-9p"))
    driver = "virtio-9p";
  else
    return TRUE;
  if (shared_path == NULL || has_fs_device (hvk_config_get_devices (b->config)) ||
      has_fs_device (b->extra_devices))
    return TRUE;
  return append_builtin (b, HVK_DEVICE_KIND_FS, HVK_QEMU_SHARED_FS_ID, error,
                         "driver", driver,
                         "path", shared_path,
                         "tag", HVK_QEMU_SHARED_FS_TAG,
                         NULL);
}

static gboolean
append_device_list (HvkQemuBuilder  *b,
                    GPtrArray       *devices,
                    GError         **error)
{
  for (guint i = 0; devices != NULL && i < devices->len; i++)
    if (!hvk_registry_append_device (b->registry, b->ctx, g_ptr_array_index (devices, i),
                                     b->cmdline, error))
      return FALSE;
  return TRUE;
}

/* Devices, in Kata's buildDevices order: bridges first so they get the
 * first free PCI addresses, then root ports, console, image, vIOMMU,
 * pvpanic, SCSI controller and RNG, the shared directory; then the
 * configuration's devices and those cold-plugged with add_device(). */
gboolean
hvk_qemu_build_devices (HvkQemuBuilder  *b,
                        GError         **error)
{
  if (!append_bridges (b, error) ||
      !append_root_ports (b, error) ||
      !append_console (b, error) ||
      !append_image (b, error) ||
      !append_iommu (b, error) ||
      !append_pvpanic (b, error) ||
      !append_scsi_controller (b, error) ||
      !append_rng (b, error) ||
      !append_virtio_mem (b, error) ||
      !append_balloon (b, error) ||
      !append_shared_fs (b, error))
    return FALSE;

  return append_device_list (b, hvk_config_get_devices (b->config), error) &&
         append_device_list (b, b->extra_devices, error);
}
