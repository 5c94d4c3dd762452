/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <string.h>

#include "stress-common.h"

/* Concurrency and load on the mock backend: one process creates, starts,
 * hot-plugs, pauses, saves and takes over, resumes and stops many VMs from
 * several threads, with its own registry and with the default one.  Half
 * the VMs share one configuration (read by every thread at once), half
 * load their own, with a device and a kernel parameter that name the VM.
 * Afterwards every VM is stopped, its call record, devices, argv and
 * kernel command line are its own, no descriptor is left open and the
 * store is empty.
 *
 * Two ways to interleave: "phased" runs one operation on every VM at a
 * time (a VM's operations hop between threads), "lifecycle" runs each
 * VM's whole life in one thread (different operations at once).
 *
 * Bounds: HVKIT_STRESS_VMS (50), HVKIT_STRESS_THREADS (8),
 * HVKIT_STRESS_ROUNDS (4). */

#define DEFAULT_VMS     50
#define DEFAULT_THREADS 8
#define DEFAULT_ROUNDS  4

static const char config_head[] =
  "[hypervisor]\n"
  "backend=mock\n"
  "[hypervisor.mock]\n"
  "kernel=/var/lib/hvkit/test/vmlinuz\n"
  "initrd=/var/lib/hvkit/test/initrd.img\n"
  "default_vcpus=1\n"
  "default_maxvcpus=4\n"
  "default_memory=256\n"
  "default_maxmemory=1024\n";

/* What every VM's record must read at the end, in order. */
static const char * const expected_calls[] = {
  "create_vm", "start_vm", "hotplug_add_device", "pause_vm",
  "load_state", "resume_vm", "stop_vm", "cleanup", NULL
};

typedef enum {
  STEP_CONFIG,
  STEP_CREATE,
  STEP_START,
  STEP_HOTPLUG,
  STEP_PAUSE,
  STEP_TAKEOVER,
  STEP_RESUME,
  STEP_CHECK,
  STEP_STOP,
  N_STEPS
} Step;

typedef struct {
  char          *id;
  gboolean       shared;   /* uses the shared configuration */
  HvkConfig     *config;
  HvkHypervisor *hypervisor;
} Vm;

typedef struct {
  HvkRegistry *registry;
  char        *tmp;
  char        *store;
  HvkConfig   *shared_config;
  guint        n_vms;
  guint        n_threads;
  guint        rounds;
  Vm          *vms;
  gboolean     lifecycle;   /* each thread runs whole lives */
  Step         step;        /* phased: the step every thread runs */
  gint         next;        /* atomic: the next VM to take */
  guint64      cycled;
} Stress;

static char *
own_config_text (const char *id)
{
  return g_strdup_printf ("%skernel_params=stress.vm=%s\n"
                          "[device.disk-%s]\n"
                          "kind=block\n"
                          "path=/var/lib/hvkit/test/%s.raw\n"
                          "format=raw\n",
                          config_head, id, id, id);
}

static const char *
device_id (JsonNode *device)
{
  return json_object_get_string_member (json_node_get_object (device), "id");
}

/* The mock's own record, through its saved state. */
static JsonObject *
mock_state (HvkHypervisor *hypervisor,
            JsonNode     **root)
{
  *root = hvk_hypervisor_save_state (hypervisor);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (*root));
  return json_node_get_object (*root);
}

static void
check_calls (Vm                 *vm,
             JsonObject         *state,
             const char * const *expected,
             guint               n_expected)
{
  JsonArray *calls = json_object_get_array_member (state, "calls");

  if (json_array_get_length (calls) != n_expected)
    {
      g_autoptr(JsonNode) node = json_node_init_array (json_node_alloc (), calls);
      g_autofree char *text = json_to_string (node, FALSE);
      g_error ("VM %s: expected %u calls, recorded %s", vm->id, n_expected, text);
    }
  for (guint i = 0; i < n_expected; i++)
    g_assert_cmpstr (json_array_get_string_element (calls, i), ==, expected[i]);
}

/* Nothing of another VM in this one. */
static void
check_own (Vm *vm)
{
  g_autoptr(JsonNode) root = NULL;
  JsonObject *state = mock_state (vm->hypervisor, &root);
  JsonArray *devices = json_object_get_array_member (state, "cold_devices");
  JsonArray *hotplugged = json_object_get_array_member (state, "hotplugged");
  g_autofree char *hp_id = g_strdup_printf ("hp-%s", vm->id);
  g_autofree char *param = g_strdup_printf ("stress.vm=%s", vm->id);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = NULL;
  const char *cmdline;

  g_assert_cmpstr (json_object_get_string_member (state, "id"), ==, vm->id);
  g_assert_cmpint (hvk_hypervisor_get_state (vm->hypervisor), ==, HVK_VM_STATE_RUNNING);
  check_calls (vm, state, expected_calls, 6);

  g_assert_cmpuint (json_array_get_length (hotplugged), ==, 1);
  g_assert_cmpstr (device_id (json_array_get_element (hotplugged, 0)), ==, hp_id);

  cmdline = json_object_get_string_member (state, "kernel_cmdline");
  g_assert_true (hvk_hypervisor_get_launch_command (vm->hypervisor, &argv, NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (argv);
  g_assert_cmpstr (argv[1], ==, "--id");
  g_assert_cmpstr (argv[2], ==, vm->id);
  if (vm->shared)
    {
      g_assert_cmpuint (json_array_get_length (devices), ==, 0);
      g_assert_null (strstr (cmdline, "stress.vm="));
      /* No device: the settings follow the id. */
      g_assert_true (argv[3] == NULL || g_str_has_prefix (argv[3], "--"));
    }
  else
    {
      g_autofree char *disk_id = g_strdup_printf ("disk-%s", vm->id);
      g_autofree char *disk_path = g_strdup_printf ("path=/var/lib/hvkit/test/%s.raw", vm->id);

      g_assert_cmpuint (json_array_get_length (devices), ==, 1);
      g_assert_cmpstr (device_id (json_array_get_element (devices, 0)), ==, disk_id);
      /* Exactly once, and no other VM's. */
      g_assert_nonnull (strstr (cmdline, param));
      g_assert_null (strstr (strstr (cmdline, param) + 1, "stress.vm="));
      g_assert_true (strstr (cmdline, "stress.vm=") == strstr (cmdline, param));
      g_assert_nonnull (argv[3]);
      g_assert_nonnull (strstr (argv[3], disk_path));
      g_assert_true (argv[4] == NULL || g_str_has_prefix (argv[4], "--"));
    }
}

static void
run_step (Stress *stress,
          Vm     *vm,
          Step    step)
{
  g_autoptr(GError) error = NULL;

  switch (step)
    {
    case STEP_CONFIG:
      if (vm->shared)
        vm->config = g_object_ref (stress->shared_config);
      else
        {
          g_autofree char *text = own_config_text (vm->id);

          vm->config = hvk_config_new_from_data (text, -1, vm->id,
                                                 stress->registry, &error);
          g_assert_no_error (error);
          hvk_config_set_vm_store_path (vm->config, stress->store);
        }
      break;

    case STEP_CREATE:
      vm->hypervisor = hvk_registry_create_hypervisor (stress->registry,
                                                       vm->config, &error);
      g_assert_no_error (error);
      g_assert_true (hvk_hypervisor_create_vm (vm->hypervisor, vm->id,
                                               vm->config, &error));
      g_assert_no_error (error);
      break;

    case STEP_START:
      g_assert_true (hvk_hypervisor_start_vm (vm->hypervisor, 0, NULL, &error));
      g_assert_no_error (error);
      break;

    case STEP_HOTPLUG:
      {
        g_autofree char *spec = g_strdup_printf ("block,id=hp-%s,path=/var/lib/hvkit/test/hp-%s.raw,format=raw",
                                                 vm->id, vm->id);
        g_autoptr(HvkDevice) device = hvk_device_new_from_string (stress->registry,
                                                                  spec, &error);

        g_assert_no_error (error);
        g_assert_true (hvk_hypervisor_hotplug_add_device (vm->hypervisor, device,
                                                          NULL, &error));
        g_assert_no_error (error);
      }
      break;

    case STEP_PAUSE:
      g_assert_true (hvk_hypervisor_pause_vm (vm->hypervisor, NULL, &error));
      g_assert_no_error (error);
      break;

    case STEP_TAKEOVER:
      /* As another process would: from the store, a new object. */
      g_assert_true (hvk_vm_store_save_hypervisor (stress->store, vm->id,
                                                   vm->hypervisor, &error));
      g_assert_no_error (error);
      g_clear_object (&vm->hypervisor);
      vm->hypervisor = hvk_vm_store_load_hypervisor (stress->store, vm->id,
                                                     stress->registry, &error);
      g_assert_no_error (error);
      g_assert_cmpint (hvk_hypervisor_get_state (vm->hypervisor), ==, HVK_VM_STATE_PAUSED);
      break;

    case STEP_RESUME:
      g_assert_true (hvk_hypervisor_resume_vm (vm->hypervisor, NULL, &error));
      g_assert_no_error (error);
      break;

    case STEP_CHECK:
      check_own (vm);
      break;

    case STEP_STOP:
      g_assert_true (hvk_hypervisor_stop_vm (vm->hypervisor, FALSE, NULL, &error));
      g_assert_no_error (error);
      g_assert_true (hvk_hypervisor_cleanup (vm->hypervisor, &error));
      g_assert_no_error (error);
      g_assert_cmpint (hvk_hypervisor_get_state (vm->hypervisor), ==, HVK_VM_STATE_STOPPED);
      break;

    case N_STEPS:
    default:
      g_assert_not_reached ();
    }
}

static gpointer
worker (gpointer data)
{
  Stress *stress = data;
  gint index;

  while ((index = g_atomic_int_add (&stress->next, 1)) < (gint) stress->n_vms)
    {
      Vm *vm = &stress->vms[index];

      if (stress->lifecycle)
        for (Step step = 0; step < N_STEPS; step++)
          run_step (stress, vm, step);
      else
        run_step (stress, vm, stress->step);
    }
  return NULL;
}

static void
run_threads (Stress *stress)
{
  g_autoptr(GPtrArray) threads = g_ptr_array_new ();

  g_atomic_int_set (&stress->next, 0);
  for (guint i = 0; i < stress->n_threads; i++)
    {
      g_autofree char *name = g_strdup_printf ("stress-%u", i);
      g_ptr_array_add (threads, g_thread_new (name, worker, stress));
    }
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (g_ptr_array_index (threads, i));
}

/* After a round: every VM stopped, its whole record its own. */
static void
check_round (Stress *stress)
{
  for (guint i = 0; i < stress->n_vms; i++)
    {
      Vm *vm = &stress->vms[i];
      g_autoptr(JsonNode) root = NULL;
      JsonObject *state = mock_state (vm->hypervisor, &root);

      g_assert_cmpint (hvk_hypervisor_get_state (vm->hypervisor), ==, HVK_VM_STATE_STOPPED);
      g_assert_cmpstr (json_object_get_string_member (state, "id"), ==, vm->id);
      check_calls (vm, state, expected_calls, g_strv_length ((GStrv) expected_calls));
      g_clear_object (&vm->hypervisor);
      g_clear_object (&vm->config);
    }
  stress_assert_store_empty (stress->store);
}

/* @check_fds: only when no other thread opens files meanwhile. */
static void
stress_run (HvkRegistry *registry,
            gboolean     lifecycle,
            gboolean     check_fds)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *shared_text = NULL;
  Stress stress = { 0, };
  gint64 begin = g_get_monotonic_time ();
  guint fds_before;

  stress.registry = registry;
  stress.lifecycle = lifecycle;
  stress.n_vms = stress_env_uint ("HVKIT_STRESS_VMS", DEFAULT_VMS);
  stress.n_threads = stress_env_uint ("HVKIT_STRESS_THREADS", DEFAULT_THREADS);
  stress.rounds = stress_env_uint ("HVKIT_STRESS_ROUNDS", DEFAULT_ROUNDS);
  stress.tmp = g_dir_make_tmp ("hvk-stress-XXXXXX", &error);
  g_assert_no_error (error);
  stress.store = g_build_filename (stress.tmp, "state", NULL);
  stress.vms = g_new0 (Vm, stress.n_vms);

  shared_text = g_strdup (config_head);
  stress.shared_config = hvk_config_new_from_data (shared_text, -1, "shared",
                                                   registry, &error);
  g_assert_no_error (error);
  hvk_config_set_vm_store_path (stress.shared_config, stress.store);

  fds_before = stress_count_fds ();

  for (guint round = 0; round < stress.rounds; round++)
    {
      for (guint i = 0; i < stress.n_vms; i++)
        {
          /* Ids change each round: no VM inherits another's directory. */
          stress.vms[i].id = g_strdup_printf ("vm%u-r%u", i, round);
          stress.vms[i].shared = i % 2 == 0;
        }

      if (lifecycle)
        run_threads (&stress);
      else
        for (Step step = 0; step < N_STEPS; step++)
          {
            stress.step = step;
            run_threads (&stress);
          }

      check_round (&stress);
      for (guint i = 0; i < stress.n_vms; i++)
        g_clear_pointer (&stress.vms[i].id, g_free);
      stress.cycled += stress.n_vms;
    }

  if (check_fds)
    g_assert_cmpuint (stress_count_fds (), ==, fds_before);
  g_test_message ("%s: %" G_GUINT64_FORMAT " mock VMs cycled (%u VMs x %u rounds), "
                  "%u threads, %.2f s",
                  lifecycle ? "lifecycle" : "phased", stress.cycled,
                  stress.n_vms, stress.rounds, stress.n_threads,
                  (g_get_monotonic_time () - begin) / 1e6);

  g_clear_object (&stress.shared_config);
  g_free (stress.vms);
  hvk_test_remove_tree (stress.tmp);
  g_free (stress.tmp);
  g_free (stress.store);
}

/* ---- the default registry, first asked for from many threads ---- */

/* The first registry, configuration, device and hypervisor of the
 * process, made by many threads at once: GType class initialisation and
 * the default registry's scan happen here. */
static gpointer
get_default (gpointer data)
{
  HvkRegistry *registry = hvk_registry_get_default ();
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = hvk_config_new_from_data (config_head, -1, "first",
                                                          registry, &error);
  g_autoptr(HvkDevice) device = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;

  g_assert_no_error (error);
  device = hvk_device_new_from_string (registry, "block,id=d0,path=/x.raw,format=raw",
                                       &error);
  g_assert_no_error (error);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_create_vm (hypervisor, "first", config, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_add_device (hypervisor, device, &error));
  g_assert_no_error (error);
  g_assert_cmpint (hvk_hypervisor_get_state (hypervisor), ==, HVK_VM_STATE_CREATED);
  return registry;
}

static void
test_default_registry_first_use (void)
{
  g_autoptr(GPtrArray) threads = g_ptr_array_new ();
  HvkRegistry *registry = NULL;

  for (guint i = 0; i < DEFAULT_THREADS; i++)
    g_ptr_array_add (threads, g_thread_new ("get-default", get_default, NULL));
  for (guint i = 0; i < threads->len; i++)
    {
      HvkRegistry *got = g_thread_join (g_ptr_array_index (threads, i));

      g_assert_true (HVK_IS_REGISTRY (got));
      if (registry == NULL)
        registry = got;
      /* One registry, whichever thread made it. */
      g_assert_true (got == registry);
    }
  g_assert_true (hvk_registry_get_default () == registry);
  g_assert_nonnull (hvk_registry_lookup_backend (registry, "mock"));
}

static HvkRegistry *
own_registry (void)
{
  HvkRegistry *registry = hvk_registry_new ();

  hvk_registry_scan (registry);
  if (hvk_registry_lookup_backend (registry, "mock") == NULL)
    g_error ("no mock backend in HVKIT_PLUGIN_PATH=%s",
             g_getenv ("HVKIT_PLUGIN_PATH"));
  return registry;
}

static void
test_phased_own (void)
{
  g_autoptr(HvkRegistry) registry = own_registry ();

  stress_run (registry, FALSE, TRUE);
}

static void
test_lifecycle_own (void)
{
  g_autoptr(HvkRegistry) registry = own_registry ();

  stress_run (registry, TRUE, TRUE);
}

static void
test_phased_default (void)
{
  stress_run (hvk_registry_get_default (), FALSE, TRUE);
}

static void
test_lifecycle_default (void)
{
  stress_run (hvk_registry_get_default (), TRUE, TRUE);
}

/* Registries made, scanned and dropped in many threads while others run
 * VMs: plugin loading is serialised per registry, and modules stay
 * resident across registries. */
static gpointer
churn_registries (gpointer data)
{
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(HvkRegistry) registry = own_registry ();
      g_autoptr(GError) error = NULL;
      g_autoptr(HvkConfig) config = hvk_config_new_from_data (config_head, -1,
                                                              "churn", registry,
                                                              &error);
      g_autoptr(HvkHypervisor) hypervisor = NULL;

      g_assert_no_error (error);
      hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
      g_assert_no_error (error);
      g_assert_true (hvk_hypervisor_get_registry (hypervisor) == registry);
    }
  return NULL;
}

static gpointer
run_lifecycle (gpointer data)
{
  stress_run (data, TRUE, FALSE);
  return NULL;
}

static void
test_registry_churn (void)
{
  g_autoptr(GPtrArray) threads = g_ptr_array_new ();
  g_autoptr(HvkRegistry) registry = own_registry ();
  guint fds_before = stress_count_fds ();
  GThread *runner;

  for (guint i = 0; i < 4; i++)
    g_ptr_array_add (threads, g_thread_new ("churn", churn_registries, NULL));
  runner = g_thread_new ("runner", run_lifecycle, registry);
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (g_ptr_array_index (threads, i));
  g_thread_join (runner);
  g_assert_cmpuint (stress_count_fds (), ==, fds_before);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  /* First: nothing may have asked for the default registry before. */
  g_test_add_func ("/hvk/stress/mock/default-registry-first-use",
                   test_default_registry_first_use);
  g_test_add_func ("/hvk/stress/mock/phased/own-registry", test_phased_own);
  g_test_add_func ("/hvk/stress/mock/lifecycle/own-registry", test_lifecycle_own);
  g_test_add_func ("/hvk/stress/mock/phased/default-registry", test_phased_default);
  g_test_add_func ("/hvk/stress/mock/lifecycle/default-registry", test_lifecycle_default);
  g_test_add_func ("/hvk/stress/mock/registry-churn", test_registry_churn);
  return g_test_run ();
}
