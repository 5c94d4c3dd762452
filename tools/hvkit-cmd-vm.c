/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <glib/gstdio.h>

#include "hvkit-tool.h"

/* Commands that change one VM: start, pause, resume, stop, hotplug,
 * unplug, resize.  Each takes the VM's lock, acts and saves the state. */

int
hvkit_cmd_start (HvkitTool *tool,
                 int        argc,
                 char     **argv)
{
  g_autofree char *path = NULL;
  g_autofree char *id = NULL;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &path, "Configuration file", "FILE" },
    { "id", 0, 0, G_OPTION_ARG_STRING, &id, "VM id", "ID" },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("start -c FILE --id ID", "Start a VM and "
                              "return; it keeps running.", entries);
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkVmLock) lock = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 0, &status))
    return status;
  if (id == NULL)
    return hvkit_fail_printf (HVKIT_EXIT_USAGE, "start: missing --id ID");
  if (!hvk_vm_id_validate (id, &error))
    return hvkit_fail (error, HVKIT_EXIT_USAGE);

  config = hvkit_load_config (tool, path, &status);
  if (config == NULL)
    return status;

  lock = hvk_vm_store_lock (tool->state_dir, id, FALSE, &error);
  if (lock == NULL)
    return hvkit_fail (error, HVKIT_EXIT_FAILED);

  hypervisor = hvkit_start_vm (tool, config, id, &status);
  if (hypervisor == NULL)
    return status;

  g_print ("VM '%s' started\n", id);
  return HVKIT_EXIT_OK;
}

typedef gboolean (*VmAction) (HvkHypervisor  *hypervisor,
                              GCancellable   *cancellable,
                              GError        **error);

static int
simple_action (HvkitTool  *tool,
               int         argc,
               char      **argv,
               const char *summary,
               VmAction    action,
               const char *done)
{
  g_autofree char *parameters = g_strdup_printf ("%s ID", argv[0]);
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new (parameters, summary, NULL);
  g_autoptr(HvkVmLock) lock = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 1, &status))
    return status;
  hypervisor = hvkit_open_vm_to_change (tool, argv[1], &lock, &status);
  if (hypervisor == NULL)
    return status;

  if (!action (hypervisor, NULL, &error))
    return hvkit_fail_keeping_record (tool, argv[1], hypervisor, error);

  status = hvkit_save_vm (tool, argv[1], hypervisor);
  if (status == HVKIT_EXIT_OK)
    g_print ("VM '%s' %s\n", argv[1], done);
  return status;
}

int
hvkit_cmd_pause (HvkitTool *tool,
                 int        argc,
                 char     **argv)
{
  return simple_action (tool, argc, argv, "Pause a running VM.",
                        hvk_hypervisor_pause_vm, "paused");
}

int
hvkit_cmd_resume (HvkitTool *tool,
                  int        argc,
                  char     **argv)
{
  return simple_action (tool, argc, argv, "Resume a paused VM.",
                        hvk_hypervisor_resume_vm, "resumed");
}

int
hvkit_cmd_reboot (HvkitTool *tool,
                  int        argc,
                  char     **argv)
{
  return simple_action (tool, argc, argv, "Reset a running VM's guest: it boots again.",
                        hvk_hypervisor_reboot_vm, "rebooted");
}

/* Stops @hypervisor (a stopped one is released), cleans up after it and
 * removes its state dir: `stop`, and `shutdown` once the guest is off. */
static int
stop_and_remove (HvkitTool     *tool,
                 const char    *id,
                 HvkHypervisor *hypervisor)
{
  g_autoptr(GError) error = NULL;
  /* A start that never finished: its record may not know every process. */
  gboolean was_starting = hvk_hypervisor_get_state (hypervisor) == HVK_VM_STATE_STARTING;

  if (!hvk_hypervisor_stop_vm (hypervisor, FALSE, NULL, &error))
    return hvkit_fail_keeping_record (tool, id, hypervisor, error);
  if (!hvk_hypervisor_cleanup (hypervisor, &error))
    hvkit_warn ("%s", error->message);
  g_clear_error (&error);
  if (was_starting)
    {
      g_autofree char *dir = g_build_filename (tool->state_dir, id, NULL);
      g_autoptr(GArray) killed = hvk_process_kill_referencing (dir, 3000);
    }

  hvk_debug_kill_point ("tool:remove");
  /* A stopped VM leaves nothing behind but its logs (`hvkit logs`). */
  if (!hvk_vm_store_remove_dir (tool->state_dir, id, &error))
    return hvkit_fail (error, HVKIT_EXIT_FAILED);
  return HVKIT_EXIT_OK;
}

int
hvkit_cmd_shutdown (HvkitTool *tool,
                    int        argc,
                    char     **argv)
{
  int timeout_s = 60;
  const GOptionEntry entries[] = {
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s,
      "Seconds the guest has to power off before the VM is stopped (default 60)", "S" },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("shutdown ID", "Ask the guest to power off (ACPI power button); "
                              "stop the VM if it has not within the timeout.", entries);
  g_autoptr(HvkVmLock) lock = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) record_error = NULL;
  gboolean powered_off;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 1, &status))
    return status;
  if (timeout_s < 0 || timeout_s > G_MAXINT / 1000)
    return hvkit_fail_printf (HVKIT_EXIT_USAGE, "shutdown: --timeout %d is not a number of "
                              "seconds from 0 to %d", timeout_s, G_MAXINT / 1000);
  hypervisor = hvkit_open_vm_to_stop (tool, argv[1], &lock, &record_error, &status);
  if (hypervisor == NULL)
    return record_error != NULL ? hvkit_fail (record_error, HVKIT_EXIT_FAILED) : status;

  powered_off = hvk_hypervisor_shutdown_vm (hypervisor, (guint) timeout_s * 1000, NULL, &error);
  if (!powered_off)
    {
      /* Only a guest that did not power off in time is stopped: any
       * other failure leaves the VM as it was. */
      if (!g_error_matches (error, HVK_ERROR, HVK_ERROR_TIMEOUT))
        return hvkit_fail_keeping_record (tool, argv[1], hypervisor, error);
      hvkit_warn ("%s: stopping it", error->message);
    }
  status = stop_and_remove (tool, argv[1], hypervisor);
  if (status != HVKIT_EXIT_OK)
    return status;
  if (powered_off)
    g_print ("VM '%s' shut down (the guest powered off)\n", argv[1]);
  else
    g_print ("VM '%s' stopped (the guest did not power off within %d s)\n", argv[1], timeout_s);
  return HVKIT_EXIT_OK;
}

int
hvkit_cmd_stop (HvkitTool *tool,
                int        argc,
                char     **argv)
{
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("stop ID", "Stop a VM and remove its state.",
                              NULL);
  g_autoptr(HvkVmLock) lock = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) record_error = NULL;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 1, &status))
    return status;
  hypervisor = hvkit_open_vm_to_stop (tool, argv[1], &lock, &record_error, &status);
  /* A record that cannot be read; no record at all is no VM (the record
   * is written before anything is spawned). */
  if (hypervisor == NULL && record_error != NULL && lock != NULL)
    {
      g_autofree char *state_file = g_build_filename (tool->state_dir, argv[1],
                                                      HVK_VM_STATE_FILE, NULL);
      GStatBuf st;

      if (g_lstat (state_file, &st) == 0)
        return hvkit_stop_unrecorded (tool, argv[1], record_error);
    }
  if (hypervisor == NULL)
    return record_error != NULL ? hvkit_fail (record_error, HVKIT_EXIT_FAILED) : status;

  status = stop_and_remove (tool, argv[1], hypervisor);
  if (status != HVKIT_EXIT_OK)
    return status;
  g_print ("VM '%s' stopped\n", argv[1]);
  return HVKIT_EXIT_OK;
}

int
hvkit_cmd_save (HvkitTool *tool,
                int        argc,
                char     **argv)
{
  gboolean stop = FALSE;
  const GOptionEntry entries[] = {
    { "stop", 0, 0, G_OPTION_ARG_NONE, &stop, "Stop the VM once saved", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("save ID DIR [--stop]",
                              "Save a running or paused VM (guest RAM, device state, "
                              "configuration) into DIR; it runs on unless --stop.", entries);
  g_autoptr(HvkVmLock) lock = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 2, &status))
    return status;
  hypervisor = hvkit_open_vm_to_change (tool, argv[1], &lock, &status);
  if (hypervisor == NULL)
    return status;

  if (!hvk_hypervisor_save_to_dir (hypervisor, argv[2], NULL, &error))
    return hvkit_fail_keeping_record (tool, argv[1], hypervisor, error);
  status = stop ? stop_and_remove (tool, argv[1], hypervisor)
                : hvkit_save_vm (tool, argv[1], hypervisor);
  if (status == HVKIT_EXIT_OK)
    g_print ("VM '%s' saved to %s%s\n", argv[1], argv[2], stop ? " and stopped" : "");
  return status;
}

int
hvkit_cmd_restore (HvkitTool *tool,
                   int        argc,
                   char     **argv)
{
  g_autofree char *id = NULL;
  gboolean paused = FALSE;
  const GOptionEntry entries[] = {
    { "id", 0, 0, G_OPTION_ARG_STRING, &id, "VM id (default: the saved VM's)", "ID" },
    { "paused", 0, 0, G_OPTION_ARG_NONE, &paused, "Leave the restored VM paused", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("restore DIR [--id ID] [--paused]",
                              "Start the VM saved in DIR where it was saved; it keeps "
                              "running.", entries);
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(GPtrArray) cold = NULL;
  g_autoptr(HvkVmLock) lock = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *saved_id = NULL;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 1, &status))
    return status;
  config = hvk_save_dir_load_config (argv[1], hvkit_tool_get_registry (tool), &saved_id,
                                     &cold, &error);
  if (config == NULL)
    return hvkit_fail (error, HVKIT_EXIT_FAILED);
  if (id == NULL)
    id = g_steal_pointer (&saved_id);
  if (!hvk_vm_id_validate (id, &error))
    return hvkit_fail (error, HVKIT_EXIT_USAGE);

  lock = hvk_vm_store_lock (tool->state_dir, id, FALSE, &error);
  if (lock == NULL)
    return hvkit_fail (error, HVKIT_EXIT_FAILED);
  hypervisor = hvkit_restore_vm (tool, config, id, argv[1], paused, cold, &status);
  if (hypervisor == NULL)
    return status;

  g_print ("VM '%s' restored from %s%s\n", id, argv[1], paused ? " (paused)" : "");
  return HVKIT_EXIT_OK;
}

/* Kata's SaveVM for a template: the VM (boot_to_be_template) is paused,
 * its device state migrated to devices_state_path (its RAM is already
 * the shared memory_path), then it is stopped; both files stay for the
 * clones (boot_from_template). */
int
hvkit_cmd_template (HvkitTool *tool,
                    int        argc,
                    char     **argv)
{
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("template ID",
                              "Save a VM booted with boot_to_be_template=true as the "
                              "template of its clones, then stop it.", NULL);
  g_autoptr(HvkVmLock) lock = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  HvkConfig *config;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 1, &status))
    return status;
  hypervisor = hvkit_open_vm_to_change (tool, argv[1], &lock, &status);
  if (hypervisor == NULL)
    return status;

  if (!hvk_hypervisor_save_vm (hypervisor, NULL, &error))
    return hvkit_fail_keeping_record (tool, argv[1], hypervisor, error);
  config = hvk_hypervisor_get_config (hypervisor);
  status = stop_and_remove (tool, argv[1], hypervisor);
  if (status != HVKIT_EXIT_OK)
    return status;
  g_print ("VM '%s' saved as a template (memory %s, device state %s) and stopped\n", argv[1],
           config != NULL ? hvk_config_get_string (config, "memory_path") : "?",
           config != NULL ? hvk_config_get_string (config, "devices_state_path") : "?");
  return HVKIT_EXIT_OK;
}

int
hvkit_cmd_hotplug (HvkitTool *tool,
                   int        argc,
                   char     **argv)
{
  g_autofree char *device_text = NULL;
  const GOptionEntry entries[] = {
    { "device", 0, 0, G_OPTION_ARG_STRING, &device_text,
      "The device: KIND,id=ID,key=value,…", "DEVICE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("hotplug ID --device KIND,key=value,…",
                              "Add a device to a running VM.", entries);
  g_autoptr(HvkVmLock) lock = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(HvkDevice) device = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 1, &status))
    return status;
  if (device_text == NULL)
    return hvkit_fail_printf (HVKIT_EXIT_USAGE, "hotplug: missing --device");
  if (!hvk_vm_id_validate (argv[1], &error))
    return hvkit_fail (error, HVKIT_EXIT_USAGE);

  /* A bad device string is a bad command line, whatever the VM (the
   * parser validates the device). */
  device = hvk_device_new_from_string (hvkit_tool_get_registry (tool),
                                       device_text, &error);
  if (device == NULL)
    return hvkit_fail (error, HVKIT_EXIT_USAGE);

  hypervisor = hvkit_open_vm_to_change (tool, argv[1], &lock, &status);
  if (hypervisor == NULL)
    return status;

  if (!hvk_hypervisor_hotplug_add_device (hypervisor, device, NULL, &error))
    return hvkit_fail_keeping_record (tool, argv[1], hypervisor, error);

  status = hvkit_save_vm (tool, argv[1], hypervisor);
  if (status == HVKIT_EXIT_OK)
    g_print ("device '%s' added to VM '%s'\n", hvk_device_get_id (device),
             argv[1]);
  return status;
}

int
hvkit_cmd_unplug (HvkitTool *tool,
                  int        argc,
                  char     **argv)
{
  g_autofree char *device_id = NULL;
  const GOptionEntry entries[] = {
    { "device-id", 0, 0, G_OPTION_ARG_STRING, &device_id,
      "The id of a hot-plugged device", "DEVID" },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("unplug ID --device-id DEVID",
                              "Remove a hot-plugged device.", entries);
  g_autoptr(HvkVmLock) lock = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 1, &status))
    return status;
  if (device_id == NULL || *device_id == '\0')
    return hvkit_fail_printf (HVKIT_EXIT_USAGE, "unplug: missing --device-id");

  hypervisor = hvkit_open_vm_to_change (tool, argv[1], &lock, &status);
  if (hypervisor == NULL)
    return status;

  if (!hvk_hypervisor_hotplug_remove_device (hypervisor, device_id, NULL,
                                             &error))
    return hvkit_fail_keeping_record (tool, argv[1], hypervisor, error);

  status = hvkit_save_vm (tool, argv[1], hypervisor);
  if (status == HVKIT_EXIT_OK)
    g_print ("device '%s' removed from VM '%s'\n", device_id, argv[1]);
  return status;
}

int
hvkit_cmd_resize (HvkitTool *tool,
                  int        argc,
                  char     **argv)
{
  /* Unset until given: -1 is a value to refuse by name, not "absent". */
  gint64 vcpus = G_MININT64;
  gint64 memory = G_MININT64;
  const GOptionEntry entries[] = {
    { "vcpus", 0, 0, G_OPTION_ARG_INT64, &vcpus, "The wanted number of vCPUs", "N" },
    { "memory", 0, 0, G_OPTION_ARG_INT64, &memory, "The wanted memory in MiB", "MIB" },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("resize ID [--vcpus N] [--memory MIB]",
                              "Change a running VM's vCPUs or memory.", entries);
  g_autoptr(HvkVmLock) lock = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 1, &status))
    return status;
  if (vcpus == G_MININT64 && memory == G_MININT64)
    return hvkit_fail_printf (HVKIT_EXIT_USAGE,
                              "resize: give --vcpus N, --memory MIB or both");
  if (vcpus != G_MININT64 && (vcpus <= 0 || vcpus > G_MAXUINT32))
    return hvkit_fail_printf (HVKIT_EXIT_USAGE,
                              "resize: invalid --vcpus %" G_GINT64_FORMAT, vcpus);
  if (memory != G_MININT64 && (memory <= 0 || memory > G_MAXUINT32))
    return hvkit_fail_printf (HVKIT_EXIT_USAGE,
                              "resize: invalid --memory %" G_GINT64_FORMAT, memory);

  hypervisor = hvkit_open_vm_to_change (tool, argv[1], &lock, &status);
  if (hypervisor == NULL)
    return status;

  if (vcpus != G_MININT64)
    {
      guint32 old_vcpus = 0, new_vcpus = 0;

      if (!hvk_hypervisor_resize_vcpus (hypervisor, (guint32) vcpus,
                                        &old_vcpus, &new_vcpus, NULL, &error))
        return hvkit_fail_keeping_record (tool, argv[1], hypervisor, error);
      g_print ("vcpus: %u -> %u\n", old_vcpus, new_vcpus);
    }

  if (memory != G_MININT64)
    {
      guint32 old_mb = hvk_hypervisor_get_total_memory_mb (hypervisor);
      guint32 new_mb = 0;
      HvkMemoryDevice mem_dev = { 0, };

      if (!hvk_hypervisor_resize_memory (hypervisor, (guint32) memory, 0, FALSE,
                                         &new_mb, &mem_dev, NULL, &error))
        return hvkit_fail_keeping_record (tool, argv[1], hypervisor, error);
      g_print ("memory: %u MiB -> %u MiB\n", old_mb, new_mb);
    }

  return hvkit_save_vm (tool, argv[1], hypervisor);
}

static void
add_mb_or_null (JsonBuilder *builder,
                const char  *name,
                gint64       mb)
{
  json_builder_set_member_name (builder, name);
  if (mb >= 0)
    json_builder_add_int_value (builder, mb);
  else
    json_builder_add_null_value (builder);
}

/* `hvkit balloon ID [--target MIB] [--stats-interval S] [--json]`: sets
 * the balloon's target and the guest's statistics interval, then says
 * where the balloon is (a VM with reclaim_guest_freed_memory). */
int
hvkit_cmd_balloon (HvkitTool *tool,
                   int        argc,
                   char     **argv)
{
  gint64 target = G_MININT64;
  gint64 interval = G_MININT64;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "target", 0, 0, G_OPTION_ARG_INT64, &target, "The memory to leave the guest, in MiB", "MIB" },
    { "stats-interval", 0, 0, G_OPTION_ARG_INT64, &interval,
      "How often the guest reports its memory statistics, in seconds (0: never)", "S" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("balloon ID [--target MIB] [--stats-interval S] [--json]",
                              "Set or read the balloon of a VM with reclaim_guest_freed_memory.",
                              entries);
  g_autoptr(HvkVmLock) lock = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GError) error = NULL;
  HvkBalloonInfo info;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 1, &status))
    return status;
  if (target != G_MININT64 && (target <= 0 || target > G_MAXUINT32))
    return hvkit_fail_printf (HVKIT_EXIT_USAGE,
                              "balloon: invalid --target %" G_GINT64_FORMAT, target);
  if (interval != G_MININT64 && (interval < 0 || interval > G_MAXINT32))
    return hvkit_fail_printf (HVKIT_EXIT_USAGE,
                              "balloon: invalid --stats-interval %" G_GINT64_FORMAT, interval);

  hypervisor = hvkit_open_vm_to_change (tool, argv[1], &lock, &status);
  if (hypervisor == NULL)
    return status;
  if (!hvk_hypervisor_balloon (hypervisor, target != G_MININT64 ? (guint64) target : 0,
                               interval != G_MININT64 ? (gint) interval : -1,
                               &info, NULL, &error))
    return hvkit_fail (error, HVKIT_EXIT_FAILED);

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, argv[1]);
      add_mb_or_null (builder, "actual_mb", (gint64) info.actual_mb);
      add_mb_or_null (builder, "target_mb", (gint64) info.target_mb);
      json_builder_set_member_name (builder, "stats_interval_s");
      json_builder_add_int_value (builder, info.stats_interval_s);
      add_mb_or_null (builder, "guest_free_mb", info.guest_free_mb);
      add_mb_or_null (builder, "guest_available_mb", info.guest_available_mb);
      add_mb_or_null (builder, "guest_total_mb", info.guest_total_mb);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      hvkit_print_json (root);
    }
  else
    {
      g_print ("balloon: actual %" G_GUINT64_FORMAT " MiB", info.actual_mb);
      if (info.target_mb > 0)
        g_print (", target %" G_GUINT64_FORMAT " MiB", info.target_mb);
      else
        g_print (", no target");
      g_print (", guest statistics every %u s\n", info.stats_interval_s);
      if (info.guest_free_mb >= 0)
        g_print ("guest: free %" G_GINT64_FORMAT " MiB, available %" G_GINT64_FORMAT
                 " MiB, total %" G_GINT64_FORMAT " MiB\n",
                 info.guest_free_mb, info.guest_available_mb, info.guest_total_mb);
    }
  return hvkit_save_vm (tool, argv[1], hypervisor);
}
