/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-acrn-private.h"

/* The ACRN backend: acrn-dm command line, lifecycle and block hotplug
 * through `acrnctl blkrescan`.  Block devices and block hotplug are all
 * it declares, as Kata's acrnArchBase.capabilities(). */
static gboolean
hvk_acrn_plugin_init (HvkPlugin  *plugin,
                      GError    **error)
{
  return hvk_plugin_register_backend (plugin, HVK_ACRN_BACKEND_NAME,
                                      HVK_TYPE_ACRN_HYPERVISOR,
                                      HVK_ACRN_CAPABILITIES, error)
         && hvk_acrn_register_device_kinds (plugin, error)
         && hvk_acrn_register_appenders (plugin, error)
         && hvk_acrn_register_kernel_policies (plugin, error);
}

HVK_PLUGIN_DEFINE ("acrn", "ACRN backend (acrn-dm, acrnctl)", PACKAGE_VERSION,
                   "Apache-2.0", hvk_acrn_plugin_init)
