/* SPDX-License-Identifier: Apache-2.0 */
/* The QEMU backend's netlink module is loaded on first use: its calls go
 * through the loader (hvk-qemu-netlink.h), and a missing module is an
 * error that names it, not a crash. */
#include "config.h"

#include <hvkit/hvkit.h>
#include <string.h>

#include "hvk-qemu-tap-limit.h"

static void
test_through_module (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ifb = hvk_tap_limit_ifb_name ("hvktap7");
  HvkTapLimit limit = { 0 };

  g_assert_true (g_str_has_prefix (ifb, "hvkifb"));
  /* The module answers (here: the interface does not exist). */
  g_assert_false (hvk_tap_limit_read ("hvknosuchtap0", &limit, &error));
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "hvknosuchtap0"));
  g_assert_null (strstr (error->message, "netlink module"));
}

static void
test_missing_module (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;

      g_setenv ("HVKIT_QEMU_NETLINK_MODULE", "/nonexistent/libhvkit-qemu-netlink.so", TRUE);
      g_assert_false (hvk_tap_limit_clear ("hvktap0", &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, "netlink module"));
      g_assert_nonnull (strstr (error->message, "/nonexistent/libhvkit-qemu-netlink.so"));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hvk/qemu/netlink-loader/through-module", test_through_module);
  g_test_add_func ("/hvk/qemu/netlink-loader/missing-module", test_missing_module);
  return g_test_run ();
}
