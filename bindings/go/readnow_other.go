// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package sdtls

import "net"

// readNow: Write takes nothing from the socket on this system.
func readNow(sock net.Conn, p []byte) (int, bool) { return 0, false }
