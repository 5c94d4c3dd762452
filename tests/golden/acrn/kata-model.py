#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes NAME.kata next to each NAME.conf: the acrn-dm argument list that
Kata Containers 3.x (acrn.go CreateVM/AddDevice + acrn_arch_base.go
LaunchAcrn, as in shared/seeds 002 and 004 with 3.x's --cpu_affinity and
without -U) would produce for the same configuration.

This is an independent model of Kata's Go code, kept apart from hvkit's C
code on purpose: test-acrn-golden compares the two after applying the
documented differences (see kata_rewrite() there).  Run it by hand when a
.conf changes:  python3 kata-model.py
"""
import configparser
import glob
import os

GVTG_SLOT = 2
POOL = 8
# cpuinfo-4cpu
APIC_IDS = ["0", "2", "4", "6"]

BASE = ["tsc=reliable", "no_timer_check", "nohpet", "console=tty0",
        "console=ttyS0", "console=hvc0", "log_buf_len=16M", "consoleblank=0",
        "iommu=off", "i915.avail_planes_per_pipe=0x070F00",
        "i915.enable_hangcheck=0", "i915.nuclear_pageflip=1",
        "i915.enable_guc_loading=0", "i915.enable_guc_submission=0",
        "i915.enable_guc=0"]
ROOT = ["root=/dev/vda1 rw rootwait"]
NON_DEBUG = ["quiet"]
DEBUG = ["debug"]
SYSTEMD_NON_DEBUG = ["systemd.show_status=false"]
SYSTEMD_DEBUG = ["systemd.show_status=true", "systemd.log_level=debug",
                 "systemd.log_target=kmsg", "printk.devkmsg=on"]


def console_params(slot, backend, port_console, name, path):
    # ConsoleDevice.Valid(): known backend, path set.  Kata's Stdio
    # constant is "console", so a stdio console matches no case below.
    if backend not in ("tty", "pty", "console", "socket", "file") or not path:
        return None
    p = "%d,virtio-console," % slot + ("@" if port_console else "")
    p += {"pty": "pty:pty_port",
          "tty": "tty:tty_port=%s" % path,
          "socket": "socket:%s=%s" % (name, path),
          "file": "file:file_port=%s" % path}.get(backend, "")
    return ["-s", p]


def model(conf_path):
    text = open(conf_path).read()
    directives = dict(l[3:].strip().split("=", 1) for l in text.splitlines()
                      if l.startswith("#@ "))
    vm_id = directives.get("id", "golden")
    affinity = int(directives.get("affinity", "-1"))
    cp = configparser.ConfigParser(interpolation=None, strict=False)
    cp.optionxform = str
    cp.read_string(text)
    h = cp["hypervisor.acrn"]
    notes = []

    image = h.get("image", "")
    if not image:
        return ["# buildDevices: Image Path should not be empty", "ERROR"]
    name = "sbx-" + vm_id
    if len(name) > 15:
        return ["# CreateVM: VM Name len is %d but ACRN supports max VM name "
                "len of 15." % len(name), "ERROR"]

    debug = h.get("enable_debug", "false") == "true"
    params = BASE + ROOT  # handleImagePath appends the root params
    params += (DEBUG + SYSTEMD_DEBUG) if debug else (NON_DEBUG + SYSTEMD_NON_DEBUG)
    params += ["panic=1", "maxcpus=%s" % h.get("default_maxvcpus", "1")]
    user = h.get("kernel_params", "").split()
    params += user

    store = "@STATE@"
    # Devices as (kind, data); CreateVM's buildDevices, then AddDevice.
    devices = [("bridge",), ("lpc",),
               ("console", "socket", True, "console0",
                "%s/%s/console.sock" % (store, vm_id)),
               ("blk", image, 0)]
    devices += [("blk", "nodisk", i) for i in range(1, POOL + 1)]
    for section in cp.sections():
        if not section.startswith("device."):
            continue
        d = cp[section]
        kind = d["kind"]
        if kind == "net":
            devices.append(("net", d.get("ifname", ""), d.get("mac", "")))
        elif kind == "serial-socket":
            devices.append(("console", "socket", False, d["name"], d["path"]))
        elif kind == "console":
            backend = d.get("backend", "socket")
            devices.append(("console", "console" if backend == "stdio" else backend,
                            True, d.get("name", section[len("device."):]),
                            d.get("path", "")))
        elif kind == "block":
            if "index" in d:
                notes.append("# Kata remaps drive index %s to this disk's slot; "
                             "hvkit refuses a pool index" % d["index"])
                return notes + ["DIFFERS"]
            devices.append(("blk", d["path"], -1))
        elif kind == "vsock":
            return ["# Kata 3.1-3.9 appends a vhost-vsock device; hvkit's acrn "
                    "backend does not support vsock (NOT_SUPPORTED)", "DIFFERS"]

    args = ["@FAKE_ACRN_DM@", "-A", "-m", "%sM" % h.get("default_memory", "2048")]
    slot = 0
    for dev in devices:
        kind = dev[0]
        if slot == GVTG_SLOT:
            slot += 1
        if kind == "bridge":
            out = ["-s", "%d:0,hostbridge" % slot]
        elif kind == "lpc":
            # strings.Join([]string{"-l", "com1,stdio"}, "")
            out = ["-s", "%d:0,lpc" % slot, "-lcom1,stdio"]
        elif kind == "console":
            out = console_params(slot, dev[1], dev[2], dev[3], dev[4])
            if dev[1] == "console":
                notes.append("# Kata's stdio console (backend \"console\") "
                             "gets no backend string: '%d,virtio-console,@'; "
                             "hvkit writes acrn-dm's @stdio:stdio_port" % slot)
                return notes + ["DIFFERS"]
        elif kind == "blk":
            out = ["-s", "%d,virtio-blk,%s" % (slot, dev[1])]
        elif kind == "net":
            if not dev[1] or not dev[2]:
                # NetDevice.Valid() fails: Kata drops it silently.
                return ["# NetDevice.Valid() is false: Kata drops the device "
                        "silently; hvkit refuses it", "DIFFERS"]
            out = ["-s", "%d,virtio-net,%s,mac=%s" % (slot, dev[1], dev[2])]
        if out is None:
            continue  # invalid: skipped without using a slot
        args += out
        slot += 1

    if affinity >= len(APIC_IDS) - 1:
        affinity = -1
    args += ["--cpu_affinity", APIC_IDS[affinity + 1]]
    args += ["-k", h["kernel"], "-B", " ".join(params), name]
    return notes + args


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for conf in sorted(glob.glob(os.path.join(here, "*.conf"))):
        lines = model(conf)
        header = ("# Kata 3.x acrn-dm arguments for %s (written by kata-model.py)\n"
                  % os.path.basename(conf))
        with open(conf[:-len(".conf")] + ".kata", "w") as f:
            f.write(header + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
