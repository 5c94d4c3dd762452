/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "fake-qmp.h"

static gboolean
write_all (int fd, const char *data, gsize len)
{
  while (len > 0)
    {
      ssize_t n = send (fd, data, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= n;
    }
  return TRUE;
}

/* Reads one line (without the newline); NULL on EOF. */
static char *
read_line (int fd, GString *pending)
{
  for (;;)
    {
      char *nl = memchr (pending->str, '\n', pending->len);
      char buf[4096];
      ssize_t n;

      if (nl != NULL)
        {
          char *line = g_strndup (pending->str, nl - pending->str);
          g_string_erase (pending, 0, nl - pending->str + 1);
          return line;
        }
      n = recv (fd, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return NULL;
      g_string_append_len (pending, buf, n);
    }
}

static gpointer
fake_server_thread (gpointer data)
{
  FakeServer *server = data;
  g_autoptr(GString) pending = g_string_new (NULL);
  gint64 last_id = -1;
  int fd;

  fd = accept (server->listen_fd, NULL, NULL);
  if (fd < 0)
    {
      g_string_append_printf (server->failures, "accept: %s\n", g_strerror (errno));
      return NULL;
    }

  for (guint i = 0; i < server->n_steps; i++)
    {
      const Step *step = &server->steps[i];

      switch (step->type)
        {
        case STEP_SEND:
          write_all (fd, step->text, strlen (step->text));
          break;

        case STEP_CHUNKED:
          for (gsize off = 0, len = strlen (step->text); off < len; off += 3)
            {
              write_all (fd, step->text + off, MIN (3, len - off));
              g_usleep (200);
            }
          break;

        case STEP_EXPECT:
          {
            g_autofree char *line = read_line (fd, pending);
            g_autoptr(JsonParser) parser = json_parser_new ();
            JsonObject *obj;

            if (line == NULL)
              {
                g_string_append_printf (server->failures, "step %u: EOF, expected %s\n", i, step->text);
                goto out;
              }
            g_ptr_array_add (server->received, g_strdup (line));
            if (!json_parser_load_from_data (parser, line, -1, NULL)
                || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
              {
                g_string_append_printf (server->failures, "step %u: not JSON: %s\n", i, line);
                break;
              }
            obj = json_node_get_object (json_parser_get_root (parser));
            if (g_strcmp0 (json_object_get_string_member_with_default (obj, "execute", ""), step->text) != 0)
              g_string_append_printf (server->failures, "step %u: expected %s, got %s\n", i, step->text, line);
            last_id = json_object_get_int_member_with_default (obj, "id", -1);
          }
          break;

        case STEP_REPLY:
          {
            g_autofree char *text = NULL;
            g_assert_true (g_str_has_suffix (step->text, "}"));
            text = g_strdup_printf ("%.*s, \"id\": %" G_GINT64_FORMAT "}\r\n",
                                    (int) strlen (step->text) - 1, step->text, last_id);
            write_all (fd, text, strlen (text));
          }
          break;

        case STEP_REPLY_ID:
          write_all (fd, step->text, strlen (step->text));
          break;

        case STEP_SLEEP:
          g_usleep (step->delay_ms * 1000);
          break;

        case STEP_CLOSE:
          goto out;

        case STEP_REFUSE_REST:
          {
            char *line;
            while ((line = read_line (fd, pending)) != NULL)
              {
                g_autoptr(JsonParser) parser = json_parser_new ();
                g_autofree char *reply = NULL;
                gint64 id = -1;

                g_ptr_array_add (server->received, line);
                if (json_parser_load_from_data (parser, line, -1, NULL)
                    && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
                  id = json_object_get_int_member_with_default (
                    json_node_get_object (json_parser_get_root (parser)), "id", -1);
                reply = g_strdup_printf ("{\"error\": {\"class\": \"GenericError\", "
                                         "\"desc\": \"" REFUSED_DESC "\"}, "
                                         "\"id\": %" G_GINT64_FORMAT "}\r\n", id);
                write_all (fd, reply, strlen (reply));
              }
          }
          break;

        case STEP_DRAIN:
          {
            char *line;
            while ((line = read_line (fd, pending)) != NULL)
              {
                g_ptr_array_add (server->received, line);
              }
          }
          break;
        }
    }

 out:
  close (fd);
  return NULL;
}

FakeServer *
fake_server_new (const Step *steps,
                 guint       n_steps)
{
  FakeServer *server = g_new0 (FakeServer, 1);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  g_autoptr(GError) error = NULL;

  server->dir = g_dir_make_tmp ("hvk-qmp-XXXXXX", &error);
  g_assert_no_error (error);
  server->path = g_build_filename (server->dir, "qmp.sock", NULL);
  g_assert_cmpuint (strlen (server->path), <, sizeof addr.sun_path);
  strcpy (addr.sun_path, server->path);
  server->listen_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (server->listen_fd, >=, 0);
  g_assert_cmpint (bind (server->listen_fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (server->listen_fd, 1), ==, 0);
  server->steps = steps;
  server->n_steps = n_steps;
  server->failures = g_string_new (NULL);
  server->received = g_ptr_array_new_with_free_func (g_free);
  server->thread = g_thread_new ("fake-qmp", fake_server_thread, server);
  return server;
}

void
fake_server_join (FakeServer *server)
{
  if (server->thread != NULL)
    g_thread_join (g_steal_pointer (&server->thread));
}

void
fake_server_finish (FakeServer *server)
{
  fake_server_join (server);
  close (server->listen_fd);
  g_assert_cmpstr (server->failures->str, ==, "");
  unlink (server->path);
  g_rmdir (server->dir);
  g_string_free (server->failures, TRUE);
  g_ptr_array_unref (server->received);
  g_free (server->path);
  g_free (server->dir);
  g_free (server);
}



JsonObject *
fake_server_arguments (FakeServer *server,
                       guint       index)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *object;

  g_assert_cmpuint (index, <, server->received->len);
  g_assert_true (json_parser_load_from_data (parser, server->received->pdata[index], -1, NULL));
  object = json_node_get_object (json_parser_get_root (parser));
  if (!json_object_has_member (object, "arguments"))
    return json_object_new ();
  return json_object_ref (json_object_get_object_member (object, "arguments"));
}
