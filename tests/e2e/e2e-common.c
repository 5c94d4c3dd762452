/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "e2e-common.h"
#include "hvk-test-fs.h"

/* ---- environment ---- */

void
e2e_env_init (E2eEnv *env)
{
  const char *guest = g_getenv ("HVKIT_TEST_GUEST_DIR");
  const char *qemu = g_getenv ("HVKIT_TEST_QEMU");
  g_autoptr(GError) error = NULL;

  memset (env, 0, sizeof *env);
  env->guest_dir = g_strdup (guest != NULL && *guest != '\0' ? guest : E2E_DEFAULT_GUEST_DIR);
  env->kernel = g_build_filename (env->guest_dir, "vmlinuz", NULL);
  env->initrd = g_build_filename (env->guest_dir, "initrd.img", NULL);
  env->qemu = g_strdup (qemu != NULL && *qemu != '\0' ? qemu : "/usr/bin/qemu-system-x86_64");

  if (!g_file_test (env->qemu, G_FILE_TEST_IS_EXECUTABLE))
    env->skip_reason = g_strdup_printf ("QEMU %s is not installed (set HVKIT_TEST_QEMU)", env->qemu);
  else if (!g_file_test (env->kernel, G_FILE_TEST_IS_REGULAR)
           || !g_file_test (env->initrd, G_FILE_TEST_IS_REGULAR))
    env->skip_reason = g_strdup_printf ("no test guest in %s: run tests/guest/build-guest.sh %s "
                                        "and set HVKIT_TEST_GUEST_DIR", env->guest_dir,
                                        env->guest_dir);

  /* /tmp, not the build dir: socket paths must stay under 108 bytes. */
  env->tmpdir = g_dir_make_tmp ("hvk-e2e-XXXXXX", &error);
  g_assert_no_error (error);
  env->store = g_build_filename (env->tmpdir, "state", NULL);
}


void
e2e_env_clear (E2eEnv *env)
{
  if (env->tmpdir != NULL)
    hvk_test_remove_tree (env->tmpdir);
  g_free (env->tmpdir);
  g_free (env->store);
  g_free (env->guest_dir);
  g_free (env->kernel);
  g_free (env->initrd);
  g_free (env->qemu);
  g_free (env->skip_reason);
  memset (env, 0, sizeof *env);
}

gboolean
e2e_env_skip (E2eEnv *env)
{
  if (env->skip_reason == NULL)
    return FALSE;
  g_test_skip (env->skip_reason);
  return TRUE;
}

/* ---- configs ---- */

static const char * const default_keys[][2] = {
  { "path", NULL },   /* env->qemu */
  { "kernel", NULL }, /* env->kernel */
  { "initrd", NULL }, /* env->initrd */
  { "machine_type", "q35" },
  /* KVM exists here but guests hang under it: TCG, as Kata's
   * machine_accelerators allows. */
  { "machine_accelerators", "accel=tcg" },
  { "default_vcpus", "1" },
  { "default_maxvcpus", "2" },
  { "default_memory", "256" },
  { "default_maxmemory", "1024" },
  { "memory_slots", "4" },
  { "default_bridges", "1" },
  { "block_device_driver", "virtio-blk" },
  /* vhost-net where the host has /dev/vhost-net; cold-plugged and
   * hot-plugged interfaces both honour it. */
  { "disable_vhost_net", NULL },
};

char *
e2e_write_config (E2eEnv     *env,
                  const char *name,
                  const char *overrides,
                  const char *extra)
{
  g_autoptr(GString) text = g_string_new ("[hypervisor]\nbackend=qemu\n\n[hypervisor.qemu]\n");
  g_auto(GStrv) lines = g_strsplit (overrides ? overrides : "", "\n", -1);
  g_autofree char *file = g_strdup_printf ("%s.conf", name);
  char *path = g_build_filename (env->tmpdir, file, NULL);
  g_autoptr(GError) error = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (default_keys); i++)
    {
      const char *key = default_keys[i][0];
      const char *value = default_keys[i][1];
      g_autofree char *prefix = g_strdup_printf ("%s=", key);
      gboolean overridden = FALSE;

      for (gsize j = 0; lines[j] != NULL; j++)
        overridden |= g_str_has_prefix (lines[j], prefix);
      if (overridden)
        continue;
      if (g_str_equal (key, "path"))
        value = env->qemu;
      else if (g_str_equal (key, "kernel"))
        value = env->kernel;
      else if (g_str_equal (key, "initrd"))
        value = env->initrd;
      else if (g_str_equal (key, "disable_vhost_net"))
        value = g_access ("/dev/vhost-net", R_OK | W_OK) == 0 ? "false" : "true";
      g_string_append_printf (text, "%s=%s\n", key, value);
    }
  for (gsize j = 0; lines[j] != NULL; j++)
    if (*lines[j] != '\0')
      g_string_append_printf (text, "%s\n", lines[j]);
  if (extra != NULL)
    g_string_append_printf (text, "\n%s\n", extra);

  g_file_set_contents (path, text->str, -1, &error);
  g_assert_no_error (error);
  return path;
}

HvkRegistry *
e2e_registry_new (void)
{
  HvkRegistry *registry = hvk_registry_new ();

  hvk_registry_scan (registry);
  g_assert_nonnull (hvk_registry_lookup_backend (registry, "qemu"));
  return registry;
}

/* ---- console ---- */

struct _E2eConsole {
  int      fd;
  GString *text;
  gsize    from;    /* e2e_console_forget() point */
};

E2eConsole *
e2e_console_open (const char *path,
                  guint       timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };

  g_assert_cmpuint (strlen (path), <, sizeof addr.sun_path);
  strcpy (addr.sun_path, path);
  for (;;)
    {
      int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

      g_assert_cmpint (fd, >=, 0);
      if (connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0)
        {
          E2eConsole *console = g_new0 (E2eConsole, 1);
          console->fd = fd;
          console->text = g_string_new (NULL);
          return console;
        }
      close (fd);
      if (g_get_monotonic_time () >= deadline)
        return NULL;
      g_usleep (10 * 1000);
    }
}

static void
console_read (E2eConsole *console,
              int         timeout_ms)
{
  struct pollfd pfd = { .fd = console->fd, .events = POLLIN };
  char buf[4096];
  ssize_t n;

  if (console->fd < 0 || poll (&pfd, 1, timeout_ms) <= 0)
    return;
  n = recv (console->fd, buf, sizeof buf, 0);
  if (n > 0)
    g_string_append_len (console->text, buf, n);
  else if (n == 0)
    {
      close (console->fd);
      console->fd = -1;
    }
}

gboolean
e2e_console_wait (E2eConsole *console,
                  const char *needle,
                  guint       timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;

      if (strstr (console->text->str + console->from, needle) != NULL)
        return TRUE;
      if (left <= 0 || console->fd < 0)
        return FALSE;
      console_read (console, (int) MIN (left, 200));
    }
}

static guint
console_count (E2eConsole *console,
               const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (console->text->str + console->from, needle); p != NULL;
       p = strstr (p + strlen (needle), needle))
    n++;
  return n;
}

gboolean
e2e_console_wait_count (E2eConsole *console,
                        const char *needle,
                        guint       count,
                        guint       timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;

      if (console_count (console, needle) >= count)
        return TRUE;
      if (left <= 0 || console->fd < 0)
        return FALSE;
      console_read (console, (int) MIN (left, 200));
    }
}

void
e2e_console_require_current_guest (E2eConsole *console,
                                   E2eEnv     *env)
{
  if (!e2e_console_wait (console, "HVKIT-MEMTOTAL ", 20000)
      || !e2e_console_wait (console, "HVKIT-CPUS ", 1000))
    g_error ("the test guest in %s prints no HVKIT-MEMTOTAL/HVKIT-CPUS lines: it is older "
             "than tests/guest/build-guest.sh; rebuild it (tests/guest/README.md).  "
             "Console said:\n%s", env->guest_dir, e2e_console_text (console));
}

char *
e2e_console_find_last_line (E2eConsole *console,
                            const char *prefix)
{
  const char *last = NULL;
  const char *end;

  for (const char *p = strstr (console->text->str + console->from, prefix); p != NULL;
       p = strstr (p + 1, prefix))
    last = p;
  if (last == NULL)
    return NULL;
  end = last + strcspn (last, "\r\n");
  return g_strndup (last, end - last);
}

char *
e2e_console_find_line (E2eConsole *console,
                       const char *prefix)
{
  const char *p = strstr (console->text->str + console->from, prefix);
  const char *end;

  if (p == NULL)
    return NULL;
  end = p + strcspn (p, "\r\n");
  return g_strndup (p, end - p);
}

void
e2e_console_forget (E2eConsole *console)
{
  console->from = console->text->len;
}

const char *
e2e_console_text (E2eConsole *console)
{
  return console->text->str;
}

void
e2e_console_free (E2eConsole *console)
{
  if (console->fd >= 0)
    close (console->fd);
  g_string_free (console->text, TRUE);
  g_free (console);
}

/* ---- QMP, independent of the plugin's client ---- */

static gboolean
qmp_send (int         fd,
          const char *text)
{
  gsize len = strlen (text);

  while (len > 0)
    {
      ssize_t n = send (fd, text, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      text += n;
      len -= n;
    }
  return TRUE;
}

/* Reads messages until one that is not an event. */
static JsonObject *
qmp_read_reply (int      fd,
                GString *pending,
                gint64   deadline)
{
  for (;;)
    {
      char *nl = memchr (pending->str, '\n', pending->len);
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      char buf[65536];
      ssize_t n;

      if (nl != NULL)
        {
          g_autofree char *line = g_strndup (pending->str, nl - pending->str);
          g_autoptr(JsonParser) parser = json_parser_new ();
          JsonObject *object;

          g_string_erase (pending, 0, nl - pending->str + 1);
          if (!json_parser_load_from_data (parser, line, -1, NULL)
              || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
            continue;
          object = json_node_get_object (json_parser_get_root (parser));
          if (json_object_has_member (object, "event"))
            continue;
          return json_object_ref (object);
        }
      if (left <= 0 || poll (&pfd, 1, (int) left) <= 0)
        return NULL;
      n = recv (fd, buf, sizeof buf, 0);
      if (n <= 0)
        return NULL;
      g_string_append_len (pending, buf, n);
    }
}

JsonNode *
e2e_qmp_query (const char  *qmp_socket,
               const char  *command,
               GError     **error)
{
  return e2e_qmp_execute (qmp_socket, command, NULL, error);
}

JsonNode *
e2e_qmp_execute (const char  *qmp_socket,
                 const char  *command,
                 JsonObject  *arguments,
                 GError     **error)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  g_autoptr(GString) pending = g_string_new (NULL);
  g_autoptr(JsonObject) greeting = NULL;
  g_autoptr(JsonObject) caps = NULL;
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(JsonObject) message = json_object_new ();
  g_autoptr(JsonNode) message_node = NULL;
  g_autofree char *text = NULL;
  g_autofree char *request = NULL;
  JsonNode *ret;
  int fd;

  /* A command name (with @arguments), or a whole request
   * ({"execute": …, "arguments": …}). */
  if (command[0] == '{')
    request = g_strdup_printf ("%s\n", command);
  else
    {
      json_object_set_string_member (message, "execute", command);
      if (arguments != NULL)
        json_object_set_object_member (message, "arguments", json_object_ref (arguments));
      message_node = json_node_init_object (json_node_alloc (), message);
      text = json_to_string (message_node, FALSE);
      request = g_strconcat (text, "\n", NULL);
    }

  strcpy (addr.sun_path, qmp_socket);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) != 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "connect %s: %s", qmp_socket, g_strerror (errno));
      close (fd);
      return NULL;
    }
  /* QEMU serves one monitor client at a time: the greeting only comes
   * when nobody else holds the socket. */
  if ((greeting = qmp_read_reply (fd, pending, deadline)) == NULL
      || !qmp_send (fd, "{\"execute\": \"qmp_capabilities\"}\n")
      || (caps = qmp_read_reply (fd, pending, deadline)) == NULL
      || !qmp_send (fd, request)
      || (reply = qmp_read_reply (fd, pending, deadline)) == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "QMP %s on %s: no answer", command, qmp_socket);
      close (fd);
      return NULL;
    }
  close (fd);
  ret = json_object_get_member (reply, "return");
  if (ret == NULL)
    {
      g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), reply);
      g_autofree char *text = json_to_string (node, FALSE);
      g_set_error (error, HVK_ERROR, HVK_ERROR_QMP, "QMP %s: %s", command, text);
      return NULL;
    }
  return json_node_copy (ret);
}

char *
e2e_qmp_status (const char *qmp_socket)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) ret = e2e_qmp_query (qmp_socket, "query-status", &error);

  g_assert_no_error (error);
  return g_strdup (json_object_get_string_member (json_node_get_object (ret), "status"));
}

/* ---- processes ---- */

/* The core's liveness (tested on its own in tests/core/test-process.c):
 * a dead orphan stays a zombie until PID 1 reaps it, so not kill(pid, 0). */
char *
e2e_install_jailer (E2eEnv     *env,
                    const char *name)
{
  const char *source = g_getenv ("HVKIT_TEST_JAILER");
  g_autofree char *script = NULL;
  g_autofree char *path = NULL;
  g_autofree char *log = NULL;
  g_autoptr(GError) error = NULL;

  if (source == NULL || !g_file_get_contents (source, &script, NULL, NULL))
    {
      g_test_skip ("no test jailer (HVKIT_TEST_JAILER)");
      return NULL;
    }
  path = g_build_filename (env->tmpdir, name, NULL);
  log = g_strconcat (path, ".log", NULL);
  g_unlink (path);
  g_assert_true (g_file_set_contents (path, script, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);
  g_assert_true (g_file_set_contents (log, "", 0, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (log, 0600), ==, 0);
  return g_steal_pointer (&path);
}

char *
e2e_jailer_record (const char *jailer,
                   const char *key)
{
  g_autofree char *log = g_strconcat (jailer, ".log", NULL);
  g_autofree char *text = NULL;
  g_autofree char *prefix = g_strconcat (key, "=", NULL);
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (log, &text, NULL, NULL))
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      /* "uid=U gid=G pid=P": a key may be any word of a line. */
      g_auto(GStrv) words = g_str_has_prefix (lines[i], "argv=")
                            ? g_strsplit (lines[i], "\n", 1) : g_strsplit (lines[i], " ", -1);

      for (guint j = 0; words[j] != NULL; j++)
        if (g_str_has_prefix (words[j], prefix))
          return g_strdup (words[j] + strlen (prefix));
    }
  return NULL;
}

gboolean
e2e_pid_alive (int pid)
{
  return hvk_process_is_alive (pid, 0);
}

gboolean
e2e_wait_pid_dead (int   pid,
                   guint timeout_ms)
{
  return hvk_process_wait_dead (pid, 0, g_get_monotonic_time () + (gint64) timeout_ms * 1000);
}

int
e2e_read_pid_file (const char *path)
{
  int pid = 0;

  return hvk_process_read_pid_file (path, &pid, NULL) ? pid : 0;
}

guint
e2e_count_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* Processes to kill if the test program dies (a failed assertion aborts
 * before any cleanup code runs): a daemonized QEMU would outlive it. */
#define MAX_TRACKED 64
static volatile sig_atomic_t tracked_pids[MAX_TRACKED];

/* Only what still is QEMU or virtiofsd: a pid may have been reused.
 * open/read/close are async-signal-safe. */
static int
is_vmm (int pid)
{
  char path[64] = "/proc/";
  char comm[32] = { 0 };
  char digits[16];
  int n = 0, len = 6, fd;

  do
    digits[n++] = '0' + pid % 10;
  while ((pid /= 10) > 0);
  while (n > 0)
    path[len++] = digits[--n];
  memcpy (path + len, "/comm", 6);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  n = read (fd, comm, sizeof comm - 1);
  close (fd);
  return n > 0 && (strncmp (comm, "qemu", 4) == 0 || strncmp (comm, "virtiofsd", 9) == 0);
}

static void
kill_tracked (int signum)
{
  for (int i = 0; i < MAX_TRACKED; i++)
    if (tracked_pids[i] > 0 && is_vmm (tracked_pids[i]))
      kill (tracked_pids[i], SIGKILL);
  signal (signum, SIG_DFL);
  raise (signum);
}

void
e2e_track_pid (int pid)
{
  static gboolean installed;

  if (!installed)
    {
      signal (SIGABRT, kill_tracked);
      signal (SIGTRAP, kill_tracked);
      signal (SIGTERM, kill_tracked);
      signal (SIGSEGV, kill_tracked);
      installed = TRUE;
    }
  for (int i = 0; i < MAX_TRACKED; i++)
    if (tracked_pids[i] == 0 || tracked_pids[i] == pid)
      {
        tracked_pids[i] = pid;
        return;
      }
}

void
e2e_track_hypervisor (HvkHypervisor *hypervisor)
{
  g_autoptr(GArray) pids = hvk_hypervisor_get_pids (hypervisor);

  for (guint i = 0; i < pids->len; i++)
    e2e_track_pid (g_array_index (pids, int, i));
}

/* ---- the tool ---- */

JsonObject *
e2e_tool_status (E2eEnv     *env,
                 const char *id)
{
  g_autofree char *out = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (e2e_run_tool (env, &out, NULL, "status", id, "--json", NULL), ==, 0);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

int
e2e_run_tool (E2eEnv      *env,
              char       **out,
              char       **err,
              const char  *first_arg,
              ...)
{
  const char *tool = g_getenv ("HVKIT_TEST_TOOL");
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out_text = NULL;
  g_autofree char *err_text = NULL;
  int status = 0;
  va_list args;

  g_assert_nonnull (tool);
  g_ptr_array_add (argv, (gpointer) tool);
  g_ptr_array_add (argv, (gpointer) "--state-dir");
  g_ptr_array_add (argv, env->store);
  va_start (args, first_arg);
  for (const char *a = first_arg; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                &out_text, &err_text, &status, &error);
  g_assert_no_error (error);
  g_test_message ("hvkit %s -> %d\n%s%s", first_arg,
                  WIFEXITED (status) ? WEXITSTATUS (status) : -1, out_text, err_text);
  if (out != NULL)
    *out = g_steal_pointer (&out_text);
  if (err != NULL)
    *err = g_steal_pointer (&err_text);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}
