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

/* What a second process needs to take a VM over: save_state() and
 * load_state() (libvirt's qemu_domain.c status XML). */

/* ---- state ---- */

static void
add_string (JsonBuilder *builder,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_int (JsonBuilder *builder,
         const char  *name,
         gint64       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

/* The records hold only scalars; a deep copy keeps the state JSON and
 * ours independent (and never sealed). */
static JsonObject *
deep_copy_object (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);
  g_autofree char *text = json_to_string (node, FALSE);
  g_autoptr(JsonNode) copy = json_from_string (text, NULL);

  return json_object_ref (json_node_get_object (copy));
}

/* Hot-plug records are read back with typed getters: a state file whose
 * records are not objects of strings and integers is corrupt (the getters
 * would otherwise hit their g_return_if_fail checks). */
static gboolean
hotplugged_is_valid (JsonObject *hotplugged)
{
  static const char * const strings[] = { "kind", "driver", "bus", "node", "path", "netdev", "memdev" };
  static const char * const ints[] = { "addr", "size_mb", "slot" };
  static const char * const booleans[] = { "unplug_pending" };
  g_autoptr(GList) members = json_object_get_members (hotplugged);

  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (hotplugged, l->data);
      JsonObject *record;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return FALSE;
      record = json_node_get_object (node);
      for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
        {
          JsonNode *m = json_object_get_member (record, strings[i]);
          if (m != NULL && (!JSON_NODE_HOLDS_VALUE (m) || json_node_get_value_type (m) != G_TYPE_STRING))
            return FALSE;
        }
      for (guint i = 0; i < G_N_ELEMENTS (ints); i++)
        {
          JsonNode *m = json_object_get_member (record, ints[i]);
          if (m != NULL && (!JSON_NODE_HOLDS_VALUE (m) || json_node_get_value_type (m) != G_TYPE_INT64))
            return FALSE;
        }
      for (guint i = 0; i < G_N_ELEMENTS (booleans); i++)
        {
          JsonNode *m = json_object_get_member (record, booleans[i]);
          if (m != NULL && (!JSON_NODE_HOLDS_VALUE (m) || json_node_get_value_type (m) != G_TYPE_BOOLEAN))
            return FALSE;
        }
    }
  return TRUE;
}

JsonNode *
hvk_qemu_vm_save_state (HvkHypervisor *hypervisor)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *config_text = self->config ? hvk_config_to_data (self->config, NULL) : NULL;
  g_autoptr(GList) members = json_object_get_members (self->hotplugged);

  json_builder_begin_object (builder);
  add_string (builder, "id", self->id);
  add_string (builder, "state", hvk_vm_state_to_string (self->state));
  add_int (builder, "pid", self->pid);
  add_int (builder, "pid_start_time", (gint64) self->pid_start_time);
  add_int (builder, "monitor_pid", self->monitor_pid);
  add_int (builder, "monitor_start_time", (gint64) self->monitor_start_time);
  add_int (builder, "virtiofsd_pid", self->virtiofsd_pid);
  add_int (builder, "virtiofsd_start_time", (gint64) self->virtiofsd_start_time);
  add_string (builder, "uuid", self->uuid);
  add_string (builder, "store", self->store);
  add_string (builder, "vm_dir", self->paths.vm_dir);
  add_string (builder, "qmp_socket", self->paths.qmp_socket);
  add_string (builder, "console_socket", self->paths.console_socket);
  add_string (builder, "pid_file", self->paths.pid_file);
  add_string (builder, "virtiofsd_socket", self->paths.virtiofsd_socket);
  add_string (builder, "log_file", self->log_file);
  add_string (builder, "exit_file", self->paths.exit_file);
  /* A VM whose QEMU ended says how (hvkit-monitor's exit file). */
  if (hvk_hypervisor_get_state (hypervisor) == HVK_VM_STATE_STOPPED && self->pid > 0)
    {
      g_autofree char *how = hvk_process_describe_exit (self->paths.exit_file);
      g_autofree char *text = g_strdup_printf ("QEMU (pid %d) %s", self->pid,
                                               how ? how : "is gone (how it ended is unknown)");
      add_string (builder, "exit", text);
    }
  add_string (builder, "kernel_cmdline", self->kernel_cmdline);
  add_string (builder, "config", config_text);
  add_int (builder, "vcpus", self->vcpus);
  add_int (builder, "memory_mb", self->memory_mb);
  add_int (builder, "next_dimm", self->next_dimm);
  /* The QEMU a vCPU was unplugged from (no PCI hotplug there any more). */
  add_int (builder, "vcpu_unplugged_pid", self->vcpu_unplugged_pid);
  add_int (builder, "vcpu_unplugged_start_time", (gint64) self->vcpu_unplugged_start_time);

  json_builder_set_member_name (builder, "argv");
  json_builder_begin_array (builder);
  for (guint i = 0; self->argv != NULL && self->argv[i] != NULL; i++)
    json_builder_add_string_value (builder, self->argv[i]);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "layout");
  if (self->layout != NULL)
    json_builder_add_value (builder, hvk_qemu_layout_to_json (self->layout));
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "hotplugged");
  {
    g_autoptr(JsonObject) copy = deep_copy_object (self->hotplugged);
    json_builder_add_value (builder, json_node_init_object (json_node_alloc (), copy));
  }

  /* Redundant with "hotplugged", for people reading the file. */
  json_builder_set_member_name (builder, "used_slots");
  json_builder_begin_array (builder);
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonObject *record = json_object_get_object_member (self->hotplugged, l->data);
      const char *bus = json_object_get_string_member_with_default (record, "bus", NULL);
      gint64 addr = json_object_get_int_member_with_default (record, "addr", -1);

      if (bus != NULL)
        {
          g_autofree char *slot = addr >= 0 ? g_strdup_printf ("%s:%" G_GINT64_FORMAT, bus, addr)
                                            : g_strdup (bus);
          json_builder_add_string_value (builder, slot);
        }
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "cold_devices");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->cold_devices->len; i++)
    json_builder_add_value (builder, hvk_device_to_json (self->cold_devices->pdata[i]));
  json_builder_end_array (builder);

  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static gboolean
state_error (const char  *member,
             GError     **error)
{
  g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
               "corrupt QEMU state: member '%s' is missing or invalid", member);
  return FALSE;
}

/* An optional integer member in [@min, @max], 0 when absent or null. */
static gboolean
state_get_int (JsonObject *object,
               const char *member,
               gint64      min,
               gint64      max,
               gint64     *value)
{
  JsonNode *node = json_object_get_member (object, member);

  *value = 0;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *value = json_node_get_int (node);
  return *value >= min && *value <= max;
}

static char *
state_dup_string (JsonObject *object,
                  const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return g_strdup (json_node_get_string (node));
}

gboolean
hvk_qemu_vm_load_state (HvkHypervisor  *hypervisor,
                 JsonNode       *state,
                 GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkQemuLayout) layout = NULL;
  g_autoptr(GPtrArray) cold = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *id = NULL;
  g_autofree char *config_text = NULL;
  g_autofree char *state_name = NULL;
  g_autofree char *source = NULL;
  g_autoptr(JsonObject) hotplugged = NULL;
  JsonObject *object;
  JsonNode *node;
  HvkVmState vm_state;
  gint64 pid, pid_start_time, virtiofsd_pid, virtiofsd_start_time;
  gint64 monitor_pid, monitor_start_time;
  gint64 vcpus, memory_mb, next_dimm;
  gint64 vcpu_unplugged_pid, vcpu_unplugged_start_time;

  if (state == NULL || !JSON_NODE_HOLDS_OBJECT (state))
    return state_error ("(root)", error);
  object = json_node_get_object (state);

  id = state_dup_string (object, "id");
  if (id == NULL || !hvk_vm_id_validate (id, NULL))
    return state_error ("id", error);
  state_name = state_dup_string (object, "state");
  if (state_name == NULL || !hvk_vm_state_from_string (state_name, &vm_state))
    return state_error ("state", error);
  config_text = state_dup_string (object, "config");
  if (config_text == NULL)
    return state_error ("config", error);
  source = g_strdup_printf ("state of VM '%s'", id);
  config = hvk_config_new_from_data (config_text, -1, source, hvk_qemu_vm_registry (self), error);
  if (config == NULL)
    return FALSE;

  node = json_object_get_member (object, "layout");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      layout = hvk_qemu_layout_from_json (node, error);
      if (layout == NULL)
        return FALSE;
    }

  node = json_object_get_member (object, "argv");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return state_error ("argv", error);
  for (guint i = 0; i < json_array_get_length (json_node_get_array (node)); i++)
    {
      JsonNode *arg = json_array_get_element (json_node_get_array (node), i);
      if (!JSON_NODE_HOLDS_VALUE (arg) || json_node_get_value_type (arg) != G_TYPE_STRING)
        return state_error ("argv", error);
      g_ptr_array_add (argv, g_strdup (json_node_get_string (arg)));
    }
  g_ptr_array_add (argv, NULL);

  node = json_object_get_member (object, "cold_devices");
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    for (guint i = 0; i < json_array_get_length (json_node_get_array (node)); i++)
      {
        HvkDevice *device = hvk_device_new_from_json (hvk_qemu_vm_registry (self),
                                                      json_array_get_element (json_node_get_array (node), i),
                                                      error);
        if (device == NULL)
          return FALSE;
        g_ptr_array_add (cold, device);
      }

  node = json_object_get_member (object, "hotplugged");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)
      || !hotplugged_is_valid (json_node_get_object (node)))
    return state_error ("hotplugged", error);

  if (!state_get_int (object, "pid", 0, G_MAXINT, &pid))
    return state_error ("pid", error);
  if (!state_get_int (object, "pid_start_time", 0, G_MAXINT64, &pid_start_time))
    return state_error ("pid_start_time", error);
  if (!state_get_int (object, "monitor_pid", 0, G_MAXINT, &monitor_pid))
    return state_error ("monitor_pid", error);
  if (!state_get_int (object, "monitor_start_time", 0, G_MAXINT64, &monitor_start_time))
    return state_error ("monitor_start_time", error);
  if (!state_get_int (object, "virtiofsd_pid", 0, G_MAXINT, &virtiofsd_pid))
    return state_error ("virtiofsd_pid", error);
  if (!state_get_int (object, "virtiofsd_start_time", 0, G_MAXINT64, &virtiofsd_start_time))
    return state_error ("virtiofsd_start_time", error);
  if (!state_get_int (object, "vcpus", 0, G_MAXUINT32, &vcpus))
    return state_error ("vcpus", error);
  if (!state_get_int (object, "memory_mb", 0, G_MAXUINT32, &memory_mb))
    return state_error ("memory_mb", error);
  if (!state_get_int (object, "next_dimm", 0, G_MAXUINT, &next_dimm))
    return state_error ("next_dimm", error);
  if (!state_get_int (object, "vcpu_unplugged_pid", 0, G_MAXINT, &vcpu_unplugged_pid))
    return state_error ("vcpu_unplugged_pid", error);
  if (!state_get_int (object, "vcpu_unplugged_start_time", 0, G_MAXINT64, &vcpu_unplugged_start_time))
    return state_error ("vcpu_unplugged_start_time", error);
  hotplugged = deep_copy_object (json_node_get_object (node));

  /* Everything parsed: take it over. */
  g_free (self->id);
  self->id = g_steal_pointer (&id);
  g_set_object (&self->config, config);
  g_free (self->store);
  self->store = state_dup_string (object, "store");
  if (self->store == NULL)
    self->store = hvk_vm_store_default_dir ();
  hvk_config_set_vm_store_path (self->config, self->store);
  hvk_qemu_paths_clear (&self->paths);
  self->paths.vm_dir = state_dup_string (object, "vm_dir");
  self->paths.qmp_socket = state_dup_string (object, "qmp_socket");
  self->paths.console_socket = state_dup_string (object, "console_socket");
  self->paths.pid_file = state_dup_string (object, "pid_file");
  self->paths.virtiofsd_socket = state_dup_string (object, "virtiofsd_socket");
  self->paths.exit_file = state_dup_string (object, "exit_file");
  g_free (self->log_file);
  self->log_file = state_dup_string (object, "log_file");
  g_free (self->kernel_cmdline);
  self->kernel_cmdline = state_dup_string (object, "kernel_cmdline");
  g_free (self->uuid);
  self->uuid = state_dup_string (object, "uuid");
  g_strfreev (self->argv);
  self->argv = (GStrv) g_ptr_array_steal (argv, NULL);
  g_clear_pointer (&self->layout, hvk_qemu_layout_free);
  self->layout = g_steal_pointer (&layout);
  g_ptr_array_unref (self->cold_devices);
  self->cold_devices = g_steal_pointer (&cold);
  json_object_unref (self->hotplugged);
  self->hotplugged = g_steal_pointer (&hotplugged);
  self->pid = (int) pid;
  self->pid_start_time = (guint64) pid_start_time;
  self->monitor_pid = (int) monitor_pid;
  self->monitor_start_time = (guint64) monitor_start_time;
  self->virtiofsd_pid = (int) virtiofsd_pid;
  self->virtiofsd_start_time = (guint64) virtiofsd_start_time;
  self->vcpus = (guint32) vcpus;
  self->memory_mb = (guint32) memory_mb;
  self->next_dimm = (guint) next_dimm;
  self->vcpu_unplugged_pid = (int) vcpu_unplugged_pid;
  self->vcpu_unplugged_start_time = (guint64) vcpu_unplugged_start_time;
  self->vm_dir_created = FALSE;   /* not ours to remove on dispose */
  self->state = vm_state;
  if (self->qmp != NULL)
    hvk_qmp_client_close (self->qmp);   /* reconnect lazily */
  return TRUE;
}


/* The hot-plug records as devices: the device the user gave where the
 * record keeps it, else (vCPUs and DIMMs that resize added) a device of
 * the record's kind with its id. */
GPtrArray *
hvk_qemu_vm_get_hotplugged_devices (HvkHypervisor *hypervisor)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  GPtrArray *devices = g_ptr_array_new_with_free_func (g_object_unref);
  HvkRegistry *registry = hvk_qemu_vm_registry (self);
  g_autoptr(GList) members = json_object_get_members (self->hotplugged);

  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonObject *record = json_object_get_object_member (self->hotplugged, l->data);
      JsonNode *given = json_object_get_member (record, "device");
      HvkDeviceKind *kind;
      HvkDevice *device = NULL;

      if (given != NULL)
        device = hvk_device_new_from_json (registry, given, NULL);
      if (device == NULL
          && (kind = hvk_registry_lookup_device_kind (registry,
                                                      json_object_get_string_member_with_default (record, "kind", ""))) != NULL)
        {
          device = hvk_device_new (kind, l->data);
          if (json_object_has_member (record, "size_mb")
              && hvk_device_kind_lookup_prop (kind, "size_mb") != NULL)
            hvk_device_set_uint (device, "size_mb",
                                 (guint64) json_object_get_int_member (record, "size_mb"));
        }
      if (device != NULL)
        g_ptr_array_add (devices, device);
    }
  return devices;
}
