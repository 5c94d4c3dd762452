/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <glib/gstdio.h>
#include <stdio.h>

#include "hvkit-tool.h"

/* events: one line per event of a VM (hvk_hypervisor_follow_events())
 * until it ends, or of every VM of the state dir, those started later
 * included, until interrupted.  Lines from several VMs never mix. */

static GMutex print_lock;
static gboolean print_json;

static void
append_data_plain (GString    *line,
                   JsonObject *data)
{
  g_autoptr(GList) members = json_object_get_members (data);

  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *value = json_object_get_member (data, l->data);

      g_string_append_printf (line, " %s=", (const char *) l->data);
      if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING)
        g_string_append (line, json_node_get_string (value));
      else
        {
          g_autofree char *text = json_to_string (value, FALSE);
          g_string_append (line, text);
        }
    }
}

static void
on_event (HvkHypervisor *hypervisor,
          const char    *name,
          JsonObject    *data,
          gpointer       user_data)
{
  const char *id = user_data;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *time = g_date_time_format_iso8601 (now);
  g_autoptr(GString) line = g_string_new (NULL);

  if (print_json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *text = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "time");
      json_builder_add_string_value (builder, time);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, id);
      json_builder_set_member_name (builder, "event");
      json_builder_add_string_value (builder, name);
      json_builder_set_member_name (builder, "data");
      json_builder_add_value (builder, json_node_init_object (json_node_alloc (), data));
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      text = json_to_string (root, FALSE);
      g_string_append (line, text);
    }
  else
    {
      g_string_append_printf (line, "%s %s %s", time, id, name);
      append_data_plain (line, data);
    }
  g_string_append_c (line, '\n');

  g_mutex_lock (&print_lock);
  fputs (line->str, stdout);
  fflush (stdout);
  g_mutex_unlock (&print_lock);
}

typedef struct {
  HvkHypervisor *hypervisor;
  char *id;
} Follower;

static gpointer
follow_thread (gpointer data)
{
  Follower *follower = data;
  g_autoptr(GError) error = NULL;

  g_signal_connect (follower->hypervisor, "event", G_CALLBACK (on_event), follower->id);
  if (!hvk_hypervisor_follow_events (follower->hypervisor, NULL, &error))
    hvkit_warn ("%s", error->message);
  g_object_unref (follower->hypervisor);
  g_free (follower->id);
  g_free (follower);
  return NULL;
}

/* A VM to follow: running, paused or starting, and not followed before
 * (the same id with another VMM process is another VM). */
static void
follow_new_vms (HvkitTool  *tool,
                GHashTable *followed,
                GHashTable *seen)
{
  g_auto(GStrv) ids = hvk_vm_store_list (tool->state_dir);

  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autofree char *state_file = g_build_filename (tool->state_dir, ids[i],
                                                      HVK_VM_STATE_FILE, NULL);
      g_autoptr(HvkHypervisor) hypervisor = NULL;
      g_autoptr(GArray) pids = NULL;
      g_autofree char *key = NULL;
      HvkVmState state;
      Follower *follower;
      GStatBuf st;
      gint64 stamp;

      /* Only a VM whose record changed since the last look is loaded. */
      if (g_stat (state_file, &st) != 0)
        continue;
      stamp = (gint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000;
      if (GPOINTER_TO_SIZE (g_hash_table_lookup (seen, ids[i])) == (gsize) stamp)
        continue;
      g_hash_table_insert (seen, g_strdup (ids[i]), GSIZE_TO_POINTER ((gsize) stamp));
      hypervisor = hvk_vm_store_load_hypervisor (tool->state_dir, ids[i],
                                                 hvkit_tool_get_registry (tool), NULL);
      if (hypervisor == NULL)
        continue;
      state = hvk_hypervisor_get_state (hypervisor);
      if (state != HVK_VM_STATE_RUNNING && state != HVK_VM_STATE_PAUSED)
        continue;
      pids = hvk_hypervisor_get_pids (hypervisor);
      key = g_strdup_printf ("%s:%d", ids[i], pids->len > 0 ? g_array_index (pids, int, 0) : 0);
      if (g_hash_table_contains (followed, key))
        continue;
      g_hash_table_add (followed, g_steal_pointer (&key));
      follower = g_new0 (Follower, 1);
      follower->hypervisor = g_steal_pointer (&hypervisor);
      follower->id = g_strdup (ids[i]);
      g_thread_unref (g_thread_new ("hvkit-events", follow_thread, follower));
    }
}

int
hvkit_cmd_events (HvkitTool *tool,
                  int        argc,
                  char     **argv)
{
  gboolean json = FALSE, all = FALSE, wants_all = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object per line", NULL },
    { "all", 0, 0, G_OPTION_ARG_NONE, &all,
      "Every running VM of the state dir, and those started later, until interrupted", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("events ID | events --all", "Print a VM's events as they "
                              "happen, until it ends.", entries);
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  wants_all = hvkit_has_option (argc, argv, "--all");
  if (!hvkit_parse_options (context, &argc, &argv, wants_all ? 0 : 1, &status))
    return status;
  print_json = json;

  if (all)
    {
      g_autoptr(GHashTable) followed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

      /* Runs until interrupted: new VMs are looked for twice a second. */
      for (;;)
        {
          follow_new_vms (tool, followed, seen);
          g_usleep (500 * 1000);
        }
    }

  hypervisor = hvkit_open_vm (tool, argv[1], NULL, &status);
  if (hypervisor == NULL)
    return status;
  g_signal_connect (hypervisor, "event", G_CALLBACK (on_event), argv[1]);
  if (!hvk_hypervisor_follow_events (hypervisor, NULL, &error))
    return hvkit_fail (error, hvkit_exit_code_for (error));
  return HVKIT_EXIT_OK;
}
