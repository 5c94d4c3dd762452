/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stress-common.h"

/* Two hvkit processes on one VM are serialised by the lock in its
 * directory (`STATE/ID/.lock`, an exclusive flock).  The tool does not
 * wait: a command that finds the VM held fails at once with exit status
 * 1 and `hvkit: error: VM 'ID' is busy (another hvkit process holds it)`,
 * so a script may retry; the lock goes with the process that held it,
 * also when that process is killed.
 *
 * Here: the lock held through the API, by a long-running `hvkit run`, by
 * a process then killed (SIGKILL); many hvkit processes racing on one VM,
 * where every outcome must be a success, "busy" or a state error, and no
 * update may be lost; many `hvkit stop` at once, which must leave an
 * empty store.  Bounds: HVKIT_STRESS_TOOL_PROCS (8) processes per round,
 * HVKIT_STRESS_TOOL_ROUNDS (6) rounds. */

#define DEFAULT_PROCS  8
#define DEFAULT_ROUNDS 6
#define BUSY_MESSAGE   "is busy (another hvkit process holds it)"

static const char mock_config[] =
  "[hypervisor]\n"
  "backend=mock\n"
  "[hypervisor.mock]\n"
  "kernel=/var/lib/hvkit/test/vmlinuz\n"
  "initrd=/var/lib/hvkit/test/initrd.img\n"
  "default_vcpus=1\n"
  "default_memory=256\n";

typedef struct {
  char *tmp;
  char *store;
  char *config;
} Fixture;

typedef struct {
  int   status;   /* exit status, or -1 when killed */
  char *out;
  char *err;
} Result;

static void
result_clear (Result *result)
{
  g_clear_pointer (&result->out, g_free);
  g_clear_pointer (&result->err, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Result, result_clear)

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->tmp = g_dir_make_tmp ("hvk-stress-tool-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->store = g_build_filename (fixture->tmp, "state", NULL);
  fixture->config = g_build_filename (fixture->tmp, "mock.conf", NULL);
  g_file_set_contents (fixture->config, mock_config, -1, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  hvk_test_remove_tree (fixture->tmp);
  g_free (fixture->tmp);
  g_free (fixture->store);
  g_free (fixture->config);
}

/* hvkit --state-dir STORE ARGS…, started. */
static GSubprocess *
spawn_tool (Fixture            *fixture,
            const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  g_ptr_array_add (argv, (gpointer) HVKIT_TEST_TOOL);
  g_ptr_array_add (argv, (gpointer) "--state-dir");
  g_ptr_array_add (argv, fixture->store);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE
                               | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  return process;
}

static void
finish (GSubprocess *process,
        Result      *result)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8 (process, NULL, NULL, &result->out,
                                 &result->err, &error);
  g_assert_no_error (error);
  result->status = g_subprocess_get_if_exited (process)
                   ? g_subprocess_get_exit_status (process) : -1;
}

static void
run_tool (Fixture            *fixture,
          Result             *result,
          const char * const *args)
{
  g_autoptr(GSubprocess) process = spawn_tool (fixture, args);

  finish (process, result);
}

#define TOOL(fixture, result, ...) \
  run_tool (fixture, result, (const char * const[]) { __VA_ARGS__, NULL })

static void
expect (Result     *result,
        int         status,
        const char *in_stderr)
{
  if (result->status != status
      || (in_stderr != NULL && strstr (result->err, in_stderr) == NULL))
    g_error ("expected exit %d%s%s, got %d; stdout: %s; stderr: %s", status,
             in_stderr ? " and stderr with " : "", in_stderr ? in_stderr : "",
             result->status, result->out, result->err);
}

#define EXPECT(fixture, status, in_stderr, ...)                 \
  G_STMT_START {                                                \
    g_auto(Result) r_ = { 0, };                                 \
    TOOL (fixture, &r_, __VA_ARGS__);                           \
    expect (&r_, status, in_stderr);                            \
  } G_STMT_END

static JsonObject *
read_state (Fixture     *fixture,
            const char  *id,
            JsonNode   **root)
{
  g_autoptr(GError) error = NULL;

  *root = hvk_vm_store_read_state (fixture->store, id, &error);
  g_assert_no_error (error);
  return json_node_get_object (*root);
}

static const char *
vm_state (JsonObject *state)
{
  return json_object_get_string_member (state, "state");
}

/* How many times @call is in the mock's record. */
static guint
count_calls (JsonObject *state,
             const char *call)
{
  JsonObject *mock = json_object_get_object_member (state, "private");
  JsonArray *calls = json_object_get_array_member (mock, "calls");
  guint n = 0;

  for (guint i = 0; i < json_array_get_length (calls); i++)
    n += g_str_equal (json_array_get_string_element (calls, i), call);
  return n;
}

static gboolean
wait_for_file (const char *path)
{
  /* A bound against a hang only. */
  for (int i = 0; i < 1200; i++)
    {
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        return TRUE;
      g_usleep (50 * 1000);
    }
  return FALSE;
}

/* ---- the lock held through the API ---- */

static void
test_lock_held_by_api (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  HvkVmLock *lock;

  EXPECT (fixture, 0, NULL, "start", "-c", fixture->config, "--id", "vm1");

  lock = hvk_vm_store_lock (fixture->store, "vm1", FALSE, &error);
  g_assert_no_error (error);
  EXPECT (fixture, 1, "hvkit: error: VM 'vm1' " BUSY_MESSAGE, "pause", "vm1");
  EXPECT (fixture, 1, BUSY_MESSAGE, "stop", "vm1");
  /* Nothing happened to it. */
  g_assert_cmpstr (vm_state (read_state (fixture, "vm1", &root)), ==, "running");
  g_clear_pointer (&root, json_node_unref);

  hvk_vm_lock_release (lock);
  EXPECT (fixture, 0, NULL, "pause", "vm1");
  /* Each command released it: the next one gets it too. */
  EXPECT (fixture, 0, NULL, "resume", "vm1");
  g_assert_cmpstr (vm_state (read_state (fixture, "vm1", &root)), ==, "running");

  EXPECT (fixture, 0, NULL, "stop", "vm1");
  stress_assert_store_empty (fixture->store);
}

/* ---- the lock held by `hvkit run`, then by a killed holder ---- */

static void
test_lock_held_by_run (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *state_file = g_build_filename (fixture->store, "r1", HVK_VM_STATE_FILE, NULL);
  g_autoptr(GSubprocess) run = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_auto(Result) result = { 0, };
  HvkVmLock *lock;

  run = spawn_tool (fixture, (const char * const[]) {
    "run", "-c", fixture->config, "--id", "r1", NULL });
  g_assert_true (wait_for_file (state_file));

  EXPECT (fixture, 1, "hvkit: error: VM 'r1' " BUSY_MESSAGE, "pause", "r1");
  EXPECT (fixture, 1, BUSY_MESSAGE, "resume", "r1");
  EXPECT (fixture, 1, BUSY_MESSAGE, "stop", "r1");
  /* The API sees the same lock. */
  g_assert_null (hvk_vm_store_lock (fixture->store, "r1", FALSE, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_BUSY);
  g_clear_error (&error);

  /* Killed, it cannot clean up; the kernel drops its lock. */
  g_subprocess_force_exit (run);
  finish (run, &result);
  g_assert_cmpint (result.status, ==, -1);

  lock = hvk_vm_store_lock (fixture->store, "r1", FALSE, &error);
  g_assert_no_error (error);
  hvk_vm_lock_release (lock);
  EXPECT (fixture, 0, NULL, "pause", "r1");
  g_assert_cmpstr (vm_state (read_state (fixture, "r1", &root)), ==, "paused");
  EXPECT (fixture, 0, NULL, "stop", "r1");
  stress_assert_store_empty (fixture->store);
}

/* This program, re-run as `--hold-lock STORE ID`: takes the lock, says
 * so on stdout and sleeps until killed. */
static int
hold_lock (const char *store,
           const char *id)
{
  g_autoptr(GError) error = NULL;
  HvkVmLock *lock = hvk_vm_store_lock (store, id, FALSE, &error);

  if (lock == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_print ("locked\n");
  fflush (stdout);
  for (;;)
    pause ();
  return 0;
}

static void
test_lock_holder_killed (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GSubprocess) holder = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autofree char *line = NULL;
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", &error);

  g_assert_no_error (error);

  EXPECT (fixture, 0, NULL, "start", "-c", fixture->config, "--id", "vm1");

  holder = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                             self_exe, "--hold-lock", fixture->store, "vm1",
                             NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (holder));
  line = g_data_input_stream_read_line (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (line, ==, "locked");

  for (guint i = 0; i < 3; i++)
    EXPECT (fixture, 1, BUSY_MESSAGE, i % 2 ? "resume" : "pause", "vm1");

  g_subprocess_send_signal (holder, SIGKILL);
  g_subprocess_wait (holder, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (g_subprocess_get_if_exited (holder));

  EXPECT (fixture, 0, NULL, "pause", "vm1");
  g_assert_cmpstr (vm_state (read_state (fixture, "vm1", &root)), ==, "paused");
  EXPECT (fixture, 0, NULL, "stop", "vm1");
  stress_assert_store_empty (fixture->store);
}

/* ---- a waiter whose holder removed the VM ---- */

typedef struct {
  const char *store;
  gint        acquired;
  gint        release;
} Waiter;

static gpointer
wait_for_lock (gpointer data)
{
  Waiter *waiter = data;
  g_autoptr(GError) error = NULL;
  HvkVmLock *lock = hvk_vm_store_lock (waiter->store, "vm1", TRUE, &error);

  g_assert_no_error (error);
  g_atomic_int_set (&waiter->acquired, 1);
  while (!g_atomic_int_get (&waiter->release))
    g_usleep (1000);
  hvk_vm_lock_release (lock);
  return NULL;
}

/* Whether someone waits for a flock on @path (a `->` line of /proc/locks
 * naming its inode). */
static gboolean
lock_has_waiter (const char *path)
{
  g_autofree char *locks = NULL;
  g_autofree char *needle = NULL;
  struct stat st;

  g_assert_cmpint (stat (path, &st), ==, 0);
  needle = g_strdup_printf (":%lu ", (unsigned long) st.st_ino);
  g_assert_true (g_file_get_contents ("/proc/locks", &locks, NULL, NULL));
  for (char *line = strtok (locks, "\n"); line != NULL; line = strtok (NULL, "\n"))
    if (strstr (line, "->") != NULL && strstr (line, needle) != NULL)
      return TRUE;
  return FALSE;
}

/* A waits for the VM B holds; B stops it (removing its directory, lock
 * file and all) and C creates a new VM of that id.  When B lets go, A's
 * lock is on the removed file: it must not count, or A and C would both
 * hold the new VM. */
static void
test_lock_after_remove (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *lock_path = g_build_filename (fixture->store, "vm1", ".lock", NULL);
  Waiter waiter = { fixture->store, 0, 0 };
  HvkVmLock *holder, *creator;
  GThread *thread;

  holder = hvk_vm_store_lock (fixture->store, "vm1", FALSE, &error);
  g_assert_no_error (error);
  thread = g_thread_new ("waiter", wait_for_lock, &waiter);
  /* Only once the waiter blocks on B's file (the bound stops a hang). */
  for (guint i = 0; !lock_has_waiter (lock_path); i++)
    {
      g_assert_cmpuint (i, <, 20000);
      g_usleep (1000);
    }

  g_assert_true (hvk_vm_store_remove_dir (fixture->store, "vm1", &error));
  g_assert_no_error (error);
  creator = hvk_vm_store_lock (fixture->store, "vm1", FALSE, &error);
  g_assert_no_error (error);

  hvk_vm_lock_release (holder);
  /* However long we wait, the waiter cannot have the new VM. */
  for (guint i = 0; i < 50; i++)
    {
      g_usleep (2000);
      g_assert_cmpint (g_atomic_int_get (&waiter.acquired), ==, 0);
    }

  hvk_vm_lock_release (creator);
  while (!g_atomic_int_get (&waiter.acquired))
    g_usleep (1000);
  /* It holds the file the path names. */
  g_assert_null (hvk_vm_store_lock (fixture->store, "vm1", FALSE, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_BUSY);
  g_atomic_int_set (&waiter.release, 1);
  g_thread_join (thread);
  g_assert_true (g_file_test (lock_path, G_FILE_TEST_IS_REGULAR));
}

/* ---- many processes on one VM ---- */

static void
test_racing_commands (Fixture       *fixture,
                      gconstpointer  data)
{
  guint procs = stress_env_uint ("HVKIT_STRESS_TOOL_PROCS", DEFAULT_PROCS);
  guint rounds = stress_env_uint ("HVKIT_STRESS_TOOL_ROUNDS", DEFAULT_ROUNDS);
  guint acted = 0, busy = 0, refused = 0;
  gint64 begin = g_get_monotonic_time ();

  EXPECT (fixture, 0, NULL, "start", "-c", fixture->config, "--id", "vm1");

  for (guint round = 0; round < rounds; round++)
    {
      g_autoptr(GPtrArray) processes = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr(JsonNode) root = NULL;
      JsonObject *state;
      guint round_acted = 0;

      for (guint i = 0; i < procs; i++)
        g_ptr_array_add (processes, spawn_tool (fixture, (const char * const[]) {
          i % 2 ? "resume" : "pause", "vm1", NULL }));

      for (guint i = 0; i < procs; i++)
        {
          g_auto(Result) result = { 0, };

          finish (g_ptr_array_index (processes, i), &result);
          if (result.status == 0)
            round_acted++;
          else if (result.status == 1 && strstr (result.err, BUSY_MESSAGE))
            busy++;
          else if (result.status == 1
                   && (strstr (result.err, "it is paused")
                       || strstr (result.err, "it is running")))
            round_acted++, refused++;
          else
            g_error ("round %u: unexpected outcome: exit %d; stderr: %s",
                     round, result.status, result.err);
        }
      acted += round_acted;

      /* Whoever held the VM saw every earlier holder's work: no update
       * lost, none applied twice (a refused call never reaches the
       * backend: the core's lifecycle table stops it). */
      state = read_state (fixture, "vm1", &root);
      g_assert_cmpuint (count_calls (state, "pause_vm") + count_calls (state, "resume_vm"),
                        ==, acted - refused);
      g_assert_true (g_str_equal (vm_state (state), "running")
                     || g_str_equal (vm_state (state), "paused"));
    }

  EXPECT (fixture, 0, NULL, "stop", "vm1");
  stress_assert_store_empty (fixture->store);
  g_test_message ("%u rounds of %u hvkit processes on one VM: %u acted "
                  "(%u refused by the VM's state), %u found it busy; %.2f s",
                  rounds, procs, acted, refused, busy,
                  (g_get_monotonic_time () - begin) / 1e6);
}

static void
test_racing_stops (Fixture       *fixture,
                   gconstpointer  data)
{
  guint procs = stress_env_uint ("HVKIT_STRESS_TOOL_PROCS", DEFAULT_PROCS);
  guint rounds = stress_env_uint ("HVKIT_STRESS_TOOL_ROUNDS", DEFAULT_ROUNDS);
  g_autofree char *gone = g_strdup_printf ("no VM 'vm1' in %s", fixture->store);

  for (guint round = 0; round < rounds; round++)
    {
      g_autoptr(GPtrArray) processes = g_ptr_array_new_with_free_func (g_object_unref);
      guint stopped = 0;

      EXPECT (fixture, 0, NULL, "start", "-c", fixture->config, "--id", "vm1");
      for (guint i = 0; i < procs; i++)
        g_ptr_array_add (processes, spawn_tool (fixture, (const char * const[]) {
          "stop", "vm1", NULL }));

      for (guint i = 0; i < procs; i++)
        {
          g_auto(Result) result = { 0, };

          finish (g_ptr_array_index (processes, i), &result);
          if (result.status == 0)
            stopped++;
          else if (result.status != 1
                   || (strstr (result.err, BUSY_MESSAGE) == NULL
                       && strstr (result.err, gone) == NULL))
            g_error ("round %u: unexpected outcome: exit %d; stderr: %s",
                     round, result.status, result.err);
        }
      /* One stop stopped it; the others found it held or gone, and none
       * left a directory behind. */
      g_assert_cmpuint (stopped, ==, 1);
      stress_assert_store_empty (fixture->store);
    }
}

int
main (int    argc,
      char **argv)
{
  if (argc == 4 && g_str_equal (argv[1], "--hold-lock"))
    return hold_lock (argv[2], argv[3]);

  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/hvk/stress/tool/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("lock-held-by-api", test_lock_held_by_api);
  ADD ("lock-held-by-run", test_lock_held_by_run);
  ADD ("lock-holder-killed", test_lock_holder_killed);
  ADD ("lock-after-remove", test_lock_after_remove);
  ADD ("racing-commands", test_racing_commands);
  ADD ("racing-stops", test_racing_stops);
#undef ADD

  return g_test_run ();
}
