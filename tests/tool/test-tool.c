/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "hvk-test-fs.h"

/* The `hvkit` tool, run as a user would: separate processes sharing a
 * temporary state dir, the mock backend, configs from tests/tool/data.
 * Checks stdout, stderr and exit statuses (DESIGN.md "Command-line tool"). */

typedef struct {
  char *tmp;
  char *store;
} Fixture;

typedef struct {
  int   status;
  char *out;
  char *err;
} Result;

static void
result_clear (Result *result)
{
  g_free (result->out);
  g_free (result->err);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Result, result_clear)

static char *
data_file (const char *name)
{
  return g_build_filename (HVKIT_TEST_DATA, name, NULL);
}

static GPtrArray *
tool_argv (Fixture            *fixture,
           const char * const *args)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup (HVKIT_TEST_TOOL));
  g_ptr_array_add (argv, g_strdup ("--state-dir"));
  g_ptr_array_add (argv, g_strdup (fixture->store));
  for (guint i = 0; args[i] != NULL; i++)
    {
      /* "@name" is a data file. */
      if (args[i][0] == '@')
        g_ptr_array_add (argv, data_file (args[i] + 1));
      else
        g_ptr_array_add (argv, g_strdup (args[i]));
    }
  g_ptr_array_add (argv, NULL);
  return argv;
}

/* Runs hvkit in @cwd, or in the test's current directory if %NULL. */
static void
run_argv_in (Fixture            *fixture,
             const char         *cwd,
             const char * const *args,
             Result             *result)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = tool_argv (fixture, args);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE
                                        | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  if (cwd != NULL)
    g_subprocess_launcher_set_cwd (launcher, cwd);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &result->out,
                                 &result->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  result->status = g_subprocess_get_exit_status (process);
  if (g_test_verbose ())
    g_printerr ("$ hvkit %s\n-> %d\n%s%s", args[0], result->status,
                result->out, result->err);
}

static void
run_argv (Fixture            *fixture,
          const char * const *args,
          Result             *result)
{
  run_argv_in (fixture, NULL, args, result);
}

#define RUN(fixture, result, ...) \
  run_argv ((fixture), (const char * const[]) { __VA_ARGS__, NULL }, (result))
#define RUN_IN(fixture, cwd, result, ...) \
  run_argv_in ((fixture), (cwd), (const char * const[]) { __VA_ARGS__, NULL }, (result))

/* Runs and checks the exit status and, when given, a fragment of stderr. */
#define EXPECT(fixture, status_, err_fragment, ...)                     \
  G_STMT_START {                                                        \
    g_auto(Result) r_ = { 0, };                                         \
    RUN ((fixture), &r_, __VA_ARGS__);                                  \
    expect_result (&r_, (status_), (err_fragment));                     \
  } G_STMT_END

static void
expect_result (Result     *result,
               int         status,
               const char *err_fragment)
{
  if (result->status != status)
    g_error ("exit status %d, expected %d; stderr: %s", result->status,
             status, result->err);
  if (status == 0)
    return;
  g_assert_true (g_str_has_prefix (result->err, "hvkit: error: "));
  if (err_fragment != NULL && strstr (result->err, err_fragment) == NULL)
    g_error ("stderr '%s' does not contain '%s'", result->err, err_fragment);
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->tmp = g_dir_make_tmp ("hvk-tool-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->store = g_build_filename (fixture->tmp, "state", NULL);
}


static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  hvk_test_remove_tree (fixture->tmp);
  g_free (fixture->tmp);
  g_free (fixture->store);
}

/* The state dir holds no VM directory at all. */
static void
assert_store_empty (Fixture *fixture)
{
  g_autoptr(GDir) dir = g_dir_open (fixture->store, 0, NULL);
  const char *name = dir ? g_dir_read_name (dir) : NULL;

  if (name != NULL)
    g_error ("state dir %s still holds '%s'", fixture->store, name);
}

static const char * const commands[] = {
  "backends", "check", "argv", "kernel-params", "run", "start", "status",
  "console", "list", "pause", "resume", "stop", "hotplug", "unplug", "resize",
};

static void
test_help (Fixture       *fixture,
           gconstpointer  data)
{
  g_auto(Result) result = { 0, };

  RUN (fixture, &result, "--help");
  g_assert_cmpint (result.status, ==, 0);
  g_assert_nonnull (strstr (result.out, "--state-dir"));
  g_assert_nonnull (strstr (result.out, "--plugin-path"));
  g_assert_nonnull (strstr (result.out, "Commands:"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *line = g_strdup_printf ("\n  %s ", commands[i]);
      g_assert_nonnull (strstr (result.out, line));
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_auto(Result) help = { 0, };
      g_autofree char *usage = g_strdup_printf ("] %s", commands[i]);

      RUN (fixture, &help, commands[i], "--help");
      g_assert_cmpint (help.status, ==, 0);
      if (!g_str_has_prefix (help.out, "Usage:\n  hvkit [")
          || strstr (help.out, usage) == NULL)
        g_error ("help of %s lacks '%s': %s", commands[i], usage, help.out);
    }
  assert_store_empty (fixture);
}

static void
test_usage_errors (Fixture       *fixture,
                   gconstpointer  data)
{
  g_auto(Result) result = { 0, };

  /* No command at all. */
  run_argv (fixture, (const char * const[]) { NULL }, &result);
  expect_result (&result, 2, "no command given");

  EXPECT (fixture, 2, "unknown command 'explode'", "explode");
  EXPECT (fixture, 2, "--frobnicate", "--frobnicate", "list");
  EXPECT (fixture, 2, "--frobnicate", "list", "--frobnicate");
  EXPECT (fixture, 2, "missing VM id", "status");
  EXPECT (fixture, 2, "unexpected argument 'b'", "status", "a", "b");
  EXPECT (fixture, 2, "unexpected argument 'x'", "list", "x");
  EXPECT (fixture, 2, "invalid VM id '../x'", "status", "../x");
  EXPECT (fixture, 2, "invalid VM id 'a/b'", "pause", "a/b");
  EXPECT (fixture, 2, "missing --id", "start", "-c", "@mock.conf");
  EXPECT (fixture, 2, "invalid VM id '-x'", "start", "-c", "@mock.conf", "--id=-x");
  EXPECT (fixture, 2, "invalid VM id 'a b'", "run", "-c", "@mock.conf", "--id", "a b");
  EXPECT (fixture, 2, "no configuration given", "check");
  EXPECT (fixture, 2, "no configuration given", "start", "--id", "vm1");
  EXPECT (fixture, 2, "missing --device", "hotplug", "vm1");
  EXPECT (fixture, 2, "missing --device-id", "unplug", "vm1");
  EXPECT (fixture, 2, "give --vcpus N, --memory MIB or both", "resize", "vm1");
  EXPECT (fixture, 2, "invalid --vcpus 0", "resize", "vm1", "--vcpus", "0");
  /* A negative value is named, not taken for "not given". */
  EXPECT (fixture, 2, "invalid --vcpus -1", "resize", "vm1", "--vcpus", "-1");
  EXPECT (fixture, 2, "invalid --memory -1", "resize", "vm1", "--memory", "-1");
  EXPECT (fixture, 2, "invalid --memory -5", "resize", "vm1", "--vcpus", "2", "--memory", "-5");
  EXPECT (fixture, 2, "--vcpus", "resize", "vm1", "--vcpus", "many");
  assert_store_empty (fixture);
}

static void
test_backends (Fixture       *fixture,
               gconstpointer  data)
{
  g_auto(Result) plain = { 0, };
  g_auto(Result) json = { 0, };
  g_autoptr(JsonNode) root = NULL;
  JsonArray *array;
  gboolean found = FALSE;

  RUN (fixture, &plain, "backends");
  g_assert_cmpint (plain.status, ==, 0);
  g_assert_nonnull (strstr (plain.out, "BACKEND"));
  g_assert_nonnull (strstr (plain.out, "\nmock "));
  g_assert_nonnull (strstr (plain.out, "pause-resume"));

  RUN (fixture, &json, "backends", "--json");
  g_assert_cmpint (json.status, ==, 0);
  root = parse_json (json.out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *backend = json_array_get_object_element (array, i);
      JsonArray *caps;
      g_autoptr(GPtrArray) names = g_ptr_array_new ();

      if (!g_str_equal (json_object_get_string_member (backend, "name"), "mock"))
        continue;
      found = TRUE;
      g_assert_cmpstr (json_object_get_string_member (backend, "plugin"), ==, "mock");
      g_assert_cmpstr (json_object_get_string_member (backend, "version"), ==, PACKAGE_VERSION);
      g_assert_nonnull (json_object_get_string_member (backend, "description"));
      caps = json_object_get_array_member (backend, "capabilities");
      for (guint j = 0; j < json_array_get_length (caps); j++)
        g_ptr_array_add (names, (gpointer) json_array_get_string_element (caps, j));
      g_ptr_array_add (names, NULL);
      for (const char * const *c = (const char * const[]) {
             "block-device", "block-device-hotplug", "fs-sharing",
             "net-device-hotplug", "hybrid-vsock", "pause-resume",
             "vcpu-resize", "memory-resize", "save-restore", NULL }; *c != NULL; c++)
        g_assert_true (g_strv_contains ((const char * const *) names->pdata, *c));
    }
  g_assert_true (found);
}

static void
test_plugin_path (Fixture       *fixture,
                  gconstpointer  data)
{
  g_auto(Result) result = { 0, };
  g_autofree char *empty = g_build_filename (fixture->tmp, "plugins", NULL);

  /* An extra (empty) directory first: the build tree's still count. */
  g_assert_cmpint (g_mkdir (empty, 0700), ==, 0);
  RUN (fixture, &result, "--plugin-path", empty, "backends", "--json");
  g_assert_cmpint (result.status, ==, 0);
  g_assert_nonnull (strstr (result.out, "\"mock\""));
}

static void
test_refusals (Fixture       *fixture,
               gconstpointer  data)
{
#ifdef HVKIT_TEST_ZOO_DIR
  g_auto(Result) result = { 0, };
  g_autofree char *bad_abi = g_build_filename (HVKIT_TEST_ZOO_DIR, "bad-abi", NULL);

  /* A refused plugin is a warning: the other backends still work. */
  RUN (fixture, &result, "--plugin-path", bad_abi, "backends");
  g_assert_cmpint (result.status, ==, 0);
  g_assert_true (g_str_has_prefix (result.err, "hvkit: warning: "));
  g_assert_nonnull (strstr (result.err, "bad-abi"));
  g_assert_nonnull (strstr (result.out, "\nmock "));
#else
  g_test_skip ("no plugin zoo in this build");
#endif
}

static void
test_check (Fixture       *fixture,
            gconstpointer  data)
{
  g_auto(Result) result = { 0, };
  g_autofree char *bad = data_file ("bad-value.conf");

  RUN (fixture, &result, "check", "-c", "@mock.conf");
  g_assert_cmpint (result.status, ==, 0);
  g_assert_nonnull (strstr (result.out, "mock.conf: valid"));
  g_assert_nonnull (strstr (result.out, "[hypervisor.mock]"));
  g_assert_nonnull (strstr (result.out, "\n  default_memory = 512\n"));
  g_assert_nonnull (strstr (result.out, "\n  kernel = /var/lib/hvkit/test/vmlinuz\n"));
  /* Keys not in the file show their defaults, marked. */
  g_assert_nonnull (strstr (result.out, "\n  memory_slots = 10  (default)\n"));
  g_assert_nonnull (strstr (result.out, "\n  disk0: block,"));
  /* A key of the QEMU plugin is not the mock's. */
  g_assert_null (strstr (result.out, "machine_type"));

  /* A QEMU configuration lists its plugin's keys after the core's. */
  {
    g_auto(Result) r = { 0, };
    const char *core_key, *plugin_key;

    RUN (fixture, &r, "check", "-c", "@qemu-check.conf");
    g_assert_cmpint (r.status, ==, 0);
    core_key = strstr (r.out, "\n  memory_slots = 10  (default)\n");
    plugin_key = strstr (r.out, "\n  machine_type = q35  (default)\n");
    g_assert_nonnull (core_key);
    g_assert_nonnull (plugin_key);
    g_assert_true (plugin_key > core_key);
    g_assert_nonnull (strstr (r.out, "\n  pflashes = /var/lib/hvkit/test/flash0.img;\n"));
  }
  /* Another backend's key is refused and named, not ignored. */
  EXPECT (fixture, 2, "[hypervisor.mock] machine_type: not supported by backend 'mock' "
          "(a key of backend 'qemu')", "check", "-c", "@mock-qemu-key.conf");

  EXPECT (fixture, 2, "hypervisor.mock", "check", "-c", "@bad-value.conf");
  {
    g_auto(Result) r = { 0, };
    RUN (fixture, &r, "check", "-c", "@bad-value.conf");
    g_assert_nonnull (strstr (r.err, bad));
    g_assert_nonnull (strstr (r.err, "default_memory"));
    g_assert_cmpstr (r.out, ==, "");
  }
  EXPECT (fixture, 2, "kernel", "check", "-c", "@no-kernel.conf");
  EXPECT (fixture, 2, "nosuch", "check", "-c", "@unknown-backend.conf");
  EXPECT (fixture, 2, "does-not-exist.conf", "check", "-c", "@does-not-exist.conf");
}

/* `check -c` refuses what is not a regular file, or is larger than
 * HVK_CONFIG_MAX_FILE_SIZE, before reading it: /dev/zero used to be read
 * until memory ran out, a FIFO blocked forever. */
static void
test_check_not_regular (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autofree char *fifo = g_build_filename (fixture->tmp, "fifo.conf", NULL);
  g_autofree char *big = g_build_filename (fixture->tmp, "big.conf", NULL);
  g_autofree char *dir_message = g_strdup_printf ("%s: cannot read configuration: a directory",
                                                  fixture->tmp);
  g_autofree char *fifo_message = g_strdup_printf ("%s: cannot read configuration: a FIFO", fifo);
  g_autofree char *big_message = g_strdup_printf ("%s: cannot read configuration: %d bytes, more "
                                                  "than the limit of %d bytes", big,
                                                  HVK_CONFIG_MAX_FILE_SIZE + 1,
                                                  HVK_CONFIG_MAX_FILE_SIZE);
  g_autofree char *text = g_strnfill (HVK_CONFIG_MAX_FILE_SIZE + 1, '#');

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_assert_true (g_file_set_contents (big, text, HVK_CONFIG_MAX_FILE_SIZE + 1, NULL));

  EXPECT (fixture, 2, "/dev/zero: cannot read configuration: a character device, not a regular file",
          "check", "-c", "/dev/zero");
  EXPECT (fixture, 2, dir_message, "check", "-c", fixture->tmp);
  EXPECT (fixture, 2, fifo_message, "check", "-c", fifo);
  EXPECT (fixture, 2, big_message, "check", "-c", big);
  g_unlink (fifo);
  g_unlink (big);
}

/* Writes a mock config with @extra in [hypervisor.mock] to @dir/@name. */
static char *
write_mock_config (const char *dir,
                   const char *name,
                   const char *extra)
{
  g_autofree char *text = g_strdup_printf ("[hypervisor]\nbackend=mock\n\n[hypervisor.mock]\n"
                                           "kernel=/var/lib/hvkit/test/vmlinuz\n"
                                           "initrd=/var/lib/hvkit/test/initrd.img\n%s", extra);
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

/* Memory the host cannot give failed only when the VMM started. */
static void
test_check_memory (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *huge = write_mock_config (fixture->tmp, "huge.conf", "default_memory=99999999999\n");
  g_autofree char *above = write_mock_config (fixture->tmp, "above.conf",
                                              "default_memory=1024\ndefault_maxmemory=512\n");
  g_autofree char *huge_message = g_strdup_printf ("%s: [hypervisor.mock] default_memory: "
                                                   "99999999999 MiB is more than the host's memory",
                                                   huge);
  g_autofree char *above_message = g_strdup_printf ("%s: [hypervisor.mock] default_memory: 1024 MiB "
                                                    "is more than default_maxmemory (512 MiB)", above);

  EXPECT (fixture, 2, huge_message, "check", "-c", huge);
  EXPECT (fixture, 2, above_message, "check", "-c", above);
  EXPECT (fixture, 2, huge_message, "start", "-c", huge, "--id", "vm1");
  assert_store_empty (fixture);
}

/* `hvkit balloon`: the target and statistics interval kept across
 * processes (the VM's record), the text and JSON outputs, the refusals. */
static void
test_balloon (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *conf = write_mock_config (fixture->tmp, "balloon.conf",
                                             "default_memory=512\ndefault_maxmemory=1024\n"
                                             "reclaim_guest_freed_memory=true\n");
  g_autofree char *plain = write_mock_config (fixture->tmp, "plain.conf", "default_memory=512\n");

  EXPECT (fixture, 0, NULL, "start", "-c", conf, "--id", "vm1");
  EXPECT (fixture, 0, NULL, "start", "-c", plain, "--id", "vm2");
  {
    g_auto(Result) r = { 0, };
    RUN (fixture, &r, "balloon", "vm1");
    expect_result (&r, 0, NULL);
    g_assert_cmpstr (r.out, ==, "balloon: actual 512 MiB, no target, guest statistics every 0 s\n");
  }
  EXPECT (fixture, 0, NULL, "balloon", "vm1", "--target", "256", "--stats-interval", "5");
  {
    g_auto(Result) r = { 0, };
    g_autoptr(JsonParser) parser = json_parser_new ();
    JsonObject *object;

    RUN (fixture, &r, "balloon", "vm1", "--json");
    expect_result (&r, 0, NULL);
    g_assert_true (json_parser_load_from_data (parser, r.out, -1, NULL));
    object = json_node_get_object (json_parser_get_root (parser));
    g_assert_cmpint (json_object_get_int_member (object, "actual_mb"), ==, 256);
    g_assert_cmpint (json_object_get_int_member (object, "target_mb"), ==, 256);
    g_assert_cmpint (json_object_get_int_member (object, "stats_interval_s"), ==, 5);
    g_assert_true (json_object_get_null_member (object, "guest_free_mb"));
  }
  {
    g_auto(Result) r = { 0, };
    RUN (fixture, &r, "stats", "vm1");
    expect_result (&r, 0, NULL);
    g_assert_nonnull (strstr (r.out, "memory.balloon_bytes 268435456\n"));
  }
  EXPECT (fixture, 1, "the guest has 512 MiB", "balloon", "vm1", "--target", "600");
  EXPECT (fixture, 1, "reclaim_guest_freed_memory", "balloon", "vm2");
  EXPECT (fixture, 2, "invalid --target 0", "balloon", "vm1", "--target", "0");
  EXPECT (fixture, 2, "invalid --stats-interval -1", "balloon", "vm1", "--stats-interval", "-1");
  EXPECT (fixture, 1, "no VM 'vm3'", "balloon", "vm3");
  EXPECT (fixture, 0, NULL, "stop", "vm1");
  EXPECT (fixture, 0, NULL, "stop", "vm2");
  assert_store_empty (fixture);
}

/* A group given twice used to be merged silently by GKeyFile. */
static void
test_check_duplicate_group (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autofree char *conf = write_mock_config (fixture->tmp, "dup.conf",
                                             "\n[device.disk0]\nkind=block\npath=/a.img\n"
                                             "\n[device.disk0]\nkind=block\npath=/b.img\n");
  g_autofree char *message = g_strdup_printf ("%s: [device.disk0]: group given twice (lines 8 and 12)",
                                              conf);

  EXPECT (fixture, 2, message, "check", "-c", conf);
}

/* Relative paths are made absolute against hvkit's current directory
 * where they are given (QEMU runs with / as its current directory):
 * check prints them absolute, hotplug stores them absolute. */
static void
test_relative_paths (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *cwd = realpath (fixture->tmp, NULL);
  g_autofree char *conf_dir = g_build_filename (fixture->tmp, "conf", NULL);
  g_autofree char *conf = g_build_filename (conf_dir, "rel.conf", NULL);
  g_autofree char *kernel_line = NULL;
  g_autofree char *disk_line = NULL;
  g_autofree char *state_path = g_build_filename (fixture->store, "vm1", HVK_VM_STATE_FILE, NULL);
  g_autofree char *state = NULL;
  g_autofree char *disk = NULL;

  g_assert_nonnull (cwd);
  g_assert_cmpint (g_mkdir (conf_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (conf, "[hypervisor]\nbackend=mock\n\n[hypervisor.mock]\n"
                                      "kernel=relative/vmlinuz\ninitrd=./initrd.img\n\n"
                                      "[device.disk0]\nkind=block\npath=disk.img\n", -1, NULL));
  kernel_line = g_strdup_printf ("\n  kernel = %s/relative/vmlinuz\n", cwd);
  disk_line = g_strdup_printf ("\n  disk0: block,id=disk0,path=%s/disk.img\n", cwd);
  disk = g_strdup_printf ("%s/d1.img", cwd);
  {
    g_auto(Result) r = { 0, };

    /* relative to the current directory, not to the config's */
    RUN_IN (fixture, fixture->tmp, &r, "check", "-c", "conf/rel.conf");
    expect_result (&r, 0, NULL);
    g_assert_nonnull (strstr (r.out, kernel_line));
    g_assert_nonnull (strstr (r.out, disk_line));
  }

  EXPECT (fixture, 0, NULL, "start", "-c", "@mock.conf", "--id", "vm1");
  {
    g_auto(Result) r = { 0, };

    RUN_IN (fixture, fixture->tmp, &r, "hotplug", "vm1", "--device", "block,id=d1,path=d1.img");
    expect_result (&r, 0, NULL);
  }
  g_assert_true (g_file_get_contents (state_path, &state, NULL, NULL));
  if (strstr (state, disk) == NULL)
    g_error ("state %s does not hold %s", state, disk);
  EXPECT (fixture, 0, NULL, "stop", "vm1");
  g_unlink (conf);
  g_rmdir (conf_dir);
}

static void
test_argv (Fixture       *fixture,
           gconstpointer  data)
{
  g_auto(Result) json = { 0, };
  g_auto(Result) plain = { 0, };
  g_auto(Result) with_id = { 0, };
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) root_id = NULL;
  JsonArray *array;

  RUN (fixture, &json, "argv", "-c", "@mock.conf", "--json");
  g_assert_cmpint (json.status, ==, 0);
  root = parse_json (json.out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  array = json_node_get_array (root);
  g_assert_cmpuint (json_array_get_length (array), >, 4);
  g_assert_cmpstr (json_array_get_string_element (array, 0), ==, "mock-vmm");
  g_assert_cmpstr (json_array_get_string_element (array, 1), ==, "--id");
  g_assert_cmpstr (json_array_get_string_element (array, 2), ==, "hvkit-vm");
  g_assert_true (g_str_has_prefix (json_array_get_string_element (array, 3), "block,"));
  g_assert_nonnull (strstr (json_array_get_string_element (array, 3), "id=disk0"));
  /* Then the settings the mock VMM is handed, as --KEY=VALUE. */
  {
    gboolean memory = FALSE;

    for (guint i = 4; i < json_array_get_length (array); i++)
      {
        const char *arg = json_array_get_string_element (array, i);

        g_assert_true (g_str_has_prefix (arg, "--"));
        memory |= g_str_equal (arg, "--default_memory=512");
      }
    g_assert_true (memory);
  }

  RUN (fixture, &with_id, "argv", "-c", "@mock.conf", "--id", "vm7", "--json");
  g_assert_cmpint (with_id.status, ==, 0);
  root_id = parse_json (with_id.out);
  g_assert_cmpstr (json_array_get_string_element (json_node_get_array (root_id), 2), ==, "vm7");

  RUN (fixture, &plain, "argv", "-c", "@mock.conf");
  g_assert_cmpint (plain.status, ==, 0);
  g_assert_true (g_str_has_prefix (plain.out, "mock-vmm --id hvkit-vm block,"));

  EXPECT (fixture, 2, "invalid VM id", "argv", "-c", "@mock.conf", "--id", "..");
  EXPECT (fixture, 2, "hypervisor.mock", "argv", "-c", "@bad-value.conf");
  /* Nothing is left in the state dir: argv used a temporary one. */
  assert_store_empty (fixture);
}

/* `stats`: one VM as KEY VALUE lines, JSON or Prometheus text; --all
 * every running VM (not the stopped ones); usage errors exit 2. */
static void
test_stats (Fixture       *fixture,
            gconstpointer  data)
{
  g_auto(Result) plain = { 0, };
  g_auto(Result) json = { 0, };
  g_auto(Result) prom = { 0, };
  g_auto(Result) all = { 0, };
  g_auto(Result) after = { 0, };
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;

  EXPECT (fixture, 0, NULL, "start", "-c", "@mock.conf", "--id", "vm1");
  EXPECT (fixture, 0, NULL, "start", "-c", "@mock.conf", "--id", "vm2");

  RUN (fixture, &plain, "stats", "vm1");
  expect_result (&plain, 0, NULL);
  g_assert_true (g_str_has_prefix (plain.out, "cpu.time_ns "));
  g_assert_nonnull (strstr (plain.out, "\nmemory.configured_bytes 536870912\n"));
  g_assert_nonnull (strstr (plain.out, "\nblock.disk0.wr_bytes 0\n"));

  RUN (fixture, &json, "stats", "vm1", "--json");
  expect_result (&json, 0, NULL);
  root = parse_json (json.out);
  object = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (object, "id"), ==, "vm1");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (object, "stats"),
                                               "memory.configured_bytes"), ==, 512 * 1024 * 1024);

  RUN (fixture, &prom, "stats", "vm1", "--prometheus");
  expect_result (&prom, 0, NULL);
  g_assert_true (g_str_has_prefix (prom.out, "# HELP hvkit_vm_cpu_seconds_total "));
  g_assert_nonnull (strstr (prom.out, "hvkit_vm_block_write_bytes_total{id=\"vm1\",device=\"disk0\"} 0\n"));

  RUN (fixture, &all, "stats", "--all");
  expect_result (&all, 0, NULL);
  g_assert_true (g_str_has_prefix (all.out, "vm1 cpu.time_ns "));
  g_assert_nonnull (strstr (all.out, "\nvm2 cpu.time_ns "));

  EXPECT (fixture, 0, NULL, "stop", "vm2");
  RUN (fixture, &after, "stats", "--all", "--prometheus");
  expect_result (&after, 0, NULL);
  g_assert_nonnull (strstr (after.out, "{id=\"vm1\"}"));
  g_assert_null (strstr (after.out, "vm2"));

  EXPECT (fixture, 2, "missing VM id", "stats");
  EXPECT (fixture, 2, "unexpected argument 'vm1'", "stats", "--all", "vm1");
  EXPECT (fixture, 2, "--json and --prometheus", "stats", "vm1", "--json", "--prometheus");
  EXPECT (fixture, 1, "nope", "stats", "nope");
  EXPECT (fixture, 0, NULL, "stop", "vm1");
  assert_store_empty (fixture);
}

/* `shutdown` and `reboot` on the mock: the guest powers off at once, or
 * (fail_operations=shutdown_vm) ignores the button and is stopped after
 * the timeout; a paused VM is refused, as is a negative timeout. */
static void
test_shutdown_reboot (Fixture       *fixture,
                      gconstpointer  data)
{
  g_auto(Result) off = { 0, };
  g_auto(Result) rebooted = { 0, };
  g_auto(Result) ignored = { 0, };
  g_autofree char *deaf = g_build_filename (fixture->tmp, "deaf.conf", NULL);
  g_autofree char *conf = NULL;
  g_autofree char *mock_conf = data_file ("mock.conf");

  EXPECT (fixture, 0, NULL, "start", "-c", "@mock.conf", "--id", "vm1");
  RUN (fixture, &rebooted, "reboot", "vm1");
  expect_result (&rebooted, 0, NULL);
  g_assert_cmpstr (rebooted.out, ==, "VM 'vm1' rebooted\n");
  EXPECT (fixture, 0, NULL, "pause", "vm1");
  EXPECT (fixture, 1, "cannot shut down", "shutdown", "vm1");
  EXPECT (fixture, 1, "cannot reboot", "reboot", "vm1");
  EXPECT (fixture, 0, NULL, "resume", "vm1");
  EXPECT (fixture, 2, "--timeout -1", "shutdown", "vm1", "--timeout", "-1");
  RUN (fixture, &off, "shutdown", "vm1");
  expect_result (&off, 0, NULL);
  g_assert_cmpstr (off.out, ==, "VM 'vm1' shut down (the guest powered off)\n");
  assert_store_empty (fixture);

  g_assert_true (g_file_get_contents (mock_conf, &conf, NULL, NULL));
  {
    const char *text = conf;
    g_autofree char *patched = NULL;
    const char *group = strstr (text, "[hypervisor.mock]\n");

    g_assert_nonnull (group);
    group += strlen ("[hypervisor.mock]\n");
    patched = g_strdup_printf ("%.*sfail_operations=shutdown_vm\n%s", (int) (group - text), text, group);
    g_assert_true (g_file_set_contents (deaf, patched, -1, NULL));
  }
  EXPECT (fixture, 0, NULL, "start", "-c", deaf, "--id", "deaf");
  RUN (fixture, &ignored, "shutdown", "deaf", "--timeout", "1");
  expect_result (&ignored, 0, NULL);
  g_assert_cmpstr (ignored.out, ==, "VM 'deaf' stopped (the guest did not power off within 1 s)\n");
  g_assert_nonnull (strstr (ignored.err, "did not power off within 1000 ms: stopping it"));
  assert_store_empty (fixture);
  EXPECT (fixture, 1, "nope", "shutdown", "nope");

  /* events: the mock's VMM is in the process that ran it, so another
   * process has nothing to replay and returns at once. */
  EXPECT (fixture, 0, NULL, "start", "-c", "@mock.conf", "--id", "vm2");
  EXPECT (fixture, 0, NULL, "events", "vm2", "--json");
  EXPECT (fixture, 2, "missing VM id", "events");
  EXPECT (fixture, 2, "unexpected argument 'vm2'", "events", "--all", "vm2");
  EXPECT (fixture, 1, "nope", "events", "nope");
  EXPECT (fixture, 0, NULL, "stop", "vm2");
}

/* With a VM of that id running, argv creates it in a scratch store under
 * TMPDIR, and removes that store whole. */
static void
test_argv_scratch (Fixture       *fixture,
                   gconstpointer  data)
{
  g_auto(Result) started = { 0, };
  g_auto(Result) result = { 0, };
  g_autofree char *tmpdir = g_build_filename (fixture->tmp, "tmpdir", NULL);
  g_autofree char *saved = g_strdup (g_getenv ("TMPDIR"));
  g_autoptr(GDir) dir = NULL;
  const char *name;

  RUN (fixture, &started, "start", "-c", "@mock.conf", "--id", "vm7");
  expect_result (&started, 0, NULL);

  g_assert_cmpint (g_mkdir (tmpdir, 0700), ==, 0);
  g_setenv ("TMPDIR", tmpdir, TRUE);
  RUN (fixture, &result, "argv", "-c", "@mock.conf", "--id", "vm7");
  if (saved != NULL)
    g_setenv ("TMPDIR", saved, TRUE);
  else
    g_unsetenv ("TMPDIR");
  expect_result (&result, 0, NULL);
  g_assert_true (g_str_has_prefix (result.out, "mock-vmm --id vm7 block,"));

  dir = g_dir_open (tmpdir, 0, NULL);
  g_assert_nonnull (dir);
  name = g_dir_read_name (dir);
  if (name != NULL)
    g_error ("%s still holds '%s'", tmpdir, name);

  EXPECT (fixture, 0, NULL, "stop", "vm7");
  assert_store_empty (fixture);
}

static void
test_kernel_params (Fixture       *fixture,
                    gconstpointer  data)
{
  g_auto(Result) result = { 0, };

  RUN (fixture, &result, "kernel-params", "-c", "@mock.conf");
  g_assert_cmpint (result.status, ==, 0);
  /* The user's parameters come last. */
  g_assert_true (g_str_has_suffix (result.out, "hvkit.test=1\n"));
  EXPECT (fixture, 2, "kernel", "kernel-params", "-c", "@no-kernel.conf");
  assert_store_empty (fixture);
}

static void
test_kernel_params_policies (Fixture       *fixture,
                             gconstpointer  data)
{
#ifdef HVKIT_TEST_ZOO_DIR
  g_auto(Result) result = { 0, };
  g_autofree char *dirs = g_strdup_printf ("%s/good:%s/extra-appender",
                                           HVKIT_TEST_ZOO_DIR, HVKIT_TEST_ZOO_DIR);

  /* A plugin's all-backend policies apply to the mock too, in phase
   * order (debug before other), the user's parameters last. */
  RUN (fixture, &result, "--plugin-path", dirs, "kernel-params", "-c", "@mock.conf");
  expect_result (&result, 0, NULL);
  g_assert_cmpstr (result.out, ==, "extra-debug=1 extra-other=1 hvkit.test=1\n");
#else
  g_test_skip ("no plugin zoo in this build");
#endif
}

static JsonObject *
status_json (Fixture    *fixture,
             const char *id,
             JsonNode  **root)
{
  g_auto(Result) result = { 0, };

  RUN (fixture, &result, "status", id, "--json");
  g_assert_cmpint (result.status, ==, 0);
  *root = parse_json (result.out);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (*root));
  return json_node_get_object (*root);
}

static void
expect_state (Fixture    *fixture,
              const char *id,
              const char *state)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *status = status_json (fixture, id, &root);

  g_assert_cmpstr (json_object_get_string_member (status, "state"), ==, state);
}

static void
test_lifecycle (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *console = g_build_filename (fixture->store, "vm1", "console.sock", NULL);
  g_autofree char *state_file = g_build_filename (fixture->store, "vm1", HVK_VM_STATE_FILE, NULL);
  /* default_maxvcpus=4, bounded by the host's CPUs as in Kata. */
  guint two = MIN (2, g_get_num_processors ());
  g_autofree char *two_text = g_strdup_printf ("%u", two);
  g_autofree char *max_text = g_strdup_printf ("default_maxvcpus (%u)",
                                               MIN (4, g_get_num_processors ()));
  JsonObject *status;

  {
    g_auto(Result) r = { 0, };
    RUN (fixture, &r, "start", "-c", "@mock.conf", "--id", "vm1");
    expect_result (&r, 0, NULL);
    g_assert_cmpstr (r.out, ==, "VM 'vm1' started\n");
  }
  g_assert_true (g_file_test (state_file, G_FILE_TEST_IS_REGULAR));
  EXPECT (fixture, 1, "VM 'vm1' already exists", "start", "-c", "@mock.conf", "--id", "vm1");

  status = status_json (fixture, "vm1", &root);
  g_assert_cmpstr (json_object_get_string_member (status, "id"), ==, "vm1");
  g_assert_cmpstr (json_object_get_string_member (status, "backend"), ==, "mock");
  g_assert_cmpstr (json_object_get_string_member (status, "state"), ==, "running");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (status, "pids")), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (status, "console"), ==, console);
  g_assert_false (json_object_has_member (status, "error"));
  /* The backend's own scalars follow. */
  g_assert_cmpint (json_object_get_int_member (status, "vcpus"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (status, "memory_mb"), ==, 512);
  g_clear_pointer (&root, json_node_unref);

  {
    g_auto(Result) r = { 0, };
    RUN (fixture, &r, "status", "vm1");
    expect_result (&r, 0, NULL);
    g_assert_nonnull (strstr (r.out, "state: running\n"));
    g_assert_nonnull (strstr (r.out, "backend: mock\n"));
  }
  {
    g_auto(Result) r = { 0, };
    g_autoptr(JsonNode) list = NULL;
    JsonObject *vm;

    RUN (fixture, &r, "list", "--json");
    expect_result (&r, 0, NULL);
    list = parse_json (r.out);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 1);
    vm = json_array_get_object_element (json_node_get_array (list), 0);
    g_assert_cmpstr (json_object_get_string_member (vm, "id"), ==, "vm1");
    g_assert_cmpstr (json_object_get_string_member (vm, "backend"), ==, "mock");
    g_assert_cmpstr (json_object_get_string_member (vm, "state"), ==, "running");
  }
  {
    g_auto(Result) r = { 0, };
    RUN (fixture, &r, "list");
    expect_result (&r, 0, NULL);
    g_assert_nonnull (strstr (r.out, "\nvm1 "));
  }

  EXPECT (fixture, 0, NULL, "pause", "vm1");
  expect_state (fixture, "vm1", "paused");
  EXPECT (fixture, 1, "cannot pause VM 'vm1': it is paused", "pause", "vm1");
  EXPECT (fixture, 1, "cannot hotplug a device into VM 'vm1': it is paused",
          "hotplug", "vm1", "--device", "block,id=disk1,path=/img/disk1.raw,format=raw");
  EXPECT (fixture, 0, NULL, "resume", "vm1");
  expect_state (fixture, "vm1", "running");
  EXPECT (fixture, 1, "cannot resume VM 'vm1': it is running", "resume", "vm1");

  EXPECT (fixture, 0, NULL, "hotplug", "vm1", "--device",
          "block,id=disk1,path=/img/disk1.raw,format=raw");
  EXPECT (fixture, 1, "already has a device with id 'disk1'", "hotplug", "vm1",
          "--device", "block,id=disk1,path=/img/disk1.raw,format=raw");
  EXPECT (fixture, 2, "nosuchkind", "hotplug", "vm1", "--device", "nosuchkind,id=x");
  EXPECT (fixture, 0, NULL, "unplug", "vm1", "--device-id", "disk1");
  EXPECT (fixture, 1, "no hot-plugged device 'disk1'", "unplug", "vm1", "--device-id", "disk1");

  {
    g_auto(Result) r = { 0, };
    g_autofree char *expected = g_strdup_printf ("vcpus: 1 -> %u\n", two);
    RUN (fixture, &r, "resize", "vm1", "--vcpus", two_text, "--memory", "1024");
    expect_result (&r, 0, NULL);
    g_assert_nonnull (strstr (r.out, expected));
    g_assert_nonnull (strstr (r.out, "memory: 512 MiB -> 1024 MiB\n"));
  }
  status = status_json (fixture, "vm1", &root);
  g_assert_cmpint (json_object_get_int_member (status, "vcpus"), ==, two);
  g_assert_cmpint (json_object_get_int_member (status, "memory_mb"), ==, 1024);
  g_assert_cmpint (json_object_get_int_member (status, "mem_slots"), ==, 1);
  g_clear_pointer (&root, json_node_unref);
  EXPECT (fixture, 1, max_text, "resize", "vm1", "--vcpus", "9");
  EXPECT (fixture, 1, "default_maxmemory (2048)", "resize", "vm1", "--memory", "4096");

  EXPECT (fixture, 1, "has no console socket", "console", "vm1");

  {
    g_auto(Result) r = { 0, };
    RUN (fixture, &r, "stop", "vm1");
    expect_result (&r, 0, NULL);
    g_assert_cmpstr (r.out, ==, "VM 'vm1' stopped\n");
  }
  assert_store_empty (fixture);
  EXPECT (fixture, 1, "no VM 'vm1' in", "status", "vm1");
  {
    g_auto(Result) r = { 0, };
    RUN (fixture, &r, "list", "--json");
    expect_result (&r, 0, NULL);
    g_assert_cmpstr (g_strstrip (r.out), ==, "[]");
  }
}

static void
test_unknown_vm (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autofree char *message = g_strdup_printf ("no VM 'nosuch' in %s", fixture->store);

  EXPECT (fixture, 1, message, "status", "nosuch");
  EXPECT (fixture, 1, message, "pause", "nosuch");
  EXPECT (fixture, 1, message, "resume", "nosuch");
  EXPECT (fixture, 1, message, "stop", "nosuch");
  EXPECT (fixture, 1, message, "console", "nosuch");
  EXPECT (fixture, 1, message, "unplug", "nosuch", "--device-id", "d");
  EXPECT (fixture, 1, message, "resize", "nosuch", "--vcpus", "2");
  EXPECT (fixture, 1, message, "hotplug", "nosuch", "--device",
          "block,id=disk1,path=/img/disk1.raw,format=raw");
  /* Looking did not create anything. */
  assert_store_empty (fixture);
}

static void
test_busy (Fixture       *fixture,
           gconstpointer  data)
{
  g_autofree char *lock_path = g_build_filename (fixture->store, "vm1", ".lock", NULL);
  int fd;

  EXPECT (fixture, 0, NULL, "start", "-c", "@mock.conf", "--id", "vm1");

  /* Hold the VM as another hvkit process would. */
  fd = g_open (lock_path, O_RDWR | O_CLOEXEC, 0);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (flock (fd, LOCK_EX | LOCK_NB), ==, 0);

  EXPECT (fixture, 1, "VM 'vm1' is busy (another hvkit process holds it)", "pause", "vm1");
  EXPECT (fixture, 1, "is busy", "stop", "vm1");
  EXPECT (fixture, 1, "is busy", "start", "-c", "@mock.conf", "--id", "vm1");
  /* Reading needs no lock. */
  expect_state (fixture, "vm1", "running");

  close (fd);
  EXPECT (fixture, 0, NULL, "stop", "vm1");
  assert_store_empty (fixture);
}

static void
test_fault_injection (Fixture       *fixture,
                      gconstpointer  data)
{
  EXPECT (fixture, 1, "mock: injected failure in start_vm", "start", "-c",
          "@mock-fail-start.conf", "--id", "vm1");
  assert_store_empty (fixture);
  EXPECT (fixture, 1, "mock: injected failure in start_vm", "run", "-c",
          "@mock-fail-start.conf", "--id", "vm1");
  assert_store_empty (fixture);
}

static void
test_stop_fails (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autofree char *state_file = g_build_filename (fixture->store, "vm1", HVK_VM_STATE_FILE, NULL);

  EXPECT (fixture, 0, NULL, "start", "-c", "@mock-fail-stop.conf", "--id", "vm1");
  EXPECT (fixture, 1, "mock: injected failure in stop_vm", "stop", "vm1");
  /* The VM may still run: its state stays. */
  g_assert_true (g_file_test (state_file, G_FILE_TEST_IS_REGULAR));
  expect_state (fixture, "vm1", "running");
}

static void
test_status_check_fails (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *status;

  EXPECT (fixture, 0, NULL, "start", "-c", "@mock-fail-check.conf", "--id", "vm1");
  status = status_json (fixture, "vm1", &root);
  g_assert_cmpstr (json_object_get_string_member (status, "state"), ==, "stopped");
  g_assert_cmpstr (json_object_get_string_member (status, "error"), ==,
                   "mock: injected failure in check");
  EXPECT (fixture, 0, NULL, "stop", "vm1");
  assert_store_empty (fixture);
}

static void
test_corrupt_state (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *state_file = g_build_filename (fixture->store, "vm1", HVK_VM_STATE_FILE, NULL);

  EXPECT (fixture, 0, NULL, "start", "-c", "@mock.conf", "--id", "vm1");
  g_assert_true (g_file_set_contents (state_file, "{\"version\": 7}", -1, NULL));
  EXPECT (fixture, 1, "unsupported state version 7", "status", "vm1");
  EXPECT (fixture, 1, state_file, "pause", "vm1");
  {
    g_auto(Result) r = { 0, };
    g_autoptr(JsonNode) list = NULL;
    JsonObject *vm;

    /* list still shows it, with the reason. */
    RUN (fixture, &r, "list", "--json");
    expect_result (&r, 0, NULL);
    list = parse_json (r.out);
    vm = json_array_get_object_element (json_node_get_array (list), 0);
    g_assert_cmpstr (json_object_get_string_member (vm, "id"), ==, "vm1");
    g_assert_nonnull (strstr (json_object_get_string_member (vm, "error"),
                              "unsupported state version 7"));
  }
}

/* Waits, within a bound that only guards against a hang, for @path. */
static gboolean
wait_for_file (const char *path)
{
  for (int i = 0; i < 400; i++)
    {
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        return TRUE;
      g_usleep (50 * 1000);
    }
  return FALSE;
}

static void
test_run_sigterm (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = tool_argv (fixture, (const char * const[]) {
    "run", "-c", "@mock.conf", "--id", "r1", NULL });
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *state_file = g_build_filename (fixture->store, "r1", HVK_VM_STATE_FILE, NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE
                               | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_assert_true (wait_for_file (state_file));

  /* Another process sees it running, and cannot take it. */
  expect_state (fixture, "r1", "running");
  EXPECT (fixture, 1, "is busy", "pause", "r1");

  g_subprocess_send_signal (process, SIGTERM);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  if (g_subprocess_get_exit_status (process) != 0)
    g_error ("run exited with %d: %s", g_subprocess_get_exit_status (process), err);
  g_assert_nonnull (strstr (err, "VM 'r1' stopped (signal)"));
  assert_store_empty (fixture);
}

static void
test_run_guest_exits (Fixture       *fixture,
                      gconstpointer  data)
{
  g_auto(Result) result = { 0, };

  /* The VM's check fails: run sees the guest gone and returns. */
  RUN (fixture, &result, "run", "-c", "@mock-fail-check.conf");
  expect_result (&result, 0, NULL);
  g_assert_nonnull (strstr (result.err, "running (backend mock)"));
  g_assert_nonnull (strstr (result.err, "stopped (the guest exited)"));
  assert_store_empty (fixture);
}

/* A stand-in guest console: a listening UNIX socket in the fixture, and
 * a mock config whose console is that socket. */
static int
listen_console (Fixture  *fixture,
                char    **config_path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  g_autofree char *path = g_build_filename (fixture->tmp, "console.sock", NULL);
  g_autofree char *mock = data_file ("mock.conf");
  g_autofree char *base = NULL;
  g_autofree char *text = NULL;
  int fd;

  g_assert_cmpuint (strlen (path), <, sizeof addr.sun_path);
  strcpy (addr.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (bind (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (fd, 1), ==, 0);

  g_assert_true (g_file_get_contents (mock, &base, NULL, NULL));
  /* The key goes in [hypervisor.mock], before the device group. */
  {
    g_auto(GStrv) parts = g_strsplit (base, "[hypervisor.mock]\n", 2);
    g_assert_cmpuint (g_strv_length (parts), ==, 2);
    text = g_strdup_printf ("%s[hypervisor.mock]\nconsole_socket=%s\n%s",
                            parts[0], path, parts[1]);
  }
  *config_path = g_build_filename (fixture->tmp, "console.conf", NULL);
  g_assert_true (g_file_set_contents (*config_path, text, -1, NULL));
  return fd;
}

/* Reads @stream until what was read contains @needle. */
static void
read_until (GInputStream *stream,
            const char   *needle)
{
  g_autoptr(GString) seen = g_string_new (NULL);

  while (strstr (seen->str, needle) == NULL)
    {
      g_autoptr(GError) error = NULL;
      char buf[256];
      gssize n = g_input_stream_read (stream, buf, sizeof buf, NULL, &error);

      g_assert_no_error (error);
      if (n == 0)
        g_error ("end of stream before '%s'; got '%s'", needle, seen->str);
      g_string_append_len (seen, buf, n);
    }
}

static void
read_fd_until (int         fd,
               const char *needle)
{
  g_autoptr(GString) seen = g_string_new (NULL);

  while (strstr (seen->str, needle) == NULL)
    {
      char buf[256];
      gssize n = read (fd, buf, sizeof buf);

      if (n <= 0)
        g_error ("end of console before '%s'; got '%s'", needle, seen->str);
      g_string_append_len (seen, buf, n);
    }
}

static void
test_console (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *config = NULL;
  int listener = listen_console (fixture, &config);
  g_autoptr(GPtrArray) argv = tool_argv (fixture, (const char * const[]) {
    "console", "c1", NULL });
  g_autoptr(GSubprocess) process = NULL;
  GOutputStream *in;
  int guest;

  EXPECT (fixture, 0, NULL, "start", "-c", config, "--id", "c1");

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE
                               | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  guest = accept (listener, NULL, NULL);
  g_assert_cmpint (guest, >=, 0);

  /* Guest → terminal. */
  g_assert_cmpint (write (guest, "login: ", 7), ==, 7);
  read_until (g_subprocess_get_stdout_pipe (process), "login: ");

  /* Terminal → guest, up to Ctrl-], which detaches. */
  in = g_subprocess_get_stdin_pipe (process);
  g_assert_true (g_output_stream_write_all (in, "root\n\035ignored", 13, NULL, NULL, &error));
  g_assert_no_error (error);
  read_fd_until (guest, "root\n");

  g_assert_true (g_subprocess_wait_check (process, NULL, &error));
  g_assert_no_error (error);
  close (guest);
  close (listener);

  EXPECT (fixture, 0, NULL, "stop", "c1");
  assert_store_empty (fixture);
}

static void
test_console_eof (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *config = NULL;
  int listener = listen_console (fixture, &config);
  g_autoptr(GPtrArray) argv = tool_argv (fixture, (const char * const[]) {
    "console", "c1", NULL });
  g_autoptr(GSubprocess) process = NULL;
  int guest;

  EXPECT (fixture, 0, NULL, "start", "-c", config, "--id", "c1");
  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE
                               | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  guest = accept (listener, NULL, NULL);
  g_assert_cmpint (guest, >=, 0);

  /* The end of our input ends the session. */
  g_assert_true (g_output_stream_write_all (g_subprocess_get_stdin_pipe (process),
                                            "ls\n", 3, NULL, NULL, &error));
  read_fd_until (guest, "ls\n");
  g_assert_true (g_output_stream_close (g_subprocess_get_stdin_pipe (process), NULL, &error));
  g_assert_true (g_subprocess_wait_check (process, NULL, &error));
  g_assert_no_error (error);
  close (guest);
  close (listener);
  EXPECT (fixture, 0, NULL, "stop", "c1");

  /* Nobody serves the console any more: a clear error. */
  EXPECT (fixture, 0, NULL, "start", "-c", config, "--id", "c2");
  EXPECT (fixture, 1, "cannot connect to console", "console", "c2");
  EXPECT (fixture, 0, NULL, "stop", "c2");
}

static void
test_run_console (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *config = NULL;
  int listener = listen_console (fixture, &config);
  g_autoptr(GPtrArray) argv = tool_argv (fixture, (const char * const[]) {
    "run", "-c", config, "--id", "r2", NULL });
  g_autoptr(GSubprocess) process = NULL;
  int guest;

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  guest = accept (listener, NULL, NULL);
  g_assert_cmpint (guest, >=, 0);

  /* run shows the console on its stdout. */
  g_assert_cmpint (write (guest, "Linux booting\n", 14), ==, 14);
  read_until (g_subprocess_get_stdout_pipe (process), "Linux booting\n");

  g_subprocess_send_signal (process, SIGINT);
  g_assert_true (g_subprocess_wait_check (process, NULL, &error));
  g_assert_no_error (error);
  close (guest);
  close (listener);
  assert_store_empty (fixture);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/hvk/tool/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("help", test_help);
  ADD ("usage-errors", test_usage_errors);
  ADD ("backends", test_backends);
  ADD ("plugin-path", test_plugin_path);
  ADD ("refusals", test_refusals);
  ADD ("check", test_check);
  ADD ("check-not-regular", test_check_not_regular);
  ADD ("check-memory", test_check_memory);
  ADD ("check-duplicate-group", test_check_duplicate_group);
  ADD ("balloon", test_balloon);
  ADD ("relative-paths", test_relative_paths);
  ADD ("argv", test_argv);
  ADD ("argv-scratch", test_argv_scratch);
  ADD ("stats", test_stats);
  ADD ("shutdown-reboot", test_shutdown_reboot);
  ADD ("kernel-params", test_kernel_params);
  ADD ("kernel-params-policies", test_kernel_params_policies);
  ADD ("lifecycle", test_lifecycle);
  ADD ("unknown-vm", test_unknown_vm);
  ADD ("busy", test_busy);
  ADD ("fault-injection", test_fault_injection);
  ADD ("stop-fails", test_stop_fails);
  ADD ("status-check-fails", test_status_check_fails);
  ADD ("corrupt-state", test_corrupt_state);
  ADD ("run-sigterm", test_run_sigterm);
  ADD ("run-guest-exits", test_run_guest_exits);
  ADD ("console", test_console);
  ADD ("console-eof", test_console_eof);
  ADD ("run-console", test_run_console);
#undef ADD

  return g_test_run ();
}
