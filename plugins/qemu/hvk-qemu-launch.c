/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hvk-qemu-private.h"
#include "hvk-qemu-build.h"
#include "hvk-qemu-hypervisor-private.h"
#include "hvk-qemu-identity.h"
#include "hvk-qemu-virtiofsd.h"
#include "hvk-qemu-qmp.h"

/* Launching QEMU: the launcher, the readiness wait (QMP answered), the
 * reaper and the kill of a failed start (libvirt's qemu_process.c). */

/* ---- start ---- */

static void
child_setup (gpointer user_data)
{
  /* Owner-only files and sockets (0600) from the start, like the rest of
   * the VM dir: QEMU runs in the foreground and keeps this umask. */
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

/* hvkit-monitor: the installed helper, or $HVKIT_MONITOR (the build
 * tree's, for tests and `meson devenv`). */
static const char *
monitor_path (void)
{
  const char *path = g_getenv ("HVKIT_MONITOR");

  return path != NULL && *path != '\0' ? path : HVK_MONITOR_PATH;
}

/* What QEMU's end says, from the monitor's exit file; the monitor writes
 * it right after QEMU ends, so give it a moment. */
char *
hvk_qemu_vm_describe_end (HvkQemuHypervisor *self)
{
  if (self->monitor_pid > 0)
    hvk_process_wait_dead (self->monitor_pid, self->monitor_start_time,
                           g_get_monotonic_time () + 1000 * 1000);
  return hvk_process_describe_exit (self->paths.exit_file);
}

static gboolean
qemu_died (HvkQemuHypervisor *self,
           GError           **error)
{
  const HvkQemuSettings *settings = hvk_qemu_vm_settings (self);
  g_autofree char *how = hvk_qemu_vm_describe_end (self);

  /* Under a jailer the pid is the jailer's until it execs QEMU: its exit
   * status (and its words, in the log) may be the jailer's. */
  if (settings->jailer_path != NULL)
    return start_failed (self, error, HVK_ERROR_FAILED, "%s, run by jailer %s, %s",
                         settings->path, settings->jailer_path, how ? how : "ended");
  return start_failed (self, error, HVK_ERROR_FAILED, "%s %s", settings->path,
                       how ? how : "ended");
}

/* jailer_path: the jailer must exec QEMU's command line, so that the pid
 * hvkit-monitor forked (recorded, signalled, watched) is QEMU's.  Once
 * QMP answered, that pid must run the QEMU binary: a jailer that forked
 * QEMU and stayed fails here; one that forked and exited failed as an
 * end before QMP.  Either way the monitor (a child subreaper) kills what
 * the jailer left. */
static gboolean
check_jailer_exec (HvkQemuHypervisor *self,
                   GError           **error)
{
  const HvkQemuSettings *settings = hvk_qemu_vm_settings (self);
  g_autoptr(GError) link_error = NULL;
  g_autofree char *exe_link = NULL;
  g_autofree char *exe = NULL;
  g_autofree char *qemu = NULL;
  g_autofree char *runs = NULL;

  if (settings->jailer_path == NULL)
    return TRUE;
  exe_link = g_strdup_printf ("/proc/%d/exe", self->pid);
  exe = g_file_read_link (exe_link, &link_error);
  qemu = realpath (settings->path, NULL);
  if (exe != NULL && qemu != NULL && g_str_equal (exe, qemu) && hvk_qemu_vm_alive (self))
    return TRUE;
  /* Another user's process hvkit may not look into: its name. */
  if (exe == NULL && g_error_matches (link_error, G_FILE_ERROR, G_FILE_ERROR_ACCES))
    {
      g_autofree char *comm_path = g_strdup_printf ("/proc/%d/comm", self->pid);
      g_autofree char *comm = NULL;
      g_autofree char *base = g_path_get_basename (settings->path);

      if (g_file_get_contents (comm_path, &comm, NULL, NULL))
        {
          g_strchomp (comm);
          if (strncmp (comm, base, 15) == 0 && hvk_qemu_vm_alive (self))
            return TRUE;
          runs = g_strdup_printf ("'%s'", comm);
        }
    }
  if (runs == NULL)
    runs = exe != NULL ? g_strdup (exe) : g_strdup ("nothing (it ended)");
  return start_failed (self, error, HVK_ERROR_FAILED,
                       "jailer %s did not exec %s: pid %d runs %s (a jailer must exec the "
                       "command line it is given, not fork it)",
                       settings->jailer_path, settings->path, self->pid, runs);
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

/* The monitor's first words: "MONITOR_PID QEMU_PID\n", or end of file if
 * it could not fork. */
static gboolean
read_pids (HvkQemuHypervisor *self,
           int                fd,
           gint64             deadline,
           guint              timeout_ms,
           GError           **error)
{
  char line[64];
  gsize len = 0;
  int monitor = 0, qemu = 0;

  while (len < sizeof line - 1)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      gint64 remaining_ms = (deadline - g_get_monotonic_time ()) / 1000;
      ssize_t n;

      if (remaining_ms <= 0)
        return start_timed_out (self, timeout_ms, error);
      if (poll (&pfd, 1, (int) MIN (remaining_ms, G_MAXINT)) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      n = read (fd, line + len, sizeof line - 1 - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      len += (gsize) n;
      if (memchr (line, '\n', len) != NULL)
        break;
    }
  line[len] = '\0';
  if (sscanf (line, "%d %d", &monitor, &qemu) != 2 || monitor <= 0 || qemu <= 0)
    return start_failed (self, error, HVK_ERROR_FAILED, "%s did not start %s",
                         monitor_path (), self->argv[0]);
  self->monitor_pid = monitor;
  self->monitor_start_time = hvk_process_get_start_time (monitor);
  self->pid = qemu;
  self->pid_start_time = hvk_process_get_start_time (qemu);
  return TRUE;
}

/* Readiness: poll every millisecond for the QMP socket (QEMU creates it
 * while it initialises and greets once its main loop runs), watching for
 * QEMU ending meanwhile; then the greeting. */
static gboolean
wait_ready (HvkQemuHypervisor *self,
            gint64             deadline,
            guint              timeout_ms,
            GCancellable      *cancellable,
            GError           **error)
{
  g_autoptr(GError) qmp_error = NULL;
  gint64 remaining_ms;

  if (self->qmp == NULL)
    self->qmp = hvk_qmp_client_new ();
  for (;;)
    {
      g_autoptr(GError) open_error = NULL;

      if (!hvk_qemu_vm_alive (self))
        return qemu_died (self, error);
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
  hvk_debug_kill_point ("qemu-start:qmp-open");

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
      /* QEMU closed the socket: most likely it failed; let it end so that
       * its message is in the log. */
      until = MIN (deadline, g_get_monotonic_time () + 500 * 1000);
      while (hvk_qemu_vm_alive (self) && g_get_monotonic_time () < until)
        g_usleep (1000);
      if (!hvk_qemu_vm_alive (self))
        return qemu_died (self, error);
      return start_failed (self, error, HVK_ERROR_FAILED, "%s", qmp_error->message);
    }
  hvk_debug_kill_point ("qemu-start:qmp-ready");
  return TRUE;
}

/* After a failed start: kill QEMU and wait for its monitor. */
static void
kill_launch (HvkQemuHypervisor *self)
{
  if (self->pid > 0)
    hvk_process_kill (self->pid, self->pid_start_time, KILL_TIMEOUT_MS);
  if (self->monitor_pid > 0 && !hvk_process_wait_dead (self->monitor_pid, self->monitor_start_time,
                                                       g_get_monotonic_time () + KILL_TIMEOUT_MS * 1000))
    hvk_process_kill (self->monitor_pid, self->monitor_start_time, KILL_TIMEOUT_MS);
}

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

/* QEMU runs in the foreground under hvkit-monitor (see tools/hvkit-monitor.c):
 * its stderr stays in the log after it is up, its exit status is kept,
 * and until hvkit has recorded the VM, hvkit's death takes QEMU along. */
static gboolean
launch_and_wait (HvkQemuHypervisor *self,
                 int                relay_fd,
                 gint64             deadline,
                 guint              timeout_ms,
                 GCancellable      *cancellable,
                 GError           **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree int *source_fds = NULL;
  g_autofree int *target_fds = NULL;
  const int *cmdline_fds;
  guint n_fds = 0;
  int status_pipe[2] = { -1, -1 };
  int hold_pipe[2] = { -1, -1 };
  int log_fd;
  GPid first = 0;
  gboolean ok;

  /* The monitor appends to the log too (it relays QEMU's output, see
   * --log below): both write at its end. */
  log_fd = open (self->log_file, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0)
    {
      int saved = errno;
      return start_failed (self, error, HVK_ERROR_FAILED, "cannot create %s: %s",
                           self->log_file, g_strerror (saved));
    }
  /* The hold "pipe" is a socket pair: releasing the monitor after it
   * died (QEMU quit at once) must be an error, not a SIGPIPE that kills
   * the program using hvkit. */
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, hold_pipe) != 0)
    {
      int saved = errno;
      close (log_fd);
      return start_failed (self, error, HVK_ERROR_FAILED, "cannot make a socket pair: %s",
                           g_strerror (saved));
    }
  if (!g_unix_open_pipe (status_pipe, FD_CLOEXEC, &local_error))
    {
      close_fd (&hold_pipe[0]);
      close_fd (&hold_pipe[1]);
      close (log_fd);
      close_fd (&status_pipe[0]);
      close_fd (&status_pipe[1]);
      return start_failed (self, error, HVK_ERROR_FAILED, "cannot make a pipe: %s",
                           local_error->message);
    }

  /* The launch-time descriptors at 3…, the monitor's status pipe after,
   * then virtiofsd's output. */
  cmdline_fds = hvk_cmdline_get_fds (self->cmdline, &n_fds);
  source_fds = g_new (int, n_fds + 2);
  target_fds = g_new (int, n_fds + 2);
  for (guint i = 0; i < n_fds; i++)
    {
      source_fds[i] = cmdline_fds[i];
      target_fds[i] = 3 + (int) i;
    }
  source_fds[n_fds] = status_pipe[1];
  target_fds[n_fds] = 3 + (int) n_fds;
  source_fds[n_fds + 1] = relay_fd;
  target_fds[n_fds + 1] = 4 + (int) n_fds;

  g_ptr_array_add (argv, g_strdup (monitor_path ()));
  g_ptr_array_add (argv, g_strdup_printf ("%d", target_fds[n_fds]));
  g_ptr_array_add (argv, g_strdup (self->paths.exit_file));
  /* selinux_label: the monitor sets QEMU's exec context, then (rootless)
   * its identity, before exec. */
  if (hvk_qemu_vm_settings (self)->selinux_label != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--selinux-label"));
      g_ptr_array_add (argv, g_strdup (hvk_qemu_vm_settings (self)->selinux_label));
    }
  hvk_qemu_identity_add_monitor_args (&self->identity, argv);
  if (self->cgroup != NULL)
    for (const char * const *dir = hvk_cgroup_get_dirs (self->cgroup); *dir != NULL; dir++)
      {
        g_ptr_array_add (argv, g_strdup ("--cgroup"));
        g_ptr_array_add (argv, g_strdup (*dir));
      }
  /* QEMU's output through the monitor, which caps and rotates the log
   * for as long as the VM runs. */
  g_ptr_array_add (argv, g_strdup ("--log"));
  g_ptr_array_add (argv, g_strdup (self->log_file));
  g_ptr_array_add (argv, g_strdup ("--log-max"));
  g_ptr_array_add (argv, g_strdup_printf ("%u", HVK_QEMU_LOG_MAX_BYTES));
  g_ptr_array_add (argv, g_strdup ("--log-keep"));
  g_ptr_array_add (argv, g_strdup_printf ("%u", HVK_QEMU_LOG_KEEP));
  /* virtiofsd's output, kept the same way beside it. */
  if (relay_fd >= 0)
    {
      g_ptr_array_add (argv, g_strdup ("--relay-fd"));
      g_ptr_array_add (argv, g_strdup_printf ("%d", target_fds[n_fds + 1]));
      g_ptr_array_add (argv, g_strdup ("--relay-log"));
      g_ptr_array_add (argv, g_build_filename (self->paths.vm_dir, VIRTIOFSD_LOG_NAME, NULL));
    }
  /* The monitor hears why QEMU ends (kept with its exit status) and, on
   * a guest panic, has the memory dumped into guest_memory_dump_path/ID
   * (Kata's layout), QEMU keeping the guest (-no-shutdown, from the
   * pvpanic device). */
  if (self->paths.monitor_socket != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--qmp"));
      g_ptr_array_add (argv, g_strdup (self->paths.monitor_socket));
      g_ptr_array_add (argv, g_strdup ("--runstate"));
      g_ptr_array_add (argv, g_strdup (self->paths.runstate_file));
    }
  if (self->paths.monitor_socket != NULL && hvk_qemu_vm_settings (self)->guest_memory_dump_path != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--panic-dump"));
      g_ptr_array_add (argv, g_build_filename (hvk_qemu_vm_settings (self)->guest_memory_dump_path,
                                               self->id, NULL));
      if (hvk_qemu_vm_settings (self)->guest_panic_stop)
        {
          g_ptr_array_add (argv, g_strdup ("--panic-stop"));
          g_ptr_array_add (argv, g_strdup ("1"));
        }
      if (hvk_qemu_vm_settings (self)->guest_memory_dump_paging)
        {
          g_ptr_array_add (argv, g_strdup ("--panic-paging"));
          g_ptr_array_add (argv, g_strdup ("1"));
        }
    }
  /* Under a jailer, the program it must end up running: the monitor's
   * lines name it. */
  if (hvk_qemu_vm_settings (self)->jailer_path != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--exec"));
      g_ptr_array_add (argv, g_strdup (hvk_qemu_vm_settings (self)->path));
    }
  g_ptr_array_add (argv, g_strdup ("--"));
  for (guint i = 0; self->argv[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (self->argv[i]));
  g_ptr_array_add (argv, NULL);

  /* Leftovers of an earlier run would fool the readiness checks. */
  unlink (self->paths.qmp_socket);
  unlink (self->paths.pid_file);
  unlink (self->paths.exit_file);
  unlink (self->paths.runstate_file);

  hvk_debug_kill_point ("qemu-start:spawn");
  ok = g_spawn_async_with_pipes_and_fds (NULL, (const char * const *) argv->pdata, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD,
                                         child_setup, NULL,
                                         hold_pipe[0], log_fd, log_fd,
                                         source_fds, target_fds,
                                         n_fds + (relay_fd >= 0 ? 2 : 1),
                                         &first, NULL, NULL, NULL, &local_error);
  close (log_fd);
  close_fd (&status_pipe[1]);
  close_fd (&hold_pipe[0]);
  if (!ok)
    {
      close_fd (&status_pipe[0]);
      close_fd (&hold_pipe[1]);
      return start_failed (self, error, HVK_ERROR_FAILED, "cannot run %s: %s",
                           monitor_path (), local_error->message);
    }
  /* The first process only forks the monitor and exits. */
  while (waitpid (first, NULL, 0) < 0 && errno == EINTR)
    ;

  ok = read_pids (self, status_pipe[0], deadline, timeout_ms, error);
  close_fd (&status_pipe[0]);
  hvk_debug_kill_point ("qemu-start:spawned");
  /* Recorded before QEMU is waited for: a process that dies from here on
   * leaves a record that `hvkit stop` acts on. */
  ok = ok && hvk_hypervisor_persist (HVK_HYPERVISOR (self), error);
  ok = ok && wait_ready (self, deadline, timeout_ms, cancellable, error);
  ok = ok && check_jailer_exec (self, error);
  if (!ok)
    {
      close_fd (&hold_pipe[1]);   /* the monitor kills QEMU */
      kill_launch (self);
      return FALSE;
    }

  /* Recorded and ready: from now on the VM outlives hvkit. */
  if (send (hold_pipe[1], "r", 1, MSG_NOSIGNAL) != 1)
    {
      int saved = errno;
      close_fd (&hold_pipe[1]);
      kill_launch (self);
      return start_failed (self, error, HVK_ERROR_FAILED, "cannot release %s: %s",
                           monitor_path (), g_strerror (saved));
    }
  close_fd (&hold_pipe[1]);
  hvk_debug_kill_point ("qemu-start:released");
  return TRUE;
}

/* The VM's cgroup (hvk-cgroup.c): QEMU and virtiofsd go in, with the
 * limits the configuration asks for; without limits a host where hvkit
 * may not make one (not root, no cgroup file system) runs the VM without,
 * as before.  hvkit-monitor moves QEMU in before exec and removes the
 * cgroup when QEMU ends; hvk_qemu_vm_release() removes it too. */
static gboolean
setup_cgroup (HvkQemuHypervisor  *self,
              GError            **error)
{
  const HvkQemuSettings *settings = hvk_qemu_vm_settings (self);
  gboolean limited = settings->vmm_cgroup_memory_mb > 0 || settings->vmm_cgroup_cpu_quota_us > 0;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(HvkCgroup) cgroup = NULL;

  cgroup = hvk_cgroup_new (settings->vmm_cgroup_parent, self->id, HVK_CGROUP_FLAGS_NONE,
                           &local_error);
  if (cgroup == NULL)
    {
      if (limited)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "cannot start VM '%s': the cgroup its limits need: ",
                                      self->id);
          return FALSE;
        }
      g_debug ("VM '%s' runs without a cgroup of its own: %s", self->id, local_error->message);
      return TRUE;
    }
  if ((settings->vmm_cgroup_memory_mb > 0
       && !hvk_cgroup_set_memory_limit (cgroup, settings->vmm_cgroup_memory_mb * 1024 * 1024,
                                        &local_error))
      || (settings->vmm_cgroup_cpu_quota_us > 0
          && !hvk_cgroup_set_cpu_limit (cgroup, settings->vmm_cgroup_cpu_quota_us,
                                        settings->vmm_cgroup_cpu_period_us, &local_error)))
    {
      hvk_cgroup_remove (cgroup, 0, NULL);
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "cannot start VM '%s': ", self->id);
      return FALSE;
    }
  g_clear_pointer (&self->cgroup, hvk_cgroup_unref);
  self->cgroup = g_steal_pointer (&cgroup);
  return TRUE;
}

/* ---- the unprivileged VMM (rootless, hvk-qemu-identity.h) ---- */

/* selinux_label: applied by hvkit-monitor (setexeccon before exec) where
 * the host has SELinux; refused where it cannot be (no SELinux, or
 * disable_selinux=true saying no label), never ignored. */
static gboolean
check_selinux_label (const HvkQemuSettings  *settings,
                     GError                **error)
{
  const char *label = settings->selinux_label;
  g_autofree char *selinuxfs = NULL;
  guint colons = 0;

  if (label == NULL)
    return TRUE;
  if (settings->disable_selinux)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "selinux_label: disable_selinux=true says the VMM gets no label");
      return FALSE;
    }
  for (const char *c = label; *c != '\0'; c++)
    {
      if (g_ascii_isspace (*c) || g_ascii_iscntrl (*c))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                       "selinux_label: '%s' has a space or control character", label);
          return FALSE;
        }
      colons += *c == ':';
    }
  if (colons < 2)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "selinux_label: '%s' is not a context (user:role:type[:level])", label);
      return FALSE;
    }
  selinuxfs = hvk_host_file ("/sys/fs/selinux/enforce");
  if (!g_file_test (selinuxfs, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "selinux_label: the host has no SELinux (no /sys/fs/selinux): "
                   "the VMM cannot be labelled");
      return FALSE;
    }
  return TRUE;
}

gboolean
hvk_qemu_vm_check_confinement (HvkQemuHypervisor  *self,
                            GError            **error)
{
  const HvkQemuSettings *settings = hvk_qemu_vm_settings (self);

  if (!check_selinux_label (settings, error))
    return FALSE;
  if (!hvk_qemu_identity_resolve (settings, &self->identity, error))
    return FALSE;
  if (!settings->rootless)
    return TRUE;
  /* QEMU 7.2's virtiofsd (C) needs root: its pid file goes in
   * /run/virtiofsd and its sandbox (namespaces or chroot) needs
   * CAP_SYS_ADMIN; run as vmm_user it does not start, and run as root it
   * would leave a privileged process next to the unprivileged VMM. */
  if (hvk_qemu_vm_is_virtio_fs (self))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "rootless: shared_fs=virtio-fs is not supported: virtiofsd needs root "
                   "(its pid file in /run/virtiofsd, its namespace sandbox); use virtio-9p "
                   "or no shared file system");
      return FALSE;
    }
  /* Templating has QEMU open memory_path and devices_state_path itself. */
  if (settings->boot_to_be_template || settings->boot_from_template)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "rootless: %s is not supported: QEMU would open memory_path and "
                   "devices_state_path itself",
                   settings->boot_to_be_template ? "boot_to_be_template" : "boot_from_template");
      return FALSE;
    }
  return TRUE;
}

/* Before the launch: the VMM's own dir, and every file it opens by path
 * reachable by its identity (a clear error naming the file otherwise:
 * QEMU's kernel loader takes no /dev/fdset, so kernel, initrd, firmware
 * are opened by QEMU; disks come as descriptors). */
static gboolean
prepare_rootless (HvkQemuHypervisor  *self,
                  GError            **error)
{
  const HvkQemuSettings *settings = hvk_qemu_vm_settings (self);
  g_autofree char *vmm_dir = NULL;
  g_autoptr(GArray) checks = NULL;
  HvkQemuAccess check;

  if (!hvk_qemu_vm_check_confinement (self, error))
    return FALSE;
  if (!settings->rootless)
    return TRUE;
  vmm_dir = g_path_get_dirname (self->paths.qmp_socket);
  if (!hvk_qemu_identity_prepare_dirs (&self->identity, self->store, self->paths.vm_dir,
                                       vmm_dir, error))
    return FALSE;

  checks = g_array_new (FALSE, FALSE, sizeof (HvkQemuAccess));
#define CHECK(w, p, m) (check.what = (w), check.path = (p), check.mode = (m), \
                        g_array_append_val (checks, check))
  CHECK ("QEMU binary", settings->path, X_OK);
  CHECK ("own dir", vmm_dir, W_OK | X_OK);
  CHECK ("jailer (jailer_path)", settings->jailer_path, X_OK);
  CHECK ("kernel", hvk_config_get_asset_path (self->config, HVK_ASSET_KERNEL), R_OK);
  CHECK ("initrd", hvk_config_get_asset_path (self->config, HVK_ASSET_INITRD), R_OK);
  CHECK ("image", hvk_config_get_asset_path (self->config, HVK_ASSET_IMAGE), R_OK);
  CHECK ("firmware", hvk_config_get_asset_path (self->config, HVK_ASSET_FIRMWARE), R_OK);
  for (guint i = 0; settings->pflashes != NULL && settings->pflashes[i] != NULL; i++)
    if (*settings->pflashes[i] != '\0')
      CHECK ("flash image (pflashes)", settings->pflashes[i], R_OK | W_OK);
  if (settings->file_mem_backend != NULL)
    CHECK ("memory directory (file_mem_backend)", settings->file_mem_backend, W_OK | X_OK);
  if (g_strcmp0 (settings->shared_fs, "virtio-9p") == 0 && settings->shared_path != NULL)
    CHECK ("shared directory (shared_path)", settings->shared_path, R_OK | X_OK);
#undef CHECK
  /* An empty path (an unset asset) is no file to check. */
  for (guint i = 0; i < checks->len; i++)
    if (g_array_index (checks, HvkQemuAccess, i).path != NULL
        && *g_array_index (checks, HvkQemuAccess, i).path == '\0')
      g_array_index (checks, HvkQemuAccess, i).path = NULL;
  return hvk_qemu_identity_check_access (&self->identity, (const HvkQemuAccess *) (gpointer) checks->data,
                                         checks->len, error);
}

void
hvk_qemu_vm_remove_cgroup (HvkQemuHypervisor *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkCgroup) cgroup = NULL;

  if (self->cgroup != NULL)
    cgroup = g_steal_pointer (&self->cgroup);
  else if (self->id != NULL && self->config != NULL)
    /* Not recorded (a start killed before the VMM was): the cgroup the
     * configuration names, if it exists. */
    cgroup = hvk_cgroup_lookup (hvk_qemu_vm_settings (self)->vmm_cgroup_parent, self->id,
                                HVK_CGROUP_FLAGS_NONE);
  if (cgroup != NULL && !hvk_cgroup_remove (cgroup, KILL_TIMEOUT_MS, &error))
    g_warning ("VM '%s': %s", self->id, error->message);
}

gboolean
hvk_qemu_vm_start (HvkHypervisor  *hypervisor,
               guint           timeout_ms,
               GCancellable   *cancellable,
               GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  int fs_log = -1;
  gboolean ok;

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

  /* A clone needs its template's files: said before anything runs. */
  if (hvk_qemu_vm_settings (self)->boot_from_template
      && !hvk_qemu_vm_check_template_files (self, error))
    return FALSE;

  /* The record exists before anything is spawned. */
  self->state = HVK_VM_STATE_STARTING;
  hvk_debug_kill_point ("qemu-start:record");
  if (!hvk_hypervisor_persist (hypervisor, error))
    {
      g_prefix_error (error, "cannot start VM '%s': ", self->id);
      self->state = HVK_VM_STATE_CREATED;
      return FALSE;
    }

  if (!prepare_rootless (self, error))
    {
      g_prefix_error (error, "cannot start VM '%s': ", self->id);
      hvk_qemu_vm_release (self);
      self->state = HVK_VM_STATE_STOPPED;
      return FALSE;
    }

  /* After the record: a stop finds a cgroup a killed start left from the
   * record's configuration (vmm_cgroup_parent and the id). */
  if (!setup_cgroup (self, error))
    {
      hvk_qemu_vm_release (self);
      self->state = HVK_VM_STATE_STOPPED;
      return FALSE;
    }

  if (hvk_qemu_vm_is_virtio_fs (self))
    {
      if (!hvk_qemu_virtiofsd_start (self->config, hvk_qemu_vm_settings (self),
                                     self->paths.virtiofsd_socket, deadline,
                                     &self->virtiofsd_pid, &self->virtiofsd_start_time,
                                     &fs_log, error))
        {
          g_prefix_error (error, "cannot start VM '%s': ", self->id);
          hvk_qemu_vm_release (self);
          self->state = HVK_VM_STATE_STOPPED;
          return FALSE;
        }
      if (self->cgroup != NULL && !hvk_cgroup_attach (self->cgroup, self->virtiofsd_pid, error))
        {
          g_prefix_error (error, "cannot start VM '%s': virtiofsd: ", self->id);
          close (fs_log);
          hvk_qemu_vm_release (self);
          self->state = HVK_VM_STATE_STOPPED;
          return FALSE;
        }
    }

  ok = launch_and_wait (self, fs_log, deadline, timeout_ms, cancellable, error);
  if (fs_log >= 0)
    close (fs_log);
  if (!ok)
    {
      hvk_qemu_vm_release (self);
      self->state = HVK_VM_STATE_STOPPED;
      return FALSE;
    }
  /* QEMU has opened (or made) the taps: they can be shaped now. */
  if (!hvk_qemu_vm_apply_tap_limits (self, error))
    {
      g_prefix_error (error, "cannot start VM '%s': ", self->id);
      kill_launch (self);
      hvk_qemu_vm_release (self);
      self->state = HVK_VM_STATE_STOPPED;
      return FALSE;
    }

  /* A VM booting from a template starts paused (-S -incoming defer):
   * it runs once its device state is in.  A failed load leaves nothing. */
  if (self->restore_dir != NULL || hvk_qemu_vm_settings (self)->boot_from_template)
    {
      g_autoptr(GError) load_error = NULL;
      gboolean loaded;

      self->state = HVK_VM_STATE_PAUSED;
      loaded = self->restore_dir != NULL
               ? hvk_qemu_vm_load_saved (self, cancellable, &load_error)
               : hvk_qemu_vm_load_template (self, deadline, cancellable, &load_error);
      if (!loaded)
        {
          g_autofree char *log = NULL;

          self->state = HVK_VM_STATE_STARTING;
          kill_launch (self);
          /* QEMU says why a stream did not load (then exits). */
          log = hvk_process_read_log_tail (self->log_file, LOG_TAIL_BYTES);
          g_set_error (error, load_error->domain, load_error->code,
                       "cannot start VM '%s' from %s: %s%s%s", self->id,
                       self->restore_dir != NULL ? self->restore_dir : "its template",
                       load_error->message, log != NULL ? "; QEMU said: " : "",
                       log != NULL ? log : "");
          hvk_qemu_vm_release (self);
          self->state = HVK_VM_STATE_STOPPED;
          return FALSE;
        }
    }
  /* Everything else runs.  The command line says so: a query-status here
   * would wait for QEMU's main loop while the guest's firmware keeps it
   * busy (tens of ms under TCG). */
  self->state = self->restore_dir != NULL && self->restore_paused
                ? HVK_VM_STATE_PAUSED : HVK_VM_STATE_RUNNING;
  return TRUE;
}

