#!/bin/sh
# Installs what sdtls needs on Debian 12, skipping what is already there:
#
#   setup-debian.sh build   building the library and the tool (packaging/demo.sh)
#   setup-debian.sh test    that and what the whole test suite needs (tests/run.sh)
#
# As root it runs apt-get; as another user, apt-get through sudo when sudo
# can be used (without a password, or asking for it on a terminal). Without
# either, it prints the apt-get line to give an administrator and exits 1.
set -eu
# The engine's source is fetched with apt-get source and unpacked with tar
# (xz); ca-certificates for an https mirror.
build_pkgs="cmake ninja-build gcc g++ xz-utils ca-certificates"
# The tests' peers and tools (openssl, gnutls-bin, tshark, libsrtp2-dev,
# valgrind, abigail-tools ...), the consumers' pkg-config, dpkg-buildflags.
test_pkgs="dpkg-dev pkg-config libssl-dev openssl gnutls-bin tshark libsrtp2-dev abigail-tools groff-base man-db valgrind iproute2 python3 bash coreutils diffutils"
case "${1:-}" in
    build) pkgs=$build_pkgs ;;
    test) pkgs="$build_pkgs $test_pkgs" ;;
    *) echo "usage: sh $0 build|test" >&2; exit 2 ;;
esac
say() { printf 'setup: %s\n' "$*" >&2; }

missing=
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -n "$missing" ] || exit 0

install_line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" -eq 0 ]; then
    sudo=
elif command -v sudo >/dev/null && { sudo -n true 2>/dev/null || (: </dev/tty) 2>/dev/null; }; then
    sudo=sudo
else
    say "missing:$missing"
    say "not root, and sudo is not there to use: ask an administrator to run (as root)"
    printf '    %s\n' "$install_line" >&2
    exit 1
fi
say "installing$missing"
if ! { $sudo apt-get update -q >&2 &&
       $sudo env DEBIAN_FRONTEND=noninteractive $install_line -q >&2; }; then
    say "could not install$missing; as root, run"
    printf '    %s\n' "$install_line" >&2
    exit 1
fi
