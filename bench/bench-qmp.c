/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "bench-qmp.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
bqmp_connect (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof addr.sun_path)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  strcpy (addr.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      int saved = errno;
      close (fd);
      errno = saved;
      return -1;
    }
  return fd;
}

/* One line (without the newline), byte by byte after a buffered peek:
 * replies are short and this keeps the client stateless. */
static char *
read_line (int fd)
{
  GString *line = g_string_new (NULL);

  for (;;)
    {
      char buf[4096];
      ssize_t n = recv (fd, buf, sizeof buf, MSG_PEEK);
      char *nl;
      size_t take;

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_string_free (line, TRUE);
          return NULL;
        }
      nl = memchr (buf, '\n', (size_t) n);
      take = nl ? (size_t) (nl - buf) + 1 : (size_t) n;
      n = recv (fd, buf, take, 0);
      if (n <= 0)
        {
          g_string_free (line, TRUE);
          return NULL;
        }
      g_string_append_len (line, buf, n);
      if (nl != NULL)
        {
          while (line->len > 0 && (line->str[line->len - 1] == '\n' || line->str[line->len - 1] == '\r'))
            g_string_truncate (line, line->len - 1);
          return g_string_free (line, FALSE);
        }
    }
}

gboolean
bqmp_handshake (int fd)
{
  g_autofree char *greeting = read_line (fd);

  if (greeting == NULL || strstr (greeting, "\"QMP\"") == NULL)
    return FALSE;
  return bqmp_run (fd, "{\"execute\":\"qmp_capabilities\"}");
}

char *
bqmp_command (int         fd,
              const char *json)
{
  g_autofree char *text = g_strconcat (json, "\n", NULL);
  size_t len = strlen (text), off = 0;

  while (off < len)
    {
      ssize_t n = send (fd, text + off, len - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return NULL;
      off += (size_t) n;
    }
  for (;;)
    {
      char *line = read_line (fd);

      if (line == NULL)
        return NULL;
      if (g_str_has_prefix (line, "{\"return\"") || g_str_has_prefix (line, "{\"error\""))
        return line;
      g_free (line);   /* an event */
    }
}

gboolean
bqmp_run (int         fd,
          const char *json)
{
  g_autofree char *reply = bqmp_command (fd, json);

  if (reply == NULL)
    return FALSE;
  if (!g_str_has_prefix (reply, "{\"return\""))
    {
      g_printerr ("bench: QMP %s: %s\n", json, reply);
      return FALSE;
    }
  return TRUE;
}

int
bqmp_wait_ready (const char *path,
                 guint       poll_us,
                 guint       timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_get_monotonic_time () < deadline)
    {
      int fd = bqmp_connect (path);

      if (fd >= 0)
        {
          if (bqmp_handshake (fd))
            return fd;
          close (fd);
          return -1;
        }
      g_usleep (poll_us);
    }
  return -1;
}
