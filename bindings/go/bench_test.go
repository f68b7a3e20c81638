// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"bytes"
	"context"
	"crypto/tls"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/elliptic"
	dtlsnet "github.com/pion/dtls/v3/pkg/net"
	"github.com/pion/transport/v5/dpipe"
)

// The in-memory workload, the same for sdtls and pion/dtls in one run: a
// client and a server, ECDSA P-256 certificate, ECDHE over P-256 on both
// sides (Config.Groups; pion: EllipticCurves) with
// ECDHE-ECDSA-AES128-GCM-SHA256, DTLS 1.2, no cookie exchange, no
// certificate verification (both skip it), datagrams handed over in memory
// (sdtls: the sans-I/O Conn pair; pion: its datagram pipe). The handshake
// benchmark also runs both over X25519 (-x25519): each side is pinned to
// one group, and sdtls's is checked after the first handshake.
//
//	go test -run '^$' -bench . -benchmem
//
// Metrics: handshakes/s and datagrams/s of wall time, the same per second
// of the process's CPU time (user + system: pion spreads a connection over
// goroutines on several threads, sdtls runs on the caller's; on a shared
// machine CPU time is also the steadier figure), and B/pair (Go heap and
// goroutine stacks, plus for sdtls the C heap, per established idle pair).

const payload = 1200

// cpuTime is the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rates reports ops per second of wall time and of CPU time.
func rates(b *testing.B, cpu0 time.Duration, unit string) {
	n := float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), unit+"/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(n/cpu.Seconds(), unit+"/cpu-s")
	}
}

var benchCreds = sync.OnceValues(func() ([]byte, []byte) {
	cert, key, err := GenerateCertificate("bench.test", 2)
	if err != nil {
		panic(err)
	}
	return cert, key
})

// The key exchange groups benchmarked, by sdtls's name and pion's curve.
const (
	benchP256   = "P-256"
	benchX25519 = "X25519"
)

var pionCurves = map[string]elliptic.Curve{benchP256: elliptic.P256, benchX25519: elliptic.X25519}

func sdtlsBenchConfigs(group string) (client, server *Config) {
	cert, key := benchCreds()
	common := func() *Config {
		return &Config{InsecureSkipVerify: true, CipherSuites: "ECDHE-ECDSA-AES128-GCM-SHA256",
			MaxVersion: VersionDTLS12, MTU: 1500}
	}
	client, server = common(), common()
	server.Certificate, server.PrivateKey = cert, key
	server.SessionTicketsDisabled = true
	// The server offers only the group; the client also lists P-256, which
	// DTLS 1.2 needs in its list for the server's P-256 ECDSA certificate.
	server.Groups = []string{group}
	client.Groups = []string{group}
	if group != benchP256 {
		client.Groups = append(client.Groups, benchP256)
	}
	return client, server
}

func pionBenchConfigs(b testing.TB, group string) (client, server *dtls.Config) {
	cert, key := benchCreds()
	common := func() *dtls.Config {
		return &dtls.Config{
			InsecureSkipVerify:      true,
			InsecureSkipVerifyHello: true,
			CipherSuites:            []dtls.CipherSuiteID{dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
			EllipticCurves:          []elliptic.Curve{pionCurves[group]},
			MTU:                     1500,
		}
	}
	client, server = common(), common()
	server.Certificates = []tls.Certificate{pionCert(b, cert, key)}
	return client, server
}

// sdtlsWarmUp compiles the configs with a first handshake and checks that
// it used the group asked for.
func sdtlsWarmUp(b testing.TB, ccfg, scfg *Config, group string) {
	p := sdtlsHandshake(b, ccfg, scfg)
	defer p.client.Close()
	defer p.server.Close()
	if g := p.client.ConnectionState().Group; g != group {
		b.Fatalf("negotiated %q, want %q", g, group)
	}
}

func sdtlsHandshake(b testing.TB, ccfg, scfg *Config) *pair {
	p := newPairNoCleanup(b, ccfg, scfg)
	p.handshake()
	if p.client.State() != StateConnected || p.server.State() != StateConnected {
		b.Fatalf("handshake: %v %v", p.client.State(), p.server.State())
	}
	return p
}

type pionPair struct{ client, server *dtls.Conn }

func (p pionPair) Close() {
	p.client.Close()
	p.server.Close()
}

func pionHandshake(b testing.TB, ccfg, scfg *dtls.Config) pionPair {
	ca, cb := dpipe.Pipe()
	client, err := dtls.Client(dtlsnet.PacketConnFromConn(ca), ca.RemoteAddr(), ccfg)
	if err != nil {
		b.Fatal(err)
	}
	server, err := dtls.Server(dtlsnet.PacketConnFromConn(cb), cb.RemoteAddr(), scfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- server.HandshakeContext(ctx) }()
	if err := client.HandshakeContext(ctx); err != nil {
		b.Fatal(err)
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	return pionPair{client, server}
}

func BenchmarkHandshake(b *testing.B) {
	sdtlsRun := func(group string) func(b *testing.B) {
		return func(b *testing.B) {
			ccfg, scfg := sdtlsBenchConfigs(group)
			sdtlsWarmUp(b, ccfg, scfg, group)
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				p := sdtlsHandshake(b, ccfg, scfg)
				p.client.Close()
				p.server.Close()
			}
			rates(b, cpu0, "handshakes")
		}
	}
	pionRun := func(group string) func(b *testing.B) {
		return func(b *testing.B) {
			ccfg, scfg := pionBenchConfigs(b, group)
			pionHandshake(b, ccfg, scfg).Close()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				pionHandshake(b, ccfg, scfg).Close()
			}
			rates(b, cpu0, "handshakes")
		}
	}
	b.Run("sdtls", sdtlsRun(benchP256))
	b.Run("pion", pionRun(benchP256))
	b.Run("sdtls-x25519", sdtlsRun(benchX25519))
	b.Run("pion-x25519", pionRun(benchX25519))
}

func BenchmarkDatagram1200(b *testing.B) {
	msg := bytes.Repeat([]byte{'d'}, payload)
	b.Run("sdtls", func(b *testing.B) {
		ccfg, scfg := sdtlsBenchConfigs(benchP256)
		sdtlsWarmUp(b, ccfg, scfg, benchP256)
		p := sdtlsHandshake(b, ccfg, scfg)
		defer p.client.Close()
		defer p.server.Close()
		b.SetBytes(payload)
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			if err := p.client.Send(msg, p.now); err != nil {
				b.Fatal(err)
			}
			if err := p.server.Receive(p.client.NextDatagram(), p.now); err != nil {
				b.Fatal(err)
			}
			if e, ok := p.server.NextEvent(); !ok || len(e.Data) != payload {
				b.Fatal("no data")
			}
		}
		rates(b, cpu0, "datagrams")
	})
	b.Run("pion", func(b *testing.B) {
		ccfg, scfg := pionBenchConfigs(b, benchP256)
		p := pionHandshake(b, ccfg, scfg)
		defer p.Close()
		buf := make([]byte, 2048)
		b.SetBytes(payload)
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			if _, err := p.client.Write(msg); err != nil {
				b.Fatal(err)
			}
			if n, err := p.server.Read(buf); err != nil || n != payload {
				b.Fatal(n, err)
			}
		}
		rates(b, cpu0, "datagrams")
	})
}

// memInUse is the Go heap and goroutine stacks in use, after a GC.
func memInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}

const idlePairs = 100

// BenchmarkIdlePair measures the memory an established, idle pair holds.
// Each iteration makes idlePairs pairs.
func BenchmarkIdlePair(b *testing.B) {
	b.Run("sdtls", func(b *testing.B) {
		ccfg, scfg := sdtlsBenchConfigs(benchP256)
		sdtlsWarmUp(b, ccfg, scfg, benchP256)
		var total float64
		for i := 0; i < b.N; i++ {
			goBefore, cBefore := memInUse(), cHeapInUse()
			pairs := make([]*pair, idlePairs)
			for j := range pairs {
				pairs[j] = sdtlsHandshake(b, ccfg, scfg)
			}
			goAfter, cAfter := memInUse(), cHeapInUse()
			total += (float64(goAfter) - float64(goBefore) + float64(cAfter) - float64(cBefore)) / idlePairs
			for _, p := range pairs {
				p.client.Close()
				p.server.Close()
			}
		}
		b.ReportMetric(total/float64(b.N), "B/pair")
	})
	b.Run("pion", func(b *testing.B) {
		ccfg, scfg := pionBenchConfigs(b, benchP256)
		var total float64
		for i := 0; i < b.N; i++ {
			before := memInUse()
			pairs := make([]pionPair, idlePairs)
			for j := range pairs {
				pairs[j] = pionHandshake(b, ccfg, scfg)
			}
			after := memInUse()
			total += (float64(after) - float64(before)) / idlePairs
			for _, p := range pairs {
				p.Close()
			}
		}
		b.ReportMetric(total/float64(b.N), "B/pair")
	})
}
