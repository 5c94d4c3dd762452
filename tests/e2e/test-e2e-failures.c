/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <glib/gstdio.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e-common.h"

/* Failure paths on real QEMU (or stand-ins for it): each fails with a
 * clear error and leaves no process and no VM dir behind. */

static E2eEnv env;
static HvkRegistry *registry;

/* Loads @conf and creates VM @id in @store; returns the error of
 * whichever step failed (loading, or create_vm), or NULL and the VM. */
static GError *
try_create (const char     *conf,
            const char     *store,
            const char     *id,
            HvkHypervisor **out)
{
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  GError *error = NULL;

  config = hvk_config_new_from_file (conf, registry, &error);
  if (config == NULL)
    return error;
  hvk_config_set_vm_store_path (config, store);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  if (hypervisor == NULL)
    return error;
  if (!hvk_hypervisor_create_vm (hypervisor, id, config, &error))
    return error;
  if (out != NULL)
    *out = g_steal_pointer (&hypervisor);
  return NULL;
}

static void
assert_no_vm_dir (const char *store,
                  const char *id)
{
  g_autofree char *dir = g_build_filename (store, id, NULL);
  g_autofree char *logs = hvk_vm_store_logs_dir (store, id);

  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  /* A start that failed keeps no logs either: its error carried them. */
  g_assert_false (g_file_test (logs, G_FILE_TEST_EXISTS));
}

static void
test_missing_kernel (void)
{
  g_autofree char *conf = NULL;
  g_autoptr(GError) error = NULL;

  if (e2e_env_skip (&env))
    return;
  conf = e2e_write_config (&env, "nokernel", "kernel=/nonexistent/hvkit/vmlinuz", NULL);
  error = try_create (conf, env.store, "nokernel", NULL);
  g_assert_nonnull (error);
  g_assert_true (error->domain == HVK_ERROR);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "/nonexistent/hvkit/vmlinuz"));
  assert_no_vm_dir (env.store, "nokernel");
}

static void
test_bad_qemu_path (void)
{
  g_autofree char *conf = NULL;
  g_autoptr(GError) error = NULL;

  if (e2e_env_skip (&env))
    return;
  conf = e2e_write_config (&env, "noqemu", "path=/nonexistent/hvkit/qemu-system-x86_64", NULL);
  error = try_create (conf, env.store, "noqemu", NULL);
  g_assert_nonnull (error);
  g_assert_true (error->domain == HVK_ERROR);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "/nonexistent/hvkit/qemu-system-x86_64"));
  assert_no_vm_dir (env.store, "noqemu");
}

static void
test_path_not_allowed (void)
{
  g_autofree char *conf = NULL;
  g_autoptr(GError) error = NULL;

  if (e2e_env_skip (&env))
    return;
  conf = e2e_write_config (&env, "notallowed", "valid_hypervisor_paths=/opt/hvkit-allowed/*", NULL);
  error = try_create (conf, env.store, "notallowed", NULL);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "valid_hypervisor_paths"));
  assert_no_vm_dir (env.store, "notallowed");
}

static void
test_socket_path_too_long (void)
{
  g_autofree char *conf = NULL;
  g_autofree char *longname = g_strnfill (90, 's');
  g_autofree char *store = NULL;
  g_autoptr(GError) error = NULL;

  if (e2e_env_skip (&env))
    return;
  store = g_build_filename (env.tmpdir, longname, NULL);
  conf = e2e_write_config (&env, "longsock", NULL, NULL);
  error = try_create (conf, store, "longsock", NULL);
  g_assert_nonnull (error);
  g_assert_true (error->domain == HVK_ERROR);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "longsock"));
  assert_no_vm_dir (store, "longsock");
}

/* A stand-in for QEMU that never opens QMP: a start must give up at its
 * bound, kill it and clean up. */
static void
test_start_timeout (void)
{
  g_autofree char *fake = NULL;
  g_autofree char *fake_pid_file = NULL;
  g_autofree char *script = NULL;
  g_autofree char *override = NULL;
  g_autofree char *conf = NULL;
  g_autoptr(HvkHypervisor) vm = NULL;
  g_autoptr(GError) error = NULL;
  int fake_pid;

  if (e2e_env_skip (&env))
    return;
  fake = g_build_filename (env.tmpdir, "sleepy-qemu", NULL);
  fake_pid_file = g_build_filename (env.tmpdir, "sleepy.pid", NULL);
  script = g_strdup_printf ("#!/bin/sh\necho $$ > %s\nexec sleep 60\n", fake_pid_file);
  g_assert_true (g_file_set_contents (fake, script, -1, NULL));
  g_assert_cmpint (chmod (fake, 0755), ==, 0);
  override = g_strdup_printf ("path=%s", fake);
  conf = e2e_write_config (&env, "sleepy", override, NULL);

  error = try_create (conf, env.store, "sleepy", &vm);
  g_assert_no_error (error);
  g_assert_false (hvk_hypervisor_start_vm (vm, 300, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_TIMEOUT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "300 ms"));

  fake_pid = e2e_read_pid_file (fake_pid_file);
  g_assert_cmpint (fake_pid, >, 0);
  g_assert_true (e2e_wait_pid_dead (fake_pid, 1000));
  assert_no_vm_dir (env.store, "sleepy");
  g_assert_cmpint (hvk_hypervisor_get_state (vm), ==, HVK_VM_STATE_STOPPED);
}

/* A QEMU that refuses its command line: the error carries its words. */
static void
test_start_qemu_fails (void)
{
  g_autofree char *fake = NULL;
  g_autofree char *override = NULL;
  g_autofree char *conf = NULL;
  g_autoptr(HvkHypervisor) vm = NULL;
  g_autoptr(GError) error = NULL;

  if (e2e_env_skip (&env))
    return;
  fake = g_build_filename (env.tmpdir, "angry-qemu", NULL);
  g_assert_true (g_file_set_contents (fake,
                                      "#!/bin/sh\necho 'qemu-system-x86_64: -machine q35: hvkit test refusal' >&2\nexit 1\n",
                                      -1, NULL));
  g_assert_cmpint (chmod (fake, 0755), ==, 0);
  override = g_strdup_printf ("path=%s", fake);
  conf = e2e_write_config (&env, "angry", override, NULL);

  error = try_create (conf, env.store, "angry", &vm);
  g_assert_no_error (error);
  g_assert_false (hvk_hypervisor_start_vm (vm, 10000, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "hvkit test refusal"));
  g_assert_nonnull (strstr (error->message, "status 1"));
  assert_no_vm_dir (env.store, "angry");
}

static void
test_killed_from_outside (void)
{
  g_autofree char *conf = NULL;
  g_autofree char *dir = NULL;
  g_autoptr(HvkHypervisor) vm = NULL;
  g_autoptr(GArray) pids = NULL;
  g_autoptr(GError) error = NULL;
  int pid;

  if (e2e_env_skip (&env))
    return;
  conf = e2e_write_config (&env, "victim", NULL, NULL);
  error = try_create (conf, env.store, "victim", &vm);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_start_vm (vm, 30000, NULL, &error));
  g_assert_no_error (error);
  pids = hvk_hypervisor_get_pids (vm);
  pid = g_array_index (pids, int, 0);
  e2e_track_pid (pid);
  g_assert_true (e2e_pid_alive (pid));

  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  g_assert_true (e2e_wait_pid_dead (pid, 5000));

  g_assert_false (hvk_hypervisor_check (vm, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "not running"));
  g_clear_error (&error);
  g_assert_cmpint (hvk_hypervisor_get_state (vm), ==, HVK_VM_STATE_STOPPED);

  g_assert_true (hvk_hypervisor_stop_vm (vm, FALSE, NULL, &error));
  g_assert_no_error (error);
  dir = g_build_filename (env.store, "victim", NULL);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
}

static void
test_created_not_started (void)
{
  g_autofree char *conf = NULL;
  g_autoptr(HvkHypervisor) vm = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cmdline = NULL;

  if (e2e_env_skip (&env))
    return;
  /* What `hvkit argv` does: create, read, drop; nothing stays. */
  conf = e2e_write_config (&env, "argv", NULL, NULL);
  error = try_create (conf, env.store, "argv", &vm);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_get_launch_command (vm, NULL, &cmdline, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (cmdline, "console=hvc0"));
  g_clear_object (&vm);
  assert_no_vm_dir (env.store, "argv");
}

/* virtio-fs without its daemon, or without a directory to share: the
 * start fails before QEMU runs and leaves nothing. */
static void
test_virtiofsd_missing (void)
{
  g_autofree char *share = g_build_filename (env.tmpdir, "share", NULL);
  g_autofree char *no_daemon = NULL;
  g_autofree char *no_share = NULL;
  g_autofree char *conf1 = NULL;
  g_autofree char *conf2 = NULL;
  g_autoptr(HvkHypervisor) vm1 = NULL;
  g_autoptr(HvkHypervisor) vm2 = NULL;
  g_autoptr(GError) error = NULL;

  if (e2e_env_skip (&env))
    return;
  g_assert_cmpint (g_mkdir_with_parents (share, 0700), ==, 0);
  no_daemon = g_strdup_printf ("shared_fs=virtio-fs\nshared_path=%s\nvirtio_fs_daemon=/nonexistent/virtiofsd", share);
  conf1 = e2e_write_config (&env, "nodaemon", no_daemon, NULL);
  error = try_create (conf1, env.store, "nodaemon", &vm1);
  if (error == NULL)
    {
      g_assert_false (hvk_hypervisor_start_vm (vm1, 10000, NULL, &error));
      assert_no_vm_dir (env.store, "nodaemon");
      g_assert_cmpint (hvk_hypervisor_get_state (vm1), ==, HVK_VM_STATE_STOPPED);
    }
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "/nonexistent/virtiofsd"));
  assert_no_vm_dir (env.store, "nodaemon");
  g_clear_error (&error);

  /* A daemon that says why it cannot serve and exits: its words are in
   * the error (read from its output pipe), and nothing is left. */
  {
    g_autofree char *daemon = g_build_filename (env.tmpdir, "failing-virtiofsd", NULL);
    g_autofree char *lines = NULL;
    g_autofree char *conf3 = NULL;
    g_autoptr(HvkHypervisor) vm3 = NULL;

    g_assert_true (g_file_set_contents (daemon, "#!/bin/sh\necho 'DAEMON-SAYS: cannot share' >&2\nexit 1\n",
                                        -1, NULL));
    g_assert_cmpint (g_chmod (daemon, 0700), ==, 0);
    lines = g_strdup_printf ("shared_fs=virtio-fs\nshared_path=%s\nvirtio_fs_daemon=%s", share, daemon);
    conf3 = e2e_write_config (&env, "baddaemon", lines, NULL);
    error = try_create (conf3, env.store, "baddaemon", &vm3);
    if (error == NULL)
      g_assert_false (hvk_hypervisor_start_vm (vm3, 10000, NULL, &error));
    g_assert_nonnull (error);
    g_test_message ("%s", error->message);
    g_assert_nonnull (strstr (error->message, "exited before creating"));
    g_assert_nonnull (strstr (error->message, "DAEMON-SAYS: cannot share"));
    assert_no_vm_dir (env.store, "baddaemon");
    g_clear_error (&error);
  }

  no_share = g_strdup ("shared_fs=virtio-fs\nshared_path=/nonexistent/hvkit-share");
  conf2 = e2e_write_config (&env, "noshare", no_share, NULL);
  error = try_create (conf2, env.store, "noshare", &vm2);
  if (error == NULL)
    g_assert_false (hvk_hypervisor_start_vm (vm2, 10000, NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "/nonexistent/hvkit-share"));
  assert_no_vm_dir (env.store, "noshare");
}

/* jailer_path: refused when valid_jailer_paths does not allow it or it
 * is not an executable file; a jailer that does not exec QEMU fails the
 * start: one that exits first (its status and its words), one that
 * forks QEMU and exits, one that forks it and stays (hvkit-monitor kills
 * what it left).  Nothing stays: no process, VM dir or cgroup. */
static void
test_jailer (void)
{
  static const struct {
    const char *name;
    const char *needle;
  } runs[] = {
    { "jailer-fail", "JAILER-SAYS: no confinement for this VMM" },
    { "jailer-fork", NULL },
    { "jailer-stay", "did not exec" },
  };
  g_autofree char *parent = g_strdup_printf ("/hvkit-e2e-jailer-%d.slice", (int) getpid ());
  g_autoptr(GPtrArray) parents = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(HvkCgroup) probe = NULL;
  g_autofree char *jailer = NULL;
  g_autofree char *lines = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *needle = NULL;
  g_autoptr(GError) error = NULL;

  if (e2e_env_skip (&env))
    return;
  jailer = e2e_install_jailer (&env, "jailer");
  if (jailer == NULL)
    return;

  lines = g_strdup_printf ("jailer_path=%s\nvalid_jailer_paths=/opt/hvkit-jailers/*", jailer);
  conf = e2e_write_config (&env, "jail-list", lines, NULL);
  error = try_create (conf, env.store, "jail-list", NULL);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_test_message ("%s", error->message);
  needle = g_strdup_printf ("jailer_path: '%s' is not in valid_jailer_paths", jailer);
  g_assert_nonnull (strstr (error->message, needle));
  assert_no_vm_dir (env.store, "jail-list");
  g_clear_error (&error);
  g_clear_pointer (&lines, g_free);
  g_clear_pointer (&conf, g_free);
  g_clear_pointer (&needle, g_free);

  g_assert_cmpint (g_chmod (jailer, 0644), ==, 0);
  lines = g_strdup_printf ("jailer_path=%s\nvalid_jailer_paths=%s/jailer*", jailer, env.tmpdir);
  conf = e2e_write_config (&env, "jail-noexec", lines, NULL);
  error = try_create (conf, env.store, "jail-noexec", NULL);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_test_message ("%s", error->message);
  needle = g_strdup_printf ("jailer_path: jailer %s is not an executable file", jailer);
  g_assert_nonnull (strstr (error->message, needle));
  assert_no_vm_dir (env.store, "jail-noexec");
  g_clear_error (&error);

  /* As root each VM gets a cgroup under @parent: none may stay. */
  probe = geteuid () == 0 ? hvk_cgroup_new (parent, "probe", HVK_CGROUP_FLAGS_NONE, NULL) : NULL;
  if (probe != NULL)
    {
      for (const char * const *dir = hvk_cgroup_get_dirs (probe); *dir != NULL; dir++)
        g_ptr_array_add (parents, g_path_get_dirname (*dir));
      hvk_cgroup_remove (probe, 1000, NULL);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (runs); i++)
    {
      g_autofree char *path = e2e_install_jailer (&env, runs[i].name);
      g_autofree char *run_lines = NULL;
      g_autofree char *run_conf = NULL;
      g_autofree char *pid = NULL;
      g_autofree char *left = NULL;
      g_autoptr(HvkHypervisor) vm = NULL;

      g_test_message ("%s", runs[i].name);
      run_lines = g_strdup_printf ("jailer_path=%s\nvalid_jailer_paths=%s/jailer*\nvmm_cgroup_parent=%s",
                                   path, env.tmpdir, parent);
      run_conf = e2e_write_config (&env, runs[i].name, run_lines, NULL);
      error = try_create (run_conf, env.store, runs[i].name, &vm);
      g_assert_no_error (error);
      g_assert_false (hvk_hypervisor_start_vm (vm, 30000, NULL, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, path));
      if (runs[i].needle != NULL && strstr (error->message, runs[i].needle) == NULL)
        g_error ("no '%s' in: %s", runs[i].needle, error->message);
      g_clear_error (&error);
      g_assert_cmpint (hvk_hypervisor_get_state (vm), ==, HVK_VM_STATE_STOPPED);

      /* The jailer ran (with QEMU's command line); it and what it
       * forked are gone. */
      pid = e2e_jailer_record (path, "pid");
      g_assert_nonnull (pid);
      g_assert_true (e2e_wait_pid_dead (atoi (pid), 5000));
      left = e2e_jailer_record (path, "left");
      g_assert_true ((left != NULL) == (i > 0));
      if (left != NULL)
        g_assert_true (e2e_wait_pid_dead (atoi (left), 5000));
      assert_no_vm_dir (env.store, runs[i].name);
      for (guint j = 0; j < parents->len; j++)
        {
          g_autofree char *dir = g_build_filename (parents->pdata[j], runs[i].name, NULL);

          g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
        }
    }
  for (guint j = 0; j < parents->len; j++)
    g_rmdir (parents->pdata[j]);
}

/* Runs a failure test and checks it left no descriptor open. */
static void
run_without_fd_leak (gconstpointer data)
{
  GTestFunc func = (GTestFunc) data;
  guint before = e2e_count_fds ();

  func ();
  g_assert_cmpuint (e2e_count_fds (), ==, before);
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  e2e_env_init (&env);
  if (env.skip_reason == NULL)
    registry = e2e_registry_new ();

  g_test_add_data_func ("/hvk/e2e/failures/missing-kernel", test_missing_kernel, run_without_fd_leak);
  g_test_add_data_func ("/hvk/e2e/failures/bad-qemu-path", test_bad_qemu_path, run_without_fd_leak);
  g_test_add_data_func ("/hvk/e2e/failures/path-not-allowed", test_path_not_allowed, run_without_fd_leak);
  g_test_add_data_func ("/hvk/e2e/failures/socket-path-too-long", test_socket_path_too_long, run_without_fd_leak);
  g_test_add_data_func ("/hvk/e2e/failures/start-timeout", test_start_timeout, run_without_fd_leak);
  g_test_add_data_func ("/hvk/e2e/failures/qemu-refuses", test_start_qemu_fails, run_without_fd_leak);
  g_test_add_data_func ("/hvk/e2e/failures/killed-from-outside", test_killed_from_outside, run_without_fd_leak);
  g_test_add_data_func ("/hvk/e2e/failures/created-not-started", test_created_not_started, run_without_fd_leak);
  g_test_add_data_func ("/hvk/e2e/failures/virtiofsd-missing", test_virtiofsd_missing, run_without_fd_leak);
  g_test_add_data_func ("/hvk/e2e/failures/jailer", test_jailer, run_without_fd_leak);

  ret = g_test_run ();
  g_clear_object (&registry);
  e2e_env_clear (&env);
  return ret;
}
