/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Helpers of the fault-injection and security tests: a short temporary
 * dir (socket paths must fit), configs for the misbehaving QEMU stand-in
 * (fake-qemu.py), the hvkit tool, and leak checks (descriptors of this
 * process, processes that mention the temporary dir, VM dirs). */

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

typedef struct {
  char *tmpdir;
  char *store;       /* TMP/state */
  char *kernel;      /* an empty file: the stand-in never boots it */
  char *initrd;
  char *disk;        /* a small raw image for block hotplug */
  char *fake_qemu;   /* the stand-in (source dir) */
  gboolean borrowed; /* a test subprocess: the parent's dir, not removed */
} RelEnv;

/* In a g_test_trap_subprocess() child, reuses the parent's dir. */
void      rel_env_init          (RelEnv *env);
void      rel_env_clear         (RelEnv *env);
void      rel_remove_tree       (const char *path);

/* Writes TMP/NAME.conf for the QEMU backend with the stand-in as `path`
 * (allowed by valid_hypervisor_paths) and @extra lines appended to the
 * [hypervisor.qemu] group. */
char     *rel_write_config      (RelEnv     *env,
                                 const char *name,
                                 const char *extra);

HvkRegistry *rel_registry_new   (void);
/* Loads @conf and creates VM @id; asserts success. */
HvkHypervisor *rel_create_vm    (RelEnv      *env,
                                 HvkRegistry *registry,
                                 const char  *conf,
                                 const char  *id);

guint     rel_count_fds         (void);
gboolean  rel_pid_alive         (int pid);
gboolean  rel_wait_pid_dead     (int pid, guint timeout_ms);
int       rel_read_pid_file     (const char *path);
/* Live processes whose command line mentions @needle (the temporary dir:
 * the stand-in gets its pid file and sockets there). */
guint     rel_count_processes   (const char *needle);
/* Kills (SIGKILL) the processes rel_count_processes() would count. */
void      rel_kill_processes    (const char *needle);
/* Asserts no process, no VM dir and no stray entry of the store is left. */
void      rel_assert_nothing_left (RelEnv *env, const char *id);

/* Runs the hvkit tool (HVKIT_TEST_TOOL) with --state-dir STORE; returns
 * its exit status. */
int       rel_run_tool          (RelEnv      *env,
                                 char       **out,
                                 char       **err,
                                 const char  *first_arg,
                                 ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS
