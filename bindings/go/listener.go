// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime/cgo"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Listener is a DTLS server on one UDP socket, or on several bound to the
// same address (ListenConfig.Sockets), over the C library's multi-peer
// server: unknown peers get a stateless cookie exchange (no state is kept
// for a ClientHello without a valid cookie), known peers are routed to their
// connection, idle ones are evicted. One goroutine per socket reads it and
// runs the timers for every peer of that socket; Accept returns each peer
// whose handshake finished, on any socket, as a *ServerConn. PinPeer pins a
// peer's certificate by address before it connects.
type Listener struct {
	cfg     *compiledConfig
	hook    cgo.Handle // Config.GetPeerFingerprints, called from each server's on_connect; 0 for none
	workers []*worker  // one per socket, fixed at creation

	mu      sync.Mutex // pending, closed
	pending []*ServerConn
	closed  bool

	acceptSignal chan struct{}
	done         chan struct{}
}

// worker is one socket of a Listener with its own C server, peers and
// goroutine. Workers share the compiled config (read-only once frozen) and
// the Listener's accept queue (written once per finished handshake), never
// anything per datagram, so that they run on as many cores as there are
// sockets.
type worker struct {
	l  *Listener
	pc *net.UDPConn

	mu      sync.Mutex // srv, views, the C queue, and below
	srv     cserver
	views   map[cconn]*ServerConn
	armed   uint64 // the read deadline the loop waits with
	buf     []byte
	closing bool
	closed  bool

	// What the user callbacks (PSKLookup, KeyLogWriter,
	// GetPeerFingerprints) asked for inside the loop's C call in progress,
	// on the loop's goroutine, which holds mu; settle applies it once the
	// call has returned. Only the loop's calls make user callbacks.
	closeInCall    bool          // Listener.Close
	closeAfterCall []*ServerConn // ServerConn.Close
	// What process must not send: anything (muteAll), or to one peer.
	muteAll  bool
	mutePeer netip.AddrPort

	loopDone chan struct{}
}

var _ net.Listener = (*Listener)(nil)

// ListenConfig holds a Listener's options, as net.ListenConfig does a
// net.Listener's; the zero value listens as Listen does.
type ListenConfig struct {
	// Sockets is how many UDP sockets the Listener binds to the address,
	// each with SO_REUSEPORT (Linux), its own C server and its own
	// goroutine, so that a server uses that many cores: the kernel hashes
	// each datagram to a socket by its source and destination address, so
	// a peer stays on one socket. The sockets' servers share the Config
	// (its TicketSecret, random by default: a session made on one socket
	// resumes on another) and one cookie secret, drawn at random by the
	// Listener (SetCookieSecret replaces it on every socket): a client whose
	// cookie-bearing ClientHello is hashed to another socket than the one
	// that sent its HelloVerifyRequest (the set of sockets changed in
	// between) still gets in. Callbacks (PSKLookup, KeyLogWriter,
	// GetPeerFingerprints) may then run on several goroutines at once.
	// 0 or 1 is one socket without SO_REUSEPORT; more than one fails
	// outside Linux. Any process of the same user can bind SO_REUSEPORT
	// sockets to the address too, and take a share of its datagrams.
	Sockets int

	// Control, if not nil, is called for every socket after it is made
	// (and given SO_REUSEPORT) and before it is bound, as
	// net.ListenConfig.Control is: to set socket options such as a
	// server-sized SO_RCVBUF. An error it returns fails Listen.
	Control func(network, address string, c syscall.RawConn) error
}

// Listen opens a UDP socket on addr (network "udp", "udp4" or "udp6") and
// serves DTLS on it. cfg needs a certificate (or a PSK).
func Listen(network, addr string, cfg *Config) (*Listener, error) {
	var lc ListenConfig
	return lc.Listen(context.Background(), network, addr, cfg)
}

// Listen opens lc.Sockets UDP sockets on addr (network "udp", "udp4" or
// "udp6"; port 0 picks a free port, which every socket then binds) and
// serves DTLS on them as one Listener. ctx bounds the address's
// resolution. cfg needs a certificate (or a PSK).
func (lc *ListenConfig) Listen(ctx context.Context, network, addr string, cfg *Config) (*Listener, error) {
	switch network {
	case "udp", "udp4", "udp6":
	default:
		return nil, net.UnknownNetworkError(network)
	}
	if lc.Sockets < 0 {
		return nil, newError("listen", int(CodeInvalidArgument), "ListenConfig.Sockets is negative")
	}
	n := max(lc.Sockets, 1)
	nlc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		if n > 1 {
			if err := reusePort(network, address, c); err != nil {
				return err
			}
		}
		if lc.Control != nil {
			return lc.Control(network, address, c)
		}
		return nil
	}}
	pcs := make([]*net.UDPConn, 0, n)
	fail := func(err error) (*Listener, error) {
		for _, pc := range pcs {
			pc.Close()
		}
		return nil, err
	}
	for len(pcs) < n {
		at := addr
		if len(pcs) > 0 {
			at = pcs[0].LocalAddr().String() // the port the first bind picked
		}
		pc, err := nlc.ListenPacket(ctx, network, at)
		if err != nil {
			return fail(err)
		}
		pcs = append(pcs, pc.(*net.UDPConn))
	}
	l, err := newListener(pcs, cfg)
	if err != nil {
		return fail(err)
	}
	return l, nil
}

// NewListener serves DTLS on pc, which the Listener owns from then on.
func NewListener(pc *net.UDPConn, cfg *Config) (*Listener, error) {
	return newListener([]*net.UDPConn{pc}, cfg)
}

// newListener serves DTLS on pcs, one worker each; on success the Listener
// owns them.
func newListener(pcs []*net.UDPConn, cfg *Config) (*Listener, error) {
	cc, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	var cookieSecret []byte
	if len(pcs) > 1 {
		// One secret for every socket's server: a cookie one of them made
		// is valid at all of them. The servers keep copies; this one is
		// wiped once they have them.
		cookieSecret = make([]byte, 32)
		defer clear(cookieSecret)
		if _, err := rand.Read(cookieSecret); err != nil {
			return nil, err
		}
	}
	l := &Listener{
		cfg:          cc,
		acceptSignal: make(chan struct{}, 1),
		done:         make(chan struct{}),
	}
	if cfg != nil && cfg.GetPeerFingerprints != nil {
		l.hook = cgo.NewHandle(peerFingerprintsFunc(cfg.GetPeerFingerprints))
	}
	now := time.Now()
	for _, pc := range pcs {
		srv, rc := newCServer(cc.c)
		if rc == 0 && cookieSecret != nil {
			if rc = srv.setCookieSecret(cookieSecret, now); rc != 0 {
				srv.free()
			}
		}
		if rc != 0 {
			for _, w := range l.workers {
				w.srv.free()
			}
			if l.hook != 0 {
				l.hook.Delete()
			}
			return nil, newError("listen", rc, "")
		}
		if l.hook != 0 {
			srv.setOnConnect(l.hook)
		}
		l.workers = append(l.workers, &worker{
			l: l, pc: pc, srv: srv,
			views:    make(map[cconn]*ServerConn),
			armed:    timeNever,
			loopDone: make(chan struct{}),
		})
	}
	for _, w := range l.workers {
		go w.loop()
	}
	return l, nil
}

func (w *worker) loop() {
	defer close(w.loopDone)
	buf := make([]byte, 65536)
	var sa [sockaddrIn6Len]byte
	for {
		n, from, err := w.pc.ReadFromUDPAddrPort(buf)
		now := time.Now()
		w.mu.Lock()
		if w.closed {
			w.mu.Unlock()
			return
		}
		var fed netip.AddrPort // the peer whose datagram was fed, as the server knows it
		switch {
		case err == nil:
			if n > 0 && from.IsValid() {
				addr := encodeSockaddr(from, &sa)
				w.srv.receive(addr, buf[:n], now)
				fed = decodeSockaddr(addr)
			}
		case isTimeout(err):
			w.srv.handleTimeout(now)
		case errors.Is(err, net.ErrClosed):
			w.mu.Unlock()
			w.l.shutdown() // closed under us: end every peer
			return
		default:
			// A transient error (an ICMP error queued on the socket):
			// nothing to feed; read on.
		}
		w.settle(fed, now)
		if w.closeInCall {
			w.mu.Unlock()
			w.l.shutdown()
			return
		}
		// The loop waits for exactly the server's next deadline.
		if d := w.srv.nextDeadline(); d != w.armed {
			w.armed = d
			w.pc.SetReadDeadline(goTime(d))
		}
		w.mu.Unlock()
	}
}

// settle handles what the loop's last C call queued and what user
// callbacks asked for inside it. Called with w.mu held.
func (w *worker) settle(fed netip.AddrPort, now time.Time) {
	// A Listener closed inside a callback sends nothing that the call
	// produced: the handshake in progress does not complete.
	w.muteAll = w.closeInCall
	// A panicking KeyLogWriter refuses the peer whose datagram was fed
	// (its handshake is the one that was logged): nothing more is sent to
	// it and it is closed. A panicking PSKLookup or GetPeerFingerprints
	// refused it already (in the engine, in glue.c).
	var panicked *CallbackPanicError
	if errors.As(w.srv.box.takePanic(), &panicked) && panicked.Callback == "KeyLogWriter" {
		w.mutePeer = fed
	}
	w.process()
	w.muteAll = false
	for _, v := range w.closeAfterCall {
		if !v.dead {
			v.closeLocked(now)
		}
	}
	w.closeAfterCall = nil
	if w.mutePeer.IsValid() {
		for _, v := range w.views {
			if v.raddr == w.mutePeer && !v.dead {
				v.closeLocked(now)
				break
			}
		}
		w.mutePeer = netip.AddrPort{}
	}
}

// lock takes w.mu and returns its unlock, unless the calling goroutine
// runs inside a user callback made by the worker's own C call: that
// goroutine holds w.mu already.
func (w *worker) lock() (unlock func()) {
	if w.srv.box.inCallback() {
		return func() {}
	}
	w.mu.Lock()
	return w.mu.Unlock
}

// callbackWorker is the worker inside one of whose C calls the calling
// goroutine runs a user callback, or nil.
func (l *Listener) callbackWorker() *worker {
	for _, w := range l.workers {
		if w.srv.box.inCallback() {
			return w
		}
	}
	return nil
}

// afterCall handles what a C call made from another goroutine queued, and
// wakes the loop earlier if the server's next deadline moved before the
// one it waits for. Called with w.mu held.
func (w *worker) afterCall() {
	w.process()
	if d := w.srv.nextDeadline(); d < w.armed {
		w.armed = d
		w.pc.SetReadDeadline(goTime(d))
	}
}

// process handles what the last C calls queued. Called with w.mu held; it
// makes no call into C, so a connection whose on_close is in the batch is
// never touched after it was freed.
func (w *worker) process() {
	for {
		w.buf = w.srv.box.take(w.buf[:0])
		if len(w.buf) == 0 {
			break
		}
		for rest := w.buf; len(rest) > 0; {
			var h recHeader
			var addr, payload []byte
			h, addr, payload, rest = nextRecord(rest)
			switch h.kind {
			case recSend:
				to := decodeSockaddr(addr)
				if !w.muteAll && (!w.mutePeer.IsValid() || to != w.mutePeer) {
					_, _ = w.pc.WriteToUDPAddrPort(payload, to)
				}
			case recConnect:
				c := w.srv.conn(h)
				w.views[c] = newServerConn(w, c, decodeSockaddr(addr))
			case recDone:
				if v := w.views[w.srv.conn(h)]; v != nil {
					w.l.queue(v)
				}
			case recData:
				if v := w.views[w.srv.conn(h)]; v != nil {
					v.deliver(payload)
				}
			case recClose:
				c := w.srv.conn(h)
				if v := w.views[c]; v != nil {
					delete(w.views, c)
					v.end(w.closeReason(v, int(h.reason), string(payload)))
				}
			}
		}
	}
}

// queue hands a peer whose handshake finished to Accept.
func (l *Listener) queue(v *ServerConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return // shutdown closes it
	}
	l.pending = append(l.pending, v)
	select {
	case l.acceptSignal <- struct{}{}:
	default:
	}
}

func (w *worker) closeReason(v *ServerConn, reason int, detail string) error {
	switch {
	case v.localClose || w.closing:
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
	if l.callbackWorker() != nil {
		return nil, inCallbackError("accept") // only this goroutine could bring a peer
	}
	for {
		l.mu.Lock()
		for len(l.pending) > 0 {
			v := l.pending[0]
			l.pending[0] = nil
			l.pending = l.pending[1:]
			l.mu.Unlock()
			if v.alive() {
				return v, nil
			}
			l.mu.Lock()
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

// Close sends close_notify to every peer, frees the servers and closes the
// sockets. Connections handed out by Accept end with net.ErrClosed. Inside
// a user callback (see Config.GetPeerFingerprints) it returns at once and
// the Listener closes when the callback returns; nothing the call that
// made the callback produced is sent.
func (l *Listener) Close() error {
	if w := l.callbackWorker(); w != nil {
		if w.closing || w.closed || w.closeInCall {
			return net.ErrClosed
		}
		w.closeInCall = true
		return nil
	}
	err := l.shutdown()
	for _, w := range l.workers {
		<-w.loopDone
	}
	return err
}

func (l *Listener) shutdown() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return net.ErrClosed
	}
	l.closed = true
	l.pending = nil
	l.mu.Unlock()
	var err error
	for _, w := range l.workers {
		if e := w.shutdown(); err == nil {
			err = e
		}
	}
	if l.hook != 0 {
		l.hook.Delete() // no callback follows the frees
	}
	close(l.done)
	return err
}

// shutdown ends the worker's peers, frees its server and closes its socket.
func (w *worker) shutdown() error {
	w.mu.Lock()
	if w.closed || w.closing {
		w.mu.Unlock()
		return nil
	}
	w.closing = true
	now := time.Now()
	for _, v := range w.allViews() {
		if !v.dead {
			v.closeLocked(now)
		}
	}
	w.closed = true
	w.srv.free()
	w.mu.Unlock()
	err := w.pc.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil // the loop saw the socket closed first
	}
	return err
}

func (w *worker) allViews() []*ServerConn {
	vs := make([]*ServerConn, 0, len(w.views))
	for _, v := range w.views {
		vs = append(vs, v)
	}
	return vs
}

// Addr is the socket's local address (every socket's, with several).
func (l *Listener) Addr() net.Addr { return l.workers[0].pc.LocalAddr() }

// ListenerStats are the server's counters; with several sockets, the sums
// of their servers' counters.
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

// Stats reads the servers' counters.
func (l *Listener) Stats() ListenerStats {
	var c [9]uint64
	for _, w := range l.workers {
		wc := w.counters()
		for i := range c {
			c[i] += wc[i]
		}
	}
	return ListenerStats{c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]}
}

// counters reads the worker's server's counters, in ListenerStats' order
// (zero once closed).
func (w *worker) counters() (c [9]uint64) {
	defer w.lock()()
	if w.closed {
		return c
	}
	// SDTLS_COUNTER_* are 1..9 in this order (frozen by the ABI).
	for i := range c {
		c[i] = w.srv.counter(i + 1)
	}
	return c
}

// SetCookieSecret replaces the cookie secret (16..64 bytes) of every
// socket's server; the old one stays valid for one more cookie lifetime.
// Servers behind one address that share it accept each other's cookies
// (the sockets of one Listener share one already).
func (l *Listener) SetCookieSecret(secret []byte) error {
	if l.callbackWorker() != nil {
		return inCallbackError("cookie secret")
	}
	now := time.Now()
	for _, w := range l.workers {
		// The C call checks the length alone: a secret it refuses is
		// refused by the first server, before any has changed.
		if err := w.setCookieSecret(secret, now); err != nil {
			return err
		}
	}
	return nil
}

func (w *worker) setCookieSecret(secret []byte, now time.Time) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return net.ErrClosed
	}
	return newError("cookie secret", w.srv.setCookieSecret(secret, now), "")
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
// pinned; with several sockets each socket's server holds every pin, since
// the peer may be hashed to any of them (a CodeNoMemory can leave the pin
// on some of them). Pin before the peer's first datagram can arrive.
func (l *Listener) PinPeer(addr netip.AddrPort, fingerprint string) error {
	if l.callbackWorker() != nil {
		return inCallbackError("pin peer")
	}
	if !addr.IsValid() {
		return newError("pin peer", int(CodeInvalidArgument), "not an address")
	}
	if strings.IndexByte(fingerprint, 0) >= 0 {
		return newError("pin peer", int(CodeInvalidArgument), "a NUL byte in the fingerprint")
	}
	var sa [sockaddrIn6Len]byte
	at := encodeSockaddr(addr, &sa)
	for _, w := range l.workers {
		if err := w.pinPeer(at, fingerprint); err != nil {
			return err
		}
	}
	return nil
}

func (w *worker) pinPeer(addr []byte, fingerprint string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return net.ErrClosed
	}
	return newError("pin peer", w.srv.pinPeer(addr, fingerprint), "")
}

// UnpinPeer removes every fingerprint pinned for the peer at addr and
// returns how many there were; connections already made keep theirs.
func (l *Listener) UnpinPeer(addr netip.AddrPort) (int, error) {
	if l.callbackWorker() != nil {
		return 0, inCallbackError("unpin peer")
	}
	if !addr.IsValid() {
		return 0, newError("unpin peer", int(CodeInvalidArgument), "not an address")
	}
	var sa [sockaddrIn6Len]byte
	at := encodeSockaddr(addr, &sa)
	pinned := 0
	for i, w := range l.workers {
		n, err := w.unpinPeer(at)
		if err != nil {
			return 0, err
		}
		if i == 0 {
			pinned = n // PinPeer gave every server the same pins
		}
	}
	return pinned, nil
}

func (w *worker) unpinPeer(addr []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, net.ErrClosed
	}
	n := w.srv.unpinPeer(addr)
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
	w     *worker
	c     cconn // valid while !dead, under w.mu
	raddr netip.AddrPort

	dead       bool // under w.mu: the server has freed c
	localClose bool // under w.mu

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

func newServerConn(w *worker, c cconn, raddr netip.AddrPort) *ServerConn {
	return &ServerConn{w: w, c: c, raddr: raddr, notify: make(chan struct{}, 1),
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

// end marks the view dead (its C connection is freed). Under w.mu.
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
	if v.w.srv.box.inCallback() {
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
	w := v.w
	if w.srv.box.inCallback() {
		return 0, inCallbackError("write")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
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
	w.afterCall()
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// alive reports whether the server still holds the peer.
func (v *ServerConn) alive() bool {
	v.w.mu.Lock()
	defer v.w.mu.Unlock()
	return !v.dead
}

// closeLocked sends close_notify and has the server remove the peer.
func (v *ServerConn) closeLocked(now time.Time) {
	v.localClose = true
	v.c.close(now) // on_close (and the free) happen during this call
	v.w.afterCall()
}

// Close sends close_notify to the peer and removes it from the server.
// Inside a user callback (see Config.GetPeerFingerprints) that happens
// when the callback returns.
func (v *ServerConn) Close() error {
	w := v.w
	inCall := w.srv.box.inCallback()
	if !inCall {
		w.mu.Lock()
		defer w.mu.Unlock()
	}
	if v.localClose {
		return net.ErrClosed
	}
	switch {
	case v.dead:
		v.localClose = true
	case inCall:
		v.localClose = true
		w.closeAfterCall = append(w.closeAfterCall, v)
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
func (v *ServerConn) LocalAddr() net.Addr { return v.w.pc.LocalAddr() }

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
	defer v.w.lock()()
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
