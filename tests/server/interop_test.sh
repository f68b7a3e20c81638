#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# sdtls_server (through the `sdtls server` tool) against real DTLS 1.2
# clients over loopback UDP: `openssl s_client` and `gnutls-cli`, at the same
# time on one server socket. Each must go through the HelloVerifyRequest,
# finish without a retransmission, and get its data echoed.
# Usage: interop_test.sh PATH_TO_SDTLS_TOOL
set -u
tool=$1
# Both peers are required (sh packaging/setup-debian.sh installs them).
have_openssl=1 have_gnutls=1
for p in openssl gnutls-cli; do
  command -v $p >/dev/null 2>&1 || { echo "FAIL: $p not installed"; exit 1; }
done

dir=$(mktemp -d)
srv_pid=
cleanup() {
  [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; for f in "$dir"/*.out "$dir"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }; done; exit 1; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=localhost -keyout "$dir/key.pem" -out "$dir/cert.pem" >/dev/null 2>&1 ||
  fail "could not make a test certificate"

# Bind 127.0.0.1 explicitly (clients resolve localhost to ::1 first).
"$tool" server --listen 127.0.0.1:0 --cert "$dir/cert.pem" --key "$dir/key.pem" --echo \
  >"$dir/server.out" 2>"$dir/server.err" &
srv_pid=$!
port=
i=0
while [ $i -lt 50 ]; do
  port=$(sed -n 's/^listening 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$dir/server.err")
  [ -n "$port" ] && break
  kill -0 "$srv_pid" 2>/dev/null || fail "server exited"
  sleep 0.1; i=$((i + 1))
done
[ -n "$port" ] || fail "server did not report its port"

# The clients read stdin: keep it open (sleep) until the echo is back.
if [ $have_openssl = 1 ]; then
  (printf 'hello-from-openssl\n'; sleep 3) |
    timeout 20 openssl s_client -dtls1_2 -connect "127.0.0.1:$port" -trace \
      >"$dir/openssl.out" 2>"$dir/openssl.err" &
  ossl_pid=$!
fi
if [ $have_gnutls = 1 ]; then
  (printf 'hello-from-gnutls\n'; sleep 3) |
    timeout 20 gnutls-cli --udp --insecure -p "$port" -d 4 127.0.0.1 \
      >"$dir/gnutls.out" 2>"$dir/gnutls.err" &
  gnutls_pid=$!
fi
[ $have_openssl = 1 ] && { wait $ossl_pid || fail "openssl s_client failed"; }
[ $have_gnutls = 1 ] && { wait $gnutls_pid || fail "gnutls-cli failed"; }

if [ $have_openssl = 1 ]; then
  grep -q 'HelloVerifyRequest, Length=' "$dir/openssl.out" ||
    fail "openssl: no HelloVerifyRequest received"
  n=$(grep -c 'ServerHello, Length=' "$dir/openssl.out")
  [ "$n" = 1 ] || fail "openssl: $n ServerHellos (a retransmission: the cookie hand-over is off)"
  grep -qx 'hello-from-openssl' "$dir/openssl.out" || fail "openssl: no echo"
  echo "openssl s_client: HelloVerifyRequest, one ServerHello, echo ok"
else
  echo "openssl: not installed, skipped"
fi
if [ $have_gnutls = 1 ]; then
  cat "$dir/gnutls.err" >>"$dir/gnutls.out"
  grep -q 'HELLO VERIFY REQUEST (3) was received' "$dir/gnutls.out" ||
    fail "gnutls: no HelloVerifyRequest received"
  n=$(grep -c 'SERVER HELLO (2) was received' "$dir/gnutls.out")
  [ "$n" = 1 ] || fail "gnutls: $n ServerHellos (a retransmission: the cookie hand-over is off)"
  grep -q 'Handshake was completed' "$dir/gnutls.out" || fail "gnutls: handshake not completed"
  grep -qx 'hello-from-gnutls' "$dir/gnutls.out" || fail "gnutls: no echo"
  echo "gnutls-cli: HelloVerifyRequest, one ServerHello, echo ok"
else
  echo "gnutls-cli: not installed, skipped"
fi
n=$(grep -c '^accepted ' "$dir/server.err")
[ "$n" = $((have_openssl + have_gnutls)) ] || fail "server accepted $n peers"
echo "PASS"
