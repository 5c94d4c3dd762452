/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

#include "hvk-qemu-appenders-common.h"
#include "hvk-qemu-device-props.h"

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
add_virtio_net (HvkCmdline        *cmdline,
                const HvkQemuNet  *net,
                guint              n_queues,
                GError           **error)
{
  g_autoptr(HvkOpts) opts = hvk_qemu_net_device_props (net, net->id, n_queues, NULL);

  return hvk_cmdline_add_opts (cmdline, "-device", opts, error);
}

static gboolean
append_tap (HvkDevice         *device,
            const HvkQemuNet  *net,
            HvkCmdline        *cmdline,
            GError           **error)
{
  g_autofree char *list = NULL;
  g_autofree char *vhost_list = NULL;
  g_autoptr(HvkOpts) netdev = NULL;

  if (net->n_fds > 0)
    {
      list = take_fd_list (cmdline, device, "fds", net->fds, error);
      if (list == NULL)
        return FALSE;
      if (net->n_vhost_fds > 0)
        {
          vhost_list = take_fd_list (cmdline, device, "vhost_fds", net->vhost_fds, error);
          if (vhost_list == NULL)
            return FALSE;
        }
    }
  hvk_qemu_net_tap_props (net, HVK_QEMU_BLOCK_DRIVE, list, vhost_list, &netdev);
  return hvk_cmdline_add_opts (cmdline, "-netdev", netdev, error) &&
         add_virtio_net (cmdline, net, net->n_fds, error);
}

static gboolean
append_vhost_user (HvkQemuBuildData  *data,
                   HvkDevice         *device,
                   const HvkQemuNet  *net,
                   HvkCmdline        *cmdline,
                   GError           **error)
{
  g_autofree char *chardev = g_strdup_printf ("char-%s", net->id);
  g_autoptr(HvkOpts) netdev = hvk_opts_new (NULL);

  /* The vhost-user back end maps guest RAM. */
  if (!data->mem_shared)
    return hvk_qemu_device_error (error, device, HVK_ERROR_INVALID_ARGUMENT,
                                  "vhost-user needs shared guest memory: set "
                                  "shared_fs=virtio-fs or file_mem_backend");
  if (!hvk_qemu_add_chardev_socket (cmdline, device, chardev, net->socket, FALSE, error))
    return FALSE;
  hvk_opts_add (netdev, "type", "vhost-user");
  hvk_opts_add (netdev, "id", net->id);
  hvk_opts_add (netdev, "chardev", chardev);
  hvk_opts_add (netdev, "vhostforce", "on");
  if (net->queues > 1)
    hvk_opts_add_uint (netdev, "queues", net->queues);
  return hvk_cmdline_add_opts (cmdline, "-netdev", netdev, error) &&
         add_virtio_net (cmdline, net, net->queues > 1 ? (guint) net->queues : 0, error);
}

/* Its properties are hotplug's too (hvk-qemu-device-props.c). */
static gboolean
append_net (HvkBuildContext  *ctx,
            HvkDevice        *device,
            HvkCmdline       *cmdline,
            gpointer          user_data,
            GError          **error)
{
  HvkQemuBuildData *data;
  HvkQemuNet net;

  if (!hvk_qemu_check_device_id (device, error))
    return FALSE;
  data = hvk_qemu_build_data (ctx, device, error);
  if (data == NULL || !hvk_qemu_net_resolve (device, data->settings, &net, error))
    return FALSE;
  if (g_str_equal (net.type, "vhost-user"))
    return append_vhost_user (data, device, &net, cmdline, error);
  return append_tap (device, &net, cmdline, error);
}

gboolean
hvk_qemu_register_net_appenders (HvkPlugin  *plugin,
                                 GError    **error)
{
  return hvk_plugin_register_device_appender (plugin, HVK_QEMU_BACKEND_NAME,
                                              HVK_DEVICE_KIND_NET, 0, append_net, NULL, error);
}
