/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Vectors from reference-kata-vectors.md §1.3, §1.8, §1.9, §1.10, §7.1. */

/* The QEMU plugin owns keys such as machine_type and pflashes: a QEMU
 * configuration built in code knows them through the registry (the
 * test environment's plugin path has the built plugins). */
static HvkConfig *
qemu_config_new (void)
{
  HvkConfig *config = hvk_config_new ("qemu");

  hvk_config_set_registry (config, hvk_registry_get_default ());
  return config;
}

static HvkConfig *
load (const char *data,
      GError    **error)
{
  return hvk_config_new_from_data (data, -1, "qemu.conf", hvk_registry_get_default (), error);
}

static guint64
host_mib (void)
{
  return (guint64) sysconf (_SC_PHYS_PAGES) * (guint64) sysconf (_SC_PAGESIZE) / (1024 * 1024);
}

static HvkConfig *
bootable_config (void)
{
  HvkConfig *config = qemu_config_new ();

  hvk_config_set_string (config, "kernel", "/boot/vmlinuz");
  hvk_config_set_string (config, "image", "/var/lib/rootfs.img");
  return config;
}

/* ---- the key table ---- */

static const struct {
  const char         *name;
  HvkConfigValueType  type;
  const char         *default_value;
} expected_keys[] = {
  { "path", HVK_CONFIG_TYPE_PATH, NULL },
  { "ctlpath", HVK_CONFIG_TYPE_PATH, NULL },
  { "jailer_path", HVK_CONFIG_TYPE_PATH, NULL },
  { "kernel", HVK_CONFIG_TYPE_PATH, NULL },
  { "image", HVK_CONFIG_TYPE_PATH, NULL },
  { "initrd", HVK_CONFIG_TYPE_PATH, NULL },
  { "firmware", HVK_CONFIG_TYPE_PATH, NULL },
  { "firmware_volume", HVK_CONFIG_TYPE_PATH, NULL },
  { "kernel_params", HVK_CONFIG_TYPE_STRING, NULL },
  { "kernel_verity_params", HVK_CONFIG_TYPE_STRING, NULL },
  { "default_vcpus", HVK_CONFIG_TYPE_DOUBLE, "1" },
  { "default_maxvcpus", HVK_CONFIG_TYPE_UINT, "0" },
  { "default_memory", HVK_CONFIG_TYPE_UINT, "2048" },
  { "default_maxmemory", HVK_CONFIG_TYPE_UINT, "0" },
  { "memory_slots", HVK_CONFIG_TYPE_UINT, "10" },
  { "memory_offset", HVK_CONFIG_TYPE_UINT, "0" },
  { "reclaim_guest_freed_memory", HVK_CONFIG_TYPE_BOOLEAN, "false" },
  { "enable_numa", HVK_CONFIG_TYPE_BOOLEAN, "false" },
  { "numa_mapping", HVK_CONFIG_TYPE_STRV, NULL },
  { "enable_virtio_mem", HVK_CONFIG_TYPE_BOOLEAN, "false" },
  { "default_bridges", HVK_CONFIG_TYPE_UINT, "1" },
  { "block_device_driver", HVK_CONFIG_TYPE_STRING, "virtio-scsi" },
  { "block_device_aio", HVK_CONFIG_TYPE_STRING, "threads" },
  { "disable_block_device_use", HVK_CONFIG_TYPE_BOOLEAN, "false" },
  { "shared_fs", HVK_CONFIG_TYPE_STRING, "none" },
  { "shared_path", HVK_CONFIG_TYPE_PATH, NULL },
  { "virtio_fs_daemon", HVK_CONFIG_TYPE_PATH, "/usr/lib/qemu/virtiofsd" },
  { "valid_virtio_fs_daemon_paths", HVK_CONFIG_TYPE_STRV, NULL },
  { "virtio_fs_cache_size", HVK_CONFIG_TYPE_UINT, "0" },
  { "virtio_fs_queue_size", HVK_CONFIG_TYPE_UINT, "1024" },
  { "virtio_fs_extra_args", HVK_CONFIG_TYPE_STRV, NULL },
  { "virtio_fs_cache", HVK_CONFIG_TYPE_STRING, "auto" },
  { "msize_9p", HVK_CONFIG_TYPE_UINT, "8192" },
  { "entropy_source", HVK_CONFIG_TYPE_PATH, "/dev/urandom" },
  { "valid_entropy_sources", HVK_CONFIG_TYPE_STRV, NULL },
  { "enable_debug", HVK_CONFIG_TYPE_BOOLEAN, "false" },
  { "enable_hugepages", HVK_CONFIG_TYPE_BOOLEAN, "false" },
  { "enable_mem_prealloc", HVK_CONFIG_TYPE_BOOLEAN, "false" },
  { "rootfs_type", HVK_CONFIG_TYPE_STRING, "ext4" },
  { "file_mem_backend", HVK_CONFIG_TYPE_PATH, NULL },
  { "valid_file_mem_backends", HVK_CONFIG_TYPE_STRV, NULL },
  { "valid_hypervisor_paths", HVK_CONFIG_TYPE_STRV, NULL },
  { "valid_ctlpaths", HVK_CONFIG_TYPE_STRV, NULL },
  { "valid_jailer_paths", HVK_CONFIG_TYPE_STRV, NULL },
  { "disable_nesting_checks", HVK_CONFIG_TYPE_BOOLEAN, "false" },
  { "disable_selinux", HVK_CONFIG_TYPE_BOOLEAN, "false" },
  { "disable_guest_selinux", HVK_CONFIG_TYPE_BOOLEAN, "true" },
  { "disk_rate_limiter_bw_max_rate", HVK_CONFIG_TYPE_INT, "0" },
  { "disk_rate_limiter_bw_one_time_burst", HVK_CONFIG_TYPE_INT, "0" },
  { "disk_rate_limiter_ops_max_rate", HVK_CONFIG_TYPE_INT, "0" },
  { "disk_rate_limiter_ops_one_time_burst", HVK_CONFIG_TYPE_INT, "0" },
  { "disk_rate_limiter_shared", HVK_CONFIG_TYPE_BOOLEAN, "false" },
  { "rx_rate_limiter_max_rate", HVK_CONFIG_TYPE_INT, "0" },
  { "tx_rate_limiter_max_rate", HVK_CONFIG_TYPE_INT, "0" },
  { "net_rate_limiter_bw_max_rate", HVK_CONFIG_TYPE_INT, "0" },
  { "net_rate_limiter_bw_one_time_burst", HVK_CONFIG_TYPE_INT, "0" },
  { "net_rate_limiter_ops_max_rate", HVK_CONFIG_TYPE_INT, "0" },
  { "net_rate_limiter_ops_one_time_burst", HVK_CONFIG_TYPE_INT, "0" },
  { "boot_to_be_template", HVK_CONFIG_TYPE_BOOLEAN, "false" },
  { "boot_from_template", HVK_CONFIG_TYPE_BOOLEAN, "false" },
  { "memory_path", HVK_CONFIG_TYPE_PATH, NULL },
  { "devices_state_path", HVK_CONFIG_TYPE_PATH, NULL },
};

static void
test_core_keys (void)
{
  g_autoptr(HvkConfig) config = qemu_config_new ();
  const HvkConfigKey *keys;
  guint n_keys;

  keys = hvk_config_get_core_keys (&n_keys);
  g_assert_cmpuint (n_keys, ==, G_N_ELEMENTS (expected_keys));

  for (gsize i = 0; i < G_N_ELEMENTS (expected_keys); i++)
    {
      const HvkConfigKey *key = hvk_config_lookup_key (config, expected_keys[i].name);

      g_test_message ("key %s", expected_keys[i].name);
      g_assert_cmpstr (keys[i].name, ==, expected_keys[i].name);
      g_assert_nonnull (key);
      g_assert_cmpstr (key->name, ==, expected_keys[i].name);
      g_assert_cmpint (key->type, ==, expected_keys[i].type);
      g_assert_cmpstr (key->default_value, ==, expected_keys[i].default_value);
      g_assert_nonnull (key->description);
      g_assert_cmpstr (key->description, !=, "");
      g_assert_false (hvk_config_has_key (config, key->name));
    }
  g_assert_null (hvk_config_lookup_key (config, "frobnicate"));
  g_assert_null (hvk_config_lookup_key (config, "backend"));
}

static void
test_defaults (void)
{
  g_autoptr(HvkConfig) config = qemu_config_new ();
  g_autofree char *vcpus = NULL;
  g_autofree char *path = NULL;

  g_assert_cmpstr (hvk_config_get_backend (config), ==, "qemu");
  g_assert_cmpstr (hvk_config_get_group (config), ==, "hypervisor.qemu");
  g_assert_null (hvk_config_get_source (config));
  g_assert_true (hvk_config_get_registry (config) == hvk_registry_get_default ());
  {
    g_autoptr(HvkConfig) bare = hvk_config_new ("qemu");

    /* Without a registry: the core keys only. */
    g_assert_null (hvk_config_get_registry (bare));
    g_assert_nonnull (hvk_config_lookup_key (bare, "default_memory"));
    g_assert_null (hvk_config_lookup_key (bare, "machine_type"));
  }

  /* path has no core default: backends apply theirs */
  g_assert_null (hvk_config_get_string (config, "path"));
  g_assert_cmpstr (hvk_config_get_string (config, "machine_type"), ==, "q35");
  g_assert_cmpstr (hvk_config_get_string (config, "block_device_driver"), ==, "virtio-scsi");
  g_assert_cmpstr (hvk_config_get_string (config, "virtio_fs_daemon"), ==, "/usr/lib/qemu/virtiofsd");
  g_assert_cmpfloat (hvk_config_get_double (config, "default_vcpus"), ==, 1.0);
  g_assert_cmpuint (hvk_config_get_uint (config, "default_memory"), ==, 2048);
  g_assert_cmpuint (hvk_config_get_uint (config, "virtio_fs_queue_size"), ==, 1024);
  g_assert_true (hvk_config_get_boolean (config, "disable_guest_selinux"));
  g_assert_false (hvk_config_get_boolean (config, "enable_debug"));
  g_assert_null (hvk_config_get_strv (config, "pflashes"));
  g_assert_cmpuint (hvk_config_get_num_vcpus (config), ==, 1);
  g_assert_cmpuint (hvk_config_get_kernel_params (config)->len, ==, 0);
  g_assert_cmpuint (hvk_config_get_devices (config)->len, ==, 0);
  g_assert_null (hvk_config_get_vm_store_path (config));

  vcpus = hvk_config_dup_value_string (config, "default_vcpus");
  g_assert_cmpstr (vcpus, ==, "1");
  path = hvk_config_dup_value_string (config, "path");
  g_assert_null (path);
}

static void
test_set_get (void)
{
  g_autoptr(HvkConfig) config = qemu_config_new ();
  const char *pflashes[] = { "/f/flash0", "/f/flash;1", NULL };
  const char * const *got;
  g_autofree char *text = NULL;

  hvk_config_set_string (config, "path", "/opt/qemu");
  g_assert_true (hvk_config_has_key (config, "path"));
  g_assert_cmpstr (hvk_config_get_string (config, "path"), ==, "/opt/qemu");
  hvk_config_set_string (config, "path", NULL);
  g_assert_false (hvk_config_has_key (config, "path"));
  g_assert_null (hvk_config_get_string (config, "path"));

  hvk_config_set_string (config, "machine_type", "microvm");
  g_assert_cmpstr (hvk_config_get_string (config, "machine_type"), ==, "microvm");
  hvk_config_set_string (config, "machine_type", NULL);
  g_assert_cmpstr (hvk_config_get_string (config, "machine_type"), ==, "q35");

  hvk_config_set_boolean (config, "disable_guest_selinux", FALSE);
  g_assert_false (hvk_config_get_boolean (config, "disable_guest_selinux"));
  hvk_config_set_uint (config, "default_memory", 512);
  g_assert_cmpuint (hvk_config_get_uint (config, "default_memory"), ==, 512);
  hvk_config_set_double (config, "default_vcpus", 2.25);
  g_assert_cmpfloat (hvk_config_get_double (config, "default_vcpus"), ==, 2.25);
  g_assert_cmpuint (hvk_config_get_num_vcpus (config), ==, 3);

  hvk_config_set_strv (config, "pflashes", pflashes);
  got = hvk_config_get_strv (config, "pflashes");
  g_assert_nonnull (got);
  g_assert_cmpstrv (got, pflashes);
  text = hvk_config_dup_value_string (config, "pflashes");
  g_assert_cmpstr (text, ==, "/f/flash0;/f/flash\\;1;");
  hvk_config_set_strv (config, "pflashes", NULL);
  g_assert_null (hvk_config_get_strv (config, "pflashes"));

  hvk_config_set_vm_store_path (config, "/run/hvkit/vm1");
  g_assert_cmpstr (hvk_config_get_vm_store_path (config), ==, "/run/hvkit/vm1");
  hvk_config_set_vm_store_path (config, NULL);
  g_assert_null (hvk_config_get_vm_store_path (config));
}

static void
test_set_from_string (void)
{
  g_autoptr(HvkConfig) config = qemu_config_new ();
  g_autoptr(GError) error = NULL;
  const char *flashes[] = { "a", "b;c", NULL };
  static const struct {
    const char *key;
    const char *text;
    const char *message;
  } bad[] = {
    { "default_vcpus", "abc", "<config>: [hypervisor.qemu] default_vcpus: invalid value 'abc' (expected a number)" },
    { "default_vcpus", "", "<config>: [hypervisor.qemu] default_vcpus: invalid value '' (expected a number)" },
    { "default_vcpus", "inf", "<config>: [hypervisor.qemu] default_vcpus: invalid value 'inf' (expected a number)" },
    { "default_vcpus", "0x10", "<config>: [hypervisor.qemu] default_vcpus: invalid value '0x10' (expected a number)" },
    { "default_vcpus", "1e999", "<config>: [hypervisor.qemu] default_vcpus: invalid value '1e999' (expected a number)" },
    { "pflashes", "a;b\\", "<config>: [hypervisor.qemu] pflashes: invalid value 'a;b\\' (expected a ;-separated list)" },
    { "default_memory", "-1", "<config>: [hypervisor.qemu] default_memory: invalid value '-1' (expected an unsigned integer)" },
    { "default_memory", "12MB", "<config>: [hypervisor.qemu] default_memory: invalid value '12MB' (expected an unsigned integer)" },
    { "default_memory", "99999999999999999999", "<config>: [hypervisor.qemu] default_memory: invalid value '99999999999999999999' (expected an unsigned integer)" },
    { "enable_debug", "maybe", "<config>: [hypervisor.qemu] enable_debug: invalid value 'maybe' (expected true or false)" },
    { "frobnicate", "1", "<config>: [hypervisor.qemu] frobnicate: unknown key" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (hvk_config_set_from_string (config, bad[i].key, bad[i].text, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
      g_assert_cmpstr (error->message, ==, bad[i].message);
      g_clear_error (&error);
    }
  /* failures leave the value alone */
  g_assert_false (hvk_config_has_key (config, "default_vcpus"));

  g_assert_true (hvk_config_set_from_string (config, "default_vcpus", " 1.5 ", &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (hvk_config_get_double (config, "default_vcpus"), ==, 1.5);
  g_assert_true (hvk_config_set_from_string (config, "default_vcpus", "-2.5e0", &error));
  g_assert_cmpfloat (hvk_config_get_double (config, "default_vcpus"), ==, -2.5);
  g_assert_true (hvk_config_set_from_string (config, "default_memory", "4096", &error));
  g_assert_cmpuint (hvk_config_get_uint (config, "default_memory"), ==, 4096);
  for (const char * const *b = (const char * const[]) { "true", "on", "yes", "1", "TRUE", NULL }; *b; b++)
    {
      hvk_config_set_boolean (config, "enable_debug", FALSE);
      g_assert_true (hvk_config_set_from_string (config, "enable_debug", *b, &error));
      g_assert_true (hvk_config_get_boolean (config, "enable_debug"));
    }
  for (const char * const *b = (const char * const[]) { "false", "off", "no", "0", NULL }; *b; b++)
    {
      hvk_config_set_boolean (config, "enable_debug", TRUE);
      g_assert_true (hvk_config_set_from_string (config, "enable_debug", *b, &error));
      g_assert_false (hvk_config_get_boolean (config, "enable_debug"));
    }
  g_assert_true (hvk_config_set_from_string (config, "virtio_fs_extra_args", "a;b\\;c", &error));
  g_assert_cmpstrv (hvk_config_get_strv (config, "virtio_fs_extra_args"), flashes);
  /* strings are taken verbatim */
  g_assert_true (hvk_config_set_from_string (config, "cpu_features", " pmu=off;x ", &error));
  g_assert_cmpstr (hvk_config_get_string (config, "cpu_features"), ==, " pmu=off;x ");
  g_assert_no_error (error);
}

/* Programmer errors: unknown keys and wrong types in typed accessors. */
static void
test_programmer_errors (void)
{
  static const char *cases[] = {
    "set-unknown", "get-unknown", "set-wrong-type", "get-wrong-type", "dup-unknown",
  };

  if (g_test_subprocess ())
    {
      g_autoptr(HvkConfig) config = qemu_config_new ();
      const char *which = g_getenv ("HVK_TEST_CASE");

      g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);

      if (g_str_equal (which, "set-unknown"))
        hvk_config_set_string (config, "frobnicate", "x");
      else if (g_str_equal (which, "get-unknown"))
        hvk_config_get_uint (config, "frobnicate");
      else if (g_str_equal (which, "set-wrong-type"))
        hvk_config_set_uint (config, "default_vcpus", 1);
      else if (g_str_equal (which, "get-wrong-type"))
        hvk_config_get_string (config, "default_memory");
      else if (g_str_equal (which, "dup-unknown"))
        g_free (hvk_config_dup_value_string (config, "frobnicate"));
      return;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_setenv ("HVK_TEST_CASE", cases[i], TRUE);
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDIN);
      g_test_trap_assert_failed ();
      if (g_str_has_suffix (cases[i], "unknown"))
        g_test_trap_assert_stderr ("*unknown configuration key 'frobnicate'*");
      else
        g_test_trap_assert_stderr ("*has another type*");
    }
  g_unsetenv ("HVK_TEST_CASE");
}

/* ---- kernel parameters (§1.3, §1.4) ---- */

static void
assert_params (GPtrArray          *params,
               const char * const *expected)
{
  guint n = g_strv_length ((char **) expected) / 2;

  g_assert_cmpuint (params->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      HvkParam *p = g_ptr_array_index (params, i);

      g_assert_cmpstr (p->key, ==, expected[2 * i]);
      g_assert_cmpstr (p->value, ==, expected[2 * i + 1]);
    }
}

static void
test_kernel_params (void)
{
  g_autoptr(HvkConfig) config = qemu_config_new ();
  g_autoptr(GError) error = NULL;

  /* P12 */
  g_assert_true (hvk_config_add_kernel_param (config, "foo", "bar", &error));
  g_assert_no_error (error);
  assert_params (hvk_config_get_kernel_params (config), (const char *[]) { "foo", "bar", NULL });
  g_assert_cmpstr (hvk_config_get_string (config, "kernel_params"), ==, "foo=bar");

  /* P13 */
  g_assert_false (hvk_config_add_kernel_param (config, "", "bar", &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "Empty kernel parameter");
  g_clear_error (&error);
  g_assert_false (hvk_config_add_kernel_param (config, NULL, "bar", &error));
  g_assert_cmpstr (error->message, ==, "Empty kernel parameter");
  g_clear_error (&error);
  g_assert_cmpuint (hvk_config_get_kernel_params (config)->len, ==, 1);

  g_assert_true (hvk_config_add_kernel_param (config, "quiet", NULL, &error));
  g_assert_cmpstr (hvk_config_get_string (config, "kernel_params"), ==, "foo=bar quiet");

  /* setting kernel_params replaces the list (KernelParamFields + DeserializeParams) */
  hvk_config_set_string (config, "kernel_params", "a=b x=\"y z\"  quiet");
  assert_params (hvk_config_get_kernel_params (config),
                 (const char *[]) { "a", "b", "x", "\"y z\"", "quiet", "", NULL });
  g_assert_true (hvk_config_set_from_string (config, "kernel_params", "console=ttyS0", &error));
  assert_params (hvk_config_get_kernel_params (config), (const char *[]) { "console", "ttyS0", NULL });
  hvk_config_set_string (config, "kernel_params", NULL);
  g_assert_cmpuint (hvk_config_get_kernel_params (config)->len, ==, 0);
}

static void
test_round_up_vcpus (void)
{
  static const struct { double in; guint32 out; } cases[] = {
    { 1.0, 1 }, { 0.5, 1 }, { 1.2, 2 }, { 2.0, 2 }, { 3.999, 4 }, { 0.0, 0 }, { -1.0, 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmpuint (hvk_round_up_num_vcpus (cases[i].in), ==, cases[i].out);
}

/* ---- loading ---- */

static char *
data_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "core", "data", name, NULL);
}

static void
test_load_file (void)
{
  g_autofree char *path = data_path ("qemu.conf");
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  const char *globs[] = { "/usr/bin/qemu-*", "/opt/qemu/bin/*", NULL };
  const char *args[] = { "--thread-pool-size=1", "--announce-submounts", NULL };
  const char *fds[] = { "3", "4", NULL };
  GPtrArray *devices;
  HvkDevice *device;

  config = hvk_config_new_from_file (path, hvk_registry_get_default (), &error);
  g_assert_no_error (error);
  g_assert_nonnull (config);

  g_assert_cmpstr (hvk_config_get_source (config), ==, path);
  g_assert_cmpstr (hvk_config_get_backend (config), ==, "qemu");
  g_assert_cmpstr (hvk_config_get_string (config, "path"), ==, "/usr/bin/qemu-system-x86_64");
  g_assert_cmpstr (hvk_config_get_string (config, "kernel"), ==, "/var/lib/hvkit/guest/vmlinuz");
  g_assert_cmpstr (hvk_config_get_string (config, "initrd"), ==, "/var/lib/hvkit/guest/initrd.img");
  g_assert_null (hvk_config_get_string (config, "image"));
  g_assert_cmpstr (hvk_config_get_string (config, "machine_accelerators"), ==, "accel=tcg");
  g_assert_cmpfloat (hvk_config_get_double (config, "default_vcpus"), ==, 1.5);
  g_assert_cmpuint (hvk_config_get_num_vcpus (config), ==, 2);
  g_assert_cmpuint (hvk_config_get_uint (config, "default_memory"), ==, 256);
  g_assert_true (hvk_config_get_boolean (config, "enable_debug"));
  g_assert_cmpstrv (hvk_config_get_strv (config, "valid_hypervisor_paths"), globs);
  g_assert_cmpstrv (hvk_config_get_strv (config, "virtio_fs_extra_args"), args);
  g_assert_false (hvk_config_has_key (config, "default_maxvcpus"));
  assert_params (hvk_config_get_kernel_params (config),
                 (const char *[]) { "console", "ttyS0", "quiet", "", "foo", "\"bar baz\"", NULL });

  devices = hvk_config_get_devices (config);
  g_assert_cmpuint (devices->len, ==, 3);
  device = g_ptr_array_index (devices, 0);
  g_assert_cmpstr (hvk_device_get_id (device), ==, "disk0");
  g_assert_cmpstr (hvk_device_get_kind_name (device), ==, "block");
  g_assert_cmpstr (hvk_device_get_string (device, "path"), ==, "/var/lib/hvkit/disk.img");
  g_assert_true (hvk_device_get_boolean (device, "readonly"));
  g_assert_cmpuint (hvk_device_get_uint (device, "index"), ==, 3);
  device = g_ptr_array_index (devices, 1);
  g_assert_cmpstr (hvk_device_get_id (device), ==, "net0");
  g_assert_cmpstrv (hvk_device_get_strv (device, "fds"), fds);
  device = g_ptr_array_index (devices, 2);
  g_assert_cmpstr (hvk_device_get_id (device), ==, "cons");
  g_assert_cmpstr (hvk_device_get_string (device, "backend"), ==, "pty");
  g_assert_true (hvk_config_lookup_device (config, "net0") == g_ptr_array_index (devices, 1));
  g_assert_null (hvk_config_lookup_device (config, "nope"));

  g_assert_true (hvk_config_validate (config, &error));
  g_assert_no_error (error);
}

static void
test_load_multi (void)
{
  g_autofree char *path = data_path ("multi.conf");
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(GError) error = NULL;

  config = hvk_config_new_from_file (path, hvk_registry_get_default (), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_config_get_backend (config), ==, "acrn");
  g_assert_cmpstr (hvk_config_get_group (config), ==, "hypervisor.acrn");
  g_assert_cmpstr (hvk_config_get_string (config, "path"), ==, "/usr/bin/acrn-dm");
  g_assert_cmpstr (hvk_config_get_string (config, "ctlpath"), ==, "/usr/bin/acrnctl");
  g_assert_cmpstr (hvk_config_get_string (config, "block_device_driver"), ==, "virtio-blk");
}

static void
test_load_unknown_backend (void)
{
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(GError) error = NULL;

  /* reported by the registry when creating the hypervisor, not here */
  config = load ("[hypervisor]\nbackend=nosuch\n[hypervisor.nosuch]\nkernel=/k\n", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_config_get_backend (config), ==, "nosuch");
  g_assert_cmpstr (hvk_config_get_string (config, "kernel"), ==, "/k");
}

static void
test_load_missing_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = hvk_config_new_from_file ("/nonexistent/dir/x.conf", hvk_registry_get_default (), &error);

  g_assert_null (config);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_assert_true (g_str_has_prefix (error->message, "/nonexistent/dir/x.conf: "));
}

static void
expect_file_refused (const char *path,
                     const char *fragment)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = hvk_config_new_from_file (path, hvk_registry_get_default (), &error);
  g_autofree char *prefix = g_strdup_printf ("%s: cannot read configuration: ", path);

  g_test_message ("%s", path);
  g_assert_null (config);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_assert_true (g_str_has_prefix (error->message, prefix));
  g_assert_nonnull (strstr (error->message, fragment));
}

/* Only regular files of at most HVK_CONFIG_MAX_FILE_SIZE bytes are read:
 * /dev/zero would be read forever, a FIFO with no writer would block. */
static void
test_load_not_regular (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hvk-config-XXXXXX", &error);
  g_autofree char *fifo = g_build_filename (dir, "fifo.conf", NULL);
  g_autofree char *big = g_build_filename (dir, "big.conf", NULL);
  g_autofree char *full = g_build_filename (dir, "full.conf", NULL);
  g_autoptr(HvkConfig) config = NULL;
  const char *body = "[hypervisor]\nbackend=qemu\n[hypervisor.qemu]\nkernel=/k\n";
  GString *text;

  g_assert_no_error (error);
  expect_file_refused ("/dev/zero", "a character device, not a regular file");
  expect_file_refused (dir, "a directory, not a regular file");
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  expect_file_refused (fifo, "a FIFO, not a regular file");

  /* exactly the cap: read; one byte more: refused before reading */
  text = g_string_new (body);
  while (text->len < HVK_CONFIG_MAX_FILE_SIZE)
    g_string_append (text, "# padding padding padding padding padding padding padding\n");
  g_string_truncate (text, HVK_CONFIG_MAX_FILE_SIZE - 1);
  g_string_append_c (text, '\n');
  g_assert_cmpuint (text->len, ==, HVK_CONFIG_MAX_FILE_SIZE);
  g_assert_true (g_file_set_contents (full, text->str, text->len, NULL));
  config = hvk_config_new_from_file (full, hvk_registry_get_default (), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_config_get_string (config, "kernel"), ==, "/k");
  g_string_append_c (text, '\n');
  g_assert_true (g_file_set_contents (big, text->str, text->len, NULL));
  expect_file_refused (big, "1048577 bytes, more than the limit of 1048576 bytes");
  g_string_free (text, TRUE);

  g_unlink (fifo);
  g_unlink (big);
  g_unlink (full);
  g_rmdir (dir);
}

#define ID_SYNTAX "expected [A-Za-z0-9][A-Za-z0-9_.-]*, at most 64 characters"
#define HV "[hypervisor]\nbackend=qemu\n"

static const struct {
  const char *data;
  const char *message;   /* exact, or a prefix when ending in `*` */
} load_errors[] = {
  { "[hypervisor.qemu]\nkernel=/k\n", "qemu.conf: [hypervisor]: missing group (it selects the backend)" },
  { "[hypervisor]\n", "qemu.conf: [hypervisor] backend: missing" },
  { "[hypervisor]\nbackend=\n", "qemu.conf: [hypervisor] backend: invalid value '' (expected a backend name)" },
  { HV "kernel=/k\n", "qemu.conf: [hypervisor] kernel: unknown key" },
  { HV "[hypervisor.qemu]\nfrobnicate=1\n", "qemu.conf: [hypervisor.qemu] frobnicate: unknown key" },
  { HV "[hypervisor.qemu]\ndefault_vcpus=abc\n",
    "qemu.conf: [hypervisor.qemu] default_vcpus: invalid value 'abc' (expected a number)" },
  { HV "[hypervisor.qemu]\ndefault_memory=-5\n",
    "qemu.conf: [hypervisor.qemu] default_memory: invalid value '-5' (expected an unsigned integer)" },
  { HV "[hypervisor.qemu]\nenable_debug=maybe\n",
    "qemu.conf: [hypervisor.qemu] enable_debug: invalid value 'maybe' (expected true or false)" },
  { HV "[hypervisor.qemu]\nkernel=/a\\qb\n", "qemu.conf: [hypervisor.qemu] kernel: *" },
  { HV "[network]\nx=1\n",
    "qemu.conf: [network]: unknown group (expected [hypervisor], [hypervisor.NAME] or [device.ID])" },
  { HV "[hypervisor.]\nx=1\n",
    "qemu.conf: [hypervisor.]: unknown group (expected [hypervisor], [hypervisor.NAME] or [device.ID])" },
  { HV "[device.disk0]\npath=/x\n", "qemu.conf: [device.disk0] kind: missing" },
  { HV "[device.disk0]\nkind=floppy\n", "qemu.conf: [device.disk0] kind: unknown device kind 'floppy'" },
  { HV "[device.disk0]\nkind=block\npath=/x\nfrob=1\n",
    "qemu.conf: [device.disk0] frob: unknown property for kind 'block'" },
  { HV "[device.disk0]\nkind=block\npath=/x\nreadonly=maybe\n",
    "qemu.conf: [device.disk0] readonly: invalid value 'maybe' (expected true or false)" },
  { HV "[device.disk0]\nkind=block\npath=/x\nindex=first\n",
    "qemu.conf: [device.disk0] index: invalid value 'first' (expected an unsigned integer)" },
  { HV "[device.disk0]\nkind=block\npath=/x\nid=disk1\n",
    "qemu.conf: [device.disk0] id: 'disk1' does not match the group's device id 'disk0'" },
  { HV "[device.disk0]\nkind=block\nformat=qcow2\n",
    "qemu.conf: [device.disk0] path: missing (required by kind 'block')" },
  { HV "[device.bad!]\nkind=block\npath=/x\n", "qemu.conf: [device.bad!]: invalid device id 'bad!' (" ID_SYNTAX ")" },
  { HV "[device.]\nkind=block\npath=/x\n", "qemu.conf: [device.]: invalid device id '' (" ID_SYNTAX ")" },
  { HV "[device.net0]\nkind=net\ntype=bridge\n",
    "qemu.conf: [device.net0] type: invalid value 'bridge' (expected tap, macvtap or vhost-user)" },
  { HV "[device.v]\nkind=vsock\ncid=3\nvhost_fd=x\n",
    "qemu.conf: [device.v] vhost_fd: invalid value 'x' (expected an integer)" },
  { "this is not a key file\n", "qemu.conf: *" },
  /* GKeyFile merges a group given twice: refused, naming the lines */
  { HV "[hypervisor.qemu]\nkernel=/k\n[device.disk0]\nkind=block\npath=/x\n"
    "[hypervisor.qemu]\nimage=/i\n",
    "qemu.conf: [hypervisor.qemu]: group given twice (lines 3 and 8)" },
  { HV "[device.disk0]\nkind=block\npath=/x\n\n  [device.disk0]  \r\nkind=block\npath=/y\n",
    "qemu.conf: [device.disk0]: group given twice (lines 3 and 7)" },
  { HV "[hypervisor]\nbackend=qemu\n", "qemu.conf: [hypervisor]: group given twice (lines 1 and 3)" },
  { HV "[hypervisor.acrn]\n[hypervisor.acrn]\n",
    "qemu.conf: [hypervisor.acrn]: group given twice (lines 3 and 4)" },
};

/* What is not a duplicate group: commented-out groups, one key in two
 * groups; a key given twice in one group is not refused (the last wins:
 * configs built by appending overrides rely on it). */
static void
test_load_no_duplicates (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkConfig) again = NULL;
  g_autofree char *data = NULL;

  config = load (HV "# [hypervisor]\n[hypervisor.qemu]\nkernel=/k\n#kernel=/old\n  # kernel=/older\n"
                 "image=/i\n# [hypervisor.qemu]\n[hypervisor.acrn]\nkernel=/acrn\n"
                 "[device.d0]\nkind=block\npath=/x\n[device.d1]\nkind=block\npath=/y\n",
                 &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_config_get_string (config, "kernel"), ==, "/k");
  g_clear_object (&config);

  config = load (HV "[hypervisor.qemu]\nkernel=/a\nimage=/i\nkernel=/b\n"
                 "[device.d0]\nkind=block\npath=/x\n[device.d1]\nkind=block\npath=/y\n", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_config_get_string (config, "kernel"), ==, "/b");
  g_assert_cmpuint (hvk_config_get_devices (config)->len, ==, 2);

  /* what hvk_config_to_data() writes (state files) loads back */
  data = hvk_config_to_data (config, NULL);
  again = hvk_config_new_from_data (data, -1, "state", hvk_registry_get_default (), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hvk_config_get_devices (again)->len, ==, 2);
}

static void
test_load_errors (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (load_errors); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HvkConfig) config = load (load_errors[i].data, &error);
      const char *expected = load_errors[i].message;

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, expected);
      g_assert_null (config);
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
      if (g_str_has_suffix (expected, "*"))
        {
          g_autofree char *prefix = g_strndup (expected, strlen (expected) - 1);

          g_assert_true (g_str_has_prefix (error->message, prefix));
          g_assert_cmpuint (strlen (error->message), >, strlen (prefix));
        }
      else
        g_assert_cmpstr (error->message, ==, expected);
    }
}

static void
test_load_source_names (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autofree char *path = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *contents = NULL;

  /* built without a file name: `<config>` */
  config = hvk_config_new_from_data ("[hypervisor]\n", -1, NULL, NULL, &error);
  g_assert_null (config);
  g_assert_cmpstr (error->message, ==, "<config>: [hypervisor] backend: missing");
  g_clear_error (&error);

  /* a file: its path as given */
  path = g_build_filename (g_get_tmp_dir (), "hvk-test-config-XXXXXX.conf", NULL);
  {
    int fd = g_mkstemp (path);

    g_assert_cmpint (fd, >=, 0);
    close (fd);
  }
  g_assert_true (g_file_set_contents (path, HV "[hypervisor.qemu]\nmemory_slots=x\n", -1, NULL));
  config = hvk_config_new_from_file (path, hvk_registry_get_default (), &error);
  g_assert_null (config);
  expected = g_strdup_printf ("%s: [hypervisor.qemu] memory_slots: invalid value 'x' (expected an unsigned integer)", path);
  g_assert_cmpstr (error->message, ==, expected);
  g_unlink (path);

  /* length is honoured */
  contents = g_strdup (HV "[hypervisor.qemu]\nkernel=/k\n" "garbage");
  g_clear_error (&error);
  config = hvk_config_new_from_data (contents, strlen (contents) - strlen ("garbage"), "x", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_config_get_string (config, "kernel"), ==, "/k");
  g_assert_cmpstr (hvk_config_get_source (config), ==, "x");
}

/* ---- persistence ---- */

static void
test_round_trip (void)
{
  g_autoptr(HvkConfig) config = qemu_config_new ();
  g_autoptr(HvkConfig) again = NULL;
  g_autoptr(HvkDevice) disk = NULL;
  g_autoptr(HvkDevice) net = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  g_autofree char *data2 = NULL;
  const char *list[] = { "a;b", "", " spaced ", "back\\slash", NULL };
  const char *fds[] = { "3", "4", NULL };
  gsize length;

  hvk_config_set_string (config, "kernel", "/k with spaces\nand newline");
  hvk_config_set_string (config, "machine_accelerators", " leading");
  hvk_config_set_double (config, "default_vcpus", 0.1);
  hvk_config_set_uint (config, "default_memory", G_MAXUINT64);
  hvk_config_set_boolean (config, "disable_guest_selinux", FALSE);
  hvk_config_set_strv (config, "valid_entropy_sources", list);
  hvk_config_set_strv (config, "virtio_fs_extra_args", (const char *[]) { NULL });
  g_assert_true (hvk_config_add_kernel_param (config, "console", "ttyS0", NULL));
  g_assert_true (hvk_config_add_kernel_param (config, "quiet", "", NULL));

  disk = hvk_device_new_from_string (NULL, "block,id=disk0,path=/a,,b,readonly=on,index=2", &error);
  g_assert_no_error (error);
  g_assert_true (hvk_config_add_device (config, disk, &error));
  net = hvk_device_new_from_string (NULL, "net,id=net0,fds=3:4", &error);
  g_assert_true (hvk_config_add_device (config, net, &error));

  data = hvk_config_to_data (config, &length);
  g_assert_cmpuint (strlen (data), ==, length);
  g_test_message ("%s", data);

  again = hvk_config_new_from_data (data, -1, "state.conf", hvk_registry_get_default (), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_config_get_backend (again), ==, "qemu");
  g_assert_cmpstr (hvk_config_get_string (again, "kernel"), ==, "/k with spaces\nand newline");
  g_assert_cmpstr (hvk_config_get_string (again, "machine_accelerators"), ==, " leading");
  g_assert_cmpfloat (hvk_config_get_double (again, "default_vcpus"), ==, 0.1);
  g_assert_cmpuint (hvk_config_get_uint (again, "default_memory"), ==, G_MAXUINT64);
  g_assert_false (hvk_config_get_boolean (again, "disable_guest_selinux"));
  g_assert_true (hvk_config_has_key (again, "disable_guest_selinux"));
  g_assert_cmpstrv (hvk_config_get_strv (again, "valid_entropy_sources"), list);
  g_assert_nonnull (hvk_config_get_strv (again, "virtio_fs_extra_args"));
  g_assert_null (hvk_config_get_strv (again, "virtio_fs_extra_args")[0]);
  g_assert_false (hvk_config_has_key (again, "machine_type"));
  assert_params (hvk_config_get_kernel_params (again),
                 (const char *[]) { "console", "ttyS0", "quiet", "", NULL });

  g_assert_cmpuint (hvk_config_get_devices (again)->len, ==, 2);
  {
    HvkDevice *d = hvk_config_lookup_device (again, "disk0");
    g_autofree char *s = hvk_device_to_string (d);

    g_assert_cmpstr (s, ==, "block,id=disk0,path=/a,,b,readonly=true,index=2");
    g_assert_cmpstrv (hvk_device_get_strv (hvk_config_lookup_device (again, "net0"), "fds"), fds);
  }

  /* a fixed point */
  data2 = hvk_config_to_data (again, NULL);
  g_assert_cmpstr (data, ==, data2);
}

static void
test_round_trip_file (void)
{
  g_autofree char *path = data_path ("qemu.conf");
  g_autoptr(HvkConfig) config = hvk_config_new_from_file (path, hvk_registry_get_default (), NULL);
  g_autoptr(HvkConfig) again = NULL;
  g_autofree char *data = NULL;
  g_autofree char *data2 = NULL;

  g_assert_nonnull (config);
  data = hvk_config_to_data (config, NULL);
  g_assert_true (g_str_has_prefix (data, "[hypervisor]\nbackend=qemu\n\n[hypervisor.qemu]\npath=/usr/bin/qemu-system-x86_64\n"));
  again = hvk_config_new_from_data (data, -1, NULL, hvk_registry_get_default (), NULL);
  g_assert_nonnull (again);
  data2 = hvk_config_to_data (again, NULL);
  g_assert_cmpstr (data, ==, data2);
  g_assert_cmpuint (hvk_config_get_devices (again)->len, ==, 3);
  g_assert_cmpstr (hvk_config_get_string (again, "kernel_params"), ==,
                   hvk_config_get_string (config, "kernel_params"));
}

/* ---- validation (§1.8) ---- */

typedef struct {
  const char *name;
  const char *kernel, *image, *initrd, *path;
  gboolean    to_be, from;
  const char *memory_path, *devices_state_path;
  const char *message;   /* NULL: valid */
} KataCase;

static const KataCase kata_cases[] = {
  { "VC1", NULL, "/image", NULL, "/hv", FALSE, FALSE, NULL, NULL,
    "<config>: [hypervisor.qemu] kernel: Missing kernel path" },
  { "VC1-empty", "", "/image", NULL, "/hv", FALSE, FALSE, NULL, NULL,
    "<config>: [hypervisor.qemu] kernel: Missing kernel path" },
  { "VC2", "/kernel", NULL, NULL, "/hv", FALSE, FALSE, NULL, NULL,
    "<config>: [hypervisor.qemu] image: Missing image and initrd path" },
  { "VC3", "/kernel", "/image", NULL, NULL, FALSE, FALSE, NULL, NULL, NULL },
  { "VC4", "/kernel", "/image", NULL, "/hv", FALSE, FALSE, NULL, NULL, NULL },
  { "VC4-initrd", "/kernel", NULL, "/initrd", "/hv", FALSE, FALSE, NULL, NULL, NULL },
  { "VC5", "/kernel", "/image", "/initrd", NULL, FALSE, FALSE, NULL, NULL,
    "<config>: [hypervisor.qemu] initrd: Image and initrd path cannot be both set" },
  { "VC8", "/kernel", "/image", NULL, NULL, TRUE, TRUE, "foobar", "foobar",
    "<config>: [hypervisor.qemu] boot_from_template: Cannot set both 'to be' and 'from' vm tempate" },
  { "VC9", "/kernel", "/image", NULL, NULL, FALSE, TRUE, NULL, NULL,
    "<config>: [hypervisor.qemu] memory_path: Missing MemoryPath for vm template" },
  { "VC10", "/kernel", "/image", NULL, NULL, FALSE, TRUE, "foobar", NULL,
    "<config>: [hypervisor.qemu] devices_state_path: Missing DevicesStatePath to Load from vm template" },
  { "VC11", "/kernel", "/image", NULL, NULL, FALSE, TRUE, "foobar", "foobar", NULL },
  { "VC12", "/kernel", "/image", NULL, NULL, TRUE, FALSE, "foobar", NULL, NULL },
  { "VC13", "/kernel", "/image", NULL, NULL, TRUE, FALSE, NULL, NULL,
    "<config>: [hypervisor.qemu] memory_path: Missing MemoryPath for vm template" },
};

static void
test_validate_kata (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (kata_cases); i++)
    {
      const KataCase *c = &kata_cases[i];
      g_autoptr(HvkConfig) config = qemu_config_new ();
      g_autoptr(GError) error = NULL;
      gboolean template_ok;

      g_test_message ("%s", c->name);
      hvk_config_set_string (config, "kernel", c->kernel);
      hvk_config_set_string (config, "image", c->image);
      hvk_config_set_string (config, "initrd", c->initrd);
      hvk_config_set_string (config, "path", c->path);
      hvk_config_set_boolean (config, "boot_to_be_template", c->to_be);
      hvk_config_set_boolean (config, "boot_from_template", c->from);
      hvk_config_set_string (config, "memory_path", c->memory_path);
      hvk_config_set_string (config, "devices_state_path", c->devices_state_path);

      if (c->message == NULL)
        {
          g_assert_true (hvk_config_validate (config, &error));
          g_assert_no_error (error);
        }
      else
        {
          g_assert_false (hvk_config_validate (config, &error));
          g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
          g_assert_cmpstr (error->message, ==, c->message);
        }

      /* the template check alone agrees with validation for VC8–VC13 */
      g_clear_error (&error);
      template_ok = hvk_config_check_template (config, &error);
      if (c->message != NULL && strstr (c->message, "template") != NULL)
        {
          g_assert_false (template_ok);
          g_assert_cmpstr (error->message, ==, c->message);
        }
      else
        g_assert_true (template_ok);
    }
}

/* TestHypervisorConfigDefaults */
static void
test_validate_defaults (void)
{
  g_autoptr(HvkConfig) config = bootable_config ();
  g_autoptr(GError) error = NULL;
  guint host = g_get_num_processors ();

  hvk_config_set_boolean (config, "disable_guest_selinux", TRUE);
  g_assert_true (hvk_config_validate (config, &error));
  g_assert_no_error (error);

  g_assert_cmpfloat (hvk_config_get_double (config, "default_vcpus"), ==, 1.0);
  g_assert_cmpuint (hvk_config_get_uint (config, "default_memory"), ==, 2048);
  g_assert_cmpuint (hvk_config_get_uint (config, "default_bridges"), ==, 1);
  g_assert_cmpstr (hvk_config_get_string (config, "block_device_driver"), ==, "virtio-scsi");
  g_assert_cmpuint (hvk_config_get_uint (config, "default_maxvcpus"), ==, MIN (host, 240));
  g_assert_true (hvk_config_has_key (config, "default_maxvcpus"));
  g_assert_cmpuint (hvk_config_get_uint (config, "msize_9p"), ==, 8192);
  g_assert_cmpuint (hvk_config_get_uint (config, "default_maxmemory"), ==, host_mib ());
  /* unchanged values are not written back */
  g_assert_false (hvk_config_has_key (config, "default_vcpus"));
  g_assert_false (hvk_config_has_key (config, "block_device_driver"));
  g_assert_cmpstr (hvk_config_get_string (config, "kernel"), ==, "/boot/vmlinuz");
}

static void
test_validate_vcpus (void)
{
  guint host = g_get_num_processors ();
  const struct { double in; double out; } vcpus[] = {
    { 0, 1 }, { -1, host }, { -0.5, host }, { host + 1, host }, { 1, 1 }, { 0.5, 0.5 }, { host, host },
  };
  const struct { guint64 in; guint64 out; } maxvcpus[] = {
    { 0, MIN (host, 240) }, { host + 1, MIN (host, 240) }, { 1000, MIN (host, 240) }, { host, host }, { 1, 1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (vcpus); i++)
    {
      g_autoptr(HvkConfig) config = bootable_config ();
      g_autoptr(GError) error = NULL;

      hvk_config_set_double (config, "default_vcpus", vcpus[i].in);
      g_assert_true (hvk_config_validate (config, &error));
      g_assert_no_error (error);
      g_assert_cmpfloat (hvk_config_get_double (config, "default_vcpus"), ==, vcpus[i].out);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (maxvcpus); i++)
    {
      g_autoptr(HvkConfig) config = bootable_config ();
      g_autoptr(GError) error = NULL;

      hvk_config_set_uint (config, "default_maxvcpus", maxvcpus[i].in);
      g_assert_true (hvk_config_validate (config, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (hvk_config_get_uint (config, "default_maxvcpus"), ==, maxvcpus[i].out);
    }

  if (host < 2)
    {
      g_test_skip ("needs two host CPUs for default_maxvcpus < default_vcpus");
      return;
    }
  {
    g_autoptr(HvkConfig) config = bootable_config ();
    g_autoptr(GError) error = NULL;

    hvk_config_set_double (config, "default_vcpus", 1.5);
    hvk_config_set_uint (config, "default_maxvcpus", 1);
    g_assert_false (hvk_config_validate (config, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
    g_assert_cmpstr (error->message, ==,
                     "<config>: [hypervisor.qemu] default_maxvcpus: 1 is less than default_vcpus (2)");
    /* nothing written back on failure */
    g_assert_cmpfloat (hvk_config_get_double (config, "default_vcpus"), ==, 1.5);
    g_assert_false (hvk_config_has_key (config, "default_memory"));
  }
}

static void
test_validate_memory_bridges (void)
{
  const struct { const char *key; guint64 in; guint64 out; } cases[] = {
    { "default_memory", 0, 2048 },
    { "default_memory", 256, 256 },
    { "default_maxmemory", 0, host_mib () },
    { "default_maxmemory", host_mib () + 1, host_mib () },
    { "default_maxmemory", 2048, 2048 },
    { "default_bridges", 0, 1 },
    { "default_bridges", 3, 3 },
    { "default_bridges", 5, 5 },
    { "default_bridges", 9, 5 },
    { "msize_9p", 0, 8192 },
    { "msize_9p", 4096, 4096 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(HvkConfig) config = bootable_config ();
      g_autoptr(GError) error = NULL;

      /* Every backend refuses msize_9p: Kata's rule is checked on a
       * configuration that no backend reads. */
      if (g_str_equal (cases[i].key, "msize_9p"))
        hvk_config_set_registry (config, NULL);

      g_test_message ("%s=%" G_GUINT64_FORMAT, cases[i].key, cases[i].in);
      hvk_config_set_uint (config, cases[i].key, cases[i].in);
      g_assert_true (hvk_config_validate (config, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (hvk_config_get_uint (config, cases[i].key), ==, cases[i].out);
    }
}

static void
expect_memory_refused (guint64     memory,
                       guint64     maxmemory,
                       const char *message)
{
  g_autoptr(HvkConfig) config = bootable_config ();
  g_autoptr(GError) error = NULL;

  if (memory > 0)
    hvk_config_set_uint (config, "default_memory", memory);
  if (maxmemory > 0)
    hvk_config_set_uint (config, "default_maxmemory", maxmemory);
  g_test_message ("%s", message);
  g_assert_false (hvk_config_validate (config, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_assert_cmpstr (error->message, ==, message);
  /* nothing written back */
  g_assert_cmpuint (hvk_config_get_uint (config, "default_memory"), ==, memory ? memory : 2048);
  g_assert_cmpuint (hvk_config_get_uint (config, "default_maxmemory"), ==, maxmemory);
}

static guint64
validated_uint (guint64     memory,
                guint64     maxmemory,
                const char *key)
{
  g_autoptr(HvkConfig) config = bootable_config ();
  g_autoptr(GError) error = NULL;

  hvk_config_set_uint (config, "default_memory", memory);
  hvk_config_set_uint (config, "default_maxmemory", maxmemory);
  g_assert_true (hvk_config_validate (config, &error));
  g_assert_no_error (error);
  return hvk_config_get_uint (config, key);
}

/* default_memory the host cannot give, or above default_maxmemory, used
 * to pass validation and fail only when QEMU started; default_maxmemory
 * above the host still means the host's memory (Kata). */
static void
test_validate_memory_limits (void)
{
  g_autofree char *absurd = NULL;

  /* whatever this host has */
  absurd = g_strdup_printf ("<config>: [hypervisor.qemu] default_memory: 99999999999 MiB is more "
                            "than the host's memory (%" G_GUINT64_FORMAT " MiB)", host_mib ());
  expect_memory_refused (99999999999, 0, absurd);

  g_setenv ("HVKIT_TEST_HOST_MEMORY_MB", "8192", TRUE);
  expect_memory_refused (8193, 0, "<config>: [hypervisor.qemu] default_memory: 8193 MiB is more "
                         "than the host's memory (8192 MiB)");
  expect_memory_refused (8193, 99999, "<config>: [hypervisor.qemu] default_memory: 8193 MiB is "
                         "more than the host's memory (8192 MiB)");
  expect_memory_refused (4096, 1024, "<config>: [hypervisor.qemu] default_memory: 4096 MiB is "
                         "more than default_maxmemory (1024 MiB)");
  expect_memory_refused (0, 1024, "<config>: [hypervisor.qemu] default_memory: 2048 MiB (the "
                         "default) is more than default_maxmemory (1024 MiB)");
  g_assert_cmpuint (validated_uint (8192, 0, "default_memory"), ==, 8192);
  g_assert_cmpuint (validated_uint (8192, 0, "default_maxmemory"), ==, 8192);
  g_assert_cmpuint (validated_uint (1024, 99999, "default_maxmemory"), ==, 8192);
  g_assert_cmpuint (validated_uint (1024, 1024, "default_maxmemory"), ==, 1024);

  g_setenv ("HVKIT_TEST_HOST_MEMORY_MB", "1024", TRUE);
  expect_memory_refused (0, 0, "<config>: [hypervisor.qemu] default_memory: 2048 MiB (the "
                         "default) is more than the host's memory (1024 MiB)");

  /* a host larger than backends can count */
  g_setenv ("HVKIT_TEST_HOST_MEMORY_MB", "8589934592", TRUE);
  expect_memory_refused (4294967296, 0, "<config>: [hypervisor.qemu] default_memory: 4294967296 "
                         "MiB is more than the backends' limit of 4294967295 MiB");
  g_assert_cmpuint (validated_uint (4294967295, 0, "default_maxmemory"), ==, 4294967295);

  g_unsetenv ("HVKIT_TEST_HOST_MEMORY_MB");
}

static void
test_validate_msize (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) fs = bootable_config ();
  g_autoptr(HvkConfig) p9 = bootable_config ();

  /* Kata's rule, on configurations no backend reads (every backend
   * refuses msize_9p): defaulted only when shared_fs is not virtio-fs. */
  hvk_config_set_registry (fs, NULL);
  hvk_config_set_registry (p9, NULL);
  hvk_config_set_string (fs, "shared_fs", "virtio-fs");
  hvk_config_set_uint (fs, "msize_9p", 0);
  g_assert_true (hvk_config_validate (fs, &error));
  g_assert_cmpuint (hvk_config_get_uint (fs, "msize_9p"), ==, 0);

  hvk_config_set_string (p9, "shared_fs", "virtio-9p");
  hvk_config_set_uint (p9, "msize_9p", 0);
  g_assert_true (hvk_config_validate (p9, &error));
  g_assert_cmpuint (hvk_config_get_uint (p9, "msize_9p"), ==, 8192);
}

static const struct {
  const char *key;
  const char *good[6];
  const char *expected;
} enum_cases[] = {
  { "block_device_driver", { "virtio-scsi", "virtio-blk", "nvdimm", "virtio-mmio", "virtio-blk-ccw" },
    "virtio-scsi, virtio-blk, nvdimm, virtio-mmio or virtio-blk-ccw" },
  { "shared_fs", { "virtio-fs", "virtio-9p", "virtio-fs-nydus", "none" },
    "virtio-fs, virtio-9p, virtio-fs-nydus or none" },
  { "rootfs_type", { "ext4", "xfs", "erofs" }, "ext4, xfs or erofs" },
  { "block_device_aio", { "threads", "native", "io_uring" }, "threads, native or io_uring" },
  { "virtio_fs_cache", { "never", "auto", "always", "metadata" }, "never, auto, always or metadata" },
};

static void
test_validate_enums (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (enum_cases); i++)
    {
      const char *key = enum_cases[i].key;

      for (gsize k = 0; enum_cases[i].good[k] != NULL; k++)
        {
          g_autoptr(HvkConfig) config = bootable_config ();
          g_autoptr(GError) error = NULL;

          hvk_config_set_string (config, key, enum_cases[i].good[k]);
          g_assert_true (hvk_config_validate (config, &error));
          g_assert_no_error (error);
          g_assert_cmpstr (hvk_config_get_string (config, key), ==, enum_cases[i].good[k]);
        }

      {
        g_autoptr(HvkConfig) config = bootable_config ();
        g_autoptr(GError) error = NULL;
        g_autofree char *expected = NULL;

        hvk_config_set_string (config, key, "bogus");
        g_assert_false (hvk_config_validate (config, &error));
        g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
        expected = g_strdup_printf ("<config>: [hypervisor.qemu] %s: invalid value 'bogus' (expected %s)",
                                    key, enum_cases[i].expected);
        g_assert_cmpstr (error->message, ==, expected);
      }

      /* empty means the default, written back */
      {
        g_autoptr(HvkConfig) config = bootable_config ();
        const HvkConfigKey *k = hvk_config_lookup_key (config, key);

        hvk_config_set_string (config, key, "");
        g_assert_true (hvk_config_validate (config, NULL));
        g_assert_cmpstr (hvk_config_get_string (config, key), ==, k->default_value);
      }
    }
}

static const struct {
  const char *path_key;
  const char *list_key;
} allow_pairs[] = {
  { "path", "valid_hypervisor_paths" },
  { "ctlpath", "valid_ctlpaths" },
  { "jailer_path", "valid_jailer_paths" },
  { "virtio_fs_daemon", "valid_virtio_fs_daemon_paths" },
  { "entropy_source", "valid_entropy_sources" },
  { "file_mem_backend", "valid_file_mem_backends" },
};

static void
test_validate_allow_lists (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (allow_pairs); i++)
    {
      const char *path_key = allow_pairs[i].path_key;
      const char *list_key = allow_pairs[i].list_key;
      const char *globs[] = { "/usr/bin/*", "/opt/exact", NULL };
      g_autoptr(HvkConfig) config = bootable_config ();
      g_autoptr(GError) error = NULL;
      g_autofree char *expected = NULL;

      g_test_message ("%s / %s", path_key, list_key);
      /* The core's allow-lists, on a configuration no backend reads (qemu
       * refuses ctlpath before its list matters). */
      hvk_config_set_registry (config, NULL);

      /* an empty list allows anything */
      hvk_config_set_string (config, path_key, "/x");
      hvk_config_set_strv (config, list_key, (const char *[]) { NULL });
      g_assert_true (hvk_config_check_allowed_path (config, path_key, list_key, &error));
      g_assert_no_error (error);

      hvk_config_set_strv (config, list_key, globs);
      g_assert_false (hvk_config_check_allowed_path (config, path_key, list_key, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
      expected = g_strdup_printf ("<config>: [hypervisor.qemu] %s: '/x' is not in %s", path_key, list_key);
      g_assert_cmpstr (error->message, ==, expected);
      g_clear_error (&error);
      g_assert_false (hvk_config_validate (config, &error));
      g_assert_cmpstr (error->message, ==, expected);
      g_clear_error (&error);

      hvk_config_set_string (config, path_key, "/usr/bin/thing");
      g_assert_true (hvk_config_check_allowed_path (config, path_key, list_key, &error));
      g_assert_true (hvk_config_validate (config, &error));
      hvk_config_set_string (config, path_key, "/opt/exact");
      g_assert_true (hvk_config_check_allowed_path (config, path_key, list_key, &error));
      hvk_config_set_string (config, path_key, "/opt/exact2");
      g_assert_false (hvk_config_check_allowed_path (config, path_key, list_key, &error));
      g_clear_error (&error);

      /* an unset (or empty) path is not checked */
      hvk_config_set_string (config, path_key, "");
      g_assert_true (hvk_config_check_allowed_path (config, path_key, list_key, &error));
      g_assert_no_error (error);
    }

  /* a custom asset is what gets checked */
  {
    g_autoptr(HvkConfig) config = bootable_config ();
    g_autoptr(GError) error = NULL;

    hvk_config_set_string (config, "path", "/usr/bin/qemu-system-x86_64");
    hvk_config_set_strv (config, "valid_hypervisor_paths", (const char *[]) { "/usr/bin/qemu-*", NULL });
    g_assert_true (hvk_config_validate (config, &error));
    g_assert_true (hvk_config_add_custom_asset (config, HVK_ASSET_HYPERVISOR, "/tmp/evil", &error));
    g_assert_false (hvk_config_validate (config, &error));
    g_assert_cmpstr (error->message, ==,
                     "<config>: [hypervisor.qemu] path: '/tmp/evil' is not in valid_hypervisor_paths");
  }

  /* the default entropy source is checked too (Kata's allow-list) */
  {
    g_autoptr(HvkConfig) config = bootable_config ();
    g_autoptr(GError) error = NULL;

    hvk_config_set_strv (config, "valid_entropy_sources", (const char *[]) { "/dev/random", NULL });
    g_assert_false (hvk_config_validate (config, &error));
    g_assert_cmpstr (error->message, ==,
                     "<config>: [hypervisor.qemu] entropy_source: '/dev/urandom' is not in valid_entropy_sources");
  }
}

static void
test_validate_file_names (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = NULL;

  config = load (HV "[hypervisor.qemu]\nkernel=/k\nimage=/i\npath=/x\nvalid_hypervisor_paths=/usr/bin/*\n", &error);
  g_assert_no_error (error);
  g_assert_false (hvk_config_validate (config, &error));
  g_assert_cmpstr (error->message, ==, "qemu.conf: [hypervisor.qemu] path: '/x' is not in valid_hypervisor_paths");
  g_clear_error (&error);
  g_clear_object (&config);

  config = load (HV "[hypervisor.qemu]\nimage=/i\n", &error);
  g_assert_false (hvk_config_validate (config, &error));
  g_assert_cmpstr (error->message, ==, "qemu.conf: [hypervisor.qemu] kernel: Missing kernel path");
}

/* ---- assets (§1.9, §1.10) ---- */

static const struct {
  HvkAssetType type;
  const char  *name;
  const char  *key;
  const char  *annotation;
} assets[] = {
  { HVK_ASSET_KERNEL, "kernel", "kernel", "io.katacontainers.config.hypervisor.kernel" },
  { HVK_ASSET_IMAGE, "image", "image", "io.katacontainers.config.hypervisor.image" },
  { HVK_ASSET_INITRD, "initrd", "initrd", "io.katacontainers.config.hypervisor.initrd" },
  { HVK_ASSET_HYPERVISOR, "hypervisor", "path", "io.katacontainers.config.hypervisor.path" },
  { HVK_ASSET_HYPERVISOR_CTL, "hypervisorctl", "ctlpath", "io.katacontainers.config.hypervisor.ctlpath" },
  { HVK_ASSET_JAILER, "jailer", "jailer_path", "io.katacontainers.config.hypervisor.jailer_path" },
  { HVK_ASSET_FIRMWARE, "firmware", "firmware", "io.katacontainers.config.hypervisor.firmware" },
  { HVK_ASSET_FIRMWARE_VOLUME, "firmware_volume", "firmware_volume",
    "io.katacontainers.config.hypervisor.firmware_volume" },
};

static void
test_asset_paths (void)
{
  g_autoptr(HvkConfig) config = qemu_config_new ();

  for (gsize i = 0; i < G_N_ELEMENTS (assets); i++)
    {
      g_autofree char *value = g_strconcat ("/", assets[i].annotation, NULL);

      g_assert_cmpstr (hvk_asset_type_to_string (assets[i].type), ==, assets[i].name);
      g_assert_cmpstr (hvk_asset_type_to_key (assets[i].type), ==, assets[i].key);
      g_assert_null (hvk_config_get_asset_path (config, assets[i].type));
      hvk_config_set_string (config, assets[i].key, value);
    }

  /* TestAssetPath: each asset reads its own key */
  for (gsize i = 0; i < G_N_ELEMENTS (assets); i++)
    {
      g_autofree char *expected = g_strconcat ("/", assets[i].annotation, NULL);

      g_assert_cmpstr (hvk_config_get_asset_path (config, assets[i].type), ==, expected);
      g_assert_false (hvk_config_is_custom_asset (config, assets[i].type));
    }

  /* custom assets take precedence, one type at a time */
  for (gsize i = 0; i < G_N_ELEMENTS (assets); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *custom = g_strconcat ("/custom/", assets[i].name, NULL);

      g_assert_true (hvk_config_add_custom_asset (config, assets[i].type, custom, &error));
      g_assert_no_error (error);
      g_assert_true (hvk_config_is_custom_asset (config, assets[i].type));
      g_assert_cmpstr (hvk_config_get_asset_path (config, assets[i].type), ==, custom);
      if (i + 1 < G_N_ELEMENTS (assets))
        g_assert_false (hvk_config_is_custom_asset (config, assets[i + 1].type));
    }
}

static void
test_custom_assets (void)
{
  g_autoptr(HvkConfig) config = qemu_config_new ();

  for (gsize i = 0; i < G_N_ELEMENTS (assets); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *expected = g_strdup_printf ("Invalid %s at foo", assets[i].name);

      /* nothing given: the configured one is used */
      g_assert_true (hvk_config_add_custom_asset (config, assets[i].type, NULL, &error));
      g_assert_true (hvk_config_add_custom_asset (config, assets[i].type, "", &error));
      g_assert_no_error (error);
      g_assert_false (hvk_config_is_custom_asset (config, assets[i].type));

      g_assert_false (hvk_config_add_custom_asset (config, assets[i].type, "foo", &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, expected);
      g_assert_false (hvk_config_is_custom_asset (config, assets[i].type));
    }
}

typedef struct {
  const char  *name;
  const char  *custom_image, *custom_initrd, *image, *initrd;
  const char  *path;
  HvkAssetType type;
  const char  *message;
} ImageCase;

static const ImageCase image_cases[] = {
  { "custom both", "/ci", "/cn", NULL, NULL, NULL, 0,
    "conflicting annotations: cannot set both image and initrd at the same time" },
  { "custom both, config image", "/ci", "/cn", "/i", NULL, NULL, 0,
    "conflicting annotations: cannot set both image and initrd at the same time" },
  { "custom image wins", "/ci", NULL, NULL, "/n", "/ci", HVK_ASSET_IMAGE, NULL },
  { "custom initrd wins", NULL, "/cn", "/i", NULL, "/cn", HVK_ASSET_INITRD, NULL },
  { "custom image over both configured", "/ci", NULL, "/i", "/n", "/ci", HVK_ASSET_IMAGE, NULL },
  { "config both", NULL, NULL, "/i", "/n", NULL, 0, "cannot set both image and initrd at the same time" },
  { "config image", NULL, NULL, "/i", NULL, "/i", HVK_ASSET_IMAGE, NULL },
  { "config initrd", NULL, NULL, NULL, "/n", "/n", HVK_ASSET_INITRD, NULL },
  { "config initrd, empty image", NULL, NULL, "", "/n", "/n", HVK_ASSET_INITRD, NULL },
  { "neither", NULL, NULL, NULL, NULL, NULL, 0, "one of image and initrd must be set" },
};

static void
test_image_or_initrd (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (image_cases); i++)
    {
      const ImageCase *c = &image_cases[i];
      g_autoptr(HvkConfig) config = qemu_config_new ();
      g_autoptr(GError) error = NULL;
      const char *path = "untouched";
      HvkAssetType type = HVK_ASSET_FIRMWARE;

      g_test_message ("%s", c->name);
      g_assert_true (hvk_config_add_custom_asset (config, HVK_ASSET_IMAGE, c->custom_image, NULL));
      g_assert_true (hvk_config_add_custom_asset (config, HVK_ASSET_INITRD, c->custom_initrd, NULL));
      hvk_config_set_string (config, "image", c->image);
      hvk_config_set_string (config, "initrd", c->initrd);

      if (c->message == NULL)
        {
          g_assert_true (hvk_config_image_or_initrd_path (config, &path, &type, &error));
          g_assert_no_error (error);
          g_assert_cmpstr (path, ==, c->path);
          g_assert_cmpint (type, ==, c->type);
        }
      else
        {
          g_assert_false (hvk_config_image_or_initrd_path (config, &path, &type, &error));
          g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
          g_assert_cmpstr (error->message, ==, c->message);
          g_assert_cmpstr (path, ==, "untouched");
        }
    }
}

/* ---- devices ---- */

static void
test_devices (void)
{
  g_autoptr(HvkConfig) config = qemu_config_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) a = hvk_device_new_from_string (NULL, "block,id=d1,path=/a", NULL);
  g_autoptr(HvkDevice) b = hvk_device_new_from_string (NULL, "block,id=d1,path=/b", NULL);
  g_autoptr(HvkDevice) c = hvk_device_new_from_string (NULL, "vsock,id=v,cid=3", NULL);
  g_autoptr(HvkDevice) incomplete = hvk_device_new (hvk_device_get_kind (a), "d2");

  g_assert_true (hvk_config_add_device (config, a, &error));
  g_assert_false (hvk_config_add_device (config, b, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "device 'd1': id already used in <config>");
  g_clear_error (&error);

  g_assert_false (hvk_config_add_device (config, incomplete, &error));
  g_assert_cmpstr (error->message, ==, "device 'd2' (block): missing required property 'path'");
  g_clear_error (&error);

  g_assert_true (hvk_config_add_device (config, c, &error));
  g_assert_cmpuint (hvk_config_get_devices (config)->len, ==, 2);
  g_assert_true (hvk_config_lookup_device (config, "d1") == a);
  g_assert_true (hvk_config_lookup_device (config, "v") == c);
}

/* ---- with a registry ---- */

/* Paths in a config are made absolute against the current directory of
 * the process that loads it (as a shell user expects; QEMU runs with /
 * as its current directory, and checks ran against ours), before
 * anything checks or stores them. */
static void
test_relative_paths (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *old_cwd = g_get_current_dir ();
  g_autofree char *tmp = g_dir_make_tmp ("hvk-config-XXXXXX", &error);
  g_autofree char *cwd = NULL;
  g_autofree char *kernel = NULL;
  g_autofree char *initrd = NULL;
  g_autofree char *qemu = NULL;
  g_autofree char *flash = NULL;
  g_autofree char *disk = NULL;
  g_autofree char *k2 = NULL;
  g_autofree char *globs = NULL;
  g_autofree char *text = NULL;
  g_autofree char *data = NULL;
  g_autofree char *shown = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkConfig) again = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (g_chdir (tmp), ==, 0);
  cwd = g_get_current_dir ();
  kernel = g_build_filename (cwd, "relative", "vmlinuz", NULL);
  initrd = g_build_filename (cwd, "initrd.img", NULL);
  qemu = g_build_filename (cwd, "bin", "qemu", NULL);
  flash = g_build_filename (cwd, "a.fd", NULL);
  disk = g_build_filename (cwd, "disk.img", NULL);
  k2 = g_build_filename (cwd, "k2", NULL);
  globs = g_strdup_printf ("%s/bin/*", cwd);

  text = g_strdup_printf (HV "[hypervisor.qemu]\nkernel=relative/vmlinuz\ninitrd=./initrd.img\n"
                          "path=bin/qemu\nvalid_hypervisor_paths=%s\nfirmware=\n"
                          "pflashes=a.fd;/b.fd\nmachine_type=q35\n"
                          "[device.d0]\nkind=block\npath=disk.img\n", globs);
  config = load (text, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chdir ("/"), ==, 0);

  g_assert_cmpstr (hvk_config_get_string (config, "kernel"), ==, kernel);
  g_assert_cmpstr (hvk_config_get_asset_path (config, HVK_ASSET_KERNEL), ==, kernel);
  g_assert_cmpstr (hvk_config_get_string (config, "initrd"), ==, initrd);
  g_assert_cmpstr (hvk_config_get_string (config, "path"), ==, qemu);
  g_assert_cmpstr (hvk_config_get_string (config, "firmware"), ==, "");
  g_assert_cmpstrv (hvk_config_get_strv (config, "pflashes"),
                    ((const char * const[]) { flash, "/b.fd", NULL }));
  g_assert_cmpstrv (hvk_config_get_strv (config, "valid_hypervisor_paths"),
                    ((const char * const[]) { globs, NULL }));
  g_assert_cmpstr (hvk_config_get_string (config, "machine_type"), ==, "q35");
  g_assert_cmpstr (hvk_device_get_string (hvk_config_lookup_device (config, "d0"), "path"), ==, disk);
  shown = hvk_config_dup_value_string (config, "kernel");
  g_assert_cmpstr (shown, ==, kernel);
  /* the allow-list sees the absolute path */
  g_assert_true (hvk_config_validate (config, &error));
  g_assert_no_error (error);

  /* what goes to a state file is absolute: it loads the same anywhere */
  data = hvk_config_to_data (config, NULL);
  again = hvk_config_new_from_data (data, -1, "state", hvk_registry_get_default (), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_config_get_string (again, "kernel"), ==, kernel);
  g_assert_cmpstr (hvk_device_get_string (hvk_config_lookup_device (again, "d0"), "path"), ==, disk);

  /* set in code or from a string: the same */
  g_assert_cmpint (g_chdir (cwd), ==, 0);
  g_assert_true (hvk_config_set_from_string (again, "kernel", "k2", &error));
  g_assert_cmpstr (hvk_config_get_string (again, "kernel"), ==, k2);
  hvk_config_set_string (again, "initrd", "initrd.img");
  g_assert_cmpstr (hvk_config_get_string (again, "initrd"), ==, initrd);
  hvk_config_set_string (again, "machine_accelerators", "accel=tcg");
  g_assert_cmpstr (hvk_config_get_string (again, "machine_accelerators"), ==, "accel=tcg");

  g_assert_cmpint (g_chdir (old_cwd), ==, 0);
  g_rmdir (tmp);
}

static void
test_registry (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *plugin = g_test_build_filename (G_TEST_BUILT, "plugins", "zoo", "good",
                                                   "libhvktest-good.so", NULL);

  /* a registry without plugins: standard kinds, core keys only */
  config = hvk_config_new_from_data (HV "[hypervisor.qemu]\nkernel=/k\n"
                                     "[device.disk0]\nkind=block\npath=/x\n",
                                     -1, "qemu.conf", registry, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_config_get_registry (config) == registry);
  g_assert_cmpuint (hvk_config_get_devices (config)->len, ==, 1);
  g_clear_object (&config);

  config = hvk_config_new_from_data ("[hypervisor]\nbackend=testbe\n[hypervisor.testbe]\nwidget_mode=slow\n",
                                     -1, "t.conf", registry, &error);
  g_assert_null (config);
  g_assert_cmpstr (error->message, ==, "t.conf: [hypervisor.testbe] widget_mode: unknown key");
  g_clear_error (&error);

  if (!g_file_test (plugin, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("test plugin 'good' not built");
      return;
    }
  g_assert_nonnull (hvk_registry_load_plugin (registry, plugin, &error));
  g_assert_no_error (error);

  /* the backend's own keys */
  config = hvk_config_new_from_data ("[hypervisor]\nbackend=testbe\n[hypervisor.testbe]\nwidget_mode=slow\n"
                                     "[device.w]\nkind=test-widget\n",
                                     -1, "t.conf", registry, &error);
  g_assert_no_error (error);
  g_assert_nonnull (hvk_config_lookup_key (config, "widget_mode"));
  g_assert_cmpstr (hvk_config_get_string (config, "widget_mode"), ==, "slow");
  hvk_config_set_string (config, "widget_mode", NULL);
  g_assert_cmpstr (hvk_config_get_string (config, "widget_mode"), ==, "fast");
  g_assert_cmpstr (hvk_device_get_kind_name (hvk_config_lookup_device (config, "w")), ==, "test-widget");
  g_clear_object (&config);

  /* only for that backend: refused, naming the backend that has it */
  config = hvk_config_new_from_data (HV "[hypervisor.qemu]\nwidget_mode=slow\n", -1, "q.conf", registry, &error);
  g_assert_null (config);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==, "q.conf: [hypervisor.qemu] widget_mode: not supported by "
                   "backend 'qemu' (a key of backend 'testbe')");
  g_clear_error (&error);
  /* a key nobody has stays an unknown key */
  config = hvk_config_new_from_data (HV "[hypervisor.qemu]\nwidget_colour=red\n", -1, "q.conf", registry, &error);
  g_assert_null (config);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_assert_cmpstr (error->message, ==, "q.conf: [hypervisor.qemu] widget_colour: unknown key");
  g_clear_error (&error);

  /* built in code: the registry is given explicitly */
  config = hvk_config_new ("testbe");
  g_assert_null (hvk_config_lookup_key (config, "widget_mode"));
  hvk_config_set_registry (config, registry);
  g_assert_cmpstr (hvk_config_get_string (config, "widget_mode"), ==, "fast");
  g_assert_true (hvk_config_set_from_string (config, "widget_mode", "slow", &error));
  {
    g_autofree char *data = hvk_config_to_data (config, NULL);
    g_autoptr(HvkConfig) again = hvk_config_new_from_data (data, -1, NULL, registry, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (hvk_config_get_string (again, "widget_mode"), ==, "slow");
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hvk/config/core-keys", test_core_keys);
  g_test_add_func ("/hvk/config/defaults", test_defaults);
  g_test_add_func ("/hvk/config/set-get", test_set_get);
  g_test_add_func ("/hvk/config/set-from-string", test_set_from_string);
  g_test_add_func ("/hvk/config/programmer-errors", test_programmer_errors);
  g_test_add_func ("/hvk/config/kernel-params", test_kernel_params);
  g_test_add_func ("/hvk/config/round-up-vcpus", test_round_up_vcpus);
  g_test_add_func ("/hvk/config/load/file", test_load_file);
  g_test_add_func ("/hvk/config/load/multi", test_load_multi);
  g_test_add_func ("/hvk/config/load/unknown-backend", test_load_unknown_backend);
  g_test_add_func ("/hvk/config/load/missing-file", test_load_missing_file);
  g_test_add_func ("/hvk/config/load/not-regular", test_load_not_regular);
  g_test_add_func ("/hvk/config/load/errors", test_load_errors);
  g_test_add_func ("/hvk/config/load/no-duplicates", test_load_no_duplicates);
  g_test_add_func ("/hvk/config/load/source-names", test_load_source_names);
  g_test_add_func ("/hvk/config/round-trip", test_round_trip);
  g_test_add_func ("/hvk/config/round-trip-file", test_round_trip_file);
  g_test_add_func ("/hvk/config/validate/kata", test_validate_kata);
  g_test_add_func ("/hvk/config/validate/defaults", test_validate_defaults);
  g_test_add_func ("/hvk/config/validate/vcpus", test_validate_vcpus);
  g_test_add_func ("/hvk/config/validate/memory-bridges", test_validate_memory_bridges);
  g_test_add_func ("/hvk/config/validate/memory-limits", test_validate_memory_limits);
  g_test_add_func ("/hvk/config/validate/msize", test_validate_msize);
  g_test_add_func ("/hvk/config/validate/enums", test_validate_enums);
  g_test_add_func ("/hvk/config/validate/allow-lists", test_validate_allow_lists);
  g_test_add_func ("/hvk/config/validate/file-names", test_validate_file_names);
  g_test_add_func ("/hvk/config/assets/paths", test_asset_paths);
  g_test_add_func ("/hvk/config/assets/custom", test_custom_assets);
  g_test_add_func ("/hvk/config/assets/image-or-initrd", test_image_or_initrd);
  g_test_add_func ("/hvk/config/devices", test_devices);
  g_test_add_func ("/hvk/config/registry", test_registry);
  g_test_add_func ("/hvk/config/relative-paths", test_relative_paths);

  return g_test_run ();
}
