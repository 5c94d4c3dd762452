/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "fuzz-common.h"

/* The `KIND,key=value,...` device parser, with the standard kinds and with
 * the real backends' kinds.  A parsed device must print to a string that
 * parses to the same string, and survive its JSON form. */

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_setup_logging ();
  fuzz_get_full_registry ();
  return 0;
}

static void
round_trip (HvkRegistry *registry,
            HvkDevice   *device)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *first = hvk_device_to_string (device);
  g_autofree char *second = NULL;
  g_autoptr(HvkDevice) reparsed = NULL;
  g_autoptr(HvkDevice) from_json = NULL;
  g_autoptr(HvkDevice) copy = NULL;
  g_autoptr(JsonNode) node = NULL;

  reparsed = hvk_device_new_from_string (registry, first, &error);
  if (reparsed == NULL)
    g_error ("device string '%s' does not parse back: %s", first, error->message);
  second = hvk_device_to_string (reparsed);
  if (g_strcmp0 (first, second) != 0)
    g_error ("device string changes on a round trip: '%s' -> '%s'", first, second);

  node = hvk_device_to_json (device);
  from_json = hvk_device_new_from_json (registry, node, &error);
  if (from_json == NULL)
    g_error ("device '%s' does not load back from JSON: %s", first, error->message);
  {
    g_autofree char *third = hvk_device_to_string (from_json);
    if (g_strcmp0 (first, third) != 0)
      g_error ("device changes through JSON: '%s' -> '%s'", first, third);
  }

  copy = hvk_device_copy (device);
  hvk_device_validate (copy, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = fuzz_dup_string (data, size);
  HvkRegistry *registries[] = { fuzz_get_empty_registry (), fuzz_get_full_registry () };

  for (guint i = 0; i < G_N_ELEMENTS (registries); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HvkDevice) device = NULL;

      device = hvk_device_new_from_string (registries[i], text, &error);
      if (device == NULL)
        {
          fuzz_check (error != NULL && error->domain == HVK_ERROR, "a failed parse sets an HVK_ERROR");
          continue;
        }
      round_trip (registries[i], device);
    }
  return 0;
}
