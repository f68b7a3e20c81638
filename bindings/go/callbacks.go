package sdtls

// The only calls from C into Go: the PSK lookup, the key log and a
// Listener's on_connect hook, which the user asked for. Their user_data is
// a runtime/cgo.Handle; no Go pointer is given to C.

/*
#include "glue.h"
*/
import "C"

import (
	"net"
	"runtime/cgo"
	"unsafe"
)

//export sdtlsgoPSKLookup
func sdtlsgoPSKLookup(h C.uintptr_t, identity *C.char, key *C.uint8_t, max C.size_t) (n C.size_t) {
	defer func() {
		if recover() != nil {
			n = 0 // a panicking lookup refuses the identity
		}
	}()
	fn := cgo.Handle(h).Value().(func(string) []byte)
	k := fn(C.GoString(identity))
	if len(k) == 0 || len(k) > int(max) {
		return 0
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(key)), int(max)), k)
	return C.size_t(len(k))
}

//export sdtlsgoKeylog
func sdtlsgoKeylog(h C.uintptr_t, line *C.char) {
	cgo.Handle(h).Value().(*keyLogger).log(C.GoString(line))
}

// peerFingerprintsFunc is Config.GetPeerFingerprints.
type peerFingerprintsFunc = func(remote net.Addr) ([]string, error)

// sdtlsgoOnConnect runs inside the server's on_connect, on the Listener's
// goroutine with the Listener locked: it asks the hook for the new peer's
// fingerprints and pins them on its connection (allowed there alone). A
// non-zero return refuses the peer (glue.c closes it).
//
//export sdtlsgoOnConnect
func sdtlsgoOnConnect(h C.uintptr_t, conn *C.sdtls_conn, addr *C.uint8_t, addrLen C.size_t) (refuse C.int) {
	defer func() {
		if recover() != nil {
			refuse = 1 // a panicking hook refuses the peer
		}
	}()
	fn := cgo.Handle(h).Value().(peerFingerprintsFunc)
	remote := decodeSockaddr(unsafe.Slice((*byte)(unsafe.Pointer(addr)), int(addrLen)))
	fps, err := fn(net.UDPAddrFromAddrPort(remote))
	if err != nil {
		return 1
	}
	c := cconn{p: conn}
	for _, fp := range fps {
		if c.addPeerFingerprint(fp) != 0 {
			return 1 // fail closed: a fingerprint that does not parse pins nothing
		}
	}
	return 0
}
