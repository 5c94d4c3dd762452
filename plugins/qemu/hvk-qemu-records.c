/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "hvk-qemu-records.h"

/* The hot-plug records, and their one conversion to and from the saved
 * state (libvirt keeps a domain's live devices as structs, not as the
 * text it saves). */

HvkQemuRecord *
hvk_qemu_record_new (const char *id,
                     const char *kind,
                     const char *driver)
{
  HvkQemuRecord *record = g_new0 (HvkQemuRecord, 1);

  record->id = g_strdup (id);
  record->kind = g_strdup (kind);
  record->driver = g_strdup (driver);
  record->addr = -1;
  record->slot = -1;
  return record;
}

void
hvk_qemu_record_free (HvkQemuRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->id);
  g_free (record->kind);
  g_free (record->driver);
  g_free (record->bus);
  g_free (record->node);
  g_free (record->path);
  g_free (record->netdev);
  g_free (record->memdev);
  g_free (record->throttle_group);
  g_clear_pointer (&record->device, json_node_unref);
  g_free (record);
}

void
hvk_qemu_record_set_bus (HvkQemuRecord *record,
                         const char    *bus,
                         int            addr)
{
  g_free (record->bus);
  record->bus = g_strdup (bus);
  record->addr = addr;
  record->has_addr = TRUE;
}

GPtrArray *
hvk_qemu_records_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) hvk_qemu_record_free);
}

static gboolean
find (GPtrArray  *records,
      const char *id,
      guint      *index)
{
  for (guint i = 0; i < records->len; i++)
    {
      HvkQemuRecord *record = g_ptr_array_index (records, i);

      if (g_strcmp0 (record->id, id) == 0)
        {
          *index = i;
          return TRUE;
        }
    }
  return FALSE;
}

HvkQemuRecord *
hvk_qemu_records_lookup (GPtrArray  *records,
                         const char *id)
{
  guint index;

  return find (records, id, &index) ? g_ptr_array_index (records, index) : NULL;
}

/* Takes @record; one with the same id is replaced in its place. */
void
hvk_qemu_records_add (GPtrArray     *records,
                      HvkQemuRecord *record)
{
  guint index;

  if (find (records, record->id, &index))
    {
      hvk_qemu_record_free (g_ptr_array_index (records, index));
      g_ptr_array_index (records, index) = record;
    }
  else
    g_ptr_array_add (records, record);
}

gboolean
hvk_qemu_records_remove (GPtrArray  *records,
                         const char *id)
{
  guint index;

  if (!find (records, id, &index))
    return FALSE;
  g_ptr_array_remove_index (records, index);
  return TRUE;
}

/* The ids of the records of @kind, oldest first. */
GPtrArray *
hvk_qemu_records_ids_of_kind (GPtrArray  *records,
                              const char *kind)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < records->len; i++)
    {
      HvkQemuRecord *record = g_ptr_array_index (records, i);

      if (g_strcmp0 (record->kind, kind) == 0)
        g_ptr_array_add (ids, g_strdup (record->id));
    }
  return ids;
}

static void
add_string (JsonBuilder *builder,
            const char  *name,
            const char  *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

static void
add_int (JsonBuilder *builder,
         const char  *name,
         gint64       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

JsonNode *
hvk_qemu_records_to_json (GPtrArray *records)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  for (guint i = 0; i < records->len; i++)
    {
      HvkQemuRecord *record = g_ptr_array_index (records, i);

      json_builder_set_member_name (builder, record->id);
      json_builder_begin_object (builder);
      add_string (builder, "kind", record->kind);
      add_string (builder, "driver", record->driver);
      add_string (builder, "bus", record->bus);
      if (record->has_addr)
        add_int (builder, "addr", record->addr);
      add_string (builder, "node", record->node);
      add_string (builder, "path", record->path);
      add_string (builder, "netdev", record->netdev);
      add_string (builder, "memdev", record->memdev);
      add_string (builder, "throttle_group", record->throttle_group);
      if (record->has_size_mb)
        add_int (builder, "size_mb", record->size_mb);
      if (record->has_slot)
        add_int (builder, "slot", record->slot);
      if (record->unplug_pending)
        {
          json_builder_set_member_name (builder, "unplug_pending");
          json_builder_add_boolean_value (builder, TRUE);
        }
      if (record->device != NULL)
        {
          json_builder_set_member_name (builder, "device");
          json_builder_add_value (builder, json_node_copy (record->device));
        }
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static HvkQemuRecord *
record_from_json (const char  *id,
                  JsonObject  *object,
                  GError     **error)
{
  g_autoptr(HvkQemuRecord) record = hvk_qemu_record_new (id, NULL, NULL);
  JsonNode *device;
  gint64 value;

  if (!hvk_json_dup_string (object, "kind", FALSE, &record->kind, error)
      || !hvk_json_dup_string (object, "driver", FALSE, &record->driver, error)
      || !hvk_json_dup_string (object, "bus", FALSE, &record->bus, error)
      || !hvk_json_dup_string (object, "node", FALSE, &record->node, error)
      || !hvk_json_dup_string (object, "path", FALSE, &record->path, error)
      || !hvk_json_dup_string (object, "netdev", FALSE, &record->netdev, error)
      || !hvk_json_dup_string (object, "memdev", FALSE, &record->memdev, error)
      || !hvk_json_dup_string (object, "throttle_group", FALSE, &record->throttle_group, error)
      || !hvk_json_get_bool (object, "unplug_pending", FALSE, &record->unplug_pending, error))
    return NULL;

  record->has_addr = json_object_has_member (object, "addr");
  if (!hvk_json_get_int (object, "addr", FALSE, -1, G_MAXINT, &value, error))
    return NULL;
  record->addr = record->has_addr ? (int) value : -1;
  record->has_size_mb = json_object_has_member (object, "size_mb");
  if (!hvk_json_get_int (object, "size_mb", FALSE, 0, G_MAXUINT32, &value, error))
    return NULL;
  record->size_mb = (guint32) value;
  record->has_slot = json_object_has_member (object, "slot");
  if (!hvk_json_get_int (object, "slot", FALSE, -1, G_MAXINT, &value, error))
    return NULL;
  record->slot = record->has_slot ? value : -1;

  /* Read back by hvk_device_new_from_json(), which checks it. */
  device = json_object_get_member (object, "device");
  if (device != NULL && !JSON_NODE_HOLDS_NULL (device))
    record->device = json_node_copy (device);
  return g_steal_pointer (&record);
}

GPtrArray *
hvk_qemu_records_from_json (JsonObject  *object,
                            GError     **error)
{
  g_autoptr(GPtrArray) records = hvk_qemu_records_new ();
  g_autoptr(GList) members = json_object_get_members (object);

  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonObject *member;
      HvkQemuRecord *record;

      if (!hvk_json_get_object (object, l->data, TRUE, &member, error))
        return NULL;
      record = record_from_json (l->data, member, error);
      if (record == NULL)
        {
          g_prefix_error (error, "hot-plugged device '%s': ", (const char *) l->data);
          return NULL;
        }
      g_ptr_array_add (records, record);
    }
  return g_steal_pointer (&records);
}
