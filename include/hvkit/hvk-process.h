/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#include <glib.h>
#include <hvkit/hvk-visibility.h>

G_BEGIN_DECLS

HVK_AVAILABLE_IN_ALL
guint64  hvk_process_get_start_time (int          pid);
HVK_AVAILABLE_IN_ALL
gboolean hvk_process_is_alive       (int          pid,
                                     guint64      start_time);
HVK_AVAILABLE_IN_ALL
gboolean hvk_process_wait_dead      (int          pid,
                                     guint64      start_time,
                                     gint64       deadline_us);
HVK_AVAILABLE_IN_ALL
gboolean hvk_process_kill           (int          pid,
                                     guint64      start_time,
                                     guint        timeout_ms);
HVK_AVAILABLE_IN_ALL
gboolean hvk_process_read_pid_file  (const char  *path,
                                     int         *pid,
                                     GError     **error);
HVK_AVAILABLE_IN_ALL
char    *hvk_process_describe_exit  (const char  *exit_file);
HVK_AVAILABLE_IN_ALL
GArray  *hvk_process_kill_referencing (const char *path,
                                       guint       timeout_ms);
HVK_AVAILABLE_IN_ALL
void     hvk_debug_kill_point       (const char  *where);
HVK_AVAILABLE_IN_ALL
char    *hvk_process_read_log_tail  (const char  *path,
                                     gsize        max_bytes);

G_END_DECLS
