// SPDX-License-Identifier: Apache-2.0

package sdtls

// PacketKind is what Classify says a datagram is (SDTLS_PACKET_*).
type PacketKind int

// The protocols that share a socket, by RFC 7983 and RFC 9443's first-byte
// ranges (SDTLS_PACKET_*).
const (
	PacketUnknown     PacketKind = 0 // empty, or a first byte no range names
	PacketSTUN        PacketKind = 1 // 0..3: to the ICE agent
	PacketZRTP        PacketKind = 2 // 16..19
	PacketDTLS        PacketKind = 3 // 20..63: to Conn or Listener
	PacketTURNChannel PacketKind = 4 // 64..79
	PacketQUIC        PacketKind = 5 // 80..127, 192..255
	PacketRTP         PacketKind = 6 // 128..191: RTP or RTCP (SRTP, SRTCP)
)

var packetKindNames = [...]string{"unknown", "stun", "zrtp", "dtls", "turn-channel", "quic", "rtp"}

// String is the kind's name ("dtls", "stun", "rtp"...).
func (k PacketKind) String() string {
	if k >= 0 && int(k) < len(packetKindNames) {
		return packetKindNames[k]
	}
	return "unknown"
}

// Classify says what a datagram read from a socket shared by several
// protocols is, by its first byte as RFC 7983 and RFC 9443 divide it (the C
// library's sdtls_classify): WebRTC runs STUN, DTLS and SRTP on one UDP
// port. An empty datagram is PacketUnknown. Safe for concurrent use; the
// slice is only read.
func Classify(datagram []byte) PacketKind { return classify(datagram) }
