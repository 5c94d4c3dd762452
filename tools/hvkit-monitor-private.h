/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hvkit-monitor's parts: the QMP watcher (hvkit-monitor-qmp.c) beside the
 * process keeping (hvkit-monitor.c).  libc only.
 */
#pragma once

#include <stddef.h>

/* The watcher: a QMP connection of the VMM's on which QEMU says why it
 * ends (kept for EXIT_FILE), a GUEST_PANICKED event has the guest's
 * memory dumped, and each change of QEMU's run state is published in a
 * file (`hvkit status` reads it instead of asking QEMU). */
typedef struct {
  const char *socket;
  const char *dump_dir;
  const char *runstate_file;
  int stop;
  int paging;
  int dumping;
  int fd;
  int tries;
  char reason[64];
  char buf[65536];
  size_t len;
} Watcher;

/* Replaces @path with @len bytes of @text (a temporary file renamed over
 * it); quietly nothing when the VM's directory is gone. */
void monitor_write_file (const char *path,
                         const char *text,
                         size_t      len);

/* One attempt to connect (the VMM made its socket before it was ready);
 * at most 50. */
void watcher_connect (Watcher *w);

/* Reads what the socket holds and acts on whole lines; 0 once it closed. */
int watcher_read (Watcher *w);

/* The connection ended: the run state is no longer known. */
void watcher_close (Watcher *w);
