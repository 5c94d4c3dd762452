/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvk-fs-private.h"

/* The checks of HVK_DIR_TRUST_PRIVATE, for a directory or a file. */
static gboolean
check_private (const char        *path,
               const struct stat *st,
               const char        *what,
               int                code,
               GError           **error)
{
  guint mode = st->st_mode & 07777;

  if (st->st_uid != geteuid ())
    {
      g_set_error (error, HVK_ERROR, code,
                   "%s %s is owned by uid %u, not by this user (uid %u); "
                   "refusing to use it", what, path,
                   (guint) st->st_uid, (guint) geteuid ());
      return FALSE;
    }
  if ((mode & (S_IWGRP | S_IWOTH)) != 0)
    {
      g_set_error (error, HVK_ERROR, code,
                   "%s %s is writable by %s (mode %04o); chmod go-w it",
                   what, path,
                   (mode & S_IWGRP) == 0 ? "others"
                   : (mode & S_IWOTH) == 0 ? "its group"
                   : "its group and others",
                   mode);
      return FALSE;
    }
  return TRUE;
}

gboolean
hvk_fs_check_dir_trust (const char        *path,
                        const struct stat *st,
                        HvkDirTrust        trust,
                        const char        *what,
                        int                code,
                        GError           **error)
{
  guint mode = st->st_mode & 07777;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!S_ISDIR (st->st_mode))
    {
      g_set_error (error, HVK_ERROR, code, "%s %s is not a directory",
                   what, path);
      return FALSE;
    }

  switch (trust)
    {
    case HVK_DIR_TRUST_NOT_WORLD_WRITABLE:
      if ((mode & S_IWOTH) != 0 && (mode & S_ISVTX) == 0)
        {
          g_set_error (error, HVK_ERROR, code,
                       "%s %s is world-writable (mode %04o) without the "
                       "sticky bit; chmod o-w it", what, path, mode);
          return FALSE;
        }
      return TRUE;

    case HVK_DIR_TRUST_PRIVATE:
      return check_private (path, st, what, code, error);

    default:
      g_assert_not_reached ();
    }
}

gboolean
hvk_fs_check_file_private (const char        *path,
                           const struct stat *st,
                           const char        *what,
                           int                code,
                           GError           **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!S_ISREG (st->st_mode))
    {
      g_set_error (error, HVK_ERROR, code, "%s %s is not a regular file",
                   what, path);
      return FALSE;
    }
  return check_private (path, st, what, code, error);
}

static gboolean
fail_errno (GError     **error,
            int          saved_errno,
            const char  *what,
            const char  *path)
{
  g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot %s %s: %s",
               what, path, g_strerror (saved_errno));
  return FALSE;
}

gboolean
hvk_fs_remove_at (int          dir_fd,
                  const char  *name,
                  const char  *path,
                  GError     **error)
{
  DIR *dir;
  struct dirent *entry;
  int fd;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Anything but a directory (a symlink included) goes with one unlink;
   * on Linux unlinkat() of a directory fails with EISDIR. */
  if (unlinkat (dir_fd, name, 0) == 0 || errno == ENOENT)
    return TRUE;
  if (errno != EISDIR && errno != EPERM)
    return fail_errno (error, errno, "remove", path);

  /* O_NOFOLLOW: what was a directory an instant ago and is a symlink now
   * is not entered. */
  fd = openat (dir_fd, name,
               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    {
      int saved_errno = errno;

      if (saved_errno == ENOENT)
        return TRUE;
      if (saved_errno == ELOOP || saved_errno == ENOTDIR)
        {
          /* Swapped meanwhile: remove the new entry itself, no more. */
          if (unlinkat (dir_fd, name, 0) == 0 || errno == ENOENT)
            return TRUE;
          return fail_errno (error, errno, "remove", path);
        }
      return fail_errno (error, saved_errno, "open", path);
    }
  dir = fdopendir (fd);
  if (dir == NULL)
    {
      int saved_errno = errno;

      close (fd);
      return fail_errno (error, saved_errno, "read", path);
    }

  for (;;)
    {
      g_autofree char *child = NULL;

      errno = 0;
      entry = readdir (dir);
      if (entry == NULL)
        break;
      if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0)
        continue;
      child = g_build_filename (path, entry->d_name, NULL);
      if (!hvk_fs_remove_at (dirfd (dir), entry->d_name, child, error))
        {
          closedir (dir);
          return FALSE;
        }
    }
  if (errno != 0)
    {
      int saved_errno = errno;

      closedir (dir);
      return fail_errno (error, saved_errno, "read", path);
    }
  closedir (dir);

  if (unlinkat (dir_fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
    return fail_errno (error, errno, "remove", path);
  return TRUE;
}
