/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "hvk-config-private.h"
#include "hvk-device-private.h"

/**
 * HvkConfig:
 *
 * The configuration of one VM (Kata's `HypervisorConfig`): the backend
 * name, values of the configuration keys, the user's kernel parameters,
 * custom assets and cold-plugged devices.  Keys not set read as their
 * defaults.
 *
 * Threads: one configuration may serve many VMs in many threads (each
 * backend's create_vm() validates it).  Reads and hvk_config_validate()
 * may run at once: validations run one at a time and a valid
 * configuration is not changed by validating it again.  Setters must not
 * run while other threads use the configuration.
 */
struct _HvkConfig {
  GObject      parent_instance;

  char        *backend;
  char        *group;            /* "hypervisor.BACKEND" */
  char        *source;           /* file name, NULL when built in code */
  HvkRegistry *registry;         /* for backend keys, nullable */

  HvkValues   *store;            /* the values set explicitly */
  GHashTable  *backend_defaults; /* key → HvkValue, parsed on first use
                                  * (under the store's lock) */
  GMutex       validate_lock;    /* one hvk_config_validate() at a time */

  GPtrArray   *kernel_params;    /* HvkParam: the user's kernel_params */
  char        *custom_assets[HVK_ASSET_FIRMWARE_VOLUME + 1];
  GPtrArray   *devices;          /* HvkDevice, in file order */
  char        *vm_store_path;
};

G_DEFINE_FINAL_TYPE (HvkConfig, hvk_config, G_TYPE_OBJECT)

#define UNKNOWN_SOURCE        "<config>"
#define HYPERVISOR_GROUP      "hypervisor"
#define HYPERVISOR_GROUP_DOT  "hypervisor."
#define DEVICE_GROUP_DOT      "device."
#define BACKEND_KEY           "backend"
#define KERNEL_PARAMS_KEY     "kernel_params"

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

static const struct {
  const char *name;   /* Kata's AssetType string */
  const char *key;    /* our configuration key */
} asset_types[] = {
  [HVK_ASSET_KERNEL]          = { "kernel", "kernel" },
  [HVK_ASSET_IMAGE]           = { "image", "image" },
  [HVK_ASSET_INITRD]          = { "initrd", "initrd" },
  [HVK_ASSET_HYPERVISOR]      = { "hypervisor", "path" },
  [HVK_ASSET_HYPERVISOR_CTL]  = { "hypervisorctl", "ctlpath" },
  [HVK_ASSET_JAILER]          = { "jailer", "jailer_path" },
  [HVK_ASSET_FIRMWARE]        = { "firmware", "firmware" },
  [HVK_ASSET_FIRMWARE_VOLUME] = { "firmware_volume", "firmware_volume" },
};

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
 * hvk_asset_type_to_string:
 * @type: an #HvkAssetType
 *
 * Returns: Kata's name of the asset type (`kernel`, `hypervisor`, …), or
 *   %NULL for an invalid value
 */
const char *
hvk_asset_type_to_string (HvkAssetType type)
{
  g_return_val_if_fail ((guint) type < G_N_ELEMENTS (asset_types), NULL);
  return asset_types[type].name;
}

/**
 * hvk_asset_type_to_key:
 * @type: an #HvkAssetType
 *
 * Returns: the configuration key holding the asset's path (`kernel`,
 *   `path`, `jailer_path`, …), or %NULL for an invalid value
 */
const char *
hvk_asset_type_to_key (HvkAssetType type)
{
  g_return_val_if_fail ((guint) type < G_N_ELEMENTS (asset_types), NULL);
  return asset_types[type].key;
}

static const HvkValuesOwner config_values_owner;

static void
hvk_config_finalize (GObject *object)
{
  HvkConfig *self = HVK_CONFIG (object);

  g_free (self->backend);
  g_free (self->group);
  g_free (self->source);
  g_clear_object (&self->registry);
  hvk_values_free (self->store);
  g_hash_table_unref (self->backend_defaults);
  g_ptr_array_unref (self->kernel_params);
  for (gsize i = 0; i < G_N_ELEMENTS (self->custom_assets); i++)
    g_free (self->custom_assets[i]);
  g_ptr_array_unref (self->devices);
  g_free (self->vm_store_path);
  g_mutex_clear (&self->validate_lock);

  G_OBJECT_CLASS (hvk_config_parent_class)->finalize (object);
}

static void
hvk_config_class_init (HvkConfigClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hvk_config_finalize;
}

static void
hvk_config_init (HvkConfig *self)
{
  g_mutex_init (&self->validate_lock);
  self->store = hvk_values_new (&config_values_owner, self);
  self->backend_defaults = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                  (GDestroyNotify) hvk_value_free);
  self->kernel_params = hvk_params_new ();
  self->devices = g_ptr_array_new_with_free_func (g_object_unref);
}

/**
 * hvk_config_new:
 * @backend: the backend name (`qemu`, `acrn`, …)
 *
 * Creates a configuration with every key at its default.
 *
 * Returns: (transfer full): a new #HvkConfig
 */
HvkConfig *
hvk_config_new (const char *backend)
{
  HvkConfig *self;

  g_return_val_if_fail (backend != NULL && *backend != '\0', NULL);

  self = g_object_new (HVK_TYPE_CONFIG, NULL);
  self->backend = g_strdup (backend);
  self->group = g_strconcat (HYPERVISOR_GROUP_DOT, backend, NULL);
  return self;
}

static const char *
source_name (HvkConfig *self)
{
  return self->source ? self->source : UNKNOWN_SOURCE;
}

/* Errors in a configuration: `FILE: [GROUP] KEY: what is wrong`. */
static void
set_config_error (GError    **error,
                  const char *source,
                  const char *group,
                  const char *key,
                  const char *format,
                  ...) G_GNUC_PRINTF (5, 6);

static void
set_config_error (GError    **error,
                  const char *source,
                  const char *group,
                  const char *key,
                  const char *format,
                  ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (key != NULL)
    g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG, "%s: [%s] %s: %s",
                 source, group, key, message);
  else
    g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG, "%s: [%s]: %s",
                 source, group, message);
}

#define config_error(self, error, key, ...) \
  set_config_error (error, source_name (self), (self)->group, key, __VA_ARGS__)

/**
 * hvk_config_get_backend:
 * @self: a #HvkConfig
 *
 * Returns: the backend name
 */
const char *
hvk_config_get_backend (HvkConfig *self)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  return self->backend;
}

/**
 * hvk_config_get_source:
 * @self: a #HvkConfig
 *
 * Returns: (nullable): the file the configuration was loaded from, as
 *   given, or %NULL when it was built in code
 */
const char *
hvk_config_get_source (HvkConfig *self)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  return self->source;
}

/**
 * hvk_config_get_group:
 * @self: a #HvkConfig
 *
 * Returns: the key-file group of the backend settings (`hypervisor.qemu`)
 */
const char *
hvk_config_get_group (HvkConfig *self)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  return self->group;
}

/**
 * hvk_config_get_registry:
 * @self: a #HvkConfig
 *
 * Returns: (transfer none) (nullable): the registry that resolves the
 *   backend's own keys, or %NULL
 */
HvkRegistry *
hvk_config_get_registry (HvkConfig *self)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  return self->registry;
}

/**
 * hvk_config_set_registry:
 * @self: a #HvkConfig
 * @registry: (nullable): a registry
 *
 * Sets the registry through which hvk_config_lookup_key() finds the keys
 * the backend declared (hvk_plugin_register_config_keys()).  Configurations
 * loaded from a file keep the registry they were loaded with.
 */
void
hvk_config_set_registry (HvkConfig   *self,
                         HvkRegistry *registry)
{
  g_return_if_fail (HVK_IS_CONFIG (self));
  g_return_if_fail (registry == NULL || HVK_IS_REGISTRY (registry));

  if (g_set_object (&self->registry, registry))
    {
      hvk_values_lock (self->store);
      g_hash_table_remove_all (self->backend_defaults);
      hvk_values_unlock (self->store);
    }
}

/**
 * hvk_config_lookup_key:
 * @self: a #HvkConfig
 * @key: a key name
 *
 * Finds @key among the core keys, then among the keys the backend
 * declared through the configuration's registry.
 *
 * Returns: (transfer none) (nullable): the key, or %NULL if unknown
 */
const HvkConfigKey *
hvk_config_lookup_key (HvkConfig  *self,
                       const char *key)
{
  const HvkConfigKey *found;

  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  found = hvk_config_keys_lookup_core (key);
  if (found == NULL && self->registry != NULL)
    found = hvk_registry_lookup_config_key (self->registry, self->backend, key);
  return found;
}

/**
 * hvk_config_has_key:
 * @self: a #HvkConfig
 * @key: a key name
 *
 * Returns: whether @key was set explicitly (by the file, a setter or
 *   validation); a default does not count
 */
gboolean
hvk_config_has_key (HvkConfig  *self,
                    const char *key)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  return hvk_values_has (self->store, key);
}

/* ---- the value store's owner ---- */

static void
spec_from_key (const HvkConfigKey *key,
               HvkValueSpec       *spec)
{
  spec->name = key->name;
  spec->type = hvk_config_value_type_to_variant_type (key->type);
  spec->is_path = key->type == HVK_CONFIG_TYPE_PATH || key->type == HVK_CONFIG_TYPE_PATH_LIST;
  spec->handle = key;
}

static gboolean
config_describe (gpointer      owner,
                 const char   *name,
                 HvkValueSpec *spec)
{
  const HvkConfigKey *key = hvk_config_lookup_key (owner, name);

  if (key != NULL)
    spec_from_key (key, spec);
  return key != NULL;
}

/* Called with the store locked: it caches parsed backend defaults. */
static HvkValue *
config_get_default (gpointer            owner,
                    const HvkValueSpec *spec)
{
  HvkConfig *self = owner;
  const HvkConfigKey *key = spec->handle;
  HvkValue *value;
  GVariant *variant;
  g_autofree char *problem = NULL;

  if (hvk_config_keys_lookup_core (key->name) == key)
    return hvk_config_keys_core_default (key);
  if (key->default_value == NULL)
    return NULL;

  value = g_hash_table_lookup (self->backend_defaults, key->name);
  if (value != NULL)
    return value;
  variant = hvk_value_parse (spec->type, key->default_value, HVK_LIST_SYNTAX_KEY_FILE, &problem);
  if (variant == NULL)
    {
      g_warning ("backend %s: config key %s: bad default: %s", self->backend, key->name, problem);
      return NULL;
    }
  value = hvk_value_new (variant);
  g_hash_table_insert (self->backend_defaults, g_strdup (key->name), value);
  return value;
}

/* Unknown keys and type mismatches are programmer errors. */
static void
config_warn_unknown (gpointer    owner,
                     const char *func,
                     const char *name)
{
  g_critical ("%s: unknown configuration key '%s' (backend %s)", func, name,
              ((HvkConfig *) owner)->backend);
}

static void
config_warn_mistyped (gpointer    owner,
                      const char *func,
                      const char *name)
{
  g_critical ("%s: configuration key '%s' has another type", func, name);
}

/* Keeps the kernel parameter list in step with `kernel_params`. */
static void
config_changed (gpointer    owner,
                const char *name,
                GVariant   *value)
{
  HvkConfig *self = owner;

  if (!g_str_equal (name, KERNEL_PARAMS_KEY))
    return;
  g_ptr_array_unref (self->kernel_params);
  if (value != NULL)
    self->kernel_params = hvk_kernel_params_parse (g_variant_get_string (value, NULL));
  else
    self->kernel_params = hvk_params_new ();
}

static const HvkValuesOwner config_values_owner = {
  .describe = config_describe,
  .get_default = config_get_default,
  .warn_unknown = config_warn_unknown,
  .warn_mistyped = config_warn_mistyped,
  .changed = config_changed,
};

static void
store_value (HvkConfig          *self,
             const HvkConfigKey *key,
             GVariant           *variant)
{
  HvkValueSpec spec;

  spec_from_key (key, &spec);
  hvk_values_store (self->store, &spec, variant);
}

/**
 * hvk_config_get_string:
 * @self: a #HvkConfig
 * @key: a string key
 *
 * Returns: (nullable): the value, else the key's default, else %NULL
 */
const char *
hvk_config_get_string (HvkConfig  *self,
                       const char *key)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  return hvk_values_get_string (self->store, key, G_STRFUNC);
}

/**
 * hvk_config_get_boolean:
 * @self: a #HvkConfig
 * @key: a boolean key
 *
 * Returns: the value, else the key's default, else %FALSE
 */
gboolean
hvk_config_get_boolean (HvkConfig  *self,
                        const char *key)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  return hvk_values_get_boolean (self->store, key, G_STRFUNC);
}

/**
 * hvk_config_get_uint:
 * @self: a #HvkConfig
 * @key: an unsigned integer key
 *
 * Returns: the value, else the key's default, else 0
 */
guint64
hvk_config_get_uint (HvkConfig  *self,
                     const char *key)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), 0);
  g_return_val_if_fail (key != NULL, 0);

  return hvk_values_get_uint (self->store, key, G_STRFUNC);
}

/**
 * hvk_config_get_int:
 * @self: a #HvkConfig
 * @key: a signed integer key
 *
 * Returns: the value, else the key's default, else 0
 */
gint64
hvk_config_get_int (HvkConfig  *self,
                    const char *key)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), 0);
  g_return_val_if_fail (key != NULL, 0);

  return hvk_values_get_int (self->store, key, G_STRFUNC);
}

/**
 * hvk_config_get_double:
 * @self: a #HvkConfig
 * @key: a floating point key
 *
 * Returns: the value, else the key's default, else 0
 */
double
hvk_config_get_double (HvkConfig  *self,
                       const char *key)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), 0);
  g_return_val_if_fail (key != NULL, 0);

  return hvk_values_get_double (self->store, key, G_STRFUNC);
}

/**
 * hvk_config_get_strv:
 * @self: a #HvkConfig
 * @key: a string-list key
 *
 * Returns: (nullable) (transfer none) (array zero-terminated=1): the value,
 *   else the key's default, else %NULL; valid until @key is set again
 */
const char * const *
hvk_config_get_strv (HvkConfig  *self,
                     const char *key)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  return hvk_values_get_strv (self->store, key, G_STRFUNC);
}

/**
 * hvk_config_dup_value_string:
 * @self: a #HvkConfig
 * @key: a key name
 *
 * Formats the value of any key in key-file syntax (lists `;`-separated),
 * as `hvkit check` prints it.
 *
 * Returns: (transfer full) (nullable): the value or default as text, or
 *   %NULL when @key has neither
 */
char *
hvk_config_dup_value_string (HvkConfig  *self,
                             const char *key)
{
  HvkValue *value;

  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  value = hvk_values_get (self->store, key, NULL, G_STRFUNC);
  return value ? hvk_value_to_string (value->variant, HVK_LIST_SYNTAX_KEY_FILE) : NULL;
}

/**
 * hvk_config_set_string:
 * @self: a #HvkConfig
 * @key: a string key
 * @value: (nullable): the value, or %NULL to go back to the default
 *
 * Sets a string key.  Setting `kernel_params` parses it into the list
 * returned by hvk_config_get_kernel_params().
 */
void
hvk_config_set_string (HvkConfig  *self,
                       const char *key,
                       const char *value)
{
  g_return_if_fail (HVK_IS_CONFIG (self));
  g_return_if_fail (key != NULL);

  hvk_values_set (self->store, key, HVK_VALUE_TYPE_STRING,
                  value ? g_variant_new_string (value) : NULL, G_STRFUNC);
}

/**
 * hvk_config_set_boolean:
 * @self: a #HvkConfig
 * @key: a boolean key
 * @value: the value
 *
 * Sets a boolean key.
 */
void
hvk_config_set_boolean (HvkConfig  *self,
                        const char *key,
                        gboolean    value)
{
  g_return_if_fail (HVK_IS_CONFIG (self));
  g_return_if_fail (key != NULL);

  hvk_values_set (self->store, key, HVK_VALUE_TYPE_BOOLEAN,
                  g_variant_new_boolean (value), G_STRFUNC);
}

/**
 * hvk_config_set_uint:
 * @self: a #HvkConfig
 * @key: an unsigned integer key
 * @value: the value
 *
 * Sets an unsigned integer key.
 */
void
hvk_config_set_uint (HvkConfig  *self,
                     const char *key,
                     guint64     value)
{
  g_return_if_fail (HVK_IS_CONFIG (self));
  g_return_if_fail (key != NULL);

  hvk_values_set (self->store, key, HVK_VALUE_TYPE_UINT,
                  g_variant_new_uint64 (value), G_STRFUNC);
}

/**
 * hvk_config_set_int:
 * @self: a #HvkConfig
 * @key: a signed integer key
 * @value: the value
 *
 * Sets a signed integer key.
 */
void
hvk_config_set_int (HvkConfig  *self,
                    const char *key,
                    gint64      value)
{
  g_return_if_fail (HVK_IS_CONFIG (self));
  g_return_if_fail (key != NULL);

  hvk_values_set (self->store, key, HVK_VALUE_TYPE_INT,
                  g_variant_new_int64 (value), G_STRFUNC);
}

/**
 * hvk_config_set_double:
 * @self: a #HvkConfig
 * @key: a floating point key
 * @value: the value
 *
 * Sets a floating point key.
 */
void
hvk_config_set_double (HvkConfig  *self,
                       const char *key,
                       double      value)
{
  g_return_if_fail (HVK_IS_CONFIG (self));
  g_return_if_fail (key != NULL);

  hvk_values_set (self->store, key, HVK_VALUE_TYPE_DOUBLE,
                  g_variant_new_double (value), G_STRFUNC);
}

/**
 * hvk_config_set_strv:
 * @self: a #HvkConfig
 * @key: a string-list key
 * @value: (nullable) (array zero-terminated=1): the value, or %NULL to go
 *   back to the default
 *
 * Sets a string-list key.
 */
void
hvk_config_set_strv (HvkConfig          *self,
                     const char         *key,
                     const char * const *value)
{
  g_return_if_fail (HVK_IS_CONFIG (self));
  g_return_if_fail (key != NULL);

  hvk_values_set (self->store, key, HVK_VALUE_TYPE_STRV,
                  value ? g_variant_new_strv (value, -1) : NULL, G_STRFUNC);
}

/* Parses @text for @key and stores it; errors name file, group and key. */
static gboolean
set_from_text (HvkConfig          *self,
               const HvkConfigKey *key,
               const char         *text,
               GError            **error)
{
  g_autofree char *problem = NULL;
  HvkValueSpec spec;

  spec_from_key (key, &spec);
  if (!hvk_values_set_from_text (self->store, &spec, text, HVK_LIST_SYNTAX_KEY_FILE, &problem))
    {
      config_error (self, error, key->name, "%s", problem);
      return FALSE;
    }
  return TRUE;
}

/**
 * hvk_config_set_from_string:
 * @self: a #HvkConfig
 * @key: a key name
 * @text: the value in key-file syntax (lists `;`-separated)
 * @error: return location for a #GError
 *
 * Parses @text by the type of @key and sets it.
 *
 * Returns: %TRUE on success; %FALSE with %HVK_ERROR_INVALID_CONFIG when
 *   @key is unknown or @text is not a valid value
 */
gboolean
hvk_config_set_from_string (HvkConfig   *self,
                            const char  *key,
                            const char  *text,
                            GError     **error)
{
  const HvkConfigKey *k;

  g_return_val_if_fail (HVK_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  k = hvk_config_lookup_key (self, key);
  if (k == NULL)
    {
      config_error (self, error, key, "unknown key");
      return FALSE;
    }
  return set_from_text (self, k, text, error);
}

/* ---- vCPUs and kernel parameters ---- */

/**
 * hvk_round_up_num_vcpus:
 * @vcpus: a (possibly fractional) number of vCPUs
 *
 * Kata's RoundUpNumVCPUs: the ceiling of @vcpus.
 *
 * Returns: the number of whole vCPUs, 0 for values that are not positive
 */
guint32
hvk_round_up_num_vcpus (double vcpus)
{
  double up;

  if (!(vcpus > 0))   /* also NaN */
    return 0;
  up = ceil (vcpus);
  return up >= G_MAXUINT32 ? G_MAXUINT32 : (guint32) up;
}

/**
 * hvk_config_get_num_vcpus:
 * @self: a #HvkConfig
 *
 * Returns: `default_vcpus` rounded up
 */
guint32
hvk_config_get_num_vcpus (HvkConfig *self)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), 0);
  return hvk_round_up_num_vcpus (hvk_config_get_double (self, "default_vcpus"));
}

/**
 * hvk_config_get_kernel_params:
 * @self: a #HvkConfig
 *
 * The user's kernel parameters: `kernel_params` parsed, plus those added
 * with hvk_config_add_kernel_param().
 *
 * Returns: (transfer none) (element-type HvkParam): the parameters
 */
GPtrArray *
hvk_config_get_kernel_params (HvkConfig *self)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  return self->kernel_params;
}

/**
 * hvk_config_add_kernel_param:
 * @self: a #HvkConfig
 * @key: the parameter name
 * @value: (nullable): its value
 * @error: return location for a #GError
 *
 * Kata's AddKernelParam: appends a user kernel parameter (`kernel_params`
 * is updated to match).
 *
 * Returns: %TRUE on success; %FALSE with %HVK_ERROR_INVALID_ARGUMENT
 *   (`Empty kernel parameter`) when @key is empty
 */
gboolean
hvk_config_add_kernel_param (HvkConfig   *self,
                             const char  *key,
                             const char  *value,
                             GError     **error)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (HVK_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (key == NULL || *key == '\0')
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT, "Empty kernel parameter");
      return FALSE;
    }
  hvk_params_append (self->kernel_params, key, value ? value : "");
  text = hvk_params_to_string (self->kernel_params);
  /* Not stored as set: re-parsing could split a value with spaces. */
  hvk_values_insert (self->store, KERNEL_PARAMS_KEY, g_variant_new_string (text));
  return TRUE;
}

/* ---- assets ---- */

static gboolean
is_set (const char *s)
{
  return s != NULL && *s != '\0';
}

/**
 * hvk_config_get_asset_path:
 * @self: a #HvkConfig
 * @type: an #HvkAssetType
 *
 * Kata's assetPath: a custom asset takes precedence over the configured
 * path.
 *
 * Returns: (nullable): the path, or %NULL if none
 */
const char *
hvk_config_get_asset_path (HvkConfig    *self,
                           HvkAssetType  type)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  g_return_val_if_fail ((guint) type < G_N_ELEMENTS (asset_types), NULL);

  if (self->custom_assets[type] != NULL)
    return self->custom_assets[type];
  return hvk_config_get_string (self, asset_types[type].key);
}

/**
 * hvk_config_is_custom_asset:
 * @self: a #HvkConfig
 * @type: an #HvkAssetType
 *
 * Returns: whether a custom asset of @type was added
 */
gboolean
hvk_config_is_custom_asset (HvkConfig    *self,
                            HvkAssetType  type)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), FALSE);
  g_return_val_if_fail ((guint) type < G_N_ELEMENTS (asset_types), FALSE);

  return self->custom_assets[type] != NULL;
}

/**
 * hvk_config_add_custom_asset:
 * @self: a #HvkConfig
 * @type: an #HvkAssetType
 * @path: (nullable): an absolute path
 * @error: return location for a #GError
 *
 * Kata's AddCustomAsset: an asset that overrides the configured path (from
 * an annotation, say).  A %NULL or empty @path adds nothing.
 *
 * Returns: %TRUE on success; %FALSE with %HVK_ERROR_INVALID_ARGUMENT
 *   (`Invalid kernel at foo`) when @path is not absolute
 */
gboolean
hvk_config_add_custom_asset (HvkConfig    *self,
                             HvkAssetType  type,
                             const char   *path,
                             GError      **error)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), FALSE);
  g_return_val_if_fail ((guint) type < G_N_ELEMENTS (asset_types), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!is_set (path))
    return TRUE;
  if (!g_path_is_absolute (path))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "Invalid %s at %s", asset_types[type].name, path);
      return FALSE;
    }
  g_free (self->custom_assets[type]);
  self->custom_assets[type] = g_strdup (path);
  return TRUE;
}

#define CONFLICTING_ASSETS "cannot set both image and initrd at the same time"

/* Kata's checkAndReturn(); returns -1 on conflict, 0 when neither is set. */
static int
pick_image_or_initrd (const char    *image,
                      const char    *initrd,
                      const char   **path,
                      HvkAssetType  *type)
{
  if (is_set (image) && is_set (initrd))
    return -1;
  if (is_set (image))
    {
      *path = image;
      *type = HVK_ASSET_IMAGE;
      return 1;
    }
  if (is_set (initrd))
    {
      *path = initrd;
      *type = HVK_ASSET_INITRD;
      return 1;
    }
  return 0;
}

/**
 * hvk_config_image_or_initrd_path:
 * @self: a #HvkConfig
 * @path: (out) (transfer none): the image or initrd path
 * @type: (out): %HVK_ASSET_IMAGE or %HVK_ASSET_INITRD
 * @error: return location for a #GError
 *
 * Kata's ImageOrInitrdAssetPath: custom assets first, then the configured
 * paths.  Exactly one of image and initrd must be set.
 *
 * Returns: %TRUE on success; %FALSE with %HVK_ERROR_INVALID_CONFIG and
 *   Kata's messages otherwise
 */
gboolean
hvk_config_image_or_initrd_path (HvkConfig     *self,
                                 const char   **path,
                                 HvkAssetType  *type,
                                 GError       **error)
{
  const char *p = NULL;
  HvkAssetType t = HVK_ASSET_IMAGE;
  int r;

  g_return_val_if_fail (HVK_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  r = pick_image_or_initrd (self->custom_assets[HVK_ASSET_IMAGE],
                            self->custom_assets[HVK_ASSET_INITRD], &p, &t);
  if (r < 0)
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                           "conflicting annotations: " CONFLICTING_ASSETS);
      return FALSE;
    }
  if (r == 0)
    r = pick_image_or_initrd (hvk_config_get_string (self, "image"),
                              hvk_config_get_string (self, "initrd"), &p, &t);
  if (r < 0)
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG, CONFLICTING_ASSETS);
      return FALSE;
    }
  if (r == 0)
    {
      g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                           "one of image and initrd must be set");
      return FALSE;
    }
  if (path != NULL)
    *path = p;
  if (type != NULL)
    *type = t;
  return TRUE;
}

/* ---- validation ---- */

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
      if (!is_set (hvk_config_get_string (self, "memory_path")))
        {
          config_error (self, error, "memory_path", "Missing MemoryPath for vm template");
          return FALSE;
        }
      if (from && !is_set (hvk_config_get_string (self, "devices_state_path")))
        {
          config_error (self, error, "devices_state_path",
                        "Missing DevicesStatePath to Load from vm template");
          return FALSE;
        }
    }
  return TRUE;
}

/* The asset whose configured path is @key, or -1. */
static int
asset_for_key (const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (asset_types); i++)
    if (g_str_equal (asset_types[i].key, key))
      return i;
  return -1;
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

  asset = asset_for_key (path_key);
  path = asset >= 0 ? hvk_config_get_asset_path (self, asset) : hvk_config_get_string (self, path_key);
  globs = hvk_config_get_strv (self, list_key);
  if (!is_set (path) || globs == NULL || globs[0] == NULL)
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
 * paths must match their allow-lists (hvk_config_check_allowed_path()).
 *
 * Nothing is written back when validation fails.
 *
 * Returns: %TRUE if valid; else %FALSE with %HVK_ERROR_INVALID_CONFIG
 *   naming file, group and key
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

  if (!is_set (hvk_config_get_asset_path (self, HVK_ASSET_KERNEL)))
    {
      config_error (self, error, "kernel", "Missing kernel path");
      return FALSE;
    }
  {
    gboolean image = is_set (hvk_config_get_asset_path (self, HVK_ASSET_IMAGE));
    gboolean initrd = is_set (hvk_config_get_asset_path (self, HVK_ASSET_INITRD));

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

      if (!is_set (value))
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

/* ---- devices ---- */

/**
 * hvk_config_get_devices:
 * @self: a #HvkConfig
 *
 * Returns: (transfer none) (element-type HvkDevice): the cold-plugged
 *   devices, in file order
 */
GPtrArray *
hvk_config_get_devices (HvkConfig *self)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  return self->devices;
}

/**
 * hvk_config_lookup_device:
 * @self: a #HvkConfig
 * @id: a device id
 *
 * Returns: (transfer none) (nullable): the device with that id, or %NULL
 */
HvkDevice *
hvk_config_lookup_device (HvkConfig  *self,
                          const char *id)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  for (guint i = 0; i < self->devices->len; i++)
    {
      HvkDevice *device = g_ptr_array_index (self->devices, i);

      if (g_str_equal (hvk_device_get_id (device), id))
        return device;
    }
  return NULL;
}

/**
 * hvk_config_add_device:
 * @self: a #HvkConfig
 * @device: a device
 * @error: return location for a #GError
 *
 * Appends a cold-plugged device after validating it.
 *
 * Returns: %TRUE on success; %FALSE with %HVK_ERROR_INVALID_ARGUMENT when
 *   the device is invalid or its id is taken
 */
gboolean
hvk_config_add_device (HvkConfig  *self,
                       HvkDevice  *device,
                       GError    **error)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), FALSE);
  g_return_val_if_fail (HVK_IS_DEVICE (device), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!hvk_device_validate (device, error))
    return FALSE;
  if (hvk_config_lookup_device (self, hvk_device_get_id (device)) != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "device '%s': id already used in %s", hvk_device_get_id (device),
                   source_name (self));
      return FALSE;
    }
  g_ptr_array_add (self->devices, g_object_ref (device));
  return TRUE;
}

/**
 * hvk_config_get_vm_store_path:
 * @self: a #HvkConfig
 *
 * Returns: (nullable): the directory for the VM's runtime files (a run-time
 *   setting, not a configuration key)
 */
const char *
hvk_config_get_vm_store_path (HvkConfig *self)
{
  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);
  return self->vm_store_path;
}

/**
 * hvk_config_set_vm_store_path:
 * @self: a #HvkConfig
 * @path: (nullable): a directory
 *
 * Sets the directory for the VM's runtime files.
 */
void
hvk_config_set_vm_store_path (HvkConfig  *self,
                              const char *path)
{
  g_return_if_fail (HVK_IS_CONFIG (self));

  g_free (self->vm_store_path);
  self->vm_store_path = g_strdup (path);
}

/* ---- key files ---- */

static gboolean
load_backend_group (HvkConfig  *self,
                    GKeyFile   *key_file,
                    GError    **error)
{
  g_auto(GStrv) keys = g_key_file_get_keys (key_file, self->group, NULL, NULL);

  for (gsize i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      const HvkConfigKey *key = hvk_config_lookup_key (self, keys[i]);
      g_autoptr(GError) local_error = NULL;

      if (key == NULL)
        {
          config_error (self, error, keys[i], "unknown key");
          return FALSE;
        }

      switch (hvk_config_value_type_base (key->type))
        {
        case HVK_CONFIG_TYPE_STRV:
          {
            g_auto(GStrv) items = hvk_key_file_get_string_list (key_file, self->group, key->name,
                                                                &local_error);

            if (local_error != NULL)
              {
                config_error (self, error, key->name, "%s", local_error->message);
                return FALSE;
              }
            store_value (self, key,
                         g_variant_new_strv ((const char * const *) items, items ? -1 : 0));
          }
          break;
        case HVK_CONFIG_TYPE_STRING:
          {
            g_autofree char *text = hvk_key_file_get_string (key_file, self->group, key->name,
                                                             &local_error);

            /* GKeyFile may return a value *and* an error (bad escapes) */
            if (local_error != NULL)
              {
                config_error (self, error, key->name, "%s", local_error->message);
                return FALSE;
              }
            store_value (self, key, g_variant_new_string (text));
          }
          break;
        default:
          {
            g_autofree char *text = g_key_file_get_value (key_file, self->group, key->name, NULL);

            if (!set_from_text (self, key, text ? text : "", error))
              return FALSE;
          }
          break;
        }
    }
  return TRUE;
}

static HvkConfig *
config_new_from_key_file (GKeyFile     *key_file,
                          const char   *source_name,
                          HvkRegistry  *registry,
                          GError      **error)
{
  const char *source = source_name ? source_name : UNKNOWN_SOURCE;
  g_autoptr(HvkConfig) self = NULL;
  g_autofree char *backend = NULL;
  g_auto(GStrv) keys = NULL;
  g_auto(GStrv) groups = NULL;

  if (!g_key_file_has_group (key_file, HYPERVISOR_GROUP))
    {
      set_config_error (error, source, HYPERVISOR_GROUP, NULL, "missing group (it selects the backend)");
      return NULL;
    }
  keys = g_key_file_get_keys (key_file, HYPERVISOR_GROUP, NULL, NULL);
  for (gsize i = 0; keys != NULL && keys[i] != NULL; i++)
    if (!g_str_equal (keys[i], BACKEND_KEY))
      {
        set_config_error (error, source, HYPERVISOR_GROUP, keys[i], "unknown key");
        return NULL;
      }
  backend = hvk_key_file_get_string (key_file, HYPERVISOR_GROUP, BACKEND_KEY, NULL);
  if (backend == NULL)
    {
      set_config_error (error, source, HYPERVISOR_GROUP, BACKEND_KEY, "missing");
      return NULL;
    }
  g_strstrip (backend);
  if (*backend == '\0' || strchr (backend, '[') || strchr (backend, ']'))
    {
      set_config_error (error, source, HYPERVISOR_GROUP, BACKEND_KEY,
                        "invalid value '%s' (expected a backend name)", backend);
      return NULL;
    }

  self = hvk_config_new (backend);
  self->source = g_strdup (source_name);
  if (registry != NULL)
    self->registry = g_object_ref (registry);

  groups = g_key_file_get_groups (key_file, NULL);
  for (gsize i = 0; groups[i] != NULL; i++)
    {
      const char *group = groups[i];

      if (g_str_equal (group, HYPERVISOR_GROUP))
        continue;
      else if (g_str_equal (group, self->group))
        {
          if (!load_backend_group (self, key_file, error))
            return NULL;
        }
      else if (g_str_has_prefix (group, HYPERVISOR_GROUP_DOT) &&
               group[strlen (HYPERVISOR_GROUP_DOT)] != '\0')
        continue;   /* another backend's settings: one file may hold several */
      else if (g_str_has_prefix (group, DEVICE_GROUP_DOT))
        {
          g_autoptr(HvkDevice) device = hvk_device_new_from_key_file (registry, key_file, group,
                                                                      source_name, error);
          g_autoptr(GError) local_error = NULL;

          if (device == NULL)
            return NULL;
          if (!hvk_config_add_device (self, device, &local_error))
            {
              /* the key-file reader checked the id and required props */
              set_config_error (error, source, group, NULL, "%s", local_error->message);
              return NULL;
            }
        }
      else
        {
          set_config_error (error, source, group, NULL,
                            "unknown group (expected [hypervisor], [hypervisor.NAME] or [device.ID])");
          return NULL;
        }
    }

  return g_steal_pointer (&self);
}

/* GKeyFile merges a group given twice, silently.  This scans the text of
 * a file GKeyFile has already accepted, line by line as GKeyFile does
 * (leading blanks skipped, `#` comments, `[GROUP]` headers), and refuses
 * a repeated group header, naming both lines.  A key given twice in one
 * group is left to GKeyFile (the last wins): configs built by appending
 * overrides to a base rely on it. */
static gboolean
check_duplicate_groups (const char  *data,
                        gsize        length,
                        const char  *source,
                        GError     **error)
{
  g_autoptr(GHashTable) groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *end = data + length;
  guint line_no = 0;

  for (const char *line = data; line < end; )
    {
      const char *eol = memchr (line, '\n', end - line);
      const char *next = eol ? eol + 1 : end;
      const char *p = line;

      if (eol == NULL)
        eol = end;
      if (eol > line && eol[-1] == '\r')
        eol--;
      line_no++;
      while (p < eol && g_ascii_isspace (*p))
        p++;

      if (p == eol || *p == '#')
        ;
      else if (*p == '[')
        {
          const char *close = memchr (p, ']', eol - p);
          g_autofree char *group = NULL;
          gpointer first;

          if (close == NULL)
            return TRUE;   /* not what GKeyFile accepted: let it be */
          group = g_strndup (p + 1, close - p - 1);
          if (g_hash_table_lookup_extended (groups, group, NULL, &first))
            {
              set_config_error (error, source, group, NULL,
                                "group given twice (lines %u and %u)",
                                GPOINTER_TO_UINT (first), line_no);
              return FALSE;
            }
          g_hash_table_insert (groups, g_steal_pointer (&group), GUINT_TO_POINTER (line_no));
        }
      line = next;
    }
  return TRUE;
}

/**
 * hvk_config_new_from_data:
 * @data: key-file text
 * @length: length of @data, or -1 if NUL-terminated
 * @source_name: (nullable): the name used in messages (`<config>` if %NULL)
 * @registry: (nullable): where to find device kinds and backend keys;
 *   %NULL for the standard kinds and the core keys only
 * @error: return location for a #GError
 *
 * Loads a configuration: `[hypervisor]` with `backend=NAME`,
 * `[hypervisor.NAME]` with the settings (other backends' groups are
 * ignored) and `[device.ID]` groups for cold-plugged devices.  An unknown
 * backend is not an error here (hvk_registry_create_hypervisor() reports it).
 * A group given twice is refused (GKeyFile would merge them); of a key
 * given twice in one group, the last wins.
 *
 * Returns: (transfer full): the configuration, or %NULL with
 *   %HVK_ERROR_INVALID_CONFIG (`FILE: [GROUP] KEY: what is wrong`)
 */
HvkConfig *
hvk_config_new_from_data (const char   *data,
                          gssize        length,
                          const char   *source_name,
                          HvkRegistry  *registry,
                          GError      **error)
{
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  const char *source = source_name ? source_name : UNKNOWN_SOURCE;

  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (registry == NULL || HVK_IS_REGISTRY (registry), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_key_file_load_from_data (key_file, data, length < 0 ? (gsize) -1 : (gsize) length,
                                  G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG, "%s: %s", source, local_error->message);
      return NULL;
    }
  if (!check_duplicate_groups (data, length < 0 ? strlen (data) : (gsize) length, source, error))
    return NULL;
  return config_new_from_key_file (key_file, source_name, registry, error);
}

static const char *
describe_file_type (mode_t mode)
{
  if (S_ISDIR (mode))
    return "a directory";
  if (S_ISFIFO (mode))
    return "a FIFO";
  if (S_ISCHR (mode))
    return "a character device";
  if (S_ISBLK (mode))
    return "a block device";
  if (S_ISSOCK (mode))
    return "a socket";
  return "not a regular file";
}

/* Reads a configuration file of at most HVK_CONFIG_MAX_FILE_SIZE bytes.
 * The file is opened without blocking (a FIFO with no writer would block
 * the open) and checked with fstat() before anything is read; the read
 * stops one byte past the cap in case the file grew since. */
static char *
read_config_file (const char  *path,
                  gsize       *length,
                  GError     **error)
{
  g_autoptr(GString) buffer = NULL;
  struct stat st;
  int fd;

  fd = g_open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, HVK_ERROR, saved_errno == ENOENT ? HVK_ERROR_NOT_FOUND : HVK_ERROR_FAILED,
                   "%s: cannot read configuration: %s", path, g_strerror (saved_errno));
      return NULL;
    }
  if (fstat (fd, &st) < 0)
    {
      int saved_errno = errno;

      g_close (fd, NULL);
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "%s: cannot read configuration: %s", path, g_strerror (saved_errno));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_close (fd, NULL);
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: cannot read configuration: %s, not a regular file",
                   path, describe_file_type (st.st_mode));
      return NULL;
    }
  if (st.st_size > HVK_CONFIG_MAX_FILE_SIZE)
    {
      g_close (fd, NULL);
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: cannot read configuration: %" G_GINT64_FORMAT " bytes, more than "
                   "the limit of %d bytes", path, (gint64) st.st_size, HVK_CONFIG_MAX_FILE_SIZE);
      return NULL;
    }

  buffer = g_string_sized_new ((gsize) st.st_size + 1);
  while (buffer->len <= HVK_CONFIG_MAX_FILE_SIZE)
    {
      char chunk[16384];
      gssize n = read (fd, chunk, MIN (sizeof chunk, HVK_CONFIG_MAX_FILE_SIZE + 1 - buffer->len));

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          g_close (fd, NULL);
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "%s: cannot read configuration: %s", path, g_strerror (saved_errno));
          return NULL;
        }
      if (n == 0)
        break;
      g_string_append_len (buffer, chunk, n);
    }
  g_close (fd, NULL);

  /* it grew since fstat() */
  if (buffer->len > HVK_CONFIG_MAX_FILE_SIZE)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: cannot read configuration: more than the limit of %d bytes",
                   path, HVK_CONFIG_MAX_FILE_SIZE);
      return NULL;
    }
  *length = buffer->len;
  return g_string_free (g_steal_pointer (&buffer), FALSE);
}

/**
 * hvk_config_new_from_file:
 * @path: a key file
 * @registry: (nullable): where to find device kinds and backend keys
 * @error: return location for a #GError
 *
 * Loads a configuration file; see hvk_config_new_from_data().  Messages
 * name the file as @path is given.  The file must be a regular file of at
 * most %HVK_CONFIG_MAX_FILE_SIZE bytes.
 *
 * Returns: (transfer full): the configuration, or %NULL with
 *   %HVK_ERROR_NOT_FOUND when the file does not exist,
 *   %HVK_ERROR_FAILED when it cannot be read, or
 *   %HVK_ERROR_INVALID_CONFIG (also when it is not a regular file or is
 *   too large)
 */
HvkConfig *
hvk_config_new_from_file (const char   *path,
                          HvkRegistry  *registry,
                          GError      **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (registry == NULL || HVK_IS_REGISTRY (registry), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  contents = read_config_file (path, &length, error);
  if (contents == NULL)
    return NULL;
  return hvk_config_new_from_data (contents, length, path, registry, error);
}

static void
write_value (GKeyFile   *key_file,
             const char *group,
             const char *key,
             GVariant   *v)
{
  if (g_variant_is_of_type (v, HVK_VALUE_TYPE_STRING))
    g_key_file_set_string (key_file, group, key, g_variant_get_string (v, NULL));
  else if (g_variant_is_of_type (v, HVK_VALUE_TYPE_BOOLEAN))
    g_key_file_set_boolean (key_file, group, key, g_variant_get_boolean (v));
  else if (g_variant_is_of_type (v, HVK_VALUE_TYPE_UINT))
    g_key_file_set_uint64 (key_file, group, key, g_variant_get_uint64 (v));
  else if (g_variant_is_of_type (v, HVK_VALUE_TYPE_INT))
    g_key_file_set_int64 (key_file, group, key, g_variant_get_int64 (v));
  else if (g_variant_is_of_type (v, HVK_VALUE_TYPE_DOUBLE))
    g_key_file_set_double (key_file, group, key, g_variant_get_double (v));
  else if (g_variant_is_of_type (v, HVK_VALUE_TYPE_STRV))
    {
      g_autofree const char **items = g_variant_get_strv (v, NULL);

      g_key_file_set_string_list (key_file, group, key, items, g_strv_length ((char **) items));
    }
  else
    g_assert_not_reached ();
}

static void
write_device (GKeyFile  *key_file,
              HvkDevice *device)
{
  g_autofree char *group = g_strconcat (DEVICE_GROUP_DOT, hvk_device_get_id (device), NULL);
  HvkDeviceKind *kind = hvk_device_get_kind (device);
  const HvkDevicePropSpec *props;
  guint n_props;

  g_key_file_set_string (key_file, group, "kind", hvk_device_kind_get_name (kind));
  props = hvk_device_kind_get_props (kind, &n_props);
  for (guint i = 0; i < n_props; i++)
    {
      const char *name = props[i].name;

      if (!hvk_device_has (device, name))
        continue;
      switch (props[i].type)
        {
        case HVK_PROP_STRING:
          g_key_file_set_string (key_file, group, name, hvk_device_get_string (device, name));
          break;
        case HVK_PROP_BOOLEAN:
          g_key_file_set_boolean (key_file, group, name, hvk_device_get_boolean (device, name));
          break;
        case HVK_PROP_UINT:
          g_key_file_set_uint64 (key_file, group, name, hvk_device_get_uint (device, name));
          break;
        case HVK_PROP_INT:
          g_key_file_set_int64 (key_file, group, name, hvk_device_get_int (device, name));
          break;
        case HVK_PROP_STRV:
          {
            const char * const *items = hvk_device_get_strv (device, name);

            g_key_file_set_string_list (key_file, group, name, (const char **) items,
                                        g_strv_length ((char **) items));
          }
          break;
        default:
          g_assert_not_reached ();
        }
    }
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/**
 * hvk_config_to_data:
 * @self: a #HvkConfig
 * @length: (out) (optional): length of the result
 *
 * Writes the configuration as a key file that hvk_config_new_from_data()
 * loads back to an equal configuration: the backend, the keys set
 * explicitly (core keys in table order, then backend keys by name) and the
 * devices.  Custom assets and the VM store path are run-time settings and
 * are not written.
 *
 * Returns: (transfer full): the key-file text
 */
char *
hvk_config_to_data (HvkConfig *self,
                    gsize     *length)
{
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autoptr(GPtrArray) others = g_ptr_array_new ();
  g_autoptr(GPtrArray) names = NULL;
  const HvkConfigKey *core;
  guint n_core;

  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);

  g_key_file_set_string (key_file, HYPERVISOR_GROUP, BACKEND_KEY, self->backend);

  core = hvk_config_get_core_keys (&n_core);
  for (guint i = 0; i < n_core; i++)
    {
      HvkValue *value = hvk_values_peek (self->store, core[i].name);

      if (value != NULL)
        write_value (key_file, self->group, core[i].name, value->variant);
    }

  names = hvk_values_dup_names (self->store);
  for (guint i = 0; i < names->len; i++)
    if (hvk_config_keys_lookup_core (g_ptr_array_index (names, i)) == NULL)
      g_ptr_array_add (others, g_ptr_array_index (names, i));
  g_ptr_array_sort (others, compare_strings);
  for (guint i = 0; i < others->len; i++)
    {
      const char *name = g_ptr_array_index (others, i);
      HvkValue *value = hvk_values_peek (self->store, name);

      write_value (key_file, self->group, name, value->variant);
    }

  for (guint i = 0; i < self->devices->len; i++)
    write_device (key_file, g_ptr_array_index (self->devices, i));

  return g_key_file_to_data (key_file, length, NULL);
}
