/* SPDX-License-Identifier: Apache-2.0 */
/* ALPN (src/alpn.c) in the simulator: the protocol both sides agree on,
 * and the list's limit. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature_fixture.h"

static void test_alpn(void) {
  fixture fx;
  REQUIRE(run_pair_set(&fx, 40, sdtls_config_set_alpn, "coap,webrtc", "webrtc,coap", NULL));
  CHECK_STREQ(sdtls_conn_alpn(CLIENT(&fx)), "webrtc"); /* the server's preference */
  CHECK_STREQ(sdtls_conn_alpn(SERVER(&fx)), "webrtc");
  fixture_teardown(&fx);

  /* No overlap: no_application_protocol. */
  CHECK(!run_pair_set(&fx, 41, sdtls_config_set_alpn, "h3", "coap", NULL));
  CHECK_EQ(sdtls_conn_error(CLIENT(&fx)), SDTLS_E_ALERT);
  CHECKF(strstr(sdtls_conn_error_detail(CLIENT(&fx)), "application protocol") != NULL,
         "detail: %s", sdtls_conn_error_detail(CLIENT(&fx)));
  fixture_teardown(&fx);

  /* A client without ALPN is accepted; nothing is selected. */
  REQUIRE(run_pair_set(&fx, 42, sdtls_config_set_alpn, NULL, "coap", NULL));
  CHECK(sdtls_conn_alpn(SERVER(&fx)) == NULL);
  fixture_teardown(&fx);

  sdtls_config *c = plain_config();
  REQUIRE(c != NULL);
  CHECK_EQ(sdtls_config_set_alpn(c, ""), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn(c, "a,,b"), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn(c, "a,"), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn(c, NULL), SDTLS_E_INVALID_ARGUMENT);
  sdtls_config_free(c);
}

/* A list the setter takes must also handshake: a server refuses a
 * ClientHello over 16 KiB (excessive_message_size), so the ALPN list is
 * held to 4096 bytes on the wire (one length byte per name), 4095 of text. */
static void test_alpn_limit(void) {
  /* 16 names of 255 bytes: 16 * 256 = 4096 on the wire, the most taken. */
  char *most = repeated_list(16, 255, ',', NULL);
  char *over = repeated_list(17, 255, ',', NULL); /* 4352 */
  char *many = repeated_list(10000, 5, ',', NULL); /* 60,000 */
  char *name256 = repeated_list(1, 256, ',', NULL);
  REQUIRE(most && over && many && name256);
  CHECK_EQ(strlen(most), 4095u);
  sdtls_config *cc = config_make(NULL, 0, NULL), *sc = config_make(&g_server, 0, NULL);
  REQUIRE(cc && sc);
  CHECK_EQ(sdtls_config_set_alpn(cc, "coap"), 0);
  CHECK_EQ(sdtls_config_set_alpn(cc, over), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn(cc, many), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn(cc, name256), SDTLS_E_INVALID_ARGUMENT);
  CHECK_EQ(sdtls_config_set_alpn(cc, most), 0);
  /* The server knows only the last name, which it finds at the end. */
  CHECK_EQ(sdtls_config_set_alpn(sc, most + 16 * 256 - 256), 0);
  fixture fx;
  CHECK(run_pair(&fx, 43, cc, sc, NULL));
  const char *got = sdtls_conn_alpn(SERVER(&fx));
  CHECK(got != NULL && strlen(got) == 255);
  fixture_teardown(&fx);
  free(most);
  free(over);
  free(many);
  free(name256);
}

int main(int argc, char **argv) {
  static const check_test tests[] = {
      {"alpn", test_alpn},
      {"alpn_limit", test_alpn_limit},
  };
  return feature_main(tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
