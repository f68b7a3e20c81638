#!/bin/sh
# Installs what building and testing sdtls needs on Debian 12, skipping what
# is already there. Runs apt-get as root (directly, or through sudo).
set -eu
pkgs="cmake ninja-build gcc g++ dpkg-dev pkg-config libssl-dev openssl gnutls-bin tshark libsrtp2-dev abigail-tools groff-base man-db valgrind iproute2 ca-certificates python3 bash coreutils diffutils"
missing=
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    sudo=
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "setup: installing$missing" >&2
    $sudo apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing >&2
fi
