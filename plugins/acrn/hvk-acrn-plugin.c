/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-acrn-private.h"

/* Kata's keys acrn-dm has nothing for: set to anything but their
 * default, they are refused naming the key, never accepted and ignored.
 * (block_device_driver other than virtio-blk is refused by create_vm.) */
static const HvkRefusedKey refused_keys[] = {
  { "jailer_path", "acrn-dm is started by hvkit itself, not under a jailer; qemu takes one" },
  { "valid_jailer_paths", "acrn-dm is started by hvkit itself, not under a jailer; qemu takes one" },
  { "valid_virtio_fs_daemon_paths", "acrn-dm shares no file system with the guest" },
  { "valid_entropy_sources", "the ACRN VM has no virtio-rng device" },
  { "valid_file_mem_backends", "acrn-dm allocates guest memory itself" },
  { "initrd", "acrn-dm boots from a root image on virtio-blk, without an initrd" },
  { "default_vcpus", "the ACRN VM has one vCPU, pinned to one physical CPU (--cpu_affinity)" },
  { "firmware", "acrn-dm boots the kernel directly (-k), without firmware" },
  { "firmware_volume", "acrn-dm boots the kernel directly (-k), without firmware" },
  { "kernel_verity_params", "the ACRN kernel line has no dm-verity root" },
  { "rootfs_type", "the ACRN kernel line mounts /dev/vda1 without a file system type" },
  { "default_maxmemory", "acrn-dm has no memory hotplug: the VM has default_memory" },
  { "enable_numa", "the ACRN VM has one vCPU and no NUMA topology" },
  { "numa_mapping", "the ACRN VM has one vCPU and no NUMA topology" },
  { "reclaim_guest_freed_memory", "acrn-dm has no virtio-balloon with free-page reporting" },
  { "memory_slots", "acrn-dm has no memory hotplug" },
  { "memory_offset", "acrn-dm has no memory hotplug" },
  { "enable_virtio_mem", "acrn-dm has no memory hotplug" },
  { "default_bridges", "acrn-dm puts devices on its own PCI slots, without bridges" },
  { "block_device_aio", "acrn-dm's virtio-blk has no I/O mechanism setting" },
  { "disable_block_device_use", "hvkit attaches no container root filesystem" },
  { "shared_fs", "acrn-dm shares no file system with the guest" },
  { "shared_path", "acrn-dm shares no file system with the guest" },
  { "virtio_fs_daemon", "acrn-dm shares no file system with the guest" },
  { "virtio_fs_cache_size", "acrn-dm shares no file system with the guest" },
  { "virtio_fs_queue_size", "acrn-dm shares no file system with the guest" },
  { "virtio_fs_extra_args", "acrn-dm shares no file system with the guest" },
  { "virtio_fs_cache", "acrn-dm shares no file system with the guest" },
  { "msize_9p", "acrn-dm shares no file system with the guest" },
  { "entropy_source", "the ACRN VM has no virtio-rng device" },
  { "enable_hugepages", "acrn-dm allocates guest memory itself" },
  { "enable_mem_prealloc", "acrn-dm allocates guest memory itself" },
  { "file_mem_backend", "acrn-dm allocates guest memory itself" },
  { "disable_nesting_checks", "acrn-dm runs on the ACRN hypervisor: there is no nesting to check" },
  { "disable_guest_selinux", "Kata runs ACRN guests with SELinux off (selinux=0 is the only choice)" },
  { "boot_to_be_template", "acrn-dm cannot save a VM" },
  { "boot_from_template", "acrn-dm cannot restore a VM" },
  { "memory_path", "acrn-dm cannot save or restore a VM" },
  { "devices_state_path", "acrn-dm cannot save or restore a VM" },
  { "disk_rate_limiter_bw_max_rate", HVK_ACRN_NO_LIMITER },
  { "disk_rate_limiter_bw_one_time_burst", HVK_ACRN_NO_LIMITER },
  { "disk_rate_limiter_ops_max_rate", HVK_ACRN_NO_LIMITER },
  { "disk_rate_limiter_ops_one_time_burst", HVK_ACRN_NO_LIMITER },
  { "rx_rate_limiter_max_rate", HVK_ACRN_NO_LIMITER },
  { "tx_rate_limiter_max_rate", HVK_ACRN_NO_LIMITER },
  { "net_rate_limiter_bw_max_rate", HVK_ACRN_NO_LIMITER },
  { "net_rate_limiter_bw_one_time_burst", HVK_ACRN_NO_LIMITER },
  { "net_rate_limiter_ops_max_rate", HVK_ACRN_NO_LIMITER },
  { "net_rate_limiter_ops_one_time_burst", HVK_ACRN_NO_LIMITER },
  { "disk_rate_limiter_shared", HVK_ACRN_NO_LIMITER },
};

/* The ACRN backend: acrn-dm command line, lifecycle and block hotplug
 * through `acrnctl blkrescan`.  Block devices and block hotplug are all
 * it declares, as Kata's acrnArchBase.capabilities(). */
static gboolean
hvk_acrn_plugin_init (HvkPlugin  *plugin,
                      GError    **error)
{
  return hvk_plugin_register_backend (plugin, HVK_ACRN_BACKEND_NAME,
                                      HVK_TYPE_ACRN_HYPERVISOR,
                                      HVK_ACRN_CAPABILITIES, error)
         && hvk_acrn_register_device_kinds (plugin, error)
         && hvk_acrn_register_appenders (plugin, error)
         && hvk_acrn_register_kernel_policies (plugin, error)
         && hvk_plugin_register_refused_keys (plugin, HVK_ACRN_BACKEND_NAME, refused_keys,
                                              G_N_ELEMENTS (refused_keys), error);
}

HVK_PLUGIN_DEFINE ("acrn", "ACRN backend (acrn-dm, acrnctl)", PACKAGE_VERSION,
                   "Apache-2.0", hvk_acrn_plugin_init)
