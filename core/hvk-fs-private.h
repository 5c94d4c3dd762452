/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sys/stat.h>
#include <glib.h>

G_BEGIN_DECLS

/* File-system helpers the core shares (the VM store, the registry).  None
 * of this is exported: the library is built with -fvisibility=hidden and
 * these prototypes carry no HVK_EXPORT. */

/* How far a directory hvkit reads from or writes to must be trusted. */
typedef enum {
  /* Nobody but its owner may plant files in it: world-writable without
   * the sticky bit is refused (plugin directories, which may be the
   * system's, owned by root). */
  HVK_DIR_TRUST_NOT_WORLD_WRITABLE,
  /* hvkit's own: owned by the caller (the effective uid) and writable by
   * neither group nor others (the state dir and the VM dirs in it, which
   * hvkit creates 0700). */
  HVK_DIR_TRUST_PRIVATE,
} HvkDirTrust;

/* Judges the directory @path whose lstat/fstat is @st; on refusal sets
 * @error (@code of HVK_ERROR) to "WHAT PATH is REASON; FIX", e.g.
 * "state dir /x is writable by others (mode 0777); chmod go-w it". */
gboolean hvk_fs_check_dir_trust (const char        *path,
                                 const struct stat *st,
                                 HvkDirTrust        trust,
                                 const char        *what,
                                 int                code,
                                 GError           **error);

/* Judges the regular file @path whose fstat is @st as
 * HVK_DIR_TRUST_PRIVATE judges a directory: owned by the effective uid,
 * writable by neither group nor others (a cache hvkit wrote and will
 * believe).  Errors read as those of hvk_fs_check_dir_trust(). */
gboolean hvk_fs_check_file_private (const char        *path,
                                    const struct stat *st,
                                    const char        *what,
                                    int                code,
                                    GError           **error);

/* Removes the entry @name of the directory @dir_fd and, for a directory,
 * everything in it, depth first, relative to directory descriptors: a
 * symlink anywhere is removed, never followed, and a directory swapped
 * for a symlink meanwhile is not entered.  @path names the entry in
 * errors.  A missing entry is no error. */
gboolean hvk_fs_remove_at (int          dir_fd,
                           const char  *name,
                           const char  *path,
                           GError     **error);

G_END_DECLS
