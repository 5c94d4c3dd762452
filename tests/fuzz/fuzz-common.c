/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "hvk-mock-hypervisor.h"
#include "hvk-qemu-private.h"
#include "hvk-acrn-private.h"

/* The plugins' entry files, minus the dlopen: the backends are linked in
 * so the fuzzer instruments and reaches them without HVKIT_PLUGIN_PATH. */

static gboolean
mock_init (HvkPlugin  *plugin,
           GError    **error)
{
  return hvk_mock_register (plugin, error);
}

static gboolean
qemu_init (HvkPlugin  *plugin,
           GError    **error)
{
  return hvk_qemu_register_config_keys (plugin, error) &&
         hvk_qemu_register_appenders (plugin, error) &&
         hvk_qemu_register_kernel_policies (plugin, error) &&
         hvk_plugin_register_backend (plugin, HVK_QEMU_BACKEND_NAME, HVK_TYPE_QEMU_HYPERVISOR,
                                      hvk_qemu_capabilities_for_config (NULL), error);
}

static gboolean
acrn_init (HvkPlugin  *plugin,
           GError    **error)
{
  return hvk_plugin_register_backend (plugin, HVK_ACRN_BACKEND_NAME,
                                      HVK_TYPE_ACRN_HYPERVISOR,
                                      HVK_ACRN_CAPABILITIES, error)
         && hvk_acrn_register_device_kinds (plugin, error)
         && hvk_acrn_register_appenders (plugin, error)
         && hvk_acrn_register_kernel_policies (plugin, error);
}

static const HvkPluginDesc plugin_descs[] = {
  { HVK_PLUGIN_ABI_VERSION, "mock", "mock (linked into the fuzzer)", PACKAGE_VERSION,
    "Apache-2.0", mock_init, { NULL, } },
  { HVK_PLUGIN_ABI_VERSION, "qemu", "QEMU (linked into the fuzzer)", PACKAGE_VERSION,
    "Apache-2.0", qemu_init, { NULL, } },
  { HVK_PLUGIN_ABI_VERSION, "acrn", "ACRN (linked into the fuzzer)", PACKAGE_VERSION,
    "Apache-2.0", acrn_init, { NULL, } },
};

static GLogWriterOutput
quiet_writer (GLogLevelFlags   log_level,
              const GLogField *fields,
              gsize            n_fields,
              gpointer         user_data)
{
  if (log_level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO | G_LOG_LEVEL_MESSAGE))
    return G_LOG_WRITER_HANDLED;
  {
    g_autofree char *text = g_log_writer_format_fields (log_level, fields, n_fields, FALSE);
    fprintf (stderr, "%s\n", text);
  }
  /* GLib's writer would stop on SIGTRAP, which libFuzzer does not catch:
   * abort, so it saves the input. */
  abort ();
}

void
fuzz_setup_logging (void)
{
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  g_log_set_writer_func (quiet_writer, NULL, NULL);
}

HvkRegistry *
fuzz_get_full_registry (void)
{
  static HvkRegistry *registry;

  if (registry == NULL)
    {
      registry = hvk_registry_new ();
      for (guint i = 0; i < G_N_ELEMENTS (plugin_descs); i++)
        {
          g_autoptr(GError) error = NULL;

          if (hvk_registry_register_static_plugin (registry, &plugin_descs[i], &error) == NULL)
            g_error ("cannot register the %s backend: %s", plugin_descs[i].name, error->message);
        }
    }
  return registry;
}

HvkRegistry *
fuzz_get_empty_registry (void)
{
  static HvkRegistry *registry;

  if (registry == NULL)
    registry = hvk_registry_new ();
  return registry;
}

char *
fuzz_dup_string (const uint8_t *data,
                 size_t         size)
{
  char *s = g_malloc (size + 1);

  if (size > 0)
    memcpy (s, data, size);
  s[size] = '\0';
  return s;
}
