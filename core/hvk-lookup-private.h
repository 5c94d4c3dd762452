/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/*
 * What HvkConfig and HvkDevice need from whoever knows the plugins: the
 * config keys a backend declares and the device kinds.  HvkRegistry
 * implements it, so config and device depend on this interface only and
 * never call up into the registry (registry → config/device, not back).
 * Not exported.
 */
#define HVK_TYPE_LOOKUP (hvk_lookup_get_type ())
G_DECLARE_INTERFACE (HvkLookup, hvk_lookup, HVK, LOOKUP, GObject)

struct _HvkLookupInterface
{
  GTypeInterface parent_iface;

  const HvkConfigKey *(*lookup_config_key)  (HvkLookup  *self,
                                             const char *backend,
                                             const char *key);
  HvkDeviceKind      *(*lookup_device_kind) (HvkLookup  *self,
                                             const char *name);
  const char         *(*find_key_owner)     (HvkLookup  *self,
                                             const char *key);
  GPtrArray          *(*refused_keys)       (HvkLookup  *self,
                                             const char *backend);
};

/* A key @backend declares (not a core key), or %NULL (transfer none). */
const HvkConfigKey *hvk_lookup_config_key  (HvkLookup  *self,
                                            const char *backend,
                                            const char *key);
/* A registered device kind, or %NULL (transfer none). */
HvkDeviceKind      *hvk_lookup_device_kind (HvkLookup  *self,
                                            const char *name);

/* A backend that declares @key, or %NULL: for the error that refuses a
 * key of another backend (transfer none). */
const char         *hvk_lookup_find_key_owner (HvkLookup  *self,
                                               const char *key);

/* The keys @backend refuses, HvkRefusedKey (transfer container). */
GPtrArray          *hvk_lookup_refused_keys (HvkLookup  *self,
                                             const char *backend);

G_END_DECLS
