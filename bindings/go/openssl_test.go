// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func freeUDPPort(t *testing.T) string {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

// openssl runs the openssl tool with args; its stdin stays open (a pipe the
// test writes to), its stdout is scanned line by line into lines.
func openssl(t *testing.T, args ...string) (stdin io.WriteCloser, lines chan string) {
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cmd := exec.CommandContext(ctx, path, args...)
	stdin, _ = cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	lines = make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	t.Cleanup(func() {
		stdin.Close()
		cancel()
		cmd.Wait()
	})
	return stdin, lines
}

func waitLine(t *testing.T, lines chan string, want string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	var seen []string
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("openssl ended before %q; it said:\n%s", want, strings.Join(seen, "\n"))
			}
			seen = append(seen, l)
			if strings.Contains(l, want) {
				return
			}
		case <-timeout:
			t.Fatalf("no %q from openssl; it said:\n%s", want, strings.Join(seen, "\n"))
		}
	}
}

func writePEMs(t *testing.T, name string) (certFile, keyFile string, cert []byte) {
	cert, key := testCert(t, name)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// Our client against `openssl s_server -dtls1_2` (which does its own
// cookie exchange).
func TestInteropOpenSSLServer(t *testing.T) {
	certFile, keyFile, _ := writePEMs(t, "localhost")
	addr := freeUDPPort(t)
	_, port, _ := net.SplitHostPort(addr)
	stdin, lines := openssl(t, "s_server", "-dtls1_2", "-4", "-accept", "127.0.0.1:"+port,
		"-cert", certFile, "-key", keyFile)
	waitLine(t, lines, "ACCEPT")

	// CertificateFile/RootCAFile: the file-based settings too.
	c, err := Dial(ctxT(t, 10*time.Second), "udp4", addr, &Config{RootCAFile: certFile, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st := c.ConnectionState(); st.Version != "DTLSv1.2" {
		t.Fatalf("state %+v", st)
	}
	if _, err := c.Write([]byte("hello from sdtls-go\n")); err != nil {
		t.Fatal(err)
	}
	waitLine(t, lines, "hello from sdtls-go")
	if _, err := io.WriteString(stdin, "hello from openssl\n"); err != nil {
		t.Fatal(err)
	}
	if got, err := read10s(c); err != nil || !strings.Contains(got, "hello from openssl") {
		t.Fatalf("read %q, %v", got, err)
	}
}

// read10s is c's next datagram, given ten seconds to come.
func read10s(c net.Conn) (string, error) {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	return string(buf[:n]), err
}

// `openssl s_client -dtls1_2` against our Listener.
func TestInteropOpenSSLClient(t *testing.T) {
	certFile, keyFile, _ := writePEMs(t, "localhost")
	l, err := Listen("udp4", "127.0.0.1:0", &Config{CertificateFile: certFile, PrivateKeyFile: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	stdin, lines := openssl(t, "s_client", "-dtls1_2", "-connect", l.Addr().String(),
		"-CAfile", certFile, "-verify_return_error", "-verify_hostname", "localhost")
	sc, err := l.AcceptDTLS()
	if err != nil {
		t.Fatal(err)
	}
	waitLine(t, lines, "Verify return code: 0")
	if _, err := io.WriteString(stdin, "hello from openssl\n"); err != nil {
		t.Fatal(err)
	}
	if got, err := read10s(sc); err != nil || got != "hello from openssl\n" {
		t.Fatalf("read %q, %v", got, err)
	}
	if _, err := sc.Write([]byte("hello from sdtls-go\n")); err != nil {
		t.Fatal(err)
	}
	waitLine(t, lines, "hello from sdtls-go")
	if s := l.Stats(); s.CookiesSent != 1 {
		t.Fatalf("openssl did not go through the cookie exchange: %+v", s)
	}
}
