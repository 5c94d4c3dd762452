/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#include <glib.h>
#include <glib-object.h>
#include <hvkit/hvk-visibility.h>

G_BEGIN_DECLS

/**
 * HvkCgroupFlags:
 * @HVK_CGROUP_FLAGS_NONE: each controller from cgroup v2 where the v2
 *   hierarchy offers it, from its v1 hierarchy otherwise
 * @HVK_CGROUP_FLAGS_V2_ONLY: the v2 hierarchy only, even where it offers
 *   no controller (a limit then fails with %HVK_ERROR_NOT_SUPPORTED)
 *
 * How hvk_cgroup_new() picks hierarchies.
 */
typedef enum {
  HVK_CGROUP_FLAGS_NONE = 0,
  HVK_CGROUP_FLAGS_V2_ONLY = 1 << 0,
} HvkCgroupFlags;

/**
 * HvkCgroup:
 *
 * One VM's control group: a directory in each cgroup hierarchy that
 * carries a controller hvkit uses (cpu, cpuacct, memory, pids), or one
 * directory of the unified (v2) hierarchy.  libvirt's per-domain cgroups
 * and Firecracker's jailer are the models.
 */
typedef struct _HvkCgroup HvkCgroup;

#define HVK_TYPE_CGROUP (hvk_cgroup_get_type ())
HVK_AVAILABLE_IN_ALL
GType       hvk_cgroup_get_type         (void) G_GNUC_CONST;

HVK_AVAILABLE_IN_ALL
HvkCgroup  *hvk_cgroup_new              (const char      *parent,
                                         const char      *name,
                                         HvkCgroupFlags   flags,
                                         GError         **error);
HVK_AVAILABLE_IN_ALL
HvkCgroup  *hvk_cgroup_lookup           (const char      *parent,
                                         const char      *name,
                                         HvkCgroupFlags   flags);
HVK_AVAILABLE_IN_ALL
HvkCgroup  *hvk_cgroup_new_from_dirs    (const char * const *dirs,
                                         GError         **error);
HVK_AVAILABLE_IN_ALL
HvkCgroup  *hvk_cgroup_ref              (HvkCgroup       *self);
HVK_AVAILABLE_IN_ALL
void        hvk_cgroup_unref            (HvkCgroup       *self);

HVK_AVAILABLE_IN_ALL
const char * const *hvk_cgroup_get_dirs (HvkCgroup       *self);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_cgroup_set_memory_limit (HvkCgroup       *self,
                                         guint64          bytes,
                                         GError         **error);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_cgroup_set_cpu_limit    (HvkCgroup       *self,
                                         guint64          quota_us,
                                         guint64          period_us,
                                         GError         **error);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_cgroup_attach           (HvkCgroup       *self,
                                         int              pid,
                                         GError         **error);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_cgroup_contains         (HvkCgroup       *self,
                                         int              pid);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_cgroup_get_usage        (HvkCgroup       *self,
                                         guint64         *memory_bytes,
                                         guint64         *cpu_ns,
                                         GError         **error);
HVK_AVAILABLE_IN_ALL
gboolean    hvk_cgroup_remove           (HvkCgroup       *self,
                                         guint            timeout_ms,
                                         GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HvkCgroup, hvk_cgroup_unref)

G_END_DECLS
