/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* A VM's statistics (see HvkStats in the header for the keys), and the
 * readers backends share: a process's and a thread's CPU time and RSS
 * from /proc, a tap's counters from sysfs, and the Prometheus text
 * exposition of any number of VMs. */

typedef struct {
  char *key;
  guint64 value;
} Entry;

struct _HvkStats
{
  gatomicrefcount ref_count;
  GArray *entries;        /* Entry, in insertion order */
  GHashTable *index;      /* key (owned by the entry) -> position + 1 */
};

G_DEFINE_BOXED_TYPE (HvkStats, hvk_stats, hvk_stats_ref, hvk_stats_unref)

static void
entry_clear (gpointer data)
{
  Entry *entry = data;

  g_free (entry->key);
}

/**
 * hvk_stats_new:
 *
 * Creates empty statistics.
 *
 * Returns: (transfer full): empty statistics
 */
HvkStats *
hvk_stats_new (void)
{
  HvkStats *self = g_new0 (HvkStats, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  g_array_set_clear_func (self->entries, entry_clear);
  self->index = g_hash_table_new (g_str_hash, g_str_equal);
  return self;
}

/**
 * hvk_stats_ref:
 * @self: statistics
 *
 * Takes a reference on statistics.
 *
 * Returns: (transfer full): @self
 */
HvkStats *
hvk_stats_ref (HvkStats *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * hvk_stats_unref:
 * @self: (transfer full): statistics
 *
 * Drops a reference on statistics; the last one frees them.
 */
void
hvk_stats_unref (HvkStats *self)
{
  g_return_if_fail (self != NULL);
  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      g_hash_table_unref (self->index);
      g_array_unref (self->entries);
      g_free (self);
    }
}

/* GROUP.NAME or GROUP.INSTANCE.NAME, no empty part. */
static gboolean
key_is_valid (const char *key)
{
  const char *first, *last;

  if (key == NULL)
    return FALSE;
  first = strchr (key, '.');
  last = strrchr (key, '.');
  return first != NULL && first != key && last[1] != '\0'
         && (first == last || last > first + 1);
}

static Entry *
find (HvkStats   *self,
      const char *key)
{
  gpointer position = g_hash_table_lookup (self->index, key);

  return position ? &g_array_index (self->entries, Entry, GPOINTER_TO_UINT (position) - 1) : NULL;
}

static void
store (HvkStats   *self,
       const char *key,
       guint64     value,
       gboolean    sum)
{
  Entry *entry;

  g_return_if_fail (self != NULL);
  g_return_if_fail (key_is_valid (key));

  entry = find (self, key);
  if (entry != NULL)
    {
      entry->value = sum ? entry->value + value : value;
      return;
    }
  {
    Entry added = { g_strdup (key), value };

    g_array_append_val (self->entries, added);
    /* Positions, not pointers: the array moves as it grows (the key
     * strings do not). */
    g_hash_table_insert (self->index, added.key, GUINT_TO_POINTER (self->entries->len));
  }
}

/**
 * hvk_stats_set:
 * @self: statistics
 * @key: `GROUP.NAME` or `GROUP.INSTANCE.NAME`
 * @value: the value
 *
 * Sets @key, adding it at the end the first time.
 */
void
hvk_stats_set (HvkStats   *self,
               const char *key,
               guint64     value)
{
  store (self, key, value, FALSE);
}

/**
 * hvk_stats_add:
 * @self: statistics
 * @key: `GROUP.NAME` or `GROUP.INSTANCE.NAME`
 * @value: what to add
 *
 * Adds @value to @key (0 if it was not there): for sums over processes.
 */
void
hvk_stats_add (HvkStats   *self,
               const char *key,
               guint64     value)
{
  store (self, key, value, TRUE);
}

/**
 * hvk_stats_lookup:
 * @self: statistics
 * @key: a key
 * @value: (out) (optional): its value
 *
 * Looks a key up.
 *
 * Returns: %TRUE if @self has @key
 */
gboolean
hvk_stats_lookup (HvkStats   *self,
                  const char *key,
                  guint64    *value)
{
  Entry *entry;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  entry = find (self, key);
  if (entry != NULL && value != NULL)
    *value = entry->value;
  return entry != NULL;
}

/**
 * hvk_stats_get_keys:
 * @self: statistics
 *
 * Lists the keys of the statistics.
 *
 * Returns: (transfer full): the keys, in the order they were added
 */
GStrv
hvk_stats_get_keys (HvkStats *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (self != NULL, NULL);
  for (guint i = 0; i < self->entries->len; i++)
    g_strv_builder_add (builder, g_array_index (self->entries, Entry, i).key);
  return g_strv_builder_end (builder);
}

/**
 * hvk_stats_to_variant:
 * @self: statistics
 *
 * Converts the statistics to a #GVariant.
 *
 * Returns: (transfer floating): an `a{st}` dictionary of every key
 */
GVariant *
hvk_stats_to_variant (HvkStats *self)
{
  GVariantBuilder builder;

  g_return_val_if_fail (self != NULL, NULL);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{st}"));
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = &g_array_index (self->entries, Entry, i);
      g_variant_builder_add (&builder, "{st}", entry->key, entry->value);
    }
  return g_variant_builder_end (&builder);
}

/**
 * hvk_stats_to_json:
 * @self: statistics
 *
 * Converts the statistics to JSON.
 *
 * Returns: (transfer full): a JSON object of every key, in order
 */
JsonNode *
hvk_stats_to_json (HvkStats *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (self != NULL, NULL);
  json_builder_begin_object (builder);
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = &g_array_index (self->entries, Entry, i);

      json_builder_set_member_name (builder, entry->key);
      json_builder_add_int_value (builder, (gint64) MIN (entry->value, (guint64) G_MAXINT64));
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* ---- /proc and sysfs ---- */

static guint64
ticks_to_ns (guint64 ticks)
{
  static long hz;

  if (hz <= 0)
    hz = sysconf (_SC_CLK_TCK);
  return ticks * (G_GUINT64_CONSTANT (1000000000) / (guint64) (hz > 0 ? hz : 100));
}

/* utime + stime (ns) and rss (bytes) from a /proc/.../stat file. */
static gboolean
read_stat (const char  *path,
           guint64     *time_ns,
           guint64     *rss_bytes,
           GError     **error)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *after;
  guint64 utime, stime, rss;

  if (!g_file_get_contents (path, &contents, NULL, &local_error))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND, "%s", local_error->message);
      return FALSE;
    }
  /* The command name may hold spaces and ')': the fields follow the
   * last ')'.  After it: state (field 3) … utime (14), stime (15) …
   * rss (24). */
  after = strrchr (contents, ')');
  if (after != NULL)
    fields = g_strsplit (after + 2, " ", -1);
  if (fields == NULL || g_strv_length (fields) < 22
      || !g_ascii_string_to_unsigned (fields[11], 10, 0, G_MAXUINT64, &utime, NULL)
      || !g_ascii_string_to_unsigned (fields[12], 10, 0, G_MAXUINT64, &stime, NULL)
      || !g_ascii_string_to_unsigned (fields[21], 10, 0, G_MAXUINT64, &rss, NULL))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "%s: unexpected contents", path);
      return FALSE;
    }
  *time_ns = ticks_to_ns (utime + stime);
  if (rss_bytes != NULL)
    *rss_bytes = rss * (guint64) sysconf (_SC_PAGESIZE);
  return TRUE;
}

/**
 * hvk_stats_add_process:
 * @self: statistics
 * @pid: a process
 * @time_key: (nullable): the key its CPU time (user + system, ns) is
 *   added to, e.g. `cpu.time_ns`
 * @rss_key: (nullable): the key its resident memory (bytes) is added to
 * @error: return location for an error
 *
 * Adds (hvk_stats_add()) a process's figures: call it for each virtiofsd
 * to get their sum.
 *
 * Returns: %TRUE on success; %HVK_ERROR_NOT_FOUND if @pid is gone
 */
gboolean
hvk_stats_add_process (HvkStats    *self,
                       int          pid,
                       const char  *time_key,
                       const char  *rss_key,
                       GError     **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  guint64 time_ns, rss;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (pid > 0, FALSE);

  if (!read_stat (path, &time_ns, &rss, error))
    return FALSE;
  if (time_key != NULL)
    hvk_stats_add (self, time_key, time_ns);
  if (rss_key != NULL)
    hvk_stats_add (self, rss_key, rss);
  return TRUE;
}

/**
 * hvk_stats_add_vcpu:
 * @self: statistics
 * @index: the vCPU's index
 * @pid: the VMM process
 * @thread_id: the vCPU's host thread (QMP's `thread-id`)
 * @error: return location for an error
 *
 * Sets `vcpu.INDEX.thread_id` and `vcpu.INDEX.time_ns`.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_stats_add_vcpu (HvkStats    *self,
                    guint        index,
                    int          pid,
                    int          thread_id,
                    GError     **error)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/task/%d/stat", pid, thread_id);
  g_autofree char *tid_key = g_strdup_printf ("vcpu.%u.thread_id", index);
  g_autofree char *time_key = g_strdup_printf ("vcpu.%u.time_ns", index);
  guint64 time_ns;

  g_return_val_if_fail (self != NULL, FALSE);

  if (!read_stat (path, &time_ns, NULL, error))
    return FALSE;
  hvk_stats_set (self, tid_key, (guint64) thread_id);
  hvk_stats_set (self, time_key, time_ns);
  return TRUE;
}

/**
 * hvk_stats_add_tap:
 * @self: statistics
 * @device_id: the network device's id
 * @ifname: its host interface (a tap)
 * @error: return location for an error
 *
 * Sets `net.DEVICE_ID.*` from the interface's sysfs counters, turned to
 * the guest's view: what the tap transmits, the guest receives.
 *
 * Returns: %TRUE on success; %HVK_ERROR_NOT_FOUND without the interface
 */
gboolean
hvk_stats_add_tap (HvkStats    *self,
                   const char  *device_id,
                   const char  *ifname,
                   GError     **error)
{
  static const struct { const char *file; const char *name; } counters[] = {
    { "tx_bytes", "rx_bytes" },
    { "rx_bytes", "tx_bytes" },
    { "tx_packets", "rx_packets" },
    { "rx_packets", "tx_packets" },
    { "tx_dropped", "rx_drops" },
    { "rx_dropped", "tx_drops" },
  };
  g_autofree char *dir = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (device_id != NULL && ifname != NULL, FALSE);

  if (*ifname == '\0' || strchr (ifname, '/') != NULL || g_str_equal (ifname, ".")
      || g_str_equal (ifname, ".."))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "invalid interface name '%s'", ifname);
      return FALSE;
    }
  dir = g_build_filename ("/sys/class/net", ifname, "statistics", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (counters); i++)
    {
      g_autofree char *path = g_build_filename (dir, counters[i].file, NULL);
      g_autofree char *contents = NULL;
      g_autofree char *key = g_strdup_printf ("net.%s.%s", device_id, counters[i].name);
      guint64 value;

      if (!g_file_get_contents (path, &contents, NULL, NULL)
          || !g_ascii_string_to_unsigned (g_strstrip (contents), 10, 0, G_MAXUINT64, &value, NULL))
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                       "network device '%s': no counters for interface %s (%s)",
                       device_id, ifname, path);
          return FALSE;
        }
      hvk_stats_set (self, key, value);
    }
  return TRUE;
}

/* ---- Prometheus text exposition ---- */

typedef struct {
  const char *group;
  const char *name;
  const char *metric;
  const char *type;
  const char *help;
  const char *label;      /* the instance's label, NULL if none */
  gboolean seconds;       /* the key is in ns, the metric in seconds */
} Family;

static const Family families[] = {
  { "cpu", "time_ns", "hvkit_vm_cpu_seconds_total", "counter", "CPU time of the VMM process (user and system).", NULL, TRUE },
  { "memory", "rss_bytes", "hvkit_vm_memory_rss_bytes", "gauge", "Resident memory of the VMM process.", NULL, FALSE },
  { "memory", "configured_bytes", "hvkit_vm_memory_configured_bytes", "gauge", "Memory the guest has, boot and hot-plugged.", NULL, FALSE },
  { "memory", "balloon_bytes", "hvkit_vm_memory_balloon_bytes", "gauge", "Memory the balloon leaves the guest.", NULL, FALSE },
  { "memory", "balloon_target_bytes", "hvkit_vm_memory_balloon_target_bytes", "gauge", "The balloon's target (0: none).", NULL, FALSE },
  { "memory", "guest_free_bytes", "hvkit_vm_memory_guest_free_bytes", "gauge", "Free memory the guest last reported.", NULL, FALSE },
  { "memory", "guest_available_bytes", "hvkit_vm_memory_guest_available_bytes", "gauge", "Available memory the guest last reported.", NULL, FALSE },
  { "vcpu", "thread_id", "hvkit_vm_vcpu_thread_id", "gauge", "Host thread id of the vCPU.", "vcpu", FALSE },
  { "vcpu", "time_ns", "hvkit_vm_vcpu_seconds_total", "counter", "CPU time of the vCPU's thread.", "vcpu", TRUE },
  { "block", "rd_bytes", "hvkit_vm_block_read_bytes_total", "counter", "Bytes the guest read from the disk.", "device", FALSE },
  { "block", "wr_bytes", "hvkit_vm_block_write_bytes_total", "counter", "Bytes the guest wrote to the disk.", "device", FALSE },
  { "block", "rd_ops", "hvkit_vm_block_read_requests_total", "counter", "Read requests.", "device", FALSE },
  { "block", "wr_ops", "hvkit_vm_block_write_requests_total", "counter", "Write requests.", "device", FALSE },
  { "block", "flush_ops", "hvkit_vm_block_flush_requests_total", "counter", "Flush requests.", "device", FALSE },
  { "block", "rd_total_time_ns", "hvkit_vm_block_read_seconds_total", "counter", "Time spent on read requests.", "device", TRUE },
  { "block", "wr_total_time_ns", "hvkit_vm_block_write_seconds_total", "counter", "Time spent on write requests.", "device", TRUE },
  { "net", "rx_bytes", "hvkit_vm_net_receive_bytes_total", "counter", "Bytes the guest received.", "device", FALSE },
  { "net", "tx_bytes", "hvkit_vm_net_transmit_bytes_total", "counter", "Bytes the guest sent.", "device", FALSE },
  { "net", "rx_packets", "hvkit_vm_net_receive_packets_total", "counter", "Packets the guest received.", "device", FALSE },
  { "net", "tx_packets", "hvkit_vm_net_transmit_packets_total", "counter", "Packets the guest sent.", "device", FALSE },
  { "net", "rx_drops", "hvkit_vm_net_receive_drops_total", "counter", "Packets to the guest dropped.", "device", FALSE },
  { "net", "tx_drops", "hvkit_vm_net_transmit_drops_total", "counter", "Packets from the guest dropped.", "device", FALSE },
  { "virtiofsd", "time_ns", "hvkit_vm_virtiofsd_cpu_seconds_total", "counter", "CPU time of the VM's virtiofsd processes.", NULL, TRUE },
  { "virtiofsd", "rss_bytes", "hvkit_vm_virtiofsd_memory_rss_bytes", "gauge", "Resident memory of the VM's virtiofsd processes.", NULL, FALSE },
  { "cgroup", "cpu_time_ns", "hvkit_vm_cgroup_cpu_seconds_total", "counter", "CPU time of every process in the VM's cgroup.", NULL, TRUE },
  { "cgroup", "memory_bytes", "hvkit_vm_cgroup_memory_bytes", "gauge", "Memory charged to the VM's cgroup.", NULL, FALSE },
};

typedef struct {
  char *metric;
  char *type;
  char *help;
  GString *samples;
} Output;

static void
output_free (gpointer data)
{
  Output *o = data;

  g_free (o->metric);
  g_free (o->type);
  g_free (o->help);
  g_string_free (o->samples, TRUE);
  g_free (o);
}

static void
append_label_value (GString    *out,
                    const char *value)
{
  for (const char *p = value; *p != '\0'; p++)
    switch (*p)
      {
      case '\\': g_string_append (out, "\\\\"); break;
      case '"': g_string_append (out, "\\\""); break;
      case '\n': g_string_append (out, "\\n"); break;
      default: g_string_append_c (out, *p);
      }
}

/* A backend's own key: hvkit_vm_GROUP_NAME, letters, digits and '_'. */
static char *
metric_name (const char *group,
             const char *name)
{
  g_autofree char *raw = g_strdup_printf ("hvkit_vm_%s_%s", group, name);

  for (char *p = raw; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_')
      *p = '_';
  return g_steal_pointer (&raw);
}

/**
 * hvk_stats_format_prometheus:
 * @ids: (array length=n_vms): the VMs' ids
 * @stats: (array length=n_vms): their statistics
 * @n_vms: how many
 *
 * The Prometheus text exposition format (version 0.0.4) of the VMs'
 * statistics: one HELP and TYPE line per metric, then a sample per VM and
 * instance, labelled `id` and `device` (or `vcpu`).  Nanoseconds become
 * seconds; a backend's own keys are `untyped`.
 *
 * Returns: (transfer full): the text
 */
char *
hvk_stats_format_prometheus (const char * const *ids,
                             HvkStats   * const *stats,
                             guint               n_vms)
{
  g_autoptr(GPtrArray) order = g_ptr_array_new_with_free_func (output_free);
  g_autoptr(GHashTable) by_metric = g_hash_table_new (g_str_hash, g_str_equal);
  GString *text = g_string_new (NULL);

  /* The known metrics first, in their table's order, even when only a
   * later VM has them. */
  for (guint f = 0; f < G_N_ELEMENTS (families); f++)
    {
      Output *o = g_new0 (Output, 1);

      o->metric = g_strdup (families[f].metric);
      o->type = g_strdup (families[f].type);
      o->help = g_strdup (families[f].help);
      o->samples = g_string_new (NULL);
      g_ptr_array_add (order, o);
      g_hash_table_insert (by_metric, o->metric, o);
    }

  for (guint v = 0; v < n_vms; v++)
    for (guint i = 0; i < stats[v]->entries->len; i++)
      {
        Entry *entry = &g_array_index (stats[v]->entries, Entry, i);
        const char *first = strchr (entry->key, '.');
        const char *last = strrchr (entry->key, '.');
        g_autofree char *group = g_strndup (entry->key, (gsize) (first - entry->key));
        g_autofree char *instance = first != last ? g_strndup (first + 1, (gsize) (last - first - 1)) : NULL;
        const char *name = last + 1;
        const Family *family = NULL;
        g_autofree char *unknown = NULL;
        Output *o;

        for (guint f = 0; f < G_N_ELEMENTS (families) && family == NULL; f++)
          if (g_str_equal (families[f].group, group) && g_str_equal (families[f].name, name)
              && (families[f].label != NULL) == (instance != NULL))
            family = &families[f];
        if (family != NULL)
          o = g_hash_table_lookup (by_metric, family->metric);
        else
          {
            unknown = metric_name (group, name);
            o = g_hash_table_lookup (by_metric, unknown);
            if (o == NULL)
              {
                o = g_new0 (Output, 1);
                o->metric = g_strdup (unknown);
                o->type = g_strdup ("untyped");
                o->help = g_strdup_printf ("Backend statistic %s%s%s.", group,
                                           instance ? ".INSTANCE." : ".", name);
                o->samples = g_string_new (NULL);
                g_ptr_array_add (order, o);
                g_hash_table_insert (by_metric, o->metric, o);
              }
          }

        g_string_append_printf (o->samples, "%s{id=\"", o->metric);
        append_label_value (o->samples, ids[v]);
        g_string_append_c (o->samples, '"');
        if (instance != NULL)
          {
            g_string_append_printf (o->samples, ",%s=\"", family ? family->label : "device");
            append_label_value (o->samples, instance);
            g_string_append_c (o->samples, '"');
          }
        if (family != NULL && family->seconds)
          {
            char number[G_ASCII_DTOSTR_BUF_SIZE];

            g_ascii_formatd (number, sizeof number, "%.9f", (double) entry->value / 1e9);
            g_string_append_printf (o->samples, "} %s\n", number);
          }
        else
          g_string_append_printf (o->samples, "} %" G_GUINT64_FORMAT "\n", entry->value);
      }

  for (guint i = 0; i < order->len; i++)
    {
      Output *o = order->pdata[i];

      if (o->samples->len == 0)
        continue;
      g_string_append_printf (text, "# HELP %s %s\n# TYPE %s %s\n%s",
                              o->metric, o->help, o->metric, o->type, o->samples->str);
    }
  return g_string_free (text, FALSE);
}
