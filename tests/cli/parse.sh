#!/bin/bash
# The tool's readers of bytes from the network (tests/cli/parse_test.c):
# what --verbose says of a peer certificate, checked against openssl's view
# of certificates it made (RSA, EC, Ed25519; a CA-issued one; alt names of
# each kind; a comma, UTF-8 and an escape character in names; both time
# encodings; expired and not yet valid), and of DTLS records of each kind;
# then every truncation and many one-byte changes of all of them go through
# both readers, which must neither crash nor read outside the bytes (the
# sanitizer build of tests/run.sh runs this test).
# Arguments: tool_parse_test, the scratch directory.
. "$(dirname "$0")/lib.sh"
setup "$@"
PARSE=$SDTLS

# openssl's "Dec  3 18:15:46 2026 GMT" as the tool writes it.
utc() { date -u -d "$1" '+%Y-%m-%d %H:%M:%S UTC'; }
validity() { # PEM: "<from> to <until>" per openssl
    local from until
    from=$(openssl x509 -in "$1" -noout -startdate | sed 's/^notBefore=//')
    until=$(openssl x509 -in "$1" -noout -enddate | sed 's/^notAfter=//')
    echo "$(utc "$from") to $(utc "$until")"
}
der() { openssl x509 -in "$1.pem" -outform DER -out "$1.der" || fail "DER of $1"; }
expect_cert() { # NAME: what the reader says of NAME.der is NAME.expected
    "$PARSE" cert "$1.der" >"$1.out" 2>"$1.err" || fail "$1: exit $?"
    assert_same_lines "$1.expected" "$1.out"
}
quiet() { "$@" >/dev/null 2>&1 || fail "$*"; }

# RSA, self-signed; a comma and UTF-8 in the subject; alt names of four kinds.
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.pem -days 30 -utf8 \
    -subj "/CN=rsa.example/O=Acme, Inc./OU=Grüße" \
    -addext "subjectAltName=DNS:rsa.example,IP:127.0.0.1,IP:::1,email:ops@rsa.example,URI:https://rsa.example/x"
der rsa
cat >rsa.expected <<EOF
subject: CN=rsa.example, O=Acme\, Inc., OU=Gr\xC3\xBC\xC3\x9Fe
issuer: CN=rsa.example, O=Acme\, Inc., OU=Gr\xC3\xBC\xC3\x9Fe (the subject: self-issued)
validity: $(validity rsa.pem)
subject alt names: DNS:rsa.example, IP:127.0.0.1, IP:::1, email:ops@rsa.example, URI:https://rsa.example/x
key: RSA 2048 bits, signed with sha256WithRSAEncryption
EOF
expect_cert rsa

# EC P-384 issued by a P-256 CA (SHA-384 signature), no alt names.
quiet openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
    -out ca.pem -days 30 -subj "/CN=Test CA/O=Tests"
quiet openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout ec.key \
    -out ec.csr -subj "/C=DE/CN=ec.example"
quiet openssl x509 -req -in ec.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 10 -sha384 \
    -out ec.pem
der ec
cat >ec.expected <<EOF
subject: C=DE, CN=ec.example
issuer: CN=Test CA, O=Tests
validity: $(validity ec.pem)
subject alt names: none
key: EC P-384, signed with ecdsa-with-SHA384
EOF
expect_cert ec

# Ed25519, valid past 2049 (GeneralizedTime), an escape character in the
# name: printed escaped, never sent to the terminal.
quiet openssl req -x509 -newkey ed25519 -nodes -keyout ed.key -out ed.pem -days 20000 -utf8 \
    -subj "/CN=evil"$'\e'"[31m"
der ed
cat >ed.expected <<EOF
subject: CN=evil\x1B[31m
issuer: CN=evil\x1B[31m (the subject: self-issued)
validity: $(validity ed.pem)
subject alt names: none
key: Ed25519, signed with Ed25519
EOF
expect_cert ed
grep -q $'\e' ed.out && fail "an escape character reached the output"

# Expired, not yet valid: the UTCTimes of ec.der rewritten (the signature no
# longer matches; the reader does not verify, it describes).
python3 - <<'EOF' || fail "cannot rewrite the validity"
der = open("ec.der", "rb").read()
first = der.index(b"\x17\x0d")
second = der.index(b"\x17\x0d", first + 15)
expired = der[:second + 2] + b"200101000000Z" + der[second + 15:]
future = der[:first + 2] + b"491231235959Z" + der[first + 15:]
open("expired.der", "wb").write(expired)
open("future.der", "wb").write(future)
EOF
"$PARSE" cert expired.der >expired.out || fail "expired: exit $?"
grep -qx "validity: .* to 2020-01-01 00:00:00 UTC (EXPIRED)" expired.out ||
    fail "expired: $(cat expired.out)"
"$PARSE" cert future.der >future.out || fail "future: exit $?"
grep -qx "validity: 2049-12-31 23:59:59 UTC to .* (NOT YET VALID)" future.out ||
    fail "not yet valid: $(cat future.out)"

# Not a certificate: said so, nothing else.
head -c 300 /dev/urandom >junk.der
printf '\x30\x82\x01\x00' | cat - junk.der >junk2.der
for f in junk junk2; do
    "$PARSE" cert $f.der >$f.out || fail "$f: exit $?"
    grep -Eqx 'cannot parse the rest of the certificate \([0-9]+ bytes of DER\)' $f.out ||
        fail "$f: $(cat $f.out)"
done

# Records (the datagrams parse_test.c builds).
"$PARSE" records >records.out || fail "records: exit $?"
cat >records.expected <<'EOF'
* 0.0 ms > 177 bytes: ClientHello, Certificate (part)
*   > record handshake(22) DTLS 1.2 epoch 0 seq 0, length 164: ClientHello(1) message 0, length 40; Certificate(11) message 1, bytes 0-100 of 900
* 0.0 ms < 204 bytes: HelloRetryRequest, alert fatal certificate_required, ChangeCipherSpec, encrypted handshake, application data
*   < record handshake(22) DTLS 1.2 epoch 0 seq 1, length 72: HelloRetryRequest(2) message 0, length 60
*   < record alert(21) DTLS 1.2 epoch 0 seq 2, length 2: fatal certificate_required(116)
*   < record change_cipher_spec(20) DTLS 1.2 epoch 0 seq 3, length 1
*   < record handshake(22) DTLS 1.2 epoch 1 seq 0, length 40: encrypted
*   < record application_data(23) DTLS 1.2 epoch 1 seq 1, length 24: encrypted
* 0.0 ms > 57 bytes: encrypted, encrypted
*   > record DTLS 1.3 ciphertext, epoch 2 (low bits), length 30, content type encrypted
*   > record DTLS 1.3 ciphertext, epoch 3 (low bits), length 20, content type encrypted
* 0.0 ms < 33 bytes: truncated record
*   < record handshake(22) DTLS 1.2 epoch 0 seq 5, length 200, truncated (20 there)
* 0.0 ms > 16 bytes: not DTLS
*   > record not DTLS (16 bytes)
EOF
assert_same_lines records.expected records.out

# Every truncation and many one-byte changes, certificates and datagrams.
# The readers' output is discarded there, so the sanitizers write to files.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$PWD/sanitizer \
UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$PWD/sanitizer \
    "$PARSE" mutate rsa.der ec.der ed.der expired.der junk2.der ||
    fail "mutate: exit $?: $(cat sanitizer.* 2>/dev/null | head -n 30)"
echo PASS
