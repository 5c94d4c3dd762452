/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>
#include "hvk-hypervisor-private.h"

/* The HvkHypervisor wrappers that ask rather than change: what the VM
 * has and uses (memory, console, pids, statistics, events, the launch
 * command), and the housekeeping around it (check, cleanup, disconnect).
 * The lifecycle operations and their state table are in
 * hvk-hypervisor.c. */

#define IFACE(self) HVK_HYPERVISOR_GET_IFACE (self)

/**
 * hvk_hypervisor_get_total_memory_mb:
 * @self: a #HvkHypervisor
 *
 * Gets the guest's memory.
 *
 * Returns: the guest's memory in MiB, hot-plugged memory included
 */
guint32
hvk_hypervisor_get_total_memory_mb (HvkHypervisor *self)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), 0);

  if (IFACE (self)->get_total_memory_mb == NULL)
    return 0;
  return IFACE (self)->get_total_memory_mb (self);
}

/**
 * hvk_hypervisor_get_vm_console:
 * @self: a #HvkHypervisor
 * @protocol: (out) (optional): the console protocol (`unix`, `pty` …)
 * @url: (out) (optional): where the console is (a socket path …)
 * @error: return location for an error
 *
 * Gets where the VM's console is.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_get_vm_console (HvkHypervisor *self,
                               char         **protocol,
                               char         **url,
                               GError       **error)
{
  g_autofree char *p = NULL;
  g_autofree char *u = NULL;
  HvkHypervisorInterface *iface;

  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  iface = IFACE (self);
  if (iface->get_vm_console == NULL)
    return hvk_hypervisor_not_supported (self, "get_vm_console", error);
  if (!iface->get_vm_console (self, &p, &u, error))
    return FALSE;
  if (protocol)
    *protocol = g_steal_pointer (&p);
  if (url)
    *url = g_steal_pointer (&u);
  return TRUE;
}

/**
 * hvk_hypervisor_disconnect:
 * @self: a #HvkHypervisor
 *
 * Drops the connection to the VMM's monitor, leaving the VM running.
 */
void
hvk_hypervisor_disconnect (HvkHypervisor *self)
{
  g_return_if_fail (HVK_IS_HYPERVISOR (self));

  if (IFACE (self)->disconnect)
    IFACE (self)->disconnect (self);
}

/**
 * hvk_hypervisor_capabilities:
 * @self: a #HvkHypervisor
 *
 * Gets what the backend can do for this VM's configuration.
 *
 * Returns: what the backend can do for this VM's configuration
 */
HvkCapabilities
hvk_hypervisor_capabilities (HvkHypervisor *self)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), HVK_CAP_NONE);

  if (IFACE (self)->capabilities == NULL)
    return HVK_CAP_NONE;
  return IFACE (self)->capabilities (self);
}

/**
 * hvk_hypervisor_get_config:
 * @self: a #HvkHypervisor
 *
 * Gets the configuration the VM was created from.
 *
 * Returns: (transfer none) (nullable): the configuration given to
 *   create_vm(), or %NULL before it
 */
HvkConfig *
hvk_hypervisor_get_config (HvkHypervisor *self)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), NULL);

  if (IFACE (self)->get_config == NULL)
    return NULL;
  return IFACE (self)->get_config (self);
}

/**
 * hvk_hypervisor_get_thread_ids:
 * @self: a #HvkHypervisor
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Gets the host threads that run the VM's vCPUs.
 *
 * Returns: (transfer full) (element-type guint guint): vCPU index →
 *   host thread id, or %NULL on error
 */
GHashTable *
hvk_hypervisor_get_thread_ids (HvkHypervisor *self,
                               GCancellable  *cancellable,
                               GError       **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (IFACE (self)->get_thread_ids == NULL)
    {
      hvk_hypervisor_not_supported (self, "get_thread_ids", error);
      return NULL;
    }
  return IFACE (self)->get_thread_ids (self, cancellable, error);
}

/**
 * hvk_hypervisor_shutdown_vm:
 * @self: a #HvkHypervisor
 * @timeout_ms: how long the guest has to power off
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Asks the guest to power off, as a power button press does (QEMU's
 * `system_powerdown`), and waits up to @timeout_ms for the VMM to end.
 * The VM is then stopped; hvk_hypervisor_stop_vm() and
 * hvk_hypervisor_cleanup() release what it held.  A guest that does not
 * power off in time (one that ignores the button, a hung one) leaves the
 * VM running: stop it with hvk_hypervisor_stop_vm(), as `hvkit shutdown`
 * does.
 *
 * Returns: %TRUE once the VMM ended; %FALSE with %HVK_ERROR_TIMEOUT when
 *   the guest did not power off within @timeout_ms, %HVK_ERROR_STATE when
 *   the VM is not running, %HVK_ERROR_NOT_SUPPORTED when the backend
 *   cannot ask
 */
gboolean
hvk_hypervisor_shutdown_vm (HvkHypervisor *self,
                            guint          timeout_ms,
                            GCancellable  *cancellable,
                            GError       **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  DISPATCH_OP (self, HVK_HYPERVISOR_OP_SHUTDOWN, shutdown_vm, error, timeout_ms, cancellable, error);
}

/**
 * hvk_hypervisor_reboot_vm:
 * @self: a #HvkHypervisor
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Resets the guest, as a reset button does (QEMU's `system_reset`): it
 * boots again in the same VM, which stays running.
 *
 * Returns: %TRUE on success; %FALSE with %HVK_ERROR_STATE when the VM is
 *   not running, %HVK_ERROR_NOT_SUPPORTED when the backend cannot
 */
gboolean
hvk_hypervisor_reboot_vm (HvkHypervisor *self,
                          GCancellable  *cancellable,
                          GError       **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  DISPATCH_OP (self, HVK_HYPERVISOR_OP_REBOOT, reboot_vm, error, cancellable, error);
}

/**
 * hvk_hypervisor_follow_events:
 * @self: a #HvkHypervisor
 * @cancellable: (nullable): a #GCancellable: cancel it to stop following
 * @error: return location for an error
 *
 * Follows the VM's events until its VMM ends, emitting
 * #HvkHypervisor::event for each (the last one `exited`); blocks the
 * calling thread meanwhile.  QEMU's events come from a QMP socket of
 * their own, so following never disturbs the operations of this or
 * another process; that socket takes one watcher at a time (a second
 * waits for the first to leave).
 *
 * Returns: %TRUE once the VMM ended (or @cancellable was cancelled);
 *   %FALSE with @error set (%HVK_ERROR_NOT_SUPPORTED when the backend
 *   has no events)
 */
gboolean
hvk_hypervisor_follow_events (HvkHypervisor *self,
                              GCancellable  *cancellable,
                              GError       **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  DISPATCH_OP (self, HVK_HYPERVISOR_OP_FOLLOW, follow_events, error, cancellable, error);
}

/**
 * hvk_hypervisor_balloon:
 * @self: a #HvkHypervisor
 * @target_mb: the memory the guest should be left with, in MiB (0: leave
 *   the target as it is)
 * @stats_interval_s: how often the guest reports its memory statistics,
 *   in seconds (0: stop; negative: leave it as it is)
 * @info: (out caller-allocates) (optional): the balloon after the call
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Sets and reads the balloon of a VM configured with
 * `reclaim_guest_freed_memory` (QEMU: `balloon`, `query-balloon`, the
 * device's `guest-stats-polling-interval` and `guest-stats`).  The guest
 * inflates the balloon towards @target_mb at its own pace: @info says
 * where it is when the call returns.
 *
 * Returns: %TRUE on success (%HVK_ERROR_STATE when the VM is not running
 *   or paused, %HVK_ERROR_NOT_SUPPORTED when it has no balloon)
 */
gboolean
hvk_hypervisor_balloon (HvkHypervisor  *self,
                        guint64         target_mb,
                        gint            stats_interval_s,
                        HvkBalloonInfo *info,
                        GCancellable   *cancellable,
                        GError        **error)
{
  HvkBalloonInfo dummy;

  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (info == NULL)
    info = &dummy;
  memset (info, 0, sizeof *info);
  info->guest_free_mb = info->guest_total_mb = info->guest_available_mb = -1;
  DISPATCH_OP (self, HVK_HYPERVISOR_OP_BALLOON, balloon, error, target_mb, stats_interval_s, info,
               cancellable, error);
}

/**
 * hvk_hypervisor_get_stats:
 * @self: a #HvkHypervisor
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Measures the running (or paused) VM: CPU and memory of its VMM, its
 * vCPU threads, the I/O of its disks and network devices, its virtiofsd
 * and cgroup, under the keys #HvkStats documents (those the backend can
 * measure).  hvk_stats_format_prometheus() turns them into Prometheus
 * text.
 *
 * Returns: (transfer full): the statistics, or %NULL with @error set
 *   (%HVK_ERROR_STATE when the VM is not running or paused,
 *   %HVK_ERROR_NOT_SUPPORTED when the backend measures nothing)
 */
HvkStats *
hvk_hypervisor_get_stats (HvkHypervisor *self,
                          GCancellable  *cancellable,
                          GError       **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (IFACE (self)->get_stats == NULL)
    {
      hvk_hypervisor_not_supported (self, "get_stats", error);
      return NULL;
    }
  if (!hvk_hypervisor_check_operation (self, HVK_HYPERVISOR_OP_STATS, error))
    return NULL;
  return IFACE (self)->get_stats (self, cancellable, error);
}

/**
 * hvk_hypervisor_cleanup:
 * @self: a #HvkHypervisor
 * @error: return location for an error
 *
 * Removes what the VM left behind after it stopped.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_cleanup (HvkHypervisor *self,
                        GError       **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* Nothing to clean is a success, not an unsupported operation. */
  if (IFACE (self)->cleanup == NULL)
    return TRUE;
  return IFACE (self)->cleanup (self, error);
}

/**
 * hvk_hypervisor_get_pids:
 * @self: a #HvkHypervisor
 *
 * Gets the host processes of the VM.
 *
 * Returns: (transfer full) (element-type gint): the VMM's pid first, then
 *   helper daemons' (virtiofsd); empty when nothing runs
 */
GArray *
hvk_hypervisor_get_pids (HvkHypervisor *self)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), NULL);

  if (IFACE (self)->get_pids == NULL)
    return g_array_new (FALSE, FALSE, sizeof (int));
  return IFACE (self)->get_pids (self);
}

/**
 * hvk_hypervisor_get_virtiofs_pid:
 * @self: a #HvkHypervisor
 *
 * Gets the pid of the VM's virtio-fs daemon.
 *
 * Returns: the virtio-fs daemon's pid, or -1
 */
int
hvk_hypervisor_get_virtiofs_pid (HvkHypervisor *self)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), -1);

  if (IFACE (self)->get_virtiofs_pid == NULL)
    return -1;
  return IFACE (self)->get_virtiofs_pid (self);
}

/**
 * hvk_hypervisor_check:
 * @self: a #HvkHypervisor
 * @error: return location for an error
 *
 * Checks that the VMM is alive and answering.
 *
 * Returns: %TRUE if it is
 */
gboolean
hvk_hypervisor_check (HvkHypervisor *self,
                      GError       **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  DISPATCH (self, check, error, error);
}

/**
 * hvk_hypervisor_generate_socket:
 * @self: a #HvkHypervisor
 * @id: the VM id
 * @error: return location for an error
 *
 * Gets the address of the agent socket of VM @id.
 *
 * Returns: (transfer full): the agent socket as a URI
 *   (`vsock://CID:PORT`, `hvsock://PATH:PORT`, `mock://PATH`), or %NULL
 */
char *
hvk_hypervisor_generate_socket (HvkHypervisor *self,
                                const char    *id,
                                GError       **error)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (IFACE (self)->generate_socket == NULL)
    {
      hvk_hypervisor_not_supported (self, "generate_socket", error);
      return NULL;
    }
  return IFACE (self)->generate_socket (self, id, error);
}

/**
 * hvk_hypervisor_is_rate_limiter_builtin:
 * @self: a #HvkHypervisor
 *
 * Tells whether the VMM limits I/O rates itself.
 *
 * Returns: whether the VMM limits I/O rates itself
 */
gboolean
hvk_hypervisor_is_rate_limiter_builtin (HvkHypervisor *self)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);

  if (IFACE (self)->is_rate_limiter_builtin == NULL)
    return FALSE;
  return IFACE (self)->is_rate_limiter_builtin (self);
}

/**
 * hvk_hypervisor_get_hotplugged_devices:
 * @self: a #HvkHypervisor
 *
 * The devices hot-plugged into the running VM, as the backend recorded
 * them (for QEMU also the vCPUs and DIMMs resize added).
 *
 * Returns: (transfer container) (element-type HvkDevice): the devices, oldest
 *   first; empty when there are none or the backend does not say
 */
GPtrArray *
hvk_hypervisor_get_hotplugged_devices (HvkHypervisor *self)
{
  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), NULL);

  if (IFACE (self)->get_hotplugged_devices == NULL)
    return g_ptr_array_new_with_free_func (g_object_unref);
  return IFACE (self)->get_hotplugged_devices (self);
}

/**
 * hvk_hypervisor_get_launch_command:
 * @self: a #HvkHypervisor
 * @argv: (out) (optional) (transfer full) (array zero-terminated=1): the
 *   exact command line the backend launches (or would launch) for the VM
 * @kernel_cmdline: (out) (optional) (transfer full) (nullable): the guest
 *   kernel's command line, or %NULL when the backend passes none
 * @error: return location for an error
 *
 * The launch command create_vm() prepared.  Fails with %HVK_ERROR_STATE
 * before create_vm() (%HVK_VM_STATE_NONE) and with
 * %HVK_ERROR_NOT_SUPPORTED when the backend does not say.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_get_launch_command (HvkHypervisor   *self,
                                   char          ***argv,
                                   char           **kernel_cmdline,
                                   GError         **error)
{
  g_auto(GStrv) a = NULL;
  g_autofree char *k = NULL;
  HvkHypervisorInterface *iface;

  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  iface = IFACE (self);
  if (iface->get_launch_command == NULL)
    return hvk_hypervisor_not_supported (self, "get_launch_command", error);
  if (!hvk_hypervisor_check_operation (self, HVK_HYPERVISOR_OP_LAUNCH_COMMAND, error))
    return FALSE;
  if (!iface->get_launch_command (self, &a, &k, error))
    return FALSE;
  if (argv)
    *argv = g_steal_pointer (&a);
  if (kernel_cmdline)
    *kernel_cmdline = g_steal_pointer (&k);
  return TRUE;
}
