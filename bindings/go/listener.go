// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime/cgo"
	"strings"
	"sync"
	"time"
)

// Listener is a DTLS server on one UDP socket, over the C library's
// multi-peer server: unknown peers get a stateless cookie exchange (no
// state is kept for a ClientHello without a valid cookie), known peers are
// routed to their connection, idle ones are evicted. One goroutine reads
// the socket and runs the timers for every peer; Accept returns each peer
// whose handshake finished as a *ServerConn. PinPeer pins a peer's
// certificate by address before it connects.
type Listener struct {
	pc   *net.UDPConn
	cfg  *compiledConfig
	hook cgo.Handle // Config.GetPeerFingerprints, called from srv's on_connect; 0 for none

	mu      sync.Mutex // srv, views, pending, the C queue, and below
	srv     cserver
	views   map[cconn]*ServerConn
	pending []*ServerConn
	armed   uint64 // the read deadline the loop waits with
	buf     []byte
	closing bool
	closed  bool

	// What the user callbacks (PSKLookup, KeyLogWriter,
	// GetPeerFingerprints) asked for inside the loop's C call in progress,
	// on the loop's goroutine, which holds mu; settle applies it once the
	// call has returned. Only the loop's calls make user callbacks.
	closeInCall    bool          // Close
	closeAfterCall []*ServerConn // ServerConn.Close
	// What process must not send: anything (muteAll), or to one peer.
	muteAll  bool
	mutePeer netip.AddrPort

	acceptSignal chan struct{}
	done         chan struct{}
	loopDone     chan struct{}
}

var _ net.Listener = (*Listener)(nil)

// Listen opens a UDP socket on addr (network "udp", "udp4" or "udp6") and
// serves DTLS on it. cfg needs a certificate (or a PSK).
func Listen(network, addr string, cfg *Config) (*Listener, error) {
	laddr, err := net.ResolveUDPAddr(network, addr)
	if err != nil {
		return nil, err
	}
	pc, err := net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	l, err := NewListener(pc, cfg)
	if err != nil {
		pc.Close()
		return nil, err
	}
	return l, nil
}

// NewListener serves DTLS on pc, which the Listener owns from then on.
func NewListener(pc *net.UDPConn, cfg *Config) (*Listener, error) {
	cc, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	srv, rc := newCServer(cc.c)
	if rc != 0 {
		return nil, newError("listen", rc, "")
	}
	var hook cgo.Handle
	if cfg != nil && cfg.GetPeerFingerprints != nil {
		hook = cgo.NewHandle(peerFingerprintsFunc(cfg.GetPeerFingerprints))
		srv.setOnConnect(hook)
	}
	l := &Listener{
		pc: pc, cfg: cc, srv: srv, hook: hook,
		views:        make(map[cconn]*ServerConn),
		armed:        timeNever,
		acceptSignal: make(chan struct{}, 1),
		done:         make(chan struct{}),
		loopDone:     make(chan struct{}),
	}
	go l.loop()
	return l, nil
}

func (l *Listener) loop() {
	defer close(l.loopDone)
	buf := make([]byte, 65536)
	var sa [sockaddrIn6Len]byte
	for {
		n, from, err := l.pc.ReadFromUDPAddrPort(buf)
		now := time.Now()
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return
		}
		var fed netip.AddrPort // the peer whose datagram was fed, as the server knows it
		switch {
		case err == nil:
			if n > 0 && from.IsValid() {
				addr := encodeSockaddr(from, &sa)
				l.srv.receive(addr, buf[:n], now)
				fed = decodeSockaddr(addr)
			}
		case isTimeout(err):
			l.srv.handleTimeout(now)
		case errors.Is(err, net.ErrClosed):
			l.mu.Unlock()
			l.shutdown() // closed under us: end every peer
			return
		default:
			// A transient error (an ICMP error queued on the socket):
			// nothing to feed; read on.
		}
		l.settle(fed, now)
		if l.closeInCall {
			l.mu.Unlock()
			l.shutdown()
			return
		}
		// The loop waits for exactly the server's next deadline.
		if d := l.srv.nextDeadline(); d != l.armed {
			l.armed = d
			l.pc.SetReadDeadline(goTime(d))
		}
		l.mu.Unlock()
	}
}

// settle handles what the loop's last C call queued and what user
// callbacks asked for inside it. Called with l.mu held.
func (l *Listener) settle(fed netip.AddrPort, now time.Time) {
	// A Listener closed inside a callback sends nothing that the call
	// produced: the handshake in progress does not complete.
	l.muteAll = l.closeInCall
	// A panicking KeyLogWriter refuses the peer whose datagram was fed
	// (its handshake is the one that was logged): nothing more is sent to
	// it and it is closed. A panicking PSKLookup or GetPeerFingerprints
	// refused it already (in the engine, in glue.c).
	var panicked *CallbackPanicError
	if errors.As(l.srv.box.takePanic(), &panicked) && panicked.Callback == "KeyLogWriter" {
		l.mutePeer = fed
	}
	l.process()
	l.muteAll = false
	for _, v := range l.closeAfterCall {
		if !v.dead {
			v.closeLocked(now)
		}
	}
	l.closeAfterCall = nil
	if l.mutePeer.IsValid() {
		for _, v := range l.views {
			if v.raddr == l.mutePeer && !v.dead {
				v.closeLocked(now)
				break
			}
		}
		l.mutePeer = netip.AddrPort{}
	}
}

// lock takes l.mu and returns its unlock, unless the calling goroutine
// runs inside a user callback made by the Listener's own C call: that
// goroutine holds l.mu already.
func (l *Listener) lock() (unlock func()) {
	if l.srv.box.inCallback() {
		return func() {}
	}
	l.mu.Lock()
	return l.mu.Unlock
}

// afterCall handles what a C call made from another goroutine queued, and
// wakes the loop earlier if the server's next deadline moved before the
// one it waits for. Called with l.mu held.
func (l *Listener) afterCall() {
	l.process()
	if d := l.srv.nextDeadline(); d < l.armed {
		l.armed = d
		l.pc.SetReadDeadline(goTime(d))
	}
}

// process handles what the last C calls queued. Called with l.mu held; it
// makes no call into C, so a connection whose on_close is in the batch is
// never touched after it was freed.
func (l *Listener) process() {
	for {
		l.buf = l.srv.box.take(l.buf[:0])
		if len(l.buf) == 0 {
			break
		}
		for rest := l.buf; len(rest) > 0; {
			var h recHeader
			var addr, payload []byte
			h, addr, payload, rest = nextRecord(rest)
			switch h.kind {
			case recSend:
				to := decodeSockaddr(addr)
				if !l.muteAll && (!l.mutePeer.IsValid() || to != l.mutePeer) {
					_, _ = l.pc.WriteToUDPAddrPort(payload, to)
				}
			case recConnect:
				c := l.srv.conn(h)
				l.views[c] = newServerConn(l, c, decodeSockaddr(addr))
			case recDone:
				if v := l.views[l.srv.conn(h)]; v != nil {
					l.pending = append(l.pending, v)
					select {
					case l.acceptSignal <- struct{}{}:
					default:
					}
				}
			case recData:
				if v := l.views[l.srv.conn(h)]; v != nil {
					v.deliver(payload)
				}
			case recClose:
				c := l.srv.conn(h)
				if v := l.views[c]; v != nil {
					delete(l.views, c)
					v.end(l.closeReason(v, int(h.reason), string(payload)))
				}
			}
		}
	}
}

func (l *Listener) closeReason(v *ServerConn, reason int, detail string) error {
	switch {
	case v.localClose || l.closing:
		return net.ErrClosed
	case reason == 0:
		return io.EOF
	}
	return newError("", reason, detail)
}

// Accept waits for the next peer whose handshake finished.
func (l *Listener) Accept() (net.Conn, error) { return l.AcceptDTLS() }

// AcceptDTLS is Accept returning the *ServerConn.
func (l *Listener) AcceptDTLS() (*ServerConn, error) {
	if l.srv.box.inCallback() {
		return nil, inCallbackError("accept") // only this goroutine could bring a peer
	}
	for {
		l.mu.Lock()
		for len(l.pending) > 0 {
			v := l.pending[0]
			l.pending[0] = nil
			l.pending = l.pending[1:]
			if !v.dead {
				l.mu.Unlock()
				return v, nil
			}
		}
		closed := l.closed
		l.mu.Unlock()
		if closed {
			return nil, net.ErrClosed
		}
		select {
		case <-l.acceptSignal:
		case <-l.done:
		}
	}
}

// Close sends close_notify to every peer, frees the server and closes the
// socket. Connections handed out by Accept end with net.ErrClosed. Inside
// a user callback (see Config.GetPeerFingerprints) it returns at once and
// the Listener closes when the callback returns; nothing the call that
// made the callback produced is sent.
func (l *Listener) Close() error {
	if l.srv.box.inCallback() {
		if l.closing || l.closed || l.closeInCall {
			return net.ErrClosed
		}
		l.closeInCall = true
		return nil
	}
	err := l.shutdown()
	<-l.loopDone
	return err
}

func (l *Listener) shutdown() error {
	l.mu.Lock()
	if l.closed || l.closing {
		l.mu.Unlock()
		return net.ErrClosed
	}
	l.closing = true
	now := time.Now()
	for _, v := range l.allViews() {
		if !v.dead {
			v.closeLocked(now)
		}
	}
	l.closed = true
	l.srv.free()
	if l.hook != 0 {
		l.hook.Delete() // no callback follows the free
	}
	l.pending = nil
	close(l.done)
	l.mu.Unlock()
	err := l.pc.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil // the loop saw the socket closed first
	}
	return err
}

func (l *Listener) allViews() []*ServerConn {
	vs := make([]*ServerConn, 0, len(l.views))
	for _, v := range l.views {
		vs = append(vs, v)
	}
	return vs
}

// Addr is the socket's local address.
func (l *Listener) Addr() net.Addr { return l.pc.LocalAddr() }

// ListenerStats are the server's counters.
type ListenerStats struct {
	CookiesSent        uint64 // HelloVerifyRequests sent
	CookiesRejected    uint64 // ClientHellos with a bad cookie
	ConnectionsCreated uint64
	ConnectionsClosed  uint64 // ended by close or error
	ConnectionsEvicted uint64 // idle or handshake timeout
	DroppedMalformed   uint64
	DroppedUnknownPeer uint64
	DroppedLimit       uint64
	Peers              uint64 // connections now
}

// Stats reads the server's counters.
func (l *Listener) Stats() ListenerStats {
	defer l.lock()()
	if l.closed {
		return ListenerStats{}
	}
	// SDTLS_COUNTER_* are 1..9 in this order (frozen by the ABI).
	s := l.srv
	return ListenerStats{s.counter(1), s.counter(2), s.counter(3), s.counter(4), s.counter(5),
		s.counter(6), s.counter(7), s.counter(8), s.counter(9)}
}

// SetCookieSecret replaces the cookie secret (16..64 bytes); the old one
// stays valid for one more cookie lifetime. Servers behind one address
// that share it accept each other's cookies.
func (l *Listener) SetCookieSecret(secret []byte) error {
	if l.srv.box.inCallback() {
		return inCallbackError("cookie secret")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return net.ErrClosed
	}
	return newError("cookie secret", l.srv.setCookieSecret(secret, time.Now()), "")
}

// PinPeer expects every connection the Listener makes from now on for the
// peer at addr to present a certificate with this fingerprint (WebRTC: the
// a=fingerprint of that peer's SDP; "sha-256 AB:CD:...", sha-384, sha-512,
// or any form ParseFingerprint takes), as Config.PeerFingerprints are
// expected of every peer: the server asks that peer for a certificate, which
// must match one of either list, and that replaces the CA check; a peer that
// presents another is refused (its handshake fails with ErrVerify). Up to
// 16 per address (more fail with CodeLimit); pinning one the address has
// already changes nothing. An IPv4 address and its IPv4-mapped IPv6 form
// are one address here. Connections made before the call are not affected.
// The pins stay until UnpinPeer or Close. The table is the C server's
// (sdtls_server_pin_peer): constant time per pin, however many peers are
// pinned. Pin before the peer's first datagram can arrive.
func (l *Listener) PinPeer(addr netip.AddrPort, fingerprint string) error {
	if l.srv.box.inCallback() {
		return inCallbackError("pin peer")
	}
	if !addr.IsValid() {
		return newError("pin peer", int(CodeInvalidArgument), "not an address")
	}
	if strings.IndexByte(fingerprint, 0) >= 0 {
		return newError("pin peer", int(CodeInvalidArgument), "a NUL byte in the fingerprint")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return net.ErrClosed
	}
	var sa [sockaddrIn6Len]byte
	return newError("pin peer", l.srv.pinPeer(encodeSockaddr(addr, &sa), fingerprint), "")
}

// UnpinPeer removes every fingerprint pinned for the peer at addr and
// returns how many there were; connections already made keep theirs.
func (l *Listener) UnpinPeer(addr netip.AddrPort) (int, error) {
	if l.srv.box.inCallback() {
		return 0, inCallbackError("unpin peer")
	}
	if !addr.IsValid() {
		return 0, newError("unpin peer", int(CodeInvalidArgument), "not an address")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, net.ErrClosed
	}
	var sa [sockaddrIn6Len]byte
	n := l.srv.unpinPeer(encodeSockaddr(addr, &sa))
	if n < 0 {
		return 0, newError("unpin peer", n, "")
	}
	return n, nil
}

// ServerConn is one peer of a Listener: a net.Conn where each Write sends
// one datagram and each Read returns one. It is a view of a connection the
// server owns: it goes dead when the peer closes, fails or is evicted (Read
// returns io.EOF after the peer's close_notify, or the *Error), or when
// the Listener closes. Close sends close_notify and removes the peer.
type ServerConn struct {
	l     *Listener
	c     cconn // valid while !dead, under l.mu
	raddr netip.AddrPort

	dead       bool // under l.mu: the server has freed c
	localClose bool // under l.mu

	mu     sync.Mutex // q, err
	q      [][]byte
	err    error
	notify chan struct{} // a datagram was queued (one token)
	ended  chan struct{} // closed when err is set
	rdl    *deadline
	wdl    *deadline
}

var _ net.Conn = (*ServerConn)(nil)

// maxQueued bounds the datagrams a ServerConn holds for Read; more are
// dropped, as a full socket buffer drops them.
const maxQueued = 1024

func newServerConn(l *Listener, c cconn, raddr netip.AddrPort) *ServerConn {
	return &ServerConn{l: l, c: c, raddr: raddr, notify: make(chan struct{}, 1),
		ended: make(chan struct{}), rdl: newDeadline(), wdl: newDeadline()}
}

func (v *ServerConn) wake() {
	select {
	case v.notify <- struct{}{}:
	default:
	}
}

// deliver queues a copy of data for Read.
func (v *ServerConn) deliver(data []byte) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.q) >= maxQueued || v.localClose {
		return // dropped
	}
	v.q = append(v.q, append([]byte(nil), data...))
	v.wake()
}

// end marks the view dead (its C connection is freed). Under l.mu.
func (v *ServerConn) end(err error) {
	v.dead = true
	v.mu.Lock()
	v.setErr(err)
	v.mu.Unlock()
}

// setErr records why the view ended and wakes every reader. Under v.mu.
func (v *ServerConn) setErr(err error) {
	if v.err == nil {
		close(v.ended)
	}
	v.err = err
}

// Read reads one datagram's data.
func (v *ServerConn) Read(p []byte) (int, error) {
	if v.l.srv.box.inCallback() {
		return 0, inCallbackError("read") // only this goroutine could bring data
	}
	for {
		select {
		case <-v.rdl.ch():
			return 0, os.ErrDeadlineExceeded
		default:
		}
		v.mu.Lock()
		if len(v.q) > 0 {
			d := v.q[0]
			v.q[0] = nil
			v.q = v.q[1:]
			if len(v.q) > 0 {
				v.wake() // for another reader
			}
			v.mu.Unlock()
			return copy(p, d), nil
		}
		err := v.err
		v.mu.Unlock()
		if err != nil {
			return 0, err
		}
		select {
		case <-v.notify:
		case <-v.ended:
		case <-v.rdl.ch():
			return 0, os.ErrDeadlineExceeded
		}
	}
}

// Write sends p as one record in one datagram.
func (v *ServerConn) Write(p []byte) (int, error) {
	if v.wdl.expired() {
		return 0, os.ErrDeadlineExceeded
	}
	l := v.l
	if l.srv.box.inCallback() {
		return 0, inCallbackError("write")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if v.dead {
		v.mu.Lock()
		err := v.err
		v.mu.Unlock()
		return 0, err
	}
	rc, _ := v.c.send(p, time.Now())
	var err error
	if rc != 0 {
		detail := ""
		if v.c.errorCode() == rc {
			detail = v.c.errorDetail()
		}
		err = newError("write", rc, detail)
	}
	l.afterCall()
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// closeLocked sends close_notify and has the server remove the peer.
func (v *ServerConn) closeLocked(now time.Time) {
	v.localClose = true
	v.c.close(now) // on_close (and the free) happen during this call
	v.l.afterCall()
}

// Close sends close_notify to the peer and removes it from the server.
// Inside a user callback (see Config.GetPeerFingerprints) that happens
// when the callback returns.
func (v *ServerConn) Close() error {
	l := v.l
	inCall := l.srv.box.inCallback()
	if !inCall {
		l.mu.Lock()
		defer l.mu.Unlock()
	}
	if v.localClose {
		return net.ErrClosed
	}
	switch {
	case v.dead:
		v.localClose = true
	case inCall:
		v.localClose = true
		l.closeAfterCall = append(l.closeAfterCall, v)
	default:
		v.closeLocked(time.Now())
	}
	v.mu.Lock()
	v.q = nil
	v.setErr(net.ErrClosed)
	v.mu.Unlock()
	return nil
}

// LocalAddr is the listener's address.
func (v *ServerConn) LocalAddr() net.Addr { return v.l.Addr() }

// RemoteAddr is the peer's address.
func (v *ServerConn) RemoteAddr() net.Addr { return net.UDPAddrFromAddrPort(v.raddr) }

// SetDeadline sets the read and write deadlines.
func (v *ServerConn) SetDeadline(t time.Time) error {
	v.rdl.set(t)
	v.wdl.set(t)
	return nil
}

// SetReadDeadline makes a blocked or later Read fail with
// os.ErrDeadlineExceeded at t.
func (v *ServerConn) SetReadDeadline(t time.Time) error { v.rdl.set(t); return nil }

// SetWriteDeadline makes a Write after t fail with os.ErrDeadlineExceeded.
func (v *ServerConn) SetWriteDeadline(t time.Time) error { v.wdl.set(t); return nil }

// live runs fn on the C connection while the server holds it.
func (v *ServerConn) live(fn func(cconn) error) error {
	defer v.l.lock()()
	if v.dead {
		return net.ErrClosed
	}
	return fn(v.c)
}

// ConnectionState describes the connection (empty once it has ended).
func (v *ServerConn) ConnectionState() (s ConnectionState) {
	v.live(func(c cconn) error { s = c.connectionState(); return nil })
	return s
}

// MaxDataSize is the largest Write the connection accepts.
func (v *ServerConn) MaxDataSize() (n int) {
	v.live(func(c cconn) error { n = c.maxDataSize(); return nil })
	return n
}

// ExportKeyingMaterial derives keying material (RFC 5705).
func (v *ServerConn) ExportKeyingMaterial(label string, context []byte, length int) (out []byte, err error) {
	err = v.live(func(c cconn) error {
		out, err = exportKeyingMaterial(c, label, context, length)
		return err
	})
	return out, err
}

// SRTPKeying returns the DTLS-SRTP keys.
func (v *ServerConn) SRTPKeying() (k *SRTPKeying, err error) {
	err = v.live(func(c cconn) error {
		var rc int
		k, rc = c.srtpKeying()
		return newError("srtp keying", rc, "")
	})
	return k, err
}
