/* The sdtls tool's readers of bytes from the network, without a network:
 * print_certificate() (src/tool/certinfo.c) and the record reader of
 * trace_datagram() (src/tool/trace.c), for tests/cli/parse.sh.
 *
 *   tool_parse_test cert FILE.der       what print_certificate() prints
 *   tool_parse_test records             trace_datagram() at -vv on datagrams
 *                                       built here (every kind of record)
 *   tool_parse_test mutate FILE...      every truncation and many one-byte
 *                                       changes of each file and of the
 *                                       datagrams above through both readers
 *                                       (output discarded): under ASan and
 *                                       UBSan, any read out of bounds fails */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    perror(path);
    exit(2);
  }
  uint8_t *buf = malloc(1 << 20);
  if (buf == NULL) {
    exit(2);
  }
  *len = fread(buf, 1, 1 << 20, f);
  fclose(f);
  return buf;
}

/* Appends a DTLS 1.2 record header (RFC 6347 4.1) and its body. */
static size_t put_record(uint8_t *out, uint8_t type, unsigned epoch, unsigned seq,
                         const uint8_t *body, size_t len) {
  uint8_t header[13] = {type, 0xfe, 0xfd, (uint8_t)(epoch >> 8), (uint8_t)epoch, 0, 0, 0, 0,
                        (uint8_t)(seq >> 8), (uint8_t)seq, (uint8_t)(len >> 8), (uint8_t)len};
  memcpy(out, header, sizeof(header));
  memcpy(out + sizeof(header), body, len);
  return sizeof(header) + len;
}

/* Appends a handshake fragment header (RFC 6347 4.2.2) and `frag` zero bytes
 * of body (`body` overrides the first ones). */
static size_t put_fragment(uint8_t *out, uint8_t type, unsigned msg_len, unsigned msg_seq,
                           unsigned offset, unsigned frag, const uint8_t *body, size_t body_len) {
  uint8_t header[12] = {type,
                        (uint8_t)(msg_len >> 16), (uint8_t)(msg_len >> 8), (uint8_t)msg_len,
                        (uint8_t)(msg_seq >> 8), (uint8_t)msg_seq,
                        (uint8_t)(offset >> 16), (uint8_t)(offset >> 8), (uint8_t)offset,
                        (uint8_t)(frag >> 16), (uint8_t)(frag >> 8), (uint8_t)frag};
  memcpy(out, header, sizeof(header));
  memset(out + sizeof(header), 0, frag);
  if (body != NULL) {
    memcpy(out + sizeof(header), body, body_len < frag ? body_len : frag);
  }
  return sizeof(header) + frag;
}

typedef struct sample {
  uint8_t data[2048];
  size_t len;
} sample;

/* Datagrams with every kind of record the reader tells apart. */
static size_t build_samples(sample *s) {
  uint8_t hs[1024];
  size_t n = 0, h;
  /* 0: a ClientHello, whole, then the first part of a Certificate. */
  h = put_fragment(hs, 1, 40, 0, 0, 40, NULL, 0);
  h += put_fragment(hs + h, 11, 900, 1, 0, 100, NULL, 0);
  s[n].len = put_record(s[n].data, 22, 0, 0, hs, h);
  n++;
  /* 1: a HelloRetryRequest (ServerHello with the special random), an alert,
   * a ChangeCipherSpec, an encrypted handshake record, application data. */
  static const uint8_t hrr[34] = {0xfe, 0xfd, 0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61,
                                  0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
                                  0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07,
                                  0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
  h = put_fragment(hs, 2, 60, 0, 0, 60, hrr, sizeof(hrr));
  s[n].len = put_record(s[n].data, 22, 0, 1, hs, h);
  static const uint8_t alert[2] = {2, 116}, ccs[1] = {1}, sealed[40] = {0};
  s[n].len += put_record(s[n].data + s[n].len, 21, 0, 2, alert, sizeof(alert));
  s[n].len += put_record(s[n].data + s[n].len, 20, 0, 3, ccs, sizeof(ccs));
  s[n].len += put_record(s[n].data + s[n].len, 22, 1, 0, sealed, sizeof(sealed));
  s[n].len += put_record(s[n].data + s[n].len, 23, 1, 1, sealed, 24);
  n++;
  /* 2: DTLS 1.3 unified headers (RFC 9147 4): 16-bit sequence number and a
   * length, epoch 2; then 8-bit sequence number, no length, epoch 3. */
  uint8_t *d = s[n].data;
  d[0] = 0x2e; /* 001 0 1 1 10 */
  d[1] = 0x12;
  d[2] = 0x34;
  d[3] = 0;
  d[4] = 30;
  memset(d + 5, 0xaa, 30);
  d[35] = 0x23; /* 001 0 0 0 11 */
  d[36] = 0x07;
  memset(d + 37, 0xbb, 20);
  s[n].len = 57;
  n++;
  /* 3: a record that claims more than the datagram holds. */
  s[n].len = put_record(s[n].data, 22, 0, 5, hs, 20);
  s[n].data[12] = 200;
  n++;
  /* 4: not DTLS. */
  memcpy(s[n].data, "GET / HTTP/1.1\r\n", 16);
  s[n].len = 16;
  n++;
  return n;
}

static void trace_all(const sample *s, size_t n) {
  trace tr;
  memset(&tr, 0, sizeof(tr));
  tr.verbose = 2;
  for (size_t i = 0; i < n; i++) {
    trace_datagram(&tr, NULL, i % 2 == 0, s[i].data, s[i].len, 0);
  }
}

/* Each truncation of `data`, and at each position each of a few byte
 * values, through both readers. */
static void mutate(const uint8_t *data, size_t len) {
  static const uint8_t values[] = {0x00, 0x01, 0x02, 0x0c, 0x13, 0x16, 0x17, 0x20, 0x22, 0x2f,
                                   0x30, 0x31, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x85, 0xa0, 0xa3,
                                   0xfe, 0xff};
  uint8_t *copy = malloc(len + 1);
  if (copy == NULL) {
    exit(2);
  }
  trace tr;
  memset(&tr, 0, sizeof(tr));
  tr.verbose = 2;
  for (size_t cut = 0; cut <= len; cut++) {
    /* A fresh buffer of exactly `cut` bytes: ASan sees a read past it. */
    uint8_t *exact = malloc(cut > 0 ? cut : 1);
    if (exact == NULL) {
      exit(2);
    }
    memcpy(exact, data, cut);
    print_certificate(stdout, "", exact, cut);
    trace_datagram(&tr, NULL, false, exact, cut, 0);
    free(exact);
  }
  for (size_t i = 0; i < len; i++) {
    for (size_t v = 0; v < sizeof(values); v++) {
      memcpy(copy, data, len);
      copy[i] = values[v];
      print_certificate(stdout, "", copy, len);
      trace_datagram(&tr, NULL, true, copy, len, 0);
    }
  }
  free(copy);
}

int main(int argc, char **argv) {
  static sample samples[8];
  if (argc == 3 && strcmp(argv[1], "cert") == 0) {
    size_t len;
    uint8_t *der = read_file(argv[2], &len);
    print_certificate(stdout, "", der, len);
    free(der);
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "records") == 0) {
    /* trace_datagram() writes to stderr; the test reads stdout. */
    if (dup2(1, 2) < 0) {
      return 2;
    }
    trace_all(samples, build_samples(samples));
    return 0;
  }
  if (argc >= 2 && strcmp(argv[1], "mutate") == 0) {
    if (freopen("/dev/null", "w", stdout) == NULL || freopen("/dev/null", "w", stderr) == NULL) {
      return 2;
    }
    size_t n = build_samples(samples);
    for (size_t i = 0; i < n; i++) {
      mutate(samples[i].data, samples[i].len);
    }
    for (int i = 2; i < argc; i++) {
      size_t len;
      uint8_t *data = read_file(argv[i], &len);
      mutate(data, len);
      free(data);
    }
    return 0;
  }
  fprintf(stderr, "usage: %s cert FILE.der | records | mutate [FILE...]\n", argv[0]);
  return 2;
}
