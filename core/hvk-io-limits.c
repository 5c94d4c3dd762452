/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

#include "hvk-config-private.h"
#include "hvk-io-limits-private.h"

/*
 * The ten rate-limiter fields of Kata's HypervisorConfig: four for disks
 * (disk_rate_limiter_*), four for network interfaces
 * (net_rate_limiter_*), and the receive and transmit rates Kata's QEMU
 * path shapes on the tap (rx_/tx_rate_limiter_max_rate).  The names are
 * part of the configuration and device formats: append-only.
 */

typedef struct {
  const char *prop;          /* the device property of block and net */
  const char *block_key;     /* the configuration key, NULL: not for disks */
  const char *net_key;
  gboolean    bits;          /* a bandwidth or a burst of bits */
  int         rate;          /* a burst: the field of its rate; else -1 */
} FieldInfo;

static const FieldInfo fields[HVK_IO_LIMITS_N_FIELDS] = {
  [HVK_IO_LIMITS_BW_MAX_RATE] = {
    "rate_limiter_bw_max_rate", "disk_rate_limiter_bw_max_rate",
    "net_rate_limiter_bw_max_rate", TRUE, -1 },
  [HVK_IO_LIMITS_BW_ONE_TIME_BURST] = {
    "rate_limiter_bw_one_time_burst", "disk_rate_limiter_bw_one_time_burst",
    "net_rate_limiter_bw_one_time_burst", TRUE, HVK_IO_LIMITS_BW_MAX_RATE },
  [HVK_IO_LIMITS_OPS_MAX_RATE] = {
    "rate_limiter_ops_max_rate", "disk_rate_limiter_ops_max_rate",
    "net_rate_limiter_ops_max_rate", FALSE, -1 },
  [HVK_IO_LIMITS_OPS_ONE_TIME_BURST] = {
    "rate_limiter_ops_one_time_burst", "disk_rate_limiter_ops_one_time_burst",
    "net_rate_limiter_ops_one_time_burst", FALSE, HVK_IO_LIMITS_OPS_MAX_RATE },
  [HVK_IO_LIMITS_RX_MAX_RATE] = {
    "rx_rate_limiter_max_rate", NULL, "rx_rate_limiter_max_rate", TRUE, -1 },
  [HVK_IO_LIMITS_TX_MAX_RATE] = {
    "tx_rate_limiter_max_rate", NULL, "tx_rate_limiter_max_rate", TRUE, -1 },
};

G_DEFINE_BOXED_TYPE (HvkIoLimits, hvk_io_limits, hvk_io_limits_copy, hvk_io_limits_free)

/**
 * hvk_io_limits_copy:
 * @limits: limits
 *
 * Copies @limits.
 *
 * Returns: (transfer full): a copy of @limits
 */
HvkIoLimits *
hvk_io_limits_copy (const HvkIoLimits *limits)
{
  g_return_val_if_fail (limits != NULL, NULL);

  return g_memdup2 (limits, sizeof *limits);
}

/**
 * hvk_io_limits_free:
 * @limits: limits from hvk_io_limits_copy()
 *
 * Frees @limits.
 */
void
hvk_io_limits_free (HvkIoLimits *limits)
{
  g_free (limits);
}

/**
 * hvk_io_limits_is_unlimited:
 * @limits: limits
 *
 * Tells whether @limits limit nothing.
 *
 * Returns: whether every field of @limits is 0
 */
gboolean
hvk_io_limits_is_unlimited (const HvkIoLimits *limits)
{
  g_return_val_if_fail (limits != NULL, TRUE);

  for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
    if (hvk_io_limits_get_field (limits, i) != 0)
      return FALSE;
  return TRUE;
}

static guint64 *
field_ptr (HvkIoLimits      *limits,
           HvkIoLimitsField  field)
{
  switch (field)
    {
    case HVK_IO_LIMITS_BW_MAX_RATE: return &limits->bw_max_rate;
    case HVK_IO_LIMITS_BW_ONE_TIME_BURST: return &limits->bw_one_time_burst;
    case HVK_IO_LIMITS_OPS_MAX_RATE: return &limits->ops_max_rate;
    case HVK_IO_LIMITS_OPS_ONE_TIME_BURST: return &limits->ops_one_time_burst;
    case HVK_IO_LIMITS_RX_MAX_RATE: return &limits->rx_max_rate;
    case HVK_IO_LIMITS_TX_MAX_RATE: return &limits->tx_max_rate;
    case HVK_IO_LIMITS_N_FIELDS:
    default:
      return NULL;
    }
}

/**
 * hvk_io_limits_get_field:
 * @limits: limits
 * @field: a field
 *
 * Reads one field.
 *
 * Returns: the value of @field in @limits
 */
guint64
hvk_io_limits_get_field (const HvkIoLimits *limits,
                         HvkIoLimitsField   field)
{
  guint64 *p;

  g_return_val_if_fail (limits != NULL, 0);
  p = field_ptr ((HvkIoLimits *) limits, field);
  g_return_val_if_fail (p != NULL, 0);
  return *p;
}

/**
 * hvk_io_limits_set_field:
 * @limits: limits
 * @field: a field
 * @value: its new value
 *
 * Sets one field.
 */
void
hvk_io_limits_set_field (HvkIoLimits      *limits,
                         HvkIoLimitsField  field,
                         guint64           value)
{
  guint64 *p;

  g_return_if_fail (limits != NULL);
  p = field_ptr (limits, field);
  g_return_if_fail (p != NULL);
  *p = value;
}

/**
 * hvk_io_limits_prop_name:
 * @field: a field
 *
 * The device property of one field.
 *
 * Returns: the device property (of `block` and `net`) that sets @field
 *   for one device: `rate_limiter_bw_max_rate`,
 *   `rate_limiter_bw_one_time_burst`, `rate_limiter_ops_max_rate`,
 *   `rate_limiter_ops_one_time_burst`, `rx_rate_limiter_max_rate`,
 *   `tx_rate_limiter_max_rate`
 */
const char *
hvk_io_limits_prop_name (HvkIoLimitsField field)
{
  g_return_val_if_fail (field < HVK_IO_LIMITS_N_FIELDS, NULL);
  return fields[field].prop;
}

/**
 * hvk_io_limits_key_name:
 * @kind: `block` or `net`
 * @field: a field
 *
 * The configuration key of one field for one kind of device.
 *
 * Returns: (nullable): the configuration key (Kata's name) that sets
 *   @field for every device of @kind (`disk_rate_limiter_bw_max_rate`,
 *   `net_rate_limiter_bw_max_rate`, `rx_rate_limiter_max_rate` …), or
 *   %NULL when devices of @kind have no such field
 */
const char *
hvk_io_limits_key_name (const char       *kind,
                        HvkIoLimitsField  field)
{
  g_return_val_if_fail (field < HVK_IO_LIMITS_N_FIELDS, NULL);

  if (g_strcmp0 (kind, HVK_DEVICE_KIND_BLOCK) == 0)
    return fields[field].block_key;
  if (g_strcmp0 (kind, HVK_DEVICE_KIND_NET) == 0)
    return fields[field].net_key;
  return NULL;
}

/**
 * hvk_io_limits_kind_has_field:
 * @kind: a device kind
 * @field: a field
 *
 * Tells whether a kind of device has a field.
 *
 * Returns: whether devices of @kind have @field (disks have no receive
 *   and transmit rates; kinds other than `block` and `net` none)
 */
gboolean
hvk_io_limits_kind_has_field (const char       *kind,
                              HvkIoLimitsField  field)
{
  return hvk_io_limits_key_name (kind, field) != NULL;
}

gboolean
hvk_io_limits_is_prop (const char       *kind,
                       const char       *prop,
                       HvkIoLimitsField *field)
{
  for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
    if (g_strcmp0 (fields[i].prop, prop) == 0 && hvk_io_limits_kind_has_field (kind, i))
      {
        if (field != NULL)
          *field = i;
        return TRUE;
      }
  return FALSE;
}

gboolean
hvk_io_limits_is_key (const char       *key,
                      const char      **kind,
                      HvkIoLimitsField *field)
{
  for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
    {
      const char *k = NULL;

      if (g_strcmp0 (fields[i].block_key, key) == 0)
        k = HVK_DEVICE_KIND_BLOCK;
      else if (g_strcmp0 (fields[i].net_key, key) == 0)
        k = HVK_DEVICE_KIND_NET;
      if (k != NULL)
        {
          if (kind != NULL)
            *kind = k;
          if (field != NULL)
            *field = i;
          return TRUE;
        }
    }
  return FALSE;
}

/* One value, as given (a key file or device string may say -1). */
gboolean
hvk_io_limits_check_value (HvkIoLimitsField   field,
                           gint64             value,
                           char             **problem)
{
  if (value < 0)
    {
      *problem = g_strdup_printf ("%" G_GINT64_FORMAT " is negative (0 means %s)", value,
                                  fields[field].rate < 0 ? "unlimited" : "no burst");
      return FALSE;
    }
  if (fields[field].bits && value > 0 && value < 8)
    {
      *problem = g_strdup_printf ("%" G_GINT64_FORMAT " bits is less than a byte (the limit "
                                  "is in bits%s; 0 means %s)", value,
                                  fields[field].rate < 0 ? " per second" : "",
                                  fields[field].rate < 0 ? "unlimited" : "no burst");
      return FALSE;
    }
  if ((guint64) value / (fields[field].bits ? 8 : 1) > HVK_IO_LIMITS_MAX_BYTES)
    {
      *problem = g_strdup_printf ("%" G_GINT64_FORMAT " %s is more than the largest limit "
                                  "(%" G_GUINT64_FORMAT " %s)", value,
                                  fields[field].bits ? "bits" : "operations",
                                  HVK_IO_LIMITS_MAX_BYTES,
                                  fields[field].bits ? "bytes, 8*10^15 bits" : "operations");
      return FALSE;
    }
  return TRUE;
}

/* A rate and its burst, which QEMU adds up into one *-max limit. */
static gboolean
check_sum (const HvkIoLimits  *limits,
           HvkIoLimitsField    burst,
           char              **problem)
{
  guint64 rate = hvk_io_limits_get_field (limits, fields[burst].rate);
  guint64 extra = hvk_io_limits_get_field (limits, burst);
  guint divisor = fields[burst].bits ? 8 : 1;

  if (extra > 0 && rate == 0)
    {
      *problem = g_strdup_printf ("a one-time burst without a rate (%s is 0)",
                                  fields[fields[burst].rate].prop);
      return FALSE;
    }
  if (rate / divisor + extra / divisor > HVK_IO_LIMITS_MAX_BYTES)
    {
      *problem = g_strdup_printf ("the rate and the burst add up to more than the largest "
                                  "limit (%" G_GUINT64_FORMAT " %s)", HVK_IO_LIMITS_MAX_BYTES,
                                  fields[burst].bits ? "bytes" : "operations");
      return FALSE;
    }
  return TRUE;
}

/**
 * hvk_io_limits_check:
 * @limits: limits
 * @kind: the device's kind (`block` or `net`)
 * @device_id: the device, for the error
 * @error: return location for a #GError
 *
 * Checks @limits as hvk_io_limits_resolve() checks a device's: every
 * value in range, no burst without its rate, no field the kind has not
 * (a disk's receive rate).
 *
 * Returns: %TRUE if valid; else %FALSE with %HVK_ERROR_INVALID_ARGUMENT
 *   naming the device and the property
 */
gboolean
hvk_io_limits_check (const HvkIoLimits  *limits,
                     const char         *kind,
                     const char         *device_id,
                     GError            **error)
{
  g_return_val_if_fail (limits != NULL, FALSE);

  for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
    {
      guint64 v = hvk_io_limits_get_field (limits, i);
      g_autofree char *problem = NULL;

      if (!hvk_io_limits_kind_has_field (kind, i))
        {
          if (v == 0)
            continue;
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "device '%s' (%s): %s: a %s device has no such limit",
                       device_id, kind, fields[i].prop, kind);
          return FALSE;
        }
      if (v > G_MAXINT64 || !hvk_io_limits_check_value (i, (gint64) v, &problem)
          || (fields[i].rate >= 0 && !check_sum (limits, i, &problem)))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "device '%s' (%s): %s: %s", device_id, kind, fields[i].prop,
                       problem != NULL ? problem : "out of range");
          return FALSE;
        }
    }
  return TRUE;
}

/* The configuration's own keys (hvk_config_validate()). */
gboolean
hvk_io_limits_check_config (HvkConfig  *config,
                            GError    **error)
{
  static const char * const kinds[] = { HVK_DEVICE_KIND_BLOCK, HVK_DEVICE_KIND_NET };

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      HvkIoLimits limits = { 0, };

      for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
        {
          const char *key = hvk_io_limits_key_name (kinds[k], i);
          g_autofree char *problem = NULL;
          gint64 v;

          if (key == NULL)
            continue;
          v = hvk_config_get_int (config, key);
          if (!hvk_io_limits_check_value (i, v, &problem))
            {
              config_error (config, error, key, "%s", problem);
              return FALSE;
            }
          hvk_io_limits_set_field (&limits, i, (guint64) v);
        }
      for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
        {
          const char *key = hvk_io_limits_key_name (kinds[k], i);
          g_autofree char *problem = NULL;

          if (key == NULL || fields[i].rate < 0 || check_sum (&limits, i, &problem))
            continue;
          if (hvk_io_limits_get_field (&limits, fields[i].rate) == 0)
            config_error (config, error, key, "a one-time burst without a rate (%s is 0)",
                          hvk_io_limits_key_name (kinds[k], fields[i].rate));
          else
            config_error (config, error, key, "%s", problem);
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * hvk_io_limits_from_config:
 * @config: a configuration (validated: hvk_config_validate() checked its
 *   limits)
 * @kind: `block` or `net`
 * @limits: (out caller-allocates): the limits @config sets for every
 *   device of @kind
 *
 * Reads the configuration keys of @kind's limits
 * (hvk_io_limits_key_name()); a backend reads them once, with its other
 * settings, and gives them to hvk_io_limits_resolve() for each device.
 */
void
hvk_io_limits_from_config (HvkConfig   *config,
                           const char  *kind,
                           HvkIoLimits *limits)
{
  g_return_if_fail (limits != NULL);

  *limits = (HvkIoLimits) { 0, };
  g_return_if_fail (HVK_IS_CONFIG (config));
  for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
    {
      const char *key = hvk_io_limits_key_name (kind, i);

      if (key != NULL)
        hvk_io_limits_set_field (limits, i, (guint64) MAX (hvk_config_get_int (config, key), 0));
    }
}

/**
 * hvk_io_limits_resolve:
 * @defaults: (nullable): the limits the configuration sets for the
 *   device's kind (hvk_io_limits_from_config()), %NULL for none
 * @device: a device
 * @limits: (out caller-allocates): its limits
 * @error: return location for a #GError
 *
 * The limits of @device: each field from the device's own property when
 * it sets one (0 there lifts the configuration's limit), else from
 * @defaults.  A device of another kind than `block` and `net` has none.
 *
 * Returns: %TRUE with @limits set; else %FALSE with
 *   %HVK_ERROR_INVALID_ARGUMENT naming the device and the property that
 *   holds a value out of range, a burst without its rate, or a rate of 0
 *   that leaves the configuration's burst without one
 */
gboolean
hvk_io_limits_resolve (const HvkIoLimits  *defaults,
                       HvkDevice          *device,
                       HvkIoLimits        *limits,
                       GError            **error)
{
  const char *kind;
  const char *id;
  gboolean from_prop[HVK_IO_LIMITS_N_FIELDS] = { FALSE, };

  g_return_val_if_fail (HVK_IS_DEVICE (device), FALSE);
  g_return_val_if_fail (limits != NULL, FALSE);

  *limits = (HvkIoLimits) { 0, };
  kind = hvk_device_get_kind_name (device);
  id = hvk_device_get_id (device);
  for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
    {
      g_autofree char *problem = NULL;
      gint64 v;

      if (!hvk_io_limits_kind_has_field (kind, i))
        continue;
      from_prop[i] = hvk_device_has (device, fields[i].prop);
      if (!from_prop[i])
        {
          if (defaults != NULL)
            hvk_io_limits_set_field (limits, i, hvk_io_limits_get_field (defaults, i));
          continue;
        }
      v = hvk_device_get_int (device, fields[i].prop);
      if (!hvk_io_limits_check_value (i, v, &problem))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "device '%s' (%s): property '%s': %s", id, kind, fields[i].prop, problem);
          return FALSE;
        }
      hvk_io_limits_set_field (limits, i, (guint64) v);
    }
  for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
    {
      g_autofree char *problem = NULL;
      int rate = fields[i].rate;

      if (!hvk_io_limits_kind_has_field (kind, i) || rate < 0
          || check_sum (limits, i, &problem))
        continue;
      if (hvk_io_limits_get_field (limits, rate) == 0 && !from_prop[i])
        g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                     "device '%s' (%s): property '%s': 0 leaves the configuration's %s "
                     "without a rate (set %s=0 too)", id, kind, fields[rate].prop,
                     hvk_io_limits_key_name (kind, i), fields[i].prop);
      else
        g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                     "device '%s' (%s): property '%s': %s", id, kind, fields[i].prop, problem);
      return FALSE;
    }
  return TRUE;
}

/**
 * hvk_io_limits_store:
 * @limits: limits
 * @device: a `block` or `net` device
 *
 * Sets every limit property of @device's kind to @limits' value, so
 * that @device (saved with the VM's state) keeps them whatever the
 * configuration says.
 */
void
hvk_io_limits_store (const HvkIoLimits *limits,
                     HvkDevice         *device)
{
  const char *kind;

  g_return_if_fail (limits != NULL);
  g_return_if_fail (HVK_IS_DEVICE (device));

  kind = hvk_device_get_kind_name (device);
  for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
    if (hvk_io_limits_kind_has_field (kind, i))
      hvk_device_set_int (device, fields[i].prop, (gint64) hvk_io_limits_get_field (limits, i));
}

/**
 * hvk_io_limits_to_json:
 * @limits: limits
 * @kind: `block` or `net`
 *
 * The limits as JSON (hvkit iotune --json).
 *
 * Returns: (transfer full): an object of @kind's limit properties
 *   (hvk_io_limits_prop_name()) and their values
 */
JsonObject *
hvk_io_limits_to_json (const HvkIoLimits *limits,
                       const char        *kind)
{
  JsonObject *object = json_object_new ();

  g_return_val_if_fail (limits != NULL, object);

  for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
    if (hvk_io_limits_kind_has_field (kind, i))
      json_object_set_int_member (object, fields[i].prop,
                                  (gint64) hvk_io_limits_get_field (limits, i));
  return object;
}

/**
 * hvk_io_limits_refuse:
 * @device: a device
 * @backend: the backend that cannot limit it
 * @reason: why
 * @error: return location for a #GError
 *
 * For a backend that cannot limit a device's I/O (and refuses the
 * configuration keys with hvk_plugin_register_refused_keys()): a limit
 * property @device sets to anything but 0, or a throttle group
 * (%HVK_IO_LIMITS_GROUP_PROP), is refused, never ignored.
 *
 * Returns: %TRUE if @device asks for no limit; else %FALSE with
 *   %HVK_ERROR_NOT_SUPPORTED naming the device, the property, @backend
 *   and @reason
 */
gboolean
hvk_io_limits_refuse (HvkDevice   *device,
                      const char  *backend,
                      const char  *reason,
                      GError     **error)
{
  const char *kind;

  g_return_val_if_fail (HVK_IS_DEVICE (device), FALSE);

  kind = hvk_device_get_kind_name (device);
  if (g_str_equal (kind, HVK_DEVICE_KIND_BLOCK) && hvk_device_has (device, HVK_IO_LIMITS_GROUP_PROP))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "device '%s' (%s): property '%s': not supported by backend '%s' (%s)",
                   hvk_device_get_id (device), kind, HVK_IO_LIMITS_GROUP_PROP, backend, reason);
      return FALSE;
    }
  for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
    if (hvk_io_limits_kind_has_field (kind, i) && hvk_device_has (device, fields[i].prop)
        && hvk_device_get_int (device, fields[i].prop) != 0)
      {
        g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                     "device '%s' (%s): property '%s': not supported by backend '%s' (%s)",
                     hvk_device_get_id (device), kind, fields[i].prop, backend, reason);
        return FALSE;
      }
  return TRUE;
}

/* ---- throttle groups ---- */

static gboolean
group_name_is_valid (const char *name)
{
  if (name == NULL || *name == '\0' || strlen (name) > 64)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!(g_ascii_isalnum (*p) || *p == '_' || *p == '-'))
      return FALSE;
  return TRUE;
}

/**
 * hvk_io_limits_group:
 * @defaults: (nullable): the configuration's disk limits
 *   (hvk_io_limits_from_config()), %NULL for none
 * @shared: the configuration's %HVK_IO_LIMITS_SHARED_KEY
 * @device: a device
 * @group: (out) (transfer none) (nullable): the throttle group @device
 *   is in, owned by @device (or static), %NULL for none
 * @throttled: (out) (optional): whether @device is throttled at all:
 *   it has some limit, or names a limit property (even 0, so that its
 *   limits can change while it runs)
 * @error: return location for a #GError
 *
 * The throttle group of a disk: its %HVK_IO_LIMITS_GROUP_PROP, else
 * with @shared %HVK_IO_LIMITS_SHARED_GROUP if it has a limit, else none
 * (a limited disk then has a group of its own).  Devices other than
 * `block` have none.
 *
 * Returns: %TRUE with @group set; else %FALSE with
 *   %HVK_ERROR_INVALID_ARGUMENT naming the device and the property: a
 *   group name of other characters than letters, digits, `_` and `-`,
 *   a disk in a group without any limit to share, or a limit out of
 *   range (hvk_io_limits_resolve())
 */
gboolean
hvk_io_limits_group (const HvkIoLimits  *defaults,
                     gboolean            shared,
                     HvkDevice          *device,
                     const char        **group,
                     gboolean           *throttled,
                     GError            **error)
{
  HvkIoLimits limits;
  const char *id;
  const char *name = NULL;
  gboolean limited;
  gboolean named_limit = FALSE;

  g_return_val_if_fail (HVK_IS_DEVICE (device), FALSE);
  g_return_val_if_fail (group != NULL, FALSE);

  *group = NULL;
  if (throttled != NULL)
    *throttled = FALSE;
  if (!g_str_equal (hvk_device_get_kind_name (device), HVK_DEVICE_KIND_BLOCK))
    return TRUE;
  id = hvk_device_get_id (device);
  if (!hvk_io_limits_resolve (defaults, device, &limits, error))
    return FALSE;
  limited = !hvk_io_limits_is_unlimited (&limits);
  for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
    if (hvk_io_limits_kind_has_field (HVK_DEVICE_KIND_BLOCK, i)
        && hvk_device_has (device, fields[i].prop))
      named_limit = TRUE;
  if (hvk_device_has (device, HVK_IO_LIMITS_GROUP_PROP))
    {
      name = hvk_device_get_string (device, HVK_IO_LIMITS_GROUP_PROP);
      if (!group_name_is_valid (name))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "block device '%s': property '%s': '%s' is not a group name "
                       "(1 to 64 letters, digits, '_' and '-')", id, HVK_IO_LIMITS_GROUP_PROP,
                       name != NULL ? name : "");
          return FALSE;
        }
      if (!limited && !named_limit)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                       "block device '%s': property '%s': group '%s': the disk has no limit "
                       "to share (set a rate_limiter_* property or a disk_rate_limiter_* key)",
                       id, HVK_IO_LIMITS_GROUP_PROP, name);
          return FALSE;
        }
    }
  else if (shared && limited)
    name = HVK_IO_LIMITS_SHARED_GROUP;
  *group = name;
  if (throttled != NULL)
    *throttled = limited || named_limit;
  return TRUE;
}

/* What decides a disk's group in @config (none: no limits, not shared). */
static void
group_settings (HvkConfig   *config,
                HvkIoLimits *defaults,
                gboolean    *shared)
{
  if (config == NULL)
    return;
  hvk_io_limits_from_config (config, HVK_DEVICE_KIND_BLOCK, defaults);
  *shared = hvk_config_get_boolean (config, HVK_IO_LIMITS_SHARED_KEY);
}

/**
 * hvk_io_limits_group_from_config:
 * @config: (nullable): a configuration, %NULL for none
 * @device: a device
 * @group: (out) (transfer none) (nullable): its throttle group, %NULL
 *   for none
 * @error: return location for a #GError
 *
 * hvk_io_limits_group() with @config's disk limits and
 * %HVK_IO_LIMITS_SHARED_KEY.
 *
 * Returns: %TRUE with @group set; else %FALSE as hvk_io_limits_group()
 */
gboolean
hvk_io_limits_group_from_config (HvkConfig   *config,
                                 HvkDevice   *device,
                                 const char **group,
                                 GError     **error)
{
  HvkIoLimits defaults = { 0, };
  gboolean shared = FALSE;

  group_settings (config, &defaults, &shared);
  return hvk_io_limits_group (&defaults, shared, device, group, NULL, error);
}

/**
 * hvk_io_limits_group_agree:
 * @group: the group
 * @member_id: a disk in @group
 * @member_limits: its limits (the group's)
 * @device_id: a disk joining @group
 * @limits: its limits
 * @error: return location for a #GError
 *
 * The disks of a group share one set of limits: each member's must be
 * the group's.
 *
 * Returns: %TRUE if @limits are @member_limits; else %FALSE with
 *   %HVK_ERROR_INVALID_ARGUMENT naming the group, both disks and the
 *   first field that differs
 */
gboolean
hvk_io_limits_group_agree (const char         *group,
                           const char         *member_id,
                           const HvkIoLimits  *member_limits,
                           const char         *device_id,
                           const HvkIoLimits  *limits,
                           GError            **error)
{
  for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
    {
      guint64 a = hvk_io_limits_get_field (member_limits, i);
      guint64 b = hvk_io_limits_get_field (limits, i);

      if (a == b)
        continue;
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "throttle group '%s': block devices '%s' and '%s' differ in %s "
                   "(%" G_GUINT64_FORMAT " and %" G_GUINT64_FORMAT "): the disks of a group "
                   "share one set of limits", group, member_id, device_id, fields[i].prop, a, b);
      return FALSE;
    }
  return TRUE;
}

/**
 * hvk_io_limits_check_groups:
 * @config: (nullable): the VM's configuration, %NULL for none
 * @devices: (element-type HvkDevice): the VM's devices
 * @error: return location for a #GError
 *
 * Checks the throttle groups of @devices (hvk_io_limits_group()): every
 * name valid, every grouped disk limited, the disks of each group with
 * the same limits (hvk_io_limits_group_agree()).
 *
 * Returns: %TRUE if valid; else %FALSE with %HVK_ERROR_INVALID_ARGUMENT
 */
gboolean
hvk_io_limits_check_groups (HvkConfig  *config,
                            GPtrArray  *devices,
                            GError    **error)
{
  g_autoptr(GHashTable) first = g_hash_table_new (g_str_hash, g_str_equal);
  HvkIoLimits defaults = { 0, };
  gboolean shared = FALSE;

  g_return_val_if_fail (devices != NULL, FALSE);

  group_settings (config, &defaults, &shared);
  for (guint i = 0; i < devices->len; i++)
    {
      HvkDevice *device = g_ptr_array_index (devices, i);
      HvkDevice *member;
      const char *group = NULL;
      HvkIoLimits a, b;

      if (!hvk_io_limits_group (&defaults, shared, device, &group, NULL, error))
        return FALSE;
      if (group == NULL)
        continue;
      member = g_hash_table_lookup (first, group);
      if (member == NULL)
        {
          g_hash_table_insert (first, (gpointer) group, device);
          continue;
        }
      if (!hvk_io_limits_resolve (&defaults, member, &a, error)
          || !hvk_io_limits_resolve (&defaults, device, &b, error)
          || !hvk_io_limits_group_agree (group, hvk_device_get_id (member), &a,
                                         hvk_device_get_id (device), &b, error))
        return FALSE;
    }
  return TRUE;
}
