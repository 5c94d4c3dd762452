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
 *   --selinux-label L  the VMM's SELinux context after exec (written to
 *                    /proc/thread-self/attr/exec in the child, as
 *                    setexeccon(3)); failing that, the VMM does not start
 *   --log FILE       the VMM's stdout and stderr (and the monitor's own
 *                    lines) go through a pipe to FILE, which the monitor
 *                    rotates (FILE.1 … FILE.N) when it grows past…
 *   --log-max BYTES  …this size (default 1 MiB), keeping…
 *   --log-keep N     …N rotated files (default 1)
 *   --relay-fd FD    another process of the VM (virtiofsd) writes its
 *                    output to the pipe FD, which the monitor relays…
 *   --relay-log FILE …to FILE, capped and rotated as --log
 *   --qmp PATH      a QMP socket of the VMM the monitor watches once the
 *                    VMM is ready: why it ends (SHUTDOWN's reason, or
 *                    guest-panicked) goes to EXIT_FILE with its status
 *                    (hvkit-monitor-qmp.c); and…
 *   --runstate FILE  …while connected, QEMU's run state (its query-status
 *                    word, asked again after each event that changes it)
 *                    is kept in FILE, removed when the connection ends;
 *                    on GUEST_PANICKED, with…
 *   --panic-dump DIR  …the guest's memory is dumped (dump-guest-memory) to
 *                    DIR/vmcore-YYYYMMDDTHHMMSSZ.elf (DIR made 0700), as
 *                    the log says; the VMM stays (QEMU's -no-shutdown
 *                    keeps a panicked guest's memory) unless…
 *   --panic-stop 1   …the monitor has it quit once the dump is written
 *   --panic-paging 1 the dump follows the guest's page tables (paging)
 *   --exec PATH      VMM is a jailer that execs PATH (given first in ARG…):
 *                    the monitor's lines name PATH, run by the jailer
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
 * The command may be a jailer that execs the VMM (cgroups, label and
 * identity are set before the jailer's exec): the pid stays the VMM's.
 * The monitor is a child subreaper: what a jailer that forks instead
 * leaves becomes its child, killed and reaped (and logged) once the
 * VMM's pid ends.  No orphan VMM, whatever the command does.
 *
 * Only libc: the monitor stays small for as long as the VM runs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvkit-monitor-private.h"

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
  const char *selinux_label;
  const char *log;
  long long log_max;
  int log_keep;
  int relay_fd;
  const char *relay_log;
  const char *qmp;
  const char *runstate;
  const char *panic_dump;
  int panic_stop;
  int panic_paging;
  const char *exec;
} Confinement;

static int
has_control (const char *text)
{
  for (; *text != '\0'; text++)
    if ((unsigned char) *text < 0x20 || *text == 0x7f)
      return 1;
  return 0;
}

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
      else if (strcmp (argv[i], "--selinux-label") == 0 && argv[i + 1][0] != '\0'
               && !has_control (argv[i + 1]))
        c->selinux_label = argv[i + 1];
      else if (strcmp (argv[i], "--log") == 0 && argv[i + 1][0] == '/')
        c->log = argv[i + 1];
      else if (strcmp (argv[i], "--log-max") == 0 && parse_id (argv[i + 1], &id) == 0 && id >= 4096)
        c->log_max = id;
      else if (strcmp (argv[i], "--log-keep") == 0 && parse_id (argv[i + 1], &id) == 0 && id >= 1 && id <= 99)
        c->log_keep = (int) id;
      else if (strcmp (argv[i], "--relay-fd") == 0 && parse_id (argv[i + 1], &id) == 0 && id >= 3
               && id < 1024 && fcntl ((int) id, F_GETFD) >= 0)
        c->relay_fd = (int) id;
      else if (strcmp (argv[i], "--relay-log") == 0 && argv[i + 1][0] == '/')
        c->relay_log = argv[i + 1];
      else if (strcmp (argv[i], "--qmp") == 0 && argv[i + 1][0] == '/'
               && strlen (argv[i + 1]) < 108)
        c->qmp = argv[i + 1];
      else if (strcmp (argv[i], "--runstate") == 0 && argv[i + 1][0] == '/')
        c->runstate = argv[i + 1];
      /* Written into a JSON string as it is: no quote, backslash or
       * control character. */
      else if (strcmp (argv[i], "--panic-dump") == 0 && argv[i + 1][0] == '/'
               && strpbrk (argv[i + 1], "\"\\") == NULL && !has_control (argv[i + 1]))
        c->panic_dump = argv[i + 1];
      else if (strcmp (argv[i], "--panic-stop") == 0 && strcmp (argv[i + 1], "1") == 0)
        c->panic_stop = 1;
      else if (strcmp (argv[i], "--panic-paging") == 0 && strcmp (argv[i + 1], "1") == 0)
        c->panic_paging = 1;
      else if (strcmp (argv[i], "--exec") == 0 && argv[i + 1][0] == '/' && !has_control (argv[i + 1]))
        c->exec = argv[i + 1];
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
  if ((c->relay_fd > 0) != (c->relay_log != NULL))
    {
      fprintf (stderr, "hvkit-monitor: --relay-fd and --relay-log go together\n");
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
  /* The label first: the process's own attribute, which the policy
   * (process:setexec) decides on, whoever it runs as. */
  if (c->selinux_label != NULL)
    {
      int fd = open ("/proc/thread-self/attr/exec", O_WRONLY | O_CLOEXEC);
      size_t n = strlen (c->selinux_label);

      if (fd < 0 || write (fd, c->selinux_label, n) != (ssize_t) n)
        {
          fprintf (stderr, "hvkit-monitor: cannot set the SELinux exec label '%s': %s\n",
                   c->selinux_label, strerror (errno));
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

/* After the VMM (reaped: it is out of its cgroups): they go, once; one
 * still holding a process (virtiofsd, say) stays for the backend's stop
 * to remove, and the monitor does not wait for it. */
static void
remove_cgroups (const Confinement *c)
{
  for (int i = 0; i < c->n_cgroups; i++)
    (void) rmdir (c->cgroups[i]);
}

static void
on_signal (int signo)
{
  forward_signal = signo;
}

static void
write_exit_file (const char *path,
                 int         status,
                 const char *reason)
{
  char text[160];
  int len;

  if (WIFEXITED (status))
    len = snprintf (text, sizeof text, "exited %d\n", WEXITSTATUS (status));
  else
    len = snprintf (text, sizeof text, "signal %d%s\n", WTERMSIG (status),
                    WCOREDUMP (status) ? " core" : "");
  if (reason != NULL && reason[0] != '\0')
    len += snprintf (text + len, sizeof text - (size_t) len, "reason %s\n", reason);
  monitor_write_file (path, text, (size_t) len);
}

static void
log_end (const char *vmm,
         const char *jailer,
         pid_t       pid,
         int         status)
{
  char who[4200];

  if (jailer != NULL)
    snprintf (who, sizeof who, "%s (pid %d, run by %s)", vmm, (int) pid, jailer);
  else
    snprintf (who, sizeof who, "%s (pid %d)", vmm, (int) pid);
  if (WIFEXITED (status))
    fprintf (stderr, "hvkit-monitor: %s exited with status %d\n", who, WEXITSTATUS (status));
  else
    fprintf (stderr, "hvkit-monitor: %s was killed by signal %d (%s)%s\n",
             who, WTERMSIG (status), strsignal (WTERMSIG (status)),
             WCOREDUMP (status) ? ", core dumped" : "");
}

/* The monitor's children once the VMM's pid is reaped: what its command
 * left, reparented to the monitor (a subreaper). */
#define MAX_LEFT 64

typedef struct {
  pid_t pid;
  char state;
  char comm[32];
} Left;

/* One process, if it is the monitor's child: 1 and *left filled. */
static int
read_child (pid_t  self,
            long   pid,
            Left  *left)
{
  char path[64], buf[512];
  char *open_paren, *close_paren;
  int fd, ppid;
  ssize_t len;
  char state;

  snprintf (path, sizeof path, "/proc/%ld/stat", pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  len = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (len <= 0)
    return 0;
  buf[len] = '\0';
  open_paren = strchr (buf, '(');
  close_paren = strrchr (buf, ')');
  if (open_paren == NULL || close_paren == NULL || close_paren < open_paren
      || sscanf (close_paren + 1, " %c %d", &state, &ppid) != 2 || ppid != self)
    return 0;
  left->pid = (pid_t) pid;
  left->state = state;
  snprintf (left->comm, sizeof left->comm, "%.*s",
            (int) (close_paren - open_paren - 1), open_paren + 1);
  return 1;
}

/* From the task's children list (CONFIG_PROC_CHILDREN), else /proc. */
static int
find_children (Left *left)
{
  pid_t self = getpid ();
  char path[64];
  char list[4096];
  struct dirent *entry;
  DIR *dir;
  int n = 0;
  int fd;

  snprintf (path, sizeof path, "/proc/self/task/%d/children", (int) self);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      ssize_t len = read (fd, list, sizeof list - 1);
      char *save = NULL;

      close (fd);
      if (len >= 0)
        {
          list[len] = '\0';
          for (char *word = strtok_r (list, " \n", &save); word != NULL && n < MAX_LEFT;
               word = strtok_r (NULL, " \n", &save))
            n += read_child (self, strtol (word, NULL, 10), &left[n]);
          return n;
        }
    }
  dir = opendir ("/proc");
  if (dir == NULL)
    return 0;
  while (n < MAX_LEFT && (entry = readdir (dir)) != NULL)
    {
      char *end;
      long pid = strtol (entry->d_name, &end, 10);

      if (*end == '\0' && pid > 0)
        n += read_child (self, pid, &left[n]);
    }
  closedir (dir);
  return n;
}

/* After the VMM's pid: every process its command left (a jailer that
 * forked the VMM rather than exec'ing it) is killed and reaped, in
 * rounds (one may have forked again before it died). */
static void
kill_leftovers (const char *command)
{
  for (int round = 0; round < 100; round++)
    {
      Left left[MAX_LEFT];
      int n = find_children (left);

      if (n == 0)
        return;
      for (int i = 0; i < n; i++)
        {
          if (left[i].state != 'Z')
            fprintf (stderr, "hvkit-monitor: %s left process %d (%s) behind: killed (a jailer "
                     "must exec the VMM, not fork it)\n", command, (int) left[i].pid, left[i].comm);
          kill (left[i].pid, SIGKILL);
        }
      for (int i = 0; i < n; i++)
        while (waitpid (left[i].pid, NULL, 0) < 0 && errno == EINTR)
          ;
    }
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

/* The VM's log: the VMM's output through a pipe, appended to a file the
 * monitor rotates, as conmon does for a container. */
/* The VMM's log and one relayed for another process of the VM. */
#define MAX_LOGS 2

typedef struct {
  const char *path;
  int fd;
  int pipe_r;
  long long size;
  long long max;
  int keep;
  int own;    /* the monitor's own lines go here (its stderr) */
} Log;

static int
log_open (Log *log)
{
  struct stat st;

  log->fd = open (log->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (log->fd < 0)
    return -1;
  log->size = fstat (log->fd, &st) == 0 ? (long long) st.st_size : 0;
  /* The monitor's own lines go to the current file too. */
  if (log->own)
    dup2 (log->fd, 2);
  return 0;
}

static void
log_rotate (Log *log)
{
  char from[4096], to[4096];

  for (int i = log->keep; i >= 1; i--)
    {
      if (i == 1)
        snprintf (from, sizeof from, "%s", log->path);
      else
        snprintf (from, sizeof from, "%s.%d", log->path, i - 1);
      snprintf (to, sizeof to, "%s.%d", log->path, i);
      rename (from, to);
    }
  close (log->fd);
  if (log_open (log) != 0)
    log->fd = -1;   /* the VM's directory is gone: drop the output */
}

/* Relays what the pipe holds: 1 if it relayed some, 2 if there was
 * nothing to read yet, 0 at end of file or on error. */
static int
log_relay (Log *log)
{
  char buffer[65536];
  ssize_t n = read (log->pipe_r, buffer, sizeof buffer);

  if (n < 0)
    return errno == EINTR || errno == EAGAIN ? 2 : 0;
  if (n == 0)
    return 0;
  if (log->fd >= 0)
    {
      ssize_t done = 0;

      while (done < n)
        {
          ssize_t w = write (log->fd, buffer + done, (size_t) (n - done));
          if (w < 0 && errno == EINTR)
            continue;
          if (w <= 0)
            break;
          done += w;
        }
      log->size += done;
      if (log->size >= log->max)
        log_rotate (log);
    }
  return 1;
}

/* Until the VMM ends: passes on signals, relays its output, and until
 * the caller releases us ('r' on the hold pipe: it has recorded both
 * pids and the VMM is ready) kills the VMM if the hold pipe closes first
 * (the caller died or gave up), so a start interrupted at any point
 * leaves no orphan. */
static void
watch (pid_t    vmm,
       Log    **logs,
       Watcher *watcher)
{
  int pidfd = pidfd_open_ (vmm);
  int holding = 1;

  for (;;)
    {
      struct pollfd fds[4 + MAX_LOGS];
      int n = 0, hold_i = -1, pid_i = -1, watcher_i = -1, log_i[MAX_LOGS];
      int timeout = pidfd >= 0 ? -1 : 100;

      if (forward_signal != 0)
        {
          kill (vmm, forward_signal);
          forward_signal = 0;
        }
      if (holding)
        {
          hold_i = n;
          fds[n++] = (struct pollfd) { .fd = 0, .events = POLLIN };
        }
      if (pidfd >= 0)
        {
          pid_i = n;
          fds[n++] = (struct pollfd) { .fd = pidfd, .events = POLLIN };
        }
      for (int l = 0; l < MAX_LOGS; l++)
        {
          log_i[l] = -1;
          if (logs[l] != NULL && logs[l]->pipe_r >= 0)
            {
              log_i[l] = n;
              fds[n++] = (struct pollfd) { .fd = logs[l]->pipe_r, .events = POLLIN };
            }
        }
      /* Once the VMM is ready (released), watch it for a panic. */
      if (!holding && watcher->socket != NULL && watcher->fd < 0 && watcher->tries < 50)
        {
          watcher_connect (watcher);
          if (watcher->fd < 0)
            timeout = 100;
        }
      if (watcher->fd >= 0)
        {
          watcher_i = n;
          fds[n++] = (struct pollfd) { .fd = watcher->fd, .events = POLLIN };
        }
      if (poll (fds, (nfds_t) n, timeout) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      for (int l = 0; l < MAX_LOGS; l++)
        if (log_i[l] >= 0 && (fds[log_i[l]].revents & (POLLIN | POLLHUP | POLLERR))
            && !log_relay (logs[l]))
          {
            close (logs[l]->pipe_r);
            logs[l]->pipe_r = -1;
          }
      if (watcher_i >= 0 && (fds[watcher_i].revents & (POLLIN | POLLHUP | POLLERR))
          && !watcher_read (watcher))
        {
          watcher_close (watcher);
          watcher->tries = 50;  /* the VMM closed it: it is ending */
        }
      if (hold_i >= 0 && (fds[hold_i].revents & (POLLIN | POLLHUP | POLLERR)))
        {
          char c = 0;
          ssize_t r = read (0, &c, 1);
          int null_fd;

          if (r < 0 && errno == EINTR)
            continue;
          if (r != 1 || c != 'r')
            kill (vmm, SIGKILL);
          holding = 0;
          null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
          if (null_fd >= 0)
            {
              dup2 (null_fd, 0);
              close (null_fd);
            }
        }
      if (pid_i >= 0 && (fds[pid_i].revents & POLLIN))
        break;
      if (pidfd < 0 && waitpid (vmm, NULL, WNOHANG | WNOWAIT) == vmm)
        break;
    }
  if (pidfd >= 0)
    close (pidfd);
  watcher_close (watcher);
  /* What the VMM wrote last (a process it left may hold the pipe open:
   * read what is there, do not wait for its end). */
  for (int l = 0; l < MAX_LOGS; l++)
    if (logs[l] != NULL && logs[l]->pipe_r >= 0)
      {
        fcntl (logs[l]->pipe_r, F_SETFL, O_NONBLOCK);
        while (log_relay (logs[l]) == 1)
          ;
        close (logs[l]->pipe_r);
        logs[l]->pipe_r = -1;
      }
}

int
main (int    argc,
      char **argv)
{
  struct sigaction sa;
  Confinement confinement = { .n_cgroups = 0 };
  Log log = { .fd = -1, .pipe_r = -1, .own = 1 };
  Log relay = { .fd = -1, .pipe_r = -1 };
  Log *logs[MAX_LOGS] = { NULL, NULL };
  static Watcher watcher;
  int log_w = -1;
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
               "[--uid UID --gid GID [--groups G,…]] [--selinux-label LABEL] [--log FILE [--log-max BYTES] "
               "[--log-keep N]] [--relay-fd FD --relay-log FILE] [--qmp PATH [--runstate FILE] [--panic-dump DIR [--panic-stop 1] [--panic-paging 1]]] [--exec PATH] -- VMM [ARG…]\n");
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
  if (confinement.log != NULL)
    {
      int fds[2];

      log.path = confinement.log;
      log.max = confinement.log_max > 0 ? confinement.log_max : 1024 * 1024;
      log.keep = confinement.log_keep > 0 ? confinement.log_keep : 1;
      if (log_open (&log) != 0 || pipe2 (fds, O_CLOEXEC) != 0)
        {
          fprintf (stderr, "hvkit-monitor: cannot open the log %s: %s\n", log.path, strerror (errno));
          return 1;
        }
      log.pipe_r = fds[0];
      log_w = fds[1];
      logs[0] = &log;
    }
  if (confinement.relay_log != NULL)
    {
      relay.path = confinement.relay_log;
      relay.max = confinement.log_max > 0 ? confinement.log_max : 1024 * 1024;
      relay.keep = confinement.log_keep > 0 ? confinement.log_keep : 1;
      relay.pipe_r = confinement.relay_fd;
      fcntl (relay.pipe_r, F_SETFD, FD_CLOEXEC);   /* not the VMM's */
      if (log_open (&relay) != 0)
        fprintf (stderr, "hvkit-monitor: cannot open the log %s: %s\n", relay.path, strerror (errno));
      logs[1] = &relay;
    }
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
  signal (SIGPIPE, SIG_IGN);
  /* What the VMM's command forks and leaves becomes the monitor's child
   * (kill_leftovers()). */
  prctl (PR_SET_CHILD_SUBREAPER, 1);

  vmm = fork ();
  if (vmm < 0)
    {
      perror ("hvkit-monitor: fork");
      return 1;
    }
  if (vmm == 0)
    {
      if (log_w >= 0)
        dup2 (log_w, 2);   /* what confine() says goes to the log */
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
      if (log_w >= 0)
        {
          dup2 (log_w, 1);
          dup2 (log_w, 2);
        }
      execv (vmm_argv[0], vmm_argv);
      fprintf (stderr, "hvkit-monitor: cannot run %s: %s\n", vmm_argv[0], strerror (errno));
      _exit (127);
    }

  dprintf (status_fd, "%d %d\n", (int) monitor, (int) vmm);
  close (status_fd);
  if (log_w >= 0)
    close (log_w);

  watcher.socket = confinement.qmp;
  watcher.dump_dir = confinement.panic_dump;
  watcher.runstate_file = confinement.runstate;
  watcher.stop = confinement.panic_stop;
  watcher.paging = confinement.panic_paging;
  watcher.fd = -1;
  watch (vmm, logs, &watcher);

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
  log_end (confinement.exec != NULL ? confinement.exec : vmm_argv[0],
           confinement.exec != NULL ? vmm_argv[0] : NULL, vmm, status);
  kill_leftovers (vmm_argv[0]);
  write_exit_file (exit_file, status, watcher.reason);
  remove_cgroups (&confinement);
  return 0;
}
