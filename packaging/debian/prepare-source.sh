#!/bin/sh
# Prepares the Debian source package of sdtls from this checkout, then
# `dpkg-buildpackage -b -us -uc` in the tree it prints builds the .debs:
#
#   sh packaging/debian/prepare-source.sh [OUT]          (OUT: build/debian)
#   cd build/debian/sdtls-0.1.0 && dpkg-buildpackage -b -us -uc
#
# In OUT it writes
#   sdtls_V.orig.tar.xz            the committed tree (git archive HEAD)
#   sdtls_V.orig-boringssl.tar.xz  the engine: Debian's source tarball
#                                  android-platform-external-boringssl_E.orig.tar.xz,
#                                  byte for byte (its SHA-256 is checked)
#   sdtls_V-R.dsc, .debian.tar.xz  the source package (dpkg-source -b)
#   sdtls-V/                       the unpacked source: the tree, boringssl/
#                                  (the component) and debian/ (packaging/debian)
# The engine tarball comes from packaging/fetch-boringssl.sh --orig (its
# cache, ~/.cache/sdtls, or else apt-get source, once); the build itself
# fetches nothing. Uncommitted changes are not included (a warning says so).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build/debian}
say() { printf 'prepare-source: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# The engine release this packaging was made for, and its tarball's SHA-256
# as Debian's .dsc of android-platform-external-boringssl 13.0.0+r24-2 gives it.
engine_pkg=android-platform-external-boringssl
engine_version=13.0.0+r24
engine_sha256=583b7aeee1fca68b8244d086cea6fca23bd19d517bd63f0b9de714e048f92a7d

version=$(dpkg-parsechangelog -l "$here/changelog" -S Version)
upstream=${version%-*}
cmake_version=$(sed -n 's/^project(sdtls VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
[ "$upstream" = "$cmake_version" ] ||
    die "packaging/debian/changelog is for $upstream, CMakeLists.txt says $cmake_version: add a changelog entry (dch -v $cmake_version-1)"

command -v git >/dev/null && git -C "$root" rev-parse --git-dir >/dev/null 2>&1 ||
    die "$root is not a git checkout (the upstream tarball is made with git archive)"
[ -z "$(git -C "$root" status --porcelain --untracked-files=no)" ] ||
    say "warning: uncommitted changes in $root are not in the package (git archive HEAD)"

mkdir -p "$out"
out=$(cd "$out" && pwd)
tree=$out/sdtls-$upstream

# 1. The upstream tarball.
say "sdtls_$upstream.orig.tar.xz from $(git -C "$root" rev-parse --short HEAD)"
git -C "$root" archive --format=tar --prefix="sdtls-$upstream/" HEAD | xz -T0 -6 >"$out/sdtls_$upstream.orig.tar.xz"

# 2. The engine tarball, Debian's, unchanged.
engine_tar=$(sh "$root/packaging/fetch-boringssl.sh" --orig) || die "packaging/fetch-boringssl.sh --orig failed"
[ "$(basename "$engine_tar")" = "${engine_pkg}_$engine_version.orig.tar.xz" ] ||
    die "the engine tarball is $(basename "$engine_tar"), not ${engine_pkg}_$engine_version.orig.tar.xz; update engine_version here and the copyright"
echo "$engine_sha256  $engine_tar" | sha256sum -c --quiet - ||
    die "$engine_tar is not Debian's tarball (SHA-256 differs)"
cp "$engine_tar" "$out/sdtls_$upstream.orig-boringssl.tar.xz"
say "sdtls_$upstream.orig-boringssl.tar.xz = $(basename "$engine_tar")"

# 3. The unpacked source, as dpkg-source -x would make it.
rm -rf "$tree"
mkdir -p "$tree/boringssl"
tar -xJf "$out/sdtls_$upstream.orig.tar.xz" -C "$out"
tar -xJf "$out/sdtls_$upstream.orig-boringssl.tar.xz" -C "$tree/boringssl" --strip-components=1
cp -a "$root/packaging/debian" "$tree/debian"

# 4. The source package.
say "dpkg-source -b (checks the tree against both tarballs)"
rm -f "$out"/sdtls_"$upstream"-*.dsc "$out"/sdtls_"$upstream"-*.debian.tar.*
(cd "$out" && dpkg-source -b "sdtls-$upstream" >&2)

say "ready: cd $tree && dpkg-buildpackage -b -us -uc"
printf '%s\n' "$tree"
