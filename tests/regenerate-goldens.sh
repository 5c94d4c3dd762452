#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `ninja -C BUILD regenerate-goldens` (or `meson compile -C BUILD
# regenerate-goldens`): runs the golden programs given after SRCDIR so
# that they rewrite their expected files instead of comparing, then shows
# what changed under SRCDIR/tests/golden.  The only way to regenerate:
# HVKIT_TEST_REGENERATE=1 without HVKIT_TEST_REGENERATE_OK=1 fails the
# golden tests, and both fail them while CI is set.
set -u
srcdir=$1
shift

export HVKIT_TEST_REGENERATE=1
export HVKIT_TEST_REGENERATE_OK=1

status=0
for program in "$@"; do
  echo "=== regenerating with $(basename "$program")"
  "$program" || status=1
done

echo
if [ "$status" -ne 0 ]; then
  echo "######## regenerate-goldens FAILED (see above): nothing to review ########"
  exit "$status"
fi
echo "######## GOLDEN FILES REGENERATED: review the diff before committing ########"
if command -v git >/dev/null 2>&1 && git -C "$srcdir" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$srcdir" status --short -- tests/golden
  git -C "$srcdir" --no-pager diff --stat -- tests/golden
fi
exit 0
