/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

#include "hvk-values-private.h"

G_BEGIN_DECLS

/* Parsed default of the property at @index of @kind, or %NULL. */
HvkValue           *hvk_device_kind_get_default   (HvkDeviceKind *kind,
                                                   guint          index);
gboolean            hvk_device_kind_name_is_valid (const char    *name);

/* The standard kinds, shared by the whole process (transfer none). */
HvkDeviceKind      *hvk_device_kinds_lookup_standard (const char *name);

/* Allowed values of an enumerated property of a standard kind, or %NULL
 * when the property takes any value. */
const char * const *hvk_device_kinds_lookup_enum  (const char *kind,
                                                   const char *prop);

/* `tap, macvtap or vhost-user` */
char               *hvk_device_kinds_describe_enum (const char * const *values);

G_END_DECLS
