/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

/**
 * SECTION:hvk-opts
 * @short_description: comma-list option values
 *
 * An #HvkOpts is one option value that the VMM parses as a comma list
 * (`virtio-blk-pci,drive=hd0`).  Items are kept unformatted and serialised
 * once, in hvk_opts_to_string(), which is the only place that escapes
 * (after libvirt's virQEMUBuildBufferEscapeComma) and the place that
 * refuses what the VMM would misparse.
 */

typedef enum {
  OPT_PAIR,   /* key=value, value escaped */
  OPT_FLAG,   /* bare key */
  OPT_RAW,    /* a user-given comma list, verbatim */
} OptKind;

/* What a pair's value is, for hvk_opts_to_json(): QMP wants booleans
 * and integers typed, the command line prints them as on/off and decimal. */
typedef enum {
  OPT_STRING,
  OPT_BOOL,
  OPT_INT,
} OptType;

typedef struct {
  OptKind kind;
  OptType type;
  char *key;    /* the list itself for OPT_RAW */
  char *value;  /* NULL unless OPT_PAIR */
  union {
    gboolean b;
    gint64   i;
  } typed;      /* the value of an OPT_BOOL or OPT_INT pair */
} OptItem;

struct _HvkOpts {
  char *first_value;
  GPtrArray *items;
};

static void
opt_item_free (OptItem *item)
{
  g_free (item->key);
  g_free (item->value);
  g_free (item);
}

static OptItem *
opts_add_item (HvkOpts    *opts,
               OptKind     kind,
               const char *key,
               char       *value)
{
  OptItem *item = g_new0 (OptItem, 1);

  item->kind = kind;
  item->type = OPT_STRING;
  item->key = g_strdup (key);
  item->value = value;
  g_ptr_array_add (opts->items, item);
  return item;
}

/**
 * hvk_opts_new: (skip)
 * @first_value: (nullable): the leading bare value, e.g. a device driver
 *   `virtio-blk-pci`; %NULL or empty for none
 *
 * Creates an option list.
 *
 * Returns: (transfer full): a new #HvkOpts, free with hvk_opts_free()
 */
HvkOpts *
hvk_opts_new (const char *first_value)
{
  HvkOpts *opts = g_new0 (HvkOpts, 1);

  if (first_value != NULL && *first_value != '\0')
    opts->first_value = g_strdup (first_value);
  opts->items = g_ptr_array_new_with_free_func ((GDestroyNotify) opt_item_free);
  return opts;
}

/**
 * hvk_opts_free:
 * @opts: (nullable) (transfer full): an #HvkOpts
 *
 * Frees @opts.
 */
void
hvk_opts_free (HvkOpts *opts)
{
  if (opts == NULL)
    return;

  g_free (opts->first_value);
  g_ptr_array_unref (opts->items);
  g_free (opts);
}

/**
 * hvk_opts_add:
 * @opts: an #HvkOpts
 * @key: the key; must not be empty nor contain `,` or `=` (checked by
 *   hvk_opts_to_string())
 * @value: the value, any text; escaped by hvk_opts_to_string()
 *
 * Appends `key=value`.
 */
void
hvk_opts_add (HvkOpts    *opts,
              const char *key,
              const char *value)
{
  g_return_if_fail (opts != NULL);
  g_return_if_fail (key != NULL);
  g_return_if_fail (value != NULL);

  opts_add_item (opts, OPT_PAIR, key, g_strdup (value));
}

/**
 * hvk_opts_add_printf:
 * @opts: an #HvkOpts
 * @key: the key
 * @format: a printf() format for the value
 * @...: the arguments of @format
 *
 * Appends `key=value` with a formatted value (escaped like any value).
 */
void
hvk_opts_add_printf (HvkOpts    *opts,
                     const char *key,
                     const char *format,
                     ...)
{
  va_list args;
  char *value;

  g_return_if_fail (opts != NULL);
  g_return_if_fail (key != NULL);
  g_return_if_fail (format != NULL);

  va_start (args, format);
  value = g_strdup_vprintf (format, args);
  va_end (args);

  opts_add_item (opts, OPT_PAIR, key, value);
}

/**
 * hvk_opts_add_bool:
 * @opts: an #HvkOpts
 * @key: the key
 * @value: the value
 *
 * Appends `key=on` or `key=off`; a JSON boolean in hvk_opts_to_json().
 */
void
hvk_opts_add_bool (HvkOpts    *opts,
                   const char *key,
                   gboolean    value)
{
  OptItem *item;

  g_return_if_fail (opts != NULL);
  g_return_if_fail (key != NULL);

  item = opts_add_item (opts, OPT_PAIR, key, g_strdup (value ? "on" : "off"));
  item->type = OPT_BOOL;
  item->typed.b = !!value;
}

/**
 * hvk_opts_add_uint:
 * @opts: an #HvkOpts
 * @key: the key
 * @value: the value
 *
 * Appends `key=N` in decimal; a JSON integer in hvk_opts_to_json()
 * (a value above %G_MAXINT64, which a JSON integer cannot hold, stays a
 * string there).
 */
void
hvk_opts_add_uint (HvkOpts    *opts,
                   const char *key,
                   guint64     value)
{
  OptItem *item;

  g_return_if_fail (opts != NULL);
  g_return_if_fail (key != NULL);

  item = opts_add_item (opts, OPT_PAIR, key,
                        g_strdup_printf ("%" G_GUINT64_FORMAT, value));
  if (value <= G_MAXINT64)
    {
      item->type = OPT_INT;
      item->typed.i = (gint64) value;
    }
}

/**
 * hvk_opts_add_int:
 * @opts: an #HvkOpts
 * @key: the key
 * @value: the value
 *
 * Appends `key=N` in decimal (`-1`); a JSON integer in hvk_opts_to_json().
 */
void
hvk_opts_add_int (HvkOpts    *opts,
                  const char *key,
                  gint64      value)
{
  OptItem *item;

  g_return_if_fail (opts != NULL);
  g_return_if_fail (key != NULL);

  item = opts_add_item (opts, OPT_PAIR, key,
                        g_strdup_printf ("%" G_GINT64_FORMAT, value));
  item->type = OPT_INT;
  item->typed.i = value;
}

/**
 * hvk_opts_add_flag:
 * @opts: an #HvkOpts
 * @key: the flag
 *
 * Appends a bare `key` (e.g. `vhostforce`).
 */
void
hvk_opts_add_flag (HvkOpts    *opts,
                   const char *key)
{
  g_return_if_fail (opts != NULL);
  g_return_if_fail (key != NULL);

  opts_add_item (opts, OPT_FLAG, key, NULL);
}

/**
 * hvk_opts_add_raw:
 * @opts: an #HvkOpts
 * @list: (nullable): a comma list the user gave as such, e.g. the
 *   configuration's `machine_accelerators` (`accel=tcg,kernel_irqchip=on`)
 *
 * Appends @list verbatim: it is not escaped, so its commas separate
 * options.  hvk_opts_to_string() still refuses control characters in it.
 * A %NULL or empty list adds nothing.
 */
void
hvk_opts_add_raw (HvkOpts    *opts,
                  const char *list)
{
  g_return_if_fail (opts != NULL);

  if (list == NULL || *list == '\0')
    return;

  opts_add_item (opts, OPT_RAW, list, NULL);
}

/* The one place QEMU's comma escape is written: every `,` becomes `,,`.
 * hvk_escape_comma() and the option serialiser below both use it;
 * elsewhere call hvk_escape_comma(). */
static void
append_escaped (GString    *out,
                const char *value)
{
  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == ',')
        g_string_append_c (out, ',');
      g_string_append_c (out, *p);
    }
}

/**
 * hvk_escape_comma:
 * @value: a value
 *
 * Escapes @value for a QEMU comma list: every `,` becomes `,,`.
 *
 * Returns: (transfer full): the escaped value
 */
char *
hvk_escape_comma (const char *value)
{
  GString *out;

  g_return_val_if_fail (value != NULL, NULL);

  out = g_string_sized_new (strlen (value) + 8);
  append_escaped (out, value);
  return g_string_free (out, FALSE);
}

/**
 * hvk_check_no_control_chars:
 * @what: what @value is, for the message (e.g. `value of key “path”`)
 * @value: the text to check
 * @error: return location for a #GError
 *
 * Refuses control characters (bytes below 0x20 and 0x7f): they would end
 * or corrupt an argument or a monitor command.
 *
 * Returns: %TRUE if @value has none, %FALSE with
 *   %HVK_ERROR_INVALID_ARGUMENT naming @what, the character and its offset
 */
gboolean
hvk_check_no_control_chars (const char  *what,
                            const char  *value,
                            GError     **error)
{
  g_return_val_if_fail (what != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (const char *p = value; *p != '\0'; p++)
    {
      guchar c = *p;

      if (c < 0x20 || c == 0x7f)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "%s contains control character 0x%02x at offset %"
                       G_GSIZE_FORMAT, what, c, (gsize) (p - value));
          return FALSE;
        }
    }

  return TRUE;
}

/* hvk_check_no_control_chars() with "PREFIX “KEY”" as what; the text is
 * only built for the message (command lines format thousands of these). */
static gboolean
check_text (const char  *prefix,
            const char  *key,
            const char  *value,
            GError     **error)
{
  g_autofree char *what = NULL;

  if (hvk_check_no_control_chars (prefix, value, NULL))
    return TRUE;
  what = g_strdup_printf ("%s “%s”", prefix, key);
  return hvk_check_no_control_chars (what, value, error);
}

static gboolean
check_key (const OptItem  *item,
           GError        **error)
{
  if (*item->key == '\0')
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                           "Empty option key");
      return FALSE;
    }

  if (!check_text ("Option key", item->key, item->key, error))
    return FALSE;

  if (strpbrk (item->key, ",=") != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "Option key “%s” contains “,” or “=”", item->key);
      return FALSE;
    }

  return TRUE;
}

/**
 * hvk_opts_to_string:
 * @opts: an #HvkOpts
 * @error: return location for a #GError
 *
 * Formats @opts: the first value, then each item in insertion order,
 * separated by `,`.  The first value and every value are escaped with
 * hvk_escape_comma() (so `file=/x,readonly=off` stays one value); raw lists
 * are not.
 *
 * Returns: (transfer full): the option string, or %NULL with
 *   %HVK_ERROR_INVALID_ARGUMENT when a key is empty or contains `,` or `=`,
 *   or when any text contains a control character (the message names the
 *   key)
 */
char *
hvk_opts_to_string (HvkOpts  *opts,
                    GError  **error)
{
  g_autoptr(GString) out = g_string_new (NULL);

  g_return_val_if_fail (opts != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (opts->first_value != NULL)
    {
      if (!hvk_check_no_control_chars ("First option value", opts->first_value, error))
        return NULL;
      append_escaped (out, opts->first_value);
    }

  for (guint i = 0; i < opts->items->len; i++)
    {
      const OptItem *item = g_ptr_array_index (opts->items, i);

      if (out->len > 0)
        g_string_append_c (out, ',');

      switch (item->kind)
        {
        case OPT_RAW:
          if (!hvk_check_no_control_chars ("Option list", item->key, error))
            return NULL;
          g_string_append (out, item->key);
          break;

        case OPT_FLAG:
          if (!check_key (item, error))
            return NULL;
          g_string_append (out, item->key);
          break;

        case OPT_PAIR:
          if (!check_key (item, error)
              || !check_text ("Value of option", item->key, item->value, error))
            return NULL;
          g_string_append (out, item->key);
          g_string_append_c (out, '=');
          append_escaped (out, item->value);
          break;

        default:
          g_assert_not_reached ();
        }
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Sets @key (dotted: `file.filename`) in @root, creating the objects on
 * the way (`file`); a key set twice, or both as a value and as an object,
 * is refused. */
static gboolean
json_set_dotted (JsonObject  *root,
                 const char  *key,
                 JsonNode    *value,
                 GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (key, ".", -1);
  g_autoptr(JsonNode) owned = value;
  JsonObject *object = root;
  guint n = g_strv_length (parts);

  for (guint i = 0; i < n; i++)
    {
      if (*parts[i] == '\0')
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "Option key “%s” has an empty component", key);
          return FALSE;
        }
      if (i + 1 == n)
        break;
      if (!json_object_has_member (object, parts[i]))
        json_object_set_object_member (object, parts[i], json_object_new ());
      else if (!JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, parts[i])))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "Option key “%s”: “%s” is also a value", key, parts[i]);
          return FALSE;
        }
      object = json_object_get_object_member (object, parts[i]);
    }
  if (json_object_has_member (object, parts[n - 1]))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "Option key “%s” is given twice", key);
      return FALSE;
    }
  json_object_set_member (object, parts[n - 1], g_steal_pointer (&owned));
  return TRUE;
}

/**
 * hvk_opts_to_json:
 * @opts: an #HvkOpts
 * @first_key: (nullable): the member that holds the first value
 *   (`driver` for a `-device`, `type` for a `-netdev`); %NULL when @opts
 *   has none
 * @error: return location for a #GError
 *
 * The same options as a QMP argument object (`device_add`,
 * `blockdev-add`, `netdev_add`), so the command line and the monitor are
 * given the very same properties.  Values added with hvk_opts_add_bool()
 * become JSON booleans, those of hvk_opts_add_uint() and
 * hvk_opts_add_int() JSON integers, a flag `true`, any other value a
 * string (unescaped: JSON needs no comma escaping).  A dotted key
 * (`file.filename`, as `-blockdev` and `-drive` accept it) becomes a
 * nested object (`"file": {"filename": …}`).
 *
 * Returns: (transfer full): a new object, or %NULL with
 *   %HVK_ERROR_INVALID_ARGUMENT when @opts holds a raw list (it has no
 *   typed form), a first value without @first_key, a key that
 *   hvk_opts_to_string() would refuse, a key given twice or both as a
 *   value and an object, or a control character
 */
JsonObject *
hvk_opts_to_json (HvkOpts     *opts,
                  const char  *first_key,
                  GError     **error)
{
  g_autoptr(JsonObject) root = json_object_new ();

  g_return_val_if_fail (opts != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (opts->first_value != NULL)
    {
      if (first_key == NULL)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "First option value “%s” has no JSON member name", opts->first_value);
          return NULL;
        }
      if (!hvk_check_no_control_chars ("First option value", opts->first_value, error))
        return NULL;
      json_object_set_string_member (root, first_key, opts->first_value);
    }

  for (guint i = 0; i < opts->items->len; i++)
    {
      const OptItem *item = g_ptr_array_index (opts->items, i);
      JsonNode *node = NULL;

      switch (item->kind)
        {
        case OPT_RAW:
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "Option list “%s” has no JSON form", item->key);
          return NULL;

        case OPT_FLAG:
          if (!check_key (item, error))
            return NULL;
          node = json_node_init_boolean (json_node_alloc (), TRUE);
          break;

        case OPT_PAIR:
          if (!check_key (item, error)
              || !check_text ("Value of option", item->key, item->value, error))
            return NULL;
          if (item->type == OPT_BOOL)
            node = json_node_init_boolean (json_node_alloc (), item->typed.b);
          else if (item->type == OPT_INT)
            node = json_node_init_int (json_node_alloc (), item->typed.i);
          else
            node = json_node_init_string (json_node_alloc (), item->value);
          break;

        default:
          g_assert_not_reached ();
        }
      if (!json_set_dotted (root, item->key, node, error))
        return NULL;
    }

  return g_steal_pointer (&root);
}
