// SPDX-License-Identifier: Apache-2.0
// Cookie hand-over glue for upstream BoringSSL's layout (gen/sources.cmake;
// e.g. the tree in Debian's chromium source package, fetched by
// packaging/fetch-boringssl-current.sh). Same three facts as
// handover_android.cc (docs/design.md, "Stateless cookie exchange"), in the
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

extern "C" int Sdtls_engine_cookie_handover(SSL *ssl, uint16_t message_seq,
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

extern "C" int Sdtls_engine_has_cookie_handover(void) { return 1; }

// ---- DTLS 1.3: stateless HelloRetryRequest cookies (RFC 9147 5.1) ----
//
// The engine's server never puts a cookie into a HelloRetryRequest, and it
// negotiates from the first ClientHello it keeps (tls13_server.cc,
// do_read_second_client_hello). So sdtls answers a first DTLS 1.3
// ClientHello itself with a HelloRetryRequest that carries a cookie (the
// hash of that ClientHello, the suite and group, under an HMAC), keeps
// nothing, and hands the engine the second ClientHello as if it were the
// first, having set up what the engine would have after its own
// HelloRetryRequest:
//   - the suite and group the HelloRetryRequest names are the ones the
//     engine chooses from the same lists (tls13_server.cc,
//     choose_tls13_cipher: ssl_choose_tls13_cipher with the context's AES
//     hardware override and compliance policy; extensions.cc,
//     tls1_get_shared_group: the client's order unless
//     SSL_OP_CIPHER_SERVER_PREFERENCE, which sdtls does not set), so the
//     engine's ServerHello agrees with it and it sends no second one;
//   - SSL_HANDSHAKE::transcript starts with message_hash(ClientHello1) and
//     the HelloRetryRequest (RFC 8446 4.4.1). Before the version is known
//     the transcript only buffers (ssl_transcript.cc, Update ->
//     AddToBufferOrHash); InitHash then hashes the buffer, for DTLS 1.3 as
//     "4 bytes, skip 8, the rest" (HashBuffer, written for a buffered
//     DTLSHandshake ClientHello). The prefix sdtls passes is laid out for
//     exactly that: the message_hash header, 8 filler bytes, the hash, then
//     the HelloRetryRequest in TLS form; the second ClientHello follows
//     through ssl_hash_message as usual;
//   - message and record sequence numbers as for the 1.2 hand-over.
// SSL_HANDSHAKE exists from SSL_new on (tls_new -> ssl_handshake_new, which
// Init()s the transcript); nothing resets it before the first ClientHello.

extern "C" int Sdtls_engine_has_hrr_cookie(void) { return 1; }

extern "C" int Sdtls_engine_tls13_choose(SSL_CTX *ctx, const uint8_t *cipher_suites,
                                         size_t cipher_suites_len, const uint8_t *groups,
                                         size_t groups_len, uint16_t *cipher, uint16_t *group,
                                         int *sha384) {
  bssl::SSLContext *impl = bssl::FromOpaque(ctx);
  if (impl == nullptr || (SSL_CTX_get_options(ctx) & SSL_OP_CIPHER_SERVER_PREFERENCE) ||
      groups_len % 2 != 0) {
    return 0;
  }
  CBS suites;
  CBS_init(&suites, cipher_suites, cipher_suites_len);
  const SSL_CIPHER *c = bssl::ssl_choose_tls13_cipher(
      suites, impl->aes_hw_override ? impl->aes_hw_override_value : EVP_has_aes_hardware(),
      TLS1_3_VERSION, impl->compliance_policy);
  if (c == nullptr) {
    return 0;
  }
  for (size_t i = 0; i + 1 < groups_len; i += 2) {
    uint16_t g = (uint16_t)(groups[i] << 8 | groups[i + 1]);
    for (uint16_t mine : impl->supported_group_list) {
      if (mine == g) {
        *cipher = SSL_CIPHER_get_protocol_id(c);
        *group = g;
        *sha384 = SSL_CIPHER_get_prf_nid(c) == NID_sha384;
        return 1;
      }
    }
  }
  return 0;
}

extern "C" int Sdtls_engine_hrr_handover(SSL *ssl, uint16_t message_seq, uint64_t record_seq,
                                         const uint8_t *prefix, size_t prefix_len) {
  if (!Sdtls_engine_cookie_handover(ssl, message_seq, record_seq) || ssl->s3 == nullptr) {
    return 0;
  }
  bssl::SSL_HANDSHAKE *hs = ssl->s3->hs.get();
  if (hs == nullptr || hs->transcript.buffer().size() != 0) {
    return 0;
  }
  return hs->transcript.Update(bssl::Span<const uint8_t>(prefix, prefix_len)) ? 1 : 0;
}
