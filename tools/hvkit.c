/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <locale.h>

#include "hvkit-tool.h"

/*
 * hvkit [--state-dir DIR] [--plugin-path DIRS] COMMAND …
 *
 * The global options are parsed up to the command name; each command then
 * parses its own options (see hvkit-cmd-*.c).
 */

typedef struct {
  const char       *name;
  HvkitCommandFunc  func;
  const char       *synopsis;
} HvkitCommand;

/* Name → handler; the order is the one `hvkit --help` lists. */
static const HvkitCommand commands[] = {
  { "backends", hvkit_cmd_backends, "backends [--json]                 backends found, their plugin, version, capabilities" },
  { "check", hvkit_cmd_check, "check -c FILE                     validate a config; print the resolved settings" },
  { "argv", hvkit_cmd_argv, "argv -c FILE [--id ID] [--json]   the exact command line the backend would launch" },
  { "kernel-params", hvkit_cmd_kernel_params, "kernel-params -c FILE             the guest kernel command line" },
  { "run", hvkit_cmd_run, "run -c FILE [--id ID]             start a VM in the foreground; stop it on Ctrl-C / SIGTERM" },
  { "start", hvkit_cmd_start, "start -c FILE --id ID             start a VM and return; it keeps running" },
  { "status", hvkit_cmd_status, "status ID [--json]                state, backend, pids, console and monitor sockets" },
  { "console", hvkit_cmd_console, "console ID                        attach the terminal to the guest console (Ctrl-] detaches)" },
  { "logs", hvkit_cmd_logs, "logs ID [--follow] [--clear]      the VMM's logs, while the VM runs and after it stopped" },
  { "events", hvkit_cmd_events, "events ID | --all [--json]        the VM's events as they happen (STOP, RESUME, SHUTDOWN, …)" },
  { "stats", hvkit_cmd_stats, "stats ID | --all [--json|--prometheus]   CPU, memory, vCPU, disk and network use of running VMs" },
  { "list", hvkit_cmd_list, "list [--json]                     VMs in the state dir" },
  { "pause", hvkit_cmd_pause, "pause ID                          pause a running VM" },
  { "resume", hvkit_cmd_resume, "resume ID                         resume a paused VM" },
  { "shutdown", hvkit_cmd_shutdown, "shutdown ID [--timeout S]         ask the guest to power off; stop the VM after S seconds" },
  { "reboot", hvkit_cmd_reboot, "reboot ID                         reset the guest: it boots again" },
  { "save", hvkit_cmd_save, "save ID DIR [--stop]              save a running VM (RAM, devices, config) into DIR" },
  { "restore", hvkit_cmd_restore, "restore DIR [--id ID] [--paused]  start the VM saved in DIR where it was" },
  { "template", hvkit_cmd_template, "template ID                       save a boot_to_be_template VM for its clones, then stop it" },
  { "stop", hvkit_cmd_stop, "stop ID                           stop a VM and remove its state" },
  { "hotplug", hvkit_cmd_hotplug, "hotplug ID --device KIND,key=value,…   add a device to a running VM" },
  { "unplug", hvkit_cmd_unplug, "unplug ID --device-id DEVID       remove a hot-plugged device" },
  { "resize", hvkit_cmd_resize, "resize ID [--vcpus N] [--memory MIB]   change vCPUs or memory" },
  { "balloon", hvkit_cmd_balloon, "balloon ID [--target MIB] [--stats-interval S] [--json]   set or read the balloon" },
  { "iotune", hvkit_cmd_iotune, "iotune ID [--device DEV] [--bps N] [--iops N] [--burst N] … [--json]   show or change disk and network I/O limits" },
};


HvkRegistry *
hvkit_tool_get_registry (HvkitTool *tool)
{
  if (tool->registry == NULL)
    {
      g_autoptr(GPtrArray) refusals = NULL;

      tool->registry = hvk_registry_get_default ();
      /* Every command says which plugins (or plugin dirs) were refused:
       * a backend missing for that reason must not be a mystery. */
      refusals = hvk_registry_get_refusals (tool->registry);
      for (guint i = 0; i < refusals->len; i++)
        hvkit_warn ("%s", ((GError *) g_ptr_array_index (refusals, i))->message);
    }
  return tool->registry;
}

static char *
commands_description (void)
{
  GString *text = g_string_new ("Commands:\n");

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (text, "  %s\n", commands[i].synopsis);
  g_string_append (text,
                   "\nRun `hvkit COMMAND --help` for the options of a command.\n"
                   "Exit status: 0 on success, 1 when an operation fails, "
                   "2 for a bad command line or configuration.");
  return g_string_free (text, FALSE);
}

/* Puts @dirs before the plugin path the default registry will read. */
static void
prepend_plugin_path (const char *dirs)
{
  const char *current = g_getenv (HVK_PLUGIN_PATH_ENV);
  g_auto(GStrv) entries = g_strsplit (dirs, G_SEARCHPATH_SEPARATOR_S, -1);
  g_autofree char *absolute = NULL;
  g_autofree char *value = NULL;

  /* The registry refuses relative dirs: the command line's are relative
   * to where hvkit runs, so resolve them now. */
  for (guint i = 0; entries[i] != NULL; i++)
    if (entries[i][0] != '\0' && !g_path_is_absolute (entries[i]))
      {
        g_autofree char *cwd = g_get_current_dir ();
        char *resolved = g_canonicalize_filename (entries[i], cwd);

        g_free (entries[i]);
        entries[i] = resolved;
      }
  absolute = g_strjoinv (G_SEARCHPATH_SEPARATOR_S, entries);

  if (current != NULL && *current != '\0')
    value = g_strconcat (absolute, G_SEARCHPATH_SEPARATOR_S, current, NULL);
  else
    value = g_strdup (absolute);
  g_setenv (HVK_PLUGIN_PATH_ENV, value, TRUE);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *state_dir = NULL;
  g_autofree char *plugin_path = NULL;
  g_autofree char *description = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  HvkitTool tool = { NULL, };
  const GOptionEntry entries[] = {
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
      "Where VMs keep their state (default: $XDG_RUNTIME_DIR/hvkit)", "DIR" },
    { "plugin-path", 0, 0, G_OPTION_ARG_STRING, &plugin_path,
      "Colon-separated plugin directories searched first", "DIRS" },
    { NULL }
  };
  int status;

  /* The character set only (GLib converts what it prints to it): hvkit
   * formats numbers itself (g_ascii_*) and has no translations, so its
   * output is English throughout; with LC_MESSAGES too, GLib's and libc's
   * few messages would be translated and every command would look for
   * three message catalogs (nine failed opens and a mapped file, ~5 %
   * of `hvkit status` above the linked no-op). */
  setlocale (LC_CTYPE, "");
  g_set_prgname ("hvkit");

  context = g_option_context_new ("COMMAND [ARG…]");
  g_option_context_set_summary (context,
                                "Create, boot and manage virtual machines "
                                "through hvkit backends.");
  description = commands_description ();
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, NULL);
  /* Stop at the command name: what follows is the command's. */
  g_option_context_set_strict_posix (context, TRUE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return hvkit_fail (error, HVKIT_EXIT_USAGE);

  if (argc < 2)
    return hvkit_fail_printf (HVKIT_EXIT_USAGE,
                              "no command given (see `hvkit --help`)");

  if (plugin_path != NULL && *plugin_path != '\0')
    prepend_plugin_path (plugin_path);

  tool.state_dir = state_dir ? g_strdup (state_dir) : hvk_vm_store_default_dir ();

  status = -1;
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (g_str_equal (argv[1], commands[i].name))
        {
          status = commands[i].func (&tool, argc - 1, argv + 1);
          break;
        }
    }
  if (status < 0)
    status = hvkit_fail_printf (HVKIT_EXIT_USAGE,
                                "unknown command '%s' (see `hvkit --help`)",
                                argv[1]);

  g_free (tool.state_dir);
  return status;
}
