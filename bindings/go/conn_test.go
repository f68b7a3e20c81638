// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// pair drives a client and a server Conn against each other in memory.
type pair struct {
	t              testing.TB
	client, server *Conn
	now            time.Time
	cerrs, serrs   []error // what Receive returned on each side, in order
}

// newPair is newPairNoCleanup's pair, closed when the test ends.
func newPair(t testing.TB, ccfg, scfg *Config) *pair {
	t.Helper()
	p := newPairNoCleanup(t, ccfg, scfg)
	t.Cleanup(func() { p.client.Close(); p.server.Close() })
	return p
}

// newPairNoCleanup is a client and a server Conn, not yet started, that the
// caller closes (or drops).
func newPairNoCleanup(t testing.TB, ccfg, scfg *Config) *pair {
	t.Helper()
	c, err := NewConn(ccfg, RoleClient)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewConn(scfg, RoleServer)
	if err != nil {
		t.Fatal(err)
	}
	return &pair{t: t, client: c, server: s, now: time.Now()}
}

// pump moves datagrams both ways until neither side has any; it returns
// the events of each side and records Receive's errors.
func (p *pair) pump() (cev, sev []Event) {
	for moved := true; moved; {
		moved = false
		for d := p.client.NextDatagram(); d != nil; d = p.client.NextDatagram() {
			moved = true
			if err := p.server.Receive(d, p.now); err != nil {
				p.serrs = append(p.serrs, err)
			}
		}
		for d := p.server.NextDatagram(); d != nil; d = p.server.NextDatagram() {
			moved = true
			if err := p.client.Receive(d, p.now); err != nil {
				p.cerrs = append(p.cerrs, err)
			}
		}
		for e, ok := p.client.NextEvent(); ok; e, ok = p.client.NextEvent() {
			e.Data = bytes.Clone(e.Data)
			cev = append(cev, e)
		}
		for e, ok := p.server.NextEvent(); ok; e, ok = p.server.NextEvent() {
			e.Data = bytes.Clone(e.Data)
			sev = append(sev, e)
		}
	}
	return cev, sev
}

// dtls13 says whether the engine speaks DTLS 1.3; connections with the
// default version range then negotiate it (the engine's newest).
var dtls13 = HasFeature(FeatureDTLS13)

// defaultVersion is the version a connection with the default range
// negotiates on this engine.
func defaultVersion() string {
	if dtls13 {
		return "DTLSv1.3"
	}
	return "DTLSv1.2"
}

func (p *pair) handshake() (cev, sev []Event) {
	p.t.Helper()
	if err := p.client.Start(p.now); err != nil {
		p.t.Fatal(err)
	}
	return p.pump()
}

func TestConnHandshakeAndData(t *testing.T) {
	cert, key := testCert(t, "server.test")
	fp, err := Fingerprint(cert)
	if err != nil {
		t.Fatal(err)
	}
	scfg := &Config{Certificate: cert, PrivateKey: key, NextProtos: []string{"coap"},
		SRTPProfiles: []SRTPProfile{SRTP_AEAD_AES_128_GCM, SRTP_AES128_CM_SHA1_80}}
	ccfg := &Config{RootCAs: cert, ServerName: "server.test", NextProtos: []string{"coap"},
		SRTPProfiles: []SRTPProfile{SRTP_AES128_CM_SHA1_80}}
	p := newPair(t, ccfg, scfg)
	cev, sev := p.handshake()
	if len(cev) != 1 || cev[0].Kind != EventHandshakeDone || len(sev) != 1 || sev[0].Kind != EventHandshakeDone {
		t.Fatalf("events: client %+v server %+v", cev, sev)
	}
	if p.client.State() != StateConnected {
		t.Fatalf("state %v", p.client.State())
	}
	st := p.client.ConnectionState()
	if st.Version != defaultVersion() || st.ALPN != "coap" || st.PeerFingerprint != fp || st.SRTPProfile != SRTP_AES128_CM_SHA1_80 {
		t.Fatalf("state %+v (want fingerprint %s)", st, fp)
	}
	ck, err := p.client.SRTPKeying()
	if err != nil {
		t.Fatal(err)
	}
	sk, err := p.server.SRTPKeying()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ck.LocalWrite, sk.RemoteWrite) || !bytes.Equal(ck.ClientWrite, sk.ClientWrite) || len(ck.LocalWrite) != 30 {
		t.Fatalf("srtp keying differs: %+v %+v", ck, sk)
	}
	e1, err := p.client.ExportKeyingMaterial("EXPERIMENTAL test", nil, 32)
	if err != nil {
		t.Fatal(err)
	}
	e2, _ := p.server.ExportKeyingMaterial("EXPERIMENTAL test", nil, 32)
	e3, _ := p.server.ExportKeyingMaterial("EXPERIMENTAL test", []byte{}, 32)
	// No context differs from an empty one in DTLS 1.2; in DTLS 1.3 the
	// two are the same (RFC 8446 7.5).
	if !bytes.Equal(e1, e2) || bytes.Equal(e1, e3) != (st.Version == "DTLSv1.3") {
		t.Fatalf("exporter (%s): client %x server %x, empty context %x", st.Version, e1, e2, e3)
	}

	for i := 0; i < 10; i++ {
		msg := bytes.Repeat([]byte{byte(i)}, 100*i+1)
		if err := p.client.Send(msg, p.now); err != nil {
			t.Fatal(err)
		}
		if err := p.server.Send(append(msg, 'x'), p.now); err != nil {
			t.Fatal(err)
		}
		cev, sev := p.pump()
		if len(sev) != 1 || !bytes.Equal(sev[0].Data, msg) || len(cev) != 1 || !bytes.Equal(cev[0].Data, append(msg, 'x')) {
			t.Fatalf("round %d: %v %v", i, len(cev), len(sev))
		}
	}
	if err := p.client.Send(make([]byte, p.client.MaxDataSize()+1), p.now); !errors.Is(err, ErrUsage) {
		t.Fatalf("too big: %v", err)
	}
	if err := p.client.Shutdown(p.now); err != nil {
		t.Fatal(err)
	}
	_, sev = p.pump()
	if len(sev) != 1 || sev[0].Kind != EventClosed || sev[0].Err != nil {
		t.Fatalf("close events %+v", sev)
	}
	if err := p.client.Send([]byte("x"), p.now); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
}

func TestConnVerifyFailure(t *testing.T) {
	cert, key := testCert(t, "server.test")
	other, _ := testCert(t, "server.test")
	p := newPair(t, &Config{RootCAs: other, ServerName: "server.test"}, &Config{Certificate: cert, PrivateKey: key})
	cev, sev := p.handshake()
	if len(cev) != 1 || cev[0].Kind != EventClosed || !errors.Is(cev[0].Err, ErrVerify) {
		t.Fatalf("client events %+v", cev)
	}
	var e *Error
	if !errors.As(cev[0].Err, &e) || e.Code != CodeVerify || e.Detail == "" {
		t.Fatalf("error %#v", cev[0].Err)
	}
	if len(sev) != 1 || !errors.Is(sev[0].Err, ErrAlert) {
		t.Fatalf("server events %+v", sev)
	}
	t.Logf("client: %v; server: %v", cev[0].Err, sev[0].Err)
}

func TestConnHandshakeTimeout(t *testing.T) {
	c, err := NewConn(&Config{InsecureSkipVerify: true, HandshakeTimeout: time.Second, InitialRetransmit: 100 * time.Millisecond}, RoleClient)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	now := time.Now()
	if err := c.Start(now); err != nil {
		t.Fatal(err)
	}
	sent := 0
	for i := 0; i < 100 && c.State() == StateHandshaking; i++ {
		for c.NextDatagram() != nil {
			sent++
		}
		d := c.NextDeadline()
		if d.IsZero() {
			t.Fatal("no deadline while handshaking")
		}
		now = d
		err = c.HandleTimeout(now)
	}
	if !errors.Is(err, ErrTimeout) || c.State() != StateFailed || sent < 3 {
		t.Fatalf("err %v state %v sent %d", err, c.State(), sent)
	}
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatal("not a net.Error timeout")
	}
}

func TestConnResumptionAndPSK(t *testing.T) {
	cert, key := testCert(t, "server.test")
	scfg := &Config{Certificate: cert, PrivateKey: key, TicketSecret: bytes.Repeat([]byte{7}, 32)}
	ccfg := &Config{RootCAs: cert, ServerName: "server.test"}
	p := newPair(t, ccfg, scfg)
	p.handshake()
	sess, err := p.client.Session()
	if err != nil {
		t.Fatal(err)
	}
	p2 := newPair(t, ccfg, scfg)
	if err := p2.client.SetSession(sess); err != nil {
		t.Fatal(err)
	}
	p2.handshake()
	if !p2.client.ConnectionState().Resumed || !p2.server.ConnectionState().Resumed {
		t.Fatal("not resumed")
	}

	psk := []PSK{{Identity: "device-1", Key: bytes.Repeat([]byte{1}, 16)}}
	lookups := 0
	p3 := newPair(t, &Config{PSKs: psk}, &Config{PSKLookup: func(id string) []byte {
		lookups++
		if id == "device-1" {
			return psk[0].Key
		}
		return nil
	}})
	cev, _ := p3.handshake()
	if len(cev) != 1 || cev[0].Kind != EventHandshakeDone || p3.server.ConnectionState().PSKIdentity != "device-1" || lookups != 1 {
		t.Fatalf("psk: %+v lookups %d", cev, lookups)
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := NewConn(&Config{Certificate: []byte("junk"), PrivateKey: []byte("junk")}, RoleServer)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeCredentials || !errors.Is(err, ErrUsage) {
		t.Fatalf("bad cert: %v", err)
	}
	if _, err := NewConn(&Config{MTU: 10}, RoleClient); !errors.Is(err, ErrUsage) {
		t.Fatalf("bad mtu: %v", err)
	}
	if _, err := NewConn(&Config{}, RoleServer); err == nil {
		t.Fatal("server without a certificate")
	}
	c, err := NewConn(&Config{}, RoleClient) // verifying client with no name
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(time.Now()); !errors.Is(err, ErrUsage) {
		t.Fatalf("start: %v", err)
	}
}

// An export's error names its cause: a zero length was reported as "not
// connected" (the C call returns SDTLS_E_INVALID_ARGUMENT for it).
func TestExportKeyingMaterialErrorsNameTheirCause(t *testing.T) {
	cert, key := testCert(t, "server.test")
	p := newPair(t, &Config{RootCAs: cert, ServerName: "server.test"}, &Config{Certificate: cert, PrivateKey: key})
	var e *Error
	if _, err := p.client.ExportKeyingMaterial("EXPERIMENTAL test", nil, 16); !errors.As(err, &e) ||
		e.Code != CodeState || !strings.Contains(e.Detail, "connected") {
		t.Fatalf("before the handshake: %v", err)
	}
	p.handshake()
	for _, n := range []int{0, -1} {
		if _, err := p.client.ExportKeyingMaterial("EXPERIMENTAL test", nil, n); !errors.As(err, &e) ||
			e.Code != CodeInvalidArgument || !strings.Contains(e.Detail, "length") || strings.Contains(e.Detail, "connected") {
			t.Fatalf("length %d: %v", n, err)
		}
	}
	if out, err := p.client.ExportKeyingMaterial("EXPERIMENTAL test", nil, 1); err != nil || len(out) != 1 {
		t.Fatalf("length 1: %v", err)
	}
}

func testCert(t testing.TB, name string) (cert, key []byte) {
	t.Helper()
	cert, key, err := GenerateCertificate(name, 2)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// The Conn's queues are bounded: a Send or Receive that would outgrow one
// fails with CodeLimit and a detail naming the bound, nothing queued is
// lost, and once drained every record comes out in order.
func TestConnQueuesAreBoundedAndLoseNothing(t *testing.T) {
	cert, key := testCert(t, "server.test")
	p := newPair(t, &Config{RootCAs: cert, ServerName: "server.test"}, &Config{Certificate: cert, PrivateKey: key})
	p.handshake()
	var sent, out [][]byte
	for round := 0; round < 2; round++ { // two queues' worth, to fill the receiver's too
		var full error
		for i := 0; i <= QueueMaxRecords && full == nil; i++ {
			payload := []byte(fmt.Sprintf("%06d", len(sent)))
			if full = p.client.Send(payload, p.now); full == nil {
				sent = append(sent, payload)
			}
		}
		var e *Error
		if !errors.As(full, &e) || e.Code != CodeLimit || !strings.Contains(e.Detail, "NextDatagram") ||
			!strings.Contains(e.Detail, fmt.Sprint(QueueMaxRecords)) {
			t.Fatalf("round %d: after %d sends: %v", round, len(sent), full)
		}
		for d := p.client.NextDatagram(); d != nil; d = p.client.NextDatagram() {
			out = append(out, bytes.Clone(d)) // valid until the next call only
		}
		if len(out) != len(sent) {
			t.Fatalf("%d datagrams for %d sends", len(out), len(sent))
		}
	}
	var got [][]byte
	take := func() {
		for e, ok := p.server.NextEvent(); ok; e, ok = p.server.NextEvent() {
			got = append(got, bytes.Clone(e.Data))
		}
	}
	refusals := 0
	for i := 0; i < len(out); {
		if err := p.server.Receive(out[i], p.now); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeLimit || !strings.Contains(e.Detail, "NextEvent") || i != QueueMaxRecords {
				t.Fatalf("receive %d: %v", i, err)
			}
			refusals++
			take()
			continue
		}
		i++
	}
	take()
	if refusals != 1 || len(got) != len(sent) {
		t.Fatalf("%d refusals, %d of %d records", refusals, len(got), len(sent))
	}
	for i := range sent {
		if !bytes.Equal(got[i], sent[i]) {
			t.Fatalf("record %d: %q, sent %q", i, got[i], sent[i])
		}
	}
	if err := p.client.Send([]byte("after"), p.now); err != nil {
		t.Fatalf("send after draining: %v", err)
	}
}

// Lists the wire cannot carry are refused when the config is compiled,
// with an error that names the limit.
func TestConfigListsAreHeldToWhatFitsTheWire(t *testing.T) {
	many := make([]string, 10000)
	for i := range many {
		many[i] = fmt.Sprintf("p%05d", i)
	}
	cases := []struct {
		cfg  *Config
		want string
	}{
		{&Config{NextProtos: many}, fmt.Sprintf("at most %d bytes", ALPNMaxBytes)},
		{&Config{NextProtos: []string{strings.Repeat("a", 255), strings.Repeat("a", 255), strings.Repeat("a", 255),
			strings.Repeat("a", 255), strings.Repeat("a", 255), strings.Repeat("a", 255), strings.Repeat("a", 255),
			strings.Repeat("a", 255), strings.Repeat("a", 255), strings.Repeat("a", 255), strings.Repeat("a", 255),
			strings.Repeat("a", 255), strings.Repeat("a", 255), strings.Repeat("a", 255), strings.Repeat("a", 255),
			strings.Repeat("a", 255), strings.Repeat("a", 255)}}, "at most 4095 bytes"},
		{&Config{SRTPProfiles: []SRTPProfile{SRTP_AES128_CM_SHA1_80, SRTP_AES128_CM_SHA1_80}}, "at most once"},
		{&Config{Groups: []string{"X25519", "P-256", "X25519"}}, fmt.Sprintf("at most %d", GroupsMax)},
		{&Config{PSKs: []PSK{{Identity: strings.Repeat("i", 129), Key: make([]byte, 16)}}}, "1..128 bytes"},
		{&Config{PSKIdentityHint: strings.Repeat("h", 129), PSKs: []PSK{{Identity: "i", Key: make([]byte, 16)}}}, "1..128 bytes"},
	}
	for _, c := range cases {
		_, err := NewConn(c.cfg, RoleClient)
		if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want %q", err, c.want)
		}
	}
	// Sixteen names of 255 bytes: 4095 bytes joined, the most taken.
	most := make([]string, 16)
	for i := range most {
		most[i] = strings.Repeat("a", 255)
	}
	c, err := NewConn(&Config{NextProtos: most, InsecureSkipVerify: true}, RoleClient)
	if err != nil {
		t.Fatalf("the longest list: %v", err)
	}
	c.Close()
}
