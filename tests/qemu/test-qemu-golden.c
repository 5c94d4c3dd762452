/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <glib/gstdio.h>
#include <string.h>

#include "hvk-qemu-build.h"
#include "hvk-qemu-device-props.h"
#include "hvk-qemu-numa.h"
#include "hvk-qemu-private.h"
#include "hvk-qemu-settings.h"
#include "hvk-qemu-virtiofsd.h"
#include "hvk-test-golden.h"
#include "qemu-test-common.h"

/*
 * Golden command lines: tests/golden/qemu/NAME.conf → NAME.args, one
 * argument per line, compared byte for byte.  `ninja -C BUILD
 * regenerate-goldens` rewrites the .args files instead (review the diff
 * before committing); HVKIT_TEST_REGENERATE=1 alone fails (see
 * tests/common/hvk-test-golden.h).
 * Plus the exact kernel command line, the layout, and every error path of
 * the builder and the appenders.
 */

static HvkRegistry *registry;
static char *data_dir;

static const char base_conf[] =
  "[hypervisor]\n"
  "backend=qemu\n"
  "\n"
  "[hypervisor.qemu]\n"
  "path=/usr/bin/qemu-system-x86_64\n"
  "kernel=@DATADIR@/vmlinuz\n"
  "initrd=@DATADIR@/initrd.img\n"
  "machine_accelerators=accel=tcg\n"
  "default_vcpus=1\n"
  "default_maxvcpus=2\n"
  "default_memory=256\n"
  "default_maxmemory=1024\n";

static void
print_diff (const char *expected,
            const char *actual)
{
  g_auto(GStrv) want = g_strsplit (expected, "\n", -1);
  g_auto(GStrv) got = g_strsplit (actual, "\n", -1);
  guint n_want = g_strv_length (want), n_got = g_strv_length (got);

  for (guint i = 0; i < MAX (n_want, n_got); i++)
    {
      const char *w = i < n_want ? want[i] : NULL;
      const char *g = i < n_got ? got[i] : NULL;

      if (g_strcmp0 (w, g) == 0)
        continue;
      if (w != NULL)
        g_test_message ("line %u: - %s", i + 1, w);
      if (g != NULL)
        g_test_message ("line %u: + %s", i + 1, g);
    }
}

static void
test_golden (gconstpointer user_data)
{
  const char *name = user_data;
  g_autofree char *dir = qemu_test_golden_dir ();
  g_autofree char *conf_path = g_strdup_printf ("%s/%s.conf", dir, name);
  g_autofree char *args_path = g_strdup_printf ("%s/%s.args", dir, name);
  g_autofree char *conf = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *actual = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkCmdline) cmdline = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_get_contents (conf_path, &conf, NULL, &error));
  g_assert_no_error (error);
  config = qemu_test_load_config (registry, name, conf, data_dir, &error);
  g_assert_no_error (error);
  /* "# host: NAME": built as on the described host tests/host/NAME. */
  {
    const char *line = strstr (conf, "\n# host: ");
    g_autofree char *saved = g_strdup (g_getenv ("HVKIT_HOST_ROOT"));

    if (line != NULL)
      {
        g_autofree char *host = g_strndup (line + strlen ("\n# host: "),
                                           strcspn (line + strlen ("\n# host: "), "\n"));
        g_autofree char *root = g_test_build_filename (G_TEST_DIST, "host", host, NULL);

        g_setenv ("HVKIT_HOST_ROOT", root, TRUE);
      }
    cmdline = qemu_test_build (registry, config, &error);
    if (saved != NULL)
      g_setenv ("HVKIT_HOST_ROOT", saved, TRUE);
    else
      g_unsetenv ("HVKIT_HOST_ROOT");
  }
  g_assert_no_error (error);
  g_assert_nonnull (cmdline);
  actual = qemu_test_argv_to_lines (cmdline, data_dir);

  switch (hvk_test_golden_mode ())
    {
    case HVK_TEST_GOLDEN_REGENERATE:
      hvk_test_golden_regenerate (args_path, actual);
      return;
    case HVK_TEST_GOLDEN_REFUSED:
      return;
    case HVK_TEST_GOLDEN_COMPARE:
    default:
      break;
    }

  if (!g_file_get_contents (args_path, &expected, NULL, &error))
    {
      g_test_message ("%s: %s (ninja -C BUILD regenerate-goldens creates it)",
                      args_path, error->message);
      g_test_fail ();
      return;
    }
  if (!g_str_equal (expected, actual))
    {
      g_test_message ("%s differs from the built command line:", args_path);
      print_diff (expected, actual);
      g_test_fail ();
    }
}

/* Regeneration is explicit (tests/common/hvk-test-golden.h), checked in
 * a subprocess with the environment each case names. */
static void
set_golden_env (const char *regenerate,
                const char *ok,
                const char *ci)
{
  const char * const names[] = { "HVKIT_TEST_REGENERATE", "HVKIT_TEST_REGENERATE_OK", "CI" };
  const char * const values[] = { regenerate, ok, ci };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      if (values[i] != NULL)
        g_setenv (names[i], values[i], TRUE);
      else
        g_unsetenv (names[i]);
    }
}

/* Every .args belongs to a .conf: an orphan is compared with nothing. */
static void
test_golden_orphans (void)
{
  static const char * const suffixes[] = { ".args", NULL };
  g_autofree char *dir = qemu_test_golden_dir ();

  hvk_test_golden_check_orphans (dir, suffixes);
}

static void
test_golden_mode_compare (void)
{
  if (g_test_subprocess ())
    {
      set_golden_env (NULL, "1", NULL);
      g_assert_cmpint (hvk_test_golden_mode (), ==, HVK_TEST_GOLDEN_COMPARE);
      set_golden_env ("0", "1", "true");
      g_assert_cmpint (hvk_test_golden_mode (), ==, HVK_TEST_GOLDEN_COMPARE);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_golden_mode_target (void)
{
  if (g_test_subprocess ())
    {
      set_golden_env ("1", "1", NULL);
      g_assert_cmpint (hvk_test_golden_mode (), ==, HVK_TEST_GOLDEN_REGENERATE);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_golden_mode_leftover (void)
{
  if (g_test_subprocess ())
    {
      set_golden_env ("1", NULL, NULL);
      g_assert_cmpint (hvk_test_golden_mode (), ==, HVK_TEST_GOLDEN_REFUSED);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*without HVKIT_TEST_REGENERATE_OK=1*regenerate-goldens*");
}

static void
test_golden_mode_ci (void)
{
  if (g_test_subprocess ())
    {
      set_golden_env ("1", "1", "true");
      g_assert_cmpint (hvk_test_golden_mode (), ==, HVK_TEST_GOLDEN_REFUSED);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*never regenerated in CI*");
}

/* Loads base_conf + @extra (key-file text) with @data_dir expansion. */
static HvkConfig *
load (const char *extra_qemu,
      const char *devices)
{
  g_autofree char *text = g_strconcat (base_conf, extra_qemu ? extra_qemu : "",
                                       "\n", devices ? devices : "", NULL);
  g_autoptr(GError) error = NULL;
  HvkConfig *config = qemu_test_load_config (registry, "test", text, data_dir, &error);

  g_assert_no_error (error);
  g_assert_nonnull (config);
  return config;
}

static const char *
find_option (HvkCmdline *cmdline,
             const char *flag,
             guint       nth)
{
  const char * const *argv = hvk_cmdline_get_argv (cmdline);

  for (guint i = 1; argv[i] != NULL && argv[i + 1] != NULL; i++)
    if (g_str_equal (argv[i], flag) && nth-- == 0)
      return argv[i + 1];
  return NULL;
}

#define EXPECTED_KERNEL_CMDLINE                                                   \
  "tsc=reliable no_timer_check rcupdate.rcu_expedited=1 i8042.direct=1 "          \
  "i8042.dumbkbd=1 i8042.nopnp=1 i8042.noaux=1 noreplace-smp reboot=k "           \
  "cryptomgr.notests net.ifnames=0 pci=lastbus=0 console=hvc0 console=hvc1 quiet " \
  "panic=1 nr_cpus=2 selinux=0 foo=bar"

static void
test_kernel_cmdline_exact (void)
{
  g_autoptr(HvkConfig) config = load ("kernel_params=foo=bar\n", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *kernel = NULL;
  g_autoptr(HvkCmdline) cmdline = NULL;

  kernel = hvk_qemu_build_kernel_cmdline (registry, "vm1", config, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kernel, ==, EXPECTED_KERNEL_CMDLINE);

  /* -append carries the same string, as one argument. */
  cmdline = qemu_test_build (registry, config, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (find_option (cmdline, "-append", 0), ==, EXPECTED_KERNEL_CMDLINE);
}

static void
test_kernel_cmdline_image (void)
{
  g_autoptr(HvkConfig) config = load ("image=@DATADIR@/rootfs.img\n", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *kernel = NULL;

  /* An initrd wins over an image; without it the image is used. */
  hvk_config_set_string (config, "initrd", "");
  kernel = hvk_qemu_build_kernel_cmdline (registry, "vm1", config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (kernel, " console=hvc0 console=hvc1 root=/dev/pmem0p1 "
                                    "rootflags=dax,data=ordered,errors=remount-ro ro "
                                    "rootfstype=ext4 quiet systemd.show_status=false panic=1 "
                                    "nr_cpus=2"));

  hvk_config_set_boolean (config, "enable_debug", TRUE);
  hvk_config_set_boolean (config, "disable_image_nvdimm", TRUE);
  g_clear_pointer (&kernel, g_free);
  kernel = hvk_qemu_build_kernel_cmdline (registry, "vm1", config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (kernel, " root=/dev/vda1 rootflags=data=ordered,errors=remount-ro ro "
                                    "rootfstype=ext4 debug systemd.show_status=true "
                                    "systemd.log_level=debug panic=1"));
  g_assert_null (strstr (kernel, "quiet"));
}

static void
test_kernel_cmdline_iommu_legacy (void)
{
  g_autoptr(HvkConfig) config = load ("enable_iommu=true\nuse_legacy_serial=true\n", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *kernel = hvk_qemu_build_kernel_cmdline (registry, "vm1", config, &error);

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (kernel, "tsc=reliable "));
  g_assert_nonnull (strstr (kernel, " pci=lastbus=0 intel_iommu=on iommu=pt console=ttyS0 quiet "));
  g_assert_null (strstr (kernel, "hvc0"));
}

/* Kata's nesting checks: a host that is itself a VM gives QEMU no PMU,
 * unless disable_nesting_checks; disable_guest_selinux picks selinux=. */
static void
test_nesting_and_guest_selinux (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("HVKIT_HOST_ROOT"));
  g_autofree char *nested = g_test_build_filename (G_TEST_DIST, "host", "nested", NULL);
  g_autoptr(HvkConfig) config = load ("cpu_features=+x2apic\n", NULL);
  g_autoptr(HvkConfig) unchecked = load ("disable_nesting_checks=true\n"
                                         "disable_guest_selinux=false\n", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkCmdline) bare = qemu_test_build (registry, config, &error);
  g_autoptr(HvkCmdline) on_vm = NULL;
  g_autoptr(HvkCmdline) on_vm_unchecked = NULL;
  g_autofree char *kernel = NULL;

  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (find_option (bare, "-cpu", 0), ",+x2apic"));
  g_assert_null (strstr (find_option (bare, "-cpu", 0), "pmu"));

  g_setenv ("HVKIT_HOST_ROOT", nested, TRUE);
  on_vm = qemu_test_build (registry, config, &error);
  g_assert_no_error (error);
  /* Kata's order: the model, pmu=off, then cpu_features. */
  g_assert_true (g_str_has_suffix (find_option (on_vm, "-cpu", 0), ",pmu=off,+x2apic"));
  on_vm_unchecked = qemu_test_build (registry, unchecked, &error);
  g_assert_no_error (error);
  g_assert_null (strstr (find_option (on_vm_unchecked, "-cpu", 0), "pmu"));
  if (saved != NULL)
    g_setenv ("HVKIT_HOST_ROOT", saved, TRUE);
  else
    g_unsetenv ("HVKIT_HOST_ROOT");

  kernel = hvk_qemu_build_kernel_cmdline (registry, "vm1", unchecked, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (kernel, " nr_cpus=2 selinux=1"));
}

/* virtiofsd's own command line: virtio_fs_daemon, shared_path,
 * virtio_fs_cache as virtiofsd spells it, then virtio_fs_extra_args. */
static void
test_virtiofsd_argv (void)
{
  g_autoptr(HvkConfig) plain = load ("shared_fs=virtio-fs\nshared_path=/srv/share\n", NULL);
  g_autoptr(HvkConfig) config = load ("shared_fs=virtio-fs\nshared_path=/srv/share\n"
                                      "virtio_fs_daemon=/opt/virtiofsd\nvirtio_fs_cache=never\n"
                                      "virtio_fs_extra_args=--thread-pool-size=1;--announce-submounts\n",
                                      NULL);
  g_autoptr(HvkQemuSettings) plain_settings = hvk_qemu_settings_new (plain);
  g_autoptr(HvkQemuSettings) settings = hvk_qemu_settings_new (config);
  g_autoptr(GPtrArray) plain_argv = hvk_qemu_virtiofsd_argv (plain_settings, "/run/x/fs.sock");
  g_autoptr(GPtrArray) argv = hvk_qemu_virtiofsd_argv (settings, "/run/x/fs.sock");

  g_assert_cmpstrv ((const char * const *) plain_argv->pdata,
                    ((const char * const[]) { "/usr/lib/qemu/virtiofsd", "--socket-path=/run/x/fs.sock",
                                              "-o", "source=/srv/share", "-o", "cache=auto", NULL }));
  g_assert_cmpstrv ((const char * const *) argv->pdata,
                    ((const char * const[]) { "/opt/virtiofsd", "--socket-path=/run/x/fs.sock",
                                              "-o", "source=/srv/share", "-o", "cache=none",
                                              "--thread-pool-size=1", "--announce-submounts", NULL }));
}

static void
test_layout (void)
{
  g_autoptr(HvkConfig) config = load ("default_bridges=2\npcie_root_port=3\nenable_iothreads=true\n"
                                      "default_maxvcpus=4\nmemory_slots=7\n", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkQemuLayout) layout = NULL;
  g_autoptr(HvkQemuLayout) copy = NULL;
  g_autoptr(HvkCmdline) cmdline = NULL;
  g_autoptr(JsonNode) node = NULL;
  HvkQemuPaths paths = { 0, };

  paths.vm_dir = g_strdup ("/run/x/vm");
  paths.qmp_socket = g_strdup ("/run/x/vm/qmp.sock");
  paths.console_socket = g_strdup ("/run/x/vm/console.sock");
  paths.pid_file = g_strdup ("/run/x/vm/pid");
  cmdline = hvk_qemu_build_cmdline (registry, "vm", config, NULL, &paths, NULL, &layout, NULL, NULL, &error);
  hvk_qemu_paths_clear (&paths);
  g_assert_no_error (error);

  /* QEMU runs in the foreground under hvkit-monitor: never -daemonize. */
  g_assert_null (find_option (cmdline, "-daemonize", 0));

  g_assert_cmpuint (layout->bridges->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (layout->bridges, 1), ==, "pcie-pci-bridge-1");
  g_assert_cmpuint (layout->root_ports->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (layout->root_ports, 2), ==, "rp2");
  g_assert_cmpstr (layout->scsi_controller, ==, "scsi0");
  g_assert_cmpstr (layout->iothread, ==, "iothread0");
  g_assert_true (layout->pcie);
  g_assert_cmpuint (layout->boot_vcpus, ==, 1);
  g_assert_cmpuint (layout->max_vcpus, ==, 4);
  g_assert_cmpuint (layout->boot_memory_mb, ==, 256);
  g_assert_cmpuint (layout->max_memory_mb, ==, 1024);
  g_assert_cmpuint (layout->memory_slots, ==, 7);

  node = hvk_qemu_layout_to_json (layout);
  copy = hvk_qemu_layout_from_json (node, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (copy->bridges->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (copy->root_ports, 0), ==, "rp0");
  g_assert_cmpstr (copy->scsi_controller, ==, "scsi0");
  g_assert_cmpstr (copy->iothread, ==, "iothread0");
  g_assert_true (copy->pcie);
  g_assert_cmpuint (copy->max_vcpus, ==, 4);
  g_assert_cmpuint (copy->memory_slots, ==, 7);
}

static void
test_layout_json_errors (void)
{
  static const char * const bad[] = {
    "[]",
    "{\"bridges\": 3}",
    "{\"bridges\": [1]}",
    "{\"scsi_controller\": 3}",
    "{\"pcie\": \"yes\"}",
    "{\"max_vcpus\": -1}",
    "{\"max_vcpus\": \"4\"}",
    "{\"memory_slots\": 4294967296}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = json_from_string (bad[i], &error);
      g_autoptr(HvkQemuLayout) layout = NULL;

      g_assert_no_error (error);
      layout = hvk_qemu_layout_from_json (node, &error);
      g_assert_null (layout);
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_capabilities (void)
{
  g_autoptr(HvkConfig) config = load (NULL, NULL);
  HvkCapabilities caps;

  caps = hvk_qemu_capabilities_for_config (config);
  g_assert_false (caps & HVK_CAP_FS_SHARING);
  g_assert_true (caps & HVK_CAP_BLOCK_DEVICE_HOTPLUG);
  g_assert_true (caps & HVK_CAP_VFIO);
  g_assert_false (caps & HVK_CAP_HYBRID_VSOCK);
  hvk_config_set_string (config, "shared_fs", "virtio-fs");
  g_assert_true (hvk_qemu_capabilities_for_config (config) & HVK_CAP_FS_SHARING);
  g_assert_true (hvk_qemu_capabilities_for_config (NULL) & HVK_CAP_FS_SHARING);
}

/* Builds base_conf + @extra + @devices and expects @code with every
 * fragment of @needles in the message. */
/* jailer_path is an asset: a custom one (an annotation) comes first, and
 * the jailer is argv[0], QEMU's path argv[1] (tests/golden/qemu/jailer). */
static void
test_jailer_custom_asset (void)
{
  g_autoptr(HvkConfig) config = load ("jailer_path=/usr/bin/prlimit\n", NULL);
  g_autoptr(HvkCmdline) cmdline = NULL;
  g_autoptr(GError) error = NULL;
  const char * const *argv;

  g_assert_true (hvk_config_add_custom_asset (config, HVK_ASSET_JAILER, "/usr/bin/taskset", &error));
  g_assert_no_error (error);
  cmdline = qemu_test_build (registry, config, &error);
  g_assert_no_error (error);
  argv = hvk_cmdline_get_argv (cmdline);
  g_assert_cmpstr (argv[0], ==, "/usr/bin/taskset");
  g_assert_cmpstr (argv[1], ==, "/usr/bin/qemu-system-x86_64");
  g_assert_cmpstr (argv[2], ==, "-name");
}

static void
expect_build_error (const char *extra,
                    const char *devices,
                    HvkError    code,
                    const char *needle1,
                    const char *needle2)
{
  g_autoptr(HvkConfig) config = load (extra, devices);
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkCmdline) cmdline = qemu_test_build (registry, config, &error);

  g_assert_null (cmdline);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_error (error, HVK_ERROR, (gint) code);
  g_assert_nonnull (strstr (error->message, needle1));
  if (needle2 != NULL)
    g_assert_nonnull (strstr (error->message, needle2));
}

static void
test_device_errors (void)
{
  expect_build_error (NULL, "[device.vsock0]\nkind=vsock\ncid=2\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'vsock0'", "cid 2");
  expect_build_error (NULL, "[device.disk0]\nkind=block\npath=/x.img\ndriver=nvdimm\n",
                      HVK_ERROR_NOT_SUPPORTED, "'disk0'", "nvdimm");
  expect_build_error ("block_device_driver=virtio-blk\n",
                      "[device.disk0]\nkind=block\npath=/x.img\ndriver=virtio-scsi\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'disk0'", "SCSI controller");
  expect_build_error (NULL, "[device.disk0]\nkind=block\npath=/x.img\naio=native\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'disk0'", "cache");
  expect_build_error (NULL, "[device.disk0]\nkind=block\npath=/x.img\naio=posix\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'disk0'", "posix");
  expect_build_error (NULL, "[device.net0]\nkind=net\ntype=tap\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'net0'", "ifname or fds");
  expect_build_error (NULL, "[device.net0]\nkind=net\ntype=macvtap\nifname=mv0\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'net0'", "fds");
  expect_build_error (NULL, "[device.net0]\nkind=net\nifname=tap0\nmac=zz:00:00:00:00:00\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'net0'", "MAC");
  expect_build_error (NULL, "[device.net0]\nkind=net\nfds=0;0\nvhost_fds=0\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'net0'", "vhost_fds");
  expect_build_error (NULL, "[device.net0]\nkind=net\nfds=notanfd\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'net0'", "notanfd");
  expect_build_error (NULL, "[device.net0]\nkind=net\nfds=987654\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'net0'", "987654");
  expect_build_error (NULL, "[device.net0]\nkind=net\ntype=vhost-user\nsocket=/s\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'net0'", "shared guest memory");
  expect_build_error (NULL, "[device.fs0]\nkind=fs\npath=/srv\ntag=t\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'fs0'", "shared guest memory");
  expect_build_error ("shared_fs=virtio-fs\nfile_mem_backend=@DATADIR@/share\n",
                      "[device.fs0]\nkind=fs\npath=/srv\ntag=t\nqueue_size=1000\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'fs0'", "power of two");
  expect_build_error ("shared_fs=virtio-fs\nfile_mem_backend=@DATADIR@/share\nvirtio_fs_cache_size=64\n",
                      "[device.fs0]\nkind=fs\npath=/srv\ntag=t\n",
                      HVK_ERROR_NOT_SUPPORTED, "'fs0'", "DAX");
  /* I/O limits: QEMU's smallest burst is one second at the rate; a
   * throttled disk must exist to be probed; a tap is shaped in bytes,
   * and only one hvkit names (not descriptors, not vhost-user). */
  expect_build_error ("disk_rate_limiter_bw_max_rate=8000\ndisk_rate_limiter_bw_one_time_burst=4000\n",
                      "[device.disk0]\nkind=block\npath=@DATADIR@/disk.img\n",
                      HVK_ERROR_NOT_SUPPORTED, "'disk0'",
                      "disk_rate_limiter_bw_one_time_burst): a one-time burst of 4000 bits");
  expect_build_error (NULL, "[device.disk0]\nkind=block\npath=@DATADIR@/disk.img\n"
                      "rate_limiter_ops_max_rate=10\nrate_limiter_ops_one_time_burst=9\n",
                      HVK_ERROR_NOT_SUPPORTED, "rate_limiter_ops_one_time_burst", "9 operations");
  expect_build_error (NULL, "[device.disk0]\nkind=block\npath=/nonexistent.img\n"
                      "rate_limiter_ops_max_rate=10\n",
                      HVK_ERROR_NOT_FOUND, "'disk0'", "/nonexistent.img");
  /* Throttle groups: a name of letters, digits, _ and -; something to
   * share; one set of limits for the disks of a group (a named one, or
   * the VM's with disk_rate_limiter_shared). */
  expect_build_error (NULL, "[device.disk0]\nkind=block\npath=@DATADIR@/disk.img\n"
                      "rate_limiter_ops_max_rate=10\nthrottle_group=a.b\n",
                      HVK_ERROR_INVALID_ARGUMENT, "block device 'disk0': property 'throttle_group'",
                      "'a.b' is not a group name");
  expect_build_error (NULL, "[device.disk0]\nkind=block\npath=@DATADIR@/disk.img\n"
                      "throttle_group=g\n",
                      HVK_ERROR_INVALID_ARGUMENT, "block device 'disk0': property 'throttle_group'",
                      "no limit to share");
  expect_build_error (NULL, "[device.disk0]\nkind=block\npath=@DATADIR@/disk.img\n"
                      "rate_limiter_bw_max_rate=8000000\nthrottle_group=g\n"
                      "[device.disk1]\nkind=block\npath=@DATADIR@/rootfs.img\n"
                      "rate_limiter_bw_max_rate=8000000\nrate_limiter_ops_max_rate=5\n"
                      "throttle_group=g\n",
                      HVK_ERROR_INVALID_ARGUMENT, "throttle group 'g': block devices 'disk0' and "
                      "'disk1' differ in rate_limiter_ops_max_rate (0 and 5)", NULL);
  expect_build_error ("disk_rate_limiter_bw_max_rate=8000000\ndisk_rate_limiter_shared=true\n",
                      "[device.disk0]\nkind=block\npath=@DATADIR@/disk.img\n"
                      "[device.disk1]\nkind=block\npath=@DATADIR@/rootfs.img\n"
                      "rate_limiter_bw_max_rate=16000000\n",
                      HVK_ERROR_INVALID_ARGUMENT, "throttle group 'shared': block devices 'disk0' "
                      "and 'disk1' differ in rate_limiter_bw_max_rate (8000000 and 16000000)", NULL);
  expect_build_error (NULL, "[device.net0]\nkind=net\nifname=tap0\nrate_limiter_ops_max_rate=100\n",
                      HVK_ERROR_NOT_SUPPORTED, "'net0'", "not packets");
  expect_build_error (NULL, "[device.net0]\nkind=net\nfds=3\ntx_rate_limiter_max_rate=8000\n",
                      HVK_ERROR_NOT_SUPPORTED, "'net0'", "a tap handed over as descriptors");
  expect_build_error ("shared_fs=virtio-fs\nfile_mem_backend=@DATADIR@/share\n",
                      "[device.net0]\nkind=net\ntype=vhost-user\nsocket=/s\n"
                      "rate_limiter_bw_max_rate=8000\n",
                      HVK_ERROR_NOT_SUPPORTED, "'net0'", "vhost-user");
  expect_build_error (NULL, "[device.gpu0]\nkind=vfio\nhost=not-a-bdf\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'gpu0'", "PCI address");
  expect_build_error (NULL, "[device.gpu0]\nkind=vfio\nhost=02:00.0\nvendor_id=0x10de\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'gpu0'", "device_id");
  expect_build_error (NULL, "[device.rng1]\nkind=rng\nperiod=10\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'rng1'", "max_bytes");
  expect_build_error (NULL, "[device.mem0]\nkind=memory\nsize_mb=4096\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'mem0'", "maximum");
  expect_build_error ("memory_slots=0\n", "[device.mem0]\nkind=memory\nsize_mb=64\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'mem0'", "slot");
  /* virtio-mem holds all the room above the boot memory. */
  expect_build_error ("enable_virtio_mem=true\n", "[device.mem0]\nkind=memory\nsize_mb=64\n",
                      HVK_ERROR_NOT_SUPPORTED, "'mem0'", "enable_virtio_mem");
  expect_build_error (NULL, "[device.vm0]\nkind=virtio-mem\nsize_mb=0\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'vm0'", "size_mb is 0");
  expect_build_error (NULL, "[device.cpu0]\nkind=cpu\ncount=1\n",
                      HVK_ERROR_NOT_SUPPORTED, "'cpu0'", "default_vcpus");
  expect_build_error (NULL, "[device.b9]\nkind=qemu-bridge\ntype=cardbus\naddr=9\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'b9'", "cardbus");
  expect_build_error ("machine_type=pc\n", "[device.b9]\nkind=qemu-bridge\ntype=pci-bridge\naddr=9\nchassis=0\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'b9'", "chassis 0");
  expect_build_error (NULL, "[device.b9]\nkind=qemu-bridge\ntype=pcie-pci-bridge\naddr=32\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'b9'", "addr 32");
  expect_build_error ("machine_type=pc\n", "[device.b9]\nkind=qemu-bridge\ntype=pcie-pci-bridge\naddr=9\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'b9'", "q35");
  expect_build_error ("machine_type=pc\n", "[device.rp9]\nkind=qemu-root-port\nslot=9\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'rp9'", "q35");
  expect_build_error ("machine_type=pc\n", "[device.iommu1]\nkind=iommu\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'iommu1'", "q35");
  expect_build_error (NULL, "[device.scsi1]\nkind=scsi-controller\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'scsi1'", "scsi0");
  expect_build_error ("file_mem_backend=@DATADIR@/share\n",
                      "[device.net0]\nkind=net\ntype=vhost-user\nsocket=/s\nqueues=0\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'net0'", "queues 0");
  expect_build_error ("disable_vhost_net=true\n", "[device.net0]\nkind=net\nfds=0\nvhost_fds=0\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'net0'", "disable_vhost_net");
  expect_build_error (NULL, "[device.vsock0]\nkind=vsock\ncid=4294967296\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'vsock0'", "4294967296");
  expect_build_error (NULL, "[device.vsock0]\nkind=vsock\ncid=3\nvhost_fd=876543\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'vsock0'", "876543");
  expect_build_error (NULL, "[device.console1]\nkind=console\nbackend=file\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'console1'", "path");
  expect_build_error (NULL, "[device.agent0]\nkind=serial-socket\npath=/a.sock\nname=x\n"
                      "[device.9bad]\nkind=rng\n",
                      HVK_ERROR_INVALID_ARGUMENT, "'9bad'", "letter");
}

static void
test_image_missing (void)
{
  g_autoptr(HvkConfig) config = load ("image=@DATADIR@/missing.img\n", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkCmdline) cmdline = NULL;

  hvk_config_set_string (config, "initrd", "");
  cmdline = qemu_test_build (registry, config, &error);
  g_assert_null (cmdline);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "missing.img"));
  g_assert_nonnull (strstr (error->message, "'image0'"));
}

/* Appenders need the builder's context: a bare one is refused. */
static void
test_foreign_context (void)
{
  g_autoptr(HvkConfig) config = load (NULL, NULL);
  g_autoptr(HvkBuildContext) ctx = hvk_build_context_new (registry, "qemu", "vm", config);
  g_autoptr(HvkCmdline) cmdline = hvk_cmdline_new ("qemu");
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) device = hvk_device_new_from_string (registry, "vsock,id=v0,cid=3", &error);

  g_assert_no_error (error);
  g_assert_false (hvk_registry_append_device (registry, ctx, device, cmdline, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "'v0'"));
  g_assert_cmpuint (hvk_cmdline_get_length (cmdline), ==, 1);
}

static void
test_microvm_nvdimm (void)
{
  g_autoptr(HvkConfig) config = load ("machine_type=microvm\nimage=@DATADIR@/rootfs.img\n"
                                      "block_device_driver=virtio-blk\n", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkCmdline) cmdline = NULL;

  hvk_config_set_string (config, "initrd", "");
  cmdline = qemu_test_build (registry, config, &error);
  g_assert_null (cmdline);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "microvm"));
}

static void
test_config_errors (void)
{
  expect_build_error ("machine_type=pc\npcie_root_port=1\n", NULL,
                      HVK_ERROR_INVALID_CONFIG, "pcie_root_port", "q35");
  expect_build_error ("machine_type=pc\nenable_iommu=true\n", NULL,
                      HVK_ERROR_INVALID_CONFIG, "enable_iommu", "q35");
  expect_build_error ("default_vcpus=4\ndefault_maxvcpus=2\n", NULL,
                      HVK_ERROR_INVALID_CONFIG, "default_maxvcpus", "4");
  expect_build_error ("shared_fs=virtio-fs\nboot_to_be_template=true\nmemory_path=/m\n", NULL,
                      HVK_ERROR_INVALID_CONFIG, "shared_fs", "templating");
  expect_build_error ("boot_from_template=true\n", NULL,
                      HVK_ERROR_INVALID_CONFIG, "memory_path", NULL);
  expect_build_error ("file_mem_backend=/nonexistent/hvkit\n", NULL,
                      HVK_ERROR_INVALID_CONFIG, "file_mem_backend", "/nonexistent/hvkit");
  expect_build_error ("extra_monitor_socket=telnet\n", NULL,
                      HVK_ERROR_INVALID_CONFIG, "extra_monitor_socket", "telnet");
  expect_build_error ("enable_virtio_mem=true\ndefault_maxmemory=256\n", NULL,
                      HVK_ERROR_INVALID_CONFIG, "enable_virtio_mem", "no room");
  expect_build_error ("memory_slots=300\n", NULL,
                      HVK_ERROR_INVALID_CONFIG, "memory_slots", "255");
  /* Kata's keys this backend cannot honour yet: refused by validation
   * when set, never ignored; the default value asks for nothing. */
  {
    static const char * const refused[] = {
      "disable_block_device_use=true", "enable_iommu_platform=true",
      "hotplug_vfio_on_root_bus=true",
      "firmware_volume=/nonexistent/OVMF_VARS.fd", "msize_9p=16384",
      "ctlpath=/usr/bin/true",
    };

    for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
      {
        g_autofree char *key = g_strndup (refused[i], strchr (refused[i], '=') - refused[i]);
        g_autofree char *overrides = g_strdup_printf ("%s\n", refused[i]);

        g_autoptr(HvkConfig) config = load (overrides, NULL);
        g_autoptr(GError) error = NULL;

        g_assert_false (hvk_config_validate (config, &error));
        g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
        g_assert_nonnull (strstr (error->message, key));
        g_assert_nonnull (strstr (error->message, "backend 'qemu'"));
      }
    {
      g_autoptr(HvkConfig) config = load ("enable_virtio_mem=false\nguest_memory_dump_paging=false\n"
                                          "msize_9p=8192\n", NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(HvkCmdline) cmdline = NULL;

      g_assert_true (hvk_config_validate (config, &error));
      g_assert_no_error (error);
      cmdline = qemu_test_build (registry, config, &error);
      g_assert_no_error (error);
      g_assert_nonnull (cmdline);
    }
  }
  /* What happens around a panic dump needs a dump. */
  expect_build_error ("guest_panic_stop=true\n", NULL, HVK_ERROR_INVALID_CONFIG,
                      "guest_panic_stop", "guest_memory_dump_path");
  expect_build_error ("guest_memory_dump_paging=true\n", NULL, HVK_ERROR_INVALID_CONFIG,
                      "guest_memory_dump_paging", "guest_memory_dump_path");
  /* Turning seccomp off while naming its options: which one is meant? */
  expect_build_error ("disable_seccomp=true\nseccompsandbox=on\n", NULL,
                      HVK_ERROR_INVALID_CONFIG, "disable_seccomp", "seccompsandbox=on");
}

/* expect_build_error() on the described host tests/host/@host. */
static void
expect_build_error_on (const char *host,
                       const char *extra,
                       const char *needle1,
                       const char *needle2)
{
  g_autofree char *saved = g_strdup (g_getenv ("HVKIT_HOST_ROOT"));
  g_autofree char *root = g_test_build_filename (G_TEST_DIST, "host", host, NULL);

  g_setenv ("HVKIT_HOST_ROOT", root, TRUE);
  expect_build_error (extra, NULL, HVK_ERROR_INVALID_CONFIG, needle1, needle2);
  if (saved != NULL)
    g_setenv ("HVKIT_HOST_ROOT", saved, TRUE);
  else
    g_unsetenv ("HVKIT_HOST_ROOT");
}

/* enable_numa and numa_mapping: what Kata warns about and boots without
 * NUMA, refused naming the key. */
static void
test_numa_errors (void)
{
  g_autoptr(GArray) ids = NULL;

  expect_build_error ("numa_mapping=0;1\n", NULL, HVK_ERROR_INVALID_CONFIG,
                      "numa_mapping", "enable_numa=true");
  /* The bare host says nothing of its nodes. */
  expect_build_error ("enable_numa=true\n", NULL, HVK_ERROR_INVALID_CONFIG,
                      "enable_numa", "/sys/devices/system/node/online");
  expect_build_error_on ("numa2", "enable_numa=true\nnuma_mapping=0;x\n",
                         "numa_mapping", "guest node 1: 'x' is not a list of host NUMA nodes");
  expect_build_error_on ("numa2", "enable_numa=true\nnuma_mapping=0;5\n",
                         "numa_mapping", "node5/cpulist");
  expect_build_error_on ("numa4", "enable_numa=true\ndefault_maxvcpus=3\ndefault_vcpus=1\n",
                         "enable_numa", "4 guest NUMA nodes need at least as many vCPUs");
  expect_build_error_on ("numa3cpuless", "enable_numa=true\nnuma_mapping=0;2\n",
                         "numa_mapping", "guest node 1: host nodes 2 have no CPU");
  expect_build_error_on ("numa2", "enable_numa=true\nenable_hugepages=true\ndefault_memory=1\n"
                         "default_maxvcpus=4\n",
                         "default_memory", "2 MiB alignment");
  expect_build_error_on ("numa2", "enable_numa=true\nboot_to_be_template=true\n"
                         "memory_path=/var/lib/hvkit/test/template\ndefault_maxvcpus=4\n",
                         "enable_numa", "templating");

  g_assert_true (hvk_qemu_parse_id_list ("0-2,5,4,5", &ids));
  g_assert_cmpuint (ids->len, ==, 5);
  g_assert_cmpuint (g_array_index (ids, guint, 3), ==, 4);
  g_clear_pointer (&ids, g_array_unref);
  g_assert_false (hvk_qemu_parse_id_list ("3-1", &ids));
  g_assert_false (hvk_qemu_parse_id_list ("a", &ids));
  g_assert_true (hvk_qemu_parse_id_list ("", &ids));
  g_assert_cmpuint (ids->len, ==, 0);
}

static void
expect_control_char_error (HvkConfig *config)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkCmdline) cmdline = qemu_test_build (registry, config, &error);

  g_assert_null (cmdline);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
}

static void
test_control_chars (void)
{
  HvkDeviceKind *kind = hvk_registry_lookup_device_kind (registry, HVK_DEVICE_KIND_BLOCK);
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkDevice) device = NULL;
  g_autoptr(GError) error = NULL;

  config = load (NULL, NULL);
  hvk_config_set_string (config, "kernel_params", "foo=\001");
  expect_control_char_error (config);
  g_clear_object (&config);

  config = load (NULL, NULL);
  hvk_config_set_string (config, "cpu_features", "pmu=off\n-device,x");
  expect_control_char_error (config);
  g_clear_object (&config);

  config = load (NULL, NULL);
  hvk_config_set_string (config, "machine_accelerators", "accel=tcg\t");
  expect_control_char_error (config);
  g_clear_object (&config);

  config = load (NULL, NULL);
  device = hvk_device_new (kind, "disk0");
  hvk_device_set_string (device, "path", "/img/a\nb.img");
  g_assert_true (hvk_config_add_device (config, device, &error));
  g_assert_no_error (error);
  expect_control_char_error (config);
}

/* A kind no appender of the qemu backend knows. */
static const HvkDevicePropSpec widget_props[] = {
  { "size", HVK_PROP_UINT, HVK_PROP_FLAG_NONE, NULL, "A size" },
};

static gboolean
widget_plugin_init (HvkPlugin  *plugin,
                    GError    **error)
{
  g_autoptr(HvkDeviceKind) kind = hvk_device_kind_new ("widget", "A test device", widget_props,
                                                       G_N_ELEMENTS (widget_props), error);

  return kind != NULL && hvk_plugin_register_device_kind (plugin, kind, error);
}

static const HvkPluginDesc widget_desc = {
  HVK_PLUGIN_ABI_VERSION, "widget", "test kind", "1", "Apache-2.0", widget_plugin_init, { NULL, }
};

static void
test_unknown_kind (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkCmdline) cmdline = NULL;

  if (hvk_registry_lookup_plugin (registry, "widget") == NULL)
    {
      g_assert_nonnull (hvk_registry_register_static_plugin (registry, &widget_desc, &error));
      g_assert_no_error (error);
    }
  config = load (NULL, "[device.w0]\nkind=widget\nsize=3\n");
  cmdline = qemu_test_build (registry, config, &error);
  g_assert_null (cmdline);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "widget"));
}

/* Another plugin replaces the built-in rng appender: built-ins go
 * through the registry like any device. */
static gboolean
fake_rng_append (HvkBuildContext  *ctx,
                 HvkDevice        *device,
                 HvkCmdline       *cmdline,
                 gpointer          user_data,
                 GError          **error)
{
  return hvk_cmdline_add_option (cmdline, "-fake-rng", hvk_device_get_id (device), error);
}

static gboolean
override_plugin_init (HvkPlugin  *plugin,
                      GError    **error)
{
  return hvk_plugin_register_device_appender (plugin, "qemu", HVK_DEVICE_KIND_RNG, 100,
                                              fake_rng_append, NULL, error);
}

static const HvkPluginDesc override_desc = {
  HVK_PLUGIN_ABI_VERSION, "override", "test override", "1", "Apache-2.0", override_plugin_init,
  { NULL, }
};

static void
test_appender_override (void)
{
  g_autoptr(HvkRegistry) own = qemu_test_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkCmdline) cmdline = NULL;
  g_autofree char *text = NULL;

  g_assert_nonnull (hvk_registry_register_static_plugin (own, &override_desc, &error));
  g_assert_no_error (error);
  {
    g_autofree char *text = qemu_test_replace (base_conf, QEMU_TEST_DATADIR_TOKEN, data_dir);

    config = hvk_config_new_from_data (text, -1, "override.conf", own, &error);
    g_assert_no_error (error);
  }
  cmdline = qemu_test_build (own, config, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (find_option (cmdline, "-fake-rng", 0), ==, "rng0");
  text = hvk_cmdline_to_string (cmdline);
  g_assert_null (strstr (text, "virtio-rng-pci"));
}

static void
test_uuid (void)
{
  g_autoptr(HvkConfig) config = load (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkCmdline) a = NULL;
  g_autoptr(HvkCmdline) b = NULL;
  g_autofree char *uuid = NULL;
  g_autofree char *kernel = NULL;
  HvkQemuPaths paths = { 0, };

  paths.qmp_socket = g_strdup ("/run/x/qmp.sock");
  paths.console_socket = g_strdup ("/run/x/console.sock");

  /* Random without the test variable, and well-formed; the builder hands
   * back the uuid and the kernel command line it put in the argv. */
  g_unsetenv ("HVKIT_TEST_UUID");
  a = hvk_qemu_build_cmdline (registry, "vm", config, NULL, &paths, NULL, NULL, &kernel, &uuid, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (uuid, ==, find_option (a, "-uuid", 0));
  g_assert_cmpstr (kernel, ==, find_option (a, "-append", 0));
  b = hvk_qemu_build_cmdline (registry, "vm", config, NULL, &paths, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (find_option (a, "-uuid", 0)), ==, 36);
  g_assert_cmpstr (find_option (a, "-uuid", 0), !=, find_option (b, "-uuid", 0));

  g_setenv ("HVKIT_TEST_UUID", "not-a-uuid", TRUE);
  g_clear_object (&a);
  a = hvk_qemu_build_cmdline (registry, "vm", config, NULL, &paths, NULL, NULL, NULL, NULL, &error);
  g_assert_null (a);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_setenv ("HVKIT_TEST_UUID", QEMU_TEST_UUID, TRUE);
  hvk_qemu_paths_clear (&paths);
}

static void
test_extra_devices (void)
{
  g_autoptr(HvkConfig) config = load (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) extra = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(HvkCmdline) cmdline = NULL;
  HvkQemuPaths paths = { 0, };
  g_autofree char *text = NULL;
  HvkDevice *device;

  device = hvk_device_new_from_string (registry, "vsock,id=vsock7,cid=7", &error);
  g_assert_no_error (error);
  g_ptr_array_add (extra, device);
  paths.qmp_socket = g_strdup ("/run/x/qmp.sock");
  paths.console_socket = g_strdup ("/run/x/console.sock");
  cmdline = hvk_qemu_build_cmdline (registry, "vm", config, NULL, &paths, extra, NULL, NULL, NULL, &error);
  hvk_qemu_paths_clear (&paths);
  g_assert_no_error (error);
  text = hvk_cmdline_to_string (cmdline);
  g_assert_nonnull (strstr (text, "vhost-vsock-pci,id=vsock7,guest-cid=7"));
}

/* Commas in the VM id and the socket paths are escaped where QEMU parses
 * a list, and only there. */
static void
test_escaping_paths (void)
{
  g_autoptr(HvkConfig) config = load (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkCmdline) cmdline = NULL;
  HvkQemuPaths paths = { 0, };

  paths.vm_dir = g_strdup ("/run/a,b/vm");
  paths.qmp_socket = g_strdup ("/run/a,b/vm/qmp.sock");
  paths.console_socket = g_strdup ("/run/a,b/vm/console.sock");
  paths.pid_file = g_strdup ("/run/a,b/vm/pid");
  cmdline = hvk_qemu_build_cmdline (registry, "x,y", config, NULL, &paths, NULL, NULL, NULL, NULL, &error);
  hvk_qemu_paths_clear (&paths);
  g_assert_no_error (error);
  g_assert_cmpstr (find_option (cmdline, "-name", 0), ==, "sandbox-x,,y,debug-threads=on");
  g_assert_cmpstr (find_option (cmdline, "-qmp", 0), ==,
                   "unix:path=/run/a,,b/vm/qmp.sock,server=on,wait=off");
  g_assert_cmpstr (find_option (cmdline, "-chardev", 0), ==,
                   "socket,id=charconsole0,path=/run/a,,b/vm/console.sock,server=on,wait=off");
  g_assert_cmpstr (find_option (cmdline, "-pidfile", 0), ==, "/run/a,b/vm/pid");
}

static void
test_root_params_error (void)
{
  g_autoptr(HvkConfig) config = load ("image=@DATADIR@/rootfs.img\nrootfs_type=btrfs\n", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *kernel = NULL;

  hvk_config_set_string (config, "initrd", "");
  kernel = hvk_qemu_build_kernel_cmdline (registry, "vm1", config, &error);
  g_assert_null (kernel);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "'image0'"));
  g_assert_nonnull (strstr (error->message, "btrfs"));
}

/* The built-in shared directory only stands in for a missing fs device. */
static void
test_shared_fs_explicit (void)
{
  g_autoptr(HvkConfig) config = load ("shared_fs=virtio-9p\nshared_path=@DATADIR@/share\n",
                                      "[device.mine]\nkind=fs\ndriver=virtio-9p\n"
                                      "path=@DATADIR@/share\ntag=mine\n");
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkCmdline) cmdline = qemu_test_build (registry, config, &error);
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  text = hvk_cmdline_to_string (cmdline);
  g_assert_nonnull (strstr (text, "mount_tag=mine"));
  g_assert_null (strstr (text, "kataShared"));
  g_assert_cmpstr (find_option (cmdline, "-fsdev", 1), ==, NULL);
}

/* The example configurations load, and those that name no file QEMU
 * must stat at build time build. */
static void
test_examples (void)
{
  static const struct {
    const char *file;
    gboolean    builds;
  } examples[] = {
    { "qemu-devices.conf", TRUE },
    { "qemu-virtio-fs.conf", TRUE },
    { "qemu-template.conf", TRUE },
    { "qemu-image.conf", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (examples); i++)
    {
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "examples",
                                                     examples[i].file, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(HvkConfig) config = hvk_config_new_from_file (path, registry, &error);
      g_autoptr(HvkCmdline) cmdline = NULL;

      g_test_message ("%s", path);
      g_assert_no_error (error);
      g_assert_nonnull (config);
      if (!examples[i].builds)
        continue;
      cmdline = qemu_test_build (registry, config, &error);
      g_assert_no_error (error);
      g_assert_nonnull (cmdline);
    }
}

/* ---- one device, two forms (hvk-qemu-device-props.c) ---- */

static char *
opts_text (HvkOpts *opts)
{
  g_autoptr(GError) error = NULL;
  char *text = hvk_opts_to_string (opts, &error);

  g_assert_no_error (error);
  return text;
}

static char *
opts_json (HvkOpts    *opts,
           const char *first_key)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) object = hvk_opts_to_json (opts, first_key, &error);
  g_autoptr(JsonNode) node = NULL;

  g_assert_no_error (error);
  node = json_node_init_object (json_node_alloc (), object);
  return json_to_string (node, FALSE);
}

/* Every setting the backend reads names a declared key of its type; and
 * a config's values reach the typed fields (fallbacks where unset). */
static void
test_settings_table (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = load ("machine_type=pc\ndefault_bridges=3\nenable_iommu=false\n"
                                      "pflashes=/a;/b\nseccompsandbox=\n", "");
  g_autoptr(HvkQemuSettings) settings = NULL;
  g_autoptr(HvkQemuSettings) fallbacks = hvk_qemu_settings_new (NULL);

  g_assert_true (hvk_qemu_settings_check_table (&error));
  g_assert_no_error (error);

  settings = hvk_qemu_settings_new (config);
  g_assert_cmpstr (settings->machine_type, ==, "pc");
  g_assert_cmpuint (settings->default_bridges, ==, 3);
  g_assert_cmpstrv (settings->pflashes, ((const char *[]) { "/a", "/b", NULL }));
  /* Empty is unset: the strict default (disable_seccomp turns it off). */
  g_assert_cmpstr (settings->seccompsandbox, ==, HVK_QEMU_DEFAULT_SANDBOX);
  g_assert_false (settings->disable_seccomp);
  g_assert_cmpstr (settings->block_device_aio, ==, "threads");

  g_assert_cmpstr (fallbacks->path, ==, HVK_QEMU_DEFAULT_PATH);
  g_assert_cmpstr (fallbacks->shared_fs, ==, "none");
  g_assert_cmpuint (fallbacks->virtio_fs_queue_size, ==, 1024);
  g_assert_null (fallbacks->pflashes);
}

/* @config's settings, living as long as @config (what a resolved block
 * or net points into). */
static const HvkQemuSettings *
config_settings (HvkConfig *config)
{
  HvkQemuSettings *settings = hvk_qemu_settings_new (config);

  g_object_set_data_full (G_OBJECT (config), "test-settings", settings,
                          (GDestroyNotify) hvk_qemu_settings_free);
  return settings;
}

static gboolean
resolve_block (const char    *extra_qemu,
               const char    *device_props,
               HvkQemuBlock  *block,
               HvkConfig    **config_out,
               GError       **error)
{
  g_autofree char *devices = g_strdup_printf ("[device.d0]\nkind=block\npath=%s/vmlinuz\n%s",
                                              data_dir, device_props);
  g_autoptr(HvkConfig) config = load (extra_qemu, devices);
  HvkDevice *device = hvk_config_lookup_device (config, "d0");

  g_assert_nonnull (device);
  *config_out = g_steal_pointer (&config);
  return hvk_qemu_block_resolve (device, config_settings (*config_out), block, error);
}

/* The config's block_device_* keys and the device's own properties,
 * read once, give the command line's -drive/-device and hotplug's
 * blockdev-add/device_add the same settings, typed for QMP. */
static void
test_device_props_block (void)
{
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkOpts) drive = NULL, cold_dev = NULL, blockdev = NULL, hot_dev = NULL;
  g_autofree char *path = g_build_filename (data_dir, "vmlinuz", NULL);
  g_autofree char *text = NULL, *want = NULL;
  HvkQemuBlock block;
  HvkQemuPlace cold_place = { NULL, -1, -1 };
  HvkQemuPlace hot_place = { "pci-bridge-0", 2, -1 };

  g_assert_true (resolve_block ("block_device_driver=virtio-blk\nblock_device_aio=io_uring\n"
                                "block_device_cache_set=true\nblock_device_cache_noflush=true\n",
                                "readonly=true\ncache_direct=true\n", &block, &config, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (block.aio, ==, "io_uring");
  g_assert_false (hvk_qemu_block_is_scsi (&block));

  /* The command line's form: what tests/golden/qemu/block-*.args hold. */
  g_assert_true (hvk_qemu_block_props (&block, HVK_QEMU_BLOCK_DRIVE, &cold_place,
                                       &drive, &cold_dev, &error));
  g_assert_no_error (error);
  text = opts_text (drive);
  want = g_strdup_printf ("id=d0,file=%s,aio=io_uring,format=raw,if=none,readonly=on,"
                          "cache.direct=on,cache.no-flush=on", path);
  g_assert_cmpstr (text, ==, want);
  g_clear_pointer (&text, g_free);
  text = opts_text (cold_dev);
  g_assert_cmpstr (text, ==, "virtio-blk-pci,id=d0,drive=d0,config-wce=off,serial=d0");
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&want, g_free);

  /* Hotplug's form needs the path probed (file or block device). */
  g_assert_false (hvk_qemu_block_props (&block, HVK_QEMU_BLOCK_BLOCKDEV, &hot_place,
                                        &blockdev, &hot_dev, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_true (hvk_qemu_block_probe (&block, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_qemu_block_props (&block, HVK_QEMU_BLOCK_BLOCKDEV, &hot_place,
                                       &blockdev, &hot_dev, &error));
  g_assert_no_error (error);
  text = opts_json (blockdev, NULL);
  want = g_strdup_printf ("{\"node-name\":\"drive-d0\",\"driver\":\"raw\",\"read-only\":true,"
                          "\"file\":{\"driver\":\"file\",\"filename\":\"%s\",\"aio\":\"io_uring\"},"
                          "\"cache\":{\"direct\":true,\"no-flush\":true}}", path);
  g_assert_cmpstr (text, ==, want);
  g_clear_pointer (&text, g_free);
  text = opts_json (hot_dev, "driver");
  g_assert_cmpstr (text, ==, "{\"driver\":\"virtio-blk-pci\",\"id\":\"d0\",\"drive\":\"drive-d0\","
                   "\"config-wce\":false,\"serial\":\"d0\",\"bus\":\"pci-bridge-0\",\"addr\":\"0x2\"}");
}

/* scsi-hd: the LUN is a JSON integer; the device's cache_direct=false
 * wins over the config's; no cache keys without block_device_cache_set
 * or cache_direct. */
static void
test_device_props_block_scsi (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  HvkQemuPlace place = { "scsi0.0", -1, 3 };

  {
    g_autoptr(HvkConfig) config = NULL;
    g_autoptr(HvkOpts) backend = NULL, dev = NULL;
    HvkQemuBlock block;

    g_assert_true (resolve_block ("block_device_cache_set=true\nblock_device_cache_direct=true\n",
                                  "cache_direct=false\nserial=s,1\n", &block, &config, &error));
    g_assert_no_error (error);
    g_assert_true (hvk_qemu_block_is_scsi (&block));
    g_assert_true (hvk_qemu_block_probe (&block, &error));
    g_assert_true (hvk_qemu_block_props (&block, HVK_QEMU_BLOCK_BLOCKDEV, &place,
                                         &backend, &dev, &error));
    g_assert_no_error (error);
    text = opts_json (dev, "driver");
    g_assert_cmpstr (text, ==, "{\"driver\":\"scsi-hd\",\"id\":\"d0\",\"drive\":\"drive-d0\","
                     "\"bus\":\"scsi0.0\",\"channel\":0,\"scsi-id\":0,\"lun\":3,\"serial\":\"s,1\"}");
    g_clear_pointer (&text, g_free);
    text = opts_json (backend, NULL);
    g_assert_nonnull (strstr (text, "\"cache\":{\"direct\":false,\"no-flush\":false}"));
    g_assert_nonnull (strstr (text, "\"aio\":\"threads\""));
    g_clear_pointer (&text, g_free);
    text = opts_text (dev);
    g_assert_cmpstr (text, ==, "scsi-hd,id=d0,drive=drive-d0,bus=scsi0.0,channel=0,scsi-id=0,lun=3,serial=s,,1");
    g_clear_pointer (&text, g_free);
  }
  {
    g_autoptr(HvkConfig) config = NULL;
    g_autoptr(HvkOpts) backend = NULL, dev = NULL;
    HvkQemuBlock block;

    g_assert_true (resolve_block (NULL, "", &block, &config, &error));
    g_assert_true (hvk_qemu_block_props (&block, HVK_QEMU_BLOCK_DRIVE, &place,
                                         &backend, &dev, &error));
    text = opts_text (backend);
    g_assert_null (strstr (text, "cache"));
    g_assert_null (strstr (text, "readonly"));
  }
}

/* What the command line refuses, hotplug refuses too: one check. */
static void
test_device_props_block_refused (void)
{
  static const struct {
    const char *extra, *props;
    HvkError code;
    const char *needle;
  } cases[] = {
    { NULL, "aio=native\n", HVK_ERROR_INVALID_ARGUMENT, "aio=native needs the cache to be direct" },
    { "block_device_cache_set=true\nblock_device_cache_direct=true\n", "aio=native\ncache_direct=false\n",
      HVK_ERROR_INVALID_ARGUMENT, "aio=native needs" },
    { "block_device_aio=posix\n", "", HVK_ERROR_INVALID_ARGUMENT, "aio 'posix'" },
    { NULL, "driver=nvdimm\n", HVK_ERROR_NOT_SUPPORTED, "block driver 'nvdimm'" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(HvkConfig) config = NULL;
      g_autoptr(GError) error = NULL;
      HvkQemuBlock block;

      g_assert_false (resolve_block (cases[i].extra, cases[i].props, &block, &config, &error));
      g_assert_error (error, HVK_ERROR, (gint) cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].needle));
      g_assert_nonnull (strstr (error->message, "'d0'"));
    }

  /* aio=native with a direct cache is fine, from the config too. */
  {
    g_autoptr(HvkConfig) config = NULL;
    g_autoptr(GError) error = NULL;
    HvkQemuBlock block;

    g_assert_true (resolve_block ("block_device_cache_set=true\nblock_device_cache_direct=true\n"
                                  "block_device_aio=native\n", "", &block, &config, &error));
    g_assert_no_error (error);
  }
}

/* A tap interface by name: the command line's -netdev/-device (as the
 * goldens have them) and hotplug's netdev_add/device_add, vhost and mq
 * typed for QMP; a bad MAC refused by the one check. */
static void
test_device_props_net (void)
{
  g_autoptr(GError) error = NULL;
  HvkQemuPlace place = { "pci-bridge-0", 3, -1 };

  {
    g_autoptr(HvkConfig) config = load (NULL, "[device.n0]\nkind=net\nifname=tap0\nmac=02:00:00:00:00:01\n");
    g_autoptr(HvkOpts) cold = NULL, hot = NULL, cold_dev = NULL, hot_dev = NULL;
    g_autofree char *text = NULL, *netdev_id = hvk_qemu_net_netdev_id ("n0", HVK_QEMU_BLOCK_BLOCKDEV);
    HvkQemuNet net;

    g_assert_true (hvk_qemu_net_resolve (hvk_config_lookup_device (config, "n0"), config_settings (config), &net, &error));
    g_assert_no_error (error);
    hvk_qemu_net_tap_props (&net, HVK_QEMU_BLOCK_DRIVE, NULL, NULL, &cold);
    text = opts_text (cold);
    g_assert_cmpstr (text, ==, "tap,id=n0,vhost=on,ifname=tap0,downscript=no,script=no");
    g_clear_pointer (&text, g_free);
    hvk_qemu_net_tap_props (&net, HVK_QEMU_BLOCK_BLOCKDEV, NULL, NULL, &hot);
    text = opts_json (hot, "type");
    g_assert_cmpstr (text, ==, "{\"type\":\"tap\",\"id\":\"netdev-n0\",\"vhost\":true,"
                     "\"ifname\":\"tap0\",\"downscript\":\"no\",\"script\":\"no\"}");
    g_clear_pointer (&text, g_free);

    cold_dev = hvk_qemu_net_device_props (&net, "n0", 2, NULL);
    text = opts_text (cold_dev);
    g_assert_cmpstr (text, ==, "driver=virtio-net-pci,id=n0,netdev=n0,mac=02:00:00:00:00:01,mq=on,vectors=6");
    g_clear_pointer (&text, g_free);
    hot_dev = hvk_qemu_net_device_props (&net, netdev_id, 0, &place);
    text = opts_json (hot_dev, NULL);
    g_assert_cmpstr (text, ==, "{\"driver\":\"virtio-net-pci\",\"id\":\"n0\",\"netdev\":\"netdev-n0\","
                     "\"mac\":\"02:00:00:00:00:01\",\"bus\":\"pci-bridge-0\",\"addr\":\"0x3\"}");
  }
  {
    g_autoptr(HvkConfig) config = load ("disable_vhost_net=true\n", "[device.n0]\nkind=net\nifname=tap0\n");
    g_autoptr(HvkOpts) hot = NULL;
    g_autofree char *text = NULL;
    HvkQemuNet net;

    g_assert_true (hvk_qemu_net_resolve (hvk_config_lookup_device (config, "n0"), config_settings (config), &net, &error));
    hvk_qemu_net_tap_props (&net, HVK_QEMU_BLOCK_BLOCKDEV, NULL, NULL, &hot);
    text = opts_json (hot, "type");
    g_assert_null (strstr (text, "vhost"));
  }
  {
    g_autoptr(HvkConfig) config = load (NULL, "[device.n0]\nkind=net\nifname=tap0\nmac=02:00:00:00:00\n");
    HvkQemuNet net;

    g_assert_false (hvk_qemu_net_resolve (hvk_config_lookup_device (config, "n0"), config_settings (config), &net, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "is not a MAC address"));
  }
}

int
main (int    argc,
      char **argv)
{
  g_auto(GStrv) names = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_setenv ("HVKIT_TEST_UUID", QEMU_TEST_UUID, TRUE);
  registry = qemu_test_registry_new ();
  data_dir = qemu_test_make_data_dir ();

  names = qemu_test_list_goldens ();
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *path = g_strdup_printf ("/hvk/qemu/golden/%s", names[i]);

      g_test_add_data_func (path, names[i], test_golden);
    }
  g_test_add_func ("/hvk/qemu/golden-orphans", test_golden_orphans);
  g_test_add_func ("/hvk/qemu/jailer-custom-asset", test_jailer_custom_asset);
  g_test_add_func ("/hvk/qemu/settings/table", test_settings_table);
  g_test_add_func ("/hvk/qemu/golden-mode/compare", test_golden_mode_compare);
  g_test_add_func ("/hvk/qemu/golden-mode/target", test_golden_mode_target);
  g_test_add_func ("/hvk/qemu/golden-mode/leftover", test_golden_mode_leftover);
  g_test_add_func ("/hvk/qemu/golden-mode/ci", test_golden_mode_ci);
  g_test_add_func ("/hvk/qemu/kernel-cmdline/exact", test_kernel_cmdline_exact);
  g_test_add_func ("/hvk/qemu/kernel-cmdline/image", test_kernel_cmdline_image);
  g_test_add_func ("/hvk/qemu/kernel-cmdline/iommu-legacy", test_kernel_cmdline_iommu_legacy);
  g_test_add_func ("/hvk/qemu/nesting-and-guest-selinux", test_nesting_and_guest_selinux);
  g_test_add_func ("/hvk/qemu/virtiofsd-argv", test_virtiofsd_argv);
  g_test_add_func ("/hvk/qemu/layout/build", test_layout);
  g_test_add_func ("/hvk/qemu/layout/json-errors", test_layout_json_errors);
  g_test_add_func ("/hvk/qemu/capabilities", test_capabilities);
  g_test_add_func ("/hvk/qemu/errors/devices", test_device_errors);
  g_test_add_func ("/hvk/qemu/errors/config", test_config_errors);
  g_test_add_func ("/hvk/qemu/errors/numa", test_numa_errors);
  g_test_add_func ("/hvk/qemu/errors/image-missing", test_image_missing);
  g_test_add_func ("/hvk/qemu/errors/foreign-context", test_foreign_context);
  g_test_add_func ("/hvk/qemu/errors/microvm-nvdimm", test_microvm_nvdimm);
  g_test_add_func ("/hvk/qemu/errors/control-chars", test_control_chars);
  g_test_add_func ("/hvk/qemu/errors/unknown-kind", test_unknown_kind);
  g_test_add_func ("/hvk/qemu/appender-override", test_appender_override);
  g_test_add_func ("/hvk/qemu/uuid", test_uuid);
  g_test_add_func ("/hvk/qemu/extra-devices", test_extra_devices);
  g_test_add_func ("/hvk/qemu/examples", test_examples);
  g_test_add_func ("/hvk/qemu/shared-fs-explicit", test_shared_fs_explicit);
  g_test_add_func ("/hvk/qemu/escaping-paths", test_escaping_paths);
  g_test_add_func ("/hvk/qemu/errors/root-params", test_root_params_error);
  g_test_add_func ("/hvk/qemu/device-props/block", test_device_props_block);
  g_test_add_func ("/hvk/qemu/device-props/block-scsi", test_device_props_block_scsi);
  g_test_add_func ("/hvk/qemu/device-props/block-refused", test_device_props_block_refused);
  g_test_add_func ("/hvk/qemu/device-props/net", test_device_props_net);

  ret = g_test_run ();

  qemu_test_remove_dir (data_dir);
  g_free (data_dir);
  g_object_unref (registry);
  return ret;
}
