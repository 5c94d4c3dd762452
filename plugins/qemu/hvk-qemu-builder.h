/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The QEMU command-line builder's state, shared by the files that hold
 * its steps (hvk-qemu-cmdline.c: the options; hvk-qemu-cmdline-devices.c:
 * the devices). */

#include "hvk-qemu-build.h"
#include "hvk-qemu-numa.h"

G_BEGIN_DECLS

typedef struct {
  HvkRegistry        *registry;
  const char         *id;
  HvkConfig          *config;
  const HvkQemuSettings *settings;    /* config read once */
  const HvkQemuPaths *paths;
  GPtrArray          *extra_devices;

  HvkCmdline         *cmdline;
  HvkBuildContext    *ctx;
  HvkQemuBuildData   *data;
  HvkQemuLayout      *layout;

  /* Resolved once by the first step, read by the others. */
  const char         *machine_type;
  const char         *accelerators;   /* machine_accelerators, no leading comma */
  const char         *initrd;
  const char         *image;          /* NULL when an initrd is used */
  gboolean            nvdimm_image;
  gboolean            iommu;
  guint32             vcpus;
  guint32             max_vcpus;
  guint64             memory_mb;
  guint64             max_memory_mb;
  guint64             memory_slots;

  /* govmm's memory knobs */
  gboolean            hugepages;
  gboolean            file_backed;
  gboolean            mem_shared;
  gboolean            mem_prealloc;
  const char         *mem_path;
  gboolean            incoming_defer;
  HvkQemuNuma        *numa;           /* enable_numa, else NULL */

  char               *kernel_cmdline; /* what -append carries (built without -kernel too) */
  char               *uuid;           /* what -uuid carries */
} HvkQemuBuilder;

typedef gboolean (*HvkQemuBuildFunc) (HvkQemuBuilder *b,
                                      GError        **error);

/* Sets @error to `SOURCE: [GROUP] KEY: MESSAGE` and returns FALSE. */
gboolean hvk_qemu_builder_config_error (HvkQemuBuilder  *b,
                                        GError         **error,
                                        const char      *key,
                                        const char      *format,
                                        ...) G_GNUC_PRINTF (4, 5);

/* The built-in devices, then the configuration's and the cold-plugged
 * ones (hvk-qemu-cmdline-devices.c). */
gboolean hvk_qemu_build_devices (HvkQemuBuilder  *b,
                                 GError         **error);

G_END_DECLS
