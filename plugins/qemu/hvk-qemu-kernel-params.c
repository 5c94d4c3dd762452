/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-qemu-build.h"

/*
 * The QEMU backend's kernel-parameter policies, one per phase, composing
 * Kata's kernelParameters(): the x86_64 list, `quiet`/`debug` (plus the
 * systemd parameters when the guest boots an image), `panic=1`, then
 * `nr_cpus=` and `selinux=`.  The console and root parameters come from the console and
 * image appenders (the devices phase), the user's `kernel_params` last.
 */

/* Kata's amd64 kernelParams. */
static const HvkParam x86_64_params[] = {
  { (char *) "tsc", (char *) "reliable" },
  { (char *) "no_timer_check", (char *) "" },
  { (char *) "rcupdate.rcu_expedited", (char *) "1" },
  { (char *) "i8042.direct", (char *) "1" },
  { (char *) "i8042.dumbkbd", (char *) "1" },
  { (char *) "i8042.nopnp", (char *) "1" },
  { (char *) "i8042.noaux", (char *) "1" },
  { (char *) "noreplace-smp", (char *) "" },
  { (char *) "reboot", (char *) "k" },
  { (char *) "cryptomgr.notests", (char *) "" },
  { (char *) "net.ifnames", (char *) "0" },
  { (char *) "pci", (char *) "lastbus=0" },
};

static const HvkParam iommu_params[] = {
  { (char *) "intel_iommu", (char *) "on" },
  { (char *) "iommu", (char *) "pt" },
};

static const HvkParam non_debug_params[] = {
  { (char *) "quiet", (char *) "" },
};

static const HvkParam systemd_non_debug_params[] = {
  { (char *) "systemd.show_status", (char *) "false" },
};

static const HvkParam debug_params[] = {
  { (char *) "debug", (char *) "" },
};

static const HvkParam systemd_debug_params[] = {
  { (char *) "systemd.show_status", (char *) "true" },
  { (char *) "systemd.log_level", (char *) "debug" },
};

static const HvkParam default_params[] = {
  { (char *) "panic", (char *) "1" },
};

static void
append_table (GPtrArray      *params,
              const HvkParam *table,
              gsize           n)
{
  for (gsize i = 0; i < n; i++)
    hvk_params_append (params, table[i].key, table[i].value);
}

GPtrArray *
hvk_qemu_base_kernel_params (const HvkQemuSettings *settings)
{
  GPtrArray *params = hvk_params_new ();

  append_table (params, x86_64_params, G_N_ELEMENTS (x86_64_params));
  if (settings->enable_iommu)
    append_table (params, iommu_params, G_N_ELEMENTS (iommu_params));
  return params;
}

static gboolean
policy_base (HvkBuildContext  *ctx,
             GPtrArray        *params,
             gpointer          user_data,
             GError          **error)
{
  g_autoptr(HvkQemuSettings) owned = NULL;
  g_autoptr(GPtrArray) base = hvk_qemu_base_kernel_params (hvk_qemu_build_settings (ctx, &owned));

  hvk_params_extend (params, base);
  return TRUE;
}

/* The guest boots an image (not an initrd): systemd is its init. */
static gboolean
boots_image (const HvkQemuSettings *settings)
{
  return settings->initrd == NULL && settings->image != NULL;
}

static gboolean
policy_debug (HvkBuildContext  *ctx,
              GPtrArray        *params,
              gpointer          user_data,
              GError          **error)
{
  g_autoptr(HvkQemuSettings) owned = NULL;
  const HvkQemuSettings *settings = hvk_qemu_build_settings (ctx, &owned);

  if (settings->enable_debug)
    {
      append_table (params, debug_params, G_N_ELEMENTS (debug_params));
      if (boots_image (settings))
        append_table (params, systemd_debug_params, G_N_ELEMENTS (systemd_debug_params));
    }
  else
    {
      append_table (params, non_debug_params, G_N_ELEMENTS (non_debug_params));
      if (boots_image (settings))
        append_table (params, systemd_non_debug_params, G_N_ELEMENTS (systemd_non_debug_params));
    }
  return TRUE;
}

static gboolean
policy_defaults (HvkBuildContext  *ctx,
                 GPtrArray        *params,
                 gpointer          user_data,
                 GError          **error)
{
  append_table (params, default_params, G_N_ELEMENTS (default_params));
  return TRUE;
}

static gboolean
policy_max_cpus (HvkBuildContext  *ctx,
                 GPtrArray        *params,
                 gpointer          user_data,
                 GError          **error)
{
  g_autoptr(HvkQemuSettings) owned = NULL;
  g_autofree char *value =
    g_strdup_printf ("%u", hvk_qemu_build_settings (ctx, &owned)->max_vcpus);

  hvk_params_append (params, "nr_cpus", value);
  /* Kata ≥ 3.1: SELinux in the guest follows disable_guest_selinux. */
  hvk_params_append (params, "selinux",
                     hvk_qemu_build_settings (ctx, &owned)->disable_guest_selinux ? "0" : "1");
  return TRUE;
}

static const struct {
  HvkKernelParamPhase phase;
  HvkKernelParamFunc  func;
} policies[] = {
  { HVK_KERNEL_PARAM_PHASE_BASE, policy_base },
  { HVK_KERNEL_PARAM_PHASE_DEBUG, policy_debug },
  { HVK_KERNEL_PARAM_PHASE_DEFAULTS, policy_defaults },
  { HVK_KERNEL_PARAM_PHASE_MAX_CPUS, policy_max_cpus },
};

gboolean
hvk_qemu_register_kernel_policies (HvkPlugin  *plugin,
                                   GError    **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (policies); i++)
    if (!hvk_plugin_register_kernel_param_policy (plugin, HVK_QEMU_BACKEND_NAME,
                                                  policies[i].phase, 0,
                                                  policies[i].func, NULL, error))
      return FALSE;
  return TRUE;
}

/* Kata's keys (the core's and [hypervisor.qemu]'s) this backend cannot
 * honour yet: set, they are refused naming the key, never accepted and
 * ignored. */
static const HvkRefusedKey refused_keys[] = {
  { "ctlpath", "QEMU has no control tool: hvkit drives it over QMP" },
  { "valid_ctlpaths", "QEMU has no control tool for the list to allow" },
  { "firmware_volume", "no firmware volume is attached" },
  { "disable_block_device_use", "hvkit attaches no container root filesystem" },
  { "msize_9p", "the guest mounts 9p itself; hvkit passes no msize" },
  { "enable_iommu_platform", "iommu_platform is for CCW devices (s390x)" },
  { "hotplug_vfio_on_root_bus", "VFIO hot-plug goes to the bridges and root ports" },
  { "net_rate_limiter_ops_max_rate", "a tap is shaped in bytes per second (HTB), not packets" },
  { "net_rate_limiter_ops_one_time_burst", "a tap is shaped in bytes per second (HTB), not packets" },
};

/* The keys of [hypervisor.qemu] the core does not know, and the keys
 * the backend refuses.  The settings table is checked against these and
 * the core's by the tests (hvk_qemu_settings_check_table(): both tables
 * are constant, so a build that passes them cannot fail here), not at
 * every load: that check cost 6 % of `hvkit status`. */
gboolean
hvk_qemu_register_config_keys (HvkPlugin  *plugin,
                               GError    **error)
{
  const HvkConfigKey *keys;
  guint n_keys;

  keys = hvk_qemu_settings_get_plugin_keys (&n_keys);
  return hvk_plugin_register_config_keys (plugin, HVK_QEMU_BACKEND_NAME, keys, n_keys, error)
         && hvk_plugin_register_refused_keys (plugin, HVK_QEMU_BACKEND_NAME, refused_keys,
                                              G_N_ELEMENTS (refused_keys), error);
}
