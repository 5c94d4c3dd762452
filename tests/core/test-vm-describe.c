/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "hvk-test-fs.h"

/* A VM's description (hvk_hypervisor_describe()), the copy its state file
 * keeps, and when hvk_vm_store_describe_from_state() trusts that copy:
 * only while every witness the record names agrees. */

typedef struct {
  char *dir;
  char *run_state;    /* the monitor's file */
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("hvk-vm-describe-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->run_state = g_build_filename (fixture->dir, "runstate", NULL);
}


static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  hvk_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->run_state);
}

static void
write_run_state (Fixture    *fixture,
                 const char *text)
{
  g_assert_true (g_file_set_contents (fixture->run_state, text, -1, NULL));
}

static void
test_read_run_state (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *link = g_build_filename (fixture->dir, "link", NULL);
  const struct {
    const char *text;
    const char *word;
  } cases[] = {
    { "running\n", "running" },
    { "guest-panicked\n", "guest-panicked" },
    { "inmigrate\n", "inmigrate" },
    { "running", NULL },            /* not finished: no newline */
    { "\n", NULL },
    { "", NULL },
    { "run ning\n", NULL },
    { "running\nx\n", NULL },
    { "{\"status\": 1}\n", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *word = NULL;

      write_run_state (fixture, cases[i].text);
      word = hvk_vm_store_read_run_state (fixture->run_state);
      g_assert_cmpstr (word, ==, cases[i].word);
    }
  g_assert_null (hvk_vm_store_read_run_state (NULL));
  g_unlink (fixture->run_state);
  g_assert_null (hvk_vm_store_read_run_state (fixture->run_state));
  /* Not followed. */
  write_run_state (fixture, "running\n");
  g_assert_cmpint (symlink (fixture->run_state, link), ==, 0);
  g_assert_null (hvk_vm_store_read_run_state (link));
}

/* A thread of this process that waits until told, for its id and start
 * time: a vCPU thread's stand-in. */
typedef struct {
  GMutex lock;
  GCond cond;
  int tid;
  gboolean done;
} Waiter;

static gpointer
waiter_main (gpointer data)
{
  Waiter *w = data;

  g_mutex_lock (&w->lock);
  w->tid = (int) syscall (SYS_gettid);
  g_cond_broadcast (&w->cond);
  while (!w->done)
    g_cond_wait (&w->cond, &w->lock);
  g_mutex_unlock (&w->lock);
  return NULL;
}

static GThread *
waiter_start (Waiter *w)
{
  GThread *thread;

  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  w->tid = 0;
  w->done = FALSE;
  thread = g_thread_new ("vcpu-stand-in", waiter_main, w);
  g_mutex_lock (&w->lock);
  while (w->tid == 0)
    g_cond_wait (&w->cond, &w->lock);
  g_mutex_unlock (&w->lock);
  return thread;
}

static void
waiter_stop (Waiter  *w,
             GThread *thread)
{
  g_mutex_lock (&w->lock);
  w->done = TRUE;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  g_thread_join (thread);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
}

/* What a state file holds for a running VM whose witnesses are this
 * process (as the VMM and the monitor) and @tid (a vCPU thread). */
typedef struct {
  gint64 version;
  const char *state;
  const char *described_state;
  gint64 vmm_start_time;       /* 0: this process's */
  int monitor_pid;             /* 0: none; -1: this process */
  int tid;
  gint64 tid_start_time;       /* 0: the thread's */
  gboolean with_status;
  gboolean with_threads;
  gboolean with_run_state_path;
} Record;

static JsonNode *
state_file (Fixture      *fixture,
            const Record *r)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  guint64 self_start = hvk_process_get_start_time (getpid ());

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, r->version);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, "vm");
  json_builder_set_member_name (b, "backend");
  json_builder_add_string_value (b, "qemu");
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, r->state);
  json_builder_set_member_name (b, "processes");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, "qemu");
  json_builder_set_member_name (b, "pid");
  json_builder_add_int_value (b, getpid ());
  json_builder_set_member_name (b, "start_time");
  json_builder_add_int_value (b, r->vmm_start_time ? r->vmm_start_time : (gint64) self_start);
  json_builder_end_object (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, "monitor");
  json_builder_set_member_name (b, "pid");
  json_builder_add_int_value (b, r->monitor_pid < 0 ? getpid () : r->monitor_pid);
  json_builder_set_member_name (b, "start_time");
  json_builder_add_int_value (b, r->monitor_pid < 0 ? (gint64) self_start
                              : r->monitor_pid > 0 ? 1 : 0);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "paths");
  json_builder_begin_object (b);
  if (r->with_run_state_path)
    {
      json_builder_set_member_name (b, HVK_VM_RECORD_PATH_RUN_STATE);
      json_builder_add_string_value (b, fixture->run_state);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "private");
  json_builder_begin_object (b);
  json_builder_end_object (b);
  if (r->with_status)
    {
      json_builder_set_member_name (b, "status");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "backend");
      json_builder_add_string_value (b, "qemu");
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, r->described_state ? r->described_state : r->state);
      json_builder_set_member_name (b, "pids");
      json_builder_begin_array (b);
      json_builder_add_int_value (b, getpid ());
      json_builder_end_array (b);
      json_builder_set_member_name (b, "console");
      json_builder_add_null_value (b);
      json_builder_set_member_name (b, "hotplugged");
      json_builder_begin_array (b);
      json_builder_end_array (b);
      if (r->with_threads)
        {
          json_builder_set_member_name (b, "vcpu_threads");
          json_builder_begin_array (b);
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "index");
          json_builder_add_int_value (b, 0);
          json_builder_set_member_name (b, "tid");
          json_builder_add_int_value (b, r->tid);
          json_builder_set_member_name (b, "start_time");
          json_builder_add_int_value (b, r->tid_start_time ? r->tid_start_time
                                      : (gint64) hvk_process_get_start_time (r->tid));
          json_builder_end_object (b);
          json_builder_end_array (b);
        }
      json_builder_set_member_name (b, "summary");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "vcpus");
      json_builder_add_int_value (b, 1);
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static Record
healthy (int tid)
{
  return (Record) {
    .version = HVK_VM_STATE_VERSION, .state = "running", .monitor_pid = -1, .tid = tid,
    .with_status = TRUE, .with_threads = TRUE, .with_run_state_path = TRUE,
  };
}

static gboolean
trusted (Fixture      *fixture,
         const Record *r)
{
  g_autoptr(JsonNode) state = state_file (fixture, r);
  g_autoptr(JsonNode) description = hvk_vm_store_describe_from_state (state);

  if (description == NULL)
    return FALSE;
  /* What it returns is the file's copy. */
  g_assert_true (JSON_NODE_HOLDS_OBJECT (description));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (description), "state"),
                   ==, r->state);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (description),
                                                                         "vcpu_threads")), ==, 1);
  return TRUE;
}

static void
test_from_state (Fixture       *fixture,
                 gconstpointer  data)
{
  Waiter waiter, gone;
  GThread *thread = waiter_start (&waiter);
  GThread *ended = waiter_start (&gone);
  int ended_tid = gone.tid;
  guint64 ended_start = hvk_process_get_start_time (ended_tid);
  Record r;

  waiter_stop (&gone, ended);

  /* Everything agrees: the file's copy is the answer, running or paused. */
  write_run_state (fixture, "running\n");
  r = healthy (waiter.tid);
  g_assert_true (trusted (fixture, &r));
  write_run_state (fixture, "paused\n");
  r.state = "paused";
  g_assert_true (trusted (fixture, &r));
  /* A role the VM does not have (pid 0) is no witness. */
  write_run_state (fixture, "running\n");
  r = healthy (waiter.tid);
  r.monitor_pid = 0;
  g_assert_true (trusted (fixture, &r));

  /* The VMM's own word is not the record's: paused behind its back,
   * panicked, shut down, or the monitor is not connected (no file). */
  r = healthy (waiter.tid);
  write_run_state (fixture, "paused\n");
  g_assert_false (trusted (fixture, &r));
  write_run_state (fixture, "guest-panicked\n");
  g_assert_false (trusted (fixture, &r));
  write_run_state (fixture, "shutdown\n");
  g_assert_false (trusted (fixture, &r));
  g_unlink (fixture->run_state);
  g_assert_false (trusted (fixture, &r));
  write_run_state (fixture, "running\n");
  g_assert_true (trusted (fixture, &r));

  /* A witness that ended: the VMM's pid now names another process (its
   * start time differs), the monitor is gone, a vCPU thread ended. */
  r = healthy (waiter.tid);
  r.vmm_start_time = (gint64) hvk_process_get_start_time (getpid ()) + 1;
  g_assert_false (trusted (fixture, &r));
  r = healthy (waiter.tid);
  r.monitor_pid = G_MAXINT - 1;
  g_assert_false (trusted (fixture, &r));
  r = healthy (ended_tid);
  r.tid_start_time = (gint64) ended_start;
  g_assert_false (trusted (fixture, &r));
  r = healthy (waiter.tid);
  r.tid_start_time = (gint64) hvk_process_get_start_time (waiter.tid) + 1;
  g_assert_false (trusted (fixture, &r));

  /* What the record cannot vouch for: a stopped or starting VM, a copy
   * of another state, no copy, a copy without the vCPU threads, no
   * monitor's file, another version. */
  r = healthy (waiter.tid);
  r.state = "stopped";
  write_run_state (fixture, "stopped\n");
  g_assert_false (trusted (fixture, &r));
  r.state = "starting";
  write_run_state (fixture, "starting\n");
  g_assert_false (trusted (fixture, &r));
  write_run_state (fixture, "running\n");
  r = healthy (waiter.tid);
  r.described_state = "paused";
  g_assert_false (trusted (fixture, &r));
  r = healthy (waiter.tid);
  r.with_status = FALSE;
  g_assert_false (trusted (fixture, &r));
  r = healthy (waiter.tid);
  r.with_threads = FALSE;
  g_assert_false (trusted (fixture, &r));
  r = healthy (waiter.tid);
  r.with_run_state_path = FALSE;
  g_assert_false (trusted (fixture, &r));
  r = healthy (waiter.tid);
  r.version = 1;
  g_assert_false (trusted (fixture, &r));

  waiter_stop (&waiter, thread);
  /* The same record, its only vCPU thread gone. */
  r = healthy (waiter.tid);
  g_assert_false (trusted (fixture, &r));
}

/* Members of the wrong type are no description: never a crash. */
static void
test_from_state_malformed (Fixture       *fixture,
                           gconstpointer  data)
{
  const char *texts[] = {
    "[]",
    "{}",
    "{\"version\": 2, \"state\": \"running\"}",
    "{\"version\": 2, \"state\": \"running\", \"processes\": [], \"paths\": {}, \"status\": {}}",
    "{\"version\": 2, \"state\": 1, \"processes\": [], \"paths\": {\"runstate_file\": \"/x\"}, "
    "\"status\": {\"state\": \"running\", \"vcpu_threads\": []}}",
    "{\"version\": 2, \"state\": \"running\", \"processes\": [1], \"paths\": {\"runstate_file\": \"RS\"}, "
    "\"status\": {\"state\": \"running\", \"vcpu_threads\": [{\"tid\": 1, \"start_time\": 1}]}}",
    "{\"version\": 2, \"state\": \"running\", \"processes\": [{\"pid\": -1, \"start_time\": 1}], "
    "\"paths\": {\"runstate_file\": \"RS\"}, "
    "\"status\": {\"state\": \"running\", \"vcpu_threads\": [{\"tid\": 1, \"start_time\": 1}]}}",
    "{\"version\": 2, \"state\": \"running\", \"processes\": [], \"paths\": {\"runstate_file\": \"RS\"}, "
    "\"status\": {\"state\": \"running\", \"vcpu_threads\": [{\"tid\": \"1\", \"start_time\": 1}]}}",
    "{\"version\": 2, \"state\": \"running\", \"processes\": [], \"paths\": {\"runstate_file\": \"RS\"}, "
    "\"status\": {\"state\": \"running\", \"vcpu_threads\": [7]}}",
    "{\"version\": 2, \"state\": \"running\", \"processes\": [], \"paths\": {\"runstate_file\": 3}, "
    "\"status\": {\"state\": \"running\", \"vcpu_threads\": [{\"tid\": 1, \"start_time\": 1}]}}",
  };

  write_run_state (fixture, "running\n");
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(GString) text = g_string_new (texts[i]);
      g_autoptr(JsonNode) node = NULL;
      g_autoptr(JsonNode) description = NULL;
      g_autoptr(GError) error = NULL;

      g_autofree char *quoted = g_strdup_printf ("\"%s\"", fixture->run_state);

      g_string_replace (text, "\"RS\"", quoted, 0);
      node = json_from_string (text->str, &error);
      g_assert_no_error (error);
      description = hvk_vm_store_describe_from_state (node);
      g_assert_null (description);
    }
}

static const char mock_config[] =
  "[hypervisor]\n"
  "backend=mock\n"
  "[hypervisor.mock]\n"
  "kernel=/var/lib/hvkit/test/vmlinuz\n"
  "initrd=/var/lib/hvkit/test/initrd.img\n"
  "default_vcpus=2\n"
  "default_memory=512\n";

/* A mock VM's description; its state file keeps none (no monitor keeps
 * a run state for it), so a reader always asks the backend. */
static void
test_describe_mock (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(JsonNode) description = NULL;
  g_autoptr(JsonNode) without = NULL;
  g_autoptr(JsonNode) state = NULL;
  g_autoptr(GHashTable) threads = NULL;
  g_autofree char *store = g_build_filename (fixture->dir, "store", NULL);
  JsonObject *object;

  hvk_registry_scan (registry);
  config = hvk_config_new_from_data (mock_config, -1, "mock.conf", registry, &error);
  g_assert_no_error (error);
  hvk_config_set_vm_store_path (config, store);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_create_vm (hypervisor, "vm", config, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_start_vm (hypervisor, 0, NULL, &error));
  g_assert_no_error (error);

  description = hvk_hypervisor_describe (hypervisor, TRUE);
  object = json_node_get_object (description);
  g_assert_cmpstr (json_object_get_string_member (object, "backend"), ==, "mock");
  g_assert_cmpstr (json_object_get_string_member (object, "state"), ==, "running");
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, "pids")));
  g_assert_true (json_object_has_member (object, "console"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "hotplugged")), ==, 0);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "summary")));
  threads = hvk_hypervisor_get_thread_ids (hypervisor, NULL, NULL);
  if (threads != NULL)
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "vcpu_threads")),
                      ==, g_hash_table_size (threads));
  else
    g_assert_false (json_object_has_member (object, "vcpu_threads"));
  /* Without asking for the threads, there are none. */
  without = hvk_hypervisor_describe (hypervisor, FALSE);
  g_assert_false (json_object_has_member (json_node_get_object (without), "vcpu_threads"));

  g_assert_true (hvk_vm_store_save_hypervisor (store, "vm", hypervisor, &error));
  g_assert_no_error (error);
  state = hvk_vm_store_read_state (store, "vm", &error);
  g_assert_no_error (error);
  g_assert_false (json_object_has_member (json_node_get_object (state), "status"));
  g_assert_null (hvk_vm_store_describe_from_state (state));

  g_assert_true (hvk_hypervisor_stop_vm (hypervisor, 0, NULL, &error));
  g_assert_no_error (error);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/hvk/vm-describe/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("read-run-state", test_read_run_state);
  ADD ("from-state", test_from_state);
  ADD ("from-state-malformed", test_from_state_malformed);
  ADD ("mock", test_describe_mock);
  return g_test_run ();
}
