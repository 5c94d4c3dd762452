/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <string.h>

#include "hvk-qemu-private.h"
#include "hvk-qemu-build.h"
#include "hvk-qemu-hypervisor-private.h"
#include "hvk-qemu-qmp.h"

/* vCPU and memory resize of a running VM: vCPUs through
 * query-hotpluggable-cpus and device_add/device_del, memory as pc-dimms
 * or by asking the virtio-mem device for a size (libvirt's
 * qemu_hotplug.c, the resize half). */

/* ---- resize ---- */

static guint32
max_vcpus (HvkQemuHypervisor *self)
{
  if (self->layout != NULL && self->layout->max_vcpus > 0)
    return self->layout->max_vcpus;
  return (guint32) hvk_qemu_vm_settings (self)->default_maxvcpus;
}

/* Hot-plugged CPUs, newest last. */
static GPtrArray *
hotplugged_of_kind (HvkQemuHypervisor *self,
                    const char        *kind)
{
  return hvk_qemu_records_ids_of_kind (self->hotplugged, kind);
}

/* The vCPU records and count as QEMU has them (query-hotpluggable-cpus):
 * a CPU record whose place holds no CPU any more is dropped (its unplug
 * completed after hvkit stopped waiting). */
static void
sync_vcpus (HvkQemuHypervisor *self,
            JsonArray         *hotpluggable)
{
  g_autoptr(GHashTable) paths = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) cpus = hotplugged_of_kind (self, HVK_DEVICE_KIND_CPU);
  guint32 n = 0;

  for (guint i = 0; i < json_array_get_length (hotpluggable); i++)
    {
      JsonObject *slot = json_array_get_object_element (hotpluggable, i);
      const char *path = slot ? json_object_get_string_member_with_default (slot, "qom-path", NULL) : NULL;

      if (path == NULL)
        continue;
      g_hash_table_add (paths, (gpointer) path);
      n += (guint32) json_object_get_int_member_with_default (slot, "vcpus-count", 1);
    }
  for (guint i = 0; i < cpus->len; i++)
    {
      g_autofree char *path = g_strdup_printf ("/machine/peripheral/%s", (char *) cpus->pdata[i]);

      if (g_hash_table_contains (paths, path))
        continue;
      g_debug ("VM '%s': QEMU no longer has vCPU '%s': forgetting it",
               self->id, (const char *) cpus->pdata[i]);
      hvk_qemu_records_remove (self->hotplugged, cpus->pdata[i]);
      hvk_qemu_vm_note_vcpu_unplug (self, NULL);
    }
  self->vcpus = n;
}

static gboolean
add_one_vcpu (HvkQemuHypervisor *self,
              JsonArray         *hotpluggable,
              int               *cursor,
              GCancellable      *cancellable,
              GError           **error)
{
  /* QEMU lists the places highest first; take the lowest free one.
   * @cursor walks down the list across calls. */
  for (int i = *cursor; i >= 0; i--)
    {
      JsonObject *slot = json_array_get_object_element (hotpluggable, i);
      JsonObject *props;
      g_autoptr(JsonObject) args = NULL;
      g_autoptr(GList) names = NULL;
      g_autoptr(GString) cpu_id = g_string_new ("cpu");
      const char *type;

      if (slot == NULL || json_object_has_member (slot, "qom-path")
          || !json_object_has_member (slot, "props"))
        continue;
      type = json_object_get_string_member_with_default (slot, "type", NULL);
      props = json_object_get_object_member (slot, "props");
      if (type == NULL || props == NULL)
        continue;

      args = json_object_new ();
      json_object_set_string_member (args, "driver", type);
      names = json_object_get_members (props);
      /* node-id included: with guest NUMA the vCPU joins the node its
       * place was given (-numa node,cpus=). */
      for (GList *l = names; l != NULL; l = l->next)
        json_object_set_int_member (args, l->data, json_object_get_int_member (props, l->data));
      g_string_append_printf (cpu_id, "-%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT,
                              json_object_get_int_member_with_default (props, "socket-id", 0),
                              json_object_get_int_member_with_default (props, "core-id", 0),
                              json_object_get_int_member_with_default (props, "thread-id", 0));
      json_object_set_string_member (args, "id", cpu_id->str);
      if (!hvk_qemu_vm_qmp_run (self, "device_add", args, cancellable, error))
        return FALSE;

      hvk_qemu_records_add (self->hotplugged,
                            hvk_qemu_record_new (cpu_id->str, HVK_DEVICE_KIND_CPU, type));
      *cursor = i - 1;
      self->vcpus++;
      return TRUE;
    }
  g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
               "QEMU of VM '%s' has no free vCPU place left", self->id);
  return FALSE;
}

gboolean
hvk_qemu_vm_resize_vcpus (HvkHypervisor  *hypervisor,
                   guint32         vcpus,
                   guint32        *old_vcpus,
                   guint32        *new_vcpus,
                   GCancellable   *cancellable,
                   GError        **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(JsonNode) ret = NULL;
  guint32 max = 0;
  guint32 before = self->vcpus;
  gboolean ok = TRUE;

  if (old_vcpus != NULL)
    *old_vcpus = before;
  if (new_vcpus != NULL)
    *new_vcpus = before;
  if (!hvk_qemu_vm_check_state (self, "resize the vCPUs of", S (RUNNING) | S (PAUSED), error))
    return FALSE;

  max = max_vcpus (self);
  if (vcpus == 0 || vcpus > max)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "cannot resize VM '%s' to %u vCPUs: it must be between 1 and "
                   "maxcpus (%u)", self->id, vcpus, max);
      return FALSE;
    }
  if (!hvk_qemu_vm_reconcile_if_pending (self, cancellable, error))
    return FALSE;

  /* Start from what QEMU has, not from the records: an unplug may have
   * completed after an earlier call stopped waiting. */
  ret = hvk_qemu_vm_qmp_exec (self, "query-hotpluggable-cpus", NULL, cancellable, error);
  if (ret == NULL || !JSON_NODE_HOLDS_ARRAY (ret))
    {
      if (ret != NULL)
        g_set_error (error, HVK_ERROR, HVK_ERROR_QMP,
                     "QMP command 'query-hotpluggable-cpus' returned no list");
      g_prefix_error (error, "cannot resize VM '%s' to %u vCPUs: ", self->id, vcpus);
      return FALSE;
    }
  sync_vcpus (self, json_node_get_array (ret));
  before = self->vcpus;
  if (old_vcpus != NULL)
    *old_vcpus = before;

  if (vcpus > self->vcpus)
    {
      int cursor = (int) json_array_get_length (json_node_get_array (ret)) - 1;
      g_autofree char *what = g_strdup_printf ("%u more vCPU(s)", vcpus - self->vcpus);

      if (!hvk_qemu_vm_hotplug_allowed_after_vcpu_unplug (self, what, error))
        {
          g_prefix_error (error, "cannot resize VM '%s' from %u to %u vCPUs: ", self->id, before, vcpus);
          return FALSE;
        }

      while (ok && self->vcpus < vcpus)
        ok = add_one_vcpu (self, json_node_get_array (ret), &cursor, cancellable, error);
    }
  else if (vcpus < self->vcpus)
    {
      g_autoptr(GPtrArray) cpus = hotplugged_of_kind (self, HVK_DEVICE_KIND_CPU);

      /* Only hot-plugged vCPUs can go; the boot ones stay (as Kata). */
      for (guint i = cpus->len; ok && i > 0 && self->vcpus > vcpus; i--)
        {
          const char *cpu_id = cpus->pdata[i - 1];

          ok = hvk_qemu_vm_device_del_and_wait (self, cpu_id, cancellable, error);
          if (ok)
            hvk_qemu_vm_forget_device (self, cpu_id, FALSE, cancellable, NULL);
        }
    }

  if (new_vcpus != NULL)
    *new_vcpus = self->vcpus;
  if (!ok)
    g_prefix_error (error, "cannot resize VM '%s' from %u to %u vCPUs: ", self->id, before, vcpus);
  return ok;
}

/* ---- virtio-mem ---- */

#define VIRTIO_MEM_QOM_PATH "/machine/peripheral/" HVK_QEMU_VIRTIO_MEM_ID
/* How many polls, VIRTIO_MEM_POLL_US apart, the device's size may stay
 * still short of the requested size before hvkit stops waiting (10 s):
 * the guest plugs and unplugs block by block, and refuses to unplug what
 * it cannot move away.  HVKIT_TEST_VIRTIO_MEM_STILL_POLLS sets another
 * count (tests, against a scripted QMP). */
#define VIRTIO_MEM_STILL_POLLS 100
#define VIRTIO_MEM_POLL_US     (100 * 1000)

static guint
virtio_mem_still_polls (void)
{
  const char *env = g_getenv ("HVKIT_TEST_VIRTIO_MEM_STILL_POLLS");
  guint64 n;

  if (env != NULL && g_ascii_string_to_unsigned (env, 10, 1, 100000, &n, NULL))
    return (guint) n;
  return VIRTIO_MEM_STILL_POLLS;
}

static gboolean
virtio_mem_get (HvkQemuHypervisor *self,
                const char        *property,
                guint64           *out,
                GCancellable      *cancellable,
                GError           **error)
{
  g_autoptr(JsonObject) args = json_object_new ();
  g_autoptr(JsonNode) ret = NULL;

  json_object_set_string_member (args, "path", VIRTIO_MEM_QOM_PATH);
  json_object_set_string_member (args, "property", property);
  ret = hvk_qemu_vm_qmp_exec (self, "qom-get", args, cancellable, error);
  if (ret == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE (ret) || json_node_get_value_type (ret) != G_TYPE_INT64
      || json_node_get_int (ret) < 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_QMP,
                   "QMP command 'qom-get' of %s's '%s' returned no size",
                   HVK_QEMU_VIRTIO_MEM_ID, property);
      return FALSE;
    }
  *out = (guint64) json_node_get_int (ret);
  return TRUE;
}

/* Kata's resizeVirtioMem: requested-size is what the guest is asked to
 * have plugged above the boot memory; its `size` follows as the guest
 * plugs or unplugs blocks.  Waits until they match or the size stands
 * still (virtio_mem_still_polls()).  A shrink the guest refuses in part
 * succeeds with the size it reached in *@new_mem_mb; a grow that falls
 * short fails, naming what was plugged (requested-size stays: a guest
 * whose driver comes later still plugs it). */
static gboolean
resize_virtio_mem (HvkQemuHypervisor *self,
                   guint32            mem_mb,
                   guint32           *new_mem_mb,
                   GCancellable      *cancellable,
                   GError           **error)
{
  g_autoptr(JsonObject) args = json_object_new ();
  guint32 base = self->layout->boot_memory_mb;
  guint32 max = base + self->layout->virtio_mem_mb;
  g_autoptr(GError) local_error = NULL;
  guint64 block = 0, want, size = 0, last;
  guint still = 0, max_still = virtio_mem_still_polls ();

  if (!hvk_qemu_vm_check_state (self, "resize the virtio-mem memory of", S (RUNNING), error))
    return FALSE;
  if (mem_mb < base || mem_mb > max)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "cannot resize VM '%s' to %u MiB: with virtio-mem it must be between "
                   "default_memory (%u MiB) and default_maxmemory (%u MiB)",
                   self->id, mem_mb, base, max);
      return FALSE;
    }
  if (!virtio_mem_get (self, "block-size", &block, cancellable, error)
      || !virtio_mem_get (self, "size", &size, cancellable, error))
    {
      g_prefix_error (error, "cannot resize VM '%s' to %u MiB: ", self->id, mem_mb);
      return FALSE;
    }
  want = (guint64) (mem_mb - base) * 1024 * 1024;
  if (block > 0 && want % block != 0)
    want += block - want % block;
  json_object_set_string_member (args, "path", VIRTIO_MEM_QOM_PATH);
  json_object_set_string_member (args, "property", "requested-size");
  json_object_set_int_member (args, "value", (gint64) want);
  if (!hvk_qemu_vm_qmp_run (self, "qom-set", args, cancellable, error))
    {
      g_prefix_error (error, "cannot resize VM '%s' to %u MiB: ", self->id, mem_mb);
      return FALSE;
    }

  last = size;
  while (last != want && still < max_still)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, &local_error))
        break;
      g_usleep (VIRTIO_MEM_POLL_US);
      if (!virtio_mem_get (self, "size", &size, cancellable, &local_error))
        break;
      still = size != last ? 0 : still + 1;
      last = size;
    }
  self->memory_mb = base + (guint32) (last / (1024 * 1024));
  if (new_mem_mb != NULL)
    *new_mem_mb = self->memory_mb;
  if (local_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "VM '%s' reached %u MiB of the %u requested: ",
                                  self->id, self->memory_mb, mem_mb);
      return FALSE;
    }
  if (last < want)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "VM '%s' plugged %u MiB of virtio-mem, not the %" G_GUINT64_FORMAT
                   " MiB for %u MiB (is the guest's virtio_mem driver loaded?)",
                   self->id, self->memory_mb - base, want / (1024 * 1024), mem_mb);
      return FALSE;
    }
  if (last > want)
    g_debug ("VM '%s': the guest unplugged down to %u MiB of the %u MiB requested",
             self->id, self->memory_mb, mem_mb);
  return TRUE;
}

gboolean
hvk_qemu_vm_resize_memory (HvkHypervisor   *hypervisor,
                    guint32          mem_mb,
                    guint32          block_size_mb,
                    gboolean         probe,
                    guint32         *new_mem_mb,
                    HvkMemoryDevice *mem_dev,
                    GCancellable    *cancellable,
                    GError         **error)
{
  HvkQemuHypervisor *self = HVK_QEMU_HYPERVISOR (hypervisor);
  g_autoptr(JsonObject) backend = json_object_new ();
  g_autoptr(JsonObject) dimm = json_object_new ();
  g_autoptr(HvkQemuRecord) record = NULL;
  g_autoptr(JsonNode) devices = NULL;
  g_autofree char *memdev = NULL;
  g_autofree char *dimm_id = NULL;
  const char *mem_path;
  guint32 add;
  guint32 max_mb;
  guint32 slots;
  guint n_dimms;

  if (new_mem_mb != NULL)
    *new_mem_mb = self->memory_mb;
  if (mem_dev != NULL)
    memset (mem_dev, 0, sizeof *mem_dev);
  if (!hvk_qemu_vm_check_state (self, "resize the memory of", S (RUNNING) | S (PAUSED), error))
    return FALSE;
  if (!hvk_qemu_vm_reconcile_if_pending (self, cancellable, error))
    return FALSE;
  if (self->layout != NULL && self->layout->virtio_mem_mb > 0)
    return resize_virtio_mem (self, mem_mb, new_mem_mb, cancellable, error);

  /* DIMMs do not shrink: a smaller request keeps what the guest has. */
  if (mem_mb <= self->memory_mb)
    return TRUE;

  add = mem_mb - self->memory_mb;
  if (block_size_mb > 0 && add % block_size_mb != 0)
    add += block_size_mb - add % block_size_mb;
  {
    g_autofree char *what = g_strdup_printf ("%u MiB of memory (pc-dimm)", add);

    if (!hvk_qemu_vm_hotplug_allowed_after_vcpu_unplug (self, what, error))
      return FALSE;
  }

  max_mb = self->layout ? self->layout->max_memory_mb : 0;
  slots = self->layout ? self->layout->memory_slots : 0;
  {
    g_autoptr(GPtrArray) dimms = hotplugged_of_kind (self, HVK_DEVICE_KIND_MEMORY);
    n_dimms = dimms->len;
  }
  /* Cold-plugged pc-dimms hold slots too. */
  hvk_qemu_vm_foreach_cold_device (self, hvk_qemu_count_cold_dimm, &n_dimms);
  if (max_mb > 0 && self->memory_mb + add > max_mb)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "cannot resize VM '%s' to %u MiB: more than its maximum %u MiB "
                   "(default_maxmemory)", self->id, self->memory_mb + add, max_mb);
      return FALSE;
    }
  if (n_dimms >= slots)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "cannot resize the memory of VM '%s': all %u memory slots are used "
                   "(memory_slots)", self->id, slots);
      return FALSE;
    }

  /* Not an id a cold device has (nor its memory object, mem-ID). */
  for (;;)
    {
      g_free (dimm_id);
      dimm_id = g_strdup_printf ("dimm%u", self->next_dimm);
      if (hvk_qemu_records_lookup (self->hotplugged, dimm_id) == NULL
          && hvk_config_lookup_device (self->config, dimm_id) == NULL
          && hvk_qemu_vm_cold_device_lookup (self, dimm_id) == NULL)
        break;
      self->next_dimm++;
    }
  memdev = g_strdup_printf ("mem-dimm%u", self->next_dimm);

  /* Shared file-backed memory where the boot memory is (virtio-fs and
   * file_mem_backend need the guest's memory mappable by another process). */
  mem_path = hvk_qemu_vm_settings (self)->file_mem_backend;
  if (mem_path == NULL && hvk_qemu_vm_is_virtio_fs (self))
    mem_path = "/dev/shm";
  if (mem_path != NULL)
    {
      json_object_set_string_member (backend, "qom-type", "memory-backend-file");
      json_object_set_string_member (backend, "mem-path", mem_path);
      json_object_set_boolean_member (backend, "share", TRUE);
    }
  else
    json_object_set_string_member (backend, "qom-type", "memory-backend-ram");
  json_object_set_string_member (backend, "id", memdev);
  json_object_set_int_member (backend, "size", (gint64) add * 1024 * 1024);
  if (!hvk_qemu_vm_qmp_run (self, "object-add", backend, cancellable, error))
    {
      g_prefix_error (error, "cannot add %u MiB to VM '%s': ", add, self->id);
      return FALSE;
    }

  json_object_set_string_member (dimm, "driver", "pc-dimm");
  json_object_set_string_member (dimm, "id", dimm_id);
  json_object_set_string_member (dimm, "memdev", memdev);
  /* With guest NUMA, DIMMs take the nodes in turn. */
  if (self->layout != NULL && self->layout->numa_nodes > 1)
    json_object_set_int_member (dimm, "node", self->next_dimm % self->layout->numa_nodes);
  if (!hvk_qemu_vm_qmp_run (self, "device_add", dimm, cancellable, error))
    {
      g_autoptr(JsonObject) del = json_object_new ();
      json_object_set_string_member (del, "id", memdev);
      hvk_qemu_vm_qmp_run (self, "object-del", del, cancellable, NULL);
      g_prefix_error (error, "cannot add %u MiB to VM '%s': ", add, self->id);
      return FALSE;
    }
  self->next_dimm++;
  self->memory_mb += add;

  record = hvk_qemu_record_new (dimm_id, HVK_DEVICE_KIND_MEMORY, "pc-dimm");
  record->memdev = g_strdup (memdev);
  record->size_mb = add;
  record->has_size_mb = TRUE;

  if (mem_dev != NULL)
    {
      mem_dev->size_mb = add;
      mem_dev->probe = probe;
      mem_dev->slot = -1;
    }
  /* Where the DIMM landed; informative, so failures do not undo it. */
  devices = hvk_qemu_vm_qmp_exec (self, "query-memory-devices", NULL, cancellable, NULL);
  if (devices != NULL && JSON_NODE_HOLDS_ARRAY (devices))
    {
      JsonArray *list = json_node_get_array (devices);

      for (guint i = 0; i < json_array_get_length (list); i++)
        {
          JsonObject *entry = json_array_get_object_element (list, i);
          JsonObject *data = entry && json_object_has_member (entry, "data")
                             ? json_object_get_object_member (entry, "data") : NULL;

          if (data == NULL
              || g_strcmp0 (json_object_get_string_member_with_default (data, "id", NULL), dimm_id) != 0)
            continue;
          record->slot = json_object_get_int_member_with_default (data, "slot", -1);
          record->has_slot = TRUE;
          if (mem_dev != NULL)
            {
              mem_dev->slot = (int) json_object_get_int_member_with_default (data, "slot", -1);
              mem_dev->addr = (guint64) json_object_get_int_member_with_default (data, "addr", 0);
            }
        }
    }
  hvk_qemu_records_add (self->hotplugged, g_steal_pointer (&record));

  if (new_mem_mb != NULL)
    *new_mem_mb = self->memory_mb;
  return TRUE;
}

