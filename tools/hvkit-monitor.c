/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hvkit-monitor STATUS_FD EXIT_FILE -- VMM [ARG…]
 *
 * The parent of one VMM process for the whole life of the VM, as conmon is
 * for a container: the VMM runs in the foreground (no -daemonize), so its
 * stderr stays in the VM's log to its last word, and its exit status or the
 * signal that killed it is written to EXIT_FILE for `hvkit status`.
 *
 * Started by a backend with stdin a pipe it holds (the hold pipe), stdout
 * and stderr the VM's log, STATUS_FD the write end of a pipe it reads:
 *  1. it leaves the caller's session and forks, the first process exiting
 *     at once (the caller reaps it; nobody waits for the monitor);
 *  2. the monitor forks the VMM, which dies with the monitor
 *     (PR_SET_PDEATHSIG), and writes "MONITOR_PID VMM_PID\n" to STATUS_FD;
 *  3. until the caller writes 'r' on the hold pipe (it has recorded both
 *     pids and the VMM is ready), end of file on it means the caller died
 *     or gave up: the monitor kills the VMM, so a start interrupted at any
 *     point leaves no orphan;
 *  4. it waits for the VMM and writes "exited N" or "signal N [core]" to
 *     EXIT_FILE (atomically), and a line to the log.  SIGTERM, SIGINT and
 *     SIGHUP sent to the monitor are passed on to the VMM.
 *
 * Only libc: the monitor stays small for as long as the VM runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t forward_signal;

static void
on_signal (int signo)
{
  forward_signal = signo;
}

static void
write_exit_file (const char *path,
                 int         status)
{
  char tmp[4096];
  char text[64];
  int fd;
  int len;

  if (WIFEXITED (status))
    len = snprintf (text, sizeof text, "exited %d\n", WEXITSTATUS (status));
  else
    len = snprintf (text, sizeof text, "signal %d%s\n", WTERMSIG (status),
                    WCOREDUMP (status) ? " core" : "");
  if (snprintf (tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp)
    return;
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return;   /* the VM's directory is gone: nobody is left to tell */
  if (write (fd, text, (size_t) len) != len || close (fd) != 0 || rename (tmp, path) != 0)
    unlink (tmp);
}

static void
log_end (const char *vmm,
         pid_t       pid,
         int         status)
{
  if (WIFEXITED (status))
    fprintf (stderr, "hvkit-monitor: %s (pid %d) exited with status %d\n",
             vmm, (int) pid, WEXITSTATUS (status));
  else
    fprintf (stderr, "hvkit-monitor: %s (pid %d) was killed by signal %d (%s)%s\n",
             vmm, (int) pid, WTERMSIG (status), strsignal (WTERMSIG (status)),
             WCOREDUMP (status) ? ", core dumped" : "");
}

static int
pidfd_open_ (pid_t pid)
{
#ifdef SYS_pidfd_open
  return (int) syscall (SYS_pidfd_open, pid, 0);
#else
  errno = ENOSYS;
  return -1;
#endif
}

/* Until the caller releases us: 1 if it did, 0 if the VMM ended first,
 * -1 if the hold pipe closed without a release. */
static int
wait_release (pid_t vmm)
{
  int pidfd = pidfd_open_ (vmm);

  for (;;)
    {
      struct pollfd fds[2] = {
        { .fd = 0, .events = POLLIN },
        { .fd = pidfd, .events = POLLIN },
      };
      char c;
      ssize_t n;

      if (forward_signal != 0)
        {
          kill (vmm, forward_signal);
          forward_signal = 0;
        }
      if (poll (fds, pidfd >= 0 ? 2 : 1, pidfd >= 0 ? -1 : 100) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (pidfd >= 0 && (fds[1].revents & POLLIN))
        {
          close (pidfd);
          return 0;
        }
      if (pidfd < 0 && waitpid (vmm, NULL, WNOHANG | WNOWAIT) == vmm)
        return 0;
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
        {
          n = read (0, &c, 1);
          if (n < 0 && errno == EINTR)
            continue;
          if (pidfd >= 0)
            close (pidfd);
          return n == 1 && c == 'r' ? 1 : -1;
        }
    }
  if (pidfd >= 0)
    close (pidfd);
  return -1;
}

int
main (int    argc,
      char **argv)
{
  struct sigaction sa;
  const char *exit_file;
  char **vmm_argv;
  pid_t monitor;
  pid_t vmm;
  int status_fd;
  int status;
  int null_fd;
  char *end;

  if (argc < 5 || strcmp (argv[3], "--") != 0)
    {
      fprintf (stderr, "usage: hvkit-monitor STATUS_FD EXIT_FILE -- VMM [ARG…]\n");
      return 2;
    }
  status_fd = (int) strtol (argv[1], &end, 10);
  if (*end != '\0' || status_fd < 3)
    {
      fprintf (stderr, "hvkit-monitor: bad status fd '%s'\n", argv[1]);
      return 2;
    }
  exit_file = argv[2];
  vmm_argv = argv + 4;

  /* Out of the caller's session and process group: a terminal's Ctrl-C
   * or the caller's group being killed does not reach the VM. */
  if (setsid () < 0)
    {
      perror ("hvkit-monitor: setsid");
      return 1;
    }
  switch (fork ())
    {
    case -1:
      perror ("hvkit-monitor: fork");
      return 1;
    case 0:
      break;
    default:
      _exit (0);
    }

  monitor = getpid ();
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
  signal (SIGPIPE, SIG_IGN);

  vmm = fork ();
  if (vmm < 0)
    {
      perror ("hvkit-monitor: fork");
      return 1;
    }
  if (vmm == 0)
    {
      /* The VMM never outlives its monitor: no orphan QEMU. */
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (getppid () != monitor)
        _exit (127);
      signal (SIGTERM, SIG_DFL);
      signal (SIGINT, SIG_DFL);
      signal (SIGHUP, SIG_DFL);
      signal (SIGPIPE, SIG_DFL);
      close (status_fd);
      null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
      if (null_fd >= 0)
        dup2 (null_fd, 0);
      execv (vmm_argv[0], vmm_argv);
      fprintf (stderr, "hvkit-monitor: cannot run %s: %s\n", vmm_argv[0], strerror (errno));
      _exit (127);
    }

  dprintf (status_fd, "%d %d\n", (int) monitor, (int) vmm);
  close (status_fd);

  if (wait_release (vmm) < 0)
    {
      /* The caller died or gave up before the VM was recorded. */
      kill (vmm, SIGKILL);
    }
  null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd >= 0)
    {
      dup2 (null_fd, 0);
      close (null_fd);
    }

  for (;;)
    {
      pid_t r = waitpid (vmm, &status, 0);

      if (r == vmm)
        break;
      if (r < 0 && errno == EINTR)
        {
          if (forward_signal != 0)
            {
              kill (vmm, forward_signal);
              forward_signal = 0;
            }
          continue;
        }
      perror ("hvkit-monitor: waitpid");
      return 1;
    }
  log_end (vmm_argv[0], vmm, status);
  write_exit_file (exit_file, status);
  return 0;
}
