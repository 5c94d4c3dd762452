/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <glib/gstdio.h>
#include <string.h>

/* The HvkHypervisor wrappers, without any backend: two tiny in-test
 * implementations, one that implements nothing but get_state (every
 * wrapper must say NOT_SUPPORTED or fall back to its documented default)
 * and one whose lifecycle vfuncs only count calls (the wrappers must
 * refuse by the lifecycle table before they dispatch). */

/* ---- TestBare: only get_state ---- */

/* A node holding a new empty object (json_node_init_object() takes a
 * reference of its own: the new object's must be given up). */
static JsonNode *
empty_object_node (void)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, json_object_new ());
  return node;
}

#define TEST_TYPE_BARE (test_bare_get_type ())
G_DECLARE_FINAL_TYPE (TestBare, test_bare, TEST, BARE, GObject)

struct _TestBare
{
  GObject parent_instance;
  HvkRegistry *registry;
};

static HvkVmState
test_bare_get_state (HvkHypervisor *self)
{
  return HVK_VM_STATE_NONE;
}

static void
test_bare_iface_init (HvkHypervisorInterface *iface)
{
  iface->get_state = test_bare_get_state;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestBare, test_bare, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (HVK_TYPE_HYPERVISOR,
                                                      test_bare_iface_init))

enum { PROP_REGISTRY_0, PROP_REGISTRY };

static void
test_bare_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  if (prop_id == PROP_REGISTRY)
    g_value_set_object (value, TEST_BARE (object)->registry);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
test_bare_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  if (prop_id == PROP_REGISTRY)
    g_set_object (&TEST_BARE (object)->registry, g_value_get_object (value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
test_bare_finalize (GObject *object)
{
  g_clear_object (&TEST_BARE (object)->registry);
  G_OBJECT_CLASS (test_bare_parent_class)->finalize (object);
}

static void
test_bare_class_init (TestBareClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = test_bare_finalize;
  object_class->get_property = test_bare_get_property;
  object_class->set_property = test_bare_set_property;
  g_object_class_override_property (object_class, PROP_REGISTRY, "registry");
}

static void
test_bare_init (TestBare *self)
{
}

/* ---- TestFull: lifecycle vfuncs that count calls ---- */

#define TEST_TYPE_FULL (test_full_get_type ())
G_DECLARE_FINAL_TYPE (TestFull, test_full, TEST, FULL, GObject)

struct _TestFull
{
  GObject parent_instance;
  HvkRegistry *registry;
  HvkVmState state;
  guint calls;
  guint save_state_calls;
};

static HvkVmState
test_full_get_state (HvkHypervisor *self)
{
  return TEST_FULL (self)->state;
}

static gboolean
test_full_create_vm (HvkHypervisor *self, const char *id, HvkConfig *config, GError **error)
{
  TEST_FULL (self)->calls++;
  return TRUE;
}

static gboolean
test_full_start_vm (HvkHypervisor *self, guint timeout_ms, GCancellable *cancellable,
                    GError **error)
{
  /* The wrapper turns 0 into the default bound. */
  g_assert_cmpuint (timeout_ms, ==, HVK_DEFAULT_START_TIMEOUT_MS);
  TEST_FULL (self)->calls++;
  return TRUE;
}

static gboolean
test_full_stop_vm (HvkHypervisor *self, gboolean wait_only, GCancellable *cancellable,
                   GError **error)
{
  TEST_FULL (self)->calls++;
  return TRUE;
}

static gboolean
test_full_simple (HvkHypervisor *self, GCancellable *cancellable, GError **error)
{
  TEST_FULL (self)->calls++;
  return TRUE;
}

static gboolean
test_full_add_device (HvkHypervisor *self, HvkDevice *device, GError **error)
{
  TEST_FULL (self)->calls++;
  return TRUE;
}

static gboolean
test_full_hotplug_add_device (HvkHypervisor *self, HvkDevice *device,
                              GCancellable *cancellable, GError **error)
{
  TEST_FULL (self)->calls++;
  return TRUE;
}

static gboolean
test_full_hotplug_remove_device (HvkHypervisor *self, const char *device_id,
                                 GCancellable *cancellable, GError **error)
{
  TEST_FULL (self)->calls++;
  return TRUE;
}

static gboolean
test_full_resize_memory (HvkHypervisor *self, guint32 mem_mb, guint32 block_size_mb,
                         gboolean probe, guint32 *new_mem_mb, HvkMemoryDevice *mem_dev,
                         GCancellable *cancellable, GError **error)
{
  /* The wrapper passes dummies for optional outs. */
  g_assert_nonnull (new_mem_mb);
  g_assert_nonnull (mem_dev);
  TEST_FULL (self)->calls++;
  return TRUE;
}

static gboolean
test_full_resize_vcpus (HvkHypervisor *self, guint32 vcpus, guint32 *old_vcpus,
                        guint32 *new_vcpus, GCancellable *cancellable, GError **error)
{
  g_assert_nonnull (old_vcpus);
  g_assert_nonnull (new_vcpus);
  TEST_FULL (self)->calls++;
  return TRUE;
}

static JsonNode *
test_full_save_private (HvkHypervisor *self,
                        HvkVmRecord   *record)
{
  TEST_FULL (self)->save_state_calls++;
  return empty_object_node ();
}

static gboolean
test_full_get_launch_command (HvkHypervisor *self, GStrv *argv, char **kernel_cmdline,
                              GError **error)
{
  const char * const command[] = { "test-vmm", "-kernel", "vmlinuz", NULL };

  g_assert_nonnull (argv);
  g_assert_nonnull (kernel_cmdline);
  TEST_FULL (self)->calls++;
  *argv = g_strdupv ((char **) command);
  *kernel_cmdline = g_strdup ("console=hvc0");
  return TRUE;
}

static gboolean
test_full_save_to_dir (HvkHypervisor *self, const char *dir, GCancellable *cancellable,
                       GError **error)
{
  g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));
  TEST_FULL (self)->calls++;
  return TRUE;
}

static gboolean
test_full_restore_from_dir (HvkHypervisor *self, const char *dir, gboolean paused,
                            guint timeout_ms, GCancellable *cancellable, GError **error)
{
  g_assert_cmpuint (timeout_ms, ==, HVK_DEFAULT_START_TIMEOUT_MS);
  TEST_FULL (self)->calls++;
  return TRUE;
}

static HvkConfig *
test_full_get_config (HvkHypervisor *self)
{
  static HvkConfig *config;

  if (config == NULL)
    config = hvk_config_new ("test");
  return config;
}

static void
test_full_iface_init (HvkHypervisorInterface *iface)
{
  iface->save_to_dir = test_full_save_to_dir;
  iface->restore_from_dir = test_full_restore_from_dir;
  iface->get_config = test_full_get_config;
  iface->get_state = test_full_get_state;
  iface->create_vm = test_full_create_vm;
  iface->start_vm = test_full_start_vm;
  iface->stop_vm = test_full_stop_vm;
  iface->pause_vm = test_full_simple;
  iface->resume_vm = test_full_simple;
  iface->save_vm = test_full_simple;
  iface->add_device = test_full_add_device;
  iface->hotplug_add_device = test_full_hotplug_add_device;
  iface->hotplug_remove_device = test_full_hotplug_remove_device;
  iface->resize_memory = test_full_resize_memory;
  iface->resize_vcpus = test_full_resize_vcpus;
  iface->save_private = test_full_save_private;
  iface->get_launch_command = test_full_get_launch_command;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestFull, test_full, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (HVK_TYPE_HYPERVISOR,
                                                      test_full_iface_init))

static void
test_full_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  if (prop_id == PROP_REGISTRY)
    g_value_set_object (value, TEST_FULL (object)->registry);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
test_full_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  if (prop_id == PROP_REGISTRY)
    g_set_object (&TEST_FULL (object)->registry, g_value_get_object (value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
test_full_finalize (GObject *object)
{
  g_clear_object (&TEST_FULL (object)->registry);
  G_OBJECT_CLASS (test_full_parent_class)->finalize (object);
}

static void
test_full_class_init (TestFullClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = test_full_finalize;
  object_class->get_property = test_full_get_property;
  object_class->set_property = test_full_set_property;
  g_object_class_override_property (object_class, PROP_REGISTRY, "registry");
}

static void
test_full_init (TestFull *self)
{
}

/* ---- the operations, driven uniformly ---- */

typedef enum {
  OP_CREATE,
  OP_START,
  OP_STOP,
  OP_PAUSE,
  OP_RESUME,
  OP_SAVE,
  OP_ADD_DEVICE,
  OP_HOTPLUG_ADD,
  OP_HOTPLUG_REMOVE,
  OP_RESIZE_MEMORY,
  OP_RESIZE_VCPUS,
  OP_LAUNCH_COMMAND,
  OP_SAVE_TO_DIR,
  OP_RESTORE,
  N_OPS,
} Op;

#define S(state) (1u << HVK_VM_STATE_ ## state)

/* The table documented with HvkVmState, written out again on purpose: a
 * change to the one in core/hvk-hypervisor.c must show up here. */
static const struct {
  const char *vfunc;
  const char *verb;
  guint legal;
} ops[N_OPS] = {
  [OP_CREATE] = { "create_vm", "create", S (NONE) },
  [OP_START] = { "start_vm", "start", S (CREATED) },
  [OP_STOP] = { "stop_vm", "stop", S (CREATED) | S (STARTING) | S (RUNNING) | S (PAUSED) | S (STOPPED) },
  [OP_PAUSE] = { "pause_vm", "pause", S (RUNNING) },
  [OP_RESUME] = { "resume_vm", "resume", S (PAUSED) },
  [OP_SAVE] = { "save_vm", "save", S (RUNNING) | S (PAUSED) },
  [OP_ADD_DEVICE] = { "add_device", "cold-plug a device into", S (CREATED) },
  [OP_HOTPLUG_ADD] = { "hotplug_add_device", "hotplug a device into", S (RUNNING) },
  [OP_HOTPLUG_REMOVE] = { "hotplug_remove_device", "unplug a device from", S (RUNNING) },
  [OP_RESIZE_MEMORY] = { "resize_memory", "resize the memory of", S (RUNNING) },
  [OP_RESIZE_VCPUS] = { "resize_vcpus", "resize the vCPUs of", S (RUNNING) },
  /* A query, not a transition: valid once create_vm() ran. */
  [OP_LAUNCH_COMMAND] = { "get_launch_command", "get the launch command of",
                          S (CREATED) | S (STARTING) | S (RUNNING) | S (PAUSED) | S (STOPPED) },
  [OP_SAVE_TO_DIR] = { "save_to_dir", "save", S (RUNNING) | S (PAUSED) },
  /* In place of start_vm. */
  [OP_RESTORE] = { "restore_from_dir", "restore", S (CREATED) },
};

#undef S

/* Where OP_SAVE_TO_DIR saves and OP_RESTORE restores from (it comes
 * after: the manifest is there). */
static char *save_dir;

static const HvkVmState all_states[] = {
  HVK_VM_STATE_NONE, HVK_VM_STATE_CREATED, HVK_VM_STATE_RUNNING,
  HVK_VM_STATE_PAUSED, HVK_VM_STATE_STOPPED, HVK_VM_STATE_STARTING,
};

static gboolean
run_op (HvkHypervisor *hv,
        Op             op,
        GError       **error)
{
  g_autoptr(HvkConfig) config = hvk_config_new ("test");
  g_autoptr(HvkDeviceKind) kind = hvk_device_kind_new ("gadget", NULL, NULL, 0, NULL);
  g_autoptr(HvkDevice) device = hvk_device_new (kind, "g0");

  switch (op)
    {
    case OP_CREATE:
      return hvk_hypervisor_create_vm (hv, "vm0", config, error);
    case OP_START:
      return hvk_hypervisor_start_vm (hv, 0, NULL, error);
    case OP_STOP:
      return hvk_hypervisor_stop_vm (hv, FALSE, NULL, error);
    case OP_PAUSE:
      return hvk_hypervisor_pause_vm (hv, NULL, error);
    case OP_RESUME:
      return hvk_hypervisor_resume_vm (hv, NULL, error);
    case OP_SAVE:
      return hvk_hypervisor_save_vm (hv, NULL, error);
    case OP_ADD_DEVICE:
      return hvk_hypervisor_add_device (hv, device, error);
    case OP_HOTPLUG_ADD:
      return hvk_hypervisor_hotplug_add_device (hv, device, NULL, error);
    case OP_HOTPLUG_REMOVE:
      return hvk_hypervisor_hotplug_remove_device (hv, "g0", NULL, error);
    case OP_RESIZE_MEMORY:
      return hvk_hypervisor_resize_memory (hv, 512, 0, FALSE, NULL, NULL, NULL, error);
    case OP_RESIZE_VCPUS:
      return hvk_hypervisor_resize_vcpus (hv, 2, NULL, NULL, NULL, error);
    case OP_LAUNCH_COMMAND:
      {
        g_auto(GStrv) argv = NULL;
        g_autofree char *kernel_cmdline = NULL;

        if (!hvk_hypervisor_get_launch_command (hv, &argv, &kernel_cmdline, error))
          {
            g_assert_null (argv);
            g_assert_null (kernel_cmdline);
            return FALSE;
          }
        g_assert_cmpstrv (argv, ((const char * const[]) { "test-vmm", "-kernel", "vmlinuz", NULL }));
        g_assert_cmpstr (kernel_cmdline, ==, "console=hvc0");
        return TRUE;
      }
    case OP_SAVE_TO_DIR:
      return hvk_hypervisor_save_to_dir (hv, save_dir, NULL, error);
    case OP_RESTORE:
      return hvk_hypervisor_restore_from_dir (hv, save_dir, FALSE, 0, NULL, error);
    case N_OPS:
    default:
      g_assert_not_reached ();
    }
}

/* A NULL vfunc is NOT_SUPPORTED, naming the backend and the operation,
 * in every state. */
static void
test_not_supported (void)
{
  g_autoptr(HvkHypervisor) hv = g_object_new (TEST_TYPE_BARE, NULL);

  for (guint op = 0; op < N_OPS; op++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *expected = g_strdup_printf ("backend 'TestBare' does not support %s",
                                                   ops[op].vfunc);

      g_assert_false (run_op (hv, op, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
      g_assert_cmpstr (error->message, ==, expected);
    }

  /* The other wrappers that fail without their vfunc. */
  {
    g_autoptr(GError) error = NULL;

    g_assert_false (hvk_hypervisor_check (hv, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
    g_assert_cmpstr (error->message, ==, "backend 'TestBare' does not support check");
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) state = empty_object_node ();

    g_assert_false (hvk_hypervisor_load_state (hv, state, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  }
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *protocol = NULL;
    g_autofree char *url = NULL;

    g_assert_false (hvk_hypervisor_get_vm_console (hv, &protocol, &url, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
    g_assert_null (protocol);
    g_assert_null (url);
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GHashTable) tids = hvk_hypervisor_get_thread_ids (hv, NULL, &error);

    g_assert_null (tids);
    g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  }
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *socket = hvk_hypervisor_generate_socket (hv, "vm0", &error);

    g_assert_null (socket);
    g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  }

  /* The queries fall back to their documented defaults. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) pids = hvk_hypervisor_get_pids (hv);
    g_autoptr(JsonNode) state = hvk_hypervisor_save_state (hv);

    g_assert_true (hvk_hypervisor_cleanup (hv, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (pids->len, ==, 0);
    g_assert_true (JSON_NODE_HOLDS_OBJECT (state));
    g_assert_cmpuint (json_object_get_size (json_node_get_object (state)), ==, 0);
    g_assert_cmpint (hvk_hypervisor_get_virtiofs_pid (hv), ==, -1);
    g_assert_cmpuint (hvk_hypervisor_get_total_memory_mb (hv), ==, 0);
    g_assert_cmpuint (hvk_hypervisor_capabilities (hv), ==, HVK_CAP_NONE);
    g_assert_null (hvk_hypervisor_get_config (hv));
    g_assert_false (hvk_hypervisor_is_rate_limiter_builtin (hv));
    g_assert_null (hvk_hypervisor_get_registry (hv));
    g_assert_cmpstr (hvk_hypervisor_get_backend_name (hv), ==, "TestBare");
    hvk_hypervisor_disconnect (hv);
  }
}

/* A directory that is not a save of this hvkit is refused, saying why,
 * before any backend sees it; so is one of another backend. */
static void
test_save_dir_foreign (void)
{
  g_autofree char *dir = g_dir_make_tmp ("hvk-test-foreign-XXXXXX", NULL);
  g_autofree char *manifest = g_build_filename (dir, HVK_SAVE_DIR_MANIFEST, NULL);
  g_autofree char *missing = g_build_filename (dir, "missing", NULL);
  const struct {
    const char *text;   /* NULL: no manifest */
    const char *message;
  } cases[] = {
    { NULL, "is not a saved VM" },
    { "not json", "not a saved VM's manifest" },
    { "{\"format\": \"other\", \"version\": 1}", "not a saved VM's manifest" },
    { "{\"format\": \"hvkit-save\", \"version\": 99, \"backend\": \"test\", \"config\": \"\"}",
      "format version 99" },
    { "{\"format\": \"hvkit-save\", \"version\": 1}", "needs \"backend\" and \"config\"" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HvkConfig) config = NULL;

      g_remove (manifest);
      if (cases[i].text != NULL)
        g_assert_true (g_file_set_contents (manifest, cases[i].text, -1, NULL));
      config = hvk_save_dir_load_config (dir, NULL, NULL, NULL, &error);
      g_assert_null (config);
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, cases[i].message));
    }
  {
    g_autoptr(GError) error = NULL;

    g_assert_null (hvk_save_dir_load_config (missing, NULL, NULL, NULL, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  }
  /* Saved by another backend. */
  {
    g_autoptr(HvkHypervisor) hv = g_object_new (TEST_TYPE_FULL, NULL);
    g_autoptr(GError) error = NULL;

    TEST_FULL (hv)->state = HVK_VM_STATE_CREATED;
    g_assert_true (g_file_set_contents (manifest, "{\"format\": \"hvkit-save\", \"version\": 1, "
                                        "\"backend\": \"qemu\", \"config\": \"\"}", -1, NULL));
    g_assert_false (hvk_hypervisor_restore_from_dir (hv, dir, FALSE, 0, NULL, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "backend 'qemu'"));
    g_assert_cmpuint (TEST_FULL (hv)->calls, ==, 0);
  }
  g_remove (manifest);
  g_rmdir (dir);
}

/* Every operation in every state: legal ones dispatch, the others fail
 * with HVK_ERROR_STATE before the backend sees them. */
static void
test_lifecycle_table (void)
{
  g_autoptr(HvkHypervisor) hv = g_object_new (TEST_TYPE_FULL, NULL);
  TestFull *full = TEST_FULL (hv);

  for (guint op = 0; op < N_OPS; op++)
    for (gsize s = 0; s < G_N_ELEMENTS (all_states); s++)
      {
        HvkVmState state = all_states[s];
        g_autoptr(GError) error = NULL;
        gboolean legal = (ops[op].legal & (1u << state)) != 0;
        guint calls_before;

        g_test_message ("%s in state %s: %s", ops[op].vfunc,
                        hvk_vm_state_to_string (state), legal ? "legal" : "refused");
        full->state = state;
        calls_before = full->calls;
        if (legal)
          {
            g_assert_true (run_op (hv, op, &error));
            g_assert_no_error (error);
            g_assert_cmpuint (full->calls, ==, calls_before + 1);
          }
        else
          {
            g_autofree char *expected =
              g_strdup_printf ("cannot %s VM 'vm0': it is %s", ops[op].verb,
                               state == HVK_VM_STATE_NONE
                               ? "not created" : hvk_vm_state_to_string (state));

            g_assert_false (run_op (hv, op, &error));
            g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
            g_assert_cmpuint (full->calls, ==, calls_before);
            g_assert_cmpstr (error->message, ==, expected);
          }
      }
}

/* The launch command's out parameters are both optional. */
static void
test_launch_command_optional (void)
{
  g_autoptr(HvkHypervisor) hv = g_object_new (TEST_TYPE_FULL, NULL);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = NULL;
  g_autofree char *kernel_cmdline = NULL;

  TEST_FULL (hv)->state = HVK_VM_STATE_CREATED;
  g_assert_true (hvk_hypervisor_get_launch_command (hv, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_get_launch_command (hv, &argv, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (argv[0], ==, "test-vmm");
  g_assert_true (hvk_hypervisor_get_launch_command (hv, NULL, &kernel_cmdline, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (kernel_cmdline, ==, "console=hvc0");
  g_assert_cmpuint (TEST_FULL (hv)->calls, ==, 3);
}

/* The names are a contract (state JSON, `hvkit status`). */
static void
test_state_strings (void)
{
  static const struct {
    HvkVmState state;
    const char *name;
  } names[] = {
    { HVK_VM_STATE_NONE, "none" },
    { HVK_VM_STATE_CREATED, "created" },
    { HVK_VM_STATE_RUNNING, "running" },
    { HVK_VM_STATE_PAUSED, "paused" },
    { HVK_VM_STATE_STOPPED, "stopped" },
    { HVK_VM_STATE_STARTING, "starting" },
  };
  HvkVmState state;

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      state = (HvkVmState) 99;
      g_assert_cmpstr (hvk_vm_state_to_string (names[i].state), ==, names[i].name);
      g_assert_true (hvk_vm_state_from_string (names[i].name, &state));
      g_assert_cmpint (state, ==, names[i].state);
    }

  g_assert_cmpstr (hvk_vm_state_to_string ((HvkVmState) 99), ==, "unknown");
  state = HVK_VM_STATE_RUNNING;
  g_assert_false (hvk_vm_state_from_string ("unknown", &state));
  g_assert_false (hvk_vm_state_from_string ("Running", &state));
  g_assert_false (hvk_vm_state_from_string ("", &state));
  g_assert_false (hvk_vm_state_from_string (NULL, &state));
  g_assert_cmpint (state, ==, HVK_VM_STATE_RUNNING);
}

/* Unbound, persist() writes nothing (save_state is not even asked) and
 * succeeds. */
static void
test_persist_unbound (void)
{
  g_autoptr(HvkHypervisor) hv = g_object_new (TEST_TYPE_FULL, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (hvk_hypervisor_persist (hv, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (TEST_FULL (hv)->save_state_calls, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  save_dir = g_dir_make_tmp ("hvk-test-save-XXXXXX", NULL);
  g_assert_nonnull (save_dir);

  g_test_add_func ("/hvk/hypervisor/not-supported", test_not_supported);
  g_test_add_func ("/hvk/hypervisor/lifecycle-table", test_lifecycle_table);
  g_test_add_func ("/hvk/hypervisor/launch-command-optional", test_launch_command_optional);
  g_test_add_func ("/hvk/hypervisor/state-strings", test_state_strings);
  g_test_add_func ("/hvk/hypervisor/persist-unbound", test_persist_unbound);
  g_test_add_func ("/hvk/hypervisor/save-dir-foreign", test_save_dir_foreign);

  ret = g_test_run ();
  {
    g_autofree char *manifest = g_build_filename (save_dir, HVK_SAVE_DIR_MANIFEST, NULL);

    g_remove (manifest);
    g_rmdir (save_dir);
    g_free (save_dir);
  }
  return ret;
}
