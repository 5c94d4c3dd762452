/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#include <glib-object.h>
#include <hvkit/hvk-visibility.h>
#include <hvkit/hvk-capabilities.h>
#include <hvkit/hvk-config.h>
#include <hvkit/hvk-device.h>
#include <hvkit/hvk-cmdline.h>
#include <hvkit/hvk-build-context.h>
#include <hvkit/hvk-hypervisor.h>
#include <hvkit/hvk-plugin.h>

G_BEGIN_DECLS

/**
 * HVK_PLUGIN_PATH_ENV:
 *
 * Colon-separated directories searched for plugins before the installed
 * plugin directory.
 */
#define HVK_PLUGIN_PATH_ENV "HVKIT_PLUGIN_PATH"

/**
 * HVK_PLUGIN_SYSTEM_PATH_ENV:
 *
 * When set, replaces the installed plugin directory (tests set it to an
 * empty string so that only the build tree is searched).
 */
#define HVK_PLUGIN_SYSTEM_PATH_ENV "HVKIT_PLUGIN_SYSTEM_PATH"

/**
 * HvkBackendInfo:
 *
 * A registered backend: name, implementing #GType, the plugin that
 * registered it and its capabilities.  Owned by the registry.
 */
typedef struct _HvkBackendInfo HvkBackendInfo;

HVK_AVAILABLE_IN_ALL
const char     *hvk_backend_info_get_name         (HvkBackendInfo *info);
HVK_AVAILABLE_IN_ALL
GType           hvk_backend_info_get_gtype        (HvkBackendInfo *info);
HVK_AVAILABLE_IN_ALL
HvkPlugin      *hvk_backend_info_get_plugin       (HvkBackendInfo *info);
HVK_AVAILABLE_IN_ALL
HvkCapabilities hvk_backend_info_get_capabilities (HvkBackendInfo *info);

/**
 * HvkRegistry:
 *
 * What the plugins provide: backends, device kinds, device appenders,
 * hotplug handlers, config keys and kernel-parameter policies.  A
 * registry scans the plugin directories (%HVK_PLUGIN_PATH_ENV, then the
 * installed ones), creates hypervisors for configurations
 * (hvk_registry_create_hypervisor()) and builds their command lines and
 * guest kernel parameters.  Most programs use hvk_registry_get_default().
 */
#define HVK_TYPE_REGISTRY (hvk_registry_get_type ())
HVK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HvkRegistry, hvk_registry, HVK, REGISTRY, GObject)

HVK_AVAILABLE_IN_ALL
HvkRegistry    *hvk_registry_new                (void);
HVK_AVAILABLE_IN_ALL
HvkRegistry    *hvk_registry_get_default        (void);
HVK_AVAILABLE_IN_ALL
void            hvk_registry_scan               (HvkRegistry  *self);
HVK_AVAILABLE_IN_ALL
gboolean        hvk_registry_scan_path          (HvkRegistry  *self,
                                                 const char   *directory,
                                                 GError      **error);
HVK_AVAILABLE_IN_ALL
HvkPlugin      *hvk_registry_load_plugin        (HvkRegistry  *self,
                                                 const char   *filename,
                                                 GError      **error);
HVK_AVAILABLE_IN_ALL
HvkPlugin      *hvk_registry_register_static_plugin (HvkRegistry         *self,
                                                     const HvkPluginDesc *desc,
                                                     GError             **error);
HVK_AVAILABLE_IN_ALL
GPtrArray      *hvk_registry_get_plugins        (HvkRegistry  *self);
HVK_AVAILABLE_IN_ALL
HvkPlugin      *hvk_registry_lookup_plugin      (HvkRegistry  *self,
                                                 const char   *name);
HVK_AVAILABLE_IN_ALL
GPtrArray      *hvk_registry_get_refusals       (HvkRegistry  *self);

HVK_AVAILABLE_IN_ALL
GPtrArray      *hvk_registry_get_backends       (HvkRegistry  *self);
HVK_AVAILABLE_IN_ALL
HvkBackendInfo *hvk_registry_lookup_backend     (HvkRegistry  *self,
                                                 const char   *name);
HVK_AVAILABLE_IN_ALL
GPtrArray      *hvk_registry_get_device_kinds   (HvkRegistry  *self);
HVK_AVAILABLE_IN_ALL
HvkDeviceKind  *hvk_registry_lookup_device_kind (HvkRegistry  *self,
                                                 const char   *name);
HVK_AVAILABLE_IN_ALL
const HvkConfigKey *hvk_registry_lookup_config_key (HvkRegistry *self,
                                                    const char  *backend,
                                                    const char  *key);
HVK_AVAILABLE_IN_ALL
GPtrArray          *hvk_registry_get_config_keys   (HvkRegistry *self,
                                                    const char  *backend);
HVK_AVAILABLE_IN_ALL
GPtrArray          *hvk_registry_get_refused_keys  (HvkRegistry *self,
                                                    const char  *backend);
HVK_AVAILABLE_IN_ALL
const char         *hvk_registry_lookup_refused_key (HvkRegistry *self,
                                                     const char  *backend,
                                                     const char  *key);
HVK_AVAILABLE_IN_ALL
const char         *hvk_registry_find_config_key_owner (HvkRegistry *self,
                                                        const char  *key);

HVK_AVAILABLE_IN_ALL
HvkHypervisor  *hvk_registry_create_hypervisor  (HvkRegistry  *self,
                                                 HvkConfig    *config,
                                                 GError      **error);
HVK_AVAILABLE_IN_ALL
gboolean        hvk_registry_has_device_appender (HvkRegistry *self,
                                                  const char  *backend,
                                                  const char  *kind);
HVK_AVAILABLE_IN_ALL
gboolean        hvk_registry_has_hotplug_handler (HvkRegistry *self,
                                                  const char  *backend,
                                                  const char  *kind);
HVK_AVAILABLE_IN_ALL
gboolean        hvk_registry_hotplug_device (HvkRegistry    *self,
                                             const char     *backend,
                                             HvkHypervisor  *hypervisor,
                                             HvkDevice      *device,
                                             GCancellable   *cancellable,
                                             GError        **error);
HVK_AVAILABLE_IN_ALL
gboolean        hvk_registry_append_device      (HvkRegistry     *self,
                                                 HvkBuildContext *ctx,
                                                 HvkDevice       *device,
                                                 HvkCmdline      *cmdline,
                                                 GError         **error);
HVK_AVAILABLE_IN_ALL
GPtrArray      *hvk_registry_build_kernel_params (HvkRegistry     *self,
                                                  HvkBuildContext *ctx,
                                                  GError         **error);

G_END_DECLS
