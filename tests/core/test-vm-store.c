/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "hvk-test-fs.h"

/* Tests of the VM store: ids, socket paths (Kata's BuildSocketPath
 * vectors), directories, locks and state files, and the save/load round
 * trip through the mock backend. */

typedef struct {
  char *store;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("hvk-vm-store-XXXXXX", &error);

  g_assert_no_error (error);
  /* A store that does not exist yet: ensure_dir must create it. */
  fixture->store = g_build_filename (tmp, "state", "hvkit", NULL);
}


static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *state = g_path_get_dirname (fixture->store);
  g_autofree char *tmp = g_path_get_dirname (state);

  hvk_test_remove_tree (tmp);
  g_free (fixture->store);
}

static void
test_default_dir (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("XDG_RUNTIME_DIR"));
  g_autofree char *dir = NULL;
  g_autofree char *fallback = NULL;

  g_setenv ("XDG_RUNTIME_DIR", "/run/user/4242", TRUE);
  dir = hvk_vm_store_default_dir ();
  g_assert_cmpstr (dir, ==, "/run/user/4242/hvkit");
  g_clear_pointer (&dir, g_free);

  g_unsetenv ("XDG_RUNTIME_DIR");
  dir = hvk_vm_store_default_dir ();
  if (getuid () == 0)
    g_assert_cmpstr (dir, ==, "/run/hvkit");
  else
    {
      fallback = g_build_filename (g_get_user_runtime_dir (), "hvkit", NULL);
      g_assert_cmpstr (dir, ==, fallback);
    }

  if (saved != NULL)
    g_setenv ("XDG_RUNTIME_DIR", saved, TRUE);
}

static void
test_id_validate (void)
{
  const char *valid[] = {
    "a", "vm0", "0vm", "my-vm_1.test", "A.b-C_d",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 64 */
  };
  const struct {
    const char *id;
    const char *message;
  } invalid[] = {
    { "", "invalid VM id '': it must not be empty" },
    { "-vm", "invalid VM id '-vm': it must start with a letter or a digit" },
    { ".vm", "invalid VM id '.vm': it must start with a letter or a digit" },
    { "_vm", "invalid VM id '_vm': it must start with a letter or a digit" },
    { "a/b", "invalid VM id 'a/b': only letters, digits, '_', '.' and '-' are allowed" },
    { "a b", "invalid VM id 'a b': only letters, digits, '_', '.' and '-' are allowed" },
    { "vm\n", "invalid VM id 'vm\n': only letters, digits, '_', '.' and '-' are allowed" },
    { "a..b", "invalid VM id 'a..b': it must not contain '..'" },
    { "a..", "invalid VM id 'a..': it must not contain '..'" },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 */
      "invalid VM id 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': longer than 64 characters" },
  };

  g_assert_cmpuint (strlen (valid[5]), ==, HVK_VM_ID_MAX_LEN);
  for (guint i = 0; i < G_N_ELEMENTS (valid); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_true (hvk_vm_id_validate (valid[i], &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autoptr(GError) error = NULL;
      g_assert_false (hvk_vm_id_validate (invalid[i].id, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, invalid[i].message);
    }

  {
    g_autoptr(GError) error = NULL;
    g_assert_false (hvk_vm_id_validate (NULL, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  }
}

/* Kata 1.13: utils_test.go TestBuildSocketPath. */
static void
test_build_socket_path (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GString) a106 = g_string_new (NULL);
  g_autoptr(GString) a107 = NULL;
  g_autoptr(GString) a109 = NULL;

#define CHECK_PATH(expected, ...)                                      \
  G_STMT_START {                                                       \
    g_autoptr(GError) e = NULL;                                        \
    g_autofree char *p = hvk_build_socket_path (&e, __VA_ARGS__, NULL); \
    g_assert_no_error (e);                                             \
    g_assert_cmpstr (p, ==, expected);                                 \
  } G_STMT_END

  CHECK_PATH ("a", "a");
  CHECK_PATH ("/a", "/a");
  CHECK_PATH ("a/b/c", "a", "b", "c");
  CHECK_PATH ("a/b/c", "a", "/b", "c");
  CHECK_PATH ("/a/b/c", "/a", "b", "c");
  CHECK_PATH ("/a/b/c", "/a", "/b", "/c");
#undef CHECK_PATH

  path = hvk_build_socket_path (&error, "", NULL);
  g_assert_null (path);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  path = hvk_build_socket_path (&error, "/run", "", "x.sock", NULL);
  g_assert_null (path);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "element 2 is empty"));
  g_clear_error (&error);

  for (int i = 0; i < 53; i++)
    g_string_append (a106, "/a");
  g_assert_cmpuint (a106->len, ==, 106);
  path = hvk_build_socket_path (&error, a106->str, NULL);
  g_assert_no_error (error);
  g_assert_cmpstr (path, ==, a106->str);
  g_clear_pointer (&path, g_free);

  a107 = g_string_new (a106->str);
  g_string_append_c (a107, 'a');
  g_assert_cmpuint (a107->len, ==, HVK_MAX_SOCKET_PATH_LEN);
  path = hvk_build_socket_path (&error, a107->str, NULL);
  g_assert_no_error (error);
  g_assert_cmpstr (path, ==, a107->str);
  g_clear_pointer (&path, g_free);

  a109 = g_string_new (a107->str);
  path = hvk_build_socket_path (&error, a109->str, "x", NULL);
  g_assert_null (path);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_string_append (a109, "/x");
  g_assert_nonnull (strstr (error->message, a109->str));
  g_assert_nonnull (strstr (error->message, "109 bytes, at most 107"));
}

static void
test_socket_path (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *expected = g_build_filename (fixture->store, "vm1", "qmp.sock", NULL);

  path = hvk_vm_store_socket_path (fixture->store, "vm1", "qmp.sock", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (path, ==, expected);

  g_clear_pointer (&path, g_free);
  path = hvk_vm_store_socket_path (fixture->store, "../x", "qmp.sock", &error);
  g_assert_null (path);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "'../x'"));
}

static guint
file_mode (const char *path)
{
  struct stat st;

  g_assert_cmpint (stat (path, &st), ==, 0);
  return st.st_mode & 07777;
}

static void
test_dirs (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *expected = g_build_filename (fixture->store, "vm1", NULL);
  g_autofree char *nested = NULL;
  g_autofree char *file = NULL;
  g_autofree char *link = NULL;
  g_autofree char *outside = NULL;

  dir = hvk_vm_store_ensure_dir (fixture->store, "vm1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (dir, ==, expected);
  g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));
  g_assert_cmpuint (file_mode (fixture->store), ==, 0700);
  g_assert_cmpuint (file_mode (dir), ==, 0700);

  /* Again: an existing directory is fine. */
  g_clear_pointer (&dir, g_free);
  dir = hvk_vm_store_ensure_dir (fixture->store, "vm1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (dir, ==, expected);

  /* Nested content and a symlink pointing outside: removal takes the
   * link, never what it points to. */
  nested = g_build_filename (dir, "sub", "deeper", NULL);
  g_assert_cmpint (g_mkdir_with_parents (nested, 0700), ==, 0);
  file = g_build_filename (nested, "f", NULL);
  g_assert_true (g_file_set_contents (file, "x", -1, NULL));
  outside = g_build_filename (fixture->store, "keep", NULL);
  g_assert_true (g_file_set_contents (outside, "keep", -1, NULL));
  link = g_build_filename (dir, "link", NULL);
  g_assert_cmpint (symlink (fixture->store, link), ==, 0);

  g_assert_true (hvk_vm_store_remove_dir (fixture->store, "vm1", &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (outside, G_FILE_TEST_IS_REGULAR));

  /* Absent: no error. */
  g_assert_true (hvk_vm_store_remove_dir (fixture->store, "vm1", &error));
  g_assert_no_error (error);

  /* Bad ids never reach the file system. */
  g_assert_null (hvk_vm_store_ensure_dir (fixture->store, "..", &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (hvk_vm_store_remove_dir (fixture->store, "a/b", &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
}

static char *
read_text (const char *path)
{
  char *text = NULL;

  return g_file_get_contents (path, &text, NULL, NULL) ? text : NULL;
}

/* Keeping a VM's logs moves NAME.log and NAME.log.N (not a symlink, not
 * anything else) to STORE/.logs/ID; the next VM of that id replaces them;
 * hvk_vm_store_remove_logs() removes them. */
static void
test_remove_keeps_logs (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = hvk_vm_store_ensure_dir (fixture->store, "vm1", &error);
  g_autofree char *kept = hvk_vm_store_logs_dir (fixture->store, "vm1");
  const char *files[] = { "qemu.log", "qemu.log.1", "virtiofsd.log", "state.json",
                          "qemu.logger", "qemu.log.x", NULL };
  g_autofree char *secret = g_build_filename (fixture->store, "secret", NULL);
  g_autofree char *link = g_build_filename (dir, "evil.log", NULL);

  g_assert_no_error (error);
  for (guint i = 0; files[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i], NULL);
      g_assert_true (g_file_set_contents (path, files[i], -1, NULL));
    }
  g_assert_true (g_file_set_contents (secret, "secret", -1, NULL));
  g_assert_cmpint (symlink (secret, link), ==, 0);

  hvk_vm_store_keep_logs (fixture->store, "vm1");
  g_assert_true (hvk_vm_store_remove_dir (fixture->store, "vm1", &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  for (guint i = 0; files[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (kept, files[i], NULL);
      g_autofree char *text = read_text (path);

      if (i < 3)
        g_assert_cmpstr (text, ==, files[i]);
      else
        g_assert_null (text);
    }
  {
    g_autofree char *path = g_build_filename (kept, "evil.log", NULL);
    g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  }
  g_assert_cmpuint (file_mode (kept), ==, 0700);
  /* Kept logs are no VM. */
  {
    g_auto(GStrv) ids = hvk_vm_store_list (fixture->store);
    g_assert_cmpuint (g_strv_length (ids), ==, 0);
  }

  /* The next VM of that id replaces them. */
  g_clear_pointer (&dir, g_free);
  dir = hvk_vm_store_ensure_dir (fixture->store, "vm1", &error);
  {
    g_autofree char *path = g_build_filename (dir, "qemu.log", NULL);
    g_assert_true (g_file_set_contents (path, "second", -1, NULL));
  }
  hvk_vm_store_keep_logs (fixture->store, "vm1");
  g_assert_true (hvk_vm_store_remove_dir (fixture->store, "vm1", &error));
  {
    g_autofree char *log = g_build_filename (kept, "qemu.log", NULL);
    g_autofree char *old = g_build_filename (kept, "qemu.log.1", NULL);
    g_autofree char *text = read_text (log);

    g_assert_cmpstr (text, ==, "second");
    g_assert_false (g_file_test (old, G_FILE_TEST_EXISTS));
  }

  g_assert_true (hvk_vm_store_remove_logs (fixture->store, "vm1", &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (kept, G_FILE_TEST_EXISTS));
  g_assert_true (hvk_vm_store_remove_logs (fixture->store, "vm1", &error));
  g_assert_false (hvk_vm_store_remove_logs (fixture->store, "..", &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
}

static void
test_ensure_dir_not_a_dir (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (fixture->store, "vm1", NULL);

  g_assert_cmpint (g_mkdir_with_parents (fixture->store, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, "", -1, NULL));
  g_assert_null (hvk_vm_store_ensure_dir (fixture->store, "vm1", &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, path));
}

static JsonNode *
make_state (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  return node;
}

static void
test_list (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = NULL;
  g_autoptr(JsonNode) state = make_state ("{\"version\": 1}");
  g_autofree char *stray = NULL;
  g_autofree char *bad = NULL;

  ids = hvk_vm_store_list (fixture->store);
  g_assert_nonnull (ids);
  g_assert_cmpuint (g_strv_length (ids), ==, 0);
  g_clear_pointer (&ids, g_strfreev);

  for (const char * const *id = (const char * const[]) { "zeta", "alpha", "mid", NULL };
       *id != NULL; id++)
    {
      g_assert_true (hvk_vm_store_write_state (fixture->store, *id, state, &error));
      g_assert_no_error (error);
    }
  /* A directory without a state file (a lock only) is no VM. */
  g_free (hvk_vm_store_ensure_dir (fixture->store, "empty", &error));
  g_assert_no_error (error);
  /* Nor is a file, or a directory whose name is no id. */
  stray = g_build_filename (fixture->store, "file", NULL);
  g_assert_true (g_file_set_contents (stray, "", -1, NULL));
  bad = g_build_filename (fixture->store, "-bad", NULL);
  g_assert_cmpint (g_mkdir (bad, 0700), ==, 0);

  ids = hvk_vm_store_list (fixture->store);
  g_assert_cmpstrv (ids, ((const char * const[]) { "alpha", "mid", "zeta", NULL }));
}

static void
test_lock (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkVmLock) lock = NULL;
  g_autoptr(HvkVmLock) again = NULL;
  g_autofree char *lock_path = g_build_filename (fixture->store, "vm1", ".lock", NULL);
  g_autoptr(HvkVmLock) other = NULL;

  lock = hvk_vm_store_lock (fixture->store, "vm1", FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (lock);
  g_assert_cmpuint (file_mode (lock_path), ==, 0600);

  /* flock is per open file: a second lock, even in this process, is
   * refused. */
  again = hvk_vm_store_lock (fixture->store, "vm1", FALSE, &error);
  g_assert_null (again);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_BUSY);
  g_assert_cmpstr (error->message, ==,
                   "VM 'vm1' is busy (another hvkit process holds it)");
  g_clear_error (&error);

  /* Another VM is independent. */
  other = hvk_vm_store_lock (fixture->store, "vm2", FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (other);

  g_clear_pointer (&lock, hvk_vm_lock_release);
  again = hvk_vm_store_lock (fixture->store, "vm1", FALSE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (again);

  /* NULL is accepted, as by every free function. */
  hvk_vm_lock_release (NULL);

  g_assert_null (hvk_vm_store_lock (fixture->store, "bad/id", FALSE, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
}

typedef struct {
  const char *store;
  gint        acquired;
} WaitData;

static gpointer
wait_for_lock (gpointer user_data)
{
  WaitData *data = user_data;
  g_autoptr(GError) error = NULL;
  HvkVmLock *lock = hvk_vm_store_lock (data->store, "vm1", TRUE, &error);

  g_assert_no_error (error);
  g_atomic_int_set (&data->acquired, 1);
  hvk_vm_lock_release (lock);
  return NULL;
}

static void
test_lock_wait (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  HvkVmLock *lock = hvk_vm_store_lock (fixture->store, "vm1", FALSE, &error);
  WaitData wait_data = { fixture->store, 0 };
  GThread *thread;

  g_assert_no_error (error);
  thread = g_thread_new ("waiter", wait_for_lock, &wait_data);
  /* The waiter cannot have it while we hold it. */
  g_assert_cmpint (g_atomic_int_get (&wait_data.acquired), ==, 0);
  hvk_vm_lock_release (lock);
  g_thread_join (thread);
  g_assert_cmpint (g_atomic_int_get (&wait_data.acquired), ==, 1);
}

static void
test_state_files (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) state = make_state ("{\"version\": 1, \"x\": [1, 2]}");
  g_autoptr(JsonNode) read = NULL;
  g_autofree char *path = g_build_filename (fixture->store, "vm1", HVK_VM_STATE_FILE, NULL);
  g_autofree char *expected_missing = g_strdup_printf ("no VM 'vm2' in %s", fixture->store);

  g_assert_true (hvk_vm_store_write_state (fixture->store, "vm1", state, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (file_mode (path), ==, 0600);

  read = hvk_vm_store_read_state (fixture->store, "vm1", &error);
  g_assert_no_error (error);
  g_assert_true (json_node_equal (read, state));
  g_clear_pointer (&read, json_node_unref);

  read = hvk_vm_store_read_state (fixture->store, "vm2", &error);
  g_assert_null (read);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, expected_missing);
  g_clear_error (&error);

  for (const char * const *bad = (const char * const[]) { "{\"version\": ", "[1]", "", NULL };
       *bad != NULL; bad++)
    {
      g_assert_true (g_file_set_contents (path, *bad, -1, NULL));
      read = hvk_vm_store_read_state (fixture->store, "vm1", &error);
      g_assert_null (read);
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
      g_assert_true (g_str_has_prefix (error->message, path));
      g_assert_nonnull (strstr (error->message, "corrupt state"));
      g_clear_error (&error);
    }
}

/* ---- an untrusted store: symlinks, other owners, lax modes ---- */

static void
assert_refused (GError     *error,
                const char *path,
                const char *reason)
{
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  if (strstr (error->message, path) == NULL || strstr (error->message, reason) == NULL)
    g_error ("'%s' does not name '%s' and '%s'", error->message, path, reason);
}

/* Every store call on VM @id fails naming @path and @reason, and lists
 * no VM. */
static void
assert_vm_refused (const char *store,
                   const char *id,
                   const char *path,
                   const char *reason)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) state = make_state ("{\"version\": 1}");
  g_auto(GStrv) ids = NULL;
  char *dir;
  HvkVmLock *lock;

  dir = hvk_vm_store_ensure_dir (store, id, &error);
  g_assert_null (dir);
  assert_refused (error, path, reason);
  g_clear_error (&error);

  lock = hvk_vm_store_lock (store, id, FALSE, &error);
  g_assert_null (lock);
  assert_refused (error, path, reason);
  g_clear_error (&error);

  g_assert_null (hvk_vm_store_read_state (store, id, &error));
  assert_refused (error, path, reason);
  g_clear_error (&error);

  g_assert_false (hvk_vm_store_write_state (store, id, state, &error));
  assert_refused (error, path, reason);
  g_clear_error (&error);

  g_assert_false (hvk_vm_store_remove_dir (store, id, &error));
  assert_refused (error, path, reason);
  g_clear_error (&error);

  ids = hvk_vm_store_list (store);
  g_assert_cmpuint (g_strv_length (ids), ==, 0);
}

static void
write_file (const char *dir,
            const char *name,
            const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static void
assert_file (const char *dir,
             const char *name,
             const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, text);
}

/* STATE/ID replaced by a symlink to a directory holding a VM's files:
 * nothing follows it, nothing in the target is touched. */
static void
test_vm_dir_symlink (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *state = g_path_get_dirname (fixture->store);
  g_autofree char *target = g_build_filename (state, "elsewhere", NULL);
  g_autofree char *link = g_build_filename (fixture->store, "vm1", NULL);
  g_autofree char *file_link = g_build_filename (fixture->store, "vm2", NULL);
  g_autofree char *file = g_build_filename (target, "pid", NULL);
  g_autoptr(GError) error = NULL;
  struct stat st;

  g_assert_cmpint (g_mkdir_with_parents (fixture->store, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (target, 0700), ==, 0);
  write_file (target, "pid", "4242\n");
  write_file (target, "qmp.sock", "socket");
  write_file (target, ".lock", "");
  write_file (target, HVK_VM_STATE_FILE, "{\"version\": 1, \"id\": \"vm1\"}");
  g_assert_cmpint (symlink (target, link), ==, 0);
  /* A symlink to a file is no VM dir either. */
  g_assert_cmpint (symlink (file, file_link), ==, 0);

  assert_vm_refused (fixture->store, "vm1", link, "is a symbolic link");
  assert_vm_refused (fixture->store, "vm2", file_link, "is a symbolic link");
  g_assert_null (hvk_vm_store_load_hypervisor (fixture->store, "vm1", NULL, &error));
  assert_refused (error, link, "is a symbolic link");

  /* All there, as it was; the links too. */
  assert_file (target, "pid", "4242\n");
  assert_file (target, "qmp.sock", "socket");
  assert_file (target, ".lock", "");
  assert_file (target, HVK_VM_STATE_FILE, "{\"version\": 1, \"id\": \"vm1\"}");
  g_assert_cmpint (lstat (link, &st), ==, 0);
  g_assert_true (S_ISLNK (st.st_mode));
  g_assert_cmpint (lstat (file_link, &st), ==, 0);
  g_assert_true (S_ISLNK (st.st_mode));
}

/* Inside a VM dir, the state file and the lock file are not followed
 * either. */
static void
test_vm_files_symlink (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *state = g_path_get_dirname (fixture->store);
  g_autofree char *outside = g_build_filename (state, "outside.json", NULL);
  g_autofree char *dir = NULL;
  g_autofree char *state_link = NULL;
  g_autofree char *lock_link = NULL;
  g_autoptr(JsonNode) node = make_state ("{\"version\": 1}");
  g_autoptr(GError) error = NULL;
  HvkVmLock *lock;

  dir = hvk_vm_store_ensure_dir (fixture->store, "vm1", &error);
  g_assert_no_error (error);
  write_file (state, "outside.json", "{\"version\": 1, \"secret\": true}");
  state_link = g_build_filename (dir, HVK_VM_STATE_FILE, NULL);
  g_assert_cmpint (symlink (outside, state_link), ==, 0);
  lock_link = g_build_filename (dir, ".lock", NULL);
  g_assert_cmpint (symlink (outside, lock_link), ==, 0);

  g_assert_null (hvk_vm_store_read_state (fixture->store, "vm1", &error));
  assert_refused (error, state_link, "symbolic link");
  g_clear_error (&error);
  lock = hvk_vm_store_lock (fixture->store, "vm1", FALSE, &error);
  g_assert_null (lock);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_clear_error (&error);

  /* Writing replaces the link, never writes through it. */
  g_assert_true (hvk_vm_store_write_state (fixture->store, "vm1", node, &error));
  g_assert_no_error (error);
  assert_file (state, "outside.json", "{\"version\": 1, \"secret\": true}");
  g_assert_false (g_file_test (state_link, G_FILE_TEST_IS_SYMLINK));

  g_assert_true (hvk_vm_store_remove_dir (fixture->store, "vm1", &error));
  g_assert_no_error (error);
  assert_file (state, "outside.json", "{\"version\": 1, \"secret\": true}");
}

static void
test_store_untrusted (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(JsonNode) state = make_state ("{\"version\": 1}");
  g_autoptr(GError) error = NULL;
  g_autofree char *vm_dir = g_build_filename (fixture->store, "vm1", NULL);
  g_autofree char *open_msg = g_strdup_printf ("state dir %s is writable by its group and others (mode 0777); chmod go-w it",
                                               fixture->store);
  g_autofree char *owner_msg = g_strdup_printf ("state dir %s is owned by uid 65534", fixture->store);

  g_assert_true (hvk_vm_store_write_state (fixture->store, "vm1", state, &error));
  g_assert_no_error (error);

  /* World-writable, group-writable: refused, naming path and mode. */
  g_assert_cmpint (chmod (fixture->store, 0777), ==, 0);
  assert_vm_refused (fixture->store, "vm1", fixture->store, "(mode 0777); chmod go-w it");
  g_assert_false (hvk_vm_store_sweep (fixture->store, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, open_msg);
  g_clear_error (&error);
  /* Sticky does not help: hvkit makes its dirs 0700. */
  g_assert_cmpint (chmod (fixture->store, 01777), ==, 0);
  assert_vm_refused (fixture->store, "vm1", fixture->store, "writable by its group and others");
  g_assert_cmpint (chmod (fixture->store, 0720), ==, 0);
  assert_vm_refused (fixture->store, "vm1", fixture->store, "writable by its group (mode 0720)");
  g_assert_cmpint (chmod (fixture->store, 0702), ==, 0);
  assert_vm_refused (fixture->store, "vm1", fixture->store, "writable by others (mode 0702)");
  g_assert_cmpint (chmod (fixture->store, 0755), ==, 0);

  /* Read-only for others is fine. */
  g_assert_true (hvk_vm_store_sweep (fixture->store, &error));
  g_assert_no_error (error);
  {
    g_auto(GStrv) ids = hvk_vm_store_list (fixture->store);
    g_assert_cmpstrv (ids, ((const char * const[]) { "vm1", NULL }));
  }

  /* A lax VM dir inside a good store. */
  g_assert_cmpint (chmod (vm_dir, 0777), ==, 0);
  assert_vm_refused (fixture->store, "vm1", vm_dir, "VM dir");
  assert_vm_refused (fixture->store, "vm1", vm_dir, "(mode 0777)");
  g_assert_cmpint (chmod (vm_dir, 0700), ==, 0);

  if (geteuid () != 0)
    {
      g_test_message ("not root: other owners not tested");
      return;
    }

  /* Another user's: refused even to root. */
  g_assert_cmpint (chown (fixture->store, 65534, 65534), ==, 0);
  assert_vm_refused (fixture->store, "vm1", fixture->store, owner_msg);
  g_assert_cmpint (chown (fixture->store, 0, 0), ==, 0);
  g_assert_cmpint (chown (vm_dir, 65534, 65534), ==, 0);
  assert_vm_refused (fixture->store, "vm1", vm_dir, "is owned by uid 65534");
  g_assert_cmpint (chown (vm_dir, 0, 0), ==, 0);

  g_assert_true (hvk_vm_store_remove_dir (fixture->store, "vm1", &error));
  g_assert_no_error (error);
}

/* ---- removal a kill cannot cut in half ---- */

static guint
count_removing (const char *store)
{
  g_autoptr(GDir) dir = g_dir_open (store, 0, NULL);
  const char *name;
  guint n = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    n += g_str_has_prefix (name, ".removing-");
  return n;
}

static void
test_remove_leaves_nothing (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(JsonNode) state = make_state ("{\"version\": 1}");
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;

  g_assert_true (hvk_vm_store_write_state (fixture->store, "vm1", state, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_vm_store_remove_dir (fixture->store, "vm1", &error));
  g_assert_no_error (error);
  /* Not even the hidden name it went through. */
  dir = g_dir_open (fixture->store, 0, NULL);
  g_assert_nonnull (dir);
  g_assert_null (g_dir_read_name (dir));
}

/* What a removal killed midway left: swept, never listed. */
static void
test_sweep (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(JsonNode) state = make_state ("{\"version\": 1}");
  g_autoptr(GError) error = NULL;
  g_autofree char *state_dir = g_path_get_dirname (fixture->store);
  g_autofree char *outside = g_build_filename (state_dir, "outside", NULL);
  g_autofree char *left = g_build_filename (fixture->store, ".removing-vm1-abc123", NULL);
  g_autofree char *deep = g_build_filename (left, "sub", "deeper", NULL);
  g_autofree char *link = g_build_filename (deep, "link", NULL);
  g_auto(GStrv) ids = NULL;

  /* No store: nothing to do. */
  g_assert_true (hvk_vm_store_sweep (fixture->store, &error));
  g_assert_no_error (error);

  g_assert_true (hvk_vm_store_write_state (fixture->store, "vm2", state, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir_with_parents (deep, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (outside, 0700), ==, 0);
  write_file (outside, "keep", "keep");
  write_file (left, HVK_VM_STATE_FILE, "{\"version\": 1}");
  write_file (deep, "f", "x");
  g_assert_cmpint (symlink (outside, link), ==, 0);

  g_assert_cmpuint (count_removing (fixture->store), ==, 1);
  ids = hvk_vm_store_list (fixture->store);
  g_assert_cmpstrv (ids, ((const char * const[]) { "vm2", NULL }));
  g_assert_cmpuint (count_removing (fixture->store), ==, 0);
  assert_file (outside, "keep", "keep");

  /* And by itself. */
  g_assert_cmpint (g_mkdir_with_parents (deep, 0700), ==, 0);
  g_assert_cmpint (symlink (outside, link), ==, 0);
  g_assert_true (hvk_vm_store_sweep (fixture->store, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_removing (fixture->store), ==, 0);
  assert_file (outside, "keep", "keep");
  g_clear_pointer (&ids, g_strfreev);
  ids = hvk_vm_store_list (fixture->store);
  g_assert_cmpstrv (ids, ((const char * const[]) { "vm2", NULL }));
}

/* A removal killed (SIGKILL) while it runs leaves the whole VM or no VM
 * dir at all: never a VM dir without its state file, which status, list
 * and stop would take for no VM while its files stay. */
static void
test_remove_killed (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(JsonNode) state = make_state ("{\"version\": 1}");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (fixture->store, "vm1", NULL);
  g_autofree char *state_path = g_build_filename (dir, HVK_VM_STATE_FILE, NULL);
  g_auto(GStrv) ids = NULL;
  struct stat st;
  int status;
  pid_t pid;

  g_assert_true (hvk_vm_store_write_state (fixture->store, "vm1", state, &error));
  g_assert_no_error (error);
  /* Enough files that removing them takes a while. */
  for (guint i = 0; i < 4000; i++)
    {
      g_autofree char *name = g_strdup_printf ("f%u", i);
      write_file (dir, name, "");
    }

  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      hvk_vm_store_remove_dir (fixture->store, "vm1", NULL);
      _exit (0);
    }
  /* Kill it as soon as the removal shows: the state file or the dir
   * gone. */
  while (stat (state_path, &st) == 0)
    ;
  kill (pid, SIGKILL);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status));

  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  /* It was killed midway: the rest is under the hidden name... */
  g_assert_cmpuint (count_removing (fixture->store), ==, 1);
  /* ...which listing sweeps. */
  ids = hvk_vm_store_list (fixture->store);
  g_assert_cmpuint (g_strv_length (ids), ==, 0);
  g_assert_cmpuint (count_removing (fixture->store), ==, 0);
}

/* Waits until a thread of this process is blocked in flock() on @path
 * (/proc/locks shows waiters as "->"), for 5 s at most. */
static void
wait_for_blocked_flock (const char *path)
{
  struct stat st;
  g_autofree char *needle = NULL;

  g_assert_cmpint (stat (path, &st), ==, 0);
  needle = g_strdup_printf (":%lu ", (unsigned long) st.st_ino);
  for (guint i = 0; i < 500; i++)
    {
      g_autofree char *locks = NULL;
      g_auto(GStrv) lines = NULL;

      if (!g_file_get_contents ("/proc/locks", &locks, NULL, NULL))
        break;
      lines = g_strsplit (locks, "\n", -1);
      for (guint j = 0; lines[j] != NULL; j++)
        if (strstr (lines[j], "-> FLOCK") != NULL && strstr (lines[j], needle) != NULL)
          return;
      g_usleep (10000);
    }
  g_test_message ("no blocked waiter seen on %s", path);
}

typedef struct {
  const char *store;
  gint        acquired;
  gint        release;
} HoldData;

static gpointer
wait_and_hold (gpointer user_data)
{
  HoldData *data = user_data;
  g_autoptr(GError) error = NULL;
  HvkVmLock *lock = hvk_vm_store_lock (data->store, "vm1", TRUE, &error);

  g_assert_no_error (error);
  g_atomic_int_set (&data->acquired, 1);
  while (!g_atomic_int_get (&data->release))
    g_usleep (1000);
  hvk_vm_lock_release (lock);
  return NULL;
}

/* The holder removes (or only renames away, killed before it removed)
 * the VM dir while another waits for its lock: the waiter ends up
 * holding the lock file STORE/ID/.lock names now, not the old one. */
static void
test_lock_wait_removed (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autofree char *lock_path = g_build_filename (fixture->store, "vm1", ".lock", NULL);
  g_autofree char *dir = g_build_filename (fixture->store, "vm1", NULL);
  g_autofree char *away = g_build_filename (fixture->store, ".removing-vm1-killed", NULL);

  for (guint renamed_only = 0; renamed_only < 2; renamed_only++)
    {
      g_autoptr(GError) error = NULL;
      HvkVmLock *lock = hvk_vm_store_lock (fixture->store, "vm1", FALSE, &error);
      HvkVmLock *other;
      HoldData hold = { fixture->store, 0, 0 };
      GThread *thread;

      g_assert_no_error (error);
      thread = g_thread_new ("waiter", wait_and_hold, &hold);
      wait_for_blocked_flock (lock_path);
      g_assert_cmpint (g_atomic_int_get (&hold.acquired), ==, 0);

      if (renamed_only)
        g_assert_cmpint (rename (dir, away), ==, 0);
      else
        {
          g_assert_true (hvk_vm_store_remove_dir (fixture->store, "vm1", &error));
          g_assert_no_error (error);
        }
      hvk_vm_lock_release (lock);
      while (!g_atomic_int_get (&hold.acquired))
        g_usleep (1000);

      /* The waiter holds the lock of the VM as it is named now. */
      g_assert_true (g_file_test (lock_path, G_FILE_TEST_IS_REGULAR));
      other = hvk_vm_store_lock (fixture->store, "vm1", FALSE, &error);
      g_assert_null (other);
      g_assert_error (error, HVK_ERROR, HVK_ERROR_BUSY);
      g_clear_error (&error);

      g_atomic_int_set (&hold.release, 1);
      g_thread_join (thread);
      g_assert_true (hvk_vm_store_remove_dir (fixture->store, "vm1", &error));
      g_assert_no_error (error);
    }
  g_assert_true (hvk_vm_store_sweep (fixture->store, NULL));
  g_assert_cmpuint (count_removing (fixture->store), ==, 0);
}

/* Save/load through the mock backend, found by scanning the build tree. */

static const char mock_config[] =
  "[hypervisor]\n"
  "backend=mock\n"
  "[hypervisor.mock]\n"
  "kernel=/var/lib/hvkit/test/vmlinuz\n"
  "initrd=/var/lib/hvkit/test/initrd.img\n"
  "default_vcpus=2\n"
  "default_memory=512\n";

static HvkRegistry *
new_registry (void)
{
  HvkRegistry *registry = hvk_registry_new ();

  hvk_registry_scan (registry);
  if (hvk_registry_lookup_backend (registry, "mock") == NULL)
    g_error ("the mock backend is not in HVKIT_PLUGIN_PATH=%s",
             g_getenv ("HVKIT_PLUGIN_PATH"));
  return registry;
}

static HvkHypervisor *
start_mock (HvkRegistry *registry,
            const char  *store,
            const char  *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;

  config = hvk_config_new_from_data (mock_config, -1, "test.conf", registry, &error);
  g_assert_no_error (error);
  hvk_config_set_vm_store_path (config, store);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_create_vm (hypervisor, id, config, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_start_vm (hypervisor, 0, NULL, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&hypervisor);
}

static void
test_save_load (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkRegistry) registry = new_registry ();
  g_autoptr(HvkHypervisor) hypervisor = start_mock (registry, fixture->store, "vm1");
  g_autoptr(HvkHypervisor) loaded = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *config_text = NULL;
  g_autofree char *path = g_build_filename (fixture->store, "vm1", HVK_VM_STATE_FILE, NULL);
  JsonObject *object;
  HvkConfig *config;

  g_assert_true (hvk_hypervisor_pause_vm (hypervisor, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_vm_store_save_hypervisor (fixture->store, "vm1", hypervisor, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (file_mode (path), ==, 0600);

  root = hvk_vm_store_read_state (fixture->store, "vm1", &error);
  g_assert_no_error (error);
  object = json_node_get_object (root);
  g_assert_cmpint (json_object_get_int_member (object, "version"), ==, HVK_VM_STATE_VERSION);
  g_assert_cmpstr (json_object_get_string_member (object, "id"), ==, "vm1");
  g_assert_cmpstr (json_object_get_string_member (object, "backend"), ==, "mock");
  g_assert_cmpstr (json_object_get_string_member (object, "state"), ==, "paused");
  config_text = hvk_config_to_data (hvk_hypervisor_get_config (hypervisor), NULL);
  g_assert_cmpstr (json_object_get_string_member (object, "config"), ==, config_text);
  /* The core's envelope around the backend's private part. */
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, "cold_devices")));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "launch")));
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, "processes")));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "paths")));
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "private")));
  g_assert_false (json_object_has_member (object, "hypervisor"));
  g_assert_false (json_object_has_member (json_object_get_object_member (object, "private"), "id"));

  loaded = hvk_vm_store_load_hypervisor (fixture->store, "vm1", registry, &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded);
  g_assert_cmpstr (hvk_hypervisor_get_backend_name (loaded), ==, "mock");
  g_assert_cmpint (hvk_hypervisor_get_state (loaded), ==, HVK_VM_STATE_PAUSED);
  config = hvk_hypervisor_get_config (loaded);
  g_assert_nonnull (config);
  g_assert_cmpstr (hvk_config_get_vm_store_path (config), ==, fixture->store);
  g_assert_cmpuint (hvk_config_get_uint (config, "default_memory"), ==, 512);

  /* The loaded VM carries on where the first left it. */
  g_assert_true (hvk_hypervisor_resume_vm (loaded, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_stop_vm (loaded, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

/* Loading @id fails with @code and a message holding @expected: from
 * its state file, or from @state when that is given. */
static void
expect_state_error (const char  *store,
                    const char  *id,
                    JsonNode    *state,
                    HvkRegistry *registry,
                    int          code,
                    const char  *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) loaded = state != NULL
    ? hvk_vm_store_load_hypervisor_from_state (store, id, state, registry, &error)
    : hvk_vm_store_load_hypervisor (store, id, registry, &error);

  g_assert_null (loaded);
  g_assert_error (error, HVK_ERROR, code);
  if (strstr (error->message, expected) == NULL)
    g_error ("'%s' does not contain '%s'", error->message, expected);
}

static void
expect_load_error (const char  *store,
                   const char  *id,
                   HvkRegistry *registry,
                   int          code,
                   const char  *expected)
{
  expect_state_error (store, id, NULL, registry, code, expected);
}

static void
rewrite_member (const char *store,
                const char *id,
                const char *member,
                JsonNode   *value)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = hvk_vm_store_read_state (store, id, &error);

  g_assert_no_error (error);
  if (value != NULL)
    json_object_set_member (json_node_get_object (root), member, value);
  else
    json_object_remove_member (json_node_get_object (root), member);
  g_assert_true (hvk_vm_store_write_state (store, id, root, &error));
  g_assert_no_error (error);
}

static void
test_load_errors (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkRegistry) registry = new_registry ();
  g_autoptr(HvkHypervisor) hypervisor = start_mock (registry, fixture->store, "vm1");
  g_autofree char *path = g_build_filename (fixture->store, "vm1", HVK_VM_STATE_FILE, NULL);
  g_autofree char *missing = g_strdup_printf ("no VM 'nope' in %s", fixture->store);
  g_autofree char *version = g_strdup_printf ("%s: unsupported state version 3", path);
  g_autofree char *saved = NULL;

  expect_load_error (fixture->store, "nope", registry, HVK_ERROR_NOT_FOUND, missing);
  expect_load_error (fixture->store, "../etc", registry, HVK_ERROR_INVALID_ARGUMENT, "'../etc'");

  g_assert_true (hvk_vm_store_save_hypervisor (fixture->store, "vm1", hypervisor, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &saved, NULL, NULL));

  rewrite_member (fixture->store, "vm1", "version", json_node_init_int (json_node_alloc (), 3));
  expect_load_error (fixture->store, "vm1", registry, HVK_ERROR_INVALID_CONFIG, version);

  g_assert_true (g_file_set_contents (path, saved, -1, NULL));
  rewrite_member (fixture->store, "vm1", "version", json_node_init_string (json_node_alloc (), "1"));
  expect_load_error (fixture->store, "vm1", registry, HVK_ERROR_INVALID_CONFIG,
                     "member 'version' is missing or not a number");

  /* Every member of the envelope, missing or of another type, is refused
   * with an error naming the file and the member. */
  for (const char * const *m = (const char * const[]) {
         "config", "backend", "state", "cold_devices", "processes", "paths", "private", NULL };
       *m != NULL; m++)
    {
      g_autofree char *expected = g_strdup_printf ("%s: corrupt state: member '%s' is missing", path, *m);
      g_autofree char *wrong = g_strdup_printf ("%s: corrupt state: member '%s' is missing or not", path, *m);

      g_assert_true (g_file_set_contents (path, saved, -1, NULL));
      rewrite_member (fixture->store, "vm1", *m, NULL);
      expect_load_error (fixture->store, "vm1", registry, HVK_ERROR_INVALID_CONFIG, expected);
      g_assert_true (g_file_set_contents (path, saved, -1, NULL));
      rewrite_member (fixture->store, "vm1", *m, json_node_init_int (json_node_alloc (), 7));
      expect_load_error (fixture->store, "vm1", registry, HVK_ERROR_INVALID_CONFIG, wrong);
    }
  {
    static const struct {
      const char *member;
      const char *value;
      const char *expected;
    } nested[] = {
      { "launch", "{\"argv\": 3}", "launch: member 'argv' is missing or not an array" },
      { "processes", "[{\"role\": \"x\", \"pid\": -1, \"start_time\": 0}]", "processes: member 'pid'" },
      { "processes", "[{\"pid\": 1, \"start_time\": 0}]", "processes: member 'role' is missing" },
      { "processes", "[3]", "member 'processes' is not an array of objects" },
      { "paths", "{\"vm_dir\": 3}", "paths: member 'vm_dir' is missing or not a string" },
      { "cold_devices", "[3]", "member 'cold_devices'" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (nested); i++)
      {
        g_autofree char *expected = g_strdup_printf ("%s: corrupt state: %s", path, nested[i].expected);

        g_assert_true (g_file_set_contents (path, saved, -1, NULL));
        rewrite_member (fixture->store, "vm1", nested[i].member,
                        json_from_string (nested[i].value, NULL));
        expect_load_error (fixture->store, "vm1", registry, HVK_ERROR_INVALID_CONFIG, expected);
      }
  }

  /* A backend that differs from the configuration's. */
  g_assert_true (g_file_set_contents (path, saved, -1, NULL));
  rewrite_member (fixture->store, "vm1", "backend", json_node_init_string (json_node_alloc (), "qemu"));
  expect_load_error (fixture->store, "vm1", registry, HVK_ERROR_INVALID_CONFIG,
                     "backend 'qemu' differs");

  /* A configuration that no longer parses names the state file. */
  g_assert_true (g_file_set_contents (path, saved, -1, NULL));
  rewrite_member (fixture->store, "vm1", "config",
                  json_node_init_string (json_node_alloc (),
                                         "[hypervisor]\nbackend=mock\n"
                                         "[hypervisor.mock]\ndefault_memory=lots\n"));
  expect_load_error (fixture->store, "vm1", registry, HVK_ERROR_INVALID_CONFIG, path);
  expect_load_error (fixture->store, "vm1", registry, HVK_ERROR_INVALID_CONFIG, "default_memory");

  g_assert_true (g_file_set_contents (path, "{]", -1, NULL));
  expect_load_error (fixture->store, "vm1", registry, HVK_ERROR_INVALID_CONFIG, path);

  g_assert_true (hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, &error));
  g_assert_no_error (error);
}

/* A state file the previous release wrote (version 1, tests/core/data/
 * state-v1, written by `hvkit start` and `hotplug` with that release)
 * loads, saves again as version 2, and stops. */
static void
test_load_v1 (Fixture       *fixture,
              gconstpointer  data)
{
  const char *backend = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkRegistry) registry = new_registry ();
  g_autoptr(HvkHypervisor) loaded = NULL;
  g_autoptr(HvkHypervisor) again = NULL;
  g_autoptr(GPtrArray) hotplugged = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *file = g_strdup_printf ("%s.json", backend);
  g_autofree char *fixture_path = g_test_build_filename (G_TEST_DIST, "core", "data", "state-v1", file, NULL);
  g_autofree char *id = g_strdup_printf ("v1%s", backend);
  g_autofree char *text = NULL;
  g_autofree char *dir = g_path_get_dirname (fixture->store);
  g_autofree char *srcdir = g_test_build_filename (G_TEST_DIST, "..", NULL);
  g_autofree char *builddir = g_test_build_filename (G_TEST_BUILT, "..", NULL);
  g_autofree char *vm_dir = NULL;
  g_autofree char *path = NULL;
  g_auto(GStrv) parts = NULL;

  if (hvk_registry_lookup_backend (registry, backend) == NULL)
    {
      g_test_skip ("backend not built");
      return;
    }
  g_assert_true (g_file_get_contents (fixture_path, &text, NULL, &error));
  g_assert_no_error (error);
  /* The fixture's paths, made this test's. */
  parts = g_strsplit (text, "@DIR@/state", -1);
  g_free (text);
  text = g_strjoinv (fixture->store, parts);
  g_strfreev (parts);
  parts = g_strsplit (text, "@DIR@", -1);
  g_free (text);
  text = g_strjoinv (dir, parts);
  g_strfreev (parts);
  parts = g_strsplit (text, "@BUILDDIR@", -1);
  g_free (text);
  text = g_strjoinv (builddir, parts);
  g_strfreev (parts);
  parts = g_strsplit (text, "@SRCDIR@", -1);
  g_free (text);
  text = g_strjoinv (srcdir, parts);

  vm_dir = hvk_vm_store_ensure_dir (fixture->store, id, &error);
  g_assert_no_error (error);
  path = g_build_filename (vm_dir, HVK_VM_STATE_FILE, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_no_error (error);

  loaded = hvk_vm_store_load_hypervisor (fixture->store, id, registry, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hvk_hypervisor_get_backend_name (loaded), ==, backend);
  g_assert_nonnull (hvk_hypervisor_get_config (loaded));
  hotplugged = hvk_hypervisor_get_hotplugged_devices (loaded);
  /* The hot-plug records came along (the ACRN fixture's as drive indexes). */
  if (!g_str_equal (backend, "acrn"))
    g_assert_cmpuint (hotplugged->len, >=, 1);

  /* Saved again, it is version 2, and loads as such. */
  g_assert_true (hvk_vm_store_save_hypervisor (fixture->store, id, loaded, &error));
  g_assert_no_error (error);
  root = hvk_vm_store_read_state (fixture->store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (root), "version"), ==, 2);
  again = hvk_vm_store_load_hypervisor (fixture->store, id, registry, &error);
  g_assert_no_error (error);
  g_clear_pointer (&hotplugged, g_ptr_array_unref);
  hotplugged = hvk_hypervisor_get_hotplugged_devices (again);
  if (!g_str_equal (backend, "acrn"))
    g_assert_cmpuint (hotplugged->len, >=, 1);

  /* Its processes are long gone: it stops. */
  g_assert_true (hvk_hypervisor_stop_vm (again, FALSE, NULL, &error));
  g_assert_no_error (error);
}

static void
test_load_from_state (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkRegistry) registry = new_registry ();
  g_autoptr(HvkHypervisor) hypervisor = start_mock (registry, fixture->store, "vm1");
  g_autoptr(HvkHypervisor) loaded = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) array = json_node_new (JSON_NODE_ARRAY);
  g_autofree char *path = g_build_filename (fixture->store, "vm1", HVK_VM_STATE_FILE, NULL);

  g_assert_true (hvk_hypervisor_pause_vm (hypervisor, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_vm_store_save_hypervisor (fixture->store, "vm1", hypervisor, &error));
  g_assert_no_error (error);

  /* One parse serves both the caller and the load. */
  root = hvk_vm_store_read_state (fixture->store, "vm1", &error);
  g_assert_no_error (error);
  loaded = hvk_vm_store_load_hypervisor_from_state (fixture->store, "vm1", root,
                                                    registry, &error);
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (loaded), ==, HVK_VM_STATE_PAUSED);
  g_assert_cmpstr (hvk_config_get_vm_store_path (hvk_hypervisor_get_config (loaded)),
                   ==, fixture->store);
  /* The node is the caller's still, unchanged. */
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "id"),
                   ==, "vm1");

  /* Another VM's state, and what is no state at all, are refused. */
  expect_state_error (fixture->store, "vm2", root, registry, HVK_ERROR_INVALID_CONFIG,
                      "it belongs to VM 'vm1', not 'vm2'");
  json_node_take_array (array, json_array_new ());
  expect_state_error (fixture->store, "vm1", array, registry, HVK_ERROR_INVALID_CONFIG, path);
  expect_state_error (fixture->store, "vm1", array, registry, HVK_ERROR_INVALID_CONFIG,
                      "not a JSON object");
  expect_state_error (fixture->store, "../x", root, registry, HVK_ERROR_INVALID_ARGUMENT,
                      "'../x'");

  g_assert_true (hvk_hypervisor_stop_vm (loaded, FALSE, NULL, &error));
  g_assert_no_error (error);
}

static void
test_save_without_create (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkRegistry) registry = new_registry ();
  g_autoptr(HvkConfig) config = hvk_config_new_from_data (mock_config, -1, "t.conf",
                                                          registry, &error);
  g_autoptr(HvkHypervisor) hypervisor = NULL;

  g_assert_no_error (error);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  g_assert_false (hvk_vm_store_save_hypervisor (fixture->store, "vm1", hypervisor, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
  g_assert_nonnull (strstr (error->message, "'vm1'"));
  g_assert_false (g_file_test (fixture->store, G_FILE_TEST_EXISTS));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/hvk/vm-store/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  g_test_add_func ("/hvk/vm-store/default-dir", test_default_dir);
  g_test_add ("/hvk/vm-store/load-v1/mock", Fixture, "mock", fixture_set_up, test_load_v1, fixture_tear_down);
  g_test_add ("/hvk/vm-store/load-v1/qemu", Fixture, "qemu", fixture_set_up, test_load_v1, fixture_tear_down);
  g_test_add ("/hvk/vm-store/load-v1/acrn", Fixture, "acrn", fixture_set_up, test_load_v1, fixture_tear_down);
  g_test_add_func ("/hvk/vm-store/id-validate", test_id_validate);
  g_test_add_func ("/hvk/vm-store/build-socket-path", test_build_socket_path);
  ADD ("socket-path", test_socket_path);
  ADD ("dirs", test_dirs);
  ADD ("remove-keeps-logs", test_remove_keeps_logs);
  ADD ("ensure-dir-not-a-dir", test_ensure_dir_not_a_dir);
  ADD ("list", test_list);
  ADD ("lock", test_lock);
  ADD ("lock-wait", test_lock_wait);
  ADD ("state-files", test_state_files);
  ADD ("save-load", test_save_load);
  ADD ("load-errors", test_load_errors);
  ADD ("load-from-state", test_load_from_state);
  ADD ("save-without-create", test_save_without_create);
  ADD ("vm-dir-symlink", test_vm_dir_symlink);
  ADD ("vm-files-symlink", test_vm_files_symlink);
  ADD ("store-untrusted", test_store_untrusted);
  ADD ("remove-leaves-nothing", test_remove_leaves_nothing);
  ADD ("sweep", test_sweep);
  ADD ("remove-killed", test_remove_killed);
  ADD ("lock-wait-removed", test_lock_wait_removed);
#undef ADD

  return g_test_run ();
}
