/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

#include "hvk-device-private.h"

/**
 * HvkDevice:
 *
 * A device description: a kind, an id and typed property values.  Values
 * not set read as the kind's defaults.
 */
struct _HvkDevice {
  GObject        parent_instance;
  HvkDeviceKind *kind;
  char          *id;
  HvkValues     *store;    /* the values set explicitly */
};

G_DEFINE_FINAL_TYPE (HvkDevice, hvk_device, G_TYPE_OBJECT)

#define MAX_ID_LENGTH 64
#define UNKNOWN_SOURCE "<config>"

static const HvkValuesOwner device_values_owner;

static void
hvk_device_finalize (GObject *object)
{
  HvkDevice *self = HVK_DEVICE (object);

  g_clear_pointer (&self->store, hvk_values_free);
  g_clear_pointer (&self->kind, hvk_device_kind_unref);
  g_clear_pointer (&self->id, g_free);

  G_OBJECT_CLASS (hvk_device_parent_class)->finalize (object);
}

static void
hvk_device_class_init (HvkDeviceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hvk_device_finalize;
}

static void
hvk_device_init (HvkDevice *self)
{
  self->store = hvk_values_new (&device_values_owner, self);
}

/* `[A-Za-z0-9][A-Za-z0-9_.-]*`, at most 64 characters. */
static gboolean
id_is_valid (const char *id)
{
  gsize len = strlen (id);

  if (len == 0 || len > MAX_ID_LENGTH || !g_ascii_isalnum (id[0]))
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '_' || *p == '.' || *p == '-'))
      return FALSE;
  return TRUE;
}

#define ID_SYNTAX "expected [A-Za-z0-9][A-Za-z0-9_.-]*, at most 64 characters"

static HvkDeviceKind *
lookup_kind (HvkRegistry *registry,
             const char  *name)
{
  if (registry != NULL)
    return hvk_registry_lookup_device_kind (registry, name);
  return hvk_device_kinds_lookup_standard (name);
}

/**
 * hvk_device_new:
 * @kind: the device kind
 * @id: the device id
 *
 * Creates a device with no property set.  hvk_device_validate() checks the
 * id and the required properties.
 *
 * Returns: (transfer full): a new #HvkDevice
 */
HvkDevice *
hvk_device_new (HvkDeviceKind *kind,
                const char    *id)
{
  HvkDevice *self;

  g_return_val_if_fail (kind != NULL, NULL);
  g_return_val_if_fail (id != NULL, NULL);

  self = g_object_new (HVK_TYPE_DEVICE, NULL);
  self->kind = hvk_device_kind_ref (kind);
  self->id = g_strdup (id);
  return self;
}

/**
 * hvk_device_get_kind:
 * @self: a #HvkDevice
 *
 * Returns: (transfer none): the kind
 */
HvkDeviceKind *
hvk_device_get_kind (HvkDevice *self)
{
  g_return_val_if_fail (HVK_IS_DEVICE (self), NULL);
  return self->kind;
}

/**
 * hvk_device_get_kind_name:
 * @self: a #HvkDevice
 *
 * Returns: the kind name (`block`, `net`, …)
 */
const char *
hvk_device_get_kind_name (HvkDevice *self)
{
  g_return_val_if_fail (HVK_IS_DEVICE (self), NULL);
  return hvk_device_kind_get_name (self->kind);
}

/**
 * hvk_device_get_id:
 * @self: a #HvkDevice
 *
 * Returns: the device id
 */
const char *
hvk_device_get_id (HvkDevice *self)
{
  g_return_val_if_fail (HVK_IS_DEVICE (self), NULL);
  return self->id;
}

/**
 * hvk_device_has:
 * @self: a #HvkDevice
 * @prop: a property name
 *
 * Returns: whether @prop was set explicitly (a default does not count)
 */
gboolean
hvk_device_has (HvkDevice  *self,
                const char *prop)
{
  g_return_val_if_fail (HVK_IS_DEVICE (self), FALSE);
  g_return_val_if_fail (prop != NULL, FALSE);

  return hvk_values_has (self->store, prop);
}

/* Checks an enumerated property of a standard kind; sets @problem. */
static gboolean
check_enum (HvkDevice               *self,
            const HvkDevicePropSpec *spec,
            GVariant                *variant,
            char                   **problem)
{
  const char * const *allowed;
  const char *text;

  if (spec->type != HVK_PROP_STRING)
    return TRUE;
  allowed = hvk_device_kinds_lookup_enum (hvk_device_kind_get_name (self->kind), spec->name);
  if (allowed == NULL)
    return TRUE;
  text = g_variant_get_string (variant, NULL);
  if (g_strv_contains (allowed, text))
    return TRUE;
  {
    g_autofree char *list = hvk_device_kinds_describe_enum (allowed);

    *problem = g_strdup_printf ("invalid value '%s' (expected %s)", text, list);
  }
  return FALSE;
}

/* ---- the value store's owner ---- */

static void
spec_from_prop (const HvkDevicePropSpec *prop,
                HvkValueSpec            *spec)
{
  spec->name = prop->name;
  spec->type = hvk_prop_type_to_variant_type (prop->type);
  spec->is_path = (prop->flags & HVK_PROP_FLAG_PATH) != 0;
  spec->handle = prop;
}

static gboolean
device_describe (gpointer      owner,
                 const char   *name,
                 HvkValueSpec *spec)
{
  const HvkDevicePropSpec *prop = hvk_device_kind_lookup_prop (((HvkDevice *) owner)->kind, name);

  if (prop != NULL)
    spec_from_prop (prop, spec);
  return prop != NULL;
}

static HvkValue *
device_get_default (gpointer            owner,
                    const HvkValueSpec *spec)
{
  HvkDeviceKind *kind = ((HvkDevice *) owner)->kind;
  guint n_props;
  const HvkDevicePropSpec *props = hvk_device_kind_get_props (kind, &n_props);

  return hvk_device_kind_get_default (kind, (const HvkDevicePropSpec *) spec->handle - props);
}

/* Unknown properties and type mismatches are programmer errors. */
static void
device_warn_unknown (gpointer    owner,
                     const char *func,
                     const char *name)
{
  HvkDevice *self = owner;

  g_critical ("%s: device '%s': unknown property '%s' for kind '%s'",
              func, self->id, name, hvk_device_kind_get_name (self->kind));
}

static void
device_warn_mistyped (gpointer    owner,
                      const char *func,
                      const char *name)
{
  HvkDevice *self = owner;

  g_critical ("%s: device '%s': property '%s' of kind '%s' has another type",
              func, self->id, name, hvk_device_kind_get_name (self->kind));
}

static gboolean
device_check (gpointer            owner,
              const HvkValueSpec *spec,
              GVariant           *value,
              char              **problem)
{
  return check_enum (owner, spec->handle, value, problem);
}

static const HvkValuesOwner device_values_owner = {
  .describe = device_describe,
  .get_default = device_get_default,
  .warn_unknown = device_warn_unknown,
  .warn_mistyped = device_warn_mistyped,
  .check = device_check,
};

/* Parses @text for @prop; on failure sets @problem (without prefix). */
static gboolean
set_from_text (HvkDevice               *self,
               const HvkDevicePropSpec *prop,
               const char              *text,
               HvkListSyntax            syntax,
               char                   **problem)
{
  HvkValueSpec spec;

  spec_from_prop (prop, &spec);
  return hvk_values_set_from_text (self->store, &spec, text, syntax, problem);
}

static void
store_value (HvkDevice               *self,
             const HvkDevicePropSpec *prop,
             GVariant                *variant)
{
  HvkValueSpec spec;

  spec_from_prop (prop, &spec);
  hvk_values_store (self->store, &spec, variant);
}

/**
 * hvk_device_set_from_string:
 * @self: a #HvkDevice
 * @prop: a property name
 * @text: the value in device-string syntax (lists `:`-separated)
 * @error: return location for a #GError
 *
 * Parses @text by the type of @prop and sets it.
 *
 * Returns: %TRUE on success; %FALSE with %HVK_ERROR_INVALID_ARGUMENT when
 *   @prop is unknown or @text is not a valid value
 */
gboolean
hvk_device_set_from_string (HvkDevice   *self,
                            const char  *prop,
                            const char  *text,
                            GError     **error)
{
  const HvkDevicePropSpec *spec;
  g_autofree char *problem = NULL;

  g_return_val_if_fail (HVK_IS_DEVICE (self), FALSE);
  g_return_val_if_fail (prop != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  spec = hvk_device_kind_lookup_prop (self->kind, prop);
  if (spec == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "device '%s': unknown property '%s' for kind '%s'",
                   self->id, prop, hvk_device_kind_get_name (self->kind));
      return FALSE;
    }
  if (!set_from_text (self, spec, text, HVK_LIST_SYNTAX_DEVICE, &problem))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "device '%s': property '%s': %s", self->id, prop, problem);
      return FALSE;
    }
  return TRUE;
}

/**
 * hvk_device_set_string:
 * @self: a #HvkDevice
 * @prop: a string property
 * @value: (nullable): the value, or %NULL to unset it
 *
 * Sets a string property.
 */
void
hvk_device_set_string (HvkDevice  *self,
                       const char *prop,
                       const char *value)
{
  g_return_if_fail (HVK_IS_DEVICE (self));
  g_return_if_fail (prop != NULL);

  hvk_values_set (self->store, prop, HVK_VALUE_TYPE_STRING,
                  value ? g_variant_new_string (value) : NULL, G_STRFUNC);
}

/**
 * hvk_device_set_boolean:
 * @self: a #HvkDevice
 * @prop: a boolean property
 * @value: the value
 *
 * Sets a boolean property.
 */
void
hvk_device_set_boolean (HvkDevice  *self,
                        const char *prop,
                        gboolean    value)
{
  g_return_if_fail (HVK_IS_DEVICE (self));
  g_return_if_fail (prop != NULL);

  hvk_values_set (self->store, prop, HVK_VALUE_TYPE_BOOLEAN,
                  g_variant_new_boolean (value), G_STRFUNC);
}

/**
 * hvk_device_set_uint:
 * @self: a #HvkDevice
 * @prop: an unsigned integer property
 * @value: the value
 *
 * Sets an unsigned integer property.
 */
void
hvk_device_set_uint (HvkDevice  *self,
                     const char *prop,
                     guint64     value)
{
  g_return_if_fail (HVK_IS_DEVICE (self));
  g_return_if_fail (prop != NULL);

  hvk_values_set (self->store, prop, HVK_VALUE_TYPE_UINT,
                  g_variant_new_uint64 (value), G_STRFUNC);
}

/**
 * hvk_device_set_int:
 * @self: a #HvkDevice
 * @prop: a signed integer property
 * @value: the value
 *
 * Sets a signed integer property.
 */
void
hvk_device_set_int (HvkDevice  *self,
                    const char *prop,
                    gint64      value)
{
  g_return_if_fail (HVK_IS_DEVICE (self));
  g_return_if_fail (prop != NULL);

  hvk_values_set (self->store, prop, HVK_VALUE_TYPE_INT,
                  g_variant_new_int64 (value), G_STRFUNC);
}

/**
 * hvk_device_set_strv:
 * @self: a #HvkDevice
 * @prop: a string-list property
 * @value: (nullable) (array zero-terminated=1): the value, or %NULL to unset it
 *
 * Sets a string-list property.
 */
void
hvk_device_set_strv (HvkDevice          *self,
                     const char         *prop,
                     const char * const *value)
{
  g_return_if_fail (HVK_IS_DEVICE (self));
  g_return_if_fail (prop != NULL);

  hvk_values_set (self->store, prop, HVK_VALUE_TYPE_STRV,
                  value ? g_variant_new_strv (value, -1) : NULL, G_STRFUNC);
}

/**
 * hvk_device_get_string:
 * @self: a #HvkDevice
 * @prop: a string property
 *
 * Returns: (nullable): the value, else the kind's default, else %NULL
 */
const char *
hvk_device_get_string (HvkDevice  *self,
                       const char *prop)
{
  g_return_val_if_fail (HVK_IS_DEVICE (self), NULL);
  g_return_val_if_fail (prop != NULL, NULL);

  return hvk_values_get_string (self->store, prop, G_STRFUNC);
}

/**
 * hvk_device_get_boolean:
 * @self: a #HvkDevice
 * @prop: a boolean property
 *
 * Returns: the value, else the kind's default, else %FALSE
 */
gboolean
hvk_device_get_boolean (HvkDevice  *self,
                        const char *prop)
{
  g_return_val_if_fail (HVK_IS_DEVICE (self), FALSE);
  g_return_val_if_fail (prop != NULL, FALSE);

  return hvk_values_get_boolean (self->store, prop, G_STRFUNC);
}

/**
 * hvk_device_get_uint:
 * @self: a #HvkDevice
 * @prop: an unsigned integer property
 *
 * Returns: the value, else the kind's default, else 0
 */
guint64
hvk_device_get_uint (HvkDevice  *self,
                     const char *prop)
{
  g_return_val_if_fail (HVK_IS_DEVICE (self), 0);
  g_return_val_if_fail (prop != NULL, 0);

  return hvk_values_get_uint (self->store, prop, G_STRFUNC);
}

/**
 * hvk_device_get_int:
 * @self: a #HvkDevice
 * @prop: a signed integer property
 *
 * Returns: the value, else the kind's default, else 0
 */
gint64
hvk_device_get_int (HvkDevice  *self,
                    const char *prop)
{
  g_return_val_if_fail (HVK_IS_DEVICE (self), 0);
  g_return_val_if_fail (prop != NULL, 0);

  return hvk_values_get_int (self->store, prop, G_STRFUNC);
}

/**
 * hvk_device_get_strv:
 * @self: a #HvkDevice
 * @prop: a string-list property
 *
 * Returns: (nullable) (transfer none) (array zero-terminated=1): the value,
 *   else the kind's default, else %NULL; valid until @prop is set again
 */
const char * const *
hvk_device_get_strv (HvkDevice  *self,
                     const char *prop)
{
  g_return_val_if_fail (HVK_IS_DEVICE (self), NULL);
  g_return_val_if_fail (prop != NULL, NULL);

  return hvk_values_get_strv (self->store, prop, G_STRFUNC);
}

/**
 * hvk_device_validate:
 * @self: a #HvkDevice
 * @error: return location for a #GError
 *
 * Checks the id (`[A-Za-z0-9][A-Za-z0-9_.-]*`, at most 64 characters), that
 * every required property is set and that enumerated properties of the
 * standard kinds hold one of their values.
 *
 * Returns: %TRUE if valid; else %FALSE with %HVK_ERROR_INVALID_ARGUMENT
 *   naming the device, its kind and the property
 */
gboolean
hvk_device_validate (HvkDevice  *self,
                     GError    **error)
{
  const HvkDevicePropSpec *props;
  const char *kind_name;
  guint n_props;

  g_return_val_if_fail (HVK_IS_DEVICE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  kind_name = hvk_device_kind_get_name (self->kind);
  if (!id_is_valid (self->id))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "device '%s' (%s): invalid id (" ID_SYNTAX ")", self->id, kind_name);
      return FALSE;
    }

  props = hvk_device_kind_get_props (self->kind, &n_props);
  for (guint i = 0; i < n_props; i++)
    {
      HvkValue *value = hvk_values_peek (self->store, props[i].name);
      g_autofree char *problem = NULL;

      if (value == NULL && (props[i].flags & HVK_PROP_FLAG_REQUIRED))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "device '%s' (%s): missing required property '%s'",
                       self->id, kind_name, props[i].name);
          return FALSE;
        }
      if (value != NULL && !check_enum (self, &props[i], value->variant, &problem))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "device '%s' (%s): property '%s': %s",
                       self->id, kind_name, props[i].name, problem);
          return FALSE;
        }
    }
  return TRUE;
}

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

  g_return_val_if_fail (registry == NULL || HVK_IS_REGISTRY (registry), NULL);
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
  kind = lookup_kind (registry, kind_name);
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
  if (!id_is_valid (id))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "device string '%s': invalid id '%s' (" ID_SYNTAX ")", text, id);
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

static void
set_key_file_error (GError    **error,
                    const char *source,
                    const char *group,
                    const char *key,
                    const char *format,
                    ...) G_GNUC_PRINTF (5, 6);

static void
set_key_file_error (GError    **error,
                    const char *source,
                    const char *group,
                    const char *key,
                    const char *format,
                    ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (key != NULL)
    g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG, "%s: [%s] %s: %s",
                 source, group, key, message);
  else
    g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG, "%s: [%s]: %s",
                 source, group, message);
}

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
  const char *source = source_name ? source_name : UNKNOWN_SOURCE;
  const char *id;
  HvkDeviceKind *kind;
  guint n_props;

  g_return_val_if_fail (registry == NULL || HVK_IS_REGISTRY (registry), NULL);
  g_return_val_if_fail (key_file != NULL, NULL);
  g_return_val_if_fail (group != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_str_has_prefix (group, DEVICE_GROUP_PREFIX))
    {
      set_key_file_error (error, source, group, NULL, "not a device group (expected [device.ID])");
      return NULL;
    }
  id = group + strlen (DEVICE_GROUP_PREFIX);
  if (!id_is_valid (id))
    {
      set_key_file_error (error, source, group, NULL, "invalid device id '%s' (" ID_SYNTAX ")", id);
      return NULL;
    }

  keys = g_key_file_get_keys (key_file, group, NULL, NULL);
  if (keys == NULL)
    {
      set_key_file_error (error, source, group, NULL, "no such group");
      return NULL;
    }

  kind_name = hvk_key_file_get_string (key_file, group, "kind", NULL);
  if (kind_name == NULL)
    {
      set_key_file_error (error, source, group, "kind", "missing");
      return NULL;
    }
  kind = lookup_kind (registry, kind_name);
  if (kind == NULL)
    {
      set_key_file_error (error, source, group, "kind", "unknown device kind '%s'", kind_name);
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
              set_key_file_error (error, source, group, key,
                                  "'%s' does not match the group's device id '%s'",
                                  value ? value : "", id);
              return NULL;
            }
          continue;
        }

      spec = hvk_device_kind_lookup_prop (kind, key);
      if (spec == NULL)
        {
          set_key_file_error (error, source, group, key,
                              "unknown property for kind '%s'", kind_name);
          return NULL;
        }

      if (spec->type == HVK_PROP_STRV)
        {
          g_auto(GStrv) items = hvk_key_file_get_string_list (key_file, group, key, &local_error);

          /* GKeyFile may return a value *and* an error (bad escapes) */
          if (local_error != NULL)
            {
              set_key_file_error (error, source, group, key, "%s", local_error->message);
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
              set_key_file_error (error, source, group, key, "%s", local_error->message);
              return NULL;
            }
          if (!set_from_text (device, spec, text, HVK_LIST_SYNTAX_DEVICE, &problem))
            {
              set_key_file_error (error, source, group, key, "%s", problem);
              return NULL;
            }
        }
    }

  props = hvk_device_kind_get_props (kind, &n_props);
  for (guint i = 0; i < n_props; i++)
    if ((props[i].flags & HVK_PROP_FLAG_REQUIRED) && !hvk_device_has (device, props[i].name))
      {
        set_key_file_error (error, source, group, props[i].name,
                            "missing (required by kind '%s')", kind_name);
        return NULL;
      }

  return g_steal_pointer (&device);
}

/* ---- JSON: {"kind": …, "id": …, "props": {name: value}} ---- */

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

static const char *
json_member_string (JsonObject *object,
                    const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !json_is_value_of (node, G_TYPE_STRING))
    return NULL;
  return json_node_get_string (node);
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

  g_return_val_if_fail (registry == NULL || HVK_IS_REGISTRY (registry), NULL);
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

  kind_name = json_member_string (object, "kind");
  if (kind_name == NULL)
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "device JSON: missing or non-string 'kind'");
      return NULL;
    }
  id = json_member_string (object, "id");
  if (id == NULL)
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "device JSON: missing or non-string 'id'");
      return NULL;
    }
  kind = lookup_kind (registry, kind_name);
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
          if (!check_enum (device, spec, v, &problem))
            {
              g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "device '%s': property '%s': %s", id, name, problem);
              return NULL;
            }
          store_value (device, spec, v);
        }
    }

  if (!hvk_device_validate (device, error))
    return NULL;
  return g_steal_pointer (&device);
}

/**
 * hvk_device_copy:
 * @self: a #HvkDevice
 *
 * Returns: (transfer full): a new device with the same kind, id and values
 */
HvkDevice *
hvk_device_copy (HvkDevice *self)
{
  HvkDevice *copy;
  const HvkDevicePropSpec *props;
  guint n_props;

  g_return_val_if_fail (HVK_IS_DEVICE (self), NULL);

  copy = hvk_device_new (self->kind, self->id);
  props = hvk_device_kind_get_props (self->kind, &n_props);
  for (guint i = 0; i < n_props; i++)
    {
      HvkValue *value = hvk_values_peek (self->store, props[i].name);

      if (value != NULL)
        hvk_values_insert (copy->store, props[i].name, value->variant);
    }
  return copy;
}
