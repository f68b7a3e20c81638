#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Command-line handling: --help (0, on stdout), --version, usage errors (2,
# usage on stderr, nothing on stdout).
. "$(dirname "$0")/lib.sh"
setup "$@"

expect_help() {
    "$SDTLS" "$@" >help.out 2>help.err
    local rc=$?
    [ $rc -eq 0 ] || fail "'$*' exited $rc"
    grep -q '^Usage: sdtls' help.out || fail "'$*' printed no usage on stdout"
    [ ! -s help.err ] || fail "'$*' wrote to stderr"
}
expect_help --help
expect_help client --help
expect_help server --help
expect_help cert --help
expect_help client -h
# --help wins wherever it is.
expect_help client 127.0.0.1:1 --insecure --help
for opt in --export --keylog --srtp --require-srtp --alpn --fingerprint --psk-identity --psk \
    --session --verbose -vv; do
    grep -q -- "$opt" help.out || fail "client help lacks $opt"
done
expect_help server --help
for opt in --no-cookies --max-peers --idle-timeout --echo --keylog --export --srtp --alpn \
    --fingerprint --psk-identity --psk --psk-hint --ticket-secret-file --cookie-secret-file \
    --verbose -vv; do
    grep -q -- "$opt" help.out || fail "server help lacks $opt"
done
grep -q 'ICE' help.out || fail "server help does not say when --no-cookies is fit"

"$SDTLS" --version >v.out 2>&1 || fail "--version exited $?"
grep -Eq '^sdtls [0-9]+\.[0-9]+\.[0-9]+' v.out || fail "--version: $(cat v.out)"

usage_error() {
    "$SDTLS" "$@" >u.out 2>u.err </dev/null
    local rc=$?
    [ $rc -eq 2 ] || fail "'$*' exited $rc, expected 2"
    [ -s u.err ] || fail "'$*': nothing on stderr"
    [ ! -s u.out ] || fail "'$*': wrote to stdout"
}
usage_error
usage_error frobnicate
usage_error --bogus
usage_error client
usage_error client --bogus 127.0.0.1:4433
usage_error client 127.0.0.1:4433 extra
usage_error client 127.0.0.1
usage_error client 127.0.0.1:99999
usage_error client ::1:4433
usage_error client '[::1]4433'
usage_error client 127.0.0.1:4433 --insecure --ca x.pem
usage_error client 127.0.0.1:4433 --insecure --mtu 100
usage_error client 127.0.0.1:4433 --insecure --timeout -1
usage_error client 127.0.0.1:4433 --insecure --export nolen
usage_error client 127.0.0.1:4433 --insecure --export label:0
usage_error client 127.0.0.1:4433 --insecure --export label:1025
usage_error client 127.0.0.1:4433 --insecure --cert c.pem
usage_error client 127.0.0.1:4433 --insecure --srtp SRTP_BOGUS
usage_error client 127.0.0.1:4433 --insecure --require-srtp
usage_error client 127.0.0.1:4433 --insecure --verbose=2
usage_error client 127.0.0.1:4433 --insecure --alpn ''
usage_error client 127.0.0.1:4433 --fingerprint nope
usage_error client 127.0.0.1:4433 --psk-identity id
usage_error client 127.0.0.1:4433 --psk-identity id --psk 123
usage_error client 127.0.0.1:4433 --ca
grep -q 'Usage: sdtls client' u.err || fail "no client usage on stderr"
usage_error server
usage_error server --listen 127.0.0.1:0 --cert c.pem
usage_error server --listen 127.0.0.1 --cert c.pem --key c.key
usage_error server --listen 127.0.0.1:0 --cert c.pem --key c.key --require-client-cert
usage_error server --listen 127.0.0.1:0 --cert c.pem --key c.key --bogus
usage_error server --listen 127.0.0.1:0 --cert c.pem --key c.key --mtu 70000
usage_error server --listen 127.0.0.1:0 --cert c.pem --key c.key --max-peers 0
usage_error server --listen 127.0.0.1:0 --cert c.pem --key c.key --max-peers 1000001
usage_error server --listen 127.0.0.1:0 --cert c.pem --key c.key --max-peers 2x
usage_error server --listen 127.0.0.1:0 --cert c.pem --key c.key --idle-timeout -1
usage_error server --listen 127.0.0.1:0 --cert c.pem --key c.key --idle-timeout 1s
usage_error server --listen 127.0.0.1:0 --cert c.pem --key c.key --idle-timeout 86401
usage_error server --listen 127.0.0.1:0 --cert c.pem --key c.key --no-cookies=1
usage_error server --listen 127.0.0.1:0 --cert c.pem --key c.key --export label
usage_error server --listen 127.0.0.1:0 --cert c.pem --key c.key --srtp SRTP_BOGUS
usage_error server --listen 127.0.0.1:0 --psk 00
usage_error cert
usage_error cert --cert a.pem --key a.key --bogus
grep -q 'Usage: sdtls cert' u.err || fail "no cert usage on stderr"

# Bad files are failures (1), with a message naming the file.
"$SDTLS" server --listen 127.0.0.1:0 --cert missing.pem --key missing.key </dev/null >/dev/null 2>f.err
rc=$?
[ $rc -eq 1 ] || fail "missing certificate exited $rc"
grep -q missing.pem f.err || fail "missing certificate: message does not name it"
# Good values of the server's limits pass the command line (and fail on the file).
for args in "--idle-timeout 0.5" "--idle-timeout 0" "--max-peers 1" "--no-cookies"; do
    "$SDTLS" server --listen 127.0.0.1:0 --cert missing.pem --key missing.key $args \
        </dev/null >/dev/null 2>f.err
    rc=$?
    [ $rc -eq 1 ] || fail "server $args exited $rc, expected 1: $(cat f.err)"
done
echo x | "$SDTLS" client 127.0.0.1:9 --ca missing-ca.pem >/dev/null 2>f.err
rc=$?
[ $rc -eq 1 ] || fail "missing CA file exited $rc"
grep -q missing-ca.pem f.err || fail "missing CA: message does not name it"
echo PASS
