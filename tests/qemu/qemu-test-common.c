/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "hvk-qemu-private.h"
#include "qemu-test-common.h"

static gboolean
qemu_test_plugin_init (HvkPlugin  *plugin,
                       GError    **error)
{
  /* What the real plugin's entry does, minus the lifecycle: the command
   * line needs keys, kinds, appenders and policies only. */
  return hvk_qemu_register_config_keys (plugin, error) &&
         hvk_qemu_register_appenders (plugin, error) &&
         hvk_qemu_register_kernel_policies (plugin, error) &&
         hvk_plugin_register_backend (plugin, HVK_QEMU_BACKEND_NAME, HVK_TYPE_QEMU_HYPERVISOR,
                                      hvk_qemu_capabilities_for_config (NULL), error);
}

static const HvkPluginDesc qemu_test_desc = {
  HVK_PLUGIN_ABI_VERSION, "qemu", "QEMU backend (linked into the test)", PACKAGE_VERSION,
  "Apache-2.0", qemu_test_plugin_init, { NULL, }
};

HvkRegistry *
qemu_test_registry_new (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (hvk_registry_register_static_plugin (registry, &qemu_test_desc, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&registry);
}

static void
make_file (const char *dir,
           const char *name,
           gsize       size)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, (off_t) size), ==, 0);
  g_assert_cmpint (close (fd), ==, 0);
}

/* The files golden configurations name through @DATADIR@: placeholders
 * of the right size for QEMU to accept them (an NVDIMM image, flash
 * images, disks, a shared directory). */
char *
qemu_test_make_data_dir (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hvkit-qemu-XXXXXX", &error);
  g_autofree char *share = NULL;

  g_assert_no_error (error);
  make_file (dir, "vmlinuz", 0);
  make_file (dir, "initrd.img", 0);
  make_file (dir, "rootfs.img", 4 * 1024 * 1024);
  make_file (dir, "disk.img", 1024 * 1024);
  make_file (dir, "disk,1.img", 1024 * 1024);
  make_file (dir, "flash0.img", 128 * 1024);
  make_file (dir, "flash1.img", 128 * 1024);
  make_file (dir, "bios.bin", 256 * 1024);
  share = g_build_filename (dir, "share", NULL);
  g_assert_cmpint (g_mkdir (share, 0755), ==, 0);
  return g_steal_pointer (&dir);
}

void
qemu_test_remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        qemu_test_remove_dir (path);
      else
        g_unlink (path);
    }
  g_rmdir (dir);
}

char *
qemu_test_golden_dir (void)
{
  return g_test_build_filename (G_TEST_DIST, "golden", "qemu", NULL);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Golden case names (NAME of NAME.conf), sorted. */
GStrv
qemu_test_list_goldens (void)
{
  g_autofree char *dir = qemu_test_golden_dir ();
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".conf"))
      g_ptr_array_add (names, g_strndup (name, strlen (name) - strlen (".conf")));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

char *
qemu_test_replace (const char *text,
                   const char *from,
                   const char *to)
{
  g_auto(GStrv) parts = g_strsplit (text, from, -1);

  return g_strjoinv (to, parts);
}

HvkConfig *
qemu_test_load_config (HvkRegistry *registry,
                       const char  *name,
                       const char  *text,
                       const char  *data_dir,
                       GError     **error)
{
  g_autofree char *expanded = qemu_test_replace (text, QEMU_TEST_DATADIR_TOKEN, data_dir);
  g_autofree char *source = g_strdup_printf ("%s.conf", name);
  g_autoptr(HvkConfig) config = hvk_config_new_from_data (expanded, -1, source, registry, error);

  if (config == NULL)
    return NULL;
  hvk_config_set_vm_store_path (config, QEMU_TEST_STORE);
  return g_steal_pointer (&config);
}

HvkCmdline *
qemu_test_build (HvkRegistry *registry,
                 HvkConfig   *config,
                 GError     **error)
{
  HvkQemuPaths paths = { 0, };
  g_autoptr(HvkQemuLayout) layout = NULL;
  HvkCmdline *cmdline;

  paths.vm_dir = g_build_filename (QEMU_TEST_STORE, QEMU_TEST_ID, NULL);
  paths.qmp_socket = g_build_filename (paths.vm_dir, "qmp.sock", NULL);
  paths.events_socket = g_build_filename (paths.vm_dir, "events.sock", NULL);
  paths.console_socket = g_build_filename (paths.vm_dir, "console.sock", NULL);
  paths.pid_file = g_build_filename (paths.vm_dir, "pid", NULL);
  paths.virtiofsd_socket = g_build_filename (paths.vm_dir, "vhost-fs.sock", NULL);

  g_setenv ("HVKIT_TEST_UUID", QEMU_TEST_UUID, TRUE);
  cmdline = hvk_qemu_build_cmdline (registry, QEMU_TEST_ID, config, NULL, &paths, NULL, &layout,
                                    NULL, NULL, error);
  hvk_qemu_paths_clear (&paths);
  return cmdline;
}

/* One argument per line, the data directory folded back to its token. */
char *
qemu_test_argv_to_lines (HvkCmdline *cmdline,
                         const char *data_dir)
{
  const char * const *argv = hvk_cmdline_get_argv (cmdline);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; argv[i] != NULL; i++)
    {
      g_autofree char *arg = qemu_test_replace (argv[i], data_dir, QEMU_TEST_DATADIR_TOKEN);

      g_string_append (out, arg);
      g_string_append_c (out, '\n');
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
