/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Guest NUMA from the host's topology (enable_numa, numa_mapping): Kata's
 * GetGuestNUMANodes, maybeRightSizeAutoNUMA and buildNUMATopology, the
 * host read through hvk_host_file(). */

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char    *host_nodes;   /* "0", "0-1": the host nodes it stands for */
  guint    n_host_cpus;  /* CPUs of those host nodes */
  guint    vcpus;        /* vCPUs placed on it (hot-pluggable ones too) */
  char    *cpus;         /* "0-1", or NULL without vCPUs */
  guint64  mem_mb;
} HvkQemuNumaNode;

typedef struct {
  guint src, dst, val;
} HvkQemuNumaDist;

typedef struct {
  GPtrArray  *nodes;       /* (element-type HvkQemuNumaNode) */
  GArray     *dists;       /* (element-type HvkQemuNumaDist) */
  guint       sockets;     /* the guest's sockets: one a node */
  guint       cores;       /* per socket */
  guint       max_vcpus;   /* sockets × cores */
} HvkQemuNuma;

void hvk_qemu_numa_free (HvkQemuNuma *numa);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HvkQemuNuma, hvk_qemu_numa_free)

/* Parses a Linux CPU or node list ("0-3,8,10-11") into *@ids (sorted,
 * unique); FALSE on a malformed list. */
gboolean hvk_qemu_parse_id_list (const char *text,
                                 GArray    **ids);

/* The guest's NUMA topology for @max_vcpus and @memory_mb, or NULL in
 * *@out without enable_numa.  @numa_mapping: one host node list a guest
 * node (NULL or empty: one guest node a host node, right-sized as Kata
 * does); @hugepages aligns each node's memory to the host's huge page
 * size.  Errors name the key: `KEY: message` in @error's message, for
 * the builder to prefix. */
gboolean hvk_qemu_numa_build (gboolean              enable_numa,
                              const char * const   *numa_mapping,
                              guint                 max_vcpus,
                              guint64               memory_mb,
                              gboolean              hugepages,
                              HvkQemuNuma         **out,
                              char                **error_key,
                              GError              **error);

G_END_DECLS
