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
  HvkRegistry *registry;
};

static void
hvktest_dup_hypervisor_iface_init (HvkHypervisorInterface *iface)
{
}

G_DEFINE_FINAL_TYPE_WITH_CODE (HvktestDupHypervisor, hvktest_dup_hypervisor,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (HVK_TYPE_HYPERVISOR,
                                                      hvktest_dup_hypervisor_iface_init))

enum { PROP_REGISTRY_0, PROP_REGISTRY };

static void
hvktest_dup_hypervisor_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  if (prop_id == PROP_REGISTRY)
    g_value_set_object (value, HVKTEST_DUP_HYPERVISOR (object)->registry);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
hvktest_dup_hypervisor_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  if (prop_id == PROP_REGISTRY)
    g_set_object (&HVKTEST_DUP_HYPERVISOR (object)->registry, g_value_get_object (value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
hvktest_dup_hypervisor_finalize (GObject *object)
{
  g_clear_object (&HVKTEST_DUP_HYPERVISOR (object)->registry);
  G_OBJECT_CLASS (hvktest_dup_hypervisor_parent_class)->finalize (object);
}

static void
hvktest_dup_hypervisor_class_init (HvktestDupHypervisorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = hvktest_dup_hypervisor_finalize;
  object_class->get_property = hvktest_dup_hypervisor_get_property;
  object_class->set_property = hvktest_dup_hypervisor_set_property;
  g_object_class_override_property (object_class, PROP_REGISTRY, "registry");
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
