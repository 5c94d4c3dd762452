/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-mock-hypervisor-private.h"

/* The I/O limits of the mock's devices: checked as every backend checks
 * them, and recorded in the devices the VM's state keeps, so that the
 * core's checks and the tool's iotune are tested without a VMM. */

gboolean
hvk_mock_device_limits (HvkMockHypervisor  *self,
                        HvkDevice          *device,
                        HvkIoLimits        *limits,
                        GError            **error)
{
  HvkIoLimits defaults = { 0, };
  g_autoptr(GPtrArray) all = NULL;

  if (self->config != NULL)
    hvk_io_limits_from_config (self->config, hvk_device_get_kind_name (device), &defaults);
  if (!hvk_io_limits_resolve (&defaults, device, limits, error))
    return FALSE;
  /* Its throttle group: the VM's disks and it agree (a change of a
   * group's limits is stored in each member: hvk_mock_set_io_limits()). */
  all = g_ptr_array_new ();
  for (guint i = 0; i < self->devices->len; i++)
    if (self->devices->pdata[i] != device)
      g_ptr_array_add (all, self->devices->pdata[i]);
  for (guint i = 0; i < self->hotplugged->len; i++)
    if (self->hotplugged->pdata[i] != device)
      g_ptr_array_add (all, self->hotplugged->pdata[i]);
  g_ptr_array_add (all, device);
  return hvk_io_limits_check_groups (self->config, all, error);
}

/* The device @id of the VM, cold- or hot-plugged, and its array. */
static HvkDevice *
find_device (HvkMockHypervisor  *self,
             const char         *id,
             GPtrArray         **array,
             guint              *index,
             GError            **error)
{
  GPtrArray *arrays[] = { self->devices, self->hotplugged };

  for (guint a = 0; a < G_N_ELEMENTS (arrays); a++)
    for (guint i = 0; i < arrays[a]->len; i++)
      {
        HvkDevice *device = g_ptr_array_index (arrays[a], i);

        if (g_strcmp0 (hvk_device_get_id (device), id) == 0)
          {
            if (array != NULL)
              *array = arrays[a];
            if (index != NULL)
              *index = i;
            return device;
          }
      }
  g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
               "mock: VM '%s' has no device '%s'", self->id, id);
  return NULL;
}

/* @limits (and @group, if any) in a copy of the device at @index of
 * @array (the device given may be the configuration's). */
static void
store_limits (GPtrArray         *array,
              guint              index,
              const HvkIoLimits *limits,
              const char        *group)
{
  HvkDevice *device = g_ptr_array_index (array, index);
  HvkDevice *copy = hvk_device_copy (device);

  hvk_io_limits_store (limits, copy);
  /* Named, so that it stays in its group whatever its limits become
   * (a disk lifting every limit is in no group of the VM's). */
  if (group != NULL)
    hvk_device_set_string (copy, HVK_IO_LIMITS_GROUP_PROP, group);
  g_ptr_array_index (array, index) = copy;
  g_object_unref (device);
}

gboolean
hvk_mock_set_io_limits (HvkHypervisor     *hypervisor,
                        const char        *device_id,
                        const HvkIoLimits *limits,
                        GCancellable      *cancellable,
                        GError           **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  GPtrArray *array = NULL;
  guint index = 0;
  HvkDevice *device;
  const char *kind;
  GPtrArray *arrays[] = { self->devices, self->hotplugged };
  g_autofree char *group_copy = NULL;
  const char *group = NULL;

  if (!hvk_mock_begin_call (self, "set_io_limits", NULL, error))
    return FALSE;
  device = find_device (self, device_id, &array, &index, error);
  if (device == NULL)
    return FALSE;
  kind = hvk_device_get_kind_name (device);
  if (!g_str_equal (kind, HVK_DEVICE_KIND_BLOCK) && !g_str_equal (kind, HVK_DEVICE_KIND_NET))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "mock: device '%s' (%s) has no I/O limits (block and net have)",
                   device_id, kind);
      return FALSE;
    }
  if (!hvk_io_limits_check (limits, kind, device_id, error)
      || !hvk_io_limits_group_from_config (self->config, device, &group, error))
    return FALSE;
  if (group == NULL)
    {
      store_limits (array, index, limits, NULL);
      return TRUE;
    }
  /* A group's limits are its members': each one changes. */
  group = group_copy = g_strdup (group);
  for (guint a = 0; a < G_N_ELEMENTS (arrays); a++)
    for (guint i = 0; i < arrays[a]->len; i++)
      {
        const char *other = NULL;

        if (hvk_io_limits_group_from_config (self->config, g_ptr_array_index (arrays[a], i),
                                             &other, NULL)
            && g_strcmp0 (other, group) == 0)
          store_limits (arrays[a], i, limits, group);
      }
  return TRUE;
}

gboolean
hvk_mock_get_io_limits (HvkHypervisor  *hypervisor,
                        const char     *device_id,
                        HvkIoLimits    *limits,
                        GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  HvkDevice *device = find_device (self, device_id, NULL, NULL, error);

  return device != NULL && hvk_mock_device_limits (self, device, limits, error);
}
