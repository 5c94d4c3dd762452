/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <glib/gstdio.h>
#include <string.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* A zombie still answers kill(pid, 0) but is not alive. */
static void
test_zombie_is_dead (void)
{
  GPid pid = spawn_sleep ();
  guint64 start_time = hvk_process_get_start_time (pid);

  g_assert_cmpuint (start_time, >, 0);
  g_assert_true (hvk_process_is_alive (pid, 0));
  g_assert_true (hvk_process_is_alive (pid, start_time));
  /* Another start time is another process behind a recycled pid. */
  g_assert_false (hvk_process_is_alive (pid, start_time + 1));

  kill (pid, SIGKILL);
  while (hvk_process_is_alive (pid, start_time))
    g_usleep (1000);
  g_assert_cmpint (kill (pid, 0), ==, 0);
  g_assert_cmpint (waitpid (pid, NULL, 0), ==, pid);
  g_assert_false (hvk_process_is_alive (pid, start_time));
  g_assert_cmpuint (hvk_process_get_start_time (pid), ==, 0);
}

static void
test_kill_and_wait (void)
{
  GPid pid = spawn_sleep ();
  guint64 start_time = hvk_process_get_start_time (pid);

  /* Not dead before a deadline already past. */
  g_assert_false (hvk_process_wait_dead (pid, start_time, g_get_monotonic_time ()));
  g_assert_true (hvk_process_kill (pid, start_time, 5000));
  g_assert_false (hvk_process_is_alive (pid, 0));
  /* Reaped by wait_dead: no such child any more. */
  g_assert_cmpint (waitpid (pid, NULL, WNOHANG), ==, -1);
  /* Nothing to kill is a success. */
  g_assert_true (hvk_process_kill (0, 0, 10));
  g_assert_false (hvk_process_is_alive (-1, 0));
}

static void
test_pid_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hvk-test-process-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "pid", NULL);
  const struct { const char *contents; int pid; } cases[] = {
    { "1234\n", 1234 },
    { "  42  ", 42 },
    { "", 0 },
    { "12abc", 0 },
    { "-5", 0 },
    { "0", 0 },
    { "99999999999", 0 },
  };
  int pid = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_file_set_contents (path, cases[i].contents, -1, &error);
      g_assert_no_error (error);
      pid = 0;
      if (cases[i].pid > 0)
        {
          g_assert_true (hvk_process_read_pid_file (path, &pid, &error));
          g_assert_no_error (error);
          g_assert_cmpint (pid, ==, cases[i].pid);
        }
      else
        {
          g_assert_false (hvk_process_read_pid_file (path, &pid, &error));
          g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
          g_assert_nonnull (strstr (error->message, path));
          g_clear_error (&error);
        }
    }
  g_unlink (path);
  g_assert_false (hvk_process_read_pid_file (path, &pid, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_rmdir (dir);
}

static void
test_log_tail (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("hvk-test-process-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "log", NULL);
  g_autofree char *tail = NULL;

  g_assert_no_error (error);
  g_assert_null (hvk_process_read_log_tail (NULL, 10));
  g_assert_null (hvk_process_read_log_tail (path, 10));
  g_file_set_contents (path, " \n\t", -1, &error);
  g_assert_no_error (error);
  g_assert_null (hvk_process_read_log_tail (path, 10));
  g_file_set_contents (path, "early noise\nqemu: could not open kernel\n", -1, &error);
  g_assert_no_error (error);
  tail = hvk_process_read_log_tail (path, 29);
  g_assert_cmpstr (tail, ==, "qemu: could not open kernel");
  g_clear_pointer (&tail, g_free);
  /* Invalid UTF-8 is made valid, never passed on. */
  g_file_set_contents (path, "bad \xff byte", -1, &error);
  g_assert_no_error (error);
  tail = hvk_process_read_log_tail (path, 100);
  g_assert_true (g_utf8_validate (tail, -1, NULL));
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hvk/process/zombie-is-dead", test_zombie_is_dead);
  g_test_add_func ("/hvk/process/kill-and-wait", test_kill_and_wait);
  g_test_add_func ("/hvk/process/pid-file", test_pid_file);
  g_test_add_func ("/hvk/process/log-tail", test_log_tail);

  return g_test_run ();
}
