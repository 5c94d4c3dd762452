/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include "hvk-fs-private.h"
#include "hvk-registry-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>

/* The plugin cache, in the manner of GStreamer's registry cache
 * (gst/gstregistry.c, gstregistrybinary.c): a per-user file listing every
 * plugin file a scan found, its size and mtime, and what the plugin
 * registered, so that a process dlopens only the plugins it uses.  It is
 * a hint: anything wrong with it (missing, corrupt, stale, not ours) makes
 * the registry scan as if there were none and write it again.
 *
 * The format is read by every hvkit command, so it is a plain one that
 * costs next to nothing to parse (json-glib took 0.7 M instructions for
 * 1.6 KB, more than the two plugins it spared): lines of tab-separated
 * fields, each field escaped with g_strescape().  The first line is
 *
 *   hvkit-registry-cache FORMAT HVKIT-VERSION ABI ARCH N-PLUGINS
 *
 * then for each plugin, in scan order, a `P` line and the lines of what it
 * registered:
 *
 *   P PATH SIZE MTIME-NS NAME DESCRIPTION VERSION LICENSE
 *   B BACKEND CAPS      a backend
 *   K KIND              a device kind
 *   A BACKEND KIND      a device appender
 *   Y BACKEND           kernel-param policies for BACKEND (empty: all)
 *   C BACKEND           config keys for BACKEND
 *
 * and a last line `E`: a file cut short is refused. */

#define CACHE_ENV "HVKIT_REGISTRY_CACHE"
#define CACHE_MAGIC "hvkit-registry-cache"
#define CACHE_FORMAT 1

#if defined(__x86_64__)
# define CACHE_ARCH "x86_64"
#elif defined(__aarch64__)
# define CACHE_ARCH "aarch64"
#elif defined(__i386__)
# define CACHE_ARCH "i386"
#elif defined(__arm__)
# define CACHE_ARCH "arm"
#elif defined(__riscv) && __riscv_xlen == 64
# define CACHE_ARCH "riscv64"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
# define CACHE_ARCH "ppc64le"
#elif defined(__s390x__)
# define CACHE_ARCH "s390x"
#else
# define CACHE_ARCH "unknown"
#endif

static GPtrArray *
strv_new (void)
{
  return g_ptr_array_new_with_free_func (g_free);
}

HvkRegistryCandidate *
hvk_registry_candidate_new (const char        *path,
                            const struct stat *st,
                            guint              rank)
{
  HvkRegistryCandidate *candidate = g_new0 (HvkRegistryCandidate, 1);

  candidate->path = g_strdup (path);
  candidate->size = st->st_size;
  candidate->mtime_ns = (gint64) st->st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) +
                        st->st_mtim.tv_nsec;
  candidate->rank = rank;
  candidate->backends = strv_new ();
  candidate->backend_caps = g_array_new (FALSE, FALSE, sizeof (HvkCapabilities));
  candidate->kinds = strv_new ();
  candidate->appender_backends = strv_new ();
  candidate->appender_kinds = strv_new ();
  candidate->policy_backends = strv_new ();
  candidate->key_backends = strv_new ();
  return candidate;
}

void
hvk_registry_candidate_free (HvkRegistryCandidate *candidate)
{
  if (candidate == NULL)
    return;
  g_free (candidate->path);
  g_free (candidate->name);
  g_free (candidate->description);
  g_free (candidate->version);
  g_free (candidate->license);
  g_ptr_array_unref (candidate->backends);
  g_array_unref (candidate->backend_caps);
  g_ptr_array_unref (candidate->kinds);
  g_ptr_array_unref (candidate->appender_backends);
  g_ptr_array_unref (candidate->appender_kinds);
  g_ptr_array_unref (candidate->policy_backends);
  g_ptr_array_unref (candidate->key_backends);
  g_free (candidate);
}

char *
hvk_registry_cache_get_path (void)
{
  const char *env = g_getenv (CACHE_ENV);

  if (env != NULL)
    {
      /* A relative path would depend on the current directory: no cache
       * rather than a surprise. */
      if (*env == '\0' || g_str_equal (env, "none") || !g_path_is_absolute (env))
        return NULL;
      return g_strdup (env);
    }
  return g_build_filename (g_get_user_cache_dir (), "hvkit",
                           "registry-" CACHE_ARCH ".cache", NULL);
}

static void
clear_cached (HvkRegistryCandidate *candidate)
{
  g_clear_pointer (&candidate->name, g_free);
  g_clear_pointer (&candidate->description, g_free);
  g_clear_pointer (&candidate->version, g_free);
  g_clear_pointer (&candidate->license, g_free);
  g_ptr_array_set_size (candidate->backends, 0);
  g_array_set_size (candidate->backend_caps, 0);
  g_ptr_array_set_size (candidate->kinds, 0);
  g_ptr_array_set_size (candidate->appender_backends, 0);
  g_ptr_array_set_size (candidate->appender_kinds, 0);
  g_ptr_array_set_size (candidate->policy_backends, 0);
  g_ptr_array_set_size (candidate->key_backends, 0);
}

static gboolean
read_contents (const char  *path,
               char       **contents,
               gsize       *length)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMappedFile) mapped = NULL;
  struct stat st;
  int fd;

  /* Not through a symlink, and judged by what was opened. */
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  if (fd < 0)
    {
      if (errno != ENOENT)
        g_debug ("registry cache %s: %s", path, g_strerror (errno));
      return FALSE;
    }
  if (fstat (fd, &st) != 0 ||
      !hvk_fs_check_file_private (path, &st, "registry cache", HVK_ERROR_FAILED,
                                  &error))
    {
      g_debug ("registry cache ignored: %s",
               error ? error->message : g_strerror (errno));
      close (fd);
      return FALSE;
    }
  mapped = g_mapped_file_new_from_fd (fd, FALSE, &error);
  close (fd);
  if (mapped == NULL)
    {
      g_debug ("registry cache %s: %s", path, error->message);
      return FALSE;
    }
  *length = g_mapped_file_get_length (mapped);
  *contents = g_strndup (g_mapped_file_get_contents (mapped), *length);
  return TRUE;
}

static gboolean
parse_int (const char *text,
           gint64      min,
           gint64      max,
           gint64     *value)
{
  guint64 unsigned_value;

  if (min >= 0)
    {
      if (!g_ascii_string_to_unsigned (text, 10, (guint64) min, (guint64) max,
                                       &unsigned_value, NULL))
        return FALSE;
      *value = (gint64) unsigned_value;
      return TRUE;
    }
  return g_ascii_string_to_signed (text, 10, min, max, value, NULL);
}

/* Undoes g_strescape() in place (what it undoes is never longer); most
 * fields have nothing escaped. */
static void
unescape (char *field)
{
  g_autofree char *compressed = NULL;

  if (strchr (field, '\\') == NULL)
    return;
  compressed = g_strcompress (field);
  memcpy (field, compressed, strlen (compressed) + 1);
}

/* Splits @s at each @sep, in place, into @fields (at most @max of them).
 * Returns how many fields there are, which may be more than @max: the
 * reader is called for every command, so nothing is copied. */
static guint
split_in_place (char  *s,
                char   sep,
                char **fields,
                guint  max)
{
  guint n = 0;

  for (;;)
    {
      char *end = strchr (s, sep);

      if (n < max)
        fields[n] = s;
      n++;
      if (end == NULL)
        return n;
      *end = '\0';
      s = end + 1;
    }
}

/* Reads the lines of one plugin, from its `P` line at @lines[*i] to the
 * next `P` or `E`.  FALSE if anything is malformed or the file or its
 * size or mtime differ from @candidate's. */
static gboolean
read_plugin (char                 **lines,
             guint                 *i,
             HvkRegistryCandidate  *candidate)
{
  char *fields[8];
  gint64 size, mtime_ns;

  if (lines[*i] == NULL)
    return FALSE;
  if (split_in_place (lines[*i], '\t', fields, G_N_ELEMENTS (fields)) != 8
      || !g_str_equal (fields[0], "P"))
    return FALSE;
  for (guint f = 1; f < 8; f++)
    unescape (fields[f]);
  if (!g_str_equal (fields[1], candidate->path) ||
      !parse_int (fields[2], 0, G_MAXINT64, &size) || size != candidate->size ||
      !parse_int (fields[3], G_MININT64, G_MAXINT64, &mtime_ns) ||
      mtime_ns != candidate->mtime_ns ||
      !hvk_registry_name_is_valid (fields[4]))
    return FALSE;
  candidate->name = g_strdup (fields[4]);
  candidate->description = g_strdup (fields[5]);
  candidate->version = g_strdup (fields[6]);
  candidate->license = g_strdup (fields[7]);

  for ((*i)++; lines[*i] != NULL; (*i)++)
    {
      char *record[3];
      guint n;

      if (g_str_equal (lines[*i], "E") || g_str_has_prefix (lines[*i], "P\t"))
        return TRUE;
      n = split_in_place (lines[*i], '\t', record, G_N_ELEMENTS (record));
      if (n > G_N_ELEMENTS (record))
        return FALSE;
      for (guint f = 1; f < n; f++)
        unescape (record[f]);
      if (g_str_equal (record[0], "B") && n == 3)
        {
          gint64 caps;
          HvkCapabilities value;

          if (!parse_int (record[2], 0, G_MAXUINT, &caps))
            return FALSE;
          value = (HvkCapabilities) caps;
          g_ptr_array_add (candidate->backends, g_strdup (record[1]));
          g_array_append_val (candidate->backend_caps, value);
        }
      else if (g_str_equal (record[0], "K") && n == 2)
        g_ptr_array_add (candidate->kinds, g_strdup (record[1]));
      else if (g_str_equal (record[0], "A") && n == 3)
        {
          g_ptr_array_add (candidate->appender_backends, g_strdup (record[1]));
          g_ptr_array_add (candidate->appender_kinds, g_strdup (record[2]));
        }
      else if (g_str_equal (record[0], "Y") && n == 2)
        g_ptr_array_add (candidate->policy_backends, g_strdup (record[1]));
      else if (g_str_equal (record[0], "C") && n == 2)
        g_ptr_array_add (candidate->key_backends, g_strdup (record[1]));
      else
        return FALSE;
    }
  return FALSE;  /* no `E`: cut short */
}

gboolean
hvk_registry_cache_read (const char *path,
                         GPtrArray  *candidates)
{
  g_autofree char *contents = NULL;
  g_autoptr(GPtrArray) line_array = g_ptr_array_new ();
  char **lines;
  char *header[6];
  gsize length = 0;
  gint64 format, abi, n_plugins;
  guint i = 1;

  if (!read_contents (path, &contents, &length))
    return FALSE;
  if (memchr (contents, '\0', length) != NULL)
    goto corrupt;

  /* Lines are pointers into @contents, split in place. */
  for (char *line = contents;;)
    {
      char *end = strchr (line, '\n');

      g_ptr_array_add (line_array, line);
      if (end == NULL)
        break;
      *end = '\0';
      line = end + 1;
    }
  g_ptr_array_add (line_array, NULL);
  lines = (char **) line_array->pdata;
  if (split_in_place (lines[0], '\t', header, G_N_ELEMENTS (header)) != 6
      || !g_str_equal (header[0], CACHE_MAGIC))
    goto corrupt;
  if (!parse_int (header[1], 0, G_MAXINT, &format) || format != CACHE_FORMAT ||
      !g_str_equal (header[2], PACKAGE_VERSION) ||
      !parse_int (header[3], 0, G_MAXINT, &abi) || abi != HVK_PLUGIN_ABI_VERSION ||
      !g_str_equal (header[4], CACHE_ARCH))
    {
      g_debug ("registry cache %s is of another hvkit", path);
      return FALSE;
    }
  if (!parse_int (header[5], 0, G_MAXUINT, &n_plugins))
    goto corrupt;
  if ((guint) n_plugins != candidates->len)
    {
      g_debug ("registry cache %s is stale: plugins added or removed", path);
      return FALSE;
    }

  for (guint c = 0; c < candidates->len; c++)
    {
      HvkRegistryCandidate *candidate = g_ptr_array_index (candidates, c);

      if (!read_plugin (lines, &i, candidate))
        {
          g_debug ("registry cache %s is stale or corrupt at %s", path,
                   candidate->path);
          for (guint j = 0; j <= c; j++)
            clear_cached (g_ptr_array_index (candidates, j));
          return FALSE;
        }
    }
  /* `E`, then nothing but the final newline. */
  if (lines[i] == NULL || !g_str_equal (lines[i], "E") ||
      lines[i + 1] == NULL || lines[i + 1][0] != '\0' || lines[i + 2] != NULL)
    {
      for (guint j = 0; j < candidates->len; j++)
        clear_cached (g_ptr_array_index (candidates, j));
      goto corrupt;
    }
  return TRUE;

corrupt:
  g_debug ("registry cache %s is corrupt", path);
  return FALSE;
}

/* Writing. */

static void
append_fields (GString    *out,
               const char *tag,
               ...)
{
  va_list args;
  const char *field;

  g_string_append (out, tag);
  va_start (args, tag);
  while ((field = va_arg (args, const char *)) != NULL)
    {
      g_autofree char *escaped = g_strescape (field, NULL);

      g_string_append_c (out, '\t');
      g_string_append (out, escaped);
    }
  va_end (args);
  g_string_append_c (out, '\n');
}

void
hvk_registry_cache_write (const char *path,
                          GPtrArray  *candidates)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;

  g_string_append_printf (out, "%s\t%d\t%s\t%d\t%s\t%u\n", CACHE_MAGIC,
                          CACHE_FORMAT, PACKAGE_VERSION,
                          (int) HVK_PLUGIN_ABI_VERSION, CACHE_ARCH,
                          candidates->len);
  for (guint i = 0; i < candidates->len; i++)
    {
      HvkRegistryCandidate *candidate = g_ptr_array_index (candidates, i);
      char size[32], mtime[32];

      g_snprintf (size, sizeof size, "%" G_GINT64_FORMAT, candidate->size);
      g_snprintf (mtime, sizeof mtime, "%" G_GINT64_FORMAT, candidate->mtime_ns);
      append_fields (out, "P", candidate->path, size, mtime, candidate->name,
                     candidate->description, candidate->version,
                     candidate->license, NULL);
      for (guint j = 0; j < candidate->backends->len; j++)
        {
          char caps[16];

          g_snprintf (caps, sizeof caps, "%u",
                      (guint) g_array_index (candidate->backend_caps,
                                             HvkCapabilities, j));
          append_fields (out, "B", g_ptr_array_index (candidate->backends, j),
                         caps, NULL);
        }
      for (guint j = 0; j < candidate->kinds->len; j++)
        append_fields (out, "K", g_ptr_array_index (candidate->kinds, j), NULL);
      for (guint j = 0; j < candidate->appender_backends->len; j++)
        append_fields (out, "A", g_ptr_array_index (candidate->appender_backends, j),
                       g_ptr_array_index (candidate->appender_kinds, j), NULL);
      for (guint j = 0; j < candidate->policy_backends->len; j++)
        append_fields (out, "Y", g_ptr_array_index (candidate->policy_backends, j),
                       NULL);
      for (guint j = 0; j < candidate->key_backends->len; j++)
        append_fields (out, "C", g_ptr_array_index (candidate->key_backends, j),
                       NULL);
    }
  g_string_append (out, "E\n");

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_debug ("registry cache: cannot create %s: %s", dir, g_strerror (errno));
      return;
    }
  /* A temporary file renamed over the old one: a reader sees the old
   * cache or the new, never half of one. */
  if (!g_file_set_contents_full (path, out->str, (gssize) out->len,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    g_debug ("registry cache: %s", error->message);
}
