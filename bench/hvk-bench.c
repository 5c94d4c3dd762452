/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE   /* nftw */
#include "config.h"

#include <hvkit/hvkit.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "bench-qmp.h"

/* hvk-bench: what hvkit costs next to raw QEMU, a bare QMP client and
 * libvirt, measured side by side in one run (see bench/README.md).
 * Every figure is a wall-clock time on CLOCK_MONOTONIC or an RSS read
 * from /proc; the table gives median [min-max] of the repetitions. */

extern char **environ;

#define READY_MARKER   "HVKIT-GUEST-READY"
#define BLOCK_MARKER   "HVKIT-BLOCK-ADDED"
#define REMOVED_MARKER "HVKIT-BLOCK-REMOVED"
#define BOOT_TIMEOUT_MS 120000
#define QMP_TIMEOUT_MS  30000

typedef enum {
  T_NONE,
  T_RATIO,      /* hvkit <= target x reference */
  T_PLUS,       /* hvkit <= reference + target */
  T_ABS,        /* hvkit <= target */
  T_FASTER,     /* hvkit < reference */
} TargetKind;

typedef struct {
  char      *section;
  char      *name;
  char      *unit;
  GArray    *hvk;
  char      *ref_name;
  GArray    *ref;
  TargetKind kind;
  double     target;
  char      *target_text;
  gboolean   paired;     /* hvk[i] and ref[i] were measured in one round */
} Row;

static struct {
  char *hvkit;        /* the tool */
  char *self;         /* this program, for the cold-process children */
  char *guest_dir;
  char *qemu;
  char *work;         /* short tmp dir: socket paths must fit */
  char *conf;         /* the bench VM config */
  int   start_reps;
  int   reps;
  int   hotplug_reps;
  gboolean libvirt;
  char *libvirt_pids;
  char *sections;
  GPtrArray *rows;
  HvkRegistry *registry;
} B;

static double
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
die (const char *format,
     ...) G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN;

/* Every QEMU the benchmark started has the work dir in its command line:
 * a failed run kills them rather than leave them running. */
static void
kill_work_processes (void)
{
  g_autoptr(GDir) proc = NULL;
  const char *name;

  if (B.work == NULL || (proc = g_dir_open ("/proc", 0, NULL)) == NULL)
    return;
  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%s/cmdline", name);
      g_autofree char *cmdline = NULL;
      gsize len = 0;
      int pid = atoi (name);

      if (pid <= 1 || pid == getpid () || !g_file_get_contents (path, &cmdline, &len, NULL))
        continue;
      for (gsize i = 0; i + 1 < len; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      if (strstr (cmdline, "qemu-system") != NULL && strstr (cmdline, B.work) != NULL)
        kill (pid, SIGKILL);
    }
}

static void
die (const char *format,
     ...)
{
  va_list args;

  va_start (args, format);
  g_vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);
  if (B.self != NULL && B.rows != NULL)   /* the main process, not a child */
    kill_work_processes ();
  exit (1);
}

static void
note (const char *format,
      ...) G_GNUC_PRINTF (1, 2);

static void
note (const char *format,
      ...)
{
  va_list args;

  va_start (args, format);
  fputs ("bench: ", stderr);
  g_vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);
}

static gboolean
want (const char *section)
{
  g_auto(GStrv) list = g_strsplit (B.sections, ",", -1);

  return g_strv_contains ((const char * const *) list, section)
         || g_strv_contains ((const char * const *) list, "all");
}

/* ---- results ---- */

static Row *
row_new (const char *section,
         const char *name,
         const char *unit,
         const char *ref_name,
         TargetKind  kind,
         double      target,
         const char *target_text)
{
  Row *row = g_new0 (Row, 1);

  row->section = g_strdup (section);
  row->name = g_strdup (name);
  row->unit = g_strdup (unit);
  row->hvk = g_array_new (FALSE, FALSE, sizeof (double));
  row->ref_name = g_strdup (ref_name);
  row->ref = g_array_new (FALSE, FALSE, sizeof (double));
  row->kind = kind;
  row->target = target;
  row->target_text = g_strdup (target_text);
  g_ptr_array_add (B.rows, row);
  return row;
}

static void
add (GArray *samples,
     double  value)
{
  g_array_append_val (samples, value);
}

static int
cmp_double (gconstpointer a,
            gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (GArray *samples)
{
  g_autoptr(GArray) sorted = g_array_copy (samples);
  guint n = sorted->len;

  if (n == 0)
    return NAN;
  g_array_sort (sorted, cmp_double);
  if (n % 2)
    return g_array_index (sorted, double, n / 2);
  return (g_array_index (sorted, double, n / 2 - 1) + g_array_index (sorted, double, n / 2)) / 2;
}

/* For a paired row: the median over rounds of hvk[i]/ref[i] (@ratio) or
 * hvk[i]-ref[i].  Both variants of a round run back to back, so what
 * drifts between rounds (the host's load, QEMU's page cache) cancels
 * out; the medians of each side alone keep that drift. */
static double
paired_median (Row      *row,
               gboolean  ratio)
{
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (double));

  if (!row->paired || row->hvk->len != row->ref->len || row->hvk->len < 3)
    return NAN;
  for (guint i = 0; i < row->hvk->len; i++)
    {
      double h = g_array_index (row->hvk, double, i);
      double r = g_array_index (row->ref, double, i);
      double v = ratio ? (r > 0 ? h / r : NAN) : h - r;

      if (!isnan (v))
        g_array_append_val (values, v);
    }
  return median (values);
}

static double
sample_min (GArray *samples)
{
  double m = INFINITY;
  for (guint i = 0; i < samples->len; i++)
    m = MIN (m, g_array_index (samples, double, i));
  return m;
}

static double
sample_max (GArray *samples)
{
  double m = -INFINITY;
  for (guint i = 0; i < samples->len; i++)
    m = MAX (m, g_array_index (samples, double, i));
  return m;
}

static char *
format_value (double v)
{
  if (isnan (v))
    return g_strdup ("-");
  if (v != 0 && fabs (v) < 0.1)
    return g_strdup_printf ("%.3f", v);
  if (fabs (v) < 10)
    return g_strdup_printf ("%.2f", v);
  if (fabs (v) < 1000)
    return g_strdup_printf ("%.1f", v);
  return g_strdup_printf ("%.0f", v);
}

static char *
format_samples (GArray     *samples,
                const char *unit)
{
  g_autofree char *med = NULL, *lo = NULL, *hi = NULL;

  if (samples->len == 0)
    return g_strdup ("-");
  med = format_value (median (samples));
  if (samples->len == 1)
    return g_strdup_printf ("%s %s", med, unit);
  lo = format_value (sample_min (samples));
  hi = format_value (sample_max (samples));
  return g_strdup_printf ("%s %s [%s–%s]", med, unit, lo, hi);
}

/* "met", "MISSED" or "" */
static const char *
verdict (Row *row)
{
  double h = median (row->hvk), r = median (row->ref);
  double paired_ratio = paired_median (row, TRUE);
  double paired_diff = paired_median (row, FALSE);

  if (row->kind == T_NONE || isnan (h))
    return "";
  switch (row->kind)
    {
    case T_RATIO:
      if (!isnan (paired_ratio))
        return paired_ratio <= row->target ? "met" : "MISSED";
      return isnan (r) ? "" : h <= row->target * r ? "met" : "MISSED";
    case T_PLUS:
      if (!isnan (paired_diff))
        return paired_diff <= row->target ? "met" : "MISSED";
      return isnan (r) ? "" : h <= r + row->target ? "met" : "MISSED";
    case T_ABS:
      return h <= row->target ? "met" : "MISSED";
    case T_FASTER:
      return isnan (r) ? "" : h < r ? "met" : "MISSED";
    case T_NONE:
    default:
      return "";
    }
}

static void
print_table (void)
{
  const char *section = NULL;
  guint met = 0, missed = 0;

  printf ("\n| measurement | hvkit median [min–max] | reference | reference median [min–max] "
           "| hvkit/ref | paired by round | target | |\n");
  printf ("|---|---|---|---|---|---|---|---|\n");
  for (guint i = 0; i < B.rows->len; i++)
    {
      Row *row = B.rows->pdata[i];
      g_autofree char *h = format_samples (row->hvk, row->unit);
      g_autofree char *r = format_samples (row->ref, row->unit);
      g_autofree char *ratio = NULL;
      g_autofree char *paired = NULL;
      double hm = median (row->hvk), rm = median (row->ref);
      double pr = paired_median (row, TRUE), pd = paired_median (row, FALSE);
      const char *v = verdict (row);

      if (g_strcmp0 (section, row->section) != 0)
        {
          section = row->section;
          printf ("| **%s** | | | | | | | |\n", section);
        }
      if (!isnan (hm) && !isnan (rm) && rm > 0)
        ratio = g_strdup_printf ("%.2f×", hm / rm);
      if (!isnan (pr))
        {
          g_autofree char *diff = format_value (fabs (pd));
          paired = g_strdup_printf ("%.2f×, %s%s %s", pr, pd < 0 ? "−" : "+", diff, row->unit);
        }
      printf ("| %s | %s | %s | %s | %s | %s | %s | %s |\n", row->name, h,
               row->ref_name ? row->ref_name : "", r, ratio ? ratio : "",
               paired ? paired : "", row->target_text ? row->target_text : "", v);
      if (g_str_equal (v, "met"))
        met++;
      else if (g_str_equal (v, "MISSED"))
        missed++;
    }
  printf ("\nTargets: %u met, %u missed.\n", met, missed);
}

/* ---- processes ---- */

static int
devnull_fd (void)
{
  static int fd = -1;

  if (fd < 0)
    fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  return fd;
}

static pid_t
spawn_quiet (const char * const *argv)
{
  posix_spawn_file_actions_t actions;
  pid_t pid;
  int r;

  posix_spawn_file_actions_init (&actions);
  posix_spawn_file_actions_adddup2 (&actions, devnull_fd (), 0);
  posix_spawn_file_actions_adddup2 (&actions, devnull_fd (), 1);
  r = posix_spawn (&pid, argv[0], &actions, NULL, (char * const *) argv, environ);
  posix_spawn_file_actions_destroy (&actions);
  if (r != 0)
    die ("cannot run %s: %s", argv[0], g_strerror (r));
  return pid;
}

static int
wait_child (pid_t pid)
{
  int status;

  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

static double last_wall_ms, last_cpu_ms;

/* Runs @argv (stdout to /dev/null) and returns its wall time in ms;
 * last_cpu_ms is the user+system time it used. */
static double
time_process (const char * const *argv)
{
  double t0 = now_ms ();
  pid_t pid = spawn_quiet (argv);
  struct rusage usage;
  int status = -1, wstatus;
  double t;

  while (wait4 (pid, &wstatus, 0, &usage) < 0)
    if (errno != EINTR)
      die ("wait4: %s", g_strerror (errno));
  t = now_ms () - t0;
  if (WIFEXITED (wstatus))
    status = WEXITSTATUS (wstatus);
  last_wall_ms = t;
  last_cpu_ms = usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec / 1e3
                + usage.ru_stime.tv_sec * 1e3 + usage.ru_stime.tv_usec / 1e3;

  if (status != 0)
    {
      g_autofree char *line = g_strjoinv (" ", (char **) argv);
      die ("'%s' exited with status %d", line, status);
    }
  return t;
}

static char *
capture (const char * const *argv)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     &out, &err, &status, &error))
    die ("cannot run %s: %s", argv[0], error->message);
  if (!g_spawn_check_wait_status (status, NULL))
    die ("%s failed: %s", argv[0], err);
  return g_steal_pointer (&out);
}

/* hvkit --state-dir STORE ARGS… with its wall time */
static double
time_tool (const char *store,
           ...) G_GNUC_NULL_TERMINATED;

static double
time_tool (const char *store,
           ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  va_list args;
  const char *arg;

  g_ptr_array_add (argv, B.hvkit);
  g_ptr_array_add (argv, (char *) "--state-dir");
  g_ptr_array_add (argv, (char *) store);
  va_start (args, store);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  return time_process ((const char * const *) argv->pdata);
}

/* kB of VmRSS in /proc/PID/status (0: self) */
static double
rss_kib (int pid)
{
  g_autofree char *path = pid > 0 ? g_strdup_printf ("/proc/%d/status", pid)
                                  : g_strdup ("/proc/self/status");
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NAN;
  line = strstr (text, "VmRSS:");
  return line ? g_ascii_strtod (line + 6, NULL) : NAN;
}

/* Lets the host settle (the previous VM's exit, a resumed vCPU) so a
 * measurement does not pay for the one before it. */
static void
settle (guint ms)
{
  g_usleep (ms * 1000);
}

/* ---- guest console ---- */

typedef struct {
  int      fd;
  GString *text;
  gsize    mark;
} Console;

static Console *
console_open (const char *path)
{
  Console *console;
  int fd = -1;

  for (int i = 0; i < 5000 && fd < 0; i++)
    {
      fd = bqmp_connect (path);
      if (fd < 0)
        g_usleep (1000);
    }
  if (fd < 0)
    die ("cannot connect to console %s: %s", path, g_strerror (errno));
  console = g_new0 (Console, 1);
  console->fd = fd;
  console->text = g_string_new (NULL);
  return console;
}

static void
console_forget (Console *console)
{
  console->mark = console->text->len;
}

/* Reads until @needle shows up after the mark; the time it was seen. */
static double
console_wait (Console    *console,
              const char *needle,
              guint       timeout_ms)
{
  double deadline = now_ms () + timeout_ms;

  for (;;)
    {
      struct pollfd pfd = { .fd = console->fd, .events = POLLIN };
      char buf[4096];
      ssize_t n;
      double left;

      if (strstr (console->text->str + console->mark, needle) != NULL)
        return now_ms ();
      left = deadline - now_ms ();
      if (left <= 0)
        die ("no '%s' on the console within %u ms; it said:\n%s", needle, timeout_ms,
             console->text->str);
      if (poll (&pfd, 1, (int) left + 1) <= 0)
        continue;
      n = read (console->fd, buf, sizeof buf);
      if (n <= 0)
        die ("console closed before '%s'; it said:\n%s", needle, console->text->str);
      g_string_append_len (console->text, buf, n);
    }
}

static void
console_free (Console *console)
{
  if (console == NULL)
    return;
  close (console->fd);
  g_string_free (console->text, TRUE);
  g_free (console);
}

/* ---- configs ---- */

static void
write_file (const char *path,
            const char *text)
{
  g_autoptr(GError) error = NULL;

  if (!g_file_set_contents (path, text, -1, &error))
    die ("%s", error->message);
}

static char *
bench_config_text (const char *extra)
{
  return g_strdup_printf ("[hypervisor]\nbackend=qemu\n\n"
                          "[hypervisor.qemu]\n"
                          "path=%s\n"
                          "kernel=%s/vmlinuz\n"
                          "initrd=%s/initrd.img\n"
                          "machine_type=q35\n"
                          "machine_accelerators=accel=tcg\n"
                          "default_vcpus=1\n"
                          "default_maxvcpus=4\n"
                          "default_memory=256\n"
                          "default_maxmemory=1024\n"
                          "memory_slots=4\n"
                          "default_bridges=1\n"
                          "block_device_driver=virtio-blk\n"
                          "%s", B.qemu, B.guest_dir, B.guest_dir, extra ? extra : "");
}

static HvkConfig *
load_config (const char *path,
             const char *store)
{
  g_autoptr(GError) error = NULL;
  HvkConfig *config = hvk_config_new_from_file (path, B.registry, &error);

  if (config == NULL)
    die ("%s", error->message);
  hvk_config_set_vm_store_path (config, store);
  return config;
}

/* ---- the library-managed VM ---- */

typedef struct {
  HvkHypervisor *hv;
  Console       *console;
  char          *store;
  char          *id;
  double         t_qmp;      /* ms from before create_vm */
  double         t_console;
} LibVm;

static LibVm *
lib_vm_start (const char *store,
              const char *id,
              gboolean    wait_console)
{
  g_autoptr(HvkConfig) config = load_config (B.conf, store);
  g_autoptr(GError) error = NULL;
  g_autofree char *protocol = NULL;
  g_autofree char *url = NULL;
  LibVm *vm = g_new0 (LibVm, 1);
  double t0;

  vm->store = g_strdup (store);
  vm->id = g_strdup (id);
  vm->hv = hvk_registry_create_hypervisor (B.registry, config, &error);
  if (vm->hv == NULL)
    die ("%s", error->message);
  t0 = now_ms ();
  if (!hvk_hypervisor_create_vm (vm->hv, id, config, &error)
      || !hvk_hypervisor_start_vm (vm->hv, QMP_TIMEOUT_MS, NULL, &error))
    die ("library start: %s", error->message);
  vm->t_qmp = now_ms () - t0;
  if (wait_console)
    {
      if (!hvk_hypervisor_get_vm_console (vm->hv, &protocol, &url, &error))
        die ("%s", error->message);
      vm->console = console_open (url);
      vm->t_console = console_wait (vm->console, READY_MARKER, BOOT_TIMEOUT_MS) - t0;
    }
  return vm;
}

static void
lib_vm_stop (LibVm *vm)
{
  g_autoptr(GError) error = NULL;

  if (vm == NULL)
    return;
  if (!hvk_hypervisor_stop_vm (vm->hv, FALSE, NULL, &error))
    note ("stop %s: %s", vm->id, error->message);
  hvk_hypervisor_cleanup (vm->hv, NULL);
  console_free (vm->console);
  g_object_unref (vm->hv);
  g_free (vm->store);
  g_free (vm->id);
  g_free (vm);
}

/* ---- raw QEMU with hvkit's argv ---- */

typedef struct {
  int      qmp;       /* negotiated connection */
  int      pid;       /* QEMU, in the foreground as under hvkit-monitor */
  Console *console;
  char    *dir;
  double   t_qmp;
  double   t_console;
} RawVm;

static GStrv raw_argv;
static char *raw_dir;

/* `hvkit argv --json` builds the command line in a throw-away store;
 * the same argv, with that store's path replaced by ours. */
static void
raw_prepare (const char *store)
{
  const char *argv[] = { B.hvkit, "argv", "--json", "-c", B.conf, "--id", "raw", NULL };
  g_autofree char *json = capture (argv);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *old_store = NULL;
  JsonArray *array;
  guint n;

  if (!json_parser_load_from_data (parser, json, -1, &error))
    die ("hvkit argv --json: %s", error->message);
  array = json_node_get_array (json_parser_get_root (parser));
  n = json_array_get_length (array);
  for (guint i = 0; i + 1 < n; i++)
    if (g_str_equal (json_array_get_string_element (array, i), "-pidfile"))
      {
        g_autofree char *vm_dir = g_path_get_dirname (json_array_get_string_element (array, i + 1));
        old_store = g_path_get_dirname (vm_dir);
      }
  if (old_store == NULL)
    die ("hvkit argv --json: no -pidfile");
  raw_argv = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    {
      g_auto(GStrv) parts = g_strsplit (json_array_get_string_element (array, i), old_store, -1);
      raw_argv[i] = g_strjoinv (store, parts);
    }
  raw_dir = g_build_filename (store, "raw", NULL);
  g_mkdir_with_parents (raw_dir, 0700);
}

static RawVm *
raw_vm_start (gboolean wait_console)
{
  g_autofree char *qmp = g_build_filename (raw_dir, "qmp.sock", NULL);
  g_autofree char *console = g_build_filename (raw_dir, "console.sock", NULL);
  g_autofree char *pid_file = g_build_filename (raw_dir, "pid", NULL);
  g_autofree char *pid_text = NULL;
  RawVm *vm = g_new0 (RawVm, 1);
  double t0;

  unlink (qmp);
  unlink (pid_file);
  t0 = now_ms ();
  /* hvkit's argv has no -daemonize (QEMU runs under hvkit-monitor):
   * raw QEMU is our child, in the foreground. */
  vm->pid = spawn_quiet ((const char * const *) raw_argv);
  /* As fast as a client can notice: poll every 50 µs. */
  vm->qmp = bqmp_wait_ready (qmp, 50, QMP_TIMEOUT_MS);
  vm->t_qmp = now_ms () - t0;
  if (vm->qmp < 0)
    die ("raw QEMU did not answer on %s", qmp);
  if (wait_console)
    vm->console = console_open (console);
  if (!g_file_get_contents (pid_file, &pid_text, NULL, NULL))
    die ("raw QEMU wrote no pid file");
  if (wait_console)
    vm->t_console = console_wait (vm->console, READY_MARKER, BOOT_TIMEOUT_MS) - t0;
  return vm;
}

static void
raw_vm_stop (RawVm *vm)
{
  if (vm == NULL)
    return;
  bqmp_run (vm->qmp, "{\"execute\":\"quit\"}");
  close (vm->qmp);
  wait_child (vm->pid);
  console_free (vm->console);
  g_free (vm);
}

/* ---- 1. start ---- */

static RawVm *bare_vm;   /* kept running for the control-plane section */
static LibVm *api_vm;

static Row *row_tool_status, *row_tool_pause, *row_tool_resume,
           *row_tool_hotplug, *row_tool_status_cpu, *row_tool_pause_cpu,
           *row_tool_resume_cpu, *row_tool_stats, *row_tool_event;
static double tool_rss_1vm = NAN;

static void
count_resident (Row *row)
{
  /* No hvkit process stays behind: QEMU and its hvkit-monitor (a
   * separate, libc-only program) are what is left. */
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;
  double count = 0;

  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *exe_link = g_strdup_printf ("/proc/%s/exe", name);
      g_autofree char *exe = g_file_read_link (exe_link, NULL);
      if (exe != NULL && g_strcmp0 (exe, B.hvkit) == 0)
        count++;
    }
  add (row->hvk, count);
}

/* The tool's per-command costs on a running VM (alone on the host). */
static void
bench_tool_commands (const char *tool_store)
{
  g_autofree char *disk = g_build_filename (B.work, "tool.img", NULL);
  g_autofree char *spec = g_strdup_printf ("block,id=tdisk,path=%s,format=raw", disk);
  g_autofree char *console_path = g_build_filename (tool_store, "tool", "console.sock", NULL);
  const char *true_argv[] = { "/bin/true", NULL };
  const char *noop_argv[] = { B.self, "--child", "noop", NULL };
  Row *row_true = row_new ("3. framework", "floor: `/bin/true` whole process", "ms", NULL, T_NONE, 0, NULL);
  Row *row_true_cpu = row_new ("3. framework", "floor: `/bin/true` CPU time", "ms", NULL, T_NONE, 0, NULL);
  Console *tc;

  note ("tool commands");
  time_tool (tool_store, "start", "-c", B.conf, "--id", "tool", NULL);
  tc = console_open (console_path);
  write_file (disk, "");
  truncate (disk, 8 << 20);
  /* Hotplug needs a booted guest (and the unplug its consent). */
  console_wait (tc, READY_MARKER, BOOT_TIMEOUT_MS);
  for (int j = 0; j < B.reps; j++)
    {
      settle (10);
      add (row_tool_status->hvk, time_tool (tool_store, "status", "tool", NULL));
      add (row_tool_status_cpu->hvk, last_cpu_ms);
      add (row_tool_pause->hvk, time_tool (tool_store, "pause", "tool", NULL));
      add (row_tool_pause_cpu->hvk, last_cpu_ms);
      add (row_tool_resume->hvk, time_tool (tool_store, "resume", "tool", NULL));
      add (row_tool_resume_cpu->hvk, last_cpu_ms);
      add (row_tool_stats->hvk, time_tool (tool_store, "stats", "tool", "--prometheus", NULL));
      /* The floors: exec of a program that does nothing, and of one
       * linked like hvkit (libhvkit, GLib, GObject, json-glib). */
      time_process (true_argv);
      add (row_true->hvk, last_wall_ms);
      add (row_true_cpu->hvk, last_cpu_ms);
      time_process (noop_argv);
      add (row_tool_status->ref, last_wall_ms);
      add (row_tool_pause->ref, last_wall_ms);
      add (row_tool_resume->ref, last_wall_ms);
      add (row_tool_status_cpu->ref, last_cpu_ms);
      add (row_tool_pause_cpu->ref, last_cpu_ms);
      add (row_tool_resume_cpu->ref, last_cpu_ms);
      add (row_tool_stats->ref, last_wall_ms);
    }
  /* Event latency: a follower (`hvkit events --json`) on the events
   * socket, stop and cont sent on the commands' socket, timed from just
   * before each command to the follower's line. */
  {
    g_autofree char *qmp_path = g_build_filename (tool_store, "tool", "qmp.sock", NULL);
    const char *follow_argv[] = { B.hvkit, "--state-dir", tool_store, "events", "tool", "--json", NULL };
    GPid follower = 0;
    int out_fd = -1, qmp;
    g_autoptr(GError) error = NULL;

    if (!g_spawn_async_with_pipes (NULL, (char **) follow_argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                   NULL, NULL, &follower, NULL, &out_fd, NULL, &error))
      die ("cannot run hvkit events: %s", error->message);
    g_usleep (G_USEC_PER_SEC);
    qmp = bqmp_connect (qmp_path);
    if (qmp < 0 || !bqmp_handshake (qmp))
      die ("cannot connect to %s", qmp_path);
    for (int j = 0; j < 2 * B.reps; j++)
      {
        char buf[4096];
        struct pollfd pfd = { .fd = out_fd, .events = POLLIN };
        double t0 = now_ms ();

        if (!bqmp_run (qmp, j % 2 == 0 ? "{\"execute\":\"stop\"}" : "{\"execute\":\"cont\"}"))
          die ("QMP stop/cont failed");
        if (poll (&pfd, 1, 5000) != 1 || read (out_fd, buf, sizeof buf) <= 0)
          die ("hvkit events printed nothing within 5 s");
        add (row_tool_event->hvk, now_ms () - t0);
        g_usleep (50 * 1000);
      }
    close (qmp);
    kill (follower, SIGTERM);
    waitpid (follower, NULL, 0);
    g_spawn_close_pid (follower);
    close (out_fd);
  }
  for (int j = 0; j < B.hotplug_reps; j++)
    {
      console_forget (tc);
      add (row_tool_hotplug->hvk, time_tool (tool_store, "hotplug", "tool", "--device", spec, NULL));
      console_wait (tc, BLOCK_MARKER, BOOT_TIMEOUT_MS);
      console_forget (tc);
      time_tool (tool_store, "unplug", "tool", "--device-id", "tdisk", NULL);
      /* The guest polls /sys/block: let it see the removal. */
      console_wait (tc, REMOVED_MARKER, BOOT_TIMEOUT_MS);
    }
  console_free (tc);
  time_tool (tool_store, "stop", "tool", NULL);
}

/* What confinement costs: `hvkit start` of a confined VM
 * (rootless as uid/gid 64242, seccomp, its cgroup) against an unconfined
 * one (disable_seccomp=true, QEMU as root, and no cgroup: a parent hvkit
 * cannot make one in, which without limits runs the VM without), taking
 * turns within each round.  Needs root (the identity change). */
static void
bench_confinement (const char *store)
{
  g_autofree char *confined_conf = g_build_filename (B.work, "confined.conf", NULL);
  g_autofree char *open_conf = g_build_filename (B.work, "unconfined.conf", NULL);
  Row *row;

  if (geteuid () != 0)
    {
      note ("confinement row skipped: rootless needs hvkit to run as root");
      return;
    }
  {
    g_autofree char *confined = bench_config_text ("rootless=true\nvmm_user=64242\nvmm_group=64242\n");
    g_autofree char *open = bench_config_text ("disable_seccomp=true\n"
                                               "vmm_cgroup_parent=/hvkit-bench/../none\n");

    write_file (confined_conf, confined);
    write_file (open_conf, open);
  }
  /* The unprivileged QEMU reaches its own dir through the work dir. */
  if (chmod (B.work, 0711) != 0)
    die ("chmod %s: %s", B.work, g_strerror (errno));
  row = row_new ("1. start", "`hvkit start` confined: rootless, seccomp, cgroup",
                 "ms", "unconfined: root, no seccomp, no cgroup", T_PLUS, 5.0,
                 "≤ unconfined + 5 ms");
  row->paired = TRUE;
  for (int i = 0; i < B.start_reps; i++)
    {
      note ("confinement %d/%d", i + 1, B.start_reps);
      for (int k = 0; k < 2; k++)
        {
          gboolean confined = (i + k) % 2 == 0;
          double t;

          settle (300);
          /* The start alone (exec until QMP answers), as the issue
           * asks; the stop is not timed: QEMU's exit and the
           * cgroup's removal only add noise to a 5 ms question. */
          t = time_tool (store, "start", "-c", confined ? confined_conf : open_conf,
                         "--id", "conf", NULL);
          time_tool (store, "stop", "conf", NULL);
          add (confined ? row->hvk : row->ref, t);
        }
    }
}

/* ---- 5. elastic memory ---- */

/* One read of what the console has (up to @timeout_ms), no verdict. */
static void
console_pump (Console *console,
              guint    timeout_ms)
{
  struct pollfd pfd = { .fd = console->fd, .events = POLLIN };
  char buf[4096];
  ssize_t n;

  if (poll (&pfd, 1, (int) timeout_ms) <= 0)
    return;
  n = read (console->fd, buf, sizeof buf);
  if (n <= 0)
    die ("console closed; it said:\n%s", console->text->str);
  g_string_append_len (console->text, buf, n);
}

/* The number after the last "HVKIT-MEMTOTAL " since the mark, or -1. */
static gint64
console_memtotal (Console *console)
{
  const char *p = console->text->str + console->mark, *last = NULL;

  while ((p = strstr (p, "HVKIT-MEMTOTAL ")) != NULL)
    last = p++;
  return last ? g_ascii_strtoll (last + strlen ("HVKIT-MEMTOTAL "), NULL, 10) : -1;
}

/* Waits until the guest's MemTotal is >= @kb (@grow) or <= @kb; the time. */
static double
wait_memtotal (Console *console,
               gint64   kb,
               gboolean grow)
{
  double deadline = now_ms () + BOOT_TIMEOUT_MS;

  for (;;)
    {
      gint64 v = console_memtotal (console);

      if (v >= 0 && (grow ? v >= kb : v <= kb))
        return now_ms ();
      if (now_ms () > deadline)
        die ("the guest's MemTotal did not reach %" G_GINT64_FORMAT " kB; it said:\n%s",
             kb, console->text->str);
      console_pump (console, 100);
    }
}

static gint64
balloon_actual_mb (const char *store)
{
  const char *argv[] = { B.hvkit, "--state-dir", store, "balloon", "mem", "--json", NULL };
  g_autofree char *out = capture (argv);
  const char *p = strstr (out, "\"actual_mb\" : ");

  return p ? g_ascii_strtoll (p + strlen ("\"actual_mb\" : "), NULL, 10) : -1;
}

/* One VM with virtio-mem and the balloon (512 MiB of 1024): what the
 * guest gives back by free-page reporting after it fills and frees
 * 192 MiB of tmpfs, virtio-mem resize from the request to the guest's
 * MemTotal, a balloon target to QEMU's actual. */
static void
bench_memory (void)
{
  g_autofree char *store = g_build_filename (B.work, "m", NULL);
  g_autofree char *conf = g_build_filename (B.work, "mem.conf", NULL);
  g_autofree char *console_path = g_build_filename (store, "mem", "console.sock", NULL);
  g_autofree char *pid_path = g_build_filename (store, "mem", "pid", NULL);
  g_autofree char *pid_text = NULL;
  g_autofree char *text = g_strdup_printf ("[hypervisor]\nbackend=qemu\n\n[hypervisor.qemu]\n"
                                           "path=%s\nkernel=%s/vmlinuz\ninitrd=%s/initrd.img\n"
                                           "machine_type=q35\nmachine_accelerators=accel=tcg\n"
                                           "default_vcpus=1\ndefault_maxvcpus=1\n"
                                           "default_memory=512\ndefault_maxmemory=1024\n"
                                           "block_device_driver=virtio-blk\n"
                                           "enable_virtio_mem=true\nreclaim_guest_freed_memory=true\n"
                                           "kernel_params=memhp_default_state=online_movable "
                                           "hvkit.fill_mb=192 hvkit.fill_hold_s=3\n",
                                           B.qemu, B.guest_dir, B.guest_dir);
  Row *returned = row_new ("5. memory", "free-page reporting: QEMU RSS given back after the guest "
                           "fills and frees 192 MiB of tmpfs", "MiB", NULL, T_NONE, 0, NULL);
  Row *returned_ms = row_new ("5. memory", "guest frees 192 MiB → QEMU RSS down by ≥ 100 MiB",
                              "ms", NULL, T_NONE, 0, NULL);
  Row *grow = row_new ("5. memory", "virtio-mem 512 → 768 MiB: `hvkit resize` → guest MemTotal",
                       "ms", NULL, T_NONE, 0, NULL);
  Row *shrink = row_new ("5. memory", "virtio-mem 768 → 512 MiB: `hvkit resize` → ≥ 128 MiB leave "
                         "the guest's MemTotal", "ms", NULL, T_NONE, 0, NULL);
  Row *balloon = row_new ("5. memory", "`hvkit balloon --target 256` (of 512) → QEMU's actual 256 MiB",
                          "ms", NULL, T_NONE, 0, NULL);
  Console *console;
  double peak = 0, t0, rss;
  gint64 boot_kb;
  int pid;

  write_file (conf, text);
  time_tool (store, "start", "-c", conf, "--id", "mem", NULL);
  if (!g_file_get_contents (pid_path, &pid_text, NULL, NULL))
    die ("no pid file %s", pid_path);
  pid = atoi (pid_text);
  console = console_open (console_path);
  console_wait (console, READY_MARKER, BOOT_TIMEOUT_MS);
  boot_kb = console_memtotal (console);

  /* The fill is held 3 s: its highest RSS, then how much comes back. */
  t0 = now_ms () + BOOT_TIMEOUT_MS;
  while (strstr (console->text->str, "HVKIT-FREED") == NULL && now_ms () < t0)
    {
      peak = MAX (peak, rss_kib (pid));
      console_pump (console, 100);
    }
  t0 = now_ms ();
  do
    {
      rss = rss_kib (pid);
      if (rss <= peak - 100 * 1024)
        break;
      g_usleep (50 * 1000);
    }
  while (now_ms () - t0 < 30000);
  add (returned_ms->hvk, now_ms () - t0);
  add (returned->hvk, (peak - rss) / 1024);

  for (int j = 0; j < B.hotplug_reps; j++)
    {
      gint64 grown;

      note ("memory %d/%d", j + 1, B.hotplug_reps);
      console_forget (console);
      t0 = now_ms ();
      time_tool (store, "resize", "mem", "--memory", "768", NULL);
      add (grow->hvk, wait_memtotal (console, boot_kb + 250 * 1024, TRUE) - t0);
      grown = console_memtotal (console);
      console_forget (console);
      t0 = now_ms ();
      time_tool (store, "resize", "mem", "--memory", "512", NULL);
      add (shrink->hvk, wait_memtotal (console, grown - 128 * 1024, FALSE) - t0);
      settle (300);
    }
  for (int j = 0; j < MIN (B.hotplug_reps, 3); j++)
    {
      double deadline;

      t0 = now_ms ();
      time_tool (store, "balloon", "mem", "--target", "256", NULL);
      deadline = t0 + BOOT_TIMEOUT_MS;
      while (balloon_actual_mb (store) > 256)
        {
          if (now_ms () > deadline)
            die ("the balloon did not reach 256 MiB");
          g_usleep (100 * 1000);
        }
      add (balloon->hvk, now_ms () - t0);
      time_tool (store, "balloon", "mem", "--target", "512", NULL);
      while (balloon_actual_mb (store) < 512 && now_ms () < deadline)
        g_usleep (100 * 1000);
    }
  console_free (console);
  time_tool (store, "stop", "mem", NULL);
}

/* The "stats" of disk @id in a query-blockstats reply line. */
static JsonObject *
blockstats_of (JsonNode   *reply,
               const char *id)
{
  g_autofree char *prefix = g_strdup_printf ("/machine/peripheral/%s/", id);
  JsonArray *list = json_object_get_array_member (json_node_get_object (reply), "return");

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *entry = json_array_get_object_element (list, i);

      if (g_str_has_prefix (json_object_get_string_member_with_default (entry, "qdev", ""), prefix))
        return json_object_get_object_member (entry, "stats");
    }
  die ("query-blockstats has no disk %s", id);
  return NULL;
}

/* Two disks in one throttle group (throttle_group=pair) limited to
 * 1 MiB/s, the guest reading 4 MiB O_DIRECT from each in turn: the
 * throughput QEMU measured for the pair (query-blockstats: bytes over
 * the requests' total time, less the first 1 MiB request and the tenth
 * of a second's budget QEMU lets through at once) against the limit. */
static void
bench_throttle_group (void)
{
  g_autofree char *store = g_build_filename (B.work, "tg", NULL);
  g_autofree char *conf = g_build_filename (B.work, "tg.conf", NULL);
  g_autofree char *disk0 = g_build_filename (B.work, "tg0.img", NULL);
  g_autofree char *disk1 = g_build_filename (B.work, "tg1.img", NULL);
  g_autofree char *console_path = g_build_filename (store, "tg", "console.sock", NULL);
  g_autofree char *qmp_path = g_build_filename (store, "tg", "qmp.sock", NULL);
  g_autofree char *text = g_strdup_printf ("[hypervisor]\nbackend=qemu\n\n[hypervisor.qemu]\n"
                                           "path=%s\nkernel=%s/vmlinuz\ninitrd=%s/initrd.img\n"
                                           "machine_type=q35\nmachine_accelerators=accel=tcg\n"
                                           "default_vcpus=1\ndefault_maxvcpus=1\n"
                                           "default_memory=256\ndefault_maxmemory=1024\n"
                                           "block_device_driver=virtio-blk\n"
                                           "kernel_params=hvkit.dio_read_mb=4\n"
                                           "[device.disk0]\nkind=block\npath=%s\n"
                                           "rate_limiter_bw_max_rate=8388608\nthrottle_group=pair\n"
                                           "[device.disk1]\nkind=block\npath=%s\n"
                                           "rate_limiter_bw_max_rate=8388608\nthrottle_group=pair\n",
                                           B.qemu, B.guest_dir, B.guest_dir, disk0, disk1);
  Row *row = row_new ("2. control plane", "shared throttle group, 2 disks × 4 MiB O_DIRECT reads "
                      "through 1 MiB/s: QEMU's measured throughput", "MiB/s",
                      "configured limit", T_RATIO, 1.10, "≤ 1.10× the limit");
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *reply = NULL;
  g_autoptr(GError) error = NULL;
  Console *console;
  gint64 bytes = 0, ns = 0;
  int fd;

  note ("control plane: shared throttle group");
  write_file (disk0, "");
  write_file (disk1, "");
  if (truncate (disk0, 32 << 20) != 0 || truncate (disk1, 32 << 20) != 0)
    die ("truncate: %s", g_strerror (errno));
  write_file (conf, text);
  time_tool (store, "start", "-c", conf, "--id", "tg", NULL);
  console = console_open (console_path);
  console_wait (console, "HVKIT-DIO-READ vdb", BOOT_TIMEOUT_MS);
  fd = bqmp_wait_ready (qmp_path, 10000, QMP_TIMEOUT_MS);
  if (fd < 0)
    die ("no QMP on %s", qmp_path);
  reply = bqmp_command (fd, "{\"execute\":\"query-blockstats\"}");
  if (reply == NULL || !json_parser_load_from_data (parser, reply, -1, &error))
    die ("query-blockstats: %s", error != NULL ? error->message : "no reply");
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *stats = blockstats_of (json_parser_get_root (parser), i == 0 ? "disk0" : "disk1");

      bytes += json_object_get_int_member (stats, "rd_bytes");
      ns += json_object_get_int_member (stats, "rd_total_time_ns");
    }
  close (fd);
  note ("throttle group: %" G_GINT64_FORMAT " bytes in %.3f s of requests", bytes, ns / 1e9);
  add (row->hvk, (bytes - 1.1 * 1048576.0) / (ns / 1e9) / 1048576.0);
  add (row->ref, 1.0);
  console_free (console);
  time_tool (store, "stop", "tg", NULL);
}

/* Each variant starts alone on the host; the VMs the control-plane
 * section uses start afterwards. */
static void
bench_start (void)
{
  g_autofree char *raw_store = g_build_filename (B.work, "r", NULL);
  g_autofree char *lib_store = g_build_filename (B.work, "l", NULL);
  g_autofree char *tool_store = g_build_filename (B.work, "t", NULL);
  Row *raw_vs_tool = row_new ("1. start", "exec → QMP ready: `hvkit start` whole process",
                              "ms", "raw QEMU, same argv", T_RATIO, 1.10, "≤ 1.10× raw");
  Row *raw_vs_lib = row_new ("1. start", "exec → QMP ready: library create_vm+start_vm",
                             "ms", "raw QEMU, same argv", T_PLUS, 2.0, "≤ raw + 2 ms");
  Row *console = row_new ("1. start", "exec → guest console marker: library",
                          "ms", "raw QEMU, same argv", T_NONE, 0, NULL);
  Row *resident = row_new ("1. start", "hvkit processes left after `hvkit start`",
                           "", NULL, T_ABS, 0, "0 (no daemon)");

  /* The three variants take turns within each round. */
  raw_vs_tool->paired = raw_vs_lib->paired = console->paired = TRUE;

  raw_prepare (raw_store);
  if (want ("start"))
    for (int i = 0; i < B.start_reps; i++)
      {
        RawVm *raw;
        LibVm *lib;
        double t;

        note ("start %d/%d", i + 1, B.start_reps);
        /* Each variant goes first in turn: none always follows the same. */
        for (int k = 0; k < 3; k++)
          {
            settle (300);
            switch ((i + k) % 3)
              {
              case 0:
                raw = raw_vm_start (TRUE);
                add (raw_vs_tool->ref, raw->t_qmp);
                add (raw_vs_lib->ref, raw->t_qmp);
                add (console->ref, raw->t_console);
                raw_vm_stop (raw);
                break;
              case 1:
                lib = lib_vm_start (lib_store, "lib", TRUE);
                add (raw_vs_lib->hvk, lib->t_qmp);
                add (console->hvk, lib->t_console);
                lib_vm_stop (lib);
                break;
              default:
                t = time_tool (tool_store, "start", "-c", B.conf, "--id", "tool", NULL);
                add (raw_vs_tool->hvk, t);
                count_resident (resident);
                time_tool (tool_store, "stop", "tool", NULL);
                break;
              }
          }
      }

  if (want ("start") || want ("confinement"))
    bench_confinement (tool_store);
  if (want ("start") || want ("tool"))
    bench_tool_commands (tool_store);

  if (want ("control"))
    {
      note ("starting the control-plane VMs");
      bare_vm = raw_vm_start (TRUE);
      api_vm = lib_vm_start (lib_store, "lib", TRUE);
    }
}

/* ---- 2. control plane ---- */

/* The block device hvkit's hotplug put in: its bus and address. */
static void
hotplugged_slot (HvkHypervisor *hv,
                 const char    *id,
                 char         **bus,
                 char         **addr)
{
  g_autoptr(JsonNode) state = hvk_hypervisor_save_state (hv);
  g_autofree char *text = json_to_string (state, FALSE);
  JsonObject *root = json_node_get_object (state);
  JsonObject *plugged = NULL, *record = NULL;

  /* The record lives under "hotplugged" somewhere in the backend state. */
  if (json_object_has_member (root, "hotplugged"))
    plugged = json_object_get_object_member (root, "hotplugged");
  else if (json_object_has_member (root, "backend_state"))
    plugged = json_object_get_object_member (json_object_get_object_member (root, "backend_state"),
                                             "hotplugged");
  if (plugged != NULL && json_object_has_member (plugged, id))
    record = json_object_get_object_member (plugged, id);
  if (record == NULL)
    die ("no hotplug record for %s in the state: %s", id, text);
  *bus = g_strdup (json_object_get_string_member (record, "bus"));
  *addr = g_strdup_printf ("0x%x", (int) json_object_get_int_member (record, "addr"));
}

static void
bare_block_del (int         fd,
                const char *id)
{
  g_autofree char *del = g_strdup_printf ("{\"execute\":\"device_del\",\"arguments\":{\"id\":\"%s\"}}", id);
  g_autofree char *bdel = g_strdup_printf ("{\"execute\":\"blockdev-del\",\"arguments\":"
                                           "{\"node-name\":\"drive-%s\"}}", id);

  if (!bqmp_run (fd, del))
    die ("bare device_del failed");
  /* blockdev-del fails while the guest still holds the device. */
  for (int i = 0; i < 20000; i++)
    {
      g_autofree char *reply = bqmp_command (fd, bdel);
      if (reply != NULL && g_str_has_prefix (reply, "{\"return\""))
        return;
      g_usleep (1000);
    }
  die ("the guest did not release %s", id);
}

static int
cpu_count (int fd)
{
  g_autofree char *reply = bqmp_command (fd, "{\"execute\":\"query-cpus-fast\"}");
  int n = 0;

  for (const char *p = reply; p && (p = strstr (p, "\"qom-path\"")); p++)
    n++;
  return n;
}

/* The bare equivalent of hvkit's vCPU hot-add: query-hotpluggable-cpus,
 * then device_add of the lowest free place. */
static gboolean
bare_add_vcpu (int fd,
               int n)
{
  g_autofree char *reply = bqmp_command (fd, "{\"execute\":\"query-hotpluggable-cpus\"}");
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonArray *slots;

  if (reply == NULL || !json_parser_load_from_data (parser, reply, -1, NULL))
    die ("query-hotpluggable-cpus failed");
  slots = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "return");
  for (int i = (int) json_array_get_length (slots) - 1; i >= 0; i--)
    {
      JsonObject *slot = json_array_get_object_element (slots, i);
      JsonObject *props = json_object_get_object_member (slot, "props");
      g_autofree char *cmd = NULL;

      if (json_object_has_member (slot, "qom-path"))
        continue;
      cmd = g_strdup_printf ("{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"%s\","
                             "\"socket-id\":%" G_GINT64_FORMAT ",\"core-id\":%" G_GINT64_FORMAT
                             ",\"thread-id\":%" G_GINT64_FORMAT ",\"id\":\"bcpu%d\"}}",
                             json_object_get_string_member (slot, "type"),
                             json_object_get_int_member (props, "socket-id"),
                             json_object_get_int_member (props, "core-id"),
                             json_object_get_int_member (props, "thread-id"), n);
      if (!bqmp_run (fd, cmd))
        die ("bare vCPU device_add failed");
      return TRUE;
    }
  return FALSE;
}

static void
bench_control (void)
{
  Row *qs = row_new ("2. control plane", "run state check (API: hvk_hypervisor_check)", "ms",
                     "bare QMP query-status", T_NONE, 0, NULL);
  Row *pr = row_new ("2. control plane", "pause+resume (API)", "ms",
                     "bare QMP stop+cont", T_RATIO, 1.2, "≤ 1.2× bare");
  Row *hp = row_new ("2. control plane", "block hotplug until device_add returns (API)", "ms",
                     "bare blockdev-add+device_add", T_RATIO, 1.2, "≤ 1.2× bare");
  Row *hs = row_new ("2. control plane", "block hotplug until the guest sees the disk (API)", "ms",
                     "bare, same commands", T_NONE, 0, NULL);
  Row *cpu = row_new ("2. control plane", "vCPU hot-add (API resize_vcpus +1)", "ms",
                      "bare query-hotpluggable-cpus+device_add", T_NONE, 0, NULL);
  Row *tune = row_new ("2. control plane", "disk I/O limit change (API set_io_limits)", "ms",
                       "bare qom-set of a throttle group's limits", T_RATIO, 1.2, "≤ 1.2× bare");
  /* Bare and API alternate within each repetition. */
  qs->paired = pr->paired = hp->paired = hs->paired = tune->paired = TRUE;
  g_autofree char *bare_img = g_build_filename (B.work, "bare.img", NULL);
  g_autofree char *api_img = g_build_filename (B.work, "api.img", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *last_bus = NULL;
  g_autofree char *last_addr = NULL;
  HvkHypervisor *hv;
  int fd;

  if (bare_vm == NULL || api_vm == NULL)
    {
      note ("control plane: needs the start section");
      return;
    }
  hv = api_vm->hv;
  fd = bare_vm->qmp;
  write_file (bare_img, "");
  write_file (api_img, "");
  truncate (bare_img, 8 << 20);
  truncate (api_img, 8 << 20);

  note ("control plane: query-status, pause/resume");
  for (int i = 0; i < B.reps * 5; i++)
    {
      /* Bare and API take turns going first. */
      for (int k = 0; k < 2; k++)
        {
          double t0;

          settle (5);
          t0 = now_ms ();
          if ((i + k) % 2 == 0)
            {
              if (!bqmp_run (fd, "{\"execute\":\"query-status\"}"))
                die ("bare query-status failed");
              add (qs->ref, now_ms () - t0);
              settle (5);
              t0 = now_ms ();
              if (!bqmp_run (fd, "{\"execute\":\"stop\"}") || !bqmp_run (fd, "{\"execute\":\"cont\"}"))
                die ("bare stop/cont failed");
              add (pr->ref, now_ms () - t0);
            }
          else
            {
              if (!hvk_hypervisor_check (hv, &error))
                die ("%s", error->message);
              add (qs->hvk, now_ms () - t0);
              settle (5);
              t0 = now_ms ();
              if (!hvk_hypervisor_pause_vm (hv, NULL, &error) || !hvk_hypervisor_resume_vm (hv, NULL, &error))
                die ("%s", error->message);
              add (pr->hvk, now_ms () - t0);
            }
        }
    }

  note ("control plane: block hotplug");
  for (int i = 0; i < B.hotplug_reps; i++)
    {
      g_autofree char *id = g_strdup_printf ("disk%d", i);
      g_autofree char *spec = g_strdup_printf ("block,id=%s,path=%s,format=raw", id, api_img);
      g_autoptr(HvkDevice) device = hvk_device_new_from_string (B.registry, spec, &error);
      g_autofree char *bus = NULL, *addr = NULL;
      g_autofree char *blockdev = NULL, *device_add = NULL;
      double t0, t1, t2;

      if (device == NULL)
        die ("%s", error->message);
      for (int k = 0; k < 2; k++)
        {
          settle (200);
          if ((i + k) % 2 == 0)
            {
              console_forget (api_vm->console);
              t0 = now_ms ();
              if (!hvk_hypervisor_hotplug_add_device (hv, device, NULL, &error))
                die ("%s", error->message);
              t1 = now_ms ();
              t2 = console_wait (api_vm->console, BLOCK_MARKER, BOOT_TIMEOUT_MS);
              add (hp->hvk, t1 - t0);
              add (hs->hvk, t2 - t0);
              g_clear_pointer (&bus, g_free);
              g_clear_pointer (&addr, g_free);
              hotplugged_slot (hv, id, &bus, &addr);
            }
          else
            {
              /* Where hvkit put (or will put) its disk: same bus, same slot. */
              if (bus == NULL)
                {
                  bus = g_strdup (last_bus);
                  addr = g_strdup (last_addr);
                }
              blockdev = g_strdup_printf ("{\"execute\":\"blockdev-add\",\"arguments\":{\"node-name\":\"drive-%s\","
                                          "\"driver\":\"raw\",\"read-only\":false,\"file\":{\"driver\":\"file\","
                                          "\"filename\":\"%s\"}}}", id, bare_img);
              device_add = g_strdup_printf ("{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtio-blk-pci\","
                                            "\"id\":\"%s\",\"drive\":\"drive-%s\",\"bus\":\"%s\",\"addr\":\"%s\"}}",
                                            id, id, bus, addr);
              console_forget (bare_vm->console);
              t0 = now_ms ();
              if (!bqmp_run (fd, blockdev) || !bqmp_run (fd, device_add))
                die ("bare block hotplug failed");
              t1 = now_ms ();
              t2 = console_wait (bare_vm->console, BLOCK_MARKER, BOOT_TIMEOUT_MS);
              add (hp->ref, t1 - t0);
              add (hs->ref, t2 - t0);
              g_clear_pointer (&blockdev, g_free);
              g_clear_pointer (&device_add, g_free);
            }
        }
      if (bus != NULL && last_bus == NULL)
        {
          last_bus = g_strdup (bus);
          last_addr = g_strdup (addr);
        }

      console_forget (api_vm->console);
      console_forget (bare_vm->console);
      if (!hvk_hypervisor_hotplug_remove_device (hv, id, NULL, &error))
        die ("%s", error->message);
      bare_block_del (fd, id);
      console_wait (api_vm->console, REMOVED_MARKER, BOOT_TIMEOUT_MS);
      console_wait (bare_vm->console, REMOVED_MARKER, BOOT_TIMEOUT_MS);
    }

  note ("control plane: I/O limit changes");
  {
    /* A limited disk hot-plugged into the API's VM, a throttle group
     * object-added to the bare one: the same qom-set either way. */
    g_autofree char *tune_img = g_build_filename (B.work, "tune.img", NULL);
    g_autofree char *spec = g_strdup_printf ("block,id=tune0,path=%s,format=raw,"
                                             "rate_limiter_bw_max_rate=0", tune_img);
    g_autoptr(HvkDevice) device = NULL;

    write_file (tune_img, "");
    truncate (tune_img, 8 << 20);
    device = hvk_device_new_from_string (B.registry, spec, &error);
    if (device == NULL || !hvk_hypervisor_hotplug_add_device (hv, device, NULL, &error))
      die ("%s", error->message);
    if (!bqmp_run (fd, "{\"execute\":\"object-add\",\"arguments\":{\"qom-type\":"
                       "\"throttle-group\",\"id\":\"throttle-bare\"}}"))
      die ("bare object-add throttle-group failed");
    for (int i = 0; i < B.reps; i++)
      for (int k = 0; k < 2; k++)
        {
          guint64 bps = 8388608 * (guint64) (1 + (i % 4));
          double t0;

          settle (5);
          t0 = now_ms ();
          if ((i + k) % 2 == 0)
            {
              g_autofree char *cmd =
                g_strdup_printf ("{\"execute\":\"qom-set\",\"arguments\":{\"path\":"
                                 "\"/objects/throttle-bare\",\"property\":\"limits\",\"value\":"
                                 "{\"bps-total\":%" G_GUINT64_FORMAT ",\"bps-total-max\":0,"
                                 "\"bps-total-max-length\":1,\"iops-total\":0,"
                                 "\"iops-total-max\":0,\"iops-total-max-length\":1}}}", bps / 8);

              if (!bqmp_run (fd, cmd))
                die ("bare qom-set failed");
              add (tune->ref, now_ms () - t0);
            }
          else
            {
              HvkIoLimits limits = { .bw_max_rate = bps };

              if (!hvk_hypervisor_set_io_limits (hv, "tune0", &limits, NULL, &error))
                die ("%s", error->message);
              add (tune->hvk, now_ms () - t0);
            }
        }
    console_forget (api_vm->console);
    if (!hvk_hypervisor_hotplug_remove_device (hv, "tune0", NULL, &error))
      die ("%s", error->message);
    console_wait (api_vm->console, REMOVED_MARKER, BOOT_TIMEOUT_MS);
    bqmp_run (fd, "{\"execute\":\"object-del\",\"arguments\":{\"id\":\"throttle-bare\"}}");
  }

  note ("control plane: vCPU hot-add");
  /* hvkit caps maxcpus at the host's CPUs (as Kata): as many places as
   * QEMU offers. */
  for (guint32 n = 2; n <= 4; n++)
    {
      double t0 = now_ms ();
      guint32 old_vcpus, new_vcpus;

      if (!bare_add_vcpu (fd, n))
        break;
      add (cpu->ref, now_ms () - t0);
      if (cpu_count (fd) != (int) n)
        die ("bare vCPU hot-add: the VM does not have %u vCPUs", n);

      t0 = now_ms ();
      if (!hvk_hypervisor_resize_vcpus (hv, n, &old_vcpus, &new_vcpus, NULL, &error))
        die ("%s", error->message);
      add (cpu->hvk, now_ms () - t0);
    }
}

/* ---- 3. framework ---- */

static double
child_number (const char *mode,
              const char *arg)
{
  const char *argv[] = { B.self, "--work", B.work, "--child", mode, arg, NULL };
  g_autofree char *out = capture (argv);

  return g_ascii_strtod (out, NULL);
}

/* A 30-device config: disks, 9p shares and agent sockets. */
static char *
devices_config (void)
{
  g_autoptr(GString) extra = g_string_new ("shared_fs=virtio-9p\npcie_root_port=2\n");
  g_autofree char *text = NULL;
  g_autofree char *path = g_build_filename (B.work, "devices30.conf", NULL);

  for (int i = 0; i < 30; i++)
    {
      g_autofree char *file = g_strdup_printf ("%s/d%02d.img", B.work, i);

      switch (i % 3)
        {
        case 0:
          write_file (file, "");
          g_string_append_printf (extra, "\n[device.disk%d]\nkind=block\npath=%s\nformat=raw\n", i, file);
          break;
        case 1:
          g_string_append_printf (extra, "\n[device.share%d]\nkind=fs\ndriver=virtio-9p\npath=%s\n"
                                  "tag=share%d\n", i, B.work, i);
          break;
        default:
          g_string_append_printf (extra, "\n[device.serial%d]\nkind=serial-socket\n"
                                  "name=port%d\npath=%s/s%d.sock\n", i, i, B.work, i);
          break;
        }
    }
  text = bench_config_text (extra->str);
  write_file (path, text);
  return g_steal_pointer (&path);
}

static void
bench_framework (void)
{
  Row *cold = row_new ("3. framework", "registry: load all plugins, cold process", "ms",
                       NULL, T_ABS, 5, "≤ 5 ms");
  Row *warm = row_new ("3. framework", "registry: load all plugins, warm (same process)", "ms",
                       NULL, T_NONE, 0, NULL);
  Row *argv30 = row_new ("3. framework", "argv for a 30-device config, in process", "ms",
                         NULL, T_ABS, 1, "≤ 1 ms");
  g_autofree char *conf30 = devices_config ();
  g_autofree char *store = g_build_filename (B.work, "a", NULL);
  g_autoptr(HvkConfig) config = load_config (conf30, store);
  g_autoptr(GError) error = NULL;
  guint argc = 0;

  note ("framework: registry, argv");
  for (int i = 0; i < B.reps; i++)
    add (cold->hvk, child_number ("registry", "0"));
  for (int i = 0; i < B.reps; i++)
    {
      double t0 = now_ms ();
      g_autoptr(HvkRegistry) registry = hvk_registry_new ();

      hvk_registry_scan (registry);
      add (warm->hvk, now_ms () - t0);
    }

  for (int i = 0; i < B.reps * 5; i++)
    {
      g_autoptr(HvkHypervisor) hv = hvk_registry_create_hypervisor (B.registry, config, &error);
      g_auto(GStrv) argv = NULL;
      double t0 = now_ms ();

      if (hv == NULL || !hvk_hypervisor_create_vm (hv, "argv30", config, &error))
        die ("30-device config: %s", error->message);
      if (!hvk_hypervisor_get_launch_command (hv, &argv, NULL, &error))
        die ("30-device config: %s", error->message);
      add (argv30->hvk, now_ms () - t0);
      argc = g_strv_length (argv);
      hvk_hypervisor_cleanup (hv, NULL);
    }
  note ("30-device argv: %u arguments", argc);

  /* A Prometheus scrape of 50 VMs every second: `stats --all` must take
   * well under a second (mock VMs: the tool's own cost, no QMP). */
  note ("framework: stats --all, 50 mock VMs");
  {
    g_autofree char *store = g_build_filename (B.work, "stats50", NULL);
    g_autofree char *conf = g_build_filename (B.work, "mock50.conf", NULL);
    g_autofree char *text = g_strdup_printf ("[hypervisor]\nbackend=mock\n[hypervisor.mock]\n"
                                             "kernel=%s/vmlinuz\ninitrd=%s/initrd.img\n"
                                             "default_memory=256\n\n[device.disk0]\nkind=block\n"
                                             "path=/var/lib/hvkit/disk.img\nformat=raw\n",
                                             B.guest_dir, B.guest_dir);
    Row *all = row_new ("3. framework", "`hvkit stats --all --prometheus`, 50 mock VMs, whole process",
                        "ms", NULL, T_ABS, 1000, "≪ 1 s (scrape every second)");

    write_file (conf, text);
    for (int i = 0; i < 50; i++)
      {
        g_autofree char *id = g_strdup_printf ("m%02d", i);

        time_tool (store, "start", "-c", conf, "--id", id, NULL);
      }
    for (int i = 0; i < B.reps; i++)
      add (all->hvk, time_tool (store, "stats", "--all", "--prometheus", NULL));
    for (int i = 0; i < 50; i++)
      {
        g_autofree char *id = g_strdup_printf ("m%02d", i);

        time_tool (store, "stop", id, NULL);
      }
  }

  note ("framework: RSS");
  {
    Row *rows[3];
    int counts[] = { 1, 10, 100 };
    Row *per_vm = row_new ("3. framework", "hvkit memory per managed VM (mock, from 100 VMs)", "KiB",
                           NULL, T_ABS, 64, "≤ 64 KiB");

    for (guint k = 0; k < G_N_ELEMENTS (counts); k++)
      {
        g_autofree char *name = g_strdup_printf ("RSS of a process managing %d mock VM%s", counts[k],
                                                 counts[k] > 1 ? "s" : "");
        g_autofree char *n = g_strdup_printf ("%d", counts[k]);

        rows[k] = row_new ("3. framework", name, "KiB", NULL, T_NONE, 0, NULL);
        for (int i = 0; i < 3; i++)
          {
            const char *argv[] = { B.self, "--work", B.work, "--child", "rss-mock", n, NULL };
            g_autofree char *out = capture (argv);
            double before = 0, after = 0;

            if (sscanf (out, "%lf %lf", &before, &after) != 2)
              die ("rss-mock child said: %s", out);
            add (rows[k]->hvk, after);
            if (counts[k] == 100)
              add (per_vm->hvk, (after - before) / counts[k]);
          }
      }
  }
  {
    int counts[] = { 1, 4, 8 };
    Row *per_vm = row_new ("3. framework", "hvkit memory per managed VM (TCG, from 8 VMs)", "KiB",
                           NULL, T_ABS, 64, "≤ 64 KiB");

    for (guint k = 0; k < G_N_ELEMENTS (counts); k++)
      {
        g_autofree char *name = g_strdup_printf ("RSS of a process managing %d TCG VM%s (hvkit's own)",
                                                 counts[k], counts[k] > 1 ? "s" : "");
        g_autofree char *n = g_strdup_printf ("%d", counts[k]);
        Row *row = row_new ("3. framework", name, "KiB", NULL, T_NONE, 0, NULL);
        const char *argv[] = { B.self, "--work", B.work, "--child", "rss-tcg", n, NULL };
        g_autofree char *out = capture (argv);
        double before = 0, after = 0;

        if (sscanf (out, "%lf %lf", &before, &after) != 2)
          die ("rss-tcg child said: %s", out);
        add (row->hvk, after);
        if (counts[k] == 1)
          tool_rss_1vm = after;
        if (counts[k] == 8)
          add (per_vm->hvk, (after - before) / counts[k]);
      }
  }
}

/* ---- children (fresh processes) ---- */

static int
child_main (const char *mode,
            const char *arg)
{
  if (g_str_equal (mode, "noop"))
    return 0;
  if (g_str_equal (mode, "registry"))
    {
      double t0 = now_ms ();
      g_autoptr(HvkRegistry) registry = hvk_registry_new ();

      hvk_registry_scan (registry);
      printf ("%.4f\n", now_ms () - t0);
      return 0;
    }
  if (g_str_equal (mode, "rss-mock") || g_str_equal (mode, "rss-tcg"))
    {
      gboolean mock = g_str_equal (mode, "rss-mock");
      int n = atoi (arg);
      g_autofree char *store = g_strdup_printf ("%s/m%d-%d", B.work, n, getpid ());
      g_autofree char *mock_conf = g_build_filename (B.work, "mock.conf", NULL);
      g_autoptr(HvkConfig) config = NULL;
      g_autoptr(GPtrArray) vms = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr(GError) error = NULL;
      double before = 0, after;

      B.registry = hvk_registry_new ();
      hvk_registry_scan (B.registry);
      if (mock)
        {
          g_autofree char *text = g_strdup_printf ("[hypervisor]\nbackend=mock\n\n[hypervisor.mock]\n"
                                                   "kernel=%s/vmlinuz\ninitrd=%s/initrd.img\n"
                                                   "default_vcpus=1\ndefault_maxvcpus=4\n"
                                                   "default_memory=256\ndefault_maxmemory=1024\n",
                                                   B.guest_dir, B.guest_dir);
          write_file (mock_conf, text);
        }
      config = load_config (mock ? mock_conf : B.conf, store);
      /* One VM first so that what every VM shares (types, code pages)
       * is in the baseline; then n more. */
      for (int i = 0; i <= n; i++)
        {
          g_autofree char *id = g_strdup_printf ("vm%d", i);
          HvkHypervisor *hv = hvk_registry_create_hypervisor (B.registry, config, &error);

          if (hv == NULL || !hvk_hypervisor_create_vm (hv, id, config, &error)
              || !hvk_hypervisor_start_vm (hv, QMP_TIMEOUT_MS, NULL, &error))
            die ("%s: %s", mode, error->message);
          g_ptr_array_add (vms, hv);
          if (i == 0)
            before = rss_kib (0);
        }
      after = rss_kib (0);
      printf ("%.0f %.0f\n", before, after);
      for (guint i = 0; i < vms->len; i++)
        {
          hvk_hypervisor_stop_vm (vms->pdata[i], FALSE, NULL, NULL);
          hvk_hypervisor_cleanup (vms->pdata[i], NULL);
        }
      return 0;
    }
  die ("unknown child mode %s", mode);
}

/* ---- 4. libvirt ---- */

static char *
virsh_xml (const char *name,
           const char *cmdline,
           const char *console)
{
  return g_strdup_printf (
    "<domain type='qemu'>\n"
    "  <name>%s</name>\n"
    "  <memory unit='MiB'>256</memory>\n"
    "  <vcpu>1</vcpu>\n"
    "  <os>\n"
    "    <type arch='x86_64' machine='q35'>hvm</type>\n"
    "    <kernel>%s/vmlinuz</kernel>\n"
    "    <initrd>%s/initrd.img</initrd>\n"
    "    <cmdline>%s</cmdline>\n"
    "  </os>\n"
    "  <features><acpi/></features>\n"
    "  <cpu mode='maximum'/>\n"
    "  <on_poweroff>destroy</on_poweroff>\n"
    "  <devices>\n"
    "    <emulator>%s</emulator>\n"
    "    <controller type='pci' model='pcie-root'/>\n"
    "    <controller type='pci' model='pcie-root-port'/>\n"
    "    <controller type='pci' model='pcie-root-port'/>\n"
    "    <controller type='pci' model='pcie-root-port'/>\n"
    "    <controller type='pci' model='pcie-root-port'/>\n"
    "    <controller type='usb' model='none'/>\n"
    "    <console type='unix'>\n"
    "      <source mode='bind' path='%s'/>\n"
    "      <target type='virtio'/>\n"
    "    </console>\n"
    "    <memballoon model='none'/>\n"
    "  </devices>\n"
    "</domain>\n", name, B.guest_dir, B.guest_dir, cmdline, B.qemu, console);
}

static double
time_virsh (const char *first,
            ...) G_GNUC_NULL_TERMINATED;

static double
time_virsh (const char *first,
            ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  va_list args;
  const char *arg;

  g_ptr_array_add (argv, (char *) "/usr/bin/virsh");
  g_ptr_array_add (argv, (char *) "-q");
  g_ptr_array_add (argv, (char *) "-c");
  g_ptr_array_add (argv, (char *) "qemu:///system");
  g_ptr_array_add (argv, (char *) first);
  va_start (args, first);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  return time_process ((const char * const *) argv->pdata);
}

static void
bench_libvirt (void)
{
  const char *probe[] = { "/usr/bin/virsh", "-q", "-c", "qemu:///system", "version", NULL };
  Row *start = row_new ("4. libvirt", "start to running+QMP: `hvkit start`", "ms",
                        "`virsh create`", T_FASTER, 0, "faster");
  Row *console = row_new ("4. libvirt", "start to guest console marker: `hvkit start`", "ms",
                          "`virsh create`", T_FASTER, 0, "faster");
  Row *state = row_new ("4. libvirt", "state query: `hvkit status`", "ms",
                        "`virsh domstate`", T_FASTER, 0, "faster");
  Row *pr = row_new ("4. libvirt", "pause+resume: `hvkit pause`+`hvkit resume`", "ms",
                     "`virsh suspend`+`resume`", T_FASTER, 0, "faster");
  Row *hp = row_new ("4. libvirt", "block hotplug: `hvkit hotplug`", "ms",
                     "`virsh attach-device`", T_FASTER, 0, "faster");
  Row *rss = row_new ("4. libvirt", "resident memory: hvkit process managing 1 TCG VM", "KiB",
                      "libvirtd+virtlogd", T_FASTER, 0, "smaller");
  g_autofree char *xml_path = g_build_filename (B.work, "domain.xml", NULL);
  g_autofree char *console_path = g_build_filename (B.work, "lv-console.sock", NULL);
  g_autofree char *disk_xml_path = g_build_filename (B.work, "disk.xml", NULL);
  g_autofree char *disk = g_build_filename (B.work, "lv.img", NULL);
  g_autofree char *tool_store = g_build_filename (B.work, "t", NULL);
  g_autofree char *cmdline = NULL;
  g_autofree char *xml = NULL;
  int status;

  if (!g_file_test (probe[0], G_FILE_TEST_IS_EXECUTABLE)
      || !g_spawn_sync (NULL, (char **) probe, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                        NULL, NULL, NULL, NULL, &status, NULL)
      || status != 0)
    {
      note ("libvirt: SKIPPED: virsh cannot reach qemu:///system (is libvirtd running? see bench/run.sh)");
      return;
    }

  for (guint i = 0; raw_argv && raw_argv[i]; i++)
    if (g_str_equal (raw_argv[i], "-append") && raw_argv[i + 1])
      cmdline = g_strdup (raw_argv[i + 1]);
  if (cmdline == NULL)
    cmdline = g_strdup ("console=hvc0 quiet panic=1");
  xml = virsh_xml ("hvkbench", cmdline, console_path);
  write_file (xml_path, xml);
  write_file (disk, "");
  truncate (disk, 8 << 20);
  {
    g_autofree char *dx = g_strdup_printf ("<disk type='file' device='disk'>\n"
                                           "  <driver name='qemu' type='raw'/>\n"
                                           "  <source file='%s'/>\n"
                                           "  <target dev='vdb' bus='virtio'/>\n"
                                           "</disk>\n", disk);
    write_file (disk_xml_path, dx);
  }

  for (int i = 0; i < B.start_reps; i++)
    {
      double t0, t;
      Console *c;

      note ("libvirt start %d/%d", i + 1, B.start_reps);
      /* `hvkit start` and `virsh create` take turns, each alone. */
      for (int k = 0; k < 2; k++)
        {
          settle (300);
          if ((i + k) % 2 == 0)
            {
              g_autofree char *tc = g_build_filename (tool_store, "lv", "console.sock", NULL);

              t0 = now_ms ();
              t = time_tool (tool_store, "start", "-c", B.conf, "--id", "lv", NULL);
              add (start->hvk, t);
              c = console_open (tc);
              add (console->hvk, console_wait (c, READY_MARKER, BOOT_TIMEOUT_MS) - t0);
              console_free (c);
              time_tool (tool_store, "stop", "lv", NULL);
              continue;
            }
          unlink (console_path);
          t0 = now_ms ();
          t = time_virsh ("create", xml_path, NULL);
          add (start->ref, t);
          c = console_open (console_path);
          add (console->ref, console_wait (c, READY_MARKER, BOOT_TIMEOUT_MS) - t0);
          if (i == B.start_reps - 1)
            {
              for (int j = 0; j < B.reps; j++)
                {
                  settle (10);
                  add (state->ref, time_virsh ("domstate", "hvkbench", NULL));
                  add (pr->ref, time_virsh ("suspend", "hvkbench", NULL)
                                + time_virsh ("resume", "hvkbench", NULL));
                }
              for (int j = 0; j < B.hotplug_reps; j++)
                {
                  settle (200);
                  add (hp->ref, time_virsh ("attach-device", "hvkbench", disk_xml_path, NULL));
                  time_virsh ("detach-device", "hvkbench", disk_xml_path, NULL);
                  /* The guest lets go of the disk asynchronously. */
                  for (int m = 0; m < 200; m++)
                    {
                      const char *argv[] = { "/usr/bin/virsh", "-q", "-c", "qemu:///system",
                                             "domblklist", "hvkbench", NULL };
                      g_autofree char *out = capture (argv);
                      if (strstr (out, "vdb") == NULL)
                        break;
                      g_usleep (50 * 1000);
                    }
                }
            }
          time_virsh ("destroy", "hvkbench", NULL);
          console_free (c);
        }
    }

  if (B.libvirt_pids != NULL)
    {
      g_auto(GStrv) pids = g_strsplit (B.libvirt_pids, ",", -1);
      double total = 0;

      for (guint i = 0; pids[i]; i++)
        total += rss_kib (atoi (pids[i]));
      add (rss->ref, total);
    }
  if (!isnan (tool_rss_1vm))
    add (rss->hvk, tool_rss_1vm);

  g_array_append_vals (state->hvk, row_tool_status->hvk->data, row_tool_status->hvk->len);
  for (guint i = 0; i < row_tool_pause->hvk->len && i < row_tool_resume->hvk->len; i++)
    add (pr->hvk, g_array_index (row_tool_pause->hvk, double, i)
                  + g_array_index (row_tool_resume->hvk, double, i));
  g_array_append_vals (hp->hvk, row_tool_hotplug->hvk->data, row_tool_hotplug->hvk->len);
}

/* ---- main ---- */

static int
remove_entry (const char        *path,
              const struct stat *st,
              int                type,
              struct FTW        *ftw)
{
  remove (path);
  return 0;
}

static void
print_machine (void)
{
  g_autofree char *cpuinfo = NULL;
  g_autofree char *model = NULL;
  const char *qv[] = { B.qemu, "--version", NULL };
  g_autofree char *qemu_version = capture (qv);
  g_autofree char *kernel = NULL;

  if (g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL))
    {
      const char *line = strstr (cpuinfo, "model name");
      if (line)
        {
          const char *colon = strchr (line, ':');
          const char *end = strchr (line, '\n');
          if (colon && end)
            model = g_strndup (colon + 2, end - colon - 2);
        }
    }
  g_file_get_contents ("/proc/sys/kernel/osrelease", &kernel, NULL, NULL);
  printf ("Machine: %s, %u CPUs, %.1f GiB RAM, Linux %s", model ? model : "?",
           g_get_num_processors (),
           sysconf (_SC_PHYS_PAGES) * (double) sysconf (_SC_PAGESIZE) / (1 << 30),
           kernel ? g_strstrip (kernel) : "?");
  printf (", %s\n", g_strstrip (strtok (qemu_version, "\n")));
  printf ("Runs: %d starts, %d repetitions (x5 for query-status, pause+resume, argv), %d hotplugs\n",
           B.start_reps, B.reps, B.hotplug_reps);
}

/* ---- 5. templates, save and restore ---- */

#define SNAP_VMS 8

/* `hvkit status ID --json` of a VM in @store: its QEMU pid and console. */
static int
tool_vm (const char *store,
         const char *id,
         char      **console)
{
  const char *argv[] = { B.hvkit, "--state-dir", store, "status", id, "--json", NULL };
  g_autofree char *json = capture (argv);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *status;

  if (!json_parser_load_from_data (parser, json, -1, NULL))
    die ("hvkit status %s: not JSON: %s", id, json);
  status = json_node_get_object (json_parser_get_root (parser));
  if (console != NULL)
    *console = g_strdup (json_object_get_string_member (status, "console"));
  return (int) json_array_get_int_element (json_object_get_array_member (status, "pids"), 0);
}

/* kB of Pss in /proc/PID/smaps_rollup */
static double
pss_kib (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/smaps_rollup", pid);
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NAN;
  line = strstr (text, "\nPss:");
  return line ? g_ascii_strtod (line + 5, NULL) : NAN;
}

/* `hvkit start` of @conf as @id, then the console until @needle: ms from
 * the spawn (the console is opened once `hvkit start` returned, long
 * before a TCG guest's marker; a clone's counter comes every 250 ms). */
static double
tool_start_to (const char *store,
               const char *conf,
               const char *id,
               const char *needle,
               int        *pid)
{
  g_autofree char *console_path = NULL;
  Console *console;
  double t0 = now_ms (), t;

  time_tool (store, "start", "-c", conf, "--id", id, NULL);
  *pid = tool_vm (store, id, &console_path);
  console = console_open (console_path);
  t = console_wait (console, needle, BOOT_TIMEOUT_MS) - t0;
  console_free (console);
  return t;
}

static void
bench_snapshot (void)
{
  g_autofree char *store = g_build_filename (B.work, "snap", NULL);
  g_autofree char *mem = g_build_filename (B.work, "tpl-memory", NULL);
  g_autofree char *state = g_build_filename (B.work, "tpl-state", NULL);
  g_autofree char *saved = g_build_filename (B.work, "saved", NULL);
  g_autofree char *saved_state = g_build_filename (saved, "qemu-state", NULL);
  g_autofree char *dd_file = g_build_filename (B.work, "dd.img", NULL);
  g_autofree char *dd_of = g_strdup_printf ("of=%s", dd_file);
  g_autofree char *dd_path = g_find_program_in_path ("dd");
  g_autofree char *cold_conf = g_build_filename (B.work, "cold.conf", NULL);
  g_autofree char *tpl_conf = g_build_filename (B.work, "tpl.conf", NULL);
  g_autofree char *clone_conf = g_build_filename (B.work, "clone.conf", NULL);
  Row *row_clone = row_new ("6. templates, save, restore",
                            "template clone: `hvkit start` → guest counting (±250 ms: the counter's period)", "ms",
                            "cold `hvkit start` → ready marker", T_RATIO, 0.25, "≤ 0.25× cold");
  Row *row_save = row_new ("6. templates, save, restore", "`hvkit save` of a 256 MiB guest (it runs on)", "ms",
                           NULL, T_NONE, 0, NULL);
  Row *row_save_rate = row_new ("6. templates, save, restore", "`hvkit save`: guest RAM (256 MiB) / time", "MB/s",
                                "`dd` 256 MiB sequential write, conv=fsync, same directory", T_NONE, 0, NULL);
  Row *row_restore = row_new ("6. templates, save, restore",
                              "`hvkit restore` (launch, load, resume) of a 256 MiB guest", "ms", NULL, T_NONE, 0, NULL);
  Row *row_restore_rate = row_new ("6. templates, save, restore", "`hvkit restore`: guest RAM (256 MiB) / time", "MB/s",
                                   "`dd` 256 MiB sequential write, conv=fsync, same directory", T_NONE, 0, NULL);
  Row *row_state = row_new ("6. templates, save, restore", "saved state file (zero pages are not written out)", "MiB",
                            NULL, T_NONE, 0, NULL);
  g_autofree char *pss_name = g_strdup_printf ("PSS of %d clones of one template (QEMU, sum)", SNAP_VMS);
  g_autofree char *pss_ref = g_strdup_printf ("%d cold-booted VMs", SNAP_VMS);
  Row *row_pss = row_new ("6. templates, save, restore", pss_name, "KiB", pss_ref, T_RATIO, 0.40, "≤ 0.40× cold");
  int cold_pids[SNAP_VMS], clone_pids[SNAP_VMS];
  double cold_pss = 0, clone_pss = 0;
  int tpl_pid;

  if (dd_path == NULL)
    die ("no dd on PATH");
  {
    g_autofree char *text = bench_config_text ("kernel_params=hvkit.counter=1\n");
    g_autofree char *tpl_extra = g_strdup_printf ("kernel_params=hvkit.counter=1\nboot_to_be_template=true\n"
                                                  "memory_path=%s\ndevices_state_path=%s\n", mem, state);
    g_autofree char *clone_extra = g_strdup_printf ("kernel_params=hvkit.counter=1\nboot_from_template=true\n"
                                                    "memory_path=%s\ndevices_state_path=%s\n", mem, state);
    g_autofree char *tpl_text = bench_config_text (tpl_extra);
    g_autofree char *clone_text = bench_config_text (clone_extra);

    write_file (cold_conf, text);
    write_file (tpl_conf, tpl_text);
    write_file (clone_conf, clone_text);
  }

  /* Start times, each VM alone on the host (stopped before the next). */
  for (int i = 0; i < 3; i++)
    {
      int pid;

      settle (500);
      add (row_clone->ref, tool_start_to (store, cold_conf, "cold-t", READY_MARKER, &pid));
      time_tool (store, "stop", "cold-t", NULL);
    }
  /* The template, saved once the guest counts. */
  tool_start_to (store, tpl_conf, "tpl", "HVKIT-COUNTER ", &tpl_pid);
  time_tool (store, "template", "tpl", NULL);
  for (int i = 0; i < 3; i++)
    {
      int pid;

      settle (500);
      add (row_clone->hvk, tool_start_to (store, clone_conf, "clone-t", "HVKIT-COUNTER ", &pid));
      time_tool (store, "stop", "clone-t", NULL);
    }

  /* Memory: SNAP_VMS clones running together, then SNAP_VMS cold VMs
   * (each booted to its marker); the last cold one stays for the save. */
  for (int i = 0; i < SNAP_VMS; i++)
    {
      g_autofree char *id = g_strdup_printf ("clone%d", i);

      tool_start_to (store, clone_conf, id, "HVKIT-COUNTER ", &clone_pids[i]);
    }
  settle (2000);
  for (int i = 0; i < SNAP_VMS; i++)
    clone_pss += pss_kib (clone_pids[i]);
  for (int i = 0; i < SNAP_VMS; i++)
    {
      g_autofree char *id = g_strdup_printf ("clone%d", i);

      time_tool (store, "stop", id, NULL);
    }
  for (int i = 0; i < SNAP_VMS; i++)
    {
      g_autofree char *id = g_strdup_printf ("cold%d", i);

      tool_start_to (store, cold_conf, id, READY_MARKER, &cold_pids[i]);
    }
  settle (2000);
  for (int i = 0; i < SNAP_VMS; i++)
    cold_pss += pss_kib (cold_pids[i]);
  add (row_pss->hvk, clone_pss);
  add (row_pss->ref, cold_pss);
  for (int i = 1; i < SNAP_VMS; i++)
    {
      g_autofree char *id = g_strdup_printf ("cold%d", i);

      time_tool (store, "stop", id, NULL);
    }

  /* Save and restore a cold VM (256 MiB), against dd in the same place. */
  for (int r = 0; r < 3; r++)
    {
      const char *dd[] = { dd_path, "if=/dev/zero", dd_of, "bs=1M", "count=256", "conv=fsync",
                           "status=none", NULL };
      GStatBuf st;
      double t;

      settle (500);
      t = time_process (dd);
      add (row_save_rate->ref, 256.0 * 1048576 / 1e6 / (t / 1e3));
      add (row_restore_rate->ref, 256.0 * 1048576 / 1e6 / (t / 1e3));
      g_unlink (dd_file);

      settle (500);
      t = time_tool (store, "save", "cold0", saved, NULL);
      add (row_save->hvk, t);
      add (row_save_rate->hvk, 256.0 * 1048576 / 1e6 / (t / 1e3));
      if (g_stat (saved_state, &st) == 0)
        add (row_state->hvk, st.st_size / 1048576.0);

      settle (500);
      t = time_tool (store, "restore", saved, "--id", "restored", NULL);
      add (row_restore->hvk, t);
      add (row_restore_rate->hvk, 256.0 * 1048576 / 1e6 / (t / 1e3));
      time_tool (store, "stop", "restored", NULL);
    }

  time_tool (store, "stop", "cold0", NULL);
  g_unlink (mem);
  g_unlink (state);
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *child = NULL;
  g_autofree char *child_arg = NULL;
  g_autofree char *work = NULL;
  const GOptionEntry entries[] = {
    { "hvkit", 0, 0, G_OPTION_ARG_FILENAME, &B.hvkit, "The hvkit tool", "PATH" },
    { "guest-dir", 0, 0, G_OPTION_ARG_FILENAME, &B.guest_dir, "Test guest (vmlinuz, initrd.img)", "DIR" },
    { "qemu", 0, 0, G_OPTION_ARG_FILENAME, &B.qemu, "QEMU binary", "PATH" },
    { "work", 0, 0, G_OPTION_ARG_FILENAME, &work, "Work directory (short path; default: a new one in /tmp)", "DIR" },
    { "start-reps", 0, 0, G_OPTION_ARG_INT, &B.start_reps, "VM starts per variant (21)", "N" },
    { "reps", 0, 0, G_OPTION_ARG_INT, &B.reps, "Repetitions of quick operations (20)", "N" },
    { "hotplug-reps", 0, 0, G_OPTION_ARG_INT, &B.hotplug_reps, "Block hotplugs per variant (15)", "N" },
    { "sections", 0, 0, G_OPTION_ARG_STRING, &B.sections, "start,control,iotune,framework,libvirt,memory,snapshot or all (iotune: the shared throttle group row of control, alone; confinement and tool: those parts of start, alone)", "LIST" },
    { "libvirt-pids", 0, 0, G_OPTION_ARG_STRING, &B.libvirt_pids, "libvirtd,virtlogd pids (RSS)", "PIDS" },
    { "child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &child, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- hvkit benchmarks");
  g_autoptr(GError) error = NULL;
  gboolean remove_work = FALSE;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    die ("%s", error->message);

  B.self = g_file_read_link ("/proc/self/exe", NULL);
  if (B.guest_dir == NULL)
    B.guest_dir = g_strdup (g_getenv ("HVKIT_GUEST_DIR") ? g_getenv ("HVKIT_GUEST_DIR") : "/var/lib/hvkit/guest");
  if (B.qemu == NULL)
    B.qemu = g_strdup ("/usr/bin/qemu-system-x86_64");
  if (B.start_reps <= 0)
    B.start_reps = 21;
  if (B.reps <= 0)
    B.reps = 20;
  if (B.hotplug_reps <= 0)
    B.hotplug_reps = 15;
  if (B.sections == NULL)
    B.sections = g_strdup ("start,control,framework,libvirt,memory,snapshot");

  if (child != NULL)
    {
      B.work = g_strdup (work ? work : g_get_tmp_dir ());
      B.conf = g_build_filename (B.work, "bench.conf", NULL);
      return child_main (child, argc > 1 ? argv[1] : "0");
    }

  if (B.hvkit == NULL)
    die ("--hvkit PATH is needed");
  {
    g_autofree char *real = realpath (B.hvkit, NULL);
    if (real == NULL)
      die ("%s: %s", B.hvkit, g_strerror (errno));
    g_free (B.hvkit);
    B.hvkit = g_steal_pointer (&real);
  }
  if (!g_file_test (B.guest_dir, G_FILE_TEST_IS_DIR))
    die ("no test guest in %s (tests/guest/build-guest.sh builds it)", B.guest_dir);

  /* A tmpfs like the runtime dirs VM state usually lives in. */
  if (work == NULL && g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR))
    {
      work = g_strdup ("/dev/shm/hvkb-XXXXXX");
      if (g_mkdtemp (work) == NULL)
        g_clear_pointer (&work, g_free);
      else
        remove_work = TRUE;
    }
  if (work == NULL)
    remove_work = TRUE;
  B.work = work ? g_strdup (work) : g_dir_make_tmp ("hvkb-XXXXXX", &error);
  if (B.work == NULL)
    die ("%s", error->message);
  g_mkdir_with_parents (B.work, 0700);
  B.conf = g_build_filename (B.work, "bench.conf", NULL);
  {
    g_autofree char *text = bench_config_text (NULL);
    write_file (B.conf, text);
  }
  B.rows = g_ptr_array_new ();
  B.registry = hvk_registry_new ();
  hvk_registry_scan (B.registry);
  if (hvk_registry_lookup_backend (B.registry, "qemu") == NULL)
    die ("no qemu backend: set HVKIT_PLUGIN_PATH to the build tree's plugin dirs");

  print_machine ();

  /* The tool's whole-process rows, filled by the start section. */
  /* Issue 13's target: status within 1.2x of the linked no-op, paired
   * by round (both run in each repetition, one after the other). */
  row_tool_status = row_new ("3. framework", "`hvkit status` whole process", "ms",
                             "GLib no-op program (floor)", T_RATIO, 1.2, "≤ 1.2× the floor");
  row_tool_pause = row_new ("3. framework", "`hvkit pause` whole process", "ms",
                            "GLib no-op program (floor)", T_ABS, 5, "≤ 5 ms");
  row_tool_resume = row_new ("3. framework", "`hvkit resume` whole process", "ms",
                             "GLib no-op program (floor)", T_ABS, 5, "≤ 5 ms");
  row_tool_status_cpu = row_new ("3. framework", "`hvkit status` CPU time (user+sys)", "ms",
                                 "GLib no-op program", T_NONE, 0, NULL);
  row_tool_pause_cpu = row_new ("3. framework", "`hvkit pause` CPU time (user+sys)", "ms",
                                "GLib no-op program", T_NONE, 0, NULL);
  row_tool_resume_cpu = row_new ("3. framework", "`hvkit resume` CPU time (user+sys)", "ms",
                                 "GLib no-op program", T_NONE, 0, NULL);
  row_tool_hotplug = row_new ("3. framework", "`hvkit hotplug` (block) whole process", "ms", NULL, T_NONE, 0, NULL);
  row_tool_event = row_new ("3. framework", "QMP event → `hvkit events` line (stop/cont sent on QMP)", "ms",
                            NULL, T_NONE, 0, NULL);
  row_tool_stats = row_new ("3. framework", "`hvkit stats --prometheus` whole process (QEMU VM: QMP, /proc, cgroup)", "ms",
                            "GLib no-op program (floor)", T_NONE, 0, NULL);
  row_tool_status->paired = row_tool_pause->paired = row_tool_resume->paired = TRUE;
  row_tool_status_cpu->paired = row_tool_pause_cpu->paired = row_tool_resume_cpu->paired = TRUE;
  row_tool_stats->paired = TRUE;

  if (want ("start") || want ("control") || want ("libvirt")
      || want ("confinement") || want ("tool"))
    bench_start ();
  if (want ("control"))
    bench_control ();
  if (want ("control") || want ("iotune"))
    bench_throttle_group ();
  if (want ("framework"))
    bench_framework ();
  if (want ("libvirt"))
    bench_libvirt ();
  if (want ("memory"))
    bench_memory ();
  if (want ("snapshot"))
    bench_snapshot ();

  raw_vm_stop (bare_vm);
  lib_vm_stop (api_vm);

  /* Rows in section order. */
  {
    g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
    const char *order[] = { "1. start", "2. control plane", "3. framework", "4. libvirt",
                            "5. memory", "6. templates, save, restore" };

    for (guint s = 0; s < G_N_ELEMENTS (order); s++)
      for (guint i = 0; i < B.rows->len; i++)
        {
          Row *row = B.rows->pdata[i];
          if (g_str_equal (row->section, order[s]) && row->hvk->len > 0)
            g_ptr_array_add (sorted, row);
        }
    g_ptr_array_unref (B.rows);
    B.rows = g_steal_pointer (&sorted);
  }
  print_table ();
  if (remove_work)
    nftw (B.work, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}
