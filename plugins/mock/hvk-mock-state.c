/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "hvk-mock-hypervisor-private.h"

/* The mock's saved state: the core's record (state, kernel command line,
 * cold-plugged devices) and its private part, everything else it keeps,
 * so another process continues where this one left. */

static void
add_devices (JsonBuilder *builder,
             const char  *member,
             GPtrArray   *devices)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; i < devices->len; i++)
    json_builder_add_value (builder,
                            hvk_device_to_json (g_ptr_array_index (devices, i)));
  json_builder_end_array (builder);
}

JsonNode *
hvk_mock_save_private (HvkHypervisor *hypervisor,
                       HvkVmRecord   *record)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  hvk_vm_record_set_state (record, self->state);
  hvk_vm_record_set_launch (record, NULL, self->kernel_cmdline ? self->kernel_cmdline : "", NULL);
  for (guint i = 0; i < self->devices->len; i++)
    hvk_vm_record_add_cold_device (record, g_ptr_array_index (self->devices, i));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "vcpus");
  json_builder_add_int_value (builder, self->vcpus);
  json_builder_set_member_name (builder, "memory_mb");
  json_builder_add_int_value (builder, self->memory_mb);
  json_builder_set_member_name (builder, "mem_slots");
  json_builder_add_int_value (builder, self->mem_slots);
  json_builder_set_member_name (builder, "balloon_target_mb");
  json_builder_add_int_value (builder, (gint64) self->balloon_target_mb);
  json_builder_set_member_name (builder, "balloon_stats_interval_s");
  json_builder_add_int_value (builder, self->balloon_stats_interval_s);
  add_devices (builder, "hotplugged", self->hotplugged);
  json_builder_set_member_name (builder, "calls");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->calls->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (self->calls, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* The typed reader's error, as the mock says it. */
static gboolean
corrupt_state (GError **error)
{
  g_prefix_error (error, "mock: corrupt state: ");
  return FALSE;
}

gboolean
hvk_mock_load_private (HvkHypervisor  *hypervisor,
                       HvkVmRecord    *record,
                       JsonNode       *private_state,
                       GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  HvkConfig *config = hvk_vm_record_get_config (record);
  HvkVmState vm_state = hvk_vm_record_get_state (record);
  GPtrArray *cold = hvk_vm_record_get_cold_devices (record);
  g_autoptr(GPtrArray) hotplugged = g_ptr_array_new_with_free_func (g_object_unref);
  g_auto(GStrv) calls = NULL;
  JsonObject *object;
  JsonArray *array;
  const char *cmdline = hvk_vm_record_get_kernel_cmdline (record);
  gint64 vcpus, memory_mb, mem_slots, balloon_target_mb, balloon_interval;

  if (!JSON_NODE_HOLDS_OBJECT (private_state))
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                           "mock: corrupt state: not a JSON object");
      return FALSE;
    }
  object = json_node_get_object (private_state);

  if (!hvk_json_get_int (object, "vcpus", TRUE, 0, G_MAXUINT32, &vcpus, error)
      || !hvk_json_get_int (object, "memory_mb", TRUE, 0, G_MAXUINT32, &memory_mb, error)
      || !hvk_json_get_int (object, "mem_slots", TRUE, 0, G_MAXUINT32, &mem_slots, error)
      || !hvk_json_get_int (object, "balloon_target_mb", FALSE, 0, G_MAXUINT32, &balloon_target_mb, error)
      || !hvk_json_get_int (object, "balloon_stats_interval_s", FALSE, 0, G_MAXINT32,
                            &balloon_interval, error)
      || !hvk_json_get_strv (object, "calls", TRUE, &calls, error)
      || !hvk_json_get_array (object, "hotplugged", TRUE, &array, error))
    return corrupt_state (error);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      HvkDevice *device = hvk_device_new_from_json (self->registry,
                                                    json_array_get_element (array, i),
                                                    error);
      if (device == NULL)
        return FALSE;
      g_ptr_array_add (hotplugged, device);
    }

  /* Recorded only once the state is known good: a failed load changes
   * nothing. */
  if (config != NULL && hvk_mock_has_config_key (config, "fail_operations"))
    {
      const char * const *fail = hvk_config_get_strv (config, "fail_operations");
      if (fail != NULL && g_strv_contains (fail, "load_state"))
        {
          g_set_error_literal (error, HVK_ERROR, HVK_ERROR_FAILED,
                               "mock: injected failure in load_state");
          return FALSE;
        }
    }

  g_free (self->id);
  self->id = vm_state != HVK_VM_STATE_NONE ? g_strdup (hvk_vm_record_get_id (record)) : NULL;
  g_set_object (&self->config, config);
  self->state = vm_state;
  self->vcpus = (guint32) vcpus;
  self->memory_mb = (guint32) memory_mb;
  self->mem_slots = (guint32) mem_slots;
  self->balloon_target_mb = (guint64) balloon_target_mb;
  self->balloon_stats_interval_s = (guint32) balloon_interval;
  g_free (self->kernel_cmdline);
  self->kernel_cmdline = g_strdup (cmdline ? cmdline : "");
  g_ptr_array_set_size (self->devices, 0);
  for (guint i = 0; i < cold->len; i++)
    g_ptr_array_add (self->devices, g_object_ref (cold->pdata[i]));
  g_ptr_array_unref (self->hotplugged);
  self->hotplugged = g_steal_pointer (&hotplugged);
  g_ptr_array_set_size (self->calls, 0);
  for (guint i = 0; calls[i] != NULL; i++)
    g_ptr_array_add (self->calls, g_steal_pointer (&calls[i]));
  g_ptr_array_add (self->calls, g_strdup ("load_state"));
  return TRUE;
}
