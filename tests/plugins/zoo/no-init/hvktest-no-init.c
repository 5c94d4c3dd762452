/* SPDX-License-Identifier: Apache-2.0 */
/* Refused: the descriptor has no init function. */
#include "config.h"

#include <hvkit/hvkit.h>

HVK_PLUGIN_DEFINE ("no-init", "a descriptor without init", "1.0",
                   "Apache-2.0", NULL)
