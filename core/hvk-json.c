/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

/**
 * SECTION:hvk-json
 * @short_description: typed readers of saved state
 *
 * One set of readers for every saved-state document: the core's envelope
 * and each backend's part.  A member of the wrong type is reported, never
 * handed to json-glib's getters (whose checks are programmer errors).
 */

static gboolean
wrong_member (const char  *member,
              const char  *what,
              GError     **error)
{
  g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
               "member '%s' is missing or not %s", member, what);
  return FALSE;
}

/* The member's node, or NULL when absent or null (then an error if
 * @required, with @what for the message). */
static JsonNode *
lookup (JsonObject  *object,
        const char  *member,
        gboolean     required,
        const char  *what,
        gboolean    *ok,
        GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *ok = TRUE;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      if (required)
        *ok = wrong_member (member, what, error);
      return NULL;
    }
  return node;
}

static gboolean
holds_value (JsonNode *node,
             GType     type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

/**
 * hvk_json_get_string:
 * @object: a JSON object
 * @member: the member's name
 * @required: whether a missing or null member is an error
 * @value: (out) (transfer none) (nullable): the string, %NULL when absent
 * @error: return location for an error naming @member
 *
 * Reads a string member of a saved state or a QMP reply, type-checked.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_json_get_string (JsonObject   *object,
                     const char   *member,
                     gboolean      required,
                     const char  **value,
                     GError      **error)
{
  gboolean ok;
  JsonNode *node;

  g_return_val_if_fail (object != NULL && member != NULL && value != NULL, FALSE);

  *value = NULL;
  node = lookup (object, member, required, "a string", &ok, error);
  if (node == NULL)
    return ok;
  if (!holds_value (node, G_TYPE_STRING))
    return wrong_member (member, "a string", error);
  *value = json_node_get_string (node);
  return TRUE;
}

/**
 * hvk_json_dup_string:
 * @object: a JSON object
 * @member: the member's name
 * @required: whether a missing or null member is an error
 * @value: (out) (transfer full) (nullable): a copy of the string, %NULL
 *   when absent
 * @error: return location for an error naming @member
 *
 * Reads a string member, type-checked, and copies it.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_json_dup_string (JsonObject   *object,
                     const char   *member,
                     gboolean      required,
                     char        **value,
                     GError      **error)
{
  const char *text;

  g_return_val_if_fail (value != NULL, FALSE);

  *value = NULL;
  if (!hvk_json_get_string (object, member, required, &text, error))
    return FALSE;
  *value = g_strdup (text);
  return TRUE;
}

/**
 * hvk_json_get_int:
 * @object: a JSON object
 * @member: the member's name
 * @required: whether a missing or null member is an error
 * @min: the smallest value accepted
 * @max: the largest value accepted
 * @value: (out): the integer, 0 when absent
 * @error: return location for an error naming @member
 *
 * Reads an integer member, type- and range-checked.
 *
 * Returns: %TRUE on success; %FALSE if the member is not an integer in
 *   [@min, @max]
 */
gboolean
hvk_json_get_int (JsonObject   *object,
                  const char   *member,
                  gboolean      required,
                  gint64        min,
                  gint64        max,
                  gint64       *value,
                  GError      **error)
{
  g_autofree char *what = NULL;
  gboolean ok;
  JsonNode *node;

  g_return_val_if_fail (object != NULL && member != NULL && value != NULL, FALSE);

  *value = 0;
  if (min == G_MININT64 && max == G_MAXINT64)
    what = g_strdup ("a number");
  else if (min == 0 && max >= G_MAXUINT32)
    what = g_strdup ("an unsigned number");
  else
    what = g_strdup_printf ("a number in [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]",
                            min, max);
  node = lookup (object, member, required, what, &ok, error);
  if (node == NULL)
    return ok;
  if (!holds_value (node, G_TYPE_INT64)
      || json_node_get_int (node) < min || json_node_get_int (node) > max)
    return wrong_member (member, what, error);
  *value = json_node_get_int (node);
  return TRUE;
}

/**
 * hvk_json_get_bool:
 * @object: a JSON object
 * @member: the member's name
 * @required: whether a missing or null member is an error
 * @value: (out): the boolean, %FALSE when absent
 * @error: return location for an error naming @member
 *
 * Reads a boolean member, type-checked.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_json_get_bool (JsonObject   *object,
                   const char   *member,
                   gboolean      required,
                   gboolean     *value,
                   GError      **error)
{
  gboolean ok;
  JsonNode *node;

  g_return_val_if_fail (object != NULL && member != NULL && value != NULL, FALSE);

  *value = FALSE;
  node = lookup (object, member, required, "a boolean", &ok, error);
  if (node == NULL)
    return ok;
  if (!holds_value (node, G_TYPE_BOOLEAN))
    return wrong_member (member, "a boolean", error);
  *value = json_node_get_boolean (node);
  return TRUE;
}

/**
 * hvk_json_get_object:
 * @object: a JSON object
 * @member: the member's name
 * @required: whether a missing or null member is an error
 * @value: (out) (transfer none) (nullable): the object, %NULL when absent
 * @error: return location for an error naming @member
 *
 * Reads an object member, type-checked.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_json_get_object (JsonObject   *object,
                     const char   *member,
                     gboolean      required,
                     JsonObject  **value,
                     GError      **error)
{
  gboolean ok;
  JsonNode *node;

  g_return_val_if_fail (object != NULL && member != NULL && value != NULL, FALSE);

  *value = NULL;
  node = lookup (object, member, required, "an object", &ok, error);
  if (node == NULL)
    return ok;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return wrong_member (member, "an object", error);
  *value = json_node_get_object (node);
  return TRUE;
}

/**
 * hvk_json_get_array:
 * @object: a JSON object
 * @member: the member's name
 * @required: whether a missing or null member is an error
 * @value: (out) (transfer none) (nullable): the array, %NULL when absent
 * @error: return location for an error naming @member
 *
 * Reads an array member, type-checked.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_json_get_array (JsonObject   *object,
                    const char   *member,
                    gboolean      required,
                    JsonArray   **value,
                    GError      **error)
{
  gboolean ok;
  JsonNode *node;

  g_return_val_if_fail (object != NULL && member != NULL && value != NULL, FALSE);

  *value = NULL;
  node = lookup (object, member, required, "an array", &ok, error);
  if (node == NULL)
    return ok;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return wrong_member (member, "an array", error);
  *value = json_node_get_array (node);
  return TRUE;
}

/**
 * hvk_json_get_strv:
 * @object: a JSON object
 * @member: the member's name
 * @required: whether a missing or null member is an error
 * @value: (out) (transfer full) (nullable): a new %NULL-terminated copy
 *   of the array of strings, %NULL when absent
 * @error: return location for an error naming @member
 *
 * Reads an array of strings, each element type-checked.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_json_get_strv (JsonObject   *object,
                   const char   *member,
                   gboolean      required,
                   GStrv        *value,
                   GError      **error)
{
  g_autoptr(GStrvBuilder) builder = NULL;
  JsonArray *array;

  g_return_val_if_fail (value != NULL, FALSE);

  *value = NULL;
  if (!hvk_json_get_array (object, member, required, &array, error))
    return FALSE;
  if (array == NULL)
    return TRUE;
  builder = g_strv_builder_new ();
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!holds_value (element, G_TYPE_STRING))
        return wrong_member (member, "an array of strings", error);
      g_strv_builder_add (builder, json_node_get_string (element));
    }
  *value = g_strv_builder_end (builder);
  return TRUE;
}
