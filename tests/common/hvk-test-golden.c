/* SPDX-License-Identifier: Apache-2.0 */
#include "hvk-test-golden.h"

#include <string.h>

#define HOW_TO "ninja -C BUILD regenerate-goldens (or meson compile -C BUILD regenerate-goldens)"

/* Fails the current case, saying why on stderr too: meson shows a failed
 * test's stderr (--print-errorlogs) and not every TAP line. */
static HvkTestGoldenMode
refuse (const char *message)
{
  g_printerr ("%s\n", message);
  g_test_fail_printf ("%s", message);
  return HVK_TEST_GOLDEN_REFUSED;
}

HvkTestGoldenMode
hvk_test_golden_mode (void)
{
  const char *ci = g_getenv ("CI");

  if (g_strcmp0 (g_getenv ("HVKIT_TEST_REGENERATE"), "1") != 0)
    return HVK_TEST_GOLDEN_COMPARE;

  if (ci != NULL && *ci != '\0')
    {
      g_autofree char *message =
        g_strdup_printf ("HVKIT_TEST_REGENERATE=1 while CI=%s: goldens are never "
                         "regenerated in CI; regenerate them locally with %s, review "
                         "the diff and commit it", ci, HOW_TO);
      return refuse (message);
    }
  if (g_strcmp0 (g_getenv ("HVKIT_TEST_REGENERATE_OK"), "1") != 0)
    {
      g_autofree char *message =
        g_strdup_printf ("HVKIT_TEST_REGENERATE=1 is set (left over in the shell?) "
                         "without HVKIT_TEST_REGENERATE_OK=1: nothing rewritten, "
                         "nothing compared.  Unset it to compare; regenerate on "
                         "purpose with %s", HOW_TO);
      return refuse (message);
    }
  return HVK_TEST_GOLDEN_REGENERATE;
}

void
hvk_test_golden_regenerate (const char *path,
                            const char *contents)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *old = NULL;
  gboolean changed;

  changed = !g_file_get_contents (path, &old, NULL, NULL) || g_strcmp0 (old, contents) != 0;
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  g_test_message ("REGENERATED %s%s", path,
                  changed ? " (CHANGED: review the diff before committing)" : " (unchanged)");
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

void
hvk_test_golden_check_orphans (const char         *dir,
                               const char * const *suffixes)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) d = g_dir_open (dir, 0, &error);
  g_autoptr(GPtrArray) orphans = g_ptr_array_new_with_free_func (g_free);
  const char *entry;

  g_assert_no_error (error);
  while ((entry = g_dir_read_name (d)) != NULL)
    for (guint i = 0; suffixes[i] != NULL; i++)
      {
        g_autofree char *base = NULL;
        g_autofree char *conf = NULL;

        if (!g_str_has_suffix (entry, suffixes[i]))
          continue;
        base = g_strndup (entry, strlen (entry) - strlen (suffixes[i]));
        conf = g_strdup_printf ("%s/%s.conf", dir, base);
        if (!g_file_test (conf, G_FILE_TEST_EXISTS))
          g_ptr_array_add (orphans, g_strdup_printf ("%s/%s", dir, entry));
      }

  if (orphans->len > 0)
    {
      g_autofree char *list = NULL;
      g_autofree char *message = NULL;

      g_ptr_array_sort (orphans, compare_strings);
      g_ptr_array_add (orphans, NULL);
      /* One line: it ends up in a TAP "not ok" line. */
      list = g_strjoinv (" ", (char **) orphans->pdata);
      message = g_strdup_printf ("expected files without their .conf (remove them, or "
                                 "restore the case): %s", list);
      g_printerr ("%s\n", message);
      g_test_fail_printf ("%s", message);
    }
}
