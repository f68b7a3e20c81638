// SPDX-License-Identifier: Apache-2.0

package sdtls_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"strings"
	"time"

	"sdtls.dev/sdtls"
)

// echoServer listens on a free loopback port and sends one datagram back
// to each peer it accepts; the caller closes it.
func echoServer(cfg *sdtls.Config) *sdtls.Listener {
	l, err := sdtls.Listen("udp", "127.0.0.1:0", cfg)
	if err != nil {
		log.Fatal(err)
	}
	go echoOnce(l)
	return l
}

// echoOnce serves one datagram back to each peer the listener accepts.
func echoOnce(l *sdtls.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 1500)
			if n, err := c.Read(buf); err == nil {
				c.Write(buf[:n])
			}
		}()
	}
}

// A self-signed certificate and its fingerprint in SDP's form, as a WebRTC
// offer carries it.
func ExampleGenerateCertificate() {
	cert, key, err := sdtls.GenerateCertificate("localhost", 30)
	if err != nil {
		log.Fatal(err)
	}
	fp, err := sdtls.Fingerprint(cert)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(bytes.HasPrefix(key, []byte("-----BEGIN")), strings.HasPrefix(fp, "sha-256 "), len(fp))
	// Output: true true 103
}

// What the linked library and its engine can do.
func ExampleHasFeature() {
	_, version := sdtls.Version()
	fmt.Println(strings.HasPrefix(version, "0.1.0"), sdtls.HasFeature(sdtls.FeatureDTLS12))
	// Output: true true
}

// A client that pins the server's certificate instead of checking a CA
// chain (WebRTC: the fingerprint comes from the peer's SDP).
func ExampleWithPeerFingerprint() {
	cert, key, _ := sdtls.GenerateCertificate("server", 1)
	l := echoServer(&sdtls.Config{Certificate: cert, PrivateKey: key})
	defer l.Close()

	fp, _ := sdtls.Fingerprint(cert)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sdtls.Dial(ctx, "udp", l.Addr().String(), &sdtls.Config{}, sdtls.WithPeerFingerprint(fp))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println(c.ConnectionState().PeerFingerprint == fp)
	// Output: true
}

// A certificate the client does not trust fails the handshake with an
// error that matches ErrVerify.
func ExampleDial_verifyError() {
	cert, key, _ := sdtls.GenerateCertificate("localhost", 1)
	other, _, _ := sdtls.GenerateCertificate("localhost", 1)
	l := echoServer(&sdtls.Config{Certificate: cert, PrivateKey: key})
	defer l.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := sdtls.Dial(ctx, "udp", l.Addr().String(), &sdtls.Config{RootCAs: other, ServerName: "localhost"})
	fmt.Println(errors.Is(err, sdtls.ErrVerify))
	// Output: true
}

// Resumption: the session of one connection makes the next handshake
// abbreviated.
func ExampleWithSession() {
	cert, key, _ := sdtls.GenerateCertificate("localhost", 1)
	l := echoServer(&sdtls.Config{Certificate: cert, PrivateKey: key})
	defer l.Close()
	client := &sdtls.Config{RootCAs: cert, ServerName: "localhost"}

	dial := func(opts ...sdtls.DialOption) *sdtls.ClientConn {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := sdtls.Dial(ctx, "udp", l.Addr().String(), client, opts...)
		if err != nil {
			log.Fatal(err)
		}
		// One round trip: with DTLS 1.3 the ticket comes after the handshake.
		c.Write([]byte("ping"))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		c.Read(make([]byte, 1500))
		return c
	}
	first := dial()
	session, err := first.Session() // secret, like a key
	first.Close()
	if err != nil {
		log.Fatal(err)
	}
	again := dial(sdtls.WithSession(session))
	defer again.Close()
	fmt.Println(again.ConnectionState().Resumed)
	// Output: true
}

// Pre-shared keys: no certificates at all (DTLS 1.2's PSK suites).
func ExampleConfig_psk() {
	psk := []sdtls.PSK{{Identity: "device-1", Key: []byte("0123456789abcdef")}}
	l := echoServer(&sdtls.Config{PSKs: psk})
	defer l.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sdtls.Dial(ctx, "udp", l.Addr().String(), &sdtls.Config{PSKs: psk})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println(c.ConnectionState().PSKIdentity)
	// Output: device-1
}

// DTLS-SRTP: both sides agree on a profile and derive the SRTP keys; each
// side's sending key is the other's receiving key.
func ExampleClientConn_SRTPKeying() {
	cert, key, _ := sdtls.GenerateCertificate("localhost", 1)
	profiles := []sdtls.SRTPProfile{sdtls.SRTP_AEAD_AES_128_GCM, sdtls.SRTP_AES128_CM_SHA1_80}
	l, err := sdtls.Listen("udp", "127.0.0.1:0",
		&sdtls.Config{Certificate: cert, PrivateKey: key, SRTPProfiles: profiles})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	served := make(chan *sdtls.SRTPKeying, 1)
	go func() {
		s, err := l.AcceptDTLS()
		if err != nil {
			return
		}
		defer s.Close()
		s.Read(make([]byte, 1500)) // the handshake is done once data arrives
		k, _ := s.SRTPKeying()
		served <- k
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sdtls.Dial(ctx, "udp", l.Addr().String(),
		&sdtls.Config{RootCAs: cert, ServerName: "localhost", SRTPProfiles: profiles})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("media follows"))
	k, err := c.SRTPKeying()
	if err != nil {
		log.Fatal(err)
	}
	s := <-served
	fmt.Println(k.Profile, k.KeyLen, k.SaltLen, bytes.Equal(k.LocalWrite, s.RemoteWrite))
	// Output: SRTP_AEAD_AES_128_GCM 16 12 true
}

// A Listener over a socket the application made (NewListener), with its
// counters.
func ExampleNewListener() {
	cert, key, _ := sdtls.GenerateCertificate("localhost", 1)
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		log.Fatal(err)
	}
	l, err := sdtls.NewListener(pc, &sdtls.Config{Certificate: cert, PrivateKey: key})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	go echoOnce(l)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sdtls.Dial(ctx, "udp", pc.LocalAddr().String(), &sdtls.Config{RootCAs: cert, ServerName: "localhost"})
	if err != nil {
		log.Fatal(err)
	}
	c.Close()
	st := l.Stats()
	fmt.Println(st.CookiesSent >= 1, st.ConnectionsCreated)
	// Output: true 1
}

// A Listener on two SO_REUSEPORT sockets (Linux), a server and a goroutine
// each: one address, one Accept, the counters summed.
func ExampleListenConfig() {
	cert, key, _ := sdtls.GenerateCertificate("localhost", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lc := sdtls.ListenConfig{Sockets: 2} // runtime.NumCPU() for every core
	l, err := lc.Listen(ctx, "udp", "127.0.0.1:0", &sdtls.Config{Certificate: cert, PrivateKey: key})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	go echoOnce(l)

	for i := 0; i < 4; i++ { // from four source ports: the kernel spreads them
		c, err := sdtls.Dial(ctx, "udp", l.Addr().String(), &sdtls.Config{RootCAs: cert, ServerName: "localhost"})
		if err != nil {
			log.Fatal(err)
		}
		c.Close()
	}
	fmt.Println(l.Stats().ConnectionsCreated)
	// Output: 4
}

// Keying material for another protocol (RFC 5705), equal on both sides.
func ExampleConn_ExportKeyingMaterial() {
	cert, key, _ := sdtls.GenerateCertificate("server.test", 1)
	client, _ := sdtls.NewConn(&sdtls.Config{RootCAs: cert, ServerName: "server.test"}, sdtls.RoleClient)
	server, _ := sdtls.NewConn(&sdtls.Config{Certificate: cert, PrivateKey: key}, sdtls.RoleServer)
	defer client.Close()
	defer server.Close()
	now := time.Now()
	client.Start(now)
	for client.State() == sdtls.StateHandshaking || server.State() == sdtls.StateHandshaking {
		for d := client.NextDatagram(); d != nil; d = client.NextDatagram() {
			server.Receive(d, now)
		}
		for d := server.NextDatagram(); d != nil; d = server.NextDatagram() {
			client.Receive(d, now)
		}
	}
	a, _ := client.ExportKeyingMaterial("EXPERIMENTAL-example", nil, 32)
	b, _ := server.ExportKeyingMaterial("EXPERIMENTAL-example", nil, 32)
	fmt.Println(len(a), bytes.Equal(a, b))
	// Output: 32 true
}
