/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/*
 * The QEMU plugin as users get it: loaded from the build tree through
 * HVKIT_PLUGIN_PATH (this program does not link the backend's code).
 * What it registers, and the kernel command line and argv a created VM
 * exposes (what `hvkit kernel-params` and `hvkit argv` print).
 */

#define EXPECTED_KERNEL_CMDLINE                                                   \
  "tsc=reliable no_timer_check rcupdate.rcu_expedited=1 i8042.direct=1 "          \
  "i8042.dumbkbd=1 i8042.nopnp=1 i8042.noaux=1 noreplace-smp reboot=k "           \
  "cryptomgr.notests net.ifnames=0 pci=lastbus=0 console=hvc0 console=hvc1 quiet " \
  "panic=1 nr_cpus=2 selinux=0 foo=bar"

/* The QEMU the config below leaves at its default (`path`). */
#define QEMU_PATH "/usr/bin/qemu-system-x86_64"

static HvkRegistry *
scanned_registry (void)
{
  HvkRegistry *registry = hvk_registry_new ();

  hvk_registry_scan (registry);
  return registry;
}

static void
test_registration (void)
{
  g_autoptr(HvkRegistry) registry = scanned_registry ();
  HvkBackendInfo *info = hvk_registry_lookup_backend (registry, "qemu");
  static const char * const kinds[] = {
    "qemu-bridge", "qemu-root-port", "image", "scsi-controller", "pvpanic", "iommu",
    HVK_DEVICE_KIND_BLOCK, HVK_DEVICE_KIND_NET, HVK_DEVICE_KIND_VSOCK, HVK_DEVICE_KIND_FS,
    HVK_DEVICE_KIND_CONSOLE, HVK_DEVICE_KIND_SERIAL_SOCKET, HVK_DEVICE_KIND_VFIO,
    HVK_DEVICE_KIND_RNG, HVK_DEVICE_KIND_MEMORY, HVK_DEVICE_KIND_CPU,
  };
  g_autofree char *caps = NULL;

  g_assert_nonnull (info);
  g_assert_cmpstr (hvk_plugin_get_name (hvk_backend_info_get_plugin (info)), ==, "qemu");
  g_assert_nonnull (hvk_plugin_get_filename (hvk_backend_info_get_plugin (info)));
  caps = hvk_capabilities_to_string (hvk_backend_info_get_capabilities (info));
  g_test_message ("capabilities: %s", caps);
  g_assert_true (g_str_has_prefix (caps, "block-device, "));
  g_assert_nonnull (strstr (caps, "block-device-hotplug"));
  g_assert_nonnull (strstr (caps, "multi-queue"));
  g_assert_nonnull (strstr (caps, "fs-sharing"));
  g_assert_nonnull (strstr (caps, "net-device-hotplug"));
  g_assert_nonnull (strstr (caps, "save-restore"));
  g_assert_nonnull (strstr (caps, "vfio"));
  g_assert_null (strstr (caps, "hybrid-vsock"));

  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_test_message ("kind %s", kinds[i]);
      g_assert_nonnull (hvk_registry_lookup_device_kind (registry, kinds[i]));
      g_assert_true (hvk_registry_has_device_appender (registry, "qemu", kinds[i]));
    }
  g_assert_nonnull (hvk_registry_lookup_config_key (registry, "qemu", "extra_monitor_socket"));

  /* The hot-pluggable kinds, found by (backend, kind) in the registry. */
  {
    static const char * const hot[] = { "block", "net", "vfio", "cpu", "memory" };

    for (gsize i = 0; i < G_N_ELEMENTS (hot); i++)
      g_assert_true (hvk_registry_has_hotplug_handler (registry, "qemu", hot[i]));
    g_assert_false (hvk_registry_has_hotplug_handler (registry, "qemu", "rng"));
  }
}

static void
make_file (const char *path)
{
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (close (fd), ==, 0);
}

static void
test_created_vm (void)
{
  g_autoptr(HvkRegistry) registry = scanned_registry ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hvkit-qemu-plugin-XXXXXX", &error);
  g_autofree char *kernel = NULL;
  g_autofree char *initrd = NULL;
  g_autofree char *state = NULL;
  g_autofree char *text = NULL;
  g_autofree char *kernel_cmdline = NULL;
  g_auto(GStrv) argv = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  gboolean found_append = FALSE;
  gboolean created;

  g_assert_no_error (error);
  /* The one reason to skip: a host without QEMU.  Any other create_vm()
   * failure is a failure of this test. */
  if (!g_file_test (QEMU_PATH, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip (QEMU_PATH " is not installed");
      g_assert_cmpint (g_rmdir (dir), ==, 0);
      return;
    }
  kernel = g_build_filename (dir, "vmlinuz", NULL);
  initrd = g_build_filename (dir, "initrd.img", NULL);
  state = g_build_filename (dir, "state", NULL);
  make_file (kernel);
  make_file (initrd);
  text = g_strdup_printf ("[hypervisor]\n"
                          "backend=qemu\n"
                          "\n"
                          "[hypervisor.qemu]\n"
                          "kernel=%s\n"
                          "initrd=%s\n"
                          "machine_accelerators=accel=tcg\n"
                          "default_vcpus=1\n"
                          "default_maxvcpus=2\n"
                          "default_memory=256\n"
                          "default_maxmemory=1024\n"
                          "kernel_params=foo=bar\n",
                          kernel, initrd);
  config = hvk_config_new_from_data (text, -1, "plugin.conf", registry, &error);
  g_assert_no_error (error);
  hvk_config_set_vm_store_path (config, state);

  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  created = hvk_hypervisor_create_vm (hypervisor, "plugvm", config, &error);
  g_assert_no_error (error);
  g_assert_true (created);

  g_assert_true (hvk_hypervisor_get_launch_command (hypervisor, &argv, &kernel_cmdline, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (kernel_cmdline, ==, EXPECTED_KERNEL_CMDLINE);
  g_assert_nonnull (argv);
  g_assert_cmpstr (argv[0], ==, QEMU_PATH);
  for (guint i = 0; argv[i] != NULL && argv[i + 1] != NULL; i++)
    if (g_str_equal (argv[i], "-append"))
      {
        g_assert_cmpstr (argv[i + 1], ==, EXPECTED_KERNEL_CMDLINE);
        found_append = TRUE;
      }
  g_assert_true (found_append);

  /* A VM created but never started leaves nothing behind. */
  g_clear_object (&hypervisor);
  g_rmdir (state);
  g_assert_cmpint (g_unlink (kernel), ==, 0);
  g_assert_cmpint (g_unlink (initrd), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hvk/qemu/plugin/registration", test_registration);
  g_test_add_func ("/hvk/qemu/plugin/created-vm", test_created_vm);
  return g_test_run ();
}
