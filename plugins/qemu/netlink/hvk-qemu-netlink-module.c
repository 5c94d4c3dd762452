/* SPDX-License-Identifier: Apache-2.0 */
/* The netlink module's one export: its functions, for the QEMU plugin's
 * loader (hvk-qemu-netlink.h).  Everything else in the module is hidden,
 * so its own calls never reach the loader's functions of the same names. */
#include "config.h"

#include <gmodule.h>

#include "hvk-qemu-netlink.h"

G_MODULE_EXPORT const HvkQemuNetlinkOps hvk_qemu_netlink_ops = {
  .abi = HVK_QEMU_NETLINK_ABI,
  .tap_limit_apply = hvk_tap_limit_apply,
  .tap_limit_read = hvk_tap_limit_read,
  .tap_limit_clear = hvk_tap_limit_clear,
  .tap_limit_ifb_name = hvk_tap_limit_ifb_name,
};
