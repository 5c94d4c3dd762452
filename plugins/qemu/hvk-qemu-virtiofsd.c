/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <glib-unix.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvk-qemu-private.h"
#include "hvk-qemu-virtiofsd.h"

/* The virtio-fs daemon QEMU's vhost-user-fs-pci connects to (Kata's
 * virtiofsd.go): started before QEMU, on STATE/ID/vhost-fs.sock, in its
 * own session so a terminal's Ctrl-C reaches only hvkit, and stopped
 * with the VM. */

/* Kata's cache names (never/auto/always) to the C virtiofsd's. */
static const struct {
  const char *kata;
  const char *virtiofsd;
} cache_modes[] = {
  { "never", "none" },
  { "none", "none" },
  { "auto", "auto" },
  { "always", "always" },
};

static void
child_new_session (gpointer user_data)
{
  setsid ();
  umask (HVK_QEMU_CHILD_UMASK);
}

/* virtiofsd's command line: the daemon, its socket, the shared
 * directory, Kata's cache mode as virtiofsd spells it, then
 * virtio_fs_extra_args (NULL-terminated). */
GPtrArray *
hvk_qemu_virtiofsd_argv (const HvkQemuSettings *settings,
                         const char            *socket_path)
{
  const char *cache = settings->virtio_fs_cache;
  const char *cache_arg = NULL;
  const char * const *extra = (const char * const *) settings->virtio_fs_extra_args;
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup (settings->virtio_fs_daemon));
  g_ptr_array_add (argv, g_strdup_printf ("--socket-path=%s", socket_path));
  g_ptr_array_add (argv, g_strdup ("-o"));
  g_ptr_array_add (argv, g_strdup_printf ("source=%s", settings->shared_path));

  for (guint i = 0; cache != NULL && i < G_N_ELEMENTS (cache_modes); i++)
    if (g_str_equal (cache, cache_modes[i].kata))
      cache_arg = cache_modes[i].virtiofsd;
  if (cache != NULL && cache_arg == NULL)
    cache_arg = cache;

  if (cache_arg != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("-o"));
      g_ptr_array_add (argv, g_strdup_printf ("cache=%s", cache_arg));
    }
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (extra[i]));
  g_ptr_array_add (argv, NULL);

  return argv;
}

/* The last @max bytes a dead daemon wrote to @fd (NULL if none),
 * stripped. */
static char *
read_output_tail (int   fd,
                  gsize max)
{
  g_autoptr(GString) out = g_string_new (NULL);
  char buffer[4096];
  ssize_t n;

  g_unix_set_fd_nonblocking (fd, TRUE, NULL);
  while ((n = read (fd, buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0)
      g_string_append_len (out, buffer, n);
  if (out->len > max)
    g_string_erase (out, 0, out->len - max);
  g_strstrip (out->str);
  return out->str[0] != '\0' ? g_strdup (out->str) : NULL;
}

gboolean
hvk_qemu_virtiofsd_start (HvkConfig   *config,
                          const HvkQemuSettings *settings,
                          const char  *socket_path,
                          gint64       deadline_us,
                          int         *out_pid,
                          guint64     *out_start_time,
                          int         *out_log_fd,
                          GError     **error)
{
  const char *daemon = settings->virtio_fs_daemon;
  const char *shared = settings->shared_path;
  g_autoptr(GPtrArray) argv = NULL;
  g_autoptr(GError) local_error = NULL;
  int log_pipe[2] = { -1, -1 };
  GPid pid = 0;
  gboolean ok;

  /* The default daemon obeys the allow-list too. */
  if (!hvk_qemu_check_allowed (config, "virtio_fs_daemon", "valid_virtio_fs_daemon_paths",
                               (const char * const *) settings->valid_virtio_fs_daemon_paths,
                               daemon, error))
    return FALSE;
  if (shared == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: [%s] shared_fs=virtio-fs needs shared_path",
                   hvk_config_get_source (config) ? hvk_config_get_source (config) : "configuration",
                   hvk_config_get_group (config));
      return FALSE;
    }
  /* virtiofsd splits -o on ',' (and unescapes '\\'): such a path would
   * add options of its own. */
  if (strpbrk (shared, ",\\") != NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: [%s] shared_path '%s' holds ',' or '\\', which virtiofsd's -o "
                   "option list cannot carry",
                   hvk_config_get_source (config) ? hvk_config_get_source (config) : "configuration",
                   hvk_config_get_group (config), shared);
      return FALSE;
    }
  if (!g_file_test (shared, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "virtio-fs shared_path %s is not a directory", shared);
      return FALSE;
    }
  if (!g_file_test (daemon, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "virtio-fs daemon %s (virtio_fs_daemon) does not exist or is not executable",
                   daemon);
      return FALSE;
    }
  if (hvk_config_lookup_key (config, "valid_virtio_fs_daemon_paths") != NULL
      && !hvk_config_check_allowed_path (config, "virtio_fs_daemon",
                                         "valid_virtio_fs_daemon_paths", error))
    return FALSE;

  argv = hvk_qemu_virtiofsd_argv (settings, socket_path);

  /* Its output goes to a pipe that QEMU's hvkit-monitor relays to the
   * VM's virtiofsd.log, capped and rotated (--relay-fd). */
  if (!g_unix_open_pipe (log_pipe, FD_CLOEXEC, &local_error))
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "cannot make a pipe for virtiofsd's output: %s", local_error->message);
      return FALSE;
    }
  unlink (socket_path);
  ok = g_spawn_async_with_pipes_and_fds (NULL, (const char * const *) argv->pdata, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL,
                                         child_new_session, NULL,
                                         -1, log_pipe[1], log_pipe[1], NULL, NULL, 0,
                                         &pid, NULL, NULL, NULL, &local_error);
  close (log_pipe[1]);
  if (!ok)
    {
      close (log_pipe[0]);
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                   "cannot start virtio-fs daemon %s: %s", daemon, local_error->message);
      return FALSE;
    }

  /* Ready when its socket exists; a quick exit is a failure. */
  for (guint spins = 0;; spins++)
    {
      int status;

      if (g_file_test (socket_path, G_FILE_TEST_EXISTS))
        break;
      if (waitpid (pid, &status, WNOHANG) == pid)
        {
          g_autofree char *log = read_output_tail (log_pipe[0], 2048);
          close (log_pipe[0]);
          g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED,
                       "virtio-fs daemon %s exited before creating %s%s%s", daemon,
                       socket_path, log ? ": " : "", log ? log : "");
          return FALSE;
        }
      if (g_get_monotonic_time () >= deadline_us)
        {
          hvk_process_kill (pid, 0, 2000);
          close (log_pipe[0]);
          g_set_error (error, HVK_ERROR, HVK_ERROR_TIMEOUT,
                       "virtio-fs daemon %s did not create %s in time", daemon, socket_path);
          return FALSE;
        }
      g_usleep (spins < 100 ? 1000 : 5000);
    }

  *out_pid = pid;
  *out_start_time = hvk_process_get_start_time (pid);
  *out_log_fd = log_pipe[0];
  return TRUE;
}

void
hvk_qemu_virtiofsd_stop (int     pid,
                         guint64 start_time,
                         guint   timeout_ms)
{
  if (pid <= 0)
    return;
  if (hvk_process_is_alive (pid, start_time))
    kill (pid, SIGTERM);
  if (!hvk_process_wait_dead (pid, start_time,
                              g_get_monotonic_time () + (gint64) timeout_ms * 1000))
    hvk_process_kill (pid, start_time, 2000);
}
