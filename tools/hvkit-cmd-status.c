/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvkit-tool.h"

/* status and list: read the state dir, change nothing. */

/* A scalar as JSON writes it (integers and booleans without a JSON
 * generator: status prints a dozen of them per call). */
static void
append_value (GString  *out,
              JsonNode *value)
{
  if (JSON_NODE_HOLDS_VALUE (value))
    switch (json_node_get_value_type (value))
      {
      case G_TYPE_STRING:
        g_string_append (out, json_node_get_string (value));
        return;
      case G_TYPE_INT64:
        g_string_append_printf (out, "%" G_GINT64_FORMAT, json_node_get_int (value));
        return;
      case G_TYPE_BOOLEAN:
        g_string_append (out, json_node_get_boolean (value) ? "true" : "false");
        return;
      default:
        break;
      }
  /* A list of integers (pids) as json_to_string() writes it, "[1,2]". */
  if (JSON_NODE_HOLDS_ARRAY (value))
    {
      JsonArray *array = json_node_get_array (value);
      guint n = json_array_get_length (array);
      guint i;

      for (i = 0; i < n; i++)
        {
          JsonNode *element = json_array_get_element (array, i);

          if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_INT64)
            break;
        }
      if (i == n)
        {
          g_string_append_c (out, '[');
          for (i = 0; i < n; i++)
            g_string_append_printf (out, "%s%" G_GINT64_FORMAT, i > 0 ? "," : "",
                                    json_array_get_int_element (array, i));
          g_string_append_c (out, ']');
          return;
        }
    }
  {
    g_autofree char *text = json_to_string (value, FALSE);
    g_string_append (out, text);
  }
}

/* One line per device: `  ID: KIND,key=value,…` (its device string). */
static void
append_devices_plain (GString   *out,
                      JsonArray *devices)
{
  guint n = json_array_get_length (devices);

  g_string_append_printf (out, "hotplugged:%s\n", n == 0 ? " -" : "");
  for (guint i = 0; i < n; i++)
    {
      JsonObject *device = json_array_get_object_element (devices, i);
      JsonObject *props = device && json_object_has_member (device, "props")
                          ? json_object_get_object_member (device, "props") : NULL;
      g_autoptr(GList) members = props ? json_object_get_members (props) : NULL;

      if (device == NULL)
        continue;
      g_string_append_printf (out, "  %s: %s",
                              json_object_get_string_member_with_default (device, "id", "?"),
                              json_object_get_string_member_with_default (device, "kind", "?"));
      for (GList *l = members; l != NULL; l = l->next)
        {
          g_string_append_printf (out, ",%s=", (const char *) l->data);
          append_value (out, json_object_get_member (props, l->data));
        }
      g_string_append_c (out, '\n');
    }
}

/* `key: value` lines, printed at once. */
static void
print_status_plain (JsonNode *status)
{
  JsonObject *object = json_node_get_object (status);
  g_autoptr(GList) members = json_object_get_members (object);
  g_autoptr(GString) out = g_string_new (NULL);

  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *value = json_object_get_member (object, l->data);

      if (JSON_NODE_HOLDS_NULL (value))
        g_string_append_printf (out, "%s: -\n", (const char *) l->data);
      else if (g_str_equal (l->data, "hotplugged") && JSON_NODE_HOLDS_ARRAY (value))
        append_devices_plain (out, json_node_get_array (value));
      else
        {
          g_string_append_printf (out, "%s: ", (const char *) l->data);
          append_value (out, value);
          g_string_append_c (out, '\n');
        }
    }
  g_print ("%s", out->str);
}

int
hvkit_cmd_status (HvkitTool *tool,
                  int        argc,
                  char     **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("status ID", "Print a VM's state, backend, "
                              "pids, console and monitor sockets.", entries);
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(JsonNode) state = NULL;
  g_autoptr(JsonNode) description = NULL;
  g_autoptr(JsonNode) status_node = NULL;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 1, &status))
    return status;

  /* While the record holds (its VMM, monitor and vCPU threads run, and
   * the VMM's own run state is the recorded one), the state file's
   * description is the answer: no plugin, configuration or backend to
   * load.  Otherwise the backend says what happened. */
  state = hvk_vm_store_read_state (tool->state_dir, argv[1], NULL);
  if (state != NULL)
    description = hvk_vm_store_describe_from_state (state);
  if (description != NULL)
    status_node = hvkit_vm_status_from_description (argv[1], description, NULL, NULL);
  else
    {
      /* Read once: a state file that could not be read is opened again
       * only to say why. */
      hypervisor = state != NULL ? hvkit_open_vm_from_state (tool, argv[1], state, &status)
                                 : hvkit_open_vm (tool, argv[1], NULL, &status);
      if (hypervisor == NULL)
        return status;
      status_node = hvkit_vm_status (tool, argv[1], hypervisor, TRUE);
    }
  if (json)
    hvkit_print_json (status_node);
  else
    print_status_plain (status_node);
  return HVKIT_EXIT_OK;
}

/* What the state file says, for a VM whose backend cannot load it. */
static JsonNode *
status_from_file (HvkitTool    *tool,
                  const char   *id,
                  const GError *load_error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) state = hvk_vm_store_read_state (tool->state_dir, id, NULL);
  JsonObject *object = state ? json_node_get_object (state) : NULL;
  const char *backend = object ? json_object_get_string_member_with_default (object, "backend", NULL) : NULL;
  const char *vm_state = object ? json_object_get_string_member_with_default (object, "state", NULL) : NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id);
  json_builder_set_member_name (builder, "backend");
  json_builder_add_string_value (builder, backend);
  json_builder_set_member_name (builder, "state");
  json_builder_add_string_value (builder, vm_state ? vm_state : "unknown");
  json_builder_set_member_name (builder, "pids");
  json_builder_begin_array (builder);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "console");
  json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, load_error->message);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

int
hvkit_cmd_list (HvkitTool *tool,
                int        argc,
                char     **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("list", "List the VMs in the state dir.", entries);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_auto(GStrv) ids = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 0, &status))
    return status;

  /* The listing skips what it cannot trust; say why the state dir as a
   * whole is refused rather than list nothing. */
  if (!hvk_vm_store_sweep (tool->state_dir, &error))
    return hvkit_fail (error, HVKIT_EXIT_FAILED);
  ids = hvk_vm_store_list (tool->state_dir);
  json_builder_begin_array (builder);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HvkHypervisor) hypervisor =
        hvk_vm_store_load_hypervisor (tool->state_dir, ids[i],
                                      hvkit_tool_get_registry (tool), &error);

      if (hypervisor != NULL)
        json_builder_add_value (builder,
                                hvkit_vm_status (tool, ids[i], hypervisor, FALSE));
      else
        json_builder_add_value (builder, status_from_file (tool, ids[i], error));
    }
  json_builder_end_array (builder);
  root = json_builder_get_root (builder);

  if (json)
    {
      hvkit_print_json (root);
      return HVKIT_EXIT_OK;
    }

  g_print ("%-24s %-10s %s\n", "ID", "BACKEND", "STATE");
  for (guint i = 0; i < json_array_get_length (json_node_get_array (root)); i++)
    {
      JsonObject *vm = json_array_get_object_element (json_node_get_array (root), i);
      const char *backend = json_object_get_string_member_with_default (vm, "backend", NULL);

      g_print ("%-24s %-10s %s\n", json_object_get_string_member (vm, "id"),
               backend ? backend : "-",
               json_object_get_string_member (vm, "state"));
    }
  return HVKIT_EXIT_OK;
}
