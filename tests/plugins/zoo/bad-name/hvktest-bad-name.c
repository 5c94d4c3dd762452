/* SPDX-License-Identifier: Apache-2.0 */
/* Refused: the plugin name is not [a-z0-9_-]+. */
#include "config.h"

#include <hvkit/hvkit.h>

static gboolean
bad_name_init (HvkPlugin  *plugin,
               GError    **error)
{
  g_error ("the registry ran the init of a plugin with a bad name");
  return FALSE;
}

HVK_PLUGIN_DEFINE ("Bad Name", "a name with capitals and a space", "1.0",
                   "Apache-2.0", bad_name_init)
