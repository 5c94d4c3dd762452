/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

#include "hvk-acrn-private.h"

/*
 * Device appenders of the "acrn" backend: each turns one device into
 * acrn-dm's `-s SLOT,EMULATION,CONFIG` form (Kata's AcrnParams methods in
 * acrn_arch_base.go).  Slots are handed out in device order from 0, slot 2
 * always skipped (GVT-g).
 *
 * acrn-dm splits its device options on `,` and has no escape for it, so a
 * value containing a comma is refused here rather than escaped.
 */

/* ---- layout ---- */

HvkAcrnLayout *
hvk_acrn_layout_new (void)
{
  HvkAcrnLayout *layout = g_new0 (HvkAcrnLayout, 1);

  for (guint i = 0; i < G_N_ELEMENTS (layout->blk_slots); i++)
    layout->blk_slots[i] = -1;
  return layout;
}

void
hvk_acrn_layout_free (HvkAcrnLayout *layout)
{
  g_free (layout);
}

HvkAcrnLayout *
hvk_acrn_layout_copy (const HvkAcrnLayout *layout)
{
  return g_memdup2 (layout, sizeof *layout);
}

gboolean
hvk_acrn_layout_take_slot (HvkAcrnLayout *layout,
                           HvkDevice     *device,
                           guint         *slot,
                           GError       **error)
{
  /* Slot 2 is assigned to GVT-g in acrn-dm. */
  if (layout->next_slot == HVK_ACRN_GVTG_SLOT)
    layout->next_slot++;

  if (layout->next_slot > HVK_ACRN_MAX_SLOT)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "No free PCI slot for device '%s' (kind %s): acrn-dm has "
                   "slots 0..%d and slot %d is reserved for GVT-g",
                   hvk_device_get_id (device), hvk_device_get_kind_name (device),
                   HVK_ACRN_MAX_SLOT, HVK_ACRN_GVTG_SLOT);
      return FALSE;
    }

  *slot = layout->next_slot++;
  return TRUE;
}

HvkAcrnLayout *
hvk_acrn_build_context_get_layout (HvkBuildContext *ctx)
{
  HvkAcrnLayout *layout = hvk_build_context_get_backend_data (ctx);

  if (layout == NULL)
    {
      layout = hvk_acrn_layout_new ();
      hvk_build_context_set_backend_data (ctx, layout,
                                          (GDestroyNotify) hvk_acrn_layout_free);
    }
  return layout;
}

/* ---- property helpers ---- */

static const char *
device_string (HvkDevice  *device,
               const char *prop)
{
  const char *value;

  if (hvk_device_kind_lookup_prop (hvk_device_get_kind (device), prop) == NULL)
    return NULL;
  if (!hvk_device_has (device, prop))
    return NULL;
  value = hvk_device_get_string (device, prop);
  return (value != NULL && *value != '\0') ? value : NULL;
}

static gboolean
device_boolean (HvkDevice  *device,
                const char *prop)
{
  const HvkDevicePropSpec *spec;

  spec = hvk_device_kind_lookup_prop (hvk_device_get_kind (device), prop);
  if (spec == NULL || spec->type != HVK_PROP_BOOLEAN)
    return FALSE;
  return hvk_device_get_boolean (device, prop);
}

gboolean
hvk_acrn_device_get_index (HvkDevice  *device,
                           const char *prop,
                           gint64     *value)
{
  const HvkDevicePropSpec *spec;

  spec = hvk_device_kind_lookup_prop (hvk_device_get_kind (device), prop);
  if (spec == NULL || !hvk_device_has (device, prop))
    return FALSE;

  switch (spec->type)
    {
    case HVK_PROP_UINT:
      *value = (gint64) MIN (hvk_device_get_uint (device, prop), (guint64) G_MAXINT64);
      return TRUE;
    case HVK_PROP_INT:
      *value = hvk_device_get_int (device, prop);
      return TRUE;
    case HVK_PROP_STRING:
      {
        const char *text = hvk_device_get_string (device, prop);
        return text != NULL && g_ascii_string_to_signed (text, 10, G_MININT64,
                                                         G_MAXINT64, value, NULL);
      }
    case HVK_PROP_BOOLEAN:
    case HVK_PROP_STRV:
    default:
      return FALSE;
    }
}

/* acrn-dm has no escape for `,` in its device options. */
static gboolean
check_value (HvkDevice   *device,
             const char  *prop,
             const char  *value,
             GError     **error)
{
  g_autofree char *what = NULL;

  if (value == NULL || *value == '\0')
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "Device '%s' (kind %s): '%s' must be set for backend '%s'",
                   hvk_device_get_id (device), hvk_device_get_kind_name (device),
                   prop, HVK_ACRN_BACKEND_NAME);
      return FALSE;
    }

  what = g_strdup_printf ("Device '%s' property '%s'", hvk_device_get_id (device), prop);
  if (!hvk_check_no_control_chars (what, value, error))
    return FALSE;

  if (strchr (value, ',') != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "Device '%s' (kind %s): '%s' value '%s' contains ',', which "
                   "acrn-dm cannot escape",
                   hvk_device_get_id (device), hvk_device_get_kind_name (device),
                   prop, value);
      return FALSE;
    }

  return TRUE;
}

/* `-s SLOT,EMULATION` plus the option list. */
static gboolean
add_slot_device (HvkCmdline  *cmdline,
                 guint        slot,
                 const char  *emulation,
                 HvkOpts     *opts,
                 GError     **error)
{
  g_autofree char *tail = NULL;
  g_autofree char *arg = NULL;

  if (opts != NULL)
    {
      tail = hvk_opts_to_string (opts, error);
      if (tail == NULL)
        return FALSE;
    }

  arg = g_strdup_printf ("%u,%s%s%s", slot, emulation,
                         (tail && *tail) ? "," : "", tail ? tail : "");
  return hvk_cmdline_add_option (cmdline, "-s", arg, error);
}

/* ---- hostbridge and LPC ---- */

static gboolean
append_hostbridge (HvkBuildContext *ctx,
                   HvkDevice       *device,
                   HvkCmdline      *cmdline,
                   gpointer         user_data,
                   GError         **error)
{
  g_autofree char *arg = NULL;
  guint slot;

  if (!hvk_acrn_layout_take_slot (hvk_acrn_build_context_get_layout (ctx),
                                  device, &slot, error))
    return FALSE;

  /* Function 0: Kata's BridgeDevice is only valid with function 0. */
  arg = g_strdup_printf ("%u:0,hostbridge", slot);
  return hvk_cmdline_add_option (cmdline, "-s", arg, error);
}

static gboolean
append_lpc (HvkBuildContext *ctx,
            HvkDevice       *device,
            HvkCmdline      *cmdline,
            gpointer         user_data,
            GError         **error)
{
  g_autofree char *arg = NULL;
  guint slot;

  if (!hvk_acrn_layout_take_slot (hvk_acrn_build_context_get_layout (ctx),
                                  device, &slot, error))
    return FALSE;

  /* The UART acrn-dm emulates sits on the LPC bus: com1 on stdio. */
  arg = g_strdup_printf ("%u:0,lpc", slot);
  return hvk_cmdline_add_args (cmdline, error, "-s", arg, "-l", "com1,stdio", NULL);
}

/* ---- virtio-console (console, serial sockets) ---- */

typedef enum {
  CONSOLE_PTY,
  CONSOLE_TTY,
  CONSOLE_SOCKET,
  CONSOLE_FILE,
  CONSOLE_STDIO,
} ConsoleBackend;

/* Backend name → acrn-dm's virtio-console form (Kata's AcrnParams);
 * `%1$s` is the port name, `%2$s` the path. */
static const struct {
  const char     *name;
  ConsoleBackend  backend;
  gboolean        needs_path;
  gboolean        needs_name;
} console_backends[] = {
  { "pty",    CONSOLE_PTY,    FALSE, FALSE },
  { "tty",    CONSOLE_TTY,    TRUE,  FALSE },
  { "socket", CONSOLE_SOCKET, TRUE,  TRUE },
  { "file",   CONSOLE_FILE,   TRUE,  FALSE },
  { "stdio",  CONSOLE_STDIO,  FALSE, FALSE },
};

static gboolean
append_virtio_console (HvkBuildContext *ctx,
                       HvkDevice       *device,
                       HvkCmdline      *cmdline,
                       const char      *backend_name,
                       const char      *port_name,
                       const char      *path,
                       gboolean         console_port,
                       GError         **error)
{
  g_autofree char *backend_part = NULL;
  g_autofree char *emulation = NULL;
  gint found = -1;
  guint slot;

  for (guint i = 0; i < G_N_ELEMENTS (console_backends); i++)
    if (g_strcmp0 (backend_name, console_backends[i].name) == 0)
      found = i;

  if (found < 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "Device '%s' (kind %s): console backend '%s' is not one of "
                   "pty, tty, socket, file, stdio (backend '%s')",
                   hvk_device_get_id (device), hvk_device_get_kind_name (device),
                   backend_name ? backend_name : "", HVK_ACRN_BACKEND_NAME);
      return FALSE;
    }

  if (console_backends[found].needs_path && !check_value (device, "path", path, error))
    return FALSE;
  if (console_backends[found].needs_name && !check_value (device, "name", port_name, error))
    return FALSE;
  if (port_name != NULL && strpbrk (port_name, "=:") != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "Device '%s' (kind %s): port name '%s' must not contain '=' or ':'",
                   hvk_device_get_id (device), hvk_device_get_kind_name (device),
                   port_name);
      return FALSE;
    }

  switch (console_backends[found].backend)
    {
    case CONSOLE_PTY:
      backend_part = g_strdup ("pty:pty_port");
      break;
    case CONSOLE_TTY:
      backend_part = g_strdup_printf ("tty:tty_port=%s", path);
      break;
    case CONSOLE_SOCKET:
      backend_part = g_strdup_printf ("socket:%s=%s", port_name, path);
      break;
    case CONSOLE_FILE:
      backend_part = g_strdup_printf ("file:file_port=%s", path);
      break;
    case CONSOLE_STDIO:
    default:
      backend_part = g_strdup ("stdio:stdio_port");
      break;
    }

  if (!hvk_acrn_layout_take_slot (hvk_acrn_build_context_get_layout (ctx),
                                  device, &slot, error))
    return FALSE;

  /* `@` marks a console port, as opposed to a plain serial port. */
  emulation = g_strdup_printf ("virtio-console,%s%s", console_port ? "@" : "",
                               backend_part);
  return add_slot_device (cmdline, slot, emulation, NULL, error);
}

/* acrn-console: the built-in console (and any explicit one). */
static gboolean
append_acrn_console (HvkBuildContext *ctx,
                     HvkDevice       *device,
                     HvkCmdline      *cmdline,
                     gpointer         user_data,
                     GError         **error)
{
  const char *port = device_string (device, "port");
  gboolean console_port;

  if (port == NULL || g_str_equal (port, "console"))
    console_port = TRUE;
  else if (g_str_equal (port, "serial"))
    console_port = FALSE;
  else
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "Device '%s' (kind %s): port '%s' is not 'console' or 'serial'",
                   hvk_device_get_id (device), hvk_device_get_kind_name (device), port);
      return FALSE;
    }

  return append_virtio_console (ctx, device, cmdline,
                                device_string (device, "backend"),
                                device_string (device, "name"),
                                device_string (device, "path"),
                                console_port, error);
}

/* The standard console kind: a console port; a socket console is named
 * after the device id. */
static gboolean
append_console (HvkBuildContext *ctx,
                HvkDevice       *device,
                HvkCmdline      *cmdline,
                gpointer         user_data,
                GError         **error)
{
  const char *backend = device_string (device, "backend");
  const char *name = device_string (device, "name");

  return append_virtio_console (ctx, device, cmdline,
                                backend ? backend : "socket",
                                name ? name : hvk_device_get_id (device),
                                device_string (device, "path"),
                                TRUE, error);
}

/* Kata's appendSocket: a serial (not console) port on a UNIX socket. */
static gboolean
append_serial_socket (HvkBuildContext *ctx,
                      HvkDevice       *device,
                      HvkCmdline      *cmdline,
                      gpointer         user_data,
                      GError         **error)
{
  const char *name = device_string (device, "name");

  return append_virtio_console (ctx, device, cmdline, "socket",
                                name ? name : hvk_device_get_id (device),
                                device_string (device, "path"),
                                FALSE, error);
}

/* ---- virtio-blk ---- */

static gboolean
append_virtio_blk (HvkBuildContext *ctx,
                   HvkDevice       *device,
                   HvkCmdline      *cmdline,
                   const char      *path,
                   gint64           index,
                   GError         **error)
{
  g_autoptr(HvkOpts) opts = hvk_opts_new (NULL);
  HvkAcrnLayout *layout = hvk_acrn_build_context_get_layout (ctx);
  guint slot;

  if (!check_value (device, "path", path, error))
    return FALSE;
  if (!hvk_acrn_layout_take_slot (layout, device, &slot, error))
    return FALSE;

  /* Remember where each drive index sits, for blkrescan. */
  if (index >= 0 && index <= HVK_ACRN_BLK_POOL_SIZE)
    layout->blk_slots[index] = (int) slot;

  hvk_opts_add_raw (opts, path);
  return add_slot_device (cmdline, slot, "virtio-blk", opts, error);
}

/* The root image: drive index 0, and the root kernel parameters. */
static gboolean
append_image (HvkBuildContext *ctx,
              HvkDevice       *device,
              HvkCmdline      *cmdline,
              gpointer         user_data,
              GError         **error)
{
  if (!append_virtio_blk (ctx, device, cmdline, device_string (device, "path"), 0, error))
    return FALSE;

  /* Kata's acrnKernelRootParams, one parameter with spaces in its value. */
  hvk_build_context_add_kernel_param (ctx, "root", "/dev/vda1 rw rootwait");
  return TRUE;
}

/* A placeholder of the hotplug pool. */
static gboolean
append_blk_pool (HvkBuildContext *ctx,
                 HvkDevice       *device,
                 HvkCmdline      *cmdline,
                 gpointer         user_data,
                 GError         **error)
{
  gint64 index = -1;

  if (!hvk_acrn_device_get_index (device, "index", &index)
      || index < 1 || index > HVK_ACRN_BLK_POOL_SIZE)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "Device '%s' (kind %s): index must be 1..%d",
                   hvk_device_get_id (device), hvk_device_get_kind_name (device),
                   HVK_ACRN_BLK_POOL_SIZE);
      return FALSE;
    }

  return append_virtio_blk (ctx, device, cmdline, HVK_ACRN_NODISK, index, error);
}

/* A cold-plugged block device: after the pool, so its drive index must
 * not take over an index of the image or the pool. */
static gboolean
append_block (HvkBuildContext *ctx,
              HvkDevice       *device,
              HvkCmdline      *cmdline,
              gpointer         user_data,
              GError         **error)
{
  gint64 index = -1;

  if (!hvk_io_limits_refuse (device, HVK_ACRN_BACKEND_NAME, HVK_ACRN_NO_LIMITER, error))
    return FALSE;
  if (hvk_acrn_device_get_index (device, "index", &index)
      && index >= 0 && index <= HVK_ACRN_BLK_POOL_SIZE)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "Device '%s' (kind block): drive index %" G_GINT64_FORMAT
                   " is taken by the root image (0) or the hotplug pool (1..%d) "
                   "of backend '%s'; hotplug it instead, or leave index unset",
                   hvk_device_get_id (device), index, HVK_ACRN_BLK_POOL_SIZE,
                   HVK_ACRN_BACKEND_NAME);
      return FALSE;
    }
  if (device_boolean (device, "swap"))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                   "Device '%s' (kind block): backend '%s' does not support swap drives",
                   hvk_device_get_id (device), HVK_ACRN_BACKEND_NAME);
      return FALSE;
    }

  return append_virtio_blk (ctx, device, cmdline, device_string (device, "path"),
                            -1, error);
}

/* ---- virtio-net ---- */

/* acrn-dm 3.0 and later want `tap=NAME`; Kata passed the bare name. */
static gboolean
append_net (HvkBuildContext *ctx,
            HvkDevice       *device,
            HvkCmdline      *cmdline,
            gpointer         user_data,
            GError         **error)
{
  g_autoptr(HvkOpts) opts = hvk_opts_new (NULL);
  const char *type = device_string (device, "type");
  const char *ifname = device_string (device, "ifname");
  const char *mac = device_string (device, "mac");
  guint slot;

  if (!hvk_io_limits_refuse (device, HVK_ACRN_BACKEND_NAME, HVK_ACRN_NO_LIMITER, error))
    return FALSE;
  if (type != NULL && !g_str_equal (type, "tap") && !g_str_equal (type, "macvtap"))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "Device '%s' (kind net): type '%s' is not 'tap' or 'macvtap' "
                   "(backend '%s')",
                   hvk_device_get_id (device), type, HVK_ACRN_BACKEND_NAME);
      return FALSE;
    }
  if (!check_value (device, "ifname", ifname, error)
      || !check_value (device, "mac", mac, error))
    return FALSE;
  if (!hvk_acrn_layout_take_slot (hvk_acrn_build_context_get_layout (ctx),
                                  device, &slot, error))
    return FALSE;

  hvk_opts_add (opts, "tap", ifname);
  hvk_opts_add (opts, "mac", mac);
  return add_slot_device (cmdline, slot, "virtio-net", opts, error);
}

/* ---- what ACRN cannot do ---- */

/* Kinds acrn-dm (as Kata drives it) has no emulation for. */
static const char * const unsupported_kinds[] = {
  HVK_DEVICE_KIND_VSOCK,
  HVK_DEVICE_KIND_FS,
  HVK_DEVICE_KIND_VFIO,
  HVK_DEVICE_KIND_RNG,
  HVK_DEVICE_KIND_MEMORY,
  HVK_DEVICE_KIND_CPU,
};

gboolean
hvk_acrn_device_unsupported (HvkRegistry  *registry,
                             HvkDevice    *device,
                             const char   *operation,
                             GError      **error)
{
  const char *kind = hvk_device_get_kind_name (device);

  /* Another plugin may teach the acrn backend a kind. */
  if (registry != NULL
      && hvk_registry_has_device_appender (registry, HVK_ACRN_BACKEND_NAME, kind))
    return FALSE;

  if (!g_strv_contains (unsupported_kinds, kind))
    return FALSE;

  g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
               "backend '%s' does not support %s of %s devices (device '%s')",
               HVK_ACRN_BACKEND_NAME, operation, kind, hvk_device_get_id (device));
  return TRUE;
}

/* ---- registration ---- */

static const HvkDevicePropSpec console_props[] = {
  { "backend", HVK_PROP_STRING, HVK_PROP_FLAG_REQUIRED, NULL,
    "pty, tty, socket, file or stdio" },
  { "name", HVK_PROP_STRING, HVK_PROP_FLAG_NONE, NULL,
    "port name (socket backend)" },
  { "path", HVK_PROP_STRING, HVK_PROP_FLAG_PATH, NULL,
    "socket, tty or file path" },
  { "port", HVK_PROP_STRING, HVK_PROP_FLAG_NONE, "console",
    "console (`@`) or serial port" },
};

static const HvkDevicePropSpec image_props[] = {
  { "path", HVK_PROP_STRING, HVK_PROP_FLAG_REQUIRED | HVK_PROP_FLAG_PATH, NULL,
    "root file system image (drive index 0)" },
};

static const HvkDevicePropSpec blk_pool_props[] = {
  { "index", HVK_PROP_UINT, HVK_PROP_FLAG_REQUIRED, NULL,
    "drive index of the placeholder, 1..8" },
};

static const struct {
  const char              *name;
  const char              *description;
  const HvkDevicePropSpec *props;
  guint                    n_props;
} acrn_kinds[] = {
  { HVK_ACRN_KIND_HOSTBRIDGE, "acrn-dm PCI host bridge (slot 0)", NULL, 0 },
  { HVK_ACRN_KIND_LPC, "acrn-dm LPC bus with com1 on stdio", NULL, 0 },
  { HVK_ACRN_KIND_CONSOLE, "acrn-dm virtio-console port",
    console_props, G_N_ELEMENTS (console_props) },
  { HVK_ACRN_KIND_IMAGE, "acrn-dm root image (virtio-blk, drive index 0)",
    image_props, G_N_ELEMENTS (image_props) },
  { HVK_ACRN_KIND_BLK_POOL, "acrn-dm placeholder virtio-blk for blkrescan hotplug",
    blk_pool_props, G_N_ELEMENTS (blk_pool_props) },
};

gboolean
hvk_acrn_register_device_kinds (HvkPlugin  *plugin,
                                GError    **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (acrn_kinds); i++)
    {
      g_autoptr(HvkDeviceKind) kind = NULL;

      kind = hvk_device_kind_new (acrn_kinds[i].name, acrn_kinds[i].description,
                                  acrn_kinds[i].props, acrn_kinds[i].n_props, error);
      if (kind == NULL || !hvk_plugin_register_device_kind (plugin, kind, error))
        return FALSE;
    }
  return TRUE;
}

/* Kind → appender for backend "acrn". */
static const struct {
  const char          *kind;
  HvkDeviceAppendFunc  func;
} acrn_appenders[] = {
  { HVK_ACRN_KIND_HOSTBRIDGE,      append_hostbridge },
  { HVK_ACRN_KIND_LPC,             append_lpc },
  { HVK_ACRN_KIND_CONSOLE,         append_acrn_console },
  { HVK_ACRN_KIND_IMAGE,           append_image },
  { HVK_ACRN_KIND_BLK_POOL,        append_blk_pool },
  { HVK_DEVICE_KIND_CONSOLE,       append_console },
  { HVK_DEVICE_KIND_SERIAL_SOCKET, append_serial_socket },
  { HVK_DEVICE_KIND_BLOCK,         append_block },
  { HVK_DEVICE_KIND_NET,           append_net },
};

gboolean
hvk_acrn_register_appenders (HvkPlugin  *plugin,
                             GError    **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (acrn_appenders); i++)
    if (!hvk_plugin_register_device_appender (plugin, HVK_ACRN_BACKEND_NAME,
                                              acrn_appenders[i].kind, 0,
                                              acrn_appenders[i].func, NULL, error))
      return FALSE;
  return TRUE;
}
