/* SPDX-License-Identifier: Apache-2.0 */
#include "hvk-test-transitions.h"

#define S(state) HVK_TEST_STATE_BIT (HVK_VM_STATE_ ## state)

static const struct {
  const char *name;
  guint       legal;
} ops[HVK_TEST_N_OPS] = {
  /* none → created */
  [HVK_TEST_OP_CREATE_VM] = { "create_vm", S (NONE) },
  /* created → running */
  [HVK_TEST_OP_START_VM] = { "start_vm", S (CREATED) },
  /* "Pauses a running VM." */
  [HVK_TEST_OP_PAUSE_VM] = { "pause_vm", S (RUNNING) },
  /* "Resumes a paused VM." */
  [HVK_TEST_OP_RESUME_VM] = { "resume_vm", S (PAUSED) },
  /* "Cold-plugs @device: valid between create_vm() and start_vm()." */
  [HVK_TEST_OP_ADD_DEVICE] = { "add_device", S (CREATED) },
  /* "Adds @device to the running VM." */
  [HVK_TEST_OP_HOTPLUG_ADD_DEVICE] = { "hotplug_add_device", S (RUNNING) },
  /* Removes what hotplug_add_device() added: the same states. */
  [HVK_TEST_OP_HOTPLUG_REMOVE_DEVICE] = { "hotplug_remove_device", S (RUNNING) },
  /* Hot-adds or removes vCPUs / memory: a hotplug, the same states. */
  [HVK_TEST_OP_RESIZE_VCPUS] = { "resize_vcpus", S (RUNNING) },
  [HVK_TEST_OP_RESIZE_MEMORY] = { "resize_memory", S (RUNNING) },
  /* Saves a booted VM's memory and devices (it pauses it first). */
  [HVK_TEST_OP_SAVE_VM] = { "save_vm", S (RUNNING) | S (PAUSED) },
  /* running/paused/created → stopped; stopping a stopped VM is harmless.
   * A VM that was never created has nothing to stop. */
  [HVK_TEST_OP_STOP_VM] = { "stop_vm", S (CREATED) | S (RUNNING) | S (PAUSED) | S (STOPPED) },
  /* Measures a live VMM: not a transition. */
  [HVK_TEST_OP_GET_STATS] = { "get_stats", S (RUNNING) | S (PAUSED) },
  /* A live change of a device's I/O limits. */
  [HVK_TEST_OP_SET_IO_LIMITS] = { "set_io_limits", S (RUNNING) | S (PAUSED) },
};

const char *
hvk_test_op_name (HvkTestOp op)
{
  g_return_val_if_fail ((guint) op < HVK_TEST_N_OPS, NULL);
  return ops[op].name;
}

guint
hvk_test_op_legal_states (HvkTestOp op)
{
  g_return_val_if_fail ((guint) op < HVK_TEST_N_OPS, 0);
  return ops[op].legal;
}

typedef struct {
  const HvkTestTransitions *spec;
  HvkVmState                state;
  HvkTestOp                 op;
} Cell;

static gboolean
run_op (const HvkTestTransitions  *spec,
        HvkTestVm                 *vm,
        HvkTestOp                  op,
        GError                   **error)
{
  HvkHypervisor *hv = vm->hypervisor;

  switch (op)
    {
    case HVK_TEST_OP_CREATE_VM:
      return hvk_hypervisor_create_vm (hv, HVK_TEST_VM_ID, vm->config, error);
    case HVK_TEST_OP_START_VM:
      return hvk_hypervisor_start_vm (hv, 0, NULL, error);
    case HVK_TEST_OP_PAUSE_VM:
      return hvk_hypervisor_pause_vm (hv, NULL, error);
    case HVK_TEST_OP_RESUME_VM:
      return hvk_hypervisor_resume_vm (hv, NULL, error);
    case HVK_TEST_OP_ADD_DEVICE:
      {
        g_autoptr(HvkDevice) device = spec->device (op, spec->user_data);
        return hvk_hypervisor_add_device (hv, device, error);
      }
    case HVK_TEST_OP_HOTPLUG_ADD_DEVICE:
      {
        g_autoptr(HvkDevice) device = spec->device (op, spec->user_data);
        return hvk_hypervisor_hotplug_add_device (hv, device, NULL, error);
      }
    case HVK_TEST_OP_HOTPLUG_REMOVE_DEVICE:
      return hvk_hypervisor_hotplug_remove_device (hv, HVK_TEST_DEVICE_ID, NULL, error);
    case HVK_TEST_OP_RESIZE_VCPUS:
      return hvk_hypervisor_resize_vcpus (hv, 2, NULL, NULL, NULL, error);
    case HVK_TEST_OP_RESIZE_MEMORY:
      return hvk_hypervisor_resize_memory (hv, 1024, 0, FALSE, NULL, NULL, NULL, error);
    case HVK_TEST_OP_SAVE_VM:
      return hvk_hypervisor_save_vm (hv, NULL, error);
    case HVK_TEST_OP_STOP_VM:
      return hvk_hypervisor_stop_vm (hv, FALSE, NULL, error);
    case HVK_TEST_OP_GET_STATS:
      {
        g_autoptr(HvkStats) stats = hvk_hypervisor_get_stats (hv, NULL, error);
        guint64 cpu = 0;

        /* Every backend measures its VMM process at least. */
        return stats != NULL && hvk_stats_lookup (stats, "cpu.time_ns", &cpu);
      }
    case HVK_TEST_OP_SET_IO_LIMITS:
      {
        HvkIoLimits limits = { .bw_max_rate = 8388608 };

        return hvk_hypervisor_set_io_limits (hv, HVK_TEST_DEVICE_ID, &limits, NULL, error);
      }
    case HVK_TEST_N_OPS:
    default:
      g_assert_not_reached ();
    }
}

static const HvkTestKnownCell *
find_known (const HvkTestTransitions *spec,
            HvkVmState                state,
            HvkTestOp                 op)
{
  for (guint i = 0; spec->known != NULL && spec->known[i].why != NULL; i++)
    if (spec->known[i].state == state && spec->known[i].op == op)
      return &spec->known[i];
  return NULL;
}

/* "succeeded" or "failed with DOMAIN CODE: MESSAGE", and the states. */
static char *
describe_outcome (gboolean    ok,
                  GError     *error,
                  HvkVmState  before,
                  HvkVmState  after,
                  const char *sent)
{
  g_autoptr(GString) text = g_string_new (NULL);

  if (ok)
    g_string_append (text, "it succeeded");
  else if (error == NULL)
    g_string_append (text, "it failed without an error");
  else
    g_string_append_printf (text, "it failed with %s %d: %s",
                            g_quark_to_string (error->domain), error->code,
                            error->message);
  g_string_append_printf (text, "; state %s -> %s", hvk_vm_state_to_string (before),
                          hvk_vm_state_to_string (after));
  if (sent != NULL)
    g_string_append_printf (text, "; it sent %s", sent);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
test_cell (gconstpointer data)
{
  const Cell *cell = data;
  const HvkTestTransitions *spec = cell->spec;
  const HvkTestKnownCell *known = find_known (spec, cell->state, cell->op);
  const char *name = ops[cell->op].name;
  const char *state_name = hvk_vm_state_to_string (cell->state);
  HvkTestVm vm = { NULL, };
  g_autoptr(GError) error = NULL;
  g_autofree char *sent = NULL;
  g_autofree char *outcome = NULL;
  int wanted_code;
  HvkVmState after;
  gboolean ok;
  gboolean refused;

  spec->setup (&vm, cell->state, spec->user_data);
  g_assert_nonnull (vm.hypervisor);
  g_assert_nonnull (vm.config);
  g_assert_cmpstr (hvk_vm_state_to_string (hvk_hypervisor_get_state (vm.hypervisor)), ==,
                   state_name);

  ok = run_op (spec, &vm, cell->op, &error);
  after = hvk_hypervisor_get_state (vm.hypervisor);
  if (spec->sent != NULL)
    sent = spec->sent (&vm, spec->user_data);

  wanted_code = (spec->unsupported_ops & HVK_TEST_OP_BIT (cell->op))
                ? HVK_ERROR_NOT_SUPPORTED : HVK_ERROR_STATE;
  refused = !ok && g_error_matches (error, HVK_ERROR, wanted_code)
            && after == cell->state && sent == NULL;
  outcome = describe_outcome (ok, error, cell->state, after, sent);
  g_test_message ("%s from %s: %s", name, state_name, outcome);

  if (known != NULL && refused)
    g_test_fail_printf ("%s from %s is refused now, as the interface says: remove "
                        "the cell from the backend's known disagreements (%s)",
                        name, state_name, known->why);
  else if (known != NULL)
    g_test_incomplete_printf ("known disagreement with the interface: %s (%s)",
                              known->why, outcome);
  else if (!refused)
    g_test_fail_printf ("%s from %s must be refused with %s and leave the VM %s, "
                        "sending nothing; %s", name, state_name,
                        wanted_code == HVK_ERROR_STATE ? "HVK_ERROR_STATE"
                                                       : "HVK_ERROR_NOT_SUPPORTED",
                        state_name, outcome);

  if (spec->teardown != NULL)
    spec->teardown (&vm, spec->user_data);
  g_clear_object (&vm.hypervisor);
  g_clear_object (&vm.config);
}

void
hvk_test_transitions_add (const HvkTestTransitions *spec)
{
  g_return_if_fail (spec != NULL && spec->setup != NULL && spec->device != NULL);

  for (guint state = 0; state < HVK_TEST_N_STATES; state++)
    {
      if (spec->unreachable_states & HVK_TEST_STATE_BIT (state))
        continue;
      for (guint op = 0; op < HVK_TEST_N_OPS; op++)
        {
          Cell *cell;
          g_autofree char *path = NULL;

          if (ops[op].legal & HVK_TEST_STATE_BIT (state))
            continue;
          cell = g_new0 (Cell, 1);
          cell->spec = spec;
          cell->state = (HvkVmState) state;
          cell->op = (HvkTestOp) op;
          path = g_strdup_printf ("%s/%s/%s", spec->path_prefix,
                                  hvk_vm_state_to_string (cell->state), ops[op].name);
          g_test_add_data_func_full (path, cell, test_cell, g_free);
        }
    }

  /* A known cell must name an illegal cell this backend tests. */
  for (guint i = 0; spec->known != NULL && spec->known[i].why != NULL; i++)
    {
      const HvkTestKnownCell *known = &spec->known[i];

      g_assert_cmpuint (known->op, <, HVK_TEST_N_OPS);
      g_assert_false (ops[known->op].legal & HVK_TEST_STATE_BIT (known->state));
      g_assert_false (spec->unreachable_states & HVK_TEST_STATE_BIT (known->state));
    }
}
