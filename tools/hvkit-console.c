/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "hvkit-tool.h"

/* The guest console: a UNIX socket the VMM serves (QEMU's
 * `-chardev socket,…,server=on`), copied to the terminal. */

#define ESCAPE_CHAR 0x1d  /* Ctrl-] */
#define CONNECT_RETRY_INTERVAL_MS 100

/* Connects to @path, retrying for @retry_ms while the VMM has not opened
 * it yet. */
int
hvkit_console_connect (const char  *path,
                       guint        retry_ms,
                       GError     **error)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  gint64 deadline = g_get_monotonic_time () + (gint64) retry_ms * 1000;

  if (strlen (path) >= sizeof addr.sun_path)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "console socket path '%s' is too long", path);
      return -1;
    }
  strcpy (addr.sun_path, path);

  for (;;)
    {
      int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int saved_errno;

      if (fd < 0)
        {
          saved_errno = errno;
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "cannot create a socket: %s", g_strerror (saved_errno));
          return -1;
        }
      if (connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0)
        return fd;

      saved_errno = errno;
      close (fd);
      if ((saved_errno != ENOENT && saved_errno != ECONNREFUSED)
          || g_get_monotonic_time () >= deadline)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_DISCONNECTED,
                       "cannot connect to console %s: %s", path,
                       g_strerror (saved_errno));
          return -1;
        }
      g_usleep (CONNECT_RETRY_INTERVAL_MS * 1000);
    }
}

/* Copies the socket to stdout and stdin to the socket until the socket
 * closes, stdin ends or the user types Ctrl-]. */
int
hvkit_console_attach (int      fd,
                      GError **error)
{
  struct termios saved, raw;
  gboolean tty = isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &saved) == 0;
  gboolean stdin_open = TRUE;
  int status = HVKIT_EXIT_OK;

  if (tty)
    {
      raw = saved;
      cfmakeraw (&raw);
      tcsetattr (STDIN_FILENO, TCSANOW, &raw);
      g_printerr ("Connected to the console; escape character is ^]\r\n");
    }

  for (;;)
    {
      struct pollfd fds[2] = {
        { .fd = fd, .events = POLLIN },
        { .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
      };
      char buf[4096];
      gssize n;

      if (poll (fds, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }

      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
        {
          n = read (fd, buf, sizeof buf);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            break;
          if (!hvkit_write_all (STDOUT_FILENO, buf, (gsize) n))
            break;
        }

      if (fds[1].revents & (POLLIN | POLLHUP | POLLERR))
        {
          char *escape;

          n = read (STDIN_FILENO, buf, sizeof buf);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            {
              /* Our input ended; stop, as `virsh console` does. */
              stdin_open = FALSE;
              break;
            }
          escape = memchr (buf, ESCAPE_CHAR, (gsize) n);
          if (escape != NULL)
            n = escape - buf;
          if (n > 0 && !hvkit_write_all (fd, buf, (gsize) n))
            {
              g_set_error_literal (error, HVK_ERROR, HVK_ERROR_DISCONNECTED,
                                   "the console closed");
              status = HVKIT_EXIT_FAILED;
              break;
            }
          if (escape != NULL)
            break;
        }
    }

  if (tty)
    {
      tcsetattr (STDIN_FILENO, TCSANOW, &saved);
      g_printerr ("\n");
    }
  return status;
}

int
hvkit_cmd_console (HvkitTool *tool,
                   int        argc,
                   char     **argv)
{
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("console ID", "Attach the terminal to the guest "
                              "console, until Ctrl-] or the end of input.",
                              NULL);
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *protocol = NULL;
  g_autofree char *url = NULL;
  int status;
  int fd;

  if (!hvkit_parse_options (context, &argc, &argv, 1, &status))
    return status;
  hypervisor = hvkit_open_vm (tool, argv[1], NULL, &status);
  if (hypervisor == NULL)
    return status;

  if (!hvk_hypervisor_get_vm_console (hypervisor, &protocol, &url, &error))
    return hvkit_fail (error, HVKIT_EXIT_FAILED);
  if (g_strcmp0 (protocol, "unix") != 0 || url == NULL || *url == '\0')
    return hvkit_fail_printf (HVKIT_EXIT_FAILED,
                              "VM '%s' has no console socket (backend '%s', "
                              "protocol '%s')", argv[1],
                              hvk_hypervisor_get_backend_name (hypervisor),
                              protocol ? protocol : "");

  fd = hvkit_console_connect (url, 0, &error);
  if (fd < 0)
    return hvkit_fail (error, HVKIT_EXIT_FAILED);
  status = hvkit_console_attach (fd, &error);
  close (fd);
  if (status != HVKIT_EXIT_OK)
    return hvkit_fail (error, status);
  return HVKIT_EXIT_OK;
}
