/* SPDX-License-Identifier: Apache-2.0 */
/* sdtls client: connect to a DTLS server; stdin lines go out as datagrams,
 * received datagrams come out as lines on stdout. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../ip_literal.h"
#include "tool.h"

#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static void client_usage(FILE *out) {
  fprintf(out,
          "Usage: sdtls client HOST:PORT [OPTIONS]\n"
          "\n"
          "Connects to a DTLS server (HOST:PORT or [IPv6]:PORT). After the handshake\n"
          "prints a summary line on stderr:\n"
          "  connected <version> <cipher> [<group>] [peer sha-256 <fingerprint>]\n"
          "            [psk <identity>] [srtp <profile>] [alpn <protocol>] [resumed|full]\n"
          "(each part in brackets only when it applies; full/resumed with --session),\n"
          "sends each stdin line (without its newline) as one datagram and prints each\n"
          "received datagram as one line on stdout. At the end of stdin it waits for\n"
          "replies (until as many came back as were sent, or --timeout passes without\n"
          "one), sends close_notify and exits.\n"
          "\n"
          "The server is authenticated by one of: its certificate chain and name (the\n"
          "default), --fingerprint, or --psk.\n"
          "  --ca FILE               trusted CA certificates (PEM); default: the system\n"
          "                          bundle " SYSTEM_CA_BUNDLE "\n"
          "  --insecure              do not verify the server's certificate\n"
          "  --server-name NAME      name to send and verify (default: HOST)\n"
          "  --fingerprint sha-256:AA:BB:...\n"
          "                          accept only a server certificate with this\n"
          "                          fingerprint, instead of the CA and name checks\n"
          "                          (repeatable: any of them; sha-256, sha-384, sha-512;\n"
          "                          SDP's \"sha-256 AA:...\" and bare \"AA:...\" too)\n"
          "  --psk-identity ID --psk HEX\n"
          "                          authenticate with a pre-shared key (hex, 1..64 bytes)\n"
          "                          under identity ID; only PSK suites are offered\n"
          "  --cert FILE --key FILE  client certificate and key (PEM)\n"
          "  --srtp PROFILES         offer DTLS-SRTP (RFC 5764) with these profiles, joined\n"
          "                          by ':' (SRTP_AES128_CM_SHA1_80, SRTP_AES128_CM_SHA1_32,\n"
          "                          SRTP_AEAD_AES_128_GCM, SRTP_AEAD_AES_256_GCM); a server\n"
          "                          that chooses none is a warning\n"
          "  --require-srtp          ... a failure (exit 1) instead\n"
          "  --alpn LIST             offer these ALPN protocols, joined by ','\n"
          "  --session FILE          resume the session saved in FILE if there is one;\n"
          "                          before closing save the new one there (mode 0600)\n"
          "  --mtu N                 largest datagram in bytes, 256..65507 (default 1200)\n"
          CONFIG_USAGE_VERSIONS
          "  --timeout SEC           wait for replies after the end of stdin (default 2)\n"
          "  --handshake-timeout SEC give up the handshake after SEC (default 30)\n"
          "  --export LABEL:LEN      print \"EXPORT <label> <hex>\" on stdout: LEN bytes of\n"
          "                          RFC 5705 keying material for LABEL (LEN 1..1024), e.g.\n"
          "                          EXTRACTOR-dtls_srtp:60 for SRTP_AES128_CM_SHA1_80\n"
          "  --keylog FILE           append NSS key log lines (for Wireshark) to FILE\n"
          "  -v, --verbose           on stderr, lines starting with '*': each datagram of\n"
          "                          the handshake (time, direction, size, contents), the\n"
          "                          handshake time, the negotiated parameters and the\n"
          "                          server's certificate (the leaf: subject, issuer,\n"
          "                          validity, alt names, key)\n"
          "  -vv                     ... and every datagram after the handshake, with one\n"
          "                          line per DTLS record (type, epoch, sequence, length)\n"
          "  --help                  this help\n"
          "\n"
          "Exit status: 0 success, 1 handshake/verification/network failure, 2 usage.\n");
}

typedef struct client {
  int fd;
  sdtls_conn *conn;
  bool handshake_done;
  sdtls_time handshake_done_at;
  bool closed;      /* on_close was called */
  int close_reason; /* its reason */
  unsigned long sent, received;
  sdtls_time now;     /* time of the current library call */
  sdtls_time last_rx; /* time the last application datagram arrived */
  bool stdout_failed;
  bool refused; /* ECONNREFUSED on the socket: nothing listens at the server's port */
  trace tr;     /* datagram counts and --verbose */
  char peer_text[128]; /* the server's address, printable */
  int sigfd;           /* signals_install()'s */
} client;

static int client_send(void *user_data, const uint8_t *datagram, size_t len) {
  client *c = user_data;
  trace_datagram(&c->tr, NULL, true, datagram, len, c->now);
  if (net_send(c->fd, datagram, len, NULL) == 0) {
    return 0;
  }
  if (errno == ECONNREFUSED) {
    c->refused = true; /* an earlier datagram's ICMP port unreachable */
  }
  return -1;
}

static void client_on_handshake_done(void *user_data) {
  client *c = user_data;
  c->handshake_done = true;
  c->handshake_done_at = c->now;
}

static void client_on_data(void *user_data, const uint8_t *data, size_t len) {
  client *c = user_data;
  c->received++;
  c->last_rx = c->now;
  if (!write_line(data, len)) {
    c->stdout_failed = true;
  }
}

static void client_on_close(void *user_data, int reason) {
  client *c = user_data;
  c->closed = true;
  c->close_reason = reason;
}

#define SESSION_MAX 65536 /* bytes of a --session file */

/* --session FILE: offers the session saved there, if any. A file that holds
 * no session is ignored with a warning (a full handshake follows); one that
 * cannot be read is an error. False after an error message. */
static bool offer_session(sdtls_conn *conn, const char *path) {
  uint8_t *data = NULL;
  size_t len = 0;
  int got = read_small_file(path, "session file", SESSION_MAX, READ_MISSING_OK, &data,
                            &len);
  if (got <= 0) {
    return got == 0;
  }
  int rc = len == 0 ? SDTLS_E_INVALID_ARGUMENT : sdtls_conn_set_session(conn, data, len);
  wipe_free(data, SESSION_MAX + 1);
  if (rc == SDTLS_E_INVALID_ARGUMENT) {
    fprintf(stderr, "warning: %s holds no session: not resuming\n", path);
    return true;
  }
  if (rc != SDTLS_OK) {
    report_sdtls_error("cannot offer the session", rc, sdtls_conn_error_detail(conn));
    return false;
  }
  return true;
}

/* Saves the connection's session to `path`; a server that issued no ticket
 * leaves nothing to save (a warning). False after an error message. */
static bool save_session(const sdtls_conn *conn, const char *path) {
  uint8_t *session = NULL;
  size_t len = 0;
  int rc = sdtls_conn_get_session(conn, &session, &len);
  if (rc == SDTLS_E_STATE) {
    fprintf(stderr, "warning: no session to save in %s: the server issued no ticket\n", path);
    return true;
  }
  if (rc != SDTLS_OK) {
    report_sdtls_error("cannot get the session", rc, sdtls_conn_error_detail(conn));
    return false;
  }
  bool ok = write_secret_file(path, "session file", session, len);
  sdtls_free(session);
  return ok;
}

/* Prints the connected line (with --verbose, the handshake's time and
 * parameters too), says when the server chose no SRTP profile of --srtp
 * (an error with --require-srtp), and prints the exported keying material.
 * -1 after an error message. */
static int announce(client *c, const config_opts *copts, const char *session_file,
                    bool require_srtp) {
  print_session("connected", c->conn, session_file != NULL);
  trace_handshake_done(&c->tr, NULL, c->handshake_done_at);
  if (c->tr.verbose > 0) {
    print_parameters(NULL, c->conn);
  }
  /* use_srtp is an extension: a server that takes none of the profiles
   * completes the handshake without it (RFC 5764 4.1.1), and a media
   * application would then have no SRTP keys. */
  if (copts->srtp != NULL && sdtls_conn_srtp_profile(c->conn) == 0) {
    if (require_srtp) {
      errorf("the server chose no SRTP profile (offered %s)", copts->srtp);
      return -1;
    }
    fprintf(stderr, "warning: the server chose no SRTP profile (offered %s): no SRTP keys\n",
            copts->srtp);
  }
  return print_export(copts, c->conn) ? 0 : -1;
}

/* After a failure: the alerts by which a server says that it wanted a
 * client certificate, when none was sent. In DTLS 1.2 that is
 * handshake_failure after a CertificateRequest (the tool saw it in the
 * clear), in DTLS 1.3 certificate_required (RFC 8446 4.4.2.4). */
static void explain_failure(const client *c, const config_opts *copts, int err) {
  int alert = failure_alert(err, sdtls_conn_error_detail(c->conn));
  if (copts->cert == NULL && copts->psk_len == 0 &&
      (alert == 116 || (alert == 40 && c->tr.certificate_request))) {
    fprintf(stderr, "%s: the server requires a client certificate (--cert/--key)\n", tool_name);
  }
}

/* Receives every queued datagram and feeds it to the connection. */
static void client_read_socket(client *c) {
  uint8_t buf[65536];
  long n;
  while ((n = net_recv_connected(c->fd, buf, sizeof(buf))) != -1) {
    if (n == NET_REFUSED) {
      c->refused = true;
      return;
    }
    c->now = now_ns();
    trace_datagram(&c->tr, NULL, false, buf, (size_t)n, c->now);
    sdtls_conn_receive(c->conn, buf, (size_t)n, c->now);
    sdtls_state st = sdtls_conn_state(c->conn);
    if (st == SDTLS_STATE_FAILED || st == SDTLS_STATE_CLOSED) {
      return;
    }
  }
}

/* What the command line asked for. */
typedef struct client_opts {
  config_opts copts;
  const char *target;      /* HOST:PORT as given */
  char host[256], port[8]; /* ... split */
  const char *server_name; /* --server-name, else the host */
  const char *session_file;
  bool insecure, require_srtp;
  bool psk;   /* the server is authenticated by --psk */
  bool by_ca; /* ... by its chain and name (the default) */
  int verbose;
  sdtls_time reply_timeout, hs_timeout;
} client_opts;

/* Reads the command line into *o. Returns -1 to go on, or the exit status
 * (after a message). */
static int client_parse(int argc, char **argv, client_opts *o) {
  static char prog[] = "sdtls client";
  enum {
    OPT_INSECURE = OPT_COMMAND,
    OPT_NAME,
    OPT_TIMEOUT,
    OPT_HS_TIMEOUT,
    OPT_SESSION,
    OPT_REQUIRE_SRTP
  };
  static const struct option options[] = {
      CONFIG_LONG_OPTIONS,
      {"insecure", no_argument, NULL, OPT_INSECURE},
      {"server-name", required_argument, NULL, OPT_NAME},
      {"timeout", required_argument, NULL, OPT_TIMEOUT},
      {"handshake-timeout", required_argument, NULL, OPT_HS_TIMEOUT},
      {"session", required_argument, NULL, OPT_SESSION},
      {"require-srtp", no_argument, NULL, OPT_REQUIRE_SRTP},
      {"verbose", no_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  memset(o, 0, sizeof(*o));
  o->reply_timeout = 2000000000u;
  config_opts *copts = &o->copts;
  int opt, status;
  while ((opt = command_option(argc, argv, prog, options, client_usage, copts, &o->verbose,
                               &status)) != 0) {
    switch (opt) {
    case OPT_REQUIRE_SRTP:
      o->require_srtp = true;
      break;
    case OPT_INSECURE:
      o->insecure = true;
      break;
    case OPT_NAME:
      o->server_name = optarg;
      break;
    case OPT_TIMEOUT:
      if (!take_seconds(prog, "--timeout", optarg, 0, 3600, &o->reply_timeout)) {
        return EXIT_USAGE;
      }
      break;
    case OPT_HS_TIMEOUT:
      if (!take_seconds(prog, "--handshake-timeout", optarg, 0.1, 3600, &o->hs_timeout)) {
        return EXIT_USAGE;
      }
      break;
    case OPT_SESSION:
      o->session_file = optarg;
      break;
    }
  }
  if (status >= 0) {
    return status;
  }
  if (argc - optind != 1) {
    return usage_error(prog, client_usage, "expected exactly one HOST:PORT");
  }
  o->target = argv[optind];
  if (!net_split_host_port(o->target, o->host, sizeof(o->host), o->port, sizeof(o->port))) {
    return usage_error(prog, NULL, "'%s' is not HOST:PORT or [IPv6]:PORT", o->target);
  }
  int checked = config_opts_check(copts, prog);
  if (checked >= 0) {
    return checked;
  }
  if (o->require_srtp && copts->srtp == NULL) {
    return usage_error(prog, NULL, "--require-srtp needs --srtp");
  }
  bool pinned = copts->n_fingerprints > 0;
  o->psk = copts->psk_len > 0;
  if (copts->ca != NULL && o->insecure) {
    return usage_error(prog, NULL, "--ca and --insecure exclude each other");
  }
  if (pinned && (copts->ca != NULL || o->insecure)) {
    return usage_error(prog, NULL, "--fingerprint replaces --ca and --insecure");
  }
  if (o->psk && (copts->ca != NULL || o->insecure || pinned || copts->cert != NULL)) {
    return usage_error(prog, NULL,
                       "--psk authenticates the server by the key: it excludes --ca, "
                       "--insecure, --fingerprint and --cert");
  }
  /* The CA check is the default: without another way to authenticate the
   * server, the system's trust anchors. */
  o->by_ca = !o->insecure && !pinned && !o->psk;
  if (o->by_ca && copts->ca == NULL) {
    if (access(SYSTEM_CA_BUNDLE, R_OK) != 0) {
      errorf("no trust anchors: %s is missing; use --ca FILE (or --insecure)", SYSTEM_CA_BUNDLE);
      return EXIT_FAIL;
    }
    copts->ca = SYSTEM_CA_BUNDLE;
  }
  if (o->server_name == NULL) {
    o->server_name = o->host;
  }
  return -1;
}

/* The configuration's settings of the client's own options. False after an
 * error message. */
static bool client_configure(sdtls_config *config, const client_opts *o) {
  /* A PSK client offers only the PSK suite: the key is what authenticates
   * the server, so no certificate suite may stand in for it. */
  if (o->psk) {
    int rc = sdtls_config_set_ciphers(config, "ECDHE-PSK-CHACHA20-POLY1305");
    if (rc != SDTLS_OK) {
      report_sdtls_error("--psk", rc, NULL);
      return false;
    }
  }
  return !((o->insecure && !config_set(config, SDTLS_OPT_VERIFY_PEER, 0, "--insecure")) ||
           (o->hs_timeout != 0 &&
            !config_set(config, SDTLS_OPT_HANDSHAKE_TIMEOUT_MS,
                        (int64_t)(o->hs_timeout / 1000000u), "--handshake-timeout")));
}

/* A UDP socket connected to the first of the server's addresses that takes
 * one. False after an error message. */
static bool client_open_socket(client *c, const client_opts *o) {
  net_addr addrs[8];
  int naddrs = net_resolve(o->host, o->port, false, addrs, 8);
  if (naddrs < 0) {
    return false;
  }
  for (int i = 0; i < naddrs && c->fd < 0; i++) {
    c->fd = net_udp_connect(&addrs[i]);
    net_format(&addrs[i], c->peer_text, sizeof(c->peer_text));
  }
  if (c->fd < 0) {
    errorf("cannot open a UDP socket to %s: %s", o->target, strerror(errno));
    return false;
  }
  return true;
}

/* Makes the connection and starts its handshake. False after an error
 * message. */
static bool client_start(client *c, sdtls_config *config, const client_opts *o) {
  const sdtls_callbacks cbs = {.size = sizeof(cbs),
                               .send = client_send,
                               .on_handshake_done = client_on_handshake_done,
                               .on_data = client_on_data,
                               .on_close = client_on_close};
  int rc = sdtls_conn_new(config, SDTLS_ROLE_CLIENT, &cbs, c, &c->conn);
  if (rc != SDTLS_OK) {
    report_sdtls_error("cannot create the connection", rc, NULL);
    return false;
  }
  /* RFC 6066 has no SNI for addresses: without a name check (--insecure,
   * --fingerprint, --psk), an address literal is not sent at all; with it,
   * the library checks the address. */
  if (o->by_ca || !Sdtls_is_ip_literal(o->server_name)) {
    rc = sdtls_conn_set_server_name(c->conn, o->server_name);
    if (rc != SDTLS_OK) {
      report_sdtls_error("invalid server name", rc, sdtls_conn_error_detail(c->conn));
      return false;
    }
  }
  if (o->session_file != NULL && !offer_session(c->conn, o->session_file)) {
    return false;
  }
  c->sigfd = signals_install(false);
  c->now = now_ns();
  c->tr.start = c->tr.handshake_start = c->now;
  rc = sdtls_conn_start(c->conn, c->now);
  if (rc != SDTLS_OK) {
    report_sdtls_error("cannot start the handshake", rc, sdtls_conn_error_detail(c->conn));
    return false;
  }
  return true;
}

/* The event loop: the handshake, then stdin lines out and datagrams in,
 * until the end of stdin and its replies, a close, a failure or a signal.
 * Returns the exit status. */
static int client_run(client *c, const client_opts *o) {
  line_reader in;
  line_reader_init(&in, STDIN_FILENO);
  bool announced = false;
  sdtls_time eof_at = 0;
  for (;;) {
    c->now = now_ns();
    sdtls_state st = sdtls_conn_state(c->conn);
    if (c->refused) {
      /* As `openssl s_client` does: no point in retransmitting to a port
       * that nothing listens on. */
      errorf("%s with %s failed: connection refused", announced ? "connection" : "handshake",
             c->peer_text);
      return EXIT_FAIL;
    }
    if (st == SDTLS_STATE_FAILED || (c->closed && c->close_reason != 0)) {
      int err = sdtls_conn_error(c->conn);
      if (err == 0) {
        err = c->close_reason;
      }
      char what[200];
      snprintf(what, sizeof(what), "%s with %s failed", announced ? "connection" : "handshake",
               c->peer_text);
      report_sdtls_error(what, err, sdtls_conn_error_detail(c->conn));
      explain_failure(c, &o->copts, err);
      return EXIT_FAIL;
    }
    if (c->handshake_done && !announced) {
      announced = true;
      if (announce(c, &o->copts, o->session_file, o->require_srtp) != 0) {
        sdtls_conn_close(c->conn, c->now);
        return EXIT_FAIL;
      }
    }
    if (c->stdout_failed) {
      errorf("cannot write to stdout: %s", strerror(errno));
      return EXIT_FAIL;
    }
    if (c->closed || st == SDTLS_STATE_CLOSED) {
      fprintf(stderr, "closed by peer\n");
      return EXIT_OK;
    }
    if (signals_received()) {
      sdtls_conn_close(c->conn, c->now);
      if (!announced) {
        errorf("interrupted before the handshake finished");
      }
      return announced ? EXIT_OK : EXIT_FAIL;
    }

    /* Input lines, once connected. */
    if (announced) {
      const char *line;
      size_t len;
      line_kind kind;
      while ((kind = line_reader_next(&in, &line, &len)) != LINE_NONE) {
        size_t max = sdtls_conn_max_data_size(c->conn);
        if (kind == LINE_TOO_LONG || len > max) {
          errorf("line of %zu bytes not sent: at most %zu fit one datagram", len, max);
          continue;
        }
        if (len == 0) {
          continue; /* a zero-length send sends nothing */
        }
        int rc = sdtls_conn_send(c->conn, (const uint8_t *)line, len, c->now);
        if (rc != SDTLS_OK) {
          report_sdtls_error("send failed", rc, sdtls_conn_error_detail(c->conn));
          return EXIT_FAIL;
        }
        c->sent++;
      }
      if (in.eof && eof_at == 0) {
        eof_at = c->now;
      }
      if (in.eof) {
        sdtls_time since = c->last_rx > eof_at ? c->last_rx : eof_at;
        if (c->received >= c->sent || c->now >= since + o->reply_timeout) {
          /* The session is saved at the end: DTLS 1.3 servers send their
           * tickets after the handshake. */
          int status = o->session_file == NULL || save_session(c->conn, o->session_file)
                           ? EXIT_OK
                           : EXIT_FAIL;
          sdtls_conn_close(c->conn, c->now);
          return status;
        }
      }
    }

    sdtls_time deadline = sdtls_conn_next_deadline(c->conn);
    if (announced && in.eof) {
      sdtls_time since = c->last_rx > eof_at ? c->last_rx : eof_at;
      if (since + o->reply_timeout < deadline) {
        deadline = since + o->reply_timeout;
      }
    }
    bool want_stdin = announced && !in.eof;
    io_events ev;
    if (!io_wait(c->fd, c->sigfd, want_stdin, c->now, deadline, &ev)) {
      return EXIT_FAIL;
    }
    c->now = now_ns();
    if (ev.sock) {
      client_read_socket(c);
    }
    if (ev.input && line_reader_fill(&in) < 0) {
      errorf("cannot read stdin: %s", strerror(errno));
      in.eof = true;
    }
    c->now = now_ns();
    if (c->now >= sdtls_conn_next_deadline(c->conn)) {
      c->tr.on_timer = true;
      sdtls_conn_handle_timeout(c->conn, c->now);
      c->tr.on_timer = false;
    }
  }
}

int cmd_client(int argc, char **argv) {
  client_opts o;
  int parsed = client_parse(argc, argv, &o);
  if (parsed >= 0) {
    return parsed;
  }
  sdtls_config *config = config_opts_new(&o.copts);
  if (config == NULL) {
    return EXIT_FAIL;
  }
  client c;
  memset(&c, 0, sizeof(c));
  c.fd = -1;
  c.tr.verbose = o.verbose;
  int status = EXIT_FAIL;
  if (client_configure(config, &o) && client_open_socket(&c, &o) && client_start(&c, config, &o)) {
    status = client_run(&c, &o);
  }
  sdtls_conn_free(c.conn);
  sdtls_config_free(config);
  keylog_close();
  if (c.fd >= 0) {
    close(c.fd);
  }
  return status;
}
