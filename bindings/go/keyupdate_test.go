// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"bytes"
	"errors"
	"testing"
)

// KeyUpdate renews the keys of a DTLS 1.3 connection and data keeps
// flowing; on DTLS 1.2, which has no KeyUpdate, it is refused.
func TestKeyUpdate(t *testing.T) {
	cert, key := testCert(t, "server.test")
	scfg := &Config{Certificate: cert, PrivateKey: key, MaxVersion: VersionDTLS12}
	ccfg := &Config{RootCAs: cert, ServerName: "server.test", MaxVersion: VersionDTLS12}
	p := newPair(t, ccfg, scfg)
	p.handshake()
	var e *Error
	if err := p.client.KeyUpdate(p.now); !errors.As(err, &e) || e.Code != CodeUnsupported {
		t.Fatalf("DTLS 1.2 KeyUpdate: %v", err)
	}
	if !HasFeature(FeatureDTLS13) {
		t.Log("this engine has no DTLS 1.3: only the DTLS 1.2 refusal is checked")
		return
	}
	scfg = &Config{Certificate: cert, PrivateKey: key, MinVersion: VersionDTLS13}
	ccfg = &Config{RootCAs: cert, ServerName: "server.test", MinVersion: VersionDTLS13}
	p = newPair(t, ccfg, scfg)
	p.handshake()
	for i := 0; i < 3; i++ {
		if err := p.client.KeyUpdate(p.now); err != nil {
			t.Fatalf("KeyUpdate %d: %v", i, err)
		}
		p.pump()
		msg := []byte{'k', byte('0' + i)}
		if err := p.client.Send(msg, p.now); err != nil {
			t.Fatal(err)
		}
		_, sev := p.pump()
		if len(sev) != 1 || !bytes.Equal(sev[0].Data, msg) {
			t.Fatalf("after KeyUpdate %d the server got %+v", i, sev)
		}
	}
}
