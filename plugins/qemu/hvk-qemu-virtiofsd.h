/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The virtio-fs daemon of the QEMU lifecycle; process liveness, waits
 * and kills are the core's (hvk-process.h).  Private to the QEMU plugin. */

#include <hvkit/hvkit.h>

#include "hvk-qemu-settings.h"

G_BEGIN_DECLS

/* virtiofsd (hvk-qemu-virtiofsd.c): starts `virtio_fs_daemon` sharing
 * `shared_path` (@settings of @config, which names the file in errors) on @socket_path, waits (until @deadline_us) for the
 * socket to appear; its output goes to a pipe whose read end is
 * @out_log_fd (for hvkit-monitor's --relay-fd).  On failure nothing
 * is left running. */
/* virtiofsd's argv (NULL-terminated, transfer full) for @settings. */
GPtrArray *hvk_qemu_virtiofsd_argv (const HvkQemuSettings *settings,
                                    const char            *socket_path);
gboolean hvk_qemu_virtiofsd_start   (HvkConfig    *config,
                                     const HvkQemuSettings *settings,
                                     const char   *socket_path,
                                     gint64        deadline_us,
                                     int          *out_pid,
                                     guint64      *out_start_time,
                                     int          *out_log_fd,
                                     GError      **error);
/* SIGTERM, wait up to @timeout_ms, then SIGKILL. */
void     hvk_qemu_virtiofsd_stop    (int           pid,
                                     guint64       start_time,
                                     guint         timeout_ms);

G_END_DECLS
