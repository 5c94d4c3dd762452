#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the hvkit test guest into CACHE_DIR (idempotent):
#   CACHE_DIR/vmlinuz     the newest Debian 12 cloud kernel (linux-image-6.1.0-*-cloud-amd64)
#   CACHE_DIR/initrd.img  a busybox initramfs whose /init loads the virtio
#                         modules, prints HVKIT-GUEST-READY on hvc0 and ttyS0,
#                         then reports new block devices (HVKIT-BLOCK-ADDED vdb),
#                         network interfaces, its online vCPU count and
#                         MemTotal (onlining hot-added vCPUs and memory), and
#                         powers off after the marker when the kernel command
#                         line has hvkit.poweroff=1; more switches (counter,
#                         O_DIRECT I/O, NUMA, panic, tmpfs fill) in
#                         tests/guest/README.md.
# Needs: apt-get (Debian archive), dpkg, cpio, gzip, xz/zstd (modules),
# busybox-static.
set -euo pipefail

usage() { echo "usage: $0 CACHE_DIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
cache=$1
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

busybox=${BUSYBOX:-/bin/busybox}
# ldd succeeds only on dynamic executables; the initramfs has no libc.
if ! [ -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  echo "build-guest: $busybox is missing or not static (install busybox-static)" >&2
  exit 1
fi

# The newest cloud kernel the archive offers, unless one is already cached.
pkg=${HVKIT_GUEST_KERNEL_PKG:-}
if [ -z "$pkg" ]; then
  pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' 2>/dev/null \
          | awk '{print $1}' | sort -V | tail -n 1)
fi
if [ -z "$pkg" ]; then
  deb=$(ls "$cache"/linux-image-6.1.0-*-cloud-amd64_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$deb" ] || { echo "build-guest: no linux-image-6.1.0-*-cloud-amd64 in apt-cache (run apt-get update)" >&2; exit 1; }
else
  deb=$(ls "$cache"/"${pkg}"_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$deb" ]; then
    # A stale package list names files the mirror no longer has: refresh
    # it once and retry.
    if ! (cd "$cache" && apt-get download "$pkg" >/dev/null 2>&1); then
      apt-get update -qq >/dev/null 2>&1 || true
      (cd "$cache" && apt-get download "$pkg" >/dev/null 2>&1) \
        || { echo "build-guest: apt-get download $pkg failed" >&2; exit 1; }
    fi
    deb=$(ls "$cache"/"${pkg}"_*.deb | sort -V | tail -n 1)
  fi
fi

stamp="$cache/.stamp"
want="$(basename "$deb") $(sha256sum "$0" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
   && [ -s "$cache/vmlinuz" ] && [ -s "$cache/initrd.img" ]; then
  echo "build-guest: up to date in $cache"
  exit 0
fi

work=$(mktemp -d "$cache/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

dpkg -x "$deb" "$work/pkg"
vmlinuz=$(ls "$work"/pkg/boot/vmlinuz-* | head -n 1)
kver=${vmlinuz##*/vmlinuz-}
moddir="$work/pkg/lib/modules/$kver"

root="$work/root"
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,lib/modules}
cp "$busybox" "$root/bin/busybox"
for applet in sh mount umount insmod ls cat echo sleep poweroff reboot mkdir grep dd rm; do
  ln -s busybox "$root/bin/$applet"
done

# The modules virtio-blk, virtio-scsi (scsi-hd disks), virtio-net and the
# virtio console need (built as modules in the cloud kernel); compressed
# ones are unpacked so busybox insmod loads them.
modules="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk virtio_console"
modules="$modules scsi_common scsi_mod sd_mod virtio_scsi failover net_failover virtio_net"
# Elastic memory and panics: virtio-mem, the balloon, pvpanic (ISA/ACPI
# and PCI).
modules="$modules virtio_mem virtio_balloon pvpanic pvpanic-mmio pvpanic-pci"
# The ACPI power button and the input events it sends (`hvkit shutdown`).
modules="$modules button evdev"
for m in $modules; do
  f=$(find "$moddir" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" | head -n 1)
  if [ -z "$f" ]; then
    # Built into the kernel: nothing to load.
    continue
  fi
  case "$f" in
    *.xz) xz -dc "$f" > "$root/lib/modules/$m.ko" ;;
    *.zst) zstd -qdc "$f" > "$root/lib/modules/$m.ko" ;;
    *.gz) gzip -dc "$f" > "$root/lib/modules/$m.ko" ;;
    *) cp "$f" "$root/lib/modules/$m.ko" ;;
  esac
done

cat > "$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Modules depend on each other: a few passes load them in any order.
for pass in 1 2 3 4 5; do
  for m in /lib/modules/*.ko; do
    [ -e "$m" ] || continue
    insmod "$m" 2>/dev/null
  done
done
say() {
  for c in /dev/hvc0 /dev/ttyS0; do
    [ -c "$c" ] && echo "$1" > "$c" 2>/dev/null
  done
}
# The virtio console shows up once virtio_console has probed.
i=0
while [ ! -c /dev/hvc0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
known=" "
for d in /sys/block/vd* /sys/block/sd*; do
  [ -e "$d" ] && known="$known${d##*/} "
done
# Hot-added vCPUs and memory blocks arrive offline (no udev here): online
# them.  Only CPUs not seen before, so a CPU the kernel offlines on its way
# out (ACPI eject) is not brought back.
known_cpus=" "
for c in /sys/devices/system/cpu/cpu[0-9]*; do
  [ -e "$c" ] && known_cpus="$known_cpus${c##*/} "
done
online_new() {
  for c in /sys/devices/system/cpu/cpu[0-9]*; do
    [ -e "$c" ] || continue
    n=${c##*/}
    case "$known_cpus" in
      *" $n "*) ;;
      *) known_cpus="$known_cpus$n "
         if [ -e "$c/online" ] && read v < "$c/online" && [ "$v" = 0 ]; then
           echo 1 > "$c/online" 2>/dev/null
         fi ;;
    esac
  done
  for m in /sys/devices/system/memory/memory[0-9]*; do
    [ -e "$m/state" ] || continue
    read v < "$m/state" || continue
    [ "$v" = offline ] && echo online > "$m/state" 2>/dev/null
  done
}
cpus_online() {
  n=0
  for c in /sys/devices/system/cpu/cpu[0-9]*; do
    [ -e "$c" ] || continue
    v=1
    [ -e "$c/online" ] && read v < "$c/online"
    [ "$v" = 1 ] && n=$((n + 1))
  done
  echo $n
}
memtotal() {
  while read k v u; do
    [ "$k" = MemTotal: ] && { echo "$v"; return; }
  done < /proc/meminfo
}
# hvkit.NAME=VALUE from the kernel command line (empty if absent).
arg() {
  for w in $(cat /proc/cmdline); do
    case "$w" in "hvkit.$1="*) echo "${w#*=}"; return ;; esac
  done
}
# Milliseconds since boot (/proc/uptime has centiseconds).
uptime_ms() {
  read u rest < /proc/uptime
  c=${u#*.}; c=${c#0}
  echo $(( ${u%.*} * 1000 + c * 10 ))
}
numa_online() {
  v=-
  [ -e /sys/devices/system/node/online ] && read v < /sys/devices/system/node/online
  echo "$v"
}
# HVKIT-NUMA-DISTANCE node1 20 10: one line per node, its distance row.
numa_report() {
  say "HVKIT-NUMA-ONLINE $(numa_online)"
  for d in /sys/devices/system/node/node[0-9]*; do
    [ -e "$d/distance" ] || continue
    read row < "$d/distance"
    say "HVKIT-NUMA-DISTANCE ${d##*/} $row"
  done
}
# O_DIRECT reads and writes on a disk, timed in the guest: what the
# rate-limit and statistics tests measure.
dio() {
  if [ -n "$dio_read_mb" ]; then
    t0=$(uptime_ms)
    if dd if="/dev/$1" of=/dev/null bs=1M count="$dio_read_mb" iflag=direct 2>/dev/null; then
      t1=$(uptime_ms); say "HVKIT-DIO-READ $1 $((dio_read_mb * 1048576)) $((t1 - t0))"
    else
      say "HVKIT-DIO-READ-FAILED $1"
    fi
  fi
  if [ -n "$dio_write_mb" ]; then
    t0=$(uptime_ms)
    if dd if=/dev/zero of="/dev/$1" bs=1M count="$dio_write_mb" oflag=direct 2>/dev/null; then
      t1=$(uptime_ms); say "HVKIT-DIO-WRITE $1 $((dio_write_mb * 1048576)) $((t1 - t0))"
    else
      say "HVKIT-DIO-WRITE-FAILED $1"
    fi
  fi
}
nets() {
  for d in /sys/class/net/*; do
    [ -e "$d" ] && [ "${d##*/}" != lo ] && echo -n "${d##*/} "
  done
}
# Disks there at boot, before the ready marker (so a test that saw the
# marker has them too).
for n in $known; do say "HVKIT-BLOCK-PRESENT $n"; done
say "HVKIT-GUEST-READY"
# The ACPI power button (QMP system_powerdown: `hvkit shutdown`): power
# off as an init system would, on the button's first input event (24
# bytes each).
for e in /sys/class/input/event*; do
  [ -e "$e/device/name" ] || continue
  read name < "$e/device/name"
  if [ "$name" = "Power Button" ]; then
    ( dd if="/dev/input/${e##*/}" of=/dev/null bs=24 count=1 2>/dev/null
      say "HVKIT-POWER-BUTTON"; sleep 0.1; poweroff -f ) &
  fi
done
if [ "$(arg poweroff)" = 1 ]; then
  sleep 0.2
  poweroff -f
fi
if [ "$(arg panic)" = 1 ]; then
  # A kernel panic (pvpanic tells the host), 0.2 s after the marker.
  sleep 0.2
  echo 1 > /proc/sys/kernel/sysrq
  echo c > /proc/sysrq-trigger
fi
dio_read_mb=$(arg dio_read_mb)
dio_write_mb=$(arg dio_write_mb)
if [ "$(arg counter)" = 1 ]; then
  # A counter four times a second: a restored guest goes on counting.
  ( n=0; while true; do n=$((n + 1)); say "HVKIT-COUNTER $n"; sleep 0.25; done ) &
fi
fill_mb=$(arg fill_mb)
if [ -n "$fill_mb" ]; then
  # Fill tmpfs, hold it for hvkit.fill_hold_s (default 2) seconds, free
  # it: freed pages the balloon may report to the host.
  (
    mkdir -p /fill && mount -t tmpfs -o size=$((fill_mb + 16))m tmpfs /fill
    dd if=/dev/zero of=/fill/data bs=1M count="$fill_mb" 2>/dev/null
    say "HVKIT-FILLED $fill_mb $(memtotal)"
    hold=$(arg fill_hold_s); sleep "${hold:-2}"
    rm -f /fill/data; umount /fill
    say "HVKIT-FREED $fill_mb"
  ) &
fi
online_new
cpus=$(cpus_online); say "HVKIT-CPUS $cpus"
mem=$(memtotal); say "HVKIT-MEMTOTAL $mem"
numa=$(numa_online); numa_report
for n in $known; do dio "$n"; done
known_nets=" $(nets)"
while true; do
  for d in /sys/block/vd* /sys/block/sd*; do
    [ -e "$d" ] || continue
    n=${d##*/}
    case "$known" in
      *" $n "*) ;;
      *) known="$known$n "; say "HVKIT-BLOCK-ADDED $n"; dio "$n" ;;
    esac
  done
  now=" "
  for n in $known; do
    if [ -e "/sys/block/$n" ]; then now="$now$n "; else say "HVKIT-BLOCK-REMOVED $n"; fi
  done
  known=$now
  online_new
  v=$(cpus_online)
  [ "$v" != "$cpus" ] && { cpus=$v; say "HVKIT-CPUS $cpus"; }
  v=$(memtotal)
  [ "$v" != "$mem" ] && { mem=$v; say "HVKIT-MEMTOTAL $mem"; }
  v=$(numa_online)
  [ "$v" != "$numa" ] && { numa=$v; numa_report; }
  now=" $(nets)"
  for n in $now; do
    case "$known_nets" in *" $n "*) ;; *) say "HVKIT-NET-ADDED $n" ;; esac
  done
  for n in $known_nets; do
    case "$now" in *" $n "*) ;; *) say "HVKIT-NET-REMOVED $n" ;; esac
  done
  known_nets=$now
  sleep 0.2
done
INIT
chmod 755 "$root/init"

cp "$vmlinuz" "$cache/vmlinuz.tmp"
(cd "$root" && find . | sort | cpio -o -H newc --quiet -R 0:0) | gzip -9 > "$cache/initrd.img.tmp"
mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
mv "$cache/initrd.img.tmp" "$cache/initrd.img"
echo "$want" > "$stamp"
echo "build-guest: built $cache/vmlinuz ($kver) and $cache/initrd.img"
