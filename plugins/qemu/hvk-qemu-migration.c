/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
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

/* Templating by migration (Kata's BootToBeTemplate / BootFromTemplate):
 * a template's RAM is a shared file (memory_path, share=on); save_vm
 * pauses it and migrates only its device state, with x-ignore-shared, to
 * devices_state_path.  A clone maps the same file privately (share=off,
 * copy-on-write), starts with -S -incoming defer, and start_vm feeds it
 * the device state (migrate-incoming), waits until QEMU says completed,
 * then resumes it.  QEMU 7.2 has no file: URI and the default seccomp
 * sandbox (spawn=deny) kills QEMU for exec:, so hvkit opens the file
 * itself and hands the descriptor over (getfd, then fd:NAME). */

#define MIGRATION_FD_NAME "hvkit-migration"

/* Kata's setIgnoreSharedMemoryMigrationCaps: the shared RAM stays out of
 * the stream; set on both ends, as the stream's layout depends on it. */
static gboolean
set_ignore_shared (HvkQemuHypervisor *self,
                   gboolean           on,
                   GCancellable      *cancellable,
                   GError           **error)
{
  g_autoptr(JsonObject) caps_args = json_object_new ();
  g_autoptr(JsonObject) cap = json_object_new ();
  g_autoptr(JsonArray) caps = json_array_new ();

  json_object_set_string_member (cap, "capability", "x-ignore-shared");
  json_object_set_boolean_member (cap, "state", on);
  json_array_add_object_element (caps, g_steal_pointer (&cap));
  json_object_set_array_member (caps_args, "capabilities", g_steal_pointer (&caps));
  return hvk_qemu_vm_qmp_run (self, "migrate-set-capabilities", caps_args, cancellable, error);
}

/* Opens @path with @flags and hands the descriptor to QEMU as
 * MIGRATION_FD_NAME; hvkit's copy is closed either way. */
static gboolean
pass_file (HvkQemuHypervisor *self,
           const char        *path,
           int                flags,
           const char        *what,
           GCancellable      *cancellable,
           GError           **error)
{
  g_autoptr(JsonObject) getfd_args = json_object_new ();
  g_autoptr(JsonNode) ret = NULL;
  int fd;

  fd = open (path, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, HVK_ERROR, saved == ENOENT ? HVK_ERROR_NOT_FOUND : HVK_ERROR_FAILED,
                   "cannot %s VM '%s': %s: %s", what, self->id, path, g_strerror (saved));
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
  return ret != NULL;
}

/* Polls query-migrate until it says completed, within @timeout_ms (Kata's
 * waitMigration); failed, cancelled or no end in time is an error. */
static gboolean
wait_migration (HvkQemuHypervisor *self,
                const char        *what,
                const char        *path,
                guint              timeout_ms,
                GCancellable      *cancellable,
                GError           **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;)
    {
      g_autoptr(JsonNode) ret = hvk_qemu_vm_qmp_exec (self, "query-migrate", NULL, cancellable, error);
      JsonObject *info;
      const char *status;

      if (ret == NULL)
        return FALSE;
      info = JSON_NODE_HOLDS_OBJECT (ret) ? json_node_get_object (ret) : NULL;
      status = info != NULL ? json_object_get_string_member_with_default (info, "status", "") : "";
      if (g_str_equal (status, "completed"))
        return TRUE;
      if (g_str_equal (status, "failed") || g_str_equal (status, "cancelled"))
        {
          const char *desc = json_object_get_string_member_with_default (info, "error-desc",
                                                                         "no reason given");
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "%s VM '%s' (%s) failed: %s", what, self->id, path, desc);
          return FALSE;
        }
      if (g_get_monotonic_time () >= deadline)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_TIMEOUT,
                       "%s VM '%s' (%s) did not complete within %u ms (migration status '%s')",
                       what, self->id, path, timeout_ms, status);
          return FALSE;
        }
      g_usleep (10 * 1000);
    }
}

/* A device QEMU 7.2 cannot migrate: save refuses it up front, naming it,
 * rather than failing halfway (vhost-user-fs has no migration support,
 * VFIO devices are marked unmigratable). */
static const char *
unmigratable_reason (const char *kind,
                     const char *fs_driver,
                     const char *qemu_driver)
{
  if (g_strcmp0 (kind, HVK_DEVICE_KIND_VFIO) == 0 || g_strcmp0 (qemu_driver, "vfio-pci") == 0)
    return "VFIO devices cannot be migrated";
  if ((g_strcmp0 (kind, HVK_DEVICE_KIND_FS) == 0 && g_strcmp0 (fs_driver, "virtio-9p") != 0)
      || (qemu_driver != NULL && g_str_has_prefix (qemu_driver, "vhost-user-fs")))
    return "vhost-user-fs (virtio-fs) cannot be migrated by QEMU 7.2";
  return NULL;
}

typedef struct {
  const char *id;
  const char *reason;
} Unmigratable;

static void
find_unmigratable_cold (gpointer data,
                        gpointer user_data)
{
  HvkDevice *device = data;
  Unmigratable *found = user_data;
  const char *kind = hvk_device_get_kind_name (device);
  const char *reason;

  if (found->reason != NULL)
    return;
  reason = unmigratable_reason (kind,
                                g_strcmp0 (kind, HVK_DEVICE_KIND_FS) == 0
                                ? hvk_device_get_string (device, "driver") : NULL,
                                NULL);
  if (reason != NULL)
    {
      found->id = hvk_device_get_id (device);
      found->reason = reason;
    }
}

gboolean
hvk_qemu_vm_check_migratable (HvkQemuHypervisor *self,
                              const char        *operation,
                              GError           **error)
{
  Unmigratable found = { NULL, NULL };

  if (hvk_qemu_vm_is_virtio_fs (self))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "cannot %s VM '%s': its shared directory (shared_fs=virtio-fs) uses "
                   "vhost-user-fs, which QEMU 7.2 cannot migrate", operation, self->id);
      return FALSE;
    }
  hvk_qemu_vm_foreach_cold_device (self, find_unmigratable_cold, &found);
  for (guint i = 0; found.reason == NULL && self->hotplugged != NULL && i < self->hotplugged->len; i++)
    {
      HvkQemuRecord *record = self->hotplugged->pdata[i];

      found.reason = unmigratable_reason (record->kind, NULL, record->driver);
      found.id = record->id;
    }
  if (found.reason != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "cannot %s VM '%s': device '%s': %s", operation, self->id,
                   found.id, found.reason);
      return FALSE;
    }
  return TRUE;
}

/* A VM launched again from its configuration alone (a template's
 * clones, a restore) must not have changed since its boot. */
static gboolean
check_as_booted (HvkQemuHypervisor *self,
                 const char        *operation,
                 const char        *as,
                 const char        *whose,
                 GError           **error)
{
  if (self->hotplugged->len > 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "cannot %s VM '%s'%s%s: device '%s' was hot-plugged, and %s start "
                   "with the configuration's devices only", operation, self->id,
                   as != NULL ? " " : "", as != NULL ? as : "",
                   ((HvkQemuRecord *) self->hotplugged->pdata[0])->id, whose);
      return FALSE;
    }
  if (self->layout != NULL
      && (self->vcpus != self->layout->boot_vcpus || self->memory_mb != self->layout->boot_memory_mb))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "cannot %s VM '%s'%s%s: it was resized (%u vCPUs, %u MiB; %s start "
                   "with %u and %u MiB)", operation, self->id,
                   as != NULL ? " " : "", as != NULL ? as : "", self->vcpus, self->memory_mb,
                   whose, self->layout->boot_vcpus, self->layout->boot_memory_mb);
      return FALSE;
    }
  return TRUE;
}

/* ---- save (templating) ---- */

gboolean
hvk_qemu_vm_save (HvkHypervisor  *hypervisor,
                  GCancellable   *cancellable,
                  GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(JsonObject) migrate_args = json_object_new ();
  const char *state_path;

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
  if (!hvk_qemu_vm_check_migratable (self, "save", error))
    return FALSE;
  /* A clone is launched from the configuration alone: a template that
   * changed since its boot would not match its clones' devices. */
  if (!check_as_booted (self, "save", "as a template", "its clones", error))
    return FALSE;

  /* Kata's SaveVM follows a pause: the RAM file and the device state
   * then describe the same instant. */
  if (self->state == HVK_VM_STATE_RUNNING)
    {
      if (!hvk_qemu_vm_qmp_run (self, "stop", NULL, cancellable, error))
        return FALSE;
      self->state = HVK_VM_STATE_PAUSED;
    }
  if (!set_ignore_shared (self, TRUE, cancellable, error))
    return FALSE;
  if (!pass_file (self, state_path, O_WRONLY | O_CREAT | O_TRUNC, "save", cancellable, error))
    return FALSE;

  json_object_set_string_member (migrate_args, "uri", "fd:" MIGRATION_FD_NAME);
  if (!hvk_qemu_vm_qmp_run (self, "migrate", migrate_args, cancellable, error))
    return FALSE;
  if (!wait_migration (self, "saving", state_path, MIGRATION_TIMEOUT_MS, cancellable, error))
    return FALSE;
  /* After migration QEMU is paused (postmigrate). */
  self->state = HVK_VM_STATE_PAUSED;
  return TRUE;
}

/* ---- boot from a template ---- */

gboolean
hvk_qemu_vm_check_template_files (HvkQemuHypervisor *self,
                                  GError           **error)
{
  const HvkQemuSettings *settings = hvk_qemu_vm_settings (self);
  const char *keys[] = { "memory_path", "devices_state_path" };
  const char *paths[] = { settings->memory_path, settings->devices_state_path };

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      if (paths[i] == NULL)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                       "%s: [%s] %s: needed to boot VM '%s' from a template",
                       hvk_config_get_source (self->config) ? hvk_config_get_source (self->config) : "configuration",
                       hvk_config_get_group (self->config), keys[i], self->id);
          return FALSE;
        }
      if (access (paths[i], R_OK) != 0)
        {
          int saved = errno;
          g_set_error (error, HVK_ERROR, saved == ENOENT ? HVK_ERROR_NOT_FOUND : HVK_ERROR_FAILED,
                       "cannot start VM '%s' from its template: %s %s: %s (save a template "
                       "first: `hvkit template ID` of a VM booted with boot_to_be_template=true)",
                       self->id, keys[i], paths[i], g_strerror (saved));
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
hvk_qemu_vm_load_template (HvkQemuHypervisor *self,
                           gint64             deadline,
                           GCancellable      *cancellable,
                           GError           **error)
{
  g_autoptr(JsonObject) incoming_args = json_object_new ();
  const char *state_path = hvk_qemu_vm_settings (self)->devices_state_path;
  gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;
  guint timeout_ms = (guint) CLAMP (left_ms, 1000, MIGRATION_TIMEOUT_MS);

  if (!hvk_qemu_vm_check_template_files (self, error))
    return FALSE;
  if (!set_ignore_shared (self, TRUE, cancellable, error))
    return FALSE;
  if (!pass_file (self, state_path, O_RDONLY, "load the device state of", cancellable, error))
    return FALSE;
  json_object_set_string_member (incoming_args, "uri", "fd:" MIGRATION_FD_NAME);
  if (!hvk_qemu_vm_qmp_run (self, "migrate-incoming", incoming_args, cancellable, error))
    return FALSE;
  if (!wait_migration (self, "loading the template state into", state_path, timeout_ms,
                       cancellable, error))
    return FALSE;
  /* Incoming with -S leaves the guest paused: run it. */
  if (!hvk_qemu_vm_qmp_run (self, "cont", NULL, cancellable, error))
    return FALSE;
  return TRUE;
}

/* ---- save to a directory, restore from it ---- */

#define SAVED_STATE_NAME "qemu-state"
/* The stream goes as fast as the disk takes it (QEMU 7.2's default is
 * 128 MiB/s). */
#define SAVE_MAX_BANDWIDTH (G_GINT64_CONSTANT (64) << 30)

gboolean
hvk_qemu_vm_save_to_dir (HvkHypervisor  *hypervisor,
                         const char     *dir,
                         GCancellable   *cancellable,
                         GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(JsonObject) params = json_object_new ();
  g_autoptr(JsonObject) migrate_args = json_object_new ();
  g_autofree char *path = g_build_filename (dir, SAVED_STATE_NAME, NULL);
  gboolean was_running = self->state == HVK_VM_STATE_RUNNING;
  gboolean ok;

  if (!hvk_qemu_vm_check_state (self, "save", S (RUNNING) | S (PAUSED), error))
    return FALSE;
  if (hvk_qemu_vm_settings (self)->boot_to_be_template)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "cannot save VM '%s' to a directory: it boots to be a template (its RAM is "
                   "the shared memory_path): save it with `hvkit template`", self->id);
      return FALSE;
    }
  if (!hvk_qemu_vm_check_migratable (self, "save", error)
      || !hvk_qemu_vm_check_restorable (self, error))
    return FALSE;

  if (was_running)
    {
      if (!hvk_qemu_vm_qmp_run (self, "stop", NULL, cancellable, error))
        return FALSE;
      self->state = HVK_VM_STATE_PAUSED;
    }
  json_object_set_int_member (params, "max-bandwidth", SAVE_MAX_BANDWIDTH);
  json_object_set_string_member (migrate_args, "uri", "fd:" MIGRATION_FD_NAME);
  ok = set_ignore_shared (self, FALSE, cancellable, error)
       && hvk_qemu_vm_qmp_run (self, "migrate-set-parameters", params, cancellable, error)
       && pass_file (self, path, O_WRONLY | O_CREAT | O_TRUNC, "save", cancellable, error)
       && hvk_qemu_vm_qmp_run (self, "migrate", migrate_args, cancellable, error)
       && wait_migration (self, "saving", path, MIGRATION_TIMEOUT_MS, cancellable, error)
       && hvk_qemu_vm_write_saved_devices (self, dir, cancellable, error);
  if (!ok)
    {
      g_autofree char *devices = g_build_filename (dir, HVK_QEMU_SAVED_DEVICES_NAME, NULL);

      unlink (path);
      unlink (devices);
    }

  /* Left as it was: a running guest runs on (QEMU takes its disks back). */
  if (was_running)
    {
      g_autoptr(GError) cont_error = NULL;

      if (hvk_qemu_vm_qmp_run (self, "cont", NULL, cancellable, ok ? error : &cont_error))
        self->state = HVK_VM_STATE_RUNNING;
      else if (ok)
        return FALSE;
    }
  return ok;
}

gboolean
hvk_qemu_vm_restore_from_dir (HvkHypervisor  *hypervisor,
                              const char     *dir,
                              gboolean        paused,
                              guint           timeout_ms,
                              GCancellable   *cancellable,
                              GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autofree char *path = g_build_filename (dir, SAVED_STATE_NAME, NULL);
  g_autoptr(GPtrArray) hotplugged = NULL;
  guint32 vcpus = 0, memory_mb = 0;
  gboolean ok;

  if (!hvk_qemu_vm_check_state (self, "restore", S (CREATED), error))
    return FALSE;
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "cannot restore VM '%s': %s has no %s (not saved by backend '%s')",
                   self->id, dir, SAVED_STATE_NAME, HVK_QEMU_BACKEND_NAME);
      return FALSE;
    }
  if (self->cmdline == NULL && !hvk_qemu_vm_build_cmdline (self, error))
    return FALSE;
  /* The devices hot-plugged into the saved VM, cold-plugged where they
   * were (libvirt's way: the stream needs the same device set). */
  if (!hvk_qemu_vm_read_saved_devices (self, dir, &hotplugged, &vcpus, &memory_mb, error))
    return FALSE;
  /* The guest waits for its state instead of booting (a clone's command
   * line has it already). */
  if (!hvk_qemu_vm_settings (self)->boot_from_template)
    {
      if (!hvk_cmdline_add_args (self->cmdline, error, "-S", "-incoming", "defer", NULL))
        return FALSE;
      g_strfreev (self->argv);
      self->argv = g_strdupv ((char **) hvk_cmdline_get_argv (self->cmdline));
    }

  g_free (self->restore_dir);
  self->restore_dir = g_strdup (dir);
  self->restore_paused = paused;
  /* The restored VM has them hot-plugged (a failed start forgets them). */
  if (hotplugged != NULL)
    {
      g_ptr_array_unref (self->hotplugged);
      self->hotplugged = g_steal_pointer (&hotplugged);
      self->vcpus = vcpus;
      self->memory_mb = memory_mb;
      /* New DIMMs take names after the restored ones. */
      for (guint i = 0; i < self->hotplugged->len; i++)
        {
          HvkQemuRecord *record = self->hotplugged->pdata[i];
          guint n;
          int end = -1;

          if (sscanf (record->id, "dimm%u%n", &n, &end) == 1 && end >= 0 && record->id[end] == '\0'
              && n >= self->next_dimm)
            self->next_dimm = n + 1;
        }
    }
  ok = hvk_qemu_vm_start (hypervisor, timeout_ms, cancellable, error);
  g_clear_pointer (&self->restore_dir, g_free);
  return ok;
}

gboolean
hvk_qemu_vm_load_saved (HvkQemuHypervisor *self,
                        GCancellable      *cancellable,
                        GError           **error)
{
  g_autoptr(JsonObject) incoming_args = json_object_new ();
  g_autofree char *path = g_build_filename (self->restore_dir, SAVED_STATE_NAME, NULL);

  json_object_set_string_member (incoming_args, "uri", "fd:" MIGRATION_FD_NAME);
  if (!set_ignore_shared (self, FALSE, cancellable, error)
      || !pass_file (self, path, O_RDONLY, "restore", cancellable, error)
      || !hvk_qemu_vm_qmp_run (self, "migrate-incoming", incoming_args, cancellable, error)
      || !wait_migration (self, "restoring", path, MIGRATION_TIMEOUT_MS, cancellable, error))
    return FALSE;
  if (!self->restore_paused && !hvk_qemu_vm_qmp_run (self, "cont", NULL, cancellable, error))
    return FALSE;
  return TRUE;
}
