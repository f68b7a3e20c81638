// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

func addrPort(t *testing.T, a net.Addr) netip.AddrPort {
	t.Helper()
	u, ok := a.(*net.UDPAddr)
	if !ok {
		t.Fatalf("%v is not a *net.UDPAddr", a)
	}
	return u.AddrPort()
}

// Listener.PinPeer: a WebRTC server pins each peer's SDP fingerprint by its
// address (from ICE) before the peer connects. The right certificate is
// accepted, another is refused, an unpinned address takes any, and the
// refused calls say why.
func TestListenerPinPeer(t *testing.T) {
	serverCert, serverKey := testCert(t, "localhost")
	certA, keyA := testCert(t, "peer-a")
	certB, keyB := testCert(t, "peer-b")
	fpA, _ := Fingerprint(certA)
	ts := startEcho(t, &Config{Certificate: serverCert, PrivateKey: serverKey})
	l := ts.l
	client := func(cert, key []byte) *Config {
		return &Config{Certificate: cert, PrivateKey: key, RootCAs: serverCert, ServerName: "localhost",
			InitialRetransmit: 100 * time.Millisecond}
	}
	pin := func(addr net.Addr) {
		if err := l.PinPeer(addrPort(t, addr), fpA); err != nil {
			t.Fatal(err)
		}
	}

	// The pinned certificate: accepted, and the server sees it.
	a, err := dialFrom(t, ctxT(t, 10*time.Second), ts.addr, client(certA, keyA), pin)
	if err != nil {
		t.Fatalf("the pinned peer was refused: %v", err)
	}
	defer a.Close()
	echo(t, a, []byte("pinned"))
	if st := (<-ts.conns).ConnectionState(); st.PeerFingerprint != fpA {
		t.Fatalf("server sees %q, want %q", st.PeerFingerprint, fpA)
	}

	// Another certificate from a pinned address: refused.
	wrong, err := dialFrom(t, ctxT(t, 10*time.Second), ts.addr, client(certB, keyB), pin)
	err = refusedByServer(t, wrong, err)
	if err == nil || !(errors.Is(err, ErrAlert) || errors.Is(err, ErrVerify)) {
		t.Fatalf("the wrong certificate: %v", err)
	}

	// Pinned, then unpinned before it connects: any certificate again.
	b, err := dialFrom(t, ctxT(t, 10*time.Second), ts.addr, client(certB, keyB), func(addr net.Addr) {
		pin(addr)
		pin(addr) // already there: nothing changes
		if n, err := l.UnpinPeer(addrPort(t, addr)); n != 1 || err != nil {
			t.Fatalf("unpin: %d, %v", n, err)
		}
		if n, err := l.UnpinPeer(addrPort(t, addr)); n != 0 || err != nil {
			t.Fatalf("unpin again: %d, %v", n, err)
		}
	})
	if err != nil {
		t.Fatalf("an unpinned peer was refused: %v", err)
	}
	defer b.Close()
	echo(t, b, []byte("unpinned"))
	<-ts.conns

	// Refusals.
	somewhere := netip.MustParseAddrPort("192.0.2.1:5000")
	for _, bad := range []string{"", "AB:CD", "sha-256 " + fpA[:10], fpA + "\x00"} {
		if err := l.PinPeer(somewhere, bad); codeOf(err) != CodeInvalidArgument {
			t.Errorf("PinPeer(%q): %v", bad, err)
		}
	}
	if err := l.PinPeer(netip.AddrPort{}, fpA); codeOf(err) != CodeInvalidArgument {
		t.Errorf("PinPeer(no address): %v", err)
	}
	if _, err := l.UnpinPeer(netip.AddrPort{}); codeOf(err) != CodeInvalidArgument {
		t.Errorf("UnpinPeer(no address): %v", err)
	}
	// An IPv4-mapped IPv6 address is the IPv4 address.
	if err := l.PinPeer(netip.MustParseAddrPort("[::ffff:192.0.2.1]:5000"), fpA); err != nil {
		t.Fatal(err)
	}
	if n, err := l.UnpinPeer(somewhere); n != 1 || err != nil {
		t.Fatalf("unpin the mapped form's pin: %d, %v", n, err)
	}
	ts.l.Close()
	if err := l.PinPeer(somewhere, fpA); !errors.Is(err, net.ErrClosed) {
		t.Errorf("PinPeer after Close: %v", err)
	}
	if _, err := l.UnpinPeer(somewhere); !errors.Is(err, net.ErrClosed) {
		t.Errorf("UnpinPeer after Close: %v", err)
	}
}

// From inside a user callback that the Listener's own C call made (here the
// deprecated GetPeerFingerprints), PinPeer and UnpinPeer are refused with
// CodeInCallback, and the peer's handshake goes on.
func TestListenerPinPeerInCallback(t *testing.T) {
	serverCert, serverKey := testCert(t, "localhost")
	var l *Listener
	var pinErr, unpinErr error
	hook := func(remote net.Addr) ([]string, error) {
		pinErr = l.PinPeer(remote.(*net.UDPAddr).AddrPort(), "sha-256 "+testFingerprintHex)
		_, unpinErr = l.UnpinPeer(remote.(*net.UDPAddr).AddrPort())
		return nil, nil
	}
	ts := startEcho(t, &Config{Certificate: serverCert, PrivateKey: serverKey, GetPeerFingerprints: hook})
	l = ts.l
	c, err := Dial(ctxT(t, 10*time.Second), "udp4", ts.addr,
		&Config{RootCAs: serverCert, ServerName: "localhost", InitialRetransmit: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echo(t, c, []byte("in callback"))
	if codeOf(pinErr) != CodeInCallback || codeOf(unpinErr) != CodeInCallback {
		t.Fatalf("in a callback: pin %v, unpin %v", pinErr, unpinErr)
	}
}

const testFingerprintHex = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:" +
	"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"

// BenchmarkListenerPinPeer is one PinPeer of a new address, and its
// UnpinPeer, on a Listener that already holds every earlier pin (the C
// table: the cost does not grow with their number).
//
//	go test -run '^$' -bench ListenerPinPeer -benchtime 100000x
func BenchmarkListenerPinPeer(b *testing.B) {
	ts := startEcho(b, nil)
	fp, _ := Fingerprint(ts.cert)
	addr := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%7))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ts.l.PinPeer(addr(i), fp); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < b.N; i++ {
		if n, err := ts.l.UnpinPeer(addr(i)); n != 1 || err != nil {
			b.Fatal(n, err)
		}
	}
}
