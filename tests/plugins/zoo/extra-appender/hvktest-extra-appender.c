/* SPDX-License-Identifier: Apache-2.0 */
/* Extends the `good` plugin's backend: a higher-priority appender for
 * `test-widget` on `testbe` (so `good` must be loaded first: the kind must
 * exist), plus policies for all backends. */
#include "config.h"

#include <hvkit/hvkit.h>

static gboolean
append_extra_widget (HvkBuildContext  *ctx,
                     HvkDevice        *device,
                     HvkCmdline       *cmdline,
                     gpointer          user_data,
                     GError          **error)
{
  return hvk_cmdline_add_option (cmdline, "-extra-widget",
                                 hvk_device_get_id (device), error);
}

static gboolean
add_param (HvkBuildContext  *ctx,
           GPtrArray        *params,
           gpointer          user_data,
           GError          **error)
{
  g_auto(GStrv) kv = g_strsplit (user_data, "=", 2);

  hvk_params_append (params, kv[0], kv[1]);
  return TRUE;
}

static gboolean
extra_init (HvkPlugin  *plugin,
            GError    **error)
{
  /* Policies first, so that a refused appender shows their rollback. */
  return hvk_plugin_register_kernel_param_policy (plugin, NULL,
                                                  HVK_KERNEL_PARAM_PHASE_OTHER, 10,
                                                  add_param, "extra-other=1",
                                                  error) &&
         hvk_plugin_register_kernel_param_policy (plugin, NULL,
                                                  HVK_KERNEL_PARAM_PHASE_DEBUG, 0,
                                                  add_param, "extra-debug=1",
                                                  error) &&
         hvk_plugin_register_device_appender (plugin, "testbe", "test-widget",
                                              10, append_extra_widget, NULL,
                                              error);
}

HVK_PLUGIN_DEFINE ("extra-appender", "Extends testbe", "1.0", "Apache-2.0",
                   extra_init)
