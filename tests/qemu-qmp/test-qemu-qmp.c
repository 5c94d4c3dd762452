/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <glib/gstdio.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "hvk-qemu-qmp.h"
#include "fake-qmp.h"

/* Unit tests of HvkQmpClient against a scripted fake QMP server running
 * in a thread (the idea of libvirt's qemumonitortestutils): the script
 * says what the server sends and which commands it expects, and the
 * server records every mismatch for the test to assert on. */

static HvkQmpClient *
connect_client (FakeServer *server)
{
  g_autoptr(HvkQmpClient) client = hvk_qmp_client_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (hvk_qmp_client_connect (client, server->path, 2000, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_qmp_client_is_connected (client));
  return g_steal_pointer (&client);
}

static void
test_handshake (void)
{
  static const Step steps[] = { HANDSHAKE, { STEP_DRAIN, NULL, 0 } };
  FakeServer *server = fake_server_new (steps, G_N_ELEMENTS (steps));
  g_autoptr(HvkQmpClient) client = connect_client (server);
  JsonObject *greeting = hvk_qmp_client_get_greeting (client);
  JsonObject *version;

  g_assert_nonnull (greeting);
  version = json_object_get_object_member (json_object_get_object_member (greeting, "version"), "qemu");
  g_assert_cmpint (json_object_get_int_member (version, "major"), ==, 7);
  g_assert_cmpint (json_object_get_int_member (version, "minor"), ==, 2);

  hvk_qmp_client_close (client);
  g_assert_false (hvk_qmp_client_is_connected (client));
  g_assert_null (hvk_qmp_client_get_greeting (client));
  fake_server_finish (server);
}

static void
test_execute_return (void)
{
  static const Step steps[] = {
    HANDSHAKE,
    { STEP_EXPECT, "query-status", 0 },
    { STEP_REPLY, "{\"return\": {\"status\": \"paused\", \"running\": false}}", 0 },
    { STEP_EXPECT, "device_del", 0 },
    { STEP_REPLY, RETURN_EMPTY, 0 },
    { STEP_DRAIN, NULL, 0 },
  };
  FakeServer *server = fake_server_new (steps, G_N_ELEMENTS (steps));
  g_autoptr(HvkQmpClient) client = connect_client (server);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) ret = NULL;
  g_autoptr(JsonNode) ret2 = NULL;
  g_autoptr(JsonObject) args = json_object_new ();
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *sent;

  ret = hvk_qmp_client_execute (client, "query-status", NULL, 1000, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (ret));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (ret), "status"), ==, "paused");
  g_assert_false (json_object_get_boolean_member (json_node_get_object (ret), "running"));

  json_object_set_string_member (args, "id", "disk,1");
  ret2 = hvk_qmp_client_execute (client, "device_del", args, 1000, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ret2);
  /* The caller's arguments stay usable (not sealed by the client). */
  json_object_set_string_member (args, "other", "x");

  hvk_qmp_client_close (client);
  fake_server_join (server);

  /* What went on the wire: command, arguments, a fresh integer id each. */
  g_assert_cmpuint (server->received->len, ==, 3);
  g_assert_true (json_parser_load_from_data (parser, server->received->pdata[2], -1, NULL));
  sent = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (sent, "execute"), ==, "device_del");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (sent, "arguments"), "id"), ==, "disk,1");
  g_assert_cmpint (json_object_get_int_member (sent, "id"), ==, 3);
  fake_server_finish (server);
}

static void
test_execute_error (void)
{
  static const Step steps[] = {
    HANDSHAKE,
    { STEP_EXPECT, "device_add", 0 },
    { STEP_REPLY, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Duplicate device ID 'disk1'\"}}", 0 },
    { STEP_EXPECT, "query-status", 0 },
    { STEP_REPLY, "{\"error\": {}}", 0 },
    { STEP_EXPECT, "query-status", 0 },
    { STEP_REPLY, "{\"whatever\": 1}", 0 },
    { STEP_DRAIN, NULL, 0 },
  };
  FakeServer *server = fake_server_new (steps, G_N_ELEMENTS (steps));
  g_autoptr(HvkQmpClient) client = connect_client (server);
  g_autoptr(GError) error = NULL;
  JsonNode *ret;

  ret = hvk_qmp_client_execute (client, "device_add", NULL, 1000, NULL, &error);
  g_assert_null (ret);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_QMP);
  g_assert_cmpstr (error->message, ==,
                   "QMP command 'device_add' failed: GenericError: Duplicate device ID 'disk1'");
  g_clear_error (&error);

  /* An error without class/desc still names the command. */
  ret = hvk_qmp_client_execute (client, "query-status", NULL, 1000, NULL, &error);
  g_assert_null (ret);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_QMP);
  g_assert_nonnull (strstr (error->message, "'query-status' failed: GenericError"));
  g_clear_error (&error);

  ret = hvk_qmp_client_execute (client, "query-status", NULL, 1000, NULL, &error);
  g_assert_null (ret);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_QMP);
  g_assert_nonnull (strstr (error->message, "neither 'return' nor 'error'"));
  /* An error reply leaves the connection usable. */
  g_assert_true (hvk_qmp_client_is_connected (client));

  hvk_qmp_client_close (client);
  fake_server_finish (server);
}

static void
test_events (void)
{
  static const Step steps[] = {
    HANDSHAKE,
    { STEP_EXPECT, "stop", 0 },
    /* Two events and the reply in one write. */
    { STEP_SEND, "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}\n"
                 "{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"disk0\", \"path\": \"/x\"}}\n", 0 },
    { STEP_REPLY, RETURN_EMPTY, 0 },
    { STEP_SLEEP, NULL, 50 },
    { STEP_SEND, "{\"event\": \"RESUME\"}\n"
                 "{\"event\": \"DEVICE_DELETED\", \"data\": {\"device\": \"disk1\"}}\n", 0 },
    { STEP_DRAIN, NULL, 0 },
  };
  FakeServer *server = fake_server_new (steps, G_N_ELEMENTS (steps));
  g_autoptr(HvkQmpClient) client = connect_client (server);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) ret = NULL;
  g_autoptr(JsonObject) stop = NULL;
  g_autoptr(JsonObject) deleted = NULL;
  g_autoptr(JsonObject) first = NULL;
  g_autoptr(JsonObject) second = NULL;

  ret = hvk_qmp_client_execute (client, "stop", NULL, 1000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hvk_qmp_client_get_n_events (client), ==, 2);

  /* A queued event is found without I/O. */
  stop = hvk_qmp_client_wait_event (client, "STOP", NULL, NULL, 10, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (stop, "event"), ==, "STOP");
  g_assert_cmpuint (hvk_qmp_client_get_n_events (client), ==, 1);

  /* Matching on data: the queued disk0 deletion is not disk1's; the wait
   * reads on and queues RESUME meanwhile. */
  deleted = hvk_qmp_client_wait_event (client, "DEVICE_DELETED", "device", "disk1",
                                       2000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (deleted, "data"), "device"),
                   ==, "disk1");
  g_assert_cmpuint (hvk_qmp_client_get_n_events (client), ==, 2);

  first = hvk_qmp_client_pop_event (client);
  second = hvk_qmp_client_pop_event (client);
  g_assert_cmpstr (json_object_get_string_member (first, "event"), ==, "DEVICE_DELETED");
  g_assert_cmpstr (json_object_get_string_member (second, "event"), ==, "RESUME");
  g_assert_null (hvk_qmp_client_pop_event (client));

  hvk_qmp_client_close (client);
  fake_server_finish (server);
}

static void
test_event_queue_bound (void)
{
  static Step steps[] = {
    HANDSHAKE,
    { STEP_EXPECT, "cont", 0 },
    { STEP_SEND, NULL, 0 },   /* filled below */
    { STEP_REPLY, RETURN_EMPTY, 0 },
    { STEP_DRAIN, NULL, 0 },
  };
  g_autoptr(GString) many = g_string_new (NULL);
  FakeServer *server;
  g_autoptr(HvkQmpClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) ret = NULL;
  g_autoptr(JsonObject) oldest = NULL;
  guint extra = 10;

  for (guint i = 0; i < HVK_QMP_MAX_QUEUED_EVENTS + extra; i++)
    g_string_append_printf (many, "{\"event\": \"RESUME\", \"data\": {\"n\": %u}}\n", i);
  steps[4].text = many->str;
  server = fake_server_new (steps, G_N_ELEMENTS (steps));
  client = connect_client (server);

  ret = hvk_qmp_client_execute (client, "cont", NULL, 5000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hvk_qmp_client_get_n_events (client), ==, HVK_QMP_MAX_QUEUED_EVENTS);
  oldest = hvk_qmp_client_pop_event (client);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (oldest, "data"), "n"),
                   ==, extra);
  hvk_qmp_client_clear_events (client);
  g_assert_cmpuint (hvk_qmp_client_get_n_events (client), ==, 0);

  hvk_qmp_client_close (client);
  fake_server_finish (server);
}

static void
test_partial_lines (void)
{
  static const Step steps[] = {
    { STEP_CHUNKED, GREETING, 0 },
    { STEP_EXPECT, "qmp_capabilities", 0 },
    { STEP_REPLY, RETURN_EMPTY, 0 },
    { STEP_EXPECT, "query-cpus-fast", 0 },
    { STEP_CHUNKED, "{\"event\": \"STOP\"}\r\n{\"return\": [{\"cpu-index\": 0, \"thread-id\": 4242}], \"id\": 2}\n", 0 },
    { STEP_DRAIN, NULL, 0 },
  };
  FakeServer *server = fake_server_new (steps, G_N_ELEMENTS (steps));
  g_autoptr(HvkQmpClient) client = connect_client (server);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) ret = NULL;
  JsonArray *cpus;

  ret = hvk_qmp_client_execute (client, "query-cpus-fast", NULL, 2000, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (ret));
  cpus = json_node_get_array (ret);
  g_assert_cmpuint (json_array_get_length (cpus), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (cpus, 0), "thread-id"), ==, 4242);
  g_assert_cmpuint (hvk_qmp_client_get_n_events (client), ==, 1);

  hvk_qmp_client_close (client);
  fake_server_finish (server);
}

static void
test_garbage (void)
{
  static const Step steps[] = {
    HANDSHAKE,
    { STEP_EXPECT, "query-status", 0 },
    /* Not JSON, not an object, blank, a reply to someone else: all skipped. */
    { STEP_SEND, "this is not json\n[1, 2]\n\n   \n{\"return\": {\"status\": \"wrong\"}, \"id\": 999}\n", 0 },
    { STEP_REPLY, "{\"return\": {\"status\": \"running\"}}", 0 },
    { STEP_DRAIN, NULL, 0 },
  };
  FakeServer *server = fake_server_new (steps, G_N_ELEMENTS (steps));
  g_autoptr(HvkQmpClient) client = connect_client (server);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) ret = NULL;

  ret = hvk_qmp_client_execute (client, "query-status", NULL, 2000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (ret), "status"), ==, "running");

  hvk_qmp_client_close (client);
  fake_server_finish (server);
}

static void
test_line_limit (void)
{
  static Step steps[] = {
    HANDSHAKE,
    { STEP_EXPECT, "query-status", 0 },
    { STEP_SEND, NULL, 0 },
    { STEP_DRAIN, NULL, 0 },
  };
  g_autofree char *big = NULL;
  FakeServer *server;
  g_autoptr(HvkQmpClient) client = NULL;
  g_autoptr(GError) error = NULL;
  JsonNode *ret;

  /* 8 KiB of one string without a newline: over the 1 KiB limit even
   * though the line never ends. */
  big = g_strnfill (8192, 'a');
  big[0] = '"';
  steps[4].text = big;
  server = fake_server_new (steps, G_N_ELEMENTS (steps));
  client = connect_client (server);
  hvk_qmp_client_set_max_line (client, 1024);

  ret = hvk_qmp_client_execute (client, "query-status", NULL, 2000, NULL, &error);
  g_assert_null (ret);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_DISCONNECTED);
  g_assert_nonnull (strstr (error->message, "1024 byte limit"));
  g_assert_false (hvk_qmp_client_is_connected (client));

  fake_server_finish (server);
}

static void
test_line_limit_complete_line (void)
{
  static Step steps[] = {
    HANDSHAKE,
    { STEP_EXPECT, "query-status", 0 },
    { STEP_SEND, NULL, 0 },
    { STEP_DRAIN, NULL, 0 },
  };
  g_autofree char *big = NULL;
  FakeServer *server;
  g_autoptr(HvkQmpClient) client = NULL;
  g_autoptr(GError) error = NULL;
  JsonNode *ret;

  /* A complete (short enough to arrive in one read) line over the limit. */
  big = g_strdup_printf ("{\"return\": \"%0600d\", \"id\": 2}\n", 0);
  steps[4].text = big;
  server = fake_server_new (steps, G_N_ELEMENTS (steps));
  client = connect_client (server);
  hvk_qmp_client_set_max_line (client, 100);

  ret = hvk_qmp_client_execute (client, "query-status", NULL, 2000, NULL, &error);
  g_assert_null (ret);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_DISCONNECTED);
  g_assert_nonnull (strstr (error->message, "100 byte limit"));

  fake_server_finish (server);
}

static void
test_close_mid_command (void)
{
  static const Step steps[] = {
    HANDSHAKE,
    { STEP_EXPECT, "query-status", 0 },
    { STEP_SEND, "{\"return\": ", 0 },
    { STEP_CLOSE, NULL, 0 },
  };
  FakeServer *server = fake_server_new (steps, G_N_ELEMENTS (steps));
  g_autoptr(HvkQmpClient) client = connect_client (server);
  g_autoptr(GError) error = NULL;
  JsonNode *ret;

  ret = hvk_qmp_client_execute (client, "query-status", NULL, 2000, NULL, &error);
  g_assert_null (ret);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_DISCONNECTED);
  g_assert_nonnull (strstr (error->message, "QMP command 'query-status'"));
  g_assert_nonnull (strstr (error->message, "end of file"));
  g_assert_false (hvk_qmp_client_is_connected (client));
  g_clear_error (&error);

  /* Later commands fail at once, without a wait. */
  ret = hvk_qmp_client_execute (client, "cont", NULL, 60000, NULL, &error);
  g_assert_null (ret);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_DISCONNECTED);
  g_clear_error (&error);

  g_assert_null (hvk_qmp_client_wait_event (client, "SHUTDOWN", NULL, NULL, 60000, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_DISCONNECTED);

  fake_server_finish (server);
}

static void
test_timeout (void)
{
  static const Step steps[] = {
    HANDSHAKE,
    { STEP_EXPECT, "query-status", 0 },
    { STEP_SLEEP, NULL, 400 },
    /* The late reply to command 2 … */
    { STEP_REPLY, "{\"return\": {\"status\": \"late\"}}", 0 },
    { STEP_EXPECT, "query-status", 0 },
    /* … must not be taken for command 3's. */
    { STEP_REPLY, "{\"return\": {\"status\": \"running\"}}", 0 },
    { STEP_DRAIN, NULL, 0 },
  };
  FakeServer *server = fake_server_new (steps, G_N_ELEMENTS (steps));
  g_autoptr(HvkQmpClient) client = connect_client (server);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) ret = NULL;

  ret = hvk_qmp_client_execute (client, "query-status", NULL, 100, NULL, &error);
  g_assert_null (ret);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_TIMEOUT);
  g_assert_cmpstr (error->message, ==, "QMP command 'query-status' timed out after 100 ms");
  g_assert_true (hvk_qmp_client_is_connected (client));
  g_clear_error (&error);

  ret = hvk_qmp_client_execute (client, "query-status", NULL, 5000, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (ret), "status"), ==, "running");

  hvk_qmp_client_close (client);
  fake_server_finish (server);
}

static void
test_wait_event_timeout (void)
{
  static const Step steps[] = {
    HANDSHAKE,
    { STEP_SEND, "{\"event\": \"RESUME\"}\n", 0 },
    { STEP_DRAIN, NULL, 0 },
  };
  FakeServer *server = fake_server_new (steps, G_N_ELEMENTS (steps));
  g_autoptr(HvkQmpClient) client = connect_client (server);
  g_autoptr(GError) error = NULL;
  JsonObject *event;

  event = hvk_qmp_client_wait_event (client, "DEVICE_DELETED", "device", "disk9", 100, NULL, &error);
  g_assert_null (event);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "DEVICE_DELETED (device=disk9)"));
  /* What arrived meanwhile is kept. */
  g_assert_cmpuint (hvk_qmp_client_get_n_events (client), ==, 1);

  hvk_qmp_client_close (client);
  fake_server_finish (server);
}

static void
test_bad_greeting (void)
{
  static const Step steps[] = {
    { STEP_SEND, "{\"return\": {}}\n", 0 },
    { STEP_DRAIN, NULL, 0 },
  };
  FakeServer *server = fake_server_new (steps, G_N_ELEMENTS (steps));
  g_autoptr(HvkQmpClient) client = hvk_qmp_client_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (hvk_qmp_client_connect (client, server->path, 1000, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_QMP);
  g_assert_nonnull (strstr (error->message, "greeting"));
  g_assert_false (hvk_qmp_client_is_connected (client));
  fake_server_finish (server);
}

static void
test_capabilities_refused (void)
{
  static const Step steps[] = {
    { STEP_SEND, GREETING, 0 },
    { STEP_EXPECT, "qmp_capabilities", 0 },
    { STEP_REPLY, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"no\"}}", 0 },
    { STEP_DRAIN, NULL, 0 },
  };
  FakeServer *server = fake_server_new (steps, G_N_ELEMENTS (steps));
  g_autoptr(HvkQmpClient) client = hvk_qmp_client_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (hvk_qmp_client_connect (client, server->path, 1000, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_QMP);
  g_assert_cmpstr (error->message, ==, "QMP command 'qmp_capabilities' failed: CommandNotFound: no");
  g_assert_false (hvk_qmp_client_is_connected (client));
  fake_server_finish (server);
}

static void
test_no_greeting (void)
{
  static const Step steps[] = {
    { STEP_DRAIN, NULL, 0 },
  };
  FakeServer *server = fake_server_new (steps, G_N_ELEMENTS (steps));
  g_autoptr(HvkQmpClient) client = hvk_qmp_client_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (hvk_qmp_client_connect (client, server->path, 100, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_TIMEOUT);
  g_assert_cmpstr (error->message, ==, "waiting for the QMP greeting timed out after 100 ms");
  hvk_qmp_client_close (client);
  fake_server_finish (server);
}

static void
test_open_errors (void)
{
  g_autoptr(HvkQmpClient) client = hvk_qmp_client_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hvk-qmp-XXXXXX", NULL);
  g_autofree char *missing = g_build_filename (dir, "none.sock", NULL);
  g_autofree char *longpath = g_strnfill (200, 'x');

  g_assert_false (hvk_qmp_client_open (client, missing, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  g_assert_false (hvk_qmp_client_open (client, longpath, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_null (hvk_qmp_client_execute (client, "query-status", NULL, 100, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_DISCONNECTED);

  g_rmdir (dir);
}

static gpointer
cancel_later (gpointer data)
{
  g_usleep (50 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_cancel (void)
{
  static const Step steps[] = {
    HANDSHAKE,
    { STEP_EXPECT, "query-status", 0 },
    { STEP_DRAIN, NULL, 0 },
  };
  FakeServer *server = fake_server_new (steps, G_N_ELEMENTS (steps));
  g_autoptr(HvkQmpClient) client = connect_client (server);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  GThread *thread = g_thread_new ("cancel", cancel_later, cancellable);
  JsonNode *ret;

  ret = hvk_qmp_client_execute (client, "query-status", NULL, 60000, cancellable, &error);
  g_assert_null (ret);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_thread_join (thread);

  hvk_qmp_client_close (client);
  fake_server_finish (server);
}

static gboolean
under_path (JsonObject *data,
            gpointer    user_data)
{
  const char *path = json_object_get_string_member_with_default (data, "path", "");

  return g_str_has_prefix (path, user_data);
}

/* A matcher chooses among events of the name: QEMU 7.2's DEVICE_DELETED
 * for an unplugged vCPU names only its lapic child's path; an event
 * without "data" is offered an empty object. */
static void
test_wait_event_match (void)
{
  static const Step steps[] = {
    HANDSHAKE,
    { STEP_SEND, "{\"event\": \"DEVICE_DELETED\"}\n"
                 "{\"event\": \"DEVICE_DELETED\", \"data\": {\"path\": \"/machine/peripheral/disk1/virtio-backend\"}}\n", 0 },
    { STEP_SLEEP, NULL, 50 },
    { STEP_SEND, "{\"event\": \"ACPI_DEVICE_OST\", \"data\": {\"info\": {\"device\": \"cpu-0-1-0\"}}}\n"
                 "{\"event\": \"DEVICE_DELETED\", \"data\": {\"path\": \"/machine/peripheral/cpu-0-1-0/lapic\"}}\n", 0 },
    { STEP_DRAIN, NULL, 0 },
  };
  FakeServer *server = fake_server_new (steps, G_N_ELEMENTS (steps));
  g_autoptr(HvkQmpClient) client = connect_client (server);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) event = NULL;
  g_autoptr(JsonObject) none = NULL;
  JsonObject *data;

  event = hvk_qmp_client_wait_event_match (client, "DEVICE_DELETED", under_path,
                                           (gpointer) "/machine/peripheral/cpu-0-1-0/",
                                           "cpu-0-1-0", 2000, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (event);
  data = json_object_get_object_member (event, "data");
  g_assert_cmpstr (json_object_get_string_member (data, "path"), ==, "/machine/peripheral/cpu-0-1-0/lapic");
  /* The others were queued: two DEVICE_DELETED and the OST. */
  g_assert_cmpuint (hvk_qmp_client_get_n_events (client), ==, 3);

  /* Nothing else matches: a timeout that names what was waited for. */
  none = hvk_qmp_client_wait_event_match (client, "DEVICE_DELETED", under_path,
                                          (gpointer) "/machine/peripheral/cpu-0-2-0/",
                                          "cpu-0-2-0", 100, NULL, &error);
  g_assert_null (none);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "cpu-0-2-0"));
  g_assert_cmpuint (hvk_qmp_client_get_n_events (client), ==, 3);

  hvk_qmp_client_close (client);
  fake_server_finish (server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hvk/qemu-qmp/handshake", test_handshake);
  g_test_add_func ("/hvk/qemu-qmp/execute-return", test_execute_return);
  g_test_add_func ("/hvk/qemu-qmp/execute-error", test_execute_error);
  g_test_add_func ("/hvk/qemu-qmp/events", test_events);
  g_test_add_func ("/hvk/qemu-qmp/wait-event-match", test_wait_event_match);
  g_test_add_func ("/hvk/qemu-qmp/event-queue-bound", test_event_queue_bound);
  g_test_add_func ("/hvk/qemu-qmp/partial-lines", test_partial_lines);
  g_test_add_func ("/hvk/qemu-qmp/garbage", test_garbage);
  g_test_add_func ("/hvk/qemu-qmp/line-limit", test_line_limit);
  g_test_add_func ("/hvk/qemu-qmp/line-limit-complete", test_line_limit_complete_line);
  g_test_add_func ("/hvk/qemu-qmp/close-mid-command", test_close_mid_command);
  g_test_add_func ("/hvk/qemu-qmp/timeout", test_timeout);
  g_test_add_func ("/hvk/qemu-qmp/wait-event-timeout", test_wait_event_timeout);
  g_test_add_func ("/hvk/qemu-qmp/bad-greeting", test_bad_greeting);
  g_test_add_func ("/hvk/qemu-qmp/capabilities-refused", test_capabilities_refused);
  g_test_add_func ("/hvk/qemu-qmp/no-greeting", test_no_greeting);
  g_test_add_func ("/hvk/qemu-qmp/open-errors", test_open_errors);
  g_test_add_func ("/hvk/qemu-qmp/cancel", test_cancel);

  return g_test_run ();
}
