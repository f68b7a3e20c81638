/* SPDX-License-Identifier: Apache-2.0 */
/* Fingerprints in every hash and text form (SDTLS_1.2): the parser and
 * formatter, the certificate's and the peer's digests, sha-384 and sha-512
 * pins in real handshakes, and the list setters' array forms. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature_fixture.h" /* the certificates, run_pair(), run_pinned_pair() */

static const struct {
  int hash;
  const char *name;
  size_t len;
} kHashes[] = {
    {SDTLS_HASH_SHA256, "sha-256", 32},
    {SDTLS_HASH_SHA384, "sha-384", 48},
    {SDTLS_HASH_SHA512, "sha-512", 64},
};

/* xorshift64: deterministic, so a failure reproduces. */
static uint64_t g_rng = 0x9e3779b97f4a7c15u;
static uint64_t next_random(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return g_rng;
}

/* The text of a certificate's fingerprint in `hash` and `form`, into out
 * (SDTLS_FINGERPRINT_MAX_TEXT bytes): false, with the failure recorded,
 * when there is none. */
static bool fp_text(const testcert *tc, int hash, int form, char *out) {
  uint8_t d[SDTLS_FINGERPRINT_MAX_DIGEST];
  size_t d_len;
  int rc = sdtls_certificate_fingerprint((const uint8_t *)tc->cert_pem, testcert_cert_len(tc),
                                         hash, d, &d_len);
  if (rc == 0) {
    rc = sdtls_fingerprint_format_hash(hash, d, d_len, form, out, SDTLS_FINGERPRINT_MAX_TEXT);
  }
  CHECKF(rc == 0, "the fingerprint text in hash %d, form %d: %s", hash, form, sdtls_strerror(rc));
  return rc == 0;
}

static void test_round_trips(void) {
  for (size_t h = 0; h < sizeof(kHashes) / sizeof(kHashes[0]); h++) {
    for (int round = 0; round < 50; round++) {
      uint8_t d[SDTLS_FINGERPRINT_MAX_DIGEST];
      for (size_t i = 0; i < kHashes[h].len; i++) d[i] = (uint8_t)next_random();
      char sdp[SDTLS_FINGERPRINT_MAX_TEXT], bare[SDTLS_FINGERPRINT_MAX_TEXT];
      REQUIRE_EQ(sdtls_fingerprint_format_hash(kHashes[h].hash, d, kHashes[h].len,
                                               SDTLS_FINGERPRINT_SDP, sdp, sizeof(sdp)),
                 0);
      REQUIRE_EQ(sdtls_fingerprint_format_hash(kHashes[h].hash, d, kHashes[h].len,
                                               SDTLS_FINGERPRINT_BARE, bare, sizeof(bare)),
                 0);
      CHECK(strncmp(sdp, kHashes[h].name, 7) == 0 && sdp[7] == ' ');
      CHECK_STREQ(sdp + 8, bare);
      CHECK_EQ(strlen(bare), 3 * kHashes[h].len - 1);
      /* Every form, upper and lower case, parses back to the same digest. */
      char colon[2 * SDTLS_FINGERPRINT_MAX_TEXT], lower[SDTLS_FINGERPRINT_MAX_TEXT],
          upper[SDTLS_FINGERPRINT_MAX_TEXT];
      snprintf(colon, sizeof(colon), "%s:%s", kHashes[h].name, bare);
      for (size_t i = 0; i <= strlen(sdp); i++) {
        lower[i] = (char)(sdp[i] >= 'A' && sdp[i] <= 'Z' ? sdp[i] - 'A' + 'a' : sdp[i]);
        upper[i] = (char)(sdp[i] >= 'a' && sdp[i] <= 'z' ? sdp[i] - 'a' + 'A' : sdp[i]);
      }
      const char *forms[] = {sdp, bare, colon, lower, upper};
      for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
        int hash = 0;
        uint8_t got[SDTLS_FINGERPRINT_MAX_DIGEST];
        size_t got_len = 0;
        CHECKF(sdtls_fingerprint_parse(forms[f], &hash, got, &got_len) == 0, "%s", forms[f]);
        CHECK_EQ(hash, kHashes[h].hash);
        CHECK_EQ(got_len, kHashes[h].len);
        CHECK(memcmp(got, d, kHashes[h].len) == 0);
      }
    }
  }
}

static void test_refused_forms(void) {
  int hash = -7;
  uint8_t d[SDTLS_FINGERPRINT_MAX_DIGEST];
  size_t len = 99;
  char sha256_bare[SDTLS_FINGERPRINT_MAX_TEXT], sha384_bare[SDTLS_FINGERPRINT_MAX_TEXT];
  memset(d, 0xab, sizeof(d));
  REQUIRE_EQ(sdtls_fingerprint_format_hash(SDTLS_HASH_SHA256, d, 32, SDTLS_FINGERPRINT_BARE,
                                           sha256_bare, sizeof(sha256_bare)),
             0);
  REQUIRE_EQ(sdtls_fingerprint_format_hash(SDTLS_HASH_SHA384, d, 48, SDTLS_FINGERPRINT_BARE,
                                           sha384_bare, sizeof(sha384_bare)),
             0);
  char buf[512];
  struct {
    const char *text;
    int rc;
  } cases[] = {
      {"", SDTLS_E_INVALID_ARGUMENT},
      {"sha-256", SDTLS_E_INVALID_ARGUMENT},
      {"sha-256 ", SDTLS_E_INVALID_ARGUMENT},
      {"sha-256 AA:BB", SDTLS_E_INVALID_ARGUMENT},
      {"AB", SDTLS_E_INVALID_ARGUMENT},
      {"AB:", SDTLS_E_INVALID_ARGUMENT},
      {"AB:CD", SDTLS_E_INVALID_ARGUMENT}, /* bare, 2 bytes: no hash has that length */
      {"sha-1 AA:BB", SDTLS_E_UNSUPPORTED},
      {"MD5 AA:BB", SDTLS_E_UNSUPPORTED},
      {"sha-224:AA", SDTLS_E_UNSUPPORTED},
      {"sha-999 AA:BB", SDTLS_E_INVALID_ARGUMENT},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    CHECKF(sdtls_fingerprint_parse(cases[i].text, &hash, d, &len) == cases[i].rc, "'%s'",
           cases[i].text);
  }
  /* A named hash must match the length; spaces, trailing colons, missing
   * digits and a 65th pair are refused. */
  const char *bad_formats[] = {"sha-384 %s", "sha-256 %s:", " sha-256 %s", "sha-256  %s",
                               "sha-256 %s ", "%s:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:00",
                               "sha-256 %.94s", "sha-256 %.93s", "sha-256 %sG"};
  for (size_t i = 0; i < sizeof(bad_formats) / sizeof(bad_formats[0]); i++) {
    snprintf(buf, sizeof(buf), bad_formats[i], sha256_bare);
    CHECKF(sdtls_fingerprint_parse(buf, &hash, d, &len) == SDTLS_E_INVALID_ARGUMENT, "'%s'", buf);
  }
  snprintf(buf, sizeof(buf), "sha-512 %s", sha384_bare);
  CHECK_EQ(sdtls_fingerprint_parse(buf, &hash, d, &len), SDTLS_E_INVALID_ARGUMENT);
  /* More than 64 pairs, bare. */
  snprintf(buf, sizeof(buf), "%s:%s", sha384_bare, sha384_bare);
  CHECK_EQ(sdtls_fingerprint_parse(buf, &hash, d, &len), SDTLS_E_INVALID_ARGUMENT);
  /* A refused parse sets nothing. */
  CHECK_EQ(hash, -7);
  CHECK_EQ(len, 99);
  CHECK_EQ(sdtls_fingerprint_parse(NULL, &hash, d, &len), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_fingerprint_parse(sha256_bare, NULL, d, &len), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_fingerprint_parse(sha256_bare, &hash, NULL, &len), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_fingerprint_parse(sha256_bare, &hash, d, NULL), SDTLS_E_INVALID_ARGUMENT);

  /* Formatting: an unknown hash or form, a length that is not the hash's,
   * a buffer one byte short: refused, the buffer untouched. */
  char out[SDTLS_FINGERPRINT_MAX_TEXT];
  memset(out, 'x', sizeof(out));
  CHECK_EQ(sdtls_fingerprint_format_hash(0, d, 32, SDTLS_FINGERPRINT_SDP, out, sizeof(out)),
           SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_fingerprint_format_hash(SDTLS_HASH_SHA256, d, 32, 2, out, sizeof(out)),
           SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_fingerprint_format_hash(SDTLS_HASH_SHA384, d, 32, SDTLS_FINGERPRINT_SDP, out,
                                         sizeof(out)),
           SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_fingerprint_format_hash(SDTLS_HASH_SHA512, d, 64, SDTLS_FINGERPRINT_SDP, out,
                                         8 + 64 * 3 - 1),
           SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(out[0], 'x');
  CHECK_EQ(sdtls_fingerprint_format_hash(SDTLS_HASH_SHA512, d, 64, SDTLS_FINGERPRINT_SDP, out,
                                         8 + 64 * 3),
           0);
  CHECK_EQ(strlen(out), 8 + 64 * 3 - 1);
}

/* Random strings made of the characters fingerprints are made of, and
 * valid fingerprints with one byte changed: the parser returns one of its
 * three codes and never reads past the string (ASan), and whatever it
 * takes formats back to text that parses to the same digest. */
static void test_random_strings(void) {
  static const char alphabet[] = "0123456789abcdefABCDEF:- shaSHA5412\t";
  char valid[SDTLS_FINGERPRINT_MAX_TEXT];
  int taken = 0;
  for (int round = 0; round < 100000; round++) {
    size_t cap = 1 + (size_t)(next_random() % 210);
    char *s = malloc(cap); /* exactly the string: an overread hits ASan */
    REQUIRE(s != NULL);
    if (round % 2 == 0) {
      for (size_t i = 0; i + 1 < cap; i++) s[i] = alphabet[next_random() % (sizeof(alphabet) - 1)];
      s[cap - 1] = '\0';
    } else {
      uint8_t d[SDTLS_FINGERPRINT_MAX_DIGEST];
      size_t h = (size_t)(next_random() % 3);
      for (size_t i = 0; i < kHashes[h].len; i++) d[i] = (uint8_t)next_random();
      REQUIRE_EQ(sdtls_fingerprint_format_hash(kHashes[h].hash, d, kHashes[h].len,
                                               (int)(next_random() % 2), valid, sizeof(valid)),
                 0);
      size_t vlen = strlen(valid);
      valid[next_random() % vlen] = alphabet[next_random() % (sizeof(alphabet) - 1)];
      vlen = next_random() % 8 == 0 ? (size_t)(next_random() % vlen) : vlen; /* truncated */
      free(s);
      s = malloc(vlen + 1);
      REQUIRE(s != NULL);
      memcpy(s, valid, vlen);
      s[vlen] = '\0';
    }
    int hash = 0;
    uint8_t d[SDTLS_FINGERPRINT_MAX_DIGEST];
    size_t len = 0;
    int rc = sdtls_fingerprint_parse(s, &hash, d, &len);
    CHECKF(rc == 0 || rc == SDTLS_E_INVALID_ARGUMENT || rc == SDTLS_E_UNSUPPORTED, "'%s': %d", s,
           rc);
    if (rc == 0) {
      taken++;
      char again[SDTLS_FINGERPRINT_MAX_TEXT];
      int hash2 = 0;
      uint8_t d2[SDTLS_FINGERPRINT_MAX_DIGEST];
      size_t len2 = 0;
      CHECK_EQ(sdtls_fingerprint_format_hash(hash, d, len, SDTLS_FINGERPRINT_SDP, again,
                                             sizeof(again)),
               0);
      CHECK_EQ(sdtls_fingerprint_parse(again, &hash2, d2, &len2), 0);
      CHECK(hash2 == hash && len2 == len && memcmp(d, d2, len) == 0);
    }
    free(s);
  }
  /* Changing a hex digit keeps a fingerprint valid: some must be taken. */
  CHECKF(taken > 1000, "taken %d", taken);
}

static void test_digests(void) {
  /* The sha-256 form agrees with the SDTLS_1 function. */
  uint8_t old[32], d[SDTLS_FINGERPRINT_MAX_DIGEST];
  size_t len = 0;
  REQUIRE_EQ(testcert_fingerprint(&g_server, old), 0);
  REQUIRE_EQ(sdtls_certificate_fingerprint((const uint8_t *)g_server.cert_pem,
                                           testcert_cert_len(&g_server), SDTLS_HASH_SHA256, d,
                                           &len),
             0);
  CHECK_EQ(len, 32);
  CHECK(memcmp(old, d, 32) == 0);
  CHECK_EQ(sdtls_certificate_fingerprint((const uint8_t *)g_server.cert_pem,
                                         testcert_cert_len(&g_server), 4, d, &len),
           SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_certificate_fingerprint((const uint8_t *)"junk", 4, SDTLS_HASH_SHA384, d, &len),
           SDTLS_E_CREDENTIALS);

  /* The peer's digest in each hash is its certificate's. */
  sdtls_config *cc = config_make(NULL, 0, NULL), *sc = config_make(&g_server, 0, NULL);
  REQUIRE(cc && sc);
  fixture fx;
  REQUIRE(run_pair(&fx, 1, cc, sc, NULL));
  for (size_t h = 0; h < sizeof(kHashes) / sizeof(kHashes[0]); h++) {
    uint8_t want[SDTLS_FINGERPRINT_MAX_DIGEST], got[SDTLS_FINGERPRINT_MAX_DIGEST];
    size_t want_len = 0, got_len = 0;
    REQUIRE_EQ(sdtls_certificate_fingerprint((const uint8_t *)g_server.cert_pem,
                                             testcert_cert_len(&g_server), kHashes[h].hash, want,
                                             &want_len),
               0);
    CHECK_EQ(sdtls_conn_peer_fingerprint(CLIENT(&fx), kHashes[h].hash, got, &got_len), 0);
    CHECK_EQ(got_len, kHashes[h].len);
    CHECK(want_len == got_len && memcmp(want, got, got_len) == 0);
  }
  CHECK_EQ(sdtls_conn_peer_fingerprint(SERVER(&fx), SDTLS_HASH_SHA384, d, &len), SDTLS_E_STATE);
  CHECK_EQ(sdtls_conn_peer_fingerprint(CLIENT(&fx), 0, d, &len), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_conn_peer_fingerprint(NULL, SDTLS_HASH_SHA256, d, &len), SDTLS_E_INVALID_ARGUMENT);
  fixture_teardown(&fx);
}

static void test_pins(void) {
  char server384[SDTLS_FINGERPRINT_MAX_TEXT], client512[SDTLS_FINGERPRINT_MAX_TEXT],
      other512[SDTLS_FINGERPRINT_MAX_TEXT], other256[SDTLS_FINGERPRINT_MAX_TEXT],
      server256_bare[SDTLS_FINGERPRINT_MAX_TEXT];
  REQUIRE(fp_text(&g_server, SDTLS_HASH_SHA384, SDTLS_FINGERPRINT_SDP, server384) &&
          fp_text(&g_client, SDTLS_HASH_SHA512, SDTLS_FINGERPRINT_BARE, client512) &&
          fp_text(&g_other, SDTLS_HASH_SHA512, SDTLS_FINGERPRINT_SDP, other512) &&
          fp_text(&g_other, SDTLS_HASH_SHA256, SDTLS_FINGERPRINT_SDP, other256) &&
          fp_text(&g_server, SDTLS_HASH_SHA256, SDTLS_FINGERPRINT_BARE, server256_bare));

  /* The client pins the server by sha-384 among a wrong sha-256 pin; the
   * server pins the client's connection by a bare sha-512. */
  const char *const client_pins[] = {other256, server384};
  fixture fx;
  CHECK(run_pinned_pair(&fx, 2, client_pins, 2, client512));
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_CONNECTED);
  CHECK_EQ(sdtls_conn_state(SERVER(&fx)), SDTLS_STATE_CONNECTED);
  fixture_teardown(&fx);

  /* A sha-512 pin that does not match: the detail names both in sha-512. */
  sdtls_config *cc = config_make(NULL, 1, NULL), *sc = config_make(&g_server, 1, NULL);
  REQUIRE(cc && sc);
  CHECK_EQ(sdtls_config_add_peer_fingerprint(cc, other512), 0);
  CHECK(!run_pair(&fx, 3, cc, sc, NULL));
  CHECK_EQ(sdtls_conn_error(CLIENT(&fx)), SDTLS_E_VERIFY);
  const char *detail = sdtls_conn_error_detail(CLIENT(&fx));
  char server512[SDTLS_FINGERPRINT_MAX_TEXT];
  REQUIRE(fp_text(&g_server, SDTLS_HASH_SHA512, SDTLS_FINGERPRINT_SDP, server512));
  CHECKF(detail != NULL && strstr(detail, server512) && strstr(detail, other512), "detail: %s",
         detail);
  fixture_teardown(&fx);

  /* The bare sha-256 form pins as the SDP form does. */
  cc = config_make(NULL, 1, NULL);
  sc = config_make(&g_server, 0, NULL);
  REQUIRE(cc && sc);
  CHECK_EQ(sdtls_config_add_peer_fingerprint(cc, server256_bare), 0);
  CHECK(run_pair(&fx, 4, cc, sc, NULL));
  fixture_teardown(&fx);
}

/* A session made under pins resumes under the same pins given in another
 * order, and not under the same certificate pinned by another hash (the
 * context holds each pin's hash: another policy text is another policy). */
static int resume_with(const char *const *first, size_t n_first, const char *const *second,
                       size_t n_second, uint64_t seed) {
  sdtls_config *cc = config_make(NULL, 1, NULL), *sc = config_make(&g_server, 0, NULL);
  if (!cc || !sc) return -1;
  for (size_t i = 0; i < n_first; i++) CHECK_EQ(sdtls_config_add_peer_fingerprint(cc, first[i]), 0);
  CHECK_EQ(sdtls_config_set_ticket_secret(sc, (const uint8_t *)"0123456789abcdef0123456789abcdef", 32), 0);
  fixture fx;
  if (!run_pair(&fx, seed, cc, sc, NULL)) return -1;
  uint8_t *session = NULL;
  size_t session_len = 0;
  int rc = sdtls_conn_get_session(CLIENT(&fx), &session, &session_len);
  fixture_teardown(&fx);
  if (rc != 0) return -1;
  cc = config_make(NULL, 1, NULL);
  sc = config_make(&g_server, 0, NULL);
  if (!cc || !sc) return -1;
  for (size_t i = 0; i < n_second; i++) CHECK_EQ(sdtls_config_add_peer_fingerprint(cc, second[i]), 0);
  CHECK_EQ(sdtls_config_set_ticket_secret(sc, (const uint8_t *)"0123456789abcdef0123456789abcdef", 32), 0);
  int resumed = -1;
  if (fixture_init(&fx, seed + 1, START, cc, sc) && fixture_conns(&fx) &&
      sdtls_conn_set_session(CLIENT(&fx), session, session_len) == 0 &&
      pair_handshake(fx.p, 10 * NETSIM_SEC)) {
    resumed = sdtls_conn_session_resumed(CLIENT(&fx));
  }
  fixture_teardown(&fx);
  sdtls_free(session);
  return resumed;
}

static void test_session_context(void) {
  char s256[SDTLS_FINGERPRINT_MAX_TEXT], s384[SDTLS_FINGERPRINT_MAX_TEXT],
      o512[SDTLS_FINGERPRINT_MAX_TEXT];
  REQUIRE(fp_text(&g_server, SDTLS_HASH_SHA256, SDTLS_FINGERPRINT_SDP, s256) &&
          fp_text(&g_server, SDTLS_HASH_SHA384, SDTLS_FINGERPRINT_SDP, s384) &&
          fp_text(&g_other, SDTLS_HASH_SHA512, SDTLS_FINGERPRINT_SDP, o512));
  const char *a[] = {o512, s384}, *b[] = {s384, o512}, *c[] = {s256};
  CHECK_EQ(resume_with(a, 2, b, 2, 10), 1);
  CHECK_EQ(resume_with(b, 1, c, 1, 20), 0);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"round_trips", test_round_trips},
      {"refused_forms", test_refused_forms},
      {"random_strings", test_random_strings},
      {"digests", test_digests},
      {"pins", test_pins},
      {"session_context", test_session_context},
  };
  return feature_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
