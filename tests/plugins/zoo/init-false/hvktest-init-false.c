/* SPDX-License-Identifier: Apache-2.0 */
/* Refused: init returns FALSE without setting an error. */
#include "config.h"

#include <hvkit/hvkit.h>
#include "../hvktest-trivial.h"

HVKTEST_DEFINE_TRIVIAL_HYPERVISOR (HvktestFalseHypervisor,
                                   hvktest_false_hypervisor)

static gboolean
false_init (HvkPlugin  *plugin,
            GError    **error)
{
  hvk_plugin_register_backend (plugin, "falsebe",
                               hvktest_false_hypervisor_get_type (),
                               HVK_CAP_NONE, NULL);
  return FALSE;
}

HVK_PLUGIN_DEFINE ("init-false", "Fails without a word", "1.0", "Apache-2.0",
                   false_init)
