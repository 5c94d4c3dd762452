#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# The acrn backend through the `hvkit` tool, with the stand-in acrn-dm and
# acrnctl: backends, argv, kernel-params, start (returns, VM keeps
# running), status, hotplug/unplug (the recorded blkrescan lines), an
# unsupported operation, stop (SIGINT seen, nothing left behind) and an
# early exit.  TAP output.
#
# Usage: test-acrn-tool.sh HVKIT FAKE_ACRN_DM FAKE_ACRNCTL
set -u

HVKIT=$1
FAKE_DM=$2
FAKE_CTL=$3

work=$(mktemp -d "${TMPDIR:-/tmp}/hvkit-acrn-tool-XXXXXX")
state="$work/state"
conf="$work/acrn.conf"
export HVKIT_FAKE_ACRN_LOG="$work/acrn-dm.args"
export HVKIT_FAKE_ACRNCTL_LOG="$work/acrnctl.args"
unset HVKIT_FAKE_ACRN_EXIT HVKIT_FAKE_ACRN_REFUSE HVKIT_FAKE_ACRN_IGNORE_SIGINT HVKIT_FAKE_ACRNCTL_FAIL
: > "$work/rootfs.img"
pid=0
# A failed run must not leave a stand-in behind.
trap '[ "$pid" -gt 0 ] && kill -9 "$pid" 2>/dev/null' EXIT

cat > "$conf" <<EOF
[hypervisor]
backend=acrn

[hypervisor.acrn]
path=$FAKE_DM
ctlpath=$FAKE_CTL
kernel=$work/vmlinuz
image=$work/rootfs.img
default_maxvcpus=1
default_memory=512

[device.net0]
kind=net
type=tap
ifname=tap0
mac=02:00:ca:fe:00:01
EOF

n=0
failed=0
ok () {
  n=$((n + 1))
  echo "ok $n - $1"
}
not_ok () {
  n=$((n + 1))
  failed=$((failed + 1))
  echo "not ok $n - $1"
  [ -f "$work/err" ] && sed 's/^/# stderr: /' "$work/err"
  [ -f "$work/out" ] && sed 's/^/# stdout: /' "$work/out"
}
check () {
  desc=$1
  shift
  if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
hv () {
  "$HVKIT" --state-dir "$state" "$@" > "$work/out" 2> "$work/err"
}
json () {
  # json FILE PYTHON-EXPRESSION-ON-d
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"
}
proc_alive () {
  # PID 1 may reap slowly: a zombie (Z) is dead.
  [ -r "/proc/$1/stat" ] || return 1
  st=$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)
  [ "$st" != Z ] && [ "$st" != X ]
}
proc_dead () {
  ! proc_alive "$1"
}


hv backends --json
check "backends lists acrn with block caps only" \
  json "$work/out" '[b["capabilities"] for b in d if b["name"] == "acrn"] == [["block-device", "block-device-hotplug"]]'

hv argv -c "$conf" --id demo --json
cat > "$work/check-argv.py" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d[0] == sys.argv[2], d[0]
assert d[1:4] == ["-A", "-m", "512M"], d[1:4]
assert d[4:10] == ["-s", "0:0,hostbridge", "-s", "1:0,lpc", "-l", "com1,stdio"], d[4:10]
assert "13,virtio-net,tap=tap0,mac=02:00:ca:fe:00:01" in d
i = d.index("--cpu_affinity")
assert d[i + 2] == "-k" and d[i + 4] == "-B", d[i:]
assert d[i + 5].endswith("panic=1 maxcpus=1"), d[i + 5]
assert "-U" not in d
assert d[-1] == "sbx-demo"
EOF
check "argv --json: -A -m, devices, --cpu_affinity, -k, -B, name last" \
  python3 "$work/check-argv.py" "$work/out" "$FAKE_DM"

hv kernel-params -c "$conf"
check "kernel-params ends with panic=1 maxcpus=1" grep -q 'root=/dev/vda1 rw rootwait quiet systemd.show_status=false panic=1 maxcpus=1$' "$work/out"

hv start -c "$conf" --id demo
check "start returns 0" [ $? -eq 0 ]

hv status demo --json
check "status: running, backend acrn, console socket" \
  json "$work/out" 'd["state"] == "running" and d["backend"] == "acrn" and d["console"].endswith("/demo/console.sock") and len(d["pids"]) == 1'
pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pids"][0])' "$work/out" 2>/dev/null || echo 0)
check "acrn-dm runs after hvkit returned" proc_alive "$pid"
check "acrn-dm got the argv, stays up" grep -qx running "$HVKIT_FAKE_ACRN_LOG"
check "the console socket exists" [ -S "$state/demo/console.sock" ]
# Field 6 of /proc/PID/stat (the 4th after the command name) is the session.
check "acrn-dm has its own session" \
  [ "$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f4)" = "$pid" ]

hv hotplug demo --device block,id=d1,path=/srv/d1.img,index=1
check "hotplug block index 1" [ $? -eq 0 ]
check "blkrescan on slot 5" grep -qx 'blkrescan sbx-demo 5,/srv/d1.img' "$HVKIT_FAKE_ACRNCTL_LOG"

hv hotplug demo --device block,id=d9,path=/srv/d9.img,index=9
rc=$?
check "hotplug index 9 fails (outside the pool)" sh -c "[ $rc -eq 1 ] && grep -q 'hvkit: error: .*outside the hotplug pool' '$work/err'"

hv pause demo
rc=$?
check "pause: not supported" sh -c "[ $rc -eq 1 ] && grep -q \"backend 'acrn' does not support pause_vm\" '$work/err'"

hv shutdown demo --timeout 1
rc=$?
check "shutdown: not supported, the VM left running" sh -c "[ $rc -eq 1 ] && grep -q \"backend 'acrn' does not support shutdown_vm\" '$work/err'"
check "acrn-dm still runs after the refused shutdown" proc_alive "$pid"
hv reboot demo
rc=$?
check "reboot: not supported" sh -c "[ $rc -eq 1 ] && grep -q \"backend 'acrn' does not support reboot_vm\" '$work/err'"
hv events demo
rc=$?
check "events: not supported" sh -c "[ $rc -eq 1 ] && grep -q \"backend 'acrn' does not support follow_events\" '$work/err'"
hv stats demo
rc=$?
check "stats: the process figures" sh -c "[ $rc -eq 0 ] && grep -q '^cpu.time_ns ' '$work/out' && grep -q '^memory.configured_bytes ' '$work/out'"

hv unplug demo --device-id d1
check "unplug d1" [ $? -eq 0 ]
check "blkrescan back to nodisk" grep -qx 'blkrescan sbx-demo 5,nodisk' "$HVKIT_FAKE_ACRNCTL_LOG"

hv stop demo
check "stop returns 0" [ $? -eq 0 ]
check "acrn-dm saw SIGINT and exited 0" sh -c "grep -qx SIGINT '$HVKIT_FAKE_ACRN_LOG' && grep -qx 'exit 0' '$HVKIT_FAKE_ACRN_LOG'"
check "acrn-dm is gone" proc_dead "$pid"
check "nothing left behind" sh -c "[ ! -e '$state/demo' ] && [ -z \"\$(ls -A '$state' | grep -v '^cpu_affinity_idx\$')\" ]"

HVKIT_FAKE_ACRN_EXIT=3 hv start -c "$conf" --id early
rc=$?
check "early exit: start fails with the exit code and stderr, leaves nothing" \
  sh -c "[ $rc -eq 1 ] && grep -q 'exit code 3' '$work/err' && grep -q 'guest died' '$work/err' && [ ! -e '$state/early' ]"

echo "1..$n"
if [ $failed -eq 0 ]; then
  rm -rf "$work"
fi
exit 0
