#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A jailer for the tests (jailer_path), copied by e2e_install_jailer():
# run with the VMM's command line, it appends who runs it and with what
# to $0.log, leaves marks the test sees on the VMM (an environment
# variable, a resource limit) and execs the command line, as a jailer
# must.  Copies named otherwise do not exec: "jailer-fail" says why and
# exits 1, "jailer-fork" forks the VMM and exits, "jailer-stay" forks it
# and waits for it.
log="$0.log"
echo "uid=$(id -u) gid=$(id -g) pid=$$" >> "$log"
echo "argv=$*" >> "$log"
case "${0##*/}" in
  jailer-fail)
    echo "JAILER-SAYS: no confinement for this VMM" >&2
    exit 1 ;;
  jailer-fork)
    "$@" &
    echo "left=$!" >> "$log"
    exit 0 ;;
  jailer-stay)
    "$@" &
    echo "left=$!" >> "$log"
    wait
    exit $? ;;
esac
export HVKIT_TEST_JAILED=1
ulimit -S -n 4000
exec "$@"
