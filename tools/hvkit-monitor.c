/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hvkit-monitor STATUS_FD EXIT_FILE [OPTION…] -- VMM [ARG…]
 *
 *   --cgroup DIR     the VMM starts in this cgroup (repeat: one per
 *                    hierarchy); the monitor removes DIR when the VMM ends
 *   --gid GID        the VMM runs with this group id…
 *   --groups G,G,…   …these supplementary groups (none if not given)…
 *   --uid UID        …and this user id (set in the child before exec, so
 *                    the VMM itself never changes identity and its
 *                    seccomp filter may deny it)
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
#include <grp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t forward_signal;

#define MAX_CGROUPS 16
#define MAX_GROUPS 64

typedef struct {
  const char *cgroups[MAX_CGROUPS];
  int n_cgroups;
  int set_ids;
  uid_t uid;
  gid_t gid;
  gid_t groups[MAX_GROUPS];
  int n_groups;
} Confinement;

static int
parse_id (const char   *text,
          unsigned int *id)
{
  char *end;
  unsigned long value;

  errno = 0;
  value = strtoul (text, &end, 10);
  if (errno != 0 || *text == '\0' || *end != '\0' || value >= (unsigned long) (unsigned int) -1)
    return -1;
  *id = (unsigned int) value;
  return 0;
}

/* The options between EXIT_FILE and "--"; returns the index of "--". */
static int
parse_options (int          argc,
               char       **argv,
               Confinement *c)
{
  int have_uid = 0, have_gid = 0;
  int i;

  for (i = 3; i < argc && strcmp (argv[i], "--") != 0; i += 2)
    {
      unsigned int id;

      if (i + 1 >= argc)
        {
          fprintf (stderr, "hvkit-monitor: option %s needs a value\n", argv[i]);
          return -1;
        }
      if (strcmp (argv[i], "--cgroup") == 0 && c->n_cgroups < MAX_CGROUPS && argv[i + 1][0] == '/')
        c->cgroups[c->n_cgroups++] = argv[i + 1];
      else if (strcmp (argv[i], "--uid") == 0 && parse_id (argv[i + 1], &id) == 0)
        c->uid = id, have_uid = 1;
      else if (strcmp (argv[i], "--gid") == 0 && parse_id (argv[i + 1], &id) == 0)
        c->gid = id, have_gid = 1;
      else if (strcmp (argv[i], "--groups") == 0)
        {
          char *copy = strdup (argv[i + 1]);
          char *save = NULL;

          for (char *g = strtok_r (copy, ",", &save); g != NULL; g = strtok_r (NULL, ",", &save))
            if (c->n_groups >= MAX_GROUPS || parse_id (g, &id) != 0)
              {
                fprintf (stderr, "hvkit-monitor: bad --groups '%s'\n", argv[i + 1]);
                free (copy);
                return -1;
              }
            else
              c->groups[c->n_groups++] = id;
          free (copy);
        }
      else
        {
          fprintf (stderr, "hvkit-monitor: bad option %s '%s'\n", argv[i], argv[i + 1]);
          return -1;
        }
    }
  if (have_uid != have_gid)
    {
      fprintf (stderr, "hvkit-monitor: --uid and --gid go together\n");
      return -1;
    }
  c->set_ids = have_uid;
  if (i >= argc - 1)
    return -1;
  return i;
}

/* In the VMM's process, before exec: into its cgroups, then its identity.
 * Returns 0, or -1 having said why on stderr (the VM's log). */
static int
confine (const Confinement *c)
{
  char pid[32];
  int len = snprintf (pid, sizeof pid, "%d", (int) getpid ());

  for (int i = 0; i < c->n_cgroups; i++)
    {
      char path[4096];
      int fd;

      if (snprintf (path, sizeof path, "%s/cgroup.procs", c->cgroups[i]) >= (int) sizeof path)
        return -1;
      fd = open (path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0 || write (fd, pid, (size_t) len) != len)
        {
          fprintf (stderr, "hvkit-monitor: cannot join cgroup %s: %s\n", c->cgroups[i], strerror (errno));
          if (fd >= 0)
            close (fd);
          return -1;
        }
      close (fd);
    }
  if (c->set_ids)
    {
      if (setgroups ((size_t) c->n_groups, c->groups) != 0)
        {
          fprintf (stderr, "hvkit-monitor: setgroups: %s\n", strerror (errno));
          return -1;
        }
      if (setresgid (c->gid, c->gid, c->gid) != 0)
        {
          fprintf (stderr, "hvkit-monitor: setresgid %u: %s\n", (unsigned) c->gid, strerror (errno));
          return -1;
        }
      if (setresuid (c->uid, c->uid, c->uid) != 0)
        {
          fprintf (stderr, "hvkit-monitor: setresuid %u: %s\n", (unsigned) c->uid, strerror (errno));
          return -1;
        }
    }
  return 0;
}

/* After the VMM: its cgroups go (one still holding a process — virtiofsd,
 * say — stays for the backend's stop to remove). */
static void
remove_cgroups (const Confinement *c)
{
  for (int i = 0; i < c->n_cgroups; i++)
    for (int tries = 0; tries < 200 && rmdir (c->cgroups[i]) != 0 && errno == EBUSY; tries++)
      usleep (5000);
}

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
  Confinement confinement = { .n_cgroups = 0 };
  const char *exit_file;
  char **vmm_argv;
  pid_t monitor;
  pid_t vmm;
  int status_fd;
  int status;
  int null_fd;
  char *end;
  int dashes;

  if (argc < 5 || (dashes = parse_options (argc, argv, &confinement)) < 0)
    {
      fprintf (stderr, "usage: hvkit-monitor STATUS_FD EXIT_FILE [--cgroup DIR]… "
               "[--uid UID --gid GID [--groups G,…]] -- VMM [ARG…]\n");
      return 2;
    }
  status_fd = (int) strtol (argv[1], &end, 10);
  if (*end != '\0' || status_fd < 3)
    {
      fprintf (stderr, "hvkit-monitor: bad status fd '%s'\n", argv[1]);
      return 2;
    }
  exit_file = argv[2];
  vmm_argv = argv + dashes + 1;

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
      if (confine (&confinement) != 0)
        _exit (126);
      /* The VMM never outlives its monitor: no orphan QEMU.  (After the
       * identity change, which clears it.) */
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
  remove_cgroups (&confinement);
  return 0;
}
