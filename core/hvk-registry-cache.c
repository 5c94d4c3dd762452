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

#include <json-glib/json-glib.h>

/* The plugin cache, in the manner of GStreamer's registry cache
 * (gst/gstregistry.c, gstregistrybinary.c): a per-user file listing every
 * plugin file a scan found, its size and mtime, and what the plugin
 * registered, so that a process dlopens only the plugins it uses.  It is
 * a hint: anything wrong with it (missing, corrupt, stale, not ours) makes
 * the registry scan as if there were none and write it again.
 *
 * The format (JSON, one object):
 *
 *   { "hvkit": "0.1.0", "abi": 1, "arch": "x86_64",
 *     "plugins": [ { "path": "/…/libhvkit-mock.so", "size": 123,
 *                    "mtime-ns": 1733…, "name": "mock",
 *                    "description": "…", "version": "…", "license": "…",
 *                    "backends": [ { "name": "mock", "caps": 15 } ],
 *                    "kinds": [ "…" ],
 *                    "appenders": [ [ "backend", "kind" ] ],
 *                    "policies": [ "backend", "" ],
 *                    "config-keys": [ "backend" ] } ] } */

#define CACHE_ENV "HVKIT_REGISTRY_CACHE"
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
                           "registry-" CACHE_ARCH ".json", NULL);
}

/* Reading.  Every accessor checks the node's type: a corrupt file is
 * refused, never trusted in part. */

static const char *
get_string (JsonObject *object,
            const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gboolean
get_int (JsonObject *object,
         const char *member,
         gint64     *value)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *value = json_node_get_int (node);
  return TRUE;
}

/* Appends the strings of the array @member of @object to @out (with
 * @out2 the second of each pair when not NULL). */
static gboolean
get_strings (JsonObject *object,
             const char *member,
             GPtrArray  *out,
             GPtrArray  *out2)
{
  JsonNode *node = json_object_get_member (object, member);
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (out2 != NULL)
        {
          JsonArray *pair;
          JsonNode *first, *second;

          if (!JSON_NODE_HOLDS_ARRAY (element))
            return FALSE;
          pair = json_node_get_array (element);
          if (json_array_get_length (pair) != 2)
            return FALSE;
          first = json_array_get_element (pair, 0);
          second = json_array_get_element (pair, 1);
          if (!JSON_NODE_HOLDS_VALUE (first) || !JSON_NODE_HOLDS_VALUE (second) ||
              json_node_get_value_type (first) != G_TYPE_STRING ||
              json_node_get_value_type (second) != G_TYPE_STRING)
            return FALSE;
          g_ptr_array_add (out, g_strdup (json_node_get_string (first)));
          g_ptr_array_add (out2, g_strdup (json_node_get_string (second)));
          continue;
        }
      if (!JSON_NODE_HOLDS_VALUE (element) ||
          json_node_get_value_type (element) != G_TYPE_STRING)
        return FALSE;
      g_ptr_array_add (out, g_strdup (json_node_get_string (element)));
    }
  return TRUE;
}

static gboolean
read_plugin (JsonNode             *node,
             HvkRegistryCandidate *candidate)
{
  JsonObject *object;
  JsonNode *backends;
  const char *path;
  const char *name;
  gint64 size, mtime_ns;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  object = json_node_get_object (node);

  path = get_string (object, "path");
  name = get_string (object, "name");
  if (path == NULL || !g_str_equal (path, candidate->path) ||
      !get_int (object, "size", &size) || size != candidate->size ||
      !get_int (object, "mtime-ns", &mtime_ns) || mtime_ns != candidate->mtime_ns ||
      name == NULL || !hvk_registry_name_is_valid (name) ||
      get_string (object, "description") == NULL ||
      get_string (object, "version") == NULL ||
      get_string (object, "license") == NULL)
    return FALSE;

  backends = json_object_get_member (object, "backends");
  if (backends == NULL || !JSON_NODE_HOLDS_ARRAY (backends))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (backends)); i++)
    {
      JsonNode *element = json_array_get_element (json_node_get_array (backends), i);
      const char *backend;
      gint64 caps;
      HvkCapabilities value;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return FALSE;
      backend = get_string (json_node_get_object (element), "name");
      if (backend == NULL ||
          !get_int (json_node_get_object (element), "caps", &caps) ||
          caps < 0 || caps > G_MAXUINT)
        return FALSE;
      g_ptr_array_add (candidate->backends, g_strdup (backend));
      value = (HvkCapabilities) caps;
      g_array_append_val (candidate->backend_caps, value);
    }

  if (!get_strings (object, "kinds", candidate->kinds, NULL) ||
      !get_strings (object, "appenders", candidate->appender_backends,
                    candidate->appender_kinds) ||
      !get_strings (object, "policies", candidate->policy_backends, NULL) ||
      !get_strings (object, "config-keys", candidate->key_backends, NULL))
    return FALSE;

  candidate->name = g_strdup (name);
  candidate->description = g_strdup (get_string (object, "description"));
  candidate->version = g_strdup (get_string (object, "version"));
  candidate->license = g_strdup (get_string (object, "license"));
  return TRUE;
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

gboolean
hvk_registry_cache_read (const char *path,
                         GPtrArray  *candidates)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  JsonObject *root;
  JsonNode *plugins;
  const char *version;
  const char *arch;
  gint64 format, abi;

  if (!read_contents (path, &contents, &length))
    return FALSE;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, contents, length, &error))
    {
      g_debug ("registry cache %s is corrupt: %s", path, error->message);
      return FALSE;
    }
  if (json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    goto corrupt;
  root = json_node_get_object (json_parser_get_root (parser));

  version = get_string (root, "hvkit");
  arch = get_string (root, "arch");
  if (!get_int (root, "format", &format) || format != CACHE_FORMAT ||
      version == NULL || !g_str_equal (version, PACKAGE_VERSION) ||
      !get_int (root, "abi", &abi) || abi != HVK_PLUGIN_ABI_VERSION ||
      arch == NULL || !g_str_equal (arch, CACHE_ARCH))
    {
      g_debug ("registry cache %s is of another hvkit", path);
      return FALSE;
    }

  plugins = json_object_get_member (root, "plugins");
  if (plugins == NULL || !JSON_NODE_HOLDS_ARRAY (plugins))
    goto corrupt;
  if (json_array_get_length (json_node_get_array (plugins)) != candidates->len)
    {
      g_debug ("registry cache %s is stale: plugins added or removed", path);
      return FALSE;
    }
  for (guint i = 0; i < candidates->len; i++)
    {
      HvkRegistryCandidate *candidate = g_ptr_array_index (candidates, i);

      if (!read_plugin (json_array_get_element (json_node_get_array (plugins), i),
                        candidate))
        {
          g_debug ("registry cache %s is stale or corrupt at %s", path,
                   candidate->path);
          for (guint j = 0; j <= i; j++)
            clear_cached (g_ptr_array_index (candidates, j));
          return FALSE;
        }
    }
  return TRUE;

corrupt:
  g_debug ("registry cache %s is corrupt", path);
  return FALSE;
}

/* Writing. */

static void
add_strings (JsonBuilder *builder,
             const char  *member,
             GPtrArray   *strings)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; i < strings->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (strings, i));
  json_builder_end_array (builder);
}

void
hvk_registry_cache_write (const char *path,
                          GPtrArray  *candidates)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *contents = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "format");
  json_builder_add_int_value (builder, CACHE_FORMAT);
  json_builder_set_member_name (builder, "hvkit");
  json_builder_add_string_value (builder, PACKAGE_VERSION);
  json_builder_set_member_name (builder, "abi");
  json_builder_add_int_value (builder, HVK_PLUGIN_ABI_VERSION);
  json_builder_set_member_name (builder, "arch");
  json_builder_add_string_value (builder, CACHE_ARCH);
  json_builder_set_member_name (builder, "plugins");
  json_builder_begin_array (builder);
  for (guint i = 0; i < candidates->len; i++)
    {
      HvkRegistryCandidate *candidate = g_ptr_array_index (candidates, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "path");
      json_builder_add_string_value (builder, candidate->path);
      json_builder_set_member_name (builder, "size");
      json_builder_add_int_value (builder, candidate->size);
      json_builder_set_member_name (builder, "mtime-ns");
      json_builder_add_int_value (builder, candidate->mtime_ns);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, candidate->name);
      json_builder_set_member_name (builder, "description");
      json_builder_add_string_value (builder, candidate->description);
      json_builder_set_member_name (builder, "version");
      json_builder_add_string_value (builder, candidate->version);
      json_builder_set_member_name (builder, "license");
      json_builder_add_string_value (builder, candidate->license);

      json_builder_set_member_name (builder, "backends");
      json_builder_begin_array (builder);
      for (guint j = 0; j < candidate->backends->len; j++)
        {
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder,
                                         g_ptr_array_index (candidate->backends, j));
          json_builder_set_member_name (builder, "caps");
          json_builder_add_int_value (builder,
                                      g_array_index (candidate->backend_caps,
                                                     HvkCapabilities, j));
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);

      add_strings (builder, "kinds", candidate->kinds);
      json_builder_set_member_name (builder, "appenders");
      json_builder_begin_array (builder);
      for (guint j = 0; j < candidate->appender_backends->len; j++)
        {
          json_builder_begin_array (builder);
          json_builder_add_string_value (builder,
                                         g_ptr_array_index (candidate->appender_backends, j));
          json_builder_add_string_value (builder,
                                         g_ptr_array_index (candidate->appender_kinds, j));
          json_builder_end_array (builder);
        }
      json_builder_end_array (builder);
      add_strings (builder, "policies", candidate->policy_backends);
      add_strings (builder, "config-keys", candidate->key_backends);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  contents = json_to_string (root, FALSE);

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_debug ("registry cache: cannot create %s: %s", dir, g_strerror (errno));
      return;
    }
  /* A temporary file renamed over the old one: a reader sees the old
   * cache or the new, never half of one. */
  if (!g_file_set_contents_full (path, contents, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    g_debug ("registry cache: %s", error->message);
}
