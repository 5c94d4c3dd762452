/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The acrn backend's lifecycle through the HvkHypervisor API, with the
 * stand-in acrn-dm and acrnctl (tests/acrn/fake-*.c): start, status,
 * blkrescan hotplug, stop by SIGINT (SIGKILL when ignored), state saved
 * and loaded as another process would, and the error paths.
 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <glib/gstdio.h>

#include "hvk-test-transitions.h"
#include "hvk-test-fs.h"

static HvkRegistry *registry;

typedef struct {
  char *dir;        /* everything lives here */
  char *store;      /* the VM store */
  char *image;
  char *dm_log;
  char *ctl_log;
  char *fake_dm;
  char *fake_ctl;
  char *cpuinfo;
} Fixture;

static const char * const knobs[] = {
  "HVKIT_FAKE_ACRN_REFUSE",
  "HVKIT_FAKE_ACRN_EXIT",
  "HVKIT_FAKE_ACRN_IGNORE_SIGINT",
  "HVKIT_FAKE_ACRNCTL_FAIL",
};

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("hvkit-acrn-lifecycle-XXXXXX", &error);
  g_assert_no_error (error);
  f->store = g_build_filename (f->dir, "state", NULL);
  f->image = g_build_filename (f->dir, "rootfs.img", NULL);
  f->dm_log = g_build_filename (f->dir, "acrn-dm.args", NULL);
  f->ctl_log = g_build_filename (f->dir, "acrnctl.args", NULL);
  f->fake_dm = g_test_build_filename (G_TEST_BUILT, "acrn", "fake-acrn-dm", NULL);
  f->fake_ctl = g_test_build_filename (G_TEST_BUILT, "acrn", "fake-acrnctl", NULL);
  f->cpuinfo = g_test_build_filename (G_TEST_DIST, "acrn", "cpuinfo-4cpu", NULL);

  g_file_set_contents (f->image, "", 0, &error);
  g_assert_no_error (error);

  g_setenv ("HVKIT_FAKE_ACRN_LOG", f->dm_log, TRUE);
  g_setenv ("HVKIT_FAKE_ACRNCTL_LOG", f->ctl_log, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (knobs); i++)
    g_unsetenv (knobs[i]);
}


static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  hvk_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->store);
  g_free (f->image);
  g_free (f->dm_log);
  g_free (f->ctl_log);
  g_free (f->fake_dm);
  g_free (f->fake_ctl);
  g_free (f->cpuinfo);
}

/* A config for the stand-ins; @extra goes into [hypervisor.acrn], @devices
 * after it. */
static HvkConfig *
make_config (Fixture    *f,
             const char *extra,
             const char *devices)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  HvkConfig *config;

  text = g_strdup_printf ("[hypervisor]\nbackend=acrn\n\n[hypervisor.acrn]\n"
                          "path=%s\nctlpath=%s\nkernel=%s\nimage=%s\n"
                          "default_maxvcpus=1\ndefault_memory=256\n%s\n%s",
                          f->fake_dm, f->fake_ctl, f->image, f->image,
                          extra ? extra : "", devices ? devices : "");
  config = hvk_config_new_from_data (text, -1, "lifecycle.conf", registry, &error);
  g_assert_no_error (error);
  hvk_config_set_vm_store_path (config, f->store);
  return config;
}

static HvkHypervisor *
make_hypervisor (Fixture   *f,
                 HvkConfig *config)
{
  g_autoptr(GError) error = NULL;
  HvkHypervisor *hv = hvk_registry_create_hypervisor (registry, config, &error);

  g_assert_no_error (error);
  g_object_set (hv, "cpuinfo-path", f->cpuinfo, NULL);
  return hv;
}

static HvkHypervisor *
create (Fixture    *f,
        const char *id,
        const char *extra,
        const char *devices)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = make_config (f, extra, devices);
  HvkHypervisor *hv = make_hypervisor (f, config);

  hvk_hypervisor_create_vm (hv, id, config, &error);
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (hv), ==, HVK_VM_STATE_CREATED);
  return hv;
}

static int
the_pid (HvkHypervisor *hv)
{
  g_autoptr(GArray) pids = hvk_hypervisor_get_pids (hv);

  g_assert_cmpuint (pids->len, ==, 1);
  return g_array_index (pids, int, 0);
}

static char *
read_file (const char *path)
{
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return g_strdup ("");
  return contents;
}

static char *
affinity_index (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->store, "cpu_affinity_idx", NULL);

  return read_file (path);
}

static gboolean
proc_exists (int pid)
{
  /* A zombie is dead: PID 1 may take seconds to reap an orphan. */
  return hvk_process_is_alive (pid, 0);
}

/* What stays in the store once every VM stopped: the affinity index. */
static void
assert_nothing_left (Fixture *f)
{
  g_autoptr(GDir) dir = g_dir_open (f->store, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_assert_cmpstr (name, ==, "cpu_affinity_idx");
}

static void
test_start_stop (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) hv = create (f, "lc", NULL, NULL);
  g_auto(GStrv) argv = NULL;
  g_autofree char *kernel_cmdline = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *log = NULL;
  g_autofree char *protocol = NULL;
  g_autofree char *url = NULL;
  g_autofree char *index = NULL;
  g_autofree char *vm_dir = g_build_filename (f->store, "lc", NULL);
  g_autofree char *console = g_build_filename (vm_dir, "console.sock", NULL);
  int pid;

  g_assert_true (hvk_hypervisor_get_launch_command (hv, &argv, &kernel_cmdline, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (argv[0], ==, f->fake_dm);
  g_assert_cmpstr (argv[g_strv_length (argv) - 1], ==, "sbx-lc");
  g_assert_true (g_str_has_suffix (kernel_cmdline, "panic=1 maxcpus=1"));
  /* Building took nothing. */
  g_assert_false (g_file_test (vm_dir, G_FILE_TEST_EXISTS));

  hvk_hypervisor_get_vm_console (hv, &protocol, &url, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (protocol, ==, "unix");
  g_assert_cmpstr (url, ==, console);

  hvk_hypervisor_start_vm (hv, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (hv), ==, HVK_VM_STATE_RUNNING);
  pid = the_pid (hv);
  g_assert_true (proc_exists (pid));
  hvk_hypervisor_check (hv, &error);
  g_assert_no_error (error);
  index = affinity_index (f);
  g_assert_cmpstr (index, ==, "0");

  /* acrn-dm got exactly the argv the property shows. */
  joined = g_strjoinv ("\n", argv);
  log = read_file (f->dm_log);
  g_assert_true (g_str_has_prefix (log, joined));
  g_assert_nonnull (strstr (log, "\nrunning\n"));

  hvk_hypervisor_stop_vm (hv, FALSE, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&log, g_free);
  log = read_file (f->dm_log);
  g_assert_nonnull (strstr (log, "\nSIGINT\nexit 0\n"));
  g_assert_false (proc_exists (pid));
  g_assert_cmpint (hvk_hypervisor_get_state (hv), ==, HVK_VM_STATE_STOPPED);
  g_assert_false (g_file_test (vm_dir, G_FILE_TEST_EXISTS));
  g_clear_pointer (&index, g_free);
  index = affinity_index (f);
  g_assert_cmpstr (index, ==, "-1");
  assert_nothing_left (f);

  hvk_hypervisor_check (hv, &error);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_clear_error (&error);

  /* Stopping again is a no-op. */
  g_assert_true (hvk_hypervisor_stop_vm (hv, FALSE, NULL, &error));
}

static HvkDevice *
device (const char *text)
{
  g_autoptr(GError) error = NULL;
  HvkDevice *dev = hvk_device_new_from_string (registry, text, &error);

  g_assert_no_error (error);
  return dev;
}

static void
expect_hotplug_error_path (HvkHypervisor *hv,
                           const char    *text,
                           const char    *path,
                           int            code,
                           const char    *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) dev = device (text);

  if (path != NULL)
    hvk_device_set_string (dev, "path", path);

  g_assert_false (hvk_hypervisor_hotplug_add_device (hv, dev, NULL, &error));
  g_assert_error (error, HVK_ERROR, code);
  if (fragment != NULL && strstr (error->message, fragment) == NULL)
    g_error ("'%s' not in: %s", fragment, error->message);
}

static void
expect_hotplug_error (HvkHypervisor *hv,
                      const char    *text,
                      int            code,
                      const char    *fragment)
{
  expect_hotplug_error_path (hv, text, NULL, code, fragment);
}

static void
test_hotplug (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) hv = create (f, "hp", NULL, NULL);
  g_autoptr(HvkDevice) d1 = device ("block,id=d1,path=/srv/one.img,index=1");
  g_autoptr(HvkDevice) d8 = device ("block,id=d8,path=/srv/eight.img,index=8");
  g_autofree char *calls = NULL;

  /* Not running yet. */
  g_assert_false (hvk_hypervisor_hotplug_add_device (hv, d1, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
  g_clear_error (&error);

  hvk_hypervisor_start_vm (hv, 0, NULL, &error);
  g_assert_no_error (error);

  /* Index 1 is the first placeholder, slot 5; index 8 the last, slot 12. */
  hvk_hypervisor_hotplug_add_device (hv, d1, NULL, &error);
  g_assert_no_error (error);
  hvk_hypervisor_hotplug_add_device (hv, d8, NULL, &error);
  g_assert_no_error (error);

  expect_hotplug_error (hv, "block,id=d9,path=/srv/x.img,index=9",
                        HVK_ERROR_INVALID_ARGUMENT, "outside the hotplug pool");
  expect_hotplug_error (hv, "block,id=d0,path=/srv/x.img,index=0",
                        HVK_ERROR_INVALID_ARGUMENT, "(1..8)");
  expect_hotplug_error (hv, "block,id=dx,path=/srv/x.img",
                        HVK_ERROR_INVALID_ARGUMENT, "unset");
  expect_hotplug_error (hv, "block,id=de,path=,index=2",
                        HVK_ERROR_INVALID_ARGUMENT, "empty");
  expect_hotplug_error_path (hv, "block,id=dc,path=/srv/x.img,index=2", "/srv/a,b.img",
                             HVK_ERROR_INVALID_ARGUMENT, "contains ','");
  expect_hotplug_error (hv, "block,id=dbusy,path=/srv/x.img,index=1",
                        HVK_ERROR_BUSY, "d1");
  expect_hotplug_error (hv, "net,id=n1,ifname=tap9,mac=02:00:00:00:00:09",
                        HVK_ERROR_NOT_SUPPORTED, "hotplug of net");
  expect_hotplug_error (hv, "vsock,id=v1,cid=7",
                        HVK_ERROR_NOT_SUPPORTED, "hotplug of vsock");

  hvk_hypervisor_hotplug_remove_device (hv, "d1", NULL, &error);
  g_assert_no_error (error);
  g_assert_false (hvk_hypervisor_hotplug_remove_device (hv, "d1", NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* acrnctl failing is an error with its message (Kata ignored it). */
  g_setenv ("HVKIT_FAKE_ACRNCTL_FAIL", "no such VM", TRUE);
  g_assert_false (hvk_hypervisor_hotplug_remove_device (hv, "d8", NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "acrnctl: no such VM"));
  g_clear_error (&error);
  g_unsetenv ("HVKIT_FAKE_ACRNCTL_FAIL");

  calls = read_file (f->ctl_log);
  g_assert_cmpstr (calls, ==,
                   "blkrescan sbx-hp 5,/srv/one.img\n"
                   "blkrescan sbx-hp 12,/srv/eight.img\n"
                   "blkrescan sbx-hp 5,nodisk\n"
                   "blkrescan sbx-hp 12,nodisk\n");

  hvk_hypervisor_stop_vm (hv, FALSE, NULL, &error);
  g_assert_no_error (error);
  assert_nothing_left (f);
}

/* `hvkit stop ID` in another process: the state file is all it has. */
static void
test_save_load (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) hv = create (f, "sl", NULL, NULL);
  g_autoptr(HvkHypervisor) other = NULL;
  g_autoptr(HvkHypervisor) third = NULL;
  g_autoptr(HvkDevice) d2 = device ("block,id=d2,path=/srv/two.img,index=2");
  g_autofree char *log = NULL;
  g_autofree char *calls = NULL;
  g_autofree char *url = NULL;
  int pid;

  hvk_hypervisor_start_vm (hv, 0, NULL, &error);
  g_assert_no_error (error);
  pid = the_pid (hv);
  hvk_vm_store_save_hypervisor (f->store, "sl", hv, &error);
  g_assert_no_error (error);

  other = hvk_vm_store_load_hypervisor (f->store, "sl", registry, &error);
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (other), ==, HVK_VM_STATE_RUNNING);
  g_assert_cmpint (the_pid (other), ==, pid);
  hvk_hypervisor_check (other, &error);
  g_assert_no_error (error);
  hvk_hypervisor_get_vm_console (other, NULL, &url, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (url, "/sl/console.sock"));

  /* Hotplug from the second object, save, and unplug from a third. */
  hvk_hypervisor_hotplug_add_device (other, d2, NULL, &error);
  g_assert_no_error (error);
  hvk_vm_store_save_hypervisor (f->store, "sl", other, &error);
  g_assert_no_error (error);
  third = hvk_vm_store_load_hypervisor (f->store, "sl", registry, &error);
  g_assert_no_error (error);
  hvk_hypervisor_hotplug_remove_device (third, "d2", NULL, &error);
  g_assert_no_error (error);

  hvk_hypervisor_stop_vm (third, FALSE, NULL, &error);
  g_assert_no_error (error);
  log = read_file (f->dm_log);
  g_assert_nonnull (strstr (log, "\nSIGINT\n"));
  g_assert_false (proc_exists (pid));
  /* The first object sees acrn-dm gone. */
  g_assert_cmpint (hvk_hypervisor_get_state (hv), ==, HVK_VM_STATE_STOPPED);

  calls = read_file (f->ctl_log);
  g_assert_cmpstr (calls, ==, "blkrescan sbx-sl 6,/srv/two.img\nblkrescan sbx-sl 6,nodisk\n");
  assert_nothing_left (f);
}

static void
test_load_bad_state (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = make_config (f, NULL, NULL);
  g_autoptr(HvkHypervisor) hv = make_hypervisor (f, config);
  g_autoptr(JsonNode) node = json_from_string ("{\"state\":\"running\",\"id\":\"x\"}", NULL);
  g_autoptr(JsonNode) array = json_from_string ("[1,2]", NULL);

  /* A corrupt state is a corrupt file, as for every backend. */
  g_assert_false (hvk_hypervisor_load_state (hv, node, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_clear_error (&error);
  g_assert_false (hvk_hypervisor_load_state (hv, array, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
}

static void
expect_start_failure (Fixture    *f,
                      const char *id,
                      const char *fragment1,
                      const char *fragment2)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) hv = create (f, id, NULL, NULL);
  g_autofree char *index = NULL;
  g_autofree char *vm_dir = g_build_filename (f->store, id, NULL);

  /* A long watch: the failure returns as soon as acrn-dm exits. */
  g_object_set (hv, "start-grace-ms", 20000, NULL);
  g_assert_false (hvk_hypervisor_start_vm (hv, 60000, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  if (strstr (error->message, fragment1) == NULL || strstr (error->message, fragment2) == NULL)
    g_error ("'%s'/'%s' not in: %s", fragment1, fragment2, error->message);

  g_assert_cmpint (hvk_hypervisor_get_state (hv), ==, HVK_VM_STATE_CREATED);
  g_assert_false (g_file_test (vm_dir, G_FILE_TEST_EXISTS));
  index = affinity_index (f);
  g_assert_cmpstr (index, ==, "-1");
  assert_nothing_left (f);
}

static void
test_early_exit (Fixture       *f,
                 gconstpointer  data)
{
  g_setenv ("HVKIT_FAKE_ACRN_EXIT", "3", TRUE);
  expect_start_failure (f, "early", "exit code 3", "guest died");
}

static void
test_refused (Fixture       *f,
              gconstpointer  data)
{
  g_setenv ("HVKIT_FAKE_ACRN_REFUSE", "invalid option -- 'Z'", TRUE);
  expect_start_failure (f, "refused", "exit code 1", "acrn-dm: invalid option -- 'Z'");
}

static void
test_image_missing (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) hv = create (f, "noimg", NULL, NULL);

  g_remove (f->image);
  g_assert_false (hvk_hypervisor_start_vm (hv, 0, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_assert_false (g_file_test (f->dm_log, G_FILE_TEST_EXISTS));
  assert_nothing_left (f);
}

/* Two VMs get different CPUs; the one created second learns its CPU at
 * start and rebuilds its argv. */
static void
test_two_vms (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) a = create (f, "vma", NULL, NULL);
  g_autoptr(HvkHypervisor) b = create (f, "vmb", NULL, NULL);
  g_auto(GStrv) argv_a = NULL;
  g_auto(GStrv) argv_b = NULL;
  g_autofree char *index = NULL;
  guint n;

  g_assert_true (hvk_hypervisor_get_launch_command (b, &argv_b, NULL, &error));
  g_assert_no_error (error);
  n = g_strv_length (argv_b);
  g_assert_cmpstr (argv_b[n - 7], ==, "--cpu_affinity");
  g_assert_cmpstr (argv_b[n - 6], ==, "0");
  g_clear_pointer (&argv_b, g_strfreev);

  hvk_hypervisor_start_vm (a, 0, NULL, &error);
  g_assert_no_error (error);
  hvk_hypervisor_start_vm (b, 0, NULL, &error);
  g_assert_no_error (error);

  g_assert_true (hvk_hypervisor_get_launch_command (a, &argv_a, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_get_launch_command (b, &argv_b, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (argv_a[g_strv_length (argv_a) - 6], ==, "0");
  g_assert_cmpstr (argv_b[g_strv_length (argv_b) - 6], ==, "2");
  index = affinity_index (f);
  g_assert_cmpstr (index, ==, "1");
  /* The log is the last acrn-dm started: B's, with its new argv. */
  {
    g_autofree char *log = read_file (f->dm_log);
    g_autofree char *joined = g_strjoinv ("\n", argv_b);
    g_assert_true (g_str_has_prefix (log, joined));
  }

  hvk_hypervisor_stop_vm (a, FALSE, NULL, &error);
  g_assert_no_error (error);
  hvk_hypervisor_stop_vm (b, FALSE, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&index, g_free);
  index = affinity_index (f);
  g_assert_cmpstr (index, ==, "-1");
  assert_nothing_left (f);
}

static void
test_sigkill (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) hv = create (f, "stubborn", NULL, NULL);
  g_autofree char *log = NULL;
  int pid;

  g_setenv ("HVKIT_FAKE_ACRN_IGNORE_SIGINT", "1", TRUE);
  g_object_set (hv, "stop-timeout-ms", 200, NULL);
  hvk_hypervisor_start_vm (hv, 0, NULL, &error);
  g_assert_no_error (error);
  pid = the_pid (hv);

  hvk_hypervisor_stop_vm (hv, FALSE, NULL, &error);
  g_assert_no_error (error);
  log = read_file (f->dm_log);
  g_assert_nonnull (strstr (log, "\nSIGINT ignored\n"));
  g_assert_null (strstr (log, "exit 0"));
  g_assert_false (proc_exists (pid));
  assert_nothing_left (f);
}

/* acrn-dm exits on its own (guest poweroff): the VM reads as stopped. */
static void
test_died (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) hv = create (f, "died", NULL, NULL);
  int pid;

  hvk_hypervisor_start_vm (hv, 0, NULL, &error);
  g_assert_no_error (error);
  pid = the_pid (hv);
  g_assert_cmpint (kill (pid, SIGTERM), ==, 0);
  while (hvk_hypervisor_get_state (hv) == HVK_VM_STATE_RUNNING)
    g_usleep (10000);
  g_assert_cmpint (hvk_hypervisor_get_state (hv), ==, HVK_VM_STATE_STOPPED);
  g_assert_false (hvk_hypervisor_check (hv, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_clear_error (&error);

  hvk_hypervisor_stop_vm (hv, FALSE, NULL, &error);
  g_assert_no_error (error);
  assert_nothing_left (f);
}

static void
test_add_device (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) hv = create (f, "cold", NULL, NULL);
  g_autoptr(HvkDevice) net = device ("net,id=n0,ifname=tap7,mac=02:00:00:00:00:07");
  g_autoptr(HvkDevice) bad = device ("net,id=n1,ifname=tap8");
  g_autoptr(HvkDevice) fs = device ("fs,id=f0,path=/srv,tag=share");
  g_autoptr(HvkDevice) late = device ("block,id=late,path=/srv/late.img");
  g_auto(GStrv) before = NULL;
  g_auto(GStrv) after = NULL;
  g_auto(GStrv) again = NULL;
  g_autofree char *log = NULL;

  g_assert_true (hvk_hypervisor_get_launch_command (hv, &before, NULL, &error));
  g_assert_no_error (error);
  hvk_hypervisor_add_device (hv, net, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_get_launch_command (hv, &after, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (after), ==, g_strv_length (before) + 2);
  g_assert_true (g_strv_contains ((const char * const *) after,
                                  "13,virtio-net,tap=tap7,mac=02:00:00:00:00:07"));

  /* A bad device fails at once and changes nothing. */
  g_assert_false (hvk_hypervisor_add_device (hv, bad, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (hvk_hypervisor_add_device (hv, fs, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "fs"));
  g_clear_error (&error);
  g_assert_true (hvk_hypervisor_get_launch_command (hv, &again, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_strv_equal ((const char * const *) again, (const char * const *) after));

  hvk_hypervisor_start_vm (hv, 0, NULL, &error);
  g_assert_no_error (error);
  log = read_file (f->dm_log);
  g_assert_nonnull (strstr (log, "\n13,virtio-net,tap=tap7,mac=02:00:00:00:00:07\n"));

  /* Cold-plug is over once running. */
  g_assert_false (hvk_hypervisor_add_device (hv, late, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
  g_clear_error (&error);

  hvk_hypervisor_stop_vm (hv, FALSE, NULL, &error);
  g_assert_no_error (error);
}

static void
expect_create_error (Fixture    *f,
                     const char *id,
                     const char *extra,
                     int         code,
                     const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = make_config (f, extra, NULL);
  g_autoptr(HvkHypervisor) hv = make_hypervisor (f, config);

  g_assert_false (hvk_hypervisor_create_vm (hv, id, config, &error));
  g_assert_error (error, HVK_ERROR, code);
  if (strstr (error->message, fragment) == NULL)
    g_error ("'%s' not in: %s", fragment, error->message);
  g_assert_cmpint (hvk_hypervisor_get_state (hv), ==, HVK_VM_STATE_NONE);
}

static void
test_create_errors (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) hv = NULL;
  g_autoptr(HvkConfig) config = NULL;

  expect_create_error (f, "abcdefghijkl", NULL, HVK_ERROR_INVALID_ARGUMENT,
                       "'sbx-abcdefghijkl' is 16 characters long but ACRN allows at most 15");
  expect_create_error (f, "lc", "path=/nonexistent/acrn-dm", HVK_ERROR_NOT_FOUND,
                       "path '/nonexistent/acrn-dm' does not exist");
  expect_create_error (f, "lc", "ctlpath=/nonexistent/acrnctl", HVK_ERROR_NOT_FOUND,
                       "ctlpath '/nonexistent/acrnctl' does not exist");
  expect_create_error (f, "lc", "valid_hypervisor_paths=/usr/bin/acrn-dm",
                       HVK_ERROR_INVALID_CONFIG, "valid_hypervisor_paths");
  expect_create_error (f, "lc", "valid_ctlpaths=/usr/bin/acrnctl",
                       HVK_ERROR_INVALID_CONFIG, "valid_ctlpaths");
  expect_create_error (f, "lc", "block_device_driver=virtio-scsi",
                       HVK_ERROR_NOT_SUPPORTED, "supports only virtio-blk");
  /* A directory is not a binary. */
  {
    g_autofree char *extra = g_strdup_printf ("path=%s", f->dir);
    expect_create_error (f, "lc", extra, HVK_ERROR_INVALID_CONFIG, "not an executable");
  }

  /* Globs that match are fine. */
  {
    g_autofree char *dir = g_path_get_dirname (f->fake_dm);
    g_autofree char *extra = g_strdup_printf ("valid_hypervisor_paths=%s/fake-acrn-*\n"
                                              "valid_ctlpaths=%s/fake-acrnctl", dir, dir);
    g_autoptr(HvkHypervisor) ok = create (f, "glob", extra, NULL);
  }

  /* create_vm twice. */
  config = make_config (f, NULL, NULL);
  hv = make_hypervisor (f, config);
  hvk_hypervisor_create_vm (hv, "twice", config, &error);
  g_assert_no_error (error);
  g_assert_false (hvk_hypervisor_create_vm (hv, "twice", config, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
  assert_nothing_left (f);
}

static void
expect_not_supported (gboolean    ok,
                      GError     *error,
                      const char *operation)
{
  g_assert_false (ok);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  if (strstr (error->message, operation) == NULL || strstr (error->message, "acrn") == NULL)
    g_error ("'%s' and 'acrn' not in: %s", operation, error->message);
}

static void
test_not_supported (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(HvkHypervisor) hv = create (f, "ns", NULL, NULL);
  g_autoptr(HvkDevice) vsock = device ("vsock,id=v0,cid=3");
  g_autoptr(HvkDevice) vfio = device ("vfio,id=gpu0,host=0000:01:00.0");

  /* The call first: argument evaluation order is unspecified. */
#define EXPECT_NOT_SUPPORTED(call, operation) \
  G_STMT_START { \
    g_autoptr(GError) error = NULL; \
    gboolean ok_ = (call); \
    expect_not_supported (ok_, error, operation); \
  } G_STMT_END

  EXPECT_NOT_SUPPORTED (hvk_hypervisor_pause_vm (hv, NULL, &error), "pause");
  EXPECT_NOT_SUPPORTED (hvk_hypervisor_resume_vm (hv, NULL, &error), "resume");
  EXPECT_NOT_SUPPORTED (hvk_hypervisor_save_vm (hv, NULL, &error), "save");
  EXPECT_NOT_SUPPORTED (hvk_hypervisor_save_to_dir (hv, "/nonexistent/saved", NULL, &error),
                        "save_to_dir");
  EXPECT_NOT_SUPPORTED (hvk_hypervisor_restore_from_dir (hv, "/nonexistent/saved", FALSE, 0,
                                                         NULL, &error), "restore_from_dir");
  /* ... and does not advertise it. */
  g_assert_false (hvk_hypervisor_capabilities (hv) & HVK_CAP_SAVE_RESTORE);
  EXPECT_NOT_SUPPORTED (hvk_hypervisor_resize_memory (hv, 4096, 128, FALSE, NULL, NULL,
                                                      NULL, &error), "resize_memory");
  EXPECT_NOT_SUPPORTED (hvk_hypervisor_resize_vcpus (hv, 2, NULL, NULL, NULL, &error),
                        "resize_vcpus");
  EXPECT_NOT_SUPPORTED (hvk_hypervisor_get_thread_ids (hv, NULL, &error) != NULL,
                        "get_thread_ids");
  EXPECT_NOT_SUPPORTED (hvk_hypervisor_generate_socket (hv, "ns", &error) != NULL,
                        "generate_socket");
  EXPECT_NOT_SUPPORTED (hvk_hypervisor_add_device (hv, vsock, &error), "vsock");
  EXPECT_NOT_SUPPORTED (hvk_hypervisor_add_device (hv, vfio, &error), "vfio");
#undef EXPECT_NOT_SUPPORTED

  g_assert_cmpint (hvk_hypervisor_capabilities (hv), ==,
                   HVK_CAP_BLOCK_DEVICE | HVK_CAP_BLOCK_DEVICE_HOTPLUG);
  g_assert_cmpint (hvk_backend_info_get_capabilities (hvk_registry_lookup_backend (registry, "acrn")),
                   ==, HVK_CAP_BLOCK_DEVICE | HVK_CAP_BLOCK_DEVICE_HOTPLUG);
  g_assert_cmpuint (hvk_hypervisor_get_total_memory_mb (hv), ==, 256);
  g_assert_cmpint (hvk_hypervisor_get_virtiofs_pid (hv), ==, -1);
  g_assert_false (hvk_hypervisor_is_rate_limiter_builtin (hv));
}

/* The interface's lifecycle table (tests/common), each cell on a new VM
 * with the stand-ins.  ACRN cannot pause: no paused cells, and pause,
 * resume, save and the resizes are NOT_SUPPORTED whatever the state. */
static void
transitions_setup (HvkTestVm  *vm,
                   HvkVmState  state,
                   gpointer    user_data)
{
  g_autoptr(GError) error = NULL;
  Fixture *f = g_new0 (Fixture, 1);

  fixture_setup (f, NULL);
  vm->data = f;
  if (state == HVK_VM_STATE_NONE)
    {
      vm->config = make_config (f, NULL, NULL);
      vm->hypervisor = make_hypervisor (f, vm->config);
      return;
    }

  vm->hypervisor = create (f, HVK_TEST_VM_ID, NULL, NULL);
  vm->config = g_object_ref (hvk_hypervisor_get_config (vm->hypervisor));
  /* The stand-in does not fail: do not watch it for the default second. */
  g_object_set (vm->hypervisor, "start-grace-ms", 20, NULL);
  if (state == HVK_VM_STATE_RUNNING)
    g_assert_true (hvk_hypervisor_start_vm (vm->hypervisor, 0, NULL, &error));
  else if (state == HVK_VM_STATE_STOPPED)
    g_assert_true (hvk_hypervisor_stop_vm (vm->hypervisor, FALSE, NULL, &error));
  g_assert_no_error (error);
}

/* What acrnctl was asked (blkrescan), if anything. */
static char *
transitions_sent (HvkTestVm *vm,
                  gpointer   user_data)
{
  Fixture *f = vm->data;
  g_autofree char *calls = read_file (f->ctl_log);

  return *calls != '\0' ? g_strdup_printf ("acrnctl %s", calls) : NULL;
}

static void
transitions_teardown (HvkTestVm *vm,
                      gpointer   user_data)
{
  g_autoptr(GError) error = NULL;

  /* Whatever the cell did, no acrn-dm is left behind. */
  if (hvk_hypervisor_get_state (vm->hypervisor) != HVK_VM_STATE_NONE)
    hvk_hypervisor_stop_vm (vm->hypervisor, FALSE, NULL, &error);
  g_assert_no_error (error);
  fixture_teardown (vm->data, NULL);
  g_free (vm->data);
}

static HvkDevice *
transitions_device (HvkTestOp op,
                    gpointer  user_data)
{
  /* A block device in the hotplug pool: the only kind ACRN hot-plugs. */
  return device ("block,id=" HVK_TEST_DEVICE_ID ",path=/srv/hvktest0.img,index=1");
}

static const HvkTestTransitions acrn_transitions = {
  .path_prefix = "/hvk/acrn/transitions",
  .setup = transitions_setup,
  .sent = transitions_sent,
  .teardown = transitions_teardown,
  .device = transitions_device,
  .unreachable_states = HVK_TEST_STATE_BIT (HVK_VM_STATE_PAUSED),
  .unsupported_ops = HVK_TEST_OP_BIT (HVK_TEST_OP_PAUSE_VM)
                     | HVK_TEST_OP_BIT (HVK_TEST_OP_RESUME_VM)
                     | HVK_TEST_OP_BIT (HVK_TEST_OP_SAVE_VM)
                     | HVK_TEST_OP_BIT (HVK_TEST_OP_RESIZE_VCPUS)
                     | HVK_TEST_OP_BIT (HVK_TEST_OP_RESIZE_MEMORY)
                     | HVK_TEST_OP_BIT (HVK_TEST_OP_SET_IO_LIMITS),
};

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);

  registry = hvk_registry_new ();
  hvk_registry_scan (registry);
  if (hvk_registry_lookup_backend (registry, "acrn") == NULL)
    g_error ("the acrn plugin was not found in HVKIT_PLUGIN_PATH");

#define ADD(path, func) \
  g_test_add ("/hvk/acrn/lifecycle/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("start-stop", test_start_stop);
  ADD ("hotplug", test_hotplug);
  ADD ("save-load", test_save_load);
  ADD ("load-bad-state", test_load_bad_state);
  ADD ("early-exit", test_early_exit);
  ADD ("refused", test_refused);
  ADD ("image-missing", test_image_missing);
  ADD ("two-vms", test_two_vms);
  ADD ("sigkill", test_sigkill);
  ADD ("died", test_died);
  ADD ("add-device", test_add_device);
  ADD ("create-errors", test_create_errors);
  ADD ("not-supported", test_not_supported);
  hvk_test_transitions_add (&acrn_transitions);

  ret = g_test_run ();
  g_clear_object (&registry);
  return ret;
}
