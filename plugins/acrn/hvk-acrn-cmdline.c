/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

#include "hvk-acrn-private.h"

/*
 * The acrn-dm command line, built top to bottom in the order of Kata's
 * LaunchAcrn (acrn_arch_base.go), as of Kata 3.x:
 *
 *   acrn-dm -A -m SIZEM -s … --cpu_affinity APICID -k KERNEL -B PARAMS NAME
 *
 * `-U UUID` is left out: acrn-dm 3.0 and later refuse it.
 */

typedef struct {
  HvkRegistry         *registry;
  HvkBuildContext     *ctx;
  HvkConfig           *config;
  const HvkAcrnLaunch *launch;
  GPtrArray           *extra_devices;
  HvkCmdline          *cmdline;
  char                *kernel_cmdline;
} Build;

typedef gboolean (*BuildStep) (Build *b, GError **error);

char *
hvk_acrn_vm_name (const char  *id,
                  GError     **error)
{
  g_autofree char *name = g_strconcat (HVK_ACRN_VM_NAME_PREFIX, id, NULL);
  gsize len = strlen (name);

  if (len > HVK_ACRN_VM_NAME_MAX_LEN)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "VM name '%s' is %" G_GSIZE_FORMAT " characters long but "
                   "ACRN allows at most %d: use a VM id of at most %d characters "
                   "with backend '%s'",
                   name, len, HVK_ACRN_VM_NAME_MAX_LEN,
                   HVK_ACRN_VM_NAME_MAX_LEN - (int) strlen (HVK_ACRN_VM_NAME_PREFIX),
                   HVK_ACRN_BACKEND_NAME);
      return NULL;
    }
  return g_steal_pointer (&name);
}

/* ACPI virtualisation: Kata always turns it on for ACRN. */
static gboolean
build_acpi (Build   *b,
            GError **error)
{
  return hvk_cmdline_add_arg (b->cmdline, "-A", error);
}

static gboolean
build_memory (Build   *b,
              GError **error)
{
  g_autofree char *size = NULL;

  size = g_strdup_printf ("%" G_GUINT64_FORMAT "M",
                          hvk_config_get_uint (b->config, "default_memory"));
  return hvk_cmdline_add_option (b->cmdline, "-m", size, error);
}

static HvkDevice *
new_builtin (Build       *b,
             const char  *kind_name,
             const char  *id,
             GError     **error)
{
  HvkDeviceKind *kind = hvk_registry_lookup_device_kind (b->registry, kind_name);

  if (kind == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "Device kind '%s' of backend '%s' is not registered",
                   kind_name, HVK_ACRN_BACKEND_NAME);
      return NULL;
    }
  return hvk_device_new (kind, id);
}

/* Kata's buildDevices: host bridge first (slot 0), the LPC bus, the
 * console socket, the image, then the placeholder pool. */
static GPtrArray *
builtin_devices (Build   *b,
                 GError **error)
{
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func (g_object_unref);
  HvkDevice *device;
  const char *image;

  if ((device = new_builtin (b, HVK_ACRN_KIND_HOSTBRIDGE, "hostbridge", error)) == NULL)
    return NULL;
  g_ptr_array_add (devices, device);

  if ((device = new_builtin (b, HVK_ACRN_KIND_LPC, "lpc", error)) == NULL)
    return NULL;
  g_ptr_array_add (devices, device);

  if ((device = new_builtin (b, HVK_ACRN_KIND_CONSOLE, "console0", error)) == NULL)
    return NULL;
  hvk_device_set_string (device, "backend", "socket");
  hvk_device_set_string (device, "name", "console0");
  hvk_device_set_string (device, "port", "console");
  hvk_device_set_string (device, "path", b->launch->console_path);
  g_ptr_array_add (devices, device);

  image = hvk_config_get_asset_path (b->config, HVK_ASSET_IMAGE);
  if (image == NULL || *image == '\0')
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: [%s] key 'image' must be set: backend '%s' boots from a "
                   "root image on virtio-blk (no initrd)",
                   hvk_config_get_source (b->config) ? hvk_config_get_source (b->config) : "config",
                   hvk_config_get_group (b->config) ? hvk_config_get_group (b->config) : "hypervisor.acrn",
                   HVK_ACRN_BACKEND_NAME);
      return NULL;
    }
  if ((device = new_builtin (b, HVK_ACRN_KIND_IMAGE, "image", error)) == NULL)
    return NULL;
  hvk_device_set_string (device, "path", image);
  g_ptr_array_add (devices, device);

  for (guint i = 1; i <= HVK_ACRN_BLK_POOL_SIZE; i++)
    {
      g_autofree char *id = g_strdup_printf ("pool%u", i);

      if ((device = new_builtin (b, HVK_ACRN_KIND_BLK_POOL, id, error)) == NULL)
        return NULL;
      hvk_device_set_uint (device, "index", i);
      g_ptr_array_add (devices, device);
    }

  return g_steal_pointer (&devices);
}

static gboolean
append_devices (Build      *b,
                GPtrArray  *devices,
                GError    **error)
{
  for (guint i = 0; devices != NULL && i < devices->len; i++)
    {
      HvkDevice *device = g_ptr_array_index (devices, i);

      if (hvk_acrn_device_unsupported (b->registry, device, "cold-plug", error))
        return FALSE;
      if (!hvk_registry_append_device (b->registry, b->ctx, device, b->cmdline, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
build_devices (Build   *b,
               GError **error)
{
  g_autoptr(GPtrArray) builtins = builtin_devices (b, error);

  if (builtins == NULL)
    return FALSE;

  return append_devices (b, builtins, error)
         && append_devices (b, hvk_config_get_devices (b->config), error)
         && append_devices (b, b->extra_devices, error);
}

static gboolean
build_cpu_affinity (Build   *b,
                    GError **error)
{
  if (b->launch->apic_id == NULL)
    return TRUE;
  return hvk_cmdline_add_option (b->cmdline, "--cpu_affinity", b->launch->apic_id, error);
}

/* After the devices: the image appender adds the root parameters. */
static gboolean
build_kernel (Build   *b,
              GError **error)
{
  g_autoptr(GPtrArray) params = NULL;
  const char *kernel = hvk_config_get_asset_path (b->config, HVK_ASSET_KERNEL);

  params = hvk_registry_build_kernel_params (b->registry, b->ctx, error);
  if (params == NULL)
    return FALSE;
  b->kernel_cmdline = hvk_params_to_string (params);

  /* As LaunchAcrn: no kernel, no -k nor -B; no parameters, no -B. */
  if (kernel == NULL || *kernel == '\0')
    return TRUE;
  if (!hvk_cmdline_add_option (b->cmdline, "-k", kernel, error))
    return FALSE;
  if (*b->kernel_cmdline == '\0')
    return TRUE;
  return hvk_cmdline_add_option (b->cmdline, "-B", b->kernel_cmdline, error);
}

static gboolean
build_name (Build   *b,
            GError **error)
{
  return hvk_cmdline_add_arg (b->cmdline, b->launch->vm_name, error);
}

/* The order of acrn-dm's arguments. */
static const BuildStep build_steps[] = {
  build_acpi,
  build_memory,
  build_devices,
  build_cpu_affinity,
  build_kernel,
  build_name,
};

HvkCmdline *
hvk_acrn_build_cmdline (HvkRegistry          *registry,
                        const char           *id,
                        HvkConfig            *config,
                        const HvkAcrnLaunch  *launch,
                        GPtrArray            *extra_devices,
                        char                **out_kernel_cmdline,
                        HvkAcrnLayout       **out_layout,
                        GError              **error)
{
  g_autoptr(HvkBuildContext) ctx = NULL;
  g_autoptr(HvkCmdline) cmdline = NULL;
  g_autofree char *kernel_cmdline = NULL;
  Build b = { 0, };

  g_return_val_if_fail (HVK_IS_REGISTRY (registry), NULL);
  g_return_val_if_fail (HVK_IS_CONFIG (config), NULL);
  g_return_val_if_fail (launch != NULL && launch->acrn_path != NULL, NULL);
  g_return_val_if_fail (launch->vm_name != NULL && launch->console_path != NULL, NULL);

  ctx = hvk_build_context_new (registry, HVK_ACRN_BACKEND_NAME, id, config);
  cmdline = hvk_cmdline_new (launch->acrn_path);

  b.registry = registry;
  b.ctx = ctx;
  b.config = config;
  b.launch = launch;
  b.extra_devices = extra_devices;
  b.cmdline = cmdline;

  for (guint i = 0; i < G_N_ELEMENTS (build_steps); i++)
    {
      if (!build_steps[i] (&b, error))
        {
          g_free (b.kernel_cmdline);
          return NULL;
        }
    }
  kernel_cmdline = b.kernel_cmdline;

  if (out_kernel_cmdline != NULL)
    *out_kernel_cmdline = g_steal_pointer (&kernel_cmdline);
  if (out_layout != NULL)
    *out_layout = hvk_acrn_layout_copy (hvk_acrn_build_context_get_layout (ctx));
  return g_steal_pointer (&cmdline);
}
