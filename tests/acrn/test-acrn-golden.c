/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Golden acrn-dm command lines: for each tests/golden/acrn/NAME.conf, the
 * argv the acrn backend builds (create_vm, then
 * hvk_hypervisor_get_launch_command()) must
 * equal NAME.args byte for byte, one argument per line; a config the
 * backend refuses has NAME.err instead (`ERROR CODE: message`).
 * `ninja -C BUILD regenerate-goldens` rewrites the expected files instead;
 * HVKIT_TEST_REGENERATE=1 alone fails (tests/common/hvk-test-golden.h).
 *
 * NAME.kata holds the list Kata's acrn.go/acrn_arch_base.go would give for
 * the same config.  It must equal ours once the documented differences
 * are applied to it (kata_rewrites below); `ERROR` says Kata refuses too,
 * `DIFFERS` says the outputs differ on purpose (reason in its comments).
 *
 * Directives in a .conf (comment lines): `#@ id=ID` (default "golden"),
 * `#@ affinity=N` (a CPU-affinity index left by earlier VMs).
 * Placeholders: @FAKE_ACRN_DM@, @FAKE_ACRNCTL@ (the stand-ins), @STATE@
 * (the VM store, a temporary directory).  CPUs come from cpuinfo-4cpu,
 * whose APIC ids are 0, 2, 4, 6.
 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>
#include <glib/gstdio.h>

#include "hvk-test-golden.h"

typedef struct {
  char *name;
  char *conf_path;
} GoldenCase;

static HvkRegistry *registry;

static const char * const error_codes[] = {
  [HVK_ERROR_FAILED] = "FAILED",
  [HVK_ERROR_INVALID_CONFIG] = "INVALID_CONFIG",
  [HVK_ERROR_NOT_SUPPORTED] = "NOT_SUPPORTED",
  [HVK_ERROR_NOT_FOUND] = "NOT_FOUND",
  [HVK_ERROR_PLUGIN] = "PLUGIN",
  [HVK_ERROR_TIMEOUT] = "TIMEOUT",
  [HVK_ERROR_STATE] = "STATE",
  [HVK_ERROR_BUSY] = "BUSY",
  [HVK_ERROR_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
  [HVK_ERROR_QMP] = "QMP",
  [HVK_ERROR_DISCONNECTED] = "DISCONNECTED",
};

static char *
replace_all (const char *text,
             const char *from,
             const char *to)
{
  g_auto(GStrv) parts = g_strsplit (text, from, -1);

  return g_strjoinv (to, parts);
}

typedef struct {
  const char *placeholder;
  char       *value;
} Subst;

static char *
substitute (const char *text,
            Subst      *substs,
            guint       n_substs,
            gboolean    to_placeholder)
{
  char *out = g_strdup (text);

  for (guint i = 0; i < n_substs; i++)
    {
      char *next = to_placeholder
                   ? replace_all (out, substs[i].value, substs[i].placeholder)
                   : replace_all (out, substs[i].placeholder, substs[i].value);
      g_free (out);
      out = next;
    }
  return out;
}

static char *
directive (const char *conf,
           const char *name)
{
  g_auto(GStrv) lines = g_strsplit (conf, "\n", -1);
  g_autofree char *prefix = g_strdup_printf ("#@ %s=", name);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return g_strstrip (g_strdup (lines[i] + strlen (prefix)));
  return NULL;
}

static void
check_or_regenerate (const char *path,
                     const char *actual)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;

  switch (hvk_test_golden_mode ())
    {
    case HVK_TEST_GOLDEN_REGENERATE:
      hvk_test_golden_regenerate (path, actual);
      return;
    case HVK_TEST_GOLDEN_REFUSED:
      return;
    case HVK_TEST_GOLDEN_COMPARE:
    default:
      break;
    }

  if (!g_file_get_contents (path, &expected, NULL, &error))
    {
      g_test_message ("%s is missing (ninja -C BUILD regenerate-goldens writes it); got:\n%s",
                      path, actual);
      g_assert_no_error (error);
    }
  g_assert_cmpstr (actual, ==, expected);
}

/* What hvkit changes in Kata's list, on purpose (see the issue and
 * docs): each rule rewrites one Kata argument. */
static void
kata_rewrite (GPtrArray  *out,
              const char *arg)
{
  const char *net;

  /* LPCDevice.AcrnParams joins "-l" and "com1,stdio" into one word;
   * getopt reads both forms alike; hvkit passes two. */
  if (g_str_equal (arg, "-lcom1,stdio"))
    {
      g_ptr_array_add (out, g_strdup ("-l"));
      g_ptr_array_add (out, g_strdup ("com1,stdio"));
      return;
    }

  /* acrn-dm 3.0 refuses `virtio-net,TAP`: hvkit writes `tap=TAP`. */
  net = strstr (arg, ",virtio-net,");
  if (net != NULL && !g_str_has_prefix (net + strlen (",virtio-net,"), "tap="))
    {
      g_autofree char *head = g_strndup (arg, net - arg);
      g_ptr_array_add (out, g_strdup_printf ("%s,virtio-net,tap=%s", head,
                                             net + strlen (",virtio-net,")));
      return;
    }

  g_ptr_array_add (out, g_strdup (arg));
}

static void
compare_with_kata (const char *kata_path,
                   const char *actual,
                   gboolean    we_refused)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *kata = NULL;
  g_autoptr(GPtrArray) rewritten = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *joined = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (kata_path, &kata, NULL, NULL))
    {
      g_test_message ("no %s", kata_path);
      return;
    }

  lines = g_strsplit (kata, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (lines[i][0] == '#' || lines[i][0] == '\0')
        continue;
      if (g_str_equal (lines[i], "DIFFERS"))
        return;
      if (g_str_equal (lines[i], "ERROR"))
        {
          g_assert_true (we_refused);
          return;
        }
      kata_rewrite (rewritten, lines[i]);
    }

  g_assert_false (we_refused);
  g_ptr_array_add (rewritten, g_strdup (""));
  g_ptr_array_add (rewritten, NULL);
  joined = g_strjoinv ("\n", (char **) rewritten->pdata);
  g_assert_cmpstr (actual, ==, joined);
}

static void
test_golden (gconstpointer data)
{
  const GoldenCase *gc = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *store = NULL;
  g_autofree char *id = NULL;
  g_autofree char *affinity = NULL;
  g_autofree char *actual = NULL;
  g_autofree char *base = NULL;
  g_autofree char *expected_path = NULL;
  g_autofree char *kata_path = NULL;
  g_autofree char *cpuinfo = NULL;
  g_autofree char *stored_index = NULL;
  g_auto(GStrv) argv = NULL;
  Subst substs[3];
  gboolean ok;

  store = g_dir_make_tmp ("hvkit-acrn-golden-XXXXXX", &error);
  g_assert_no_error (error);

  substs[0] = (Subst) { "@FAKE_ACRN_DM@",
                        g_test_build_filename (G_TEST_BUILT, "acrn", "fake-acrn-dm", NULL) };
  substs[1] = (Subst) { "@FAKE_ACRNCTL@",
                        g_test_build_filename (G_TEST_BUILT, "acrn", "fake-acrnctl", NULL) };
  substs[2] = (Subst) { "@STATE@", g_strdup (store) };

  g_file_get_contents (gc->conf_path, &raw, NULL, &error);
  g_assert_no_error (error);
  conf = substitute (raw, substs, G_N_ELEMENTS (substs), FALSE);

  id = directive (conf, "id");
  if (id == NULL)
    id = g_strdup ("golden");
  affinity = directive (conf, "affinity");
  if (affinity != NULL)
    {
      g_autofree char *index_path = g_build_filename (store, "cpu_affinity_idx", NULL);
      g_file_set_contents (index_path, affinity, -1, &error);
      g_assert_no_error (error);
    }

  base = g_strndup (gc->conf_path, strlen (gc->conf_path) - strlen (".conf"));
  kata_path = g_strconcat (base, ".kata", NULL);
  cpuinfo = g_test_build_filename (G_TEST_DIST, "acrn", "cpuinfo-4cpu", NULL);

  config = hvk_config_new_from_data (conf, -1, gc->name, registry, &error);
  ok = config != NULL;
  if (ok)
    {
      hvk_config_set_vm_store_path (config, store);
      hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
      g_assert_no_error (error);
      g_object_set (hypervisor, "cpuinfo-path", cpuinfo, NULL);
      ok = hvk_hypervisor_create_vm (hypervisor, id, config, &error);
    }

  if (ok)
    {
      g_autofree char *joined = NULL;
      g_autofree char *kernel_cmdline = NULL;

      g_assert_true (hvk_hypervisor_get_launch_command (hypervisor, &argv, &kernel_cmdline, &error));
      g_assert_no_error (error);
      g_assert_nonnull (argv);
      joined = g_strjoinv ("\n", argv);
      actual = g_strconcat (joined, "\n", NULL);
      /* The -B argument is the kernel command line. */
      g_assert_true (g_strv_contains ((const char * const *) argv, kernel_cmdline));
      expected_path = g_strconcat (base, ".args", NULL);
    }
  else
    {
      g_assert_true (error->domain == HVK_ERROR);
      g_assert_cmpint (error->code, <, G_N_ELEMENTS (error_codes));
      actual = g_strdup_printf ("ERROR %s: %s\n", error_codes[error->code], error->message);
      expected_path = g_strconcat (base, ".err", NULL);
    }

  {
    g_autofree char *placeholders = substitute (actual, substs, G_N_ELEMENTS (substs), TRUE);
    check_or_regenerate (expected_path, placeholders);
    compare_with_kata (kata_path, placeholders, !ok);
  }

  /* Building a command line takes nothing: the index is untouched and
   * no VM directory exists. */
  {
    g_autofree char *index_path = g_build_filename (store, "cpu_affinity_idx", NULL);
    g_autofree char *vm_dir = g_build_filename (store, id, NULL);

    if (g_file_get_contents (index_path, &stored_index, NULL, NULL))
      g_assert_cmpstr (stored_index, ==, affinity);
    else
      g_assert_null (affinity);
    g_assert_false (g_file_test (vm_dir, G_FILE_TEST_EXISTS));
    g_remove (index_path);
  }

  g_assert_cmpint (g_rmdir (store), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (substs); i++)
    g_free (substs[i].value);
}

/* Every expected file belongs to a .conf: an orphan is compared with
 * nothing. */
static void
test_golden_orphans (gconstpointer data)
{
  static const char * const suffixes[] = { ".args", ".err", ".kata", NULL };

  hvk_test_golden_check_orphans (data, suffixes);
}

static void
golden_case_free (gpointer data)
{
  GoldenCase *gc = data;

  g_free (gc->name);
  g_free (gc->conf_path);
  g_free (gc);
}

/* g_ptr_array_sort() hands pointers to the elements. */
static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func (golden_case_free);
  g_autofree char *golden_dir = NULL;
  const char *entry;
  int ret;

  g_test_init (&argc, &argv, NULL);
  /* One broken case must not hide the others. */
  g_test_set_nonfatal_assertions ();

  registry = hvk_registry_new ();
  hvk_registry_scan (registry);
  if (hvk_registry_lookup_backend (registry, "acrn") == NULL)
    g_error ("the acrn plugin was not found in HVKIT_PLUGIN_PATH");

  golden_dir = g_test_build_filename (G_TEST_DIST, "golden", "acrn", NULL);
  dir = g_dir_open (golden_dir, 0, &error);
  g_assert_no_error (error);
  while ((entry = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (entry, ".conf"))
      g_ptr_array_add (names, g_strndup (entry, strlen (entry) - strlen (".conf")));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      GoldenCase *gc = g_new0 (GoldenCase, 1);
      g_autofree char *path = NULL;
      g_autofree char *conf = NULL;

      gc->name = g_strdup (g_ptr_array_index (names, i));
      conf = g_strconcat (gc->name, ".conf", NULL);
      gc->conf_path = g_build_filename (golden_dir, conf, NULL);
      g_ptr_array_add (cases, gc);
      path = g_strdup_printf ("/hvk/acrn/golden/%s", gc->name);
      g_test_add_data_func (path, gc, test_golden);
    }
  g_assert_cmpuint (cases->len, >=, 10);
  g_test_add_data_func ("/hvk/acrn/golden-orphans", golden_dir, test_golden_orphans);

  ret = g_test_run ();
  g_clear_object (&registry);
  return ret;
}
