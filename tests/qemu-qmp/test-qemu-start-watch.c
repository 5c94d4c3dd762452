/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvk-qemu-start-watch.h"

/* The start watch wakes a QEMU start on events: a new entry in the VM
 * dir, the launcher exiting, a cancellation.  Each test waits with a
 * 60 s bound that only a missed event would reach, so a pass means the
 * event woke it; nothing here measures speed. */

#define LONG_WAIT_US (60 * G_USEC_PER_SEC)

typedef struct {
  char *dir;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("hvk-start-watch-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GDir) dir = g_dir_open (fixture->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fixture->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (fixture->dir);
  g_free (fixture->dir);
}

static gint64
wait_long (HvkQemuStartWatch *watch,
           GCancellable      *cancellable)
{
  gint64 start = g_get_monotonic_time ();

  hvk_qemu_start_watch_wait (watch, start + LONG_WAIT_US, LONG_WAIT_US, cancellable);
  return g_get_monotonic_time () - start;
}

/* Created in one step, as bind() creates a socket (g_file_set_contents
 * would create a temporary name first). */
static void
create (const char *path)
{
  int fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL, 0600);

  g_assert_cmpint (fd, >=, 0);
  close (fd);
}

static gpointer
create_later (gpointer data)
{
  g_usleep (20 * 1000);
  create (data);
  return NULL;
}

static void
test_entry_created (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(HvkQemuStartWatch) watch = hvk_qemu_start_watch_new (fixture->dir);
  g_autofree char *path = g_build_filename (fixture->dir, "qmp.sock", NULL);
  GThread *thread;

  g_assert_true (hvk_qemu_start_watch_is_evented (watch));

  /* Created while nobody waits: the next wait returns at once. */
  create (path);
  g_assert_cmpint (wait_long (watch, NULL), <, LONG_WAIT_US);
  g_unlink (path);

  /* Created during the wait. */
  thread = g_thread_new ("create", create_later, path);
  g_assert_cmpint (wait_long (watch, NULL), <, LONG_WAIT_US);
  /* Woken by the creation, not before it. */
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  g_thread_join (thread);
}

static void
test_launcher_exit (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(HvkQemuStartWatch) watch = hvk_qemu_start_watch_new (fixture->dir);
  gint64 start;
  int status;
  pid_t child = fork ();

  g_assert_cmpint (child, >=, 0);
  if (child == 0)
    {
      usleep (20 * 1000);
      _exit (3);
    }

  hvk_qemu_start_watch_set_launcher (watch, child);
  if (!hvk_qemu_start_watch_is_evented (watch))
    {
      /* valgrind 3.19 does not know pidfd_open; start then polls. */
      waitpid (child, &status, 0);
      g_test_skip ("no pidfd_open() here");
      return;
    }
  g_assert_cmpint (wait_long (watch, NULL), <, LONG_WAIT_US);
  /* Woken by the exit: the child is a zombie now, waitpid reaps it. */
  g_assert_cmpint (waitpid (child, &status, WNOHANG), ==, child);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 3);

  /* An exited launcher wakes once, not every wait after (no busy loop):
   * a wait then lasts until its bound. */
  start = g_get_monotonic_time ();
  hvk_qemu_start_watch_wait (watch, start + 60 * 1000, 30 * 1000, NULL);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 30 * 1000);
}

static gpointer
cancel_later (gpointer data)
{
  g_usleep (20 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_cancel (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(HvkQemuStartWatch) watch = hvk_qemu_start_watch_new (fixture->dir);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GThread *thread = g_thread_new ("cancel", cancel_later, cancellable);

  g_assert_cmpint (wait_long (watch, cancellable), <, LONG_WAIT_US);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  g_thread_join (thread);
}

static void
test_deadline (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(HvkQemuStartWatch) watch = hvk_qemu_start_watch_new (fixture->dir);
  gint64 now = g_get_monotonic_time ();

  /* A deadline already past: no wait. */
  hvk_qemu_start_watch_wait (watch, now - 1, LONG_WAIT_US, NULL);
  g_assert_cmpint (g_get_monotonic_time () - now, <, LONG_WAIT_US);
}

static void
test_no_dir (void)
{
  /* No inotify watch possible: the wait falls back to short sleeps. */
  g_autoptr(HvkQemuStartWatch) watch =
    hvk_qemu_start_watch_new ("/nonexistent/hvkit-start-watch");

  g_assert_false (hvk_qemu_start_watch_is_evented (watch));
  g_assert_cmpint (wait_long (watch, NULL), <, LONG_WAIT_US);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/hvk/qemu-start-watch/" path, Fixture, NULL, fixture_set_up, func, \
              fixture_tear_down)

  ADD ("entry-created", test_entry_created);
  ADD ("launcher-exit", test_launcher_exit);
  ADD ("cancel", test_cancel);
  ADD ("deadline", test_deadline);
  g_test_add_func ("/hvk/qemu-start-watch/no-dir", test_no_dir);
#undef ADD

  return g_test_run ();
}
