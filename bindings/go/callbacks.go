package sdtls

// The only calls from C into Go: the PSK lookup and the key log, which the
// user asked for. Their user_data is a runtime/cgo.Handle; no Go pointer
// is given to C.

/*
#include "glue.h"
*/
import "C"

import (
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
