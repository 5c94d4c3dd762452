/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reads @path; a missing file is HVK_ERROR_NOT_FOUND, any other failure
 * HVK_ERROR_FAILED, both naming the path and @what. */
char  *hvk_param_read_file   (const char  *path,
                              const char  *what,
                              GError     **error);
/* Splits @contents into lines as Go's bufio.ScanLines does. */
GStrv  hvk_param_split_lines (const char  *contents);

G_END_DECLS
