#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# packaging/release.sh again, in other temporary and build directories: each
# artefact it makes must be the same, byte for byte, as the one of the same
# name in DIST (an earlier run's output directory), as Debian's
# reproducible-builds checks compare two builds. Without DIST, release.sh
# runs twice (the first into WORK_DIR/a). SDTLS_RELEASE_ARCHES says which
# wheels the new run builds (by default none: the sdist and the crates);
# SDTLS_RELEASE_JAR=0 leaves the jar out (DIST's may carry more
# architectures than the new run builds). The jar's Maven plugins come from
# MAVEN_REPO (default Maven's).
#
#   sh tests/release/reproducible.sh WORK_DIR [DIST]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$1
fail() { printf 'reproducible: FAIL: %s\n' "$*" >&2; exit 1; }
release() { # RUN: release.sh with temporary and build directories of RUN's own
    mkdir -p "$work/$1/tmp"
    TMPDIR=$work/$1/tmp SDTLS_RELEASE_ARCHES=${SDTLS_RELEASE_ARCHES-} \
        SDTLS_RELEASE_BUILD=$work/$1/wheels \
        sh "$root/packaging/release.sh" "$work/$1/dist" 2>"$work/$1/log" ||
        fail "release.sh ($1): $(tail -n 20 "$work/$1/log")"
}
rm -rf "$work/a" "$work/b"
dist=${2:-}
if [ -z "$dist" ]; then
    release a
    dist=$work/a/dist
fi
release b
[ -s "$work/b/dist/SHA256SUMS" ] || fail "no artefacts"
while read -r sum name; do
    [ -e "$dist/$name" ] || fail "$name: not in $dist"
    [ "$(sha256sum <"$dist/$name" | cut -d' ' -f1)" = "$sum" ] || fail "$name: two builds differ"
done <"$work/b/dist/SHA256SUMS"
echo "reproducible: two builds, the same artefacts:"
cat "$work/b/dist/SHA256SUMS"
