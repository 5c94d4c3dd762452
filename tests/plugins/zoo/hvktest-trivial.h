/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

/* A backend type with no operations at all (every call NOT_SUPPORTED),
 * for zoo plugins that only need something to register.  It keeps the
 * construct-only "registry" every HvkHypervisor overrides. */
#define HVKTEST_DEFINE_TRIVIAL_HYPERVISOR(TypeName, type_name)           \
  typedef struct { GObject parent_instance;                               \
                   HvkRegistry *registry; } TypeName;                     \
  typedef struct { GObjectClass parent_class; } TypeName##Class;          \
  GType type_name##_get_type (void);                                      \
  static void type_name##_iface_init (HvkHypervisorInterface *iface) { }  \
  G_DEFINE_TYPE_WITH_CODE (TypeName, type_name, G_TYPE_OBJECT,            \
                           G_IMPLEMENT_INTERFACE (HVK_TYPE_HYPERVISOR,    \
                                                  type_name##_iface_init)) \
  static void type_name##_get_property (GObject *object, guint prop_id,   \
                                        GValue *value, GParamSpec *pspec) \
  {                                                                       \
    g_value_set_object (value, ((TypeName *) object)->registry);          \
  }                                                                       \
  static void type_name##_set_property (GObject *object, guint prop_id,   \
                                        const GValue *value,              \
                                        GParamSpec *pspec)                \
  {                                                                       \
    g_set_object (&((TypeName *) object)->registry,                       \
                  g_value_get_object (value));                            \
  }                                                                       \
  static void type_name##_finalize (GObject *object)                      \
  {                                                                       \
    g_clear_object (&((TypeName *) object)->registry);                    \
    G_OBJECT_CLASS (type_name##_parent_class)->finalize (object);         \
  }                                                                       \
  static void type_name##_class_init (TypeName##Class *klass)             \
  {                                                                       \
    GObjectClass *object_class = G_OBJECT_CLASS (klass);                  \
    object_class->get_property = type_name##_get_property;               \
    object_class->set_property = type_name##_set_property;               \
    object_class->finalize = type_name##_finalize;                        \
    g_object_class_override_property (object_class, 1, "registry");       \
  }                                                                       \
  static void type_name##_init (TypeName *self) { }
