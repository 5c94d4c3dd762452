/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#include <glib.h>
#include <glib-object.h>
#include <json-glib/json-glib.h>
#include <hvkit/hvk-visibility.h>

G_BEGIN_DECLS

/**
 * HvkStats:
 *
 * A VM's statistics: unsigned 64-bit values under stable dotted keys,
 * `GROUP.NAME` or `GROUP.INSTANCE.NAME`, in the order a backend added
 * them.  The keys hvkit defines (a backend reports those it can, and may
 * add its own under other names):
 *
 * | key | unit | meaning |
 * | --- | --- | --- |
 * | `cpu.time_ns` | ns | CPU time of the VMM process, user + system |
 * | `memory.rss_bytes` | bytes | resident memory of the VMM process |
 * | `memory.configured_bytes` | bytes | the guest's memory now (boot + hot-plugged) |
 * | `memory.balloon_bytes` | bytes | what the balloon leaves the guest (QEMU's `query-balloon` `actual`) |
 * | `memory.balloon_target_bytes` | bytes | the balloon's target set with hvk_hypervisor_balloon() (0: none) |
 * | `memory.guest_free_bytes`, `memory.guest_available_bytes` | bytes | the guest's free and available memory at its last report (balloon statistics on) |
 * | `vcpu.N.thread_id` | - | host thread of vCPU N |
 * | `vcpu.N.time_ns` | ns | CPU time of that thread |
 * | `block.DEV.rd_bytes`, `.wr_bytes` | bytes | read and written by the guest |
 * | `block.DEV.rd_ops`, `.wr_ops`, `.flush_ops` | - | requests |
 * | `block.DEV.rd_total_time_ns`, `.wr_total_time_ns` | ns | time spent on them |
 * | `net.DEV.rx_bytes`, `.tx_bytes`, `.rx_packets`, `.tx_packets`, `.rx_drops`, `.tx_drops` | - | as the guest sees them (rx: to the guest) |
 * | `virtiofsd.time_ns`, `virtiofsd.rss_bytes` | ns, bytes | the virtiofsd processes, summed |
 * | `cgroup.cpu_time_ns`, `cgroup.memory_bytes` | ns, bytes | the VM's cgroup, all its processes |
 *
 * DEV is the device id, N the vCPU index.
 */
typedef struct _HvkStats HvkStats;

#define HVK_TYPE_STATS (hvk_stats_get_type ())
HVK_AVAILABLE_IN_ALL
GType       hvk_stats_get_type     (void) G_GNUC_CONST;

HVK_AVAILABLE_IN_ALL
HvkStats   *hvk_stats_new          (void);
HVK_AVAILABLE_IN_ALL
HvkStats   *hvk_stats_ref          (HvkStats    *self);
HVK_AVAILABLE_IN_ALL
void        hvk_stats_unref        (HvkStats    *self);

HVK_AVAILABLE_IN_ALL
void        hvk_stats_set          (HvkStats    *self,
                                    const char  *key,
                                    guint64      value);
HVK_AVAILABLE_IN_ALL
void        hvk_stats_add          (HvkStats    *self,
                                    const char  *key,
                                    guint64      value);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_stats_lookup       (HvkStats    *self,
                                    const char  *key,
                                    guint64     *value);
HVK_AVAILABLE_IN_ALL
GStrv       hvk_stats_get_keys     (HvkStats    *self);
HVK_AVAILABLE_IN_ALL
GVariant   *hvk_stats_to_variant   (HvkStats    *self);
HVK_AVAILABLE_IN_ALL
JsonNode   *hvk_stats_to_json      (HvkStats    *self);

HVK_AVAILABLE_IN_ALL
gboolean    hvk_stats_add_process  (HvkStats    *self,
                                    int          pid,
                                    const char  *time_key,
                                    const char  *rss_key,
                                    GError     **error);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_stats_add_vcpu     (HvkStats    *self,
                                    guint        index,
                                    int          pid,
                                    int          thread_id,
                                    GError     **error);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_stats_add_tap      (HvkStats    *self,
                                    const char  *device_id,
                                    const char  *ifname,
                                    GError     **error);

HVK_AVAILABLE_IN_ALL
char       *hvk_stats_format_prometheus (const char * const *ids,
                                         HvkStats   * const *stats,
                                         guint               n_vms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HvkStats, hvk_stats_unref)

G_END_DECLS
