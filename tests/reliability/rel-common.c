/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "rel-common.h"

void
rel_env_init (RelEnv *env)
{
  g_autoptr(GError) error = NULL;
  const char *srcdir = g_getenv ("HVK_RELIABILITY_SRCDIR");

  memset (env, 0, sizeof *env);
  if (g_test_subprocess () && g_getenv ("HVK_REL_PARENT_TMPDIR") != NULL)
    {
      env->tmpdir = g_strdup (g_getenv ("HVK_REL_PARENT_TMPDIR"));
      env->borrowed = TRUE;
    }
  else
    {
      env->tmpdir = g_dir_make_tmp ("hvkrel-XXXXXX", &error);
      g_assert_no_error (error);
      g_setenv ("HVK_REL_PARENT_TMPDIR", env->tmpdir, TRUE);
      /* Stand-ins exit when this program dies. */
      {
        g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());
        g_setenv ("HVK_FAKE_QEMU_OWNER", pid, TRUE);
      }
    }
  env->store = g_build_filename (env->tmpdir, "state", NULL);
  env->kernel = g_build_filename (env->tmpdir, "vmlinuz", NULL);
  env->initrd = g_build_filename (env->tmpdir, "initrd.img", NULL);
  env->disk = g_build_filename (env->tmpdir, "disk.img", NULL);
  g_file_set_contents (env->kernel, "", 0, &error);
  g_assert_no_error (error);
  g_file_set_contents (env->initrd, "", 0, &error);
  g_assert_no_error (error);
  g_file_set_contents (env->disk, "\0\0\0\0\0\0\0\0", 8, &error);
  g_assert_no_error (error);
  g_assert_nonnull (srcdir);
  env->fake_qemu = g_build_filename (srcdir, "fake-qemu.py", NULL);
  g_assert_true (g_file_test (env->fake_qemu, G_FILE_TEST_IS_EXECUTABLE));
}

void
rel_remove_tree (const char *path)
{
  struct stat st;

  if (lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      chmod (path, 0700);
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          rel_remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

void
rel_env_clear (RelEnv *env)
{
  if (env->tmpdir != NULL && !env->borrowed)
    {
      rel_kill_processes (env->tmpdir);
      rel_remove_tree (env->tmpdir);
    }
  g_free (env->tmpdir);
  g_free (env->store);
  g_free (env->kernel);
  g_free (env->initrd);
  g_free (env->disk);
  g_free (env->fake_qemu);
  memset (env, 0, sizeof *env);
}

char *
rel_write_config (RelEnv     *env,
                  const char *name,
                  const char *extra)
{
  g_autofree char *file = g_strdup_printf ("%s.conf", name);
  g_autofree char *dir = g_path_get_dirname (env->fake_qemu);
  char *path = g_build_filename (env->tmpdir, file, NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  text = g_strdup_printf ("[hypervisor]\nbackend=qemu\n\n[hypervisor.qemu]\n"
                          "path=%s\n"
                          "valid_hypervisor_paths=%s/fake-*\n"
                          "kernel=%s\ninitrd=%s\n"
                          "machine_type=q35\nmachine_accelerators=accel=tcg\n"
                          "default_vcpus=1\ndefault_maxvcpus=2\n"
                          "default_memory=256\ndefault_maxmemory=1024\n"
                          "memory_slots=4\ndefault_bridges=1\n"
                          "block_device_driver=virtio-blk\n%s\n",
                          env->fake_qemu, dir, env->kernel, env->initrd,
                          extra ? extra : "");
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  return path;
}

HvkRegistry *
rel_registry_new (void)
{
  HvkRegistry *registry = hvk_registry_new ();

  hvk_registry_scan (registry);
  g_assert_nonnull (hvk_registry_lookup_backend (registry, "qemu"));
  return registry;
}

HvkHypervisor *
rel_create_vm (RelEnv      *env,
               HvkRegistry *registry,
               const char  *conf,
               const char  *id)
{
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;

  config = hvk_config_new_from_file (conf, registry, &error);
  g_assert_no_error (error);
  hvk_config_set_vm_store_path (config, env->store);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  hvk_hypervisor_create_vm (hypervisor, id, config, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&hypervisor);
}

guint
rel_count_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* The core's liveness (tested on its own in tests/core/test-process.c):
 * a dead orphan stays a zombie until PID 1 reaps it, so not kill(pid, 0). */
gboolean
rel_pid_alive (int pid)
{
  return hvk_process_is_alive (pid, 0);
}

gboolean
rel_wait_pid_dead (int   pid,
                   guint timeout_ms)
{
  return hvk_process_wait_dead (pid, 0, g_get_monotonic_time () + (gint64) timeout_ms * 1000);
}

int
rel_read_pid_file (const char *path)
{
  int pid = 0;

  return hvk_process_read_pid_file (path, &pid, NULL) ? pid : 0;
}

static GArray *
find_processes (const char *needle)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc", 0, NULL);
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (int));
  const char *name;
  int self = getpid ();

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *cmdline = NULL;
      gsize len = 0;
      int pid = (int) g_ascii_strtoll (name, NULL, 10);

      if (pid <= 0 || pid == self || !rel_pid_alive (pid))
        continue;
      path = g_strdup_printf ("/proc/%d/cmdline", pid);
      if (!g_file_get_contents (path, &cmdline, &len, NULL))
        continue;
      for (gsize i = 0; i + 1 < len; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      if (strstr (cmdline, needle) != NULL)
        g_array_append_val (pids, pid);
    }
  return pids;
}

guint
rel_count_processes (const char *needle)
{
  g_autoptr(GArray) pids = find_processes (needle);

  for (guint i = 0; i < pids->len; i++)
    g_test_message ("process %d mentions %s", g_array_index (pids, int, i), needle);
  return pids->len;
}

void
rel_kill_processes (const char *needle)
{
  g_autoptr(GArray) pids = find_processes (needle);

  for (guint i = 0; i < pids->len; i++)
    {
      kill (g_array_index (pids, int, i), SIGKILL);
      rel_wait_pid_dead (g_array_index (pids, int, i), 3000);
    }
}

void
rel_assert_nothing_left (RelEnv     *env,
                         const char *id)
{
  g_autofree char *dir = g_build_filename (env->store, id, NULL);
  g_autoptr(GDir) store = NULL;
  const char *name;
  guint n = 0;

  /* A killed stand-in may need a moment to be reaped by init. */
  for (guint i = 0; i < 200 && rel_count_processes (env->tmpdir) > 0; i++)
    g_usleep (10000);
  g_assert_cmpuint (rel_count_processes (env->tmpdir), ==, 0);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  /* No cgroup of the VM either (where the default configuration puts
   * it). */
  {
    g_autoptr(HvkCgroup) cgroup = hvk_cgroup_lookup ("/hvkit.slice", id, HVK_CGROUP_FLAGS_NONE);

    if (cgroup != NULL)
      g_error ("VM '%s' left its cgroup %s", id, hvk_cgroup_get_dirs (cgroup)[0]);
  }
  store = g_dir_open (env->store, 0, NULL);
  while (store != NULL && (name = g_dir_read_name (store)) != NULL)
    {
      /* The logs of VMs that ran are kept on purpose (`hvkit logs`). */
      if (g_str_equal (name, HVK_VM_STORE_LOGS_DIR))
        continue;
      g_test_message ("left in the store: %s", name);
      n++;
    }
  g_assert_cmpuint (n, ==, 0);
}

int
rel_run_tool (RelEnv      *env,
              char       **out,
              char       **err,
              const char  *first_arg,
              ...)
{
  const char *tool = g_getenv ("HVKIT_TEST_TOOL");
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out_text = NULL;
  g_autofree char *err_text = NULL;
  int status = 0;
  va_list args;

  g_assert_nonnull (tool);
  g_ptr_array_add (argv, (gpointer) tool);
  g_ptr_array_add (argv, (gpointer) "--state-dir");
  g_ptr_array_add (argv, env->store);
  va_start (args, first_arg);
  for (const char *a = first_arg; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                &out_text, &err_text, &status, &error);
  g_assert_no_error (error);
  g_test_message ("hvkit %s -> %d\n%s%s", first_arg,
                  WIFEXITED (status) ? WEXITSTATUS (status) : -1, out_text, err_text);
  if (out != NULL)
    *out = g_steal_pointer (&out_text);
  if (err != NULL)
    *err = g_steal_pointer (&err_text);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}
