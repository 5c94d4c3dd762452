/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A stand-in for ACRN's `acrnctl`, for tests: appends its arguments, space
 * separated, as one line to $HVKIT_FAKE_ACRNCTL_LOG and exits 0.
 *
 * Knob: HVKIT_FAKE_ACRNCTL_FAIL=MSG prints "acrnctl: MSG" on stderr and
 * exits 1.
 */
#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  const char *log_path = getenv ("HVKIT_FAKE_ACRNCTL_LOG");
  const char *fail = getenv ("HVKIT_FAKE_ACRNCTL_FAIL");
  FILE *log_file = NULL;

  if (log_path != NULL && *log_path != '\0')
    log_file = fopen (log_path, "a");
  if (log_file != NULL)
    {
      for (int i = 1; i < argc; i++)
        fprintf (log_file, "%s%s", i > 1 ? " " : "", argv[i]);
      fprintf (log_file, "\n");
      fclose (log_file);
    }

  if (fail != NULL)
    {
      fprintf (stderr, "acrnctl: %s\n", fail);
      return 1;
    }
  return 0;
}
