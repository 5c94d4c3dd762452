/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

#include "hvk-values-private.h"

G_BEGIN_DECLS

/* The core key table (hvk-config-keys.c), for the config and for the
 * registry (which refuses a plugin key of a core name). */
const HvkConfigKey *hvk_config_keys_lookup_core  (const char *name);
/* Parsed default of a core key, or %NULL when it has none. */
HvkValue           *hvk_config_keys_core_default (const HvkConfigKey *key);

G_END_DECLS
