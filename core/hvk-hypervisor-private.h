/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/* Called by the registry right after g_object_new(): records which
 * registry and backend name made @self (weak on the registry). */
void hvk_hypervisor_set_origin (HvkHypervisor *self,
                                HvkRegistry   *registry,
                                const char    *backend);

G_END_DECLS
