// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
)

// pion/dtls is an independent implementation (pure Go): a peer for
// interop, and the baseline of the benchmarks.

func pionCert(t testing.TB, certPEM, keyPEM []byte) tls.Certificate {
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pionRoots(t testing.TB, certPEM []byte) *x509.CertPool {
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(certPEM) {
		t.Fatal("bad PEM")
	}
	return p
}

// A pion client against our Listener (through the cookie exchange),
// with SRTP and ALPN: both sides must derive the same keys.
func TestInteropPionClient(t *testing.T) {
	cert, key := testCert(t, "localhost")
	ts := startEcho(t, &Config{Certificate: cert, PrivateKey: key, NextProtos: []string{"webrtc"},
		SRTPProfiles: []SRTPProfile{SRTP_AEAD_AES_128_GCM, SRTP_AES128_CM_SHA1_80}})
	raddr, _ := net.ResolveUDPAddr("udp4", ts.addr)
	pc, err := dtls.Dial("udp4", raddr, &dtls.Config{
		RootCAs: pionRoots(t, cert), ServerName: "localhost",
		SRTPProtectionProfiles: []dtls.SRTPProtectionProfile{dtls.SRTP_AEAD_AES_128_GCM},
		SupportedProtocols:     []string{"webrtc"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pc.HandshakeContext(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 500, 1100} {
		echo(t, pc, bytes.Repeat([]byte{'p'}, n))
	}
	sc := <-ts.conns
	st := sc.ConnectionState()
	if st.SRTPProfile != SRTP_AEAD_AES_128_GCM || st.ALPN != "webrtc" {
		t.Fatalf("state %+v", st)
	}
	k, err := sc.SRTPKeying()
	if err != nil {
		t.Fatal(err)
	}
	pst, _ := pc.ConnectionState()
	material, err := pst.ExportKeyingMaterial("EXTRACTOR-dtls_srtp", nil, 2*(k.KeyLen+k.SaltLen))
	if err != nil {
		t.Fatal(err)
	}
	// RFC 5764 4.2: client key, server key, client salt, server salt.
	kl, sl := k.KeyLen, k.SaltLen
	clientWrite := append(bytes.Clone(material[:kl]), material[2*kl:2*kl+sl]...)
	if !bytes.Equal(clientWrite, k.ClientWrite) || !bytes.Equal(clientWrite, k.RemoteWrite) {
		t.Fatal("SRTP keying differs from pion's exporter")
	}
}

// Our client against a pion server.
func TestInteropPionServer(t *testing.T) {
	cert, key := testCert(t, "localhost")
	laddr := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	l, err := dtls.Listen("udp4", laddr, &dtls.Config{
		Certificates:           []tls.Certificate{pionCert(t, cert, key)},
		SRTPProtectionProfiles: []dtls.SRTPProtectionProfile{dtls.SRTP_AES128_CM_HMAC_SHA1_80},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				echoAll(c, nil)
			}()
		}
	}()
	c, err := Dial(ctxT(t, 10*time.Second), "udp4", l.Addr().String(), &Config{RootCAs: cert, ServerName: "localhost",
		SRTPProfiles: []SRTPProfile{SRTP_AES128_CM_SHA1_80}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, n := range []int{1, 500, 1100} {
		echo(t, c, bytes.Repeat([]byte{'s'}, n))
	}
	st := c.ConnectionState()
	if st.SRTPProfile != SRTP_AES128_CM_SHA1_80 || st.CipherSuite == "" {
		t.Fatalf("state %+v", st)
	}
	if _, err := c.SRTPKeying(); err != nil {
		t.Fatal(err)
	}
}
