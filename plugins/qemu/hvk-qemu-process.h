/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Process helpers for the QEMU lifecycle: liveness, bounded waits and
 * kills of processes that may not be our children (a daemonized QEMU is
 * re-parented), and the virtio-fs daemon.  Private to the QEMU plugin. */

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/* The start time (clock ticks since boot, /proc/PID/stat field 22) of
 * @pid, or 0 when it does not exist; guards against pid reuse. */
guint64  hvk_process_get_start_time (int pid);

/* Alive means /proc/PID/stat exists, its state is neither Z (zombie) nor
 * X (dead), and, when @start_time is not 0, it started then.  Never
 * kill(pid, 0) alone: an orphan stays a zombie until PID 1 reaps it. */
gboolean hvk_process_is_alive       (int      pid,
                                     guint64  start_time);

/* Polls (1 ms at first, then 5 ms) until @pid is dead or @deadline_us
 * (monotonic) passes; reaps it if it is our child.  TRUE if dead. */
gboolean hvk_process_wait_dead      (int      pid,
                                     guint64  start_time,
                                     gint64   deadline_us);

/* SIGKILL @pid (if alive) and wait up to @timeout_ms for it to die. */
gboolean hvk_process_kill           (int      pid,
                                     guint64  start_time,
                                     guint    timeout_ms);

/* Reads a pid file written by QEMU's -pidfile. */
gboolean hvk_process_read_pid_file  (const char  *path,
                                     int         *pid,
                                     GError     **error);

/* The last @max_bytes of a log file, stripped, or NULL if empty. */
char    *hvk_process_read_log_tail  (const char  *path,
                                     gsize        max_bytes);

/* virtiofsd (hvk-qemu-virtiofsd.c): starts `virtio_fs_daemon` sharing
 * `shared_path` on @socket_path, waits (until @deadline_us) for the
 * socket to appear; its output goes to @log_path.  On failure nothing
 * is left running. */
gboolean hvk_qemu_virtiofsd_start   (HvkConfig    *config,
                                     const char   *socket_path,
                                     const char   *log_path,
                                     gint64        deadline_us,
                                     int          *out_pid,
                                     guint64      *out_start_time,
                                     GError      **error);
/* SIGTERM, wait up to @timeout_ms, then SIGKILL. */
void     hvk_qemu_virtiofsd_stop    (int           pid,
                                     guint64       start_time,
                                     guint         timeout_ms);

G_END_DECLS
