/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <sys/types.h>

#include <hvkit/hvkit.h>

#include "hvk-qemu-settings.h"

G_BEGIN_DECLS

/*
 * The unprivileged VMM (rootless=true, Kata's name): the identity QEMU
 * runs under.  hvkit-monitor sets it in QEMU's process before exec
 * (setgroups, setresgid, setresuid): QEMU never holds root, so its
 * seccomp filter keeps elevateprivileges=deny, which QEMU's own -runas
 * (a setuid after start) would need lifted.
 */

#define HVK_QEMU_IDENTITY_MAX_GROUPS 32
/* The VMM's own directory in the VM dir: its sockets and pid file. */
#define HVK_QEMU_VMM_DIR_NAME "vmm"

typedef struct {
  gboolean set;       /* hvkit runs as root and QEMU drops to uid/gid */
  uid_t    uid;
  gid_t    gid;
  guint    n_groups;
  gid_t    groups[HVK_QEMU_IDENTITY_MAX_GROUPS];
} HvkQemuIdentity;

/* Reads rootless, vmm_user, vmm_group and vmm_groups.  Without rootless
 * the vmm_* keys are refused; as an unprivileged hvkit, QEMU inherits its
 * identity and the keys must name it (HVK_ERROR_NOT_SUPPORTED
 * otherwise); @identity->set is TRUE only when hvkit is root. */
gboolean hvk_qemu_identity_resolve (const HvkQemuSettings *settings,
                                    HvkQemuIdentity       *identity,
                                    GError               **error);

/* What the identity must reach: @mode is R_OK, X_OK, … as for access(2). */
typedef struct {
  const char *what;   /* "kernel", "QEMU binary", … */
  const char *path;   /* NULL: skipped */
  int         mode;
} HvkQemuAccess;

/* Checks, in a child that took @identity, that each path is reachable
 * with its mode; the first that is not fails with HVK_ERROR_INVALID_CONFIG
 * naming it. */
gboolean hvk_qemu_identity_check_access (const HvkQemuIdentity *identity,
                                         const HvkQemuAccess   *checks,
                                         guint                  n_checks,
                                         GError               **error);

/* Makes @vmm_dir (in @vm_dir, in @store) the identity's own (0700), lets
 * the identity's group traverse @vm_dir (root:GID 0710) and everybody
 * traverse @store (0711, no listing). */
gboolean hvk_qemu_identity_prepare_dirs (const HvkQemuIdentity *identity,
                                         const char            *store,
                                         const char            *vm_dir,
                                         const char            *vmm_dir,
                                         GError               **error);

/* --uid U --gid G [--groups A,B] for hvkit-monitor (nothing unless set). */
void     hvk_qemu_identity_add_monitor_args (const HvkQemuIdentity *identity,
                                             GPtrArray             *argv);

/* Opens a disk image for fd passing: O_RDWR (unless @readonly) and
 * O_RDONLY, both close-on-exec (QEMU dups the one whose access mode it
 * asks for from the fdset).  -1 for the descriptor not opened. */
gboolean hvk_qemu_identity_open_image (const char  *device_id,
                                       const char  *path,
                                       gboolean     readonly,
                                       int         *rw_fd,
                                       int         *ro_fd,
                                       GError     **error);

G_END_DECLS
