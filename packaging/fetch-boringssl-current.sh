#!/bin/sh
# Fetch a current BoringSSL (upstream layout, DTLS 1.3, X25519MLKEM768) from
# Debian's `chromium` source package of the next release (trixie), unpack only
# third_party/boringssl/src into a cache and print the tree's path (with a
# trailing slash). sdtls's build takes it with -DSDTLS_BORINGSSL_DIR=<path>.
#
# apt does the work in a PRIVATE state directory under the cache: a deb-src
# entry for trixie is derived from the machine's own apt sources (so no host
# name is written here), and the system's lists and sources stay as they are.
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

apt_dir="$cache/.apt-$suite"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/parts"
src="$apt_dir/sources.list"

# deb-src lines for $suite from the machine's Debian entries (deb822 or
# one-line): the main archive and the security archive, whatever mirror the
# machine uses. Keyrings named by the entries are kept.
derive() {
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v suite="$suite" '
            function flush() {
                if (types ~ /deb/ && uri != "" && suites != "") {
                    n = split(suites, s, " ")
                    for (i = 1; i <= n; i++) {
                        if (s[i] ~ /-security$/) out = suite "-security"
                        else if (s[i] ~ /-(updates|backports|proposed-updates)$/) out = ""
                        else out = suite
                        if (out == "" || seen[uri " " out]++) continue
                        opt = signed != "" ? "[signed-by=" signed "] " : ""
                        if (comps ~ /(^| )main( |$)/ && uri ~ /debian/)
                            print "deb-src " opt uri " " out " main"
                    }
                }
                types = uri = suites = comps = signed = ""
            }
            /^[ \t]*$/ { flush(); next }
            /^#/ { next }
            /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
            /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uri = $1 }
            /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
            /^Components:/ { sub(/^Components:[ \t]*/, ""); comps = $0 }
            /^Signed-By:/ { sub(/^Signed-By:[ \t]*/, ""); signed = $1 }
            END { flush() }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        grep -E '^deb(-src)?[[:space:]]' "$f" | awk -v suite="$suite" '{
            i = 2; opt = ""
            if ($2 ~ /^\[/) { while ($i !~ /\]$/) { opt = opt $i " "; i++ } opt = opt $i " "; i++ }
            uri = $i; s = $(i + 1)
            if (uri !~ /debian/) next
            if (s ~ /-security$/) out = suite "-security"
            else if (s ~ /-(updates|backports|proposed-updates)$/) next
            else out = suite
            main = 0; for (j = i + 2; j <= NF; j++) if ($j == "main") main = 1
            if (main && !seen[uri " " out]++) print "deb-src " opt uri " " out " main"
        }'
    done
}
derive | sort -u >"$src.new"
if [ ! -s "$src.new" ]; then
    rm -f "$src.new"
    say "no Debian apt source to derive a deb-src entry for $suite from"
    exit 1
fi
mv "$src.new" "$src"

# apt-get or apt-cache with every piece of state in $apt_dir.
aptp() {
    tool=$1
    shift
    "$tool" -q -o Dir::Etc::sourcelist="$src" -o Dir::Etc::sourceparts="$apt_dir/parts" \
        -o Dir::State="$apt_dir" -o Dir::State::Lists="$apt_dir/lists" \
        -o Dir::State::status=/var/lib/dpkg/status \
        -o Dir::Cache="$apt_dir" -o Dir::Cache::archives="$apt_dir/archives" \
        -o Dir::Cache::srcpkgcache= -o Dir::Cache::pkgcache= \
        -o APT::Sandbox::User="$(id -un)" "$@"
}

say "reading $suite's source index into $apt_dir (the system's apt state is not touched)"
aptp apt-get update >&2

versions=$(aptp apt-cache showsrc --only-source chromium 2>/dev/null |
    sed -n 's/^Version: //p' | sort -u | sort -r -V)
[ -n "$versions" ] || { say "no chromium source package in $suite"; exit 1; }

work=$(mktemp -d "$cache/.fetch-current.XXXXXX")
trap 'rm -rf "$work"' EXIT
tarball=
for v in $versions; do
    # The .orig tarball's URI, name, size and hash from the signed index.
    line=$(cd "$work" && aptp apt-get source --print-uris --only-source "chromium=$v" 2>/dev/null |
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
