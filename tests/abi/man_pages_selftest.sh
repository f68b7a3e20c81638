#!/bin/sh
# abi/man/mkman.sh and tests/abi/man_pages_test.sh catch what they are there
# for: on a scratch copy of abi/, each case below breaks one thing and the
# generator or the check must fail, saying what. The untouched copy passes.
#   man_pages_selftest.sh SOURCE_DIR CC LIBSDTLS
set -eu
src=$1 cc=$2 lib=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

fresh() {
    rm -rf "$work/abi" "$work/man"
    mkdir -p "$work/abi/man"
    cp "$src/abi/sdtls.h" "$src/abi/symbols-in-versions" "$work/abi/"
    cp "$src/abi/man/mkman.sh" "$src/abi/man/mkman.awk" "$src/abi/man/"*.3.md "$work/abi/man/"
}
make_pages() { sh "$work/abi/man/mkman.sh" "$work/man/man3"; }
# The check without its slow parts, or with the one a case is about.
check() { sh "$src/tests/abi/man_pages_test.sh" --no-render --no-examples "$work/abi" "$work/man" "$cc" "$lib"; }
check_render() { sh "$src/tests/abi/man_pages_test.sh" --no-examples "$work/abi" "$work/man" "$cc" "$lib"; }
check_examples() { sh "$src/tests/abi/man_pages_test.sh" --no-render "$work/abi" "$work/man" "$cc" "$lib"; }
# expect CASE PATTERN STEP: STEP fails and its output matches PATTERN.
expect() {
    if "$3" >"$work/out" 2>&1; then
        echo "FAIL: $1: $3 passed"; failed=$((failed + 1))
    elif ! grep -q "$2" "$work/out"; then
        echo "FAIL: $1: $3 failed without saying \"$2\":"; cat "$work/out"; failed=$((failed + 1))
    else
        echo "ok: $1: $(grep -m 1 "$2" "$work/out")"
    fi
}
edit() { # FILE SED-SCRIPT
    sed "$2" "$1" >"$1.new" && mv "$1.new" "$1"
}

fresh
make_pages
check >"$work/out" 2>&1 || { cat "$work/out"; echo "FAIL: the untouched copy does not pass"; exit 1; }
echo "ok: the untouched copy passes"

fresh
cat >>"$work/abi/sdtls.h" <<'EOF'
/* ------------------------------------------------------------------------ */
/* Telepathy                                                                 */
/* ------------------------------------------------------------------------ */

/* Reads the peer's mind. Returns 0. */
SDTLS_EXTERN int sdtls_conn_read_mind(sdtls_conn *conn);
EOF
echo "sdtls_conn_read_mind SDTLS_1.2 0.2.0" >>"$work/abi/symbols-in-versions"
expect "a header section no page documents" 'no page documents the section "Telepathy"' make_pages

fresh
edit "$work/abi/sdtls.h" '/^SDTLS_EXTERN void sdtls_free(void \*ptr);$/a\
\
SDTLS_EXTERN void sdtls_undocumented(void);'
echo "sdtls_undocumented SDTLS_1.1 0.1.0" >>"$work/abi/symbols-in-versions"
expect "a function without a comment" 'sdtls_undocumented() has no comment' make_pages

fresh
make_pages
echo "sdtls_conn_forgotten SDTLS_1.1 0.1.0" >>"$work/abi/symbols-in-versions"
expect "a listed function without a page" 'sdtls_conn_forgotten (abi/symbols-in-versions) has no page and no alias' check

fresh
make_pages
rm "$work/man/man3/sdtls_conn_receive.3"
expect "a missing alias" 'sdtls_conn_receive (abi/symbols-in-versions) has no page and no alias' check

fresh
edit "$work/abi/man/sdtls_conn.3.md" 's/^@header$/Call sdtls_conn_recieve() with each datagram.\
\
@header/'
make_pages
expect "a page naming a function that does not exist" 'sdtls_conn(3) names sdtls_conn_recieve()' check

fresh
edit "$work/abi/man/sdtls_conn.3.md" 's/^see-also: .*/&, sdtls_telepathy(3)/'
make_pages
expect "a page referring to a page that does not exist" 'refers to sdtls_telepathy(3)' check

fresh
edit "$work/abi/sdtls.h" 's/^\/\* Releases memory the library allocated for the caller, wiping it first\./\/* Releases memory (SDTLS_E_NOPE never happens), wiping it first./'
make_pages
expect "a header comment naming a constant that does not exist" 'names SDTLS_E_NOPE, which abi/sdtls.h does not define' check

fresh
printf '\nA na\303\257ve sentence.\n' >>"$work/abi/man/sdtls_alpn.3.md"
make_pages
expect "a character that is not ASCII" 'man3/sdtls_alpn.3:[0-9]*: not ASCII' check

# The generator escapes what it copies, so only a bug of its own would make
# groff warn: a page spoilt after the fact stands in for one.
fresh
make_pages
echo ".XX not a macro" >>"$work/man/man3/sdtls_alpn.3"
expect "a page groff warns about" "groff -man -ww: .*XX" check_render

fresh
edit "$work/abi/man/sdtls_key_update.3.md" 's/sdtls_conn_key_update(conn, now)/sdtls_conn_key_update(conn)/'
make_pages
expect "an example that does not compile" 'the example of sdtls_key_update(3)' check_examples

[ $failed -eq 0 ] || { echo "FAIL: $failed case(s)"; exit 1; }
echo PASS
