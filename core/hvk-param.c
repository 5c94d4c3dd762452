/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-param-private.h"

#include <string.h>

/**
 * SECTION:hvk-param
 * @short_description: kernel and hypervisor parameters
 *
 * Parameter lists (#GPtrArray of #HvkParam) and the helpers of Kata's
 * `virtcontainers/hypervisor.go`: SerializeParams, DeserializeParams,
 * KernelParamFields, CheckCmdline, CPUFlags, RunningOnVMM,
 * GetKernelRootParams and ParseKernelVerityParams.  The behaviour, quirks
 * included, follows Kata so that the same inputs give the same kernel
 * command line.
 */

/* ------------------------------------------------------------------------ */
/* Go string helpers                                                        */

/* Go's unicode.IsSpace: the Latin-1 white space set, then the Unicode
 * White_Space property, which above Latin-1 is exactly Zs/Zl/Zp. */
static gboolean
go_is_space (gunichar c)
{
  switch (c)
    {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xA0:
      return TRUE;
    default:
      return c > 0xFF && g_unichar_isspace (c);
    }
}

/* Go's strings.TrimSpace on @len bytes of @s.  An invalid UTF-8 sequence is
 * not white space (Go decodes it as U+FFFD), so trimming stops there. */
static char *
go_trim_space (const char *s,
               gsize       len)
{
  const char *start = s;
  const char *end = s + len;

  while (start < end)
    {
      gunichar c = g_utf8_get_char_validated (start, end - start);

      if (c == (gunichar) -1 || c == (gunichar) -2 || !go_is_space (c))
        break;
      start = g_utf8_next_char (start);
    }

  while (end > start)
    {
      const char *prev = g_utf8_find_prev_char (start, end);
      gunichar c;

      if (prev == NULL)
        prev = start;
      c = g_utf8_get_char_validated (prev, end - prev);
      if (c == (gunichar) -1 || c == (gunichar) -2 ||
          g_utf8_next_char (prev) != end || !go_is_space (c))
        break;
      end = prev;
    }

  return g_strndup (start, end - start);
}

/* Go's "%q" for the strings we put in messages. */
static char *
go_quote (const char *s)
{
  GString *out = g_string_new ("\"");
  const char *p = s;
  const char *end = s + strlen (s);

  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (out, "\\x%02x", (guchar) *p);
          p++;
          continue;
        }

      switch (c)
        {
        case '"':  g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\a': g_string_append (out, "\\a"); break;
        case '\b': g_string_append (out, "\\b"); break;
        case '\f': g_string_append (out, "\\f"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\v': g_string_append (out, "\\v"); break;
        default:
          if (c < 0x20 || c == 0x7f)
            g_string_append_printf (out, "\\x%02x", c);
          else if (c < 0x80 || g_unichar_isprint (c))
            g_string_append_len (out, p, g_utf8_next_char (p) - p);
          else if (c < 0x10000)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_printf (out, "\\U%08x", c);
          break;
        }
      p = g_utf8_next_char (p);
    }

  g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}

/* One rune of Go's strings.EqualFold: equal under simple case folding. */
static gboolean
rune_equal_fold (gunichar a,
                 gunichar b)
{
  if (a == b)
    return TRUE;
  if (a < 0x80 && b < 0x80)
    return g_ascii_tolower (a) == g_ascii_tolower (b);
  return g_unichar_tolower (a) == g_unichar_tolower (b) ||
         g_unichar_toupper (a) == g_unichar_toupper (b);
}

/* Go's strings.EqualFold. */
static gboolean
go_equal_fold (const char *a,
               const char *b)
{
  if (!g_utf8_validate (a, -1, NULL) || !g_utf8_validate (b, -1, NULL))
    return g_ascii_strcasecmp (a, b) == 0;

  while (*a != '\0' && *b != '\0')
    {
      if (!rune_equal_fold (g_utf8_get_char (a), g_utf8_get_char (b)))
        return FALSE;
      a = g_utf8_next_char (a);
      b = g_utf8_next_char (b);
    }

  return *a == '\0' && *b == '\0';
}

/* Reads @path; a missing file is HVK_ERROR_NOT_FOUND, any other failure
 * HVK_ERROR_FAILED, both naming the path. */
char *
hvk_param_read_file (const char  *path,
                     const char  *what,
                     GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, &local_error))
    {
      g_set_error (error, HVK_ERROR,
                   g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                     ? HVK_ERROR_NOT_FOUND : HVK_ERROR_FAILED,
                   "Cannot read %s “%s”: %s", what, path, local_error->message);
      return NULL;
    }

  return g_steal_pointer (&contents);
}

/* Splits @contents into lines as Go's bufio.ScanLines does: on '\n', with
 * one trailing '\r' dropped from each line. */
GStrv
hvk_param_split_lines (const char *contents)
{
  g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      gsize len = strlen (lines[i]);

      if (len > 0 && lines[i][len - 1] == '\r')
        lines[i][len - 1] = '\0';
    }

  return g_steal_pointer (&lines);
}

/* ------------------------------------------------------------------------ */
/* HvkParam                                                                 */

/**
 * hvk_param_new:
 * @key: (nullable): the parameter name; %NULL means empty
 * @value: (nullable): the parameter value; %NULL means empty
 *
 * Creates a parameter.  Neither field of the result is %NULL.
 *
 * Returns: (transfer full): a new #HvkParam, free with hvk_param_free()
 */
HvkParam *
hvk_param_new (const char *key,
               const char *value)
{
  HvkParam *param = g_new0 (HvkParam, 1);

  param->key = g_strdup (key != NULL ? key : "");
  param->value = g_strdup (value != NULL ? value : "");
  return param;
}

/**
 * hvk_param_copy:
 * @param: an #HvkParam
 *
 * Copies @param; the boxed copy function of #HvkParam.
 *
 * Returns: (transfer full): a deep copy of @param
 */
HvkParam *
hvk_param_copy (const HvkParam *param)
{
  g_return_val_if_fail (param != NULL, NULL);

  return hvk_param_new (param->key, param->value);
}

/**
 * hvk_param_free:
 * @param: (nullable) (transfer full): an #HvkParam
 *
 * Frees @param and its strings; the boxed free function of #HvkParam.
 */
void
hvk_param_free (HvkParam *param)
{
  if (param == NULL)
    return;

  g_free (param->key);
  g_free (param->value);
  g_free (param);
}

/**
 * hvk_param_get_type:
 *
 * The boxed #GType of #HvkParam, copied with hvk_param_copy() and freed
 * with hvk_param_free().
 *
 * Returns: the #GType
 */
G_DEFINE_BOXED_TYPE (HvkParam, hvk_param, hvk_param_copy, hvk_param_free)

/* ------------------------------------------------------------------------ */
/* Parameter lists                                                          */

/**
 * hvk_params_new:
 *
 * Creates an empty parameter list.
 *
 * Returns: (transfer container) (element-type HvkParam): a #GPtrArray
 *   whose free function is hvk_param_free()
 */
GPtrArray *
hvk_params_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) hvk_param_free);
}

/**
 * hvk_params_append:
 * @params: (element-type HvkParam): a parameter list
 * @key: (nullable): the name
 * @value: (nullable): the value
 *
 * Appends `{key, value}` to @params, as Kata's `appendParam`.
 */
void
hvk_params_append (GPtrArray  *params,
                   const char *key,
                   const char *value)
{
  g_return_if_fail (params != NULL);

  g_ptr_array_add (params, hvk_param_new (key, value));
}

/**
 * hvk_params_extend:
 * @params: (element-type HvkParam): a parameter list
 * @other: (nullable) (element-type HvkParam): parameters to append
 *
 * Appends a copy of every parameter of @other to @params, in order.
 */
void
hvk_params_extend (GPtrArray *params,
                   GPtrArray *other)
{
  g_return_if_fail (params != NULL);

  if (other == NULL)
    return;

  /* Copy the count first: @other may be @params itself. */
  for (guint i = 0, n = other->len; i < n; i++)
    g_ptr_array_add (params, hvk_param_copy (g_ptr_array_index (other, i)));
}

/**
 * hvk_params_serialize:
 * @params: (nullable) (element-type HvkParam): a parameter list
 * @delim: (nullable): the delimiter between key and value
 *
 * Turns @params into strings, as Kata's `SerializeParams`: a parameter
 * with empty key and value is skipped; an empty key gives the value alone;
 * an empty value gives the key alone; an empty (or %NULL) @delim gives key
 * and value as two separate strings; otherwise `key` @delim `value`.
 *
 * Returns: (transfer full): a %NULL-terminated array, empty (only the
 *   %NULL) where Kata returns nil
 */
GStrv
hvk_params_serialize (GPtrArray  *params,
                      const char *delim)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  if (delim == NULL)
    delim = "";

  for (guint i = 0; params != NULL && i < params->len; i++)
    {
      const HvkParam *p = g_ptr_array_index (params, i);

      if (*p->key == '\0' && *p->value == '\0')
        continue;
      else if (*p->key == '\0')
        g_strv_builder_add (builder, p->value);
      else if (*p->value == '\0')
        g_strv_builder_add (builder, p->key);
      else if (*delim == '\0')
        {
          g_strv_builder_add (builder, p->key);
          g_strv_builder_add (builder, p->value);
        }
      else
        {
          g_autofree char *joined = g_strconcat (p->key, delim, p->value, NULL);

          g_strv_builder_add (builder, joined);
        }
    }

  return g_strv_builder_end (builder);
}

/**
 * hvk_params_to_string:
 * @params: (nullable) (element-type HvkParam): a parameter list
 *
 * The kernel command line form of @params: hvk_params_serialize() with `=`,
 * joined by single spaces.
 *
 * Returns: (transfer full): the string, empty for no parameters
 */
char *
hvk_params_to_string (GPtrArray *params)
{
  g_auto(GStrv) strings = hvk_params_serialize (params, "=");

  return g_strjoinv (" ", strings);
}

/**
 * hvk_params_deserialize:
 * @strings: (nullable) (array zero-terminated=1): `key=value` strings
 *
 * Parses strings into parameters, as Kata's `DeserializeParams`: empty
 * strings are skipped, each string is split at its first `=`, a string
 * without `=` is a key with an empty value.
 *
 * Returns: (transfer container) (element-type HvkParam): a new list,
 *   empty where Kata returns nil
 */
GPtrArray *
hvk_params_deserialize (const char * const *strings)
{
  g_autoptr(GPtrArray) params = hvk_params_new ();

  for (gsize i = 0; strings != NULL && strings[i] != NULL; i++)
    {
      const char *s = strings[i];
      const char *eq;

      if (*s == '\0')
        continue;

      eq = strchr (s, '=');
      if (eq != NULL)
        {
          g_autofree char *key = g_strndup (s, eq - s);

          hvk_params_append (params, key, eq + 1);
        }
      else
        hvk_params_append (params, s, "");
    }

  return g_steal_pointer (&params);
}

/**
 * hvk_kernel_param_fields:
 * @cmdline: (nullable): a kernel command line
 *
 * Splits a kernel command line as Kata's `KernelParamFields`: only ASCII
 * space separates fields, and not inside double quotes, which are kept; each
 * field is trimmed of white space and empty fields are dropped.  An
 * unterminated quote runs to the end of the line.  Tabs do not separate.
 *
 * Returns: (transfer full): a %NULL-terminated array of fields
 */
GStrv
hvk_kernel_param_fields (const char *cmdline)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  gboolean in_quote = FALSE;
  const char *start;
  const char *p;

  if (cmdline == NULL)
    return g_strv_builder_end (builder);

  /* Byte-wise is rune-wise here: '"' and ' ' never occur inside a UTF-8
   * multi-byte sequence. */
  for (start = p = cmdline; *p != '\0'; p++)
    {
      if (*p == '"')
        in_quote = !in_quote;
      else if (*p == ' ' && !in_quote)
        {
          g_autofree char *field = go_trim_space (start, p - start);

          if (*field != '\0')
            g_strv_builder_add (builder, field);
          start = p + 1;
        }
    }

  {
    g_autofree char *field = go_trim_space (start, p - start);

    if (*field != '\0')
      g_strv_builder_add (builder, field);
  }

  return g_strv_builder_end (builder);
}

/**
 * hvk_kernel_params_parse:
 * @cmdline: (nullable): a kernel command line, e.g. a config's
 *   `kernel_params`
 *
 * hvk_params_deserialize() of hvk_kernel_param_fields(), as Kata parses a
 * configuration's `kernel_params`.
 *
 * Returns: (transfer container) (element-type HvkParam): the parameters
 */
GPtrArray *
hvk_kernel_params_parse (const char *cmdline)
{
  g_auto(GStrv) fields = hvk_kernel_param_fields (cmdline);

  return hvk_params_deserialize ((const char * const *) fields);
}

/* CheckCmdline's field test: with no values the field must equal the
 * parameter ignoring case; with values the key compares case-sensitively and
 * the value case-insensitively (Kata's behaviour, kept as is). */
static gboolean
cmdline_field_matches (const char         *field,
                       const char         *search_param,
                       const char * const *search_values)
{
  const char *eq;
  g_autofree char *key = NULL;

  if (search_values == NULL || search_values[0] == NULL)
    return go_equal_fold (field, search_param);

  eq = strchr (field, '=');
  if (eq == NULL)
    return FALSE;

  key = g_strndup (field, eq - field);
  if (strcmp (key, search_param) != 0)
    return FALSE;

  for (gsize i = 0; search_values[i] != NULL; i++)
    if (go_equal_fold (search_values[i], eq + 1))
      return TRUE;

  return FALSE;
}

/**
 * hvk_check_cmdline:
 * @cmdline_path: a file holding a kernel command line, e.g. `/proc/cmdline`
 * @search_param: the option or parameter name to look for
 * @search_values: (nullable) (array zero-terminated=1): permitted values
 * @found: (out): whether it was found
 * @error: return location for a #GError
 *
 * Looks for an option or parameter in a kernel command line file, as
 * Kata's `CheckCmdline`.  Every line is split with
 * hvk_kernel_param_fields().  With no @search_values, a field must equal
 * @search_param ignoring case; otherwise it must be `search_param=VALUE`,
 * the name compared exactly and VALUE equal to one of @search_values
 * ignoring case.
 *
 * Returns: %TRUE on success, %FALSE if the file cannot be read
 *   (%HVK_ERROR_NOT_FOUND when it does not exist)
 */
gboolean
hvk_check_cmdline (const char          *cmdline_path,
                   const char          *search_param,
                   const char * const  *search_values,
                   gboolean            *found,
                   GError             **error)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  g_return_val_if_fail (cmdline_path != NULL, FALSE);
  g_return_val_if_fail (search_param != NULL, FALSE);
  g_return_val_if_fail (found != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *found = FALSE;

  contents = hvk_param_read_file (cmdline_path, "kernel command line", error);
  if (contents == NULL)
    return FALSE;

  lines = hvk_param_split_lines (contents);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = hvk_kernel_param_fields (lines[i]);

      for (guint j = 0; fields[j] != NULL; j++)
        {
          if (cmdline_field_matches (fields[j], search_param, search_values))
            {
              *found = TRUE;
              return TRUE;
            }
        }
    }

  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* dm-verity and root parameters                                            */

/**
 * hvk_verity_params_free:
 * @params: (nullable) (transfer full): parsed verity parameters
 *
 * Frees @params.
 */
void
hvk_verity_params_free (HvkVerityParams *params)
{
  if (params == NULL)
    return;

  g_free (params->root_hash);
  g_free (params->salt);
  g_free (params);
}

/* Go's strconv.ParseUint (s, 10, 64): ASCII digits only, no sign. */
static gboolean
parse_verity_uint (GHashTable  *values,
                   const char  *name,
                   guint64     *out,
                   GError     **error)
{
  const char *value = g_hash_table_lookup (values, name);
  g_autofree char *quoted = NULL;
  guint64 result = 0;

  if (value == NULL || *value == '\0')
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "missing kernel_verity_params %s", name);
      return FALSE;
    }

  quoted = go_quote (value);
  for (const char *p = value; *p != '\0'; p++)
    {
      guint digit;

      if (!g_ascii_isdigit (*p))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "invalid kernel_verity_params %s %s: not a number",
                       name, quoted);
          return FALSE;
        }

      digit = *p - '0';
      if (result > (G_MAXUINT64 - digit) / 10)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "invalid kernel_verity_params %s %s: value out of range",
                       name, quoted);
          return FALSE;
        }
      result = result * 10 + digit;
    }

  *out = result;
  return TRUE;
}

#define VERITY_BLOCK_SIZE_BYTES 512

/**
 * hvk_verity_params_parse:
 * @text: (nullable): a `kernel_verity_params` value:
 *   `root_hash=H,salt=S,data_blocks=N,data_block_size=B,hash_block_size=B`
 * @out_params: (out) (transfer full) (optional) (nullable): the parsed
 *   parameters, %NULL when @text is empty
 * @error: return location for a #GError
 *
 * Parses dm-verity parameters as Kata's `ParseKernelVerityParams`.  An
 * empty or blank @text means no verity (success, %NULL).  Fields are
 * separated by `,`, trimmed, empty ones skipped; a later duplicate wins.
 * Checked in order: `root_hash` present; `data_blocks`, `data_block_size`
 * and `hash_block_size` present and decimal; `salt` present; the three
 * numbers non-zero; both block sizes multiples of 512.
 *
 * Returns: %TRUE on success, %FALSE with %HVK_ERROR_INVALID_ARGUMENT and
 *   Kata's message (`missing kernel_verity_params salt`, …)
 */
gboolean
hvk_verity_params_parse (const char       *text,
                         HvkVerityParams **out_params,
                         GError          **error)
{
  g_autoptr(GHashTable) values = NULL;
  g_autoptr(HvkVerityParams) params = NULL;
  g_autofree char *trimmed = NULL;
  g_auto(GStrv) fields = NULL;
  const char *value;
  static const struct {
    const char *name;
    gsize offset;
  } numbers[] = {
    { "data_blocks", G_STRUCT_OFFSET (HvkVerityParams, data_blocks) },
    { "data_block_size", G_STRUCT_OFFSET (HvkVerityParams, data_block_size) },
    { "hash_block_size", G_STRUCT_OFFSET (HvkVerityParams, hash_block_size) },
  };

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (out_params != NULL)
    *out_params = NULL;

  if (text == NULL)
    return TRUE;

  trimmed = go_trim_space (text, strlen (text));
  if (*trimmed == '\0')
    return TRUE;

  values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  fields = g_strsplit (text, ",", -1);
  for (guint i = 0; fields[i] != NULL; i++)
    {
      g_autofree char *field = go_trim_space (fields[i], strlen (fields[i]));
      const char *eq;

      if (*field == '\0')
        continue;

      eq = strchr (field, '=');
      if (eq == NULL)
        {
          g_autofree char *quoted = go_quote (field);

          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "invalid kernel_verity_params entry: %s", quoted);
          return FALSE;
        }

      g_hash_table_replace (values, g_strndup (field, eq - field),
                            g_strdup (eq + 1));
    }

  params = g_new0 (HvkVerityParams, 1);

  value = g_hash_table_lookup (values, "root_hash");
  if (value == NULL || *value == '\0')
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "missing kernel_verity_params root_hash");
      return FALSE;
    }
  params->root_hash = g_strdup (value);

  for (gsize i = 0; i < G_N_ELEMENTS (numbers); i++)
    {
      guint64 *field = G_STRUCT_MEMBER_P (params, numbers[i].offset);

      if (!parse_verity_uint (values, numbers[i].name, field, error))
        return FALSE;
    }

  value = g_hash_table_lookup (values, "salt");
  if (value == NULL || *value == '\0')
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "missing kernel_verity_params salt");
      return FALSE;
    }
  params->salt = g_strdup (value);

  for (gsize i = 0; i < G_N_ELEMENTS (numbers); i++)
    {
      if (G_STRUCT_MEMBER (guint64, params, numbers[i].offset) == 0)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "invalid kernel_verity_params %s: must be non-zero",
                       numbers[i].name);
          return FALSE;
        }
    }

  /* data_blocks (the first entry) is a count, not a size. */
  for (gsize i = 1; i < G_N_ELEMENTS (numbers); i++)
    {
      if (G_STRUCT_MEMBER (guint64, params, numbers[i].offset) %
          VERITY_BLOCK_SIZE_BYTES != 0)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "invalid kernel_verity_params %s: must be multiple of %d",
                       numbers[i].name, VERITY_BLOCK_SIZE_BYTES);
          return FALSE;
        }
    }

  if (out_params != NULL)
    *out_params = g_steal_pointer (&params);
  return TRUE;
}

/* Root devices: NVDIMM unless disabled, then virtio-blk. Partition 2 holds
 * the verity hash tree. */
#define ROOT_DEVICE_NVDIMM      "/dev/pmem0p1"
#define HASH_DEVICE_NVDIMM      "/dev/pmem0p2"
#define ROOT_DEVICE_VIRTIO_BLK  "/dev/vda1"
#define HASH_DEVICE_VIRTIO_BLK  "/dev/vda2"

/* rootflags per rootfs type (Kata ≥ 3.17 for xfs).  The verity path uses
 * the non-DAX column. */
static const struct {
  const char *rootfs_type;
  const char *flags;
  const char *flags_dax;
} rootfs_flags[] = {
  { "ext4",  "data=ordered,errors=remount-ro ro", "dax,data=ordered,errors=remount-ro ro" },
  { "xfs",   "ro",                                "dax ro" },
  { "erofs", "ro",                                "dax ro" },
};

static const char *
lookup_rootflags (const char  *rootfs_type,
                  gboolean     dax,
                  GError     **error)
{
  g_autofree char *quoted = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (rootfs_flags); i++)
    if (strcmp (rootfs_flags[i].rootfs_type, rootfs_type) == 0)
      return dax ? rootfs_flags[i].flags_dax : rootfs_flags[i].flags;

  quoted = go_quote (rootfs_type);
  g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
               "unsupported rootfs type %s", quoted);
  return NULL;
}

/**
 * hvk_kernel_root_params:
 * @rootfs_type: (nullable): `ext4` (the default for %NULL or empty), `xfs`
 *   or `erofs`
 * @disable_nvdimm: boot from virtio-blk (`/dev/vda1`) rather than NVDIMM
 *   (`/dev/pmem0p1`)
 * @dax: mount the root with DAX (NVDIMM only)
 * @verity_params: (nullable): `kernel_verity_params`, see
 *   hvk_verity_params_parse(); empty for none
 * @error: return location for a #GError
 *
 * The kernel parameters that mount the guest root file system, as Kata's
 * `GetKernelRootParams`: `root`, `rootflags`, `rootfstype`, in that order.
 * With verity parameters, `dm-mod.create` comes first (its value carries
 * literal double quotes), the root is `/dev/dm-0` and @dax is ignored.
 *
 * Returns: (transfer container) (element-type HvkParam): the parameters, or
 *   %NULL with %HVK_ERROR_INVALID_ARGUMENT (`unsupported rootfs type`,
 *   `Virtio-Blk does not support DAX`, or a verity parameter error)
 */
GPtrArray *
hvk_kernel_root_params (const char  *rootfs_type,
                        gboolean     disable_nvdimm,
                        gboolean     dax,
                        const char  *verity_params,
                        GError     **error)
{
  g_autoptr(HvkVerityParams) verity = NULL;
  g_autoptr(GPtrArray) params = NULL;
  const char *rootflags;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!hvk_verity_params_parse (verity_params, &verity, error))
    return NULL;

  if (rootfs_type == NULL || *rootfs_type == '\0')
    rootfs_type = "ext4";

  params = hvk_params_new ();

  if (verity != NULL)
    {
      g_autofree char *create = NULL;

      rootflags = lookup_rootflags (rootfs_type, FALSE, error);
      if (rootflags == NULL)
        return NULL;

      create = g_strdup_printf ("\"dm-verity,,,ro,0 %" G_GUINT64_FORMAT
                                " verity 1 %s %s %" G_GUINT64_FORMAT
                                " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                                " 0 sha256 %s %s\"",
                                (verity->data_block_size / VERITY_BLOCK_SIZE_BYTES) *
                                  verity->data_blocks,
                                disable_nvdimm ? ROOT_DEVICE_VIRTIO_BLK : ROOT_DEVICE_NVDIMM,
                                disable_nvdimm ? HASH_DEVICE_VIRTIO_BLK : HASH_DEVICE_NVDIMM,
                                verity->data_block_size,
                                verity->hash_block_size,
                                verity->data_blocks,
                                verity->root_hash,
                                verity->salt);
      hvk_params_append (params, "dm-mod.create", create);
      hvk_params_append (params, "root", "/dev/dm-0");
      hvk_params_append (params, "rootflags", rootflags);
      hvk_params_append (params, "rootfstype", rootfs_type);
      return g_steal_pointer (&params);
    }

  /* Kata checks DAX before the rootfs type. */
  if (disable_nvdimm && dax)
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "Virtio-Blk does not support DAX");
      return NULL;
    }

  rootflags = lookup_rootflags (rootfs_type, dax, error);
  if (rootflags == NULL)
    return NULL;

  hvk_params_append (params, "root",
                     disable_nvdimm ? ROOT_DEVICE_VIRTIO_BLK : ROOT_DEVICE_NVDIMM);
  hvk_params_append (params, "rootflags", rootflags);
  hvk_params_append (params, "rootfstype", rootfs_type);
  return g_steal_pointer (&params);
}
