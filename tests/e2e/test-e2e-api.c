/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_tun.h>

#include <glib/gstdio.h>

#include "e2e-common.h"

/* End to end through the public API: one guest booted under QEMU (TCG)
 * serves the tests in order (boot, pause/resume, block hotplug, resize,
 * takeover by a second HvkHypervisor from saved state, stop).  Each test
 * skips when an earlier one left no VM. */

#define VM_ID "e2e-api"

static E2eEnv env;
static HvkRegistry *registry;
static HvkHypervisor *vm;
static E2eConsole *console;
static char *qmp_socket;
static char *vm_dir;
static int qemu_pid;
static gint64 boot_memtotal_kb;

/* Waits for the guest to say @needle (@count times since the last
 * e2e_console_forget()); fails with what it said instead. */
static void
guest_says (E2eConsole *guest,
            const char *needle,
            guint       count)
{
  if (!e2e_console_wait_count (guest, needle, count, E2E_EVENT_TIMEOUT_MS))
    g_error ("the guest did not say '%s' (%u times) within %d ms; console said:\n%s",
             needle, count, E2E_EVENT_TIMEOUT_MS, e2e_console_text (guest));
}

/* The number at the end of the guest's last line starting with @prefix. */
static gint64
guest_number (E2eConsole *guest,
              const char *prefix)
{
  g_autofree char *line = e2e_console_find_last_line (guest, prefix);

  g_assert_nonnull (line);
  return g_ascii_strtoll (line + strlen (prefix), NULL, 10);
}

static char *
raw_disk (const char *name)
{
  char *path = g_build_filename (env.tmpdir, name, NULL);

  g_assert_true (g_file_set_contents (path, "", 0, NULL));
  g_assert_cmpint (truncate (path, 8 * 1024 * 1024), ==, 0);
  return path;
}

static gboolean
hotplug_spec (HvkHypervisor  *hypervisor,
              GError        **error,
              const char     *format,
              ...) G_GNUC_PRINTF (3, 4);

static gboolean
hotplug_spec (HvkHypervisor  *hypervisor,
              GError        **error,
              const char     *format,
              ...)
{
  g_autofree char *spec = NULL;
  g_autoptr(HvkDevice) device = NULL;
  g_autoptr(GError) local_error = NULL;
  va_list args;

  va_start (args, format);
  spec = g_strdup_vprintf (format, args);
  va_end (args);
  device = hvk_device_new_from_string (registry, spec, &local_error);
  g_assert_no_error (local_error);
  return hvk_hypervisor_hotplug_add_device (hypervisor, device, NULL, error);
}

static gboolean
query_mentions (const char *socket,
                const char *command,
                const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) ret = e2e_qmp_query (socket, command, &error);
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  text = json_to_string (ret, FALSE);
  return strstr (text, needle) != NULL;
}

static gboolean
need_vm (void)
{
  if (e2e_env_skip (&env))
    return FALSE;
  if (vm == NULL)
    {
      g_test_skip ("no VM: the boot test failed");
      return FALSE;
    }
  return TRUE;
}

static void
test_boot (void)
{
  g_autofree char *path = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) pids = NULL;
  g_autofree char *protocol = NULL;
  g_autofree char *url = NULL;
  g_autofree char *pid_file = NULL;
  g_auto(GStrv) argv = NULL;
  g_autofree char *status = NULL;
  g_autofree char *disk0 = NULL;
  g_autofree char *extra = NULL;

  if (e2e_env_skip (&env))
    return;

  /* A cold-plugged disk (vda): hot-plugged ones come next to it. */
  disk0 = raw_disk ("disk0.raw");
  extra = g_strdup_printf ("[device.disk0]\nkind=block\npath=%s\nformat=raw", disk0);
  path = e2e_write_config (&env, "api", NULL, extra);
  config = hvk_config_new_from_file (path, registry, &error);
  g_assert_no_error (error);
  hvk_config_set_vm_store_path (config, env.store);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);

  g_assert_true (hvk_hypervisor_create_vm (hypervisor, VM_ID, config, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (hypervisor), ==, HVK_VM_STATE_CREATED);
  g_assert_true (hvk_hypervisor_get_launch_command (hypervisor, &argv, NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (argv);
  g_assert_cmpstr (argv[0], ==, env.qemu);

  g_assert_true (hvk_hypervisor_get_vm_console (hypervisor, &protocol, &url, &error));
  g_assert_cmpstr (protocol, ==, "unix");

  g_assert_true (hvk_hypervisor_start_vm (hypervisor, 30000, NULL, &error));
  g_assert_no_error (error);
  e2e_track_hypervisor (hypervisor);
  g_assert_cmpint (hvk_hypervisor_get_state (hypervisor), ==, HVK_VM_STATE_RUNNING);

  /* The console socket is there once QMP answers; the guest boots on. */
  console = e2e_console_open (url, 5000);
  g_assert_nonnull (console);

  vm_dir = g_build_filename (env.store, VM_ID, NULL);
  qmp_socket = g_build_filename (vm_dir, "qmp.sock", NULL);
  pid_file = g_build_filename (vm_dir, "pid", NULL);
  qemu_pid = e2e_read_pid_file (pid_file);
  g_assert_cmpint (qemu_pid, >, 0);
  g_assert_true (e2e_pid_alive (qemu_pid));

  pids = hvk_hypervisor_get_pids (hypervisor);
  g_assert_cmpuint (pids->len, ==, 1);
  g_assert_cmpint (g_array_index (pids, int, 0), ==, qemu_pid);
  g_assert_true (hvk_hypervisor_check (hypervisor, &error));
  g_assert_no_error (error);

  /* QEMU runs under its seccomp filter by default (mode 2); the rest of
   * the suite boots, hot-plugs, resizes and saves with it on. */
  {
    g_autofree char *proc_status = g_strdup_printf ("/proc/%d/status", qemu_pid);
    g_autofree char *contents = NULL;

    g_assert_true (g_file_get_contents (proc_status, &contents, NULL, NULL));
    g_assert_nonnull (strstr (contents, "\nSeccomp:\t2\n"));
    g_assert_true (g_strv_contains ((const char * const *) argv, "-sandbox"));
  }

  vm = g_steal_pointer (&hypervisor);
  if (!e2e_console_wait (console, E2E_READY_MARKER, E2E_BOOT_TIMEOUT_MS))
    g_error ("no %s on the console within %d ms; console said:\n%s",
             E2E_READY_MARKER, E2E_BOOT_TIMEOUT_MS, e2e_console_text (console));
  e2e_console_require_current_guest (console, &env);
  /* What the guest has at boot: the cold disk, 1 vCPU, its memory. */
  g_assert_nonnull (strstr (e2e_console_text (console), "HVKIT-BLOCK-PRESENT vda"));
  guest_says (console, "HVKIT-MEMTOTAL ", 1);
  guest_says (console, "HVKIT-CPUS 1", 1);
  boot_memtotal_kb = guest_number (console, "HVKIT-MEMTOTAL ");
  g_assert_cmpint (boot_memtotal_kb, >, 0);

  hvk_hypervisor_disconnect (vm);   /* QEMU serves one QMP client */
  status = e2e_qmp_status (qmp_socket);
  g_assert_cmpstr (status, ==, "running");
}

static void
test_pause_resume (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *paused = NULL;
  g_autofree char *running = NULL;

  if (!need_vm ())
    return;

  g_assert_true (hvk_hypervisor_pause_vm (vm, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (vm), ==, HVK_VM_STATE_PAUSED);
  hvk_hypervisor_disconnect (vm);
  paused = e2e_qmp_status (qmp_socket);
  g_assert_cmpstr (paused, ==, "paused");

  /* Illegal transition: a paused VM cannot be paused again. */
  g_assert_false (hvk_hypervisor_pause_vm (vm, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
  g_clear_error (&error);

  /* The hypervisor reconnects QMP by itself. */
  g_assert_true (hvk_hypervisor_resume_vm (vm, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (vm), ==, HVK_VM_STATE_RUNNING);
  hvk_hypervisor_disconnect (vm);
  running = e2e_qmp_status (qmp_socket);
  g_assert_cmpstr (running, ==, "running");
}

/* Two disks next to the cold one: the guest sees both come and go. */
static void
test_hotplug_block (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *disk1 = NULL;
  g_autofree char *disk2 = NULL;
  g_autofree char *spec = NULL;
  g_autoptr(HvkDevice) device = NULL;
  const char *text;

  if (!need_vm ())
    return;

  disk1 = raw_disk ("disk1.raw");
  disk2 = raw_disk ("disk2.raw");
  spec = g_strdup_printf ("block,id=disk1,path=%s,format=raw", disk1);
  device = hvk_device_new_from_string (registry, spec, &error);
  g_assert_no_error (error);

  e2e_console_forget (console);
  g_assert_true (hvk_hypervisor_hotplug_add_device (vm, device, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (hotplug_spec (vm, &error, "block,id=disk2,path=%s,format=raw", disk2));
  g_assert_no_error (error);
  guest_says (console, "HVKIT-BLOCK-ADDED vd", 2);
  text = e2e_console_text (console);
  g_assert_nonnull (strstr (text, "HVKIT-BLOCK-ADDED vdb"));
  g_assert_nonnull (strstr (text, "HVKIT-BLOCK-ADDED vdc"));

  /* A second device with the same id is refused, a cold device's too. */
  g_assert_false (hvk_hypervisor_hotplug_add_device (vm, device, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (hotplug_spec (vm, &error, "block,id=disk0,path=%s,format=raw", disk2));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  hvk_hypervisor_disconnect (vm);
  g_assert_true (query_mentions (qmp_socket, "query-block", "\"disk0\""));
  g_assert_true (query_mentions (qmp_socket, "query-block", "/machine/peripheral/disk1/"));
  g_assert_true (query_mentions (qmp_socket, "query-block", "/machine/peripheral/disk2/"));

  /* Unplugged: gone from QEMU and from the guest. */
  e2e_console_forget (console);
  g_assert_true (hvk_hypervisor_hotplug_remove_device (vm, "disk1", NULL, &error));
  g_assert_no_error (error);
  guest_says (console, "HVKIT-BLOCK-REMOVED vdb", 1);
  hvk_hypervisor_disconnect (vm);
  g_assert_false (query_mentions (qmp_socket, "query-block", "/machine/peripheral/disk1/"));
  g_assert_true (query_mentions (qmp_socket, "query-block", "\"disk0\""));

  g_assert_false (hvk_hypervisor_hotplug_remove_device (vm, "disk1", NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (hvk_hypervisor_hotplug_remove_device (vm, "disk2", NULL, &error));
  g_assert_no_error (error);
  guest_says (console, "HVKIT-BLOCK-REMOVED vdc", 1);
  /* The cold disk stays. */
  g_assert_null (strstr (e2e_console_text (console), "HVKIT-BLOCK-REMOVED vda"));
}

/* A tap network device: QEMU opens (and creates) the tap by name; it
 * goes away when QEMU closes it. */
static void
test_hotplug_net (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) device = NULL;
  g_autoptr(JsonNode) net = NULL;
  g_autofree char *text = NULL;

  if (!need_vm ())
    return;
  if (!g_file_test ("/dev/net/tun", G_FILE_TEST_EXISTS) || getuid () != 0)
    {
      g_test_skip ("tap devices need /dev/net/tun and root");
      return;
    }

  device = hvk_device_new_from_string (registry, "net,id=net1,ifname=hvke2e-hp0,mac=02:00:00:00:00:43", &error);
  g_assert_no_error (error);
  e2e_console_forget (console);
  g_assert_true (hvk_hypervisor_hotplug_add_device (vm, device, NULL, &error));
  g_assert_no_error (error);
  guest_says (console, "HVKIT-NET-ADDED eth", 1);
  hvk_hypervisor_disconnect (vm);
  net = e2e_qmp_query (qmp_socket, "query-pci", &error);
  g_assert_no_error (error);
  text = json_to_string (net, FALSE);
  g_assert_nonnull (strstr (text, "\"qdev_id\":\"net1\""));

  e2e_console_forget (console);
  g_assert_true (hvk_hypervisor_hotplug_remove_device (vm, "net1", NULL, &error));
  g_assert_no_error (error);
  guest_says (console, "HVKIT-NET-REMOVED eth", 1);
}

static void
test_resize (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) cpus = NULL;
  g_autoptr(JsonNode) memory = NULL;
  g_autoptr(GHashTable) threads = NULL;
  HvkMemoryDevice dimm = { 0, };
  guint32 old_vcpus = 0, new_vcpus = 0, new_mem = 0;
  gint64 memtotal;
  JsonObject *summary;

  if (!need_vm ())
    return;

  e2e_console_forget (console);
  g_assert_true (hvk_hypervisor_resize_vcpus (vm, 2, &old_vcpus, &new_vcpus, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (old_vcpus, ==, 1);
  g_assert_cmpuint (new_vcpus, ==, 2);
  guest_says (console, "HVKIT-CPUS 2", 1);
  threads = hvk_hypervisor_get_thread_ids (vm, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (threads), ==, 2);

  /* Beyond maxcpus is refused and changes nothing. */
  g_assert_false (hvk_hypervisor_resize_vcpus (vm, 64, &old_vcpus, &new_vcpus, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (new_vcpus, ==, 2);
  g_clear_error (&error);

  e2e_console_forget (console);
  g_assert_true (hvk_hypervisor_resize_memory (vm, 384, 128, FALSE, &new_mem, &dimm, NULL, &error));
  g_assert_no_error (error);
  /* The guest onlines the new block: 128 MiB more (less what its memmap
   * may take). */
  guest_says (console, "HVKIT-MEMTOTAL ", 1);
  memtotal = guest_number (console, "HVKIT-MEMTOTAL ");
  g_test_message ("guest MemTotal %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT " kB",
                  boot_memtotal_kb, memtotal);
  g_assert_cmpint (memtotal - boot_memtotal_kb, >=, 120 * 1024);
  g_assert_cmpint (memtotal - boot_memtotal_kb, <=, 128 * 1024);
  g_assert_cmpuint (new_mem, ==, 384);
  g_assert_cmpuint (dimm.size_mb, ==, 128);
  g_assert_cmpint (dimm.slot, >=, 0);
  g_assert_cmpuint (hvk_hypervisor_get_total_memory_mb (vm), ==, 384);

  g_assert_false (hvk_hypervisor_resize_memory (vm, 4096, 0, FALSE, &new_mem, NULL, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (new_mem, ==, 384);
  g_clear_error (&error);

  /* QEMU's own count. */
  hvk_hypervisor_disconnect (vm);
  cpus = e2e_qmp_query (qmp_socket, "query-cpus-fast", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (cpus)), ==, 2);
  /* The threads get_thread_ids() found by name in /proc are the ones
   * QEMU gives for each vCPU. */
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *cpu = json_array_get_object_element (json_node_get_array (cpus), i);
      guint index = (guint) json_object_get_int_member (cpu, "cpu-index");

      g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (threads, GUINT_TO_POINTER (index))), ==,
                        (guint) json_object_get_int_member (cpu, "thread-id"));
    }
  memory = e2e_qmp_query (qmp_socket, "query-memory-size-summary", &error);
  g_assert_no_error (error);
  summary = json_node_get_object (memory);
  g_assert_cmpint (json_object_get_int_member (summary, "base-memory")
                   + json_object_get_int_member_with_default (summary, "plugged-memory", 0),
                   ==, (gint64) 384 * 1024 * 1024);
}

static void
test_takeover (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) state = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) second = NULL;
  g_autoptr(GArray) pids = NULL;
  g_autofree char *paused = NULL;
  JsonObject *object;

  if (!need_vm ())
    return;

  /* What a second `hvkit` process does: build from the saved state. */
  state = hvk_hypervisor_save_state (vm);
  object = json_node_get_object (state);
  g_assert_cmpstr (json_object_get_string_member (object, "qmp_socket"), ==, qmp_socket);
  g_assert_cmpint (json_object_get_int_member (object, "pid"), ==, qemu_pid);
  g_assert_cmpint (json_object_get_int_member (object, "vcpus"), ==, 2);
  hvk_hypervisor_disconnect (vm);

  config = hvk_config_new (hvk_config_get_backend (hvk_hypervisor_get_config (vm)));
  second = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_load_state (second, state, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (second), ==, HVK_VM_STATE_RUNNING);
  g_assert_cmpuint (hvk_hypervisor_get_total_memory_mb (second), ==, 384);
  pids = hvk_hypervisor_get_pids (second);
  g_assert_cmpint (g_array_index (pids, int, 0), ==, qemu_pid);

  g_assert_true (hvk_hypervisor_check (second, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_pause_vm (second, NULL, &error));
  g_assert_no_error (error);
  hvk_hypervisor_disconnect (second);
  paused = e2e_qmp_status (qmp_socket);
  g_assert_cmpstr (paused, ==, "paused");
  g_assert_true (hvk_hypervisor_resume_vm (second, NULL, &error));
  g_assert_no_error (error);

  /* The second object stops the VM: nothing is left. */
  g_assert_true (hvk_hypervisor_stop_vm (second, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (second), ==, HVK_VM_STATE_STOPPED);
  g_assert_true (e2e_wait_pid_dead (qemu_pid, 1000));
  g_assert_false (g_file_test (vm_dir, G_FILE_TEST_EXISTS));

  /* The first object notices. */
  g_assert_cmpint (hvk_hypervisor_get_state (vm), ==, HVK_VM_STATE_STOPPED);
  g_assert_false (hvk_hypervisor_check (vm, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_true (hvk_hypervisor_stop_vm (vm, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (vm_dir, G_FILE_TEST_EXISTS));
}

static void
test_stop (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *pid_file = NULL;
  g_autofree char *sock = NULL;
  int pid;

  if (e2e_env_skip (&env))
    return;

  /* A fresh VM, stopped as soon as QMP answers: no process, socket, pid
   * file or VM dir remains. */
  path = e2e_write_config (&env, "stop", NULL, NULL);
  config = hvk_config_new_from_file (path, registry, &error);
  g_assert_no_error (error);
  hvk_config_set_vm_store_path (config, env.store);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_create_vm (hypervisor, "e2e-stop", config, &error));
  g_assert_true (hvk_hypervisor_start_vm (hypervisor, 30000, NULL, &error));
  g_assert_no_error (error);
  e2e_track_hypervisor (hypervisor);
  dir = g_build_filename (env.store, "e2e-stop", NULL);
  pid_file = g_build_filename (dir, "pid", NULL);
  sock = g_build_filename (dir, "qmp.sock", NULL);
  pid = e2e_read_pid_file (pid_file);
  g_assert_true (e2e_pid_alive (pid));
  g_assert_true (g_file_test (sock, G_FILE_TEST_EXISTS));

  g_assert_true (hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (e2e_pid_alive (pid));
  g_assert_false (g_file_test (sock, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (pid_file, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  g_assert_cmpint (hvk_hypervisor_get_state (hypervisor), ==, HVK_VM_STATE_STOPPED);

  /* Stopping twice is harmless. */
  g_assert_true (hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, &error));
  g_assert_no_error (error);
}

/* The default driver, virtio-scsi, with a cold disk (LUN 0): hot-plugged
 * disks take the next LUNs (they used to collide: "lun already used by
 * 'disk0'").  Then vCPUs 1 -> 2 -> 1, the guest's count following each
 * step (QEMU 7.2 announces an unplugged vCPU only for its lapic child).
 * After that vCPU unplug, QEMU 7.2 under TCG aborts on the next vCPU,
 * PCI or DIMM hotplug: hvkit refuses them, paused or running, and the VM
 * lives on; virtio-scsi disks still come. */
static void
test_scsi_and_vcpus (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *disk0 = NULL, *disk1 = NULL, *disk2 = NULL, *disk3 = NULL, *disk4 = NULL;
  g_autofree char *extra = NULL;
  g_autofree char *path = NULL;
  g_autofree char *url = NULL;
  g_autofree char *protocol = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *sock = NULL;
  g_autofree char *status = NULL;
  g_autofree char *paused = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(E2eConsole) guest = NULL;
  g_autoptr(GArray) pids = NULL;
  g_autoptr(JsonNode) cpus = NULL;
  guint32 old_vcpus = 0, new_vcpus = 0, mem = 0;
  const char *text;
  gint64 started;
  int pid;

  if (e2e_env_skip (&env))
    return;

  disk0 = raw_disk ("scsi0.raw");
  disk1 = raw_disk ("scsi1.raw");
  disk2 = raw_disk ("scsi2.raw");
  disk3 = raw_disk ("scsi3.raw");
  disk4 = raw_disk ("scsi4.raw");
  extra = g_strdup_printf ("[device.disk0]\nkind=block\npath=%s\nformat=raw", disk0);
  path = e2e_write_config (&env, "scsi", "block_device_driver=virtio-scsi", extra);
  config = hvk_config_new_from_file (path, registry, &error);
  g_assert_no_error (error);
  hvk_config_set_vm_store_path (config, env.store);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_create_vm (hypervisor, "e2e-scsi", config, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_get_vm_console (hypervisor, &protocol, &url, &error));
  g_assert_true (hvk_hypervisor_start_vm (hypervisor, 30000, NULL, &error));
  g_assert_no_error (error);
  e2e_track_hypervisor (hypervisor);
  pids = hvk_hypervisor_get_pids (hypervisor);
  pid = g_array_index (pids, int, 0);
  dir = g_build_filename (env.store, "e2e-scsi", NULL);
  sock = g_build_filename (dir, "qmp.sock", NULL);
  guest = e2e_console_open (url, 5000);
  g_assert_nonnull (guest);
  if (!e2e_console_wait (guest, E2E_READY_MARKER, E2E_BOOT_TIMEOUT_MS))
    g_error ("no %s on the console; console said:\n%s", E2E_READY_MARKER, e2e_console_text (guest));
  e2e_console_require_current_guest (guest, &env);
  /* SCSI scans asynchronously: sda is there at boot or shortly after. */
  guest_says (guest, " sda", 1);

  /* Item 1: two disks next to the cold one, on LUNs 1 and 2. */
  e2e_console_forget (guest);
  if (!hotplug_spec (hypervisor, &error, "block,id=disk1,path=%s,format=raw", disk1))
    g_error ("%s", error->message);
  g_assert_true (hotplug_spec (hypervisor, &error, "block,id=disk2,path=%s,format=raw", disk2));
  g_assert_no_error (error);
  guest_says (guest, "HVKIT-BLOCK-ADDED sd", 2);
  text = e2e_console_text (guest);
  g_assert_nonnull (strstr (text, "HVKIT-BLOCK-ADDED sdb"));
  g_assert_nonnull (strstr (text, "HVKIT-BLOCK-ADDED sdc"));
  hvk_hypervisor_disconnect (hypervisor);
  g_assert_true (query_mentions (sock, "query-block", "\"disk0\""));
  g_assert_true (query_mentions (sock, "query-block", "\"disk2\""));

  e2e_console_forget (guest);
  g_assert_true (hvk_hypervisor_hotplug_remove_device (hypervisor, "disk1", NULL, &error));
  g_assert_no_error (error);
  guest_says (guest, "HVKIT-BLOCK-REMOVED sd", 1);

  /* Item 2: 1 -> 2 -> 1 -> 2, the guest following. */
  e2e_console_forget (guest);
  g_assert_true (hvk_hypervisor_resize_vcpus (hypervisor, 2, &old_vcpus, &new_vcpus, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (new_vcpus, ==, 2);
  guest_says (guest, "HVKIT-CPUS 2", 1);

  e2e_console_forget (guest);
  started = g_get_monotonic_time ();
  if (!hvk_hypervisor_resize_vcpus (hypervisor, 1, &old_vcpus, &new_vcpus, NULL, &error))
    g_error ("%s", error->message);
  g_test_message ("vCPU unplug took %" G_GINT64_FORMAT " ms", (g_get_monotonic_time () - started) / 1000);
  g_assert_cmpuint (old_vcpus, ==, 2);
  g_assert_cmpuint (new_vcpus, ==, 1);
  guest_says (guest, "HVKIT-CPUS 1", 1);

  /* Growing again would abort QEMU 7.2 under TCG (its heap is corrupt
   * since the unplug): refused, clearly, QEMU and the guest unchanged. */
  g_assert_false (hvk_hypervisor_resize_vcpus (hypervisor, 2, &old_vcpus, &new_vcpus, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "e2e-scsi"));
  g_assert_nonnull (strstr (error->message, "QEMU 7.2"));
  g_clear_error (&error);
  g_assert_cmpuint (old_vcpus, ==, 1);
  g_assert_cmpuint (new_vcpus, ==, 1);
  g_assert_true (e2e_pid_alive (pid));
  hvk_hypervisor_disconnect (hypervisor);
  cpus = e2e_qmp_query (sock, "query-cpus-fast", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (cpus)), ==, 1);

  /* Item 3, the sequence: paused, a virtio-blk-pci disk is
   * refused (the lifecycle table allows no hotplug into a paused VM);
   * QEMU lives on. */
  g_assert_true (hvk_hypervisor_pause_vm (hypervisor, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (hotplug_spec (hypervisor, &error, "block,id=disk3,path=%s,format=raw,driver=virtio-blk", disk3));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "e2e-scsi"));
  g_assert_nonnull (strstr (error->message, "paused"));
  g_clear_error (&error);
  g_assert_false (hvk_hypervisor_resize_memory (hypervisor, 384, 128, FALSE, &mem, NULL, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
  g_clear_error (&error);
  g_assert_true (e2e_pid_alive (pid));
  hvk_hypervisor_disconnect (hypervisor);
  paused = e2e_qmp_status (sock);
  g_assert_cmpstr (paused, ==, "paused");

  /* Running, a scsi-hd still comes, and the guest sees it. */
  g_assert_true (hvk_hypervisor_resume_vm (hypervisor, NULL, &error));
  g_assert_no_error (error);
  e2e_console_forget (guest);
  /* Running, virtio-blk-pci after a vCPU unplug would abort QEMU 7.2:
   * refused, naming the disk, the VM and why. */
  g_assert_false (hotplug_spec (hypervisor, &error, "block,id=disk3,path=%s,format=raw,driver=virtio-blk", disk3));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "'disk3'"));
  g_assert_nonnull (strstr (error->message, "e2e-scsi"));
  g_assert_nonnull (strstr (error->message, "vCPU"));
  g_clear_error (&error);
  g_assert_false (hvk_hypervisor_resize_memory (hypervisor, 384, 128, FALSE, &mem, NULL, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_true (hotplug_spec (hypervisor, &error, "block,id=disk4,path=%s,format=raw", disk4));
  g_assert_no_error (error);
  guest_says (guest, "HVKIT-BLOCK-ADDED sd", 1);
  g_assert_true (e2e_pid_alive (pid));
  g_assert_true (hvk_hypervisor_check (hypervisor, &error));
  g_assert_no_error (error);
  hvk_hypervisor_disconnect (hypervisor);
  status = e2e_qmp_status (sock);
  g_assert_cmpstr (status, ==, "running");

  g_assert_true (hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (e2e_wait_pid_dead (pid, 1000));
}

/* shared_fs=virtio-fs: virtiofsd starts first, QEMU connects to it (it
 * runs), get_pids() lists both, stop ends both. */
static void
test_virtio_fs (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *share = NULL;
  g_autofree char *overrides = NULL;
  g_autofree char *device = NULL;
  g_autofree char *path = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *sock = NULL;
  g_autofree char *status = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GArray) pids = NULL;
  g_autofree char *fs_log = NULL;
  g_autofree char *log = NULL;
  g_autofree char *kept_dir = NULL;
  g_autofree char *kept = NULL;
  int qemu, virtiofsd;

  if (e2e_env_skip (&env))
    return;
  if (!g_file_test ("/usr/lib/qemu/virtiofsd", G_FILE_TEST_IS_EXECUTABLE) || getuid () != 0)
    {
      g_test_skip ("virtio-fs needs /usr/lib/qemu/virtiofsd and root");
      return;
    }

  share = g_build_filename (env.tmpdir, "share", NULL);
  g_assert_cmpint (g_mkdir_with_parents (share, 0700), ==, 0);
  overrides = g_strdup_printf ("shared_fs=virtio-fs\nshared_path=%s\nvirtio_fs_cache=auto", share);
  device = g_strdup_printf ("[device.share0]\nkind=fs\ndriver=virtio-fs\npath=%s\ntag=hostshare", share);
  path = e2e_write_config (&env, "vfs", overrides, device);
  config = hvk_config_new_from_file (path, registry, &error);
  g_assert_no_error (error);
  hvk_config_set_vm_store_path (config, env.store);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_create_vm (hypervisor, "e2e-vfs", config, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_start_vm (hypervisor, 30000, NULL, &error));
  g_assert_no_error (error);
  e2e_track_hypervisor (hypervisor);

  pids = hvk_hypervisor_get_pids (hypervisor);
  g_assert_cmpuint (pids->len, ==, 2);
  qemu = g_array_index (pids, int, 0);
  virtiofsd = g_array_index (pids, int, 1);
  g_assert_cmpint (hvk_hypervisor_get_virtiofs_pid (hypervisor), ==, virtiofsd);
  g_assert_true (e2e_pid_alive (qemu));
  g_assert_true (e2e_pid_alive (virtiofsd));

  dir = g_build_filename (env.store, "e2e-vfs", NULL);
  sock = g_build_filename (dir, "qmp.sock", NULL);
  hvk_hypervisor_disconnect (hypervisor);
  status = e2e_qmp_status (sock);
  g_assert_cmpstr (status, ==, "running");

  /* virtiofsd's output, relayed by QEMU's hvkit-monitor to the VM's
   * virtiofsd.log (capped and rotated: tests/tool/test-monitor.c). */
  fs_log = g_build_filename (dir, "virtiofsd.log", NULL);
  for (int i = 0; i < 500; i++)
    {
      g_clear_pointer (&log, g_free);
      if (g_file_get_contents (fs_log, &log, NULL, NULL)
          && strstr (log, "Received vhost-user socket connection") != NULL)
        break;
      g_usleep (10000);
    }
  g_assert_nonnull (strstr (log, "Received vhost-user socket connection"));

  g_assert_true (hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (e2e_wait_pid_dead (qemu, 1000));
  g_assert_true (e2e_wait_pid_dead (virtiofsd, 1000));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  /* Kept after the VM is gone, for `hvkit logs`. */
  kept_dir = hvk_vm_store_logs_dir (env.store, "e2e-vfs");
  kept = g_build_filename (kept_dir, "virtiofsd.log", NULL);
  g_clear_pointer (&log, g_free);
  g_assert_true (g_file_get_contents (kept, &log, NULL, NULL));
  g_assert_nonnull (strstr (log, "Waiting for vhost-user socket connection"));
}

/* boot_to_be_template: save_vm() migrates the device state to
 * devices_state_path (the memory is already the shared memory_path). */
static void
test_template_save (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *mem = NULL;
  g_autofree char *state = NULL;
  g_autofree char *overrides = NULL;
  g_autofree char *path = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *status = NULL;
  g_autofree char *sock = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GArray) pids = NULL;
  GStatBuf st;

  if (e2e_env_skip (&env))
    return;

  mem = g_build_filename (env.tmpdir, "template-memory", NULL);
  state = g_build_filename (env.tmpdir, "template-state", NULL);
  overrides = g_strdup_printf ("boot_to_be_template=true\nmemory_path=%s\ndevices_state_path=%s", mem, state);
  path = e2e_write_config (&env, "template", overrides, NULL);
  config = hvk_config_new_from_file (path, registry, &error);
  g_assert_no_error (error);
  hvk_config_set_vm_store_path (config, env.store);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_create_vm (hypervisor, "e2e-template", config, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_start_vm (hypervisor, 30000, NULL, &error));
  g_assert_no_error (error);
  e2e_track_hypervisor (hypervisor);
  pids = hvk_hypervisor_get_pids (hypervisor);

  g_assert_true (hvk_hypervisor_save_vm (hypervisor, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (hypervisor), ==, HVK_VM_STATE_PAUSED);
  g_assert_cmpint (g_stat (state, &st), ==, 0);
  g_assert_cmpint (st.st_size, >, 0);
  dir = g_build_filename (env.store, "e2e-template", NULL);
  sock = g_build_filename (dir, "qmp.sock", NULL);
  hvk_hypervisor_disconnect (hypervisor);
  status = e2e_qmp_status (sock);
  g_assert_cmpstr (status, ==, "postmigrate");

  g_assert_true (hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (e2e_wait_pid_dead (g_array_index (pids, int, 0), 1000));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
}

/* QEMU runs in the VM's cgroup with the memory limit the configuration
 * gives; the guest boots inside it; the cgroup is gone after stop. */
static void
test_cgroup (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *parent = g_strdup_printf ("/hvkit-e2e-%d.slice", (int) getpid ());
  g_autofree char *overrides = g_strdup_printf ("vmm_cgroup_parent=%s\nvmm_cgroup_memory_mb=512", parent);
  g_autofree char *path = NULL;
  g_autofree char *protocol = NULL;
  g_autofree char *url = NULL;
  g_autofree char *proc_cgroup_path = NULL;
  g_autofree char *proc_cgroup = NULL;
  g_autofree char *leaf = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GArray) pids = NULL;
  g_autoptr(HvkCgroup) probe = NULL;
  g_autoptr(GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  E2eConsole *vm_console;
  gboolean limit_seen = FALSE;
  int pid;

  if (e2e_env_skip (&env))
    return;
  probe = geteuid () == 0 ? hvk_cgroup_new (parent, "probe", HVK_CGROUP_FLAGS_NONE, NULL) : NULL;
  if (probe == NULL)
    {
      g_test_skip ("cgroups need root and a writable cgroup file system");
      return;
    }
  hvk_cgroup_remove (probe, 1000, NULL);

  path = e2e_write_config (&env, "cgroup", overrides, NULL);
  config = hvk_config_new_from_file (path, registry, &error);
  g_assert_no_error (error);
  hvk_config_set_vm_store_path (config, env.store);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_create_vm (hypervisor, "e2e-cgroup", config, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_start_vm (hypervisor, 30000, NULL, &error));
  g_assert_no_error (error);
  e2e_track_hypervisor (hypervisor);
  pids = hvk_hypervisor_get_pids (hypervisor);
  pid = g_array_index (pids, int, 0);

  /* Every hierarchy's line names the VM's cgroup. */
  leaf = g_strdup_printf ("%s/e2e-cgroup\n", parent);
  proc_cgroup_path = g_strdup_printf ("/proc/%d/cgroup", pid);
  g_assert_true (g_file_get_contents (proc_cgroup_path, &proc_cgroup, NULL, NULL));
  g_assert_nonnull (strstr (proc_cgroup, leaf));
  {
    g_auto(GStrv) lines = g_strsplit (proc_cgroup, "\n", -1);

    for (guint i = 0; lines[i] != NULL; i++)
      {
        g_auto(GStrv) fields = g_strsplit (lines[i], ":", 3);
        g_autofree char *mount = NULL;

        if (g_strv_length (fields) != 3 || !g_str_has_suffix (fields[2], "/e2e-cgroup"))
          continue;
        mount = *fields[1] == '\0' ? g_strdup ("/sys/fs/cgroup/unified")
                : g_strdup_printf ("/sys/fs/cgroup/%s", fields[1]);
        if (!g_file_test (mount, G_FILE_TEST_IS_DIR))
          mount = g_strdup ("/sys/fs/cgroup");
        g_ptr_array_add (dirs, g_build_filename (mount, fields[2], NULL));
      }
  }
  g_assert_cmpuint (dirs->len, >, 0);
  for (guint i = 0; i < dirs->len; i++)
    {
      const char *names[] = { "memory.limit_in_bytes", "memory.max" };

      for (guint n = 0; n < G_N_ELEMENTS (names); n++)
        {
          g_autofree char *file = g_build_filename (dirs->pdata[i], names[n], NULL);
          g_autofree char *value = NULL;

          if (g_file_get_contents (file, &value, NULL, NULL))
            {
              g_assert_cmpstr (g_strstrip (value), ==, "536870912");
              limit_seen = TRUE;
            }
        }
    }
  g_assert_true (limit_seen);

  /* The guest boots inside it. */
  g_assert_true (hvk_hypervisor_get_vm_console (hypervisor, &protocol, &url, &error));
  vm_console = e2e_console_open (url, 5000);
  g_assert_nonnull (vm_console);
  if (!e2e_console_wait (vm_console, E2E_READY_MARKER, E2E_BOOT_TIMEOUT_MS))
    g_error ("no %s in the cgroup; console said:\n%s", E2E_READY_MARKER,
             e2e_console_text (vm_console));
  e2e_console_free (vm_console);

  g_assert_true (hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (e2e_wait_pid_dead (pid, 2000));
  for (guint i = 0; i < dirs->len; i++)
    g_assert_false (g_file_test (dirs->pdata[i], G_FILE_TEST_EXISTS));

  /* A limit the kernel would refuse: the start fails before anything
   * runs, naming it, and leaves no cgroup. */
  {
    g_autofree char *bad_overrides =
      g_strdup_printf ("vmm_cgroup_parent=%s\nvmm_cgroup_cpu_quota_us=50000\n"
                       "vmm_cgroup_cpu_period_us=10", parent);
    g_autofree char *bad_path = e2e_write_config (&env, "cgroup-bad", bad_overrides, NULL);
    g_autoptr(HvkConfig) bad_config = hvk_config_new_from_file (bad_path, registry, &error);
    g_autoptr(HvkHypervisor) bad = NULL;

    g_assert_no_error (error);
    hvk_config_set_vm_store_path (bad_config, env.store);
    bad = hvk_registry_create_hypervisor (registry, bad_config, &error);
    g_assert_no_error (error);
    g_assert_true (hvk_hypervisor_create_vm (bad, "e2e-cgroup-bad", bad_config, &error));
    g_assert_no_error (error);
    g_assert_false (hvk_hypervisor_start_vm (bad, 30000, NULL, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
    g_assert_nonnull (strstr (error->message, "e2e-cgroup-bad"));
    g_assert_nonnull (strstr (error->message, "CPU limit"));
    g_clear_error (&error);
    for (guint i = 0; i < dirs->len; i++)
      {
        g_autofree char *up = g_path_get_dirname (dirs->pdata[i]);
        g_autofree char *left = g_build_filename (up, "e2e-cgroup-bad", NULL);

        g_assert_false (g_file_test (left, G_FILE_TEST_EXISTS));
      }
    hvk_hypervisor_cleanup (bad, NULL);
  }
  for (guint i = 0; i < dirs->len; i++)
    {
      g_autofree char *up = g_path_get_dirname (dirs->pdata[i]);
      g_rmdir (up);
    }
}

/* Descriptors the command line takes reach QEMU: a tap device opened
 * here is given as net fds=N; QEMU runs only if its fd=3 is that tap. */
static void
test_tap_fd_passing (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *device = NULL;
  g_autofree char *path = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *sock = NULL;
  g_autofree char *status = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GArray) pids = NULL;
  struct ifreq ifr = { 0, };
  int tap;

  if (e2e_env_skip (&env))
    return;
  tap = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);
  g_strlcpy (ifr.ifr_name, "hvke2e%d", IFNAMSIZ);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (tap < 0 || ioctl (tap, TUNSETIFF, &ifr) != 0)
    {
      if (tap >= 0)
        close (tap);
      g_test_skip ("cannot create a tap device here (needs /dev/net/tun and CAP_NET_ADMIN)");
      return;
    }

  /* The tap goes away with its last descriptor: nothing to clean up. */
  device = g_strdup_printf ("[device.net0]\nkind=net\ntype=tap\nfds=%d\nmac=02:00:00:00:00:42", tap);
  /* No /dev/vhost-net here: plain virtio-net. */
  path = e2e_write_config (&env, "tap", "disable_vhost_net=true", device);
  config = hvk_config_new_from_file (path, registry, &error);
  g_assert_no_error (error);
  hvk_config_set_vm_store_path (config, env.store);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_create_vm (hypervisor, "e2e-tap", config, &error));
  g_assert_no_error (error);
  if (!hvk_hypervisor_start_vm (hypervisor, 30000, NULL, &error))
    g_error ("%s", error->message);
  e2e_track_hypervisor (hypervisor);
  pids = hvk_hypervisor_get_pids (hypervisor);

  dir = g_build_filename (env.store, "e2e-tap", NULL);
  sock = g_build_filename (dir, "qmp.sock", NULL);
  hvk_hypervisor_disconnect (hypervisor);
  status = e2e_qmp_status (sock);
  g_assert_cmpstr (status, ==, "running");

  g_assert_true (hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (e2e_wait_pid_dead (g_array_index (pids, int, 0), 1000));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  g_clear_object (&hypervisor);
  close (tap);
}

/* The node QEMU has for @node_name in query-named-block-nodes. */
static JsonObject *
named_node (JsonArray  *nodes,
            const char *node_name)
{
  for (guint i = 0; i < json_array_get_length (nodes); i++)
    {
      JsonObject *node = json_array_get_object_element (nodes, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (node, "node-name", NULL),
                     node_name) == 0)
        return node;
    }
  g_error ("QEMU has no block node '%s'", node_name);
  return NULL;
}

/* The format node of the -drive whose BlockBackend is @device. */
static const char *
drive_node_name (JsonArray  *block,
                 const char *device)
{
  for (guint i = 0; i < json_array_get_length (block); i++)
    {
      JsonObject *entry = json_array_get_object_element (block, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (entry, "device", NULL), device) == 0
          && json_object_has_member (entry, "inserted"))
        return json_object_get_string_member (json_object_get_object_member (entry, "inserted"),
                                              "node-name");
    }
  g_error ("query-block has no drive '%s'", device);
  return NULL;
}

/* A disk hot-plugged with aio=threads and cache_direct=true (and the
 * config's block_device_cache_noflush) is opened by QEMU exactly as the
 * same disk cold-plugged: the command line and hotplug are given the same
 * properties (hvk_qemu_block_props()).  A hot-plugged disk used to ignore
 * all three.  QEMU's word: query-named-block-nodes (QEMU 7.2 reports no
 * aio there; it is compared when a QEMU does). */
static void
test_hotplug_block_same_as_cold (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cold = NULL, *hot = NULL, *extra = NULL, *path = NULL;
  g_autofree char *dir = NULL, *sock = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(JsonNode) block = NULL;
  g_autoptr(JsonNode) nodes = NULL;
  g_autoptr(GArray) pids = NULL;
  JsonObject *cold_node, *hot_node, *cold_cache, *hot_cache;
  const char *cold_name;
  static const char * const cache_fields[] = { "direct", "no-flush", "writeback" };

  if (e2e_env_skip (&env))
    return;

  cold = raw_disk ("same-cold.raw");
  hot = raw_disk ("same-hot.raw");
  extra = g_strdup_printf ("[device.disk0]\nkind=block\npath=%s\nformat=raw\n"
                           "aio=threads\ncache_direct=true\n", cold);
  path = e2e_write_config (&env, "same", "block_device_cache_noflush=true", extra);
  config = hvk_config_new_from_file (path, registry, &error);
  g_assert_no_error (error);
  hvk_config_set_vm_store_path (config, env.store);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_create_vm (hypervisor, "e2e-same", config, &error));
  g_assert_no_error (error);
  if (!hvk_hypervisor_start_vm (hypervisor, 30000, NULL, &error))
    g_error ("%s", error->message);
  e2e_track_hypervisor (hypervisor);
  pids = hvk_hypervisor_get_pids (hypervisor);

  if (!hotplug_spec (hypervisor, &error, "block,id=disk1,path=%s,format=raw,"
                     "aio=threads,cache_direct=true", hot))
    g_error ("%s", error->message);

  /* QEMU's monitor takes one client: ask it with hvkit's closed. */
  hvk_hypervisor_disconnect (hypervisor);
  dir = g_build_filename (env.store, "e2e-same", NULL);
  sock = g_build_filename (dir, "qmp.sock", NULL);
  block = e2e_qmp_query (sock, "query-block", &error);
  g_assert_no_error (error);
  nodes = e2e_qmp_query (sock, "query-named-block-nodes", &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (block) && JSON_NODE_HOLDS_ARRAY (nodes));

  cold_name = drive_node_name (json_node_get_array (block), "disk0");
  cold_node = named_node (json_node_get_array (nodes), cold_name);
  hot_node = named_node (json_node_get_array (nodes), "drive-disk1");
  cold_cache = json_object_get_object_member (cold_node, "cache");
  hot_cache = json_object_get_object_member (hot_node, "cache");
  g_assert_nonnull (cold_cache);
  g_assert_nonnull (hot_cache);

  /* What was asked for, cold … */
  g_assert_true (json_object_get_boolean_member (cold_cache, "direct"));
  g_assert_true (json_object_get_boolean_member (cold_cache, "no-flush"));
  g_assert_false (json_object_get_boolean_member (cold_node, "ro"));
  /* … and the same hot. */
  for (gsize i = 0; i < G_N_ELEMENTS (cache_fields); i++)
    {
      g_test_message ("cache.%s", cache_fields[i]);
      g_assert_cmpint (json_object_get_boolean_member (hot_cache, cache_fields[i]), ==,
                       json_object_get_boolean_member (cold_cache, cache_fields[i]));
    }
  g_assert_cmpint (json_object_get_boolean_member (hot_node, "ro"), ==,
                   json_object_get_boolean_member (cold_node, "ro"));
  g_assert_cmpstr (json_object_get_string_member (hot_node, "drv"), ==,
                   json_object_get_string_member (cold_node, "drv"));
  g_assert_cmpint (json_object_has_member (hot_node, "aio"), ==,
                   json_object_has_member (cold_node, "aio"));
  if (json_object_has_member (cold_node, "aio"))
    g_assert_cmpstr (json_object_get_string_member (hot_node, "aio"), ==,
                     json_object_get_string_member (cold_node, "aio"));

  g_assert_true (hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (e2e_wait_pid_dead (g_array_index (pids, int, 0), 1000));
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  e2e_env_init (&env);
  if (env.skip_reason == NULL)
    registry = e2e_registry_new ();

  g_test_add_func ("/hvk/e2e/api/boot", test_boot);
  g_test_add_func ("/hvk/e2e/api/pause-resume", test_pause_resume);
  g_test_add_func ("/hvk/e2e/api/hotplug-block", test_hotplug_block);
  g_test_add_func ("/hvk/e2e/api/hotplug-net", test_hotplug_net);
  g_test_add_func ("/hvk/e2e/api/resize", test_resize);
  g_test_add_func ("/hvk/e2e/api/takeover", test_takeover);
  g_test_add_func ("/hvk/e2e/api/stop", test_stop);
  g_test_add_func ("/hvk/e2e/api/scsi-and-vcpus", test_scsi_and_vcpus);
  g_test_add_func ("/hvk/e2e/api/virtio-fs", test_virtio_fs);
  g_test_add_func ("/hvk/e2e/api/template-save", test_template_save);
  g_test_add_func ("/hvk/e2e/api/tap-fd-passing", test_tap_fd_passing);
  g_test_add_func ("/hvk/e2e/api/cgroup", test_cgroup);
  g_test_add_func ("/hvk/e2e/api/hotplug-block-same-as-cold", test_hotplug_block_same_as_cold);

  ret = g_test_run ();

  /* Whatever a failed test left running goes too. */
  if (vm != NULL)
    hvk_hypervisor_stop_vm (vm, FALSE, NULL, NULL);
  g_clear_object (&vm);
  g_clear_pointer (&console, e2e_console_free);
  g_clear_object (&registry);
  g_free (qmp_socket);
  g_free (vm_dir);
  e2e_env_clear (&env);
  return ret;
}
