/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/* Whether @prop is a limit property of devices of @kind (its field). */
gboolean hvk_io_limits_is_prop      (const char        *kind,
                                     const char        *prop,
                                     HvkIoLimitsField  *field);
/* Whether @key is one of the ten configuration keys (its kind, field). */
gboolean hvk_io_limits_is_key       (const char        *key,
                                     const char       **kind,
                                     HvkIoLimitsField  *field);
/* One value as given: not negative, a bandwidth not below 8 bits, not
 * above HVK_IO_LIMITS_MAX_BYTES once in bytes; sets @problem. */
gboolean hvk_io_limits_check_value  (HvkIoLimitsField   field,
                                     gint64             value,
                                     char             **problem);
/* The ten keys of @config: values, and no burst without its rate. */
gboolean hvk_io_limits_check_config (HvkConfig         *config,
                                     GError           **error);

G_END_DECLS
