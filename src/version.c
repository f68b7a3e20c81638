/* SPDX-License-Identifier: Apache-2.0 */
/* What this build of the library is and can do: sdtls_version(),
 * sdtls_has_feature(), and which DTLS versions the engine it was built
 * against speaks (the config's version options ask it too). */
#include "internal.h"

bool Sdtls_engine_speaks(int64_t version) {
#ifdef DTLS1_3_VERSION
  if (version == SDTLS_DTLS1_3) {
    return true;
  }
#endif
  return version == SDTLS_DTLS1_2;
}

int sdtls_has_feature(sdtls_feature feature) {
  switch (feature) {
    case SDTLS_FEATURE_SRTP:
    case SDTLS_FEATURE_PSK:
    case SDTLS_FEATURE_RESUMPTION:
    case SDTLS_FEATURE_ALPN:
    case SDTLS_FEATURE_DTLS1_2: return 1;
    case SDTLS_FEATURE_DTLS1_3: return Sdtls_engine_speaks(SDTLS_DTLS1_3) ? 1 : 0;
    case SDTLS_FEATURE_COOKIE_EXCHANGE: return Sdtls_engine_has_cookie_handover();
  }
  return 0;
}

uint32_t sdtls_version(const char **string) {
  if (string != NULL) {
    *string = SDTLS_VERSION_STRING " (BoringSSL, embedded)";
  }
  return SDTLS_VERSION_NUMBER;
}
