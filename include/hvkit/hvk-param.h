/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#include <glib-object.h>
#include <hvkit/hvk-visibility.h>

G_BEGIN_DECLS

/**
 * HvkParam:
 * @key: the parameter name, may be empty
 * @value: the parameter value, may be empty
 *
 * One kernel or hypervisor parameter, after Kata's `Param`.  Neither field
 * is ever %NULL: an absent key or value is the empty string.
 */
typedef struct {
  char *key;
  char *value;
} HvkParam;

#define HVK_TYPE_PARAM (hvk_param_get_type ())
HVK_AVAILABLE_IN_ALL
GType     hvk_param_get_type (void) G_GNUC_CONST;
HVK_AVAILABLE_IN_ALL
HvkParam *hvk_param_new      (const char *key,
                              const char *value);
HVK_AVAILABLE_IN_ALL
HvkParam *hvk_param_copy     (const HvkParam *param);
HVK_AVAILABLE_IN_ALL
void      hvk_param_free     (HvkParam *param);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HvkParam, hvk_param_free)

/* Param lists are GPtrArray of HvkParam with hvk_param_free as free func. */
HVK_AVAILABLE_IN_ALL
GPtrArray *hvk_params_new          (void);
HVK_AVAILABLE_IN_ALL
void       hvk_params_append       (GPtrArray  *params,
                                    const char *key,
                                    const char *value);
HVK_AVAILABLE_IN_ALL
void       hvk_params_extend       (GPtrArray  *params,
                                    GPtrArray  *other);
HVK_AVAILABLE_IN_ALL
GStrv      hvk_params_serialize    (GPtrArray  *params,
                                    const char *delim);
HVK_AVAILABLE_IN_ALL
char      *hvk_params_to_string    (GPtrArray  *params);
HVK_AVAILABLE_IN_ALL
GPtrArray *hvk_params_deserialize  (const char * const *strings);

HVK_AVAILABLE_IN_ALL
GStrv      hvk_kernel_param_fields (const char *cmdline);
HVK_AVAILABLE_IN_ALL
GPtrArray *hvk_kernel_params_parse (const char *cmdline);

HVK_AVAILABLE_IN_ALL
gboolean   hvk_check_cmdline       (const char          *cmdline_path,
                                    const char          *search_param,
                                    const char * const  *search_values,
                                    gboolean            *found,
                                    GError             **error);
/**
 * HVK_HOST_ROOT_ENV:
 *
 * The environment variable naming a directory that stands for the host's
 * root when hvkit reads what the host is (hvk_host_file()); for tests.
 */
#define HVK_HOST_ROOT_ENV "HVKIT_HOST_ROOT"

HVK_AVAILABLE_IN_ALL
char       *hvk_host_file          (const char  *path);
HVK_AVAILABLE_IN_ALL
GHashTable *hvk_cpu_flags          (const char  *cpuinfo_path,
                                    GError     **error);
HVK_AVAILABLE_IN_ALL
gboolean   hvk_running_on_vmm      (const char  *cpuinfo_path,
                                    gboolean    *on_vmm,
                                    GError     **error);
HVK_AVAILABLE_IN_ALL
char       *hvk_uuid_canonical     (const char  *text,
                                    GError     **error);

/**
 * HvkVerityParams:
 * @root_hash: the root hash
 * @salt: the salt
 * @data_blocks: number of data blocks
 * @data_block_size: data block size in bytes (multiple of 512)
 * @hash_block_size: hash block size in bytes (multiple of 512)
 *
 * Parsed `kernel_verity_params`.
 */
typedef struct {
  char    *root_hash;
  char    *salt;
  guint64  data_blocks;
  guint64  data_block_size;
  guint64  hash_block_size;
} HvkVerityParams;

HVK_AVAILABLE_IN_ALL
void       hvk_verity_params_free  (HvkVerityParams *params);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HvkVerityParams, hvk_verity_params_free)

HVK_AVAILABLE_IN_ALL
gboolean   hvk_verity_params_parse (const char       *text,
                                    HvkVerityParams **out_params,
                                    GError          **error);

HVK_AVAILABLE_IN_ALL
GPtrArray *hvk_kernel_root_params  (const char  *rootfs_type,
                                    gboolean     disable_nvdimm,
                                    gboolean     dax,
                                    const char  *verity_params,
                                    GError     **error);

G_END_DECLS
