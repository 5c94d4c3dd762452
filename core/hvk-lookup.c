/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-lookup-private.h"

G_DEFINE_INTERFACE (HvkLookup, hvk_lookup, G_TYPE_OBJECT)

static void
hvk_lookup_default_init (HvkLookupInterface *iface)
{
}

const HvkConfigKey *
hvk_lookup_config_key (HvkLookup  *self,
                       const char *backend,
                       const char *key)
{
  g_return_val_if_fail (HVK_IS_LOOKUP (self), NULL);

  return HVK_LOOKUP_GET_IFACE (self)->lookup_config_key (self, backend, key);
}

HvkDeviceKind *
hvk_lookup_device_kind (HvkLookup  *self,
                        const char *name)
{
  g_return_val_if_fail (HVK_IS_LOOKUP (self), NULL);

  return HVK_LOOKUP_GET_IFACE (self)->lookup_device_kind (self, name);
}

const char *
hvk_lookup_find_key_owner (HvkLookup  *self,
                           const char *key)
{
  HvkLookupInterface *iface;

  g_return_val_if_fail (HVK_IS_LOOKUP (self), NULL);

  iface = HVK_LOOKUP_GET_IFACE (self);
  return iface->find_key_owner ? iface->find_key_owner (self, key) : NULL;
}

GPtrArray *
hvk_lookup_refused_keys (HvkLookup  *self,
                         const char *backend)
{
  HvkLookupInterface *iface;

  g_return_val_if_fail (HVK_IS_LOOKUP (self), NULL);

  iface = HVK_LOOKUP_GET_IFACE (self);
  return iface->refused_keys ? iface->refused_keys (self, backend) : g_ptr_array_new ();
}
