// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// Client and server agree on P-384 (the P-256 certificate needs P-256 in
// the client's list too under DTLS 1.2), in both versions the engine has.
func TestGroupsNegotiated(t *testing.T) {
	cert, key := testCert(t, "server.test")
	versions := []uint16{VersionDTLS12}
	if HasFeature(FeatureDTLS13) {
		versions = append(versions, VersionDTLS13)
	}
	for _, v := range versions {
		groups := []string{"P-384", "P-256"}
		scfg := &Config{Certificate: cert, PrivateKey: key, Groups: groups, MaxVersion: v}
		ccfg := &Config{RootCAs: cert, ServerName: "server.test", Groups: groups, MinVersion: v, MaxVersion: v}
		p := newPair(t, ccfg, scfg)
		if g := p.client.ConnectionState().Group; g != "" {
			t.Fatalf("group %q before the handshake", g)
		}
		cev, _ := p.handshake()
		if len(cev) != 1 || cev[0].Kind != EventHandshakeDone {
			t.Fatalf("%#x: events %+v", v, cev)
		}
		cs, ss := p.client.ConnectionState(), p.server.ConnectionState()
		if cs.Group != "P-384" || ss.Group != "P-384" {
			t.Fatalf("%s: groups %q (client) %q (server)", cs.Version, cs.Group, ss.Group)
		}
		t.Logf("%s: %s", cs.Version, cs.Group)
	}

	// The server's list decides what it accepts: a client that offers only
	// groups the server does not is refused.
	scfg := &Config{Certificate: cert, PrivateKey: key, Groups: []string{"P-521"}, MaxVersion: VersionDTLS12}
	p := newPair(t, &Config{RootCAs: cert, ServerName: "server.test", Groups: []string{"P-384", "P-256"}}, scfg)
	cev, _ := p.handshake()
	if len(cev) != 1 || cev[0].Kind != EventClosed || cev[0].Err == nil {
		t.Fatalf("no common group: %+v", cev)
	}

	// Without Groups the default list applies. A resumed DTLS 1.2
	// session has no key exchange of its own: sdtls.h says no group, the
	// engine reports the original handshake's; either is accepted here.
	scfg = &Config{Certificate: cert, PrivateKey: key, TicketSecret: bytes.Repeat([]byte{3}, 32), MaxVersion: VersionDTLS12}
	ccfg := &Config{RootCAs: cert, ServerName: "server.test"}
	p = newPair(t, ccfg, scfg)
	p.handshake()
	first := p.client.ConnectionState().Group
	if first == "" {
		t.Fatal("no group with the default list")
	}
	sess, err := p.client.Session()
	if err != nil {
		t.Fatal(err)
	}
	p = newPair(t, ccfg, scfg)
	if err := p.client.SetSession(sess); err != nil {
		t.Fatal(err)
	}
	p.handshake()
	if st := p.client.ConnectionState(); !st.Resumed || (st.Group != "" && st.Group != first) {
		t.Fatalf("resumed: resumed %v, group %q (first handshake: %q)", st.Resumed, st.Group, first)
	} else {
		t.Logf("default group %s; resumed session reports %q", first, st.Group)
	}
}

// Over Dial and Listen: ClientConn and ServerConn report the group.
func TestGroupsDialListen(t *testing.T) {
	cert, key := testCert(t, "localhost")
	groups := []string{"P-384", "P-256"}
	ts := startEcho(t, &Config{Certificate: cert, PrivateKey: key, Groups: groups})
	ccfg := ts.clientConfig()
	ccfg.Groups = groups
	c, err := Dial(ctxT(t, 10*time.Second), "udp4", ts.addr, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echo(t, c, []byte("p-384"))
	sc := <-ts.conns
	if cg, sg := c.ConnectionState().Group, sc.ConnectionState().Group; cg != "P-384" || sg != "P-384" {
		t.Fatalf("groups %q (client) %q (server)", cg, sg)
	}
}

// A group name the engine does not know is refused when the Config is
// first used, with a usage error, and so are malformed lists.
func TestGroupsRefused(t *testing.T) {
	for _, groups := range [][]string{{"P-999"}, {"X25519", "no-such-group"}, {""}, {"X25519:P-256"}, {"P-256,X25519"}} {
		cfg := &Config{InsecureSkipVerify: true, Groups: groups}
		_, err := NewConn(cfg, RoleClient)
		var e *Error
		if !errors.Is(err, ErrUsage) || !errors.As(err, &e) || e.Code != CodeInvalidArgument {
			t.Fatalf("%q: %v", groups, err)
		}
		if !strings.Contains(err.Error(), "group") {
			t.Fatalf("%q: the error does not say what is wrong: %v", groups, err)
		}
		// The Config stays refused (it is compiled once).
		if _, err2 := NewConn(cfg, RoleClient); err2 != err {
			t.Fatalf("%q: second use: %v", groups, err2)
		}
	}
	cert, key := testCert(t, "localhost")
	if l, err := Listen("udp4", "127.0.0.1:0", &Config{Certificate: cert, PrivateKey: key, Groups: []string{"P-999"}}); !errors.Is(err, ErrUsage) {
		if l != nil {
			l.Close()
		}
		t.Fatalf("Listen: %v", err)
	}
	// A current engine knows the post-quantum hybrid (a DTLS 1.3 group:
	// it takes part only when both sides speak DTLS 1.3).
	if c, err := NewConn(&Config{InsecureSkipVerify: true, Groups: []string{"X25519MLKEM768", "X25519"}}, RoleClient); err != nil {
		t.Logf("X25519MLKEM768 refused by this engine: %v", err)
	} else {
		c.Close()
		t.Log("X25519MLKEM768 accepted as a name")
	}
}
