/* SPDX-License-Identifier: Apache-2.0 */
/* No cookie hand-over glue for this engine layout: the fields it sets are
 * private to the engine and are known only for Android's layout
 * (handover_android.cc) and upstream's (handover_upstream.cc); see
 * docs/design.md. sdtls_server then needs SDTLS_OPT_COOKIES=0. */
#include "internal.h"

int Sdtls_engine_cookie_handover(SSL *ssl, uint16_t message_seq, uint64_t record_seq) {
  (void)ssl;
  (void)message_seq;
  (void)record_seq;
  return 0;
}

int Sdtls_engine_has_cookie_handover(void) { return 0; }

int Sdtls_engine_has_hrr_cookie(void) { return 0; }

int Sdtls_engine_tls13_choose(SSL_CTX *ctx, const uint8_t *cipher_suites,
                              size_t cipher_suites_len, const uint8_t *groups, size_t groups_len,
                              uint16_t *cipher, uint16_t *group, int *sha384) {
  (void)ctx;
  (void)cipher_suites;
  (void)cipher_suites_len;
  (void)groups;
  (void)groups_len;
  (void)cipher;
  (void)group;
  (void)sha384;
  return 0;
}

int Sdtls_engine_hrr_handover(SSL *ssl, uint16_t message_seq, uint64_t record_seq,
                              const uint8_t *prefix, size_t prefix_len) {
  (void)ssl;
  (void)message_seq;
  (void)record_seq;
  (void)prefix;
  (void)prefix_len;
  return 0;
}
