// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

type testServer struct {
	l     *Listener
	cert  []byte
	addr  string
	conns chan *ServerConn
	got   chan string // every datagram received, while there is room
}

// startEcho runs a Listener on loopback whose connections echo every
// datagram back (and record it in got).
func startEcho(t testing.TB, cfg *Config) *testServer {
	t.Helper()
	if cfg == nil {
		cert, key := testCert(t, "localhost")
		cfg = &Config{Certificate: cert, PrivateKey: key}
	}
	l, err := Listen("udp4", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return serveEcho(t, l, cfg.Certificate)
}

// serveEcho has l's connections echo every datagram back (and record it in
// got); cert is l's certificate, for clientConfig.
func serveEcho(t testing.TB, l *Listener, cert []byte) *testServer {
	ts := &testServer{l: l, cert: cert, addr: l.Addr().String(),
		conns: make(chan *ServerConn, 1024), got: make(chan string, 4096)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.AcceptDTLS()
			if err != nil {
				return
			}
			ts.conns <- c
			wg.Add(1)
			go func() {
				defer wg.Done()
				echoAll(c, ts.got)
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); wg.Wait() })
	return ts
}

// echoAll writes every datagram c reads back to c, until a read or a write
// fails; each one is also offered to got, and dropped where got is full (or
// nil: a nil channel is never ready, so its case is never taken).
func echoAll(c net.Conn, got chan<- string) {
	buf := make([]byte, 2048)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		select {
		case got <- string(buf[:n]):
		default:
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return
		}
	}
}

func (ts *testServer) clientConfig() *Config {
	return &Config{RootCAs: ts.cert, ServerName: "localhost"}
}

// dial is a client of ts over "udp4" (clientConfig, ten seconds to connect),
// closed when the test ends.
func (ts *testServer) dial(t testing.TB) *ClientConn {
	t.Helper()
	c, err := Dial(ctxT(t, 10*time.Second), "udp4", ts.addr, ts.clientConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// echoedView is a client of ts that has had "hello" echoed, and the
// server's view of it.
func (ts *testServer) echoedView(t testing.TB) (*ClientConn, *ServerConn) {
	t.Helper()
	c := ts.dial(t)
	echo(t, c, []byte("hello"))
	return c, <-ts.conns
}

// readEOF fails the test unless c's next read (within five seconds) is
// io.EOF: the peer's close_notify.
func readEOF(t testing.TB, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 10)); err != io.EOF {
		t.Fatalf("%s: %v", what, err)
	}
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func echo(t testing.TB, c net.Conn, msg []byte) {
	t.Helper()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[:n], msg) {
		t.Fatalf("echo: got %d bytes, want %d", n, len(msg))
	}
}

func TestDialListen(t *testing.T) {
	ts := startEcho(t, nil)
	c, err := Dial(ctxT(t, 10*time.Second), "udp", ts.addr, ts.clientConfig())
	if err != nil {
		t.Fatal(err)
	}
	st := c.ConnectionState()
	if st.Version != defaultVersion() || st.PeerCertificate == nil {
		t.Fatalf("state %+v", st)
	}
	for _, n := range []int{1, 100, 1000, c.MaxDataSize()} {
		echo(t, c, bytes.Repeat([]byte{'a'}, n))
	}
	if _, err := c.Write(make([]byte, c.MaxDataSize()+1)); !errors.Is(err, ErrUsage) {
		t.Fatalf("too big: %v", err)
	}
	sc := <-ts.conns
	if sc.RemoteAddr().String() != c.LocalAddr().String() {
		t.Fatalf("addresses: %v %v", sc.RemoteAddr(), c.LocalAddr())
	}
	k1, _ := c.ExportKeyingMaterial("EXPERIMENTAL x", nil, 16)
	k2, err := sc.ExportKeyingMaterial("EXPERIMENTAL x", nil, 16)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("exporter: %v", err)
	}

	// The client closes: the server's view reads io.EOF and goes dead.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	sc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := sc.Read(make([]byte, 10)); err != io.EOF {
		t.Fatalf("server read after close_notify: %v %+v dead=%v", err, ts.l.Stats(), sc.dead)
	}
	if _, err := sc.Write([]byte("x")); err != io.EOF {
		t.Fatalf("server write after close_notify: %v", err)
	}
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
	if s := ts.l.Stats(); s.Peers != 0 || s.ConnectionsCreated != 1 || s.CookiesSent != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestServerCloses(t *testing.T) {
	ts := startEcho(t, nil)
	c, sc := ts.echoedView(t)
	if err := sc.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sc.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second close: %v", err)
	}
	if _, err := sc.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
	readEOF(t, c, "client read after server close")
}

func TestListenerCloseEndsPeers(t *testing.T) {
	ts := startEcho(t, nil)
	c, sc := ts.echoedView(t)
	if err := ts.l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("view after listener close: %v", err)
	}
	readEOF(t, c, "client read")
	if _, err := ts.l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("accept after close: %v", err)
	}
}

func TestDialVerifyFailure(t *testing.T) {
	ts := startEcho(t, nil)
	other, _ := testCert(t, "localhost")
	_, err := Dial(ctxT(t, 10*time.Second), "udp", ts.addr, &Config{RootCAs: other, ServerName: "localhost"})
	var e *Error
	if !errors.Is(err, ErrVerify) || !errors.As(err, &e) || e.Detail == "" {
		t.Fatalf("dial: %v", err)
	}
	// The wrong name.
	_, err = Dial(ctxT(t, 10*time.Second), "udp", ts.addr, &Config{RootCAs: ts.cert, ServerName: "other.example"})
	if !errors.Is(err, ErrVerify) {
		t.Fatalf("wrong name: %v", err)
	}
	// Pinned fingerprints: the right one passes, a wrong one fails.
	fp, _ := Fingerprint(ts.cert)
	c, err := Dial(ctxT(t, 10*time.Second), "udp", ts.addr, &Config{PeerFingerprints: []string{fp}})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	wrong, _ := Fingerprint(other)
	_, err = Dial(ctxT(t, 10*time.Second), "udp", ts.addr, &Config{}, WithPeerFingerprint(wrong))
	if !errors.Is(err, ErrVerify) {
		t.Fatalf("wrong fingerprint: %v", err)
	}
	t.Log(err)
}

// silentPeer is a UDP socket that reads and never answers.
func silentPeer(t testing.TB) string {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}

func TestDialTimeouts(t *testing.T) {
	addr := silentPeer(t)
	cfg := &Config{InsecureSkipVerify: true, HandshakeTimeout: 300 * time.Millisecond, InitialRetransmit: 50 * time.Millisecond}
	start := time.Now()
	_, err := Dial(context.Background(), "udp4", addr, cfg)
	if !errors.Is(err, ErrTimeout) || time.Since(start) > 5*time.Second {
		t.Fatalf("handshake timeout: %v after %v", err, time.Since(start))
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("not a net.Error timeout: %v", err)
	}
	// The context's deadline comes first.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = Dial(ctx, "udp4", addr, &Config{InsecureSkipVerify: true})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("context deadline: %v", err)
	}
	// Cancelled.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = Dial(ctx, "udp4", addr, &Config{InsecureSkipVerify: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	// Nothing listening: refused at once.
	pc, _ := net.ListenPacket("udp4", "127.0.0.1:0")
	closed := pc.LocalAddr().String()
	pc.Close()
	start = time.Now()
	_, err = Dial(ctxT(t, 5*time.Second), "udp4", closed, &Config{InsecureSkipVerify: true})
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("refused: %v after %v", err, time.Since(start))
	}
}

func TestReadDeadline(t *testing.T) {
	ts := startEcho(t, nil)
	c, err := Dial(ctxT(t, 10*time.Second), "udp", ts.addr, ts.clientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("client deadline: %v", err)
	}
	echo(t, c, []byte("still works"))
	sc := <-ts.conns
	_ = sc
	// A deadline set while Read blocks wakes it.
	done := make(chan error, 1)
	c.SetReadDeadline(time.Time{})
	go func() { _, err := c.Read(make([]byte, 10)); done <- err }()
	time.Sleep(20 * time.Millisecond)
	c.SetReadDeadline(time.Now())
	if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("deadline moved in: %v", err)
	}
	c.SetWriteDeadline(time.Now().Add(-time.Second))
	if _, err := c.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write deadline: %v", err)
	}
}

func TestServerConnDeadline(t *testing.T) {
	cert, key := testCert(t, "localhost")
	l, err := Listen("udp4", "127.0.0.1:0", &Config{Certificate: cert, PrivateKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := Dial(ctxT(t, 10*time.Second), "udp", l.Addr().String(), &Config{RootCAs: cert, ServerName: "localhost"})
		if err == nil {
			time.Sleep(300 * time.Millisecond)
			c.Close()
		}
	}()
	sc, err := l.AcceptDTLS()
	if err != nil {
		t.Fatal(err)
	}
	sc.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	if _, err := sc.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("server deadline: %v", err)
	}
	sc.SetReadDeadline(time.Time{})
	if _, err := sc.Read(make([]byte, 10)); err != io.EOF {
		t.Fatalf("after deadline cleared: %v", err)
	}
}

// echoRetrying sends msg and waits for its echo, sending it again after a
// second of silence (up to 10 times), as a DTLS application does: DTLS
// never retransmits application data, and 64 handshakes at once (two-datagram
// post-quantum ClientHellos) can overflow a loopback socket's buffer.
// Echoes of earlier rounds that arrive late are skipped.
func echoRetrying(c *ClientConn, msg string) error {
	buf := make([]byte, 2048)
	for attempt := 0; attempt < 10; attempt++ {
		if _, err := c.Write([]byte(msg)); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(time.Second))
		for {
			n, err := c.Read(buf)
			if isTimeout(err) {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", msg, err)
			}
			if string(buf[:n]) == msg {
				return nil
			}
		}
	}
	return fmt.Errorf("%s: no echo after 10 sends", msg)
}

// echoClients runs `clients` clients at once against ts, each echoing
// `rounds` messages; every failure is reported on t.
func echoClients(t *testing.T, ts *testServer, clients, rounds int) {
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := Dial(ctxT(t, 30*time.Second), "udp4", ts.addr, ts.clientConfig())
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for r := 0; r < rounds; r++ {
				if err := echoRetrying(c, fmt.Sprintf("client %d round %d", i, r)); err != nil {
					errs <- err
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestManyClientsOneListener(t *testing.T) {
	ts := startEcho(t, nil)
	const clients, rounds = 64, 20
	echoClients(t, ts, clients, rounds)
	if s := ts.l.Stats(); s.ConnectionsCreated != clients {
		t.Fatalf("stats %+v", s)
	}
}

// A flood of ClientHellos without a cookie, from many source addresses,
// makes the server keep no state and answer each with a HelloVerifyRequest
// no larger than the request; a real client still gets in during it.
func TestCookieFloodKeepsNoState(t *testing.T) {
	ts := startEcho(t, nil)
	// A ClientHello in one datagram (no ML-KEM share; the post-quantum
	// default's spans two, and a first fragment alone is reassembled, not
	// answered). P-256 too: DTLS 1.2 bounds the certificate's curve by it.
	probe, err := NewConn(&Config{InsecureSkipVerify: true, Groups: []string{"X25519", "P-256"}}, RoleClient)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	probe.Start(time.Now())
	hello := bytes.Clone(probe.NextDatagram())

	server, _ := net.ResolveUDPAddr("udp4", ts.addr)
	const sources, perSource = 40, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	replies, biggest := 0, 0
	for i := 0; i < sources; i++ {
		// Distinct source addresses on loopback: 127.0.0.2, .3, ...
		src := &net.UDPAddr{IP: net.IPv4(127, 0, 0, byte(2+i))}
		pc, err := net.ListenUDP("udp4", src)
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 2048)
			for j := 0; j < perSource; j++ {
				if _, err := pc.WriteToUDP(hello, server); err != nil {
					t.Error(err)
					return
				}
				pc.SetReadDeadline(time.Now().Add(2 * time.Second))
				n, _, err := pc.ReadFromUDP(buf)
				if err != nil {
					continue
				}
				mu.Lock()
				replies++
				biggest = max(biggest, n)
				mu.Unlock()
			}
		}()
	}
	// A real client during the flood.
	c := ts.dial(t)
	echo(t, c, []byte("through the flood"))
	wg.Wait()
	s := ts.l.Stats()
	t.Logf("%d hellos, %d replies (largest %d bytes, hello %d); stats %+v", sources*perSource, replies, biggest, len(hello), s)
	if s.Peers != 1 || s.ConnectionsCreated != 1 {
		t.Fatalf("the flood made state: %+v", s)
	}
	if s.CookiesSent < sources*perSource || replies < sources*perSource*9/10 || biggest > len(hello) {
		t.Fatalf("cookies: %+v, %d replies, largest %d", s, replies, biggest)
	}
	c.Close()
}

func TestDialResumesAndPSK(t *testing.T) {
	ts := startEcho(t, nil)
	c := ts.dial(t)
	sess, err := c.Session()
	if v := c.ConnectionState().Version; v == "DTLSv1.3" {
		// The ticket comes after the handshake (NewSessionTicket): Dial
		// returns before it can have arrived.
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeState || sess != nil {
			t.Fatalf("DTLS 1.3 session before any data: %v", err)
		}
	} else if err != nil || len(sess) == 0 { // DTLS 1.2: the ticket is part of the handshake
		t.Fatalf("%s session: %v", v, err)
	}
	echo(t, c, []byte("first"))
	if sess, err = c.Session(); err != nil || len(sess) == 0 { // once data has flowed: with either version
		t.Fatalf("session after data: %v", err)
	}
	c.Close()
	c, err = Dial(ctxT(t, 10*time.Second), "udp4", ts.addr, ts.clientConfig(), WithSession(sess))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !c.ConnectionState().Resumed {
		t.Fatal("not resumed")
	}
	echo(t, c, []byte("resumed"))

	// A PSK-only listener: no certificate anywhere.
	psk := []PSK{{Identity: "sensor-7", Key: []byte("0123456789abcdef")}}
	ps := startEcho(t, &Config{PSKs: psk, PSKIdentityHint: "sensors"})
	pc, err := Dial(ctxT(t, 10*time.Second), "udp4", ps.addr, &Config{PSKs: psk})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	echo(t, pc, []byte("psk"))
	if st := pc.ConnectionState(); st.PSKIdentity != "sensor-7" || st.PeerCertificate != nil {
		t.Fatalf("state %+v", st)
	}
}
