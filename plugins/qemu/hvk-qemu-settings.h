/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/*
 * Every configuration key the QEMU backend reads, read once into typed
 * fields (libvirt's virQEMUDriverConfig shape): the builders, appenders,
 * policies and the lifecycle take this struct, not key names.  The table
 * behind it lives in hvk-qemu-settings.c; a table entry naming a key
 * neither the core nor this plugin declares, or with another type, fails
 * the tests (hvk_qemu_settings_check_table(), tests/qemu/test-qemu-golden.c).
 *
 * Strings are NULL when unset or empty (the key's fallback applies);
 * lists are NULL when unset.
 */
typedef struct {
  /* binaries and assets */
  char     *path;                      /* HVK_QEMU_DEFAULT_PATH when unset */
  char     *jailer_path;               /* the jailer QEMU is exec'd by, or NULL
                                        * (the asset: a custom one first) */
  char     *kernel;
  char     *initrd;
  char     *image;
  char     *firmware;
  char     *rootfs_type;               /* "ext4" */
  char     *kernel_verity_params;
  GStrv     pflashes;
  GStrv     valid_hypervisor_paths;

  /* machine */
  char     *machine_type;              /* "q35" */
  char     *machine_accelerators;
  char     *cpu_features;
  char     *seccompsandbox;            /* HVK_QEMU_DEFAULT_SANDBOX */
  gboolean  disable_seccomp;
  char     *extra_monitor_socket;
  /* confinement: the unprivileged VMM (hvk-qemu-identity.h) */
  gboolean  rootless;
  char     *vmm_user;
  char     *vmm_group;
  GStrv     vmm_groups;
  char     *selinux_label;             /* the VMM's SELinux context */
  gboolean  disable_selinux;
  /* confinement: the VM's cgroup */
  char     *vmm_cgroup_parent;         /* "/hvkit.slice" */
  guint64   vmm_cgroup_memory_mb;
  guint64   vmm_cgroup_cpu_quota_us;
  guint64   vmm_cgroup_cpu_period_us;  /* 100000 */
  gboolean  enable_iommu;
  gboolean  enable_debug;
  gboolean  disable_nesting_checks;
  gboolean  guest_memory_dump_paging;
  gboolean  guest_panic_stop;
  gboolean  disable_guest_selinux;
  gboolean  use_legacy_serial;
  gboolean  disable_image_nvdimm;
  char     *guest_memory_dump_path;
  guint64   default_bridges;           /* 1 */
  guint64   pcie_root_port;            /* 0 */

  /* CPU and memory */
  guint32   num_vcpus;                 /* hvk_config_get_num_vcpus() */
  guint32   max_vcpus;                 /* default_maxvcpus resolved, see below */
  guint64   default_maxvcpus;          /* 0 */
  guint64   default_memory;            /* 2048 */
  guint64   default_maxmemory;         /* 0 */
  guint64   memory_offset;             /* 0 */
  guint64   memory_slots;              /* 10 */
  gboolean  enable_virtio_mem;
  gboolean  enable_numa;
  GStrv     numa_mapping;
  gboolean  reclaim_guest_freed_memory;
  gboolean  enable_hugepages;
  gboolean  enable_mem_prealloc;
  char     *file_mem_backend;

  /* block and net */
  char     *block_device_driver;       /* "virtio-scsi" */
  char     *block_device_aio;          /* "threads" */
  gboolean  block_device_cache_set;
  gboolean  block_device_cache_direct;
  gboolean  block_device_cache_noflush;
  gboolean  enable_iothreads;
  gboolean  disable_vhost_net;
  HvkIoLimits disk_limits;             /* disk_rate_limiter_* */
  gboolean  disk_limits_shared;        /* disk_rate_limiter_shared: one group of the VM */
  HvkIoLimits net_limits;              /* net_rate_limiter_*, rx_/tx_rate_limiter_max_rate */

  /* shared file system */
  char     *shared_fs;                 /* "none" */
  char     *shared_path;
  char     *virtio_fs_daemon;          /* "/usr/lib/qemu/virtiofsd" */
  GStrv     valid_virtio_fs_daemon_paths;
  char     *virtio_fs_cache;
  guint64   virtio_fs_cache_size;      /* 0 */
  guint64   virtio_fs_queue_size;      /* 1024 */
  GStrv     virtio_fs_extra_args;

  /* entropy */
  char     *entropy_source;
  GStrv     valid_entropy_sources;

  /* VM templating */
  gboolean  boot_to_be_template;
  gboolean  boot_from_template;
  char     *memory_path;
  char     *devices_state_path;
} HvkQemuSettings;

/* Reads every setting of @config (nullable: all fallbacks) once.  A key
 * the config does not know (a plugin key of a config without a
 * registry) takes its fallback. */
HvkQemuSettings *hvk_qemu_settings_new  (HvkConfig       *config);
void             hvk_qemu_settings_free (HvkQemuSettings *settings);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HvkQemuSettings, hvk_qemu_settings_free)

/* Whether every table entry names a key the core or this plugin declares,
 * with the type the field has: a programming error otherwise, reported
 * as a registration error. */
gboolean hvk_qemu_settings_check_table (GError **error);

/* The keys of [hypervisor.qemu] the core does not know. */
const HvkConfigKey *hvk_qemu_settings_get_plugin_keys (guint *n_keys);

G_END_DECLS
