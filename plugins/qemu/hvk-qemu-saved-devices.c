/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>

#include "hvk-qemu-private.h"
#include "hvk-qemu-build.h"
#include "hvk-qemu-device-props.h"
#include "hvk-qemu-hypervisor-private.h"

/* A VM saved to a directory is restored by a QEMU that must have the
 * saved QEMU's device set at the same places, or the stream does not
 * load (libvirt's way: the live devices go on the destination's command
 * line).  The save writes the hot-plug records beside the stream
 * (HVK_QEMU_SAVED_DEVICES_NAME); the restore cold-plugs each device
 * where its record says it was: a disk with the properties of
 * hvk_qemu_block_props() (the same node name, bus and slot or LUN), a
 * vCPU at its socket/core/thread, a pc-dimm and its memory backend at
 * its slot, guest-physical address and node.  The restored VM keeps the records, so
 * the devices stay hot-plugged (`hvkit unplug` works on them). */

#define SAVED_DEVICES_FORMAT "hvkit-qemu-devices"

/* cpu-S-C-T, as hvk-qemu-resize.c names a hot-added vCPU. */
static gboolean
parse_cpu_id (const char *id,
              guint      *socket,
              guint      *core,
              guint      *thread)
{
  int end = -1;

  return sscanf (id, "cpu-%u-%u-%u%n", socket, core, thread, &end) == 3
         && end >= 0 && id[end] == '\0';
}

gboolean
hvk_qemu_vm_check_restorable (HvkQemuHypervisor *self,
                              GError           **error)
{
  guint32 cpus = 0;
  guint64 dimm_mb = 0;

  for (guint i = 0; i < self->hotplugged->len; i++)
    {
      HvkQemuRecord *record = self->hotplugged->pdata[i];
      const char *why = NULL;

      if (record->unplug_pending)
        why = "its unplug has not completed";
      else if (g_strcmp0 (record->kind, HVK_DEVICE_KIND_BLOCK) == 0)
        {
          if (record->device == NULL || !record->has_addr || record->node == NULL)
            why = "hvkit does not know where it was plugged";
          else if (hvk_qemu_vm_settings (self)->rootless)
            why = "a restore cannot cold-plug a hot-plugged disk of a rootless VM "
                  "(QEMU never opens its path)";
        }
      else if (g_strcmp0 (record->kind, HVK_DEVICE_KIND_CPU) == 0)
        {
          guint s, c, t;

          if (!parse_cpu_id (record->id, &s, &c, &t) || record->driver == NULL)
            why = "hvkit does not know where it was plugged";
          cpus++;
        }
      else if (g_strcmp0 (record->kind, HVK_DEVICE_KIND_MEMORY) == 0
               && g_strcmp0 (record->driver, "pc-dimm") == 0)
        {
          if (record->memdev == NULL || !record->has_size_mb)
            why = "hvkit does not know its memory backend";
          dimm_mb += record->size_mb;
        }
      else
        why = "a restore makes again only hot-plugged disks, vCPUs and memory DIMMs";
      if (why != NULL)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                       "cannot save VM '%s': device '%s' (%s) was hot-plugged, and %s",
                       self->id, record->id, record->kind != NULL ? record->kind : "?", why);
          return FALSE;
        }
    }
  if (self->layout != NULL && self->memory_mb != self->layout->boot_memory_mb + dimm_mb)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "cannot save VM '%s': its memory was resized other than by DIMMs "
                   "(virtio-mem: %u MiB; a restore would start with %" G_GUINT64_FORMAT " MiB)",
                   self->id, self->memory_mb, self->layout->boot_memory_mb + dimm_mb);
      return FALSE;
    }
  if (self->layout != NULL && self->vcpus != self->layout->boot_vcpus + cpus)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "cannot save VM '%s': it has %u vCPUs, not the %u it booted with "
                   "and the %u hot-plugged hvkit knows of", self->id, self->vcpus,
                   self->layout->boot_vcpus, cpus);
      return FALSE;
    }
  return TRUE;
}

/* Where each hot-plugged DIMM is in the guest's physical memory, and
 * its NUMA node, as QEMU says (query-memory-devices): the restore puts
 * it at the very same place (the guest's view of its RAM). */
static gboolean
add_dimm_places (HvkQemuHypervisor *self,
                 JsonBuilder       *builder,
                 GCancellable      *cancellable,
                 GError           **error)
{
  g_autoptr(JsonNode) ret = NULL;
  g_autoptr(GPtrArray) dimms = hvk_qemu_records_ids_of_kind (self->hotplugged, HVK_DEVICE_KIND_MEMORY);
  JsonArray *list;
  guint found = 0;

  json_builder_set_member_name (builder, "dimms");
  json_builder_begin_object (builder);
  if (dimms->len > 0)
    {
      ret = hvk_qemu_vm_qmp_exec (self, "query-memory-devices", NULL, cancellable, error);
      if (ret == NULL)
        return FALSE;
      list = JSON_NODE_HOLDS_ARRAY (ret) ? json_node_get_array (ret) : NULL;
      for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
        {
          JsonObject *entry = json_array_get_object_element (list, i);
          JsonObject *data = entry != NULL && json_object_has_member (entry, "data")
                             ? json_object_get_object_member (entry, "data") : NULL;
          const char *id = data != NULL ? json_object_get_string_member_with_default (data, "id", NULL) : NULL;

          if (id == NULL || !json_object_has_member (data, "addr")
              || !g_ptr_array_find_with_equal_func (dimms, id, g_str_equal, NULL))
            continue;
          json_builder_set_member_name (builder, id);
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "addr");
          json_builder_add_int_value (builder, json_object_get_int_member (data, "addr"));
          json_builder_set_member_name (builder, "node");
          json_builder_add_int_value (builder, json_object_get_int_member_with_default (data, "node", 0));
          json_builder_end_object (builder);
          found++;
        }
      if (found != dimms->len)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_QMP,
                       "cannot save VM '%s': QEMU lists %u of its %u hot-plugged DIMMs",
                       self->id, found, dimms->len);
          return FALSE;
        }
    }
  json_builder_end_object (builder);
  return TRUE;
}

gboolean
hvk_qemu_vm_write_saved_devices (HvkQemuHypervisor *self,
                                 const char        *dir,
                                 GCancellable      *cancellable,
                                 GError           **error)
{
  g_autofree char *path = g_build_filename (dir, HVK_QEMU_SAVED_DEVICES_NAME, NULL);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  if (!add_dimm_places (self, builder, cancellable, error))
    return FALSE;
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, SAVED_DEVICES_FORMAT);
  json_builder_set_member_name (builder, "vcpus");
  json_builder_add_int_value (builder, self->vcpus);
  json_builder_set_member_name (builder, "hotplugged");
  json_builder_add_value (builder, hvk_qemu_records_to_json (self->hotplugged));
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  text = json_to_string (root, TRUE);
  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    {
      g_prefix_error (error, "cannot save VM '%s': ", self->id);
      return FALSE;
    }
  return TRUE;
}

static gboolean
add_device_arg (HvkQemuHypervisor *self,
                const char        *option,
                HvkOpts           *opts,
                GError           **error)
{
  g_autofree char *text = hvk_opts_to_string (opts, error);

  return text != NULL && hvk_cmdline_add_args (self->cmdline, error, option, text, NULL);
}

typedef struct {
  HvkQemuHypervisor *self;
  GHashTable        *groups;    /* the throttle group objects on the command line */
} GroupsData;

static void
add_cold_group (gpointer data,
                gpointer user_data)
{
  GroupsData *groups = user_data;
  char *object = hvk_qemu_vm_cold_disk_group (groups->self, data);

  if (object != NULL)
    g_hash_table_add (groups->groups, object);
}

/* The disk of @record as the command line's -blockdev and -device: the
 * properties hotplug gave it (hvk_qemu_block_props(), blockdev form), at
 * the bus and slot or LUN it took. */
static gboolean
add_block (HvkQemuHypervisor *self,
           HvkQemuRecord     *record,
           GHashTable        *groups,
           GError           **error)
{
  g_autoptr(HvkDevice) device = NULL;
  g_autoptr(HvkOpts) backend = NULL;
  g_autoptr(HvkOpts) dev = NULL;
  g_autofree char *node = NULL;
  g_autofree char *object = NULL;
  HvkQemuBlock block;
  HvkQemuPlace place = { record->bus, -1, -1 };

  if (record->device == NULL || !record->has_addr)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "hot-plugged disk '%s' has no device or address", record->id);
      return FALSE;
    }
  device = hvk_device_new_from_json (hvk_qemu_vm_registry (self), record->device, error);
  if (device == NULL
      || !hvk_qemu_block_resolve (device, hvk_qemu_vm_settings (self), &block, error)
      || !hvk_qemu_block_probe (&block, error))
    return FALSE;
  if (g_strcmp0 (block.id, record->id) != 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "hot-plugged disk '%s' holds device '%s'", record->id, block.id);
      return FALSE;
    }
  if (hvk_qemu_block_is_scsi (&block))
    place.lun = record->addr;
  else
    place.addr = record->addr;
  node = hvk_qemu_block_node_name (block.id, HVK_QEMU_BLOCK_BLOCKDEV);
  if (g_strcmp0 (node, record->node) != 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "hot-plugged disk '%s': node '%s', not '%s'", record->id,
                   record->node != NULL ? record->node : "", node);
      return FALSE;
    }
  /* A throttled disk's group first, as hotplug adds it (object-add),
   * once (a group a cold-plugged disk or an earlier one shares is
   * there); limits changed live come back after the state (the core's
   * restore). */
  object = block.throttled ? hvk_qemu_block_throttle_group (block.id, block.group) : NULL;
  if (object != NULL && !g_hash_table_contains (groups, object))
    {
      g_autoptr(HvkOpts) group = hvk_qemu_block_throttle_group_props (&block);

      if (!add_device_arg (self, "-object", group, error))
        return FALSE;
      g_hash_table_add (groups, g_steal_pointer (&object));
    }
  return hvk_qemu_block_props (&block, HVK_QEMU_BLOCK_BLOCKDEV, &place, &backend, &dev, error)
         && add_device_arg (self, "-blockdev", backend, error)
         && add_device_arg (self, "-device", dev, error);
}

/* A hot-added vCPU at its place (query-hotpluggable-cpus' props). */
static gboolean
add_cpu (HvkQemuHypervisor *self,
         HvkQemuRecord     *record,
         GError           **error)
{
  g_autoptr(HvkOpts) dev = NULL;
  guint s, c, t;

  if (record->driver == NULL || !parse_cpu_id (record->id, &s, &c, &t))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "hot-plugged vCPU '%s': no type or place (cpu-SOCKET-CORE-THREAD)", record->id);
      return FALSE;
    }
  dev = hvk_opts_new (record->driver);
  hvk_opts_add (dev, "id", record->id);
  hvk_opts_add_uint (dev, "socket-id", s);
  hvk_opts_add_uint (dev, "core-id", c);
  hvk_opts_add_uint (dev, "thread-id", t);
  return add_device_arg (self, "-device", dev, error);
}

/* A hot-plugged DIMM: its memory backend as resize made it (RAM, or a
 * shared file under file_mem_backend), the pc-dimm at its slot, address
 * and node. */
static gboolean
add_dimm (HvkQemuHypervisor *self,
          HvkQemuRecord     *record,
          JsonObject        *dimms,
          GError           **error)
{
  g_autoptr(HvkOpts) backend = NULL;
  g_autoptr(HvkOpts) dev = NULL;
  const char *mem_path = hvk_qemu_vm_settings (self)->file_mem_backend;
  JsonObject *place = dimms != NULL && json_object_has_member (dimms, record->id)
                      ? json_object_get_object_member (dimms, record->id) : NULL;
  gint64 addr, node;

  if (record->memdev == NULL || !record->has_size_mb || place == NULL
      || !hvk_json_get_int (place, "addr", TRUE, 0, G_MAXINT64, &addr, error)
      || !hvk_json_get_int (place, "node", TRUE, 0, G_MAXUINT16, &node, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                     "hot-plugged DIMM '%s': no memory backend, size or address", record->id);
      return FALSE;
    }
  if (hvk_qemu_vm_is_virtio_fs (self) && mem_path == NULL)
    mem_path = "/dev/shm";
  backend = hvk_opts_new (mem_path != NULL ? "memory-backend-file" : "memory-backend-ram");
  hvk_opts_add (backend, "id", record->memdev);
  hvk_opts_add_uint (backend, "size", (guint64) record->size_mb * 1024 * 1024);
  if (mem_path != NULL)
    {
      hvk_opts_add (backend, "mem-path", mem_path);
      hvk_opts_add_bool (backend, "share", TRUE);
    }
  dev = hvk_opts_new ("pc-dimm");
  hvk_opts_add (dev, "id", record->id);
  hvk_opts_add (dev, "memdev", record->memdev);
  if (record->has_slot && record->slot >= 0)
    hvk_opts_add_int (dev, "slot", record->slot);
  hvk_opts_add_uint (dev, "addr", (guint64) addr);
  if (self->layout != NULL && self->layout->numa_nodes > 1)
    hvk_opts_add_int (dev, "node", node);
  return add_device_arg (self, "-object", backend, error)
         && add_device_arg (self, "-device", dev, error);
}

gboolean
hvk_qemu_vm_read_saved_devices (HvkQemuHypervisor *self,
                                const char        *dir,
                                GPtrArray        **hotplugged,
                                guint32           *vcpus,
                                guint32           *memory_mb,
                                GError           **error)
{
  g_autofree char *path = g_build_filename (dir, HVK_QEMU_SAVED_DEVICES_NAME, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;
  JsonObject *object, *members, *dimms = NULL;
  guint32 cpus = 0;
  guint64 dimm_mb = 0;
  g_autoptr(GHashTable) groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GroupsData groups_data = { self, groups };

  *hotplugged = NULL;
  *vcpus = 0;
  *memory_mb = self->layout != NULL ? self->layout->boot_memory_mb : 0;
  /* None: a save made before the file was written had nothing
   * hot-plugged (it refused); should it have, QEMU says the stream does
   * not load and nothing is left. */
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      *vcpus = self->layout != NULL ? self->layout->boot_vcpus : 0;
      return TRUE;
    }
  if (!json_parser_load_from_mapped_file (parser, path, &local_error))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "cannot restore VM '%s': %s: %s", self->id, path, local_error->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  object = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  if (object == NULL
      || g_strcmp0 (json_object_get_string_member_with_default (object, "format", NULL),
                    SAVED_DEVICES_FORMAT) != 0
      || !hvk_json_get_object (object, "hotplugged", TRUE, &members, &local_error)
      || !hvk_json_get_object (object, "dimms", FALSE, &dimms, &local_error)
      || (records = hvk_qemu_records_from_json (members, &local_error)) == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "cannot restore VM '%s': %s: not the devices of a saved VM%s%s", self->id,
                   path, local_error != NULL ? ": " : "",
                   local_error != NULL ? local_error->message : "");
      return FALSE;
    }

  hvk_qemu_vm_foreach_cold_device (self, add_cold_group, &groups_data);
  for (guint i = 0; i < records->len; i++)
    {
      HvkQemuRecord *record = records->pdata[i];
      gboolean ok;

      if (g_strcmp0 (record->kind, HVK_DEVICE_KIND_BLOCK) == 0 && hvk_qemu_vm_settings (self)->rootless)
        {
          g_set_error (&local_error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                       "a hot-plugged disk of a rootless VM is not cold-plugged on restore");
          ok = FALSE;
        }
      else if (g_strcmp0 (record->kind, HVK_DEVICE_KIND_BLOCK) == 0)
        ok = add_block (self, record, groups, &local_error);
      else if (g_strcmp0 (record->kind, HVK_DEVICE_KIND_CPU) == 0)
        {
          ok = add_cpu (self, record, &local_error);
          cpus++;
        }
      else if (g_strcmp0 (record->kind, HVK_DEVICE_KIND_MEMORY) == 0
               && g_strcmp0 (record->driver, "pc-dimm") == 0)
        {
          ok = add_dimm (self, record, dimms, &local_error);
          dimm_mb += record->size_mb;
        }
      else
        {
          g_set_error (&local_error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                       "a restore makes again only hot-plugged disks, vCPUs and memory DIMMs");
          ok = FALSE;
        }
      if (!ok)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                       "cannot restore VM '%s': %s: hot-plugged device '%s' (%s) cannot be "
                       "made again%s%s", self->id, path, record->id,
                       record->kind != NULL ? record->kind : "?",
                       local_error != NULL ? ": " : "",
                       local_error != NULL ? local_error->message : "");
          return FALSE;
        }
    }
  if (records->len > 0)
    {
      g_strfreev (self->argv);
      self->argv = g_strdupv ((char **) hvk_cmdline_get_argv (self->cmdline));
    }
  *vcpus = (self->layout != NULL ? self->layout->boot_vcpus : 0) + cpus;
  if (dimm_mb > G_MAXUINT32 - *memory_mb)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "cannot restore VM '%s': %s: DIMMs of %" G_GUINT64_FORMAT " MiB",
                   self->id, path, dimm_mb);
      return FALSE;
    }
  *memory_mb += (guint32) dimm_mb;
  *hotplugged = g_steal_pointer (&records);
  return TRUE;
}
