#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The man page (src/tool/sdtls.1) and the tool agree: for each command (client,
# server, cert) every option of `sdtls COMMAND --help` is described in the
# page's section for that command and named in its SYNOPSIS line, and the
# page names no option that --help lacks; every command of `sdtls --help`
# has a section; the page's version is the tool's. Then man renders the page
# without a warning (as lintian checks it).
# Arguments: the tool, the man page.
set -eu
tool=$1 page=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
failed=0

# The source as plain text: font escapes and \c dropped, \- as -.
sed -e 's/\\f[BIRP]//g' -e 's/\\fP//g' -e 's/\\-/-/g' -e 's/\\c//g' "$page" >"$work/page"
options() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }

commands=$("$tool" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')
[ -n "$commands" ] || fail "no commands in sdtls --help"
for cmd in $commands; do
    upper=$(echo "$cmd" | tr a-z A-Z)
    before=$failed
    "$tool" "$cmd" --help >"$work/$cmd.help" || fail "sdtls $cmd --help exited $?"
    options <"$work/$cmd.help" >"$work/$cmd.help-options"
    [ -s "$work/$cmd.help-options" ] || fail "no options in sdtls $cmd --help"
    # The section ".SH CMD" up to the next .SH.
    awk -v sh=".SH $upper" '$0 == sh { on = 1; next } on && /^\.SH / { exit } on' "$work/page" >"$work/$cmd.section"
    [ -s "$work/$cmd.section" ] || { fail "$page has no section \".SH $upper\" for sdtls $cmd"; continue; }
    options <"$work/$cmd.section" >"$work/$cmd.page-options"
    for o in $(comm -23 "$work/$cmd.help-options" "$work/$cmd.page-options"); do
        fail "sdtls $cmd --help has $o; the man page's $upper section does not describe it"
    done
    for o in $(comm -13 "$work/$cmd.help-options" "$work/$cmd.page-options"); do
        fail "the man page's $upper section names $o; sdtls $cmd --help does not have it"
    done
    # The SYNOPSIS lines of CMD: from ".B sdtls CMD" to the next .br.
    awk -v cmd="$cmd" '/^\.SH SYNOPSIS/ { syn = 1; next } syn && /^\.SH / { exit }
        syn && $1 == ".B" && $2 == "sdtls" && $3 == cmd { on = 1 } on && /^\.br/ { on = 0 } on' \
        "$work/page" | options >"$work/$cmd.synopsis-options"
    for o in $(comm -23 "$work/$cmd.help-options" "$work/$cmd.synopsis-options" | grep -vx -- --help); do
        fail "sdtls $cmd --help has $o; the man page's SYNOPSIS line for sdtls $cmd lacks it"
    done
    for o in $(comm -13 "$work/$cmd.help-options" "$work/$cmd.synopsis-options"); do
        fail "the man page's SYNOPSIS line for sdtls $cmd names $o; sdtls $cmd --help does not have it"
    done
    [ $failed -ne $before ] || echo "ok: sdtls $cmd: $(wc -l <"$work/$cmd.help-options") options in SYNOPSIS and $upper"
done

# .TH SDTLS 1 DATE "sdtls X.Y.Z": the version the tool was built with.
page_version=$(awk '$1 == ".TH" { for (i = 1; i <= NF; i++) if ($i == "\"sdtls") { v = $(i + 1); gsub(/"/, "", v); print v } }' "$page")
tool_version=$("$tool" --version | sed -n 's/.*(header \([0-9.]*\)).*/\1/p')
[ "$page_version" = "$tool_version" ] || fail "the man page is for sdtls '$page_version', the tool is $tool_version"

if command -v man >/dev/null; then
    warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null || true)
    [ -z "$warnings" ] || fail "man warns about $page: $warnings"
fi
[ $failed -eq 0 ] || exit 1
echo PASS
