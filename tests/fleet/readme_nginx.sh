#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# README.md shows the nginx configuration the fleet test runs: its nginx
# block in "Running many servers" must be tests/fleet/nginx.conf (without
# the licence line), so that the two cannot drift apart.
#   sh tests/fleet/readme_nginx.sh README.md tests/fleet/nginx.conf
set -eu
readme=$1 conf=$2
shown=$(sed -n '/^## Running many servers$/,/^## [^#]/p' "$readme" |
        sed -n '/^```nginx$/,/^```$/p' | sed '1d;$d')
[ -n "$shown" ] || { echo "FAIL: no nginx block in README.md's 'Running many servers'" >&2; exit 1; }
if [ "$shown" != "$(sed 1d "$conf")" ]; then
    echo "FAIL: README.md's nginx block differs from $conf:" >&2
    expected=$(mktemp)
    sed 1d "$conf" >"$expected"
    printf '%s\n' "$shown" | diff - "$expected" >&2 || :
    rm -f "$expected"
    exit 1
fi
echo PASS
