/* SPDX-License-Identifier: Apache-2.0 */
/* A plugin whose init records each call (a line in $HVK_TEST_INIT_LOG),
 * then crashes (abort) when $HVK_TEST_INIT_CRASH is set, else succeeds.
 * The tests check that one file's init never runs twice. */
#include "config.h"

#include <hvkit/hvkit.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static gboolean
crash_init (HvkPlugin  *plugin,
            GError    **error)
{
  const char *log = g_getenv ("HVK_TEST_INIT_LOG");

  if (log != NULL)
    {
      int fd = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

      if (fd >= 0)
        {
          (void) write (fd, "init\n", 5);
          close (fd);
        }
    }
  if (g_getenv ("HVK_TEST_INIT_CRASH") != NULL)
    abort ();
  return TRUE;
}

HVK_PLUGIN_DEFINE ("init-crash", "Crashes in init on demand", "1.0", "Apache-2.0",
                   crash_init)
