// SPDX-License-Identifier: Apache-2.0

package sdtls

import "strconv"

// Role says which side of the handshake a Conn plays.
type Role int

// Roles (SDTLS_ROLE_*).
const (
	RoleClient Role = 0
	RoleServer Role = 1
)

// State is a connection's state (SDTLS_STATE_*).
type State int

// States.
const (
	StateNew         State = 0
	StateHandshaking State = 1
	StateConnected   State = 2
	StateClosed      State = 3
	StateFailed      State = 4
)

func (s State) String() string {
	switch s {
	case StateNew:
		return "new"
	case StateHandshaking:
		return "handshaking"
	case StateConnected:
		return "connected"
	case StateClosed:
		return "closed"
	case StateFailed:
		return "failed"
	}
	return "unknown"
}

// Protocol versions, as wire numbers (Config.MinVersion, MaxVersion).
const (
	VersionDTLS12 uint16 = 0xfefd
	VersionDTLS13 uint16 = 0xfefc
)

// Feature is something the linked engine may or may not support.
type Feature int

// Features (SDTLS_FEATURE_*).
const (
	FeatureDTLS12         Feature = 1
	FeatureDTLS13         Feature = 2
	FeatureCookieExchange Feature = 3
	FeatureSRTP           Feature = 4
	FeaturePSK            Feature = 5
	FeatureResumption     Feature = 6
	FeatureALPN           Feature = 7
)

// HasFeature reports whether the linked library and engine support f.
func HasFeature(f Feature) bool { return hasFeature(f) }

// Version returns the linked library's version number ((major << 16) |
// (minor << 8) | patch) and its version string, which names the engine.
func Version() (uint32, string) { return libVersion() }

// SRTPProfile is a DTLS-SRTP protection profile, by its IANA number.
type SRTPProfile int

// SRTP protection profiles (SDTLS_SRTP_*).
const (
	SRTP_AES128_CM_SHA1_80 SRTPProfile = 0x0001
	SRTP_AES128_CM_SHA1_32 SRTPProfile = 0x0002
	SRTP_AEAD_AES_128_GCM  SRTPProfile = 0x0007
	SRTP_AEAD_AES_256_GCM  SRTPProfile = 0x0008
)

// String is the profile's name ("SRTP_AES128_CM_SHA1_80"), or "" for an
// unknown one.
func (p SRTPProfile) String() string { return srtpProfileName(p) }

// SRTPKeying is the SRTP master key and salt of each direction (RFC 5764
// 4.2), in the form SRTP stacks take them: each slice holds the master key
// (KeyLen bytes) followed by the master salt (SaltLen bytes). It is secret.
type SRTPKeying struct {
	Profile     SRTPProfile
	KeyLen      int
	SaltLen     int
	ClientWrite []byte // protects the client's packets
	ServerWrite []byte // protects the server's packets
	LocalWrite  []byte // this endpoint's: protect with it
	RemoteWrite []byte // the peer's: unprotect with it
}

// ConnectionState describes an established connection.
type ConnectionState struct {
	Version         string      // "DTLSv1.2" or "DTLSv1.3"
	CipherSuite     string      // IANA name, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
	ALPN            string      // the negotiated application protocol, or ""
	Group           string      // the key exchange group ("X25519", "P-256"), or "" (none, e.g. plain PSK; see Config.Groups)
	Resumed         bool        // the handshake resumed a session
	PeerCertificate []byte      // the peer's leaf certificate (DER), or nil
	PeerFingerprint string      // "sha-256 AB:CD:..." (SDP's form), or ""
	SRTPProfile     SRTPProfile // 0 when none was negotiated
	PSKIdentity     string      // the PSK identity used, or ""
}

// GenerateCertificate makes a self-signed ECDSA P-256 certificate for
// commonName (also its DNS name), valid for days days, and its key, both
// PEM.
func GenerateCertificate(commonName string, days int) (certPEM, keyPEM []byte, err error) {
	if days <= 0 {
		return nil, nil, usageError("generate certificate", "days must be positive")
	}
	cert, key, rc := generateCertificate(commonName, uint(days))
	if rc != 0 {
		return nil, nil, newError("generate certificate", rc, "")
	}
	return cert, key, nil
}

// Fingerprint returns the SHA-256 fingerprint of the first certificate in
// certPEM the way SDP writes it (RFC 8122): "sha-256 AB:CD:...", the form
// Config.PeerFingerprints takes.
func Fingerprint(certPEM []byte) (string, error) {
	fp, err := FingerprintOf(certPEM, HashSHA256)
	if err != nil {
		return "", err
	}
	return fp.String(), nil
}

// The hash functions of a fingerprint, by RFC 8122's names.
const (
	HashSHA256 = "sha-256"
	HashSHA384 = "sha-384"
	HashSHA512 = "sha-512"
)

// CertificateFingerprint is a certificate's digest in one hash (RFC 8122).
// String gives SDP's form, "sha-256 AB:CD:...", the one form this package
// writes, and Bare "AB:CD:...". The C library parses and formats them.
type CertificateFingerprint struct {
	Hash   string // HashSHA256, HashSHA384 or HashSHA512
	Digest []byte
}

func (f CertificateFingerprint) String() string {
	return formatFingerprint(hashIDs[f.Hash], f.Digest, formSDP)
}

// Bare is the fingerprint without the hash's name: "AB:CD:...".
func (f CertificateFingerprint) Bare() string {
	return formatFingerprint(hashIDs[f.Hash], f.Digest, formBare)
}

// ParseFingerprint parses a fingerprint in any form peers write it: SDP's
// "sha-256 AB:CD:...", "sha-256:AB:CD:..." or bare "AB:CD:..." (the hash
// then follows from the length), for sha-256, sha-384 and sha-512, any case.
func ParseFingerprint(text string) (CertificateFingerprint, error) {
	h, d, rc := parseFingerprint(text)
	if rc != 0 {
		return CertificateFingerprint{}, newError("fingerprint", rc, strconv.Quote(text))
	}
	for name, id := range hashIDs {
		if id == h {
			return CertificateFingerprint{Hash: name, Digest: d}, nil
		}
	}
	return CertificateFingerprint{}, newError("fingerprint", int(CodeInternal), "")
}

// FingerprintOf returns the fingerprint of the first certificate in
// certPEM in hash (HashSHA256, HashSHA384 or HashSHA512).
func FingerprintOf(certPEM []byte, hash string) (CertificateFingerprint, error) {
	h, ok := hashIDs[hash]
	if !ok {
		return CertificateFingerprint{}, usageError("fingerprint", "unknown hash %q", hash)
	}
	d, rc := certificateFingerprint(certPEM, h)
	if rc != 0 {
		return CertificateFingerprint{}, newError("fingerprint", rc, "")
	}
	return CertificateFingerprint{Hash: hash, Digest: d}, nil
}

func profileNames(ps []SRTPProfile) ([]string, error) {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.String()
		if names[i] == "" {
			return nil, usageError("config", "unknown SRTP profile %#04x", int(p))
		}
	}
	return names, nil
}
