// SPDX-License-Identifier: Apache-2.0

package sdtls_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"sdtls.dev/sdtls"
)

// A server and a client on loopback: the client verifies the server's
// self-signed certificate, sends one datagram and reads the echo.
func Example() {
	cert, key, err := sdtls.GenerateCertificate("localhost", 1)
	if err != nil {
		log.Fatal(err)
	}
	l, err := sdtls.Listen("udp", "127.0.0.1:0", &sdtls.Config{Certificate: cert, PrivateKey: key})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		buf := make([]byte, 1500)
		n, _ := c.Read(buf)
		c.Write(buf[:n])
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := sdtls.Dial(ctx, "udp", l.Addr().String(), &sdtls.Config{RootCAs: cert, ServerName: "localhost"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("hello"))
	buf := make([]byte, 1500)
	n, err := c.Read(buf)
	if err != nil {
		log.Fatal(err)
	}
	// c.ConnectionState().Version says which version was agreed: the
	// newest both sides speak (DTLSv1.3 with an engine that has it, else
	// DTLSv1.2).
	fmt.Printf("%s\n", buf[:n])
	// Output: hello
}

// The sans-I/O connection: the application moves datagrams and time.
func ExampleConn() {
	cert, key, _ := sdtls.GenerateCertificate("server.test", 1)
	client, _ := sdtls.NewConn(&sdtls.Config{RootCAs: cert, ServerName: "server.test"}, sdtls.RoleClient)
	server, _ := sdtls.NewConn(&sdtls.Config{Certificate: cert, PrivateKey: key}, sdtls.RoleServer)
	defer client.Close()
	defer server.Close()

	now := time.Now()
	client.Start(now)
	// Until both sides are done: under DTLS 1.3 the client finishes first
	// and its last flight is still to be delivered. (A real application
	// also calls HandleTimeout at NextDeadline, for the life of the
	// connection.)
	for client.State() == sdtls.StateHandshaking || server.State() == sdtls.StateHandshaking {
		for d := client.NextDatagram(); d != nil; d = client.NextDatagram() {
			server.Receive(d, now) // a real application sends d over its socket
		}
		for d := server.NextDatagram(); d != nil; d = server.NextDatagram() {
			client.Receive(d, now)
		}
	}
	client.Send([]byte("ping"), now)
	for d := client.NextDatagram(); d != nil; d = client.NextDatagram() {
		server.Receive(d, now)
	}
	for e, ok := server.NextEvent(); ok; e, ok = server.NextEvent() {
		if e.Kind == sdtls.EventData {
			fmt.Printf("server got %q\n", e.Data)
		}
	}
	// Output: server got "ping"
}
