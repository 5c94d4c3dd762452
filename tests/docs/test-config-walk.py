#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every key is honoured or refused: walks every registered key of every
backend (the core's and the backend's own, as hvkit-doc-data lists them),
sets it to a value other than the default and checks that the backend's
command line or guest kernel line changes (`hvkit argv --json`, `hvkit
kernel-params`), or that the key is refused with "not supported by
backend", or that its effect is a behaviour checked here (an allow-list
that refuses, a warning, an operation that fails) or by a named test.  A
key in none of these is accepted and ignored: the test fails naming it.

usage: test-config-walk.py HVKIT DOC-DATA.json FAKE-ACRN-DM FAKE-ACRNCTL
"""

import json
import os
import re
import subprocess
import sys
import tempfile

HVKIT, DOC_DATA, FAKE_ACRN_DM, FAKE_ACRNCTL = sys.argv[1:5]
SRCDIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# Keys whose values other keys must accompany for them to matter (applied
# to the baseline and the probe alike); None removes a key of the base.
CONTEXT = {
    # rootless as root needs an identity: the baseline has one, the probe
    # changes it (the effect is QEMU's uid/gid, checked by the e2e test).
    "vmm_user": {"rootless": "true", "vmm_user": "64242", "vmm_group": "64242"},
    "vmm_group": {"rootless": "true", "vmm_user": "64242", "vmm_group": "64242"},
    "vmm_groups": {"rootless": "true", "vmm_user": "64242", "vmm_group": "64242"},
    "kernel_verity_params": {"initrd": None, "image": "@D@/rootfs.img"},
    "rootfs_type": {"initrd": None, "image": "@D@/rootfs.img"},
    "disable_image_nvdimm": {"initrd": None, "image": "@D@/rootfs.img"},
    "shared_path": {"shared_fs": "virtio-fs"},
    "shared_fs": {"shared_path": "@D@/share"},
    "virtio_fs_daemon": {"shared_fs": "virtio-fs", "shared_path": "@D@/share"},
    "virtio_fs_cache_size": {"shared_fs": "virtio-fs", "shared_path": "@D@/share"},
    "virtio_fs_queue_size": {"shared_fs": "virtio-fs", "shared_path": "@D@/share"},
    "virtio_fs_extra_args": {"shared_fs": "virtio-fs", "shared_path": "@D@/share"},
    "virtio_fs_cache": {"shared_fs": "virtio-fs", "shared_path": "@D@/share"},
    "msize_9p": {"shared_fs": "virtio-9p", "shared_path": "@D@/share"},
    "block_device_aio": {"[device.disk0]": "kind=block\npath=@D@/disk.img"},
    "block_device_cache_set": {"[device.disk0]": "kind=block\npath=@D@/disk.img"},
    "block_device_cache_direct": {"[device.disk0]": "kind=block\npath=@D@/disk.img",
                                  "block_device_cache_set": "true"},
    "block_device_cache_noflush": {"[device.disk0]": "kind=block\npath=@D@/disk.img",
                                   "block_device_cache_set": "true"},
    "disable_vhost_net": {"[device.net0]": "kind=net\ntype=tap\nifname=tap0\nmac=02:00:ca:fe:00:01"},
    "boot_to_be_template": {"memory_path": "@D@/template-mem"},
    "boot_from_template": {"memory_path": "@D@/template-mem",
                           "devices_state_path": "@D@/template-state"},
    "memory_path": {"boot_to_be_template": "true", "memory_path": "@D@/template-mem"},
    "devices_state_path": {"boot_to_be_template": "true", "memory_path": "@D@/template-mem"},
    "extra_monitor_socket": {"enable_debug": "true"},
    "guest_memory_dump_paging": {"guest_memory_dump_path": "@D@/dumps"},
    "guest_panic_stop": {"guest_memory_dump_path": "@D@/dumps"},
    "disable_nesting_checks": {"@host": "nested"},
    "default_vcpus": {"default_maxvcpus": "2"},
    # Guest NUMA on described NUMA hosts (tests/host/README.md).
    "enable_numa": {"@host": "numa2", "default_maxvcpus": "4"},
    "numa_mapping": {"@host": "numa4", "enable_numa": "true", "default_maxvcpus": "4"},
}

# The I/O limits act on the devices of their kind; a burst needs its rate.
_DISK = {"[device.disk0]": "kind=block\npath=@D@/disk.img"}
_NET = {"[device.net0]": "kind=net\ntype=tap\nifname=tap0\nmac=02:00:ca:fe:00:01"}
for _prefix, _dev in (("disk", _DISK), ("net", _NET)):
    for _what in ("bw", "ops"):
        CONTEXT["%s_rate_limiter_%s_max_rate" % (_prefix, _what)] = dict(_dev)
        CONTEXT["%s_rate_limiter_%s_one_time_burst" % (_prefix, _what)] = dict(
            _dev, **{"%s_rate_limiter_%s_max_rate" % (_prefix, _what): "8000" if _what == "bw" else "10"})
CONTEXT["rx_rate_limiter_max_rate"] = dict(_NET)
CONTEXT["tx_rate_limiter_max_rate"] = dict(_NET)

# Context of one backend's key (aio=native needs qemu's direct cache).
BACKEND_CONTEXT = {
    ("qemu", "block_device_aio"): {"block_device_cache_set": "true",
                                   "block_device_cache_direct": "true"},
}

# Context for the probe only: the image replaces the initrd and back.
PROBE_CONTEXT = {
    "rootless": {"vmm_user": "64242", "vmm_group": "64242"},
    "image": {"initrd": None},
    "initrd": {"image": None},
}

# Values other than the default (and than the base config's).
VALUES = {
    "block_device_driver": "virtio-blk", "block_device_aio": "native",
    "numa_mapping": "0-1;2-3",
    "shared_fs": "virtio-9p", "virtio_fs_cache": "never", "rootfs_type": "xfs",
    "extra_monitor_socket": "qmp", "machine_type": "pc", "machine_accelerators": "kernel_irqchip=on",
    "kernel_verity_params": "root_hash=4ca2f8fd4b8ec1c8e2ddd34ab6e0c0e7b2c1c8e5e1e0f8a2d4b6a9c3e7f1d2b5,"
                            "salt=00,data_blocks=8,data_block_size=4096,hash_block_size=4096",
    "file_mem_backend": "@D@", "image": "@D@/rootfs2.img", "initrd": "@D@/initrd2.img",
    "memory_path": "@D@/template-mem2", "virtio_fs_queue_size": "512",
    "kernel": "@D@/vmlinuz2", "path": "@D@/vmm2", "ctlpath": "@D@/ctl2",
    # qemu: an executable file, put in front of the argv (it execs the
    # rest: tests/e2e/test-e2e-rootless.c boot-hotplug-stop).
    "jailer_path": "/usr/bin/env",
    "fail_operations": "create_vm", "default_vcpus": "2",
    "default_memory": "300", "default_maxmemory": "1100",
    "seccompsandbox": "on", "cpu_features": "+x2apic", "guest_memory_dump_path": "@D@/dumps",
    "pflashes": "@D@/fw.bin", "vmm_cgroup_parent": "/hvkit-walk.slice",
    "vmm_user": "64243", "vmm_group": "64243", "vmm_groups": "64243",
    "selinux_label": "system_u:system_r:svirt_t:s0",
    "disk_rate_limiter_bw_max_rate": "8388608", "disk_rate_limiter_bw_one_time_burst": "4194304",
    "disk_rate_limiter_ops_max_rate": "100", "disk_rate_limiter_ops_one_time_burst": "50",
    "net_rate_limiter_bw_max_rate": "8388608", "net_rate_limiter_bw_one_time_burst": "4194304",
    "net_rate_limiter_ops_max_rate": "100", "net_rate_limiter_ops_one_time_burst": "50",
    "rx_rate_limiter_max_rate": "8388608", "tx_rate_limiter_max_rate": "8388608",
}

# Per backend, where the default differs from the base config's value.
BACKEND_VALUES = {
    ("qemu", "default_maxvcpus"): "1", ("mock", "default_maxvcpus"): "1",
    ("acrn", "default_maxvcpus"): "2", ("acrn", "block_device_driver"): "virtio-scsi",
}

# Values a backend refuses with an error of its own (naming the key).
REFUSED_VALUES = {
    # Honoured where the host has SELinux (hvkit-monitor's setexeccon:
    # tests/e2e/test-e2e-rootless.c selinux-label, tests/tool/test-monitor.c).
    ("qemu", "selinux_label"): "selinux_label: the host has no SELinux",
    ("qemu", "virtio_fs_cache_size"): "needs a QEMU with DAX support",
}

# The allow-lists: the key each guards.  Their behaviour is checked here:
# a list that excludes the guarded key's value is an error naming it.
ALLOW_LISTS = {
    "valid_hypervisor_paths": "path", "valid_ctlpaths": "ctlpath",
    "valid_jailer_paths": "jailer_path", "valid_virtio_fs_daemon_paths": "virtio_fs_daemon",
    "valid_entropy_sources": "entropy_source", "valid_file_mem_backends": "file_mem_backend",
}

# Keys whose effect is not on a command line, and the test that checks it
# (FILE: the test path or name, which must appear in FILE).
ELSEWHERE = {
    ("qemu", "vmm_cgroup_parent"): ("e2e/test-e2e-api.c", "/hvk/e2e/api/cgroup"),
    ("qemu", "vmm_cgroup_memory_mb"): ("e2e/test-e2e-api.c", "/hvk/e2e/api/cgroup"),
    ("qemu", "vmm_cgroup_cpu_quota_us"): ("e2e/test-e2e-api.c", "/hvk/e2e/api/cgroup"),
    ("qemu", "vmm_cgroup_cpu_period_us"): ("e2e/test-e2e-api.c", "/hvk/e2e/api/cgroup"),
    ("qemu", "rootless"): ("e2e/test-e2e-rootless.c", "/hvk/e2e/rootless/boot-hotplug-stop"),
    ("qemu", "vmm_user"): ("e2e/test-e2e-rootless.c", "/hvk/e2e/rootless/boot-hotplug-stop"),
    ("qemu", "vmm_group"): ("e2e/test-e2e-rootless.c", "/hvk/e2e/rootless/boot-hotplug-stop"),
    ("qemu", "vmm_groups"): ("e2e/test-e2e-rootless.c", "/hvk/e2e/rootless/boot-hotplug-stop"),
    ("qemu", "devices_state_path"): ("e2e/test-e2e-api.c", "/hvk/e2e/api/template-save"),
    ("qemu", "guest_memory_dump_paging"): ("e2e/test-e2e-tool.c", "/hvk/e2e/tool/panic-dump-stop"),
    ("qemu", "guest_panic_stop"): ("e2e/test-e2e-tool.c", "/hvk/e2e/tool/panic-dump-stop"),
    ("mock", "console_socket"): ("mock/test-mock.c", "test_console_socket"),
    ("mock", "scripted_stats"): ("mock/test-mock.c", "test_stats"),
    ("acrn", "ctlpath"): ("acrn/test-acrn-lifecycle.c", "blkrescan sbx-hp"),
    ("qemu", "virtio_fs_daemon"): ("qemu/test-qemu-golden.c", "/hvk/qemu/virtiofsd-argv"),
    ("qemu", "virtio_fs_cache"): ("qemu/test-qemu-golden.c", "/hvk/qemu/virtiofsd-argv"),
    ("qemu", "virtio_fs_extra_args"): ("qemu/test-qemu-golden.c", "/hvk/qemu/virtiofsd-argv"),
    # Taps are shaped through netlink once QEMU has them, not on its argv.
    ("qemu", "rx_rate_limiter_max_rate"): ("e2e/test-e2e-iotune.c", "/hvk/e2e/iotune/tap-shaping"),
    ("qemu", "tx_rate_limiter_max_rate"): ("e2e/test-e2e-iotune.c", "/hvk/e2e/iotune/tap-shaping"),
    ("qemu", "net_rate_limiter_bw_max_rate"): ("e2e/test-e2e-iotune.c", "/hvk/e2e/iotune/tap-shaping"),
    ("qemu", "net_rate_limiter_bw_one_time_burst"): ("e2e/test-e2e-iotune.c", "/hvk/e2e/iotune/tap-shaping"),
    # Changes nothing without a limited disk: the golden with disks.
    ("qemu", "disk_rate_limiter_shared"): ("golden/qemu/block-limit-shared.conf", "disk_rate_limiter_shared=true"),
}

failures = []


def base_config(backend, d):
    common = {"kernel": d + "/vmlinuz", "default_memory": "256"}
    if backend == "acrn":
        return dict(common, path=FAKE_ACRN_DM, ctlpath=FAKE_ACRNCTL,
                    image=d + "/rootfs.img", default_maxvcpus="1")
    return dict(common, initrd=d + "/initrd.img", default_maxvcpus="2",
                default_maxmemory="1024")


def write_config(backend, d, settings):
    groups = []
    lines = ["[hypervisor]", "backend=" + backend, "[hypervisor.%s]" % backend]
    for key, value in settings.items():
        if value is None or key.startswith("@"):
            continue
        value = value.replace("@D@", d)
        if key.startswith("["):
            groups.append("%s\n%s" % (key, value))
        else:
            lines.append("%s=%s" % (key, value))
    path = os.path.join(d, "walk.conf")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines + groups) + "\n")
    return path


# One hvkit run per distinct configuration: most keys share the baseline,
# and a key's first probe is often its last (the suite runs this under
# ASan too, where each run costs ~100 ms).
_runs = {}


def run(backend, d, settings, command="argv"):
    memo = (backend, command, tuple(sorted(settings.items(), key=lambda kv: kv[0])))
    if memo not in _runs:
        _runs[memo] = run_uncached(backend, d, settings, command)
    return _runs[memo]


def run_uncached(backend, d, settings, command):
    conf = write_config(backend, d, settings)
    env = dict(os.environ)
    if "@host" in settings:
        env["HVKIT_HOST_ROOT"] = os.path.join(SRCDIR, "host", settings["@host"])
    args = [HVKIT, command, "-c", conf] + (["--json"] if command == "argv" else [])
    a = subprocess.run(args, env=env, capture_output=True, text=True)
    out = a.stdout
    if command == "argv" and a.returncode == 0:
        k = subprocess.run([HVKIT, "kernel-params", "-c", conf], env=env,
                           capture_output=True, text=True)
        out += k.stdout
    return a.returncode, UUID.sub("UUID", out), a.stderr


def value_for(key, base, backend=None):
    name, kind, default = key["name"], key["type"], key.get("default")
    if (backend, name) in BACKEND_VALUES:
        return BACKEND_VALUES[(backend, name)]
    if name in VALUES:
        return VALUES[name]
    if kind == "boolean":
        return "false" if default == "true" else "true"
    if kind in ("unsigned integer", "integer"):
        return str(int(default or 0) + 3)
    if kind == "number":
        return "2"
    if kind == "path":
        return "@D@/fw.bin"
    if kind in ("list", "path list"):
        return "x"
    return "x"


def fail(backend, key, why):
    failures.append("%s: %s: %s" % (backend, key, why))
    print("not ok - %s %s: %s" % (backend, key, why), flush=True)


def walk_key(backend, d, key, own):
    name = key["name"]
    value = value_for(key, None, backend)

    # Refused outright, whatever else the configuration says.
    rc, _, err = run(backend, d, dict(base_config(backend, d), **{name: value}))
    if rc != 0 and "not supported by backend '%s'" % backend in err and name in err:
        return "refused"

    context = dict(base_config(backend, d))
    context.update(CONTEXT.get(name, {}))
    context.update(BACKEND_CONTEXT.get((backend, name), {}))

    if name in ALLOW_LISTS:
        guarded = ALLOW_LISTS[name]
        probe = dict(context, **CONTEXT.get(guarded, {}))
        if guarded not in probe:
            probe[guarded] = value_for({"name": guarded, "type": "path"}, probe)
        probe[name] = "/nonexistent/*"
        rc, _, err = run(backend, d, probe)
        if rc != 0 and "not supported by backend" not in err and name in err:
            return "behaviour"
        if "not supported by backend" in err:
            # The list of a key the backend refuses guards nothing: it must
            # be refused itself (checked above).
            fail(backend, name, "the allow-list of %s, which the backend refuses, is accepted"
                 % guarded)
        else:
            fail(backend, name, "an allow-list excluding %s's value was accepted" % guarded)
        return None

    rc0, out0, err0 = run(backend, d, context)
    if rc0 != 0:
        fail(backend, name, "the baseline failed: " + err0.strip())
        return None
    probe = dict(context, **PROBE_CONTEXT.get(name, {}))
    probe[name] = value
    rc, out, err = run(backend, d, probe)
    if rc != 0:
        if "not supported by backend '%s'" % backend in err and name in err:
            return "refused"
        if (backend, name) in REFUSED_VALUES and REFUSED_VALUES[(backend, name)] in err:
            return "refused"
        if name == "fail_operations" and "create_vm" in err:
            return "behaviour"
        fail(backend, name, "%s=%s fails without refusing: %s" % (name, value, err.strip()))
        return None
    if out != out0:
        return "changes"

    if name == "disable_selinux":
        # Where the host has SELinux, the default draws a warning, true not.
        host = dict(context, **{"@host": "selinux"})
        _, _, warned = run(backend, d, host, "check")
        _, _, quiet = run(backend, d, dict(host, disable_selinux="true"), "check")
        if "disable_selinux=false" in warned and "disable_selinux" not in quiet:
            return "behaviour"
        fail(backend, name, "no warning on a host with SELinux")
        return None
    if (backend, name) in ELSEWHERE:
        path, needle = ELSEWHERE[(backend, name)]
        with open(os.path.join(SRCDIR, path), encoding="utf-8") as f:
            if needle in f.read():
                return "elsewhere"
        fail(backend, name, "%s does not have %s" % (path, needle))
        return None
    fail(backend, name, "%s=%s changes nothing and is not refused: accepted and ignored"
         % (name, value))
    return None


def main():
    with open(DOC_DATA, encoding="utf-8") as f:
        data = json.load(f)
    backends = [b["name"] for b in data["backends"]]
    for expected in ("qemu", "acrn", "mock"):
        assert expected in backends, backends
    with tempfile.TemporaryDirectory(prefix="hvkit-walk-") as d:
        for name in ("vmlinuz", "vmlinuz2", "initrd.img", "initrd2.img", "rootfs.img",
                     "rootfs2.img", "disk.img",
                     "fw.bin", "template-mem", "template-state"):
            open(os.path.join(d, name), "wb").close()
        for name in ("vmm2", "ctl2"):
            os.symlink("/bin/true", os.path.join(d, name))
        os.mkdir(os.path.join(d, "share"))
        os.mkdir(os.path.join(d, "dumps"))
        os.environ["XDG_RUNTIME_DIR"] = d
        counts = {}
        for backend in backends:
            if backend not in ("qemu", "acrn", "mock"):
                continue
            own = [k for k in data["backend_keys"] if k["backend"] == backend]
            for key in data["core_keys"] + own:
                outcome = walk_key(backend, d, key, key in own)
                if outcome is not None:
                    counts[outcome] = counts.get(outcome, 0) + 1
                    print("ok - %s %s: %s" % (backend, key["name"], outcome), flush=True)
        print("# %s" % ", ".join("%d %s" % (n, o) for o, n in sorted(counts.items())))
        print("# %d hvkit runs for %d probes" % (len(_runs), sum(counts.values())))
    if failures:
        print("\n".join(["FAILED:"] + failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
