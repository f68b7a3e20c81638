#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The C API's man pages (made by abi/man/mkman.sh, installed to man3) against
# the ABI:
#   - every function of abi/symbols-in-versions has a page: FUNCTION.3 is
#     the page, or a ".so man3/PAGE.3" alias to one, and that page lists it
#     in NAME and SYNOPSIS and describes it in a subsection of its own;
#   - every name a page uses exists: a function (name followed by "("), a
#     page (name(3), name(1)), an SDTLS_* constant or prefix of the header;
#   - groff -man -ww reads every page without a warning, and so do man
#     --warnings (what lintian runs) and lexgrog (the whatis entry) where
#     man-db is installed;
#   - every ```c example of abi/man/*.3.md compiles (-std=c11 -Wall -Wextra
#     -Werror -pedantic) against the header as installed, and one with a
#     main() links against the library.
#
#   man_pages_test.sh [--no-render] [--no-examples] ABI_DIR MAN_DIR CC LIBSDTLS
# MAN_DIR holds man3/ as it is installed (the build's man/). The --no-
# options leave out the slow parts (man_pages_selftest.sh's cases that
# are not about them).
set -eu
render=1 examples=1
while :; do
    case $1 in
        --no-render) render=0; shift ;;
        --no-examples) examples=0; shift ;;
        *) break ;;
    esac
done
abi=$1 mandir=$2 cc=$3 lib=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

awk '!/^[ \t]*(#|$)/ { print $1 }' "$abi/symbols-in-versions" | sort >"$work/functions"
[ -s "$work/functions" ] || { echo "FAIL: no functions in $abi/symbols-in-versions"; exit 1; }

# Constants: the header's macros and enum values.
{ sed -n 's/^#define \(SDTLS_[A-Z0-9_]*\).*/\1/p' "$abi/sdtls.h"
  grep -o 'SDTLS_[A-Z0-9_]* =' "$abi/sdtls.h" | sed 's/ =$//'; } | sort -u >"$work/constants"

# sdtls(3) carries the header's overview (the callback rule among it), not
# whatever comment opens the header first.
grep -q 'one rule for calls made from inside a' "$mandir/man3/sdtls.3" ||
    fail "man3/sdtls.3 lacks the header's overview (its callback rule)"

# One pass over man3/: the aliases and pages, what each page names.
set -- "$mandir"/man3/*.3
[ -e "$1" ] || { echo "FAIL: no pages in $mandir/man3"; exit 1; }
LC_ALL=C awk -v functions="$work/functions" -v constants="$work/constants" -v list="$abi/symbols-in-versions" \
    -v pages="$work/pages" '
    function fail(msg) { if (!(msg in said)) { said[msg] = 1; print "FAIL: " msg } }
    BEGIN {
        while ((getline l < functions) > 0) is_function[l] = 1
        close(functions)
        while ((getline l < constants) > 0) is_constant[l] = 1
        while ((getline l < list) > 0) if (l !~ /^[ \t]*(#|$)/) { split(l, f, " "); is_node[f[2]] = 1 }
        printf "" > pages
    }
    FNR == 1 {
        page = FILENAME; sub(/^.*\//, "", page); sub(/\.3$/, "", page)
        alias = $0 ~ /^\.so /
        if (alias) { target[page] = substr($0, 5); next }
        is_page[page] = 1
        print page > pages
        sh = ""
    }
    alias { fail("man3/" page ".3: an alias holds one .so line and nothing else"); next }
    /^\.TH / { next }
    /^\.SH / { sh = substr($0, 5); next }
    sh == "NAME" {
        s = $0; sub(/ \\-.*$/, "", s); gsub(/ /, "", s)
        n = split(s, w, ",")
        for (i = 1; i <= n; i++) in_name[page, w[i]] = 1
        sh = "NAME done"
    }
    sh == "SYNOPSIS" {
        s = $0
        while (match(s, /\\fBsdtls_[a-z0-9_]*\\fP\(/)) {
            in_synopsis[page, substr(s, RSTART + 3, RLENGTH - 7)] = 1
            s = substr(s, RSTART + RLENGTH)
        }
    }
    /^\.SS [a-z0-9_]*\(\)$/ { described[page, substr($0, 5, length($0) - 6)] = 1 }
    /[^ -~]/ { fail("man3/" page ".3:" FNR ": not ASCII (groff reads a page as Latin-1 without preconv; use a roff escape)") }
    {
        # The text without font escapes: "\fBname\fP(" is "name(".
        s = $0
        gsub(/\\f[BIRP]/, "", s)
        gsub(/\\-/, "-", s)
        while (match(s, /[A-Za-z0-9_.-]+\([0-9]\)/)) {
            ref = substr(s, RSTART, RLENGTH)
            s = substr(s, 1, RSTART - 1) " " substr(s, RSTART + RLENGTH)
            refs[page, ref] = 1
        }
        t = s
        while (match(t, /sdtls_[a-z0-9_]*\(/)) {
            name = substr(t, RSTART, RLENGTH - 1)
            t = substr(t, RSTART + RLENGTH)
            if (!(name in is_function)) fail(page "(3) names " name "(), which is not a function of abi/symbols-in-versions")
        }
        t = s
        while (match(t, /SDTLS_[A-Z0-9_]*([0-9]\.[0-9]+)*/)) {
            name = substr(t, RSTART, RLENGTH)
            t = substr(t, RSTART + RLENGTH)
            if (name ~ /^SDTLS_[0-9]/) {
                if (!(name in is_node)) fail(page "(3) names version node " name ", which abi/symbols-in-versions does not have")
            } else if (name ~ /_$/) {
                found = 0
                for (c in is_constant) if (index(c, name) == 1) { found = 1; break }
                if (!found) fail(page "(3) names " name "*, which no constant of abi/sdtls.h begins with")
            } else if (!(name in is_constant)) {
                fail(page "(3) names " name ", which abi/sdtls.h does not define")
            }
        }
    }
    END {
        # Each function: its page (itself, or the one its alias points to)
        # names it, declares it and describes it.
        while ((getline fn < functions) > 0) {
            if (fn in is_page) p = fn
            else if (fn in target) {
                p = target[fn]
                if (p !~ /^man3\/[^\/]*\.3$/) { fail("man3/" fn ".3: \".so " p "\" (want .so man3/PAGE.3)"); continue }
                sub(/^man3\//, "", p); sub(/\.3$/, "", p)
                if (!(p in is_page)) { fail("man3/" fn ".3 points to man3/" p ".3, which is not a page"); continue }
            } else {
                fail(fn " (abi/symbols-in-versions) has no page and no alias man3/" fn ".3")
                continue
            }
            if (!((p, fn) in in_name)) fail(p "(3) does not name " fn " in NAME (whatis, man -k)")
            if (!((p, fn) in in_synopsis)) fail(p "(3) has no prototype of " fn " in SYNOPSIS")
            if (!((p, fn) in described)) fail(p "(3) has no subsection \".SS " fn "()\" describing it")
        }
        # Pages referred to: installed ones (section 3) and the tool'"'"'s sdtls(1).
        for (k in refs) {
            split(k, kv, SUBSEP)
            ref = kv[2]
            name = ref; sub(/\(.*$/, "", name)
            if (ref ~ /\(3\)$/) { if (!(name in is_page) && !(name in target)) fail(kv[1] "(3) refers to " ref ", which is not installed") }
            else if (ref != "sdtls(1)") fail(kv[1] "(3) refers to " ref ", which sdtls does not ship")
        }
    }' "$@" >"$work/names"
sort -o "$work/pages" "$work/pages"
[ -s "$work/pages" ] || { echo "FAIL: no pages in $mandir/man3"; exit 1; }
if [ -s "$work/names" ]; then
    cat "$work/names"
    failed=$((failed + $(wc -l <"$work/names")))
fi

# The pages as groff, man and lexgrog read them (the aliases are their
# pages, as checked above).
[ $render -eq 0 ] || command -v groff >/dev/null ||
    fail "groff is needed to read the pages (Debian: groff-base; packaging/setup-debian.sh installs it)"
[ $render -eq 1 ] && while read -r page; do
    f=$mandir/man3/$page.3 rel=man3/$page.3
    warnings=$(cd "$mandir" && groff -man -ww -z "$rel" 2>&1) || fail "groff failed on $rel"
    [ -z "$warnings" ] || fail "groff -man -ww: $warnings"
    if command -v man >/dev/null; then
        warnings=$(cd "$mandir" && LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
                   man --warnings -E UTF-8 -l -Tutf8 -Z "$rel" 2>&1 >/dev/null) || true
        [ -z "$warnings" ] || fail "man --warnings $rel: $warnings"
    fi
    if command -v lexgrog >/dev/null; then
        lexgrog "$f" >/dev/null 2>&1 || fail "lexgrog finds no whatis entry in $rel"
    fi
done <"$work/pages"

# The examples.
mkdir -p "$work/include/sdtls"
cp "$abi/sdtls.h" "$work/include/sdtls/"
count=0
[ $examples -eq 1 ] && for src in "$abi"/man/*.3.md; do
    page=$(basename "$src" .3.md)
    awk -v dir="$work" -v page="$page" '
        /^```c[ \t]*$/ { n++; file = sprintf("%s/%s.%d.c", dir, page, n); printf "" > file; on = 1; next }
        on && /^```/ { on = 0; close(file); next }
        on { print > file }' "$src"
    for c in "$work/$page".*.c; do
        [ -e "$c" ] || continue
        count=$((count + 1))
        if ! "$cc" -std=c11 -Wall -Wextra -Werror -pedantic -I"$work/include" -c "$c" -o "$c.o" 2>"$work/cc.log"; then
            fail "the example of $page(3) ($(basename "$c")) does not compile:"
            cat "$work/cc.log"
        elif grep -q '^int main(' "$c" && ! "$cc" "$c.o" "$lib" -o "$c.out" 2>"$work/cc.log"; then
            fail "the example of $page(3) ($(basename "$c")) does not link against libsdtls:"
            cat "$work/cc.log"
        fi
    done
done

if [ $failed -ne 0 ]; then
    echo "FAIL: $failed problem(s) with the man pages"
    exit 1
fi
echo "PASS: $(wc -l <"$work/functions") functions on $(wc -l <"$work/pages") pages, $count examples"
