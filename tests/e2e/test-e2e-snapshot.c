/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "e2e-common.h"

/* End to end through the built `hvkit` tool: VM templates (`hvkit
 * template`, clones with boot_from_template) and `hvkit save` / `hvkit
 * restore`, on guests that count on their console (hvkit.counter=1), so
 * that a guest that went on where it was saved is told from one that
 * booted again. */

static E2eEnv env;

/* The last complete "HVKIT-COUNTER N" line of @c (a line still being
 * written does not count), or -1. */
static gint64
last_counter (E2eConsole *c)
{
  const char *text = e2e_console_text (c);
  gint64 value = -1;

  for (const char *p = strstr (text, "HVKIT-COUNTER "); p != NULL; p = strstr (p + 1, "HVKIT-COUNTER "))
    {
      const char *digits = p + strlen ("HVKIT-COUNTER ");
      char *end = NULL;
      gint64 n = g_ascii_strtoll (digits, &end, 10);

      if (end != digits && (*end == '\r' || *end == '\n'))
        value = n;
    }
  return value;
}

/* A start that must fail, leaving no VM dir and no process behind. */
static void
clone_refused (const char *conf,
               const char *id,
               const char *needle)
{
  g_autofree char *err = NULL;
  g_autofree char *dir = g_build_filename (env.store, id, NULL);

  g_assert_cmpint (e2e_run_tool (&env, NULL, &err, "start", "-c", conf, "--id", id, NULL), ==, 1);
  g_test_message ("%s: %s", id, err);
  g_assert_nonnull (strstr (err, needle));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
}

/* Kata's VM templating from the shell: a boot_to_be_template VM is
 * saved with `hvkit template` (paused, device state migrated, stopped);
 * two clones (boot_from_template) run at once from its files, go on
 * counting where the template stopped without booting again, and one
 * takes a hot-plugged disk.  A clone from a missing or truncated state
 * file fails, leaving nothing. */
static void
test_template (void)
{
  g_autofree char *mem = NULL;
  g_autofree char *state = NULL;
  g_autofree char *truncated = NULL;
  g_autofree char *common = NULL;
  g_autofree char *tpl_overrides = NULL;
  g_autofree char *clone_overrides = NULL;
  g_autofree char *bad_overrides = NULL;
  g_autofree char *tpl_conf = NULL;
  g_autofree char *clone_conf = NULL;
  g_autofree char *bad_conf = NULL;
  g_autofree char *out = NULL;
  g_autofree char *disk = NULL;
  g_autofree char *spec = NULL;
  g_autofree char *state_text = NULL;
  g_autofree char *tpl_dir = NULL;
  g_autoptr(JsonObject) tpl_status = NULL;
  g_autoptr(E2eConsole) tpl_console = NULL;
  E2eConsole *consoles[2] = { NULL, NULL };
  const char *ids[2] = { "e2e-clone-a", "e2e-clone-b" };
  char *qmp[2] = { NULL, NULL };
  int pids[2] = { 0, 0 };
  gsize state_len = 0;
  gint64 saved_at;
  int tpl_pid;
  GStatBuf st;

  if (e2e_env_skip (&env))
    return;

  mem = g_build_filename (env.tmpdir, "tpl-memory", NULL);
  state = g_build_filename (env.tmpdir, "tpl-state", NULL);
  truncated = g_build_filename (env.tmpdir, "tpl-state-truncated", NULL);
  common = g_strdup_printf ("memory_path=%s\nkernel_params=hvkit.counter=1", mem);
  tpl_overrides = g_strdup_printf ("boot_to_be_template=true\ndevices_state_path=%s\n%s", state, common);
  clone_overrides = g_strdup_printf ("boot_from_template=true\ndevices_state_path=%s\n%s", state, common);
  bad_overrides = g_strdup_printf ("boot_from_template=true\ndevices_state_path=%s\n%s", truncated, common);
  tpl_conf = e2e_write_config (&env, "tpl", tpl_overrides, NULL);
  clone_conf = e2e_write_config (&env, "clone", clone_overrides, NULL);
  bad_conf = e2e_write_config (&env, "clone-bad", bad_overrides, NULL);

  /* No template yet: the clone's start says which file is missing
   * (before launching anything). */
  clone_refused (clone_conf, "e2e-clone-x", "save a template first");

  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "start", "-c", tpl_conf, "--id", "e2e-tpl", NULL), ==, 0);
  tpl_status = e2e_tool_status (&env, "e2e-tpl");
  tpl_pid = (int) json_array_get_int_element (json_object_get_array_member (tpl_status, "pids"), 0);
  e2e_track_pid (tpl_pid);
  tpl_console = e2e_console_open (json_object_get_string_member (tpl_status, "console"), 5000);
  g_assert_nonnull (tpl_console);
  if (!e2e_console_wait_count (tpl_console, "HVKIT-COUNTER ", 3, E2E_BOOT_TIMEOUT_MS))
    g_error ("the template did not count; console said:\n%s", e2e_console_text (tpl_console));

  g_assert_cmpint (e2e_run_tool (&env, &out, NULL, "template", "e2e-tpl", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "saved as a template"));
  /* Whatever the console still had in flight was said before the save. */
  e2e_console_wait (tpl_console, "no such line", 300);
  saved_at = last_counter (tpl_console);
  g_assert_cmpint (saved_at, >, 0);
  g_assert_true (e2e_wait_pid_dead (tpl_pid, 5000));
  tpl_dir = g_build_filename (env.store, "e2e-tpl", NULL);
  g_assert_false (g_file_test (tpl_dir, G_FILE_TEST_EXISTS));
  g_assert_cmpint (g_stat (mem, &st), ==, 0);
  g_assert_cmpint (st.st_size, ==, 256 * 1024 * 1024);
  g_assert_true (g_file_get_contents (state, &state_text, &state_len, NULL));
  g_assert_cmpuint (state_len, >, 0);

  /* Two clones at once, each with its own sockets and console. */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(JsonObject) status = NULL;
      g_autofree char *err = NULL;

      g_assert_cmpint (e2e_run_tool (&env, NULL, &err, "start", "-c", clone_conf, "--id", ids[i], NULL), ==, 0);
      status = e2e_tool_status (&env, ids[i]);
      g_assert_cmpstr (json_object_get_string_member (status, "state"), ==, "running");
      pids[i] = (int) json_array_get_int_element (json_object_get_array_member (status, "pids"), 0);
      e2e_track_pid (pids[i]);
      qmp[i] = g_strdup (json_object_get_string_member (status, "qmp_socket"));
      consoles[i] = e2e_console_open (json_object_get_string_member (status, "console"), 5000);
      g_assert_nonnull (consoles[i]);
    }
  g_assert_cmpstr (qmp[0], !=, qmp[1]);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *qemu_status = e2e_qmp_status (qmp[i]);

      g_assert_cmpstr (qemu_status, ==, "running");
      if (!e2e_console_wait_count (consoles[i], "HVKIT-COUNTER ", 3, E2E_EVENT_TIMEOUT_MS))
        g_error ("clone %s does not count; console said:\n%s", ids[i], e2e_console_text (consoles[i]));
      /* It went on from the template's memory: no boot, a larger count. */
      g_assert_cmpint (last_counter (consoles[i]), >, saved_at);
      g_assert_null (strstr (e2e_console_text (consoles[i]), E2E_READY_MARKER));
    }

  /* A disk hot-plugged into one clone; the other counts on. */
  disk = g_build_filename (env.tmpdir, "clone-disk.raw", NULL);
  g_assert_true (g_file_set_contents (disk, "", 0, NULL));
  g_assert_cmpint (truncate (disk, 8 * 1024 * 1024), ==, 0);
  spec = g_strdup_printf ("block,id=cdisk,path=%s,format=raw", disk);
  e2e_console_forget (consoles[0]);
  e2e_console_forget (consoles[1]);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "hotplug", ids[0], "--device", spec, NULL), ==, 0);
  if (!e2e_console_wait (consoles[0], "HVKIT-BLOCK-ADDED vd", E2E_EVENT_TIMEOUT_MS))
    g_error ("clone %s did not see the disk; console said:\n%s", ids[0], e2e_console_text (consoles[0]));
  if (!e2e_console_wait_count (consoles[1], "HVKIT-COUNTER ", 2, E2E_EVENT_TIMEOUT_MS))
    g_error ("clone %s stopped counting; console said:\n%s", ids[1], e2e_console_text (consoles[1]));
  g_assert_null (strstr (e2e_console_text (consoles[1]), "HVKIT-BLOCK-ADDED"));

  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *dir = g_build_filename (env.store, ids[i], NULL);

      g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "stop", ids[i], NULL), ==, 0);
      g_assert_true (e2e_wait_pid_dead (pids[i], 5000));
      g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
      e2e_console_free (consoles[i]);
      g_free (qmp[i]);
    }
  /* The clones left the template's files as they were. */
  {
    g_autofree char *after = NULL;
    gsize after_len = 0;

    g_assert_true (g_file_get_contents (state, &after, &after_len, NULL));
    g_assert_cmpmem (after, after_len, state_text, state_len);
    g_assert_cmpint (g_stat (mem, &st), ==, 0);
    g_assert_cmpint (st.st_size, ==, 256 * 1024 * 1024);
  }

  /* A truncated device state: QEMU's word on it, nothing left. */
  g_assert_true (g_file_set_contents (truncated, state_text, (gssize) (state_len / 2), NULL));
  clone_refused (bad_conf, "e2e-clone-y", "from its template");

  g_remove (truncated);
  g_remove (state);
  g_remove (mem);
  g_remove (disk);
}

/* Opens the console of VM @id (from `hvkit status --json`), with its pid
 * tracked; asserts the state. */
static E2eConsole *
open_vm (const char *id,
         const char *state,
         int        *pid)
{
  g_autoptr(JsonObject) status = e2e_tool_status (&env, id);
  E2eConsole *c;

  g_assert_cmpstr (json_object_get_string_member (status, "state"), ==, state);
  *pid = (int) json_array_get_int_element (json_object_get_array_member (status, "pids"), 0);
  e2e_track_pid (*pid);
  c = e2e_console_open (json_object_get_string_member (status, "console"), 5000);
  g_assert_nonnull (c);
  return c;
}

/* The guest counts on from @after: it was not rebooted. */
static void
counts_on (E2eConsole *c,
           const char *id,
           gint64      after,
           gboolean    restored)
{
  if (!e2e_console_wait_count (c, "HVKIT-COUNTER ", 3, E2E_EVENT_TIMEOUT_MS))
    g_error ("%s does not count; console said:\n%s", id, e2e_console_text (c));
  g_assert_cmpint (last_counter (c), >, after);
  /* Its console was opened after the restore: a marker would be a boot. */
  if (restored)
    g_assert_null (strstr (e2e_console_text (c), E2E_READY_MARKER));
}

static void
stop_vm_id (const char *id,
            int         pid)
{
  g_autofree char *dir = g_build_filename (env.store, id, NULL);

  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "stop", id, NULL), ==, 0);
  g_assert_true (e2e_wait_pid_dead (pid, 5000));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
}

/* The guest-physical address of VM @id's hot-plugged DIMM (dimm0), as
 * its QEMU says. */
static gint64
dimm_address (const char *id)
{
  g_autoptr(JsonObject) status = e2e_tool_status (&env, id);
  g_autoptr(JsonNode) devices = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *list;

  devices = e2e_qmp_query (json_object_get_string_member (status, "qmp_socket"),
                           "query-memory-devices", &error);
  g_assert_no_error (error);
  list = json_node_get_array (devices);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *data = json_object_get_object_member (json_array_get_object_element (list, i), "data");

      if (g_strcmp0 (json_object_get_string_member_with_default (data, "id", NULL), "dimm0") == 0)
        return json_object_get_int_member (data, "addr");
    }
  g_error ("VM %s has no dimm0", id);
  return -1;
}

/* A VM restored from a save of a VM with a hot-plugged disk (srdisk), a
 * hot-added vCPU and a DIMM: QEMU has them where they were (the disk's
 * node, both vCPUs, the DIMM at @dimm_addr), hvkit knows them as
 * hot-plugged. */
static void
restored_has_changes (const char *id,
                      gint64      dimm_addr)
{
  g_autoptr(JsonObject) status = e2e_tool_status (&env, id);
  g_autoptr(JsonNode) blocks = NULL;
  g_autoptr(JsonNode) cpus = NULL;
  g_autoptr(GError) error = NULL;
  const char *qmp = json_object_get_string_member (status, "qmp_socket");
  JsonArray *hotplugged = json_object_get_array_member (status, "hotplugged");
  gboolean has_disk = FALSE, has_cpu = FALSE, has_node = FALSE;

  g_assert_cmpint (json_object_get_int_member (status, "vcpus"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (status, "memory_mb"), ==, 384);
  g_assert_cmpint (dimm_address (id), ==, dimm_addr);
  for (guint i = 0; i < json_array_get_length (hotplugged); i++)
    {
      JsonObject *device = json_array_get_object_element (hotplugged, i);
      const char *device_id = json_object_get_string_member_with_default (device, "id", "");

      has_disk = has_disk || g_str_equal (device_id, "srdisk");
      has_cpu = has_cpu || g_str_has_prefix (device_id, "cpu-");
    }
  g_assert_true (has_disk);
  g_assert_true (has_cpu);

  cpus = e2e_qmp_query (qmp, "query-cpus-fast", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (cpus)), ==, 2);
  blocks = e2e_qmp_query (qmp, "query-named-block-nodes", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < json_array_get_length (json_node_get_array (blocks)); i++)
    {
      JsonObject *node = json_array_get_object_element (json_node_get_array (blocks), i);

      has_node = has_node || g_strcmp0 (json_object_get_string_member_with_default (node, "node-name", NULL),
                                        "drive-srdisk") == 0;
    }
  g_assert_true (has_node);
}

/* hvkit save / restore: the guest keeps its uptime (its counter goes on,
 * no second ready marker), a disk hot-plugged, a vCPU and a DIMM added
 * before the save (and hvkit keeps them hot-plugged: the disk unplugs after the
 * restore, and the guest sees it go); a save leaves the VM running unless --stop; a
 * directory restores under a new id while the original runs, twice, and
 * paused; saving twice into one directory replaces it; a truncated or
 * foreign directory, or one with a hot-plugged device a restore cannot
 * make again, is refused, leaving nothing. */
static void
test_save_restore (void)
{
  g_autofree char *conf = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *bad = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *text = NULL;
  g_autofree char *bad_manifest = NULL;
  g_autofree char *bad_state = NULL;
  g_autofree char *orig_manifest = NULL;
  g_autofree char *orig_state = NULL;
  g_autofree char *left = NULL;
  g_autofree char *orig_devices = NULL;
  g_autofree char *bad_devices = NULL;
  g_autofree char *disk = NULL;
  g_autofree char *spec = NULL;
  g_autofree char *line = NULL;
  g_autofree char *removed = NULL;
  gint64 dimm_addr;
  E2eConsole *c0, *c1, *c2;
  int pid0, pid1, pid2;
  gint64 before;
  gsize len = 0;

  if (e2e_env_skip (&env))
    return;
  conf = e2e_write_config (&env, "sr", "kernel_params=hvkit.counter=1", NULL);
  dir = g_build_filename (env.tmpdir, "saved", NULL);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "start", "-c", conf, "--id", "e2e-sr", NULL), ==, 0);
  c0 = open_vm ("e2e-sr", "running", &pid0);
  if (!e2e_console_wait_count (c0, "HVKIT-COUNTER ", 3, E2E_BOOT_TIMEOUT_MS))
    g_error ("the guest does not count; console said:\n%s", e2e_console_text (c0));

  /* Saved, it runs on; restored under another id next to it. */
  before = last_counter (c0);
  g_assert_cmpint (e2e_run_tool (&env, &out, NULL, "save", "e2e-sr", dir, NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  e2e_console_forget (c0);
  counts_on (c0, "e2e-sr", before, FALSE);
  g_assert_cmpint (e2e_run_tool (&env, NULL, &err, "restore", dir, "--id", "e2e-sr-copy", NULL), ==, 0);
  g_clear_pointer (&err, g_free);
  c1 = open_vm ("e2e-sr-copy", "running", &pid1);
  counts_on (c1, "e2e-sr-copy", before, TRUE);
  stop_vm_id ("e2e-sr-copy", pid1);
  e2e_console_free (c1);

  /* Changed since boot (a disk hot-plugged, a vCPU added), saved again
   * into the same directory, and stopped. */
  disk = g_build_filename (env.tmpdir, "sr-disk.raw", NULL);
  g_assert_true (g_file_set_contents (disk, "", 0, NULL));
  g_assert_cmpint (truncate (disk, 8 * 1024 * 1024), ==, 0);
  spec = g_strdup_printf ("block,id=srdisk,path=%s,format=raw", disk);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "hotplug", "e2e-sr", "--device", spec, NULL), ==, 0);
  if (!e2e_console_wait (c0, "HVKIT-BLOCK-ADDED vd", E2E_EVENT_TIMEOUT_MS))
    g_error ("the guest did not see the disk; console said:\n%s", e2e_console_text (c0));
  line = e2e_console_find_line (c0, "HVKIT-BLOCK-ADDED ");
  g_assert_nonnull (line);
  removed = g_strdup_printf ("HVKIT-BLOCK-REMOVED %s", line + strlen ("HVKIT-BLOCK-ADDED "));
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "resize", "e2e-sr", "--vcpus", "2",
                                 "--memory", "384", NULL), ==, 0);
  if (!e2e_console_wait (c0, "HVKIT-CPUS 2", E2E_EVENT_TIMEOUT_MS))
    g_error ("the guest did not see its second vCPU; console said:\n%s", e2e_console_text (c0));
  dimm_addr = dimm_address ("e2e-sr");
  e2e_console_wait (c0, "no such line", 300);
  before = last_counter (c0);
  g_assert_cmpint (e2e_run_tool (&env, &out, NULL, "save", "e2e-sr", dir, "--stop", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "stopped"));
  g_assert_true (e2e_wait_pid_dead (pid0, 5000));
  e2e_console_free (c0);

  /* Restored under its own id, paused, then resumed; and once more. */
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "restore", dir, "--paused", NULL), ==, 0);
  c0 = open_vm ("e2e-sr", "paused", &pid0);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "resume", "e2e-sr", NULL), ==, 0);
  counts_on (c0, "e2e-sr", before, TRUE);
  /* It has the disk and the vCPU, still hot-plugged: the disk unplugs,
   * and the guest, which knew it, sees it go. */
  restored_has_changes ("e2e-sr", dimm_addr);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "unplug", "e2e-sr", "--device-id", "srdisk", NULL), ==, 0);
  if (!e2e_console_wait (c0, removed, E2E_EVENT_TIMEOUT_MS))
    g_error ("the restored guest did not lose the disk (%s); console said:\n%s", removed,
             e2e_console_text (c0));
  /* (Restored again once the disk is free: QEMU locks its images.) */
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "restore", dir, "--id", "e2e-sr-2", NULL), ==, 0);
  c2 = open_vm ("e2e-sr-2", "running", &pid2);
  counts_on (c2, "e2e-sr-2", before, TRUE);
  restored_has_changes ("e2e-sr-2", dimm_addr);
  stop_vm_id ("e2e-sr-2", pid2);
  stop_vm_id ("e2e-sr", pid0);
  e2e_console_free (c0);
  e2e_console_free (c2);

  /* A truncated state: QEMU's word, nothing left. */
  bad = g_build_filename (env.tmpdir, "saved-truncated", NULL);
  g_assert_cmpint (g_mkdir (bad, 0700), ==, 0);
  orig_manifest = g_build_filename (dir, "hvkit-save.json", NULL);
  orig_state = g_build_filename (dir, "qemu-state", NULL);
  orig_devices = g_build_filename (dir, "qemu-devices.json", NULL);
  bad_manifest = g_build_filename (bad, "hvkit-save.json", NULL);
  bad_state = g_build_filename (bad, "qemu-state", NULL);
  g_assert_true (g_file_get_contents (orig_manifest, &text, NULL, NULL));
  g_assert_true (g_file_set_contents (bad_manifest, text, -1, NULL));
  g_clear_pointer (&text, g_free);
  bad_devices = g_build_filename (bad, "qemu-devices.json", NULL);
  g_assert_true (g_file_get_contents (orig_devices, &text, NULL, NULL));
  g_assert_true (g_file_set_contents (bad_devices, text, -1, NULL));
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (orig_state, &text, &len, NULL));
  g_assert_true (g_file_set_contents (bad_state, text, (gssize) (len / 2), NULL));
  g_assert_cmpint (e2e_run_tool (&env, NULL, &err, "restore", bad, "--id", "e2e-sr-bad", NULL), ==, 1);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "cannot start VM 'e2e-sr-bad'"));
  left = g_build_filename (env.store, "e2e-sr-bad", NULL);
  g_assert_false (g_file_test (left, G_FILE_TEST_EXISTS));
  g_clear_pointer (&err, g_free);

  /* A hot-plugged device a restore cannot make again: refused before
   * QEMU starts, naming it, nothing left. */
  g_assert_true (g_file_set_contents (bad_devices,
                                      "{\"format\": \"hvkit-qemu-devices\", \"vcpus\": 1, \"hotplugged\": "
                                      "{\"net1\": {\"kind\": \"net\", \"driver\": \"virtio-net-pci\"}}}",
                                      -1, NULL));
  g_assert_cmpint (e2e_run_tool (&env, NULL, &err, "restore", bad, "--id", "e2e-sr-bad", NULL), ==, 1);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "hot-plugged device 'net1'"));
  g_assert_false (g_file_test (left, G_FILE_TEST_EXISTS));
  g_clear_pointer (&err, g_free);

  /* A directory that is no save. */
  g_remove (bad_manifest);
  g_assert_cmpint (e2e_run_tool (&env, NULL, &err, "restore", bad, "--id", "e2e-sr-bad", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "is not a saved VM"));
  g_assert_false (g_file_test (left, G_FILE_TEST_EXISTS));

  g_remove (bad_state);
  g_remove (bad_devices);
  g_rmdir (bad);
  g_remove (orig_manifest);
  g_remove (orig_state);
  g_remove (orig_devices);
  g_rmdir (dir);
  g_remove (disk);
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  e2e_env_init (&env);
  if (env.skip_reason == NULL && g_getenv ("HVKIT_TEST_TOOL") == NULL)
    env.skip_reason = g_strdup ("HVKIT_TEST_TOOL (the built hvkit) is not set");

  g_test_add_func ("/hvk/e2e/snapshot/template", test_template);
  g_test_add_func ("/hvk/e2e/snapshot/save-restore", test_save_restore);

  ret = g_test_run ();
  e2e_env_clear (&env);
  return ret;
}
