#!/bin/sh
# The shared library exports sdtls_* and nothing else, all in a version node.
set -eu
lib=$1
bad=$(nm -D --defined-only "$lib" | awk '$3 !~ /^sdtls_/ && $3 !~ /^SDTLS_/ { print $3 }')
if [ -n "$bad" ]; then
    echo "FAIL: $lib exports symbols outside sdtls_*:"; echo "$bad" | head -20
    exit 1
fi
count=$(nm -D --defined-only "$lib" | grep -c ' T sdtls_')
unversioned=$(objdump -T "$lib" | awk '/ DF .text/ && $0 !~ /SDTLS_[0-9.]+/ { print $NF }')
if [ -n "$unversioned" ]; then
    echo "FAIL: functions without a version node:"; echo "$unversioned"
    exit 1
fi
soname=$(objdump -p "$lib" | awk '/SONAME/ { print $2 }')
[ "$soname" = "libsdtls.so.1" ] || { echo "FAIL: SONAME is '$soname'"; exit 1; }
needed=$(objdump -p "$lib" | awk '/NEEDED/ { print $2 }' | tr '\n' ' ')
case "$needed" in
    *libstdc++*|*libssl*|*libcrypto*) echo "FAIL: depends on $needed"; exit 1 ;;
esac
echo "OK: $count sdtls_* functions, SONAME $soname, needs: $needed"
