/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <unistd.h>

#include "hvk-qemu-build.h"
#include "hvk-qemu-settings.h"

/* Keys of [hypervisor.qemu] the core does not know.  Append-only: these
 * names are part of the configuration file format. */
static const HvkConfigKey qemu_config_keys[] = {
  /* Kata's names (they were core keys before the QEMU plugin owned
   * them). */
  { "machine_type", HVK_CONFIG_TYPE_STRING, "q35", "Machine type" },
  { "machine_accelerators", HVK_CONFIG_TYPE_STRING, NULL, "Extra comma-separated machine options (e.g. accel=tcg)" },
  { "cpu_features", HVK_CONFIG_TYPE_STRING, NULL, "Comma-separated CPU features appended to the CPU model" },
  { "block_device_cache_set", HVK_CONFIG_TYPE_BOOLEAN, "false", "Set the cache options of block devices" },
  { "block_device_cache_direct", HVK_CONFIG_TYPE_BOOLEAN, "false", "Open block devices with O_DIRECT" },
  { "block_device_cache_noflush", HVK_CONFIG_TYPE_BOOLEAN, "false", "Ignore flush requests of block devices" },
  { "enable_iothreads", HVK_CONFIG_TYPE_BOOLEAN, "false", "Use an I/O thread for virtio-scsi" },
  { "enable_iommu", HVK_CONFIG_TYPE_BOOLEAN, "false", "Emulate an IOMMU" },
  { "enable_iommu_platform", HVK_CONFIG_TYPE_BOOLEAN, "false", "iommu_platform=on on CCW devices (s390x only: refused when true)" },
  { "disable_image_nvdimm", HVK_CONFIG_TYPE_BOOLEAN, "false", "Attach the image as virtio-blk instead of NVDIMM" },
  { "pcie_root_port", HVK_CONFIG_TYPE_UINT, "0", "PCIe root ports for hotplug" },
  { "hotplug_vfio_on_root_bus", HVK_CONFIG_TYPE_BOOLEAN, "false", "Hotplug VFIO devices on the root bus (not implemented: refused when true)" },
  { "pflashes", HVK_CONFIG_TYPE_PATH_LIST, NULL, "Flash images (-pflash)" },
  { "seccompsandbox", HVK_CONFIG_TYPE_STRING, HVK_QEMU_DEFAULT_SANDBOX, "QEMU -sandbox options (seccomp; on by default)" },
  { "disable_seccomp", HVK_CONFIG_TYPE_BOOLEAN, "false", "Run QEMU without its seccomp sandbox (no -sandbox)" },
  { "guest_memory_dump_path", HVK_CONFIG_TYPE_PATH, NULL, "On a guest panic (pvpanic, -no-shutdown), hvkit-monitor dumps the guest's memory to PATH/ID/vmcore-TIME.elf; the panicked VM stays until stopped" },
  { "guest_memory_dump_paging", HVK_CONFIG_TYPE_BOOLEAN, "false", "The panic dump follows the guest's page tables (dump-guest-memory paging)" },
  { "guest_panic_stop", HVK_CONFIG_TYPE_BOOLEAN, "false", "After a panic dump, stop QEMU instead of keeping the panicked guest" },
  { "use_legacy_serial", HVK_CONFIG_TYPE_BOOLEAN, "false", "Guest console on a legacy serial port (ttyS0)" },
  { "disable_vhost_net", HVK_CONFIG_TYPE_BOOLEAN, "false", "Do not use vhost-net" },
  { "vmm_cgroup_parent", HVK_CONFIG_TYPE_STRING, "/hvkit.slice",
    "Where the VM's cgroup goes: absolute from each hierarchy's root, or relative to hvkit's own cgroup" },
  { "vmm_cgroup_memory_mb", HVK_CONFIG_TYPE_UINT, "0",
    "Memory limit of the VM's cgroup (QEMU, virtiofsd) in MiB; 0: none, only accounting" },
  { "vmm_cgroup_cpu_quota_us", HVK_CONFIG_TYPE_UINT, "0",
    "CPU time the VM's cgroup may use per period, in µs; 0: no limit" },
  { "vmm_cgroup_cpu_period_us", HVK_CONFIG_TYPE_UINT, "100000",
    "The period of vmm_cgroup_cpu_quota_us, in µs (1000 to 1000000)" },
  { "extra_monitor_socket", HVK_CONFIG_TYPE_STRING, NULL,
    "Extra monitor socket STATE/ID/extra-monitor.sock (STATE/ID/vmm/ when rootless): hmp, qmp or qmp-pretty" },
  { "rootless", HVK_CONFIG_TYPE_BOOLEAN, "false",
    "Run QEMU unprivileged: as root, hvkit starts it as vmm_user/vmm_group, passes disk images as descriptors and gives it only STATE/ID/vmm; unprivileged, QEMU keeps hvkit's identity" },
  { "vmm_user", HVK_CONFIG_TYPE_STRING, NULL,
    "rootless: the user QEMU runs as (a name or a number; not root)" },
  { "vmm_group", HVK_CONFIG_TYPE_STRING, NULL,
    "rootless: QEMU's group (a name or a number); vmm_user's primary group when unset" },
  { "vmm_groups", HVK_CONFIG_TYPE_STRV, NULL,
    "rootless: QEMU's supplementary groups (names or numbers); none when unset" },
  { "selinux_label", HVK_CONFIG_TYPE_STRING, NULL,
    "SELinux context QEMU runs in (user:role:type[:level], set by hvkit-monitor before exec as setexeccon); refused on a host without SELinux and with disable_selinux=true" },
};

const HvkConfigKey *
hvk_qemu_settings_get_plugin_keys (guint *n_keys)
{
  *n_keys = G_N_ELEMENTS (qemu_config_keys);
  return qemu_config_keys;
}

/* One setting: the key, the type of its field (a base type: paths are
 * strings), where the field is, and what it takes when the key is unset
 * (strings: also when empty) or unknown to the config. */
typedef struct {
  const char         *key;
  HvkConfigValueType  type;
  gsize               offset;
  const char         *fallback;      /* strings */
  guint64             fallback_uint; /* unsigned integers */
} HvkQemuSetting;

#define STRING(key, fallback) \
  { #key, HVK_CONFIG_TYPE_STRING, G_STRUCT_OFFSET (HvkQemuSettings, key), fallback, 0 }
#define BOOLEAN(key) \
  { #key, HVK_CONFIG_TYPE_BOOLEAN, G_STRUCT_OFFSET (HvkQemuSettings, key), NULL, 0 }
#define UINT(key, fallback) \
  { #key, HVK_CONFIG_TYPE_UINT, G_STRUCT_OFFSET (HvkQemuSettings, key), NULL, fallback }
#define STRV(key) \
  { #key, HVK_CONFIG_TYPE_STRV, G_STRUCT_OFFSET (HvkQemuSettings, key), NULL, 0 }

static const HvkQemuSetting settings_table[] = {
  STRING (path, HVK_QEMU_DEFAULT_PATH),
  STRING (kernel, NULL),
  STRING (initrd, NULL),
  STRING (image, NULL),
  STRING (firmware, NULL),
  STRING (rootfs_type, "ext4"),
  STRING (kernel_verity_params, NULL),
  STRV (pflashes),
  STRV (valid_hypervisor_paths),

  STRING (machine_type, "q35"),
  STRING (machine_accelerators, NULL),
  STRING (cpu_features, NULL),
  STRING (seccompsandbox, HVK_QEMU_DEFAULT_SANDBOX),
  BOOLEAN (disable_seccomp),
  STRING (extra_monitor_socket, NULL),
  BOOLEAN (rootless),
  STRING (vmm_user, NULL),
  STRING (vmm_group, NULL),
  STRV (vmm_groups),
  STRING (selinux_label, NULL),
  BOOLEAN (disable_selinux),
  STRING (vmm_cgroup_parent, "/hvkit.slice"),
  UINT (vmm_cgroup_memory_mb, 0),
  UINT (vmm_cgroup_cpu_quota_us, 0),
  UINT (vmm_cgroup_cpu_period_us, 100000),
  BOOLEAN (enable_iommu),
  BOOLEAN (enable_debug),
  BOOLEAN (disable_nesting_checks),
  BOOLEAN (disable_guest_selinux),
  BOOLEAN (use_legacy_serial),
  BOOLEAN (disable_image_nvdimm),
  STRING (guest_memory_dump_path, NULL),
  BOOLEAN (guest_memory_dump_paging),
  BOOLEAN (guest_panic_stop),
  UINT (default_bridges, 1),
  UINT (pcie_root_port, 0),

  UINT (default_maxvcpus, 0),
  UINT (default_memory, 2048),
  UINT (default_maxmemory, 0),
  UINT (memory_offset, 0),
  UINT (memory_slots, 10),
  BOOLEAN (enable_virtio_mem),
  BOOLEAN (enable_numa),
  STRV (numa_mapping),
  BOOLEAN (reclaim_guest_freed_memory),
  BOOLEAN (enable_hugepages),
  BOOLEAN (enable_mem_prealloc),
  STRING (file_mem_backend, NULL),

  STRING (block_device_driver, "virtio-scsi"),
  STRING (block_device_aio, "threads"),
  BOOLEAN (block_device_cache_set),
  BOOLEAN (block_device_cache_direct),
  BOOLEAN (block_device_cache_noflush),
  BOOLEAN (enable_iothreads),
  BOOLEAN (disable_vhost_net),

  STRING (shared_fs, "none"),
  STRING (shared_path, NULL),
  STRING (virtio_fs_daemon, "/usr/lib/qemu/virtiofsd"),
  STRV (valid_virtio_fs_daemon_paths),
  STRING (virtio_fs_cache, NULL),
  UINT (virtio_fs_cache_size, 0),
  UINT (virtio_fs_queue_size, 1024),
  STRV (virtio_fs_extra_args),

  STRING (entropy_source, NULL),
  STRV (valid_entropy_sources),

  BOOLEAN (boot_to_be_template),
  BOOLEAN (boot_from_template),
  STRING (memory_path, NULL),
  STRING (devices_state_path, NULL),
};

#undef STRING
#undef BOOLEAN
#undef UINT
#undef STRV

static HvkConfigValueType
base_type (HvkConfigValueType type)
{
  switch (type)
    {
    case HVK_CONFIG_TYPE_PATH:      return HVK_CONFIG_TYPE_STRING;
    case HVK_CONFIG_TYPE_PATH_LIST: return HVK_CONFIG_TYPE_STRV;
    default:                        return type;
    }
}

static const HvkConfigKey *
find_declared_key (const char *name)
{
  const HvkConfigKey *keys;
  guint n;

  keys = hvk_config_get_core_keys (&n);
  for (guint i = 0; i < n; i++)
    if (g_str_equal (keys[i].name, name))
      return &keys[i];
  keys = hvk_qemu_settings_get_plugin_keys (&n);
  for (guint i = 0; i < n; i++)
    if (g_str_equal (keys[i].name, name))
      return &keys[i];
  return NULL;
}

gboolean
hvk_qemu_settings_check_table (GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (settings_table); i++)
    {
      const HvkQemuSetting *setting = &settings_table[i];
      const HvkConfigKey *key = find_declared_key (setting->key);

      if (key == NULL)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_PLUGIN,
                       "backend qemu: setting '%s' names a configuration key "
                       "neither the core nor the plugin declares", setting->key);
          return FALSE;
        }
      if (base_type (key->type) != setting->type)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_PLUGIN,
                       "backend qemu: setting '%s' has another type than its key",
                       setting->key);
          return FALSE;
        }
    }
  return TRUE;
}

static void
read_setting (const HvkQemuSetting *setting,
              HvkConfig            *config,
              HvkQemuSettings      *settings)
{
  gpointer field = G_STRUCT_MEMBER_P (settings, setting->offset);
  gboolean known = config != NULL && hvk_config_lookup_key (config, setting->key) != NULL;

  switch (setting->type)
    {
    case HVK_CONFIG_TYPE_STRING:
      {
        const char *value = known ? hvk_config_get_string (config, setting->key) : NULL;

        *(char **) field = g_strdup (value != NULL && *value != '\0' ? value : setting->fallback);
        break;
      }
    case HVK_CONFIG_TYPE_BOOLEAN:
      *(gboolean *) field = known && hvk_config_get_boolean (config, setting->key);
      break;
    case HVK_CONFIG_TYPE_UINT:
      *(guint64 *) field = known ? hvk_config_get_uint (config, setting->key) : setting->fallback_uint;
      break;
    case HVK_CONFIG_TYPE_STRV:
      *(GStrv *) field = known ? g_strdupv ((char **) hvk_config_get_strv (config, setting->key)) : NULL;
      break;
    default:
      g_assert_not_reached ();
    }
}

/* default_maxvcpus, 0 meaning every host CPU (as Kata).  An explicit
 * value is kept even above the host's count (Kata caps it there): TCG
 * does not care, and the command line stays the same on every host. */
static guint32
resolve_max_vcpus (guint64 max)
{
  if (max == 0)
    {
      long host = sysconf (_SC_NPROCESSORS_ONLN);

      max = host > 0 ? (guint64) host : 1;
    }
  return (guint32) MIN (max, HVK_QEMU_MAX_VCPUS);
}

HvkQemuSettings *
hvk_qemu_settings_new (HvkConfig *config)
{
  HvkQemuSettings *settings = g_new0 (HvkQemuSettings, 1);

  g_return_val_if_fail (config == NULL || HVK_IS_CONFIG (config), settings);

  for (gsize i = 0; i < G_N_ELEMENTS (settings_table); i++)
    read_setting (&settings_table[i], config, settings);
  settings->num_vcpus = config != NULL ? hvk_config_get_num_vcpus (config) : 1;
  settings->max_vcpus = resolve_max_vcpus (settings->default_maxvcpus);
  if (config != NULL)
    {
      /* Not in the table: an asset, where a custom one (an annotation)
       * comes before the key, as the core's allow-list check reads it. */
      const char *jailer = hvk_config_get_asset_path (config, HVK_ASSET_JAILER);

      settings->jailer_path = jailer != NULL && *jailer != '\0' ? g_strdup (jailer) : NULL;
      hvk_io_limits_from_config (config, HVK_DEVICE_KIND_BLOCK, &settings->disk_limits);
      settings->disk_limits_shared = hvk_config_get_boolean (config, HVK_IO_LIMITS_SHARED_KEY);
      hvk_io_limits_from_config (config, HVK_DEVICE_KIND_NET, &settings->net_limits);
    }
  return settings;
}

void
hvk_qemu_settings_free (HvkQemuSettings *settings)
{
  if (settings == NULL)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (settings_table); i++)
    {
      gpointer field = G_STRUCT_MEMBER_P (settings, settings_table[i].offset);

      if (settings_table[i].type == HVK_CONFIG_TYPE_STRING)
        g_free (*(char **) field);
      else if (settings_table[i].type == HVK_CONFIG_TYPE_STRV)
        g_strfreev (*(GStrv *) field);
    }
  g_free (settings->jailer_path);
  g_free (settings);
}
