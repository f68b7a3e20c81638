// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// fingerprintBook is what a WebRTC application keeps: each peer's address
// (from ICE) and the fingerprint its SDP announced.
type fingerprintBook struct {
	mu    sync.Mutex
	byKey map[string]string
	asked []string
}

func (b *fingerprintBook) set(addr net.Addr, fp string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.byKey[addr.String()] = fp
}

func (b *fingerprintBook) lookup(remote net.Addr) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := remote.(*net.UDPAddr); !ok {
		panic("remote is not a *net.UDPAddr")
	}
	b.asked = append(b.asked, remote.String())
	fp, ok := b.byKey[remote.String()]
	if !ok {
		return nil, errors.New("unknown peer")
	}
	return []string{fp}, nil
}

func (b *fingerprintBook) askedFor(addr string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, a := range b.asked {
		if a == addr {
			n++
		}
	}
	return n
}

// dialFrom runs a client handshake from a socket whose address is known
// before the handshake, as a WebRTC application knows it from ICE.
func dialFrom(t *testing.T, ctx context.Context, server string, cfg *Config, register func(net.Addr)) (*ClientConn, error) {
	t.Helper()
	sock := dialUDP(t, server)
	if register != nil {
		register(sock.LocalAddr())
	}
	c, err := Client(ctx, sock, cfg)
	if err != nil {
		sock.Close()
	}
	return c, err
}

func TestListenerPeerFingerprints(t *testing.T) {
	serverCert, serverKey := testCert(t, "localhost")
	certA, keyA := testCert(t, "peer-a")
	certB, keyB := testCert(t, "peer-b")
	fpA, _ := Fingerprint(certA)
	fpB, _ := Fingerprint(certB)
	book := &fingerprintBook{byKey: map[string]string{}}
	ts := startEcho(t, &Config{Certificate: serverCert, PrivateKey: serverKey, GetPeerFingerprints: book.lookup})
	client := func(cert, key []byte) *Config {
		return &Config{Certificate: cert, PrivateKey: key, RootCAs: serverCert, ServerName: "localhost",
			InitialRetransmit: 100 * time.Millisecond}
	}

	// Peer A presents the certificate its SDP announced: accepted, and the
	// server sees it.
	var addrA string
	a, err := dialFrom(t, ctxT(t, 10*time.Second), ts.addr, client(certA, keyA), func(addr net.Addr) {
		addrA = addr.String()
		book.set(addr, fpA)
	})
	if err != nil {
		t.Fatalf("peer A refused: %v", err)
	}
	defer a.Close()
	echo(t, a, []byte("peer a"))
	sa := <-ts.conns
	if st := sa.ConnectionState(); st.PeerFingerprint != fpA {
		t.Fatalf("server sees %q, want %q", st.PeerFingerprint, fpA)
	}
	if n := book.askedFor(addrA); n != 1 {
		t.Fatalf("the hook was asked %d times for peer A", n)
	}

	// Peer B announced fpB: accepted with its own certificate on the same
	// Listener (pins are per connection).
	b, err := dialFrom(t, ctxT(t, 10*time.Second), ts.addr, client(certB, keyB), func(addr net.Addr) { book.set(addr, fpB) })
	if err != nil {
		t.Fatalf("peer B refused: %v", err)
	}
	echo(t, b, []byte("peer b"))
	b.Close()
	<-ts.conns

	refused := func(c *ClientConn, err error) error { t.Helper(); return refusedByServer(t, c, err) }

	// A peer whose SDP announced fpA but that presents certificate B is
	// refused: the server's verification fails and it says so by alert.
	created := ts.l.Stats().ConnectionsCreated
	err = refused(dialFrom(t, ctxT(t, 10*time.Second), ts.addr, client(certB, keyB), func(addr net.Addr) { book.set(addr, fpA) }))
	if err == nil || !(errors.Is(err, ErrAlert) || errors.Is(err, ErrVerify)) {
		t.Fatalf("the wrong certificate: %v", err)
	}
	t.Logf("wrong certificate: %v", err)
	// So is one with no certificate at all (the server asked for one).
	err = refused(dialFrom(t, ctxT(t, 10*time.Second), ts.addr, client(nil, nil), func(addr net.Addr) { book.set(addr, fpA) }))
	if err == nil || !errors.Is(err, ErrAlert) {
		t.Fatalf("a client without a certificate: %v", err)
	}
	t.Logf("no certificate: %v", err)

	// A peer the hook refuses (unknown address: an error) gets no answer:
	// its handshake times out, and the hook was asked for each
	// retransmitted ClientHello.
	var addrU string
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	_, err = dialFrom(t, ctx, ts.addr, client(certA, keyA), func(addr net.Addr) { addrU = addr.String() })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("refused peer: %v", err)
	}
	if n := book.askedFor(addrU); n < 2 {
		t.Fatalf("the hook was asked %d times for the refused peer", n)
	}
	s := ts.l.Stats()
	if s.Peers != 1 || s.ConnectionsCreated-created < 4 {
		t.Fatalf("stats %+v", s)
	}
	select {
	case c := <-ts.conns:
		t.Fatalf("accepted %v", c.RemoteAddr())
	default:
	}
	echo(t, a, []byte("peer a still there"))
}

// refusedByServer is how a client the server refuses learns it. Under DTLS
// 1.2 the server checks the client's certificate before its own Finished:
// Dial fails. Under DTLS 1.3 the client finishes first (Dial returns) and
// the server's alert follows: the first Read fails with it, and so does a
// Write after that.
func refusedByServer(t *testing.T, c *ClientConn, err error) error {
	t.Helper()
	if err != nil {
		return err
	}
	defer c.Close()
	if v := c.ConnectionState().Version; v != "DTLSv1.3" {
		t.Fatalf("a %s client finished a handshake that the server refuses", v)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := c.Read(make([]byte, 100))
	if err == nil {
		t.Fatalf("a refused client read %d bytes", n)
	}
	if _, werr := c.Write([]byte("x")); werr != err {
		t.Fatalf("write after the read failed with %v: %v", err, werr)
	}
	return err
}

// A hook that panics or returns a fingerprint that does not parse refuses
// the peer; the Listener goes on serving.
func TestListenerPeerFingerprintsFailClosed(t *testing.T) {
	serverCert, serverKey := testCert(t, "localhost")
	certA, keyA := testCert(t, "peer-a")
	var mu sync.Mutex
	mode := "panic"
	hook := func(remote net.Addr) ([]string, error) {
		mu.Lock()
		defer mu.Unlock()
		switch mode {
		case "panic":
			panic("hook failed")
		case "garbage":
			return []string{"sha-256 not-a-fingerprint"}, nil
		}
		return nil, nil // keep the Config's verification (none: the client has no pin to meet)
	}
	ts := startEcho(t, &Config{Certificate: serverCert, PrivateKey: serverKey, GetPeerFingerprints: hook})
	ccfg := &Config{Certificate: certA, PrivateKey: keyA, RootCAs: serverCert, ServerName: "localhost",
		InitialRetransmit: 100 * time.Millisecond}
	for _, m := range []string{"panic", "garbage"} {
		mu.Lock()
		mode = m
		mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
		_, err := Dial(ctx, "udp4", ts.addr, ccfg)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: %v", m, err)
		}
	}
	mu.Lock()
	mode = "none"
	mu.Unlock()
	c, err := Dial(ctxT(t, 10*time.Second), "udp4", ts.addr, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echo(t, c, []byte("no pins"))
	if st := (<-ts.conns).ConnectionState(); st.PeerCertificate != nil {
		t.Fatal("the server asked for a client certificate without a pin")
	}
}
