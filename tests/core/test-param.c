/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <glib/gstdio.h>
#include <string.h>

/*
 * Kata reference vectors: sections 1.1-1.6 and 2.1-2.2 of
 * shared/reference-kata-vectors.md (ids P*, F*, C*, V*, R*, DV* below), plus
 * hvkit's own error paths.
 */

#define END NULL

/* ---------------------------------------------------------------------- */
/* Helpers                                                                */

/* Builds a list from key, value, key, value, ..., END. */
static GPtrArray *
params_from_pairs (const char * const *pairs)
{
  GPtrArray *params = hvk_params_new ();

  for (gsize i = 0; pairs != NULL && pairs[i] != NULL; i += 2)
    hvk_params_append (params, pairs[i], pairs[i + 1]);

  return params;
}

static void
assert_params (GPtrArray          *params,
               const char * const *pairs)
{
  gsize n = pairs != NULL ? g_strv_length ((GStrv) pairs) : 0;

  g_assert_nonnull (params);
  g_assert_cmpuint (n % 2, ==, 0);
  g_assert_cmpuint (params->len, ==, n / 2);
  for (guint i = 0; i < params->len; i++)
    {
      const HvkParam *p = g_ptr_array_index (params, i);

      g_assert_nonnull (p->key);
      g_assert_nonnull (p->value);
      g_assert_cmpstr (p->key, ==, pairs[2 * i]);
      g_assert_cmpstr (p->value, ==, pairs[2 * i + 1]);
    }
}

static void
assert_strv (const char * const *got,
             const char * const *expected)
{
  g_assert_nonnull (got);
  g_assert_cmpstrv (got, expected);
}

/* Writes @contents to a new temporary file; returns its path. */
static char *
make_temp_file (const char *contents)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd;

  fd = g_file_open_tmp ("hvk-test-param-XXXXXX", &path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);
  g_close (fd, NULL);

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  return path;
}

static void
remove_temp_file (const char *path)
{
  g_assert_cmpint (g_unlink (path), ==, 0);
}

/* A path under a directory that does not exist. */
static char *
make_missing_path (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hvk-test-param-XXXXXX", &error);

  g_assert_no_error (error);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
  return g_build_filename (dir, "missing", NULL);
}

/* ---------------------------------------------------------------------- */
/* HvkParam                                                               */

static void
test_param_new (void)
{
  g_autoptr(HvkParam) p = hvk_param_new ("foo", "bar");
  g_autoptr(HvkParam) empty = hvk_param_new (NULL, NULL);
  g_autoptr(HvkParam) copy = NULL;
  HvkParam *boxed;

  g_assert_cmpstr (p->key, ==, "foo");
  g_assert_cmpstr (p->value, ==, "bar");

  /* Never NULL: absent is the empty string. */
  g_assert_cmpstr (empty->key, ==, "");
  g_assert_cmpstr (empty->value, ==, "");

  copy = hvk_param_copy (p);
  g_assert_true (copy != p);
  g_assert_true (copy->key != p->key);
  g_assert_cmpstr (copy->key, ==, "foo");
  g_assert_cmpstr (copy->value, ==, "bar");

  g_assert_true (G_TYPE_IS_BOXED (HVK_TYPE_PARAM));
  g_assert_cmpstr (g_type_name (HVK_TYPE_PARAM), ==, "HvkParam");
  boxed = g_boxed_copy (HVK_TYPE_PARAM, p);
  g_assert_true (boxed != p);
  g_assert_cmpstr (boxed->key, ==, "foo");
  g_assert_cmpstr (boxed->value, ==, "bar");
  g_boxed_free (HVK_TYPE_PARAM, boxed);

  hvk_param_free (NULL);
}

/* ---------------------------------------------------------------------- */
/* 1.1 SerializeParams                                                    */

typedef struct {
  const char *id;
  const char *pairs[9];
  const char *delim;
  const char *expected[9];
} SerializeCase;

static const SerializeCase serialize_cases[] = {
  { "P1", { "", "", END }, "", { END } },
  { "P2", { "", "value1", END }, "", { "value1", END } },
  { "P3", { "param1", "", END }, "", { "param1", END } },
  { "P4", { "param1", "value1", END }, "", { "param1", "value1", END } },
  { "P5", { "param1", "value1", END }, "=", { "param1=value1", END } },
  /* hvkit: an empty list, a NULL delimiter as "", a longer delimiter, and
   * the four rules mixed in one list keeping order. */
  { "empty", { END }, "=", { END } },
  { "null-delim", { "k", "v", END }, NULL, { "k", "v", END } },
  { "colon", { "k", "v", END }, ": ", { "k: v", END } },
  { "mixed", { "a", "1", "", "", "", "only-value", "only-key", "", END }, "=",
    { "a=1", "only-value", "only-key", END } },
};

static void
test_params_serialize (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (serialize_cases); i++)
    {
      const SerializeCase *c = &serialize_cases[i];
      g_autoptr(GPtrArray) params = params_from_pairs (c->pairs);
      g_auto(GStrv) got = hvk_params_serialize (params, c->delim);

      g_test_message ("serialize %s", c->id);
      assert_strv ((const char * const *) got, c->expected);
    }

  /* A NULL list is Go's nil: no elements. */
  {
    g_auto(GStrv) got = hvk_params_serialize (NULL, "=");

    g_assert_nonnull (got);
    g_assert_null (got[0]);
  }
}

static void
test_params_to_string (void)
{
  static const struct {
    const char *pairs[9];
    const char *expected;
  } cases[] = {
    { { END }, "" },
    { { "", "", END }, "" },
    { { "quiet", "", END }, "quiet" },
    { { "console", "hvc0", "", "", "panic", "1", "", "bare", END }, "console=hvc0 panic=1 bare" },
    /* 2.1: the " ro" inside rootflags becomes its own kernel token. */
    { { "root", "/dev/pmem0p1", "rootflags", "dax,data=ordered,errors=remount-ro ro",
        "rootfstype", "ext4", END },
      "root=/dev/pmem0p1 rootflags=dax,data=ordered,errors=remount-ro ro rootfstype=ext4" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GPtrArray) params = params_from_pairs (cases[i].pairs);
      g_autofree char *got = hvk_params_to_string (params);

      g_assert_cmpstr (got, ==, cases[i].expected);
    }

  {
    g_autofree char *got = hvk_params_to_string (NULL);

    g_assert_cmpstr (got, ==, "");
  }
}

/* ---------------------------------------------------------------------- */
/* 1.2 DeserializeParams                                                  */

typedef struct {
  const char *id;
  gboolean null_input;
  const char *input[5];
  const char *expected[9];
} DeserializeCase;

static const DeserializeCase deserialize_cases[] = {
  { "P6", TRUE, { END }, { END } },
  { "P7", FALSE, { "", END }, { END } },
  { "P8", FALSE, { "param1", END }, { "param1", "", END } },
  { "P9", FALSE, { "param1=value1", END }, { "param1", "value1", END } },
  { "P10", FALSE, { "a=b=c", END }, { "a", "b=c", END } },
  /* hvkit: order kept, empties skipped, `=` at either end. */
  { "mixed", FALSE, { "x=1", "", "=v", "k=", END },
    { "x", "1", "", "v", "k", "", END } },
  { "empty-list", FALSE, { END }, { END } },
};

static void
test_params_deserialize (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (deserialize_cases); i++)
    {
      const DeserializeCase *c = &deserialize_cases[i];
      g_autoptr(GPtrArray) got =
        hvk_params_deserialize (c->null_input ? NULL : c->input);

      g_test_message ("deserialize %s", c->id);
      assert_params (got, c->expected);
    }
}

/* Serialize then deserialize with "=" is the identity for ordinary pairs. */
static void
test_params_round_trip (void)
{
  static const char *pairs[] = { "console", "hvc0", "quiet", "", "a", "b=c", END };
  g_autoptr(GPtrArray) params = params_from_pairs (pairs);
  g_auto(GStrv) strings = hvk_params_serialize (params, "=");
  g_autoptr(GPtrArray) back = hvk_params_deserialize ((const char * const *) strings);

  assert_params (back, pairs);
}

/* ---------------------------------------------------------------------- */
/* 1.3 appendParam                                                        */

static void
test_params_append (void)
{
  /* P11 */
  static const char *initial[] = { "param1", "value1", END };
  static const char *expected[] = { "param1", "value1", "param2", "value2", END };
  g_autoptr(GPtrArray) params = params_from_pairs (initial);

  hvk_params_append (params, "param2", "value2");
  assert_params (params, expected);

  /* NULL key or value is stored as "". */
  hvk_params_append (params, NULL, NULL);
  g_assert_cmpstr (((HvkParam *) params->pdata[2])->key, ==, "");
  g_assert_cmpstr (((HvkParam *) params->pdata[2])->value, ==, "");
}

static void
test_params_extend (void)
{
  static const char *a[] = { "a", "1", END };
  static const char *b[] = { "b", "2", "c", "", END };
  static const char *ab[] = { "a", "1", "b", "2", "c", "", END };
  static const char *abab[] = { "a", "1", "b", "2", "c", "", "a", "1", "b", "2", "c", "", END };
  g_autoptr(GPtrArray) params = params_from_pairs (a);
  g_autoptr(GPtrArray) other = params_from_pairs (b);

  hvk_params_extend (params, other);
  assert_params (params, ab);

  /* Deep copies: freeing @other leaves @params intact. */
  g_clear_pointer (&other, g_ptr_array_unref);
  assert_params (params, ab);

  hvk_params_extend (params, NULL);
  assert_params (params, ab);

  /* Extending a list with itself doubles it once. */
  hvk_params_extend (params, params);
  assert_params (params, abab);
}

/* ---------------------------------------------------------------------- */
/* 1.4 KernelParamFields                                                  */

typedef struct {
  const char *id;
  const char *input;
  const char *expected[5];
} FieldsCase;

static const FieldsCase fields_cases[] = {
  { "F1", "a=b x=y", { "a=b", "x=y", END } },
  { "F2", "a=b x=y  foo=bar", { "a=b", "x=y", "foo=bar", END } },
  { "F3", "a x=y  foo=bar", { "a", "x=y", "foo=bar", END } },
  { "F4", "a=b      x foo=bar", { "a=b", "x", "foo=bar", END } },
  { "F5", "a=b      x foo     ", { "a=b", "x", "foo", END } },
  { "F6", "a=b x=\"y z\"", { "a=b", "x=\"y z\"", END } },
  { "F7", "foo=\"bar baz\"", { "foo=\"bar baz\"", END } },
  { "F8", "foo=\"bar baz\"           abc=\"123\"", { "foo=\"bar baz\"", "abc=\"123\"", END } },
  { "F9", "\"a=b", { "\"a=b", END } },
  { "F10", "\"a=b    x=y", { "\"a=b    x=y", END } },
  { "F11", "", { END } },
  /* Tabs do not separate, but are trimmed from each field's ends. */
  { "tab-inside", "a\tb c", { "a\tb", "c", END } },
  { "tab-trim", "\ta=b\t c\t", { "a=b", "c", END } },
  { "only-spaces", "    ", { END } },
  { "newline-trim", "quiet\n", { "quiet", END } },
  /* Go's TrimSpace also trims Unicode white space such as U+00A0. */
  { "nbsp-trim", "\xc2\xa0x\xc2\xa0 y", { "x", "y", END } },
  /* Non-ASCII text is kept byte for byte. */
  { "utf8", "caf\xc3\xa9=\"\xc3\xa9 t\xc3\xa9\"", { "caf\xc3\xa9=\"\xc3\xa9 t\xc3\xa9\"", END } },
  /* Quote toggling: a closed quote re-enables splitting. */
  { "two-quotes", "a=\"1 2\" b=\"3 4\" c", { "a=\"1 2\"", "b=\"3 4\"", "c", END } },
};

static void
test_kernel_param_fields (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (fields_cases); i++)
    {
      const FieldsCase *c = &fields_cases[i];
      g_auto(GStrv) got = hvk_kernel_param_fields (c->input);

      g_test_message ("fields %s", c->id);
      assert_strv ((const char * const *) got, c->expected);
    }

  {
    g_auto(GStrv) got = hvk_kernel_param_fields (NULL);

    g_assert_nonnull (got);
    g_assert_null (got[0]);
  }
}

static void
test_kernel_params_parse (void)
{
  static const char *expected[] = {
    "console", "hvc0",
    "foo", "\"bar baz\"",
    "quiet", "",
    "a", "b=c",
    END
  };
  g_autoptr(GPtrArray) params =
    hvk_kernel_params_parse ("console=hvc0  foo=\"bar baz\" quiet a=b=c ");
  g_autoptr(GPtrArray) empty = hvk_kernel_params_parse ("");
  g_autoptr(GPtrArray) null = hvk_kernel_params_parse (NULL);

  assert_params (params, expected);
  assert_params (empty, NULL);
  assert_params (null, NULL);
}

/* ---------------------------------------------------------------------- */
/* 1.5 CheckCmdline                                                       */

typedef struct {
  const char *id;
  const char *contents;
  const char *param;
  const char *values[3];
  gboolean expected;
} CmdlineCase;

#define KATA_CMDLINE "quiet root=/dev/sda2"

static const CmdlineCase cmdline_cases[] = {
  { "C1", KATA_CMDLINE, "quiet", { END }, TRUE },
  { "C2", KATA_CMDLINE, "root", { "/dev/sda1", "/dev/sda2", END }, TRUE },
  { "C3", KATA_CMDLINE, "ro", { END }, FALSE },
  /* [D]: option compare ignores case; with values the key is
   * case-sensitive, the value is not. */
  { "D-option-case", KATA_CMDLINE, "QUIET", { END }, TRUE },
  { "D-value-case", KATA_CMDLINE, "root", { "/DEV/SDA2", END }, TRUE },
  { "D-key-case", KATA_CMDLINE, "ROOT", { "/dev/sda2", END }, FALSE },
  /* hvkit: an option is not a parameter and vice versa. */
  { "param-as-option", KATA_CMDLINE, "root", { END }, FALSE },
  { "option-as-param", KATA_CMDLINE, "quiet", { "", END }, FALSE },
  { "value-mismatch", KATA_CMDLINE, "root", { "/dev/sda1", END }, FALSE },
  { "value-split-first-eq", "a=b=c", "a", { "b=c", END }, TRUE },
  { "empty-value", "a= b", "a", { "", END }, TRUE },
  { "later-line", "console=hvc0\nquiet\n", "quiet", { END }, TRUE },
  { "crlf", "console=hvc0\r\nquiet\r\n", "quiet", { END }, TRUE },
  { "quoted", "dm=\"a b\" quiet", "dm", { "\"a b\"", END }, TRUE },
  { "quoted-not-split", "dm=\"quiet b\"", "quiet", { END }, FALSE },
  { "empty-file", "", "quiet", { END }, FALSE },
};

static void
test_check_cmdline (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (cmdline_cases); i++)
    {
      const CmdlineCase *c = &cmdline_cases[i];
      g_autofree char *path = make_temp_file (c->contents);
      g_autoptr(GError) error = NULL;
      gboolean found = !c->expected;

      g_test_message ("check_cmdline %s", c->id);
      g_assert_true (hvk_check_cmdline (path, c->param, c->values, &found, &error));
      g_assert_no_error (error);
      g_assert_cmpint (found, ==, c->expected);
      remove_temp_file (path);
    }

  /* NULL values is the same as no values. */
  {
    g_autofree char *path = make_temp_file (KATA_CMDLINE);
    g_autoptr(GError) error = NULL;
    gboolean found = FALSE;

    g_assert_true (hvk_check_cmdline (path, "quiet", NULL, &found, &error));
    g_assert_no_error (error);
    g_assert_true (found);
    remove_temp_file (path);
  }
}

static void
test_check_cmdline_missing (void)
{
  g_autofree char *path = make_missing_path ();
  g_autoptr(GError) error = NULL;
  gboolean found = TRUE;

  g_assert_false (hvk_check_cmdline (path, "quiet", NULL, &found, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_false (found);
}

static void
test_check_cmdline_unreadable (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hvk-test-param-XXXXXX", &error);
  gboolean found = TRUE;

  g_assert_no_error (error);
  /* A directory exists but cannot be read as a file. */
  g_assert_false (hvk_check_cmdline (dir, "quiet", NULL, &found, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, dir));
  g_assert_false (found);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* ---------------------------------------------------------------------- */
/* 1.6 CPUFlags / RunningOnVMM                                            */

#define CPUINFO_HEAD \
  "\nfpu_exception   : yes\ncpuid level     : 20\nwp              : yes\n"
#define CPUINFO_FLAGS_1 \
  "flags           : fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 " \
  "clflush mmx fxsr sse sse2 ss ht syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl " \
  "xtopology eagerfpu pni pclmulqdq vmx ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave " \
  "avx f16c rdrand"
#define CPUINFO_FLAGS_2 \
  " lahf_lm abm 3dnowprefetch tpr_shadow vnmi ept vpid fsgsbase bmi1 hle avx2 smep bmi2 erms " \
  "rtm rdseed adx smap xsaveopt\n"
#define CPUINFO_TAIL "bugs            :\nbogomips        : 4589.35\n"

static const char data_flags_without_hypervisor[] =
  CPUINFO_HEAD CPUINFO_FLAGS_1 CPUINFO_FLAGS_2 CPUINFO_TAIL;
static const char data_flags_with_hypervisor[] =
  CPUINFO_HEAD CPUINFO_FLAGS_1 " hypervisor" CPUINFO_FLAGS_2 CPUINFO_TAIL;
static const char data_without_flags_field[] = CPUINFO_HEAD CPUINFO_TAIL;

/* The flags of the Kata test data: ":" (the quirk) then 73 real flags. */
static const char *kata_flags[] = {
  ":", "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "sep",
  "mtrr", "pge", "mca", "cmov", "pat", "pse36", "clflush", "mmx", "fxsr", "sse",
  "sse2", "ss", "ht", "syscall", "nx", "pdpe1gb", "rdtscp", "lm", "constant_tsc",
  "rep_good", "nopl", "xtopology", "eagerfpu", "pni", "pclmulqdq", "vmx", "ssse3",
  "fma", "cx16", "sse4_1", "sse4_2", "movbe", "popcnt", "aes", "xsave", "avx",
  "f16c", "rdrand", "lahf_lm", "abm", "3dnowprefetch", "tpr_shadow", "vnmi", "ept",
  "vpid", "fsgsbase", "bmi1", "hle", "avx2", "smep", "bmi2", "erms", "rtm",
  "rdseed", "adx", "smap", "xsaveopt", END
};

static void
test_cpu_flags (void)
{
  g_autofree char *without = make_temp_file (data_flags_without_hypervisor);
  g_autofree char *with = make_temp_file (data_flags_with_hypervisor);
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) flags = NULL;
  g_autoptr(GHashTable) flags_hv = NULL;

  flags = hvk_cpu_flags (without, &error);
  g_assert_no_error (error);
  g_assert_nonnull (flags);
  g_assert_cmpuint (g_hash_table_size (flags), ==, g_strv_length ((GStrv) kata_flags));
  for (gsize i = 0; kata_flags[i] != NULL; i++)
    g_assert_true (g_hash_table_contains (flags, kata_flags[i]));
  g_assert_false (g_hash_table_contains (flags, "hypervisor"));
  g_assert_false (g_hash_table_contains (flags, "flags"));

  flags_hv = hvk_cpu_flags (with, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (flags_hv), ==, g_strv_length ((GStrv) kata_flags) + 1);
  g_assert_true (g_hash_table_contains (flags_hv, "hypervisor"));
  g_assert_true (g_hash_table_contains (flags_hv, ":"));

  remove_temp_file (without);
  remove_temp_file (with);
}

static void
test_cpu_flags_formats (void)
{
  static const struct {
    const char *id;
    const char *contents;
    const char *expected[6];
  } cases[] = {
    /* The real /proc/cpuinfo uses tabs: "flags\t\t:" is then one field. */
    { "proc-tabs", "processor\t: 0\nflags\t\t: fpu hypervisor\n", { "fpu", "hypervisor", END } },
    { "colon-attached", "flags: fpu vme\n", { "fpu", "vme", END } },
    /* Only the first flags line counts. */
    { "first-only", "flags : a\nflags : b\n", { ":", "a", END } },
    /* Any first field starting with "flags" matches (vmx flags too). */
    { "prefix", "flagsfoo x y\n", { "x", "y", END } },
    /* No trailing newline. */
    { "no-newline", "flags : fpu", { ":", "fpu", END } },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = make_temp_file (cases[i].contents);
      g_autoptr(GError) error = NULL;
      g_autoptr(GHashTable) flags = hvk_cpu_flags (path, &error);

      g_test_message ("cpu_flags %s", cases[i].id);
      g_assert_no_error (error);
      g_assert_cmpuint (g_hash_table_size (flags), ==,
                        g_strv_length ((GStrv) cases[i].expected));
      for (gsize j = 0; cases[i].expected[j] != NULL; j++)
        g_assert_true (g_hash_table_contains (flags, cases[i].expected[j]));
      remove_temp_file (path);
    }
}

static void
test_cpu_flags_errors (void)
{
  /* V3: no flags line; a lone "flags" field (fewer than two fields) does
   * not count either. */
  static const char *no_flags[] = { data_without_flags_field, "flags\n", "", END };
  g_autofree char *missing = make_missing_path ();
  g_autoptr(GError) error = NULL;
  GHashTable *flags;

  for (gsize i = 0; no_flags[i] != NULL; i++)
    {
      g_autofree char *path = make_temp_file (no_flags[i]);
      g_autofree char *expected =
        g_strdup_printf ("Couldn't find \"flags\" from \"%s\" output", path);

      flags = hvk_cpu_flags (path, &error);
      g_assert_null (flags);
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, expected);
      g_clear_error (&error);
      remove_temp_file (path);
    }

  /* V4 */
  flags = hvk_cpu_flags (missing, &error);
  g_assert_null (flags);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, missing));
}

static void
test_running_on_vmm (void)
{
  g_autofree char *without = make_temp_file (data_flags_without_hypervisor);
  g_autofree char *with = make_temp_file (data_flags_with_hypervisor);
  g_autofree char *no_flags = make_temp_file (data_without_flags_field);
  g_autofree char *empty = make_temp_file ("");
  g_autofree char *missing = make_missing_path ();
  g_autoptr(GError) error = NULL;
  gboolean on_vmm;

#if defined(__x86_64__)
  /* V1 */
  on_vmm = TRUE;
  g_assert_true (hvk_running_on_vmm (without, &on_vmm, &error));
  g_assert_no_error (error);
  g_assert_false (on_vmm);

  /* V2 */
  on_vmm = FALSE;
  g_assert_true (hvk_running_on_vmm (with, &on_vmm, &error));
  g_assert_no_error (error);
  g_assert_true (on_vmm);

  /* V3 */
  on_vmm = TRUE;
  g_assert_false (hvk_running_on_vmm (no_flags, &on_vmm, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "Couldn't find \"flags\""));
  g_assert_false (on_vmm);
  g_clear_error (&error);

  /* V4 */
  g_assert_false (hvk_running_on_vmm (missing, &on_vmm, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_clear_error (&error);
#else
  /* V5: other architectures never read the file. */
  on_vmm = TRUE;
  g_assert_true (hvk_running_on_vmm (empty, &on_vmm, &error));
  g_assert_no_error (error);
  g_assert_false (on_vmm);

  on_vmm = TRUE;
  g_assert_true (hvk_running_on_vmm (with, &on_vmm, &error));
  g_assert_no_error (error);
  g_assert_false (on_vmm);

  g_assert_true (hvk_running_on_vmm (missing, &on_vmm, &error));
  g_assert_no_error (error);
#endif

  remove_temp_file (without);
  remove_temp_file (with);
  remove_temp_file (no_flags);
  remove_temp_file (empty);
}

/* ---------------------------------------------------------------------- */
/* 2.1 GetKernelRootParams                                                */

typedef struct {
  const char *id;
  const char *rootfs_type;
  gboolean disable_nvdimm;
  gboolean dax;
  const char *verity;
  const char *expected[9];    /* pairs; empty when an error is expected */
  const char *error_prefix;   /* NULL on success */
} RootCase;

#define EXT4_FLAGS "data=ordered,errors=remount-ro ro"

static const RootCase root_cases[] = {
  /* Table 2.1 with Kata HEAD's xfs flags. */
  { "R1", "ext4", FALSE, FALSE, "",
    { "root", "/dev/pmem0p1", "rootflags", EXT4_FLAGS, "rootfstype", "ext4", END }, NULL },
  { "R2", "ext4", FALSE, TRUE, "",
    { "root", "/dev/pmem0p1", "rootflags", "dax," EXT4_FLAGS, "rootfstype", "ext4", END }, NULL },
  { "R3", "ext4", TRUE, FALSE, "",
    { "root", "/dev/vda1", "rootflags", EXT4_FLAGS, "rootfstype", "ext4", END }, NULL },
  { "R4", "xfs", FALSE, FALSE, "",
    { "root", "/dev/pmem0p1", "rootflags", "ro", "rootfstype", "xfs", END }, NULL },
  { "R5", "xfs", FALSE, TRUE, "",
    { "root", "/dev/pmem0p1", "rootflags", "dax ro", "rootfstype", "xfs", END }, NULL },
  { "R6", "xfs", TRUE, FALSE, "",
    { "root", "/dev/vda1", "rootflags", "ro", "rootfstype", "xfs", END }, NULL },
  { "R7", "erofs", FALSE, FALSE, "",
    { "root", "/dev/pmem0p1", "rootflags", "ro", "rootfstype", "erofs", END }, NULL },
  { "R8", "erofs", FALSE, TRUE, "",
    { "root", "/dev/pmem0p1", "rootflags", "dax ro", "rootfstype", "erofs", END }, NULL },
  { "R9", "erofs", TRUE, FALSE, "",
    { "root", "/dev/vda1", "rootflags", "ro", "rootfstype", "erofs", END }, NULL },
  { "R10", "foo", FALSE, FALSE, "", { END }, "unsupported rootfs type" },
  { "R11", "ext4", TRUE, TRUE, "", { END }, "Virtio-Blk does not support DAX" },
  /* [D]: empty rootfs type is ext4; hvkit: NULL too, and NULL verity. */
  { "empty-type", "", TRUE, FALSE, "",
    { "root", "/dev/vda1", "rootflags", EXT4_FLAGS, "rootfstype", "ext4", END }, NULL },
  { "null-type", NULL, FALSE, FALSE, NULL,
    { "root", "/dev/pmem0p1", "rootflags", EXT4_FLAGS, "rootfstype", "ext4", END }, NULL },
  /* Kata checks DAX before the type; the type is case-sensitive. */
  { "dax-before-type", "foo", TRUE, TRUE, "", { END }, "Virtio-Blk does not support DAX" },
  { "type-case", "EXT4", FALSE, FALSE, "", { END }, "unsupported rootfs type" },
  /* Blank verity params mean no verity. */
  { "blank-verity", "xfs", TRUE, FALSE, "  \t ",
    { "root", "/dev/vda1", "rootflags", "ro", "rootfstype", "xfs", END }, NULL },

  /* 2.2 dm-verity */
  { "DV1", "ext4", TRUE, FALSE,
    "root_hash=abc,salt=def,data_blocks=1,data_block_size=4096,hash_block_size=4096",
    { "dm-mod.create",
      "\"dm-verity,,,ro,0 8 verity 1 /dev/vda1 /dev/vda2 4096 4096 1 0 sha256 abc def\"",
      "root", "/dev/dm-0", "rootflags", EXT4_FLAGS, "rootfstype", "ext4", END }, NULL },
  { "DV2", "ext4", FALSE, FALSE,
    "root_hash=abc,data_blocks=1,data_block_size=4096,hash_block_size=4096",
    { END }, "missing kernel_verity_params salt" },
  { "DV3", "ext4", FALSE, FALSE,
    "root_hash=abc,salt=def,data_block_size=4096,hash_block_size=4096",
    { END }, "missing kernel_verity_params data_blocks" },
  { "DV4", "ext4", FALSE, FALSE,
    "root_hash=abc,salt=def,data_blocks=foo,data_block_size=4096,hash_block_size=4096",
    { END }, "invalid kernel_verity_params data_blocks \"foo\": " },
  { "DV5", "ext4", FALSE, FALSE,
    "root_hash=abc,salt=def,data_blocks=1,data_block_size=4096,hash_block_size=4096,badfield",
    { END }, "invalid kernel_verity_params entry: \"badfield\"" },
  /* The derived example: NVDIMM devices, 736328 = 4096/512 * 92041. */
  { "DV-derived", "ext4", FALSE, FALSE,
    "root_hash=r,salt=s,data_blocks=92041,data_block_size=4096,hash_block_size=4096",
    { "dm-mod.create",
      "\"dm-verity,,,ro,0 736328 verity 1 /dev/pmem0p1 /dev/pmem0p2 4096 4096 92041 0 sha256 r s\"",
      "root", "/dev/dm-0", "rootflags", EXT4_FLAGS, "rootfstype", "ext4", END }, NULL },
  /* Verity ignores dax (no DAX error) and uses the non-DAX flags. */
  { "verity-dax-ignored", "xfs", TRUE, TRUE,
    "root_hash=r,salt=s,data_blocks=2,data_block_size=512,hash_block_size=1024",
    { "dm-mod.create",
      "\"dm-verity,,,ro,0 2 verity 1 /dev/vda1 /dev/vda2 512 1024 2 0 sha256 r s\"",
      "root", "/dev/dm-0", "rootflags", "ro", "rootfstype", "xfs", END }, NULL },
  { "verity-erofs", "erofs", FALSE, TRUE,
    "root_hash=r,salt=s,data_blocks=3,data_block_size=1024,hash_block_size=512",
    { "dm-mod.create",
      "\"dm-verity,,,ro,0 6 verity 1 /dev/pmem0p1 /dev/pmem0p2 1024 512 3 0 sha256 r s\"",
      "root", "/dev/dm-0", "rootflags", "ro", "rootfstype", "erofs", END }, NULL },
  { "verity-default-type", "", TRUE, FALSE,
    "root_hash=r,salt=s,data_blocks=1,data_block_size=512,hash_block_size=512",
    { "dm-mod.create",
      "\"dm-verity,,,ro,0 1 verity 1 /dev/vda1 /dev/vda2 512 512 1 0 sha256 r s\"",
      "root", "/dev/dm-0", "rootflags", EXT4_FLAGS, "rootfstype", "ext4", END }, NULL },
  { "verity-bad-type", "btrfs", TRUE, FALSE,
    "root_hash=r,salt=s,data_blocks=1,data_block_size=512,hash_block_size=512",
    { END }, "unsupported rootfs type" },
  /* A verity error comes before any other check. */
  { "verity-error-first", "foo", TRUE, TRUE, "bad", { END },
    "invalid kernel_verity_params entry: \"bad\"" },
};

static void
test_kernel_root_params (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (root_cases); i++)
    {
      const RootCase *c = &root_cases[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) params = NULL;

      g_test_message ("root params %s", c->id);
      params = hvk_kernel_root_params (c->rootfs_type, c->disable_nvdimm, c->dax,
                                       c->verity, &error);
      if (c->error_prefix != NULL)
        {
          g_assert_null (params);
          g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
          g_assert_true (g_str_has_prefix (error->message, c->error_prefix));
        }
      else
        {
          g_assert_no_error (error);
          assert_params (params, c->expected);
        }
    }
}

/* The serialised forms quoted in 2.1 and 2.2. */
static void
test_kernel_root_params_string (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) r2 = hvk_kernel_root_params ("ext4", FALSE, TRUE, "", &error);
  g_autoptr(GPtrArray) dv1 = NULL;
  g_autofree char *r2_str = NULL;
  g_autofree char *dv1_str = NULL;

  g_assert_no_error (error);
  r2_str = hvk_params_to_string (r2);
  g_assert_cmpstr (r2_str, ==,
                   "root=/dev/pmem0p1 rootflags=dax,data=ordered,errors=remount-ro ro rootfstype=ext4");

  dv1 = hvk_kernel_root_params ("ext4", TRUE, FALSE,
                                "root_hash=abc,salt=def,data_blocks=1,data_block_size=4096,hash_block_size=4096",
                                &error);
  g_assert_no_error (error);
  dv1_str = hvk_params_to_string (dv1);
  g_assert_cmpstr (dv1_str, ==,
                   "dm-mod.create=\"dm-verity,,,ro,0 8 verity 1 /dev/vda1 /dev/vda2 4096 4096 1 0 sha256 abc def\" "
                   "root=/dev/dm-0 rootflags=data=ordered,errors=remount-ro ro rootfstype=ext4");

  /* KernelParamFields keeps the quoted dm-mod.create value together. */
  {
    g_auto(GStrv) fields = hvk_kernel_param_fields (dv1_str);

    g_assert_cmpuint (g_strv_length (fields), ==, 5);
    g_assert_true (g_str_has_prefix (fields[0], "dm-mod.create=\"dm-verity"));
    g_assert_true (g_str_has_suffix (fields[0], "abc def\""));
  }
}

/* ---------------------------------------------------------------------- */
/* ParseKernelVerityParams                                                */

static void
test_verity_parse (void)
{
  static const struct {
    const char *text;
    const char *root_hash;
    const char *salt;
    guint64 data_blocks;
    guint64 data_block_size;
    guint64 hash_block_size;
  } cases[] = {
    { "root_hash=abc,salt=def,data_blocks=1,data_block_size=4096,hash_block_size=4096",
      "abc", "def", 1, 4096, 4096 },
    /* Fields trimmed, empty fields skipped, order free. */
    { " hash_block_size=512 ,, salt=s , root_hash=r,data_blocks=7,data_block_size=1024,",
      "r", "s", 7, 1024, 512 },
    /* A later duplicate wins; a value may contain "=". */
    { "root_hash=a,root_hash=b=c,salt=s,data_blocks=1,data_blocks=2,"
      "data_block_size=512,hash_block_size=512",
      "b=c", "s", 2, 512, 512 },
    { "root_hash=r,salt=s,data_blocks=18446744073709551615,data_block_size=512,hash_block_size=512",
      "r", "s", G_MAXUINT64, 512, 512 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(HvkVerityParams) params = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_true (hvk_verity_params_parse (cases[i].text, &params, &error));
      g_assert_no_error (error);
      g_assert_nonnull (params);
      g_assert_cmpstr (params->root_hash, ==, cases[i].root_hash);
      g_assert_cmpstr (params->salt, ==, cases[i].salt);
      g_assert_cmpuint (params->data_blocks, ==, cases[i].data_blocks);
      g_assert_cmpuint (params->data_block_size, ==, cases[i].data_block_size);
      g_assert_cmpuint (params->hash_block_size, ==, cases[i].hash_block_size);
    }

  /* Blank means no verity: success and no parameters. */
  {
    static const char *blank[] = { "", " ", "\t \n", END };

    for (gsize i = 0; blank[i] != NULL; i++)
      {
        HvkVerityParams *params = (HvkVerityParams *) 0x1;
        g_autoptr(GError) error = NULL;

        g_assert_true (hvk_verity_params_parse (blank[i], &params, &error));
        g_assert_no_error (error);
        g_assert_null (params);
      }

    {
      HvkVerityParams *params = (HvkVerityParams *) 0x1;

      g_assert_true (hvk_verity_params_parse (NULL, &params, NULL));
      g_assert_null (params);
    }
  }

  /* out_params is optional: validation only. */
  g_assert_true (hvk_verity_params_parse ("root_hash=r,salt=s,data_blocks=1,"
                                          "data_block_size=512,hash_block_size=512",
                                          NULL, NULL));
  hvk_verity_params_free (NULL);
}

static void
test_verity_parse_errors (void)
{
#define V_OK_SIZES "data_block_size=4096,hash_block_size=4096"
  static const struct {
    const char *text;
    const char *message;   /* exact, or prefix when ending in ": " */
  } cases[] = {
    { "root_hash=abc,data_blocks=1," V_OK_SIZES, "missing kernel_verity_params salt" },
    { "root_hash=abc,salt=def," V_OK_SIZES, "missing kernel_verity_params data_blocks" },
    { "root_hash=abc,salt=def,data_blocks=foo," V_OK_SIZES,
      "invalid kernel_verity_params data_blocks \"foo\": " },
    { "root_hash=abc,salt=def,data_blocks=1," V_OK_SIZES ",badfield",
      "invalid kernel_verity_params entry: \"badfield\"" },
    { "salt=def,data_blocks=1," V_OK_SIZES, "missing kernel_verity_params root_hash" },
    { "root_hash=,salt=def,data_blocks=1," V_OK_SIZES, "missing kernel_verity_params root_hash" },
    { "root_hash=abc,salt=,data_blocks=1," V_OK_SIZES, "missing kernel_verity_params salt" },
    { "root_hash=abc,salt=def,data_blocks=," V_OK_SIZES, "missing kernel_verity_params data_blocks" },
    { "root_hash=abc,salt=def,data_blocks=1,hash_block_size=4096",
      "missing kernel_verity_params data_block_size" },
    { "root_hash=abc,salt=def,data_blocks=1,data_block_size=4096",
      "missing kernel_verity_params hash_block_size" },
    /* The root hash is checked first, then the numbers, then the salt. */
    { "data_blocks=1", "missing kernel_verity_params root_hash" },
    { "root_hash=abc,data_blocks=x", "invalid kernel_verity_params data_blocks \"x\": " },
    { "root_hash=abc,data_blocks=0," V_OK_SIZES, "missing kernel_verity_params salt" },
    /* ParseUint: no sign, no spaces inside, no hex, no overflow. */
    { "root_hash=abc,salt=def,data_blocks=-1," V_OK_SIZES,
      "invalid kernel_verity_params data_blocks \"-1\": " },
    { "root_hash=abc,salt=def,data_blocks=+1," V_OK_SIZES,
      "invalid kernel_verity_params data_blocks \"+1\": " },
    { "root_hash=abc,salt=def,data_blocks=1 2," V_OK_SIZES,
      "invalid kernel_verity_params data_blocks \"1 2\": " },
    { "root_hash=abc,salt=def,data_blocks=0x10," V_OK_SIZES,
      "invalid kernel_verity_params data_blocks \"0x10\": " },
    { "root_hash=abc,salt=def,data_blocks=18446744073709551616," V_OK_SIZES,
      "invalid kernel_verity_params data_blocks \"18446744073709551616\": " },
    { "root_hash=abc,salt=def,data_blocks=1,data_block_size=4k,hash_block_size=4096",
      "invalid kernel_verity_params data_block_size \"4k\": " },
    { "root_hash=abc,salt=def,data_blocks=1,data_block_size=4096,hash_block_size=big",
      "invalid kernel_verity_params hash_block_size \"big\": " },
    { "root_hash=abc,salt=def,data_blocks=0," V_OK_SIZES,
      "invalid kernel_verity_params data_blocks: must be non-zero" },
    { "root_hash=abc,salt=def,data_blocks=1,data_block_size=0,hash_block_size=4096",
      "invalid kernel_verity_params data_block_size: must be non-zero" },
    { "root_hash=abc,salt=def,data_blocks=1,data_block_size=4096,hash_block_size=0",
      "invalid kernel_verity_params hash_block_size: must be non-zero" },
    /* Zero checks come before the multiple-of-512 checks. */
    { "root_hash=abc,salt=def,data_blocks=1,data_block_size=100,hash_block_size=0",
      "invalid kernel_verity_params hash_block_size: must be non-zero" },
    { "root_hash=abc,salt=def,data_blocks=1,data_block_size=4095,hash_block_size=4096",
      "invalid kernel_verity_params data_block_size: must be multiple of 512" },
    { "root_hash=abc,salt=def,data_blocks=1,data_block_size=4096,hash_block_size=1000",
      "invalid kernel_verity_params hash_block_size: must be multiple of 512" },
    /* Entries: trimmed before quoting; Go's %q escapes. */
    { "root_hash=abc, bad field ", "invalid kernel_verity_params entry: \"bad field\"" },
    { "a\"b", "invalid kernel_verity_params entry: \"a\\\"b\"" },
    { "x\x01y", "invalid kernel_verity_params entry: \"x\\x01y\"" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      HvkVerityParams *params = (HvkVerityParams *) 0x1;
      g_autoptr(GError) error = NULL;
      g_autofree char *escaped = g_strescape (cases[i].text, NULL);

      g_test_message ("verity error: %s", escaped);
      g_assert_false (hvk_verity_params_parse (cases[i].text, &params, &error));
      g_assert_null (params);
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      if (g_str_has_suffix (cases[i].message, ": "))
        g_assert_true (g_str_has_prefix (error->message, cases[i].message));
      else
        g_assert_cmpstr (error->message, ==, cases[i].message);
    }
#undef V_OK_SIZES
}

/* The VM's UUID: a given one in lower case, a random one otherwise
 * (version 4, never twice the same), and what is not a UUID refused. */
static void
test_uuid_canonical (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *given = hvk_uuid_canonical ("0A8E3B2C-1D4F-4E5A-9B6C-7D8E9F0A1B2C", &error);
  g_autofree char *a = hvk_uuid_canonical (NULL, &error);
  g_autofree char *b = hvk_uuid_canonical (NULL, &error);
  g_autofree char *bad = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (given, ==, "0a8e3b2c-1d4f-4e5a-9b6c-7d8e9f0a1b2c");
  g_assert_true (g_uuid_string_is_valid (a));
  g_assert_cmpstr (a, !=, b);
  bad = hvk_uuid_canonical ("0a8e3b2c-1d4f", &error);
  g_assert_null (bad);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "'0a8e3b2c-1d4f' is not a UUID"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hvk/param/new", test_param_new);
  g_test_add_func ("/hvk/param/serialize", test_params_serialize);
  g_test_add_func ("/hvk/param/to-string", test_params_to_string);
  g_test_add_func ("/hvk/param/deserialize", test_params_deserialize);
  g_test_add_func ("/hvk/param/round-trip", test_params_round_trip);
  g_test_add_func ("/hvk/param/append", test_params_append);
  g_test_add_func ("/hvk/param/extend", test_params_extend);
  g_test_add_func ("/hvk/param/kernel-param-fields", test_kernel_param_fields);
  g_test_add_func ("/hvk/param/kernel-params-parse", test_kernel_params_parse);
  g_test_add_func ("/hvk/param/check-cmdline", test_check_cmdline);
  g_test_add_func ("/hvk/param/check-cmdline-missing", test_check_cmdline_missing);
  g_test_add_func ("/hvk/param/check-cmdline-unreadable", test_check_cmdline_unreadable);
  g_test_add_func ("/hvk/param/cpu-flags", test_cpu_flags);
  g_test_add_func ("/hvk/param/cpu-flags-formats", test_cpu_flags_formats);
  g_test_add_func ("/hvk/param/cpu-flags-errors", test_cpu_flags_errors);
  g_test_add_func ("/hvk/param/running-on-vmm", test_running_on_vmm);
  g_test_add_func ("/hvk/param/kernel-root-params", test_kernel_root_params);
  g_test_add_func ("/hvk/param/kernel-root-params-string", test_kernel_root_params_string);
  g_test_add_func ("/hvk/param/verity-parse", test_verity_parse);
  g_test_add_func ("/hvk/param/verity-parse-errors", test_verity_parse_errors);
  g_test_add_func ("/hvk/param/uuid-canonical", test_uuid_canonical);

  return g_test_run ();
}
