/* No cookie hand-over glue for this engine layout: the fields it sets are
 * private to the engine and were only verified for Android's layout (see
 * DESIGN.md). sdtls_server then needs SDTLS_OPT_COOKIES=0. */
#include "internal.h"

int sdtls_engine_cookie_handover(SSL *ssl, uint16_t message_seq, uint64_t record_seq) {
  (void)ssl;
  (void)message_seq;
  (void)record_seq;
  return 0;
}

int sdtls_engine_has_cookie_handover(void) { return 0; }
