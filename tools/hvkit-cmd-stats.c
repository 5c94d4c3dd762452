/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvkit-tool.h"

/* stats: what running VMs use (hvk_hypervisor_get_stats()), for one VM
 * or every VM of the state dir, as `KEY VALUE` lines, JSON or the
 * Prometheus text format.  Changes nothing. */

static void
print_plain (const char *id,
             HvkStats   *stats,
             gboolean    with_id,
             GString    *out)
{
  g_auto(GStrv) keys = hvk_stats_get_keys (stats);

  for (guint i = 0; keys[i] != NULL; i++)
    {
      guint64 value = 0;

      hvk_stats_lookup (stats, keys[i], &value);
      if (with_id)
        g_string_append_printf (out, "%s ", id);
      g_string_append_printf (out, "%s %" G_GUINT64_FORMAT "\n", keys[i], value);
    }
}

static JsonNode *
stats_json (const char *id,
            HvkStats   *stats)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id);
  json_builder_set_member_name (builder, "stats");
  json_builder_add_value (builder, hvk_stats_to_json (stats));
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

int
hvkit_cmd_stats (HvkitTool *tool,
                 int        argc,
                 char     **argv)
{
  gboolean json = FALSE, prometheus = FALSE, all = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "prometheus", 0, 0, G_OPTION_ARG_NONE, &prometheus,
      "Print the Prometheus text exposition format", NULL },
    { "all", 0, 0, G_OPTION_ARG_NONE, &all,
      "Every running or paused VM of the state dir", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("stats ID | stats --all", "Print what running VMs use: CPU, "
                              "memory, vCPU threads, disk and network I/O.", entries);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) all_stats = g_ptr_array_new_with_free_func ((GDestroyNotify) hvk_stats_unref);
  g_autoptr(GString) out = g_string_new (NULL);
  gboolean wants_all = FALSE;
  int status;

  /* `--all` takes no VM id; without it, one. */
  wants_all = hvkit_has_option (argc, argv, "--all");
  if (!hvkit_parse_options (context, &argc, &argv, wants_all ? 0 : 1, &status))
    return status;
  if (json && prometheus)
    return hvkit_fail_printf (HVKIT_EXIT_USAGE, "stats: --json and --prometheus exclude each other");

  if (!all)
    {
      g_autoptr(HvkHypervisor) hypervisor = hvkit_open_vm (tool, argv[1], NULL, &status);
      g_autoptr(GError) error = NULL;
      HvkStats *stats;

      if (hypervisor == NULL)
        return status;
      stats = hvk_hypervisor_get_stats (hypervisor, NULL, &error);
      if (stats == NULL)
        return hvkit_fail (error, hvkit_exit_code_for (error));
      g_ptr_array_add (ids, g_strdup (argv[1]));
      g_ptr_array_add (all_stats, stats);
    }
  else
    {
      g_auto(GStrv) listed = hvk_vm_store_list (tool->state_dir);

      for (guint i = 0; listed[i] != NULL; i++)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(HvkHypervisor) hypervisor =
            hvk_vm_store_load_hypervisor (tool->state_dir, listed[i],
                                          hvkit_tool_get_registry (tool), &error);
          HvkVmState state;
          HvkStats *stats;

          if (hypervisor == NULL)
            continue;
          /* A VM that is not running has nothing to measure: not an error. */
          state = hvk_hypervisor_get_state (hypervisor);
          if (state != HVK_VM_STATE_RUNNING && state != HVK_VM_STATE_PAUSED)
            continue;
          stats = hvk_hypervisor_get_stats (hypervisor, NULL, &error);
          if (stats == NULL)
            {
              hvkit_warn ("VM '%s': %s", listed[i], error->message);
              continue;
            }
          g_ptr_array_add (ids, g_strdup (listed[i]));
          g_ptr_array_add (all_stats, stats);
        }
    }

  if (prometheus)
    {
      g_autofree char *text = hvk_stats_format_prometheus ((const char * const *) ids->pdata,
                                                           (HvkStats * const *) all_stats->pdata,
                                                           ids->len);
      g_print ("%s", text);
      return HVKIT_EXIT_OK;
    }
  if (json)
    {
      g_autoptr(JsonNode) root = NULL;

      if (!all)
        root = stats_json (ids->pdata[0], all_stats->pdata[0]);
      else
        {
          JsonArray *array = json_array_new ();

          for (guint i = 0; i < ids->len; i++)
            json_array_add_element (array, stats_json (ids->pdata[i], all_stats->pdata[i]));
          root = json_node_init_array (json_node_alloc (), array);
          json_array_unref (array);
        }
      hvkit_print_json (root);
      return HVKIT_EXIT_OK;
    }
  for (guint i = 0; i < ids->len; i++)
    print_plain (ids->pdata[i], all_stats->pdata[i], all, out);
  g_print ("%s", out->str);
  return HVKIT_EXIT_OK;
}
