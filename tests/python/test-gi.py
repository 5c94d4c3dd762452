#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Suite `python`: the library through GObject introspection, as a Python
user would drive it (`from gi.repository import Hvk`), on the mock backend.

Run by meson with GI_TYPELIB_PATH and LD_LIBRARY_PATH pointing into the
build tree and HVKIT_PLUGIN_PATH at the build tree's plugins.
"""

import os
import sys
import tempfile
import unittest

try:
    import gi
except ImportError:
    print("SKIP: python3-gi is not installed")
    sys.exit(77)

gi.require_version("Hvk", "1.0")
from gi.repository import GLib, Hvk  # noqa: E402

MOCK_CONF = """\
[hypervisor]
backend=mock

[hypervisor.mock]
kernel=/var/lib/hvkit/guest/vmlinuz
initrd=/var/lib/hvkit/guest/initrd.img
default_vcpus=1
default_maxvcpus=4
default_memory=256
default_maxmemory=1024

[device.disk0]
kind=block
path=/var/lib/hvkit/disk.img
format=raw
"""


class TestIntrospection(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="hvkit-gi-")
        os.chmod(self.tmp.name, 0o700)
        self.conf = os.path.join(self.tmp.name, "mock.conf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(MOCK_CONF)
        self.registry = Hvk.Registry.get_default()

    def tearDown(self):
        self.tmp.cleanup()

    def test_registry(self):
        names = [b.get_name() for b in self.registry.get_backends()]
        self.assertIn("mock", names)
        self.assertIn("qemu", names)
        plugins = [p.get_name() for p in self.registry.get_plugins()]
        self.assertIn("mock", plugins)
        kind = self.registry.lookup_device_kind("block")
        self.assertIsNotNone(kind)
        self.assertEqual(kind.get_name(), "block")

    def test_config(self):
        config = Hvk.Config.new_from_file(self.conf, self.registry)
        self.assertEqual(config.get_backend(), "mock")
        self.assertEqual(config.get_uint("default_memory"), 256)
        self.assertEqual(config.get_num_vcpus(), 1)
        devices = config.get_devices()
        self.assertEqual([d.get_id() for d in devices], ["disk0"])
        self.assertEqual(devices[0].get_kind_name(), "block")
        self.assertEqual(devices[0].get_string("format"), "raw")
        data, length = config.to_data()
        self.assertIn("backend=mock", data)
        self.assertEqual(length, len(data.encode()))

    def test_lifecycle(self):
        config = Hvk.Config.new_from_file(self.conf, self.registry)
        config.set_vm_store_path(self.tmp.name)
        hv = self.registry.create_hypervisor(config)
        self.assertIsInstance(hv, Hvk.Hypervisor)
        self.assertEqual(hv.get_backend_name(), "mock")
        self.assertEqual(hv.get_state(), Hvk.VmState.NONE)

        self.assertTrue(hv.create_vm("gi-demo", config))
        self.assertEqual(hv.get_state(), Hvk.VmState.CREATED)
        hv.start_vm(Hvk.DEFAULT_START_TIMEOUT_MS, None)
        self.assertEqual(hv.get_state(), Hvk.VmState.RUNNING)
        self.assertEqual(Hvk.vm_state_to_string(hv.get_state()), "running")

        caps = hv.capabilities()
        self.assertTrue(caps & Hvk.Capabilities.PAUSE_RESUME)
        self.assertIn("pause-resume", Hvk.capabilities_to_strv(caps))

        hv.pause_vm(None)
        self.assertEqual(hv.get_state(), Hvk.VmState.PAUSED)
        hv.resume_vm(None)
        self.assertEqual(hv.get_state(), Hvk.VmState.RUNNING)

        disk = os.path.join(self.tmp.name, "disk1.raw")
        device = Hvk.Device.new_from_string(
            self.registry, "block,id=disk1,path=%s,format=raw" % disk)
        self.assertEqual(device.get_id(), "disk1")
        hv.hotplug_add_device(device, None)
        plugged = hv.get_hotplugged_devices()
        self.assertEqual([d.get_id() for d in plugged], ["disk1"])
        self.assertEqual(plugged[0].get_string("path"), disk)

        # Statistics: keys, values, and the Prometheus text.
        stats = hv.get_stats(None)
        keys = stats.get_keys()
        self.assertEqual(keys[0], "cpu.time_ns")
        self.assertIn("block.disk1.wr_bytes", keys)
        found, memory = stats.lookup("memory.configured_bytes")
        self.assertTrue(found)
        self.assertEqual(memory, 256 * 1024 * 1024)
        text = Hvk.stats_format_prometheus(["gi-demo"], [stats])
        self.assertIn('hvkit_vm_memory_configured_bytes{id="gi-demo"} 268435456', text)

        pids = hv.get_pids()
        self.assertIsInstance(pids, list)

        hv.hotplug_remove_device("disk1", None)
        self.assertEqual(list(hv.get_hotplugged_devices() or []), [])

        # Events, as a signal detailed by their name.
        seen = []
        hv.connect("event", lambda _hv, name, data: seen.append(name))
        hv.connect("event::RESET", lambda _hv, name, data: seen.append("reset!"))

        # Reset, then power off as the button asks; stop releases the rest.
        hv.reboot_vm(None)
        self.assertEqual(hv.get_state(), Hvk.VmState.RUNNING)
        self.assertTrue(hv.shutdown_vm(5000, None))
        self.assertEqual(hv.get_state(), Hvk.VmState.STOPPED)
        self.assertTrue(hv.follow_events(None))
        self.assertEqual(seen[-5:], ["RESET", "reset!", "POWERDOWN", "SHUTDOWN", "exited"])
        hv.stop_vm(False, None)
        self.assertEqual(hv.get_state(), Hvk.VmState.STOPPED)

        # A stopped VM refuses to pause, in the hvk-error domain.
        with self.assertRaises(GLib.Error) as cm:
            hv.pause_vm(None)
        self.assertEqual(cm.exception.domain, "hvk-error-quark")
        self.assertEqual(cm.exception.code, Hvk.Error.STATE)

    def test_store(self):
        """A VM saved in a state dir is found and taken over, as a second
        process (another `hvkit`) would."""
        config = Hvk.Config.new_from_file(self.conf, self.registry)
        config.set_vm_store_path(self.tmp.name)
        hv = self.registry.create_hypervisor(config)
        hv.create_vm("gi-store", config)
        hv.bind_store(self.tmp.name, "gi-store")
        hv.start_vm(0, None)
        Hvk.vm_store_save_hypervisor(self.tmp.name, "gi-store", hv)
        self.assertEqual(Hvk.vm_store_list(self.tmp.name), ["gi-store"])

        other = Hvk.vm_store_load_hypervisor(self.tmp.name, "gi-store", self.registry)
        self.assertEqual(other.get_state(), Hvk.VmState.RUNNING)
        self.assertEqual(other.get_config().get_backend(), "mock")
        ok, argv, cmdline = other.get_launch_command()
        self.assertTrue(ok)
        self.assertIn("gi-store", argv)
        ok, old, new = other.resize_vcpus(2, None)
        self.assertEqual((old, new), (1, 2))
        other.stop_vm(False, None)
        self.assertEqual(other.get_state(), Hvk.VmState.STOPPED)

        keys = [k.name for k in Hvk.Config.get_core_keys()]
        self.assertIn("default_memory", keys)

    def test_bad_config(self):
        with self.assertRaises(GLib.Error) as cm:
            Hvk.Config.new_from_data(
                "[hypervisor]\nbackend=mock\n[hypervisor.mock]\ndefault_vcpus=abc\n",
                -1, "bad.conf", self.registry)
        err = cm.exception
        self.assertEqual(err.domain, GLib.quark_to_string(Hvk.error_quark()))
        self.assertTrue(err.matches(Hvk.error_quark(), Hvk.Error.INVALID_CONFIG))
        self.assertEqual(err.code, Hvk.Error.INVALID_CONFIG)
        self.assertIn("bad.conf: [hypervisor.mock] default_vcpus", err.message)

        with self.assertRaises(GLib.Error) as cm:
            Hvk.Config.new_from_file(os.path.join(self.tmp.name, "nope.conf"),
                                     self.registry)
        self.assertEqual(cm.exception.code, Hvk.Error.NOT_FOUND)

    def test_refused_key(self):
        # A key the backend cannot honour: listed with its reason, and a
        # configuration that sets it fails validation, naming it.
        refused = {k.name: k.reason for k in self.registry.get_refused_keys("mock")}
        self.assertIn("jailer_path", refused)
        self.assertEqual(self.registry.lookup_refused_key("mock", "jailer_path"),
                         refused["jailer_path"])
        config = Hvk.Config.new_from_data(
            "[hypervisor]\nbackend=mock\n[hypervisor.mock]\nkernel=/k\ninitrd=/i\n"
            "jailer_path=/usr/bin/jailer\n", -1, "jail.conf", self.registry)
        with self.assertRaises(GLib.Error) as cm:
            config.validate()
        self.assertTrue(cm.exception.matches(Hvk.error_quark(), Hvk.Error.NOT_SUPPORTED))
        self.assertIn("jail.conf: [hypervisor.mock] jailer_path: not supported by backend 'mock'",
                      cm.exception.message)


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=[sys.argv[0]])
