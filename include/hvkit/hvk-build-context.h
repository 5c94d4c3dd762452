/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#include <glib-object.h>
#include <hvkit/hvk-visibility.h>
#include <hvkit/hvk-config.h>

G_BEGIN_DECLS

/**
 * HvkBuildContext:
 *
 * What device appenders and kernel-param policies see while a backend
 * builds one VM's command line: the registry, backend name, VM id,
 * configuration, the kernel parameters appenders add (the
 * %HVK_KERNEL_PARAM_PHASE_DEVICES phase, in device order), and one
 * backend-private pointer (bus/slot bookkeeping, say).
 */
typedef struct _HvkBuildContext HvkBuildContext;

HVK_AVAILABLE_IN_ALL
HvkBuildContext *hvk_build_context_new   (HvkRegistry *registry,
                                          const char  *backend,
                                          const char  *id,
                                          HvkConfig   *config);
HVK_AVAILABLE_IN_ALL
void         hvk_build_context_free          (HvkBuildContext *ctx);
HVK_AVAILABLE_IN_ALL
HvkRegistry *hvk_build_context_get_registry  (HvkBuildContext *ctx);
HVK_AVAILABLE_IN_ALL
const char  *hvk_build_context_get_backend   (HvkBuildContext *ctx);
HVK_AVAILABLE_IN_ALL
const char  *hvk_build_context_get_id        (HvkBuildContext *ctx);
HVK_AVAILABLE_IN_ALL
HvkConfig   *hvk_build_context_get_config    (HvkBuildContext *ctx);
HVK_AVAILABLE_IN_ALL
void         hvk_build_context_add_kernel_param (HvkBuildContext *ctx,
                                                 const char      *key,
                                                 const char      *value);
HVK_AVAILABLE_IN_ALL
GPtrArray   *hvk_build_context_get_device_kernel_params (HvkBuildContext *ctx);
HVK_AVAILABLE_IN_ALL
gpointer     hvk_build_context_get_backend_data (HvkBuildContext *ctx);
HVK_AVAILABLE_IN_ALL
void         hvk_build_context_set_backend_data (HvkBuildContext *ctx,
                                                 gpointer         data,
                                                 GDestroyNotify   destroy);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HvkBuildContext, hvk_build_context_free)

G_END_DECLS
