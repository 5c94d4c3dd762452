/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A synchronous QMP client: one UNIX socket, blocking I/O driven by poll()
 * with a deadline on every call, so no caller waits past its bound.
 * Replies are matched by id; events that arrive meanwhile are queued and
 * can be waited for.  Private to the QEMU plugin. */

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/* The longest QMP message accepted (one line of JSON). */
#define HVK_QMP_DEFAULT_MAX_LINE (16 * 1024 * 1024)

/* Events kept while nobody waits for them; the oldest go first. */
#define HVK_QMP_MAX_QUEUED_EVENTS 1024

#define HVK_TYPE_QMP_CLIENT (hvk_qmp_client_get_type ())
G_DECLARE_FINAL_TYPE (HvkQmpClient, hvk_qmp_client, HVK, QMP_CLIENT, GObject)

HvkQmpClient *hvk_qmp_client_new            (void);

void          hvk_qmp_client_set_max_line   (HvkQmpClient  *self,
                                             gsize          max_line);

/* Connects to @path (one attempt).  Fails with HVK_ERROR_NOT_FOUND when
 * nobody listens yet (ENOENT, ECONNREFUSED), so a caller can retry. */
gboolean      hvk_qmp_client_open           (HvkQmpClient  *self,
                                             const char    *path,
                                             GError       **error);

/* Reads the greeting and negotiates `qmp_capabilities`. */
gboolean      hvk_qmp_client_handshake      (HvkQmpClient  *self,
                                             guint          timeout_ms,
                                             GCancellable  *cancellable,
                                             GError       **error);

/* open() + handshake(). */
gboolean      hvk_qmp_client_connect        (HvkQmpClient  *self,
                                             const char    *path,
                                             guint          timeout_ms,
                                             GCancellable  *cancellable,
                                             GError       **error);

gboolean      hvk_qmp_client_is_connected   (HvkQmpClient  *self);
void          hvk_qmp_client_close          (HvkQmpClient  *self);

/* (transfer none) (nullable): the greeting's "QMP" object. */
JsonObject   *hvk_qmp_client_get_greeting   (HvkQmpClient  *self);

/* Runs @command with @arguments (nullable, transfer none, an object) and
 * returns (transfer full) the "return" member.  An error reply becomes
 * HVK_ERROR_QMP "QMP command 'X' failed: CLASS: DESC"; no reply within
 * @timeout_ms HVK_ERROR_TIMEOUT; a lost connection HVK_ERROR_DISCONNECTED. */
JsonNode     *hvk_qmp_client_execute        (HvkQmpClient  *self,
                                             const char    *command,
                                             JsonObject    *arguments,
                                             guint          timeout_ms,
                                             GCancellable  *cancellable,
                                             GError       **error);
/* As hvk_qmp_client_execute(), sending @pass_fd (transfer none: the
 * caller closes its copy) with the command as SCM_RIGHTS, for `getfd`
 * and `add-fd`: QEMU opens nothing itself (a confined QEMU may not). */
JsonNode     *hvk_qmp_client_execute_with_fd (HvkQmpClient  *self,
                                              const char    *command,
                                              JsonObject    *arguments,
                                              int            pass_fd,
                                              guint          timeout_ms,
                                              GCancellable  *cancellable,
                                              GError       **error);

/* Waits for event @name (and, when @data_key is set, whose data member
 * @data_key is the string @data_value).  Queued events count.  Returns
 * (transfer full) the whole event object. */
JsonObject   *hvk_qmp_client_wait_event     (HvkQmpClient  *self,
                                             const char    *name,
                                             const char    *data_key,
                                             const char    *data_value,
                                             guint          timeout_ms,
                                             GCancellable  *cancellable,
                                             GError       **error);

/* Whether an event's "data" object (never NULL) is the one waited for. */
typedef gboolean (*HvkQmpEventMatch) (JsonObject *data,
                                      gpointer    user_data);

/* As hvk_qmp_client_wait_event(), with @match choosing among the events
 * named @name (e.g. DEVICE_DELETED whose "path" lies under a QOM path);
 * @description names what is waited for in the timeout error. */
JsonObject   *hvk_qmp_client_wait_event_match (HvkQmpClient      *self,
                                               const char        *name,
                                               HvkQmpEventMatch   match,
                                               gpointer           user_data,
                                               const char        *description,
                                               guint              timeout_ms,
                                               GCancellable      *cancellable,
                                               GError           **error);

/* The next event (transfer full), queued or read: TIMEOUT after
 * @timeout_ms, DISCONNECTED when QEMU closes the socket. */
JsonObject   *hvk_qmp_client_next_event     (HvkQmpClient  *self,
                                             guint          timeout_ms,
                                             GCancellable  *cancellable,
                                             GError       **error);
/* Takes (transfer full) the oldest queued event named @name, or NULL;
 * never reads from the socket. */
JsonObject   *hvk_qmp_client_take_queued_event (HvkQmpClient *self,
                                                const char   *name);
/* Takes (transfer full) the oldest queued event, or NULL. */
JsonObject   *hvk_qmp_client_pop_event      (HvkQmpClient  *self);
guint         hvk_qmp_client_get_n_events   (HvkQmpClient  *self);
void          hvk_qmp_client_clear_events   (HvkQmpClient  *self);

G_END_DECLS
