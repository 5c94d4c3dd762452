/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#include <glib-object.h>
#include <json-glib/json-glib.h>
#include <hvkit/hvk-visibility.h>

G_BEGIN_DECLS

/**
 * HvkOpts:
 *
 * One option value that the VMM parses as a comma list
 * (`virtio-blk-pci,drive=hd0,serial=hd0`).  Appenders describe the list as
 * an optional leading bare value plus key/value pairs; hvk_opts_to_string()
 * is the one place where values are escaped (`,` becomes `,,`) and control
 * characters are refused.  hvk_opts_to_json() gives the same options to
 * QMP, typed (booleans and integers) and with dotted keys nested.
 */
typedef struct _HvkOpts HvkOpts;

HVK_AVAILABLE_IN_ALL
HvkOpts *hvk_opts_new        (const char *first_value);
HVK_AVAILABLE_IN_ALL
void     hvk_opts_free       (HvkOpts    *opts);
HVK_AVAILABLE_IN_ALL
void     hvk_opts_add        (HvkOpts    *opts,
                              const char *key,
                              const char *value);
HVK_AVAILABLE_IN_ALL
void     hvk_opts_add_printf (HvkOpts    *opts,
                              const char *key,
                              const char *format,
                              ...) G_GNUC_PRINTF (3, 4);
HVK_AVAILABLE_IN_ALL
void     hvk_opts_add_bool   (HvkOpts    *opts,
                              const char *key,
                              gboolean    value);
HVK_AVAILABLE_IN_ALL
void     hvk_opts_add_uint   (HvkOpts    *opts,
                              const char *key,
                              guint64     value);
HVK_AVAILABLE_IN_ALL
void     hvk_opts_add_int    (HvkOpts    *opts,
                              const char *key,
                              gint64      value);
HVK_AVAILABLE_IN_ALL
void     hvk_opts_add_flag   (HvkOpts    *opts,
                              const char *key);
HVK_AVAILABLE_IN_ALL
void     hvk_opts_add_raw    (HvkOpts    *opts,
                              const char *list);
HVK_AVAILABLE_IN_ALL
char    *hvk_opts_to_string  (HvkOpts    *opts,
                              GError    **error);
HVK_AVAILABLE_IN_ALL
JsonObject *hvk_opts_to_json (HvkOpts    *opts,
                              const char *first_key,
                              GError    **error);
HVK_AVAILABLE_IN_ALL
char    *hvk_escape_comma    (const char *value);
HVK_AVAILABLE_IN_ALL
gboolean hvk_check_no_control_chars (const char  *what,
                                     const char  *value,
                                     GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HvkOpts, hvk_opts_free)

#define HVK_TYPE_CMDLINE (hvk_cmdline_get_type ())
HVK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HvkCmdline, hvk_cmdline, HVK, CMDLINE, GObject)

HVK_AVAILABLE_IN_ALL
HvkCmdline  *hvk_cmdline_new         (const char  *program);
HVK_AVAILABLE_IN_ALL
const char  *hvk_cmdline_get_program (HvkCmdline  *self);
HVK_AVAILABLE_IN_ALL
gboolean     hvk_cmdline_add_arg     (HvkCmdline  *self,
                                      const char  *arg,
                                      GError     **error);
HVK_AVAILABLE_IN_ALL
gboolean     hvk_cmdline_add_args    (HvkCmdline  *self,
                                      GError     **error,
                                      const char  *first_arg,
                                      ...) G_GNUC_NULL_TERMINATED;
HVK_AVAILABLE_IN_ALL
gboolean     hvk_cmdline_add_option  (HvkCmdline  *self,
                                      const char  *flag,
                                      const char  *value,
                                      GError     **error);
HVK_AVAILABLE_IN_ALL
gboolean     hvk_cmdline_add_opts    (HvkCmdline  *self,
                                      const char  *flag,
                                      HvkOpts     *opts,
                                      GError     **error);
HVK_AVAILABLE_IN_ALL
int          hvk_cmdline_take_fd     (HvkCmdline  *self,
                                      int          fd);
HVK_AVAILABLE_IN_ALL
const int   *hvk_cmdline_get_fds     (HvkCmdline  *self,
                                      guint       *n_fds);
HVK_AVAILABLE_IN_ALL
const char * const *hvk_cmdline_get_argv (HvkCmdline *self);
HVK_AVAILABLE_IN_ALL
guint        hvk_cmdline_get_length  (HvkCmdline  *self);
HVK_AVAILABLE_IN_ALL
char        *hvk_cmdline_to_json     (HvkCmdline  *self);
HVK_AVAILABLE_IN_ALL
char        *hvk_cmdline_to_string   (HvkCmdline  *self);

G_END_DECLS
