#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `openssl s_client -dtls1_2` -> sdtls server: the server's cookie exchange
# (HelloVerifyRequest, seen on the wire), OpenSSL verifies the sdtls server's
# certificate and name, data goes both ways, OpenSSL's close_notify
# ends the peer on the sdtls side.
. "$(dirname "$0")/common.sh"
setup "$@"
require openssl

start_server_for_client ossl

spawn OSSL_PID openssl s_client -dtls1_2 -connect "127.0.0.1:$RELAY_PORT" -servername localhost \
    -CAfile srv.pem -verify_return_error -verify_hostname localhost \
    <ossl.in >ossl.out 2>ossl.err
wait_accepted s_client
wait_for ossl.out 'Verify return code: 0 \(ok\)' 5 || fail "s_client did not verify the server"
grep -q 'Protocol *: DTLSv1.2' ossl.out || fail "s_client did not negotiate DTLSv1.2"

# Data both ways, the cookie exchange, close_notify at the end of its input.
exchange_with_client openssl ossl "$OSSL_PID"
echo PASS
