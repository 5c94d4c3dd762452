/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#include <glib-object.h>
#include <hvkit/hvk-visibility.h>

G_BEGIN_DECLS

typedef struct _HvkRegistry HvkRegistry;
typedef struct _HvkDevice HvkDevice;

/**
 * HvkConfigValueType:
 * @HVK_CONFIG_TYPE_STRING: a string
 * @HVK_CONFIG_TYPE_BOOLEAN: `true` or `false`
 * @HVK_CONFIG_TYPE_UINT: an unsigned 64-bit integer
 * @HVK_CONFIG_TYPE_INT: a signed 64-bit integer
 * @HVK_CONFIG_TYPE_DOUBLE: a floating point number
 * @HVK_CONFIG_TYPE_STRV: a `;`-separated list of strings
 * @HVK_CONFIG_TYPE_PATH: a string naming a host file or directory; a
 *   relative path is made absolute against the current directory of the
 *   process when the value is set (the VMM runs with another one).  Read
 *   and written with the string getters and setters.
 * @HVK_CONFIG_TYPE_PATH_LIST: a `;`-separated list of host paths, each
 *   made absolute as for %HVK_CONFIG_TYPE_PATH.  Read and written with
 *   the string-list getters and setters.
 *
 * The type of a configuration key.
 */
typedef enum {
  HVK_CONFIG_TYPE_STRING,
  HVK_CONFIG_TYPE_BOOLEAN,
  HVK_CONFIG_TYPE_UINT,
  HVK_CONFIG_TYPE_INT,
  HVK_CONFIG_TYPE_DOUBLE,
  HVK_CONFIG_TYPE_STRV,
  HVK_CONFIG_TYPE_PATH,
  HVK_CONFIG_TYPE_PATH_LIST,
} HvkConfigValueType;

/**
 * HvkConfigKey:
 * @name: the key name in the `[hypervisor.NAME]` group
 * @type: its type
 * @default_value: (nullable): the default, in key-file syntax, or %NULL
 * @description: one line for `hvkit check` and the docs
 *
 * Describes one configuration key.  The core knows Kata's keys; a plugin
 * declares the extra keys of its backend with
 * hvk_plugin_register_config_keys().
 */
typedef struct {
  const char         *name;
  HvkConfigValueType  type;
  const char         *default_value;
  const char         *description;
} HvkConfigKey;

/**
 * HvkAssetType:
 * @HVK_ASSET_KERNEL: `kernel`
 * @HVK_ASSET_IMAGE: `image`
 * @HVK_ASSET_INITRD: `initrd`
 * @HVK_ASSET_HYPERVISOR: `hypervisor` (config key `path`)
 * @HVK_ASSET_HYPERVISOR_CTL: `hypervisorctl` (config key `ctlpath`)
 * @HVK_ASSET_JAILER: `jailer` (config key `jailer_path`)
 * @HVK_ASSET_FIRMWARE: `firmware`
 * @HVK_ASSET_FIRMWARE_VOLUME: `firmware_volume`
 *
 * The files a VM is built from, after Kata's asset types.
 */
typedef enum {
  HVK_ASSET_KERNEL,
  HVK_ASSET_IMAGE,
  HVK_ASSET_INITRD,
  HVK_ASSET_HYPERVISOR,
  HVK_ASSET_HYPERVISOR_CTL,
  HVK_ASSET_JAILER,
  HVK_ASSET_FIRMWARE,
  HVK_ASSET_FIRMWARE_VOLUME,
} HvkAssetType;

HVK_AVAILABLE_IN_ALL
const char *hvk_asset_type_to_string (HvkAssetType type);
HVK_AVAILABLE_IN_ALL
const char *hvk_asset_type_to_key    (HvkAssetType type);

HVK_AVAILABLE_IN_ALL
const HvkConfigKey *hvk_config_get_core_keys (guint *n_keys);

/**
 * HVK_CONFIG_MAX_FILE_SIZE:
 *
 * The largest configuration file hvk_config_new_from_file() reads, in
 * bytes (1 MiB).  A larger file, or one that is not a regular file (a
 * directory, a FIFO, a device such as `/dev/zero`), is refused before it
 * is read.
 */
#define HVK_CONFIG_MAX_FILE_SIZE (1024 * 1024)

#define HVK_TYPE_CONFIG (hvk_config_get_type ())
HVK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HvkConfig, hvk_config, HVK, CONFIG, GObject)

HVK_AVAILABLE_IN_ALL
HvkConfig  *hvk_config_new            (const char   *backend);
HVK_AVAILABLE_IN_ALL
HvkConfig  *hvk_config_new_from_file  (const char   *path,
                                       HvkRegistry  *registry,
                                       GError      **error);
HVK_AVAILABLE_IN_ALL
HvkConfig  *hvk_config_new_from_data  (const char   *data,
                                       gssize        length,
                                       const char   *source_name,
                                       HvkRegistry  *registry,
                                       GError      **error);
HVK_AVAILABLE_IN_ALL
char       *hvk_config_to_data        (HvkConfig    *self,
                                       gsize        *length);

HVK_AVAILABLE_IN_ALL
const char *hvk_config_get_backend    (HvkConfig    *self);
HVK_AVAILABLE_IN_ALL
const char *hvk_config_get_source     (HvkConfig    *self);
HVK_AVAILABLE_IN_ALL
const char *hvk_config_get_group      (HvkConfig    *self);

HVK_AVAILABLE_IN_ALL
HvkRegistry *hvk_config_get_registry  (HvkConfig    *self);
HVK_AVAILABLE_IN_ALL
void        hvk_config_set_registry   (HvkConfig    *self,
                                       HvkRegistry  *registry);

HVK_AVAILABLE_IN_ALL
const HvkConfigKey *hvk_config_lookup_key (HvkConfig  *self,
                                           const char *key);
HVK_AVAILABLE_IN_ALL
char       *hvk_config_dup_value_string (HvkConfig  *self,
                                         const char *key);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_config_has_key        (HvkConfig    *self,
                                       const char   *key);
HVK_AVAILABLE_IN_ALL
const char *hvk_config_get_string     (HvkConfig    *self,
                                       const char   *key);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_config_get_boolean    (HvkConfig    *self,
                                       const char   *key);
HVK_AVAILABLE_IN_ALL
guint64     hvk_config_get_uint       (HvkConfig    *self,
                                       const char   *key);
HVK_AVAILABLE_IN_ALL
gint64      hvk_config_get_int        (HvkConfig    *self,
                                       const char   *key);
HVK_AVAILABLE_IN_ALL
double      hvk_config_get_double     (HvkConfig    *self,
                                       const char   *key);
HVK_AVAILABLE_IN_ALL
const char * const *hvk_config_get_strv (HvkConfig  *self,
                                         const char *key);

HVK_AVAILABLE_IN_ALL
void        hvk_config_set_string     (HvkConfig    *self,
                                       const char   *key,
                                       const char   *value);
HVK_AVAILABLE_IN_ALL
void        hvk_config_set_boolean    (HvkConfig    *self,
                                       const char   *key,
                                       gboolean      value);
HVK_AVAILABLE_IN_ALL
void        hvk_config_set_uint       (HvkConfig    *self,
                                       const char   *key,
                                       guint64       value);
HVK_AVAILABLE_IN_ALL
void        hvk_config_set_int        (HvkConfig    *self,
                                       const char   *key,
                                       gint64        value);
HVK_AVAILABLE_IN_ALL
void        hvk_config_set_double     (HvkConfig    *self,
                                       const char   *key,
                                       double        value);
HVK_AVAILABLE_IN_ALL
void        hvk_config_set_strv       (HvkConfig          *self,
                                       const char         *key,
                                       const char * const *value);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_config_set_from_string (HvkConfig   *self,
                                        const char  *key,
                                        const char  *text,
                                        GError     **error);

HVK_AVAILABLE_IN_ALL
guint32     hvk_config_get_num_vcpus      (HvkConfig *self);
HVK_AVAILABLE_IN_ALL
guint32     hvk_round_up_num_vcpus        (double     vcpus);
HVK_AVAILABLE_IN_ALL
GPtrArray  *hvk_config_get_kernel_params  (HvkConfig *self);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_config_add_kernel_param   (HvkConfig   *self,
                                           const char  *key,
                                           const char  *value,
                                           GError     **error);

HVK_AVAILABLE_IN_ALL
const char *hvk_config_get_asset_path     (HvkConfig    *self,
                                           HvkAssetType  type);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_config_is_custom_asset    (HvkConfig    *self,
                                           HvkAssetType  type);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_config_add_custom_asset   (HvkConfig    *self,
                                           HvkAssetType  type,
                                           const char   *path,
                                           GError      **error);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_config_image_or_initrd_path (HvkConfig     *self,
                                             const char   **path,
                                             HvkAssetType  *type,
                                             GError       **error);

HVK_AVAILABLE_IN_ALL
gboolean    hvk_config_check_template     (HvkConfig  *self,
                                           GError    **error);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_config_check_allowed_path (HvkConfig   *self,
                                           const char  *path_key,
                                           const char  *list_key,
                                           GError     **error);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_config_validate           (HvkConfig  *self,
                                           GError    **error);

HVK_AVAILABLE_IN_ALL
GPtrArray  *hvk_config_get_devices        (HvkConfig  *self);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_config_add_device         (HvkConfig  *self,
                                           HvkDevice  *device,
                                           GError    **error);
HVK_AVAILABLE_IN_ALL
HvkDevice  *hvk_config_lookup_device      (HvkConfig  *self,
                                           const char *id);

HVK_AVAILABLE_IN_ALL
const char *hvk_config_get_vm_store_path  (HvkConfig  *self);
HVK_AVAILABLE_IN_ALL
void        hvk_config_set_vm_store_path  (HvkConfig  *self,
                                           const char *path);

G_END_DECLS
