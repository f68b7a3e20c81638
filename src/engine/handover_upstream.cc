// Cookie hand-over glue for upstream BoringSSL's layout (gen/sources.cmake;
// e.g. the tree in Debian's chromium source package, fetched by
// packaging/fetch-boringssl-current.sh). Same three facts as
// handover_android.cc (DESIGN.md, "Stateless cookie exchange"), in the
// fields this engine keeps them in (ssl/internal.h of the very tree that is
// linked in):
//   - DTLS1_STATE::handshake_read_seq: message_seq of the next handshake
//     message the engine accepts (d1_both.cc: lower ones are dropped, the
//     ring of incoming messages is indexed from it).
//   - DTLS1_STATE::handshake_write_seq: message_seq the engine writes on its
//     next handshake message (d1_both.cc, ++ after each message).
//   - DTLS1_STATE::write_epoch.next_record: a DTLSRecordNumber (epoch in the
//     top 16 bits, 48-bit sequence below) of the next record written at the
//     current write epoch (dtls_record.cc seals with it and advances it).
//     Android's tree kept the sequence in SSL3_STATE::write_sequence instead.
// All three exist from SSL_new (dtls1_new, DTLS1_STATE::Init) on;
// SSL_set_accept_state and the first SSL_do_handshake do not reset them.
//
// A HelloVerifyRequest leads to DTLS 1.2 only: RFC 9147 5.3 forbids DTLS 1.3
// after one, and this engine's client enforces it (handshake_client.cc,
// do_read_server_hello: SSL_R_INVALID_MESSAGE). server.c caps the
// connection at DTLS 1.2 after the hand-over.
#include <openssl/ssl.h>

extern "C" {
#include "internal.h"
}

#include "ssl/internal.h"

extern "C" int sdtls_engine_cookie_handover(SSL *ssl, uint16_t message_seq,
                                            uint64_t record_seq) {
  if (ssl == nullptr || !SSL_is_dtls(ssl) || !ssl->server || ssl->d1 == nullptr) {
    return 0;
  }
  // Only a fresh object: nothing read or written yet, still at epoch 0.
  bssl::DTLS1_STATE *d1 = ssl->d1;
  if (d1->read_epoch.epoch != 0 || d1->write_epoch.epoch() != 0 ||
      d1->write_epoch.next_record.sequence() != 0 || d1->handshake_read_seq != 0 ||
      d1->handshake_write_seq != 0) {
    return 0;
  }
  // The next record must carry a number above the ClientHello's, which the
  // HelloVerifyRequest reused (RFC 6347 4.2.1); 48 bits.
  if (record_seq >= bssl::DTLSRecordNumber::kMaxSequence) {
    return 0;
  }
  d1->handshake_read_seq = message_seq;
  d1->handshake_write_seq = message_seq;
  d1->write_epoch.next_record = bssl::DTLSRecordNumber(0, record_seq + 1);
  return 1;
}

extern "C" int sdtls_engine_has_cookie_handover(void) { return 1; }
