/* SPDX-License-Identifier: Apache-2.0 */
/* File descriptors passed to the real QEMU with a QMP command: a
 * migration stream written to a file hvkit opened (getfd + migrate fd:),
 * and a disk QEMU cannot open by path (add-fd + /dev/fdset), both under
 * the strictest seccomp sandbox QEMU 7.2 offers. */
#include "config.h"

#include <hvkit/hvkit.h>
#include <glib/gstdio.h>
#include <string.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvk-qemu-qmp.h"

#define QEMU_PATH "/usr/bin/qemu-system-x86_64"
#define TIMEOUT_MS 20000

typedef struct {
  char *dir;
  char *socket;
  GPid pid;
  HvkQmpClient *qmp;
} Qemu;

static gboolean
qemu_start (Qemu *q)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *qmp_arg = NULL;
  gint64 deadline;

  if (!g_file_test (QEMU_PATH, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("no " QEMU_PATH);
      return FALSE;
    }
  q->dir = g_dir_make_tmp ("hvk-test-qmp-fd-XXXXXX", &error);
  g_assert_no_error (error);
  q->socket = g_build_filename (q->dir, "qmp.sock", NULL);
  qmp_arg = g_strdup_printf ("unix:%s,server=on,wait=off", q->socket);
  {
    const char *argv[] = {
      QEMU_PATH, "-machine", "q35,accel=tcg", "-m", "64", "-S", "-nodefaults",
      "-display", "none", "-no-user-config",
      "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
      "-qmp", qmp_arg, NULL
    };
    g_spawn_async (NULL, (char **) argv, NULL,
                   G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                   NULL, NULL, &q->pid, &error);
    g_assert_no_error (error);
  }
  q->qmp = hvk_qmp_client_new ();
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  for (;;)
    {
      g_autoptr(GError) local_error = NULL;

      if (hvk_qmp_client_connect (q->qmp, q->socket, TIMEOUT_MS, NULL, &local_error))
        break;
      g_assert_true (g_error_matches (local_error, HVK_ERROR, HVK_ERROR_NOT_FOUND));
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (10000);
    }
  return TRUE;
}

static void
qemu_stop (Qemu *q)
{
  if (q->pid > 0)
    {
      kill (q->pid, SIGKILL);
      waitpid (q->pid, NULL, 0);
    }
  g_clear_object (&q->qmp);
  if (q->socket != NULL)
    g_unlink (q->socket);
  if (q->dir != NULL)
    g_rmdir (q->dir);
  g_clear_pointer (&q->socket, g_free);
  g_clear_pointer (&q->dir, g_free);
}

/* QEMU is still there (the sandbox did not kill it). */
static void
assert_alive (Qemu *q)
{
  g_assert_cmpint (waitpid (q->pid, NULL, WNOHANG), ==, 0);
}

static void
test_migrate_to_fd (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) getfd = json_object_new ();
  g_autoptr(JsonObject) migrate = json_object_new ();
  g_autoptr(JsonNode) ret = NULL;
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  const char *status = NULL;
  gint64 deadline;
  Qemu q = { 0 };
  int fd;

  if (!qemu_start (&q))
    return;
  path = g_build_filename (q.dir, "state", NULL);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);

  /* Without a descriptor, QEMU refuses getfd: the fd really travels. */
  json_object_set_string_member (getfd, "fdname", "migration");
  ret = hvk_qmp_client_execute (q.qmp, "getfd", getfd, TIMEOUT_MS, NULL, &error);
  g_assert_null (ret);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_QMP);
  g_clear_error (&error);

  ret = hvk_qmp_client_execute_with_fd (q.qmp, "getfd", getfd, fd, TIMEOUT_MS, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&ret, json_node_unref);
  close (fd);

  json_object_set_string_member (migrate, "uri", "fd:migration");
  ret = hvk_qmp_client_execute (q.qmp, "migrate", migrate, TIMEOUT_MS, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&ret, json_node_unref);

  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline)
    {
      ret = hvk_qmp_client_execute (q.qmp, "query-migrate", NULL, TIMEOUT_MS, NULL, &error);
      g_assert_no_error (error);
      status = json_object_get_string_member_with_default (json_node_get_object (ret), "status", "");
      if (g_str_equal (status, "completed") || g_str_equal (status, "failed"))
        break;
      g_clear_pointer (&ret, json_node_unref);
      g_usleep (20000);
    }
  g_assert_cmpstr (status, ==, "completed");
  g_clear_pointer (&ret, json_node_unref);
  assert_alive (&q);

  /* QEMU's migration stream: "QEVM", version 3. */
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_assert_cmpuint (length, >, 1024);
  g_assert_cmpmem (contents, 8, "QEVM\0\0\0\3", 8);
  g_unlink (path);
  qemu_stop (&q);
}

static void
test_disk_by_fdset (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) add_fd = json_object_new ();
  g_autoptr(JsonNode) ret = NULL;
  g_autoptr(JsonNode) args_node = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *path = NULL;
  g_autofree char *nodes = NULL;
  Qemu q = { 0 };
  int fd;

  if (!qemu_start (&q))
    return;
  path = g_build_filename (q.dir, "disk.img", NULL);
  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, 1024 * 1024), ==, 0);

  json_object_set_int_member (add_fd, "fdset-id", 7);
  ret = hvk_qmp_client_execute_with_fd (q.qmp, "add-fd", add_fd, fd, TIMEOUT_MS, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&ret, json_node_unref);
  close (fd);
  /* QEMU could not open the file by name any more. */
  g_unlink (path);

  json_parser_load_from_data (parser,
    "{\"node-name\": \"d0\", \"driver\": \"raw\","
    " \"file\": {\"driver\": \"file\", \"filename\": \"/dev/fdset/7\"}}", -1, &error);
  g_assert_no_error (error);
  ret = hvk_qmp_client_execute (q.qmp, "blockdev-add",
                                json_node_get_object (json_parser_get_root (parser)),
                                TIMEOUT_MS, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&ret, json_node_unref);

  ret = hvk_qmp_client_execute (q.qmp, "query-named-block-nodes", NULL, TIMEOUT_MS, NULL, &error);
  g_assert_no_error (error);
  nodes = json_to_string (ret, FALSE);
  g_assert_nonnull (strstr (nodes, "\"node-name\":\"d0\""));
  g_assert_nonnull (strstr (nodes, "/dev/fdset/7"));
  assert_alive (&q);
  qemu_stop (&q);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  signal (SIGPIPE, SIG_IGN);
  g_test_add_func ("/hvk/qemu/qmp-fd/migrate-to-fd", test_migrate_to_fd);
  g_test_add_func ("/hvk/qemu/qmp-fd/disk-by-fdset", test_disk_by_fdset);
  return g_test_run ();
}
