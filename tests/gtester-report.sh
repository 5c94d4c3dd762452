#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs the unit test programs through gtester and renders an HTML report.
#   gtester-report.sh GTESTER GTESTER_REPORT BUILD_DIR PROGRAM...
# Writes BUILD_DIR/gtester-report.xml and BUILD_DIR/gtester-report.html.
# The environment (HVKIT_PLUGIN_PATH …) comes from the run target.
set -eu

gtester=$1
gtester_report=$2
build_dir=$3
shift 3

xml="$build_dir/gtester-report.xml"
html="$build_dir/gtester-report.html"

# gtester itself must not die on its own criticals (it emits some around
# g_test_trap_subprocess() tests); the test programs stay strict anyway,
# g_test_init() makes their warnings and criticals fatal.
G_DEBUG=gc-friendly
export G_DEBUG

# -k: keep going past failures, so the report shows all of them.
status=0
"$gtester" -k -o "$xml" "$@" || status=$?
"$gtester_report" "$xml" > "$html"
echo "gtester-report: $html"
exit "$status"
