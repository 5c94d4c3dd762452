/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-qemu-build.h"

/* HvkQemuLayout and the backend's capabilities: the small data shared by
 * the command-line builder and the lifecycle.  (hvk_qemu_paths_clear() is
 * in hvk-qemu-hypervisor.c, next to the code that fills the paths.) */

HvkQemuLayout *
hvk_qemu_layout_new (void)
{
  HvkQemuLayout *layout = g_new0 (HvkQemuLayout, 1);

  layout->bridges = g_ptr_array_new_with_free_func (g_free);
  layout->root_ports = g_ptr_array_new_with_free_func (g_free);
  layout->cold_slots = g_ptr_array_new_with_free_func (g_free);
  return layout;
}

void
hvk_qemu_layout_free (HvkQemuLayout *layout)
{
  if (layout == NULL)
    return;
  g_clear_pointer (&layout->bridges, g_ptr_array_unref);
  g_clear_pointer (&layout->root_ports, g_ptr_array_unref);
  g_clear_pointer (&layout->cold_slots, g_ptr_array_unref);
  g_free (layout->scsi_controller);
  g_free (layout->iothread);
  g_free (layout);
}

void
hvk_qemu_layout_add_cold_slot (HvkQemuLayout *layout,
                               const char    *bus,
                               gint64         addr)
{
  g_return_if_fail (layout != NULL && bus != NULL);

  if (layout->cold_slots == NULL)
    layout->cold_slots = g_ptr_array_new_with_free_func (g_free);
  if (addr >= 0)
    g_ptr_array_add (layout->cold_slots, g_strdup_printf ("%s:%" G_GINT64_FORMAT, bus, addr));
  else
    g_ptr_array_add (layout->cold_slots, g_strdup (bus));
}

static void
add_string_array (JsonBuilder *builder,
                  const char  *name,
                  GPtrArray   *array)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; array != NULL && i < array->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (array, i));
  json_builder_end_array (builder);
}

static void
add_nullable_string (JsonBuilder *builder,
                     const char  *name,
                     const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

/* Member names of the layout JSON; part of the state file format. */
static const struct {
  const char *name;
  gsize       offset;
} layout_uints[] = {
  { "max_vcpus", G_STRUCT_OFFSET (HvkQemuLayout, max_vcpus) },
  { "boot_vcpus", G_STRUCT_OFFSET (HvkQemuLayout, boot_vcpus) },
  { "boot_memory_mb", G_STRUCT_OFFSET (HvkQemuLayout, boot_memory_mb) },
  { "max_memory_mb", G_STRUCT_OFFSET (HvkQemuLayout, max_memory_mb) },
  { "memory_slots", G_STRUCT_OFFSET (HvkQemuLayout, memory_slots) },
  { "virtio_mem_mb", G_STRUCT_OFFSET (HvkQemuLayout, virtio_mem_mb) },
  { "numa_nodes", G_STRUCT_OFFSET (HvkQemuLayout, numa_nodes) },
};

JsonNode *
hvk_qemu_layout_to_json (HvkQemuLayout *layout)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (layout != NULL, NULL);

  json_builder_begin_object (builder);
  add_string_array (builder, "bridges", layout->bridges);
  add_string_array (builder, "root_ports", layout->root_ports);
  if (layout->cold_slots != NULL)
    add_string_array (builder, "cold_slots", layout->cold_slots);
  add_nullable_string (builder, "scsi_controller", layout->scsi_controller);
  add_nullable_string (builder, "iothread", layout->iothread);
  json_builder_set_member_name (builder, "pcie");
  json_builder_add_boolean_value (builder, layout->pcie);
  for (gsize i = 0; i < G_N_ELEMENTS (layout_uints); i++)
    {
      json_builder_set_member_name (builder, layout_uints[i].name);
      json_builder_add_int_value (builder,
                                  G_STRUCT_MEMBER (guint32, layout, layout_uints[i].offset));
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* What a typed reader refused, as the layout says it. */
static HvkQemuLayout *
layout_error (GError  *local_error,
              GError **error)
{
  g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
               "qemu layout: %s", local_error->message);
  g_error_free (local_error);
  return NULL;
}

static gboolean
read_string_array (JsonObject  *object,
                   const char  *name,
                   GPtrArray   *out,
                   GError     **error)
{
  g_auto(GStrv) strings = NULL;

  if (!hvk_json_get_strv (object, name, FALSE, &strings, error))
    return FALSE;
  for (guint i = 0; strings != NULL && strings[i] != NULL; i++)
    g_ptr_array_add (out, g_strdup (strings[i]));
  return TRUE;
}

HvkQemuLayout *
hvk_qemu_layout_from_json (JsonNode  *node,
                           GError   **error)
{
  g_autoptr(HvkQemuLayout) layout = hvk_qemu_layout_new ();
  GError *local_error = NULL;
  JsonObject *object;

  g_return_val_if_fail (node != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "qemu layout: not a JSON object");
      return NULL;
    }
  object = json_node_get_object (node);
  /* A layout saved before hvkit recorded the cold places says nothing
   * about them: NULL, not empty, so that hotplug works them out. */
  if (!json_object_has_member (object, "cold_slots"))
    g_clear_pointer (&layout->cold_slots, g_ptr_array_unref);

  if (!read_string_array (object, "bridges", layout->bridges, &local_error) ||
      !read_string_array (object, "root_ports", layout->root_ports, &local_error) ||
      (layout->cold_slots != NULL
       && !read_string_array (object, "cold_slots", layout->cold_slots, &local_error)) ||
      !hvk_json_dup_string (object, "scsi_controller", FALSE, &layout->scsi_controller, &local_error) ||
      !hvk_json_dup_string (object, "iothread", FALSE, &layout->iothread, &local_error) ||
      !hvk_json_get_bool (object, "pcie", FALSE, &layout->pcie, &local_error))
    return layout_error (local_error, error);

  for (gsize i = 0; i < G_N_ELEMENTS (layout_uints); i++)
    {
      gint64 value;

      if (!json_object_has_member (object, layout_uints[i].name))
        continue;
      if (!hvk_json_get_int (object, layout_uints[i].name, TRUE, 0, G_MAXUINT32,
                             &value, &local_error))
        return layout_error (local_error, error);
      G_STRUCT_MEMBER (guint32, layout, layout_uints[i].offset) = (guint32) value;
    }

  return g_steal_pointer (&layout);
}

HvkCapabilities
hvk_qemu_capabilities_for_settings (const HvkQemuSettings *settings)
{
  /* Kata ≥ 3.3's qemuArchBase capabilities, plus what this backend's
   * lifecycle implements. */
  HvkCapabilities caps = HVK_CAP_BLOCK_DEVICE |
                         HVK_CAP_BLOCK_DEVICE_HOTPLUG |
                         HVK_CAP_MULTI_QUEUE |
                         HVK_CAP_NET_DEVICE_HOTPLUG |
                         HVK_CAP_FS_SHARING |
                         HVK_CAP_PAUSE_RESUME |
                         HVK_CAP_VCPU_RESIZE |
                         HVK_CAP_MEMORY_RESIZE |
                         HVK_CAP_SAVE_RESTORE |
                         HVK_CAP_VSOCK |
                         HVK_CAP_VFIO;

  if (settings != NULL && g_strcmp0 (settings->shared_fs, "none") == 0)
    caps &= ~HVK_CAP_FS_SHARING;
  /* Both halves work: save_to_dir and restore_from_dir (a template:
   * save_vm and its clones' start), but not with vhost-user-fs, which
   * QEMU 7.2 cannot migrate (other devices are checked when it saves). */
  if (settings != NULL && g_strcmp0 (settings->shared_fs, "virtio-fs") == 0)
    caps &= ~HVK_CAP_SAVE_RESTORE;
  return caps;
}

HvkCapabilities
hvk_qemu_capabilities_for_config (HvkConfig *config)
{
  g_autoptr(HvkQemuSettings) settings = config != NULL ? hvk_qemu_settings_new (config) : NULL;

  return hvk_qemu_capabilities_for_settings (settings);
}
