/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "hvk-qemu-appenders-common.h"
#include "hvk-qemu-device-props.h"

/* ---- block ---- */

static const char * const block_aios[] = { "threads", "native", "io_uring", NULL };

/* Every setting of a disk, read once: the appender and hotplug both
 * start here. */
gboolean
hvk_qemu_block_resolve (HvkDevice             *device,
                        const HvkQemuSettings *settings,
                        HvkQemuBlock  *block,
                        GError       **error)
{
  memset (block, 0, sizeof *block);
  block->id = hvk_device_get_id (device);
  block->path = hvk_qemu_device_string (device, "path", NULL);
  block->format = hvk_qemu_device_string (device, "format", NULL);
  block->driver = hvk_qemu_device_string (device, "driver", NULL);
  block->aio = hvk_qemu_device_string (device, "aio", NULL);
  block->serial = hvk_qemu_device_string (device, "serial", NULL);
  block->readonly = hvk_qemu_device_boolean (device, FALSE, "readonly", NULL);
  block->cache_set = settings->block_device_cache_set;
  block->cache_direct = settings->block_device_cache_direct;
  block->cache_noflush = settings->block_device_cache_noflush;

  if (!hvk_io_limits_resolve (&settings->disk_limits, device, &block->limits, error)
      || !hvk_qemu_block_check_limits (block->id, &block->limits, error))
    return FALSE;
  /* A disk that names a limit, even 0, gets its group: iotune can then
   * limit it while it runs (a throttle node cannot be inserted later).
   * The group is its own, or one it shares (throttle_group, or every
   * limited disk's with disk_rate_limiter_shared). */
  if (!hvk_io_limits_group (&settings->disk_limits, settings->disk_limits_shared, device,
                            &block->group, &block->throttled, error))
    return FALSE;
  if (block->path == NULL)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT, "no path");
  if (block->format == NULL)
    block->format = "raw";
  if (block->driver == NULL)
    block->driver = settings->block_device_driver;
  if (!g_str_equal (block->driver, "virtio-blk") && !g_str_equal (block->driver, "virtio-scsi"))
    return hvk_qemu_device_error (error, device, HVK_ERROR_NOT_SUPPORTED,
                                  "block driver '%s' is not supported by the qemu backend "
                                  "(virtio-blk or virtio-scsi)", block->driver);
  if (block->aio == NULL)
    block->aio = settings->block_device_aio;
  if (!g_strv_contains (block_aios, block->aio))
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "aio '%s' is not threads, native or io_uring", block->aio);
  if (hvk_qemu_device_has (device, "cache_direct", NULL))
    {
      block->cache_set = TRUE;
      block->cache_direct = hvk_qemu_device_boolean (device, FALSE, "cache_direct", NULL);
    }
  if (g_str_equal (block->aio, "native") && !(block->cache_set && block->cache_direct))
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "aio=native needs the cache to be direct "
                                  "(cache_direct=true or block_device_cache_direct)");
  return TRUE;
}

/* ---- throttling ---- */

/*
 * A limited disk is a `throttle` filter node over its format node, in a
 * throttle group of its own (`throttle-ID`), or in one it shares with
 * the other disks of its `throttle_group` (`throttle.group-NAME`: their
 * I/O together is limited).  Kata's units become
 * QEMU's: bytes = bits / 8 (x-bps-total), operations as they are
 * (x-iops-total).  A one-time burst of B (bytes or operations) becomes
 * QEMU's *-max = B with *-max-length = 1: QEMU's bucket then holds
 * max × length = B above the rate, and a length of 1 puts no pace on
 * the burst itself, as Firecracker's one-time burst has none.  QEMU
 * wants max ≥ the rate, so a burst below one second at the rate is
 * refused.  Unlike Firecracker's, whose credit never comes back, QEMU's
 * refills while the disk does less than the rate (B / rate seconds idle
 * refill it all); without a burst QEMU lets a tenth of a second's budget
 * through at once.
 */

char *
hvk_qemu_block_throttle_group (const char *id,
                               const char *group)
{
  if (group != NULL)
    return g_strdup_printf ("throttle.group-%s", group);
  return g_strdup_printf ("throttle-%s", id);
}

gboolean
hvk_qemu_block_check_limits (const char         *id,
                             const HvkIoLimits  *limits,
                             GError            **error)
{
  static const struct {
    HvkIoLimitsField rate, burst;
    guint divisor;
    const char *unit;
  } pairs[] = {
    { HVK_IO_LIMITS_BW_MAX_RATE, HVK_IO_LIMITS_BW_ONE_TIME_BURST, 8, "bits" },
    { HVK_IO_LIMITS_OPS_MAX_RATE, HVK_IO_LIMITS_OPS_ONE_TIME_BURST, 1, "operations" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      guint64 rate = hvk_io_limits_get_field (limits, pairs[i].rate);
      guint64 burst = hvk_io_limits_get_field (limits, pairs[i].burst);

      if (burst > 0 && burst / pairs[i].divisor < rate / pairs[i].divisor)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                       "block device '%s': %s (or %s): a one-time burst of %" G_GUINT64_FORMAT
                       " %s, less than one second at the rate (%" G_GUINT64_FORMAT
                       "), is not supported by backend 'qemu' (its smallest burst is one "
                       "second at the rate)", id,
                       hvk_io_limits_prop_name (pairs[i].burst),
                       hvk_io_limits_key_name (HVK_DEVICE_KIND_BLOCK, pairs[i].burst),
                       burst, pairs[i].unit, rate);
          return FALSE;
        }
    }
  return TRUE;
}

/* QEMU's ThrottleLimits of @limits, as the members @prefix names them
 * (`x-` for the properties of the group, none for its `limits`).  With
 * @all, every member, 0 included (a whole new set for qom-set); else
 * only those that limit something. */
void
hvk_qemu_block_throttle_props (const HvkIoLimits *limits,
                               const char        *prefix,
                               gboolean           all,
                               HvkOpts           *opts)
{
  static const struct {
    const char *name;
    HvkIoLimitsField rate, burst;
    guint divisor;
  } buckets[] = {
    { "bps-total", HVK_IO_LIMITS_BW_MAX_RATE, HVK_IO_LIMITS_BW_ONE_TIME_BURST, 8 },
    { "iops-total", HVK_IO_LIMITS_OPS_MAX_RATE, HVK_IO_LIMITS_OPS_ONE_TIME_BURST, 1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (buckets); i++)
    {
      guint64 rate = hvk_io_limits_get_field (limits, buckets[i].rate) / buckets[i].divisor;
      guint64 burst = hvk_io_limits_get_field (limits, buckets[i].burst) / buckets[i].divisor;
      g_autofree char *key = g_strconcat (prefix, buckets[i].name, NULL);
      g_autofree char *max = g_strconcat (key, "-max", NULL);
      g_autofree char *length = g_strconcat (key, "-max-length", NULL);

      if (rate > 0 || all)
        hvk_opts_add_uint (opts, key, rate);
      if (burst > 0 || all)
        {
          hvk_opts_add_uint (opts, max, burst);
          hvk_opts_add_uint (opts, length, 1);
        }
    }
}

/* The group of a throttled disk: -object / object-add. */
HvkOpts *
hvk_qemu_block_throttle_group_props (const HvkQemuBlock *block)
{
  g_autofree char *group = hvk_qemu_block_throttle_group (block->id, block->group);
  HvkOpts *opts = hvk_opts_new ("throttle-group");

  hvk_opts_add (opts, "id", group);
  hvk_qemu_block_throttle_props (&block->limits, "x-", FALSE, opts);
  return opts;
}

typedef struct {
  char        *id;           /* its first disk */
  HvkIoLimits  limits;
} GroupMember;

static void
group_member_free (GroupMember *member)
{
  g_free (member->id);
  g_free (member);
}

GHashTable *
hvk_qemu_throttle_groups_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                (GDestroyNotify) group_member_free);
}

gboolean
hvk_qemu_throttle_groups_join (GHashTable         *groups,
                               const HvkQemuBlock *block,
                               gboolean           *is_new,
                               GError            **error)
{
  g_autofree char *object = hvk_qemu_block_throttle_group (block->id, block->group);
  GroupMember *member = g_hash_table_lookup (groups, object);

  *is_new = member == NULL;
  if (member != NULL)
    return block->group == NULL
           || hvk_io_limits_group_agree (block->group, member->id, &member->limits,
                                         block->id, &block->limits, error);
  member = g_new0 (GroupMember, 1);
  member->id = g_strdup (block->id);
  member->limits = block->limits;
  g_hash_table_insert (groups, g_steal_pointer (&object), member);
  return TRUE;
}

/* What the blockdev form needs to know of the path (-drive file= finds
 * out by itself): whether it is there, and a block device or a file. */
gboolean
hvk_qemu_block_probe (HvkQemuBlock  *block,
                      GError       **error)
{
  struct stat st;

  if (stat (block->path, &st) != 0)
    {
      int saved = errno;

      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "block device '%s': %s: %s", block->id, block->path, g_strerror (saved));
      return FALSE;
    }
  block->host_device = S_ISBLK (st.st_mode);
  block->probed = TRUE;
  return TRUE;
}

gboolean
hvk_qemu_block_is_scsi (const HvkQemuBlock *block)
{
  return g_str_equal (block->driver, "virtio-scsi");
}

/* The name the device's drive= refers to: the -drive id (the BlockBackend)
 * on the command line, the node of blockdev-add on hotplug. */
char *
hvk_qemu_block_node_name (const char       *id,
                          HvkQemuBlockForm  form)
{
  return form == HVK_QEMU_BLOCK_DRIVE ? g_strdup (id) : g_strdup_printf ("drive-%s", id);
}

static void
add_under (HvkOpts    *opts,
           const char *prefix,
           const char *key,
           const char *value)
{
  g_autofree char *k = g_strconcat (prefix, key, NULL);

  hvk_opts_add (opts, k, value);
}

static void
add_bool_under (HvkOpts    *opts,
                const char *prefix,
                const char *key,
                gboolean    value)
{
  g_autofree char *k = g_strconcat (prefix, key, NULL);

  hvk_opts_add_bool (opts, k, value);
}

/* The backend and the device of a disk.  -drive keeps the spelling the
 * command line has always had (tests/golden/qemu/block-*.args);
 * blockdev-add spells the same settings as a format node over a protocol
 * node (file.*), QEMU's own mapping of -drive: aio belongs to the
 * protocol node, the cache options are inherited by it.  A throttled
 * disk has the blockdev form on the command line too (-blockdev), one
 * level deeper: the throttle filter node-name drive-ID in group
 * throttle-ID, its file the format node, whose file is the protocol. */
gboolean
hvk_qemu_block_props (const HvkQemuBlock  *block,
                      HvkQemuBlockForm     form,
                      const HvkQemuPlace  *place,
                      HvkOpts            **backend,
                      HvkOpts            **device,
                      GError             **error)
{
  g_autofree char *node = hvk_qemu_block_node_name (block->id, form);
  g_autoptr(HvkOpts) back = hvk_opts_new (NULL);
  g_autoptr(HvkOpts) dev = NULL;
  gboolean scsi = hvk_qemu_block_is_scsi (block);
  /* rootless: the descriptors hvkit opened (QEMU never opens the path) */
  g_autofree char *fdset = block->has_fdset ? g_strdup_printf ("/dev/fdset/%u", block->fdset) : NULL;
  const char *filename = fdset != NULL ? fdset : block->path;

  if (form == HVK_QEMU_BLOCK_DRIVE && block->throttled)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "block device '%s': a throttled disk has the blockdev form only", block->id);
      return FALSE;
    }
  if (form == HVK_QEMU_BLOCK_DRIVE)
    {
      hvk_opts_add (back, "id", node);
      hvk_opts_add (back, "file", filename);
      hvk_opts_add (back, "aio", block->aio);
      hvk_opts_add (back, "format", block->format);
      hvk_opts_add (back, "if", "none");
      if (block->readonly)
        hvk_opts_add (back, "readonly", "on");
    }
  else
    {
      /* A throttled disk: the filter on top, the format node under it. */
      const char *p = block->throttled ? "file." : "";
      g_autofree char *group = hvk_qemu_block_throttle_group (block->id, block->group);

      if (!block->probed)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "block device '%s': blockdev form of a path not probed", block->id);
          return FALSE;
        }
      hvk_opts_add (back, "node-name", node);
      if (block->throttled)
        {
          hvk_opts_add (back, "driver", "throttle");
          hvk_opts_add (back, "throttle-group", group);
          hvk_opts_add_bool (back, "read-only", block->readonly);
        }
      add_under (back, p, "driver", block->format);
      add_bool_under (back, p, "read-only", block->readonly);
      add_under (back, p, "file.driver", block->host_device ? "host_device" : "file");
      add_under (back, p, "file.filename", filename);
      add_under (back, p, "file.aio", block->aio);
      if (block->cache_set)
        {
          add_bool_under (back, p, "cache.direct", block->cache_direct);
          add_bool_under (back, p, "cache.no-flush", block->cache_noflush);
        }
    }
  if (form == HVK_QEMU_BLOCK_DRIVE && block->cache_set)
    {
      hvk_opts_add_bool (back, "cache.direct", block->cache_direct);
      hvk_opts_add_bool (back, "cache.no-flush", block->cache_noflush);
    }

  if (scsi)
    {
      dev = hvk_opts_new ("scsi-hd");
      hvk_opts_add (dev, "id", block->id);
      hvk_opts_add (dev, "drive", node);
      hvk_opts_add (dev, "bus", place->bus);
      hvk_opts_add_uint (dev, "channel", 0);
      hvk_opts_add_uint (dev, "scsi-id", 0);
      hvk_opts_add_uint (dev, "lun", (guint64) MAX (place->lun, 0));
      if (block->serial != NULL)
        hvk_opts_add (dev, "serial", block->serial);
    }
  else
    {
      dev = hvk_opts_new ("virtio-blk-pci");
      hvk_opts_add (dev, "id", block->id);
      hvk_opts_add (dev, "drive", node);
      hvk_opts_add_bool (dev, "config-wce", FALSE);
      hvk_opts_add (dev, "serial", block->serial != NULL ? block->serial : block->id);
      if (place->bus != NULL)
        hvk_opts_add (dev, "bus", place->bus);
      if (place->addr >= 0)
        hvk_opts_add_printf (dev, "addr", "0x%x", (guint) place->addr);
    }

  *backend = g_steal_pointer (&back);
  *device = g_steal_pointer (&dev);
  return TRUE;
}

/* ---- net ---- */

static gboolean
is_mac_address (const char *text)
{
  if (strlen (text) != 17)
    return FALSE;
  for (guint i = 0; i < 17; i++)
    if ((i % 3 == 2) ? text[i] != ':' : !g_ascii_isxdigit (text[i]))
      return FALSE;
  return TRUE;
}

/* Every setting of an interface, read once: the appender and hotplug
 * both start here. */
gboolean
hvk_qemu_net_resolve (HvkDevice             *device,
                      const HvkQemuSettings *settings,
                      HvkQemuNet   *net,
                      GError      **error)
{
  memset (net, 0, sizeof *net);
  net->id = hvk_device_get_id (device);
  net->type = hvk_qemu_device_string (device, "type", NULL);
  net->ifname = hvk_qemu_device_string (device, "ifname", NULL);
  net->mac = hvk_qemu_device_string (device, "mac", NULL);
  net->fds = hvk_qemu_device_strv (device, "fds", NULL);
  net->vhost_fds = hvk_qemu_device_strv (device, "vhost_fds", NULL);
  net->n_fds = net->fds != NULL ? g_strv_length ((char **) net->fds) : 0;
  net->n_vhost_fds = net->vhost_fds != NULL ? g_strv_length ((char **) net->vhost_fds) : 0;
  net->vhost = !settings->disable_vhost_net;
  net->socket = hvk_qemu_device_string (device, "socket", NULL);
  net->queues = hvk_qemu_device_uint (device, 1, "queues", NULL);

  if (!hvk_io_limits_resolve (&settings->net_limits, device, &net->limits, error))
    return FALSE;
  if (net->mac != NULL && !is_mac_address (net->mac))
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "mac '%s' is not a MAC address (xx:xx:xx:xx:xx:xx)", net->mac);
  if (net->type == NULL)
    net->type = "tap";
  if (g_str_equal (net->type, "vhost-user"))
    {
      if (net->socket == NULL)
        return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                      "a vhost-user interface needs its socket");
      if (net->queues == 0 || net->queues > 1024)
        return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                      "queues %" G_GUINT64_FORMAT " is not within 1..1024",
                                      net->queues);
      return hvk_qemu_net_tap_limit (net, &net->limits, &net->tap_limit, error);
    }
  if (!g_str_equal (net->type, "tap") && !g_str_equal (net->type, "macvtap"))
    return hvk_qemu_device_error (error, device, HVK_ERROR_NOT_SUPPORTED,
                                  "net type '%s' is not tap, macvtap or vhost-user", net->type);
  if (net->n_fds == 0 && g_str_equal (net->type, "macvtap"))
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "a macvtap interface needs the fds of its /dev/tapN");
  if (net->n_fds == 0 && net->ifname == NULL)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "a tap interface needs ifname or fds");
  if (net->n_vhost_fds > 0 && net->n_vhost_fds != net->n_fds)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "%u vhost_fds for %u fds: one per queue",
                                  net->n_vhost_fds, net->n_fds);
  if (net->n_vhost_fds > 0 && !net->vhost)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "vhost_fds given but disable_vhost_net is set");
  return hvk_qemu_net_tap_limit (net, &net->limits, &net->tap_limit, error);
}

/* The first limit @limits sets, for the error that refuses it. */
static const char *
first_limit (const HvkIoLimits *limits,
             gboolean           ops_only)
{
  for (guint i = 0; i < HVK_IO_LIMITS_N_FIELDS; i++)
    if (hvk_io_limits_get_field (limits, i) != 0
        && (!ops_only || i == HVK_IO_LIMITS_OPS_MAX_RATE || i == HVK_IO_LIMITS_OPS_ONE_TIME_BURST))
      return hvk_io_limits_prop_name (i);
  return NULL;
}

static guint64
min_set (guint64 a,
         guint64 b)
{
  return a == 0 ? b : b == 0 ? a : MIN (a, b);
}

/* QEMU has no netdev limiter: as Kata does for QEMU, the tap is shaped
 * (hvk-qemu-tap-limit.c), which hvkit can do for a tap it names
 * (ifname), not for one handed over as descriptors nor for vhost-user.
 * The guest's receive side is rx_rate_limiter_max_rate, its transmit
 * side tx_rate_limiter_max_rate, each bounded by
 * net_rate_limiter_bw_max_rate too (the lower wins); the bandwidth's
 * one-time burst is the HTB buffer of both sides (bits / 8 bytes; it
 * refills while the interface is below its rate, as QEMU's disk bursts
 * do).  HTB counts bytes, not packets: the ops limits are refused. */
gboolean
hvk_qemu_net_tap_limit (const HvkQemuNet   *net,
                        const HvkIoLimits  *limits,
                        HvkTapLimit        *tap_limit,
                        GError            **error)
{
  const char *what = first_limit (limits, FALSE);

  *tap_limit = (HvkTapLimit) { 0, };
  if (what == NULL)
    return TRUE;
  if (g_str_equal (net->type, "vhost-user") || net->n_fds > 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "net device '%s': %s: not supported by backend 'qemu' for %s (QEMU has no "
                   "netdev limiter, and hvkit shapes only a tap it names with ifname)",
                   net->id, what, g_str_equal (net->type, "vhost-user")
                                  ? "a vhost-user interface" : "a tap handed over as descriptors");
      return FALSE;
    }
  what = first_limit (limits, TRUE);
  if (what != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "net device '%s': %s: not supported by backend 'qemu' (a tap is shaped in "
                   "bytes per second, not packets)", net->id, what);
      return FALSE;
    }
  tap_limit->rx_bps = min_set (limits->rx_max_rate, limits->bw_max_rate);
  tap_limit->tx_bps = min_set (limits->tx_max_rate, limits->bw_max_rate);
  if (limits->bw_one_time_burst > 0)
    {
      tap_limit->rx_burst = limits->bw_one_time_burst / 8;
      tap_limit->tx_burst = limits->bw_one_time_burst / 8;
    }
  return TRUE;
}

/* The netdev id a device's netdev= names: the device id on the command
 * line, netdev-ID on hotplug. */
char *
hvk_qemu_net_netdev_id (const char       *id,
                        HvkQemuBlockForm  form)
{
  return form == HVK_QEMU_BLOCK_DRIVE ? g_strdup (id) : g_strdup_printf ("netdev-%s", id);
}

void
hvk_qemu_net_tap_props (const HvkQemuNet    *net,
                        HvkQemuBlockForm     form,
                        const char          *fds,
                        const char          *vhost_fds,
                        HvkOpts            **netdev)
{
  g_autofree char *netdev_id = hvk_qemu_net_netdev_id (net->id, form);
  g_autoptr(HvkOpts) opts = hvk_opts_new ("tap");

  hvk_opts_add (opts, "id", netdev_id);
  if (net->vhost)
    hvk_opts_add_bool (opts, "vhost", TRUE);
  if (fds != NULL)
    {
      if (vhost_fds != NULL)
        hvk_opts_add (opts, "vhostfds", vhost_fds);
      hvk_opts_add (opts, "fds", fds);
    }
  else
    {
      hvk_opts_add (opts, "ifname", net->ifname);
      hvk_opts_add (opts, "downscript", "no");
      hvk_opts_add (opts, "script", "no");
    }
  *netdev = g_steal_pointer (&opts);
}

HvkOpts *
hvk_qemu_net_device_props (const HvkQemuNet   *net,
                           const char         *netdev_id,
                           guint               n_queues,
                           const HvkQemuPlace *place)
{
  /* driver= as a pair, not a leading value: the command line has always
   * spelled it so (tests/golden/qemu/net-*.args). */
  HvkOpts *opts = hvk_opts_new (NULL);

  hvk_opts_add (opts, "driver", "virtio-net-pci");
  hvk_opts_add (opts, "id", net->id);
  hvk_opts_add (opts, "netdev", netdev_id);
  if (net->mac != NULL)
    hvk_opts_add (opts, "mac", net->mac);
  /* One vector per queue in each direction, plus config and control. */
  if (n_queues > 0)
    {
      hvk_opts_add_bool (opts, "mq", TRUE);
      hvk_opts_add_uint (opts, "vectors", 2 * (guint64) n_queues + 2);
    }
  if (place != NULL && place->bus != NULL)
    hvk_opts_add (opts, "bus", place->bus);
  if (place != NULL && place->addr >= 0)
    hvk_opts_add_printf (opts, "addr", "0x%x", (guint) place->addr);
  return opts;
}

/* ---- vfio ---- */

/* Host PCI address: [DDDD:]BB:DD.F in hex. */
static gboolean
is_pci_address (const char *text)
{
  g_auto(GStrv) parts = g_strsplit (text, ":", -1);
  guint n = g_strv_length (parts);
  const char *slot_fn;

  if (n < 2 || n > 3)
    return FALSE;
  for (guint i = 0; i + 1 < n; i++)
    {
      if (*parts[i] == '\0' || strlen (parts[i]) > (i == 0 && n == 3 ? 4u : 2u))
        return FALSE;
      for (const char *p = parts[i]; *p != '\0'; p++)
        if (!g_ascii_isxdigit (*p))
          return FALSE;
    }
  slot_fn = parts[n - 1];
  return strlen (slot_fn) == 4 && g_ascii_isxdigit (slot_fn[0]) &&
         g_ascii_isxdigit (slot_fn[1]) && slot_fn[2] == '.' && slot_fn[3] >= '0' && slot_fn[3] <= '7';
}

gboolean
hvk_qemu_vfio_props (HvkDevice           *device,
                     const HvkQemuPlace  *place,
                     HvkOpts            **opts,
                     GError             **error)
{
  g_autoptr(HvkOpts) dev = hvk_opts_new ("vfio-pci");
  const char *host = hvk_qemu_device_string (device, "host", NULL);
  const char *bus = hvk_qemu_device_string (device, "bus", NULL);
  const char *vendor = hvk_qemu_device_string (device, "vendor_id", NULL);
  const char *product = hvk_qemu_device_string (device, "device_id", NULL);

  if (host == NULL || !is_pci_address (host))
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "host '%s' is not a PCI address ([DDDD:]BB:DD.F)",
                                  host != NULL ? host : "");
  if ((vendor != NULL) != (product != NULL))
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "vendor_id and device_id go together");
  hvk_opts_add (dev, "id", hvk_device_get_id (device));
  hvk_opts_add (dev, "host", host);
  if (vendor != NULL)
    {
      hvk_opts_add (dev, "x-pci-vendor-id", vendor);
      hvk_opts_add (dev, "x-pci-device-id", product);
    }
  if (bus == NULL && place != NULL)
    bus = place->bus;
  if (bus != NULL)
    hvk_opts_add (dev, "bus", bus);
  if (place != NULL && place->addr >= 0)
    hvk_opts_add_printf (dev, "addr", "0x%x", (guint) place->addr);
  *opts = g_steal_pointer (&dev);
  return TRUE;
}
