/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/* Called by the registry right after g_object_new(): records the backend
 * name @self was created for (the registry is a construct property). */
void hvk_hypervisor_set_backend_name (HvkHypervisor *self,
                                      const char    *backend);

/* The wrappers' NOT_SUPPORTED error, for the ones outside hvk-hypervisor.c. */
gboolean     hvk_hypervisor_not_supported (HvkHypervisor  *self,
                                           const char     *operation,
                                           GError        **error);
/* The id create_vm() (or a load) gave @self, or NULL. */
const char  *hvk_hypervisor_get_vm_id     (HvkHypervisor  *self);
void         hvk_hypervisor_set_vm_id     (HvkHypervisor  *self,
                                           const char     *id);

/* The core's record of @self (hvk-vm-state.c) (id and config given, since the store may
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
