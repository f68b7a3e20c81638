/* SPDX-License-Identifier: Apache-2.0 */
/* --verbose: every datagram the tool sends (its send callback) and
 * receives (its receive loop) is counted and timed here, and described from
 * its DTLS record headers, read by the tool itself: the public API says
 * nothing about records.
 *
 * A datagram holds one or more records. A DTLS 1.2 (and DTLS 1.3 epoch 0)
 * record has a plaintext header (RFC 6347 4.1: type, version, epoch,
 * sequence number, length); its handshake messages are readable while the
 * epoch is 0 (RFC 6347 4.2.2: type, length, message_seq, fragment offset and
 * length). DTLS 1.3 encrypts under a unified header (RFC 9147 4: flags, the
 * epoch's low two bits, an encrypted sequence number, an optional length):
 * its content type is inside the encryption, so such a record is only
 * "encrypted". The bytes come from the network: every length is checked
 * before it is used, and a datagram that is not DTLS says so. */
#include <stdarg.h>
#include <string.h>

#include "tool.h"

/* ---- names ---- */

static const char *content_type_name(uint8_t type) {
  switch (type) {
  case 20:
    return "change_cipher_spec";
  case 21:
    return "alert";
  case 22:
    return "handshake";
  case 23:
    return "application_data";
  case 25:
    return "tls12_cid";
  case 26:
    return "ack";
  default:
    return "unknown";
  }
}

static const char *handshake_name(uint8_t type) {
  switch (type) {
  case 0:
    return "HelloRequest";
  case 1:
    return "ClientHello";
  case 2:
    return "ServerHello";
  case 3:
    return "HelloVerifyRequest";
  case 4:
    return "NewSessionTicket";
  case 8:
    return "EncryptedExtensions";
  case 11:
    return "Certificate";
  case 12:
    return "ServerKeyExchange";
  case 13:
    return "CertificateRequest";
  case 14:
    return "ServerHelloDone";
  case 15:
    return "CertificateVerify";
  case 16:
    return "ClientKeyExchange";
  case 20:
    return "Finished";
  case 24:
    return "KeyUpdate";
  default:
    return "unknown handshake message";
  }
}

const char *alert_name(int alert) {
  static const struct {
    int code;
    const char *name;
  } alerts[] = {
      {0, "close_notify"},          {10, "unexpected_message"},
      {20, "bad_record_mac"},       {22, "record_overflow"},
      {40, "handshake_failure"},    {42, "bad_certificate"},
      {43, "unsupported_certificate"}, {44, "certificate_revoked"},
      {45, "certificate_expired"},  {46, "certificate_unknown"},
      {47, "illegal_parameter"},    {48, "unknown_ca"},
      {49, "access_denied"},        {50, "decode_error"},
      {51, "decrypt_error"},        {70, "protocol_version"},
      {71, "insufficient_security"}, {80, "internal_error"},
      {86, "inappropriate_fallback"}, {90, "user_canceled"},
      {109, "missing_extension"},   {110, "unsupported_extension"},
      {112, "unrecognized_name"},   {115, "unknown_psk_identity"},
      {116, "certificate_required"}, {120, "no_application_protocol"},
  };
  for (size_t i = 0; i < sizeof(alerts) / sizeof(alerts[0]); i++) {
    if (alerts[i].code == alert) {
      return alerts[i].name;
    }
  }
  return "unknown alert";
}

/* A ServerHello whose random is this is a HelloRetryRequest (RFC 8446
 * 4.1.3): a DTLS 1.3 server's cookie or group request. */
static const uint8_t hello_retry_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

/* ---- what a datagram holds ---- */

/* A line being built; what does not fit is cut. */
typedef struct line {
  char buf[400];
  size_t len;
} line;

static void add(line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(line *l, const char *fmt, ...) {
  size_t room = sizeof(l->buf) - l->len;
  if (room <= 1) {
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(l->buf + l->len, room, fmt, ap);
  va_end(ap);
  if (n > 0) {
    l->len += (size_t)n < room ? (size_t)n : room - 1;
  }
}

/* An item of a datagram's summary ("ClientHello", "encrypted"). */
#define ITEM(view, ...)                                                                     \
  do {                                                                                      \
    add(&(view)->summary, "%s", (view)->summary.len > 0 ? ", " : "");                       \
    add(&(view)->summary, __VA_ARGS__);                                                     \
  } while (0)

#define RECORD_LINES_MAX 32 /* per datagram; more are counted */

typedef struct datagram_view {
  line summary;                       /* its contents, for the datagram's line */
  line records[RECORD_LINES_MAX];     /* one line per record */
  size_t n_records, more_records;     /* lines used; records beyond them */
  bool certificate_request;           /* a plaintext CertificateRequest */
} datagram_view;

static uint32_t get24(const uint8_t *p) {
  return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* The handshake fragments of a plaintext record: their names into the
 * summary, and "Name(type) message m, n bytes" (or "bytes a-b of n" for a
 * fragment) each into `rec`. */
static void read_handshake(datagram_view *v, const uint8_t *p, size_t len, line *rec) {
  const char *sep = ": ";
  while (len > 0) {
    if (len < 12) {
      ITEM(v, "truncated handshake message");
      add(rec, "%struncated handshake message", sep);
      return;
    }
    uint8_t type = p[0];
    uint32_t msg_len = get24(p + 1), offset = get24(p + 6), frag_len = get24(p + 9);
    unsigned msg_seq = (unsigned)(p[4] << 8 | p[5]);
    const char *name = handshake_name(type);
    if (frag_len > len - 12) {
      ITEM(v, "truncated %s", name);
      add(rec, "%struncated %s(%u)", sep, name, type);
      return;
    }
    if (type == 2 && offset == 0 && frag_len >= 2 + sizeof(hello_retry_random) &&
        memcmp(p + 12 + 2, hello_retry_random, sizeof(hello_retry_random)) == 0) {
      name = "HelloRetryRequest";
    }
    bool whole = offset == 0 && frag_len == msg_len;
    ITEM(v, "%s%s", name, whole ? "" : " (part)");
    add(rec, "%s%s(%u) message %u, ", sep, name, type, msg_seq);
    if (whole) {
      add(rec, "length %lu", (unsigned long)msg_len);
    } else {
      add(rec, "bytes %lu-%lu of %lu", (unsigned long)offset,
          (unsigned long)offset + frag_len, (unsigned long)msg_len);
    }
    if (type == 13) {
      v->certificate_request = true;
    }
    sep = "; ";
    p += 12 + frag_len;
    len -= 12 + frag_len;
  }
}

/* Reads the record at the start of d[0..len) into the view (its line in
 * `rec`). Returns its size, or `len` when it is the datagram's last: no
 * length, truncated, or not a record. */
static size_t read_record(datagram_view *v, const uint8_t *d, size_t len, line *rec) {
  if ((d[0] & 0xe0) == 0x20) {
    /* DTLS 1.3 unified header, 001CSLEE (RFC 9147 4). */
    uint8_t flags = d[0];
    unsigned epoch_bits = flags & 0x03;
    if (flags & 0x10) {
      /* The connection ID's length is the connection's: not known here. */
      ITEM(v, "encrypted");
      add(rec, "DTLS 1.3 ciphertext, epoch %u (low bits), with a connection ID: not read "
               "further", epoch_bits);
      return len;
    }
    size_t header = 1 + ((flags & 0x08) ? 2 : 1) + ((flags & 0x04) ? 2 : 0);
    if (header > len) {
      ITEM(v, "truncated record");
      add(rec, "DTLS 1.3 ciphertext, truncated header (%zu bytes)", len);
      return len;
    }
    size_t body = (flags & 0x04) ? (size_t)(d[header - 2] << 8 | d[header - 1]) : len - header;
    if (body > len - header) {
      ITEM(v, "truncated record");
      add(rec, "DTLS 1.3 ciphertext, epoch %u (low bits), length %zu, truncated (%zu there)",
          epoch_bits, body, len - header);
      return len;
    }
    ITEM(v, "encrypted");
    add(rec, "DTLS 1.3 ciphertext, epoch %u (low bits), length %zu, content type encrypted",
        epoch_bits, body);
    return header + body;
  }
  uint8_t type = d[0];
  if (type < 20 || type > 26 || len < 3 || d[1] != 0xfe) {
    ITEM(v, "not DTLS");
    add(rec, "not DTLS (%zu bytes)", len);
    return len;
  }
  if (len < 13) {
    ITEM(v, "truncated record");
    add(rec, "truncated record header (%zu bytes)", len);
    return len;
  }
  unsigned version = (unsigned)(d[1] << 8 | d[2]);
  unsigned epoch = (unsigned)(d[3] << 8 | d[4]);
  unsigned long long seq = 0;
  for (int i = 5; i < 11; i++) {
    seq = seq << 8 | d[i];
  }
  size_t body = (size_t)(d[11] << 8 | d[12]);
  const uint8_t *p = d + 13;
  add(rec, "%s(%u) %s epoch %u seq %llu, length %zu", content_type_name(type), type,
      version == 0xfeff   ? "DTLS 1.0"
      : version == 0xfefd ? "DTLS 1.2"
                          : "DTLS ?",
      epoch, seq, body);
  if (body > len - 13) {
    ITEM(v, "truncated record");
    add(rec, ", truncated (%zu there)", len - 13);
    return len;
  }
  if (epoch == 0 && type == 22) {
    read_handshake(v, p, body, rec);
  } else if (epoch == 0 && type == 21 && body == 2) {
    const char *level = p[0] == 2 ? "fatal" : "warning";
    ITEM(v, "alert %s %s", level, alert_name(p[1]));
    add(rec, ": %s %s(%u)", level, alert_name(p[1]), p[1]);
  } else if (type == 20) {
    ITEM(v, "ChangeCipherSpec");
  } else if (type == 23) {
    ITEM(v, "application data");
    add(rec, ": encrypted");
  } else {
    ITEM(v, "encrypted %s", content_type_name(type));
    add(rec, ": encrypted");
  }
  return 13 + body;
}

static void read_datagram(datagram_view *v, const uint8_t *d, size_t len) {
  memset(v, 0, sizeof(*v));
  while (len > 0) {
    line scratch;
    line *rec = v->n_records < RECORD_LINES_MAX ? &v->records[v->n_records++] : &scratch;
    if (rec == &scratch) {
      v->more_records++;
    }
    rec->len = 0;
    rec->buf[0] = '\0';
    size_t used = read_record(v, d, len, rec);
    d += used;
    len -= used;
  }
  if (v->n_records == 0) {
    ITEM(v, "empty");
  }
}

/* ---- tracing ---- */

void trace_datagram(trace *tr, const char *peer, bool sent, const uint8_t *d, size_t len,
                    sdtls_time now) {
  if (sent) {
    tr->sent++;
    tr->sent_bytes += len;
    tr->timer_sent += tr->on_timer ? 1 : 0;
  } else {
    tr->received++;
    tr->received_bytes += len;
  }
  bool print = tr->verbose > 1 || (tr->verbose == 1 && !tr->handshake_done);
  /* Received datagrams are read during the handshake also without
   * --verbose: a CertificateRequest explains a refusal later. */
  if (!print && (sent || tr->handshake_done)) {
    return;
  }
  static _Thread_local datagram_view v; /* large; one per server worker thread */
  read_datagram(&v, d, len);
  if (!sent && v.certificate_request) {
    tr->certificate_request = true;
  }
  if (!print) {
    return;
  }
  double ms = now > tr->start ? (double)(now - tr->start) / 1e6 : 0.0;
  fprintf(stderr, "* %s%s%.1f ms %s %zu bytes%s: %s\n", peer != NULL ? peer : "",
          peer != NULL ? " " : "", ms, sent ? ">" : "<", len,
          sent && tr->on_timer ? " (timer)" : "", v.summary.buf);
  if (tr->verbose > 1) {
    for (size_t i = 0; i < v.n_records; i++) {
      fprintf(stderr, "*   %s record %s\n", sent ? ">" : "<", v.records[i].buf);
    }
    if (v.more_records > 0) {
      fprintf(stderr, "*   %s %zu more records\n", sent ? ">" : "<", v.more_records);
    }
  }
}

void trace_handshake_done(trace *tr, const char *peer, sdtls_time now) {
  tr->handshake_done = true;
  if (tr->verbose == 0) {
    return;
  }
  fprintf(stderr,
          "* %s%shandshake done in %.1f ms: sent %lu datagram%s, %llu bytes (%lu on a timer); "
          "received %lu datagram%s, %llu bytes\n",
          peer != NULL ? peer : "", peer != NULL ? " " : "",
          now > tr->handshake_start ? (double)(now - tr->handshake_start) / 1e6 : 0.0, tr->sent,
          tr->sent == 1 ? "" : "s", tr->sent_bytes, tr->timer_sent, tr->received,
          tr->received == 1 ? "" : "s", tr->received_bytes);
}
