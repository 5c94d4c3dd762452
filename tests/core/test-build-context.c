/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

static void
test_accessors (void)
{
  g_autoptr(HvkRegistry) registry = hvk_registry_new ();
  g_autoptr(HvkConfig) config = hvk_config_new ("qemu");
  g_autoptr(HvkBuildContext) ctx = NULL;

  ctx = hvk_build_context_new (registry, "acrn", "vm-1", config);
  g_assert_true (hvk_build_context_get_registry (ctx) == registry);
  /* An explicit backend wins over the config's. */
  g_assert_cmpstr (hvk_build_context_get_backend (ctx), ==, "acrn");
  g_assert_cmpstr (hvk_build_context_get_id (ctx), ==, "vm-1");
  g_assert_true (hvk_build_context_get_config (ctx) == config);
  g_assert_null (hvk_build_context_get_backend_data (ctx));
  g_assert_cmpuint (hvk_build_context_get_device_kernel_params (ctx)->len, ==, 0);
}

static void
test_backend_from_config (void)
{
  g_autoptr(HvkConfig) config = hvk_config_new ("qemu");
  g_autoptr(HvkBuildContext) ctx = hvk_build_context_new (NULL, NULL, NULL, config);

  g_assert_cmpstr (hvk_build_context_get_backend (ctx), ==, "qemu");
  g_assert_null (hvk_build_context_get_registry (ctx));
  g_assert_null (hvk_build_context_get_id (ctx));
}

static void
test_holds_references (void)
{
  HvkRegistry *registry = hvk_registry_new ();
  HvkConfig *config = hvk_config_new ("mock");
  HvkBuildContext *ctx = hvk_build_context_new (registry, NULL, "x", config);

  g_object_add_weak_pointer (G_OBJECT (registry), (gpointer *) &registry);
  g_object_add_weak_pointer (G_OBJECT (config), (gpointer *) &config);
  g_object_unref (registry);
  g_object_unref (config);
  /* Still alive through the context. */
  g_assert_nonnull (registry);
  g_assert_nonnull (config);
  g_assert_cmpstr (hvk_build_context_get_backend (ctx), ==, "mock");

  hvk_build_context_free (ctx);
  g_assert_null (registry);
  g_assert_null (config);
}

static void
test_kernel_params (void)
{
  g_autoptr(HvkBuildContext) ctx = hvk_build_context_new (NULL, "qemu", "vm", NULL);
  GPtrArray *params;
  g_autofree char *text = NULL;

  hvk_build_context_add_kernel_param (ctx, "console", "hvc0");
  hvk_build_context_add_kernel_param (ctx, "console", "hvc1");
  hvk_build_context_add_kernel_param (ctx, "ro", NULL);
  hvk_build_context_add_kernel_param (ctx, "root", "/dev/vda1");

  params = hvk_build_context_get_device_kernel_params (ctx);
  g_assert_cmpuint (params->len, ==, 4);
  g_assert_cmpstr (((HvkParam *) g_ptr_array_index (params, 0))->value, ==, "hvc0");
  g_assert_cmpstr (((HvkParam *) g_ptr_array_index (params, 2))->key, ==, "ro");
  g_assert_cmpstr (((HvkParam *) g_ptr_array_index (params, 2))->value, ==, "");
  text = hvk_params_to_string (params);
  g_assert_cmpstr (text, ==, "console=hvc0 console=hvc1 ro root=/dev/vda1");
}

static guint destroyed_a;
static guint destroyed_b;

static void
destroy_a (gpointer data)
{
  g_assert_cmpstr (data, ==, "a");
  destroyed_a++;
}

static void
destroy_b (gpointer data)
{
  g_assert_cmpstr (data, ==, "b");
  destroyed_b++;
}

static void
test_backend_data (void)
{
  HvkBuildContext *ctx = hvk_build_context_new (NULL, "qemu", "vm", NULL);

  destroyed_a = destroyed_b = 0;
  hvk_build_context_set_backend_data (ctx, "a", destroy_a);
  g_assert_cmpstr (hvk_build_context_get_backend_data (ctx), ==, "a");

  /* Setting the same pointer again does not destroy it. */
  hvk_build_context_set_backend_data (ctx, "a", destroy_a);
  g_assert_cmpuint (destroyed_a, ==, 0);

  /* Replacing destroys the old data. */
  hvk_build_context_set_backend_data (ctx, "b", destroy_b);
  g_assert_cmpuint (destroyed_a, ==, 1);
  g_assert_cmpstr (hvk_build_context_get_backend_data (ctx), ==, "b");

  /* Freeing destroys the current data, once. */
  hvk_build_context_free (ctx);
  g_assert_cmpuint (destroyed_a, ==, 1);
  g_assert_cmpuint (destroyed_b, ==, 1);

  /* No destroy notify: nothing called. */
  ctx = hvk_build_context_new (NULL, "qemu", "vm", NULL);
  hvk_build_context_set_backend_data (ctx, "a", NULL);
  hvk_build_context_set_backend_data (ctx, NULL, NULL);
  hvk_build_context_free (ctx);
  g_assert_cmpuint (destroyed_a, ==, 1);

  hvk_build_context_free (NULL);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hvk/build-context/accessors", test_accessors);
  g_test_add_func ("/hvk/build-context/backend-from-config", test_backend_from_config);
  g_test_add_func ("/hvk/build-context/references", test_holds_references);
  g_test_add_func ("/hvk/build-context/kernel-params", test_kernel_params);
  g_test_add_func ("/hvk/build-context/backend-data", test_backend_data);

  return g_test_run ();
}
