#!/bin/bash
# sdtls cert: the files, their modes, the key/certificate pair, the names,
# the validity, and a fingerprint that matches openssl's.
. "$(dirname "$0")/lib.sh"
setup "$@"
umask 022

"$SDTLS" cert --cert c.pem --key c.key --cn test.example --days 10 >fp.out 2>cert.err ||
    fail "sdtls cert exited $?"
[ ! -s cert.err ] || fail "unexpected stderr"

# Output: exactly one line "sha-256 AA:BB:..." equal to openssl's fingerprint.
grep -Eqx 'sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}' fp.out || fail "bad fingerprint line: $(cat fp.out)"
[ "$(wc -l <fp.out)" -eq 1 ] || fail "more than one line on stdout"
[ "$(cut -d' ' -f2 fp.out)" = "$(openssl_fp c.pem)" ] || fail "fingerprint differs from openssl's"

# Modes: key 0600, certificate world-readable (0666 less the umask, set
# above).
[ "$(stat -c %a c.key)" = 600 ] || fail "key mode is $(stat -c %a c.key)"
[ "$(stat -c %a c.pem)" = 644 ] || fail "certificate mode is $(stat -c %a c.pem)"

# An ECDSA P-256 key that matches the certificate.
openssl pkey -in c.key -noout -text >key.txt 2>&1 || fail "openssl cannot read the key"
grep -q 'NIST CURVE: P-256' key.txt || fail "not a P-256 key"
[ "$(openssl pkey -in c.key -pubout)" = "$(openssl x509 -in c.pem -noout -pubkey)" ] ||
    fail "key does not match the certificate"

# Names, self-signature, validity.
openssl x509 -in c.pem -noout -text >x509.txt || fail "openssl cannot read the certificate"
grep -q 'Subject: CN = test.example' x509.txt || fail "wrong subject"
grep -q 'Issuer: CN = test.example' x509.txt || fail "wrong issuer"
grep -q 'DNS:test.example' x509.txt || fail "no DNS subjectAltName"
grep -q 'ecdsa-with-SHA256' x509.txt || fail "not signed with ecdsa-with-SHA256"
openssl verify -CAfile c.pem c.pem >/dev/null || fail "self-signature does not verify"
openssl x509 -in c.pem -noout -checkend $((9 * 86400)) >/dev/null || fail "expires before 9 days"
openssl x509 -in c.pem -noout -checkend $((11 * 86400)) >/dev/null && fail "valid for more than 10 days"

# A key file that group or others can read is refused, and nothing is
# written: the new key would be readable too.
chmod 644 c.key
cp c.key c.key.before
cp c.pem c.pem.before
"$SDTLS" cert --cert c.pem --key c.key >loose.out 2>loose.err
rc=$?
[ $rc -eq 1 ] || fail "world-readable key file: exit $rc, expected 1"
grep -q '^sdtls: error: c\.key: refusing to write the key file: group or others can read it (mode 0644); chmod 600 c\.key, or name a new file$' loose.err ||
    fail "world-readable key file: $(cat loose.err)"
[ "$(stat -c %a c.key)" = 644 ] || fail "the refused key file's mode changed to $(stat -c %a c.key)"
cmp -s c.key c.key.before && cmp -s c.pem c.pem.before || fail "files written after the refusal"
[ ! -s loose.out ] || fail "a fingerprint printed after the refusal"

# Defaults: CN localhost, 365 days. A second run replaces the files (the key
# file keeps its mode 0600).
chmod 600 c.key
"$SDTLS" cert --cert c.pem --key c.key >fp2.out || fail "second run"
[ "$(stat -c %a c.key)" = 600 ] || fail "replaced key mode is $(stat -c %a c.key)"
cmp -s c.key c.key.before && fail "the key was not replaced"
openssl x509 -in c.pem -noout -subject | grep -q 'CN = localhost' || fail "default CN is not localhost"
openssl x509 -in c.pem -noout -checkend $((364 * 86400)) >/dev/null || fail "default validity < 364 days"
cmp -s fp.out fp2.out && fail "two certificates with the same fingerprint"
[ "$(cut -d' ' -f2 fp2.out)" = "$(openssl_fp c.pem)" ] || fail "second fingerprint differs"

# Bad input is a usage error, and writes nothing.
for args in "--cn 'has space'" "--days 0" "--days 36501" "--days x" "--cn ''" \
            "--cn $(printf 'a%.0s' $(seq 65))"; do
    eval "\"\$SDTLS\" cert --cert bad.pem --key bad.key $args" >/dev/null 2>bad.err
    rc=$?
    [ $rc -eq 2 ] || fail "cert $args exited $rc, expected 2"
    [ -s bad.err ] || fail "cert $args: no message"
    [ ! -e bad.pem ] && [ ! -e bad.key ] || fail "cert $args wrote files"
done
"$SDTLS" cert --key only.key >/dev/null 2>&1; [ $? -eq 2 ] || fail "missing --cert not a usage error"
"$SDTLS" cert --cert same --key same >/dev/null 2>&1; [ $? -eq 2 ] || fail "same file not a usage error"
# An unwritable path is a failure (1), not a usage error.
"$SDTLS" cert --cert nodir/c.pem --key nodir/c.key >/dev/null 2>w.err; rc=$?
[ $rc -eq 1 ] || fail "unwritable path exited $rc"
grep -q 'nodir' w.err || fail "no message naming the path"
echo PASS
