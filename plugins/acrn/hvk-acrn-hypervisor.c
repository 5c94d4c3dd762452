/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <glib/gstdio.h>

#include "hvk-acrn-hypervisor-private.h"

/*
 * HvkAcrnHypervisor: one VM run by acrn-dm, after Kata's acrn.go.
 *
 * create_vm() checks the name, the binaries and builds the argv; start_vm()
 * takes a CPU from the affinity index, launches acrn-dm in its own session
 * and watches it briefly for an early exit; stop_vm() sends SIGINT, waits
 * up to 15 s, then SIGKILL.  Block hotplug rescans one of the placeholder
 * drives with `acrnctl blkrescan`.  Everything else ACRN cannot do is left
 * out of the interface, so the wrappers fail with HVK_ERROR_NOT_SUPPORTED.
 */


enum {
  PROP_0,
  PROP_CPUINFO_PATH,
  PROP_STOP_TIMEOUT_MS,
  PROP_START_GRACE_MS,
  N_PROPS,
  PROP_REGISTRY = N_PROPS,   /* overridden from the interface */
};

static GParamSpec *properties[N_PROPS];

static void hvk_acrn_hypervisor_iface_init (HvkHypervisorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (HvkAcrnHypervisor, hvk_acrn_hypervisor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (HVK_TYPE_HYPERVISOR,
                                                      hvk_acrn_hypervisor_iface_init))

/* ---- helpers ---- */

static gboolean
check_state (HvkAcrnHypervisor  *self,
             const char         *operation,
             HvkVmState          wanted,
             GError            **error)
{
  if (self->state == wanted)
    return TRUE;

  g_set_error (error, HVK_ERROR, HVK_ERROR_STATE,
               "Cannot %s VM '%s' (backend '%s'): it is %s, not %s", operation,
               self->id ? self->id : "", HVK_ACRN_BACKEND_NAME,
               hvk_vm_state_to_string (self->state), hvk_vm_state_to_string (wanted));
  return FALSE;
}

static const char *
config_source (HvkConfig *config)
{
  const char *source = hvk_config_get_source (config);

  return source ? source : "configuration";
}

static const char *
config_group (HvkConfig *config)
{
  const char *group = hvk_config_get_group (config);

  return group ? group : "hypervisor." HVK_ACRN_BACKEND_NAME;
}

/* Kata's acrnPath()/acrnctlPath(): the configured path or the default,
 * which must match the allow-list (globs) and exist. */
static char *
resolve_binary (HvkConfig   *config,
                const char  *key,
                const char  *list_key,
                const char  *default_path,
                GError     **error)
{
  const char *path = hvk_config_get_string (config, key);
  const char * const *allowed = hvk_config_get_strv (config, list_key);
  gboolean ok;

  if (path == NULL || *path == '\0')
    path = default_path;

  ok = (allowed == NULL || allowed[0] == NULL);
  for (guint i = 0; !ok && allowed[i] != NULL; i++)
    ok = fnmatch (allowed[i], path, FNM_PATHNAME) == 0;
  if (!ok)
    {
      g_autofree char *list = g_strjoinv ("', '", (char **) allowed);
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: [%s] %s '%s' is not allowed by %s ('%s')",
                   config_source (config), config_group (config), key, path,
                   list_key, list);
      return NULL;
    }

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "%s: [%s] %s '%s' does not exist", config_source (config),
                   config_group (config), key, path);
      return NULL;
    }
  if (!g_file_test (path, G_FILE_TEST_IS_EXECUTABLE) || g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: [%s] %s '%s' is not an executable file",
                   config_source (config), config_group (config), key, path);
      return NULL;
    }

  return g_strdup (path);
}

static HvkRegistry *
get_registry (HvkAcrnHypervisor  *self,
              GError            **error)
{
  HvkRegistry *registry = self->registry;

  if (registry == NULL)
    g_set_error (error, HVK_ERROR, HVK_ERROR_STATE,
                 "VM '%s' (backend '%s') was not created by a registry",
                 self->id ? self->id : "", HVK_ACRN_BACKEND_NAME);
  return registry;
}

/* (Re)builds argv and the kernel command line for @apic_id. */
static gboolean
rebuild (HvkAcrnHypervisor  *self,
         GPtrArray          *extra_devices,
         const char         *apic_id,
         GError            **error)
{
  HvkRegistry *registry = get_registry (self, error);
  g_autoptr(HvkCmdline) cmdline = NULL;
  g_autoptr(HvkAcrnLayout) layout = NULL;
  g_autofree char *kernel_cmdline = NULL;
  HvkAcrnLaunch launch = { 0, };

  if (registry == NULL)
    return FALSE;

  launch.acrn_path = self->acrn_path;
  launch.vm_name = self->vm_name;
  launch.apic_id = apic_id;
  launch.console_path = self->console_path;

  cmdline = hvk_acrn_build_cmdline (registry, self->id, self->config, &launch,
                                    extra_devices, &kernel_cmdline, &layout, error);
  if (cmdline == NULL)
    return FALSE;

  g_strfreev (self->argv);
  self->argv = g_strdupv ((char **) hvk_cmdline_get_argv (cmdline));
  g_free (self->kernel_cmdline);
  self->kernel_cmdline = g_steal_pointer (&kernel_cmdline);
  hvk_acrn_layout_free (self->layout);
  self->layout = g_steal_pointer (&layout);
  /* @apic_id may be self->apic_id itself. */
  if (apic_id != self->apic_id)
    {
      g_free (self->apic_id);
      self->apic_id = g_strdup (apic_id);
    }

  return TRUE;
}

static void
remove_vm_dir (HvkAcrnHypervisor *self)
{
  g_autoptr(GError) error = NULL;

  if (self->store == NULL || self->id == NULL)
    return;
  if (!hvk_vm_store_remove_dir (self->store, self->id, &error))
    g_warning ("VM '%s': %s", self->id, error->message);
}

static char *
describe_wait_status (int status)
{
  if (WIFEXITED (status))
    return g_strdup_printf ("exit code %d", WEXITSTATUS (status));
  if (WIFSIGNALED (status))
    return g_strdup_printf ("signal %d (%s)", WTERMSIG (status), g_strsignal (WTERMSIG (status)));
  return g_strdup_printf ("wait status %d", status);
}

/* Whether acrn-dm still runs; reaps it when it is our child. */
static gboolean
process_running (HvkAcrnHypervisor *self)
{
  int status;

  if (self->pid <= 0)
    return FALSE;
  if (hvk_acrn_process_reap (self->pid, &status))
    {
      self->exit_status = status;
      return FALSE;
    }
  return hvk_process_is_alive (self->pid, self->start_time);
}

/* ---- create / start / stop ---- */

static gboolean
hvk_acrn_hypervisor_create_vm (HvkHypervisor  *hypervisor,
                               const char     *id,
                               HvkConfig      *config,
                               GError        **error)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (hypervisor);
  g_autofree char *vm_name = NULL;
  g_autofree char *acrn_path = NULL;
  g_autofree char *ctl_path = NULL;
  g_autofree char *store = NULL;
  g_autofree char *console_path = NULL;
  g_autofree char *apic_id = NULL;
  const char *driver;

  if (!check_state (self, "create", HVK_VM_STATE_NONE, error))
    return FALSE;
  if (!hvk_config_validate (config, error))
    return FALSE;

  driver = hvk_config_get_string (config, "block_device_driver");
  if (hvk_config_has_key (config, "block_device_driver")
      && g_strcmp0 (driver, "virtio-blk") != 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "%s: [%s] block_device_driver: '%s' is not supported by backend '%s' "
                   "(it supports only virtio-blk)", config_source (config), config_group (config),
                   driver ? driver : "", HVK_ACRN_BACKEND_NAME);
      return FALSE;
    }

  vm_name = hvk_acrn_vm_name (id, error);
  if (vm_name == NULL)
    return FALSE;

  acrn_path = resolve_binary (config, "path", "valid_hypervisor_paths",
                              HVK_ACRN_DEFAULT_PATH, error);
  if (acrn_path == NULL)
    return FALSE;
  ctl_path = resolve_binary (config, "ctlpath", "valid_ctlpaths",
                             HVK_ACRN_DEFAULT_CTLPATH, error);
  if (ctl_path == NULL)
    return FALSE;

  store = g_strdup (hvk_config_get_vm_store_path (config));
  if (store == NULL)
    store = hvk_vm_store_default_dir ();
  console_path = hvk_vm_store_socket_path (store, id, HVK_ACRN_CONSOLE_SOCKET, error);
  if (console_path == NULL)
    return FALSE;

  /* The CPU the VM would get; taken for real at start. */
  if (!hvk_acrn_affinity_peek (store, self->cpuinfo_path, &apic_id, error))
    return FALSE;

  self->id = g_strdup (id);
  self->config = g_object_ref (config);
  self->store = g_steal_pointer (&store);
  self->vm_name = g_steal_pointer (&vm_name);
  self->acrn_path = g_steal_pointer (&acrn_path);
  self->ctl_path = g_steal_pointer (&ctl_path);
  self->console_path = g_steal_pointer (&console_path);
  self->image_path = g_strdup (hvk_config_get_asset_path (config, HVK_ASSET_IMAGE));
  self->memory_mb = (guint32) hvk_config_get_uint (config, "default_memory");

  if (!rebuild (self, self->extra_devices, apic_id, error))
    {
      g_clear_pointer (&self->id, g_free);
      g_clear_object (&self->config);
      return FALSE;
    }

  self->state = HVK_VM_STATE_CREATED;
  return TRUE;
}

static gboolean
hvk_acrn_hypervisor_start_vm (HvkHypervisor  *hypervisor,
                              guint           timeout_ms,
                              GCancellable   *cancellable,
                              GError        **error)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (hypervisor);
  g_autofree char *vm_dir = NULL;
  g_autofree char *log_path = NULL;
  g_autofree char *apic_id = NULL;
  gint64 deadline;
  int status;
  GPid pid;

  if (!check_state (self, "start", HVK_VM_STATE_CREATED, error))
    return FALSE;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  /* Kata's appendImage stats the image. */
  if (!g_file_test (self->image_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "%s: [%s] image '%s' does not exist", config_source (self->config),
                   config_group (self->config), self->image_path);
      return FALSE;
    }

  vm_dir = hvk_vm_store_ensure_dir (self->store, self->id, error);
  if (vm_dir == NULL)
    return FALSE;

  /* Take a CPU under the index lock; another VM may have taken the one
   * create_vm() saw. */
  if (!hvk_acrn_affinity_take (self->store, self->cpuinfo_path, &apic_id, error))
    {
      remove_vm_dir (self);
      return FALSE;
    }
  if (g_strcmp0 (apic_id, self->apic_id) != 0
      && !rebuild (self, self->extra_devices, apic_id, error))
    {
      hvk_acrn_affinity_release (self->store, NULL);
      remove_vm_dir (self);
      return FALSE;
    }

  log_path = g_build_filename (vm_dir, HVK_ACRN_LOG_FILE, NULL);
  if (!hvk_acrn_process_spawn ((const char * const *) self->argv, log_path, &pid, error))
    {
      hvk_acrn_affinity_release (self->store, NULL);
      remove_vm_dir (self);
      return FALSE;
    }

  /* acrn-dm refuses bad arguments at once: watch it for a moment. */
  deadline = g_get_monotonic_time ()
             + (gint64) MIN (timeout_ms, self->start_grace_ms) * G_TIME_SPAN_MILLISECOND;
  while (g_get_monotonic_time () < deadline)
    {
      if (hvk_acrn_process_reap (pid, &status))
        {
          g_autofree char *why = describe_wait_status (status);
          /* The end of its output says why it died. */
          g_autofree char *output = hvk_process_read_log_tail (log_path, 2048);

          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "acrn-dm '%s' of VM '%s' exited during start with %s%s%s",
                       self->acrn_path, self->id, why, output ? ": " : "",
                       output ? output : "");
          hvk_acrn_affinity_release (self->store, NULL);
          remove_vm_dir (self);
          return FALSE;
        }
      if (g_cancellable_is_cancelled (cancellable))
        {
          kill (pid, SIGKILL);
          waitpid (pid, NULL, 0);
          hvk_acrn_affinity_release (self->store, NULL);
          remove_vm_dir (self);
          return !g_cancellable_set_error_if_cancelled (cancellable, error);
        }
      g_usleep (10 * G_TIME_SPAN_MILLISECOND);
    }

  self->pid = pid;
  self->start_time = hvk_process_get_start_time (pid);
  self->exit_status = -1;
  self->state = HVK_VM_STATE_RUNNING;
  return TRUE;
}

/* Polls until acrn-dm is gone or @timeout_ms passed. */
static gboolean
wait_for_exit (HvkAcrnHypervisor *self,
               guint              timeout_ms,
               GCancellable      *cancellable)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * G_TIME_SPAN_MILLISECOND;

  while (process_running (self))
    {
      if (g_get_monotonic_time () >= deadline || g_cancellable_is_cancelled (cancellable))
        return FALSE;
      g_usleep (10 * G_TIME_SPAN_MILLISECOND);
    }
  return TRUE;
}

static gboolean
hvk_acrn_hypervisor_stop_vm (HvkHypervisor  *hypervisor,
                             gboolean        wait_only,
                             GCancellable   *cancellable,
                             GError        **error)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (hypervisor);

  switch (self->state)
    {
    case HVK_VM_STATE_NONE:
      return check_state (self, "stop", HVK_VM_STATE_RUNNING, error);
    case HVK_VM_STATE_STOPPED:
      return TRUE;
    case HVK_VM_STATE_CREATED:
      /* Never launched: no CPU taken. */
      remove_vm_dir (self);
      self->state = HVK_VM_STATE_STOPPED;
      return TRUE;
    case HVK_VM_STATE_RUNNING:
    case HVK_VM_STATE_PAUSED:
    default:
      break;
    }

  if (process_running (self))
    {
      /* acrn-dm shuts the guest down on SIGINT. */
      if (!wait_only && kill (self->pid, SIGINT) < 0 && errno != ESRCH)
        {
          int saved_errno = errno;
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "Cannot signal acrn-dm (pid %d) of VM '%s': %s",
                       (int) self->pid, self->id, g_strerror (saved_errno));
          return FALSE;
        }

      if (!wait_for_exit (self, self->stop_timeout_ms, cancellable))
        {
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return FALSE;
          g_info ("acrn-dm (pid %d) of VM '%s' ignored SIGINT for %u ms: SIGKILL",
                  (int) self->pid, self->id, self->stop_timeout_ms);
          if (process_running (self))
            kill (self->pid, SIGKILL);
          if (!wait_for_exit (self, 5000, NULL))
            {
              g_set_error (error, HVK_ERROR, HVK_ERROR_TIMEOUT,
                           "acrn-dm (pid %d) of VM '%s' survived SIGKILL",
                           (int) self->pid, self->id);
              return FALSE;
            }
        }
    }

  if (!hvk_acrn_affinity_release (self->store, error))
    return FALSE;
  remove_vm_dir (self);
  self->state = HVK_VM_STATE_STOPPED;
  return TRUE;
}

/* ---- devices ---- */

static gboolean
hvk_acrn_hypervisor_add_device (HvkHypervisor  *hypervisor,
                                HvkDevice      *device,
                                GError        **error)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (hypervisor);
  g_autoptr(GPtrArray) extra = NULL;

  if (hvk_acrn_device_unsupported (hvk_hypervisor_get_registry (hypervisor),
                                   device, "cold-plug", error))
    return FALSE;
  if (!check_state (self, "add a device to", HVK_VM_STATE_CREATED, error))
    return FALSE;

  /* Build with the device now so a bad one fails here, not at start. */
  extra = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->extra_devices->len; i++)
    g_ptr_array_add (extra, g_object_ref (g_ptr_array_index (self->extra_devices, i)));
  g_ptr_array_add (extra, g_object_ref (device));

  if (!rebuild (self, extra, self->apic_id, error))
    return FALSE;

  g_ptr_array_unref (self->extra_devices);
  self->extra_devices = g_steal_pointer (&extra);
  return TRUE;
}

static gboolean
blkrescan (HvkAcrnHypervisor  *self,
           int                 slot,
           const char         *file,
           GCancellable       *cancellable,
           GError            **error)
{
  g_autofree char *slot_file = g_strdup_printf ("%d,%s", slot, file);
  const char *argv[] = { self->ctl_path, "blkrescan", self->vm_name, slot_file, NULL };

  return hvk_acrn_process_run (argv, cancellable, error);
}

static const char *
hotplug_owner_of (HvkAcrnHypervisor *self,
                  gint64             index)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->hotplugged);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (GPOINTER_TO_INT (value) == index)
      return key;
  return NULL;
}

static gboolean
hvk_acrn_hypervisor_hotplug_add_device (HvkHypervisor  *hypervisor,
                                        HvkDevice      *device,
                                        GCancellable   *cancellable,
                                        GError        **error)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (hypervisor);
  const char *id = hvk_device_get_id (device);
  const char *file = NULL;
  const char *owner;
  gint64 index = -1;

  if (!g_str_equal (hvk_device_get_kind_name (device), HVK_DEVICE_KIND_BLOCK))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "backend '%s' does not support hotplug of %s devices (device "
                   "'%s'): only block devices, through acrnctl blkrescan",
                   HVK_ACRN_BACKEND_NAME, hvk_device_get_kind_name (device), id);
      return FALSE;
    }
  if (!check_state (self, "hotplug a device into", HVK_VM_STATE_RUNNING, error)
      || !hvk_io_limits_refuse (device, HVK_ACRN_BACKEND_NAME, HVK_ACRN_NO_LIMITER, error))
    return FALSE;

  if (hvk_device_kind_lookup_prop (hvk_device_get_kind (device), "swap") != NULL
      && hvk_device_has (device, "swap") && hvk_device_get_boolean (device, "swap"))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "backend '%s' does not support swap drives (device '%s')",
                   HVK_ACRN_BACKEND_NAME, id);
      return FALSE;
    }

  if (hvk_device_has (device, "path"))
    file = hvk_device_get_string (device, "path");
  if (file == NULL || *file == '\0' || strchr (file, ',') != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "Device '%s' (kind block): path '%s' is empty or contains ','",
                   id, file ? file : "");
      return FALSE;
    }

  if (!hvk_acrn_device_get_index (device, "index", &index)
      || index < 1 || index > HVK_ACRN_BLK_POOL_SIZE)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "Device '%s' (kind block): drive index %s%" G_GINT64_FORMAT
                   " is outside the hotplug pool of backend '%s' (1..%d)", id,
                   index < 0 ? "unset " : "", MAX (index, 0),
                   HVK_ACRN_BACKEND_NAME, HVK_ACRN_BLK_POOL_SIZE);
      return FALSE;
    }
  if (self->layout == NULL || self->layout->blk_slots[index] < 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_STATE,
                   "VM '%s' has no placeholder drive at index %" G_GINT64_FORMAT,
                   self->id, index);
      return FALSE;
    }
  if (g_hash_table_contains (self->hotplugged, id))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "VM '%s' already has a hotplugged device '%s'", self->id, id);
      return FALSE;
    }
  owner = hotplug_owner_of (self, index);
  if (owner != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_BUSY,
                   "Drive index %" G_GINT64_FORMAT " of VM '%s' holds device '%s'",
                   index, self->id, owner);
      return FALSE;
    }

  if (!blkrescan (self, self->layout->blk_slots[index], file, cancellable, error))
    return FALSE;

  g_hash_table_insert (self->hotplugged, g_strdup (id), GINT_TO_POINTER ((int) index));
  return TRUE;
}

static gboolean
hvk_acrn_hypervisor_hotplug_remove_device (HvkHypervisor  *hypervisor,
                                           const char     *device_id,
                                           GCancellable   *cancellable,
                                           GError        **error)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (hypervisor);
  gpointer value;

  if (!check_state (self, "unplug a device from", HVK_VM_STATE_RUNNING, error))
    return FALSE;
  if (!g_hash_table_lookup_extended (self->hotplugged, device_id, NULL, &value))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "VM '%s' (backend '%s') has no hotplugged device '%s'",
                   self->id, HVK_ACRN_BACKEND_NAME, device_id);
      return FALSE;
    }

  /* Back to an empty placeholder. */
  if (!blkrescan (self, self->layout->blk_slots[GPOINTER_TO_INT (value)],
                  HVK_ACRN_NODISK, cancellable, error))
    return FALSE;

  g_hash_table_remove (self->hotplugged, device_id);
  return TRUE;
}

/* ---- queries ---- */

static guint32
hvk_acrn_hypervisor_get_total_memory_mb (HvkHypervisor *hypervisor)
{
  return HVK_ACRN_HYPERVISOR (hypervisor)->memory_mb;
}

static gboolean
hvk_acrn_hypervisor_get_vm_console (HvkHypervisor  *hypervisor,
                                    char          **protocol,
                                    char          **url,
                                    GError        **error)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (hypervisor);

  if (self->console_path == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_STATE,
                   "VM of backend '%s' has no console before create_vm",
                   HVK_ACRN_BACKEND_NAME);
      return FALSE;
    }
  *protocol = g_strdup ("unix");
  *url = g_strdup (self->console_path);
  return TRUE;
}

static HvkCapabilities
hvk_acrn_hypervisor_capabilities (HvkHypervisor *hypervisor)
{
  return HVK_ACRN_CAPABILITIES;
}

static HvkConfig *
hvk_acrn_hypervisor_get_config (HvkHypervisor *hypervisor)
{
  return HVK_ACRN_HYPERVISOR (hypervisor)->config;
}

static gboolean
hvk_acrn_hypervisor_get_launch_command (HvkHypervisor  *hypervisor,
                                        GStrv          *argv,
                                        char          **kernel_cmdline,
                                        GError        **error)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (hypervisor);

  if (self->argv == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_STATE,
                   "VM '%s' has no acrn-dm command line", self->id ? self->id : "(none)");
      return FALSE;
    }
  *argv = g_strdupv (self->argv);
  *kernel_cmdline = g_strdup (self->kernel_cmdline);
  return TRUE;
}

/* The process-level figures: acrn-dm has no monitor to ask for more. */
static HvkStats *
hvk_acrn_hypervisor_get_stats (HvkHypervisor  *hypervisor,
                               GCancellable   *cancellable,
                               GError        **error)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (hypervisor);
  g_autoptr(HvkStats) stats = hvk_stats_new ();

  if (self->pid <= 0 || !hvk_process_is_alive (self->pid, self->start_time))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "VM '%s': acrn-dm is not running", self->id);
      return NULL;
    }
  if (!hvk_stats_add_process (stats, (int) self->pid, "cpu.time_ns", "memory.rss_bytes", error))
    return NULL;
  hvk_stats_set (stats, "memory.configured_bytes", (guint64) self->memory_mb * 1024 * 1024);
  return g_steal_pointer (&stats);
}

static GArray *
hvk_acrn_hypervisor_get_pids (HvkHypervisor *hypervisor)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (hypervisor);
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (int));

  if (self->state == HVK_VM_STATE_RUNNING && self->pid > 0)
    {
      int pid = (int) self->pid;
      g_array_append_val (pids, pid);
    }
  return pids;
}

static gboolean
hvk_acrn_hypervisor_check (HvkHypervisor  *hypervisor,
                           GError        **error)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (hypervisor);

  if (self->state != HVK_VM_STATE_RUNNING || !process_running (self))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "acrn-dm of VM '%s' is not running (pid %d)",
                   self->id ? self->id : "", (int) self->pid);
      return FALSE;
    }
  return TRUE;
}

static HvkVmState
hvk_acrn_hypervisor_get_state (HvkHypervisor *hypervisor)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (hypervisor);

  /* acrn-dm may have died on its own (guest poweroff). */
  if (self->state == HVK_VM_STATE_RUNNING && !process_running (self))
    return HVK_VM_STATE_STOPPED;
  return self->state;
}

/* ---- GObject ---- */

static void
hvk_acrn_hypervisor_iface_init (HvkHypervisorInterface *iface)
{
  iface->create_vm = hvk_acrn_hypervisor_create_vm;
  iface->start_vm = hvk_acrn_hypervisor_start_vm;
  iface->stop_vm = hvk_acrn_hypervisor_stop_vm;
  /* pause_vm, resume_vm, save_vm, resize_memory, resize_vcpus,
   * get_thread_ids, generate_socket: ACRN cannot; the wrappers say
   * HVK_ERROR_NOT_SUPPORTED (Kata pretended success). */
  iface->add_device = hvk_acrn_hypervisor_add_device;
  iface->hotplug_add_device = hvk_acrn_hypervisor_hotplug_add_device;
  iface->hotplug_remove_device = hvk_acrn_hypervisor_hotplug_remove_device;
  iface->get_total_memory_mb = hvk_acrn_hypervisor_get_total_memory_mb;
  iface->get_vm_console = hvk_acrn_hypervisor_get_vm_console;
  iface->capabilities = hvk_acrn_hypervisor_capabilities;
  iface->get_config = hvk_acrn_hypervisor_get_config;
  iface->get_launch_command = hvk_acrn_hypervisor_get_launch_command;
  iface->get_pids = hvk_acrn_hypervisor_get_pids;
  iface->get_stats = hvk_acrn_hypervisor_get_stats;
  iface->check = hvk_acrn_hypervisor_check;
  iface->save_private = hvk_acrn_hypervisor_save_private;
  iface->load_private = hvk_acrn_hypervisor_load_private;
  iface->get_state = hvk_acrn_hypervisor_get_state;
}

static void
hvk_acrn_hypervisor_finalize (GObject *object)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (object);

  g_clear_object (&self->registry);
  g_free (self->id);
  g_clear_object (&self->config);
  g_free (self->store);
  g_free (self->vm_name);
  g_free (self->acrn_path);
  g_free (self->ctl_path);
  g_free (self->console_path);
  g_free (self->apic_id);
  g_free (self->image_path);
  g_strfreev (self->argv);
  g_free (self->kernel_cmdline);
  hvk_acrn_layout_free (self->layout);
  g_ptr_array_unref (self->extra_devices);
  g_hash_table_unref (self->hotplugged);
  g_free (self->cpuinfo_path);

  G_OBJECT_CLASS (hvk_acrn_hypervisor_parent_class)->finalize (object);
}

static void
hvk_acrn_hypervisor_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (object);

  switch (prop_id)
    {
    case PROP_CPUINFO_PATH:
      g_value_set_string (value, self->cpuinfo_path);
      break;
    case PROP_STOP_TIMEOUT_MS:
      g_value_set_uint (value, self->stop_timeout_ms);
      break;
    case PROP_START_GRACE_MS:
      g_value_set_uint (value, self->start_grace_ms);
      break;
    case PROP_REGISTRY:
      g_value_set_object (value, self->registry);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hvk_acrn_hypervisor_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (object);

  switch (prop_id)
    {
    case PROP_CPUINFO_PATH:
      g_free (self->cpuinfo_path);
      self->cpuinfo_path = g_value_dup_string (value);
      if (self->cpuinfo_path == NULL)
        self->cpuinfo_path = g_strdup ("/proc/cpuinfo");
      break;
    case PROP_STOP_TIMEOUT_MS:
      self->stop_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_START_GRACE_MS:
      self->start_grace_ms = g_value_get_uint (value);
      break;
    case PROP_REGISTRY:
      g_set_object (&self->registry, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hvk_acrn_hypervisor_class_init (HvkAcrnHypervisorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = hvk_acrn_hypervisor_finalize;
  object_class->get_property = hvk_acrn_hypervisor_get_property;
  object_class->set_property = hvk_acrn_hypervisor_set_property;

  /**
   * HvkAcrnHypervisor:cpuinfo-path:
   *
   * Where the host's CPUs and their APIC ids are read (tests point it at
   * a fixed file).
   */
  properties[PROP_CPUINFO_PATH] =
    g_param_spec_string ("cpuinfo-path", NULL, NULL, "/proc/cpuinfo",
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  /**
   * HvkAcrnHypervisor:stop-timeout-ms:
   *
   * How long stop_vm() waits after SIGINT before SIGKILL.
   */
  properties[PROP_STOP_TIMEOUT_MS] =
    g_param_spec_uint ("stop-timeout-ms", NULL, NULL, 0, G_MAXUINT,
                       HVK_ACRN_STOP_TIMEOUT_MS,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);
  /**
   * HvkAcrnHypervisor:start-grace-ms:
   *
   * How long start_vm() watches acrn-dm for an early exit (bounded by
   * its timeout).
   */
  properties[PROP_START_GRACE_MS] =
    g_param_spec_uint ("start-grace-ms", NULL, NULL, 0, G_MAXUINT,
                       HVK_ACRN_START_GRACE_MS,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
  g_object_class_override_property (object_class, PROP_REGISTRY, "registry");
}

static void
hvk_acrn_hypervisor_init (HvkAcrnHypervisor *self)
{
  self->state = HVK_VM_STATE_NONE;
  self->exit_status = -1;
  self->extra_devices = g_ptr_array_new_with_free_func (g_object_unref);
  self->hotplugged = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}
