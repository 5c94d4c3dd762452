/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What a QEMU start waits on, as events rather than a polling interval.
 * Private to the QEMU plugin. */

#include <glib.h>
#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _HvkQemuStartWatch HvkQemuStartWatch;

HvkQemuStartWatch *hvk_qemu_start_watch_new    (const char         *dir);
void               hvk_qemu_start_watch_set_launcher (HvkQemuStartWatch *watch,
                                                      GPid               launcher);
void               hvk_qemu_start_watch_wait   (HvkQemuStartWatch  *watch,
                                                gint64              deadline,
                                                gint64              max_wait_us,
                                                GCancellable       *cancellable);
gboolean           hvk_qemu_start_watch_is_evented (HvkQemuStartWatch *watch);
void               hvk_qemu_start_watch_free   (HvkQemuStartWatch  *watch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HvkQemuStartWatch, hvk_qemu_start_watch_free)

G_END_DECLS
