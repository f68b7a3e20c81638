#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `gnutls-cli --udp` -> sdtls server: the server's cookie exchange
# (HelloVerifyRequest, seen on the wire), GnuTLS verifies the sdtls server's
# certificate and name, data goes both ways, GnuTLS's close ends the peer.
. "$(dirname "$0")/common.sh"
setup "$@"
require gnutls-cli

start_server_for_client gnutls

spawn GNUTLS_PID gnutls-cli --udp -p "$RELAY_PORT" --x509cafile srv.pem \
    --verify-hostname localhost --sni-hostname localhost 127.0.0.1 \
    <gnutls.in >gnutls.out 2>gnutls.err
wait_accepted gnutls-cli
wait_for gnutls.out 'Handshake was completed' 5 || fail "gnutls-cli did not complete the handshake"
grep -q 'The certificate is trusted' gnutls.out || fail "gnutls-cli did not verify the server"

# Data both ways, the cookie exchange, close_notify at the end of its input.
exchange_with_client gnutls gnutls "$GNUTLS_PID"
echo PASS
