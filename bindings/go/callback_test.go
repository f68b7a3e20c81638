package sdtls

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The Config's callbacks (PSKLookup, KeyLogWriter, GetPeerFingerprints)
// run inside a C call: a panic in one must stop there (never unwind
// through the C library's frames), and a call on the Conn or Listener
// being driven, made from inside one, must neither deadlock on the lock
// the driving goroutine holds nor free memory the C call still uses.

// noPanic runs fn and fails the test when a callback's panic reaches it
// through the C frames.
func noPanic(t *testing.T, what string, fn func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s: a callback's panic unwound through C up to the caller: %v", what, r)
		}
	}()
	fn()
}

// within fails the test when fn has not returned after d: a deadlock.
// fn runs on another goroutine: it must not call t.Fatal.
func within(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still blocked after %v (deadlock)", what, d)
	}
}

func isPanicOf(err error, callback string, value any) bool {
	var pe *CallbackPanicError
	return errors.As(err, &pe) && pe.Callback == callback && pe.Value == value
}

func isInCallback(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == CodeInCallback && errors.Is(err, ErrUsage)
}

// A panicking KeyLogWriter loses its line and the call that completed the
// handshake returns the panic; the handshake goes on.
func TestKeyLogWriterPanicIsTheCallsError(t *testing.T) {
	cert, key := testCert(t, "server.test")
	boom := writerFunc(func([]byte) { panic("boom in key log") })
	p := newPair(t, &Config{RootCAs: cert, ServerName: "server.test", KeyLogWriter: boom},
		&Config{Certificate: cert, PrivateKey: key, KeyLogWriter: boom})
	noPanic(t, "handshake", func() { p.handshake() })
	if p.client.State() != StateConnected || p.server.State() != StateConnected {
		t.Fatalf("client %v, server %v: a key log panic ends no handshake", p.client.State(), p.server.State())
	}
	for side, errs := range map[string][]error{"client": p.cerrs, "server": p.serrs} {
		if len(errs) == 0 {
			t.Fatalf("%s: no call returned the panic", side)
		}
		for _, err := range errs {
			if !isPanicOf(err, "KeyLogWriter", "boom in key log") {
				t.Fatalf("%s: %v", side, err)
			}
		}
	}
	// A panic is reported once: the next call is clean.
	if err := p.client.Send([]byte("x"), p.now); err != nil {
		t.Fatal(err)
	}
}

// A panicking PSKLookup refuses the identity, and the call returns the
// panic.
func TestPSKLookupPanicIsTheCallsError(t *testing.T) {
	psk := []PSK{{Identity: "device-1", Key: bytes.Repeat([]byte{1}, 16)}}
	p := newPair(t, &Config{PSKs: psk}, &Config{PSKLookup: func(string) []byte { panic("boom in lookup") }})
	noPanic(t, "handshake", func() { p.handshake() })
	if p.client.State() == StateConnected || p.server.State() == StateConnected {
		t.Fatal("a panicking lookup did not refuse the identity")
	}
	for _, err := range p.serrs {
		if isPanicOf(err, "PSKLookup", "boom in lookup") {
			return
		}
	}
	t.Fatalf("the server's calls returned %v, not the panic", p.serrs)
}

// Dial returns the panic of the client's KeyLogWriter.
func TestDialKeyLogWriterPanic(t *testing.T) {
	ts := startEcho(t, nil)
	ccfg := ts.clientConfig()
	ccfg.KeyLogWriter = writerFunc(func([]byte) { panic("boom in key log") })
	noPanic(t, "dial", func() {
		c, err := Dial(ctxT(t, 10*time.Second), "udp4", ts.addr, ccfg)
		if !isPanicOf(err, "KeyLogWriter", "boom in key log") {
			t.Fatalf("dial: %v", err)
		}
		if c != nil {
			t.Fatal("a connection with the error")
		}
	})
}

// A Listener refuses a peer whose handshake its KeyLogWriter panicked in
// (nothing more is sent to it, it is never accepted), and serves the next.
func TestListenerKeyLogWriterPanicRefusesThePeer(t *testing.T) {
	cert, key := testCert(t, "localhost")
	var armed atomic.Bool
	armed.Store(true)
	ts := startEcho(t, &Config{Certificate: cert, PrivateKey: key,
		KeyLogWriter: writerFunc(func([]byte) {
			if armed.Load() {
				panic("boom in key log")
			}
		})})
	ccfg := ts.clientConfig()
	ccfg.InitialRetransmit = 100 * time.Millisecond
	if c, err := Dial(ctxT(t, 1500*time.Millisecond), "udp4", ts.addr, ccfg); err == nil {
		c.Close()
		t.Fatal("a peer whose key log panicked was served")
	}
	select {
	case <-ts.conns:
		t.Fatal("a refused peer was accepted")
	default:
	}
	armed.Store(false)
	c, err := Dial(ctxT(t, 10*time.Second), "udp4", ts.addr, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echo(t, c, []byte("served"))
}

// A PSKLookup that closed its own server Conn segfaulted (the connection
// and its queue freed under the C call). The close is applied when the
// call that made the lookup returns: nothing that call produced is sent,
// the handshake does not complete and the client times out.
func TestPSKLookupClosesItsConn(t *testing.T) {
	psk := []PSK{{Identity: "device-1", Key: bytes.Repeat([]byte{1}, 16)}}
	var srv *Conn
	lookups := 0
	closeErr := errors.New("Close was not called")
	p := newPair(t, &Config{PSKs: psk, HandshakeTimeout: 3 * time.Second}, &Config{PSKLookup: func(string) []byte {
		lookups++
		closeErr = srv.Close()
		return psk[0].Key
	}})
	srv = p.server
	var cev, sev []Event
	var startErr error
	within(t, 10*time.Second, "handshake", func() {
		if startErr = p.client.Start(p.now); startErr == nil {
			cev, sev = p.pump()
		}
	})
	if startErr != nil {
		t.Fatal(startErr)
	}
	if lookups != 1 || closeErr != nil {
		t.Fatalf("lookups %d, Close inside the lookup: %v", lookups, closeErr)
	}
	if len(p.serrs) != 1 || !errors.Is(p.serrs[0], ErrClosed) {
		t.Fatalf("the server's calls returned %v", p.serrs)
	}
	if len(cev) != 0 || len(sev) != 0 {
		t.Fatalf("events: client %+v, server %+v", cev, sev)
	}
	if srv.State() != StateClosed || srv.NextDatagram() != nil {
		t.Fatalf("server %v after its lookup closed it", srv.State())
	}
	if err := srv.Receive([]byte{22}, p.now); !errors.Is(err, ErrUsage) {
		t.Fatalf("receive on the closed conn: %v", err)
	}
	for i := 0; i < 50 && p.client.State() == StateHandshaking; i++ {
		p.now = p.client.NextDeadline()
		_ = p.client.HandleTimeout(p.now)
		for d := p.client.NextDatagram(); d != nil; d = p.client.NextDatagram() {
			// the server is gone
		}
	}
	if p.client.State() != StateFailed || !errors.Is(p.client.Err(), ErrTimeout) {
		t.Fatalf("client %v: %v", p.client.State(), p.client.Err())
	}
}

// Inside PSKLookup, the calls that move the server Conn are refused with
// CodeInCallback, its queries answer, and the handshake goes on.
func TestCallsOnItsConnInsidePSKLookup(t *testing.T) {
	psk := []PSK{{Identity: "device-1", Key: bytes.Repeat([]byte{1}, 16)}}
	var srv *Conn
	var state State
	var inside []error
	p := newPair(t, &Config{PSKs: psk}, &Config{PSKLookup: func(string) []byte {
		now := time.Now()
		state = srv.State()
		_, exportErr := srv.ExportKeyingMaterial("EXPERIMENTAL test", nil, 16)
		inside = []error{
			srv.Start(now), srv.Receive([]byte{22, 254, 253}, now), srv.Send([]byte("x"), now),
			srv.HandleTimeout(now), srv.KeyUpdate(now), srv.Shutdown(now),
			srv.SetServerName("x"), srv.AddPeerFingerprint("sha-256 00"), srv.SetSession([]byte{1}),
		}
		if exportErr == nil || isInCallback(exportErr) {
			inside = append(inside, errors.New("the export query was refused"))
		}
		return psk[0].Key
	}})
	srv = p.server
	within(t, 10*time.Second, "handshake", func() {
		if err := p.client.Start(p.now); err == nil {
			p.pump()
		}
	})
	if state != StateHandshaking {
		t.Fatalf("State inside the lookup: %v", state)
	}
	if len(inside) != 9 {
		t.Fatalf("inside the lookup: %v", inside)
	}
	for i, err := range inside {
		if !isInCallback(err) {
			t.Fatalf("call %d inside the lookup: %v", i, err)
		}
	}
	if p.client.State() != StateConnected || p.server.State() != StateConnected || len(p.serrs) != 0 {
		t.Fatalf("client %v, server %v, server errors %v", p.client.State(), p.server.State(), p.serrs)
	}
}

// A Listener closed from inside each of its callbacks closes when the
// callback returns: the handshake in progress does not complete, Accept
// returns net.ErrClosed.
func TestListenerClosedInsideCallback(t *testing.T) {
	cert, key := testCert(t, "localhost")
	psk := []PSK{{Identity: "device-1", Key: bytes.Repeat([]byte{1}, 16)}}
	for _, where := range []string{"PSKLookup", "KeyLogWriter", "GetPeerFingerprints"} {
		t.Run(where, func(t *testing.T) {
			var l atomic.Pointer[Listener]
			var once sync.Once
			closeErr := make(chan error, 1)
			closeIt := func() { once.Do(func() { closeErr <- l.Load().Close() }) }
			scfg := &Config{Certificate: cert, PrivateKey: key}
			ccfg := &Config{RootCAs: cert, ServerName: "localhost", InitialRetransmit: 100 * time.Millisecond}
			switch where {
			case "PSKLookup":
				scfg = &Config{PSKLookup: func(string) []byte { closeIt(); return psk[0].Key }}
				ccfg = &Config{PSKs: psk, InitialRetransmit: 100 * time.Millisecond}
			case "KeyLogWriter":
				scfg.KeyLogWriter = writerFunc(func([]byte) { closeIt() })
			case "GetPeerFingerprints":
				scfg.GetPeerFingerprints = func(net.Addr) ([]string, error) { closeIt(); return nil, nil }
			}
			ln, err := Listen("udp4", "127.0.0.1:0", scfg)
			if err != nil {
				t.Fatal(err)
			}
			l.Store(ln)
			if c, err := Dial(ctxT(t, 1500*time.Millisecond), "udp4", ln.Addr().String(), ccfg); err == nil {
				c.Close()
				t.Fatal("the handshake completed on a Listener closed during it")
			}
			select {
			case err := <-closeErr:
				if err != nil {
					t.Fatalf("Close inside %s: %v", where, err)
				}
			default:
				t.Fatalf("%s was not called, or Close inside it has not returned", where)
			}
			var acceptErr, closeAgain error
			within(t, 5*time.Second, "Accept and Close after", func() {
				_, acceptErr = ln.Accept()
				closeAgain = ln.Close()
			})
			if !errors.Is(acceptErr, net.ErrClosed) || !errors.Is(closeAgain, net.ErrClosed) {
				t.Fatalf("accept: %v, close: %v", acceptErr, closeAgain)
			}
		})
	}
}

// Inside a Listener's KeyLogWriter, during a second peer's handshake: the
// Listener's and an accepted ServerConn's queries answer, Close of that
// ServerConn is applied when the callback returns, every other call is
// refused with CodeInCallback; the second handshake completes.
func TestCallsInsideListenerKeyLogWriter(t *testing.T) {
	cert, key := testCert(t, "localhost")
	var l atomic.Pointer[Listener]
	var first atomic.Pointer[ServerConn]
	type results struct {
		stats                              ListenerStats
		version                            string
		cookie, write, read, accept, close error
	}
	got := make(chan results, 1)
	var once sync.Once
	scfg := &Config{Certificate: cert, PrivateKey: key, KeyLogWriter: writerFunc(func([]byte) {
		a := first.Load()
		if a == nil {
			return
		}
		once.Do(func() {
			var r results
			ln := l.Load()
			r.stats = ln.Stats()
			r.version = a.ConnectionState().Version
			r.cookie = ln.SetCookieSecret(bytes.Repeat([]byte{1}, 32))
			_, r.write = a.Write([]byte("x"))
			_, r.read = a.Read(make([]byte, 16))
			_, r.accept = ln.Accept()
			r.close = a.Close()
			got <- r
		})
	})}
	ln, err := Listen("udp4", "127.0.0.1:0", scfg)
	if err != nil {
		t.Fatal(err)
	}
	l.Store(ln)
	ccfg := &Config{RootCAs: cert, ServerName: "localhost"}
	ca, err := Dial(ctxT(t, 10*time.Second), "udp4", ln.Addr().String(), ccfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	sa, err := ln.AcceptDTLS()
	if err != nil {
		t.Fatal(err)
	}
	first.Store(sa)

	cb, err := Dial(ctxT(t, 5*time.Second), "udp4", ln.Addr().String(), ccfg)
	if err != nil {
		t.Fatalf("the second handshake: %v", err)
	}
	defer cb.Close()
	var r results
	select {
	case r = <-got:
	default:
		t.Fatal("the key log was not called")
	}
	if r.stats.Peers != 2 || r.version == "" {
		t.Fatalf("queries inside the key log: %+v, version %q", r.stats, r.version)
	}
	for what, err := range map[string]error{"SetCookieSecret": r.cookie, "Write": r.write, "Read": r.read, "Accept": r.accept} {
		if !isInCallback(err) {
			t.Fatalf("%s inside the key log: %v", what, err)
		}
	}
	if r.close != nil {
		t.Fatalf("Close inside the key log: %v", r.close)
	}
	// The close was applied: the first client gets close_notify.
	ca.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := ca.Read(make([]byte, 16)); err != io.EOF {
		t.Fatalf("the first client read %v, not the server's close_notify", err)
	}
	if _, err := sa.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write on the closed ServerConn: %v", err)
	}
	within(t, 5*time.Second, "Accept and Close", func() {
		var sb *ServerConn
		if sb, err = ln.AcceptDTLS(); err == nil && !strings.HasPrefix(sb.RemoteAddr().String(), "127.0.0.1:") {
			err = errors.New("accepted " + sb.RemoteAddr().String())
		}
		ln.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}
