// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"runtime"
	"testing"
	"time"
)

// Connections dropped without Close are released by their cleanup, in
// whatever order the collector finds them and their Config; a Conn keeps
// working after the last reference to its Config is gone.
func TestGarbageCollectedInAnyOrder(t *testing.T) {
	cert, key := testCert(t, "server.test")
	var logged int
	mk := func() *pair {
		// Fresh Configs each time, unreachable once the Conns exist.
		return newPairNoCleanup(t,
			&Config{RootCAs: cert, ServerName: "server.test", KeyLogWriter: writerFunc(func(p []byte) { logged++ })},
			&Config{Certificate: cert, PrivateKey: key})
	}
	p := mk()
	runtime.GC()
	runtime.GC()
	p.handshake()
	if p.client.State() != StateConnected || logged == 0 {
		t.Fatalf("state %v after the configs were collected (key log lines %d)", p.client.State(), logged)
	}
	p.client.Close()
	p.server.Close()

	before := cHeapInUse()
	for i := 0; i < 200; i++ {
		p := mk()
		p.handshake() // then dropped: no Close
	}
	for i := 0; i < 5; i++ {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	after := cHeapInUse()
	t.Logf("C heap: %d before, %d after 200 dropped pairs", before, after)
	if before > 0 && after > before+200*10000 {
		t.Fatalf("dropped connections were not released: C heap grew by %d", after-before)
	}
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }
