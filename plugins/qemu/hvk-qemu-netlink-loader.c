/* SPDX-License-Identifier: Apache-2.0 */
/* The network rate limits (hvk-qemu-tap-limit.h) as the QEMU plugin sees
 * them: the first call loads the netlink module (hvk-qemu-netlink.h) from
 * $HVKIT_QEMU_NETLINK_MODULE, else netlink/ beside the plugin's own file
 * (the build tree and an installation alike), else the installed plugin
 * directory; each call goes through its table. */
#define _GNU_SOURCE 1   /* dladdr() */
#include "config.h"

#include <hvkit/hvkit.h>
#include <gmodule.h>
#include <dlfcn.h>

#include "hvk-qemu-netlink.h"

typedef struct {
  const HvkQemuNetlinkOps *ops;
  char *error;   /* why the module could not be loaded */
} Loaded;

static char *
module_beside_plugin (void)
{
  Dl_info info;
  g_autofree char *dir = NULL;

  if (dladdr ((const void *) module_beside_plugin, &info) == 0 || info.dli_fname == NULL)
    return NULL;
  dir = g_path_get_dirname (info.dli_fname);
  return g_build_filename (dir, "netlink", HVK_QEMU_NETLINK_MODULE, NULL);
}

static Loaded *
load (void)
{
  static Loaded loaded;
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      const char *env = g_getenv ("HVKIT_QEMU_NETLINK_MODULE");
      g_autofree char *beside = module_beside_plugin ();
      g_autofree char *installed = g_build_filename (HVK_PLUGINSDIR, "netlink",
                                                     HVK_QEMU_NETLINK_MODULE, NULL);
      const char *path = env != NULL && *env != '\0' ? env
                         : beside != NULL && g_file_test (beside, G_FILE_TEST_EXISTS) ? beside
                         : installed;
      GModule *module = g_module_open (path, G_MODULE_BIND_LOCAL);
      gpointer symbol = NULL;

      if (module == NULL)
        loaded.error = g_strdup_printf ("cannot load %s: %s", path, g_module_error ());
      else if (!g_module_symbol (module, HVK_QEMU_NETLINK_SYMBOL, &symbol) || symbol == NULL
               || ((const HvkQemuNetlinkOps *) symbol)->abi != HVK_QEMU_NETLINK_ABI)
        {
          loaded.error = g_strdup_printf ("%s is not hvkit's netlink module of this version", path);
          g_module_close (module);
        }
      else
        {
          /* Kept for the process's life, as plugins are. */
          g_module_make_resident (module);
          loaded.ops = symbol;
        }
      g_once_init_leave (&done, 1);
    }
  return &loaded;
}

static const HvkQemuNetlinkOps *
ops (GError **error)
{
  Loaded *loaded = load ();

  if (loaded->ops == NULL)
    g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                 "network rate limits need the QEMU backend's netlink module: %s",
                 loaded->error);
  return loaded->ops;
}

gboolean
hvk_tap_limit_apply (const char        *ifname,
                     const HvkTapLimit *limit,
                     GError           **error)
{
  const HvkQemuNetlinkOps *o = ops (error);

  return o != NULL && o->tap_limit_apply (ifname, limit, error);
}

gboolean
hvk_tap_limit_read (const char  *ifname,
                    HvkTapLimit *limit,
                    GError     **error)
{
  const HvkQemuNetlinkOps *o = ops (error);

  return o != NULL && o->tap_limit_read (ifname, limit, error);
}

gboolean
hvk_tap_limit_clear (const char *ifname,
                     GError    **error)
{
  const HvkQemuNetlinkOps *o = ops (error);

  return o != NULL && o->tap_limit_clear (ifname, error);
}

char *
hvk_tap_limit_ifb_name (const char *ifname)
{
  g_autoptr(GError) error = NULL;
  const HvkQemuNetlinkOps *o = ops (&error);

  if (o == NULL)
    {
      g_warning ("%s", error->message);
      return NULL;
    }
  return o->tap_limit_ifb_name (ifname);
}
