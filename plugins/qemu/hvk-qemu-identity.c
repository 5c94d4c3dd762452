/* SPDX-License-Identifier: Apache-2.0 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hvk-qemu-identity.h"

/* An id: a number, or a name the host's user (group) database knows. */
static gboolean
parse_number (const char *text,
              guint32    *id)
{
  guint64 n;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT32 - 1, &n, NULL))
    return FALSE;
  *id = (guint32) n;
  return TRUE;
}

/* A numeric user is looked up (for its primary group) only when
 * vmm_group does not name the group: the lookup loads the host's NSS
 * modules (libnss_systemd on Debian), most of what resolving costs. */
static gboolean
lookup_user (const char  *text,
             gboolean     want_primary,
             uid_t       *uid,
             gid_t       *primary,
             gboolean    *has_primary,
             GError     **error)
{
  struct passwd pw, *found = NULL;
  char buf[4096];
  guint32 n;

  *has_primary = FALSE;
  if (parse_number (text, &n))
    {
      *uid = n;
      if (want_primary && getpwuid_r (*uid, &pw, buf, sizeof buf, &found) == 0 && found != NULL)
        {
          *primary = found->pw_gid;
          *has_primary = TRUE;
        }
      return TRUE;
    }
  if (getpwnam_r (text, &pw, buf, sizeof buf, &found) != 0 || found == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "vmm_user: no user '%s' on this host (a name or a number)", text);
      return FALSE;
    }
  *uid = found->pw_uid;
  *primary = found->pw_gid;
  *has_primary = TRUE;
  return TRUE;
}

static gboolean
lookup_group (const char  *key,
              const char  *text,
              gid_t       *gid,
              GError     **error)
{
  struct group gr, *found = NULL;
  char buf[8192];
  guint32 n;

  if (parse_number (text, &n))
    {
      *gid = n;
      return TRUE;
    }
  if (getgrnam_r (text, &gr, buf, sizeof buf, &found) != 0 || found == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: no group '%s' on this host (a name or a number)", key, text);
      return FALSE;
    }
  *gid = found->gr_gid;
  return TRUE;
}

gboolean
hvk_qemu_identity_resolve (const HvkQemuSettings *settings,
                           HvkQemuIdentity       *identity,
                           GError               **error)
{
  gboolean has_primary = FALSE;
  gid_t primary = 0;
  guint n_groups = settings->vmm_groups != NULL ? g_strv_length (settings->vmm_groups) : 0;

  memset (identity, 0, sizeof *identity);
  if (!settings->rootless)
    {
      const char *key = settings->vmm_user != NULL ? "vmm_user"
                        : settings->vmm_group != NULL ? "vmm_group"
                        : n_groups > 0 ? "vmm_groups" : NULL;

      if (key == NULL)
        return TRUE;
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "%s: only meaningful with rootless=true", key);
      return FALSE;
    }

  if (settings->vmm_user == NULL)
    {
      if (geteuid () != 0)
        return TRUE;   /* QEMU inherits hvkit's unprivileged identity */
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "rootless=true: hvkit runs as root and needs vmm_user (and vmm_group "
                   "unless the user has a passwd entry): it creates no users");
      return FALSE;
    }
  if (!lookup_user (settings->vmm_user, settings->vmm_group == NULL, &identity->uid,
                    &primary, &has_primary, error))
    return FALSE;
  if (settings->vmm_group != NULL)
    {
      if (!lookup_group ("vmm_group", settings->vmm_group, &identity->gid, error))
        return FALSE;
    }
  else if (has_primary)
    identity->gid = primary;
  else
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "vmm_group: needed: vmm_user %s has no passwd entry to take a group from",
                   settings->vmm_user);
      return FALSE;
    }
  if (n_groups > HVK_QEMU_IDENTITY_MAX_GROUPS)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "vmm_groups: %u groups, at most %d", n_groups, HVK_QEMU_IDENTITY_MAX_GROUPS);
      return FALSE;
    }
  for (guint i = 0; i < n_groups; i++)
    if (!lookup_group ("vmm_groups", settings->vmm_groups[i], &identity->groups[i], error))
      return FALSE;
  identity->n_groups = n_groups;

  /* Root by another name is not unprivileged. */
  if (identity->uid == 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "vmm_user: '%s' is root (uid 0): rootless needs an unprivileged user",
                   settings->vmm_user);
      return FALSE;
    }
  if (identity->gid == 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "vmm_group: gid 0 is root's group: rootless needs another");
      return FALSE;
    }
  for (guint i = 0; i < identity->n_groups; i++)
    if (identity->groups[i] == 0)
      {
        g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                     "vmm_groups: '%s' is root's group (gid 0)", settings->vmm_groups[i]);
        return FALSE;
      }

  if (geteuid () != 0)
    {
      /* Unprivileged: QEMU inherits hvkit's identity, which must be the
       * one asked for. */
      if (identity->uid != geteuid () || identity->gid != getegid () || identity->n_groups > 0)
        {
          g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED,
                       "rootless: hvkit runs as uid %u gid %u and cannot start QEMU as "
                       "vmm_user %s (uid %u, gid %u%s): only root can change the VMM's identity",
                       (unsigned) geteuid (), (unsigned) getegid (), settings->vmm_user,
                       (unsigned) identity->uid, (unsigned) identity->gid,
                       identity->n_groups > 0 ? ", with vmm_groups" : "");
          return FALSE;
        }
      identity->set = FALSE;
      return TRUE;
    }
  identity->set = TRUE;
  return TRUE;
}

static void
describe (const HvkQemuIdentity *identity,
          GString               *out)
{
  g_string_append_printf (out, "uid %u gid %u", (unsigned) identity->uid, (unsigned) identity->gid);
  for (guint i = 0; i < identity->n_groups; i++)
    g_string_append_printf (out, "%s%u", i == 0 ? " groups " : ",", (unsigned) identity->groups[i]);
}

static const char *
mode_word (int mode)
{
  if (mode & W_OK)
    return "write to";
  if (mode & R_OK)
    return "read";
  return (mode & X_OK) ? "reach (execute/search)" : "see";
}

typedef struct {
  const HvkQemuIdentity *identity;
  const HvkQemuAccess   *checks;
  guint                  n_checks;
  int                    answer[2];
} AccessCheck;

/* A thread takes the identity and answers, for the first path it cannot
 * reach, its index and errno.  Credentials are per thread in the kernel:
 * the raw system calls change this thread's only (glibc's wrappers would
 * change every thread of the process), and they go with the thread.  A
 * thread, not a forked child: no copy of hvkit's page tables on every
 * rootless create. */
static gpointer
access_check_thread (gpointer data)
{
  AccessCheck *c = data;
  const HvkQemuIdentity *identity = c->identity;

  c->answer[0] = -1;
  c->answer[1] = 0;
  if (syscall (SYS_setgroups, (long) identity->n_groups, identity->groups) != 0
      || syscall (SYS_setresgid, (long) identity->gid, (long) identity->gid, (long) identity->gid) != 0
      || syscall (SYS_setresuid, (long) identity->uid, (long) identity->uid, (long) identity->uid) != 0)
    {
      c->answer[0] = -2;
      c->answer[1] = errno;
      return NULL;
    }
  for (guint i = 0; i < c->n_checks; i++)
    if (c->checks[i].path != NULL && access (c->checks[i].path, c->checks[i].mode) != 0)
      {
        c->answer[0] = (int) i;
        c->answer[1] = errno;
        break;
      }
  return NULL;
}

gboolean
hvk_qemu_identity_check_access (const HvkQemuIdentity *identity,
                                const HvkQemuAccess   *checks,
                                guint                  n_checks,
                                GError               **error)
{
  AccessCheck check = { identity, checks, n_checks, { -2, EIO } };
  g_autoptr(GError) thread_error = NULL;
  const int *answer = check.answer;
  GThread *thread;

  if (!identity->set || n_checks == 0)
    return TRUE;
  thread = g_thread_try_new ("hvkit-access", access_check_thread, &check, &thread_error);
  if (thread == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "rootless: cannot start a thread: %s",
                   thread_error->message);
      return FALSE;
    }
  g_thread_join (thread);
  if (answer[0] == -2)
    {
      g_autoptr(GString) who = g_string_new (NULL);

      describe (identity, who);
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "rootless: cannot take %s to check "
                   "what the VMM can reach: %s", who->str,
                   g_strerror (answer[1]));
      return FALSE;
    }
  if (answer[0] >= 0 && (guint) answer[0] < n_checks)
    {
      const HvkQemuAccess *check = &checks[answer[0]];
      g_autoptr(GString) who = g_string_new (NULL);

      describe (identity, who);
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG,
                   "rootless: the VMM (%s) cannot %s its %s %s: %s", who->str,
                   mode_word (check->mode), check->what, check->path, g_strerror (answer[1]));
      return FALSE;
    }
  return TRUE;
}

static gboolean
set_owner_mode (const char  *path,
                uid_t        uid,
                gid_t        gid,
                mode_t       mode,
                GError     **error)
{
  if (chown (path, uid, gid) != 0 || chmod (path, mode) != 0)
    {
      int saved = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "rootless: %s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

gboolean
hvk_qemu_identity_prepare_dirs (const HvkQemuIdentity *identity,
                                const char            *store,
                                const char            *vm_dir,
                                const char            *vmm_dir,
                                GError               **error)
{
  struct stat st;

  if (mkdir (vmm_dir, 0700) != 0 && errno != EEXIST)
    {
      int saved = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "rootless: cannot create %s: %s",
                   vmm_dir, g_strerror (saved));
      return FALSE;
    }
  if (!identity->set)
    return TRUE;
  /* The store: searchable, not listable, by everybody (libvirt's
   * /var/lib/libvirt/qemu is 0751); hvkit still owns it. */
  if (stat (store, &st) == 0 && (st.st_mode & 07777) != 0711 && chmod (store, 0711) != 0)
    {
      int saved = errno;
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "rootless: %s: %s", store,
                   g_strerror (saved));
      return FALSE;
    }
  /* The VM dir: hvkit's files stay root's (0600), only the VMM's group
   * may pass through to its own dir. */
  return set_owner_mode (vm_dir, 0, identity->gid, 0710, error)
         && set_owner_mode (vmm_dir, identity->uid, identity->gid, 0700, error);
}

void
hvk_qemu_identity_add_monitor_args (const HvkQemuIdentity *identity,
                                    GPtrArray             *argv)
{
  g_autoptr(GString) groups = NULL;

  if (!identity->set)
    return;
  g_ptr_array_add (argv, g_strdup ("--uid"));
  g_ptr_array_add (argv, g_strdup_printf ("%u", (unsigned) identity->uid));
  g_ptr_array_add (argv, g_strdup ("--gid"));
  g_ptr_array_add (argv, g_strdup_printf ("%u", (unsigned) identity->gid));
  if (identity->n_groups == 0)
    return;
  groups = g_string_new (NULL);
  for (guint i = 0; i < identity->n_groups; i++)
    g_string_append_printf (groups, "%s%u", i > 0 ? "," : "", (unsigned) identity->groups[i]);
  g_ptr_array_add (argv, g_strdup ("--groups"));
  g_ptr_array_add (argv, g_string_free (g_steal_pointer (&groups), FALSE));
}

gboolean
hvk_qemu_identity_open_image (const char  *device_id,
                              const char  *path,
                              gboolean     readonly,
                              int         *rw_fd,
                              int         *ro_fd,
                              GError     **error)
{
  *rw_fd = -1;
  *ro_fd = -1;
  if (!readonly && (*rw_fd = open (path, O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0)
    goto failed;
  if ((*ro_fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
    goto failed;
  return TRUE;

failed:
  {
    int saved = errno;

    if (*rw_fd >= 0)
      close (*rw_fd);
    *rw_fd = -1;
    g_set_error (error, HVK_ERROR, saved == ENOENT ? HVK_ERROR_NOT_FOUND : HVK_ERROR_FAILED,
                 "block device '%s': cannot open %s to pass it to the VMM: %s",
                 device_id, path, g_strerror (saved));
    return FALSE;
  }
}
