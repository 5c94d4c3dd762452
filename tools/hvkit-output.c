/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "hvkit-tool.h"

/* Errors and warnings go to stderr as `hvkit: error: MESSAGE`. */

int
hvkit_fail (const GError *error,
            int           exit_code)
{
  g_printerr ("hvkit: error: %s\n", error ? error->message : "unknown error");
  return exit_code;
}

int
hvkit_fail_printf (int         exit_code,
                   const char *format,
                   ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("hvkit: error: %s\n", message);
  return exit_code;
}

void
hvkit_warn (const char *format,
            ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("hvkit: warning: %s\n", message);
}

/* A configuration or an argument that does not parse is the user's input
 * (2); anything else is an operation that failed (1). */
int
hvkit_exit_code_for (const GError *error)
{
  if (error != NULL && error->domain == HVK_ERROR
      && (error->code == HVK_ERROR_INVALID_CONFIG
          || error->code == HVK_ERROR_INVALID_ARGUMENT))
    return HVKIT_EXIT_USAGE;
  if (error != NULL && (error->domain == G_OPTION_ERROR
                        || error->domain == G_KEY_FILE_ERROR))
    return HVKIT_EXIT_USAGE;
  return HVKIT_EXIT_FAILED;
}

void
hvkit_print_json (JsonNode *node)
{
  g_autofree char *text = json_to_string (node, TRUE);

  g_print ("%s\n", text);
}

gboolean
hvkit_write_all (int         fd,
                 const void *data,
                 gsize       len)
{
  const char *p = data;

  while (len > 0)
    {
      gssize n = write (fd, p, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

GOptionContext *
hvkit_option_context_new (const char         *parameters,
                          const char         *summary,
                          const GOptionEntry *entries)
{
  GOptionContext *context = g_option_context_new (parameters);

  g_option_context_set_summary (context, summary);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, NULL);
  return context;
}

/* Parses a command's options; argv[0] is the command name.  Exactly
 * @n_positional arguments must remain after it. */
gboolean
hvkit_has_option (int          argc,
                  char       **argv,
                  const char  *option)
{
  for (int i = 1; i < argc && !g_str_equal (argv[i], "--"); i++)
    if (g_str_equal (argv[i], option))
      return TRUE;
  return FALSE;
}

gboolean
hvkit_parse_options (GOptionContext   *context,
                     int              *argc,
                     char           ***argv,
                     int               n_positional,
                     int              *exit_code)
{
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *exit_code = hvkit_fail (error, HVKIT_EXIT_USAGE);
      return FALSE;
    }

  if (*argc - 1 != n_positional)
    {
      if (*argc - 1 > n_positional)
        *exit_code = hvkit_fail_printf (HVKIT_EXIT_USAGE,
                                        "%s: unexpected argument '%s'",
                                        (*argv)[0], (*argv)[n_positional + 1]);
      else
        *exit_code = hvkit_fail_printf (HVKIT_EXIT_USAGE,
                                        "%s: missing VM id (see `hvkit %s --help`)",
                                        (*argv)[0], (*argv)[0]);
      return FALSE;
    }
  return TRUE;
}
