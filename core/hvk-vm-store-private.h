/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/* The store's checked access, shared by the directory and lock code
 * (hvk-vm-store.c) and the state file code (hvk-vm-state.c). */

/* @store, else the default dir (newly allocated into *@to_free). */
const char *hvk_vm_store_resolve     (const char  *store,
                                      char       **to_free);
char       *hvk_vm_store_state_file  (const char  *store,
                                      const char  *id);
/* The state dir, checked (the caller's own, not group/other writable);
 * -1 with @error set. */
int         hvk_vm_store_open        (const char  *store,
                                      gboolean     create,
                                      GError     **error);
/* `STORE/ID` relative to @store_fd, checked the same way. */
int         hvk_vm_store_open_vm_dir (int          store_fd,
                                      const char  *store,
                                      const char  *id,
                                      gboolean     create,
                                      GError     **error);
void        hvk_vm_store_close_fd    (int         *fd);

G_END_DECLS
