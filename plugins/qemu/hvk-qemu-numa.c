/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <stdlib.h>
#include <string.h>

#include "hvk-qemu-numa.h"

/*
 * Guest NUMA as Kata builds it (src/runtime/virtcontainers: utils'
 * GetGuestNUMANodes, DistributeVCPUsProportionally and
 * GetHostNUMADistances, qemu.go's maybeRightSizeAutoNUMA and
 * buildNUMATopology), reading the host's /sys/devices/system/node and
 * /proc/meminfo through hvk_host_file() so tests can describe a host.
 * Where Kata logs a warning and boots without NUMA, hvkit refuses the
 * configuration naming the key: a setting is honoured or refused.  The
 * VFIO-driven parts (memory-only nodes, right-sizing to the devices'
 * nodes) are not implemented: hvkit places no device by NUMA node.
 */

#define NODE_DIR "/sys/devices/system/node"

static void
numa_node_free (gpointer data)
{
  HvkQemuNumaNode *node = data;

  g_free (node->host_nodes);
  g_free (node->cpus);
  g_free (node);
}

void
hvk_qemu_numa_free (HvkQemuNuma *numa)
{
  if (numa == NULL)
    return;
  g_clear_pointer (&numa->nodes, g_ptr_array_unref);
  g_clear_pointer (&numa->dists, g_array_unref);
  g_free (numa);
}

static int
compare_uint (gconstpointer a,
              gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;

  return x < y ? -1 : x > y;
}

gboolean
hvk_qemu_parse_id_list (const char *text,
                        GArray    **ids)
{
  g_autoptr(GArray) out = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree char *copy = NULL;
  g_auto(GStrv) parts = NULL;

  *ids = NULL;
  if (text == NULL)
    return FALSE;
  copy = g_strstrip (g_strdup (text));
  parts = g_strsplit (copy, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *dash = strchr (parts[i], '-');
      guint64 lo, hi;

      if (*parts[i] == '\0')
        continue;
      if (dash != NULL)
        *dash = '\0';
      if (!g_ascii_string_to_unsigned (parts[i], 10, 0, 65535, &lo, NULL))
        return FALSE;
      hi = lo;
      if (dash != NULL && !g_ascii_string_to_unsigned (dash + 1, 10, 0, 65535, &hi, NULL))
        return FALSE;
      if (hi < lo)
        return FALSE;
      for (guint64 v = lo; v <= hi; v++)
        {
          guint u = (guint) v;
          g_array_append_val (out, u);
        }
    }
  g_array_sort (out, compare_uint);
  for (guint i = 1; i < out->len; )
    if (g_array_index (out, guint, i) == g_array_index (out, guint, i - 1))
      g_array_remove_index (out, i);
    else
      i++;
  *ids = g_steal_pointer (&out);
  return TRUE;
}

/* A sysfs file of the host, its last newline dropped; NULL with @error. */
static char *
read_host (const char  *path,
           GError     **error)
{
  g_autofree char *real = hvk_host_file (path);
  char *text = NULL;

  if (!g_file_get_contents (real, &text, NULL, error))
    return NULL;
  g_strchomp (text);
  return text;
}

static gboolean
key_error (char       **error_key,
           const char  *key)
{
  *error_key = g_strdup (key);
  return FALSE;
}

/* Kata's getHostNUMANodeCPUs: nodeN/cpulist; its size. */
static gboolean
host_node_cpus (guint     node,
                GString  *cpulist,
                guint    *n_cpus,
                GError  **error)
{
  g_autofree char *path = g_strdup_printf (NODE_DIR "/node%u/cpulist", node);
  g_autofree char *text = read_host (path, error);
  g_autoptr(GArray) cpus = NULL;

  if (text == NULL)
    return FALSE;
  if (!hvk_qemu_parse_id_list (text, &cpus))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "host NUMA node %u: %s is not a CPU list: '%s'", node, path, text);
      return FALSE;
    }
  if (cpulist->len > 0 && *text != '\0')
    g_string_append_c (cpulist, ',');
  g_string_append (cpulist, text);
  *n_cpus += cpus->len;
  return TRUE;
}

/* Kata's getHostNUMANodeMemoryMB: "Node N MemTotal: K kB" of nodeN/meminfo. */
static gboolean
host_node_mem_mb (guint     node,
                  guint64  *mem_mb,
                  GError  **error)
{
  g_autofree char *path = g_strdup_printf (NODE_DIR "/node%u/meminfo", node);
  g_autofree char *text = read_host (path, error);
  const char *line;

  if (text == NULL)
    return FALSE;
  line = strstr (text, "MemTotal:");
  if (line == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "MemTotal not found in %s", path);
      return FALSE;
    }
  *mem_mb = g_ascii_strtoull (line + strlen ("MemTotal:"), NULL, 10) / 1024;
  return TRUE;
}

static HvkQemuNumaNode *
guest_node_new (const char  *host_nodes,
                GError     **error)
{
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GString) cpulist = g_string_new (NULL);
  HvkQemuNumaNode *node;
  guint n_cpus = 0;

  if (!hvk_qemu_parse_id_list (host_nodes, &ids) || ids->len == 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "'%s' is not a list of host NUMA nodes", host_nodes);
      return NULL;
    }
  for (guint i = 0; i < ids->len; i++)
    if (!host_node_cpus (g_array_index (ids, guint, i), cpulist, &n_cpus, error))
      return NULL;
  node = g_new0 (HvkQemuNumaNode, 1);
  node->host_nodes = g_strdup (host_nodes);
  node->n_host_cpus = n_cpus;
  return node;
}

static guint
first_host_node (const HvkQemuNumaNode *node)
{
  g_autoptr(GArray) ids = NULL;

  hvk_qemu_parse_id_list (node->host_nodes, &ids);
  return ids != NULL && ids->len > 0 ? g_array_index (ids, guint, 0) : G_MAXUINT;
}

/* Kata's maybeRightSizeAutoNUMA without VFIO devices: CPU-less host
 * nodes dropped; the first node alone when the VM fits in the smallest. */
static gboolean
right_size (GPtrArray  *nodes,
            guint       max_vcpus,
            guint64     memory_mb,
            GError    **error)
{
  guint smallest_cpus = G_MAXUINT;
  guint64 smallest_mem = G_MAXUINT64;

  for (guint i = 0; i < nodes->len; )
    if (((HvkQemuNumaNode *) nodes->pdata[i])->n_host_cpus == 0)
      g_ptr_array_remove_index (nodes, i);
    else
      i++;
  if (nodes->len <= 1)
    return TRUE;
  for (guint i = 0; i < nodes->len; i++)
    {
      HvkQemuNumaNode *node = nodes->pdata[i];
      guint64 mem = 0;

      if (!host_node_mem_mb (first_host_node (node), &mem, error))
        return FALSE;
      smallest_cpus = MIN (smallest_cpus, node->n_host_cpus);
      smallest_mem = MIN (smallest_mem, mem);
    }
  if (smallest_cpus >= max_vcpus && smallest_mem >= memory_mb)
    g_ptr_array_set_size (nodes, 1);
  return TRUE;
}

/* Kata's DistributeVCPUsProportionally: by the nodes' host CPUs, each at
 * least 1, the remainder to the nodes with the most host CPUs. */
static void
distribute_vcpus (GPtrArray *nodes,
                  guint      total)
{
  g_autofree guint *weights = g_new0 (guint, nodes->len);
  guint host_total = 0, assigned = 0;

  for (guint i = 0; i < nodes->len; i++)
    host_total += ((HvkQemuNumaNode *) nodes->pdata[i])->n_host_cpus;
  for (guint i = 0; i < nodes->len; i++)
    {
      HvkQemuNumaNode *node = nodes->pdata[i];

      node->vcpus = (guint) ((guint64) total * node->n_host_cpus / host_total);
      if (node->vcpus == 0)
        node->vcpus = 1;
      assigned += node->vcpus;
      weights[i] = node->n_host_cpus;
    }
  while (assigned < total)
    {
      guint best = 0;

      for (guint i = 1; i < nodes->len; i++)
        if (weights[i] > weights[best])
          best = i;
      ((HvkQemuNumaNode *) nodes->pdata[best])->vcpus++;
      assigned++;
      weights[best]--;
    }
  while (assigned > total)
    {
      guint best = 0;

      for (guint i = 1; i < nodes->len; i++)
        if (((HvkQemuNumaNode *) nodes->pdata[i])->vcpus > ((HvkQemuNumaNode *) nodes->pdata[best])->vcpus)
          best = i;
      if (((HvkQemuNumaNode *) nodes->pdata[best])->vcpus <= 1)
        break;
      ((HvkQemuNumaNode *) nodes->pdata[best])->vcpus--;
      assigned--;
    }
}

/* The host's huge page size in MiB (/proc/meminfo Hugepagesize, the size
 * hugetlbfs mounts use by default; Kata asks statfs of /dev/hugepages). */
static gboolean
hugepage_mb (guint64  *mb,
             GError  **error)
{
  g_autofree char *text = read_host ("/proc/meminfo", error);
  const char *line;
  guint64 kb;

  if (text == NULL)
    return FALSE;
  line = strstr (text, "Hugepagesize:");
  kb = line != NULL ? g_ascii_strtoull (line + strlen ("Hugepagesize:"), NULL, 10) : 0;
  if (kb < 1024 || kb % 1024 != 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "the host's huge page size (/proc/meminfo Hugepagesize) is not a "
                   "multiple of 1 MiB");
      return FALSE;
    }
  *mb = kb / 1024;
  return TRUE;
}

/* Kata's GetHostNUMADistances: for each guest node, the distance row of
 * its first host node, indexed by the other guest nodes' first host node;
 * a row that cannot be read gives nothing. */
static void
read_distances (HvkQemuNuma *numa)
{
  for (guint src = 0; src < numa->nodes->len; src++)
    {
      g_autofree char *path = g_strdup_printf (NODE_DIR "/node%u/distance",
                                               first_host_node (numa->nodes->pdata[src]));
      g_autofree char *row = read_host (path, NULL);
      g_auto(GStrv) fields = NULL;
      guint n;

      if (row == NULL)
        continue;
      fields = g_strsplit_set (row, " \t", -1);
      n = g_strv_length (fields);
      for (guint dst = 0; dst < numa->nodes->len; dst++)
        {
          guint host = first_host_node (numa->nodes->pdata[dst]);
          HvkQemuNumaDist dist = { src, dst, 0 };
          guint64 val;

          if (src == dst || host >= n
              || !g_ascii_string_to_unsigned (fields[host], 10, 0, G_MAXUINT32, &val, NULL))
            continue;
          dist.val = (guint) val;
          g_array_append_val (numa->dists, dist);
        }
    }
}

gboolean
hvk_qemu_numa_build (gboolean              enable_numa,
                     const char * const   *numa_mapping,
                     guint                 max_vcpus,
                     guint64               memory_mb,
                     gboolean              hugepages,
                     HvkQemuNuma         **out,
                     char                **error_key,
                     GError              **error)
{
  g_autoptr(HvkQemuNuma) numa = g_new0 (HvkQemuNuma, 1);
  gboolean mapped = numa_mapping != NULL && numa_mapping[0] != NULL;
  guint64 align = 1, assigned = 0;
  guint n, offset = 0;

  *out = NULL;
  *error_key = NULL;
  if (!enable_numa)
    {
      if (mapped)
        {
          g_set_error_literal (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                               "a mapping without enable_numa=true would be ignored");
          return key_error (error_key, "numa_mapping");
        }
      return TRUE;
    }

  numa->nodes = g_ptr_array_new_with_free_func (numa_node_free);
  numa->dists = g_array_new (FALSE, FALSE, sizeof (HvkQemuNumaDist));
  if (mapped)
    {
      for (guint i = 0; numa_mapping[i] != NULL; i++)
        {
          HvkQemuNumaNode *node = guest_node_new (numa_mapping[i], error);

          if (node == NULL)
            {
              g_prefix_error (error, "guest node %u: ", i);
              return key_error (error_key, "numa_mapping");
            }
          g_ptr_array_add (numa->nodes, node);
        }
    }
  else
    {
      g_autofree char *online = read_host (NODE_DIR "/online", error);
      g_autoptr(GArray) ids = NULL;

      if (online == NULL || !hvk_qemu_parse_id_list (online, &ids) || ids->len == 0)
        {
          if (online != NULL)
            g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                         NODE_DIR "/online is not a node list: '%s'", online);
          g_prefix_error (error, "the host's NUMA nodes: ");
          return key_error (error_key, "enable_numa");
        }
      for (guint i = 0; i < ids->len; i++)
        {
          g_autofree char *text = g_strdup_printf ("%u", g_array_index (ids, guint, i));
          HvkQemuNumaNode *node = guest_node_new (text, error);

          if (node == NULL)
            return key_error (error_key, "enable_numa");
          g_ptr_array_add (numa->nodes, node);
        }
      if (!right_size (numa->nodes, max_vcpus, memory_mb, error))
        return key_error (error_key, "enable_numa");
    }

  n = numa->nodes->len;
  if (max_vcpus < n)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%u guest NUMA nodes need at least as many vCPUs, default_maxvcpus is %u",
                   n, max_vcpus);
      return key_error (error_key, mapped ? "numa_mapping" : "enable_numa");
    }
  for (guint i = 0; i < n; i++)
    if (((HvkQemuNumaNode *) numa->nodes->pdata[i])->n_host_cpus == 0)
      {
        g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                     "guest node %u: host nodes %s have no CPU", i,
                     ((HvkQemuNumaNode *) numa->nodes->pdata[i])->host_nodes);
        return key_error (error_key, "numa_mapping");
      }

  /* Kata's cpuTopology: a socket a node, maxcpus rounded up to fill them. */
  numa->sockets = n;
  numa->cores = (max_vcpus + n - 1) / n;
  numa->max_vcpus = n * numa->cores;
  distribute_vcpus (numa->nodes, numa->max_vcpus);

  if (hugepages && !hugepage_mb (&align, error))
    return key_error (error_key, "enable_hugepages");
  for (guint i = 0; i < n; i++)
    {
      HvkQemuNumaNode *node = numa->nodes->pdata[i];

      node->mem_mb = memory_mb * node->vcpus / numa->max_vcpus / align * align;
      if (node->mem_mb == 0)
        node->mem_mb = align;
      assigned += node->mem_mb;
      node->cpus = g_strdup_printf ("%u-%u", offset, offset + node->vcpus - 1);
      offset += node->vcpus;
    }
  if (assigned > memory_mb || (memory_mb - assigned) % align != 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%" G_GUINT64_FORMAT " MiB cannot be evenly distributed across %u NUMA "
                   "nodes with %" G_GUINT64_FORMAT " MiB alignment", memory_mb, n, align);
      return key_error (error_key, "default_memory");
    }
  ((HvkQemuNumaNode *) numa->nodes->pdata[n - 1])->mem_mb += memory_mb - assigned;

  read_distances (numa);
  *out = g_steal_pointer (&numa);
  return TRUE;
}
