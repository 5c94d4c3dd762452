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
#                         line has hvkit.poweroff=1 (tests/guest/README.md).
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
for applet in sh mount insmod ls cat echo sleep poweroff reboot mkdir grep; do
  ln -s busybox "$root/bin/$applet"
done

# The modules virtio-blk, virtio-scsi (scsi-hd disks), virtio-net and the
# virtio console need (built as modules in the cloud kernel); compressed
# ones are unpacked so busybox insmod loads them.
modules="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk virtio_console"
modules="$modules scsi_common scsi_mod sd_mod virtio_scsi failover net_failover virtio_net"
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
nets() {
  for d in /sys/class/net/*; do
    [ -e "$d" ] && [ "${d##*/}" != lo ] && echo -n "${d##*/} "
  done
}
# Disks there at boot, before the ready marker (so a test that saw the
# marker has them too).
for n in $known; do say "HVKIT-BLOCK-PRESENT $n"; done
say "HVKIT-GUEST-READY"
if grep -q 'hvkit.poweroff=1' /proc/cmdline; then
  sleep 0.2
  poweroff -f
fi
online_new
cpus=$(cpus_online); say "HVKIT-CPUS $cpus"
mem=$(memtotal); say "HVKIT-MEMTOTAL $mem"
known_nets=" $(nets)"
while true; do
  for d in /sys/block/vd* /sys/block/sd*; do
    [ -e "$d" ] || continue
    n=${d##*/}
    case "$known" in
      *" $n "*) ;;
      *) known="$known$n "; say "HVKIT-BLOCK-ADDED $n" ;;
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
