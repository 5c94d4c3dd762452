#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Runs the hvkit benchmarks (bench/README.md):
#
#   bench/run.sh [BUILD_DIR] [hvk-bench options…]
#   meson compile -C BUILD_DIR bench
#
# Needs the test guest (/var/lib/hvkit/guest, tests/guest/build-guest.sh)
# and QEMU.  The libvirt comparison runs when libvirtd and virsh are
# installed (apt-get install libvirt-daemon-system libvirt-clients) and
# this runs as root: the script starts virtlogd and libvirtd by hand (no
# systemd), with QEMU running as root, and stops them at the end.
# HVK_BENCH_LIBVIRT=0 skips it; HVK_BENCH_ARGS adds hvk-bench options
# (e.g. for `meson compile bench`: HVK_BENCH_ARGS="--reps 5").
set -eu

build=${1:-build}
[ $# -gt 0 ] && shift
build=$(cd "$build" && pwd)
bench="$build/bench/hvk-bench"
hvkit="$build/tools/hvkit"
[ -x "$bench" ] || { echo "bench: no $bench; run ninja -C $build first" >&2; exit 1; }

: "${HVKIT_PLUGIN_PATH:=$build/plugins/mock:$build/plugins/qemu:$build/plugins/acrn}"
: "${HVKIT_MONITOR:=$build/tools/hvkit-monitor}"
export HVKIT_MONITOR
HVKIT_PLUGIN_SYSTEM_PATH=
export HVKIT_PLUGIN_PATH HVKIT_PLUGIN_SYSTEM_PATH

started=""
qemu_conf=/etc/libvirt/qemu.conf
qemu_conf_saved=""

stop_libvirt () {
  # A failed run may leave the benchmark's transient domain behind.
  if [ -n "$started" ]; then
    virsh -q -c qemu:///system destroy hvkbench >/dev/null 2>&1 || true
  fi
  for pidfile in $started; do
    pid=$(cat "$pidfile" 2>/dev/null || true)
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null || true
  done
  started=""
  if [ -n "$qemu_conf_saved" ]; then
    mv "$qemu_conf_saved" "$qemu_conf"
    qemu_conf_saved=""
  fi
}
trap stop_libvirt EXIT INT TERM

libvirt_pids=""
if [ "${HVK_BENCH_LIBVIRT:-1}" = 0 ]; then
  echo "bench: libvirt: skipped (HVK_BENCH_LIBVIRT=0)" >&2
elif ! command -v libvirtd >/dev/null 2>&1 || ! command -v virsh >/dev/null 2>&1; then
  echo "bench: libvirt: skipped: libvirtd/virsh not installed (apt-get install libvirt-daemon-system libvirt-clients)" >&2
elif [ "$(id -u)" != 0 ]; then
  echo "bench: libvirt: skipped: starting libvirtd needs root" >&2
else
  # QEMU as root, no confinement: the guest files and sockets are ours.
  if [ -f "$qemu_conf" ] && ! grep -q '^user = "root"' "$qemu_conf"; then
    qemu_conf_saved="$qemu_conf.hvk-bench"
    cp "$qemu_conf" "$qemu_conf_saved"
    printf 'user = "root"\ngroup = "root"\nsecurity_driver = "none"\n' >> "$qemu_conf"
  fi
  if ! pgrep -x virtlogd >/dev/null 2>&1; then
    virtlogd -d && started="$started /run/virtlogd.pid"
  fi
  if ! pgrep -x libvirtd >/dev/null 2>&1; then
    libvirtd -d && started="$started /run/libvirtd.pid"
  fi
  i=0
  until virsh -q -c qemu:///system version >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
      echo "bench: libvirt: skipped: libvirtd did not answer within 10 s" >&2
      break
    fi
    sleep 0.1
  done
  for pidfile in /run/libvirtd.pid /run/virtlogd.pid; do
    [ -f "$pidfile" ] && libvirt_pids="$libvirt_pids${libvirt_pids:+,}$(cat "$pidfile")"
  done
fi

# shellcheck disable=SC2086  # options, split on purpose
set -- --hvkit "$hvkit" "$@" ${HVK_BENCH_ARGS:-}
[ -n "$libvirt_pids" ] && set -- --libvirt-pids "$libvirt_pids" "$@"
"$bench" "$@"
