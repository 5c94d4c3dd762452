/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The bare QMP client the benchmark measures hvkit against: a blocking
 * UNIX socket, one write per command, replies read line by line, events
 * skipped.  No JSON parsing beyond "is this line the reply". */

#include <glib.h>

G_BEGIN_DECLS

/* Connects to @path; -1 (errno set) when nobody listens yet. */
int       bqmp_connect     (const char *path);
/* Reads the greeting and negotiates capabilities. */
gboolean  bqmp_handshake   (int         fd);
/* Sends @json (a complete command object) and returns the reply line
 * ("return" or "error"), or NULL if the connection broke. */
char     *bqmp_command     (int         fd,
                            const char *json);
/* Like bqmp_command() but FALSE unless the reply is a "return". */
gboolean  bqmp_run         (int         fd,
                            const char *json);
/* Connect as soon as the socket accepts (polling every @poll_us) and
 * negotiate; -1 after @timeout_ms. */
int       bqmp_wait_ready  (const char *path,
                            guint       poll_us,
                            guint       timeout_ms);

G_END_DECLS
