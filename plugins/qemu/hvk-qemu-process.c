/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvk-qemu-process.h"

/* Reads /proc/PID/stat: the state letter and the start time.  The
 * command name (field 2) may hold spaces and parentheses, so parsing
 * starts after the last ')'. */
static gboolean
read_stat (int      pid,
           char    *state,
           guint64 *start_time)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;
  char *p;

  if (pid <= 0 || !g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;
  p = strrchr (contents, ')');
  if (p == NULL || p[1] != ' ')
    return FALSE;
  /* fields[0] is field 3 (state); field 22 (starttime) is fields[19]. */
  fields = g_strsplit (p + 2, " ", 22);
  if (g_strv_length (fields) < 20)
    return FALSE;
  *state = fields[0][0];
  *start_time = g_ascii_strtoull (fields[19], NULL, 10);
  return TRUE;
}

guint64
hvk_process_get_start_time (int pid)
{
  char state;
  guint64 start_time;

  return read_stat (pid, &state, &start_time) ? start_time : 0;
}

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
        return TRUE;
      if (g_get_monotonic_time () >= deadline_us)
        return FALSE;
      g_usleep (spins++ < 50 ? 1000 : 5000);
    }
}

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
