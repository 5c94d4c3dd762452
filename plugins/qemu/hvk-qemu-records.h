/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

/* What hvkit knows of one device it hot-plugged into QEMU: enough to
 * unplug it (and delete what backs it) from another process. */
typedef struct {
  char     *id;
  char     *kind;            /* the device kind's name */
  char     *driver;          /* QEMU's device driver */
  char     *bus;             /* NULL: QEMU chose */
  int       addr;            /* slot or LUN on @bus; meaningful with @has_addr */
  gboolean  has_addr;
  char     *node;            /* block node to blockdev-del, or NULL */
  char     *path;            /* the block device's file, or NULL */
  char     *netdev;          /* netdev to netdev_del, or NULL */
  char     *memdev;          /* memory backend to object-del, or NULL */
  char     *throttle_group;  /* a throttled disk's group to object-del, or NULL */
  guint32   size_mb;         /* a DIMM's size; meaningful with @has_size_mb */
  gboolean  has_size_mb;
  gint64    slot;            /* a DIMM's slot; meaningful with @has_slot */
  gboolean  has_slot;
  gboolean  unplug_pending;  /* device_del sent, removal not confirmed */
  JsonNode *device;          /* the device as given (hvk_device_to_json()), or NULL */
} HvkQemuRecord;

HvkQemuRecord *hvk_qemu_record_new       (const char    *id,
                                          const char    *kind,
                                          const char    *driver);
void           hvk_qemu_record_free      (HvkQemuRecord *record);
void           hvk_qemu_record_set_bus   (HvkQemuRecord *record,
                                          const char    *bus,
                                          int            addr);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HvkQemuRecord, hvk_qemu_record_free)

/* The records, oldest first (a GPtrArray of HvkQemuRecord). */
GPtrArray     *hvk_qemu_records_new      (void);
HvkQemuRecord *hvk_qemu_records_lookup   (GPtrArray     *records,
                                          const char    *id);
void           hvk_qemu_records_add      (GPtrArray     *records,
                                          HvkQemuRecord *record);
gboolean       hvk_qemu_records_remove   (GPtrArray     *records,
                                          const char    *id);
GPtrArray     *hvk_qemu_records_ids_of_kind (GPtrArray  *records,
                                             const char *kind);

/* The saved form: {"ID": {"kind", "driver", "bus", "addr", "node",
 * "path", "netdev", "memdev", "throttle_group", "size_mb", "slot", "unplug_pending",
 * "device"}, …}, members present only when set. */
JsonNode      *hvk_qemu_records_to_json  (GPtrArray     *records);
GPtrArray     *hvk_qemu_records_from_json (JsonObject   *object,
                                           GError      **error);

G_END_DECLS
