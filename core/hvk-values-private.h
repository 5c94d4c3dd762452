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

/* Errors in a key file: `FILE: [GROUP] KEY: what is wrong` (no `KEY:`
 * when @key is %NULL), %HVK_ERROR_INVALID_CONFIG. */
void      hvk_key_file_set_error       (GError    **error,
                                        const char *source,
                                        const char *group,
                                        const char *key,
                                        const char *format,
                                        ...) G_GNUC_PRINTF (5, 6);

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

/*
 * One typed value store (after GStreamer's GstStructure), behind both
 * HvkConfig (keys) and HvkDevice (properties): values explicitly set,
 * checked against what their owner declares, defaults from the owner,
 * host paths made absolute where given.  The owner describes its names
 * through HvkValuesOwner; the store never calls anything else, so config
 * and device need nothing above them (the registry).
 */
typedef struct _HvkValues HvkValues;

/* What the owner says about one name. */
typedef struct {
  const char         *name;     /* the owner's spelling, lives as long as its table */
  const GVariantType *type;
  gboolean            is_path;  /* host paths: made absolute where given */
  gconstpointer       handle;   /* the owner's own description of the name */
} HvkValueSpec;

typedef struct {
  /* Fills @spec for @name; FALSE when the owner does not know @name. */
  gboolean  (*describe)      (gpointer owner, const char *name, HvkValueSpec *spec);
  /* The default of @spec (transfer none), or NULL; called with the store
   * locked, so the owner may cache parsed defaults. */
  HvkValue *(*get_default)   (gpointer owner, const HvkValueSpec *spec);
  /* The programmer errors of a typed getter or setter @func. */
  void      (*warn_unknown)  (gpointer owner, const char *func, const char *name);
  void      (*warn_mistyped) (gpointer owner, const char *func, const char *name);
  /* Nullable: checks a parsed value; sets @problem when refused. */
  gboolean  (*check)         (gpointer owner, const HvkValueSpec *spec, GVariant *value,
                              char **problem);
  /* Nullable: @name was set (@value) or unset (%NULL); called unlocked. */
  void      (*changed)       (gpointer owner, const char *name, GVariant *value);
} HvkValuesOwner;

HvkValues *hvk_values_new    (const HvkValuesOwner *funcs,
                              gpointer              owner);
void       hvk_values_free   (HvkValues            *self);

/* The store's lock, for an owner clearing the defaults it caches. */
void       hvk_values_lock   (HvkValues            *self);
void       hvk_values_unlock (HvkValues            *self);

/* Whether @name was set explicitly (a default does not count). */
gboolean   hvk_values_has    (HvkValues            *self,
                              const char           *name);
/* The value set explicitly, or %NULL (transfer none). */
HvkValue  *hvk_values_peek   (HvkValues            *self,
                              const char           *name);
/* The names set explicitly, in no order (transfer container). */
GPtrArray *hvk_values_dup_names (HvkValues         *self);

/* The value or the default of @name, checked against @type (%NULL: any
 * type); an unknown name or another type is a programmer error reported
 * through the owner, and gives %NULL. */
HvkValue  *hvk_values_get    (HvkValues            *self,
                              const char           *name,
                              const GVariantType   *type,
                              const char           *func);
/* Only the checks of hvk_values_get(). */
gboolean   hvk_values_check  (HvkValues            *self,
                              const char           *name,
                              const GVariantType   *type,
                              const char           *func);
/* Sets @name to @variant (floating or not; %NULL unsets) after the same
 * checks. */
void       hvk_values_set    (HvkValues            *self,
                              const char           *name,
                              const GVariantType   *type,
                              GVariant             *variant,
                              const char           *func);
/* Stores @variant (floating or not; %NULL unsets) for the name @spec
 * describes, unchecked. */
void       hvk_values_store  (HvkValues            *self,
                              const HvkValueSpec   *spec,
                              GVariant             *variant);
/* Stores @variant as it is: no path made absolute, no change reported. */
void       hvk_values_insert (HvkValues            *self,
                              const char           *name,
                              GVariant             *variant);
/* Parses @text for @spec, lets the owner check it and stores it; on
 * failure sets @problem (a phrase without prefix). */
gboolean   hvk_values_set_from_text (HvkValues          *self,
                                     const HvkValueSpec *spec,
                                     const char         *text,
                                     HvkListSyntax       syntax,
                                     char              **problem);

/* Typed reads of hvk_values_get(), 0 or %NULL when there is no value. */
const char         *hvk_values_get_string  (HvkValues *self, const char *name, const char *func);
gboolean            hvk_values_get_boolean (HvkValues *self, const char *name, const char *func);
guint64             hvk_values_get_uint    (HvkValues *self, const char *name, const char *func);
gint64              hvk_values_get_int     (HvkValues *self, const char *name, const char *func);
double              hvk_values_get_double  (HvkValues *self, const char *name, const char *func);
const char * const *hvk_values_get_strv    (HvkValues *self, const char *name, const char *func);

G_END_DECLS
