/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: sdtls_server, the stateless front end and the peers
 * behind it. Operations (fuzz_common.h): datagrams from one of four
 * addresses (the tag's argument), time steps, sends from a live peer, and
 * control calls (close_peer, sdtls_conn_close, secret rotation, a free of
 * the server from inside a callback). Every datagram also goes through the
 * ClientHello parser directly, whose fields must lie inside it.
 *
 * The cookie secret is fixed (set twice, so the random one is forgotten)
 * and the clock starts at FUZZ_START_TIME, so the seeds' cookies are valid.
 *
 * Checks besides the sanitizers: no HelloVerifyRequest larger than the
 * datagram it answers; no datagram over the MTU; on_connect/on_close pair
 * up, no callback for an unknown or closed connection, none after a free;
 * the PEERS gauge matches the live connections. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"
#include "fuzz_common.h"

#define MAX_LIVE 8

typedef struct run {
  sdtls_server *server;
  sdtls_time now;
  int64_t mtu;
  size_t request_len; /* the datagram being fed */
  sdtls_conn *live[MAX_LIVE];
  size_t n_live;
  int freed;
  int free_in_cb; /* armed: the next callback frees the server */
  int echo;
} run;

static const uint8_t kSecret[32] = "sdtls fuzz cookie secret, fixed";

static int live_index(const run *r, const sdtls_conn *c) {
  for (size_t i = 0; i < r->n_live; i++)
    if (r->live[i] == c) return (int)i;
  return -1;
}

static void maybe_free(run *r) {
  if (r->free_in_cb && !r->freed) {
    r->freed = 1;
    sdtls_server_free(r->server); /* deferred until the outer call returns */
  }
}

static int cb_send(void *user, const uint8_t *addr, size_t addr_len, const uint8_t *d, size_t len) {
  run *r = user;
  (void)addr;
  if (r->freed) FINDING("send after sdtls_server_free()");
  if (addr_len != 16 && addr_len != 28) FINDING("address of %zu bytes", addr_len);
  if (len == 0 || (int64_t)len > r->mtu) FINDING("datagram of %zu bytes", len);
  if (len > 13 && d[0] == 22 && d[13] == 3 && len > r->request_len)
    FINDING("HelloVerifyRequest of %zu bytes for a request of %zu", len, r->request_len);
  if (sdtls_server_receive(r->server, addr, addr_len, d, len, r->now) != SDTLS_E_IN_CALLBACK)
    FINDING("receive inside the send callback was not refused");
  return 0;
}

static void cb_connect(void *user, sdtls_conn *conn, const uint8_t *addr, size_t addr_len) {
  run *r = user;
  (void)addr;
  (void)addr_len;
  if (r->freed) FINDING("on_connect after free");
  if (live_index(r, conn) >= 0) FINDING("on_connect twice for one connection");
  if (r->n_live == MAX_LIVE) FINDING("more connections than the peer limit");
  r->live[r->n_live++] = conn;
  sdtls_conn_set_app_data(conn, r);
  maybe_free(r);
}

static void cb_done(void *user, sdtls_conn *conn) {
  run *r = user;
  if (r->freed) FINDING("on_handshake_done after free");
  if (live_index(r, conn) < 0) FINDING("on_handshake_done for an unknown connection");
  if (sdtls_conn_get_app_data(conn) != r) FINDING("app data lost");
  maybe_free(r);
}

static void cb_data(void *user, sdtls_conn *conn, const uint8_t *d, size_t len) {
  run *r = user;
  if (r->freed) FINDING("on_data after free");
  if (live_index(r, conn) < 0) FINDING("on_data for an unknown connection");
  if (r->echo) {
    size_t max = sdtls_conn_max_data_size(conn);
    sdtls_conn_send(conn, d, len < max ? len : max, r->now);
  }
  maybe_free(r);
}

static void cb_close(void *user, sdtls_conn *conn, int reason) {
  run *r = user;
  if (r->freed) FINDING("on_close after free");
  int i = live_index(r, conn);
  if (i < 0) FINDING("on_close for an unknown connection");
  if (reason > 0) FINDING("on_close reason %d", reason);
  r->live[i] = r->live[--r->n_live];
  maybe_free(r);
}

static void check_parser(const uint8_t *d, size_t len) {
  sdtls_client_hello ch;
  if (Sdtls_client_hello_parse(d, len, &ch) != SDTLS_CH_OK) return;
#define INSIDE(ptr, n) \
  if ((n) > 0 && ((ptr) < d || (ptr) + (n) > d + len)) FINDING("ClientHello field outside the datagram")
  INSIDE(ch.random, SDTLS_RANDOM_LEN);
  INSIDE(ch.session_id, ch.session_id_len);
  INSIDE(ch.cookie, ch.cookie_len);
  INSIDE(ch.cipher_suites, ch.cipher_suites_len);
  INSIDE(ch.compression_methods, ch.compression_methods_len);
  INSIDE(ch.extensions, ch.extensions_len);
#undef INSIDE
  if (ch.record_seq > SDTLS_MAX_RECORD_SEQ) FINDING("record sequence over 48 bits");
}

static void misc(run *r, unsigned arg, fuzz_in *in) {
  if (fuzz_script_switch(arg, &r->free_in_cb, &r->echo)) {
    return;
  }
  uint8_t pick = 0;
  switch (arg % 8) {
    case 0: /* close a peer, through the server */
      fuzz_u8(in, &pick);
      if (r->n_live > 0 && sdtls_server_close_peer(r->server, r->live[pick % r->n_live], r->now) != 0)
        FINDING("close_peer of a live connection failed");
      break;
    case 1: /* close a peer through its connection */
      fuzz_u8(in, &pick);
      if (r->n_live > 0) sdtls_conn_close(r->live[pick % r->n_live], r->now);
      break;
    case 2: { /* queries on a live peer */
      fuzz_u8(in, &pick);
      if (r->n_live > 0) {
        sdtls_conn *c = r->live[pick % r->n_live];
        const uint8_t *a;
        size_t alen;
        if (sdtls_conn_peer_address(c, &a, &alen) != 0) FINDING("a server connection without address");
        (void)sdtls_conn_state(c);
        (void)sdtls_conn_error_detail(c);
        if (sdtls_conn_receive(c, a, 1, r->now) != SDTLS_E_STATE) FINDING("receive on a server connection");
        sdtls_conn_free(c); /* ignored for a server's connection */
      }
      break;
    }
    case FUZZ_MISC_DEADLINE: /* run to the next deadline */
      r->now = fuzz_script_deadline(r->now, sdtls_server_next_deadline(r->server));
      sdtls_server_handle_timeout(r->server, r->now);
      break;
    case 6: /* rotate to the same fixed secret: seeds stay valid */
      if (sdtls_server_set_cookie_secret(r->server, kSecret, sizeof(kSecret), r->now) != 0)
        FINDING("set_cookie_secret");
      break;
    default:
      break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  run r;
  memset(&r, 0, sizeof(r));
  r.now = FUZZ_START_TIME;
  fuzz_in in;
  sdtls_config *config = fuzz_script_start(data, size, SDTLS_ROLE_SERVER, &in, &r.mtu);
  sdtls_server_callbacks cb = {sizeof(cb), cb_send, cb_connect, cb_done, cb_data, cb_close};
  if (sdtls_server_new(config, &cb, &r, &r.server) != 0) abort();
  sdtls_server_set_cookie_secret(r.server, kSecret, sizeof(kSecret), r.now);
  sdtls_server_set_cookie_secret(r.server, kSecret, sizeof(kSecret), r.now);

  uint8_t tag;
  while (!r.freed && fuzz_u8(&in, &tag)) {
    const uint8_t *bytes, *addr;
    size_t n, addr_len;
    switch (tag & 3) {
      case FUZZ_OP_DATAGRAM:
        n = fuzz_take(&in, fuzz_u16_or_rest(&in), &bytes);
        check_parser(bytes, n);
        addr = fuzz_addr(tag >> 2, &addr_len);
        r.request_len = n;
        sdtls_server_receive(r.server, addr, addr_len, n ? bytes : NULL, n, r.now);
        break;
      case FUZZ_OP_TIME:
        r.now = fuzz_script_time(&in, r.now);
        sdtls_server_handle_timeout(r.server, r.now);
        break;
      case FUZZ_OP_SEND:
        n = fuzz_script_send(&in, &bytes);
        if (r.n_live > 0) sdtls_conn_send(r.live[(tag >> 2) % r.n_live], n ? bytes : NULL, n, r.now);
        break;
      default:
        misc(&r, tag >> 2, &in);
        break;
    }
    if (!r.freed && sdtls_server_counter_get(r.server, SDTLS_COUNTER_PEERS) != r.n_live)
      FINDING("PEERS gauge %llu, %zu live connections",
              (unsigned long long)sdtls_server_counter_get(r.server, SDTLS_COUNTER_PEERS), r.n_live);
  }
  if (getenv("SDTLS_FUZZ_VERBOSE") != NULL && !r.freed) {
    fprintf(stderr, "server_frontend: created %llu, cookies sent %llu, rejected %llu, closed %llu, live %zu\n",
            (unsigned long long)sdtls_server_counter_get(r.server, SDTLS_COUNTER_CONNECTIONS_CREATED),
            (unsigned long long)sdtls_server_counter_get(r.server, SDTLS_COUNTER_COOKIES_SENT),
            (unsigned long long)sdtls_server_counter_get(r.server, SDTLS_COUNTER_COOKIES_REJECTED),
            (unsigned long long)sdtls_server_counter_get(r.server, SDTLS_COUNTER_CONNECTIONS_CLOSED), r.n_live);
  }
  if (!r.freed) sdtls_server_free(r.server);
  return 0;
}
