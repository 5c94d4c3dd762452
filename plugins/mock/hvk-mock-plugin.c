/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include "hvk-mock-hypervisor.h"

static gboolean
hvk_mock_plugin_init (HvkPlugin  *plugin,
                      GError    **error)
{
  return hvk_mock_register (plugin, error);
}

HVK_PLUGIN_DEFINE ("mock", "In-memory backend for tests, with fault injection",
                   PACKAGE_VERSION, "Apache-2.0", hvk_mock_plugin_init)
