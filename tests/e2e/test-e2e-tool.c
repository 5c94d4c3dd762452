/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e-common.h"

/* End to end through the built `hvkit` tool: every command is a separate
 * process, so each one takes the VM over from the state the previous one
 * saved (start, status, pause, resume, hotplug, unplug, resize, stop). */

#define VM_ID "e2e-tool"

static E2eEnv env;
static E2eConsole *console;
static gboolean started;
static int qemu_pid;
static char *vm_dir;
static char *qmp_socket;
static gint64 boot_memtotal_kb;

/* The number at the end of the guest's last line starting with @prefix,
 * or -1. */
static gint64
guest_number (const char *prefix)
{
  g_autofree char *line = e2e_console_find_last_line (console, prefix);

  return line != NULL ? g_ascii_strtoll (line + strlen (prefix), NULL, 10) : -1;
}

static void
guest_says (const char *needle)
{
  if (!e2e_console_wait (console, needle, E2E_EVENT_TIMEOUT_MS))
    g_error ("the guest did not say '%s'; console said:\n%s", needle, e2e_console_text (console));
}

/* The guest writes 8 MiB with O_DIRECT to each disk added (the stats
 * test reads them back from QEMU's counters). */
#define TOOL_OVERRIDES "kernel_params=hvkit.dio_write_mb=8"

static gboolean
need_vm (void)
{
  if (e2e_env_skip (&env))
    return FALSE;
  if (!started)
    {
      g_test_skip ("no VM: the start test failed");
      return FALSE;
    }
  return TRUE;
}

static void
test_start (void)
{
  g_autofree char *conf = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonObject) status = NULL;
  JsonArray *pids;
  const char *console_path;

  if (e2e_env_skip (&env))
    return;

  conf = e2e_write_config (&env, "tool", TOOL_OVERRIDES, NULL);

  /* `argv` prints the paths `start` will use, and leaves nothing. */
  {
    g_autofree char *argv_json = NULL;
    g_autofree char *expected = g_strdup_printf ("unix:path=%s/%s/qmp.sock,", env.store, VM_ID);
    g_autofree char *dir = g_build_filename (env.store, VM_ID, NULL);

    g_assert_cmpint (e2e_run_tool (&env, &argv_json, NULL, "argv", "-c", conf, "--id", VM_ID, "--json", NULL), ==, 0);
    g_assert_nonnull (strstr (argv_json, expected));
    g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  }

  g_assert_cmpint (e2e_run_tool (&env, NULL, &err, "start", "-c", conf, "--id", VM_ID, NULL), ==, 0);
  started = TRUE;

  status = e2e_tool_status (&env, VM_ID);
  g_assert_cmpstr (json_object_get_string_member (status, "id"), ==, VM_ID);
  g_assert_cmpstr (json_object_get_string_member (status, "backend"), ==, "qemu");
  g_assert_cmpstr (json_object_get_string_member (status, "state"), ==, "running");
  pids = json_object_get_array_member (status, "pids");
  g_assert_cmpuint (json_array_get_length (pids), >=, 1);
  qemu_pid = (int) json_array_get_int_element (pids, 0);
  e2e_track_pid (qemu_pid);
  g_assert_true (e2e_pid_alive (qemu_pid));

  vm_dir = g_build_filename (env.store, VM_ID, NULL);
  qmp_socket = g_strdup (json_object_get_string_member (status, "qmp_socket"));
  g_assert_true (g_str_has_prefix (qmp_socket, vm_dir));
  console_path = json_object_get_string_member (status, "console");
  g_assert_nonnull (console_path);

  /* `hvkit start` returned: the VM runs on without it. */
  console = e2e_console_open (console_path, 5000);
  g_assert_nonnull (console);
  if (!e2e_console_wait (console, E2E_READY_MARKER, E2E_BOOT_TIMEOUT_MS))
    g_error ("no %s on the console; it said:\n%s", E2E_READY_MARKER, e2e_console_text (console));
  e2e_console_require_current_guest (console, &env);
  boot_memtotal_kb = guest_number ("HVKIT-MEMTOTAL ");
}

/* The describing commands against the real QEMU config, with the VM
 * running: check, kernel-params, backends, list. */
static void
test_commands (void)
{
  g_autofree char *conf = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *running = g_strdup_printf ("%s", VM_ID);

  if (!need_vm ())
    return;
  conf = e2e_write_config (&env, "tool", TOOL_OVERRIDES, NULL);

  g_assert_cmpint (e2e_run_tool (&env, &out, &err, "check", "-c", conf, NULL), ==, 0);
  g_assert_nonnull (strstr (out, env.kernel));
  g_assert_nonnull (strstr (out, "machine_type"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (e2e_run_tool (&env, &out, NULL, "kernel-params", "-c", conf, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "console=hvc0"));
  g_assert_nonnull (strstr (out, "nr_cpus=2"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (e2e_run_tool (&env, &out, NULL, "backends", "--json", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"qemu\""));
  g_assert_nonnull (strstr (out, "block-device-hotplug"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (e2e_run_tool (&env, &out, NULL, "list", NULL), ==, 0);
  g_assert_nonnull (strstr (out, running));
  g_assert_nonnull (strstr (out, "running"));
}

/* Runs the tool with stdin an open pipe (input that never ends) and its
 * output collected, until it exits by itself (at most @timeout_ms). */
static int
run_attached (char       **out,
              guint        timeout_ms,
              const char  *first_arg,
              ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out_path = g_build_filename (env.tmpdir, "attached.out", NULL);
  g_autoptr(GError) error = NULL;
  int in_pipe[2];
  int out_fd;
  GPid pid;
  int status = -1;
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  va_list args;

  g_ptr_array_add (argv, (gpointer) g_getenv ("HVKIT_TEST_TOOL"));
  g_ptr_array_add (argv, (gpointer) "--state-dir");
  g_ptr_array_add (argv, env.store);
  va_start (args, first_arg);
  for (const char *a = first_arg; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  g_assert_cmpint (pipe (in_pipe), ==, 0);
  out_fd = open (out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_assert_cmpint (out_fd, >=, 0);
  g_assert_true (g_spawn_async_with_pipes_and_fds (NULL, (const char * const *) argv->pdata, NULL,
                                                   G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                                   in_pipe[0], out_fd, out_fd, NULL, NULL, 0,
                                                   &pid, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  close (in_pipe[0]);
  close (out_fd);
  while (g_get_monotonic_time () < deadline)
    {
      if (waitpid (pid, &status, WNOHANG) == pid)
        break;
      status = -1;
      g_usleep (50 * 1000);
    }
  if (status == -1)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
    }
  close (in_pipe[1]);
  g_assert_true (g_file_get_contents (out_path, out, NULL, NULL));
  g_test_message ("hvkit %s -> %d\n%s", first_arg,
                  status >= 0 && WIFEXITED (status) ? WEXITSTATUS (status) : -1, *out);
  return status >= 0 && WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

/* `run` in the foreground and `console` on a started VM, against the
 * real QEMU: the guest powers itself off after its ready marker
 * (hvkit.poweroff=1); both show the guest's console and end with it. */
static void
test_run_and_console (void)
{
  g_autofree char *conf = NULL;
  g_autofree char *out = NULL;
  g_autofree char *dir = g_build_filename (env.store, "e2e-con", NULL);

  if (e2e_env_skip (&env))
    return;
  conf = e2e_write_config (&env, "poweroff", "kernel_params=hvkit.poweroff=1", NULL);

  g_assert_cmpint (run_attached (&out, 120000, "run", "-c", conf, "--id", "e2e-run", NULL), ==, 0);
  g_assert_nonnull (strstr (out, E2E_READY_MARKER));
  g_assert_nonnull (strstr (out, "stopped (the guest exited)"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "start", "-c", conf, "--id", "e2e-con", NULL), ==, 0);
  g_assert_cmpint (run_attached (&out, 120000, "console", "e2e-con", NULL), ==, 0);
  g_assert_nonnull (strstr (out, E2E_READY_MARKER));
  g_clear_pointer (&out, g_free);
  /* The guest powered off: status says the VM stopped and how. */
  g_assert_cmpint (e2e_run_tool (&env, &out, NULL, "status", "e2e-con", "--json", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"stopped\""));
  /* How and why: hvkit-monitor heard QEMU's SHUTDOWN. */
  g_assert_nonnull (strstr (out, "exited with status 0 (guest-shutdown)"));
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "stop", "e2e-con", NULL), ==, 0);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
}

/* `status` of a VM whose record holds answers from its state file
 * (hvk_vm_store_describe_from_state()) exactly as the backend would: the
 * same JSON with no plugin to load at all; the same JSON from the backend
 * (QEMU asked over QMP) once the monitor's word for the run state is out
 * of the way; and without both it cannot answer, and says which
 * backend's settings it could not read. */
static void
assert_status_from_record (const char *id,
                           const char *state)
{
  g_autofree char *from_record = NULL;
  g_autofree char *no_plugins = NULL;
  g_autofree char *from_backend = NULL;
  g_autofree char *err = NULL;
  g_autofree char *runstate = g_build_filename (env.store, id, "runstate", NULL);
  g_autofree char *aside = g_strconcat (runstate, ".aside", NULL);
  g_autofree char *empty = g_build_filename (env.tmpdir, "no-plugins", NULL);
  g_autofree char *plugin_path = g_strdup (g_getenv ("HVKIT_PLUGIN_PATH"));
  g_autofree char *system_path = g_strdup (g_getenv ("HVKIT_PLUGIN_SYSTEM_PATH"));

  g_autofree char *word = g_strconcat (state, "\n", NULL);
  gint64 deadline = g_get_monotonic_time () + (gint64) E2E_EVENT_TIMEOUT_MS * 1000;

  /* The monitor writes QEMU's word after the event that changed it. */
  for (;;)
    {
      g_autofree char *text = NULL;

      if (g_file_get_contents (runstate, &text, NULL, NULL) && g_str_equal (text, word))
        break;
      if (g_get_monotonic_time () > deadline)
        g_error ("%s never said '%s' (it says '%s')", runstate, state, text ? text : "(nothing)");
      g_usleep (20 * 1000);
    }
  g_assert_cmpint (g_mkdir_with_parents (empty, 0700), ==, 0);
  g_assert_cmpint (e2e_run_tool (&env, &from_record, NULL, "status", id, "--json", NULL), ==, 0);

  g_setenv ("HVKIT_PLUGIN_PATH", empty, TRUE);
  g_setenv ("HVKIT_PLUGIN_SYSTEM_PATH", empty, TRUE);
  g_assert_cmpint (e2e_run_tool (&env, &no_plugins, NULL, "status", id, "--json", NULL), ==, 0);
  g_assert_cmpint (g_rename (runstate, aside), ==, 0);
  g_assert_cmpint (e2e_run_tool (&env, NULL, &err, "status", id, "--json", NULL), !=, 0);
  g_assert_nonnull (strstr (err, "[hypervisor.qemu]"));
  if (plugin_path != NULL)
    g_setenv ("HVKIT_PLUGIN_PATH", plugin_path, TRUE);
  else
    g_unsetenv ("HVKIT_PLUGIN_PATH");
  if (system_path != NULL)
    g_setenv ("HVKIT_PLUGIN_SYSTEM_PATH", system_path, TRUE);
  else
    g_unsetenv ("HVKIT_PLUGIN_SYSTEM_PATH");

  g_assert_cmpint (e2e_run_tool (&env, &from_backend, NULL, "status", id, "--json", NULL), ==, 0);
  g_assert_cmpint (g_rename (aside, runstate), ==, 0);
  g_assert_cmpstr (no_plugins, ==, from_record);
  g_assert_cmpstr (from_backend, ==, from_record);
}

static void
test_pause_resume (void)
{
  g_autoptr(JsonObject) paused = NULL;
  g_autoptr(JsonObject) running = NULL;
  g_autofree char *qemu_paused = NULL;
  g_autofree char *qemu_running = NULL;

  if (!need_vm ())
    return;

  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "pause", VM_ID, NULL), ==, 0);
  paused = e2e_tool_status (&env, VM_ID);
  g_assert_cmpstr (json_object_get_string_member (paused, "state"), ==, "paused");
  qemu_paused = e2e_qmp_status (qmp_socket);
  g_assert_cmpstr (qemu_paused, ==, "paused");
  assert_status_from_record (VM_ID, "paused");

  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "resume", VM_ID, NULL), ==, 0);
  running = e2e_tool_status (&env, VM_ID);
  g_assert_cmpstr (json_object_get_string_member (running, "state"), ==, "running");
  qemu_running = e2e_qmp_status (qmp_socket);
  g_assert_cmpstr (qemu_running, ==, "running");
  assert_status_from_record (VM_ID, "running");

  /* status asks QEMU nothing: the run state is the one hvkit-monitor
   * keeps (runstate), the vCPU threads are QEMU's named threads in /proc.
   * With QMP's socket out of the way it still answers in full… */
  {
    g_autofree char *aside = g_strconcat (qmp_socket, ".aside", NULL);
    g_autofree char *runstate = g_build_filename (env.store, VM_ID, "runstate", NULL);
    g_autofree char *runstate_aside = g_strconcat (runstate, ".aside", NULL);
    g_autoptr(JsonObject) quiet = NULL;
    g_autoptr(JsonObject) asking = NULL;

    g_assert_cmpint (g_rename (qmp_socket, aside), ==, 0);
    quiet = e2e_tool_status (&env, VM_ID);
    g_assert_cmpstr (json_object_get_string_member (quiet, "state"), ==, "running");
    g_assert_false (json_object_has_member (quiet, "error"));
    g_assert_cmpint (json_object_get_int_member (quiet, "vcpu_threads"), ==, 1);
    /* …and without the monitor's word it asks QEMU, which here fails. */
    g_assert_cmpint (g_rename (runstate, runstate_aside), ==, 0);
    asking = e2e_tool_status (&env, VM_ID);
    g_assert_cmpstr (json_object_get_string_member (asking, "state"), ==, "stopped");
    g_assert_nonnull (strstr (json_object_get_string_member (asking, "error"), "qmp.sock"));
    g_assert_cmpint (g_rename (runstate_aside, runstate), ==, 0);
    g_assert_cmpint (g_rename (aside, qmp_socket), ==, 0);
  }
}

static void
test_hotplug (void)
{
  g_autofree char *disk = NULL;
  g_autofree char *spec = NULL;
  g_autofree char *err = NULL;

  if (!need_vm ())
    return;

  disk = g_build_filename (env.tmpdir, "disk2.raw", NULL);
  g_assert_true (g_file_set_contents (disk, "", 0, NULL));
  g_assert_cmpint (truncate (disk, 8 * 1024 * 1024), ==, 0);
  spec = g_strdup_printf ("block,id=disk2,path=%s,format=raw", disk);

  e2e_console_forget (console);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "hotplug", VM_ID, "--device", spec, NULL), ==, 0);
  if (!e2e_console_wait (console, "HVKIT-BLOCK-ADDED vd", E2E_EVENT_TIMEOUT_MS))
    g_error ("the guest did not report the new disk; console said:\n%s", e2e_console_text (console));
  /* status lists it, with its kind and properties, as JSON and as text. */
  {
    g_autoptr(JsonObject) status = e2e_tool_status (&env, VM_ID);
    JsonArray *hot = json_object_get_array_member (status, "hotplugged");
    JsonObject *dev;
    g_autofree char *text = NULL;
    g_autofree char *line = g_strdup_printf ("  disk2: block,path=%s,format=raw", disk);

    g_assert_cmpuint (json_array_get_length (hot), ==, 1);
    dev = json_array_get_object_element (hot, 0);
    g_assert_cmpstr (json_object_get_string_member (dev, "id"), ==, "disk2");
    g_assert_cmpstr (json_object_get_string_member (dev, "kind"), ==, "block");
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (dev, "props"), "path"), ==, disk);
    g_assert_cmpint (e2e_run_tool (&env, &text, NULL, "status", VM_ID, NULL), ==, 0);
    g_assert_nonnull (strstr (text, line));
  }
  assert_status_from_record (VM_ID, "running");

  e2e_console_forget (console);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "unplug", VM_ID, "--device-id", "disk2", NULL), ==, 0);
  guest_says ("HVKIT-BLOCK-REMOVED vd");
  {
    g_autoptr(JsonObject) status = e2e_tool_status (&env, VM_ID);

    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (status, "hotplugged")), ==, 0);
  }
  /* Unknown device: an operation failure (exit 1) with a message. */
  g_assert_cmpint (e2e_run_tool (&env, NULL, &err, "unplug", VM_ID, "--device-id", "disk2", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "disk2"));
}

static JsonObject *
stats_json (void)
{
  g_autofree char *out = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root;

  g_assert_cmpint (e2e_run_tool (&env, &out, NULL, "stats", VM_ID, "--json", NULL), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (root, "id"), ==, VM_ID);
  return json_object_ref (json_object_get_object_member (root, "stats"));
}

/* `hvkit stats`: a disk the guest wrote 8 MiB to with O_DIRECT shows them
 * in QEMU's counters, the CPU time grows, the vCPU threads are QEMU's,
 * and the Prometheus text passes Debian's prometheus_client parser.
 * Before the resize test: QEMU 7.2 dies on a virtio-blk hotplug after a
 * vCPU unplug. */
static void
test_stats (void)
{
  g_autofree char *disk = NULL;
  g_autofree char *spec = NULL;
  g_autofree char *line = NULL;
  g_autofree char *prom = NULL;
  g_autoptr(JsonObject) first = NULL;
  g_autoptr(JsonObject) second = NULL;
  gint64 thread;

  if (!need_vm ())
    return;

  disk = g_build_filename (env.tmpdir, "stats.raw", NULL);
  g_assert_true (g_file_set_contents (disk, "", 0, NULL));
  g_assert_cmpint (truncate (disk, 16 * 1024 * 1024), ==, 0);
  spec = g_strdup_printf ("block,id=sdisk,path=%s,format=raw", disk);

  e2e_console_forget (console);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "hotplug", VM_ID, "--device", spec, NULL), ==, 0);
  if (!e2e_console_wait (console, "HVKIT-DIO-WRITE vd", E2E_EVENT_TIMEOUT_MS))
    g_error ("the guest did not write to the new disk; console said:\n%s", e2e_console_text (console));
  line = e2e_console_find_line (console, "HVKIT-DIO-WRITE vd");
  g_assert_nonnull (strstr (line, " 8388608 "));

  first = stats_json ();
  g_assert_cmpint (json_object_get_int_member (first, "block.sdisk.wr_bytes"), >=, 8 * 1024 * 1024);
  g_assert_cmpint (json_object_get_int_member (first, "block.sdisk.wr_ops"), >, 0);
  g_assert_cmpint (json_object_get_int_member (first, "memory.configured_bytes"), >, 0);
  g_assert_cmpint (json_object_get_int_member (first, "memory.rss_bytes"), >, 0);
  thread = json_object_get_int_member (first, "vcpu.0.thread_id");
  g_assert_cmpint (thread, >, 0);
  {
    g_autofree char *task = g_strdup_printf ("/proc/%d/task/%" G_GINT64_FORMAT, qemu_pid, thread);

    g_assert_true (g_file_test (task, G_FILE_TEST_IS_DIR));
  }
  g_usleep (300 * 1000);
  second = stats_json ();
  g_assert_cmpint (json_object_get_int_member (second, "cpu.time_ns"), >,
                   json_object_get_int_member (first, "cpu.time_ns"));

  /* The Prometheus text, for this VM and for --all, parsed. */
  g_assert_cmpint (e2e_run_tool (&env, &prom, NULL, "stats", "--all", "--prometheus", NULL), ==, 0);
  g_assert_nonnull (strstr (prom, "hvkit_vm_block_write_bytes_total{id=\"" VM_ID "\",device=\"sdisk\"} "));
  if (g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    {
      const char *script =
        "import sys\n"
        "from prometheus_client.parser import text_string_to_metric_families\n"
        "for family in text_string_to_metric_families(sys.stdin.read()):\n"
        "    for s in family.samples:\n"
        "        if s.name == 'hvkit_vm_block_write_bytes_total' and s.labels.get('device') == 'sdisk':\n"
        "            print(int(s.value))\n";
      g_autofree char *path = g_build_filename (env.tmpdir, "metrics.txt", NULL);
      g_autofree char *cmd = NULL;
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      g_autoptr(GError) error = NULL;
      int status;

      g_assert_true (g_file_set_contents (path, prom, -1, NULL));
      {
        const char *argv[] = { "/bin/sh", "-c", "exec /usr/bin/python3 -c \"$0\" < \"$1\"",
                               script, path, NULL };
        g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                      &status, &error);
      }
      g_assert_no_error (error);
      if (err != NULL && strstr (err, "No module named 'prometheus_client'") != NULL)
        g_test_message ("python3-prometheus-client is not installed: the text was not parsed");
      else
        {
          g_assert_true (g_spawn_check_wait_status (status, NULL));
          g_assert_cmpint (g_ascii_strtoll (out, NULL, 10), >=, 8 * 1024 * 1024);
        }
    }

  e2e_console_forget (console);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "unplug", VM_ID, "--device-id", "sdisk", NULL), ==, 0);
  guest_says ("HVKIT-BLOCK-REMOVED vd");
}

static void
test_resize (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) cpus = NULL;
  g_autoptr(JsonNode) memory = NULL;
  JsonObject *summary;

  if (!need_vm ())
    return;

  e2e_console_forget (console);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "resize", VM_ID, "--vcpus", "2",
                                 "--memory", "512", NULL), ==, 0);
  /* The guest has them: 2 CPUs online, 256 MiB more (two memory blocks,
   * maybe onlined in two steps; less what their memmap may take). */
  guest_says ("HVKIT-CPUS 2");
  {
    gint64 deadline = g_get_monotonic_time () + (gint64) E2E_EVENT_TIMEOUT_MS * 1000;

    while (guest_number ("HVKIT-MEMTOTAL ") < boot_memtotal_kb + 250 * 1024
           && g_get_monotonic_time () < deadline)
      e2e_console_wait (console, "\n(never)", 200);
    g_test_message ("guest MemTotal %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT " kB",
                    boot_memtotal_kb, guest_number ("HVKIT-MEMTOTAL "));
    g_assert_cmpint (guest_number ("HVKIT-MEMTOTAL "), >=, boot_memtotal_kb + 250 * 1024);
    g_assert_cmpint (guest_number ("HVKIT-MEMTOTAL "), <=, boot_memtotal_kb + 256 * 1024);
  }
  cpus = e2e_qmp_query (qmp_socket, "query-cpus-fast", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (cpus)), ==, 2);
  /* status reports the vCPUs QEMU has. */
  {
    g_autoptr(JsonObject) status = e2e_tool_status (&env, VM_ID);

    g_assert_cmpint (json_object_get_int_member (status, "vcpu_threads"), ==, 2);
    g_assert_cmpint (json_object_get_int_member (status, "vcpus"), ==, 2);
  }
  assert_status_from_record (VM_ID, "running");
  memory = e2e_qmp_query (qmp_socket, "query-memory-size-summary", &error);
  g_assert_no_error (error);
  summary = json_node_get_object (memory);
  g_assert_cmpint (json_object_get_int_member (summary, "base-memory")
                   + json_object_get_int_member_with_default (summary, "plugged-memory", 0),
                   ==, (gint64) 512 * 1024 * 1024);
}

/* `hvkit events ID --json` (ID NULL: --all) in the background, its lines
 * in a file. */
typedef struct {
  GPid pid;
  char *path;
} Follower;

static Follower *
follower_start (const char *id)
{
  Follower *f = g_new0 (Follower, 1);
  const char *tool = g_getenv ("HVKIT_TEST_TOOL");
  const char *argv[] = { tool, "--state-dir", env.store, "events", id ? id : "--all", "--json", NULL };
  g_autoptr(GError) error = NULL;
  int fd;

  f->path = g_build_filename (env.tmpdir, "events.jsonl", NULL);
  fd = open (f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_spawn_async_with_fds (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                          &f->pid, -1, fd, -1, &error);
  g_assert_no_error (error);
  close (fd);
  return f;
}

/* Waits until the follower wrote a line with @needle; returns it. */
static char *
follower_wait (Follower   *f,
               const char *needle,
               guint       timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  do
    {
      g_autofree char *text = NULL;

      if (g_file_get_contents (f->path, &text, NULL, NULL))
        {
          g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

          for (guint i = 0; lines[i] != NULL; i++)
            if (strstr (lines[i], needle) != NULL)
              return g_strdup (lines[i]);
        }
      g_usleep (20 * 1000);
    }
  while (g_get_monotonic_time () < deadline);
  {
    g_autofree char *text = NULL;

    g_file_get_contents (f->path, &text, NULL, NULL);
    g_error ("hvkit events printed no line with '%s' within %u ms; it printed:\n%s",
             needle, timeout_ms, text ? text : "");
  }
  return NULL;
}

/* The follower's exit status, waiting up to @timeout_ms (-1: still runs). */
static int
follower_end (Follower *f,
              guint     timeout_ms,
              gboolean  kill_it)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  int status = -1, wstatus;

  if (kill_it)
    kill (f->pid, SIGTERM);
  do
    {
      if (waitpid (f->pid, &wstatus, WNOHANG) == f->pid)
        {
          status = WIFEXITED (wstatus) ? WEXITSTATUS (wstatus) : 128 + WTERMSIG (wstatus);
          break;
        }
      g_usleep (20 * 1000);
    }
  while (g_get_monotonic_time () < deadline);
  if (status == -1)
    {
      kill (f->pid, SIGKILL);
      waitpid (f->pid, NULL, 0);
    }
  g_spawn_close_pid (f->pid);
  g_free (f->path);
  g_free (f);
  return status;
}

/* `hvkit events`: STOP and RESUME within a second of pause and resume,
 * from QEMU's events socket (the commands use the other one). */
static void
test_events (void)
{
  Follower *f;
  g_autofree char *stop = NULL;
  g_autofree char *resume = NULL;

  if (!need_vm ())
    return;

  f = follower_start (VM_ID);
  /* Give it the time to connect and read QMP's greeting. */
  g_usleep (1000 * 1000);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "pause", VM_ID, NULL), ==, 0);
  stop = follower_wait (f, "\"event\":\"STOP\"", 1000);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "resume", VM_ID, NULL), ==, 0);
  resume = follower_wait (f, "\"event\":\"RESUME\"", 1000);
  g_assert_nonnull (strstr (stop, "\"id\":\"" VM_ID "\""));
  /* Still following (the VM runs): interrupted, it goes. */
  g_assert_cmpint (follower_end (f, 2000, TRUE), ==, 128 + SIGTERM);
}

/* `reboot`: the guest boots again in the same QEMU, which keeps running. */
static void
test_reboot (void)
{
  g_autofree char *out = NULL;
  g_autoptr(JsonObject) status = NULL;

  if (!need_vm ())
    return;

  e2e_console_forget (console);
  g_assert_cmpint (e2e_run_tool (&env, &out, NULL, "reboot", VM_ID, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "rebooted"));
  if (!e2e_console_wait (console, E2E_READY_MARKER, E2E_BOOT_TIMEOUT_MS))
    g_error ("the guest did not boot again; console said:\n%s", e2e_console_text (console));
  status = e2e_tool_status (&env, VM_ID);
  g_assert_cmpstr (json_object_get_string_member (status, "state"), ==, "running");
  g_assert_cmpint (json_array_get_int_element (json_object_get_array_member (status, "pids"), 0),
                   ==, qemu_pid);
  g_assert_true (e2e_pid_alive (qemu_pid));
}

/* `shutdown`: the guest sees the ACPI power button and powers off; the VM
 * is then gone like a stopped one. */
static void
test_shutdown (void)
{
  g_autofree char *conf = NULL;
  g_autofree char *out = NULL;
  g_autofree char *json = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *dir = g_build_filename (env.store, "e2e-shut", NULL);
  E2eConsole *shut_console;
  JsonObject *status;
  Follower *follower;
  g_autofree char *shutdown_line = NULL;
  g_autofree char *exited_line = NULL;
  int pid;

  if (e2e_env_skip (&env))
    return;
  conf = e2e_write_config (&env, "shutdown", NULL, NULL);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "start", "-c", conf, "--id", "e2e-shut", NULL), ==, 0);
  g_assert_cmpint (e2e_run_tool (&env, &json, NULL, "status", "e2e-shut", "--json", NULL), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  status = json_node_get_object (json_parser_get_root (parser));
  pid = (int) json_array_get_int_element (json_object_get_array_member (status, "pids"), 0);
  e2e_track_pid (pid);
  shut_console = e2e_console_open (json_object_get_string_member (status, "console"), 5000);
  g_assert_nonnull (shut_console);
  /* A guest still booting has no one at the button: wait for it. */
  if (!e2e_console_wait (shut_console, E2E_READY_MARKER, E2E_BOOT_TIMEOUT_MS))
    g_error ("no %s; console said:\n%s", E2E_READY_MARKER, e2e_console_text (shut_console));

  follower = follower_start ("e2e-shut");
  g_usleep (1000 * 1000);
  g_assert_cmpint (e2e_run_tool (&env, &out, NULL, "shutdown", "e2e-shut", "--timeout", "60", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "VM 'e2e-shut' shut down (the guest powered off)"));
  /* The guest's power-off, then QEMU's end: the follower ends with it. */
  shutdown_line = follower_wait (follower, "\"event\":\"SHUTDOWN\"", E2E_EVENT_TIMEOUT_MS);
  g_assert_nonnull (strstr (shutdown_line, "\"reason\":\"guest-shutdown\""));
  exited_line = follower_wait (follower, "\"event\":\"exited\"", E2E_EVENT_TIMEOUT_MS);
  g_assert_nonnull (strstr (exited_line, "exited with status 0"));
  g_assert_cmpint (follower_end (follower, 5000, FALSE), ==, 0);
  g_assert_true (e2e_console_wait (shut_console, "HVKIT-POWER-BUTTON", E2E_EVENT_TIMEOUT_MS));
  e2e_console_free (shut_console);
  g_assert_true (e2e_wait_pid_dead (pid, 1000));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
}

/* A guest panic with guest_memory_dump_path: hvkit-monitor has the
 * memory dumped to DIR/ID/vmcore-….elf, an ELF core of about the guest's
 * RAM; `hvkit events` shows GUEST_PANICKED; QEMU keeps the guest. */
static void
test_panic_dump (void)
{
  g_autofree char *dumps = g_build_filename (env.tmpdir, "dumps", NULL);
  g_autofree char *dump_dir = g_build_filename (dumps, "e2e-panic", NULL);
  g_autofree char *overrides = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *line = NULL;
  g_autofree char *done = NULL;
  g_autofree char *status = NULL;
  g_autofree char *core = NULL;
  g_autoptr(GDir) dir = NULL;
  Follower *follower;
  const char *name;
  guint8 header[64];
  FILE *f;

  if (e2e_env_skip (&env))
    return;
  g_assert_cmpint (g_mkdir_with_parents (dumps, 0700), ==, 0);
  overrides = g_strdup_printf ("kernel_params=hvkit.panic=1\nguest_memory_dump_path=%s", dumps);
  conf = e2e_write_config (&env, "panic", overrides, NULL);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "start", "-c", conf, "--id", "e2e-panic", NULL), ==, 0);
  follower = follower_start ("e2e-panic");
  line = follower_wait (follower, "\"event\":\"GUEST_PANICKED\"", E2E_BOOT_TIMEOUT_MS);
  done = follower_wait (follower, "\"event\":\"DUMP_COMPLETED\"", 60000);
  g_assert_nonnull (strstr (done, "\"status\":\"completed\""));

  dir = g_dir_open (dump_dir, 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "vmcore-") && g_str_has_suffix (name, ".elf"))
      core = g_build_filename (dump_dir, name, NULL);
  g_assert_nonnull (core);
  f = fopen (core, "rb");
  g_assert_nonnull (f);
  g_assert_cmpuint (fread (header, 1, sizeof header, f), ==, sizeof header);
  fseek (f, 0, SEEK_END);
  /* ELF, ET_CORE (e_type 4, little-endian), about the guest's 256 MiB. */
  g_assert_cmpmem (header, 4, "\177ELF", 4);
  g_assert_cmpuint (header[16] | (header[17] << 8), ==, 4);
  g_assert_cmpint (ftell (f), >=, 200 * 1024 * 1024);
  fclose (f);

  /* QEMU kept the panicked guest; status says so. */
  g_assert_cmpint (e2e_run_tool (&env, &status, NULL, "status", "e2e-panic", NULL), ==, 0);
  g_assert_nonnull (strstr (status, "guest-panicked"));
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "stop", "e2e-panic", NULL), ==, 0);
  g_assert_cmpint (follower_end (follower, 5000, FALSE), ==, 0);
  g_remove (core);
  g_rmdir (dump_dir);
  g_rmdir (dumps);
}

/* guest_panic_stop and guest_memory_dump_paging: the dump follows the
 * guest's page tables, then the monitor has QEMU quit; why it ended is
 * kept (guest-panicked). */
static void
test_panic_dump_stop (void)
{
  g_autofree char *dumps = g_build_filename (env.tmpdir, "dumps2", NULL);
  g_autofree char *dump_dir = g_build_filename (dumps, "e2e-panic2", NULL);
  g_autofree char *overrides = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *exited = NULL;
  g_autofree char *panicked = NULL;
  g_autofree char *status = NULL;
  g_autofree char *log = NULL;
  g_autoptr(GDir) dir = NULL;
  Follower *follower;
  const char *name;
  guint n = 0;

  if (e2e_env_skip (&env))
    return;
  g_assert_cmpint (g_mkdir_with_parents (dumps, 0700), ==, 0);
  overrides = g_strdup_printf ("kernel_params=hvkit.panic=1\nguest_memory_dump_path=%s\n"
                               "guest_panic_stop=true\nguest_memory_dump_paging=true", dumps);
  conf = e2e_write_config (&env, "panic2", overrides, NULL);
  /* Following every VM, this one started after the follower. */
  follower = follower_start (NULL);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "start", "-c", conf, "--id", "e2e-panic2", NULL), ==, 0);
  exited = follower_wait (follower, "\"id\":\"e2e-panic2\",\"event\":\"exited\"", 60000);
  g_assert_nonnull (strstr (exited, "(guest-panicked)"));
  panicked = follower_wait (follower, "\"id\":\"e2e-panic2\",\"event\":\"GUEST_PANICKED\"", 1000);
  g_assert_nonnull (panicked);
  /* --all follows until interrupted. */
  g_assert_cmpint (follower_end (follower, 2000, TRUE), ==, 128 + SIGTERM);
  g_assert_cmpint (e2e_run_tool (&env, &status, NULL, "status", "e2e-panic2", NULL), ==, 0);
  g_assert_nonnull (strstr (status, "exited with status 0 (guest-panicked)"));
  g_assert_cmpint (e2e_run_tool (&env, &log, NULL, "logs", "e2e-panic2", NULL), ==, 0);
  g_assert_nonnull (strstr (log, "guest memory dumped; stopping the VMM"));

  dir = g_dir_open (dump_dir, 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *core = g_build_filename (dump_dir, name, NULL);

      g_assert_true (g_str_has_prefix (name, "vmcore-"));
      n++;
      g_remove (core);
    }
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "stop", "e2e-panic2", NULL), ==, 0);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "logs", "e2e-panic2", "--clear", NULL), ==, 0);
  g_rmdir (dump_dir);
  g_rmdir (dumps);
}

static void
test_stop (void)
{
  g_autofree char *err = NULL;

  if (!need_vm ())
    return;

  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "stop", VM_ID, NULL), ==, 0);
  started = FALSE;
  g_assert_true (e2e_wait_pid_dead (qemu_pid, 1000));
  g_assert_false (g_file_test (vm_dir, G_FILE_TEST_EXISTS));
  g_assert_cmpint (e2e_run_tool (&env, NULL, &err, "status", VM_ID, NULL), !=, 0);

  /* QEMU's log outlives the VM, to its last line (the monitor's), until
   * cleared. */
  {
    g_autofree char *log = NULL;
    g_autofree char *expected = g_strdup_printf ("(pid %d) exited with status 0", qemu_pid);

    g_assert_cmpint (e2e_run_tool (&env, &log, NULL, "logs", VM_ID, NULL), ==, 0);
    g_assert_nonnull (strstr (log, expected));
    g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "logs", VM_ID, "--clear", NULL), ==, 0);
    g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "logs", VM_ID, NULL), ==, 1);
  }
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  e2e_env_init (&env);
  if (env.skip_reason == NULL && g_getenv ("HVKIT_TEST_TOOL") == NULL)
    env.skip_reason = g_strdup ("HVKIT_TEST_TOOL (the built hvkit) is not set");

  g_test_add_func ("/hvk/e2e/tool/start", test_start);
  g_test_add_func ("/hvk/e2e/tool/commands", test_commands);
  g_test_add_func ("/hvk/e2e/tool/pause-resume", test_pause_resume);
  g_test_add_func ("/hvk/e2e/tool/hotplug", test_hotplug);
  g_test_add_func ("/hvk/e2e/tool/stats", test_stats);
  g_test_add_func ("/hvk/e2e/tool/resize", test_resize);
  g_test_add_func ("/hvk/e2e/tool/events", test_events);
  g_test_add_func ("/hvk/e2e/tool/reboot", test_reboot);
  g_test_add_func ("/hvk/e2e/tool/stop", test_stop);
  g_test_add_func ("/hvk/e2e/tool/shutdown", test_shutdown);
  g_test_add_func ("/hvk/e2e/tool/panic-dump", test_panic_dump);
  g_test_add_func ("/hvk/e2e/tool/panic-dump-stop", test_panic_dump_stop);
  g_test_add_func ("/hvk/e2e/tool/run-and-console", test_run_and_console);

  ret = g_test_run ();

  if (started)
    e2e_run_tool (&env, NULL, NULL, "stop", VM_ID, NULL);
  if (qemu_pid > 0 && e2e_pid_alive (qemu_pid))
    kill (qemu_pid, SIGKILL);
  g_clear_pointer (&console, e2e_console_free);
  g_free (vm_dir);
  g_free (qmp_socket);
  e2e_env_clear (&env);
  return ret;
}
