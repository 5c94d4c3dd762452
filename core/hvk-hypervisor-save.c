/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

#include "hvk-hypervisor-private.h"
#include "hvk-vm-record-private.h"

/* Saving a running VM to a directory and restoring it: the wrappers and
 * the manifest (HVK_SAVE_DIR_MANIFEST) they write and read around the
 * backend's state files. */

#define SAVE_FORMAT "hvkit-save"

static char *
manifest_path (const char *dir)
{
  return g_build_filename (dir, HVK_SAVE_DIR_MANIFEST, NULL);
}

/* The I/O limits each disk and interface has now (a live change since
 * the start included), by device id, where the backend tells them: the
 * restore gives them back (apply_io_limits()). */
static void
add_io_limits (JsonBuilder   *builder,
               HvkHypervisor *self,
               GPtrArray     *lists[3])
{
  if (HVK_HYPERVISOR_GET_IFACE (self)->get_io_limits == NULL)
    return;
  json_builder_set_member_name (builder, "io_limits");
  json_builder_begin_object (builder);
  for (guint l = 0; l < 3; l++)
    for (guint i = 0; lists[l] != NULL && i < lists[l]->len; i++)
      {
        HvkDevice *device = g_ptr_array_index (lists[l], i);
        const char *kind = hvk_device_get_kind_name (device);
        HvkIoLimits limits = { 0 };

        if ((!g_str_equal (kind, HVK_DEVICE_KIND_BLOCK) && !g_str_equal (kind, HVK_DEVICE_KIND_NET))
            || !hvk_hypervisor_get_io_limits (self, hvk_device_get_id (device), &limits, NULL))
          continue;
        {
          g_autoptr(JsonObject) object = hvk_io_limits_to_json (&limits, kind);

          json_builder_set_member_name (builder, hvk_device_get_id (device));
          json_builder_add_value (builder, json_node_init_object (json_node_alloc (), object));
        }
      }
  json_builder_end_object (builder);
}

/* Gives each device the limits the manifest keeps for it (a live change
 * before the save), where they differ from what the restored VM has. */
static gboolean
apply_io_limits (HvkHypervisor *self,
                 JsonObject    *manifest,
                 const char    *dir,
                 GCancellable  *cancellable,
                 GError       **error)
{
  JsonObject *all = NULL;
  g_autoptr(GList) ids = NULL;

  if (!hvk_json_get_object (manifest, "io_limits", FALSE, &all, error))
    {
      g_prefix_error (error, "%s: ", dir);
      return FALSE;
    }
  ids = all != NULL ? json_object_get_members (all) : NULL;
  for (GList *l = ids; l != NULL; l = l->next)
    {
      const char *id = l->data;
      JsonObject *saved = NULL;
      HvkIoLimits limits = { 0 }, now = { 0 };

      if (!hvk_json_get_object (all, id, TRUE, &saved, error))
        {
          g_prefix_error (error, "%s: io_limits: ", dir);
          return FALSE;
        }
      for (guint f = 0; f < HVK_IO_LIMITS_N_FIELDS; f++)
        {
          gint64 value = 0;

          if (!hvk_json_get_int (saved, hvk_io_limits_prop_name (f), FALSE, 0,
                                 (gint64) HVK_IO_LIMITS_MAX_BYTES * 8, &value, error))
            {
              g_prefix_error (error, "%s: io_limits: %s: ", dir, id);
              return FALSE;
            }
          hvk_io_limits_set_field (&limits, f, (guint64) value);
        }
      /* A device the restored VM has not (the backend's restore decides
       * what it brings back), or one with these limits already. */
      if (!hvk_hypervisor_get_io_limits (self, id, &now, NULL)
          || memcmp (&now, &limits, sizeof limits) == 0)
        continue;
      if (!hvk_hypervisor_set_io_limits (self, id, &limits, cancellable, error))
        {
          g_prefix_error (error, "restoring the I/O limits of '%s': ", id);
          return FALSE;
        }
    }
  return TRUE;
}

static JsonNode *
build_manifest (HvkHypervisor *self,
                GError       **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(HvkVmRecord) record = NULL;
  g_autoptr(JsonNode) private_state = NULL;
  g_autoptr(GPtrArray) hotplugged = NULL;
  g_autofree char *config_text = NULL;
  HvkConfig *config = hvk_hypervisor_get_config (self);
  const char *id = hvk_hypervisor_get_vm_id (self);
  GPtrArray *cold;

  if (config == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "cannot save VM '%s': backend '%s' gives no configuration",
                   id != NULL ? id : "(none)", hvk_hypervisor_get_backend_name (self));
      return NULL;
    }
  config_text = hvk_config_to_data (config, NULL);
  record = hvk_hypervisor_save_record (self, id, config, &private_state);
  cold = record != NULL ? hvk_vm_record_get_cold_devices (record) : NULL;
  hotplugged = hvk_hypervisor_get_hotplugged_devices (self);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, SAVE_FORMAT);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, HVK_SAVE_DIR_VERSION);
  json_builder_set_member_name (builder, "backend");
  json_builder_add_string_value (builder, hvk_hypervisor_get_backend_name (self));
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id != NULL ? id : "");
  json_builder_set_member_name (builder, "config");
  json_builder_add_string_value (builder, config_text != NULL ? config_text : "");
  json_builder_set_member_name (builder, "cold_devices");
  json_builder_begin_array (builder);
  for (guint i = 0; cold != NULL && i < cold->len; i++)
    json_builder_add_value (builder, hvk_device_to_json (cold->pdata[i]));
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "hotplugged");
  json_builder_begin_array (builder);
  for (guint i = 0; hotplugged != NULL && i < hotplugged->len; i++)
    json_builder_add_value (builder, hvk_device_to_json (hotplugged->pdata[i]));
  json_builder_end_array (builder);
  add_io_limits (builder, self, (GPtrArray *[]) { hvk_config_get_devices (config), cold, hotplugged });
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/**
 * hvk_hypervisor_save_to_dir:
 * @self: a #HvkHypervisor
 * @dir: the directory to save into (created, 0700, if missing)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Saves the running or paused VM into @dir: the backend writes the guest
 * RAM and device state, then the manifest (%HVK_SAVE_DIR_MANIFEST: format
 * version, backend, id, configuration, devices) is written last, so a
 * directory whose save failed holds no manifest.  The VM is left as it
 * was (running or paused).  Saving into a directory again replaces what
 * it held.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_save_to_dir (HvkHypervisor *self,
                            const char    *dir,
                            GCancellable  *cancellable,
                            GError       **error)
{
  HvkHypervisorInterface *iface;
  g_autofree char *manifest = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;

  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (dir != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  iface = HVK_HYPERVISOR_GET_IFACE (self);
  if (iface->save_to_dir == NULL)
    return hvk_hypervisor_not_supported (self, "save_to_dir", error);
  if (!hvk_hypervisor_check_operation (self, HVK_HYPERVISOR_OP_SAVE_TO_DIR, error))
    return FALSE;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot save VM '%s': cannot create %s: %s",
                   hvk_hypervisor_get_vm_id (self), dir, g_strerror (saved));
      return FALSE;
    }
  manifest = manifest_path (dir);
  if (g_unlink (manifest) != 0 && errno != ENOENT)
    {
      int saved = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot save VM '%s': cannot replace %s: %s",
                   hvk_hypervisor_get_vm_id (self), manifest, g_strerror (saved));
      return FALSE;
    }

  if (!iface->save_to_dir (self, dir, cancellable, error))
    return FALSE;

  root = build_manifest (self, error);
  if (root == NULL)
    return FALSE;
  text = json_to_string (root, TRUE);
  if (!g_file_set_contents_full (manifest, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    {
      g_prefix_error (error, "cannot save VM '%s': ", hvk_hypervisor_get_vm_id (self));
      return FALSE;
    }
  return TRUE;
}

/* The manifest of @dir, checked (format, version); NULL with a clear
 * error for a directory that is not a save of this hvkit. */
static JsonObject *
read_manifest (const char *dir,
               GError    **error)
{
  g_autofree char *manifest = manifest_path (dir);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;
  JsonObject *object;
  gint64 version;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND, "%s: no such directory", dir);
      return NULL;
    }
  if (!g_file_test (manifest, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "%s is not a saved VM (no %s: not made by `hvkit save`, or its save did not finish)",
                   dir, HVK_SAVE_DIR_MANIFEST);
      return NULL;
    }
  if (!json_parser_load_from_mapped_file (parser, manifest, &local_error))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT, "%s: not a saved VM's manifest: %s",
                   manifest, local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  object = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  if (object == NULL
      || g_strcmp0 (json_object_get_string_member_with_default (object, "format", NULL), SAVE_FORMAT) != 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "%s: not a saved VM's manifest (no \"format\": \"%s\")", manifest, SAVE_FORMAT);
      return NULL;
    }
  version = json_object_get_int_member_with_default (object, "version", -1);
  if (version != HVK_SAVE_DIR_VERSION)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "%s: format version %" G_GINT64_FORMAT " (this hvkit reads version %d)",
                   manifest, version, HVK_SAVE_DIR_VERSION);
      return NULL;
    }
  if (json_object_get_string_member_with_default (object, "backend", NULL) == NULL
      || json_object_get_string_member_with_default (object, "config", NULL) == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "%s: a saved VM's manifest needs \"backend\" and \"config\"", manifest);
      return NULL;
    }
  return json_object_ref (object);
}

/**
 * hvk_save_dir_load_config:
 * @dir: a directory hvk_hypervisor_save_to_dir() wrote
 * @registry: (nullable): the registry to build the configuration with
 * @saved_id: (out) (optional) (transfer full): the id of the VM saved
 * @cold_devices: (out) (optional) (element-type HvkDevice) (transfer container):
 *   the devices cold-plugged with hvk_hypervisor_add_device() into the
 *   saved VM, to add again to the one restored
 * @error: return location for an error
 *
 * Reads the configuration of the VM saved in @dir, checking that @dir is
 * a save of this hvkit (%HVK_SAVE_DIR_MANIFEST, its format version):
 * create a VM of it, then call hvk_hypervisor_restore_from_dir().
 *
 * Returns: (transfer full): the configuration, or %NULL with @error set
 */
HvkConfig *
hvk_save_dir_load_config (const char  *dir,
                          HvkRegistry *registry,
                          char       **saved_id,
                          GPtrArray  **cold_devices,
                          GError     **error)
{
  g_autoptr(JsonObject) manifest = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *source = NULL;
  JsonArray *cold;

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  manifest = read_manifest (dir, error);
  if (manifest == NULL)
    return NULL;
  source = manifest_path (dir);
  config = hvk_config_new_from_data (json_object_get_string_member (manifest, "config"), -1,
                                     source, registry, error);
  if (config == NULL)
    return NULL;
  if (g_strcmp0 (hvk_config_get_backend (config), json_object_get_string_member (manifest, "backend")) != 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "%s: backend '%s' saved a configuration of backend '%s'", source,
                   json_object_get_string_member (manifest, "backend"), hvk_config_get_backend (config));
      return NULL;
    }
  cold = json_object_has_member (manifest, "cold_devices")
         ? json_object_get_array_member (manifest, "cold_devices") : NULL;
  for (guint i = 0; cold != NULL && i < json_array_get_length (cold); i++)
    {
      HvkDevice *device = hvk_device_new_from_json (registry, json_array_get_element (cold, i), error);

      if (device == NULL)
        {
          g_prefix_error (error, "%s: cold_devices: ", source);
          return NULL;
        }
      g_ptr_array_add (devices, device);
    }
  if (cold_devices != NULL)
    *cold_devices = g_steal_pointer (&devices);
  if (saved_id != NULL)
    *saved_id = g_strdup (json_object_get_string_member_with_default (manifest, "id", ""));
  return g_steal_pointer (&config);
}

/**
 * hvk_hypervisor_restore_from_dir:
 * @self: a #HvkHypervisor, created from hvk_save_dir_load_config()'s
 *   configuration (any id: the saved VM may still run)
 * @dir: a directory hvk_hypervisor_save_to_dir() wrote
 * @paused: leave the restored VM paused
 * @timeout_ms: the bound, 0 for %HVK_DEFAULT_START_TIMEOUT_MS
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Starts the created VM from the state saved in @dir instead of booting
 * it (in place of hvk_hypervisor_start_vm()): the guest goes on where it
 * was saved, running, or paused with @paused.  A directory that is not a
 * save of this backend, or whose state does not load, is an error and
 * nothing is left running.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_hypervisor_restore_from_dir (HvkHypervisor *self,
                                 const char    *dir,
                                 gboolean       paused,
                                 guint          timeout_ms,
                                 GCancellable  *cancellable,
                                 GError       **error)
{
  HvkHypervisorInterface *iface;
  g_autoptr(JsonObject) manifest = NULL;
  const char *backend;
  gboolean with_limits;

  g_return_val_if_fail (HVK_IS_HYPERVISOR (self), FALSE);
  g_return_val_if_fail (dir != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  iface = HVK_HYPERVISOR_GET_IFACE (self);
  if (iface->restore_from_dir == NULL)
    return hvk_hypervisor_not_supported (self, "restore_from_dir", error);
  if (!hvk_hypervisor_check_operation (self, HVK_HYPERVISOR_OP_RESTORE, error))
    return FALSE;
  manifest = read_manifest (dir, error);
  if (manifest == NULL)
    return FALSE;
  backend = json_object_get_string_member (manifest, "backend");
  if (g_strcmp0 (backend, hvk_hypervisor_get_backend_name (self)) != 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "%s holds a VM of backend '%s', not '%s'", dir, backend,
                   hvk_hypervisor_get_backend_name (self));
      return FALSE;
    }
  /* The I/O limits changed live before the save are set again while the
   * restored VM is still paused, so it never runs with the old ones. */
  with_limits = json_object_has_member (manifest, "io_limits") && iface->set_io_limits != NULL;
  if (!iface->restore_from_dir (self, dir, paused || with_limits,
                                timeout_ms != 0 ? timeout_ms : HVK_DEFAULT_START_TIMEOUT_MS,
                                cancellable, error))
    return FALSE;
  if (!with_limits)
    return TRUE;
  if (!apply_io_limits (self, manifest, dir, cancellable, error))
    {
      /* Not a VM with other limits than it had: nothing is left running. */
      hvk_hypervisor_stop_vm (self, FALSE, NULL, NULL);
      return FALSE;
    }
  return paused || hvk_hypervisor_resume_vm (self, cancellable, error);
}
