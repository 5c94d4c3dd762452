/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

#include "hvk-config-keys-private.h"
#include "hvk-lookup-private.h"
#include "hvk-values-private.h"

G_BEGIN_DECLS

/* What the hvk-config*.c files share. */

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

#define UNKNOWN_SOURCE        "<config>"
#define HYPERVISOR_GROUP      "hypervisor"
#define HYPERVISOR_GROUP_DOT  "hypervisor."
#define DEVICE_GROUP_DOT      "device."
#define BACKEND_KEY           "backend"
#define KERNEL_PARAMS_KEY     "kernel_params"

/* The file name, or `<config>` for a configuration built in code. */
const char *hvk_config_source_name    (HvkConfig  *self);

#define config_error(self, error, key, ...) \
  hvk_key_file_set_error (error, hvk_config_source_name (self), (self)->group, key, __VA_ARGS__)

/* @key is neither a core key nor one of the backend's: INVALID_CONFIG
 * "unknown key", or NOT_SUPPORTED naming the backend that has it. */
gboolean    hvk_config_unknown_key    (HvkConfig          *self,
                                       const char         *key,
                                       GError            **error);

/* Stores @variant (floating or not; %NULL unsets) for @key, as set. */
void        hvk_config_store_value    (HvkConfig          *self,
                                       const HvkConfigKey *key,
                                       GVariant           *variant);
/* Parses @text (key-file syntax) for @key and stores it; errors name
 * file, group and key. */
gboolean    hvk_config_set_from_text  (HvkConfig          *self,
                                       const HvkConfigKey *key,
                                       const char         *text,
                                       GError            **error);

/* Whether a string value is set (not %NULL, not empty). */
static inline gboolean
hvk_config_str_is_set (const char *s)
{
  return s != NULL && *s != '\0';
}

/* hvk-config-assets.c: the asset whose path @key holds, or -1. */
int         hvk_config_asset_for_key  (const char *key);

G_END_DECLS
