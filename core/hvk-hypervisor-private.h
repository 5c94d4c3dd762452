/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/* Called by the registry right after g_object_new(): records the backend
 * name @self was created for (the registry is a construct property). */
void hvk_hypervisor_set_backend_name (HvkHypervisor *self,
                                      const char    *backend);

/* The operations of the state table (documented with HvkVmState). */
typedef enum {
  HVK_HYPERVISOR_OP_CREATE,
  HVK_HYPERVISOR_OP_START,
  HVK_HYPERVISOR_OP_STOP,
  HVK_HYPERVISOR_OP_PAUSE,
  HVK_HYPERVISOR_OP_RESUME,
  HVK_HYPERVISOR_OP_SAVE,
  HVK_HYPERVISOR_OP_ADD_DEVICE,
  HVK_HYPERVISOR_OP_HOTPLUG_ADD,
  HVK_HYPERVISOR_OP_HOTPLUG_REMOVE,
  HVK_HYPERVISOR_OP_RESIZE_MEMORY,
  HVK_HYPERVISOR_OP_RESIZE_VCPUS,
  HVK_HYPERVISOR_OP_SHUTDOWN,
  HVK_HYPERVISOR_OP_REBOOT,
  HVK_HYPERVISOR_OP_LAUNCH_COMMAND,
  HVK_HYPERVISOR_OP_STATS,
  HVK_HYPERVISOR_OP_FOLLOW,
  HVK_HYPERVISOR_OP_BALLOON,
  HVK_HYPERVISOR_OP_SAVE_TO_DIR,
  HVK_HYPERVISOR_OP_RESTORE,
  HVK_HYPERVISOR_OP_SET_IO_LIMITS,
  HVK_HYPERVISOR_OP_GET_IO_LIMITS,
} HvkHypervisorOp;

/* Whether the VM's state allows @op; HVK_ERROR_STATE naming the VM and
 * why otherwise (hvk-hypervisor.c holds the table). */
gboolean     hvk_hypervisor_check_operation (HvkHypervisor   *self,
                                             HvkHypervisorOp  op,
                                             GError         **error);

/* The wrappers' NOT_SUPPORTED error, for the ones outside hvk-hypervisor.c. */
gboolean     hvk_hypervisor_not_supported (HvkHypervisor  *self,
                                           const char     *operation,
                                           GError        **error);
/* Dispatch a gboolean vfunc, or fail with NOT_SUPPORTED. */
#define DISPATCH(self, vfunc, error, ...)                                    \
  G_STMT_START {                                                             \
    HvkHypervisorInterface *iface_ = HVK_HYPERVISOR_GET_IFACE (self);                           \
    if (iface_->vfunc == NULL)                                               \
      return hvk_hypervisor_not_supported (self, #vfunc, error);                            \
    return iface_->vfunc (self, __VA_ARGS__);                                \
  } G_STMT_END

/* The same for a lifecycle operation: one the backend leaves out is
 * NOT_SUPPORTED in every state; the others are checked against the
 * transition table first. */
#define DISPATCH_OP(self, op, vfunc, error, ...)                             \
  G_STMT_START {                                                             \
    HvkHypervisorInterface *iface_ = HVK_HYPERVISOR_GET_IFACE (self);                           \
    if (iface_->vfunc == NULL)                                               \
      return hvk_hypervisor_not_supported (self, #vfunc, error);                            \
    if (!hvk_hypervisor_check_operation (self, op, error))      \
      return FALSE;                                                          \
    return iface_->vfunc (self, __VA_ARGS__);                                \
  } G_STMT_END

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
