/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Helpers shared by the QEMU device appenders. */

#include "hvk-qemu-build.h"

G_BEGIN_DECLS

gboolean hvk_qemu_device_error     (GError     **error,
                                    HvkDevice   *device,
                                    HvkError     code,
                                    const char  *format,
                                    ...) G_GNUC_PRINTF (4, 5);
gboolean hvk_qemu_check_device_id  (HvkDevice   *device,
                                    GError     **error);
gboolean hvk_qemu_add_chardev_socket (HvkCmdline  *cmdline,
                                      HvkDevice   *device,
                                      const char  *chardev_id,
                                      const char  *path,
                                      gboolean     server,
                                      GError     **error);
int      hvk_qemu_take_fd_copy     (HvkCmdline  *cmdline,
                                    HvkDevice   *device,
                                    const char  *what,
                                    const char  *text,
                                    GError     **error);

G_END_DECLS
