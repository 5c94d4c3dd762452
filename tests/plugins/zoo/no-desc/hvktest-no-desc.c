/* SPDX-License-Identifier: Apache-2.0 */
/* Refused: a valid shared object without the `hvk_plugin_desc` symbol. */
#include "config.h"

#include <hvkit/hvkit.h>

HVK_EXPORT gboolean hvktest_no_desc_init (HvkPlugin *plugin, GError **error);

gboolean
hvktest_no_desc_init (HvkPlugin  *plugin,
                      GError    **error)
{
  return TRUE;
}
