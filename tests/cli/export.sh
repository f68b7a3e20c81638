#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# --export LABEL:LEN prints "EXPORT <label> <2*LEN lowercase hex>" on stdout
# before any data; different connections export different keys.
. "$(dirname "$0")/lib.sh"
setup "$@"

make_cert srv localhost
start_sdtls_server server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --echo

run() { # run N LABEL:LEN
    printf 'data-%s\n' "$1" | timeout 20 "$SDTLS" client "127.0.0.1:$SERVER_PORT" --ca srv.pem \
        --server-name localhost --export "$2" >"run$1.out" 2>"run$1.err" ||
        fail "client run $1 exited $?"
}
run 1 EXTRACTOR-dtls_srtp:60
run 2 EXTRACTOR-dtls_srtp:60
run 3 'my:label:16'

for i in 1 2; do
    [ "$(wc -l <run$i.out)" -eq 2 ] || fail "run $i: expected 2 lines"
    head -n1 run$i.out | grep -Eqx 'EXPORT EXTRACTOR-dtls_srtp [0-9a-f]{120}' ||
        fail "run $i: bad EXPORT line: $(head -n1 run$i.out)"
    [ "$(sed -n 2p run$i.out)" = "data-$i" ] || fail "run $i: data after the export missing"
done
k1=$(head -n1 run1.out | cut -d' ' -f3)
k2=$(head -n1 run2.out | cut -d' ' -f3)
[ "$k1" != "$k2" ] || fail "two connections exported the same keying material"
[ "$k1" != "$(printf '0%.0s' $(seq 120))" ] || fail "all-zero keying material"
# The label is everything before the last colon.
head -n1 run3.out | grep -Eqx 'EXPORT my:label [0-9a-f]{32}' || fail "run 3: $(head -n1 run3.out)"
echo PASS
