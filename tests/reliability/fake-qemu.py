#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A misbehaving stand-in for qemu-system-*, for fault-injection tests.

It parses what hvkit passes QEMU (-qmp unix:path=P,..., -pidfile F), runs
in the foreground as QEMU does under hvkit-monitor, writes the pid file and
serves QMP on the socket.  How it
misbehaves comes from HVK_FAKE_QEMU_MODE, a comma-separated list of:

  exit            exit 1 at once, before anything
  hang            writes its pid file and hangs: no QMP socket
  no-greet        the QMP socket accepts but never greets
  close-on=CMD    close the connection when CMD arrives (no reply)
  error-on=CMD    answer CMD with a QMP error
  malformed-on=CMD  answer CMD with malformed JSON
  storm=N         send N events after the greeting and before every reply

Without a mode it behaves: query-status, stop, cont, quit, device_del
(with its DEVICE_DELETED event) and {"return": {}} for the rest.  Every
command received is appended to HVK_FAKE_QEMU_LOG if set.
"""

import json
import os
import signal
import socket
import sys
import threading
import time


def split_opts(value):
    """Splits a QEMU option list on single commas (",," is a comma)."""
    parts, cur, i = [], "", 0
    while i < len(value):
        if value[i] == ",":
            if i + 1 < len(value) and value[i + 1] == ",":
                cur += ","
                i += 2
                continue
            parts.append(cur)
            cur = ""
        else:
            cur += value[i]
        i += 1
    parts.append(cur)
    return parts


def parse_args(argv):
    qmp = pidfile = None
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "-pidfile" and i + 1 < len(argv):
            pidfile = argv[i + 1]
            i += 1
        elif arg == "-qmp" and i + 1 < len(argv):
            opts = split_opts(argv[i + 1])
            # The first -qmp is the commands' socket; the second, the
            # events socket, is not served (nothing here follows events).
            if qmp is None and opts[0].startswith("unix:"):
                first = opts[0][len("unix:"):]
                qmp = first[len("path="):] if first.startswith("path=") else first
            i += 1
        i += 1
    return qmp, pidfile


def parse_mode():
    mode = {}
    for item in os.environ.get("HVK_FAKE_QEMU_MODE", "").split(","):
        if not item:
            continue
        key, _, value = item.partition("=")
        mode[key] = value
    return mode


def log_command(line):
    path = os.environ.get("HVK_FAKE_QEMU_LOG")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


class Conn:
    def __init__(self, sock, mode):
        self.sock = sock
        self.mode = mode
        self.buf = b""

    def send(self, obj_or_text):
        text = obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text)
        self.sock.sendall(text.encode() + b"\r\n")

    def storm(self):
        n = int(self.mode.get("storm", "0") or 0)
        if n <= 0:
            return
        chunk = []
        for k in range(n):
            chunk.append(json.dumps({"event": "RTC_CHANGE", "data": {"offset": k},
                                     "timestamp": {"seconds": k, "microseconds": 0}}))
        self.sock.sendall(("\r\n".join(chunk) + "\r\n").encode())

    def read_command(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode(errors="replace").strip()


def serve(conn, state):
    mode = conn.mode
    conn.send({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7},
                                   "package": "fake"}, "capabilities": []}})
    conn.storm()
    while True:
        line = conn.read_command()
        if line is None:
            return
        if not line:
            continue
        log_command(line)
        try:
            cmd = json.loads(line)
        except ValueError:
            conn.send({"error": {"class": "GenericError", "desc": "JSON parse error"}})
            continue
        name = cmd.get("execute", "")
        cid = cmd.get("id")

        def reply(obj):
            if cid is not None:
                obj["id"] = cid
            conn.storm()
            conn.send(obj)

        if mode.get("close-on") == name:
            return
        if mode.get("error-on") == name:
            reply({"error": {"class": "GenericError",
                             "desc": "fake QEMU refuses %s" % name}})
            continue
        if mode.get("malformed-on") == name:
            conn.storm()
            conn.send('{"return": {"status": "running", ]]]')
            continue
        if name == "query-status":
            reply({"return": {"status": state["status"],
                              "running": state["status"] == "running",
                              "singlestep": False}})
        elif name == "stop":
            state["status"] = "paused"
            reply({"return": {}})
        elif name == "cont":
            state["status"] = "running"
            reply({"return": {}})
        elif name == "quit":
            reply({"return": {}})
            state["quit"] = True
            return
        elif name == "device_del":
            reply({"return": {}})
            dev = (cmd.get("arguments") or {}).get("id", "")
            conn.send({"event": "DEVICE_DELETED", "data": {"device": dev, "path": dev},
                       "timestamp": {"seconds": 0, "microseconds": 0}})
        else:
            reply({"return": {}})


def watch_owner():
    """Exits with the test program (HVK_FAKE_QEMU_OWNER) if it dies
    without stopping us (a failed assertion aborts before any cleanup)."""
    owner = int(os.environ.get("HVK_FAKE_QEMU_OWNER", "0") or 0)
    if owner <= 0:
        return

    def watch():
        while True:
            time.sleep(0.5)
            try:
                os.kill(owner, 0)
            except ProcessLookupError:
                os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def main():
    mode = parse_mode()
    if "exit" in mode:
        sys.stderr.write("fake-qemu: told to exit at once\n")
        sys.exit(1)
    qmp, pidfile = parse_args(sys.argv)
    if qmp is None:
        sys.stderr.write("fake-qemu: no -qmp unix:path=...\n")
        sys.exit(1)

    if pidfile:
        with open(pidfile, "w") as f:
            f.write("%d\n" % os.getpid())

    if "hang" in mode:
        watch_owner()
        while True:
            time.sleep(3600)

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(qmp)
    listener.listen(4)
    watch_owner()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    state = {"status": "running", "quit": False}
    while not state["quit"]:
        sock, _ = listener.accept()
        if "no-greet" in mode:
            # Hold the connection, say nothing, until the client leaves.
            while sock.recv(4096):
                pass
            sock.close()
            continue
        try:
            serve(Conn(sock, mode), state)
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.close()
    listener.close()
    try:
        os.unlink(qmp)
    except OSError:
        pass
    if pidfile:
        try:
            os.unlink(pidfile)
        except OSError:
            pass


if __name__ == "__main__":
    main()
