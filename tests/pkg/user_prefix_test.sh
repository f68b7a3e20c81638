#!/bin/sh
# README's "Install" for a user without root: `cmake --install` into a prefix
# of one's own, then moved (nothing installed may name where it was put), and
# README's C client (the ```c block that connects to 127.0.0.1:4433, its port
# changed to the server's) built against it
#   - with pkg-config, only PKG_CONFIG_PATH set: sdtls (libsdtls.so.1, run
#     with LD_LIBRARY_PATH) and sdtls-static (libsdtls.a: ldd shows no
#     libsdtls);
#   - with CMake, only CMAKE_PREFIX_PATH set: find_package(sdtls) with
#     sdtls::sdtls and sdtls::sdtls_static (tests/pkg/consumer);
# each run against the installed tool's echo server on 127.0.0.1, where it
# must get its "hello" back.
#
# Usage: user_prefix_test.sh BUILD_DIR SOURCE_DIR
set -eu
build=$1 src=$2
work=$(mktemp -d)
server=
trap '[ -z "$server" ] || kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; for f in "$work"/*.log; do [ -f "$f" ] && { echo "== $f"; tail -n 30 "$f"; }; done; exit 1; }

cmake --install "$build" --prefix "$work/staged" >"$work/install.log"
mv "$work/staged" "$work/prefix"
prefix=$work/prefix
libdir=$(dirname "$(find "$prefix" -name libsdtls.so.1 | head -n 1)")
[ -f "$libdir/pkgconfig/sdtls.pc" ] || fail "no sdtls.pc beside libsdtls.so.1 in $libdir"

# The README's client, talking to the port of our server instead of 4433.
sh "$src/tests/abi/readme_c_blocks.sh" "$src/README.md" "$work"
client_src=$(grep -l 'htons(4433)' "$work"/block*.c | head -n 1)
[ -n "$client_src" ] || fail "README.md has no C client for 127.0.0.1:4433"

# The installed tool: a certificate (the client trusts ca.pem, for the name
# localhost) and an echo server on a port the kernel picks.
export LD_LIBRARY_PATH="$libdir"
mkdir "$work/run"
cd "$work/run"
"$prefix/bin/sdtls" cert --cert ca.pem --key key.pem --cn localhost >/dev/null
"$prefix/bin/sdtls" server --listen 127.0.0.1:0 --cert ca.pem --key key.pem --echo \
    >"$work/server.log" 2>&1 &
server=$!
port=
for _ in $(seq 100); do
    port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$work/server.log")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || fail "the installed sdtls server did not start"
sed "s/htons(4433)/htons($port)/" "$client_src" >"$work/client.c"

run_client() { # program: the README client gets its hello back
    out=$(timeout 60 "$1") || fail "$(basename "$1") exited $? (output: $out)"
    [ "$out" = hello ] || fail "$(basename "$1") printed '$out', not the echo"
    echo "ok: $(basename "$1") (needs: $(objdump -p "$1" | awk '/NEEDED/ { printf "%s ", $2 }'))"
}
libsdtls_of() { ldd "$1" | awk '/libsdtls/ { print $3 }'; }

# pkg-config, from the moved prefix.
export PKG_CONFIG_PATH="$libdir/pkgconfig"
includedir=$(dirname "$(dirname "$(find "$prefix" -path '*/sdtls/sdtls.h' | head -n 1)")")
same_dir() { [ -d "$1" ] && [ "$(cd "$1" && pwd -P)" = "$(cd "$2" && pwd -P)" ]; }
for pc in sdtls sdtls-static; do
    same_dir "$(pkg-config --variable=libdir $pc)" "$libdir" ||
        fail "$pc.pc: libdir is $(pkg-config --variable=libdir $pc), not $libdir"
    same_dir "$(pkg-config --variable=includedir $pc)" "$includedir" ||
        fail "$pc.pc: includedir is $(pkg-config --variable=includedir $pc), not $includedir"
done
cc -std=c11 -Wall -Wextra -Werror "$work/client.c" $(pkg-config --cflags --libs sdtls) -o "$work/client_pc" ||
    fail "README's client does not build with pkg-config --cflags --libs sdtls"
[ "$(libsdtls_of "$work/client_pc")" = "$libdir/libsdtls.so.1" ] ||
    fail "client_pc does not load $libdir/libsdtls.so.1: $(ldd "$work/client_pc")"
run_client "$work/client_pc"
cc -std=c11 -Wall -Wextra -Werror "$work/client.c" $(pkg-config --cflags --libs sdtls-static) -o "$work/client_pc_static" ||
    fail "README's client does not build with pkg-config --cflags --libs sdtls-static"
[ -z "$(libsdtls_of "$work/client_pc_static")" ] || fail "client_pc_static loads libsdtls: $(ldd "$work/client_pc_static")"
run_client "$work/client_pc_static"

# CMake, from the moved prefix.
generator=
command -v ninja >/dev/null && generator="-G Ninja"
cmake -S "$src/tests/pkg/consumer" -B "$work/app" $generator -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$prefix" -DSDTLS_EXAMPLE="$work/client.c" >"$work/configure.log" 2>&1 ||
    fail "find_package(sdtls) failed"
cmake --build "$work/app" >"$work/build.log" 2>&1 || fail "README's client does not build with find_package(sdtls)"
[ "$(libsdtls_of "$work/app/example_shared")" = "$libdir/libsdtls.so.1" ] ||
    fail "the sdtls::sdtls build does not load $libdir/libsdtls.so.1: $(ldd "$work/app/example_shared")"
run_client "$work/app/example_shared"
[ -z "$(libsdtls_of "$work/app/example_static")" ] ||
    fail "the sdtls::sdtls_static build loads libsdtls: $(ldd "$work/app/example_static")"
run_client "$work/app/example_static"
echo PASS
