/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/* Exit statuses: DESIGN.md "Command-line tool". */
enum {
  HVKIT_EXIT_OK = 0,
  HVKIT_EXIT_FAILED = 1,
  HVKIT_EXIT_USAGE = 2,
};

typedef struct {
  char        *state_dir;
  HvkRegistry *registry;   /* (nullable): made on first use */
} HvkitTool;

typedef int (*HvkitCommandFunc) (HvkitTool *tool,
                                 int        argc,
                                 char     **argv);

/* hvkit.c */
HvkRegistry *hvkit_tool_get_registry (HvkitTool *tool);

/* hvkit-output.c */
int       hvkit_fail              (const GError *error,
                                   int           exit_code);
int       hvkit_fail_printf       (int           exit_code,
                                   const char   *format,
                                   ...) G_GNUC_PRINTF (2, 3);
void      hvkit_warn              (const char   *format,
                                   ...) G_GNUC_PRINTF (1, 2);
int       hvkit_exit_code_for     (const GError *error);
void      hvkit_print_json        (JsonNode     *node);
gboolean  hvkit_write_all         (int           fd,
                                   const void   *data,
                                   gsize         len);
GOptionContext *hvkit_option_context_new (const char   *parameters,
                                          const char   *summary,
                                          const GOptionEntry *entries);
/* Whether @option is among the arguments (before any "--"): for a
 * command whose positional arguments depend on a flag. */
gboolean  hvkit_has_option        (int            argc,
                                   char         **argv,
                                   const char    *option);
gboolean  hvkit_parse_options     (GOptionContext *context,
                                   int          *argc,
                                   char       ***argv,
                                   int           n_positional,
                                   int          *exit_code);

/* hvkit-vm.c: shared steps of the VM commands */
HvkConfig     *hvkit_load_config   (HvkitTool    *tool,
                                    const char   *path,
                                    int          *exit_code);
HvkHypervisor *hvkit_open_vm       (HvkitTool    *tool,
                                    const char   *id,
                                    HvkVmLock   **lock,
                                    int          *exit_code);
HvkHypervisor *hvkit_open_vm_from_state (HvkitTool  *tool,
                                         const char *id,
                                         JsonNode   *state,
                                         int        *exit_code);
HvkHypervisor *hvkit_open_vm_to_stop (HvkitTool  *tool,
                                      const char *id,
                                      HvkVmLock **lock,
                                      GError    **record_error,
                                      int        *exit_code);
/* A call on the VM failed: its record keeps what the backend recorded
 * of it all the same, then @error is printed; returns the exit code. */
int            hvkit_fail_keeping_record (HvkitTool     *tool,
                                          const char    *id,
                                          HvkHypervisor *hypervisor,
                                          const GError  *error);
int            hvkit_stop_unrecorded (HvkitTool    *tool,
                                      const char   *id,
                                      const GError *record_error);
HvkHypervisor *hvkit_open_vm_to_change (HvkitTool  *tool,
                                        const char *id,
                                        HvkVmLock **lock,
                                        int        *exit_code);
HvkHypervisor *hvkit_restore_vm    (HvkitTool    *tool,
                                    HvkConfig    *config,
                                    const char   *id,
                                    const char   *restore_dir,
                                    gboolean      paused,
                                    GPtrArray    *cold_devices,
                                    int          *exit_code);
HvkHypervisor *hvkit_start_vm      (HvkitTool    *tool,
                                    HvkConfig    *config,
                                    const char   *id,
                                    int          *exit_code);
int            hvkit_save_vm       (HvkitTool    *tool,
                                    const char   *id,
                                    HvkHypervisor *hypervisor);
JsonNode      *hvkit_vm_status     (HvkitTool    *tool,
                                    const char   *id,
                                    HvkHypervisor *hypervisor,
                                    gboolean      check);
JsonNode      *hvkit_vm_status_from_description (const char *id,
                                                JsonNode   *description,
                                                const char *state,
                                                const char *error);

/* hvkit-kinds.c */
void      hvkit_add_backend_device_kinds (JsonBuilder *builder,
                                          HvkRegistry *registry,
                                          const char  *backend);

/* hvkit-console.c */
int       hvkit_console_connect   (const char   *path,
                                   guint         retry_ms,
                                   GError      **error);
int       hvkit_console_attach    (int           fd,
                                   GError      **error);

/* Commands, one file per group. */
int hvkit_cmd_backends      (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_check         (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_argv          (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_kernel_params (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_run           (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_start         (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_status        (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_console       (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_list          (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_stats         (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_shutdown      (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_events        (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_logs          (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_reboot        (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_pause         (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_resume        (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_template      (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_save          (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_restore       (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_stop          (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_hotplug       (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_unplug        (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_resize        (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_balloon       (HvkitTool *tool, int argc, char **argv);
int hvkit_cmd_iotune        (HvkitTool *tool, int argc, char **argv);

G_END_DECLS
