/* SPDX-License-Identifier: Apache-2.0 */
/* The fixtures of the feature tests (see feature_fixture.h). */
#include "feature_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

testcert g_server, g_client, g_other;

/* Makes both connections from the configs (taken over), lets `prepare`
 * adjust them, and runs the handshake. Returns 1 when both connected. */
int run_pair(fixture *fx, uint64_t seed, sdtls_config *cc, sdtls_config *sc,
             const char *server_name) {
  if (!fixture_init(fx, seed, START, cc, sc) || !fixture_conns(fx)) return 0;
  if (server_name != NULL && sdtls_conn_set_server_name(CLIENT(fx), server_name) != 0) return 0;
  int ok = pair_handshake(fx->p, 10 * NETSIM_SEC);
  netsim_run_for(fx->sim, NETSIM_SEC); /* let a final alert arrive */
  return ok;
}

int run_pinned_pair(fixture *fx, uint64_t seed, const char *const *client_pins, size_t n,
                    const char *server_pin) {
  sdtls_config *cc = config_make(&g_client, 1, NULL), *sc = config_make(&g_server, 1, NULL);
  CHECK(cc && sc);
  for (size_t i = 0; cc != NULL && i < n; i++) {
    CHECK_EQ(sdtls_config_add_peer_fingerprint(cc, client_pins[i]), 0);
  }
  const int made = fixture_init(fx, seed, START, cc, sc) && fixture_conns(fx);
  CHECKF(made, "the pinned pair could not be made");
  if (!made) {
    return 0;
  }
  CHECK_EQ(sdtls_conn_add_peer_fingerprint(SERVER(fx), server_pin), 0);
  return pair_handshake(fx->p, 10 * NETSIM_SEC);
}

sdtls_config *plain_config(void) {
  sdtls_config *c = NULL;
  return sdtls_config_new(&c) == 0 ? c : NULL;
}

int run_pair_set(fixture *fx, uint64_t seed, config_setter set, const char *client,
                 const char *server, const char *const *refused) {
  sdtls_config *cc = config_make(NULL, 0, NULL), *sc = config_make(&g_server, 0, NULL);
  CHECK(cc && sc);
  if (cc != NULL && client != NULL) {
    CHECK_EQ(set(cc, client), 0);
  }
  if (sc != NULL && server != NULL) {
    CHECK_EQ(set(sc, server), 0);
  }
  for (size_t i = 0; sc != NULL && refused != NULL && refused[i] != NULL; i++) {
    CHECKF(set(sc, refused[i]) == SDTLS_E_INVALID_ARGUMENT, "\"%s\" was not refused", refused[i]);
  }
  return run_pair(fx, seed, cc, sc, NULL);
}

void check_list_limit(config_setter set, const char *name, char sep, const char *twice,
                      const char *distinct) {
  sdtls_config *c = plain_config();
  char *many = repeated_list(10000, strlen(name), sep, name);
  CHECK(c != NULL);
  CHECK(many != NULL);
  if (c && many) {
    CHECK_EQ(set(c, many), SDTLS_E_INVALID_ARGUMENT);
    CHECK_EQ(set(c, twice), SDTLS_E_INVALID_ARGUMENT);
    CHECK_EQ(set(c, distinct), 0);
  }
  free(many);
  sdtls_config_free(c);
}

void fingerprint_text(const testcert *tc, char *out, size_t len) {
  uint8_t d[32];
  char hex[96];
  if (testcert_fingerprint(tc, d) != 0 || sdtls_fingerprint_format(d, hex, sizeof(hex)) != 0) {
    out[0] = '\0';
    return;
  }
  snprintf(out, len, "sha-256 %s", hex);
}

const uint8_t kKey[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

size_t lookup(void *user, const char *identity, uint8_t *key, size_t key_max) {
  int *calls = user;
  (*calls)++;
  if (strcmp(identity, "dynamic") != 0 || key_max < sizeof(kKey)) return 0;
  memcpy(key, kKey, sizeof(kKey));
  return sizeof(kKey);
}

/* n copies of a name of name_len bytes, joined by sep (malloc'd). */
char *repeated_list(size_t n, size_t name_len, char sep, const char *name) {
  char *s = malloc(n * (name_len + 1) + 1), *p = s;
  if (s == NULL) return NULL;
  for (size_t i = 0; i < n; i++) {
    if (i > 0) *p++ = sep;
    if (name != NULL) {
      memcpy(p, name, name_len);
    } else {
      memset(p, 'a', name_len);
    }
    p += name_len;
  }
  *p = '\0';
  return s;
}

int feature_main(const check_test *tests, size_t n, int argc, char **argv) {
  if (testcert_ecdsa("server.test", &g_server) != 0 ||
      testcert_ecdsa("client.test", &g_client) != 0 || testcert_ecdsa("server.test", &g_other) != 0)
    return 1;
  int rc = check_main(tests, n, argc, argv);
  testcert_free(&g_server);
  testcert_free(&g_client);
  testcert_free(&g_other);
  return rc;
}
