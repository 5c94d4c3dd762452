/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <signal.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "rel-common.h"

/* Fault injection against a misbehaving QEMU (fake-qemu.py, told how to
 * misbehave by HVK_FAKE_QEMU_MODE): start, pause, resume, hotplug and
 * stop through the API and through the hvkit tool.  Every fault must give
 * a clear error, keep the VM's state and pid file consistent with what
 * runs, and leave no process, descriptor or directory behind. */

#define START_TIMEOUT_MS 20000
#define SHORT_TIMEOUT_MS  1500

static RelEnv env;
static HvkRegistry *registry;

typedef struct {
  HvkHypervisor *hypervisor;
  char          *id;
  guint          fds_before;
} Vm;

static void
set_mode (const char *mode)
{
  g_setenv ("HVK_FAKE_QEMU_MODE", mode, TRUE);
}

static char *
log_path (void)
{
  return g_build_filename (env.tmpdir, "qmp.log", NULL);
}

/* Creates VM @id of the stand-in in @mode (not started). */
static void
vm_create (Vm         *vm,
           const char *id,
           const char *mode)
{
  g_autofree char *conf = rel_write_config (&env, id, NULL);
  g_autofree char *log = log_path ();

  set_mode (mode);
  g_unlink (log);
  g_setenv ("HVK_FAKE_QEMU_LOG", log, TRUE);
  vm->fds_before = rel_count_fds ();
  vm->id = g_strdup (id);
  vm->hypervisor = rel_create_vm (&env, registry, conf, id);
}

static char *
vm_file (Vm         *vm,
         const char *name)
{
  return g_build_filename (env.store, vm->id, name, NULL);
}

/* The pid file names the one process hvkit reports, and it runs. */
static int
assert_running_consistent (Vm *vm)
{
  g_autofree char *pid_file = vm_file (vm, "pid");
  g_autoptr(GArray) pids = hvk_hypervisor_get_pids (vm->hypervisor);
  int pid = rel_read_pid_file (pid_file);

  g_assert_cmpint (pid, >, 0);
  g_assert_true (rel_pid_alive (pid));
  g_assert_nonnull (pids);
  g_assert_cmpuint (pids->len, >=, 1);
  g_assert_cmpint (g_array_index (pids, int, 0), ==, pid);
  g_assert_true (hvk_hypervisor_check (vm->hypervisor, NULL));
  return pid;
}

/* Stops (must succeed whatever the fault was), then checks nothing is
 * left: process, VM dir, descriptor. */
static void
vm_stop_and_check (Vm *vm)
{
  g_autoptr(GError) error = NULL;

  hvk_hypervisor_stop_vm (vm->hypervisor, FALSE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (vm->hypervisor), ==, HVK_VM_STATE_STOPPED);
  hvk_hypervisor_cleanup (vm->hypervisor, &error);
  g_assert_no_error (error);
  g_clear_object (&vm->hypervisor);
  rel_assert_nothing_left (&env, vm->id);
  g_assert_cmpuint (rel_count_fds (), ==, vm->fds_before);
  g_free (vm->id);
}

static void
assert_failed_start (Vm         *vm,
                     guint       timeout_ms,
                     int         code,
                     const char *needle)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (hvk_hypervisor_start_vm (vm->hypervisor, timeout_ms, NULL, &error));
  g_assert_error (error, HVK_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, vm->id));
  g_assert_nonnull (strstr (error->message, needle));
  g_assert_cmpint (hvk_hypervisor_get_state (vm->hypervisor), ==, HVK_VM_STATE_STOPPED);
  /* The failed start already removed everything. */
  rel_assert_nothing_left (&env, vm->id);
  vm_stop_and_check (vm);
}

static HvkDevice *
hot_disk (const char *id)
{
  g_autofree char *text = g_strdup_printf ("block,id=%s,path=%s,format=raw", id, env.disk);
  g_autoptr(GError) error = NULL;
  HvkDevice *device = hvk_device_new_from_string (registry, text, &error);

  g_assert_no_error (error);
  return device;
}

static gboolean
log_has (const char *command)
{
  g_autofree char *log = log_path ();
  g_autofree char *text = NULL;
  g_autofree char *needle = g_strdup_printf ("\"execute\": \"%s\"", command);
  g_autofree char *needle2 = g_strdup_printf ("\"execute\":\"%s\"", command);

  if (!g_file_get_contents (log, &text, NULL, NULL))
    return FALSE;
  return strstr (text, needle) != NULL || strstr (text, needle2) != NULL;
}

/* ---- start faults ---- */

static void
test_exit_at_once (void)
{
  Vm vm;

  vm_create (&vm, "exits", "exit");
  assert_failed_start (&vm, START_TIMEOUT_MS, HVK_ERROR_FAILED, "told to exit at once");
}

/* The parent field (4) of /proc/PID/stat. */
static int
parent_of (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *text = NULL;
  const char *p;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  p = strrchr (text, ')');
  g_assert_nonnull (p);
  return (int) g_ascii_strtoll (p + 4, NULL, 10);
}

/* QEMU runs under hvkit-monitor: its parent is the monitor, not the
 * caller, which has no child left to reap once start returns; when QEMU
 * is killed, the monitor records how, and status says it. */
static void
test_monitor (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) pids = NULL;
  g_autoptr(JsonNode) saved = NULL;
  g_autofree char *log_file = NULL;
  g_autofree char *log = NULL;
  const char *exit_text;
  int qemu, monitor;
  Vm vm;

  vm_create (&vm, "monitored", "");
  g_assert_true (hvk_hypervisor_start_vm (vm.hypervisor, START_TIMEOUT_MS, NULL, &error));
  g_assert_no_error (error);
  assert_running_consistent (&vm);
  /* The first process of the launch is reaped: no child of ours is left. */
  g_assert_cmpint (waitpid (-1, NULL, WNOHANG), ==, -1);
  g_assert_cmpint (errno, ==, ECHILD);

  pids = hvk_hypervisor_get_pids (vm.hypervisor);
  g_assert_cmpuint (pids->len, >=, 1);
  qemu = g_array_index (pids, int, 0);
  monitor = parent_of (qemu);
  g_assert_cmpint (monitor, !=, getpid ());
  g_assert_cmpint (monitor, >, 1);

  g_assert_cmpint (kill (qemu, SIGKILL), ==, 0);
  g_assert_true (rel_wait_pid_dead (qemu, 5000));
  g_assert_true (rel_wait_pid_dead (monitor, 5000));
  g_assert_cmpint (hvk_hypervisor_get_state (vm.hypervisor), ==, HVK_VM_STATE_STOPPED);
  g_clear_pointer (&pids, g_array_unref);
  pids = hvk_hypervisor_get_pids (vm.hypervisor);
  g_assert_cmpuint (pids->len, ==, 0);
  saved = hvk_hypervisor_save_state (vm.hypervisor);
  exit_text = json_object_get_string_member_with_default (json_node_get_object (saved), "exit", NULL);
  g_assert_nonnull (exit_text);
  g_test_message ("exit: %s", exit_text);
  g_assert_nonnull (strstr (exit_text, "killed by signal 9"));
  /* The log keeps the last word too. */
  log_file = g_strdup (json_object_get_string_member (json_node_get_object (saved), "log_file"));
  g_assert_true (g_file_get_contents (log_file, &log, NULL, NULL));
  g_assert_nonnull (strstr (log, "was killed by signal 9"));

  vm_stop_and_check (&vm);
}

static void
test_hang_before_qmp (void)
{
  Vm vm;

  vm_create (&vm, "hangs", "hang");
  assert_failed_start (&vm, SHORT_TIMEOUT_MS, HVK_ERROR_TIMEOUT, "qmp.sock");
}

static void
test_no_greeting (void)
{
  Vm vm;

  vm_create (&vm, "mute", "no-greet");
  assert_failed_start (&vm, SHORT_TIMEOUT_MS, HVK_ERROR_TIMEOUT, "qmp.sock");
}

static void
test_start_cancelled (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  Vm vm;

  vm_create (&vm, "cancelled", "hang");
  g_cancellable_cancel (cancellable);
  g_assert_false (hvk_hypervisor_start_vm (vm.hypervisor, START_TIMEOUT_MS, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  rel_assert_nothing_left (&env, vm.id);
  vm_stop_and_check (&vm);
}

/* ---- faults while running ---- */

static void
start_ok (Vm *vm)
{
  g_autoptr(GError) error = NULL;

  hvk_hypervisor_start_vm (vm->hypervisor, START_TIMEOUT_MS, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (vm->hypervisor), ==, HVK_VM_STATE_RUNNING);
  assert_running_consistent (vm);
}

static void
assert_op_error (GError     *error,
                 Vm         *vm,
                 const char *needle)
{
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_true (error->domain == HVK_ERROR);
  g_assert_nonnull (strstr (error->message, vm->id));
  if (needle != NULL)
    g_assert_nonnull (strstr (error->message, needle));
}

static void
test_close_mid_command (void)
{
  g_autoptr(GError) error = NULL;
  Vm vm;

  vm_create (&vm, "closer", "close-on=stop");
  start_ok (&vm);
  g_assert_false (hvk_hypervisor_pause_vm (vm.hypervisor, NULL, &error));
  assert_op_error (error, &vm, "pause");
  g_assert_error (error, HVK_ERROR, HVK_ERROR_DISCONNECTED);
  /* Nothing changed: still running, same process. */
  g_assert_cmpint (hvk_hypervisor_get_state (vm.hypervisor), ==, HVK_VM_STATE_RUNNING);
  assert_running_consistent (&vm);
  g_clear_error (&error);
  /* The next command reconnects. */
  hvk_hypervisor_resume_vm (vm.hypervisor, NULL, &error);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
  g_clear_error (&error);
  vm_stop_and_check (&vm);
}

static void
test_close_mid_hotplug (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) disk = hot_disk ("hot0");
  Vm vm;

  vm_create (&vm, "closer2", "close-on=device_add");
  start_ok (&vm);
  g_assert_false (hvk_hypervisor_hotplug_add_device (vm.hypervisor, disk, NULL, &error));
  assert_op_error (error, &vm, NULL);
  g_clear_error (&error);
  /* Not recorded as plugged. */
  g_assert_false (hvk_hypervisor_hotplug_remove_device (vm.hypervisor, "hot0", NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_clear_error (&error);
  assert_running_consistent (&vm);
  vm_stop_and_check (&vm);
}

static void
test_qmp_error (void)
{
  g_autoptr(GError) error = NULL;
  Vm vm;

  vm_create (&vm, "refuser", "error-on=cont");
  start_ok (&vm);
  hvk_hypervisor_pause_vm (vm.hypervisor, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (hvk_hypervisor_resume_vm (vm.hypervisor, NULL, &error));
  assert_op_error (error, &vm, "fake QEMU refuses cont");
  g_assert_error (error, HVK_ERROR, HVK_ERROR_QMP);
  g_assert_cmpint (hvk_hypervisor_get_state (vm.hypervisor), ==, HVK_VM_STATE_PAUSED);
  assert_running_consistent (&vm);
  vm_stop_and_check (&vm);
}

static void
test_qmp_error_hotplug (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) disk = hot_disk ("hot1");
  Vm vm;

  vm_create (&vm, "refuser2", "error-on=device_add");
  start_ok (&vm);
  g_assert_false (hvk_hypervisor_hotplug_add_device (vm.hypervisor, disk, NULL, &error));
  assert_op_error (error, &vm, "fake QEMU refuses device_add");
  g_clear_error (&error);
  /* The block node added first was rolled back. */
  g_assert_true (log_has ("blockdev-add"));
  g_assert_true (log_has ("blockdev-del"));
  g_assert_false (hvk_hypervisor_hotplug_remove_device (vm.hypervisor, "hot1", NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  assert_running_consistent (&vm);
  vm_stop_and_check (&vm);
}

/* QEMU refuses to quit: stop still ends the process (SIGKILL). */
static void
test_qmp_error_quit (void)
{
  Vm vm;
  int pid;

  vm_create (&vm, "stubborn", "error-on=quit");
  start_ok (&vm);
  pid = assert_running_consistent (&vm);
  vm_stop_and_check (&vm);
  g_assert_false (rel_pid_alive (pid));
}

static void
test_malformed (void)
{
  g_autoptr(GError) error = NULL;
  Vm vm;

  vm_create (&vm, "garbler", "malformed-on=stop");
  start_ok (&vm);
  g_assert_false (hvk_hypervisor_pause_vm (vm.hypervisor, NULL, &error));
  assert_op_error (error, &vm, "malformed message");
  g_assert_cmpint (hvk_hypervisor_get_state (vm.hypervisor), ==, HVK_VM_STATE_RUNNING);
  assert_running_consistent (&vm);
  vm_stop_and_check (&vm);
}

static void
test_malformed_hotplug (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) disk = hot_disk ("hot2");
  Vm vm;

  vm_create (&vm, "garbler2", "malformed-on=device_add");
  start_ok (&vm);
  g_assert_false (hvk_hypervisor_hotplug_add_device (vm.hypervisor, disk, NULL, &error));
  assert_op_error (error, &vm, "malformed");
  g_clear_error (&error);
  g_assert_false (hvk_hypervisor_hotplug_remove_device (vm.hypervisor, "hot2", NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  assert_running_consistent (&vm);
  vm_stop_and_check (&vm);
}

static void
test_event_storm (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) disk = hot_disk ("hot3");
  Vm vm;

  vm_create (&vm, "stormy", "storm=3000");
  start_ok (&vm);
  for (guint i = 0; i < 2; i++)
    {
      hvk_hypervisor_pause_vm (vm.hypervisor, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (hvk_hypervisor_get_state (vm.hypervisor), ==, HVK_VM_STATE_PAUSED);
      hvk_hypervisor_resume_vm (vm.hypervisor, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (hvk_hypervisor_get_state (vm.hypervisor), ==, HVK_VM_STATE_RUNNING);
    }
  hvk_hypervisor_hotplug_add_device (vm.hypervisor, disk, NULL, &error);
  g_assert_no_error (error);
  hvk_hypervisor_hotplug_remove_device (vm.hypervisor, "hot3", NULL, &error);
  g_assert_no_error (error);
  assert_running_consistent (&vm);
  vm_stop_and_check (&vm);
}

static void
test_sigkill (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) disk = hot_disk ("hot4");
  Vm vm;
  int pid;

  vm_create (&vm, "victim", "");
  start_ok (&vm);
  pid = assert_running_consistent (&vm);
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  g_assert_true (rel_wait_pid_dead (pid, 5000));

  g_assert_false (hvk_hypervisor_check (vm.hypervisor, NULL));
  g_assert_false (hvk_hypervisor_pause_vm (vm.hypervisor, NULL, &error));
  assert_op_error (error, &vm, "not running");
  /* The lifecycle table refuses it: the VM is stopped, and says why. */
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
  g_clear_error (&error);
  g_assert_false (hvk_hypervisor_hotplug_add_device (vm.hypervisor, disk, NULL, &error));
  assert_op_error (error, &vm, "not running");
  g_clear_error (&error);
  vm_stop_and_check (&vm);
}

/* ---- through the tool ---- */

static JsonObject *
tool_status (const char *id)
{
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (rel_run_tool (&env, &out, NULL, "status", id, "--json", NULL), ==, 0);
  node = json_from_string (out, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

static const char *
saved_state (const char *id)
{
  g_autofree char *path = g_build_filename (env.store, id, HVK_VM_STATE_FILE, NULL);
  g_autofree char *text = NULL;
  g_autoptr(JsonNode) node = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  node = json_from_string (text, NULL);
  g_assert_nonnull (node);
  return g_intern_string (json_object_get_string_member (json_node_get_object (node), "state"));
}

/* status, state.json and the pid file agree on @want and the pid. */
static void
assert_tool_consistent (const char *id,
                        const char *want)
{
  g_autoptr(JsonObject) status = tool_status (id);
  g_autofree char *pid_file = g_build_filename (env.store, id, "pid", NULL);
  JsonArray *pids = json_object_get_array_member (status, "pids");
  int pid = rel_read_pid_file (pid_file);

  g_assert_cmpstr (json_object_get_string_member (status, "state"), ==, want);
  g_assert_cmpstr (saved_state (id), ==, want);
  g_assert_cmpint (pid, >, 0);
  g_assert_true (rel_pid_alive (pid));
  g_assert_cmpuint (json_array_get_length (pids), >=, 1);
  g_assert_cmpint (json_array_get_int_element (pids, 0), ==, pid);
}

static void
assert_tool_error (int         status,
                   const char *err,
                   const char *needle)
{
  g_assert_cmpint (status, ==, 1);
  g_assert_true (g_str_has_prefix (err, "hvkit: error: "));
  if (needle != NULL)
    g_assert_nonnull (strstr (err, needle));
}

static void
tool_stop_and_check (const char *id)
{
  g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "stop", id, NULL), ==, 0);
  rel_assert_nothing_left (&env, id);
}

static void
test_tool_exit_at_once (void)
{
  int status;
  g_autofree char *conf = rel_write_config (&env, "texit", NULL);
  g_autofree char *err = NULL;

  set_mode ("exit");
  status = rel_run_tool (&env, NULL, &err, "start", "-c", conf, "--id", "texit", NULL);
  assert_tool_error (status, err, "told to exit at once");
  rel_assert_nothing_left (&env, "texit");
  g_free (err);
  err = NULL;
  g_assert_cmpint (rel_run_tool (&env, NULL, &err, "status", "texit", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "no VM 'texit'"));
}

static void
test_tool_qmp_faults (gconstpointer data)
{
  const char *mode = data;
  g_autofree char *id = g_strdup_printf ("t%u", g_str_hash (mode) % 100000);
  g_autofree char *conf = rel_write_config (&env, id, NULL);
  g_autofree char *device = g_strdup_printf ("block,id=hd9,path=%s,format=raw", env.disk);
  g_autofree char *err = NULL;
  gboolean pause_fails = g_str_has_suffix (mode, "=stop");
  int status;

  set_mode (mode);
  g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "start", "-c", conf, "--id", id, NULL), ==, 0);
  assert_tool_consistent (id, "running");

  status = rel_run_tool (&env, NULL, &err, "pause", id, NULL);
  if (pause_fails)
    {
      assert_tool_error (status, err, id);
      assert_tool_consistent (id, "running");
    }
  else
    {
      g_assert_cmpint (status, ==, 0);
      assert_tool_consistent (id, "paused");
      g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "resume", id, NULL), ==, 0);
      assert_tool_consistent (id, "running");
    }

  g_clear_pointer (&err, g_free);
  status = rel_run_tool (&env, NULL, &err, "hotplug", id, "--device", device, NULL);
  if (strstr (mode, "device_add") != NULL)
    {
      assert_tool_error (status, err, NULL);
      g_clear_pointer (&err, g_free);
      status = rel_run_tool (&env, NULL, &err, "unplug", id, "--device-id", "hd9", NULL);
      assert_tool_error (status, err, "hd9");
    }
  else
    {
      g_assert_cmpint (status, ==, 0);
      g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "unplug", id, "--device-id", "hd9", NULL), ==, 0);
    }
  assert_tool_consistent (id, "running");
  tool_stop_and_check (id);
}

/* The tool waits the default start timeout (30 s): one such case. */
static void
test_tool_no_greeting (void)
{
  g_autofree char *conf = rel_write_config (&env, "tmute", NULL);
  g_autofree char *err = NULL;
  int status;

  set_mode ("no-greet");
  status = rel_run_tool (&env, NULL, &err, "start", "-c", conf, "--id", "tmute", NULL);
  assert_tool_error (status, err, "did not answer on QMP socket");
  rel_assert_nothing_left (&env, "tmute");
}

static void
test_tool_sigkill (void)
{
  g_autofree char *conf = rel_write_config (&env, "tkill", NULL);
  g_autofree char *pid_file = g_build_filename (env.store, "tkill", "pid", NULL);
  g_autofree char *err = NULL;
  g_autoptr(JsonObject) vm_status = NULL;
  int status;
  int pid;

  set_mode ("");
  g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "start", "-c", conf, "--id", "tkill", NULL), ==, 0);
  assert_tool_consistent ("tkill", "running");
  pid = rel_read_pid_file (pid_file);
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  g_assert_true (rel_wait_pid_dead (pid, 5000));

  vm_status = tool_status ("tkill");
  g_assert_cmpstr (json_object_get_string_member (vm_status, "state"), ==, "stopped");
  status = rel_run_tool (&env, NULL, &err, "pause", "tkill", NULL);
  assert_tool_error (status, err, "not running");
  tool_stop_and_check ("tkill");
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  rel_env_init (&env);
  registry = rel_registry_new ();

  g_test_add_func ("/hvk/reliability/qemu/exit-at-once", test_exit_at_once);
  g_test_add_func ("/hvk/reliability/qemu/hang-before-qmp", test_hang_before_qmp);
  g_test_add_func ("/hvk/reliability/qemu/monitor", test_monitor);
  g_test_add_func ("/hvk/reliability/qemu/no-greeting", test_no_greeting);
  g_test_add_func ("/hvk/reliability/qemu/start-cancelled", test_start_cancelled);
  g_test_add_func ("/hvk/reliability/qemu/close-mid-command", test_close_mid_command);
  g_test_add_func ("/hvk/reliability/qemu/close-mid-hotplug", test_close_mid_hotplug);
  g_test_add_func ("/hvk/reliability/qemu/qmp-error", test_qmp_error);
  g_test_add_func ("/hvk/reliability/qemu/qmp-error-hotplug", test_qmp_error_hotplug);
  g_test_add_func ("/hvk/reliability/qemu/qmp-error-quit", test_qmp_error_quit);
  g_test_add_func ("/hvk/reliability/qemu/malformed", test_malformed);
  g_test_add_func ("/hvk/reliability/qemu/malformed-hotplug", test_malformed_hotplug);
  g_test_add_func ("/hvk/reliability/qemu/event-storm", test_event_storm);
  g_test_add_func ("/hvk/reliability/qemu/sigkill", test_sigkill);
  g_test_add_func ("/hvk/reliability/tool/exit-at-once", test_tool_exit_at_once);
  g_test_add_data_func ("/hvk/reliability/tool/close-mid-command", "close-on=stop", test_tool_qmp_faults);
  g_test_add_data_func ("/hvk/reliability/tool/qmp-error", "error-on=stop", test_tool_qmp_faults);
  g_test_add_data_func ("/hvk/reliability/tool/qmp-error-hotplug", "error-on=device_add", test_tool_qmp_faults);
  g_test_add_data_func ("/hvk/reliability/tool/malformed", "malformed-on=stop", test_tool_qmp_faults);
  g_test_add_data_func ("/hvk/reliability/tool/event-storm", "storm=3000", test_tool_qmp_faults);
  g_test_add_func ("/hvk/reliability/tool/sigkill", test_tool_sigkill);
  g_test_add_func ("/hvk/reliability/tool/no-greeting", test_tool_no_greeting);

  ret = g_test_run ();
  g_clear_object (&registry);
  rel_env_clear (&env);
  return ret;
}
