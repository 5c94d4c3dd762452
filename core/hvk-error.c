/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

/**
 * hvk_error_quark:
 *
 * Gets the error domain of hvkit's errors, %HVK_ERROR.
 *
 * Returns: the #GQuark of the %HVK_ERROR domain
 */
G_DEFINE_QUARK (hvk-error-quark, hvk_error)
