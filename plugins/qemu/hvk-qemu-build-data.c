/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <stdarg.h>

#include "hvk-qemu-build.h"

/*
 * What an appender or a kernel-param policy reaches while the QEMU
 * command line is built: the build's data and settings through the build
 * context, and its device's properties under any of the spellings of the
 * kinds that reach it.
 */

/* The first of the names the kind declares and the device sets, else the
 * first it declares (whose getter gives the kind's default), else NULL. */
static const char *
device_pick_prop (HvkDevice  *device,
                  gboolean    require_set,
                  const char *first_name,
                  va_list     args)
{
  HvkDeviceKind *kind = hvk_device_get_kind (device);
  const char *declared = NULL;

  for (const char *name = first_name; name != NULL; name = va_arg (args, const char *))
    if (hvk_device_kind_lookup_prop (kind, name) != NULL)
      {
        if (hvk_device_has (device, name))
          return name;
        if (declared == NULL)
          declared = name;
      }
  return require_set ? NULL : declared;
}

#define device_first_prop(device, first_name, args) \
  device_pick_prop ((device), FALSE, (first_name), (args))

const char *
hvk_qemu_device_string (HvkDevice  *device,
                        const char *first_name,
                        ...)
{
  va_list args;
  const char *prop, *value;

  va_start (args, first_name);
  prop = device_first_prop (device, first_name, args);
  va_end (args);
  if (prop == NULL)
    return NULL;
  value = hvk_device_get_string (device, prop);
  return value != NULL && *value != '\0' ? value : NULL;
}

gboolean
hvk_qemu_device_has (HvkDevice  *device,
                     const char *first_name,
                     ...)
{
  va_list args;
  const char *prop;

  va_start (args, first_name);
  prop = device_pick_prop (device, TRUE, first_name, args);
  va_end (args);
  return prop != NULL;
}

gboolean
hvk_qemu_device_boolean (HvkDevice  *device,
                         gboolean    fallback,
                         const char *first_name,
                         ...)
{
  va_list args;
  const char *prop;

  va_start (args, first_name);
  prop = device_first_prop (device, first_name, args);
  va_end (args);
  return prop != NULL ? hvk_device_get_boolean (device, prop) : fallback;
}

guint64
hvk_qemu_device_uint (HvkDevice  *device,
                      guint64     fallback,
                      const char *first_name,
                      ...)
{
  va_list args;
  const char *prop;

  va_start (args, first_name);
  prop = device_first_prop (device, first_name, args);
  va_end (args);
  return prop != NULL ? hvk_device_get_uint (device, prop) : fallback;
}

const char * const *
hvk_qemu_device_strv (HvkDevice  *device,
                      const char *first_name,
                      ...)
{
  va_list args;
  const char *prop;

  va_start (args, first_name);
  prop = device_first_prop (device, first_name, args);
  va_end (args);
  return prop != NULL ? hvk_device_get_strv (device, prop) : NULL;
}

void
hvk_qemu_build_data_free (HvkQemuBuildData *data)
{
  if (data == NULL)
    return;
  g_clear_pointer (&data->throttle_groups, g_hash_table_unref);
  g_free (data);
}

HvkQemuBuildData *
hvk_qemu_build_data (HvkBuildContext  *ctx,
                     HvkDevice        *device,
                     GError          **error)
{
  HvkQemuBuildData *data = hvk_build_context_get_backend_data (ctx);

  if (data == NULL || g_strcmp0 (hvk_build_context_get_backend (ctx), HVK_QEMU_BACKEND_NAME) != 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "backend qemu: device '%s' (%s): its appender only runs inside "
                   "the qemu command-line builder",
                   hvk_device_get_id (device), hvk_device_get_kind_name (device));
      return NULL;
    }
  return data;
}

const HvkQemuSettings *
hvk_qemu_build_settings (HvkBuildContext  *ctx,
                         HvkQemuSettings **owned)
{
  HvkQemuBuildData *data = hvk_build_context_get_backend_data (ctx);

  if (data != NULL && data->settings != NULL &&
      g_strcmp0 (hvk_build_context_get_backend (ctx), HVK_QEMU_BACKEND_NAME) == 0)
    return data->settings;
  *owned = hvk_qemu_settings_new (hvk_build_context_get_config (ctx));
  return *owned;
}
