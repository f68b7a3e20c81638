/* SPDX-License-Identifier: Apache-2.0 */
/* OpenSSL's libssl and libsdtls in one process: an OpenSSL DTLS 1.2 client
 * handshakes with an sdtls server connection and data flows both ways. If
 * libsdtls exported any engine symbol, the dynamic linker would bind one
 * stack's calls into the other and this would crash or fail. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

#include "sdtls.h"

#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      return 1;                                                         \
    }                                                                   \
  } while (0)

static BIO *to_openssl; /* datagrams the sdtls server sent */
static char received[64];

static int server_send(void *user_data, const uint8_t *datagram, size_t len) {
  (void)user_data;
  return BIO_write(to_openssl, datagram, (int)len) == (int)len ? 0 : -1;
}

static void server_data(void *user_data, const uint8_t *data, size_t len) {
  sdtls_conn *conn = *(sdtls_conn **)user_data;
  snprintf(received, sizeof(received), "%.*s", (int)len, (const char *)data);
  sdtls_conn_send(conn, data, len, 0); /* echo */
}

int main(int argc, char **argv) {
  CHECK(argc == 3);
  sdtls_config *config;
  CHECK(sdtls_config_new(&config) == 0);
  CHECK(sdtls_config_set_certificate_file(config, argv[1], argv[2]) == 0);
  sdtls_conn *server = NULL;
  sdtls_callbacks cb = {sizeof(cb), server_send, NULL, server_data, NULL};
  CHECK(sdtls_conn_new(config, SDTLS_ROLE_SERVER, &cb, &server, &server) == 0);

  SSL_CTX *ctx = SSL_CTX_new(DTLS_client_method());
  CHECK(ctx != NULL);
  SSL *client = SSL_new(ctx);
  BIO *from_openssl = BIO_new(BIO_s_mem());
  to_openssl = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(to_openssl, -1);
  SSL_set_bio(client, to_openssl, from_openssl);
  SSL_set_options(client, SSL_OP_NO_QUERY_MTU);
  DTLS_set_link_mtu(client, 1200);
  SSL_set_connect_state(client);

  uint8_t buf[4096];
  int done = 0;
  for (int round = 0; round < 20 && !done; round++) {
    int r = SSL_do_handshake(client);
    done = r == 1;
    CHECK(r == 1 || SSL_get_error(client, r) == SSL_ERROR_WANT_READ);
    /* OpenSSL writes each datagram separately into the memory BIO; sdtls
     * accepts several records in one datagram, so pass what is there. */
    int n;
    while ((n = BIO_read(from_openssl, buf, sizeof(buf))) > 0) {
      CHECK(sdtls_conn_receive(server, buf, (size_t)n, 0) == 0);
    }
  }
  CHECK(done);
  CHECK(sdtls_conn_state(server) == SDTLS_STATE_CONNECTED);
  CHECK(strcmp(SSL_get_version(client), "DTLSv1.2") == 0);
  CHECK(strcmp(sdtls_conn_version(server), "DTLSv1.2") == 0);

  CHECK(SSL_write(client, "side by side", 12) == 12);
  int n = BIO_read(from_openssl, buf, sizeof(buf));
  CHECK(n > 0);
  CHECK(sdtls_conn_receive(server, buf, (size_t)n, 0) == 0);
  CHECK(strcmp(received, "side by side") == 0);
  n = SSL_read(client, buf, sizeof(buf));
  CHECK(n == 12 && memcmp(buf, "side by side", 12) == 0);

  SSL_free(client);
  SSL_CTX_free(ctx);
  sdtls_conn_free(server);
  sdtls_config_free(config);
  printf("OpenSSL %s and libsdtls side by side: handshake and echo OK\n",
         OpenSSL_version(OPENSSL_VERSION));
  return 0;
}
