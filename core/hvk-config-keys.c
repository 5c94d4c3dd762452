/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-config-keys-private.h"

/*
 * The core configuration keys, after Kata's `[hypervisor.*]` sections of
 * configuration.toml.  Defaults are in key-file syntax.  `path` has no core
 * default: each backend applies its own (QEMU and acrn-dm differ).  Keys
 * naming host files are of the path types: relative values are made
 * absolute where they are given (the VMM runs with another current
 * directory).  The valid_* lists are globs, not paths.
 *
 * Append-only: these names are part of the configuration file format.
 */
static const HvkConfigKey core_keys[] = {
  /* Binaries */
  { "path", HVK_CONFIG_TYPE_PATH, NULL, "Hypervisor (VMM) binary; each backend has its own default" },
  { "ctlpath", HVK_CONFIG_TYPE_PATH, NULL, "Hypervisor control tool (acrnctl for ACRN)" },
  { "jailer_path", HVK_CONFIG_TYPE_PATH, NULL, "Jailer the VMM is started under: run (in the VM's cgroup, as the VMM's identity) with the VMM's whole command line, it must exec it, so the pid stays the VMM's; one that exits or forks instead fails the start" },

  /* Guest assets */
  { "kernel", HVK_CONFIG_TYPE_PATH, NULL, "Guest kernel (required)" },
  { "image", HVK_CONFIG_TYPE_PATH, NULL, "Guest root filesystem image (exclusive with initrd)" },
  { "initrd", HVK_CONFIG_TYPE_PATH, NULL, "Guest initrd (exclusive with image)" },
  { "firmware", HVK_CONFIG_TYPE_PATH, NULL, "BIOS or UEFI firmware" },
  { "firmware_volume", HVK_CONFIG_TYPE_PATH, NULL, "UEFI variable store volume (not attached yet: qemu refuses it)" },

  /* Machine */
  { "kernel_params", HVK_CONFIG_TYPE_STRING, NULL, "Extra guest kernel parameters, appended last so they win" },
  { "kernel_verity_params", HVK_CONFIG_TYPE_STRING, NULL, "dm-verity parameters of the root image (root_hash=…,salt=…,…)" },

  /* CPU and memory */
  { "default_vcpus", HVK_CONFIG_TYPE_DOUBLE, "1", "Boot vCPUs: 0 means 1, negative or more than the host means all host CPUs" },
  { "default_maxvcpus", HVK_CONFIG_TYPE_UINT, "0", "Maximum vCPUs: 0 or more than the host means all host CPUs" },
  { "default_memory", HVK_CONFIG_TYPE_UINT, "2048", "Boot memory in MiB (0 means 2048)" },
  { "default_maxmemory", HVK_CONFIG_TYPE_UINT, "0", "Maximum memory in MiB: 0 or more than the host means all host memory" },
  { "memory_slots", HVK_CONFIG_TYPE_UINT, "10", "Memory hotplug slots" },
  { "memory_offset", HVK_CONFIG_TYPE_UINT, "0", "MiB added to the maximum memory (NVDIMM space)" },
  { "reclaim_guest_freed_memory", HVK_CONFIG_TYPE_BOOLEAN, "false", "A virtio-balloon with free-page reporting (and deflate-on-oom): memory the guest frees goes back to the host; hvkit balloon sets a target" },
  { "enable_numa", HVK_CONFIG_TYPE_BOOLEAN, "false", "Guest NUMA nodes from the host's (/sys/devices/system/node): vCPUs and memory shared out, the host's distances, each node's memory bound to its host nodes" },
  { "numa_mapping", HVK_CONFIG_TYPE_STRV, NULL, "With enable_numa: one host node list a guest node (e.g. 0;1 or 0-1;2-3); unset, a guest node a host node" },
  { "enable_virtio_mem", HVK_CONFIG_TYPE_BOOLEAN, "false", "Resize memory with a virtio-mem device of default_maxmemory - default_memory MiB (grows and shrinks; else pc-dimms)" },
  { "default_bridges", HVK_CONFIG_TYPE_UINT, "1", "PCI bridges (0 means 1, at most 5)" },

  /* Block devices */
  { "block_device_driver", HVK_CONFIG_TYPE_STRING, "virtio-scsi", "Block driver: virtio-scsi, virtio-blk, nvdimm, virtio-mmio or virtio-blk-ccw" },
  { "block_device_aio", HVK_CONFIG_TYPE_STRING, "threads", "Block I/O mechanism: threads, native or io_uring" },
  { "disable_block_device_use", HVK_CONFIG_TYPE_BOOLEAN, "false", "Do not use block devices for container rootfs (hvkit attaches none: qemu refuses true)" },

  /* Shared file systems */
  { "shared_fs", HVK_CONFIG_TYPE_STRING, "none", "Shared file system: virtio-fs, virtio-9p, virtio-fs-nydus or none" },
  { "shared_path", HVK_CONFIG_TYPE_PATH, NULL, "Host directory shared with the guest" },
  { "virtio_fs_daemon", HVK_CONFIG_TYPE_PATH, "/usr/lib/qemu/virtiofsd", "virtiofsd binary" },
  { "valid_virtio_fs_daemon_paths", HVK_CONFIG_TYPE_STRV, NULL, "Globs virtio_fs_daemon must match" },
  { "virtio_fs_cache_size", HVK_CONFIG_TYPE_UINT, "0", "virtio-fs DAX window in MiB" },
  { "virtio_fs_queue_size", HVK_CONFIG_TYPE_UINT, "1024", "virtio-fs queue size" },
  { "virtio_fs_extra_args", HVK_CONFIG_TYPE_STRV, NULL, "Extra virtiofsd arguments" },
  { "virtio_fs_cache", HVK_CONFIG_TYPE_STRING, "auto", "virtio-fs cache mode: never, auto, always or metadata" },
  { "msize_9p", HVK_CONFIG_TYPE_UINT, "8192", "9p msize in bytes (the guest mounts 9p itself: qemu refuses it when set)" },

  /* Entropy */
  { "entropy_source", HVK_CONFIG_TYPE_PATH, "/dev/urandom", "Host entropy source of the guest RNG" },
  { "valid_entropy_sources", HVK_CONFIG_TYPE_STRV, NULL, "Globs entropy_source must match" },

  /* Features */
  { "enable_debug", HVK_CONFIG_TYPE_BOOLEAN, "false", "Debug output from the VMM and the guest kernel" },
  { "enable_hugepages", HVK_CONFIG_TYPE_BOOLEAN, "false", "Back guest memory with huge pages" },
  { "enable_mem_prealloc", HVK_CONFIG_TYPE_BOOLEAN, "false", "Preallocate guest memory" },
  { "rootfs_type", HVK_CONFIG_TYPE_STRING, "ext4", "Root file system of the image: ext4, xfs or erofs" },
  { "file_mem_backend", HVK_CONFIG_TYPE_PATH, NULL, "File backing guest memory" },
  { "valid_file_mem_backends", HVK_CONFIG_TYPE_STRV, NULL, "Globs file_mem_backend must match" },
  { "valid_hypervisor_paths", HVK_CONFIG_TYPE_STRV, NULL, "Globs path must match" },
  { "valid_ctlpaths", HVK_CONFIG_TYPE_STRV, NULL, "Globs ctlpath must match" },
  { "valid_jailer_paths", HVK_CONFIG_TYPE_STRV, NULL, "Globs jailer_path must match" },
  { "disable_nesting_checks", HVK_CONFIG_TYPE_BOOLEAN, "false", "Skip Kata's nesting checks (on a host that is itself a VM, qemu turns the guest PMU off: pmu=off)" },
  { "disable_selinux", HVK_CONFIG_TYPE_BOOLEAN, "false", "No SELinux label on the VMM process (qemu's selinux_label is refused with it; on a host with SELinux, false without a selinux_label draws a warning)" },
  { "disable_guest_selinux", HVK_CONFIG_TYPE_BOOLEAN, "true", "SELinux in the guest: selinux=0 when true, selinux=1 when false, on the guest kernel line" },

  /* I/O rate limits (Kata's HypervisorConfig rate limiters): 0 is no
   * limit; a block or net device's rate_limiter_* / rx_ / tx_ property
   * overrides its kind's key (hvk_io_limits_resolve()). */
  { "disk_rate_limiter_bw_max_rate", HVK_CONFIG_TYPE_INT, "0", "Disk bandwidth limit in bits per second, reads and writes together, per disk (0: unlimited)" },
  { "disk_rate_limiter_bw_one_time_burst", HVK_CONFIG_TYPE_INT, "0", "Bits a disk may move above its bandwidth limit before the limit applies (needs disk_rate_limiter_bw_max_rate)" },
  { "disk_rate_limiter_ops_max_rate", HVK_CONFIG_TYPE_INT, "0", "Disk requests per second, reads and writes together, per disk (0: unlimited)" },
  { "disk_rate_limiter_ops_one_time_burst", HVK_CONFIG_TYPE_INT, "0", "Requests a disk may make above its request limit before the limit applies (needs disk_rate_limiter_ops_max_rate)" },
  { "disk_rate_limiter_shared", HVK_CONFIG_TYPE_BOOLEAN, "false", "hvkit's own (Kata has none): every limited disk without a throttle_group is in one group of the VM, so the disk_rate_limiter_* keys cap the VM's disk I/O as a whole (false: each disk's, Kata's meaning)" },
  { "rx_rate_limiter_max_rate", HVK_CONFIG_TYPE_INT, "0", "Bits per second a network interface may deliver to the guest (0: unlimited)" },
  { "tx_rate_limiter_max_rate", HVK_CONFIG_TYPE_INT, "0", "Bits per second the guest may send through a network interface (0: unlimited)" },
  { "net_rate_limiter_bw_max_rate", HVK_CONFIG_TYPE_INT, "0", "Network bandwidth limit in bits per second, each direction, per interface (0: unlimited)" },
  { "net_rate_limiter_bw_one_time_burst", HVK_CONFIG_TYPE_INT, "0", "Bits an interface may move above its bandwidth limit before the limit applies (needs net_rate_limiter_bw_max_rate)" },
  { "net_rate_limiter_ops_max_rate", HVK_CONFIG_TYPE_INT, "0", "Network packets per second, each direction, per interface (0: unlimited)" },
  { "net_rate_limiter_ops_one_time_burst", HVK_CONFIG_TYPE_INT, "0", "Packets an interface may move above its packet limit before the limit applies (needs net_rate_limiter_ops_max_rate)" },

  /* VM templating */
  { "boot_to_be_template", HVK_CONFIG_TYPE_BOOLEAN, "false", "Boot a VM that becomes a template" },
  { "boot_from_template", HVK_CONFIG_TYPE_BOOLEAN, "false", "Boot a VM from a template" },
  { "memory_path", HVK_CONFIG_TYPE_PATH, NULL, "Template memory file" },
  { "devices_state_path", HVK_CONFIG_TYPE_PATH, NULL, "Template device state file" },
};

/**
 * hvk_config_get_core_keys:
 * @n_keys: (out): number of keys
 *
 * The keys every configuration knows, whatever the backend (Kata's names).
 *
 * Returns: (array length=n_keys) (transfer none): the core key table
 */
const HvkConfigKey *
hvk_config_get_core_keys (guint *n_keys)
{
  g_return_val_if_fail (n_keys != NULL, NULL);

  *n_keys = G_N_ELEMENTS (core_keys);
  return core_keys;
}

static GHashTable *
core_index (void)
{
  static GHashTable *index = NULL;

  if (g_once_init_enter (&index))
    {
      GHashTable *table = g_hash_table_new (g_str_hash, g_str_equal);

      for (gsize i = 0; i < G_N_ELEMENTS (core_keys); i++)
        g_hash_table_insert (table, (gpointer) core_keys[i].name, (gpointer) &core_keys[i]);
      g_once_init_leave (&index, table);
    }
  return index;
}

const HvkConfigKey *
hvk_config_keys_lookup_core (const char *name)
{
  return g_hash_table_lookup (core_index (), name);
}

/* Defaults parsed once; an unparsable default in the table is a bug. */
HvkValue *
hvk_config_keys_core_default (const HvkConfigKey *key)
{
  static HvkValue **defaults = NULL;
  gsize i;

  if (g_once_init_enter (&defaults))
    {
      HvkValue **values = g_new0 (HvkValue *, G_N_ELEMENTS (core_keys));

      for (gsize k = 0; k < G_N_ELEMENTS (core_keys); k++)
        {
          g_autofree char *problem = NULL;
          GVariant *v;

          if (core_keys[k].default_value == NULL)
            continue;
          v = hvk_value_parse (hvk_config_value_type_to_variant_type (core_keys[k].type),
                               core_keys[k].default_value, HVK_LIST_SYNTAX_KEY_FILE, &problem);
          if (v == NULL)
            g_error ("core config key %s: bad default: %s", core_keys[k].name, problem);
          values[k] = hvk_value_new (v);
        }
      g_once_init_leave (&defaults, values);
    }

  g_return_val_if_fail (key >= core_keys && key < core_keys + G_N_ELEMENTS (core_keys), NULL);
  i = key - core_keys;
  return defaults[i];
}
