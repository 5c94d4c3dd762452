/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "hvk-qemu-tap-limit.h"

G_BEGIN_DECLS

/* The part of the QEMU backend that speaks netlink through libnl (the
 * network rate limits of hvk-qemu-tap-limit.c) is a module of its own,
 * netlink/libhvkit-qemu-netlink.so beside the plugin, loaded on the first
 * call (hvk-qemu-netlink-loader.c): a command that sets no limit (status,
 * pause, most starts) maps neither it nor libnl's two libraries.  The
 * module exports one table, HVK_QEMU_NETLINK_SYMBOL, of these functions;
 * @abi is HVK_QEMU_NETLINK_ABI, bumped when the table changes. */

#define HVK_QEMU_NETLINK_ABI 2
#define HVK_QEMU_NETLINK_SYMBOL "hvk_qemu_netlink_ops"
#define HVK_QEMU_NETLINK_MODULE "libhvkit-qemu-netlink.so"

typedef struct {
  guint abi;
  gboolean (*tap_limit_apply) (const char        *ifname,
                               const HvkTapLimit *limit,
                               GError           **error);
  gboolean (*tap_limit_read)  (const char        *ifname,
                               HvkTapLimit       *limit,
                               GError           **error);
  gboolean (*tap_limit_clear) (const char        *ifname,
                               GError           **error);
  char    *(*tap_limit_ifb_name) (const char     *ifname);
} HvkQemuNetlinkOps;

G_END_DECLS
