/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include "hvk-registry-private.h"

/**
 * SECTION:hvk-plugin
 * @short_description: a loaded plugin and what it registers
 *
 * A plugin is a shared object exporting one #HvkPluginDesc, declared with
 * HVK_PLUGIN_DEFINE().  The #HvkRegistry opens it, checks the descriptor
 * and calls its init function with the #HvkPlugin, through which the
 * plugin registers backends, device kinds, device appenders, config keys
 * and kernel-param policies.  Every registration is validated at once and
 * records the plugin as its owner; if init fails, all of them are dropped.
 */

struct _HvkPlugin
{
  GObject parent_instance;

  HvkRegistry *registry;  /* weak: the registry owns its plugins */
  GModule *module;        /* NULL for a static plugin */
  char *name;
  char *description;
  char *version;
  char *license;
  char *filename;
  guint rank;             /* scan order; 0 for none */
};

G_DEFINE_FINAL_TYPE (HvkPlugin, hvk_plugin, G_TYPE_OBJECT)

static void
hvk_plugin_finalize (GObject *object)
{
  HvkPlugin *self = HVK_PLUGIN (object);

  /* A plugin whose init ran is resident, so closing only drops our
   * reference; one refused earlier is really unloaded here. */
  if (self->module != NULL)
    g_module_close (self->module);
  if (self->registry != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->registry),
                                  (gpointer *) &self->registry);
  g_free (self->name);
  g_free (self->description);
  g_free (self->version);
  g_free (self->license);
  g_free (self->filename);

  G_OBJECT_CLASS (hvk_plugin_parent_class)->finalize (object);
}

static void
hvk_plugin_class_init (HvkPluginClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hvk_plugin_finalize;
}

static void
hvk_plugin_init (HvkPlugin *self)
{
}

HvkPlugin *
hvk_plugin_new_internal (HvkRegistry         *registry,
                         const HvkPluginDesc *desc,
                         const char          *filename,
                         GModule             *module)
{
  HvkPlugin *self = g_object_new (HVK_TYPE_PLUGIN, NULL);

  /* Weak, so that a plugin outliving its registry (a caller kept a
   * reference) answers NULL instead of a dangling pointer. */
  self->registry = registry;
  g_object_add_weak_pointer (G_OBJECT (registry), (gpointer *) &self->registry);
  self->module = module;
  self->name = g_strdup (desc->name);
  self->description = g_strdup (desc->description ? desc->description : "");
  self->version = g_strdup (desc->version ? desc->version : "");
  self->license = g_strdup (desc->license ? desc->license : "");
  self->filename = g_strdup (filename);

  return self;
}

GModule *
hvk_plugin_get_module (HvkPlugin *self)
{
  return self->module;
}

void
hvk_plugin_set_rank (HvkPlugin *self,
                     guint      rank)
{
  self->rank = rank;
}

guint
hvk_plugin_get_rank (HvkPlugin *self)
{
  return self->rank;
}

/**
 * hvk_plugin_get_name:
 * @self: a #HvkPlugin
 *
 * Gets the plugin's name.
 *
 * Returns: the plugin's unique name, from its descriptor
 */
const char *
hvk_plugin_get_name (HvkPlugin *self)
{
  g_return_val_if_fail (HVK_IS_PLUGIN (self), NULL);
  return self->name;
}

/**
 * hvk_plugin_get_description:
 * @self: a #HvkPlugin
 *
 * Gets the plugin's description, from its descriptor.
 *
 * Returns: the one-line description (empty if the descriptor had none)
 */
const char *
hvk_plugin_get_description (HvkPlugin *self)
{
  g_return_val_if_fail (HVK_IS_PLUGIN (self), NULL);
  return self->description;
}

/**
 * hvk_plugin_get_version:
 * @self: a #HvkPlugin
 *
 * Gets the plugin's version, from its descriptor.
 *
 * Returns: the plugin's version string (empty if the descriptor had none)
 */
const char *
hvk_plugin_get_version (HvkPlugin *self)
{
  g_return_val_if_fail (HVK_IS_PLUGIN (self), NULL);
  return self->version;
}

/**
 * hvk_plugin_get_license:
 * @self: a #HvkPlugin
 *
 * Gets the plugin's licence, from its descriptor.
 *
 * Returns: the SPDX licence identifier (empty if the descriptor had none)
 */
const char *
hvk_plugin_get_license (HvkPlugin *self)
{
  g_return_val_if_fail (HVK_IS_PLUGIN (self), NULL);
  return self->license;
}

/**
 * hvk_plugin_get_filename:
 * @self: a #HvkPlugin
 *
 * Gets the shared object the plugin was loaded from.
 *
 * Returns: (nullable): the file the plugin was loaded from, as given to
 *   hvk_registry_load_plugin(), or %NULL for a static plugin
 */
const char *
hvk_plugin_get_filename (HvkPlugin *self)
{
  g_return_val_if_fail (HVK_IS_PLUGIN (self), NULL);
  return self->filename;
}

/**
 * hvk_plugin_get_registry:
 * @self: a #HvkPlugin
 *
 * Gets the registry the plugin belongs to.
 *
 * Returns: (transfer none) (nullable): the registry that loaded @self, or
 *   %NULL once that registry is gone
 */
HvkRegistry *
hvk_plugin_get_registry (HvkPlugin *self)
{
  g_return_val_if_fail (HVK_IS_PLUGIN (self), NULL);
  return self->registry;
}

/**
 * hvk_plugin_register_backend: (skip)
 * @self: a #HvkPlugin
 * @name: the backend name (`[a-z0-9_-]+`), unique in the registry
 * @type: an instantiatable #GType implementing #HvkHypervisor
 * @caps: what the backend can do
 * @error: return location for an error
 *
 * Registers a backend: hvk_registry_create_hypervisor() instantiates
 * @type for configurations that select @name.
 *
 * Returns: %TRUE on success; %FALSE with @error set if @name is malformed
 *   or taken, or @type does not implement #HvkHypervisor
 */
gboolean
hvk_plugin_register_backend (HvkPlugin       *self,
                             const char      *name,
                             GType            type,
                             HvkCapabilities  caps,
                             GError         **error)
{
  g_return_val_if_fail (HVK_IS_PLUGIN (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return hvk_registry_add_backend (self->registry, self, name, type, caps,
                                   error);
}

/**
 * hvk_plugin_register_device_kind: (skip)
 * @self: a #HvkPlugin
 * @kind: the kind to add; the registry takes a reference
 * @error: return location for an error
 *
 * Adds a device kind (its properties are declared by @kind).  Kinds
 * registered here may be used by appenders registered afterwards, by this
 * plugin or a later one.
 *
 * Returns: %TRUE on success; %FALSE with @error set if the name is taken
 */
gboolean
hvk_plugin_register_device_kind (HvkPlugin      *self,
                                 HvkDeviceKind  *kind,
                                 GError        **error)
{
  g_return_val_if_fail (HVK_IS_PLUGIN (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return hvk_registry_add_device_kind (self->registry, self, kind, error);
}

/**
 * hvk_plugin_register_device_appender: (skip)
 * @self: a #HvkPlugin
 * @backend: the backend name; it need not be registered yet, so a plugin
 *   may extend another plugin's backend whatever the load order
 * @kind: a device kind, standard or registered earlier
 * @priority: higher wins when several appenders handle (@backend, @kind)
 * @func: (scope forever): the appender
 * @user_data: passed to @func
 * @error: return location for an error
 *
 * Registers the function that expresses devices of @kind on the command
 * line of @backend.  hvk_registry_append_device() uses the appender with
 * the highest priority, then the first registered.
 *
 * Returns: %TRUE on success; %FALSE with @error set if @backend is
 *   malformed, @kind unknown, @func %NULL, or the same (@backend, @kind,
 *   @priority) is already registered
 */
gboolean
hvk_plugin_register_device_appender (HvkPlugin           *self,
                                     const char          *backend,
                                     const char          *kind,
                                     int                  priority,
                                     HvkDeviceAppendFunc  func,
                                     gpointer             user_data,
                                     GError             **error)
{
  g_return_val_if_fail (HVK_IS_PLUGIN (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return hvk_registry_add_device_appender (self->registry, self, backend,
                                           kind, priority, func, user_data,
                                           error);
}

/**
 * hvk_plugin_register_hotplug_handler: (skip)
 * @self: the plugin being initialised
 * @backend: the backend whose running VMs @func adds devices to (it
 *   need not be registered yet)
 * @kind: a registered device kind
 * @priority: higher wins when several handlers serve (@backend, @kind)
 * @func: (scope forever): the handler
 * @user_data: passed to @func
 * @error: return location for an error
 *
 * Registers the function that hot-plugs devices of @kind into running
 * VMs of @backend, next to the appender that cold-plugs them (the two
 * should build the device's properties in one place).  A backend's
 * hotplug_add_device looks the handler up with
 * hvk_registry_hotplug_device() rather than naming kinds, so a plugin can
 * make another kind hot-pluggable, or replace a handler at a higher
 * priority.  Adding this function left #HvkPluginDesc unchanged: plugins
 * built before it load as before (%HVK_PLUGIN_ABI_VERSION is unchanged).
 *
 * Returns: %TRUE on success; %FALSE with @error set if @backend is
 *   malformed, @kind unknown, @func %NULL, or the same (@backend, @kind,
 *   @priority) is already registered
 */
gboolean
hvk_plugin_register_hotplug_handler (HvkPlugin       *self,
                                     const char      *backend,
                                     const char      *kind,
                                     int              priority,
                                     HvkHotplugFunc   func,
                                     gpointer         user_data,
                                     GError         **error)
{
  g_return_val_if_fail (HVK_IS_PLUGIN (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return hvk_registry_add_hotplug_handler (self->registry, self, backend,
                                           kind, priority, func, user_data,
                                           error);
}

/**
 * hvk_plugin_register_kernel_param_policy: (skip)
 * @self: a #HvkPlugin
 * @backend: (nullable): the backend it applies to, or %NULL for all
 * @phase: %HVK_KERNEL_PARAM_PHASE_BASE, %HVK_KERNEL_PARAM_PHASE_DEBUG,
 *   %HVK_KERNEL_PARAM_PHASE_DEFAULTS, %HVK_KERNEL_PARAM_PHASE_MAX_CPUS or
 *   %HVK_KERNEL_PARAM_PHASE_OTHER (the devices and user phases are filled
 *   by the core)
 * @priority: order within the phase, highest first
 * @func: (scope forever): the policy
 * @user_data: passed to @func
 * @error: return location for an error
 *
 * Registers a kernel-parameter policy; see #HvkKernelParamPhase and
 * hvk_registry_build_kernel_params() for the composition order.
 *
 * Returns: %TRUE on success; %FALSE with @error set if @phase is not
 *   registrable, @backend malformed or @func %NULL
 */
gboolean
hvk_plugin_register_kernel_param_policy (HvkPlugin           *self,
                                         const char          *backend,
                                         HvkKernelParamPhase  phase,
                                         int                  priority,
                                         HvkKernelParamFunc   func,
                                         gpointer             user_data,
                                         GError             **error)
{
  g_return_val_if_fail (HVK_IS_PLUGIN (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return hvk_registry_add_kernel_param_policy (self->registry, self, backend,
                                               phase, priority, func,
                                               user_data, error);
}

/**
 * hvk_plugin_register_refused_keys: (skip)
 * @self: a #HvkPlugin
 * @backend: the backend that refuses the keys
 * @keys: (array length=n_keys): the core keys and why; copied
 * @n_keys: the number of @keys
 * @error: return location for an error
 *
 * Declares core keys @backend cannot honour.  A configuration of @backend
 * that sets one of them to anything but its default fails
 * hvk_config_validate() with %HVK_ERROR_NOT_SUPPORTED naming the key, the
 * backend and the reason, so no key is ever accepted and ignored;
 * hvkit.conf(5) lists the refusals.
 *
 * Returns: %TRUE on success; %FALSE with @error set (and nothing
 *   registered) if a name is not a core key or a reason is missing
 */
gboolean
hvk_plugin_register_refused_keys (HvkPlugin           *self,
                                  const char          *backend,
                                  const HvkRefusedKey *keys,
                                  guint                n_keys,
                                  GError             **error)
{
  g_return_val_if_fail (HVK_IS_PLUGIN (self), FALSE);
  g_return_val_if_fail (keys != NULL || n_keys == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return hvk_registry_add_refused_keys (self->registry, self, backend, keys,
                                        n_keys, error);
}

/**
 * hvk_plugin_register_config_keys: (skip)
 * @self: a #HvkPlugin
 * @backend: the backend whose `[hypervisor.NAME]` group holds the keys
 * @keys: (array length=n_keys): the key descriptions; copied
 * @n_keys: the number of @keys
 * @error: return location for an error
 *
 * Declares extra configuration keys of @backend, found afterwards with
 * hvk_registry_lookup_config_key().
 *
 * Returns: %TRUE on success; %FALSE with @error set (and nothing
 *   registered) if a key is malformed, clashes with a core key or is
 *   already registered for @backend
 */
gboolean
hvk_plugin_register_config_keys (HvkPlugin          *self,
                                 const char         *backend,
                                 const HvkConfigKey *keys,
                                 guint               n_keys,
                                 GError            **error)
{
  g_return_val_if_fail (HVK_IS_PLUGIN (self), FALSE);
  g_return_val_if_fail (keys != NULL || n_keys == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return hvk_registry_add_config_keys (self->registry, self, backend, keys,
                                       n_keys, error);
}
