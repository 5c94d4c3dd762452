/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#include <glib.h>
#include <json-glib/json-glib.h>
#include <hvkit/hvk-visibility.h>

G_BEGIN_DECLS

/* The typed readers of saved state, one set for the core and every
 * backend (a plugin links only the public API).  Each reads one member of
 * an object: with @required, a missing or null member is an error; without,
 * it leaves the default (NULL, 0, FALSE) and succeeds.  A member of the
 * wrong type, or out of range, is always an error.  Errors are
 * %HVK_ERROR_INVALID_CONFIG, `member 'NAME' is missing or not a string`,
 * naming the member; the caller prefixes the file. */

HVK_AVAILABLE_IN_ALL
gboolean hvk_json_get_string (JsonObject   *object,
                              const char   *member,
                              gboolean      required,
                              const char  **value,
                              GError      **error);
HVK_AVAILABLE_IN_ALL
gboolean hvk_json_dup_string (JsonObject   *object,
                              const char   *member,
                              gboolean      required,
                              char        **value,
                              GError      **error);
HVK_AVAILABLE_IN_ALL
gboolean hvk_json_get_int    (JsonObject   *object,
                              const char   *member,
                              gboolean      required,
                              gint64        min,
                              gint64        max,
                              gint64       *value,
                              GError      **error);
HVK_AVAILABLE_IN_ALL
gboolean hvk_json_get_bool   (JsonObject   *object,
                              const char   *member,
                              gboolean      required,
                              gboolean     *value,
                              GError      **error);
HVK_AVAILABLE_IN_ALL
gboolean hvk_json_get_object (JsonObject   *object,
                              const char   *member,
                              gboolean      required,
                              JsonObject  **value,
                              GError      **error);
HVK_AVAILABLE_IN_ALL
gboolean hvk_json_get_array  (JsonObject   *object,
                              const char   *member,
                              gboolean      required,
                              JsonArray   **value,
                              GError      **error);
HVK_AVAILABLE_IN_ALL
gboolean hvk_json_get_strv   (JsonObject   *object,
                              const char   *member,
                              gboolean      required,
                              GStrv        *value,
                              GError      **error);

G_END_DECLS
