/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-qemu-hypervisor-private.h"

/*
 * follow_events: QEMU's events from the VM's events socket (a second QMP
 * monitor on the command line, which only watchers use), re-emitted as
 * HvkHypervisor::event, then hvkit's own `exited` with how QEMU ended
 * (hvkit-monitor's exit file).
 */

/* How often a quiet watcher looks whether QEMU still runs and whether it
 * was cancelled. */
#define FOLLOW_POLL_MS 500

static gboolean
follow_socket (HvkQemuHypervisor  *self,
               GCancellable       *cancellable,
               GError            **error)
{
  HvkHypervisor *hypervisor = HVK_HYPERVISOR (self);
  g_autoptr(HvkQmpClient) client = hvk_qmp_client_new ();
  g_autoptr(GError) local_error = NULL;

  if (!hvk_qmp_client_connect (client, self->paths.events_socket, HVK_DEFAULT_START_TIMEOUT_MS,
                               cancellable, &local_error))
    {
      /* QEMU ended meanwhile: nothing more to follow. */
      if (!hvk_qemu_vm_alive (self))
        return TRUE;
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "VM '%s': cannot follow its events: ", self->id);
      return FALSE;
    }
  for (;;)
    {
      g_autoptr(JsonObject) event = hvk_qmp_client_next_event (client, FOLLOW_POLL_MS,
                                                               cancellable, &local_error);
      if (event != NULL)
        {
          const char *name = json_object_get_string_member_with_default (event, "event", NULL);
          JsonObject *data = json_object_has_member (event, "data")
                             ? json_object_get_object_member (event, "data") : NULL;

          if (name != NULL)
            hvk_hypervisor_emit_event (hypervisor, name, data);
          continue;
        }
      if (g_error_matches (local_error, HVK_ERROR, HVK_ERROR_TIMEOUT))
        {
          g_clear_error (&local_error);
          if (!hvk_qemu_vm_alive (self))
            return TRUE;
          continue;
        }
      /* QEMU closed the socket: it is ending; cancelled: done. */
      if (g_error_matches (local_error, HVK_ERROR, HVK_ERROR_DISCONNECTED)
          || g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return TRUE;
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "VM '%s': following its events: ", self->id);
      return FALSE;
    }
}

gboolean
hvk_qemu_vm_follow_events (HvkHypervisor  *hypervisor,
                           GCancellable   *cancellable,
                           GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(JsonObject) exited = NULL;
  g_autofree char *how = NULL;

  if (self->paths.events_socket == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "VM '%s' was started without an events socket (by an older hvkit)", self->id);
      return FALSE;
    }
  if (hvk_qemu_vm_alive (self) && !follow_socket (self, cancellable, error))
    return FALSE;
  if (g_cancellable_is_cancelled (cancellable))
    return TRUE;

  /* Give QEMU a moment to be gone after closing its socket. */
  hvk_process_wait_dead (self->pid, self->pid_start_time,
                         g_get_monotonic_time () + G_TIME_SPAN_SECOND);
  how = hvk_qemu_vm_describe_end (self);
  exited = json_object_new ();
  json_object_set_int_member (exited, "pid", self->pid);
  json_object_set_string_member (exited, "how", how != NULL ? how : "ended (how is unknown)");
  hvk_hypervisor_emit_event (hypervisor, "exited", exited);
  return TRUE;
}
