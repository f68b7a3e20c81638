/* SPDX-License-Identifier: Apache-2.0 */
/* DTLS-SRTP (src/srtp.c) in the simulator: keying material on both sides,
 * profile choice, and the profile list's limit. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature_fixture.h"

static void test_srtp_keying(void) {
  static const char *const kRefused[] = {"SRTP_NULL_SHA1_80", "SRTP_AES128_CM_SHA1_80:", NULL};
  fixture fx;
  REQUIRE(run_pair_set(&fx, 1, sdtls_config_set_srtp_profiles,
                       "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM",
                       "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", kRefused));
  /* RFC 5764: the server picks from the client's list in its own order. */
  CHECK_EQ(sdtls_conn_srtp_profile(CLIENT(&fx)), SDTLS_SRTP_AEAD_AES_128_GCM);
  CHECK_EQ(sdtls_conn_srtp_profile(SERVER(&fx)), SDTLS_SRTP_AEAD_AES_128_GCM);
  CHECK_STREQ(sdtls_srtp_profile_name(SDTLS_SRTP_AEAD_AES_128_GCM), "SRTP_AEAD_AES_128_GCM");
  CHECK(sdtls_srtp_profile_name(0x0099) == NULL);

  sdtls_srtp_keying ck, sk;
  memset(&ck, 0, sizeof(ck));
  memset(&sk, 0, sizeof(sk));
  ck.size = sk.size = sizeof(ck);
  REQUIRE_EQ(sdtls_conn_srtp_keying(CLIENT(&fx), &ck), 0);
  REQUIRE_EQ(sdtls_conn_srtp_keying(SERVER(&fx), &sk), 0);
  CHECK_EQ(ck.key_len, 16);
  CHECK_EQ(ck.salt_len, 12);
  const size_t n = ck.key_len + ck.salt_len;
  CHECK(memcmp(ck.client_write, sk.client_write, n) == 0);
  CHECK(memcmp(ck.server_write, sk.server_write, n) == 0);
  CHECK(memcmp(ck.client_write, ck.server_write, n) != 0);
  CHECK(memcmp(ck.local_write, sk.remote_write, n) == 0);
  CHECK(memcmp(ck.remote_write, sk.local_write, n) == 0);
  CHECK(memcmp(ck.local_write, ck.client_write, n) == 0);
  /* The split follows RFC 5764 4.2 over the exporter's output. */
  uint8_t m[56];
  REQUIRE_EQ(sdtls_conn_export_keying_material(CLIENT(&fx), m, sizeof(m), "EXTRACTOR-dtls_srtp",
                                               19, NULL, 0),
             0);
  CHECK(memcmp(ck.client_write, m, 16) == 0);
  CHECK(memcmp(ck.server_write, m + 16, 16) == 0);
  CHECK(memcmp(ck.client_write + 16, m + 32, 12) == 0);
  CHECK(memcmp(ck.server_write + 16, m + 44, 12) == 0);
  /* An older caller's smaller struct is refused rather than overrun. */
  sdtls_srtp_keying small = {0};
  small.size = offsetof(sdtls_srtp_keying, local_write);
  CHECK_EQ(sdtls_conn_srtp_keying(CLIENT(&fx), &small), SDTLS_E_INVALID_ARGUMENT);
  fixture_teardown(&fx);

  /* No common profile: the handshake goes on without SRTP. */
  REQUIRE(run_pair_set(&fx, 2, sdtls_config_set_srtp_profiles, "SRTP_AES128_CM_SHA1_32",
                       "SRTP_AEAD_AES_256_GCM", NULL));
  CHECK_EQ(sdtls_conn_srtp_profile(CLIENT(&fx)), 0);
  CHECK_EQ(sdtls_conn_srtp_keying(CLIENT(&fx), &ck), SDTLS_E_STATE);
  fixture_teardown(&fx);

  /* AES-256-GCM: 32-byte keys. */
  REQUIRE(run_pair_set(&fx, 3, sdtls_config_set_srtp_profiles, "SRTP_AEAD_AES_256_GCM",
                       "SRTP_AEAD_AES_256_GCM", NULL));
  REQUIRE_EQ(sdtls_conn_srtp_keying(SERVER(&fx), &sk), 0);
  CHECK_EQ(sk.profile, SDTLS_SRTP_AEAD_AES_256_GCM);
  CHECK_EQ(sk.key_len, 32);
  fixture_teardown(&fx);
}

/* A profile named twice would only make the use_srtp extension longer:
 * refused, so that a list holds at most the four profiles. */
static void test_srtp_limit(void) {
  check_list_limit(sdtls_config_set_srtp_profiles, "SRTP_AES128_CM_SHA1_80", ':',
                   "SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_80",
                   "SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32:SRTP_AEAD_AES_128_GCM:"
                   "SRTP_AEAD_AES_256_GCM");
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"srtp_keying", test_srtp_keying},
      {"srtp_limit", test_srtp_limit},
  };
  return feature_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
