#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""hvkit from Python: boot the test guest under QEMU (TCG), pause and
resume it, hot-plug a disk, read its state and capabilities, stop it.

    bash .ci/setup       # hvkit under /usr/local, python3-gi, the test guest
    GI_TYPELIB_PATH=/usr/local/lib/x86_64-linux-gnu/girepository-1.0 \
        /usr/bin/python3 examples/hello-qemu.py [CONFIG]

or, from the build tree without installing (devenv sets GI_TYPELIB_PATH,
LD_LIBRARY_PATH and HVKIT_PLUGIN_PATH):

    meson devenv -C build /usr/bin/python3 ../examples/hello-qemu.py

CONFIG defaults to examples/qemu.conf.  The guest's kernel and initrd are
taken from $HVKIT_TEST_GUEST_DIR (default /var/lib/hvkit/guest), QEMU from
$HVKIT_TEST_QEMU if set.  Exits 77 when QEMU or the guest is missing (the
e2e suite counts that as a skip).
"""

import os
import sys
import tempfile

try:
    import gi
except ImportError:
    print("SKIP: python3-gi is not installed")
    sys.exit(77)

gi.require_version("Hvk", "1.0")
from gi.repository import GLib, Hvk  # noqa: E402

SKIP = 77


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    conf = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "qemu.conf")
    guest = os.environ.get("HVKIT_TEST_GUEST_DIR") or "/var/lib/hvkit/guest"
    kernel = os.path.join(guest, "vmlinuz")
    initrd = os.path.join(guest, "initrd.img")

    # The registry loads the backend plugins (HVKIT_PLUGIN_PATH, then the
    # installed ones).
    registry = Hvk.Registry.get_default()
    print("backends:", ", ".join(b.get_name() for b in registry.get_backends()))

    # A bad configuration is a GLib.Error in the hvk-error domain.
    try:
        Hvk.Config.new_from_data("[hypervisor]\nbackend=qemu\n"
                                 "[hypervisor.qemu]\ndefault_vcpus=abc\n",
                                 -1, "bad.conf", registry)
    except GLib.Error as e:
        assert e.matches(Hvk.error_quark(), Hvk.Error.INVALID_CONFIG), e
        print("bad config:", e.message)

    config = Hvk.Config.new_from_file(conf, registry)
    qemu = os.environ.get("HVKIT_TEST_QEMU") or config.get_string("path")
    config.set_string("path", qemu)
    if not os.access(qemu, os.X_OK):
        print("SKIP: QEMU %s is not installed" % qemu)
        return SKIP
    if not (os.path.exists(kernel) and os.path.exists(initrd)):
        print("SKIP: no test guest in %s (tests/guest/build-guest.sh)" % guest)
        return SKIP
    config.set_string("kernel", kernel)
    config.set_string("initrd", initrd)
    # Keep the guest running (examples/qemu.conf powers it off once booted).
    config.set_from_string("kernel_params", "")

    with tempfile.TemporaryDirectory(prefix="hvkit-hello-") as tmp:
        os.chmod(tmp, 0o700)
        # The VM's sockets, pid file and state.json go to TMP/ID/.
        config.set_vm_store_path(tmp)
        hv = registry.create_hypervisor(config)
        try:
            hv.create_vm("hello", config)
            hv.start_vm(Hvk.DEFAULT_START_TIMEOUT_MS * 4, None)
            print("state:", Hvk.vm_state_to_string(hv.get_state()),
                  "pids:", list(hv.get_pids()))
            print("capabilities:", Hvk.capabilities_to_string(hv.capabilities()))

            hv.pause_vm(None)
            assert hv.get_state() == Hvk.VmState.PAUSED
            hv.resume_vm(None)
            assert hv.get_state() == Hvk.VmState.RUNNING
            print("paused and resumed")

            disk = os.path.join(tmp, "disk1.raw")
            with open(disk, "wb") as f:
                f.truncate(64 << 20)
            device = Hvk.Device.new_from_string(
                registry, "block,id=disk1,path=%s,format=raw" % disk)
            hv.hotplug_add_device(device, None)
            print("hot-plugged:",
                  ", ".join(d.to_string() for d in hv.get_hotplugged_devices()))
        finally:
            if hv.get_state() not in (Hvk.VmState.NONE, Hvk.VmState.STOPPED):
                hv.stop_vm(False, None)
        assert hv.get_state() == Hvk.VmState.STOPPED
        print("state:", Hvk.vm_state_to_string(hv.get_state()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
