// SPDX-License-Identifier: Apache-2.0

package sdtls

import "testing"

// rfc7983 is RFC 7983 7 with RFC 9443 3, as the RFCs' figure lists the ranges.
func rfc7983(b int) PacketKind {
	switch {
	case b <= 3:
		return PacketSTUN
	case b <= 15:
		return PacketUnknown
	case b <= 19:
		return PacketZRTP
	case b <= 63:
		return PacketDTLS
	case b <= 79:
		return PacketTURNChannel
	case b <= 127:
		return PacketQUIC
	case b <= 191:
		return PacketRTP
	}
	return PacketQUIC
}

func TestClassifyEveryFirstByte(t *testing.T) {
	for b := 0; b < 256; b++ {
		if got := Classify([]byte{byte(b), 0xff}); got != rfc7983(b) {
			t.Errorf("first byte %d: %v, want %v", b, got, rfc7983(b))
		}
	}
	if got := Classify(nil); got != PacketUnknown {
		t.Errorf("nil: %v", got)
	}
	if got := Classify([]byte{}); got != PacketUnknown {
		t.Errorf("empty: %v", got)
	}
	if PacketDTLS.String() != "dtls" || PacketKind(99).String() != "unknown" {
		t.Errorf("names: %v %v", PacketDTLS, PacketKind(99))
	}
}
