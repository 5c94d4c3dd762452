/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A stand-in for ACRN's device model `acrn-dm`, for tests.
 *
 * Records its argv, one argument per line, to $HVKIT_FAKE_ACRN_LOG, then
 * behaves like acrn-dm 3.x: refuses `-U` and the old `virtio-net,TAP` form,
 * stays in the foreground until SIGINT (or SIGTERM), records the signal
 * and exits 0.
 *
 * Knobs:
 *   HVKIT_FAKE_ACRN_REFUSE=MSG     print "acrn-dm: MSG" on stderr, exit 1
 *   HVKIT_FAKE_ACRN_EXIT=CODE      exit with CODE right away
 *   HVKIT_FAKE_ACRN_IGNORE_SIGINT  record SIGINT but keep running
 *
 * Like acrn-dm, it listens on the UNIX socket of each virtio-console
 * `socket:NAME=PATH` backend (nobody is served: the socket only exists).
 */
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static FILE *log_file;

static void
record (const char *line)
{
  if (log_file != NULL)
    {
      fprintf (log_file, "%s\n", line);
      fflush (log_file);
    }
}

static int
refuse (const char *message)
{
  fprintf (stderr, "acrn-dm: %s\n", message);
  record ("refused");
  return 1;
}

/* What acrn-dm 3.x itself rejects. */
static const char *
check_args (int argc, char **argv)
{
  static char message[512];

  if (argc < 2 || argv[argc - 1][0] == '-')
    return "missing VM name";
  if (strlen (argv[argc - 1]) > 15)
    return "VM name too long (max 15)";

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "-U") == 0)
        return "invalid option -- 'U'";
      if (strcmp (argv[i], "-s") == 0 && i + 1 < argc)
        {
          const char *net = strstr (argv[i + 1], ",virtio-net,");
          if (net != NULL && strncmp (net + strlen (",virtio-net,"), "tap=", 4) != 0)
            {
              snprintf (message, sizeof message,
                        "virtio-net: unsupported option '%s' (want tap=NAME)",
                        net + strlen (",virtio-net,"));
              return message;
            }
        }
    }
  return NULL;
}

/* Listen on PATH of every `-s N,virtio-console,[@]socket:NAME=PATH`. */
static void
listen_console_sockets (int argc, char **argv)
{
  for (int i = 1; i + 1 < argc; i++)
    {
      const char *backend, *path;
      struct sockaddr_un addr = { .sun_family = AF_UNIX };
      int fd;

      if (strcmp (argv[i], "-s") != 0 || strstr (argv[i + 1], ",virtio-console,") == NULL)
        continue;
      backend = strstr (argv[i + 1], "socket:");
      if (backend == NULL || (path = strchr (backend, '=')) == NULL)
        continue;
      path++;
      if (strlen (path) >= sizeof addr.sun_path)
        continue;
      strcpy (addr.sun_path, path);
      fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd >= 0 && (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0
                      || listen (fd, 1) < 0))
        close (fd);
    }
}

int
main (int argc, char **argv)
{
  const char *log_path = getenv ("HVKIT_FAKE_ACRN_LOG");
  const char *problem;
  sigset_t set;
  int sig;

  /* Block first: a SIGINT that comes early waits for sigwait(). */
  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  sigprocmask (SIG_BLOCK, &set, NULL);

  if (log_path != NULL && *log_path != '\0')
    log_file = fopen (log_path, "w");
  for (int i = 0; i < argc; i++)
    record (argv[i]);

  if (getenv ("HVKIT_FAKE_ACRN_REFUSE") != NULL)
    return refuse (getenv ("HVKIT_FAKE_ACRN_REFUSE"));
  if ((problem = check_args (argc, argv)) != NULL)
    return refuse (problem);
  if (getenv ("HVKIT_FAKE_ACRN_EXIT") != NULL)
    {
      int code = atoi (getenv ("HVKIT_FAKE_ACRN_EXIT"));
      fprintf (stderr, "acrn-dm: guest died (exit %d)\n", code);
      record ("early-exit");
      return code;
    }

  listen_console_sockets (argc, argv);
  record ("running");

  for (;;)
    {
      if (sigwait (&set, &sig) != 0)
        continue;
      if (sig == SIGINT && getenv ("HVKIT_FAKE_ACRN_IGNORE_SIGINT") != NULL)
        {
          record ("SIGINT ignored");
          continue;
        }
      record (sig == SIGINT ? "SIGINT" : "SIGTERM");
      record ("exit 0");
      return 0;
    }
}
