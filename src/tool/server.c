/* SPDX-License-Identifier: Apache-2.0 */
/* sdtls server: serve DTLS clients on one UDP port.
 *
 * One or more workers (--workers), each a thread with its own UDP socket on
 * the port (SO_REUSEPORT with more than one) and its own sdtls_server; all
 * share one frozen sdtls_config (thread-safe, docs/design.md) and one cookie
 * secret. The main thread handles the signals and talks to the workers
 * through `workers` (an eventfd each); a worker touches nothing shared per
 * datagram.
 *
 * A worker's event loop (socket, stdin with one worker, its wake-up fd,
 * timers) talks to a small "peers" backend: peers_init(), peers_receive(),
 * peers_next_deadline(), peers_handle_timeout(), peers_close_all(). The
 * backend is sdtls_server: it answers unknown addresses with a stateless
 * HelloVerifyRequest, creates a connection only for a valid cookie, routes
 * datagrams and evicts idle peers. Its events go to the ev_* functions,
 * which only see a peer record (hung on the connection as app data) and
 * print one line per peer event (one write each, so that the workers' lines
 * never mix); the counters, summed over the workers, are printed on SIGUSR1
 * and at exit. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "tool.h"

static void server_usage(FILE *out) {
  fprintf(out,
          "Usage: sdtls server --listen HOST:PORT (--cert FILE --key FILE | --psk-identity\n"
          "                    ID --psk HEX) [OPTIONS]\n"
          "\n"
          "Serves many DTLS clients at once on one UDP port (HOST:PORT or [IPv6]:PORT;\n"
          "port 0 picks a free one). An unknown address first gets a stateless cookie\n"
          "exchange (HelloVerifyRequest); only a client that returns the cookie gets a\n"
          "connection. Prints \"listening <address>\" and, per peer, on stderr:\n"
          "  accepted <peer> <version> <cipher> [<group>] [peer sha-256 <fingerprint>]\n"
          "           [psk <identity>] [srtp <profile>] [alpn <protocol>] [resumed]\n"
          "  closed <peer>                     the peer sent close_notify\n"
          "  closed <peer> <reason>            the connection ended otherwise\n"
          "  failed <peer> <reason>            the handshake failed\n"
          "  evicted <peer> idle|handshake-timeout\n"
          "  dropped <peer> limit              a peer or handshake limit was reached\n"
          "                                    (at most one such line a second)\n"
          "and \"stats cookies_sent=N ... peers=N kernel_drops=N\" (the server's counters;\n"
          "kernel_drops: datagrams the kernel dropped for a full buffer) on SIGUSR1\n"
          "and at exit. SIGHUP reads --ticket-secret-file and --cookie-secret-file\n"
          "again and rotates to their new contents (the previous secret is still\n"
          "accepted for one period), printing \"rotated ticket-secret\" and\n"
          "\"rotated cookie-secret\"; a file that cannot be read then is an error line,\n"
          "and its secret stays. Without --echo, received datagrams are printed as\n"
          "lines on stdout and stdin lines are sent to the most recent peer. Runs\n"
          "until SIGINT or SIGTERM.\n"
          "\n"
          "  --listen HOST:PORT      address to listen on\n"
          "  --cert FILE --key FILE  server certificate chain and key (PEM)\n"
          "  --ca FILE               CA certificates (PEM) that client certificates are\n"
          "                          verified against (with --require-client-cert)\n"
          "  --require-client-cert   require a client certificate signed by --ca\n"
          "  --fingerprint sha-256:AA:BB:...\n"
          "                          require a client certificate with this fingerprint\n"
          "                          (repeatable: any of them; sha-256, sha-384, sha-512;\n"
          "                          SDP's \"sha-256 AA:...\" and bare \"AA:...\" too),\n"
          "                          instead of --ca\n"
          "  --psk-identity ID --psk HEX\n"
          "                          also accept clients with this pre-shared key (hex,\n"
          "                          1..64 bytes) under identity ID; without --cert only them\n"
          "  --psk-hint HINT         PSK identity hint sent to clients\n"
          "  --srtp PROFILES         accept DTLS-SRTP (RFC 5764) with these profiles, most\n"
          "                          preferred first, joined by ':' (SRTP_AES128_CM_SHA1_80,\n"
          "                          SRTP_AES128_CM_SHA1_32, SRTP_AEAD_AES_128_GCM,\n"
          "                          SRTP_AEAD_AES_256_GCM)\n"
          "  --alpn LIST             ALPN protocols, most preferred first, joined by ',';\n"
          "                          a client that offers none of them is refused\n"
          "                          (no_application_protocol)\n"
          "  --ticket-secret-file FILE\n"
          "                          protect session tickets with the 32..64 bytes in FILE\n"
          "                          (servers sharing it resume each other's sessions);\n"
          "                          default: a random secret per run\n"
          "  --cookie-secret-file FILE\n"
          "                          make cookies with the 16..64 bytes in FILE (servers\n"
          "                          sharing it accept each other's cookies, e.g. behind\n"
          "                          a load balancer); default: a random secret per run\n"
          "  --echo                  send every received datagram back to its peer\n"
          "  --mtu N                 largest datagram in bytes, 256..65507 (default 1200)\n"
          CONFIG_USAGE_VERSIONS
          "  --max-peers N           most connections at once, 1..1000000 (default 1024);\n"
          "                          a client beyond it is not answered after its cookie\n"
          "  --idle-timeout SEC      evict a peer that sent nothing for SEC seconds\n"
          "                          (decimals allowed; 0 never; default 300)\n"
          "  --workers N|auto        serve with N threads (auto: one per online CPU;\n"
          "                          default 1), each with its own socket bound to the\n"
          "                          address with SO_REUSEPORT (the kernel spreads the\n"
          "                          clients over them by address) and its own peers;\n"
          "                          they share the configuration, the ticket secret and\n"
          "                          one cookie secret, so a client whose ClientHello\n"
          "                          reaches another worker, or that resumes there, gets\n"
          "                          in. --max-peers is per worker. More than 1 (and\n"
          "                          auto) needs --echo.\n"
          "  --rcvbuf BYTES, --sndbuf BYTES\n"
          "                          each socket's receive and send buffer (default 4 MiB,\n"
          "                          so that a burst of ClientHellos fits while the server\n"
          "                          waits for a CPU; 0 the system's default); without\n"
          "                          root, net.core.rmem_max and wmem_max cap them (-v\n"
          "                          says what the kernel granted). What the kernel still\n"
          "                          drops is kernel_drops in the stats line\n"
          "  --no-cookies            no cookie exchange: a ClientHello from any address\n"
          "                          makes a connection. Only for deployments that verify\n"
          "                          the peer's address another way (e.g. ICE in WebRTC):\n"
          "                          without cookies, spoofed ClientHellos make the server\n"
          "                          keep state and send large flights to their victims.\n"
          "  --export LABEL:LEN      print \"EXPORT <label> <hex>\" on stdout for each peer\n"
          "                          after its handshake: LEN bytes (1..1024) of RFC 5705\n"
          "                          keying material for LABEL\n"
          "  --keylog FILE           append NSS key log lines (for Wireshark) to FILE\n"
          "  -v, --verbose           on stderr, lines starting with '*': each datagram\n"
          "                          until its peer's handshake is done (time since the\n"
          "                          start, peer, direction, size, contents), each peer's\n"
          "                          handshake time (since its connection was made),\n"
          "                          negotiated parameters and certificate (the leaf)\n"
          "  -vv                     ... and every datagram after the handshake, with one\n"
          "                          line per DTLS record (type, epoch, sequence, length)\n"
          "  --help                  this help\n");
}

typedef struct server server;
typedef struct workers workers;

#define MAX_WORKERS 1024
/* A server's socket buffers: a burst of ClientHellos (about 1 KiB each
 * with a post-quantum key share, 2.3 KiB of the kernel's accounting) that
 * comes while the worker has no CPU must fit. The kernel's default (208
 * KiB) holds about 90 of them; 4 MiB, as QUIC servers ask for, about
 * 1,800. */
#define DEFAULT_SOCKET_BUFFER (4L << 20)
#define MAX_SOCKET_BUFFER (1L << 30)

/* The server's counters, in the order of the "stats" line. */
static const struct {
  sdtls_server_counter counter;
  const char *name;
} counters[] = {
    {SDTLS_COUNTER_COOKIES_SENT, "cookies_sent"},
    {SDTLS_COUNTER_COOKIES_REJECTED, "cookies_rejected"},
    {SDTLS_COUNTER_CONNECTIONS_CREATED, "created"},
    {SDTLS_COUNTER_CONNECTIONS_CLOSED, "closed"},
    {SDTLS_COUNTER_CONNECTIONS_EVICTED, "evicted"},
    {SDTLS_COUNTER_DROPPED_MALFORMED, "dropped_malformed"},
    {SDTLS_COUNTER_DROPPED_UNKNOWN_PEER, "dropped_unknown_peer"},
    {SDTLS_COUNTER_DROPPED_LIMIT, "dropped_limit"},
    {SDTLS_COUNTER_PEERS, "peers"},
};
#define N_COUNTERS (sizeof(counters) / sizeof(counters[0]))
/* The stats line: the counters, then the datagrams the kernel dropped
 * because a socket's receive buffer was full (SO_RXQ_OVFL). */
#define N_STATS (N_COUNTERS + 1)

/* Per peer: the tool's state, hung on the connection as app data. */
typedef struct peer {
  server *srv;
  sdtls_conn *conn;
  net_addr addr;
  char name[128]; /* printable address */
  bool announced; /* handshake done and reported */
  bool dead;      /* ended (reported) */
  trace tr;       /* its datagrams, for --verbose */
  struct peer *next;
} peer;

/* One worker: a socket, an sdtls_server on it and the thread that runs
 * them (--workers; one by default). Everything but the fields marked as
 * shared is the worker thread's alone. */
struct server {
  int fd;
  bool echo;
  bool stdin_lines; /* one worker without --echo: stdin lines to the latest peer */
  const config_opts *copts;
  sdtls_config *config;
  sdtls_time now;
  peer *latest; /* where stdin lines go */
  bool stdout_failed;
  int verbose;  /* 0, 1 or 2: --verbose */
  trace tr;     /* datagrams of addresses that have no connection (cookie exchange) */
  bool on_timer; /* in peers_handle_timeout() */
  int wake_fd;   /* eventfd: the main thread asks something (workers_request()) */
  workers *ws;
  pthread_t thread;
  int status;    /* the worker's exit status */
  unsigned cookie_gen; /* the shared cookie secret installed (workers.cookie_gen) */
  /* shared: under ws->lock */
  unsigned acked; /* the last request handled */
  bool exited;    /* the thread ended */
  uint64_t stats[N_STATS]; /* the stats at the last request, or at the end */
  /* the worker's own again */
  net_rx_batch rx; /* datagrams in, a recvmmsg() at a time */
  net_tx_batch tx; /* datagrams out, flushed with one sendmmsg() after each
                    * received batch and before each wait */
  /* backend state */
  sdtls_server *lib;
  peer *peers; /* live peers, newest first */
  bool shutting_down;
  uint64_t dropped_limit;      /* counter value at the last "dropped" line */
  sdtls_time dropped_noted_at; /* when that line was printed */
};

/* What the main thread and the workers share. The main thread handles the
 * signals and asks the workers through their wake_fd; a worker reads this
 * only when woken, never per datagram. */
struct workers {
  server *w;
  long n;
  atomic_bool stop; /* end the event loops */
  int done_fd;      /* eventfd: a worker ended */
  pthread_mutex_t lock;
  pthread_cond_t acked; /* a worker handled a request or ended */
  unsigned request;     /* the latest request (workers_request()) */
  /* The cookie secret every worker installs, so that a ClientHello that
   * SO_REUSEPORT hashes to another worker than the one that sent its
   * HelloVerifyRequest passes (--cookie-secret-file's, or drawn once per
   * run); none with one worker and no file (the library's own). */
  unsigned cookie_gen; /* incremented for each new secret */
  uint8_t cookie[64];
  size_t cookie_len;
};

/* ---- events (backend independent) ---- */

static void ev_handshake_done(server *srv, peer *p) {
  p->announced = true;
  srv->latest = p;
  char prefix[160];
  snprintf(prefix, sizeof(prefix), "accepted %s", p->name);
  print_session(prefix, p->conn, false);
  trace_handshake_done(&p->tr, p->name, srv->now);
  if (srv->verbose > 0) {
    print_parameters(p->name, p->conn);
  }
  if (!print_export(srv->copts, p->conn)) {
    srv->stdout_failed = true;
  }
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
  if (!write_line(data, len)) {
    srv->stdout_failed = true;
  }
}

/* One line per ended peer: "closed <peer>" after its close_notify, "evicted
 * <peer> idle|handshake-timeout" for a timeout, else "closed <peer> <reason>"
 * (or "failed" for a handshake that never finished). */
static void ev_close(server *srv, peer *p, int reason) {
  char line[512];
  if (reason == 0) {
    snprintf(line, sizeof(line), "closed %s\n", p->name);
  } else if (reason == SDTLS_E_TIMEOUT) {
    /* An idle peer is closed by the server; a handshake past its deadline
     * fails by itself. */
    bool handshake = sdtls_conn_error(p->conn) == SDTLS_E_TIMEOUT;
    snprintf(line, sizeof(line), "evicted %s %s\n", p->name,
             handshake ? "handshake-timeout" : "idle");
  } else {
    char text[384];
    snprintf(line, sizeof(line), "%s %s %s\n", p->announced ? "closed" : "failed", p->name,
             error_text(reason, sdtls_conn_error_detail(p->conn), text, sizeof(text)));
  }
  fputs(line, stderr);
  if (srv->latest == p) {
    srv->latest = NULL;
  }
  p->dead = true;
}

/* "stats name=value ..." of every counter, in one write. */
static void print_stats(const uint64_t values[N_STATS]) {
  char line[512];
  size_t len = (size_t)snprintf(line, sizeof(line), "stats");
  for (size_t i = 0; i < N_STATS && len < sizeof(line); i++) {
    len += (size_t)snprintf(line + len, sizeof(line) - len, " %s=%llu",
                            i < N_COUNTERS ? counters[i].name : "kernel_drops",
                            (unsigned long long)values[i]);
  }
  fprintf(stderr, "%s\n", line);
}

static void read_stats(const server *srv, uint64_t values[N_STATS]) {
  for (size_t i = 0; i < N_COUNTERS; i++) {
    values[i] = sdtls_server_counter_get(srv->lib, counters[i].counter);
  }
  values[N_COUNTERS] = srv->rx.kernel_drops;
}

/* "dropped <peer> limit" when the datagram from `from` was dropped for the
 * peer limit; at most one line a second (a refused client retransmits). */
static void note_dropped(server *srv, const net_addr *from) {
  uint64_t dropped = sdtls_server_counter_get(srv->lib, SDTLS_COUNTER_DROPPED_LIMIT);
  if (dropped == srv->dropped_limit) {
    return;
  }
  srv->dropped_limit = dropped;
  if (srv->dropped_noted_at != 0 && srv->now - srv->dropped_noted_at < 1000000000u) {
    return;
  }
  srv->dropped_noted_at = srv->now;
  char name[128];
  net_format(from, name, sizeof(name));
  fprintf(stderr, "dropped %s limit\n", name);
}

/* --verbose: a datagram to or from `addr`, traced as its peer's, or as the
 * server's when the address has no connection. */
static void trace_peer_datagram(server *srv, const net_addr *addr, bool sent,
                                const uint8_t *datagram, size_t len) {
  peer *p = srv->peers;
  while (p != NULL && (p->addr.len != addr->len || memcmp(&p->addr.ss, &addr->ss, addr->len) != 0)) {
    p = p->next;
  }
  trace *tr = p != NULL ? &p->tr : &srv->tr;
  char name[128];
  net_format(addr, name, sizeof(name));
  tr->on_timer = srv->on_timer;
  trace_datagram(tr, name, sent, datagram, len, srv->now);
}

/* ---- backend: sdtls_server (cookie exchange, peer table, eviction) ---- */

static int srv_send_cb(void *user_data, const uint8_t *addr, size_t addr_len,
                       const uint8_t *datagram, size_t len) {
  server *srv = user_data;
  net_addr to;
  if (!net_addr_from(&to, addr, addr_len)) {
    return -1;
  }
  if (srv->verbose > 0) {
    trace_peer_datagram(srv, &to, true, datagram, len);
  }
  net_tx_queue(&srv->tx, datagram, len, &to);
  return 0;
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
  net_addr_from(&p->addr, addr, addr_len); /* the library's sockaddr: it fits */
  net_format(&p->addr, p->name, sizeof(p->name));
  p->tr.verbose = srv->verbose;
  p->tr.start = srv->tr.start;
  p->tr.handshake_start = srv->now;
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
  const sdtls_server_callbacks cbs = {.size = sizeof(cbs),
                                      .send = srv_send_cb,
                                      .on_connect = srv_connect_cb,
                                      .on_handshake_done = srv_handshake_cb,
                                      .on_data = srv_data_cb,
                                      .on_close = srv_close_cb};
  int rc = sdtls_server_new(srv->config, &cbs, srv, &srv->lib);
  if (rc != SDTLS_OK) {
    report_sdtls_error("cannot create the server", rc, NULL);
    return -1;
  }
  return 0;
}

static void peers_receive(server *srv, const net_addr *addr, const uint8_t *data, size_t len) {
  sdtls_server_receive(srv->lib, (const uint8_t *)&addr->ss, addr->len, data, len, srv->now);
  note_dropped(srv, addr);
}

static sdtls_time peers_next_deadline(server *srv) {
  return sdtls_server_next_deadline(srv->lib);
}

static void peers_handle_timeout(server *srv) {
  srv->on_timer = true;
  sdtls_server_handle_timeout(srv->lib, srv->now);
  srv->on_timer = false;
}

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
  net_tx_flush(&srv->tx); /* the close_notify alerts */
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

/* Takes what the socket has queued, a batch at a time, and sends the
 * answers of each batch at once. At most READ_BATCHES batches a call, so
 * that timers are served during a flood too. */
#define READ_BATCHES 16
static void server_read_socket(server *srv) {
  for (int batches = 0; batches < READ_BATCHES; batches++) {
    int n = net_recv_batch(srv->fd, &srv->rx);
    srv->now = now_ns();
    for (int i = 0; i < n; i++) {
      const uint8_t *datagram = srv->rx.bufs + (size_t)i * NET_DATAGRAM_MAX;
      size_t len = srv->rx.msgs[i].msg_len;
      if (srv->verbose > 0) {
        trace_peer_datagram(srv, &srv->rx.from[i], false, datagram, len);
      }
      peers_receive(srv, &srv->rx.from[i], datagram, len);
    }
    net_tx_flush(&srv->tx);
    if (n < NET_BATCH) {
      return; /* drained */
    }
  }
}

/* A stdin line (LINE_OK or LINE_TOO_LONG) to the latest peer. */
static void server_send_line(server *srv, line_kind kind, const char *line, size_t len) {
  if (len == 0) {
    return;
  }
  peer *p = srv->latest;
  if (p == NULL || p->dead || !p->announced) {
    fprintf(stderr, "no connected peer: line not sent\n");
    return;
  }
  size_t max = sdtls_conn_max_data_size(p->conn);
  if (kind == LINE_TOO_LONG || len > max) {
    fprintf(stderr, "line of %zu bytes not sent: at most %zu fit one datagram\n", len, max);
    return;
  }
  int rc = sdtls_conn_send(p->conn, (const uint8_t *)line, len, srv->now);
  if (rc != SDTLS_OK) {
    fprintf(stderr, "send to %s failed: %s\n", p->name, sdtls_strerror(rc));
  }
}

/* The secret in `path` (--ticket-secret-file, --cookie-secret-file: `what`),
 * min..max bytes, into *out (release with wipe_free(*out, max + 1)). At
 * start a pipe is read too; on SIGHUP (`reload`) only a regular file: a pipe
 * read once has nothing more to give, and one whose writer stays silent
 * would stop the server. False after one error line naming the file. */
static bool read_secret(const char *path, const char *what, size_t min, size_t max, bool reload,
                        uint8_t **out, size_t *len) {
  if (read_small_file(path, what, max, reload ? 0 : READ_PIPE_OK, out, len) < 0) {
    return false;
  }
  if (*len < min) {
    errorf("%s: a %s holds %zu to %zu bytes, not %zu", path, what, min, max, *len);
    wipe_free(*out, max + 1);
    return false;
  }
  return true;
}

/* --ticket-secret-file: the 32..64 bytes in the file protect tickets; a
 * reload rotates (the replaced secret is still accepted). */
static bool load_ticket_secret(sdtls_config *config, const char *path, bool reload) {
  uint8_t *secret = NULL;
  size_t len = 0;
  if (!read_secret(path, "ticket secret file", 32, 64, reload, &secret, &len)) {
    return false;
  }
  int rc = sdtls_config_set_ticket_secret(config, secret, len);
  wipe_free(secret, 65);
  if (rc != SDTLS_OK) {
    report_sdtls_error(path, rc, NULL);
  }
  return rc == SDTLS_OK;
}

/* --cookie-secret-file: the 16..64 bytes in the file make the cookies, so
 * that servers sharing it accept each other's; into ws->cookie for the
 * workers to install (a reload rotates: cookies of the replaced secret stay
 * valid for one more cookie lifetime). */
static bool load_cookie_secret(workers *ws, const char *path, bool reload) {
  uint8_t *secret = NULL;
  size_t len = 0;
  if (!read_secret(path, "cookie secret file", 16, 64, reload, &secret, &len)) {
    return false;
  }
  pthread_mutex_lock(&ws->lock);
  memcpy(ws->cookie, secret, len);
  ws->cookie_len = len;
  ws->cookie_gen++;
  pthread_mutex_unlock(&ws->lock);
  wipe_free(secret, 65);
  return true;
}

/* What the command line asked for. */
typedef struct server_opts {
  config_opts copts;
  const char *listen_spec;  /* --listen HOST:PORT as given */
  char host[256], port[8];  /* ... split */
  const char *psk_hint, *ticket_secret_file, *cookie_secret_file;
  bool require_client_cert, echo, cookies;
  long max_peers;           /* 0: the library's default */
  sdtls_time idle_timeout;
  bool idle_timeout_set;
  int verbose;
  long workers; /* --workers: threads, each with its socket and sdtls_server */
  long rcvbuf, sndbuf; /* --rcvbuf, --sndbuf: bytes; 0 the system's default */
} server_opts;

/* Reads the command line into *o. Returns -1 to go on, or the exit status
 * (after a message). */
static int server_parse(int argc, char **argv, server_opts *o) {
  static char prog[] = "sdtls server";
  enum {
    OPT_LISTEN = OPT_COMMAND,
    OPT_REQUIRE,
    OPT_ECHO,
    OPT_PSK_HINT,
    OPT_TICKET_SECRET,
    OPT_COOKIE_SECRET,
    OPT_NO_COOKIES,
    OPT_MAX_PEERS,
    OPT_IDLE_TIMEOUT,
    OPT_WORKERS,
    OPT_RCVBUF,
    OPT_SNDBUF
  };
  static const struct option options[] = {
      CONFIG_LONG_OPTIONS,
      {"listen", required_argument, NULL, OPT_LISTEN},
      {"require-client-cert", no_argument, NULL, OPT_REQUIRE},
      {"echo", no_argument, NULL, OPT_ECHO},
      {"psk-hint", required_argument, NULL, OPT_PSK_HINT},
      {"ticket-secret-file", required_argument, NULL, OPT_TICKET_SECRET},
      {"cookie-secret-file", required_argument, NULL, OPT_COOKIE_SECRET},
      {"no-cookies", no_argument, NULL, OPT_NO_COOKIES},
      {"max-peers", required_argument, NULL, OPT_MAX_PEERS},
      {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
      {"workers", required_argument, NULL, OPT_WORKERS},
      {"rcvbuf", required_argument, NULL, OPT_RCVBUF},
      {"sndbuf", required_argument, NULL, OPT_SNDBUF},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof(*o));
  o->cookies = true;
  o->workers = 1;
  o->rcvbuf = o->sndbuf = DEFAULT_SOCKET_BUFFER;
  config_opts *copts = &o->copts;
  const char *workers_given = NULL;
  int opt, status;
  while ((opt = command_option(argc, argv, prog, options, server_usage, copts, &o->verbose,
                               &status)) != 0) {
    switch (opt) {
    case OPT_LISTEN:
      o->listen_spec = optarg;
      break;
    case OPT_REQUIRE:
      o->require_client_cert = true;
      break;
    case OPT_ECHO:
      o->echo = true;
      break;
    case OPT_PSK_HINT:
      o->psk_hint = optarg;
      break;
    case OPT_TICKET_SECRET:
      o->ticket_secret_file = optarg;
      break;
    case OPT_COOKIE_SECRET:
      o->cookie_secret_file = optarg;
      break;
    case OPT_NO_COOKIES:
      o->cookies = false;
      break;
    case OPT_MAX_PEERS:
      if (!take_long(prog, "--max-peers", optarg, 1, 1000000, &o->max_peers)) {
        return EXIT_USAGE;
      }
      break;
    case OPT_IDLE_TIMEOUT:
      if (!take_seconds(prog, "--idle-timeout", optarg, 0, 86400, &o->idle_timeout)) {
        return EXIT_USAGE;
      }
      o->idle_timeout_set = true;
      break;
    case OPT_WORKERS:
      if (strcmp(optarg, "auto") == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        o->workers = cpus < 1 ? 1 : cpus > MAX_WORKERS ? MAX_WORKERS : cpus;
      } else if (!take_long(prog, "--workers", optarg, 1, MAX_WORKERS, &o->workers)) {
        return EXIT_USAGE;
      }
      workers_given = optarg;
      break;
    case OPT_RCVBUF:
    case OPT_SNDBUF: {
      const char *name = opt == OPT_RCVBUF ? "--rcvbuf" : "--sndbuf";
      long *bytes = opt == OPT_RCVBUF ? &o->rcvbuf : &o->sndbuf;
      if (!take_long(prog, name, optarg, 0, MAX_SOCKET_BUFFER, bytes)) {
        return EXIT_USAGE;
      }
      break;
    }
    }
  }
  if (status >= 0) {
    return status;
  }
  if (optind < argc) {
    return usage_error(prog, server_usage, "unexpected argument '%s'", argv[optind]);
  }
  if (o->listen_spec == NULL ||
      (copts->cert == NULL && copts->key == NULL && copts->psk_identity == NULL &&
       copts->psk_len == 0)) {
    return usage_error(prog, server_usage,
                       "--listen and either --cert and --key or --psk-identity and --psk are "
                       "required");
  }
  int checked = config_opts_check(copts, prog);
  if (checked >= 0) {
    return checked;
  }
  if (o->require_client_cert != (copts->ca != NULL)) {
    return usage_error(prog, NULL, "--require-client-cert and --ca go together");
  }
  if (copts->n_fingerprints > 0 && (copts->ca != NULL || copts->cert == NULL)) {
    return usage_error(prog, NULL,
                       "--fingerprint needs --cert and --key, and replaces --ca and "
                       "--require-client-cert");
  }
  if (workers_given != NULL && !o->echo && (o->workers > 1 || strcmp(workers_given, "auto") == 0)) {
    /* Stdin lines go to the latest peer, and which worker has it is not
     * known to the others. */
    return usage_error(prog, NULL, "--workers %s needs --echo", workers_given);
  }
  if (o->cookie_secret_file != NULL && !o->cookies) {
    return usage_error(prog, NULL, "--cookie-secret-file and --no-cookies exclude each other");
  }
  if (o->psk_hint != NULL && copts->psk_len == 0) {
    return usage_error(prog, NULL, "--psk-hint needs --psk-identity and --psk");
  }
  if (!net_split_host_port(o->listen_spec, o->host, sizeof(o->host), o->port, sizeof(o->port))) {
    return usage_error(prog, NULL, "'%s' is not HOST:PORT or [IPv6]:PORT", o->listen_spec);
  }
  return -1;
}

/* The configuration's settings of the server's own options. False after an
 * error message. */
static bool server_configure(sdtls_config *config, const server_opts *o) {
  if (o->require_client_cert &&
      !config_set(config, SDTLS_OPT_REQUIRE_CLIENT_CERT, 1, "--require-client-cert")) {
    return false;
  }
  if (o->max_peers != 0 && !config_set(config, SDTLS_OPT_MAX_PEERS, o->max_peers, "--max-peers")) {
    return false;
  }
  if (o->idle_timeout_set &&
      !config_set(config, SDTLS_OPT_IDLE_TIMEOUT_MS,
                  (int64_t)((o->idle_timeout + 999999u) / 1000000u), "--idle-timeout")) {
    return false;
  }
  if (o->psk_hint != NULL) {
    int rc = sdtls_config_set_psk_identity_hint(config, o->psk_hint);
    if (rc != SDTLS_OK) {
      report_sdtls_error("--psk-hint", rc, NULL);
      return false;
    }
  }
  if (o->ticket_secret_file != NULL &&
      !load_ticket_secret(config, o->ticket_secret_file, false)) {
    return false;
  }
  bool cookies = o->cookies;
  if (cookies && !sdtls_has_feature(SDTLS_FEATURE_COOKIE_EXCHANGE)) {
    /* This engine cannot take over a cookie-verified ClientHello. */
    fprintf(stderr, "warning: no cookie exchange with this engine (no HelloVerifyRequest)\n");
    cookies = false;
  }
  return cookies || config_set(config, SDTLS_OPT_COOKIES, 0, "--no-cookies");
}

/* A worker woken by workers_request(): installs a new shared cookie secret
 * and reports its counters. */
static void worker_take_request(server *srv) {
  eventfd_t count;
  (void)eventfd_read(srv->wake_fd, &count); /* EAGAIN: a request already taken */
  workers *ws = srv->ws;
  uint8_t secret[sizeof(ws->cookie)];
  size_t secret_len = 0;
  pthread_mutex_lock(&ws->lock);
  unsigned request = ws->request;
  if (srv->cookie_gen != ws->cookie_gen) {
    secret_len = ws->cookie_len;
    memcpy(secret, ws->cookie, secret_len);
    srv->cookie_gen = ws->cookie_gen;
  }
  pthread_mutex_unlock(&ws->lock);
  if (secret_len > 0) {
    /* 16..64 bytes, checked when the file was read: it cannot fail. */
    sdtls_server_set_cookie_secret(srv->lib, secret, secret_len, srv->now);
    explicit_bzero(secret, sizeof(secret));
  }
  uint64_t values[N_STATS];
  read_stats(srv, values);
  pthread_mutex_lock(&ws->lock);
  memcpy(srv->stats, values, sizeof(values));
  srv->acked = request;
  pthread_cond_broadcast(&ws->acked);
  pthread_mutex_unlock(&ws->lock);
}

/* The worker's event loop: datagrams in (and, with stdin_lines, stdin
 * lines out to the latest peer) until the main thread says stop or a
 * failure. Returns the exit status. */
static int worker_run(server *srv) {
  line_reader in;
  line_reader_init(&in, STDIN_FILENO);
  for (;;) {
    srv->now = now_ns();
    if (atomic_load_explicit(&srv->ws->stop, memory_order_relaxed)) {
      return EXIT_OK;
    }
    if (srv->stdout_failed) {
      errorf("cannot write to stdout: %s", strerror(errno));
      return EXIT_FAIL;
    }
    const char *line;
    size_t len;
    line_kind kind;
    while (srv->stdin_lines && (kind = line_reader_next(&in, &line, &len)) != LINE_NONE) {
      server_send_line(srv, kind, line, len);
    }

    bool want_stdin = srv->stdin_lines && !in.eof;
    net_tx_flush(&srv->tx); /* what timers and stdin lines sent */
    io_events ev;
    if (!io_wait(srv->fd, srv->wake_fd, want_stdin, srv->now, peers_next_deadline(srv), &ev)) {
      return EXIT_FAIL;
    }
    if (ev.wake) {
      worker_take_request(srv);
    }
    if (ev.sock) {
      server_read_socket(srv);
    }
    if (ev.input && line_reader_fill(&in) < 0) {
      in.eof = true;
    }
    srv->now = now_ns();
    if (srv->now >= peers_next_deadline(srv)) {
      peers_handle_timeout(srv);
    }
  }
}

/* A worker thread: its event loop, then its last counters for the final
 * "stats" line, close_notify to its peers, and the news to the main
 * thread. */
static void *worker_main(void *arg) {
  server *srv = arg;
  srv->status = worker_run(srv);
  uint64_t values[N_STATS];
  read_stats(srv, values);
  peers_close_all(srv);
  workers *ws = srv->ws;
  pthread_mutex_lock(&ws->lock);
  memcpy(srv->stats, values, sizeof(values));
  srv->exited = true;
  pthread_cond_broadcast(&ws->acked);
  pthread_mutex_unlock(&ws->lock);
  eventfd_write(ws->done_fd, 1);
  return NULL;
}

/* Main thread: asks every worker to take the shared state (a new cookie
 * secret) and to report its counters, waits until each has (or has ended)
 * and sums the counters into `sum`. */
static void workers_request(workers *ws, uint64_t sum[N_STATS]) {
  pthread_mutex_lock(&ws->lock);
  unsigned request = ++ws->request;
  pthread_mutex_unlock(&ws->lock);
  for (long i = 0; i < ws->n; i++) {
    eventfd_write(ws->w[i].wake_fd, 1);
  }
  memset(sum, 0, N_STATS * sizeof(sum[0]));
  pthread_mutex_lock(&ws->lock);
  for (long i = 0; i < ws->n; i++) {
    server *w = &ws->w[i];
    while (!w->exited && w->acked != request) {
      pthread_cond_wait(&ws->acked, &ws->lock);
    }
    for (size_t c = 0; c < N_STATS; c++) {
      sum[c] += w->stats[c];
    }
  }
  pthread_mutex_unlock(&ws->lock);
}

/* SIGHUP: reads the secret files again and rotates to what they hold now
 * (every worker has the new cookie secret when "rotated cookie-secret" is
 * printed); one that cannot be read or is bad leaves its secret as it
 * was. */
static void server_reload_secrets(workers *ws, sdtls_config *config, const server_opts *o) {
  if (o->ticket_secret_file != NULL && load_ticket_secret(config, o->ticket_secret_file, true)) {
    fprintf(stderr, "rotated ticket-secret\n");
  }
  if (o->cookie_secret_file != NULL && load_cookie_secret(ws, o->cookie_secret_file, true)) {
    uint64_t sum[N_STATS];
    workers_request(ws, sum);
    fprintf(stderr, "rotated cookie-secret\n");
  }
}

/* Binds one socket per worker (SO_REUSEPORT, all on the port the first
 * one got, with more than one), makes each worker's sdtls_server on the
 * shared config and installs the shared cookie secret. Fills `bound_text`
 * with the address. False after an error message. */
static bool workers_open(workers *ws, sdtls_config *config, const server_opts *o,
                         char *bound_text, size_t bound_len) {
  net_addr addrs[8];
  if (net_resolve(o->host, o->port, true, addrs, 8) < 0) {
    return false;
  }
  net_addr addr = addrs[0];
  bool reuse_port = ws->n > 1;
  for (long i = 0; i < ws->n; i++) {
    server *srv = &ws->w[i];
    srv->fd = srv->tx.fd = net_udp_bind(&addr, reuse_port);
    int got_rcvbuf, got_sndbuf;
    if (srv->fd < 0 ||
        !net_server_buffers(srv->fd, (int)o->rcvbuf, (int)o->sndbuf, &got_rcvbuf, &got_sndbuf)) {
      return false;
    }
    if (i == 0 && o->verbose > 0) {
      /* The kernel counts twice the data (its bookkeeping); below what was
       * asked, net.core.rmem_max / wmem_max capped it (root is not capped). */
      fprintf(stderr, "* socket buffers: receive %d bytes, send %d bytes (as the kernel counts "
              "them; asked for %ld and %ld)\n", got_rcvbuf, got_sndbuf, o->rcvbuf, o->sndbuf);
    }
    if (!net_rx_init(&srv->rx)) {
      errorf("cannot start worker %ld: %s", i + 1, strerror(ENOMEM));
      return false;
    }
    if (i == 0) {
      /* Port 0: the others join the port this one got. */
      net_addr bound = {.len = sizeof(bound.ss)};
      if (getsockname(srv->fd, (struct sockaddr *)&bound.ss, &bound.len) != 0) {
        errorf("getsockname: %s", strerror(errno));
        return false;
      }
      addr = bound;
      net_format(&addr, bound_text, bound_len);
    }
    srv->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (srv->wake_fd < 0) {
      errorf("eventfd: %s", strerror(errno));
      return false;
    }
    srv->config = config;
    if (peers_init(srv) != 0) {
      return false;
    }
  }
  if (o->cookie_secret_file != NULL) {
    if (!load_cookie_secret(ws, o->cookie_secret_file, false)) {
      return false;
    }
  } else if (ws->n > 1) {
    if (getrandom(ws->cookie, 32, 0) != 32) {
      errorf("no randomness for the cookie secret: %s", strerror(errno));
      return false;
    }
    ws->cookie_len = 32;
    ws->cookie_gen++;
  }
  sdtls_time now = now_ns();
  for (long i = 0; i < ws->n && ws->cookie_len > 0; i++) {
    server *srv = &ws->w[i];
    int rc = sdtls_server_set_cookie_secret(srv->lib, ws->cookie, ws->cookie_len, now);
    if (rc != SDTLS_OK) {
      report_sdtls_error("cannot set the cookie secret", rc, NULL);
      return false;
    }
    srv->cookie_gen = ws->cookie_gen;
  }
  return true;
}

/* Starts the worker threads with the signals the main thread handles
 * blocked. Returns how many started (all, or fewer after an error message). */
static long workers_start(workers *ws) {
  sigset_t handled, old;
  sigemptyset(&handled);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGUSR1);
  sigaddset(&handled, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &handled, &old);
  long started = 0;
  for (; started < ws->n; started++) {
    int rc = pthread_create(&ws->w[started].thread, NULL, worker_main, &ws->w[started]);
    if (rc != 0) {
      errorf("cannot start worker %ld: %s", started + 1, strerror(rc));
      break;
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return started;
}

/* The main thread while the workers serve: signals (SIGUSR1: the summed
 * counters; SIGHUP: the secrets again) until SIGINT or SIGTERM, or until a
 * worker ends (a failure). */
static void workers_supervise(workers *ws, sdtls_config *config, const server_opts *o,
                              int sigfd) {
  for (;;) {
    if (signals_received()) {
      return;
    }
    if (signals_take_usr1()) {
      uint64_t sum[N_STATS];
      workers_request(ws, sum);
      print_stats(sum);
    }
    if (signals_take_hup()) {
      server_reload_secrets(ws, config, o);
    }
    struct pollfd fds[2] = {{.fd = sigfd, .events = POLLIN}, {.fd = ws->done_fd, .events = POLLIN}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) {
      errorf("poll: %s", strerror(errno));
      return;
    }
    if (fds[1].revents != 0) {
      return;
    }
  }
}

int cmd_server(int argc, char **argv) {
  server_opts o;
  int parsed = server_parse(argc, argv, &o);
  if (parsed >= 0) {
    return parsed;
  }
  sdtls_config *config = config_opts_new(&o.copts);
  if (config == NULL) {
    return EXIT_FAIL;
  }
  workers ws = {.n = o.workers, .done_fd = -1};
  atomic_init(&ws.stop, false);
  pthread_mutex_init(&ws.lock, NULL);
  pthread_cond_init(&ws.acked, NULL);
  ws.w = calloc((size_t)ws.n, sizeof(*ws.w));
  if (ws.w == NULL) {
    errorf("cannot start %ld workers: %s", ws.n, strerror(ENOMEM));
    sdtls_config_free(config);
    return EXIT_FAIL;
  }
  sdtls_time start = now_ns();
  for (long i = 0; i < ws.n; i++) {
    server *srv = &ws.w[i];
    srv->fd = srv->wake_fd = srv->tx.fd = -1;
    srv->ws = &ws;
    srv->echo = o.echo;
    srv->stdin_lines = !o.echo;
    srv->copts = &o.copts;
    srv->verbose = srv->tr.verbose = o.verbose;
    srv->tr.start = start;
  }
  int status = EXIT_FAIL;
  char bound_text[128];
  ws.done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (ws.done_fd < 0) {
    errorf("eventfd: %s", strerror(errno));
  } else if (server_configure(config, &o) &&
             workers_open(&ws, config, &o, bound_text, sizeof(bound_text))) {
    int sigfd = signals_install(true);
    fprintf(stderr, "listening %s\n", bound_text);
    long started = workers_start(&ws);
    if (started == ws.n) {
      workers_supervise(&ws, config, &o, sigfd);
    }
    atomic_store(&ws.stop, true);
    for (long i = 0; i < started; i++) {
      eventfd_write(ws.w[i].wake_fd, 1);
    }
    uint64_t sum[N_STATS] = {0};
    status = started == ws.n ? EXIT_OK : EXIT_FAIL;
    for (long i = 0; i < started; i++) {
      pthread_join(ws.w[i].thread, NULL);
      for (size_t c = 0; c < N_STATS; c++) {
        sum[c] += ws.w[i].stats[c];
      }
      status = ws.w[i].status != EXIT_OK ? ws.w[i].status : status;
    }
    if (started > 0) {
      print_stats(sum);
    }
  }
  for (long i = 0; i < ws.n; i++) {
    peers_close_all(&ws.w[i]); /* a worker that never started */
    if (ws.w[i].fd >= 0) {
      close(ws.w[i].fd);
    }
    if (ws.w[i].wake_fd >= 0) {
      close(ws.w[i].wake_fd);
    }
    net_rx_free(&ws.w[i].rx);
  }
  if (ws.done_fd >= 0) {
    close(ws.done_fd);
  }
  explicit_bzero(ws.cookie, sizeof(ws.cookie));
  free(ws.w);
  pthread_cond_destroy(&ws.acked);
  pthread_mutex_destroy(&ws.lock);
  sdtls_config_free(config);
  keylog_close();
  return status;
}
