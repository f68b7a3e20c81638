// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// startEchoSockets runs an echo Listener with n SO_REUSEPORT sockets on
// loopback.
func startEchoSockets(t testing.TB, n int) *testServer {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("ListenConfig.Sockets above 1 is Linux's (SO_REUSEPORT)")
	}
	cert, key := testCert(t, "localhost")
	lc := ListenConfig{Sockets: n}
	l, err := lc.Listen(ctxT(t, 5*time.Second), "udp4", "127.0.0.1:0", &Config{Certificate: cert, PrivateKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.workers) != n {
		t.Fatalf("%d sockets, want %d", len(l.workers), n)
	}
	return serveEcho(t, l, cert)
}

// workerOf is the index of the socket whose server holds sc.
func workerOf(l *Listener, sc *ServerConn) int {
	for i, w := range l.workers {
		if sc.w == w {
			return i
		}
	}
	return -1
}

// Many clients through one Listener of two sockets: every one connects and
// echoes, the kernel spreads them over both sockets, Accept hands out the
// peers of both, Stats sums both servers, and Close closes both sockets.
func TestListenSocketsManyClients(t *testing.T) {
	ts := startEchoSockets(t, 2)
	const clients, rounds = 64, 5
	echoClients(t, ts, clients, rounds)
	per := make([]int, 2)
	for len(ts.conns) > 0 {
		per[workerOf(ts.l, <-ts.conns)]++
	}
	// 64 source ports all hashed to one of two sockets: 1 in 2^63.
	if per[0]+per[1] != clients || per[0] == 0 || per[1] == 0 {
		t.Fatalf("accepted per socket %v, want %d on both", per, clients)
	}
	s := ts.l.Stats()
	a, b := ts.l.workers[0].counters(), ts.l.workers[1].counters()
	if s.ConnectionsCreated != clients || s.CookiesSent != a[0]+b[0] || s.CookiesSent < clients ||
		a[2] != uint64(per[0]) || b[2] != uint64(per[1]) {
		t.Fatalf("stats %+v, sockets %v %v, accepted %v", s, a, b, per)
	}

	// Close closes every socket: the address is free again without
	// SO_REUSEPORT.
	if err := ts.l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("accept after close: %v", err)
	}
	pc, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(ts.addr)))
	if err != nil {
		t.Fatalf("the address is still bound after Close: %v", err)
	}
	pc.Close()
}

// inject feeds datagram to worker w's server as if its socket had read it
// from `from`, and sends what the server answers from w's socket, as w's
// goroutine does.
func inject(w *worker, from netip.AddrPort, datagram []byte) {
	var sa [sockaddrIn6Len]byte
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	addr := encodeSockaddr(from, &sa)
	w.srv.receive(addr, datagram, now)
	w.settle(decodeSockaddr(addr), now)
	w.afterCall()
}

// A client whose cookie came from one socket's server and whose
// cookie-bearing ClientHello reaches another socket's is accepted there:
// the sockets share one cookie secret, also after SetCookieSecret.
//
// The kernel hashes a datagram to a socket by its addresses, so a client
// stays on one socket unless the set of sockets changes in between (a
// worker restarts); that cannot be timed from a test. The test plays that
// change deterministically: a sans-I/O client keeps a real socket for the
// server's answers, and its datagrams are fed to the chosen socket's server
// directly (inject): the first ClientHello to socket 0's, every later one to
// socket 1's, whose answers go out of socket 1.
func TestListenSocketsShareCookies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		secret []byte
	}{{"the listener's secret", nil}, {"after SetCookieSecret", bytes.Repeat([]byte{7}, 32)}} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startEchoSockets(t, 2)
			if tc.secret != nil {
				if err := ts.l.SetCookieSecret(tc.secret); err != nil {
					t.Fatal(err)
				}
			}
			a, b := ts.l.workers[0], ts.l.workers[1]
			cs, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			from := cs.LocalAddr().(*net.UDPAddr).AddrPort()
			client, err := NewConn(ts.clientConfig(), RoleClient)
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()

			// The first ClientHello (all its datagrams) to socket 0: its
			// cookie reply comes back on the real socket.
			if err := client.Start(time.Now()); err != nil {
				t.Fatal(err)
			}
			for d := client.NextDatagram(); d != nil; d = client.NextDatagram() {
				inject(a, from, d)
			}
			buf := make([]byte, 65536)
			cs.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := cs.Read(buf)
			if err != nil {
				t.Fatalf("no cookie reply from socket 0: %v", err)
			}
			if sa := a.counters(); sa[0] != 1 {
				t.Fatalf("socket 0 sent %d cookies, want 1", sa[0])
			}
			if err := client.Receive(buf[:n], time.Now()); err != nil {
				t.Fatal(err)
			}

			// Everything after it to socket 1, until the client is done and
			// has its echo.
			deadline := time.Now().Add(10 * time.Second)
			done, echoed := false, false
			for !echoed {
				if time.Now().After(deadline) {
					t.Fatalf("handshake on socket 1: done=%v; socket 0 %v, socket 1 %v",
						done, a.counters(), b.counters())
				}
				for d := client.NextDatagram(); d != nil; d = client.NextDatagram() {
					inject(b, from, d)
				}
				for e, ok := client.NextEvent(); ok; e, ok = client.NextEvent() {
					switch e.Kind {
					case EventHandshakeDone:
						done = true
						if err := client.Send([]byte("across sockets"), time.Now()); err != nil {
							t.Fatal(err)
						}
					case EventData:
						echoed = string(e.Data) == "across sockets"
					case EventClosed:
						t.Fatalf("closed: %v", e.Err)
					}
				}
				if client.NextDeadline().Before(time.Now()) {
					client.HandleTimeout(time.Now())
				}
				cs.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
				if n, err := cs.Read(buf); err == nil {
					client.Receive(buf[:n], time.Now())
				}
			}
			sa, sb := a.counters(), b.counters()
			// [2] ConnectionsCreated, [1] CookiesRejected.
			if sa[2] != 0 || sb[2] != 1 || sb[1] != 0 {
				t.Fatalf("socket 0 %v, socket 1 %v: want the peer made by socket 1", sa, sb)
			}
			if sc := <-ts.conns; workerOf(ts.l, sc) != 1 || sc.RemoteAddr().String() != from.String() {
				t.Fatalf("accepted %v on socket %d", sc.RemoteAddr(), workerOf(ts.l, sc))
			}
		})
	}
}

// A session made on one socket's server resumes on the other's: the sockets
// share the Config and so its ticket secret. Each Dial comes from a new
// source port, which the kernel hashes to either socket: the test dials
// until one lands on the other socket than the first (every 64 on the
// same: 1 in 2^64), and every one of them must resume.
func TestListenSocketsResumeAcrossSockets(t *testing.T) {
	ts := startEchoSockets(t, 2)
	dial := func(opts ...DialOption) (*ClientConn, int) {
		t.Helper()
		c, err := Dial(ctxT(t, 10*time.Second), "udp4", ts.addr, ts.clientConfig(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		echo(t, c, []byte("hello"))
		sc := <-ts.conns
		if sc.RemoteAddr().String() != c.LocalAddr().String() {
			t.Fatalf("accepted %v, dialled from %v", sc.RemoteAddr(), c.LocalAddr())
		}
		return c, workerOf(ts.l, sc)
	}
	c, first := dial()
	sess, err := c.Session()
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	for attempt := 1; ; attempt++ {
		c, on := dial(WithSession(sess))
		resumed := c.ConnectionState().Resumed
		c.Close()
		if !resumed {
			t.Fatalf("attempt %d on socket %d (the session's: %d) did not resume", attempt, on, first)
		}
		if on != first {
			t.Logf("resumed on socket %d, session from socket %d, attempt %d", on, first, attempt)
			return
		}
		if attempt == 64 {
			t.Fatalf("64 dials all hashed to socket %d", first)
		}
	}
}

func TestListenConfigRefuses(t *testing.T) {
	cert, key := testCert(t, "localhost")
	cfg := &Config{Certificate: cert, PrivateKey: key}
	for _, tc := range []struct {
		lc      ListenConfig
		network string
	}{{ListenConfig{Sockets: -1}, "udp4"}, {ListenConfig{Sockets: 2}, "tcp"}, {ListenConfig{}, "ip4"}} {
		l, err := tc.lc.Listen(context.Background(), tc.network, "127.0.0.1:0", cfg)
		if err == nil {
			l.Close()
			t.Fatalf("%+v %s: listened", tc.lc, tc.network)
		}
	}
}

// PinPeer pins on every socket's server: a pinned peer presenting another
// certificate is refused whichever socket the kernel hashes it to (a pin
// on one socket only would let the other socket's peers in unchecked), and
// UnpinPeer removes the pins from all.
func TestListenSocketsPinPeer(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ListenConfig.Sockets above 1 is Linux's (SO_REUSEPORT)")
	}
	serverCert, serverKey := testCert(t, "localhost")
	certA, _ := testCert(t, "peer-a")
	certB, keyB := testCert(t, "peer-b")
	fpA, _ := Fingerprint(certA)
	lc := ListenConfig{Sockets: 2}
	l, err := lc.Listen(ctxT(t, 5*time.Second), "udp4", "127.0.0.1:0", &Config{Certificate: serverCert, PrivateKey: serverKey})
	if err != nil {
		t.Fatal(err)
	}
	ts := serveEcho(t, l, serverCert)
	client := &Config{Certificate: certB, PrivateKey: keyB, RootCAs: serverCert, ServerName: "localhost",
		InitialRetransmit: 100 * time.Millisecond}
	var pinned []netip.AddrPort
	pin := func(a net.Addr) {
		pinned = append(pinned, addrPort(t, a))
		if err := l.PinPeer(addrPort(t, a), fpA); err != nil {
			t.Fatal(err)
		}
	}
	const clients = 16 // all on one of two sockets: 1 in 2^15
	for i := 0; i < clients; i++ {
		c, err := dialFrom(t, ctxT(t, 10*time.Second), ts.addr, client, pin)
		if err = refusedByServer(t, c, err); !errors.Is(err, ErrAlert) && !errors.Is(err, ErrVerify) {
			t.Fatalf("client %d, pinned to another certificate: %v", i, err)
		}
	}
	a, b := l.workers[0].counters(), l.workers[1].counters()
	if a[2] == 0 || b[2] == 0 || a[2]+b[2] != clients || len(ts.conns) != 0 {
		t.Fatalf("peers made per socket %d and %d, %d accepted; want %d refused on both",
			a[2], b[2], len(ts.conns), clients)
	}
	for _, p := range pinned {
		if n, err := l.UnpinPeer(p); n != 1 || err != nil {
			t.Fatalf("unpin %v: %d %v", p, n, err)
		}
		for i, w := range l.workers {
			var sa [sockaddrIn6Len]byte
			w.mu.Lock()
			left := w.srv.unpinPeer(encodeSockaddr(p, &sa))
			w.mu.Unlock()
			if left != 0 {
				t.Fatalf("socket %d still had %d pins for %v", i, left, p)
			}
		}
	}
}

// ListenConfig.Control sets options on every socket before its bind, as
// net.ListenConfig's does; its error fails Listen.
func TestListenConfigControl(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ListenConfig.Sockets above 1 is Linux's (SO_REUSEPORT)")
	}
	cert, key := testCert(t, "localhost")
	cfg := &Config{Certificate: cert, PrivateKey: key}
	const rcvbuf = 1 << 20
	calls := 0
	lc := ListenConfig{Sockets: 2, Control: func(_, _ string, c syscall.RawConn) error {
		calls++
		var err error
		c.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, rcvbuf)
			if err != nil { // without CAP_NET_ADMIN: up to net.core.rmem_max
				err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			}
		})
		return err
	}}
	l, err := lc.Listen(ctxT(t, 5*time.Second), "udp4", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if calls != 2 {
		t.Fatalf("Control called %d times for 2 sockets", calls)
	}
	// The kernel reports what it allowed (doubled; without CAP_NET_ADMIN
	// capped by net.core.rmem_max): more than a socket left alone has.
	rcvbufOf := func(pc *net.UDPConn) int {
		raw, err := pc.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var n int
		var gerr error
		raw.Control(func(fd uintptr) { n, gerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF) })
		if gerr != nil {
			t.Fatal(gerr)
		}
		return n
	}
	plain, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	for i, w := range l.workers {
		if got, dflt := rcvbufOf(w.pc), rcvbufOf(plain); got <= dflt {
			t.Fatalf("socket %d: SO_RCVBUF %d, a plain socket's %d", i, got, dflt)
		}
	}

	refused := errors.New("refused by Control")
	lc.Control = func(_, _ string, _ syscall.RawConn) error { return refused }
	if _, err := lc.Listen(ctxT(t, 5*time.Second), "udp4", "127.0.0.1:0", cfg); !errors.Is(err, refused) {
		t.Fatalf("Listen with a failing Control: %v", err)
	}
}
