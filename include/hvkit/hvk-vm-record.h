/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#include <glib-object.h>
#include <json-glib/json-glib.h>
#include <hvkit/hvk-visibility.h>
#include <hvkit/hvk-config.h>
#include <hvkit/hvk-device.h>
#include <hvkit/hvk-hypervisor.h>

/**
 * HVK_VM_RECORD_PATH_RUN_STATE:
 *
 * The name of the record's path (hvk_vm_record_add_path()) of the file
 * in which the VM's monitor keeps the VMM's own word for its run state
 * (see hvk_vm_store_read_run_state()).  A backend names it when its VMM
 * runs under hvkit-monitor with `--runstate`; the core then keeps the
 * VM's description in its state file and answers from it while the
 * record holds (hvk_vm_store_describe_from_state()).
 */
#define HVK_VM_RECORD_PATH_RUN_STATE "runstate_file"

G_BEGIN_DECLS

HVK_AVAILABLE_IN_ALL
void        hvk_vm_record_set_state        (HvkVmRecord        *record,
                                            HvkVmState          state);
HVK_AVAILABLE_IN_ALL
void        hvk_vm_record_add_process      (HvkVmRecord        *record,
                                            const char         *role,
                                            int                 pid,
                                            guint64             start_time);
HVK_AVAILABLE_IN_ALL
void        hvk_vm_record_add_path         (HvkVmRecord        *record,
                                            const char         *name,
                                            const char         *path);
HVK_AVAILABLE_IN_ALL
void        hvk_vm_record_add_cold_device  (HvkVmRecord        *record,
                                            HvkDevice          *device);
HVK_AVAILABLE_IN_ALL
void        hvk_vm_record_set_launch       (HvkVmRecord        *record,
                                            const char * const *argv,
                                            const char         *kernel_cmdline,
                                            const char         *uuid);

HVK_AVAILABLE_IN_ALL
const char *hvk_vm_record_get_id           (HvkVmRecord        *record);
HVK_AVAILABLE_IN_ALL
HvkVmState  hvk_vm_record_get_state        (HvkVmRecord        *record);
HVK_AVAILABLE_IN_ALL
HvkConfig  *hvk_vm_record_get_config       (HvkVmRecord        *record);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_vm_record_get_process      (HvkVmRecord        *record,
                                            const char         *role,
                                            int                *pid,
                                            guint64            *start_time);
HVK_AVAILABLE_IN_ALL
const char *hvk_vm_record_get_path         (HvkVmRecord        *record,
                                            const char         *name);
HVK_AVAILABLE_IN_ALL
GPtrArray  *hvk_vm_record_get_cold_devices (HvkVmRecord        *record);
HVK_AVAILABLE_IN_ALL
const char * const *hvk_vm_record_get_argv (HvkVmRecord        *record);
HVK_AVAILABLE_IN_ALL
const char *hvk_vm_record_get_kernel_cmdline (HvkVmRecord      *record);
HVK_AVAILABLE_IN_ALL
const char *hvk_vm_record_get_uuid         (HvkVmRecord        *record);

G_END_DECLS
