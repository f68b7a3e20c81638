// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"fmt"
	"runtime"
	"time"
)

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	// EventHandshakeDone: the handshake finished; the peer is authenticated.
	EventHandshakeDone EventKind = iota + 1
	// EventData: one application datagram from the peer, in Data.
	EventData
	// EventClosed: the connection ended. Err is nil after the peer's
	// close_notify, otherwise the failure (an *Error).
	EventClosed
)

// Event is something a Conn reports after a call. Data is valid until the
// next call on the Conn that moves it (Start, Receive, Send, HandleTimeout,
// Shutdown); copy it to keep it.
type Event struct {
	Kind EventKind
	Data []byte
	Err  error
}

// Conn is a sans-I/O DTLS connection: it never touches a socket or a
// clock. Feed it received datagrams with Receive, send what NextDatagram
// returns, call HandleTimeout at NextDeadline, and read what happened with
// NextEvent. Time is passed in as a time.Time from time.Now() (or any
// clock that never goes backwards for one Conn).
//
// A Conn is not safe for concurrent use. Close releases it; a Conn that
// becomes unreachable without Close is released by the garbage collector,
// but that is only a safety net.
//
// The Config's PSKLookup and KeyLogWriter run inside the call that drives
// the handshake (Receive, mostly). From inside them, on this Conn, Close
// and the queries (State, ConnectionState, Err ...) may be called; every
// call that changes the Conn returns an *Error with CodeInCallback. A
// panic in one becomes the call's error (a *CallbackPanicError).
type Conn struct {
	// Methods that call into C end with runtime.KeepAlive(c): the cleanup
	// must not free cc while a call on it runs.
	cc       cconn
	cfg      *compiledConfig
	cleanup  runtime.Cleanup
	role     Role
	deadline uint64
	freed    bool
	// driving: a C call that may call back into user code (PSKLookup,
	// KeyLogWriter) is in progress. A call on the Conn meanwhile comes
	// from inside such a callback (a Conn is not for concurrent use).
	driving bool

	buf    []byte   // what the C queue held, copied in one go
	out    [][]byte // datagrams to send, slices of buf
	outN   int      // how many of out were handed out
	events []Event  // slices of buf too
	evN    int
	// The bytes of the datagrams and of the data events not yet handed
	// out, for the queues' bound (QueueMaxBytes).
	outBytes, evBytes int
}

// The bound of each of a Conn's queues (datagrams for NextDatagram, events
// for NextEvent), generous enough that use that takes what a call made
// before long never meets it. A Send while the datagram queue holds
// QueueMaxRecords datagrams or QueueMaxBytes bytes, and a Receive while the
// event queue does, fails with CodeLimit (errors.Is(err, ErrInternal)) and
// changes nothing: take what is queued first; nothing queued is lost.
const (
	QueueMaxRecords = 4096
	QueueMaxBytes   = 16 << 20
)

// queueFull is the error of a Send or Receive refused by the bound.
func queueFull(op, what, drain string) error {
	return &Error{Code: CodeLimit, Category: errorCategory(int(CodeLimit)), Op: op,
		Detail: fmt.Sprintf("queue of %s full (%d records or %d MiB): take them with %s first; nothing was sent or lost",
			what, QueueMaxRecords, QueueMaxBytes>>20, drain)}
}

// NewConn makes a connection in StateNew. A client sends cfg.ServerName
// (and verifies it) unless SetServerName says otherwise.
func NewConn(cfg *Config, role Role) (*Conn, error) {
	cc, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	h, rc := newCConn(cc.c, role)
	if rc != 0 {
		return nil, newError("new connection", rc, "")
	}
	c := &Conn{cc: h, cfg: cc, role: h.role(), deadline: timeNever}
	c.cleanup = runtime.AddCleanup(c, func(h cconn) { h.free() }, h)
	if role == RoleClient && cc.name != "" {
		if rc := h.setServerName(cc.name); rc != 0 {
			c.Close()
			return nil, newError("server name", rc, "")
		}
	}
	return c, nil
}

func (c *Conn) err(op string, rc int) error {
	defer runtime.KeepAlive(c)
	if rc >= 0 {
		return nil
	}
	detail := ""
	if c.cc.errorCode() == rc {
		detail = c.cc.errorDetail()
	}
	return newError(op, rc, detail)
}

// usable refuses a query on a closed Conn.
func (c *Conn) usable(op string) error {
	if c.freed {
		return &Error{Code: CodeInvalidArgument, Category: CategoryUsage, Op: op, Detail: "connection was closed"}
	}
	return nil
}

// movable also refuses, inside a callback of a call on this Conn, a call
// that changes it: the C call in progress is half-way through a handshake
// message.
func (c *Conn) movable(op string) error {
	if err := c.usable(op); err != nil {
		return err
	}
	if c.driving {
		return inCallbackError(op)
	}
	return nil
}

// drive makes call, a C call that may run callbacks, and takes what it
// queued. A panic in a user callback is the call's error. A Close inside a
// callback takes effect here, once the C call has returned: the Conn is
// released and nothing the call produced is kept.
func (c *Conn) drive(op string, call func(cconn) (int, uint64)) error {
	defer runtime.KeepAlive(c)
	if err := c.movable(op); err != nil {
		return err
	}
	c.driving = true
	rc, d := call(c.cc)
	c.driving = false
	panicErr := c.cc.box.takePanic()
	if c.freed {
		c.release()
		if panicErr != nil {
			return panicErr
		}
		return &Error{Code: CodeClosed, Category: CategoryClosed, Op: op, Detail: "closed inside a callback"}
	}
	c.collect(d)
	if panicErr != nil {
		return panicErr
	}
	return c.err(op, rc)
}

// collect takes what the callbacks queued during the last call.
func (c *Conn) collect(deadline uint64) {
	c.deadline = deadline
	if c.outN == len(c.out) && c.evN == len(c.events) {
		c.buf, c.out, c.outN, c.events, c.evN = c.buf[:0], c.out[:0], 0, c.events[:0], 0
	}
	start := len(c.buf)
	c.buf = c.cc.box.take(c.buf)
	for rest := c.buf[start:]; len(rest) > 0; {
		var h recHeader
		var payload []byte
		h, _, payload, rest = nextRecord(rest)
		switch h.kind {
		case recSend:
			c.out = append(c.out, payload)
			c.outBytes += len(payload)
		case recData:
			c.events = append(c.events, Event{Kind: EventData, Data: payload})
			c.evBytes += len(payload)
		case recDone:
			c.events = append(c.events, Event{Kind: EventHandshakeDone})
		case recClose:
			var err error
			if h.reason != 0 {
				err = newError("", int(h.reason), c.cc.errorDetail())
			}
			c.events = append(c.events, Event{Kind: EventClosed, Err: err})
		}
	}
}

// SetServerName sets the name a client sends and verifies (StateNew only).
func (c *Conn) SetServerName(name string) error {
	defer runtime.KeepAlive(c)
	if err := c.movable("server name"); err != nil {
		return err
	}
	return c.err("server name", c.cc.setServerName(name))
}

// AddPeerFingerprint pins the peer's certificate for this connection
// ("sha-256 AB:CD:..."), in StateNew.
func (c *Conn) AddPeerFingerprint(fingerprint string) error {
	defer runtime.KeepAlive(c)
	if err := c.movable("peer fingerprint"); err != nil {
		return err
	}
	return c.err("peer fingerprint", c.cc.addPeerFingerprint(fingerprint))
}

// SetSession offers a session from Session of an earlier connection to
// the same server (client, StateNew).
func (c *Conn) SetSession(session []byte) error {
	defer runtime.KeepAlive(c)
	if err := c.movable("set session"); err != nil {
		return err
	}
	return c.err("set session", c.cc.setSession(session))
}

// Start begins the handshake: a client queues its first flight.
func (c *Conn) Start(now time.Time) error {
	return c.drive("start", func(cc cconn) (int, uint64) { return cc.start(now) })
}

// Receive feeds one datagram from the peer. Records that fail
// authentication are dropped silently; the error is the one that ended the
// connection, if it ended now or before.
func (c *Conn) Receive(datagram []byte, now time.Time) error {
	if len(datagram) == 0 {
		return c.movable("receive")
	}
	if len(c.events)-c.evN >= QueueMaxRecords || c.evBytes+len(datagram) > QueueMaxBytes {
		return queueFull("receive", "events", "NextEvent")
	}
	return c.drive("receive", func(cc cconn) (int, uint64) { return cc.receive(datagram, now) })
}

// Send queues data as one record in one datagram (at most MaxDataSize
// bytes).
func (c *Conn) Send(data []byte, now time.Time) error {
	if len(c.out)-c.outN >= QueueMaxRecords || c.outBytes+len(data) > QueueMaxBytes {
		return queueFull("send", "datagrams", "NextDatagram")
	}
	return c.drive("send", func(cc cconn) (int, uint64) { return cc.send(data, now) })
}

// KeyUpdate (DTLS 1.3) sends a KeyUpdate so that this side's records use
// fresh keys from now on, and asks the peer to update its own. The engine
// retransmits it until acknowledged: keep serving NextDeadline. A DTLS 1.2
// connection returns a usage error (CodeUnsupported).
func (c *Conn) KeyUpdate(now time.Time) error {
	return c.drive("key update", func(cc cconn) (int, uint64) { return cc.keyUpdate(now) })
}

// NextDeadline is when HandleTimeout must next be called; the zero Time
// means never. It changes after every call: ask again.
func (c *Conn) NextDeadline() time.Time { return goTime(c.deadline) }

// HandleTimeout acts on expired timers: retransmits, or fails the
// handshake with ErrTimeout. Calling it early is harmless.
func (c *Conn) HandleTimeout(now time.Time) error {
	return c.drive("handle timeout", func(cc cconn) (int, uint64) { return cc.handleTimeout(now) })
}

// Shutdown queues close_notify (when connected) and moves to StateClosed.
// No EventClosed follows for it.
func (c *Conn) Shutdown(now time.Time) error {
	defer runtime.KeepAlive(c)
	if err := c.movable("shutdown"); err != nil {
		return err
	}
	rc := c.cc.close(now)
	c.collect(c.cc.nextDeadline())
	return c.err("shutdown", rc)
}

// NextDatagram returns the next datagram to send to the peer, or nil when
// there is none. It is valid until the next call that moves the Conn.
func (c *Conn) NextDatagram() []byte {
	if c.outN == len(c.out) {
		return nil
	}
	d := c.out[c.outN]
	c.outN++
	c.outBytes -= len(d)
	return d
}

// NextEvent returns the next event, or false when there is none.
func (c *Conn) NextEvent() (Event, bool) {
	if c.evN == len(c.events) {
		return Event{}, false
	}
	e := c.events[c.evN]
	c.events[c.evN] = Event{}
	c.evN++
	c.evBytes -= len(e.Data)
	return e, true
}

// held is how many events wait for NextEvent.
func (c *Conn) held() int { return len(c.events) - c.evN }

// Close releases the connection without sending anything (Shutdown first
// for an orderly end). Closing twice is harmless. Inside PSKLookup or
// KeyLogWriter, during a call on this Conn, the release waits until that
// call returns, and nothing the call produced is sent or reported: the
// handshake in progress does not complete (the call returns ErrClosed).
func (c *Conn) Close() error {
	if c.freed {
		return nil
	}
	c.freed = true
	if !c.driving {
		c.release()
	}
	return nil
}

func (c *Conn) release() {
	c.cleanup.Stop()
	c.cc.free()
}

// State is the connection's state.
func (c *Conn) State() State {
	defer runtime.KeepAlive(c)
	if c.freed {
		return StateClosed
	}
	return c.cc.state()
}

// Role is the role the Conn was made with.
func (c *Conn) Role() Role { return c.role }

// Err is the error that ended the connection, or nil.
func (c *Conn) Err() error {
	defer runtime.KeepAlive(c)
	if c.freed {
		return nil
	}
	rc := c.cc.errorCode()
	if rc == 0 || rc == int(CodeClosed) {
		return nil
	}
	return c.err("", rc)
}

// MaxDataSize is the largest Send accepted now (0 before the handshake).
func (c *Conn) MaxDataSize() int {
	defer runtime.KeepAlive(c)
	if c.freed {
		return 0
	}
	return c.cc.maxDataSize()
}

// ConnectionState describes the connection (meaningful once connected).
func (c *Conn) ConnectionState() ConnectionState {
	defer runtime.KeepAlive(c)
	if c.freed {
		return ConnectionState{}
	}
	return c.cc.connectionState()
}

// ExportKeyingMaterial derives length bytes from the connection's secret
// (RFC 5705); a nil context means none, which in DTLS 1.2 differs from an
// empty one (in DTLS 1.3 the two are the same, RFC 8446 7.5).
func (c *Conn) ExportKeyingMaterial(label string, context []byte, length int) ([]byte, error) {
	defer runtime.KeepAlive(c)
	if err := c.usable("export"); err != nil {
		return nil, err
	}
	return exportKeyingMaterial(c.cc, label, context, length)
}

// SRTPKeying returns the DTLS-SRTP keys of the negotiated profile.
func (c *Conn) SRTPKeying() (*SRTPKeying, error) {
	defer runtime.KeepAlive(c)
	if err := c.usable("srtp keying"); err != nil {
		return nil, err
	}
	k, rc := c.cc.srtpKeying()
	return k, newError("srtp keying", rc, "")
}

// Session returns the session of a finished client handshake, for
// SetSession on a later connection. It is secret. Under DTLS 1.3 the
// server's ticket comes after the handshake (NewSessionTicket): until it
// has been received, Session fails with CodeState; ask once data has
// flowed.
func (c *Conn) Session() ([]byte, error) {
	defer runtime.KeepAlive(c)
	if err := c.usable("session"); err != nil {
		return nil, err
	}
	s, rc := c.cc.session()
	return s, newError("session", rc, "")
}

// exportKeyingMaterial names the cause of each failure: the C call
// returns SDTLS_E_INVALID_ARGUMENT for a bad length as for anything the
// engine refuses, and SDTLS_E_STATE only when not connected.
func exportKeyingMaterial(cc cconn, label string, context []byte, length int) ([]byte, error) {
	if length < 1 {
		return nil, usageError("export", "length %d: at least 1 byte is exported", length)
	}
	out, rc := cc.exportKeyingMaterial(label, context, context != nil, length)
	detail := ""
	switch Code(rc) {
	case CodeState:
		detail = "keying material is exported once connected"
	case CodeInvalidArgument:
		detail = "the engine refused the label, context or length"
	}
	return out, newError("export", rc, detail)
}
