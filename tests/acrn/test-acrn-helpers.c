/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The acrn backend's helpers, linked from its static library without the
 * plugin: APIC ids from cpuinfo, the CPU-affinity index (wrap-around,
 * release, concurrent starts), the VM name rule and process liveness
 * (zombies count as dead).
 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "hvk-acrn-private.h"

static char *
cpuinfo_fixture (void)
{
  return g_test_build_filename (G_TEST_DIST, "acrn", "cpuinfo-4cpu", NULL);
}

static void
test_apic_ids (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = cpuinfo_fixture ();
  g_autoptr(GPtrArray) ids = hvk_acrn_read_apic_ids (path, &error);
  g_autofree char *dir = NULL;
  g_autofree char *bad = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, ==, 4);
  g_assert_cmpstr (g_ptr_array_index (ids, 0), ==, "0");
  g_assert_cmpstr (g_ptr_array_index (ids, 3), ==, "6");

  /* A processor without apicid (not x86) cannot be pinned. */
  dir = g_dir_make_tmp ("hvkit-acrn-helpers-XXXXXX", &error);
  g_assert_no_error (error);
  bad = g_build_filename (dir, "cpuinfo", NULL);
  g_file_set_contents (bad, "processor\t: 0\napicid\t\t: 0\n\nprocessor\t: 1\nBogoMIPS\t: 50\n", -1, &error);
  g_assert_no_error (error);
  g_assert_null (hvk_acrn_read_apic_ids (bad, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  g_file_set_contents (bad, "nothing here\n", -1, &error);
  g_assert_no_error (error);
  g_assert_null (hvk_acrn_read_apic_ids (bad, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_clear_error (&error);

  g_assert_null (hvk_acrn_read_apic_ids ("/nonexistent/cpuinfo", &error));
  g_assert_nonnull (error);

  g_remove (bad);
  g_rmdir (dir);
}

static char *
take (const char *store,
      const char *cpuinfo)
{
  g_autoptr(GError) error = NULL;
  char *id = NULL;

  hvk_acrn_affinity_take (store, cpuinfo, &id, &error);
  g_assert_no_error (error);
  return id;
}

static void
test_affinity (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cpuinfo = cpuinfo_fixture ();
  g_autofree char *dir = g_dir_make_tmp ("hvkit-acrn-helpers-XXXXXX", NULL);
  g_autofree char *store = g_build_filename (dir, "store", NULL);
  g_autofree char *index_path = g_build_filename (store, "cpu_affinity_idx", NULL);
  g_autofree char *peeked = NULL;
  g_autofree char *contents = NULL;
  const char *expected[] = { "0", "2", "4", "6", "0", "2" };

  /* Nothing handed out: release is a no-op, peek creates nothing. */
  g_assert_true (hvk_acrn_affinity_release (store, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_acrn_affinity_peek (store, cpuinfo, &peeked, &error));
  g_assert_cmpstr (peeked, ==, "0");
  g_assert_false (g_file_test (store, G_FILE_TEST_EXISTS));

  /* Wraps around the 4 CPUs as Kata's getNextApicid. */
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autofree char *id = take (store, cpuinfo);
      g_assert_cmpstr (id, ==, expected[i]);
    }
  g_file_get_contents (index_path, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "1");

  /* Release goes back one, never below -1. */
  for (guint i = 0; i < 4; i++)
    g_assert_true (hvk_acrn_affinity_release (store, NULL));
  g_clear_pointer (&contents, g_free);
  g_file_get_contents (index_path, &contents, NULL, NULL);
  g_assert_cmpstr (contents, ==, "-1");

  /* A corrupt index names the file. */
  g_file_set_contents (index_path, "banana", -1, NULL);
  g_assert_false (hvk_acrn_affinity_take (store, cpuinfo, &peeked, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "cpu_affinity_idx"));
  g_clear_error (&error);
  g_assert_false (hvk_acrn_affinity_peek (store, cpuinfo, &peeked, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_clear_error (&error);

  g_remove (index_path);
  g_rmdir (store);
  g_rmdir (dir);
}

/* Many VMs starting at once each get a different CPU. */
#define N_STARTS 16

typedef struct {
  const char *store;
  const char *cpuinfo;
  char *id;
} StartData;

static gpointer
start_thread (gpointer data)
{
  StartData *sd = data;

  sd->id = take (sd->store, sd->cpuinfo);
  return NULL;
}

static void
test_affinity_concurrent (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hvkit-acrn-helpers-XXXXXX", NULL);
  g_autofree char *store = g_build_filename (dir, "store", NULL);
  g_autofree char *cpuinfo = g_build_filename (dir, "cpuinfo", NULL);
  g_autofree char *index_path = g_build_filename (store, "cpu_affinity_idx", NULL);
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  StartData data[N_STARTS];
  GThread *threads[N_STARTS];

  /* More CPUs than starts, so no wrap-around. */
  for (guint i = 0; i < N_STARTS * 2; i++)
    g_string_append_printf (text, "processor\t: %u\napicid\t\t: %u\n\n", i, 100 + i);
  g_file_set_contents (cpuinfo, text->str, -1, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < N_STARTS; i++)
    {
      data[i] = (StartData) { store, cpuinfo, NULL };
      threads[i] = g_thread_new ("start", start_thread, &data[i]);
    }
  for (guint i = 0; i < N_STARTS; i++)
    {
      g_thread_join (threads[i]);
      g_assert_false (g_hash_table_contains (seen, data[i].id));
      g_hash_table_add (seen, data[i].id);
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, N_STARTS);
  for (guint i = 0; i < N_STARTS; i++)
    g_free (data[i].id);

  g_remove (index_path);
  g_remove (cpuinfo);
  g_rmdir (store);
  g_rmdir (dir);
}

static void
test_vm_name (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ok = hvk_acrn_vm_name ("abcdefghijk", &error);
  g_autofree char *bad = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (ok, ==, "sbx-abcdefghijk");
  bad = hvk_acrn_vm_name ("abcdefghijkl", &error);
  g_assert_null (bad);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "at most 11"));
}

/* A child that exited but was not reaped is a zombie: dead for us,
 * although kill(pid, 0) still succeeds. */
static void
test_liveness (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hvkit-acrn-helpers-XXXXXX", NULL);
  g_autofree char *log = g_build_filename (dir, "log", NULL);
  g_autofree char *contents = NULL;
  const char *argv_sleep[] = { "/bin/sh", "-c", "echo started; exec sleep 30", NULL };
  const char *argv_exit[] = { "/bin/sh", "-c", "echo bye >&2; exit 4", NULL };
  guint64 start_time;
  int status = 0;
  GPid pid;

  hvk_acrn_process_spawn (argv_sleep, log, &pid, &error);
  g_assert_no_error (error);
  start_time = hvk_process_get_start_time (pid);
  g_assert_cmpuint (start_time, >, 0);
  g_assert_true (hvk_process_is_alive (pid, start_time));
  /* Another start time: a recycled pid, not our process. */
  g_assert_false (hvk_process_is_alive (pid, start_time + 1));
  /* Its own session. */
  g_assert_cmpint (getsid (pid), ==, pid);
  g_assert_false (hvk_acrn_process_reap (pid, &status));
  kill (pid, SIGKILL);
  while (hvk_process_is_alive (pid, 0))
    g_usleep (1000);
  /* Now a zombie until reaped. */
  g_assert_cmpint (kill (pid, 0), ==, 0);
  g_assert_true (hvk_acrn_process_reap (pid, &status));
  g_assert_true (WIFSIGNALED (status));
  g_assert_false (hvk_process_is_alive (pid, 0));

  hvk_acrn_process_spawn (argv_exit, log, &pid, &error);
  g_assert_no_error (error);
  while (!hvk_acrn_process_reap (pid, &status))
    g_usleep (1000);
  g_assert_cmpint (WEXITSTATUS (status), ==, 4);
  g_file_get_contents (log, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "bye\n");

  g_assert_false (hvk_process_is_alive (0, 0));
  g_assert_cmpuint (hvk_process_get_start_time (-1), ==, 0);

  {
    const char *missing[] = { "/nonexistent/acrn-dm", NULL };
    g_assert_false (hvk_acrn_process_spawn (missing, log, &pid, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
    g_clear_error (&error);
    g_assert_false (hvk_acrn_process_run (missing, NULL, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
    g_clear_error (&error);
  }
  {
    const char *failing[] = { "/bin/sh", "-c", "echo nope >&2; exit 2", NULL };
    g_assert_false (hvk_acrn_process_run (failing, NULL, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
    g_assert_nonnull (strstr (error->message, "exit status 2"));
    g_assert_nonnull (strstr (error->message, "nope"));
    g_clear_error (&error);
  }

  g_remove (log);
  g_rmdir (dir);
}

static void
test_layout (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkAcrnLayout) layout = hvk_acrn_layout_new ();
  g_autoptr(HvkDeviceKind) kind = hvk_device_kind_new ("acrn-test", "test", NULL, 0, &error);
  g_autoptr(HvkDevice) device = NULL;
  g_autoptr(GArray) slots = g_array_new (FALSE, FALSE, sizeof (guint));
  guint slot;

  g_assert_no_error (error);
  device = hvk_device_new (kind, "dev");
  for (guint i = 0; i < G_N_ELEMENTS (layout->blk_slots); i++)
    g_assert_cmpint (layout->blk_slots[i], ==, -1);

  /* 0, 1, then 3..31: slot 2 belongs to GVT-g. */
  while (hvk_acrn_layout_take_slot (layout, device, &slot, &error))
    g_array_append_val (slots, slot);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "'dev'"));
  g_assert_cmpuint (slots->len, ==, 31);
  g_assert_cmpuint (g_array_index (slots, guint, 1), ==, 1);
  g_assert_cmpuint (g_array_index (slots, guint, 2), ==, 3);
  g_assert_cmpuint (g_array_index (slots, guint, 30), ==, 31);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hvk/acrn/helpers/apic-ids", test_apic_ids);
  g_test_add_func ("/hvk/acrn/helpers/affinity", test_affinity);
  g_test_add_func ("/hvk/acrn/helpers/affinity-concurrent", test_affinity_concurrent);
  g_test_add_func ("/hvk/acrn/helpers/vm-name", test_vm_name);
  g_test_add_func ("/hvk/acrn/helpers/liveness", test_liveness);
  g_test_add_func ("/hvk/acrn/helpers/layout", test_layout);

  return g_test_run ();
}
