/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/* Called by the registry right after g_object_new(): records the backend
 * name @self was created for (the registry is a construct property). */
void hvk_hypervisor_set_backend_name (HvkHypervisor *self,
                                      const char    *backend);

G_END_DECLS
