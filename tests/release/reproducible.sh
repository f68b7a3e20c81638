#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# packaging/release.sh twice, in different temporary directories, into two
# output directories: the artefacts must be the same byte for byte (their
# SHA256SUMS equal), as Debian's reproducible-builds checks compare two
# builds. SDTLS_RELEASE_ARCHES says which wheels, and JNI libraries of the
# jar, are built (each twice, in a build directory of each run's own); by
# default none: the sdist and the crates, and no jar. The jar's Maven
# plugins come from MAVEN_REPO (default Maven's).
#
#   sh tests/release/reproducible.sh WORK_DIR
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$1
fail() { printf 'reproducible: FAIL: %s\n' "$*" >&2; exit 1; }
rm -rf "$work/a" "$work/b"
for run in a b; do
    mkdir -p "$work/$run/tmp"
    TMPDIR=$work/$run/tmp SDTLS_RELEASE_ARCHES=${SDTLS_RELEASE_ARCHES-} \
        SDTLS_RELEASE_BUILD=$work/$run/wheels \
        sh "$root/packaging/release.sh" "$work/$run/dist" 2>"$work/$run/log" ||
        fail "release.sh ($run): $(tail -n 20 "$work/$run/log")"
done
[ -s "$work/a/dist/SHA256SUMS" ] || fail "no artefacts"
cmp -s "$work/a/dist/SHA256SUMS" "$work/b/dist/SHA256SUMS" ||
    fail "two builds differ: $(diff "$work/a/dist/SHA256SUMS" "$work/b/dist/SHA256SUMS")"
echo "reproducible: two builds, the same artefacts:"
cat "$work/a/dist/SHA256SUMS"
