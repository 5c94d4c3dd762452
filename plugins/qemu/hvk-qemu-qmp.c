/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hvk-qemu-qmp.h"

/* HvkQmpClient speaks QMP (QEMU's JSON monitor protocol, one JSON object
 * per line) over a UNIX socket.  Every call takes a bound: I/O is
 * non-blocking and each wait is a poll() on the socket (and the
 * cancellable) until a monotonic deadline.  A reply carries the id we
 * sent; late replies to commands that timed out are dropped by id. */

struct _HvkQmpClient
{
  GObject     parent_instance;

  int         fd;
  char       *path;
  GByteArray *inbuf;
  gsize       scan_from;      /* bytes of inbuf already searched for '\n' */
  gsize       max_line;
  guint64     next_id;
  GQueue      events;         /* (element-type JsonObject) oldest first */
  JsonObject *greeting;
  guint       n_skipped;      /* lines skipped as not JSON objects, since the last command */
  char       *last_skipped;   /* why the last one was skipped */
};

G_DEFINE_FINAL_TYPE (HvkQmpClient, hvk_qmp_client, G_TYPE_OBJECT)

static void
hvk_qmp_client_finalize (GObject *object)
{
  HvkQmpClient *self = HVK_QMP_CLIENT (object);

  hvk_qmp_client_close (self);
  hvk_qmp_client_clear_events (self);
  g_byte_array_unref (self->inbuf);
  g_free (self->last_skipped);

  G_OBJECT_CLASS (hvk_qmp_client_parent_class)->finalize (object);
}

static void
hvk_qmp_client_class_init (HvkQmpClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hvk_qmp_client_finalize;
}

static void
hvk_qmp_client_init (HvkQmpClient *self)
{
  self->fd = -1;
  self->inbuf = g_byte_array_new ();
  self->max_line = HVK_QMP_DEFAULT_MAX_LINE;
  self->next_id = 1;
  g_queue_init (&self->events);
}

HvkQmpClient *
hvk_qmp_client_new (void)
{
  return g_object_new (HVK_TYPE_QMP_CLIENT, NULL);
}

void
hvk_qmp_client_set_max_line (HvkQmpClient *self,
                             gsize         max_line)
{
  g_return_if_fail (HVK_IS_QMP_CLIENT (self));
  g_return_if_fail (max_line > 0);

  self->max_line = max_line;
}

gboolean
hvk_qmp_client_is_connected (HvkQmpClient *self)
{
  g_return_val_if_fail (HVK_IS_QMP_CLIENT (self), FALSE);

  return self->fd >= 0;
}

void
hvk_qmp_client_close (HvkQmpClient *self)
{
  g_return_if_fail (HVK_IS_QMP_CLIENT (self));

  if (self->fd >= 0)
    close (self->fd);
  self->fd = -1;
  g_byte_array_set_size (self->inbuf, 0);
  self->scan_from = 0;
  g_clear_pointer (&self->greeting, json_object_unref);
  g_clear_pointer (&self->path, g_free);
}

JsonObject *
hvk_qmp_client_get_greeting (HvkQmpClient *self)
{
  g_return_val_if_fail (HVK_IS_QMP_CLIENT (self), NULL);

  return self->greeting;
}

gboolean
hvk_qmp_client_open (HvkQmpClient *self,
                     const char   *path,
                     GError      **error)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;

  g_return_val_if_fail (HVK_IS_QMP_CLIENT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  hvk_qmp_client_close (self);

  if (strlen (path) >= sizeof addr.sun_path)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "QMP socket path '%s' is longer than %zu bytes",
                   path, sizeof addr.sun_path - 1);
      return FALSE;
    }
  strcpy (addr.sun_path, path);

  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "cannot create a socket for QMP: %s", g_strerror (saved));
      return FALSE;
    }

  /* A UNIX stream connect never returns EINPROGRESS while the listener's
   * backlog has room; EAGAIN means the backlog is full: retryable. */
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      int saved = errno;
      close (fd);
      g_set_error (error, HVK_ERROR,
                   (saved == ENOENT || saved == ECONNREFUSED || saved == EAGAIN)
                   ? HVK_ERROR_NOT_FOUND : HVK_ERROR_FAILED,
                   "cannot connect to QMP socket '%s': %s", path,
                   g_strerror (saved));
      return FALSE;
    }

  self->fd = fd;
  self->path = g_strdup (path);
  return TRUE;
}

static gint64
deadline_from_timeout (guint timeout_ms)
{
  return g_get_monotonic_time () + (gint64) timeout_ms * 1000;
}

static gboolean
set_disconnected (HvkQmpClient *self,
                  const char   *why,
                  GError      **error)
{
  g_set_error (error, HVK_ERROR, HVK_ERROR_DISCONNECTED,
               "QMP connection to '%s' lost: %s",
               self->path ? self->path : "(unknown)", why);
  hvk_qmp_client_close (self);
  return FALSE;
}

/* Waits until the socket is ready for @events or the deadline passes.
 * @what names the operation for the timeout message. */
static gboolean
wait_fd (HvkQmpClient *self,
         short         events,
         gint64        deadline,
         const char   *what,
         guint         timeout_ms,
         GCancellable *cancellable,
         GError      **error)
{
  for (;;)
    {
      struct pollfd fds[2] = { { .fd = self->fd, .events = events } };
      nfds_t n = 1;
      gint64 remaining_us = deadline - g_get_monotonic_time ();
      int timeout;
      int r;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (remaining_us <= 0)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_TIMEOUT,
                       "%s timed out after %u ms", what, timeout_ms);
          return FALSE;
        }
      /* Round up so we never spin on a sub-millisecond remainder. */
      timeout = (int) MIN ((remaining_us + 999) / 1000, G_MAXINT);

      if (cancellable != NULL && g_cancellable_make_pollfd (cancellable, (GPollFD *) &fds[1]))
        {
          fds[1].events = POLLIN;
          n = 2;
        }
      r = poll (fds, n, timeout);
      if (n == 2)
        g_cancellable_release_fd (cancellable);
      if (r < 0 && errno != EINTR)
        {
          int saved = errno;
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "poll on QMP socket '%s' failed: %s", self->path,
                       g_strerror (saved));
          return FALSE;
        }
      if (r > 0 && fds[0].revents != 0)
        return TRUE;
    }
}

/* send() of the first bytes with @pass_fd as SCM_RIGHTS ancillary data
 * (QEMU's getfd and add-fd take the descriptor that came with the
 * command). */
static ssize_t
send_with_fd (int         socket_fd,
              const char *data,
              gsize       len,
              int         pass_fd)
{
  union {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = (void *) data, .iov_len = len };
  struct msghdr msg = {
    .msg_iov = &iov,
    .msg_iovlen = 1,
    .msg_control = control.buf,
    .msg_controllen = sizeof control.buf,
  };
  struct cmsghdr *cmsg;

  memset (&control, 0, sizeof control);
  cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (cmsg), &pass_fd, sizeof (int));
  return sendmsg (socket_fd, &msg, MSG_NOSIGNAL);
}

static gboolean
send_all (HvkQmpClient *self,
          const char   *data,
          gsize         len,
          int           pass_fd,
          gint64        deadline,
          const char   *what,
          guint         timeout_ms,
          GCancellable *cancellable,
          GError      **error)
{
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = pass_fd >= 0 ? send_with_fd (self->fd, data + done, len - done, pass_fd)
                               : send (self->fd, data + done, len - done, MSG_NOSIGNAL);

      if (n >= 0)
        {
          done += n;
          pass_fd = -1;   /* it went with the first bytes */
          continue;
        }
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        {
          if (!wait_fd (self, POLLOUT, deadline, what, timeout_ms, cancellable, error))
            return FALSE;
          continue;
        }
      return set_disconnected (self, g_strerror (errno), error);
    }
  return TRUE;
}

/* Takes one complete line out of the input buffer, or returns NULL. */
static char *
take_line (HvkQmpClient *self)
{
  guint8 *nl = NULL;
  gsize len;
  char *line;

  if (self->inbuf->len > self->scan_from)
    nl = memchr (self->inbuf->data + self->scan_from, '\n',
                 self->inbuf->len - self->scan_from);
  if (nl == NULL)
    {
      self->scan_from = self->inbuf->len;
      return NULL;
    }
  len = nl - self->inbuf->data;
  line = g_strndup ((const char *) self->inbuf->data, len);
  g_byte_array_remove_range (self->inbuf, 0, len + 1);
  self->scan_from = 0;
  return line;
}

/* Reads the next JSON object from the socket.  Lines that are not JSON
 * objects are skipped: QEMU never sends them, and one bad line must not
 * wedge the monitor.  A line longer than max_line ends the connection,
 * as there is no way to resynchronise inside it. */
static JsonObject *
read_message (HvkQmpClient *self,
              gint64        deadline,
              const char   *what,
              guint         timeout_ms,
              GCancellable *cancellable,
              GError      **error)
{
  for (;;)
    {
      g_autofree char *line = NULL;
      guint8 buf[65536];
      ssize_t n;

      if (self->fd < 0)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_DISCONNECTED,
                       "QMP is not connected");
          return NULL;
        }

      while ((line = take_line (self)) != NULL)
        {
          g_autoptr(JsonParser) parser = NULL;
          g_autoptr(GError) local_error = NULL;
          JsonNode *root;

          if (strlen (line) > self->max_line)
            break;
          g_strstrip (line);
          if (*line == '\0')
            {
              g_clear_pointer (&line, g_free);
              continue;
            }
          /* Mutable: callers may edit what execute() returns. */
          parser = json_parser_new ();
          if (!json_parser_load_from_data (parser, line, -1, &local_error))
            {
              g_debug ("QMP %s: skipping a line that is not JSON: %s",
                       self->path, local_error->message);
              self->n_skipped++;
              g_free (self->last_skipped);
              self->last_skipped = g_strdup (local_error->message);
              g_clear_pointer (&line, g_free);
              continue;
            }
          root = json_parser_get_root (parser);
          if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
            {
              g_debug ("QMP %s: skipping a message that is not an object", self->path);
              self->n_skipped++;
              g_free (self->last_skipped);
              self->last_skipped = g_strdup ("not a JSON object");
              g_clear_pointer (&line, g_free);
              continue;
            }
          return json_object_ref (json_node_get_object (root));
        }

      if (line != NULL || self->inbuf->len > self->max_line)
        {
          g_autofree char *why =
            g_strdup_printf ("a message exceeds the %" G_GSIZE_FORMAT " byte limit",
                             self->max_line);
          set_disconnected (self, why, error);
          return NULL;
        }

      n = recv (self->fd, buf, sizeof buf, 0);
      if (n > 0)
        {
          g_byte_array_append (self->inbuf, buf, n);
          continue;
        }
      if (n == 0)
        {
          set_disconnected (self, "end of file", error);
          return NULL;
        }
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        {
          if (!wait_fd (self, POLLIN, deadline, what, timeout_ms, cancellable, error))
            return NULL;
          continue;
        }
      set_disconnected (self, g_strerror (errno), error);
      return NULL;
    }
}

/* A string member of what QEMU sent, or @fallback: the json-glib getters
 * g_return_if_fail on an object or array where a string belongs. */
static const char *
member_string (JsonObject *object,
               const char *name,
               const char *fallback)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return fallback;
  return json_node_get_string (node);
}

static void
queue_event (HvkQmpClient *self,
             JsonObject   *event)
{
  g_debug ("QMP %s: event %s", self->path,
           member_string (event, "event", "?"));
  g_queue_push_tail (&self->events, json_object_ref (event));
  while (self->events.length > HVK_QMP_MAX_QUEUED_EVENTS)
    json_object_unref (g_queue_pop_head (&self->events));
}

static gboolean send_request (HvkQmpClient *self, const char *command, JsonObject *arguments,
                              int pass_fd, gint64 deadline, const char *what, guint timeout_ms,
                              GCancellable *cancellable, guint64 *out_id, GError **error);
static JsonNode *await_reply (HvkQmpClient *self, const char *command, guint64 id,
                              gint64 deadline, const char *what, guint timeout_ms,
                              GCancellable *cancellable, GError **error);

gboolean
hvk_qmp_client_handshake (HvkQmpClient *self,
                          guint         timeout_ms,
                          GCancellable *cancellable,
                          GError      **error)
{
  const char *what = "QMP command 'qmp_capabilities'";
  gint64 deadline = deadline_from_timeout (timeout_ms);
  g_autoptr(JsonObject) greeting = NULL;
  g_autoptr(JsonNode) reply = NULL;
  JsonNode *qmp;
  guint64 id;

  g_return_val_if_fail (HVK_IS_QMP_CLIENT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* qmp_capabilities goes out before the greeting is read: QEMU queues
   * it, and the handshake costs one wake-up of QEMU, not two. */
  if (!send_request (self, "qmp_capabilities", NULL, -1, deadline, what, timeout_ms,
                     cancellable, &id, error))
    return FALSE;
  greeting = read_message (self, deadline, "waiting for the QMP greeting",
                           timeout_ms, cancellable, error);
  if (greeting == NULL)
    return FALSE;

  qmp = json_object_get_member (greeting, "QMP");
  if (qmp == NULL || !JSON_NODE_HOLDS_OBJECT (qmp))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_QMP,
                   "QMP socket '%s' did not start with a QMP greeting",
                   self->path);
      hvk_qmp_client_close (self);
      return FALSE;
    }
  self->greeting = json_object_ref (json_node_get_object (qmp));

  reply = await_reply (self, "qmp_capabilities", id, deadline, what, timeout_ms,
                       cancellable, error);
  if (reply == NULL)
    {
      hvk_qmp_client_close (self);
      return FALSE;
    }
  return TRUE;
}

gboolean
hvk_qmp_client_connect (HvkQmpClient *self,
                        const char   *path,
                        guint         timeout_ms,
                        GCancellable *cancellable,
                        GError      **error)
{
  g_return_val_if_fail (HVK_IS_QMP_CLIENT (self), FALSE);

  return hvk_qmp_client_open (self, path, error)
         && hvk_qmp_client_handshake (self, timeout_ms, cancellable, error);
}

static gboolean
reply_has_id (JsonObject *message,
              guint64     id)
{
  JsonNode *node = json_object_get_member (message, "id");

  return node != NULL
         && JSON_NODE_HOLDS_VALUE (node)
         && json_node_get_value_type (node) == G_TYPE_INT64
         && (guint64) json_node_get_int (node) == id;
}

JsonNode *
hvk_qmp_client_execute (HvkQmpClient *self,
                        const char   *command,
                        JsonObject   *arguments,
                        guint         timeout_ms,
                        GCancellable *cancellable,
                        GError      **error)
{
  return hvk_qmp_client_execute_with_fd (self, command, arguments, -1, timeout_ms,
                                         cancellable, error);
}

/* Writes command @command with a new id, @pass_fd riding along; on
 * success returns the id its reply will carry.  On failure the stream
 * is closed (half a command may be on the wire). */
static gboolean
send_request (HvkQmpClient *self,
              const char   *command,
              JsonObject   *arguments,
              int           pass_fd,
              gint64        deadline,
              const char   *what,
              guint         timeout_ms,
              GCancellable *cancellable,
              guint64      *out_id,
              GError      **error)
{
  /* Mutable: an immutable builder would seal the caller's @arguments. */
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) request = NULL;
  g_autofree char *text = NULL;
  guint64 id;
  gsize len;

  if (self->fd < 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_DISCONNECTED,
                   "QMP command '%s': not connected", command);
      return FALSE;
    }

  id = self->next_id++;
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "execute");
  json_builder_add_string_value (builder, command);
  if (arguments != NULL)
    {
      g_autoptr(JsonNode) args = json_node_init_object (json_node_alloc (), arguments);
      json_builder_set_member_name (builder, "arguments");
      json_builder_add_value (builder, g_steal_pointer (&args));
    }
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, (gint64) id);
  json_builder_end_object (builder);
  request = json_builder_get_root (builder);
  json_generator_set_root (generator, request);
  text = json_generator_to_data (generator, &len);

  g_debug ("QMP %s: -> %s", self->path, text);
  /* One write, newline included: QEMU wakes up once per command. */
  text = g_realloc (text, len + 2);
  text[len++] = '\n';
  text[len] = '\0';
  if (!send_all (self, text, len, pass_fd, deadline, what, timeout_ms, cancellable, error))
    {
      if (error != NULL && g_error_matches (*error, HVK_ERROR, HVK_ERROR_DISCONNECTED))
        g_prefix_error (error, "QMP command '%s': ", command);
      hvk_qmp_client_close (self);
      return FALSE;
    }
  *out_id = id;
  return TRUE;
}

/* Reads until the reply to command @id (@command) arrives, queueing the
 * events met on the way; returns its "return" member. */
static JsonNode *
await_reply (HvkQmpClient *self,
             const char   *command,
             guint64       id,
             gint64        deadline,
             const char   *what,
             guint         timeout_ms,
             GCancellable *cancellable,
             GError      **error)
{
  self->n_skipped = 0;
  for (;;)
    {
      g_autoptr(JsonObject) message = NULL;
      g_autoptr(GError) local_error = NULL;
      JsonNode *err;

      message = read_message (self, deadline, what, timeout_ms, cancellable, &local_error);
      if (message == NULL)
        {
          if (g_error_matches (local_error, HVK_ERROR, HVK_ERROR_DISCONNECTED))
            g_prefix_error (&local_error, "QMP command '%s': ", command);
          /* A reply QEMU garbled was skipped: say so, not just "timed out". */
          if (g_error_matches (local_error, HVK_ERROR, HVK_ERROR_TIMEOUT) && self->n_skipped > 0)
            g_set_error (error, HVK_ERROR, HVK_ERROR_TIMEOUT,
                         "%s; QEMU sent %u malformed message%s meanwhile (%s)",
                         local_error->message, self->n_skipped,
                         self->n_skipped == 1 ? "" : "s", self->last_skipped);
          else
            g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }

      if (json_object_has_member (message, "event"))
        {
          queue_event (self, message);
          continue;
        }
      if (!reply_has_id (message, id))
        {
          g_debug ("QMP %s: dropping a reply that is not for command %" G_GUINT64_FORMAT,
                   self->path, id);
          continue;
        }

      err = json_object_get_member (message, "error");
      if (err != NULL)
        {
          JsonObject *eo = JSON_NODE_HOLDS_OBJECT (err) ? json_node_get_object (err) : NULL;
          const char *klass = eo ? member_string (eo, "class", "GenericError") : "GenericError";
          const char *desc = eo ? member_string (eo, "desc", "(no description)") : "(no description)";

          g_set_error (error, HVK_ERROR, HVK_ERROR_QMP,
                       "QMP command '%s' failed: %s: %s", command, klass, desc);
          return NULL;
        }
      if (!json_object_has_member (message, "return"))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_QMP,
                       "QMP command '%s' got a reply with neither 'return' nor 'error'",
                       command);
          return NULL;
        }
      return json_node_copy (json_object_get_member (message, "return"));
    }
}

JsonNode *
hvk_qmp_client_execute_with_fd (HvkQmpClient *self,
                                const char   *command,
                                JsonObject   *arguments,
                                int           pass_fd,
                                guint         timeout_ms,
                                GCancellable *cancellable,
                                GError      **error)
{
  gint64 deadline = deadline_from_timeout (timeout_ms);
  g_autofree char *what = NULL;
  guint64 id;

  g_return_val_if_fail (HVK_IS_QMP_CLIENT (self), NULL);
  g_return_val_if_fail (command != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  what = g_strdup_printf ("QMP command '%s'", command);
  if (!send_request (self, command, arguments, pass_fd, deadline, what, timeout_ms,
                     cancellable, &id, error))
    return NULL;
  /* A process killed here leaves the command to QEMU alone. */
  hvk_debug_kill_point (what);
  return await_reply (self, command, id, deadline, what, timeout_ms, cancellable, error);
}

static gboolean
event_matches (JsonObject *event,
               const char *name)
{
  return g_strcmp0 (member_string (event, "event", NULL), name) == 0;
}

static gboolean
event_data_matches (JsonObject       *event,
                    HvkQmpEventMatch  match,
                    gpointer          user_data)
{
  JsonNode *data = json_object_get_member (event, "data");
  g_autoptr(JsonObject) empty = NULL;

  if (data != NULL && JSON_NODE_HOLDS_OBJECT (data))
    return match (json_node_get_object (data), user_data);
  empty = json_object_new ();
  return match (empty, user_data);
}

typedef struct {
  const char *key;
  const char *value;
} MemberEquals;

/* The data member @key is the string @value. */
static gboolean
data_member_equals (JsonObject *data,
                    gpointer    user_data)
{
  MemberEquals *want = user_data;
  JsonNode *member = json_object_get_member (data, want->key);

  return member != NULL
         && JSON_NODE_HOLDS_VALUE (member)
         && json_node_get_value_type (member) == G_TYPE_STRING
         && g_strcmp0 (json_node_get_string (member), want->value) == 0;
}

static gboolean
any_data (JsonObject *data,
          gpointer    user_data)
{
  return TRUE;
}

JsonObject *
hvk_qmp_client_wait_event (HvkQmpClient *self,
                           const char   *name,
                           const char   *data_key,
                           const char   *data_value,
                           guint         timeout_ms,
                           GCancellable *cancellable,
                           GError      **error)
{
  MemberEquals want = { data_key, data_value };
  g_autofree char *description = NULL;

  if (data_key == NULL)
    return hvk_qmp_client_wait_event_match (self, name, any_data, NULL, NULL,
                                            timeout_ms, cancellable, error);
  description = g_strdup_printf ("%s=%s", data_key, data_value);
  return hvk_qmp_client_wait_event_match (self, name, data_member_equals, &want, description,
                                          timeout_ms, cancellable, error);
}

/* As hvk_qmp_client_wait_event(), with @match deciding on the event's
 * "data" object (an empty object when the event has none). */
JsonObject *
hvk_qmp_client_wait_event_match (HvkQmpClient      *self,
                                 const char        *name,
                                 HvkQmpEventMatch   match,
                                 gpointer           user_data,
                                 const char        *description,
                                 guint              timeout_ms,
                                 GCancellable      *cancellable,
                                 GError           **error)
{
  gint64 deadline = deadline_from_timeout (timeout_ms);
  g_autofree char *what = NULL;

  g_return_val_if_fail (HVK_IS_QMP_CLIENT (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (match != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (GList *l = self->events.head; l != NULL; l = l->next)
    {
      if (event_matches (l->data, name) && event_data_matches (l->data, match, user_data))
        {
          JsonObject *event = l->data;
          g_queue_delete_link (&self->events, l);
          return event;
        }
    }

  what = description != NULL
         ? g_strdup_printf ("waiting for QMP event %s (%s)", name, description)
         : g_strdup_printf ("waiting for QMP event %s", name);
  for (;;)
    {
      g_autoptr(JsonObject) message = read_message (self, deadline, what, timeout_ms,
                                                    cancellable, error);
      if (message == NULL)
        return NULL;
      if (!json_object_has_member (message, "event"))
        continue;  /* a late reply */
      if (event_matches (message, name) && event_data_matches (message, match, user_data))
        return g_steal_pointer (&message);
      queue_event (self, message);
    }
}

/* The next event, whatever it is: a queued one first, else the next one
 * read (HVK_ERROR_TIMEOUT after @timeout_ms, HVK_ERROR_DISCONNECTED when
 * QEMU closes the socket). */
JsonObject *
hvk_qmp_client_next_event (HvkQmpClient  *self,
                           guint          timeout_ms,
                           GCancellable  *cancellable,
                           GError       **error)
{
  gint64 deadline = deadline_from_timeout (timeout_ms);

  g_return_val_if_fail (HVK_IS_QMP_CLIENT (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->events.length > 0)
    return g_queue_pop_head (&self->events);
  for (;;)
    {
      g_autoptr(JsonObject) message = read_message (self, deadline, "waiting for a QMP event",
                                                    timeout_ms, cancellable, error);
      if (message == NULL)
        return NULL;
      if (json_object_has_member (message, "event"))
        return g_steal_pointer (&message);
    }
}

JsonObject *
hvk_qmp_client_take_queued_event (HvkQmpClient *self,
                                  const char   *name)
{
  g_return_val_if_fail (HVK_IS_QMP_CLIENT (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (GList *l = self->events.head; l != NULL; l = l->next)
    {
      if (event_matches (l->data, name))
        {
          JsonObject *event = l->data;
          g_queue_delete_link (&self->events, l);
          return event;
        }
    }
  return NULL;
}

JsonObject *
hvk_qmp_client_pop_event (HvkQmpClient *self)
{
  g_return_val_if_fail (HVK_IS_QMP_CLIENT (self), NULL);

  return g_queue_pop_head (&self->events);
}

guint
hvk_qmp_client_get_n_events (HvkQmpClient *self)
{
  g_return_val_if_fail (HVK_IS_QMP_CLIENT (self), 0);

  return self->events.length;
}

void
hvk_qmp_client_clear_events (HvkQmpClient *self)
{
  g_return_if_fail (HVK_IS_QMP_CLIENT (self));

  g_queue_clear_full (&self->events, (GDestroyNotify) json_object_unref);
}
