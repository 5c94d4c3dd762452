/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "hvkit-tool.h"

/* logs: the VMM's log files of a VM (`*.log` in its directory, with the
 * rotated `*.log.N` before each), while it runs and after it stopped:
 * removing a VM keeps them (hvk_vm_store_logs_dir()) until the next VM of
 * that id is removed or `hvkit logs ID --clear`. */

#define MAX_ROTATED 99

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* The base log files of @dir (`qemu.log`, `virtiofsd.log`), sorted. */
static GPtrArray *
list_logs (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (name[0] != '.' && g_str_has_suffix (name, ".log"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  return names;
}

/* Writes @path from @offset on; returns the new offset. */
static goffset
print_from (const char *path,
            goffset     offset)
{
  FILE *f = fopen (path, "re");
  char buf[65536];
  size_t n;

  if (f == NULL)
    return offset;
  if (offset > 0 && fseeko (f, offset, SEEK_SET) != 0)
    {
      fclose (f);
      return offset;
    }
  while ((n = fread (buf, 1, sizeof buf, f)) > 0)
    {
      fwrite (buf, 1, n, stdout);
      offset += (goffset) n;
    }
  fclose (f);
  fflush (stdout);
  return offset;
}

static gboolean
vm_running (HvkitTool  *tool,
            const char *id)
{
  g_autoptr(HvkHypervisor) hypervisor =
    hvk_vm_store_load_hypervisor (tool->state_dir, id, hvkit_tool_get_registry (tool), NULL);
  HvkVmState state = hypervisor ? hvk_hypervisor_get_state (hypervisor) : HVK_VM_STATE_STOPPED;

  return state == HVK_VM_STATE_RUNNING || state == HVK_VM_STATE_PAUSED
         || state == HVK_VM_STATE_STARTING;
}

int
hvkit_cmd_logs (HvkitTool *tool,
                int        argc,
                char     **argv)
{
  gboolean follow = FALSE, clear = FALSE;
  const GOptionEntry entries[] = {
    { "follow", 'f', 0, G_OPTION_ARG_NONE, &follow,
      "Go on printing what the VMM writes until the VM ends", NULL },
    { "clear", 0, 0, G_OPTION_ARG_NONE, &clear, "Remove the logs kept of a stopped VM", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    hvkit_option_context_new ("logs ID", "Print the VMM's logs of a VM, running or stopped.",
                              entries);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) names = NULL;
  g_autofree char *state_file = NULL;
  g_autofree char *dir = NULL;
  g_autofree goffset *offsets = NULL;
  gboolean live;
  int status;

  if (!hvkit_parse_options (context, &argc, &argv, 1, &status))
    return status;
  if (!hvk_vm_id_validate (argv[1], &error))
    return hvkit_fail (error, HVKIT_EXIT_USAGE);

  state_file = g_build_filename (tool->state_dir, argv[1], HVK_VM_STATE_FILE, NULL);
  live = g_file_test (state_file, G_FILE_TEST_EXISTS);
  if (clear)
    {
      if (live)
        return hvkit_fail_printf (HVKIT_EXIT_FAILED, "VM '%s' is still recorded: its logs go "
                                  "with it (`hvkit stop %s`)", argv[1], argv[1]);
      if (!hvk_vm_store_remove_logs (tool->state_dir, argv[1], &error))
        return hvkit_fail (error, HVKIT_EXIT_FAILED);
      return HVKIT_EXIT_OK;
    }
  dir = live ? g_build_filename (tool->state_dir, argv[1], NULL)
             : hvk_vm_store_logs_dir (tool->state_dir, argv[1]);
  names = list_logs (dir);
  if (names->len == 0)
    return hvkit_fail_printf (HVKIT_EXIT_FAILED, "VM '%s' has no logs in %s", argv[1],
                              tool->state_dir);

  offsets = g_new0 (goffset, names->len);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *base = g_build_filename (dir, names->pdata[i], NULL);

      if (names->len > 1)
        g_print ("%s==> %s <==\n", i > 0 ? "\n" : "", (const char *) names->pdata[i]);
      for (int n = MAX_ROTATED; n >= 1; n--)
        {
          g_autofree char *rotated = g_strdup_printf ("%s.%d", base, n);

          if (g_file_test (rotated, G_FILE_TEST_EXISTS))
            print_from (rotated, 0);
        }
      offsets[i] = print_from (base, 0);
    }

  /* Following: new output as it comes (a rotation starts the file over),
   * until the VM is no longer running. */
  if (follow && live)
    {
      guint ticks = 0;

      for (;;)
        {
          gboolean running = TRUE;

          if (ticks++ % 5 == 0)
            running = vm_running (tool, argv[1]);
          for (guint i = 0; i < names->len; i++)
            {
              g_autofree char *base = g_build_filename (dir, names->pdata[i], NULL);
              GStatBuf st;

              if (g_stat (base, &st) != 0)
                continue;
              if (st.st_size < offsets[i])
                offsets[i] = 0;
              if (st.st_size > offsets[i])
                offsets[i] = print_from (base, offsets[i]);
            }
          if (!running)
            break;
          g_usleep (200 * 1000);
        }
      /* Its last words, from where the removal put the logs. */
      {
        g_autofree char *kept = hvk_vm_store_logs_dir (tool->state_dir, argv[1]);

        for (guint i = 0; i < names->len; i++)
          {
            g_autofree char *base = g_build_filename (dir, names->pdata[i], NULL);
            g_autofree char *moved = g_build_filename (kept, names->pdata[i], NULL);

            if (!g_file_test (base, G_FILE_TEST_EXISTS))
              print_from (moved, offsets[i]);
          }
      }
    }
  return HVKIT_EXIT_OK;
}
