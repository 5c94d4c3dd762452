#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Out-of-tree plugin test: install the build tree into a temporary DESTDIR,
# build examples/third-party-plugin with make against the installed
# hvkit-1.pc only, and load the result through HVKIT_PLUGIN_PATH.
#
# usage: test-third-party.sh BUILD_ROOT SOURCE_ROOT LOADER
# Prints TAP.  Everything it makes lives in one temporary directory,
# removed at the end.

set -u

build=$1
source=$2
loader=$3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hvk-third-party-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
# Shows a command's output as TAP diagnostics.
diag () { sed 's/^/# /' "$1"; }
bail () { echo "Bail out! $1"; exit 1; }

echo "TAP version 13"
echo "1..8"

# 1. Install.
dest=$tmp/dest
if meson install -C "$build" --destdir "$dest" --no-rebuild --quiet \
     >"$tmp/install.log" 2>&1; then
  ok "meson install --destdir"
else
  not_ok "meson install --destdir"
  diag "$tmp/install.log"
  bail "cannot install the build tree"
fi

pc=$(find "$dest" -name hvkit-1.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || bail "no hvkit-1.pc installed under $dest"
PKG_CONFIG_PATH=$(dirname "$pc")
PKG_CONFIG_SYSROOT_DIR=$dest
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

# 2. The pkg-config variables plugin authors use.  The prefix is the
# build's, so the installed file must sit under DESTDIR + that prefix.
prefix=$(pkg-config --variable=prefix hvkit-1)
pluginsdir=$(pkg-config --variable=pluginsdir hvkit-1)
case $pluginsdir in
  "$dest"*) pluginsdir=${pluginsdir#"$dest"} ;;
esac
case $prefix in
  "$dest"*) prefix=${prefix#"$dest"} ;;
esac
case $pluginsdir in
  "$prefix"/*/hvkit-1/plugins) ok "pluginsdir is $pluginsdir" ;;
  *) not_ok "pluginsdir '$pluginsdir' is not PREFIX/LIBDIR/hvkit-1/plugins (prefix '$prefix')" ;;
esac

abi=$(pkg-config --variable=plugin_abi_version hvkit-1)
expected_abi=$(sed -n 's/^#define HVK_PLUGIN_ABI_VERSION \([0-9]*\)$/\1/p' \
                 "$build/include/hvkit/hvk-version.h")
if [ -n "$abi" ] && [ "$abi" = "$expected_abi" ]; then
  ok "plugin_abi_version is $abi"
else
  not_ok "plugin_abi_version '$abi', expected '$expected_abi'"
fi

# 3. Build the example out of tree, from a copy, with its own Makefile.
# The sysroot prefixes every -I/-L of every package, glib's included: make
# the system directories visible inside DESTDIR through symlinks (only
# where DESTDIR has nothing of its own).
for flag in $(pkg-config --cflags --libs hvkit-1); do
  case $flag in
    -I*|-L*) p=${flag#-?} ;;
    *) continue ;;
  esac
  case $p in
    "$dest"/*) ;;
    *) continue ;;
  esac
  [ -e "$p" ] && continue
  host=${p#"$dest"}
  [ -e "$host" ] || continue
  mkdir -p "$(dirname "$p")" && ln -s "$host" "$p"
done

cp -R "$source/examples/third-party-plugin" "$tmp/hello"
rm -f "$tmp/hello/libhvkit-hello.so"
if make -C "$tmp/hello" >"$tmp/make.log" 2>&1 \
   && [ -f "$tmp/hello/libhvkit-hello.so" ]; then
  ok "make builds libhvkit-hello.so"
else
  not_ok "make builds libhvkit-hello.so"
  diag "$tmp/make.log"
fi

# pluginsdir carries the sysroot, so `make install` lands in DESTDIR's
# plugin directory, next to the plugins meson installed.
plugins=$dest$pluginsdir
if make -C "$tmp/hello" install >"$tmp/install-hello.log" 2>&1 \
   && [ -f "$plugins/libhvkit-hello.so" ]; then
  ok "make install puts it in pluginsdir"
else
  not_ok "make install puts it in pluginsdir"
  diag "$tmp/install-hello.log"
fi

# 4. Load it like any plugin.
HVKIT_PLUGIN_PATH=$plugins HVKIT_PLUGIN_SYSTEM_PATH= \
  "$loader" --create hello >"$tmp/loader.log" 2>&1
status=$?
if [ $status -eq 0 ] && grep -q '^backend hello plugin hello version 1.0.0 ' "$tmp/loader.log" \
   && ! grep -q '^refused.*hello' "$tmp/loader.log"; then
  ok "HVKIT_PLUGIN_PATH loads the hello backend"
else
  not_ok "HVKIT_PLUGIN_PATH loads the hello backend (exit $status)"
  diag "$tmp/loader.log"
fi

if grep -q '^create hello ok$' "$tmp/loader.log" \
   && grep -q '^pause hello not-supported$' "$tmp/loader.log"; then
  ok "hello creates; operations it leaves out are NOT_SUPPORTED"
else
  not_ok "hello creates; operations it leaves out are NOT_SUPPORTED"
  diag "$tmp/loader.log"
fi

# 5. And through the user-facing tool, when it is built.
hvkit=$build/tools/hvkit
if [ -x "$hvkit" ]; then
  if HVKIT_PLUGIN_PATH=$plugins HVKIT_PLUGIN_SYSTEM_PATH= \
       "$hvkit" backends --json >"$tmp/backends.json" 2>&1 \
     && tr -d ' \n' <"$tmp/backends.json" | grep -q '"name":"hello"'; then
    ok "hvkit backends --json lists hello"
  else
    not_ok "hvkit backends --json lists hello"
    diag "$tmp/backends.json"
  fi
else
  n=$((n + 1)); echo "ok $n - hvkit backends --json lists hello # SKIP no tools/hvkit"
fi

exit $failed
