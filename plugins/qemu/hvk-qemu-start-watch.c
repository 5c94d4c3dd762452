/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE   /* ppoll() */
#include "config.h"

#include "hvk-qemu-start-watch.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* A start of QEMU waits for three things: the QMP socket to appear in the
 * VM dir, QEMU's launcher (the parent half of -daemonize) to exit, and
 * the caller to cancel.  Sleeping a fixed interval between checks costs
 * up to that interval of start latency on every start (Kata polls QMP
 * every 50 ms); this watch turns each into a file descriptor — inotify on
 * the VM dir, a pidfd for the launcher, the cancellable's fd — so one
 * ppoll() wakes as soon as any of them changes.  Where the kernel lacks
 * one (no inotify instance left, pidfd before Linux 5.3) the wait falls
 * back to the caller's @max_wait_us, then 1 ms. */

#define FALLBACK_WAIT_US 1000

struct _HvkQemuStartWatch
{
  int           inotify_fd;
  int           pidfd;
  gboolean      launcher_gone;  /* its pidfd fired (and is closed) */
  gboolean      no_pidfd;       /* a launcher was set, without a pidfd */
};

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

/**
 * hvk_qemu_start_watch_new:
 * @dir: the VM dir, where QEMU creates its QMP socket
 *
 * Watches @dir for new entries.  Make it before launching QEMU, so that
 * no socket can appear unseen between the launch and the watch.
 *
 * Returns: (transfer full): the watch
 */
HvkQemuStartWatch *
hvk_qemu_start_watch_new (const char *dir)
{
  HvkQemuStartWatch *watch = g_new0 (HvkQemuStartWatch, 1);

  watch->pidfd = -1;
  watch->inotify_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (watch->inotify_fd >= 0
      && inotify_add_watch (watch->inotify_fd, dir, IN_CREATE | IN_ONLYDIR) < 0)
    {
      g_debug ("no inotify watch on %s: %s", dir, g_strerror (errno));
      close_fd (&watch->inotify_fd);
    }
  return watch;
}

/**
 * hvk_qemu_start_watch_set_launcher:
 * @watch: a watch
 * @launcher: the launcher's pid, a child of the caller not reaped yet
 *
 * Also wakes the wait when @launcher exits.
 */
void
hvk_qemu_start_watch_set_launcher (HvkQemuStartWatch *watch,
                                   GPid               launcher)
{
  close_fd (&watch->pidfd);
#ifdef SYS_pidfd_open
  /* Not reaped yet, so the pid cannot have been reused. */
  watch->pidfd = (int) syscall (SYS_pidfd_open, (pid_t) launcher, 0);
#endif
  watch->no_pidfd = watch->pidfd < 0;
  if (watch->no_pidfd)
    g_debug ("no pidfd for the launcher %d: %s", (int) launcher, g_strerror (errno));
}

/**
 * hvk_qemu_start_watch_is_evented:
 * @watch: a watch
 *
 * Returns: whether events wake hvk_qemu_start_watch_wait(): a new entry
 *   in the dir and, once set, the launcher's exit; %FALSE when it polls
 */
gboolean
hvk_qemu_start_watch_is_evented (HvkQemuStartWatch *watch)
{
  return watch->inotify_fd >= 0 && !watch->no_pidfd;
}

static void
drain (int fd)
{
  char buffer[4096] __attribute__ ((aligned (__alignof__ (struct inotify_event))));

  while (read (fd, buffer, sizeof buffer) > 0)
    ;
}

/**
 * hvk_qemu_start_watch_wait:
 * @watch: a watch
 * @deadline: monotonic time (µs) not to wait past
 * @max_wait_us: the longest to wait, events or not (a safety net, and the
 *   interval for what no event announces: a socket bound but not yet
 *   listening)
 * @cancellable: (nullable): wakes the wait when cancelled
 *
 * Waits until an entry is created in the dir, the launcher exits,
 * @cancellable is cancelled, @max_wait_us passed or @deadline came.  The
 * caller checks again what it waits for: a wake-up is a hint.
 */
void
hvk_qemu_start_watch_wait (HvkQemuStartWatch *watch,
                           gint64             deadline,
                           gint64             max_wait_us,
                           GCancellable      *cancellable)
{
  struct pollfd fds[3];
  struct timespec timeout;
  nfds_t n = 0;
  int inotify_index = -1;
  int pidfd_index = -1;
  GPollFD cancel_fd = { -1, 0, 0 };
  gint64 wait_us = deadline - g_get_monotonic_time ();

  if (watch->inotify_fd < 0 || watch->no_pidfd)
    max_wait_us = MIN (max_wait_us, FALLBACK_WAIT_US);
  wait_us = CLAMP (wait_us, 0, max_wait_us);

  if (watch->inotify_fd >= 0)
    {
      inotify_index = (int) n;
      fds[n++] = (struct pollfd) { watch->inotify_fd, POLLIN, 0 };
    }
  if (watch->pidfd >= 0)
    {
      pidfd_index = (int) n;
      fds[n++] = (struct pollfd) { watch->pidfd, POLLIN, 0 };
    }
  if (cancellable != NULL && g_cancellable_make_pollfd (cancellable, &cancel_fd))
    fds[n++] = (struct pollfd) { cancel_fd.fd, POLLIN, 0 };

  timeout.tv_sec = wait_us / G_USEC_PER_SEC;
  timeout.tv_nsec = (wait_us % G_USEC_PER_SEC) * 1000;
  if (ppoll (fds, n, &timeout, NULL) > 0)
    {
      if (inotify_index >= 0 && (fds[inotify_index].revents & POLLIN) != 0)
        drain (watch->inotify_fd);
      /* A pidfd stays readable once its process exited: one wake-up. */
      if (pidfd_index >= 0 && (fds[pidfd_index].revents & POLLIN) != 0)
        {
          close_fd (&watch->pidfd);
          watch->launcher_gone = TRUE;
        }
    }

  if (cancel_fd.fd >= 0)
    g_cancellable_release_fd (cancellable);
}

void
hvk_qemu_start_watch_free (HvkQemuStartWatch *watch)
{
  if (watch == NULL)
    return;
  close_fd (&watch->inotify_fd);
  close_fd (&watch->pidfd);
  g_free (watch);
}
