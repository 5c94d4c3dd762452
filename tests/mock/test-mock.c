/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "hvk-test-transitions.h"
#include "hvk-test-fs.h"

/* The mock backend through the public API: real state transitions, the
 * call record, fault injection, state round trips (after Kata's
 * mock_hypervisor_test.go, section 6 of the reference vectors). */

typedef struct {
  HvkRegistry   *registry;
  char          *tmp;
  char          *store;
  HvkConfig     *config;
  HvkHypervisor *hypervisor;
} Fixture;

static const char base_config[] =
  "[hypervisor]\n"
  "backend=mock\n"
  "[hypervisor.mock]\n"
  "kernel=/var/lib/hvkit/test/vmlinuz\n"
  "initrd=/var/lib/hvkit/test/initrd.img\n"
  "default_vcpus=1\n"
  "default_maxvcpus=4\n"
  "default_memory=512\n"
  "default_maxmemory=2048\n";

static HvkConfig *
load_config (HvkRegistry *registry,
             const char  *extra)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strconcat (base_config, extra ? extra : "", NULL);
  HvkConfig *config = hvk_config_new_from_data (text, -1, "mock-test.conf",
                                                registry, &error);

  g_assert_no_error (error);
  return config;
}


/* @data: extra config lines, or NULL. */
static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->registry = hvk_registry_new ();
  hvk_registry_scan (fixture->registry);
  if (hvk_registry_lookup_backend (fixture->registry, "mock") == NULL)
    g_error ("no mock backend in HVKIT_PLUGIN_PATH=%s",
             g_getenv ("HVKIT_PLUGIN_PATH"));

  fixture->tmp = g_dir_make_tmp ("hvk-mock-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->store = g_build_filename (fixture->tmp, "store", NULL);

  fixture->config = load_config (fixture->registry, data);
  hvk_config_set_vm_store_path (fixture->config, fixture->store);
  fixture->hypervisor = hvk_registry_create_hypervisor (fixture->registry,
                                                        fixture->config,
                                                        &error);
  g_assert_no_error (error);
  g_assert_nonnull (fixture->hypervisor);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->hypervisor);
  g_clear_object (&fixture->config);
  g_clear_object (&fixture->registry);
  hvk_test_remove_tree (fixture->tmp);
  g_free (fixture->tmp);
  g_free (fixture->store);
}

static char *
vm_dir (Fixture *fixture)
{
  return g_build_filename (fixture->store, "vm1", NULL);
}

static void
create (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  gboolean ok = hvk_hypervisor_create_vm (fixture->hypervisor, "vm1",
                                          fixture->config, &error);

  g_assert_no_error (error);
  g_assert_true (ok);
}

static void
create_and_start (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  create (fixture);
  g_assert_true (hvk_hypervisor_start_vm (fixture->hypervisor, 0, NULL, &error));
  g_assert_no_error (error);
}

static HvkDevice *
device (Fixture    *fixture,
        const char *text)
{
  g_autoptr(GError) error = NULL;
  HvkDevice *dev = hvk_device_new_from_string (fixture->registry, text, &error);

  g_assert_no_error (error);
  return dev;
}

/* The call record, from the state JSON. */
static GStrv
calls (HvkHypervisor *hypervisor)
{
  g_autoptr(JsonNode) state = hvk_hypervisor_save_state (hypervisor);
  JsonArray *array = json_object_get_array_member (json_node_get_object (state), "calls");
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; i < json_array_get_length (array); i++)
    g_strv_builder_add (builder, json_array_get_string_element (array, i));
  return g_strv_builder_end (builder);
}

static void
test_registration (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  HvkBackendInfo *info;
  const HvkConfigKey *key;
  HvkPlugin *plugin;

  hvk_registry_scan (registry);
  info = hvk_registry_lookup_backend (registry, "mock");
  g_assert_nonnull (info);
  g_assert_cmpuint (hvk_backend_info_get_capabilities (info), ==,
                    HVK_CAP_FS_SHARING | HVK_CAP_BLOCK_DEVICE
                    | HVK_CAP_BLOCK_DEVICE_HOTPLUG | HVK_CAP_NET_DEVICE_HOTPLUG
                    | HVK_CAP_PAUSE_RESUME | HVK_CAP_VCPU_RESIZE | HVK_CAP_SAVE_RESTORE
                    | HVK_CAP_MEMORY_RESIZE | HVK_CAP_HYBRID_VSOCK);
  plugin = hvk_backend_info_get_plugin (info);
  g_assert_cmpstr (hvk_plugin_get_name (plugin), ==, "mock");
  g_assert_cmpstr (hvk_plugin_get_version (plugin), ==, PACKAGE_VERSION);
  g_assert_cmpstr (hvk_plugin_get_license (plugin), ==, "Apache-2.0");

  key = hvk_registry_lookup_config_key (registry, "mock", "fail_operations");
  g_assert_nonnull (key);
  g_assert_cmpint (key->type, ==, HVK_CONFIG_TYPE_STRV);
}

static void
test_lifecycle (Fixture       *fixture,
                gconstpointer  data)
{
  HvkHypervisor *hv = fixture->hypervisor;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = vm_dir (fixture);
  g_auto(GStrv) recorded = NULL;

  g_assert_cmpint (hvk_hypervisor_get_state (hv), ==, HVK_VM_STATE_NONE);
  g_assert_null (hvk_hypervisor_get_config (hv));

  create (fixture);
  g_assert_cmpint (hvk_hypervisor_get_state (hv), ==, HVK_VM_STATE_CREATED);
  g_assert_true (hvk_hypervisor_get_config (hv) == fixture->config);
  g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));
  g_assert_cmpuint (hvk_hypervisor_get_total_memory_mb (hv), ==, 512);

  g_assert_true (hvk_hypervisor_start_vm (hv, 0, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (hv), ==, HVK_VM_STATE_RUNNING);
  g_assert_true (hvk_hypervisor_check (hv, &error));
  g_assert_no_error (error);

  g_assert_true (hvk_hypervisor_pause_vm (hv, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (hv), ==, HVK_VM_STATE_PAUSED);
  g_assert_true (hvk_hypervisor_check (hv, &error));
  g_assert_no_error (error);

  g_assert_true (hvk_hypervisor_resume_vm (hv, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (hv), ==, HVK_VM_STATE_RUNNING);

  g_assert_true (hvk_hypervisor_stop_vm (hv, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (hv), ==, HVK_VM_STATE_STOPPED);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));

  g_assert_false (hvk_hypervisor_check (hv, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
  g_assert_cmpstr (error->message, ==, "mock: VM 'vm1' is stopped");
  g_clear_error (&error);

  /* Stopping again is harmless, with wait_only too. */
  g_assert_true (hvk_hypervisor_stop_vm (hv, TRUE, NULL, &error));
  g_assert_no_error (error);

  recorded = calls (hv);
  g_assert_cmpstrv (recorded, ((const char * const[]) {
    "create_vm", "get_total_memory_mb", "start_vm", "check", "pause_vm",
    "check", "resume_vm", "stop_vm", "check", "stop_vm", NULL }));
}

static void
test_stop_created (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = vm_dir (fixture);

  create (fixture);
  g_assert_true (hvk_hypervisor_stop_vm (fixture->hypervisor, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (fixture->hypervisor), ==, HVK_VM_STATE_STOPPED);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
}

typedef gboolean (*Op) (HvkHypervisor *hv, GError **error);

static gboolean op_start (HvkHypervisor *hv, GError **e) { return hvk_hypervisor_start_vm (hv, 0, NULL, e); }
static gboolean op_stop (HvkHypervisor *hv, GError **e) { return hvk_hypervisor_stop_vm (hv, FALSE, NULL, e); }
static gboolean op_pause (HvkHypervisor *hv, GError **e) { return hvk_hypervisor_pause_vm (hv, NULL, e); }
static gboolean op_resume (HvkHypervisor *hv, GError **e) { return hvk_hypervisor_resume_vm (hv, NULL, e); }
static gboolean op_unplug (HvkHypervisor *hv, GError **e) { return hvk_hypervisor_hotplug_remove_device (hv, "x", NULL, e); }
static gboolean op_vcpus (HvkHypervisor *hv, GError **e) { return hvk_hypervisor_resize_vcpus (hv, 2, NULL, NULL, NULL, e); }
static gboolean op_memory (HvkHypervisor *hv, GError **e) { return hvk_hypervisor_resize_memory (hv, 1024, 0, FALSE, NULL, NULL, NULL, e); }
static gboolean op_console (HvkHypervisor *hv, GError **e) { return hvk_hypervisor_get_vm_console (hv, NULL, NULL, e); }

typedef enum { AT_NONE, AT_CREATED, AT_RUNNING, AT_PAUSED, AT_STOPPED } Setup;
/* The table's setup passes HvkVmStates. */
G_STATIC_ASSERT ((int) AT_CREATED == (int) HVK_VM_STATE_CREATED
                 && (int) AT_STOPPED == (int) HVK_VM_STATE_STOPPED);

static void
setup_state (Fixture *fixture,
             Setup    setup)
{
  g_autoptr(GError) error = NULL;

  if (setup == AT_NONE)
    return;
  create (fixture);
  if (setup == AT_CREATED)
    return;
  if (setup == AT_STOPPED)
    {
      g_assert_true (op_stop (fixture->hypervisor, &error));
      return;
    }
  g_assert_true (op_start (fixture->hypervisor, &error));
  if (setup == AT_PAUSED)
    g_assert_true (op_pause (fixture->hypervisor, &error));
  g_assert_no_error (error);
}

static void
test_illegal_transitions (void)
{
  const struct {
    Setup       setup;
    Op          op;
    const char *message;
  } cases[] = {
    { AT_NONE, op_start, "cannot start VM '(none)': it is not created" },
    { AT_NONE, op_stop, "cannot stop VM '(none)': it is not created" },
    { AT_NONE, op_pause, "cannot pause VM '(none)': it is not created" },
    { AT_NONE, op_console, "mock: cannot get_vm_console a VM that is not created" },
    { AT_CREATED, op_pause, "cannot pause VM 'vm1': it is created" },
    { AT_CREATED, op_resume, "cannot resume VM 'vm1': it is created" },
    { AT_CREATED, op_unplug, "cannot unplug a device from VM 'vm1': it is created" },
    { AT_CREATED, op_vcpus, "cannot resize the vCPUs of VM 'vm1': it is created" },
    { AT_CREATED, op_memory, "cannot resize the memory of VM 'vm1': it is created" },
    { AT_RUNNING, op_start, "cannot start VM 'vm1': it is running" },
    { AT_RUNNING, op_resume, "cannot resume VM 'vm1': it is running" },
    { AT_PAUSED, op_pause, "cannot pause VM 'vm1': it is paused" },
    { AT_PAUSED, op_start, "cannot start VM 'vm1': it is paused" },
    { AT_PAUSED, op_vcpus, "cannot resize the vCPUs of VM 'vm1': it is paused" },
    { AT_STOPPED, op_start, "cannot start VM 'vm1': it is stopped" },
    { AT_STOPPED, op_resume, "cannot resume VM 'vm1': it is stopped" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Fixture fixture = { NULL, };
      g_autoptr(GError) error = NULL;
      HvkVmState before;

      fixture_set_up (&fixture, NULL);
      setup_state (&fixture, cases[i].setup);
      before = hvk_hypervisor_get_state (fixture.hypervisor);

      g_assert_false (cases[i].op (fixture.hypervisor, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
      g_assert_cmpstr (error->message, ==, cases[i].message);
      g_assert_cmpint (hvk_hypervisor_get_state (fixture.hypervisor), ==, before);
      fixture_tear_down (&fixture, NULL);
    }
}

/* The interface's lifecycle table (tests/common): every illegal
 * (state, operation) pair, each on a new VM. */
static void
transitions_setup (HvkTestVm  *vm,
                   HvkVmState  state,
                   gpointer    user_data)
{
  Fixture *fixture = g_new0 (Fixture, 1);

  fixture_set_up (fixture, NULL);
  setup_state (fixture, (Setup) state);
  vm->hypervisor = g_object_ref (fixture->hypervisor);
  vm->config = g_object_ref (fixture->config);
  vm->data = fixture;
}

static void
transitions_teardown (HvkTestVm *vm,
                      gpointer   user_data)
{
  fixture_tear_down (vm->data, NULL);
  g_free (vm->data);
}

static HvkDevice *
transitions_device (HvkTestOp op,
                    gpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  HvkDevice *dev = hvk_device_new_from_string (user_data,
                                               "block,id=" HVK_TEST_DEVICE_ID
                                               ",path=/img/hvktest0.raw,format=raw",
                                               &error);

  g_assert_no_error (error);
  return dev;
}

static void
test_create_twice (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  create (fixture);
  g_assert_false (hvk_hypervisor_create_vm (fixture->hypervisor, "vm2",
                                            fixture->config, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
  g_assert_cmpstr (error->message, ==, "cannot create VM 'vm1': it is created");
}

static void
test_create_validates (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hv = NULL;

  hvk_registry_scan (registry);
  /* No kernel: Kata's validation refuses it. */
  config = hvk_config_new_from_data ("[hypervisor]\nbackend=mock\n"
                                     "[hypervisor.mock]\n"
                                     "initrd=/var/lib/hvkit/test/initrd.img\n",
                                     -1, "no-kernel.conf", registry, &error);
  g_assert_no_error (error);
  hv = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);

  g_assert_false (hvk_hypervisor_create_vm (hv, "vm1", config, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "no-kernel.conf"));
  g_assert_cmpint (hvk_hypervisor_get_state (hv), ==, HVK_VM_STATE_NONE);
  g_assert_null (hvk_hypervisor_get_config (hv));
}

static void
test_devices (Fixture       *fixture,
              gconstpointer  data)
{
  HvkHypervisor *hv = fixture->hypervisor;
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) disk0 = device (fixture, "block,id=disk0,path=/img/disk0.raw,format=raw");
  g_autoptr(HvkDevice) disk1 = device (fixture, "block,id=disk1,path=/img/disk1.raw,format=raw");
  g_autoptr(HvkDevice) dup = device (fixture, "block,id=disk0,path=/img/other.raw,format=raw");
  g_autofree char *disk0_text = hvk_device_to_string (disk0);
  g_auto(GStrv) argv = NULL;

  /* Nothing is hot-plugged into a VM that is not running. */
  create (fixture);
  g_assert_false (hvk_hypervisor_hotplug_add_device (hv, disk1, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
  g_assert_cmpstr (error->message, ==, "cannot hotplug a device into VM 'vm1': it is created");
  g_clear_error (&error);

  g_assert_true (hvk_hypervisor_add_device (hv, disk0, &error));
  g_assert_no_error (error);
  g_assert_false (hvk_hypervisor_add_device (hv, dup, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "mock: VM 'vm1' already has a device with id 'disk0'");
  g_clear_error (&error);

  g_assert_true (hvk_hypervisor_get_launch_command (hv, &argv, NULL, &error));
  g_assert_no_error (error);
  /* The devices, then every core setting the config makes (a recording
   * stand-in shows what a VMM is handed). */
  g_assert_cmpuint (g_strv_length (argv), >, 4);
  g_assert_cmpstr (argv[0], ==, "mock-vmm");
  g_assert_cmpstr (argv[1], ==, "--id");
  g_assert_cmpstr (argv[2], ==, "vm1");
  g_assert_cmpstr (argv[3], ==, disk0_text);
  for (guint i = 4; argv[i] != NULL; i++)
    g_assert_true (g_str_has_prefix (argv[i], "--") && strchr (argv[i], '=') != NULL);

  g_assert_true (hvk_hypervisor_start_vm (hv, 0, NULL, &error));
  g_assert_no_error (error);

  /* Cold-plug is over once started. */
  g_assert_false (hvk_hypervisor_add_device (hv, disk1, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
  g_assert_cmpstr (error->message, ==, "cannot cold-plug a device into VM 'vm1': it is running");
  g_clear_error (&error);

  g_assert_true (hvk_hypervisor_hotplug_add_device (hv, disk1, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (hvk_hypervisor_hotplug_add_device (hv, disk1, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "mock: VM 'vm1' already has a device with id 'disk1'");
  g_clear_error (&error);
  g_assert_false (hvk_hypervisor_hotplug_add_device (hv, dup, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_false (hvk_hypervisor_hotplug_remove_device (hv, "nope", NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "mock: VM 'vm1' has no hot-plugged device 'nope'");
  g_clear_error (&error);
  g_assert_false (hvk_hypervisor_hotplug_remove_device (hv, "disk0", NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "cold-plugged"));
  g_clear_error (&error);

  g_assert_true (hvk_hypervisor_hotplug_remove_device (hv, "disk1", NULL, &error));
  g_assert_no_error (error);
  /* Gone: removing it again fails, adding it again works. */
  g_assert_false (hvk_hypervisor_hotplug_remove_device (hv, "disk1", NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (hvk_hypervisor_hotplug_add_device (hv, disk1, NULL, &error));
  g_assert_no_error (error);

  /* Not while paused. */
  g_assert_true (hvk_hypervisor_pause_vm (hv, NULL, &error));
  g_assert_false (hvk_hypervisor_hotplug_remove_device (hv, "disk1", NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
}

/* A second device with an id the VM has (from the configuration, from
 * add_device(), from an earlier hotplug) is refused and changes nothing. */
static void
test_hotplug_duplicate_id (Fixture       *fixture,
                           gconstpointer  data)
{
  HvkHypervisor *hv = fixture->hypervisor;
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) cold1 = device (fixture, "block,id=cold1,path=/img/cold1.raw,format=raw");
  g_autoptr(HvkDevice) hot0 = device (fixture, "block,id=hot0,path=/img/hot0.raw,format=raw");
  const char * const ids[] = { "cold0", "cold1", "hot0" };

  create (fixture);
  g_assert_true (hvk_hypervisor_add_device (hv, cold1, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_start_vm (hv, 0, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_hotplug_add_device (hv, hot0, NULL, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autofree char *text = g_strdup_printf ("net,id=%s,ifname=tap%u,mac=02:00:00:00:00:0%u",
                                               ids[i], i, i);
      g_autoptr(HvkDevice) dup = device (fixture, text);
      g_autofree char *message = g_strdup_printf ("mock: VM 'vm1' already has a device with id '%s'",
                                                  ids[i]);
      g_autoptr(JsonNode) before = hvk_hypervisor_save_state (hv);
      g_autoptr(JsonNode) after = NULL;

      g_assert_false (hvk_hypervisor_hotplug_add_device (hv, dup, NULL, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, message);
      g_clear_error (&error);

      /* Unchanged but for the record of the call. */
      after = hvk_hypervisor_save_state (hv);
      json_object_remove_member (json_node_get_object (before), "calls");
      json_object_remove_member (json_node_get_object (after), "calls");
      g_assert_true (json_node_equal (before, after));
    }
}

static void
test_config_devices (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hv = NULL;
  g_auto(GStrv) argv = NULL;

  hvk_registry_scan (registry);
  config = load_config (registry,
                        "[device.disk0]\nkind=block\npath=/img/disk0.raw\nformat=raw\n");
  hv = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_create_vm (hv, "vm1", config, &error));
  g_assert_no_error (error);

  g_assert_true (hvk_hypervisor_get_launch_command (hv, &argv, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (argv), >=, 4);
  g_assert_true (argv[4] == NULL || g_str_has_prefix (argv[4], "--"));
  g_assert_cmpstr (argv[0], ==, "mock-vmm");
  g_assert_true (g_str_has_prefix (argv[3], "block,"));
  g_assert_nonnull (strstr (argv[3], "id=disk0"));
  g_assert_nonnull (strstr (argv[3], "/img/disk0.raw"));
}

static void
test_kernel_cmdline (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hv = NULL;
  g_autofree char *cmdline = NULL;

  hvk_registry_scan (registry);
  config = load_config (registry, "kernel_params=foo=bar quiet=0\n");
  hv = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);

  /* Valid only once create_vm() built it. */
  g_assert_false (hvk_hypervisor_get_launch_command (hv, NULL, &cmdline, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
  g_assert_null (cmdline);
  g_clear_error (&error);

  g_assert_true (hvk_hypervisor_create_vm (hv, "vm1", config, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_get_launch_command (hv, NULL, &cmdline, &error));
  g_assert_no_error (error);
  /* The user's parameters come last, whatever policies run before. */
  g_assert_true (g_str_has_suffix (cmdline, "foo=bar quiet=0"));
}

static void
test_resize (Fixture       *fixture,
             gconstpointer  data)
{
  HvkHypervisor *hv = fixture->hypervisor;
  g_autoptr(GError) error = NULL;
  guint32 old_vcpus = 0, new_vcpus = 0, new_mb = 0;
  HvkMemoryDevice mem = { 0, };
  g_autoptr(JsonNode) state = NULL;

  /* default_maxvcpus=4, bounded by the host's CPUs as in Kata. */
  guint32 max = MIN (4, g_get_num_processors ());
  g_autofree char *max_text = g_strdup_printf ("default_maxvcpus (%u)", max);

  create_and_start (fixture);

  g_assert_true (hvk_hypervisor_resize_vcpus (hv, max, &old_vcpus, &new_vcpus, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (old_vcpus, ==, 1);
  g_assert_cmpuint (new_vcpus, ==, max);
  g_assert_true (hvk_hypervisor_resize_vcpus (hv, 1, &old_vcpus, &new_vcpus, NULL, &error));
  g_assert_cmpuint (old_vcpus, ==, max);
  g_assert_cmpuint (new_vcpus, ==, 1);

  for (guint32 bad = 0; bad <= max + 1; bad += max + 1)
    {
      g_assert_false (hvk_hypervisor_resize_vcpus (hv, bad, NULL, NULL, NULL, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, max_text));
      g_clear_error (&error);
    }

  /* Each change takes a slot (Kata's MK9 counts MemSlots). */
  g_assert_true (hvk_hypervisor_resize_memory (hv, 1024, 128, TRUE, &new_mb, &mem, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (new_mb, ==, 1024);
  g_assert_cmpint (mem.slot, ==, 0);
  g_assert_cmpuint (mem.size_mb, ==, 512);
  g_assert_true (mem.probe);
  g_assert_cmpuint (hvk_hypervisor_get_total_memory_mb (hv), ==, 1024);

  g_assert_true (hvk_hypervisor_resize_memory (hv, 2048, 0, FALSE, &new_mb, &mem, NULL, &error));
  g_assert_cmpint (mem.slot, ==, 1);
  g_assert_cmpuint (mem.size_mb, ==, 1024);

  /* The same size takes no slot. */
  g_assert_true (hvk_hypervisor_resize_memory (hv, 2048, 0, FALSE, &new_mb, &mem, NULL, &error));
  g_assert_cmpuint (mem.size_mb, ==, 0);
  g_assert_cmpuint (new_mb, ==, 2048);

  g_assert_false (hvk_hypervisor_resize_memory (hv, 4096, 0, FALSE, &new_mb, &mem, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "default_maxmemory (2048)"));
  g_clear_error (&error);
  g_assert_cmpuint (hvk_hypervisor_get_total_memory_mb (hv), ==, 2048);

  state = hvk_hypervisor_save_state (hv);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (state), "mem_slots"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (state), "vcpus"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (state), "memory_mb"), ==, 2048);
}

/* hvk_hypervisor_balloon(): checked against the state table (running or
 * paused), refused without reclaim_guest_freed_memory, the target kept in
 * the saved state. */
static void
test_balloon (Fixture       *fixture,
              gconstpointer  data)
{
  HvkHypervisor *hv = fixture->hypervisor;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) state = NULL;
  g_autoptr(HvkStats) stats = NULL;
  HvkBalloonInfo info;
  guint64 value = 0;

  create (fixture);
  g_assert_false (hvk_hypervisor_balloon (hv, 256, -1, &info, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
  g_clear_error (&error);
  g_assert_true (hvk_hypervisor_start_vm (hv, 0, NULL, &error));

  /* Read only: no target, the whole memory, no statistics. */
  g_assert_true (hvk_hypervisor_balloon (hv, 0, -1, &info, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.actual_mb, ==, 512);
  g_assert_cmpuint (info.target_mb, ==, 0);
  g_assert_cmpint (info.guest_free_mb, ==, -1);

  g_assert_true (hvk_hypervisor_balloon (hv, 256, 2, &info, NULL, &error));
  g_assert_cmpuint (info.actual_mb, ==, 256);
  g_assert_cmpuint (info.target_mb, ==, 256);
  g_assert_cmpuint (info.stats_interval_s, ==, 2);
  g_assert_true (hvk_hypervisor_balloon (hv, 0, -1, NULL, NULL, &error));

  g_assert_false (hvk_hypervisor_balloon (hv, 4096, -1, &info, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  stats = hvk_hypervisor_get_stats (hv, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_stats_lookup (stats, "memory.balloon_bytes", &value));
  g_assert_cmpuint (value, ==, 256 * 1024 * 1024);
  g_assert_true (hvk_stats_lookup (stats, "memory.balloon_target_bytes", &value));
  g_assert_cmpuint (value, ==, 256 * 1024 * 1024);

  /* Paused: QEMU takes a target then too. */
  g_assert_true (hvk_hypervisor_pause_vm (hv, NULL, &error));
  g_assert_true (hvk_hypervisor_balloon (hv, 512, -1, &info, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.target_mb, ==, 0);
  g_assert_true (hvk_hypervisor_balloon (hv, 384, -1, &info, NULL, &error));
  state = hvk_hypervisor_save_state (hv);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (state), "balloon_target_mb"), ==, 384);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (state), "balloon_stats_interval_s"), ==, 2);

  g_assert_true (hvk_hypervisor_stop_vm (hv, FALSE, NULL, &error));
  g_assert_false (hvk_hypervisor_balloon (hv, 0, -1, &info, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
}

/* Without reclaim_guest_freed_memory there is no balloon. */
static void
test_balloon_none (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  create_and_start (fixture);
  g_assert_false (hvk_hypervisor_balloon (fixture->hypervisor, 256, -1, NULL, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "reclaim_guest_freed_memory"));
}

static void
test_queries (Fixture       *fixture,
              gconstpointer  data)
{
  HvkHypervisor *hv = fixture->hypervisor;
  g_autoptr(GError) error = NULL;
  g_autofree char *protocol = NULL;
  g_autofree char *url = NULL;
  g_autofree char *expected_url = g_build_filename (fixture->store, "vm1", "console.sock", NULL);
  g_autofree char *socket = NULL;
  g_autofree char *expected_socket = NULL;
  g_autoptr(GHashTable) threads = NULL;
  g_autoptr(GArray) pids = NULL;

  /* Before create_vm: Kata's default hybrid vsock path (MK5). */
  socket = hvk_hypervisor_generate_socket (hv, "a", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (socket, ==, "mock:///tmp/kata-mock-hybrid-vsock.socket");
  g_clear_pointer (&socket, g_free);

  threads = hvk_hypervisor_get_thread_ids (hv, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (threads), ==, 0);
  g_clear_pointer (&threads, g_hash_table_unref);

  create_and_start (fixture);

  g_assert_true (hvk_hypervisor_get_vm_console (hv, &protocol, &url, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (protocol, ==, "mock");
  g_assert_cmpstr (url, ==, expected_url);
  /* Nothing listens there. */
  g_assert_false (g_file_test (url, G_FILE_TEST_EXISTS));

  socket = hvk_hypervisor_generate_socket (hv, "vm1", &error);
  g_assert_no_error (error);
  expected_socket = g_strconcat ("mock://", fixture->store, "/vm1/kata-mock-hybrid-vsock.socket", NULL);
  g_assert_cmpstr (socket, ==, expected_socket);
  g_assert_null (hvk_hypervisor_generate_socket (hv, "../x", &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  threads = hvk_hypervisor_get_thread_ids (hv, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (threads), ==, 1);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (threads, GUINT_TO_POINTER (0))),
                    ==, (guint) getpid ());

  pids = hvk_hypervisor_get_pids (hv);
  g_assert_cmpuint (pids->len, ==, 0);
  g_assert_cmpint (hvk_hypervisor_get_virtiofs_pid (hv), ==, -1);
  g_assert_false (hvk_hypervisor_is_rate_limiter_builtin (hv));
  g_assert_cmpuint (hvk_hypervisor_capabilities (hv), ==,
                    hvk_backend_info_get_capabilities (hvk_registry_lookup_backend (fixture->registry, "mock")));
  g_assert_true (hvk_hypervisor_cleanup (hv, &error));
  g_assert_no_error (error);
  hvk_hypervisor_disconnect (hv);
}

static void
test_console_socket (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *protocol = NULL;
  g_autofree char *url = NULL;

  create_and_start (fixture);
  g_assert_true (hvk_hypervisor_get_vm_console (fixture->hypervisor, &protocol, &url, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (protocol, ==, "unix");
  g_assert_cmpstr (url, ==, "/run/test/console.sock");
}

/* Scripted statistics: the CPU time grows per call, one thread per vCPU,
 * zero I/O per disk, and scripted_stats on top; a malformed script is an
 * error naming the key. */
static void
test_stats (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkStats) first = NULL;
  g_autoptr(HvkStats) second = NULL;
  g_autoptr(HvkDevice) disk = device (fixture, "block,id=d1,path=/img/d1.raw,format=raw");
  guint64 a = 0, b = 0, value = 0;

  create_and_start (fixture);
  g_assert_true (hvk_hypervisor_hotplug_add_device (fixture->hypervisor, disk, NULL, &error));
  g_assert_no_error (error);
  first = hvk_hypervisor_get_stats (fixture->hypervisor, NULL, &error);
  g_assert_no_error (error);
  second = hvk_hypervisor_get_stats (fixture->hypervisor, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_stats_lookup (first, "cpu.time_ns", &a));
  g_assert_true (hvk_stats_lookup (second, "cpu.time_ns", &b));
  g_assert_cmpuint (b, >, a);
  g_assert_true (hvk_stats_lookup (second, "vcpu.0.thread_id", &value));
  g_assert_true (hvk_stats_lookup (second, "block.d1.wr_bytes", &value));
  g_assert_true (hvk_stats_lookup (second, "net.tap0.rx_bytes", &value));
  g_assert_cmpuint (value, ==, 42);
  g_assert_true (hvk_stats_lookup (second, "block.d1.rd_ops", &value));
  g_assert_cmpuint (value, ==, 7);

  /* Stopped: nothing to measure. */
  g_assert_true (hvk_hypervisor_stop_vm (fixture->hypervisor, FALSE, NULL, &error));
  g_assert_null (hvk_hypervisor_get_stats (fixture->hypervisor, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
}

static void
collect_event (HvkHypervisor *hypervisor,
               const char    *name,
               JsonObject    *data,
               gpointer       user_data)
{
  GString *seen = user_data;
  const char *detail = json_object_get_string_member_with_default (data, "reason", NULL);

  if (detail == NULL)
    detail = json_object_get_string_member_with_default (data, "device", NULL);
  g_string_append_printf (seen, "%s%s%s;", name, detail ? ":" : "", detail ? detail : "");
}

/* follow_events replays what happened to the mock VM, `exited` last once
 * it stopped; a detailed handler sees its event only. */
static void
test_events (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) seen = g_string_new (NULL);
  g_autoptr(GString) stops = g_string_new (NULL);
  g_autoptr(HvkDevice) disk = device (fixture, "block,id=d1,path=/img/d1.raw,format=raw");
  HvkHypervisor *hv;

  create_and_start (fixture);
  hv = fixture->hypervisor;
  g_signal_connect (hv, "event", G_CALLBACK (collect_event), seen);
  g_signal_connect (hv, "event::STOP", G_CALLBACK (collect_event), stops);
  g_assert_true (hvk_hypervisor_pause_vm (hv, NULL, &error));
  g_assert_true (hvk_hypervisor_resume_vm (hv, NULL, &error));
  g_assert_true (hvk_hypervisor_hotplug_add_device (hv, disk, NULL, &error));
  g_assert_true (hvk_hypervisor_hotplug_remove_device (hv, "d1", NULL, &error));
  g_assert_true (hvk_hypervisor_reboot_vm (hv, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_follow_events (hv, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (seen->str, ==, "STOP;RESUME;DEVICE_DELETED:d1;RESET:host-qmp-system-reset;");
  g_assert_cmpstr (stops->str, ==, "STOP;");

  g_string_truncate (seen, 0);
  g_assert_true (hvk_hypervisor_shutdown_vm (hv, 1000, NULL, &error));
  g_assert_true (hvk_hypervisor_follow_events (hv, NULL, &error));
  g_assert_cmpstr (seen->str, ==, "POWERDOWN;SHUTDOWN:guest-shutdown;exited;");
}

static void
test_stats_script_error (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  create_and_start (fixture);
  g_assert_null (hvk_hypervisor_get_stats (fixture->hypervisor, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "scripted_stats: 'cpu.time_ns'"));
}

static void
test_save_vm (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  create_and_start (fixture);
  g_assert_false (hvk_hypervisor_save_vm (fixture->hypervisor, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "'mock'"));
  g_assert_nonnull (strstr (error->message, "save_vm"));
}

static void
test_save_vm_template (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) recorded = NULL;

  create_and_start (fixture);
  g_assert_true (hvk_hypervisor_save_vm (fixture->hypervisor, NULL, &error));
  g_assert_no_error (error);
  recorded = calls (fixture->hypervisor);
  g_assert_cmpstr (recorded[g_strv_length (recorded) - 1], ==, "save_vm");
}

/* save_to_dir / restore_from_dir with the QEMU backend's contract: it
 * advertises save-restore and does both halves; the saved VM runs on; a
 * VM restored from the directory under another id runs (or stays paused);
 * a directory it did not save is refused. */
static void
test_save_restore_dir (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (fixture->tmp, "saved", NULL);
  g_autofree char *other = g_build_filename (fixture->tmp, "empty", NULL);
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) restored = NULL;
  g_autoptr(HvkHypervisor) paused = NULL;
  g_autofree char *saved_id = NULL;

  create_and_start (fixture);
  g_assert_true (hvk_hypervisor_capabilities (fixture->hypervisor) & HVK_CAP_SAVE_RESTORE);
  g_assert_true (hvk_hypervisor_save_to_dir (fixture->hypervisor, dir, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (fixture->hypervisor), ==, HVK_VM_STATE_RUNNING);

  config = hvk_save_dir_load_config (dir, fixture->registry, &saved_id, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (config);
  g_assert_cmpstr (saved_id, ==, "vm1");
  restored = hvk_registry_create_hypervisor (fixture->registry, config, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_create_vm (restored, "vm3", config, &error));
  g_assert_true (hvk_hypervisor_restore_from_dir (restored, dir, FALSE, 0, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (restored), ==, HVK_VM_STATE_RUNNING);

  paused = hvk_registry_create_hypervisor (fixture->registry, config, &error);
  g_assert_true (hvk_hypervisor_create_vm (paused, "vm2", config, &error));
  g_assert_true (hvk_hypervisor_restore_from_dir (paused, dir, TRUE, 0, NULL, &error));
  g_assert_cmpint (hvk_hypervisor_get_state (paused), ==, HVK_VM_STATE_PAUSED);
  g_assert_true (hvk_hypervisor_stop_vm (paused, FALSE, NULL, &error));
  g_assert_true (hvk_hypervisor_stop_vm (restored, FALSE, NULL, &error));

  /* Not a save: refused before the backend is asked. */
  g_assert_cmpint (g_mkdir (other, 0700), ==, 0);
  g_assert_null (hvk_save_dir_load_config (other, fixture->registry, NULL, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_rmdir (other);
}

/* Every fallible operation named in fail_operations fails, leaving the
 * state as it was. */
static void
test_fault_injection (void)
{
  const struct {
    const char *operation;
    Setup       setup;
    Op          op;
  } cases[] = {
    { "start_vm", AT_CREATED, op_start },
    { "stop_vm", AT_RUNNING, op_stop },
    { "pause_vm", AT_RUNNING, op_pause },
    { "resume_vm", AT_PAUSED, op_resume },
    { "hotplug_remove_device", AT_RUNNING, op_unplug },
    { "resize_vcpus", AT_RUNNING, op_vcpus },
    { "resize_memory", AT_RUNNING, op_memory },
    { "get_vm_console", AT_RUNNING, op_console },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Fixture fixture = { NULL, };
      g_autoptr(GError) error = NULL;
      g_autofree char *extra = g_strdup_printf ("fail_operations=%s\n",
                                                cases[i].operation);
      g_autofree char *message = g_strdup_printf ("mock: injected failure in %s",
                                                  cases[i].operation);
      g_autoptr(JsonNode) before = NULL;
      g_autoptr(JsonNode) after = NULL;
      g_autofree char *dir = NULL;
      g_auto(GStrv) recorded = NULL;

      fixture_set_up (&fixture, extra);
      setup_state (&fixture, cases[i].setup);
      before = hvk_hypervisor_save_state (fixture.hypervisor);

      g_assert_false (cases[i].op (fixture.hypervisor, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
      g_assert_cmpstr (error->message, ==, message);

      /* Unchanged but for the record of the call. */
      after = hvk_hypervisor_save_state (fixture.hypervisor);
      json_object_remove_member (json_node_get_object (before), "calls");
      json_object_remove_member (json_node_get_object (after), "calls");
      g_assert_true (json_node_equal (before, after));
      recorded = calls (fixture.hypervisor);
      g_assert_cmpstr (recorded[g_strv_length (recorded) - 1], ==, cases[i].operation);

      dir = vm_dir (&fixture);
      g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));
      fixture_tear_down (&fixture, extra);
    }
}

static void
test_fault_injection_create (void)
{
  Fixture fixture = { NULL, };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;

  fixture_set_up (&fixture, "fail_operations=create_vm\n");
  g_assert_false (hvk_hypervisor_create_vm (fixture.hypervisor, "vm1", fixture.config, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "mock: injected failure in create_vm");
  g_assert_cmpint (hvk_hypervisor_get_state (fixture.hypervisor), ==, HVK_VM_STATE_NONE);
  dir = vm_dir (&fixture);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  fixture_tear_down (&fixture, NULL);
}

static void
test_fault_injection_hotplug (void)
{
  Fixture fixture = { NULL, };
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) disk = NULL;

  fixture_set_up (&fixture, "fail_operations=hotplug_add_device;check\n");
  setup_state (&fixture, AT_RUNNING);
  disk = device (&fixture, "block,id=disk1,path=/img/disk1.raw,format=raw");
  g_assert_false (hvk_hypervisor_hotplug_add_device (fixture.hypervisor, disk, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "mock: injected failure in hotplug_add_device");
  g_clear_error (&error);
  /* Not added: removing it finds nothing. */
  g_assert_false (hvk_hypervisor_hotplug_remove_device (fixture.hypervisor, "disk1", NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_false (hvk_hypervisor_check (fixture.hypervisor, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "mock: injected failure in check");
  fixture_tear_down (&fixture, NULL);
}

static void
test_fail_operations_unknown (void)
{
  Fixture fixture = { NULL, };
  g_autoptr(GError) error = NULL;

  fixture_set_up (&fixture, "fail_operations=start_vm;explode\n");
  g_assert_false (hvk_hypervisor_create_vm (fixture.hypervisor, "vm1", fixture.config, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  g_assert_nonnull (strstr (error->message, "mock-test.conf"));
  g_assert_nonnull (strstr (error->message, "hypervisor.mock"));
  g_assert_nonnull (strstr (error->message, "fail_operations"));
  g_assert_nonnull (strstr (error->message, "'explode'"));
  fixture_tear_down (&fixture, NULL);
}

/* Throttle groups: the disks of a group (named, or the VM's with
 * disk_rate_limiter_shared) have one set of limits; a disk joining with
 * other limits is refused naming the group, both disks and the field; a
 * change of one member's limits is every member's. */
static void
test_throttle_groups (Fixture       *fixture,
                      gconstpointer  data)
{
  HvkHypervisor *hv = fixture->hypervisor;
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) disk2 = device (fixture, "block,id=disk2,path=/img/d2.raw");
  g_autoptr(HvkDevice) disk3 = device (fixture, "block,id=disk3,path=/img/d3.raw,"
                                       "rate_limiter_bw_max_rate=16000");
  g_autoptr(HvkDevice) disk4 = device (fixture, "block,id=disk4,path=/img/d4.raw,"
                                       "throttle_group=pair,rate_limiter_ops_max_rate=5");
  g_autoptr(HvkDevice) disk5 = device (fixture, "block,id=disk5,path=/img/d5.raw,"
                                       "throttle_group=pair,rate_limiter_ops_max_rate=6");
  g_autoptr(HvkDevice) bad = device (fixture, "block,id=bad,path=/img/b.raw,throttle_group=a.b");
  HvkIoLimits limits, read;

  create_and_start (fixture);
  g_assert_true (hvk_hypervisor_hotplug_add_device (hv, disk2, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (hvk_hypervisor_hotplug_add_device (hv, disk3, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "throttle group 'shared': block devices 'disk0' and "
                   "'disk3' differ in rate_limiter_bw_max_rate (8000 and 16000): the disks of "
                   "a group share one set of limits");
  g_clear_error (&error);
  g_assert_true (hvk_hypervisor_hotplug_add_device (hv, disk4, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (hvk_hypervisor_hotplug_add_device (hv, disk5, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "group 'pair': block devices 'disk1' and 'disk5' "
                                            "differ in rate_limiter_ops_max_rate (5 and 6)"));
  g_clear_error (&error);
  g_assert_false (hvk_hypervisor_hotplug_add_device (hv, bad, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "block device 'bad': property 'throttle_group': "
                                            "'a.b' is not a group name"));
  g_clear_error (&error);

  /* The shared group changes: disk0 and disk2, not disk1's group. */
  limits = (HvkIoLimits) { .bw_max_rate = 24000 };
  g_assert_true (hvk_hypervisor_set_io_limits (hv, "disk0", &limits, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_get_io_limits (hv, "disk2", &read, &error));
  g_assert_cmpuint (read.bw_max_rate, ==, 24000);
  g_assert_true (hvk_hypervisor_get_io_limits (hv, "disk1", &read, &error));
  g_assert_cmpuint (read.bw_max_rate, ==, 8000);
  /* Lifted: the disks stay in their group, and limit it again together. */
  limits = (HvkIoLimits) { 0, };
  g_assert_true (hvk_hypervisor_set_io_limits (hv, "disk2", &limits, NULL, &error));
  limits = (HvkIoLimits) { .bw_max_rate = 32000 };
  g_assert_true (hvk_hypervisor_set_io_limits (hv, "disk2", &limits, NULL, &error));
  g_assert_true (hvk_hypervisor_get_io_limits (hv, "disk0", &read, &error));
  g_assert_cmpuint (read.bw_max_rate, ==, 32000);
  g_assert_no_error (error);
  limits = (HvkIoLimits) { .bw_max_rate = 8000, .ops_max_rate = 50 };
  g_assert_true (hvk_hypervisor_set_io_limits (hv, "disk4", &limits, NULL, &error));
  g_assert_true (hvk_hypervisor_get_io_limits (hv, "disk1", &read, &error));
  g_assert_cmpuint (read.ops_max_rate, ==, 50);
  g_assert_no_error (error);
}

/* I/O limits: the mock checks them as every backend does, records a
 * change in the device, and a load of the state keeps it. */
static void
test_io_limits (Fixture       *fixture,
                gconstpointer  data)
{
  HvkHypervisor *hv = fixture->hypervisor;
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) disk0 = device (fixture, "block,id=disk0,path=/img/disk0.raw,"
                                       "rate_limiter_bw_max_rate=8000");
  g_autoptr(HvkDevice) bad = device (fixture, "block,id=bad,path=/img/bad.raw,"
                                     "rate_limiter_bw_one_time_burst=80");
  g_autoptr(HvkDevice) net0 = device (fixture, "net,id=net0,ifname=tap0");
  g_autoptr(HvkDevice) vsock = device (fixture, "vsock,id=v0,cid=3");
  g_autoptr(JsonNode) state = NULL;
  g_autoptr(HvkHypervisor) other = NULL;
  HvkIoLimits limits = { 0, }, read;

  create (fixture);
  /* A burst without its rate: refused naming the property. */
  g_assert_false (hvk_hypervisor_add_device (hv, bad, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "'rate_limiter_bw_one_time_burst'"));
  g_clear_error (&error);
  g_assert_true (hvk_hypervisor_add_device (hv, disk0, &error));
  g_assert_true (hvk_hypervisor_add_device (hv, vsock, &error));
  g_assert_no_error (error);

  /* Not before the VM runs. */
  limits.bw_max_rate = 16000;
  g_assert_false (hvk_hypervisor_set_io_limits (hv, "disk0", &limits, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_STATE);
  g_clear_error (&error);
  /* Its own bandwidth limit, the configuration's request limit. */
  g_assert_true (hvk_hypervisor_get_io_limits (hv, "disk0", &read, &error));
  g_assert_cmpuint (read.bw_max_rate, ==, 8000);
  g_assert_cmpuint (read.ops_max_rate, ==, 3);

  g_assert_true (hvk_hypervisor_start_vm (hv, 0, NULL, &error));
  g_assert_true (hvk_hypervisor_hotplug_add_device (hv, net0, NULL, &error));
  g_assert_no_error (error);
  limits = (HvkIoLimits) { .bw_max_rate = 16000, .bw_one_time_burst = 800, .ops_max_rate = 5 };
  g_assert_true (hvk_hypervisor_set_io_limits (hv, "disk0", &limits, NULL, &error));
  g_assert_no_error (error);
  limits = (HvkIoLimits) { .rx_max_rate = 80, .tx_max_rate = 160 };
  g_assert_true (hvk_hypervisor_set_io_limits (hv, "net0", &limits, NULL, &error));
  g_assert_no_error (error);

  /* Refusals: a disk's receive rate, a burst without rate, an unknown
   * device, a kind without limits. */
  limits = (HvkIoLimits) { .rx_max_rate = 80 };
  g_assert_false (hvk_hypervisor_set_io_limits (hv, "disk0", &limits, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  limits = (HvkIoLimits) { .bw_one_time_burst = 80 };
  g_assert_false (hvk_hypervisor_set_io_limits (hv, "net0", &limits, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (hvk_hypervisor_set_io_limits (hv, "nope", &limits, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_clear_error (&error);
  limits = (HvkIoLimits) { 0, };
  g_assert_false (hvk_hypervisor_set_io_limits (hv, "v0", &limits, NULL, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  /* Paused too; then another process takes the VM over. */
  g_assert_true (hvk_hypervisor_pause_vm (hv, NULL, &error));
  limits = (HvkIoLimits) { .bw_max_rate = 24000, .bw_one_time_burst = 800, .ops_max_rate = 5 };
  g_assert_true (hvk_hypervisor_set_io_limits (hv, "disk0", &limits, NULL, &error));
  g_assert_no_error (error);
  state = hvk_hypervisor_save_state (hv);
  other = hvk_registry_create_hypervisor (fixture->registry, fixture->config, &error);
  g_assert_true (hvk_hypervisor_load_state (other, state, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_get_io_limits (other, "disk0", &read, &error));
  g_assert_true (memcmp (&read, &limits, sizeof read) == 0);
  g_assert_true (hvk_hypervisor_get_io_limits (other, "net0", &read, &error));
  g_assert_cmpuint (read.rx_max_rate, ==, 80);
  g_assert_cmpuint (read.tx_max_rate, ==, 160);
  g_assert_true (hvk_hypervisor_get_io_limits (other, "v0", &read, &error));
  g_assert_true (hvk_io_limits_is_unlimited (&read));
  g_assert_no_error (error);

  /* Saved and restored: the restored VM has the limits changed live,
   * and runs (the core sets them while it is still paused). */
  {
    g_autofree char *dir = g_build_filename (fixture->tmp, "saved-limits", NULL);
    g_autoptr(HvkHypervisor) restored = NULL;
    g_autoptr(HvkConfig) config = NULL;
    g_autoptr(GPtrArray) cold = NULL;

    g_assert_true (hvk_hypervisor_save_to_dir (hv, dir, NULL, &error));
    g_assert_no_error (error);
    config = hvk_save_dir_load_config (dir, fixture->registry, NULL, &cold, &error);
    g_assert_no_error (error);
    restored = hvk_registry_create_hypervisor (fixture->registry, config, &error);
    g_assert_true (hvk_hypervisor_create_vm (restored, "vm-limits", config, &error));
    for (guint i = 0; i < cold->len; i++)
      g_assert_true (hvk_hypervisor_add_device (restored, g_ptr_array_index (cold, i), &error));
    g_assert_no_error (error);
    g_assert_true (hvk_hypervisor_restore_from_dir (restored, dir, FALSE, 0, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpint (hvk_hypervisor_get_state (restored), ==, HVK_VM_STATE_RUNNING);
    g_assert_true (hvk_hypervisor_get_io_limits (restored, "disk0", &read, &error));
    g_assert_true (memcmp (&read, &limits, sizeof read) == 0);
    g_assert_true (hvk_hypervisor_stop_vm (restored, FALSE, NULL, &error));
  }
}

static void
test_state_roundtrip (Fixture       *fixture,
                      gconstpointer  data)
{
  HvkHypervisor *hv = fixture->hypervisor;
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) disk0 = device (fixture, "block,id=disk0,path=/img/disk0.raw,format=raw");
  g_autoptr(HvkDevice) disk1 = device (fixture, "block,id=disk1,path=/img/disk1.raw,format=raw");
  g_autoptr(JsonNode) state = NULL;
  g_autoptr(JsonNode) again = NULL;
  g_autoptr(HvkHypervisor) other = NULL;
  g_auto(GStrv) argv = NULL;
  g_auto(GStrv) other_argv = NULL;
  g_auto(GStrv) recorded = NULL;
  g_autofree char *cmdline = NULL;
  g_autofree char *other_cmdline = NULL;
  JsonObject *object;

  create (fixture);
  g_assert_true (hvk_hypervisor_add_device (hv, disk0, &error));
  g_assert_true (hvk_hypervisor_start_vm (hv, 0, NULL, &error));
  g_assert_true (hvk_hypervisor_hotplug_add_device (hv, disk1, NULL, &error));
  g_assert_true (hvk_hypervisor_resize_vcpus (hv, MIN (2, g_get_num_processors ()), NULL, NULL, NULL, &error));
  g_assert_true (hvk_hypervisor_resize_memory (hv, 768, 0, FALSE, NULL, NULL, NULL, &error));
  g_assert_true (hvk_hypervisor_pause_vm (hv, NULL, &error));
  g_assert_no_error (error);

  state = hvk_hypervisor_save_state (hv);
  object = json_node_get_object (state);
  g_assert_cmpstr (json_object_get_string_member (object, "state"), ==, "paused");
  g_assert_cmpstr (json_object_get_string_member (object, "id"), ==, "vm1");

  other = hvk_registry_create_hypervisor (fixture->registry, fixture->config, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_load_state (other, state, &error));
  g_assert_no_error (error);

  /* The record carries on, with the load. */
  recorded = calls (other);
  g_assert_cmpstr (recorded[0], ==, "create_vm");
  g_assert_cmpstr (recorded[g_strv_length (recorded) - 1], ==, "load_state");

  g_assert_cmpint (hvk_hypervisor_get_state (other), ==, HVK_VM_STATE_PAUSED);
  g_assert_cmpuint (hvk_hypervisor_get_total_memory_mb (other), ==, 768);
  g_assert_nonnull (hvk_hypervisor_get_config (other));
  g_assert_cmpstr (hvk_config_get_vm_store_path (hvk_hypervisor_get_config (other)), ==, fixture->store);
  g_assert_true (hvk_hypervisor_get_launch_command (hv, &argv, &cmdline, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_get_launch_command (other, &other_argv, &other_cmdline, &error));
  g_assert_no_error (error);
  g_assert_cmpstrv (argv, other_argv);
  g_assert_cmpstr (cmdline, ==, other_cmdline);

  /* The loaded VM continues: its hot-plugged device is known. */
  g_assert_true (hvk_hypervisor_resume_vm (other, NULL, &error));
  g_assert_true (hvk_hypervisor_hotplug_remove_device (other, "disk1", NULL, &error));
  g_assert_no_error (error);

  /* Saving what was loaded gives the same state but for the record. */
  again = hvk_hypervisor_save_state (other);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (again), "state"), ==, "running");
  g_assert_cmpint (json_array_get_length (json_object_get_array_member (json_node_get_object (again), "hotplugged")), ==, 0);
  g_assert_cmpint (json_array_get_length (json_object_get_array_member (json_node_get_object (again), "cold_devices")), ==, 1);
}

static void
test_load_state_errors (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) good = NULL;
  g_autofree char *good_text = NULL;
  const struct {
    const char *member;
    const char *value;   /* JSON, or NULL to remove */
    const char *message;
  } cases[] = {
    { "state", "\"dancing\"", "mock: corrupt state: unknown state 'dancing'" },
    { "state", NULL, "mock: corrupt state: member 'state' is missing or not a string" },
    { "vcpus", "-1", "mock: corrupt state: member 'vcpus' is missing or not an unsigned number" },
    { "memory_mb", "\"512\"", "mock: corrupt state: member 'memory_mb' is missing or not an unsigned number" },
    { "calls", "{}", "mock: corrupt state: member 'calls' is missing or not an array" },
    { "calls", "[1]", "mock: corrupt state: member 'calls' is missing or not an array of strings" },
    { "cold_devices", "3", "mock: corrupt state: member 'cold_devices' is missing or not an array" },
    { "hotplugged", "{}", "mock: corrupt state: member 'hotplugged' is missing or not an array" },
    { "saved_config", "[]", "mock: corrupt state: member 'saved_config' is missing or not an object" },
    { "config", NULL, "mock: corrupt state: member 'config' is missing or not a string" },
    { "config", "3", "mock: corrupt state: member 'config' is missing or not a string" },
    { "id", "\"../x\"", "mock: corrupt state: invalid VM id '../x': it must start with a letter or a digit" },
  };

  create_and_start (fixture);
  good = hvk_hypervisor_save_state (fixture->hypervisor);
  good_text = json_to_string (good, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) bad = json_from_string (good_text, NULL);
      g_autoptr(HvkHypervisor) other = NULL;

      if (cases[i].value != NULL)
        json_object_set_member (json_node_get_object (bad), cases[i].member,
                                json_from_string (cases[i].value, NULL));
      else
        json_object_remove_member (json_node_get_object (bad), cases[i].member);

      other = hvk_registry_create_hypervisor (fixture->registry, fixture->config, &error);
      g_assert_no_error (error);
      g_assert_false (hvk_hypervisor_load_state (other, bad, &error));
      g_assert_nonnull (error);
      g_assert_cmpstr (error->message, ==, cases[i].message);
      g_clear_error (&error);
      /* A failed load changes nothing. */
      g_assert_cmpint (hvk_hypervisor_get_state (other), ==, HVK_VM_STATE_NONE);
      g_assert_null (hvk_hypervisor_get_config (other));
    }

  {
    g_autoptr(HvkHypervisor) other =
      hvk_registry_create_hypervisor (fixture->registry, fixture->config, &error);
    g_autoptr(JsonNode) array = json_from_string ("[]", NULL);

    g_assert_false (hvk_hypervisor_load_state (other, array, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
  }
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(HvkRegistry) device_registry = NULL;
  HvkTestTransitions transitions = {
    .path_prefix = "/hvk/mock/transitions",
    .setup = transitions_setup,
    .teardown = transitions_teardown,
    .device = transitions_device,
  };
  int ret;

  g_test_init (&argc, &argv, NULL);
  device_registry = hvk_registry_new ();
  hvk_registry_scan (device_registry);
  transitions.user_data = device_registry;

#define ADD(path, data, func) \
  g_test_add ("/hvk/mock/" path, Fixture, data, fixture_set_up, func, fixture_tear_down)

  g_test_add_func ("/hvk/mock/registration", test_registration);
  ADD ("lifecycle", NULL, test_lifecycle);
  ADD ("stop-created", NULL, test_stop_created);
  g_test_add_func ("/hvk/mock/illegal-transitions", test_illegal_transitions);
  ADD ("create-twice", NULL, test_create_twice);
  g_test_add_func ("/hvk/mock/create-validates", test_create_validates);
  ADD ("devices", NULL, test_devices);
  ADD ("hotplug-duplicate-id",
       "[device.cold0]\nkind=block\npath=/img/cold0.raw\nformat=raw\n",
       test_hotplug_duplicate_id);
  g_test_add_func ("/hvk/mock/config-devices", test_config_devices);
  g_test_add_func ("/hvk/mock/kernel-cmdline", test_kernel_cmdline);
  ADD ("resize", NULL, test_resize);
  ADD ("queries", NULL, test_queries);
  ADD ("balloon", "reclaim_guest_freed_memory=true\n", test_balloon);
  ADD ("balloon-none", NULL, test_balloon_none);
  ADD ("console-socket", "console_socket=/run/test/console.sock\n", test_console_socket);
  ADD ("save-vm", NULL, test_save_vm);
  ADD ("save-restore-dir", NULL, test_save_restore_dir);
  ADD ("stats", "scripted_stats=net.tap0.rx_bytes=42;block.d1.rd_ops=7\n", test_stats);
  ADD ("events", NULL, test_events);
  ADD ("io-limits", "disk_rate_limiter_ops_max_rate=3\n", test_io_limits);
  ADD ("throttle-groups", "disk_rate_limiter_bw_max_rate=8000\ndisk_rate_limiter_shared=true\n"
       "[device.disk0]\nkind=block\npath=/img/d0.raw\n"
       "[device.disk1]\nkind=block\npath=/img/d1.raw\nthrottle_group=pair\n"
       "rate_limiter_ops_max_rate=5\n", test_throttle_groups);
  ADD ("stats-script-error", "scripted_stats=cpu.time_ns\n", test_stats_script_error);
  ADD ("save-vm-template",
       "boot_to_be_template=true\n"
       "memory_path=/var/lib/hvkit/test/template-memory\n"
       "devices_state_path=/var/lib/hvkit/test/template-state\n",
       test_save_vm_template);
  g_test_add_func ("/hvk/mock/fault-injection", test_fault_injection);
  g_test_add_func ("/hvk/mock/fault-injection-create", test_fault_injection_create);
  g_test_add_func ("/hvk/mock/fault-injection-hotplug", test_fault_injection_hotplug);
  g_test_add_func ("/hvk/mock/fail-operations-unknown", test_fail_operations_unknown);
  ADD ("state-roundtrip", NULL, test_state_roundtrip);
  ADD ("load-state-errors", NULL, test_load_state_errors);
#undef ADD
  hvk_test_transitions_add (&transitions);

  ret = g_test_run ();
  return ret;
}
