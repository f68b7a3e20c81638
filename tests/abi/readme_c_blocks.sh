#!/bin/sh
# Writes each ```c block of README.md to OUT_DIR/block1.c, block2.c, ...
# (the lines between "```c" and the next "```"), for the tests that build
# the README's programs.
#   readme_c_blocks.sh README.md OUT_DIR
set -eu
readme=$1 dir=$2
awk -v dir="$dir" '
    /^```c[ \t]*$/ { n++; file = sprintf("%s/block%d.c", dir, n); inblock = 1; printf "" > file; next }
    inblock && /^```/ { inblock = 0; close(file); next }
    inblock { print > file }
    END { if (inblock) { print "README.md: unterminated ```c block" > "/dev/stderr"; exit 1 } }
' "$readme"
