/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

/* The ten rate-limiter keys of Kata's HypervisorConfig, the block and
 * net properties that override them, and their checks
 * (core/hvk-io-limits.c). */

#define BASE "[hypervisor]\nbackend=mock\n[hypervisor.mock]\nkernel=/boot/vmlinuz\n" \
             "initrd=/boot/initrd.img\n"

static HvkConfig *
load (const char *keys,
      GError    **error)
{
  g_autofree char *data = g_strconcat (BASE, keys, NULL);

  return hvk_config_new_from_data (data, -1, "limits.conf", hvk_registry_get_default (), error);
}

static HvkDevice *
device (const char  *text,
        GError     **error)
{
  return hvk_device_new_from_string (hvk_registry_get_default (), text, error);
}

static void
test_names (void)
{
  static const char * const block_keys[] = {
    "disk_rate_limiter_bw_max_rate", "disk_rate_limiter_bw_one_time_burst",
    "disk_rate_limiter_ops_max_rate", "disk_rate_limiter_ops_one_time_burst", NULL, NULL,
  };
  static const char * const net_keys[] = {
    "net_rate_limiter_bw_max_rate", "net_rate_limiter_bw_one_time_burst",
    "net_rate_limiter_ops_max_rate", "net_rate_limiter_ops_one_time_burst",
    "rx_rate_limiter_max_rate", "tx_rate_limiter_max_rate",
  };
  static const char * const props[] = {
    "rate_limiter_bw_max_rate", "rate_limiter_bw_one_time_burst",
    "rate_limiter_ops_max_rate", "rate_limiter_ops_one_time_burst",
    "rx_rate_limiter_max_rate", "tx_rate_limiter_max_rate",
  };
  guint n_keys;
  const HvkConfigKey *keys = hvk_config_get_core_keys (&n_keys);
  guint found = 0;

  for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
    {
      g_assert_cmpstr (hvk_io_limits_key_name ("block", i), ==, block_keys[i]);
      g_assert_cmpstr (hvk_io_limits_key_name ("net", i), ==, net_keys[i]);
      g_assert_cmpstr (hvk_io_limits_prop_name (i), ==, props[i]);
      g_assert_null (hvk_io_limits_key_name ("vsock", i));
    }
  /* All ten are core keys, signed (a negative value is refused by name,
   * not as a parse error), 0 by default: unlimited. */
  for (guint k = 0; k < n_keys; k++)
    if (strstr (keys[k].name, "rate_limiter") != NULL
        && g_strcmp0 (keys[k].name, HVK_IO_LIMITS_SHARED_KEY) != 0)
      {
        g_assert_cmpint (keys[k].type, ==, HVK_CONFIG_TYPE_INT);
        g_assert_cmpstr (keys[k].default_value, ==, "0");
        found++;
      }
  g_assert_cmpuint (found, ==, 10);
}

static void
test_config_errors (void)
{
  static const struct {
    const char *keys;
    const char *message;
  } cases[] = {
    { "disk_rate_limiter_bw_max_rate=-1\n",
      "limits.conf: [hypervisor.mock] disk_rate_limiter_bw_max_rate: -1 is negative (0 means unlimited)" },
    { "net_rate_limiter_ops_one_time_burst=-5\n",
      "limits.conf: [hypervisor.mock] net_rate_limiter_ops_one_time_burst: -5 is negative (0 means no burst)" },
    { "disk_rate_limiter_bw_one_time_burst=800\n",
      "limits.conf: [hypervisor.mock] disk_rate_limiter_bw_one_time_burst: a one-time burst without a rate (disk_rate_limiter_bw_max_rate is 0)" },
    { "net_rate_limiter_ops_one_time_burst=10\n",
      "limits.conf: [hypervisor.mock] net_rate_limiter_ops_one_time_burst: a one-time burst without a rate (net_rate_limiter_ops_max_rate is 0)" },
    { "rx_rate_limiter_max_rate=7\n",
      "limits.conf: [hypervisor.mock] rx_rate_limiter_max_rate: 7 bits is less than a byte (the limit is in bits per second; 0 means unlimited)" },
    { "tx_rate_limiter_max_rate=9223372036854775807\n",
      "limits.conf: [hypervisor.mock] tx_rate_limiter_max_rate: 9223372036854775807 bits is more than the largest limit (1000000000000000 bytes, 8*10^15 bits)" },
    { "disk_rate_limiter_ops_max_rate=1000000000000001\n",
      "limits.conf: [hypervisor.mock] disk_rate_limiter_ops_max_rate: 1000000000000001 operations is more than the largest limit (1000000000000000 operations)" },
    { "disk_rate_limiter_bw_max_rate=8000000000000000\ndisk_rate_limiter_bw_one_time_burst=8\n",
      "limits.conf: [hypervisor.mock] disk_rate_limiter_bw_one_time_burst: the rate and the burst add up to more than the largest limit (1000000000000000 bytes)" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HvkConfig) config = load (cases[i].keys, &error);

      g_test_message ("%s", cases[i].keys);
      g_assert_no_error (error);
      g_assert_false (hvk_config_validate (config, &error));
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG);
      g_assert_cmpstr (error->message, ==, cases[i].message);
    }
}

static void
test_resolve (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkConfig) config = load ("disk_rate_limiter_bw_max_rate=8388608\n"
                                      "disk_rate_limiter_bw_one_time_burst=4194304\n"
                                      "disk_rate_limiter_ops_max_rate=100\n"
                                      "net_rate_limiter_bw_max_rate=1000000\n"
                                      "rx_rate_limiter_max_rate=2000\n", &error);
  g_autoptr(HvkDevice) plain = NULL;
  g_autoptr(HvkDevice) own = NULL;
  g_autoptr(HvkDevice) net = NULL;
  g_autoptr(HvkDevice) vsock = NULL;
  HvkIoLimits defaults, limits;

  g_assert_no_error (error);
  g_assert_true (hvk_config_validate (config, &error));
  g_assert_no_error (error);

  /* The configuration's limits, for every disk. */
  hvk_io_limits_from_config (config, "block", &defaults);
  g_assert_cmpuint (defaults.bw_max_rate, ==, 8388608);
  g_assert_cmpuint (defaults.bw_one_time_burst, ==, 4194304);
  g_assert_cmpuint (defaults.ops_max_rate, ==, 100);
  g_assert_cmpuint (defaults.ops_one_time_burst, ==, 0);
  g_assert_cmpuint (defaults.rx_max_rate, ==, 0);
  plain = device ("block,id=d0,path=/x.img", &error);
  g_assert_no_error (error);
  g_assert_true (hvk_io_limits_resolve (&defaults, plain, &limits, &error));
  g_assert_no_error (error);
  g_assert_true (memcmp (&limits, &defaults, sizeof limits) == 0);

  /* A disk's own: 0 lifts a limit, another value replaces it. */
  own = device ("block,id=d1,path=/x.img,rate_limiter_ops_max_rate=0,"
                "rate_limiter_bw_max_rate=16000000", &error);
  g_assert_no_error (error);
  g_assert_true (hvk_io_limits_resolve (&defaults, own, &limits, &error));
  g_assert_cmpuint (limits.bw_max_rate, ==, 16000000);
  g_assert_cmpuint (limits.bw_one_time_burst, ==, 4194304);
  g_assert_cmpuint (limits.ops_max_rate, ==, 0);
  g_assert_false (hvk_io_limits_is_unlimited (&limits));

  /* An interface: its kind's keys, rx and tx included. */
  hvk_io_limits_from_config (config, "net", &defaults);
  net = device ("net,id=n0,ifname=tap0,tx_rate_limiter_max_rate=16", &error);
  g_assert_no_error (error);
  g_assert_true (hvk_io_limits_resolve (&defaults, net, &limits, &error));
  g_assert_cmpuint (limits.bw_max_rate, ==, 1000000);
  g_assert_cmpuint (limits.rx_max_rate, ==, 2000);
  g_assert_cmpuint (limits.tx_max_rate, ==, 16);

  /* Other kinds have none. */
  vsock = device ("vsock,id=v0,cid=3", &error);
  g_assert_no_error (error);
  g_assert_true (hvk_io_limits_resolve (&defaults, vsock, &limits, &error));
  g_assert_true (hvk_io_limits_is_unlimited (&limits));
}

static void
test_device_errors (void)
{
  static const struct {
    const char *text;
    const char *message;
  } parse[] = {
    { "block,id=d0,path=/x,rate_limiter_bw_max_rate=-8",
      "property 'rate_limiter_bw_max_rate': -8 is negative (0 means unlimited)" },
    { "net,id=n0,ifname=t,rx_rate_limiter_max_rate=4",
      "property 'rx_rate_limiter_max_rate': 4 bits is less than a byte" },
    { "block,id=d0,path=/x,rx_rate_limiter_max_rate=8000",
      "rx_rate_limiter_max_rate" },
  };
  HvkIoLimits defaults = { 0, }, limits;

  for (gsize i = 0; i < G_N_ELEMENTS (parse); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HvkDevice) d = device (parse[i].text, &error);

      g_test_message ("%s", parse[i].text);
      g_assert_null (d);
      g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, parse[i].message));
    }

  /* A burst without its rate, the device's own or the configuration's. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(HvkDevice) d = device ("block,id=d0,path=/x,rate_limiter_bw_one_time_burst=80", &error);

    g_assert_no_error (error);
    g_assert_false (hvk_io_limits_resolve (&defaults, d, &limits, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
    g_assert_cmpstr (error->message, ==,
                     "device 'd0' (block): property 'rate_limiter_bw_one_time_burst': a one-time "
                     "burst without a rate (rate_limiter_bw_max_rate is 0)");
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(HvkDevice) d = device ("net,id=n0,ifname=t,rate_limiter_ops_max_rate=0", &error);

    defaults.ops_max_rate = 10;
    defaults.ops_one_time_burst = 5;
    g_assert_no_error (error);
    g_assert_false (hvk_io_limits_resolve (&defaults, d, &limits, &error));
    g_assert_cmpstr (error->message, ==,
                     "device 'n0' (net): property 'rate_limiter_ops_max_rate': 0 leaves the "
                     "configuration's net_rate_limiter_ops_one_time_burst without a rate (set "
                     "rate_limiter_ops_one_time_burst=0 too)");
  }
}

static void
test_check_store_json (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) d = device ("block,id=d0,path=/x", &error);
  g_autoptr(HvkIoLimits) copy = NULL;
  g_autoptr(JsonObject) json = NULL;
  HvkIoLimits limits = { 0, }, again;

  g_assert_no_error (error);
  limits.ops_one_time_burst = 3;
  g_assert_false (hvk_io_limits_check (&limits, "block", "d0", &error));
  g_assert_cmpstr (error->message, ==, "device 'd0' (block): rate_limiter_ops_one_time_burst: "
                   "a one-time burst without a rate (rate_limiter_ops_max_rate is 0)");
  g_clear_error (&error);
  limits = (HvkIoLimits) { .tx_max_rate = 8000 };
  g_assert_false (hvk_io_limits_check (&limits, "block", "d0", &error));
  g_assert_cmpstr (error->message, ==, "device 'd0' (block): tx_rate_limiter_max_rate: a block "
                   "device has no such limit");
  g_clear_error (&error);

  limits = (HvkIoLimits) { .bw_max_rate = 8388608, .bw_one_time_burst = 800, .ops_max_rate = 7 };
  g_assert_true (hvk_io_limits_check (&limits, "block", "d0", &error));
  g_assert_no_error (error);
  /* Stored on the device, the limits win over any configuration. */
  hvk_io_limits_store (&limits, d);
  g_assert_cmpint (hvk_device_get_int (d, "rate_limiter_bw_max_rate"), ==, 8388608);
  g_assert_true (hvk_device_has (d, "rate_limiter_ops_one_time_burst"));
  {
    HvkIoLimits other = { .bw_max_rate = 1, .ops_max_rate = 99, .ops_one_time_burst = 9 };

    g_assert_true (hvk_io_limits_resolve (&other, d, &again, &error));
    g_assert_true (memcmp (&limits, &again, sizeof limits) == 0);
  }

  copy = hvk_io_limits_copy (&limits);
  g_assert_cmpuint (hvk_io_limits_get_field (copy, HVK_IO_LIMITS_OPS_MAX_RATE), ==, 7);
  hvk_io_limits_set_field (copy, HVK_IO_LIMITS_OPS_MAX_RATE, 9);
  g_assert_cmpuint (copy->ops_max_rate, ==, 9);

  json = hvk_io_limits_to_json (&limits, "block");
  g_assert_cmpuint (json_object_get_size (json), ==, 4);
  g_assert_cmpint (json_object_get_int_member (json, "rate_limiter_bw_one_time_burst"), ==, 800);
  g_assert_false (json_object_has_member (json, "rx_rate_limiter_max_rate"));
}

static void
test_refuse (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) zero = device ("block,id=d0,path=/x,rate_limiter_bw_max_rate=0", &error);
  g_autoptr(HvkDevice) set = device ("net,id=n0,ifname=t,tx_rate_limiter_max_rate=80", &error);

  g_assert_no_error (error);
  g_assert_true (hvk_io_limits_refuse (zero, "acrn", "no limiter", &error));
  g_assert_false (hvk_io_limits_refuse (set, "acrn", "no limiter", &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==, "device 'n0' (net): property 'tx_rate_limiter_max_rate': "
                   "not supported by backend 'acrn' (no limiter)");
  g_clear_error (&error);
  {
    g_autoptr(HvkDevice) grouped = device ("block,id=d1,path=/x,throttle_group=g", &error);

    g_assert_false (hvk_io_limits_refuse (grouped, "acrn", "no limiter", &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
    g_assert_cmpstr (error->message, ==, "device 'd1' (block): property 'throttle_group': "
                     "not supported by backend 'acrn' (no limiter)");
  }
}

/* Throttle groups: a valid name, something to share, one set of limits
 * per group; the switch puts every limited disk in the VM's group. */
static void
test_groups (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkDevice) none = device ("block,id=d0,path=/x,throttle_group=g", &error);
  g_autoptr(HvkDevice) zero = device ("block,id=d1,path=/x,throttle_group=g,"
                                      "rate_limiter_bw_max_rate=0", &error);
  g_autoptr(HvkDevice) fast = device ("block,id=d2,path=/x,throttle_group=g,"
                                      "rate_limiter_bw_max_rate=16000", &error);
  g_autoptr(HvkDevice) plain = device ("block,id=d3,path=/x", &error);
  g_autoptr(HvkDevice) net = device ("net,id=n0,ifname=t", &error);
  g_autoptr(GPtrArray) devices = g_ptr_array_new ();
  HvkIoLimits defaults = { .bw_max_rate = 8000 };
  const char *group = NULL;
  gboolean throttled = FALSE;

  g_assert_no_error (error);
  g_assert_false (hvk_io_limits_group (NULL, FALSE, none, &group, &throttled, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "block device 'd0': property 'throttle_group': group 'g': "
                   "the disk has no limit to share (set a rate_limiter_* property or a "
                   "disk_rate_limiter_* key)");
  g_clear_error (&error);
  /* A limit of 0 given: a group whose limits iotune can set later. */
  g_assert_true (hvk_io_limits_group (NULL, FALSE, zero, &group, &throttled, &error));
  g_assert_cmpstr (group, ==, "g");
  g_assert_true (throttled);
  /* The configuration's limit is something to share. */
  g_assert_true (hvk_io_limits_group (&defaults, FALSE, none, &group, &throttled, &error));
  g_assert_cmpstr (group, ==, "g");
  /* The switch: a limited disk without a group is in the VM's. */
  g_assert_true (hvk_io_limits_group (&defaults, FALSE, plain, &group, &throttled, &error));
  g_assert_null (group);
  g_assert_true (throttled);
  g_assert_true (hvk_io_limits_group (&defaults, TRUE, plain, &group, &throttled, &error));
  g_assert_cmpstr (group, ==, HVK_IO_LIMITS_SHARED_GROUP);
  g_assert_true (hvk_io_limits_group (NULL, TRUE, plain, &group, &throttled, &error));
  g_assert_null (group);
  g_assert_false (throttled);
  g_assert_true (hvk_io_limits_group (&defaults, TRUE, net, &group, &throttled, &error));
  g_assert_null (group);
  g_assert_no_error (error);

  g_ptr_array_add (devices, zero);
  g_ptr_array_add (devices, plain);
  g_ptr_array_add (devices, fast);
  g_assert_false (hvk_io_limits_check_groups (NULL, devices, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "throttle group 'g': block devices 'd1' and 'd2' differ in "
                   "rate_limiter_bw_max_rate (0 and 16000): the disks of a group share one set "
                   "of limits");
  g_clear_error (&error);
  g_ptr_array_remove_index (devices, 2);
  g_assert_true (hvk_io_limits_check_groups (NULL, devices, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hvk/io-limits/names", test_names);
  g_test_add_func ("/hvk/io-limits/config-errors", test_config_errors);
  g_test_add_func ("/hvk/io-limits/resolve", test_resolve);
  g_test_add_func ("/hvk/io-limits/device-errors", test_device_errors);
  g_test_add_func ("/hvk/io-limits/check-store-json", test_check_store_json);
  g_test_add_func ("/hvk/io-limits/refuse", test_refuse);
  g_test_add_func ("/hvk/io-limits/groups", test_groups);
  return g_test_run ();
}
