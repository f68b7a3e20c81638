// SPDX-License-Identifier: Apache-2.0

package sdtls

// All calls into the C library are in this file (and the trampolines in
// glue.c); the rest of the package uses the small wrappers below.

/*
#include <stdlib.h>
#include <string.h>
#include "glue.h"
*/
import "C"

import (
	"runtime/cgo"
	"strings"
	"time"
	"unsafe"
)

// ---- time ----

// The C library's clock, by the rule of sdtls.h ("Time") that every
// binding follows: nanoseconds since the UNIX epoch, read from the wall
// clock once (at start-up) and advanced by the monotonic clock (Go's
// monotonic reading, which time.Time.Sub uses). It never goes backwards in
// a process, and sessions and cookies carry a time that other processes and
// hosts share.
var (
	epoch     = time.Now()
	epochWall = uint64(epoch.UnixNano())
)

const timeNever = uint64(C.SDTLS_TIME_NEVER)

// cTime is the C library's time for t (see above).
func cTime(t time.Time) C.sdtls_time {
	d := t.Sub(epoch)
	if d < 0 && uint64(-d) > epochWall {
		return 0
	}
	return C.sdtls_time(epochWall + uint64(d))
}

// goTime converts a deadline; the zero Time means no deadline.
func goTime(t uint64) time.Time {
	if t == timeNever {
		return time.Time{}
	}
	return epoch.Add(time.Duration(t - epochWall))
}

// ---- helpers ----

func bptr(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(b)))
}

func strerror(rc int) string        { return C.GoString(C.sdtls_strerror(C.int(rc))) }
func errorCategory(rc int) Category { return Category(C.sdtls_error_category(C.int(rc))) }

// cstring calls fn with s as a C string, freed after.
func withCString(s string, fn func(*C.char) C.int) int {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	return int(fn(cs))
}

func goStringOrEmpty(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

// ---- library ----

func libVersion() (uint32, string) {
	var s *C.char
	v := C.sdtls_version(&s)
	return uint32(v), goStringOrEmpty(s)
}

func hasFeature(f Feature) bool { return C.sdtls_has_feature(C.sdtls_feature(f)) == 1 }

func generateCertificate(commonName string, days uint) (cert, key []byte, rc int) {
	var cp, kp *C.char
	rc = withCString(commonName, func(cn *C.char) C.int {
		return C.sdtls_certificate_generate(cn, C.uint(days), &cp, &kp)
	})
	if rc != 0 {
		return nil, nil, rc
	}
	cert = []byte(C.GoString(cp))
	key = []byte(C.GoString(kp))
	C.sdtls_free(unsafe.Pointer(cp))
	C.sdtls_free(unsafe.Pointer(kp))
	return cert, key, 0
}

// The C library's hash ids and text forms (sdtls_fingerprint_*).
var hashIDs = map[string]int{
	HashSHA256: int(C.SDTLS_HASH_SHA256),
	HashSHA384: int(C.SDTLS_HASH_SHA384),
	HashSHA512: int(C.SDTLS_HASH_SHA512),
}

const (
	formSDP  = int(C.SDTLS_FINGERPRINT_SDP)
	formBare = int(C.SDTLS_FINGERPRINT_BARE)
)

func certificateFingerprint(pem []byte, hash int) ([]byte, int) {
	var d [C.SDTLS_FINGERPRINT_MAX_DIGEST]byte
	var n C.size_t
	rc := int(C.sdtls_certificate_fingerprint(bptr(pem), C.size_t(len(pem)), C.int(hash),
		(*C.uint8_t)(unsafe.Pointer(&d[0])), &n))
	if rc != 0 {
		return nil, rc
	}
	return append([]byte(nil), d[:n]...), 0
}

// parseFingerprint is sdtls_fingerprint_parse. A string with a NUL byte
// (which C would see cut short) is refused.
func parseFingerprint(s string) (hash int, digest []byte, rc int) {
	if strings.IndexByte(s, 0) >= 0 {
		return 0, nil, int(C.SDTLS_E_INVALID_ARGUMENT)
	}
	var d [C.SDTLS_FINGERPRINT_MAX_DIGEST]byte
	var n C.size_t
	var h C.int
	rc = withCString(s, func(cs *C.char) C.int {
		return C.sdtls_fingerprint_parse(cs, &h, (*C.uint8_t)(unsafe.Pointer(&d[0])), &n)
	})
	if rc != 0 {
		return 0, nil, rc
	}
	return int(h), append([]byte(nil), d[:n]...), 0
}

// formatFingerprint is sdtls_fingerprint_format_hash ("" when refused).
func formatFingerprint(hash int, digest []byte, form int) string {
	var out [C.SDTLS_FINGERPRINT_MAX_TEXT]C.char
	if len(digest) == 0 || C.sdtls_fingerprint_format_hash(C.int(hash), (*C.uint8_t)(unsafe.Pointer(&digest[0])),
		C.size_t(len(digest)), C.int(form), &out[0], C.size_t(len(out))) != 0 {
		return ""
	}
	return C.GoString(&out[0])
}

// withCStrings calls fn with names as a C array of C strings, freed after.
// A name with a NUL byte (which C would see cut short) is refused.
func withCStrings(names []string, fn func(**C.char, C.size_t) C.int) int {
	if len(names) == 0 {
		return int(C.SDTLS_E_INVALID_ARGUMENT)
	}
	arr := (*[1 << 20]*C.char)(C.calloc(C.size_t(len(names)), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	if arr == nil {
		return int(C.SDTLS_E_NOMEM)
	}
	defer func() {
		for i := range names {
			C.free(unsafe.Pointer(arr[i]))
		}
		C.free(unsafe.Pointer(arr))
	}()
	for i, s := range names {
		if strings.IndexByte(s, 0) >= 0 {
			return int(C.SDTLS_E_INVALID_ARGUMENT)
		}
		arr[i] = C.CString(s)
	}
	return int(fn(&arr[0], C.size_t(len(names))))
}

// classify is sdtls_classify: C reads only the first byte, during the call.
func classify(datagram []byte) PacketKind {
	if len(datagram) == 0 {
		return PacketUnknown
	}
	return PacketKind(C.sdtls_classify((*C.uint8_t)(unsafe.Pointer(&datagram[0])), C.size_t(len(datagram))))
}

func srtpProfileName(p SRTPProfile) string {
	return goStringOrEmpty(C.sdtls_srtp_profile_name(C.int(p)))
}

// ---- config ----

type cconfig struct{ p *C.sdtls_config }

func newCConfig() (*cconfig, int) {
	c := &cconfig{}
	if rc := C.sdtls_config_new(&c.p); rc != 0 {
		return nil, int(rc)
	}
	return c, 0
}

func (c *cconfig) free() { C.sdtls_config_free(c.p); c.p = nil }

func (c *cconfig) setOption(opt int, v int64) int {
	return int(C.sdtls_config_set_option(c.p, C.sdtls_option(opt), C.int64_t(v)))
}

func (c *cconfig) getOption(opt int) (int64, int) {
	var v C.int64_t
	rc := C.sdtls_config_get_option(c.p, C.sdtls_option(opt), &v)
	return int64(v), int(rc)
}

func (c *cconfig) setCertificatePEM(cert, key []byte) int {
	return int(C.sdtls_config_set_certificate_pem(c.p, bptr(cert), C.size_t(len(cert)), bptr(key), C.size_t(len(key))))
}

func (c *cconfig) setCertificateFile(cert, key string) int {
	cc, kc := C.CString(cert), C.CString(key)
	defer C.free(unsafe.Pointer(cc))
	defer C.free(unsafe.Pointer(kc))
	return int(C.sdtls_config_set_certificate_file(c.p, cc, kc))
}

func (c *cconfig) setCA(file, dir string) int {
	var fc, dc *C.char
	if file != "" {
		fc = C.CString(file)
		defer C.free(unsafe.Pointer(fc))
	}
	if dir != "" {
		dc = C.CString(dir)
		defer C.free(unsafe.Pointer(dc))
	}
	return int(C.sdtls_config_set_ca(c.p, fc, dc))
}

func (c *cconfig) setCAPEM(pem []byte) int {
	return int(C.sdtls_config_set_ca_pem(c.p, bptr(pem), C.size_t(len(pem))))
}

func (c *cconfig) setCiphers(s string) int {
	return withCString(s, func(cs *C.char) C.int { return C.sdtls_config_set_ciphers(c.p, cs) })
}

func (c *cconfig) setGroups(names []string) int {
	return withCStrings(names, func(a **C.char, n C.size_t) C.int { return C.sdtls_config_set_groups_list(c.p, a, n) })
}

func (c *cconfig) setSRTPProfiles(names []string) int {
	return withCStrings(names, func(a **C.char, n C.size_t) C.int {
		return C.sdtls_config_set_srtp_profiles_list(c.p, a, n)
	})
}

func (c *cconfig) addPeerFingerprint(s string) int {
	return withCString(s, func(cs *C.char) C.int { return C.sdtls_config_add_peer_fingerprint(c.p, cs) })
}

func (c *cconfig) addPSK(identity string, key []byte) int {
	return withCString(identity, func(cs *C.char) C.int {
		return C.sdtls_config_add_psk(c.p, cs, bptr(key), C.size_t(len(key)))
	})
}

func (c *cconfig) setPSKIdentityHint(s string) int {
	return withCString(s, func(cs *C.char) C.int { return C.sdtls_config_set_psk_identity_hint(c.p, cs) })
}

func (c *cconfig) setALPN(names []string) int {
	return withCStrings(names, func(a **C.char, n C.size_t) C.int { return C.sdtls_config_set_alpn_list(c.p, a, n) })
}

func (c *cconfig) setTicketSecret(b []byte) int {
	return int(C.sdtls_config_set_ticket_secret(c.p, bptr(b), C.size_t(len(b))))
}

func (c *cconfig) setPSKLookup(h cgo.Handle) int {
	return int(C.sdtlsgo_config_set_psk_lookup(c.p, C.uintptr_t(h)))
}

func (c *cconfig) setKeylog(h cgo.Handle) int {
	return int(C.sdtlsgo_config_set_keylog(c.p, C.uintptr_t(h)))
}

// ---- queues ----

// recHeader mirrors sdtlsgo_rec (glue.h); TestDeclarations checks it.
type recHeader struct {
	kind    uint32
	reason  int32
	addrLen uint32
	length  uint32
	conn    *C.sdtls_conn
}

const (
	recSend    = C.SDTLSGO_SEND
	recData    = C.SDTLSGO_DATA
	recDone    = C.SDTLSGO_DONE
	recClose   = C.SDTLSGO_CLOSE
	recConnect = C.SDTLSGO_CONNECT
	recSize    = int(unsafe.Sizeof(recHeader{}))
)

type box struct{ p *C.sdtlsgo_box }

func newBox() box { return box{C.sdtlsgo_box_new()} }

func (b box) free() {
	if b.p.panicked != 0 {
		callbackPanics.Delete(uintptr(unsafe.Pointer(b.p)))
	}
	C.sdtlsgo_box_free(b.p)
}

// take appends what the callbacks queued to dst and empties the queue.
// It reads C memory directly: no call into C unless the queue was large.
func (b box) take(dst []byte) []byte {
	n := int(b.p.len)
	if n == 0 {
		return dst
	}
	dst = append(dst, unsafe.Slice((*byte)(unsafe.Pointer(b.p.buf)), n)...)
	if b.p.cap > 64*1024 {
		C.sdtlsgo_box_reset(b.p)
	} else {
		b.p.len = 0
	}
	return dst
}

// nextRecord splits the first record off buf.
func nextRecord(buf []byte) (h recHeader, addr, payload, rest []byte) {
	h = *(*recHeader)(unsafe.Pointer(unsafe.SliceData(buf)))
	a := recSize + int(h.addrLen)
	end := a + int(h.length)
	total := recSize + (int(h.addrLen)+int(h.length)+7)&^7
	return h, buf[recSize:a:a], buf[a:end:end], buf[total:]
}

// ---- connections ----

// cconn is a connection handle: made by newCConn (ours to free) or handed
// out by a server (the server's; box is the server's).
type cconn struct {
	p   *C.sdtls_conn
	box box
}

func newCConn(cfg *cconfig, role Role) (cconn, int) {
	b := newBox()
	if b.p == nil {
		return cconn{}, int(CodeNoMemory)
	}
	var p *C.sdtls_conn
	if rc := C.sdtlsgo_conn_new(cfg.p, C.int(role), b.p, &p); rc != 0 {
		b.free()
		return cconn{}, int(rc)
	}
	return cconn{p, b}, 0
}

func (c cconn) free() {
	C.sdtls_conn_free(c.p)
	c.box.free()
}

func (c cconn) start(now time.Time) (int, uint64) {
	var d C.sdtls_time
	rc := C.sdtlsgo_conn_start(c.p, c.box.p, cTime(now), &d)
	return int(rc), uint64(d)
}

func (c cconn) receive(b []byte, now time.Time) (int, uint64) {
	var d C.sdtls_time
	rc := C.sdtlsgo_conn_receive(c.p, c.box.p, bptr(b), C.size_t(len(b)), cTime(now), &d)
	return int(rc), uint64(d)
}

func (c cconn) send(b []byte, now time.Time) (int, uint64) {
	var d C.sdtls_time
	rc := C.sdtlsgo_conn_send(c.p, c.box.p, bptr(b), C.size_t(len(b)), cTime(now), &d)
	return int(rc), uint64(d)
}

func (c cconn) handleTimeout(now time.Time) (int, uint64) {
	var d C.sdtls_time
	rc := C.sdtlsgo_conn_handle_timeout(c.p, c.box.p, cTime(now), &d)
	return int(rc), uint64(d)
}

func (c cconn) keyUpdate(now time.Time) (int, uint64) {
	var d C.sdtls_time
	rc := C.sdtlsgo_conn_key_update(c.p, c.box.p, cTime(now), &d)
	return int(rc), uint64(d)
}

func (c cconn) nextDeadline() uint64 { return uint64(C.sdtls_conn_next_deadline(c.p)) }

func (c cconn) close(now time.Time) int { return int(C.sdtls_conn_close(c.p, cTime(now))) }

func (c cconn) state() State        { return State(C.sdtls_conn_state(c.p)) }
func (c cconn) role() Role          { return Role(C.sdtls_conn_role(c.p)) }
func (c cconn) errorCode() int      { return int(C.sdtls_conn_error(c.p)) }
func (c cconn) errorDetail() string { return goStringOrEmpty(C.sdtls_conn_error_detail(c.p)) }
func (c cconn) maxDataSize() int    { return int(C.sdtls_conn_max_data_size(c.p)) }

func (c cconn) setServerName(s string) int {
	return withCString(s, func(cs *C.char) C.int { return C.sdtls_conn_set_server_name(c.p, cs) })
}

func (c cconn) peerFingerprint(hash string) (CertificateFingerprint, int) {
	h, ok := hashIDs[hash]
	if !ok {
		return CertificateFingerprint{}, int(C.SDTLS_E_INVALID_ARGUMENT)
	}
	var d [C.SDTLS_FINGERPRINT_MAX_DIGEST]byte
	var n C.size_t
	rc := int(C.sdtls_conn_peer_fingerprint(c.p, C.int(h), (*C.uint8_t)(unsafe.Pointer(&d[0])), &n))
	if rc != 0 {
		return CertificateFingerprint{}, rc
	}
	return CertificateFingerprint{Hash: hash, Digest: append([]byte(nil), d[:n]...)}, 0
}

func (c cconn) addPeerFingerprint(s string) int {
	return withCString(s, func(cs *C.char) C.int { return C.sdtls_conn_add_peer_fingerprint(c.p, cs) })
}

func (c cconn) setSession(b []byte) int {
	if len(b) == 0 {
		return int(CodeInvalidArgument)
	}
	return int(C.sdtls_conn_set_session(c.p, bptr(b), C.size_t(len(b))))
}

func (c cconn) session() ([]byte, int) {
	var p *C.uint8_t
	var n C.size_t
	if rc := C.sdtls_conn_get_session(c.p, &p, &n); rc != 0 {
		return nil, int(rc)
	}
	out := C.GoBytes(unsafe.Pointer(p), C.int(n))
	C.sdtls_free(unsafe.Pointer(p))
	return out, 0
}

func (c cconn) connectionState() ConnectionState {
	s := ConnectionState{
		Version:     goStringOrEmpty(C.sdtls_conn_version(c.p)),
		CipherSuite: goStringOrEmpty(C.sdtls_conn_cipher(c.p)),
		ALPN:        goStringOrEmpty(C.sdtls_conn_alpn(c.p)),
		Group:       goStringOrEmpty(C.sdtls_conn_group(c.p)),
		PSKIdentity: goStringOrEmpty(C.sdtls_conn_psk_identity(c.p)),
		Resumed:     C.sdtls_conn_session_resumed(c.p) == 1,
		SRTPProfile: SRTPProfile(C.sdtls_conn_srtp_profile(c.p)),
	}
	var der *C.uint8_t
	var n C.size_t
	if C.sdtls_conn_peer_certificate(c.p, &der, &n) == 0 {
		s.PeerCertificate = C.GoBytes(unsafe.Pointer(der), C.int(n))
		if fp, rc := c.peerFingerprint(HashSHA256); rc == 0 {
			s.PeerFingerprint = fp.String()
		}
	}
	return s
}

func (c cconn) exportKeyingMaterial(label string, context []byte, hasContext bool, n int) ([]byte, int) {
	out := make([]byte, n)
	lb := []byte(label)
	var ctx *C.uint8_t
	if hasContext {
		ctx = bptr(context)
		if ctx == nil {
			// An empty context differs from none: pass a valid pointer.
			var zero [1]byte
			ctx = (*C.uint8_t)(unsafe.Pointer(&zero[0]))
		}
	}
	rc := C.sdtls_conn_export_keying_material(c.p, bptr(out), C.size_t(n),
		(*C.char)(unsafe.Pointer(bptr(lb))), C.size_t(len(lb)), ctx, C.size_t(len(context)))
	if rc != 0 {
		return nil, int(rc)
	}
	return out, 0
}

func (c cconn) srtpKeying() (*SRTPKeying, int) {
	var k C.sdtls_srtp_keying
	k.size = C.size_t(unsafe.Sizeof(k))
	if rc := C.sdtls_conn_srtp_keying(c.p, &k); rc != 0 {
		return nil, int(rc)
	}
	n := int(k.key_len + k.salt_len)
	cp := func(a *[C.SDTLS_SRTP_MAX_MASTER_LEN]C.uint8_t) []byte {
		return C.GoBytes(unsafe.Pointer(&a[0]), C.int(n))
	}
	out := &SRTPKeying{
		Profile:     SRTPProfile(k.profile),
		KeyLen:      int(k.key_len),
		SaltLen:     int(k.salt_len),
		ClientWrite: cp(&k.client_write),
		ServerWrite: cp(&k.server_write),
		LocalWrite:  cp(&k.local_write),
		RemoteWrite: cp(&k.remote_write),
	}
	// Wipe the C copy on the stack.
	C.memset(unsafe.Pointer(&k), 0, C.size_t(unsafe.Sizeof(k)))
	return out, 0
}

// ---- servers ----

type cserver struct {
	p   *C.sdtls_server
	box box
}

func newCServer(cfg *cconfig) (cserver, int) {
	b := newBox()
	if b.p == nil {
		return cserver{}, int(CodeNoMemory)
	}
	var p *C.sdtls_server
	if rc := C.sdtlsgo_server_new(cfg.p, b.p, &p); rc != 0 {
		b.free()
		return cserver{}, int(rc)
	}
	return cserver{p, b}, 0
}

func (s cserver) free() {
	C.sdtls_server_free(s.p)
	s.box.free()
}

func (s cserver) receive(addr, b []byte, now time.Time) (int, uint64) {
	var d C.sdtls_time
	rc := C.sdtlsgo_server_receive(s.p, s.box.p, bptr(addr), C.size_t(len(addr)), bptr(b), C.size_t(len(b)), cTime(now), &d)
	return int(rc), uint64(d)
}

func (s cserver) handleTimeout(now time.Time) (int, uint64) {
	var d C.sdtls_time
	rc := C.sdtlsgo_server_handle_timeout(s.p, s.box.p, cTime(now), &d)
	return int(rc), uint64(d)
}

// setOnConnect installs the hook (a cgo.Handle of a
// func(net.Addr) ([]string, error)) that glue.c's on_connect calls; 0
// removes it. Before the server is first fed, or under its lock.
func (s cserver) setOnConnect(h cgo.Handle) { s.box.p.on_connect = C.uintptr_t(h) }

func (s cserver) nextDeadline() uint64 { return uint64(C.sdtls_server_next_deadline(s.p)) }

func (s cserver) closePeer(c cconn, now time.Time) int {
	return int(C.sdtls_server_close_peer(s.p, c.p, cTime(now)))
}

func (s cserver) counter(which int) uint64 {
	return uint64(C.sdtls_server_counter_get(s.p, C.sdtls_server_counter(which)))
}

func (s cserver) setCookieSecret(b []byte, now time.Time) int {
	return int(C.sdtls_server_set_cookie_secret(s.p, bptr(b), C.size_t(len(b)), cTime(now)))
}

func (s cserver) pinPeer(addr []byte, fingerprint string) int {
	return withCString(fingerprint, func(cs *C.char) C.int {
		return C.sdtls_server_pin_peer(s.p, bptr(addr), C.size_t(len(addr)), cs)
	})
}

func (s cserver) unpinPeer(addr []byte) int {
	return int(C.sdtls_server_unpin_peer(s.p, bptr(addr), C.size_t(len(addr))))
}

// conn makes the handle of one of the server's connections from a record.
func (s cserver) conn(h recHeader) cconn { return cconn{h.conn, s.box} }

// peerAddress is the address the server knows the connection by.
func (c cconn) peerAddress() []byte {
	var p *C.uint8_t
	var n C.size_t
	if C.sdtls_conn_peer_address(c.p, &p, &n) != 0 {
		return nil
	}
	return C.GoBytes(unsafe.Pointer(p), C.int(n))
}

// ---- for tests ----

func cSizeof(which int) uintptr   { return uintptr(C.sdtlsgo_c_sizeof(C.int(which))) }
func cOffsetof(which int) uintptr { return uintptr(C.sdtlsgo_c_offsetof(C.int(which))) }
func cHeapInUse() uint64          { return uint64(C.sdtlsgo_c_heap_in_use()) }

// goLayout is cgo's view of the same structs, for TestDeclarations.
func goLayout() (sizes map[int]uintptr, offsets map[int]uintptr) {
	var k C.sdtls_srtp_keying
	var r recHeader
	var sc C.sdtls_server_callbacks
	var cc C.sdtls_callbacks
	sizes = map[int]uintptr{
		1: unsafe.Sizeof(C.sdtls_callbacks{}),
		2: unsafe.Sizeof(C.sdtls_server_callbacks{}),
		3: unsafe.Sizeof(k),
		4: unsafe.Sizeof(r),
		5: unsafe.Sizeof(C.sdtls_time(0)),
	}
	offsets = map[int]uintptr{
		1:  unsafe.Offsetof(k.profile),
		2:  unsafe.Offsetof(k.key_len),
		3:  unsafe.Offsetof(k.salt_len),
		4:  unsafe.Offsetof(k.client_write),
		5:  unsafe.Offsetof(k.server_write),
		6:  unsafe.Offsetof(k.local_write),
		7:  unsafe.Offsetof(k.remote_write),
		8:  unsafe.Offsetof(r.reason),
		9:  unsafe.Offsetof(r.addrLen),
		10: unsafe.Offsetof(r.length),
		11: unsafe.Offsetof(r.conn),
		12: unsafe.Offsetof(sc.on_close),
		13: unsafe.Offsetof(cc.on_close),
	}
	return sizes, offsets
}
