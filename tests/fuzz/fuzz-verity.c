/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

#include "fuzz-common.h"

/* dm-verity parameters (`kernel_verity_params`), alone and through the
 * root-device parameters for every rootfs type and flag combination.  The
 * input's first line, when there are two, is also tried as rootfs type. */

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_setup_logging ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = fuzz_dup_string (data, size);
  g_autoptr(HvkVerityParams) verity = NULL;
  g_autoptr(GError) error = NULL;
  const char *types[] = { NULL, "", "ext4", "xfs", "erofs", NULL };
  g_autofree char *first_line = NULL;
  const char *rest = text;
  char *nl = strchr (text, '\n');

  if (nl != NULL)
    {
      first_line = g_strndup (text, nl - text);
      types[G_N_ELEMENTS (types) - 1] = first_line;
      rest = nl + 1;
    }

  for (guint v = 0; v < 2; v++)
    {
      const char *input = v == 0 ? text : rest;

      g_clear_pointer (&verity, hvk_verity_params_free);
      g_clear_error (&error);
      if (hvk_verity_params_parse (input, &verity, &error))
        {
          fuzz_check (error == NULL, "no error on success");
          if (verity != NULL)
            fuzz_check (verity->root_hash != NULL && verity->salt != NULL &&
                        verity->data_blocks > 0 && verity->data_block_size % 512 == 0 &&
                        verity->hash_block_size % 512 == 0 && verity->data_block_size > 0,
                        "parsed verity params are complete and checked");
        }
      else
        fuzz_check (verity == NULL && error != NULL, "a failed parse sets an error only");

      for (guint t = 0; t < G_N_ELEMENTS (types); t++)
        for (guint flags = 0; flags < 4; flags++)
          {
            g_autoptr(GError) local_error = NULL;
            g_autoptr(GPtrArray) params = NULL;

            if (t == G_N_ELEMENTS (types) - 1 && types[t] == NULL)
              continue;
            params = hvk_kernel_root_params (types[t], flags & 1, flags & 2, input, &local_error);
            fuzz_check ((params == NULL) == (local_error != NULL), "params or an error");
            if (params != NULL)
              {
                g_autofree char *s = hvk_params_to_string (params);
                (void) s;
              }
          }
    }
  return 0;
}
