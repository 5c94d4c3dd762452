/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>
#include <unistd.h>

#include "../e2e/e2e-common.h"
#include "stress-common.h"

/* Several real QEMU VMs (TCG, small guests) at once, through the API:
 * each started from its own thread, checked (QEMU's own QMP answer, the
 * console socket), paused and resumed, stopped;
 * repeated for a bounded number of rounds and time.  After each round: no
 * QEMU of ours left, no descriptor leaked, nothing in the store; no QEMU
 * ever held another VM's files or a socket or pipe of this process.  Skips without QEMU or the test guest
 * (HVKIT_TEST_GUEST_DIR).  No time is asserted: the bounds only stop a
 * hang.
 *
 * Bounds: HVKIT_STRESS_QEMU_VMS (8), HVKIT_STRESS_QEMU_ROUNDS (3),
 * HVKIT_STRESS_QEMU_SECONDS (30: no new round starts after that),
 * HVKIT_STRESS_QEMU_MEMORY (160 MiB per guest: the test guest does not
 * boot in 128).  HVKIT_STRESS_QEMU_BOOT=1 also waits, on the first round,
 * for every guest's ready marker on its console: not by default, as one
 * guest alone needs about half a minute of TCG to get there on two CPUs,
 * eight at once several minutes. */

#define DEFAULT_VMS      8
#define DEFAULT_ROUNDS   3
#define DEFAULT_SECONDS  30
#define DEFAULT_MEMORY   160
/* Generous: eight guests share two host CPUs under TCG. */
#define START_TIMEOUT_MS 120000
#define STOP_TIMEOUT_MS  60000

static E2eEnv env;
static HvkRegistry *registry;
static GMutex track_lock;

typedef struct {
  char          *id;
  char          *config_path;
  gboolean       wait_marker;
  HvkHypervisor *hypervisor;
  int            pid;
  gdouble        boot_s;   /* start to console marker, when waited for */
} Vm;

/* The files under the store that process @pid holds open must all be in
 * @own_dir. */
static void
assert_no_foreign_files (int         pid,
                         const char *own_dir)
{
  g_autofree char *fd_dir = g_strdup_printf ("/proc/%d/fd", pid);
  g_autoptr(GDir) dir = g_dir_open (fd_dir, 0, NULL);
  g_autofree char *own_prefix = g_strconcat (own_dir, "/", NULL);
  g_autofree char *store_prefix = g_strconcat (env.store, "/", NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *link = g_build_filename (fd_dir, name, NULL);
      g_autofree char *target = g_file_read_link (link, NULL);

      if (target != NULL && g_str_has_prefix (target, store_prefix)
          && !g_str_has_prefix (target, own_prefix))
        g_error ("QEMU %d of %s holds another VM's file: %s", pid, own_dir, target);
    }
}

/* The targets of @pid's descriptors that are sockets or pipes. */
static GHashTable *
channel_targets (const char *pid)
{
  g_autofree char *fd_dir = g_strdup_printf ("/proc/%s/fd", pid);
  g_autoptr(GDir) dir = g_dir_open (fd_dir, 0, NULL);
  GHashTable *targets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *link = g_build_filename (fd_dir, name, NULL);
      char *target = g_file_read_link (link, NULL);

      if (target != NULL
          && (g_str_has_prefix (target, "socket:") || g_str_has_prefix (target, "pipe:")))
        g_hash_table_add (targets, target);
      else
        g_free (target);
    }
  return targets;
}

/* QEMU shares no socket or pipe with this process: none of the other
 * VMs' monitor or console connections (opened by other threads while it
 * was spawned) leaked into it. */
static void
assert_no_inherited_channels (int pid)
{
  g_autofree char *pid_text = g_strdup_printf ("%d", pid);
  g_autoptr(GHashTable) ours = channel_targets ("self");
  g_autoptr(GHashTable) its = channel_targets (pid_text);
  GHashTableIter iter;
  const char *target;

  g_hash_table_iter_init (&iter, its);
  while (g_hash_table_iter_next (&iter, (gpointer *) &target, NULL))
    if (g_hash_table_contains (ours, target))
      g_error ("QEMU %d holds %s, which this process has open too", pid, target);
}

static gpointer
cycle_vm (gpointer data)
{
  Vm *vm = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(E2eConsole) console = NULL;
  g_autoptr(GArray) pids = NULL;
  g_autofree char *protocol = NULL;
  g_autofree char *url = NULL;
  g_autofree char *vm_dir = g_build_filename (env.store, vm->id, NULL);
  g_autofree char *qmp_socket = g_build_filename (vm_dir, "qmp.sock", NULL);
  gint64 started;

  config = hvk_config_new_from_file (vm->config_path, registry, &error);
  g_assert_no_error (error);
  hvk_config_set_vm_store_path (config, env.store);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_create_vm (hypervisor, vm->id, config, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_get_vm_console (hypervisor, &protocol, &url, &error));
  g_assert_no_error (error);

  started = g_get_monotonic_time ();
  if (!hvk_hypervisor_start_vm (hypervisor, START_TIMEOUT_MS, NULL, &error))
    g_error ("VM %s: start: %s", vm->id, error->message);
  g_assert_cmpint (hvk_hypervisor_get_state (hypervisor), ==, HVK_VM_STATE_RUNNING);

  pids = hvk_hypervisor_get_pids (hypervisor);
  g_assert_cmpuint (pids->len, ==, 1);
  vm->pid = g_array_index (pids, int, 0);
  g_mutex_lock (&track_lock);
  e2e_track_pid (vm->pid);
  g_mutex_unlock (&track_lock);
  g_assert_true (e2e_pid_alive (vm->pid));
  assert_no_foreign_files (vm->pid, vm_dir);
  assert_no_inherited_channels (vm->pid);

  /* QEMU's own word, on a connection of ours (it serves one client). */
  console = e2e_console_open (url, 10000);
  g_assert_nonnull (console);
  hvk_hypervisor_disconnect (hypervisor);
  {
    g_autofree char *status = e2e_qmp_status (qmp_socket);
    g_assert_cmpstr (status, ==, "running");
  }
  if (vm->wait_marker)
    {
      if (!e2e_console_wait (console, E2E_READY_MARKER, E2E_BOOT_TIMEOUT_MS))
        g_error ("VM %s: no %s on the console; it said:\n%s", vm->id,
                 E2E_READY_MARKER, e2e_console_text (console));
      vm->boot_s = (g_get_monotonic_time () - started) / 1e6;
    }

  g_assert_true (hvk_hypervisor_pause_vm (hypervisor, NULL, &error));
  g_assert_no_error (error);
  hvk_hypervisor_disconnect (hypervisor);
  {
    g_autofree char *status = e2e_qmp_status (qmp_socket);
    g_assert_cmpstr (status, ==, "paused");
  }
  g_assert_true (hvk_hypervisor_resume_vm (hypervisor, NULL, &error));
  g_assert_no_error (error);
  hvk_hypervisor_disconnect (hypervisor);
  {
    g_autofree char *status = e2e_qmp_status (qmp_socket);
    g_assert_cmpstr (status, ==, "running");
  }
  g_assert_true (hvk_hypervisor_check (hypervisor, &error));
  g_assert_no_error (error);
  assert_no_foreign_files (vm->pid, vm_dir);

  g_clear_pointer (&console, e2e_console_free);
  if (!hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, &error))
    g_error ("VM %s: stop: %s", vm->id, error->message);
  g_assert_true (hvk_hypervisor_cleanup (hypervisor, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (hypervisor), ==, HVK_VM_STATE_STOPPED);
  g_assert_true (e2e_wait_pid_dead (vm->pid, STOP_TIMEOUT_MS));
  g_assert_false (g_file_test (vm_dir, G_FILE_TEST_EXISTS));

  vm->hypervisor = g_steal_pointer (&hypervisor);
  return NULL;
}

/* No QEMU whose command line names our store. */
static void
assert_no_qemu_left (void)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *cmdline = NULL;
      gsize len;

      if (!g_ascii_isdigit (name[0]))
        continue;
      path = g_build_filename ("/proc", name, "cmdline", NULL);
      if (!g_file_get_contents (path, &cmdline, &len, NULL) || len == 0)
        continue;
      for (gsize i = 0; i + 1 < len; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      if (strstr (cmdline, "qemu") != NULL && strstr (cmdline, env.store) != NULL
          && e2e_pid_alive (atoi (name)))
        g_error ("QEMU left running: %s: %s", name, cmdline);
    }
}

static void
test_parallel_vms (void)
{
  guint n_vms = stress_env_uint ("HVKIT_STRESS_QEMU_VMS", DEFAULT_VMS);
  guint rounds = stress_env_uint ("HVKIT_STRESS_QEMU_ROUNDS", DEFAULT_ROUNDS);
  guint seconds = stress_env_uint ("HVKIT_STRESS_QEMU_SECONDS", DEFAULT_SECONDS);
  guint memory = stress_env_uint ("HVKIT_STRESS_QEMU_MEMORY", DEFAULT_MEMORY);
  gboolean boot = g_strcmp0 (g_getenv ("HVKIT_STRESS_QEMU_BOOT"), "1") == 0;
  g_autofree char *overrides = g_strdup_printf ("default_memory=%u\ndefault_maxmemory=%u",
                                                memory, memory * 2);
  g_autofree char *config_path = NULL;
  gint64 begin = g_get_monotonic_time ();
  guint fds_before, round, cycled = 0;
  gdouble slowest_boot = 0;

  if (e2e_env_skip (&env))
    return;

  config_path = e2e_write_config (&env, "stress", overrides, NULL);
  fds_before = stress_count_fds ();

  for (round = 0; round < rounds; round++)
    {
      g_autofree Vm *vms = g_new0 (Vm, n_vms);
      g_autoptr(GPtrArray) threads = g_ptr_array_new ();

      if (round > 0 && g_get_monotonic_time () - begin > (gint64) seconds * G_USEC_PER_SEC)
        break;

      for (guint i = 0; i < n_vms; i++)
        {
          g_autofree char *name = g_strdup_printf ("vm-%u", i);

          vms[i].id = g_strdup_printf ("q%u-r%u", i, round);
          vms[i].config_path = config_path;
          vms[i].wait_marker = boot && round == 0;
          g_ptr_array_add (threads, g_thread_new (name, cycle_vm, &vms[i]));
        }
      for (guint i = 0; i < n_vms; i++)
        {
          g_thread_join (g_ptr_array_index (threads, i));
          slowest_boot = MAX (slowest_boot, vms[i].boot_s);
          /* Each object its own VM, to the end. */
          g_assert_cmpstr (hvk_hypervisor_get_backend_name (vms[i].hypervisor), ==, "qemu");
          for (guint j = 0; j < i; j++)
            g_assert_cmpint (vms[i].pid, !=, vms[j].pid);
          g_clear_object (&vms[i].hypervisor);
          g_free (vms[i].id);
        }
      cycled += n_vms;

      assert_no_qemu_left ();
      stress_assert_store_empty (env.store);
      g_assert_cmpuint (stress_count_fds (), ==, fds_before);
    }

  g_test_message ("%u QEMU VMs cycled (%u at once x %u rounds, %u MiB each), "
                  "%.1f s in all", cycled, n_vms, round, memory,
                  (g_get_monotonic_time () - begin) / 1e6);
  if (boot)
    g_test_message ("slowest boot to the console marker: %.1f s", slowest_boot);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  e2e_env_init (&env);
  if (env.skip_reason == NULL)
    registry = e2e_registry_new ();

  g_test_add_func ("/hvk/stress/qemu/parallel-vms", test_parallel_vms);
  status = g_test_run ();

  g_clear_object (&registry);
  e2e_env_clear (&env);
  return status;
}
