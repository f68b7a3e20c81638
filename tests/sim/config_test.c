/* SPDX-License-Identifier: Apache-2.0 */
/* sdtls_config: a setter that returns an error leaves the config exactly
 * as it was, so a handshake made afterwards behaves as if the refused call
 * had never been made; damaged PEM input is refused whole. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "netsim.h"
#include "sdtls.h"
#include "simpeer.h"
#include "testcert.h"

static testcert g_a, g_b; /* two certificates for "server.test" */

/* A PEM block whose base64 does not decode to a certificate. */
static const char kCorruptBlock[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBfzCCASWgAwIBAgIUZm9vYmFyIGJhZCBjZXJ0aWZpY2F0ZSEhISEhCgo=\n"
    "-----END CERTIFICATE-----\n";

static int set_cert(sdtls_config *c, const testcert *cert, const testcert *key) {
  return sdtls_config_set_certificate_pem(c, (const uint8_t *)cert->cert_pem,
                                          testcert_cert_len(cert), (const uint8_t *)key->key_pem,
                                          testcert_key_len(key));
}

/* Runs a handshake: a client verifying against `trust` (NULL: no
 * verification) and the server config `sc` (taken over). Returns the
 * client's state afterwards; *fp gets the server's fingerprint. */
static sdtls_state handshake(sdtls_config *sc, const testcert *trust, const char *cipher,
                             uint8_t fp[32], char *cipher_out, size_t cipher_len) {
  fixture fx;
  sdtls_config *cc = config_make(NULL, trust != NULL, trust);
  if (cc != NULL && cipher != NULL) sdtls_config_set_ciphers(cc, cipher);
  if (!fixture_init(&fx, 7, 10 * NETSIM_SEC, cc, sc) || !fixture_conns(&fx)) {
    fixture_teardown(&fx);
    return SDTLS_STATE_FAILED;
  }
  sdtls_conn_set_server_name(CLIENT(&fx), "server.test");
  pair_handshake(fx.p, 20 * NETSIM_SEC);
  sdtls_state st = sdtls_conn_state(CLIENT(&fx));
  if (fp != NULL) sdtls_conn_peer_fingerprint_sha256(CLIENT(&fx), fp);
  if (cipher_out != NULL) {
    const char *name = sdtls_conn_cipher(CLIENT(&fx));
    snprintf(cipher_out, cipher_len, "%s", name != NULL ? name : "");
  }
  fixture_teardown(&fx);
  return st;
}

static void test_refused_certificate_keeps_the_old_one(void) {
  sdtls_config *sc = config_make(&g_a, 0, NULL);
  REQUIRE(sc != NULL);
  /* B's certificate with A's key: they do not match. */
  CHECK_EQ(set_cert(sc, &g_b, &g_a), SDTLS_E_CREDENTIALS);
  /* A key that is not a key. */
  CHECK_EQ(sdtls_config_set_certificate_pem(sc, (const uint8_t *)g_b.cert_pem,
                                            testcert_cert_len(&g_b), (const uint8_t *)"junk", 4),
           SDTLS_E_CREDENTIALS);
  uint8_t want[32], got[32] = {0};
  REQUIRE_EQ(testcert_fingerprint(&g_a, want), 0);
  CHECK_EQ(handshake(sc, &g_a, NULL, got, NULL, 0), SDTLS_STATE_CONNECTED);
  CHECK(memcmp(want, got, 32) == 0);

  /* A matching pair replaces the certificate wholly. */
  sc = config_make(&g_a, 0, NULL);
  REQUIRE(sc != NULL);
  CHECK_EQ(set_cert(sc, &g_b, &g_b), 0);
  REQUIRE_EQ(testcert_fingerprint(&g_b, want), 0);
  CHECK_EQ(handshake(sc, &g_b, NULL, got, NULL, 0), SDTLS_STATE_CONNECTED);
  CHECK(memcmp(want, got, 32) == 0);
}

/* A's certificate, then the corrupt block, or (corrupt_first) the other
 * way round (malloc'd). */
static char *with_corrupt_block(int corrupt_first) {
  size_t n = testcert_cert_len(&g_a) + sizeof(kCorruptBlock);
  char *pem = malloc(n);
  if (pem != NULL) {
    snprintf(pem, n, "%s%s", corrupt_first ? kCorruptBlock : g_a.cert_pem,
             corrupt_first ? g_a.cert_pem : kCorruptBlock);
  }
  return pem;
}

/* `chain` with A's key as a config's certificate: the setter's result. */
static int set_chain(sdtls_config *c, const char *chain) {
  return sdtls_config_set_certificate_pem(c, (const uint8_t *)chain, strlen(chain),
                                          (const uint8_t *)g_a.key_pem, testcert_key_len(&g_a));
}

/* set_chain() on a new config (then freed). */
static int set_chain_on_new_config(const char *chain) {
  sdtls_config *c = NULL;
  int rc = sdtls_config_new(&c);
  CHECK_EQ(rc, 0);
  if (rc == 0) {
    rc = set_chain(c, chain);
  }
  sdtls_config_free(c);
  return rc;
}

static void test_corrupt_chain_is_refused(void) {
  /* The leaf, then a damaged second certificate. */
  char *chain = with_corrupt_block(0);
  REQUIRE(chain != NULL);
  sdtls_config *sc;
  REQUIRE_EQ(sdtls_config_new(&sc), 0);
  CHECK_EQ(set_chain(sc, chain), SDTLS_E_CREDENTIALS);
  /* Nothing was set: a server still has no certificate. */
  sdtls_server *s = NULL;
  sdtls_server_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  cb.size = sizeof(cb);
  CHECK_EQ(sdtls_server_new(sc, &cb, NULL, &s), SDTLS_E_INVALID_ARGUMENT); /* no send: args first */
  sdtls_callbacks ccb = peer_callbacks();
  sdtls_conn *c = NULL;
  CHECK_EQ(sdtls_conn_new(sc, SDTLS_ROLE_SERVER, &ccb, NULL, &c), SDTLS_E_CREDENTIALS);
  sdtls_config_free(sc);
  free(chain);

  /* A corrupt certificate before a good one is refused too. */
  chain = with_corrupt_block(1);
  REQUIRE(chain != NULL);
  CHECK_EQ(set_chain_on_new_config(chain), SDTLS_E_CREDENTIALS);
  free(chain);

  /* Text around the blocks (as `openssl x509 -text` writes it) is fine. */
  size_t m = testcert_cert_len(&g_a) + 64;
  char *annotated = malloc(m);
  REQUIRE(annotated != NULL);
  snprintf(annotated, m, "subject=CN = server.test\n%s", g_a.cert_pem);
  CHECK_EQ(set_chain_on_new_config(annotated), 0);
  free(annotated);
}

static void test_refused_trust_adds_nothing(void) {
  char *bundle = with_corrupt_block(0);
  REQUIRE(bundle != NULL);

  /* A's certificate followed by a damaged one: refused, and A is not
   * trusted afterwards. */
  sdtls_config *cc;
  REQUIRE_EQ(sdtls_config_new(&cc), 0);
  CHECK_EQ(sdtls_config_set_ca_pem(cc, (const uint8_t *)bundle, strlen(bundle)),
           SDTLS_E_CREDENTIALS);

  /* The same bundle as a file, with a good directory: still nothing. */
  char path[] = "/tmp/sdtls-config-test-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  CHECK((size_t)write(fd, bundle, strlen(bundle)) == strlen(bundle));
  close(fd);
  CHECK_EQ(sdtls_config_set_ca(cc, path, "/tmp"), SDTLS_E_CREDENTIALS);
  /* A good file with a missing directory: the file is not added either. */
  fd = open(path, O_WRONLY | O_TRUNC);
  REQUIRE(fd >= 0);
  CHECK((size_t)write(fd, g_a.cert_pem, testcert_cert_len(&g_a)) == testcert_cert_len(&g_a));
  close(fd);
  CHECK_EQ(sdtls_config_set_ca(cc, path, "/nonexistent/dir"), SDTLS_E_FILE);
  unlink(path);

  fixture fx;
  REQUIRE(fixture_init(&fx, 3, 10 * NETSIM_SEC, cc, config_make(&g_a, 0, NULL)));
  REQUIRE(fixture_conns(&fx));
  sdtls_conn_set_server_name(CLIENT(&fx), "server.test");
  pair_handshake(fx.p, 20 * NETSIM_SEC);
  CHECK_EQ(sdtls_conn_state(CLIENT(&fx)), SDTLS_STATE_FAILED);
  CHECK_EQ(sdtls_conn_error(CLIENT(&fx)), SDTLS_E_VERIFY);
  fixture_teardown(&fx);
  free(bundle);
}

static void test_refused_ciphers_and_options_keep_values(void) {
  sdtls_config *sc = config_make(&g_a, 0, NULL);
  REQUIRE(sc != NULL);
  REQUIRE_EQ(sdtls_config_set_ciphers(sc, "ECDHE-ECDSA-CHACHA20-POLY1305"), 0);
  CHECK_EQ(sdtls_config_set_ciphers(sc, "AES128-SHA"), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_ciphers(sc, "NO-SUCH-CIPHER"), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_option(sc, SDTLS_OPT_MTU, 100), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_option(sc, SDTLS_OPT_MIN_VERSION, 0xfeff), SDTLS_E_INVALID_ARGUMENT);
  int64_t v = 0;
  CHECK_EQ(sdtls_config_get_option(sc, SDTLS_OPT_MTU, &v), 0);
  CHECK_EQ(v, 1200);
  CHECK_EQ(sdtls_config_get_option(sc, SDTLS_OPT_MIN_VERSION, &v), 0);
  CHECK_EQ(v, SDTLS_DTLS1_2);
  char cipher[128];
  CHECK_EQ(handshake(sc, NULL, NULL, NULL, cipher, sizeof(cipher)), SDTLS_STATE_CONNECTED);
  CHECK_STREQ(cipher, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"refused_certificate_keeps_the_old_one", test_refused_certificate_keeps_the_old_one},
      {"corrupt_chain_is_refused", test_corrupt_chain_is_refused},
      {"refused_trust_adds_nothing", test_refused_trust_adds_nothing},
      {"refused_ciphers_and_options_keep_values", test_refused_ciphers_and_options_keep_values},
  };
  if (testcert_ecdsa("server.test", &g_a) != 0 || testcert_ecdsa("server.test", &g_b) != 0)
    return 1;
  int rc = check_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
  testcert_free(&g_a);
  testcert_free(&g_b);
  return rc;
}
