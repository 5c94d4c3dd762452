/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "e2e-common.h"
#include "hvk-qemu-tap-limit.h"

/*
 * Disk I/O limits on the real QEMU (TCG): what QEMU holds (its block
 * graph, its throttle groups), never how long I/O takes.  A limited disk
 * is a throttle node over its format node in a group of its own, the
 * same whether it was cold-plugged (-object, -blockdev) or hot-plugged
 * (object-add, blockdev-add); unplugging it takes its group along.
 * Disks naming one throttle_group share one group object (created by
 * the first, deleted with the last); the one bound on time asserted is
 * the lower bound a shared limit implies on the reads of a pair.
 */

static E2eEnv env;
static HvkRegistry *registry;

static char *
raw_disk (const char *name)
{
  char *path = g_build_filename (env.tmpdir, name, NULL);

  g_assert_true (g_file_set_contents (path, "", 0, NULL));
  g_assert_cmpint (truncate (path, 8 * 1024 * 1024), ==, 0);
  return path;
}

/* Starts VM @id and, with @guest, waits for its guest to be ready
 * (it must be, to release a device on unplug). */
static HvkHypervisor *
start (const char  *id,
       const char  *overrides,
       const char  *extra,
       E2eConsole **guest)
{
  g_autofree char *protocol = NULL, *url = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = e2e_write_config (&env, id, overrides, extra);
  g_autoptr(HvkConfig) config = hvk_config_new_from_file (path, registry, &error);
  HvkHypervisor *hypervisor;

  g_assert_no_error (error);
  hvk_config_set_vm_store_path (config, env.store);
  hypervisor = hvk_registry_create_hypervisor (registry, config, &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_create_vm (hypervisor, id, config, &error));
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_get_vm_console (hypervisor, &protocol, &url, &error));
  if (!hvk_hypervisor_start_vm (hypervisor, 30000, NULL, &error))
    g_error ("%s", error->message);
  e2e_track_hypervisor (hypervisor);
  if (guest != NULL)
    {
      *guest = e2e_console_open (url, 5000);
      g_assert_nonnull (*guest);
      if (!e2e_console_wait (*guest, E2E_READY_MARKER, E2E_BOOT_TIMEOUT_MS))
        g_error ("no %s on the console; console said:\n%s", E2E_READY_MARKER,
                 e2e_console_text (*guest));
    }
  return hypervisor;
}

static gboolean
hotplug (HvkHypervisor  *hypervisor,
         const char     *spec,
         GError        **error)
{
  g_autoptr(HvkDevice) device = NULL;
  g_autoptr(GError) local_error = NULL;

  device = hvk_device_new_from_string (registry, spec, &local_error);
  g_assert_no_error (local_error);
  return hvk_hypervisor_hotplug_add_device (hypervisor, device, NULL, error);
}

static char *
qmp_socket_of (const char *id)
{
  return g_build_filename (env.store, id, "qmp.sock", NULL);
}

static JsonObject *
find_node (JsonArray  *nodes,
           const char *node_name)
{
  for (guint i = 0; i < json_array_get_length (nodes); i++)
    {
      JsonObject *node = json_array_get_object_element (nodes, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (node, "node-name", NULL),
                     node_name) == 0)
        return node;
    }
  return NULL;
}

/* query-block's entry of the device @id (a -blockdev disk has no
 * BlockBackend name: it is found by its qdev path). */
static JsonObject *
find_block (JsonArray  *block,
            const char *id)
{
  g_autofree char *prefix = g_strdup_printf ("/machine/peripheral/%s/", id);

  for (guint i = 0; i < json_array_get_length (block); i++)
    {
      JsonObject *entry = json_array_get_object_element (block, i);
      const char *qdev = json_object_get_string_member_with_default (entry, "qdev", "");

      if (g_str_equal (qdev, id) || g_str_has_prefix (qdev, prefix))
        return entry;
    }
  return NULL;
}

/* The group's limits, QEMU's word (qom-get), or NULL with @error. */
static JsonNode *
group_limits (const char  *sock,
              const char  *group,
              GError     **error)
{
  g_autoptr(JsonObject) args = json_object_new ();
  g_autofree char *path = g_strdup_printf ("/objects/%s", group);

  json_object_set_string_member (args, "path", path);
  json_object_set_string_member (args, "property", "limits");
  return e2e_qmp_execute (sock, "qom-get", args, error);
}

static void
assert_limit (JsonObject *limits,
              const char *member,
              gint64      value)
{
  g_test_message ("%s", member);
  g_assert_cmpint (json_object_get_int_member_with_default (limits, member, -1), ==, value);
}

/* Whether QEMU has object @name (qom-list /objects). */
static gboolean
has_object (const char *sock,
            const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) args = json_object_new ();
  g_autoptr(JsonNode) list = NULL;
  JsonArray *array;

  json_object_set_string_member (args, "path", "/objects");
  list = e2e_qmp_execute (sock, "qom-list", args, &error);
  g_assert_no_error (error);
  array = json_node_get_array (list);
  for (guint i = 0; i < json_array_get_length (array); i++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (array, i),
                                                  "name"), name) == 0)
      return TRUE;
  return FALSE;
}

/* The throttle node drive-ID is in group @group: QEMU names the group
 * in the node's filename (json:{"throttle-group": …, "driver": "throttle", …}). */
static void
assert_in_group (JsonArray  *nodes,
                 const char *id,
                 const char *group)
{
  g_autofree char *node_name = g_strdup_printf ("drive-%s", id);
  g_autofree char *needle = g_strdup_printf ("\"throttle-group\": \"%s\"", group);
  JsonObject *node = find_node (nodes, node_name);
  const char *file;

  g_assert_nonnull (node);
  g_assert_cmpstr (json_object_get_string_member (node, "drv"), ==, "throttle");
  file = json_object_get_string_member_with_default (node, "file", "");
  g_test_message ("%s: %s", node_name, file);
  g_assert_nonnull (strstr (file, needle));
}

/* The throttle node of disk @id over its format node over the file,
 * in group throttle-ID: from query-block and query-named-block-nodes. */
static void
assert_throttled (JsonArray  *block,
                  JsonArray  *nodes,
                  const char *id,
                  const char *path)
{
  g_autofree char *node_name = g_strdup_printf ("drive-%s", id);
  JsonObject *entry = find_block (block, id);
  JsonObject *inserted, *node;

  g_assert_nonnull (entry);
  inserted = json_object_get_object_member (entry, "inserted");
  g_assert_nonnull (inserted);
  g_assert_cmpstr (json_object_get_string_member (inserted, "node-name"), ==, node_name);
  g_assert_cmpstr (json_object_get_string_member (inserted, "drv"), ==, "throttle");

  node = find_node (nodes, node_name);
  g_assert_nonnull (node);
  g_assert_cmpstr (json_object_get_string_member (node, "drv"), ==, "throttle");
  g_assert_false (json_object_get_boolean_member (node, "ro"));
  /* The chain under it, the nodes on the disk's path: raw over file. */
  {
    g_autoptr(GString) drivers = g_string_new (NULL);

    for (guint i = 0; i < json_array_get_length (nodes); i++)
      {
        JsonObject *n = json_array_get_object_element (nodes, i);

        if (g_strcmp0 (json_object_get_string_member_with_default (n, "file", NULL), path) == 0)
          g_string_append_printf (drivers, "%s ",
                                  json_object_get_string_member_with_default (n, "drv", "?"));
      }
    g_assert_cmpstr (drivers->str, ==, "raw file ");
  }
}

static void
test_cold_and_hot (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) vm = NULL;
  g_autofree char *cold = NULL, *hot = NULL, *extra = NULL, *spec = NULL, *sock = NULL;
  g_autoptr(JsonNode) block = NULL;
  g_autoptr(JsonNode) nodes = NULL;
  g_autoptr(JsonNode) cold_limits = NULL;
  g_autoptr(JsonNode) hot_limits = NULL;
  g_autoptr(JsonNode) after = NULL;
  g_autoptr(JsonNode) nodes_after = NULL;
  g_autoptr(GArray) pids = NULL;
  g_autoptr(E2eConsole) guest = NULL;
  static const char * const limits =
    "rate_limiter_bw_max_rate=8388608\nrate_limiter_bw_one_time_burst=16777216\n"
    "rate_limiter_ops_max_rate=100\n";

  if (e2e_env_skip (&env))
    return;

  cold = raw_disk ("limit-cold.raw");
  hot = raw_disk ("limit-hot.raw");
  extra = g_strdup_printf ("[device.disk0]\nkind=block\npath=%s\nformat=raw\n%s", cold, limits);
  vm = start ("e2e-limits", NULL, extra, &guest);
  pids = hvk_hypervisor_get_pids (vm);
  spec = g_strdup_printf ("block,id=disk1,path=%s,format=raw,rate_limiter_bw_max_rate=8388608,"
                          "rate_limiter_bw_one_time_burst=16777216,rate_limiter_ops_max_rate=100",
                          hot);
  if (!hotplug (vm, spec, &error))
    g_error ("%s", error->message);

  /* QEMU's monitor takes one client: ask it with hvkit's closed. */
  hvk_hypervisor_disconnect (vm);
  sock = qmp_socket_of ("e2e-limits");
  block = e2e_qmp_query (sock, "query-block", &error);
  g_assert_no_error (error);
  nodes = e2e_qmp_query (sock, "query-named-block-nodes", &error);
  g_assert_no_error (error);
  assert_throttled (json_node_get_array (block), json_node_get_array (nodes), "disk0", cold);
  assert_throttled (json_node_get_array (block), json_node_get_array (nodes), "disk1", hot);

  /* Each in its group, with the same limits in QEMU's units: bytes (the
   * bits / 8), the burst as *-max with a length of 1 s. */
  cold_limits = group_limits (sock, "throttle-disk0", &error);
  g_assert_no_error (error);
  hot_limits = group_limits (sock, "throttle-disk1", &error);
  g_assert_no_error (error);
  assert_limit (json_node_get_object (cold_limits), "bps-total", 1048576);
  assert_limit (json_node_get_object (cold_limits), "bps-total-max", 2097152);
  assert_limit (json_node_get_object (cold_limits), "bps-total-max-length", 1);
  assert_limit (json_node_get_object (cold_limits), "iops-total", 100);
  assert_limit (json_node_get_object (cold_limits), "iops-total-max", 0);
  assert_limit (json_node_get_object (cold_limits), "bps-read", 0);
  g_assert_true (json_node_equal (cold_limits, hot_limits));

  /* Unplugged, the disk's node and group are gone. */
  g_assert_true (hvk_hypervisor_hotplug_remove_device (vm, "disk1", NULL, &error));
  g_assert_no_error (error);
  hvk_hypervisor_disconnect (vm);
  after = group_limits (sock, "throttle-disk1", &error);
  g_assert_null (after);
  g_assert_error (error, HVK_ERROR, HVK_ERROR_QMP);
  g_clear_error (&error);
  nodes_after = e2e_qmp_query (sock, "query-named-block-nodes", &error);
  g_assert_no_error (error);
  g_assert_null (find_node (json_node_get_array (nodes_after), "drive-disk1"));
  g_assert_nonnull (find_node (json_node_get_array (nodes_after), "drive-disk0"));

  /* A shared group, hot: the first disk creates it, the second joins it
   * (QEMU refuses a second object of the same id), one with other
   * limits is refused and leaves it as it was; it goes with its last
   * disk, not before. */
  {
    g_autofree char *a = raw_disk ("group-a.raw"), *b = raw_disk ("group-b.raw");
    g_autofree char *c = raw_disk ("group-c.raw");
    g_autofree char *spec_a = g_strdup_printf ("block,id=disk2,path=%s,throttle_group=hp,"
                                               "rate_limiter_bw_max_rate=8388608", a);
    g_autofree char *spec_b = g_strdup_printf ("block,id=disk3,path=%s,throttle_group=hp,"
                                               "rate_limiter_bw_max_rate=8388608", b);
    g_autofree char *spec_c = g_strdup_printf ("block,id=disk4,path=%s,throttle_group=hp,"
                                               "rate_limiter_bw_max_rate=16777216", c);
    g_autoptr(JsonNode) grouped = NULL;
    g_autoptr(JsonNode) hp_limits = NULL;

    g_assert_false (has_object (sock, "throttle.group-hp"));
    if (!hotplug (vm, spec_a, &error) || !hotplug (vm, spec_b, &error))
      g_error ("%s", error->message);
    g_assert_false (hotplug (vm, spec_c, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "throttle group 'hp': block devices 'disk2' and "
                                              "'disk4' differ in rate_limiter_bw_max_rate"));
    g_clear_error (&error);
    hvk_hypervisor_disconnect (vm);
    grouped = e2e_qmp_query (sock, "query-named-block-nodes", &error);
    g_assert_no_error (error);
    assert_in_group (json_node_get_array (grouped), "disk2", "throttle.group-hp");
    assert_in_group (json_node_get_array (grouped), "disk3", "throttle.group-hp");
    g_assert_null (find_node (json_node_get_array (grouped), "drive-disk4"));
    g_assert_true (has_object (sock, "throttle.group-hp"));
    g_assert_false (has_object (sock, "throttle-disk2"));
    g_assert_false (has_object (sock, "throttle-disk3"));
    g_assert_false (has_object (sock, "throttle-disk4"));
    hp_limits = group_limits (sock, "throttle.group-hp", &error);
    g_assert_no_error (error);
    assert_limit (json_node_get_object (hp_limits), "bps-total", 1048576);

    g_assert_true (hvk_hypervisor_hotplug_remove_device (vm, "disk2", NULL, &error));
    g_assert_no_error (error);
    hvk_hypervisor_disconnect (vm);
    g_assert_true (has_object (sock, "throttle.group-hp"));
    g_assert_true (hvk_hypervisor_hotplug_remove_device (vm, "disk3", NULL, &error));
    g_assert_no_error (error);
    hvk_hypervisor_disconnect (vm);
    g_assert_false (has_object (sock, "throttle.group-hp"));
  }

  g_assert_true (hvk_hypervisor_stop_vm (vm, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (e2e_wait_pid_dead (g_array_index (pids, int, 0), 1000));
}

/* hvkit iotune on a running VM, each command its own process: the
 * group's limits change in QEMU (qom-get), the next process reads them
 * back from the VM's state, a disk attached without a limit is refused
 * naming it, and a hot-plugged limited disk is changed the same way. */
static void
test_tool_live (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cold = NULL, *plain = NULL, *hot = NULL, *extra = NULL, *conf = NULL;
  g_autofree char *sock = NULL, *out = NULL, *err = NULL, *spec = NULL;
  g_autofree char *g0 = NULL, *g1 = NULL, *g2 = NULL, *gspec = NULL;
  g_autoptr(JsonNode) limits = NULL;
  g_autoptr(JsonNode) hot_limits = NULL;
  g_autoptr(JsonNode) read_back = NULL;
  JsonObject *entry;

  if (e2e_env_skip (&env))
    return;

  cold = raw_disk ("tune-cold.raw");
  plain = raw_disk ("tune-plain.raw");
  hot = raw_disk ("tune-hot.raw");
  g0 = raw_disk ("tune-g0.raw");
  g1 = raw_disk ("tune-g1.raw");
  g2 = raw_disk ("tune-g2.raw");
  extra = g_strdup_printf ("[device.disk0]\nkind=block\npath=%s\nformat=raw\n"
                           "rate_limiter_bw_max_rate=8388608\n"
                           "[device.disk1]\nkind=block\npath=%s\nformat=raw\n"
                           "[device.g0]\nkind=block\npath=%s\nformat=raw\n"
                           "rate_limiter_bw_max_rate=8388608\nthrottle_group=tg\n"
                           "[device.g1]\nkind=block\npath=%s\nformat=raw\n"
                           "rate_limiter_bw_max_rate=8388608\nthrottle_group=tg\n",
                           cold, plain, g0, g1);
  conf = e2e_write_config (&env, "e2e-tune", NULL, extra);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "start", "-c", conf, "--id", "e2e-tune", NULL),
                   ==, 0);
  sock = qmp_socket_of ("e2e-tune");
  /* A failed assertion must not leave the VM running. */
  {
    g_autofree char *pid_file = g_build_filename (env.store, "e2e-tune", "pid", NULL);

    e2e_track_pid (e2e_read_pid_file (pid_file));
  }

  /* Raised, with a burst and a request limit, in bits as the keys are. */
  g_assert_cmpint (e2e_run_tool (&env, &out, NULL, "iotune", "e2e-tune", "--device", "disk0",
                                 "--bps", "16777216", "--burst", "33554432", "--iops", "200",
                                 NULL), ==, 0);
  g_assert_nonnull (strstr (out, "disk0 (block): rate_limiter_bw_max_rate=16777216 "
                                 "rate_limiter_bw_one_time_burst=33554432 "
                                 "rate_limiter_ops_max_rate=200 rate_limiter_ops_one_time_burst=0"));
  limits = group_limits (sock, "throttle-disk0", &error);
  g_assert_no_error (error);
  assert_limit (json_node_get_object (limits), "bps-total", 2097152);
  assert_limit (json_node_get_object (limits), "bps-total-max", 4194304);
  assert_limit (json_node_get_object (limits), "bps-total-max-length", 1);
  assert_limit (json_node_get_object (limits), "iops-total", 200);

  /* Another process reads them back from the VM's state. */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (e2e_run_tool (&env, &out, NULL, "iotune", "e2e-tune", "--device", "disk0",
                                 "--json", NULL), ==, 0);
  read_back = json_from_string (out, &error);
  g_assert_no_error (error);
  entry = json_array_get_object_element (json_node_get_array (read_back), 0);
  g_assert_cmpstr (json_object_get_string_member (entry, "device"), ==, "disk0");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (entry, "limits"),
                                               "rate_limiter_ops_max_rate"), ==, 200);

  /* Lifted: 0 everywhere, the group stays (and can limit again). */
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "iotune", "e2e-tune", "--device", "disk0",
                                 "--bps", "0", "--burst", "0", "--iops", "0", NULL), ==, 0);
  g_clear_pointer (&limits, json_node_unref);
  limits = group_limits (sock, "throttle-disk0", &error);
  g_assert_no_error (error);
  assert_limit (json_node_get_object (limits), "bps-total", 0);
  assert_limit (json_node_get_object (limits), "iops-total", 0);

  /* A disk without a throttle node: refused, naming it. */
  g_assert_cmpint (e2e_run_tool (&env, NULL, &err, "iotune", "e2e-tune", "--device", "disk1",
                                 "--bps", "8000", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "block device 'disk1' was attached without a limit"));
  /* QEMU's smallest burst: refused before QEMU is asked. */
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (e2e_run_tool (&env, NULL, &err, "iotune", "e2e-tune", "--device", "disk0",
                                 "--bps", "8000000", "--burst", "8", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "is not supported by backend 'qemu'"));

  /* A hot-plugged disk, limited later. */
  spec = g_strdup_printf ("block,id=disk2,path=%s,format=raw,rate_limiter_ops_max_rate=0", hot);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "hotplug", "e2e-tune", "--device", spec, NULL),
                   ==, 0);
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "iotune", "e2e-tune", "--device", "disk2",
                                 "--iops", "50", NULL), ==, 0);
  hot_limits = group_limits (sock, "throttle-disk2", &error);
  g_assert_no_error (error);
  assert_limit (json_node_get_object (hot_limits), "iops-total", 50);
  assert_limit (json_node_get_object (hot_limits), "bps-total", 0);

  /* A group: a change through one disk is the group's (QEMU's one
   * object), every member reads it back, in another process, saying
   * the group; a disk hot-plugged into it must have its limits now. */
  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "iotune", "e2e-tune", "--device", "g1",
                                 "--bps", "16777216", NULL), ==, 0);
  {
    g_autoptr(JsonNode) tg = group_limits (sock, "throttle.group-tg", &error);
    g_autoptr(JsonNode) all = NULL;
    guint seen = 0;

    g_assert_no_error (error);
    assert_limit (json_node_get_object (tg), "bps-total", 2097152);
    gspec = g_strdup_printf ("block,id=g2,path=%s,format=raw,throttle_group=tg,"
                             "rate_limiter_bw_max_rate=8388608", g2);
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (e2e_run_tool (&env, NULL, &err, "hotplug", "e2e-tune", "--device", gspec,
                                   NULL), !=, 0);
    g_assert_nonnull (strstr (err, "throttle group 'tg': block devices 'g0' and 'g2' differ in "
                                   "rate_limiter_bw_max_rate (16777216 and 8388608)"));
    g_free (gspec);
    gspec = g_strdup_printf ("block,id=g2,path=%s,format=raw,throttle_group=tg,"
                             "rate_limiter_bw_max_rate=16777216", g2);
    g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "hotplug", "e2e-tune", "--device", gspec,
                                   NULL), ==, 0);
    g_clear_pointer (&out, g_free);
    g_assert_cmpint (e2e_run_tool (&env, &out, NULL, "iotune", "e2e-tune", "--json", NULL), ==, 0);
    all = json_from_string (out, &error);
    g_assert_no_error (error);
    for (guint i = 0; i < json_array_get_length (json_node_get_array (all)); i++)
      {
        JsonObject *e = json_array_get_object_element (json_node_get_array (all), i);
        const char *dev = json_object_get_string_member (e, "device");

        if (!g_str_has_prefix (dev, "g"))
          {
            g_assert_false (json_object_has_member (e, "throttle_group"));
            continue;
          }
        g_assert_cmpstr (json_object_get_string_member (e, "throttle_group"), ==, "tg");
        g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (e, "limits"),
                                                     "rate_limiter_bw_max_rate"), ==, 16777216);
        seen++;
      }
    g_assert_cmpuint (seen, ==, 3);
  }

  /* Changed live, saved, stopped and restored: the restored VM has the
   * changed limits, not the configuration's (the save keeps each
   * device's limits; the restore sets them before the guest runs), the
   * hot-plugged disk its group too (made again where it was). */
  {
    g_autofree char *saved = g_build_filename (env.tmpdir, "tune-saved", NULL);
    g_autofree char *pid_file = g_build_filename (env.store, "e2e-tune", "pid", NULL);
    g_autoptr(JsonNode) restored = NULL;

    g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "iotune", "e2e-tune", "--device", "disk0",
                                   "--bps", "33554432", NULL), ==, 0);
    g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "save", "e2e-tune", saved, "--stop", NULL),
                     ==, 0);
    g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "restore", saved, NULL), ==, 0);
    e2e_track_pid (e2e_read_pid_file (pid_file));
    restored = group_limits (sock, "throttle-disk0", &error);
    g_assert_no_error (error);
    assert_limit (json_node_get_object (restored), "bps-total", 4194304);
    g_clear_pointer (&restored, json_node_unref);
    restored = group_limits (sock, "throttle-disk2", &error);
    g_assert_no_error (error);
    assert_limit (json_node_get_object (restored), "iops-total", 50);
    /* The group once, its three disks in it (two cold, one hot-plugged
     * made again on the command line), with its changed limits. */
    g_clear_pointer (&restored, json_node_unref);
    restored = group_limits (sock, "throttle.group-tg", &error);
    g_assert_no_error (error);
    assert_limit (json_node_get_object (restored), "bps-total", 2097152);
    {
      g_autoptr(JsonNode) nodes = e2e_qmp_query (sock, "query-named-block-nodes", &error);

      g_assert_no_error (error);
      assert_in_group (json_node_get_array (nodes), "g0", "throttle.group-tg");
      assert_in_group (json_node_get_array (nodes), "g1", "throttle.group-tg");
      assert_in_group (json_node_get_array (nodes), "g2", "throttle.group-tg");
    }
  }


  g_assert_cmpint (e2e_run_tool (&env, NULL, NULL, "stop", "e2e-tune", NULL), ==, 0);
}

static char *
sized_disk (const char *name,
            gsize       mib)
{
  char *path = g_build_filename (env.tmpdir, name, NULL);

  g_assert_true (g_file_set_contents (path, "", 0, NULL));
  g_assert_cmpint (truncate (path, (off_t) (mib * 1024 * 1024)), ==, 0);
  return path;
}

/* query-blockstats' "stats" of device @id. */
static JsonObject *
find_stats (JsonArray  *stats,
            const char *id)
{
  JsonObject *entry = find_block (stats, id);

  g_assert_nonnull (entry);
  return json_object_get_object_member (entry, "stats");
}

/* The real guest reads 4 MiB with O_DIRECT from a disk limited to
 * 1 MiB/s and from one limited to 2 requests/s: the reads complete,
 * QEMU holds the limits (query-block: a throttle node; qom-get: the
 * group's values) and counted the reads (query-blockstats).  Nothing is
 * asserted on time: the throughput QEMU saw (bytes over the requests'
 * total time, reads being one at a time) is printed, for the record,
 * against the limit (QEMU lets the first request and a tenth of a
 * second's budget through at once, so 4 MiB at 1 MiB/s take ~2.9 s). */
static void
test_guest_read (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) vm = NULL;
  g_autoptr(E2eConsole) guest = NULL;
  g_autofree char *bw = NULL, *ops = NULL, *extra = NULL, *sock = NULL;
  g_autofree char *pair0 = NULL, *pair1 = NULL;
  g_autofree char *line_bw = NULL, *line_ops = NULL;
  g_autoptr(JsonNode) block = NULL;
  g_autoptr(JsonNode) stats = NULL;
  g_autoptr(JsonNode) limits = NULL;
  JsonObject *bw_stats, *ops_stats, *inserted;
  gint64 bytes, ns;
  HvkIoLimits raised = { .bw_max_rate = 83886080 };

  if (e2e_env_skip (&env))
    return;

  bw = sized_disk ("read-bw.raw", 32);
  ops = sized_disk ("read-ops.raw", 32);
  pair0 = sized_disk ("read-pair0.raw", 32);
  pair1 = sized_disk ("read-pair1.raw", 32);
  extra = g_strdup_printf ("[device.disk0]\nkind=block\npath=%s\nformat=raw\n"
                           "rate_limiter_bw_max_rate=8388608\n"
                           "[device.disk1]\nkind=block\npath=%s\nformat=raw\n"
                           "rate_limiter_ops_max_rate=2\n"
                           "[device.disk2]\nkind=block\npath=%s\nformat=raw\n"
                           "rate_limiter_bw_max_rate=8388608\nthrottle_group=pair\n"
                           "[device.disk3]\nkind=block\npath=%s\nformat=raw\n"
                           "rate_limiter_bw_max_rate=8388608\nthrottle_group=pair\n",
                           bw, ops, pair0, pair1);
  vm = start ("e2e-read", "kernel_params=hvkit.dio_read_mb=4", extra, &guest);
  /* disk0 is vda, disk1 vdb, the pair vdc and vdd: the guest reads them
   * in turn. */
  if (!e2e_console_wait (guest, "HVKIT-DIO-READ vdd", E2E_EVENT_TIMEOUT_MS))
    g_error ("the guest did not read its disks; console said:\n%s", e2e_console_text (guest));
  line_bw = e2e_console_find_line (guest, "HVKIT-DIO-READ vda");
  line_ops = e2e_console_find_line (guest, "HVKIT-DIO-READ vdb");
  g_assert_nonnull (line_bw);
  g_assert_nonnull (line_ops);
  g_assert_nonnull (strstr (line_bw, " 4194304 "));
  g_assert_nonnull (strstr (line_ops, " 4194304 "));
  g_test_message ("guest: %s; %s", line_bw, line_ops);

  hvk_hypervisor_disconnect (vm);
  sock = qmp_socket_of ("e2e-read");
  block = e2e_qmp_query (sock, "query-block", &error);
  g_assert_no_error (error);
  inserted = json_object_get_object_member (find_block (json_node_get_array (block), "disk0"),
                                            "inserted");
  g_assert_cmpstr (json_object_get_string_member (inserted, "drv"), ==, "throttle");
  limits = group_limits (sock, "throttle-disk0", &error);
  g_assert_no_error (error);
  assert_limit (json_node_get_object (limits), "bps-total", 1048576);
  g_clear_pointer (&limits, json_node_unref);
  limits = group_limits (sock, "throttle-disk1", &error);
  g_assert_no_error (error);
  assert_limit (json_node_get_object (limits), "iops-total", 2);
  assert_limit (json_node_get_object (limits), "bps-total", 0);

  stats = e2e_qmp_query (sock, "query-blockstats", &error);
  g_assert_no_error (error);
  bw_stats = find_stats (json_node_get_array (stats), "disk0");
  ops_stats = find_stats (json_node_get_array (stats), "disk1");
  bytes = json_object_get_int_member (bw_stats, "rd_bytes");
  ns = json_object_get_int_member (bw_stats, "rd_total_time_ns");
  g_assert_cmpint (bytes, >=, 4194304);
  g_assert_cmpint (ns, >, 0);
  g_test_message ("disk0, limit 1 MiB/s (8388608 bits/s): QEMU read %" G_GINT64_FORMAT
                  " bytes in %.3f s of requests: %.3f MiB/s; %.3f MiB/s once the first 1 MiB "
                  "request and QEMU's tenth of a second (0.1 MiB), let through at once, are "
                  "left out", bytes, ns / 1e9, bytes / (ns / 1e9) / 1048576.0,
                  (bytes - 1.1 * 1048576.0) / (ns / 1e9) / 1048576.0);
  g_assert_cmpint (json_object_get_int_member (ops_stats, "rd_bytes"), >=, 4194304);
  g_test_message ("disk1, limit 2 requests/s: QEMU read %" G_GINT64_FORMAT " bytes in %"
                  G_GINT64_FORMAT " requests, %.3f s of requests: %.1f requests/s",
                  json_object_get_int_member (ops_stats, "rd_bytes"),
                  json_object_get_int_member (ops_stats, "rd_operations"),
                  json_object_get_int_member (ops_stats, "rd_total_time_ns") / 1e9,
                  json_object_get_int_member (ops_stats, "rd_operations")
                  / (json_object_get_int_member (ops_stats, "rd_total_time_ns") / 1e9));

  /* The pair shares one group at 1 MiB/s: both throttle nodes in it,
   * no group of their own, and the 8 MiB they read one after the other
   * go through one budget.  The one lower bound a shared limit implies
   * (QEMU admits a 1 MiB request while its bucket holds at most a tenth
   * of a second's budget: the last of the eight no sooner than
   * (8 - 1 - 0.1) s after the first): >= 6.3 s of requests in all, where
   * a group each (2 x 2.9 s) would take ~5.8 s.  No upper bound. */
  {
    g_autoptr(JsonNode) nodes = e2e_qmp_query (sock, "query-named-block-nodes", &error);
    g_autoptr(JsonNode) pair_limits = NULL;
    JsonObject *s0 = find_stats (json_node_get_array (stats), "disk2");
    JsonObject *s1 = find_stats (json_node_get_array (stats), "disk3");
    gint64 pair_bytes = json_object_get_int_member (s0, "rd_bytes")
                        + json_object_get_int_member (s1, "rd_bytes");
    gint64 pair_ns = json_object_get_int_member (s0, "rd_total_time_ns")
                     + json_object_get_int_member (s1, "rd_total_time_ns");
    g_autofree char *line_c = e2e_console_find_line (guest, "HVKIT-DIO-READ vdc");
    g_autofree char *line_d = e2e_console_find_line (guest, "HVKIT-DIO-READ vdd");

    g_assert_no_error (error);
    g_assert_nonnull (strstr (line_c, " 4194304 "));
    g_assert_nonnull (strstr (line_d, " 4194304 "));
    assert_in_group (json_node_get_array (nodes), "disk2", "throttle.group-pair");
    assert_in_group (json_node_get_array (nodes), "disk3", "throttle.group-pair");
    g_assert_true (has_object (sock, "throttle.group-pair"));
    g_assert_false (has_object (sock, "throttle-disk2"));
    g_assert_false (has_object (sock, "throttle-disk3"));
    pair_limits = group_limits (sock, "throttle.group-pair", &error);
    g_assert_no_error (error);
    assert_limit (json_node_get_object (pair_limits), "bps-total", 1048576);
    g_test_message ("guest: %s; %s", line_c, line_d);
    g_test_message ("disk2+disk3, one group limited to 1 MiB/s: QEMU read %" G_GINT64_FORMAT
                    " bytes in %.3f s of requests: %.3f MiB/s together; %.3f MiB/s once the "
                    "first 1 MiB request and the tenth of a second are left out", pair_bytes,
                    pair_ns / 1e9, pair_bytes / (pair_ns / 1e9) / 1048576.0,
                    (pair_bytes - 1.1 * 1048576.0) / (pair_ns / 1e9) / 1048576.0);
    g_assert_cmpint (pair_bytes, >=, 2 * 4194304);
    g_assert_cmpint (pair_ns, >=, G_GINT64_CONSTANT (6300000000));
  }

  /* Raised while the guest runs: QEMU holds the new value. */
  g_assert_true (hvk_hypervisor_set_io_limits (vm, "disk0", &raised, NULL, &error));
  g_assert_no_error (error);
  hvk_hypervisor_disconnect (vm);
  g_clear_pointer (&limits, json_node_unref);
  limits = group_limits (sock, "throttle-disk0", &error);
  g_assert_no_error (error);
  assert_limit (json_node_get_object (limits), "bps-total", 10485760);

  g_assert_true (hvk_hypervisor_stop_vm (vm, FALSE, NULL, &error));
  g_assert_no_error (error);
}

/* A persistent tap, as an operator (or CNI) makes for a VM (@persist
 * FALSE: removes it). */
static void
persist_tap (const char *name,
             gboolean    persist)
{
  struct ifreq ifr = { 0 };
  int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  g_strlcpy (ifr.ifr_name, name, IFNAMSIZ);
  g_assert_cmpint (ioctl (fd, TUNSETIFF, &ifr), ==, 0);
  g_assert_cmpint (ioctl (fd, TUNSETPERSIST, persist ? 1 : 0), ==, 0);
  close (fd);
}

static void
assert_tap (const char *ifname,
            guint64     rx_bps,
            guint64     tx_bps)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ifb = hvk_tap_limit_ifb_name (ifname);
  HvkTapLimit read = { 0, };

  g_assert_true (hvk_tap_limit_read (ifname, &read, &error));
  g_assert_no_error (error);
  g_test_message ("%s: rx %" G_GUINT64_FORMAT " bit/s, tx %" G_GUINT64_FORMAT " bit/s",
                  ifname, read.rx_bps, read.tx_bps);
  g_assert_cmpuint (read.rx_bps, ==, rx_bps);
  g_assert_cmpuint (read.tx_bps, ==, tx_bps);
  g_assert_cmpint (if_nametoindex (ifb) > 0, ==, tx_bps > 0);
}

/* Network limits on QEMU: the taps are shaped through netlink (HTB on
 * the tap for what the guest receives, an IFB device for what it sends)
 * once QEMU has them, cold- and hot-plugged; a change reshapes; unplug
 * and stop leave nothing (a persistent tap keeps no qdisc, no IFB device
 * stays).  Root and /dev/net/tun; the taps are the host's. */
static void
test_tap_shaping (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkHypervisor) vm = NULL;
  g_autoptr(E2eConsole) guest = NULL;
  g_autoptr(HvkDevice) hot = NULL;
  g_autofree char *hot_ifb = hvk_tap_limit_ifb_name ("hvk15h0");
  g_autofree char *cold_ifb = hvk_tap_limit_ifb_name ("hvk15p0");
  HvkIoLimits limits = { .bw_max_rate = 16000000, .bw_one_time_burst = 800000,
                         .rx_max_rate = 4000000 };

  if (e2e_env_skip (&env))
    return;
  if (getuid () != 0 || access ("/dev/net/tun", R_OK | W_OK) != 0)
    {
      g_test_skip ("tap devices need /dev/net/tun and root");
      return;
    }

  persist_tap ("hvk15p0", TRUE);
  vm = start ("e2e-taps", NULL,
              "[device.net0]\nkind=net\nifname=hvk15p0\nmac=02:00:00:00:15:01\n"
              "rx_rate_limiter_max_rate=8000000\ntx_rate_limiter_max_rate=4000000\n", &guest);
  assert_tap ("hvk15p0", 8000000, 4000000);

  hot = hvk_device_new_from_string (registry, "net,id=net1,ifname=hvk15h0,mac=02:00:00:00:15:02,"
                                    "rate_limiter_bw_max_rate=16000000", &error);
  g_assert_no_error (error);
  g_assert_true (hvk_hypervisor_hotplug_add_device (vm, hot, NULL, &error));
  g_assert_no_error (error);
  assert_tap ("hvk15h0", 16000000, 16000000);

  /* Changed: the receive side is the lower of rx and the bandwidth. */
  g_assert_true (hvk_hypervisor_set_io_limits (vm, "net1", &limits, NULL, &error));
  g_assert_no_error (error);
  assert_tap ("hvk15h0", 4000000, 16000000);
  {
    HvkIoLimits read;

    g_assert_true (hvk_hypervisor_get_io_limits (vm, "net1", &read, &error));
    g_assert_true (memcmp (&read, &limits, sizeof read) == 0);
  }
  /* A packet limit: a tap is shaped in bytes; refused, nothing changed. */
  {
    HvkIoLimits packets = { .ops_max_rate = 100 };

    g_assert_false (hvk_hypervisor_set_io_limits (vm, "net1", &packets, NULL, &error));
    g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_SUPPORTED);
    g_assert_nonnull (strstr (error->message, "'net1'"));
    g_clear_error (&error);
    assert_tap ("hvk15h0", 4000000, 16000000);
  }

  /* Unplugged: QEMU's tap goes, and hvkit's IFB device with it. */
  g_assert_true (hvk_hypervisor_hotplug_remove_device (vm, "net1", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (if_nametoindex ("hvk15h0"), ==, 0);
  g_assert_cmpuint (if_nametoindex (hot_ifb), ==, 0);

  /* Stopped: the persistent tap stays, without hvkit's qdiscs. */
  g_assert_true (hvk_hypervisor_stop_vm (vm, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (if_nametoindex ("hvk15p0"), >, 0);
  assert_tap ("hvk15p0", 0, 0);
  g_assert_cmpuint (if_nametoindex (cold_ifb), ==, 0);
  persist_tap ("hvk15p0", FALSE);
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  e2e_env_init (&env);
  if (env.skip_reason == NULL)
    registry = e2e_registry_new ();

  g_test_add_func ("/hvk/e2e/iotune/cold-and-hot", test_cold_and_hot);
  g_test_add_func ("/hvk/e2e/iotune/tool-live", test_tool_live);
  g_test_add_func ("/hvk/e2e/iotune/guest-read", test_guest_read);
  g_test_add_func ("/hvk/e2e/iotune/tap-shaping", test_tap_shaping);

  ret = g_test_run ();
  g_clear_object (&registry);
  e2e_env_clear (&env);
  return ret;
}
