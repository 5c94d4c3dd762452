/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#include <glib-object.h>
#include <hvkit/hvk-visibility.h>
#include <hvkit/hvk-version.h>
#include <hvkit/hvk-capabilities.h>
#include <hvkit/hvk-config.h>
#include <hvkit/hvk-device.h>
#include <hvkit/hvk-cmdline.h>
#include <hvkit/hvk-build-context.h>
#include <hvkit/hvk-hypervisor.h>

G_BEGIN_DECLS

/**
 * HvkPlugin:
 *
 * A loaded plugin: a shared object (or a static descriptor) whose
 * #HvkPluginDesc init function registered backends, device kinds, device
 * appenders, hotplug handlers, config keys and kernel-parameter policies
 * with the `hvk_plugin_register_*()` functions.  The registry creates and
 * owns it; see the plugin author's guide.
 */
#define HVK_TYPE_PLUGIN (hvk_plugin_get_type ())
HVK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HvkPlugin, hvk_plugin, HVK, PLUGIN, GObject)

/**
 * HvkPluginInitFunc:
 * @plugin: the plugin being loaded
 * @error: return location for an error
 *
 * A plugin's entry point: registers backends, device kinds, device
 * appenders, hotplug handlers, config keys and kernel-param policies.  Returning %FALSE
 * refuses the plugin; whatever it registered is dropped.
 *
 * Returns: %TRUE on success
 */
typedef gboolean (*HvkPluginInitFunc) (HvkPlugin *plugin,
                                       GError   **error);

/**
 * HvkPluginDesc:
 * @abi_version: %HVK_PLUGIN_ABI_VERSION at build time
 * @name: unique plugin name (`[a-z0-9_-]+`)
 * @description: one line
 * @version: the plugin's version
 * @license: SPDX licence identifier
 * @init: the entry point
 *
 * The descriptor every plugin exports as the symbol `hvk_plugin_desc`,
 * declared with HVK_PLUGIN_DEFINE().
 */
typedef struct {
  guint32            abi_version;
  const char        *name;
  const char        *description;
  const char        *version;
  const char        *license;
  HvkPluginInitFunc  init;
  /*< private >*/
  gpointer           _reserved[8];
} HvkPluginDesc;

/**
 * HVK_PLUGIN_DESC_SYMBOL:
 *
 * The name of the symbol the registry looks up in a plugin.
 */
#define HVK_PLUGIN_DESC_SYMBOL "hvk_plugin_desc"

/**
 * HVK_PLUGIN_DEFINE:
 * @name: plugin name, a string literal
 * @description: one line
 * @version: plugin version string
 * @license: SPDX licence identifier
 * @init: a #HvkPluginInitFunc
 *
 * Declares the plugin descriptor.  Use once, in the plugin's entry file.
 */
#define HVK_PLUGIN_DEFINE(name, description, version, license, init) \
  G_BEGIN_DECLS                                                        \
  HVK_EXPORT const HvkPluginDesc hvk_plugin_desc;                      \
  const HvkPluginDesc hvk_plugin_desc = {                              \
    HVK_PLUGIN_ABI_VERSION, name, description, version, license, init, \
    { NULL, }                                                          \
  };                                                                   \
  G_END_DECLS

/**
 * HvkKernelParamPhase:
 * @HVK_KERNEL_PARAM_PHASE_BASE: the backend's (architecture's) base list,
 *   e.g. QEMU x86_64's `tsc=reliable no_timer_check …`
 * @HVK_KERNEL_PARAM_PHASE_DEVICES: parameters device appenders add, in
 *   device order (the console's `console=hvc0 console=hvc1`, the image's
 *   root parameters); not registrable, filled through
 *   hvk_build_context_add_kernel_param()
 * @HVK_KERNEL_PARAM_PHASE_DEBUG: `quiet` or `debug`, plus the systemd
 *   parameters when an image is used
 * @HVK_KERNEL_PARAM_PHASE_DEFAULTS: backend defaults (`panic=1`)
 * @HVK_KERNEL_PARAM_PHASE_MAX_CPUS: the max-CPU parameter (`nr_cpus=` for
 *   QEMU, `maxcpus=` for ACRN)
 * @HVK_KERNEL_PARAM_PHASE_OTHER: other policies, any plugin, by priority
 * @HVK_KERNEL_PARAM_PHASE_USER: the user's `kernel_params`; last, so they
 *   win (the kernel honours the last value); not registrable
 *
 * The composition order of a guest kernel command line, which is Kata's:
 * phases run in this order; within a phase, policies run by descending
 * priority, then in registration order.  Policies registered for one
 * backend and for all backends (%NULL) mix by priority.
 */
typedef enum {
  HVK_KERNEL_PARAM_PHASE_BASE,
  HVK_KERNEL_PARAM_PHASE_DEVICES,
  HVK_KERNEL_PARAM_PHASE_DEBUG,
  HVK_KERNEL_PARAM_PHASE_DEFAULTS,
  HVK_KERNEL_PARAM_PHASE_MAX_CPUS,
  HVK_KERNEL_PARAM_PHASE_OTHER,
  HVK_KERNEL_PARAM_PHASE_USER,
} HvkKernelParamPhase;

/**
 * HvkKernelParamFunc:
 * @ctx: the build context
 * @params: (element-type HvkParam): append to this list
 * @user_data: registration data
 * @error: return location for an error
 *
 * A kernel-parameter policy.
 *
 * Returns: %TRUE on success
 */
typedef gboolean (*HvkKernelParamFunc) (HvkBuildContext *ctx,
                                        GPtrArray       *params,
                                        gpointer         user_data,
                                        GError         **error);

/**
 * HvkDeviceAppendFunc:
 * @ctx: the build context
 * @device: the device to express
 * @cmdline: append the device's arguments here
 * @user_data: registration data
 * @error: return location for an error
 *
 * Turns one device into command-line arguments (and, through
 * hvk_cmdline_take_fd(), descriptors to pass at launch).
 *
 * Returns: %TRUE on success
 */
typedef gboolean (*HvkDeviceAppendFunc) (HvkBuildContext *ctx,
                                         HvkDevice       *device,
                                         HvkCmdline      *cmdline,
                                         gpointer         user_data,
                                         GError         **error);

/**
 * HvkHotplugFunc:
 * @hypervisor: the running VM, of the backend the handler was registered
 *   for
 * @device: the device to add, validated (hvk_device_validate())
 * @cancellable: (nullable): a #GCancellable
 * @user_data: registration data
 * @error: return location for an error
 *
 * Adds one device of a kind to a running VM.  The backend has checked
 * what holds for every kind (the VM runs, the device id is free) before
 * hvk_registry_hotplug_device() calls this; a handler adds what its
 * kind needs (device_add and the backend object for QEMU).
 *
 * Returns: %TRUE on success
 */
typedef gboolean (*HvkHotplugFunc) (HvkHypervisor  *hypervisor,
                                    HvkDevice      *device,
                                    GCancellable   *cancellable,
                                    gpointer        user_data,
                                    GError        **error);

HVK_AVAILABLE_IN_ALL
const char *hvk_plugin_get_name        (HvkPlugin *self);
HVK_AVAILABLE_IN_ALL
const char *hvk_plugin_get_description (HvkPlugin *self);
HVK_AVAILABLE_IN_ALL
const char *hvk_plugin_get_version     (HvkPlugin *self);
HVK_AVAILABLE_IN_ALL
const char *hvk_plugin_get_license     (HvkPlugin *self);
HVK_AVAILABLE_IN_ALL
const char *hvk_plugin_get_filename    (HvkPlugin *self);
HVK_AVAILABLE_IN_ALL
HvkRegistry *hvk_plugin_get_registry   (HvkPlugin *self);

HVK_AVAILABLE_IN_ALL
gboolean hvk_plugin_register_backend         (HvkPlugin          *self,
                                              const char         *name,
                                              GType               type,
                                              HvkCapabilities     caps,
                                              GError            **error);
HVK_AVAILABLE_IN_ALL
gboolean hvk_plugin_register_device_kind     (HvkPlugin          *self,
                                              HvkDeviceKind      *kind,
                                              GError            **error);
HVK_AVAILABLE_IN_ALL
gboolean hvk_plugin_register_device_appender (HvkPlugin          *self,
                                              const char         *backend,
                                              const char         *kind,
                                              int                 priority,
                                              HvkDeviceAppendFunc func,
                                              gpointer            user_data,
                                              GError            **error);
HVK_AVAILABLE_IN_ALL
gboolean hvk_plugin_register_hotplug_handler (HvkPlugin          *self,
                                              const char         *backend,
                                              const char         *kind,
                                              int                 priority,
                                              HvkHotplugFunc      func,
                                              gpointer            user_data,
                                              GError            **error);
HVK_AVAILABLE_IN_ALL
gboolean hvk_plugin_register_kernel_param_policy (HvkPlugin          *self,
                                                  const char         *backend,
                                                  HvkKernelParamPhase phase,
                                                  int                 priority,
                                                  HvkKernelParamFunc  func,
                                                  gpointer            user_data,
                                                  GError            **error);
HVK_AVAILABLE_IN_ALL
gboolean hvk_plugin_register_config_keys     (HvkPlugin          *self,
                                              const char         *backend,
                                              const HvkConfigKey *keys,
                                              guint               n_keys,
                                              GError            **error);

/**
 * HvkRefusedKey:
 * @name: a core configuration key (see hvk_config_get_core_keys())
 * @reason: why the backend cannot honour it, for the error and hvkit.conf(5)
 *
 * A core key a backend refuses (hvk_plugin_register_refused_keys()).
 */
typedef struct {
  const char *name;
  const char *reason;
} HvkRefusedKey;

HVK_AVAILABLE_IN_ALL
gboolean hvk_plugin_register_refused_keys    (HvkPlugin           *self,
                                              const char          *backend,
                                              const HvkRefusedKey *keys,
                                              guint                n_keys,
                                              GError             **error);

G_END_DECLS
