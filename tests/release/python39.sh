#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# CPython 3.9, the oldest the cp39-abi3 wheels are for: Debian 11's, for
# ARCH (amd64, or arm64 to run under qemu-aarch64-static -L an arm64
# sysroot), downloaded by apt in a private state directory
# (packaging/apt-private.sh: bullseye's entries derived from the machine's
# own apt sources; no root, the system's apt state untouched) and unpacked
# with dpkg-deb -x into DIR/ARCH, nothing installed. The interpreter finds
# its standard library beside it; the C libraries it needs beyond glibc's
# (zlib, expat) are the host's or the sysroot's. Reuses a DIR/ARCH completed
# before. Prints the interpreter's path; exit 77 (with the reason) when the
# machine's Debian mirror has no Debian 11.
#
#   sh tests/release/python39.sh DIR ARCH
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$1 arch=$2
pkgs="python3.9-minimal libpython3.9-minimal libpython3.9-stdlib"
python=$dir/$arch/usr/bin/python3.9
if [ "$(cat "$dir/$arch/.complete" 2>/dev/null)" = "$pkgs" ]; then
    echo "$python"
    exit 0
fi
. "$root/packaging/apt-private.sh"
apt_private_init "$dir/.apt" bullseye deb ||
    { echo "python39: no Debian apt source to derive bullseye's entries from" >&2; exit 77; }
# The release's own packages: a test interpreter needs no security update
# (and a mirror may not carry every architecture's).
sed -i '/-security /d' "$dir/.apt/sources.list"
if ! apt_private apt-get -o APT::Architectures::="$arch" update >&2; then
    echo "python39: the Debian mirror has no bullseye (Debian 11) for $arch: CPython 3.9 not tested" >&2
    exit 77
fi
debs=$(mktemp -d)
trap 'rm -rf "$debs"' EXIT
# shellcheck disable=SC2046 # one argument per package
(cd "$debs" && apt_private apt-get -o APT::Architectures::="$arch" download \
    $(for p in $pkgs; do echo "$p:$arch"; done) >&2)
rm -rf "${dir:?}/$arch"
mkdir -p "$dir/$arch"
for d in "$debs"/*.deb; do
    dpkg-deb -x "$d" "$dir/$arch"
done
echo "$pkgs" >"$dir/$arch/.complete"
echo "$python"
