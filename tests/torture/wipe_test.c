/* SPDX-License-Identifier: Apache-2.0 */
/* Key material is wiped on free: a malloc interposer (this program's own
 * malloc/free, forwarding to glibc's) looks into every block as it is
 * freed, before glibc gets it back (so reading it is defined), for
 *   - the master secret of a handshake (learnt from the key log),
 *   - the application data both connections decrypted (a marker),
 *   - a server's cookie secret (set by the test).
 * A block that still holds one of them when freed is a failure. Only in the
 * ordinary build: ASan and valgrind bring their own allocators (the test
 * reports itself skipped there). */
#define _GNU_SOURCE 1 /* memmem */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "netsim.h"
#include "sdtls.h"
#include "simpeer.h"
#include "testcert.h"

/* Built only without sanitizers (tests/torture/CMakeLists.txt): the
 * interposer below replaces the allocator, which a sanitizer owns. */

#define SEC NETSIM_SEC

/* ---- the interposer ---- */

static uint8_t secrets[3][64];
static size_t secret_len[3];
static int scanning;
static size_t dirty_frees, scanned_frees;

void *__libc_malloc(size_t);
void __libc_free(void *);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void *__libc_memalign(size_t, size_t);

/* The build hides symbols by default; these must be the process's. */
#define EXPORTED __attribute__((visibility("default")))

static void scan(void *p) {
  if (!scanning || p == NULL) return;
  size_t n = malloc_usable_size(p);
  scanned_frees++;
  for (int i = 0; i < 3; i++) {
    if (secret_len[i] > 0 && n >= secret_len[i] && memmem(p, n, secrets[i], secret_len[i]) != NULL) dirty_frees++;
  }
}

EXPORTED void *malloc(size_t n) { return __libc_malloc(n); }
EXPORTED void *calloc(size_t a, size_t b) { return __libc_calloc(a, b); }
EXPORTED void free(void *p) {
  scan(p);
  __libc_free(p);
}
EXPORTED void *realloc(void *p, size_t n) {
  if (p == NULL || !scanning) return __libc_realloc(p, n);
  /* Moving a block frees the old one: scan it like a free. */
  void *q = __libc_malloc(n ? n : 1);
  if (q == NULL) return NULL;
  size_t old = malloc_usable_size(p);
  memcpy(q, p, old < n ? old : n);
  free(p);
  return q;
}
EXPORTED void *memalign(size_t a, size_t n) { return __libc_memalign(a, n); }
EXPORTED void *aligned_alloc(size_t a, size_t n) { return __libc_memalign(a, n); }
EXPORTED int posix_memalign(void **out, size_t a, size_t n) {
  void *p = __libc_memalign(a, n);
  if (p == NULL) return 12; /* ENOMEM */
  *out = p;
  return 0;
}

/* ---- a handshake whose secrets the test knows ---- */

static const uint8_t kMarker[32] = "sdtls-wipe-test-plaintext-marker";

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static void keylog(void *user, const char *line) {
  (void)user;
  /* "CLIENT_RANDOM <64 hex> <96 hex>" */
  if (strncmp(line, "CLIENT_RANDOM ", 14) != 0 || strlen(line) != 14 + 64 + 1 + 96) return;
  const char *hex = line + 14 + 64 + 1;
  for (size_t i = 0; i < 48; i++) secrets[0][i] = (uint8_t)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
  secret_len[0] = 48;
}

typedef struct side {
  netsim *sim;
  int index;
  int done, got_marker;
} side;

static int s_send(void *user, const uint8_t *d, size_t len) {
  side *s = user;
  return netsim_send(s->sim, s->index, d, len);
}
static void s_done(void *user) { ((side *)user)->done = 1; }
static void s_data(void *user, const uint8_t *d, size_t len) {
  /* Nothing is copied: the only plaintext copies are the library's. */
  if (len == sizeof(kMarker) && memcmp(d, kMarker, len) == 0) ((side *)user)->got_marker++;
}

static int both_done(void *ctx) {
  side *s = ctx;
  return s[0].done && s[1].done;
}

static int srv_send(void *user, const uint8_t *a, size_t alen, const uint8_t *d, size_t len) {
  (void)user;
  (void)a;
  (void)alen;
  (void)d;
  (void)len;
  return 0;
}

static void test_keys_wiped_on_free(void) {
  {
    /* The scanner sees what it looks for: a block freed dirty counts. */
    char *probe = malloc(256);
    REQUIRE(probe != NULL);
    memcpy(secrets[2], "probe-secret-probe-secret-probe!", 32);
    secret_len[2] = 32;
    memcpy(probe + 100, secrets[2], 32);
    scanning = 1;
    free(probe);
    scanning = 0;
    REQUIREF(dirty_frees == 1, "the interposer does not see frees (%zu)", dirty_frees);
    dirty_frees = 0;
  }
  testcert cert;
  REQUIRE(testcert_ecdsa("wipe.test", &cert) == 0);
  sdtls_config *cc = config_make(NULL, 0, NULL), *sc = config_make(&cert, 0, NULL);
  REQUIRE(cc != NULL && sc != NULL);
  REQUIRE(sdtls_config_set_keylog(cc, keylog, NULL) == 0);
  netsim *sim = netsim_new(11, SEC);
  REQUIRE(sim != NULL);
  side s[2] = {{sim, NETSIM_A, 0, 0}, {sim, NETSIM_B, 0, 0}};
  sdtls_callbacks cb = {sizeof(cb), s_send, s_done, s_data, NULL};
  sdtls_conn *client = NULL, *server = NULL;
  REQUIRE(sdtls_conn_new(cc, SDTLS_ROLE_CLIENT, &cb, &s[0], &client) == 0);
  REQUIRE(sdtls_conn_new(sc, SDTLS_ROLE_SERVER, &cb, &s[1], &server) == 0);
  netsim_set_conn(sim, NETSIM_A, client);
  netsim_set_conn(sim, NETSIM_B, server);
  REQUIRE(sdtls_conn_start(client, SEC) == 0);
  REQUIRE(netsim_run(sim, both_done, s, 10 * SEC, 100000) == NETSIM_DONE);
  REQUIRE(secret_len[0] == 48);
  CHECK_EQ(sdtls_conn_send(client, kMarker, sizeof(kMarker), netsim_now(sim)), 0);
  CHECK_EQ(sdtls_conn_send(server, kMarker, sizeof(kMarker), netsim_now(sim)), 0);
  netsim_run_for(sim, SEC);
  CHECK_EQ(s[0].got_marker, 1);
  CHECK_EQ(s[1].got_marker, 1);
  memcpy(secrets[1], kMarker, sizeof(kMarker));
  secret_len[1] = sizeof(kMarker);

  /* A server with a known cookie secret. */
  static const uint8_t kCookieSecret[32] = "wipe-test cookie secret 32 bytes";
  sdtls_server *srv = NULL;
  sdtls_server_callbacks scb = {sizeof(scb), srv_send, NULL, NULL, NULL, NULL};
  REQUIRE(sdtls_server_new(sc, &scb, NULL, &srv) == 0);
  REQUIRE(sdtls_server_set_cookie_secret(srv, kCookieSecret, sizeof(kCookieSecret), SEC) == 0);
  memcpy(secrets[2], kCookieSecret, sizeof(kCookieSecret));
  secret_len[2] = sizeof(kCookieSecret);

  scanning = 1;
  netsim_set_conn(sim, NETSIM_A, NULL);
  netsim_set_conn(sim, NETSIM_B, NULL);
  sdtls_conn_free(client);
  sdtls_conn_free(server);
  sdtls_server_free(srv);
  sdtls_config_free(cc);
  sdtls_config_free(sc);
  netsim_free(sim);
  scanning = 0;
  printf("wipe: %zu blocks freed, %zu still held a secret\n", scanned_frees, dirty_frees);
  CHECKF(dirty_frees == 0, "%zu freed blocks still held the master secret, plaintext or cookie secret",
         dirty_frees);
  CHECK(scanned_frees > 10);
  testcert_free(&cert);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {{"keys_wiped_on_free", test_keys_wiped_on_free}};
  return check_main(tests, 1, argc, argv);
}
