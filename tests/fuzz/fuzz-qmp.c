/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <glib/gstdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "hvk-qemu-qmp.h"

/* The QMP message reader, through the production path: HvkQmpClient
 * connects to a real UNIX socket and reads what a thread writes as the
 * "QEMU" end (the whole input, then end of file).  The client shakes
 * hands, runs two commands (ids 2 and 3), waits for two events and
 * drains the queue.  Lines are capped at 4 KiB here (16 MiB in
 * production, the same code) so over-long messages are reachable. */

#define FUZZ_QMP_MAX_LINE 4096
#define FUZZ_QMP_TIMEOUT_MS 5000

static char *socket_dir;
static char *socket_path;
static int listen_fd = -1;

typedef struct {
  int            fd;
  const uint8_t *data;
  size_t         size;
} Writer;

static void
cleanup (void)
{
  if (listen_fd >= 0)
    close (listen_fd);
  if (socket_path != NULL)
    g_unlink (socket_path);
  if (socket_dir != NULL)
    g_rmdir (socket_dir);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  g_autoptr(GError) error = NULL;

  fuzz_setup_logging ();
  socket_dir = g_dir_make_tmp ("hvk-fuzz-qmp-XXXXXX", &error);
  if (socket_dir == NULL)
    g_error ("%s", error->message);
  socket_path = g_build_filename (socket_dir, "qmp.sock", NULL);
  g_assert (strlen (socket_path) < sizeof addr.sun_path);
  strcpy (addr.sun_path, socket_path);
  listen_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd < 0 || bind (listen_fd, (struct sockaddr *) &addr, sizeof addr) < 0
      || listen (listen_fd, 8) < 0)
    g_error ("cannot listen on %s: %s", socket_path, g_strerror (errno));
  atexit (cleanup);
  return 0;
}

static void *
write_input (void *user_data)
{
  Writer *w = user_data;
  size_t done = 0;

  while (done < w->size)
    {
      ssize_t n = send (w->fd, w->data + done, w->size - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;   /* the client closed: it read all it wanted */
      done += n;
    }
  shutdown (w->fd, SHUT_WR);
  return NULL;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(HvkQmpClient) client = hvk_qmp_client_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) arguments = json_object_new ();
  Writer writer = { -1, data, size };
  pthread_t thread;
  JsonObject *event;

  hvk_qmp_client_set_max_line (client, FUZZ_QMP_MAX_LINE);
  if (!hvk_qmp_client_open (client, socket_path, &error))
    g_error ("%s", error->message);
  writer.fd = accept (listen_fd, NULL, NULL);
  if (writer.fd < 0)
    g_error ("accept: %s", g_strerror (errno));
  if (pthread_create (&thread, NULL, write_input, &writer) != 0)
    g_error ("pthread_create failed");

  if (hvk_qmp_client_handshake (client, FUZZ_QMP_TIMEOUT_MS, NULL, &error))
    {
      fuzz_check (hvk_qmp_client_get_greeting (client) != NULL, "a greeting after the handshake");
      fuzz_check (hvk_qmp_client_is_connected (client), "connected after the handshake");
    }
  else
    {
      fuzz_check (error != NULL && error->domain == HVK_ERROR, "handshake failure is an HVK_ERROR");
      fuzz_check (!g_error_matches (error, HVK_ERROR, HVK_ERROR_TIMEOUT), "no timeout: input ends");
      g_clear_error (&error);
    }

  /* Keep talking whatever happened: a closed client must fail cleanly. */
  {
    g_autoptr(JsonNode) reply = hvk_qmp_client_execute (client, "query-status", NULL,
                                                        FUZZ_QMP_TIMEOUT_MS, NULL, &error);
    fuzz_check ((reply == NULL) == (error != NULL), "a reply or an error");
    fuzz_check (!g_error_matches (error, HVK_ERROR, HVK_ERROR_TIMEOUT), "no timeout: input ends");
    g_clear_error (&error);
  }
  json_object_set_string_member (arguments, "id", "disk0");
  {
    g_autoptr(JsonNode) reply = hvk_qmp_client_execute (client, "device_del", arguments,
                                                        FUZZ_QMP_TIMEOUT_MS, NULL, &error);
    fuzz_check ((reply == NULL) == (error != NULL), "a reply or an error");
    g_clear_error (&error);
  }
  {
    g_autoptr(JsonObject) ev = hvk_qmp_client_wait_event (client, "DEVICE_DELETED", "device", "disk0",
                                                          FUZZ_QMP_TIMEOUT_MS, NULL, &error);
    fuzz_check ((ev == NULL) == (error != NULL), "an event or an error");
    g_clear_error (&error);
  }
  {
    g_autoptr(JsonObject) ev = hvk_qmp_client_wait_event (client, "SHUTDOWN", NULL, NULL,
                                                          FUZZ_QMP_TIMEOUT_MS, NULL, &error);
    fuzz_check ((ev == NULL) == (error != NULL), "an event or an error");
    g_clear_error (&error);
  }
  fuzz_check (hvk_qmp_client_get_n_events (client) <= HVK_QMP_MAX_QUEUED_EVENTS, "event queue bounded");
  while ((event = hvk_qmp_client_pop_event (client)) != NULL)
    json_object_unref (event);

  hvk_qmp_client_close (client);
  pthread_join (thread, NULL);
  close (writer.fd);
  return 0;
}
