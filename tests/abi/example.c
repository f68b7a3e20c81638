/* SPDX-License-Identifier: Apache-2.0 */
/* A complete sdtls program: a client and a server connection in one process,
 * datagrams carried by hand from one to the other (a real program would use
 * sendto/recvfrom), time from CLOCK_MONOTONIC. Built against the installed
 * library with pkg-config by tests/abi/installed_test.sh.
 *
 *   cc example.c $(pkg-config --cflags --libs sdtls) -o example
 *   ./example cert.pem key.pem */
#include <sdtls/sdtls.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_QUEUE 16

struct endpoint {
  const char *name;
  sdtls_conn *conn;
  uint8_t queue[MAX_QUEUE][2048]; /* datagrams on their way to the other side */
  size_t len[MAX_QUEUE];
  int count;
};

static sdtls_time now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (sdtls_time)ts.tv_sec * 1000000000u + (sdtls_time)ts.tv_nsec;
}

static int on_send(void *user, const uint8_t *datagram, size_t len) {
  struct endpoint *e = user;
  if (e->count == MAX_QUEUE || len > sizeof(e->queue[0])) {
    return -1; /* lost, as on a real network */
  }
  memcpy(e->queue[e->count], datagram, len);
  e->len[e->count++] = len;
  return 0;
}

static void on_data(void *user, const uint8_t *data, size_t len) {
  struct endpoint *e = user;
  printf("%s received: %.*s\n", e->name, (int)len, (const char *)data);
  if (strcmp(e->name, "server") == 0) {
    sdtls_conn_send(e->conn, data, len, now_ns()); /* echo */
  }
}

/* Hands every queued datagram of `from` to `to`. */
static void deliver(struct endpoint *from, struct endpoint *to) {
  int n = from->count;
  from->count = 0;
  for (int i = 0; i < n; i++) {
    sdtls_conn_receive(to->conn, from->queue[i], from->len[i], now_ns());
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s CERT KEY\n", argv[0]);
    return 2;
  }
  sdtls_config *server_config, *client_config;
  if (sdtls_config_new(&server_config) != 0 || sdtls_config_new(&client_config) != 0) {
    return 1;
  }
  int rc = sdtls_config_set_certificate_file(server_config, argv[1], argv[2]);
  if (rc == 0) {
    rc = sdtls_config_set_ca(client_config, argv[1], NULL); /* trust the self-signed cert */
  }
  if (rc != 0) {
    fprintf(stderr, "credentials: %s\n", sdtls_strerror(rc));
    return 1;
  }

  struct endpoint client = {.name = "client"}, server = {.name = "server"};
  sdtls_callbacks cb = {.size = sizeof(cb), .send = on_send, .on_data = on_data};
  if (sdtls_conn_new(client_config, SDTLS_ROLE_CLIENT, &cb, &client, &client.conn) != 0 ||
      sdtls_conn_new(server_config, SDTLS_ROLE_SERVER, &cb, &server, &server.conn) != 0 ||
      sdtls_conn_set_server_name(client.conn, "localhost") != 0 ||
      sdtls_conn_start(client.conn, now_ns()) != 0) {
    fprintf(stderr, "setup failed: %s\n", sdtls_conn_error_detail(client.conn));
    return 1;
  }
  for (int i = 0; i < 10 && sdtls_conn_state(client.conn) == SDTLS_STATE_HANDSHAKING; i++) {
    deliver(&client, &server);
    deliver(&server, &client);
  }
  if (sdtls_conn_state(client.conn) != SDTLS_STATE_CONNECTED) {
    fprintf(stderr, "handshake failed: %s\n", sdtls_conn_error_detail(client.conn));
    return 1;
  }
  uint8_t fp[32];
  char fp_text[96];
  sdtls_conn_peer_fingerprint_sha256(client.conn, fp);
  sdtls_fingerprint_format(fp, fp_text, sizeof(fp_text));
  printf("connected %s %s peer sha-256 %s\n", sdtls_conn_version(client.conn),
         sdtls_conn_cipher(client.conn), fp_text);

  sdtls_conn_send(client.conn, (const uint8_t *)"hello, datagram world", 21, now_ns());
  deliver(&client, &server);
  deliver(&server, &client);

  sdtls_conn_close(client.conn, now_ns());
  deliver(&client, &server);
  printf("server state after close_notify: %s\n",
         sdtls_conn_state(server.conn) == SDTLS_STATE_CLOSED ? "closed" : "not closed");
  sdtls_conn_free(client.conn);
  sdtls_conn_free(server.conn);
  sdtls_config_free(client_config);
  sdtls_config_free(server_config);
  return 0;
}
