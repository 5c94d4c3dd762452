/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Network rate limits on a VM's tap, as Kata does for QEMU (which has no
 * netdev limiter): what the guest receives is shaped by an HTB qdisc on
 * the tap's egress; what it sends arrives on the tap's ingress, where it
 * cannot be shaped, so it is redirected (u32 match-all, mirred) to an IFB
 * device "hvkifbHASH" (of the tap's name) whose egress carries a second HTB qdisc.  Rates in
 * bits per second, bursts in bytes; 0 is no limit (0 burst: the kernel's
 * default, rate / HZ + MTU).  Through libnl's route library. */

typedef struct {
  guint64 rx_bps;
  guint64 rx_burst;
  guint64 tx_bps;
  guint64 tx_burst;
} HvkTapLimit;

gboolean hvk_tap_limit_apply (const char        *ifname,
                              const HvkTapLimit *limit,
                              GError           **error);
gboolean hvk_tap_limit_read  (const char        *ifname,
                              HvkTapLimit       *limit,
                              GError           **error);
gboolean hvk_tap_limit_clear (const char        *ifname,
                              GError           **error);
char    *hvk_tap_limit_ifb_name (const char     *ifname);

G_END_DECLS
