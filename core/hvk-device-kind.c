/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-device-private.h"

/**
 * HvkDeviceKind:
 *
 * What a device is (`block`, `net`, … or a kind a plugin registers) and the
 * typed properties it takes.  Immutable and reference counted.
 */
struct _HvkDeviceKind {
  gatomicrefcount    ref_count;
  char              *name;
  char              *description;
  HvkDevicePropSpec *props;
  guint              n_props;
  HvkValue         **defaults;    /* n_props entries, NULL when no default */
};

G_DEFINE_BOXED_TYPE (HvkDeviceKind, hvk_device_kind, hvk_device_kind_ref, hvk_device_kind_unref)

/* Kind and property names: `[a-z0-9_-]+`. */
gboolean
hvk_device_kind_name_is_valid (const char *name)
{
  if (name == NULL || *name == '\0')
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!(g_ascii_islower (*p) || g_ascii_isdigit (*p) || *p == '_' || *p == '-'))
      return FALSE;
  return TRUE;
}

/* Keys with a meaning of their own in device strings and key files. */
static const char * const reserved_prop_names[] = { "id", "kind", NULL };

static void
hvk_device_kind_free (HvkDeviceKind *kind)
{
  for (guint i = 0; i < kind->n_props; i++)
    {
      g_free ((char *) kind->props[i].name);
      g_free ((char *) kind->props[i].default_value);
      g_free ((char *) kind->props[i].description);
      hvk_value_free (kind->defaults[i]);
    }
  g_free (kind->props);
  g_free (kind->defaults);
  g_free (kind->name);
  g_free (kind->description);
  g_free (kind);
}

/**
 * hvk_device_kind_new:
 * @name: the kind name (`[a-z0-9_-]+`)
 * @description: (nullable): one line of documentation
 * @props: (array length=n_props): the properties
 * @n_props: number of properties
 * @error: return location for a #GError
 *
 * Creates a device kind, copying @props.  Fails with
 * %HVK_ERROR_INVALID_ARGUMENT when a name is invalid or reserved (`id`,
 * `kind`), a property is declared twice, its type is unknown, its
 * default does not parse as its type or it has %HVK_PROP_FLAG_PATH without
 * being a string or a list of strings.
 *
 * Returns: (transfer full): the new kind, or %NULL with @error set
 */
HvkDeviceKind *
hvk_device_kind_new (const char              *name,
                     const char              *description,
                     const HvkDevicePropSpec *props,
                     guint                    n_props,
                     GError                 **error)
{
  g_autoptr(GHashTable) seen = NULL;
  HvkDeviceKind *kind;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (props != NULL || n_props == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!hvk_device_kind_name_is_valid (name))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "device kind '%s': invalid name (expected [a-z0-9_-]+)", name);
      return NULL;
    }

  seen = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < n_props; i++)
    {
      const HvkDevicePropSpec *spec = &props[i];
      const GVariantType *type;

      if (spec->name == NULL || !hvk_device_kind_name_is_valid (spec->name))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "device kind '%s': invalid property name '%s' (expected [a-z0-9_-]+)",
                       name, spec->name ? spec->name : "(null)");
          return NULL;
        }
      if (g_strv_contains (reserved_prop_names, spec->name))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "device kind '%s': property name '%s' is reserved", name, spec->name);
          return NULL;
        }
      if (!g_hash_table_add (seen, (gpointer) spec->name))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "device kind '%s': property '%s' declared twice", name, spec->name);
          return NULL;
        }
      type = hvk_prop_type_to_variant_type (spec->type);
      if (type == NULL)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "device kind '%s': property '%s' has unknown type %d",
                       name, spec->name, (int) spec->type);
          return NULL;
        }
      if ((spec->flags & HVK_PROP_FLAG_PATH)
          && spec->type != HVK_PROP_STRING && spec->type != HVK_PROP_STRV)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "device kind '%s': property '%s': only strings and lists of strings "
                       "can be paths", name, spec->name);
          return NULL;
        }
      if (spec->default_value != NULL)
        {
          g_autofree char *problem = NULL;
          g_autoptr(GVariant) v = hvk_value_parse (type, spec->default_value,
                                                   HVK_LIST_SYNTAX_DEVICE, &problem);

          if (v == NULL)
            {
              g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "device kind '%s': property '%s': default has %s",
                           name, spec->name, problem);
              return NULL;
            }
        }
    }

  kind = g_new0 (HvkDeviceKind, 1);
  g_atomic_ref_count_init (&kind->ref_count);
  kind->name = g_strdup (name);
  kind->description = g_strdup (description ? description : "");
  kind->n_props = n_props;
  kind->props = g_new0 (HvkDevicePropSpec, n_props);
  kind->defaults = g_new0 (HvkValue *, n_props);
  for (guint i = 0; i < n_props; i++)
    {
      kind->props[i].name = g_strdup (props[i].name);
      kind->props[i].type = props[i].type;
      kind->props[i].flags = props[i].flags;
      kind->props[i].default_value = g_strdup (props[i].default_value);
      kind->props[i].description = g_strdup (props[i].description ? props[i].description : "");
      if (props[i].default_value != NULL)
        kind->defaults[i] = hvk_value_new (hvk_value_parse (hvk_prop_type_to_variant_type (props[i].type),
                                                            props[i].default_value,
                                                            HVK_LIST_SYNTAX_DEVICE, NULL));
    }
  return kind;
}

/**
 * hvk_device_kind_ref:
 * @kind: a #HvkDeviceKind
 *
 * Takes a reference on a device kind.
 *
 * Returns: (transfer full): @kind
 */
HvkDeviceKind *
hvk_device_kind_ref (HvkDeviceKind *kind)
{
  g_return_val_if_fail (kind != NULL, NULL);

  g_atomic_ref_count_inc (&kind->ref_count);
  return kind;
}

/**
 * hvk_device_kind_unref:
 * @kind: (transfer full): a #HvkDeviceKind
 *
 * Drops a reference; the kind is freed with the last one.
 */
void
hvk_device_kind_unref (HvkDeviceKind *kind)
{
  g_return_if_fail (kind != NULL);

  if (g_atomic_ref_count_dec (&kind->ref_count))
    hvk_device_kind_free (kind);
}

/**
 * hvk_device_kind_get_name:
 * @kind: a #HvkDeviceKind
 *
 * Gets the kind's name.
 *
 * Returns: the kind name
 */
const char *
hvk_device_kind_get_name (HvkDeviceKind *kind)
{
  g_return_val_if_fail (kind != NULL, NULL);
  return kind->name;
}

/**
 * hvk_device_kind_get_description:
 * @kind: a #HvkDeviceKind
 *
 * Gets the kind's one-line description.
 *
 * Returns: the description (empty when none was given)
 */
const char *
hvk_device_kind_get_description (HvkDeviceKind *kind)
{
  g_return_val_if_fail (kind != NULL, NULL);
  return kind->description;
}

/**
 * hvk_device_kind_get_props:
 * @kind: a #HvkDeviceKind
 * @n_props: (out): number of properties
 *
 * Gets the properties a device of the kind takes.
 *
 * Returns: (array length=n_props) (transfer none): the properties, in
 *   declaration order
 */
const HvkDevicePropSpec *
hvk_device_kind_get_props (HvkDeviceKind *kind,
                           guint         *n_props)
{
  g_return_val_if_fail (kind != NULL, NULL);
  g_return_val_if_fail (n_props != NULL, NULL);

  *n_props = kind->n_props;
  return kind->props;
}

/**
 * hvk_device_kind_lookup_prop:
 * @kind: a #HvkDeviceKind
 * @name: a property name
 *
 * Finds a property of the kind by name.
 *
 * Returns: (transfer none) (nullable): the property, or %NULL if @kind has
 *   none of that name
 */
const HvkDevicePropSpec *
hvk_device_kind_lookup_prop (HvkDeviceKind *kind,
                             const char    *name)
{
  g_return_val_if_fail (kind != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < kind->n_props; i++)
    if (g_str_equal (kind->props[i].name, name))
      return &kind->props[i];
  return NULL;
}

HvkValue *
hvk_device_kind_get_default (HvkDeviceKind *kind,
                             guint          index)
{
  g_return_val_if_fail (kind != NULL, NULL);
  g_return_val_if_fail (index < kind->n_props, NULL);

  return kind->defaults[index];
}
