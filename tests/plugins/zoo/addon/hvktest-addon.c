/* SPDX-License-Identifier: Apache-2.0 */
/* Adds a `block` appender to backend `testbe` whether or not that backend
 * is registered yet, and a low-priority BASE policy for all backends. */
#include "config.h"

#include <hvkit/hvkit.h>

static gboolean
append_addon_block (HvkBuildContext  *ctx,
                    HvkDevice        *device,
                    HvkCmdline       *cmdline,
                    gpointer          user_data,
                    GError          **error)
{
  return hvk_cmdline_add_option (cmdline, "-addon-block",
                                 hvk_device_get_id (device), error);
}

static gboolean
add_addon_base (HvkBuildContext  *ctx,
                GPtrArray        *params,
                gpointer          user_data,
                GError          **error)
{
  hvk_params_append (params, "addon-base", "1");
  return TRUE;
}

static gboolean
addon_init (HvkPlugin  *plugin,
            GError    **error)
{
  return hvk_plugin_register_device_appender (plugin, "testbe", "block", 0,
                                              append_addon_block, NULL, error) &&
         hvk_plugin_register_kernel_param_policy (plugin, NULL,
                                                  HVK_KERNEL_PARAM_PHASE_BASE, -5,
                                                  add_addon_base, NULL, error);
}

HVK_PLUGIN_DEFINE ("addon", "A block appender for testbe", "1.0", "Apache-2.0",
                   addon_init)
