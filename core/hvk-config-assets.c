/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-config-private.h"

/* Guest assets (Kata's AssetType): the kernel, image, initrd, VMM,
 * firmware … each named by a configuration key, possibly custom. */

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

/**
 * hvk_asset_type_to_string:
 * @type: an #HvkAssetType
 *
 * Gets the name of an asset type.
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
 * Gets the configuration key that names an asset's file.
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
 * Tells whether the configuration names a custom asset (a kernel, an
 * image, …) of @type.
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

  if (!hvk_config_str_is_set (path))
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
  if (hvk_config_str_is_set (image) && hvk_config_str_is_set (initrd))
    return -1;
  if (hvk_config_str_is_set (image))
    {
      *path = image;
      *type = HVK_ASSET_IMAGE;
      return 1;
    }
  if (hvk_config_str_is_set (initrd))
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

int
hvk_config_asset_for_key (const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (asset_types); i++)
    if (g_str_equal (asset_types[i].key, key))
      return i;
  return -1;
}

