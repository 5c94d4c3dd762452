/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "hvk-values-private.h"

/* ---- one value ---- */

HvkValue *
hvk_value_new (GVariant *variant)
{
  HvkValue *value = g_new0 (HvkValue, 1);

  value->variant = g_variant_ref_sink (variant);
  if (g_variant_is_of_type (variant, G_VARIANT_TYPE_STRING_ARRAY))
    value->strv = g_variant_get_strv (variant, NULL);
  return value;
}

void
hvk_value_free (HvkValue *value)
{
  if (value == NULL)
    return;
  g_free (value->strv);
  g_variant_unref (value->variant);
  g_free (value);
}

HvkConfigValueType
hvk_config_value_type_base (HvkConfigValueType type)
{
  switch (type)
    {
    case HVK_CONFIG_TYPE_PATH:      return HVK_CONFIG_TYPE_STRING;
    case HVK_CONFIG_TYPE_PATH_LIST: return HVK_CONFIG_TYPE_STRV;
    default:                        return type;
    }
}

char *
hvk_path_make_absolute (const char *path)
{
  g_autofree char *cwd = NULL;
  const char *rest = path;

  if (*path == '\0' || g_path_is_absolute (path))
    return g_strdup (path);
  for (;;)
    {
      if (rest[0] == '.' && rest[1] == '/')
        rest += 2;
      else if (rest[0] == '/')
        rest++;
      else
        break;
    }
  cwd = g_get_current_dir ();
  if (g_str_equal (rest, "") || g_str_equal (rest, "."))
    return g_steal_pointer (&cwd);
  return g_build_filename (cwd, rest, NULL);
}

GVariant *
hvk_value_make_paths_absolute (GVariant *value)
{
  g_return_val_if_fail (value != NULL && !g_variant_is_floating (value), NULL);

  if (g_variant_is_of_type (value, HVK_VALUE_TYPE_STRING))
    {
      const char *path = g_variant_get_string (value, NULL);
      g_autofree char *absolute = NULL;

      if (*path == '\0' || g_path_is_absolute (path))
        return g_variant_ref (value);
      absolute = hvk_path_make_absolute (path);
      return g_variant_ref_sink (g_variant_new_string (absolute));
    }
  if (g_variant_is_of_type (value, HVK_VALUE_TYPE_STRV))
    {
      g_autofree const char **items = g_variant_get_strv (value, NULL);
      g_autoptr(GPtrArray) absolute = g_ptr_array_new_with_free_func (g_free);

      for (gsize i = 0; items[i] != NULL; i++)
        g_ptr_array_add (absolute, hvk_path_make_absolute (items[i]));
      return g_variant_ref_sink (g_variant_new_strv ((const char * const *) absolute->pdata,
                                                     absolute->len));
    }
  return g_variant_ref (value);
}

const GVariantType *
hvk_config_value_type_to_variant_type (HvkConfigValueType type)
{
  switch (type)
    {
    case HVK_CONFIG_TYPE_PATH:      return HVK_VALUE_TYPE_STRING;
    case HVK_CONFIG_TYPE_PATH_LIST: return HVK_VALUE_TYPE_STRV;
    case HVK_CONFIG_TYPE_STRING:  return HVK_VALUE_TYPE_STRING;
    case HVK_CONFIG_TYPE_BOOLEAN: return HVK_VALUE_TYPE_BOOLEAN;
    case HVK_CONFIG_TYPE_UINT:    return HVK_VALUE_TYPE_UINT;
    case HVK_CONFIG_TYPE_INT:     return HVK_VALUE_TYPE_INT;
    case HVK_CONFIG_TYPE_DOUBLE:  return HVK_VALUE_TYPE_DOUBLE;
    case HVK_CONFIG_TYPE_STRV:    return HVK_VALUE_TYPE_STRV;
    default:                      return NULL;
    }
}

const GVariantType *
hvk_prop_type_to_variant_type (HvkPropType type)
{
  switch (type)
    {
    case HVK_PROP_STRING:  return HVK_VALUE_TYPE_STRING;
    case HVK_PROP_BOOLEAN: return HVK_VALUE_TYPE_BOOLEAN;
    case HVK_PROP_UINT:    return HVK_VALUE_TYPE_UINT;
    case HVK_PROP_INT:     return HVK_VALUE_TYPE_INT;
    case HVK_PROP_STRV:    return HVK_VALUE_TYPE_STRV;
    default:               return NULL;
    }
}

/* Boolean spellings accepted in files and device strings. */
static const struct {
  const char *text;
  gboolean    value;
} boolean_names[] = {
  { "true", TRUE }, { "false", FALSE },
  { "on", TRUE }, { "off", FALSE },
  { "yes", TRUE }, { "no", FALSE },
  { "1", TRUE }, { "0", FALSE },
};

gboolean
hvk_parse_boolean (const char *text,
                   gboolean   *out)
{
  for (gsize i = 0; i < G_N_ELEMENTS (boolean_names); i++)
    if (g_ascii_strcasecmp (text, boolean_names[i].text) == 0)
      {
        *out = boolean_names[i].value;
        return TRUE;
      }
  return FALSE;
}

static gboolean
check_trailing_escape (GKeyFile    *key_file,
                       const char  *group,
                       const char  *key,
                       GError     **error)
{
  g_autofree char *raw = g_key_file_get_value (key_file, group, key, NULL);
  gsize n = 0;

  for (gsize len = raw ? strlen (raw) : 0; len > 0 && raw[len - 1] == '\\'; len--)
    n++;
  if (n % 2 == 1)
    {
      g_set_error_literal (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                           "Key file contains escape character at end of line");
      return FALSE;
    }
  return TRUE;
}

char *
hvk_key_file_get_string (GKeyFile    *key_file,
                         const char  *group,
                         const char  *key,
                         GError     **error)
{
  if (!check_trailing_escape (key_file, group, key, error))
    return NULL;
  return g_key_file_get_string (key_file, group, key, error);
}

GStrv
hvk_key_file_get_string_list (GKeyFile    *key_file,
                              const char  *group,
                              const char  *key,
                              GError     **error)
{
  if (!check_trailing_escape (key_file, group, key, error))
    return NULL;
  return g_key_file_get_string_list (key_file, group, key, NULL, error);
}

void
hvk_key_file_set_error (GError    **error,
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

static GVariant *
parse_key_file_list (const char *text)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) items = NULL;

  /* Let GKeyFile apply its own list syntax (`;`, `\;`, `\s` …) so that
   * set_from_string() and files agree. */
  g_key_file_set_value (kf, "g", "k", text);
  items = hvk_key_file_get_string_list (kf, "g", "k", &error);
  if (error != NULL)
    return NULL;
  if (items == NULL)
    return g_variant_new_strv (NULL, 0);
  return g_variant_new_strv ((const char * const *) items, -1);
}

static GVariant *
parse_device_list (const char *text)
{
  g_auto(GStrv) items = NULL;

  if (*text == '\0')
    return g_variant_new_strv (NULL, 0);
  items = g_strsplit (text, ":", -1);
  return g_variant_new_strv ((const char * const *) items, -1);
}

GVariant *
hvk_value_parse (const GVariantType  *type,
                 const char          *text,
                 HvkListSyntax        syntax,
                 char               **problem)
{
  g_autofree char *stripped = NULL;
  const char *expected = NULL;

  g_return_val_if_fail (type != NULL, NULL);
  g_return_val_if_fail (text != NULL, NULL);

  /* GVariant strings must be UTF-8; device strings are not checked before. */
  if (!g_utf8_validate (text, -1, NULL))
    {
      if (problem != NULL)
        *problem = g_strdup ("invalid value (not valid UTF-8)");
      return NULL;
    }

  if (g_variant_type_equal (type, HVK_VALUE_TYPE_STRING))
    return g_variant_new_string (text);
  if (g_variant_type_equal (type, HVK_VALUE_TYPE_STRV))
    {
      GVariant *list;

      if (syntax == HVK_LIST_SYNTAX_DEVICE)
        return parse_device_list (text);
      list = parse_key_file_list (text);
      if (list == NULL && problem != NULL)
        *problem = g_strdup_printf ("invalid value '%s' (expected a ;-separated list)", text);
      return list;
    }

  /* Scalars: surrounding blanks are not part of the value. */
  stripped = g_strstrip (g_strdup (text));

  if (g_variant_type_equal (type, HVK_VALUE_TYPE_BOOLEAN))
    {
      gboolean b;

      if (hvk_parse_boolean (stripped, &b))
        return g_variant_new_boolean (b);
      expected = "expected true or false";
    }
  else if (g_variant_type_equal (type, HVK_VALUE_TYPE_UINT))
    {
      guint64 u;

      if (g_ascii_string_to_unsigned (stripped, 10, 0, G_MAXUINT64, &u, NULL))
        return g_variant_new_uint64 (u);
      expected = "expected an unsigned integer";
    }
  else if (g_variant_type_equal (type, HVK_VALUE_TYPE_INT))
    {
      gint64 i;

      if (g_ascii_string_to_signed (stripped, 10, G_MININT64, G_MAXINT64, &i, NULL))
        return g_variant_new_int64 (i);
      expected = "expected an integer";
    }
  else if (g_variant_type_equal (type, HVK_VALUE_TYPE_DOUBLE))
    {
      char *end = NULL;
      double d;

      /* decimal only: g_ascii_strtod() would also take hex and "nan" */
      errno = 0;
      d = g_ascii_strtod (stripped, &end);
      if (*stripped != '\0' && stripped[strspn (stripped, "0123456789+-.eE")] == '\0' &&
          end != NULL && *end == '\0' && errno == 0 && isfinite (d))
        return g_variant_new_double (d);
      expected = "expected a number";
    }
  else
    g_return_val_if_reached (NULL);

  if (problem != NULL)
    *problem = g_strdup_printf ("invalid value '%s' (%s)", text, expected);
  return NULL;
}

char *
hvk_value_to_string (GVariant      *value,
                     HvkListSyntax  syntax)
{
  g_return_val_if_fail (value != NULL, NULL);

  if (g_variant_is_of_type (value, HVK_VALUE_TYPE_STRING))
    return g_variant_dup_string (value, NULL);
  if (g_variant_is_of_type (value, HVK_VALUE_TYPE_BOOLEAN))
    return g_strdup (g_variant_get_boolean (value) ? "true" : "false");
  if (g_variant_is_of_type (value, HVK_VALUE_TYPE_UINT))
    return g_strdup_printf ("%" G_GUINT64_FORMAT, g_variant_get_uint64 (value));
  if (g_variant_is_of_type (value, HVK_VALUE_TYPE_INT))
    return g_strdup_printf ("%" G_GINT64_FORMAT, g_variant_get_int64 (value));
  if (g_variant_is_of_type (value, HVK_VALUE_TYPE_DOUBLE))
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];

      return g_strdup (g_ascii_dtostr (buf, sizeof buf, g_variant_get_double (value)));
    }
  if (g_variant_is_of_type (value, HVK_VALUE_TYPE_STRV))
    {
      g_autofree const char **items = g_variant_get_strv (value, NULL);

      if (syntax == HVK_LIST_SYNTAX_DEVICE)
        return g_strjoinv (":", (char **) items);
      else
        {
          g_autoptr(GKeyFile) kf = g_key_file_new ();

          g_key_file_set_string_list (kf, "g", "k", items, g_strv_length ((char **) items));
          return g_key_file_get_value (kf, "g", "k", NULL);
        }
    }
  g_return_val_if_reached (NULL);
}

/* ---- the store ---- */

struct _HvkValues {
  const HvkValuesOwner *funcs;
  gpointer              owner;
  GMutex                lock;    /* values, and the defaults the owner caches */
  GHashTable           *values;  /* name → HvkValue, explicitly set */
};

HvkValues *
hvk_values_new (const HvkValuesOwner *funcs,
                gpointer              owner)
{
  HvkValues *self = g_new0 (HvkValues, 1);

  self->funcs = funcs;
  self->owner = owner;
  g_mutex_init (&self->lock);
  self->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) hvk_value_free);
  return self;
}

void
hvk_values_free (HvkValues *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->values);
  g_mutex_clear (&self->lock);
  g_free (self);
}

void
hvk_values_lock (HvkValues *self)
{
  g_mutex_lock (&self->lock);
}

void
hvk_values_unlock (HvkValues *self)
{
  g_mutex_unlock (&self->lock);
}

gboolean
hvk_values_has (HvkValues  *self,
                const char *name)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return g_hash_table_contains (self->values, name);
}

HvkValue *
hvk_values_peek (HvkValues  *self,
                 const char *name)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  return g_hash_table_lookup (self->values, name);
}

GPtrArray *
hvk_values_dup_names (HvkValues *self)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  GPtrArray *names = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer name;

  g_hash_table_iter_init (&iter, self->values);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    g_ptr_array_add (names, name);
  return names;
}

/* The spec of @name checked against @type (%NULL: any). */
static gboolean
checked_spec (HvkValues          *self,
              const char         *name,
              const GVariantType *type,
              const char         *func,
              HvkValueSpec       *spec)
{
  if (!self->funcs->describe (self->owner, name, spec))
    {
      self->funcs->warn_unknown (self->owner, func, name);
      return FALSE;
    }
  if (type != NULL && !g_variant_type_equal (spec->type, type))
    {
      self->funcs->warn_mistyped (self->owner, func, name);
      return FALSE;
    }
  return TRUE;
}

gboolean
hvk_values_check (HvkValues          *self,
                  const char         *name,
                  const GVariantType *type,
                  const char         *func)
{
  HvkValueSpec spec;

  return checked_spec (self, name, type, func, &spec);
}

HvkValue *
hvk_values_get (HvkValues          *self,
                const char         *name,
                const GVariantType *type,
                const char         *func)
{
  g_autoptr(GMutexLocker) locker = NULL;
  HvkValueSpec spec;
  HvkValue *value;

  if (!checked_spec (self, name, type, func, &spec))
    return NULL;
  locker = g_mutex_locker_new (&self->lock);
  value = g_hash_table_lookup (self->values, name);
  return value ? value : self->funcs->get_default (self->owner, &spec);
}

void
hvk_values_set (HvkValues          *self,
                const char         *name,
                const GVariantType *type,
                GVariant           *variant,
                const char         *func)
{
  g_autoptr(GVariant) value = variant ? g_variant_ref_sink (variant) : NULL;
  HvkValueSpec spec;

  if (checked_spec (self, name, type, func, &spec))
    hvk_values_store (self, &spec, value);
}

void
hvk_values_insert (HvkValues  *self,
                   const char *name,
                   GVariant   *variant)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  if (variant == NULL)
    g_hash_table_remove (self->values, name);
  else
    g_hash_table_insert (self->values, g_strdup (name), hvk_value_new (variant));
}

void
hvk_values_store (HvkValues          *self,
                  const HvkValueSpec *spec,
                  GVariant           *variant)
{
  g_autoptr(GVariant) value = variant ? g_variant_ref_sink (variant) : NULL;

  /* Paths are made absolute where they are given, before anything checks
   * them: the VMM runs with another current directory. */
  if (value != NULL && spec->is_path)
    {
      GVariant *absolute = hvk_value_make_paths_absolute (value);

      g_variant_unref (value);
      value = absolute;
    }
  hvk_values_insert (self, spec->name, value);
  if (self->funcs->changed != NULL)
    self->funcs->changed (self->owner, spec->name, value);
}

gboolean
hvk_values_set_from_text (HvkValues          *self,
                          const HvkValueSpec *spec,
                          const char         *text,
                          HvkListSyntax       syntax,
                          char              **problem)
{
  g_autoptr(GVariant) variant = hvk_value_parse (spec->type, text, syntax, problem);

  if (variant == NULL)
    return FALSE;
  g_variant_ref_sink (variant);
  if (self->funcs->check != NULL && !self->funcs->check (self->owner, spec, variant, problem))
    return FALSE;
  hvk_values_store (self, spec, variant);
  return TRUE;
}

const char *
hvk_values_get_string (HvkValues  *self,
                       const char *name,
                       const char *func)
{
  HvkValue *value = hvk_values_get (self, name, HVK_VALUE_TYPE_STRING, func);

  return value ? g_variant_get_string (value->variant, NULL) : NULL;
}

gboolean
hvk_values_get_boolean (HvkValues  *self,
                        const char *name,
                        const char *func)
{
  HvkValue *value = hvk_values_get (self, name, HVK_VALUE_TYPE_BOOLEAN, func);

  return value ? g_variant_get_boolean (value->variant) : FALSE;
}

guint64
hvk_values_get_uint (HvkValues  *self,
                     const char *name,
                     const char *func)
{
  HvkValue *value = hvk_values_get (self, name, HVK_VALUE_TYPE_UINT, func);

  return value ? g_variant_get_uint64 (value->variant) : 0;
}

gint64
hvk_values_get_int (HvkValues  *self,
                    const char *name,
                    const char *func)
{
  HvkValue *value = hvk_values_get (self, name, HVK_VALUE_TYPE_INT, func);

  return value ? g_variant_get_int64 (value->variant) : 0;
}

double
hvk_values_get_double (HvkValues  *self,
                       const char *name,
                       const char *func)
{
  HvkValue *value = hvk_values_get (self, name, HVK_VALUE_TYPE_DOUBLE, func);

  return value ? g_variant_get_double (value->variant) : 0.0;
}

const char * const *
hvk_values_get_strv (HvkValues  *self,
                     const char *name,
                     const char *func)
{
  HvkValue *value = hvk_values_get (self, name, HVK_VALUE_TYPE_STRV, func);

  return value ? (const char * const *) value->strv : NULL;
}
