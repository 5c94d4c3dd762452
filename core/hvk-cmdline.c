/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <json-glib/json-glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/**
 * SECTION:hvk-cmdline
 * @short_description: the VMM argument vector builder
 *
 * #HvkCmdline builds the argv of a VMM; appenders describe comma-list
 * values as #HvkOpts.
 */

/**
 * HvkCmdline:
 *
 * The argument vector of a VMM: the program, then arguments appended in
 * order.  Every argument is checked for control characters; comma lists are
 * added as #HvkOpts and escaped there.  File descriptors handed to the VMM
 * are owned by the command line and numbered as the child will see them
 * (3, 4, …).
 */
struct _HvkCmdline {
  GObject parent_instance;

  GPtrArray *argv;  /* NULL-terminated, argv[0] is the program */
  GArray *fds;      /* int, owned; child fd = 3 + index */
};

G_DEFINE_FINAL_TYPE (HvkCmdline, hvk_cmdline, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PROGRAM,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The first descriptor a child gets past stdin, stdout and stderr. */
#define FIRST_CHILD_FD 3

static void
hvk_cmdline_finalize (GObject *object)
{
  HvkCmdline *self = HVK_CMDLINE (object);

  for (guint i = 0; i < self->fds->len; i++)
    g_close (g_array_index (self->fds, int, i), NULL);
  g_array_unref (self->fds);
  g_ptr_array_unref (self->argv);

  G_OBJECT_CLASS (hvk_cmdline_parent_class)->finalize (object);
}

static void
hvk_cmdline_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  HvkCmdline *self = HVK_CMDLINE (object);

  switch (prop_id)
    {
    case PROP_PROGRAM:
      g_value_set_string (value, hvk_cmdline_get_program (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hvk_cmdline_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  HvkCmdline *self = HVK_CMDLINE (object);

  switch (prop_id)
    {
    case PROP_PROGRAM:
      {
        const char *program = g_value_get_string (value);

        /* Construct-only: argv holds only the terminating NULL here. */
        g_ptr_array_insert (self->argv, 0, g_strdup (program != NULL ? program : ""));
      }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hvk_cmdline_class_init (HvkCmdlineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = hvk_cmdline_finalize;
  object_class->get_property = hvk_cmdline_get_property;
  object_class->set_property = hvk_cmdline_set_property;

  /**
   * HvkCmdline:program:
   *
   * The program to run, `argv[0]`.
   */
  properties[PROP_PROGRAM] =
    g_param_spec_string ("program", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hvk_cmdline_init (HvkCmdline *self)
{
  self->argv = g_ptr_array_new_null_terminated (16, g_free, TRUE);
  self->fds = g_array_new (FALSE, FALSE, sizeof (int));
}

/**
 * hvk_cmdline_new:
 * @program: the program, `argv[0]` (e.g. `/usr/bin/qemu-system-x86_64`)
 *
 * Creates a command line holding only @program.
 *
 * Returns: (transfer full): a new #HvkCmdline
 */
HvkCmdline *
hvk_cmdline_new (const char *program)
{
  g_return_val_if_fail (program != NULL, NULL);

  return g_object_new (HVK_TYPE_CMDLINE, "program", program, NULL);
}

/**
 * hvk_cmdline_get_program:
 * @self: an #HvkCmdline
 *
 * Gets the program the command line runs.
 *
 * Returns: (transfer none): the program, `argv[0]`
 */
const char *
hvk_cmdline_get_program (HvkCmdline *self)
{
  g_return_val_if_fail (HVK_IS_CMDLINE (self), NULL);

  return self->argv->len > 0 ? g_ptr_array_index (self->argv, 0) : NULL;
}

/* Checks @arg, to become argument number @position.  The description
 * is only built for the message. */
static gboolean
check_arg (guint        position,
           const char  *flag,
           const char  *arg,
           GError     **error)
{
  g_autofree char *what = NULL;

  if (hvk_check_no_control_chars ("argument", arg, NULL))
    return TRUE;
  if (flag != NULL)
    what = g_strdup_printf ("Value of argument %u (%s)", position, flag);
  else
    what = g_strdup_printf ("Argument %u", position);

  return hvk_check_no_control_chars (what, arg, error);
}

/**
 * hvk_cmdline_add_arg:
 * @self: an #HvkCmdline
 * @arg: the argument, verbatim
 * @error: return location for a #GError
 *
 * Appends one argument.
 *
 * Returns: %TRUE on success, %FALSE with %HVK_ERROR_INVALID_ARGUMENT (naming
 *   the argument's position) if @arg contains a control character; nothing
 *   is added then
 */
gboolean
hvk_cmdline_add_arg (HvkCmdline  *self,
                     const char  *arg,
                     GError     **error)
{
  g_return_val_if_fail (HVK_IS_CMDLINE (self), FALSE);
  g_return_val_if_fail (arg != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_arg (self->argv->len, NULL, arg, error))
    return FALSE;

  g_ptr_array_add (self->argv, g_strdup (arg));
  return TRUE;
}

/**
 * hvk_cmdline_add_args:
 * @self: an #HvkCmdline
 * @error: return location for a #GError
 * @first_arg: the first argument
 * @...: more arguments, then %NULL
 *
 * Appends several arguments, all or none.
 *
 * Returns: %TRUE on success, %FALSE as hvk_cmdline_add_arg() with nothing
 *   added
 */
gboolean
hvk_cmdline_add_args (HvkCmdline  *self,
                      GError     **error,
                      const char  *first_arg,
                      ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list ap;

  g_return_val_if_fail (HVK_IS_CMDLINE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  va_start (ap, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);

  for (guint i = 0; i < args->len; i++)
    if (!check_arg (self->argv->len + i, NULL, g_ptr_array_index (args, i), error))
      return FALSE;

  for (guint i = 0; i < args->len; i++)
    g_ptr_array_add (self->argv, g_strdup (g_ptr_array_index (args, i)));

  return TRUE;
}

/**
 * hvk_cmdline_add_option:
 * @self: an #HvkCmdline
 * @flag: the option, e.g. `-kernel`
 * @value: its value, verbatim (not escaped: for values QEMU does not parse
 *   as a comma list, such as `-kernel PATH` or `-append CMDLINE`)
 * @error: return location for a #GError
 *
 * Appends @flag and @value as two arguments.
 *
 * Returns: %TRUE on success, %FALSE with %HVK_ERROR_INVALID_ARGUMENT (naming
 *   @flag) if either contains a control character; nothing is added then
 */
gboolean
hvk_cmdline_add_option (HvkCmdline  *self,
                        const char  *flag,
                        const char  *value,
                        GError     **error)
{
  g_return_val_if_fail (HVK_IS_CMDLINE (self), FALSE);
  g_return_val_if_fail (flag != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_arg (self->argv->len, NULL, flag, error) ||
      !check_arg (self->argv->len + 1, flag, value, error))
    return FALSE;

  g_ptr_array_add (self->argv, g_strdup (flag));
  g_ptr_array_add (self->argv, g_strdup (value));
  return TRUE;
}

/**
 * hvk_cmdline_add_opts:
 * @self: an #HvkCmdline
 * @flag: the option, e.g. `-device`
 * @opts: its comma-list value
 * @error: return location for a #GError
 *
 * Appends @flag and hvk_opts_to_string() of @opts.
 *
 * Returns: %TRUE on success, %FALSE with %HVK_ERROR_INVALID_ARGUMENT (the
 *   message starts with @flag) if @opts cannot be formatted; nothing is
 *   added then
 */
gboolean
hvk_cmdline_add_opts (HvkCmdline  *self,
                      const char  *flag,
                      HvkOpts     *opts,
                      GError     **error)
{
  g_autofree char *value = NULL;

  g_return_val_if_fail (HVK_IS_CMDLINE (self), FALSE);
  g_return_val_if_fail (flag != NULL, FALSE);
  g_return_val_if_fail (opts != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  value = hvk_opts_to_string (opts, error);
  if (value == NULL)
    {
      g_prefix_error (error, "%s: ", flag);
      return FALSE;
    }

  return hvk_cmdline_add_option (self, flag, value, error);
}

/**
 * hvk_cmdline_take_fd:
 * @self: an #HvkCmdline
 * @fd: a file descriptor to pass to the VMM, owned by @self from now on
 *
 * Takes ownership of @fd (it is closed when @self is finalized) and
 * assigns it the descriptor number the child will see: 3 for the first fd
 * taken, 4 for the next, and so on.  Whoever spawns the VMM maps
 * hvk_cmdline_get_fds() onto those numbers.
 *
 * Returns: the child's descriptor number for @fd, or -1 if @fd is invalid
 */
int
hvk_cmdline_take_fd (HvkCmdline *self,
                     int         fd)
{
  g_return_val_if_fail (HVK_IS_CMDLINE (self), -1);
  g_return_val_if_fail (fd >= 0, -1);

  g_array_append_val (self->fds, fd);
  return FIRST_CHILD_FD + (int) self->fds->len - 1;
}

/**
 * hvk_cmdline_get_fds:
 * @self: an #HvkCmdline
 * @n_fds: (out) (optional): the number of descriptors
 *
 * The descriptors taken with hvk_cmdline_take_fd(), in order: element i
 * becomes the child's descriptor 3 + i.  They stay owned by @self.
 *
 * Returns: (transfer none) (array length=n_fds) (nullable): the parent's
 *   descriptors, %NULL if none
 */
const int *
hvk_cmdline_get_fds (HvkCmdline *self,
                     guint      *n_fds)
{
  g_return_val_if_fail (HVK_IS_CMDLINE (self), NULL);

  if (n_fds != NULL)
    *n_fds = self->fds->len;

  return self->fds->len > 0 ? (const int *) (gpointer) self->fds->data : NULL;
}

/**
 * hvk_cmdline_get_argv:
 * @self: an #HvkCmdline
 *
 * Gets the whole command line as a %NULL-terminated array.
 *
 * Returns: (transfer none) (array zero-terminated=1): the arguments,
 *   program first, valid until @self changes or is finalized
 */
const char * const *
hvk_cmdline_get_argv (HvkCmdline *self)
{
  g_return_val_if_fail (HVK_IS_CMDLINE (self), NULL);

  return (const char * const *) self->argv->pdata;
}

/**
 * hvk_cmdline_get_length:
 * @self: an #HvkCmdline
 *
 * Gets the number of arguments of the command line.
 *
 * Returns: the number of arguments, the program included
 */
guint
hvk_cmdline_get_length (HvkCmdline *self)
{
  g_return_val_if_fail (HVK_IS_CMDLINE (self), 0);

  return self->argv->len;
}

/**
 * hvk_cmdline_to_json:
 * @self: an #HvkCmdline
 *
 * The arguments as a compact JSON array of strings, program first (the
 * form of `hvkit argv --json`).
 *
 * Returns: (transfer full): the JSON text
 */
char *
hvk_cmdline_to_json (HvkCmdline *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  g_return_val_if_fail (HVK_IS_CMDLINE (self), NULL);

  json_builder_begin_array (builder);
  for (guint i = 0; i < self->argv->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (self->argv, i));
  json_builder_end_array (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, FALSE);
  return json_generator_to_data (generator, NULL);
}

/* Characters a POSIX shell leaves alone in a word. */
static gboolean
needs_shell_quote (const char *arg)
{
  if (*arg == '\0')
    return TRUE;

  for (const char *p = arg; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("_-+=:,./@%", *p) == NULL)
      return TRUE;

  return FALSE;
}

/**
 * hvk_cmdline_to_string:
 * @self: an #HvkCmdline
 *
 * The arguments joined by spaces, each quoted with g_shell_quote() only
 * where a shell would need it, for display and logs.
 *
 * Returns: (transfer full): the command line
 */
char *
hvk_cmdline_to_string (HvkCmdline *self)
{
  g_autoptr(GString) out = g_string_new (NULL);

  g_return_val_if_fail (HVK_IS_CMDLINE (self), NULL);

  for (guint i = 0; i < self->argv->len; i++)
    {
      const char *arg = g_ptr_array_index (self->argv, i);

      if (i > 0)
        g_string_append_c (out, ' ');

      if (needs_shell_quote (arg))
        {
          g_autofree char *quoted = g_shell_quote (arg);

          g_string_append (out, quoted);
        }
      else
        g_string_append (out, arg);
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}
