/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <glib/gstdio.h>

#include "stress-common.h"

guint
stress_count_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

void
stress_assert_store_empty (const char *store)
{
  g_autoptr(GDir) dir = g_dir_open (store, 0, NULL);
  g_autoptr(GString) left = g_string_new (NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (!g_str_equal (name, HVK_VM_STORE_LOGS_DIR))  /* kept logs of VMs that ran */
      g_string_append_printf (left, " %s", name);
  if (left->len > 0)
    g_error ("left in the store %s:%s", store, left->str);
}

guint
stress_env_uint (const char *name,
                 guint       fallback)
{
  const char *text = g_getenv (name);
  guint64 value;

  if (text == NULL || *text == '\0')
    return fallback;
  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT, &value, NULL))
    g_error ("%s=%s: expected a positive number", name, text);
  return (guint) value;
}
