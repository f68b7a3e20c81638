// SPDX-License-Identifier: Apache-2.0

package sdtls

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The C functions this package deliberately does not call, and why. Every
// other SDTLS_EXTERN function of sdtls.h must be referenced by the package
// (a Go file's C.name or glue.c); TestEveryFunctionIsBound fails when the
// header gains a function that is neither bound nor listed here.
var notExposed = map[string]string{
	"sdtls_conn_set_app_data": "Go keeps per-peer state in its own map; C must not hold Go pointers",
	"sdtls_conn_get_app_data": "as sdtls_conn_set_app_data",
	// Superseded in SDTLS_1.2 by the functions every binding uses.
	"sdtls_certificate_fingerprint_sha256": "sdtls_certificate_fingerprint takes the hash",
	"sdtls_fingerprint_format":             "sdtls_fingerprint_format_hash writes every hash and form",
	"sdtls_conn_peer_fingerprint_sha256":   "sdtls_conn_peer_fingerprint takes the hash",
	"sdtls_config_set_srtp_profiles":       "sdtls_config_set_srtp_profiles_list takes each name as it is",
	"sdtls_config_set_alpn":                "sdtls_config_set_alpn_list takes each name as it is",
	"sdtls_config_set_groups":              "sdtls_config_set_groups_list takes each name as it is",
}

// headerPath finds the sdtls.h the package is built against: the source
// tree's (bindings/go sits two levels below it), else the installed one.
func headerPath(t *testing.T) string {
	if p, err := filepath.Abs("../../abi/sdtls.h"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if out, err := exec.Command("pkg-config", "--variable=includedir", "sdtls").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "sdtls", "sdtls.h")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("sdtls.h not found (neither ../../abi nor pkg-config)")
	return ""
}

func readHeader(t *testing.T) string {
	b, err := os.ReadFile(headerPath(t))
	if err != nil {
		t.Fatal(err)
	}
	// Drop comments, so that prose naming a function does not count.
	return regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(string(b), "")
}

func TestEveryFunctionIsBound(t *testing.T) {
	header := readHeader(t)
	funcs := regexp.MustCompile(`SDTLS_EXTERN\s+[^;(]*?\b(sdtls_\w+)\s*\(`).FindAllStringSubmatch(header, -1)
	if len(funcs) < 50 {
		t.Fatalf("found only %d functions in the header: the parser is wrong", len(funcs))
	}
	var src strings.Builder
	files, _ := filepath.Glob("*.go")
	cfiles, _ := filepath.Glob("*.c")
	for _, f := range append(files, cfiles...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	code := src.String()
	seen := map[string]bool{}
	for _, m := range funcs {
		name := m[1]
		seen[name] = true
		used := regexp.MustCompile(`(C\.` + name + `\b|\b` + name + `\s*\()`).MatchString(code)
		_, listed := notExposed[name]
		switch {
		case !used && !listed:
			t.Errorf("%s is in sdtls.h but neither bound by the Go package nor listed in notExposed", name)
		case used && listed:
			t.Errorf("%s is bound but also listed in notExposed", name)
		}
	}
	for name := range notExposed {
		if !seen[name] {
			t.Errorf("notExposed lists %s, which sdtls.h does not declare", name)
		}
	}
	t.Logf("%d functions in sdtls.h, %d not exposed", len(funcs), len(notExposed))
}

// The structs the Go side touches: cgo's view (unsafe.Sizeof of the C
// types, and of recHeader, Go's mirror of glue.h's record) against what
// the C compiler reports from a helper in glue.c.
func TestStructLayouts(t *testing.T) {
	sizes, offsets := goLayout()
	names := map[int]string{1: "sdtls_callbacks", 2: "sdtls_server_callbacks", 3: "sdtls_srtp_keying",
		4: "sdtlsgo_rec (recHeader)", 5: "sdtls_time"}
	for k, want := range sizes {
		if got := cSizeof(k); got != want {
			t.Errorf("sizeof %s: C says %d, Go %d", names[k], got, want)
		}
	}
	for k, want := range offsets {
		if got := cOffsetof(k); got != want {
			t.Errorf("offset #%d: C says %d, Go %d", k, got, want)
		}
	}
	if sizes[1] == 0 || sizes[3] < 4*46 {
		t.Fatalf("implausible sizes %v", sizes)
	}
}

// The constants the package restates in Go against the header's values.
func TestConstantsMatchHeader(t *testing.T) {
	header := readHeader(t)
	values := map[string]int64{}
	for _, m := range regexp.MustCompile(`#define\s+(SDTLS_\w+)\s+\(?(-?(?:0x)?[0-9a-fA-F]+)\)?\s*\n`).FindAllStringSubmatch(header, -1) {
		v, err := strconv.ParseInt(m[2], 0, 64)
		if err == nil {
			values[m[1]] = v
		}
	}
	for _, m := range regexp.MustCompile(`\b(SDTLS_\w+)\s*=\s*(-?(?:0x)?[0-9a-fA-F]+)\b`).FindAllStringSubmatch(header, -1) {
		v, err := strconv.ParseInt(m[2], 0, 64)
		if err == nil {
			values[m[1]] = v
		}
	}
	want := map[string]int64{
		"SDTLS_E_INVALID_ARGUMENT": int64(CodeInvalidArgument), "SDTLS_E_NOMEM": int64(CodeNoMemory),
		"SDTLS_E_AGAIN": int64(CodeAgain), "SDTLS_E_STATE": int64(CodeState),
		"SDTLS_E_IN_CALLBACK": int64(CodeInCallback), "SDTLS_E_CLOSED": int64(CodeClosed),
		"SDTLS_E_ALERT": int64(CodeAlert), "SDTLS_E_VERIFY": int64(CodeVerify),
		"SDTLS_E_TIMEOUT": int64(CodeTimeout), "SDTLS_E_PROTOCOL": int64(CodeProtocol),
		"SDTLS_E_TOO_BIG": int64(CodeTooBig), "SDTLS_E_FILE": int64(CodeFile),
		"SDTLS_E_CREDENTIALS": int64(CodeCredentials), "SDTLS_E_FROZEN": int64(CodeFrozen),
		"SDTLS_E_UNSUPPORTED": int64(CodeUnsupported), "SDTLS_E_LIMIT": int64(CodeLimit),
		"SDTLS_E_INTERNAL": int64(CodeInternal),

		"SDTLS_CATEGORY_NONE": int64(CategoryNone), "SDTLS_CATEGORY_AGAIN": int64(CategoryAgain),
		"SDTLS_CATEGORY_CLOSED": int64(CategoryClosed), "SDTLS_CATEGORY_ALERT": int64(CategoryAlert),
		"SDTLS_CATEGORY_VERIFY": int64(CategoryVerify), "SDTLS_CATEGORY_TIMEOUT": int64(CategoryTimeout),
		"SDTLS_CATEGORY_PROTOCOL": int64(CategoryProtocol), "SDTLS_CATEGORY_USAGE": int64(CategoryUsage),
		"SDTLS_CATEGORY_INTERNAL": int64(CategoryInternal),

		"SDTLS_OPT_VERIFY_PEER": optVerifyPeer, "SDTLS_OPT_REQUIRE_CLIENT_CERT": optRequireClientCert,
		"SDTLS_OPT_MTU": optMTU, "SDTLS_OPT_INITIAL_TIMEOUT_MS": optInitialTimeout,
		"SDTLS_OPT_HANDSHAKE_TIMEOUT_MS": optHandshakeTimeout, "SDTLS_OPT_MIN_VERSION": optMinVersion,
		"SDTLS_OPT_MAX_VERSION": optMaxVersion, "SDTLS_OPT_COOKIES": optCookies,
		"SDTLS_OPT_MAX_PEERS": optMaxPeers, "SDTLS_OPT_MAX_HANDSHAKES": optMaxHandshakes,
		"SDTLS_OPT_IDLE_TIMEOUT_MS": optIdleTimeout, "SDTLS_OPT_COOKIE_LIFETIME_MS": optCookieLifetime,
		"SDTLS_OPT_PSK_ALLOW_CBC": optPSKAllowCBC, "SDTLS_OPT_SESSION_TICKETS": optSessionTickets,

		"SDTLS_FEATURE_DTLS1_2": int64(FeatureDTLS12), "SDTLS_FEATURE_DTLS1_3": int64(FeatureDTLS13),
		"SDTLS_FEATURE_COOKIE_EXCHANGE": int64(FeatureCookieExchange), "SDTLS_FEATURE_SRTP": int64(FeatureSRTP),
		"SDTLS_FEATURE_PSK": int64(FeaturePSK), "SDTLS_FEATURE_RESUMPTION": int64(FeatureResumption),
		"SDTLS_FEATURE_ALPN": int64(FeatureALPN),

		"SDTLS_ROLE_CLIENT": int64(RoleClient), "SDTLS_ROLE_SERVER": int64(RoleServer),
		"SDTLS_STATE_NEW": int64(StateNew), "SDTLS_STATE_HANDSHAKING": int64(StateHandshaking),
		"SDTLS_STATE_CONNECTED": int64(StateConnected), "SDTLS_STATE_CLOSED": int64(StateClosed),
		"SDTLS_STATE_FAILED": int64(StateFailed),

		"SDTLS_DTLS1_2": int64(VersionDTLS12), "SDTLS_DTLS1_3": int64(VersionDTLS13),
		"SDTLS_SRTP_AES128_CM_SHA1_80": int64(SRTP_AES128_CM_SHA1_80),
		"SDTLS_SRTP_AES128_CM_SHA1_32": int64(SRTP_AES128_CM_SHA1_32),
		"SDTLS_SRTP_AEAD_AES_128_GCM":  int64(SRTP_AEAD_AES_128_GCM),
		"SDTLS_SRTP_AEAD_AES_256_GCM":  int64(SRTP_AEAD_AES_256_GCM),

		// ListenerStats reads the counters by these numbers, in order.
		"SDTLS_COUNTER_COOKIES_SENT": 1, "SDTLS_COUNTER_COOKIES_REJECTED": 2,
		"SDTLS_COUNTER_CONNECTIONS_CREATED": 3, "SDTLS_COUNTER_CONNECTIONS_CLOSED": 4,
		"SDTLS_COUNTER_CONNECTIONS_EVICTED": 5, "SDTLS_COUNTER_DROPPED_MALFORMED": 6,
		"SDTLS_COUNTER_DROPPED_UNKNOWN_PEER": 7, "SDTLS_COUNTER_DROPPED_LIMIT": 8,
		"SDTLS_COUNTER_PEERS": 9,
	}
	for name, w := range want {
		got, ok := values[name]
		if !ok {
			t.Errorf("%s: not found in sdtls.h", name)
		} else if got != w {
			t.Errorf("%s: sdtls.h says %d, the Go package %d", name, got, w)
		}
	}
	// Every option, counter and error code of the header is known here.
	for name := range values {
		for _, prefix := range []string{"SDTLS_E_", "SDTLS_OPT_", "SDTLS_COUNTER_", "SDTLS_FEATURE_", "SDTLS_CATEGORY_"} {
			if strings.HasPrefix(name, prefix) {
				if _, ok := want[name]; !ok {
					t.Errorf("%s is in sdtls.h but not in the Go package", name)
				}
			}
		}
	}
	if v, s := Version(); v == 0 || !strings.Contains(s, "BoringSSL") {
		t.Errorf("version %#x %q", v, s)
	}
	for _, f := range []Feature{FeatureDTLS12, FeatureCookieExchange, FeatureSRTP, FeaturePSK, FeatureResumption, FeatureALPN} {
		if !HasFeature(f) {
			t.Errorf("feature %d missing", f)
		}
	}
}
