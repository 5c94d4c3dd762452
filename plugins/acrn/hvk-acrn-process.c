/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvk-acrn-private.h"

/*
 * acrn-dm runs in the foreground; we start it in its own session so it
 * outlives the process that started it (`hvkit start` returns) and a
 * Ctrl-C on that terminal does not reach it.  Liveness reads
 * /proc/PID/stat: an exited child of a process that never reaps it (or of
 * an init that reaps slowly) is a zombie, which kill(pid, 0) still finds.
 */

/* Fields after the `(comm)`, which may itself hold spaces or ')'. */
static GStrv
read_stat_fields (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *contents = NULL;
  const char *close_paren;

  if (pid <= 0 || !g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;

  close_paren = strrchr (contents, ')');
  if (close_paren == NULL || close_paren[1] == '\0')
    return NULL;

  /* fields[0] is the state (field 3 of stat). */
  return g_strsplit (g_strstrip ((char *) close_paren + 1), " ", -1);
}

guint64
hvk_acrn_process_start_time (GPid pid)
{
  g_auto(GStrv) fields = read_stat_fields (pid);
  guint64 start_time = 0;

  /* starttime is field 22; fields[] starts at field 3. */
  if (fields == NULL || g_strv_length (fields) < 20)
    return 0;
  if (!g_ascii_string_to_unsigned (fields[19], 10, 0, G_MAXUINT64, &start_time, NULL))
    return 0;
  return start_time;
}

gboolean
hvk_acrn_process_alive (GPid    pid,
                        guint64 start_time)
{
  g_auto(GStrv) fields = read_stat_fields (pid);

  if (fields == NULL || fields[0] == NULL)
    return FALSE;
  if (g_str_equal (fields[0], "Z") || g_str_equal (fields[0], "X")
      || g_str_equal (fields[0], "x"))
    return FALSE;
  /* A recycled pid is another process. */
  if (start_time != 0 && hvk_acrn_process_start_time (pid) != start_time)
    return FALSE;
  return TRUE;
}

gboolean
hvk_acrn_process_reap (GPid  pid,
                       int  *wait_status)
{
  int status = 0;
  pid_t ret;

  do
    ret = waitpid (pid, &status, WNOHANG);
  while (ret < 0 && errno == EINTR);

  if (ret != pid)
    return FALSE;
  if (wait_status != NULL)
    *wait_status = status;
  return TRUE;
}

static void
child_setup (gpointer user_data)
{
  /* Async-signal-safe only: a session of its own, away from our
   * terminal's signals and process group. */
  setsid ();
}

gboolean
hvk_acrn_process_spawn (const char * const *argv,
                        const char         *log_path,
                        GPid               *pid,
                        GError            **error)
{
  g_autoptr(GError) local_error = NULL;
  int null_fd, log_fd, saved_errno;
  gboolean ok;

  null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "Cannot open /dev/null: %s", g_strerror (saved_errno));
      return FALSE;
    }
  log_fd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (log_fd < 0)
    {
      saved_errno = errno;
      close (null_fd);
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "Cannot create acrn-dm log '%s': %s", log_path,
                   g_strerror (saved_errno));
      return FALSE;
    }

  ok = g_spawn_async_with_pipes_and_fds (NULL, argv, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD,
                                         child_setup, NULL,
                                         null_fd, log_fd, log_fd,
                                         NULL, NULL, 0,
                                         pid, NULL, NULL, NULL,
                                         &local_error);
  close (null_fd);
  close (log_fd);

  if (!ok)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "Cannot launch '%s': %s", argv[0], local_error->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
hvk_acrn_process_run (const char * const *argv,
                      GCancellable       *cancellable,
                      GError            **error)
{
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *err_text = NULL;
  g_autofree char *command = g_strjoinv (" ", (char **) argv);

  proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                  | G_SUBPROCESS_FLAGS_STDERR_PIPE, &local_error);
  if (proc == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "Cannot run '%s': %s", command, local_error->message);
      return FALSE;
    }

  if (!g_subprocess_communicate_utf8 (proc, NULL, cancellable, NULL, &err_text,
                                      &local_error))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "'%s' failed: %s", command, local_error->message);
      return FALSE;
    }

  if (!g_subprocess_get_successful (proc))
    {
      g_autofree char *reason = NULL;

      if (g_subprocess_get_if_exited (proc))
        reason = g_strdup_printf ("exit status %d", g_subprocess_get_exit_status (proc));
      else
        reason = g_strdup_printf ("signal %d", g_subprocess_get_term_sig (proc));
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "'%s' failed (%s)%s%s",
                   command, reason, (err_text && *g_strstrip (err_text)) ? ": " : "",
                   err_text ? err_text : "");
      return FALSE;
    }
  return TRUE;
}
