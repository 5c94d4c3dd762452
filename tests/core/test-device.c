/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <glib/gstdio.h>
#include <string.h>

#define ID_SYNTAX "expected [A-Za-z0-9][A-Za-z0-9_.-]*, at most 64 characters"

static HvkDevice *
parse (const char *text,
       GError    **error)
{
  return hvk_device_new_from_string (NULL, text, error);
}

/* ---- kinds ---- */

static void
test_kind_new (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDeviceKind) kind = NULL;
  g_autofree char *name = g_strdup ("level");
  g_autofree char *def = g_strdup ("7");
  HvkDevicePropSpec props[] = {
    { name, HVK_PROP_UINT, HVK_PROP_FLAG_NONE, def, "how much" },
    { "tags", HVK_PROP_STRV, HVK_PROP_FLAG_REQUIRED, "a:b", NULL },
  };
  const HvkDevicePropSpec *got;
  guint n_props;
  HvkDeviceKind *copy;

  kind = hvk_device_kind_new ("gadget_2-x", NULL, props, G_N_ELEMENTS (props), &error);
  g_assert_no_error (error);
  g_assert_nonnull (kind);

  /* deep copy: the caller's strings may go away */
  name[0] = 'X';
  def[0] = '9';

  g_assert_cmpstr (hvk_device_kind_get_name (kind), ==, "gadget_2-x");
  g_assert_cmpstr (hvk_device_kind_get_description (kind), ==, "");
  got = hvk_device_kind_get_props (kind, &n_props);
  g_assert_cmpuint (n_props, ==, 2);
  g_assert_cmpstr (got[0].name, ==, "level");
  g_assert_cmpint (got[0].type, ==, HVK_PROP_UINT);
  g_assert_cmpstr (got[0].default_value, ==, "7");
  g_assert_cmpstr (got[0].description, ==, "how much");
  g_assert_true (got[1].flags & HVK_PROP_FLAG_REQUIRED);
  g_assert_true (hvk_device_kind_lookup_prop (kind, "tags") == &got[1]);
  g_assert_null (hvk_device_kind_lookup_prop (kind, "Xevel"));

  /* boxed: copy is a reference */
  copy = g_boxed_copy (HVK_TYPE_DEVICE_KIND, kind);
  g_assert_true (copy == kind);
  g_boxed_free (HVK_TYPE_DEVICE_KIND, copy);
  g_assert_true (G_TYPE_IS_BOXED (HVK_TYPE_DEVICE_KIND));

  /* defaults parse in device-string syntax */
  {
    g_autoptr(HvkDevice) d = hvk_device_new (kind, "g1");
    const char *ab[] = { "a", "b", NULL };

    g_assert_cmpuint (hvk_device_get_uint (d, "level"), ==, 7);
    g_assert_cmpstrv (hvk_device_get_strv (d, "tags"), ab);
  }

  /* no properties at all */
  {
    g_autoptr(HvkDeviceKind) empty = hvk_device_kind_new ("empty", "nothing", NULL, 0, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (hvk_device_kind_get_description (empty), ==, "nothing");
    (void) hvk_device_kind_get_props (empty, &n_props);
    g_assert_cmpuint (n_props, ==, 0);
  }
}

static void
test_kind_errors (void)
{
  static const HvkDevicePropSpec good[] = { { "x", HVK_PROP_STRING, 0, NULL, "x" } };
  static const HvkDevicePropSpec upper[] = { { "Size", HVK_PROP_UINT, 0, NULL, "" } };
  static const HvkDevicePropSpec empty[] = { { "", HVK_PROP_UINT, 0, NULL, "" } };
  static const HvkDevicePropSpec id[] = { { "id", HVK_PROP_STRING, 0, NULL, "" } };
  static const HvkDevicePropSpec kind[] = { { "kind", HVK_PROP_STRING, 0, NULL, "" } };
  static const HvkDevicePropSpec dup[] = {
    { "size", HVK_PROP_UINT, 0, NULL, "" }, { "size", HVK_PROP_STRING, 0, NULL, "" },
  };
  static const HvkDevicePropSpec bad_uint[] = { { "size", HVK_PROP_UINT, 0, "big", "" } };
  static const HvkDevicePropSpec bad_int[] = { { "slot", HVK_PROP_INT, 0, "1.5", "" } };
  static const HvkDevicePropSpec bad_bool[] = { { "ro", HVK_PROP_BOOLEAN, 0, "maybe", "" } };
  static const HvkDevicePropSpec bad_type[] = { { "t", (HvkPropType) 42, 0, NULL, "" } };
  static const HvkDevicePropSpec uint_path[] = { { "n", HVK_PROP_UINT, HVK_PROP_FLAG_PATH, NULL, "" } };
  static const struct {
    const char              *name;
    const HvkDevicePropSpec *props;
    guint                    n_props;
    const char              *message;
  } cases[] = {
    { "Block", good, 1, "device kind 'Block': invalid name (expected [a-z0-9_-]+)" },
    { "", good, 1, "device kind '': invalid name (expected [a-z0-9_-]+)" },
    { "my kind", good, 1, "device kind 'my kind': invalid name (expected [a-z0-9_-]+)" },
    { "k", upper, 1, "device kind 'k': invalid property name 'Size' (expected [a-z0-9_-]+)" },
    { "k", empty, 1, "device kind 'k': invalid property name '' (expected [a-z0-9_-]+)" },
    { "k", id, 1, "device kind 'k': property name 'id' is reserved" },
    { "k", kind, 1, "device kind 'k': property name 'kind' is reserved" },
    { "k", dup, 2, "device kind 'k': property 'size' declared twice" },
    { "k", bad_uint, 1, "device kind 'k': property 'size': default has invalid value 'big' (expected an unsigned integer)" },
    { "k", bad_int, 1, "device kind 'k': property 'slot': default has invalid value '1.5' (expected an integer)" },
    { "k", bad_bool, 1, "device kind 'k': property 'ro': default has invalid value 'maybe' (expected true or false)" },
    { "k", bad_type, 1, "device kind 'k': property 't' has unknown type 42" },
    { "k", uint_path, 1, "device kind 'k': property 'n': only strings and lists of strings can be paths" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HvkDeviceKind) k = hvk_device_kind_new (cases[i].name, NULL, cases[i].props,
                                                        cases[i].n_props, &error);

      g_assert_null (k);
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, cases[i].message);
    }
}

/* The standard kinds, as the design fixes them. */
typedef struct {
  const char *name;
  HvkPropType type;
  gboolean    required;
  const char *default_value;
} Prop;

static const struct {
  const char *kind;
  Prop        props[14];
} standard[] = {
  { "block", { { "path", HVK_PROP_STRING, TRUE, NULL }, { "format", HVK_PROP_STRING, FALSE, "raw" },
               { "readonly", HVK_PROP_BOOLEAN, FALSE, NULL }, { "driver", HVK_PROP_STRING, FALSE, NULL },
               { "aio", HVK_PROP_STRING, FALSE, NULL }, { "cache_direct", HVK_PROP_BOOLEAN, FALSE, NULL },
               { "index", HVK_PROP_UINT, FALSE, NULL }, { "serial", HVK_PROP_STRING, FALSE, NULL },
               { "rate_limiter_bw_max_rate", HVK_PROP_INT, FALSE, NULL },
               { "rate_limiter_bw_one_time_burst", HVK_PROP_INT, FALSE, NULL },
               { "rate_limiter_ops_max_rate", HVK_PROP_INT, FALSE, NULL },
               { "rate_limiter_ops_one_time_burst", HVK_PROP_INT, FALSE, NULL },
               { "throttle_group", HVK_PROP_STRING, FALSE, NULL } } },
  { "net", { { "type", HVK_PROP_STRING, FALSE, "tap" }, { "ifname", HVK_PROP_STRING, FALSE, NULL },
             { "mac", HVK_PROP_STRING, FALSE, NULL }, { "fds", HVK_PROP_STRV, FALSE, NULL },
             { "vhost_fds", HVK_PROP_STRV, FALSE, NULL }, { "queues", HVK_PROP_UINT, FALSE, "1" },
             { "socket", HVK_PROP_STRING, FALSE, NULL },
             { "rate_limiter_bw_max_rate", HVK_PROP_INT, FALSE, NULL },
             { "rate_limiter_bw_one_time_burst", HVK_PROP_INT, FALSE, NULL },
             { "rate_limiter_ops_max_rate", HVK_PROP_INT, FALSE, NULL },
             { "rate_limiter_ops_one_time_burst", HVK_PROP_INT, FALSE, NULL },
             { "rx_rate_limiter_max_rate", HVK_PROP_INT, FALSE, NULL },
             { "tx_rate_limiter_max_rate", HVK_PROP_INT, FALSE, NULL } } },
  { "vsock", { { "cid", HVK_PROP_UINT, TRUE, NULL }, { "vhost_fd", HVK_PROP_INT, FALSE, "-1" } } },
  { "fs", { { "driver", HVK_PROP_STRING, FALSE, "virtio-fs" }, { "path", HVK_PROP_STRING, TRUE, NULL },
            { "tag", HVK_PROP_STRING, TRUE, NULL }, { "socket", HVK_PROP_STRING, FALSE, NULL },
            { "cache_size", HVK_PROP_UINT, FALSE, NULL }, { "queue_size", HVK_PROP_UINT, FALSE, "1024" },
            { "security_model", HVK_PROP_STRING, FALSE, "none" } } },
  { "console", { { "backend", HVK_PROP_STRING, FALSE, "socket" }, { "path", HVK_PROP_STRING, FALSE, NULL },
                 { "name", HVK_PROP_STRING, FALSE, NULL } } },
  { "serial-socket", { { "path", HVK_PROP_STRING, TRUE, NULL }, { "name", HVK_PROP_STRING, TRUE, NULL } } },
  { "vfio", { { "host", HVK_PROP_STRING, TRUE, NULL }, { "bus", HVK_PROP_STRING, FALSE, NULL },
              { "vendor_id", HVK_PROP_STRING, FALSE, NULL }, { "device_id", HVK_PROP_STRING, FALSE, NULL } } },
  { "rng", { { "filename", HVK_PROP_STRING, FALSE, NULL }, { "max_bytes", HVK_PROP_UINT, FALSE, NULL },
             { "period", HVK_PROP_UINT, FALSE, NULL } } },
  { "memory", { { "size_mb", HVK_PROP_UINT, TRUE, NULL }, { "slot", HVK_PROP_INT, FALSE, "-1" } } },
  { "cpu", { { "count", HVK_PROP_UINT, TRUE, NULL } } },
};

/* The properties that name host files. */
static const char * const path_props[] = {
  "block.path", "net.socket", "fs.path", "fs.socket", "console.path", "serial-socket.path",
  "rng.filename", NULL
};

static void
test_standard_kinds (void)
{
  g_autoptr(GPtrArray) kinds = hvk_device_kinds_new_standard ();
  g_autoptr(GPtrArray) again = hvk_device_kinds_new_standard ();

  g_assert_cmpuint (kinds->len, ==, G_N_ELEMENTS (standard));
  g_assert_true (g_ptr_array_index (kinds, 0) != g_ptr_array_index (again, 0));

  for (gsize i = 0; i < G_N_ELEMENTS (standard); i++)
    {
      HvkDeviceKind *kind = g_ptr_array_index (kinds, i);
      const HvkDevicePropSpec *props;
      guint n_props, n_expected = 0;

      g_test_message ("kind %s", standard[i].kind);
      g_assert_cmpstr (hvk_device_kind_get_name (kind), ==, standard[i].kind);
      g_assert_cmpstr (hvk_device_kind_get_description (kind), !=, "");
      props = hvk_device_kind_get_props (kind, &n_props);
      while (n_expected < G_N_ELEMENTS (standard[i].props) && standard[i].props[n_expected].name)
        n_expected++;
      g_assert_cmpuint (n_props, ==, n_expected);
      for (guint k = 0; k < n_props; k++)
        {
          const Prop *e = &standard[i].props[k];

          g_assert_cmpstr (props[k].name, ==, e->name);
          g_assert_cmpint (props[k].type, ==, e->type);
          g_assert_cmpint (!!(props[k].flags & HVK_PROP_FLAG_REQUIRED), ==, e->required);
          {
            g_autofree char *full = g_strdup_printf ("%s.%s", standard[i].kind, e->name);

            g_assert_cmpint (!!(props[k].flags & HVK_PROP_FLAG_PATH), ==,
                             g_strv_contains (path_props, full));
          }
          g_assert_cmpstr (props[k].default_value, ==, e->default_value);
          g_assert_nonnull (props[k].description);
          g_assert_cmpstr (props[k].description, !=, "");
        }
    }
  g_assert_cmpstr (HVK_DEVICE_KIND_SERIAL_SOCKET, ==, "serial-socket");
}

/* ---- values ---- */

static void
test_get_set (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) net = parse ("net,id=net0", &error);
  g_autoptr(HvkDevice) vsock = parse ("vsock,id=v0,cid=3", &error);
  const char *fds[] = { "3", "4", NULL };

  g_assert_no_error (error);
  g_assert_cmpstr (hvk_device_get_id (net), ==, "net0");
  g_assert_cmpstr (hvk_device_get_kind_name (net), ==, "net");
  g_assert_cmpstr (hvk_device_kind_get_name (hvk_device_get_kind (net)), ==, "net");

  /* defaults */
  g_assert_cmpstr (hvk_device_get_string (net, "type"), ==, "tap");
  g_assert_false (hvk_device_has (net, "type"));
  g_assert_cmpuint (hvk_device_get_uint (net, "queues"), ==, 1);
  g_assert_null (hvk_device_get_string (net, "ifname"));
  g_assert_null (hvk_device_get_strv (net, "fds"));
  g_assert_cmpint (hvk_device_get_int (vsock, "vhost_fd"), ==, -1);
  g_assert_cmpuint (hvk_device_get_uint (vsock, "cid"), ==, 3);

  hvk_device_set_string (net, "type", "macvtap");
  g_assert_true (hvk_device_has (net, "type"));
  g_assert_cmpstr (hvk_device_get_string (net, "type"), ==, "macvtap");
  hvk_device_set_string (net, "type", NULL);
  g_assert_false (hvk_device_has (net, "type"));
  g_assert_cmpstr (hvk_device_get_string (net, "type"), ==, "tap");

  hvk_device_set_uint (net, "queues", 4);
  g_assert_cmpuint (hvk_device_get_uint (net, "queues"), ==, 4);
  hvk_device_set_strv (net, "fds", fds);
  g_assert_cmpstrv (hvk_device_get_strv (net, "fds"), fds);
  hvk_device_set_strv (net, "fds", NULL);
  g_assert_false (hvk_device_has (net, "fds"));
  hvk_device_set_int (vsock, "vhost_fd", 7);
  g_assert_cmpint (hvk_device_get_int (vsock, "vhost_fd"), ==, 7);

  {
    g_autoptr(HvkDevice) disk = parse ("block,id=d,path=/x", &error);

    g_assert_false (hvk_device_get_boolean (disk, "readonly"));
    hvk_device_set_boolean (disk, "readonly", TRUE);
    g_assert_true (hvk_device_get_boolean (disk, "readonly"));
    g_assert_cmpstr (hvk_device_get_string (disk, "format"), ==, "raw");
  }
}

static void
test_set_from_string (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) disk = parse ("block,id=disk1,path=/x", &error);
  g_autoptr(HvkDevice) net = parse ("net,id=net0", &error);
  const char *fds[] = { "3", "", "5", NULL };
  static const struct {
    const char *prop;
    const char *text;
    const char *message;
  } bad[] = {
    { "foo", "1", "device 'disk1': unknown property 'foo' for kind 'block'" },
    { "index", "x", "device 'disk1': property 'index': invalid value 'x' (expected an unsigned integer)" },
    { "index", "-1", "device 'disk1': property 'index': invalid value '-1' (expected an unsigned integer)" },
    { "readonly", "maybe", "device 'disk1': property 'readonly': invalid value 'maybe' (expected true or false)" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (hvk_device_set_from_string (disk, bad[i].prop, bad[i].text, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, bad[i].message);
      g_clear_error (&error);
    }
  g_assert_false (hvk_device_has (disk, "index"));

  g_assert_true (hvk_device_set_from_string (disk, "index", "12", &error));
  g_assert_cmpuint (hvk_device_get_uint (disk, "index"), ==, 12);
  g_assert_true (hvk_device_set_from_string (disk, "readonly", "on", &error));
  g_assert_true (hvk_device_get_boolean (disk, "readonly"));
  g_assert_true (hvk_device_set_from_string (disk, "path", "/a,b:c", &error));
  g_assert_cmpstr (hvk_device_get_string (disk, "path"), ==, "/a,b:c");
  g_assert_true (hvk_device_set_from_string (net, "fds", "3::5", &error));
  g_assert_cmpstrv (hvk_device_get_strv (net, "fds"), fds);
  g_assert_true (hvk_device_set_from_string (net, "fds", "", &error));
  g_assert_nonnull (hvk_device_get_strv (net, "fds"));
  g_assert_null (hvk_device_get_strv (net, "fds")[0]);
  g_assert_no_error (error);

  /* enumerated properties of the standard kinds */
  g_assert_false (hvk_device_set_from_string (net, "type", "bridge", &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
                   "device 'net0': property 'type': invalid value 'bridge' (expected tap, macvtap or vhost-user)");
  g_assert_false (hvk_device_has (net, "type"));
}

static void
test_programmer_errors (void)
{
  static const struct { const char *name; const char *stderr_pattern; } cases[] = {
    { "set-unknown", "*unknown property 'foo' for kind 'block'*" },
    { "get-unknown", "*unknown property 'foo' for kind 'block'*" },
    { "set-wrong-type", "*property 'index' of kind 'block' has another type*" },
    { "get-wrong-type", "*property 'path' of kind 'block' has another type*" },
  };

  if (g_test_subprocess ())
    {
      g_autoptr(HvkDevice) disk = parse ("block,id=disk1,path=/x", NULL);
      const char *which = g_getenv ("HVK_TEST_CASE");

      g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
      if (g_str_equal (which, "set-unknown"))
        hvk_device_set_string (disk, "foo", "x");
      else if (g_str_equal (which, "get-unknown"))
        hvk_device_get_boolean (disk, "foo");
      else if (g_str_equal (which, "set-wrong-type"))
        hvk_device_set_string (disk, "index", "1");
      else if (g_str_equal (which, "get-wrong-type"))
        hvk_device_get_uint (disk, "path");
      return;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_setenv ("HVK_TEST_CASE", cases[i].name, TRUE);
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDIN);
      g_test_trap_assert_failed ();
      g_test_trap_assert_stderr (cases[i].stderr_pattern);
    }
  g_unsetenv ("HVK_TEST_CASE");
}

static HvkDeviceKind *
standard_kind (GPtrArray  *kinds,
               const char *name)
{
  for (guint i = 0; i < kinds->len; i++)
    if (g_str_equal (hvk_device_kind_get_name (g_ptr_array_index (kinds, i)), name))
      return g_ptr_array_index (kinds, i);
  g_assert_not_reached ();
}

static void
test_validate (void)
{
  g_autoptr(GPtrArray) kinds = hvk_device_kinds_new_standard ();
  HvkDeviceKind *block = standard_kind (kinds, "block");
  g_autofree char *id64 = g_strnfill (64, 'a');
  g_autofree char *id65 = g_strnfill (65, 'a');
  const char *good_ids[] = { "disk1", "D", "0", "a.b-c_d", id64 };
  const char *bad_ids[] = { "", "-a", ".a", "_a", "a b", "a,b", "a/b", "é", id65 };

  for (gsize i = 0; i < G_N_ELEMENTS (good_ids); i++)
    {
      g_autoptr(HvkDevice) d = hvk_device_new (block, good_ids[i]);
      g_autoptr(GError) error = NULL;

      hvk_device_set_string (d, "path", "/x");
      g_assert_true (hvk_device_validate (d, &error));
      g_assert_no_error (error);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad_ids); i++)
    {
      g_autoptr(HvkDevice) d = hvk_device_new (block, bad_ids[i]);
      g_autoptr(GError) error = NULL;
      g_autofree char *expected = g_strdup_printf ("device '%s' (block): invalid id (" ID_SYNTAX ")",
                                                   bad_ids[i]);

      hvk_device_set_string (d, "path", "/x");
      g_assert_false (hvk_device_validate (d, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, expected);
    }

  /* every required property of every standard kind */
  for (guint i = 0; i < kinds->len; i++)
    {
      HvkDeviceKind *kind = g_ptr_array_index (kinds, i);
      const HvkDevicePropSpec *props;
      guint n_props;

      props = hvk_device_kind_get_props (kind, &n_props);
      for (guint k = 0; k < n_props; k++)
        {
          g_autoptr(HvkDevice) d = NULL;
          g_autoptr(GError) error = NULL;
          g_autofree char *expected = NULL;

          if (!(props[k].flags & HVK_PROP_FLAG_REQUIRED))
            continue;
          /* all other required ones set */
          d = hvk_device_new (kind, "dev1");
          for (guint j = 0; j < n_props; j++)
            if ((props[j].flags & HVK_PROP_FLAG_REQUIRED) && j != k)
              g_assert_true (hvk_device_set_from_string (d, props[j].name, "1", NULL));
          g_assert_false (hvk_device_validate (d, &error));
          expected = g_strdup_printf ("device 'dev1' (%s): missing required property '%s'",
                                      hvk_device_kind_get_name (kind), props[k].name);
          g_assert_cmpstr (error->message, ==, expected);
          g_clear_error (&error);
          g_assert_true (hvk_device_set_from_string (d, props[k].name, "1", NULL));
          g_assert_true (hvk_device_validate (d, &error));
        }
    }

  /* enumerated values set through the typed setters */
  {
    g_autoptr(HvkDevice) fs = hvk_device_new (standard_kind (kinds, "fs"), "fs0");
    g_autoptr(HvkDevice) console = hvk_device_new (standard_kind (kinds, "console"), "c0");
    g_autoptr(GError) error = NULL;

    hvk_device_set_string (fs, "path", "/srv");
    hvk_device_set_string (fs, "tag", "share");
    hvk_device_set_string (fs, "driver", "virtio-9p");
    g_assert_true (hvk_device_validate (fs, &error));
    hvk_device_set_string (fs, "driver", "nfs");
    g_assert_false (hvk_device_validate (fs, &error));
    g_assert_cmpstr (error->message, ==,
                     "device 'fs0' (fs): property 'driver': invalid value 'nfs' (expected virtio-fs or virtio-9p)");
    g_clear_error (&error);

    for (const char * const *b = (const char * const[]) { "socket", "pty", "tty", "file", "stdio", "serial", NULL }; *b; b++)
      {
        hvk_device_set_string (console, "backend", *b);
        g_assert_true (hvk_device_validate (console, &error));
      }
    hvk_device_set_string (console, "backend", "vc");
    g_assert_false (hvk_device_validate (console, &error));
    g_assert_cmpstr (error->message, ==,
                     "device 'c0' (console): property 'backend': invalid value 'vc' "
                     "(expected socket, pty, tty, file, stdio or serial)");
  }
}

/* ---- device strings ---- */

static void
test_string_parse (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) disk = NULL;
  g_autoptr(HvkDevice) net = NULL;
  g_autoptr(HvkDevice) vsock = NULL;
  const char *fds[] = { "3", "4", NULL };

  /* DESIGN.md's example */
  disk = parse ("block,id=disk1,path=/img/disk1.raw,format=raw", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_device_get_kind_name (disk), ==, "block");
  g_assert_cmpstr (hvk_device_get_id (disk), ==, "disk1");
  g_assert_cmpstr (hvk_device_get_string (disk, "path"), ==, "/img/disk1.raw");
  g_assert_true (hvk_device_has (disk, "format"));
  g_assert_false (hvk_device_has (disk, "readonly"));
  g_clear_object (&disk);

  /* id anywhere; `,,` is a literal comma; `=` inside values */
  disk = parse ("block,path=/a,,b,,,,c,readonly=yes,id=d2,serial=x=y", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_device_get_id (disk), ==, "d2");
  g_assert_cmpstr (hvk_device_get_string (disk, "path"), ==, "/a,b,,c");
  g_assert_true (hvk_device_get_boolean (disk, "readonly"));
  g_assert_cmpstr (hvk_device_get_string (disk, "serial"), ==, "x=y");

  net = parse ("net,id=net0,type=vhost-user,fds=3:4,queues=2", &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (hvk_device_get_strv (net, "fds"), fds);
  g_assert_cmpuint (hvk_device_get_uint (net, "queues"), ==, 2);

  vsock = parse ("vsock,id=v,cid=3,vhost_fd=-7", &error);
  g_assert_no_error (error);
  g_assert_cmpint (hvk_device_get_int (vsock, "vhost_fd"), ==, -7);
}

static const struct {
  const char *text;
  const char *message;
} string_errors[] = {
  { "", "empty device string (expected KIND,id=ID,key=value,…)" },
  { "floppy,id=f", "unknown device kind 'floppy'" },
  { "Block,id=f", "unknown device kind 'Block'" },
  { ",id=f,path=/x", "device string ',id=f,path=/x': must start with the device kind" },
  { "id=f,path=/x", "device string 'id=f,path=/x': must start with the device kind" },
  { "block,path=/x", "device string 'block,path=/x': missing id (add id=NAME)" },
  { "block", "device string 'block': missing id (add id=NAME)" },
  { "block,id=,path=/x", "device string 'block,id=,path=/x': invalid id '' (" ID_SYNTAX ")" },
  { "block,id=a b,path=/x", "device string 'block,id=a b,path=/x': invalid id 'a b' (" ID_SYNTAX ")" },
  { "block,id=d,path=/x,readonly", "device string 'block,id=d,path=/x,readonly': 'readonly' is not key=value" },
  { "block,id=d,=x,path=/x", "device string 'block,id=d,=x,path=/x': '=x' has an empty key" },
  { "block,id=d,path=/x,", "device string 'block,id=d,path=/x,': empty element at position 4" },
  /* `,,` escapes: the id is `d,path=/x` */
  { "block,id=d,,path=/x", "device string 'block,id=d,,path=/x': invalid id 'd,path=/x' (" ID_SYNTAX ")" },
  { "block,id=d,path=/x,path=/y", "device string 'block,id=d,path=/x,path=/y': key 'path' given twice" },
  { "block,id=d,id=e,path=/x", "device string 'block,id=d,id=e,path=/x': key 'id' given twice" },
  { "block,id=d,path=/x,foo=1", "device 'd': unknown property 'foo' for kind 'block'" },
  { "block,id=d,path=/x,index=two", "device 'd': property 'index': invalid value 'two' (expected an unsigned integer)" },
  { "block,id=d,format=raw", "device 'd' (block): missing required property 'path'" },
  { "net,id=n,type=bridge", "device 'n': property 'type': invalid value 'bridge' (expected tap, macvtap or vhost-user)" },
  { "kind,id=k", "unknown device kind 'kind'" },
};

static void
test_string_errors (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (string_errors); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HvkDevice) d = parse (string_errors[i].text, &error);

      g_test_message ("%s", string_errors[i].text);
      g_assert_null (d);
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, string_errors[i].message);
    }
}

static void
test_string_round_trip (void)
{
  static const char *texts[] = {
    "block,id=disk1,path=/img/disk1.raw,format=raw",
    "block,id=d2,path=/a,,b,,,,c,readonly=true,index=0,serial=x=y",
    "net,id=net0,type=vhost-user,fds=3:4,queues=2,socket=/run/s",
    "net,id=net1,fds=",
    "vsock,id=v,cid=3,vhost_fd=-7",
    "fs,id=fs0,driver=virtio-9p,path=/srv,tag=share,security_model=mapped",
    "console,id=c0,backend=pty",
    "serial-socket,id=s,path=/run/x.sock,name=org.qemu.guest_agent.0",
    "vfio,id=gpu,host=0000:01:00.0",
    "rng,id=rng0,filename=/dev/urandom,max_bytes=1024,period=1000",
    "memory,id=mem1,size_mb=512,slot=2",
    "cpu,id=cpu1,count=2",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HvkDevice) d = parse (texts[i], &error);
      g_autoptr(HvkDevice) again = NULL;
      g_autofree char *s = NULL;
      g_autofree char *s2 = NULL;

      g_assert_no_error (error);
      s = hvk_device_to_string (d);
      g_assert_cmpstr (s, ==, texts[i]);
      again = parse (s, &error);
      g_assert_no_error (error);
      s2 = hvk_device_to_string (again);
      g_assert_cmpstr (s, ==, s2);
    }

  /* values are written in kind order, booleans as true/false */
  {
    g_autoptr(HvkDevice) d = parse ("block,readonly=on,path=/p,id=x", NULL);
    g_autofree char *s = hvk_device_to_string (d);

    g_assert_cmpstr (s, ==, "block,id=x,path=/p,readonly=true");
  }
}

/* ---- key files ---- */

static void
test_key_file (void)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) d = NULL;
  const char *fds[] = { "3", "4;5", NULL };

  g_assert_true (g_key_file_load_from_data (kf,
    "[device.net0]\nkind=net\nid=net0\nfds=3;4\\;5\nqueues=2\n"
    "[device.disk0]\nkind=block\npath=/a b\\s\nreadonly=1\n"
    "[device.bad]\nkind=block\npath=/x\nindex=-1\n"
    "[device.nokind]\npath=/x\n"
    "[other]\nkind=block\n", -1, G_KEY_FILE_NONE, NULL));

  d = hvk_device_new_from_key_file (NULL, kf, "device.net0", "vm.conf", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_device_get_id (d), ==, "net0");
  g_assert_cmpstrv (hvk_device_get_strv (d, "fds"), fds);
  g_assert_cmpuint (hvk_device_get_uint (d, "queues"), ==, 2);
  g_clear_object (&d);

  d = hvk_device_new_from_key_file (NULL, kf, "device.disk0", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_device_get_string (d, "path"), ==, "/a b ");
  g_assert_true (hvk_device_get_boolean (d, "readonly"));
  g_clear_object (&d);

  d = hvk_device_new_from_key_file (NULL, kf, "device.bad", NULL, &error);
  g_assert_null (d);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_assert_cmpstr (error->message, ==,
                   "<config>: [device.bad] index: invalid value '-1' (expected an unsigned integer)");
  g_clear_error (&error);

  d = hvk_device_new_from_key_file (NULL, kf, "device.nokind", "vm.conf", &error);
  g_assert_cmpstr (error->message, ==, "vm.conf: [device.nokind] kind: missing");
  g_clear_error (&error);

  d = hvk_device_new_from_key_file (NULL, kf, "other", "vm.conf", &error);
  g_assert_cmpstr (error->message, ==, "vm.conf: [other]: not a device group (expected [device.ID])");
  g_clear_error (&error);

  d = hvk_device_new_from_key_file (NULL, kf, "device.absent", "vm.conf", &error);
  g_assert_cmpstr (error->message, ==, "vm.conf: [device.absent]: no such group");
  g_clear_error (&error);
}

/* ---- JSON ---- */

static JsonNode *
json_parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  return node;
}

static void
test_json (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) d = parse ("net,id=net0,type=macvtap,fds=3:4,queues=18446744073709551615", &error);
  g_autoptr(HvkDevice) v = parse ("vsock,id=v,cid=3,vhost_fd=-1", &error);
  g_autoptr(HvkDevice) b = parse ("block,id=b,path=/x,readonly=true", &error);
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *text = NULL;

  node = hvk_device_to_json (d);
  text = json_to_string (node, FALSE);
  g_assert_cmpstr (text, ==,
                   "{\"kind\":\"net\",\"id\":\"net0\",\"props\":{\"type\":\"macvtap\",\"fds\":[\"3\",\"4\"],"
                   "\"queues\":\"18446744073709551615\"}}");
  {
    g_autoptr(HvkDevice) again = hvk_device_new_from_json (NULL, node, &error);
    g_autofree char *s1 = hvk_device_to_string (d);
    g_autofree char *s2 = NULL;

    g_assert_no_error (error);
    s2 = hvk_device_to_string (again);
    g_assert_cmpstr (s1, ==, s2);
  }
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&text, g_free);

  node = hvk_device_to_json (v);
  text = json_to_string (node, FALSE);
  g_assert_cmpstr (text, ==, "{\"kind\":\"vsock\",\"id\":\"v\",\"props\":{\"cid\":3,\"vhost_fd\":-1}}");
  g_clear_pointer (&node, json_node_unref);
  g_clear_pointer (&text, g_free);

  node = hvk_device_to_json (b);
  text = json_to_string (node, FALSE);
  g_assert_cmpstr (text, ==, "{\"kind\":\"block\",\"id\":\"b\",\"props\":{\"path\":\"/x\",\"readonly\":true}}");
  {
    g_autoptr(HvkDevice) again = hvk_device_new_from_json (NULL, node, &error);

    g_assert_no_error (error);
    g_assert_true (hvk_device_get_boolean (again, "readonly"));
  }

  /* props may be omitted or null when nothing is required */
  {
    g_autoptr(JsonNode) n1 = json_parse ("{\"kind\":\"console\",\"id\":\"c\"}");
    g_autoptr(JsonNode) n2 = json_parse ("{\"kind\":\"console\",\"id\":\"c\",\"props\":null}");
    g_autoptr(HvkDevice) c1 = hvk_device_new_from_json (NULL, n1, &error);
    g_autoptr(HvkDevice) c2 = hvk_device_new_from_json (NULL, n2, &error);

    g_assert_no_error (error);
    g_assert_nonnull (c1);
    g_assert_nonnull (c2);
  }
}

static const struct {
  const char *json;
  const char *message;
} json_errors[] = {
  { "[]", "device JSON: expected an object" },
  { "\"block\"", "device JSON: expected an object" },
  { "{\"id\":\"d\"}", "device JSON: missing or non-string 'kind'" },
  { "{\"kind\":1,\"id\":\"d\"}", "device JSON: missing or non-string 'kind'" },
  { "{\"kind\":\"block\"}", "device JSON: missing or non-string 'id'" },
  { "{\"kind\":\"block\",\"id\":\"d\",\"extra\":1}", "device JSON: unknown member 'extra'" },
  { "{\"kind\":\"floppy\",\"id\":\"d\"}", "unknown device kind 'floppy'" },
  { "{\"kind\":\"block\",\"id\":\"d\",\"props\":[]}", "device 'd': 'props' must be an object" },
  { "{\"kind\":\"block\",\"id\":\"d\",\"props\":{\"path\":\"/x\",\"foo\":1}}",
    "device 'd': unknown property 'foo' for kind 'block'" },
  { "{\"kind\":\"block\",\"id\":\"d\",\"props\":{\"path\":1}}", "device 'd': property 'path' must be a string" },
  { "{\"kind\":\"block\",\"id\":\"d\",\"props\":{\"path\":\"/x\",\"readonly\":\"true\"}}",
    "device 'd': property 'readonly' must be a boolean" },
  { "{\"kind\":\"block\",\"id\":\"d\",\"props\":{\"path\":\"/x\",\"index\":-1}}",
    "device 'd': property 'index' must be a non-negative integer" },
  { "{\"kind\":\"block\",\"id\":\"d\",\"props\":{\"path\":\"/x\",\"index\":1.5}}",
    "device 'd': property 'index' must be a non-negative integer" },
  { "{\"kind\":\"vsock\",\"id\":\"d\",\"props\":{\"cid\":3,\"vhost_fd\":\"3\"}}",
    "device 'd': property 'vhost_fd' must be an integer" },
  { "{\"kind\":\"net\",\"id\":\"d\",\"props\":{\"fds\":[\"3\",4]}}",
    "device 'd': property 'fds' must be an array of strings" },
  { "{\"kind\":\"net\",\"id\":\"d\",\"props\":{\"fds\":\"3\"}}",
    "device 'd': property 'fds' must be an array of strings" },
  { "{\"kind\":\"net\",\"id\":\"d\",\"props\":{\"type\":\"bridge\"}}",
    "device 'd': property 'type': invalid value 'bridge' (expected tap, macvtap or vhost-user)" },
  { "{\"kind\":\"block\",\"id\":\"d\",\"props\":{}}", "device 'd' (block): missing required property 'path'" },
  { "{\"kind\":\"block\",\"id\":\"-d\",\"props\":{\"path\":\"/x\"}}",
    "device '-d' (block): invalid id (" ID_SYNTAX ")" },
};

static void
test_json_errors (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (json_errors); i++)
    {
      g_autoptr(JsonNode) node = json_parse (json_errors[i].json);
      g_autoptr(GError) error = NULL;
      g_autoptr(HvkDevice) d = hvk_device_new_from_json (NULL, node, &error);

      g_test_message ("%s", json_errors[i].json);
      g_assert_null (d);
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, json_errors[i].message);
    }
}

static void
test_copy (void)
{
  g_autoptr(HvkDevice) d = parse ("net,id=n,fds=1:2,ifname=tap0", NULL);
  g_autoptr(HvkDevice) copy = hvk_device_copy (d);
  g_autofree char *s1 = NULL;
  g_autofree char *s2 = NULL;

  g_assert_true (copy != d);
  g_assert_true (hvk_device_get_kind (copy) == hvk_device_get_kind (d));
  s1 = hvk_device_to_string (d);
  s2 = hvk_device_to_string (copy);
  g_assert_cmpstr (s1, ==, s2);

  hvk_device_set_string (copy, "ifname", "tap1");
  g_assert_cmpstr (hvk_device_get_string (d, "ifname"), ==, "tap0");
  g_assert_cmpstr (hvk_device_get_string (copy, "ifname"), ==, "tap1");
}

static void
test_registry (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) d = NULL;
  g_autoptr(JsonNode) node = NULL;

  d = hvk_device_new_from_string (registry, "block,id=d,path=/x", &error);
  g_assert_no_error (error);
  g_assert_true (hvk_device_get_kind (d) == hvk_registry_lookup_device_kind (registry, "block"));

  node = hvk_device_to_json (d);
  g_clear_object (&d);
  d = hvk_device_new_from_json (registry, node, &error);
  g_assert_no_error (error);
  g_clear_object (&d);

  d = hvk_device_new_from_string (registry, "widget,id=w", &error);
  g_assert_null (d);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "unknown device kind 'widget'");
}

/* Paths are made absolute against the current directory where they are
 * given: QEMU runs daemonized with / as its current directory, and
 * checks ran against ours. */
static void
test_relative_paths (void)
{
  static const HvkDevicePropSpec spec[] = {
    { "files", HVK_PROP_STRV, HVK_PROP_FLAG_PATH, NULL, "files" },
    { "names", HVK_PROP_STRV, HVK_PROP_FLAG_NONE, NULL, "not files" },
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *old_cwd = g_get_current_dir ();
  g_autofree char *tmp = g_dir_make_tmp ("hvk-device-XXXXXX", &error);
  g_autofree char *cwd = NULL;
  g_autofree char *disk = NULL;
  g_autofree char *share = NULL;
  g_autofree char *sock = NULL;
  g_autofree char *up = NULL;
  g_autofree char *text = NULL;
  g_autoptr(HvkDevice) block = NULL;
  g_autoptr(HvkDevice) fs = NULL;
  g_autoptr(HvkDevice) rng = NULL;
  g_autoptr(HvkDevice) copy = NULL;
  g_autoptr(HvkDevice) again = NULL;
  g_autoptr(HvkDevice) custom = NULL;
  g_autoptr(HvkDeviceKind) kind = NULL;
  g_autoptr(JsonNode) json = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (g_chdir (tmp), ==, 0);
  cwd = g_get_current_dir ();
  disk = g_build_filename (cwd, "disk.img", NULL);
  share = g_build_filename (cwd, "share", NULL);
  sock = g_build_filename (cwd, "run", "fs.sock", NULL);
  up = g_build_filename (cwd, "..", "rnd", NULL);

  block = parse ("block,id=d1,path=disk.img,serial=disk.img", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_device_get_string (block, "path"), ==, disk);
  g_assert_cmpstr (hvk_device_get_string (block, "serial"), ==, "disk.img");
  fs = parse ("fs,id=f1,path=./share,tag=share,socket=././run/fs.sock", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_device_get_string (fs, "path"), ==, share);
  g_assert_cmpstr (hvk_device_get_string (fs, "tag"), ==, "share");
  g_assert_cmpstr (hvk_device_get_string (fs, "socket"), ==, sock);
  /* `..` is kept: through a symlink it is not the lexical parent */
  rng = parse ("rng,id=r1,filename=../rnd", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_device_get_string (rng, "filename"), ==, up);
  g_assert_true (hvk_device_set_from_string (block, "path", "/dev/vdb", &error));
  g_assert_cmpstr (hvk_device_get_string (block, "path"), ==, "/dev/vdb");
  hvk_device_set_string (block, "path", "disk.img");
  g_assert_cmpstr (hvk_device_get_string (block, "path"), ==, disk);
  hvk_device_set_string (block, "path", "");
  g_assert_cmpstr (hvk_device_get_string (block, "path"), ==, "");
  hvk_device_set_string (block, "path", "disk.img");

  kind = hvk_device_kind_new ("bundle", NULL, spec, G_N_ELEMENTS (spec), &error);
  g_assert_no_error (error);
  custom = hvk_device_new (kind, "b1");
  g_assert_true (hvk_device_set_from_string (custom, "files", "disk.img:/abs:./share", &error));
  g_assert_true (hvk_device_set_from_string (custom, "names", "disk.img:x", &error));
  g_assert_cmpstrv (hvk_device_get_strv (custom, "files"),
                    ((const char * const[]) { disk, "/abs", share, NULL }));
  g_assert_cmpstrv (hvk_device_get_strv (custom, "names"),
                    ((const char * const[]) { "disk.img", "x", NULL }));

  /* stored absolute: the same from any directory */
  text = hvk_device_to_string (block);
  json = hvk_device_to_json (fs);
  g_assert_cmpint (g_chdir ("/"), ==, 0);
  copy = hvk_device_copy (block);
  g_assert_cmpstr (hvk_device_get_string (copy, "path"), ==, disk);
  again = parse (text, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_device_get_string (again, "path"), ==, disk);
  g_clear_object (&again);
  again = hvk_device_new_from_json (NULL, json, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_device_get_string (again, "socket"), ==, sock);

  g_assert_cmpint (g_chdir (old_cwd), ==, 0);
  g_rmdir (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hvk/device/kind/new", test_kind_new);
  g_test_add_func ("/hvk/device/kind/errors", test_kind_errors);
  g_test_add_func ("/hvk/device/kind/standard", test_standard_kinds);
  g_test_add_func ("/hvk/device/get-set", test_get_set);
  g_test_add_func ("/hvk/device/set-from-string", test_set_from_string);
  g_test_add_func ("/hvk/device/programmer-errors", test_programmer_errors);
  g_test_add_func ("/hvk/device/validate", test_validate);
  g_test_add_func ("/hvk/device/string/parse", test_string_parse);
  g_test_add_func ("/hvk/device/string/errors", test_string_errors);
  g_test_add_func ("/hvk/device/string/round-trip", test_string_round_trip);
  g_test_add_func ("/hvk/device/key-file", test_key_file);
  g_test_add_func ("/hvk/device/json", test_json);
  g_test_add_func ("/hvk/device/json-errors", test_json_errors);
  g_test_add_func ("/hvk/device/copy", test_copy);
  g_test_add_func ("/hvk/device/relative-paths", test_relative_paths);
  g_test_add_func ("/hvk/device/registry", test_registry);

  return g_test_run ();
}
