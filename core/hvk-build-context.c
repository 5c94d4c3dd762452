/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

/**
 * SECTION:hvk-build-context
 * @short_description: what appenders and policies see while a command line
 *   is built
 *
 * A backend creates one #HvkBuildContext per command line it builds and
 * passes it to hvk_registry_append_device() for every device, then to
 * hvk_registry_build_kernel_params().  Appenders record the kernel
 * parameters their device needs with hvk_build_context_add_kernel_param();
 * they form the %HVK_KERNEL_PARAM_PHASE_DEVICES phase, in device order.
 */

struct _HvkBuildContext
{
  HvkRegistry *registry;     /* owned, nullable */
  char *backend;
  char *id;
  HvkConfig *config;         /* owned, nullable */
  GPtrArray *kernel_params;  /* HvkParam, device order */
  gpointer backend_data;
  GDestroyNotify backend_data_destroy;
};

/**
 * hvk_build_context_new: (skip)
 * @registry: (nullable): the registry whose appenders and policies apply
 * @backend: (nullable): the backend name, or %NULL for @config's backend
 * @id: (nullable): the VM id
 * @config: (nullable): the VM's configuration
 *
 * Creates a build context.  It holds references on @registry and @config.
 * One of @backend and @config must give the backend name.
 *
 * Returns: (transfer full): a new context; free with
 *   hvk_build_context_free()
 */
HvkBuildContext *
hvk_build_context_new (HvkRegistry *registry,
                       const char  *backend,
                       const char  *id,
                       HvkConfig   *config)
{
  HvkBuildContext *ctx;

  g_return_val_if_fail (registry == NULL || HVK_IS_REGISTRY (registry), NULL);
  g_return_val_if_fail (config == NULL || HVK_IS_CONFIG (config), NULL);

  if (backend == NULL && config != NULL)
    backend = hvk_config_get_backend (config);
  g_return_val_if_fail (backend != NULL, NULL);

  ctx = g_new0 (HvkBuildContext, 1);
  ctx->registry = registry ? g_object_ref (registry) : NULL;
  ctx->backend = g_strdup (backend);
  ctx->id = g_strdup (id);
  ctx->config = config ? g_object_ref (config) : NULL;
  ctx->kernel_params = hvk_params_new ();

  return ctx;
}

/**
 * hvk_build_context_free:
 * @ctx: (nullable): a #HvkBuildContext
 *
 * Frees @ctx, its backend data first (through the destroy notify given to
 * hvk_build_context_set_backend_data()).
 */
void
hvk_build_context_free (HvkBuildContext *ctx)
{
  if (ctx == NULL)
    return;

  if (ctx->backend_data_destroy != NULL)
    ctx->backend_data_destroy (ctx->backend_data);
  g_clear_pointer (&ctx->kernel_params, g_ptr_array_unref);
  g_clear_object (&ctx->config);
  g_clear_object (&ctx->registry);
  g_free (ctx->backend);
  g_free (ctx->id);
  g_free (ctx);
}

/**
 * hvk_build_context_get_registry:
 * @ctx: a #HvkBuildContext
 *
 * Gets the registry whose appenders and policies build the command line.
 *
 * Returns: (transfer none) (nullable): the registry
 */
HvkRegistry *
hvk_build_context_get_registry (HvkBuildContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return ctx->registry;
}

/**
 * hvk_build_context_get_backend:
 * @ctx: a #HvkBuildContext
 *
 * Gets the name of the backend the command line is built for.
 *
 * Returns: the backend name
 */
const char *
hvk_build_context_get_backend (HvkBuildContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return ctx->backend;
}

/**
 * hvk_build_context_get_id:
 * @ctx: a #HvkBuildContext
 *
 * Gets the id of the VM the command line is built for.
 *
 * Returns: (nullable): the VM id
 */
const char *
hvk_build_context_get_id (HvkBuildContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return ctx->id;
}

/**
 * hvk_build_context_get_config:
 * @ctx: a #HvkBuildContext
 *
 * Gets the configuration the command line is built from.
 *
 * Returns: (transfer none) (nullable): the configuration
 */
HvkConfig *
hvk_build_context_get_config (HvkBuildContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return ctx->config;
}

/**
 * hvk_build_context_add_kernel_param:
 * @ctx: a #HvkBuildContext
 * @key: the parameter name
 * @value: (nullable): its value, or %NULL for a bare flag
 *
 * Appends a kernel parameter to the %HVK_KERNEL_PARAM_PHASE_DEVICES phase
 * (an appender calls it for the parameters its device needs, the console's
 * `console=hvc0` say).  Parameters keep the order of the calls.
 */
void
hvk_build_context_add_kernel_param (HvkBuildContext *ctx,
                                    const char      *key,
                                    const char      *value)
{
  g_return_if_fail (ctx != NULL);
  g_return_if_fail (key != NULL);

  hvk_params_append (ctx->kernel_params, key, value);
}

/**
 * hvk_build_context_get_device_kernel_params:
 * @ctx: a #HvkBuildContext
 *
 * Gets the kernel parameters the device appenders added.
 *
 * Returns: (transfer none) (element-type HvkParam): the parameters added
 *   with hvk_build_context_add_kernel_param(), in order
 */
GPtrArray *
hvk_build_context_get_device_kernel_params (HvkBuildContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return ctx->kernel_params;
}

/**
 * hvk_build_context_get_backend_data:
 * @ctx: a #HvkBuildContext
 *
 * Gets the backend's private data, for its own appenders and policies.
 *
 * Returns: (transfer none) (nullable): the backend-private pointer
 */
gpointer
hvk_build_context_get_backend_data (HvkBuildContext *ctx)
{
  g_return_val_if_fail (ctx != NULL, NULL);
  return ctx->backend_data;
}

/**
 * hvk_build_context_set_backend_data:
 * @ctx: a #HvkBuildContext
 * @data: (nullable): the backend-private pointer
 * @destroy: (nullable): frees @data with @ctx or when replaced
 *
 * Sets the one backend-private pointer (bus and slot bookkeeping, say).
 * The previous data, if any, is destroyed first.
 */
void
hvk_build_context_set_backend_data (HvkBuildContext *ctx,
                                    gpointer         data,
                                    GDestroyNotify   destroy)
{
  gpointer old_data;
  GDestroyNotify old_destroy;

  g_return_if_fail (ctx != NULL);

  old_data = ctx->backend_data;
  old_destroy = ctx->backend_data_destroy;
  ctx->backend_data = data;
  ctx->backend_data_destroy = destroy;
  /* After the swap, so a destroy notify that looks at @ctx sees the new
   * state; and never destroy what is being set again. */
  if (old_destroy != NULL && old_data != data)
    old_destroy (old_data);
}
