/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hvkit-monitor's QMP watcher: why QEMU ends, a guest panic's memory
 * dump, and QEMU's run state as it changes.
 *
 * The run state file holds QEMU's own word (query-status), asked again
 * after each event that changes it (STOP, RESUME, RESET, SUSPEND,
 * WAKEUP, SHUTDOWN, GUEST_PANICKED): `hvkit status` reads it instead of
 * a QMP round trip, as libvirt answers `virsh domstate` from the state
 * its monitor connection keeps.  The file exists only while the watcher
 * is connected; without it, readers ask QEMU.
 *
 * One line at a time, libc only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hvkit-monitor-private.h"

#define MAX_TRIES 50

void
monitor_write_file (const char *path,
                    const char *text,
                    size_t      len)
{
  char tmp[4096];
  int fd;

  if (snprintf (tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp)
    return;
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return;   /* the VM's directory is gone: nobody is left to tell */
  if (write (fd, text, len) != (ssize_t) len || close (fd) != 0 || rename (tmp, path) != 0)
    unlink (tmp);
}

/* The string value of @key's first occurrence in the JSON @line, if it
 * is a plain word (letters, digits, '-' and '_'), into @out. */
static int
string_member (const char *line,
               const char *key,
               char       *out,
               size_t      size)
{
  char quoted[64];
  const char *p, *end;

  snprintf (quoted, sizeof quoted, "\"%s\"", key);
  p = strstr (line, quoted);
  if (p == NULL)
    return 0;
  p += strlen (quoted);
  while (*p == ' ')
    p++;
  if (*p++ != ':')
    return 0;
  while (*p == ' ')
    p++;
  if (*p++ != '"')
    return 0;
  end = strchr (p, '"');
  if (end == NULL || end == p || (size_t) (end - p) >= size)
    return 0;
  for (const char *c = p; c < end; c++)
    if (!(*c == '-' || *c == '_' || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
          || (*c >= '0' && *c <= '9')))
      return 0;
  memcpy (out, p, (size_t) (end - p));
  out[end - p] = '\0';
  return 1;
}

static void
send_text (Watcher    *w,
           const char *text)
{
  size_t done = 0, n = strlen (text);

  while (done < n)
    {
      ssize_t r = send (w->fd, text + done, n - done, MSG_NOSIGNAL);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        return;
      done += (size_t) r;
    }
}

static void
publish (Watcher    *w,
         const char *runstate)
{
  char text[80];
  int len;

  if (w->runstate_file == NULL)
    return;
  len = snprintf (text, sizeof text, "%s\n", runstate);
  if (len > 0 && (size_t) len < sizeof text)
    monitor_write_file (w->runstate_file, text, (size_t) len);
}

static void
ask_runstate (Watcher *w)
{
  if (w->runstate_file != NULL)
    send_text (w, "{\"execute\": \"query-status\", \"id\": \"runstate\"}\n");
}

void
watcher_connect (Watcher *w)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;

  if (w->socket == NULL || w->fd >= 0 || w->tries >= MAX_TRIES)
    return;
  w->tries++;
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return;
  strncpy (addr.sun_path, w->socket, sizeof addr.sun_path - 1);
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) != 0)
    {
      close (fd);
      return;
    }
  w->fd = fd;
  w->len = 0;
  send_text (w, "{\"execute\": \"qmp_capabilities\", \"id\": \"caps\"}\n");
  ask_runstate (w);
}

void
watcher_close (Watcher *w)
{
  if (w->fd >= 0)
    close (w->fd);
  w->fd = -1;
  if (w->runstate_file != NULL)
    unlink (w->runstate_file);
}

/* The guest panicked: dump its memory (QEMU answers once it is written). */
static void
dump_memory (Watcher *w)
{
  char path[4096], command[4200];
  time_t now = time (NULL);
  struct tm tm;

  if (w->dump_dir == NULL)
    return;
  if (mkdir (w->dump_dir, 0700) != 0 && errno != EEXIST)
    {
      fprintf (stderr, "hvkit-monitor: guest panicked; cannot make %s: %s\n",
               w->dump_dir, strerror (errno));
      return;
    }
  /* The monitor's umask (the VMM's) leaves no search bit. */
  chmod (w->dump_dir, 0700);
  gmtime_r (&now, &tm);
  snprintf (path, sizeof path, "%s/vmcore-%04d%02d%02dT%02d%02d%02dZ.elf", w->dump_dir,
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  snprintf (command, sizeof command,
            "{\"execute\": \"dump-guest-memory\", \"id\": \"dump\", \"arguments\": "
            "{\"paging\": %s, \"protocol\": \"file:%s\"}}\n",
            w->paging ? "true" : "false", path);
  fprintf (stderr, "hvkit-monitor: guest panicked: dumping its memory to %s\n", path);
  w->dumping = 1;
  send_text (w, command);
}

static void
on_event (Watcher    *w,
          const char *line,
          const char *event)
{
  char value[64];

  if (strcmp (event, "GUEST_PANICKED") == 0)
    {
      strcpy (w->reason, "guest-panicked");
      /* QEMU keeps the guest (the pvpanic action is pause): say so now,
       * before a dump that may take a while holds the answer back. */
      if (string_member (line, "action", value, sizeof value) && strcmp (value, "pause") == 0)
        publish (w, "guest-panicked");
      dump_memory (w);
    }
  /* SHUTDOWN's "reason" (guest-shutdown, host-qmp-quit, …); a panic
   * stays the reason whatever ends the VMM after it. */
  else if (strcmp (event, "SHUTDOWN") == 0 && strcmp (w->reason, "guest-panicked") != 0
           && string_member (line, "reason", value, sizeof value))
    strcpy (w->reason, value);
  if (strcmp (event, "STOP") == 0 || strcmp (event, "RESUME") == 0
      || strcmp (event, "RESET") == 0 || strcmp (event, "SUSPEND") == 0
      || strcmp (event, "WAKEUP") == 0 || strcmp (event, "SHUTDOWN") == 0
      || strcmp (event, "GUEST_PANICKED") == 0)
    ask_runstate (w);
}

static void
on_line (Watcher    *w,
         const char *line)
{
  char event[64], id[16] = "", value[64];

  if (string_member (line, "event", event, sizeof event))
    {
      on_event (w, line, event);
      return;
    }
  string_member (line, "id", id, sizeof id);
  if (strstr (line, "\"error\"") != NULL)
    {
      fprintf (stderr, "hvkit-monitor: QMP said: %s\n", line);
      if (strcmp (id, "dump") == 0)
        w->dumping = 0;
    }
  else if (strcmp (id, "runstate") == 0)
    {
      if (string_member (line, "status", value, sizeof value))
        publish (w, value);
    }
  else if (strcmp (id, "dump") == 0 && w->dumping)
    {
      /* The dump is written (dump-guest-memory answers then). */
      w->dumping = 0;
      fprintf (stderr, "hvkit-monitor: guest memory dumped%s\n",
               w->stop ? "; stopping the VMM" : "");
      if (w->stop)
        send_text (w, "{\"execute\": \"quit\", \"id\": \"quit\"}\n");
    }
}

int
watcher_read (Watcher *w)
{
  ssize_t n = recv (w->fd, w->buf + w->len, sizeof w->buf - 1 - w->len, 0);
  char *line, *nl;

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return 1;
  if (n <= 0)
    return 0;
  w->len += (size_t) n;
  w->buf[w->len] = '\0';
  line = w->buf;
  while ((nl = strchr (line, '\n')) != NULL)
    {
      *nl = '\0';
      on_line (w, line);
      line = nl + 1;
    }
  w->len = strlen (line);
  memmove (w->buf, line, w->len);
  /* A line longer than the buffer: drop it. */
  if (w->len >= sizeof w->buf - 1)
    w->len = 0;
  return 1;
}
