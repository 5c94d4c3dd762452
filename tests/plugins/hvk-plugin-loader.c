/* SPDX-License-Identifier: Apache-2.0 */
/* Scans HVKIT_PLUGIN_PATH (and the system path) like the default registry
 * and prints what it found, one backend a line:
 *
 *   backend NAME plugin PLUGIN version VERSION caps CAPS
 *
 * then one `refused MESSAGE` line per refusal.  With `--create BACKEND`
 * it also instantiates BACKEND and reports whether an operation the
 * backend leaves out fails with NOT_SUPPORTED:
 *
 *   create NAME ok|failed: MESSAGE
 *   pause NAME not-supported|supported|error: MESSAGE
 *
 * Exit status: 0, or 1 if --create failed. */
#include "config.h"

#include <hvkit/hvkit.h>

int
main (int    argc,
      char **argv)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(GPtrArray) backends = NULL;
  g_autoptr(GPtrArray) refusals = NULL;
  const char *create = NULL;

  if (argc == 3 && g_str_equal (argv[1], "--create"))
    create = argv[2];
  else if (argc != 1)
    {
      g_printerr ("usage: %s [--create BACKEND]\n", argv[0]);
      return 2;
    }

  hvk_registry_scan (registry);

  backends = hvk_registry_get_backends (registry);
  for (guint i = 0; i < backends->len; i++)
    {
      HvkBackendInfo *info = g_ptr_array_index (backends, i);
      HvkPlugin *plugin = hvk_backend_info_get_plugin (info);
      g_autofree char *caps =
        hvk_capabilities_to_string (hvk_backend_info_get_capabilities (info));

      g_print ("backend %s plugin %s version %s caps %s\n",
               hvk_backend_info_get_name (info), hvk_plugin_get_name (plugin),
               hvk_plugin_get_version (plugin), caps);
    }

  refusals = hvk_registry_get_refusals (registry);
  for (guint i = 0; i < refusals->len; i++)
    g_print ("refused %s\n", ((GError *) g_ptr_array_index (refusals, i))->message);

  if (create != NULL)
    {
      g_autoptr(HvkConfig) config = hvk_config_new (create);
      g_autoptr(HvkHypervisor) hv = NULL;
      g_autoptr(GError) error = NULL;

      hv = hvk_registry_create_hypervisor (registry, config, &error);
      if (hv == NULL)
        {
          g_print ("create %s failed: %s\n", create, error->message);
          return 1;
        }
      g_print ("create %s ok\n", hvk_hypervisor_get_backend_name (hv));

      if (hvk_hypervisor_pause_vm (hv, NULL, &error))
        g_print ("pause %s supported\n", create);
      else if (g_error_matches (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED))
        g_print ("pause %s not-supported\n", create);
      else
        g_print ("pause %s error: %s\n", create, error->message);
    }

  return 0;
}
