/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hvk-qemu-private.h"
#include "hvk-qemu-hypervisor-private.h"

/* What a running QEMU is doing, as QEMU says (query-status) or, without
 * a QMP round trip, as the watcher and the kernel keep it: the run state
 * hvkit-monitor writes after each event that changes it, and the vCPU
 * threads QEMU names "CPU N/TCG" (or /KVM) under -name …,debug-threads=on.
 * Each reader falls back on QMP when the cheap source cannot tell (a VM
 * started by an older hvkit, a watcher not yet or no longer connected,
 * vCPUs sharing one thread). */

char *
hvk_qemu_vm_query_status (HvkQemuHypervisor *self,
                          GCancellable      *cancellable,
                          GError           **error)
{
  g_autoptr(JsonNode) ret = hvk_qemu_vm_qmp_exec (self, "query-status", NULL, cancellable, error);
  const char *status;

  if (ret == NULL)
    return NULL;
  status = JSON_NODE_HOLDS_OBJECT (ret)
           ? json_object_get_string_member_with_default (json_node_get_object (ret), "status", NULL)
           : NULL;
  if (status == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_QMP,
                   "QMP command 'query-status' of VM '%s' returned no status", self->id);
      return NULL;
    }
  return g_strdup (status);
}

char *
hvk_qemu_vm_runstate (HvkQemuHypervisor *self,
                      GCancellable      *cancellable,
                      GError           **error)
{
  /* The word hvkit-monitor keeps in STATE/ID/runstate, if any. */
  char *runstate = hvk_vm_store_read_run_state (self->paths.runstate_file);

  return runstate != NULL ? runstate : hvk_qemu_vm_query_status (self, cancellable, error);
}

/* "CPU 3/TCG" → 3; -1 for any other name, -2 for "ALL CPUs/TCG"
 * (round-robin TCG: one thread for every vCPU). */
static int
vcpu_index (const char *comm)
{
  char *end;
  long index;

  if (g_str_has_prefix (comm, "ALL CPUs/"))
    return -2;
  if (!g_str_has_prefix (comm, "CPU "))
    return -1;
  index = strtol (comm + 4, &end, 10);
  if (end == comm + 4 || *end != '/' || index < 0 || index > G_MAXINT)
    return -1;
  return (int) index;
}

GHashTable *
hvk_qemu_vm_vcpu_threads (HvkQemuHypervisor *self)
{
  g_autofree char *task_path = g_strdup_printf ("/proc/%d/task", self->pid);
  g_autoptr(GHashTable) ids = g_hash_table_new (NULL, NULL);
  DIR *dir;
  int dir_fd;
  struct dirent *entry;
  gboolean shared = FALSE;

  if (self->pid <= 0 || (dir = opendir (task_path)) == NULL)
    return NULL;
  dir_fd = dirfd (dir);
  while (!shared && (entry = readdir (dir)) != NULL)
    {
      char path[64], comm[32];
      ssize_t n;
      int fd, index;

      if (entry->d_name[0] < '1' || entry->d_name[0] > '9'
          || g_snprintf (path, sizeof path, "%s/comm", entry->d_name) >= (int) sizeof path)
        continue;
      fd = openat (dir_fd, path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        continue;   /* the thread ended */
      n = read (fd, comm, sizeof comm - 1);
      close (fd);
      if (n <= 0)
        continue;
      comm[n] = '\0';
      index = vcpu_index (comm);
      if (index == -2)
        shared = TRUE;
      else if (index >= 0)
        g_hash_table_insert (ids, GUINT_TO_POINTER ((guint) index),
                             GUINT_TO_POINTER ((guint) atoi (entry->d_name)));
    }
  closedir (dir);
  /* The threads are unnamed (an older hvkit started it), shared, or the
   * process is not the one the record names: ask QEMU. */
  if (shared || g_hash_table_size (ids) == 0 || !hvk_qemu_vm_alive (self))
    return NULL;
  return g_steal_pointer (&ids);
}
