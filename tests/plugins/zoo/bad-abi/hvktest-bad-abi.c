/* SPDX-License-Identifier: Apache-2.0 */
/* Refused: built against a newer plugin ABI than the registry's. */
#include "config.h"

#include <hvkit/hvkit.h>

static gboolean
bad_abi_init (HvkPlugin  *plugin,
              GError    **error)
{
  g_error ("the registry ran the init of a plugin with the wrong ABI");
  return FALSE;
}

G_BEGIN_DECLS
HVK_EXPORT const HvkPluginDesc hvk_plugin_desc;
const HvkPluginDesc hvk_plugin_desc = {
  HVK_PLUGIN_ABI_VERSION + 1, "bad-abi", "ABI from the future", "1.0",
  "Apache-2.0", bad_abi_init, { NULL, }
};
G_END_DECLS
