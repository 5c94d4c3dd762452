/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A scripted fake QMP server in a thread (the idea of libvirt's
 * qemumonitortestutils): the script says what the server sends and which
 * commands it expects; the server records every mismatch and every
 * command line it received. */

#include <hvkit/hvkit.h>

G_BEGIN_DECLS

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\n"
#define RETURN_EMPTY "{\"return\": {}}"

typedef enum {
  STEP_SEND,      /* write @text verbatim */
  STEP_CHUNKED,   /* write @text a few bytes at a time */
  STEP_EXPECT,    /* read one command; its "execute" must be @text */
  STEP_REPLY,     /* write the JSON object @text with the last command's id */
  STEP_REPLY_ID,  /* write @text verbatim (carries its own id) */
  STEP_SLEEP,     /* sleep @delay_ms */
  STEP_CLOSE,     /* close the connection */
  STEP_DRAIN,     /* read until the client closes */
  STEP_REFUSE_REST, /* until the client closes, record each command and
                     * answer it with a QMP error (a client that must send
                     * nothing more fails fast, and the test can see what
                     * it sent in @received) */
} StepType;

typedef struct {
  StepType    type;
  const char *text;
  guint       delay_ms;
} Step;

typedef struct {
  char       *dir;
  char       *path;
  int         listen_fd;
  const Step *steps;
  guint       n_steps;
  GThread    *thread;
  GString    *failures;
  GPtrArray  *received;   /* (element-type utf8) command lines */
} FakeServer;

#define REFUSED_DESC "fake-qmp: not in the script"

#define HANDSHAKE \
  { STEP_SEND, GREETING, 0 }, \
  { STEP_EXPECT, "qmp_capabilities", 0 }, \
  { STEP_REPLY, RETURN_EMPTY, 0 }

FakeServer *fake_server_new    (const Step *steps,
                                guint       n_steps);
/* Waits for the script to end (the client must have closed for DRAIN). */
void        fake_server_join   (FakeServer *server);
/* Joins, asserts the script saw what it expected, frees. */
void        fake_server_finish (FakeServer *server);
/* The arguments of the @index-th command received (transfer full). */
JsonObject *fake_server_arguments (FakeServer *server,
                                   guint       index);

G_END_DECLS
