// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"encoding/binary"
	"net/netip"
	"runtime"
	"syscall"
)

// sdtls_server takes peer addresses as the bytes of a struct sockaddr_in
// or sockaddr_in6, as recvfrom() fills them. These convert a
// netip.AddrPort to and from that form without a call into C.

const (
	sockaddrIn6Len = 28
	// BSDs and macOS start a sockaddr with a length byte and a one-byte
	// family; Linux with a two-byte family in host order.
	bsdSockaddr = runtime.GOOS == "darwin" || runtime.GOOS == "freebsd" ||
		runtime.GOOS == "netbsd" || runtime.GOOS == "openbsd" || runtime.GOOS == "dragonfly"
)

func putFamily(b []byte, family int, size int) {
	if bsdSockaddr {
		b[0], b[1] = byte(size), byte(family)
	} else {
		binary.NativeEndian.PutUint16(b, uint16(family))
	}
}

// encodeSockaddr writes ap into buf and returns the used part. An IPv4
// address mapped into IPv6 (a dual-stack socket's view of an IPv4 peer) is
// written as a sockaddr_in, so the peer has one identity.
func encodeSockaddr(ap netip.AddrPort, buf *[sockaddrIn6Len]byte) []byte {
	a := ap.Addr().Unmap()
	*buf = [sockaddrIn6Len]byte{}
	if a.Is4() {
		putFamily(buf[:], syscall.AF_INET, 16)
		binary.BigEndian.PutUint16(buf[2:], ap.Port())
		ip := a.As4()
		copy(buf[4:8], ip[:])
		return buf[:16]
	}
	putFamily(buf[:], syscall.AF_INET6, sockaddrIn6Len)
	binary.BigEndian.PutUint16(buf[2:], ap.Port())
	ip := a.As16()
	copy(buf[8:24], ip[:])
	return buf[:sockaddrIn6Len]
}

func decodeSockaddr(b []byte) netip.AddrPort {
	if len(b) < 16 {
		return netip.AddrPort{}
	}
	var family int
	if bsdSockaddr {
		family = int(b[1])
	} else {
		family = int(binary.NativeEndian.Uint16(b))
	}
	port := binary.BigEndian.Uint16(b[2:])
	switch {
	case family == syscall.AF_INET:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port)
	case family == syscall.AF_INET6 && len(b) >= sockaddrIn6Len:
		return netip.AddrPortFrom(netip.AddrFrom16([16]byte(b[8:24])), port)
	}
	return netip.AddrPort{}
}
