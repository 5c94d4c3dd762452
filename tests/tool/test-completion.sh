#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Suite `tool`: drives the bash completion (tools/completion/hvkit.bash)
# the way bash does, against the built hvkit and the mock backend with a
# temporary state dir.
#
# usage: test-completion.sh HVKIT COMPLETION_SCRIPT SOURCE_ROOT
set -u
hvkit=$1
script=$2
srcdir=$3

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 700 "$tmp"
state=$tmp/state

n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=1; echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

# shellcheck source=/dev/null
source "$script" || { echo "Bail out! cannot source $script"; exit 1; }

# complete LINE: sets COMPREPLY as bash would for LINE with the cursor at
# its end.  COMP_WORDS splits at blanks and, as readline does with the
# default COMP_WORDBREAKS, around `=` and `:`.
complete_line () {
    local line=$1 word= c i
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMP_WORDS=()
    for ((i = 0; i < ${#line}; i++)); do
        c=${line:i:1}
        case $c in
            ' ') [[ -n $word ]] && COMP_WORDS+=("$word"); word= ;;
            '=' | ':') [[ -n $word ]] && COMP_WORDS+=("$word"); COMP_WORDS+=("$c"); word= ;;
            *) word+=$c ;;
        esac
    done
    if [[ -n $word || $line == *' ' ]]; then
        COMP_WORDS+=("$word")
    fi
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _hvkit
}

expect () {  # expect DESCRIPTION LINE WANTED... : COMPREPLY is exactly WANTED (sorted)
    local what=$1 line=$2; shift 2
    complete_line "$line"
    local got want
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
    want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
    if [[ $got == "$want" ]]; then
        ok "$what"
    else
        not_ok "$what" "line:   '$line'" "wanted: $want" "got:    $got"
    fi
}

expect_has () {  # expect_has DESCRIPTION LINE WANTED... : COMPREPLY holds each WANTED
    local what=$1 line=$2; shift 2
    complete_line "$line"
    local w missing=()
    for w in "$@"; do
        printf '%s\n' "${COMPREPLY[@]}" | grep -qxF -- "$w" || missing+=("$w")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        ok "$what"
    else
        not_ok "$what" "line:    '$line'" "missing: ${missing[*]}" "got:     ${COMPREPLY[*]}"
    fi
}

# Two mock VMs in the temporary state dir.
for id in vm-one vm-two; do
    "$hvkit" --state-dir "$state" start -c "$srcdir/examples/mock.conf" --id "$id" >/dev/null \
        || { echo "Bail out! hvkit start $id failed"; exit 1; }
done
# A stray directory without state.json is no VM, nor is a leftover.
mkdir -p "$state/not-a-vm" "$state/.removing-vm-x-abc"

H="$hvkit --state-dir $state"

expect "hvkit pa completes to pause" "$hvkit pa" pause
expect_has "every command of hvkit --help" "$hvkit " \
    backends check argv kernel-params run start status logs events stats console list pause resume save restore template shutdown reboot stop hotplug unplug resize balloon iotune
expect "global options" "$hvkit --st" --state-dir
expect "a VM id completes from the state dir" "$H status " vm-one vm-two
expect "a VM id prefix" "$H pause vm-t" vm-two
expect "stats completes a VM id" "$H stats vm-o" vm-one
expect_has "stats options" "$H stats vm-one --" --all --json --prometheus
expect "shutdown completes a VM id" "$H shutdown vm-t" vm-two
expect "template completes a VM id" "$H template vm-o" vm-one
expect "save completes a VM id" "$H save vm-o" vm-one
expect_has "save and restore options" "$H restore $state --" --id --paused
expect "events completes a VM id" "$H events vm-o" vm-one
expect "shutdown's option" "$H shutdown vm-two --t" --timeout
expect "--state-dir=DIR is honoured" "$hvkit --state-dir=$state stop vm-" vm-one vm-two
expect "no VM id after the first argument" "$H status vm-one " 
expect "command options from its --help" "$H resize vm-one --" --vcpus --memory
expect "balloon completes a VM id" "$H balloon vm-t" vm-two
expect_has "balloon options" "$H balloon vm-one --" --target --stats-interval --json
expect "a VM id after balloon --target MIB" "$H balloon --target 128 " vm-one vm-two
expect_has "short and long options" "$H argv -" -c --config --id --json
expect "the device option" "$H hotplug vm-one --dev" --device
expect_has "device kinds from backends --json" "$H hotplug vm-one --device " block, net, vfio,
expect "a device kind prefix" "$H hotplug vm-one --device bl" block,
expect_has "a kind's properties" "$H hotplug vm-one --device block," \
    block,id= block,path= block,format= block,readonly=
expect "a property prefix, after --device=" "$H hotplug vm-one --device=block,id=d1,for" "d1,format="
expect "a boolean property's values" "$H hotplug vm-one --device block,readonly=" true false

cd "$srcdir/examples" || exit 1
expect_has "configuration files" "$H check -c " mock.conf qemu.conf third-party-plugin/
expect "a configuration file prefix" "$H start -c mo" mock.conf
mkdir -p "$tmp/disks" && : >"$tmp/disks/d1.raw"
expect "a path property completes files" "$H hotplug vm-one --device block,path=$tmp/disks/d" \
    "$tmp/disks/d1.raw"

for dev in disk1 disk2; do
    "$hvkit" --state-dir "$state" hotplug vm-one \
        --device "block,id=$dev,path=$tmp/disks/d1.raw,format=raw" >/dev/null \
        || not_ok "hotplug $dev into vm-one"
done
expect "unplug --device-id completes the VM's hot-plugged devices" \
    "$H unplug vm-one --device-id " disk1 disk2
expect "a hot-plugged device prefix" "$H unplug vm-one --device-id=disk2" disk2
expect "no device in a VM without any" "$H unplug vm-two --device-id "
expect "iotune completes a VM id" "$H iotune vm-o" vm-one
expect_has "iotune's options" "$H iotune vm-one --" --device --bps --burst --iops --iops-burst --rx --tx --json
expect_has "iotune --device completes the VM's block and net devices" \
    "$H iotune vm-one --device " disk1 disk2

for id in vm-one vm-two; do
    "$hvkit" --state-dir "$state" stop "$id" >/dev/null 2>&1
done

echo "1..$n"
exit $failed
