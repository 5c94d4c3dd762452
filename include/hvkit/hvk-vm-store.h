/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#include <glib-object.h>
#include <json-glib/json-glib.h>
#include <hvkit/hvk-visibility.h>
#include <hvkit/hvk-hypervisor.h>

G_BEGIN_DECLS

/**
 * HVK_MAX_SOCKET_PATH_LEN:
 *
 * The longest UNIX socket path (`sizeof sun_path - 1`), as Kata's
 * `MaxSocketPathLen`.
 */
#define HVK_MAX_SOCKET_PATH_LEN 107

/**
 * HVK_VM_ID_MAX_LEN:
 *
 * The longest VM id.
 */
#define HVK_VM_ID_MAX_LEN 64

/**
 * HVK_VM_STATE_FILE:
 *
 * The name of the state JSON inside `STATE/ID/`.
 */
#define HVK_VM_STATE_FILE "state.json"

/**
 * HVK_VM_STORE_LOGS_DIR:
 *
 * The directory of the state dir where the logs of removed VMs are kept,
 * one `ID/` each (see hvk_vm_store_logs_dir()).
 */
#define HVK_VM_STORE_LOGS_DIR ".logs"

/**
 * HVK_VM_STATE_VERSION:
 *
 * The version of the state JSON documents written.  Version 1 (the
 * previous release's layout) is still read, converted on load.
 */
#define HVK_VM_STATE_VERSION 2

/**
 * HvkVmLock:
 *
 * A VM's lock, taken with hvk_vm_store_lock() and released with
 * hvk_vm_lock_release(): one process at a time acts on a VM.
 */
typedef struct _HvkVmLock HvkVmLock;

HVK_AVAILABLE_IN_ALL
char       *hvk_vm_store_default_dir   (void);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_vm_id_validate         (const char  *id,
                                        GError     **error);
HVK_AVAILABLE_IN_ALL
char       *hvk_build_socket_path      (GError    **error,
                                        const char *first_element,
                                        ...) G_GNUC_NULL_TERMINATED;
HVK_AVAILABLE_IN_ALL
char       *hvk_vm_store_socket_path   (const char  *store,
                                        const char  *id,
                                        const char  *name,
                                        GError     **error);
HVK_AVAILABLE_IN_ALL
char       *hvk_vm_store_ensure_dir    (const char  *store,
                                        const char  *id,
                                        GError     **error);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_vm_store_remove_dir    (const char  *store,
                                        const char  *id,
                                        GError     **error);
HVK_AVAILABLE_IN_ALL
void        hvk_vm_store_keep_logs     (const char  *store,
                                        const char  *id);
HVK_AVAILABLE_IN_ALL
char       *hvk_vm_store_logs_dir      (const char  *store,
                                        const char  *id);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_vm_store_remove_logs   (const char  *store,
                                        const char  *id,
                                        GError     **error);
HVK_AVAILABLE_IN_ALL
GStrv       hvk_vm_store_list          (const char  *store);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_vm_store_sweep         (const char  *store,
                                        GError     **error);

HVK_AVAILABLE_IN_ALL
HvkVmLock  *hvk_vm_store_lock          (const char  *store,
                                        const char  *id,
                                        gboolean     wait,
                                        GError     **error);
HVK_AVAILABLE_IN_ALL
void        hvk_vm_lock_release        (HvkVmLock   *lock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HvkVmLock, hvk_vm_lock_release)

HVK_AVAILABLE_IN_ALL
gboolean    hvk_vm_store_write_state   (const char  *store,
                                        const char  *id,
                                        JsonNode    *state,
                                        GError     **error);
HVK_AVAILABLE_IN_ALL
JsonNode   *hvk_vm_store_read_state    (const char  *store,
                                        const char  *id,
                                        GError     **error);
HVK_AVAILABLE_IN_ALL
char       *hvk_vm_store_read_run_state (const char *path);
HVK_AVAILABLE_IN_ALL
JsonNode   *hvk_vm_store_describe_from_state (JsonNode *state);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_vm_store_save_hypervisor (const char     *store,
                                          const char     *id,
                                          HvkHypervisor  *hypervisor,
                                          GError        **error);
HVK_AVAILABLE_IN_ALL
HvkHypervisor *hvk_vm_store_load_hypervisor (const char   *store,
                                             const char   *id,
                                             HvkRegistry  *registry,
                                             GError      **error);
HVK_AVAILABLE_IN_ALL
HvkHypervisor *hvk_vm_store_load_hypervisor_from_state (const char   *store,
                                                        const char   *id,
                                                        JsonNode     *state,
                                                        HvkRegistry  *registry,
                                                        GError      **error);

G_END_DECLS
