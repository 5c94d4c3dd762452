/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/* Called by the registry right after g_object_new(): records the backend
 * name @self was created for (the registry is a construct property). */
void hvk_hypervisor_set_backend_name (HvkHypervisor *self,
                                      const char    *backend);

/* The core's record of @self (id and config given, since the store may
 * name them) with the backend's private part; NULL without save_private. */
HvkVmRecord *hvk_hypervisor_save_record (HvkHypervisor  *self,
                                         const char     *id,
                                         HvkConfig      *config,
                                         JsonNode      **private_state);
/* Dispatches load_private (NOT_SUPPORTED without it). */
gboolean     hvk_hypervisor_load_record (HvkHypervisor  *self,
                                         HvkVmRecord    *record,
                                         JsonNode       *private_state,
                                         GError        **error);

G_END_DECLS
