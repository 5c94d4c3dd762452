/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-qemu-device-props.h"
#include "hvk-qemu-hypervisor-private.h"
#include "hvk-qemu-records.h"

/*
 * Live changes of a device's I/O limits (libvirt's
 * qemuDomainSetBlockIoTune): a disk's throttle group gets its whole new
 * ThrottleLimits with qom-set (hvk_qemu_block_throttle_props(), the
 * builder the command line and hotplug use), and the VM keeps them by
 * device id in its private state (io_limits), so that the next hvkit
 * process reads them back.  An interface's tap is shaped (HTB, IFB:
 * hvk-qemu-tap-limit.c) after QEMU opened it, at the start or on
 * hotplug, again on a change, and cleared on unplug and at the end.  A disk attached without any
 * limit has no throttle node, which QEMU cannot insert under a disk in
 * use: refused, saying how to attach one that can be limited.
 */

/* The device @id, cold-plugged (the configuration's or add_device()'s)
 * or hot-plugged (from its record, @record set), owned by the caller. */
static HvkDevice *
find_device (HvkQemuHypervisor  *self,
             const char         *id,
             HvkQemuRecord     **record,
             GError            **error)
{
  HvkQemuRecord *hot = hvk_qemu_records_lookup (self->hotplugged, id);
  GPtrArray *lists[] = { self->cold_devices,
                         self->config != NULL ? hvk_config_get_devices (self->config) : NULL };

  *record = NULL;
  if (hot != NULL && hot->device != NULL)
    {
      *record = hot;
      return hvk_device_new_from_json (hvk_qemu_vm_registry (self), hot->device, error);
    }
  for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
    for (guint i = 0; lists[l] != NULL && i < lists[l]->len; i++)
      if (g_strcmp0 (hvk_device_get_id (g_ptr_array_index (lists[l], i)), id) == 0)
        return g_object_ref (g_ptr_array_index (lists[l], i));
  g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND, "VM '%s' has no device '%s'", self->id, id);
  return NULL;
}

char *
hvk_qemu_vm_cold_disk_group (HvkQemuHypervisor *self,
                             HvkDevice         *device)
{
  HvkQemuBlock block;

  if (!g_str_equal (hvk_device_get_kind_name (device), HVK_DEVICE_KIND_BLOCK)
      || !hvk_qemu_block_resolve (device, hvk_qemu_vm_settings (self), &block, NULL)
      || !block.throttled)
    return NULL;
  return hvk_qemu_block_throttle_group (block.id, block.group);
}

typedef struct {
  HvkQemuHypervisor *self;
  const char        *object;
  GPtrArray         *ids;
} Members;

static void
add_cold_member (gpointer device,
                 gpointer user_data)
{
  Members *members = user_data;
  g_autofree char *group = hvk_qemu_vm_cold_disk_group (members->self, device);

  if (g_strcmp0 (group, members->object) == 0)
    g_ptr_array_add (members->ids, g_strdup (hvk_device_get_id (device)));
}

GPtrArray *
hvk_qemu_vm_throttle_members (HvkQemuHypervisor *self,
                              const char        *object)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  Members members = { self, object, ids };

  hvk_qemu_vm_foreach_cold_device (self, add_cold_member, &members);
  for (guint i = 0; i < self->hotplugged->len; i++)
    {
      HvkQemuRecord *record = g_ptr_array_index (self->hotplugged, i);

      if (g_strcmp0 (record->throttle_group, object) == 0)
        g_ptr_array_add (ids, g_strdup (record->id));
    }
  return ids;
}

gboolean
hvk_qemu_vm_join_group (HvkQemuHypervisor   *self,
                        const HvkQemuBlock  *block,
                        char               **object,
                        JsonObject         **object_add,
                        GError             **error)
{
  g_autofree char *group = hvk_qemu_block_throttle_group (block->id, block->group);
  g_autoptr(GPtrArray) members = hvk_qemu_vm_throttle_members (self, group);
  g_autoptr(HvkOpts) opts = NULL;

  *object = NULL;
  *object_add = NULL;
  if (members->len > 0)
    {
      /* The group's object is there: the disk shares it as it is now
       * (iotune may have changed it). */
      HvkIoLimits now;

      if (!hvk_qemu_vm_get_io_limits (HVK_HYPERVISOR (self), members->pdata[0], &now, error)
          || !hvk_io_limits_group_agree (block->group != NULL ? block->group : group,
                                         members->pdata[0], &now, block->id, &block->limits,
                                         error))
        return FALSE;
      *object = g_steal_pointer (&group);
      return TRUE;
    }
  opts = hvk_qemu_block_throttle_group_props (block);
  *object_add = hvk_opts_to_json (opts, "qom-type", error);
  if (*object_add == NULL)
    return FALSE;
  *object = g_steal_pointer (&group);
  return TRUE;
}

gboolean
hvk_qemu_vm_group_is_last (HvkQemuHypervisor *self,
                           const char        *object,
                           const char        *id)
{
  g_autoptr(GPtrArray) members = hvk_qemu_vm_throttle_members (self, object);

  for (guint i = 0; i < members->len; i++)
    if (g_strcmp0 (members->pdata[i], id) != 0)
      return FALSE;
  return TRUE;
}

/* The group object of disk @device (hot-plugged: its @record's); NULL
 * for a disk attached without a limit. */
gboolean
hvk_qemu_vm_disk_group (HvkQemuHypervisor  *self,
                        HvkDevice          *device,
                        HvkQemuRecord      *record,
                        char              **object,
                        GError            **error)
{
  *object = record != NULL ? g_strdup (record->throttle_group)
                          : hvk_qemu_vm_cold_disk_group (self, device);
  if (*object != NULL)
    return TRUE;
  g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
               "block device '%s' was attached without a limit: it has no throttle node, "
               "and QEMU cannot insert one under a disk in use (attach it with a "
               "rate_limiter_* property, 0 for no limit yet)", hvk_device_get_id (device));
  return FALSE;
}

static gboolean
set_disk_limits (HvkQemuHypervisor  *self,
                 HvkDevice          *device,
                 HvkQemuRecord      *record,
                 const HvkIoLimits  *limits,
                 GCancellable       *cancellable,
                 GError            **error)
{
  const char *id = hvk_device_get_id (device);
  g_autofree char *group = NULL;
  g_autofree char *path = NULL;
  g_autoptr(HvkOpts) opts = hvk_opts_new (NULL);
  g_autoptr(JsonObject) value = NULL;
  g_autoptr(JsonObject) args = NULL;
  g_autoptr(GPtrArray) members = NULL;

  if (!hvk_io_limits_check (limits, HVK_DEVICE_KIND_BLOCK, id, error)
      || !hvk_qemu_block_check_limits (id, limits, error)
      || !hvk_qemu_vm_disk_group (self, device, record, &group, error))
    return FALSE;

  path = g_strdup_printf ("/objects/%s", group);
  hvk_qemu_block_throttle_props (limits, "", TRUE, opts);
  value = hvk_opts_to_json (opts, NULL, error);
  if (value == NULL)
    return FALSE;
  args = json_object_new ();
  json_object_set_string_member (args, "path", path);
  json_object_set_string_member (args, "property", "limits");
  json_object_set_object_member (args, "value", g_steal_pointer (&value));
  if (!hvk_qemu_vm_qmp_run (self, "qom-set", args, cancellable, error))
    return FALSE;

  /* A shared group's limits are each member's. */
  members = hvk_qemu_vm_throttle_members (self, group);
  if (!g_ptr_array_find_with_equal_func (members, id, g_str_equal, NULL))
    g_ptr_array_add (members, g_strdup (id));
  for (guint i = 0; i < members->len; i++)
    g_hash_table_replace (self->io_limits, g_strdup (members->pdata[i]),
                          hvk_io_limits_copy (limits));
  return TRUE;
}

/* ---- network: the taps ---- */

/* The limits device @device has now: iotune's change, else its own. */
static gboolean
effective_limits (HvkQemuHypervisor  *self,
                  HvkDevice          *device,
                  HvkIoLimits        *limits,
                  GError            **error)
{
  const HvkIoLimits *changed = g_hash_table_lookup (self->io_limits, hvk_device_get_id (device));

  if (changed != NULL)
    {
      *limits = *changed;
      return TRUE;
    }
  return hvk_io_limits_resolve (&hvk_qemu_vm_settings (self)->net_limits, device, limits, error);
}

/* Shapes (or, with no limit, clears) the tap of net device @device. */
static gboolean
apply_net_limits (HvkQemuHypervisor  *self,
                  HvkDevice          *device,
                  const HvkIoLimits  *limits,
                  GError            **error)
{
  HvkQemuNet net;
  HvkTapLimit tap_limit;

  if (!hvk_qemu_net_resolve (device, hvk_qemu_vm_settings (self), &net, error)
      || !hvk_qemu_net_tap_limit (&net, limits, &tap_limit, error))
    return FALSE;
  if (net.ifname == NULL || net.n_fds > 0)
    return TRUE;   /* nothing to shape: hvk_qemu_net_tap_limit() allowed no limit */
  if (!hvk_tap_limit_apply (net.ifname, &tap_limit, error))
    {
      g_prefix_error (error, "net device '%s': ", net.id);
      return FALSE;
    }
  return TRUE;
}

/* The VM's net devices (new references): the configuration's,
 * add_device()'s, then the hot-plugged ones (@cold_only: not these). */
static GPtrArray *
net_devices (HvkQemuHypervisor *self,
             gboolean           cold_only)
{
  GPtrArray *devices = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *lists[] = { self->config != NULL ? hvk_config_get_devices (self->config) : NULL,
                         self->cold_devices };

  for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
    for (guint i = 0; lists[l] != NULL && i < lists[l]->len; i++)
      if (g_str_equal (hvk_device_get_kind_name (g_ptr_array_index (lists[l], i)),
                       HVK_DEVICE_KIND_NET))
        g_ptr_array_add (devices, g_object_ref (g_ptr_array_index (lists[l], i)));
  for (guint i = 0; !cold_only && i < self->hotplugged->len; i++)
    {
      HvkQemuRecord *record = g_ptr_array_index (self->hotplugged, i);
      HvkDevice *device;

      if (record->device == NULL || g_strcmp0 (record->kind, HVK_DEVICE_KIND_NET) != 0)
        continue;
      device = hvk_device_new_from_json (hvk_qemu_vm_registry (self), record->device, NULL);
      if (device != NULL)
        g_ptr_array_add (devices, device);
    }
  return devices;
}

/* After QEMU opened the cold-plugged taps: their shaping. */
gboolean
hvk_qemu_vm_apply_tap_limits (HvkQemuHypervisor  *self,
                              GError            **error)
{
  g_autoptr(GPtrArray) devices = net_devices (self, TRUE);

  for (guint i = 0; i < devices->len; i++)
    {
      HvkIoLimits limits;

      if (!effective_limits (self, g_ptr_array_index (devices, i), &limits, error))
        return FALSE;
      if (!hvk_io_limits_is_unlimited (&limits)
          && !apply_net_limits (self, g_ptr_array_index (devices, i), &limits, error))
        return FALSE;
    }
  return TRUE;
}

/* A hot-plugged interface's shaping, once netdev_add opened its tap. */
gboolean
hvk_qemu_vm_apply_net_limits (HvkQemuHypervisor  *self,
                              HvkDevice          *device,
                              GError            **error)
{
  HvkIoLimits limits;

  if (!effective_limits (self, device, &limits, error))
    return FALSE;
  return hvk_io_limits_is_unlimited (&limits) || apply_net_limits (self, device, &limits, error);
}

/* What a tap of @device got from hvkit goes: its qdiscs (if the tap is
 * still there, a persistent one) and its IFB device. */
void
hvk_qemu_vm_clear_net_limits (HvkQemuHypervisor *self,
                              HvkDevice         *device)
{
  g_autoptr(GError) error = NULL;
  HvkIoLimits limits;
  HvkQemuNet net;

  if (!hvk_qemu_net_resolve (device, hvk_qemu_vm_settings (self), &net, NULL)
      || net.ifname == NULL || net.n_fds > 0)
    return;
  if (!g_hash_table_contains (self->io_limits, net.id)
      && (!effective_limits (self, device, &limits, NULL) || hvk_io_limits_is_unlimited (&limits)))
    return;
  if (!hvk_tap_limit_clear (net.ifname, &error))
    g_warning ("VM '%s': net device '%s': %s", self->id, net.id, error->message);
}

/* At the VM's end: every tap it shaped. */
void
hvk_qemu_vm_clear_tap_limits (HvkQemuHypervisor *self)
{
  g_autoptr(GPtrArray) devices = NULL;

  if (self->settings == NULL && self->config == NULL)
    return;
  devices = net_devices (self, FALSE);
  for (guint i = 0; i < devices->len; i++)
    hvk_qemu_vm_clear_net_limits (self, g_ptr_array_index (devices, i));
}

gboolean
hvk_qemu_vm_set_io_limits (HvkHypervisor     *hypervisor,
                           const char        *device_id,
                           const HvkIoLimits *limits,
                           GCancellable      *cancellable,
                           GError           **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  HvkQemuRecord *record = NULL;
  g_autoptr(HvkDevice) device = find_device (self, device_id, &record, error);
  const char *kind;

  if (device == NULL)
    return FALSE;
  kind = hvk_device_get_kind_name (device);
  if (g_str_equal (kind, HVK_DEVICE_KIND_BLOCK))
    return set_disk_limits (self, device, record, limits, cancellable, error);
  if (g_str_equal (kind, HVK_DEVICE_KIND_NET))
    {
      if (!hvk_io_limits_check (limits, kind, device_id, error)
          || !apply_net_limits (self, device, limits, error))
        return FALSE;
      g_hash_table_replace (self->io_limits, g_strdup (device_id), hvk_io_limits_copy (limits));
      return TRUE;
    }
  else
    g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                 "device '%s' (%s) has no I/O limits (block and net have)", device_id, kind);
  return FALSE;
}

gboolean
hvk_qemu_vm_get_io_limits (HvkHypervisor  *hypervisor,
                           const char     *device_id,
                           HvkIoLimits    *limits,
                           GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  const HvkQemuSettings *settings = hvk_qemu_vm_settings (self);
  HvkQemuRecord *record = NULL;
  g_autoptr(HvkDevice) device = find_device (self, device_id, &record, error);
  const HvkIoLimits *changed;
  const char *kind;

  if (device == NULL)
    return FALSE;
  changed = g_hash_table_lookup (self->io_limits, device_id);
  if (changed != NULL)
    {
      *limits = *changed;
      return TRUE;
    }
  kind = hvk_device_get_kind_name (device);
  return hvk_io_limits_resolve (g_str_equal (kind, HVK_DEVICE_KIND_NET) ? &settings->net_limits
                                                                         : &settings->disk_limits,
                                device, limits, error);
}

/* The live changes, saved with the VM's private state:
 * {"ID": {"rate_limiter_bw_max_rate": N, …}, …}. */
JsonNode *
hvk_qemu_vm_io_limits_to_json (HvkQemuHypervisor *self)
{
  g_autoptr(JsonObject) object = json_object_new ();
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->io_limits);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      JsonObject *fields = json_object_new ();

      for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
        json_object_set_int_member (fields, hvk_io_limits_prop_name (i),
                                    (gint64) hvk_io_limits_get_field (value, i));
      json_object_set_object_member (object, key, fields);
    }
  return json_node_init_object (json_node_alloc (), object);
}

GHashTable *
hvk_qemu_vm_io_limits_from_json (JsonObject  *object,
                                 GError     **error)
{
  g_autoptr(GHashTable) table = hvk_qemu_vm_io_limits_new ();
  g_autoptr(GList) ids = object != NULL ? json_object_get_members (object) : NULL;

  for (GList *l = ids; l != NULL; l = l->next)
    {
      JsonObject *fields = NULL;
      g_autoptr(HvkIoLimits) limits = g_new0 (HvkIoLimits, 1);

      if (!hvk_json_get_object (object, l->data, TRUE, &fields, error))
        return NULL;
      for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
        {
          gint64 v = 0;

          if (!hvk_json_get_int (fields, hvk_io_limits_prop_name (i), FALSE, 0, G_MAXINT64, &v,
                                 error))
            {
              g_prefix_error (error, "io_limits: %s: ", (const char *) l->data);
              return NULL;
            }
          hvk_io_limits_set_field (limits, i, (guint64) v);
        }
      g_hash_table_replace (table, g_strdup (l->data), g_steal_pointer (&limits));
    }
  return g_steal_pointer (&table);
}

GHashTable *
hvk_qemu_vm_io_limits_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                (GDestroyNotify) hvk_io_limits_free);
}
