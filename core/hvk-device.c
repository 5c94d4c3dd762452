/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

#include "hvk-device-private.h"
#include "hvk-io-limits-private.h"

/**
 * HvkDevice:
 *
 * A device description: a kind, an id and typed property values.  Values
 * not set read as the kind's defaults.
 */

G_DEFINE_FINAL_TYPE (HvkDevice, hvk_device, G_TYPE_OBJECT)

#define MAX_ID_LENGTH 64

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
gboolean
hvk_device_id_is_valid (const char *id)
{
  gsize len = strlen (id);

  if (len == 0 || len > MAX_ID_LENGTH || !g_ascii_isalnum (id[0]))
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '_' || *p == '.' || *p == '-'))
      return FALSE;
  return TRUE;
}

HvkDeviceKind *
hvk_device_lookup_kind (HvkRegistry *registry,
                        const char  *name)
{
  if (registry != NULL)
    return hvk_lookup_device_kind (HVK_LOOKUP (registry), name);
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
 * Gets the kind of the device.
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
 * Gets the name of the device's kind.
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
 * Gets the device id, unique within a VM.
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
 * Tells whether a property has a value of its own.
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
gboolean
hvk_device_check_enum (HvkDevice               *self,
                       const HvkDevicePropSpec *spec,
                       GVariant                *variant,
                       char                   **problem)
{
  const char * const *allowed;
  const char *text;
  HvkIoLimitsField field;

  if (spec->type == HVK_PROP_INT
      && hvk_io_limits_is_prop (hvk_device_kind_get_name (self->kind), spec->name, &field))
    return hvk_io_limits_check_value (field, g_variant_get_int64 (variant), problem);
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
  return hvk_device_check_enum (owner, spec->handle, value, problem);
}

static const HvkValuesOwner device_values_owner = {
  .describe = device_describe,
  .get_default = device_get_default,
  .warn_unknown = device_warn_unknown,
  .warn_mistyped = device_warn_mistyped,
  .check = device_check,
};

/* Parses @text for @prop; on failure sets @problem (without prefix). */
gboolean
hvk_device_set_from_text (HvkDevice               *self,
                          const HvkDevicePropSpec *prop,
                          const char              *text,
                          HvkListSyntax            syntax,
                          char                   **problem)
{
  HvkValueSpec spec;

  spec_from_prop (prop, &spec);
  return hvk_values_set_from_text (self->store, &spec, text, syntax, problem);
}

void
hvk_device_store_value (HvkDevice               *self,
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
  if (!hvk_device_set_from_text (self, spec, text, HVK_LIST_SYNTAX_DEVICE, &problem))
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
 * Gets the value of a string property.
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
 * Gets the value of a boolean property.
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
 * Gets the value of an unsigned integer property.
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
 * Gets the value of a signed integer property.
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
 * Gets the value of a string-list property.
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
  if (!hvk_device_id_is_valid (self->id))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "device '%s' (%s): invalid id (" HVK_DEVICE_ID_SYNTAX ")", self->id, kind_name);
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
      if (value != NULL && !hvk_device_check_enum (self, &props[i], value->variant, &problem))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "device '%s' (%s): property '%s': %s",
                       self->id, kind_name, props[i].name, problem);
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * hvk_device_copy:
 * @self: a #HvkDevice
 *
 * Copies a device.
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
