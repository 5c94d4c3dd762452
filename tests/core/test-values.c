/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

#include "hvk-values-private.h"

/* The typed value store behind HvkConfig and HvkDevice, with an owner of
 * three names: a string that refuses "bad", a path, and a number with a
 * default. */

typedef struct {
  HvkValue *number_default;
  guint     n_changed;
  char     *last_changed;
} Owner;

static gboolean
owner_describe (gpointer      owner,
                const char   *name,
                HvkValueSpec *spec)
{
  static const char * const names[] = { "text", "dir", "number" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_str_equal (name, names[i]))
      {
        spec->name = names[i];
        spec->type = i == 2 ? HVK_VALUE_TYPE_UINT : HVK_VALUE_TYPE_STRING;
        spec->is_path = i == 1;
        spec->handle = NULL;
        return TRUE;
      }
  return FALSE;
}

static HvkValue *
owner_get_default (gpointer            owner,
                   const HvkValueSpec *spec)
{
  return g_str_equal (spec->name, "number") ? ((Owner *) owner)->number_default : NULL;
}

static void
owner_warn_unknown (gpointer    owner,
                    const char *func,
                    const char *name)
{
  g_critical ("%s: unknown '%s'", func, name);
}

static void
owner_warn_mistyped (gpointer    owner,
                     const char *func,
                     const char *name)
{
  g_critical ("%s: '%s' has another type", func, name);
}

static gboolean
owner_check (gpointer            owner,
             const HvkValueSpec *spec,
             GVariant           *value,
             char              **problem)
{
  if (g_variant_is_of_type (value, HVK_VALUE_TYPE_STRING) &&
      g_str_equal (g_variant_get_string (value, NULL), "bad"))
    {
      *problem = g_strdup ("refused");
      return FALSE;
    }
  return TRUE;
}

static void
owner_changed (gpointer    owner,
               const char *name,
               GVariant   *value)
{
  Owner *o = owner;

  o->n_changed++;
  g_free (o->last_changed);
  o->last_changed = g_strdup (name);
}

static const HvkValuesOwner owner_funcs = {
  .describe = owner_describe,
  .get_default = owner_get_default,
  .warn_unknown = owner_warn_unknown,
  .warn_mistyped = owner_warn_mistyped,
  .check = owner_check,
  .changed = owner_changed,
};

static void
test_store (void)
{
  Owner owner = { hvk_value_new (g_variant_new_uint64 (7)), 0, NULL };
  HvkValues *store = hvk_values_new (&owner_funcs, &owner);
  g_autofree char *problem = NULL;
  g_autoptr(GPtrArray) names = NULL;
  HvkValueSpec spec;
  const char *dir;

  /* Defaults come from the owner and do not count as set. */
  g_assert_cmpuint (hvk_values_get_uint (store, "number", G_STRFUNC), ==, 7);
  g_assert_false (hvk_values_has (store, "number"));
  g_assert_null (hvk_values_get_string (store, "text", G_STRFUNC));

  hvk_values_set (store, "number", HVK_VALUE_TYPE_UINT, g_variant_new_uint64 (3), G_STRFUNC);
  g_assert_cmpuint (hvk_values_get_uint (store, "number", G_STRFUNC), ==, 3);
  g_assert_true (hvk_values_has (store, "number"));
  g_assert_cmpuint (owner.n_changed, ==, 1);
  g_assert_cmpstr (owner.last_changed, ==, "number");

  /* A path is made absolute where it is given. */
  hvk_values_set (store, "dir", HVK_VALUE_TYPE_STRING, g_variant_new_string ("./x"), G_STRFUNC);
  dir = hvk_values_get_string (store, "dir", G_STRFUNC);
  g_assert_true (g_path_is_absolute (dir));
  g_assert_true (g_str_has_suffix (dir, "/x"));

  /* Text is parsed, then checked by the owner. */
  g_assert_true (owner_describe (&owner, "text", &spec));
  g_assert_true (hvk_values_set_from_text (store, &spec, "good", HVK_LIST_SYNTAX_KEY_FILE, &problem));
  g_assert_cmpstr (hvk_values_get_string (store, "text", G_STRFUNC), ==, "good");
  g_assert_false (hvk_values_set_from_text (store, &spec, "bad", HVK_LIST_SYNTAX_KEY_FILE, &problem));
  g_assert_cmpstr (problem, ==, "refused");
  g_assert_cmpstr (hvk_values_get_string (store, "text", G_STRFUNC), ==, "good");
  g_clear_pointer (&problem, g_free);
  g_assert_true (owner_describe (&owner, "number", &spec));
  g_assert_false (hvk_values_set_from_text (store, &spec, "x", HVK_LIST_SYNTAX_KEY_FILE, &problem));
  g_assert_cmpstr (problem, ==, "invalid value 'x' (expected an unsigned integer)");

  names = hvk_values_dup_names (store);
  g_assert_cmpuint (names->len, ==, 3);

  /* NULL unsets: the default shows again. */
  hvk_values_set (store, "number", HVK_VALUE_TYPE_UINT, NULL, G_STRFUNC);
  g_assert_false (hvk_values_has (store, "number"));
  g_assert_null (hvk_values_peek (store, "number"));
  g_assert_cmpuint (hvk_values_get_uint (store, "number", G_STRFUNC), ==, 7);

  hvk_values_free (store);
  hvk_value_free (owner.number_default);
  g_free (owner.last_changed);
}

/* Unknown names and other types are the owner's programmer errors
 * (criticals: fatal in a subprocess). */
static void
test_programmer_errors (void)
{
  if (g_test_subprocess ())
    {
      Owner owner = { NULL, 0, NULL };
      HvkValues *store = hvk_values_new (&owner_funcs, &owner);

      g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
      if (g_str_equal (g_getenv ("HVK_TEST_CASE"), "unknown"))
        hvk_values_check (store, "nope", NULL, G_STRFUNC);
      else
        hvk_values_get_uint (store, "text", G_STRFUNC);
      return;
    }

  g_setenv ("HVK_TEST_CASE", "unknown", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDIN);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*unknown 'nope'*");
  g_setenv ("HVK_TEST_CASE", "mistyped", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDIN);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*'text' has another type*");
  g_unsetenv ("HVK_TEST_CASE");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hvk/values/store", test_store);
  g_test_add_func ("/hvk/values/programmer-errors", test_programmer_errors);
  return g_test_run ();
}
