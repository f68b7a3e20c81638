// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package sdtls

import (
	"errors"
	"syscall"
)

// reusePort refuses: elsewhere SO_REUSEPORT does not spread one address's
// datagrams among its sockets (Linux's does), so that sockets after the
// first would receive nothing.
func reusePort(_, _ string, _ syscall.RawConn) error {
	return errors.New("sdtls: ListenConfig.Sockets above 1 needs Linux's SO_REUSEPORT")
}
