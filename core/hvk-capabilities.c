/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

/**
 * SECTION:hvk-capabilities
 * @short_description: what a backend can do
 *
 * #HvkCapabilities is a #GFlags type whose value nicks are the capability
 * strings shown by `hvkit backends` and accepted by
 * hvk_capabilities_from_string().
 */

/* The nicks are a contract (backends --json, config files): append only,
 * in bit order.  The terminating zero entry is required by GFlags. */
static const GFlagsValue capability_values[] = {
  { HVK_CAP_NONE, "HVK_CAP_NONE", "none" },
  { HVK_CAP_BLOCK_DEVICE, "HVK_CAP_BLOCK_DEVICE", "block-device" },
  { HVK_CAP_BLOCK_DEVICE_HOTPLUG, "HVK_CAP_BLOCK_DEVICE_HOTPLUG", "block-device-hotplug" },
  { HVK_CAP_MULTI_QUEUE, "HVK_CAP_MULTI_QUEUE", "multi-queue" },
  { HVK_CAP_FS_SHARING, "HVK_CAP_FS_SHARING", "fs-sharing" },
  { HVK_CAP_NET_DEVICE_HOTPLUG, "HVK_CAP_NET_DEVICE_HOTPLUG", "net-device-hotplug" },
  { HVK_CAP_HYBRID_VSOCK, "HVK_CAP_HYBRID_VSOCK", "hybrid-vsock" },
  { HVK_CAP_PAUSE_RESUME, "HVK_CAP_PAUSE_RESUME", "pause-resume" },
  { HVK_CAP_VCPU_RESIZE, "HVK_CAP_VCPU_RESIZE", "vcpu-resize" },
  { HVK_CAP_MEMORY_RESIZE, "HVK_CAP_MEMORY_RESIZE", "memory-resize" },
  { HVK_CAP_SAVE_RESTORE, "HVK_CAP_SAVE_RESTORE", "save-restore" },
  { HVK_CAP_VSOCK, "HVK_CAP_VSOCK", "vsock" },
  { HVK_CAP_VFIO, "HVK_CAP_VFIO", "vfio" },
  { 0, NULL, NULL },
};

/**
 * hvk_capabilities_get_type:
 *
 * The #GFlags type of #HvkCapabilities; value nicks are the capability
 * strings (`block-device`, `block-device-hotplug`, …).
 *
 * Returns: the #GType
 */
GType
hvk_capabilities_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      GType t = g_flags_register_static (g_intern_static_string ("HvkCapabilities"),
                                         capability_values);
      g_once_init_leave (&type_id, t);
    }

  return type_id;
}

/**
 * hvk_capability_to_nick:
 * @cap: a single #HvkCapabilities bit, or %HVK_CAP_NONE
 *
 * The string of one capability, e.g. `block-device-hotplug`.
 *
 * Returns: (nullable): a static string, or %NULL if @cap is not exactly one
 *   known bit (or %HVK_CAP_NONE, which is `none`)
 */
const char *
hvk_capability_to_nick (HvkCapabilities cap)
{
  for (gsize i = 0; capability_values[i].value_nick != NULL; i++)
    if (capability_values[i].value == (guint) cap)
      return capability_values[i].value_nick;

  return NULL;
}

/**
 * hvk_capabilities_to_strv:
 * @caps: capabilities
 *
 * The string of every capability set in @caps, in bit order.  Unknown bits
 * are left out.
 *
 * Returns: (transfer full): a %NULL-terminated array, empty for
 *   %HVK_CAP_NONE
 */
GStrv
hvk_capabilities_to_strv (HvkCapabilities caps)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (gsize i = 0; capability_values[i].value_nick != NULL; i++)
    {
      guint bit = capability_values[i].value;

      if (bit != 0 && (caps & bit) == bit)
        g_strv_builder_add (builder, capability_values[i].value_nick);
    }

  return g_strv_builder_end (builder);
}

/**
 * hvk_capabilities_to_string:
 * @caps: capabilities
 *
 * hvk_capabilities_to_strv() joined with `, `, for display.
 *
 * Returns: (transfer full): e.g. `block-device, fs-sharing`; empty for
 *   %HVK_CAP_NONE
 */
char *
hvk_capabilities_to_string (HvkCapabilities caps)
{
  g_auto(GStrv) strv = hvk_capabilities_to_strv (caps);

  return g_strjoinv (", ", strv);
}

/**
 * hvk_capabilities_from_string:
 * @text: capability strings separated by commas and/or white space, e.g.
 *   `block-device, fs-sharing`; `none` and an empty list mean no capability
 * @caps: (out): the capabilities
 * @error: return location for a #GError
 *
 * Parses capability strings, the inverse of hvk_capabilities_to_string().
 *
 * Returns: %TRUE on success, %FALSE with %HVK_ERROR_INVALID_ARGUMENT naming
 *   the unknown string
 */
gboolean
hvk_capabilities_from_string (const char       *text,
                              HvkCapabilities  *caps,
                              GError          **error)
{
  g_auto(GStrv) tokens = NULL;
  guint result = HVK_CAP_NONE;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (caps != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  tokens = g_strsplit_set (text, ", \t\n\r\f\v", -1);
  for (guint i = 0; tokens[i] != NULL; i++)
    {
      const GFlagsValue *found = NULL;

      if (*tokens[i] == '\0')
        continue;

      for (gsize j = 0; capability_values[j].value_nick != NULL; j++)
        {
          if (strcmp (capability_values[j].value_nick, tokens[i]) == 0)
            {
              found = &capability_values[j];
              break;
            }
        }

      if (found == NULL)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "Unknown capability “%s” in “%s”", tokens[i], text);
          return FALSE;
        }

      result |= found->value;
    }

  *caps = (HvkCapabilities) result;
  return TRUE;
}
