/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>
#include <uuid/uuid.h>

#include "hvk-param-private.h"

/* What hvkit reads of the host it runs on (its CPU flags, whether it is a
 * VM), through hvk_host_file() so tests can describe a host. */

/**
 * hvk_cpu_flags:
 * @cpuinfo_path: a file in the format of `/proc/cpuinfo`
 * @error: return location for a #GError
 *
 * Reads the CPU flags from the first `flags` line, as Kata's `CPUFlags`:
 * the line is split with hvk_kernel_param_fields(), its first field must
 * start with `flags` and every following field is a flag.  As in Kata, with
 * `flags : fpu …` the `:` itself is in the set too.
 *
 * Returns: (transfer container) (element-type utf8 utf8): a set of flags
 *   (a #GHashTable made with g_hash_table_add(), keys owned by the table),
 *   or %NULL with @error set: %HVK_ERROR_NOT_FOUND if the file does not
 *   exist, %HVK_ERROR_INVALID_ARGUMENT if it has no `flags` line
 */
GHashTable *
hvk_cpu_flags (const char  *cpuinfo_path,
               GError     **error)
{
  static const char flags_field[] = "flags";
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  g_return_val_if_fail (cpuinfo_path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  contents = hvk_param_read_file (cpuinfo_path, "CPU information", error);
  if (contents == NULL)
    return NULL;

  lines = hvk_param_split_lines (contents);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = hvk_kernel_param_fields (lines[i]);
      g_autoptr(GHashTable) flags = NULL;

      if (g_strv_length (fields) < 2 ||
          !g_str_has_prefix (fields[0], flags_field))
        continue;

      flags = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      for (guint j = 1; fields[j] != NULL; j++)
        g_hash_table_add (flags, g_strdup (fields[j]));

      return g_steal_pointer (&flags);
    }

  g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
               "Couldn't find \"%s\" from \"%s\" output",
               flags_field, cpuinfo_path);
  return NULL;
}

/**
 * hvk_host_file:
 * @path: an absolute path on the host, such as `/proc/cpuinfo`
 *
 * Where to read @path: under the directory %HVK_HOST_ROOT_ENV names when
 * it is set (so tests describe a host: a nested one, one with SELinux, a
 * NUMA topology), else @path itself.  Only what hvkit reads to learn
 * about the host goes through here, never what it changes.
 *
 * Returns: (transfer full): the path to read
 */
char *
hvk_host_file (const char *path)
{
  const char *root = g_getenv (HVK_HOST_ROOT_ENV);

  g_return_val_if_fail (path != NULL && g_path_is_absolute (path), NULL);

  if (root == NULL || *root == '\0')
    return g_strdup (path);
  return g_build_filename (root, path, NULL);
}

/**
 * hvk_running_on_vmm:
 * @cpuinfo_path: a file in the format of `/proc/cpuinfo`
 * @on_vmm: (out): whether the host is itself a virtual machine
 * @error: return location for a #GError
 *
 * As Kata's `RunningOnVMM`: on x86_64, whether hvk_cpu_flags() contains
 * `hypervisor`.  On other architectures the answer is %FALSE and the file
 * is not read.
 *
 * Returns: %TRUE on success, %FALSE with @error set as hvk_cpu_flags()
 */
gboolean
hvk_running_on_vmm (const char  *cpuinfo_path,
                    gboolean    *on_vmm,
                    GError     **error)
{
  g_return_val_if_fail (cpuinfo_path != NULL, FALSE);
  g_return_val_if_fail (on_vmm != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *on_vmm = FALSE;

#if defined(__x86_64__)
  {
    g_autoptr(GHashTable) flags = hvk_cpu_flags (cpuinfo_path, error);

    if (flags == NULL)
      return FALSE;
    *on_vmm = g_hash_table_contains (flags, "hypervisor");
  }
#endif

  return TRUE;
}

/**
 * hvk_uuid_canonical:
 * @text: (nullable): a UUID, in either case, or %NULL
 * @error: return location for a #GError
 *
 * The UUID a VM is given (QEMU's `-uuid`, Kata's sandbox UUID): @text
 * in lower case, or a new random one (libuuid's uuid_generate()) when
 * @text is %NULL.
 *
 * Returns: (transfer full): the UUID in its 36-character lower-case
 *   form, or %NULL with @error set when @text is not a UUID
 */
char *
hvk_uuid_canonical (const char  *text,
                    GError     **error)
{
  uuid_t uuid;
  char out[37];

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (text == NULL)
    uuid_generate (uuid);
  else if (uuid_parse (text, uuid) != 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "'%s' is not a UUID", text);
      return NULL;
    }
  uuid_unparse_lower (uuid, out);
  return g_strdup (out);
}
