/* SPDX-License-Identifier: Apache-2.0 */
/* The registry against the plugin zoo (tests/plugins/zoo): every refusal,
 * rollback, priorities, kernel-param composition, scanning. */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char *
zoo_path (const char *name)
{
  g_autofree char *file = g_strdup_printf ("libhvktest-%s.so", name);

  return g_build_filename (HVK_TEST_ZOO_DIR, name, file, NULL);
}

static char *
zoo_dir (const char *name)
{
  return g_build_filename (HVK_TEST_ZOO_DIR, name, NULL);
}

static HvkPlugin *
load_ok (HvkRegistry *registry,
         const char  *name)
{
  g_autofree char *path = zoo_path (name);
  g_autoptr(GError) error = NULL;
  HvkPlugin *plugin = hvk_registry_load_plugin (registry, path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (plugin);
  return plugin;
}

/* Loads a plugin that must be refused; returns the error message. */
static char *
load_refused (HvkRegistry *registry,
              const char  *name,
              int          code)
{
  g_autofree char *path = zoo_path (name);
  g_autoptr(GError) error = NULL;
  HvkPlugin *plugin = hvk_registry_load_plugin (registry, path, &error);

  g_assert_null (plugin);
  g_assert_error (error, HVK_ERROR, code);
  /* Every refusal names the file first. */
  g_assert_true (g_str_has_prefix (error->message, path));
  return g_strdup (error->message);
}

static void
assert_contains (const char *haystack,
                 const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("'%s' does not contain '%s'", haystack, needle);
}

static char *
make_tmpdir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("hvk-test-registry-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
rm_rf (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR) &&
          !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        rm_rf (path);
      else
        g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_chmod (dir, 0700);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
link_into (const char *dir,
           const char *link_name,
           const char *zoo_name)
{
  g_autofree char *target = zoo_path (zoo_name);
  g_autofree char *path = g_build_filename (dir, link_name, NULL);

  g_assert_cmpint (symlink (target, path), ==, 0);
}

static HvkDevice *
new_device (HvkRegistry *registry,
            const char  *kind_name,
            const char  *id)
{
  HvkDeviceKind *kind = hvk_registry_lookup_device_kind (registry, kind_name);

  g_assert_nonnull (kind);
  return hvk_device_new (kind, id);
}

/* Appends @device through the registry; returns the argv joined by
 * spaces (without the program). */
static char *
append_to_string (HvkRegistry *registry,
                  const char  *backend,
                  HvkDevice   *device,
                  GError     **error)
{
  g_autoptr(HvkBuildContext) ctx = hvk_build_context_new (registry, backend,
                                                          "vm0", NULL);
  g_autoptr(HvkCmdline) cmdline = hvk_cmdline_new ("/bin/vmm");
  const char * const *argv;

  if (!hvk_registry_append_device (registry, ctx, device, cmdline, error))
    return NULL;
  argv = hvk_cmdline_get_argv (cmdline);
  return g_strjoinv (" ", (char **) argv + 1);
}

static char *
params_to_string (GPtrArray *params)
{
  g_auto(GStrv) strv = hvk_params_serialize (params, "=");

  return g_strjoinv (" ", strv);
}

/* ---- loading ---------------------------------------------------------- */

static void
test_new (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(GPtrArray) backends = hvk_registry_get_backends (registry);
  g_autoptr(GPtrArray) plugins = hvk_registry_get_plugins (registry);
  g_autoptr(GPtrArray) refusals = hvk_registry_get_refusals (registry);
  g_autoptr(GPtrArray) kinds = hvk_registry_get_device_kinds (registry);
  g_autoptr(GPtrArray) standard = hvk_device_kinds_new_standard ();

  g_assert_cmpuint (backends->len, ==, 0);
  g_assert_cmpuint (plugins->len, ==, 0);
  g_assert_cmpuint (refusals->len, ==, 0);
  g_assert_cmpuint (kinds->len, ==, standard->len);
  g_assert_cmpuint (kinds->len, >=, 10);
  for (guint i = 0; i < standard->len; i++)
    {
      const char *name = hvk_device_kind_get_name (g_ptr_array_index (standard, i));

      g_assert_nonnull (hvk_registry_lookup_device_kind (registry, name));
    }
  g_assert_nonnull (hvk_registry_lookup_device_kind (registry, HVK_DEVICE_KIND_VSOCK));
  g_assert_null (hvk_registry_lookup_device_kind (registry, "test-widget"));
  g_assert_null (hvk_registry_lookup_backend (registry, "testbe"));
}

static void
test_load_good (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autofree char *path = zoo_path ("good");
  HvkPlugin *plugin = load_ok (registry, "good");
  HvkBackendInfo *info;
  const HvkConfigKey *key;
  g_autoptr(GPtrArray) plugins = NULL;
  g_autoptr(GPtrArray) backends = NULL;

  g_assert_cmpstr (hvk_plugin_get_name (plugin), ==, "good");
  g_assert_cmpstr (hvk_plugin_get_description (plugin), ==, "A well-behaved test plugin");
  g_assert_cmpstr (hvk_plugin_get_version (plugin), ==, "1.2.3");
  g_assert_cmpstr (hvk_plugin_get_license (plugin), ==, "Apache-2.0");
  g_assert_cmpstr (hvk_plugin_get_filename (plugin), ==, path);
  g_assert_true (hvk_plugin_get_registry (plugin) == registry);
  g_assert_true (hvk_registry_lookup_plugin (registry, "good") == plugin);
  g_assert_null (hvk_registry_lookup_plugin (registry, "bad-abi"));

  plugins = hvk_registry_get_plugins (registry);
  g_assert_cmpuint (plugins->len, ==, 1);
  g_assert_true (g_ptr_array_index (plugins, 0) == plugin);

  info = hvk_registry_lookup_backend (registry, "testbe");
  g_assert_nonnull (info);
  g_assert_cmpstr (hvk_backend_info_get_name (info), ==, "testbe");
  g_assert_true (hvk_backend_info_get_plugin (info) == plugin);
  g_assert_true (g_type_is_a (hvk_backend_info_get_gtype (info), HVK_TYPE_HYPERVISOR));
  g_assert_cmpint (hvk_backend_info_get_capabilities (info), ==,
                   HVK_CAP_BLOCK_DEVICE | HVK_CAP_PAUSE_RESUME);
  backends = hvk_registry_get_backends (registry);
  g_assert_cmpuint (backends->len, ==, 1);

  g_assert_nonnull (hvk_registry_lookup_device_kind (registry, "test-widget"));
  g_assert_true (hvk_registry_has_device_appender (registry, "testbe", "test-widget"));
  g_assert_false (hvk_registry_has_device_appender (registry, "testbe", "block"));
  g_assert_false (hvk_registry_has_device_appender (registry, "other", "test-widget"));

  key = hvk_registry_lookup_config_key (registry, "testbe", "widget_mode");
  g_assert_nonnull (key);
  g_assert_cmpstr (key->name, ==, "widget_mode");
  g_assert_cmpint (key->type, ==, HVK_CONFIG_TYPE_STRING);
  g_assert_cmpstr (key->default_value, ==, "fast");
  g_assert_null (hvk_registry_lookup_config_key (registry, "other", "widget_mode"));
  g_assert_null (hvk_registry_lookup_config_key (registry, "testbe", "nope"));
}

static void
test_double_load (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *link = g_build_filename (dir, "alias.so", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) plugins = NULL;
  HvkPlugin *first = load_ok (registry, "good");
  HvkPlugin *again;

  /* A second init would fail: testbe is taken.  So the same plugin back,
   * without an error, shows init did not run again. */
  again = load_ok (registry, "good");
  g_assert_true (again == first);

  /* The same real path under another name is the same file. */
  link_into (dir, "alias.so", "good");
  again = hvk_registry_load_plugin (registry, link, &error);
  g_assert_no_error (error);
  g_assert_true (again == first);

  plugins = hvk_registry_get_plugins (registry);
  g_assert_cmpuint (plugins->len, ==, 1);
  rm_rf (dir);
}

static void
test_bad_abi (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autofree char *expected = g_strdup_printf (": plugin ABI version %u, expected %u",
                                               HVK_PLUGIN_ABI_VERSION + 1,
                                               HVK_PLUGIN_ABI_VERSION);
  g_autofree char *message = load_refused (registry, "bad-abi", HVK_ERROR_PLUGIN);
  g_autoptr(GPtrArray) plugins = hvk_registry_get_plugins (registry);

  g_assert_true (g_str_has_suffix (message, expected));
  g_assert_cmpuint (plugins->len, ==, 0);
  g_assert_null (hvk_registry_lookup_plugin (registry, "bad-abi"));
}

static void
test_no_desc (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autofree char *message = load_refused (registry, "no-desc", HVK_ERROR_PLUGIN);

  g_assert_true (g_str_has_suffix (message, ": no plugin descriptor (hvk_plugin_desc)"));
}

static void
test_bad_name (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autofree char *message = load_refused (registry, "bad-name", HVK_ERROR_PLUGIN);

  assert_contains (message, "invalid plugin name 'Bad Name'");
}

static void
test_no_init (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autofree char *message = load_refused (registry, "no-init", HVK_ERROR_PLUGIN);

  assert_contains (message, "plugin 'no-init' has no init function");
}

static void
test_not_elf (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "notaplugin.so", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, "#!/bin/sh\necho I am not ELF\n", -1, NULL));
  g_assert_null (hvk_registry_load_plugin (registry, path, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_PLUGIN);
  g_assert_true (g_str_has_prefix (error->message, path));
  assert_contains (error->message, "cannot load");
  rm_rf (dir);
}

static void
test_missing_file (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(GError) error = NULL;

  g_assert_null (hvk_registry_load_plugin (registry, "/nonexistent/libx.so", &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  assert_contains (error->message, "/nonexistent/libx.so");
}

static void
test_init_fails (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(GPtrArray) plugins = NULL;
  g_autoptr(GPtrArray) backends = NULL;
  g_autoptr(GPtrArray) params = NULL;
  g_autoptr(HvkBuildContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  guint n_kinds;

  {
    g_autoptr(GPtrArray) kinds = hvk_registry_get_device_kinds (registry);
    n_kinds = kinds->len;
  }

  load_ok (registry, "addon");
  message = load_refused (registry, "init-fails", HVK_ERROR_PLUGIN);
  assert_contains (message, "plugin 'init-fails' init failed: deliberate failure after registering");

  /* Every registration is gone. */
  g_assert_null (hvk_registry_lookup_backend (registry, "failbe"));
  g_assert_null (hvk_registry_lookup_device_kind (registry, "fail-kind"));
  g_assert_false (hvk_registry_has_device_appender (registry, "failbe", "fail-kind"));
  g_assert_null (hvk_registry_lookup_config_key (registry, "failbe", "fail_key"));
  g_assert_null (hvk_registry_lookup_plugin (registry, "init-fails"));
  plugins = hvk_registry_get_plugins (registry);
  g_assert_cmpuint (plugins->len, ==, 1);
  backends = hvk_registry_get_backends (registry);
  g_assert_cmpuint (backends->len, ==, 0);
  {
    g_autoptr(GPtrArray) kinds = hvk_registry_get_device_kinds (registry);
    g_assert_cmpuint (kinds->len, ==, n_kinds);
  }

  /* Its priority-99 block appender on testbe is gone: addon's is used. */
  {
    g_autoptr(HvkDevice) disk = new_device (registry, "block", "d0");
    g_autofree char *args = append_to_string (registry, "testbe", disk, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (args, ==, "-addon-block d0");
  }

  /* Its all-backend BASE policy is gone. */
  ctx = hvk_build_context_new (registry, "testbe", "vm0", NULL);
  params = hvk_registry_build_kernel_params (registry, ctx, &error);
  g_assert_no_error (error);
  {
    g_autofree char *text = params_to_string (params);
    g_assert_cmpstr (text, ==, "addon-base=1");
  }

  /* It can be tried again (the module stayed resident, so its GType is
   * still registered) and fails the same way. */
  g_clear_pointer (&message, g_free);
  message = load_refused (registry, "init-fails", HVK_ERROR_PLUGIN);
  assert_contains (message, "deliberate failure");
  g_assert_null (hvk_registry_lookup_backend (registry, "failbe"));
}

static void
test_init_false (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autofree char *message = load_refused (registry, "init-false", HVK_ERROR_PLUGIN);

  assert_contains (message, "plugin 'init-false' init failed: returned FALSE without an error");
  g_assert_null (hvk_registry_lookup_backend (registry, "falsebe"));
}

static void
test_dup_name (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autofree char *good = zoo_path ("good");
  g_autofree char *expected = g_strdup_printf (": plugin name 'good' already taken by %s", good);
  g_autofree char *message = NULL;
  HvkPlugin *plugin;

  plugin = load_ok (registry, "good");
  message = load_refused (registry, "dup-name", HVK_ERROR_PLUGIN);
  g_assert_true (g_str_has_suffix (message, expected));
  /* Its init never ran, and the first plugin is untouched. */
  g_assert_null (hvk_registry_lookup_backend (registry, "dupbe"));
  g_assert_true (hvk_registry_lookup_plugin (registry, "good") == plugin);
}

/* ---- appenders -------------------------------------------------------- */

static void
test_appender_priority (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(HvkDevice) widget = NULL;
  g_autoptr(HvkDevice) vsock = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  load_ok (registry, "good");
  widget = new_device (registry, "test-widget", "w0");
  before = append_to_string (registry, "testbe", widget, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (before, ==, "-widget w0");

  /* extra-appender's priority 10 beats good's 0. */
  load_ok (registry, "extra-appender");
  after = append_to_string (registry, "testbe", widget, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (after, ==, "-extra-widget w0");

  /* A kind without an appender on this backend. */
  vsock = new_device (registry, HVK_DEVICE_KIND_VSOCK, "v0");
  g_assert_null (append_to_string (registry, "testbe", vsock, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==,
                   "backend 'testbe' has no appender for device kind 'vsock' (device 'v0')");
  g_clear_error (&error);

  /* Appenders are per backend. */
  g_assert_null (append_to_string (registry, "acrn", widget, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==,
                   "backend 'acrn' has no appender for device kind 'test-widget' (device 'w0')");
}

static void
test_appender_needs_kind (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(HvkBuildContext) ctx = NULL;
  g_autoptr(GPtrArray) params = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  g_autofree char *text = NULL;

  /* test-widget comes from good, not loaded yet. */
  message = load_refused (registry, "extra-appender", HVK_ERROR_PLUGIN);
  assert_contains (message, "unknown device kind 'test-widget'");

  /* The policies it registered before failing are rolled back. */
  ctx = hvk_build_context_new (registry, "testbe", "vm0", NULL);
  params = hvk_registry_build_kernel_params (registry, ctx, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (params->len, ==, 0);

  /* In the right order it loads. */
  load_ok (registry, "good");
  load_ok (registry, "extra-appender");
  g_clear_pointer (&params, g_ptr_array_unref);
  params = hvk_registry_build_kernel_params (registry, ctx, &error);
  g_assert_no_error (error);
  text = params_to_string (params);
  g_assert_cmpstr (text, ==, "testbase=1 extra-debug=1 extra-other=1 good-other=1");
}

static void
test_appender_before_backend (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(HvkDevice) disk = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *args = NULL;

  /* addon extends testbe before anyone registered testbe. */
  load_ok (registry, "addon");
  g_assert_null (hvk_registry_lookup_backend (registry, "testbe"));
  g_assert_true (hvk_registry_has_device_appender (registry, "testbe", "block"));

  load_ok (registry, "good");
  g_assert_nonnull (hvk_registry_lookup_backend (registry, "testbe"));
  disk = new_device (registry, "block", "disk0");
  args = append_to_string (registry, "testbe", disk, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (args, ==, "-addon-block disk0");
}

/* ---- kernel parameters ------------------------------------------------ */

static void
test_kernel_params_phases (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(HvkConfig) config = hvk_config_new ("testbe");
  g_autoptr(HvkBuildContext) ctx = NULL;
  g_autoptr(HvkCmdline) cmdline = hvk_cmdline_new ("/bin/vmm");
  g_autoptr(HvkDevice) widget = NULL;
  g_autoptr(GPtrArray) params = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  load_ok (registry, "good");
  load_ok (registry, "extra-appender");
  load_ok (registry, "addon");

  g_assert_true (hvk_config_add_kernel_param (config, "user", "1", &error));
  g_assert_no_error (error);
  g_assert_true (hvk_config_add_kernel_param (config, "quiet", NULL, &error));
  g_assert_no_error (error);

  ctx = hvk_build_context_new (registry, NULL, "vm0", config);
  g_assert_cmpstr (hvk_build_context_get_backend (ctx), ==, "testbe");

  /* The devices phase: what appenders add (good's adds widget=ID, but
   * extra's wins, so add one by hand as an appender would). */
  hvk_build_context_add_kernel_param (ctx, "console", "hvc0");
  widget = new_device (registry, "test-widget", "w7");
  g_assert_true (hvk_registry_append_device (registry, ctx, widget, cmdline, &error));
  g_assert_no_error (error);
  hvk_build_context_add_kernel_param (ctx, "dev", "last");

  params = hvk_registry_build_kernel_params (registry, ctx, &error);
  g_assert_no_error (error);
  text = params_to_string (params);
  /* BASE: good (0) before addon (-5) although addon is later and for all
   * backends; DEVICES; DEBUG; OTHER: extra (10) before good (0); USER. */
  g_assert_cmpstr (text, ==,
                   "testbase=1 addon-base=1 console=hvc0 dev=last "
                   "extra-debug=1 extra-other=1 good-other=1 user=1 quiet");

  /* The result is a copy: changing it leaves the context alone. */
  g_ptr_array_set_size (params, 0);
  g_assert_cmpuint (hvk_build_context_get_device_kernel_params (ctx)->len, ==, 2);

  /* Another backend only sees the all-backend policies. */
  {
    g_autoptr(HvkBuildContext) other = hvk_build_context_new (registry, "acrn", "vm1", NULL);
    g_autoptr(GPtrArray) other_params = hvk_registry_build_kernel_params (registry, other, &error);
    g_autofree char *other_text = NULL;

    g_assert_no_error (error);
    other_text = params_to_string (other_params);
    g_assert_cmpstr (other_text, ==, "addon-base=1 extra-debug=1 extra-other=1");
  }
}

/* A static plugin lets the test register directly. */
static HvkPlugin *static_plugin;

static gboolean
static_init (HvkPlugin  *plugin,
             GError    **error)
{
  static_plugin = plugin;
  return TRUE;
}

static const HvkPluginDesc static_desc = {
  HVK_PLUGIN_ABI_VERSION, "static", "in the test program", "0.1", "MIT",
  static_init, { NULL, }
};

static HvkPlugin *
register_static (HvkRegistry *registry)
{
  g_autoptr(GError) error = NULL;
  HvkPlugin *plugin;

  static_plugin = NULL;
  plugin = hvk_registry_register_static_plugin (registry, &static_desc, &error);
  g_assert_no_error (error);
  g_assert_true (plugin == static_plugin);
  g_assert_null (hvk_plugin_get_filename (plugin));
  return plugin;
}

static gboolean
policy_append (HvkBuildContext  *ctx,
               GPtrArray        *params,
               gpointer          user_data,
               GError          **error)
{
  hvk_params_append (params, user_data, NULL);
  return TRUE;
}

static gboolean
policy_fail (HvkBuildContext  *ctx,
             GPtrArray        *params,
             gpointer          user_data,
             GError          **error)
{
  if (user_data != NULL)
    g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG, "policy says %s",
                 (const char *) user_data);
  return FALSE;
}

static void
test_kernel_params_priorities (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(HvkBuildContext) ctx = hvk_build_context_new (registry, "be", "vm", NULL);
  g_autoptr(GPtrArray) params = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  HvkPlugin *plugin = register_static (registry);
  static const struct {
    const char *backend;
    HvkKernelParamPhase phase;
    int priority;
    const char *name;
  } policies[] = {
    /* Registered in this order. */
    { "be",  HVK_KERNEL_PARAM_PHASE_OTHER,    0, "other-a" },
    { NULL,  HVK_KERNEL_PARAM_PHASE_OTHER,    0, "other-b" },
    { "be",  HVK_KERNEL_PARAM_PHASE_OTHER,    5, "other-c" },
    { "xx",  HVK_KERNEL_PARAM_PHASE_OTHER,  100, "other-x" },
    { "be",  HVK_KERNEL_PARAM_PHASE_MAX_CPUS, 0, "maxcpus" },
    { NULL,  HVK_KERNEL_PARAM_PHASE_DEFAULTS, 0, "defaults" },
    { "be",  HVK_KERNEL_PARAM_PHASE_DEBUG,    0, "debug" },
    { "be",  HVK_KERNEL_PARAM_PHASE_BASE,    -1, "base-b" },
    { NULL,  HVK_KERNEL_PARAM_PHASE_BASE,     1, "base-a" },
    { NULL,  HVK_KERNEL_PARAM_PHASE_OTHER,   -3, "other-d" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (policies); i++)
    {
      g_assert_true (hvk_plugin_register_kernel_param_policy (plugin,
                                                              policies[i].backend,
                                                              policies[i].phase,
                                                              policies[i].priority,
                                                              policy_append,
                                                              (gpointer) policies[i].name,
                                                              &error));
      g_assert_no_error (error);
    }

  params = hvk_registry_build_kernel_params (registry, ctx, &error);
  g_assert_no_error (error);
  text = params_to_string (params);
  g_assert_cmpstr (text, ==,
                   "base-a base-b debug defaults maxcpus other-c other-a other-b other-d");
}

static void
test_kernel_params_errors (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(HvkBuildContext) ctx = hvk_build_context_new (registry, "be", "vm", NULL);
  g_autoptr(GError) error = NULL;
  HvkPlugin *plugin = register_static (registry);
  const HvkKernelParamPhase refused[] = {
    HVK_KERNEL_PARAM_PHASE_DEVICES, HVK_KERNEL_PARAM_PHASE_USER, 42,
  };

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_assert_false (hvk_plugin_register_kernel_param_policy (plugin, NULL, refused[i], 0,
                                                               policy_append, "x", &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      assert_contains (error->message, "not registrable");
      g_clear_error (&error);
    }

  g_assert_false (hvk_plugin_register_kernel_param_policy (plugin, "Bad Backend",
                                                           HVK_KERNEL_PARAM_PHASE_BASE, 0,
                                                           policy_append, "x", &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  assert_contains (error->message, "invalid backend name 'Bad Backend'");
  g_clear_error (&error);

  g_assert_false (hvk_plugin_register_kernel_param_policy (plugin, NULL,
                                                           HVK_KERNEL_PARAM_PHASE_BASE, 0,
                                                           NULL, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* A failing policy fails the build with its error... */
  g_assert_true (hvk_plugin_register_kernel_param_policy (plugin, "be",
                                                          HVK_KERNEL_PARAM_PHASE_DEFAULTS, 0,
                                                          policy_fail, "no", &error));
  g_assert_null (hvk_registry_build_kernel_params (registry, ctx, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_assert_cmpstr (error->message, ==, "policy says no");
  g_clear_error (&error);

  /* ...and one failing silently still gets an error. */
  g_assert_true (hvk_plugin_register_kernel_param_policy (plugin, "be2",
                                                          HVK_KERNEL_PARAM_PHASE_OTHER, 0,
                                                          policy_fail, NULL, &error));
  {
    g_autoptr(HvkBuildContext) ctx2 = hvk_build_context_new (registry, "be2", "vm", NULL);

    g_assert_null (hvk_registry_build_kernel_params (registry, ctx2, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
    assert_contains (error->message, "backend 'be2'");
  }
}

/* ---- registration validation ------------------------------------------ */

static gboolean
append_nothing (HvkBuildContext  *ctx,
                HvkDevice        *device,
                HvkCmdline       *cmdline,
                gpointer          user_data,
                GError          **error)
{
  return TRUE;
}

static gboolean
append_fail_silently (HvkBuildContext  *ctx,
                      HvkDevice        *device,
                      HvkCmdline       *cmdline,
                      gpointer          user_data,
                      GError          **error)
{
  return FALSE;
}

static void
test_register_backend_errors (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(GError) error = NULL;
  HvkPlugin *plugin;
  GType good_type;
  const char * const bad_names[] = { "", "Qemu", "a b", "x/y", "é" };

  load_ok (registry, "good");
  good_type = hvk_backend_info_get_gtype (hvk_registry_lookup_backend (registry, "testbe"));
  plugin = register_static (registry);

  for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      g_assert_false (hvk_plugin_register_backend (plugin, bad_names[i], good_type,
                                                   HVK_CAP_NONE, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      assert_contains (error->message, "invalid backend name");
      g_clear_error (&error);
    }

  /* Types that do not implement HvkHypervisor. */
  g_assert_false (hvk_plugin_register_backend (plugin, "plain", G_TYPE_OBJECT,
                                               HVK_CAP_NONE, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  assert_contains (error->message, "'GObject' is not");
  g_clear_error (&error);
  g_assert_false (hvk_plugin_register_backend (plugin, "iface", HVK_TYPE_HYPERVISOR,
                                               HVK_CAP_NONE, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (hvk_plugin_register_backend (plugin, "int", G_TYPE_INT,
                                               HVK_CAP_NONE, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (hvk_plugin_register_backend (plugin, "none", G_TYPE_INVALID,
                                               HVK_CAP_NONE, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* Taken. */
  g_assert_false (hvk_plugin_register_backend (plugin, "testbe", good_type,
                                               HVK_CAP_NONE, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_PLUGIN);
  assert_contains (error->message, "backend 'testbe' already registered by plugin 'good'");
  g_clear_error (&error);

  /* The same type under a second name is fine. */
  g_assert_true (hvk_plugin_register_backend (plugin, "aaa-alias_2", good_type,
                                              HVK_CAP_VSOCK, &error));
  g_assert_no_error (error);
  {
    g_autoptr(GPtrArray) backends = hvk_registry_get_backends (registry);

    g_assert_cmpuint (backends->len, ==, 2);
    g_assert_cmpstr (hvk_backend_info_get_name (g_ptr_array_index (backends, 0)), ==, "aaa-alias_2");
    g_assert_cmpstr (hvk_backend_info_get_name (g_ptr_array_index (backends, 1)), ==, "testbe");
    g_assert_true (hvk_backend_info_get_plugin (g_ptr_array_index (backends, 0)) == plugin);
  }
  {
    g_autoptr(GPtrArray) plugins = hvk_registry_get_plugins (registry);

    g_assert_cmpuint (plugins->len, ==, 2);
    g_assert_cmpstr (hvk_plugin_get_name (g_ptr_array_index (plugins, 0)), ==, "good");
    g_assert_cmpstr (hvk_plugin_get_name (g_ptr_array_index (plugins, 1)), ==, "static");
  }
}

static void
test_register_kind_and_appender_errors (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDeviceKind) block = NULL;
  g_autoptr(HvkDeviceKind) fresh = NULL;
  g_autoptr(HvkDevice) device = NULL;
  HvkPlugin *plugin = register_static (registry);

  block = hvk_device_kind_new ("block", "again", NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_false (hvk_plugin_register_device_kind (plugin, block, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_PLUGIN);
  assert_contains (error->message, "device kind 'block' already registered by the core");
  g_clear_error (&error);

  fresh = hvk_device_kind_new ("gadget", "new", NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_plugin_register_device_kind (plugin, fresh, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_registry_lookup_device_kind (registry, "gadget") == fresh);
  g_assert_false (hvk_plugin_register_device_kind (plugin, fresh, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_PLUGIN);
  assert_contains (error->message, "already registered by plugin 'static'");
  g_clear_error (&error);

  /* Appenders. */
  g_assert_false (hvk_plugin_register_device_appender (plugin, "BAD", "block", 0,
                                                       append_nothing, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (hvk_plugin_register_device_appender (plugin, "be", "no-such-kind", 0,
                                                       append_nothing, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  assert_contains (error->message, "unknown device kind 'no-such-kind'");
  g_clear_error (&error);
  g_assert_false (hvk_plugin_register_device_appender (plugin, "be", "block", 0,
                                                       NULL, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (hvk_plugin_register_device_appender (plugin, "be", "gadget", 0,
                                                      append_fail_silently, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (hvk_plugin_register_device_appender (plugin, "be", "gadget", 0,
                                                       append_nothing, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_PLUGIN);
  assert_contains (error->message, "priority 0 already registered");
  g_clear_error (&error);
  /* Another priority or backend is another slot. */
  g_assert_true (hvk_plugin_register_device_appender (plugin, "be", "gadget", -1,
                                                      append_nothing, NULL, &error));
  g_assert_true (hvk_plugin_register_device_appender (plugin, "be2", "gadget", 0,
                                                      append_nothing, NULL, &error));
  g_assert_no_error (error);

  /* The highest priority (0) runs, and fails without an error: the
   * registry says which appender. */
  device = hvk_device_new (fresh, "g0");
  g_assert_null (append_to_string (registry, "be", device, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  assert_contains (error->message, "'gadget'");
  assert_contains (error->message, "'g0'");
  g_clear_error (&error);
  {
    g_autofree char *args = append_to_string (registry, "be2", device, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (args, ==, "");
  }
}

static void
test_register_config_key_errors (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(GError) error = NULL;
  HvkPlugin *plugin = register_static (registry);
  const HvkConfigKey ok[] = {
    { "alpha", HVK_CONFIG_TYPE_UINT, "1", "first" },
    { "beta", HVK_CONFIG_TYPE_STRV, NULL, NULL },
  };
  const HvkConfigKey core_clash[] = {
    { "gamma", HVK_CONFIG_TYPE_UINT, NULL, "fine" },
    { "kernel", HVK_CONFIG_TYPE_STRING, NULL, "a core key" },
  };
  const HvkConfigKey twice[] = {
    { "delta", HVK_CONFIG_TYPE_UINT, NULL, "" },
    { "delta", HVK_CONFIG_TYPE_UINT, NULL, "" },
  };
  const HvkConfigKey bad_name[] = { { "Bad Key", HVK_CONFIG_TYPE_UINT, NULL, "" } };
  const HvkConfigKey bad_type[] = { { "epsilon", 77, NULL, "" } };
  char *name = g_strdup ("copied");
  HvkConfigKey copied[] = { { name, HVK_CONFIG_TYPE_BOOLEAN, "true", "a copy" } };
  const HvkConfigKey *key;

  g_assert_true (hvk_plugin_register_config_keys (plugin, "be", ok, G_N_ELEMENTS (ok), &error));
  g_assert_no_error (error);
  key = hvk_registry_lookup_config_key (registry, "be", "beta");
  g_assert_nonnull (key);
  g_assert_cmpint (key->type, ==, HVK_CONFIG_TYPE_STRV);
  g_assert_null (key->default_value);

  /* All or nothing: gamma is not added when kernel clashes. */
  g_assert_false (hvk_plugin_register_config_keys (plugin, "be", core_clash,
                                                   G_N_ELEMENTS (core_clash), &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_PLUGIN);
  assert_contains (error->message, "config key 'kernel' of backend 'be' clashes with a core key");
  g_clear_error (&error);
  g_assert_null (hvk_registry_lookup_config_key (registry, "be", "gamma"));

  g_assert_false (hvk_plugin_register_config_keys (plugin, "be", ok, 1, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_PLUGIN);
  assert_contains (error->message, "config key 'alpha' of backend 'be' already registered by plugin 'static'");
  g_clear_error (&error);
  /* The same key for another backend is another key. */
  g_assert_true (hvk_plugin_register_config_keys (plugin, "be2", ok, 1, &error));
  g_assert_no_error (error);

  g_assert_false (hvk_plugin_register_config_keys (plugin, "be", twice, 2, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (hvk_registry_lookup_config_key (registry, "be", "delta"));
  g_assert_false (hvk_plugin_register_config_keys (plugin, "be", bad_name, 1, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (hvk_plugin_register_config_keys (plugin, "be", bad_type, 1, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (hvk_plugin_register_config_keys (plugin, "No", ok, 1, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* The table is copied. */
  g_assert_true (hvk_plugin_register_config_keys (plugin, "be", copied, 1, &error));
  g_assert_no_error (error);
  g_free (name);
  copied[0].name = "changed";
  key = hvk_registry_lookup_config_key (registry, "be", "copied");
  g_assert_nonnull (key);
  g_assert_cmpstr (key->default_value, ==, "true");
  g_assert_cmpstr (key->description, ==, "a copy");
}

/* A backend refuses the keys it cannot honour: a core key or one of its
 * own, with a reason; validation fails on one set to anything but its
 * default, naming the key, the backend and the reason. */
static void
test_register_refused_keys (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) refused = NULL;
  HvkPlugin *plugin = register_static (registry);
  const HvkConfigKey own[] = { { "alpha", HVK_CONFIG_TYPE_BOOLEAN, "false", "own" } };
  const HvkRefusedKey ok[] = {
    { "kernel_verity_params", "no dm-verity here" },
    { "alpha", "not yet" },
  };
  const HvkRefusedKey unknown[] = { { "msize_9p", "fine" }, { "no_such_key", "?" } };
  const HvkRefusedKey no_reason[] = { { "msize_9p", "" } };

  g_assert_true (hvk_plugin_register_config_keys (plugin, "be", own, 1, &error));
  g_assert_true (hvk_plugin_register_refused_keys (plugin, "be", ok, G_N_ELEMENTS (ok), &error));
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_registry_lookup_refused_key (registry, "be", "alpha"), ==, "not yet");
  g_assert_null (hvk_registry_lookup_refused_key (registry, "be2", "alpha"));

  /* All or nothing: msize_9p is not added when no_such_key is unknown. */
  g_assert_false (hvk_plugin_register_refused_keys (plugin, "be", unknown, 2, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  assert_contains (error->message, "'no_such_key' is neither a core key nor one of the backend's");
  g_clear_error (&error);
  g_assert_false (hvk_plugin_register_refused_keys (plugin, "be", no_reason, 1, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  refused = hvk_registry_get_refused_keys (registry, "be");
  g_assert_cmpuint (refused->len, ==, 2);

  {
    g_autoptr(HvkConfig) config = hvk_config_new_from_data (
      "[hypervisor]\nbackend=be\n[hypervisor.be]\nkernel=/k\ninitrd=/i\n"
      "alpha=false\nkernel_verity_params=\n", -1, "be.conf", registry, &error);

    g_assert_no_error (error);
    /* Set to the default (or empty): asks for nothing. */
    g_assert_true (hvk_config_validate (config, &error));
    g_assert_no_error (error);
    hvk_config_set_boolean (config, "alpha", TRUE);
    g_assert_false (hvk_config_validate (config, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
    g_assert_cmpstr (error->message, ==,
                     "be.conf: [hypervisor.be] alpha: not supported by backend 'be' (not yet)");
    g_clear_error (&error);
    hvk_config_set_boolean (config, "alpha", FALSE);
    hvk_config_set_string (config, "kernel_verity_params", "root_hash=00");
    g_assert_false (hvk_config_validate (config, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
    assert_contains (error->message, "kernel_verity_params: not supported by backend 'be' (no dm-verity here)");
  }
}

/* A backend's own keys can name host files: their relative values are
 * made absolute like the core's path keys. */
static void
test_register_path_keys (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = NULL;
  HvkPlugin *plugin = register_static (registry);
  const HvkConfigKey keys[] = {
    { "sock", HVK_CONFIG_TYPE_PATH, NULL, "a socket" },
    { "disks", HVK_CONFIG_TYPE_PATH_LIST, NULL, "images" },
    { "label", HVK_CONFIG_TYPE_STRING, NULL, "not a path" },
  };
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *sock = g_build_filename (cwd, "run", "be.sock", NULL);
  g_autofree char *disk = g_build_filename (cwd, "d.img", NULL);

  g_assert_true (hvk_plugin_register_config_keys (plugin, "be", keys, G_N_ELEMENTS (keys), &error));
  g_assert_no_error (error);
  g_assert_cmpint (hvk_registry_lookup_config_key (registry, "be", "sock")->type, ==, HVK_CONFIG_TYPE_PATH);

  config = hvk_config_new_from_data ("[hypervisor]\nbackend=be\n[hypervisor.be]\n"
                                     "sock=run/be.sock\ndisks=d.img;/abs.img\nlabel=d.img\n",
                                     -1, "be.conf", registry, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_config_get_string (config, "sock"), ==, sock);
  g_assert_cmpstrv (hvk_config_get_strv (config, "disks"),
                    ((const char * const[]) { disk, "/abs.img", NULL }));
  g_assert_cmpstr (hvk_config_get_string (config, "label"), ==, "d.img");
}

static gboolean
static_fail_init (HvkPlugin  *plugin,
                  GError    **error)
{
  g_autoptr(HvkDeviceKind) kind = hvk_device_kind_new ("doomed", "", NULL, 0, NULL);

  g_assert_true (hvk_plugin_register_device_kind (plugin, kind, NULL));
  g_assert_true (hvk_plugin_register_device_appender (plugin, "be", "doomed", 0,
                                                      append_nothing, NULL, NULL));
  return hvk_plugin_register_device_appender (plugin, "be", "doomed", 0,
                                              append_nothing, NULL, error);
}

static void
test_static_plugin (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(GError) error = NULL;
  HvkPluginDesc fail_desc = { HVK_PLUGIN_ABI_VERSION, "static-fail", NULL, NULL, NULL,
                              static_fail_init, { NULL, } };
  HvkPluginDesc old_desc = { 0, "old", NULL, NULL, NULL, static_init, { NULL, } };

  register_static (registry);
  g_assert_null (hvk_registry_register_static_plugin (registry, &static_desc, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_PLUGIN);
  assert_contains (error->message, "plugin name 'static' already taken by a static plugin");
  g_clear_error (&error);

  g_assert_null (hvk_registry_register_static_plugin (registry, &fail_desc, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_PLUGIN);
  assert_contains (error->message, "plugin 'static-fail' init failed:");
  assert_contains (error->message, "already registered");
  g_clear_error (&error);
  g_assert_null (hvk_registry_lookup_device_kind (registry, "doomed"));
  g_assert_false (hvk_registry_has_device_appender (registry, "be", "doomed"));

  g_assert_null (hvk_registry_register_static_plugin (registry, &old_desc, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_PLUGIN);
  assert_contains (error->message, "plugin ABI version 0, expected");
}

/* ---- hypervisors ------------------------------------------------------ */

/* ---- hotplug handlers ------------------------------------------------ */

static gboolean
hotplug_record (HvkHypervisor  *hypervisor,
                HvkDevice      *device,
                GCancellable   *cancellable,
                gpointer        user_data,
                GError        **error)
{
  g_ptr_array_add (user_data, g_strdup (hvk_device_get_id (device)));
  return TRUE;
}

static gboolean
hotplug_refuse (HvkHypervisor  *hypervisor,
                HvkDevice      *device,
                GCancellable   *cancellable,
                gpointer        user_data,
                GError        **error)
{
  g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED, "refused %s", hvk_device_get_id (device));
  return FALSE;
}

static gboolean
hotplug_fail_silently (HvkHypervisor  *hypervisor,
                       HvkDevice      *device,
                       GCancellable   *cancellable,
                       gpointer        user_data,
                       GError        **error)
{
  return FALSE;
}

/* Hotplug handlers are looked up by (backend, kind) like appenders:
 * registration is checked eagerly, the highest priority wins, a kind
 * without one is NOT_SUPPORTED naming backend, kind and device. */
static void
test_hotplug_handlers (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(HvkConfig) config = hvk_config_new ("testbe");
  g_autoptr(HvkHypervisor) hv = NULL;
  g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) disk = NULL;
  g_autoptr(HvkDevice) rng = NULL;
  HvkPlugin *plugin;

  load_ok (registry, "good");
  plugin = register_static (registry);
  hv = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);

  /* Refusals, as for appenders. */
  g_assert_false (hvk_plugin_register_hotplug_handler (plugin, "BAD", "block", 0,
                                                       hotplug_record, seen, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  assert_contains (error->message, "hotplug handler: invalid backend name 'BAD'");
  g_clear_error (&error);
  g_assert_false (hvk_plugin_register_hotplug_handler (plugin, "testbe", "no-such-kind", 0,
                                                       hotplug_record, seen, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  assert_contains (error->message, "hotplug handler for backend 'testbe': unknown device kind 'no-such-kind'");
  g_clear_error (&error);
  g_assert_false (hvk_plugin_register_hotplug_handler (plugin, "testbe", "block", 0,
                                                       NULL, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_false (hvk_registry_has_hotplug_handler (registry, "testbe", "block"));
  g_assert_true (hvk_plugin_register_hotplug_handler (plugin, "testbe", "block", 0,
                                                      hotplug_refuse, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (hvk_plugin_register_hotplug_handler (plugin, "testbe", "block", 0,
                                                       hotplug_record, seen, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_PLUGIN);
  assert_contains (error->message, "hotplug handler for backend 'testbe', device kind 'block' "
                   "at priority 0 already registered by plugin 'static'");
  g_clear_error (&error);
  g_assert_true (hvk_registry_has_hotplug_handler (registry, "testbe", "block"));
  /* Handlers are per backend; an appender is not a handler. */
  g_assert_false (hvk_registry_has_hotplug_handler (registry, "other", "block"));
  g_assert_false (hvk_registry_has_hotplug_handler (registry, "testbe", "test-widget"));

  disk = new_device (registry, HVK_DEVICE_KIND_BLOCK, "d0");
  g_assert_false (hvk_registry_hotplug_device (registry, "testbe", hv, disk, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==, "refused d0");
  g_clear_error (&error);

  /* A higher priority wins. */
  g_assert_true (hvk_plugin_register_hotplug_handler (plugin, "testbe", "block", 5,
                                                      hotplug_record, seen, &error));
  g_assert_true (hvk_registry_hotplug_device (registry, "testbe", hv, disk, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (seen->len, ==, 1);
  g_assert_cmpstr (seen->pdata[0], ==, "d0");

  /* No handler: the backend cannot hotplug that kind. */
  rng = new_device (registry, HVK_DEVICE_KIND_RNG, "r0");
  g_assert_false (hvk_registry_hotplug_device (registry, "testbe", hv, rng, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==,
                   "backend 'testbe' cannot hotplug devices of kind 'rng' (device 'r0')");
  g_clear_error (&error);

  /* A handler failing without an error: the registry says which. */
  g_assert_true (hvk_plugin_register_hotplug_handler (plugin, "testbe", "rng", 0,
                                                      hotplug_fail_silently, NULL, &error));
  g_assert_false (hvk_registry_hotplug_device (registry, "testbe", hv, rng, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  assert_contains (error->message, "hotplug handler for device kind 'rng' failed on device 'r0'");
}

static void
test_create_hypervisor (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(HvkConfig) config = hvk_config_new ("testbe");
  g_autoptr(HvkConfig) unknown = hvk_config_new ("foo");
  g_autoptr(HvkHypervisor) hv = NULL;
  g_autoptr(GError) error = NULL;

  /* Nothing loaded yet. */
  g_assert_null (hvk_registry_create_hypervisor (registry, config, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "unknown backend 'testbe' (known: none)");
  g_clear_error (&error);

  load_ok (registry, "good");
  hv = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  g_assert_true (HVK_IS_HYPERVISOR (hv));
  g_assert_true (G_OBJECT_TYPE (hv) ==
                 hvk_backend_info_get_gtype (hvk_registry_lookup_backend (registry, "testbe")));
  g_assert_cmpstr (hvk_hypervisor_get_backend_name (hv), ==, "testbe");
  g_assert_true (hvk_hypervisor_get_registry (hv) == registry);
  g_assert_cmpint (hvk_hypervisor_capabilities (hv), ==,
                   HVK_CAP_BLOCK_DEVICE | HVK_CAP_PAUSE_RESUME);

  /* Left out by the plugin: NOT_SUPPORTED, naming backend and operation. */
  g_assert_false (hvk_hypervisor_pause_vm (hv, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  assert_contains (error->message, "testbe");
  g_clear_error (&error);

  {
    g_autoptr(HvkRegistry) other = hvk_registry_new ();

    register_static (other);
    g_assert_true (hvk_plugin_register_backend (static_plugin, "zzz", G_OBJECT_TYPE (hv),
                                                HVK_CAP_NONE, NULL));
    g_assert_true (hvk_plugin_register_backend (static_plugin, "mmm", G_OBJECT_TYPE (hv),
                                                HVK_CAP_NONE, NULL));
    g_assert_null (hvk_registry_create_hypervisor (other, unknown, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
    /* Known backends in registration order. */
    g_assert_cmpstr (error->message, ==, "unknown backend 'foo' (known: zzz, mmm)");
    g_clear_error (&error);
  }

  g_assert_null (hvk_registry_create_hypervisor (registry, unknown, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "unknown backend 'foo' (known: testbe)");
}

/* ---- scanning --------------------------------------------------------- */

static void
test_scan_path (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autofree char *dir = make_tmpdir ();
  g_autofree char *subdir = g_build_filename (dir, "d-directory.so", NULL);
  g_autofree char *notelf = g_build_filename (dir, "notaplugin.so", NULL);
  g_autofree char *readme = g_build_filename (dir, "README", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing", NULL);
  g_autoptr(GPtrArray) refusals = NULL;
  g_autoptr(GPtrArray) plugins = NULL;
  g_autoptr(GError) error = NULL;
  const char *expected[] = { "b-bad-abi.so", "c-no-desc.so", "e-dup.so", "notaplugin.so" };

  /* Alphabetical: a-good wins the name, e-dup is refused. */
  link_into (dir, "e-dup.so", "dup-name");
  link_into (dir, "a-good.so", "good");
  link_into (dir, "c-no-desc.so", "no-desc");
  link_into (dir, "b-bad-abi.so", "bad-abi");
  link_into (dir, "good.so.1", "extra-appender");   /* not *.so */
  g_assert_true (g_file_set_contents (notelf, "not ELF", -1, NULL));
  g_assert_true (g_file_set_contents (readme, "ignored", -1, NULL));
  g_assert_cmpint (g_mkdir (subdir, 0755), ==, 0);

  g_assert_true (hvk_registry_scan_path (registry, dir, &error));
  g_assert_no_error (error);

  plugins = hvk_registry_get_plugins (registry);
  g_assert_cmpuint (plugins->len, ==, 1);
  g_assert_cmpstr (hvk_plugin_get_name (g_ptr_array_index (plugins, 0)), ==, "good");
  g_assert_true (g_str_has_suffix (hvk_plugin_get_filename (g_ptr_array_index (plugins, 0)),
                                   "/a-good.so"));
  g_assert_null (hvk_registry_lookup_plugin (registry, "extra-appender"));

  refusals = hvk_registry_get_refusals (registry);
  g_assert_cmpuint (refusals->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < refusals->len; i++)
    {
      GError *refusal = g_ptr_array_index (refusals, i);
      g_autofree char *file = g_build_filename (dir, expected[i], NULL);

      g_assert_error (refusal, HVK_ERROR, HVK_ERROR_PLUGIN);
      g_assert_true (g_str_has_prefix (refusal->message, file));
    }
  assert_contains (((GError *) g_ptr_array_index (refusals, 2))->message, "already taken by");

  /* A second scan finds the same files: no new plugin, the same refusals
   * again (they are still refused). */
  g_assert_true (hvk_registry_scan_path (registry, dir, &error));
  g_clear_pointer (&plugins, g_ptr_array_unref);
  plugins = hvk_registry_get_plugins (registry);
  g_assert_cmpuint (plugins->len, ==, 1);

  g_assert_false (hvk_registry_scan_path (registry, missing, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  assert_contains (error->message, missing);
  g_clear_error (&error);
  g_assert_false (hvk_registry_scan_path (registry, readme, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_clear_error (&error);

  rm_rf (dir);
}

typedef struct
{
  char *path;
  char *system_path;
} SavedEnv;

static void
save_env (SavedEnv *saved)
{
  saved->path = g_strdup (g_getenv (HVK_PLUGIN_PATH_ENV));
  saved->system_path = g_strdup (g_getenv (HVK_PLUGIN_SYSTEM_PATH_ENV));
}

static void
restore_env (SavedEnv *saved)
{
  if (saved->path)
    g_setenv (HVK_PLUGIN_PATH_ENV, saved->path, TRUE);
  else
    g_unsetenv (HVK_PLUGIN_PATH_ENV);
  if (saved->system_path)
    g_setenv (HVK_PLUGIN_SYSTEM_PATH_ENV, saved->system_path, TRUE);
  else
    g_unsetenv (HVK_PLUGIN_SYSTEM_PATH_ENV);
  g_free (saved->path);
  g_free (saved->system_path);
}

static void
test_scan_env (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autofree char *good = zoo_dir ("good");
  g_autofree char *dup = zoo_dir ("dup-name");
  g_autofree char *extra = zoo_dir ("extra-appender");
  g_autofree char *addon = zoo_dir ("addon");
  g_autofree char *dup_file = zoo_path ("dup-name");
  g_autofree char *path = g_strjoin (":", "/nonexistent/hvkit", "", dup, good, NULL);
  g_autofree char *system_path = g_strjoin (":", extra, addon, NULL);
  g_autoptr(GPtrArray) plugins = NULL;
  g_autoptr(GPtrArray) refusals = NULL;
  SavedEnv saved;

  save_env (&saved);
  /* dup-name comes first, so it is `good` now, and the real good is
   * refused; the system path comes after. */
  g_setenv (HVK_PLUGIN_PATH_ENV, path, TRUE);
  g_setenv (HVK_PLUGIN_SYSTEM_PATH_ENV, system_path, TRUE);
  hvk_registry_scan (registry);

  plugins = hvk_registry_get_plugins (registry);
  g_assert_cmpuint (plugins->len, ==, 2);
  g_assert_cmpstr (hvk_plugin_get_filename (hvk_registry_lookup_plugin (registry, "good")),
                   ==, dup_file);
  g_assert_nonnull (hvk_registry_lookup_backend (registry, "dupbe"));
  g_assert_null (hvk_registry_lookup_backend (registry, "testbe"));
  g_assert_nonnull (hvk_registry_lookup_plugin (registry, "addon"));
  /* extra-appender needs good's test-widget: refused. */
  refusals = hvk_registry_get_refusals (registry);
  g_assert_cmpuint (refusals->len, ==, 2);
  assert_contains (((GError *) g_ptr_array_index (refusals, 0))->message,
                   "plugin name 'good' already taken by");
  assert_contains (((GError *) g_ptr_array_index (refusals, 1))->message,
                   "unknown device kind 'test-widget'");
  g_clear_pointer (&plugins, g_ptr_array_unref);
  g_clear_pointer (&refusals, g_ptr_array_unref);
  g_clear_object (&registry);

  /* An empty system path means none. */
  g_setenv (HVK_PLUGIN_PATH_ENV, good, TRUE);
  g_setenv (HVK_PLUGIN_SYSTEM_PATH_ENV, "", TRUE);
  registry = hvk_registry_new ();
  hvk_registry_scan (registry);
  plugins = hvk_registry_get_plugins (registry);
  g_assert_cmpuint (plugins->len, ==, 1);
  refusals = hvk_registry_get_refusals (registry);
  g_assert_cmpuint (refusals->len, ==, 0);

  restore_env (&saved);
}

static void
test_world_writable (void)
{
  g_autofree char *dir = make_tmpdir ();
  SavedEnv saved;

  save_env (&saved);
  link_into (dir, "good.so", "good");
  g_setenv (HVK_PLUGIN_PATH_ENV, dir, TRUE);
  g_setenv (HVK_PLUGIN_SYSTEM_PATH_ENV, "", TRUE);

  {
    g_autoptr(HvkRegistry) registry = hvk_registry_new ();
    g_autoptr(GPtrArray) refusals = NULL;
    g_autoptr(GPtrArray) plugins = NULL;
    g_autoptr(GError) error = NULL;
    GError *refusal;

    g_assert_cmpint (g_chmod (dir, 0777), ==, 0);
    hvk_registry_scan (registry);
    plugins = hvk_registry_get_plugins (registry);
    g_assert_cmpuint (plugins->len, ==, 0);
    refusals = hvk_registry_get_refusals (registry);
    g_assert_cmpuint (refusals->len, ==, 1);
    refusal = g_ptr_array_index (refusals, 0);
    g_assert_error (refusal, HVK_ERROR, HVK_ERROR_PLUGIN);
    assert_contains (refusal->message, dir);
    assert_contains (refusal->message, "world-writable");

    g_assert_false (hvk_registry_scan_path (registry, dir, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_PLUGIN);
  }

  {
    /* Sticky, like /tmp: accepted. */
    g_autoptr(HvkRegistry) registry = hvk_registry_new ();
    g_autoptr(GPtrArray) refusals = NULL;

    g_assert_cmpint (g_chmod (dir, 01777), ==, 0);
    hvk_registry_scan (registry);
    refusals = hvk_registry_get_refusals (registry);
    g_assert_cmpuint (refusals->len, ==, 0);
    g_assert_nonnull (hvk_registry_lookup_plugin (registry, "good"));
  }

  restore_env (&saved);
  rm_rf (dir);
}

static void
test_default (void)
{
  g_autofree char *good = zoo_dir ("good");
  HvkRegistry *registry;
  SavedEnv saved;

  save_env (&saved);
  g_setenv (HVK_PLUGIN_PATH_ENV, good, TRUE);
  g_setenv (HVK_PLUGIN_SYSTEM_PATH_ENV, "", TRUE);

  registry = hvk_registry_get_default ();
  g_assert_true (HVK_IS_REGISTRY (registry));
  g_assert_true (hvk_registry_get_default () == registry);
  g_assert_nonnull (hvk_registry_lookup_plugin (registry, "good"));
  g_assert_nonnull (hvk_registry_lookup_backend (registry, "testbe"));

  restore_env (&saved);
}

/* ---- plugin cache ----------------------------------------------------- */

#define CACHE_ENV "HVKIT_REGISTRY_CACHE"

/* Whether this process has @file_name (a base name) mapped: a plugin is
 * resident once loaded, so the cache tests that count loads run in a
 * subprocess of their own. */
static gboolean
is_mapped (const char *file_name)
{
  g_autofree char *maps = NULL;
  g_autofree char *needle = g_strconcat ("/", file_name, "\n", NULL);

  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  return strstr (maps, needle) != NULL;
}

static char *
read_text (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  g_assert_no_error (error);
  return text;
}

static void
write_text (const char *path,
            const char *text,
            int         mode)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents_full (path, text, -1,
                                           G_FILE_SET_CONTENTS_NONE, mode,
                                           &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, mode), ==, 0);  /* whatever the umask */
}

static guint
count_substrings (const char *haystack,
                  const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL;
       p = strstr (p + 1, needle))
    n++;
  return n;
}

static HvkRegistry *
new_scanned (void)
{
  HvkRegistry *registry = hvk_registry_new ();

  hvk_registry_scan (registry);
  return registry;
}

static guint
n_refusals (HvkRegistry *registry)
{
  g_autoptr(GPtrArray) refusals = hvk_registry_get_refusals (registry);

  return refusals->len;
}

/* The build tree's backends (mock, qemu, acrn on HVKIT_PLUGIN_PATH): with
 * the cache, a process that uses mock maps libhvkit-mock.so only. */
static void
test_cache_loads_only_needed (void)
{
  static const char *files[] = {
    "libhvkit-mock.so", "libhvkit-qemu.so", "libhvkit-acrn.so",
  };

  if (g_test_subprocess ())
    {
      g_autoptr(HvkRegistry) registry = new_scanned ();
      g_autoptr(HvkConfig) config = hvk_config_new ("mock");
      g_autoptr(HvkHypervisor) hypervisor = NULL;
      g_autoptr(GPtrArray) backends = NULL;
      g_autoptr(GError) error = NULL;

      for (guint i = 0; i < G_N_ELEMENTS (files); i++)
        g_assert_false (is_mapped (files[i]));

      hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
      g_assert_no_error (error);
      g_assert_nonnull (hypervisor);
      g_assert_true (is_mapped ("libhvkit-mock.so"));
      g_assert_false (is_mapped ("libhvkit-qemu.so"));
      g_assert_false (is_mapped ("libhvkit-acrn.so"));

      /* A backend nobody provides loads nothing. */
      g_assert_null (hvk_registry_lookup_backend (registry, "nosuch"));
      g_assert_false (is_mapped ("libhvkit-qemu.so"));

      /* Another backend loads its plugin. */
      g_assert_nonnull (hvk_registry_lookup_backend (registry, "qemu"));
      g_assert_true (is_mapped ("libhvkit-qemu.so"));
      g_assert_false (is_mapped ("libhvkit-acrn.so"));

      /* Listing loads all. */
      backends = hvk_registry_get_backends (registry);
      g_assert_cmpuint (backends->len, ==, 3);
      g_assert_true (is_mapped ("libhvkit-acrn.so"));
      g_assert_cmpuint (n_refusals (registry), ==, 0);
      return;
    }
  else
    {
      g_autofree char *tmp = make_tmpdir ();
      g_autofree char *cache = g_build_filename (tmp, "sub", "registry.json", NULL);
      g_autofree char *text = NULL;
      g_autoptr(HvkRegistry) registry = NULL;
      struct stat st;

      g_setenv (CACHE_ENV, cache, TRUE);
      registry = new_scanned ();
      g_assert_cmpuint (n_refusals (registry), ==, 0);
      /* Written, private, with its directory. */
      g_assert_cmpint (stat (cache, &st), ==, 0);
      g_assert_cmpint (st.st_mode & 0777, ==, 0600);
      text = read_text (cache);
      for (guint i = 0; i < G_N_ELEMENTS (files); i++)
        assert_contains (text, files[i]);

      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();

      /* Disabled: nothing written. */
      g_assert_cmpint (g_unlink (cache), ==, 0);
      g_setenv (CACHE_ENV, "none", TRUE);
      g_clear_object (&registry);
      registry = new_scanned ();
      g_assert_false (g_file_test (cache, G_FILE_TEST_EXISTS));

      rm_rf (tmp);
    }
}

/* A scan directory: addon (an appender on testbe for `block` and a
 * policy for every backend) before good, extra-appender (which needs
 * good's kind) after it.  Returns the directory; the cache file is in it. */
static char *
make_zoo_scan_dir (char **cache)
{
  char *tmp = make_tmpdir ();
  g_autofree char *plugins = g_build_filename (tmp, "plugins", NULL);

  g_assert_cmpint (g_mkdir (plugins, 0755), ==, 0);
  /* Links, not copies: a copy would register the plugin's GTypes a
   * second time in this process. */
  link_into (plugins, "a-addon.so", "addon");
  link_into (plugins, "b-good.so", "good");
  link_into (plugins, "c-extra.so", "extra-appender");
  *cache = g_build_filename (tmp, "registry.json", NULL);
  g_setenv (HVK_PLUGIN_PATH_ENV, plugins, TRUE);
  g_setenv (HVK_PLUGIN_SYSTEM_PATH_ENV, "", TRUE);
  g_setenv (CACHE_ENV, *cache, TRUE);
  return tmp;
}

/* What the zoo makes of testbe: a block device's and a widget's argv and
 * the kernel command line. */
static char *
describe_testbe (HvkRegistry *registry)
{
  g_autoptr(HvkConfig) config = hvk_config_new ("testbe");
  g_autoptr(HvkBuildContext) ctx = NULL;
  g_autoptr(HvkDevice) disk = NULL;
  g_autoptr(HvkDevice) widget = NULL;
  g_autoptr(GPtrArray) params = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *disk_args = NULL;
  g_autofree char *widget_args = NULL;
  g_autofree char *text = NULL;

  disk = new_device (registry, "block", "disk0");
  disk_args = append_to_string (registry, "testbe", disk, &error);
  g_assert_no_error (error);
  widget = new_device (registry, "test-widget", "w0");
  widget_args = append_to_string (registry, "testbe", widget, &error);
  g_assert_no_error (error);
  ctx = hvk_build_context_new (registry, NULL, "vm0", config);
  params = hvk_registry_build_kernel_params (registry, ctx, &error);
  g_assert_no_error (error);
  text = params_to_string (params);
  return g_strdup_printf ("%s | %s | %s", disk_args, widget_args, text);
}

/* Addon plugins are loaded with the backend they extend: a process using
 * the cache builds what a full scan builds. */
static void
test_cache_addons (void)
{
  g_autofree char *cache = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *plugins = NULL;
  g_autofree char *full = NULL;
  g_autofree char *cached = NULL;
  g_autoptr(HvkRegistry) registry = NULL;
  SavedEnv saved;

  if (g_test_subprocess ())
    {
      registry = new_scanned ();
      g_assert_false (is_mapped ("libhvktest-addon.so"));
      g_assert_false (is_mapped ("libhvktest-good.so"));
      g_assert_false (is_mapped ("libhvktest-extra-appender.so"));
      cached = describe_testbe (registry);
      g_assert_true (is_mapped ("libhvktest-addon.so"));
      g_assert_true (is_mapped ("libhvktest-good.so"));
      g_assert_true (is_mapped ("libhvktest-extra-appender.so"));
      g_print ("%s\n", cached);
      return;
    }

  save_env (&saved);
  tmp = make_zoo_scan_dir (&cache);
  plugins = g_build_filename (tmp, "plugins", NULL);

  /* Without the cache. */
  registry = hvk_registry_new ();
  g_assert_true (hvk_registry_scan_path (registry, plugins, NULL));
  full = describe_testbe (registry);
  assert_contains (full, "-addon-block disk0");
  assert_contains (full, "addon-base=1");
  g_clear_object (&registry);

  /* Written by a scan, used by the next process. */
  registry = new_scanned ();
  g_assert_true (g_file_test (cache, G_FILE_TEST_IS_REGULAR));
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  cached = g_strconcat (full, "\n", NULL);
  g_test_trap_assert_stdout (cached);

  rm_rf (tmp);
  restore_env (&saved);
}

/* A changed, added or removed plugin file makes the cache stale: it is
 * rebuilt.  Unchanged, it is used as it is. */
static void
test_cache_stale (void)
{
  g_autofree char *cache = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *plugins = NULL;
  g_autofree char *good = zoo_path ("good");
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *mtime = NULL;
  g_autofree char *extra = NULL;
  g_autofree char *mock = NULL;
  g_autoptr(HvkRegistry) registry = NULL;
  struct timespec times[2] = { { 0, UTIME_OMIT }, { 1000000000, 5 } };
  struct timespec saved_times[2];
  struct stat st, st2;
  SavedEnv saved;

  save_env (&saved);
  tmp = make_zoo_scan_dir (&cache);
  plugins = g_build_filename (tmp, "plugins", NULL);

  registry = new_scanned ();
  before = read_text (cache);
  g_assert_cmpuint (count_substrings (before, "\nP\t"), ==, 3);
  g_clear_object (&registry);

  /* Unchanged: read, not rewritten. */
  g_assert_cmpint (stat (cache, &st), ==, 0);
  registry = new_scanned ();
  g_assert_nonnull (hvk_registry_lookup_backend (registry, "testbe"));
  g_assert_cmpint (stat (cache, &st2), ==, 0);
  g_assert_cmpuint (st.st_ino, ==, st2.st_ino);
  g_clear_object (&registry);

  /* Touched: another mtime (the zoo's file; its times are put back). */
  g_assert_cmpint (stat (good, &st), ==, 0);
  saved_times[0] = st.st_atim;
  saved_times[1] = st.st_mtim;
  g_assert_cmpint (utimensat (AT_FDCWD, good, times, 0), ==, 0);
  registry = new_scanned ();
  g_assert_nonnull (hvk_registry_lookup_backend (registry, "testbe"));
  after = read_text (cache);
  g_assert_cmpint (utimensat (AT_FDCWD, good, saved_times, 0), ==, 0);
  g_assert_cmpstr (before, !=, after);
  mtime = g_strdup_printf ("\t%" G_GINT64_FORMAT "\t",
                           (gint64) 1000000000 * 1000000000 + 5);
  assert_contains (after, mtime);
  g_clear_object (&registry);
  g_clear_pointer (&after, g_free);

  /* A plugin added (the build tree's mock, linked). */
  mock = g_test_build_filename (G_TEST_BUILT, "..", "plugins", "mock",
                                "libhvkit-mock.so", NULL);
  {
    g_autofree char *link = g_build_filename (plugins, "d-mock.so", NULL);

    g_assert_cmpint (symlink (mock, link), ==, 0);
  }
  registry = new_scanned ();
  g_assert_cmpuint (n_refusals (registry), ==, 0);
  after = read_text (cache);
  g_assert_cmpuint (count_substrings (after, "\nP\t"), ==, 4);
  assert_contains (after, "d-mock.so");
  g_clear_object (&registry);
  g_clear_pointer (&after, g_free);

  /* One removed. */
  extra = g_build_filename (plugins, "c-extra.so", NULL);
  g_assert_cmpint (g_unlink (extra), ==, 0);
  registry = new_scanned ();
  g_assert_nonnull (hvk_registry_lookup_backend (registry, "mock"));
  after = read_text (cache);
  g_assert_cmpuint (count_substrings (after, "\nP\t"), ==, 3);
  g_assert_null (strstr (after, "c-extra.so"));

  rm_rf (tmp);
  restore_env (&saved);
}

/* Garbage, a file of another version, one cut short, records of the
 * wrong shape: ignored and rewritten. */
static void
test_cache_corrupt (void)
{
  g_autofree char *cache = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *good = NULL;
  SavedEnv saved;

  save_env (&saved);
  tmp = make_zoo_scan_dir (&cache);
  g_autoptr(GPtrArray) bad = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) parts = NULL;

  {
    g_autoptr(HvkRegistry) registry = new_scanned ();
    good = read_text (cache);
  }
  g_ptr_array_add (bad, g_strdup ("{not a cache"));
  g_ptr_array_add (bad, g_strdup (""));
  g_ptr_array_add (bad, g_strdup ("hvkit-registry-cache\t1\t0.0.0-other\t1\tx86_64\t3\n"));
  /* Cut short. */
  g_ptr_array_add (bad, g_strndup (good, strlen (good) - 2));
  g_ptr_array_add (bad, g_strndup (good, strlen (good) / 2));
  /* A record of the wrong shape, a number that is none. */
  parts = g_strsplit (good, "\nB\t", 2);
  g_ptr_array_add (bad, g_strjoinv ("\nB\tx\t", parts));
  g_clear_pointer (&parts, g_strfreev);
  parts = g_strsplit (good, "\nB\ttestbe\t", 2);
  g_ptr_array_add (bad, g_strjoinv ("\nB\ttestbe\t-", parts));
  /* Binary garbage. */
  g_ptr_array_add (bad, g_strdup ("\x7f" "ELF\x01\x02"));

  for (guint i = 0; i < bad->len; i++)
    {
      g_autoptr(HvkRegistry) registry = NULL;
      g_autofree char *text = NULL;

      write_text (cache, g_ptr_array_index (bad, i), 0600);
      registry = new_scanned ();
      g_assert_cmpuint (n_refusals (registry), ==, 0);
      g_assert_nonnull (hvk_registry_lookup_backend (registry, "testbe"));
      text = read_text (cache);
      g_assert_cmpstr (text, ==, good);
    }

  rm_rf (tmp);
  restore_env (&saved);
}

/* A cache anyone else could have written is not believed.  To tell,
 * the cache is tampered with: trusted, it hides backend testbe. */
static void
test_cache_untrusted (void)
{
  g_autofree char *cache = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *good = NULL;
  g_auto(GStrv) parts = NULL;
  g_autofree char *tampered = NULL;
  SavedEnv saved;
  struct stat st;

  save_env (&saved);
  tmp = make_zoo_scan_dir (&cache);
  /* good alone: the others would bring it in for its kind. */
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *link = g_build_filename (tmp, "plugins",
                                                i == 0 ? "a-addon.so" : "c-extra.so",
                                                NULL);

      g_assert_cmpint (g_unlink (link), ==, 0);
    }
  {
    g_autoptr(HvkRegistry) registry = new_scanned ();
    good = read_text (cache);
  }
  parts = g_strsplit (good, "testbe", -1);
  tampered = g_strjoinv ("hidden", parts);

  /* Ours and private: believed (the tampering shows). */
  write_text (cache, tampered, 0600);
  {
    g_autoptr(HvkRegistry) registry = new_scanned ();

    g_assert_null (hvk_registry_lookup_backend (registry, "testbe"));
  }

  /* Writable by others, or by the group: ignored and rewritten 0600. */
  for (int mode = 0; mode < 2; mode++)
    {
      g_autoptr(HvkRegistry) registry = NULL;
      g_autofree char *text = NULL;

      write_text (cache, tampered, mode == 0 ? 0666 : 0620);
      registry = new_scanned ();
      g_assert_nonnull (hvk_registry_lookup_backend (registry, "testbe"));
      text = read_text (cache);
      g_assert_cmpstr (text, ==, good);
      g_assert_cmpint (stat (cache, &st), ==, 0);
      g_assert_cmpint (st.st_mode & 0777, ==, 0600);
    }

  /* A symlink is not followed. */
  {
    g_autoptr(HvkRegistry) registry = NULL;
    g_autofree char *elsewhere = g_build_filename (tmp, "elsewhere.json", NULL);

    write_text (elsewhere, tampered, 0600);
    g_assert_cmpint (g_unlink (cache), ==, 0);
    g_assert_cmpint (symlink (elsewhere, cache), ==, 0);
    registry = new_scanned ();
    g_assert_nonnull (hvk_registry_lookup_backend (registry, "testbe"));
  }

  /* Owned by another user. */
  if (geteuid () == 0)
    {
      g_autoptr(HvkRegistry) registry = NULL;
      g_autofree char *text = NULL;

      g_assert_cmpint (g_unlink (cache), ==, 0);
      write_text (cache, tampered, 0600);
      g_assert_cmpint (chown (cache, 65534, 65534), ==, 0);
      registry = new_scanned ();
      g_assert_nonnull (hvk_registry_lookup_backend (registry, "testbe"));
      g_assert_cmpint (stat (cache, &st), ==, 0);
      g_assert_cmpint (st.st_uid, ==, 0);
      text = read_text (cache);
      g_assert_cmpstr (text, ==, good);
    }
  else
    g_test_message ("not root: the other-owner case needs chown");

  rm_rf (tmp);
  restore_env (&saved);
}

/* A scan that refused a plugin is not cached: the refusal is reported
 * by every process. */
static void
test_cache_refusals (void)
{
  g_autofree char *cache = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *plugins = NULL;
  SavedEnv saved;

  save_env (&saved);
  tmp = make_zoo_scan_dir (&cache);
  plugins = g_build_filename (tmp, "plugins", NULL);
  link_into (plugins, "e-init-fails.so", "init-fails");

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(HvkRegistry) registry = new_scanned ();
      g_autoptr(GPtrArray) refusals = hvk_registry_get_refusals (registry);

      g_assert_cmpuint (refusals->len, ==, 1);
      assert_contains (((GError *) g_ptr_array_index (refusals, 0))->message,
                       "init failed");
      g_assert_false (g_file_test (cache, G_FILE_TEST_EXISTS));
      g_assert_nonnull (hvk_registry_lookup_backend (registry, "testbe"));
    }

  rm_rf (tmp);
  restore_env (&saved);
}

/* ---- threads ---------------------------------------------------------- */

typedef struct
{
  HvkRegistry *registry;
  HvkConfig *config;
  guint created;
} ThreadData;

static gpointer
create_in_thread (gpointer data)
{
  ThreadData *td = data;

  for (guint i = 0; i < 200; i++)
    {
      g_autoptr(HvkHypervisor) hv = hvk_registry_create_hypervisor (td->registry, td->config, NULL);
      g_autoptr(GPtrArray) backends = hvk_registry_get_backends (td->registry);

      if (hv != NULL)
        td->created++;
      g_assert_true (hvk_registry_has_device_appender (td->registry, "testbe", "test-widget"));
    }
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(HvkConfig) config = hvk_config_new ("testbe");
  ThreadData data[4];
  GThread *threads[4];

  load_ok (registry, "good");
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      data[i] = (ThreadData) { registry, config, 0 };
      threads[i] = g_thread_new ("creator", create_in_thread, &data[i]);
    }
  /* Loads and refusals while the others look up. */
  load_ok (registry, "addon");
  g_free (load_refused (registry, "init-fails", HVK_ERROR_PLUGIN));
  load_ok (registry, "extra-appender");
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      g_thread_join (threads[i]);
      g_assert_cmpuint (data[i].created, ==, 200);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hvk/registry/new", test_new);
  g_test_add_func ("/hvk/registry/load-good", test_load_good);
  g_test_add_func ("/hvk/registry/double-load", test_double_load);
  g_test_add_func ("/hvk/registry/refused/bad-abi", test_bad_abi);
  g_test_add_func ("/hvk/registry/refused/no-desc", test_no_desc);
  g_test_add_func ("/hvk/registry/refused/bad-name", test_bad_name);
  g_test_add_func ("/hvk/registry/refused/no-init", test_no_init);
  g_test_add_func ("/hvk/registry/refused/not-elf", test_not_elf);
  g_test_add_func ("/hvk/registry/refused/missing-file", test_missing_file);
  g_test_add_func ("/hvk/registry/refused/init-fails", test_init_fails);
  g_test_add_func ("/hvk/registry/refused/init-false", test_init_false);
  g_test_add_func ("/hvk/registry/refused/dup-name", test_dup_name);
  g_test_add_func ("/hvk/registry/appender/priority", test_appender_priority);
  g_test_add_func ("/hvk/registry/appender/needs-kind", test_appender_needs_kind);
  g_test_add_func ("/hvk/registry/appender/before-backend", test_appender_before_backend);
  g_test_add_func ("/hvk/registry/kernel-params/phases", test_kernel_params_phases);
  g_test_add_func ("/hvk/registry/kernel-params/priorities", test_kernel_params_priorities);
  g_test_add_func ("/hvk/registry/kernel-params/errors", test_kernel_params_errors);
  g_test_add_func ("/hvk/registry/register/backend", test_register_backend_errors);
  g_test_add_func ("/hvk/registry/register/kind-appender", test_register_kind_and_appender_errors);
  g_test_add_func ("/hvk/registry/register/config-keys", test_register_config_key_errors);
  g_test_add_func ("/hvk/registry/register/refused-keys", test_register_refused_keys);
  g_test_add_func ("/hvk/registry/register/path-keys", test_register_path_keys);
  g_test_add_func ("/hvk/registry/register/static", test_static_plugin);
  g_test_add_func ("/hvk/registry/create-hypervisor", test_create_hypervisor);
  g_test_add_func ("/hvk/registry/hotplug-handlers", test_hotplug_handlers);
  g_test_add_func ("/hvk/registry/scan/path", test_scan_path);
  g_test_add_func ("/hvk/registry/scan/env", test_scan_env);
  g_test_add_func ("/hvk/registry/scan/world-writable", test_world_writable);
  g_test_add_func ("/hvk/registry/default", test_default);
  g_test_add_func ("/hvk/registry/cache/loads-only-needed", test_cache_loads_only_needed);
  g_test_add_func ("/hvk/registry/cache/addons", test_cache_addons);
  g_test_add_func ("/hvk/registry/cache/stale", test_cache_stale);
  g_test_add_func ("/hvk/registry/cache/corrupt", test_cache_corrupt);
  g_test_add_func ("/hvk/registry/cache/untrusted", test_cache_untrusted);
  g_test_add_func ("/hvk/registry/cache/refusals", test_cache_refusals);
  /* Last: once threads exist, the tests above could not setenv(). */
  g_test_add_func ("/hvk/registry/threads/lookups", test_threads);

  return g_test_run ();
}
