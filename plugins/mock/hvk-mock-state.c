/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "hvk-mock-hypervisor-private.h"

/* State: everything, so another process continues where this one left. */

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
hvk_mock_save_state (HvkHypervisor *hypervisor)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *config_data = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, self->id ? self->id : "");
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, hvk_vm_state_to_string (self->state));
  json_builder_set_member_name (builder, "vcpus");
  json_builder_add_int_value (builder, self->vcpus);
  json_builder_set_member_name (builder, "memory_mb");
  json_builder_add_int_value (builder, self->memory_mb);
  json_builder_set_member_name (builder, "mem_slots");
  json_builder_add_int_value (builder, self->mem_slots);
  json_builder_set_member_name (builder, "kernel_cmdline");
  json_builder_add_string_value (builder,
                                 self->kernel_cmdline ? self->kernel_cmdline : "");
  add_devices (builder, "devices", self->devices);
  add_devices (builder, "hotplugged", self->hotplugged);

  json_builder_set_member_name (builder, "calls");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->calls->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (self->calls, i));
  json_builder_end_array (builder);

  /* Nested, so `hvkit status` (which lists top-level scalars) skips it. */
  json_builder_set_member_name (builder, "saved_config");
  json_builder_begin_object (builder);
  if (self->config != NULL)
    {
      config_data = hvk_config_to_data (self->config, NULL);
      json_builder_set_member_name (builder, "data");
      json_builder_add_string_value (builder, config_data);
      if (hvk_mock_store_path (self) != NULL)
        {
          json_builder_set_member_name (builder, "vm_store_path");
          json_builder_add_string_value (builder, hvk_mock_store_path (self));
        }
    }
  json_builder_end_object (builder);

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

/* A string member of a nested object, named by its path. */
static gboolean
corrupt_nested (const char  *path,
                GError     **error)
{
  g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
               "member '%s' is missing or not a string", path);
  return corrupt_state (error);
}

static GPtrArray *
load_devices (HvkRegistry  *registry,
              JsonObject   *object,
              const char   *member,
              GError      **error)
{
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
  JsonArray *array;

  if (!hvk_json_get_array (object, member, TRUE, &array, error))
    {
      corrupt_state (error);
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      HvkDevice *device = hvk_device_new_from_json (registry,
                                                    json_array_get_element (array, i),
                                                    error);
      if (device == NULL)
        return NULL;
      g_ptr_array_add (devices, device);
    }
  return g_steal_pointer (&devices);
}

gboolean
hvk_mock_load_state (HvkHypervisor  *hypervisor,
                     JsonNode       *state,
                     GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  HvkRegistry *registry = self->registry;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) hotplugged = NULL;
  g_auto(GStrv) calls = NULL;
  g_autoptr(HvkConfig) config = NULL;
  JsonObject *object, *saved;
  const char *id, *state_name, *cmdline, *data;
  gint64 vcpus, memory_mb, mem_slots;
  HvkVmState vm_state;

  if (!JSON_NODE_HOLDS_OBJECT (state))
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                           "mock: corrupt state: not a JSON object");
      return FALSE;
    }
  object = json_node_get_object (state);

  if (!hvk_json_get_string (object, "id", TRUE, &id, error)
      || !hvk_json_get_string (object, "state", TRUE, &state_name, error)
      || !hvk_json_get_string (object, "kernel_cmdline", TRUE, &cmdline, error)
      || !hvk_json_get_int (object, "vcpus", TRUE, 0, G_MAXUINT32, &vcpus, error)
      || !hvk_json_get_int (object, "memory_mb", TRUE, 0, G_MAXUINT32, &memory_mb, error)
      || !hvk_json_get_int (object, "mem_slots", TRUE, 0, G_MAXUINT32, &mem_slots, error))
    return corrupt_state (error);
  if (!hvk_vm_state_from_string (state_name, &vm_state))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "mock: corrupt state: unknown state '%s'", state_name);
      return FALSE;
    }
  if (vm_state != HVK_VM_STATE_NONE && !hvk_vm_id_validate (id, error))
    return FALSE;

  if (!hvk_json_get_strv (object, "calls", TRUE, &calls, error)
      || !hvk_json_get_object (object, "saved_config", TRUE, &saved, error))
    return corrupt_state (error);
  if (json_object_has_member (saved, "data"))
    {
      const char *store;

      if (!hvk_json_get_string (saved, "data", TRUE, &data, NULL))
        return corrupt_nested ("saved_config.data", error);
      if (!hvk_json_get_string (saved, "vm_store_path", FALSE, &store, NULL))
        return corrupt_nested ("saved_config.vm_store_path", error);
      config = hvk_config_new_from_data (data, -1, "mock state", registry,
                                         error);
      if (config == NULL)
        return FALSE;
      if (store != NULL)
        hvk_config_set_vm_store_path (config, store);
    }
  else if (vm_state != HVK_VM_STATE_NONE)
    return corrupt_nested ("saved_config.data", error);

  devices = load_devices (registry, object, "devices", error);
  if (devices == NULL)
    return FALSE;
  hotplugged = load_devices (registry, object, "hotplugged", error);
  if (hotplugged == NULL)
    return FALSE;

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
  self->id = vm_state != HVK_VM_STATE_NONE ? g_strdup (id) : NULL;
  g_set_object (&self->config, config);
  self->state = vm_state;
  self->vcpus = (guint32) vcpus;
  self->memory_mb = (guint32) memory_mb;
  self->mem_slots = (guint32) mem_slots;
  g_free (self->kernel_cmdline);
  self->kernel_cmdline = g_strdup (cmdline);
  g_ptr_array_unref (self->devices);
  self->devices = g_steal_pointer (&devices);
  g_ptr_array_unref (self->hotplugged);
  self->hotplugged = g_steal_pointer (&hotplugged);
  g_ptr_array_set_size (self->calls, 0);
  for (guint i = 0; calls[i] != NULL; i++)
    g_ptr_array_add (self->calls, g_steal_pointer (&calls[i]));
  g_ptr_array_add (self->calls, g_strdup ("load_state"));
  return TRUE;
}

