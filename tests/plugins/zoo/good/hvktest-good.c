/* SPDX-License-Identifier: Apache-2.0 */
/* The well-behaved test plugin: backend `testbe` (a tiny HvkHypervisor),
 * device kind `test-widget` with its appender, a BASE and an OTHER
 * kernel-param policy and one config key.  test-registry.c asserts on
 * every string below. */
#include "config.h"

#include <hvkit/hvkit.h>

#define HVKTEST_TYPE_GOOD_HYPERVISOR (hvktest_good_hypervisor_get_type ())
G_DECLARE_FINAL_TYPE (HvktestGoodHypervisor, hvktest_good_hypervisor,
                      HVKTEST, GOOD_HYPERVISOR, GObject)

struct _HvktestGoodHypervisor
{
  GObject parent_instance;
  HvkRegistry *registry;
  HvkVmState state;
  HvkConfig *config;
};

static void hvktest_good_hypervisor_iface_init (HvkHypervisorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (HvktestGoodHypervisor, hvktest_good_hypervisor,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (HVK_TYPE_HYPERVISOR,
                                                      hvktest_good_hypervisor_iface_init))

#define TESTBE_CAPS (HVK_CAP_BLOCK_DEVICE | HVK_CAP_PAUSE_RESUME)

static gboolean
good_create_vm (HvkHypervisor  *hv,
                const char     *id,
                HvkConfig      *config,
                GError        **error)
{
  HvktestGoodHypervisor *self = HVKTEST_GOOD_HYPERVISOR (hv);

  g_set_object (&self->config, config);
  self->state = HVK_VM_STATE_CREATED;
  return TRUE;
}

static HvkVmState
good_get_state (HvkHypervisor *hv)
{
  return HVKTEST_GOOD_HYPERVISOR (hv)->state;
}

static HvkCapabilities
good_capabilities (HvkHypervisor *hv)
{
  return TESTBE_CAPS;
}

static HvkConfig *
good_get_config (HvkHypervisor *hv)
{
  return HVKTEST_GOOD_HYPERVISOR (hv)->config;
}

static void
hvktest_good_hypervisor_iface_init (HvkHypervisorInterface *iface)
{
  /* Everything else stays NULL: NOT_SUPPORTED. */
  iface->create_vm = good_create_vm;
  iface->get_state = good_get_state;
  iface->capabilities = good_capabilities;
  iface->get_config = good_get_config;
}

static void
hvktest_good_hypervisor_finalize (GObject *object)
{
  g_clear_object (&HVKTEST_GOOD_HYPERVISOR (object)->registry);
  g_clear_object (&HVKTEST_GOOD_HYPERVISOR (object)->config);
  G_OBJECT_CLASS (hvktest_good_hypervisor_parent_class)->finalize (object);
}

enum { PROP_REGISTRY_0, PROP_REGISTRY };

static void
hvktest_good_hypervisor_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  if (prop_id == PROP_REGISTRY)
    g_value_set_object (value, HVKTEST_GOOD_HYPERVISOR (object)->registry);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
hvktest_good_hypervisor_set_property (GObject      *object,
                                      guint         prop_id,
                                      const GValue *value,
                                      GParamSpec   *pspec)
{
  if (prop_id == PROP_REGISTRY)
    g_set_object (&HVKTEST_GOOD_HYPERVISOR (object)->registry, g_value_get_object (value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
hvktest_good_hypervisor_class_init (HvktestGoodHypervisorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = hvktest_good_hypervisor_finalize;
  object_class->get_property = hvktest_good_hypervisor_get_property;
  object_class->set_property = hvktest_good_hypervisor_set_property;
  g_object_class_override_property (object_class, PROP_REGISTRY, "registry");
}

static void
hvktest_good_hypervisor_init (HvktestGoodHypervisor *self)
{
}

static gboolean
append_widget (HvkBuildContext  *ctx,
               HvkDevice        *device,
               HvkCmdline       *cmdline,
               gpointer          user_data,
               GError          **error)
{
  hvk_build_context_add_kernel_param (ctx, "widget",
                                      hvk_device_get_id (device));
  return hvk_cmdline_add_option (cmdline, "-widget",
                                 hvk_device_get_id (device), error);
}

static gboolean
add_param (HvkBuildContext  *ctx,
           GPtrArray        *params,
           gpointer          user_data,
           GError          **error)
{
  /* user_data is "key=value" */
  g_auto(GStrv) kv = g_strsplit (user_data, "=", 2);

  hvk_params_append (params, kv[0], kv[1]);
  return TRUE;
}

static const HvkDevicePropSpec widget_props[] = {
  { "label", HVK_PROP_STRING, HVK_PROP_FLAG_NONE, NULL, "what the widget says" },
};

static const HvkConfigKey testbe_keys[] = {
  { "widget_mode", HVK_CONFIG_TYPE_STRING, "fast", "how widgets work" },
};

static gboolean
good_init (HvkPlugin  *plugin,
           GError    **error)
{
  g_autoptr(HvkDeviceKind) widget = NULL;

  if (!hvk_plugin_register_backend (plugin, "testbe",
                                    HVKTEST_TYPE_GOOD_HYPERVISOR, TESTBE_CAPS,
                                    error))
    return FALSE;

  widget = hvk_device_kind_new ("test-widget", "a test device", widget_props,
                                G_N_ELEMENTS (widget_props), error);
  if (widget == NULL ||
      !hvk_plugin_register_device_kind (plugin, widget, error))
    return FALSE;

  return hvk_plugin_register_device_appender (plugin, "testbe", "test-widget",
                                              0, append_widget, NULL, error) &&
         hvk_plugin_register_kernel_param_policy (plugin, "testbe",
                                                  HVK_KERNEL_PARAM_PHASE_BASE, 0,
                                                  add_param, "testbase=1",
                                                  error) &&
         hvk_plugin_register_kernel_param_policy (plugin, "testbe",
                                                  HVK_KERNEL_PARAM_PHASE_OTHER, 0,
                                                  add_param, "good-other=1",
                                                  error) &&
         hvk_plugin_register_config_keys (plugin, "testbe", testbe_keys,
                                          G_N_ELEMENTS (testbe_keys), error);
}

HVK_PLUGIN_DEFINE ("good", "A well-behaved test plugin", "1.2.3", "Apache-2.0",
                   good_init)
