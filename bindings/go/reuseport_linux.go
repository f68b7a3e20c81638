// SPDX-License-Identifier: Apache-2.0

package sdtls

// SO_REUSEPORT from the C headers: the syscall package lacks it on some
// architectures (amd64, 386, arm), and its value differs on others (mips).

/*
#include <sys/socket.h>
*/
import "C"

import "syscall"

// reusePort is a net.ListenConfig.Control that sets SO_REUSEPORT on a
// socket before it is bound, so that ListenConfig.Sockets sockets can bind
// one address and the kernel spreads the datagrams among them.
func reusePort(_, _ string, c syscall.RawConn) error {
	var err error
	if cerr := c.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, C.SO_REUSEPORT, 1)
	}); cerr != nil {
		return cerr
	}
	return err
}
