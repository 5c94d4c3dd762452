/* SPDX-License-Identifier: Apache-2.0 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "config.h"

#include <hvkit/hvkit.h>

#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "e2e-common.h"

/* The unprivileged VMM (rootless=true), as root under TCG: QEMU runs as
 * the configured uid/gid/groups under seccomp, boots the guest with a
 * root-only disk passed as descriptors, pauses, resumes, hot-plugs a
 * root-only disk through add-fd, cannot open a root-only file the config
 * does not name, and leaves nothing behind at stop.  It is started under
 * a jailer (jailer_path, tests/e2e/jailer-record.sh), which runs as the
 * VMM's identity and execs QEMU: QEMU keeps its pid and the jailer's
 * marks.  The identity is numeric and has no passwd entry (CI's minimal
 * Debian needs no useradd). */

#define TEST_UID "64242"
#define TEST_GID "64242"
#define TEST_GROUP "64243"

static E2eEnv env;
static HvkRegistry *registry;

static char *
root_only_file (const char *name)
{
  char *path = g_build_filename (env.tmpdir, name, NULL);

  g_assert_true (g_file_set_contents (path, "", 0, NULL));
  g_assert_cmpint (truncate (path, 8 * 1024 * 1024), ==, 0);
  g_assert_cmpint (chmod (path, 0600), ==, 0);
  return path;
}

static gboolean
need_root (void)
{
  if (e2e_env_skip (&env))
    return FALSE;
  if (geteuid () != 0)
    {
      g_test_skip ("an unprivileged QEMU under another identity needs hvkit to run as root");
      return FALSE;
    }
  return TRUE;
}

static HvkHypervisor *
create (const char *name,
        const char *overrides,
        const char *extra,
        GError    **error)
{
  g_autofree char *path = e2e_write_config (&env, name, overrides, extra);
  g_autoptr(HvkConfig) config = hvk_config_new_from_file (path, registry, error);
  g_autoptr(HvkHypervisor) hypervisor = NULL;

  if (config == NULL)
    return NULL;
  hvk_config_set_vm_store_path (config, env.store);
  hypervisor = hvk_registry_create_hypervisor (registry, config, error);
  if (hypervisor == NULL || !hvk_hypervisor_create_vm (hypervisor, name, config, error))
    return NULL;
  return g_steal_pointer (&hypervisor);
}

static void
assert_status_line (const char *status,
                    const char *line)
{
  if (strstr (status, line) == NULL)
    g_error ("no '%s' in QEMU's status:\n%s", line, status);
}

static void
test_boot_hotplug_stop (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) vm = NULL;
  g_autoptr(GArray) pids = NULL;
  g_autoptr(E2eConsole) console = NULL;
  g_autoptr(HvkDevice) device = NULL;
  g_autoptr(JsonNode) fdsets = NULL;
  g_autofree char *disk0 = NULL, *disk1 = NULL, *secret = NULL, *extra = NULL;
  g_autofree char *spec = NULL, *status_path = NULL, *status = NULL;
  g_autofree char *protocol = NULL, *url = NULL, *vm_dir = NULL, *qmp = NULL;
  g_autofree char *add = NULL, *text = NULL;
  g_autofree char *jailer = NULL, *jailer_log = NULL, *overrides = NULL;
  struct stat st;
  int pid;

  if (!need_root ())
    return;
  jailer = e2e_install_jailer (&env, "jailer");
  if (jailer == NULL)
    return;
  jailer_log = g_strconcat (jailer, ".log", NULL);
  g_assert_cmpint (chown (jailer_log, atoi (TEST_UID), atoi (TEST_GID)), ==, 0);
  overrides = g_strdup_printf ("rootless=true\nvmm_user=" TEST_UID "\nvmm_group=" TEST_GID
                               "\nvmm_groups=" TEST_GROUP "\njailer_path=%s\n"
                               "valid_jailer_paths=%s/jailer*", jailer, env.tmpdir);

  disk0 = root_only_file ("rootless-disk0.raw");
  disk1 = root_only_file ("rootless-disk1.raw");
  secret = root_only_file ("rootless-secret");
  extra = g_strdup_printf ("[device.disk0]\nkind=block\npath=%s\nformat=raw", disk0);

  /* The identity cannot reach its own dir (the test's tmpdir is 0700):
   * the start fails naming it, and leaves no process. */
  g_assert_cmpint (chmod (env.tmpdir, 0700), ==, 0);
  vm = create ("e2e-rootless", overrides, extra, &error);
  g_assert_no_error (error);
  g_assert_false (hvk_hypervisor_start_vm (vm, 30000, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "uid " TEST_UID " gid " TEST_GID));
  g_assert_nonnull (strstr (error->message, "own dir"));
  g_clear_error (&error);
  g_clear_object (&vm);

  g_assert_cmpint (chmod (env.tmpdir, 0711), ==, 0);
  vm = create ("e2e-rootless", overrides, extra, &error);
  g_assert_no_error (error);
  if (!hvk_hypervisor_start_vm (vm, 30000, NULL, &error))
    g_error ("%s", error->message);
  e2e_track_hypervisor (vm);
  pids = hvk_hypervisor_get_pids (vm);
  pid = g_array_index (pids, int, 0);

  /* QEMU's identity and its seccomp filter (elevateprivileges=deny
   * kept: it never held root). */
  status_path = g_strdup_printf ("/proc/%d/status", pid);
  g_assert_true (g_file_get_contents (status_path, &status, NULL, NULL));
  assert_status_line (status, "\nUid:\t" TEST_UID "\t" TEST_UID "\t" TEST_UID "\t" TEST_UID "\n");
  assert_status_line (status, "\nGid:\t" TEST_GID "\t" TEST_GID "\t" TEST_GID "\t" TEST_GID "\n");
  assert_status_line (status, "\nGroups:\t" TEST_GROUP " \n");
  assert_status_line (status, "\nSeccomp:\t2\n");

  /* The jailer ran as the VMM's identity with QEMU's command line, and
   * exec'd it: its pid is QEMU's (the one hvkit reports, the one QEMU
   * writes to its pid file), with the jailer's marks. */
  {
    g_autofree char *uid = e2e_jailer_record (jailer, "uid");
    g_autofree char *gid = e2e_jailer_record (jailer, "gid");
    g_autofree char *jailer_pid = e2e_jailer_record (jailer, "pid");
    g_autofree char *args = e2e_jailer_record (jailer, "argv");
    g_autofree char *args_start = g_strdup_printf ("%s -name sandbox-e2e-rootless,debug-threads=on ", env.qemu);
    g_autofree char *exe_link = g_strdup_printf ("/proc/%d/exe", pid);
    g_autofree char *exe = g_file_read_link (exe_link, NULL);
    g_autofree char *qemu = realpath (env.qemu, NULL);
    g_autofree char *environ_path = g_strdup_printf ("/proc/%d/environ", pid);
    g_autofree char *environ_text = NULL;
    g_autofree char *limits_path = g_strdup_printf ("/proc/%d/limits", pid);
    g_autofree char *limits = NULL;
    g_autofree char *pid_file = g_build_filename (env.store, "e2e-rootless", "vmm", "pid", NULL);
    g_auto(GStrv) launch = NULL;
    gsize environ_len = 0;
    gboolean marked = FALSE;

    g_assert_cmpstr (uid, ==, TEST_UID);
    g_assert_cmpstr (gid, ==, TEST_GID);
    g_assert_nonnull (jailer_pid);
    g_assert_cmpint (atoi (jailer_pid), ==, pid);
    g_assert_nonnull (args);
    if (!g_str_has_prefix (args, args_start))
      g_error ("the jailer got: %s", args);
    g_assert_cmpstr (exe, ==, qemu);
    g_assert_cmpint (e2e_read_pid_file (pid_file), ==, pid);
    g_assert_true (g_file_get_contents (environ_path, &environ_text, &environ_len, NULL));
    for (gsize off = 0; off < environ_len; off += strlen (environ_text + off) + 1)
      marked = marked || g_str_equal (environ_text + off, "HVKIT_TEST_JAILED=1");
    g_assert_true (marked);
    g_assert_true (g_file_get_contents (limits_path, &limits, NULL, NULL));
    if (!g_regex_match_simple ("\nMax open files +4000 ", limits, 0, 0))
      g_error ("no soft limit of 4000 open files (the jailer's) in:\n%s", limits);
    /* What `hvkit argv` shows: the jailer in front. */
    g_assert_true (hvk_hypervisor_get_launch_command (vm, &launch, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (launch[0], ==, jailer);
    g_assert_cmpstr (launch[1], ==, env.qemu);
  }

  /* Its own dir: the identity's, 0700; the VM dir root's, its group may
   * only pass through. */
  vm_dir = g_build_filename (env.store, "e2e-rootless", NULL);
  g_assert_cmpint (stat (vm_dir, &st), ==, 0);
  g_assert_cmpuint (st.st_uid, ==, 0);
  g_assert_cmpuint (st.st_gid, ==, atoi (TEST_GID));
  g_assert_cmpuint (st.st_mode & 07777, ==, 0710);
  qmp = g_build_filename (vm_dir, "vmm", "qmp.sock", NULL);
  g_assert_cmpint (stat (qmp, &st), ==, 0);
  g_assert_cmpuint (st.st_uid, ==, atoi (TEST_UID));

  /* The guest boots from the root-only disk QEMU got as descriptors. */
  g_assert_true (hvk_hypervisor_get_vm_console (vm, &protocol, &url, &error));
  g_assert_no_error (error);
  console = e2e_console_open (url, 5000);
  g_assert_nonnull (console);
  if (!e2e_console_wait (console, E2E_READY_MARKER, E2E_BOOT_TIMEOUT_MS))
    g_error ("no %s; console said:\n%s", E2E_READY_MARKER, e2e_console_text (console));
  g_assert_nonnull (strstr (e2e_console_text (console), "HVKIT-BLOCK-PRESENT vda"));

  g_assert_true (hvk_hypervisor_pause_vm (vm, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_resume_vm (vm, NULL, &error));
  g_assert_no_error (error);

  /* A root-only disk hot-plugged: passed with add-fd, the guest sees it. */
  e2e_console_forget (console);
  spec = g_strdup_printf ("block,id=disk1,path=%s,format=raw", disk1);
  device = hvk_device_new_from_string (registry, spec, &error);
  g_assert_no_error (error);
  if (!hvk_hypervisor_hotplug_add_device (vm, device, NULL, &error))
    g_error ("%s", error->message);
  if (!e2e_console_wait (console, "HVKIT-BLOCK-ADDED vdb", E2E_EVENT_TIMEOUT_MS))
    g_error ("the guest did not see disk1; console said:\n%s", e2e_console_text (console));

  /* QEMU itself cannot open a root-only file the config does not name,
   * nor the host path of the disk it was given. */
  hvk_hypervisor_disconnect (vm);
  add = g_strdup_printf ("{\"execute\":\"blockdev-add\",\"arguments\":{\"driver\":\"raw\","
                         "\"node-name\":\"probe\",\"file\":{\"driver\":\"file\","
                         "\"filename\":\"%s\"}}}", secret);
  {
    g_autoptr(JsonNode) ret = NULL;
    g_autofree char *command = g_strdup_printf ("blockdev-add driver=raw file=%s", secret);

    ret = e2e_qmp_query (qmp, add, &error);
    g_assert_null (ret);
    g_assert_nonnull (error);
    g_test_message ("%s: %s", command, error->message);
    g_assert_nonnull (strstr (error->message, "Permission denied"));
    g_clear_error (&error);
  }

  /* Unplugged: its fdset goes with it. */
  g_assert_true (hvk_hypervisor_hotplug_remove_device (vm, "disk1", NULL, &error));
  g_assert_no_error (error);
  hvk_hypervisor_disconnect (vm);
  fdsets = e2e_qmp_query (qmp, "query-fdsets", &error);
  g_assert_no_error (error);
  text = json_to_string (fdsets, FALSE);
  g_assert_nonnull (strstr (text, "disk0-rw"));
  g_assert_null (strstr (text, "disk1-"));

  g_assert_true (hvk_hypervisor_stop_vm (vm, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (e2e_wait_pid_dead (pid, 2000));
  g_assert_false (g_file_test (vm_dir, G_FILE_TEST_EXISTS));
  /* The disks are as they were: root's, 0600. */
  g_assert_cmpint (stat (disk1, &st), ==, 0);
  g_assert_cmpuint (st.st_uid, ==, 0);
  g_assert_cmpuint (st.st_mode & 07777, ==, 0600);
}

/* What rootless cannot be given: refused at create, naming the key. */
static void
test_refused (void)
{
  static const struct {
    const char *overrides;
    int         code;
    const char *needle;
  } cases[] = {
    { "vmm_user=" TEST_UID, HVK_ERROR_INVALID_CONFIG, "vmm_user: only meaningful with rootless=true" },
    { "rootless=true", HVK_ERROR_INVALID_CONFIG, "needs vmm_user" },
    { "rootless=true\nvmm_user=0\nvmm_group=" TEST_GID, HVK_ERROR_INVALID_CONFIG, "is root" },
    { "rootless=true\nvmm_user=" TEST_UID "\nvmm_group=0", HVK_ERROR_INVALID_CONFIG, "vmm_group: gid 0" },
    { "rootless=true\nvmm_user=" TEST_UID, HVK_ERROR_INVALID_CONFIG, "vmm_group: needed" },
    { "rootless=true\nvmm_user=no-such-hvkit-user", HVK_ERROR_INVALID_CONFIG, "no user 'no-such-hvkit-user'" },
    { "rootless=true\nvmm_user=" TEST_UID "\nvmm_group=no-such-hvkit-group", HVK_ERROR_INVALID_CONFIG,
      "vmm_group: no group 'no-such-hvkit-group'" },
    { "rootless=true\nvmm_user=" TEST_UID "\nvmm_group=" TEST_GID "\nshared_fs=virtio-fs\nshared_path=/tmp",
      HVK_ERROR_NOT_SUPPORTED, "virtio-fs is not supported: virtiofsd needs root" },
  };

  if (!need_root ())
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HvkHypervisor) vm = NULL;
      g_autofree char *dir = g_build_filename (env.store, "e2e-refused", NULL);

      g_test_message ("%s", cases[i].overrides);
      vm = create ("e2e-refused", cases[i].overrides, NULL, &error);
      g_assert_null (vm);
      g_assert_error (error, HVK_ERROR, cases[i].code);
      if (strstr (error->message, cases[i].needle) == NULL)
        g_error ("'%s' not in: %s", cases[i].needle, error->message);
      g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
    }
}

/* selinux_label: refused where the host has no SELinux or
 * disable_selinux=true says no label; on a host with SELinux (described
 * by tests/host/selinux) hvkit-monitor writes it to QEMU's attr/exec
 * before exec: this kernel has no SELinux and refuses it, so QEMU never
 * runs and the start fails saying so, leaving nothing behind. */
static void
test_selinux_label (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) vm = NULL;
  const char *hosts = g_getenv ("HVKIT_TEST_HOST_DIR");
  g_autofree char *bare = NULL;
  g_autofree char *selinux = NULL;
  g_autofree char *saved = g_strdup (g_getenv ("HVKIT_HOST_ROOT"));
  g_autofree char *dir = g_build_filename (env.store, "e2e-label", NULL);
  const char *label = "selinux_label=system_u:system_r:svirt_t:s0:c1,c2";

  if (e2e_env_skip (&env))
    return;
  if (hosts == NULL)
    {
      g_test_skip ("no HVKIT_TEST_HOST_DIR (tests/host)");
      return;
    }
  bare = g_build_filename (hosts, "bare", NULL);
  selinux = g_build_filename (hosts, "selinux", NULL);

  g_setenv ("HVKIT_HOST_ROOT", bare, TRUE);
  vm = create ("e2e-label", label, NULL, &error);
  g_assert_null (vm);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "selinux_label: the host has no SELinux"));
  g_clear_error (&error);

  g_setenv ("HVKIT_HOST_ROOT", selinux, TRUE);
  vm = create ("e2e-label", "selinux_label=svirt_t", NULL, &error);
  g_assert_null (vm);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "is not a context"));
  g_clear_error (&error);
  vm = create ("e2e-label", "selinux_label=system_u:system_r:svirt_t:s0\ndisable_selinux=true",
               NULL, &error);
  g_assert_null (vm);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "disable_selinux=true"));
  g_clear_error (&error);

  vm = create ("e2e-label", label, NULL, &error);
  g_assert_no_error (error);
  if (!g_file_test ("/sys/fs/selinux/enforce", G_FILE_TEST_EXISTS))
    {
      g_assert_false (hvk_hypervisor_start_vm (vm, 30000, NULL, &error));
      g_assert_nonnull (error);
      if (strstr (error->message, "cannot set the SELinux exec label "
                  "'system_u:system_r:svirt_t:s0:c1,c2'") == NULL)
        g_error ("no word of the label in: %s", error->message);
      g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
    }
  else
    hvk_hypervisor_stop_vm (vm, FALSE, NULL, NULL);

  if (saved != NULL)
    g_setenv ("HVKIT_HOST_ROOT", saved, TRUE);
  else
    g_unsetenv ("HVKIT_HOST_ROOT");
}

static void
drop_to_test_user (gpointer user_data)
{
  if (setgroups (0, NULL) != 0 || setresgid (atoi (TEST_GID), atoi (TEST_GID), atoi (TEST_GID)) != 0
      || setresuid (atoi (TEST_UID), atoi (TEST_UID), atoi (TEST_UID)) != 0)
    _exit (125);
}

/* `hvkit argv` run by an unprivileged user: QEMU would keep that user's
 * identity; rootless=true naming it is accepted (QEMU's files go in its
 * own dir), naming anyone else is refused. */
static int
run_unprivileged (const char  *dir,
                  const char  *overrides,
                  char       **out,
                  char       **err)
{
  g_autofree char *conf = g_build_filename (dir, "rootless.conf", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) envp = g_get_environ ();
  const char *argv[] = { g_getenv ("HVKIT_TEST_TOOL"), "argv", "-c", conf, NULL };
  g_autoptr(GError) error = NULL;
  int status = 0;

  text = g_strdup_printf ("[hypervisor]\nbackend=qemu\n[hypervisor.qemu]\nkernel=%s\n"
                          "initrd=%s\ndefault_maxvcpus=2\n%s\n", env.kernel, env.initrd, overrides);
  g_assert_true (g_file_set_contents (conf, text, -1, NULL));
  g_assert_cmpint (chmod (conf, 0644), ==, 0);
  envp = g_environ_setenv (envp, "XDG_RUNTIME_DIR", dir, TRUE);
  envp = g_environ_setenv (envp, "HOME", dir, TRUE);
  if (!g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_DEFAULT, drop_to_test_user,
                     NULL, out, err, &status, &error))
    {
      /* The exec itself failed: the test user cannot reach the built
       * hvkit (a build tree under root's 0700 home, as in a CI root). */
      g_assert_true (error->domain == G_SPAWN_ERROR);
      g_test_message ("%s", error->message);
      return 127;
    }
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
test_unprivileged_hvkit (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *out = NULL, *err = NULL;
  int rc;

  if (!need_root ())
    return;
  dir = g_build_filename (env.tmpdir, "unprivileged", NULL);
  g_assert_cmpint (chmod (env.tmpdir, 0711), ==, 0);
  g_assert_cmpint (mkdir (dir, 0700), ==, 0);
  g_assert_cmpint (chown (dir, atoi (TEST_UID), atoi (TEST_GID)), ==, 0);

  rc = run_unprivileged (dir, "rootless=true", &out, &err);
  if (rc == 125 || rc == 127 || (rc != 0 && err != NULL && strstr (err, "ermission denied") != NULL))
    {
      g_test_skip ("the test user cannot run the built hvkit here");
      return;
    }
  g_assert_cmpint (rc, ==, 0);
  g_assert_nonnull (strstr (out, "/vmm/qmp.sock"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  rc = run_unprivileged (dir, "rootless=true\nvmm_user=" TEST_UID "\nvmm_group=" TEST_GID, &out, &err);
  g_assert_cmpint (rc, ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  rc = run_unprivileged (dir, "rootless=true\nvmm_user=" TEST_GROUP "\nvmm_group=" TEST_GID, &out, &err);
  g_assert_cmpint (rc, !=, 0);
  g_assert_nonnull (strstr (err, "rootless: hvkit runs as uid " TEST_UID " gid " TEST_GID
                            " and cannot start QEMU as vmm_user " TEST_GROUP));
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  e2e_env_init (&env);
  if (env.skip_reason == NULL)
    registry = e2e_registry_new ();

  g_test_add_func ("/hvk/e2e/rootless/refused", test_refused);
  g_test_add_func ("/hvk/e2e/rootless/unprivileged-hvkit", test_unprivileged_hvkit);
  g_test_add_func ("/hvk/e2e/rootless/selinux-label", test_selinux_label);
  g_test_add_func ("/hvk/e2e/rootless/boot-hotplug-stop", test_boot_hotplug_stop);

  ret = g_test_run ();
  g_clear_object (&registry);
  e2e_env_clear (&env);
  return ret;
}
