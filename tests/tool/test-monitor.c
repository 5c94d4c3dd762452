/* SPDX-License-Identifier: Apache-2.0 */
/* hvkit-monitor's confinement: the VMM starts in the VM's cgroup, under
 * the identity it is given, and its cgroup goes when it ends. */
#include "config.h"

#include <hvkit/hvkit.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/ioctl.h>
#include <unistd.h>

typedef struct {
  GSubprocess *first;
  GOutputStream *hold;
  char *dir;
  char *log;
  char *exit_file;
  int monitor;
  int vmm;
  int relay_fd;   /* given to the monitor as its fd 4 when > 0 */
} Monitor;

static const char *
monitor_path (void)
{
  const char *path = g_getenv ("HVKIT_MONITOR");

  g_assert_nonnull (path);
  return path;
}

/* Starts the monitor as a backend does; returns FALSE if it refused its
 * arguments (exit status in @status). */
static gboolean
monitor_start (Monitor            *m,
               const char * const *options,
               const char         *script,
               int                *status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *line = NULL;
  int fds[2];
  char buffer[64] = { 0 };
  gssize n;

  m->dir = g_dir_make_tmp ("hvk-test-monitor-XXXXXX", &error);
  g_assert_no_error (error);
  m->log = g_build_filename (m->dir, "log", NULL);
  m->exit_file = g_build_filename (m->dir, "exit", NULL);
  g_unix_open_pipe (fds, FD_CLOEXEC, &error);
  g_assert_no_error (error);

  g_ptr_array_add (argv, (char *) monitor_path ());
  g_ptr_array_add (argv, "3");
  g_ptr_array_add (argv, m->exit_file);
  for (guint i = 0; options[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) options[i]);
  g_ptr_array_add (argv, "--");
  g_ptr_array_add (argv, "/bin/sh");
  g_ptr_array_add (argv, "-c");
  g_ptr_array_add (argv, (char *) script);
  g_ptr_array_add (argv, NULL);

  g_subprocess_launcher_set_stdout_file_path (launcher, m->log);
  g_subprocess_launcher_set_flags (launcher, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_take_fd (launcher, fds[1], 3);
  if (m->relay_fd > 0)
    {
      g_subprocess_launcher_take_fd (launcher, m->relay_fd, 4);
      m->relay_fd = 0;
    }
  m->first = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_object_unref (launcher);
  launcher = NULL;
  m->hold = g_object_ref (g_subprocess_get_stdin_pipe (m->first));

  n = read (fds[0], buffer, sizeof buffer - 1);
  close (fds[0]);
  g_subprocess_wait (m->first, NULL, &error);
  g_assert_no_error (error);
  if (n <= 0)
    {
      *status = g_subprocess_get_exit_status (m->first);
      return FALSE;
    }
  g_assert_cmpint (sscanf (buffer, "%d %d", &m->monitor, &m->vmm), ==, 2);
  *status = 0;
  return TRUE;
}

/* As a backend does; the monitor may be gone already (its VMM failed). */
static void
monitor_release (Monitor *m)
{
  g_output_stream_write_all (m->hold, "r", 1, NULL, NULL, NULL);
}

static char *
wait_exit_file (Monitor *m)
{
  char *contents = NULL;

  for (int i = 0; i < 1000 && !g_file_get_contents (m->exit_file, &contents, NULL, NULL); i++)
    g_usleep (10000);
  g_assert_nonnull (contents);
  return g_strstrip (contents);
}

static void
monitor_clear (Monitor *m)
{
  if (m->vmm > 0)
    kill (m->vmm, SIGKILL);
  if (m->monitor > 0)
    hvk_process_wait_dead (m->monitor, 0, g_get_monotonic_time () + 5 * G_USEC_PER_SEC);
  g_clear_object (&m->hold);
  g_clear_object (&m->first);
  if (m->dir != NULL)
    {
      g_unlink (m->log);
      g_unlink (m->exit_file);
      g_rmdir (m->dir);
    }
  g_clear_pointer (&m->dir, g_free);
  g_clear_pointer (&m->log, g_free);
  g_clear_pointer (&m->exit_file, g_free);
}

static char *
status_line (int         pid,
             const char *name)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], name) && lines[i][strlen (name)] == ':')
      return g_strstrip (g_strdup (lines[i] + strlen (name) + 1));
  return NULL;
}

/* Until the VMM has exec'd its last program (`exec sleep`). */
static void
wait_comm (int         pid,
           const char *comm)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/comm", pid);

  for (int i = 0; i < 500; i++)
    {
      g_autofree char *contents = NULL;

      if (g_file_get_contents (path, &contents, NULL, NULL)
          && g_str_equal (g_strstrip (contents), comm))
        return;
      g_usleep (10000);
    }
  g_assert_not_reached ();
}

static void
test_confined (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *parent = g_strdup_printf ("/hvkit-test-monitor-%d.slice", (int) getpid ());
  g_autoptr(HvkCgroup) cgroup = NULL;
  g_autoptr(GPtrArray) options = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *uid = NULL;
  g_autofree char *gid = NULL;
  g_autofree char *groups = NULL;
  g_autofree char *how = NULL;
  Monitor m = { 0 };
  const char * const *dirs;
  int status;

  if (geteuid () != 0)
    {
      g_test_skip ("changing identity and cgroups needs root");
      return;
    }
  cgroup = hvk_cgroup_new (parent, "vm", HVK_CGROUP_FLAGS_NONE, &error);
  if (cgroup == NULL)
    {
      g_test_skip (error->message);
      return;
    }
  dirs = hvk_cgroup_get_dirs (cgroup);
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_ptr_array_add (options, g_strdup ("--cgroup"));
      g_ptr_array_add (options, g_strdup (dirs[i]));
    }
  g_ptr_array_add (options, g_strdup ("--uid"));
  g_ptr_array_add (options, g_strdup ("65534"));
  g_ptr_array_add (options, g_strdup ("--gid"));
  g_ptr_array_add (options, g_strdup ("65533"));
  g_ptr_array_add (options, g_strdup ("--groups"));
  g_ptr_array_add (options, g_strdup ("100,65533"));
  g_ptr_array_add (options, NULL);

  g_assert_true (monitor_start (&m, (const char * const *) options->pdata, "exec sleep 30", &status));
  wait_comm (m.vmm, "sleep");
  uid = status_line (m.vmm, "Uid");
  gid = status_line (m.vmm, "Gid");
  groups = status_line (m.vmm, "Groups");
  g_assert_cmpstr (uid, ==, "65534\t65534\t65534\t65534");
  g_assert_cmpstr (gid, ==, "65533\t65533\t65533\t65533");
  g_assert_cmpstr (groups, ==, "100 65533");
  g_assert_true (hvk_cgroup_contains (cgroup, m.vmm));
  /* The monitor itself stays out: it is not the VM. */
  g_assert_false (hvk_cgroup_contains (cgroup, m.monitor));

  monitor_release (&m);
  kill (m.vmm, SIGKILL);
  how = wait_exit_file (&m);
  g_assert_cmpstr (how, ==, "signal 9");
  m.vmm = 0;
  g_assert_true (hvk_process_wait_dead (m.monitor, 0, g_get_monotonic_time () + 5 * G_USEC_PER_SEC));
  /* The monitor removed the cgroup after the VMM ended. */
  for (guint i = 0; dirs[i] != NULL; i++)
    g_assert_false (g_file_test (dirs[i], G_FILE_TEST_EXISTS));
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *up = g_path_get_dirname (dirs[i]);
      g_rmdir (up);
    }
  monitor_clear (&m);
}

/* A cgroup the VMM cannot join: it never runs, the log says why. */
static void
test_cgroup_refused (void)
{
  const char *options[] = { "--cgroup", "/nonexistent/hvkit-test/cgroup", NULL };
  g_autofree char *how = NULL;
  g_autofree char *log = NULL;
  Monitor m = { 0 };
  int status;

  g_assert_true (monitor_start (&m, options, "echo VMM-RAN; exec sleep 30", &status));
  monitor_release (&m);
  how = wait_exit_file (&m);
  g_assert_cmpstr (how, ==, "exited 126");
  m.vmm = 0;
  g_assert_true (hvk_process_wait_dead (m.monitor, 0, g_get_monotonic_time () + 5 * G_USEC_PER_SEC));
  g_assert_true (g_file_get_contents (m.log, &log, NULL, NULL));
  g_assert_nonnull (strstr (log, "cannot join cgroup /nonexistent/hvkit-test/cgroup"));
  g_assert_null (strstr (log, "VMM-RAN"));
  monitor_clear (&m);
}

/* --selinux-label: written to the child's attr/exec before exec; a kernel
 * without SELinux refuses it, and then the VMM never runs (a label asked
 * for is never silently dropped) and the log says why. */
static void
test_selinux_label_refused (void)
{
  const char *options[] = { "--selinux-label", "system_u:system_r:svirt_t:s0", NULL };
  g_autofree char *how = NULL;
  g_autofree char *log = NULL;
  Monitor m = { 0 };
  int status;

  if (g_file_test ("/sys/fs/selinux/enforce", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("this host has SELinux: its policy decides on the label");
      return;
    }
  g_assert_true (monitor_start (&m, options, "echo VMM-RAN; exec sleep 30", &status));
  monitor_release (&m);
  how = wait_exit_file (&m);
  g_assert_cmpstr (how, ==, "exited 126");
  m.vmm = 0;
  g_assert_true (hvk_process_wait_dead (m.monitor, 0, g_get_monotonic_time () + 5 * G_USEC_PER_SEC));
  g_assert_true (g_file_get_contents (m.log, &log, NULL, NULL));
  g_assert_nonnull (strstr (log, "cannot set the SELinux exec label 'system_u:system_r:svirt_t:s0'"));
  g_assert_null (strstr (log, "VMM-RAN"));
  monitor_clear (&m);
}

/* A command that forks and exits (a jailer that does not exec the VMM):
 * what it left is reparented to the monitor (a child subreaper), killed
 * and reaped once the command's pid ends, and the log says so, naming
 * the VMM given with --exec and the command that ran it. */
static void
test_leftovers (void)
{
  const char *options[] = { "--exec", "/opt/hvkit-test/vmm", NULL };
  g_autofree char *how = NULL;
  g_autofree char *log = NULL;
  g_autofree char *line = NULL;
  g_autofree char *expected = NULL;
  const char *left_at;
  Monitor m = { 0 };
  int left = 0;
  int vmm;
  int status;

  g_assert_true (monitor_start (&m, options, "sleep 60 & echo LEFT $!; exit 3", &status));
  monitor_release (&m);
  how = wait_exit_file (&m);
  g_assert_cmpstr (how, ==, "exited 3");
  vmm = m.vmm;
  m.vmm = 0;
  g_assert_true (hvk_process_wait_dead (m.monitor, 0, g_get_monotonic_time () + 5 * G_USEC_PER_SEC));
  g_assert_true (g_file_get_contents (m.log, &log, NULL, NULL));
  left_at = strstr (log, "LEFT ");
  g_assert_nonnull (left_at);
  left = atoi (left_at + 5);
  g_assert_cmpint (left, >, 0);
  g_assert_false (hvk_process_is_alive (left, 0));
  line = g_strdup_printf ("hvkit-monitor: /opt/hvkit-test/vmm (pid %d, run by /bin/sh) exited with status 3",
                          vmm);
  if (strstr (log, line) == NULL)
    g_error ("no '%s' in the log:\n%s", line, log);
  /* Its name: sleep, or sh if it had not exec'd sleep yet. */
  expected = g_strdup_printf ("hvkit-monitor: /bin/sh left process %d (", left);
  if (strstr (log, expected) == NULL || strstr (log, ") behind: killed (a jailer must exec") == NULL)
    g_error ("no '%s…) behind: killed' in the log:\n%s", expected, log);
  monitor_clear (&m);
}

/* The VMM's output goes through the monitor to the log, rotated past
 * --log-max with --log-keep files kept; the monitor's own last line
 * lands there too. */
static void
test_log_rotation (void)
{
  g_autofree char *log = NULL;
  g_autofree char *log_1 = NULL;
  g_autofree char *log_2 = NULL;
  g_autofree char *log_3 = NULL;
  g_autofree char *current = NULL;
  g_autofree char *older = NULL;
  g_autofree char *how = NULL;
  Monitor m = { 0 };
  const char *options[] = { "--log", NULL, "--log-max", "4096", "--log-keep", "2", NULL };
  /* Five bursts of 14 lines of 200 bytes (2800 bytes each, 14000 in
   * all: two rotations at least, whatever the chunks the monitor reads)
   * on stdout, then a last word on stderr. */
  const char *script =
    "i=0; while [ $i -lt 70 ]; do printf 'line %03d %0190d\\n' $i 0; i=$((i+1)); "
    "[ $((i % 14)) = 0 ] && sleep 0.05; done; echo LAST-WORD >&2; exit 3";
  int status;

  {
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp ("hvk-test-monitor-log-XXXXXX", &error);
    g_assert_no_error (error);
    log = g_build_filename (dir, "qemu.log", NULL);
    log_1 = g_strconcat (log, ".1", NULL);
    log_2 = g_strconcat (log, ".2", NULL);
    log_3 = g_strconcat (log, ".3", NULL);
    options[1] = log;
    g_assert_true (monitor_start (&m, options, script, &status));
    monitor_release (&m);
    how = wait_exit_file (&m);
    g_assert_cmpstr (how, ==, "exited 3");
    m.vmm = 0;
    g_assert_true (hvk_process_wait_dead (m.monitor, 0, g_get_monotonic_time () + 5 * G_USEC_PER_SEC));

    g_assert_true (g_file_get_contents (log, &current, NULL, NULL));
    g_assert_true (g_file_get_contents (log_1, &older, NULL, NULL));
    g_assert_true (g_file_test (log_2, G_FILE_TEST_EXISTS));
    g_assert_false (g_file_test (log_3, G_FILE_TEST_EXISTS));
    /* Each file stays near the cap (one relayed chunk past it at most). */
    g_assert_cmpuint (strlen (older), >=, 4096);
    g_assert_cmpuint (strlen (older), <, 4096 + 2800);
    /* The newest output and the monitor's own last line are in the
     * current file; the first lines were rotated out. */
    g_assert_nonnull (strstr (current, "LAST-WORD"));
    g_assert_nonnull (strstr (current, "exited with status 3"));
    g_assert_null (strstr (current, "line 000 "));
    g_unlink (log);
    g_unlink (log_1);
    g_unlink (log_2);
    g_rmdir (dir);
  }
  monitor_clear (&m);
}

static void
wait_pipe_empty (int fd)
{
  int queued = 1;

  for (int i = 0; i < 500 && ioctl (fd, FIONREAD, &queued) == 0 && queued > 0; i++)
    g_usleep (10000);
  g_assert_cmpint (queued, ==, 0);
}

/* Another process's output (virtiofsd's) comes on --relay-fd and goes
 * to --relay-log, capped and rotated as the VMM's log; the monitor's
 * own lines stay in the VMM's log. */
static void
test_relay_log (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hvk-test-monitor-relay-XXXXXX", &error);
  g_autofree char *log = g_build_filename (dir, "qemu.log", NULL);
  g_autofree char *relay = g_build_filename (dir, "virtiofsd.log", NULL);
  g_autofree char *relay_1 = g_strconcat (relay, ".1", NULL);
  g_autofree char *relay_2 = g_strconcat (relay, ".2", NULL);
  g_autofree char *relay_3 = g_strconcat (relay, ".3", NULL);
  g_autofree char *current = NULL;
  g_autofree char *older = NULL;
  g_autofree char *vmm_log = NULL;
  g_autofree char *how = NULL;
  const char *options[] = { "--log", log, "--log-max", "4096", "--log-keep", "2",
                            "--relay-fd", "4", "--relay-log", relay, NULL };
  Monitor m = { 0 };
  int pipe_fds[2];
  int status;

  g_assert_no_error (error);
  g_assert_true (g_unix_open_pipe (pipe_fds, FD_CLOEXEC, NULL));
  m.relay_fd = pipe_fds[0];
  g_assert_true (monitor_start (&m, options, "echo VMM-OUTPUT; exec sleep 30", &status));
  /* 70 lines of 200 bytes (14000 bytes: two rotations at least), then
   * a last word; the writer closes its end, as virtiofsd at its end. */
  monitor_release (&m);
  for (int i = 0; i < 70; i++)
    {
      g_autofree char *line = g_strdup_printf ("fs line %03d %0187d\n", i, 0);
      g_assert_cmpint (write (pipe_fds[1], line, strlen (line)), ==, (gssize) strlen (line));
      /* In bursts of 14 lines, each relayed (read out of the pipe)
       * before the next: the monitor reads what the pipe holds at once. */
      if (i % 14 == 13)
        wait_pipe_empty (pipe_fds[1]);
    }
  g_assert_cmpint (write (pipe_fds[1], "FS-LAST-WORD\n", 13), ==, 13);
  close (pipe_fds[1]);
  /* Relayed while the VMM runs. */
  for (int i = 0; i < 500 && !g_file_test (relay_2, G_FILE_TEST_EXISTS); i++)
    g_usleep (10000);
  kill (m.vmm, SIGTERM);
  how = wait_exit_file (&m);
  g_assert_cmpstr (how, ==, "signal 15");
  m.vmm = 0;
  g_assert_true (hvk_process_wait_dead (m.monitor, 0, g_get_monotonic_time () + 5 * G_USEC_PER_SEC));

  g_assert_true (g_file_get_contents (relay, &current, NULL, NULL));
  g_assert_true (g_file_get_contents (relay_1, &older, NULL, NULL));
  g_assert_true (g_file_test (relay_2, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (relay_3, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (strlen (older), >=, 4096);
  g_assert_nonnull (strstr (current, "FS-LAST-WORD"));
  g_assert_null (strstr (current, "fs line 000 "));
  g_assert_null (strstr (current, "VMM-OUTPUT"));
  g_assert_null (strstr (current, "hvkit-monitor"));
  g_assert_true (g_file_get_contents (log, &vmm_log, NULL, NULL));
  g_assert_nonnull (strstr (vmm_log, "VMM-OUTPUT"));
  g_assert_null (strstr (vmm_log, "fs line"));

  for (const char * const *f = (const char * const[]) { log, relay, relay_1, relay_2, NULL }; *f; f++)
    g_unlink (*f);
  g_rmdir (dir);
  monitor_clear (&m);
}

static void
test_bad_options (void)
{
  const char *uid_alone[] = { "--uid", "5", NULL };
  const char *relative[] = { "--cgroup", "relative/dir", NULL };
  const char *unknown[] = { "--chroot", "/", NULL };
  const char *small_log[] = { "--log", "/tmp/x", "--log-max", "10", NULL };
  const char *relative_log[] = { "--log", "x.log", NULL };
  const char *bad_groups[] = { "--uid", "5", "--gid", "5", "--groups", "1,x", NULL };
  const char *relative_qmp[] = { "--qmp", "monitor.sock", NULL };
  const char *quoted_dump[] = { "--qmp", "/tmp/m.sock", "--panic-dump", "/tmp/a\"b", NULL };
  const char *control_dump[] = { "--qmp", "/tmp/m.sock", "--panic-dump", "/tmp/a\nb", NULL };
  const char *relay_alone[] = { "--relay-fd", "3", NULL };
  const char *relay_log_alone[] = { "--relay-log", "/tmp/x.log", NULL };
  const char *relay_closed[] = { "--relay-fd", "900", "--relay-log", "/tmp/x.log", NULL };
  const char * const *cases[] = { uid_alone, relative, unknown, bad_groups, small_log, relative_log,
                                  relative_qmp, quoted_dump, control_dump, relay_alone,
                                  relay_log_alone, relay_closed };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Monitor m = { 0 };
      int status = 0;

      g_assert_false (monitor_start (&m, cases[i], "exec sleep 30", &status));
      g_assert_cmpint (status, ==, 2);
      g_assert_false (g_file_test (m.exit_file, G_FILE_TEST_EXISTS));
      monitor_clear (&m);
    }
}

/* What `status` says of an exit file: the status, and why QEMU ended
 * when the monitor heard it (a reason line). */
/* ---- the QMP watcher's run state file, against a scripted QMP peer ---- */

static int
qmp_listen (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  g_strlcpy (addr.sun_path, path, sizeof addr.sun_path);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (fd, 1), ==, 0);
  return fd;
}

/* The next line the monitor sent (5 s at most). */
static char *
qmp_read_line (int      fd,
               GString *pending)
{
  for (;;)
    {
      const char *nl = strchr (pending->str, '\n');
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      char buf[512];
      ssize_t n;

      if (nl != NULL)
        {
          char *line = g_strndup (pending->str, (gsize) (nl - pending->str));

          g_string_erase (pending, 0, nl - pending->str + 1);
          return line;
        }
      g_assert_cmpint (poll (&pfd, 1, 5000), ==, 1);
      n = read (fd, buf, sizeof buf);
      g_assert_cmpint (n, >, 0);
      g_string_append_len (pending, buf, n);
    }
}

static void
qmp_write (int         fd,
           const char *text)
{
  g_assert_cmpint (write (fd, text, strlen (text)), ==, (gssize) strlen (text));
}

/* Waits (5 s at most) until @path holds @want, or is gone if NULL. */
static void
wait_runstate (const char *path,
               const char *want)
{
  g_autofree char *last = NULL;

  for (int i = 0; i < 500; i++)
    {
      g_autofree char *contents = NULL;
      gboolean exists = g_file_get_contents (path, &contents, NULL, NULL);

      if (want == NULL ? !exists : exists && g_str_equal (contents, want))
        return;
      g_free (last);
      last = g_steal_pointer (&contents);
      g_usleep (10000);
    }
  g_error ("%s: '%s', not '%s'", path, last ? last : "(none)", want ? want : "(none)");
}

/* The monitor asks QEMU's run state once connected and after each event
 * that changes it, keeps QEMU's word in --runstate FILE (a panic at once,
 * before its dump), and removes the file when the connection ends. */
static void
test_runstate (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("hvk-test-runstate-XXXXXX", NULL);
  g_autofree char *sock = g_build_filename (tmp, "m.sock", NULL);
  g_autofree char *file = g_build_filename (tmp, "runstate", NULL);
  const char *options[] = { "--qmp", sock, "--runstate", file, NULL };
  g_autoptr(GString) pending = g_string_new (NULL);
  struct pollfd pfd;
  Monitor m = { 0 };
  int listener, fd, status;
  const struct { const char *event, *answer, *want; } steps[] = {
    { "STOP\"", "paused", "paused\n" },
    { "RESUME\"", "running", "running\n" },
    { "SHUTDOWN\", \"data\": {\"guest\": true, \"reason\": \"guest-shutdown\"}", "shutdown", "shutdown\n" },
  };

  listener = qmp_listen (sock);
  g_assert_true (monitor_start (&m, options, "exec sleep 60", &status));
  monitor_release (&m);
  pfd = (struct pollfd) { .fd = listener, .events = POLLIN };
  g_assert_cmpint (poll (&pfd, 1, 5000), ==, 1);
  fd = accept (listener, NULL, NULL);
  g_assert_cmpint (fd, >=, 0);
  qmp_write (fd, "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n");

  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *line = qmp_read_line (fd, pending);

      if (strstr (line, "qmp_capabilities") != NULL)
        qmp_write (fd, "{\"return\": {}, \"id\": \"caps\"}\r\n");
      else
        {
          g_assert_nonnull (strstr (line, "\"query-status\""));
          g_assert_false (g_file_test (file, G_FILE_TEST_EXISTS));
          qmp_write (fd, "{\"return\": {\"status\": \"running\", \"singlestep\": false, "
                         "\"running\": true}, \"id\": \"runstate\"}\r\n");
        }
    }
  wait_runstate (file, "running\n");

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      g_autofree char *event = g_strdup_printf ("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
                                                "\"event\": \"%s}\r\n", steps[i].event);
      g_autofree char *answer = g_strdup_printf ("{\"return\": {\"status\": \"%s\", \"singlestep\": false, "
                                                 "\"running\": false}, \"id\": \"runstate\"}\r\n",
                                                 steps[i].answer);
      g_autofree char *line = NULL;

      qmp_write (fd, event);
      line = qmp_read_line (fd, pending);
      g_assert_nonnull (strstr (line, "\"query-status\""));
      qmp_write (fd, answer);
      wait_runstate (file, steps[i].want);
    }

  /* A panic is published before QEMU answers the query it prompts. */
  qmp_write (fd, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 3}, \"event\": \"GUEST_PANICKED\", "
                 "\"data\": {\"action\": \"pause\", \"info\": {}}}\r\n");
  wait_runstate (file, "guest-panicked\n");
  {
    g_autofree char *line = qmp_read_line (fd, pending);

    g_assert_nonnull (strstr (line, "\"query-status\""));
  }
  /* An answer that is no plain word is not written. */
  qmp_write (fd, "{\"return\": {\"status\": \"a b\"}, \"id\": \"runstate\"}\r\n");
  g_usleep (100000);
  wait_runstate (file, "guest-panicked\n");

  /* QEMU closes its socket (it is ending): the state is no longer known. */
  close (fd);
  wait_runstate (file, NULL);
  close (listener);
  g_unlink (sock);
  g_rmdir (tmp);
  monitor_clear (&m);
}

static void
test_describe_exit (void)
{
  const struct { const char *file; const char *how; } cases[] = {
    { "exited 0\n", "exited with status 0" },
    { "exited 0\nreason guest-shutdown\n", "exited with status 0 (guest-shutdown)" },
    { "signal 9\nreason guest-panicked\n", "killed by signal 9 (Killed) (guest-panicked)" },
    { "signal 6 core\n", "killed by signal 6 (Aborted), core dumped" },
    { "exited x\nreason guest-shutdown\n", NULL },
    { "", NULL },
  };
  g_autofree char *dir = g_dir_make_tmp ("hvk-test-exit-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "exit", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *how = NULL;

      g_assert_true (g_file_set_contents (path, cases[i].file, -1, NULL));
      how = hvk_process_describe_exit (path);
      g_assert_cmpstr (how, ==, cases[i].how);
    }
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  signal (SIGPIPE, SIG_IGN);
  g_test_add_func ("/hvk/monitor/confined", test_confined);
  g_test_add_func ("/hvk/monitor/cgroup-refused", test_cgroup_refused);
  g_test_add_func ("/hvk/monitor/selinux-label-refused", test_selinux_label_refused);
  g_test_add_func ("/hvk/monitor/log-rotation", test_log_rotation);
  g_test_add_func ("/hvk/monitor/leftovers", test_leftovers);
  g_test_add_func ("/hvk/monitor/relay-log", test_relay_log);
  g_test_add_func ("/hvk/monitor/bad-options", test_bad_options);
  g_test_add_func ("/hvk/monitor/describe-exit", test_describe_exit);
  g_test_add_func ("/hvk/monitor/runstate", test_runstate);
  return g_test_run ();
}
