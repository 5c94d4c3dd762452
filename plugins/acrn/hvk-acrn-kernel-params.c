/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-acrn-private.h"

/*
 * Kernel-parameter policies of the "acrn" backend, one per phase of
 * #HvkKernelParamPhase, which together give Kata's string (acrn.go
 * kernelParameters() with acrn_arch_base.go's lists):
 *
 *   BASE      acrnKernelParams
 *   DEVICES   root=/dev/vda1 rw rootwait      (the image appender)
 *   DEBUG     quiet | debug, then the systemd list when an image is used
 *   DEFAULTS  panic=1
 *   MAX_CPUS  maxcpus=N
 *   USER      kernel_params                  (the core)
 */

typedef struct {
  const char *key;
  const char *value;
} ParamEntry;

static const ParamEntry base_params[] = {
  { "tsc", "reliable" },
  { "no_timer_check", "" },
  { "nohpet", "" },
  { "console", "tty0" },
  { "console", "ttyS0" },
  { "console", "hvc0" },
  { "log_buf_len", "16M" },
  { "consoleblank", "0" },
  { "iommu", "off" },
  { "i915.avail_planes_per_pipe", "0x070F00" },
  { "i915.enable_hangcheck", "0" },
  { "i915.nuclear_pageflip", "1" },
  { "i915.enable_guc_loading", "0" },
  { "i915.enable_guc_submission", "0" },
  { "i915.enable_guc", "0" },
};

static const ParamEntry non_debug_params[] = {
  { "quiet", "" },
};

static const ParamEntry debug_params[] = {
  { "debug", "" },
};

static const ParamEntry systemd_non_debug_params[] = {
  { "systemd.show_status", "false" },
};

static const ParamEntry systemd_debug_params[] = {
  { "systemd.show_status", "true" },
  { "systemd.log_level", "debug" },
  { "systemd.log_target", "kmsg" },
  { "printk.devkmsg", "on" },
};

static const ParamEntry default_params[] = {
  { "panic", "1" },
};

static void
append_entries (GPtrArray        *params,
                const ParamEntry *entries,
                guint             n_entries)
{
  for (guint i = 0; i < n_entries; i++)
    hvk_params_append (params, entries[i].key, entries[i].value);
}

#define APPEND_TABLE(params, table) append_entries (params, table, G_N_ELEMENTS (table))

static gboolean
uses_image (HvkConfig *config)
{
  const char *image = hvk_config_get_asset_path (config, HVK_ASSET_IMAGE);

  return image != NULL && *image != '\0';
}

static gboolean
policy_base (HvkBuildContext *ctx,
             GPtrArray       *params,
             gpointer         user_data,
             GError         **error)
{
  APPEND_TABLE (params, base_params);
  return TRUE;
}

static gboolean
policy_debug (HvkBuildContext *ctx,
              GPtrArray       *params,
              gpointer         user_data,
              GError         **error)
{
  HvkConfig *config = hvk_build_context_get_config (ctx);
  gboolean debug = hvk_config_get_boolean (config, "enable_debug");

  if (debug)
    APPEND_TABLE (params, debug_params);
  else
    APPEND_TABLE (params, non_debug_params);

  /* Kata's handleImagePath: systemd runs from the image, not an initrd. */
  if (uses_image (config))
    {
      if (debug)
        APPEND_TABLE (params, systemd_debug_params);
      else
        APPEND_TABLE (params, systemd_non_debug_params);
    }
  return TRUE;
}

static gboolean
policy_defaults (HvkBuildContext *ctx,
                 GPtrArray       *params,
                 gpointer         user_data,
                 GError         **error)
{
  APPEND_TABLE (params, default_params);
  return TRUE;
}

static gboolean
policy_max_cpus (HvkBuildContext *ctx,
                 GPtrArray       *params,
                 gpointer         user_data,
                 GError         **error)
{
  HvkConfig *config = hvk_build_context_get_config (ctx);
  g_autofree char *value = NULL;

  value = g_strdup_printf ("%" G_GUINT64_FORMAT,
                           hvk_config_get_uint (config, "default_maxvcpus"));
  hvk_params_append (params, "maxcpus", value);
  return TRUE;
}

static const struct {
  HvkKernelParamPhase phase;
  HvkKernelParamFunc  func;
} acrn_policies[] = {
  { HVK_KERNEL_PARAM_PHASE_BASE,     policy_base },
  { HVK_KERNEL_PARAM_PHASE_DEBUG,    policy_debug },
  { HVK_KERNEL_PARAM_PHASE_DEFAULTS, policy_defaults },
  { HVK_KERNEL_PARAM_PHASE_MAX_CPUS, policy_max_cpus },
};

gboolean
hvk_acrn_register_kernel_policies (HvkPlugin  *plugin,
                                   GError    **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (acrn_policies); i++)
    if (!hvk_plugin_register_kernel_param_policy (plugin, HVK_ACRN_BACKEND_NAME,
                                                  acrn_policies[i].phase, 0,
                                                  acrn_policies[i].func, NULL,
                                                  error))
      return FALSE;
  return TRUE;
}
