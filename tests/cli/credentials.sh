#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# --cert/--key/--ca problems (client and server) are failures (exit 1) whose
# message names the file that failed, and only that one: a missing or empty
# key file, a key of another certificate ("key does not match certificate"),
# a certificate file without a certificate, a key the library cannot use. Good
# keys in the other PEM forms (SEC1 after EC parameters, PKCS#1 RSA, key and
# certificate in one file) still load.
. "$(dirname "$0")/lib.sh"
setup "$@"

make_cert srv localhost
make_cert other localhost
echo "not a pem file" >junk.pem
: >empty.pem

# expect_cred_error NAME MUST_MATCH MUST_NOT_MATCH CREDENTIAL_ARGS...: the
# client and the server each exit 1 with one message that matches MUST_MATCH
# (grep -E) and does not match MUST_NOT_MATCH.
expect_cred_error() {
    local name=$1 want=$2 unwanted=$3 role rc
    shift 3
    for role in client server; do
        if [ $role = client ]; then
            timeout 10 "$SDTLS" client 127.0.0.1:9 --insecure "$@" \
                </dev/null >"$name.$role.out" 2>"$name.$role.err"
        else
            timeout 10 "$SDTLS" server --listen 127.0.0.1:0 "$@" \
                </dev/null >"$name.$role.out" 2>"$name.$role.err"
        fi
        rc=$?
        [ $rc -eq 1 ] || fail "$name ($role): exited $rc, expected 1: $(cat "$name.$role.err")"
        [ "$(wc -l <"$name.$role.err")" -eq 1 ] ||
            fail "$name ($role): expected one line: $(cat "$name.$role.err")"
        grep -Eq -- "^sdtls: error: $want" "$name.$role.err" ||
            fail "$name ($role): message does not match '$want': $(cat "$name.$role.err")"
        if grep -Eq -- "$unwanted" "$name.$role.err"; then
            fail "$name ($role): message matches '$unwanted': $(cat "$name.$role.err")"
        fi
    done
}

# The key file is missing or empty: the message names it, not the certificate.
expect_cred_error missing_key 'missing\.key: cannot read the key file: No such file' 'srv\.pem' \
    --cert srv.pem --key missing.key
expect_cred_error empty_key 'empty\.pem: no private key' 'srv\.pem' \
    --cert srv.pem --key empty.pem
expect_cred_error junk_key 'junk\.pem: no private key' 'srv\.pem|match' \
    --cert srv.pem --key junk.pem
# The key of another certificate.
expect_cred_error other_key 'other\.key: key does not match certificate srv\.pem$' \
    'bad certificate, key or trust data' --cert srv.pem --key other.key
# The certificate file is missing, or holds no certificate: the key is not blamed.
expect_cred_error missing_cert 'missing\.pem: cannot read the certificate file: No such file' \
    'srv\.key' --cert missing.pem --key srv.key
expect_cred_error junk_cert 'junk\.pem: no certificate' 'srv\.key' --cert junk.pem --key srv.key
expect_cred_error key_as_cert 'srv\.key: no certificate' 'match' --cert srv.key --key srv.key
# A key the library cannot use is not called a mismatch.
openssl genpkey -algorithm ed25519 -out ed.key 2>/dev/null || fail "openssl genpkey ed25519"
expect_cred_error ed25519_key 'ed\.key: unsupported key type' 'match' --cert srv.pem --key ed.key
openssl pkcs8 -topk8 -in srv.key -out enc.key -passout pass:secret -v2 aes-256-cbc 2>/dev/null ||
    fail "openssl pkcs8 -topk8"
expect_cred_error encrypted_key 'enc\.key: encrypted private keys are not supported' 'match' \
    --cert srv.pem --key enc.key
# Trust anchors: a missing or certificate-less --ca file is named.
for role in client server; do
    if [ $role = client ]; then
        args=(client 127.0.0.1:9 --ca)
    else
        args=(server --listen 127.0.0.1:0 --cert srv.pem --key srv.key --require-client-cert --ca)
    fi
    timeout 10 "$SDTLS" "${args[@]}" missing-ca.pem </dev/null >ca.out 2>ca.err
    rc=$?
    [ $rc -eq 1 ] || fail "missing CA ($role): exited $rc"
    grep -q '^sdtls: error: missing-ca\.pem: cannot read the CA file: No such file' ca.err ||
        fail "missing CA ($role): $(cat ca.err)"
    timeout 10 "$SDTLS" "${args[@]}" srv.key </dev/null >ca.out 2>ca.err
    rc=$?
    [ $rc -eq 1 ] || fail "CA without a certificate ($role): exited $rc"
    grep -q '^sdtls: error: srv\.key: no certificate' ca.err ||
        fail "CA without a certificate ($role): $(cat ca.err)"
done

# Good keys in other forms load, and the server serves with them.
openssl ecparam -name prime256v1 -genkey -out sec1.key 2>/dev/null || fail "openssl ecparam"
grep -q 'BEGIN EC PARAMETERS' sec1.key && grep -q 'BEGIN EC PRIVATE KEY' sec1.key ||
    fail "sec1.key is not in the expected form"
openssl genrsa -traditional -out rsa.key 2048 2>/dev/null || fail "openssl genrsa"
grep -q 'BEGIN RSA PRIVATE KEY' rsa.key || fail "rsa.key is not PKCS#1"
for k in sec1 rsa; do
    openssl req -x509 -key $k.key -out $k.pem -subj /CN=localhost -addext \
        subjectAltName=DNS:localhost -days 2 2>/dev/null || fail "openssl req ($k)"
done
cat srv.key srv.pem >both.pem
for pair in "sec1.pem sec1.key" "rsa.pem rsa.key" "both.pem both.pem"; do
    set -- $pair
    start_sdtls_server "good-${2%.*}" --listen 127.0.0.1:0 --cert "$1" --key "$2" --echo
    echo "with $2" >"good-${2%.*}.txt"
    echo_client "good-${2%.*}-client" "127.0.0.1:$SERVER_PORT" "good-${2%.*}.txt" --ca "$1"
    kill "$SERVER_PID"
done
echo PASS
