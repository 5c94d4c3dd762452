/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include "hvk-hypervisor-private.h"

/**
 * SECTION:hvk-hypervisor
 * @short_description: the lifecycle of one VM, whatever the backend
 *
 * #HvkHypervisor is the interface every backend implements, after Kata's
 * `Hypervisor`.  Get one from hvk_registry_create_hypervisor().  Each
 * wrapper checks its arguments and dispatches; an operation the backend
 * leaves out fails with %HVK_ERROR_NOT_SUPPORTED, never a silent success.
 */

G_DEFINE_INTERFACE (HvkHypervisor, hvk_hypervisor, G_TYPE_OBJECT)

static GQuark origin_backend_quark;
static GQuark store_binding_quark;
static GQuark vm_id_quark;

typedef struct {
  char *store;
  char *id;
} StoreBinding;

static void
store_binding_free (gpointer data)
{
  StoreBinding *binding = data;

  g_free (binding->store);
  g_free (binding->id);
  g_free (binding);
}

static guint event_signal;

static void
hvk_hypervisor_default_init (HvkHypervisorInterface *iface)
{
  origin_backend_quark = g_quark_from_static_string ("hvk-hypervisor-backend");
  store_binding_quark = g_quark_from_static_string ("hvk-hypervisor-store");
  vm_id_quark = g_quark_from_static_string ("hvk-hypervisor-vm-id");

  /**
   * HvkHypervisor:registry:
   *
   * The registry that created the hypervisor, given at construction by
   * hvk_registry_create_hypervisor(): the backend looks device kinds and
   * appenders up in it, never in the default registry.  Every
   * implementation overrides it (g_object_class_override_property()) and
   * keeps a reference; it is %NULL only for an instance made directly
   * with g_object_new() (tests).
   */
  g_object_interface_install_property (iface,
                                       g_param_spec_object ("registry", NULL, NULL,
                                                            HVK_TYPE_REGISTRY,
                                                            G_PARAM_READWRITE
                                                            | G_PARAM_CONSTRUCT_ONLY
                                                            | G_PARAM_STATIC_STRINGS));

  /**
   * HvkHypervisor::event:
   * @self: the hypervisor
   * @name: the event: the VMM's (QEMU's `STOP`, `RESUME`, `SHUTDOWN`,
   *   `RESET`, `POWERDOWN`, `GUEST_PANICKED`, `DEVICE_DELETED`,
   *   `BLOCK_IO_ERROR`, `BALLOON_CHANGE` …) or hvkit's own `exited` (the
   *   VMM ended; @data has `how`, e.g. "exited with status 0")
   * @data: the event's data (an empty object when it has none)
   *
   * Emitted by hvk_hypervisor_follow_events() for each event of the VM,
   * in the thread that follows.  Detailed by the event's name: connect to
   * `event::STOP` for one kind only.
   */
  event_signal = g_signal_new ("event", G_TYPE_FROM_INTERFACE (iface),
                               G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED,
                               0, NULL, NULL, NULL, G_TYPE_NONE, 2,
                               G_TYPE_STRING, JSON_TYPE_OBJECT);
}

/**
 * hvk_hypervisor_emit_event: (skip)
 * @self: a #HvkHypervisor
 * @name: the event's name
 * @data: (nullable): its data (%NULL: an empty object)
 *
 * For backends: emits #HvkHypervisor::event, detailed by @name.
 */
void
hvk_hypervisor_emit_event (HvkHypervisor *self,
                           const char    *name,
                           JsonObject    *data)
{
  g_autoptr(JsonObject) empty = NULL;

  g_return_if_fail (HVK_IS_HYPERVISOR (self));
  g_return_if_fail (name != NULL);

  if (data == NULL)
    data = empty = json_object_new ();
  g_signal_emit (self, event_signal, g_quark_from_string (name), name, data);
}

/* The strings are a contract (state JSON, `hvkit status`). */
static const char * const vm_state_names[] = {
  [HVK_VM_STATE_NONE] = "none",
  [HVK_VM_STATE_CREATED] = "created",
  [HVK_VM_STATE_RUNNING] = "running",
  [HVK_VM_STATE_PAUSED] = "paused",
  [HVK_VM_STATE_STOPPED] = "stopped",
  [HVK_VM_STATE_STARTING] = "starting",
};

/**
 * hvk_vm_state_to_string:
 * @state: a #HvkVmState
 *
 * Gets the name of a VM state.
 *
 * Returns: the state's name (`running`, `paused` …)
 */
const char *
hvk_vm_state_to_string (HvkVmState state)
{
  if ((guint) state >= G_N_ELEMENTS (vm_state_names))
    return "unknown";
  return vm_state_names[state];
}

/**
 * hvk_vm_state_from_string:
 * @text: a state name
 * @state: (out): the state
 *
 * Parses the name of a VM state.
 *
 * Returns: %TRUE if @text names a state
 */
gboolean
hvk_vm_state_from_string (const char *text,
                          HvkVmState *state)
{
  g_return_val_if_fail (state != NULL, FALSE);

  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (vm_state_names); i++)
    {
      if (g_str_equal (text, vm_state_names[i]))
        {
          *state = (HvkVmState) i;
          return TRUE;
        }
    }
  return FALSE;
}

void
hvk_hypervisor_set_backend_name (HvkHypervisor *self,
                                 const char    *backend)
{
  g_return_if_fail (HVK_IS_HYPERVISOR (self));

  g_object_set_qdata_full (G_OBJECT (self), origin_backend_quark,
                           g_strdup (backend), g_free);
}

/**
 * hvk_hypervisor_get_backend_name:
 * @self: a #HvkHypervisor
 *
 * Gets the name of the backend the VM runs under.
 *
 * Returns: the backend name it was created for, or its type name
 */
const char *
hvk_hypervisor_get_backend_name (HvkHypervisor *self)
{
  const char *name;

  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), NULL);

  name = g_object_get_qdata (G_OBJECT (self), origin_backend_quark);
  return name ? name : G_OBJECT_TYPE_NAME (self);
}

/**
 * hvk_hypervisor_get_registry:
 * @self: a #HvkHypervisor
 *
 * The #HvkHypervisor:registry given at construction.
 *
 * Returns: (transfer none) (nullable): the registry that created @self
 */
HvkRegistry *
hvk_hypervisor_get_registry (HvkHypervisor *self)
{
  g_autoptr(HvkRegistry) registry = NULL;

  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), NULL);

  /* The implementation keeps its own reference: hand back a borrowed one. */
  g_object_get (self, "registry", &registry, NULL);
  return registry;
}

/**
 * hvk_hypervisor_bind_store:
 * @self: a #HvkHypervisor
 * @store: (nullable): the state dir (%NULL: hvk_vm_store_default_dir())
 * @id: the VM id
 *
 * Makes @self keep its record in @store: hvk_hypervisor_persist() writes
 * the VM's state file there.  hvk_vm_store_load_hypervisor() binds what it
 * loads; a caller that creates a VM binds it after create_vm() so that the
 * backend records the VM while it starts, before its VMM exists.
 */
void
hvk_hypervisor_bind_store (HvkHypervisor *self,
                           const char    *store,
                           const char    *id)
{
  StoreBinding *binding;

  g_return_if_fail (HVK_IS_HYPERVISOR (self));
  g_return_if_fail (id != NULL);

  binding = g_new0 (StoreBinding, 1);
  binding->store = store ? g_strdup (store) : hvk_vm_store_default_dir ();
  binding->id = g_strdup (id);
  g_object_set_qdata_full (G_OBJECT (self), store_binding_quark, binding,
                           store_binding_free);
}

/**
 * hvk_hypervisor_persist:
 * @self: a #HvkHypervisor
 * @error: return location for an error
 *
 * Writes the VM's record (hvk_vm_store_save_hypervisor()) to the store
 * @self is bound to; does nothing for an unbound hypervisor.  Backends call
 * it where a process dying next must still find the VM: before they spawn
 * a VMM, once its pids are known.
 *
 * Returns: %TRUE on success (or when unbound)
 */
gboolean
hvk_hypervisor_persist (HvkHypervisor *self,
                        GError       **error)
{
  StoreBinding *binding;

  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  binding = g_object_get_qdata (G_OBJECT (self), store_binding_quark);
  if (binding == NULL)
    return TRUE;
  hvk_debug_kill_point ("persist");
  return hvk_vm_store_save_hypervisor (binding->store, binding->id, self, error);
}

/* The lifecycle, once for every backend (documented with HvkVmState):
 * the states in which each operation is legal.  Backends may refuse more,
 * never allow more. */

#define S(state) (1u << HVK_VM_STATE_ ## state)

static const struct {
  const char *verb;
  guint       legal;
} transitions[] = {
  [HVK_HYPERVISOR_OP_CREATE] = { "create", S (NONE) },
  [HVK_HYPERVISOR_OP_START] = { "start", S (CREATED) },
  [HVK_HYPERVISOR_OP_STOP] = { "stop", S (CREATED) | S (STARTING) | S (RUNNING) | S (PAUSED) | S (STOPPED) },
  [HVK_HYPERVISOR_OP_PAUSE] = { "pause", S (RUNNING) },
  [HVK_HYPERVISOR_OP_RESUME] = { "resume", S (PAUSED) },
  [HVK_HYPERVISOR_OP_SAVE] = { "save", S (RUNNING) | S (PAUSED) },
  [HVK_HYPERVISOR_OP_ADD_DEVICE] = { "cold-plug a device into", S (CREATED) },
  [HVK_HYPERVISOR_OP_HOTPLUG_ADD] = { "hotplug a device into", S (RUNNING) },
  [HVK_HYPERVISOR_OP_HOTPLUG_REMOVE] = { "unplug a device from", S (RUNNING) },
  [HVK_HYPERVISOR_OP_RESIZE_MEMORY] = { "resize the memory of", S (RUNNING) },
  [HVK_HYPERVISOR_OP_RESIZE_VCPUS] = { "resize the vCPUs of", S (RUNNING) },
  /* The guest acts on them: it must be running. */
  [HVK_HYPERVISOR_OP_SHUTDOWN] = { "shut down", S (RUNNING) },
  [HVK_HYPERVISOR_OP_REBOOT] = { "reboot", S (RUNNING) },
  /* Not a transition: what create_vm() prepared, readable from then on. */
  [HVK_HYPERVISOR_OP_LAUNCH_COMMAND] = { "get the launch command of",
                          S (CREATED) | S (STARTING) | S (RUNNING) | S (PAUSED) | S (STOPPED) },
  /* Not a transition either: what a live VMM measures. */
  [HVK_HYPERVISOR_OP_STATS] = { "get the statistics of", S (RUNNING) | S (PAUSED) },
  /* A VM that already ended still says how. */
  [HVK_HYPERVISOR_OP_FOLLOW] = { "follow the events of", S (RUNNING) | S (PAUSED) | S (STOPPED) },
  /* QEMU takes a target while paused; the guest acts when it runs. */
  [HVK_HYPERVISOR_OP_BALLOON] = { "set or read the balloon of", S (RUNNING) | S (PAUSED) },
  [HVK_HYPERVISOR_OP_SAVE_TO_DIR] = { "save", S (RUNNING) | S (PAUSED) },
  /* In place of start_vm. */
  [HVK_HYPERVISOR_OP_RESTORE] = { "restore", S (CREATED) },
  /* A live change; QEMU's throttle groups change with the vCPUs paused. */
  [HVK_HYPERVISOR_OP_SET_IO_LIMITS] = { "change the I/O limits of", S (RUNNING) | S (PAUSED) },
  /* What the devices hold, from create_vm() on, while there is a VM. */
  [HVK_HYPERVISOR_OP_GET_IO_LIMITS] = { "get the I/O limits of",
                                        S (CREATED) | S (STARTING) | S (RUNNING) | S (PAUSED) },
};

#undef S

gboolean
hvk_hypervisor_check_operation (HvkHypervisor   *self,
                                HvkHypervisorOp  op,
                                GError         **error)
{
  HvkVmState state = hvk_hypervisor_get_state (self);
  StoreBinding *binding;
  const char *id;

  if ((guint) state < 32 && (transitions[op].legal & (1u << state)) != 0)
    return TRUE;
  binding = g_object_get_qdata (G_OBJECT (self), store_binding_quark);
  id = binding != NULL ? binding->id : g_object_get_qdata (G_OBJECT (self), vm_id_quark);
  /* A VM that stopped behind the caller's back (its VMM died): the
   * backend's check says how. */
  if (state == HVK_VM_STATE_STOPPED && HVK_HYPERVISOR_GET_IFACE (self)->check != NULL)
    {
      g_autoptr(GError) why = NULL;

      if (!HVK_HYPERVISOR_GET_IFACE (self)->check (self, &why) && why != NULL
          && !g_error_matches (why, HVK_ERROR, HVK_ERROR_STATE))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_STATE, "cannot %s VM '%s': it is stopped (%s)",
                       transitions[op].verb, id != NULL ? id : "(none)", why->message);
          return FALSE;
        }
    }
  g_set_error (error, HVK_ERROR, HVK_ERROR_STATE, "cannot %s VM '%s': it is %s",
               transitions[op].verb, id != NULL ? id : "(none)",
               state == HVK_VM_STATE_NONE ? "not created" : hvk_vm_state_to_string (state));
  return FALSE;
}

static gboolean
not_supported (HvkHypervisor *self,
               const char    *operation,
               GError       **error)
{
  g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
               "backend '%s' does not support %s",
               hvk_hypervisor_get_backend_name (self), operation);
  return FALSE;
}

#define IFACE(self) HVK_HYPERVISOR_GET_IFACE (self)

gboolean
hvk_hypervisor_not_supported (HvkHypervisor  *self,
                              const char     *operation,
                              GError        **error)
{
  return not_supported (self, operation, error);
}

const char *
hvk_hypervisor_get_vm_id (HvkHypervisor *self)
{
  return g_object_get_qdata (G_OBJECT (self), vm_id_quark);
}

void
hvk_hypervisor_set_vm_id (HvkHypervisor *self,
                          const char    *id)
{
  g_object_set_qdata_full (G_OBJECT (self), vm_id_quark, g_strdup (id), g_free);
}

/**
 * hvk_hypervisor_create_vm:
 * @self: a #HvkHypervisor
 * @id: the VM id (see hvk_vm_id_validate())
 * @config: the configuration
 * @error: return location for an error
 *
 * Validates @config and prepares the VM (its directory, its command line)
 * without launching anything.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_create_vm (HvkHypervisor *self,
                          const char    *id,
                          HvkConfig     *config,
                          GError       **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (HVK_IS_CONFIG (config), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!hvk_vm_id_validate (id, error))
    return FALSE;
  if (hvk_hypervisor_get_state (self) == HVK_VM_STATE_NONE)
    g_object_set_qdata_full (G_OBJECT (self), vm_id_quark, g_strdup (id), g_free);
  DISPATCH_OP (self, HVK_HYPERVISOR_OP_CREATE, create_vm, error, id, config, error);
}

/**
 * hvk_hypervisor_start_vm:
 * @self: a #HvkHypervisor
 * @timeout_ms: bound on the start, 0 for %HVK_DEFAULT_START_TIMEOUT_MS
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Launches the VM and waits until the VMM is ready (for QEMU: QMP
 * answered).  On any failure the VMM is killed and what the start made is
 * removed.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_start_vm (HvkHypervisor *self,
                         guint          timeout_ms,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (timeout_ms == 0)
    timeout_ms = HVK_DEFAULT_START_TIMEOUT_MS;
  DISPATCH_OP (self, HVK_HYPERVISOR_OP_START, start_vm, error, timeout_ms, cancellable, error);
}

/**
 * hvk_hypervisor_stop_vm:
 * @self: a #HvkHypervisor
 * @wait_only: only wait for the VMM to exit, do not ask it to
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Stops the VM (asking first, killing after a bound) and removes its
 * sockets, pid file and directory.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_stop_vm (HvkHypervisor *self,
                        gboolean       wait_only,
                        GCancellable  *cancellable,
                        GError       **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  DISPATCH_OP (self, HVK_HYPERVISOR_OP_STOP, stop_vm, error, wait_only, cancellable, error);
}

/**
 * hvk_hypervisor_pause_vm:
 * @self: a #HvkHypervisor
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Pauses a running VM.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_pause_vm (HvkHypervisor *self,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  DISPATCH_OP (self, HVK_HYPERVISOR_OP_PAUSE, pause_vm, error, cancellable, error);
}

/**
 * hvk_hypervisor_resume_vm:
 * @self: a #HvkHypervisor
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Resumes a paused VM.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_resume_vm (HvkHypervisor *self,
                          GCancellable  *cancellable,
                          GError       **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  DISPATCH_OP (self, HVK_HYPERVISOR_OP_RESUME, resume_vm, error, cancellable, error);
}

/**
 * hvk_hypervisor_save_vm:
 * @self: a #HvkHypervisor
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Saves the VM's memory and device state for templating (the config's
 * `memory_path` and `devices_state_path`).
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_save_vm (HvkHypervisor *self,
                        GCancellable  *cancellable,
                        GError       **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  DISPATCH_OP (self, HVK_HYPERVISOR_OP_SAVE, save_vm, error, cancellable, error);
}

/**
 * hvk_hypervisor_add_device:
 * @self: a #HvkHypervisor
 * @device: the device
 * @error: return location for an error
 *
 * Cold-plugs @device: valid between create_vm() and start_vm().
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_add_device (HvkHypervisor *self,
                           HvkDevice     *device,
                           GError       **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (HVK_IS_DEVICE (device), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!hvk_device_validate (device, error))
    return FALSE;
  DISPATCH_OP (self, HVK_HYPERVISOR_OP_ADD_DEVICE, add_device, error, device, error);
}

/**
 * hvk_hypervisor_hotplug_add_device:
 * @self: a #HvkHypervisor
 * @device: the device
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Adds @device to the running VM.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_hotplug_add_device (HvkHypervisor *self,
                                   HvkDevice     *device,
                                   GCancellable  *cancellable,
                                   GError       **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (HVK_IS_DEVICE (device), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!hvk_device_validate (device, error))
    return FALSE;
  DISPATCH_OP (self, HVK_HYPERVISOR_OP_HOTPLUG_ADD, hotplug_add_device, error, device, cancellable, error);
}

/**
 * hvk_hypervisor_hotplug_remove_device:
 * @self: a #HvkHypervisor
 * @device_id: the id of a device added with hotplug_add_device()
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Removes a hot-plugged device and waits until the VMM confirms it.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_hotplug_remove_device (HvkHypervisor *self,
                                      const char    *device_id,
                                      GCancellable  *cancellable,
                                      GError       **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (device_id != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  DISPATCH_OP (self, HVK_HYPERVISOR_OP_HOTPLUG_REMOVE, hotplug_remove_device, error, device_id, cancellable, error);
}

/**
 * hvk_hypervisor_resize_memory:
 * @self: a #HvkHypervisor
 * @mem_mb: the wanted total memory, in MiB
 * @block_size_mb: the guest's memory block size, in MiB (0: none)
 * @probe: whether the guest must probe added memory
 * @new_mem_mb: (out) (optional): the total memory after the call
 * @mem_dev: (out) (optional): the memory device added
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Grows (or shrinks, where the backend can) the guest's memory.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_resize_memory (HvkHypervisor   *self,
                              guint32          mem_mb,
                              guint32          block_size_mb,
                              gboolean         probe,
                              guint32         *new_mem_mb,
                              HvkMemoryDevice *mem_dev,
                              GCancellable    *cancellable,
                              GError         **error)
{
  HvkMemoryDevice dummy = { 0, };
  guint32 dummy_mb = 0;

  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  DISPATCH_OP (self, HVK_HYPERVISOR_OP_RESIZE_MEMORY, resize_memory, error, mem_mb, block_size_mb, probe,
            new_mem_mb ? new_mem_mb : &dummy_mb, mem_dev ? mem_dev : &dummy,
            cancellable, error);
}

/**
 * hvk_hypervisor_resize_vcpus:
 * @self: a #HvkHypervisor
 * @vcpus: the wanted number of vCPUs
 * @old_vcpus: (out) (optional): the number before the call
 * @new_vcpus: (out) (optional): the number after the call
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Hot-adds or removes vCPUs within the configured maximum.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_resize_vcpus (HvkHypervisor *self,
                             guint32        vcpus,
                             guint32       *old_vcpus,
                             guint32       *new_vcpus,
                             GCancellable  *cancellable,
                             GError       **error)
{
  guint32 dummy_old = 0, dummy_new = 0;

  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  DISPATCH_OP (self, HVK_HYPERVISOR_OP_RESIZE_VCPUS, resize_vcpus, error, vcpus,
            old_vcpus ? old_vcpus : &dummy_old,
            new_vcpus ? new_vcpus : &dummy_new, cancellable, error);
}

/**
 * hvk_hypervisor_get_state:
 * @self: a #HvkHypervisor
 *
 * Gets the VM's lifecycle state.
 *
 * Returns: the VM's lifecycle state as the backend last knew it
 */
HvkVmState
hvk_hypervisor_get_state (HvkHypervisor *self)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), HVK_VM_STATE_NONE);

  if (IFACE (self)->get_state == NULL)
    return HVK_VM_STATE_NONE;
  return IFACE (self)->get_state (self);
}

/**
 * hvk_hypervisor_set_io_limits:
 * @self: a #HvkHypervisor
 * @device_id: a `block` or `net` device of the VM
 * @limits: its new limits (Kata's units, 0: unlimited), all of them
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Changes the I/O limits of a device while the VM runs or is paused: in
 * the VMM at once, and in the VM's state, so that `hvkit` commands run
 * later (another process) see them.  A backend that cannot limit the
 * device fails with %HVK_ERROR_NOT_SUPPORTED naming it.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_set_io_limits (HvkHypervisor     *self,
                              const char        *device_id,
                              const HvkIoLimits *limits,
                              GCancellable      *cancellable,
                              GError           **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (device_id != NULL, FALSE);
  g_return_val_if_fail (limits != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  DISPATCH_OP (self, HVK_HYPERVISOR_OP_SET_IO_LIMITS, set_io_limits, error, device_id, limits,
               cancellable, error);
}

/**
 * hvk_hypervisor_get_io_limits:
 * @self: a #HvkHypervisor
 * @device_id: a device of the VM
 * @limits: (out caller-allocates): its limits now
 * @error: return location for an error
 *
 * Reads the I/O limits a device of the VM has now: those it was given
 * (its own properties, else the configuration's keys) or the last
 * hvk_hypervisor_set_io_limits().  A device of another kind than
 * `block` and `net` has none (all 0).
 *
 * Returns: %TRUE on success; %HVK_ERROR_NOT_FOUND for a device the VM
 *   has not
 */
gboolean
hvk_hypervisor_get_io_limits (HvkHypervisor  *self,
                              const char     *device_id,
                              HvkIoLimits    *limits,
                              GError        **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (device_id != NULL, FALSE);
  g_return_val_if_fail (limits != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *limits = (HvkIoLimits) { 0, };
  DISPATCH_OP (self, HVK_HYPERVISOR_OP_GET_IO_LIMITS, get_io_limits, error, device_id, limits,
               error);
}
