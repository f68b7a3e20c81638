// SPDX-License-Identifier: Apache-2.0

//go:build !sdtls_static

package sdtls

// The default: the installed library, found with pkg-config (libsdtls-dev,
// or `cmake --install` of a build; PKG_CONFIG_PATH or PKG_CONFIG_SYSROOT_DIR
// for another prefix). The binary then needs libsdtls.so.1 at run time.

// #cgo pkg-config: sdtls
import "C"
