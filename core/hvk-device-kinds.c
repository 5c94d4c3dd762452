/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include "hvk-device-private.h"

/*
 * The standard device kinds every registry knows.  Property names and
 * their syntax are part of the device-string and config-file format:
 * append-only.
 */

#define REQ HVK_PROP_FLAG_REQUIRED
#define OPT HVK_PROP_FLAG_NONE
/* names a host file: made absolute where it is given */
#define PATH HVK_PROP_FLAG_PATH

static const HvkDevicePropSpec block_props[] = {
  { "path", HVK_PROP_STRING, REQ | PATH, NULL, "Host file or block device backing the disk" },
  { "format", HVK_PROP_STRING, OPT, "raw", "Image format (raw, qcow2, …)" },
  { "readonly", HVK_PROP_BOOLEAN, OPT, NULL, "Attach the disk read-only" },
  { "driver", HVK_PROP_STRING, OPT, NULL, "Block driver; empty means the config's block_device_driver" },
  { "aio", HVK_PROP_STRING, OPT, NULL, "I/O mechanism; empty means the config's block_device_aio" },
  { "cache_direct", HVK_PROP_BOOLEAN, OPT, NULL, "Open the backing file with O_DIRECT" },
  { "index", HVK_PROP_UINT, OPT, NULL, "Drive index" },
  { "serial", HVK_PROP_STRING, OPT, NULL, "Disk serial number shown to the guest" },
  { "rate_limiter_bw_max_rate", HVK_PROP_INT, OPT, NULL, "Bandwidth limit in bits per second, reads and writes together (0: unlimited); empty means disk_rate_limiter_bw_max_rate" },
  { "rate_limiter_bw_one_time_burst", HVK_PROP_INT, OPT, NULL, "Bits above the bandwidth limit before it applies; empty means disk_rate_limiter_bw_one_time_burst" },
  { "rate_limiter_ops_max_rate", HVK_PROP_INT, OPT, NULL, "Requests per second, reads and writes together (0: unlimited); empty means disk_rate_limiter_ops_max_rate" },
  { "rate_limiter_ops_one_time_burst", HVK_PROP_INT, OPT, NULL, "Requests above the request limit before it applies; empty means disk_rate_limiter_ops_one_time_burst" },
  { "throttle_group", HVK_PROP_STRING, OPT, NULL, "Throttle group (letters, digits, _ and -): the disks naming one group share its limits, which must be the same for each; empty means the disk's own (or the VM's, with disk_rate_limiter_shared)" },
};

static const HvkDevicePropSpec net_props[] = {
  { "type", HVK_PROP_STRING, OPT, "tap", "Endpoint type: tap, macvtap or vhost-user" },
  { "ifname", HVK_PROP_STRING, OPT, NULL, "Host interface name" },
  { "mac", HVK_PROP_STRING, OPT, NULL, "Guest MAC address" },
  { "fds", HVK_PROP_STRV, OPT, NULL, "Tap file descriptors passed to the VMM" },
  { "vhost_fds", HVK_PROP_STRV, OPT, NULL, "vhost-net file descriptors passed to the VMM" },
  { "queues", HVK_PROP_UINT, OPT, "1", "Number of queue pairs" },
  { "socket", HVK_PROP_STRING, PATH, NULL, "vhost-user socket path" },
  { "rate_limiter_bw_max_rate", HVK_PROP_INT, OPT, NULL, "Bandwidth limit in bits per second, each direction (0: unlimited); empty means net_rate_limiter_bw_max_rate" },
  { "rate_limiter_bw_one_time_burst", HVK_PROP_INT, OPT, NULL, "Bits above the bandwidth limit before it applies; empty means net_rate_limiter_bw_one_time_burst" },
  { "rate_limiter_ops_max_rate", HVK_PROP_INT, OPT, NULL, "Packets per second, each direction (0: unlimited); empty means net_rate_limiter_ops_max_rate" },
  { "rate_limiter_ops_one_time_burst", HVK_PROP_INT, OPT, NULL, "Packets above the packet limit before it applies; empty means net_rate_limiter_ops_one_time_burst" },
  { "rx_rate_limiter_max_rate", HVK_PROP_INT, OPT, NULL, "Bits per second delivered to the guest (0: unlimited); empty means rx_rate_limiter_max_rate" },
  { "tx_rate_limiter_max_rate", HVK_PROP_INT, OPT, NULL, "Bits per second the guest may send (0: unlimited); empty means tx_rate_limiter_max_rate" },
};

static const HvkDevicePropSpec vsock_props[] = {
  { "cid", HVK_PROP_UINT, REQ, NULL, "Guest context id" },
  { "vhost_fd", HVK_PROP_INT, OPT, "-1", "Open /dev/vhost-vsock descriptor, -1 to let the VMM open it" },
};

static const HvkDevicePropSpec fs_props[] = {
  { "driver", HVK_PROP_STRING, OPT, "virtio-fs", "Sharing protocol: virtio-fs or virtio-9p" },
  { "path", HVK_PROP_STRING, REQ | PATH, NULL, "Host directory to share" },
  { "tag", HVK_PROP_STRING, REQ, NULL, "Mount tag seen by the guest" },
  { "socket", HVK_PROP_STRING, PATH, NULL, "virtiofsd socket path" },
  { "cache_size", HVK_PROP_UINT, OPT, NULL, "DAX window in MiB" },
  { "queue_size", HVK_PROP_UINT, OPT, "1024", "virtio-fs queue size" },
  { "security_model", HVK_PROP_STRING, OPT, "none", "9p security model" },
};

static const HvkDevicePropSpec console_props[] = {
  { "backend", HVK_PROP_STRING, OPT, "socket", "Host side: socket, pty, tty, file, stdio or serial" },
  { "path", HVK_PROP_STRING, PATH, NULL, "Socket, device or file path" },
  { "name", HVK_PROP_STRING, OPT, NULL, "Port name seen by the guest" },
};

static const HvkDevicePropSpec serial_socket_props[] = {
  { "path", HVK_PROP_STRING, REQ | PATH, NULL, "Unix socket path" },
  { "name", HVK_PROP_STRING, REQ, NULL, "Port name seen by the guest" },
};

static const HvkDevicePropSpec vfio_props[] = {
  { "host", HVK_PROP_STRING, REQ, NULL, "Host PCI address (0000:00:1f.0)" },
  { "bus", HVK_PROP_STRING, OPT, NULL, "Guest bus to attach to" },
  { "vendor_id", HVK_PROP_STRING, OPT, NULL, "PCI vendor id" },
  { "device_id", HVK_PROP_STRING, OPT, NULL, "PCI device id" },
};

static const HvkDevicePropSpec rng_props[] = {
  { "filename", HVK_PROP_STRING, PATH, NULL, "Host entropy source; empty means the config's entropy_source" },
  { "max_bytes", HVK_PROP_UINT, OPT, NULL, "Bytes the guest may read per period" },
  { "period", HVK_PROP_UINT, OPT, NULL, "Rate-limit period in milliseconds" },
};

static const HvkDevicePropSpec memory_props[] = {
  { "size_mb", HVK_PROP_UINT, REQ, NULL, "Size in MiB" },
  { "slot", HVK_PROP_INT, OPT, "-1", "Memory slot, -1 for the next free one" },
};

static const HvkDevicePropSpec cpu_props[] = {
  { "count", HVK_PROP_UINT, REQ, NULL, "Number of vCPUs" },
};

static const struct {
  const char              *name;
  const char              *description;
  const HvkDevicePropSpec *props;
  guint                    n_props;
} standard_kinds[] = {
#define KIND(name, desc, props) { name, desc, props, G_N_ELEMENTS (props) }
  KIND (HVK_DEVICE_KIND_BLOCK, "Block device (disk image)", block_props),
  KIND (HVK_DEVICE_KIND_NET, "Network interface", net_props),
  KIND (HVK_DEVICE_KIND_VSOCK, "vhost-vsock device", vsock_props),
  KIND (HVK_DEVICE_KIND_FS, "Shared host directory", fs_props),
  KIND (HVK_DEVICE_KIND_CONSOLE, "Guest console", console_props),
  KIND (HVK_DEVICE_KIND_SERIAL_SOCKET, "virtio-serial port on a Unix socket", serial_socket_props),
  KIND (HVK_DEVICE_KIND_VFIO, "Host PCI device passed through with VFIO", vfio_props),
  KIND (HVK_DEVICE_KIND_RNG, "virtio-rng entropy device", rng_props),
  KIND (HVK_DEVICE_KIND_MEMORY, "Hot-pluggable memory", memory_props),
  KIND (HVK_DEVICE_KIND_CPU, "Hot-pluggable vCPUs", cpu_props),
#undef KIND
};

static const char * const net_types[] = { "tap", "macvtap", "vhost-user", NULL };
static const char * const fs_drivers[] = { "virtio-fs", "virtio-9p", NULL };
static const char * const console_backends[] = { "socket", "pty", "tty", "file", "stdio", "serial", NULL };

/* Enumerated properties: checked when a device is parsed or validated. */
static const struct {
  const char         *kind;
  const char         *prop;
  const char * const *values;
} enums[] = {
  { HVK_DEVICE_KIND_NET, "type", net_types },
  { HVK_DEVICE_KIND_FS, "driver", fs_drivers },
  { HVK_DEVICE_KIND_CONSOLE, "backend", console_backends },
};

/**
 * hvk_device_kinds_new_standard:
 *
 * Creates the standard device kinds (`block`, `net`, `vsock`, `fs`,
 * `console`, `serial-socket`, `vfio`, `rng`, `memory`, `cpu`).
 *
 * Returns: (transfer container) (element-type HvkDeviceKind): new kinds
 */
GPtrArray *
hvk_device_kinds_new_standard (void)
{
  GPtrArray *kinds = g_ptr_array_new_with_free_func ((GDestroyNotify) hvk_device_kind_unref);

  for (guint i = 0; i < G_N_ELEMENTS (standard_kinds); i++)
    g_ptr_array_add (kinds, hvk_device_kinds_new_standard_at (i));
  return kinds;
}

/* How many standard kinds there are, and the name of each in order:
 * the registry builds one only when it is first looked up. */
guint
hvk_device_kinds_n_standard (void)
{
  return G_N_ELEMENTS (standard_kinds);
}

const char *
hvk_device_kinds_standard_name (guint index)
{
  g_return_val_if_fail (index < G_N_ELEMENTS (standard_kinds), NULL);
  return standard_kinds[index].name;
}

HvkDeviceKind *
hvk_device_kinds_new_standard_at (guint index)
{
  g_autoptr(GError) error = NULL;
  HvkDeviceKind *kind;

  g_return_val_if_fail (index < G_N_ELEMENTS (standard_kinds), NULL);
  kind = hvk_device_kind_new (standard_kinds[index].name,
                              standard_kinds[index].description,
                              standard_kinds[index].props,
                              standard_kinds[index].n_props,
                              &error);
  /* The table is ours: a refusal is a bug caught by the tests. */
  if (kind == NULL)
    g_error ("standard device kind %s: %s", standard_kinds[index].name, error->message);
  return kind;
}

HvkDeviceKind *
hvk_device_kinds_lookup_standard (const char *name)
{
  static GHashTable *table = NULL;

  if (g_once_init_enter (&table))
    {
      g_autoptr(GPtrArray) kinds = hvk_device_kinds_new_standard ();
      GHashTable *t = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                             (GDestroyNotify) hvk_device_kind_unref);

      for (guint i = 0; i < kinds->len; i++)
        {
          HvkDeviceKind *kind = g_ptr_array_index (kinds, i);

          g_hash_table_insert (t, (gpointer) hvk_device_kind_get_name (kind),
                               hvk_device_kind_ref (kind));
        }
      g_once_init_leave (&table, t);
    }
  return g_hash_table_lookup (table, name);
}

const char * const *
hvk_device_kinds_lookup_enum (const char *kind,
                              const char *prop)
{
  for (gsize i = 0; i < G_N_ELEMENTS (enums); i++)
    if (g_str_equal (enums[i].kind, kind) && g_str_equal (enums[i].prop, prop))
      return enums[i].values;
  return NULL;
}

char *
hvk_device_kinds_describe_enum (const char * const *values)
{
  GString *s = g_string_new (NULL);
  guint n = g_strv_length ((char **) values);

  for (guint i = 0; i < n; i++)
    {
      if (i > 0)
        g_string_append (s, i == n - 1 ? " or " : ", ");
      g_string_append (s, values[i]);
    }
  return g_string_free (s, FALSE);
}
