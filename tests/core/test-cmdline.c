/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

static void
assert_argv (HvkCmdline         *cmdline,
             const char * const *expected)
{
  const char * const *argv = hvk_cmdline_get_argv (cmdline);

  g_assert_nonnull (argv);
  g_assert_cmpstrv (argv, expected);
  g_assert_cmpuint (hvk_cmdline_get_length (cmdline), ==, g_strv_length ((GStrv) expected));
}

static void
test_new (void)
{
  g_autoptr(HvkCmdline) cmdline = hvk_cmdline_new ("/usr/bin/qemu-system-x86_64");
  const char *expected[] = { "/usr/bin/qemu-system-x86_64", NULL };
  g_autofree char *program = NULL;
  guint n_fds = 99;

  g_assert_true (HVK_IS_CMDLINE (cmdline));
  g_assert_cmpstr (hvk_cmdline_get_program (cmdline), ==, "/usr/bin/qemu-system-x86_64");
  assert_argv (cmdline, expected);
  g_assert_null (hvk_cmdline_get_fds (cmdline, &n_fds));
  g_assert_cmpuint (n_fds, ==, 0);

  g_object_get (cmdline, "program", &program, NULL);
  g_assert_cmpstr (program, ==, "/usr/bin/qemu-system-x86_64");
}

static void
test_add (void)
{
  g_autoptr(HvkCmdline) cmdline = hvk_cmdline_new ("qemu");
  g_autoptr(HvkOpts) machine = hvk_opts_new ("q35");
  g_autoptr(HvkOpts) device = hvk_opts_new ("virtio-blk-pci");
  g_autoptr(GError) error = NULL;
  const char *expected[] = {
    "qemu",
    "-nodefaults",
    "-nographic", "-no-reboot",
    "-machine", "q35,accel=tcg,kernel_irqchip=on",
    "-kernel", "/boot/vm,linuz",
    "-append", "console=hvc0 rootflags=data=ordered,errors=remount-ro ro quiet",
    "-device", "virtio-blk-pci,drive=hd,,0,serial=a,,b",
    NULL
  };

  g_assert_true (hvk_cmdline_add_arg (cmdline, "-nodefaults", &error));
  g_assert_true (hvk_cmdline_add_args (cmdline, &error, "-nographic", "-no-reboot", NULL));
  hvk_opts_add_raw (machine, "accel=tcg,kernel_irqchip=on");
  g_assert_true (hvk_cmdline_add_opts (cmdline, "-machine", machine, &error));
  /* add_option is verbatim: no escaping for -kernel and -append. */
  g_assert_true (hvk_cmdline_add_option (cmdline, "-kernel", "/boot/vm,linuz", &error));
  g_assert_true (hvk_cmdline_add_option (cmdline, "-append",
                                         "console=hvc0 rootflags=data=ordered,errors=remount-ro ro quiet",
                                         &error));
  hvk_opts_add (device, "drive", "hd,0");
  hvk_opts_add (device, "serial", "a,b");
  g_assert_true (hvk_cmdline_add_opts (cmdline, "-device", device, &error));
  g_assert_no_error (error);

  assert_argv (cmdline, expected);
  g_assert_cmpstr (hvk_cmdline_get_program (cmdline), ==, "qemu");
}

static void
test_injection (void)
{
  g_autoptr(HvkCmdline) cmdline = hvk_cmdline_new ("qemu");
  g_autoptr(HvkOpts) drive = hvk_opts_new (NULL);
  g_autoptr(GError) error = NULL;
  const char * const *argv;

  hvk_opts_add (drive, "file", "/img,readonly=off");
  hvk_opts_add_bool (drive, "readonly", TRUE);
  g_assert_true (hvk_cmdline_add_opts (cmdline, "-drive", drive, &error));
  g_assert_no_error (error);

  argv = hvk_cmdline_get_argv (cmdline);
  g_assert_cmpuint (hvk_cmdline_get_length (cmdline), ==, 3);
  g_assert_cmpstr (argv[2], ==, "file=/img,,readonly=off,readonly=on");
}

static void
test_control_chars (void)
{
  static const char *bad[] = { "a\nb", "\x01", "x\x7f", NULL };
  const char *initial[] = { "qemu", "-S", NULL };

  for (gsize i = 0; bad[i] != NULL; i++)
    {
      g_autoptr(HvkCmdline) cmdline = hvk_cmdline_new ("qemu");
      g_autoptr(HvkOpts) opts = hvk_opts_new ("virtio-net-pci");
      g_autoptr(GError) error = NULL;

      g_assert_true (hvk_cmdline_add_arg (cmdline, "-S", &error));

      /* add_arg: the error names the position. */
      g_assert_false (hvk_cmdline_add_arg (cmdline, bad[i], &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "Argument 2"));
      g_clear_error (&error);
      assert_argv (cmdline, initial);

      /* add_args: all or nothing. */
      g_assert_false (hvk_cmdline_add_args (cmdline, &error, "-a", "-b", bad[i], "-c", NULL));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "Argument 4"));
      g_clear_error (&error);
      assert_argv (cmdline, initial);

      /* add_option: the value is checked and the error names the flag. */
      g_assert_false (hvk_cmdline_add_option (cmdline, "-append", bad[i], &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "-append"));
      g_clear_error (&error);
      assert_argv (cmdline, initial);

      /* ... and so is the flag. */
      g_assert_false (hvk_cmdline_add_option (cmdline, bad[i], "v", &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
      assert_argv (cmdline, initial);

      /* add_opts: the error names the flag and the key. */
      hvk_opts_add (opts, "mac", bad[i]);
      g_assert_false (hvk_cmdline_add_opts (cmdline, "-device", opts, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_str_has_prefix (error->message, "-device: "));
      g_assert_nonnull (strstr (error->message, "“mac”"));
      g_clear_error (&error);
      assert_argv (cmdline, initial);
    }
}

static void
test_opts_key_error (void)
{
  g_autoptr(HvkCmdline) cmdline = hvk_cmdline_new ("qemu");
  g_autoptr(HvkOpts) opts = hvk_opts_new ("pcie-root-port");
  g_autoptr(GError) error = NULL;
  const char *initial[] = { "qemu", NULL };

  hvk_opts_add (opts, "id=x", "y");
  g_assert_false (hvk_cmdline_add_opts (cmdline, "-device", opts, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "“id=x”"));
  assert_argv (cmdline, initial);
}

static int
open_dev_null (void)
{
  int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  return fd;
}

static gboolean
fd_is_open (int fd)
{
  return fcntl (fd, F_GETFD) != -1 || errno != EBADF;
}

static void
test_fds (void)
{
  HvkCmdline *cmdline = hvk_cmdline_new ("qemu");
  int host_fds[3];
  const int *fds;
  guint n_fds = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (host_fds); i++)
    {
      host_fds[i] = open_dev_null ();
      /* Child numbers in order from 3, whatever the host numbers. */
      g_assert_cmpint (hvk_cmdline_take_fd (cmdline, host_fds[i]), ==, 3 + (int) i);
    }

  fds = hvk_cmdline_get_fds (cmdline, &n_fds);
  g_assert_cmpuint (n_fds, ==, 3);
  g_assert_nonnull (fds);
  for (gsize i = 0; i < G_N_ELEMENTS (host_fds); i++)
    {
      g_assert_cmpint (fds[i], ==, host_fds[i]);
      g_assert_true (fd_is_open (host_fds[i]));
    }

  /* n_fds is optional. */
  g_assert_true (hvk_cmdline_get_fds (cmdline, NULL) == fds);

  /* Owned: closed at finalize. */
  g_object_unref (cmdline);
  for (gsize i = 0; i < G_N_ELEMENTS (host_fds); i++)
    g_assert_false (fd_is_open (host_fds[i]));
}

static void
test_fd_in_argument (void)
{
  g_autoptr(HvkCmdline) cmdline = hvk_cmdline_new ("qemu");
  g_autoptr(HvkOpts) netdev = hvk_opts_new ("tap");
  g_autoptr(GError) error = NULL;
  int a = hvk_cmdline_take_fd (cmdline, open_dev_null ());
  int b = hvk_cmdline_take_fd (cmdline, open_dev_null ());
  const char *expected[] = { "qemu", "-netdev", "tap,id=tap0,vhost=on,fds=3:4", NULL };

  hvk_opts_add (netdev, "id", "tap0");
  hvk_opts_add_bool (netdev, "vhost", TRUE);
  hvk_opts_add_printf (netdev, "fds", "%d:%d", a, b);
  g_assert_true (hvk_cmdline_add_opts (cmdline, "-netdev", netdev, &error));
  g_assert_no_error (error);
  assert_argv (cmdline, expected);
}

static void
test_to_json (void)
{
  g_autoptr(HvkCmdline) cmdline = hvk_cmdline_new ("/usr/bin/qemu-system-x86_64");
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  const char * const *argv;
  JsonNode *root;
  JsonArray *array;

  g_assert_true (hvk_cmdline_add_args (cmdline, &error,
                                       "-name", "vm \"one\"",
                                       "-append", "a=\\b quiet",
                                       "-device", "x,,y",
                                       "-comment", "caf\xc3\xa9",
                                       "", NULL));
  g_assert_no_error (error);

  json = hvk_cmdline_to_json (cmdline);
  g_assert_nonnull (json);
  /* Compact: no newline, no indentation. */
  g_assert_null (strchr (json, '\n'));
  g_assert_true (g_str_has_prefix (json, "[\"/usr/bin/qemu-system-x86_64\","));

  g_assert_true (json_parser_load_from_data (parser, json, -1, &error));
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  array = json_node_get_array (root);

  argv = hvk_cmdline_get_argv (cmdline);
  g_assert_cmpuint (json_array_get_length (array), ==, hvk_cmdline_get_length (cmdline));
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      g_assert_cmpint (json_node_get_value_type (node), ==, G_TYPE_STRING);
      g_assert_cmpstr (json_node_get_string (node), ==, argv[i]);
    }
}

static void
test_to_json_program_only (void)
{
  g_autoptr(HvkCmdline) cmdline = hvk_cmdline_new ("acrn-dm");
  g_autofree char *json = hvk_cmdline_to_json (cmdline);

  g_assert_cmpstr (json, ==, "[\"acrn-dm\"]");
}

static void
test_to_string (void)
{
  g_autoptr(HvkCmdline) cmdline = hvk_cmdline_new ("/usr/bin/qemu-system-x86_64");
  g_autoptr(GError) error = NULL;
  g_autofree char *s = NULL;
  g_auto(GStrv) parsed = NULL;

  g_assert_true (hvk_cmdline_add_args (cmdline, &error,
                                       "-machine", "q35,accel=tcg",
                                       "-append", "console=hvc0 quiet",
                                       "-name", "it's",
                                       "-x", "",
                                       "-y", "$HOME",
                                       "-z", "a@b%c+d:e/f.g_h",
                                       NULL));
  g_assert_no_error (error);

  s = hvk_cmdline_to_string (cmdline);
  /* Quoted only where a shell needs it. */
  g_assert_cmpstr (s, ==,
                   "/usr/bin/qemu-system-x86_64 -machine q35,accel=tcg "
                   "-append 'console=hvc0 quiet' -name 'it'\\''s' -x '' -y '$HOME' "
                   "-z a@b%c+d:e/f.g_h");

  /* The shell reads back the same argv. */
  g_assert_true (g_shell_parse_argv (s, NULL, &parsed, &error));
  g_assert_no_error (error);
  g_assert_cmpstrv (parsed, hvk_cmdline_get_argv (cmdline));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hvk/cmdline/new", test_new);
  g_test_add_func ("/hvk/cmdline/add", test_add);
  g_test_add_func ("/hvk/cmdline/injection", test_injection);
  g_test_add_func ("/hvk/cmdline/control-chars", test_control_chars);
  g_test_add_func ("/hvk/cmdline/opts-key-error", test_opts_key_error);
  g_test_add_func ("/hvk/cmdline/fds", test_fds);
  g_test_add_func ("/hvk/cmdline/fd-in-argument", test_fd_in_argument);
  g_test_add_func ("/hvk/cmdline/to-json", test_to_json);
  g_test_add_func ("/hvk/cmdline/to-json-program-only", test_to_json_program_only);
  g_test_add_func ("/hvk/cmdline/to-string", test_to_string);

  return g_test_run ();
}
