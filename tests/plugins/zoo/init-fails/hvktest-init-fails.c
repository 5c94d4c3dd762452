/* SPDX-License-Identifier: Apache-2.0 */
/* Refused: init registers one of everything, then fails with an error.
 * test-registry checks that all of it is rolled back. */
#include "config.h"

#include <hvkit/hvkit.h>
#include "../hvktest-trivial.h"

HVKTEST_DEFINE_TRIVIAL_HYPERVISOR (HvktestFailsHypervisor,
                                   hvktest_fails_hypervisor)

static gboolean
append_nothing (HvkBuildContext  *ctx,
                HvkDevice        *device,
                HvkCmdline       *cmdline,
                gpointer          user_data,
                GError          **error)
{
  return TRUE;
}

static gboolean
add_fail_param (HvkBuildContext  *ctx,
                GPtrArray        *params,
                gpointer          user_data,
                GError          **error)
{
  hvk_params_append (params, "fail", "1");
  return TRUE;
}

static const HvkConfigKey fail_keys[] = {
  { "fail_key", HVK_CONFIG_TYPE_BOOLEAN, "false", "never registered" },
};

static gboolean
fails_init (HvkPlugin  *plugin,
            GError    **error)
{
  g_autoptr(HvkDeviceKind) kind = NULL;

  kind = hvk_device_kind_new ("fail-kind", "rolled back", NULL, 0, error);
  if (kind == NULL)
    return FALSE;

  if (!hvk_plugin_register_backend (plugin, "failbe",
                                    hvktest_fails_hypervisor_get_type (),
                                    HVK_CAP_NONE, error) ||
      !hvk_plugin_register_device_kind (plugin, kind, error) ||
      !hvk_plugin_register_device_appender (plugin, "failbe", "fail-kind", 0,
                                            append_nothing, NULL, error) ||
      !hvk_plugin_register_device_appender (plugin, "testbe", "block", 99,
                                            append_nothing, NULL, error) ||
      !hvk_plugin_register_kernel_param_policy (plugin, NULL,
                                                HVK_KERNEL_PARAM_PHASE_BASE, 0,
                                                add_fail_param, NULL, error) ||
      !hvk_plugin_register_config_keys (plugin, "failbe", fail_keys,
                                        G_N_ELEMENTS (fail_keys), error))
    return FALSE;

  g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
               "deliberate failure after registering");
  return FALSE;
}

HVK_PLUGIN_DEFINE ("init-fails", "Registers, then fails", "1.0", "Apache-2.0",
                   fails_init)
