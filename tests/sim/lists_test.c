/* SPDX-License-Identifier: Apache-2.0 */
/* The array forms of the list setters (src/lists.c): ALPN protocols, SRTP
 * profiles and groups given one name per element; a name holding the
 * string forms' separators, an empty or overlong one, or a NULL is refused
 * and leaves the list as it was; the lists reach the handshake; a frozen
 * config refuses them. */
#include <stddef.h>
#include <string.h>

#include "feature_fixture.h"

static void test_array_setters(void) {
  sdtls_config *cc = config_make(NULL, 0, NULL), *sc = config_make(&g_server, 0, NULL);
  REQUIRE(cc && sc);
  const char *client_alpn[] = {"coap", "webrtc"}, *server_alpn[] = {"webrtc", "coap"};
  CHECK_EQ(sdtls_config_set_alpn_list(cc, client_alpn, 2), 0);
  CHECK_EQ(sdtls_config_set_alpn_list(sc, server_alpn, 2), 0);
  /* Each refused call leaves the server's list as it was. */
  char long_name[300];
  memset(long_name, 'a', sizeof(long_name));
  long_name[256] = '\0'; /* 256 bytes: one too many */
  const char *comma[] = {"a,b"}, *colon[] = {"coap", "a:b"}, *empty[] = {""}, *too_long[] = {long_name},
             *null_name[] = {"coap", NULL};
  CHECK_EQ(sdtls_config_set_alpn_list(sc, comma, 1), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn_list(sc, colon, 2), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn_list(sc, empty, 1), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn_list(sc, too_long, 1), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn_list(sc, null_name, 2), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn_list(sc, NULL, 1), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn_list(sc, server_alpn, 0), SDTLS_E_INVALID_ARGUMENT);
  long_name[255] = '\0'; /* 255 bytes: the longest a protocol name is */
  CHECK_EQ(sdtls_config_set_alpn_list(cc, too_long, 1), 0);
  CHECK_EQ(sdtls_config_set_alpn_list(cc, client_alpn, 2), 0);

  const char *srtp_client[] = {"SRTP_AES128_CM_SHA1_80", "SRTP_AEAD_AES_128_GCM"},
             *srtp_server[] = {"SRTP_AEAD_AES_128_GCM", "SRTP_AES128_CM_SHA1_80"},
             *srtp_joined[] = {"SRTP_AES128_CM_SHA1_32:SRTP_AEAD_AES_256_GCM"},
             *srtp_unknown[] = {"SRTP_NULL_SHA1_80"};
  CHECK_EQ(sdtls_config_set_srtp_profiles_list(cc, srtp_client, 2), 0);
  CHECK_EQ(sdtls_config_set_srtp_profiles_list(sc, srtp_server, 2), 0);
  CHECK_EQ(sdtls_config_set_srtp_profiles_list(sc, srtp_joined, 1), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_srtp_profiles_list(sc, srtp_unknown, 1), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_srtp_profiles_list(sc, empty, 1), SDTLS_E_INVALID_ARGUMENT);

  const char *groups[] = {"P-384", "P-256"}, *groups_joined[] = {"X25519:P-256"},
             *groups_unknown[] = {"P-384", "NO-SUCH-GROUP"};
  CHECK_EQ(sdtls_config_set_groups_list(cc, groups, 2), 0);
  CHECK_EQ(sdtls_config_set_groups_list(sc, groups, 2), 0);
  CHECK_EQ(sdtls_config_set_groups_list(sc, groups_joined, 1), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_groups_list(sc, groups_unknown, 2), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_groups_list(sc, NULL, 0), SDTLS_E_INVALID_ARGUMENT);

  fixture fx;
  REQUIRE(run_pair(&fx, 30, cc, sc, NULL));
  CHECK_STREQ(sdtls_conn_alpn(CLIENT(&fx)), "webrtc"); /* the server's preference */
  CHECK_EQ(sdtls_conn_srtp_profile(CLIENT(&fx)), SDTLS_SRTP_AEAD_AES_128_GCM);
  CHECK_STREQ(sdtls_conn_group(CLIENT(&fx)), "P-384");
  /* Once in use, the config is frozen: the array forms say so too. */
  CHECK_EQ(sdtls_config_set_alpn_list(fx.sc, client_alpn, 2), SDTLS_E_FROZEN);
  CHECK_EQ(sdtls_config_set_srtp_profiles_list(fx.sc, srtp_client, 2), SDTLS_E_FROZEN);
  CHECK_EQ(sdtls_config_set_groups_list(fx.sc, groups, 2), SDTLS_E_FROZEN);
  fixture_teardown(&fx);
  CHECK_EQ(sdtls_config_set_alpn_list(NULL, client_alpn, 2), SDTLS_E_INVALID_ARGUMENT);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"array_setters", test_array_setters},
  };
  return feature_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
