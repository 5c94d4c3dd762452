/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>
#include <glib/gstdio.h>
#include <string.h>

#include <unistd.h>

static void
test_keys (void)
{
  g_autoptr(HvkStats) stats = hvk_stats_new ();
  g_autoptr(GVariant) variant = NULL;
  g_autoptr(JsonNode) json = NULL;
  g_autofree char *json_text = NULL;
  g_auto(GStrv) keys = NULL;
  guint64 value = 0;

  hvk_stats_set (stats, "cpu.time_ns", 5);
  hvk_stats_set (stats, "block.disk0.rd_bytes", 4096);
  hvk_stats_add (stats, "virtiofsd.time_ns", 10);
  hvk_stats_add (stats, "virtiofsd.time_ns", 7);
  hvk_stats_set (stats, "cpu.time_ns", 6);
  /* Device ids may hold dots: the instance is what lies between the
   * first and the last one. */
  hvk_stats_set (stats, "net.eth.0.rx_bytes", 1);

  keys = hvk_stats_get_keys (stats);
  g_assert_cmpstrv (keys, ((const char *[]) { "cpu.time_ns", "block.disk0.rd_bytes",
                                              "virtiofsd.time_ns", "net.eth.0.rx_bytes", NULL }));
  g_assert_true (hvk_stats_lookup (stats, "cpu.time_ns", &value));
  g_assert_cmpuint (value, ==, 6);
  g_assert_true (hvk_stats_lookup (stats, "virtiofsd.time_ns", &value));
  g_assert_cmpuint (value, ==, 17);
  g_assert_false (hvk_stats_lookup (stats, "memory.rss_bytes", NULL));

  variant = g_variant_ref_sink (hvk_stats_to_variant (stats));
  g_assert_true (g_variant_is_of_type (variant, G_VARIANT_TYPE ("a{st}")));
  g_assert_true (g_variant_lookup (variant, "block.disk0.rd_bytes", "t", &value));
  g_assert_cmpuint (value, ==, 4096);

  json = hvk_stats_to_json (stats);
  json_text = json_to_string (json, FALSE);
  g_assert_cmpstr (json_text, ==,
                   "{\"cpu.time_ns\":6,\"block.disk0.rd_bytes\":4096,"
                   "\"virtiofsd.time_ns\":17,\"net.eth.0.rx_bytes\":1}");
}

static void
test_invalid_key (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(HvkStats) stats = hvk_stats_new ();
      hvk_stats_set (stats, "nodot", 1);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*key_is_valid*");
}

static void
test_process (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkStats) stats = hvk_stats_new ();
  guint64 time_ns = 0, rss = 0, thread_id = 0, vcpu_time = 0;
  volatile guint64 spin = 0;
  gint64 until = g_get_monotonic_time () + 30 * 1000;

  /* Some CPU time to see (clock ticks are 10 ms). */
  while (g_get_monotonic_time () < until)
    spin++;

  g_assert_true (hvk_stats_add_process (stats, getpid (), "cpu.time_ns", "memory.rss_bytes", &error));
  g_assert_no_error (error);
  g_assert_true (hvk_stats_lookup (stats, "cpu.time_ns", &time_ns));
  g_assert_true (hvk_stats_lookup (stats, "memory.rss_bytes", &rss));
  g_assert_cmpuint (time_ns, >, 0);
  g_assert_cmpuint (time_ns % 1000000, ==, 0);   /* whole ticks */
  g_assert_cmpuint (rss, >, 1024 * 1024);

  /* The main thread's id is the pid. */
  g_assert_true (hvk_stats_add_vcpu (stats, 0, getpid (), getpid (), &error));
  g_assert_no_error (error);
  g_assert_true (hvk_stats_lookup (stats, "vcpu.0.thread_id", &thread_id));
  g_assert_cmpuint (thread_id, ==, (guint64) getpid ());
  g_assert_true (hvk_stats_lookup (stats, "vcpu.0.time_ns", &vcpu_time));
  g_assert_cmpuint (vcpu_time, >, 0);

  /* Gone: a clear error, nothing added. */
  g_assert_false (hvk_stats_add_vcpu (stats, 1, getpid (), G_MAXINT - 1, &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (hvk_stats_lookup (stats, "vcpu.1.time_ns", NULL));
}

static guint64
sysfs_counter (const char *ifname,
               const char *name)
{
  g_autofree char *path = g_strdup_printf ("/sys/class/net/%s/statistics/%s", ifname, name);
  g_autofree char *contents = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  return g_ascii_strtoull (contents, NULL, 10);
}

/* The guest's view: the tap's tx is the guest's rx.  "lo" counts the
 * same both ways, so use its drops... which are equal too; check the
 * mapping through the key names and the values' source instead. */
static void
test_tap (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HvkStats) stats = hvk_stats_new ();
  guint64 before_tx, rx = 0, after_tx;
  const char *expected[] = { "net.n0.rx_bytes", "net.n0.tx_bytes", "net.n0.rx_packets",
                             "net.n0.tx_packets", "net.n0.rx_drops", "net.n0.tx_drops", NULL };
  g_auto(GStrv) keys = NULL;

  if (!g_file_test ("/sys/class/net/lo/statistics", G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("no /sys/class/net/lo here");
      return;
    }
  before_tx = sysfs_counter ("lo", "tx_bytes");
  g_assert_true (hvk_stats_add_tap (stats, "n0", "lo", &error));
  g_assert_no_error (error);
  after_tx = sysfs_counter ("lo", "tx_bytes");
  keys = hvk_stats_get_keys (stats);
  g_assert_cmpstrv (keys, expected);
  g_assert_true (hvk_stats_lookup (stats, "net.n0.rx_bytes", &rx));
  g_assert_cmpuint (rx, >=, before_tx);
  g_assert_cmpuint (rx, <=, after_tx);

  g_assert_false (hvk_stats_add_tap (stats, "n1", "hvkit-no-such-if", &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "'n1'"));
  g_clear_error (&error);
  g_assert_false (hvk_stats_add_tap (stats, "n1", "../lo", &error));
  g_assert_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT);
}

static HvkStats *
sample_stats (guint64 base)
{
  HvkStats *stats = hvk_stats_new ();

  hvk_stats_set (stats, "cpu.time_ns", base * 1500000000);
  hvk_stats_set (stats, "memory.rss_bytes", base * 1000);
  hvk_stats_set (stats, "vcpu.0.time_ns", 250000000);
  hvk_stats_set (stats, "block.disk0.wr_bytes", base * 8388608);
  hvk_stats_set (stats, "mock.queue.depth", 3);
  return stats;
}

static const char expected_prometheus[] =
  "# HELP hvkit_vm_cpu_seconds_total CPU time of the VMM process (user and system).\n"
  "# TYPE hvkit_vm_cpu_seconds_total counter\n"
  "hvkit_vm_cpu_seconds_total{id=\"vm1\"} 1.500000000\n"
  "hvkit_vm_cpu_seconds_total{id=\"a\\\"b\\\\c\"} 3.000000000\n"
  "# HELP hvkit_vm_memory_rss_bytes Resident memory of the VMM process.\n"
  "# TYPE hvkit_vm_memory_rss_bytes gauge\n"
  "hvkit_vm_memory_rss_bytes{id=\"vm1\"} 1000\n"
  "hvkit_vm_memory_rss_bytes{id=\"a\\\"b\\\\c\"} 2000\n"
  "# HELP hvkit_vm_vcpu_seconds_total CPU time of the vCPU's thread.\n"
  "# TYPE hvkit_vm_vcpu_seconds_total counter\n"
  "hvkit_vm_vcpu_seconds_total{id=\"vm1\",vcpu=\"0\"} 0.250000000\n"
  "hvkit_vm_vcpu_seconds_total{id=\"a\\\"b\\\\c\",vcpu=\"0\"} 0.250000000\n"
  "# HELP hvkit_vm_block_write_bytes_total Bytes the guest wrote to the disk.\n"
  "# TYPE hvkit_vm_block_write_bytes_total counter\n"
  "hvkit_vm_block_write_bytes_total{id=\"vm1\",device=\"disk0\"} 8388608\n"
  "hvkit_vm_block_write_bytes_total{id=\"a\\\"b\\\\c\",device=\"disk0\"} 16777216\n"
  "# HELP hvkit_vm_mock_depth Backend statistic mock.INSTANCE.depth.\n"
  "# TYPE hvkit_vm_mock_depth untyped\n"
  "hvkit_vm_mock_depth{id=\"vm1\",device=\"queue\"} 3\n"
  "hvkit_vm_mock_depth{id=\"a\\\"b\\\\c\",device=\"queue\"} 3\n";

static void
test_prometheus (void)
{
  g_autoptr(HvkStats) one = sample_stats (1);
  g_autoptr(HvkStats) two = sample_stats (2);
  const char *ids[] = { "vm1", "a\"b\\c" };
  HvkStats *stats[] = { one, two };
  g_autofree char *text = hvk_stats_format_prometheus (ids, stats, 2);
  g_autofree char *empty = hvk_stats_format_prometheus (NULL, NULL, 0);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *script =
    "import sys\n"
    "from prometheus_client.parser import text_string_to_metric_families\n"
    "n = 0\n"
    "for family in text_string_to_metric_families(open(sys.argv[1]).read()):\n"
    "    for sample in family.samples:\n"
    "        n += 1\n"
    "print(n)\n";
  int status;

  g_assert_cmpstr (text, ==, expected_prometheus);
  g_assert_cmpstr (empty, ==, "");

  /* A well-kept parser agrees (Debian's python3-prometheus-client). */
  if (!g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_message ("no /usr/bin/python3: the text was compared, not parsed");
      return;
    }
  dir = g_dir_make_tmp ("hvk-test-stats-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "metrics.txt", NULL);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  {
    const char *argv[] = { "/usr/bin/python3", "-c", script, path, NULL };
    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error);
  }
  g_assert_no_error (error);
  g_remove (path);
  g_rmdir (dir);
  if (err != NULL && strstr (err, "No module named 'prometheus_client'") != NULL)
    {
      g_test_skip ("python3-prometheus-client is not installed");
      return;
    }
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_cmpstr (g_strstrip (out), ==, "10");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hvk/stats/keys", test_keys);
  g_test_add_func ("/hvk/stats/invalid-key", test_invalid_key);
  g_test_add_func ("/hvk/stats/process", test_process);
  g_test_add_func ("/hvk/stats/tap", test_tap);
  g_test_add_func ("/hvk/stats/prometheus", test_prometheus);
  return g_test_run ();
}
