/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

#include "hvk-lookup-private.h"
#include "hvk-values-private.h"

G_BEGIN_DECLS

/* Parsed default of the property at @index of @kind, or %NULL. */
HvkValue           *hvk_device_kind_get_default   (HvkDeviceKind *kind,
                                                   guint          index);
gboolean            hvk_device_kind_name_is_valid (const char    *name);

/* The standard kinds, shared by the whole process (transfer none). */
HvkDeviceKind      *hvk_device_kinds_lookup_standard (const char *name);
guint               hvk_device_kinds_n_standard      (void);
const char         *hvk_device_kinds_standard_name   (guint index);
HvkDeviceKind      *hvk_device_kinds_new_standard_at (guint index);

/* Allowed values of an enumerated property of a standard kind, or %NULL
 * when the property takes any value. */
const char * const *hvk_device_kinds_lookup_enum  (const char *kind,
                                                   const char *prop);

/* `tap, macvtap or vhost-user` */
char               *hvk_device_kinds_describe_enum (const char * const *values);

/* ---- what the hvk-device*.c files share ---- */

struct _HvkDevice {
  GObject        parent_instance;
  HvkDeviceKind *kind;
  char          *id;
  HvkValues     *store;    /* the values set explicitly */
};

#define HVK_DEVICE_UNKNOWN_SOURCE "<config>"
#define HVK_DEVICE_ID_SYNTAX "expected [A-Za-z0-9][A-Za-z0-9_.-]*, at most 64 characters"

/* `[A-Za-z0-9][A-Za-z0-9_.-]*`, at most 64 characters. */
gboolean       hvk_device_id_is_valid   (const char              *id);
/* @name in @registry, or among the standard kinds without one. */
HvkDeviceKind *hvk_device_lookup_kind   (HvkRegistry             *registry,
                                         const char              *name);
/* Checks an enumerated property of a standard kind; sets @problem. */
gboolean       hvk_device_check_enum    (HvkDevice               *self,
                                         const HvkDevicePropSpec *spec,
                                         GVariant                *variant,
                                         char                   **problem);
/* Parses @text for @prop and stores it; on failure sets @problem
 * (without prefix). */
gboolean       hvk_device_set_from_text (HvkDevice               *self,
                                         const HvkDevicePropSpec *prop,
                                         const char              *text,
                                         HvkListSyntax            syntax,
                                         char                   **problem);
/* Stores @variant (floating or not; %NULL unsets) for @prop, as set. */
void           hvk_device_store_value   (HvkDevice               *self,
                                         const HvkDevicePropSpec *prop,
                                         GVariant                *variant);

G_END_DECLS
