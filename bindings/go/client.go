// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ClientConn is a DTLS client over a connected datagram socket: a net.Conn
// where each Write sends one datagram and each Read returns one (a buffer
// too small for it gets its first bytes, as with UDP). It needs no
// goroutine of its own: Read and Write drive the connection (retransmit,
// take acknowledgements and tickets), so a client that only writes works
// too. Close sends close_notify. Read returns io.EOF after the peer's
// close_notify.
type ClientConn struct {
	sock net.Conn
	cfg  *compiledConfig

	readMu sync.Mutex // one reader at a time
	rbuf   []byte

	mu     sync.Mutex // the Conn and everything below
	conn   *Conn
	err    error // why the connection ended (io.EOF, *Error)
	closed bool
	// refused: a send found the port closed (ICMP unreachable). The socket
	// reports that error once, to whichever call comes next: with a
	// ClientHello in two datagrams (the post-quantum key share) that is
	// the second send, not the read the handshake waits in.
	refused error

	dlMu      sync.Mutex // the socket's read deadline
	readDL    time.Time
	timerDL   time.Time
	writeDL   time.Time
	writeDLMu sync.Mutex
}

var _ net.Conn = (*ClientConn)(nil)

// Dial connects to addr ("host:port") over network ("udp", "udp4" or
// "udp6") and completes the handshake before it returns; ctx bounds both.
// When cfg.ServerName is empty, the host part of addr is sent and verified.
// Under DTLS 1.3 the client finishes before the server has checked its
// certificate: a server that refuses it ends the connection just after,
// and the first Read returns the server's alert (ErrAlert). A panic in
// cfg.KeyLogWriter fails Dial with a *CallbackPanicError.
func Dial(ctx context.Context, network, addr string, cfg *Config, opts ...DialOption) (*ClientConn, error) {
	if !strings.HasPrefix(network, "udp") {
		return nil, usageError("dial", "network %q is not a datagram network", network)
	}
	var d net.Dialer
	sock, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	name := ""
	if cfg == nil || cfg.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			name = strings.TrimSuffix(host, ".")
		}
	}
	c, err := client(ctx, sock, cfg, name, opts)
	if err != nil {
		sock.Close()
		return nil, err
	}
	return c, nil
}

// Client runs the client handshake over conn, a connected datagram
// net.Conn (a *net.UDPConn from net.DialUDP, say), and returns the
// connection once it is done. The ClientConn owns conn from then on.
func Client(ctx context.Context, conn net.Conn, cfg *Config, opts ...DialOption) (*ClientConn, error) {
	return client(ctx, conn, cfg, "", opts)
}

// DialOption sets something for one client connection.
type DialOption func(*Conn) error

// WithSession offers a session from ClientConn.Session (or Conn.Session)
// of an earlier connection to the same server, to resume it.
func WithSession(session []byte) DialOption {
	return func(c *Conn) error { return c.SetSession(session) }
}

// WithPeerFingerprint pins the server's certificate for this connection
// ("sha-256 AB:CD:...", as SDP writes it), as WebRTC does per peer.
func WithPeerFingerprint(fingerprint string) DialOption {
	return func(c *Conn) error { return c.AddPeerFingerprint(fingerprint) }
}

func client(ctx context.Context, sock net.Conn, cfg *Config, name string, opts []DialOption) (*ClientConn, error) {
	conn, err := NewConn(cfg, RoleClient)
	if err != nil {
		return nil, err
	}
	if name != "" {
		if err := conn.SetServerName(name); err != nil {
			conn.Close()
			return nil, err
		}
	}
	for _, o := range opts {
		if err := o(conn); err != nil {
			conn.Close()
			return nil, err
		}
	}
	cc, _ := cfg.compile()
	c := &ClientConn{sock: sock, cfg: cc, conn: conn, rbuf: make([]byte, 65536)}
	if err := c.handshake(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

var longAgo = time.Unix(1, 0)

func (c *ClientConn) handshake(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { c.sock.SetReadDeadline(longAgo) })
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.conn.Start(time.Now()); err != nil {
		return err
	}
	c.flush()
	ctxDL, _ := ctx.Deadline()
	for c.conn.State() == StateHandshaking {
		if c.refused != nil {
			return c.refused // connection refused: nothing listens there
		}
		if err := c.sock.SetReadDeadline(earliest(c.conn.NextDeadline(), ctxDL)); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := c.sock.Read(c.rbuf)
		now := time.Now()
		// The handshake's failures show in the Conn's state; a panic in
		// KeyLogWriter is returned by the call alone.
		var callErr error
		switch {
		case err == nil:
			callErr = c.conn.Receive(c.rbuf[:n], now)
		case isTimeout(err):
			if err := ctx.Err(); err != nil {
				return err
			}
			if !ctxDL.IsZero() && !now.Before(ctxDL) {
				return context.DeadlineExceeded
			}
			callErr = c.conn.HandleTimeout(now)
		default:
			return err // connection refused: nothing listens there
		}
		var panicked *CallbackPanicError
		if errors.As(callErr, &panicked) {
			return callErr
		}
		c.flush()
	}
	c.sock.SetReadDeadline(time.Time{})
	if c.conn.State() != StateConnected {
		if err := c.conn.Err(); err != nil {
			return err
		}
		return &Error{Code: CodeClosed, Category: CategoryClosed, Op: "handshake", Detail: "peer closed the connection"}
	}
	return nil
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// flush sends what the Conn queued and notes how the connection ended.
// Called with c.mu held.
func (c *ClientConn) flush() {
	for d := c.conn.NextDatagram(); d != nil; d = c.conn.NextDatagram() {
		// A datagram that cannot be sent counts as lost; a refusal is kept.
		if _, err := c.sock.Write(d); err != nil && errors.Is(err, syscall.ECONNREFUSED) {
			c.refused = err
		}
	}
	c.dlMu.Lock()
	c.timerDL = c.conn.NextDeadline()
	c.dlMu.Unlock()
}

// nextData returns the next received datagram, or the error that ended
// the connection. Called with c.mu held.
func (c *ClientConn) nextData(p []byte) (int, bool, error) {
	for {
		e, ok := c.conn.NextEvent()
		if !ok {
			break
		}
		switch e.Kind {
		case EventData:
			return copy(p, e.Data), true, nil
		case EventClosed:
			if e.Err == nil {
				c.err = io.EOF
			} else {
				c.err = e.Err
			}
		}
	}
	if c.err != nil {
		return 0, true, c.err
	}
	return 0, false, nil
}

// Read reads one datagram's data.
func (c *ClientConn) Read(p []byte) (int, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return 0, net.ErrClosed
		}
		if n, done, err := c.nextData(p); done {
			c.mu.Unlock()
			return n, err
		}
		c.mu.Unlock()

		c.dlMu.Lock()
		userDL := c.readDL
		if !userDL.IsZero() && !time.Now().Before(userDL) {
			c.dlMu.Unlock()
			return 0, os.ErrDeadlineExceeded
		}
		c.sock.SetReadDeadline(earliest(userDL, c.timerDL))
		c.dlMu.Unlock()

		n, err := c.sock.Read(c.rbuf)
		now := time.Now()
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return 0, net.ErrClosed
		}
		switch {
		case err == nil:
			_ = c.conn.Receive(c.rbuf[:n], now)
		case isTimeout(err):
			if t := c.conn.NextDeadline(); !t.IsZero() && !now.Before(t) {
				_ = c.conn.HandleTimeout(now)
			}
		default:
			c.mu.Unlock()
			return 0, err
		}
		c.flush()
		c.mu.Unlock()
	}
}

// Write sends p as one record in one datagram; p must fit
// (ConnectionState, MaxDataSize).
//
// Write also drives the connection, so that a client that only writes
// still completes what the handshake left to do: when no Read is running,
// it first takes the datagrams already waiting on the socket, without
// blocking (their data waits for the next Read, in order; at most 256
// unread datagrams are held, the rest stay in the socket's buffer), and it
// acts on an expired timer. That retransmits the client's last handshake
// flight when it was lost (the Finished of DTLS 1.3, which the server
// acknowledges; the CCS and Finished of a resumed DTLS 1.2 handshake, sent
// again when the server repeats its flight) and takes the server's DTLS 1.3
// ACKs and session tickets. Until the server has the flight it drops the
// client's data: DTLS does not resend data, so the first Writes after a
// lost flight may be lost. Write does not read a socket that is not a
// syscall.Conn (a *net.UDPConn is one); it still acts on timers.
func (c *ClientConn) Write(p []byte) (int, error) {
	c.writeDLMu.Lock()
	dl := c.writeDL
	c.writeDLMu.Unlock()
	if !dl.IsZero() && !time.Now().Before(dl) {
		return 0, os.ErrDeadlineExceeded
	}
	// A Read blocked on the socket (holding readMu) reads and acts for
	// itself: Write leaves the socket, and its deadline, to it.
	mayRead := c.readMu.TryLock() // false while a Read holds it
	if mayRead {
		defer c.readMu.Unlock()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	if c.err != nil {
		return 0, c.err
	}
	now := time.Now()
	c.drive(now, mayRead)
	if err := c.conn.Send(p, now); err != nil {
		if errors.Is(err, ErrClosed) && c.err == nil {
			c.err = err
		}
		return 0, err
	}
	c.flush()
	return len(p), nil
}

// maxHeld bounds the data events Write keeps for a later Read.
const maxHeld = 256

// drive feeds what is waiting on the socket (when read: c.readMu is held)
// and acts on an expired timer, without blocking. Called with c.mu held.
func (c *ClientConn) drive(now time.Time, read bool) {
	if read && c.conn.held() < maxHeld {
		c.dlMu.Lock()
		// A past deadline (the user's read deadline, or the timer's) would
		// fail the read before it looks: none while taking what is there.
		c.sock.SetReadDeadline(time.Time{})
		for c.conn.held() < maxHeld {
			n, ok := readNow(c.sock, c.rbuf)
			if !ok {
				break
			}
			_ = c.conn.Receive(c.rbuf[:n], now)
		}
		c.sock.SetReadDeadline(earliest(c.readDL, c.timerDL))
		c.dlMu.Unlock()
	}
	if t := c.conn.NextDeadline(); !t.IsZero() && !now.Before(t) {
		_ = c.conn.HandleTimeout(now)
	}
}

// KeyUpdate (DTLS 1.3) renews this side's traffic keys and asks the peer
// to renew its own (see Conn.KeyUpdate).
func (c *ClientConn) KeyUpdate() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	if err := c.conn.KeyUpdate(time.Now()); err != nil {
		return err
	}
	c.flush()
	return nil
}

// Close sends close_notify, releases the connection and closes the socket.
func (c *ClientConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	c.closed = true
	_ = c.conn.Shutdown(time.Now())
	for d := c.conn.NextDatagram(); d != nil; d = c.conn.NextDatagram() {
		_, _ = c.sock.Write(d)
	}
	c.conn.Close()
	return c.sock.Close()
}

// LocalAddr is the socket's local address.
func (c *ClientConn) LocalAddr() net.Addr { return c.sock.LocalAddr() }

// RemoteAddr is the peer's address.
func (c *ClientConn) RemoteAddr() net.Addr { return c.sock.RemoteAddr() }

// SetDeadline sets the read and write deadlines.
func (c *ClientConn) SetDeadline(t time.Time) error {
	c.SetWriteDeadline(t)
	return c.SetReadDeadline(t)
}

// SetReadDeadline makes a blocked or later Read fail with
// os.ErrDeadlineExceeded at t.
func (c *ClientConn) SetReadDeadline(t time.Time) error {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	c.readDL = t
	return c.sock.SetReadDeadline(earliest(t, c.timerDL))
}

// SetWriteDeadline makes a Write after t fail with os.ErrDeadlineExceeded.
func (c *ClientConn) SetWriteDeadline(t time.Time) error {
	c.writeDLMu.Lock()
	c.writeDL = t
	c.writeDLMu.Unlock()
	return c.sock.SetWriteDeadline(t)
}

// ConnectionState describes the connection.
func (c *ClientConn) ConnectionState() ConnectionState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn.ConnectionState()
}

// MaxDataSize is the largest Write the connection accepts.
func (c *ClientConn) MaxDataSize() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn.MaxDataSize()
}

// ExportKeyingMaterial derives keying material (RFC 5705).
func (c *ClientConn) ExportKeyingMaterial(label string, context []byte, length int) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn.ExportKeyingMaterial(label, context, length)
}

// SRTPKeying returns the DTLS-SRTP keys.
func (c *ClientConn) SRTPKeying() (*SRTPKeying, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn.SRTPKeying()
}

// Session returns the session, to resume it later with WithSession. It
// is secret. Under DTLS 1.3 the ticket comes after the handshake and Read
// receives it (Write also takes it, once it has arrived): ask once a Read
// has returned data (before the ticket, Session fails with CodeState).
func (c *ClientConn) Session() ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn.Session()
}
