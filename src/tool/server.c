/* sdtls server: serve DTLS clients on one UDP socket.
 *
 * The event loop (socket, stdin, signals, timers) talks to a small "peers"
 * backend: peers_init(), peers_receive(), peers_next_deadline(),
 * peers_handle_timeout(), peers_close_all(). The backend is sdtls_server:
 * it answers unknown addresses with a stateless HelloVerifyRequest, creates
 * a connection only for a valid cookie, routes datagrams and evicts idle
 * peers. Its events go to the ev_* functions, which only see a peer record
 * (hung on the connection as app data). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

static void server_usage(FILE *out) {
  fprintf(out,
          "Usage: sdtls server --listen HOST:PORT --cert FILE --key FILE [OPTIONS]\n"
          "\n"
          "Serves DTLS clients on a UDP port (HOST:PORT or [IPv6]:PORT; port 0 picks a\n"
          "free one). Prints \"listening <address>\" and, per peer, \"accepted <peer>\n"
          "<version> <cipher>\" and \"closed <peer>\" on stderr. Without --echo, received\n"
          "datagrams are printed as lines on stdout and stdin lines are sent to the\n"
          "most recent peer. Runs until SIGINT or SIGTERM.\n"
          "\n"
          "  --listen HOST:PORT      address to listen on\n"
          "  --cert FILE --key FILE  server certificate chain and key (PEM)\n"
          "  --ca FILE               CA certificates (PEM) that client certificates are\n"
          "                          verified against (with --require-client-cert)\n"
          "  --require-client-cert   require a client certificate signed by --ca\n"
          "  --echo                  send every received datagram back to its peer\n"
          "  --mtu N                 largest datagram in bytes, 256..65507 (default 1200)\n"
          "  --keylog FILE           append NSS key log lines (for Wireshark) to FILE\n"
          "  --help                  this help\n");
}

typedef struct server server;

/* Per peer: the tool's state, hung on the connection as app data. */
typedef struct peer {
  server *srv;
  sdtls_conn *conn;
  net_addr addr;
  char name[128]; /* printable address */
  bool announced; /* handshake done and reported */
  bool dead;      /* ended (reported) */
  struct peer *next;
} peer;

struct server {
  int fd;
  bool echo;
  sdtls_config *config;
  sdtls_time now;
  peer *latest; /* where stdin lines go */
  bool stdout_failed;
  /* backend state */
  sdtls_server *lib;
  peer *peers; /* live peers, newest first */
  bool shutting_down;
};

static int send_to(server *srv, const net_addr *addr, const uint8_t *datagram, size_t len) {
  ssize_t n;
  do {
    n = sendto(srv->fd, datagram, len, 0, (const struct sockaddr *)&addr->ss, addr->len);
  } while (n < 0 && errno == EINTR);
  return n == (ssize_t)len ? 0 : -1;
}

/* ---- events (backend independent) ---- */

static void ev_handshake_done(server *srv, peer *p) {
  p->announced = true;
  srv->latest = p;
  const char *version = sdtls_conn_version(p->conn);
  const char *cipher = sdtls_conn_cipher(p->conn);
  fprintf(stderr, "accepted %s %s %s", p->name, version != NULL ? version : "?",
          cipher != NULL ? cipher : "?");
  uint8_t digest[32];
  if (sdtls_conn_peer_fingerprint_sha256(p->conn, digest) == SDTLS_OK) {
    print_fingerprint(stderr, " peer ", digest);
  }
  fputc('\n', stderr);
}

static void ev_data(server *srv, peer *p, const uint8_t *data, size_t len) {
  srv->latest = p;
  if (srv->echo) {
    int rc = sdtls_conn_send(p->conn, data, len, srv->now);
    if (rc != SDTLS_OK) {
      fprintf(stderr, "echo to %s failed: %s\n", p->name, sdtls_strerror(rc));
    }
    return;
  }
  if (fwrite(data, 1, len, stdout) != len || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
    srv->stdout_failed = true;
  }
}

static void ev_close(server *srv, peer *p, int reason) {
  if (reason == 0) {
    fprintf(stderr, "closed %s\n", p->name);
  } else {
    const char *detail = sdtls_conn_error_detail(p->conn);
    if (detail == NULL) {
      detail = "";
    }
    fprintf(stderr, "%s %s: %s%s%s\n", p->announced ? "closed" : "failed", p->name,
            sdtls_strerror(reason), detail[0] != '\0' ? ": " : "", detail);
  }
  if (srv->latest == p) {
    srv->latest = NULL;
  }
  p->dead = true;
}

/* ---- backend: sdtls_server (cookie exchange, peer table, eviction) ---- */

static int srv_send_cb(void *user_data, const uint8_t *addr, size_t addr_len,
                       const uint8_t *datagram, size_t len) {
  server *srv = user_data;
  net_addr to;
  if (addr_len > sizeof(to.ss)) {
    return -1;
  }
  memset(&to, 0, sizeof(to));
  memcpy(&to.ss, addr, addr_len);
  to.len = (socklen_t)addr_len;
  return send_to(srv, &to, datagram, len);
}

static void srv_connect_cb(void *user_data, sdtls_conn *conn, const uint8_t *addr,
                           size_t addr_len) {
  server *srv = user_data;
  peer *p = calloc(1, sizeof(*p));
  if (p == NULL) {
    sdtls_server_close_peer(srv->lib, conn, srv->now); /* its on_close sees no peer */
    return;
  }
  p->srv = srv;
  p->conn = conn;
  memcpy(&p->addr.ss, addr, addr_len < sizeof(p->addr.ss) ? addr_len : sizeof(p->addr.ss));
  p->addr.len = (socklen_t)addr_len;
  net_format((const struct sockaddr *)&p->addr.ss, p->addr.len, p->name, sizeof(p->name));
  p->next = srv->peers;
  srv->peers = p;
  sdtls_conn_set_app_data(conn, p);
}

static void srv_handshake_cb(void *user_data, sdtls_conn *conn) {
  peer *p = sdtls_conn_get_app_data(conn);
  if (p != NULL) {
    ev_handshake_done(user_data, p);
  }
}

static void srv_data_cb(void *user_data, sdtls_conn *conn, const uint8_t *data, size_t len) {
  peer *p = sdtls_conn_get_app_data(conn);
  if (p != NULL) {
    ev_data(user_data, p, data, len);
  }
}

/* The server frees `conn` after this returns: the peer record goes too. */
static void srv_close_cb(void *user_data, sdtls_conn *conn, int reason) {
  server *srv = user_data;
  peer *p = sdtls_conn_get_app_data(conn);
  if (p == NULL) {
    return;
  }
  if (!srv->shutting_down) {
    ev_close(srv, p, reason);
  }
  if (srv->latest == p) {
    srv->latest = NULL;
  }
  for (peer **pp = &srv->peers; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == p) {
      *pp = p->next;
      break;
    }
  }
  sdtls_conn_set_app_data(conn, NULL);
  free(p);
}

static int peers_init(server *srv) {
  sdtls_server_callbacks cbs;
  memset(&cbs, 0, sizeof(cbs));
  cbs.size = sizeof(cbs);
  cbs.send = srv_send_cb;
  cbs.on_connect = srv_connect_cb;
  cbs.on_handshake_done = srv_handshake_cb;
  cbs.on_data = srv_data_cb;
  cbs.on_close = srv_close_cb;
  int rc = sdtls_server_new(srv->config, &cbs, srv, &srv->lib);
  if (rc != SDTLS_OK) {
    report_sdtls_error("cannot create the server", rc, NULL);
    return -1;
  }
  return 0;
}

static void peers_receive(server *srv, const net_addr *addr, const uint8_t *data, size_t len) {
  sdtls_server_receive(srv->lib, (const uint8_t *)&addr->ss, addr->len, data, len, srv->now);
}

static sdtls_time peers_next_deadline(server *srv) {
  return sdtls_server_next_deadline(srv->lib);
}

static void peers_handle_timeout(server *srv) { sdtls_server_handle_timeout(srv->lib, srv->now); }

/* Sends close_notify to every peer and frees the server. */
static void peers_close_all(server *srv) {
  if (srv->lib == NULL) {
    return;
  }
  srv->shutting_down = true;
  while (srv->peers != NULL) {
    peer *p = srv->peers;
    /* on_close (which unlinks p) runs during the call. */
    if (sdtls_server_close_peer(srv->lib, p->conn, srv->now) != SDTLS_OK || srv->peers == p) {
      break; /* not expected; sdtls_server_free() releases the rest */
    }
  }
  sdtls_server_free(srv->lib);
  srv->lib = NULL;
  while (srv->peers != NULL) {
    peer *p = srv->peers;
    srv->peers = p->next;
    free(p);
  }
  srv->latest = NULL;
}

/* ---- event loop ---- */

static void server_read_socket(server *srv) {
  uint8_t buf[65536];
  for (;;) {
    net_addr from;
    memset(&from, 0, sizeof(from));
    from.len = sizeof(from.ss);
    ssize_t n = recvfrom(srv->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from.ss, &from.len);
    if (n < 0) {
      if (errno == EINTR || errno == ECONNREFUSED) {
        continue;
      }
      return;
    }
    srv->now = now_ns();
    peers_receive(srv, &from, buf, (size_t)n);
  }
}

static void server_send_line(server *srv, const char *line, size_t len) {
  if (len == 0) {
    return;
  }
  peer *p = srv->latest;
  if (p == NULL || p->dead || !p->announced) {
    fprintf(stderr, "no connected peer: line not sent\n");
    return;
  }
  int rc = sdtls_conn_send(p->conn, (const uint8_t *)line, len, srv->now);
  if (rc != SDTLS_OK) {
    fprintf(stderr, "send to %s failed: %s\n", p->name, sdtls_strerror(rc));
  }
}

int cmd_server(int argc, char **argv) {
  static char prog[] = "sdtls server";
  enum { OPT_LISTEN = 256, OPT_CERT, OPT_KEY, OPT_CA, OPT_REQUIRE, OPT_ECHO, OPT_MTU, OPT_KEYLOG };
  static const struct option options[] = {
      {"listen", required_argument, NULL, OPT_LISTEN},
      {"cert", required_argument, NULL, OPT_CERT},
      {"key", required_argument, NULL, OPT_KEY},
      {"ca", required_argument, NULL, OPT_CA},
      {"require-client-cert", no_argument, NULL, OPT_REQUIRE},
      {"echo", no_argument, NULL, OPT_ECHO},
      {"mtu", required_argument, NULL, OPT_MTU},
      {"keylog", required_argument, NULL, OPT_KEYLOG},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *listen_spec = NULL, *cert = NULL, *key = NULL, *ca = NULL, *keylog = NULL;
  bool require_client_cert = false, echo = false;
  long mtu = 0;
  argv[0] = prog;
  int opt;
  while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    switch (opt) {
    case OPT_LISTEN:
      listen_spec = optarg;
      break;
    case OPT_CERT:
      cert = optarg;
      break;
    case OPT_KEY:
      key = optarg;
      break;
    case OPT_CA:
      ca = optarg;
      break;
    case OPT_REQUIRE:
      require_client_cert = true;
      break;
    case OPT_ECHO:
      echo = true;
      break;
    case OPT_MTU:
      if (!parse_long(optarg, 256, 65507, &mtu)) {
        fprintf(stderr, "%s: --mtu must be a number from 256 to 65507\n", prog);
        return EXIT_USAGE;
      }
      break;
    case OPT_KEYLOG:
      keylog = optarg;
      break;
    case 'h':
      server_usage(stdout);
      return EXIT_OK;
    default:
      server_usage(stderr);
      return EXIT_USAGE;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
    server_usage(stderr);
    return EXIT_USAGE;
  }
  if (listen_spec == NULL || cert == NULL || key == NULL) {
    fprintf(stderr, "%s: --listen, --cert and --key are required\n", prog);
    server_usage(stderr);
    return EXIT_USAGE;
  }
  if (require_client_cert != (ca != NULL)) {
    fprintf(stderr, "%s: --require-client-cert and --ca go together\n", prog);
    return EXIT_USAGE;
  }
  char host[256], port[8];
  if (!net_split_host_port(listen_spec, host, sizeof(host), port, sizeof(port))) {
    fprintf(stderr, "%s: '%s' is not HOST:PORT or [IPv6]:PORT\n", prog, listen_spec);
    return EXIT_USAGE;
  }

  static server srv; /* large; one per process */
  memset(&srv, 0, sizeof(srv));
  srv.fd = -1;
  srv.echo = echo;
  int status = EXIT_FAIL;
  int rc = sdtls_config_new(&srv.config);
  if (rc != SDTLS_OK) {
    report_sdtls_error("cannot create a configuration", rc, NULL);
    return EXIT_FAIL;
  }
  if ((rc = sdtls_config_set_certificate_file(srv.config, cert, key)) != SDTLS_OK) {
    report_sdtls_error(cert, rc, NULL);
    goto out;
  }
  if (ca != NULL && (rc = sdtls_config_set_ca(srv.config, ca, NULL)) != SDTLS_OK) {
    report_sdtls_error(ca, rc, NULL);
    goto out;
  }
  if (require_client_cert &&
      (rc = sdtls_config_set_option(srv.config, SDTLS_OPT_REQUIRE_CLIENT_CERT, 1)) != SDTLS_OK) {
    report_sdtls_error("--require-client-cert", rc, NULL);
    goto out;
  }
  if (mtu != 0 && (rc = sdtls_config_set_option(srv.config, SDTLS_OPT_MTU, mtu)) != SDTLS_OK) {
    report_sdtls_error("--mtu", rc, NULL);
    goto out;
  }
  if (keylog != NULL && keylog_enable(srv.config, keylog) != 0) {
    goto out;
  }
  if (!sdtls_has_feature(SDTLS_FEATURE_COOKIE_EXCHANGE)) {
    /* This engine cannot take over a cookie-verified ClientHello. */
    fprintf(stderr, "warning: no cookie exchange with this engine (no HelloVerifyRequest)\n");
    sdtls_config_set_option(srv.config, SDTLS_OPT_COOKIES, 0);
  }

  net_addr addrs[8];
  int naddrs = net_resolve(host, port, true, addrs, 8);
  if (naddrs < 0) {
    goto out;
  }
  srv.fd = net_udp_bind(&addrs[0]);
  if (srv.fd < 0) {
    goto out;
  }
  net_addr bound;
  bound.len = sizeof(bound.ss);
  if (getsockname(srv.fd, (struct sockaddr *)&bound.ss, &bound.len) != 0) {
    bound = addrs[0];
  }
  char bound_text[128];
  net_format((const struct sockaddr *)&bound.ss, bound.len, bound_text, sizeof(bound_text));
  if (peers_init(&srv) != 0) {
    goto out;
  }
  int sigfd = signals_install();
  fprintf(stderr, "listening %s\n", bound_text);

  line_reader in;
  line_reader_init(&in, STDIN_FILENO);
  for (;;) {
    srv.now = now_ns();
    if (signals_received()) {
      peers_close_all(&srv);
      status = EXIT_OK;
      goto out;
    }
    if (srv.stdout_failed) {
      errorf("cannot write to stdout: %s", strerror(errno));
      peers_close_all(&srv);
      goto out;
    }
    const char *line;
    size_t len;
    while (line_reader_next(&in, &line, &len)) {
      server_send_line(&srv, line, len);
    }

    struct pollfd fds[3];
    nfds_t nfds = 0;
    fds[nfds++] = (struct pollfd){.fd = srv.fd, .events = POLLIN};
    fds[nfds++] = (struct pollfd){.fd = sigfd, .events = POLLIN};
    bool want_stdin = !echo && !in.eof;
    if (want_stdin) {
      fds[nfds++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
    }
    int n = poll(fds, nfds, poll_timeout_ms(srv.now, peers_next_deadline(&srv)));
    if (n < 0 && errno != EINTR) {
      errorf("poll: %s", strerror(errno));
      peers_close_all(&srv);
      goto out;
    }
    if (n > 0 && (fds[0].revents & (POLLIN | POLLERR))) {
      server_read_socket(&srv);
    }
    if (n > 0 && want_stdin && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      if (line_reader_fill(&in) < 0) {
        in.eof = true;
      }
    }
    srv.now = now_ns();
    if (srv.now >= peers_next_deadline(&srv)) {
      peers_handle_timeout(&srv);
    }
  }

out:
  peers_close_all(&srv);
  if (srv.fd >= 0) {
    close(srv.fd);
  }
  sdtls_config_free(srv.config);
  keylog_close();
  return status;
}
