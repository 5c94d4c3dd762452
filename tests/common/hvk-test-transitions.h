/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The lifecycle table of the HvkHypervisor interface, shared by the
 * backends' tests (mock, acrn, qemu): which operations are legal in which
 * state, and a driver that registers one GTest case per illegal
 * (state, operation) pair of a backend.  Each case brings a new VM to the
 * state, calls the operation, and asserts that it fails with
 * HVK_ERROR_STATE (HVK_ERROR_NOT_SUPPORTED for an operation the backend
 * does not implement at all) and that the state did not change.
 *
 * The table is what include/hvkit/hvk-hypervisor.h and the wrappers'
 * documentation in core/hvk-hypervisor.c say, not what a backend does:
 * a backend that disagrees lists the cells in its `known` array, which
 * turns them into expected failures (TAP "not ok # TODO") until it is
 * fixed, and into a failure once it agrees (remove the entry then).
 */

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

typedef enum {
  HVK_TEST_OP_CREATE_VM,
  HVK_TEST_OP_START_VM,
  HVK_TEST_OP_PAUSE_VM,
  HVK_TEST_OP_RESUME_VM,
  HVK_TEST_OP_ADD_DEVICE,
  HVK_TEST_OP_HOTPLUG_ADD_DEVICE,
  HVK_TEST_OP_HOTPLUG_REMOVE_DEVICE,
  HVK_TEST_OP_RESIZE_VCPUS,
  HVK_TEST_OP_RESIZE_MEMORY,
  HVK_TEST_OP_SAVE_VM,
  HVK_TEST_OP_STOP_VM,
  HVK_TEST_OP_GET_STATS,
  HVK_TEST_OP_SET_IO_LIMITS,
  HVK_TEST_N_OPS
} HvkTestOp;

#define HVK_TEST_STATE_BIT(state) (1u << (state))
#define HVK_TEST_OP_BIT(op) (1u << (op))
#define HVK_TEST_N_STATES (HVK_VM_STATE_STOPPED + 1)

/* The id of the device the add/hotplug operations use, and the one
 * hotplug_remove_device() is asked to remove. */
#define HVK_TEST_DEVICE_ID "hvktest0"
/* The VM id the create_vm() cells pass (short enough for ACRN). */
#define HVK_TEST_VM_ID "trans"

/* The operation's name, as the interface's vfunc ("pause_vm"). */
const char *hvk_test_op_name           (HvkTestOp op);
/* The states in which the interface allows @op (HVK_TEST_STATE_BIT()s). */
guint       hvk_test_op_legal_states   (HvkTestOp op);

/* One VM under test, set up by the backend's test. */
typedef struct {
  HvkHypervisor *hypervisor;
  HvkConfig     *config;      /* what create_vm() gets */
  gpointer       data;        /* the backend test's own */
} HvkTestVm;

/* A (state, operation) cell where the backend disagrees with the table. */
typedef struct {
  HvkVmState  state;
  HvkTestOp   op;
  const char *why;
} HvkTestKnownCell;

typedef struct {
  /* Cases are registered as PREFIX/STATE/OPERATION. */
  const char *path_prefix;

  /* Fills @vm with a new VM in @state (the driver then checks
   * hvk_hypervisor_get_state()). */
  void       (*setup)        (HvkTestVm  *vm,
                              HvkVmState  state,
                              gpointer    user_data);
  /* Optional: what the refused operation sent to the VMM (QMP commands,
   * acrnctl calls), as a newly allocated description, or NULL if nothing. */
  char      *(*sent)         (HvkTestVm  *vm,
                              gpointer    user_data);
  /* Releases what setup() made; the driver then unrefs the hypervisor
   * and the config. */
  void       (*teardown)     (HvkTestVm  *vm,
                              gpointer    user_data);
  /* A new device with the id HVK_TEST_DEVICE_ID that the backend accepts
   * for @op (HVK_TEST_OP_ADD_DEVICE or HVK_TEST_OP_HOTPLUG_ADD_DEVICE). */
  HvkDevice *(*device)       (HvkTestOp   op,
                              gpointer    user_data);

  /* States the backend cannot reach (acrn cannot pause): not tested. */
  guint       unreachable_states;
  /* Operations the backend does not implement: refused with
   * HVK_ERROR_NOT_SUPPORTED in every state. */
  guint       unsupported_ops;
  /* Terminated by an entry whose why is NULL; may be NULL. */
  const HvkTestKnownCell *known;

  gpointer    user_data;
} HvkTestTransitions;

/* Registers the illegal cells of @spec (which must outlive g_test_run()). */
void hvk_test_transitions_add (const HvkTestTransitions *spec);

G_END_DECLS
