#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Debian packages end to end, as tests/run.sh's packaging stage: the
# source package from this checkout (packaging/debian/prepare-source.sh),
# `dpkg-buildpackage -b -us -uc` with its test suite (dh_auto_test) and
# Debian's hardening flags, lintian (no errors), then the .debs installed
# with apt, the autopkgtests run against them (pkg-config and CMake
# consumers outside the tree, the tool and its man page, python3-sdtls over
# loopback), `sdtls --help`, each package's copyright file (Apache-2.0 for
# sdtls's files), and the packages purged, leaving no file behind.
#
#   sh tests/pkg/deb_test.sh [OUT]       (OUT: build/debian; JOBS may be set)
#
# It installs packages, so it needs root: as another user it says so and
# exits 77 (skipped) without touching anything.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/build/debian}
jobs=${JOBS:-$(nproc)}
say() { printf 'deb_test: %s\n' "$*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
    say "SKIP: installs and removes .debs with apt, which needs root (run it as root)"
    exit 77
fi
export DEBIAN_FRONTEND=noninteractive
packages="libsdtls1 libsdtls-dev python3-sdtls sdtls-tools"
for p in $packages; do
    ! dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q '^install ok' ||
        fail "$p is installed already; this test installs and purges its own build"
done

start=$(date +%s)
tree=$(sh "$root/packaging/debian/prepare-source.sh" "$out")
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends debhelper lintian >/dev/null
apt-get build-dep -y -q "$tree" >/dev/null

say "dpkg-buildpackage -b -us -uc in $tree"
(cd "$tree" && DEB_BUILD_OPTIONS="parallel=$jobs" dpkg-buildpackage -b -us -uc >"$out/build.log" 2>&1) ||
    { tail -n 60 "$out/build.log"; fail "dpkg-buildpackage failed (whole log: $out/build.log)"; }
grep -q 'python_pytest .*Passed' "$out/build.log" || fail "dh_auto_test did not run the Python suite"
built=$(date +%s)

version=$(dpkg-parsechangelog -l "$tree/debian/changelog" -S Version)
changes=$out/sdtls_${version}_$(dpkg --print-architecture).changes
lintian --fail-on error "$changes" || fail "lintian reports errors"

# Installed from the files, with apt resolving their dependencies. Whatever
# happens next, the packages are purged again.
purge() { apt-get purge -y -q $packages >/dev/null 2>&1 || true; }
trap purge EXIT
debs=
for p in $packages; do debs="$debs $out/${p}_${version}_$(dpkg --print-architecture).deb"; done
apt-get install -y -q --no-install-recommends $debs >/dev/null
# What the autopkgtests declare they need (debian/tests/control).
apt-get install -y -q --no-install-recommends build-essential cmake ninja-build pkg-config man-db >/dev/null

sdtls --help >/dev/null || fail "sdtls --help"
# Each package's copyright file: sdtls's own files (Files: *) are Apache-2.0,
# and the engine compiled into libsdtls keeps its own licences.
for p in $packages; do
    c=/usr/share/doc/$p/copyright
    [ "$(awk '/^Files: \*$/ { f = 1; next } f && /^License:/ { print $2; exit }' "$c")" = Apache-2.0 ] ||
        fail "$c does not give sdtls's files (Files: *) the Apache-2.0 licence"
    grep -q '^License: OpenSSL and SSLeay$' "$c" || fail "$c lacks the engine's licences"
done
sh "$tree/debian/tests/installed"
sh "$tree/debian/tests/python"

# Purged cleanly: dpkg forgets them and none of their files is left.
files=$(for p in $packages; do dpkg -L "$p"; done | sort -u)
apt-get purge -y -q $packages >/dev/null
trap - EXIT
for p in $packages; do
    ! dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q 'installed' || fail "$p is still installed"
done
left=$(echo "$files" | while read -r f; do [ -f "$f" ] && echo "$f"; done || true)
[ -z "$left" ] || fail "files left after purge: $left"
[ ! -e /usr/lib/python3/dist-packages/sdtls ] || fail "/usr/lib/python3/dist-packages/sdtls left after purge (byte-code?)"
say "PASS: built in $((built - start)) s, installed, tested and purged in $(($(date +%s) - built)) s"
