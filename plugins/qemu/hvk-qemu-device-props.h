/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * One device → its QEMU properties, for boot and for hotplug alike
 * (libvirt's qemuBuildDiskDeviceProps): the command line serializes them
 * with hvk_opts_to_string() (-drive, -device), hotplug sends the same
 * properties with hvk_opts_to_json() (blockdev-add, device_add), so a
 * setting honoured at boot cannot be forgotten on hotplug.
 */

#include <hvkit/hvkit.h>

#include "hvk-qemu-settings.h"
#include "hvk-qemu-tap-limit.h"

G_BEGIN_DECLS

/* A block device's settings, resolved from the device and the config
 * (device property first, then the config's block_device_* key) and
 * checked once. */
typedef struct {
  const char *id;
  const char *path;
  const char *format;        /* "raw" unless set */
  const char *driver;        /* "virtio-scsi" or "virtio-blk" */
  const char *aio;           /* threads, native or io_uring */
  const char *serial;        /* NULL: none given */
  gboolean    readonly;
  gboolean    cache_set;     /* block_device_cache_set or cache_direct given */
  gboolean    cache_direct;
  gboolean    cache_noflush;
  gboolean    probed;        /* hvk_qemu_block_probe() looked at the path */
  gboolean    host_device;   /* the path is a block device */
  gboolean    has_fdset;     /* rootless: QEMU opens /dev/fdset/FDSET, not the path */
  guint       fdset;
  HvkIoLimits limits;        /* the device's own, else disk_rate_limiter_* */
  gboolean    throttled;     /* a throttle node and group: some limit, or a
                              * limit property given (even 0) */
  const char *group;         /* the throttle group it shares (throttle_group,
                              * or "shared"), NULL: a group of its own */
} HvkQemuBlock;

gboolean hvk_qemu_block_resolve (HvkDevice             *device,
                                 const HvkQemuSettings *settings,
                                 HvkQemuBlock          *block,
                                 GError               **error);

gboolean hvk_qemu_block_probe   (HvkQemuBlock  *block,
                                 GError       **error);

gboolean hvk_qemu_block_is_scsi (const HvkQemuBlock *block);

/* Which backend form: the command line's -drive (the golden argv), or
 * the QMP blockdev-add of hotplug (node-name drive-ID, the protocol
 * node as file.*), which needs hvk_qemu_block_probe() first. */
typedef enum {
  HVK_QEMU_BLOCK_DRIVE,
  HVK_QEMU_BLOCK_BLOCKDEV,
} HvkQemuBlockForm;

/* Where the device goes: @bus (NULL: QEMU's choice) and @addr (a PCI
 * slot, -1 for none) for virtio-blk-pci; @bus and @lun for scsi-hd. */
typedef struct {
  const char *bus;
  int         addr;
  int         lun;
} HvkQemuPlace;

gboolean hvk_qemu_block_props (const HvkQemuBlock  *block,
                               HvkQemuBlockForm     form,
                               const HvkQemuPlace  *place,
                               HvkOpts            **backend,
                               HvkOpts            **device,
                               GError             **error);

char *hvk_qemu_block_node_name (const char       *id,
                                HvkQemuBlockForm  form);

/* Throttling (the formula is documented in hvk-qemu-device-props.c):
 * the id of the group object of disk @id in group @group (NULL: its
 * own, throttle-ID; else throttle.group-GROUP, never a disk's, whose id
 * has no '.' after "throttle"), the check of the bursts QEMU can grant,
 * the ThrottleLimits members of @limits, and the group's -object /
 * object-add properties. */
char    *hvk_qemu_block_throttle_group       (const char         *id,
                                              const char         *group);
gboolean hvk_qemu_block_check_limits         (const char         *id,
                                              const HvkIoLimits  *limits,
                                              GError            **error);
void     hvk_qemu_block_throttle_props       (const HvkIoLimits  *limits,
                                              const char         *prefix,
                                              gboolean            all,
                                              HvkOpts            *opts);
HvkOpts *hvk_qemu_block_throttle_group_props (const HvkQemuBlock *block);

/* The groups a command line has (cold plug, restore): object id → its
 * first disk.  hvk_qemu_throttle_groups_join(): @block's group is there
 * already (*@is_new FALSE: no second -object) with the same limits, or
 * added (*@is_new TRUE); a disk whose limits differ from the group's is
 * refused naming both disks, the group and the field. */
GHashTable *hvk_qemu_throttle_groups_new  (void);
gboolean    hvk_qemu_throttle_groups_join (GHashTable         *groups,
                                           const HvkQemuBlock *block,
                                           gboolean           *is_new,
                                           GError            **error);

G_END_DECLS

G_BEGIN_DECLS

/* A network interface's settings, resolved and checked once. */
typedef struct {
  const char          *id;
  const char          *type;         /* tap, macvtap or vhost-user */
  const char          *ifname;       /* NULL: none given */
  const char          *mac;          /* NULL: QEMU's */
  const char * const  *fds;
  const char * const  *vhost_fds;
  guint                n_fds;
  guint                n_vhost_fds;
  gboolean             vhost;        /* not disable_vhost_net */
  const char          *socket;       /* vhost-user */
  guint64              queues;       /* vhost-user */
  HvkIoLimits          limits;       /* the device's own, else the configuration's */
  HvkTapLimit          tap_limit;    /* what the tap gets (all 0: no shaping) */
} HvkQemuNet;

gboolean hvk_qemu_net_resolve   (HvkDevice             *device,
                                 const HvkQemuSettings *settings,
                                 HvkQemuNet            *net,
                                 GError               **error);

/* The netdev of a tap interface by name (-netdev tap,… / netdev_add)
 * or, on the command line, by descriptors (@fds, @vhost_fds: QEMU's
 * numbers, `3:4`; NULL for none), and its virtio-net-pci device with
 * @n_queues (0: single queue) at @place. */
char    *hvk_qemu_net_netdev_id (const char       *id,
                                 HvkQemuBlockForm  form);
void     hvk_qemu_net_tap_props (const HvkQemuNet    *net,
                                 HvkQemuBlockForm     form,
                                 const char          *fds,
                                 const char          *vhost_fds,
                                 HvkOpts            **netdev);
/* @limits as the shaping of @net's tap; NOT_SUPPORTED (naming the
 * device and the limit) for a tap hvkit cannot shape or a packet limit. */
gboolean hvk_qemu_net_tap_limit (const HvkQemuNet   *net,
                                 const HvkIoLimits  *limits,
                                 HvkTapLimit        *tap_limit,
                                 GError            **error);
HvkOpts *hvk_qemu_net_device_props (const HvkQemuNet   *net,
                                    const char         *netdev_id,
                                    guint               n_queues,
                                    const HvkQemuPlace *place);

G_END_DECLS

G_BEGIN_DECLS

/* vfio-pci: the host's PCI address, the ids it may be shown with, and
 * where it goes: the device's own bus (a root port, on the command
 * line), else @place's (hotplug). */
gboolean hvk_qemu_vfio_props (HvkDevice           *device,
                              const HvkQemuPlace  *place,
                              HvkOpts            **opts,
                              GError             **error);

G_END_DECLS
