/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "rel-common.h"

/* `hvkit` killed (SIGKILL) in the middle of start, hotplug, resize, pause
 * and stop, at every point it marks (hvk_debug_kill_point(): state
 * writes, the spawn, each QMP command), against the real QEMU: `list`
 * still works and shows the VM while any of its processes lives, and
 * `stop` leaves no QEMU, no monitor and no directory. */

#define MAX_POINTS 16

static RelEnv env;
static char *conf;
static char *disk;

static gboolean
skip_without_qemu (void)
{
  if (conf != NULL)
    return FALSE;
  g_test_skip ("no QEMU or no test guest kernel (tests/guest/build-guest.sh)");
  return TRUE;
}

static void
start_vm (const char *id)
{
  g_autofree char *err = NULL;
  int status = rel_run_tool (&env, NULL, &err, "start", "-c", conf, "--id", id, NULL);

  g_assert_cmpint (status, ==, 0);
}

/* Runs the tool with HVKIT_TEST_KILL_AT=@point and @args (NULL-padded to
 * 8); -1 when it was killed. */
static int
run_killed_at (guint              point,
               const char * const args[8])
{
  g_autofree char *at = g_strdup_printf ("%u", point);
  int status;

  g_setenv ("HVKIT_TEST_KILL_AT", at, TRUE);
  status = rel_run_tool (&env, NULL, NULL, args[0], args[1], args[2], args[3],
                         args[4], args[5], args[6], args[7], NULL);
  g_unsetenv ("HVKIT_TEST_KILL_AT");
  return status;
}

/* Whatever point the start reached, the files and sockets QEMU and
 * hvkit made in the VM's directory are the owner's alone: QEMU's sockets
 * are 0600 from the moment they exist (a umask, not a chmod afterwards). */
static void
assert_owner_only (const char *dir)
{
  g_autoptr(GDir) entries = g_dir_open (dir, 0, NULL);
  const char *name;

  while (entries != NULL && (name = g_dir_read_name (entries)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      GStatBuf st;

      /* The killed start's processes are still ending: what they remove
       * meanwhile (the monitor renames exit.tmp) is gone, not a leak. */
      if (g_lstat (path, &st) != 0)
        {
          g_assert_cmpint (errno, ==, ENOENT);
          continue;
        }
      if ((st.st_mode & 077) != 0)
        g_error ("%s has mode %04o", path, (guint) (st.st_mode & 07777));
    }
}

/* After a kill: list shows the VM while anything of it lives; stop
 * cleans up whatever the kill left. */
static void
check_recovery (const char *id)
{
  g_autofree char *dir = g_build_filename (env.store, id, NULL);
  g_autofree char *needle = g_strconcat (dir, "/", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *quoted = g_strdup_printf ("\"%s\"", id);
  int status;

  assert_owner_only (dir);
  status = rel_run_tool (&env, &out, NULL, "list", "--json", NULL);
  g_assert_cmpint (status, ==, 0);
  if (rel_count_processes (needle) > 0)
    g_assert_nonnull (strstr (out, quoted));

  status = rel_run_tool (&env, NULL, &err, "stop", id, NULL);
  /* Killed before anything was recorded or spawned: there is no VM. */
  if (status != 0)
    {
      g_assert_cmpint (status, ==, 1);
      g_assert_nonnull (strstr (err, "no VM"));
    }
  rel_assert_nothing_left (&env, id);
}

typedef struct {
  const char *name;
  gboolean    needs_vm;
  const char *args[7];
} Operation;

static void
test_killed (gconstpointer data)
{
  const Operation *op = data;
  guint completed_at = 0;

  if (skip_without_qemu ())
    return;

  for (guint point = 1; point <= MAX_POINTS && completed_at == 0; point++)
    {
      g_autofree char *id = g_strdup_printf ("k-%s-%u", op->name, point);
      const char *args[8] = { NULL, };
      int status;

      if (op->needs_vm)
        start_vm (id);
      /* The operation's arguments, the VM id for "ID". */
      for (guint i = 0; op->args[i] != NULL; i++)
        args[i] = g_str_equal (op->args[i], "ID") ? id
                  : g_str_equal (op->args[i], "CONF") ? conf
                  : g_str_equal (op->args[i], "DISK-DEVICE") ? disk
                  : op->args[i];
      status = run_killed_at (point, args);
      if (status != -1)
        {
          /* It ran to its end before reaching that point. */
          g_assert_cmpint (status, ==, 0);
          completed_at = point;
        }
      check_recovery (id);
    }
  g_test_message ("%s: killed at %u points", op->name, completed_at - 1);
  g_assert_cmpuint (completed_at, >, 1);
}

/* A state file emptied or garbled under a running VM: list says so, and
 * stop kills what runs (found by the VM's directory in its command line)
 * and removes the directory, saying what it could not read. */
static void
test_corrupt_state (gconstpointer data)
{
  const char *contents = data;
  g_autofree char *id = g_strdup_printf ("corrupt-%zu", strlen (contents));
  g_autofree char *state = g_build_filename (env.store, id, HVK_VM_STATE_FILE, NULL);
  g_autofree char *dir = g_build_filename (env.store, id, "/", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;

  if (skip_without_qemu ())
    return;
  start_vm (id);
  g_assert_cmpuint (rel_count_processes (dir), ==, 2);   /* QEMU and its monitor */
  g_file_set_contents (state, contents, -1, &error);
  g_assert_no_error (error);

  g_assert_cmpint (rel_run_tool (&env, &out, NULL, "list", "--json", NULL), ==, 0);
  g_assert_nonnull (strstr (out, id));
  g_assert_nonnull (strstr (out, "corrupt state"));

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (rel_run_tool (&env, &out, &err, "stop", id, NULL), ==, 0);
  g_assert_nonnull (strstr (err, "corrupt state"));
  g_assert_nonnull (strstr (out, "stopped without its record"));
  g_assert_nonnull (strstr (out, "killed pid"));
  rel_assert_nothing_left (&env, id);
}

/* QEMU dies of a signal (as QEMU 7.2 does with "double free or
 * corruption"): status says the VM stopped and how, lists no dead pid, and
 * the log keeps the end. */
static void
test_qemu_aborts (void)
{
  g_autofree char *out = NULL;
  g_autofree char *log = NULL;
  g_autofree char *log_file = g_build_filename (env.store, "aborts", "qemu.log", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *status;
  int qemu;

  if (skip_without_qemu ())
    return;
  start_vm ("aborts");
  g_assert_cmpint (rel_run_tool (&env, &out, NULL, "status", "aborts", "--json", NULL), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  status = json_node_get_object (json_parser_get_root (parser));
  qemu = (int) json_array_get_int_element (json_object_get_array_member (status, "pids"), 0);
  g_assert_cmpint (kill (qemu, SIGABRT), ==, 0);
  g_assert_true (rel_wait_pid_dead (qemu, 5000));

  g_clear_pointer (&out, g_free);
  g_assert_cmpint (rel_run_tool (&env, &out, NULL, "status", "aborts", "--json", NULL), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  status = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (status, "state"), ==, "stopped");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (status, "pids")), ==, 0);
  g_assert_nonnull (strstr (json_object_get_string_member (status, "exit"), "killed by signal 6"));
  g_assert_nonnull (strstr (json_object_get_string_member (status, "error"), "killed by signal 6"));
  g_assert_true (g_file_get_contents (log_file, &log, NULL, NULL));
  g_assert_nonnull (strstr (log, "was killed by signal 6"));

  g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "stop", "aborts", NULL), ==, 0);
  rel_assert_nothing_left (&env, "aborts");
}

static const Operation operations[] = {
  { "start", FALSE, { "start", "-c", "CONF", "--id", "ID", NULL } },
  { "hotplug", TRUE, { "hotplug", "ID", "--device", "DISK-DEVICE", NULL } },
  { "resize", TRUE, { "resize", "ID", "--vcpus", "2", NULL } },
  { "pause", TRUE, { "pause", "ID", NULL } },
  { "stop", TRUE, { "stop", "ID", NULL } },
};

int
main (int    argc,
      char **argv)
{
  const char *guest = g_getenv ("HVKIT_TEST_GUEST_DIR");
  g_autofree char *kernel = NULL;
  g_autofree char *initrd = NULL;
  g_autofree char *image = NULL;
  int result;

  g_test_init (&argc, &argv, NULL);
  rel_env_init (&env);

  kernel = g_build_filename (guest ? guest : "/var/lib/hvkit/guest", "vmlinuz", NULL);
  initrd = g_build_filename (guest ? guest : "/var/lib/hvkit/guest", "initrd.img", NULL);
  if (g_file_test ("/usr/bin/qemu-system-x86_64", G_FILE_TEST_IS_EXECUTABLE)
      && g_file_test (kernel, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *text = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *zeros = g_malloc0 (1024 * 1024);

      image = g_build_filename (env.tmpdir, "hot.img", NULL);
      g_file_set_contents (image, zeros, 1024 * 1024, &error);
      g_assert_no_error (error);
      disk = g_strdup_printf ("block,id=hot1,path=%s,format=raw", image);
      conf = g_build_filename (env.tmpdir, "killed.conf", NULL);
      text = g_strdup_printf ("[hypervisor]\nbackend=qemu\n\n[hypervisor.qemu]\n"
                              "path=/usr/bin/qemu-system-x86_64\nkernel=%s\ninitrd=%s\n"
                              "machine_type=q35\nmachine_accelerators=accel=tcg\n"
                              "default_vcpus=1\ndefault_maxvcpus=2\n"
                              "default_memory=128\ndefault_maxmemory=512\n"
                              "memory_slots=2\ndefault_bridges=1\n"
                              "block_device_driver=virtio-blk\n", kernel, initrd);
      g_file_set_contents (conf, text, -1, &error);
      g_assert_no_error (error);
    }

  for (guint i = 0; i < G_N_ELEMENTS (operations); i++)
    {
      g_autofree char *path = g_strdup_printf ("/hvk/reliability/killed/%s", operations[i].name);
      g_test_add_data_func (path, &operations[i], test_killed);
    }

  g_test_add_func ("/hvk/reliability/killed/qemu-aborts", test_qemu_aborts);
  g_test_add_data_func ("/hvk/reliability/killed/state-empty", "", test_corrupt_state);
  g_test_add_data_func ("/hvk/reliability/killed/state-garbage", "{\"version\": 1, garbage",
                        test_corrupt_state);
  /* An envelope of the current version that names another VM. */
  g_test_add_data_func ("/hvk/reliability/killed/state-other-vm",
                        "{\"version\": 2, \"id\": \"victim\", \"backend\": \"qemu\", \"state\": \"running\", "
                        "\"config\": \"[hypervisor]\\nbackend=qemu\\n\", \"cold_devices\": [], \"launch\": null, "
                        "\"processes\": [], \"paths\": {\"vm_dir\": \"/\"}, \"private\": {}}",
                        test_corrupt_state);

  result = g_test_run ();
  g_free (conf);
  g_free (disk);
  rel_env_clear (&env);
  return result;
}
