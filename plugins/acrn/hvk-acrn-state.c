/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-acrn-hypervisor-private.h"

/* What another process needs to take an ACRN VM over: the core's record
 * (acrn-dm's pid and start time, the store and console paths, the launch
 * command) and the private part, what only this backend needs. */

JsonNode *
hvk_acrn_hypervisor_save_private (HvkHypervisor *hypervisor,
                                  HvkVmRecord   *record)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (hypervisor);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  GHashTableIter iter;
  gpointer key, value;

#define ADD_STRING(name, value) \
  G_STMT_START { \
    json_builder_set_member_name (builder, name); \
    if ((value) != NULL) json_builder_add_string_value (builder, value); \
    else json_builder_add_null_value (builder); \
  } G_STMT_END

  hvk_vm_record_set_state (record, self->state);
  hvk_vm_record_add_process (record, "acrn-dm", self->pid, self->start_time);
  hvk_vm_record_add_path (record, "store", self->store);
  hvk_vm_record_add_path (record, "console", self->console_path);
  hvk_vm_record_set_launch (record, (const char * const *) self->argv,
                            self->kernel_cmdline, NULL);

  json_builder_begin_object (builder);
  ADD_STRING ("vm_name", self->vm_name);
  ADD_STRING ("path", self->acrn_path);
  ADD_STRING ("ctlpath", self->ctl_path);
  ADD_STRING ("apic_id", self->apic_id);
  ADD_STRING ("image", self->image_path);
  json_builder_set_member_name (builder, "memory_mb");
  json_builder_add_int_value (builder, self->memory_mb);

  json_builder_set_member_name (builder, "blk_slots");
  json_builder_begin_array (builder);
  for (guint i = 0; self->layout != NULL && i < G_N_ELEMENTS (self->layout->blk_slots); i++)
    json_builder_add_int_value (builder, self->layout->blk_slots[i]);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "hotplugged");
  json_builder_begin_object (builder);
  g_hash_table_iter_init (&iter, self->hotplugged);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      json_builder_set_member_name (builder, key);
      json_builder_add_int_value (builder, GPOINTER_TO_INT (value));
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);

#undef ADD_STRING

  return json_builder_get_root (builder);
}

static gboolean
state_error (const char  *member,
             GError     **error)
{
  g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
               "Backend '%s' state: member '%s' is missing or of the wrong type",
               HVK_ACRN_BACKEND_NAME, member);
  return FALSE;
}

/* What a typed reader refused, as the backend says it. */
static gboolean
state_reader_error (GError **error)
{
  g_prefix_error (error, "Backend '%s' state: ", HVK_ACRN_BACKEND_NAME);
  return FALSE;
}

gboolean
hvk_acrn_hypervisor_load_private (HvkHypervisor  *hypervisor,
                                  HvkVmRecord    *record,
                                  JsonNode       *private_state,
                                  GError        **error)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (hypervisor);
  g_autoptr(HvkAcrnLayout) layout = hvk_acrn_layout_new ();
  g_autoptr(GHashTable) hotplugged = NULL;
  g_autofree char *vm_name = NULL, *acrn_path = NULL, *ctl_path = NULL;
  g_autofree char *apic_id = NULL, *image_path = NULL;
  const char *id = hvk_vm_record_get_id (record);
  const char *store = hvk_vm_record_get_path (record, "store");
  const char *console = hvk_vm_record_get_path (record, "console");
  const char * const *argv = hvk_vm_record_get_argv (record);
  JsonObject *object, *hp;
  JsonArray *array;
  int pid;
  guint64 start_time;
  gint64 memory_mb;

  if (!JSON_NODE_HOLDS_OBJECT (private_state))
    return state_error ("(root)", error);
  object = json_node_get_object (private_state);

  /* What the core keeps for every backend, and ACRN cannot do without. */
  if (id == NULL)
    return state_error ("id", error);
  if (store == NULL)
    return state_error ("store", error);
  if (console == NULL)
    return state_error ("console", error);
  if (argv == NULL)
    return state_error ("argv", error);
  if (!hvk_vm_record_get_process (record, "acrn-dm", &pid, &start_time))
    return state_error ("pid", error);

  if (!hvk_json_dup_string (object, "vm_name", TRUE, &vm_name, error)
      || !hvk_json_dup_string (object, "path", TRUE, &acrn_path, error)
      || !hvk_json_dup_string (object, "ctlpath", TRUE, &ctl_path, error)
      || !hvk_json_dup_string (object, "apic_id", FALSE, &apic_id, error)
      || !hvk_json_dup_string (object, "image", FALSE, &image_path, error)
      || !hvk_json_get_int (object, "memory_mb", TRUE, 0, G_MAXUINT32, &memory_mb, error)
      || !hvk_json_get_array (object, "blk_slots", TRUE, &array, error)
      || !hvk_json_get_object (object, "hotplugged", TRUE, &hp, error))
    return state_reader_error (error);

  if (json_array_get_length (array) != G_N_ELEMENTS (layout->blk_slots))
    return state_error ("blk_slots", error);
  for (guint i = 0; i < G_N_ELEMENTS (layout->blk_slots); i++)
    {
      JsonNode *slot = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (slot) || json_node_get_value_type (slot) != G_TYPE_INT64
          || json_node_get_int (slot) < -1 || json_node_get_int (slot) > HVK_ACRN_MAX_SLOT)
        return state_error ("blk_slots", error);
      layout->blk_slots[i] = (int) json_node_get_int (slot);
    }

  hotplugged = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  {
    g_autoptr(GList) members = json_object_get_members (hp);
    for (GList *l = members; l != NULL; l = l->next)
      {
        gint64 index;

        if (!hvk_json_get_int (hp, l->data, TRUE, 1, HVK_ACRN_BLK_POOL_SIZE, &index, NULL))
          return state_error ("hotplugged", error);
        g_hash_table_insert (hotplugged, g_strdup (l->data), GINT_TO_POINTER ((int) index));
      }
  }

  g_set_object (&self->config, hvk_vm_record_get_config (record));
  if (self->config != NULL)
    hvk_config_set_vm_store_path (self->config, store);
  g_free (self->id);
  self->id = g_strdup (id);
  g_free (self->store);
  self->store = g_strdup (store);
  g_free (self->vm_name);
  self->vm_name = g_steal_pointer (&vm_name);
  g_free (self->acrn_path);
  self->acrn_path = g_steal_pointer (&acrn_path);
  g_free (self->ctl_path);
  self->ctl_path = g_steal_pointer (&ctl_path);
  g_free (self->console_path);
  self->console_path = g_strdup (console);
  g_free (self->apic_id);
  self->apic_id = g_steal_pointer (&apic_id);
  g_free (self->image_path);
  self->image_path = g_steal_pointer (&image_path);
  g_free (self->kernel_cmdline);
  self->kernel_cmdline = g_strdup (hvk_vm_record_get_kernel_cmdline (record));
  g_strfreev (self->argv);
  self->argv = g_strdupv ((GStrv) argv);
  hvk_acrn_layout_free (self->layout);
  self->layout = g_steal_pointer (&layout);
  g_hash_table_unref (self->hotplugged);
  self->hotplugged = g_steal_pointer (&hotplugged);
  self->memory_mb = (guint32) memory_mb;
  self->pid = (GPid) pid;
  self->start_time = start_time;
  self->exit_status = -1;
  self->state = hvk_vm_record_get_state (record);
  return TRUE;
}
