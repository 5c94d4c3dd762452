/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "hvk-acrn-private.h"

/*
 * acrn-dm pins a VM to one physical CPU (`--cpu_affinity APICID`).  As in
 * Kata's getNextApicid(), the VM store keeps the index of the last CPU
 * handed out in `cpu_affinity_idx`; each start takes the next one,
 * wrapping around the host's CPUs, and each stop gives one back.  The file
 * is read and written under an exclusive flock so two VMs starting at
 * once get different CPUs.
 */

/**
 * hvk_acrn_read_apic_ids:
 * @cpuinfo_path: `/proc/cpuinfo` or a file in its format
 * @error: return location for an error
 *
 * Returns: (transfer full) (element-type utf8): the `apicid` of each
 *   processor in order, or %NULL with @error set
 */
GPtrArray *
hvk_acrn_read_apic_ids (const char  *cpuinfo_path,
                        GError     **error)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  gboolean in_processor = FALSE;
  gboolean have_apicid = FALSE;

  if (!g_file_get_contents (cpuinfo_path, &contents, NULL, error))
    return NULL;

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) kv = g_strsplit (lines[i], ":", 2);
      g_autofree char *key = NULL;

      if (kv[0] == NULL || kv[1] == NULL)
        continue;
      key = g_strstrip (g_strdup (kv[0]));

      if (g_str_equal (key, "processor"))
        {
          if (in_processor && !have_apicid)
            break;
          in_processor = TRUE;
          have_apicid = FALSE;
        }
      else if (in_processor && !have_apicid && g_str_equal (key, "apicid"))
        {
          g_ptr_array_add (ids, g_strstrip (g_strdup (kv[1])));
          have_apicid = TRUE;
        }
    }

  if (in_processor && !have_apicid)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "%s: processor %u has no 'apicid': backend '%s' cannot pin "
                   "the VM to a CPU (--cpu_affinity)",
                   cpuinfo_path, ids->len, HVK_ACRN_BACKEND_NAME);
      return NULL;
    }
  if (ids->len == 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "%s: no processor found", cpuinfo_path);
      return NULL;
    }

  return g_steal_pointer (&ids);
}

/* An open, flocked index file; closing releases the lock. */
typedef struct {
  int   fd;
  char *path;
} IndexFile;

static void
index_file_close (IndexFile *file)
{
  if (file->fd >= 0)
    close (file->fd);
  g_free (file->path);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (IndexFile, index_file_close)

static gboolean
index_file_open (const char  *store,
                 gboolean     create,
                 IndexFile   *file,
                 GError     **error)
{
  int saved_errno;

  file->fd = -1;
  file->path = g_build_filename (store, HVK_ACRN_AFFINITY_FILE, NULL);

  if (create && g_mkdir_with_parents (store, 0750) < 0)
    {
      saved_errno = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "Cannot create VM store '%s': %s", store, g_strerror (saved_errno));
      return FALSE;
    }

  file->fd = open (file->path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0640);
  if (file->fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, HVK_ERROR,
                   saved_errno == ENOENT ? HVK_ERROR_NOT_FOUND : HVK_ERROR_FAILED,
                   "Cannot open CPU affinity index '%s': %s",
                   file->path, g_strerror (saved_errno));
      return FALSE;
    }

  while (flock (file->fd, LOCK_EX) < 0)
    {
      saved_errno = errno;
      if (saved_errno == EINTR)
        continue;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "Cannot lock CPU affinity index '%s': %s",
                   file->path, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/* The stored index; -1 (none handed out) for an empty file. */
static gboolean
index_file_read (IndexFile  *file,
                 gint64     *index,
                 GError    **error)
{
  char buf[64];
  g_autofree char *text = NULL;
  ssize_t n;

  n = pread (file->fd, buf, sizeof buf - 1, 0);
  if (n < 0)
    {
      int saved_errno = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "Cannot read CPU affinity index '%s': %s",
                   file->path, g_strerror (saved_errno));
      return FALSE;
    }
  buf[n] = '\0';
  text = g_strstrip (g_strdup (buf));

  if (*text == '\0')
    {
      *index = -1;
      return TRUE;
    }
  if (!g_ascii_string_to_signed (text, 10, -1, G_MAXINT32, index, NULL))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "CPU affinity index '%s' holds '%s', not a number",
                   file->path, text);
      return FALSE;
    }
  return TRUE;
}

static gboolean
index_file_write (IndexFile  *file,
                  gint64      index,
                  GError    **error)
{
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, index);
  gsize len = strlen (text);

  if (ftruncate (file->fd, 0) < 0 || pwrite (file->fd, text, len, 0) != (ssize_t) len)
    {
      int saved_errno = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "Cannot write CPU affinity index '%s': %s",
                   file->path, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/* Kata's rule: after the last CPU, start again from the first. */
static gint64
next_index (gint64 prev,
            guint  n_cpus)
{
  if (prev >= (gint64) n_cpus - 1)
    prev = -1;
  return prev + 1;
}

/* The APIC id the next start would take, without taking it (for argv
 * before start).
 */
gboolean
hvk_acrn_affinity_peek (const char  *store,
                        const char  *cpuinfo_path,
                        char       **apic_id,
                        GError     **error)
{
  g_autoptr(GPtrArray) ids = hvk_acrn_read_apic_ids (cpuinfo_path, error);
  g_auto(IndexFile) file = { -1, NULL };
  g_autoptr(GError) local_error = NULL;
  gint64 prev = -1;

  if (ids == NULL)
    return FALSE;

  if (index_file_open (store, FALSE, &file, &local_error))
    {
      if (!index_file_read (&file, &prev, error))
        return FALSE;
    }
  else if (!g_error_matches (local_error, HVK_ERROR, HVK_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  *apic_id = g_strdup (g_ptr_array_index (ids, next_index (prev, ids->len)));
  return TRUE;
}

/* Takes the next APIC id and records it in the index file.
 */
gboolean
hvk_acrn_affinity_take (const char  *store,
                        const char  *cpuinfo_path,
                        char       **apic_id,
                        GError     **error)
{
  g_autoptr(GPtrArray) ids = hvk_acrn_read_apic_ids (cpuinfo_path, error);
  g_auto(IndexFile) file = { -1, NULL };
  gint64 prev, current;

  if (ids == NULL)
    return FALSE;
  if (!index_file_open (store, TRUE, &file, error)
      || !index_file_read (&file, &prev, error))
    return FALSE;

  current = next_index (prev, ids->len);
  if (!index_file_write (&file, current, error))
    return FALSE;

  *apic_id = g_strdup (g_ptr_array_index (ids, current));
  return TRUE;
}

/* Gives one CPU back (Kata's StopVM decrements the index); never below
 * "none handed out".
 */
gboolean
hvk_acrn_affinity_release (const char  *store,
                           GError     **error)
{
  g_auto(IndexFile) file = { -1, NULL };
  g_autoptr(GError) local_error = NULL;
  gint64 current;

  if (!index_file_open (store, FALSE, &file, &local_error))
    {
      /* Nothing was handed out from this store. */
      if (g_error_matches (local_error, HVK_ERROR, HVK_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (!index_file_read (&file, &current, error))
    return FALSE;

  return index_file_write (&file, MAX (current - 1, -1), error);
}
