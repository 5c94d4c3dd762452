/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/*
 * Typed values shared by HvkConfig and HvkDevice.
 *
 * A value is a GVariant of one of the types below.  HvkValue wraps it with a
 * cached string vector so that getters of list values can hand out a
 * `const char * const *` that lives as long as the value.
 */

#define HVK_VALUE_TYPE_STRING  G_VARIANT_TYPE_STRING
#define HVK_VALUE_TYPE_BOOLEAN G_VARIANT_TYPE_BOOLEAN
#define HVK_VALUE_TYPE_UINT    G_VARIANT_TYPE_UINT64
#define HVK_VALUE_TYPE_INT     G_VARIANT_TYPE_INT64
#define HVK_VALUE_TYPE_DOUBLE  G_VARIANT_TYPE_DOUBLE
#define HVK_VALUE_TYPE_STRV    G_VARIANT_TYPE_STRING_ARRAY

typedef struct {
  GVariant    *variant;
  const char **strv;     /* for `as` values: shallow vector into variant */
} HvkValue;

HvkValue *hvk_value_new  (GVariant *variant);
void      hvk_value_free (HvkValue *value);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HvkValue, hvk_value_free)

/* How lists are written: key files use `;` (with GKeyFile escapes), device
 * strings use `:`. */
typedef enum {
  HVK_LIST_SYNTAX_KEY_FILE,
  HVK_LIST_SYNTAX_DEVICE,
} HvkListSyntax;

const GVariantType *hvk_config_value_type_to_variant_type (HvkConfigValueType type);
const GVariantType *hvk_prop_type_to_variant_type         (HvkPropType        type);

/* Parses @text as a value of @type.  On failure returns %NULL and sets
 * @problem to a phrase like `invalid value 'abc' (expected a number)`. */
GVariant *hvk_value_parse     (const GVariantType  *type,
                               const char          *text,
                               HvkListSyntax        syntax,
                               char               **problem);
char     *hvk_value_to_string (GVariant            *value,
                               HvkListSyntax        syntax);
gboolean  hvk_parse_boolean   (const char          *text,
                               gboolean            *out);

/* g_key_file_get_string() and _get_string_list(), except that a value
 * ending in a lone `\` fails without GLib 2.74 setting its GError twice
 * (a warning, even with @error %NULL) when the value also has a bad
 * escape before. */
char     *hvk_key_file_get_string      (GKeyFile    *key_file,
                                        const char  *group,
                                        const char  *key,
                                        GError     **error);
GStrv     hvk_key_file_get_string_list (GKeyFile    *key_file,
                                        const char  *group,
                                        const char  *key,
                                        GError     **error);

/* The string or string-list type a path type is stored as; other types
 * unchanged. */
HvkConfigValueType hvk_config_value_type_base (HvkConfigValueType type);

/* @path made absolute against the current directory: leading `./` are
 * dropped, `..` is kept (it is the kernel's to resolve, through
 * symlinks).  Absolute and empty paths are returned as they are. */
char     *hvk_path_make_absolute (const char *path);
/* @value (a string or a string list, not floating) with each relative
 * path made absolute.  Returns a new reference, never floating. */
GVariant *hvk_value_make_paths_absolute (GVariant *value);

/* The core key table (hvk-config-keys.c). */
const HvkConfigKey *hvk_config_keys_lookup_core  (const char *name);
/* Parsed default of a core key, or %NULL when it has none. */
HvkValue           *hvk_config_keys_core_default (const HvkConfigKey *key);

G_END_DECLS
