// SPDX-License-Identifier: Apache-2.0
// Cookie hand-over glue for Android's BoringSSL layout (Debian's
// android-platform-external-boringssl). See docs/design.md, "Stateless cookie
// exchange": after sdtls has answered a ClientHello with a HelloVerifyRequest
// on the engine's behalf, the fresh server SSL object must continue the
// exchange the client already sees. The fields set here are private to the
// engine (ssl/internal.h of the very tree that is linked in), and their
// meaning was checked against that tree:
//   - DTLS1_STATE::handshake_read_seq: message_seq of the next handshake
//     message the engine accepts (d1_both.cc: fragments with a lower seq are
//     ignored, the ring buffer of incoming messages starts at it).
//   - DTLS1_STATE::handshake_write_seq: message_seq the engine writes on its
//     next handshake message (d1_both.cc, dtls1_finish_message /
//     add_outgoing: ++ after each message).
//   - SSL3_STATE::write_sequence: for DTLS, bytes [2..8) are the 48-bit record
//     sequence number of the next record written at the current write epoch
//     (dtls_record.cc, dtls_seal_record copies &seq[2], 6 bytes, into the
//     header and increments them); bytes [0..2) stay zero (the epoch lives
//     in DTLS1_STATE::w_epoch). Reset only by dtls1_set_write_state (a new
//     epoch) and SSL_clear.
// All three exist from SSL_new (dtls1_new, tls_new) on; SSL_set_accept_state
// and the first SSL_do_handshake do not reset them. tests/server checks on
// the wire that a cookie-verified handshake needs no retransmission.
#include <openssl/ssl.h>

#include <string.h>

extern "C" {
#include "internal.h"
}

#include "ssl/internal.h"

extern "C" int Sdtls_engine_cookie_handover(SSL *ssl, uint16_t message_seq,
                                            uint64_t record_seq) {
  if (ssl == nullptr || !SSL_is_dtls(ssl) || !ssl->server || ssl->d1 == nullptr ||
      ssl->s3 == nullptr) {
    return 0;
  }
  // Only a fresh object: nothing read or written yet, still at epoch 0.
  bssl::DTLS1_STATE *d1 = ssl->d1;
  if (d1->r_epoch != 0 || d1->w_epoch != 0 || d1->handshake_read_seq != 0 ||
      d1->handshake_write_seq != 0) {
    return 0;
  }
  // The next record must carry a number above the ClientHello's, which the
  // HelloVerifyRequest reused (RFC 6347 4.2.1); 48 bits.
  if (record_seq >= UINT64_C(0xffffffffffff)) {
    return 0;
  }
  uint64_t next = record_seq + 1;
  d1->handshake_read_seq = message_seq;
  d1->handshake_write_seq = message_seq;
  uint8_t *seq = ssl->s3->write_sequence;
  seq[0] = 0;
  seq[1] = 0;
  for (int i = 0; i < 6; i++) {
    seq[7 - i] = (uint8_t)(next >> (8 * i));
  }
  return 1;
}

extern "C" int Sdtls_engine_has_cookie_handover(void) { return 1; }

// Debian's engine speaks no DTLS 1.3: no HelloRetryRequest cookies.
extern "C" int Sdtls_engine_has_hrr_cookie(void) { return 0; }

extern "C" int Sdtls_engine_tls13_choose(SSL_CTX *, const uint8_t *, size_t, const uint8_t *,
                                         size_t, uint16_t *, uint16_t *, int *) {
  return 0;
}

extern "C" int Sdtls_engine_hrr_handover(SSL *, uint16_t, uint64_t, const uint8_t *, size_t) {
  return 0;
}
