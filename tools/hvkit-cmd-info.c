/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <string.h>

#include "hvkit-tool.h"

/* Commands that describe without running anything: backends, check,
 * argv, kernel-params. */

int
hvkit_cmd_backends (HvkitTool *tool,
                    int        argc,
                    char     **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("backends", "List the backends found, their "
                              "plugin, version and capabilities.", entries);
  g_autoptr(GPtrArray) backends = NULL;
  HvkRegistry *registry;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 0, &status))
    return status;

  /* Refusals are printed as the registry is made. */
  registry = hvkit_tool_get_registry (tool);
  backends = hvk_registry_get_backends (registry);

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; i < backends->len; i++)
        {
          HvkBackendInfo *info = g_ptr_array_index (backends, i);
          HvkPlugin *plugin = hvk_backend_info_get_plugin (info);
          g_auto(GStrv) caps =
            hvk_capabilities_to_strv (hvk_backend_info_get_capabilities (info));

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, hvk_backend_info_get_name (info));
          json_builder_set_member_name (builder, "plugin");
          json_builder_add_string_value (builder, plugin ? hvk_plugin_get_name (plugin) : NULL);
          json_builder_set_member_name (builder, "version");
          json_builder_add_string_value (builder, plugin ? hvk_plugin_get_version (plugin) : NULL);
          json_builder_set_member_name (builder, "description");
          json_builder_add_string_value (builder, plugin ? hvk_plugin_get_description (plugin) : NULL);
          json_builder_set_member_name (builder, "capabilities");
          json_builder_begin_array (builder);
          for (guint j = 0; caps != NULL && caps[j] != NULL; j++)
            json_builder_add_string_value (builder, caps[j]);
          json_builder_end_array (builder);
          hvkit_add_backend_device_kinds (builder, registry, hvk_backend_info_get_name (info));
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      hvkit_print_json (root);
      return HVKIT_EXIT_OK;
    }

  g_print ("%-12s %-12s %-10s %s\n", "BACKEND", "PLUGIN", "VERSION",
           "CAPABILITIES");
  for (guint i = 0; i < backends->len; i++)
    {
      HvkBackendInfo *info = g_ptr_array_index (backends, i);
      HvkPlugin *plugin = hvk_backend_info_get_plugin (info);
      g_autofree char *caps =
        hvk_capabilities_to_string (hvk_backend_info_get_capabilities (info));

      g_print ("%-12s %-12s %-10s %s\n", hvk_backend_info_get_name (info),
               plugin ? hvk_plugin_get_name (plugin) : "-",
               plugin ? hvk_plugin_get_version (plugin) : "-",
               caps && *caps ? caps : "-");
    }
  return HVKIT_EXIT_OK;
}

static void
print_key (HvkConfig          *config,
           const HvkConfigKey *key)
{
  g_autofree char *value = hvk_config_dup_value_string (config, key->name);

  if (hvk_config_has_key (config, key->name))
    g_print ("  %s = %s\n", key->name, value ? value : "");
  else if (value != NULL)
    g_print ("  %s = %s  (default)\n", key->name, value);
  else
    g_print ("  %s  (unset)\n", key->name);
}

int
hvkit_cmd_check (HvkitTool *tool,
                 int        argc,
                 char     **argv)
{
  g_autofree char *path = NULL;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &path, "Configuration file", "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("check -c FILE", "Validate a configuration and "
                              "print the resolved settings.", entries);
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *devices;
  g_autoptr(GPtrArray) backend_keys = NULL;
  const HvkConfigKey *core;
  guint n_core;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 0, &status))
    return status;
  config = hvkit_load_config (tool, path, &status);
  if (config == NULL)
    return status;
  if (!hvk_config_validate (config, &error))
    return hvkit_fail (error, HVKIT_EXIT_USAGE);
  /* A backend no plugin provides is a configuration error too. */
  hypervisor = hvk_registry_create_hypervisor (hvkit_tool_get_registry (tool),
                                               config, &error);
  if (hypervisor == NULL)
    return hvkit_fail (error, HVKIT_EXIT_USAGE);

  g_print ("%s: valid\n", path);
  g_print ("backend: %s\n\n", hvk_config_get_backend (config));
  g_print ("[%s]\n", hvk_config_get_group (config));

  core = hvk_config_get_core_keys (&n_core);
  for (guint i = 0; i < n_core; i++)
    print_key (config, &core[i]);

  /* Then the keys the backend's plugin declares, in its order. */
  backend_keys = hvk_registry_get_config_keys (hvkit_tool_get_registry (tool),
                                               hvk_config_get_backend (config));
  for (guint i = 0; i < backend_keys->len; i++)
    print_key (config, g_ptr_array_index (backend_keys, i));

  devices = hvk_config_get_devices (config);
  g_print ("\ndevices:%s\n", devices == NULL || devices->len == 0 ? " none" : "");
  for (guint i = 0; devices != NULL && i < devices->len; i++)
    {
      HvkDevice *device = g_ptr_array_index (devices, i);
      g_autofree char *text = hvk_device_to_string (device);

      g_print ("  %s: %s\n", hvk_device_get_id (device), text);
    }
  return HVKIT_EXIT_OK;
}

/* Creates (never starts) the VM and reads its launch command through
 * hvk_hypervisor_get_launch_command(), valid after create_vm: @argv and
 * @kernel_cmdline as that wrapper takes them (either may be %NULL).
 *
 * The VM is created in the real state dir, so the paths printed are the
 * ones `start` would use, under the VM's lock; when a VM of that id exists
 * (or the store cannot be used) a scratch store keeps its files safe. */
static int
read_launch_command (HvkitTool   *tool,
                     const char  *path,
                     const char  *id,
                     char      ***argv,
                     char       **kernel_cmdline)
{
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkVmLock) lock = NULL;
  g_autofree char *scratch = NULL;
  g_autofree char *state_file = NULL;
  const char *store = tool->state_dir;
  gboolean ok;
  int status;

  if (!hvk_vm_id_validate (id, &error))
    return hvkit_fail (error, HVKIT_EXIT_USAGE);
  config = hvkit_load_config (tool, path, &status);
  if (config == NULL)
    return status;

  /* An unknown backend is a configuration error. */
  hypervisor = hvk_registry_create_hypervisor (hvkit_tool_get_registry (tool),
                                               config, &error);
  if (hypervisor == NULL)
    return hvkit_fail (error, HVKIT_EXIT_USAGE);

  /* Refused before the VM directory is made for nothing. */
  if (HVK_HYPERVISOR_GET_IFACE (hypervisor)->get_launch_command == NULL)
    return hvkit_fail_printf (HVKIT_EXIT_FAILED,
                              "backend '%s' has no command line",
                              hvk_hypervisor_get_backend_name (hypervisor));

  state_file = g_build_filename (store, id, HVK_VM_STATE_FILE, NULL);
  if (!g_file_test (state_file, G_FILE_TEST_EXISTS))
    lock = hvk_vm_store_lock (store, id, FALSE, NULL);
  if (lock == NULL)
    {
      scratch = g_dir_make_tmp ("hvkit-argv-XXXXXX", &error);
      if (scratch == NULL)
        return hvkit_fail (error, HVKIT_EXIT_FAILED);
      store = scratch;
    }
  hvk_config_set_vm_store_path (config, store);

  ok = hvk_hypervisor_create_vm (hypervisor, id, config, &error)
       && hvk_hypervisor_get_launch_command (hypervisor, argv, kernel_cmdline, &error);
  hvk_hypervisor_cleanup (hypervisor, NULL);
  /* Dropping a created, never started VM removes its files. */
  g_clear_object (&hypervisor);
  g_clear_pointer (&lock, hvk_vm_lock_release);
  /* The scratch store holds nothing but the VM's dir: the store's own
   * removal (which never follows a symlink) takes it, then the store. */
  hvk_vm_store_remove_dir (store, id, NULL);
  if (scratch != NULL && g_rmdir (scratch) != 0)
    hvkit_warn ("cannot remove %s: %s", scratch, g_strerror (errno));

  if (!ok)
    return hvkit_fail (error, hvkit_exit_code_for (error));
  return HVKIT_EXIT_OK;
}

#define DEFAULT_ARGV_ID "hvkit-vm"

static char *
quote_arg (const char *arg)
{
  static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "0123456789-_./=,:+@%";

  if (*arg != '\0' && arg[strspn (arg, safe)] == '\0')
    return g_strdup (arg);
  return g_shell_quote (arg);
}

int
hvkit_cmd_argv (HvkitTool *tool,
                int        argc,
                char     **argv)
{
  g_autofree char *path = NULL;
  g_autofree char *id = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &path, "Configuration file", "FILE" },
    { "id", 0, 0, G_OPTION_ARG_STRING, &id, "VM id (default: " DEFAULT_ARGV_ID ")", "ID" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON array of strings", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("argv -c FILE", "Print the exact command line "
                              "the backend would launch, launching nothing.",
                              entries);
  g_auto(GStrv) args = NULL;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 0, &status))
    return status;

  status = read_launch_command (tool, path, id ? id : DEFAULT_ARGV_ID, &args, NULL);
  if (status != HVKIT_EXIT_OK)
    return status;

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; args != NULL && args[i] != NULL; i++)
        json_builder_add_string_value (builder, args[i]);
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      hvkit_print_json (root);
      return HVKIT_EXIT_OK;
    }

  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    {
      g_autofree char *quoted = quote_arg (args[i]);
      g_print ("%s%s", i > 0 ? " " : "", quoted);
    }
  g_print ("\n");
  return HVKIT_EXIT_OK;
}

int
hvkit_cmd_kernel_params (HvkitTool *tool,
                         int        argc,
                         char     **argv)
{
  g_autofree char *path = NULL;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &path, "Configuration file", "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("kernel-params -c FILE", "Print the guest "
                              "kernel command line.", entries);
  g_autofree char *kernel_cmdline = NULL;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 0, &status))
    return status;

  status = read_launch_command (tool, path, DEFAULT_ARGV_ID, NULL, &kernel_cmdline);
  if (status != HVKIT_EXIT_OK)
    return status;

  g_print ("%s\n", kernel_cmdline ? kernel_cmdline : "");
  return HVKIT_EXIT_OK;
}
