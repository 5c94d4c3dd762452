/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#if !defined(HVKIT_INSIDE) && !defined(HVKIT_COMPILATION)
# error "Only <hvkit/hvkit.h> can be included directly."
#endif

#include <glib-object.h>
#include <json-glib/json-glib.h>
#include <hvkit/hvk-visibility.h>

G_BEGIN_DECLS

typedef struct _HvkRegistry HvkRegistry;

/**
 * HvkPropType:
 * @HVK_PROP_STRING: a string
 * @HVK_PROP_BOOLEAN: a boolean (`true`/`false`, `on`/`off`, `yes`/`no`, `1`/`0`)
 * @HVK_PROP_UINT: an unsigned 64-bit integer
 * @HVK_PROP_INT: a signed 64-bit integer
 * @HVK_PROP_STRV: a list of strings (`:`-separated in device strings,
 *   `;`-separated in key files)
 *
 * The type of a device property.
 */
typedef enum {
  HVK_PROP_STRING,
  HVK_PROP_BOOLEAN,
  HVK_PROP_UINT,
  HVK_PROP_INT,
  HVK_PROP_STRV,
} HvkPropType;

/**
 * HvkPropFlags:
 * @HVK_PROP_FLAG_NONE: no flag
 * @HVK_PROP_FLAG_REQUIRED: the property must be set
 * @HVK_PROP_FLAG_PATH: the property (a string or a list of strings) names
 *   host files or directories: a relative path is made absolute against
 *   the current directory of the process when the value is set (the VMM
 *   runs with another one)
 *
 * How a device property is checked and resolved.
 */
typedef enum {
  HVK_PROP_FLAG_NONE     = 0,
  HVK_PROP_FLAG_REQUIRED = 1 << 0,
  HVK_PROP_FLAG_PATH     = 1 << 1,
} HvkPropFlags;

/**
 * HvkDevicePropSpec:
 * @name: property name (`[a-z0-9_-]+`)
 * @type: its type
 * @flags: #HvkPropFlags
 * @default_value: (nullable): default in device-string syntax, or %NULL
 * @description: one line of documentation
 *
 * Declares one property of a device kind.
 */
typedef struct {
  const char   *name;
  HvkPropType   type;
  HvkPropFlags  flags;
  const char   *default_value;
  const char   *description;
} HvkDevicePropSpec;

typedef struct _HvkDeviceKind HvkDeviceKind;

#define HVK_TYPE_DEVICE_KIND (hvk_device_kind_get_type ())
HVK_AVAILABLE_IN_ALL
GType          hvk_device_kind_get_type     (void) G_GNUC_CONST;
HVK_AVAILABLE_IN_ALL
HvkDeviceKind *hvk_device_kind_new          (const char              *name,
                                             const char              *description,
                                             const HvkDevicePropSpec *props,
                                             guint                    n_props,
                                             GError                 **error);
HVK_AVAILABLE_IN_ALL
HvkDeviceKind *hvk_device_kind_ref          (HvkDeviceKind *kind);
HVK_AVAILABLE_IN_ALL
void           hvk_device_kind_unref        (HvkDeviceKind *kind);
HVK_AVAILABLE_IN_ALL
const char    *hvk_device_kind_get_name     (HvkDeviceKind *kind);
HVK_AVAILABLE_IN_ALL
const char    *hvk_device_kind_get_description (HvkDeviceKind *kind);
HVK_AVAILABLE_IN_ALL
const HvkDevicePropSpec *hvk_device_kind_get_props   (HvkDeviceKind *kind,
                                                      guint         *n_props);
HVK_AVAILABLE_IN_ALL
const HvkDevicePropSpec *hvk_device_kind_lookup_prop (HvkDeviceKind *kind,
                                                      const char    *name);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HvkDeviceKind, hvk_device_kind_unref)

/* The standard kinds every registry knows. */
/**
 * HVK_DEVICE_KIND_BLOCK:
 *
 * The name of the standard device kind `block`: a disk (a file or a block
 * device).
 */
#define HVK_DEVICE_KIND_BLOCK         "block"
/**
 * HVK_DEVICE_KIND_NET:
 *
 * The name of the standard device kind `net`: a network interface (a tap
 * device).
 */
#define HVK_DEVICE_KIND_NET           "net"
/**
 * HVK_DEVICE_KIND_VSOCK:
 *
 * The name of the standard device kind `vsock`: a vsock device, the host-
 * guest socket.
 */
#define HVK_DEVICE_KIND_VSOCK         "vsock"
/**
 * HVK_DEVICE_KIND_FS:
 *
 * The name of the standard device kind `fs`: a shared directory (virtio-
 * fs).
 */
#define HVK_DEVICE_KIND_FS            "fs"
/**
 * HVK_DEVICE_KIND_CONSOLE:
 *
 * The name of the standard device kind `console`: the guest console.
 */
#define HVK_DEVICE_KIND_CONSOLE       "console"
/**
 * HVK_DEVICE_KIND_SERIAL_SOCKET:
 *
 * The name of the standard device kind `serial-socket`: a serial port on a
 * UNIX socket.
 */
#define HVK_DEVICE_KIND_SERIAL_SOCKET "serial-socket"
/**
 * HVK_DEVICE_KIND_VFIO:
 *
 * The name of the standard device kind `vfio`: a host device passed
 * through with VFIO.
 */
#define HVK_DEVICE_KIND_VFIO          "vfio"
/**
 * HVK_DEVICE_KIND_RNG:
 *
 * The name of the standard device kind `rng`: an entropy source (virtio-
 * rng).
 */
#define HVK_DEVICE_KIND_RNG           "rng"
/**
 * HVK_DEVICE_KIND_MEMORY:
 *
 * The name of the standard device kind `memory`: hot-plugged memory.
 */
#define HVK_DEVICE_KIND_MEMORY        "memory"
/**
 * HVK_DEVICE_KIND_CPU:
 *
 * The name of the standard device kind `cpu`: hot-plugged vCPUs.
 */
#define HVK_DEVICE_KIND_CPU           "cpu"

HVK_AVAILABLE_IN_ALL
GPtrArray  *hvk_device_kinds_new_standard (void);

#define HVK_TYPE_DEVICE (hvk_device_get_type ())
HVK_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (HvkDevice, hvk_device, HVK, DEVICE, GObject)

HVK_AVAILABLE_IN_ALL
HvkDevice     *hvk_device_new               (HvkDeviceKind *kind,
                                             const char    *id);
HVK_AVAILABLE_IN_ALL
HvkDevice     *hvk_device_new_from_string   (HvkRegistry   *registry,
                                             const char    *text,
                                             GError       **error);
HVK_AVAILABLE_IN_ALL
HvkDevice     *hvk_device_new_from_key_file (HvkRegistry   *registry,
                                             GKeyFile      *key_file,
                                             const char    *group,
                                             const char    *source_name,
                                             GError       **error);
HVK_AVAILABLE_IN_ALL
HvkDevice     *hvk_device_new_from_json     (HvkRegistry   *registry,
                                             JsonNode      *node,
                                             GError       **error);
HVK_AVAILABLE_IN_ALL
JsonNode      *hvk_device_to_json           (HvkDevice     *self);
HVK_AVAILABLE_IN_ALL
char          *hvk_device_to_string         (HvkDevice     *self);
HVK_AVAILABLE_IN_ALL
HvkDevice     *hvk_device_copy              (HvkDevice     *self);

HVK_AVAILABLE_IN_ALL
HvkDeviceKind *hvk_device_get_kind          (HvkDevice     *self);
HVK_AVAILABLE_IN_ALL
const char    *hvk_device_get_kind_name     (HvkDevice     *self);
HVK_AVAILABLE_IN_ALL
const char    *hvk_device_get_id            (HvkDevice     *self);

HVK_AVAILABLE_IN_ALL
gboolean       hvk_device_has               (HvkDevice     *self,
                                             const char    *prop);
HVK_AVAILABLE_IN_ALL
gboolean       hvk_device_set_from_string   (HvkDevice     *self,
                                             const char    *prop,
                                             const char    *text,
                                             GError       **error);
HVK_AVAILABLE_IN_ALL
void           hvk_device_set_string        (HvkDevice     *self,
                                             const char    *prop,
                                             const char    *value);
HVK_AVAILABLE_IN_ALL
void           hvk_device_set_boolean       (HvkDevice     *self,
                                             const char    *prop,
                                             gboolean       value);
HVK_AVAILABLE_IN_ALL
void           hvk_device_set_uint          (HvkDevice     *self,
                                             const char    *prop,
                                             guint64        value);
HVK_AVAILABLE_IN_ALL
void           hvk_device_set_int           (HvkDevice     *self,
                                             const char    *prop,
                                             gint64         value);
HVK_AVAILABLE_IN_ALL
void           hvk_device_set_strv          (HvkDevice          *self,
                                             const char         *prop,
                                             const char * const *value);
HVK_AVAILABLE_IN_ALL
const char    *hvk_device_get_string        (HvkDevice     *self,
                                             const char    *prop);
HVK_AVAILABLE_IN_ALL
gboolean       hvk_device_get_boolean       (HvkDevice     *self,
                                             const char    *prop);
HVK_AVAILABLE_IN_ALL
guint64        hvk_device_get_uint          (HvkDevice     *self,
                                             const char    *prop);
HVK_AVAILABLE_IN_ALL
gint64         hvk_device_get_int           (HvkDevice     *self,
                                             const char    *prop);
HVK_AVAILABLE_IN_ALL
const char * const *hvk_device_get_strv     (HvkDevice     *self,
                                             const char    *prop);
HVK_AVAILABLE_IN_ALL
gboolean       hvk_device_validate          (HvkDevice     *self,
                                             GError       **error);

G_END_DECLS
