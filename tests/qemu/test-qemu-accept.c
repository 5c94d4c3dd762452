/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qemu-test-common.h"

/*
 * Every golden argv must be accepted by the real QEMU: each NAME.args is
 * launched paused (-S) under TCG, its QMP socket answers
 * qmp_capabilities and query-status, then `quit`.  Adaptations, so that
 * only host resources are replaced, never an appender's output:
 *   - argv[0] is the qemu-system-x86_64 on PATH (argv[1] under a jailer,
 *     jailer.args: the jailer stays in front when this host has it);
 *   - -kernel/-initrd/-append are dropped: the guest never runs (-S) and
 *     the kernel is a placeholder here (the e2e tests boot a real one);
 *   - the fixed VM store /run/hvkit-test becomes a temporary directory,
 *     @DATADIR@ the test's data directory;
 *   - accel=kvm becomes accel=tcg and -cpu host -cpu max (machine-kvm);
 *   - /dev/hugepages becomes the data directory (no hugetlbfs here);
 *   - host-nodes=LIST (guest NUMA bound to a described host's nodes)
 *     becomes host-nodes=0, the one node this host surely has.
 * The *virtio-fs goldens get a real virtiofsd (QEMU's, as root, sandbox=chroot)
 * on its socket, else it is skipped.  The goldens in not_launchable[] need
 * host resources a test cannot fake; they are skipped with the reason.  QEMU gets a bound for every
 * step and is killed if it overstays.
 */

#define STEP_TIMEOUT_MS 20000
#define VIRTIOFSD "/usr/lib/qemu/virtiofsd"

static const struct {
  const char *name;
  const char *reason;
} not_launchable[] = {
  { "net-tap", "creating tap0 needs CAP_NET_ADMIN and /dev/net/tun" },
  { "net-tap-fds", "its fds are placeholders (stdin), not tap and vhost-net descriptors" },
  { "net-macvtap", "its fd is a placeholder, not a /dev/tapN macvtap" },
  { "block-rootless", "its -add-fd descriptors are hvkit's (tests/e2e/test-e2e-rootless.c boots it)" },
  { "net-vhost-user", "needs a vhost-user-net back end serving the socket" },
  { "vfio", "needs a host PCI device bound to vfio-pci" },
};

static char *data_dir;
static char *qemu_binary;

static const char *
skip_reason (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (not_launchable); i++)
    if (g_str_equal (not_launchable[i].name, name))
      return not_launchable[i].reason;
  if (g_str_equal (name, "vsock") && access ("/dev/vhost-vsock", R_OK | W_OK) != 0)
    return "/dev/vhost-vsock is not available";
  if (g_str_has_suffix (name, "virtio-fs") &&
      (geteuid () != 0 || !g_file_test (VIRTIOFSD, G_FILE_TEST_IS_EXECUTABLE)))
    return "virtiofsd needs root and " VIRTIOFSD;
  return NULL;
}

/* tmpfs refuses O_DIRECT, which cache.direct=on asks for. */
static gboolean
data_dir_supports_direct_io (void)
{
  g_autofree char *path = g_build_filename (data_dir, "disk.img", NULL);
  int fd = open (path, O_RDONLY | O_DIRECT | O_CLOEXEC);

  if (fd < 0)
    return FALSE;
  close (fd);
  return TRUE;
}

static GPtrArray *
adapt_argv (const char *args_text,
            const char *run_dir)
{
  g_auto(GStrv) lines = g_strsplit (args_text, "\n", -1);
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  guint first = 1;

  /* JAILER QEMU ARGS… (jailer_path): the jailer execs the rest. */
  if (lines[0] != NULL && lines[1] != NULL && strstr (lines[1], "/qemu-system-") != NULL)
    {
      if (g_file_test (lines[0], G_FILE_TEST_IS_EXECUTABLE))
        g_ptr_array_add (argv, g_strdup (lines[0]));
      first = 2;
    }
  g_ptr_array_add (argv, g_strdup (qemu_binary));
  for (guint i = first; lines[i] != NULL; i++)
    {
      g_autofree char *a = NULL;
      g_autofree char *b = NULL;

      if (*lines[i] == '\0' && lines[i + 1] == NULL)
        break;
      if (g_str_equal (lines[i], "-kernel") || g_str_equal (lines[i], "-initrd") ||
          g_str_equal (lines[i], "-append"))
        {
          if (lines[i + 1] != NULL)
            i++;
          continue;
        }
      a = qemu_test_replace (lines[i], QEMU_TEST_DATADIR_TOKEN, data_dir);
      b = qemu_test_replace (a, QEMU_TEST_STORE, run_dir);
      g_free (a);
      a = qemu_test_replace (b, "mem-path=/dev/hugepages", "mem-path=");
      if (strstr (b, "mem-path=/dev/hugepages") != NULL)
        {
          g_free (a);
          a = qemu_test_replace (b, "/dev/hugepages", data_dir);
        }
      g_free (b);
      b = qemu_test_replace (a, "accel=kvm", "accel=tcg");
      {
        const char *h = strstr (b, "host-nodes=");

        if (h != NULL)
          {
            const char *end = strchr (h, ',');
            g_autofree char *head = g_strndup (b, h - b);
            char *c = g_strconcat (head, "host-nodes=0", end != NULL ? end : "", NULL);

            g_free (b);
            b = c;
          }
      }
      if (i > 0 && g_str_equal (g_ptr_array_index (argv, argv->len - 1), "-cpu") &&
          (g_str_equal (b, "host") || g_str_has_prefix (b, "host,")))
        {
          g_autofree char *c = g_strconcat ("max", b + strlen ("host"), NULL);

          g_free (b);
          b = g_steal_pointer (&c);
        }
      g_ptr_array_add (argv, g_steal_pointer (&b));
    }
  g_ptr_array_add (argv, g_strdup ("-S"));
  g_ptr_array_add (argv, NULL);
  return argv;
}

static char *
read_all (int fd)
{
  GString *out = g_string_new (NULL);
  char buf[4096];
  ssize_t n;

  while ((n = read (fd, buf, sizeof buf)) > 0)
    g_string_append_len (out, buf, n);
  return g_string_free (out, FALSE);
}

/* Waits for @pid for up to @timeout_ms; FALSE if it is still running. */
static gboolean
wait_exit (GPid  pid,
           int   timeout_ms,
           int  *status)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (TRUE)
    {
      pid_t r = waitpid (pid, status, WNOHANG);

      if (r == pid)
        return TRUE;
      if (r < 0 && errno != EINTR)
        return TRUE;
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_usleep (20 * 1000);
    }
}

static void
kill_and_reap (GPid pid)
{
  int status;

  kill (pid, SIGKILL);
  wait_exit (pid, STEP_TIMEOUT_MS, &status);
}

typedef struct {
  int      fd;
  GString *buffer;
} QmpConn;

/* Reads one JSON line within the bound; NULL on EOF or timeout. */
static JsonNode *
qmp_read (QmpConn *conn)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) STEP_TIMEOUT_MS * 1000;

  while (TRUE)
    {
      char *nl = memchr (conn->buffer->str, '\n', conn->buffer->len);
      struct pollfd pfd = { conn->fd, POLLIN, 0 };
      char buf[4096];
      ssize_t n;
      int left;

      if (nl != NULL)
        {
          g_autofree char *line = g_strndup (conn->buffer->str, nl - conn->buffer->str);
          g_autoptr(GError) error = NULL;
          JsonNode *node;

          g_string_erase (conn->buffer, 0, nl - conn->buffer->str + 1);
          node = json_from_string (line, &error);
          g_assert_no_error (error);
          return node;
        }
      left = (int) ((deadline - g_get_monotonic_time ()) / 1000);
      if (left <= 0 || poll (&pfd, 1, left) <= 0)
        return NULL;
      n = read (conn->fd, buf, sizeof buf);
      if (n <= 0)
        return NULL;
      g_string_append_len (conn->buffer, buf, n);
    }
}

/* Sends @command and returns its "return" member, skipping events. */
static JsonNode *
qmp_execute (QmpConn    *conn,
             const char *command)
{
  g_autofree char *line = g_strdup_printf ("{\"execute\": \"%s\"}\n", command);

  g_assert_cmpint (write (conn->fd, line, strlen (line)), ==, (gssize) strlen (line));
  while (TRUE)
    {
      g_autoptr(JsonNode) node = qmp_read (conn);
      JsonObject *object;

      if (node == NULL)
        return NULL;
      g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
      object = json_node_get_object (node);
      if (json_object_has_member (object, "event"))
        continue;
      if (json_object_has_member (object, "error"))
        {
          g_autofree char *text = json_to_string (node, FALSE);

          g_test_message ("%s: %s", command, text);
          return NULL;
        }
      g_assert_true (json_object_has_member (object, "return"));
      return json_node_copy (json_object_get_member (object, "return"));
    }
}

static int
connect_qmp (const char *path,
             GPid        pid,
             int        *exit_status,
             gboolean   *exited)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) STEP_TIMEOUT_MS * 1000;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };

  g_assert_cmpuint (strlen (path), <, sizeof addr.sun_path);
  strcpy (addr.sun_path, path);
  *exited = FALSE;
  while (g_get_monotonic_time () < deadline)
    {
      int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

      g_assert_cmpint (fd, >=, 0);
      if (connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0)
        return fd;
      close (fd);
      if (waitpid (pid, exit_status, WNOHANG) == pid)
        {
          *exited = TRUE;
          return -1;
        }
      g_usleep (20 * 1000);
    }
  return -1;
}

/* virtiofsd exits when QEMU goes; make sure of it. */
static void
stop_daemon (GPid pid)
{
  int status;

  if (pid <= 0)
    return;
  if (!wait_exit (pid, 2000, &status))
    kill_and_reap (pid);
}

static void
test_accept (gconstpointer user_data)
{
  const char *name = user_data;
  const char *reason = skip_reason (name);
  g_autofree char *golden_dir = qemu_test_golden_dir ();
  g_autofree char *args_path = g_strdup_printf ("%s/%s.args", golden_dir, name);
  g_autofree char *args_text = NULL;
  g_autofree char *run_dir = NULL;
  g_autofree char *vm_dir = NULL;
  g_autofree char *qmp_path = NULL;
  g_autofree char *stderr_text = NULL;
  g_autoptr(GPtrArray) argv = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) caps = NULL;
  g_autoptr(JsonNode) status = NULL;
  g_autoptr(JsonNode) quit = NULL;
  QmpConn conn = { -1, NULL };
  GPid pid;
  GPid daemon_pid = 0;
  int err_fd = -1;
  int exit_status = 0;
  gboolean exited;
  const char *state;

  if (reason != NULL)
    {
      g_test_skip (reason);
      return;
    }
  if (!g_file_get_contents (args_path, &args_text, NULL, &error))
    {
      g_test_skip ("no .args file: run the golden test first");
      return;
    }
  if (strstr (args_text, "cache.direct=on") != NULL && !data_dir_supports_direct_io ())
    {
      g_test_skip ("the temporary directory's file system refuses O_DIRECT (cache.direct=on)");
      return;
    }

  run_dir = g_dir_make_tmp ("hvkit-run-XXXXXX", &error);
  g_assert_no_error (error);
  vm_dir = g_build_filename (run_dir, QEMU_TEST_ID, NULL);
  g_assert_cmpint (g_mkdir (vm_dir, 0700), ==, 0);
  qmp_path = g_build_filename (vm_dir, "qmp.sock", NULL);

  if (g_str_has_suffix (name, "virtio-fs"))
    {
      g_autofree char *socket = g_build_filename (vm_dir, "vhost-fs.sock", NULL);
      g_autofree char *socket_arg = g_strdup_printf ("--socket-path=%s", socket);
      g_autofree char *source_arg = g_strdup_printf ("source=%s/share", data_dir);
      const char *daemon_argv[] = { VIRTIOFSD, socket_arg, "-o", source_arg, "-o", "sandbox=chroot",
                                    "-o", "cache=none", NULL };
      gint64 deadline = g_get_monotonic_time () + (gint64) STEP_TIMEOUT_MS * 1000;

      g_assert_true (g_spawn_async (NULL, (char **) daemon_argv, NULL,
                                    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL |
                                    G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                    NULL, NULL, &daemon_pid, &error));
      g_assert_no_error (error);
      while (!g_file_test (socket, G_FILE_TEST_EXISTS) && g_get_monotonic_time () < deadline)
        g_usleep (20 * 1000);
    }

  argv = adapt_argv (args_text, run_dir);
  {
    g_autofree char *joined = g_strjoinv (" ", (char **) argv->pdata);

    g_test_message ("%s", joined);
  }
  g_assert_true (g_spawn_async_with_pipes (NULL, (char **) argv->pdata, NULL,
                                           G_SPAWN_DO_NOT_REAP_CHILD |
                                           G_SPAWN_STDIN_FROM_DEV_NULL |
                                           G_SPAWN_STDOUT_TO_DEV_NULL,
                                           NULL, NULL, &pid, NULL, NULL, &err_fd, &error));
  g_assert_no_error (error);

  conn.fd = connect_qmp (qmp_path, pid, &exit_status, &exited);
  if (conn.fd < 0)
    {
      if (!exited)
        kill_and_reap (pid);
      stderr_text = read_all (err_fd);
      close (err_fd);
      g_test_message ("QEMU %s: %s", exited ? "exited" : "did not open its QMP socket",
                      stderr_text);
      stop_daemon (daemon_pid);
      qemu_test_remove_dir (run_dir);
      g_test_fail ();
      return;
    }
  conn.buffer = g_string_new (NULL);

  {
    g_autoptr(JsonNode) greeting = qmp_read (&conn);

    if (greeting != NULL && json_object_has_member (json_node_get_object (greeting), "QMP"))
      caps = qmp_execute (&conn, "qmp_capabilities");
    if (caps != NULL)
      status = qmp_execute (&conn, "query-status");
  }
  if (status == NULL)
    {
      kill_and_reap (pid);
      close (conn.fd);
      g_string_free (conn.buffer, TRUE);
      stderr_text = read_all (err_fd);
      close (err_fd);
      g_test_message ("QMP did not answer (%s): %s", caps == NULL ? "qmp_capabilities" : "query-status",
                      stderr_text);
      stop_daemon (daemon_pid);
      qemu_test_remove_dir (run_dir);
      g_test_fail ();
      return;
    }
  state = json_object_get_string_member (json_node_get_object (status), "status");
  g_test_message ("%s: query-status: %s", name, state);
  /* Paused before the guest runs; a template clone waits for its state. */
  g_assert_true (g_str_equal (state, "prelaunch") || g_str_equal (state, "inmigrate"));
  g_assert_false (json_object_get_boolean_member (json_node_get_object (status), "running"));
  quit = qmp_execute (&conn, "quit");

  if (!wait_exit (pid, STEP_TIMEOUT_MS, &exit_status))
    {
      kill_and_reap (pid);
      g_test_message ("QEMU did not quit within %d ms", STEP_TIMEOUT_MS);
      g_test_fail ();
    }
  close (conn.fd);
  g_string_free (conn.buffer, TRUE);
  stderr_text = read_all (err_fd);
  close (err_fd);
  if (*stderr_text != '\0')
    g_test_message ("QEMU stderr: %s", stderr_text);
  stop_daemon (daemon_pid);
  qemu_test_remove_dir (run_dir);
}

int
main (int    argc,
      char **argv)
{
  g_auto(GStrv) names = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  signal (SIGPIPE, SIG_IGN);
  qemu_binary = g_find_program_in_path ("qemu-system-x86_64");
  data_dir = qemu_test_make_data_dir ();

  names = qemu_test_list_goldens ();
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *path = g_strdup_printf ("/hvk/qemu/accept/%s", names[i]);

      if (qemu_binary == NULL)
        g_test_add_data_func (path, NULL, (GTestDataFunc) g_test_skip);
      else
        g_test_add_data_func (path, names[i], test_accept);
    }

  ret = g_test_run ();

  qemu_test_remove_dir (data_dir);
  g_free (data_dir);
  g_free (qemu_binary);
  return ret;
}
