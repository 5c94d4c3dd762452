/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Helpers of the stress tests: bounds, descriptor counts, store checks. */

#include <hvkit/hvkit.h>
#include "hvk-test-fs.h"

G_BEGIN_DECLS

/* Open descriptors of this process. */
guint     stress_count_fds       (void);
/* Fails the test when @store holds anything (a missing @store is empty). */
void      stress_assert_store_empty (const char *store);
/* An unsigned setting from the environment (HVKIT_STRESS_*), else
 * @fallback: CI keeps the defaults, a developer may push harder. */
guint     stress_env_uint        (const char *name,
                                  guint       fallback);

G_END_DECLS
