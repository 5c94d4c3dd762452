/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-device-private.h"

/* A device as JSON: {"kind": …, "id": …, "props": {name: value}}, as the
 * VM store and `hvkit` write it. */

/**
 * hvk_device_to_json:
 * @self: a #HvkDevice
 *
 * Serialises the device as `{"kind": …, "id": …, "props": {…}}` with the
 * properties set explicitly, as JSON strings, booleans, integers and
 * arrays of strings.
 *
 * Returns: (transfer full): a JSON object node
 */
JsonNode *
hvk_device_to_json (HvkDevice *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const HvkDevicePropSpec *props;
  guint n_props;

  g_return_val_if_fail (HVK_IS_DEVICE (self), NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "kind");
  json_builder_add_string_value (builder, hvk_device_kind_get_name (self->kind));
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, self->id);
  json_builder_set_member_name (builder, "props");
  json_builder_begin_object (builder);

  props = hvk_device_kind_get_props (self->kind, &n_props);
  for (guint i = 0; i < n_props; i++)
    {
      HvkValue *value = hvk_values_peek (self->store, props[i].name);
      GVariant *v;

      if (value == NULL)
        continue;
      v = value->variant;
      json_builder_set_member_name (builder, props[i].name);
      switch (props[i].type)
        {
        case HVK_PROP_STRING:
          json_builder_add_string_value (builder, g_variant_get_string (v, NULL));
          break;
        case HVK_PROP_BOOLEAN:
          json_builder_add_boolean_value (builder, g_variant_get_boolean (v));
          break;
        case HVK_PROP_UINT:
          {
            guint64 u = g_variant_get_uint64 (v);

            /* JSON integers are signed 64-bit here: larger values as text. */
            if (u <= G_MAXINT64)
              json_builder_add_int_value (builder, (gint64) u);
            else
              {
                g_autofree char *text = g_strdup_printf ("%" G_GUINT64_FORMAT, u);

                json_builder_add_string_value (builder, text);
              }
          }
          break;
        case HVK_PROP_INT:
          json_builder_add_int_value (builder, g_variant_get_int64 (v));
          break;
        case HVK_PROP_STRV:
          json_builder_begin_array (builder);
          for (gsize k = 0; value->strv[k] != NULL; k++)
            json_builder_add_string_value (builder, value->strv[k]);
          json_builder_end_array (builder);
          break;
        default:
          g_assert_not_reached ();
        }
    }

  json_builder_end_object (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static gboolean
json_is_value_of (JsonNode *node,
                  GType     type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

/* Converts one JSON property value; sets @expected on a type mismatch. */
static GVariant *
variant_from_json (const HvkDevicePropSpec *spec,
                   JsonNode                *node,
                   const char             **expected)
{
  switch (spec->type)
    {
    case HVK_PROP_STRING:
      *expected = "a string";
      if (json_is_value_of (node, G_TYPE_STRING))
        return g_variant_new_string (json_node_get_string (node));
      return NULL;
    case HVK_PROP_BOOLEAN:
      *expected = "a boolean";
      if (json_is_value_of (node, G_TYPE_BOOLEAN))
        return g_variant_new_boolean (json_node_get_boolean (node));
      return NULL;
    case HVK_PROP_UINT:
      *expected = "a non-negative integer";
      if (json_is_value_of (node, G_TYPE_INT64) && json_node_get_int (node) >= 0)
        return g_variant_new_uint64 ((guint64) json_node_get_int (node));
      if (json_is_value_of (node, G_TYPE_STRING))
        {
          guint64 u;

          /* to_json() writes values above G_MAXINT64 as text */
          if (g_ascii_string_to_unsigned (json_node_get_string (node), 10, 0, G_MAXUINT64, &u, NULL))
            return g_variant_new_uint64 (u);
        }
      return NULL;
    case HVK_PROP_INT:
      *expected = "an integer";
      if (json_is_value_of (node, G_TYPE_INT64))
        return g_variant_new_int64 (json_node_get_int (node));
      return NULL;
    case HVK_PROP_STRV:
      *expected = "an array of strings";
      if (JSON_NODE_HOLDS_ARRAY (node))
        {
          JsonArray *array = json_node_get_array (node);
          guint n = json_array_get_length (array);
          g_autofree const char **items = g_new0 (const char *, n + 1);

          for (guint i = 0; i < n; i++)
            {
              JsonNode *item = json_array_get_element (array, i);

              if (!json_is_value_of (item, G_TYPE_STRING))
                return NULL;
              items[i] = json_node_get_string (item);
            }
          return g_variant_new_strv (items, n);
        }
      return NULL;
    default:
      g_assert_not_reached ();
    }
}

/**
 * hvk_device_new_from_json:
 * @registry: (nullable): where to look device kinds up; %NULL for the
 *   standard kinds
 * @node: a JSON object as written by hvk_device_to_json()
 * @error: return location for a #GError
 *
 * The inverse of hvk_device_to_json(); the device is validated.
 *
 * Returns: (transfer full): the device, or %NULL with
 *   %HVK_ERROR_INVALID_ARGUMENT
 */
HvkDevice *
hvk_device_new_from_json (HvkRegistry  *registry,
                          JsonNode     *node,
                          GError      **error)
{
  static const char * const members[] = { "kind", "id", "props", NULL };
  g_autoptr(HvkDevice) device = NULL;
  g_autoptr(GList) names = NULL;
  JsonObject *object;
  JsonNode *props_node;
  const char *kind_name;
  const char *id;
  HvkDeviceKind *kind;

  g_return_val_if_fail (registry == NULL || HVK_IS_LOOKUP (registry), NULL);
  g_return_val_if_fail (node != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "device JSON: expected an object");
      return NULL;
    }
  object = json_node_get_object (node);

  names = json_object_get_members (object);
  for (GList *l = names; l != NULL; l = l->next)
    if (!g_strv_contains (members, l->data))
      {
        g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                     "device JSON: unknown member '%s'", (const char *) l->data);
        return NULL;
      }

  /* The readers' own messages name no device: say it here. */
  if (!hvk_json_get_string (object, "kind", TRUE, &kind_name, NULL))
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "device JSON: missing or non-string 'kind'");
      return NULL;
    }
  if (!hvk_json_get_string (object, "id", TRUE, &id, NULL))
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "device JSON: missing or non-string 'id'");
      return NULL;
    }
  kind = hvk_device_lookup_kind (registry, kind_name);
  if (kind == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "unknown device kind '%s'", kind_name);
      return NULL;
    }

  device = hvk_device_new (kind, id);

  props_node = json_object_get_member (object, "props");
  if (props_node != NULL && !JSON_NODE_HOLDS_NULL (props_node))
    {
      g_autoptr(GList) prop_names = NULL;
      JsonObject *props;

      if (!JSON_NODE_HOLDS_OBJECT (props_node))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "device '%s': 'props' must be an object", id);
          return NULL;
        }
      props = json_node_get_object (props_node);
      prop_names = json_object_get_members (props);
      for (GList *l = prop_names; l != NULL; l = l->next)
        {
          const char *name = l->data;
          const HvkDevicePropSpec *spec = hvk_device_kind_lookup_prop (kind, name);
          const char *expected = NULL;
          g_autofree char *problem = NULL;
          g_autoptr(GVariant) v = NULL;

          if (spec == NULL)
            {
              g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "device '%s': unknown property '%s' for kind '%s'", id, name, kind_name);
              return NULL;
            }
          v = variant_from_json (spec, json_object_get_member (props, name), &expected);
          if (v == NULL)
            {
              g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "device '%s': property '%s' must be %s", id, name, expected);
              return NULL;
            }
          g_variant_ref_sink (v);
          if (!hvk_device_check_enum (device, spec, v, &problem))
            {
              g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "device '%s': property '%s': %s", id, name, problem);
              return NULL;
            }
          hvk_device_store_value (device, spec, v);
        }
    }

  if (!hvk_device_validate (device, error))
    return NULL;
  return g_steal_pointer (&device);
}
