/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvkit-tool.h"

/* The device kinds of `hvkit backends --json`: for one backend, each kind
 * a plugin registered a command-line appender (cold plug, a config's
 * [device.ID]) or a hotplug handler (`hvkit hotplug`) for, with its
 * properties.  A backend may handle more kinds itself (the mock backend
 * takes every kind; acrn hot-plugs block devices).  Shell completion
 * reads it (tools/completion). */

static const char *
prop_type_nick (HvkPropType type)
{
  switch (type)
    {
    case HVK_PROP_STRING: return "string";
    case HVK_PROP_BOOLEAN: return "boolean";
    case HVK_PROP_UINT: return "uint";
    case HVK_PROP_INT: return "int";
    case HVK_PROP_STRV: return "strv";
    }
  return "string";
}

void
hvkit_add_backend_device_kinds (JsonBuilder *builder,
                                HvkRegistry *registry,
                                const char  *backend)
{
  g_autoptr(GPtrArray) kinds = hvk_registry_get_device_kinds (registry);

  json_builder_set_member_name (builder, "device_kinds");
  json_builder_begin_array (builder);
  for (guint i = 0; i < kinds->len; i++)
    {
      HvkDeviceKind *kind = g_ptr_array_index (kinds, i);
      const char *name = hvk_device_kind_get_name (kind);
      gboolean cold = hvk_registry_has_device_appender (registry, backend, name);
      gboolean hot = hvk_registry_has_hotplug_handler (registry, backend, name);
      const HvkDevicePropSpec *props;
      guint n_props = 0;

      if (!cold && !hot)
        continue;
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, name);
      json_builder_set_member_name (builder, "appender");
      json_builder_add_boolean_value (builder, cold);
      json_builder_set_member_name (builder, "hotplug_handler");
      json_builder_add_boolean_value (builder, hot);
      json_builder_set_member_name (builder, "props");
      json_builder_begin_array (builder);
      props = hvk_device_kind_get_props (kind, &n_props);
      for (guint j = 0; j < n_props; j++)
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, props[j].name);
          json_builder_set_member_name (builder, "type");
          json_builder_add_string_value (builder, prop_type_nick (props[j].type));
          json_builder_set_member_name (builder, "required");
          json_builder_add_boolean_value (builder, (props[j].flags & HVK_PROP_FLAG_REQUIRED) != 0);
          json_builder_set_member_name (builder, "path");
          json_builder_add_boolean_value (builder, (props[j].flags & HVK_PROP_FLAG_PATH) != 0);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}
