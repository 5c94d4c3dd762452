/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <stdio.h>

#include "hvk-mock-hypervisor-private.h"

/* Save to a directory and restore from it, with the QEMU backend's
 * contract: the VM is left as it was; a restore starts a created VM
 * running (or paused) from what a save wrote, and refuses a directory
 * without it.  The mock writes one file: the vCPU count and memory. */

#define MOCK_STATE_NAME "mock-state"

gboolean
hvk_mock_save_to_dir (HvkHypervisor  *hypervisor,
                      const char     *dir,
                      GCancellable   *cancellable,
                      GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  g_autofree char *path = g_build_filename (dir, MOCK_STATE_NAME, NULL);
  g_autofree char *text = NULL;

  if (!hvk_mock_begin_call (self, "save_to_dir", NULL, error))
    return FALSE;
  if (self->state != HVK_VM_STATE_RUNNING && self->state != HVK_VM_STATE_PAUSED)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_STATE, "mock: cannot save a VM that is %s",
                   hvk_vm_state_to_string (self->state));
      return FALSE;
    }
  text = g_strdup_printf ("mock %u %u\n", self->vcpus, self->memory_mb);
  return g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

gboolean
hvk_mock_restore_from_dir (HvkHypervisor  *hypervisor,
                           const char     *dir,
                           gboolean        paused,
                           guint           timeout_ms,
                           GCancellable   *cancellable,
                           GError        **error)
{
  HvkMockHypervisor *self = HVK_MOCK_HYPERVISOR (hypervisor);
  g_autofree char *path = g_build_filename (dir, MOCK_STATE_NAME, NULL);
  g_autofree char *text = NULL;
  guint vcpus = 0, memory_mb = 0;

  if (!hvk_mock_begin_call (self, "restore_from_dir", NULL, error))
    return FALSE;
  if (self->state != HVK_VM_STATE_CREATED)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_STATE, "mock: cannot restore a VM that is %s",
                   hvk_vm_state_to_string (self->state));
      return FALSE;
    }
  if (!g_file_get_contents (path, &text, NULL, NULL)
      || sscanf (text, "mock %u %u", &vcpus, &memory_mb) != 2)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "mock: cannot restore VM '%s': %s holds no state saved by the mock",
                   self->id, dir);
      return FALSE;
    }
  self->vcpus = vcpus;
  self->memory_mb = memory_mb;
  self->state = paused ? HVK_VM_STATE_PAUSED : HVK_VM_STATE_RUNNING;
  return TRUE;
}
