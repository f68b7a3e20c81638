// SPDX-License-Identifier: Apache-2.0

//go:build unix

package sdtls

import (
	"errors"
	"net"
	"syscall"
)

// readNow reads one datagram that is already waiting on sock, without
// blocking; false when there is none (or sock is not a syscall.Conn). A
// refusal reported by ICMP is skipped, as a lost datagram would be.
func readNow(sock net.Conn, p []byte) (int, bool) {
	sc, ok := sock.(syscall.Conn)
	if !ok {
		return 0, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	for {
		var n int
		var rerr error
		if err := rc.Read(func(fd uintptr) bool {
			n, rerr = syscall.Read(int(fd), p)
			return true // never wait for one
		}); err != nil {
			return 0, false
		}
		switch {
		case rerr == nil:
			return n, true
		case errors.Is(rerr, syscall.EINTR), errors.Is(rerr, syscall.ECONNREFUSED):
			continue
		default: // EAGAIN: nothing there
			return 0, false
		}
	}
}
