/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

#define HVK_TYPE_HELLO_HYPERVISOR (hvk_hello_hypervisor_get_type ())
G_DECLARE_FINAL_TYPE (HvkHelloHypervisor, hvk_hello_hypervisor,
                      HVK, HELLO_HYPERVISOR, GObject)

/* What the backend can do: nothing a real VM needs, so none. */
#define HVK_HELLO_CAPABILITIES HVK_CAP_NONE

G_END_DECLS
