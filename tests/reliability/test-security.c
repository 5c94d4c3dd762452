/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "rel-common.h"

/* Security checks: option values cannot inject QEMU options (commas are
 * escaped, or refused where the VMM cannot escape them), control
 * characters are refused, quoted kernel params stay one param, the
 * allow-lists cover every binary and file hvkit launches or opens (their
 * defaults included), VM ids are restricted everywhere, files and
 * sockets are owner-only, over-long socket paths are refused, a VM dir
 * replaced by a symlink is not followed and a state dir others may write
 * to (or another user's) is refused. */

#define INJECT ",inject=on"

static RelEnv env;
static HvkRegistry *registry;
static char *comma_dir;    /* TMP/c,inject=on */
static char *comma_file;   /* TMP/c,inject=on/disk.img */

/* ---- helpers ---- */

static GError *
create (const char     *conf,
        const char     *store,
        const char     *id,
        HvkDevice      *device,
        HvkHypervisor **out)
{
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  GError *error = NULL;

  config = hvk_config_new_from_file (conf, registry, &error);
  if (config == NULL)
    return error;
  hvk_config_set_vm_store_path (config, store ? store : env.store);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  if (hypervisor == NULL)
    return error;
  /* Cold-plugging is legal between create_vm() and start_vm(). */
  if (!hvk_hypervisor_create_vm (hypervisor, id, config, &error))
    return error;
  if (device != NULL && !hvk_hypervisor_add_device (hypervisor, device, &error))
    {
      hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, NULL);
      hvk_hypervisor_cleanup (hypervisor, NULL);
      return error;
    }
  if (out != NULL)
    *out = g_steal_pointer (&hypervisor);
  else
    {
      hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, NULL);
      hvk_hypervisor_cleanup (hypervisor, NULL);
    }
  return NULL;
}

static GStrv
vm_argv (HvkHypervisor *hypervisor)
{
  g_autoptr(GError) error = NULL;
  GStrv argv = NULL;

  g_assert_true (hvk_hypervisor_get_launch_command (hypervisor, &argv, NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (argv);
  return argv;
}

/* QEMU's option-list split: ",," is a literal comma. */
static GPtrArray *
split_opts (const char *value)
{
  GPtrArray *parts = g_ptr_array_new_with_free_func (g_free);
  GString *cur = g_string_new (NULL);

  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == ',' && p[1] == ',')
        {
          g_string_append_c (cur, ',');
          p++;
        }
      else if (*p == ',')
        {
          g_ptr_array_add (parts, g_string_free (cur, FALSE));
          cur = g_string_new (NULL);
        }
      else
        g_string_append_c (cur, *p);
    }
  g_ptr_array_add (parts, g_string_free (cur, FALSE));
  return parts;
}

/* Options whose value QEMU takes verbatim, not as a comma list. */
static gboolean
plain_option (const char *option)
{
  static const char * const plain[] = { "-kernel", "-initrd", "-append", "-pidfile",
                                        "-bios", "-uuid", "-D", "-L", NULL };

  return option != NULL && g_strv_contains (plain, option);
}

/* No option list of @argv has an element that starts with "inject":
 * every comma of a value was escaped.  Returns how many values carried
 * the marker (so a test sees it did reach the command line). */
static guint
assert_no_injection (const char * const *argv)
{
  guint seen = 0;

  for (guint i = 1; argv[i] != NULL; i++)
    {
      g_autoptr(GPtrArray) parts = NULL;

      if (strstr (argv[i], "inject=on") == NULL)
        continue;
      seen++;
      if (plain_option (argv[i - 1]))
        {
          /* Verbatim: the path itself, not an escaped one. */
          g_assert_null (strstr (argv[i], ",,"));
          continue;
        }
      parts = split_opts (argv[i]);
      for (guint j = 0; j < parts->len; j++)
        {
          if (g_str_has_prefix (g_ptr_array_index (parts, j), "inject"))
            g_error ("option injected: %s %s", argv[i - 1], argv[i]);
        }
    }
  return seen;
}

/* ---- commas ---- */

/* Config-level strings: kernel and initrd paths, the state dir (so every
 * socket and the pid file), machine type, CPU features. */
static void
test_comma_config (void)
{
  g_autofree char *kernel = g_build_filename (comma_dir, "vmlinuz", NULL);
  g_autofree char *store = g_build_filename (env.tmpdir, "s" INJECT, NULL);
  g_autofree char *extra = g_strdup_printf ("kernel=%s\ninitrd=%s\n", kernel, comma_file);
  g_autofree char *conf = rel_write_config (&env, "commas", extra);
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = NULL;
  guint seen;

  g_file_set_contents (kernel, "", 0, &error);
  g_assert_no_error (error);
  error = create (conf, store, "commas", NULL, &hypervisor);
  g_assert_no_error (error);
  argv = vm_argv (hypervisor);
  seen = assert_no_injection ((const char * const *) argv);
  /* kernel, initrd, pidfile, qmp, console chardev at least. */
  g_assert_cmpuint (seen, >=, 5);
  hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, NULL);
  hvk_hypervisor_cleanup (hypervisor, NULL);

  /* (cpu_features and machine_accelerators are comma lists by design,
   * as in Kata: their commas are QEMU's, inside -cpu and -machine.) */
  for (const char * const *kv = (const char * const[]) {
         "machine_type=q35" INJECT, "vhost_user_store_path=/tmp/v" INJECT, NULL };
       *kv != NULL; kv++)
    {
      g_autofree char *c = rel_write_config (&env, "commas2", *kv);
      g_autoptr(HvkHypervisor) h = NULL;
      g_autoptr(GError) e = create (c, NULL, "commas2", NULL, &h);

      if (e != NULL)
        {
          g_test_message ("%s refused: %s", *kv, e->message);
          continue;
        }
      {
        g_auto(GStrv) a = vm_argv (h);
        g_test_message ("%s: %u values carry it", *kv,
                        assert_no_injection ((const char * const *) a));
      }
      hvk_hypervisor_stop_vm (h, FALSE, NULL, NULL);
      hvk_hypervisor_cleanup (h, NULL);
    }
}

/* A value for a required property that the appender will accept. */
static const char *
required_value (const char *kind,
                const char *prop)
{
  if (g_str_equal (prop, "path"))
    return g_str_equal (kind, "fs") ? comma_dir : comma_file;
  if (g_str_equal (prop, "tag"))
    return "tag0";
  if (g_str_equal (prop, "name"))
    return "port0";
  if (g_str_equal (prop, "host"))
    return "0000:00:1f.0";
  return "x";
}

/* Every string property of every device kind: set to a value with a
 * comma; the VM is either refused or its argv carries the comma escaped. */
static void
test_comma_devices (void)
{
  g_autoptr(GPtrArray) kinds = hvk_registry_get_device_kinds (registry);
  g_autofree char *shared = g_strdup_printf ("file_mem_backend=%s", env.tmpdir);
  g_autofree char *conf = rel_write_config (&env, "devcommas", shared);
  guint escaped = 0, refused = 0;

  for (guint k = 0; k < kinds->len; k++)
    {
      HvkDeviceKind *kind = g_ptr_array_index (kinds, k);
      const char *kind_name = hvk_device_kind_get_name (kind);
      const HvkDevicePropSpec *props;
      guint n_props = 0;

      props = hvk_device_kind_get_props (kind, &n_props);
      for (guint p = 0; p < n_props + 1; p++)
        {
          g_autoptr(HvkDevice) device = NULL;
          g_autoptr(HvkHypervisor) hypervisor = NULL;
          g_autoptr(GError) error = NULL;
          g_autofree char *value = NULL;
          const char *target = p < n_props ? props[p].name : "id";

          if (p < n_props && props[p].type != HVK_PROP_STRING)
            continue;
          device = hvk_device_new (kind, p < n_props ? "dev0" : "dev" INJECT);
          for (guint r = 0; r < n_props; r++)
            if ((props[r].flags & HVK_PROP_FLAG_REQUIRED) && props[r].type == HVK_PROP_STRING)
              hvk_device_set_string (device, props[r].name, required_value (kind_name, props[r].name));
            else if ((props[r].flags & HVK_PROP_FLAG_REQUIRED) && props[r].type == HVK_PROP_UINT)
              hvk_device_set_uint (device, props[r].name, 1);
          if (p < n_props)
            {
              if (g_str_equal (target, "path") || g_str_equal (target, "socket")
                  || g_str_equal (target, "filename"))
                value = g_build_filename (comma_dir, g_str_equal (kind_name, "fs") ? "" : "disk.img", NULL);
              else
                value = g_strconcat (props[p].default_value ? props[p].default_value : "v", INJECT, NULL);
              hvk_device_set_string (device, target, value);
            }

          error = create (conf, NULL, "devcommas", device, &hypervisor);
          if (error != NULL)
            {
              g_test_message ("%s.%s refused: %s", kind_name, target, error->message);
              refused++;
              continue;
            }
          {
            g_auto(GStrv) argv = vm_argv (hypervisor);
            guint seen = assert_no_injection ((const char * const *) argv);

            g_test_message ("%s.%s: escaped (%u values)", kind_name, target, seen);
            escaped += seen > 0;
          }
          hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, NULL);
          hvk_hypervisor_cleanup (hypervisor, NULL);
        }
    }
  g_test_message ("string properties with a comma: %u escaped, %u refused", escaped, refused);
  g_assert_cmpuint (escaped, >, 5);
}

/* virtiofsd's -o source=PATH is a comma list too: a shared_path with a
 * comma is refused before the daemon runs. */
static void
test_comma_virtiofsd (void)
{
  g_autofree char *extra = g_strdup_printf ("shared_fs=virtio-fs\nshared_path=%s\n"
                                            "virtio_fs_daemon=/bin/true\nfile_mem_backend=",
                                            comma_dir);
  g_autofree char *conf = rel_write_config (&env, "vfscomma", extra);
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;

  error = create (conf, NULL, "vfscomma", NULL, &hypervisor);
  g_assert_no_error (error);
  g_assert_false (hvk_hypervisor_start_vm (hypervisor, 20000, NULL, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "shared_path"));
  g_assert_nonnull (strstr (error->message, comma_dir));
  hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, NULL);
  hvk_hypervisor_cleanup (hypervisor, NULL);
  rel_assert_nothing_left (&env, "vfscomma");
}

/* ACRN cannot escape commas in acrn-dm's -s slot,emul,config: refused. */
static void
test_comma_acrn (void)
{
  g_autofree char *dm = g_build_filename (g_getenv ("HVK_ACRN_FAKE_DIR"), "fake-acrn-dm", NULL);
  g_autofree char *ctl = g_build_filename (g_getenv ("HVK_ACRN_FAKE_DIR"), "fake-acrnctl", NULL);
  g_autofree char *conf = g_build_filename (env.tmpdir, "acrn.conf", NULL);
  g_autofree char *text = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  text = g_strdup_printf ("[hypervisor]\nbackend=acrn\n\n[hypervisor.acrn]\npath=%s\nctlpath=%s\n"
                          "kernel=%s\nimage=%s\ndefault_maxvcpus=1\ndefault_memory=256\n"
                          "block_device_driver=virtio-blk\n", dm, ctl, env.kernel, comma_file);
  g_file_set_contents (conf, text, -1, &error);
  g_assert_no_error (error);
  status = rel_run_tool (&env, &out, &err, "argv", "-c", conf, "--id", "ac1", "--json", NULL);
  if (status == 0)
    {
      g_autoptr(JsonNode) node = json_from_string (out, &error);
      JsonArray *array;

      g_assert_no_error (error);
      array = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          const char *arg = json_array_get_string_element (array, i);
          g_autoptr(GPtrArray) parts = split_opts (arg);

          /* acrn-dm has no escape: a comma must not reach it at all. */
          g_assert_null (strstr (arg, "inject=on"));
          (void) parts;
        }
    }
  else
    {
      g_assert_cmpint (status, ==, 2);
      g_assert_nonnull (strstr (err, ","));
    }
}

/* ---- control characters ---- */

static void
test_control_characters (void)
{
  /* Key-file escapes: \\n is a newline in the value.  "%d" is the test's
   * dir, where files with those names exist: only the control character
   * can make them fail. */
  static const char * const config_values[] = {
    "kernel=%d/k\\nb", "kernel_params=foo=1\\nbar=2", "machine_type=q35\\t",
    "initrd=%d/i\\rb", "kernel=%d/k\\x", NULL,
  };
  g_autofree char *k_file = g_build_filename (env.tmpdir, "k\nb", NULL);
  g_autofree char *i_file = g_build_filename (env.tmpdir, "i\rb", NULL);

  g_file_set_contents (k_file, "", 0, NULL);
  g_file_set_contents (i_file, "", 0, NULL);
  static const char * const devices[] = {
    "block,id=d1,path=/tmp/x\ny,format=raw", "block,id=d\n1,path=/tmp/x",
    "net,id=n1,ifname=tap\n0", "fs,id=f1,path=/tmp,tag=t\x01", "block,id=d1,path=/tmp/x\x7f",
    NULL,
  };

  for (const char * const *kv = config_values; *kv != NULL; kv++)
    {
      g_auto(GStrv) parts = g_strsplit (*kv, "%d", -1);
      g_autofree char *line = g_strjoinv (env.tmpdir, parts);
      g_autofree char *conf = rel_write_config (&env, "ctl", line);
      g_autoptr(GError) error = create (conf, NULL, "ctl", NULL, NULL);
      g_autofree char *shown = NULL;

      g_assert_nonnull (error);
      shown = g_strescape (error->message, NULL);
      g_test_message ("%s: %s", *kv, shown);
      g_assert_true (error->domain == HVK_ERROR);
      if (strstr (*kv, "\\x") == NULL)
        g_assert_nonnull (strstr (error->message, "control character"));
    }
  for (const char * const *d = devices; *d != NULL; d++)
    {
      g_autofree char *conf = rel_write_config (&env, "ctl", NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(HvkDevice) device = hvk_device_new_from_string (registry, *d, &error);

      if (device != NULL)
        {
          g_clear_error (&error);
          error = create (conf, NULL, "ctl", device, NULL);
        }
      g_assert_nonnull (error);
      {
        g_autofree char *shown = g_strescape (*d, NULL);
        g_test_message ("device %s: %s", shown, error->message);
      }
    }
  rel_assert_nothing_left (&env, "ctl");
}

/* ---- kernel params ---- */

static void
test_kernel_param_quotes (void)
{
  g_autofree char *conf = rel_write_config (&env, "quotes",
                                            "kernel_params=a=1 msg=\"two words=x y\" b=2");
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cmdline = NULL;
  g_auto(GStrv) fields = NULL;
  g_auto(GStrv) argv = NULL;
  gboolean found = FALSE;

  error = create (conf, NULL, "quotes", NULL, &hypervisor);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_get_launch_command (hypervisor, NULL, &cmdline, &error));
  g_assert_no_error (error);
  g_test_message ("%s", cmdline);
  fields = hvk_kernel_param_fields (cmdline);
  for (guint i = 0; fields[i] != NULL; i++)
    {
      g_assert_false (g_str_equal (fields[i], "y\""));
      g_assert_false (g_str_has_prefix (fields[i], "words="));
      if (g_str_equal (fields[i], "msg=\"two words=x y\""))
        found = TRUE;
    }
  g_assert_true (found);
  /* One -append argument, the whole command line. */
  argv = vm_argv (hypervisor);
  for (guint i = 0; argv[i] != NULL; i++)
    if (g_str_equal (argv[i], "-append"))
      g_assert_cmpstr (argv[i + 1], ==, cmdline);
  hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, NULL);
  hvk_hypervisor_cleanup (hypervisor, NULL);

  /* An unbalanced quote is not silently glued to the next param. */
  {
    g_auto(GStrv) f = hvk_kernel_param_fields ("a=\"x y b=2");
    g_test_message ("unbalanced: %u fields", g_strv_length (f));
  }
}

/* ---- allow-lists ---- */

typedef struct {
  const char *name;
  const char *lines;   /* config lines; "%d" is replaced by a dir of the test */
  const char *needle;
} AllowCase;

static const AllowCase allow_cases[] = {
  { "hypervisor-path", "valid_hypervisor_paths=/nonexistent/*", "valid_hypervisor_paths" },
  { "hypervisor-default", "path=\nvalid_hypervisor_paths=/nonexistent/*", "valid_hypervisor_paths" },
  /* qemu runs QEMU under a jailer the list allows (mock and acrn refuse
   * jailer_path: tests/python/test-gi.py, tests/acrn). */
  { "jailer", "jailer_path=/bin/true\nvalid_jailer_paths=/nonexistent/*",
    "jailer_path: '/bin/true' is not in valid_jailer_paths" },
  { "virtiofsd", "shared_fs=virtio-fs\nshared_path=%d\nvirtio_fs_daemon=/bin/true\n"
    "valid_virtio_fs_daemon_paths=/nonexistent/*\nfile_mem_backend=", "valid_virtio_fs_daemon_paths" },
  { "virtiofsd-default", "shared_fs=virtio-fs\nshared_path=%d\n"
    "valid_virtio_fs_daemon_paths=/nonexistent/*\nfile_mem_backend=", "valid_virtio_fs_daemon_paths" },
  { "entropy", "entropy_source=/dev/urandom\nvalid_entropy_sources=/dev/hwrng", "valid_entropy_sources" },
  { "file-mem", "file_mem_backend=%d\nvalid_file_mem_backends=/nonexistent/*", "valid_file_mem_backends" },
};

static void
test_allow_list (gconstpointer data)
{
  const AllowCase *c = data;
  g_auto(GStrv) parts = g_strsplit (c->lines, "%d", -1);
  g_autofree char *lines = g_strjoinv (env.tmpdir, parts);
  g_autofree char *conf = rel_write_config (&env, "allow", NULL);
  g_autofree char *text = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;

  /* The case's lines replace the defaults of rel_write_config(). */
  g_assert_true (g_file_get_contents (conf, &text, NULL, NULL));
  {
    g_auto(GStrv) mine = g_strsplit (lines, "\n", -1);
    g_auto(GStrv) theirs = g_strsplit (text, "\n", -1);
    g_autoptr(GString) out = g_string_new (NULL);

    for (guint i = 0; theirs[i] != NULL; i++)
      {
        gboolean replaced = FALSE;

        for (guint j = 0; mine[j] != NULL; j++)
          {
            const char *eq = strchr (mine[j], '=');
            if (eq != NULL && strncmp (theirs[i], mine[j], eq - mine[j] + 1) == 0)
              replaced = TRUE;
          }
        if (!replaced)
          g_string_append_printf (out, "%s\n", theirs[i]);
      }
    g_string_append_printf (out, "%s\n", lines);
    g_file_set_contents (conf, out->str, -1, &error);
    g_assert_no_error (error);
  }

  error = create (conf, NULL, "allow", NULL, &hypervisor);
  if (error == NULL)
    {
      /* Some lists are only checked when the file is used: at start. */
      hvk_hypervisor_start_vm (hypervisor, 20000, NULL, &error);
      hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, NULL);
      hvk_hypervisor_cleanup (hypervisor, NULL);
    }
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_true (error->domain == HVK_ERROR);
  g_assert_nonnull (strstr (error->message, c->needle));
  rel_assert_nothing_left (&env, "allow");
}

/* A device's own entropy source obeys valid_entropy_sources. */
static void
test_allow_list_rng_device (void)
{
  g_autofree char *conf = rel_write_config (&env, "rng", "valid_entropy_sources=/dev/urandom");
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) device = hvk_device_new_from_string (registry, "rng,id=rng9,filename=/etc/shadow", &error);

  g_assert_no_error (error);
  error = create (conf, NULL, "rng", device, NULL);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "valid_entropy_sources"));
  g_assert_nonnull (strstr (error->message, "/etc/shadow"));
  rel_assert_nothing_left (&env, "rng");
}

/* ACRN: ctlpath (acrnctl) and path (acrn-dm), defaults included. */
static void
test_allow_list_acrn (void)
{
  g_autofree char *dm = g_build_filename (g_getenv ("HVK_ACRN_FAKE_DIR"), "fake-acrn-dm", NULL);
  g_autofree char *ctl = g_build_filename (g_getenv ("HVK_ACRN_FAKE_DIR"), "fake-acrnctl", NULL);
  const char *cases[][2] = {
    { "ctlpath=%c\nvalid_ctlpaths=/nonexistent/*", "valid_ctlpaths" },
    { "valid_ctlpaths=/nonexistent/*", "valid_ctlpaths" },          /* default acrnctl */
    { "ctlpath=%c\npath=%p\nvalid_hypervisor_paths=/nonexistent/*", "valid_hypervisor_paths" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *conf = g_build_filename (env.tmpdir, "acrn-allow.conf", NULL);
      g_auto(GStrv) p1 = g_strsplit (cases[i][0], "%c", -1);
      g_autofree char *l1 = g_strjoinv (ctl, p1);
      g_auto(GStrv) p2 = g_strsplit (l1, "%p", -1);
      g_autofree char *lines = g_strjoinv (dm, p2);
      g_autofree char *text = NULL;
      g_autoptr(GError) error = NULL;

      text = g_strdup_printf ("[hypervisor]\nbackend=acrn\n\n[hypervisor.acrn]\n%s%s\n"
                              "kernel=%s\nimage=%s\ndefault_maxvcpus=1\ndefault_memory=256\n"
                              "%s\n", strstr (lines, "path=") == lines || strstr (lines, "\npath=") ? "" : "path=",
                              strstr (lines, "path=") == lines || strstr (lines, "\npath=") ? "" : dm,
                              env.kernel, env.disk, lines);
      g_file_set_contents (conf, text, -1, &error);
      g_assert_no_error (error);
      error = create (conf, NULL, "acrnvm", NULL, NULL);
      g_assert_nonnull (error);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, cases[i][1]));
    }
  rel_assert_nothing_left (&env, "acrnvm");
}

/* ---- VM ids ---- */

static const char * const bad_ids[] = {
  "..", "../etc", "a/b", "/abs", "a..b", ".hidden", "-dash", "with space", "semi;colon",
  "new\nline", "",
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",  /* 65 */
  NULL,
};

static void
test_vm_ids (void)
{
  g_autofree char *conf = rel_write_config (&env, "ids", NULL);

  for (const char * const *id = bad_ids; *id != NULL; id++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *err = NULL;
      g_autofree char *out = NULL;
      g_autofree char *escaped = g_strescape (*id, NULL);

      /* API: create_vm and every store function. */
      error = create (conf, NULL, *id, NULL, NULL);
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
      g_assert_null (hvk_vm_store_ensure_dir (env.store, *id, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
      g_assert_null (hvk_vm_store_read_state (env.store, *id, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
      g_assert_null (hvk_vm_store_load_hypervisor (env.store, *id, registry, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
      g_assert_false (hvk_vm_store_remove_dir (env.store, *id, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
      g_assert_null (hvk_vm_store_lock (env.store, *id, FALSE, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
      g_assert_null (hvk_vm_store_socket_path (env.store, *id, "qmp.sock", &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);

      /* Tool: a bad command line (2), whatever the command. */
      for (const char * const *cmd = (const char * const[]) { "status", "pause", "resume", "stop", "console", NULL };
           *cmd != NULL; cmd++)
        {
          g_clear_pointer (&err, g_free);
          g_assert_cmpint (rel_run_tool (&env, NULL, &err, *cmd, *id, NULL), ==, 2);
          g_assert_true (g_str_has_prefix (err, "hvkit: error: "));
        }
      g_clear_pointer (&err, g_free);
      g_assert_cmpint (rel_run_tool (&env, NULL, &err, "start", "-c", conf, "--id", *id, NULL), ==, 2);
      g_clear_pointer (&err, g_free);
      g_assert_cmpint (rel_run_tool (&env, NULL, &err, "hotplug", *id, "--device", "rng,id=r1", NULL), ==, 2);
      g_test_message ("id '%s' refused", escaped);
    }
  /* The longest allowed id works. */
  {
    g_autofree char *longest = g_strnfill (HVK_VM_ID_MAX_LEN, 'a');
    g_autoptr(GError) error = NULL;

    g_assert_true (hvk_vm_id_validate (longest, &error));
  }
  /* Nothing was created anywhere for them. */
  {
    g_autoptr(GDir) dir = g_dir_open (env.store, 0, NULL);

    g_assert_true (dir == NULL || g_dir_read_name (dir) == NULL);
  }
  /* The store's listing skips a dir named like no VM could be. */
  {
    g_autofree char *odd = g_build_filename (env.store, ".odd", NULL);
    g_autofree char *state = g_build_filename (odd, HVK_VM_STATE_FILE, NULL);
    g_auto(GStrv) ids = NULL;

    g_mkdir_with_parents (odd, 0700);
    g_file_set_contents (state, "{}", -1, NULL);
    ids = hvk_vm_store_list (env.store);
    g_assert_cmpuint (g_strv_length (ids), ==, 0);
    rel_remove_tree (odd);
  }
}

/* ---- modes ---- */

/* Appends to @problems what is not @want; no assertion, so that the
 * caller stops the VM before failing. */
static void
check_mode (GString    *problems,
            const char *path,
            guint       want)
{
  struct stat st;

  if (lstat (path, &st) != 0)
    {
      g_string_append_printf (problems, "%s: missing; ", path);
      return;
    }
  g_test_message ("%s: %o", path, st.st_mode & 07777);
  if ((st.st_mode & 07777) != want)
    g_string_append_printf (problems, "%s has mode %o, expected %o; ",
                            path, st.st_mode & 07777, want);
}

/* The store and VM dir 0700, every file and socket in it 0600. */
static char *
check_vm_modes (const char *store,
                const char *id)
{
  g_autofree char *dir = g_build_filename (store, id, NULL);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  GString *problems = g_string_new (NULL);
  const char *name;

  check_mode (problems, store, 0700);
  check_mode (problems, dir, 0700);
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      struct stat st;

      if (lstat (path, &st) == 0)
        check_mode (problems, path, S_ISDIR (st.st_mode) ? 0700 : 0600);
    }
  return g_string_free (problems, FALSE);
}

static void
test_modes_fake (void)
{
  g_autofree char *conf = rel_write_config (&env, "modes", NULL);
  g_autofree char *qmp = g_build_filename (env.store, "modes", "qmp.sock", NULL);
  g_autofree char *pid = g_build_filename (env.store, "modes", "pid", NULL);
  g_autofree char *state = g_build_filename (env.store, "modes", HVK_VM_STATE_FILE, NULL);
  g_autofree char *problems = NULL;
  mode_t old = umask (0);

  g_setenv ("HVK_FAKE_QEMU_MODE", "", TRUE);
  /* With umask 0 everything hvkit (or the VMM) makes lax would show. */
  g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "start", "-c", conf, "--id", "modes", NULL), ==, 0);
  umask (old);
  g_assert_true (g_file_test (qmp, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (pid, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (state, G_FILE_TEST_EXISTS));
  problems = check_vm_modes (env.store, "modes");
  g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "stop", "modes", NULL), ==, 0);
  g_assert_cmpstr (problems, ==, "");
  rel_assert_nothing_left (&env, "modes");
}

/* The real QEMU with the test guest (tests/guest), when there. */
static void
test_modes_real_qemu (void)
{
  const char *guest = g_getenv ("HVKIT_TEST_GUEST_DIR");
  g_autofree char *kernel = NULL;
  g_autofree char *initrd = NULL;
  g_autofree char *qemu = g_find_program_in_path ("qemu-system-x86_64");
  g_autofree char *conf = g_build_filename (env.tmpdir, "real.conf", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *problems = NULL;
  mode_t old;
  int status;

  if (guest == NULL)
    guest = "/var/lib/hvkit/guest";
  kernel = g_build_filename (guest, "vmlinuz", NULL);
  initrd = g_build_filename (guest, "initrd.img", NULL);
  if (qemu == NULL || !g_file_test (kernel, G_FILE_TEST_EXISTS) || !g_file_test (initrd, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no qemu-system-x86_64 or no test guest (tests/guest/build-guest.sh)");
      return;
    }
  text = g_strdup_printf ("[hypervisor]\nbackend=qemu\n\n[hypervisor.qemu]\npath=%s\nkernel=%s\ninitrd=%s\n"
                          "machine_type=q35\nmachine_accelerators=accel=tcg\ndefault_vcpus=1\n"
                          "default_memory=256\n", qemu, kernel, initrd);
  g_file_set_contents (conf, text, -1, &error);
  g_assert_no_error (error);

  old = umask (0);
  status = rel_run_tool (&env, NULL, NULL, "start", "-c", conf, "--id", "realmodes", NULL);
  umask (old);
  g_assert_cmpint (status, ==, 0);
  problems = check_vm_modes (env.store, "realmodes");
  g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "stop", "realmodes", NULL), ==, 0);
  g_assert_cmpstr (problems, ==, "");
  rel_assert_nothing_left (&env, "realmodes");
}

/* ---- the state dir is not trusted blindly ---- */

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The names in @dir, sorted, and what the pid file says. */
static char *
describe_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *pid_file = g_build_filename (dir, "pid", NULL);
  g_autofree char *pid = NULL;
  g_autofree char *joined = NULL;
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  joined = g_strjoinv (" ", (char **) names->pdata);
  g_file_get_contents (pid_file, &pid, NULL, NULL);
  return g_strdup_printf ("%s; pid %s", joined, pid ? pid : "-");
}

static void
assert_tool_refuses (const char *err,
                     const char *path,
                     const char *reason)
{
  g_test_message ("%s", err);
  g_assert_true (g_str_has_prefix (err, "hvkit: error: "));
  g_assert_nonnull (strstr (err, path));
  g_assert_nonnull (strstr (err, reason));
}

/* A VM dir replaced by a symlink (to a running VM's files, here): stop,
 * status, pause and list neither follow it nor touch what is there. */
static void
test_vm_dir_symlink (void)
{
  g_autofree char *conf = rel_write_config (&env, "victim", NULL);
  g_autofree char *dir = g_build_filename (env.store, "victim", NULL);
  g_autofree char *target = g_build_filename (env.tmpdir, "victim-files", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  const char *reason = "is a symbolic link";
  guint processes;

  g_setenv ("HVK_FAKE_QEMU_MODE", "", TRUE);
  g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "start", "-c", conf, "--id", "victim", NULL), ==, 0);
  /* The VMM, and whatever watches it. */
  processes = rel_count_processes (env.tmpdir);
  g_assert_cmpuint (processes, >, 0);
  g_assert_cmpint (rename (dir, target), ==, 0);
  g_assert_cmpint (symlink (target, dir), ==, 0);
  before = describe_dir (target);
  g_test_message ("%s: %s", target, before);
  g_assert_nonnull (strstr (before, "pid"));
  g_assert_nonnull (strstr (before, "qmp.sock"));

  for (const char * const *cmd = (const char * const[]) { "stop", "status", "pause", NULL };
       *cmd != NULL; cmd++)
    {
      g_autofree char *err = NULL;

      g_assert_cmpint (rel_run_tool (&env, NULL, &err, *cmd, "victim", NULL), ==, 1);
      assert_tool_refuses (err, dir, reason);
    }
  {
    g_autofree char *out = NULL;

    g_assert_cmpint (rel_run_tool (&env, &out, NULL, "list", NULL), ==, 0);
    g_assert_null (strstr (out, "victim"));
  }

  after = describe_dir (target);
  g_assert_cmpstr (after, ==, before);
  g_assert_true (g_file_test (dir, G_FILE_TEST_IS_SYMLINK));
  g_assert_cmpuint (rel_count_processes (env.tmpdir), ==, processes);

  /* Put back, it is a VM again. */
  g_assert_cmpint (g_unlink (dir), ==, 0);
  g_assert_cmpint (rename (target, dir), ==, 0);
  g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "stop", "victim", NULL), ==, 0);
  rel_assert_nothing_left (&env, "victim");
}

/* A state dir writable by others, or another user's, is refused by every
 * command, naming it and the reason. */
static void
test_store_untrusted (void)
{
  g_autofree char *conf = rel_write_config (&env, "lax", NULL);
  g_autofree char *vm_dir = g_build_filename (env.store, "lax", NULL);
  struct {
    guint       mode;
    uid_t       owner;
    const char *reason;
  } cases[] = {
    { 0777, 0, "is writable by its group and others (mode 0777); chmod go-w it" },
    { 0770, 0, "is writable by its group (mode 0770); chmod go-w it" },
    { 01777, 0, "(mode 1777); chmod go-w it" },
    { 0700, 65534, "is owned by uid 65534" },
  };
  guint processes;

  g_setenv ("HVK_FAKE_QEMU_MODE", "", TRUE);
  g_assert_cmpint (g_mkdir_with_parents (env.store, 0700), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *err = NULL;

      if (cases[i].owner != 0 && geteuid () != 0)
        {
          g_test_message ("not root: other owners not tested");
          continue;
        }
      g_assert_cmpint (chmod (env.store, cases[i].mode), ==, 0);
      g_assert_cmpint (chown (env.store, cases[i].owner, cases[i].owner), ==, geteuid () == 0 ? 0 : -1);

      g_assert_cmpint (rel_run_tool (&env, NULL, &err, "start", "-c", conf, "--id", "lax", NULL), ==, 1);
      assert_tool_refuses (err, env.store, cases[i].reason);
      for (const char * const *cmd = (const char * const[]) { "status", "stop", NULL };
           *cmd != NULL; cmd++)
        {
          g_clear_pointer (&err, g_free);
          g_assert_cmpint (rel_run_tool (&env, NULL, &err, *cmd, "lax", NULL), ==, 1);
          assert_tool_refuses (err, env.store, cases[i].reason);
        }
      g_clear_pointer (&err, g_free);
      g_assert_cmpint (rel_run_tool (&env, NULL, &err, "list", NULL), ==, 1);
      assert_tool_refuses (err, env.store, cases[i].reason);
      g_assert_false (g_file_test (vm_dir, G_FILE_TEST_EXISTS));
      g_assert_cmpuint (rel_count_processes (env.tmpdir), ==, 0);
    }
  g_assert_cmpint (chmod (env.store, 0700), ==, 0);
  if (geteuid () == 0)
    g_assert_cmpint (chown (env.store, 0, 0), ==, 0);

  /* Trusted again: it works. */
  g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "start", "-c", conf, "--id", "lax", NULL), ==, 0);
  processes = rel_count_processes (env.tmpdir);
  g_assert_cmpuint (processes, >, 0);
  /* A VM dir gone lax is refused too. */
  g_assert_cmpint (chmod (vm_dir, 0777), ==, 0);
  {
    g_autofree char *err = NULL;

    g_assert_cmpint (rel_run_tool (&env, NULL, &err, "stop", "lax", NULL), ==, 1);
    assert_tool_refuses (err, vm_dir, "VM dir");
    g_assert_cmpuint (rel_count_processes (env.tmpdir), ==, processes);
  }
  g_assert_cmpint (chmod (vm_dir, 0700), ==, 0);
  g_assert_cmpint (rel_run_tool (&env, NULL, NULL, "stop", "lax", NULL), ==, 0);
  rel_assert_nothing_left (&env, "lax");
}

/* ---- socket paths ---- */

static void
test_socket_path_length (void)
{
  g_autofree char *conf = rel_write_config (&env, "longsock", NULL);
  g_autofree char *deep = NULL;
  g_autofree char *err = NULL;
  g_autofree char *tool = g_strdup (g_getenv ("HVKIT_TEST_TOOL"));
  g_autoptr(GString) store = g_string_new (env.tmpdir);
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) device = NULL;
  g_autofree char *long_socket = NULL;
  g_autofree char *device_text = NULL;
  int status = 0;

  /* The VM's own sockets: a state dir deep enough that qmp.sock does
   * not fit in sun_path. */
  while (store->len < HVK_MAX_SOCKET_PATH_LEN)
    g_string_append (store, "/deeper");
  error = create (conf, store->str, "longsock", NULL, NULL);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "too long"));
  g_clear_error (&error);
  {
    const char *argv[] = { tool, "--state-dir", store->str, "start", "-c", conf, "--id", "longsock", NULL };
    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, &err, &status, NULL);
    g_test_message ("%s", err);
    g_assert_false (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    g_assert_nonnull (strstr (err, "too long"));
  }
  g_assert_cmpuint (rel_count_processes (env.tmpdir), ==, 0);

  /* A device's socket path. */
  long_socket = g_strnfill (HVK_MAX_SOCKET_PATH_LEN + 1, 's');
  long_socket[0] = '/';
  /* vhost-user devices need shared memory first. */
  g_free (deep);
  deep = g_strdup_printf ("file_mem_backend=%s", env.tmpdir);
  g_free (conf);
  conf = rel_write_config (&env, "longsock", deep);
  for (const char * const *fmt = (const char * const[]) {
         "serial-socket,id=ss1,path=%s,name=port0", "console,id=c1,backend=socket,path=%s",
         "net,id=n1,type=vhost-user,socket=%s", "fs,id=f1,path=/tmp,tag=t,socket=%s", NULL };
       *fmt != NULL; fmt++)
    {
      g_auto(GStrv) parts = g_strsplit (*fmt, "%s", -1);

      g_free (device_text);
      device_text = g_strjoinv (long_socket, parts);
      g_clear_object (&device);
      g_clear_error (&error);
      device = hvk_device_new_from_string (registry, device_text, &error);
      if (device != NULL)
        error = create (conf, NULL, "longsock", device, NULL);
      g_assert_nonnull (error);
      g_test_message ("%.40s…: %s", device_text, error->message);
    }
  rel_assert_nothing_left (&env, "longsock");
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  rel_env_init (&env);
  registry = rel_registry_new ();
  comma_dir = g_build_filename (env.tmpdir, "c" INJECT, NULL);
  comma_file = g_build_filename (comma_dir, "disk.img", NULL);
  g_mkdir_with_parents (comma_dir, 0700);
  g_file_set_contents (comma_file, "\0\0\0\0", 4, &error);
  g_assert_no_error (error);

  g_test_add_func ("/hvk/reliability/security/comma/config", test_comma_config);
  g_test_add_func ("/hvk/reliability/security/comma/devices", test_comma_devices);
  g_test_add_func ("/hvk/reliability/security/comma/acrn", test_comma_acrn);
  g_test_add_func ("/hvk/reliability/security/comma/virtiofsd", test_comma_virtiofsd);
  g_test_add_func ("/hvk/reliability/security/control-characters", test_control_characters);
  g_test_add_func ("/hvk/reliability/security/kernel-param-quotes", test_kernel_param_quotes);
  for (gsize i = 0; i < G_N_ELEMENTS (allow_cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/hvk/reliability/security/allow-list/%s", allow_cases[i].name);
      g_test_add_data_func (name, &allow_cases[i], test_allow_list);
    }
  g_test_add_func ("/hvk/reliability/security/allow-list/rng-device", test_allow_list_rng_device);
  g_test_add_func ("/hvk/reliability/security/allow-list/acrn", test_allow_list_acrn);
  g_test_add_func ("/hvk/reliability/security/vm-ids", test_vm_ids);
  g_test_add_func ("/hvk/reliability/security/modes/fake-qemu", test_modes_fake);
  g_test_add_func ("/hvk/reliability/security/modes/real-qemu", test_modes_real_qemu);
  g_test_add_func ("/hvk/reliability/security/socket-path-length", test_socket_path_length);
  g_test_add_func ("/hvk/reliability/security/state-dir/vm-dir-symlink", test_vm_dir_symlink);
  g_test_add_func ("/hvk/reliability/security/state-dir/untrusted", test_store_untrusted);

  ret = g_test_run ();
  g_clear_object (&registry);
  g_free (comma_dir);
  g_free (comma_file);
  rel_env_clear (&env);
  return ret;
}
