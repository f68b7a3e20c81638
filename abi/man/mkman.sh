#!/bin/sh
# Makes the C API's man pages (section 3) from abi/sdtls.h, the page
# sources abi/man/*.3.md and abi/symbols-in-versions: how and why in
# abi/man/mkman.awk. CMake runs it at build time (target sdtls_man) and
# installs what it writes to CMAKE_INSTALL_MANDIR/man3.
#
#   sh abi/man/mkman.sh OUTDIR      (OUTDIR is replaced: no stale alias stays)
#
# The date on the pages is SOURCE_DATE_EPOCH's when it is set (reproducible
# builds; Debian sets it from debian/changelog), else today's.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
man=$(cd "$(dirname "$0")" && pwd)
abi=$(dirname "$man")
out=$1
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d 2>/dev/null || date -u -r "$SOURCE_DATE_EPOCH" +%Y-%m-%d)
else
    date=$(date -u +%Y-%m-%d)
fi
rm -rf "$out.new"
mkdir -p "$out.new"
awk -v header="$abi/sdtls.h" -v list="$abi/symbols-in-versions" -v outdir="$out.new" -v date="$date" \
    -f "$man/mkman.awk" "$man"/*.3.md || { rm -rf "$out.new"; exit 1; }
rm -rf "$out"
mv "$out.new" "$out"
