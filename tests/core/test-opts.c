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

  return g_test_run ();
}
