// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"errors"
	"strings"
	"testing"
)

// SDTLS_1.2: fingerprints are parsed and formatted by the C library, in
// sha-256, sha-384 and sha-512 and every form peers write.
func TestFingerprintForms(t *testing.T) {
	cert, _ := testCert(t, "server.test")
	fp, err := FingerprintOf(cert, HashSHA256)
	if err != nil {
		t.Fatal(err)
	}
	old, err := Fingerprint(cert)
	if err != nil || old != fp.String() || !strings.HasPrefix(old, "sha-256 ") || old[8:] != fp.Bare() {
		t.Fatalf("Fingerprint %q (%v), String %q, Bare %q", old, err, fp.String(), fp.Bare())
	}
	for _, h := range []string{HashSHA256, HashSHA384, HashSHA512} {
		f, err := FingerprintOf(cert, h)
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range []string{f.String(), f.Bare(), h + ":" + f.Bare(), strings.ToLower(f.String()), strings.ToUpper(f.String())} {
			g, err := ParseFingerprint(text)
			if err != nil || g.Hash != h || string(g.Digest) != string(f.Digest) {
				t.Fatalf("%q: %+v %v", text, g, err)
			}
		}
	}
	for _, bad := range []string{"", "nonsense", "sha-256 AB:CD", "AB:CD", fp.Bare() + ":", "sha-384 " + fp.Bare(), fp.Bare() + "\x00"} {
		if _, err := ParseFingerprint(bad); codeOf(err) != CodeInvalidArgument {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	if _, err := ParseFingerprint("sha-1 " + strings.Repeat("AB:", 19) + "AB"); codeOf(err) != CodeUnsupported {
		t.Fatalf("sha-1: %v", err)
	}
}

// A sha-384 pin (and a bare sha-512 one) authenticates the server.
func TestFingerprintPinsInOtherHashes(t *testing.T) {
	cert, key := testCert(t, "server.test")
	other, _ := testCert(t, "other.test")
	for _, h := range []string{HashSHA384, HashSHA512} {
		f, _ := FingerprintOf(cert, h)
		for _, pin := range []string{f.String(), f.Bare()} {
			p := newPair(t, &Config{PeerFingerprints: []string{pin}}, &Config{Certificate: cert, PrivateKey: key})
			cev, _ := p.handshake()
			if len(cev) != 1 || cev[0].Kind != EventHandshakeDone {
				t.Fatalf("%s pin %q: events %+v", h, pin, cev)
			}
			if got := p.client.ConnectionState().PeerFingerprint; !strings.HasPrefix(got, "sha-256 ") {
				t.Fatalf("PeerFingerprint %q", got)
			}
		}
		wrong, _ := FingerprintOf(other, h)
		p := newPair(t, &Config{PeerFingerprints: []string{wrong.String()}}, &Config{Certificate: cert, PrivateKey: key})
		cev, _ := p.handshake()
		if len(cev) != 1 || cev[0].Kind != EventClosed || !errors.Is(cev[0].Err, ErrVerify) {
			t.Fatalf("%s wrong pin: events %+v", h, cev)
		}
	}
}

// A name with a separator is refused, not split: NextProtos {"a,b"} once
// became the two protocols "a" and "b" when a binding joined the list.
func TestListNamesAreNotSplit(t *testing.T) {
	for _, cfg := range []*Config{
		{NextProtos: []string{"a,b"}},
		{NextProtos: []string{"coap", "a:b"}},
		{NextProtos: []string{""}},
		{NextProtos: []string{strings.Repeat("x", 256)}},
		{NextProtos: []string{"a\x00b"}},
		{Groups: []string{"X25519:P-256"}},
		{Groups: []string{"NO-SUCH-GROUP"}},
	} {
		if _, err := cfg.compile(); codeOf(err) != CodeInvalidArgument {
			t.Fatalf("%+v: %v", cfg, err)
		}
	}
	if _, err := (&Config{NextProtos: []string{strings.Repeat("x", 255), "coap"}, Groups: []string{"X25519", "P-256"},
		SRTPProfiles: []SRTPProfile{SRTP_AEAD_AES_128_GCM}}).compile(); err != nil {
		t.Fatal(err)
	}
}

func codeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}
