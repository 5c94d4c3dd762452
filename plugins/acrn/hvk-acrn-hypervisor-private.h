/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "hvk-acrn-private.h"

G_BEGIN_DECLS

/* One VM run by acrn-dm: shared by the lifecycle (hvk-acrn-hypervisor.c)
 * and the saved state (hvk-acrn-state.c). */
struct _HvkAcrnHypervisor
{
  GObject parent_instance;

  HvkRegistry *registry;     /* the construct-only "registry" */
  HvkVmState state;
  char *id;
  HvkConfig *config;        /* NULL after load_state() */
  char *store;
  char *vm_name;
  char *acrn_path;
  char *ctl_path;
  char *console_path;
  char *apic_id;
  char *image_path;
  guint32 memory_mb;

  GStrv argv;
  char *kernel_cmdline;
  HvkAcrnLayout *layout;
  GPtrArray *extra_devices;  /* add_device() before start */
  GHashTable *hotplugged;    /* device id → drive index (GINT_TO_POINTER) */

  GPid pid;
  guint64 start_time;
  int exit_status;           /* wait status when we reaped it, else -1 */

  /* Knobs for tests. */
  char *cpuinfo_path;
  guint stop_timeout_ms;
  guint start_grace_ms;
};

JsonNode *hvk_acrn_hypervisor_save_private (HvkHypervisor  *hypervisor,
                                            HvkVmRecord    *record);
gboolean  hvk_acrn_hypervisor_load_private (HvkHypervisor  *hypervisor,
                                            HvkVmRecord    *record,
                                            JsonNode       *private_state,
                                            GError        **error);

G_END_DECLS
