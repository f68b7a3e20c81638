/* SPDX-License-Identifier: Apache-2.0 */
/* See fuzz_common.h. */
#include "fuzz_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/rand.h>

/* The engine's private header, for its thread-local slots (the fuzz build
 * links the static library, engine symbols and all). */
#include "crypto/internal.h"

#ifndef BORINGSSL_UNSAFE_FUZZER_MODE
#error "the fuzz targets need the engine in fuzzer mode (cmake -DSDTLS_FUZZ=ON)"
#endif

static int set_up;
static char *cert_pem[2], *key_pem[2];
static sdtls_config *configs[2][FUZZ_CFG_COUNT];

static void die(const char *what, int rc) {
  fprintf(stderr, "fuzz set-up: %s: %s\n", what, sdtls_strerror(rc));
  abort();
}

static void rand_state_free(void *p) { OPENSSL_free(p); }

void fuzz_begin(void) {
  /* The deterministic engine draws from a fixed stream (a counter that
   * RAND_reset_for_fuzzing() rewinds) through a per-thread generator that
   * is seeded once: drop that generator too, so the next draw reseeds from
   * the stream's start. */
  void *state = CRYPTO_get_thread_local(OPENSSL_THREAD_LOCAL_RAND);
  if (state != NULL) {
    CRYPTO_set_thread_local(OPENSSL_THREAD_LOCAL_RAND, NULL, rand_state_free);
    OPENSSL_free(state);
  }
  RAND_reset_for_fuzzing();
  ERR_clear_error();
}

static sdtls_config *make_config(sdtls_role role, unsigned variant) {
  sdtls_config *c = NULL;
  int rc = sdtls_config_new(&c);
  if (rc != 0) die("config_new", rc);
  const int own = role == SDTLS_ROLE_SERVER ? 0 : 1;
  if (role == SDTLS_ROLE_SERVER || variant == FUZZ_CFG_VERIFY) {
    rc = sdtls_config_set_certificate_pem(c, (const uint8_t *)cert_pem[own], strlen(cert_pem[own]),
                                          (const uint8_t *)key_pem[own], strlen(key_pem[own]));
    if (rc != 0) die("set_certificate_pem", rc);
  }
  if (variant == FUZZ_CFG_VERIFY) {
    /* Each side trusts the other's self-signed certificate. */
    const int other = 1 - own;
    rc = sdtls_config_set_ca_pem(c, (const uint8_t *)cert_pem[other], strlen(cert_pem[other]));
    if (rc != 0) die("set_ca_pem", rc);
    if (role == SDTLS_ROLE_SERVER) {
      sdtls_config_set_option(c, SDTLS_OPT_REQUIRE_CLIENT_CERT, 1);
    }
  } else {
    sdtls_config_set_option(c, SDTLS_OPT_VERIFY_PEER, 0);
  }
  if (variant == FUZZ_CFG_SMALL_MTU) {
    sdtls_config_set_option(c, SDTLS_OPT_MTU, 256);
  }
  /* Short timers, so that time steps reach them. */
  sdtls_config_set_option(c, SDTLS_OPT_INITIAL_TIMEOUT_MS, 100);
  sdtls_config_set_option(c, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, 10000);
  sdtls_config_set_option(c, SDTLS_OPT_IDLE_TIMEOUT_MS, 60000);
  sdtls_config_set_option(c, SDTLS_OPT_MAX_PEERS, 3);
  sdtls_config_set_option(c, SDTLS_OPT_MAX_HANDSHAKES, 2);
  return c;
}

static char *read_pem(const char *name) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s", FUZZ_CERT_DIR, name);
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    perror(path);
    abort();
  }
  char *buf = calloc(1, 65536);
  if (buf == NULL) abort();
  size_t n = fread(buf, 1, 65535, f);
  fclose(f);
  if (n == 0) die(path, SDTLS_E_FILE);
  return buf;
}

void fuzz_setup(void) {
  if (set_up) {
    return;
  }
  set_up = 1;
  fuzz_begin();
  static const char *const names[2][2] = {{"server.pem", "server.key"}, {"client.pem", "client.key"}};
  for (int i = 0; i < 2; i++) {
    cert_pem[i] = read_pem(names[i][0]);
    key_pem[i] = read_pem(names[i][1]);
  }
  for (unsigned v = 0; v < FUZZ_CFG_COUNT; v++) {
    configs[SDTLS_ROLE_CLIENT][v] = make_config(SDTLS_ROLE_CLIENT, v);
    configs[SDTLS_ROLE_SERVER][v] = make_config(SDTLS_ROLE_SERVER, v);
  }
}

const char *fuzz_rsa_pem(int key) {
  static char *pem[2];
  if (pem[key & 1] == NULL) pem[key & 1] = read_pem((key & 1) ? "rsa-server.key" : "rsa-server.pem");
  return pem[key & 1];
}

sdtls_config *fuzz_config(sdtls_role role, unsigned variant) {
  fuzz_setup();
  return configs[role == SDTLS_ROLE_SERVER ? 1 : 0][variant % FUZZ_CFG_COUNT];
}

const char *fuzz_cert_pem(int which) {
  fuzz_setup();
  return cert_pem[which & 1];
}

const char *fuzz_key_pem(int which) {
  fuzz_setup();
  return key_pem[which & 1];
}

uint64_t fuzz_time_step(uint8_t n) {
  if (n < 128) {
    return (uint64_t)n * 10 * FUZZ_MS;
  }
  return (uint64_t)(n - 127) * 5000 * FUZZ_MS;
}

int fuzz_u8(fuzz_in *in, uint8_t *out) {
  if (in->n == 0) {
    return 0;
  }
  *out = in->p[0];
  in->p++;
  in->n--;
  return 1;
}

uint16_t fuzz_u16_or_rest(fuzz_in *in) {
  if (in->n < 2) {
    uint16_t rest = (uint16_t)in->n;
    return rest;
  }
  uint16_t v = (uint16_t)((in->p[0] << 8) | in->p[1]);
  in->p += 2;
  in->n -= 2;
  return v;
}

size_t fuzz_take(fuzz_in *in, size_t want, const uint8_t **out) {
  size_t n = want < in->n ? want : in->n;
  *out = in->p;
  in->p += n;
  in->n -= n;
  return n;
}

const uint8_t *fuzz_addr(unsigned index, size_t *len) {
  static struct sockaddr_in v4[3];
  static struct sockaddr_in6 v6;
  static int made;
  if (!made) {
    made = 1;
    static const uint16_t ports[3] = {4433, 5544, 4434};
    static const uint32_t ips[3] = {0xc0000201u, 0xc6336407u, 0xc0000201u};
    for (int i = 0; i < 3; i++) {
      v4[i].sin_family = AF_INET;
      v4[i].sin_port = htons(ports[i]);
      v4[i].sin_addr.s_addr = htonl(ips[i]);
    }
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(9999);
    inet_pton(AF_INET6, "2001:db8::17", &v6.sin6_addr);
  }
  switch (index & 3) {
    case 0: *len = sizeof(v4[0]); return (const uint8_t *)&v4[0];
    case 1: *len = sizeof(v4[1]); return (const uint8_t *)&v4[1];
    case 2: *len = sizeof(v6); return (const uint8_t *)&v6;
    default: *len = sizeof(v4[2]); return (const uint8_t *)&v4[2];
  }
}

static void out_grow(fuzz_out *o, size_t more) {
  if (o->len + more <= o->cap) {
    return;
  }
  size_t cap = o->cap ? o->cap : 256;
  while (cap < o->len + more) cap *= 2;
  uint8_t *b = realloc(o->buf, cap);
  if (b == NULL) {
    abort();
  }
  o->buf = b;
  o->cap = cap;
}

sdtls_config *fuzz_script_start(const uint8_t *data, size_t size, sdtls_role role, fuzz_in *in,
                                int64_t *mtu) {
  fuzz_setup();
  fuzz_begin();
  *in = (fuzz_in){data, size};
  uint8_t variant = 0;
  fuzz_u8(in, &variant);
  sdtls_config *config = fuzz_config(role, variant);
  sdtls_config_get_option(config, SDTLS_OPT_MTU, mtu);
  return config;
}

sdtls_time fuzz_script_time(fuzz_in *in, sdtls_time now) {
  uint8_t b = 0;
  fuzz_u8(in, &b);
  return now + fuzz_time_step(b);
}

size_t fuzz_script_send(fuzz_in *in, const uint8_t **out) {
  uint8_t b = 0;
  fuzz_u8(in, &b);
  return fuzz_take(in, b, out);
}

sdtls_time fuzz_script_deadline(sdtls_time now, sdtls_time deadline) {
  return deadline != SDTLS_TIME_NEVER && deadline > now ? deadline : now;
}

int fuzz_script_switch(unsigned arg, int *free_in_cb, int *echo) {
  switch (arg % 8) {
    case FUZZ_MISC_FREE_IN_CB:
      *free_in_cb = 1;
      return 1;
    case FUZZ_MISC_ECHO:
      *echo = !*echo;
      return 1;
    default:
      return 0;
  }
}

void fuzz_out_u8(fuzz_out *o, uint8_t v) {
  out_grow(o, 1);
  o->buf[o->len++] = v;
}

void fuzz_out_u16(fuzz_out *o, uint16_t v) {
  fuzz_out_u8(o, (uint8_t)(v >> 8));
  fuzz_out_u8(o, (uint8_t)v);
}

void fuzz_out_bytes(fuzz_out *o, const uint8_t *d, size_t len) {
  out_grow(o, len);
  if (len > 0) memcpy(o->buf + o->len, d, len);
  o->len += len;
}

void fuzz_out_datagram(fuzz_out *o, unsigned arg, const uint8_t *d, size_t len) {
  fuzz_out_u8(o, (uint8_t)(FUZZ_OP_DATAGRAM | (arg << 2)));
  fuzz_out_u16(o, (uint16_t)len);
  fuzz_out_bytes(o, d, len);
}

void fuzz_out_free(fuzz_out *o) {
  free(o->buf);
  o->buf = NULL;
  o->len = o->cap = 0;
}
