/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <gmodule.h>
#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/* What hvk-plugin.c and hvk-registry.c share.  None of this is exported:
 * the library is built with -fvisibility=hidden and these prototypes
 * carry no HVK_EXPORT. */

/* hvk-plugin.c: the registry creates plugins; @module may be NULL for a
 * plugin registered from a static descriptor.  The plugin keeps a plain
 * pointer to @registry, which owns it. */
HvkPlugin  *hvk_plugin_new_internal      (HvkRegistry         *registry,
                                          const HvkPluginDesc *desc,
                                          const char          *filename,
                                          GModule             *module);
GModule    *hvk_plugin_get_module        (HvkPlugin           *self);

/* hvk-registry.c: the tables behind the hvk_plugin_register_*() methods.
 * Each validates, records @plugin as the owner and returns an error on
 * refusal. */
gboolean hvk_registry_add_backend        (HvkRegistry         *self,
                                          HvkPlugin           *plugin,
                                          const char          *name,
                                          GType                type,
                                          HvkCapabilities      caps,
                                          GError             **error);
gboolean hvk_registry_add_device_kind    (HvkRegistry         *self,
                                          HvkPlugin           *plugin,
                                          HvkDeviceKind       *kind,
                                          GError             **error);
gboolean hvk_registry_add_device_appender (HvkRegistry        *self,
                                           HvkPlugin          *plugin,
                                           const char         *backend,
                                           const char         *kind,
                                           int                 priority,
                                           HvkDeviceAppendFunc func,
                                           gpointer            user_data,
                                           GError            **error);
gboolean hvk_registry_add_hotplug_handler (HvkRegistry        *self,
                                           HvkPlugin          *plugin,
                                           const char         *backend,
                                           const char         *kind,
                                           int                 priority,
                                           HvkHotplugFunc      func,
                                           gpointer            user_data,
                                           GError            **error);
gboolean hvk_registry_add_kernel_param_policy (HvkRegistry        *self,
                                               HvkPlugin          *plugin,
                                               const char         *backend,
                                               HvkKernelParamPhase phase,
                                               int                 priority,
                                               HvkKernelParamFunc  func,
                                               gpointer            user_data,
                                               GError            **error);
gboolean hvk_registry_add_config_keys    (HvkRegistry         *self,
                                          HvkPlugin           *plugin,
                                          const char          *backend,
                                          const HvkConfigKey  *keys,
                                          guint                n_keys,
                                          GError             **error);

/* `[a-z0-9_-]+`: plugin and backend names. */
gboolean hvk_registry_name_is_valid      (const char          *name);

G_END_DECLS
