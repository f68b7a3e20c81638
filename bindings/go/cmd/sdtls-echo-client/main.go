// SPDX-License-Identifier: Apache-2.0

// Command sdtls-echo-client is the Go side of the cross-language interop
// test (tests/interop/cross_language.sh): it dials a DTLS echo server
// written in another language, sends N datagrams one at a time, checks that
// each comes back unchanged, and closes with close_notify.
//
//	sdtls-echo-client [-ca FILE | -fingerprint "sha-256 AB:CD:..."] [-server-name NAME] [-n N] [-timeout 20s] HOST:PORT
//
// It prints "connected <version> <cipher> [<group>] peer <fingerprint>" and
// "echoed N" on stderr and exits 0, or says what went wrong and exits 1
// (2 for a usage error).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"sdtls.dev/sdtls"
)

func main() {
	ca := flag.String("ca", "", "PEM file of the CA (or self-signed certificate) that vouches for the server")
	fp := flag.String("fingerprint", "", `pin the server's certificate: "sha-256 AB:CD:..." (sha-256:AB:CD:... also)`)
	name := flag.String("server-name", "localhost", "name sent (SNI) and verified with -ca")
	n := flag.Int("n", 5, "datagrams to send")
	timeout := flag.Duration("timeout", 20*time.Second, "bound on the whole exchange")
	flag.Parse()
	if flag.NArg() != 1 || (*ca == "") == (*fp == "") || *n < 1 {
		fmt.Fprintln(os.Stderr, "usage: sdtls-echo-client (-ca FILE | -fingerprint FP) [-server-name NAME] [-n N] [-timeout D] HOST:PORT")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *ca, *fp, *name, *n, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "sdtls-echo-client:", err)
		os.Exit(1)
	}
}

func run(addr, ca, fp, name string, n int, timeout time.Duration) error {
	cfg := &sdtls.Config{RootCAFile: ca, ServerName: name}
	if fp != "" {
		// The tools print "sha-256:AB:..."; SDP (and this package) write "sha-256 AB:...".
		cfg = &sdtls.Config{PeerFingerprints: []string{strings.Replace(fp, "sha-256:", "sha-256 ", 1)}, ServerName: name}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := sdtls.Dial(ctx, "udp", addr, cfg)
	if err != nil {
		return fmt.Errorf("dial %s: %w", addr, err)
	}
	defer conn.Close() // close_notify
	st := conn.ConnectionState()
	fmt.Fprintln(os.Stderr, "connected", st.Version, st.CipherSuite, st.Group, "peer", st.PeerFingerprint)

	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	buf := make([]byte, 65536)
	for i := 0; i < n; i++ {
		// Sizes from a few bytes to about a kilobyte; non-ASCII included.
		msg := []byte(fmt.Sprintf("go line %d grüße %s", i, strings.Repeat("x", (i*997)%1000)))
		if _, err := conn.Write(msg); err != nil {
			return fmt.Errorf("write %d: %w", i, err)
		}
		got, err := conn.Read(buf)
		if err != nil {
			return fmt.Errorf("read echo %d: %w", i, err)
		}
		if !bytes.Equal(buf[:got], msg) {
			return fmt.Errorf("echo %d: sent %d bytes %.40q, got %d bytes %.40q", i, len(msg), msg, got, buf[:got])
		}
	}
	fmt.Fprintln(os.Stderr, "echoed", n)
	return nil
}
