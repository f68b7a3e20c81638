package sdtls

// The only calls from C into Go: the PSK lookup, the key log and a
// Listener's on_connect hook, which the user asked for. Their user_data is
// a runtime/cgo.Handle; no Go pointer is given to C.
//
// Each runs the user's function under runUserCallback: a panic stops
// there, because unwinding through the C library's frames would leave the
// engine half-way through a handshake message and sdtls's own state
// inconsistent. It becomes the error of the Go call that made the C call.

/*
#include "glue.h"
*/
import "C"

import (
	"fmt"
	"net"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"unsafe"
)

// CallbackPanicError is returned by the call during which one of the
// Config's callbacks (PSKLookup, KeyLogWriter, GetPeerFingerprints)
// panicked. The panic was recovered where the C library called the
// callback; see each callback for what it does to the handshake.
type CallbackPanicError struct {
	Callback string // "PSKLookup", "KeyLogWriter" or "GetPeerFingerprints"
	Value    any    // what the callback panicked with
}

func (e *CallbackPanicError) Error() string {
	return fmt.Sprintf("sdtls: %s panicked: %v", e.Callback, e.Value)
}

// userCallbacks counts the user callbacks running now, in all goroutines:
// while it is 0, no goroutine is inside one and inCallback needs no call
// into C.
var userCallbacks atomic.Int32

// callbackPanics holds the panic recorded in a box (keyed by its address)
// until the Go caller of the C call takes it; box.panicked says there is
// one, so that the caller looks only then.
var callbackPanics sync.Map

// runUserCallback runs fn, a user callback made inside a C call that
// drives box's handle (box is nil when no such call is known). A panic is
// recovered and recorded in box for that call's Go caller; the first of a
// call wins. It reports whether fn panicked.
func runUserCallback(box *C.sdtlsgo_box, name string, fn func()) (panicked bool) {
	userCallbacks.Add(1)
	defer userCallbacks.Add(-1)
	defer func() {
		if r := recover(); r != nil {
			panicked = true
			if box != nil && box.panicked == 0 {
				box.panicked = 1
				callbackPanics.Store(uintptr(unsafe.Pointer(box)), &CallbackPanicError{Callback: name, Value: r})
			}
		}
	}()
	fn()
	return false
}

// takePanic returns (and forgets) the panic of a user callback made during
// the last C call that drove b's handle, or nil.
func (b box) takePanic() error {
	if b.p.panicked == 0 {
		return nil
	}
	b.p.panicked = 0
	err, _ := callbackPanics.LoadAndDelete(uintptr(unsafe.Pointer(b.p)))
	return err.(error)
}

// inCallback reports whether the calling goroutine runs inside a user
// callback made by a C call that drives b's handle, at any depth. Such a
// goroutine holds whatever lock the Go caller of that C call took: a
// Listener's, a ClientConn's.
func (b box) inCallback() bool {
	return userCallbacks.Load() != 0 && C.sdtlsgo_driving(b.p) != 0
}

func inCallbackError(op string) error {
	return newError(op, int(CodeInCallback),
		"called from a PSKLookup, KeyLogWriter or GetPeerFingerprints that a call on the same connection or Listener made")
}

//export sdtlsgoPSKLookup
func sdtlsgoPSKLookup(h C.uintptr_t, box *C.sdtlsgo_box, identity *C.char, key *C.uint8_t, max C.size_t) (n C.size_t) {
	fn := cgo.Handle(h).Value().(func(string) []byte)
	id := C.GoString(identity)
	var k []byte
	if runUserCallback(box, "PSKLookup", func() { k = fn(id) }) {
		return 0 // a panicking lookup refuses the identity
	}
	if len(k) == 0 || len(k) > int(max) {
		return 0
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(key)), int(max)), k)
	return C.size_t(len(k))
}

//export sdtlsgoKeylog
func sdtlsgoKeylog(h C.uintptr_t, box *C.sdtlsgo_box, line *C.char) {
	k := cgo.Handle(h).Value().(*keyLogger)
	s := C.GoString(line)
	runUserCallback(box, "KeyLogWriter", func() { k.log(s) })
}

// peerFingerprintsFunc is Config.GetPeerFingerprints.
type peerFingerprintsFunc = func(remote net.Addr) ([]string, error)

// sdtlsgoOnConnect runs inside the server's on_connect, on the Listener's
// goroutine with the Listener locked: it asks the hook for the new peer's
// fingerprints and pins them on its connection (allowed there alone). A
// non-zero return refuses the peer (glue.c closes it).
//
//export sdtlsgoOnConnect
func sdtlsgoOnConnect(h C.uintptr_t, box *C.sdtlsgo_box, conn *C.sdtls_conn, addr *C.uint8_t, addrLen C.size_t) C.int {
	fn := cgo.Handle(h).Value().(peerFingerprintsFunc)
	remote := decodeSockaddr(unsafe.Slice((*byte)(unsafe.Pointer(addr)), int(addrLen)))
	var fps []string
	var err error
	if runUserCallback(box, "GetPeerFingerprints", func() { fps, err = fn(net.UDPAddrFromAddrPort(remote)) }) || err != nil {
		return 1 // a failing or panicking hook refuses the peer
	}
	c := cconn{p: conn}
	for _, fp := range fps {
		if c.addPeerFingerprint(fp) != 0 {
			return 1 // fail closed: a fingerprint that does not parse pins nothing
		}
	}
	return 0
}
