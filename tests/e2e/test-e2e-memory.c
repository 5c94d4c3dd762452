/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <glib/gstdio.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>

#include "e2e-common.h"

/* Elastic guest memory end to end through the built `hvkit` tool, on the
 * real guest under TCG: virtio-mem grown and shrunk with `hvkit resize
 * --memory` (the guest's MemTotal follows); the balloon's free-page
 * reporting giving back what the guest freed (a control VM without it
 * keeps it), `hvkit balloon --target` (QEMU's actual follows); guest
 * NUMA from a described 2-node host (the guest's nodes and distances). */

static E2eEnv env;

typedef struct {
  const char *id;
  E2eConsole *console;
  char       *qmp_socket;
  int         qemu_pid;
  gboolean    started;
} Vm;

static gint64
guest_number (Vm         *vm,
              const char *prefix)
{
  g_autofree char *line = e2e_console_find_last_line (vm->console, prefix);

  return line != NULL ? g_ascii_strtoll (line + strlen (prefix), NULL, 10) : -1;
}

/* Starts VM @vm->id with @overrides and waits for the guest. */
static void
vm_start (Vm         *vm,
          const char *overrides)
{
  g_autofree char *conf = e2e_write_config (&env, vm->id, overrides, NULL);
  g_autoptr(JsonObject) status = NULL;

  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "start", "-c", conf, "--id", vm->id, NULL), ==, 0);
  vm->started = TRUE;
  status = e2e_tool_status (&env, vm->id);
  vm->qemu_pid = (int) json_array_get_int_element (json_object_get_array_member (status, "pids"), 0);
  e2e_track_pid (vm->qemu_pid);
  vm->qmp_socket = g_strdup (json_object_get_string_member (status, "qmp_socket"));
  vm->console = e2e_console_open (json_object_get_string_member (status, "console"), 5000);
  g_assert_nonnull (vm->console);
  if (!e2e_console_wait (vm->console, E2E_READY_MARKER, E2E_BOOT_TIMEOUT_MS))
    g_error ("VM %s: no %s on the console; it said:\n%s", vm->id, E2E_READY_MARKER,
             e2e_console_text (vm->console));
  e2e_console_require_current_guest (vm->console, &env);
}

static void
vm_stop (Vm *vm)
{
  if (vm->started)
    g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "stop", vm->id, NULL), ==, 0);
  vm->started = FALSE;
  if (vm->qemu_pid > 0)
    g_assert_true (e2e_wait_pid_dead (vm->qemu_pid, 5000));
  g_clear_pointer (&vm->console, e2e_console_free);
  g_clear_pointer (&vm->qmp_socket, g_free);
}

/* Waits (bounded) until the guest's MemTotal satisfies @pred. */
static gint64
wait_memtotal (Vm       *vm,
               gboolean (*pred) (gint64 kb, gint64 bound),
               gint64    bound)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) E2E_EVENT_TIMEOUT_MS * 1000;

  while (!pred (guest_number (vm, "HVKIT-MEMTOTAL "), bound)
         && g_get_monotonic_time () < deadline)
    e2e_console_wait (vm->console, "\n(never)", 200);
  return guest_number (vm, "HVKIT-MEMTOTAL ");
}

static gboolean at_least (gint64 kb, gint64 bound) { return kb >= bound; }
static gboolean at_most (gint64 kb, gint64 bound) { return kb >= 0 && kb <= bound; }

/* The virtio-mem device's plugged size, as QEMU says (bytes). */
static gint64
virtio_mem_size (Vm *vm)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) devices = e2e_qmp_query (vm->qmp_socket, "query-memory-devices", &error);
  JsonArray *list;

  g_assert_no_error (error);
  list = json_node_get_array (devices);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *entry = json_array_get_object_element (list, i);

      if (g_str_equal (json_object_get_string_member (entry, "type"), "virtio-mem"))
        return json_object_get_int_member (json_object_get_object_member (entry, "data"), "size");
    }
  g_assert_not_reached ();
}

/* Boot 256 MiB of 1024 with virtio-mem; `hvkit resize --memory 512`: the
 * guest's MemTotal grows by >= 240 MiB; back to 256: >= 128 MiB leave. */
static void
test_virtio_mem (void)
{
  Vm vm = { .id = "e2e-vmem" };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  gint64 boot_kb, grown_kb, shrunk_kb, t0;

  if (e2e_env_skip (&env))
    return;
  vm_start (&vm, "enable_virtio_mem=true\nkernel_params=memhp_default_state=online_movable");
  boot_kb = guest_number (&vm, "HVKIT-MEMTOTAL ");
  g_assert_cmpint (virtio_mem_size (&vm), ==, 0);

  t0 = g_get_monotonic_time ();
  g_assert_cmpint (e2e_run_tool (&env, &out, NULL, "resize", vm.id, "--memory", "512", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "memory: 256 MiB -> 512 MiB"));
  grown_kb = wait_memtotal (&vm, at_least, boot_kb + 240 * 1024);
  g_test_message ("virtio-mem grow: MemTotal %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
                  " kB, %" G_GINT64_FORMAT " ms from the request", boot_kb, grown_kb,
                  (g_get_monotonic_time () - t0) / 1000);
  g_assert_cmpint (grown_kb, >=, boot_kb + 240 * 1024);
  g_assert_cmpint (virtio_mem_size (&vm), ==, (gint64) 256 * 1024 * 1024);
  {
    g_autoptr(JsonObject) status = e2e_tool_status (&env, vm.id);
    g_assert_cmpint (json_object_get_int_member (status, "memory_mb"), ==, 512);
  }

  /* Beyond default_maxmemory: refused, naming it; nothing changes. */
  g_assert_cmpint (e2e_run_tool (&env, NULL, &err, "resize", vm.id, "--memory", "2048", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "default_maxmemory"));

  g_clear_pointer (&out, g_free);
  e2e_console_forget (vm.console);
  t0 = g_get_monotonic_time ();
  g_assert_cmpint (e2e_run_tool (&env, &out, NULL, "resize", vm.id, "--memory", "256", NULL), ==, 0);
  g_test_message ("hvkit resize: %s", out);
  shrunk_kb = wait_memtotal (&vm, at_most, grown_kb - 128 * 1024);
  g_test_message ("virtio-mem shrink: MemTotal %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
                  " kB, %" G_GINT64_FORMAT " ms from the request", grown_kb, shrunk_kb,
                  (g_get_monotonic_time () - t0) / 1000);
  g_assert_cmpint (shrunk_kb, <=, grown_kb - 128 * 1024);
  g_assert_cmpint (virtio_mem_size (&vm), <=, (gint64) 128 * 1024 * 1024);
  {
    g_autoptr(JsonObject) status = e2e_tool_status (&env, vm.id);
    g_assert_cmpint (json_object_get_int_member (status, "memory_mb"), ==,
                     256 + virtio_mem_size (&vm) / (1024 * 1024));
  }
  vm_stop (&vm);
}

/* VmRSS of @pid in KiB, or -1. */
static gint64
rss_kb (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (line = strstr (text, "\nVmRSS:")) == NULL)
    return -1;
  return g_ascii_strtoll (line + strlen ("\nVmRSS:"), NULL, 10);
}

static JsonObject *
balloon_json (const char *id,
              const char *first_arg,
              ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  const char *tool = g_getenv ("HVKIT_TEST_TOOL");
  g_autofree char *err = NULL;
  int status = -1;
  va_list ap;

  g_ptr_array_add (args, (gpointer) tool);
  g_ptr_array_add (args, "--state-dir");
  g_ptr_array_add (args, env.store);
  g_ptr_array_add (args, "balloon");
  g_ptr_array_add (args, (gpointer) id);
  va_start (ap, first_arg);
  for (const char *a = first_arg; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) a);
  va_end (ap);
  g_ptr_array_add (args, "--json");
  g_ptr_array_add (args, NULL);
  g_spawn_sync (NULL, (char **) args->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("hvkit balloon %s failed: %s", id, err);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

#define RECLAIM_OVERRIDES \
  "default_memory=512\nkernel_params=hvkit.fill_mb=192 hvkit.fill_hold_s=5"

/* Two VMs fill 192 MiB of tmpfs and free it: with
 * reclaim_guest_freed_memory the QEMU process's RSS drops by >= 100 MiB
 * (free-page reporting), without it (the control VM) it does not.  Then
 * the balloon of the first: a target below what it has, QEMU's actual
 * follows, the guest reports less free memory, hvkit stats shows it. */
static void
test_balloon_reclaim (void)
{
  Vm vm = { .id = "e2e-reclaim" };
  Vm control = { .id = "e2e-control" };
  g_autofree char *err = NULL;
  gint64 peak = 0, control_peak = 0, low, control_low, deadline, t0;
  gint64 free_before, free_after;

  if (e2e_env_skip (&env))
    return;
  /* The control first: vm_start() returns at the ready marker, so the
   * sampling below begins before the reporting VM's fill is freed, even
   * on a loaded machine where a second start takes longer than the hold
   * (the control's own peak matters less: its RSS must not drop). */
  vm_start (&control, RECLAIM_OVERRIDES);
  vm_start (&vm, "reclaim_guest_freed_memory=true\n" RECLAIM_OVERRIDES);

  /* The fill, held 5 s: the highest RSS while it lasts. */
  deadline = g_get_monotonic_time () + (gint64) E2E_EVENT_TIMEOUT_MS * 1000;
  while (g_get_monotonic_time () < deadline
         && !(e2e_console_wait (vm.console, "HVKIT-FREED", 100)
              && e2e_console_wait (control.console, "HVKIT-FREED", 100)))
    {
      peak = MAX (peak, rss_kb (vm.qemu_pid));
      control_peak = MAX (control_peak, rss_kb (control.qemu_pid));
    }
  g_assert_true (e2e_console_wait (vm.console, "HVKIT-FILLED 192", 0));
  g_assert_true (e2e_console_wait (vm.console, "HVKIT-FREED 192", 0));
  g_assert_true (e2e_console_wait (control.console, "HVKIT-FREED 192", 0));

  /* Within 30 s of the free, the reporting VM gives >= 100 MiB back. */
  t0 = g_get_monotonic_time ();
  deadline = t0 + 30 * G_USEC_PER_SEC;
  do
    {
      low = rss_kb (vm.qemu_pid);
      if (low >= 0 && low <= peak - 100 * 1024)
        break;
      g_usleep (200 * 1000);
    }
  while (g_get_monotonic_time () < deadline);
  control_low = rss_kb (control.qemu_pid);
  g_test_message ("free-page reporting: QEMU RSS %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
                  " kB (%" G_GINT64_FORMAT " kB returned, %" G_GINT64_FORMAT " ms after the free); "
                  "control %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT " kB",
                  peak, low, peak - low, (g_get_monotonic_time () - t0) / 1000,
                  control_peak, control_low);
  g_assert_cmpint (low, <=, peak - 100 * 1024);
  g_assert_cmpint (control_low, >, control_peak - 100 * 1024);

  /* The balloon: the guest's statistics every second, then a target. */
  {
    g_autoptr(JsonObject) info = balloon_json (vm.id, "--stats-interval", "1", NULL);

    g_assert_cmpint (json_object_get_int_member (info, "actual_mb"), ==, 512);
    g_assert_cmpint (json_object_get_int_member (info, "target_mb"), ==, 0);
    g_assert_cmpint (json_object_get_int_member (info, "stats_interval_s"), ==, 1);
  }
  deadline = g_get_monotonic_time () + (gint64) E2E_EVENT_TIMEOUT_MS * 1000;
  do
    {
      g_autoptr(JsonObject) info = balloon_json (vm.id, NULL);

      free_before = json_object_get_null_member (info, "guest_free_mb")
                    ? -1 : json_object_get_int_member (info, "guest_free_mb");
      if (free_before >= 0)
        break;
      g_usleep (500 * 1000);
    }
  while (g_get_monotonic_time () < deadline);
  g_assert_cmpint (free_before, >, 200);

  {
    g_autoptr(JsonObject) info = balloon_json (vm.id, "--target", "256", NULL);
    g_assert_cmpint (json_object_get_int_member (info, "target_mb"), ==, 256);
  }
  t0 = g_get_monotonic_time ();
  deadline = t0 + (gint64) E2E_EVENT_TIMEOUT_MS * 1000;
  for (;;)
    {
      g_autoptr(JsonObject) info = balloon_json (vm.id, NULL);
      gint64 actual = json_object_get_int_member (info, "actual_mb");

      free_after = json_object_get_null_member (info, "guest_free_mb")
                   ? -1 : json_object_get_int_member (info, "guest_free_mb");
      if ((actual <= 256 && free_after >= 0 && free_after <= free_before - 200)
          || g_get_monotonic_time () >= deadline)
        {
          g_test_message ("balloon: actual %" G_GINT64_FORMAT " MiB %" G_GINT64_FORMAT
                          " ms after the target; guest free %" G_GINT64_FORMAT " -> %"
                          G_GINT64_FORMAT " MiB", actual, (g_get_monotonic_time () - t0) / 1000,
                          free_before, free_after);
          g_assert_cmpint (actual, <=, 256);
          break;
        }
      g_usleep (500 * 1000);
    }
  g_assert_cmpint (free_after, <=, free_before - 200);
  {
    g_autofree char *out = NULL;

    g_assert_cmpint (e2e_run_tool (&env, &out, NULL, "stats", vm.id, NULL), ==, 0);
    g_assert_nonnull (strstr (out, "memory.balloon_bytes 268435456\n"));
    g_assert_nonnull (strstr (out, "memory.balloon_target_bytes 268435456\n"));
  }

  /* The control VM has no balloon: refused, naming the key. */
  g_assert_cmpint (e2e_run_tool (&env, NULL, &err, "balloon", control.id, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "reclaim_guest_freed_memory"));

  vm_stop (&vm);
  vm_stop (&control);
}

/* enable_numa with numa_mapping=0;1 on the described 2-node host
 * tests/host/numa2 (distance 21): the guest has nodes 0-1 and the host's
 * distances; vCPU 0 boots on node 0, the second place is node 1's.  This host has one node, so a wrapper gives
 * QEMU host-nodes=0 for host node 1 (the only host resource replaced, as
 * the qemu-accept test does); the rest of the argv is hvkit's.  A vCPU
 * hot-added later joins node 1. */
static void
test_numa (void)
{
  Vm vm = { .id = "e2e-numa" };
  const char *hosts = g_getenv ("HVKIT_TEST_HOST_DIR");
  g_autofree char *root = NULL;
  g_autofree char *wrapper = NULL;
  g_autofree char *script = NULL;
  g_autofree char *overrides = NULL;
  g_autofree char *saved = g_strdup (g_getenv ("HVKIT_HOST_ROOT"));
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) cpus = NULL;
  JsonArray *list;
  guint on_node1 = 0;

  if (e2e_env_skip (&env))
    return;
  if (hosts == NULL)
    {
      g_test_skip ("HVKIT_TEST_HOST_DIR (tests/host) is not set");
      return;
    }
  root = g_build_filename (hosts, "numa2", NULL);
  wrapper = g_build_filename (env.tmpdir, "qemu-host-node0", NULL);
  script = g_strdup_printf ("#!/bin/bash\nargs=()\nfor a in \"$@\"; do args+=(\"${a//host-nodes=1,/host-nodes=0,}\"); done\n"
                            "exec %s \"${args[@]}\"\n", env.qemu);
  g_file_set_contents (wrapper, script, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (wrapper, 0755), ==, 0);
  overrides = g_strdup_printf ("path=%s\ndefault_vcpus=1\ndefault_maxvcpus=2\ndefault_memory=512\n"
                               "enable_numa=true\nnuma_mapping=0;1", wrapper);

  g_setenv ("HVKIT_HOST_ROOT", root, TRUE);
  vm_start (&vm, overrides);
  if (saved != NULL)
    g_setenv ("HVKIT_HOST_ROOT", saved, TRUE);
  else
    g_unsetenv ("HVKIT_HOST_ROOT");

  g_assert_true (e2e_console_wait (vm.console, "HVKIT-NUMA-ONLINE 0-1", E2E_EVENT_TIMEOUT_MS));
  g_assert_true (e2e_console_wait (vm.console, "HVKIT-NUMA-DISTANCE node0 10 21", E2E_EVENT_TIMEOUT_MS));
  g_assert_true (e2e_console_wait (vm.console, "HVKIT-NUMA-DISTANCE node1 21 10", E2E_EVENT_TIMEOUT_MS));

  /* The hot-added vCPU joins node 1: QEMU has one vCPU a node. */
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "resize", vm.id, "--vcpus", "2", NULL), ==, 0);
  g_assert_true (e2e_console_wait (vm.console, "HVKIT-CPUS 2", E2E_EVENT_TIMEOUT_MS));
  cpus = e2e_qmp_query (vm.qmp_socket, "query-cpus-fast", &error);
  g_assert_no_error (error);
  list = json_node_get_array (cpus);
  g_assert_cmpuint (json_array_get_length (list), ==, 2);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *props = json_object_get_object_member (json_array_get_object_element (list, i), "props");
      on_node1 += json_object_get_int_member (props, "node-id") == 1;
    }
  g_assert_cmpuint (on_node1, ==, 1);
  vm_stop (&vm);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  e2e_env_init (&env);
  if (env.skip_reason == NULL && g_getenv ("HVKIT_TEST_TOOL") == NULL)
    env.skip_reason = g_strdup ("HVKIT_TEST_TOOL (the built hvkit) is not set");

  g_test_add_func ("/hvk/e2e/memory/virtio-mem", test_virtio_mem);
  g_test_add_func ("/hvk/e2e/memory/balloon-reclaim", test_balloon_reclaim);
  g_test_add_func ("/hvk/e2e/memory/numa", test_numa);

  return g_test_run ();
}
