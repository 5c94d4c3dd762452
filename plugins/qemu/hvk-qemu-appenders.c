/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvk-qemu-appenders-common.h"
#include "hvk-qemu-device-props.h"
#include "hvk-qemu-identity.h"

/*
 * Device appenders of the QEMU backend: one function per device kind
 * (govmm's QemuParams of each device, with QEMU ≥ 6 spellings).  Every
 * QEMU device gets `id=` the hvkit device id, so the lifecycle can find
 * and unplug it.  The network appenders live in hvk-qemu-appenders-net.c.
 */

/* ---- helpers ---- */

gboolean
hvk_qemu_device_error (GError     **error,
                       HvkDevice   *device,
                       HvkError     code,
                       const char  *format,
                       ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, HVK_ERROR, code, "backend qemu: device '%s' (%s): %s",
               hvk_device_get_id (device), hvk_device_get_kind_name (device), message);
  return FALSE;
}

gboolean
hvk_qemu_check_allowed (HvkConfig          *config,
                        const char         *key,
                        const char         *list_key,
                        const char * const *globs,
                        const char         *path,
                        GError            **error)
{
  if (path == NULL || globs == NULL || globs[0] == NULL)
    return TRUE;
  for (gsize i = 0; globs[i] != NULL; i++)
    if (g_pattern_match_simple (globs[i], path))
      return TRUE;
  g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
               "%s: [%s] %s: '%s' is not in %s",
               hvk_config_get_source (config) ? hvk_config_get_source (config) : "configuration",
               hvk_config_get_group (config), key, path, list_key);
  return FALSE;
}

/* QEMU ids: a letter, then letters, digits, '-', '.' and '_'. */
gboolean
hvk_qemu_check_device_id (HvkDevice  *device,
                          GError    **error)
{
  const char *id = hvk_device_get_id (device);

  if (id == NULL || !g_ascii_isalpha (id[0]))
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "QEMU ids must start with a letter");
  for (const char *p = id; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.' && *p != '_')
      return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                    "QEMU ids may only hold letters, digits, '-', '.' and '_'");
  return TRUE;
}

/* -chardev socket,id=ID,path=P[,server=on,wait=off] */
gboolean
hvk_qemu_add_chardev_socket (HvkCmdline  *cmdline,
                             HvkDevice   *device,
                             const char  *chardev_id,
                             const char  *path,
                             gboolean     server,
                             GError     **error)
{
  g_autoptr(HvkOpts) opts = hvk_opts_new ("socket");

  if (path == NULL)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "no socket path");
  /* QEMU would fail late (or truncate) on a path sun_path cannot hold. */
  if (strlen (path) > HVK_MAX_SOCKET_PATH_LEN)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "socket path '%s' is too long (%zu bytes, at most %d)",
                                  path, strlen (path), HVK_MAX_SOCKET_PATH_LEN);
  hvk_opts_add (opts, "id", chardev_id);
  hvk_opts_add (opts, "path", path);
  if (server)
    {
      hvk_opts_add (opts, "server", "on");
      hvk_opts_add (opts, "wait", "off");
    }
  return hvk_cmdline_add_opts (cmdline, "-chardev", opts, error);
}

/* A descriptor named in a device property (a number open in this
 * process): a close-on-exec copy goes to the command line, whose number
 * in QEMU is returned; the caller keeps its own. */
int
hvk_qemu_take_fd_copy (HvkCmdline  *cmdline,
                       HvkDevice   *device,
                       const char  *what,
                       const char  *text,
                       GError     **error)
{
  guint64 number;
  int copy;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT, &number, NULL))
    {
      hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                             "%s '%s' is not a file descriptor number", what, text);
      return -1;
    }
  copy = fcntl ((int) number, F_DUPFD_CLOEXEC, 3);
  if (copy < 0)
    {
      int saved = errno;

      hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                             "%s %s: %s", what, text, g_strerror (saved));
      return -1;
    }
  return hvk_cmdline_take_fd (cmdline, copy);
}

static HvkQemuBuildData *
begin_device (HvkBuildContext  *ctx,
              HvkDevice        *device,
              GError          **error)
{
  if (!hvk_qemu_check_device_id (device, error))
    return NULL;
  return hvk_qemu_build_data (ctx, device, error);
}

static char *
char_id (HvkDevice *device)
{
  return g_strdup_printf ("char-%s", hvk_device_get_id (device));
}

/* ---- built-in devices ---- */

/* pci-bridge on pc (Kata's bridge with reserved windows for SeaBIOS),
 * pcie-pci-bridge on q35 (SHPC hotplug). */
static gboolean
append_bridge (HvkBuildContext  *ctx,
               HvkDevice        *device,
               HvkCmdline       *cmdline,
               gpointer          user_data,
               GError          **error)
{
  HvkQemuBuildData *data = begin_device (ctx, device, error);
  const char *type = hvk_qemu_device_string (device, "type", NULL);
  const char *bus = hvk_qemu_device_string (device, "bus", NULL);
  g_autoptr(HvkOpts) opts = NULL;

  if (data == NULL)
    return FALSE;
  if (type == NULL)
    type = data->pcie ? "pcie-pci-bridge" : "pci-bridge";
  if (bus == NULL)
    bus = data->pcie ? "pcie.0" : "pci.0";

  opts = hvk_opts_new (type);
  hvk_opts_add (opts, "bus", bus);
  hvk_opts_add (opts, "id", hvk_device_get_id (device));
  if (g_str_equal (type, "pci-bridge"))
    {
      guint64 chassis = hvk_qemu_device_uint (device, 1, "chassis", NULL);

      if (chassis == 0 || chassis > 255)
        return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                      "chassis %" G_GUINT64_FORMAT " is not within 1..255",
                                      chassis);
      hvk_opts_add_uint (opts, "chassis_nr", chassis);
      hvk_opts_add_bool (opts, "shpc", hvk_qemu_device_boolean (device, FALSE, "shpc", NULL));
    }
  else if (g_str_equal (type, "pcie-pci-bridge"))
    {
      if (!data->pcie)
        return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                      "pcie-pci-bridge needs machine_type=q35");
    }
  else
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "type '%s' is not pci-bridge or pcie-pci-bridge", type);

  if (hvk_qemu_device_uint (device, 0, "addr", NULL) > 0x1f)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "addr %" G_GUINT64_FORMAT " is not a PCI slot (0..31)",
                                  hvk_qemu_device_uint (device, 0, "addr", NULL));
  hvk_opts_add_printf (opts, "addr", "%" G_GINT64_MODIFIER "x",
                       hvk_qemu_device_uint (device, 0, "addr", NULL));
  if (g_str_equal (type, "pci-bridge"))
    {
      /* Windows some guest firmware (SeaBIOS) does not assign itself. */
      hvk_opts_add (opts, "io-reserve", "4k");
      hvk_opts_add (opts, "mem-reserve", "1m");
      hvk_opts_add (opts, "pref64-reserve", "1m");
    }
  if (!hvk_cmdline_add_opts (cmdline, "-device", opts, error))
    return FALSE;
  g_ptr_array_add (data->layout->bridges, g_strdup (hvk_device_get_id (device)));
  return TRUE;
}

/* pcie-root-port: where q35 hotplugs PCIe devices (pcie.0 cannot). */
static gboolean
append_root_port (HvkBuildContext  *ctx,
                  HvkDevice        *device,
                  HvkCmdline       *cmdline,
                  gpointer          user_data,
                  GError          **error)
{
  HvkQemuBuildData *data = begin_device (ctx, device, error);
  g_autoptr(HvkOpts) opts = hvk_opts_new ("pcie-root-port");
  const char *mem_reserve, *pref64_reserve;

  if (data == NULL)
    return FALSE;
  if (!data->pcie)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "pcie-root-port needs machine_type=q35, not %s",
                                  data->machine_type);
  hvk_opts_add (opts, "id", hvk_device_get_id (device));
  hvk_opts_add (opts, "bus", hvk_qemu_device_string (device, "bus", NULL));
  hvk_opts_add_uint (opts, "chassis", hvk_qemu_device_uint (device, 0, "chassis", NULL));
  hvk_opts_add_uint (opts, "slot", hvk_qemu_device_uint (device, 0, "slot", NULL));
  hvk_opts_add_bool (opts, "multifunction",
                     hvk_qemu_device_boolean (device, FALSE, "multifunction", NULL));
  mem_reserve = hvk_qemu_device_string (device, "mem_reserve", NULL);
  pref64_reserve = hvk_qemu_device_string (device, "pref64_reserve", NULL);
  if (mem_reserve != NULL)
    hvk_opts_add (opts, "mem-reserve", mem_reserve);
  if (pref64_reserve != NULL)
    hvk_opts_add (opts, "pref64-reserve", pref64_reserve);
  if (!hvk_cmdline_add_opts (cmdline, "-device", opts, error))
    return FALSE;
  g_ptr_array_add (data->layout->root_ports, g_strdup (hvk_device_get_id (device)));
  return TRUE;
}

/* The read-only virtio-blk disk of an image or a block device. */
static gboolean
add_virtio_blk (HvkCmdline  *cmdline,
                HvkDevice   *device,
                const char  *serial,
                gboolean     share_rw,
                GError     **error)
{
  g_autoptr(HvkOpts) opts = hvk_opts_new ("virtio-blk-pci");
  const char *id = hvk_device_get_id (device);

  hvk_opts_add (opts, "id", id);
  hvk_opts_add (opts, "drive", id);
  hvk_opts_add (opts, "config-wce", "off");
  if (share_rw)
    hvk_opts_add (opts, "share-rw", "on");
  hvk_opts_add (opts, "serial", serial != NULL ? serial : id);
  return hvk_cmdline_add_opts (cmdline, "-device", opts, error);
}

/* The guest's root image: a read-only NVDIMM (DAX, /dev/pmem0p1) or a
 * read-only virtio-blk disk (/dev/vda1); adds the root parameters. */
static gboolean
append_image (HvkBuildContext  *ctx,
              HvkDevice        *device,
              HvkCmdline       *cmdline,
              gpointer          user_data,
              GError          **error)
{
  HvkQemuBuildData *data = begin_device (ctx, device, error);
  const char *path = hvk_qemu_device_string (device, "path", NULL);
  gboolean nvdimm = hvk_qemu_device_boolean (device, TRUE, "nvdimm", NULL);
  const char *id = hvk_device_get_id (device);
  g_autoptr(GPtrArray) root_params = NULL;

  if (data == NULL)
    return FALSE;
  if (path == NULL)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT, "no image path");

  root_params = hvk_kernel_root_params (data->settings->rootfs_type,
                                        !nvdimm, nvdimm,
                                        data->settings->kernel_verity_params,
                                        error);
  if (root_params == NULL)
    {
      g_prefix_error (error, "backend qemu: device '%s' (%s): root parameters "
                      "(rootfs_type, kernel_verity_params): ",
                      id, hvk_device_get_kind_name (device));
      return FALSE;
    }

  if (nvdimm)
    {
      g_autoptr(HvkOpts) dev = hvk_opts_new ("nvdimm");
      g_autoptr(HvkOpts) object = hvk_opts_new ("memory-backend-file");
      g_autofree char *memdev = g_strdup_printf ("mem-%s", id);
      struct stat st;

      /* The NVDIMM is exactly as large as the image. */
      if (stat (path, &st) != 0)
        {
          int saved = errno;

          return hvk_qemu_device_error (error, device,
                                        saved == ENOENT ? HVK_ERROR_NOT_FOUND : HVK_ERROR_FAILED,
                                        "image %s: %s", path, g_strerror (saved));
        }
      if (!data->pcie && !g_str_has_prefix (data->machine_type, "pc"))
        return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                      "NVDIMM images need a pc or q35 machine, not %s",
                                      data->machine_type);
      hvk_opts_add (dev, "id", id);
      hvk_opts_add (dev, "memdev", memdev);
      hvk_opts_add (dev, "unarmed", "on");
      hvk_opts_add (object, "id", memdev);
      hvk_opts_add (object, "mem-path", path);
      hvk_opts_add_uint (object, "size", (guint64) st.st_size);
      hvk_opts_add (object, "readonly", "on");
      if (!hvk_cmdline_add_opts (cmdline, "-device", dev, error) ||
          !hvk_cmdline_add_opts (cmdline, "-object", object, error))
        return FALSE;
    }
  else
    {
      g_autoptr(HvkOpts) drive = hvk_opts_new (NULL);

      hvk_opts_add (drive, "id", id);
      hvk_opts_add (drive, "file", path);
      hvk_opts_add (drive, "aio", "threads");
      hvk_opts_add (drive, "format", "raw");
      hvk_opts_add (drive, "if", "none");
      hvk_opts_add (drive, "readonly", "on");
      if (!add_virtio_blk (cmdline, device, NULL, TRUE, error) ||
          !hvk_cmdline_add_opts (cmdline, "-drive", drive, error))
        return FALSE;
    }

  for (guint i = 0; i < root_params->len; i++)
    {
      HvkParam *param = g_ptr_array_index (root_params, i);

      hvk_build_context_add_kernel_param (ctx, param->key, param->value);
    }
  return TRUE;
}

/* virtio-scsi-pci: the bus of block devices when
 * block_device_driver=virtio-scsi, optionally served by an I/O thread. */
static gboolean
append_scsi_controller (HvkBuildContext  *ctx,
                        HvkDevice        *device,
                        HvkCmdline       *cmdline,
                        gpointer          user_data,
                        GError          **error)
{
  HvkQemuBuildData *data = begin_device (ctx, device, error);
  const char *iothread = hvk_qemu_device_string (device, "iothread", NULL);
  g_autoptr(HvkOpts) opts = hvk_opts_new ("virtio-scsi-pci");

  if (data == NULL)
    return FALSE;
  if (data->layout->scsi_controller != NULL)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "there is already a SCSI controller, '%s'",
                                  data->layout->scsi_controller);
  hvk_opts_add (opts, "id", hvk_device_get_id (device));
  hvk_opts_add (opts, "disable-modern", "false");
  if (iothread != NULL)
    hvk_opts_add (opts, "iothread", iothread);
  if (!hvk_cmdline_add_opts (cmdline, "-device", opts, error))
    return FALSE;
  /* The builder emits the -object iothread in its place in the order. */
  data->layout->scsi_controller = g_strdup (hvk_device_get_id (device));
  g_free (data->layout->iothread);
  data->layout->iothread = g_strdup (iothread);
  return TRUE;
}

/* pvpanic (guest_memory_dump_path): QEMU stops instead of exiting on a
 * guest panic, so that the memory can be dumped. */
static gboolean
append_pvpanic (HvkBuildContext  *ctx,
                HvkDevice        *device,
                HvkCmdline       *cmdline,
                gpointer          user_data,
                GError          **error)
{
  g_autoptr(HvkOpts) opts = hvk_opts_new ("pvpanic");

  if (begin_device (ctx, device, error) == NULL)
    return FALSE;
  hvk_opts_add (opts, "id", hvk_device_get_id (device));
  if (!hvk_cmdline_add_opts (cmdline, "-device", opts, error))
    return FALSE;
  if (hvk_qemu_device_boolean (device, TRUE, "no_shutdown", NULL))
    return hvk_cmdline_add_arg (cmdline, "-no-shutdown", error);
  return TRUE;
}

/* intel-iommu (enable_iommu); the builder splits the irqchip. */
static gboolean
append_iommu (HvkBuildContext  *ctx,
              HvkDevice        *device,
              HvkCmdline       *cmdline,
              gpointer          user_data,
              GError          **error)
{
  HvkQemuBuildData *data = begin_device (ctx, device, error);
  g_autoptr(HvkOpts) opts = hvk_opts_new ("intel-iommu");

  if (data == NULL)
    return FALSE;
  if (!data->pcie)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "intel-iommu needs machine_type=q35, not %s",
                                  data->machine_type);
  hvk_opts_add (opts, "id", hvk_device_get_id (device));
  hvk_opts_add_bool (opts, "intremap", hvk_qemu_device_boolean (device, TRUE, "intremap", NULL));
  hvk_opts_add_bool (opts, "device-iotlb",
                     hvk_qemu_device_boolean (device, TRUE, "device_iotlb", NULL));
  hvk_opts_add_bool (opts, "caching-mode",
                     hvk_qemu_device_boolean (device, TRUE, "caching_mode", NULL));
  return hvk_cmdline_add_opts (cmdline, "-device", opts, error);
}

/* ---- standard kinds ---- */

/* virtio-serial-pci serial0, once: the bus of virtconsole and
 * virtserialport. */
static gboolean
ensure_virtio_serial (HvkQemuBuildData  *data,
                      HvkCmdline        *cmdline,
                      GError           **error)
{
  g_autoptr(HvkOpts) opts = NULL;

  if (data->virtio_serial)
    return TRUE;
  opts = hvk_opts_new ("virtio-serial-pci");
  hvk_opts_add (opts, "disable-modern", "false");
  hvk_opts_add (opts, "id", "serial0");
  if (!hvk_cmdline_add_opts (cmdline, "-device", opts, error))
    return FALSE;
  data->virtio_serial = TRUE;
  return TRUE;
}

/* The host side of a console: a server socket (default), a pty, stdio,
 * a tty or a file. */
static gboolean
add_console_chardev (HvkCmdline  *cmdline,
                     HvkDevice   *device,
                     const char  *backend,
                     const char  *chardev_id,
                     const char  *path,
                     GError     **error)
{
  g_autoptr(HvkOpts) opts = NULL;

  if (g_str_equal (backend, "socket") || g_str_equal (backend, "serial"))
    return hvk_qemu_add_chardev_socket (cmdline, device, chardev_id, path, TRUE, error);

  opts = hvk_opts_new (backend);
  hvk_opts_add (opts, "id", chardev_id);
  if (g_str_equal (backend, "tty") || g_str_equal (backend, "file"))
    {
      if (path == NULL)
        return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                      "a %s console needs a path", backend);
      hvk_opts_add (opts, "path", path);
    }
  else if (!g_str_equal (backend, "pty") && !g_str_equal (backend, "stdio"))
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "console backend '%s' is not socket, pty, tty, file, "
                                  "stdio or serial", backend);
  return hvk_cmdline_add_opts (cmdline, "-chardev", opts, error);
}

/* The guest console: virtconsole on virtio-serial (console=hvc0
 * console=hvc1), or with backend=serial the legacy COM1 (console=ttyS0). */
static gboolean
append_console (HvkBuildContext  *ctx,
                HvkDevice        *device,
                HvkCmdline       *cmdline,
                gpointer          user_data,
                GError          **error)
{
  HvkQemuBuildData *data = begin_device (ctx, device, error);
  const char *backend = hvk_qemu_device_string (device, "backend", NULL);
  const char *path = hvk_qemu_device_string (device, "path", NULL);
  const char *name = hvk_qemu_device_string (device, "name", NULL);
  g_autofree char *chardev = NULL;

  if (data == NULL)
    return FALSE;
  if (backend == NULL)
    backend = "socket";
  chardev = g_strdup_printf ("char%s", hvk_device_get_id (device));

  if (g_str_equal (backend, "serial"))
    {
      g_autofree char *serial = g_strdup_printf ("chardev:%s", chardev);

      if (!hvk_cmdline_add_option (cmdline, "-serial", serial, error) ||
          !add_console_chardev (cmdline, device, backend, chardev, path, error))
        return FALSE;
      hvk_build_context_add_kernel_param (ctx, "console", "ttyS0");
      return TRUE;
    }
  else
    {
      gboolean first = !data->virtio_serial;
      g_autoptr(HvkOpts) opts = hvk_opts_new ("virtconsole");

      if (!ensure_virtio_serial (data, cmdline, error))
        return FALSE;
      hvk_opts_add (opts, "chardev", chardev);
      hvk_opts_add (opts, "id", hvk_device_get_id (device));
      if (name != NULL)
        hvk_opts_add (opts, "name", name);
      if (!hvk_cmdline_add_opts (cmdline, "-device", opts, error) ||
          !add_console_chardev (cmdline, device, backend, chardev, path, error))
        return FALSE;
      if (first)
        {
          hvk_build_context_add_kernel_param (ctx, "console", "hvc0");
          hvk_build_context_add_kernel_param (ctx, "console", "hvc1");
        }
      return TRUE;
    }
}

/* A virtserialport on a server socket (an agent channel, say). */
static gboolean
append_serial_socket (HvkBuildContext  *ctx,
                      HvkDevice        *device,
                      HvkCmdline       *cmdline,
                      gpointer          user_data,
                      GError          **error)
{
  HvkQemuBuildData *data = begin_device (ctx, device, error);
  g_autofree char *chardev = char_id (device);
  g_autoptr(HvkOpts) opts = hvk_opts_new ("virtserialport");
  const char *name = hvk_qemu_device_string (device, "name", NULL);

  if (data == NULL)
    return FALSE;
  if (name == NULL)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT, "no port name");
  if (!ensure_virtio_serial (data, cmdline, error))
    return FALSE;
  hvk_opts_add (opts, "chardev", chardev);
  hvk_opts_add (opts, "id", hvk_device_get_id (device));
  hvk_opts_add (opts, "name", name);
  return hvk_cmdline_add_opts (cmdline, "-device", opts, error) &&
         hvk_qemu_add_chardev_socket (cmdline, device, chardev,
                                      hvk_qemu_device_string (device, "path", NULL),
                                      TRUE, error);
}

/* rootless: hvkit opens the disk and QEMU gets the descriptors in an fdset
 * (-add-fd fd=N,set=S,opaque=ID-rw|ID-ro), opening /dev/fdset/S: the
 * unprivileged QEMU needs no access to the host path.  A writable disk
 * passes a read-write and a read-only descriptor: QEMU's file driver
 * dups the one whose access mode it asks for (it opens read-only first). */
static gboolean
add_block_fdset (HvkQemuBuildData  *data,
                 HvkCmdline        *cmdline,
                 HvkQemuBlock      *block,
                 GError           **error)
{
  int fds[2];
  guint set = ++data->n_fdsets;

  if (!hvk_qemu_identity_open_image (block->id, block->path, block->readonly,
                                     &fds[0], &fds[1], error))
    return FALSE;
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(HvkOpts) opts = NULL;
      int child_fd;

      if (fds[i] < 0)
        continue;
      child_fd = hvk_cmdline_take_fd (cmdline, fds[i]);
      fds[i] = -1;
      opts = hvk_opts_new (NULL);
      hvk_opts_add_printf (opts, "fd", "%d", child_fd);
      hvk_opts_add_printf (opts, "set", "%u", set);
      hvk_opts_add_printf (opts, "opaque", "%s-%s", block->id, i == 0 ? "rw" : "ro");
      if (!hvk_cmdline_add_opts (cmdline, "-add-fd", opts, error))
        {
          if (i == 0 && fds[1] >= 0)
            close (fds[1]);
          return FALSE;
        }
    }
  block->fdset = set;
  block->has_fdset = TRUE;
  return TRUE;
}

/* A disk: virtio-blk-pci, or scsi-hd on scsi0 with virtio-scsi; its
 * properties are hotplug's too (hvk-qemu-device-props.c). */
static gboolean
append_block (HvkBuildContext  *ctx,
              HvkDevice        *device,
              HvkCmdline       *cmdline,
              gpointer          user_data,
              GError          **error)
{
  HvkQemuBuildData *data = begin_device (ctx, device, error);
  HvkQemuBlock block;
  HvkQemuPlace place = { NULL, -1, -1 };
  g_autofree char *bus = NULL;
  g_autoptr(HvkOpts) drive = NULL;
  g_autoptr(HvkOpts) dev = NULL;

  if (data == NULL)
    return FALSE;
  if (!hvk_qemu_block_resolve (device, data->settings, &block, error))
    return FALSE;

  if (hvk_qemu_block_is_scsi (&block))
    {
      if (data->layout->scsi_controller == NULL)
        return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                      "virtio-scsi needs a SCSI controller: set "
                                      "block_device_driver=virtio-scsi in the configuration");
      if (data->n_scsi_disks > 255)
        return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                      "no free LUN on %s", data->layout->scsi_controller);
      bus = g_strdup_printf ("%s.0", data->layout->scsi_controller);
      place.bus = bus;
      place.lun = (int) data->n_scsi_disks;
    }
  if (data->settings->rootless && !add_block_fdset (data, cmdline, &block, error))
    return FALSE;
  /* A throttled disk is given as hotplug gives it: its group, then the
   * throttle node over the format node (-blockdev). */
  if (block.throttled && !hvk_qemu_block_probe (&block, error))
    return FALSE;
  if (!hvk_qemu_block_props (&block, block.throttled ? HVK_QEMU_BLOCK_BLOCKDEV : HVK_QEMU_BLOCK_DRIVE,
                             &place, &drive, &dev, error))
    return FALSE;
  if (!hvk_cmdline_add_opts (cmdline, "-device", dev, error))
    return FALSE;
  if (bus != NULL)
    {
      /* Hotplug numbers its LUNs after these. */
      hvk_qemu_layout_add_cold_slot (data->layout, bus, data->n_scsi_disks);
      data->n_scsi_disks++;
    }
  if (block.throttled)
    {
      g_autoptr(HvkOpts) group = hvk_qemu_block_throttle_group_props (&block);
      gboolean is_new = TRUE;

      /* A shared group once, before its first -blockdev. */
      if (!hvk_qemu_throttle_groups_join (data->throttle_groups, &block, &is_new, error))
        return FALSE;
      return (!is_new || hvk_cmdline_add_opts (cmdline, "-object", group, error))
             && hvk_cmdline_add_opts (cmdline, "-blockdev", drive, error);
    }
  return hvk_cmdline_add_opts (cmdline, "-drive", drive, error);
}

/* vhost-vsock-pci with the guest's context id. */
static gboolean
append_vsock (HvkBuildContext  *ctx,
              HvkDevice        *device,
              HvkCmdline       *cmdline,
              gpointer          user_data,
              GError          **error)
{
  g_autoptr(HvkOpts) opts = hvk_opts_new ("vhost-vsock-pci");
  guint64 cid = hvk_qemu_device_uint (device, 0, "cid", NULL);
  gint64 vhost_fd = -1;

  if (begin_device (ctx, device, error) == NULL)
    return FALSE;
  /* 0-2 are the hypervisor, reserved and the host. */
  if (cid < 3 || cid > G_MAXUINT32)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "cid %" G_GUINT64_FORMAT " is not within 3..4294967295", cid);
  hvk_opts_add (opts, "id", hvk_device_get_id (device));
  hvk_opts_add_uint (opts, "guest-cid", cid);
  if (hvk_qemu_device_has (device, "vhost_fd", NULL))
    vhost_fd = hvk_device_get_int (device, "vhost_fd");
  if (vhost_fd >= 0)
    {
      g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, vhost_fd);
      int child = hvk_qemu_take_fd_copy (cmdline, device, "vhost_fd", text, error);

      if (child < 0)
        return FALSE;
      hvk_opts_add_printf (opts, "vhostfd", "%d", child);
    }
  return hvk_cmdline_add_opts (cmdline, "-device", opts, error);
}

/* A shared directory: virtio-9p with a local fsdev, or virtio-fs through
 * virtiofsd's vhost-user socket. */
static gboolean
append_fs (HvkBuildContext  *ctx,
           HvkDevice        *device,
           HvkCmdline       *cmdline,
           gpointer          user_data,
           GError          **error)
{
  HvkQemuBuildData *data = begin_device (ctx, device, error);
  const char *id = hvk_device_get_id (device);
  const char *driver = hvk_qemu_device_string (device, "driver", NULL);
  const char *tag = hvk_qemu_device_string (device, "tag", NULL);
  const char *path = hvk_qemu_device_string (device, "path", NULL);

  if (data == NULL)
    return FALSE;
  if (driver == NULL)
    driver = "virtio-fs";
  if (tag == NULL)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT, "no mount tag");

  if (g_str_equal (driver, "virtio-9p"))
    {
      g_autoptr(HvkOpts) dev = hvk_opts_new ("virtio-9p-pci");
      g_autoptr(HvkOpts) fsdev = hvk_opts_new ("local");
      const char *model = hvk_qemu_device_string (device, "security_model", NULL);

      if (path == NULL)
        return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT, "no path");
      hvk_opts_add (dev, "id", id);
      hvk_opts_add (dev, "fsdev", id);
      hvk_opts_add (dev, "mount_tag", tag);
      hvk_opts_add (fsdev, "id", id);
      hvk_opts_add (fsdev, "path", path);
      hvk_opts_add (fsdev, "security_model", model != NULL ? model : "none");
      /* Files of several host file systems keep distinct inode numbers. */
      hvk_opts_add (fsdev, "multidevs", "remap");
      return hvk_cmdline_add_opts (cmdline, "-device", dev, error) &&
             hvk_cmdline_add_opts (cmdline, "-fsdev", fsdev, error);
    }
  else if (g_str_equal (driver, "virtio-fs"))
    {
      g_autoptr(HvkOpts) dev = hvk_opts_new ("vhost-user-fs-pci");
      g_autofree char *chardev = char_id (device);
      const char *socket = hvk_qemu_device_string (device, "socket", NULL);
      guint64 queue_size, cache_size;

      /* vhost-user maps guest RAM into virtiofsd. */
      if (!data->mem_shared)
        return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                      "virtio-fs needs shared guest memory: set "
                                      "shared_fs=virtio-fs (or file_mem_backend)");
      if (socket == NULL)
        socket = data->paths->virtiofsd_socket;
      queue_size = hvk_qemu_device_has (device, "queue_size", NULL)
                   ? hvk_qemu_device_uint (device, 1024, "queue_size", NULL)
                   : data->settings->virtio_fs_queue_size;
      cache_size = hvk_qemu_device_has (device, "cache_size", NULL)
                   ? hvk_qemu_device_uint (device, 0, "cache_size", NULL)
                   : data->settings->virtio_fs_cache_size;
      if (queue_size == 0 || (queue_size & (queue_size - 1)) != 0 || queue_size > 1024)
        return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                      "queue size %" G_GUINT64_FORMAT
                                      " is not a power of two up to 1024", queue_size);
      /* Kata's QEMU fork has a DAX window (cache-size=); upstream QEMU's
       * vhost-user-fs-pci has no such property and refuses it. */
      if (cache_size > 0)
        return hvk_qemu_device_error (error, device, HVK_ERROR_NOT_SUPPORTED,
                                      "a virtio-fs DAX window (cache_size or "
                                      "virtio_fs_cache_size) needs a QEMU with DAX support; "
                                      "upstream QEMU's vhost-user-fs-pci has none");
      if (!hvk_qemu_add_chardev_socket (cmdline, device, chardev, socket, FALSE, error))
        return FALSE;
      hvk_opts_add (dev, "id", id);
      hvk_opts_add (dev, "chardev", chardev);
      hvk_opts_add (dev, "tag", tag);
      hvk_opts_add_uint (dev, "queue-size", queue_size);
      return hvk_cmdline_add_opts (cmdline, "-device", dev, error);
    }
  return hvk_qemu_device_error (error, device, HVK_ERROR_NOT_SUPPORTED,
                                "fs driver '%s' is not virtio-fs or virtio-9p", driver);
}

/* vfio-pci by host address, optionally on a given bus (a root port);
 * its properties are hotplug's too (hvk-qemu-device-props.c). */
static gboolean
append_vfio (HvkBuildContext  *ctx,
             HvkDevice        *device,
             HvkCmdline       *cmdline,
             gpointer          user_data,
             GError          **error)
{
  HvkQemuBuildData *data = begin_device (ctx, device, error);
  const char *bus = hvk_qemu_device_string (device, "bus", NULL);
  g_autoptr(HvkOpts) opts = NULL;

  if (data == NULL || !hvk_qemu_vfio_props (device, NULL, &opts, error))
    return FALSE;
  if (!hvk_cmdline_add_opts (cmdline, "-device", opts, error))
    return FALSE;
  /* A root port holds one device: hotplug must not pick it. */
  if (bus != NULL && g_ptr_array_find_with_equal_func (data->layout->root_ports, bus,
                                                       g_str_equal, NULL))
    hvk_qemu_layout_add_cold_slot (data->layout, bus, -1);
  return TRUE;
}

/* virtio-rng-pci on an rng-random object. */
static gboolean
append_rng (HvkBuildContext  *ctx,
            HvkDevice        *device,
            HvkCmdline       *cmdline,
            gpointer          user_data,
            GError          **error)
{
  HvkConfig *config = hvk_build_context_get_config (ctx);
  HvkQemuBuildData *data;
  const char *id = hvk_device_get_id (device);
  const char *filename = hvk_qemu_device_string (device, "filename", NULL);
  guint64 max_bytes = hvk_qemu_device_uint (device, 0, "max_bytes", NULL);
  guint64 period = hvk_qemu_device_uint (device, 0, "period", NULL);
  g_autoptr(HvkOpts) object = hvk_opts_new ("rng-random");
  g_autoptr(HvkOpts) dev = hvk_opts_new ("virtio-rng-pci");

  data = begin_device (ctx, device, error);
  if (data == NULL)
    return FALSE;
  if (filename == NULL)
    filename = data->settings->entropy_source;
  /* A device's own source obeys the config's allow-list too. */
  else if (!hvk_qemu_check_allowed (config, "filename", "valid_entropy_sources",
                                    (const char * const *) data->settings->valid_entropy_sources,
                                    filename, error))
    {
      g_prefix_error (error, "backend qemu: device '%s' (%s): ", id, hvk_device_get_kind_name (device));
      return FALSE;
    }
  if (period > 0 && max_bytes == 0)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "period needs max_bytes");
  hvk_opts_add (object, "id", id);
  if (filename != NULL)
    hvk_opts_add (object, "filename", filename);
  hvk_opts_add (dev, "id", id);
  hvk_opts_add (dev, "rng", id);
  if (max_bytes > 0)
    hvk_opts_add_uint (dev, "max-bytes", max_bytes);
  if (period > 0)
    hvk_opts_add_uint (dev, "period", period);
  return hvk_cmdline_add_opts (cmdline, "-object", object, error) &&
         hvk_cmdline_add_opts (cmdline, "-device", dev, error);
}

/* Cold-plugged memory: a pc-dimm in one of the -m slots. */
static gboolean
append_memory (HvkBuildContext  *ctx,
               HvkDevice        *device,
               HvkCmdline       *cmdline,
               gpointer          user_data,
               GError          **error)
{
  HvkQemuBuildData *data = begin_device (ctx, device, error);
  guint64 size_mb = hvk_qemu_device_uint (device, 0, "size_mb", NULL);
  const char *id = hvk_device_get_id (device);
  g_autofree char *memdev = g_strdup_printf ("mem-%s", id);
  g_autoptr(HvkOpts) object = hvk_opts_new ("memory-backend-ram");
  g_autoptr(HvkOpts) dev = hvk_opts_new ("pc-dimm");

  if (data == NULL)
    return FALSE;
  if (size_mb == 0)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT, "size_mb is 0");
  /* virtio-mem takes all the room above the boot memory. */
  if (data->settings->enable_virtio_mem)
    return hvk_qemu_device_error (error, device, HVK_ERROR_NOT_SUPPORTED,
                                  "a pc-dimm with enable_virtio_mem=true: the virtio-mem "
                                  "device holds all memory above default_memory");
  if (data->n_dimms >= data->layout->memory_slots)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "no free memory slot (memory_slots=%u)",
                                  data->layout->memory_slots);
  if (data->layout->boot_memory_mb + data->dimm_memory_mb + size_mb > data->layout->max_memory_mb)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "%" G_GUINT64_FORMAT " MiB more exceeds the maximum of %u MiB",
                                  size_mb, data->layout->max_memory_mb);
  hvk_opts_add (object, "id", memdev);
  hvk_opts_add_printf (object, "size", "%" G_GUINT64_FORMAT "M", size_mb);
  if (data->mem_shared)
    hvk_opts_add (object, "share", "on");
  hvk_opts_add (dev, "id", id);
  hvk_opts_add (dev, "memdev", memdev);
  if (!hvk_cmdline_add_opts (cmdline, "-object", object, error) ||
      !hvk_cmdline_add_opts (cmdline, "-device", dev, error))
    return FALSE;
  data->n_dimms++;
  data->dimm_memory_mb += size_mb;
  return TRUE;
}

/* Boot vCPUs are -smp's business (default_vcpus); extra ones are
 * hot-added with resize_vcpus, so a cold-plugged cpu device is refused
 * rather than silently folded into a different topology. */
static gboolean
append_cpu (HvkBuildContext  *ctx,
            HvkDevice        *device,
            HvkCmdline       *cmdline,
            gpointer          user_data,
            GError          **error)
{
  return hvk_qemu_device_error (error, device, HVK_ERROR_NOT_SUPPORTED,
                                "cold-plugged vCPUs are not supported: set default_vcpus, "
                                "or hot-add them with resize_vcpus");
}

static const struct {
  const char          *kind;
  HvkDeviceAppendFunc  func;
} appenders[] = {
  { HVK_QEMU_KIND_BRIDGE, append_bridge },
  { HVK_QEMU_KIND_ROOT_PORT, append_root_port },
  { HVK_QEMU_KIND_IMAGE, append_image },
  { HVK_QEMU_KIND_SCSI_CONTROLLER, append_scsi_controller },
  { HVK_QEMU_KIND_PVPANIC, append_pvpanic },
  { HVK_QEMU_KIND_IOMMU, append_iommu },
  { HVK_DEVICE_KIND_CONSOLE, append_console },
  { HVK_DEVICE_KIND_SERIAL_SOCKET, append_serial_socket },
  { HVK_DEVICE_KIND_BLOCK, append_block },
  { HVK_DEVICE_KIND_VSOCK, append_vsock },
  { HVK_DEVICE_KIND_FS, append_fs },
  { HVK_DEVICE_KIND_VFIO, append_vfio },
  { HVK_DEVICE_KIND_RNG, append_rng },
  { HVK_DEVICE_KIND_MEMORY, append_memory },
  { HVK_DEVICE_KIND_CPU, append_cpu },
};

gboolean
hvk_qemu_register_appenders (HvkPlugin  *plugin,
                             GError    **error)
{
  if (!hvk_qemu_register_device_kinds (plugin, error))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (appenders); i++)
    if (!hvk_plugin_register_device_appender (plugin, HVK_QEMU_BACKEND_NAME, appenders[i].kind,
                                              0, appenders[i].func, NULL, error))
      return FALSE;
  /* Hotplug of the same kinds, sharing their props builders. */
  return hvk_qemu_register_net_appenders (plugin, error) &&
         hvk_qemu_register_memory_appenders (plugin, error) &&
         hvk_qemu_register_hotplug_handlers (plugin, error);
}
