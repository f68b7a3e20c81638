/* SPDX-License-Identifier: Apache-2.0 */
/* Secure defaults, through the public API over the simulator:
 *   - a default client (verification on) refuses a server certificate it
 *     does not trust, and a trusted one for another name;
 *   - DTLS 1.0 cannot be configured, and a server refuses a ClientHello
 *     that offers only DTLS 1.0 (a real client's ClientHello with its
 *     versions rewritten);
 *   - non-AEAD or non-ECDHE suites cannot be configured, and a server
 *     refuses a ClientHello that offers only such suites. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "netsim.h"
#include "sdtls.h"
#include "simpeer.h"
#include "testcert.h"

#define MS NETSIM_MS
#define SEC NETSIM_SEC

static testcert server_cert, other_cert;

static void handshake_expect(sdtls_config *cc, sdtls_config *sc, const char *name, int expect_client_error) {
  fixture fx;
  REQUIRE(fixture_init(&fx, 7, 1000 * SEC, cc, sc));
  if (!fixture_conns(&fx)) {
    fixture_teardown(&fx);
    CHECK_FAIL_("fixture_conns");
    return;
  }
  REQUIRE(sdtls_conn_set_server_name(CLIENT(&fx), name) == 0);
  int connected = pair_handshake(fx.p, 10 * SEC);
  if (expect_client_error == 0) {
    CHECKF(connected, "handshake with %s failed: %s", name, sdtls_conn_error_detail(CLIENT(&fx)));
  } else {
    CHECKF(!connected, "a default client accepted the certificate for %s", name);
    CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_FAILED);
    CHECK_EQ(sdtls_conn_error(CLIENT(&fx)), expect_client_error);
    CHECK_EQ(fx.p[0].handshake_done, 0);
  }
  fixture_teardown(&fx);
}

static void test_default_client_verifies(void) {
  /* Trusts server_cert ("server.test"); nothing set but the trust anchor. */
  handshake_expect(config_make(NULL, 1, &server_cert), config_make(&server_cert, 0, NULL), "server.test", 0);
  /* No trust anchor at all: the default refuses. */
  sdtls_config *cc = NULL;
  REQUIRE(sdtls_config_new(&cc) == 0);
  handshake_expect(cc, config_make(&server_cert, 0, NULL), "server.test", SDTLS_E_VERIFY);
  /* Trusts another certificate. */
  handshake_expect(config_make(NULL, 1, &other_cert), config_make(&server_cert, 0, NULL), "server.test",
                   SDTLS_E_VERIFY);
  /* The right certificate, the wrong name. */
  handshake_expect(config_make(NULL, 1, &server_cert), config_make(&server_cert, 0, NULL), "other.test",
                   SDTLS_E_VERIFY);
  /* And a verifying client without a name does not start. */
  sdtls_config *c2 = NULL;
  REQUIRE(sdtls_config_new(&c2) == 0);
  peer p;
  netsim *sim = netsim_new(1, SEC);
  peer_init(&p, sim, NETSIM_A, "client");
  REQUIRE(peer_connect_new(&p, c2, SDTLS_ROLE_CLIENT) == 0);
  CHECK_EQ(sdtls_conn_start(p.conn, SEC), SDTLS_E_STATE);
  peer_cleanup(&p);
  netsim_free(sim);
  sdtls_config_free(c2);
}

static void test_versions_and_suites_refused_in_config(void) {
  sdtls_config *c = NULL;
  REQUIRE(sdtls_config_new(&c) == 0);
  int64_t v = 0;
  CHECK_EQ(sdtls_config_get_option(c, SDTLS_OPT_VERIFY_PEER, &v), 0);
  CHECK_EQ(v, 1);
  CHECK_EQ(sdtls_config_get_option(c, SDTLS_OPT_MIN_VERSION, &v), 0);
  CHECK_EQ(v, SDTLS_DTLS1_2);
  CHECK_EQ(sdtls_config_set_option(c, SDTLS_OPT_MIN_VERSION, 0xfeff), SDTLS_E_INVALID_ARGUMENT); /* DTLS 1.0 */
  CHECK_EQ(sdtls_config_set_option(c, SDTLS_OPT_MAX_VERSION, 0xfeff), SDTLS_E_INVALID_ARGUMENT);
  static const char *const weak[] = {"AES128-SHA", "AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA",
                                     "ECDHE-ECDSA-AES128-GCM-SHA256:AES128-SHA", "ALL", "DEFAULT"};
  for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++)
    CHECKF(sdtls_config_set_ciphers(c, weak[i]) == SDTLS_E_INVALID_ARGUMENT, "accepted \"%s\"", weak[i]);
  CHECK_EQ(sdtls_config_set_ciphers(c, "ECDHE-ECDSA-CHACHA20-POLY1305"), 0);
  sdtls_config_free(c);
}

/* ---- crafted ClientHellos against a default server connection ---- */

typedef struct capture {
  uint8_t data[2048];
  size_t len;
  int sends;
} capture;

static int capture_send(void *user, const uint8_t *d, size_t len) {
  capture *c = user;
  if (c->sends++ == 0 && len <= sizeof(c->data)) {
    memcpy(c->data, d, len);
    c->len = len;
  }
  return 0;
}

/* A real sdtls client's first ClientHello (one record, unfragmented). */
static size_t real_client_hello(uint8_t *out, size_t cap) {
  sdtls_config *cc = config_make(NULL, 0, NULL);
  capture cap_;
  memset(&cap_, 0, sizeof(cap_));
  sdtls_callbacks cb = {sizeof(cb), capture_send, NULL, NULL, NULL};
  sdtls_conn *c = NULL;
  size_t n = 0;
  if (cc != NULL && sdtls_conn_new(cc, SDTLS_ROLE_CLIENT, &cb, &cap_, &c) == 0 && sdtls_conn_start(c, SEC) == 0 &&
      cap_.len <= cap) {
    memcpy(out, cap_.data, cap_.len);
    n = cap_.len;
  }
  sdtls_conn_free(c);
  sdtls_config_free(cc);
  return n;
}

/* Offsets in the ClientHello record: record header 13, handshake header
 * 12, then client_version(2) random(32) session_id(1+n) cookie(1+n)
 * cipher_suites(2+n). */
static size_t suites_offset(const uint8_t *ch) {
  size_t off = 13 + 12 + 2 + 32;
  off += 1 + ch[off]; /* session id */
  off += 1 + ch[off]; /* cookie */
  return off;
}

static int server_fails_on(const uint8_t *ch, size_t len, int *error) {
  sdtls_config *sc = config_make(&server_cert, 0, NULL);
  capture out;
  memset(&out, 0, sizeof(out));
  sdtls_callbacks cb = {sizeof(cb), capture_send, NULL, NULL, NULL};
  sdtls_conn *s = NULL;
  int failed = 0;
  if (sc != NULL && sdtls_conn_new(sc, SDTLS_ROLE_SERVER, &cb, &out, &s) == 0) {
    sdtls_conn_receive(s, ch, len, SEC);
    failed = sdtls_conn_state(s) == SDTLS_STATE_FAILED;
    *error = sdtls_conn_error(s);
    /* A fatal alert went back, no ServerHello: record type 21. */
    if (out.sends > 0 && out.data[0] != 21) failed = 0;
  }
  sdtls_conn_free(s);
  sdtls_config_free(sc);
  return failed;
}

static void test_server_refuses_dtls10(void) {
  uint8_t ch[2048];
  size_t n = real_client_hello(ch, sizeof(ch));
  REQUIRE(n > 13 + 12 + 2);
  int err = 0;
  /* Control: the unmodified ClientHello is accepted (no failure). */
  CHECK(!server_fails_on(ch, n, &err));
  /* DTLS 1.0 (0xfeff) as client_version and record version, and no
   * supported_versions extension (the client offers DTLS 1.2 only, so it
   * sends none). */
  ch[1] = 0xfe;
  ch[2] = 0xff;
  ch[25] = 0xfe;
  ch[26] = 0xff;
  CHECK(server_fails_on(ch, n, &err));
  CHECK(err == SDTLS_E_PROTOCOL || err == SDTLS_E_ALERT);
}

static void test_server_refuses_weak_suites(void) {
  uint8_t ch[2048];
  size_t n = real_client_hello(ch, sizeof(ch));
  REQUIRE(n > 100);
  size_t off = suites_offset(ch);
  REQUIRE(off + 2 < n);
  size_t suites_len = (size_t)ch[off] << 8 | ch[off + 1];
  REQUIRE(suites_len >= 4 && off + 2 + suites_len < n);
  /* Every suite the client offered becomes a non-AEAD (CBC, SHA-1) or
   * non-ECDHE one; the renegotiation SCSV (0x00ff) stays. */
  static const uint8_t weak[][2] = {{0xc0, 0x13}, {0xc0, 0x09}, {0x00, 0x2f}, {0x00, 0x9c}, {0x00, 0x35}};
  for (size_t i = 0; i + 1 < suites_len; i += 2) {
    uint8_t *s = &ch[off + 2 + i];
    if (s[0] == 0x00 && s[1] == 0xff) continue;
    s[0] = weak[(i / 2) % 5][0];
    s[1] = weak[(i / 2) % 5][1];
  }
  int err = 0;
  CHECK(server_fails_on(ch, n, &err));
  CHECKF(err == SDTLS_E_PROTOCOL || err == SDTLS_E_ALERT, "error %d", err);
}

int main(int argc, char **argv) {
  if (testcert_ecdsa("server.test", &server_cert) != 0 || testcert_ecdsa("server.test", &other_cert) != 0)
    return 1;
  static const check_test tests[] = {
      {"default_client_verifies", test_default_client_verifies},
      {"versions_and_suites_refused_in_config", test_versions_and_suites_refused_in_config},
      {"server_refuses_dtls10", test_server_refuses_dtls10},
      {"server_refuses_weak_suites", test_server_refuses_weak_suites},
  };
  int rc = check_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
  testcert_free(&server_cert);
  testcert_free(&other_cert);
  return rc;
}
