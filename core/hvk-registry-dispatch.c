/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-hypervisor-private.h"
#include "hvk-registry-private.h"

/* What the registry does with what plugins registered: creates
 * hypervisors, dispatches device appenders and hotplug handlers, composes
 * kernel parameters from the policies. */

/**
 * hvk_registry_create_hypervisor:
 * @self: a #HvkRegistry
 * @config: a configuration; its backend selects the implementation
 * @error: return location for an error
 *
 * Creates an instance of the backend @config selects.  The VM itself is
 * not created: call hvk_hypervisor_create_vm() next.
 *
 * Returns: (transfer full): a new hypervisor, or %NULL with @error set:
 *   %HVK_ERROR_NOT_FOUND `unknown backend 'foo' (known: mock, qemu)` when
 *   no plugin registered that backend
 */
HvkHypervisor *
hvk_registry_create_hypervisor (HvkRegistry  *self,
                                HvkConfig    *config,
                                GError      **error)
{
  const char *backend;
  GType type = G_TYPE_INVALID;
  HvkHypervisor *hypervisor;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (HVK_IS_CONFIG (config), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  backend = hvk_config_get_backend (config);
  if (backend == NULL || *backend == '\0')
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: no backend selected ([hypervisor] backend=)",
                   hvk_config_get_source (config)
                   ? hvk_config_get_source (config) : "configuration");
      return NULL;
    }

  hvk_registry_ensure_loaded (self, HVK_REGISTRY_NEED_BACKEND, backend);
  if (g_atomic_int_get (&self->n_pending) > 0)
    {
      gboolean known;

      g_mutex_lock (&self->lock);
      known = hvk_registry_find_backend (self, backend) != NULL;
      g_mutex_unlock (&self->lock);
      /* The error lists every backend: load them all. */
      if (!known)
        hvk_registry_ensure_loaded (self, HVK_REGISTRY_NEED_ALL, NULL);
    }

  g_mutex_lock (&self->lock);
  {
    HvkBackendInfo *info = hvk_registry_find_backend (self, backend);

    if (info != NULL)
      type = info->type;
    else
      {
        g_autoptr(GString) known = g_string_new (NULL);

        for (guint i = 0; i < self->backends.live->len; i++)
          {
            HvkBackendInfo *other = g_ptr_array_index (self->backends.live, i);

            if (known->len > 0)
              g_string_append (known, ", ");
            g_string_append (known, other->name);
          }
        g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                     "unknown backend '%s' (known: %s)", backend,
                     known->len > 0 ? known->str : "none");
      }
  }
  g_mutex_unlock (&self->lock);
  if (type == G_TYPE_INVALID)
    return NULL;

  hypervisor = HVK_HYPERVISOR (g_object_new (type, "registry", self, NULL));
  hvk_hypervisor_set_backend_name (hypervisor, backend);
  return hypervisor;
}

/**
 * hvk_registry_has_device_appender:
 * @self: a #HvkRegistry
 * @backend: a backend name
 * @kind: a device kind name
 *
 * Tells whether a device appender is registered for @kind and @backend,
 * that is whether @backend can cold-plug devices of @kind.
 *
 * Returns: whether some plugin expresses devices of @kind for @backend
 */
gboolean
hvk_registry_has_device_appender (HvkRegistry *self,
                                  const char  *backend,
                                  const char  *kind)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), FALSE);
  g_return_val_if_fail (backend != NULL, FALSE);
  g_return_val_if_fail (kind != NULL, FALSE);

  hvk_registry_ensure_loaded (self, HVK_REGISTRY_NEED_BACKEND, backend);
  locker = g_mutex_locker_new (&self->lock);
  return hvk_registry_find_appender (self, backend, kind) != NULL;
}

/* The handler registered in @table for (@backend, kind of @device), after
 * loading what @backend needs; FALSE with NOT_SUPPORTED ("backend 'B'
 * @missing 'KIND' (device 'ID')") when there is none. */
static gboolean
lookup_kind_handler (HvkRegistry  *self,
                     Table        *table,
                     const char   *backend,
                     HvkDevice    *device,
                     const char   *missing,
                     GCallback    *func,
                     gpointer     *user_data,
                     GError      **error)
{
  const char *kind = hvk_device_get_kind_name (device);
  AppenderEntry *entry;

  hvk_registry_ensure_loaded (self, HVK_REGISTRY_NEED_BACKEND, backend);
  g_mutex_lock (&self->lock);
  entry = hvk_registry_find_kind_handler (table, backend, kind);
  *func = entry != NULL ? entry->func : NULL;
  *user_data = entry != NULL ? entry->user_data : NULL;
  g_mutex_unlock (&self->lock);

  if (*func != NULL)
    return TRUE;
  g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED, "backend '%s' %s '%s' (device '%s')",
               backend, missing, kind, hvk_device_get_id (device));
  return FALSE;
}

/* A handler that failed: its error, or one saying it gave none. */
static gboolean
kind_handler_failed (const char *what,
                     const char *backend,
                     HvkDevice  *device,
                     GError     *handler_error,
                     GError    **error)
{
  if (handler_error == NULL)
    g_set_error (&handler_error, HVK_ERROR, HVK_ERROR_FAILED,
                 "backend '%s': the %s for device kind '%s' failed on device '%s' without saying why",
                 backend, what, hvk_device_get_kind_name (device), hvk_device_get_id (device));
  g_propagate_error (error, handler_error);
  return FALSE;
}

/**
 * hvk_registry_append_device: (skip)
 * @self: a #HvkRegistry
 * @ctx: the build context; its backend selects the appender
 * @device: the device
 * @cmdline: where the appender adds the device's arguments
 * @error: return location for an error
 *
 * Expresses @device on @cmdline with the appender registered for
 * (backend of @ctx, kind of @device) with the highest priority, the first
 * registered among equals.
 *
 * Returns: %TRUE on success; %FALSE with @error set: the appender's
 *   error, or %HVK_ERROR_NOT_SUPPORTED `backend 'acrn' has no appender for
 *   device kind 'vsock' (device 'v0')`
 */
gboolean
hvk_registry_append_device (HvkRegistry      *self,
                            HvkBuildContext  *ctx,
                            HvkDevice        *device,
                            HvkCmdline       *cmdline,
                            GError          **error)
{
  const char *backend;
  GCallback func = NULL;
  gpointer user_data = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), FALSE);
  g_return_val_if_fail (ctx != NULL, FALSE);
  g_return_val_if_fail (HVK_IS_DEVICE (device), FALSE);
  g_return_val_if_fail (HVK_IS_CMDLINE (cmdline), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  backend = hvk_build_context_get_backend (ctx);
  if (!lookup_kind_handler (self, &self->appenders, backend, device,
                            "has no appender for device kind",
                            &func, &user_data, error))
    return FALSE;

  /* Outside the lock: an appender may look things up in the registry. */
  if (!((HvkDeviceAppendFunc) func) (ctx, device, cmdline, user_data, &local_error))
    return kind_handler_failed ("appender", backend, device, g_steal_pointer (&local_error), error);
  return TRUE;
}

/**
 * hvk_registry_has_hotplug_handler:
 * @self: a #HvkRegistry
 * @backend: a backend name
 * @kind: a device kind name
 *
 * Tells whether a hotplug handler is registered for @kind and @backend.
 *
 * Returns: whether some plugin hot-plugs devices of @kind into VMs of
 *   @backend
 */
gboolean
hvk_registry_has_hotplug_handler (HvkRegistry *self,
                                  const char  *backend,
                                  const char  *kind)
{
  g_autoptr(GMutexLocker) locker = NULL;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), FALSE);
  g_return_val_if_fail (backend != NULL, FALSE);
  g_return_val_if_fail (kind != NULL, FALSE);

  hvk_registry_ensure_loaded (self, HVK_REGISTRY_NEED_BACKEND, backend);
  locker = g_mutex_locker_new (&self->lock);
  return hvk_registry_find_kind_handler (&self->hotplug, backend, kind) != NULL;
}

/**
 * hvk_registry_hotplug_device: (skip)
 * @self: a #HvkRegistry
 * @backend: the backend of @hypervisor
 * @hypervisor: a running VM of @backend
 * @device: the device, validated
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Adds @device to @hypervisor with the hotplug handler registered for
 * (@backend, kind of @device) with the highest priority, the first
 * registered among equals.  A backend calls this from its
 * hotplug_add_device once it has checked what holds for every kind (the
 * VM's state, that the id is free), so that a plugin can make a kind
 * hot-pluggable without the backend naming it.
 *
 * Returns: %TRUE on success; %FALSE with @error set: the handler's
 *   error, or %HVK_ERROR_NOT_SUPPORTED `backend 'qemu' cannot hotplug
 *   devices of kind 'rng' (device 'r0')`
 */
gboolean
hvk_registry_hotplug_device (HvkRegistry    *self,
                             const char     *backend,
                             HvkHypervisor  *hypervisor,
                             HvkDevice      *device,
                             GCancellable   *cancellable,
                             GError        **error)
{
  GCallback func = NULL;
  gpointer user_data = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), FALSE);
  g_return_val_if_fail (backend != NULL, FALSE);
  g_return_val_if_fail (HVK_IS_HYPERVISOR (hypervisor), FALSE);
  g_return_val_if_fail (HVK_IS_DEVICE (device), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!lookup_kind_handler (self, &self->hotplug, backend, device,
                            "cannot hotplug devices of kind",
                            &func, &user_data, error))
    return FALSE;

  /* Outside the lock: a handler may look things up in the registry. */
  if (!((HvkHotplugFunc) func) (hypervisor, device, cancellable, user_data, &local_error))
    return kind_handler_failed ("hotplug handler", backend, device,
                                g_steal_pointer (&local_error), error);
  return TRUE;
}

static int
compare_policies (gconstpointer a,
                  gconstpointer b)
{
  const PolicyEntry *pa = *(PolicyEntry * const *) a;
  const PolicyEntry *pb = *(PolicyEntry * const *) b;

  if (pa->phase != pb->phase)
    return pa->phase < pb->phase ? -1 : 1;
  if (pa->priority != pb->priority)
    return pa->priority > pb->priority ? -1 : 1;
  return pa->seq < pb->seq ? -1 : (pa->seq > pb->seq ? 1 : 0);
}

static void
append_copies (GPtrArray *params,
               GPtrArray *other)
{
  for (guint i = 0; other != NULL && i < other->len; i++)
    g_ptr_array_add (params, hvk_param_copy (g_ptr_array_index (other, i)));
}

/**
 * hvk_registry_build_kernel_params: (skip)
 * @self: a #HvkRegistry
 * @ctx: the build context: its backend selects the policies, its config
 *   gives the user's parameters
 * @error: return location for an error
 *
 * Composes the guest kernel command line.  The phases run in the order of
 * #HvkKernelParamPhase:
 *
 * 1. %HVK_KERNEL_PARAM_PHASE_BASE: the backend's base list;
 * 2. %HVK_KERNEL_PARAM_PHASE_DEVICES: what the device appenders added with
 *    hvk_build_context_add_kernel_param(), in device order;
 * 3. %HVK_KERNEL_PARAM_PHASE_DEBUG: `quiet` or `debug` and friends;
 * 4. %HVK_KERNEL_PARAM_PHASE_DEFAULTS: backend defaults (`panic=1`);
 * 5. %HVK_KERNEL_PARAM_PHASE_MAX_CPUS: `nr_cpus=` / `maxcpus=`;
 * 6. %HVK_KERNEL_PARAM_PHASE_OTHER: other policies;
 * 7. %HVK_KERNEL_PARAM_PHASE_USER: the configuration's `kernel_params`,
 *    last so that they win.
 *
 * Within a phase, the policies registered for the context's backend and
 * those registered for every backend run together, by descending
 * priority, then in registration order.  Each policy appends to the list
 * built so far.
 *
 * Returns: (transfer full) (element-type HvkParam): a new list of
 *   parameters (copies), or %NULL with @error set if a policy failed
 */
GPtrArray *
hvk_registry_build_kernel_params (HvkRegistry      *self,
                                  HvkBuildContext  *ctx,
                                  GError          **error)
{
  g_autoptr(GPtrArray) policies = NULL;
  g_autoptr(GPtrArray) params = NULL;
  const char *backend;
  HvkConfig *config;
  guint next = 0;

  g_return_val_if_fail (HVK_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (ctx != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  backend = hvk_build_context_get_backend (ctx);
  config = hvk_build_context_get_config (ctx);

  hvk_registry_ensure_loaded (self, HVK_REGISTRY_NEED_BACKEND, backend);

  /* Snapshot the matching policies (copies), so they run unlocked. */
  policies = g_ptr_array_new_with_free_func (g_free);
  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->policies.live->len; i++)
    {
      PolicyEntry *entry = g_ptr_array_index (self->policies.live, i);

      if (entry->backend == NULL || g_str_equal (entry->backend, backend))
        {
          PolicyEntry *copy = g_memdup2 (entry, sizeof *entry);

          copy->backend = NULL;  /* not needed, not owned */
          /* The table is in scan order (see table_add()). */
          copy->seq = i;
          g_ptr_array_add (policies, copy);
        }
    }
  g_mutex_unlock (&self->lock);
  g_ptr_array_sort (policies, compare_policies);

  params = hvk_params_new ();
  for (int phase = HVK_KERNEL_PARAM_PHASE_BASE;
       phase <= HVK_KERNEL_PARAM_PHASE_USER; phase++)
    {
      if (phase == HVK_KERNEL_PARAM_PHASE_DEVICES)
        {
          append_copies (params, hvk_build_context_get_device_kernel_params (ctx));
          continue;
        }
      if (phase == HVK_KERNEL_PARAM_PHASE_USER)
        {
          if (config != NULL)
            append_copies (params, hvk_config_get_kernel_params (config));
          continue;
        }

      for (; next < policies->len; next++)
        {
          PolicyEntry *policy = g_ptr_array_index (policies, next);
          g_autoptr(GError) local_error = NULL;

          if ((int) policy->phase != phase)
            break;
          if (!policy->func (ctx, params, policy->user_data, &local_error))
            {
              if (local_error == NULL)
                g_set_error (&local_error, HVK_ERROR, HVK_ERROR_FAILED,
                             "backend '%s': a kernel-param policy failed without saying why",
                             backend);
              g_propagate_error (error, g_steal_pointer (&local_error));
              return NULL;
            }
        }
    }

  return g_steal_pointer (&params);
}
