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
#include "hvk-qemu-process.h"
#include "hvk-qemu-qmp.h"

/* HvkQemuHypervisor: the lifecycle of one QEMU VM, after Kata's qemu.go.
 *
 * create_vm() validates and builds the command line (hvk-qemu-cmdline.c);
 * start_vm() launches QEMU daemonized (-daemonize -pidfile), so the VM
 * outlives the process that started it, and waits for QMP; every later
 * operation talks QMP (hvk-qemu-qmp.c).  save_state()/load_state() carry
 * what a second process needs to take the VM over; it reconnects to QMP
 * on its first command. */

#define QMP_CONNECT_TIMEOUT_MS   3000
#define QMP_COMMAND_TIMEOUT_MS  10000
#define DEVICE_DELETED_TIMEOUT_MS 10000
#define STATUS_CONFIRM_TIMEOUT_MS 3000
#define STOP_TIMEOUT_MS          5000   /* Kata waits 15 s; a TCG guest quits in ms */
#define KILL_TIMEOUT_MS          3000
#define VIRTIOFSD_STOP_TIMEOUT_MS 2000
#define MIGRATION_TIMEOUT_MS    60000
#define BRIDGE_FIRST_SLOT 1
#define BRIDGE_LAST_SLOT  30
#define LOG_TAIL_BYTES    4096
#define QEMU_LOG_NAME     "qemu.log"
#define VIRTIOFSD_LOG_NAME "virtiofsd.log"
#define VSOCK_AGENT_PORT  1024

struct _HvkQemuHypervisor
{
  GObject        parent_instance;

  char          *id;
  HvkConfig     *config;
  char          *store;
  HvkQemuPaths   paths;
  char          *log_file;
  gboolean       vm_dir_created;   /* this object made STATE/ID */

  HvkCmdline    *cmdline;          /* keeps the launch-time descriptors */
  GStrv          argv;
  char          *kernel_cmdline;
  char          *uuid;
  HvkQemuLayout *layout;
  GPtrArray     *cold_devices;     /* (element-type HvkDevice) add_device() */

  HvkVmState     state;
  int            pid;
  guint64        pid_start_time;
  int            virtiofsd_pid;
  guint64        virtiofsd_start_time;

  HvkQmpClient  *qmp;
  JsonObject    *hotplugged;       /* device id -> record object */
  guint32        vcpus;
  guint32        memory_mb;
  guint          next_dimm;
};

enum {
  PROP_0,
  PROP_ARGV,
  PROP_KERNEL_CMDLINE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void hvk_qemu_hypervisor_iface_init (HvkHypervisorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (HvkQemuHypervisor, hvk_qemu_hypervisor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (HVK_TYPE_HYPERVISOR,
                                                      hvk_qemu_hypervisor_iface_init))

void
hvk_qemu_paths_clear (HvkQemuPaths *paths)
{
  g_clear_pointer (&paths->vm_dir, g_free);
  g_clear_pointer (&paths->qmp_socket, g_free);
  g_clear_pointer (&paths->console_socket, g_free);
  g_clear_pointer (&paths->pid_file, g_free);
  g_clear_pointer (&paths->virtiofsd_socket, g_free);
  paths->daemonize = FALSE;
}

/* ---- small helpers ---- */

static HvkRegistry *
get_registry (HvkQemuHypervisor *self)
{
  HvkRegistry *registry = hvk_hypervisor_get_registry (HVK_HYPERVISOR (self));

  return registry ? registry : hvk_registry_get_default ();
}

static const char *
config_string (HvkConfig  *config,
               const char *key)
{
  const char *value;

  if (config == NULL || hvk_config_lookup_key (config, key) == NULL)
    return NULL;
  value = hvk_config_get_string (config, key);
  return value != NULL && *value != '\0' ? value : NULL;
}

static gboolean
config_boolean (HvkConfig  *config,
                const char *key)
{
  return config != NULL && hvk_config_lookup_key (config, key) != NULL
         && hvk_config_get_boolean (config, key);
}

static gboolean
is_virtio_fs (HvkQemuHypervisor *self)
{
  return g_strcmp0 (config_string (self->config, "shared_fs"), "virtio-fs") == 0;
}

static gboolean
process_alive (HvkQemuHypervisor *self)
{
  return self->pid > 0 && hvk_process_is_alive (self->pid, self->pid_start_time);
}

static gboolean
check_state (HvkQemuHypervisor *self,
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
static gboolean
qmp_ensure (HvkQemuHypervisor *self,
            GCancellable      *cancellable,
            GError           **error)
{
  if (self->qmp != NULL && hvk_qmp_client_is_connected (self->qmp))
    return TRUE;
  if (self->pid > 0 && !process_alive (self))
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

static JsonNode *
qmp_exec (HvkQemuHypervisor *self,
          const char        *command,
          JsonObject        *arguments,
          GCancellable      *cancellable,
          GError           **error)
{
  JsonNode *ret;

  if (!qmp_ensure (self, cancellable, error))
    return NULL;
  ret = hvk_qmp_client_execute (self->qmp, command, arguments,
                                QMP_COMMAND_TIMEOUT_MS, cancellable, error);
  /* A lost connection most often means QEMU died: say that first. */
  if (ret == NULL && error != NULL
      && g_error_matches (*error, HVK_ERROR, HVK_ERROR_DISCONNECTED)
      && self->pid > 0 && !process_alive (self))
    g_prefix_error (error, "QEMU (pid %d) of VM '%s' is not running: ", self->pid, self->id);
  return ret;
}

static gboolean
qmp_run (HvkQemuHypervisor *self,
         const char        *command,
         JsonObject        *arguments,
         GCancellable      *cancellable,
         GError           **error)
{
  g_autoptr(JsonNode) ret = qmp_exec (self, command, arguments, cancellable, error);

  return ret != NULL;
}

static char *
query_status (HvkQemuHypervisor *self,
              GCancellable      *cancellable,
              GError           **error)
{
  g_autoptr(JsonNode) ret = qmp_exec (self, "query-status", NULL, cancellable, error);
  const char *status;

  if (ret == NULL)
    return NULL;
  status = JSON_NODE_HOLDS_OBJECT (ret)
           ? json_object_get_string_member_with_default (json_node_get_object (ret), "status", NULL)
           : NULL;
  if (status == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_QMP,
                   "QMP command 'query-status' of VM '%s' returned no status", self->id);
      return NULL;
    }
  return g_strdup (status);
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
static void
release_everything (HvkQemuHypervisor *self)
{
  if (self->qmp != NULL)
    hvk_qmp_client_close (self->qmp);
  stop_virtiofsd (self);
  remove_vm_dir (self);
  self->pid = 0;
  self->pid_start_time = 0;
  json_object_unref (self->hotplugged);
  self->hotplugged = json_object_new ();
  self->next_dimm = 0;
  if (self->layout != NULL)
    {
      self->vcpus = self->layout->boot_vcpus;
      self->memory_mb = self->layout->boot_memory_mb;
    }
}

/* ---- GObject ---- */

static void
hvk_qemu_hypervisor_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (object);

  switch (prop_id)
    {
    case PROP_ARGV:
      g_value_set_boxed (value, self->argv);
      break;
    case PROP_KERNEL_CMDLINE:
      g_value_set_string (value, self->kernel_cmdline);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

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

  g_free (self->id);
  g_clear_object (&self->config);
  g_free (self->store);
  hvk_qemu_paths_clear (&self->paths);
  g_free (self->log_file);
  g_clear_object (&self->cmdline);
  g_strfreev (self->argv);
  g_free (self->kernel_cmdline);
  g_free (self->uuid);
  g_clear_pointer (&self->layout, hvk_qemu_layout_free);
  g_ptr_array_unref (self->cold_devices);
  json_object_unref (self->hotplugged);

  G_OBJECT_CLASS (hvk_qemu_hypervisor_parent_class)->finalize (object);
}

static void
hvk_qemu_hypervisor_class_init (HvkQemuHypervisorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = hvk_qemu_hypervisor_get_property;
  object_class->dispose = hvk_qemu_hypervisor_dispose;
  object_class->finalize = hvk_qemu_hypervisor_finalize;

  /**
   * HvkQemuHypervisor:argv:
   *
   * The QEMU command line, valid after create_vm().
   */
  properties[PROP_ARGV] =
    g_param_spec_boxed ("argv", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * HvkQemuHypervisor:kernel-cmdline:
   *
   * The guest kernel command line (what -append carries), valid after
   * create_vm().
   */
  properties[PROP_KERNEL_CMDLINE] =
    g_param_spec_string ("kernel-cmdline", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hvk_qemu_hypervisor_init (HvkQemuHypervisor *self)
{
  self->cold_devices = g_ptr_array_new_with_free_func (g_object_unref);
  self->hotplugged = json_object_new ();
  self->state = HVK_VM_STATE_NONE;
}

/* ---- create ---- */

/* Builds (or rebuilds, after add_device()) the command line. */
static gboolean
build_cmdline (HvkQemuHypervisor *self,
               GError           **error)
{
  g_autoptr(HvkQemuLayout) layout = NULL;
  g_autoptr(HvkCmdline) cmdline = NULL;
  const char * const *argv;
  const char *append = NULL;
  const char *uuid = NULL;

  cmdline = hvk_qemu_build_cmdline (get_registry (self), self->id, self->config,
                                    &self->paths, self->cold_devices, &layout, error);
  if (cmdline == NULL)
    return FALSE;

  argv = hvk_cmdline_get_argv (cmdline);
  for (guint i = 0; argv[i] != NULL; i++)
    {
      if (argv[i + 1] == NULL)
        break;
      if (g_str_equal (argv[i], "-append"))
        append = argv[i + 1];
      else if (g_str_equal (argv[i], "-uuid"))
        uuid = argv[i + 1];
    }

  g_strfreev (self->argv);
  self->argv = g_strdupv ((char **) argv);
  g_free (self->kernel_cmdline);
  self->kernel_cmdline = append ? g_strdup (append)
                                : hvk_qemu_build_kernel_cmdline (get_registry (self), self->id,
                                                                 self->config, NULL);
  g_free (self->uuid);
  self->uuid = g_strdup (uuid);
  g_clear_pointer (&self->layout, hvk_qemu_layout_free);
  self->layout = g_steal_pointer (&layout);
  g_clear_object (&self->cmdline);
  self->cmdline = g_steal_pointer (&cmdline);
  self->vcpus = self->layout ? self->layout->boot_vcpus : 0;
  self->memory_mb = self->layout ? self->layout->boot_memory_mb : 0;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ARGV]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KERNEL_CMDLINE]);
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
  gboolean existed;
  int pid;

  dir = g_build_filename (self->store, self->id, NULL);
  existed = g_file_test (dir, G_FILE_TEST_EXISTS);

  /* Another VM of that id still running: refuse rather than clobber it. */
  pid_file = g_build_filename (dir, "pid", NULL);
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
  self->paths.daemonize = TRUE;
  self->log_file = g_build_filename (self->paths.vm_dir, QEMU_LOG_NAME, NULL);

  if ((self->paths.qmp_socket = hvk_vm_store_socket_path (self->store, self->id, "qmp.sock", error)) == NULL
      || (self->paths.console_socket = hvk_vm_store_socket_path (self->store, self->id, "console.sock", error)) == NULL
      || (self->paths.virtiofsd_socket = hvk_vm_store_socket_path (self->store, self->id, "vhost-fs.sock", error)) == NULL)
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
  const char *kernel;
  const char *initrd;

  if (!hvk_config_validate (self->config, error))
    return FALSE;

  kernel = hvk_config_get_asset_path (self->config, HVK_ASSET_KERNEL);
  if (!check_file (self->config, "kernel", "kernel", kernel, FALSE, error))
    return FALSE;
  initrd = hvk_config_get_asset_path (self->config, HVK_ASSET_INITRD);
  if (initrd != NULL && *initrd != '\0'
      && !check_file (self->config, "initrd", "initrd", initrd, FALSE, error))
    return FALSE;

  if (!prepare_paths (self, error))
    return FALSE;
  if (!build_cmdline (self, error))
    return FALSE;
  /* argv[0] is the binary the builder resolved (config `path` or the
   * default): the default obeys valid_hypervisor_paths too. */
  return hvk_qemu_check_allowed (self->config, "path", "valid_hypervisor_paths",
                                 self->argv[0], error)
         && check_file (self->config, "QEMU binary", "path", self->argv[0], TRUE, error);
}

static gboolean
qemu_create_vm (HvkHypervisor  *hypervisor,
                const char     *id,
                HvkConfig      *config,
                GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  const char *store;

  if (!check_state (self, "create", S (NONE) | S (STOPPED), error))
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

  if (!check_state (self, "cold-plug a device into", S (NONE) | S (CREATED), error))
    return FALSE;
  if (!hvk_device_validate (device, error))
    return FALSE;

  g_ptr_array_add (self->cold_devices, g_object_ref (device));
  if (self->state == HVK_VM_STATE_CREATED && !build_cmdline (self, error))
    {
      g_ptr_array_remove_index (self->cold_devices, self->cold_devices->len - 1);
      return FALSE;
    }
  return TRUE;
}

/* ---- start ---- */

static void
child_new_process_group (gpointer user_data)
{
  /* Own group: a start that times out kills what the launcher spawned,
   * and a terminal's Ctrl-C does not reach QEMU behind hvkit's back. */
  setpgid (0, 0);
  /* Owner-only files and sockets (0600), like the rest of the VM dir
   * (QEMU sets its own umask once daemonized: see tighten_vm_dir()). */
  umask (HVK_QEMU_CHILD_UMASK);
}

static gboolean
start_failed (HvkQemuHypervisor *self,
              GError           **error,
              HvkError           code,
              const char        *format,
              ...) G_GNUC_PRINTF (4, 5);

static gboolean
start_failed (HvkQemuHypervisor *self,
              GError           **error,
              HvkError           code,
              const char        *format,
              ...)
{
  g_autofree char *message = NULL;
  g_autofree char *log = hvk_process_read_log_tail (self->log_file, LOG_TAIL_BYTES);
  va_list args;

  struct statvfs fs;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  /* QEMU's word could not be logged: say why, when the disk is full. */
  if (log == NULL && self->paths.vm_dir != NULL
      && statvfs (self->paths.vm_dir, &fs) == 0 && fs.f_bavail == 0)
    {
      g_set_error (error, HVK_ERROR, code,
                   "cannot start VM '%s': %s; its log %s could not be written: %s",
                   self->id, message, self->log_file, g_strerror (ENOSPC));
      return FALSE;
    }

  g_set_error (error, HVK_ERROR, code, "cannot start VM '%s': %s%s%s", self->id, message,
               log ? "; QEMU said: " : "", log ? log : "");
  return FALSE;
}

/* The launcher is QEMU's parent half under -daemonize: it exits 0 once
 * the daemon is set up, or non-zero with QEMU's message in the log. */
typedef struct {
  GPid     child;
  gboolean done;
  int      status;
} Launcher;

static gboolean
launcher_poll (Launcher *launcher)
{
  int r;

  if (launcher->done)
    return TRUE;
  do
    r = waitpid (launcher->child, &launcher->status, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == launcher->child || (r < 0 && errno == ECHILD))
    launcher->done = TRUE;
  return launcher->done;
}

static void *
reap_thread (void *data)
{
  pid_t pid = (pid_t) GPOINTER_TO_INT (data);

  /* ECHILD if the application reaped it first (waitpid (-1)): fine. */
  while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return NULL;
}

/* For a launcher known to be exiting: nobody waits, no zombie stays.  A
 * bare detached pthread with a small stack that allocates nothing: a
 * GThread would cost a malloc arena and an 8 MiB stack for a thread that
 * only calls waitpid(). */
static void
reap_in_background (Launcher *launcher,
                    gint64    deadline)
{
  pthread_attr_t attr;
  pthread_t thread;
  int r;

  pthread_attr_init (&attr);
  pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize (&attr, MAX (PTHREAD_STACK_MIN, 64 * 1024));
  r = pthread_create (&thread, &attr, reap_thread, GINT_TO_POINTER (launcher->child));
  pthread_attr_destroy (&attr);
  if (r == 0)
    {
      launcher->done = TRUE;
      return;
    }
  /* No thread to be had: wait here, as briefly as it takes. */
  g_debug ("cannot start a thread to reap the QEMU launcher: %s", g_strerror (r));
  while (!launcher_poll (launcher) && g_get_monotonic_time () < deadline)
    g_usleep (1000);
}

static gboolean
launcher_failed (HvkQemuHypervisor *self,
                 Launcher          *launcher,
                 GError           **error)
{
  if (WIFEXITED (launcher->status))
    return start_failed (self, error, HVK_ERROR_FAILED, "%s exited with status %d",
                         self->argv[0], WEXITSTATUS (launcher->status));
  return start_failed (self, error, HVK_ERROR_FAILED, "%s was killed by signal %d",
                       self->argv[0], WTERMSIG (launcher->status));
}

static gboolean
launcher_ok (Launcher *launcher)
{
  return WIFEXITED (launcher->status) && WEXITSTATUS (launcher->status) == 0;
}

static gboolean
start_timed_out (HvkQemuHypervisor *self,
                 guint              timeout_ms,
                 GError           **error)
{
  return start_failed (self, error, HVK_ERROR_TIMEOUT,
                       "QEMU did not answer on QMP socket %s within %u ms",
                       self->paths.qmp_socket, timeout_ms);
}

/* Readiness: poll every millisecond for the QMP socket (QEMU creates it
 * while it initialises and greets once its main loop runs), watching for
 * the launcher failing meanwhile; then the greeting, the launcher's exit
 * and the pid file. */
static gboolean
wait_ready (HvkQemuHypervisor *self,
            Launcher          *launcher,
            gint64             deadline,
            guint              timeout_ms,
            GCancellable      *cancellable,
            GError           **error)
{
  g_autoptr(GError) qmp_error = NULL;
  g_autoptr(GError) pid_error = NULL;
  gint64 remaining_ms;

  if (self->qmp == NULL)
    self->qmp = hvk_qmp_client_new ();
  for (;;)
    {
      g_autoptr(GError) open_error = NULL;

      if (launcher_poll (launcher) && !launcher_ok (launcher))
        return launcher_failed (self, launcher, error);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (g_get_monotonic_time () >= deadline)
        return start_timed_out (self, timeout_ms, error);
      if (hvk_qmp_client_open (self->qmp, self->paths.qmp_socket, &open_error))
        break;
      if (!g_error_matches (open_error, HVK_ERROR, HVK_ERROR_NOT_FOUND))
        return start_failed (self, error, HVK_ERROR_FAILED, "%s", open_error->message);
      g_usleep (1000);
    }

  remaining_ms = (deadline - g_get_monotonic_time ()) / 1000;
  if (!hvk_qmp_client_handshake (self->qmp, (guint) CLAMP (remaining_ms, 1, G_MAXUINT),
                                 cancellable, &qmp_error))
    {
      gint64 until;

      if (g_error_matches (qmp_error, HVK_ERROR, HVK_ERROR_TIMEOUT))
        return start_timed_out (self, timeout_ms, error);
      if (g_error_matches (qmp_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&qmp_error));
          return FALSE;
        }
      /* QEMU closed the socket: most likely it failed; let the launcher
       * exit so that its message is in the log. */
      until = MIN (deadline, g_get_monotonic_time () + 500 * 1000);
      while (!launcher_poll (launcher) && g_get_monotonic_time () < until)
        g_usleep (1000);
      if (launcher->done && !launcher_ok (launcher))
        return launcher_failed (self, launcher, error);
      return start_failed (self, error, HVK_ERROR_FAILED, "%s", qmp_error->message);
    }

  /* QEMU answers QMP from its main loop, which it enters only after
   * telling the launcher that the daemon is set up (and after writing
   * the pid file): the launcher is exiting 0 by now.  Its exit, the
   * teardown of a large process, takes another 0-4 ms; a thread reaps it
   * rather than the caller waiting for it. */
  if (launcher_poll (launcher) && !launcher_ok (launcher))
    return launcher_failed (self, launcher, error);

  if (!hvk_process_read_pid_file (self->paths.pid_file, &self->pid, &pid_error))
    return start_failed (self, error, HVK_ERROR_FAILED, "%s", pid_error->message);
  self->pid_start_time = hvk_process_get_start_time (self->pid);
  if (!launcher->done)
    reap_in_background (launcher, deadline);
  return TRUE;
}

/* After a failed start: kill the daemon (pid file) and the launcher's
 * process group, whatever stage they reached. */
static void
kill_launch (HvkQemuHypervisor *self,
             Launcher          *launcher)
{
  int pid = 0;

  if (hvk_process_read_pid_file (self->paths.pid_file, &pid, NULL))
    hvk_process_kill (pid, 0, KILL_TIMEOUT_MS);
  if (self->pid > 0 && self->pid != pid)
    hvk_process_kill (self->pid, self->pid_start_time, KILL_TIMEOUT_MS);
  if (!launcher_poll (launcher))
    {
      kill (-launcher->child, SIGKILL);
      kill (launcher->child, SIGKILL);
      hvk_process_wait_dead (launcher->child, 0,
                             g_get_monotonic_time () + KILL_TIMEOUT_MS * 1000);
      launcher_poll (launcher);
    }
}

static gboolean
launch_and_wait (HvkQemuHypervisor *self,
                 gint64             deadline,
                 guint              timeout_ms,
                 GCancellable      *cancellable,
                 GError           **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree int *target_fds = NULL;
  Launcher launcher = { 0, };
  const int *source_fds;
  guint n_fds = 0;
  int log_fd;
  gboolean ok;

  log_fd = open (self->log_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0)
    {
      int saved = errno;
      return start_failed (self, error, HVK_ERROR_FAILED, "cannot create %s: %s",
                           self->log_file, g_strerror (saved));
    }

  source_fds = hvk_cmdline_get_fds (self->cmdline, &n_fds);
  target_fds = g_new (int, MAX (n_fds, 1));
  for (guint i = 0; i < n_fds; i++)
    target_fds[i] = 3 + (int) i;

  /* Leftovers of an earlier run would fool the readiness checks. */
  unlink (self->paths.qmp_socket);
  unlink (self->paths.pid_file);

  ok = g_spawn_async_with_pipes_and_fds (NULL, (const char * const *) self->argv, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL,
                                         child_new_process_group, NULL,
                                         -1, log_fd, log_fd,
                                         source_fds, target_fds, n_fds,
                                         &launcher.child, NULL, NULL, NULL, &local_error);
  close (log_fd);
  if (!ok)
    return start_failed (self, error, HVK_ERROR_FAILED, "cannot run %s: %s",
                         self->argv[0], local_error->message);

  if (!wait_ready (self, &launcher, deadline, timeout_ms, cancellable, error))
    {
      kill_launch (self, &launcher);
      return FALSE;
    }
  return TRUE;
}

/* QEMU sets its own umask (027) when it daemonizes, so its sockets come
 * out 0750: make every file and socket of the VM dir owner-only. */
static void
tighten_vm_dir (HvkQemuHypervisor *self)
{
  g_autoptr(GDir) dir = g_dir_open (self->paths.vm_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (self->paths.vm_dir, name, NULL);
      struct stat st;

      if (lstat (path, &st) == 0 && (S_ISREG (st.st_mode) || S_ISSOCK (st.st_mode))
          && (st.st_mode & 0177) != 0 && chmod (path, 0600) != 0)
        g_debug ("VM '%s': cannot chmod %s: %s", self->id, path, g_strerror (errno));
    }
}

static gboolean
qemu_start_vm (HvkHypervisor  *hypervisor,
               guint           timeout_ms,
               GCancellable   *cancellable,
               GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  if (!check_state (self, "start", S (CREATED), error))
    return FALSE;

  /* A created VM taken over from saved state has no command line object
   * (it holds the launch-time descriptors): build it again. */
  if (self->cmdline == NULL && !build_cmdline (self, error))
    return FALSE;

  /* create_vm() made it; a cleanup() in between may have removed it. */
  if (!g_file_test (self->paths.vm_dir, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *dir = hvk_vm_store_ensure_dir (self->store, self->id, error);
      if (dir == NULL)
        return FALSE;
      self->vm_dir_created = TRUE;
    }

  if (is_virtio_fs (self))
    {
      g_autofree char *log = g_build_filename (self->paths.vm_dir, VIRTIOFSD_LOG_NAME, NULL);

      if (!hvk_qemu_virtiofsd_start (self->config, self->paths.virtiofsd_socket, log, deadline,
                                     &self->virtiofsd_pid, &self->virtiofsd_start_time, error))
        {
          g_prefix_error (error, "cannot start VM '%s': ", self->id);
          release_everything (self);
          self->state = HVK_VM_STATE_STOPPED;
          return FALSE;
        }
    }

  if (!launch_and_wait (self, deadline, timeout_ms, cancellable, error))
    {
      release_everything (self);
      self->state = HVK_VM_STATE_STOPPED;
      return FALSE;
    }

  tighten_vm_dir (self);

  /* A VM booting from a template starts paused (-S, waiting for its
   * state); everything else runs.  The command line says which: a
   * query-status here would wait for QEMU's main loop while the guest's
   * firmware keeps it busy (tens of ms under TCG). */
  self->state = g_strv_contains ((const char * const *) self->argv, "-S")
                ? HVK_VM_STATE_PAUSED : HVK_VM_STATE_RUNNING;
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
      release_everything (self);
      self->state = HVK_VM_STATE_STOPPED;
      return TRUE;
    }

  if (!wait_only && process_alive (self))
    {
      g_autoptr(GError) quit_error = NULL;

      /* QEMU may close the socket before the reply arrives: that is a
       * successful quit too. */
      if (qmp_ensure (self, cancellable, &quit_error))
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

  release_everything (self);
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
  if (!qmp_run (self, command, NULL, cancellable, error))
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
      status = query_status (self, cancellable, error);
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

  if (!check_state (self, "pause", S (RUNNING), error))
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

  if (!check_state (self, "resume", S (PAUSED), error))
    return FALSE;
  return change_run_state (self, "resume", "cont", "RESUME", "running", HVK_VM_STATE_RUNNING,
                           cancellable, error);
}

/* ---- save (templating) ---- */

static gboolean
qemu_save_vm (HvkHypervisor  *hypervisor,
              GCancellable   *cancellable,
              GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(JsonObject) caps_args = json_object_new ();
  g_autoptr(JsonObject) cap = json_object_new ();
  g_autoptr(JsonArray) caps = json_array_new ();
  g_autoptr(JsonObject) migrate_args = json_object_new ();
  g_autofree char *uri = NULL;
  const char *state_path;
  gint64 deadline;

  if (!check_state (self, "save", S (RUNNING) | S (PAUSED), error))
    return FALSE;
  if (!config_boolean (self->config, "boot_to_be_template"))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "backend '%s' supports save_vm only for a VM booted with "
                   "boot_to_be_template=true (VM '%s')", HVK_QEMU_BACKEND_NAME, self->id);
      return FALSE;
    }
  state_path = config_string (self->config, "devices_state_path");
  if (state_path == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: [%s] devices_state_path: needed to save template VM '%s'",
                   hvk_config_get_source (self->config) ? hvk_config_get_source (self->config) : "configuration",
                   hvk_config_get_group (self->config), self->id);
      return FALSE;
    }

  /* The template's memory is a shared file already: migrate only the
   * device state (Kata's setIgnoreSharedMemoryMigrationCaps). */
  json_object_set_string_member (cap, "capability", "x-ignore-shared");
  json_object_set_boolean_member (cap, "state", TRUE);
  json_array_add_object_element (caps, g_steal_pointer (&cap));
  json_object_set_array_member (caps_args, "capabilities", g_steal_pointer (&caps));
  if (!qmp_run (self, "migrate-set-capabilities", caps_args, cancellable, error))
    return FALSE;

  uri = g_strdup_printf ("exec:cat>%s", state_path);
  json_object_set_string_member (migrate_args, "uri", uri);
  if (!qmp_run (self, "migrate", migrate_args, cancellable, error))
    return FALSE;

  deadline = g_get_monotonic_time () + (gint64) MIGRATION_TIMEOUT_MS * 1000;
  for (;;)
    {
      g_autoptr(JsonNode) ret = qmp_exec (self, "query-migrate", NULL, cancellable, error);
      const char *status;

      if (ret == NULL)
        return FALSE;
      status = JSON_NODE_HOLDS_OBJECT (ret)
               ? json_object_get_string_member_with_default (json_node_get_object (ret), "status", "")
               : "";
      if (g_str_equal (status, "completed"))
        break;
      if (g_str_equal (status, "failed") || g_str_equal (status, "cancelled"))
        {
          const char *desc = json_object_get_string_member_with_default (json_node_get_object (ret),
                                                                         "error-desc", "no reason given");
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "saving VM '%s' to %s failed: %s", self->id, state_path, desc);
          return FALSE;
        }
      if (g_get_monotonic_time () >= deadline)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_TIMEOUT,
                       "saving VM '%s' to %s did not complete within %d ms",
                       self->id, state_path, MIGRATION_TIMEOUT_MS);
          return FALSE;
        }
      g_usleep (10 * 1000);
    }
  /* After migration QEMU is paused (postmigrate). */
  self->state = HVK_VM_STATE_PAUSED;
  return TRUE;
}

/* ---- hotplug ---- */

static const char *
device_string (HvkDevice  *device,
               const char *first_name,
               ...) G_GNUC_NULL_TERMINATED;

/* The first of the named properties the device's kind declares and the
 * device sets: the kinds of different plugins spell things differently. */
static const char *
device_string (HvkDevice  *device,
               const char *first_name,
               ...)
{
  HvkDeviceKind *kind = hvk_device_get_kind (device);
  const char *result = NULL;
  va_list args;

  va_start (args, first_name);
  for (const char *name = first_name; name != NULL && result == NULL; name = va_arg (args, const char *))
    {
      const HvkDevicePropSpec *spec = hvk_device_kind_lookup_prop (kind, name);

      if (spec != NULL && spec->type == HVK_PROP_STRING && hvk_device_has (device, name))
        result = hvk_device_get_string (device, name);
    }
  va_end (args);
  return result;
}

static gboolean
device_boolean (HvkDevice  *device,
                const char *name)
{
  const HvkDevicePropSpec *spec = hvk_device_kind_lookup_prop (hvk_device_get_kind (device), name);

  return spec != NULL && spec->type == HVK_PROP_BOOLEAN && hvk_device_get_boolean (device, name);
}

static guint64
device_uint (HvkDevice  *device,
             const char *name,
             guint64     fallback)
{
  const HvkDevicePropSpec *spec = hvk_device_kind_lookup_prop (hvk_device_get_kind (device), name);

  if (spec == NULL || !hvk_device_has (device, name))
    return fallback;
  if (spec->type == HVK_PROP_UINT)
    return hvk_device_get_uint (device, name);
  if (spec->type == HVK_PROP_INT)
    return (guint64) MAX (hvk_device_get_int (device, name), 0);
  return fallback;
}

static gboolean
slot_used (HvkQemuHypervisor *self,
           const char        *bus,
           int                addr)
{
  g_autoptr(GList) members = json_object_get_members (self->hotplugged);

  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonObject *record = json_object_get_object_member (self->hotplugged, l->data);

      if (g_strcmp0 (json_object_get_string_member_with_default (record, "bus", NULL), bus) == 0
          && json_object_get_int_member_with_default (record, "addr", -1) == addr)
        return TRUE;
    }
  return FALSE;
}

/* A free hotplug place for a PCI device: an empty pcie-root-port, else a
 * free slot of a bridge, else (pc machines) the root bus. */
static gboolean
find_pci_slot (HvkQemuHypervisor *self,
               const char        *device_id,
               char             **bus,
               int               *addr,
               GError           **error)
{
  HvkQemuLayout *layout = self->layout;

  *bus = NULL;
  *addr = -1;
  if (layout != NULL && layout->root_ports != NULL)
    for (guint i = 0; i < layout->root_ports->len; i++)
      if (!slot_used (self, layout->root_ports->pdata[i], -1))
        {
          *bus = g_strdup (layout->root_ports->pdata[i]);
          return TRUE;
        }
  if (layout != NULL && layout->bridges != NULL)
    for (guint i = 0; i < layout->bridges->len; i++)
      for (int slot = BRIDGE_FIRST_SLOT; slot <= BRIDGE_LAST_SLOT; slot++)
        if (!slot_used (self, layout->bridges->pdata[i], slot))
          {
            *bus = g_strdup (layout->bridges->pdata[i]);
            *addr = slot;
            return TRUE;
          }
  if (layout == NULL || !layout->pcie)
    return TRUE;   /* ACPI hotplug on pci.0: QEMU picks the slot */

  g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
               "cannot hotplug device '%s' into VM '%s': no free bridge slot or "
               "pcie-root-port (raise default_bridges or pcie_root_port)",
               device_id, self->id);
  return FALSE;
}

static void
set_bus (JsonObject *args,
         const char *bus,
         int         addr)
{
  if (bus != NULL)
    json_object_set_string_member (args, "bus", bus);
  if (addr >= 0)
    {
      g_autofree char *text = g_strdup_printf ("0x%x", addr);
      json_object_set_string_member (args, "addr", text);
    }
}

static JsonObject *
new_record (const char *kind,
            const char *driver)
{
  JsonObject *record = json_object_new ();

  json_object_set_string_member (record, "kind", kind);
  json_object_set_string_member (record, "driver", driver);
  return record;
}

static void
record_bus (JsonObject *record,
            const char *bus,
            int         addr)
{
  if (bus != NULL)
    json_object_set_string_member (record, "bus", bus);
  json_object_set_int_member (record, "addr", addr);
}

static gboolean
hotplug_block (HvkQemuHypervisor *self,
               HvkDevice         *device,
               GCancellable      *cancellable,
               GError           **error)
{
  const char *id = hvk_device_get_id (device);
  const char *path = device_string (device, "path", "file", NULL);
  const char *format = device_string (device, "format", NULL);
  const char *driver_cfg = device_string (device, "driver", NULL);
  const char *serial = device_string (device, "serial", NULL);
  gboolean read_only = device_boolean (device, "readonly") || device_boolean (device, "read_only")
                       || device_boolean (device, "read-only");
  g_autofree char *node = g_strdup_printf ("drive-%s", id);
  g_autoptr(JsonObject) blockdev = json_object_new ();
  g_autoptr(JsonObject) file = json_object_new ();
  g_autoptr(JsonObject) args = json_object_new ();
  g_autoptr(JsonObject) record = NULL;
  g_autofree char *bus = NULL;
  int addr = -1;
  gboolean scsi;
  struct stat st;

  if (path == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "block device '%s' has no path", id);
      return FALSE;
    }
  if (stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "block device '%s': %s: %s", id, path, g_strerror (saved));
      return FALSE;
    }
  /* The device's driver, else the config's block_device_driver. */
  if (driver_cfg == NULL)
    driver_cfg = config_string (self->config, "block_device_driver");
  scsi = g_strcmp0 (driver_cfg, "virtio-scsi") == 0;
  if (scsi && (self->layout == NULL || self->layout->scsi_controller == NULL))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "block device '%s': VM '%s' has no virtio-scsi controller "
                   "(block_device_driver is not virtio-scsi)", id, self->id);
      return FALSE;
    }
  if (!scsi && driver_cfg != NULL && !g_str_equal (driver_cfg, "virtio-blk"))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "backend '%s' cannot hotplug block device '%s' with driver '%s' "
                   "(virtio-blk or virtio-scsi)", HVK_QEMU_BACKEND_NAME, id, driver_cfg);
      return FALSE;
    }

  json_object_set_string_member (file, "driver", S_ISBLK (st.st_mode) ? "host_device" : "file");
  json_object_set_string_member (file, "filename", path);
  json_object_set_string_member (blockdev, "node-name", node);
  json_object_set_string_member (blockdev, "driver", format ? format : "raw");
  json_object_set_boolean_member (blockdev, "read-only", read_only);
  json_object_set_object_member (blockdev, "file", g_steal_pointer (&file));

  if (scsi)
    record = new_record (HVK_DEVICE_KIND_BLOCK, "scsi-hd");
  else
    {
      if (!find_pci_slot (self, id, &bus, &addr, error))
        return FALSE;
      record = new_record (HVK_DEVICE_KIND_BLOCK, "virtio-blk-pci");
    }

  if (!qmp_run (self, "blockdev-add", blockdev, cancellable, error))
    return FALSE;

  json_object_set_string_member (args, "driver", json_object_get_string_member (record, "driver"));
  json_object_set_string_member (args, "id", id);
  json_object_set_string_member (args, "drive", node);
  if (serial != NULL)
    json_object_set_string_member (args, "serial", serial);
  if (scsi)
    {
      g_autofree char *scsi_bus = g_strdup_printf ("%s.0", self->layout->scsi_controller);
      int lun = 0;

      while (slot_used (self, scsi_bus, lun))
        lun++;
      json_object_set_string_member (args, "bus", scsi_bus);
      json_object_set_int_member (args, "channel", 0);
      json_object_set_int_member (args, "scsi-id", 0);
      json_object_set_int_member (args, "lun", lun);
      record_bus (record, scsi_bus, lun);
    }
  else
    {
      set_bus (args, bus, addr);
      record_bus (record, bus, addr);
    }
  if (!qmp_run (self, "device_add", args, cancellable, error))
    {
      g_autoptr(JsonObject) del = json_object_new ();
      json_object_set_string_member (del, "node-name", node);
      qmp_run (self, "blockdev-del", del, cancellable, NULL);
      return FALSE;
    }

  json_object_set_string_member (record, "node", node);
  json_object_set_string_member (record, "path", path);
  json_object_set_object_member (self->hotplugged, id, g_steal_pointer (&record));
  return TRUE;
}

static gboolean
hotplug_net (HvkQemuHypervisor *self,
             HvkDevice         *device,
             GCancellable      *cancellable,
             GError           **error)
{
  const char *id = hvk_device_get_id (device);
  const char *ifname = device_string (device, "ifname", "tap", "tap_name", "name", NULL);
  const char *mac = device_string (device, "mac", "mac_address", "hwaddr", NULL);
  g_autofree char *netdev = g_strdup_printf ("netdev-%s", id);
  g_autoptr(JsonObject) netdev_args = json_object_new ();
  g_autoptr(JsonObject) args = json_object_new ();
  g_autoptr(JsonObject) record = new_record (HVK_DEVICE_KIND_NET, "virtio-net-pci");
  g_autofree char *bus = NULL;
  int addr = -1;

  const char *type = device_string (device, "type", NULL);

  if (type != NULL && !g_str_equal (type, "tap"))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "backend '%s' hotplugs tap network devices only, not '%s' (device '%s')",
                   HVK_QEMU_BACKEND_NAME, type, id);
      return FALSE;
    }
  if (ifname == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "net device '%s' has no tap interface name (ifname)", id);
      return FALSE;
    }
  if (!find_pci_slot (self, id, &bus, &addr, error))
    return FALSE;

  json_object_set_string_member (netdev_args, "type", "tap");
  json_object_set_string_member (netdev_args, "id", netdev);
  json_object_set_string_member (netdev_args, "ifname", ifname);
  json_object_set_string_member (netdev_args, "script", "no");
  json_object_set_string_member (netdev_args, "downscript", "no");
  if (device_boolean (device, "vhost"))
    json_object_set_boolean_member (netdev_args, "vhost", TRUE);
  if (!qmp_run (self, "netdev_add", netdev_args, cancellable, error))
    return FALSE;

  json_object_set_string_member (args, "driver", "virtio-net-pci");
  json_object_set_string_member (args, "id", id);
  json_object_set_string_member (args, "netdev", netdev);
  if (mac != NULL)
    json_object_set_string_member (args, "mac", mac);
  set_bus (args, bus, addr);
  if (!qmp_run (self, "device_add", args, cancellable, error))
    {
      g_autoptr(JsonObject) del = json_object_new ();
      json_object_set_string_member (del, "id", netdev);
      qmp_run (self, "netdev_del", del, cancellable, NULL);
      return FALSE;
    }

  record_bus (record, bus, addr);
  json_object_set_string_member (record, "netdev", netdev);
  json_object_set_object_member (self->hotplugged, id, g_steal_pointer (&record));
  return TRUE;
}

static gboolean
hotplug_vfio (HvkQemuHypervisor *self,
              HvkDevice         *device,
              GCancellable      *cancellable,
              GError           **error)
{
  const char *id = hvk_device_get_id (device);
  const char *host = device_string (device, "host", "bdf", "address", "sysfsdev", NULL);
  g_autoptr(JsonObject) args = json_object_new ();
  g_autoptr(JsonObject) record = new_record (HVK_DEVICE_KIND_VFIO, "vfio-pci");
  g_autofree char *bus = NULL;
  int addr = -1;

  if (host == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "vfio device '%s' has no host address (host)", id);
      return FALSE;
    }
  if (!find_pci_slot (self, id, &bus, &addr, error))
    return FALSE;
  json_object_set_string_member (args, "driver", "vfio-pci");
  json_object_set_string_member (args, "id", id);
  json_object_set_string_member (args, g_str_has_prefix (host, "/") ? "sysfsdev" : "host", host);
  set_bus (args, bus, addr);
  if (!qmp_run (self, "device_add", args, cancellable, error))
    return FALSE;
  record_bus (record, bus, addr);
  json_object_set_object_member (self->hotplugged, id, g_steal_pointer (&record));
  return TRUE;
}

static gboolean qemu_resize_vcpus  (HvkHypervisor *hypervisor, guint32 vcpus,
                                    guint32 *old_vcpus, guint32 *new_vcpus,
                                    GCancellable *cancellable, GError **error);
static gboolean qemu_resize_memory (HvkHypervisor *hypervisor, guint32 mem_mb,
                                    guint32 block_size_mb, gboolean probe,
                                    guint32 *new_mem_mb, HvkMemoryDevice *mem_dev,
                                    GCancellable *cancellable, GError **error);

static gboolean
qemu_hotplug_add_device (HvkHypervisor  *hypervisor,
                         HvkDevice      *device,
                         GCancellable   *cancellable,
                         GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  const char *kind = hvk_device_get_kind_name (device);
  const char *id = hvk_device_get_id (device);
  gboolean ok;

  if (!check_state (self, "hotplug a device into", S (RUNNING) | S (PAUSED), error))
    return FALSE;
  if (!hvk_device_validate (device, error))
    return FALSE;
  if (id == NULL || *id == '\0')
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "cannot hotplug a %s device without an id into VM '%s'", kind, self->id);
      return FALSE;
    }
  if (json_object_has_member (self->hotplugged, id)
      || hvk_config_lookup_device (self->config, id) != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "VM '%s' already has a device '%s'", self->id, id);
      return FALSE;
    }

  if (g_str_equal (kind, HVK_DEVICE_KIND_BLOCK))
    ok = hotplug_block (self, device, cancellable, error);
  else if (g_str_equal (kind, HVK_DEVICE_KIND_NET))
    ok = hotplug_net (self, device, cancellable, error);
  else if (g_str_equal (kind, HVK_DEVICE_KIND_VFIO))
    ok = hotplug_vfio (self, device, cancellable, error);
  else if (g_str_equal (kind, HVK_DEVICE_KIND_CPU))
    {
      guint32 n = (guint32) device_uint (device, "count", device_uint (device, "vcpus", 1));
      ok = qemu_resize_vcpus (hypervisor, self->vcpus + n, NULL, NULL, cancellable, error);
    }
  else if (g_str_equal (kind, HVK_DEVICE_KIND_MEMORY))
    {
      guint64 size = device_uint (device, "size_mb", device_uint (device, "size", 0));
      if (size == 0)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "memory device '%s' has no size_mb", id);
          return FALSE;
        }
      ok = qemu_resize_memory (hypervisor, self->memory_mb + (guint32) size, 0, FALSE,
                               NULL, NULL, cancellable, error);
    }
  else
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "backend '%s' cannot hotplug devices of kind '%s' (device '%s')",
                   HVK_QEMU_BACKEND_NAME, kind, id);
      return FALSE;
    }

  if (!ok)
    g_prefix_error (error, "cannot hotplug %s device '%s' into VM '%s': ", kind, id, self->id);
  return ok;
}

/* device_del, then wait for the guest to let go (DEVICE_DELETED). */
static gboolean
device_del_and_wait (HvkQemuHypervisor *self,
                     const char        *id,
                     GCancellable      *cancellable,
                     GError           **error)
{
  g_autoptr(JsonObject) args = json_object_new ();
  g_autoptr(JsonObject) event = NULL;

  json_object_set_string_member (args, "id", id);
  if (!qmp_run (self, "device_del", args, cancellable, error))
    return FALSE;
  event = hvk_qmp_client_wait_event (self->qmp, "DEVICE_DELETED", "device", id,
                                     DEVICE_DELETED_TIMEOUT_MS, cancellable, error);
  if (event == NULL)
    {
      if (error != NULL && g_error_matches (*error, HVK_ERROR, HVK_ERROR_TIMEOUT))
        g_prefix_error (error, "the guest did not release device '%s': ", id);
      return FALSE;
    }
  return TRUE;
}

static gboolean
qemu_hotplug_remove_device (HvkHypervisor  *hypervisor,
                            const char     *device_id,
                            GCancellable   *cancellable,
                            GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  JsonObject *record;
  const char *node;
  const char *netdev;
  const char *memdev;

  if (!check_state (self, "unplug a device from", S (RUNNING) | S (PAUSED), error))
    return FALSE;
  record = json_object_has_member (self->hotplugged, device_id)
           ? json_object_get_object_member (self->hotplugged, device_id) : NULL;
  if (record == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "VM '%s' has no hot-plugged device '%s'", self->id, device_id);
      return FALSE;
    }

  if (!device_del_and_wait (self, device_id, cancellable, error))
    {
      g_prefix_error (error, "cannot unplug device '%s' from VM '%s': ", device_id, self->id);
      return FALSE;
    }

  node = json_object_get_string_member_with_default (record, "node", NULL);
  netdev = json_object_get_string_member_with_default (record, "netdev", NULL);
  memdev = json_object_get_string_member_with_default (record, "memdev", NULL);
  if (node != NULL)
    {
      g_autoptr(JsonObject) args = json_object_new ();
      json_object_set_string_member (args, "node-name", node);
      if (!qmp_run (self, "blockdev-del", args, cancellable, error))
        return FALSE;
    }
  if (netdev != NULL)
    {
      g_autoptr(JsonObject) args = json_object_new ();
      json_object_set_string_member (args, "id", netdev);
      if (!qmp_run (self, "netdev_del", args, cancellable, error))
        return FALSE;
    }
  if (memdev != NULL)
    {
      g_autoptr(JsonObject) args = json_object_new ();
      json_object_set_string_member (args, "id", memdev);
      if (!qmp_run (self, "object-del", args, cancellable, error))
        return FALSE;
      self->memory_mb -= (guint32) json_object_get_int_member_with_default (record, "size_mb", 0);
    }
  if (g_strcmp0 (json_object_get_string_member_with_default (record, "kind", ""), HVK_DEVICE_KIND_CPU) == 0)
    self->vcpus--;
  json_object_remove_member (self->hotplugged, device_id);
  return TRUE;
}

/* ---- resize ---- */

static guint32
max_vcpus (HvkQemuHypervisor *self)
{
  if (self->layout != NULL && self->layout->max_vcpus > 0)
    return self->layout->max_vcpus;
  return (guint32) hvk_config_get_uint (self->config, "default_maxvcpus");
}

/* Hot-plugged CPUs, newest last. */
static GPtrArray *
hotplugged_of_kind (HvkQemuHypervisor *self,
                    const char        *kind)
{
  g_autoptr(GList) members = json_object_get_members (self->hotplugged);
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);

  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonObject *record = json_object_get_object_member (self->hotplugged, l->data);
      if (g_strcmp0 (json_object_get_string_member_with_default (record, "kind", ""), kind) == 0)
        g_ptr_array_add (ids, g_strdup (l->data));
    }
  return ids;
}

static gboolean
add_one_vcpu (HvkQemuHypervisor *self,
              JsonArray         *hotpluggable,
              int               *cursor,
              GCancellable      *cancellable,
              GError           **error)
{
  /* QEMU lists the places highest first; take the lowest free one.
   * @cursor walks down the list across calls. */
  for (int i = *cursor; i >= 0; i--)
    {
      JsonObject *slot = json_array_get_object_element (hotpluggable, i);
      JsonObject *props;
      g_autoptr(JsonObject) args = NULL;
      g_autoptr(JsonObject) record = NULL;
      g_autoptr(GList) names = NULL;
      g_autoptr(GString) cpu_id = g_string_new ("cpu");
      const char *type;

      if (slot == NULL || json_object_has_member (slot, "qom-path")
          || !json_object_has_member (slot, "props"))
        continue;
      type = json_object_get_string_member_with_default (slot, "type", NULL);
      props = json_object_get_object_member (slot, "props");
      if (type == NULL || props == NULL)
        continue;

      args = json_object_new ();
      json_object_set_string_member (args, "driver", type);
      names = json_object_get_members (props);
      for (GList *l = names; l != NULL; l = l->next)
        {
          /* node-id only matters with NUMA, which hvkit does not set up. */
          if (g_str_equal (l->data, "node-id"))
            continue;
          json_object_set_int_member (args, l->data, json_object_get_int_member (props, l->data));
        }
      g_string_append_printf (cpu_id, "-%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT,
                              json_object_get_int_member_with_default (props, "socket-id", 0),
                              json_object_get_int_member_with_default (props, "core-id", 0),
                              json_object_get_int_member_with_default (props, "thread-id", 0));
      json_object_set_string_member (args, "id", cpu_id->str);
      if (!qmp_run (self, "device_add", args, cancellable, error))
        return FALSE;

      record = new_record (HVK_DEVICE_KIND_CPU, type);
      json_object_set_object_member (self->hotplugged, cpu_id->str, g_steal_pointer (&record));
      *cursor = i - 1;
      self->vcpus++;
      return TRUE;
    }
  g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
               "QEMU of VM '%s' has no free vCPU place left", self->id);
  return FALSE;
}

static gboolean
qemu_resize_vcpus (HvkHypervisor  *hypervisor,
                   guint32         vcpus,
                   guint32        *old_vcpus,
                   guint32        *new_vcpus,
                   GCancellable   *cancellable,
                   GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  guint32 max = 0;
  guint32 before = self->vcpus;
  gboolean ok = TRUE;

  if (old_vcpus != NULL)
    *old_vcpus = before;
  if (new_vcpus != NULL)
    *new_vcpus = before;
  if (!check_state (self, "resize the vCPUs of", S (RUNNING) | S (PAUSED), error))
    return FALSE;

  max = max_vcpus (self);
  if (vcpus == 0 || vcpus > max)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "cannot resize VM '%s' to %u vCPUs: it must be between 1 and "
                   "maxcpus (%u)", self->id, vcpus, max);
      return FALSE;
    }

  if (vcpus > self->vcpus)
    {
      g_autoptr(JsonNode) ret = qmp_exec (self, "query-hotpluggable-cpus", NULL, cancellable, error);

      if (ret == NULL || !JSON_NODE_HOLDS_ARRAY (ret))
        {
          if (ret != NULL)
            g_set_error (error, HVK_ERROR, HVK_ERROR_QMP,
                         "QMP command 'query-hotpluggable-cpus' returned no list");
          ok = FALSE;
        }
      int cursor = ok ? (int) json_array_get_length (json_node_get_array (ret)) - 1 : -1;

      while (ok && self->vcpus < vcpus)
        ok = add_one_vcpu (self, json_node_get_array (ret), &cursor, cancellable, error);
    }
  else if (vcpus < self->vcpus)
    {
      g_autoptr(GPtrArray) cpus = hotplugged_of_kind (self, HVK_DEVICE_KIND_CPU);

      /* Only hot-plugged vCPUs can go; the boot ones stay (as Kata). */
      for (guint i = cpus->len; ok && i > 0 && self->vcpus > vcpus; i--)
        {
          const char *cpu_id = cpus->pdata[i - 1];

          ok = device_del_and_wait (self, cpu_id, cancellable, error);
          if (ok)
            {
              json_object_remove_member (self->hotplugged, cpu_id);
              self->vcpus--;
            }
        }
    }

  if (new_vcpus != NULL)
    *new_vcpus = self->vcpus;
  if (!ok)
    g_prefix_error (error, "cannot resize VM '%s' from %u to %u vCPUs: ", self->id, before, vcpus);
  return ok;
}

static gboolean
qemu_resize_memory (HvkHypervisor   *hypervisor,
                    guint32          mem_mb,
                    guint32          block_size_mb,
                    gboolean         probe,
                    guint32         *new_mem_mb,
                    HvkMemoryDevice *mem_dev,
                    GCancellable    *cancellable,
                    GError         **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(JsonObject) backend = json_object_new ();
  g_autoptr(JsonObject) dimm = json_object_new ();
  g_autoptr(JsonObject) record = NULL;
  g_autoptr(JsonNode) devices = NULL;
  g_autofree char *memdev = NULL;
  g_autofree char *dimm_id = NULL;
  const char *mem_path;
  guint32 add;
  guint32 max_mb;
  guint32 slots;
  guint n_dimms;

  if (new_mem_mb != NULL)
    *new_mem_mb = self->memory_mb;
  if (mem_dev != NULL)
    memset (mem_dev, 0, sizeof *mem_dev);
  if (!check_state (self, "resize the memory of", S (RUNNING) | S (PAUSED), error))
    return FALSE;

  /* DIMMs do not shrink: a smaller request keeps what the guest has. */
  if (mem_mb <= self->memory_mb)
    return TRUE;

  add = mem_mb - self->memory_mb;
  if (block_size_mb > 0 && add % block_size_mb != 0)
    add += block_size_mb - add % block_size_mb;

  max_mb = self->layout ? self->layout->max_memory_mb : 0;
  slots = self->layout ? self->layout->memory_slots : 0;
  {
    g_autoptr(GPtrArray) dimms = hotplugged_of_kind (self, HVK_DEVICE_KIND_MEMORY);
    n_dimms = dimms->len;
  }
  if (max_mb > 0 && self->memory_mb + add > max_mb)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "cannot resize VM '%s' to %u MiB: more than its maximum %u MiB "
                   "(default_maxmemory)", self->id, self->memory_mb + add, max_mb);
      return FALSE;
    }
  if (n_dimms >= slots)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "cannot resize the memory of VM '%s': all %u memory slots are used "
                   "(memory_slots)", self->id, slots);
      return FALSE;
    }

  memdev = g_strdup_printf ("mem-dimm%u", self->next_dimm);
  dimm_id = g_strdup_printf ("dimm%u", self->next_dimm);

  /* Shared file-backed memory where the boot memory is (virtio-fs and
   * file_mem_backend need the guest's memory mappable by another process). */
  mem_path = config_string (self->config, "file_mem_backend");
  if (mem_path == NULL && is_virtio_fs (self))
    mem_path = "/dev/shm";
  if (mem_path != NULL)
    {
      json_object_set_string_member (backend, "qom-type", "memory-backend-file");
      json_object_set_string_member (backend, "mem-path", mem_path);
      json_object_set_boolean_member (backend, "share", TRUE);
    }
  else
    json_object_set_string_member (backend, "qom-type", "memory-backend-ram");
  json_object_set_string_member (backend, "id", memdev);
  json_object_set_int_member (backend, "size", (gint64) add * 1024 * 1024);
  if (!qmp_run (self, "object-add", backend, cancellable, error))
    {
      g_prefix_error (error, "cannot add %u MiB to VM '%s': ", add, self->id);
      return FALSE;
    }

  json_object_set_string_member (dimm, "driver", "pc-dimm");
  json_object_set_string_member (dimm, "id", dimm_id);
  json_object_set_string_member (dimm, "memdev", memdev);
  if (!qmp_run (self, "device_add", dimm, cancellable, error))
    {
      g_autoptr(JsonObject) del = json_object_new ();
      json_object_set_string_member (del, "id", memdev);
      qmp_run (self, "object-del", del, cancellable, NULL);
      g_prefix_error (error, "cannot add %u MiB to VM '%s': ", add, self->id);
      return FALSE;
    }
  self->next_dimm++;
  self->memory_mb += add;

  record = new_record (HVK_DEVICE_KIND_MEMORY, "pc-dimm");
  json_object_set_string_member (record, "memdev", memdev);
  json_object_set_int_member (record, "size_mb", add);

  if (mem_dev != NULL)
    {
      mem_dev->size_mb = add;
      mem_dev->probe = probe;
      mem_dev->slot = -1;
    }
  /* Where the DIMM landed; informative, so failures do not undo it. */
  devices = qmp_exec (self, "query-memory-devices", NULL, cancellable, NULL);
  if (devices != NULL && JSON_NODE_HOLDS_ARRAY (devices))
    {
      JsonArray *list = json_node_get_array (devices);

      for (guint i = 0; i < json_array_get_length (list); i++)
        {
          JsonObject *entry = json_array_get_object_element (list, i);
          JsonObject *data = entry && json_object_has_member (entry, "data")
                             ? json_object_get_object_member (entry, "data") : NULL;

          if (data == NULL
              || g_strcmp0 (json_object_get_string_member_with_default (data, "id", NULL), dimm_id) != 0)
            continue;
          json_object_set_int_member (record, "slot", json_object_get_int_member_with_default (data, "slot", -1));
          if (mem_dev != NULL)
            {
              mem_dev->slot = (int) json_object_get_int_member_with_default (data, "slot", -1);
              mem_dev->addr = (guint64) json_object_get_int_member_with_default (data, "addr", 0);
            }
        }
    }
  json_object_set_object_member (self->hotplugged, dimm_id, g_steal_pointer (&record));

  if (new_mem_mb != NULL)
    *new_mem_mb = self->memory_mb;
  return TRUE;
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
  return hvk_qemu_capabilities_for_config (HVK_QEMU_HYPERVISOR (hypervisor)->config);
}

static HvkConfig *
qemu_get_config (HvkHypervisor *hypervisor)
{
  return HVK_QEMU_HYPERVISOR (hypervisor)->config;
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

  if (!check_state (self, "get the vCPU threads of", S (RUNNING) | S (PAUSED), error))
    return NULL;
  ret = qmp_exec (self, "query-cpus-fast", NULL, cancellable, error);
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
      && process_alive (self))
    return TRUE;
  if (self->state == HVK_VM_STATE_NONE)
    return TRUE;
  release_everything (self);
  if (self->state != HVK_VM_STATE_CREATED)
    self->state = HVK_VM_STATE_STOPPED;
  return TRUE;
}

static GArray *
qemu_get_pids (HvkHypervisor *hypervisor)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (int));

  if (self->pid > 0)
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

  if (!check_state (self, "check", S (RUNNING) | S (PAUSED), error))
    return FALSE;
  if (!process_alive (self))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "VM '%s': QEMU (pid %d) is not running", self->id, self->pid);
      return FALSE;
    }
  if (self->virtiofsd_pid > 0
      && !hvk_process_is_alive (self->virtiofsd_pid, self->virtiofsd_start_time))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "VM '%s': virtiofsd (pid %d) is not running", self->id, self->virtiofsd_pid);
      return FALSE;
    }
  status = query_status (self, NULL, error);
  if (status == NULL)
    {
      g_prefix_error (error, "VM '%s': ", self->id);
      return FALSE;
    }
  if (g_str_equal (status, "shutdown") || g_str_equal (status, "internal-error")
      || g_str_equal (status, "guest-panicked") || g_str_equal (status, "io-error"))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "VM '%s': QEMU reports status '%s'", self->id, status);
      return FALSE;
    }
  return TRUE;
}

/* ---- state ---- */

static void
add_string (JsonBuilder *builder,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_int (JsonBuilder *builder,
         const char  *name,
         gint64       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

/* The records hold only scalars; a deep copy keeps the state JSON and
 * ours independent (and never sealed). */
static JsonObject *
deep_copy_object (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);
  g_autofree char *text = json_to_string (node, FALSE);
  g_autoptr(JsonNode) copy = json_from_string (text, NULL);

  return json_object_ref (json_node_get_object (copy));
}

/* Hot-plug records are read back with typed getters: a state file whose
 * records are not objects of strings and integers is corrupt (the getters
 * would otherwise hit their g_return_if_fail checks). */
static gboolean
hotplugged_is_valid (JsonObject *hotplugged)
{
  static const char * const strings[] = { "kind", "driver", "bus", "node", "path", "netdev", "memdev" };
  static const char * const ints[] = { "addr", "size_mb", "slot" };
  g_autoptr(GList) members = json_object_get_members (hotplugged);

  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (hotplugged, l->data);
      JsonObject *record;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return FALSE;
      record = json_node_get_object (node);
      for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
        {
          JsonNode *m = json_object_get_member (record, strings[i]);
          if (m != NULL && (!JSON_NODE_HOLDS_VALUE (m) || json_node_get_value_type (m) != G_TYPE_STRING))
            return FALSE;
        }
      for (guint i = 0; i < G_N_ELEMENTS (ints); i++)
        {
          JsonNode *m = json_object_get_member (record, ints[i]);
          if (m != NULL && (!JSON_NODE_HOLDS_VALUE (m) || json_node_get_value_type (m) != G_TYPE_INT64))
            return FALSE;
        }
    }
  return TRUE;
}

static JsonNode *
qemu_save_state (HvkHypervisor *hypervisor)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *config_text = self->config ? hvk_config_to_data (self->config, NULL) : NULL;
  g_autoptr(GList) members = json_object_get_members (self->hotplugged);

  json_builder_begin_object (builder);
  add_string (builder, "id", self->id);
  add_string (builder, "state", hvk_vm_state_to_string (self->state));
  add_int (builder, "pid", self->pid);
  add_int (builder, "pid_start_time", (gint64) self->pid_start_time);
  add_int (builder, "virtiofsd_pid", self->virtiofsd_pid);
  add_int (builder, "virtiofsd_start_time", (gint64) self->virtiofsd_start_time);
  add_string (builder, "uuid", self->uuid);
  add_string (builder, "store", self->store);
  add_string (builder, "vm_dir", self->paths.vm_dir);
  add_string (builder, "qmp_socket", self->paths.qmp_socket);
  add_string (builder, "console_socket", self->paths.console_socket);
  add_string (builder, "pid_file", self->paths.pid_file);
  add_string (builder, "virtiofsd_socket", self->paths.virtiofsd_socket);
  add_string (builder, "log_file", self->log_file);
  add_string (builder, "kernel_cmdline", self->kernel_cmdline);
  add_string (builder, "config", config_text);
  add_int (builder, "vcpus", self->vcpus);
  add_int (builder, "memory_mb", self->memory_mb);
  add_int (builder, "next_dimm", self->next_dimm);

  json_builder_set_member_name (builder, "argv");
  json_builder_begin_array (builder);
  for (guint i = 0; self->argv != NULL && self->argv[i] != NULL; i++)
    json_builder_add_string_value (builder, self->argv[i]);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "layout");
  if (self->layout != NULL)
    json_builder_add_value (builder, hvk_qemu_layout_to_json (self->layout));
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "hotplugged");
  {
    g_autoptr(JsonObject) copy = deep_copy_object (self->hotplugged);
    json_builder_add_value (builder, json_node_init_object (json_node_alloc (), copy));
  }

  /* Redundant with "hotplugged", for people reading the file. */
  json_builder_set_member_name (builder, "used_slots");
  json_builder_begin_array (builder);
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonObject *record = json_object_get_object_member (self->hotplugged, l->data);
      const char *bus = json_object_get_string_member_with_default (record, "bus", NULL);
      gint64 addr = json_object_get_int_member_with_default (record, "addr", -1);

      if (bus != NULL)
        {
          g_autofree char *slot = addr >= 0 ? g_strdup_printf ("%s:%" G_GINT64_FORMAT, bus, addr)
                                            : g_strdup (bus);
          json_builder_add_string_value (builder, slot);
        }
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "cold_devices");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->cold_devices->len; i++)
    json_builder_add_value (builder, hvk_device_to_json (self->cold_devices->pdata[i]));
  json_builder_end_array (builder);

  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static gboolean
state_error (const char  *member,
             GError     **error)
{
  g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
               "corrupt QEMU state: member '%s' is missing or invalid", member);
  return FALSE;
}

/* An optional integer member in [@min, @max], 0 when absent or null. */
static gboolean
state_get_int (JsonObject *object,
               const char *member,
               gint64      min,
               gint64      max,
               gint64     *value)
{
  JsonNode *node = json_object_get_member (object, member);

  *value = 0;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *value = json_node_get_int (node);
  return *value >= min && *value <= max;
}

static char *
state_dup_string (JsonObject *object,
                  const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return g_strdup (json_node_get_string (node));
}

static gboolean
qemu_load_state (HvkHypervisor  *hypervisor,
                 JsonNode       *state,
                 GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkQemuLayout) layout = NULL;
  g_autoptr(GPtrArray) cold = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *id = NULL;
  g_autofree char *config_text = NULL;
  g_autofree char *state_name = NULL;
  g_autofree char *source = NULL;
  g_autoptr(JsonObject) hotplugged = NULL;
  JsonObject *object;
  JsonNode *node;
  HvkVmState vm_state;
  gint64 pid, pid_start_time, virtiofsd_pid, virtiofsd_start_time;
  gint64 vcpus, memory_mb, next_dimm;

  if (state == NULL || !JSON_NODE_HOLDS_OBJECT (state))
    return state_error ("(root)", error);
  object = json_node_get_object (state);

  id = state_dup_string (object, "id");
  if (id == NULL || !hvk_vm_id_validate (id, NULL))
    return state_error ("id", error);
  state_name = state_dup_string (object, "state");
  if (state_name == NULL || !hvk_vm_state_from_string (state_name, &vm_state))
    return state_error ("state", error);
  config_text = state_dup_string (object, "config");
  if (config_text == NULL)
    return state_error ("config", error);
  source = g_strdup_printf ("state of VM '%s'", id);
  config = hvk_config_new_from_data (config_text, -1, source, get_registry (self), error);
  if (config == NULL)
    return FALSE;

  node = json_object_get_member (object, "layout");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      layout = hvk_qemu_layout_from_json (node, error);
      if (layout == NULL)
        return FALSE;
    }

  node = json_object_get_member (object, "argv");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return state_error ("argv", error);
  for (guint i = 0; i < json_array_get_length (json_node_get_array (node)); i++)
    {
      JsonNode *arg = json_array_get_element (json_node_get_array (node), i);
      if (!JSON_NODE_HOLDS_VALUE (arg) || json_node_get_value_type (arg) != G_TYPE_STRING)
        return state_error ("argv", error);
      g_ptr_array_add (argv, g_strdup (json_node_get_string (arg)));
    }
  g_ptr_array_add (argv, NULL);

  node = json_object_get_member (object, "cold_devices");
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    for (guint i = 0; i < json_array_get_length (json_node_get_array (node)); i++)
      {
        HvkDevice *device = hvk_device_new_from_json (get_registry (self),
                                                      json_array_get_element (json_node_get_array (node), i),
                                                      error);
        if (device == NULL)
          return FALSE;
        g_ptr_array_add (cold, device);
      }

  node = json_object_get_member (object, "hotplugged");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)
      || !hotplugged_is_valid (json_node_get_object (node)))
    return state_error ("hotplugged", error);

  if (!state_get_int (object, "pid", 0, G_MAXINT, &pid))
    return state_error ("pid", error);
  if (!state_get_int (object, "pid_start_time", 0, G_MAXINT64, &pid_start_time))
    return state_error ("pid_start_time", error);
  if (!state_get_int (object, "virtiofsd_pid", 0, G_MAXINT, &virtiofsd_pid))
    return state_error ("virtiofsd_pid", error);
  if (!state_get_int (object, "virtiofsd_start_time", 0, G_MAXINT64, &virtiofsd_start_time))
    return state_error ("virtiofsd_start_time", error);
  if (!state_get_int (object, "vcpus", 0, G_MAXUINT32, &vcpus))
    return state_error ("vcpus", error);
  if (!state_get_int (object, "memory_mb", 0, G_MAXUINT32, &memory_mb))
    return state_error ("memory_mb", error);
  if (!state_get_int (object, "next_dimm", 0, G_MAXUINT, &next_dimm))
    return state_error ("next_dimm", error);
  hotplugged = deep_copy_object (json_node_get_object (node));

  /* Everything parsed: take it over. */
  g_free (self->id);
  self->id = g_steal_pointer (&id);
  g_set_object (&self->config, config);
  g_free (self->store);
  self->store = state_dup_string (object, "store");
  if (self->store == NULL)
    self->store = hvk_vm_store_default_dir ();
  hvk_config_set_vm_store_path (self->config, self->store);
  hvk_qemu_paths_clear (&self->paths);
  self->paths.vm_dir = state_dup_string (object, "vm_dir");
  self->paths.qmp_socket = state_dup_string (object, "qmp_socket");
  self->paths.console_socket = state_dup_string (object, "console_socket");
  self->paths.pid_file = state_dup_string (object, "pid_file");
  self->paths.virtiofsd_socket = state_dup_string (object, "virtiofsd_socket");
  self->paths.daemonize = TRUE;
  g_free (self->log_file);
  self->log_file = state_dup_string (object, "log_file");
  g_free (self->kernel_cmdline);
  self->kernel_cmdline = state_dup_string (object, "kernel_cmdline");
  g_free (self->uuid);
  self->uuid = state_dup_string (object, "uuid");
  g_strfreev (self->argv);
  self->argv = (GStrv) g_ptr_array_steal (argv, NULL);
  g_clear_pointer (&self->layout, hvk_qemu_layout_free);
  self->layout = g_steal_pointer (&layout);
  g_ptr_array_unref (self->cold_devices);
  self->cold_devices = g_steal_pointer (&cold);
  json_object_unref (self->hotplugged);
  self->hotplugged = g_steal_pointer (&hotplugged);
  self->pid = (int) pid;
  self->pid_start_time = (guint64) pid_start_time;
  self->virtiofsd_pid = (int) virtiofsd_pid;
  self->virtiofsd_start_time = (guint64) virtiofsd_start_time;
  self->vcpus = (guint32) vcpus;
  self->memory_mb = (guint32) memory_mb;
  self->next_dimm = (guint) next_dimm;
  self->vm_dir_created = FALSE;   /* not ours to remove on dispose */
  self->state = vm_state;
  if (self->qmp != NULL)
    hvk_qmp_client_close (self->qmp);   /* reconnect lazily */
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
      && !process_alive (self))
    return HVK_VM_STATE_STOPPED;
  return self->state;
}

static void
hvk_qemu_hypervisor_iface_init (HvkHypervisorInterface *iface)
{
  iface->create_vm = qemu_create_vm;
  iface->start_vm = qemu_start_vm;
  iface->stop_vm = qemu_stop_vm;
  iface->pause_vm = qemu_pause_vm;
  iface->resume_vm = qemu_resume_vm;
  iface->save_vm = qemu_save_vm;
  iface->add_device = qemu_add_device;
  iface->hotplug_add_device = qemu_hotplug_add_device;
  iface->hotplug_remove_device = qemu_hotplug_remove_device;
  iface->resize_memory = qemu_resize_memory;
  iface->resize_vcpus = qemu_resize_vcpus;
  iface->get_total_memory_mb = qemu_get_total_memory_mb;
  iface->get_vm_console = qemu_get_vm_console;
  iface->disconnect = qemu_disconnect;
  iface->capabilities = qemu_capabilities;
  iface->get_config = qemu_get_config;
  iface->get_thread_ids = qemu_get_thread_ids;
  iface->cleanup = qemu_cleanup;
  iface->get_pids = qemu_get_pids;
  iface->get_virtiofs_pid = qemu_get_virtiofs_pid;
  iface->check = qemu_check;
  iface->save_state = qemu_save_state;
  iface->load_state = qemu_load_state;
  iface->generate_socket = qemu_generate_socket;
  iface->is_rate_limiter_builtin = qemu_is_rate_limiter_builtin;
  iface->get_state = qemu_get_state;
}
