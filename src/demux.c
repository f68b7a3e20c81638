/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 7983's demultiplexing of a shared socket by the first byte, with
 * RFC 9443's QUIC ranges: one table that every binding shares, so that no
 * application writes its own (docs/webrtc.md). */
#include "internal.h"

int sdtls_classify(const uint8_t *datagram, size_t len) {
  if (datagram == NULL || len == 0) {
    return SDTLS_PACKET_UNKNOWN;
  }
  static const struct {
    uint8_t first, last;
    int kind;
  } ranges[] = {
      {0, 3, SDTLS_PACKET_STUN},           {16, 19, SDTLS_PACKET_ZRTP},
      {20, 63, SDTLS_PACKET_DTLS},         {64, 79, SDTLS_PACKET_TURN_CHANNEL},
      {80, 127, SDTLS_PACKET_QUIC},        {128, 191, SDTLS_PACKET_RTP},
      {192, 255, SDTLS_PACKET_QUIC},
  };
  for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
    if (datagram[0] >= ranges[i].first && datagram[0] <= ranges[i].last) {
      return ranges[i].kind;
    }
  }
  return SDTLS_PACKET_UNKNOWN; /* 4..15 */
}
