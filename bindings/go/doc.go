// SPDX-License-Identifier: Apache-2.0

// Package sdtls is DTLS 1.2 (RFC 6347) and, with an engine that has it
// (HasFeature(FeatureDTLS13)), DTLS 1.3 (RFC 9147) for Go over the sdtls C
// library, whose engine is BoringSSL. A connection agrees on the newest
// version both sides allow (Config.MinVersion, MaxVersion).
//
// Three layers, each over the same C calls:
//
//   - Dial and Client return a *ClientConn, Listen and NewListener a
//     *Listener whose Accept returns *ServerConn: net.Conn and net.Listener
//     as pion/dtls and crypto/tls users expect, one datagram per Read and
//     Write. A Listener is the C library's multi-peer server on one UDP
//     socket: a stateless cookie exchange for unknown peers, one goroutine
//     for the socket and every peer's timers (none per peer), idle peers
//     evicted; ListenConfig.Sockets gives it several SO_REUSEPORT sockets
//     on one address, a server and goroutine each, for every core. A ClientConn has no goroutine: Read and Write drive it (a
//     client that only writes still retransmits its last handshake flight
//     and takes acknowledgements and tickets; see ClientConn.Write).
//   - Conn is the sans-I/O connection: Receive, Send, NextDeadline,
//     HandleTimeout, with the datagrams to send and the events (handshake
//     done, data, closed) queued for NextDatagram and NextEvent. For
//     applications that own their sockets and clocks (ICE, WebRTC, tests).
//   - Config, errors and accessors shared by both: DTLS-SRTP keying,
//     RFC 5705 exporter, peer certificate and fingerprint (pinned per
//     Config, per Dial, or per Listener peer address with PinPeer),
//     key exchange groups, ALPN, PSK, session resumption.
//
// Errors from the library are *Error values carrying the C code, its
// category and the connection's detail string; errors.Is(err, ErrVerify)
// (ErrAlert, ErrTimeout, ErrClosed, ErrProtocol, ErrUsage, ...) tests the
// category. A peer's close_notify reads as io.EOF, a local Close as
// net.ErrClosed.
//
// Linking: by default cgo finds the library with pkg-config (sdtls.pc, as
// installed by the C build or libsdtls-dev). Build with -tags sdtls_static
// and CGO_CFLAGS/CGO_LDFLAGS pointing at an install to link libsdtls.a
// instead, for a binary with no run-time dependency on sdtls.
//
// The C library's callbacks go to C trampolines in this package that queue
// what they produce; Go reads the queue after each call, so a datagram
// costs one crossing into C, not a call back into Go. Only the PSK lookup,
// the key log and a Listener's (deprecated) GetPeerFingerprints call Go, through a
// runtime/cgo.Handle; C keeps no Go pointer.
package sdtls
