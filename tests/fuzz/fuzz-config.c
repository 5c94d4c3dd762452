/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "fuzz-common.h"

/* The configuration key-file loader, with no registry (standard kinds and
 * core keys), an empty registry, and one with the real backends (their
 * keys, kinds and value checks).  A loaded configuration must write out
 * and load back, and its devices must survive their string form. */

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_setup_logging ();
  fuzz_get_full_registry ();
  return 0;
}

static void
exercise (HvkConfig   *config,
          HvkRegistry *registry)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) again = NULL;
  GPtrArray *params;
  g_autofree char *text = NULL;
  GPtrArray *devices;
  gsize length;

  text = hvk_config_to_data (config, &length);
  again = hvk_config_new_from_data (text, length, "<written>", registry, &error);
  if (again == NULL)
    g_error ("a written configuration does not load back: %s\n%s", error->message, text);
  fuzz_check (g_strcmp0 (hvk_config_get_backend (config), hvk_config_get_backend (again)) == 0,
              "backend survives to_data");

  params = hvk_config_get_kernel_params (config);
  fuzz_check (params != NULL, "kernel params are a list");
  (void) hvk_config_get_num_vcpus (config);
  hvk_config_validate (config, NULL);

  devices = hvk_config_get_devices (config);
  for (guint i = 0; devices != NULL && i < devices->len; i++)
    {
      HvkDevice *device = g_ptr_array_index (devices, i);
      g_autofree char *s = hvk_device_to_string (device);
      g_autoptr(HvkDevice) parsed = NULL;
      g_autoptr(GError) local_error = NULL;

      parsed = hvk_device_new_from_string (registry, s, &local_error);
      if (parsed == NULL)
        g_error ("device '%s' from a configuration does not parse back: %s",
                 s, local_error->message);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  HvkRegistry *registries[] = { NULL, fuzz_get_empty_registry (), fuzz_get_full_registry () };
  g_autofree char *text = fuzz_dup_string (data, size);

  for (guint i = 0; i < G_N_ELEMENTS (registries); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HvkConfig) config = NULL;

      config = hvk_config_new_from_data (text, (gssize) size, "<fuzz>",
                                         registries[i], &error);
      if (config == NULL)
        {
          fuzz_check (error != NULL && error->domain == HVK_ERROR, "a failed load sets an HVK_ERROR");
          continue;
        }
      fuzz_check (error == NULL, "no error on success");
      exercise (config, registries[i]);
    }
  return 0;
}
