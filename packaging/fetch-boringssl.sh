#!/bin/sh
# Fetch BoringSSL's source from Debian's source package
# android-platform-external-boringssl with apt, unpack it into a cache and
# print the tree's path (with a trailing slash, as android-sources.cmake wants).
#
# A deb-src entry is derived from the machine's own apt sources when none
# exists, so no host name is written here. Once unpacked, the tree is reused:
# rebuilds need no network.
#
# Usage: fetch-boringssl.sh [CACHE_DIR]   (default: $XDG_CACHE_HOME/sdtls or ~/.cache/sdtls)
set -eu

pkg=android-platform-external-boringssl
cache=${1:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/sdtls}
mkdir -p "$cache"

# Reuse an unpacked tree.
for d in "$cache"/$pkg-*/; do
    if [ -f "$d/android-sources.cmake" ]; then
        printf '%s\n' "$d"
        exit 0
    fi
done

say() { printf 'fetch-boringssl: %s\n' "$*" >&2; }

have_deb_src() {
    apt-get source --print-uris --only-source "$pkg" 2>/dev/null | grep -q "\.orig\.tar"
}

if ! have_deb_src; then
    # Derive deb-src entries from the existing deb entries (deb822 or one-line).
    sudo=
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    list=/etc/apt/sources.list.d/sdtls-deb-src.sources
    tmp=$(mktemp)
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        [ "$f" = "$list" ] && continue
        grep -q '^Types:.*\bdeb\b' "$f" || continue
        sed -e 's/^Types:.*/Types: deb-src/' "$f" >>"$tmp"
        printf '\n' >>"$tmp"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        grep -E '^deb[[:space:]]' "$f" | sed -e 's/^deb[[:space:]]/deb-src /' |
            awk '{ print "Types: deb-src"; $1=""; n=split(substr($0,2),a," ");
                   opt=""; i=1; if (a[1] ~ /^\[/) { while (a[i] !~ /\]$/) i++; i++ }
                   print "URIs: " a[i]; print "Suites: " a[i+1];
                   c=""; for (j=i+2;j<=n;j++) c=c " " a[j]; print "Components:" c; print "" }' >>"$tmp"
    done
    if [ ! -s "$tmp" ]; then
        rm -f "$tmp"
        say "no apt source to derive a deb-src entry from"
        exit 1
    fi
    say "adding deb-src entries derived from the machine's apt sources ($list)"
    $sudo install -m 0644 "$tmp" "$list"
    rm -f "$tmp"
    $sudo apt-get update -q >&2
fi

work=$(mktemp -d "$cache/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
say "downloading $pkg with apt-get source"
(cd "$work" && apt-get source --download-only --only-source "$pkg" >&2)
orig=$(ls "$work"/*.orig.tar.* | head -n 1)
tar -xf "$orig" -C "$work"
tree=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name "$pkg-*" | head -n 1)
[ -f "$tree/android-sources.cmake" ] || { say "unexpected layout in $orig"; exit 1; }
dest="$cache/$(basename "$tree")"
rm -rf "$dest"
mv "$tree" "$dest"
printf '%s/\n' "$dest"
