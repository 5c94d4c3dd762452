/* SPDX-License-Identifier: Apache-2.0 */
/* Refused when `good` is loaded: it carries the same plugin name.  Its init
 * must never run (test-registry checks `dupbe` stays unknown). */
#include "config.h"

#include <hvkit/hvkit.h>

#define HVKTEST_TYPE_DUP_HYPERVISOR (hvktest_dup_hypervisor_get_type ())
G_DECLARE_FINAL_TYPE (HvktestDupHypervisor, hvktest_dup_hypervisor,
                      HVKTEST, DUP_HYPERVISOR, GObject)

struct _HvktestDupHypervisor
{
  GObject parent_instance;
};

static void
hvktest_dup_hypervisor_iface_init (HvkHypervisorInterface *iface)
{
}

G_DEFINE_FINAL_TYPE_WITH_CODE (HvktestDupHypervisor, hvktest_dup_hypervisor,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (HVK_TYPE_HYPERVISOR,
                                                      hvktest_dup_hypervisor_iface_init))

static void
hvktest_dup_hypervisor_class_init (HvktestDupHypervisorClass *klass)
{
}

static void
hvktest_dup_hypervisor_init (HvktestDupHypervisor *self)
{
}

static gboolean
dup_init (HvkPlugin  *plugin,
          GError    **error)
{
  return hvk_plugin_register_backend (plugin, "dupbe",
                                      HVKTEST_TYPE_DUP_HYPERVISOR,
                                      HVK_CAP_NONE, error);
}

HVK_PLUGIN_DEFINE ("good", "Same name as the good plugin", "0.0.1",
                   "Apache-2.0", dup_init)
