/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Helpers of the end-to-end tests: the guest (HVKIT_TEST_GUEST_DIR, built
 * by tests/guest/build-guest.sh), configs written from a template with
 * absolute paths, the guest console, a minimal QMP query (independent of
 * the plugin's client, so what the tests see is QEMU's word) and process
 * checks.  Every wait has a bound. */

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

#define E2E_DEFAULT_GUEST_DIR "/var/lib/hvkit/guest"
#define E2E_BOOT_TIMEOUT_MS   120000
#define E2E_EVENT_TIMEOUT_MS  60000
#define E2E_READY_MARKER      "HVKIT-GUEST-READY"

typedef struct {
  char *tmpdir;      /* short, so socket paths fit */
  char *store;       /* TMP/state */
  char *guest_dir;
  char *kernel;
  char *initrd;
  char *qemu;
  char *skip_reason; /* set when the environment cannot run e2e tests */
} E2eEnv;

void      e2e_env_init          (E2eEnv *env);
void      e2e_env_clear         (E2eEnv *env);
/* Skips the current test (TRUE) when the environment cannot run it. */
gboolean  e2e_env_skip          (E2eEnv *env);

/* Writes TMP/NAME.conf: the standard test VM (q35, TCG, 1 vCPU of 2,
 * 256 MiB of 1024, virtio-blk) with @overrides (key=value lines of the
 * [hypervisor.qemu] group, replacing the defaults) and @extra (text
 * appended, e.g. [device.*] groups). */
char     *e2e_write_config      (E2eEnv     *env,
                                 const char *name,
                                 const char *overrides,
                                 const char *extra);

HvkRegistry *e2e_registry_new   (void);

typedef struct _E2eConsole E2eConsole;
E2eConsole *e2e_console_open    (const char *path,
                                 guint       timeout_ms);
/* Waits until @needle has been seen since the console was opened (or
 * since the last e2e_console_forget()). */
gboolean  e2e_console_wait      (E2eConsole *console,
                                 const char *needle,
                                 guint       timeout_ms);
/* Waits until @needle has been seen @count times since the console was
 * opened (or since the last e2e_console_forget()). */
gboolean  e2e_console_wait_count (E2eConsole *console,
                                  const char *needle,
                                  guint       count,
                                  guint       timeout_ms);
/* The last line starting with @prefix since the forget point, or NULL. */
char     *e2e_console_find_last_line (E2eConsole *console,
                                      const char *prefix);
/* After the ready marker: fails, saying so, when the guest is older than
 * tests/guest/build-guest.sh (no HVKIT-CPUS / HVKIT-MEMTOTAL lines). */
void      e2e_console_require_current_guest (E2eConsole *console,
                                             E2eEnv     *env);
/* The first line starting with @prefix, after @needle_start. */
char     *e2e_console_find_line (E2eConsole *console,
                                 const char *prefix);
void      e2e_console_forget    (E2eConsole *console);
const char *e2e_console_text    (E2eConsole *console);
void      e2e_console_free      (E2eConsole *console);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (E2eConsole, e2e_console_free)

/* Connects to @qmp_socket, negotiates, runs @command (a name, or a whole
 * JSON request starting with '{') and returns its
 * "return" member (or NULL and the error text in @error). */
JsonNode *e2e_qmp_query         (const char  *qmp_socket,
                                 const char  *command,
                                 GError     **error);
/* The same with @arguments (nullable). */
JsonNode *e2e_qmp_execute       (const char  *qmp_socket,
                                 const char  *command,
                                 JsonObject  *arguments,
                                 GError     **error);
char     *e2e_qmp_status        (const char  *qmp_socket);

/* Copies the test jailer (tests/e2e/jailer-record.sh, HVKIT_TEST_JAILER)
 * to TMP/NAME (0755) with an empty TMP/NAME.log (0600) beside it, where
 * it records its runs; NAME picks its behaviour (see the script).
 * Returns TMP/NAME, or NULL (the test skipped) without the script. */
char     *e2e_install_jailer    (E2eEnv      *env,
                                 const char  *name);
/* The first "KEY=VALUE" line of the jailer @name's log: VALUE, or NULL. */
char     *e2e_jailer_record     (const char  *jailer,
                                 const char  *key);

gboolean  e2e_pid_alive         (int          pid);
gboolean  e2e_wait_pid_dead     (int          pid,
                                 guint        timeout_ms);
int       e2e_read_pid_file     (const char  *path);
/* Kill these (SIGKILL) if the test program aborts, traps or is killed. */
void      e2e_track_pid         (int            pid);
void      e2e_track_hypervisor  (HvkHypervisor *hypervisor);
/* Open descriptors of this process (leak checks). */
guint     e2e_count_fds         (void);

/* Runs the built hvkit tool (HVKIT_TEST_TOOL) with --state-dir STORE. */
int       e2e_run_tool          (E2eEnv      *env,
                                 char       **out,
                                 char       **err,
                                 const char  *first_arg,
                                 ...) G_GNUC_NULL_TERMINATED;
/* `hvkit status ID --json` (it must succeed), parsed. */
JsonObject *e2e_tool_status     (E2eEnv      *env,
                                 const char  *id);

G_END_DECLS
