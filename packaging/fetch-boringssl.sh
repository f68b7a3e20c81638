#!/bin/sh
# Fetch BoringSSL's source from Debian's source package
# android-platform-external-boringssl with apt, unpack it into a cache and
# print the tree's path (with a trailing slash, as android-sources.cmake wants).
# With --orig, print the path of the package's .orig tarball instead, which
# is kept in the cache (packaging/debian/prepare-source.sh ships it as it is).
#
# No root is needed: when the machine's apt has no deb-src entry for the
# package, apt runs in a private state directory under the cache, with
# deb-src entries derived from the machine's own apt sources
# (packaging/apt-private.sh); /etc/apt is not touched. Once unpacked, the
# tree is reused: rebuilds need no network.
#
# Usage: fetch-boringssl.sh [--orig] [CACHE_DIR]
#        (default: $XDG_CACHE_HOME/sdtls or ~/.cache/sdtls)
set -eu

pkg=android-platform-external-boringssl
want=tree
if [ "${1:-}" = --orig ]; then
    want=orig
    shift
fi
cache=${1:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/sdtls}
mkdir -p "$cache"

say() { printf 'fetch-boringssl: %s\n' "$*" >&2; }

# Reuse an unpacked tree.
if [ $want = tree ]; then
    for d in "$cache"/$pkg-*/; do
        if [ -f "$d/android-sources.cmake" ]; then
            printf '%s\n' "$d"
            exit 0
        fi
    done
fi

dl= work=
trap 'rm -rf "$dl" "$work"' EXIT
orig=$(ls "$cache"/${pkg}_*.orig.tar.* 2>/dev/null | sort -V | tail -n 1)
if [ -z "$orig" ]; then
    dl=$(mktemp -d "$cache/.fetch.XXXXXX")
    if apt-get source --print-uris --only-source "$pkg" 2>/dev/null | grep -q "\.orig\.tar"; then
        say "downloading $pkg with apt-get source"
        (cd "$dl" && apt-get source --download-only --only-source "$pkg" >&2)
    else
        . "$(dirname "$0")/apt-private.sh"
        apt_private_init "$cache/.apt" ||
            { say "no Debian apt source to derive a deb-src entry from"; exit 1; }
        say "no deb-src entry for $pkg: reading the source index into $cache/.apt" \
            "(the system's apt state is not touched)"
        apt_private apt-get update >&2
        say "downloading $pkg with apt-get source"
        (cd "$dl" && apt_private apt-get source --download-only --only-source "$pkg" >&2)
    fi
    downloaded=$(ls "$dl"/*.orig.tar.* | head -n 1)
    orig="$cache/$(basename "$downloaded")"
    mv "$downloaded" "$orig"
fi
if [ $want = orig ]; then
    printf '%s\n' "$orig"
    exit 0
fi

work=$(mktemp -d "$cache/.unpack.XXXXXX")
tar -xf "$orig" -C "$work"
tree=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name "$pkg-*" | head -n 1)
[ -n "$tree" ] && [ -f "$tree/android-sources.cmake" ] || { say "unexpected layout in $orig"; exit 1; }
dest="$cache/$(basename "$tree")"
rm -rf "$dest"
mv "$tree" "$dest"
printf '%s/\n' "$dest"
