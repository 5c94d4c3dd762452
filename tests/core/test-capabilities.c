/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

/* The contract: bit, nick, in bit order.  Append only. */
static const struct {
  HvkCapabilities cap;
  const char *nick;
} expected_caps[] = {
  { HVK_CAP_BLOCK_DEVICE, "block-device" },
  { HVK_CAP_BLOCK_DEVICE_HOTPLUG, "block-device-hotplug" },
  { HVK_CAP_MULTI_QUEUE, "multi-queue" },
  { HVK_CAP_FS_SHARING, "fs-sharing" },
  { HVK_CAP_NET_DEVICE_HOTPLUG, "net-device-hotplug" },
  { HVK_CAP_HYBRID_VSOCK, "hybrid-vsock" },
  { HVK_CAP_PAUSE_RESUME, "pause-resume" },
  { HVK_CAP_VCPU_RESIZE, "vcpu-resize" },
  { HVK_CAP_MEMORY_RESIZE, "memory-resize" },
  { HVK_CAP_SAVE_RESTORE, "save-restore" },
  { HVK_CAP_VSOCK, "vsock" },
  { HVK_CAP_VFIO, "vfio" },
};

static void
test_bits (void)
{
  /* Kata's types.Capabilities bits (1.14) come first, in order. */
  g_assert_cmpuint (HVK_CAP_BLOCK_DEVICE, ==, 1);
  g_assert_cmpuint (HVK_CAP_BLOCK_DEVICE_HOTPLUG, ==, 2);
  g_assert_cmpuint (HVK_CAP_MULTI_QUEUE, ==, 4);
  g_assert_cmpuint (HVK_CAP_FS_SHARING, ==, 8);
  g_assert_cmpuint (HVK_CAP_NET_DEVICE_HOTPLUG, ==, 16);

  for (gsize i = 0; i < G_N_ELEMENTS (expected_caps); i++)
    g_assert_cmpuint (expected_caps[i].cap, ==, 1u << i);
}

static void
test_gtype (void)
{
  GType type = hvk_capabilities_get_type ();
  g_autoptr(GFlagsClass) klass = NULL;

  g_assert_true (G_TYPE_IS_FLAGS (type));
  g_assert_cmpuint (type, ==, HVK_TYPE_CAPABILITIES);
  g_assert_cmpstr (g_type_name (type), ==, "HvkCapabilities");

  klass = g_type_class_ref (type);
  for (gsize i = 0; i < G_N_ELEMENTS (expected_caps); i++)
    {
      GFlagsValue *v = g_flags_get_value_by_nick (klass, expected_caps[i].nick);

      g_assert_nonnull (v);
      g_assert_cmpuint (v->value, ==, expected_caps[i].cap);
      g_assert_true (g_flags_get_first_value (klass, expected_caps[i].cap) == v);
    }

  /* All bits known to the type. */
  g_assert_cmpuint (klass->mask, ==, (1u << G_N_ELEMENTS (expected_caps)) - 1);

  /* Usable as a property value. */
  {
    GValue value = G_VALUE_INIT;

    g_value_init (&value, type);
    g_value_set_flags (&value, HVK_CAP_VSOCK | HVK_CAP_VFIO);
    g_assert_cmpuint (g_value_get_flags (&value), ==, HVK_CAP_VSOCK | HVK_CAP_VFIO);
    g_value_unset (&value);
  }
}

static void
test_to_nick (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (expected_caps); i++)
    g_assert_cmpstr (hvk_capability_to_nick (expected_caps[i].cap), ==,
                     expected_caps[i].nick);

  g_assert_cmpstr (hvk_capability_to_nick (HVK_CAP_NONE), ==, "none");
  /* Not exactly one known bit. */
  g_assert_null (hvk_capability_to_nick (HVK_CAP_VSOCK | HVK_CAP_VFIO));
  g_assert_null (hvk_capability_to_nick ((HvkCapabilities) (1u << 30)));
}

static void
test_to_strv (void)
{
  static const struct {
    HvkCapabilities caps;
    const char *expected[5];
    const char *string;
  } cases[] = {
    { HVK_CAP_NONE, { NULL }, "" },
    { HVK_CAP_FS_SHARING, { "fs-sharing", NULL }, "fs-sharing" },
    /* Bit order, whatever the order of the expression. */
    { HVK_CAP_VFIO | HVK_CAP_BLOCK_DEVICE | HVK_CAP_FS_SHARING,
      { "block-device", "fs-sharing", "vfio", NULL },
      "block-device, fs-sharing, vfio" },
    { HVK_CAP_BLOCK_DEVICE_HOTPLUG | HVK_CAP_MULTI_QUEUE | HVK_CAP_NET_DEVICE_HOTPLUG,
      { "block-device-hotplug", "multi-queue", "net-device-hotplug", NULL },
      "block-device-hotplug, multi-queue, net-device-hotplug" },
    /* Unknown bits are left out. */
    { (HvkCapabilities) (HVK_CAP_VSOCK | (1u << 30)), { "vsock", NULL }, "vsock" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(GStrv) strv = hvk_capabilities_to_strv (cases[i].caps);
      g_autofree char *string = hvk_capabilities_to_string (cases[i].caps);

      g_assert_cmpstrv (strv, cases[i].expected);
      g_assert_cmpstr (string, ==, cases[i].string);
    }

  /* Every capability at once: all nicks, in bit order. */
  {
    guint all = 0;
    g_auto(GStrv) strv = NULL;

    for (gsize i = 0; i < G_N_ELEMENTS (expected_caps); i++)
      all |= expected_caps[i].cap;
    strv = hvk_capabilities_to_strv ((HvkCapabilities) all);
    g_assert_cmpuint (g_strv_length (strv), ==, G_N_ELEMENTS (expected_caps));
    for (gsize i = 0; i < G_N_ELEMENTS (expected_caps); i++)
      g_assert_cmpstr (strv[i], ==, expected_caps[i].nick);
  }
}

static void
test_from_string (void)
{
  static const struct {
    const char *text;
    HvkCapabilities expected;
  } cases[] = {
    { "", HVK_CAP_NONE },
    { " , ,", HVK_CAP_NONE },
    { "none", HVK_CAP_NONE },
    { "vsock", HVK_CAP_VSOCK },
    { "block-device, fs-sharing, vfio",
      HVK_CAP_BLOCK_DEVICE | HVK_CAP_FS_SHARING | HVK_CAP_VFIO },
    { "vfio,block-device", HVK_CAP_BLOCK_DEVICE | HVK_CAP_VFIO },
    { "pause-resume save-restore\tvcpu-resize\nmemory-resize",
      HVK_CAP_PAUSE_RESUME | HVK_CAP_SAVE_RESTORE | HVK_CAP_VCPU_RESIZE | HVK_CAP_MEMORY_RESIZE },
    { "hybrid-vsock,hybrid-vsock", HVK_CAP_HYBRID_VSOCK },
    { "none,multi-queue", HVK_CAP_MULTI_QUEUE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      HvkCapabilities caps = (HvkCapabilities) 0xffff;

      g_assert_true (hvk_capabilities_from_string (cases[i].text, &caps, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (caps, ==, cases[i].expected);
    }

  /* to_string and from_string are inverses. */
  for (guint bits = 0; bits < (1u << G_N_ELEMENTS (expected_caps)); bits += 37)
    {
      g_autofree char *text = hvk_capabilities_to_string ((HvkCapabilities) bits);
      HvkCapabilities caps = HVK_CAP_NONE;

      g_assert_true (hvk_capabilities_from_string (text, &caps, NULL));
      g_assert_cmpuint (caps, ==, bits);
    }
}

static void
test_from_string_errors (void)
{
  static const struct {
    const char *text;
    const char *bad;
  } cases[] = {
    { "foo", "foo" },
    { "block-device, teleport", "teleport" },
    /* Case and spelling matter: the strings are a contract. */
    { "Block-Device", "Block-Device" },
    { "block_device", "block_device" },
    { "fs-sharing;vsock", "fs-sharing;vsock" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *quoted = g_strdup_printf ("“%s”", cases[i].bad);
      HvkCapabilities caps = HVK_CAP_VFIO;

      g_assert_false (hvk_capabilities_from_string (cases[i].text, &caps, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, quoted));
      /* Untouched on failure. */
      g_assert_cmpuint (caps, ==, HVK_CAP_VFIO);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/hvk/capabilities/bits", test_bits);
  g_test_add_func ("/hvk/capabilities/gtype", test_gtype);
  g_test_add_func ("/hvk/capabilities/to-nick", test_to_nick);
  g_test_add_func ("/hvk/capabilities/to-strv", test_to_strv);
  g_test_add_func ("/hvk/capabilities/from-string", test_from_string);
  g_test_add_func ("/hvk/capabilities/from-string-errors", test_from_string_errors);

  return g_test_run ();
}
