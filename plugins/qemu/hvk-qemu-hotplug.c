/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vhost.h>

#include "hvk-qemu-private.h"
#include "hvk-qemu-build.h"
#include "hvk-qemu-hypervisor-private.h"
#include "hvk-qemu-virtiofsd.h"
#include "hvk-qemu-qmp.h"

/* Live changes of a running VM: hotplug and unplug of devices, vCPU and
 * memory resize (libvirt's qemu_hotplug.c). */

/* ---- hotplug ---- */

static const char *
device_string (HvkDevice  *device,
               const char *first_name,
               ...) G_GNUC_NULL_TERMINATED;

/* The first of the named properties the device's kind declares and the
 * device sets: the kinds of different plugins spell things differently. */
static const char *
device_string (HvkDevice  *device,
               const char *first_name,
               ...)
{
  HvkDeviceKind *kind = hvk_device_get_kind (device);
  const char *result = NULL;
  va_list args;

  va_start (args, first_name);
  for (const char *name = first_name; name != NULL && result == NULL; name = va_arg (args, const char *))
    {
      const HvkDevicePropSpec *spec = hvk_device_kind_lookup_prop (kind, name);

      if (spec != NULL && spec->type == HVK_PROP_STRING && hvk_device_has (device, name))
        result = hvk_device_get_string (device, name);
    }
  va_end (args);
  return result;
}

static gboolean
device_boolean (HvkDevice  *device,
                const char *name)
{
  const HvkDevicePropSpec *spec = hvk_device_kind_lookup_prop (hvk_device_get_kind (device), name);

  return spec != NULL && spec->type == HVK_PROP_BOOLEAN && hvk_device_get_boolean (device, name);
}

static guint64
device_uint (HvkDevice  *device,
             const char *name,
             guint64     fallback)
{
  const HvkDevicePropSpec *spec = hvk_device_kind_lookup_prop (hvk_device_get_kind (device), name);

  if (spec == NULL || !hvk_device_has (device, name))
    return fallback;
  if (spec->type == HVK_PROP_UINT)
    return hvk_device_get_uint (device, name);
  if (spec->type == HVK_PROP_INT)
    return (guint64) MAX (hvk_device_get_int (device, name), 0);
  return fallback;
}

static gboolean
slot_used (HvkQemuHypervisor *self,
           const char        *bus,
           int                addr)
{
  g_autoptr(GList) members = json_object_get_members (self->hotplugged);

  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonObject *record = json_object_get_object_member (self->hotplugged, l->data);

      if (g_strcmp0 (json_object_get_string_member_with_default (record, "bus", NULL), bus) == 0
          && json_object_get_int_member_with_default (record, "addr", -1) == addr)
        return TRUE;
    }
  return FALSE;
}

/* A free hotplug place for a PCI device: an empty pcie-root-port, else a
 * free slot of a bridge, else (pc machines) the root bus. */
static gboolean
find_pci_slot (HvkQemuHypervisor *self,
               const char        *device_id,
               char             **bus,
               int               *addr,
               GError           **error)
{
  HvkQemuLayout *layout = self->layout;

  *bus = NULL;
  *addr = -1;
  if (layout != NULL && layout->root_ports != NULL)
    for (guint i = 0; i < layout->root_ports->len; i++)
      if (!slot_used (self, layout->root_ports->pdata[i], -1))
        {
          *bus = g_strdup (layout->root_ports->pdata[i]);
          return TRUE;
        }
  if (layout != NULL && layout->bridges != NULL)
    for (guint i = 0; i < layout->bridges->len; i++)
      for (int slot = BRIDGE_FIRST_SLOT; slot <= BRIDGE_LAST_SLOT; slot++)
        if (!slot_used (self, layout->bridges->pdata[i], slot))
          {
            *bus = g_strdup (layout->bridges->pdata[i]);
            *addr = slot;
            return TRUE;
          }
  if (layout == NULL || !layout->pcie)
    return TRUE;   /* ACPI hotplug on pci.0: QEMU picks the slot */

  g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
               "cannot hotplug device '%s' into VM '%s': no free bridge slot or "
               "pcie-root-port (raise default_bridges or pcie_root_port)",
               device_id, self->id);
  return FALSE;
}

static void
set_bus (JsonObject *args,
         const char *bus,
         int         addr)
{
  if (bus != NULL)
    json_object_set_string_member (args, "bus", bus);
  if (addr >= 0)
    {
      g_autofree char *text = g_strdup_printf ("0x%x", addr);
      json_object_set_string_member (args, "addr", text);
    }
}

static JsonObject *
new_record (const char *kind,
            const char *driver)
{
  JsonObject *record = json_object_new ();

  json_object_set_string_member (record, "kind", kind);
  json_object_set_string_member (record, "driver", driver);
  return record;
}

static void
record_bus (JsonObject *record,
            const char *bus,
            int         addr)
{
  if (bus != NULL)
    json_object_set_string_member (record, "bus", bus);
  json_object_set_int_member (record, "addr", addr);
}

static gboolean
hotplug_block (HvkQemuHypervisor *self,
               HvkDevice         *device,
               GCancellable      *cancellable,
               GError           **error)
{
  const char *id = hvk_device_get_id (device);
  const char *path = device_string (device, "path", "file", NULL);
  const char *format = device_string (device, "format", NULL);
  const char *driver_cfg = device_string (device, "driver", NULL);
  const char *serial = device_string (device, "serial", NULL);
  gboolean read_only = device_boolean (device, "readonly") || device_boolean (device, "read_only")
                       || device_boolean (device, "read-only");
  g_autofree char *node = g_strdup_printf ("drive-%s", id);
  g_autoptr(JsonObject) blockdev = json_object_new ();
  g_autoptr(JsonObject) file = json_object_new ();
  g_autoptr(JsonObject) args = json_object_new ();
  g_autoptr(JsonObject) record = NULL;
  g_autofree char *bus = NULL;
  int addr = -1;
  gboolean scsi;
  struct stat st;

  if (path == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "block device '%s' has no path", id);
      return FALSE;
    }
  if (stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "block device '%s': %s: %s", id, path, g_strerror (saved));
      return FALSE;
    }
  /* The device's driver, else the config's block_device_driver. */
  if (driver_cfg == NULL)
    driver_cfg = hvk_qemu_config_string (self->config, "block_device_driver", NULL);
  scsi = g_strcmp0 (driver_cfg, "virtio-scsi") == 0;
  if (scsi && (self->layout == NULL || self->layout->scsi_controller == NULL))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "block device '%s': VM '%s' has no virtio-scsi controller "
                   "(block_device_driver is not virtio-scsi)", id, self->id);
      return FALSE;
    }
  if (!scsi && driver_cfg != NULL && !g_str_equal (driver_cfg, "virtio-blk"))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "backend '%s' cannot hotplug block device '%s' with driver '%s' "
                   "(virtio-blk or virtio-scsi)", HVK_QEMU_BACKEND_NAME, id, driver_cfg);
      return FALSE;
    }

  json_object_set_string_member (file, "driver", S_ISBLK (st.st_mode) ? "host_device" : "file");
  json_object_set_string_member (file, "filename", path);
  json_object_set_string_member (blockdev, "node-name", node);
  json_object_set_string_member (blockdev, "driver", format ? format : "raw");
  json_object_set_boolean_member (blockdev, "read-only", read_only);
  json_object_set_object_member (blockdev, "file", g_steal_pointer (&file));

  if (scsi)
    record = new_record (HVK_DEVICE_KIND_BLOCK, "scsi-hd");
  else
    {
      if (!find_pci_slot (self, id, &bus, &addr, error))
        return FALSE;
      record = new_record (HVK_DEVICE_KIND_BLOCK, "virtio-blk-pci");
    }

  if (!hvk_qemu_vm_qmp_run (self, "blockdev-add", blockdev, cancellable, error))
    return FALSE;

  json_object_set_string_member (args, "driver", json_object_get_string_member (record, "driver"));
  json_object_set_string_member (args, "id", id);
  json_object_set_string_member (args, "drive", node);
  if (serial != NULL)
    json_object_set_string_member (args, "serial", serial);
  if (scsi)
    {
      g_autofree char *scsi_bus = g_strdup_printf ("%s.0", self->layout->scsi_controller);
      int lun = 0;

      while (slot_used (self, scsi_bus, lun))
        lun++;
      json_object_set_string_member (args, "bus", scsi_bus);
      json_object_set_int_member (args, "channel", 0);
      json_object_set_int_member (args, "scsi-id", 0);
      json_object_set_int_member (args, "lun", lun);
      record_bus (record, scsi_bus, lun);
    }
  else
    {
      set_bus (args, bus, addr);
      record_bus (record, bus, addr);
    }
  if (!hvk_qemu_vm_qmp_run (self, "device_add", args, cancellable, error))
    {
      g_autoptr(JsonObject) del = json_object_new ();
      json_object_set_string_member (del, "node-name", node);
      hvk_qemu_vm_qmp_run (self, "blockdev-del", del, cancellable, NULL);
      return FALSE;
    }

  json_object_set_string_member (record, "node", node);
  json_object_set_string_member (record, "path", path);
  json_object_set_object_member (self->hotplugged, id, g_steal_pointer (&record));
  return TRUE;
}

static gboolean
hotplug_net (HvkQemuHypervisor *self,
             HvkDevice         *device,
             GCancellable      *cancellable,
             GError           **error)
{
  const char *id = hvk_device_get_id (device);
  const char *ifname = device_string (device, "ifname", "tap", "tap_name", "name", NULL);
  const char *mac = device_string (device, "mac", "mac_address", "hwaddr", NULL);
  g_autofree char *netdev = g_strdup_printf ("netdev-%s", id);
  g_autoptr(JsonObject) netdev_args = json_object_new ();
  g_autoptr(JsonObject) args = json_object_new ();
  g_autoptr(JsonObject) record = new_record (HVK_DEVICE_KIND_NET, "virtio-net-pci");
  g_autofree char *bus = NULL;
  int addr = -1;

  const char *type = device_string (device, "type", NULL);

  if (type != NULL && !g_str_equal (type, "tap"))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "backend '%s' hotplugs tap network devices only, not '%s' (device '%s')",
                   HVK_QEMU_BACKEND_NAME, type, id);
      return FALSE;
    }
  if (ifname == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "net device '%s' has no tap interface name (ifname)", id);
      return FALSE;
    }
  if (!find_pci_slot (self, id, &bus, &addr, error))
    return FALSE;

  json_object_set_string_member (netdev_args, "type", "tap");
  json_object_set_string_member (netdev_args, "id", netdev);
  json_object_set_string_member (netdev_args, "ifname", ifname);
  json_object_set_string_member (netdev_args, "script", "no");
  json_object_set_string_member (netdev_args, "downscript", "no");
  if (device_boolean (device, "vhost"))
    json_object_set_boolean_member (netdev_args, "vhost", TRUE);
  if (!hvk_qemu_vm_qmp_run (self, "netdev_add", netdev_args, cancellable, error))
    return FALSE;

  json_object_set_string_member (args, "driver", "virtio-net-pci");
  json_object_set_string_member (args, "id", id);
  json_object_set_string_member (args, "netdev", netdev);
  if (mac != NULL)
    json_object_set_string_member (args, "mac", mac);
  set_bus (args, bus, addr);
  if (!hvk_qemu_vm_qmp_run (self, "device_add", args, cancellable, error))
    {
      g_autoptr(JsonObject) del = json_object_new ();
      json_object_set_string_member (del, "id", netdev);
      hvk_qemu_vm_qmp_run (self, "netdev_del", del, cancellable, NULL);
      return FALSE;
    }

  record_bus (record, bus, addr);
  json_object_set_string_member (record, "netdev", netdev);
  json_object_set_object_member (self->hotplugged, id, g_steal_pointer (&record));
  return TRUE;
}

static gboolean
hotplug_vfio (HvkQemuHypervisor *self,
              HvkDevice         *device,
              GCancellable      *cancellable,
              GError           **error)
{
  const char *id = hvk_device_get_id (device);
  const char *host = device_string (device, "host", "bdf", "address", "sysfsdev", NULL);
  g_autoptr(JsonObject) args = json_object_new ();
  g_autoptr(JsonObject) record = new_record (HVK_DEVICE_KIND_VFIO, "vfio-pci");
  g_autofree char *bus = NULL;
  int addr = -1;

  if (host == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "vfio device '%s' has no host address (host)", id);
      return FALSE;
    }
  if (!find_pci_slot (self, id, &bus, &addr, error))
    return FALSE;
  json_object_set_string_member (args, "driver", "vfio-pci");
  json_object_set_string_member (args, "id", id);
  json_object_set_string_member (args, g_str_has_prefix (host, "/") ? "sysfsdev" : "host", host);
  set_bus (args, bus, addr);
  if (!hvk_qemu_vm_qmp_run (self, "device_add", args, cancellable, error))
    return FALSE;
  record_bus (record, bus, addr);
  json_object_set_object_member (self->hotplugged, id, g_steal_pointer (&record));
  return TRUE;
}


gboolean
hvk_qemu_vm_hotplug_add (HvkHypervisor  *hypervisor,
                         HvkDevice      *device,
                         GCancellable   *cancellable,
                         GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  const char *kind = hvk_device_get_kind_name (device);
  const char *id = hvk_device_get_id (device);
  gboolean ok;

  if (!hvk_qemu_vm_check_state (self, "hotplug a device into", S (RUNNING) | S (PAUSED), error))
    return FALSE;
  if (!hvk_device_validate (device, error))
    return FALSE;
  if (id == NULL || *id == '\0')
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "cannot hotplug a %s device without an id into VM '%s'", kind, self->id);
      return FALSE;
    }
  if (json_object_has_member (self->hotplugged, id)
      || hvk_config_lookup_device (self->config, id) != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "VM '%s' already has a device '%s'", self->id, id);
      return FALSE;
    }

  if (g_str_equal (kind, HVK_DEVICE_KIND_BLOCK))
    ok = hotplug_block (self, device, cancellable, error);
  else if (g_str_equal (kind, HVK_DEVICE_KIND_NET))
    ok = hotplug_net (self, device, cancellable, error);
  else if (g_str_equal (kind, HVK_DEVICE_KIND_VFIO))
    ok = hotplug_vfio (self, device, cancellable, error);
  else if (g_str_equal (kind, HVK_DEVICE_KIND_CPU))
    {
      guint32 n = (guint32) device_uint (device, "count", device_uint (device, "vcpus", 1));
      ok = hvk_qemu_vm_resize_vcpus (hypervisor, self->vcpus + n, NULL, NULL, cancellable, error);
    }
  else if (g_str_equal (kind, HVK_DEVICE_KIND_MEMORY))
    {
      guint64 size = device_uint (device, "size_mb", device_uint (device, "size", 0));
      if (size == 0)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "memory device '%s' has no size_mb", id);
          return FALSE;
        }
      ok = hvk_qemu_vm_resize_memory (hypervisor, self->memory_mb + (guint32) size, 0, FALSE,
                               NULL, NULL, cancellable, error);
    }
  else
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "backend '%s' cannot hotplug devices of kind '%s' (device '%s')",
                   HVK_QEMU_BACKEND_NAME, kind, id);
      return FALSE;
    }

  if (!ok)
    g_prefix_error (error, "cannot hotplug %s device '%s' into VM '%s': ", kind, id, self->id);
  return ok;
}

/* device_del, then wait for the guest to let go (DEVICE_DELETED). */
static gboolean
device_del_and_wait (HvkQemuHypervisor *self,
                     const char        *id,
                     GCancellable      *cancellable,
                     GError           **error)
{
  g_autoptr(JsonObject) args = json_object_new ();
  g_autoptr(JsonObject) event = NULL;

  json_object_set_string_member (args, "id", id);
  if (!hvk_qemu_vm_qmp_run (self, "device_del", args, cancellable, error))
    return FALSE;
  event = hvk_qmp_client_wait_event (self->qmp, "DEVICE_DELETED", "device", id,
                                     DEVICE_DELETED_TIMEOUT_MS, cancellable, error);
  if (event == NULL)
    {
      if (error != NULL && g_error_matches (*error, HVK_ERROR, HVK_ERROR_TIMEOUT))
        g_prefix_error (error, "the guest did not release device '%s': ", id);
      return FALSE;
    }
  return TRUE;
}

gboolean
hvk_qemu_vm_hotplug_remove (HvkHypervisor  *hypervisor,
                            const char     *device_id,
                            GCancellable   *cancellable,
                            GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  JsonObject *record;
  const char *node;
  const char *netdev;
  const char *memdev;

  if (!hvk_qemu_vm_check_state (self, "unplug a device from", S (RUNNING) | S (PAUSED), error))
    return FALSE;
  record = json_object_has_member (self->hotplugged, device_id)
           ? json_object_get_object_member (self->hotplugged, device_id) : NULL;
  if (record == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "VM '%s' has no hot-plugged device '%s'", self->id, device_id);
      return FALSE;
    }

  if (!device_del_and_wait (self, device_id, cancellable, error))
    {
      g_prefix_error (error, "cannot unplug device '%s' from VM '%s': ", device_id, self->id);
      return FALSE;
    }

  node = json_object_get_string_member_with_default (record, "node", NULL);
  netdev = json_object_get_string_member_with_default (record, "netdev", NULL);
  memdev = json_object_get_string_member_with_default (record, "memdev", NULL);
  if (node != NULL)
    {
      g_autoptr(JsonObject) args = json_object_new ();
      json_object_set_string_member (args, "node-name", node);
      if (!hvk_qemu_vm_qmp_run (self, "blockdev-del", args, cancellable, error))
        return FALSE;
    }
  if (netdev != NULL)
    {
      g_autoptr(JsonObject) args = json_object_new ();
      json_object_set_string_member (args, "id", netdev);
      if (!hvk_qemu_vm_qmp_run (self, "netdev_del", args, cancellable, error))
        return FALSE;
    }
  if (memdev != NULL)
    {
      g_autoptr(JsonObject) args = json_object_new ();
      json_object_set_string_member (args, "id", memdev);
      if (!hvk_qemu_vm_qmp_run (self, "object-del", args, cancellable, error))
        return FALSE;
      self->memory_mb -= (guint32) json_object_get_int_member_with_default (record, "size_mb", 0);
    }
  if (g_strcmp0 (json_object_get_string_member_with_default (record, "kind", ""), HVK_DEVICE_KIND_CPU) == 0)
    self->vcpus--;
  json_object_remove_member (self->hotplugged, device_id);
  return TRUE;
}

/* ---- resize ---- */

static guint32
max_vcpus (HvkQemuHypervisor *self)
{
  if (self->layout != NULL && self->layout->max_vcpus > 0)
    return self->layout->max_vcpus;
  return (guint32) hvk_config_get_uint (self->config, "default_maxvcpus");
}

/* Hot-plugged CPUs, newest last. */
static GPtrArray *
hotplugged_of_kind (HvkQemuHypervisor *self,
                    const char        *kind)
{
  g_autoptr(GList) members = json_object_get_members (self->hotplugged);
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);

  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonObject *record = json_object_get_object_member (self->hotplugged, l->data);
      if (g_strcmp0 (json_object_get_string_member_with_default (record, "kind", ""), kind) == 0)
        g_ptr_array_add (ids, g_strdup (l->data));
    }
  return ids;
}

static gboolean
add_one_vcpu (HvkQemuHypervisor *self,
              JsonArray         *hotpluggable,
              int               *cursor,
              GCancellable      *cancellable,
              GError           **error)
{
  /* QEMU lists the places highest first; take the lowest free one.
   * @cursor walks down the list across calls. */
  for (int i = *cursor; i >= 0; i--)
    {
      JsonObject *slot = json_array_get_object_element (hotpluggable, i);
      JsonObject *props;
      g_autoptr(JsonObject) args = NULL;
      g_autoptr(JsonObject) record = NULL;
      g_autoptr(GList) names = NULL;
      g_autoptr(GString) cpu_id = g_string_new ("cpu");
      const char *type;

      if (slot == NULL || json_object_has_member (slot, "qom-path")
          || !json_object_has_member (slot, "props"))
        continue;
      type = json_object_get_string_member_with_default (slot, "type", NULL);
      props = json_object_get_object_member (slot, "props");
      if (type == NULL || props == NULL)
        continue;

      args = json_object_new ();
      json_object_set_string_member (args, "driver", type);
      names = json_object_get_members (props);
      for (GList *l = names; l != NULL; l = l->next)
        {
          /* node-id only matters with NUMA, which hvkit does not set up. */
          if (g_str_equal (l->data, "node-id"))
            continue;
          json_object_set_int_member (args, l->data, json_object_get_int_member (props, l->data));
        }
      g_string_append_printf (cpu_id, "-%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT,
                              json_object_get_int_member_with_default (props, "socket-id", 0),
                              json_object_get_int_member_with_default (props, "core-id", 0),
                              json_object_get_int_member_with_default (props, "thread-id", 0));
      json_object_set_string_member (args, "id", cpu_id->str);
      if (!hvk_qemu_vm_qmp_run (self, "device_add", args, cancellable, error))
        return FALSE;

      record = new_record (HVK_DEVICE_KIND_CPU, type);
      json_object_set_object_member (self->hotplugged, cpu_id->str, g_steal_pointer (&record));
      *cursor = i - 1;
      self->vcpus++;
      return TRUE;
    }
  g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
               "QEMU of VM '%s' has no free vCPU place left", self->id);
  return FALSE;
}

gboolean
hvk_qemu_vm_resize_vcpus (HvkHypervisor  *hypervisor,
                   guint32         vcpus,
                   guint32        *old_vcpus,
                   guint32        *new_vcpus,
                   GCancellable   *cancellable,
                   GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  guint32 max = 0;
  guint32 before = self->vcpus;
  gboolean ok = TRUE;

  if (old_vcpus != NULL)
    *old_vcpus = before;
  if (new_vcpus != NULL)
    *new_vcpus = before;
  if (!hvk_qemu_vm_check_state (self, "resize the vCPUs of", S (RUNNING) | S (PAUSED), error))
    return FALSE;

  max = max_vcpus (self);
  if (vcpus == 0 || vcpus > max)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "cannot resize VM '%s' to %u vCPUs: it must be between 1 and "
                   "maxcpus (%u)", self->id, vcpus, max);
      return FALSE;
    }

  if (vcpus > self->vcpus)
    {
      g_autoptr(JsonNode) ret = hvk_qemu_vm_qmp_exec (self, "query-hotpluggable-cpus", NULL, cancellable, error);

      if (ret == NULL || !JSON_NODE_HOLDS_ARRAY (ret))
        {
          if (ret != NULL)
            g_set_error (error, HVK_ERROR, HVK_ERROR_QMP,
                         "QMP command 'query-hotpluggable-cpus' returned no list");
          ok = FALSE;
        }
      int cursor = ok ? (int) json_array_get_length (json_node_get_array (ret)) - 1 : -1;

      while (ok && self->vcpus < vcpus)
        ok = add_one_vcpu (self, json_node_get_array (ret), &cursor, cancellable, error);
    }
  else if (vcpus < self->vcpus)
    {
      g_autoptr(GPtrArray) cpus = hotplugged_of_kind (self, HVK_DEVICE_KIND_CPU);

      /* Only hot-plugged vCPUs can go; the boot ones stay (as Kata). */
      for (guint i = cpus->len; ok && i > 0 && self->vcpus > vcpus; i--)
        {
          const char *cpu_id = cpus->pdata[i - 1];

          ok = device_del_and_wait (self, cpu_id, cancellable, error);
          if (ok)
            {
              json_object_remove_member (self->hotplugged, cpu_id);
              self->vcpus--;
            }
        }
    }

  if (new_vcpus != NULL)
    *new_vcpus = self->vcpus;
  if (!ok)
    g_prefix_error (error, "cannot resize VM '%s' from %u to %u vCPUs: ", self->id, before, vcpus);
  return ok;
}

gboolean
hvk_qemu_vm_resize_memory (HvkHypervisor   *hypervisor,
                    guint32          mem_mb,
                    guint32          block_size_mb,
                    gboolean         probe,
                    guint32         *new_mem_mb,
                    HvkMemoryDevice *mem_dev,
                    GCancellable    *cancellable,
                    GError         **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(JsonObject) backend = json_object_new ();
  g_autoptr(JsonObject) dimm = json_object_new ();
  g_autoptr(JsonObject) record = NULL;
  g_autoptr(JsonNode) devices = NULL;
  g_autofree char *memdev = NULL;
  g_autofree char *dimm_id = NULL;
  const char *mem_path;
  guint32 add;
  guint32 max_mb;
  guint32 slots;
  guint n_dimms;

  if (new_mem_mb != NULL)
    *new_mem_mb = self->memory_mb;
  if (mem_dev != NULL)
    memset (mem_dev, 0, sizeof *mem_dev);
  if (!hvk_qemu_vm_check_state (self, "resize the memory of", S (RUNNING) | S (PAUSED), error))
    return FALSE;

  /* DIMMs do not shrink: a smaller request keeps what the guest has. */
  if (mem_mb <= self->memory_mb)
    return TRUE;

  add = mem_mb - self->memory_mb;
  if (block_size_mb > 0 && add % block_size_mb != 0)
    add += block_size_mb - add % block_size_mb;

  max_mb = self->layout ? self->layout->max_memory_mb : 0;
  slots = self->layout ? self->layout->memory_slots : 0;
  {
    g_autoptr(GPtrArray) dimms = hotplugged_of_kind (self, HVK_DEVICE_KIND_MEMORY);
    n_dimms = dimms->len;
  }
  if (max_mb > 0 && self->memory_mb + add > max_mb)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "cannot resize VM '%s' to %u MiB: more than its maximum %u MiB "
                   "(default_maxmemory)", self->id, self->memory_mb + add, max_mb);
      return FALSE;
    }
  if (n_dimms >= slots)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "cannot resize the memory of VM '%s': all %u memory slots are used "
                   "(memory_slots)", self->id, slots);
      return FALSE;
    }

  memdev = g_strdup_printf ("mem-dimm%u", self->next_dimm);
  dimm_id = g_strdup_printf ("dimm%u", self->next_dimm);

  /* Shared file-backed memory where the boot memory is (virtio-fs and
   * file_mem_backend need the guest's memory mappable by another process). */
  mem_path = hvk_qemu_config_string (self->config, "file_mem_backend", NULL);
  if (mem_path == NULL && hvk_qemu_vm_is_virtio_fs (self))
    mem_path = "/dev/shm";
  if (mem_path != NULL)
    {
      json_object_set_string_member (backend, "qom-type", "memory-backend-file");
      json_object_set_string_member (backend, "mem-path", mem_path);
      json_object_set_boolean_member (backend, "share", TRUE);
    }
  else
    json_object_set_string_member (backend, "qom-type", "memory-backend-ram");
  json_object_set_string_member (backend, "id", memdev);
  json_object_set_int_member (backend, "size", (gint64) add * 1024 * 1024);
  if (!hvk_qemu_vm_qmp_run (self, "object-add", backend, cancellable, error))
    {
      g_prefix_error (error, "cannot add %u MiB to VM '%s': ", add, self->id);
      return FALSE;
    }

  json_object_set_string_member (dimm, "driver", "pc-dimm");
  json_object_set_string_member (dimm, "id", dimm_id);
  json_object_set_string_member (dimm, "memdev", memdev);
  if (!hvk_qemu_vm_qmp_run (self, "device_add", dimm, cancellable, error))
    {
      g_autoptr(JsonObject) del = json_object_new ();
      json_object_set_string_member (del, "id", memdev);
      hvk_qemu_vm_qmp_run (self, "object-del", del, cancellable, NULL);
      g_prefix_error (error, "cannot add %u MiB to VM '%s': ", add, self->id);
      return FALSE;
    }
  self->next_dimm++;
  self->memory_mb += add;

  record = new_record (HVK_DEVICE_KIND_MEMORY, "pc-dimm");
  json_object_set_string_member (record, "memdev", memdev);
  json_object_set_int_member (record, "size_mb", add);

  if (mem_dev != NULL)
    {
      mem_dev->size_mb = add;
      mem_dev->probe = probe;
      mem_dev->slot = -1;
    }
  /* Where the DIMM landed; informative, so failures do not undo it. */
  devices = hvk_qemu_vm_qmp_exec (self, "query-memory-devices", NULL, cancellable, NULL);
  if (devices != NULL && JSON_NODE_HOLDS_ARRAY (devices))
    {
      JsonArray *list = json_node_get_array (devices);

      for (guint i = 0; i < json_array_get_length (list); i++)
        {
          JsonObject *entry = json_array_get_object_element (list, i);
          JsonObject *data = entry && json_object_has_member (entry, "data")
                             ? json_object_get_object_member (entry, "data") : NULL;

          if (data == NULL
              || g_strcmp0 (json_object_get_string_member_with_default (data, "id", NULL), dimm_id) != 0)
            continue;
          json_object_set_int_member (record, "slot", json_object_get_int_member_with_default (data, "slot", -1));
          if (mem_dev != NULL)
            {
              mem_dev->slot = (int) json_object_get_int_member_with_default (data, "slot", -1);
              mem_dev->addr = (guint64) json_object_get_int_member_with_default (data, "addr", 0);
            }
        }
    }
  json_object_set_object_member (self->hotplugged, dimm_id, g_steal_pointer (&record));

  if (new_mem_mb != NULL)
    *new_mem_mb = self->memory_mb;
  return TRUE;
}

