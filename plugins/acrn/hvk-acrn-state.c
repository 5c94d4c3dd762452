/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-acrn-hypervisor-private.h"

/* What another process needs to take an ACRN VM over: save_state() and
 * load_state(). */

JsonNode *
hvk_acrn_hypervisor_save_state (HvkHypervisor *hypervisor)
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

  json_builder_begin_object (builder);
  ADD_STRING ("state", hvk_vm_state_to_string (self->state));
  ADD_STRING ("id", self->id);
  ADD_STRING ("store", self->store);
  ADD_STRING ("vm_name", self->vm_name);
  ADD_STRING ("path", self->acrn_path);
  ADD_STRING ("ctlpath", self->ctl_path);
  ADD_STRING ("console", self->console_path);
  ADD_STRING ("apic_id", self->apic_id);
  ADD_STRING ("image", self->image_path);
  ADD_STRING ("kernel_cmdline", self->kernel_cmdline);
  /* So another process can save the VM again after load_state(). */
  if (self->config != NULL)
    {
      g_autofree char *config_text = hvk_config_to_data (self->config, NULL);
      ADD_STRING ("config", config_text);
    }
  json_builder_set_member_name (builder, "memory_mb");
  json_builder_add_int_value (builder, self->memory_mb);
  json_builder_set_member_name (builder, "pid");
  json_builder_add_int_value (builder, self->pid);
  json_builder_set_member_name (builder, "start_time");
  json_builder_add_int_value (builder, (gint64) self->start_time);

  json_builder_set_member_name (builder, "argv");
  json_builder_begin_array (builder);
  for (guint i = 0; self->argv != NULL && self->argv[i] != NULL; i++)
    json_builder_add_string_value (builder, self->argv[i]);
  json_builder_end_array (builder);

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
  g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
               "Backend '%s' state: member '%s' is missing or of the wrong type",
               HVK_ACRN_BACKEND_NAME, member);
  return FALSE;
}

/* What a typed reader refused, as the backend says it (the reader's
 * message names the member and the type it wanted). */
static gboolean
state_reader_error (GError  *local_error,
                    GError **error)
{
  g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
               "Backend '%s' state: %s", HVK_ACRN_BACKEND_NAME,
               local_error->message);
  g_error_free (local_error);
  return FALSE;
}

gboolean
hvk_acrn_hypervisor_load_state (HvkHypervisor  *hypervisor,
                                JsonNode       *node,
                                GError        **error)
{
  HvkAcrnHypervisor *self = HVK_ACRN_HYPERVISOR (hypervisor);
  g_autoptr(HvkAcrnLayout) layout = hvk_acrn_layout_new ();
  g_autoptr(GHashTable) hotplugged = NULL;
  g_auto(GStrv) argv = NULL;
  g_autoptr(HvkConfig) config = NULL;
  g_autofree char *id = NULL, *store = NULL, *vm_name = NULL, *acrn_path = NULL;
  g_autofree char *ctl_path = NULL, *console_path = NULL, *apic_id = NULL;
  g_autofree char *image_path = NULL, *kernel_cmdline = NULL;
  GError *local_error = NULL;
  const char *state_name, *config_text;
  JsonObject *object, *hp;
  JsonArray *array;
  HvkVmState state;
  gint64 pid = 0, start_time = 0, memory_mb = 0;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return state_error ("(root)", error);
  object = json_node_get_object (node);

  if (!hvk_json_get_string (object, "state", TRUE, &state_name, &local_error))
    return state_reader_error (local_error, error);
  if (!hvk_vm_state_from_string (state_name, &state))
    return state_error ("state", error);
  if (!hvk_json_dup_string (object, "id", TRUE, &id, &local_error)
      || !hvk_json_dup_string (object, "store", TRUE, &store, &local_error)
      || !hvk_json_dup_string (object, "vm_name", TRUE, &vm_name, &local_error)
      || !hvk_json_dup_string (object, "path", TRUE, &acrn_path, &local_error)
      || !hvk_json_dup_string (object, "ctlpath", TRUE, &ctl_path, &local_error)
      || !hvk_json_dup_string (object, "console", TRUE, &console_path, &local_error)
      || !hvk_json_dup_string (object, "apic_id", FALSE, &apic_id, &local_error)
      || !hvk_json_dup_string (object, "image", FALSE, &image_path, &local_error)
      || !hvk_json_dup_string (object, "kernel_cmdline", FALSE, &kernel_cmdline, &local_error)
      || !hvk_json_get_string (object, "config", FALSE, &config_text, &local_error)
      || !hvk_json_get_int (object, "pid", TRUE, 0, G_MAXINT, &pid, &local_error)
      || !hvk_json_get_int (object, "start_time", TRUE, 0, G_MAXINT64, &start_time, &local_error)
      || !hvk_json_get_int (object, "memory_mb", TRUE, 0, G_MAXUINT32, &memory_mb, &local_error)
      || !hvk_json_get_array (object, "blk_slots", TRUE, &array, &local_error)
      || !hvk_json_get_strv (object, "argv", TRUE, &argv, &local_error)
      || !hvk_json_get_object (object, "hotplugged", TRUE, &hp, &local_error))
    return state_reader_error (local_error, error);

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

  if (config_text != NULL)
    {
      config = hvk_config_new_from_data (config_text, -1, "acrn state",
                                         self->registry, error);
      if (config == NULL)
        return FALSE;
      hvk_config_set_vm_store_path (config, store);
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

  g_set_object (&self->config, config);
  g_free (self->id);
  self->id = g_steal_pointer (&id);
  g_free (self->store);
  self->store = g_steal_pointer (&store);
  g_free (self->vm_name);
  self->vm_name = g_steal_pointer (&vm_name);
  g_free (self->acrn_path);
  self->acrn_path = g_steal_pointer (&acrn_path);
  g_free (self->ctl_path);
  self->ctl_path = g_steal_pointer (&ctl_path);
  g_free (self->console_path);
  self->console_path = g_steal_pointer (&console_path);
  g_free (self->apic_id);
  self->apic_id = g_steal_pointer (&apic_id);
  g_free (self->image_path);
  self->image_path = g_steal_pointer (&image_path);
  g_free (self->kernel_cmdline);
  self->kernel_cmdline = g_steal_pointer (&kernel_cmdline);
  g_strfreev (self->argv);
  self->argv = g_steal_pointer (&argv);
  hvk_acrn_layout_free (self->layout);
  self->layout = g_steal_pointer (&layout);
  g_hash_table_unref (self->hotplugged);
  self->hotplugged = g_steal_pointer (&hotplugged);
  self->memory_mb = (guint32) memory_mb;
  self->pid = (GPid) pid;
  self->start_time = (guint64) start_time;
  self->exit_status = -1;
  self->state = state;
  return TRUE;
}

