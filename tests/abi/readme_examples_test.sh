#!/bin/sh
# Every ```c block of README.md is a whole program: it compiles on its own
# with `cc -std=c11 -Wall -Wextra -Werror -c` against the public header
# (included as <sdtls/sdtls.h>, as installed) and links against the built
# libsdtls (so it has a main() and uses no name it does not define).
#   readme_examples_test.sh CC README.md ABI_DIR LIBSDTLS
set -eu
cc=$1 readme=$2 abi=$3 lib=$4
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/include/sdtls"
cp "$abi/sdtls.h" "$dir/include/sdtls/sdtls.h"

sh "$(dirname "$0")/readme_c_blocks.sh" "$readme" "$dir"

count=0
for src in "$dir"/block*.c; do
    [ -e "$src" ] || break
    count=$((count + 1))
    name=$(basename "$src" .c)
    echo "--- $name: $(head -n 1 "$src")"
    if ! "$cc" -std=c11 -Wall -Wextra -Werror -I"$dir/include" -c "$src" -o "$dir/$name.o"; then
        echo "FAIL: README.md's C block $count does not compile:" >&2
        cat -n "$src" >&2
        exit 1
    fi
    if ! "$cc" "$dir/$name.o" "$lib" -o "$dir/$name"; then
        echo "FAIL: README.md's C block $count does not link against libsdtls" >&2
        exit 1
    fi
done
[ "$count" -ge 1 ] || { echo "FAIL: no \`\`\`c block in $readme" >&2; exit 1; }
echo "PASS ($count blocks)"
