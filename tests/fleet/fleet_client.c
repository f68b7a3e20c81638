/* SPDX-License-Identifier: Apache-2.0 */
/* Many DTLS clients in one process, one UDP socket each, for the fleet test
 * (fleet_test.sh): sdtls servers behind a UDP load balancer.
 *
 *   fleet_client --server ADDR:PORT --fingerprint FP --sources IP+COUNT
 *                --clients N [--sessions DIR] [--save DIR] [--seconds S]
 *                [--lost-after MS] [--reconnect-every MS]
 *                [--pause-after-cookie]
 *
 * Client i binds its socket to source address IP + (i % COUNT) (the
 * balancer hashes on the address, so several spread the clients over the
 * backends) and starts a few milliseconds after client i-1. It resumes the
 * session in DIR/<i>.session when there is one, then sends an echo request
 * every 200 ms and checks the answer. A client whose echo is not answered
 * within --lost-after (default 3000 ms), or whose connection fails, prints
 * "lost <its address:port>" once per loss and connects again from a new
 * socket (as an application does when its server is gone), offering its
 * latest session. A handshake that fails is tried again the same way.
 * --reconnect-every: also close and connect again (resuming) every MS.
 * After --seconds (default 2) of echoes, each client saves its latest
 * session in --save DIR (when given) and closes.
 *
 * --pause-after-cookie: once every client has received its server's cookie
 * (a HelloVerifyRequest, or a DTLS 1.3 HelloRetryRequest), print "paused"
 * on stdout and hold the ClientHellos that carry the cookies until a line
 * arrives on stdin; meanwhile the test changes the balancer's mapping, so
 * that those ClientHellos reach another backend.
 *
 * Prints on stdout, at the end:
 *   connected=N resumed=N full=N cookies=N lost=N reconnected=N failed=N
 * connected: clients that completed a handshake at least once; resumed and
 * full: handshakes completed, by kind (reconnections included); cookies:
 * cookie requests received (a retransmitted one counted once); lost: losses
 * (above); reconnected: handshakes completed after a loss; failed: clients
 * not connected when the run ended (each also named on stderr). Exits 1
 * when failed > 0 or on errors, 0 otherwise; the test judges the counts. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sdtls.h"

#define MS 1000000ull
#define ECHO_INTERVAL (200 * MS)
#define START_SPACING (4 * MS)  /* between two clients' first handshakes */
#define RUN_GRACE (90000 * MS)  /* after --seconds, for the stragglers */
#define MAX_DATAGRAM 2048
#define MAX_HELD 8              /* datagrams held per client while paused */

typedef enum phase { WAITING, HANDSHAKING, CONNECTED, DONE } phase;

typedef struct held {
  size_t len;
  uint8_t data[MAX_DATAGRAM];
} held;

typedef struct client {
  int index;
  int fd;
  char name[64]; /* local address:port */
  sdtls_conn *conn;
  phase phase;
  bool after_loss;   /* this handshake follows a loss */
  bool ever_connected;
  bool cookie_seen;  /* a cookie request arrived on this connection */
  uint8_t last_cookie_request[256]; /* its handshake message (the start) */
  bool echoed;       /* an echo came back on this connection */
  sdtls_time start_at, connected_at, next_echo_at, echo_sent_at;
  uint32_t echo_seq; /* the outstanding request's number; 0: none */
  uint8_t *session;
  size_t session_len;
  held held[MAX_HELD];
  int n_held;
} client;

static struct {
  const char *server, *fingerprint, *sessions, *save;
  struct sockaddr_in server_addr, source;
  int n_sources, n_clients;
  sdtls_time seconds, lost_after, reconnect_every;
  bool pause_after_cookie;
} opt = {.n_sources = 1, .n_clients = 1, .seconds = 2000 * MS, .lost_after = 3000 * MS};

static struct {
  int connected, resumed, full, cookies, lost, reconnected;
} count;

static sdtls_config *config;
static bool holding; /* --pause-after-cookie, until the stdin line */

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "fleet_client: ");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

/* The clock every sdtls caller uses (abi/sdtls.h, "Time"): the backends
 * open tickets this process's sessions carry with the same time base. */
static sdtls_time now_ns(void) {
  static sdtls_time offset;
  struct timespec mono, wall;
  clock_gettime(CLOCK_MONOTONIC, &mono);
  if (offset == 0) {
    clock_gettime(CLOCK_REALTIME, &wall);
    offset = (sdtls_time)wall.tv_sec * 1000000000u + (sdtls_time)wall.tv_nsec -
             ((sdtls_time)mono.tv_sec * 1000000000u + (sdtls_time)mono.tv_nsec);
  }
  return offset + (sdtls_time)mono.tv_sec * 1000000000u + (sdtls_time)mono.tv_nsec;
}

/* A HelloVerifyRequest, or a HelloRetryRequest (a ServerHello whose random
 * is RFC 8446's fixed value): the server asks for a cookie. */
static bool is_cookie_request(const uint8_t *d, size_t len) {
  static const uint8_t hrr_random[32] = {
      0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C,
      0x02, 0x1E, 0x65, 0xB8, 0x91, 0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB,
      0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
  /* record header (13 bytes), handshake header (12), then the body */
  if (len < 13 + 12 || d[0] != 22) {
    return false;
  }
  if (d[13] == 3) {
    return true;
  }
  return d[13] == 2 && len >= 25 + 2 + 32 && memcmp(d + 27, hrr_random, 32) == 0;
}

static int on_send(void *user, const uint8_t *datagram, size_t len) {
  client *c = user;
  if (holding && c->cookie_seen) {
    if (c->n_held == MAX_HELD || len > MAX_DATAGRAM) {
      return -1; /* counts as lost: the handshake retransmits */
    }
    c->held[c->n_held].len = len;
    memcpy(c->held[c->n_held++].data, datagram, len);
    return 0;
  }
  return send(c->fd, datagram, len, 0) == (ssize_t)len ? 0 : -1;
}

static void on_handshake_done(void *user) {
  client *c = user;
  sdtls_time now = now_ns();
  c->phase = CONNECTED;
  c->connected_at = now;
  c->next_echo_at = now;
  if (sdtls_conn_session_resumed(c->conn)) {
    count.resumed++;
  } else {
    count.full++;
  }
  if (!c->ever_connected) {
    count.connected++;
    c->ever_connected = true;
  }
  if (c->after_loss) {
    count.reconnected++;
    c->after_loss = false;
  }
}

static void set_session(client *c, const uint8_t *session, size_t len) {
  free(c->session);
  c->session = malloc(len);
  if (c->session == NULL) {
    die("out of memory");
  }
  memcpy(c->session, session, len);
  c->session_len = len;
}

/* The connection's latest session, kept for the next connection (asked
 * after data has flowed: a DTLS 1.3 ticket comes after the handshake). */
static void keep_session(client *c) {
  uint8_t *session;
  size_t len;
  if (sdtls_conn_get_session(c->conn, &session, &len) == SDTLS_OK) {
    set_session(c, session, len);
    sdtls_free(session);
  }
}

static void on_data(void *user, const uint8_t *data, size_t len) {
  client *c = user;
  char expected[64];
  int n = snprintf(expected, sizeof(expected), "echo %d %u", c->index, (unsigned)c->echo_seq);
  if (c->echo_seq != 0 && len == (size_t)n && memcmp(data, expected, len) == 0) {
    c->echo_seq = 0;
    c->echoed = true;
    keep_session(c);
  }
}

static void close_socket(client *c) {
  sdtls_conn_free(c->conn);
  c->conn = NULL;
  if (c->fd >= 0) {
    close(c->fd);
    c->fd = -1;
  }
}

/* A new socket from the client's source address, and a handshake on it
 * offering the latest session. */
static void connect_client(client *c, sdtls_time now) {
  close_socket(c);
  c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    die("socket: %s", strerror(errno));
  }
  struct sockaddr_in src = opt.source;
  uint32_t offset = (uint32_t)(c->index % opt.n_sources);
  src.sin_addr.s_addr = htonl(ntohl(opt.source.sin_addr.s_addr) + offset);
  if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
      connect(c->fd, (struct sockaddr *)&opt.server_addr, sizeof(opt.server_addr)) != 0) {
    die("client %d: bind or connect: %s", c->index, strerror(errno));
  }
  struct sockaddr_in local;
  socklen_t local_len = sizeof(local);
  getsockname(c->fd, (struct sockaddr *)&local, &local_len);
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &local.sin_addr, ip, sizeof(ip));
  snprintf(c->name, sizeof(c->name), "%s:%u", ip, (unsigned)ntohs(local.sin_port));

  const sdtls_callbacks cbs = {.size = sizeof(cbs),
                               .send = on_send,
                               .on_handshake_done = on_handshake_done,
                               .on_data = on_data};
  if (sdtls_conn_new(config, SDTLS_ROLE_CLIENT, &cbs, c, &c->conn) != SDTLS_OK) {
    die("client %d: sdtls_conn_new", c->index);
  }
  if (c->session != NULL &&
      sdtls_conn_set_session(c->conn, c->session, c->session_len) != SDTLS_OK) {
    die("client %d: its saved session is refused", c->index);
  }
  c->phase = HANDSHAKING;
  c->cookie_seen = false;
  c->echoed = false;
  c->echo_seq = 0;
  sdtls_conn_start(c->conn, now); /* a failure shows in its state: tried again */
}

static void lose(client *c, sdtls_time now) {
  printf("lost %s\n", c->name);
  fflush(stdout);
  count.lost++;
  c->after_loss = true;
  connect_client(c, now);
}

static void read_socket(client *c, sdtls_time now) {
  uint8_t buf[MAX_DATAGRAM];
  ssize_t n;
  while (c->conn != NULL && (n = recv(c->fd, buf, sizeof(buf), 0)) >= 0) {
    if (is_cookie_request(buf, (size_t)n)) {
      /* A retransmitted one (the same message, the same cookie) is not
       * news; another cookie, from a server that refused the first, is. */
      uint8_t message[sizeof(c->last_cookie_request)] = {0};
      size_t len = (size_t)n - 13 < sizeof(message) ? (size_t)n - 13 : sizeof(message);
      memcpy(message, buf + 13, len);
      if (!c->cookie_seen || memcmp(message, c->last_cookie_request, sizeof(message)) != 0) {
        count.cookies++;
      }
      c->cookie_seen = true;
      memcpy(c->last_cookie_request, message, sizeof(message));
    }
    sdtls_conn_receive(c->conn, buf, (size_t)n, now);
  }
}

static char *session_path(const char *dir, int index) {
  static char path[4096];
  snprintf(path, sizeof(path), "%s/%d.session", dir, index);
  return path;
}

static void load_session(client *c) {
  FILE *f = fopen(session_path(opt.sessions, c->index), "rb");
  if (f == NULL) {
    return;
  }
  uint8_t buf[8192];
  size_t len = fread(buf, 1, sizeof(buf), f);
  fclose(f);
  set_session(c, buf, len);
}

static void save_session(const client *c) {
  if (opt.save == NULL || c->session == NULL) {
    return;
  }
  const char *path = session_path(opt.save, c->index);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || write(fd, c->session, c->session_len) != (ssize_t)c->session_len) {
    die("%s: %s", path, strerror(errno));
  }
  close(fd);
}

static void parse_address(const char *text, const char *sep, struct sockaddr_in *out,
                          long *number) {
  char buf[64];
  const char *s = strstr(text, sep);
  if (s == NULL || (size_t)(s - text) >= sizeof(buf)) {
    die("'%s' is not ADDRESS%sNUMBER", text, sep);
  }
  memcpy(buf, text, (size_t)(s - text));
  buf[s - text] = '\0';
  memset(out, 0, sizeof(*out));
  out->sin_family = AF_INET;
  char *end;
  *number = strtol(s + 1, &end, 10);
  if (inet_pton(AF_INET, buf, &out->sin_addr) != 1 || *end != '\0' || *number < 0 ||
      *number > 65535) {
    die("'%s' is not ADDRESS%sNUMBER", text, sep);
  }
}

static void parse_args(int argc, char **argv) {
  static const struct option options[] = {
      {"server", required_argument, NULL, 's'},   {"fingerprint", required_argument, NULL, 'f'},
      {"sources", required_argument, NULL, 'a'},  {"clients", required_argument, NULL, 'n'},
      {"sessions", required_argument, NULL, 'i'}, {"save", required_argument, NULL, 'o'},
      {"seconds", required_argument, NULL, 't'},  {"lost-after", required_argument, NULL, 'l'},
      {"reconnect-every", required_argument, NULL, 'r'},
      {"pause-after-cookie", no_argument, NULL, 'p'},
      {NULL, 0, NULL, 0}};
  int o;
  long number;
  while ((o = getopt_long(argc, argv, "", options, NULL)) != -1) {
    switch (o) {
    case 's':
      parse_address(optarg, ":", &opt.server_addr, &number);
      opt.server_addr.sin_port = htons((uint16_t)number);
      break;
    case 'f':
      opt.fingerprint = optarg;
      break;
    case 'a':
      parse_address(optarg, "+", &opt.source, &number);
      opt.n_sources = (int)number;
      break;
    case 'n':
      opt.n_clients = atoi(optarg);
      break;
    case 'i':
      opt.sessions = optarg;
      break;
    case 'o':
      opt.save = optarg;
      break;
    case 't':
      opt.seconds = (sdtls_time)(atof(optarg) * 1e9);
      break;
    case 'l':
      opt.lost_after = (sdtls_time)atol(optarg) * MS;
      break;
    case 'r':
      opt.reconnect_every = (sdtls_time)atol(optarg) * MS;
      break;
    case 'p':
      opt.pause_after_cookie = true;
      break;
    default:
      die("see the usage at the top of fleet_client.c");
    }
  }
  if (opt.server_addr.sin_port == 0 || opt.fingerprint == NULL || opt.n_clients < 1 ||
      opt.n_sources < 1 || opt.source.sin_family == 0) {
    die("--server, --fingerprint, --sources and --clients are required");
  }
}

/* --pause-after-cookie: every client has its cookie and holds what its
 * connection answered; wait for the go-ahead, then send it. */
static void pause_for_the_balancer(client *clients) {
  for (int i = 0; i < opt.n_clients; i++) {
    if (!clients[i].cookie_seen) {
      return;
    }
  }
  printf("paused\n");
  fflush(stdout);
  char line[64];
  if (fgets(line, sizeof(line), stdin) == NULL) {
    die("no go-ahead on stdin");
  }
  holding = false;
  for (int i = 0; i < opt.n_clients; i++) {
    client *c = &clients[i];
    for (int k = 0; k < c->n_held; k++) {
      send(c->fd, c->held[k].data, c->held[k].len, 0);
    }
    c->n_held = 0;
  }
}

/* One client's timers at `now`: its start, its connection's timers, the
 * echo requests, a loss, the planned reconnection and the end. Returns its
 * next deadline. */
static sdtls_time step(client *c, sdtls_time now, sdtls_time end_at) {
  if (c->phase == WAITING) {
    if (now < c->start_at) {
      return c->start_at;
    }
    connect_client(c, now);
  }
  if (c->phase == DONE) {
    return SDTLS_TIME_NEVER;
  }
  /* A held ClientHello must not be retransmitted either. */
  if (now >= sdtls_conn_next_deadline(c->conn) && !(holding && c->cookie_seen)) {
    sdtls_conn_handle_timeout(c->conn, now);
  }
  sdtls_state state = sdtls_conn_state(c->conn);
  if (state == SDTLS_STATE_FAILED || state == SDTLS_STATE_CLOSED) {
    /* Failed or closed by the server: a handshake is tried again, a
     * connection is lost. */
    if (c->phase == CONNECTED) {
      lose(c, now);
    } else {
      connect_client(c, now);
    }
  } else if (c->phase == CONNECTED) {
    if (c->echo_seq != 0 && now - c->echo_sent_at >= opt.lost_after) {
      lose(c, now);
    } else if (c->echo_seq == 0 && c->echoed && c->session != NULL && now >= end_at) {
      save_session(c);
      sdtls_conn_close(c->conn, now);
      close_socket(c);
      c->phase = DONE;
      return SDTLS_TIME_NEVER;
    } else if (c->echo_seq == 0 && opt.reconnect_every != 0 &&
               now - c->connected_at >= opt.reconnect_every && c->echoed) {
      sdtls_conn_close(c->conn, now);
      connect_client(c, now);
    } else if (c->echo_seq == 0 && now >= c->next_echo_at) {
      static uint32_t seq;
      char payload[64];
      c->echo_seq = ++seq;
      int n = snprintf(payload, sizeof(payload), "echo %d %u", c->index, (unsigned)c->echo_seq);
      c->echo_sent_at = now;
      c->next_echo_at = now + ECHO_INTERVAL;
      sdtls_conn_send(c->conn, (const uint8_t *)payload, (size_t)n, now);
    }
  }
  sdtls_time next = c->conn != NULL ? sdtls_conn_next_deadline(c->conn) : SDTLS_TIME_NEVER;
  if (c->phase == CONNECTED) {
    sdtls_time t = c->echo_seq != 0 ? c->echo_sent_at + opt.lost_after : c->next_echo_at;
    next = t < next ? t : next;
  }
  return next;
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  if (sdtls_config_new(&config) != SDTLS_OK ||
      sdtls_config_add_peer_fingerprint(config, opt.fingerprint) != SDTLS_OK ||
      /* Generous: 500 clients share a busy 2-core machine with the fleet. */
      sdtls_config_set_option(config, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS, 20000) != SDTLS_OK) {
    die("config (is the fingerprint right?)");
  }
  client *clients = calloc((size_t)opt.n_clients, sizeof(*clients));
  struct pollfd *fds = calloc((size_t)opt.n_clients, sizeof(*fds));
  client **polled = calloc((size_t)opt.n_clients, sizeof(*polled)); /* fds[k]'s client */
  if (clients == NULL || fds == NULL || polled == NULL) {
    die("out of memory");
  }
  holding = opt.pause_after_cookie;
  sdtls_time start = now_ns();
  for (int i = 0; i < opt.n_clients; i++) {
    clients[i].index = i;
    clients[i].fd = -1;
    clients[i].start_at = start + (sdtls_time)i * START_SPACING;
    if (opt.sessions != NULL) {
      load_session(&clients[i]);
    }
  }
  /* Echoes for --seconds once the last client has started. */
  sdtls_time end_at = start + (sdtls_time)opt.n_clients * START_SPACING + opt.seconds;
  sdtls_time give_up_at = end_at + RUN_GRACE;
  for (;;) {
    sdtls_time now = now_ns();
    sdtls_time next = give_up_at;
    int done = 0;
    for (int i = 0; i < opt.n_clients; i++) {
      sdtls_time t = step(&clients[i], now, end_at);
      next = t < next ? t : next;
      done += clients[i].phase == DONE;
    }
    if (holding) {
      pause_for_the_balancer(clients);
    }
    if (done == opt.n_clients || now >= give_up_at) {
      break;
    }
    int nfds = 0;
    for (int i = 0; i < opt.n_clients; i++) {
      if (clients[i].fd >= 0) {
        polled[nfds] = &clients[i];
        fds[nfds++] = (struct pollfd){.fd = clients[i].fd, .events = POLLIN};
      }
    }
    now = now_ns();
    int wait_ms = next <= now ? 0 : (int)((next - now + MS - 1) / MS);
    if (poll(fds, (nfds_t)nfds, wait_ms > 1000 ? 1000 : wait_ms) < 0 && errno != EINTR) {
      die("poll: %s", strerror(errno));
    }
    now = now_ns();
    for (int k = 0; k < nfds; k++) {
      if (fds[k].revents != 0) {
        read_socket(polled[k], now);
      }
    }
  }
  int failed = 0;
  for (int i = 0; i < opt.n_clients; i++) {
    if (clients[i].phase != DONE) {
      failed++;
      fprintf(stderr, "fleet_client: client %d (%s) not connected at the end: %s\n", i,
              clients[i].name,
              clients[i].conn != NULL ? sdtls_conn_error_detail(clients[i].conn) : "never started");
    }
    close_socket(&clients[i]);
    free(clients[i].session);
  }
  printf("connected=%d resumed=%d full=%d cookies=%d lost=%d reconnected=%d failed=%d\n",
         count.connected, count.resumed, count.full, count.cookies, count.lost, count.reconnected,
         failed);
  sdtls_config_free(config);
  free(clients);
  free(fds);
  free(polled);
  return failed == 0 ? 0 : 1;
}
