/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hvkit-doc-data: prints, as JSON, what hvkit.conf(5) documents, taken from
 * the registry at build time so the page cannot drift from the code:
 *
 *   { "core_keys":    [ KEY, … ],          hvk_config_get_core_keys()
 *     "backend_keys": [ KEY + "backend", … ] what plugins register
 *     "backends":     [ { "name", "description",
 *                         "refused_keys": [ { "name", "reason" }, … ] }, … ]
 *     "device_kinds": [ { "name", "description", "cold_plug": [ BACKEND, … ],
 *                         "hot_plug": [ BACKEND, … ], "props": [ PROP, … ] }, … ] }
 *
 *   KEY  = { "name", "type", "default" (or null), "description" }
 *   PROP = { "name", "type", "required", "path", "default", "description" }
 *
 * The backends' keys are the registry's (hvk_registry_get_config_keys()).
 *
 * Run with HVKIT_PLUGIN_PATH set to the plugins to document (the build
 * tree's), HVKIT_PLUGIN_SYSTEM_PATH empty and HVKIT_REGISTRY_CACHE=none.
 */
#include <hvkit/hvkit.h>
#include <stdio.h>

static const char *
config_type_name (HvkConfigValueType type)
{
  switch (type)
    {
    case HVK_CONFIG_TYPE_STRING: return "string";
    case HVK_CONFIG_TYPE_BOOLEAN: return "boolean";
    case HVK_CONFIG_TYPE_UINT: return "unsigned integer";
    case HVK_CONFIG_TYPE_INT: return "integer";
    case HVK_CONFIG_TYPE_DOUBLE: return "number";
    case HVK_CONFIG_TYPE_STRV: return "list";
    case HVK_CONFIG_TYPE_PATH: return "path";
    case HVK_CONFIG_TYPE_PATH_LIST: return "path list";
    }
  g_error ("unknown HvkConfigValueType %d", (int) type);
}

static const char *
prop_type_name (HvkPropType type)
{
  switch (type)
    {
    case HVK_PROP_STRING: return "string";
    case HVK_PROP_BOOLEAN: return "boolean";
    case HVK_PROP_UINT: return "unsigned integer";
    case HVK_PROP_INT: return "integer";
    case HVK_PROP_STRV: return "list";
    }
  g_error ("unknown HvkPropType %d", (int) type);
}

static void
add_key (JsonBuilder        *builder,
         const HvkConfigKey *key,
         const char         *backend)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, key->name);
  if (backend != NULL)
    {
      json_builder_set_member_name (builder, "backend");
      json_builder_add_string_value (builder, backend);
    }
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, config_type_name (key->type));
  json_builder_set_member_name (builder, "default");
  if (key->default_value != NULL)
    json_builder_add_string_value (builder, key->default_value);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "description");
  json_builder_add_string_value (builder, key->description ? key->description : "");
  json_builder_end_object (builder);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GPtrArray) backends = NULL;
  g_autoptr(GPtrArray) kinds = NULL;
  g_autoptr(GPtrArray) refusals = NULL;
  g_autofree char *text = NULL;
  const HvkConfigKey *core;
  guint n_core = 0;

  hvk_registry_scan (registry);
  refusals = hvk_registry_get_refusals (registry);
  for (guint i = 0; i < refusals->len; i++)
    {
      g_printerr ("hvkit-doc-data: %s\n", ((GError *) g_ptr_array_index (refusals, i))->message);
      return 1;
    }
  backends = hvk_registry_get_backends (registry);
  if (backends->len == 0)
    {
      g_printerr ("hvkit-doc-data: no backend found (HVKIT_PLUGIN_PATH?)\n");
      return 1;
    }
  json_builder_begin_object (builder);

  json_builder_set_member_name (builder, "core_keys");
  json_builder_begin_array (builder);
  core = hvk_config_get_core_keys (&n_core);
  for (guint i = 0; i < n_core; i++)
    add_key (builder, &core[i], NULL);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "backend_keys");
  json_builder_begin_array (builder);
  for (guint i = 0; i < backends->len; i++)
    {
      const char *backend = hvk_backend_info_get_name (g_ptr_array_index (backends, i));
      g_autoptr(GPtrArray) keys = hvk_registry_get_config_keys (registry, backend);

      for (guint k = 0; k < keys->len; k++)
        add_key (builder, g_ptr_array_index (keys, k), backend);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "backends");
  json_builder_begin_array (builder);
  for (guint i = 0; i < backends->len; i++)
    {
      HvkBackendInfo *info = g_ptr_array_index (backends, i);
      HvkPlugin *plugin = hvk_backend_info_get_plugin (info);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, hvk_backend_info_get_name (info));
      json_builder_set_member_name (builder, "description");
      json_builder_add_string_value (builder, plugin ? hvk_plugin_get_description (plugin) : "");
      json_builder_set_member_name (builder, "refused_keys");
      json_builder_begin_array (builder);
      {
        g_autoptr(GPtrArray) refused =
          hvk_registry_get_refused_keys (registry, hvk_backend_info_get_name (info));

        for (guint k = 0; k < refused->len; k++)
          {
            const HvkRefusedKey *key = g_ptr_array_index (refused, k);

            json_builder_begin_object (builder);
            json_builder_set_member_name (builder, "name");
            json_builder_add_string_value (builder, key->name);
            json_builder_set_member_name (builder, "reason");
            json_builder_add_string_value (builder, key->reason);
            json_builder_end_object (builder);
          }
      }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "device_kinds");
  json_builder_begin_array (builder);
  kinds = hvk_registry_get_device_kinds (registry);
  for (guint i = 0; i < kinds->len; i++)
    {
      HvkDeviceKind *kind = g_ptr_array_index (kinds, i);
      const HvkDevicePropSpec *props;
      guint n_props = 0;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, hvk_device_kind_get_name (kind));
      json_builder_set_member_name (builder, "description");
      json_builder_add_string_value (builder, hvk_device_kind_get_description (kind));
      json_builder_set_member_name (builder, "cold_plug");
      json_builder_begin_array (builder);
      for (guint b = 0; b < backends->len; b++)
        {
          const char *backend = hvk_backend_info_get_name (g_ptr_array_index (backends, b));

          if (hvk_registry_has_device_appender (registry, backend, hvk_device_kind_get_name (kind)))
            json_builder_add_string_value (builder, backend);
        }
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "hot_plug");
      json_builder_begin_array (builder);
      for (guint b = 0; b < backends->len; b++)
        {
          const char *backend = hvk_backend_info_get_name (g_ptr_array_index (backends, b));

          if (hvk_registry_has_hotplug_handler (registry, backend, hvk_device_kind_get_name (kind)))
            json_builder_add_string_value (builder, backend);
        }
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "props");
      json_builder_begin_array (builder);
      props = hvk_device_kind_get_props (kind, &n_props);
      for (guint j = 0; j < n_props; j++)
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, props[j].name);
          json_builder_set_member_name (builder, "type");
          json_builder_add_string_value (builder, prop_type_name (props[j].type));
          json_builder_set_member_name (builder, "required");
          json_builder_add_boolean_value (builder, (props[j].flags & HVK_PROP_FLAG_REQUIRED) != 0);
          json_builder_set_member_name (builder, "path");
          json_builder_add_boolean_value (builder, (props[j].flags & HVK_PROP_FLAG_PATH) != 0);
          json_builder_set_member_name (builder, "default");
          if (props[j].default_value != NULL)
            json_builder_add_string_value (builder, props[j].default_value);
          else
            json_builder_add_null_value (builder);
          json_builder_set_member_name (builder, "description");
          json_builder_add_string_value (builder, props[j].description ? props[j].description : "");
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);
  if (argc > 1)
    {
      g_autoptr(GError) error = NULL;

      if (!g_file_set_contents (argv[1], text, -1, &error))
        {
          g_printerr ("hvkit-doc-data: %s\n", error->message);
          return 1;
        }
    }
  else
    g_print ("%s\n", text);
  return 0;
}
