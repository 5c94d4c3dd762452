/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vhost.h>

#include "hvk-qemu-private.h"
#include "hvk-qemu-build.h"
#include "hvk-qemu-hypervisor-private.h"
#include "hvk-qemu-virtiofsd.h"
#include "hvk-qemu-qmp.h"

/* Saving a VM's device state by migration (templating). */

#define MIGRATION_FD_NAME "hvkit-migration"

/* ---- save (templating) ---- */

gboolean
hvk_qemu_vm_save (HvkHypervisor  *hypervisor,
              GCancellable   *cancellable,
              GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(JsonObject) caps_args = json_object_new ();
  g_autoptr(JsonObject) cap = json_object_new ();
  g_autoptr(JsonArray) caps = json_array_new ();
  g_autoptr(JsonObject) migrate_args = json_object_new ();
  g_autoptr(JsonObject) getfd_args = json_object_new ();
  g_autoptr(JsonNode) ret = NULL;
  g_autofree char *uri = NULL;
  const char *state_path;
  int fd;
  gint64 deadline;

  if (!hvk_qemu_vm_check_state (self, "save", S (RUNNING) | S (PAUSED), error))
    return FALSE;
  if (!hvk_qemu_vm_settings (self)->boot_to_be_template)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "backend '%s' supports save_vm only for a VM booted with "
                   "boot_to_be_template=true (VM '%s')", HVK_QEMU_BACKEND_NAME, self->id);
      return FALSE;
    }
  state_path = hvk_qemu_vm_settings (self)->devices_state_path;
  if (state_path == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: [%s] devices_state_path: needed to save template VM '%s'",
                   hvk_config_get_source (self->config) ? hvk_config_get_source (self->config) : "configuration",
                   hvk_config_get_group (self->config), self->id);
      return FALSE;
    }

  /* The template's memory is a shared file already: migrate only the
   * device state (Kata's setIgnoreSharedMemoryMigrationCaps). */
  json_object_set_string_member (cap, "capability", "x-ignore-shared");
  json_object_set_boolean_member (cap, "state", TRUE);
  json_array_add_object_element (caps, g_steal_pointer (&cap));
  json_object_set_array_member (caps_args, "capabilities", g_steal_pointer (&caps));
  if (!hvk_qemu_vm_qmp_run (self, "migrate-set-capabilities", caps_args, cancellable, error))
    return FALSE;

  /* The stream goes to a file hvkit opens and hands over (getfd): QEMU
   * 7.2 has no file: URI, and exec: would spawn a shell, which the
   * default seccomp sandbox (spawn=deny) kills QEMU for. */
  fd = open (state_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot save VM '%s' to %s: %s",
                   self->id, state_path, g_strerror (saved));
      return FALSE;
    }
  json_object_set_string_member (getfd_args, "fdname", MIGRATION_FD_NAME);
  if (!hvk_qemu_vm_qmp_ensure (self, cancellable, error))
    {
      close (fd);
      return FALSE;
    }
  ret = hvk_qmp_client_execute_with_fd (self->qmp, "getfd", getfd_args, fd,
                                        QMP_COMMAND_TIMEOUT_MS, cancellable, error);
  close (fd);
  if (ret == NULL)
    return FALSE;
  g_clear_pointer (&ret, json_node_unref);

  uri = g_strdup ("fd:" MIGRATION_FD_NAME);
  json_object_set_string_member (migrate_args, "uri", uri);
  if (!hvk_qemu_vm_qmp_run (self, "migrate", migrate_args, cancellable, error))
    return FALSE;

  deadline = g_get_monotonic_time () + (gint64) MIGRATION_TIMEOUT_MS * 1000;
  for (;;)
    {
      g_autoptr(JsonNode) ret = hvk_qemu_vm_qmp_exec (self, "query-migrate", NULL, cancellable, error);
      const char *status;

      if (ret == NULL)
        return FALSE;
      status = JSON_NODE_HOLDS_OBJECT (ret)
               ? json_object_get_string_member_with_default (json_node_get_object (ret), "status", "")
               : "";
      if (g_str_equal (status, "completed"))
        break;
      if (g_str_equal (status, "failed") || g_str_equal (status, "cancelled"))
        {
          const char *desc = json_object_get_string_member_with_default (json_node_get_object (ret),
                                                                         "error-desc", "no reason given");
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "saving VM '%s' to %s failed: %s", self->id, state_path, desc);
          return FALSE;
        }
      if (g_get_monotonic_time () >= deadline)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_TIMEOUT,
                       "saving VM '%s' to %s did not complete within %d ms",
                       self->id, state_path, MIGRATION_TIMEOUT_MS);
          return FALSE;
        }
      g_usleep (10 * 1000);
    }
  /* After migration QEMU is paused (postmigrate). */
  self->state = HVK_VM_STATE_PAUSED;
  return TRUE;
}

