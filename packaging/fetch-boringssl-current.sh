#!/bin/sh
# Fetch a current BoringSSL (upstream layout, DTLS 1.3, X25519MLKEM768) from
# Debian's `chromium` source package of the next release (trixie), unpack only
# third_party/boringssl/src into a cache and print the tree's path (with a
# trailing slash). sdtls's build takes it with -DSDTLS_BORINGSSL_DIR=<path>.
#
# apt does the work in a PRIVATE state directory under the cache
# (packaging/apt-private.sh): a deb-src entry for trixie is derived from the
# machine's own apt sources (so no host name is written here), and the
# system's lists and sources stay as they are.
# Versions are tried newest first; the first whose .orig tarball arrives
# (checked by apt against the signed Sources index) is used. Only that
# tarball is downloaded (about 1 GB); it is deleted once the BoringSSL
# directory is extracted. Once unpacked, the tree is reused: rebuilds need no
# network.
#
# Usage: fetch-boringssl-current.sh [CACHE_DIR]
#        (default: $XDG_CACHE_HOME/sdtls or ~/.cache/sdtls)
#   SDTLS_CHROMIUM_SUITE   the release to take chromium from (default trixie)
set -eu

suite=${SDTLS_CHROMIUM_SUITE:-trixie}
cache=${1:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/sdtls}
mkdir -p "$cache"

say() { printf 'fetch-boringssl-current: %s\n' "$*" >&2; }

# Reuse an unpacked tree.
for d in "$cache"/boringssl-chromium-*/; do
    if [ -f "$d/gen/sources.cmake" ] && [ -f "$d/.sdtls-complete" ]; then
        printf '%s\n' "$d"
        exit 0
    fi
done

. "$(dirname "$0")/apt-private.sh"
apt_dir="$cache/.apt-$suite"
apt_private_init "$apt_dir" "$suite" ||
    { say "no Debian apt source to derive a deb-src entry for $suite from"; exit 1; }

say "reading $suite's source index into $apt_dir (the system's apt state is not touched)"
apt_private apt-get update >&2

versions=$(apt_private apt-cache showsrc --only-source chromium 2>/dev/null |
    sed -n 's/^Version: //p' | sort -u | sort -r -V)
[ -n "$versions" ] || { say "no chromium source package in $suite"; exit 1; }

work=$(mktemp -d "$cache/.fetch-current.XXXXXX")
trap 'rm -rf "$work"' EXIT
tarball=
for v in $versions; do
    # The .orig tarball's URI, name, size and hash from the signed index.
    line=$(cd "$work" && apt_private apt-get source --print-uris --only-source "chromium=$v" 2>/dev/null |
        grep -E "\.orig\.tar\.[a-z0-9]+' " | head -n 1) || true
    [ -n "$line" ] || continue
    uri=$(printf '%s\n' "$line" | awk '{ gsub(/\x27/, "", $1); print $1 }')
    name=$(printf '%s\n' "$line" | awk '{ print $2 }')
    hash=$(printf '%s\n' "$line" | awk '{ print $4 }')
    say "downloading chromium $v ($name) with apt's helper"
    if /usr/lib/apt/apt-helper -q -o APT::Sandbox::User="$(id -un)" download-file "$uri" "$work/$name" "$hash" >&2; then
        tarball="$work/$name"
        version=$v
        break
    fi
    say "chromium $v is not served; trying the next version"
    rm -f "$work/$name"
done
[ -n "$tarball" ] || { say "no chromium source tarball could be downloaded"; exit 1; }

say "extracting third_party/boringssl/src from $(basename "$tarball")"
case "$tarball" in
    *.xz) dec="xz -dc -T0" ;;
    *.gz) dec="gzip -dc" ;;
    *.bz2) dec="bzip2 -dc" ;;
    *) dec="cat" ;;
esac
mkdir "$work/x"
$dec "$tarball" | tar -x -C "$work/x" --wildcards '*/third_party/boringssl/src/*'
rm -f "$tarball"
tree=$(find "$work/x" -mindepth 4 -maxdepth 4 -type d -path '*/third_party/boringssl/src' | head -n 1)
[ -n "$tree" ] && [ -f "$tree/gen/sources.cmake" ] ||
    { say "no BoringSSL tree in upstream layout in chromium $version"; exit 1; }
printf 'chromium %s\n' "$version" >"$tree/.sdtls-complete"
dest="$cache/boringssl-chromium-$version"
rm -rf "$dest"
mv "$tree" "$dest"
say "BoringSSL from chromium $version in $dest"
printf '%s/\n' "$dest"
