/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

/* A backend type with no operations at all (every call NOT_SUPPORTED),
 * for zoo plugins that only need something to register. */
#define HVKTEST_DEFINE_TRIVIAL_HYPERVISOR(TypeName, type_name)           \
  typedef struct { GObject parent_instance; } TypeName;                   \
  typedef struct { GObjectClass parent_class; } TypeName##Class;          \
  GType type_name##_get_type (void);                                      \
  static void type_name##_iface_init (HvkHypervisorInterface *iface) { }  \
  G_DEFINE_TYPE_WITH_CODE (TypeName, type_name, G_TYPE_OBJECT,            \
                           G_IMPLEMENT_INTERFACE (HVK_TYPE_HYPERVISOR,    \
                                                  type_name##_iface_init)) \
  static void type_name##_class_init (TypeName##Class *klass) { }        \
  static void type_name##_init (TypeName *self) { }
