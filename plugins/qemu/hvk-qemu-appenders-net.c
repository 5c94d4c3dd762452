/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

#include "hvk-qemu-appenders-common.h"

/*
 * Network interfaces: a virtio-net-pci front end on a tap netdev (an
 * interface name, or descriptors for multiqueue and vhost-net), a macvtap
 * (always descriptors), or a vhost-user socket.
 */

/* Takes a copy of each descriptor and returns QEMU's numbers, `3:4`. */
static char *
take_fd_list (HvkCmdline          *cmdline,
              HvkDevice           *device,
              const char          *what,
              const char * const  *fds,
              GError             **error)
{
  g_autoptr(GString) list = g_string_new (NULL);

  for (guint i = 0; fds != NULL && fds[i] != NULL; i++)
    {
      int child = hvk_qemu_take_fd_copy (cmdline, device, what, fds[i], error);

      if (child < 0)
        return NULL;
      if (list->len > 0)
        g_string_append_c (list, ':');
      g_string_append_printf (list, "%d", child);
    }
  return g_string_free (g_steal_pointer (&list), FALSE);
}

static gboolean
add_virtio_net (HvkCmdline  *cmdline,
                HvkDevice   *device,
                guint        n_queues,
                GError     **error)
{
  g_autoptr(HvkOpts) opts = hvk_opts_new (NULL);
  const char *id = hvk_device_get_id (device);
  const char *mac = hvk_qemu_device_string (device, "mac", NULL);

  hvk_opts_add (opts, "driver", "virtio-net-pci");
  hvk_opts_add (opts, "id", id);
  hvk_opts_add (opts, "netdev", id);
  if (mac != NULL)
    hvk_opts_add (opts, "mac", mac);
  /* One vector per queue in each direction, plus config and control. */
  if (n_queues > 0)
    {
      hvk_opts_add (opts, "mq", "on");
      hvk_opts_add_uint (opts, "vectors", 2 * (guint64) n_queues + 2);
    }
  return hvk_cmdline_add_opts (cmdline, "-device", opts, error);
}

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

static gboolean
check_mac (HvkDevice  *device,
           GError    **error)
{
  const char *mac = hvk_qemu_device_string (device, "mac", NULL);

  if (mac == NULL || is_mac_address (mac))
    return TRUE;
  return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                "mac '%s' is not a MAC address (xx:xx:xx:xx:xx:xx)", mac);
}

static gboolean
append_tap (HvkBuildContext  *ctx,
            HvkDevice        *device,
            HvkCmdline       *cmdline,
            const char       *type,
            GError          **error)
{
  HvkConfig *config = hvk_build_context_get_config (ctx);
  const char * const *fds = hvk_qemu_device_strv (device, "fds", NULL);
  const char * const *vhost_fds = hvk_qemu_device_strv (device, "vhost_fds", NULL);
  const char *ifname = hvk_qemu_device_string (device, "ifname", NULL);
  gboolean vhost = !hvk_qemu_config_boolean (config, "disable_vhost_net");
  guint n_fds = fds != NULL ? g_strv_length ((char **) fds) : 0;
  guint n_vhost_fds = vhost_fds != NULL ? g_strv_length ((char **) vhost_fds) : 0;
  g_autoptr(HvkOpts) netdev = hvk_opts_new ("tap");

  if (n_fds == 0 && g_str_equal (type, "macvtap"))
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "a macvtap interface needs the fds of its /dev/tapN");
  if (n_fds == 0 && ifname == NULL)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "a tap interface needs ifname or fds");
  if (n_vhost_fds > 0 && n_vhost_fds != n_fds)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "%u vhost_fds for %u fds: one per queue", n_vhost_fds, n_fds);
  if (n_vhost_fds > 0 && !vhost)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "vhost_fds given but disable_vhost_net is set");

  hvk_opts_add (netdev, "id", hvk_device_get_id (device));
  if (vhost)
    hvk_opts_add (netdev, "vhost", "on");
  if (n_fds > 0)
    {
      g_autofree char *list = take_fd_list (cmdline, device, "fds", fds, error);
      g_autofree char *vhost_list = NULL;

      if (list == NULL)
        return FALSE;
      if (n_vhost_fds > 0)
        {
          vhost_list = take_fd_list (cmdline, device, "vhost_fds", vhost_fds, error);
          if (vhost_list == NULL)
            return FALSE;
          hvk_opts_add (netdev, "vhostfds", vhost_list);
        }
      hvk_opts_add (netdev, "fds", list);
    }
  else
    {
      hvk_opts_add (netdev, "ifname", ifname);
      hvk_opts_add (netdev, "downscript", "no");
      hvk_opts_add (netdev, "script", "no");
    }

  return hvk_cmdline_add_opts (cmdline, "-netdev", netdev, error) &&
         add_virtio_net (cmdline, device, n_fds, error);
}

static gboolean
append_vhost_user (HvkBuildContext  *ctx,
                   HvkDevice        *device,
                   HvkCmdline       *cmdline,
                   GError          **error)
{
  HvkQemuBuildData *data = hvk_qemu_build_data (ctx, device, error);
  const char *socket = hvk_qemu_device_string (device, "socket", NULL);
  guint64 queues = hvk_qemu_device_uint (device, 1, "queues", NULL);
  g_autofree char *chardev = g_strdup_printf ("char-%s", hvk_device_get_id (device));
  g_autoptr(HvkOpts) netdev = hvk_opts_new (NULL);

  if (data == NULL)
    return FALSE;
  if (socket == NULL)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "a vhost-user interface needs its socket");
  /* The vhost-user back end maps guest RAM. */
  if (!data->mem_shared)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "vhost-user needs shared guest memory: set "
                                  "shared_fs=virtio-fs or file_mem_backend");
  if (queues == 0 || queues > 1024)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "queues %" G_GUINT64_FORMAT " is not within 1..1024", queues);
  if (!hvk_qemu_add_chardev_socket (cmdline, device, chardev, socket, FALSE, error))
    return FALSE;
  hvk_opts_add (netdev, "type", "vhost-user");
  hvk_opts_add (netdev, "id", hvk_device_get_id (device));
  hvk_opts_add (netdev, "chardev", chardev);
  hvk_opts_add (netdev, "vhostforce", "on");
  if (queues > 1)
    hvk_opts_add_uint (netdev, "queues", queues);
  return hvk_cmdline_add_opts (cmdline, "-netdev", netdev, error) &&
         add_virtio_net (cmdline, device, queues > 1 ? (guint) queues : 0, error);
}

static gboolean
append_net (HvkBuildContext  *ctx,
            HvkDevice        *device,
            HvkCmdline       *cmdline,
            gpointer          user_data,
            GError          **error)
{
  const char *type = hvk_qemu_device_string (device, "type", NULL);

  if (!hvk_qemu_check_device_id (device, error) ||
      hvk_qemu_build_data (ctx, device, error) == NULL ||
      !check_mac (device, error))
    return FALSE;
  if (type == NULL)
    type = "tap";
  if (g_str_equal (type, "tap") || g_str_equal (type, "macvtap"))
    return append_tap (ctx, device, cmdline, type, error);
  if (g_str_equal (type, "vhost-user"))
    return append_vhost_user (ctx, device, cmdline, error);
  return hvk_qemu_device_error (error, device, HVK_ERROR_NOT_SUPPORTED,
                                "net type '%s' is not tap, macvtap or vhost-user", type);
}

gboolean
hvk_qemu_register_net_appenders (HvkPlugin  *plugin,
                                 GError    **error)
{
  return hvk_plugin_register_device_appender (plugin, HVK_QEMU_BACKEND_NAME,
                                              HVK_DEVICE_KIND_NET, 0, append_net, NULL, error);
}
