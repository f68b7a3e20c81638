// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/cgo"
	"strings"
	"sync"
	"time"
)

// Config holds the settings of connections and listeners, like
// crypto/tls.Config. The zero value is a client with the secure defaults:
// DTLS 1.2 and later, ECDHE with AEAD ciphers only, and peer verification
// on (set RootCAs, PeerFingerprints or a PSK, or InsecureSkipVerify).
//
// A Config may be shared by any number of connections and listeners at
// once. It is compiled into the C library's configuration the first time a
// function of this package uses it; it must not be modified after that.
type Config struct {
	// This endpoint's certificate chain (leaf first) and private key
	// (ECDSA or RSA), PEM. A server needs one unless it uses a PSK.
	Certificate, PrivateKey []byte
	// The same from PEM files, read when the Config is first used.
	CertificateFile, PrivateKeyFile string

	// Trusted CA certificates: PEM bytes, a PEM file and/or a directory as
	// made by `openssl rehash`.
	RootCAs    []byte
	RootCAFile string
	RootCADir  string

	// InsecureSkipVerify accepts any peer certificate: only for tests and
	// deployments that pin PeerFingerprints. Verification is on by default.
	InsecureSkipVerify bool
	// ServerName is what a client sends (SNI) and checks the server's
	// certificate against. Dial fills it from the address when empty.
	ServerName string
	// RequireClientCert makes a server ask for and require a client
	// certificate (verified against the roots unless InsecureSkipVerify).
	RequireClientCert bool
	// PeerFingerprints pins the peer's certificate: "sha-256 AB:CD:..." as
	// SDP writes it (see Fingerprint). A match replaces the CA and name
	// check; a server then asks the client for a certificate.
	PeerFingerprints []string
	// GetPeerFingerprints, when set, is called by a Listener for each peer
	// that passed the cookie exchange, before its handshake starts, with
	// the peer's address (a *net.UDPAddr). The fingerprints it returns are
	// expected of that peer alone (WebRTC: each peer's SDP brings its
	// own), as PeerFingerprints are of every peer: the server asks the
	// client for a certificate, which must match one of either list, and
	// that replaces the CA check. Returning none keeps the Config's
	// verification. Returning an error, a fingerprint that does not parse
	// or panicking refuses the peer: it is dropped unanswered, as an
	// unverified ClientHello is, so its client retransmits (the hook is
	// asked again) and times out.
	//
	// Like crypto/tls's GetConfigForClient it runs during the handshake,
	// here on the Listener's single goroutine with the Listener locked:
	// every peer waits while it runs, so it must be quick (a map lookup).
	// Only Listeners use it: a server Conn takes Conn.AddPeerFingerprint,
	// Dial takes WithPeerFingerprint.
	//
	// Inside this hook, PSKLookup and KeyLogWriter, when a Listener's
	// goroutine runs them: the Listener's and its ServerConns' queries
	// (Stats, ConnectionState, ...) answer; Listener.Close and
	// ServerConn.Close take effect when the callback returns (a Listener
	// closed there sends nothing more, not even the handshake in progress);
	// every other call on them returns an *Error with CodeInCallback.
	// The same holds for a Conn inside the calls on it (see Conn).
	//
	// Deprecated: pin with Listener.PinPeer before the peer connects: the
	// pins are then in the C server's own table (the mechanism every
	// binding shares), no Go call is made during the handshake, and no
	// map needs keeping in step. GetPeerFingerprints keeps working.
	GetPeerFingerprints func(remote net.Addr) ([]string, error)

	// MTU is the largest datagram sent, in bytes (default 1200).
	MTU int
	// InitialRetransmit is the first retransmission timeout (default 1 s;
	// doubled after each retransmission).
	InitialRetransmit time.Duration
	// HandshakeTimeout ends a handshake that has not finished in time with
	// ErrTimeout (default 30 s).
	HandshakeTimeout time.Duration
	// MinVersion and MaxVersion bound the protocol (VersionDTLS12,
	// VersionDTLS13); 0 keeps the library's default.
	MinVersion, MaxVersion uint16
	// CipherSuites restricts the suites, in OpenSSL syntax
	// ("ECDHE-ECDSA-AES128-GCM-SHA256"); empty keeps the defaults.
	CipherSuites string
	// Groups are the key exchange groups to offer and accept, most
	// preferred first, by the engine's names: "X25519", "P-256", "P-384",
	// "P-521", and with a current engine "X25519MLKEM768" (the
	// post-quantum hybrid). Empty keeps the engine's default list. A name
	// the engine does not know fails the Config's first use with an
	// ErrUsage error. ConnectionState().Group tells which one was used.
	// With an ECDSA certificate, DTLS 1.2 also needs the certificate's
	// curve in the client's list (a P-256 key: "P-384:P-256", not
	// "P-384" alone).
	Groups []string

	// SRTPProfiles offers (client) or accepts (server) DTLS-SRTP with these
	// profiles, most preferred first.
	SRTPProfiles []SRTPProfile

	// PSKs are pre-shared keys: a client offers the first, a server accepts
	// any. PSKLookup lets a server find keys the table does not hold
	// (return nil for an unknown identity); it is called from the goroutine
	// that drives the handshake (see GetPeerFingerprints for what it may
	// call there). A panic in it refuses the identity and is returned, as
	// a *CallbackPanicError, by the Conn call that made it.
	// PSKIdentityHint is what a server sends. PSKAllowCBC also allows the
	// engine's non-AEAD PSK suites.
	PSKs            []PSK
	PSKLookup       func(identity string) []byte
	PSKIdentityHint string
	PSKAllowCBC     bool

	// NextProtos are the ALPN protocols, most preferred first.
	NextProtos []string

	// TicketSecret (32..64 bytes) protects a server's session tickets;
	// servers sharing it accept each other's tickets. Random by default.
	// SessionTicketsDisabled makes a server issue no tickets.
	TicketSecret           []byte
	SessionTicketsDisabled bool

	// KeyLogWriter receives the secrets in NSS key log format, for
	// Wireshark. Insecure: for debugging only. It is written from the
	// goroutine that drives the handshake (see GetPeerFingerprints for
	// what it may call there). A panic in it loses the line and is
	// returned, as a *CallbackPanicError, by the call that wrote it: a
	// Conn's call (the connection goes on), Dial (which fails); a Listener
	// refuses the peer whose handshake it was.
	KeyLogWriter io.Writer

	// Server (Listen) settings; 0 keeps the library's default.
	MaxPeers       int           // connections at once (1024)
	MaxHandshakes  int           // connections still handshaking (256)
	IdleTimeout    time.Duration // evict a silent peer (5 min); <0 disables
	CookieLifetime time.Duration // HelloVerifyRequest cookie validity (60 s)
	// InsecureDisableCookies switches off the stateless cookie exchange:
	// only where the peer's address is verified another way (ICE).
	InsecureDisableCookies bool

	mu       sync.Mutex
	compiled *compiledConfig
	err      error
}

// What the C setters take (abi/sdtls.h): the NextProtos joined by ','
// (4096 bytes on the wire) and the number of Groups, each named once.
const (
	ALPNMaxBytes = 4095
	GroupsMax    = 32
)

// PSK is a pre-shared key and its identity.
type PSK struct {
	Identity string
	Key      []byte
}

// compiledConfig owns the C configuration. Every Go object that uses the
// C configuration (a Conn, a Listener) holds a pointer to it, so it is
// collected (and the C reference and the callback handles released) only
// after them. The C library keeps its own references, in any order.
type compiledConfig struct {
	c       *cconfig
	handles []cgo.Handle
	server  bool // has what a server needs
	name    string
}

// Option numbers (SDTLS_OPT_*), frozen by the ABI.
const (
	optVerifyPeer        = 1
	optRequireClientCert = 2
	optMTU               = 3
	optInitialTimeout    = 4
	optHandshakeTimeout  = 5
	optMinVersion        = 6
	optMaxVersion        = 7
	optCookies           = 8
	optMaxPeers          = 9
	optMaxHandshakes     = 10
	optIdleTimeout       = 11
	optCookieLifetime    = 12
	optPSKAllowCBC       = 13
	optSessionTickets    = 14
)

var defaultConfig = &Config{}

// compile returns the C configuration, made once.
func (cfg *Config) compile() (*compiledConfig, error) {
	if cfg == nil {
		cfg = defaultConfig
	}
	cfg.mu.Lock()
	defer cfg.mu.Unlock()
	if cfg.compiled == nil && cfg.err == nil {
		cfg.compiled, cfg.err = cfg.build()
	}
	return cfg.compiled, cfg.err
}

func bool64(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func ms(d time.Duration) int64 { return int64(d / time.Millisecond) }

func (cfg *Config) build() (*compiledConfig, error) {
	c, rc := newCConfig()
	if rc != 0 {
		return nil, newError("config", rc, "")
	}
	cc := &compiledConfig{c: c}
	runtime.SetFinalizer(cc, (*compiledConfig).release)
	fail := func(what string, rc int) (*compiledConfig, error) {
		cc.release()
		runtime.SetFinalizer(cc, nil)
		return nil, newError("config: "+what, rc, "")
	}
	// A refused list or name: the detail says what the C setter takes.
	failLimit := func(what string, rc int, limit string) (*compiledConfig, error) {
		cc.release()
		runtime.SetFinalizer(cc, nil)
		detail := ""
		if rc == int(CodeInvalidArgument) {
			detail = limit
		}
		return nil, newError("config: "+what, rc, detail)
	}
	// A file setter's failure names the file and why, as the C tool does.
	failFile := func(what string, rc int, paths ...string) (*compiledConfig, error) {
		cc.release()
		runtime.SetFinalizer(cc, nil)
		return nil, newError("config: "+what, rc, fileDetail(rc, paths...))
	}
	if cfg.InsecureSkipVerify {
		if rc := c.setOption(optVerifyPeer, 0); rc != 0 {
			return fail("InsecureSkipVerify", rc)
		}
	}
	opts := []struct {
		name string
		set  bool
		opt  int
		v    int64
	}{
		{"RequireClientCert", cfg.RequireClientCert, optRequireClientCert, 1},
		{"MTU", cfg.MTU != 0, optMTU, int64(cfg.MTU)},
		{"InitialRetransmit", cfg.InitialRetransmit != 0, optInitialTimeout, ms(cfg.InitialRetransmit)},
		{"HandshakeTimeout", cfg.HandshakeTimeout != 0, optHandshakeTimeout, ms(cfg.HandshakeTimeout)},
		{"MinVersion", cfg.MinVersion != 0, optMinVersion, int64(cfg.MinVersion)},
		{"MaxVersion", cfg.MaxVersion != 0, optMaxVersion, int64(cfg.MaxVersion)},
		{"InsecureDisableCookies", cfg.InsecureDisableCookies, optCookies, 0},
		{"MaxPeers", cfg.MaxPeers != 0, optMaxPeers, int64(cfg.MaxPeers)},
		{"MaxHandshakes", cfg.MaxHandshakes != 0, optMaxHandshakes, int64(cfg.MaxHandshakes)},
		{"IdleTimeout", cfg.IdleTimeout > 0, optIdleTimeout, ms(cfg.IdleTimeout)},
		{"IdleTimeout", cfg.IdleTimeout < 0, optIdleTimeout, 0},
		{"CookieLifetime", cfg.CookieLifetime != 0, optCookieLifetime, ms(cfg.CookieLifetime)},
		{"PSKAllowCBC", cfg.PSKAllowCBC, optPSKAllowCBC, 1},
		{"SessionTicketsDisabled", cfg.SessionTicketsDisabled, optSessionTickets, 0},
	}
	for _, o := range opts {
		if o.set {
			if rc := c.setOption(o.opt, o.v); rc != 0 {
				return fail(o.name, rc)
			}
		}
	}

	if len(cfg.Certificate) > 0 || len(cfg.PrivateKey) > 0 {
		if rc := c.setCertificatePEM(cfg.Certificate, cfg.PrivateKey); rc != 0 {
			return fail("Certificate", rc)
		}
		cc.server = true
	}
	if cfg.CertificateFile != "" || cfg.PrivateKeyFile != "" {
		if rc := c.setCertificateFile(cfg.CertificateFile, cfg.PrivateKeyFile); rc != 0 {
			return failFile("CertificateFile/PrivateKeyFile", rc, cfg.CertificateFile, cfg.PrivateKeyFile)
		}
		cc.server = true
	}
	if len(cfg.RootCAs) > 0 {
		if rc := c.setCAPEM(cfg.RootCAs); rc != 0 {
			return fail("RootCAs", rc)
		}
	}
	if cfg.RootCAFile != "" || cfg.RootCADir != "" {
		if rc := c.setCA(cfg.RootCAFile, cfg.RootCADir); rc != 0 {
			return failFile("RootCAFile/RootCADir", rc, cfg.RootCAFile, cfg.RootCADir)
		}
	}
	if cfg.CipherSuites != "" {
		if rc := c.setCiphers(cfg.CipherSuites); rc != 0 {
			return fail("CipherSuites", rc)
		}
	}
	if len(cfg.Groups) > 0 {
		if rc := c.setGroups(cfg.Groups); rc != 0 {
			cc.release()
			runtime.SetFinalizer(cc, nil)
			err := newError("config: Groups", rc, "")
			if e, ok := err.(*Error); ok && rc == int(CodeInvalidArgument) {
				e.Detail = fmt.Sprintf("a group name is empty, holds ',' or ':', is given twice, or the engine "+
					"does not know it (at most %d names): %q", GroupsMax, cfg.Groups)
			}
			return nil, err
		}
	}
	if len(cfg.SRTPProfiles) > 0 {
		s, err := profileNames(cfg.SRTPProfiles)
		if err != nil {
			cc.release()
			runtime.SetFinalizer(cc, nil)
			return nil, err
		}
		if rc := c.setSRTPProfiles(s); rc != 0 {
			return failLimit("SRTPProfiles", rc, "each profile at most once")
		}
	}
	for _, fp := range cfg.PeerFingerprints {
		if rc := c.addPeerFingerprint(fp); rc != 0 {
			return fail("PeerFingerprints", rc)
		}
	}
	for _, p := range cfg.PSKs {
		if rc := c.addPSK(p.Identity, p.Key); rc != 0 {
			return failLimit("PSKs", rc, "an identity of 1..128 bytes, a key of 1..64 bytes")
		}
		cc.server = true
	}
	if cfg.PSKIdentityHint != "" {
		if rc := c.setPSKIdentityHint(cfg.PSKIdentityHint); rc != 0 {
			return failLimit("PSKIdentityHint", rc, "1..128 bytes")
		}
	}
	if cfg.PSKLookup != nil {
		h := cgo.NewHandle(cfg.PSKLookup)
		cc.handles = append(cc.handles, h)
		if rc := c.setPSKLookup(h); rc != 0 {
			return fail("PSKLookup", rc)
		}
		cc.server = true
	}
	if len(cfg.NextProtos) > 0 {
		// Each name as it is: the C library refuses one it could not
		// tell from two (with ',' or ':'), an empty one, a long one, and a
		// list that would not fit the ClientHello.
		if rc := c.setALPN(cfg.NextProtos); rc != 0 {
			return failLimit("NextProtos", rc, fmt.Sprintf("each name 1..255 bytes without ',' or ':', "+
				"at most %d bytes joined by ',' (so that the ClientHello fits; got %d)",
				ALPNMaxBytes, len(strings.Join(cfg.NextProtos, ","))))
		}
	}
	if len(cfg.TicketSecret) > 0 {
		if rc := c.setTicketSecret(cfg.TicketSecret); rc != 0 {
			return fail("TicketSecret", rc)
		}
	}
	if cfg.KeyLogWriter != nil {
		h := cgo.NewHandle(&keyLogger{w: cfg.KeyLogWriter})
		cc.handles = append(cc.handles, h)
		if rc := c.setKeylog(h); rc != 0 {
			return fail("KeyLogWriter", rc)
		}
	}
	cc.name = cfg.ServerName
	return cc, nil
}

func (cc *compiledConfig) release() {
	if cc.c != nil {
		cc.c.free()
		cc.c = nil
	}
	for _, h := range cc.handles {
		h.Delete()
	}
	cc.handles = nil
}

type keyLogger struct {
	mu sync.Mutex
	w  io.Writer
}

func (k *keyLogger) log(line string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, _ = io.WriteString(k.w, line+"\n")
}

// fileDetail says which of the files a setter was given failed and why: the
// operating system's reason when one cannot be opened, else what the
// library refused in it.
func fileDetail(rc int, paths ...string) string {
	var named []string
	for _, p := range paths {
		if p == "" {
			continue
		}
		named = append(named, p)
		f, err := os.Open(p)
		if err != nil {
			return err.Error() // "open PATH: no such file or directory"
		}
		f.Close()
	}
	list := strings.Join(named, ", ")
	switch Code(rc) {
	case CodeFile:
		return list + ": not a readable file or directory of the expected kind"
	case CodeCredentials:
		return list + ": no usable certificate or key, a damaged one, or a key of another certificate"
	}
	return list
}
