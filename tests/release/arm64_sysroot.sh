#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# An arm64 CPython to run under qemu-aarch64 without binfmt: Debian's arm64
# packages of the interpreter and the libraries its standard library loads
# (and Debian's arm64 JVM, for tests/release/jar_test.sh),
# downloaded with apt-get (after `dpkg --add-architecture arm64`) and
# unpacked with dpkg-deb -x into SYSROOT (nothing installed), and Debian's
# qemu-user-static (and binutils-aarch64-linux-gnu, for the wheel's
# build). Reuses a SYSROOT completed with the same packages. Needs root for apt: as
# another user, exit 77 with the commands an administrator would run.
#
#   sh tests/release/arm64_sysroot.sh SYSROOT     (prints SYSROOT's python)
set -eu
sysroot=$1
pkgs="python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 zlib1g libexpat1 libffi8
      libssl3 libbz2-1.0 liblzma5 libuuid1 libcrypt1 libsqlite3-0 libncursesw6 libtinfo6 libdb5.3
      libreadline8 libgcc-s1 openjdk-17-jre-headless libstdc++6"
if [ "$(cat "$sysroot/.complete" 2>/dev/null)" = "$(echo $pkgs)" ] && command -v qemu-aarch64-static >/dev/null &&
    command -v aarch64-linux-gnu-objcopy >/dev/null; then
    echo "$sysroot/usr/bin/python3.11"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "arm64_sysroot: needs root for apt; as root: dpkg --add-architecture arm64 && apt-get update &&" \
         "apt-get install qemu-user-static, then run this again" >&2
    exit 77
fi
# qemu, and the target's binutils packaging/release.sh needs for the wheel.
command -v qemu-aarch64-static >/dev/null && command -v aarch64-linux-gnu-objcopy >/dev/null ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-user-static binutils-aarch64-linux-gnu >&2
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
    apt-get update -q >&2
fi
debs=$(mktemp -d)
trap 'rm -rf "$debs"' EXIT
# shellcheck disable=SC2046 # one argument per package
(cd "$debs" && apt-get download -q $(for p in $pkgs; do echo "$p:arm64"; done) >&2)
mkdir -p "$sysroot"
for d in "$debs"/*.deb; do
    dpkg-deb -x "$d" "$sysroot"
done
echo $pkgs >"$sysroot/.complete"
echo "$sysroot/usr/bin/python3.11"
