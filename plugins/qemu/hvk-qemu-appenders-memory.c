/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-qemu-appenders-common.h"
#include "hvk-qemu-build.h"

/* The appenders of the devices that make the guest's memory elastic:
 * virtio-mem (enable_virtio_mem), the balloon
 * (reclaim_guest_freed_memory). */

/* virtio-mem-pci over a memory backend of its whole size (Kata's
 * setupVirtioMem, on the command line rather than hot-added); the guest
 * plugs blocks of it when requested-size grows and unplugs them when it
 * shrinks (hvk-qemu-resize.c). */
static gboolean
append_virtio_mem (HvkBuildContext  *ctx,
                   HvkDevice        *device,
                   HvkCmdline       *cmdline,
                   gpointer          user_data,
                   GError          **error)
{
  HvkQemuBuildData *data;
  guint64 size_mb = hvk_qemu_device_uint (device, 0, "size_mb", NULL);
  const char *mem_path = hvk_qemu_device_string (device, "mem_path", NULL);
  const char *host_nodes = hvk_qemu_device_string (device, "host_nodes", NULL);
  gint64 node = hvk_device_get_int (device, "node");
  const char *id = hvk_device_get_id (device);
  g_autofree char *memdev = NULL;
  g_autoptr(HvkOpts) object = NULL;
  g_autoptr(HvkOpts) dev = hvk_opts_new ("virtio-mem-pci");

  if (!hvk_qemu_check_device_id (device, error))
    return FALSE;
  data = hvk_qemu_build_data (ctx, device, error);
  if (data == NULL)
    return FALSE;
  if (size_mb == 0)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "size_mb is 0 (default_maxmemory leaves no room above default_memory)");
  /* Kata's names for the built-in one; another device gets mem-ID. */
  memdev = g_str_equal (id, HVK_QEMU_VIRTIO_MEM_ID) ? g_strdup (HVK_QEMU_VIRTIO_MEM_MEMDEV)
                                                    : g_strdup_printf ("mem-%s", id);
  object = hvk_opts_new (mem_path != NULL ? "memory-backend-file" : "memory-backend-ram");
  hvk_opts_add (object, "id", memdev);
  hvk_opts_add_printf (object, "size", "%" G_GUINT64_FORMAT "M", size_mb);
  if (mem_path != NULL)
    hvk_opts_add (object, "mem-path", mem_path);
  if (hvk_qemu_device_boolean (device, FALSE, "share", NULL))
    hvk_opts_add (object, "share", "on");
  /* On a guest NUMA node: bound to its host nodes as the node's boot
   * memory is (hvk-qemu-numa.c). */
  if (host_nodes != NULL)
    {
      hvk_opts_add (object, "host-nodes", host_nodes);
      hvk_opts_add (object, "policy", "bind");
    }
  hvk_opts_add (dev, "id", id);
  hvk_opts_add (dev, "memdev", memdev);
  if (node >= 0)
    hvk_opts_add_printf (dev, "node", "%" G_GINT64_FORMAT, node);
  if (!hvk_cmdline_add_opts (cmdline, "-object", object, error) ||
      !hvk_cmdline_add_opts (cmdline, "-device", dev, error))
    return FALSE;
  data->virtio_mem_mb += size_mb;
  data->layout->virtio_mem_mb = (guint32) data->virtio_mem_mb;
  return TRUE;
}

/* virtio-balloon-pci as Kata's appendBalloonDevice writes it (govmm's
 * BalloonDevice: both switches spelled out, disable-modern=false). */
static gboolean
append_balloon (HvkBuildContext  *ctx,
                HvkDevice        *device,
                HvkCmdline       *cmdline,
                gpointer          user_data,
                GError          **error)
{
  g_autoptr(HvkOpts) dev = hvk_opts_new ("virtio-balloon-pci");

  if (!hvk_qemu_check_device_id (device, error) || hvk_qemu_build_data (ctx, device, error) == NULL)
    return FALSE;
  hvk_opts_add (dev, "id", hvk_device_get_id (device));
  hvk_opts_add (dev, "deflate-on-oom",
                hvk_qemu_device_boolean (device, TRUE, "deflate_on_oom", NULL) ? "on" : "off");
  hvk_opts_add (dev, "disable-modern", "false");
  hvk_opts_add (dev, "free-page-reporting",
                hvk_qemu_device_boolean (device, TRUE, "free_page_reporting", NULL) ? "on" : "off");
  return hvk_cmdline_add_opts (cmdline, "-device", dev, error);
}

gboolean
hvk_qemu_register_memory_appenders (HvkPlugin  *plugin,
                                    GError    **error)
{
  return hvk_plugin_register_device_appender (plugin, HVK_QEMU_BACKEND_NAME,
                                              HVK_QEMU_KIND_VIRTIO_MEM, 0,
                                              append_virtio_mem, NULL, error) &&
         hvk_plugin_register_device_appender (plugin, HVK_QEMU_BACKEND_NAME,
                                              HVK_QEMU_KIND_BALLOON, 0,
                                              append_balloon, NULL, error);
}
