// SPDX-License-Identifier: Apache-2.0

//go:build sdtls_static

package sdtls

// With -tags sdtls_static: libsdtls.a, the self-contained static variant
// (BoringSSL inside, its symbols local), so the Go binary has no run-time
// dependency on sdtls. Point cgo at the install (or build) tree:
//
//	CGO_CFLAGS="-I$PREFIX/include" CGO_LDFLAGS="-L$PREFIX/lib" go build -tags sdtls_static
//
// where $PREFIX/include/sdtls/sdtls.h and $PREFIX/lib/libsdtls.a exist
// (or CGO_CFLAGS="$(pkg-config --cflags sdtls)" with the library installed).

// #cgo LDFLAGS: -l:libsdtls.a -lpthread
import "C"
