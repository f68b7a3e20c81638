#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The symbol list abi/symbols-in-versions is the ABI's table of contents:
# one line per public function with its version node and the release that
# introduced it. This check holds it against
#   - abi/sdtls.h: every SDTLS_EXTERN function is listed, nothing else is;
#   - abi/sdtls.map: each node's global: names are exactly the list's names
#     for that node (no wildcards);
#   - a built libsdtls.so (--library): its exported functions, name@node
#     as objdump -T shows them, are exactly the list;
#   - packaging/debian/libsdtls1.symbols (--debian): it is what the list
#     derives (--write-debian writes it).
# Each difference is one line saying what is missing where, and the fix.
#
# Usage: check-symbols.sh [--library LIBSDTLS.SO] [--debian [FILE]]
#        check-symbols.sh --write-debian [FILE]
set -eu
abi=$(cd "$(dirname "$0")" && pwd)
list=$abi/symbols-in-versions
map=$abi/sdtls.map
header=$abi/sdtls.h
debian_default=$(cd "$abi/.." && pwd)/packaging/debian/libsdtls1.symbols
lib= debian= write=
while [ $# -gt 0 ]; do
    case $1 in
        --library) lib=$2; shift 2 ;;
        --debian|--write-debian)
            [ "$1" = --write-debian ] && write=1
            if [ $# -gt 1 ] && [ "${2#--}" = "$2" ]; then debian=$2; shift; else debian=$debian_default; fi
            shift ;;
        *) echo "usage: $0 [--library LIB] [--debian [FILE]] | --write-debian [FILE]" >&2; exit 2 ;;
    esac
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The list: "name node since" per line; # comments and blank lines skipped.
awk -v f="$list" '
    /^[[:space:]]*(#|$)/ { next }
    NF != 3 || $1 !~ /^sdtls_[a-z0-9_]+$/ || $2 !~ /^SDTLS_[0-9]+(\.[0-9]+)*$/ || $3 !~ /^[0-9]+\.[0-9]+\.[0-9]+$/ {
        printf "FAIL: %s:%d: want \"function NODE x.y.z\", got: %s\n", f, NR, $0; next }
    seen[$1]++ { printf "FAIL: %s:%d: %s listed twice\n", f, NR, $1 }
    ($2 in since) && since[$2] != $3 {
        printf "FAIL: %s:%d: node %s came with %s, not %s (one node, one release)\n", f, NR, $2, since[$2], $3 }
    { since[$2] = $3; print $1, $2, $3 }
    ' "$list" >"$tmp/list.raw"
grep -v '^FAIL' "$tmp/list.raw" >"$tmp/list.full" || true
awk '{ print $1, $2 }' "$tmp/list.full" | sort >"$tmp/list"
awk '{ print $1 }' "$tmp/list" >"$tmp/list.names"

# The start of an awk program for C-style text: `out` is the line without
# its /* */ comments (which may span lines).
strip_comments='
    { line = $0
      out = ""
      while (line != "") {
          if (incomment) {
              i = index(line, "*/"); if (!i) { line = ""; break }
              line = substr(line, i + 2); incomment = 0
          } else {
              i = index(line, "/*"); if (!i) { out = out line; line = ""; break }
              out = out substr(line, 1, i - 1) " "; line = substr(line, i + 2); incomment = 1
          }
      }
    }'

# The header: the name before "(" of each SDTLS_EXTERN declaration, with
# comments and preprocessor lines left out (a declaration may span lines).
awk "$strip_comments"'
    out ~ /^[[:space:]]*#/ { next }
    { text = text " " out }
    END {
      n = split(text, decl, ";")
      for (i = 1; i <= n; i++) {
          if (decl[i] !~ /SDTLS_EXTERN/) continue
          d = decl[i]; sub(/^.*SDTLS_EXTERN/, "", d); sub(/\(.*$/, "", d)
          if (match(d, /[A-Za-z_][A-Za-z0-9_]*[[:space:]]*$/)) {
              name = substr(d, RSTART, RLENGTH); gsub(/[[:space:]]/, "", name); print name }
      }
    }' "$header" | sort >"$tmp/header"
[ -s "$tmp/header" ] || echo "FAIL: no SDTLS_EXTERN declarations found in $header" >>"$tmp/list.raw"

# The version script: "name node" for each name in a node's global: part.
awk -v f="$map" "$strip_comments"'
    { text = text " " out }
    END {
      gsub(/[{};]/, " & ", text); gsub(/:/, " : ", text)
      n = split(text, t, /[[:space:]]+/)
      node = ""; part = ""
      for (i = 1; i <= n; i++) {
          w = t[i]; if (w == "") continue
          if (node == "" && t[i + 1] == "{") { node = w; part = ""; i++; print "{node}", w; continue }
          if (w == "}") { node = ""; part = ""; while (i <= n && t[i] != ";") i++; continue }
          if (t[i + 1] == ":") { part = w; i++; continue }
          if (w == ";") continue
          if (part == "global") {
              if (w ~ /[*?\[]/) { printf "FAIL: %s: node %s exports the pattern \"%s\"; name each function\n", f, node, w }
              else print w, node
          }
      }
    }' "$map" >"$tmp/map.raw"
grep '^{node} ' "$tmp/map.raw" | cut -d' ' -f2 | sort >"$tmp/map.nodes"
grep -v '^FAIL' "$tmp/map.raw" | grep -v '^{node} ' | sort >"$tmp/map"

# What is in A and not in B, one line per difference.
missing() { # A B message-prefix message-suffix
    comm -23 "$1" "$2" | while read -r line; do echo "FAIL: $3$line$4"; done
}

# Header <-> list.
out=$(grep -h '^FAIL' "$tmp/list.raw" "$tmp/map.raw" || true)
out="$out
$(comm -23 "$tmp/header" "$tmp/list.names" | while read -r name; do
    echo "FAIL: $name is declared in abi/sdtls.h but not listed in abi/symbols-in-versions (add a line \"$name NODE x.y.z\": the node of abi/sdtls.map that exports it, e.g. a new SDTLS_1.1, and the release that ships it)"
done)"
out="$out
$(missing "$tmp/list.names" "$tmp/header" "" " is listed in abi/symbols-in-versions but not declared SDTLS_EXTERN in abi/sdtls.h")"
# Map <-> list (names with their node).
for pair in $(comm -23 "$tmp/list" "$tmp/map" | tr ' ' '@'); do
    name=${pair%@*} node=${pair#*@}
    if grep -q "^$name " "$tmp/map"; then
        out="$out
FAIL: $name is in node $(grep "^$name " "$tmp/map" | cut -d' ' -f2 | tr '\n' ' ')of abi/sdtls.map but in $node in abi/symbols-in-versions"
    else
        out="$out
FAIL: $name ($node in abi/symbols-in-versions) is not exported by abi/sdtls.map (add \"$name;\" to the global: list of node $node)"
    fi
done
for pair in $(comm -13 "$tmp/list" "$tmp/map" | tr ' ' '@'); do
    name=${pair%@*} node=${pair#*@}
    grep -q "^$name " "$tmp/list" && continue  # reported above as a wrong node
    out="$out
FAIL: $name is exported by node $node of abi/sdtls.map but not listed in abi/symbols-in-versions"
done
# Every node of the list exists in the map (it may be a node still empty).
for node in $(awk '{ print $2 }' "$tmp/list" | sort -u); do
    grep -qx "$node" "$tmp/map.nodes" ||
        out="$out
FAIL: node $node (in abi/symbols-in-versions) is not defined in abi/sdtls.map (add \"$node { global: ...; } <previous node>;\")"
done

# The built library: exported functions with their version node.
if [ -n "$lib" ]; then
    objdump -T "$lib" | awk '$3 == "DF" && $4 == ".text" { v = $(NF - 1); gsub(/[()]/, "", v); print $NF, v }' |
        sort >"$tmp/lib"
    [ -s "$tmp/lib" ] || out="$out
FAIL: $lib exports no functions"
    out="$out
$(missing "$tmp/list" "$tmp/lib" "" " (name node, in abi/symbols-in-versions) is not exported so by $lib (rebuild after editing abi/sdtls.map?)")"
    out="$out
$(missing "$tmp/lib" "$tmp/list" "" " (name node) is exported by $lib but not listed in abi/symbols-in-versions")"
fi

# The Debian symbols file, derived from the list: each node's own symbol,
# then each function, name@node with the release that introduced it.
derive_debian() {
    echo "libsdtls.so.1 libsdtls1 #MINVER#"
    echo "* Build-Depends-Package: libsdtls-dev"
    awk '!($2 in n) { n[$2] = 1; print " " $2 "@" $2, $3 } { print " " $1 "@" $2, $3 }' "$tmp/list.full" |
        LC_ALL=C sort
}
if [ -n "$debian" ]; then
    derive_debian >"$tmp/debian"
    if [ -n "$write" ]; then
        cp "$tmp/debian" "$debian"
        echo "wrote $debian"
    elif ! cmp -s "$tmp/debian" "$debian"; then
        out="$out
FAIL: $debian is not what abi/symbols-in-versions derives (sh abi/check-symbols.sh --write-debian):
$(diff "$debian" "$tmp/debian" | sed -n 's/^[<>]/  &/p')"
    fi
fi

out=$(printf '%s\n' "$out" | sed '/^$/d')
errors=0
if [ -n "$out" ]; then
    printf '%s\n' "$out"
    errors=$(printf '%s\n' "$out" | grep -c '^FAIL' || true)
fi
if [ $errors -ne 0 ]; then
    echo "FAIL: $errors problem(s) with the symbol list"
    exit 1
fi
echo "OK: $(wc -l <"$tmp/list") functions in $(awk '{ print $2 }' "$tmp/list" | sort -u | wc -l) node(s): header, list, map${lib:+, library}${debian:+, Debian symbols} agree"
