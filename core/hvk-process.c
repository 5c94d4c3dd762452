/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>


/**
 * SECTION:hvk-process
 * @short_description: liveness, waits and kills of VMM processes
 *
 * Helpers for backends that launch a VMM (or a daemon beside it) which may
 * not be the caller's child: a daemonized QEMU is re-parented, and a second
 * `hvkit` process acts on a VM the first one started.  Liveness is read
 * from `/proc/PID/stat`, never from kill(pid, 0) alone: an exited orphan
 * stays a zombie until PID 1 reaps it, which can take seconds.  A start
 * time (stat field 22) recorded at launch guards against pid reuse.
 */

/* Reads /proc/PID/stat: the state letter and the start time.  The
 * command name (field 2) may hold spaces and parentheses, so parsing
 * starts after the last ')'.  One open and one read into the stack:
 * every command asks this several times of each VMM it looks at. */
static gboolean
read_stat (int      pid,
           char    *state,
           guint64 *start_time)
{
  char path[32];
  char buf[1024];
  const char *p;
  ssize_t n;
  int fd;
  int field;

  if (pid <= 0)
    return FALSE;
  g_snprintf (path, sizeof path, "/proc/%d/stat", pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  do
    n = read (fd, buf, sizeof buf - 1);
  while (n < 0 && errno == EINTR);
  close (fd);
  if (n <= 0)
    return FALSE;
  buf[n] = '\0';
  p = strrchr (buf, ')');
  if (p == NULL || p[1] != ' ' || p[2] == '\0')
    return FALSE;
  /* Field 3 (state) follows; field 22 (starttime) is 19 spaces on. */
  p += 2;
  *state = *p;
  for (field = 3; field < 22 && p != NULL; field++)
    {
      p = strchr (p, ' ');
      if (p != NULL)
        p++;
    }
  if (p == NULL || !g_ascii_isdigit (*p))
    return FALSE;
  *start_time = g_ascii_strtoull (p, NULL, 10);
  return TRUE;
}

/**
 * hvk_process_get_start_time:
 * @pid: a process id
 *
 * Gets when a process started, to tell it from a later process that reuses
 * its pid.
 *
 * Returns: the start time of @pid in clock ticks since boot
 *   (`/proc/PID/stat` field 22), or 0 when there is no such process
 */
guint64
hvk_process_get_start_time (int pid)
{
  char state;
  guint64 start_time;

  return read_stat (pid, &state, &start_time) ? start_time : 0;
}

/**
 * hvk_process_is_alive:
 * @pid: a process id
 * @start_time: its start time from hvk_process_get_start_time(), or 0
 *
 * Tells whether a process runs, and is the one that started at
 * @start_time.
 *
 * Returns: %TRUE when @pid exists, is neither a zombie nor dead, and (when
 *   @start_time is not 0) is the process that started then
 */
gboolean
hvk_process_is_alive (int     pid,
                      guint64 start_time)
{
  char state;
  guint64 actual;

  if (!read_stat (pid, &state, &actual))
    return FALSE;
  if (state == 'Z' || state == 'X' || state == 'x')
    return FALSE;
  return start_time == 0 || actual == start_time;
}

/**
 * hvk_process_wait_dead:
 * @pid: a process id
 * @start_time: its start time, or 0
 * @deadline_us: a g_get_monotonic_time() deadline
 *
 * Polls (every millisecond at first, then every 5 ms) until @pid is dead,
 * reaping it when it is the caller's child.
 *
 * Returns: %TRUE if it died before @deadline_us
 */
gboolean
hvk_process_wait_dead (int     pid,
                       guint64 start_time,
                       gint64  deadline_us)
{
  guint spins = 0;

  for (;;)
    {
      /* Reap it if it is our child; ECHILD otherwise, which is fine. */
      (void) waitpid (pid, NULL, WNOHANG);
      if (!hvk_process_is_alive (pid, start_time))
        {
          /* It may have become a zombie between the waitpid() and the
           * look at /proc: reap it now, or the caller's child lingers. */
          (void) waitpid (pid, NULL, WNOHANG);
          return TRUE;
        }
      if (g_get_monotonic_time () >= deadline_us)
        return FALSE;
      g_usleep (spins++ < 50 ? 1000 : 5000);
    }
}

/**
 * hvk_process_kill:
 * @pid: a process id (0 or less: nothing to do)
 * @start_time: its start time, or 0
 * @timeout_ms: how long to wait for it to die
 *
 * Sends SIGKILL to @pid if it is alive and waits for it to die.
 *
 * Returns: %TRUE if it is dead
 */
gboolean
hvk_process_kill (int     pid,
                  guint64 start_time,
                  guint   timeout_ms)
{
  if (pid <= 0)
    return TRUE;
  if (hvk_process_is_alive (pid, start_time))
    kill (pid, SIGKILL);
  return hvk_process_wait_dead (pid, start_time,
                                g_get_monotonic_time () + (gint64) timeout_ms * 1000);
}

/**
 * hvk_process_read_pid_file:
 * @path: a pid file (QEMU's `-pidfile`)
 * @pid: (out): the pid
 * @error: return location for an error
 *
 * Reads a pid file.
 *
 * Returns: %TRUE if @path holds one positive pid
 */
gboolean
hvk_process_read_pid_file (const char  *path,
                           int         *pid,
                           GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local_error = NULL;
  char *end = NULL;
  gint64 value;

  if (!g_file_get_contents (path, &contents, NULL, &local_error))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "cannot read pid file: %s", local_error->message);
      return FALSE;
    }
  g_strstrip (contents);
  value = g_ascii_strtoll (contents, &end, 10);
  if (*contents == '\0' || end == NULL || *end != '\0' || value <= 0 || value > G_MAXINT)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "pid file %s does not hold a pid: '%s'", path, contents);
      return FALSE;
    }
  *pid = (int) value;
  return TRUE;
}

/**
 * hvk_process_read_log_tail:
 * @path: (nullable): a log file
 * @max_bytes: how much of its end to return
 *
 * For error messages that quote what a VMM said before it failed.
 *
 * Returns: (transfer full) (nullable): the last @max_bytes of @path, as
 *   valid UTF-8 without surrounding white space, or %NULL if empty
 */
char *
hvk_process_read_log_tail (const char *path,
                           gsize       max_bytes)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  const char *start;

  if (path == NULL || !g_file_get_contents (path, &contents, &len, NULL))
    return NULL;
  start = contents;
  if (len > max_bytes)
    start = contents + len - max_bytes;
  {
    g_autofree char *valid = g_utf8_make_valid (start, -1);

    g_strstrip (valid);
    if (*valid == '\0')
      return NULL;
    return g_steal_pointer (&valid);
  }
}

/**
 * hvk_process_describe_exit:
 * @exit_file: (nullable): the exit file hvkit-monitor writes when the VMM
 *   it watches ends (`exited N` or `signal N [core]`, then `reason R` when
 *   QEMU said why: `guest-shutdown`, `host-qmp-quit`, `guest-panicked` …)
 *
 * Describes how a VMM ended, from the exit file its monitor wrote.
 *
 * Returns: (transfer full) (nullable): how the VMM ended ("exited with
 *   status 1", "killed by signal 6 (Aborted), core dumped", "exited with
 *   status 0 (guest-shutdown)"), or %NULL when
 *   the file is absent or unreadable
 */
char *
hvk_process_describe_exit (const char *exit_file)
{
  g_autofree char *contents = NULL;
  g_autofree char *how = NULL;
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) words = NULL;
  const char *reason = NULL;
  gint64 number;

  if (exit_file == NULL || !g_file_get_contents (exit_file, &contents, NULL, NULL))
    return NULL;
  lines = g_strsplit (contents, "\n", 0);
  if (lines[0] == NULL)
    return NULL;
  /* Why it ended, when the monitor heard QEMU say: "reason guest-shutdown". */
  for (guint i = 1; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "reason ") && lines[i][7] != '\0')
      reason = lines[i] + 7;
  g_strstrip (lines[0]);
  words = g_strsplit (lines[0], " ", 3);
  if (g_strv_length (words) < 2
      || !g_ascii_string_to_signed (words[1], 10, 0, 255, &number, NULL))
    return NULL;
  if (g_str_equal (words[0], "exited"))
    how = g_strdup_printf ("exited with status %d", (int) number);
  else if (g_str_equal (words[0], "signal"))
    how = g_strdup_printf ("killed by signal %d (%s)%s", (int) number,
                           g_strsignal ((int) number),
                           words[2] != NULL && g_str_equal (words[2], "core")
                           ? ", core dumped" : "");
  if (how == NULL || reason == NULL)
    return g_steal_pointer (&how);
  return g_strdup_printf ("%s (%s)", how, reason);
}

/* Whether /proc/PID/cmdline names @path (as an argument or inside one). */
static gboolean
cmdline_mentions (const char *pid_name,
                  const char *path)
{
  g_autofree char *file = g_build_filename ("/proc", pid_name, "cmdline", NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (file, &contents, &len, NULL) || len == 0)
    return FALSE;
  for (gsize i = 0; i + 1 < len; i++)
    if (contents[i] == '\0')
      contents[i] = ' ';
  return strstr (contents, path) != NULL;
}

/**
 * hvk_process_kill_referencing:
 * @path: a directory, e.g. a VM's `STATE/ID` (with or without a trailing '/')
 * @timeout_ms: how long each process gets after SIGTERM before SIGKILL
 *
 * The last resort of a stop that cannot trust the VM's record (a corrupt
 * state file, a start that was interrupted): kills every process of the
 * caller's user whose command line names a file inside @path — the VMM,
 * its monitor, virtiofsd — and waits until they are gone.  A pid reused by
 * an unrelated process does not name the VM's directory, so it is spared.
 *
 * Returns: (transfer full) (element-type gint): the pids killed
 */
GArray *
hvk_process_kill_referencing (const char *path,
                              guint       timeout_ms)
{
  GArray *killed = g_array_new (FALSE, FALSE, sizeof (int));
  g_autofree char *prefix = NULL;
  g_autoptr(GDir) proc = NULL;
  const char *name;
  int self = getpid ();

  g_return_val_if_fail (path != NULL && g_path_is_absolute (path), killed);

  prefix = g_str_has_suffix (path, "/") ? g_strdup (path) : g_strconcat (path, "/", NULL);
  proc = g_dir_open ("/proc", 0, NULL);
  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *status_path = NULL;
      guint64 value;
      int pid;
      struct stat st;

      if (!g_ascii_string_to_unsigned (name, 10, 1, G_MAXINT, &value, NULL))
        continue;
      pid = (int) value;
      if (pid == self)
        continue;
      status_path = g_build_filename ("/proc", name, NULL);
      if (stat (status_path, &st) != 0 || (getuid () != 0 && st.st_uid != getuid ()))
        continue;
      if (!cmdline_mentions (name, prefix))
        continue;
      hvk_process_kill (pid, hvk_process_get_start_time (pid), timeout_ms);
      g_array_append_val (killed, pid);
    }
  return killed;
}

/**
 * hvk_debug_kill_point:
 * @where: a name for the point reached (for `HVKIT_TEST_KILL_TRACE`)
 *
 * For tests of what a killed hvkit leaves: the points where a process may
 * die mid-operation (a state file written, a VMM spawned, a QMP command
 * sent) call this.  With `HVKIT_TEST_KILL_AT=N` in the environment the
 * process sends itself SIGKILL at the Nth point it reaches;
 * `HVKIT_TEST_KILL_TRACE=1` prints each point to stderr.  Without them it
 * does nothing.  Test-only: not for production use.
 */
void
hvk_debug_kill_point (const char *where)
{
  static gint reached;
  static gint64 kill_at = -1;
  gint n;

  if (kill_at < 0)
    {
      const char *text = g_getenv ("HVKIT_TEST_KILL_AT");
      gint64 value = 0;

      kill_at = text != NULL && g_ascii_string_to_signed (text, 10, 1, G_MAXINT, &value, NULL)
                ? value : 0;
    }
  n = g_atomic_int_add (&reached, 1) + 1;
  if (g_getenv ("HVKIT_TEST_KILL_TRACE") != NULL)
    g_printerr ("hvkit: kill point %d: %s\n", n, where);
  if (kill_at > 0 && n == kill_at)
    kill (getpid (), SIGKILL);
}
