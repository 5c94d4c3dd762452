/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

#include "fuzz-common.h"

/* Kernel command-line splitting (KernelParamFields) and parameter
 * deserialisation.  Checked: the two parse paths agree; fields are never
 * empty nor start or end with an ASCII space; each parameter is its field
 * split at the first `=`.  (Printing and parsing again is not a fixed
 * point, as in Kata: `tab<TAB>=` parses to key "tab<TAB>", which prints as
 * a field that trims to `tab`; `==` parses to key "" value "=", which
 * prints as `=`, which parses to nothing.) */

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
  g_auto(GStrv) fields = hvk_kernel_param_fields (text);
  g_autoptr(GPtrArray) params = hvk_params_deserialize ((const char * const *) fields);
  g_autoptr(GPtrArray) parsed = hvk_kernel_params_parse (text);
  g_autoptr(GPtrArray) reparsed = NULL;
  g_autoptr(GPtrArray) extended = hvk_params_new ();
  g_auto(GStrv) split = NULL;
  g_auto(GStrv) pairs = NULL;
  g_autofree char *printed = NULL;

  fuzz_check (fields != NULL && params != NULL && parsed != NULL, "parsers return lists");
  fuzz_check (params->len == g_strv_length (fields), "one parameter per field");
  fuzz_check (params->len == parsed->len, "kernel_params_parse is deserialize of fields");
  for (guint i = 0; fields[i] != NULL; i++)
    {
      const char *field = fields[i];
      gsize n = strlen (field);
      const HvkParam *p = g_ptr_array_index (params, i);
      const HvkParam *q = g_ptr_array_index (parsed, i);
      gsize klen = strlen (p->key);

      fuzz_check (n > 0 && field[0] != ' ' && field[n - 1] != ' ', "fields are trimmed, not empty");
      fuzz_check (strcmp (p->key, q->key) == 0 && strcmp (p->value, q->value) == 0,
                  "both parse paths give the same parameter");
      fuzz_check (strchr (p->key, '=') == NULL, "keys have no '='");
      fuzz_check (strncmp (field, p->key, klen) == 0, "the key starts the field");
      if (field[klen] == '\0')
        fuzz_check (*p->value == '\0', "a field without '=' has no value");
      else
        fuzz_check (field[klen] == '=' && strcmp (field + klen + 1, p->value) == 0,
                    "the value is the rest of the field");
    }

  /* Printing, then parsing the print, must not crash or lose count
   * beyond what empty keys explain. */
  printed = hvk_params_to_string (params);
  reparsed = hvk_kernel_params_parse (printed);
  fuzz_check (reparsed->len <= params->len, "printing adds no parameter");

  split = hvk_params_serialize (params, NULL);
  pairs = hvk_params_serialize (params, "=");
  hvk_params_extend (extended, params);
  hvk_params_extend (extended, extended);
  fuzz_check (extended->len == 2 * params->len, "extend appends a copy");
  return 0;
}
