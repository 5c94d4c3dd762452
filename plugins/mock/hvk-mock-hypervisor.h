/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/* The mock backend: an in-memory VM with real state transitions, a record
 * of every call and fault injection through the `fail_operations` key. */

#define HVK_MOCK_BACKEND_NAME "mock"

#define HVK_TYPE_MOCK_HYPERVISOR (hvk_mock_hypervisor_get_type ())
G_DECLARE_FINAL_TYPE (HvkMockHypervisor, hvk_mock_hypervisor,
                      HVK, MOCK_HYPERVISOR, GObject)

/* What the mock declares at registration and answers in capabilities(). */
#define HVK_MOCK_CAPABILITIES                                        \
  (HVK_CAP_FS_SHARING | HVK_CAP_BLOCK_DEVICE                         \
   | HVK_CAP_BLOCK_DEVICE_HOTPLUG | HVK_CAP_NET_DEVICE_HOTPLUG       \
   | HVK_CAP_PAUSE_RESUME | HVK_CAP_VCPU_RESIZE                      \
   | HVK_CAP_MEMORY_RESIZE | HVK_CAP_HYBRID_VSOCK | HVK_CAP_SAVE_RESTORE)

/* Registers the backend and its config keys with @plugin. */
gboolean hvk_mock_register (HvkPlugin  *plugin,
                            GError    **error);

G_END_DECLS
