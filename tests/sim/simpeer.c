/* SPDX-License-Identifier: Apache-2.0 */
#include "simpeer.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void peer_detach_and_free(peer *p) {
  netsim_set_conn(p->sim, p->side, NULL);
  sdtls_conn_free(p->conn); /* deferred by the library when inside a callback */
  p->conn = NULL;
  p->freed = 1;
}

static int cb_send(void *user, const uint8_t *d, size_t len) {
  peer *p = user;
  p->send_calls++;
  if (p->freed) p->callbacks_after_free++;
  if (p->send_in_send_cb && p->conn) {
    static const uint8_t x[1] = {'x'};
    p->send_in_send_rc = sdtls_conn_send(p->conn, x, 1, netsim_now(p->sim));
  }
  if (p->query_in_send_cb && p->conn) {
    (void)sdtls_conn_state(p->conn);
    (void)sdtls_conn_next_deadline(p->conn);
    (void)sdtls_conn_error_detail(p->conn);
  }
  if (p->free_in_send && p->conn) peer_detach_and_free(p);
  if (p->drop_sends) return -1;
  return netsim_send(p->sim, p->side, d, len);
}

static void cb_handshake_done(void *user) {
  peer *p = user;
  if (p->freed) p->callbacks_after_free++;
  p->handshake_done++;
  p->handshake_time = netsim_now(p->sim);
  if (p->greet_in_handshake_done && p->conn)
    p->greet_rc = sdtls_conn_send(p->conn, (const uint8_t *)"hello", 5, netsim_now(p->sim));
  if (p->free_in_handshake_done) peer_detach_and_free(p);
}

static void cb_data(void *user, const uint8_t *data, size_t len) {
  peer *p = user;
  if (p->freed) p->callbacks_after_free++;
  if (p->n_msgs < PEER_MAX_MSGS) {
    p->msgs[p->n_msgs] = malloc(len ? len : 1);
    if (p->msgs[p->n_msgs]) memcpy(p->msgs[p->n_msgs], data, len);
    p->msg_len[p->n_msgs] = len;
  }
  p->n_msgs++;
  const sdtls_time now = netsim_now(p->sim);
  if (p->reenter_in_data && p->conn) {
    p->reenter_rc[0] = sdtls_conn_receive(p->conn, data, len, now);
    p->reenter_rc[1] = sdtls_conn_handle_timeout(p->conn, now);
    p->reenter_rc[2] = sdtls_conn_start(p->conn, now);
    p->reenter_rc[3] = sdtls_conn_set_server_name(p->conn, "x.test");
    p->reenter_rc[4] = sdtls_conn_state(p->conn) == SDTLS_STATE_CONNECTED; /* queries work */
  }
  if (p->echo && p->conn) p->echo_rc = sdtls_conn_send(p->conn, data, len, now);
  if (p->close_in_data && p->conn) p->close_in_data_rc = sdtls_conn_close(p->conn, now);
  if (p->free_in_data && p->conn) peer_detach_and_free(p);
}

static void cb_close(void *user, int reason) {
  peer *p = user;
  if (p->freed) p->callbacks_after_free++;
  p->close_calls++;
  p->close_reason = reason;
  p->close_time = netsim_now(p->sim);
  if (p->free_in_close && p->conn) peer_detach_and_free(p);
}

sdtls_callbacks peer_callbacks(void) {
  sdtls_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  cb.size = sizeof(cb);
  cb.send = cb_send;
  cb.on_handshake_done = cb_handshake_done;
  cb.on_data = cb_data;
  cb.on_close = cb_close;
  return cb;
}

void peer_init(peer *p, netsim *sim, int side, const char *name) {
  memset(p, 0, sizeof(*p));
  p->sim = sim;
  p->side = side;
  p->name = name;
}

int peer_connect_new(peer *p, sdtls_config *config, sdtls_role role) {
  const sdtls_callbacks cb = peer_callbacks();
  const int rc = sdtls_conn_new(config, role, &cb, p, &p->conn);
  if (rc == 0) netsim_set_conn(p->sim, p->side, p->conn);
  return rc;
}

void peer_cleanup(peer *p) {
  if (p->conn) {
    netsim_set_conn(p->sim, p->side, NULL);
    sdtls_conn_free(p->conn);
    p->conn = NULL;
  }
  const size_t n = p->n_msgs < PEER_MAX_MSGS ? p->n_msgs : PEER_MAX_MSGS;
  for (size_t i = 0; i < n; i++) free(p->msgs[i]);
  p->n_msgs = 0;
}

int fixture_init(fixture *fx, uint64_t seed, sdtls_time start, sdtls_config *cc,
                 sdtls_config *sc) {
  memset(fx, 0, sizeof(*fx));
  fx->cc = cc;
  fx->sc = sc;
  fx->sim = netsim_new(seed, start);
  peer_init(&fx->p[0], fx->sim, NETSIM_A, "client");
  peer_init(&fx->p[1], fx->sim, NETSIM_B, "server");
  return cc && sc && fx->sim;
}

int fixture_conns(fixture *fx) {
  int rc = peer_connect_new(&fx->p[0], fx->cc, SDTLS_ROLE_CLIENT);
  if (rc != 0) {
    fprintf(stderr, "client sdtls_conn_new: %s\n", sdtls_strerror(rc));
    return 0;
  }
  rc = peer_connect_new(&fx->p[1], fx->sc, SDTLS_ROLE_SERVER);
  if (rc != 0) {
    fprintf(stderr, "server sdtls_conn_new: %s\n", sdtls_strerror(rc));
    return 0;
  }
  return 1;
}

void fixture_teardown(fixture *fx) {
  peer_cleanup(&fx->p[0]);
  peer_cleanup(&fx->p[1]);
  sdtls_config_free(fx->cc);
  sdtls_config_free(fx->sc);
  netsim_free(fx->sim);
  memset(fx, 0, sizeof(*fx));
}

sdtls_config *config_make(const testcert *own, int verify, const testcert *trust) {
  sdtls_config *c = NULL;
  int rc = sdtls_config_new(&c);
  if (rc != 0) {
    fprintf(stderr, "config_make: sdtls_config_new: %s\n", sdtls_strerror(rc));
    return NULL;
  }
  if (own) {
    rc = sdtls_config_set_certificate_pem(c, (const uint8_t *)own->cert_pem, testcert_cert_len(own),
                                          (const uint8_t *)own->key_pem, testcert_key_len(own));
    if (rc != 0) {
      fprintf(stderr, "config_make: set_certificate_pem: %s\n", sdtls_strerror(rc));
      goto fail;
    }
  }
  rc = sdtls_config_set_option(c, SDTLS_OPT_VERIFY_PEER, verify);
  if (rc != 0) {
    fprintf(stderr, "config_make: VERIFY_PEER: %s\n", sdtls_strerror(rc));
    goto fail;
  }
  /* These tests were written for DTLS 1.2 and check its wire (record
   * headers, flights): they speak it on every engine unless
   * SDTLS_SIM_MAX_VERSION says "engine" (the engine's newest). tests/dtls13
   * covers DTLS 1.3. */
  const char *v = getenv("SDTLS_SIM_MAX_VERSION");
  if (v == NULL || strcmp(v, "engine") != 0) {
    rc = sdtls_config_set_option(c, SDTLS_OPT_MAX_VERSION, SDTLS_DTLS1_2);
    if (rc != 0) {
      fprintf(stderr, "config_make: MAX_VERSION: %s\n", sdtls_strerror(rc));
      goto fail;
    }
  }
  if (trust) {
    rc = sdtls_config_set_ca_pem(c, (const uint8_t *)trust->cert_pem, testcert_cert_len(trust));
    if (rc != 0) {
      fprintf(stderr, "config_make: set_ca_pem: %s\n", sdtls_strerror(rc));
      goto fail;
    }
  }
  return c;
fail:
  sdtls_config_free(c);
  return NULL;
}

static int ended(const peer *p) {
  if (p->freed || !p->conn) return 1;
  const sdtls_state s = sdtls_conn_state(p->conn);
  return s == SDTLS_STATE_FAILED || s == SDTLS_STATE_CLOSED;
}

int pair_connected(void *ctx) {
  peer *pair = ctx;
  if (ended(&pair[0]) || ended(&pair[1])) return 1;
  return pair[0].handshake_done && pair[1].handshake_done;
}

int peer_ended(void *ctx) { return ended((const peer *)ctx); }

int pair_ended(void *ctx) {
  peer *pair = ctx;
  return ended(&pair[0]) || ended(&pair[1]);
}

int pair_handshake(peer pair[2], sdtls_time max_duration) {
  netsim *sim = pair[0].sim;
  if (sdtls_conn_start(pair[0].conn, netsim_now(sim)) != 0) return 0;
  netsim_run(sim, pair_connected, pair, max_duration, 200000);
  return pair[0].conn && pair[1].conn &&
         sdtls_conn_state(pair[0].conn) == SDTLS_STATE_CONNECTED &&
         sdtls_conn_state(pair[1].conn) == SDTLS_STATE_CONNECTED;
}

static uint8_t pattern(int sender, unsigned index, size_t k) {
  return (uint8_t)(sender * 131 + index * 17 + k * 7 + (k >> 8));
}

void payload_make(uint8_t *buf, size_t len, int sender, unsigned index) {
  /* [sender][index: 4 bytes][length: 3 bytes][pattern...] */
  buf[0] = (uint8_t)sender;
  buf[1] = (uint8_t)(index >> 24);
  buf[2] = (uint8_t)(index >> 16);
  buf[3] = (uint8_t)(index >> 8);
  buf[4] = (uint8_t)index;
  buf[5] = (uint8_t)(len >> 16);
  buf[6] = (uint8_t)(len >> 8);
  buf[7] = (uint8_t)len;
  for (size_t k = 8; k < len; k++) buf[k] = pattern(sender, index, k);
}

int payload_check(const uint8_t *buf, size_t len, int sender) {
  if (len < 8 || buf[0] != (uint8_t)sender) return -1;
  const unsigned index =
      ((unsigned)buf[1] << 24) | ((unsigned)buf[2] << 16) | ((unsigned)buf[3] << 8) | buf[4];
  const size_t l = ((size_t)buf[5] << 16) | ((size_t)buf[6] << 8) | buf[7];
  if (l != len || index > 0x7fffffffu) return -1;
  for (size_t k = 8; k < len; k++)
    if (buf[k] != pattern(sender, index, k)) return -1;
  return (int)index;
}

void squash(const char *s, char *out, size_t out_len) {
  size_t n = 0;
  if (out_len == 0) return;
  for (; s && *s && n + 1 < out_len; s++)
    if (isalnum((unsigned char)*s)) out[n++] = (char)tolower((unsigned char)*s);
  out[n] = '\0';
}

void dgram_push(dgram_queue *q, const uint8_t *d, size_t len) {
  if (q->n < DGRAM_QUEUE_LEN && len <= sizeof(q->data[0])) {
    memcpy(q->data[q->n], d, len);
    q->len[q->n++] = len;
  }
}

sdtls_time start_on_slow_links(fixture *fx) {
  netsim_link l = {0};
  l.delay_ns = 10 * NETSIM_MS;
  netsim_set_link(fx->sim, NETSIM_A, &l);
  netsim_set_link(fx->sim, NETSIM_B, &l);
  const sdtls_time t0 = netsim_now(fx->sim);
  const int rc = sdtls_conn_start(CLIENT(fx), t0);
  CHECKF(rc == 0, "sdtls_conn_start: %s", sdtls_strerror(rc));
  return rc == 0 ? t0 : 0;
}

void server_vanishes(fixture *fx) {
  peer_cleanup(&fx->p[1]);
  netsim_link l = {0};
  l.delay_ns = 10 * NETSIM_MS;
  l.drop = 1.0;
  netsim_set_link(fx->sim, NETSIM_A, &l);
  netsim_run(fx->sim, peer_ended, &fx->p[0], 60 * NETSIM_SEC, 100000);
}
