/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* unshare() */
#endif

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "rel-common.h"

/* Fault injection around the files hvkit keeps: a state dir that cannot
 * be created, is read-only (a read-only bind mount) or full (a tiny
 * tmpfs); state files that are corrupt, from another version or from
 * another VM; plugin directories with junk, and a plugin whose init
 * crashes.  The mounts live in a mount namespace of this test program
 * (unshare), so nothing outlives it; without the privilege those cases
 * skip. */

static RelEnv env;
static HvkRegistry *registry;
static gboolean can_mount;

static void
set_mode (const char *mode)
{
  g_setenv ("HVK_FAKE_QEMU_MODE", mode, TRUE);
}

static char *
qmp_log (void)
{
  return g_build_filename (env.tmpdir, "qmp.log", NULL);
}

static gboolean
qmp_log_has (const char *command)
{
  g_autofree char *path = qmp_log ();
  g_autofree char *text = NULL;
  g_autofree char *needle = g_strdup_printf ("\"execute\": \"%s\"", command);
  g_autofree char *needle2 = g_strdup_printf ("\"execute\":\"%s\"", command);

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  return strstr (text, needle) != NULL || strstr (text, needle2) != NULL;
}

static void
assert_tool_fails (int         status,
                   const char *err,
                   int         want,
                   const char *needle)
{
  g_assert_cmpint (status, ==, want);
  g_assert_true (g_str_has_prefix (err, "hvkit: error: "));
  if (needle != NULL)
    g_assert_nonnull (strstr (err, needle));
}

/* Creates VM @id in @store through the API; returns create_vm's error. */
static GError *
try_create (const char *store,
            const char *id)
{
  g_autofree char *conf = rel_write_config (&env, id, NULL);
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  GError *error = NULL;

  config = hvk_config_new_from_file (conf, registry, &error);
  g_assert_no_error (error);
  hvk_config_set_vm_store_path (config, store);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  if (hvk_hypervisor_create_vm (hypervisor, id, config, &error))
    {
      hvk_hypervisor_start_vm (hypervisor, 20000, NULL, &error);
      g_assert_no_error (error);
      g_assert_not_reached ();
    }
  g_assert_cmpint (hvk_hypervisor_get_state (hypervisor), !=, HVK_VM_STATE_RUNNING);
  return error;
}

/* ---- the state dir ---- */

static void
test_store_is_a_file (void)
{
  g_autofree char *file = g_build_filename (env.tmpdir, "notadir", NULL);
  g_autofree char *conf = rel_write_config (&env, "sfile", NULL);
  g_autofree char *err = NULL;
  g_autofree char *out = NULL;
  g_autofree char *tool = g_strdup (g_getenv ("HVKIT_TEST_TOOL"));
  g_autoptr(GError) error = NULL;
  guint fds = rel_count_fds ();
  int status = 0;
  const char *argv[] = { tool, "--state-dir", file, "start", "-c", conf, "--id", "sfile", NULL };

  g_file_set_contents (file, "I am a file", -1, &error);
  g_assert_no_error (error);

  error = try_create (file, "sfile");
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, file));
  g_assert_cmpuint (rel_count_fds (), ==, fds);

  set_mode ("");
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                &out, &err, &status, NULL);
  g_test_message ("%s", err);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 1);
  g_assert_nonnull (strstr (err, file));
  g_assert_cmpuint (rel_count_processes (env.tmpdir), ==, 0);
  g_unlink (file);
}

static void
test_vm_dir_is_a_file (void)
{
  g_autofree char *file = g_build_filename (env.store, "occupied", NULL);
  g_autofree char *conf = rel_write_config (&env, "occupied", NULL);
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  g_mkdir_with_parents (env.store, 0700);
  g_file_set_contents (file, "not a VM dir", -1, &error);
  g_assert_no_error (error);

  error = try_create (env.store, "occupied");
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "not a directory"));

  set_mode ("");
  status = rel_run_tool (&env, NULL, &err, "start", "-c", conf, "--id", "occupied", NULL);
  assert_tool_fails (status, err, 1, "not a directory");
  /* The file is not ours: left alone. */
  g_assert_true (g_file_test (file, G_FILE_TEST_IS_REGULAR));
  g_unlink (file);
  rel_assert_nothing_left (&env, "occupied");
}

static gboolean
skip_without_mounts (void)
{
  if (can_mount)
    return FALSE;
  g_test_skip ("no private mount namespace (needs root): read-only and full state dirs not tested");
  return TRUE;
}

static void
remount (const char *path,
         gboolean    read_only)
{
  unsigned long flags = MS_BIND | MS_REMOUNT | (read_only ? MS_RDONLY : 0);

  g_assert_cmpint (mount ("none", path, "none", flags, NULL), ==, 0);
}

static void
test_store_read_only (void)
{
  g_autofree char *conf = rel_write_config (&env, "rovm", NULL);
  g_autofree char *err = NULL;
  g_autofree char *state_before = NULL;
  g_autofree char *state_after = NULL;
  g_autofree char *state_file = g_build_filename (env.store, "rovm", HVK_VM_STATE_FILE, NULL);
  g_autofree char *log = qmp_log ();
  g_autoptr(GError) error = NULL;
  guint fds;
  int status;

  if (skip_without_mounts ())
    return;

  /* The state dir, bind-mounted read-only onto itself. */
  g_mkdir_with_parents (env.store, 0700);
  g_assert_cmpint (mount (env.store, env.store, "none", MS_BIND, NULL), ==, 0);
  remount (env.store, TRUE);

  fds = rel_count_fds ();
  error = try_create (env.store, "rovm");
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "Read-only file system"));
  g_assert_cmpuint (rel_count_fds (), ==, fds);

  set_mode ("");
  status = rel_run_tool (&env, NULL, &err, "start", "-c", conf, "--id", "rovm", NULL);
  assert_tool_fails (status, err, 1, "Read-only file system");
  g_assert_cmpuint (rel_count_processes (env.tmpdir), ==, 0);

  /* A VM started while writable; then the dir turns read-only. */
  remount (env.store, FALSE);
  g_unlink (log);
  g_setenv ("HVK_FAKE_QEMU_LOG", log, TRUE);
  g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "start", "-c", conf, "--id", "rovm", NULL), ==, 0);
  g_assert_true (g_file_get_contents (state_file, &state_before, NULL, NULL));
  /* QEMU and its monitor keep the VM's log open for writing, and the
   * kernel refuses to make a mount with writers read-only (EBUSY): stack
   * a second bind mount, which they do not use, and make that one
   * read-only (a file system going read-only on errors is not refused). */
  g_assert_cmpint (mount (env.store, env.store, "none", MS_BIND, NULL), ==, 0);
  remount (env.store, TRUE);

  g_clear_pointer (&err, g_free);
  status = rel_run_tool (&env, NULL, &err, "pause", "rovm", NULL);
  assert_tool_fails (status, err, 1, "Read-only file system");
  /* Refused before anything was asked of QEMU: state file and VM agree. */
  g_assert_false (qmp_log_has ("stop"));
  g_assert_true (g_file_get_contents (state_file, &state_after, NULL, NULL));
  g_assert_cmpstr (state_before, ==, state_after);

  g_assert_cmpint (umount (env.store), ==, 0);
  g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "pause", "rovm", NULL), ==, 0);
  g_assert_true (qmp_log_has ("stop"));
  g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "stop", "rovm", NULL), ==, 0);
  g_assert_cmpint (umount (env.store), ==, 0);
  rel_assert_nothing_left (&env, "rovm");
}

/* Fills the file system of @dir; returns the filler's path. */
static char *
fill_up (const char *dir)
{
  char *path = g_build_filename (dir, "filler", NULL);
  static char block[4096];
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

  g_assert_cmpint (fd, >=, 0);
  while (write (fd, block, sizeof block) > 0)
    ;
  g_assert_cmpint (errno, ==, ENOSPC);
  /* And the last partial page. */
  while (write (fd, block, 1) > 0)
    ;
  close (fd);
  return path;
}

static void
assert_store_entries (const char *dir,
                      const char * const *allowed)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_test_message ("%s: %s", dir, name);
      g_assert_true (g_strv_contains (allowed, name));
    }
}

static void
test_store_full (void)
{
  g_autofree char *conf = rel_write_config (&env, "fullvm", NULL);
  g_autofree char *err = NULL;
  g_autofree char *filler = NULL;
  g_autofree char *state_before = NULL;
  g_autofree char *state_after = NULL;
  g_autofree char *vm_dir = g_build_filename (env.store, "fullvm", NULL);
  g_autofree char *state_file = g_build_filename (vm_dir, HVK_VM_STATE_FILE, NULL);
  g_autofree char *log = qmp_log ();
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  const char * const vm_files[] = { HVK_VM_STATE_FILE, ".lock", "pid", "qmp.sock",
                                    "qemu.log", NULL };
  const char * const store_files[] = { "filler", "fullvm", NULL };
  guint fds;
  int status;

  if (skip_without_mounts ())
    return;

  g_mkdir_with_parents (env.store, 0700);
  g_assert_cmpint (mount ("tmpfs", env.store, "tmpfs", 0, "size=256k,mode=0700"), ==, 0);

  /* Full before the start: refused, nothing left. */
  filler = fill_up (env.store);
  set_mode ("");
  status = rel_run_tool (&env, NULL, &err, "start", "-c", conf, "--id", "fullvm", NULL);
  assert_tool_fails (status, err, 1, "No space left on device");
  g_assert_cmpuint (rel_count_processes (env.tmpdir), ==, 0);
  g_assert_false (g_file_test (vm_dir, G_FILE_TEST_EXISTS));
  g_unlink (filler);

  /* Full while it runs. */
  g_unlink (log);
  g_setenv ("HVK_FAKE_QEMU_LOG", log, TRUE);
  g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "start", "-c", conf, "--id", "fullvm", NULL), ==, 0);
  g_assert_true (g_file_get_contents (state_file, &state_before, NULL, NULL));
  g_free (filler);
  filler = fill_up (env.store);

  g_clear_pointer (&err, g_free);
  status = rel_run_tool (&env, NULL, &err, "pause", "fullvm", NULL);
  assert_tool_fails (status, err, 1, "No space left on device");
  g_assert_false (qmp_log_has ("stop"));
  g_assert_true (g_file_get_contents (state_file, &state_after, NULL, NULL));
  g_assert_cmpstr (state_before, ==, state_after);
  /* No half-written temporary file beside it. */
  assert_store_entries (vm_dir, vm_files);
  assert_store_entries (env.store, store_files);

  /* The API: saving fails with the reason, the old state stays whole. */
  fds = rel_count_fds ();
  hypervisor = hvk_vm_store_load_hypervisor (env.store, "fullvm", registry, &error);
  g_assert_no_error (error);
  g_assert_false (hvk_vm_store_save_hypervisor (env.store, "fullvm", hypervisor, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, state_file));
  g_clear_error (&error);
  hvk_hypervisor_disconnect (hypervisor);
  g_clear_object (&hypervisor);
  g_assert_cmpuint (rel_count_fds (), ==, fds);
  g_clear_pointer (&state_after, g_free);
  g_assert_true (g_file_get_contents (state_file, &state_after, NULL, NULL));
  g_assert_cmpstr (state_before, ==, state_after);
  assert_store_entries (vm_dir, vm_files);

  /* stop works on a full disk: it only removes. */
  g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "stop", "fullvm", NULL), ==, 0);
  g_unlink (filler);
  g_assert_cmpint (umount (env.store), ==, 0);
  rel_assert_nothing_left (&env, "fullvm");
}

/* ---- state files ---- */

typedef struct {
  const char *name;
  const char *text;     /* "%s" is replaced by the VM id */
  const char *needle;
} CorruptCase;

static const CorruptCase corrupt_cases[] = {
  { "garbage", "{{{ not json", "corrupt state" },
  { "empty", "", "the file is empty" },
  { "array", "[1, 2, 3]", "not a JSON object" },
  { "other-version", "{\"version\": 999, \"id\": \"%s\", \"backend\": \"qemu\", \"config\": \"\", \"hypervisor\": {}}",
    "unsupported state version 999" },
  { "version-string", "{\"version\": \"1\", \"id\": \"%s\"}", "'version'" },
  { "no-config", "{\"version\": 1, \"id\": \"%s\", \"backend\": \"qemu\", \"hypervisor\": {}}", "'config'" },
  { "other-vm", "{\"version\": 1, \"id\": \"victim\", \"backend\": \"qemu\", \"config\": \"\", \"hypervisor\": {}}",
    "belongs to VM 'victim'" },
  { "bad-config", "{\"version\": 1, \"id\": \"%s\", \"backend\": \"qemu\", \"config\": \"[[[\", \"hypervisor\": {}}",
    NULL },
  { "unknown-backend", "{\"version\": 1, \"id\": \"%s\", \"backend\": \"nosuch\", \"config\": \"[hypervisor]\\nbackend=nosuch\\n\", \"hypervisor\": {}}",
    "nosuch" },
  { "backend-state", "{\"version\": 1, \"id\": \"%s\", \"backend\": \"qemu\", \"config\": \"[hypervisor]\\nbackend=qemu\\n\", \"hypervisor\": {\"state\": \"running\", \"id\": \"../../etc\", \"argv\": 7}}",
    "corrupt state: member 'hypervisor': invalid VM id '../../etc'" },
  { "backend-state-v1-argv", "{\"version\": 1, \"id\": \"%s\", \"backend\": \"qemu\", \"config\": \"[hypervisor]\\nbackend=qemu\\n\", \"hypervisor\": {\"state\": \"running\", \"id\": \"%s\", \"argv\": 7}}",
    "corrupt state: member 'hypervisor': member 'argv' is missing or not an array" },
  { "envelope-processes", "{\"version\": 2, \"id\": \"%s\", \"backend\": \"qemu\", \"state\": \"running\", \"config\": \"[hypervisor]\\nbackend=qemu\\n\", \"cold_devices\": [], \"launch\": null, \"processes\": [{\"role\": \"qemu\", \"pid\": \"1\", \"start_time\": 0}], \"paths\": {}, \"private\": {}}",
    "corrupt state: processes: member 'pid'" },
  { "envelope-private", "{\"version\": 2, \"id\": \"%s\", \"backend\": \"qemu\", \"state\": \"running\", \"config\": \"[hypervisor]\\nbackend=qemu\\n\", \"cold_devices\": [], \"launch\": {\"argv\": [\"qemu\"]}, \"processes\": [], \"paths\": {\"vm_dir\": \"/etc\"}, \"private\": {\"hotplugged\": 7}}",
    "corrupt QEMU state: member 'hotplugged'" },
};

static void
test_corrupt_state (gconstpointer data)
{
  const CorruptCase *c = data;
  g_autofree char *id = g_strdup_printf ("c-%s", c->name);
  g_autofree char *dir = g_build_filename (env.store, id, NULL);
  g_autofree char *path = g_build_filename (dir, HVK_VM_STATE_FILE, NULL);
  g_auto(GStrv) parts = g_strsplit (c->text, "%s", -1);
  g_autofree char *text = g_strjoinv (id, parts);
  g_autofree char *after = NULL;
  g_autofree char *err = NULL;
  g_autofree char *out = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  guint fds = rel_count_fds ();
  int status;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);

  hypervisor = hvk_vm_store_load_hypervisor (env.store, id, registry, &error);
  g_assert_null (hypervisor);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_true (error->domain == HVK_ERROR);
  if (c->needle != NULL)
    g_assert_nonnull (strstr (error->message, c->needle));
  g_assert_cmpuint (rel_count_fds (), ==, fds);

  /* The tool: every command that needs the VM says why, none crashes. */
  for (const char * const *cmd = (const char * const[]) { "status", "pause", "resume", NULL };
       *cmd != NULL; cmd++)
    {
      g_clear_pointer (&err, g_free);
      status = rel_run_tool (&env, NULL, &err, *cmd, id, NULL);
      assert_tool_fails (status, err, 1, NULL);
      g_assert_nonnull (strstr (err, path) != NULL ? path : strstr (err, id));
    }
  status = rel_run_tool (&env, &out, NULL, "list", NULL);
  g_assert_cmpint (status, ==, 0);

  /* Nothing was removed or rewritten: the evidence stays… */
  g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, text);
  /* …until stop, which says what it could not read, kills what names the
   * VM's directory (nothing here) and removes it. */
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&out, g_free);
  status = rel_run_tool (&env, &out, &err, "stop", id, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (err, path) != NULL ? path : strstr (err, id));
  g_assert_nonnull (strstr (out, "stopped without its record"));
  rel_assert_nothing_left (&env, id);
}

/* ---- plugins ---- */

static char *
zoo_plugin (const char *name)
{
  g_autofree char *file = g_strdup_printf ("libhvktest-%s.so", name);

  return g_build_filename (g_getenv ("HVK_TEST_ZOO_DIR"), name, file, NULL);
}

static char *
crash_plugin (void)
{
  return g_build_filename (g_getenv ("HVK_RELIABILITY_BUILDDIR"), "libhvktest-init-crash.so", NULL);
}

static void
copy_file (const char *from,
           const char *to,
           gssize      max)
{
  g_autofree char *data = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;

  g_file_get_contents (from, &data, &len, &error);
  g_assert_no_error (error);
  if (max >= 0 && (gsize) max < len)
    len = max;
  g_file_set_contents (to, data, len, &error);
  g_assert_no_error (error);
}

static gboolean
refusals_mention (HvkRegistry *reg,
                  const char  *needle)
{
  g_autoptr(GPtrArray) refusals = hvk_registry_get_refusals (reg);

  for (guint i = 0; i < refusals->len; i++)
    if (strstr (((GError *) g_ptr_array_index (refusals, i))->message, needle) != NULL)
      return TRUE;
  return FALSE;
}

static void
test_plugin_junk_dir (void)
{
  g_autofree char *dir = g_build_filename (env.tmpdir, "junk-plugins", NULL);
  g_autofree char *text = g_build_filename (dir, "libtext.so", NULL);
  g_autofree char *empty = g_build_filename (dir, "libempty.so", NULL);
  g_autofree char *truncated = g_build_filename (dir, "libtruncated.so", NULL);
  g_autofree char *bad_abi = g_build_filename (dir, "libbadabi.so", NULL);
  g_autofree char *subdir = g_build_filename (dir, "libdir.so", NULL);
  g_autofree char *good = g_build_filename (dir, "libzgood.so", NULL);
  g_autofree char *good_src = zoo_plugin ("good");
  g_autofree char *abi_src = zoo_plugin ("bad-abi");
  g_autofree char *err = NULL;
  g_autofree char *out = NULL;
  g_autofree char *path_option = NULL;
  g_autoptr(HvkRegistry) reg = hvk_registry_new ();
  g_autoptr(GError) error = NULL;
  guint fds = rel_count_fds ();
  int status;

  g_assert_cmpint (g_mkdir_with_parents (subdir, 0755), ==, 0);
  g_file_set_contents (text, "#!/bin/sh\necho not a plugin\n", -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (empty, "", 0, &error);
  g_assert_no_error (error);
  copy_file (good_src, truncated, 200);
  copy_file (abi_src, bad_abi, -1);
  copy_file (good_src, good, -1);

  g_assert_true (hvk_registry_scan_path (reg, dir, &error));
  g_assert_no_error (error);
  for (const char * const *f = (const char * const[]) { text, empty, truncated, bad_abi, NULL };
       *f != NULL; f++)
    g_assert_true (refusals_mention (reg, *f));
  g_assert_true (refusals_mention (reg, "ABI version"));
  g_assert_false (refusals_mention (reg, subdir));
  /* The good plugin after the junk still loads. */
  g_assert_nonnull (hvk_registry_lookup_backend (reg, "testbe"));
  g_clear_object (&reg);
  /* Modules stay resident; only the descriptor count matters. */
  g_assert_cmpuint (rel_count_fds (), ==, fds);

  /* The tool names each refusal and lists what loaded. */
  path_option = g_strdup_printf ("--plugin-path=%s", dir);
  status = rel_run_tool (&env, &out, &err, path_option, "backends", NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "testbe"));
  g_assert_nonnull (strstr (err, "libtext.so"));
  g_assert_nonnull (strstr (err, "libbadabi.so"));
  g_assert_nonnull (strstr (err, "ABI version"));
  rel_remove_tree (dir);
}

static guint
count_lines (const char *path)
{
  g_autofree char *text = NULL;
  guint n = 0;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  for (const char *p = text; *p != '\0'; p++)
    n += *p == '\n';
  return n;
}

/* The same file reached three ways (a dir listed twice, a symlink): its
 * init runs once. */
static void
scan_three_ways (const char *dir)
{
  g_autofree char *twice = g_strdup_printf ("%s:%s", dir, dir);
  g_autofree char *link = g_build_filename (env.tmpdir, "linked-plugins", NULL);
  g_autofree char *target = g_build_filename (dir, "libhvktest-init-crash.so", NULL);
  g_autofree char *link_file = g_build_filename (link, "libalias.so", NULL);
  g_autoptr(HvkRegistry) reg = hvk_registry_new ();

  g_mkdir_with_parents (link, 0755);
  g_unlink (link_file);
  g_assert_cmpint (symlink (target, link_file), ==, 0);
  g_setenv ("HVKIT_PLUGIN_PATH", twice, TRUE);
  g_setenv ("HVKIT_PLUGIN_SYSTEM_PATH", link, TRUE);
  hvk_registry_scan (reg);
  g_assert_nonnull (hvk_registry_load_plugin (reg, target, NULL));
  g_assert_nonnull (hvk_registry_lookup_plugin (reg, "init-crash"));
}

static char *
crash_dir (void)
{
  g_autofree char *dir = g_build_filename (env.tmpdir, "crash-plugins", NULL);
  g_autofree char *src = crash_plugin ();
  g_autofree char *dest = g_build_filename (dir, "libhvktest-init-crash.so", NULL);

  g_mkdir_with_parents (dir, 0755);
  if (!g_file_test (dest, G_FILE_TEST_EXISTS))
    copy_file (src, dest, -1);
  return g_steal_pointer (&dir);
}

static void
test_plugin_init_once (void)
{
  g_autofree char *dir = crash_dir ();
  g_autofree char *log = g_build_filename (env.tmpdir, "init.log", NULL);
  g_autofree char *path = g_strdup (g_getenv ("HVKIT_PLUGIN_PATH"));
  g_autofree char *system = g_strdup (g_getenv ("HVKIT_PLUGIN_SYSTEM_PATH"));

  g_unlink (log);
  g_setenv ("HVK_TEST_INIT_LOG", log, TRUE);
  scan_three_ways (dir);
  g_assert_cmpuint (count_lines (log), ==, 1);
  g_setenv ("HVKIT_PLUGIN_PATH", path, TRUE);
  g_setenv ("HVKIT_PLUGIN_SYSTEM_PATH", system, TRUE);
  g_unsetenv ("HVK_TEST_INIT_LOG");
}

static void
test_plugin_init_crash (void)
{
  g_autofree char *dir = crash_dir ();
  g_autofree char *log = g_build_filename (env.tmpdir, "crash.log", NULL);

  if (g_test_subprocess ())
    {
      g_setenv ("HVK_TEST_INIT_LOG", log, TRUE);
      g_setenv ("HVK_TEST_INIT_CRASH", "1", TRUE);
      scan_three_ways (dir);
      return;   /* not reached: init aborts */
    }

  g_unlink (log);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  /* It crashed in its first init: not a second one (no retry). */
  g_assert_cmpuint (count_lines (log), ==, 1);
}

static void
test_plugin_world_writable (void)
{
  g_autofree char *dir = g_build_filename (env.tmpdir, "open-plugins", NULL);
  g_autofree char *good_src = zoo_plugin ("good");
  g_autofree char *good = g_build_filename (dir, "libgood.so", NULL);
  g_autofree char *conf = g_build_filename (env.tmpdir, "testbe.conf", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *path_option = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  g_mkdir_with_parents (dir, 0755);
  copy_file (good_src, good, -1);
  g_assert_cmpint (chmod (dir, 0777), ==, 0);
  g_file_set_contents (conf, "[hypervisor]\nbackend=testbe\n", -1, &error);
  g_assert_no_error (error);

  path_option = g_strdup_printf ("--plugin-path=%s", dir);
  status = rel_run_tool (&env, &out, &err, path_option, "backends", NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (err, "world-writable"));
  g_assert_nonnull (strstr (err, dir));
  g_assert_null (strstr (out, "testbe"));

  /* Any command, not only `backends`, says why the backend is missing. */
  g_clear_pointer (&err, g_free);
  status = rel_run_tool (&env, NULL, &err, path_option, "check", "-c", conf, NULL);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, "world-writable"));

  /* The same dir, no longer world-writable, is used. */
  g_assert_cmpint (chmod (dir, 0755), ==, 0);
  g_clear_pointer (&out, g_free);
  status = rel_run_tool (&env, &out, NULL, path_option, "backends", NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "testbe"));
  rel_remove_tree (dir);
}

/* Plugins come only from the configured absolute dirs: a relative
 * HVKIT_PLUGIN_PATH entry (which would follow the current directory) is
 * refused with a message; the tool's --plugin-path resolves its own. */
static void
test_plugin_relative_path (void)
{
  g_autofree char *dir = g_build_filename (env.tmpdir, "rel-plugins", NULL);
  g_autofree char *good_src = zoo_plugin ("good");
  g_autofree char *good = g_build_filename (dir, "libgood.so", NULL);
  g_autofree char *saved_cwd = g_get_current_dir ();
  g_autofree char *saved_path = g_strdup (g_getenv ("HVKIT_PLUGIN_PATH"));
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(HvkRegistry) reg = hvk_registry_new ();

  g_mkdir_with_parents (dir, 0755);
  copy_file (good_src, good, -1);
  g_assert_cmpint (chdir (env.tmpdir), ==, 0);

  g_setenv ("HVKIT_PLUGIN_PATH", "rel-plugins", TRUE);
  hvk_registry_scan (reg);
  g_assert_null (hvk_registry_lookup_backend (reg, "testbe"));
  g_assert_true (refusals_mention (reg, "rel-plugins: plugin directory is not an absolute path"));

  /* The tool warns for the environment's entry ... */
  g_assert_cmpint (rel_run_tool (&env, &out, &err, "backends", NULL), ==, 0);
  g_assert_nonnull (strstr (err, "not an absolute path"));
  g_assert_null (strstr (out, "testbe"));
  g_setenv ("HVKIT_PLUGIN_PATH", saved_path, TRUE);
  /* ... and resolves its option's against where it runs. */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (rel_run_tool (&env, &out, &err, "--plugin-path", "rel-plugins", "backends", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "testbe"));
  g_assert_null (strstr (err, "absolute"));

  g_assert_cmpint (chdir (saved_cwd), ==, 0);
  rel_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  int ret;

  /* Before any thread: a mount namespace of our own, so that the
   * read-only and tmpfs mounts vanish with this process. */
  can_mount = geteuid () == 0 && unshare (CLONE_NEWNS) == 0
              && mount ("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == 0;

  g_test_init (&argc, &argv, NULL);
  rel_env_init (&env);
  registry = rel_registry_new ();

  g_test_add_func ("/hvk/reliability/store/is-a-file", test_store_is_a_file);
  g_test_add_func ("/hvk/reliability/store/vm-dir-is-a-file", test_vm_dir_is_a_file);
  g_test_add_func ("/hvk/reliability/store/read-only", test_store_read_only);
  g_test_add_func ("/hvk/reliability/store/full", test_store_full);
  for (gsize i = 0; i < G_N_ELEMENTS (corrupt_cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/hvk/reliability/state/%s", corrupt_cases[i].name);
      g_test_add_data_func (name, &corrupt_cases[i], test_corrupt_state);
    }
  g_test_add_func ("/hvk/reliability/plugins/junk-dir", test_plugin_junk_dir);
  g_test_add_func ("/hvk/reliability/plugins/init-once", test_plugin_init_once);
  g_test_add_func ("/hvk/reliability/plugins/init-crash", test_plugin_init_crash);
  g_test_add_func ("/hvk/reliability/plugins/world-writable", test_plugin_world_writable);
  g_test_add_func ("/hvk/reliability/plugins/relative-path", test_plugin_relative_path);

  ret = g_test_run ();
  g_clear_object (&registry);
  rel_env_clear (&env);
  return ret;
}
