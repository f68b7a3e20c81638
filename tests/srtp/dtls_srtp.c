/* SPDX-License-Identifier: Apache-2.0 */
/* DTLS-SRTP (RFC 5764) end to end, as a VoIP or video stack does it: two
 * endpoints that pin each other's certificate fingerprint (as exchanged in
 * SDP's a=fingerprint) make a DTLS handshake that negotiates an SRTP
 * protection profile, key libsrtp 2 from sdtls_conn_srtp_keying() and then
 * exchange SRTP and SRTCP packets both ways over the same "wire" as the DTLS
 * records, told apart by their first byte (RFC 7983).
 *
 * The wire is in memory and the clock is virtual: one process, no sockets,
 * no sleeps. For each profile (SRTP_AES128_CM_SHA1_80, SRTP_AEAD_AES_128_GCM)
 * it checks that
 *   - both sides negotiated the profile and hold mirrored keys (the client's
 *     local_write is the server's remote_write and the other way round), of
 *     the lengths libsrtp expects for that profile;
 *   - RTP and RTCP packets protected with local_write unprotect with the
 *     peer's remote_write to the very bytes that were sent, both ways;
 *   - a packet with one bit flipped (payload or tag) fails to unprotect
 *     (srtp_err_status_auth_fail), a replayed one too (replay_fail), and the
 *     other direction's key cannot unprotect a packet;
 *   - DTLS application data still flows beside the media.
 * Prints one line per profile and exits 0, or names the first failed check
 * and exits 1. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "sdtls.h"

#define MAX_DATAGRAM 1500
#define QUEUE_LEN 64
#define RTP_HEADER_LEN 12
#define PACKETS 50

static int failures;

static void failf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("FAIL: ", stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  va_end(ap);
  failures++;
}

#define CHECK(cond, ...)                                                                      \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      failf(__VA_ARGS__);                                                                     \
      return false;                                                                           \
    }                                                                                         \
  } while (0)

/* ---- the wire: one queue of datagrams per direction ---- */

typedef struct datagram {
  size_t len;
  uint8_t data[MAX_DATAGRAM];
} datagram;

typedef struct queue {
  datagram items[QUEUE_LEN];
  size_t head, count;
} queue;

static bool queue_push(queue *q, const uint8_t *data, size_t len) {
  if (q->count == QUEUE_LEN || len > MAX_DATAGRAM) {
    return false; /* dropped, as a full socket buffer would */
  }
  datagram *d = &q->items[(q->head + q->count) % QUEUE_LEN];
  memcpy(d->data, data, len);
  d->len = len;
  q->count++;
  return true;
}

static datagram *queue_pop(queue *q) {
  if (q->count == 0) {
    return NULL;
  }
  datagram *d = &q->items[q->head];
  q->head = (q->head + 1) % QUEUE_LEN;
  q->count--;
  return d;
}

/* ---- an endpoint: a DTLS connection and two SRTP sessions ---- */

typedef struct endpoint {
  const char *name;
  sdtls_conn *conn;
  queue *out; /* what it sends: the peer's inbox */
  srtp_t tx;  /* protects what it sends (local_write) */
  srtp_t rx;  /* unprotects what the peer sends (remote_write) */
  /* What arrived, as the application sees it. */
  uint8_t media[MAX_DATAGRAM]; /* the last unprotected RTP or RTCP packet */
  int media_len;
  srtp_err_status_t media_status; /* of its srtp_unprotect*() */
  bool media_rtcp;
  char app_data[64]; /* the last DTLS application datagram */
} endpoint;

static int send_cb(void *user, const uint8_t *data, size_t len) {
  endpoint *e = user;
  return queue_push(e->out, data, len) ? 0 : -1;
}

static void data_cb(void *user, const uint8_t *data, size_t len) {
  endpoint *e = user;
  snprintf(e->app_data, sizeof(e->app_data), "%.*s", (int)len, (const char *)data);
}

/* RFC 7983: what one datagram on a DTLS-SRTP 5-tuple is, by its first byte. */
static void endpoint_receive(endpoint *e, const datagram *d, sdtls_time now) {
  uint8_t first = d->data[0];
  if (first >= 20 && first <= 63) {
    sdtls_conn_receive(e->conn, d->data, d->len, now); /* DTLS */
  } else if (first >= 128 && first <= 191) {
    /* RTP or RTCP (RFC 5761: RTCP packet types 192..223 in byte 2). */
    memcpy(e->media, d->data, d->len);
    e->media_len = (int)d->len;
    e->media_rtcp = d->len >= 2 && d->data[1] >= 192 && d->data[1] <= 223;
    e->media_status = e->media_rtcp ? srtp_unprotect_rtcp(e->rx, e->media, &e->media_len)
                                    : srtp_unprotect(e->rx, e->media, &e->media_len);
  }
}

/* Moves datagrams both ways and runs the timers on the virtual clock until
 * both queues are empty and nothing is due. */
static void run_wire(endpoint *a, endpoint *b, queue *to_a, queue *to_b, sdtls_time *now) {
  for (int rounds = 0; rounds < 1000; rounds++) {
    datagram *d;
    bool moved = false;
    while ((d = queue_pop(to_b)) != NULL) {
      endpoint_receive(b, d, *now);
      moved = true;
    }
    while ((d = queue_pop(to_a)) != NULL) {
      endpoint_receive(a, d, *now);
      moved = true;
    }
    if (moved) {
      continue;
    }
    sdtls_time da = sdtls_conn_next_deadline(a->conn), db = sdtls_conn_next_deadline(b->conn);
    sdtls_time next = da < db ? da : db;
    bool handshaking = sdtls_conn_state(a->conn) == SDTLS_STATE_HANDSHAKING ||
                       sdtls_conn_state(b->conn) == SDTLS_STATE_HANDSHAKING;
    if (next == SDTLS_TIME_NEVER || !handshaking) {
      return;
    }
    if (next > *now) {
      *now = next;
    }
    sdtls_conn_handle_timeout(a->conn, *now);
    sdtls_conn_handle_timeout(b->conn, *now);
  }
}

/* ---- certificates: each side pins the other's fingerprint ---- */

typedef struct identity {
  char *cert, *key;
  char fingerprint[8 + 96]; /* "sha-256 AA:BB:..." as in SDP */
} identity;

static bool make_identity(identity *id, const char *name) {
  uint8_t digest[32];
  char hex[96];
  if (sdtls_certificate_generate(name, 1, &id->cert, &id->key) != SDTLS_OK ||
      sdtls_certificate_fingerprint_sha256((const uint8_t *)id->cert, strlen(id->cert), digest) !=
          SDTLS_OK ||
      sdtls_fingerprint_format(digest, hex, sizeof(hex)) != SDTLS_OK) {
    failf("cannot make a certificate for %s", name);
    return false;
  }
  snprintf(id->fingerprint, sizeof(id->fingerprint), "sha-256 %s", hex);
  return true;
}

static sdtls_config *make_config(const identity *self, const identity *peer,
                                 const char *profiles) {
  sdtls_config *cfg = NULL;
  if (sdtls_config_new(&cfg) != SDTLS_OK ||
      sdtls_config_set_certificate_pem(cfg, (const uint8_t *)self->cert, strlen(self->cert),
                                       (const uint8_t *)self->key, strlen(self->key)) != SDTLS_OK ||
      sdtls_config_add_peer_fingerprint(cfg, peer->fingerprint) != SDTLS_OK ||
      sdtls_config_set_srtp_profiles(cfg, profiles) != SDTLS_OK) {
    failf("cannot configure (profiles %s)", profiles);
    sdtls_config_free(cfg);
    return NULL;
  }
  return cfg;
}

/* ---- SRTP ---- */

/* An SRTP session for one direction of `profile`, keyed with `master` (the
 * master key followed by the master salt, as sdtls_srtp_keying holds it). */
static srtp_t srtp_session(int profile, const uint8_t *master, srtp_ssrc_type_t direction) {
  srtp_policy_t policy;
  memset(&policy, 0, sizeof(policy));
  if (srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, (srtp_profile_t)profile) !=
          srtp_err_status_ok ||
      srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, (srtp_profile_t)profile) !=
          srtp_err_status_ok) {
    return NULL;
  }
  policy.ssrc.type = direction;
  policy.key = (unsigned char *)master;
  policy.window_size = 128;
  srtp_t session = NULL;
  return srtp_create(&session, &policy) == srtp_err_status_ok ? session : NULL;
}

/* An RTP packet (version 2, payload type 111) with a text payload. */
static int make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, const char *text) {
  size_t len = strlen(text);
  buf[0] = 0x80;
  buf[1] = 111;
  buf[2] = (uint8_t)(seq >> 8);
  buf[3] = (uint8_t)seq;
  uint32_t ts = 960u * seq;
  for (int i = 0; i < 4; i++) {
    buf[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
    buf[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
  }
  memcpy(buf + RTP_HEADER_LEN, text, len);
  return (int)(RTP_HEADER_LEN + len);
}

/* An RTCP receiver report without report blocks (8 bytes). */
static int make_rtcp(uint8_t *buf, uint32_t ssrc) {
  buf[0] = 0x80;
  buf[1] = 201;
  buf[2] = 0;
  buf[3] = 1;
  for (int i = 0; i < 4; i++) {
    buf[4 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
  }
  return 8;
}

/* `from` protects `plain` (RTP or RTCP) and sends it; `to` must unprotect
 * it to the same bytes. The protected packet is left in `wire`. */
static bool media_one_way(endpoint *from, endpoint *to, queue *to_q, const uint8_t *plain,
                          int plain_len, bool rtcp, uint8_t *wire, int *wire_len,
                          sdtls_time *now, queue *from_q) {
  memcpy(wire, plain, (size_t)plain_len);
  *wire_len = plain_len;
  srtp_err_status_t st =
      rtcp ? srtp_protect_rtcp(from->tx, wire, wire_len) : srtp_protect(from->tx, wire, wire_len);
  CHECK(st == srtp_err_status_ok, "%s: srtp_protect%s failed: %d", from->name, rtcp ? "_rtcp" : "",
        (int)st);
  CHECK(*wire_len > plain_len, "%s: protecting added no tag", from->name);
  if (!rtcp) {
    CHECK(memcmp(wire + RTP_HEADER_LEN, plain + RTP_HEADER_LEN,
                 (size_t)(plain_len - RTP_HEADER_LEN)) != 0,
          "%s: the payload went out in clear", from->name);
  }
  CHECK(queue_push(to_q, wire, (size_t)*wire_len), "wire full");
  to->media_len = -1;
  run_wire(from, to, from_q, to_q, now);
  CHECK(to->media_len >= 0, "%s: no media arrived", to->name);
  CHECK(to->media_status == srtp_err_status_ok, "%s: srtp_unprotect%s failed: %d", to->name,
        rtcp ? "_rtcp" : "", (int)to->media_status);
  CHECK(to->media_rtcp == rtcp, "%s: RTP and RTCP mixed up", to->name);
  CHECK(to->media_len == plain_len && memcmp(to->media, plain, (size_t)plain_len) == 0,
        "%s: unprotected packet differs from what %s sent", to->name, from->name);
  return true;
}

/* Delivers `len` bytes of `wire` to `to` and returns its unprotect status. */
static srtp_err_status_t deliver(endpoint *from, endpoint *to, queue *from_q, queue *to_q,
                                 const uint8_t *wire, int len, sdtls_time *now) {
  to->media_len = -1;
  to->media_status = srtp_err_status_fail;
  queue_push(to_q, wire, (size_t)len);
  run_wire(from, to, from_q, to_q, now);
  return to->media_status;
}

static bool same_key(const uint8_t *a, const uint8_t *b, size_t len) {
  return memcmp(a, b, len) == 0;
}

static void wipe(void *p, size_t len) {
  volatile uint8_t *v = p;
  while (len-- > 0) {
    *v++ = 0;
  }
}

/* One whole run for `profile`. */
static bool run_profile(int profile, const identity *client_id, const identity *server_id) {
  const char *name = sdtls_srtp_profile_name(profile);
  bool ok = false;
  queue *to_client = calloc(1, sizeof(queue)), *to_server = calloc(1, sizeof(queue));
  endpoint client = {.name = "client", .out = to_server};
  endpoint server = {.name = "server", .out = to_client};
  sdtls_srtp_keying ck = {.size = sizeof(ck)}, sk = {.size = sizeof(sk)};
  srtp_t wrong = NULL;
  sdtls_config *ccfg = make_config(client_id, server_id, name);
  sdtls_config *scfg = make_config(server_id, client_id, name);
  sdtls_time now = 1000000000u;
  if (to_client == NULL || to_server == NULL || ccfg == NULL || scfg == NULL) {
    failf("%s: set-up failed", name);
    goto out;
  }
  const sdtls_callbacks cbs = {.size = sizeof(cbs), .send = send_cb, .on_data = data_cb};
  if (sdtls_conn_new(ccfg, SDTLS_ROLE_CLIENT, &cbs, &client, &client.conn) != SDTLS_OK ||
      sdtls_conn_new(scfg, SDTLS_ROLE_SERVER, &cbs, &server, &server.conn) != SDTLS_OK ||
      sdtls_conn_start(client.conn, now) != SDTLS_OK) {
    failf("%s: cannot start the handshake", name);
    goto out;
  }

  /* ---- the DTLS handshake ---- */
  run_wire(&client, &server, to_client, to_server, &now);
  if (sdtls_conn_state(client.conn) != SDTLS_STATE_CONNECTED ||
      sdtls_conn_state(server.conn) != SDTLS_STATE_CONNECTED) {
    failf("%s: handshake failed: client '%s', server '%s'", name,
          sdtls_conn_error_detail(client.conn), sdtls_conn_error_detail(server.conn));
    goto out;
  }
  if (sdtls_conn_srtp_profile(client.conn) != profile ||
      sdtls_conn_srtp_profile(server.conn) != profile) {
    failf("%s: negotiated %d (client) and %d (server)", name,
          sdtls_conn_srtp_profile(client.conn), sdtls_conn_srtp_profile(server.conn));
    goto out;
  }

  /* ---- the keys, split by direction ---- */
  if (sdtls_conn_srtp_keying(client.conn, &ck) != SDTLS_OK ||
      sdtls_conn_srtp_keying(server.conn, &sk) != SDTLS_OK) {
    failf("%s: sdtls_conn_srtp_keying failed", name);
    goto out;
  }
  size_t master_len = ck.key_len + ck.salt_len;
  if (ck.profile != profile ||
      ck.key_len != srtp_profile_get_master_key_length((srtp_profile_t)profile) ||
      ck.salt_len != srtp_profile_get_master_salt_length((srtp_profile_t)profile) ||
      sk.key_len != ck.key_len || sk.salt_len != ck.salt_len) {
    failf("%s: key %zu + salt %zu bytes, libsrtp wants %u + %u", name, ck.key_len, ck.salt_len,
          srtp_profile_get_master_key_length((srtp_profile_t)profile),
          srtp_profile_get_master_salt_length((srtp_profile_t)profile));
    goto out;
  }
  if (!same_key(ck.local_write, sk.remote_write, master_len) ||
      !same_key(ck.remote_write, sk.local_write, master_len) ||
      !same_key(ck.local_write, ck.client_write, master_len) ||
      !same_key(sk.local_write, sk.server_write, master_len) ||
      same_key(ck.local_write, ck.remote_write, master_len)) {
    failf("%s: the two sides' keys do not mirror each other", name);
    goto out;
  }

  /* ---- libsrtp: local_write protects, remote_write unprotects ---- */
  client.tx = srtp_session(profile, ck.local_write, ssrc_any_outbound);
  client.rx = srtp_session(profile, ck.remote_write, ssrc_any_inbound);
  server.tx = srtp_session(profile, sk.local_write, ssrc_any_outbound);
  server.rx = srtp_session(profile, sk.remote_write, ssrc_any_inbound);
  if (client.tx == NULL || client.rx == NULL || server.tx == NULL || server.rx == NULL) {
    failf("%s: srtp_create failed", name);
    goto out;
  }

  /* ---- media both ways ---- */
  uint8_t plain[MAX_DATAGRAM], wire[MAX_DATAGRAM], last_client[MAX_DATAGRAM];
  int plain_len, wire_len = 0, last_client_len = 0;
  for (uint16_t seq = 1; seq <= PACKETS; seq++) {
    char text[64];
    snprintf(text, sizeof(text), "audio frame %u from the client", seq);
    plain_len = make_rtp(plain, seq, 0x11111111u, text);
    if (!media_one_way(&client, &server, to_server, plain, plain_len, false, wire, &wire_len,
                       &now, to_client)) {
      goto out;
    }
    memcpy(last_client, wire, (size_t)wire_len);
    last_client_len = wire_len;
    snprintf(text, sizeof(text), "video frame %u from the server", seq);
    plain_len = make_rtp(plain, (uint16_t)(1000 + seq), 0x22222222u, text);
    if (!media_one_way(&server, &client, to_client, plain, plain_len, false, wire, &wire_len,
                       &now, to_server)) {
      goto out;
    }
  }
  plain_len = make_rtcp(plain, 0x11111111u);
  if (!media_one_way(&client, &server, to_server, plain, plain_len, true, wire, &wire_len, &now,
                     to_client)) {
    goto out;
  }
  plain_len = make_rtcp(plain, 0x22222222u);
  if (!media_one_way(&server, &client, to_client, plain, plain_len, true, wire, &wire_len, &now,
                     to_server)) {
    goto out;
  }

  /* ---- what must not unprotect ---- */
  /* A replay of the client's last packet. */
  srtp_err_status_t st = deliver(&client, &server, to_client, to_server, last_client,
                                 last_client_len, &now);
  if (st != srtp_err_status_replay_fail) {
    failf("%s: a replayed packet gave %d, not replay_fail", name, (int)st);
    goto out;
  }
  /* One bit flipped in the payload, then in the tag, of a fresh packet. */
  for (int where = 0; where < 2; where++) {
    plain_len = make_rtp(plain, (uint16_t)(PACKETS + 1 + where), 0x11111111u, "tampered");
    memcpy(wire, plain, (size_t)plain_len);
    wire_len = plain_len;
    if (srtp_protect(client.tx, wire, &wire_len) != srtp_err_status_ok) {
      failf("%s: srtp_protect failed", name);
      goto out;
    }
    wire[where == 0 ? RTP_HEADER_LEN + 2 : wire_len - 1] ^= 0x01;
    st = deliver(&client, &server, to_client, to_server, wire, wire_len, &now);
    if (st != srtp_err_status_auth_fail) {
      failf("%s: a packet with a flipped %s bit gave %d, not auth_fail", name,
            where == 0 ? "payload" : "tag", (int)st);
      goto out;
    }
  }
  /* The other direction's key: the server's own write key as inbound. */
  wrong = srtp_session(profile, sk.local_write, ssrc_any_inbound);
  plain_len = make_rtp(plain, PACKETS + 10, 0x11111111u, "wrong key");
  memcpy(wire, plain, (size_t)plain_len);
  wire_len = plain_len;
  if (wrong == NULL || srtp_protect(client.tx, wire, &wire_len) != srtp_err_status_ok ||
      srtp_unprotect(wrong, wire, &wire_len) != srtp_err_status_auth_fail) {
    failf("%s: a key of the other direction unprotected a packet", name);
    goto out;
  }

  /* ---- DTLS data beside the media, then close ---- */
  if (sdtls_conn_send(client.conn, (const uint8_t *)"bye", 3, now) != SDTLS_OK) {
    failf("%s: sdtls_conn_send failed", name);
    goto out;
  }
  run_wire(&client, &server, to_client, to_server, &now);
  if (strcmp(server.app_data, "bye") != 0) {
    failf("%s: DTLS data did not arrive beside the media", name);
    goto out;
  }
  sdtls_conn_close(client.conn, now);
  run_wire(&client, &server, to_client, to_server, &now);
  printf("%s: key %zu + salt %zu bytes, %d RTP and 1 RTCP packets each way; tampered "
         "(payload, tag), replayed and wrong-key packets rejected\n",
         name, ck.key_len, ck.salt_len, PACKETS);
  ok = true;

out:
  wipe(&ck, sizeof(ck));
  wipe(&sk, sizeof(sk));
  if (wrong != NULL) srtp_dealloc(wrong);
  if (client.tx != NULL) srtp_dealloc(client.tx);
  if (client.rx != NULL) srtp_dealloc(client.rx);
  if (server.tx != NULL) srtp_dealloc(server.tx);
  if (server.rx != NULL) srtp_dealloc(server.rx);
  sdtls_conn_free(client.conn);
  sdtls_conn_free(server.conn);
  sdtls_config_free(ccfg);
  sdtls_config_free(scfg);
  free(to_client);
  free(to_server);
  return ok;
}

int main(void) {
  if (srtp_init() != srtp_err_status_ok) {
    printf("FAIL: srtp_init\n");
    return 1;
  }
  identity client_id = {0}, server_id = {0};
  if (make_identity(&client_id, "client.example") && make_identity(&server_id, "server.example")) {
    run_profile(SDTLS_SRTP_AES128_CM_SHA1_80, &client_id, &server_id);
    run_profile(SDTLS_SRTP_AEAD_AES_128_GCM, &client_id, &server_id);
  }
  sdtls_free(client_id.cert);
  sdtls_free(client_id.key);
  sdtls_free(server_id.cert);
  sdtls_free(server_id.key);
  srtp_shutdown();
  if (failures > 0) {
    printf("%d check(s) failed\n", failures);
    return 1;
  }
  printf("PASS\n");
  return 0;
}
