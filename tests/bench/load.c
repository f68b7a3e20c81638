/* SPDX-License-Identifier: Apache-2.0 */
/* Load on a DTLS server over loopback UDP, from many client connections in
 * one thread, each on its own socket (its own port, so that a server with
 * SO_REUSEPORT workers sees them spread): the client side of
 * tests/bench/workers.py.
 *
 *   bench_load --target HOST:PORT --mode handshakes|echo [--conns N]
 *              [--seconds S] [--size N] [--window N]
 *
 * handshakes  --conns connections at a time, each a full handshake
 *             (DTLS 1.2, ECDHE-ECDSA, no resumption), then close_notify and
 *             a new socket; prints handshakes_per_s
 * echo        --conns connections made first, then each keeps --window
 *             datagrams of --size bytes in flight to an echo server (whose
 *             MTU takes them: `sdtls server --echo --mtu 1472`);
 *             prints echo<N>_dgrams_per_s (echoes received per second)
 * Both print "failed" (handshakes that failed or timed out) and the
 * process's CPU time per operation, one JSON object per line. Not a test:
 * nothing fails because something is slow. Exits 1 when nothing succeeds. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
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
#define BENCH_PROG "bench_load"
#include "bench_util.h"

#define MAX_CONNS 1024
#define MTU 1472 /* a 1500-byte link's UDP payload: 1200 B + 37 B of DTLS fits */
#define MAX_DGRAM 2048


typedef struct slot {
  int fd;
  sdtls_conn *conn;
  bool done, failed;
  uint64_t echoes;
  unsigned in_flight;
  uint64_t started; /* CLOCK_MONOTONIC */
} slot;

static struct sockaddr_storage target;
static socklen_t target_len;
static sdtls_config *cfg;
static size_t opt_size = 1200;
static unsigned opt_window = 4;

static int cli_send(void *user, const uint8_t *datagram, size_t len) {
  slot *s = user;
  return send(s->fd, datagram, len, 0) == (ssize_t)len ? 0 : -1;
}

static void cli_done(void *user) { ((slot *)user)->done = true; }

static void cli_data(void *user, const uint8_t *data, size_t len) {
  slot *s = user;
  (void)data;
  (void)len;
  s->echoes++;
  s->in_flight = s->in_flight > 0 ? s->in_flight - 1 : 0;
}

static void cli_close(void *user, int reason) {
  (void)reason;
  ((slot *)user)->failed = true;
}

static void slot_open(slot *s, uint64_t now) {
  memset(s, 0, sizeof(*s));
  s->started = now;
  s->fd = socket(target.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&target, target_len) != 0) {
    bench_die("socket: %s", strerror(errno));
  }
  const sdtls_callbacks cbs = {.size = sizeof(cbs),
                               .send = cli_send,
                               .on_handshake_done = cli_done,
                               .on_data = cli_data,
                               .on_close = cli_close};
  if (sdtls_conn_new(cfg, SDTLS_ROLE_CLIENT, &cbs, s, &s->conn) != SDTLS_OK ||
      sdtls_conn_start(s->conn, now) != SDTLS_OK) {
    bench_die("cannot start a connection");
  }
}

static void slot_close(slot *s, uint64_t now, bool notify) {
  if (notify) {
    sdtls_conn_close(s->conn, now);
  }
  sdtls_conn_free(s->conn);
  close(s->fd);
  s->conn = NULL;
  s->fd = -1;
}

/* Feeds what each socket has, and each connection's due timers. */
static void pump(slot *slots, int n, int timeout_ms) {
  struct pollfd pfds[MAX_CONNS];
  for (int i = 0; i < n; i++) {
    pfds[i] = (struct pollfd){.fd = slots[i].fd, .events = POLLIN};
  }
  poll(pfds, (nfds_t)n, timeout_ms);
  uint64_t now = bench_clock_ns(CLOCK_MONOTONIC);
  uint8_t buf[MAX_DGRAM];
  for (int i = 0; i < n; i++) {
    slot *s = &slots[i];
    if (pfds[i].revents != 0) {
      ssize_t len;
      while ((len = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
        sdtls_conn_receive(s->conn, buf, (size_t)len, now);
      }
    }
    if (sdtls_conn_next_deadline(s->conn) <= now) {
      sdtls_conn_handle_timeout(s->conn, now);
    }
  }
}

static void emit(const char *metric, double value, const char *unit) {
  printf("{\"metric\": \"%s\", \"value\": %.6g, \"unit\": \"%s\"}\n", metric, value, unit);
}

static void run_handshakes(slot *slots, int n, double seconds) {
  uint64_t start = bench_clock_ns(CLOCK_MONOTONIC), cpu0 = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  uint64_t end = start + (uint64_t)(seconds * 1e9), done = 0, failed = 0;
  for (int i = 0; i < n; i++) {
    slot_open(&slots[i], start);
  }
  uint64_t now;
  while ((now = bench_clock_ns(CLOCK_MONOTONIC)) < end) {
    pump(slots, n, 10);
    now = bench_clock_ns(CLOCK_MONOTONIC);
    for (int i = 0; i < n; i++) {
      slot *s = &slots[i];
      /* A handshake not done in 2 s lost a flight: count it, start over. */
      bool stuck = !s->done && now - s->started > 2000000000u;
      if (s->done || s->failed || stuck) {
        done += s->done ? 1 : 0;
        failed += s->done ? 0 : 1;
        slot_close(s, now, s->done);
        slot_open(s, now);
      }
    }
  }
  double span = (double)(bench_clock_ns(CLOCK_MONOTONIC) - start) / 1e9;
  uint64_t cpu = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
  for (int i = 0; i < n; i++) {
    slot_close(&slots[i], bench_clock_ns(CLOCK_MONOTONIC), slots[i].done);
  }
  if (done == 0) {
    bench_die("no handshake finished");
  }
  emit("handshakes_per_s", (double)done / span, "1/s");
  emit("handshakes_failed", (double)failed, "handshakes");
  emit("client_cpu_us_per_handshake", (double)cpu / 1e3 / (double)done, "us");
}

static void run_echo(slot *slots, int n, double seconds) {
  uint64_t start = bench_clock_ns(CLOCK_MONOTONIC);
  for (int i = 0; i < n; i++) {
    slot_open(&slots[i], start);
  }
  for (bool all = false; !all;) {
    pump(slots, n, 10);
    all = true;
    for (int i = 0; i < n; i++) {
      if (slots[i].failed) {
        bench_die("a handshake failed");
      }
      all = all && slots[i].done;
    }
    if (bench_clock_ns(CLOCK_MONOTONIC) - start > 30000000000u) {
      bench_die("handshakes not done after 30 s");
    }
  }
  uint8_t data[MAX_DGRAM];
  memset(data, 'x', sizeof(data));
  uint64_t t0 = bench_clock_ns(CLOCK_MONOTONIC), cpu0 = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  uint64_t end = t0 + (uint64_t)(seconds * 1e9), sent = 0, e0 = 0;
  for (int i = 0; i < n; i++) {
    e0 += slots[i].echoes;
  }
  uint64_t now, refill = t0;
  while ((now = bench_clock_ns(CLOCK_MONOTONIC)) < end) {
    /* Lost echoes are not retransmitted: every 100 ms the window is
     * refilled whole. */
    bool reset = now - refill > 100000000u;
    refill = reset ? now : refill;
    for (int i = 0; i < n; i++) {
      slot *s = &slots[i];
      if (reset) {
        s->in_flight = 0;
      }
      while (s->in_flight < opt_window &&
             sdtls_conn_send(s->conn, data, opt_size, now) == SDTLS_OK) {
        s->in_flight++;
        sent++;
      }
    }
    pump(slots, n, 10);
  }
  double span = (double)(bench_clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
  uint64_t cpu = bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0, received = 0;
  for (int i = 0; i < n; i++) {
    received += slots[i].echoes;
    slot_close(&slots[i], bench_clock_ns(CLOCK_MONOTONIC), true);
  }
  received -= e0;
  if (received == 0) {
    bench_die("no echo");
  }
  char name[64];
  snprintf(name, sizeof(name), "echo%zu_dgrams_per_s", opt_size);
  emit(name, (double)received / span, "1/s");
  snprintf(name, sizeof(name), "echo%zu_lost", opt_size);
  emit(name, sent > received ? (double)(sent - received) : 0.0, "datagrams");
  emit("client_cpu_us_per_echo", (double)cpu / 1e3 / (double)received, "us");
}

static void usage(void) {
  fprintf(stderr, "usage: bench_load --target HOST:PORT --mode handshakes|echo [--conns N]\n"
                  "                  [--seconds S] [--size N] [--window N]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *opt_target = NULL, *opt_mode = NULL;
  int conns = 32;
  double seconds = 2.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *a = argv[i], *v = argv[i + 1];
    if (strcmp(a, "--target") == 0) {
      opt_target = v;
    } else if (strcmp(a, "--mode") == 0) {
      opt_mode = v;
    } else if (strcmp(a, "--conns") == 0) {
      conns = atoi(v);
    } else if (strcmp(a, "--seconds") == 0) {
      seconds = atof(v);
    } else if (strcmp(a, "--size") == 0) {
      opt_size = (size_t)atol(v);
    } else if (strcmp(a, "--window") == 0) {
      opt_window = (unsigned)atoi(v);
    } else {
      usage();
    }
  }
  if (argc % 2 == 0 || opt_target == NULL || opt_mode == NULL || conns < 1 ||
      conns > MAX_CONNS || seconds <= 0 || opt_size < 1 || opt_size > 1200 || opt_window < 1) {
    usage();
  }
  const char *colon = strrchr(opt_target, ':');
  if (colon == NULL) {
    usage();
  }
  char host[256];
  snprintf(host, sizeof(host), "%.*s", (int)(colon - opt_target), opt_target);
  struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res;
  if (getaddrinfo(host, colon + 1, &hints, &res) != 0) {
    bench_die("cannot resolve %s", opt_target);
  }
  memcpy(&target, res->ai_addr, res->ai_addrlen);
  target_len = res->ai_addrlen;
  freeaddrinfo(res);
  /* What the tool's server and a WebRTC peer negotiate; no verification
   * (the load is the server's, not the client's PKI). */
  if (sdtls_config_new(&cfg) != SDTLS_OK ||
      sdtls_config_set_option(cfg, SDTLS_OPT_MAX_VERSION, SDTLS_DTLS1_2) != SDTLS_OK ||
      sdtls_config_set_option(cfg, SDTLS_OPT_VERIFY_PEER, 0) != SDTLS_OK ||
      sdtls_config_set_option(cfg, SDTLS_OPT_MTU, MTU) != SDTLS_OK ||
      sdtls_config_set_option(cfg, SDTLS_OPT_SESSION_TICKETS, 0) != SDTLS_OK) {
    bench_die("config");
  }
  slot *slots = calloc((size_t)conns, sizeof(*slots));
  if (slots == NULL) {
    bench_die("out of memory");
  }
  if (strcmp(opt_mode, "handshakes") == 0) {
    run_handshakes(slots, conns, seconds);
  } else if (strcmp(opt_mode, "echo") == 0) {
    run_echo(slots, conns, seconds);
  } else {
    usage();
  }
  free(slots);
  sdtls_config_free(cfg);
  return 0;
}
