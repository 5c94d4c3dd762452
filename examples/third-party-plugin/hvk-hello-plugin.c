/* SPDX-License-Identifier: Apache-2.0 */
/* Entry point of the `hello` plugin: the descriptor and the init that
 * registers what the plugin provides.  The backend itself lives in
 * hvk-hello-hypervisor.c. */
#include "hvk-hello-hypervisor.h"

static gboolean
hello_kernel_params (HvkBuildContext  *ctx,
                     GPtrArray        *params,
                     gpointer          user_data,
                     GError          **error)
{
  HvkConfig *config = hvk_build_context_get_config (ctx);
  const char *greeting = NULL;

  if (config != NULL && hvk_config_has_key (config, "greeting"))
    greeting = hvk_config_get_string (config, "greeting");
  hvk_params_append (params, "hello.greeting",
                     greeting != NULL ? greeting : "world");
  return TRUE;
}

/* Keys of the `[hypervisor.hello]` group beyond the core's. */
static const HvkConfigKey hello_keys[] = {
  { "greeting", HVK_CONFIG_TYPE_STRING, "world", "whom the VM greets" },
};

static gboolean
hello_plugin_init (HvkPlugin  *plugin,
                   GError    **error)
{
  return hvk_plugin_register_backend (plugin, "hello",
                                      HVK_TYPE_HELLO_HYPERVISOR,
                                      HVK_HELLO_CAPABILITIES, error) &&
         hvk_plugin_register_config_keys (plugin, "hello", hello_keys,
                                          G_N_ELEMENTS (hello_keys), error) &&
         hvk_plugin_register_kernel_param_policy (plugin, "hello",
                                                  HVK_KERNEL_PARAM_PHASE_OTHER,
                                                  0, hello_kernel_params, NULL,
                                                  error);
}

HVK_PLUGIN_DEFINE ("hello", "Example third-party backend that says hello",
                   "1.0.0", "Apache-2.0", hello_plugin_init)
