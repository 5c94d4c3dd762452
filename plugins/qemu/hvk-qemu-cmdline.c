/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <hvkit/hvkit.h>

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "hvk-qemu-builder.h"
#include "hvk-qemu-device-props.h"

/*
 * The QEMU command line.  hvk_qemu_build_cmdline() runs a flat list of
 * small builders, one per QEMU option group, in the order govmm's
 * LaunchQemu emits them (libvirt's qemuBuildCommandLine shape).  Devices,
 * built-in or from the configuration, all go through
 * hvk_registry_append_device(); option values go through HvkOpts, so
 * escaping happens in one place.
 */

/* ---- the builder ---- */

gboolean
hvk_qemu_builder_config_error (HvkQemuBuilder  *b,
                               GError         **error,
                               const char      *key,
                               const char      *format,
                               ...)
{
  va_list args;
  g_autofree char *message = NULL;
  const char *source = hvk_config_get_source (b->config);
  const char *group = hvk_config_get_group (b->config);

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_CONFIG, "%s: [%s] %s: %s",
               source != NULL ? source : "<config>",
               group != NULL ? group : "hypervisor.qemu", key, message);
  return FALSE;
}

/* Whether the first accelerator selected in a raw machine option list is
 * TCG ("accel=tcg", "accel=tcg:kvm"); also reports whether the list
 * selects an accelerator at all. */
static gboolean
accelerators_select_tcg (const char *list,
                         gboolean   *sets_accel)
{
  g_auto(GStrv) items = NULL;

  *sets_accel = FALSE;
  if (list == NULL)
    return FALSE;
  items = g_strsplit (list, ",", -1);
  for (guint i = 0; items[i] != NULL; i++)
    if (g_str_has_prefix (items[i], "accel="))
      {
        *sets_accel = TRUE;
        return g_str_has_prefix (items[i] + strlen ("accel="), "tcg");
      }
  return FALSE;
}

static guint64
host_memory_mb (void)
{
  long pages = sysconf (_SC_PHYS_PAGES);
  long page_size = sysconf (_SC_PAGESIZE);

  if (pages <= 0 || page_size <= 0)
    return 0;
  return (guint64) pages * (guint64) page_size / (1024 * 1024);
}

static gboolean
resolve_setup (HvkQemuBuilder  *b,
               GError         **error)
{
  const HvkQemuSettings *settings = b->settings;
  gboolean sets_accel;
  const char *shared_fs;
  const char *file_mem_backend;
  gboolean templating;
  guint64 host_mb;

  b->machine_type = settings->machine_type;
  b->accelerators = settings->machine_accelerators;
  while (b->accelerators != NULL && *b->accelerators == ',')
    b->accelerators++;
  if (b->accelerators != NULL && *b->accelerators == '\0')
    b->accelerators = NULL;
  b->data->machine_type = b->machine_type;
  b->data->pcie = g_str_equal (b->machine_type, "q35");
  b->data->tcg = accelerators_select_tcg (b->accelerators, &sets_accel);
  b->layout->pcie = b->data->pcie;

  b->initrd = settings->initrd;
  b->image = b->initrd == NULL ? settings->image : NULL;
  b->nvdimm_image = b->image != NULL && !settings->disable_image_nvdimm;
  b->iommu = settings->enable_iommu;
  if (b->iommu && !b->data->pcie)
    return hvk_qemu_builder_config_error (b, error, "enable_iommu",
                         "the intel-iommu device needs machine_type=q35, not %s",
                         b->machine_type);

  /* Kata's cpuTopology: one core per socket, a socket per possible vCPU. */
  b->vcpus = settings->num_vcpus;
  if (b->vcpus == 0)
    b->vcpus = 1;
  b->max_vcpus = settings->max_vcpus;
  if (b->max_vcpus < b->vcpus)
    return hvk_qemu_builder_config_error (b, error, "default_maxvcpus",
                         "%u must be equal to or greater than the %u boot vCPUs",
                         b->max_vcpus, b->vcpus);

  b->memory_mb = settings->default_memory;
  if (b->memory_mb == 0)
    b->memory_mb = 2048;
  host_mb = host_memory_mb ();
  /* 0 means the host's memory (Kata); an explicit value is kept. */
  b->max_memory_mb = settings->default_maxmemory;
  if (b->max_memory_mb == 0)
    b->max_memory_mb = host_mb;
  if (b->max_memory_mb < b->memory_mb)
    b->max_memory_mb = b->memory_mb;
  b->max_memory_mb += settings->memory_offset;
  b->memory_slots = settings->memory_slots;
  if (b->memory_slots > 255)
    return hvk_qemu_builder_config_error (b, error, "memory_slots", "%" G_GUINT64_FORMAT
                         " is more than QEMU's 255", b->memory_slots);

  b->layout->boot_vcpus = b->vcpus;
  b->layout->max_vcpus = b->max_vcpus;
  b->layout->boot_memory_mb = (guint32) b->memory_mb;
  b->layout->max_memory_mb = (guint32) b->max_memory_mb;
  b->layout->memory_slots = (guint32) b->memory_slots;

  /* Memory knobs, as Kata's CreateVM sets them. */
  b->hugepages = settings->enable_hugepages;
  b->mem_prealloc = settings->enable_mem_prealloc;

  templating = settings->boot_to_be_template || settings->boot_from_template;
  if (settings->boot_to_be_template && settings->boot_from_template)
    return hvk_qemu_builder_config_error (b, error, "boot_from_template",
                         "a VM cannot both boot to be a template and boot from one");
  if (templating)
    {
      b->mem_path = settings->memory_path;
      if (b->mem_path == NULL)
        return hvk_qemu_builder_config_error (b, error, "memory_path",
                             "VM templating needs the template memory file");
      b->file_backed = TRUE;
      b->mem_shared = settings->boot_to_be_template;
      b->incoming_defer = settings->boot_from_template;
    }

  shared_fs = settings->shared_fs;
  file_mem_backend = settings->file_mem_backend;
  if (g_str_equal (shared_fs, "virtio-fs") || g_str_equal (shared_fs, "virtio-fs-nydus") ||
      file_mem_backend != NULL)
    {
      const char *target = file_mem_backend != NULL ? file_mem_backend : HVK_QEMU_FALLBACK_MEM_DIR;

      /* Templating boots the template with shared memory and its clones
       * without; virtio-fs always needs it shared. */
      if (templating)
        return hvk_qemu_builder_config_error (b, error, file_mem_backend != NULL ? "file_mem_backend" : "shared_fs",
                             "VM templating does not work with virtio-fs or file-backed memory");
      if (g_file_test (target, G_FILE_TEST_IS_DIR))
        {
          b->file_backed = TRUE;
          b->mem_shared = TRUE;
          b->mem_path = target;
        }
      else if (file_mem_backend != NULL)
        return hvk_qemu_builder_config_error (b, error, "file_mem_backend", "directory %s does not exist",
                             file_mem_backend);
      else
        g_debug ("%s does not exist: guest memory is not file-backed", target);
      if (b->hugepages)
        b->mem_prealloc = TRUE;
    }
  b->data->mem_shared = b->mem_shared;

  /* Guest NUMA (Kata's buildNUMATopology), once the memory knobs are known. */
  {
    g_autoptr(GError) numa_error = NULL;
    g_autofree char *key = NULL;

    if (!hvk_qemu_numa_build (settings->enable_numa, (const char * const *) settings->numa_mapping,
                              b->max_vcpus, b->memory_mb, b->hugepages, &b->numa, &key,
                              &numa_error))
      return hvk_qemu_builder_config_error (b, error, key, "%s", numa_error->message);
    if (b->numa != NULL && templating)
      return hvk_qemu_builder_config_error (b, error, "enable_numa",
                           "VM templating keeps the memory in one file, not one a NUMA node");
    if (b->numa != NULL)
      b->layout->numa_nodes = b->numa->nodes->len;
  }

  return TRUE;
}

/* -name */
static gboolean
build_name (HvkQemuBuilder  *b,
            GError         **error)
{
  g_autofree char *name = g_strdup_printf ("sandbox-%s", b->id);
  g_autoptr(HvkOpts) opts = hvk_opts_new (name);

  /* Named threads, as libvirt's `-name guest=…,debug-threads=on`: the
   * vCPU threads are "CPU N/TCG" (or /KVM) in /proc, where status
   * counts them without a QMP round trip. */
  hvk_opts_add (opts, "debug-threads", "on");
  return hvk_cmdline_add_opts (b->cmdline, "-name", opts, error);
}

/* -uuid: random, or fixed for golden tests */
static gboolean
build_uuid (HvkQemuBuilder  *b,
            GError         **error)
{
  const char *fixed = g_getenv (HVK_QEMU_TEST_UUID_ENV);
  g_autoptr(GError) local_error = NULL;
  char *uuid = hvk_uuid_canonical (fixed != NULL && *fixed != '\0' ? fixed : NULL, &local_error);

  if (uuid == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "%s=%s is not a UUID", HVK_QEMU_TEST_UUID_ENV, fixed);
      return FALSE;
    }
  g_free (b->uuid);
  b->uuid = uuid;
  return hvk_cmdline_add_option (b->cmdline, "-uuid", uuid, error);
}

/* -machine TYPE,accel=kvm[,nvdimm=on][,kernel_irqchip=split],ACCELERATORS */
static gboolean
build_machine (HvkQemuBuilder  *b,
               GError         **error)
{
  g_autoptr(HvkOpts) opts = hvk_opts_new (b->machine_type);
  gboolean sets_accel;

  accelerators_select_tcg (b->accelerators, &sets_accel);
  /* The user's accel= wins: QEMU refuses accel twice in one list. */
  if (!sets_accel)
    hvk_opts_add (opts, "accel", "kvm");
  if (b->nvdimm_image)
    hvk_opts_add (opts, "nvdimm", "on");
  if (b->iommu)
    hvk_opts_add (opts, "kernel_irqchip", "split");
  if (b->accelerators != NULL)
    {
      if (!hvk_check_no_control_chars ("machine_accelerators", b->accelerators, error))
        return FALSE;
      hvk_opts_add_raw (opts, b->accelerators);
    }
  return hvk_cmdline_add_opts (b->cmdline, "-machine", opts, error);
}

/* -cpu host[,FEATURES]; `host` needs KVM, TCG's closest is `max`. */
static gboolean
build_cpu (HvkQemuBuilder  *b,
           GError         **error)
{
  g_autoptr(HvkOpts) opts = hvk_opts_new (b->data->tcg ? "max" : "host");
  const char *features = b->settings->cpu_features;

  /* Kata's nesting checks: on a host that is itself a VM, no PMU. */
  if (!b->settings->disable_nesting_checks)
    {
      g_autofree char *cpuinfo = hvk_host_file ("/proc/cpuinfo");
      gboolean nested = FALSE;

      if (!hvk_running_on_vmm (cpuinfo, &nested, error))
        return FALSE;
      if (nested)
        hvk_opts_add (opts, "pmu", "off");
    }
  if (features != NULL)
    {
      if (!hvk_check_no_control_chars ("cpu_features", features, error))
        return FALSE;
      hvk_opts_add_raw (opts, features);
    }
  return hvk_cmdline_add_opts (b->cmdline, "-cpu", opts, error);
}

/* A UNIX server socket as QEMU ≥ 6.0 spells it: PREFIXpath=P,server=on,wait=off */
static gboolean
add_unix_server (HvkCmdline  *cmdline,
                 const char  *flag,
                 const char  *what,
                 const char  *path,
                 GError     **error)
{
  g_autoptr(HvkOpts) opts = hvk_opts_new (NULL);
  g_autofree char *escaped = NULL;
  g_autofree char *address = NULL;

  if (path == NULL)
    {
      g_set_error (error, HVK_ERROR, HVK_ERROR_INVALID_ARGUMENT,
                   "backend qemu: no %s socket path", what);
      return FALSE;
    }
  if (!hvk_check_no_control_chars (what, path, error))
    return FALSE;
  escaped = hvk_escape_comma (path);
  address = g_strdup_printf ("unix:path=%s", escaped);
  hvk_opts_add_raw (opts, address);
  hvk_opts_add (opts, "server", "on");
  hvk_opts_add (opts, "wait", "off");
  return hvk_cmdline_add_opts (cmdline, flag, opts, error);
}

/* Kata's extra_monitor_socket: hmp, qmp or qmp-pretty, next to the VM's
 * QMP socket. */
static const struct {
  const char *protocol;
  const char *flag;
} monitor_flags[] = {
  { "hmp", "-monitor" },
  { "qmp", "-qmp" },
  { "qmp-pretty", "-qmp-pretty" },
};

/* -qmp unix:path=P,server=on,wait=off, the events monitor (a second QMP
 * socket that only watchers use: `hvkit events` never disturbs hvkit's
 * own commands) [+ the extra monitor] */
static gboolean
build_qmp (HvkQemuBuilder  *b,
           GError         **error)
{
  const char *extra = b->settings->extra_monitor_socket;
  g_autofree char *extra_path = NULL;

  if (!add_unix_server (b->cmdline, "-qmp", "QMP", b->paths->qmp_socket, error))
    return FALSE;
  if (b->paths->events_socket != NULL
      && !add_unix_server (b->cmdline, "-qmp", "QMP events", b->paths->events_socket, error))
    return FALSE;
  /* hvkit-monitor's: why QEMU ends, a guest panic to dump. */
  if (b->paths->monitor_socket != NULL
      && !add_unix_server (b->cmdline, "-qmp", "QMP monitor", b->paths->monitor_socket, error))
    return FALSE;
  if (extra == NULL)
    return TRUE;

  for (gsize i = 0; i < G_N_ELEMENTS (monitor_flags); i++)
    if (g_str_equal (extra, monitor_flags[i].protocol))
      {
        /* Beside the QMP socket: the VM dir, or the VMM's own dir when
         * rootless. */
        g_autofree char *dir = g_path_get_dirname (b->paths->qmp_socket);

        extra_path = g_build_filename (dir, "extra-monitor.sock", NULL);
        return add_unix_server (b->cmdline, monitor_flags[i].flag, "extra monitor",
                                extra_path, error);
      }
  return hvk_qemu_builder_config_error (b, error, "extra_monitor_socket",
                       "'%s' is not one of hmp, qmp or qmp-pretty", extra);
}

/* -m SIZEM,slots=N,maxmem=MAXM */
static gboolean
build_memory (HvkQemuBuilder  *b,
              GError         **error)
{
  g_autofree char *size = g_strdup_printf ("%" G_GUINT64_FORMAT "M", b->memory_mb);
  g_autoptr(HvkOpts) opts = hvk_opts_new (size);

  hvk_opts_add_uint (opts, "slots", b->memory_slots);
  hvk_opts_add_printf (opts, "maxmem", "%" G_GUINT64_FORMAT "M", b->max_memory_mb);
  return hvk_cmdline_add_opts (b->cmdline, "-m", opts, error);
}

/* -rtc base=utc,driftfix=slew,clock=host */
static gboolean
build_rtc (HvkQemuBuilder  *b,
           GError         **error)
{
  g_autoptr(HvkOpts) opts = hvk_opts_new (NULL);

  hvk_opts_add (opts, "base", "utc");
  hvk_opts_add (opts, "driftfix", "slew");
  hvk_opts_add (opts, "clock", "host");
  return hvk_cmdline_add_opts (b->cmdline, "-rtc", opts, error);
}

/* -global kvm-pit.lost_tick_policy=discard */
static gboolean
build_global (HvkQemuBuilder  *b,
              GError         **error)
{
  return hvk_cmdline_add_option (b->cmdline, "-global", "kvm-pit.lost_tick_policy=discard", error);
}

/* Flash images in pflashes, as -drive if=pflash rather than -pflash:
 * the format is explicit, so QEMU neither probes it nor restricts writes
 * to block 0 (OVMF's variable store lives there). */
static gboolean
build_pflash (HvkQemuBuilder  *b,
              GError         **error)
{
  const char * const *pflashes = (const char * const *) b->settings->pflashes;
  guint unit = 0;

  for (guint i = 0; pflashes != NULL && pflashes[i] != NULL; i++)
    {
      g_autoptr(HvkOpts) opts = NULL;

      if (*pflashes[i] == '\0')
        continue;
      opts = hvk_opts_new (NULL);
      hvk_opts_add (opts, "if", "pflash");
      hvk_opts_add (opts, "format", "raw");
      hvk_opts_add_uint (opts, "unit", unit++);
      hvk_opts_add (opts, "file", pflashes[i]);
      if (!hvk_cmdline_add_opts (b->cmdline, "-drive", opts, error))
        return FALSE;
    }
  return TRUE;
}

/* -vga none */
static gboolean
build_vga (HvkQemuBuilder  *b,
           GError         **error)
{
  return hvk_cmdline_add_option (b->cmdline, "-vga", "none", error);
}

/* What the boot memory's backends share: the memory mapped shared
 * (virtio-fs, vhost-user) and preallocated, as the config asks. */
static void
add_backend_sharing (HvkQemuBuilder *b,
                     HvkOpts        *object)
{
  if (b->mem_shared)
    hvk_opts_add (object, "share", "on");
  if (b->mem_prealloc)
    hvk_opts_add (object, "prealloc", "on");
}

/* govmm's appendMultiNUMAMemoryKnobs: a memory backend a guest node
 * (bound to its host nodes, backed as Kata's buildNUMATopology picks:
 * hugepages, the file-backed directory, else anonymous RAM), its -numa
 * node with its vCPUs, then the distances. */
static gboolean
build_numa_knobs (HvkQemuBuilder  *b,
                  GError         **error)
{
  const char *mem_path = NULL;

  if (b->hugepages)
    mem_path = "/dev/hugepages";
  else if (b->file_backed)
    mem_path = b->mem_path;
  for (guint i = 0; i < b->numa->nodes->len; i++)
    {
      const HvkQemuNumaNode *node = b->numa->nodes->pdata[i];
      g_autoptr(HvkOpts) object = hvk_opts_new (mem_path != NULL ? "memory-backend-file"
                                                                 : "memory-backend-ram");
      g_autoptr(HvkOpts) numa = hvk_opts_new ("node");
      g_autofree char *id = g_strdup_printf ("numa-mem%u", i);

      hvk_opts_add (object, "id", id);
      hvk_opts_add_printf (object, "size", "%" G_GUINT64_FORMAT "M", node->mem_mb);
      if (mem_path != NULL)
        hvk_opts_add (object, "mem-path", mem_path);
      hvk_opts_add (object, "host-nodes", node->host_nodes);
      hvk_opts_add (object, "policy", "bind");
      add_backend_sharing (b, object);
      if (!hvk_cmdline_add_opts (b->cmdline, "-object", object, error))
        return FALSE;
      hvk_opts_add_uint (numa, "nodeid", i);
      hvk_opts_add (numa, "memdev", id);
      if (node->cpus != NULL)
        hvk_opts_add (numa, "cpus", node->cpus);
      if (!hvk_cmdline_add_opts (b->cmdline, "-numa", numa, error))
        return FALSE;
    }
  for (guint i = 0; i < b->numa->dists->len; i++)
    {
      const HvkQemuNumaDist *d = &g_array_index (b->numa->dists, HvkQemuNumaDist, i);
      g_autoptr(HvkOpts) dist = hvk_opts_new ("dist");

      hvk_opts_add_uint (dist, "src", d->src);
      hvk_opts_add_uint (dist, "dst", d->dst);
      hvk_opts_add_uint (dist, "val", d->val);
      if (!hvk_cmdline_add_opts (b->cmdline, "-numa", dist, error))
        return FALSE;
    }
  return TRUE;
}

/* govmm's appendMemoryKnobs: the guest RAM as one backend object on NUMA
 * node 0 (hugepages, a file, or anonymous RAM); with NUMA, one a node. */
static gboolean
build_memory_knobs (HvkQemuBuilder  *b,
                    GError         **error)
{
  g_autoptr(HvkOpts) object = NULL;
  g_autoptr(HvkOpts) numa = NULL;
  g_autofree char *size = NULL;

  if (b->numa != NULL)
    return build_numa_knobs (b, error);
  if (!b->hugepages && !b->mem_shared && !b->mem_prealloc && !b->file_backed)
    return TRUE;

  size = g_strdup_printf ("%" G_GUINT64_FORMAT "M", b->memory_mb);
  if (b->hugepages)
    {
      object = hvk_opts_new ("memory-backend-file");
      hvk_opts_add (object, "id", "dimm1");
      hvk_opts_add (object, "size", size);
      hvk_opts_add (object, "mem-path", "/dev/hugepages");
    }
  else if (b->file_backed && b->mem_path != NULL)
    {
      object = hvk_opts_new ("memory-backend-file");
      hvk_opts_add (object, "id", "dimm1");
      hvk_opts_add (object, "size", size);
      hvk_opts_add (object, "mem-path", b->mem_path);
    }
  else
    {
      object = hvk_opts_new ("memory-backend-ram");
      hvk_opts_add (object, "id", "dimm1");
      hvk_opts_add (object, "size", size);
    }
  add_backend_sharing (b, object);
  if (!hvk_cmdline_add_opts (b->cmdline, "-object", object, error))
    return FALSE;

  numa = hvk_opts_new ("node");
  hvk_opts_add (numa, "memdev", "dimm1");
  return hvk_cmdline_add_opts (b->cmdline, "-numa", numa, error);
}

/* -no-user-config -nodefaults -nographic --no-reboot + memory */
static gboolean
build_knobs (HvkQemuBuilder  *b,
             GError         **error)
{
  if (!hvk_cmdline_add_args (b->cmdline, error,
                             "-no-user-config", "-nodefaults", "-nographic", "--no-reboot",
                             NULL))
    return FALSE;
  return build_memory_knobs (b, error);
}

/* -kernel K [-initrd I] -append PARAMS (one argument, verbatim) */
static gboolean
build_kernel (HvkQemuBuilder  *b,
              GError         **error)
{
  const char *kernel = b->settings->kernel;
  g_autoptr(GPtrArray) params = NULL;

  params = hvk_registry_build_kernel_params (b->registry, b->ctx, error);
  if (params == NULL)
    return FALSE;
  b->kernel_cmdline = hvk_params_to_string (params);
  if (!hvk_check_no_control_chars ("kernel parameters", b->kernel_cmdline, error))
    return FALSE;

  if (kernel == NULL)
    return TRUE;
  if (!hvk_cmdline_add_option (b->cmdline, "-kernel", kernel, error))
    return FALSE;
  if (b->initrd != NULL && !hvk_cmdline_add_option (b->cmdline, "-initrd", b->initrd, error))
    return FALSE;
  if (*b->kernel_cmdline != '\0' &&
      !hvk_cmdline_add_option (b->cmdline, "-append", b->kernel_cmdline, error))
    return FALSE;
  return TRUE;
}

/* -bios FIRMWARE */
static gboolean
build_bios (HvkQemuBuilder  *b,
            GError         **error)
{
  const char *firmware = b->settings->firmware;

  if (firmware == NULL)
    return TRUE;
  return hvk_cmdline_add_option (b->cmdline, "-bios", firmware, error);
}

/* -object iothread,id=ID for the SCSI controller's I/O thread */
static gboolean
build_iothreads (HvkQemuBuilder  *b,
                 GError         **error)
{
  g_autoptr(HvkOpts) opts = NULL;

  if (b->layout->iothread == NULL)
    return TRUE;
  opts = hvk_opts_new ("iothread");
  hvk_opts_add (opts, "id", b->layout->iothread);
  return hvk_cmdline_add_opts (b->cmdline, "-object", opts, error);
}

/* -S -incoming defer: a VM booting from a template waits for its state */
static gboolean
build_incoming (HvkQemuBuilder  *b,
                GError         **error)
{
  if (!b->incoming_defer)
    return TRUE;
  return hvk_cmdline_add_args (b->cmdline, error, "-S", "-incoming", "defer", NULL);
}

/* -pidfile P */
static gboolean
build_pidfile (HvkQemuBuilder  *b,
               GError         **error)
{
  if (b->paths->pid_file == NULL)
    return TRUE;
  return hvk_cmdline_add_option (b->cmdline, "-pidfile", b->paths->pid_file, error);
}

/* -sandbox OPTIONS (seccompsandbox, a raw QEMU option list; the strict
 * default unless disable_seccomp) */
static gboolean
build_sandbox (HvkQemuBuilder  *b,
               GError         **error)
{
  const char *sandbox = b->settings->seccompsandbox;
  g_autoptr(HvkOpts) opts = NULL;

  if (b->settings->disable_seccomp)
    {
      if (hvk_config_has_key (b->config, "seccompsandbox"))
        return hvk_qemu_builder_config_error (b, error, "disable_seccomp",
                                              "true contradicts seccompsandbox=%s", sandbox);
      return TRUE;
    }
  if (sandbox == NULL)
    return TRUE;
  if (!hvk_check_no_control_chars ("seccompsandbox", sandbox, error))
    return FALSE;
  opts = hvk_opts_new (NULL);
  hvk_opts_add_raw (opts, sandbox);
  return hvk_cmdline_add_opts (b->cmdline, "-sandbox", opts, error);
}

/* -smp N,cores=1,threads=1,sockets=M,maxcpus=M */
static gboolean
build_smp (HvkQemuBuilder  *b,
           GError         **error)
{
  g_autofree char *cpus = g_strdup_printf ("%u", b->vcpus);
  g_autoptr(HvkOpts) opts = hvk_opts_new (cpus);

  /* With guest NUMA nodes, Kata's cpuTopology: a socket a node. */
  gboolean numa = b->numa != NULL && b->numa->sockets > 1;

  hvk_opts_add_uint (opts, "cores", numa ? b->numa->cores : 1);
  hvk_opts_add_uint (opts, "threads", 1);
  hvk_opts_add_uint (opts, "sockets", numa ? b->numa->sockets : b->max_vcpus);
  hvk_opts_add_uint (opts, "maxcpus", numa ? b->numa->max_vcpus : b->max_vcpus);
  return hvk_cmdline_add_opts (b->cmdline, "-smp", opts, error);
}

/* QEMU's argument order (govmm LaunchQemu).  Read top to bottom. */
static const HvkQemuBuildFunc build_steps[] = {
  resolve_setup,
  build_name,
  build_uuid,
  build_machine,
  build_cpu,
  build_qmp,
  build_memory,
  hvk_qemu_build_devices,
  build_rtc,
  build_global,
  build_pflash,
  build_vga,
  build_knobs,
  build_kernel,
  build_bios,
  build_iothreads,
  build_incoming,
  build_pidfile,
  build_sandbox,
  build_smp,
};

static HvkCmdline *
qemu_build (HvkRegistry            *registry,
            const char             *id,
            HvkConfig              *config,
            const HvkQemuSettings  *settings,
            const HvkQemuPaths     *paths,
            GPtrArray              *extra_devices,
            HvkQemuLayout         **out_layout,
            char                  **out_kernel_cmdline,
            char                  **out_uuid,
            GError                **error)
{
  g_autoptr(HvkQemuLayout) layout = hvk_qemu_layout_new ();
  g_autoptr(HvkCmdline) cmdline = NULL;
  g_autoptr(HvkBuildContext) ctx = NULL;
  HvkQemuBuildData *data = g_new0 (HvkQemuBuildData, 1);
  HvkQemuBuilder b = { 0, };
  g_autoptr(HvkQemuSettings) owned = NULL;

  if (settings == NULL)
    settings = owned = hvk_qemu_settings_new (config);
  /* jailer_path: the jailer runs with QEMU's whole command line and
   * execs it (hvk-qemu-launch.c checks it did). */
  cmdline = hvk_cmdline_new (settings->jailer_path != NULL ? settings->jailer_path : settings->path);
  ctx = hvk_build_context_new (registry, HVK_QEMU_BACKEND_NAME, id, config);
  data->layout = layout;
  data->paths = paths;
  data->settings = settings;
  data->throttle_groups = hvk_qemu_throttle_groups_new ();
  hvk_build_context_set_backend_data (ctx, data, (GDestroyNotify) hvk_qemu_build_data_free);
  if (settings->jailer_path != NULL && !hvk_cmdline_add_arg (cmdline, settings->path, error))
    return NULL;

  b.registry = registry;
  b.id = id;
  b.config = config;
  b.settings = settings;
  b.paths = paths;
  b.extra_devices = extra_devices;
  b.cmdline = cmdline;
  b.ctx = ctx;
  b.data = data;
  b.layout = layout;

  for (gsize i = 0; i < G_N_ELEMENTS (build_steps); i++)
    if (!build_steps[i] (&b, error))
      {
        g_free (b.kernel_cmdline);
        g_free (b.uuid);
        hvk_qemu_numa_free (b.numa);
        return NULL;
      }
  hvk_qemu_numa_free (b.numa);

  if (out_layout != NULL)
    *out_layout = g_steal_pointer (&layout);
  if (out_kernel_cmdline != NULL)
    *out_kernel_cmdline = g_steal_pointer (&b.kernel_cmdline);
  if (out_uuid != NULL)
    *out_uuid = g_steal_pointer (&b.uuid);
  g_free (b.kernel_cmdline);
  g_free (b.uuid);
  return g_steal_pointer (&cmdline);
}

HvkCmdline *
hvk_qemu_build_cmdline (HvkRegistry            *registry,
                        const char             *id,
                        HvkConfig              *config,
                        const HvkQemuSettings  *settings,
                        const HvkQemuPaths     *paths,
                        GPtrArray              *extra_devices,
                        HvkQemuLayout         **out_layout,
                        char                  **out_kernel_cmdline,
                        char                  **out_uuid,
                        GError                **error)
{
  g_return_val_if_fail (registry != NULL, NULL);
  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (HVK_IS_CONFIG (config), NULL);
  g_return_val_if_fail (paths != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return qemu_build (registry, id, config, settings, paths, extra_devices, out_layout,
                     out_kernel_cmdline, out_uuid, error);
}

char *
hvk_qemu_build_kernel_cmdline (HvkRegistry  *registry,
                               const char   *id,
                               HvkConfig    *config,
                               GError      **error)
{
  HvkQemuPaths paths = { 0, };
  g_autoptr(HvkCmdline) cmdline = NULL;
  const char *store;
  char *kernel_cmdline = NULL;

  g_return_val_if_fail (registry != NULL, NULL);
  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (HVK_IS_CONFIG (config), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* The same build as the command line, so that device appenders add
   * their parameters; the paths only need to be plausible. */
  store = hvk_config_get_vm_store_path (config);
  paths.vm_dir = g_build_filename (store != NULL ? store : "/run/hvkit", id, NULL);
  paths.qmp_socket = g_build_filename (paths.vm_dir, "qmp.sock", NULL);
  paths.console_socket = g_build_filename (paths.vm_dir, "console.sock", NULL);
  paths.pid_file = g_build_filename (paths.vm_dir, "pid", NULL);
  paths.virtiofsd_socket = g_build_filename (paths.vm_dir, "vhost-fs.sock", NULL);

  cmdline = qemu_build (registry, id, config, NULL, &paths, NULL, NULL, &kernel_cmdline, NULL,
                        error);
  hvk_qemu_paths_clear (&paths);
  if (cmdline == NULL)
    return NULL;
  return kernel_cmdline;
}
