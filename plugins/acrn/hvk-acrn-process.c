/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvk-acrn-private.h"

/*
 * acrn-dm runs in the foreground; we start it in its own session so it
 * outlives the process that started it (`hvkit start` returns) and a
 * Ctrl-C on that terminal does not reach it.  Liveness is the
 * core's hvk_process_is_alive().
 */

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
   * terminal's signals and process group.  Owner-only files and
   * sockets (0600), like the rest of the VM dir. */
  setsid ();
  umask (0177);
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
