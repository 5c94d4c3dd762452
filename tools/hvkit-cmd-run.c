/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <glib-unix.h>

#include "hvkit-tool.h"

/* `hvkit run`: start a VM in the foreground, show its console, stop it
 * cleanly on SIGINT/SIGTERM or when the guest goes away. */

#define RUN_CHECK_INTERVAL_MS 150
#define RUN_CONSOLE_RETRY_MS 2000

typedef struct {
  GMainLoop     *loop;
  HvkHypervisor *hypervisor;
  const char    *id;
  gboolean       signalled;   /* a signal asked to stop */
  gboolean       exited;      /* the guest went away by itself */
  int            console_fd;
  guint          console_source;
} RunState;

static gboolean
on_signal (gpointer user_data)
{
  RunState *run = user_data;

  run->signalled = TRUE;
  g_main_loop_quit (run->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_check (gpointer user_data)
{
  RunState *run = user_data;

  if (!hvk_hypervisor_check (run->hypervisor, NULL))
    {
      run->exited = TRUE;
      g_main_loop_quit (run->loop);
    }
  /* A VMM monitor serves one client at a time (QEMU's QMP): let go of it
   * between checks so that `hvkit status` and friends get their turn. */
  hvk_hypervisor_disconnect (run->hypervisor);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_console (int          fd,
            GIOCondition condition,
            gpointer     user_data)
{
  RunState *run = user_data;
  char buf[4096];
  gssize n = read (fd, buf, sizeof buf);

  if (n < 0 && errno == EINTR)
    return G_SOURCE_CONTINUE;
  if (n > 0 && hvkit_write_all (STDOUT_FILENO, buf, (gsize) n))
    return G_SOURCE_CONTINUE;

  /* The console closed: the guest is going away; the check notices. */
  run->console_source = 0;
  return G_SOURCE_REMOVE;
}

static void
attach_console (RunState *run)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *protocol = NULL;
  g_autofree char *url = NULL;

  if (!hvk_hypervisor_get_vm_console (run->hypervisor, &protocol, &url, &error))
    {
      hvkit_warn ("VM '%s': no console: %s", run->id, error->message);
      return;
    }
  if (g_strcmp0 (protocol, "unix") != 0 || url == NULL || *url == '\0')
    return;

  run->console_fd = hvkit_console_connect (url, RUN_CONSOLE_RETRY_MS, &error);
  if (run->console_fd < 0)
    {
      hvkit_warn ("VM '%s': %s", run->id, error->message);
      return;
    }
  run->console_source = g_unix_fd_add (run->console_fd,
                                       G_IO_IN | G_IO_HUP | G_IO_ERR,
                                       on_console, run);
}

int
hvkit_cmd_run (HvkitTool *tool,
               int        argc,
               char     **argv)
{
  g_autofree char *path = NULL;
  g_autofree char *id = NULL;
  const GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &path, "Configuration file", "FILE" },
    { "id", 0, 0, G_OPTION_ARG_STRING, &id, "VM id (default: a generated one)", "ID" },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("run -c FILE [--id ID]", "Start a VM in the "
                              "foreground showing its console; stop it "
                              "cleanly on Ctrl-C or SIGTERM.", entries);
  g_autoptr(HvkConfig) config = NULL;
  g_autoptr(HvkVmLock) lock = NULL;
  g_autoptr(HvkHypervisor) hypervisor = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  RunState run = { NULL, };
  guint sigint_source, sigterm_source, check_source;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 0, &status))
    return status;
  if (id == NULL)
    {
      g_autofree char *uuid = g_uuid_string_random ();
      id = g_strdup_printf ("run-%.8s", uuid);
    }
  if (!hvk_vm_id_validate (id, &error))
    return hvkit_fail (error, HVKIT_EXIT_USAGE);

  config = hvkit_load_config (tool, path, &status);
  if (config == NULL)
    return status;

  /* Handle the signals before starting: one arriving during the start
   * must still stop the VM. */
  loop = g_main_loop_new (NULL, FALSE);
  run.loop = loop;
  run.id = id;
  run.console_fd = -1;
  sigint_source = g_unix_signal_add (SIGINT, on_signal, &run);
  sigterm_source = g_unix_signal_add (SIGTERM, on_signal, &run);

  lock = hvk_vm_store_lock (tool->state_dir, id, FALSE, &error);
  if (lock == NULL)
    status = hvkit_fail (error, HVKIT_EXIT_FAILED);
  else
    hypervisor = hvkit_start_vm (tool, config, id, &status);
  if (hypervisor == NULL)
    {
      g_source_remove (sigint_source);
      g_source_remove (sigterm_source);
      return status;
    }

  g_printerr ("hvkit: VM '%s' running (backend %s); Ctrl-C stops it\n", id,
              hvk_hypervisor_get_backend_name (hypervisor));
  run.hypervisor = hypervisor;
  hvk_hypervisor_disconnect (hypervisor);
  attach_console (&run);
  check_source = g_timeout_add (RUN_CHECK_INTERVAL_MS, on_check, &run);

  /* A signal may have come while starting. */
  if (!run.signalled)
    g_main_loop_run (loop);

  g_source_remove (check_source);
  if (run.console_source != 0)
    g_source_remove (run.console_source);
  if (run.console_fd >= 0)
    close (run.console_fd);

  status = HVKIT_EXIT_OK;
  if (!hvk_hypervisor_stop_vm (hypervisor, run.exited && !run.signalled, NULL,
                               &error))
    {
      status = hvkit_fail (error, HVKIT_EXIT_FAILED);
      g_clear_error (&error);
    }
  if (!hvk_hypervisor_cleanup (hypervisor, &error))
    {
      hvkit_warn ("%s", error->message);
      g_clear_error (&error);
    }
  if (!hvk_vm_store_remove_dir (tool->state_dir, id, &error))
    status = hvkit_fail (error, HVKIT_EXIT_FAILED);

  g_source_remove (sigint_source);
  g_source_remove (sigterm_source);
  if (status == HVKIT_EXIT_OK)
    g_printerr ("hvkit: VM '%s' stopped (%s)\n", id,
                run.signalled ? "signal" : "the guest exited");
  return status;
}
