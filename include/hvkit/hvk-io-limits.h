/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#include <glib.h>
#include <glib-object.h>
#include <json-glib/json-glib.h>
#include <hvkit/hvk-visibility.h>
#include <hvkit/hvk-config.h>
#include <hvkit/hvk-device.h>

G_BEGIN_DECLS

/**
 * HvkIoLimits:
 * @bw_max_rate: bandwidth, in bits per second, the same value for both
 *   directions (reads and writes of a disk; a network interface's
 *   receive and transmit sides); 0: unlimited
 * @bw_one_time_burst: bits the device may move above @bw_max_rate
 *   before the rate applies; 0: none.  Needs @bw_max_rate
 * @ops_max_rate: operations per second (requests of a disk, packets of
 *   an interface); 0: unlimited
 * @ops_one_time_burst: operations above @ops_max_rate before the rate
 *   applies; 0: none.  Needs @ops_max_rate
 * @rx_max_rate: network only: what the guest receives, in bits per
 *   second; 0: unlimited
 * @tx_max_rate: network only: what the guest sends, in bits per second;
 *   0: unlimited
 *
 * The I/O limits of one `block` or `net` device, in Kata's units and
 * with Kata's meaning (`HypervisorConfig`'s `DiskRateLimiter*`,
 * `NetRateLimiter*`, `RxRateLimiterMaxRate`, `TxRateLimiterMaxRate`).
 * A device's limits are its own properties where it sets them (the
 * names in hvk_io_limits_prop_name()), else the configuration's keys
 * (hvk_io_limits_key_name(), hvk_io_limits_from_config()):
 * hvk_io_limits_resolve().
 *
 * A bandwidth is refused below 8 bits per second (it would be 0 bytes,
 * which means unlimited) and above %HVK_IO_LIMITS_MAX_BYTES once
 * converted to bytes; a count above %HVK_IO_LIMITS_MAX_BYTES too.
 */
typedef struct {
  guint64 bw_max_rate;
  guint64 bw_one_time_burst;
  guint64 ops_max_rate;
  guint64 ops_one_time_burst;
  guint64 rx_max_rate;
  guint64 tx_max_rate;
} HvkIoLimits;

/**
 * HVK_IO_LIMITS_MAX_BYTES:
 *
 * The largest limit, in bytes (per second, or of a burst) or operations:
 * 10^15, QEMU's own bound (`THROTTLE_VALUE_MAX`), 8 petabits per second.
 */
#define HVK_IO_LIMITS_MAX_BYTES G_GUINT64_CONSTANT (1000000000000000)

/**
 * HvkIoLimitsField:
 * @HVK_IO_LIMITS_BW_MAX_RATE: #HvkIoLimits.bw_max_rate
 * @HVK_IO_LIMITS_BW_ONE_TIME_BURST: #HvkIoLimits.bw_one_time_burst
 * @HVK_IO_LIMITS_OPS_MAX_RATE: #HvkIoLimits.ops_max_rate
 * @HVK_IO_LIMITS_OPS_ONE_TIME_BURST: #HvkIoLimits.ops_one_time_burst
 * @HVK_IO_LIMITS_RX_MAX_RATE: #HvkIoLimits.rx_max_rate
 * @HVK_IO_LIMITS_TX_MAX_RATE: #HvkIoLimits.tx_max_rate
 * @HVK_IO_LIMITS_N_FIELDS: the number of fields
 *
 * The fields of #HvkIoLimits, in order.
 */
typedef enum {
  HVK_IO_LIMITS_BW_MAX_RATE,
  HVK_IO_LIMITS_BW_ONE_TIME_BURST,
  HVK_IO_LIMITS_OPS_MAX_RATE,
  HVK_IO_LIMITS_OPS_ONE_TIME_BURST,
  HVK_IO_LIMITS_RX_MAX_RATE,
  HVK_IO_LIMITS_TX_MAX_RATE,
  HVK_IO_LIMITS_N_FIELDS,
} HvkIoLimitsField;

#define HVK_TYPE_IO_LIMITS (hvk_io_limits_get_type ())
HVK_AVAILABLE_IN_ALL
GType        hvk_io_limits_get_type   (void) G_GNUC_CONST;
HVK_AVAILABLE_IN_ALL
HvkIoLimits *hvk_io_limits_copy       (const HvkIoLimits *limits);
HVK_AVAILABLE_IN_ALL
void         hvk_io_limits_free       (HvkIoLimits       *limits);

HVK_AVAILABLE_IN_ALL
gboolean     hvk_io_limits_is_unlimited (const HvkIoLimits *limits);
HVK_AVAILABLE_IN_ALL
guint64      hvk_io_limits_get_field  (const HvkIoLimits *limits,
                                       HvkIoLimitsField   field);
HVK_AVAILABLE_IN_ALL
void         hvk_io_limits_set_field  (HvkIoLimits       *limits,
                                       HvkIoLimitsField   field,
                                       guint64            value);
HVK_AVAILABLE_IN_ALL
const char  *hvk_io_limits_prop_name  (HvkIoLimitsField   field);
HVK_AVAILABLE_IN_ALL
const char  *hvk_io_limits_key_name   (const char        *kind,
                                       HvkIoLimitsField   field);
HVK_AVAILABLE_IN_ALL
gboolean     hvk_io_limits_kind_has_field (const char      *kind,
                                           HvkIoLimitsField field);

HVK_AVAILABLE_IN_ALL
gboolean     hvk_io_limits_check      (const HvkIoLimits *limits,
                                       const char        *kind,
                                       const char        *device_id,
                                       GError           **error);
HVK_AVAILABLE_IN_ALL
void         hvk_io_limits_from_config (HvkConfig        *config,
                                        const char       *kind,
                                        HvkIoLimits      *limits);
HVK_AVAILABLE_IN_ALL
gboolean     hvk_io_limits_resolve    (const HvkIoLimits *defaults,
                                       HvkDevice         *device,
                                       HvkIoLimits       *limits,
                                       GError           **error);
HVK_AVAILABLE_IN_ALL
void         hvk_io_limits_store      (const HvkIoLimits *limits,
                                       HvkDevice         *device);
HVK_AVAILABLE_IN_ALL
gboolean     hvk_io_limits_refuse     (HvkDevice         *device,
                                       const char        *backend,
                                       const char        *reason,
                                       GError           **error);
HVK_AVAILABLE_IN_ALL
JsonObject  *hvk_io_limits_to_json    (const HvkIoLimits *limits,
                                       const char        *kind);

/**
 * HVK_IO_LIMITS_GROUP_PROP:
 *
 * The `block` device property naming the throttle group a disk shares
 * its limits with (letters, digits, `_` and `-`): the disks of one
 * group are limited together, by one set of limits.
 */
#define HVK_IO_LIMITS_GROUP_PROP "throttle_group"

/**
 * HVK_IO_LIMITS_SHARED_KEY:
 *
 * hvkit's own configuration key (Kata has none): when true, every
 * limited disk without a %HVK_IO_LIMITS_GROUP_PROP is in one group of
 * the VM, %HVK_IO_LIMITS_SHARED_GROUP, so the `disk_rate_limiter_*`
 * keys cap the VM's disk I/O as a whole instead of each disk's.
 */
#define HVK_IO_LIMITS_SHARED_KEY "disk_rate_limiter_shared"

/**
 * HVK_IO_LIMITS_SHARED_GROUP:
 *
 * The name of the group %HVK_IO_LIMITS_SHARED_KEY puts disks in (a disk
 * naming it with %HVK_IO_LIMITS_GROUP_PROP joins it).
 */
#define HVK_IO_LIMITS_SHARED_GROUP "shared"

HVK_AVAILABLE_IN_ALL
gboolean     hvk_io_limits_group      (const HvkIoLimits *defaults,
                                       gboolean           shared,
                                       HvkDevice         *device,
                                       const char       **group,
                                       gboolean          *throttled,
                                       GError           **error);
HVK_AVAILABLE_IN_ALL
gboolean     hvk_io_limits_group_from_config (HvkConfig   *config,
                                              HvkDevice   *device,
                                              const char **group,
                                              GError     **error);
HVK_AVAILABLE_IN_ALL
gboolean     hvk_io_limits_group_agree (const char        *group,
                                        const char        *member_id,
                                        const HvkIoLimits *member_limits,
                                        const char        *device_id,
                                        const HvkIoLimits *limits,
                                        GError           **error);
HVK_AVAILABLE_IN_ALL
gboolean     hvk_io_limits_check_groups (HvkConfig  *config,
                                         GPtrArray  *devices,
                                         GError    **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HvkIoLimits, hvk_io_limits_free)

G_END_DECLS
