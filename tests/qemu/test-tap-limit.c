/* SPDX-License-Identifier: Apache-2.0 */
/* Network rate limits on a tap, read back through netlink, in a network
 * namespace of the test's own (root only). */
#define _GNU_SOURCE
#include "config.h"

#include <hvkit/hvkit.h>
#include <string.h>

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "hvk-qemu-tap-limit.h"

static gboolean in_namespace;

/* A persistent tap, as an operator (or CNI) makes for a VM. */
static void
make_tap (const char *name)
{
  struct ifreq ifr = { 0 };
  int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  g_strlcpy (ifr.ifr_name, name, IFNAMSIZ);
  g_assert_cmpint (ioctl (fd, TUNSETIFF, &ifr), ==, 0);
  g_assert_cmpint (ioctl (fd, TUNSETPERSIST, 1), ==, 0);
  close (fd);
}

static void
remove_tap (const char *name)
{
  struct ifreq ifr = { 0 };
  int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);

  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  g_strlcpy (ifr.ifr_name, name, IFNAMSIZ);
  g_assert_cmpint (ioctl (fd, TUNSETIFF, &ifr), ==, 0);
  g_assert_cmpint (ioctl (fd, TUNSETPERSIST, 0), ==, 0);
  close (fd);
}

static gboolean
can_run (void)
{
  if (!in_namespace)
    {
      g_test_skip ("needs root and a network namespace of its own");
      return FALSE;
    }
  return TRUE;
}

static void
test_apply_read_clear (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ifb = NULL;
  HvkTapLimit limit = { .rx_bps = 8000000, .tx_bps = 4000000, .tx_burst = 64000 };
  HvkTapLimit read = { 0 };

  if (!can_run ())
    return;
  make_tap ("hvktap0");
  ifb = hvk_tap_limit_ifb_name ("hvktap0");

  g_assert_true (hvk_tap_limit_read ("hvktap0", &read, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (read.rx_bps, ==, 0);
  g_assert_cmpuint (read.tx_bps, ==, 0);

  g_assert_true (hvk_tap_limit_apply ("hvktap0", &limit, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (if_nametoindex (ifb), >, 0);
  g_assert_true (hvk_tap_limit_read ("hvktap0", &read, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (read.rx_bps, ==, 8000000);
  g_assert_cmpuint (read.tx_bps, ==, 4000000);
  g_assert_cmpuint (read.rx_burst, >, 0);
  g_assert_cmpuint (read.tx_burst, >, 0);

  /* Applying again replaces: only rx now, and the IFB device goes. */
  limit = (HvkTapLimit) { .rx_bps = 16000000 };
  g_assert_true (hvk_tap_limit_apply ("hvktap0", &limit, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_tap_limit_read ("hvktap0", &read, &error));
  g_assert_cmpuint (read.rx_bps, ==, 16000000);
  g_assert_cmpuint (read.tx_bps, ==, 0);
  g_assert_cmpuint (if_nametoindex (ifb), ==, 0);

  limit = (HvkTapLimit) { .tx_bps = 1000000 };
  g_assert_true (hvk_tap_limit_apply ("hvktap0", &limit, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_tap_limit_read ("hvktap0", &read, &error));
  g_assert_cmpuint (read.rx_bps, ==, 0);
  g_assert_cmpuint (read.tx_bps, ==, 1000000);

  g_assert_true (hvk_tap_limit_clear ("hvktap0", &error));
  g_assert_no_error (error);
  g_assert_true (hvk_tap_limit_read ("hvktap0", &read, &error));
  g_assert_cmpuint (read.rx_bps, ==, 0);
  g_assert_cmpuint (read.tx_bps, ==, 0);
  g_assert_cmpuint (if_nametoindex (ifb), ==, 0);
  /* Twice is fine. */
  g_assert_true (hvk_tap_limit_clear ("hvktap0", &error));
  g_assert_no_error (error);
  /* A tap gone (QEMU closed the tap it made) leaves its IFB device:
   * clearing by the tap's name removes it. */
  limit = (HvkTapLimit) { .tx_bps = 1000000 };
  g_assert_true (hvk_tap_limit_apply ("hvktap0", &limit, &error));
  g_assert_cmpuint (if_nametoindex (ifb), >, 0);
  remove_tap ("hvktap0");
  g_assert_cmpuint (if_nametoindex ("hvktap0"), ==, 0);
  g_assert_cmpuint (if_nametoindex (ifb), >, 0);
  g_assert_true (hvk_tap_limit_clear ("hvktap0", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (if_nametoindex (ifb), ==, 0);
  /* A tap already gone, and its IFB: nothing to do. */
  g_assert_true (hvk_tap_limit_clear ("hvktap0", &error));
  g_assert_no_error (error);
}

static void
test_errors (void)
{
  g_autoptr(GError) error = NULL;
  HvkTapLimit limit = { .rx_bps = 8000000 };
  HvkTapLimit read;

  g_assert_false (hvk_tap_limit_apply ("hvk-no-such", &limit, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "'hvk-no-such'"));
  g_clear_error (&error);
  g_assert_false (hvk_tap_limit_read ("a-name-longer-than-ifnamsiz", &read, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  if (!can_run ())
    return;
  /* A tap whose IFB name is taken: the error names it, and the tap is
   * left with no limit at all. */
  make_tap ("hvktap1");
  {
    g_autofree char *ifb = hvk_tap_limit_ifb_name ("hvktap1");
    struct ifreq ifr = { 0 };
    int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);

    /* Squat the name with a tap. */
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    g_strlcpy (ifr.ifr_name, ifb, IFNAMSIZ);
    g_assert_cmpint (ioctl (fd, TUNSETIFF, &ifr), ==, 0);
    limit = (HvkTapLimit) { .rx_bps = 8000000, .tx_bps = 8000000 };
    g_assert_false (hvk_tap_limit_apply ("hvktap1", &limit, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
    g_assert_nonnull (strstr (error->message, "hvktap1"));
    g_clear_error (&error);
    close (fd);
  }
  g_assert_true (hvk_tap_limit_read ("hvktap1", &read, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (read.rx_bps, ==, 0);
  remove_tap ("hvktap1");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  in_namespace = geteuid () == 0 && unshare (CLONE_NEWNET) == 0
                 && access ("/dev/net/tun", R_OK | W_OK) == 0;
  g_test_add_func ("/hvk/qemu/tap-limit/apply-read-clear", test_apply_read_clear);
  g_test_add_func ("/hvk/qemu/tap-limit/errors", test_errors);
  return g_test_run ();
}
