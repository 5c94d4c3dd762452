/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/* hvk_hypervisor_describe() from what the caller already asked:
 * @threads (nullable) get_thread_ids's answer, @record (nullable) and
 * @private_state the record save_record made after it. */
JsonNode *hvk_vm_describe (HvkHypervisor *self,
                           GHashTable    *threads,
                           HvkVmRecord   *record,
                           JsonNode      *private_state);

G_END_DECLS
