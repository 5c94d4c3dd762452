/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by the QEMU golden and acceptance tests: a registry with the
 * QEMU backend's code linked in (not dlopen'ed), a directory of the files
 * the golden configurations name, and argv building. */

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/* The fixed VM store, id and UUID the golden .args files contain. */
#define QEMU_TEST_STORE "/run/hvkit-test"
#define QEMU_TEST_ID    "golden"
#define QEMU_TEST_UUID  "4cb19522-1e18-439a-883a-f9b2a3a95f5e"
/* Stands for the data directory in .conf and .args files. */
#define QEMU_TEST_DATADIR_TOKEN "@DATADIR@"

HvkRegistry *qemu_test_registry_new     (void);
char        *qemu_test_make_data_dir    (void);
void         qemu_test_remove_dir       (const char *dir);
char        *qemu_test_golden_dir       (void);
GStrv        qemu_test_list_goldens     (void);
char        *qemu_test_replace          (const char *text,
                                         const char *from,
                                         const char *to);
HvkConfig   *qemu_test_load_config      (HvkRegistry *registry,
                                         const char  *name,
                                         const char  *text,
                                         const char  *data_dir,
                                         GError     **error);
HvkCmdline  *qemu_test_build            (HvkRegistry *registry,
                                         HvkConfig   *config,
                                         GError     **error);
char        *qemu_test_argv_to_lines    (HvkCmdline  *cmdline,
                                         const char  *data_dir);

G_END_DECLS
