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

  if (self->config != NULL)
    hvk_io_limits_from_config (self->config, hvk_device_get_kind_name (device), &defaults);
  return hvk_io_limits_resolve (&defaults, device, limits, error);
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
  HvkDevice *copy;
  const char *kind;

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
  if (!hvk_io_limits_check (limits, kind, device_id, error))
    return FALSE;
  /* A copy: the device given may be the configuration's. */
  copy = hvk_device_copy (device);
  hvk_io_limits_store (limits, copy);
  g_ptr_array_index (array, index) = copy;
  g_object_unref (device);
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
