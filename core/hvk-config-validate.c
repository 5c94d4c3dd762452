/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <unistd.h>

#include "hvk-config-private.h"
#include "hvk-lookup-private.h"
#include "hvk-device-private.h"
#include "hvk-io-limits-private.h"

/* hvk_config_validate(): Kata's checks and defaults (katautils, govmm),
 * and the path allow-lists. */

/* Kata's defaults applied by validation (katautils, govmm). */
#define DEFAULT_VCPUS         1
#define DEFAULT_MEMORY_MIB    2048
#define DEFAULT_BRIDGES       1
#define MAX_BRIDGES           5
#define DEFAULT_MSIZE_9P      8192

/* Backends count memory in MiB in 32 bits (HvkHypervisor's resize_memory()
 * and get_total_memory_mb(), QEMU's and ACRN's layouts). */
#define MAX_MEMORY_MIB        G_MAXUINT32

/* govmm.MaxVCPUs() */
#if defined(__aarch64__)
# define MAX_VCPUS 123
#elif defined(__powerpc64__)
# define MAX_VCPUS 128
#elif defined(__s390x__)
# define MAX_VCPUS 248
#else
# define MAX_VCPUS 240
#endif

/* Paths checked against glob allow-lists by hvk_config_validate(). */
static const struct {
  const char *path_key;
  const char *list_key;
} allow_lists[] = {
  { "path", "valid_hypervisor_paths" },
  { "ctlpath", "valid_ctlpaths" },
  { "jailer_path", "valid_jailer_paths" },
  { "virtio_fs_daemon", "valid_virtio_fs_daemon_paths" },
  { "entropy_source", "valid_entropy_sources" },
  { "file_mem_backend", "valid_file_mem_backends" },
};

static const char * const block_device_drivers[] = {
  "virtio-scsi", "virtio-blk", "nvdimm", "virtio-mmio", "virtio-blk-ccw", NULL
};
static const char * const shared_fs_values[] = {
  "virtio-fs", "virtio-9p", "virtio-fs-nydus", "none", NULL
};
static const char * const rootfs_types[] = { "ext4", "xfs", "erofs", NULL };
static const char * const block_device_aios[] = { "threads", "native", "io_uring", NULL };
static const char * const virtio_fs_caches[] = { "never", "auto", "always", "metadata", NULL };

/* Keys that take one of a fixed set of values; empty means the default. */
static const struct {
  const char         *key;
  const char * const *values;
} enumerated_keys[] = {
  { "block_device_driver", block_device_drivers },
  { "shared_fs", shared_fs_values },
  { "rootfs_type", rootfs_types },
  { "block_device_aio", block_device_aios },
  { "virtio_fs_cache", virtio_fs_caches },
};

/**
 * hvk_config_check_template:
 * @self: a #HvkConfig
 * @error: return location for a #GError
 *
 * Kata's CheckTemplateConfig: a VM cannot both become and boot from a
 * template; either needs `memory_path`, booting from one also
 * `devices_state_path`.
 *
 * Returns: %TRUE if consistent; else %FALSE with %HVK_ERROR_INVALID_CONFIG
 */
gboolean
hvk_config_check_template (HvkConfig  *self,
                           GError    **error)
{
  gboolean to_be, from;

  g_return_val_if_fail (HVK_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  to_be = hvk_config_get_boolean (self, "boot_to_be_template");
  from = hvk_config_get_boolean (self, "boot_from_template");
  if (to_be && from)
    {
      config_error (self, error, "boot_from_template",
                    "Cannot set both 'to be' and 'from' vm tempate");
      return FALSE;
    }
  if (to_be || from)
    {
      if (!hvk_config_str_is_set (hvk_config_get_string (self, "memory_path")))
        {
          config_error (self, error, "memory_path", "Missing MemoryPath for vm template");
          return FALSE;
        }
      if (from && !hvk_config_str_is_set (hvk_config_get_string (self, "devices_state_path")))
        {
          config_error (self, error, "devices_state_path",
                        "Missing DevicesStatePath to Load from vm template");
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * hvk_config_check_allowed_path:
 * @self: a #HvkConfig
 * @path_key: a string key holding a path (`path`, `virtio_fs_daemon`, …)
 * @list_key: a string-list key of globs (`valid_hypervisor_paths`, …)
 * @error: return location for a #GError
 *
 * When the list is not empty and the path is set (a custom asset counts),
 * the path must match one glob of the list (g_pattern_match_simple()).
 *
 * Returns: %TRUE if allowed; else %FALSE with %HVK_ERROR_INVALID_CONFIG
 *   (`FILE: [hypervisor.qemu] path: '/x' is not in valid_hypervisor_paths`)
 */
gboolean
hvk_config_check_allowed_path (HvkConfig   *self,
                               const char  *path_key,
                               const char  *list_key,
                               GError     **error)
{
  const char * const *globs;
  const char *path;
  int asset;

  g_return_val_if_fail (HVK_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (path_key != NULL, FALSE);
  g_return_val_if_fail (list_key != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!hvk_values_check (self->store, path_key, HVK_VALUE_TYPE_STRING, G_STRFUNC) ||
      !hvk_values_check (self->store, list_key, HVK_VALUE_TYPE_STRV, G_STRFUNC))
    return FALSE;

  asset = hvk_config_asset_for_key (path_key);
  path = asset >= 0 ? hvk_config_get_asset_path (self, asset) : hvk_config_get_string (self, path_key);
  globs = hvk_config_get_strv (self, list_key);
  if (!hvk_config_str_is_set (path) || globs == NULL || globs[0] == NULL)
    return TRUE;

  for (gsize i = 0; globs[i] != NULL; i++)
    if (g_pattern_match_simple (globs[i], path))
      return TRUE;

  config_error (self, error, path_key, "'%s' is not in %s", path, list_key);
  return FALSE;
}

/* The host's physical memory in MiB, 0 if unknown.  For tests only,
 * HVKIT_TEST_HOST_MEMORY_MB (a positive number of MiB) stands for it, so
 * that limits can be checked the same on every machine. */
static guint64
host_memory_mib (void)
{
  const char *test_value = g_getenv ("HVKIT_TEST_HOST_MEMORY_MB");
  long pages = sysconf (_SC_PHYS_PAGES);
  long page_size = sysconf (_SC_PAGESIZE);
  guint64 mib;

  if (test_value != NULL
      && g_ascii_string_to_unsigned (test_value, 10, 1, G_MAXUINT64, &mib, NULL))
    return mib;
  if (pages <= 0 || page_size <= 0)
    return 0;
  return (guint64) pages * (guint64) page_size / (1024 * 1024);
}

/* Whether @key, set in @self, asks for something: a value other than
 * its default (false for a boolean that defaults to false asks nothing). */
static gboolean
key_asks (HvkConfig          *self,
          const HvkConfigKey *key)
{
  const char *dflt = key->default_value;

  if (!hvk_config_has_key (self, key->name))
    return FALSE;
  switch (key->type)
    {
    case HVK_CONFIG_TYPE_BOOLEAN:
      return hvk_config_get_boolean (self, key->name) != (g_strcmp0 (dflt, "true") == 0);
    case HVK_CONFIG_TYPE_UINT:
      return hvk_config_get_uint (self, key->name) != (dflt ? g_ascii_strtoull (dflt, NULL, 10) : 0);
    case HVK_CONFIG_TYPE_INT:
      return hvk_config_get_int (self, key->name) != (dflt ? g_ascii_strtoll (dflt, NULL, 10) : 0);
    case HVK_CONFIG_TYPE_DOUBLE:
      return hvk_config_get_double (self, key->name) != (dflt ? g_ascii_strtod (dflt, NULL) : 0);
    case HVK_CONFIG_TYPE_STRV:
    case HVK_CONFIG_TYPE_PATH_LIST:
      {
        const char * const *v = hvk_config_get_strv (self, key->name);

        return v != NULL && v[0] != NULL;
      }
    default:
      {
        const char *v = hvk_config_get_string (self, key->name);

        return v != NULL && *v != '\0' && g_strcmp0 (v, dflt) != 0;
      }
    }
}

/* The keys the backend refuses (hvk_plugin_register_refused_keys()): one
 * set to anything but its default is NOT_SUPPORTED, never ignored. */
static gboolean
check_refused_keys (HvkConfig  *self,
                    GError    **error)
{
  g_autoptr(GPtrArray) refused = NULL;

  if (self->registry == NULL || self->backend == NULL)
    return TRUE;
  refused = hvk_lookup_refused_keys (HVK_LOOKUP (self->registry), self->backend);
  for (guint i = 0; i < refused->len; i++)
    {
      const HvkRefusedKey *refusal = g_ptr_array_index (refused, i);
      const HvkConfigKey *key = hvk_config_lookup_key (self, refusal->name);

      if (key != NULL && key_asks (self, key))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                       "%s: [%s] %s: not supported by backend '%s' (%s)",
                       hvk_config_source_name (self), self->group, key->name,
                       self->backend, refusal->reason);
          return FALSE;
        }
    }
  return TRUE;
}

/* Kata labels the VMM process unless disable_selinux; hvkit labels it
 * only when the backend's selinux_label names a context (qemu).  Where
 * the host enforces SELinux, no label is given and the configuration did
 * not say disable_selinux=true (Kata's configs leave it false), say so
 * once rather than let it pass unnoticed.  Elsewhere there is no label to
 * apply and both values mean the same. */
static void
warn_unlabelled_vmm (HvkConfig *self)
{
  g_autofree char *enforce = NULL;
  const char *label = hvk_config_lookup_key (self, "selinux_label") != NULL
                      ? hvk_config_get_string (self, "selinux_label") : NULL;

  if (hvk_config_get_boolean (self, "disable_selinux") || (label != NULL && *label != '\0'))
    return;
  enforce = hvk_host_file ("/sys/fs/selinux/enforce");
  if (g_file_test (enforce, G_FILE_TEST_EXISTS))
    g_warning_once ("%s: [%s] disable_selinux=false: the host has SELinux but hvkit does not "
                    "label the VMM (it runs in hvkit's own context); set selinux_label, or "
                    "disable_selinux=true to say so", hvk_config_source_name (self), self->group);
}

/**
 * hvk_config_validate:
 * @self: a #HvkConfig
 * @error: return location for a #GError
 *
 * Checks the configuration as Kata's validateHypervisorConfig and
 * katautils do, and writes the resolved values back (so `hvkit check`
 * prints them): `kernel` and exactly one of `image`/`initrd` are required;
 * the template settings must agree (hvk_config_check_template());
 * `default_vcpus` 0 becomes 1, negative or above the host's CPUs becomes
 * the host's CPUs; `default_maxvcpus` 0 or above the host becomes the
 * host's CPUs (at most 240 on x86_64) and must not be below the vCPUs;
 * `default_memory` 0 becomes 2048; `default_maxmemory` 0 or above the host
 * becomes the host's memory in MiB (at most 2^32-1, what backends count);
 * `default_memory` must not be more than the host's memory,
 * `default_maxmemory` nor 2^32-1 MiB; `default_bridges` 0 becomes 1 and at
 * most 5; enumerated keys must hold one of their values (empty means the
 * default); `msize_9p` 0 becomes 8192 unless `shared_fs` is virtio-fs;
 * paths must match their allow-lists (hvk_config_check_allowed_path());
 * the I/O rate limits (`disk_rate_limiter_*`, `net_rate_limiter_*`,
 * `rx_`/`tx_rate_limiter_max_rate`) must not be negative, a bandwidth
 * not below 8 bits nor above %HVK_IO_LIMITS_MAX_BYTES bytes, and a
 * one-time burst needs its rate; a core key the backend refuses
 * (hvk_plugin_register_refused_keys()) must not be set to anything but
 * its default.
 *
 * Nothing is written back when validation fails.
 *
 * Returns: %TRUE if valid; else %FALSE with %HVK_ERROR_INVALID_CONFIG
 *   naming file, group and key (%HVK_ERROR_NOT_SUPPORTED for a refused
 *   key)
 */
gboolean
hvk_config_validate (HvkConfig  *self,
                     GError    **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  const char *enum_values[G_N_ELEMENTS (enumerated_keys)] = { NULL };
  guint host_cpus = g_get_num_processors ();
  guint64 host_mib = host_memory_mib ();
  guint64 max_vcpus_cap = MIN ((guint64) host_cpus, (guint64) MAX_VCPUS);
  double vcpus;
  guint64 maxvcpus, memory, maxmemory, bridges, msize;
  const char *shared_fs;

  g_return_val_if_fail (HVK_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Concurrent validations of one configuration must not both write
   * back (a rewrite frees values another thread may be reading). */
  locker = g_mutex_locker_new (&self->validate_lock);

  if (!check_refused_keys (self, error))
    return FALSE;
  warn_unlabelled_vmm (self);

  if (!hvk_config_str_is_set (hvk_config_get_asset_path (self, HVK_ASSET_KERNEL)))
    {
      config_error (self, error, "kernel", "Missing kernel path");
      return FALSE;
    }
  {
    gboolean image = hvk_config_str_is_set (hvk_config_get_asset_path (self, HVK_ASSET_IMAGE));
    gboolean initrd = hvk_config_str_is_set (hvk_config_get_asset_path (self, HVK_ASSET_INITRD));

    if (!image && !initrd)
      {
        config_error (self, error, "image", "Missing image and initrd path");
        return FALSE;
      }
    if (image && initrd)
      {
        config_error (self, error, "initrd", "Image and initrd path cannot be both set");
        return FALSE;
      }
  }

  if (!hvk_config_check_template (self, error))
    return FALSE;

  vcpus = hvk_config_get_double (self, "default_vcpus");
  if (vcpus < 0 || vcpus > host_cpus)
    vcpus = host_cpus;
  else if (vcpus == 0)
    vcpus = DEFAULT_VCPUS;

  maxvcpus = hvk_config_get_uint (self, "default_maxvcpus");
  if (maxvcpus == 0 || maxvcpus > max_vcpus_cap)
    maxvcpus = max_vcpus_cap;
  if (hvk_round_up_num_vcpus (vcpus) > maxvcpus)
    {
      config_error (self, error, "default_maxvcpus",
                    "%" G_GUINT64_FORMAT " is less than default_vcpus (%u)",
                    maxvcpus, hvk_round_up_num_vcpus (vcpus));
      return FALSE;
    }

  memory = hvk_config_get_uint (self, "default_memory");
  if (memory == 0)
    memory = DEFAULT_MEMORY_MIB;

  maxmemory = hvk_config_get_uint (self, "default_maxmemory");
  if (host_mib > 0 && (maxmemory == 0 || maxmemory > host_mib))
    maxmemory = host_mib;
  if (maxmemory > MAX_MEMORY_MIB)
    maxmemory = MAX_MEMORY_MIB;

  /* The VMM could not allocate more than the host has (QEMU fails only
   * at start), and backends count MiB in 32 bits. */
  if (host_mib > 0 && memory > host_mib)
    {
      config_error (self, error, "default_memory",
                    "%" G_GUINT64_FORMAT " MiB%s is more than the host's memory (%"
                    G_GUINT64_FORMAT " MiB)", memory,
                    hvk_config_has_key (self, "default_memory") ? "" : " (the default)", host_mib);
      return FALSE;
    }
  if (memory > MAX_MEMORY_MIB)
    {
      config_error (self, error, "default_memory",
                    "%" G_GUINT64_FORMAT " MiB is more than the backends' limit of %u MiB",
                    memory, MAX_MEMORY_MIB);
      return FALSE;
    }
  if (maxmemory > 0 && memory > maxmemory)
    {
      config_error (self, error, "default_memory",
                    "%" G_GUINT64_FORMAT " MiB%s is more than default_maxmemory (%"
                    G_GUINT64_FORMAT " MiB)", memory,
                    hvk_config_has_key (self, "default_memory") ? "" : " (the default)", maxmemory);
      return FALSE;
    }

  bridges = hvk_config_get_uint (self, "default_bridges");
  if (bridges == 0)
    bridges = DEFAULT_BRIDGES;
  else if (bridges > MAX_BRIDGES)
    bridges = MAX_BRIDGES;

  for (gsize i = 0; i < G_N_ELEMENTS (enumerated_keys); i++)
    {
      const char *key = enumerated_keys[i].key;
      const char *value = hvk_config_get_string (self, key);

      if (!hvk_config_str_is_set (value))
        {
          const HvkConfigKey *k = hvk_config_keys_lookup_core (key);

          enum_values[i] = k->default_value;
          continue;
        }
      if (!g_strv_contains (enumerated_keys[i].values, value))
        {
          g_autofree char *allowed = hvk_device_kinds_describe_enum (enumerated_keys[i].values);

          config_error (self, error, key, "invalid value '%s' (expected %s)", value, allowed);
          return FALSE;
        }
      enum_values[i] = value;
    }

  if (!hvk_io_limits_check_config (self, error))
    return FALSE;

  for (gsize i = 0; i < G_N_ELEMENTS (allow_lists); i++)
    if (!hvk_config_check_allowed_path (self, allow_lists[i].path_key, allow_lists[i].list_key, error))
      return FALSE;

  /* Valid: write back what changed. */
  if (vcpus != hvk_config_get_double (self, "default_vcpus"))
    hvk_config_set_double (self, "default_vcpus", vcpus);
  if (maxvcpus != hvk_config_get_uint (self, "default_maxvcpus"))
    hvk_config_set_uint (self, "default_maxvcpus", maxvcpus);
  if (memory != hvk_config_get_uint (self, "default_memory"))
    hvk_config_set_uint (self, "default_memory", memory);
  if (maxmemory != hvk_config_get_uint (self, "default_maxmemory"))
    hvk_config_set_uint (self, "default_maxmemory", maxmemory);
  if (bridges != hvk_config_get_uint (self, "default_bridges"))
    hvk_config_set_uint (self, "default_bridges", bridges);
  for (gsize i = 0; i < G_N_ELEMENTS (enumerated_keys); i++)
    if (g_strcmp0 (enum_values[i], hvk_config_get_string (self, enumerated_keys[i].key)) != 0)
      hvk_config_set_string (self, enumerated_keys[i].key, enum_values[i]);

  shared_fs = hvk_config_get_string (self, "shared_fs");
  msize = hvk_config_get_uint (self, "msize_9p");
  if (msize == 0 && g_strcmp0 (shared_fs, "virtio-fs") != 0)
    hvk_config_set_uint (self, "msize_9p", DEFAULT_MSIZE_9P);

  return TRUE;
}

