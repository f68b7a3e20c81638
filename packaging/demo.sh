#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The main job, end to end: installs what building needs if it is missing
# (or, without root or sudo, says what to ask an administrator for), builds
# sdtls and its tool in build/demo, makes a self-signed certificate, starts
# an echo server on 127.0.0.1 and sends three lines through a verifying
# client. No root is needed once cmake, ninja and a C/C++ compiler are there.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}/demo  # its own: tests/run.sh configures build/release with other flags
sh "$root/packaging/setup-debian.sh" build
# Without the tests, whose peers (openssl, gnutls, tshark ...) the demo does
# not need.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSDTLS_BUILD_TESTS=OFF >/dev/null
echo "building sdtls in $build ..." >&2
ninja --quiet -C "$build" sdtls_tool
tool=$build/src/tool/sdtls

work=$(mktemp -d)
server=
trap '[ -z "$server" ] || kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM
"$tool" cert --cert "$work/cert.pem" --key "$work/key.pem" --cn localhost
port=$((20000 + $$ % 20000))
# The server's messages go to a file as well, so that the client starts
# only once the server says "listening" (a client earlier than the socket
# gets an ICMP port unreachable: "connection refused").
"$tool" server --listen 127.0.0.1:$port --cert "$work/cert.pem" --key "$work/key.pem" --echo \
    2>"$work/server.log" &
server=$!
tail -f "$work/server.log" >&2 &
tailer=$!
trap '[ -z "$server" ] || kill "$server" "$tailer" 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM
i=0
until grep -q '^listening' "$work/server.log"; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$server" 2>/dev/null; then
        echo "demo: the server did not start" >&2
        exit 1
    fi
    sleep 0.1
done
printf 'hello\nfrom sdtls\nover DTLS 1.2\n' |
    "$tool" client 127.0.0.1:$port --ca "$work/cert.pem" --server-name localhost --timeout 2

cat <<EOF

The sdtls tool is $tool. Try next:
    $tool client --help
        a DTLS client for any DTLS server (and: server --help, cert --help)
    README.md, section "Install"
        the library in a prefix of your own, for programs built with
        pkg-config or CMake (find_package(sdtls))
EOF
