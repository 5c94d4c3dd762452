/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

#include "hvk-device-private.h"

/* A device written as text: device strings (`KIND,id=ID,key=value,…`,
 * QEMU's `,,` escape) and [device.ID] key-file groups. */

/* ---- device strings: KIND,id=ID,key=value,… with QEMU's `,,` escape ---- */

static GPtrArray *
split_device_string (const char *text)
{
  GPtrArray *parts = g_ptr_array_new_with_free_func (g_free);
  GString *cur = g_string_new (NULL);

  for (const char *p = text; *p; p++)
    {
      if (*p == ',' && p[1] == ',')
        {
          g_string_append_c (cur, ',');
          p++;
        }
      else if (*p == ',')
        {
          g_ptr_array_add (parts, g_string_free (cur, FALSE));
          cur = g_string_new (NULL);
        }
      else
        g_string_append_c (cur, *p);
    }
  g_ptr_array_add (parts, g_string_free (cur, FALSE));
  return parts;
}

/* The escape split_device_string() undoes: hvk_escape_comma(), the one
 * place it is written. */
static void
append_escaped (GString    *s,
                const char *text)
{
  g_autofree char *escaped = hvk_escape_comma (text);

  g_string_append (s, escaped);
}

/**
 * hvk_device_new_from_string:
 * @registry: (nullable): where to look device kinds up; %NULL for the
 *   standard kinds
 * @text: `KIND,id=ID,key=value,…` (`,,` is a literal comma, lists are
 *   `:`-separated)
 * @error: return location for a #GError
 *
 * Parses a device string as given to `hvkit hotplug --device` and
 * validates the device.
 *
 * Returns: (transfer full): the device, or %NULL with
 *   %HVK_ERROR_INVALID_ARGUMENT naming the offending part
 */
HvkDevice *
hvk_device_new_from_string (HvkRegistry  *registry,
                            const char   *text,
                            GError      **error)
{
  g_autoptr(GPtrArray) parts = NULL;
  g_autoptr(GHashTable) seen = NULL;
  g_autoptr(HvkDevice) device = NULL;
  HvkDeviceKind *kind;
  const char *kind_name;
  const char *id = NULL;

  g_return_val_if_fail (registry == NULL || HVK_IS_LOOKUP (registry), NULL);
  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (*text == '\0')
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "empty device string (expected KIND,id=ID,key=value,…)");
      return NULL;
    }

  parts = split_device_string (text);
  kind_name = g_ptr_array_index (parts, 0);
  if (*kind_name == '\0' || strchr (kind_name, '=') != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "device string '%s': must start with the device kind", text);
      return NULL;
    }
  kind = hvk_device_lookup_kind (registry, kind_name);
  if (kind == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "unknown device kind '%s'", kind_name);
      return NULL;
    }

  /* First the syntax of every part, so that errors come in string order. */
  seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 1; i < parts->len; i++)
    {
      char *part = g_ptr_array_index (parts, i);
      char *eq = strchr (part, '=');

      if (*part == '\0')
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "device string '%s': empty element at position %u", text, i + 1);
          return NULL;
        }
      if (eq == NULL)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "device string '%s': '%s' is not key=value", text, part);
          return NULL;
        }
      if (eq == part)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "device string '%s': '%s' has an empty key", text, part);
          return NULL;
        }
      *eq = '\0';   /* part is now the key, eq + 1 the value */
      if (!g_hash_table_add (seen, part))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "device string '%s': key '%s' given twice", text, part);
          return NULL;
        }
      if (g_str_equal (part, "id"))
        id = eq + 1;
    }

  if (id == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "device string '%s': missing id (add id=NAME)", text);
      return NULL;
    }
  if (!hvk_device_id_is_valid (id))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "device string '%s': invalid id '%s' (" HVK_DEVICE_ID_SYNTAX ")", text, id);
      return NULL;
    }

  device = hvk_device_new (kind, id);
  for (guint i = 1; i < parts->len; i++)
    {
      const char *key = g_ptr_array_index (parts, i);
      const char *value = key + strlen (key) + 1;

      if (g_str_equal (key, "id"))
        continue;
      if (!hvk_device_set_from_string (device, key, value, error))
        return NULL;
    }

  if (!hvk_device_validate (device, error))
    return NULL;
  return g_steal_pointer (&device);
}

/**
 * hvk_device_to_string:
 * @self: a #HvkDevice
 *
 * Formats the device as `KIND,id=ID,key=value,…` with the properties set
 * explicitly, in the kind's order, commas escaped as `,,`.  The inverse of
 * hvk_device_new_from_string() (a list item holding `:` cannot round-trip).
 *
 * Returns: (transfer full): the device string
 */
char *
hvk_device_to_string (HvkDevice *self)
{
  const HvkDevicePropSpec *props;
  guint n_props;
  GString *s;

  g_return_val_if_fail (HVK_IS_DEVICE (self), NULL);

  s = g_string_new (NULL);
  append_escaped (s, hvk_device_kind_get_name (self->kind));
  g_string_append (s, ",id=");
  append_escaped (s, self->id);

  props = hvk_device_kind_get_props (self->kind, &n_props);
  for (guint i = 0; i < n_props; i++)
    {
      HvkValue *value = hvk_values_peek (self->store, props[i].name);
      g_autofree char *text = NULL;

      if (value == NULL)
        continue;
      text = hvk_value_to_string (value->variant, HVK_LIST_SYNTAX_DEVICE);
      g_string_append_printf (s, ",%s=", props[i].name);
      append_escaped (s, text);
    }
  return g_string_free (s, FALSE);
}

/* ---- key files: [device.ID] with kind= and the properties ---- */

#define DEVICE_GROUP_PREFIX "device."

/**
 * hvk_device_new_from_key_file:
 * @registry: (nullable): where to look device kinds up; %NULL for the
 *   standard kinds
 * @key_file: a loaded key file
 * @group: a `device.ID` group of @key_file
 * @source_name: (nullable): the file name for messages (`<config>` if %NULL)
 * @error: return location for a #GError
 *
 * Reads one cold-plugged device: `kind=` plus its properties (lists
 * `;`-separated as key files do).  An `id=` key, if present, must equal
 * the group suffix.
 *
 * Returns: (transfer full): the device, or %NULL with
 *   %HVK_ERROR_INVALID_CONFIG and a message `FILE: [device.ID] KEY: …`
 */
HvkDevice *
hvk_device_new_from_key_file (HvkRegistry  *registry,
                              GKeyFile     *key_file,
                              const char   *group,
                              const char   *source_name,
                              GError      **error)
{
  g_autoptr(HvkDevice) device = NULL;
  g_autofree char *kind_name = NULL;
  g_auto(GStrv) keys = NULL;
  const HvkDevicePropSpec *props;
  const char *source = source_name ? source_name : HVK_DEVICE_UNKNOWN_SOURCE;
  const char *id;
  HvkDeviceKind *kind;
  guint n_props;

  g_return_val_if_fail (registry == NULL || HVK_IS_LOOKUP (registry), NULL);
  g_return_val_if_fail (key_file != NULL, NULL);
  g_return_val_if_fail (group != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_str_has_prefix (group, DEVICE_GROUP_PREFIX))
    {
      hvk_key_file_set_error (error, source, group, NULL, "not a device group (expected [device.ID])");
      return NULL;
    }
  id = group + strlen (DEVICE_GROUP_PREFIX);
  if (!hvk_device_id_is_valid (id))
    {
      hvk_key_file_set_error (error, source, group, NULL,
                              "invalid device id '%s' (" HVK_DEVICE_ID_SYNTAX ")", id);
      return NULL;
    }

  keys = g_key_file_get_keys (key_file, group, NULL, NULL);
  if (keys == NULL)
    {
      hvk_key_file_set_error (error, source, group, NULL, "no such group");
      return NULL;
    }

  kind_name = hvk_key_file_get_string (key_file, group, "kind", NULL);
  if (kind_name == NULL)
    {
      hvk_key_file_set_error (error, source, group, "kind", "missing");
      return NULL;
    }
  kind = hvk_device_lookup_kind (registry, kind_name);
  if (kind == NULL)
    {
      hvk_key_file_set_error (error, source, group, "kind", "unknown device kind '%s'", kind_name);
      return NULL;
    }

  device = hvk_device_new (kind, id);
  for (gsize i = 0; keys[i] != NULL; i++)
    {
      const char *key = keys[i];
      const HvkDevicePropSpec *spec;
      g_autofree char *problem = NULL;
      g_autoptr(GError) local_error = NULL;

      if (g_str_equal (key, "kind"))
        continue;
      if (g_str_equal (key, "id"))
        {
          g_autofree char *value = hvk_key_file_get_string (key_file, group, key, NULL);

          if (g_strcmp0 (value, id) != 0)
            {
              hvk_key_file_set_error (error, source, group, key,
                                      "'%s' does not match the group's device id '%s'",
                                      value ? value : "", id);
              return NULL;
            }
          continue;
        }

      spec = hvk_device_kind_lookup_prop (kind, key);
      if (spec == NULL)
        {
          hvk_key_file_set_error (error, source, group, key,
                                  "unknown property for kind '%s'", kind_name);
          return NULL;
        }

      if (spec->type == HVK_PROP_STRV)
        {
          g_auto(GStrv) items = hvk_key_file_get_string_list (key_file, group, key, &local_error);

          /* GKeyFile may return a value *and* an error (bad escapes) */
          if (local_error != NULL)
            {
              hvk_key_file_set_error (error, source, group, key, "%s", local_error->message);
              return NULL;
            }
          hvk_device_set_strv (device, key, items ? (const char * const *) items
                                                  : (const char * const[]) { NULL });
          continue;
        }
      else
        {
          g_autofree char *text = hvk_key_file_get_string (key_file, group, key, &local_error);

          if (local_error != NULL)
            {
              hvk_key_file_set_error (error, source, group, key, "%s", local_error->message);
              return NULL;
            }
          if (!hvk_device_set_from_text (device, spec, text, HVK_LIST_SYNTAX_DEVICE, &problem))
            {
              hvk_key_file_set_error (error, source, group, key, "%s", problem);
              return NULL;
            }
        }
    }

  props = hvk_device_kind_get_props (kind, &n_props);
  for (guint i = 0; i < n_props; i++)
    if ((props[i].flags & HVK_PROP_FLAG_REQUIRED) && !hvk_device_has (device, props[i].name))
      {
        hvk_key_file_set_error (error, source, group, props[i].name,
                                "missing (required by kind '%s')", kind_name);
        return NULL;
      }

  return g_steal_pointer (&device);
}

