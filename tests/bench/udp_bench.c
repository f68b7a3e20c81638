/* SPDX-License-Identifier: Apache-2.0 */
/* End to end over loopback UDP: an sdtls client (public ABI only) against an
 * echo server through real sockets on 127.0.0.1.
 *
 *   bench_udp [--server sdtls|sdtls-mmsg|HOST:PORT] [--label NAME]
 *             [--sizes LIST] [--seconds S] [--pings N] [--window N]
 *
 * --server sdtls        an sdtls_server echo on a second thread of this
 *                       process: recvfrom()/sendto(), one datagram per call
 * --server sdtls-mmsg   the same server loop with recvmmsg() (up to 64
 *                       datagrams per call) and the answers to one batch
 *                       sent with one sendmmsg()
 * --server HOST:PORT    an external DTLS 1.2 echo server, e.g.
 *                       `openssl s_server -dtls1_2 -rev` (answers each line
 *                       reversed, same length) or `gnutls-serv --udp --echo`
 *
 * Every payload is lowercase letters ending in '\n' (what s_server -rev
 * needs: one line per record; an exact echo does not care). Only the length
 * of each answer is checked.
 *
 * Prints one JSON object per line on stdout (as the in-memory benchmark):
 *   udp_handshake_ms               one full handshake, wall clock
 *   udp_rtt<N>_median_us, _p99_us  --pings sequential pings of N bytes:
 *                                  send, wait for the echo, next
 *   udp_echo<N>_dgrams_per_s       --window records in flight for --seconds:
 *   udp_echo<N>_mb_per_s           echoes received per second (wall clock),
 *                                  and their payload in MB/s (10^6 B)
 *   udp_echo<N>_lost               echoes not received (UDP may drop)
 *   udp_echo<N>_client_cpu_us      the client thread's CPU time per echo
 * Not a test: nothing fails because something is slow. Exits 1 on errors
 * (no handshake, no answers at all). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sdtls.h"
#define BENCH_PROG "bench_udp"
#include "bench_util.h"

#define CIPHER "ECDHE-ECDSA-AES128-GCM-SHA256"
#define MTU 1472 /* a 1500-byte link's UDP payload: 1200 B + 37 B of DTLS fits */
#define MAX_DGRAM 2048
#define BATCH 64

static const char *opt_server = "sdtls";
static const char *opt_label;
static char opt_sizes[128] = "16,1200";
static double opt_seconds = 1.0;
static int opt_pings = 2000;
static int opt_window = 32;

static uint64_t clock_ns(void) { return bench_clock_ns(CLOCK_MONOTONIC); }

static uint64_t thread_cpu_ns(void) { return bench_clock_ns(CLOCK_THREAD_CPUTIME_ID); }

static const char *label(void) { return opt_label != NULL ? opt_label : opt_server; }

static void emit(const char *metric, double value, const char *unit) {
  printf("{\"variant\":\"%s\",\"round\":1,\"metric\":\"%s\",\"value\":%.6g,\"unit\":\"%s\"}\n",
         label(), metric, value, unit);
  fflush(stdout);
}

static sdtls_config *config(bool server, const char *cert, const char *key) {
  sdtls_config *c;
  if (sdtls_config_new(&c) != 0 || sdtls_config_set_ciphers(c, CIPHER) != 0 ||
      sdtls_config_set_option(c, SDTLS_OPT_MIN_VERSION, SDTLS_DTLS1_2) != 0 ||
      sdtls_config_set_option(c, SDTLS_OPT_MAX_VERSION, SDTLS_DTLS1_2) != 0 ||
      sdtls_config_set_option(c, SDTLS_OPT_MTU, MTU) != 0 ||
      sdtls_config_set_option(c, SDTLS_OPT_VERIFY_PEER, 0) != 0) {
    bench_die("config");
  }
  if (server && sdtls_config_set_certificate_pem(c, (const uint8_t *)cert, strlen(cert),
                                                 (const uint8_t *)key, strlen(key)) != 0) {
    bench_die("server certificate");
  }
  return c;
}

/* ---- the in-process server (its own thread) ---- */

typedef struct out_dgram {
  struct sockaddr_storage addr;
  socklen_t addr_len;
  size_t len;
  uint8_t data[MAX_DGRAM];
} out_dgram;

typedef struct echo_server {
  int fd;
  bool mmsg;
  sdtls_server *srv;
  atomic_bool stop;
  /* sendmmsg mode: the answers to the current batch */
  out_dgram out[BATCH];
  int n_out;
  uint64_t send_errors;
} echo_server;

static void srv_flush(echo_server *s) {
  if (s->n_out == 0) {
    return;
  }
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  for (int k = 0; k < s->n_out; k++) {
    iov[k].iov_base = s->out[k].data;
    iov[k].iov_len = s->out[k].len;
    memset(&msgs[k], 0, sizeof(msgs[k]));
    msgs[k].msg_hdr.msg_name = &s->out[k].addr;
    msgs[k].msg_hdr.msg_namelen = s->out[k].addr_len;
    msgs[k].msg_hdr.msg_iov = &iov[k];
    msgs[k].msg_hdr.msg_iovlen = 1;
  }
  int done = 0;
  while (done < s->n_out) {
    int r = sendmmsg(s->fd, msgs + done, (unsigned)(s->n_out - done), 0);
    if (r <= 0) {
      s->send_errors += (uint64_t)(s->n_out - done);
      break;
    }
    done += r;
  }
  s->n_out = 0;
}

static int srv_send(void *user, const uint8_t *addr, size_t addr_len, const uint8_t *datagram,
                    size_t len) {
  echo_server *s = user;
  if (s->mmsg) {
    if (s->n_out == BATCH) {
      srv_flush(s);
    }
    out_dgram *o = &s->out[s->n_out++];
    memcpy(&o->addr, addr, addr_len);
    o->addr_len = (socklen_t)addr_len;
    o->len = len < MAX_DGRAM ? len : MAX_DGRAM;
    memcpy(o->data, datagram, o->len);
    return 0;
  }
  if (sendto(s->fd, datagram, len, 0, (const struct sockaddr *)addr, (socklen_t)addr_len) < 0) {
    s->send_errors++;
    return -1;
  }
  return 0;
}

static sdtls_time srv_now;

static void srv_data(void *user, sdtls_conn *conn, const uint8_t *data, size_t len) {
  (void)user;
  sdtls_conn_send(conn, data, len, srv_now); /* allowed from on_data */
}

static void *server_main(void *arg) {
  echo_server *s = arg;
  static uint8_t bufs[BATCH][MAX_DGRAM];
  struct sockaddr_storage addrs[BATCH];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  while (!atomic_load(&s->stop)) {
    sdtls_time deadline = sdtls_server_next_deadline(s->srv);
    uint64_t now = clock_ns();
    int timeout = 50;
    if (deadline != SDTLS_TIME_NEVER) {
      uint64_t ms = deadline > now ? (deadline - now) / 1000000u + 1 : 0;
      timeout = ms < 50 ? (int)ms : 50;
    }
    struct pollfd pfd = {s->fd, POLLIN, 0};
    poll(&pfd, 1, timeout);
    srv_now = clock_ns();
    if (deadline != SDTLS_TIME_NEVER && srv_now >= deadline) {
      sdtls_server_handle_timeout(s->srv, srv_now);
    }
    /* Drain the socket. */
    for (;;) {
      if (s->mmsg) {
        for (int k = 0; k < BATCH; k++) {
          iov[k].iov_base = bufs[k];
          iov[k].iov_len = MAX_DGRAM;
          memset(&msgs[k], 0, sizeof(msgs[k]));
          msgs[k].msg_hdr.msg_name = &addrs[k];
          msgs[k].msg_hdr.msg_namelen = sizeof(addrs[k]);
          msgs[k].msg_hdr.msg_iov = &iov[k];
          msgs[k].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(s->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) {
          break;
        }
        srv_now = clock_ns(); /* one clock reading per batch */
        for (int k = 0; k < n; k++) {
          sdtls_server_receive(s->srv, (const uint8_t *)&addrs[k], msgs[k].msg_hdr.msg_namelen,
                               bufs[k], msgs[k].msg_len, srv_now);
        }
        srv_flush(s);
      } else {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof(from);
        ssize_t n = recvfrom(s->fd, bufs[0], MAX_DGRAM, MSG_DONTWAIT, (struct sockaddr *)&from,
                             &from_len);
        if (n < 0) {
          break;
        }
        srv_now = clock_ns();
        sdtls_server_receive(s->srv, (const uint8_t *)&from, from_len, bufs[0], (size_t)n,
                             srv_now);
      }
    }
  }
  return NULL;
}

static int udp_socket(void) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    bench_die("socket: %s", strerror(errno));
  }
  int buf = 4 << 20; /* capped by net.core.rmem_max/wmem_max */
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
  return fd;
}

static void start_server(echo_server *s, pthread_t *thread, struct sockaddr_in *addr) {
  char *cert, *key;
  if (sdtls_certificate_generate("bench.test", 30, &cert, &key) != 0) {
    bench_die("certificate");
  }
  sdtls_config *c = config(true, cert, key);
  sdtls_free(cert);
  sdtls_free(key);
  sdtls_server_callbacks cb = {sizeof(cb), srv_send, NULL, NULL, srv_data, NULL};
  if (sdtls_server_new(c, &cb, s, &s->srv) != 0) {
    bench_die("sdtls_server_new");
  }
  sdtls_config_free(c);
  s->fd = udp_socket();
  memset(addr, 0, sizeof(*addr));
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s->fd, (struct sockaddr *)addr, sizeof(*addr)) != 0) {
    bench_die("bind: %s", strerror(errno));
  }
  socklen_t len = sizeof(*addr);
  getsockname(s->fd, (struct sockaddr *)addr, &len);
  atomic_store(&s->stop, false);
  if (pthread_create(thread, NULL, server_main, s) != 0) {
    bench_die("pthread_create");
  }
}

/* ---- the client ---- */

typedef struct client {
  int fd;
  sdtls_conn *conn;
  bool done;
  uint64_t echoes;    /* on_data calls */
  size_t last_len;
  uint64_t bad_len;   /* echoes of the wrong length */
  size_t bad_last;    /* the last such length */
  size_t expect_len;
} client;

static int cli_send(void *user, const uint8_t *datagram, size_t len) {
  client *c = user;
  return send(c->fd, datagram, len, 0) == (ssize_t)len ? 0 : -1;
}

static void cli_done(void *user) { ((client *)user)->done = true; }

static void cli_data(void *user, const uint8_t *data, size_t len) {
  client *c = user;
  (void)data;
  c->echoes++;
  c->last_len = len;
  if (len != c->expect_len) {
    c->bad_len++;
    c->bad_last = len;
  }
}

static void cli_close(void *user, int reason) {
  (void)user;
  fprintf(stderr, "bench_udp: connection closed (%d: %s)\n", reason, sdtls_strerror(reason));
}

/* Waits up to `timeout_ms` for datagrams (or the connection's timer), feeds
 * everything waiting. Returns the number of datagrams fed. */
static int pump(client *c, int timeout_ms) {
  sdtls_time deadline = sdtls_conn_next_deadline(c->conn);
  uint64_t now = clock_ns();
  int timeout = timeout_ms;
  if (deadline != SDTLS_TIME_NEVER) {
    uint64_t ms = deadline > now ? (deadline - now) / 1000000u + 1 : 0;
    if (ms < (uint64_t)timeout) {
      timeout = (int)ms;
    }
  }
  struct pollfd pfd = {c->fd, POLLIN, 0};
  int r = poll(&pfd, 1, timeout);
  now = clock_ns();
  if (deadline != SDTLS_TIME_NEVER && now >= deadline) {
    sdtls_conn_handle_timeout(c->conn, now);
  }
  int n = 0;
  if (r > 0) {
    uint8_t buf[MAX_DGRAM];
    ssize_t len;
    while ((len = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
      sdtls_conn_receive(c->conn, buf, (size_t)len, now);
      n++;
    }
  }
  return n;
}

static void payload(uint8_t *buf, size_t len) {
  for (size_t k = 0; k + 1 < len; k++) {
    buf[k] = (uint8_t)('a' + k % 26);
  }
  buf[len - 1] = '\n';
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void latency(client *c, size_t size) {
  uint8_t buf[MAX_DGRAM];
  payload(buf, size);
  c->expect_len = size;
  uint64_t *rtt = malloc(sizeof(uint64_t) * (size_t)opt_pings);
  if (rtt == NULL) {
    bench_die("out of memory");
  }
  int n = 0, lost = 0;
  for (int i = 0; i < opt_pings + opt_pings / 10; i++) { /* the first tenth warms up */
    uint64_t want = c->echoes + 1;
    uint64_t t0 = clock_ns();
    if (sdtls_conn_send(c->conn, buf, size, t0) != 0) {
      bench_die("send failed");
    }
    while (c->echoes < want && clock_ns() - t0 < 1000000000u) {
      pump(c, 100);
    }
    uint64_t t1 = clock_ns();
    if (c->echoes < want) {
      lost++;
      c->echoes = want; /* a late echo would count for the next ping: drain first */
      pump(c, 10);
      continue;
    }
    if (i >= opt_pings / 10 && n < opt_pings) {
      rtt[n++] = t1 - t0;
    }
  }
  if (n == 0) {
    bench_die("no ping answered");
  }
  qsort(rtt, (size_t)n, sizeof(rtt[0]), cmp_u64);
  char name[64];
  snprintf(name, sizeof(name), "udp_rtt%zu_median_us", size);
  emit(name, (double)rtt[n / 2] / 1e3, "us");
  snprintf(name, sizeof(name), "udp_rtt%zu_p99_us", size);
  emit(name, (double)rtt[(size_t)((double)n * 0.99)] / 1e3, "us");
  snprintf(name, sizeof(name), "udp_rtt%zu_lost", size);
  emit(name, lost, "pings");
  free(rtt);
}

/* --window records in flight: send until the window is full, then feed
 * whatever came back. An echo that does not come within 200 ms is counted
 * lost and its slot reopened. */
static void throughput(client *c, size_t size) {
  uint8_t buf[MAX_DGRAM];
  payload(buf, size);
  c->expect_len = size;
  double seconds[2] = {opt_seconds * 0.1, opt_seconds}; /* warm-up, measured */
  for (int phase = 0; phase < 2; phase++) {
    uint64_t sent = 0, lost = 0, e0 = c->echoes;
    uint64_t cpu0 = thread_cpu_ns();
    uint64_t t0 = clock_ns(), end = t0 + (uint64_t)(seconds[phase] * 1e9);
    uint64_t t = t0, progress = t0;
    while (t < end) {
      uint64_t received = c->echoes - e0;
      while ((int64_t)(sent - received - lost) < (int64_t)opt_window) {
        if (sdtls_conn_send(c->conn, buf, size, t) != 0) {
          bench_die("send failed");
        }
        sent++;
      }
      pump(c, 200);
      t = clock_ns();
      if (c->echoes - e0 != received) {
        progress = t;
      } else if (t - progress >= 200000000u) {
        lost = sent - received; /* nothing for 200 ms: give the window up */
        progress = t;
      }
    }
    /* Stragglers of this phase still count as received if they arrive
     * shortly; the rate is over the sending span. */
    uint64_t span = clock_ns() - t0;
    uint64_t cpu = thread_cpu_ns() - cpu0;
    for (int k = 0; k < 20 && c->echoes - e0 + lost < sent; k++) {
      pump(c, 10);
    }
    uint64_t received = c->echoes - e0;
    if (received == 0) {
      bench_die("no echo at %zu bytes", size);
    }
    if (phase == 1) {
      char name[64];
      double secs = (double)span / 1e9;
      snprintf(name, sizeof(name), "udp_echo%zu_dgrams_per_s", size);
      emit(name, (double)received / secs, "1/s");
      snprintf(name, sizeof(name), "udp_echo%zu_mb_per_s", size);
      emit(name, (double)received * (double)size / secs / 1e6, "MB/s");
      snprintf(name, sizeof(name), "udp_echo%zu_lost", size);
      emit(name, sent > received ? (double)(sent - received) : 0.0, "datagrams");
      snprintf(name, sizeof(name), "udp_echo%zu_client_cpu_us", size);
      emit(name, (double)cpu / 1e3 / (double)received, "us/echo");
    }
  }
}

static void usage(void) {
  fprintf(stderr,
          "usage: bench_udp [--server sdtls|sdtls-mmsg|HOST:PORT] [--label NAME]\n"
          "                 [--sizes LIST] [--seconds S] [--pings N] [--window N]\n");
  exit(2);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v == NULL) {
      usage();
    }
    i++;
    if (strcmp(a, "--server") == 0) {
      opt_server = v;
    } else if (strcmp(a, "--label") == 0) {
      opt_label = v;
    } else if (strcmp(a, "--sizes") == 0 && strlen(v) < sizeof(opt_sizes)) {
      strcpy(opt_sizes, v);
    } else if (strcmp(a, "--seconds") == 0) {
      opt_seconds = atof(v);
    } else if (strcmp(a, "--pings") == 0) {
      opt_pings = atoi(v);
    } else if (strcmp(a, "--window") == 0) {
      opt_window = atoi(v);
    } else {
      usage();
    }
  }
  if (opt_seconds <= 0 || opt_pings <= 0 || opt_window <= 0) {
    usage();
  }

  echo_server srv;
  memset(&srv, 0, sizeof(srv));
  pthread_t thread;
  bool in_process = strcmp(opt_server, "sdtls") == 0 || strcmp(opt_server, "sdtls-mmsg") == 0;
  struct sockaddr_in to;
  memset(&to, 0, sizeof(to));
  if (in_process) {
    srv.mmsg = strcmp(opt_server, "sdtls-mmsg") == 0;
    start_server(&srv, &thread, &to);
  } else {
    char host[64];
    const char *colon = strrchr(opt_server, ':');
    if (colon == NULL || (size_t)(colon - opt_server) >= sizeof(host)) {
      usage();
    }
    memcpy(host, opt_server, (size_t)(colon - opt_server));
    host[colon - opt_server] = '\0';
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &to.sin_addr) != 1) {
      usage();
    }
  }

  client c;
  memset(&c, 0, sizeof(c));
  c.fd = udp_socket();
  if (connect(c.fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
    bench_die("connect: %s", strerror(errno));
  }
  sdtls_config *cc = config(false, NULL, NULL);
  sdtls_callbacks cb = {sizeof(cb), cli_send, cli_done, cli_data, cli_close};
  if (sdtls_conn_new(cc, SDTLS_ROLE_CLIENT, &cb, &c, &c.conn) != 0) {
    bench_die("sdtls_conn_new");
  }
  sdtls_config_free(cc);
  uint64_t t0 = clock_ns();
  if (sdtls_conn_start(c.conn, t0) != 0) {
    bench_die("start");
  }
  while (sdtls_conn_state(c.conn) == SDTLS_STATE_HANDSHAKING && clock_ns() - t0 < 10000000000u) {
    pump(&c, 100);
  }
  if (sdtls_conn_state(c.conn) != SDTLS_STATE_CONNECTED) {
    bench_die("handshake with %s failed: %s", opt_server, sdtls_conn_error_detail(c.conn));
  }
  emit("udp_handshake_ms", (double)(clock_ns() - t0) / 1e6, "ms");

  for (const char *s = opt_sizes; *s != '\0';) {
    char *end;
    unsigned long size = strtoul(s, &end, 10);
    if (end == s || size < 2 || size > sdtls_conn_max_data_size(c.conn)) {
      bench_die("bad --sizes (2..%zu)", sdtls_conn_max_data_size(c.conn));
    }
    s = *end == ',' ? end + 1 : end;
    latency(&c, size);
    throughput(&c, size);
  }
  if (c.bad_len > 0) { /* late echoes of an earlier size, or a broken server */
    fprintf(stderr, "bench_udp: %llu echoes of an unexpected length (last: %zu)\n",
            (unsigned long long)c.bad_len, c.bad_last);
  }

  sdtls_conn_close(c.conn, clock_ns());
  sdtls_conn_free(c.conn);
  close(c.fd);
  if (in_process) {
    atomic_store(&srv.stop, true);
    pthread_join(thread, NULL);
    sdtls_server_free(srv.srv);
    close(srv.fd);
  }
  return 0;
}
