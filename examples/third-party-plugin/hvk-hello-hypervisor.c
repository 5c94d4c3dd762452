/* SPDX-License-Identifier: Apache-2.0 */
/* The `hello` backend: a VM that only says hello.  It implements create,
 * start, stop, state, capabilities and config; every other operation is
 * left NULL, which hvkit reports as HVK_ERROR_NOT_SUPPORTED naming the
 * backend and the operation. */
#include "hvk-hello-hypervisor.h"

struct _HvkHelloHypervisor
{
  GObject parent_instance;

  /* Every backend keeps the registry that created it: the construct-only
   * "registry" property of HvkHypervisor. */
  HvkRegistry *registry;
  char *id;
  HvkConfig *config;
  HvkVmState state;
};

static void hvk_hello_hypervisor_iface_init (HvkHypervisorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (HvkHelloHypervisor, hvk_hello_hypervisor,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (HVK_TYPE_HYPERVISOR,
                                                      hvk_hello_hypervisor_iface_init))

static gboolean
hello_create_vm (HvkHypervisor  *hv,
                 const char     *id,
                 HvkConfig      *config,
                 GError        **error)
{
  HvkHelloHypervisor *self = HVK_HELLO_HYPERVISOR (hv);

  g_free (self->id);
  self->id = g_strdup (id);
  g_set_object (&self->config, config);
  self->state = HVK_VM_STATE_CREATED;
  return TRUE;
}

static gboolean
hello_start_vm (HvkHypervisor  *hv,
                guint           timeout_ms,
                GCancellable   *cancellable,
                GError        **error)
{
  HvkHelloHypervisor *self = HVK_HELLO_HYPERVISOR (hv);

  if (self->state != HVK_VM_STATE_CREATED)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_STATE,
                   "hello: cannot start VM '%s' in state %s",
                   self->id ? self->id : "(none)",
                   hvk_vm_state_to_string (self->state));
      return FALSE;
    }
  g_message ("hello from VM '%s'", self->id);
  self->state = HVK_VM_STATE_RUNNING;
  return TRUE;
}

static gboolean
hello_stop_vm (HvkHypervisor  *hv,
               gboolean        wait_only,
               GCancellable   *cancellable,
               GError        **error)
{
  HVK_HELLO_HYPERVISOR (hv)->state = HVK_VM_STATE_STOPPED;
  return TRUE;
}

static HvkVmState
hello_get_state (HvkHypervisor *hv)
{
  return HVK_HELLO_HYPERVISOR (hv)->state;
}

static HvkCapabilities
hello_capabilities (HvkHypervisor *hv)
{
  return HVK_HELLO_CAPABILITIES;
}

static HvkConfig *
hello_get_config (HvkHypervisor *hv)
{
  return HVK_HELLO_HYPERVISOR (hv)->config;
}

static void
hvk_hello_hypervisor_iface_init (HvkHypervisorInterface *iface)
{
  iface->create_vm = hello_create_vm;
  iface->start_vm = hello_start_vm;
  iface->stop_vm = hello_stop_vm;
  iface->get_state = hello_get_state;
  iface->capabilities = hello_capabilities;
  iface->get_config = hello_get_config;
  /* pause_vm, resume_vm, hotplug, resize …: NULL, so NOT_SUPPORTED. */
}

static void
hvk_hello_hypervisor_finalize (GObject *object)
{
  HvkHelloHypervisor *self = HVK_HELLO_HYPERVISOR (object);

  g_clear_object (&self->registry);
  g_free (self->id);
  g_clear_object (&self->config);
  G_OBJECT_CLASS (hvk_hello_hypervisor_parent_class)->finalize (object);
}

enum { PROP_REGISTRY_0, PROP_REGISTRY };

static void
hvk_hello_hypervisor_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  if (prop_id == PROP_REGISTRY)
    g_value_set_object (value, HVK_HELLO_HYPERVISOR (object)->registry);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
hvk_hello_hypervisor_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  if (prop_id == PROP_REGISTRY)
    g_set_object (&HVK_HELLO_HYPERVISOR (object)->registry, g_value_get_object (value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
hvk_hello_hypervisor_class_init (HvkHelloHypervisorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = hvk_hello_hypervisor_finalize;
  object_class->get_property = hvk_hello_hypervisor_get_property;
  object_class->set_property = hvk_hello_hypervisor_set_property;
  g_object_class_override_property (object_class, PROP_REGISTRY, "registry");
}

static void
hvk_hello_hypervisor_init (HvkHelloHypervisor *self)
{
  self->state = HVK_VM_STATE_NONE;
}
