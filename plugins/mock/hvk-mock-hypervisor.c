/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <string.h>
#include <unistd.h>

#include "hvk-mock-hypervisor-private.h"

/*
 * The mock backend, after Kata's `mockHypervisor` but with real state
 * transitions: nothing is launched, every call is recorded (the `calls`
 * member of its state), illegal transitions fail with HVK_ERROR_STATE and
 * the operations named in the `fail_operations` key fail on purpose,
 * leaving the state as it was.
 */

#define MOCK_HYBRID_VSOCK_SOCKET "kata-mock-hybrid-vsock.socket"
#define MOCK_DEFAULT_HYBRID_VSOCK "/tmp/" MOCK_HYBRID_VSOCK_SOCKET
#define MOCK_CONSOLE_SOCKET "console.sock"
#define MOCK_VMM "mock-vmm"


static void hvk_mock_hypervisor_iface_init (HvkHypervisorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (HvkMockHypervisor, hvk_mock_hypervisor,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (HVK_TYPE_HYPERVISOR,
                                                      hvk_mock_hypervisor_iface_init))

/* The operations `fail_operations` may name: the interface's fallible
 * calls.  Append only. */
static const char * const mock_operations[] = {
  "create_vm",
  "start_vm",
  "stop_vm",
  "pause_vm",
  "resume_vm",
  "save_vm",
  "add_device",
  "hotplug_add_device",
  "hotplug_remove_device",
  "resize_memory",
  "resize_vcpus",
  "get_vm_console",
  "get_thread_ids",
  "cleanup",
  "check",
  "load_state",
  "generate_socket",
  "get_stats",
  "shutdown_vm",
  "reboot_vm",
  "follow_events",
  "balloon",
  "save_to_dir",
  "restore_from_dir",
  "set_io_limits",
};

static const HvkConfigKey mock_config_keys[] = {
  { "fail_operations", HVK_CONFIG_TYPE_STRV, NULL,
    "mock: operations that fail on purpose (e.g. start_vm;hotplug_add_device)" },
  { "console_socket", HVK_CONFIG_TYPE_PATH, NULL,
    "mock: a UNIX socket someone else serves, given as the console (tests)" },
  { "scripted_stats", HVK_CONFIG_TYPE_STRV, NULL,
    "mock: statistics get_stats reports on top of its own, as KEY=VALUE (tests)" },
};

#define STATE_BIT(s) (1u << (s))

static const char *
describe_state (HvkVmState state)
{
  return state == HVK_VM_STATE_NONE ? "not created"
                                    : hvk_vm_state_to_string (state);
}

gboolean
hvk_mock_has_config_key (HvkConfig  *config,
                         const char *key)
{
  return config != NULL && hvk_config_lookup_key (config, key) != NULL;
}

static guint64
config_uint (HvkConfig  *config,
             const char *key)
{
  return hvk_mock_has_config_key (config, key) ? hvk_config_get_uint (config, key) : 0;
}

static gboolean
config_boolean (HvkConfig  *config,
                const char *key)
{
  return hvk_mock_has_config_key (config, key) && hvk_config_get_boolean (config, key);
}

const char *
hvk_mock_store_path (HvkMockHypervisor *self)
{
  return self->config ? hvk_config_get_vm_store_path (self->config) : NULL;
}

static HvkRegistry *
get_registry (HvkMockHypervisor *self)
{
  return self->registry;
}

/* Records @operation and fails it when the configuration asks to. */
gboolean
hvk_mock_begin_call (HvkMockHypervisor  *self,
            const char         *operation,
            HvkConfig          *config,
            GError            **error)
{
  const char * const *fail;

  g_ptr_array_add (self->calls, g_strdup (operation));

  if (config == NULL)
    config = self->config;
  if (!hvk_mock_has_config_key (config, "fail_operations"))
    return TRUE;

  fail = hvk_config_get_strv (config, "fail_operations");
  if (fail != NULL && g_strv_contains (fail, operation))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "mock: injected failure in %s", operation);
      return FALSE;
    }
  return TRUE;
}

static gboolean
require_state (HvkMockHypervisor  *self,
               const char         *operation,
               guint               allowed,
               GError            **error)
{
  if (allowed & STATE_BIT (self->state))
    return TRUE;

  g_set_error (error, HVK_ERROR, HVK_ERROR_STATE,
               "mock: cannot %s a VM that is %s", operation,
               describe_state (self->state));
  return FALSE;
}

static HvkDevice *
lookup_device (GPtrArray  *devices,
               const char *id,
               guint      *index)
{
  for (guint i = 0; i < devices->len; i++)
    {
      HvkDevice *device = g_ptr_array_index (devices, i);

      if (g_strcmp0 (hvk_device_get_id (device), id) == 0)
        {
          if (index)
            *index = i;
          return device;
        }
    }
  return NULL;
}

static gboolean
check_new_device_id (HvkMockHypervisor  *self,
                     HvkDevice          *device,
                     GError            **error)
{
  const char *id = hvk_device_get_id (device);

  if (lookup_device (self->devices, id, NULL) != NULL
      || lookup_device (self->hotplugged, id, NULL) != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "mock: VM '%s' already has a device with id '%s'",
                   self->id, id);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_fail_operations (HvkConfig  *config,
                       GError    **error)
{
  const char * const *fail;

  if (!hvk_mock_has_config_key (config, "fail_operations"))
    return TRUE;

  fail = hvk_config_get_strv (config, "fail_operations");
  for (guint i = 0; fail != NULL && fail[i] != NULL; i++)
    {
      gboolean known = FALSE;

      for (guint j = 0; j < G_N_ELEMENTS (mock_operations) && !known; j++)
        known = g_str_equal (fail[i], mock_operations[j]);
      if (!known)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                       "%s: [%s] fail_operations: unknown operation '%s'",
                       hvk_config_get_source (config),
                       hvk_config_get_group (config), fail[i]);
          return FALSE;
        }
    }
  return TRUE;
}

static char *
build_kernel_cmdline (HvkMockHypervisor  *self,
                      const char         *id,
                      HvkConfig          *config,
                      GError            **error)
{
  HvkRegistry *registry = get_registry (self);
  g_autoptr(HvkBuildContext) ctx = NULL;
  g_autoptr(GPtrArray) params = NULL;

  ctx = hvk_build_context_new (registry,
                               hvk_hypervisor_get_backend_name (HVK_HYPERVISOR (self)),
                               id, config);
  params = hvk_registry_build_kernel_params (registry, ctx, error);
  if (params == NULL)
    return NULL;
  return hvk_params_to_string (params);
}

static GStrv
build_argv (HvkMockHypervisor *self)
{
  g_autoptr(GStrvBuilder) builder = NULL;

  if (self->id == NULL)
    return NULL;

  builder = g_strv_builder_new ();
  g_strv_builder_add_many (builder, MOCK_VMM, "--id", self->id, NULL);
  for (guint i = 0; i < self->devices->len; i++)
    {
      g_autofree char *text = hvk_device_to_string (g_ptr_array_index (self->devices, i));
      g_strv_builder_add (builder, text);
    }
  /* A recording stand-in: the mock VMM is handed every core setting the
   * configuration makes, as --KEY=VALUE, so tests see what a VMM gets. */
  if (self->config != NULL)
    {
      guint n_keys = 0;
      const HvkConfigKey *keys = hvk_config_get_core_keys (&n_keys);

      for (guint i = 0; i < n_keys; i++)
        {
          g_autofree char *value = NULL;
          g_autofree char *arg = NULL;

          if (!hvk_config_has_key (self->config, keys[i].name))
            continue;
          value = hvk_config_dup_value_string (self->config, keys[i].name);
          arg = g_strdup_printf ("--%s=%s", keys[i].name, value ? value : "");
          g_strv_builder_add (builder, arg);
        }
    }
  return g_strv_builder_end (builder);
}

static guint32
max_vcpus (HvkMockHypervisor *self)
{
  guint64 max = config_uint (self->config, "default_maxvcpus");

  if (max == 0)
    max = g_get_num_processors ();
  return (guint32) MAX (max, (guint64) hvk_config_get_num_vcpus (self->config));
}

/* The lifecycle. */

static gboolean
mock_create_vm (HvkHypervisor  *hypervisor,
                const char     *id,
                HvkConfig      *config,
                GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  g_autofree char *cmdline = NULL;
  GPtrArray *devices;
  const char *store;

  if (!hvk_mock_begin_call (self, "create_vm", config, error)
      || !require_state (self, "create_vm", STATE_BIT (HVK_VM_STATE_NONE), error)
      || !hvk_config_validate (config, error)
      || !check_fail_operations (config, error))
    return FALSE;

  devices = hvk_config_get_devices (config);
  if (devices != NULL && !hvk_io_limits_check_groups (config, devices, error))
    return FALSE;

  cmdline = build_kernel_cmdline (self, id, config, error);
  if (cmdline == NULL)
    return FALSE;

  store = hvk_config_get_vm_store_path (config);
  if (store != NULL)
    {
      g_autofree char *dir = hvk_vm_store_ensure_dir (store, id, error);
      if (dir == NULL)
        return FALSE;
    }

  for (guint i = 0; devices != NULL && i < devices->len; i++)
    g_ptr_array_add (self->devices,
                     g_object_ref (g_ptr_array_index (devices, i)));

  g_free (self->id);
  self->id = g_strdup (id);
  g_set_object (&self->config, config);
  g_free (self->kernel_cmdline);
  self->kernel_cmdline = g_steal_pointer (&cmdline);
  self->vcpus = hvk_config_get_num_vcpus (config);
  self->memory_mb = (guint32) config_uint (config, "default_memory");
  self->mem_slots = 0;
  self->state = HVK_VM_STATE_CREATED;

  return TRUE;
}

static gboolean
mock_start_vm (HvkHypervisor  *hypervisor,
               guint           timeout_ms,
               GCancellable   *cancellable,
               GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  if (!hvk_mock_begin_call (self, "start_vm", NULL, error)
      || !require_state (self, "start_vm", STATE_BIT (HVK_VM_STATE_CREATED), error)
      || g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  self->state = HVK_VM_STATE_RUNNING;
  return TRUE;
}

static gboolean
mock_stop_vm (HvkHypervisor  *hypervisor,
              gboolean        wait_only,
              GCancellable   *cancellable,
              GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  const char *store;

  if (!hvk_mock_begin_call (self, "stop_vm", NULL, error))
    return FALSE;

  /* Stopping twice is harmless, as Kata's StopVM on a stopped VM. */
  if (self->state == HVK_VM_STATE_STOPPED)
    return TRUE;
  if (!require_state (self, "stop_vm",
                      STATE_BIT (HVK_VM_STATE_CREATED)
                      | STATE_BIT (HVK_VM_STATE_RUNNING)
                      | STATE_BIT (HVK_VM_STATE_PAUSED), error))
    return FALSE;

  store = hvk_mock_store_path (self);
  if (store != NULL && !hvk_vm_store_remove_dir (store, self->id, error))
    return FALSE;

  if (self->state != HVK_VM_STATE_CREATED)
    hvk_mock_queue_event (self, "SHUTDOWN", "reason", "host-qmp-quit");
  self->state = HVK_VM_STATE_STOPPED;
  return TRUE;
}

static gboolean
mock_pause_vm (HvkHypervisor  *hypervisor,
               GCancellable   *cancellable,
               GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  if (!hvk_mock_begin_call (self, "pause_vm", NULL, error)
      || !require_state (self, "pause_vm", STATE_BIT (HVK_VM_STATE_RUNNING), error))
    return FALSE;

  self->state = HVK_VM_STATE_PAUSED;
  hvk_mock_queue_event (self, "STOP", NULL, NULL);
  return TRUE;
}

/* The mock guest powers off at once (a failure injected with
 * fail_operations=shutdown_vm stands for one that ignores the button). */
static gboolean
mock_shutdown_vm (HvkHypervisor  *hypervisor,
                  guint           timeout_ms,
                  GCancellable   *cancellable,
                  GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  if (!require_state (self, "shutdown_vm", STATE_BIT (HVK_VM_STATE_RUNNING), error))
    return FALSE;
  if (!hvk_mock_begin_call (self, "shutdown_vm", NULL, NULL))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_TIMEOUT,
                   "mock: VM '%s': the guest did not power off within %u ms", self->id, timeout_ms);
      return FALSE;
    }
  hvk_mock_queue_event (self, "POWERDOWN", NULL, NULL);
  hvk_mock_queue_event (self, "SHUTDOWN", "reason", "guest-shutdown");
  self->state = HVK_VM_STATE_STOPPED;
  return TRUE;
}

static gboolean
mock_reboot_vm (HvkHypervisor  *hypervisor,
                GCancellable   *cancellable,
                GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  if (!hvk_mock_begin_call (self, "reboot_vm", NULL, error)
      || !require_state (self, "reboot_vm", STATE_BIT (HVK_VM_STATE_RUNNING), error))
    return FALSE;
  hvk_mock_queue_event (self, "RESET", "reason", "host-qmp-system-reset");
  return TRUE;
}

static gboolean
mock_resume_vm (HvkHypervisor  *hypervisor,
                GCancellable   *cancellable,
                GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  if (!hvk_mock_begin_call (self, "resume_vm", NULL, error)
      || !require_state (self, "resume_vm", STATE_BIT (HVK_VM_STATE_PAUSED), error))
    return FALSE;

  self->state = HVK_VM_STATE_RUNNING;
  hvk_mock_queue_event (self, "RESUME", NULL, NULL);
  return TRUE;
}

static gboolean
mock_save_vm (HvkHypervisor  *hypervisor,
              GCancellable   *cancellable,
              GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  if (!hvk_mock_begin_call (self, "save_vm", NULL, error)
      || !require_state (self, "save_vm",
                         STATE_BIT (HVK_VM_STATE_RUNNING)
                         | STATE_BIT (HVK_VM_STATE_PAUSED), error))
    return FALSE;

  if (!config_boolean (self->config, "boot_to_be_template"))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "backend '%s' does not support save_vm without "
                   "boot_to_be_template",
                   hvk_hypervisor_get_backend_name (hypervisor));
      return FALSE;
    }
  return TRUE;
}

/* Devices. */

static gboolean
mock_add_device (HvkHypervisor  *hypervisor,
                 HvkDevice      *device,
                 GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  HvkIoLimits limits;

  if (!hvk_mock_begin_call (self, "add_device", NULL, error)
      || !require_state (self, "add_device", STATE_BIT (HVK_VM_STATE_CREATED), error)
      || !check_new_device_id (self, device, error)
      || !hvk_mock_device_limits (self, device, &limits, error))
    return FALSE;

  g_ptr_array_add (self->devices, g_object_ref (device));
  return TRUE;
}

static gboolean
mock_hotplug_add_device (HvkHypervisor  *hypervisor,
                         HvkDevice      *device,
                         GCancellable   *cancellable,
                         GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  HvkIoLimits limits;

  if (!hvk_mock_begin_call (self, "hotplug_add_device", NULL, error)
      || !require_state (self, "hotplug_add_device",
                         STATE_BIT (HVK_VM_STATE_RUNNING), error)
      || !check_new_device_id (self, device, error)
      || !hvk_mock_device_limits (self, device, &limits, error))
    return FALSE;

  g_ptr_array_add (self->hotplugged, g_object_ref (device));
  return TRUE;
}

static gboolean
mock_hotplug_remove_device (HvkHypervisor  *hypervisor,
                            const char     *device_id,
                            GCancellable   *cancellable,
                            GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  guint index;

  if (!hvk_mock_begin_call (self, "hotplug_remove_device", NULL, error)
      || !require_state (self, "hotplug_remove_device",
                         STATE_BIT (HVK_VM_STATE_RUNNING), error))
    return FALSE;

  if (lookup_device (self->hotplugged, device_id, &index) == NULL)
    {
      if (lookup_device (self->devices, device_id, NULL) != NULL)
        g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                     "mock: device '%s' of VM '%s' was cold-plugged and "
                     "cannot be unplugged", device_id, self->id);
      else
        g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                     "mock: VM '%s' has no hot-plugged device '%s'",
                     self->id, device_id);
      return FALSE;
    }

  g_ptr_array_remove_index (self->hotplugged, index);
  hvk_mock_queue_event (self, "DEVICE_DELETED", "device", device_id);
  return TRUE;
}

static gboolean
mock_resize_memory (HvkHypervisor    *hypervisor,
                    guint32           mem_mb,
                    guint32           block_size_mb,
                    gboolean          probe,
                    guint32          *new_mem_mb,
                    HvkMemoryDevice  *mem_dev,
                    GCancellable     *cancellable,
                    GError          **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  guint64 max_mb;

  if (!hvk_mock_begin_call (self, "resize_memory", NULL, error)
      || !require_state (self, "resize_memory",
                         STATE_BIT (HVK_VM_STATE_RUNNING), error))
    return FALSE;

  max_mb = config_uint (self->config, "default_maxmemory");
  if (mem_mb == 0 || (max_mb > 0 && mem_mb > max_mb))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "mock: cannot resize VM '%s' to %u MiB: it must be between "
                   "1 and default_maxmemory (%" G_GUINT64_FORMAT ")",
                   self->id, mem_mb, max_mb);
      return FALSE;
    }

  *mem_dev = (HvkMemoryDevice) { 0, };
  if (mem_mb != self->memory_mb)
    {
      /* Each resize takes a slot, as Kata's mock counts MemSlots. */
      mem_dev->slot = (int) self->mem_slots;
      mem_dev->size_mb = mem_mb > self->memory_mb ? mem_mb - self->memory_mb : 0;
      mem_dev->probe = probe;
      self->mem_slots++;
      self->memory_mb = mem_mb;
    }
  *new_mem_mb = self->memory_mb;
  return TRUE;
}

static gboolean
mock_resize_vcpus (HvkHypervisor  *hypervisor,
                   guint32         vcpus,
                   guint32        *old_vcpus,
                   guint32        *new_vcpus,
                   GCancellable   *cancellable,
                   GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  guint32 max;

  if (!hvk_mock_begin_call (self, "resize_vcpus", NULL, error)
      || !require_state (self, "resize_vcpus",
                         STATE_BIT (HVK_VM_STATE_RUNNING), error))
    return FALSE;

  max = max_vcpus (self);
  if (vcpus == 0 || vcpus > max)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "mock: cannot resize VM '%s' to %u vCPUs: it must be "
                   "between 1 and default_maxvcpus (%u)", self->id, vcpus, max);
      return FALSE;
    }

  *old_vcpus = self->vcpus;
  self->vcpus = vcpus;
  *new_vcpus = self->vcpus;
  return TRUE;
}

static guint32
mock_get_total_memory_mb (HvkHypervisor *hypervisor)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  g_ptr_array_add (self->calls, g_strdup ("get_total_memory_mb"));
  return self->memory_mb;
}

/* Queries. */

static gboolean
mock_get_vm_console (HvkHypervisor  *hypervisor,
                     char          **protocol,
                     char          **url,
                     GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  const char *store;
  g_autofree char *path = NULL;

  if (!hvk_mock_begin_call (self, "get_vm_console", NULL, error)
      || !require_state (self, "get_vm_console",
                         ~STATE_BIT (HVK_VM_STATE_NONE), error))
    return FALSE;

  /* A console the caller serves, so that tools can be tested. */
  if (hvk_mock_has_config_key (self->config, "console_socket")
      && hvk_config_get_string (self->config, "console_socket") != NULL)
    {
      *protocol = g_strdup ("unix");
      *url = g_strdup (hvk_config_get_string (self->config, "console_socket"));
      return TRUE;
    }

  /* A path where nothing listens: the mock has no guest. */
  store = hvk_mock_store_path (self);
  if (store != NULL)
    {
      path = hvk_vm_store_socket_path (store, self->id, MOCK_CONSOLE_SOCKET,
                                       error);
      if (path == NULL)
        return FALSE;
    }

  *protocol = g_strdup ("mock");
  *url = path ? g_steal_pointer (&path) : g_strdup ("");
  return TRUE;
}

static void
mock_disconnect (HvkHypervisor *hypervisor)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  g_ptr_array_add (self->calls, g_strdup ("disconnect"));
}

static HvkCapabilities
mock_capabilities (HvkHypervisor *hypervisor)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  g_ptr_array_add (self->calls, g_strdup ("capabilities"));
  return HVK_MOCK_CAPABILITIES;
}

static HvkConfig *
mock_get_config (HvkHypervisor *hypervisor)
{
  return HVK_MOCK_HYPERVISOR (hypervisor)->config;
}

static GHashTable *
mock_get_thread_ids (HvkHypervisor  *hypervisor,
                     GCancellable   *cancellable,
                     GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  GHashTable *ids;

  if (!hvk_mock_begin_call (self, "get_thread_ids", NULL, error))
    return NULL;

  ids = g_hash_table_new (NULL, NULL);
  /* One "vCPU thread", this process, while the VM runs (Kata's MK10). */
  if (self->state == HVK_VM_STATE_RUNNING || self->state == HVK_VM_STATE_PAUSED)
    g_hash_table_insert (ids, GUINT_TO_POINTER (0),
                         GUINT_TO_POINTER ((guint) getpid ()));
  return ids;
}

static gboolean
mock_cleanup (HvkHypervisor  *hypervisor,
              GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  return hvk_mock_begin_call (self, "cleanup", NULL, error);
}

static GArray *
mock_get_pids (HvkHypervisor *hypervisor)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  /* No process runs for a mock VM. */
  g_ptr_array_add (self->calls, g_strdup ("get_pids"));
  return g_array_new (FALSE, FALSE, sizeof (int));
}

static int
mock_get_virtiofs_pid (HvkHypervisor *hypervisor)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  g_ptr_array_add (self->calls, g_strdup ("get_virtiofs_pid"));
  return -1;
}

static gboolean
mock_check (HvkHypervisor  *hypervisor,
            GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  if (!hvk_mock_begin_call (self, "check", NULL, error))
    return FALSE;

  if (self->state == HVK_VM_STATE_NONE || self->state == HVK_VM_STATE_STOPPED)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_STATE,
                   "mock: VM '%s' is %s", self->id ? self->id : "",
                   describe_state (self->state));
      return FALSE;
    }
  return TRUE;
}

static char *
mock_generate_socket (HvkHypervisor  *hypervisor,
                      const char     *id,
                      GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  g_autofree char *path = NULL;
  const char *store;

  if (!hvk_mock_begin_call (self, "generate_socket", NULL, error))
    return NULL;

  store = hvk_mock_store_path (self);
  if (store == NULL)
    return g_strdup ("mock://" MOCK_DEFAULT_HYBRID_VSOCK);

  path = hvk_vm_store_socket_path (store, id, MOCK_HYBRID_VSOCK_SOCKET, error);
  if (path == NULL)
    return NULL;
  return g_strconcat ("mock://", path, NULL);
}

static gboolean
mock_is_rate_limiter_builtin (HvkHypervisor *hypervisor)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  g_ptr_array_add (self->calls, g_strdup ("is_rate_limiter_builtin"));
  return FALSE;
}

static HvkVmState
mock_get_state (HvkHypervisor *hypervisor)
{
  return HVK_MOCK_HYPERVISOR (hypervisor)->state;
}

/* Not recorded as a call: a query of what create_vm() prepared, the
 * command-line contract `hvkit argv` / `kernel-params` read. */
static gboolean
mock_get_launch_command (HvkHypervisor  *hypervisor,
                         GStrv          *argv,
                         char          **kernel_cmdline,
                         GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);

  if (self->id == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_STATE, "the mock VM has no command line");
      return FALSE;
    }
  *argv = build_argv (self);
  *kernel_cmdline = g_strdup (self->kernel_cmdline);
  return TRUE;
}

/* GObject. */

static void
hvk_mock_hypervisor_finalize (GObject *object)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (object);

  g_clear_object (&self->registry);
  g_free (self->id);
  g_clear_object (&self->config);
  g_free (self->kernel_cmdline);
  g_ptr_array_unref (self->devices);
  g_ptr_array_unref (self->hotplugged);
  g_ptr_array_unref (self->calls);
  g_ptr_array_unref (self->events);

  G_OBJECT_CLASS (hvk_mock_hypervisor_parent_class)->finalize (object);
}

enum { PROP_REGISTRY_0, PROP_REGISTRY };

static void
hvk_mock_hypervisor_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  if (prop_id == PROP_REGISTRY)
    g_value_set_object (value, HVK_MOCK_HYPERVISOR (object)->registry);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
hvk_mock_hypervisor_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  if (prop_id == PROP_REGISTRY)
    g_set_object (&HVK_MOCK_HYPERVISOR (object)->registry, g_value_get_object (value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
hvk_mock_hypervisor_class_init (HvkMockHypervisorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = hvk_mock_hypervisor_finalize;
  object_class->get_property = hvk_mock_hypervisor_get_property;
  object_class->set_property = hvk_mock_hypervisor_set_property;
  g_object_class_override_property (object_class, PROP_REGISTRY, "registry");
}

static void
hvk_mock_hypervisor_init (HvkMockHypervisor *self)
{
  self->state = HVK_VM_STATE_NONE;
  self->devices = g_ptr_array_new_with_free_func (g_object_unref);
  self->hotplugged = g_ptr_array_new_with_free_func (g_object_unref);
  self->calls = g_ptr_array_new_with_free_func (g_free);
  self->events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
}

static GPtrArray *
mock_get_hotplugged_devices (HvkHypervisor *hypervisor)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  GPtrArray *devices = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < self->hotplugged->len; i++)
    g_ptr_array_add (devices, g_object_ref (g_ptr_array_index (self->hotplugged, i)));
  return devices;
}

static void
hvk_mock_hypervisor_iface_init (HvkHypervisorInterface *iface)
{
  iface->create_vm = mock_create_vm;
  iface->start_vm = mock_start_vm;
  iface->stop_vm = mock_stop_vm;
  iface->pause_vm = mock_pause_vm;
  iface->resume_vm = mock_resume_vm;
  iface->save_vm = mock_save_vm;
  iface->save_to_dir = hvk_mock_save_to_dir;
  iface->restore_from_dir = hvk_mock_restore_from_dir;
  iface->add_device = mock_add_device;
  iface->hotplug_add_device = mock_hotplug_add_device;
  iface->hotplug_remove_device = mock_hotplug_remove_device;
  iface->resize_memory = mock_resize_memory;
  iface->resize_vcpus = mock_resize_vcpus;
  iface->get_total_memory_mb = mock_get_total_memory_mb;
  iface->get_vm_console = mock_get_vm_console;
  iface->disconnect = mock_disconnect;
  iface->capabilities = mock_capabilities;
  iface->get_config = mock_get_config;
  iface->get_thread_ids = mock_get_thread_ids;
  iface->cleanup = mock_cleanup;
  iface->get_pids = mock_get_pids;
  iface->get_virtiofs_pid = mock_get_virtiofs_pid;
  iface->check = mock_check;
  iface->save_private = hvk_mock_save_private;
  iface->load_private = hvk_mock_load_private;
  iface->generate_socket = mock_generate_socket;
  iface->is_rate_limiter_builtin = mock_is_rate_limiter_builtin;
  iface->get_state = mock_get_state;
  iface->get_hotplugged_devices = mock_get_hotplugged_devices;
  iface->get_launch_command = mock_get_launch_command;
  iface->get_stats = hvk_mock_get_stats;
  iface->shutdown_vm = mock_shutdown_vm;
  iface->reboot_vm = mock_reboot_vm;
  iface->follow_events = hvk_mock_follow_events;
  iface->balloon = hvk_mock_balloon;
  iface->set_io_limits = hvk_mock_set_io_limits;
  iface->get_io_limits = hvk_mock_get_io_limits;
}

/* Kata's keys no backend of hvkit honours yet: the mock refuses them as
 * the others do, so tests on the mock see the same errors. */
static const HvkRefusedKey mock_refused_keys[] = {
  { "jailer_path", "the mock has no VMM process to start under a jailer" },
  { "valid_jailer_paths", "the mock has no VMM process to start under a jailer" },
  { "firmware_volume", "no firmware volume is attached" },
  { "enable_virtio_mem", "virtio-mem is not implemented" },
  { "enable_numa", "the mock has no guest NUMA topology" },
  { "numa_mapping", "the mock has no guest NUMA topology" },
  { "disable_block_device_use", "hvkit attaches no container root filesystem" },
  { "msize_9p", "the guest mounts 9p itself; hvkit passes no msize" },
};

gboolean
hvk_mock_register (HvkPlugin  *plugin,
                   GError    **error)
{
  return hvk_plugin_register_backend (plugin, HVK_MOCK_BACKEND_NAME,
                                      HVK_TYPE_MOCK_HYPERVISOR,
                                      HVK_MOCK_CAPABILITIES, error)
         && hvk_plugin_register_config_keys (plugin, HVK_MOCK_BACKEND_NAME,
                                             mock_config_keys,
                                             G_N_ELEMENTS (mock_config_keys),
                                             error)
         && hvk_plugin_register_refused_keys (plugin, HVK_MOCK_BACKEND_NAME,
                                              mock_refused_keys,
                                              G_N_ELEMENTS (mock_refused_keys), error);
}
