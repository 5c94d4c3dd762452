/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

static char *
opts_string (HvkOpts *opts)
{
  g_autoptr(GError) error = NULL;
  char *s = hvk_opts_to_string (opts, &error);

  g_assert_no_error (error);
  g_assert_nonnull (s);
  return s;
}

static void
assert_opts (HvkOpts    *opts,
             const char *expected)
{
  g_autofree char *s = opts_string (opts);

  g_assert_cmpstr (s, ==, expected);
}

static void
test_escape_comma (void)
{
  static const struct {
    const char *in;
    const char *out;
  } cases[] = {
    { "", "" },
    { "plain", "plain" },
    { "a,b", "a,,b" },
    { ",", ",," },
    { ",,", ",,,," },
    { ",a,", ",,a,," },
    { "file=/x,readonly=off", "file=/x,,readonly=off" },
    { "caf\xc3\xa9,x", "caf\xc3\xa9,,x" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = hvk_escape_comma (cases[i].in);

      g_assert_cmpstr (got, ==, cases[i].out);
    }
}

static void
test_check_control_chars (void)
{
  static const char *good[] = { "", "plain", "a b", "tab-free,comma", "caf\xc3\xa9", "~", NULL };
  static const struct {
    const char *value;
    const char *detail;
  } bad[] = {
    { "a\nb", "0x0a at offset 1" },
    { "\x01", "0x01 at offset 0" },
    { "x\x7f", "0x7f at offset 1" },
    { "tab\there", "0x09 at offset 3" },
    { "cr\r", "0x0d at offset 2" },
    { "esc\x1b[0m", "0x1b at offset 3" },
  };

  for (gsize i = 0; good[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (hvk_check_no_control_chars ("Thing", good[i], &error));
      g_assert_no_error (error);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (hvk_check_no_control_chars ("The path", bad[i].value, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_str_has_prefix (error->message, "The path "));
      g_assert_nonnull (strstr (error->message, bad[i].detail));
    }
}

static void
test_basic (void)
{
  g_autoptr(HvkOpts) opts = hvk_opts_new ("virtio-blk-pci");

  hvk_opts_add (opts, "drive", "hd0");
  hvk_opts_add_bool (opts, "share-rw", TRUE);
  hvk_opts_add_bool (opts, "config-wce", FALSE);
  hvk_opts_add_uint (opts, "num-queues", 4);
  hvk_opts_add_uint (opts, "big", G_MAXUINT64);
  hvk_opts_add_printf (opts, "addr", "%x", 255);
  hvk_opts_add_flag (opts, "vhostforce");
  hvk_opts_add (opts, "serial", "");

  /* Insertion order; an empty value stays `key=`. */
  assert_opts (opts, "virtio-blk-pci,drive=hd0,share-rw=on,config-wce=off,num-queues=4,"
               "big=18446744073709551615,addr=ff,vhostforce,serial=");

  /* to_string does not consume: a second call gives the same. */
  assert_opts (opts, "virtio-blk-pci,drive=hd0,share-rw=on,config-wce=off,num-queues=4,"
               "big=18446744073709551615,addr=ff,vhostforce,serial=");
}

static void
test_no_first_value (void)
{
  g_autoptr(HvkOpts) none = hvk_opts_new (NULL);
  g_autoptr(HvkOpts) empty = hvk_opts_new ("");
  g_autoptr(HvkOpts) only_first = hvk_opts_new ("q35");

  assert_opts (none, "");
  hvk_opts_add (none, "id", "x");
  assert_opts (none, "id=x");

  hvk_opts_add_flag (empty, "server");
  assert_opts (empty, "server");

  assert_opts (only_first, "q35");
}

static void
test_escaping (void)
{
  g_autoptr(HvkOpts) opts = hvk_opts_new ("a,b");

  hvk_opts_add (opts, "path", "/tmp/a,b");
  /* An injection attempt stays one value. */
  hvk_opts_add (opts, "file", "/img,readonly=off");
  hvk_opts_add_printf (opts, "fmt", "%s,%s", "x", "y");
  /* Other separators QEMU's parser knows nothing about stay as they are. */
  hvk_opts_add (opts, "eq", "k=v");
  hvk_opts_add (opts, "sp", "a b");

  assert_opts (opts, "a,,b,path=/tmp/a,,b,file=/img,,readonly=off,fmt=x,,y,eq=k=v,sp=a b");
}

/* Parses a QEMU-style comma list back (`,,` is a literal comma) to show the
 * escaped output keeps each value whole. */
static GPtrArray *
split_qemu_list (const char *s)
{
  GPtrArray *items = g_ptr_array_new_with_free_func (g_free);
  GString *cur = g_string_new (NULL);

  for (const char *p = s; *p != '\0'; p++)
    {
      if (*p == ',' && p[1] == ',')
        {
          g_string_append_c (cur, ',');
          p++;
        }
      else if (*p == ',')
        {
          g_ptr_array_add (items, g_string_free (cur, FALSE));
          cur = g_string_new (NULL);
        }
      else
        g_string_append_c (cur, *p);
    }
  g_ptr_array_add (items, g_string_free (cur, FALSE));
  return items;
}

static void
test_injection_round_trip (void)
{
  static const char *values[] = {
    "/img,readonly=off", ",", ",,", "a,", ",a", "x,id=evil,", NULL
  };

  for (gsize i = 0; values[i] != NULL; i++)
    {
      g_autoptr(HvkOpts) opts = hvk_opts_new ("file");
      g_autofree char *s = NULL;
      g_autoptr(GPtrArray) items = NULL;
      g_autofree char *expected = g_strconcat ("path=", values[i], NULL);

      hvk_opts_add (opts, "path", values[i]);
      hvk_opts_add (opts, "id", "d0");
      s = opts_string (opts);
      items = split_qemu_list (s);

      g_assert_cmpuint (items->len, ==, 3);
      g_assert_cmpstr (g_ptr_array_index (items, 0), ==, "file");
      g_assert_cmpstr (g_ptr_array_index (items, 1), ==, expected);
      g_assert_cmpstr (g_ptr_array_index (items, 2), ==, "id=d0");
    }
}

static void
test_raw (void)
{
  g_autoptr(HvkOpts) machine = hvk_opts_new ("q35");
  g_autoptr(HvkOpts) chardev = hvk_opts_new ("socket");
  g_autoptr(HvkOpts) only_raw = hvk_opts_new (NULL);

  /* machine_accelerators, verbatim: its commas separate options. */
  hvk_opts_add (machine, "accel", "kvm");
  hvk_opts_add_raw (machine, "accel=tcg,kernel_irqchip=on");
  hvk_opts_add_raw (machine, "");
  hvk_opts_add_raw (machine, NULL);
  hvk_opts_add_bool (machine, "nvdimm", TRUE);
  assert_opts (machine, "q35,accel=kvm,accel=tcg,kernel_irqchip=on,nvdimm=on");

  hvk_opts_add (chardev, "id", "charconsole0");
  hvk_opts_add (chardev, "path", "/run/a,b.sock");
  hvk_opts_add_raw (chardev, "server=on,wait=off");
  assert_opts (chardev, "socket,id=charconsole0,path=/run/a,,b.sock,server=on,wait=off");

  /* Empty lists add nothing, not even a separator. */
  hvk_opts_add_raw (only_raw, "");
  assert_opts (only_raw, "");
  hvk_opts_add_raw (only_raw, "a=1,b");
  assert_opts (only_raw, "a=1,b");
}

static void
test_control_chars (void)
{
  static const char *bad[] = { "a\nb", "\x01", "x\x7f", "tab\t", NULL };

  for (gsize i = 0; bad[i] != NULL; i++)
    {
      /* In a value: the message names the key. */
      {
        g_autoptr(HvkOpts) opts = hvk_opts_new ("virtio-blk-pci");
        g_autoptr(GError) error = NULL;
        g_autofree char *s = NULL;

        hvk_opts_add (opts, "drive", "hd0");
        hvk_opts_add (opts, "serial", bad[i]);
        s = hvk_opts_to_string (opts, &error);
        g_assert_null (s);
        g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull (strstr (error->message, "“serial”"));
      }

      /* In the first value. */
      {
        g_autoptr(HvkOpts) opts = hvk_opts_new (bad[i]);
        g_autoptr(GError) error = NULL;

        g_assert_null (hvk_opts_to_string (opts, &error));
        g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull (strstr (error->message, "First option value"));
      }

      /* In a raw list: checked although not escaped. */
      {
        g_autoptr(HvkOpts) opts = hvk_opts_new ("q35");
        g_autoptr(GError) error = NULL;

        hvk_opts_add_raw (opts, bad[i]);
        g_assert_null (hvk_opts_to_string (opts, &error));
        g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
        g_assert_nonnull (strstr (error->message, "Option list"));
      }

      /* In a key or a flag. */
      {
        g_autoptr(HvkOpts) opts = hvk_opts_new (NULL);
        g_autoptr(HvkOpts) flag = hvk_opts_new (NULL);
        g_autoptr(GError) error = NULL;

        hvk_opts_add (opts, bad[i], "v");
        g_assert_null (hvk_opts_to_string (opts, &error));
        g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
        g_clear_error (&error);

        hvk_opts_add_flag (flag, bad[i]);
        g_assert_null (hvk_opts_to_string (flag, &error));
        g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      }
    }
}

static void
test_bad_keys (void)
{
  static const char *bad[] = { "", "a,b", "a=b", ",", "=", NULL };

  for (gsize i = 0; bad[i] != NULL; i++)
    {
      g_autoptr(HvkOpts) pair = hvk_opts_new ("dev");
      g_autoptr(HvkOpts) flag = hvk_opts_new ("dev");
      g_autoptr(GError) error = NULL;

      hvk_opts_add (pair, "id", "ok");
      hvk_opts_add (pair, bad[i], "v");
      g_assert_null (hvk_opts_to_string (pair, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      if (*bad[i] != '\0')
        {
          g_autofree char *quoted = g_strdup_printf ("“%s”", bad[i]);

          g_assert_nonnull (strstr (error->message, quoted));
        }
      else
        g_assert_nonnull (strstr (error->message, "Empty option key"));
      g_clear_error (&error);

      hvk_opts_add_flag (flag, bad[i]);
      g_assert_null (hvk_opts_to_string (flag, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
    }

  /* Keys may hold other punctuation QEMU uses (`drive.file`, `x-opt`). */
  {
    g_autoptr(HvkOpts) opts = hvk_opts_new (NULL);

    hvk_opts_add (opts, "drive.file", "f");
    hvk_opts_add_flag (opts, "x-opt_1");
    assert_opts (opts, "drive.file=f,x-opt_1");
  }
}

static char *
json_text (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);

  return json_to_string (node, FALSE);
}

/* One option list, two forms: the command line prints on/off and
 * decimal, QMP gets booleans and integers; dotted keys nest. */
static void
test_to_json_typed (void)
{
  g_autoptr(HvkOpts) opts = hvk_opts_new ("raw");
  g_autoptr(JsonObject) json = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;
  JsonObject *file;

  hvk_opts_add (opts, "node-name", "drive-d,1");
  hvk_opts_add_bool (opts, "read-only", FALSE);
  hvk_opts_add_bool (opts, "cache.direct", TRUE);
  hvk_opts_add_bool (opts, "cache.no-flush", FALSE);
  hvk_opts_add (opts, "file.driver", "file");
  hvk_opts_add (opts, "file.filename", "/a,b");
  hvk_opts_add (opts, "file.aio", "threads");
  hvk_opts_add_uint (opts, "lun", 3);
  hvk_opts_add_int (opts, "bootindex", -1);
  hvk_opts_add (opts, "serial", "on");
  hvk_opts_add_flag (opts, "vhostforce");

  line = hvk_opts_to_string (opts, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (line, ==, "raw,node-name=drive-d,,1,read-only=off,cache.direct=on,"
                   "cache.no-flush=off,file.driver=file,file.filename=/a,,b,file.aio=threads,"
                   "lun=3,bootindex=-1,serial=on,vhostforce");

  json = hvk_opts_to_json (opts, "driver", &error);
  g_assert_no_error (error);
  text = json_text (json);
  g_assert_cmpstr (text, ==, "{\"driver\":\"raw\",\"node-name\":\"drive-d,1\",\"read-only\":false,"
                   "\"cache\":{\"direct\":true,\"no-flush\":false},"
                   "\"file\":{\"driver\":\"file\",\"filename\":\"/a,b\",\"aio\":\"threads\"},"
                   "\"lun\":3,\"bootindex\":-1,\"serial\":\"on\",\"vhostforce\":true}");
  file = json_object_get_object_member (json, "file");
  g_assert_cmpstr (json_object_get_string_member (file, "filename"), ==, "/a,b");
  g_assert_true (json_node_get_value_type (json_object_get_member (json, "lun")) == G_TYPE_INT64);
  g_assert_true (json_node_get_value_type (json_object_get_member (json, "read-only")) == G_TYPE_BOOLEAN);
  /* A string that reads like a boolean stays a string. */
  g_assert_true (json_node_get_value_type (json_object_get_member (json, "serial")) == G_TYPE_STRING);

  /* Without a first value, no member for it. */
  {
    g_autoptr(HvkOpts) plain = hvk_opts_new (NULL);
    g_autoptr(JsonObject) plain_json = NULL;
    g_autofree char *plain_text = NULL;

    hvk_opts_add (plain, "id", "x");
    plain_json = hvk_opts_to_json (plain, NULL, &error);
    g_assert_no_error (error);
    plain_text = json_text (plain_json);
    g_assert_cmpstr (plain_text, ==, "{\"id\":\"x\"}");
  }

  /* A uint JSON cannot hold stays a string. */
  {
    g_autoptr(HvkOpts) big = hvk_opts_new (NULL);
    g_autoptr(JsonObject) big_json = NULL;

    hvk_opts_add_uint (big, "size", G_MAXUINT64);
    big_json = hvk_opts_to_json (big, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (json_object_get_string_member (big_json, "size"), ==, "18446744073709551615");
  }
}

static void
test_to_json_refused (void)
{
  struct {
    const char *what;
    const char *key1, *key2;
    gboolean raw, first;
    const char *message;
  } cases[] = {
    { "twice", "id", "id", FALSE, FALSE, "“id” is given twice" },
    { "value then object", "cache", "cache.direct", FALSE, FALSE, "“cache” is also a value" },
    { "object then value", "cache.direct", "cache", FALSE, FALSE, "“cache” is given twice" },
    { "empty component", "file..x", NULL, FALSE, FALSE, "empty component" },
    { "bad key", "a=b", NULL, FALSE, FALSE, "contains “,” or “=”" },
    { "raw list", NULL, NULL, TRUE, FALSE, "has no JSON form" },
    { "first value without a key", NULL, NULL, FALSE, TRUE, "no JSON member name" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(HvkOpts) opts = hvk_opts_new (cases[i].first ? "virtio-blk-pci" : NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonObject) json = NULL;

      g_test_message ("%s", cases[i].what);
      if (cases[i].key1 != NULL)
        hvk_opts_add (opts, cases[i].key1, "v");
      if (cases[i].key2 != NULL)
        hvk_opts_add (opts, cases[i].key2, "w");
      if (cases[i].raw)
        hvk_opts_add_raw (opts, "accel=tcg");
      json = hvk_opts_to_json (opts, NULL, &error);
      g_assert_null (json);
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, cases[i].message));
    }

  /* Control characters are refused as on the command line. */
  {
    g_autoptr(HvkOpts) opts = hvk_opts_new (NULL);
    g_autoptr(GError) error = NULL;

    hvk_opts_add (opts, "serial", "a\nb");
    g_assert_null (hvk_opts_to_json (opts, NULL, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hvk/opts/escape-comma", test_escape_comma);
  g_test_add_func ("/hvk/opts/check-control-chars", test_check_control_chars);
  g_test_add_func ("/hvk/opts/basic", test_basic);
  g_test_add_func ("/hvk/opts/no-first-value", test_no_first_value);
  g_test_add_func ("/hvk/opts/escaping", test_escaping);
  g_test_add_func ("/hvk/opts/injection-round-trip", test_injection_round_trip);
  g_test_add_func ("/hvk/opts/raw", test_raw);
  g_test_add_func ("/hvk/opts/control-chars", test_control_chars);
  g_test_add_func ("/hvk/opts/bad-keys", test_bad_keys);
  g_test_add_func ("/hvk/opts/to-json-typed", test_to_json_typed);
  g_test_add_func ("/hvk/opts/to-json-refused", test_to_json_refused);

  return g_test_run ();
}
