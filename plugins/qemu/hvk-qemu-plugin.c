/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-qemu-private.h"

/* The QEMU backend plugin: registration only; the backend lives in the
 * hvkit-qemu-impl library. */

static gboolean
hvk_qemu_plugin_init (HvkPlugin  *plugin,
                      GError    **error)
{
  return hvk_qemu_register_config_keys (plugin, error) &&
         hvk_qemu_register_appenders (plugin, error) &&
         hvk_qemu_register_kernel_policies (plugin, error) &&
         hvk_plugin_register_backend (plugin, HVK_QEMU_BACKEND_NAME, HVK_TYPE_QEMU_HYPERVISOR,
                                      hvk_qemu_capabilities_for_config (NULL), error);
}

HVK_PLUGIN_DEFINE ("qemu", "QEMU backend", PACKAGE_VERSION, "Apache-2.0",
                   hvk_qemu_plugin_init)
