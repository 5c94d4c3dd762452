/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvkit-tool.h"

/*
 * hvkit iotune ID [--device DEV] [--bps N] [--burst N] [--iops N]
 *              [--iops-burst N] [--rx N] [--tx N] [--json]
 *
 * Without a limit option, prints the I/O limits of the VM's block and
 * net devices (or of DEV); with one, changes DEV's while the VM runs
 * (hvk_hypervisor_set_io_limits()): the limits it does not name stay,
 * and the new ones are read back.  Kata's units: bits per second,
 * operations per second, one-time bursts; 0 lifts a limit.
 */

static const struct {
  const char       *option;
  HvkIoLimitsField  field;
} options[] = {
  { "bps", HVK_IO_LIMITS_BW_MAX_RATE },
  { "burst", HVK_IO_LIMITS_BW_ONE_TIME_BURST },
  { "iops", HVK_IO_LIMITS_OPS_MAX_RATE },
  { "iops-burst", HVK_IO_LIMITS_OPS_ONE_TIME_BURST },
  { "rx", HVK_IO_LIMITS_RX_MAX_RATE },
  { "tx", HVK_IO_LIMITS_TX_MAX_RATE },
};

static gboolean
has_limits (const char *kind)
{
  return g_strcmp0 (kind, HVK_DEVICE_KIND_BLOCK) == 0 || g_strcmp0 (kind, HVK_DEVICE_KIND_NET) == 0;
}

/* The VM's block and net devices, cold-plugged first: (id, kind). */
static GPtrArray *
limited_devices (HvkHypervisor *hypervisor)
{
  GPtrArray *devices = g_ptr_array_new_with_free_func (g_object_unref);
  HvkConfig *config = hvk_hypervisor_get_config (hypervisor);
  g_autoptr(GPtrArray) hot = hvk_hypervisor_get_hotplugged_devices (hypervisor);
  GPtrArray *cold = config != NULL ? hvk_config_get_devices (config) : NULL;

  for (guint i = 0; cold != NULL && i < cold->len; i++)
    if (has_limits (hvk_device_get_kind_name (g_ptr_array_index (cold, i))))
      g_ptr_array_add (devices, g_object_ref (g_ptr_array_index (cold, i)));
  for (guint i = 0; i < hot->len; i++)
    if (has_limits (hvk_device_get_kind_name (g_ptr_array_index (hot, i))))
      g_ptr_array_add (devices, g_object_ref (g_ptr_array_index (hot, i)));
  return devices;
}

static HvkDevice *
find (GPtrArray  *devices,
      const char *id)
{
  for (guint i = 0; i < devices->len; i++)
    if (g_str_equal (hvk_device_get_id (g_ptr_array_index (devices, i)), id))
      return g_ptr_array_index (devices, i);
  return NULL;
}

/* Prints each device's limits (text, or one JSON array). */
static int
print_limits (HvkHypervisor *hypervisor,
              GPtrArray     *devices,
              gboolean       json)
{
  g_autoptr(JsonArray) array = json_array_new ();

  for (guint i = 0; i < devices->len; i++)
    {
      HvkDevice *device = g_ptr_array_index (devices, i);
      const char *id = hvk_device_get_id (device);
      const char *kind = hvk_device_get_kind_name (device);
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonObject) limits_json = NULL;
      const char *group = NULL;
      HvkIoLimits limits;

      if (!hvk_hypervisor_get_io_limits (hypervisor, id, &limits, &error))
        return hvkit_fail (error, HVKIT_EXIT_FAILED);
      /* A disk sharing a throttle group shares its limits too. */
      if (!hvk_io_limits_group_from_config (hvk_hypervisor_get_config (hypervisor), device,
                                            &group, &error))
        return hvkit_fail (error, HVKIT_EXIT_FAILED);
      limits_json = hvk_io_limits_to_json (&limits, kind);
      if (json)
        {
          JsonObject *entry = json_object_new ();

          json_object_set_string_member (entry, "device", id);
          json_object_set_string_member (entry, "kind", kind);
          json_object_set_object_member (entry, "limits", g_steal_pointer (&limits_json));
          if (group != NULL)
            json_object_set_string_member (entry, "throttle_group", group);
          json_array_add_object_element (array, entry);
        }
      else
        {
          g_autoptr(GList) members = json_object_get_members (limits_json);

          g_print ("%s (%s):", id, kind);
          for (GList *m = members; m != NULL; m = m->next)
            g_print (" %s=%" G_GINT64_FORMAT, (const char *) m->data,
                     json_object_get_int_member (limits_json, m->data));
          if (group != NULL)
            g_print (" throttle_group=%s", group);
          g_print ("\n");
        }
    }
  if (json)
    {
      g_autoptr(JsonNode) node = json_node_init_array (json_node_alloc (), array);

      hvkit_print_json (node);
    }
  return HVKIT_EXIT_OK;
}

int
hvkit_cmd_iotune (HvkitTool *tool,
                  int        argc,
                  char     **argv)
{
  /* Unset until given: a negative value is refused by name. */
  gint64 values[G_N_ELEMENTS (options)];
  g_autofree char *device_id = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "device", 0, 0, G_OPTION_ARG_STRING, &device_id, "The block or net device", "DEV" },
    { "bps", 0, 0, G_OPTION_ARG_INT64, &values[0], "Bandwidth limit in bits per second (0: none)", "N" },
    { "burst", 0, 0, G_OPTION_ARG_INT64, &values[1], "One-time burst above it, in bits", "N" },
    { "iops", 0, 0, G_OPTION_ARG_INT64, &values[2], "Operations per second (0: none)", "N" },
    { "iops-burst", 0, 0, G_OPTION_ARG_INT64, &values[3], "One-time burst above it, in operations", "N" },
    { "rx", 0, 0, G_OPTION_ARG_INT64, &values[4], "net: bits per second to the guest (0: none)", "N" },
    { "tx", 0, 0, G_OPTION_ARG_INT64, &values[5], "net: bits per second from the guest (0: none)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the limits as JSON", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("iotune ID [--device DEV] [--bps N] [--burst N] [--iops N] "
                              "[--iops-burst N] [--rx N] [--tx N] [--json]",
                              "Show or change the I/O limits of a VM's disks and interfaces.",
                              entries);
  g_autoptr(HvkVmLock) lock = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) shown = NULL;
  g_autoptr(GError) error = NULL;
  gboolean change = FALSE;
  HvkDevice *device = NULL;
  HvkIoLimits limits;
  int status;

  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    values[i] = G_MININT64;
  if (!hvkit_parse_options (context, &argc, &argv, 1, &status))
    return status;
  for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
    {
      if (values[i] == G_MININT64)
        continue;
      if (values[i] < 0)
        return hvkit_fail_printf (HVKIT_EXIT_USAGE, "iotune: --%s %" G_GINT64_FORMAT
                                  " is negative (0 lifts the limit)", options[i].option, values[i]);
      change = TRUE;
    }
  if (change && device_id == NULL)
    return hvkit_fail_printf (HVKIT_EXIT_USAGE, "iotune: give --device DEV to change its limits");

  hypervisor = change ? hvkit_open_vm_to_change (tool, argv[1], &lock, &status)
                      : hvkit_open_vm (tool, argv[1], NULL, &status);
  if (hypervisor == NULL)
    return status;
  devices = limited_devices (hypervisor);
  shown = g_ptr_array_new_with_free_func (g_object_unref);
  if (device_id != NULL)
    {
      device = find (devices, device_id);
      if (device == NULL)
        return hvkit_fail_printf (HVKIT_EXIT_FAILED, "VM '%s' has no block or net device '%s'",
                                  argv[1], device_id);
      g_ptr_array_add (shown, g_object_ref (device));
    }
  else
    for (guint i = 0; i < devices->len; i++)
      g_ptr_array_add (shown, g_object_ref (g_ptr_array_index (devices, i)));

  if (change)
    {
      if (!hvk_hypervisor_get_io_limits (hypervisor, device_id, &limits, &error))
        return hvkit_fail (error, HVKIT_EXIT_FAILED);
      for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
        if (values[i] != G_MININT64)
          hvk_io_limits_set_field (&limits, options[i].field, (guint64) values[i]);
      if (!hvk_hypervisor_set_io_limits (hypervisor, device_id, &limits, NULL, &error))
        return hvkit_fail (error, HVKIT_EXIT_FAILED);
      status = hvkit_save_vm (tool, argv[1], hypervisor);
      if (status != HVKIT_EXIT_OK)
        return status;
    }
  return print_limits (hypervisor, shown, json);
}
