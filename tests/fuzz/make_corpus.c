/* SPDX-License-Identifier: Apache-2.0 */
/* Makes the seed corpora of the fuzz targets from real handshakes, in the
 * fuzz build (so the engine's fuzzer-mode records match the targets').
 *
 *   fuzz_make_corpus OUTDIR
 *
 * writes OUTDIR/<target>/<seed> for every target: for the datagram targets
 * the datagrams one side received in a handshake between an sdtls client
 * and an sdtls server (a plain server connection, or sdtls_server with its
 * cookie exchange), with and without a lost flight, in every configuration
 * variant, then application data both ways and a close_notify; for pem the
 * set-up certificates, keys, chains and cipher strings (and the RSA pair
 * made by the openssl CLI at build time); for api_sequence call sequences that
 * complete handshakes with and without a server and free from callbacks.
 * tests/fuzz/run.sh runs it; nothing it makes is committed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

#define QCAP 256

typedef struct dq {
  uint8_t *d[QCAP];
  size_t len[QCAP];
  size_t n;
} dq;

static void dq_push(dq *q, const uint8_t *d, size_t len) {
  if (q->n == QCAP) abort();
  q->d[q->n] = malloc(len);
  if (q->d[q->n] == NULL) abort();
  memcpy(q->d[q->n], d, len);
  q->len[q->n++] = len;
}

static uint8_t *dq_pop(dq *q, size_t *len) {
  uint8_t *d = q->d[0];
  *len = q->len[0];
  memmove(&q->d[0], &q->d[1], (q->n - 1) * sizeof(q->d[0]));
  memmove(&q->len[0], &q->len[1], (q->n - 1) * sizeof(q->len[0]));
  q->n--;
  return d;
}

typedef struct world {
  sdtls_time now;
  dq to_client, to_server;
  sdtls_conn *client, *server_conn;
  sdtls_server *server;
  sdtls_conn *peer; /* the server's connection for the current client */
  int client_done, server_done, client_data;
} world;

static const char *outdir;
static unsigned seeds_written;

static void save(const char *target, const char *name, const fuzz_out *o) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s", outdir, target);
  if (mkdir(path, 0755) != 0 && errno != EEXIST) {
    perror(path);
    exit(1);
  }
  snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(o->buf, 1, o->len, f) != o->len || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
  seeds_written++;
}

/* ---- callbacks ---- */

static int client_send(void *user, const uint8_t *d, size_t len) {
  dq_push(&((world *)user)->to_server, d, len);
  return 0;
}
static void client_done(void *user) { ((world *)user)->client_done = 1; }
static void client_data(void *user, const uint8_t *d, size_t len) {
  (void)d;
  (void)len;
  ((world *)user)->client_data++;
}

static int server_conn_send(void *user, const uint8_t *d, size_t len) {
  dq_push(&((world *)user)->to_client, d, len);
  return 0;
}
static void server_conn_done(void *user) { ((world *)user)->server_done = 1; }
static void server_conn_data(void *user, const uint8_t *d, size_t len) {
  world *w = user;
  sdtls_conn_send(w->server_conn, d, len, w->now); /* echo */
}

static int srv_send(void *user, const uint8_t *addr, size_t addr_len, const uint8_t *d, size_t len) {
  (void)addr;
  (void)addr_len;
  dq_push(&((world *)user)->to_client, d, len);
  return 0;
}
static void srv_connect(void *user, sdtls_conn *conn, const uint8_t *addr, size_t addr_len) {
  (void)addr;
  (void)addr_len;
  ((world *)user)->peer = conn;
}
static void srv_done(void *user, sdtls_conn *conn) {
  (void)conn;
  ((world *)user)->server_done = 1;
}
static void srv_data(void *user, sdtls_conn *conn, const uint8_t *d, size_t len) {
  sdtls_conn_send(conn, d, len, ((world *)user)->now);
}
static void srv_close(void *user, sdtls_conn *conn, int reason) {
  (void)reason;
  world *w = user;
  if (w->peer == conn) w->peer = NULL;
}

/* ---- one exchange ---- */

static void misc_op(fuzz_out *o, unsigned which) { fuzz_out_u8(o, (uint8_t)(FUZZ_OP_MISC | (which << 2))); }

/* Moves every datagram, recording what each side received, until `done`
 * or nothing is left to do; timers run (and are recorded) when idle.
 * `drop_to_client` drops that datagram (1-based) towards the client. */
static void pump(world *w, fuzz_out *rc, fuzz_out *rs, unsigned addr, unsigned drop_to_client,
                 int (*done)(world *)) {
  unsigned to_client_count = 0;
  for (int step = 0; step < 2000 && !done(w); step++) {
    size_t len;
    uint8_t *d;
    if (w->to_server.n > 0) {
      d = dq_pop(&w->to_server, &len);
      fuzz_out_datagram(rs, addr, d, len);
      if (w->server != NULL) {
        size_t alen;
        const uint8_t *a = fuzz_addr(addr, &alen);
        sdtls_server_receive(w->server, a, alen, d, len, w->now);
      } else {
        sdtls_conn_receive(w->server_conn, d, len, w->now);
      }
      free(d);
    } else if (w->to_client.n > 0) {
      d = dq_pop(&w->to_client, &len);
      if (++to_client_count != drop_to_client) {
        fuzz_out_datagram(rc, 0, d, len);
        sdtls_conn_receive(w->client, d, len, w->now);
      }
      free(d);
    } else {
      sdtls_time a = sdtls_conn_next_deadline(w->client);
      sdtls_time b = w->server != NULL ? sdtls_server_next_deadline(w->server)
                                       : sdtls_conn_next_deadline(w->server_conn);
      sdtls_time t = a < b ? a : b;
      if (t == SDTLS_TIME_NEVER) break;
      if (t > w->now) w->now = t;
      misc_op(rc, FUZZ_MISC_DEADLINE);
      misc_op(rs, FUZZ_MISC_DEADLINE);
      sdtls_conn_handle_timeout(w->client, w->now);
      if (w->server != NULL) {
        sdtls_server_handle_timeout(w->server, w->now);
      } else {
        sdtls_conn_handle_timeout(w->server_conn, w->now);
      }
    }
  }
}

static int connected(world *w) { return w->client_done && w->server_done; }
static int echoed(world *w) { return w->client_data > 0 && w->to_server.n == 0 && w->to_client.n == 0; }
static int quiet(world *w) { return w->to_server.n == 0 && w->to_client.n == 0; }

static const uint8_t kPing[] = "ping from the seed client";

/* One client handshake against the server side already in `w`, then data
 * both ways and the client's close_notify. */
static int client_session(world *w, unsigned variant, fuzz_out *rc, fuzz_out *rs, unsigned addr,
                          unsigned drop) {
  sdtls_callbacks cb = {sizeof(cb), client_send, client_done, client_data, NULL};
  if (sdtls_conn_new(fuzz_config(SDTLS_ROLE_CLIENT, variant), SDTLS_ROLE_CLIENT, &cb, w, &w->client) != 0 ||
      sdtls_conn_set_server_name(w->client, FUZZ_SERVER_NAME) != 0 || sdtls_conn_start(w->client, w->now) != 0)
    return 0;
  w->client_done = w->server_done = w->client_data = 0;
  pump(w, rc, rs, addr, drop, connected);
  int ok = connected(w);
  /* The replayed client sends the same ping (an operation in its seed). */
  fuzz_out_u8(rc, FUZZ_OP_SEND);
  fuzz_out_u8(rc, (uint8_t)sizeof(kPing));
  fuzz_out_bytes(rc, kPing, sizeof(kPing));
  sdtls_conn_send(w->client, kPing, sizeof(kPing), w->now);
  pump(w, rc, rs, addr, 0, echoed);
  misc_op(rc, FUZZ_MISC_QUERY);
  misc_op(rc, FUZZ_MISC_EXPORT);
  misc_op(rc, FUZZ_MISC_CLOSE);
  sdtls_conn_close(w->client, w->now);
  pump(w, rc, rs, addr, 0, quiet);
  sdtls_conn_free(w->client);
  w->client = NULL;
  return ok && w->client_data > 0;
}

/* A world at FUZZ_START_TIME, the engine's random stream at its start. */
static void world_init(world *w) {
  memset(w, 0, sizeof(*w));
  w->now = FUZZ_START_TIME;
  fuzz_begin();
}

/* A seed of a datagram target: its first byte, the variant. */
static fuzz_out seed_start(unsigned variant) {
  fuzz_out o = {0};
  fuzz_out_u8(&o, (uint8_t)variant);
  return o;
}

/* A seed's handshake must complete: else a message and exit(1). */
static void require_handshake(int ok, const char *name) {
  if (!ok) {
    fprintf(stderr, "make_corpus: the %s handshake did not complete\n", name);
    exit(1);
  }
}

static void direct(unsigned variant, unsigned drop, const char *name) {
  world w;
  world_init(&w);
  sdtls_callbacks scb = {sizeof(scb), server_conn_send, server_conn_done, server_conn_data, NULL};
  if (sdtls_conn_new(fuzz_config(SDTLS_ROLE_SERVER, variant), SDTLS_ROLE_SERVER, &scb, &w, &w.server_conn) != 0)
    abort();
  fuzz_out rc = seed_start(variant), rs = seed_start(variant);
  require_handshake(client_session(&w, variant, &rc, &rs, 0, drop), name);
  save("client_datagrams", name, &rc);
  save("server_datagrams", name, &rs);
  sdtls_conn_free(w.server_conn);
  fuzz_out_free(&rc);
  fuzz_out_free(&rs);
}

static void front_end(unsigned variant, unsigned drop, int two_clients, const char *name) {
  static const uint8_t kSecret[32] = "sdtls fuzz cookie secret, fixed";
  world w;
  world_init(&w);
  sdtls_server_callbacks cb = {sizeof(cb), srv_send, srv_connect, srv_done, srv_data, srv_close};
  if (sdtls_server_new(fuzz_config(SDTLS_ROLE_SERVER, variant), &cb, &w, &w.server) != 0) abort();
  /* As the target does: the fixed secret, twice. */
  sdtls_server_set_cookie_secret(w.server, kSecret, sizeof(kSecret), w.now);
  sdtls_server_set_cookie_secret(w.server, kSecret, sizeof(kSecret), w.now);
  fuzz_out rc = seed_start(variant), rs = seed_start(variant), rc2 = seed_start(variant);
  int ok = client_session(&w, variant, &rc, &rs, 0, drop);
  if (ok && two_clients) ok = client_session(&w, variant, &rc2, &rs, 2, 0);
  require_handshake(ok, name);
  save("client_datagrams", name, &rc);
  save("server_frontend", name, &rs);
  sdtls_server_free(w.server);
  fuzz_out_free(&rc);
  fuzz_out_free(&rs);
  fuzz_out_free(&rc2);
}

/* ---- pem ---- */

static void pem_seed(const char *name, uint8_t which, const char *a, const char *b) {
  fuzz_out o = {0};
  size_t la = strlen(a);
  fuzz_out_u8(&o, which);
  fuzz_out_u16(&o, (uint16_t)la);
  fuzz_out_bytes(&o, (const uint8_t *)a, la);
  if (b != NULL) fuzz_out_bytes(&o, (const uint8_t *)b, strlen(b));
  save("pem", name, &o);
  fuzz_out_free(&o);
}

static void pem_seeds(void) {
  const char *c0 = fuzz_cert_pem(0), *k0 = fuzz_key_pem(0), *c1 = fuzz_cert_pem(1), *k1 = fuzz_key_pem(1);
  pem_seed("ecdsa-pair", 1 | 8, c0, k0);
  pem_seed("ecdsa-pair-and-ca", 1 | 2, c1, k1);
  pem_seed("mismatched-key", 1 | 8, c0, k1);
  char chain[8192];
  snprintf(chain, sizeof(chain), "%s%s", c0, c1);
  pem_seed("chain-as-ca", 2, chain, NULL);
  pem_seed("chain-and-key", 1, chain, k0);
  pem_seed("ciphers", 4 | 8, "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305", NULL);
  pem_seed("non-aead-ciphers", 4, "AES128-SHA:ECDHE-RSA-AES128-SHA", NULL);
  pem_seed("rsa-pair", 1 | 2, fuzz_rsa_pem(0), fuzz_rsa_pem(1));
  pem_seed("rsa-and-ecdsa-key", 1, fuzz_rsa_pem(0), k0);
}

/* ---- api_sequence (operation bytes: see api_sequence.c) ---- */

static void op(fuzz_out *o, uint8_t code, uint8_t a, int nargs, uint8_t b, uint8_t c) {
  fuzz_out_u8(o, code);
  fuzz_out_u8(o, a);
  if (nargs > 0) fuzz_out_u8(o, b);
  if (nargs > 1) fuzz_out_u8(o, c);
}

/* Plans (op 14): when | what << 3, with api_sequence.c's numbering. */
#define CB_DONE_PLAN (1 | 1 << 3)      /* on_handshake_done: free itself */
#define SRV_CLOSE_ON_DATA (2 | 2 << 3) /* on_data: close the peer */
#define SRV_FREE_ON_DATA (2 | 1 << 3)  /* on_data: free the server */

static void deliver_auto(fuzz_out *o, int times) {
  for (int i = 0; i < times; i++) op(o, 7, 0x80, 0, 0, 0);
}

static void api_seeds(void) {
  for (int kind = 0; kind < 5; kind++) {
    fuzz_out o = {0};
    op(&o, 0, 0, 0, 0, 0);       /* config 0, no verification */
    op(&o, 3, 0, 1, 0, 0);       /* config 0: certificate 0, key 0 */
    op(&o, 3, 0, 1, 3 << 2 | 16, 0); /* config 0: key log on */
    op(&o, 0, 1, 0, 0, 0);       /* config 1, no verification */
    if (kind < 2) {
      op(&o, 4, 0, 1, 0x01, 0);  /* conn 0: client of config 1 */
      op(&o, 4, 1, 1, 0x10, 0);  /* conn 1: server of config 0 */
      if (kind == 1) op(&o, 14, 0, 2, CB_DONE_PLAN, 0); /* conn 0 frees itself when connected */
      op(&o, 1, 0, 0, 0, 0);     /* config 0 freed while in use */
      op(&o, 6, 0, 2, 0, 0);     /* conn 0: start */
      deliver_auto(&o, 12);
      op(&o, 6, 0, 2, 1, 9);     /* conn 0: send 9 bytes */
      deliver_auto(&o, 2);
      op(&o, 6, 1, 2, 2, 0);     /* conn 1: close */
      deliver_auto(&o, 2);
      op(&o, 5, 0, 0, 0, 0);
    } else {
      op(&o, 10, 0, 1, 0, 0);    /* server 0 of config 0 */
      op(&o, 4, 0, 1, 0x01, 0);  /* conn 0: client of config 1 */
      op(&o, 4, 2, 1, 0x01, 0);  /* conn 2: client of config 1 */
      if (kind == 3) op(&o, 14, 0x80, 2, SRV_CLOSE_ON_DATA, 1); /* server closes a peer in on_data */
      if (kind == 4) op(&o, 14, 0x80, 2, SRV_FREE_ON_DATA, 0);  /* server frees itself in on_data */
      op(&o, 6, 0, 2, 0, 0);     /* conn 0: start */
      op(&o, 6, 2, 2, 0, 0);     /* conn 2: start */
      deliver_auto(&o, 20);
      op(&o, 6, 0, 2, 1, 12);    /* conn 0: send */
      deliver_auto(&o, 2);
      op(&o, 13, 0, 2, 0, 2);    /* server 0, peer 0: send */
      deliver_auto(&o, 2);
      op(&o, 9, 200, 0, 0, 0);   /* time: past the handshake timeout */
      op(&o, 12, 0x80, 0, 0, 0); /* server timers */
      op(&o, 13, 0, 2, 1, 0);    /* close_peer */
      deliver_auto(&o, 2);
      op(&o, 11, 0, 0, 0, 0);
    }
    char name[32];
    snprintf(name, sizeof(name), "sequence-%d", kind);
    save("api_sequence", name, &o);
    fuzz_out_free(&o);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 2;
  }
  outdir = argv[1];
  if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
    perror(outdir);
    return 1;
  }
  fuzz_setup();
  static const char *const variant_names[FUZZ_CFG_COUNT] = {"plain", "verify", "mtu256"};
  for (unsigned v = 0; v < FUZZ_CFG_COUNT; v++) {
    char name[64];
    snprintf(name, sizeof(name), "direct-%s", variant_names[v]);
    direct(v, 0, name);
    snprintf(name, sizeof(name), "direct-%s-lost-flight", variant_names[v]);
    direct(v, 1, name);
    snprintf(name, sizeof(name), "cookie-%s", variant_names[v]);
    front_end(v, 0, 0, name);
    snprintf(name, sizeof(name), "cookie-%s-two-peers-lost-flight", variant_names[v]);
    front_end(v, 2, 1, name);
  }
  pem_seeds();
  api_seeds();
  printf("make_corpus: %u seeds in %s\n", seeds_written, outdir);
  return 0;
}
