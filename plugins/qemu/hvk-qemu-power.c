/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-qemu-hypervisor-private.h"

/*
 * The guest's power: an ACPI power button press (`system_powerdown`) and
 * a hardware reset (`system_reset`).  QEMU runs with --no-reboot (as
 * Kata's does: a guest that reboots ends its VM), which also turns a QMP
 * reset into a shutdown; so the reset is made while the reboot action is
 * `reset`, set and put back around it with `set-action` (QEMU ≥ 6.0).
 * The firmware resets the machine once more on its way up after a reset
 * (SeaBIOS does, seeing it ran before): the action goes back only when
 * QEMU has sent no RESET event for a while.
 */

#define RESET_SETTLE_MS 1000
#define RESET_SETTLE_MAX_MS 10000

gboolean
hvk_qemu_vm_shutdown (HvkHypervisor  *hypervisor,
                      guint           timeout_ms,
                      GCancellable   *cancellable,
                      GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  gint64 deadline;

  if (!hvk_qemu_vm_check_state (self, "shut down", S (RUNNING), error))
    return FALSE;
  deadline = g_get_monotonic_time () + (gint64) timeout_ms * G_TIME_SPAN_MILLISECOND;
  if (!hvk_qemu_vm_qmp_run (self, "system_powerdown", NULL, cancellable, error))
    return FALSE;
  if (!hvk_process_wait_dead (self->pid, self->pid_start_time, deadline))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_TIMEOUT,
                   "VM '%s': the guest did not power off within %u ms", self->id, timeout_ms);
      return FALSE;
    }
  /* QEMU is gone: its QMP connection with it. */
  if (self->qmp != NULL)
    hvk_qmp_client_close (self->qmp);
  g_clear_object (&self->qmp);
  self->state = HVK_VM_STATE_STOPPED;
  hvk_hypervisor_persist (hypervisor, NULL);
  return TRUE;
}

static gboolean
set_reboot_action (HvkQemuHypervisor  *self,
                   const char         *action,
                   GCancellable       *cancellable,
                   GError            **error)
{
  g_autoptr(JsonObject) arguments = json_object_new ();

  json_object_set_string_member (arguments, "reboot", action);
  return hvk_qemu_vm_qmp_run (self, "set-action", arguments, cancellable, error);
}

gboolean
hvk_qemu_vm_reboot (HvkHypervisor  *hypervisor,
                    GCancellable   *cancellable,
                    GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(GError) restore_error = NULL;
  gboolean ok;

  if (!hvk_qemu_vm_check_state (self, "reboot", S (RUNNING), error))
    return FALSE;
  if (!set_reboot_action (self, "reset", cancellable, error))
    return FALSE;
  ok = hvk_qemu_vm_qmp_run (self, "system_reset", NULL, cancellable, error);
  if (ok)
    {
      gint64 give_up = g_get_monotonic_time () + RESET_SETTLE_MAX_MS * G_TIME_SPAN_MILLISECOND;

      while (g_get_monotonic_time () < give_up)
        {
          g_autoptr(JsonObject) event =
            hvk_qmp_client_wait_event (self->qmp, "RESET", NULL, NULL, RESET_SETTLE_MS,
                                       cancellable, NULL);
          if (event == NULL)
            break;
        }
    }
  /* Back to shutdown, so that a guest's own reboot still ends the VM. */
  if (!set_reboot_action (self, "shutdown", NULL, &restore_error))
    {
      if (ok)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&restore_error),
                                      "VM '%s' was reset, but its reboot action could not "
                                      "be put back to shutdown: ", self->id);
          return FALSE;
        }
    }
  return ok;
}
