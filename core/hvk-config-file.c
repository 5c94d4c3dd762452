/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "hvk-config-private.h"
#include "hvk-device-private.h"

/* Configuration files: reading a key file ([hypervisor] backend=,
 * [hypervisor.BACKEND] keys, [device.ID] groups) and writing one back. */

static gboolean
load_backend_group (HvkConfig  *self,
                    GKeyFile   *key_file,
                    GError    **error)
{
  g_auto(GStrv) keys = g_key_file_get_keys (key_file, self->group, NULL, NULL);

  for (gsize i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      const HvkConfigKey *key = hvk_config_lookup_key (self, keys[i]);
      g_autoptr(GError) local_error = NULL;

      if (key == NULL)
        return hvk_config_unknown_key (self, keys[i], error);

      switch (hvk_config_value_type_base (key->type))
        {
        case HVK_CONFIG_TYPE_STRV:
          {
            g_auto(GStrv) items = hvk_key_file_get_string_list (key_file, self->group, key->name,
                                                                &local_error);

            if (local_error != NULL)
              {
                config_error (self, error, key->name, "%s", local_error->message);
                return FALSE;
              }
            hvk_config_store_value (self, key,
                         g_variant_new_strv ((const char * const *) items, items ? -1 : 0));
          }
          break;
        case HVK_CONFIG_TYPE_STRING:
          {
            g_autofree char *text = hvk_key_file_get_string (key_file, self->group, key->name,
                                                             &local_error);

            /* GKeyFile may return a value *and* an error (bad escapes) */
            if (local_error != NULL)
              {
                config_error (self, error, key->name, "%s", local_error->message);
                return FALSE;
              }
            hvk_config_store_value (self, key, g_variant_new_string (text));
          }
          break;
        default:
          {
            g_autofree char *text = g_key_file_get_value (key_file, self->group, key->name, NULL);

            if (!hvk_config_set_from_text (self, key, text ? text : "", error))
              return FALSE;
          }
          break;
        }
    }
  return TRUE;
}

static HvkConfig *
config_new_from_key_file (GKeyFile     *key_file,
                          const char   *source_name,
                          HvkRegistry  *registry,
                          GError      **error)
{
  const char *source = source_name ? source_name : UNKNOWN_SOURCE;
  g_autoptr(HvkConfig) self = NULL;
  g_autofree char *backend = NULL;
  g_auto(GStrv) keys = NULL;
  g_auto(GStrv) groups = NULL;

  if (!g_key_file_has_group (key_file, HYPERVISOR_GROUP))
    {
      hvk_key_file_set_error (error, source, HYPERVISOR_GROUP, NULL,
                              "missing group (it selects the backend)");
      return NULL;
    }
  keys = g_key_file_get_keys (key_file, HYPERVISOR_GROUP, NULL, NULL);
  for (gsize i = 0; keys != NULL && keys[i] != NULL; i++)
    if (!g_str_equal (keys[i], BACKEND_KEY))
      {
        hvk_key_file_set_error (error, source, HYPERVISOR_GROUP, keys[i], "unknown key");
        return NULL;
      }
  backend = hvk_key_file_get_string (key_file, HYPERVISOR_GROUP, BACKEND_KEY, NULL);
  if (backend == NULL)
    {
      hvk_key_file_set_error (error, source, HYPERVISOR_GROUP, BACKEND_KEY, "missing");
      return NULL;
    }
  g_strstrip (backend);
  if (*backend == '\0' || strchr (backend, '[') || strchr (backend, ']'))
    {
      hvk_key_file_set_error (error, source, HYPERVISOR_GROUP, BACKEND_KEY,
                              "invalid value '%s' (expected a backend name)", backend);
      return NULL;
    }

  self = hvk_config_new (backend);
  self->source = g_strdup (source_name);
  if (registry != NULL)
    self->registry = g_object_ref (registry);

  groups = g_key_file_get_groups (key_file, NULL);
  for (gsize i = 0; groups[i] != NULL; i++)
    {
      const char *group = groups[i];

      if (g_str_equal (group, HYPERVISOR_GROUP))
        continue;
      else if (g_str_equal (group, self->group))
        {
          if (!load_backend_group (self, key_file, error))
            return NULL;
        }
      else if (g_str_has_prefix (group, HYPERVISOR_GROUP_DOT) &&
               group[strlen (HYPERVISOR_GROUP_DOT)] != '\0')
        continue;   /* another backend's settings: one file may hold several */
      else if (g_str_has_prefix (group, DEVICE_GROUP_DOT))
        {
          g_autoptr(HvkDevice) device = hvk_device_new_from_key_file (registry, key_file, group,
                                                                      source_name, error);
          g_autoptr(GError) local_error = NULL;

          if (device == NULL)
            return NULL;
          if (!hvk_config_add_device (self, device, &local_error))
            {
              /* the key-file reader checked the id and required props */
              hvk_key_file_set_error (error, source, group, NULL, "%s", local_error->message);
              return NULL;
            }
        }
      else
        {
          hvk_key_file_set_error (error, source, group, NULL,
                                  "unknown group (expected [hypervisor], [hypervisor.NAME] or [device.ID])");
          return NULL;
        }
    }

  return g_steal_pointer (&self);
}

/* GKeyFile merges a group given twice, silently.  This scans the text of
 * a file GKeyFile has already accepted, line by line as GKeyFile does
 * (leading blanks skipped, `#` comments, `[GROUP]` headers), and refuses
 * a repeated group header, naming both lines.  A key given twice in one
 * group is left to GKeyFile (the last wins): configs built by appending
 * overrides to a base rely on it. */
static gboolean
check_duplicate_groups (const char  *data,
                        gsize        length,
                        const char  *source,
                        GError     **error)
{
  g_autoptr(GHashTable) groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *end = data + length;
  guint line_no = 0;

  for (const char *line = data; line < end; )
    {
      const char *eol = memchr (line, '\n', end - line);
      const char *next = eol ? eol + 1 : end;
      const char *p = line;

      if (eol == NULL)
        eol = end;
      if (eol > line && eol[-1] == '\r')
        eol--;
      line_no++;
      while (p < eol && g_ascii_isspace (*p))
        p++;

      if (p == eol || *p == '#')
        ;
      else if (*p == '[')
        {
          const char *close = memchr (p, ']', eol - p);
          g_autofree char *group = NULL;
          gpointer first;

          if (close == NULL)
            return TRUE;   /* not what GKeyFile accepted: let it be */
          group = g_strndup (p + 1, close - p - 1);
          if (g_hash_table_lookup_extended (groups, group, NULL, &first))
            {
              hvk_key_file_set_error (error, source, group, NULL,
                                      "group given twice (lines %u and %u)",
                                      GPOINTER_TO_UINT (first), line_no);
              return FALSE;
            }
          g_hash_table_insert (groups, g_steal_pointer (&group), GUINT_TO_POINTER (line_no));
        }
      line = next;
    }
  return TRUE;
}

/**
 * hvk_config_new_from_data:
 * @data: key-file text
 * @length: length of @data, or -1 if NUL-terminated
 * @source_name: (nullable): the name used in messages (`<config>` if %NULL)
 * @registry: (nullable): where to find device kinds and backend keys;
 *   %NULL for the standard kinds and the core keys only
 * @error: return location for a #GError
 *
 * Loads a configuration: `[hypervisor]` with `backend=NAME`,
 * `[hypervisor.NAME]` with the settings (other backends' groups are
 * ignored) and `[device.ID]` groups for cold-plugged devices.  An unknown
 * backend is not an error here (hvk_registry_create_hypervisor() reports it).
 * A group given twice is refused (GKeyFile would merge them); of a key
 * given twice in one group, the last wins.
 *
 * Returns: (transfer full): the configuration, or %NULL with
 *   %HVK_ERROR_INVALID_CONFIG (`FILE: [GROUP] KEY: what is wrong`)
 */
HvkConfig *
hvk_config_new_from_data (const char   *data,
                          gssize        length,
                          const char   *source_name,
                          HvkRegistry  *registry,
                          GError      **error)
{
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  const char *source = source_name ? source_name : UNKNOWN_SOURCE;

  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (registry == NULL || HVK_IS_LOOKUP (registry), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_key_file_load_from_data (key_file, data, length < 0 ? (gsize) -1 : (gsize) length,
                                  G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG, "%s: %s", source, local_error->message);
      return NULL;
    }
  if (!check_duplicate_groups (data, length < 0 ? strlen (data) : (gsize) length, source, error))
    return NULL;
  return config_new_from_key_file (key_file, source_name, registry, error);
}

static const char *
describe_file_type (mode_t mode)
{
  if (S_ISDIR (mode))
    return "a directory";
  if (S_ISFIFO (mode))
    return "a FIFO";
  if (S_ISCHR (mode))
    return "a character device";
  if (S_ISBLK (mode))
    return "a block device";
  if (S_ISSOCK (mode))
    return "a socket";
  return "not a regular file";
}

/* Reads a configuration file of at most HVK_CONFIG_MAX_FILE_SIZE bytes.
 * The file is opened without blocking (a FIFO with no writer would block
 * the open) and checked with fstat() before anything is read; the read
 * stops one byte past the cap in case the file grew since. */
static char *
read_config_file (const char  *path,
                  gsize       *length,
                  GError     **error)
{
  g_autoptr(GString) buffer = NULL;
  struct stat st;
  int fd;

  fd = g_open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, HVK_ERROR, saved_errno == ENOENT ? HVK_ERROR_NOT_FOUND : HVK_ERROR_FAILED,
                   "%s: cannot read configuration: %s", path, g_strerror (saved_errno));
      return NULL;
    }
  if (fstat (fd, &st) < 0)
    {
      int saved_errno = errno;

      g_close (fd, NULL);
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "%s: cannot read configuration: %s", path, g_strerror (saved_errno));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_close (fd, NULL);
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: cannot read configuration: %s, not a regular file",
                   path, describe_file_type (st.st_mode));
      return NULL;
    }
  if (st.st_size > HVK_CONFIG_MAX_FILE_SIZE)
    {
      g_close (fd, NULL);
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: cannot read configuration: %" G_GINT64_FORMAT " bytes, more than "
                   "the limit of %d bytes", path, (gint64) st.st_size, HVK_CONFIG_MAX_FILE_SIZE);
      return NULL;
    }

  buffer = g_string_sized_new ((gsize) st.st_size + 1);
  while (buffer->len <= HVK_CONFIG_MAX_FILE_SIZE)
    {
      char chunk[16384];
      gssize n = read (fd, chunk, MIN (sizeof chunk, HVK_CONFIG_MAX_FILE_SIZE + 1 - buffer->len));

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          g_close (fd, NULL);
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "%s: cannot read configuration: %s", path, g_strerror (saved_errno));
          return NULL;
        }
      if (n == 0)
        break;
      g_string_append_len (buffer, chunk, n);
    }
  g_close (fd, NULL);

  /* it grew since fstat() */
  if (buffer->len > HVK_CONFIG_MAX_FILE_SIZE)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: cannot read configuration: more than the limit of %d bytes",
                   path, HVK_CONFIG_MAX_FILE_SIZE);
      return NULL;
    }
  *length = buffer->len;
  return g_string_free (g_steal_pointer (&buffer), FALSE);
}

/**
 * hvk_config_new_from_file:
 * @path: a key file
 * @registry: (nullable): where to find device kinds and backend keys
 * @error: return location for a #GError
 *
 * Loads a configuration file; see hvk_config_new_from_data().  Messages
 * name the file as @path is given.  The file must be a regular file of at
 * most %HVK_CONFIG_MAX_FILE_SIZE bytes.
 *
 * Returns: (transfer full): the configuration, or %NULL with
 *   %HVK_ERROR_NOT_FOUND when the file does not exist,
 *   %HVK_ERROR_FAILED when it cannot be read, or
 *   %HVK_ERROR_INVALID_CONFIG (also when it is not a regular file or is
 *   too large)
 */
HvkConfig *
hvk_config_new_from_file (const char   *path,
                          HvkRegistry  *registry,
                          GError      **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (registry == NULL || HVK_IS_LOOKUP (registry), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  contents = read_config_file (path, &length, error);
  if (contents == NULL)
    return NULL;
  return hvk_config_new_from_data (contents, length, path, registry, error);
}

static void
write_value (GKeyFile   *key_file,
             const char *group,
             const char *key,
             GVariant   *v)
{
  if (g_variant_is_of_type (v, HVK_VALUE_TYPE_STRING))
    g_key_file_set_string (key_file, group, key, g_variant_get_string (v, NULL));
  else if (g_variant_is_of_type (v, HVK_VALUE_TYPE_BOOLEAN))
    g_key_file_set_boolean (key_file, group, key, g_variant_get_boolean (v));
  else if (g_variant_is_of_type (v, HVK_VALUE_TYPE_UINT))
    g_key_file_set_uint64 (key_file, group, key, g_variant_get_uint64 (v));
  else if (g_variant_is_of_type (v, HVK_VALUE_TYPE_INT))
    g_key_file_set_int64 (key_file, group, key, g_variant_get_int64 (v));
  else if (g_variant_is_of_type (v, HVK_VALUE_TYPE_DOUBLE))
    g_key_file_set_double (key_file, group, key, g_variant_get_double (v));
  else if (g_variant_is_of_type (v, HVK_VALUE_TYPE_STRV))
    {
      g_autofree const char **items = g_variant_get_strv (v, NULL);

      g_key_file_set_string_list (key_file, group, key, items, g_strv_length ((char **) items));
    }
  else
    g_assert_not_reached ();
}

static void
write_device (GKeyFile  *key_file,
              HvkDevice *device)
{
  g_autofree char *group = g_strconcat (DEVICE_GROUP_DOT, hvk_device_get_id (device), NULL);
  HvkDeviceKind *kind = hvk_device_get_kind (device);
  const HvkDevicePropSpec *props;
  guint n_props;

  g_key_file_set_string (key_file, group, "kind", hvk_device_kind_get_name (kind));
  props = hvk_device_kind_get_props (kind, &n_props);
  for (guint i = 0; i < n_props; i++)
    {
      const char *name = props[i].name;

      if (!hvk_device_has (device, name))
        continue;
      switch (props[i].type)
        {
        case HVK_PROP_STRING:
          g_key_file_set_string (key_file, group, name, hvk_device_get_string (device, name));
          break;
        case HVK_PROP_BOOLEAN:
          g_key_file_set_boolean (key_file, group, name, hvk_device_get_boolean (device, name));
          break;
        case HVK_PROP_UINT:
          g_key_file_set_uint64 (key_file, group, name, hvk_device_get_uint (device, name));
          break;
        case HVK_PROP_INT:
          g_key_file_set_int64 (key_file, group, name, hvk_device_get_int (device, name));
          break;
        case HVK_PROP_STRV:
          {
            const char * const *items = hvk_device_get_strv (device, name);

            g_key_file_set_string_list (key_file, group, name, (const char **) items,
                                        g_strv_length ((char **) items));
          }
          break;
        default:
          g_assert_not_reached ();
        }
    }
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/**
 * hvk_config_to_data:
 * @self: a #HvkConfig
 * @length: (out) (optional): length of the result
 *
 * Writes the configuration as a key file that hvk_config_new_from_data()
 * loads back to an equal configuration: the backend, the keys set
 * explicitly (core keys in table order, then backend keys by name) and the
 * devices.  Custom assets and the VM store path are run-time settings and
 * are not written.
 *
 * Returns: (transfer full): the key-file text
 */
char *
hvk_config_to_data (HvkConfig *self,
                    gsize     *length)
{
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autoptr(GPtrArray) others = g_ptr_array_new ();
  g_autoptr(GPtrArray) names = NULL;
  const HvkConfigKey *core;
  guint n_core;

  g_return_val_if_fail (HVK_IS_CONFIG (self), NULL);

  g_key_file_set_string (key_file, HYPERVISOR_GROUP, BACKEND_KEY, self->backend);

  core = hvk_config_get_core_keys (&n_core);
  for (guint i = 0; i < n_core; i++)
    {
      HvkValue *value = hvk_values_peek (self->store, core[i].name);

      if (value != NULL)
        write_value (key_file, self->group, core[i].name, value->variant);
    }

  names = hvk_values_dup_names (self->store);
  for (guint i = 0; i < names->len; i++)
    if (hvk_config_keys_lookup_core (g_ptr_array_index (names, i)) == NULL)
      g_ptr_array_add (others, g_ptr_array_index (names, i));
  g_ptr_array_sort (others, compare_strings);
  for (guint i = 0; i < others->len; i++)
    {
      const char *name = g_ptr_array_index (others, i);
      HvkValue *value = hvk_values_peek (self->store, name);

      write_value (key_file, self->group, name, value->variant);
    }

  for (guint i = 0; i < self->devices->len; i++)
    write_device (key_file, g_ptr_array_index (self->devices, i));

  return g_key_file_to_data (key_file, length, NULL);
}
