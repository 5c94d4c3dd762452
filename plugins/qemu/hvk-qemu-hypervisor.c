/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vhost.h>

#include "hvk-qemu-private.h"
#include "hvk-qemu-build.h"
#include "hvk-qemu-hypervisor-private.h"
#include "hvk-qemu-virtiofsd.h"
#include "hvk-qemu-qmp.h"

/* HvkQemuHypervisor: the lifecycle of one QEMU VM, after Kata's qemu.go.
 *
 * create_vm() validates and builds the command line (hvk-qemu-cmdline.c);
 * start_vm() launches QEMU under hvkit-monitor (hvk-qemu-launch.c), so the
 * VM outlives the process that started it, and waits for QMP; every later
 * operation talks QMP (hvk-qemu-qmp.c), but for check() and the vCPU
 * threads, read from what hvkit-monitor and /proc keep
 * (hvk-qemu-observe.c).  save_state()/load_state() carry what a second
 * process needs to take the VM over; it reconnects to QMP on its first
 * command. */


static void hvk_qemu_hypervisor_iface_init (HvkHypervisorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (HvkQemuHypervisor, hvk_qemu_hypervisor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (HVK_TYPE_HYPERVISOR,
                                                      hvk_qemu_hypervisor_iface_init))

void
hvk_qemu_paths_clear (HvkQemuPaths *paths)
{
  g_clear_pointer (&paths->vm_dir, g_free);
  g_clear_pointer (&paths->qmp_socket, g_free);
  g_clear_pointer (&paths->events_socket, g_free);
  g_clear_pointer (&paths->monitor_socket, g_free);
  g_clear_pointer (&paths->console_socket, g_free);
  g_clear_pointer (&paths->pid_file, g_free);
  g_clear_pointer (&paths->virtiofsd_socket, g_free);
  g_clear_pointer (&paths->exit_file, g_free);
  g_clear_pointer (&paths->runstate_file, g_free);
}

/* ---- small helpers ---- */

HvkRegistry *
hvk_qemu_vm_registry (HvkQemuHypervisor *self)
{
  return self->registry;
}

const HvkQemuSettings *
hvk_qemu_vm_settings (HvkQemuHypervisor *self)
{
  /* Read on first use after create_vm() validated the config, or after a
   * restore replaced it. */
  if (self->settings == NULL || self->settings_config != self->config)
    {
      g_clear_pointer (&self->settings, hvk_qemu_settings_free);
      self->settings = hvk_qemu_settings_new (self->config);
      self->settings_config = self->config;
    }
  return self->settings;
}

gboolean
hvk_qemu_vm_is_virtio_fs (HvkQemuHypervisor *self)
{
  return g_strcmp0 (hvk_qemu_vm_settings (self)->shared_fs, "virtio-fs") == 0;
}

gboolean
hvk_qemu_vm_alive (HvkQemuHypervisor *self)
{
  return self->pid > 0 && hvk_process_is_alive (self->pid, self->pid_start_time);
}

gboolean
hvk_qemu_vm_check_state (HvkQemuHypervisor *self,
             const char        *operation,
             guint              allowed,
             GError           **error)
{
  if (allowed & (1u << self->state))
    return TRUE;
  g_set_error (error, HVK_ERROR, HVK_ERROR_STATE,
               "cannot %s VM '%s': it is %s", operation,
               self->id ? self->id : "(none)",
               self->state == HVK_VM_STATE_NONE ? "not created"
                                                : hvk_vm_state_to_string (self->state));
  return FALSE;
}

#define S(state) (1u << HVK_VM_STATE_ ## state)

/* Connects QMP when needed: after load_state() in another process, or
 * after a lost connection. */
gboolean
hvk_qemu_vm_qmp_ensure (HvkQemuHypervisor *self,
            GCancellable      *cancellable,
            GError           **error)
{
  if (self->qmp != NULL && hvk_qmp_client_is_connected (self->qmp))
    return TRUE;
  if (self->pid > 0 && !hvk_qemu_vm_alive (self))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_DISCONNECTED,
                   "QEMU (pid %d) of VM '%s' is not running", self->pid, self->id);
      return FALSE;
    }
  if (self->qmp == NULL)
    self->qmp = hvk_qmp_client_new ();
  if (!hvk_qmp_client_connect (self->qmp, self->paths.qmp_socket,
                               QMP_CONNECT_TIMEOUT_MS, cancellable, error))
    {
      /* QEMU greets one monitor client at a time. */
      if (error != NULL && g_error_matches (*error, HVK_ERROR, HVK_ERROR_TIMEOUT))
        g_prefix_error (error, "VM '%s' (another process may hold its QMP monitor): ", self->id);
      return FALSE;
    }
  return TRUE;
}

JsonNode *
hvk_qemu_vm_qmp_exec (HvkQemuHypervisor *self,
          const char        *command,
          JsonObject        *arguments,
          GCancellable      *cancellable,
          GError           **error)
{
  JsonNode *ret;

  if (!hvk_qemu_vm_qmp_ensure (self, cancellable, error))
    return NULL;
  ret = hvk_qmp_client_execute (self->qmp, command, arguments,
                                QMP_COMMAND_TIMEOUT_MS, cancellable, error);
  /* A lost connection most often means QEMU died: say that first. */
  if (ret == NULL && error != NULL
      && g_error_matches (*error, HVK_ERROR, HVK_ERROR_DISCONNECTED)
      && self->pid > 0 && !hvk_qemu_vm_alive (self))
    g_prefix_error (error, "QEMU (pid %d) of VM '%s' is not running: ", self->pid, self->id);
  return ret;
}

gboolean
hvk_qemu_vm_qmp_run (HvkQemuHypervisor *self,
         const char        *command,
         JsonObject        *arguments,
         GCancellable      *cancellable,
         GError           **error)
{
  g_autoptr(JsonNode) ret = hvk_qemu_vm_qmp_exec (self, command, arguments, cancellable, error);

  return ret != NULL;
}

/* Removes STATE/ID and what is in it. */
static void
remove_vm_dir (HvkQemuHypervisor *self)
{
  g_autoptr(GError) error = NULL;

  if (self->id == NULL || self->paths.vm_dir == NULL)
    return;
  if (!hvk_vm_store_remove_dir (self->store, self->id, &error))
    g_debug ("cannot remove VM dir %s: %s", self->paths.vm_dir, error->message);
  self->vm_dir_created = FALSE;
}

static void
stop_virtiofsd (HvkQemuHypervisor *self)
{
  hvk_qemu_virtiofsd_stop (self->virtiofsd_pid, self->virtiofsd_start_time,
                           VIRTIOFSD_STOP_TIMEOUT_MS);
  self->virtiofsd_pid = 0;
  self->virtiofsd_start_time = 0;
}

/* The end of every stop, failed start and cleanup: nothing is left. */
void
hvk_qemu_vm_release (HvkQemuHypervisor *self)
{
  if (self->qmp != NULL)
    hvk_qmp_client_close (self->qmp);
  stop_virtiofsd (self);
  hvk_qemu_vm_remove_cgroup (self);
  hvk_qemu_vm_clear_tap_limits (self);
  g_hash_table_remove_all (self->io_limits);
  /* A VM that ran keeps its logs (`hvkit logs`); a start that failed
   * leaves nothing (its error carried the log's tail). */
  if (self->id != NULL && self->paths.vm_dir != NULL
      && (self->state == HVK_VM_STATE_RUNNING || self->state == HVK_VM_STATE_PAUSED
          || self->state == HVK_VM_STATE_STOPPED))
    hvk_vm_store_keep_logs (self->store, self->id);
  remove_vm_dir (self);
  self->pid = 0;
  self->pid_start_time = 0;
  self->monitor_pid = 0;
  self->monitor_start_time = 0;
  g_ptr_array_set_size (self->hotplugged, 0);
  self->next_dimm = 0;
  self->balloon_target_mb = 0;
  self->balloon_stats_interval_s = 0;
  if (self->layout != NULL)
    {
      self->vcpus = self->layout->boot_vcpus;
      self->memory_mb = self->layout->boot_memory_mb;
    }
}

/* ---- GObject ---- */

static void
hvk_qemu_hypervisor_dispose (GObject *object)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (object);

  /* A VM created but never started (`hvkit argv`) leaves nothing behind. */
  if (self->state == HVK_VM_STATE_CREATED && self->vm_dir_created)
    remove_vm_dir (self);
  g_clear_object (&self->qmp);

  G_OBJECT_CLASS (hvk_qemu_hypervisor_parent_class)->dispose (object);
}

static void
hvk_qemu_hypervisor_finalize (GObject *object)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (object);

  g_clear_object (&self->registry);
  g_free (self->id);
  g_clear_object (&self->config);
  g_clear_pointer (&self->settings, hvk_qemu_settings_free);
  g_free (self->store);
  hvk_qemu_paths_clear (&self->paths);
  g_free (self->log_file);
  g_clear_object (&self->cmdline);
  g_strfreev (self->argv);
  g_clear_pointer (&self->cgroup, hvk_cgroup_unref);
  g_free (self->kernel_cmdline);
  g_free (self->restore_dir);
  g_free (self->uuid);
  g_clear_pointer (&self->layout, hvk_qemu_layout_free);
  g_ptr_array_unref (self->cold_devices);
  g_ptr_array_unref (self->hotplugged);
  g_hash_table_unref (self->io_limits);

  G_OBJECT_CLASS (hvk_qemu_hypervisor_parent_class)->finalize (object);
}

enum { PROP_0, PROP_REGISTRY };

static void
hvk_qemu_hypervisor_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (object);

  switch (prop_id)
    {
    case PROP_REGISTRY:
      g_value_set_object (value, self->registry);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hvk_qemu_hypervisor_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (object);

  switch (prop_id)
    {
    case PROP_REGISTRY:
      g_set_object (&self->registry, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hvk_qemu_hypervisor_class_init (HvkQemuHypervisorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hvk_qemu_hypervisor_dispose;
  object_class->finalize = hvk_qemu_hypervisor_finalize;
  object_class->get_property = hvk_qemu_hypervisor_get_property;
  object_class->set_property = hvk_qemu_hypervisor_set_property;
  g_object_class_override_property (object_class, PROP_REGISTRY, "registry");
}

static void
hvk_qemu_hypervisor_init (HvkQemuHypervisor *self)
{
  self->cold_devices = g_ptr_array_new_with_free_func (g_object_unref);
  self->hotplugged = hvk_qemu_records_new ();
  self->io_limits = hvk_qemu_vm_io_limits_new ();
  self->state = HVK_VM_STATE_NONE;
}

/* ---- create ---- */

/* Builds (or rebuilds, after add_device()) the command line. */
gboolean
hvk_qemu_vm_build_cmdline (HvkQemuHypervisor *self,
               GError           **error)
{
  g_autoptr(HvkQemuLayout) layout = NULL;
  g_autoptr(HvkCmdline) cmdline = NULL;
  g_autofree char *kernel_cmdline = NULL;
  g_autofree char *uuid = NULL;

  /* The builder says which kernel command line and uuid it used: no
   * re-scan of the argv, no second build when there is no -append. */
  cmdline = hvk_qemu_build_cmdline (hvk_qemu_vm_registry (self), self->id, self->config,
                                    hvk_qemu_vm_settings (self), &self->paths,
                                    self->cold_devices, &layout, &kernel_cmdline, &uuid, error);
  if (cmdline == NULL)
    return FALSE;

  g_strfreev (self->argv);
  self->argv = g_strdupv ((char **) hvk_cmdline_get_argv (cmdline));
  g_free (self->kernel_cmdline);
  self->kernel_cmdline = g_steal_pointer (&kernel_cmdline);
  g_free (self->uuid);
  self->uuid = g_steal_pointer (&uuid);
  g_clear_pointer (&self->layout, hvk_qemu_layout_free);
  self->layout = g_steal_pointer (&layout);
  g_clear_object (&self->cmdline);
  self->cmdline = g_steal_pointer (&cmdline);
  self->vcpus = self->layout ? self->layout->boot_vcpus : 0;
  self->memory_mb = self->layout ? self->layout->boot_memory_mb : 0;
  return TRUE;
}

static gboolean
check_file (HvkConfig   *config,
            const char  *what,
            const char  *key,
            const char  *path,
            gboolean     executable,
            GError     **error)
{
  if (path == NULL || !g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "%s: [%s] %s: %s %s does not exist",
                   hvk_config_get_source (config) ? hvk_config_get_source (config) : "configuration",
                   hvk_config_get_group (config), key, what, path ? path : "(unset)");
      return FALSE;
    }
  if (executable && (g_file_test (path, G_FILE_TEST_IS_DIR)
                     || !g_file_test (path, G_FILE_TEST_IS_EXECUTABLE)))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "%s: [%s] %s: %s %s is not an executable file",
                   hvk_config_get_source (config) ? hvk_config_get_source (config) : "configuration",
                   hvk_config_get_group (config), key, what, path);
      return FALSE;
    }
  return TRUE;
}

static gboolean
prepare_paths (HvkQemuHypervisor *self,
               GError           **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *pid_file = NULL;
  /* rootless: what QEMU creates (sockets, pid file) goes in its own
   * dir, STATE/ID/vmm, the only one it may write to (hvk-qemu-identity.h). */
  const char *sub = hvk_qemu_vm_settings (self)->rootless ? HVK_QEMU_VMM_DIR_NAME "/" : "";
  g_autofree char *qmp_name = g_strconcat (sub, "qmp.sock", NULL);
  g_autofree char *events_name = g_strconcat (sub, "events.sock", NULL);
  g_autofree char *console_name = g_strconcat (sub, "console.sock", NULL);
  g_autofree char *monitor_name = g_strconcat (sub, "monitor.sock", NULL);
  gboolean existed;
  int pid;

  dir = g_build_filename (self->store, self->id, NULL);
  existed = g_file_test (dir, G_FILE_TEST_EXISTS);

  /* Another VM of that id still running: refuse rather than clobber it. */
  pid_file = g_build_filename (dir, sub, "pid", NULL);
  if (existed && hvk_process_read_pid_file (pid_file, &pid, NULL)
      && hvk_process_is_alive (pid, 0))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_BUSY,
                   "VM '%s' already exists and runs (pid %d, %s)", self->id, pid, dir);
      return FALSE;
    }

  g_clear_pointer (&dir, g_free);
  dir = hvk_vm_store_ensure_dir (self->store, self->id, error);
  if (dir == NULL)
    return FALSE;
  self->vm_dir_created = !existed;
  self->paths.vm_dir = g_steal_pointer (&dir);
  self->paths.pid_file = g_steal_pointer (&pid_file);
  self->paths.exit_file = g_build_filename (self->paths.vm_dir, "exit", NULL);
  self->paths.runstate_file = g_build_filename (self->paths.vm_dir, "runstate", NULL);
  self->log_file = g_build_filename (self->paths.vm_dir, QEMU_LOG_NAME, NULL);

  if ((self->paths.qmp_socket = hvk_vm_store_socket_path (self->store, self->id, qmp_name, error)) == NULL
      || (self->paths.events_socket = hvk_vm_store_socket_path (self->store, self->id, events_name, error)) == NULL
      || (self->paths.console_socket = hvk_vm_store_socket_path (self->store, self->id, console_name, error)) == NULL
      || (self->paths.virtiofsd_socket = hvk_vm_store_socket_path (self->store, self->id, "vhost-fs.sock", error)) == NULL)
    {
      g_prefix_error (error, "cannot create VM '%s' in state dir %s: ", self->id, self->store);
      return FALSE;
    }
  /* hvkit-monitor's: why QEMU ends, a guest panic to dump. */
  if ((self->paths.monitor_socket = hvk_vm_store_socket_path (self->store, self->id, monitor_name, error)) == NULL)
    {
      g_prefix_error (error, "cannot create VM '%s' in state dir %s: ", self->id, self->store);
      return FALSE;
    }
  return TRUE;
}

static gboolean
create_vm_steps (HvkQemuHypervisor *self,
                 GError           **error)
{
  const HvkQemuSettings *settings;
  const char *kernel;
  const char *initrd;

  if (!hvk_config_validate (self->config, error))
    return FALSE;
  /* Validation may set values: the settings are read after it, once for
   * the command line and the lifecycle. */
  g_clear_pointer (&self->settings, hvk_qemu_settings_free);
  settings = hvk_qemu_vm_settings (self);

  kernel = hvk_config_get_asset_path (self->config, HVK_ASSET_KERNEL);
  if (!check_file (self->config, "kernel", "kernel", kernel, FALSE, error))
    return FALSE;
  initrd = hvk_config_get_asset_path (self->config, HVK_ASSET_INITRD);
  if (initrd != NULL && *initrd != '\0'
      && !check_file (self->config, "initrd", "initrd", initrd, FALSE, error))
    return FALSE;

  /* The VMM's identity and what it cannot have, before anything is made. */
  if (!hvk_qemu_vm_check_confinement (self, error))
    return FALSE;
  if (!prepare_paths (self, error))
    return FALSE;
  if (!hvk_qemu_vm_build_cmdline (self, error))
    return FALSE;
  /* The binary the builder used (config `path` or the default): the
   * default obeys valid_hypervisor_paths too.  The jailer passed
   * valid_jailer_paths in the core; both must be executable files. */
  return hvk_qemu_check_allowed (self->config, "path", "valid_hypervisor_paths",
                                 (const char * const *) settings->valid_hypervisor_paths,
                                 settings->path, error)
         && check_file (self->config, "QEMU binary", "path", settings->path, TRUE, error)
         && (settings->jailer_path == NULL
             || check_file (self->config, "jailer", "jailer_path", settings->jailer_path, TRUE, error));
}

static gboolean
qemu_create_vm (HvkHypervisor  *hypervisor,
                const char     *id,
                HvkConfig      *config,
                GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  const char *store;

  if (!hvk_qemu_vm_check_state (self, "create", S (NONE) | S (STOPPED), error))
    return FALSE;

  g_set_object (&self->config, config);
  g_free (self->id);
  self->id = g_strdup (id);
  store = hvk_config_get_vm_store_path (config);
  g_free (self->store);
  self->store = store ? g_strdup (store) : hvk_vm_store_default_dir ();
  hvk_qemu_paths_clear (&self->paths);
  g_clear_pointer (&self->log_file, g_free);

  if (!create_vm_steps (self, error))
    {
      if (self->vm_dir_created)
        remove_vm_dir (self);
      g_clear_object (&self->config);
      self->state = HVK_VM_STATE_NONE;
      return FALSE;
    }

  self->state = HVK_VM_STATE_CREATED;
  return TRUE;
}

static gboolean
qemu_add_device (HvkHypervisor  *hypervisor,
                 HvkDevice      *device,
                 GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);

  if (!hvk_qemu_vm_check_state (self, "cold-plug a device into", S (NONE) | S (CREATED), error))
    return FALSE;
  if (!hvk_device_validate (device, error))
    return FALSE;

  g_ptr_array_add (self->cold_devices, g_object_ref (device));
  if (self->state == HVK_VM_STATE_CREATED && !hvk_qemu_vm_build_cmdline (self, error))
    {
      g_ptr_array_remove_index (self->cold_devices, self->cold_devices->len - 1);
      return FALSE;
    }
  return TRUE;
}

/* ---- stop, pause, resume ---- */

static gboolean
qemu_stop_vm (HvkHypervisor  *hypervisor,
              gboolean        wait_only,
              GCancellable   *cancellable,
              GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  gboolean dead;

  if (self->state == HVK_VM_STATE_NONE || self->state == HVK_VM_STATE_STOPPED)
    return TRUE;
  if (self->state == HVK_VM_STATE_CREATED)
    {
      hvk_qemu_vm_release (self);
      self->state = HVK_VM_STATE_STOPPED;
      return TRUE;
    }

  /* A start interrupted before QMP answered: nobody to ask. */
  if (self->state == HVK_VM_STATE_STARTING)
    wait_only = TRUE;

  if (!wait_only && hvk_qemu_vm_alive (self))
    {
      g_autoptr(GError) quit_error = NULL;

      /* QEMU may close the socket before the reply arrives: that is a
       * successful quit too. */
      if (hvk_qemu_vm_qmp_ensure (self, cancellable, &quit_error))
        {
          g_autoptr(JsonNode) ret =
            hvk_qmp_client_execute (self->qmp, "quit", NULL, STOP_TIMEOUT_MS,
                                    cancellable, &quit_error);
        }
      if (quit_error != NULL)
        g_debug ("VM '%s': quit: %s", self->id, quit_error->message);
    }

  dead = self->pid <= 0
         || hvk_process_wait_dead (self->pid, self->pid_start_time,
                                   g_get_monotonic_time () + STOP_TIMEOUT_MS * 1000);
  if (!dead)
    dead = hvk_process_kill (self->pid, self->pid_start_time, KILL_TIMEOUT_MS);
  if (!dead)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "cannot stop VM '%s': QEMU (pid %d) survived SIGKILL", self->id, self->pid);
      return FALSE;
    }
  /* The monitor ends with QEMU (after writing its exit file); one that
   * lost its QEMU before it knew the pid is killed. */
  if (self->monitor_pid > 0
      && !hvk_process_wait_dead (self->monitor_pid, self->monitor_start_time,
                                 g_get_monotonic_time () + KILL_TIMEOUT_MS * 1000))
    hvk_process_kill (self->monitor_pid, self->monitor_start_time, KILL_TIMEOUT_MS);

  hvk_qemu_vm_release (self);
  self->state = HVK_VM_STATE_STOPPED;
  return TRUE;
}

/* Sends @command, then confirms with query-status until it says @want,
 * unless QEMU announced the change (@event) before its reply, as it
 * does when the command changed the run state. */
static gboolean
change_run_state (HvkQemuHypervisor *self,
                  const char        *operation,
                  const char        *command,
                  const char        *event,
                  const char        *want,
                  HvkVmState         new_state,
                  GCancellable      *cancellable,
                  GError           **error)
{
  gint64 deadline = g_get_monotonic_time () + STATUS_CONFIRM_TIMEOUT_MS * 1000;
  g_autofree char *status = NULL;
  g_autoptr(JsonObject) announced = NULL;
  JsonObject *stale;

  /* An event left from an earlier change proves nothing. */
  while (self->qmp != NULL && (stale = hvk_qmp_client_take_queued_event (self->qmp, event)) != NULL)
    json_object_unref (stale);
  if (!hvk_qemu_vm_qmp_run (self, command, NULL, cancellable, error))
    {
      g_prefix_error (error, "cannot %s VM '%s': ", operation, self->id);
      return FALSE;
    }
  announced = hvk_qmp_client_take_queued_event (self->qmp, event);
  if (announced != NULL)
    {
      self->state = new_state;
      return TRUE;
    }
  for (;;)
    {
      g_free (status);
      status = hvk_qemu_vm_query_status (self, cancellable, error);
      if (status == NULL)
        {
          g_prefix_error (error, "cannot %s VM '%s': ", operation, self->id);
          return FALSE;
        }
      if (g_str_equal (status, want))
        break;
      if (g_get_monotonic_time () >= deadline)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_TIMEOUT,
                       "cannot %s VM '%s': QEMU reports '%s', not '%s', after %d ms",
                       operation, self->id, status, want, STATUS_CONFIRM_TIMEOUT_MS);
          return FALSE;
        }
      g_usleep (2000);
    }
  self->state = new_state;
  return TRUE;
}

static gboolean
qemu_pause_vm (HvkHypervisor  *hypervisor,
               GCancellable   *cancellable,
               GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);

  if (!hvk_qemu_vm_check_state (self, "pause", S (RUNNING), error))
    return FALSE;
  return change_run_state (self, "pause", "stop", "STOP", "paused", HVK_VM_STATE_PAUSED,
                           cancellable, error);
}

static gboolean
qemu_resume_vm (HvkHypervisor  *hypervisor,
                GCancellable   *cancellable,
                GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);

  if (!hvk_qemu_vm_check_state (self, "resume", S (PAUSED), error))
    return FALSE;
  return change_run_state (self, "resume", "cont", "RESUME", "running", HVK_VM_STATE_RUNNING,
                           cancellable, error);
}

/* ---- queries ---- */

static guint32
qemu_get_total_memory_mb (HvkHypervisor *hypervisor)
{
  return HVK_QEMU_HYPERVISOR (hypervisor)->memory_mb;
}

static gboolean
qemu_get_vm_console (HvkHypervisor  *hypervisor,
                     char          **protocol,
                     char          **url,
                     GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);

  if (self->paths.console_socket == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_STATE,
                   "VM '%s' has no console yet (create_vm was not called)",
                   self->id ? self->id : "(none)");
      return FALSE;
    }
  if (protocol != NULL)
    *protocol = g_strdup ("unix");
  if (url != NULL)
    *url = g_strdup (self->paths.console_socket);
  return TRUE;
}

static void
qemu_disconnect (HvkHypervisor *hypervisor)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);

  if (self->qmp != NULL)
    hvk_qmp_client_close (self->qmp);
}

static HvkCapabilities
qemu_capabilities (HvkHypervisor *hypervisor)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);

  return self->config != NULL ? hvk_qemu_capabilities_for_settings (hvk_qemu_vm_settings (self))
                              : hvk_qemu_capabilities_for_config (NULL);
}

static HvkConfig *
qemu_get_config (HvkHypervisor *hypervisor)
{
  return HVK_QEMU_HYPERVISOR (hypervisor)->config;
}

static gboolean
qemu_get_launch_command (HvkHypervisor  *hypervisor,
                         GStrv          *argv,
                         char          **kernel_cmdline,
                         GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);

  if (self->argv == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_STATE,
                   "VM '%s' has no QEMU command line", self->id ? self->id : "(none)");
      return FALSE;
    }
  *argv = g_strdupv (self->argv);
  *kernel_cmdline = g_strdup (self->kernel_cmdline);
  return TRUE;
}

static GHashTable *
qemu_get_thread_ids (HvkHypervisor  *hypervisor,
                     GCancellable   *cancellable,
                     GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(GHashTable) ids = NULL;
  g_autoptr(JsonNode) ret = NULL;
  JsonArray *cpus;

  if (!hvk_qemu_vm_check_state (self, "get the vCPU threads of", S (RUNNING) | S (PAUSED), error))
    return NULL;
  /* The kernel's list first: QEMU names its vCPU threads. */
  ids = hvk_qemu_vm_vcpu_threads (self);
  if (ids != NULL)
    {
      self->vcpus = g_hash_table_size (ids);
      return g_steal_pointer (&ids);
    }
  ret = hvk_qemu_vm_qmp_exec (self, "query-cpus-fast", NULL, cancellable, error);
  if (ret == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (ret))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_QMP,
                   "QMP command 'query-cpus-fast' returned no list");
      return NULL;
    }
  ids = g_hash_table_new (NULL, NULL);
  cpus = json_node_get_array (ret);
  /* What QEMU has is the truth: a vCPU unplug that timed out may have
   * completed since (QEMU 7.2 signals it only for the CPU's lapic). */
  self->vcpus = json_array_get_length (cpus);
  for (guint i = 0; i < json_array_get_length (cpus); i++)
    {
      JsonObject *cpu = json_array_get_object_element (cpus, i);

      if (cpu == NULL)
        continue;
      g_hash_table_insert (ids,
                           GUINT_TO_POINTER ((guint) json_object_get_int_member_with_default (cpu, "cpu-index", i)),
                           GUINT_TO_POINTER ((guint) json_object_get_int_member_with_default (cpu, "thread-id", 0)));
    }
  return g_steal_pointer (&ids);
}

static gboolean
qemu_cleanup (HvkHypervisor  *hypervisor,
              GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);

  /* Only what a stopped (or never started, or dead) VM left. */
  if ((self->state == HVK_VM_STATE_RUNNING || self->state == HVK_VM_STATE_PAUSED)
      && hvk_qemu_vm_alive (self))
    return TRUE;
  if (self->state == HVK_VM_STATE_NONE)
    return TRUE;
  hvk_qemu_vm_release (self);
  if (self->state != HVK_VM_STATE_CREATED)
    self->state = HVK_VM_STATE_STOPPED;
  return TRUE;
}

static GArray *
qemu_get_pids (HvkHypervisor *hypervisor)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (int));

  /* A dead QEMU's pid is no pid of the VM's (status says how it ended). */
  if (self->pid > 0 && hvk_qemu_vm_alive (self))
    g_array_append_val (pids, self->pid);
  if (self->virtiofsd_pid > 0)
    g_array_append_val (pids, self->virtiofsd_pid);
  return pids;
}

static int
qemu_get_virtiofs_pid (HvkHypervisor *hypervisor)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);

  return self->virtiofsd_pid > 0 ? self->virtiofsd_pid : -1;
}

static gboolean
qemu_check (HvkHypervisor  *hypervisor,
            GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autofree char *status = NULL;

  if (!hvk_qemu_vm_check_state (self, "check", S (RUNNING) | S (PAUSED), error))
    return FALSE;
  if (!hvk_qemu_vm_alive (self))
    {
      g_autofree char *how = hvk_qemu_vm_describe_end (self);

      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "VM '%s': QEMU (pid %d) is not running%s%s", self->id, self->pid,
                   how ? ": it " : "", how ? how : "");
      return FALSE;
    }
  if (self->virtiofsd_pid > 0
      && !hvk_process_is_alive (self->virtiofsd_pid, self->virtiofsd_start_time))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "VM '%s': virtiofsd (pid %d) is not running", self->id, self->virtiofsd_pid);
      return FALSE;
    }
  status = hvk_qemu_vm_runstate (self, NULL, error);
  if (status == NULL)
    {
      g_prefix_error (error, "VM '%s': ", self->id);
      return FALSE;
    }
  /* -no-shutdown keeps a panicked guest's memory (for a dump or a
   * debugger): the VMM runs, the guest does not. */
  if (g_str_equal (status, "shutdown") || g_str_equal (status, "internal-error")
      || g_str_equal (status, "guest-panicked") || g_str_equal (status, "io-error"))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "VM '%s': QEMU reports status '%s'%s",
                   self->id, status, g_str_equal (status, "guest-panicked")
                   ? ": the guest panicked, QEMU keeps its memory until `hvkit stop`" : "");
      return FALSE;
    }
  return TRUE;
}

static char *
qemu_generate_socket (HvkHypervisor  *hypervisor,
                      const char     *id,
                      GError        **error)
{
  int fd = open ("/dev/vhost-vsock", O_RDWR | O_CLOEXEC);
  guint64 start;

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "cannot find a vsock context id for VM '%s': /dev/vhost-vsock: %s",
                   id, g_strerror (saved));
      return NULL;
    }
  /* As Kata's FindContextID: try ids from a random start until the
   * kernel accepts one (3 is the first id a guest may have). */
  start = (guint64) g_random_int_range (3, G_MAXINT32);
  for (guint64 i = 0; i < 4096; i++)
    {
      guint64 cid = start + i;

      if (ioctl (fd, VHOST_VSOCK_SET_GUEST_CID, &cid) == 0)
        {
          close (fd);
          return g_strdup_printf ("vsock://%" G_GUINT64_FORMAT ":%d", cid, VSOCK_AGENT_PORT);
        }
    }
  close (fd);
  g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
               "cannot find a free vsock context id for VM '%s'", id);
  return NULL;
}

static gboolean
qemu_is_rate_limiter_builtin (HvkHypervisor *hypervisor)
{
  return FALSE;
}

static HvkVmState
qemu_get_state (HvkHypervisor *hypervisor)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);

  /* QEMU killed from outside (or the guest powered off): say so. */
  if ((self->state == HVK_VM_STATE_RUNNING || self->state == HVK_VM_STATE_PAUSED)
      && !hvk_qemu_vm_alive (self))
    return HVK_VM_STATE_STOPPED;
  /* A start whose process died: starting while its QEMU (or the monitor,
   * before it reported QEMU's pid) lives, else over. */
  if (self->state == HVK_VM_STATE_STARTING && !hvk_qemu_vm_alive (self)
      && !(self->pid <= 0 && self->monitor_pid > 0
           && hvk_process_is_alive (self->monitor_pid, self->monitor_start_time)))
    return HVK_VM_STATE_STOPPED;
  return self->state;
}

static void
hvk_qemu_hypervisor_iface_init (HvkHypervisorInterface *iface)
{
  iface->create_vm = qemu_create_vm;
  iface->start_vm = hvk_qemu_vm_start;
  iface->stop_vm = qemu_stop_vm;
  iface->pause_vm = qemu_pause_vm;
  iface->resume_vm = qemu_resume_vm;
  iface->save_vm = hvk_qemu_vm_save;
  iface->save_to_dir = hvk_qemu_vm_save_to_dir;
  iface->restore_from_dir = hvk_qemu_vm_restore_from_dir;
  iface->add_device = qemu_add_device;
  iface->hotplug_add_device = hvk_qemu_vm_hotplug_add;
  iface->hotplug_remove_device = hvk_qemu_vm_hotplug_remove;
  iface->resize_memory = hvk_qemu_vm_resize_memory;
  iface->balloon = hvk_qemu_vm_balloon;
  iface->resize_vcpus = hvk_qemu_vm_resize_vcpus;
  iface->get_total_memory_mb = qemu_get_total_memory_mb;
  iface->get_vm_console = qemu_get_vm_console;
  iface->disconnect = qemu_disconnect;
  iface->capabilities = qemu_capabilities;
  iface->get_config = qemu_get_config;
  iface->get_thread_ids = qemu_get_thread_ids;
  iface->get_stats = hvk_qemu_vm_get_stats;
  iface->shutdown_vm = hvk_qemu_vm_shutdown;
  iface->reboot_vm = hvk_qemu_vm_reboot;
  iface->follow_events = hvk_qemu_vm_follow_events;
  iface->cleanup = qemu_cleanup;
  iface->get_pids = qemu_get_pids;
  iface->get_virtiofs_pid = qemu_get_virtiofs_pid;
  iface->check = qemu_check;
  iface->save_private = hvk_qemu_vm_save_private;
  iface->load_private = hvk_qemu_vm_load_private;
  iface->generate_socket = qemu_generate_socket;
  iface->is_rate_limiter_builtin = qemu_is_rate_limiter_builtin;
  iface->get_state = qemu_get_state;
  iface->get_hotplugged_devices = hvk_qemu_vm_get_hotplugged_devices;
  iface->get_launch_command = qemu_get_launch_command;
  iface->set_io_limits = hvk_qemu_vm_set_io_limits;
  iface->get_io_limits = hvk_qemu_vm_get_io_limits;
}
