/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <stdarg.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/tc_act/tc_mirred.h>

#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/tc.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/class.h>
#include <netlink/route/classifier.h>
#include <netlink/route/action.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/act/mirred.h>

#include "hvk-qemu-tap-limit.h"

#define HTB_QDISC TC_HANDLE (1, 0)
#define HTB_CLASS TC_HANDLE (1, 1)
/* TC_HANDLE (0xffff, 0), spelt unsigned: the macro shifts an int. */
#define INGRESS_QDISC 0xffff0000U

typedef struct nl_sock nl_sock_t;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (nl_sock_t, nl_socket_free)

static struct nl_sock *
route_socket (GError **error)
{
  struct nl_sock *sock = nl_socket_alloc ();
  int err;

  if (sock == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot allocate a netlink socket");
      return NULL;
    }
  err = nl_connect (sock, NETLINK_ROUTE);
  if (err < 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "cannot open a route netlink socket: %s",
                   nl_geterror (err));
      nl_socket_free (sock);
      return NULL;
    }
  return sock;
}

static gboolean G_GNUC_PRINTF (3, 4)
nl_failed (int          err,
           GError     **error,
           const char  *format,
           ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, HVK_ERROR, err == -NLE_PERM ? HVK_ERROR_NOT_SUPPORTED : HVK_ERROR_FAILED,
               "cannot %s: %s", what, nl_geterror (err));
  return FALSE;
}

/* From the tap's name, not its index: the IFB device can then be found
 * (and removed) after QEMU closed a tap it created, which takes the tap
 * and its index away.  "hvkifb" + 8 hex digits fits IFNAMSIZ. */
char *
hvk_tap_limit_ifb_name (const char *ifname)
{
  return g_strdup_printf ("hvkifb%08x", g_str_hash (ifname != NULL ? ifname : ""));
}

static int
lookup_index (const char  *ifname,
              GError     **error)
{
  unsigned int index;

  if (ifname == NULL || *ifname == '\0' || strlen (ifname) >= IFNAMSIZ)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "invalid interface name '%s'", ifname ? ifname : "");
      return -1;
    }
  index = if_nametoindex (ifname);
  if (index == 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND,
                   "no network interface '%s' on the host", ifname);
      return -1;
    }
  return (int) index;
}

/* An HTB qdisc at the root of @index with one class at @bps. */
static gboolean
add_htb (struct nl_sock  *sock,
         int              index,
         const char      *ifname,
         guint64          bps,
         guint64          burst,
         GError         **error)
{
  struct rtnl_qdisc *qdisc = rtnl_qdisc_alloc ();
  struct rtnl_class *class = rtnl_class_alloc ();
  gboolean ok = FALSE;
  int err;

  rtnl_tc_set_ifindex (TC_CAST (qdisc), index);
  rtnl_tc_set_parent (TC_CAST (qdisc), TC_H_ROOT);
  rtnl_tc_set_handle (TC_CAST (qdisc), HTB_QDISC);
  rtnl_tc_set_kind (TC_CAST (qdisc), "htb");
  rtnl_htb_set_defcls (qdisc, TC_H_MIN (HTB_CLASS));
  err = rtnl_qdisc_add (sock, qdisc, NLM_F_CREATE | NLM_F_REPLACE);
  if (err < 0)
    {
      nl_failed (err, error, "add an HTB qdisc on %s", ifname);
      goto out;
    }

  rtnl_tc_set_ifindex (TC_CAST (class), index);
  rtnl_tc_set_parent (TC_CAST (class), HTB_QDISC);
  rtnl_tc_set_handle (TC_CAST (class), HTB_CLASS);
  rtnl_tc_set_kind (TC_CAST (class), "htb");
  rtnl_htb_set_rate64 (class, bps / 8);
  rtnl_htb_set_ceil64 (class, bps / 8);
  if (burst > 0)
    {
      rtnl_htb_set_rbuffer (class, (uint32_t) MIN (burst, G_MAXUINT32));
      rtnl_htb_set_cbuffer (class, (uint32_t) MIN (burst, G_MAXUINT32));
    }
  err = rtnl_class_add (sock, class, NLM_F_CREATE);
  if (err < 0)
    {
      nl_failed (err, error, "add an HTB class on %s", ifname);
      goto out;
    }
  ok = TRUE;
out:
  rtnl_class_put (class);
  rtnl_qdisc_put (qdisc);
  return ok;
}

static int
delete_qdisc (struct nl_sock *sock,
              int             index,
              guint32         parent)
{
  struct rtnl_qdisc *qdisc = rtnl_qdisc_alloc ();
  int err;

  rtnl_tc_set_ifindex (TC_CAST (qdisc), index);
  rtnl_tc_set_parent (TC_CAST (qdisc), parent);
  err = rtnl_qdisc_delete (sock, qdisc);
  rtnl_qdisc_put (qdisc);
  /* None there (or the kernel's default one, which has no handle). */
  return err == -NLE_OBJ_NOTFOUND || err == -NLE_NOADDR || err == -NLE_INVAL ? 0 : err;
}

/* Our IFB device, if there is one: a device of that name and another
 * type is somebody else's and stays. */
static int
delete_ifb (struct nl_sock *sock,
            const char     *name)
{
  struct rtnl_link *link = NULL;
  int err = rtnl_link_get_kernel (sock, 0, name, &link);

  if (err < 0)
    return err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV ? 0 : err;
  if (g_strcmp0 (rtnl_link_get_type (link), "ifb") == 0)
    {
      err = rtnl_link_delete (sock, link);
      if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV)
        err = 0;
    }
  rtnl_link_put (link);
  return err;
}

/* Whatever hvk_tap_limit_apply() put on @index: both qdiscs, the IFB. */
static gboolean
clear_index (struct nl_sock  *sock,
             int              index,
             const char      *ifname,
             GError         **error)
{
  g_autofree char *ifb = hvk_tap_limit_ifb_name (ifname);
  int err;

  if ((err = delete_qdisc (sock, index, TC_H_ROOT)) < 0)
    return nl_failed (err, error, "remove the root qdisc of %s", ifname);
  if ((err = delete_qdisc (sock, index, TC_H_INGRESS)) < 0)
    return nl_failed (err, error, "remove the ingress qdisc of %s", ifname);
  if ((err = delete_ifb (sock, ifb)) < 0)
    return nl_failed (err, error, "remove the IFB device %s of %s", ifb, ifname);
  return TRUE;
}

/* The guest's transmit side: tap ingress → mirred → IFB egress → HTB. */
static gboolean
add_tx_limit (struct nl_sock  *sock,
              int              index,
              const char      *ifname,
              guint64          bps,
              guint64          burst,
              GError         **error)
{
  g_autofree char *ifb = hvk_tap_limit_ifb_name (ifname);
  struct rtnl_link *link = rtnl_link_alloc ();
  struct rtnl_qdisc *ingress = rtnl_qdisc_alloc ();
  struct rtnl_cls *filter = rtnl_cls_alloc ();
  struct rtnl_act *redirect = rtnl_act_alloc ();
  gboolean ok = FALSE;
  int ifb_index;
  int err;

  rtnl_link_set_name (link, ifb);
  rtnl_link_set_type (link, "ifb");
  rtnl_link_set_flags (link, IFF_UP);
  err = rtnl_link_add (sock, link, NLM_F_CREATE | NLM_F_EXCL);
  if (err < 0)
    {
      nl_failed (err, error, "create the IFB device %s for %s", ifb, ifname);
      goto out;
    }
  ifb_index = (int) if_nametoindex (ifb);
  if (ifb_index == 0)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_FAILED, "the IFB device %s vanished", ifb);
      goto out;
    }
  if (!add_htb (sock, ifb_index, ifb, bps, burst, error))
    goto out;

  rtnl_tc_set_ifindex (TC_CAST (ingress), index);
  rtnl_tc_set_parent (TC_CAST (ingress), TC_H_INGRESS);
  rtnl_tc_set_handle (TC_CAST (ingress), INGRESS_QDISC);
  rtnl_tc_set_kind (TC_CAST (ingress), "ingress");
  err = rtnl_qdisc_add (sock, ingress, NLM_F_CREATE | NLM_F_REPLACE);
  if (err < 0)
    {
      nl_failed (err, error, "add an ingress qdisc on %s", ifname);
      goto out;
    }

  rtnl_tc_set_ifindex (TC_CAST (filter), index);
  rtnl_tc_set_parent (TC_CAST (filter), INGRESS_QDISC);
  rtnl_tc_set_kind (TC_CAST (filter), "u32");
  rtnl_cls_set_protocol (filter, ETH_P_ALL);
  rtnl_cls_set_prio (filter, 1);
  rtnl_u32_add_key_uint32 (filter, 0, 0, 0, 0);   /* every packet */
  rtnl_u32_set_cls_terminal (filter);
  rtnl_tc_set_kind (TC_CAST (redirect), "mirred");
  rtnl_mirred_set_action (redirect, TCA_EGRESS_REDIR);
  rtnl_mirred_set_policy (redirect, TC_ACT_STOLEN);
  rtnl_mirred_set_ifindex (redirect, (uint32_t) ifb_index);
  rtnl_u32_add_action (filter, redirect);
  err = rtnl_cls_add (sock, filter, NLM_F_CREATE);
  if (err < 0)
    {
      nl_failed (err, error, "redirect the ingress of %s to %s", ifname, ifb);
      goto out;
    }
  ok = TRUE;
out:
  rtnl_act_put (redirect);
  rtnl_cls_put (filter);
  rtnl_qdisc_put (ingress);
  rtnl_link_put (link);
  return ok;
}

/**
 * hvk_tap_limit_apply:
 * @ifname: the VM's tap
 * @limit: the limits (all 0: none)
 * @error: return location for an error
 *
 * Replaces whatever limits the tap had.  On error the tap is left with
 * none (and no IFB device).
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_tap_limit_apply (const char        *ifname,
                     const HvkTapLimit *limit,
                     GError           **error)
{
  g_autoptr(nl_sock_t) sock = NULL;
  int index;

  g_return_val_if_fail (limit != NULL, FALSE);

  index = lookup_index (ifname, error);
  if (index < 0)
    return FALSE;
  sock = route_socket (error);
  if (sock == NULL || !clear_index (sock, index, ifname, error))
    return FALSE;
  if ((limit->rx_bps > 0 && !add_htb (sock, index, ifname, limit->rx_bps, limit->rx_burst, error))
      || (limit->tx_bps > 0 && !add_tx_limit (sock, index, ifname, limit->tx_bps, limit->tx_burst, error)))
    {
      clear_index (sock, index, ifname, NULL);
      return FALSE;
    }
  return TRUE;
}

/* The rate of class 1:1 on @index, 0 without one. */
static gboolean
read_rate (struct nl_sock  *sock,
           int              index,
           const char      *ifname,
           guint64         *bps,
           guint64         *burst,
           GError         **error)
{
  struct nl_cache *cache = NULL;
  struct rtnl_class *class;
  uint64_t rate = 0;
  int err;

  *bps = 0;
  *burst = 0;
  err = rtnl_class_alloc_cache (sock, index, &cache);
  if (err < 0)
    return nl_failed (err, error, "read the classes of %s", ifname);
  class = rtnl_class_get (cache, index, HTB_CLASS);
  if (class != NULL)
    {
      if (g_strcmp0 (rtnl_tc_get_kind (TC_CAST (class)), "htb") == 0
          && rtnl_htb_get_rate64 (class, &rate) == 0)
        {
          *bps = rate * 8;
          *burst = rtnl_htb_get_rbuffer (class);
        }
      rtnl_class_put (class);
    }
  nl_cache_free (cache);
  return TRUE;
}

/**
 * hvk_tap_limit_read:
 * @ifname: a tap
 * @limit: (out): its limits, read back from the kernel (bursts as the
 *   kernel holds them)
 * @error: return location for an error
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_tap_limit_read (const char   *ifname,
                    HvkTapLimit  *limit,
                    GError      **error)
{
  g_autoptr(nl_sock_t) sock = NULL;
  g_autofree char *ifb = NULL;
  int index;
  int ifb_index;

  g_return_val_if_fail (limit != NULL, FALSE);

  *limit = (HvkTapLimit) { 0, };
  index = lookup_index (ifname, error);
  if (index < 0)
    return FALSE;
  sock = route_socket (error);
  if (sock == NULL || !read_rate (sock, index, ifname, &limit->rx_bps, &limit->rx_burst, error))
    return FALSE;
  ifb = hvk_tap_limit_ifb_name (ifname);
  ifb_index = (int) if_nametoindex (ifb);
  if (ifb_index > 0 && !read_rate (sock, ifb_index, ifb, &limit->tx_bps, &limit->tx_burst, error))
    return FALSE;
  return TRUE;
}

/**
 * hvk_tap_limit_clear:
 * @ifname: a tap
 * @error: return location for an error
 *
 * Removes what hvk_tap_limit_apply() added.  A tap already gone (QEMU
 * removed it) has nothing left but maybe its IFB device, which goes too.
 *
 * Returns: %TRUE on success
 */
gboolean
hvk_tap_limit_clear (const char  *ifname,
                     GError     **error)
{
  g_autoptr(nl_sock_t) sock = NULL;
  g_autoptr(GError) local_error = NULL;
  int index;

  index = lookup_index (ifname, &local_error);
  if (index < 0 && !g_error_matches (local_error, HVK_ERROR, HVK_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  sock = route_socket (error);
  if (sock == NULL)
    return FALSE;
  if (index < 0)
    {
      /* The tap is gone with its qdiscs: its IFB device stays. */
      g_autofree char *ifb = hvk_tap_limit_ifb_name (ifname);
      int err = delete_ifb (sock, ifb);

      return err >= 0 || nl_failed (err, error, "remove the IFB device %s of %s", ifb, ifname);
    }
  return clear_index (sock, index, ifname, error);
}
