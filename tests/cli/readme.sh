#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# README.md's usage block (section "The `sdtls` tool") and `sdtls COMMAND
# --help` name the same options, for cert, server and client, so neither can
# drift from the other; the section also points at --help.
# Arguments: the tool, the scratch directory, README.md.
. "$(dirname "$0")/lib.sh"
README=$(realpath "${3:?usage: $0 SDTLS_TOOL SCRATCH_DIR README.md}")
setup "$@"

# The section, up to the next "## " heading.
sed -n '/^## The `sdtls` tool$/,/^## /p' "$README" | sed '$d' >section.txt
[ -s section.txt ] || fail "README.md has no section 'The \`sdtls\` tool'"
grep -q -- '--help' section.txt || fail "README's tool section does not mention --help"

# Its first indented block is the usage: "    sdtls CMD ..." lines, each
# continued by lines indented further.
awk '/^    sdtls / { inblock = 1 } inblock && !/^    / { exit } inblock' section.txt >usage.txt
[ -s usage.txt ] || fail "no usage block in README's tool section"

options() { grep -o -- '--[a-z][a-z0-9-]*' | grep -vx -- '--help' | sort -u; }

for cmd in cert server client; do
    "$SDTLS" $cmd --help >$cmd.help || fail "sdtls $cmd --help exited $?"
    options <$cmd.help >$cmd.help-options
    [ -s $cmd.help-options ] || fail "no options in sdtls $cmd --help"
    # The README's lines for CMD: its "sdtls CMD" line and the continuation lines.
    awk -v cmd="$cmd" '/^    sdtls / { mine = ($2 == cmd) } mine' usage.txt >$cmd.usage
    [ -s $cmd.usage ] || fail "README's usage block has no 'sdtls $cmd' line"
    options <$cmd.usage >$cmd.readme-options
    missing=$(comm -23 $cmd.help-options $cmd.readme-options | tr '\n' ' ')
    extra=$(comm -13 $cmd.help-options $cmd.readme-options | tr '\n' ' ')
    [ -z "$missing" ] || fail "README's usage of 'sdtls $cmd' lacks: $missing"
    [ -z "$extra" ] || fail "README's usage of 'sdtls $cmd' has options its --help lacks: $extra"
done
echo PASS
