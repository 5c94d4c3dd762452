/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <glib/gstdio.h>
#include <string.h>

#include <signal.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

/* Each test works below its own parent, removed at the end. */
static char *
test_parent (void)
{
  return g_strdup_printf ("/hvkit-test-%d.slice", (int) getpid ());
}

static gboolean
can_run (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *parent = test_parent ();
  g_autoptr(HvkCgroup) probe = NULL;

  if (geteuid () != 0)
    {
      g_test_skip ("cgroups need root");
      return FALSE;
    }
  probe = hvk_cgroup_new (parent, "probe", HVK_CGROUP_FLAGS_NONE, &error);
  if (probe == NULL)
    {
      g_autofree char *why = g_strdup_printf ("no writable cgroup hierarchy here: %s", error->message);
      g_test_skip (why);
      return FALSE;
    }
  g_assert_true (hvk_cgroup_remove (probe, 1000, NULL));
  return TRUE;
}

static void
remove_parent (HvkCgroup *cgroup)
{
  const char * const *dirs = hvk_cgroup_get_dirs (cgroup);

  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *parent = g_path_get_dirname (dirs[i]);
      g_rmdir (parent);
    }
}

static GPid
spawn_sleep (void)
{
  g_autoptr(GError) error = NULL;
  const char *argv[] = { "/bin/sleep", "30", NULL };
  GPid pid = 0;

  g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                 NULL, NULL, &pid, &error);
  g_assert_no_error (error);
  return pid;
}

static char *
read_in (const char *dir,
         const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  return g_strstrip (contents);
}

/* One directory per hierarchy that carries a controller hvkit uses, plus
 * the v2 hierarchy; limits land in the right files; a process attached is
 * in each; the cgroup goes away once it is empty. */
static void
test_lifecycle (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *parent = test_parent ();
  g_autoptr(HvkCgroup) cgroup = NULL;
  g_autofree char *proc_cgroup_path = NULL;
  g_autofree char *proc_cgroup = NULL;
  const char * const *dirs;
  gboolean memory_seen = FALSE, cpu_seen = FALSE;
  guint64 memory = 0, cpu = 0;
  GPid pid;

  if (!can_run ())
    return;

  cgroup = hvk_cgroup_new (parent, "vm1", HVK_CGROUP_FLAGS_NONE, &error);
  g_assert_no_error (error);
  dirs = hvk_cgroup_get_dirs (cgroup);
  g_assert_nonnull (dirs[0]);
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      struct statfs fs;

      g_assert_true (g_str_has_suffix (dirs[i], "/vm1"));
      g_assert_nonnull (strstr (dirs[i], parent));
      g_assert_cmpint (statfs (dirs[i], &fs), ==, 0);
      g_assert_true (fs.f_type == CGROUP_SUPER_MAGIC || fs.f_type == CGROUP2_SUPER_MAGIC);
    }

  g_assert_true (hvk_cgroup_set_memory_limit (cgroup, 256 * 1024 * 1024, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_cgroup_set_cpu_limit (cgroup, 50000, 100000, &error));
  g_assert_no_error (error);
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *v1_memory = read_in (dirs[i], "memory.limit_in_bytes");
      g_autofree char *v2_memory = read_in (dirs[i], "memory.max");
      g_autofree char *v1_quota = read_in (dirs[i], "cpu.cfs_quota_us");
      g_autofree char *v1_period = read_in (dirs[i], "cpu.cfs_period_us");
      g_autofree char *v2_cpu = read_in (dirs[i], "cpu.max");

      if (v1_memory != NULL || v2_memory != NULL)
        {
          g_assert_cmpstr (v1_memory ? v1_memory : v2_memory, ==, "268435456");
          memory_seen = TRUE;
        }
      if (v1_quota != NULL)
        {
          g_assert_cmpstr (v1_quota, ==, "50000");
          g_assert_cmpstr (v1_period, ==, "100000");
          cpu_seen = TRUE;
        }
      if (v2_cpu != NULL)
        {
          g_assert_cmpstr (v2_cpu, ==, "50000 100000");
          cpu_seen = TRUE;
        }
    }
  g_assert_true (memory_seen);
  g_assert_true (cpu_seen);
  /* Lifting the limits again. */
  g_assert_true (hvk_cgroup_set_cpu_limit (cgroup, 0, 100000, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_cgroup_set_memory_limit (cgroup, 0, &error));
  g_assert_no_error (error);
  g_assert_false (hvk_cgroup_set_cpu_limit (cgroup, 50000, 10, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_clear_error (&error);

  pid = spawn_sleep ();
  g_assert_false (hvk_cgroup_contains (cgroup, pid));
  g_assert_true (hvk_cgroup_attach (cgroup, pid, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_cgroup_contains (cgroup, pid));
  proc_cgroup_path = g_strdup_printf ("/proc/%d/cgroup", pid);
  g_assert_true (g_file_get_contents (proc_cgroup_path, &proc_cgroup, NULL, NULL));
  g_assert_nonnull (strstr (proc_cgroup, parent));
  g_assert_true (hvk_cgroup_get_usage (cgroup, &memory, &cpu, &error));
  g_assert_no_error (error);

  /* Not while a process is in it: the error names it. */
  g_assert_false (hvk_cgroup_remove (cgroup, 20, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  {
    g_autofree char *pid_text = g_strdup_printf ("%d", pid);
    g_assert_nonnull (strstr (error->message, pid_text));
  }
  g_clear_error (&error);

  /* A new cgroup of the same name is refused while it is in use. */
  {
    g_autoptr(HvkCgroup) again = hvk_cgroup_new (parent, "vm1", HVK_CGROUP_FLAGS_NONE, &error);
    g_assert_null (again);
    g_assert_error (error, HVK_ERROR, HVK_ERROR_BUSY);
    g_clear_error (&error);
  }

  kill (pid, SIGKILL);
  g_assert_cmpint (waitpid (pid, NULL, 0), ==, pid);
  g_assert_true (hvk_cgroup_remove (cgroup, 2000, &error));
  g_assert_no_error (error);
  for (guint i = 0; dirs[i] != NULL; i++)
    g_assert_false (g_file_test (dirs[i], G_FILE_TEST_EXISTS));
  /* Removing twice is fine. */
  g_assert_true (hvk_cgroup_remove (cgroup, 10, &error));
  g_assert_no_error (error);
  remove_parent (cgroup);
}

/* What a VM killed with its hvkit left: an empty cgroup, taken over. */
static void
test_take_over_empty (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *parent = test_parent ();
  g_autoptr(HvkCgroup) first = NULL;
  g_autoptr(HvkCgroup) second = NULL;

  if (!can_run ())
    return;
  first = hvk_cgroup_new (parent, "vm2", HVK_CGROUP_FLAGS_NONE, &error);
  g_assert_no_error (error);
  second = hvk_cgroup_new (parent, "vm2", HVK_CGROUP_FLAGS_NONE, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (hvk_cgroup_get_dirs (first), hvk_cgroup_get_dirs (second));
  g_assert_true (hvk_cgroup_remove (second, 1000, &error));
  g_assert_no_error (error);
  remove_parent (first);
}

/* The v2 hierarchy alone: where it offers no memory controller (this
 * project's CI machines mount v1 controllers beside an empty v2
 * hierarchy), a limit is refused, not ignored. */
static void
test_v2_only (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *parent = test_parent ();
  g_autoptr(HvkCgroup) cgroup = NULL;
  g_autofree char *controllers = NULL;
  g_autofree char *mount = NULL;
  const char * const *dirs;
  gboolean ok;
  GPid pid;

  if (!can_run ())
    return;
  cgroup = hvk_cgroup_new (parent, "vm3", HVK_CGROUP_FLAGS_V2_ONLY, &error);
  if (cgroup == NULL && g_error_matches (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED))
    {
      g_test_skip ("no cgroup v2 hierarchy here");
      return;
    }
  g_assert_no_error (error);
  dirs = hvk_cgroup_get_dirs (cgroup);
  g_assert_cmpuint (g_strv_length ((char **) dirs), ==, 1);
  {
    struct statfs fs;
    g_assert_cmpint (statfs (dirs[0], &fs), ==, 0);
    g_assert_cmpint (fs.f_type, ==, CGROUP2_SUPER_MAGIC);
  }
  mount = g_strndup (dirs[0], strlen (dirs[0]) - strlen (parent) - strlen ("/vm3"));
  controllers = read_in (mount, "cgroup.controllers");

  ok = hvk_cgroup_set_memory_limit (cgroup, 64 * 1024 * 1024, &error);
  if (controllers != NULL && strstr (controllers, "memory") != NULL)
    g_assert_no_error (error);
  else
    {
      g_assert_false (ok);
      g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
      g_assert_nonnull (strstr (error->message, "memory"));
      g_clear_error (&error);
    }

  pid = spawn_sleep ();
  g_assert_true (hvk_cgroup_attach (cgroup, pid, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_cgroup_contains (cgroup, pid));
  kill (pid, SIGKILL);
  g_assert_cmpint (waitpid (pid, NULL, 0), ==, pid);
  g_assert_true (hvk_cgroup_remove (cgroup, 2000, &error));
  g_assert_no_error (error);
  remove_parent (cgroup);
}

/* A state file names the cgroup: nothing but a cgroup directory is taken,
 * so a hostile file cannot make hvkit remove another directory. */
static void
test_from_dirs (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("hvk-test-cgroup-XXXXXX", &error);
  g_autofree char *parent = test_parent ();
  g_autoptr(HvkCgroup) cgroup = NULL;
  g_autoptr(HvkCgroup) again = NULL;
  const char *bad[][2] = {
    { "relative/dir", NULL },
    { "/tmp", NULL },
    { tmp, NULL },
    { "/sys/fs/cgroup/memory/../memory/x", NULL },
    { "/sys/fs/cgroup/memory//x", NULL },
  };

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(HvkCgroup) refused = hvk_cgroup_new_from_dirs (bad[i], &error);

      g_assert_null (refused);
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
      g_assert_nonnull (strstr (error->message, bad[i][0]));
      g_clear_error (&error);
    }
  g_assert_true (g_file_test (tmp, G_FILE_TEST_IS_DIR));
  g_rmdir (tmp);

  /* Names: one component; the parent has no '..'. */
  g_assert_null (hvk_cgroup_new (parent, "a/b", HVK_CGROUP_FLAGS_NONE, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_clear_error (&error);
  g_assert_null (hvk_cgroup_new (parent, "..", HVK_CGROUP_FLAGS_NONE, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_clear_error (&error);
  g_assert_null (hvk_cgroup_new ("/a/../../b", "vm", HVK_CGROUP_FLAGS_NONE, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_clear_error (&error);

  if (!can_run ())
    return;
  cgroup = hvk_cgroup_new (parent, "vm4", HVK_CGROUP_FLAGS_NONE, &error);
  g_assert_no_error (error);
  again = hvk_cgroup_new_from_dirs (hvk_cgroup_get_dirs (cgroup), &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (hvk_cgroup_get_dirs (cgroup), hvk_cgroup_get_dirs (again));
  g_assert_true (hvk_cgroup_remove (again, 1000, &error));
  g_assert_no_error (error);
  remove_parent (cgroup);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hvk/cgroup/lifecycle", test_lifecycle);
  g_test_add_func ("/hvk/cgroup/take-over-empty", test_take_over_empty);
  g_test_add_func ("/hvk/cgroup/v2-only", test_v2_only);
  g_test_add_func ("/hvk/cgroup/from-dirs", test_from_dirs);
  return g_test_run ();
}
