// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// dropRelay forwards datagrams between one client and a server over
// loopback and drops the first client datagram that is not a plaintext
// handshake record: the client's final flight (CCS+Finished of a resumed
// DTLS 1.2 handshake, the encrypted Finished of DTLS 1.3).
type dropRelay struct {
	addr    string
	dropped atomic.Int32
}

// dialUDP is a UDP socket on loopback connected to server ("host:port").
func dialUDP(t testing.TB, server string) *net.UDPConn {
	t.Helper()
	raddr, err := net.ResolveUDPAddr("udp4", server)
	if err != nil {
		t.Fatal(err)
	}
	sock, err := net.DialUDP("udp4", nil, raddr)
	if err != nil {
		t.Fatal(err)
	}
	return sock
}

func startDropRelay(t testing.TB, server string) *dropRelay {
	t.Helper()
	front, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	back := dialUDP(t, server)
	r := &dropRelay{addr: front.LocalAddr().String()}
	var client atomic.Pointer[net.UDPAddr]
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // client -> server
		defer wg.Done()
		buf := make([]byte, 65536)
		for {
			n, from, err := front.ReadFromUDP(buf)
			if err != nil {
				return
			}
			client.Store(from)
			if n > 0 && buf[0] != 22 && r.dropped.CompareAndSwap(0, 1) {
				continue
			}
			back.Write(buf[:n])
		}
	}()
	go func() { // server -> client
		defer wg.Done()
		buf := make([]byte, 65536)
		for {
			n, err := back.Read(buf)
			if err != nil {
				if errors.Is(err, syscall.ECONNREFUSED) {
					continue
				}
				return
			}
			if to := client.Load(); to != nil {
				front.WriteToUDP(buf[:n], to)
			}
		}
	}()
	t.Cleanup(func() { front.Close(); back.Close(); wg.Wait() })
	return r
}

// testWriteOnly: a client that only writes, whose final handshake flight
// was lost once, still gets its data to the server: Write retransmits the
// flight (on its timer, or on the server's retransmission). Then Read
// returns every echo, in order, that arrived while it only wrote.
func testWriteOnly(t *testing.T, version uint16, resume bool) {
	cert, key := testCert(t, "localhost")
	ts := startEcho(t, &Config{Certificate: cert, PrivateKey: key, InitialRetransmit: 100 * time.Millisecond})
	addr, got := ts.addr, ts.got
	ccfg := &Config{RootCAs: cert, ServerName: "localhost", MaxVersion: version, InitialRetransmit: 100 * time.Millisecond}
	var opts []DialOption
	if resume {
		c, err := Dial(ctxT(t, 10*time.Second), "udp4", addr, ccfg)
		if err != nil {
			t.Fatal(err)
		}
		echo(t, c, []byte("first"))
		sess, err := c.Session()
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		<-got
		opts = append(opts, WithSession(sess))
	}
	relay := startDropRelay(t, addr)
	c, err := Dial(ctxT(t, 10*time.Second), "udp4", relay.addr, ccfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st := c.ConnectionState()
	if st.Resumed != resume || (version == VersionDTLS13) != (st.Version == "DTLSv1.3") {
		t.Fatalf("state %+v", st)
	}
	for i := 0; relay.dropped.Load() == 0; i++ { // the relay may not have seen it yet
		if i == 100 {
			t.Fatal("the relay dropped nothing")
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Write only, until the server has something (DTLS does not resend data:
	// the first writes may be lost while the server waits for the flight).
	var received []string
	written := 0
	for until := time.Now().Add(5 * time.Second); len(received) == 0 && time.Now().Before(until); written++ {
		if _, err := c.Write(fmt.Appendf(nil, "early %d", written)); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-got:
			received = append(received, m)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if len(received) == 0 {
		t.Fatalf("the server received none of %d writes: the final flight was never retransmitted", written)
	}
	t.Logf("first data at the server after %d writes", written)
	// From then on, every write arrives.
	for i := range 5 {
		msg := fmt.Sprintf("later %d", i)
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		for {
			var m string
			select {
			case m = <-got:
			case <-time.After(5 * time.Second):
				t.Fatalf("%q did not arrive", msg)
			}
			received = append(received, m)
			if m == msg {
				break
			}
		}
	}
	// Nothing Write took from the socket was lost or reordered.
	buf := make([]byte, 2048)
	for _, want := range received {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("echo of %q: %v", want, err)
		}
		if string(buf[:n]) != want {
			t.Fatalf("echo: got %q, want %q", buf[:n], want)
		}
	}
	if st.Version == "DTLSv1.3" {
		if _, err := c.Session(); err != nil {
			t.Fatalf("no session ticket: %v", err)
		}
	}
}

func TestWriteOnlyResumedDTLS12(t *testing.T) { testWriteOnly(t, VersionDTLS12, true) }

func TestWriteOnlyDTLS13(t *testing.T) {
	if !HasFeature(FeatureDTLS13) {
		t.Skip("the engine has no DTLS 1.3")
	}
	testWriteOnly(t, VersionDTLS13, false)
}

// Writes while a Read waits on the socket (with its deadline) leave the
// socket to that Read: every echo reaches it, in order.
func TestWriteWhileReading(t *testing.T) {
	ts := startEcho(t, nil)
	c := ts.dial(t)
	const n = 200
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, 2048)
		for i := range n {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			m, err := c.Read(buf)
			if err != nil {
				done <- err
				return
			}
			if want := fmt.Sprintf("m%d", i); string(buf[:m]) != want {
				done <- fmt.Errorf("got %q, want %q", buf[:m], want)
				return
			}
		}
		done <- nil
	}()
	for i := range n {
		if _, err := c.Write(fmt.Appendf(nil, "m%d", i)); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
