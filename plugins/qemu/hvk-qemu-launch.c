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

/* Launching QEMU: the launcher, the readiness wait (QMP answered), the
 * reaper and the kill of a failed start (libvirt's qemu_process.c). */

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

gboolean
hvk_qemu_vm_start (HvkHypervisor  *hypervisor,
               guint           timeout_ms,
               GCancellable   *cancellable,
               GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  if (!hvk_qemu_vm_check_state (self, "start", S (CREATED), error))
    return FALSE;

  /* A created VM taken over from saved state has no command line object
   * (it holds the launch-time descriptors): build it again. */
  if (self->cmdline == NULL && !hvk_qemu_vm_build_cmdline (self, error))
    return FALSE;

  /* create_vm() made it; a cleanup() in between may have removed it. */
  if (!g_file_test (self->paths.vm_dir, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *dir = hvk_vm_store_ensure_dir (self->store, self->id, error);
      if (dir == NULL)
        return FALSE;
      self->vm_dir_created = TRUE;
    }

  if (hvk_qemu_vm_is_virtio_fs (self))
    {
      g_autofree char *log = g_build_filename (self->paths.vm_dir, VIRTIOFSD_LOG_NAME, NULL);

      if (!hvk_qemu_virtiofsd_start (self->config, self->paths.virtiofsd_socket, log, deadline,
                                     &self->virtiofsd_pid, &self->virtiofsd_start_time, error))
        {
          g_prefix_error (error, "cannot start VM '%s': ", self->id);
          hvk_qemu_vm_release (self);
          self->state = HVK_VM_STATE_STOPPED;
          return FALSE;
        }
    }

  if (!launch_and_wait (self, deadline, timeout_ms, cancellable, error))
    {
      hvk_qemu_vm_release (self);
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

