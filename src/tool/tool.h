/* SPDX-License-Identifier: Apache-2.0 */
/* The sdtls command-line tool: shared declarations. The tool uses only the
 * public API (sdtls.h); sockets, clocks and the event loop live here. */
#ifndef SDTLS_TOOL_H
#define SDTLS_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "sdtls.h"

/* Exit codes. */
#define EXIT_OK 0
#define EXIT_FAIL 1  /* handshake, verification, network or file failure */
#define EXIT_USAGE 2 /* bad command line */

/* ---- main.c ---- */
extern const char *tool_name; /* "sdtls" */

/* ---- common.c ---- */

/* The time handed to the library, by sdtls.h's rule ("Time"): nanoseconds
 * since the UNIX epoch, advanced by CLOCK_MONOTONIC. */
sdtls_time now_ns(void);

/* Milliseconds from `now` until `deadline` (rounded up), for poll(); -1 for
 * SDTLS_TIME_NEVER, capped at an hour. */
int poll_timeout_ms(sdtls_time now, sdtls_time deadline);

/* "error: ..." on stderr. */
void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The text of a library failure, into buf: "<strerror>: <detail>", or the
 * detail alone when it already names the kind of failure (the alert of
 * SDTLS_E_ALERT, "certificate verify failed: ..." of SDTLS_E_VERIFY), or
 * sdtls_strerror() alone without a detail (NULL or ""). Returns buf. */
const char *error_text(int err, const char *detail, char *buf, size_t len);
/* Reports a library failure: "error: <what>: <error_text()>". */
void report_sdtls_error(const char *what, int err, const char *detail);

/* Lowercase hex of `len` bytes into `out` (2*len+1 bytes). */
void hex_encode(const uint8_t *data, size_t len, char *out);

/* Parses a decimal integer in [min, max]. Returns true on success. */
bool parse_long(const char *s, long min, long max, long *out);
/* Parses a non-negative decimal number of seconds ("2", "0.5") into ns. */
bool parse_seconds(const char *s, double max_seconds, sdtls_time *out_ns);

/* Prints "<prefix>sha-256 AA:BB:..." (the hash's name) for a digest to
 * `stream`. */
void print_fingerprint(FILE *stream, const char *prefix, int hash, const uint8_t *digest,
                       size_t digest_len);

/* One line on stderr, written at once: "<prefix> <version> <cipher>", then
 * " <group>" when the handshake had a key exchange, and, each only when it
 * applies, " peer sha-256 <fingerprint>" (the peer sent a certificate),
 * " psk <identity>", " srtp <profile>", " alpn <protocol>" and " resumed"
 * (or " full" when `offered_session` and not resumed). */
void print_session(const char *prefix, const sdtls_conn *conn, bool offered_session);

/* --verbose, after the handshake: on stderr, "* [<peer> ]<name>: <value>"
 * for the version, cipher, group, ALPN, SRTP profile, resumption and PSK
 * identity, then the peer's certificate (print_certificate()) and its
 * fingerprint, or that it sent none. `peer` may be NULL. */
void print_parameters(const char *peer, const sdtls_conn *conn);

/* The alert number of a failure: for SDTLS_E_ALERT, the "(N)" that ends
 * sdtls_conn_error_detail()'s "peer sent fatal alert: <name> (N)"; else -1. */
int failure_alert(int err, const char *detail);

/* Writes `data` and a newline to stdout and flushes. False on failure. */
bool write_line(const uint8_t *data, size_t len);

/* ---- command lines ---- */

typedef void (*usage_fn)(FILE *out);

/* For what getopt_long() returned that no case took: 'h' prints the usage
 * on stdout and returns EXIT_OK, anything else prints it on stderr and
 * returns EXIT_USAGE. */
int usage_exit(usage_fn usage, int opt);
/* "<prog>: <message>" on stderr, then the usage unless `usage` is NULL.
 * Returns EXIT_USAGE. */
int usage_error(const char *prog, usage_fn usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Option values: parse_long() / parse_seconds() with a usage message
 * ("<prog>: <name> must be ...") on failure. */
bool take_long(const char *prog, const char *name, const char *arg, long min, long max,
               long *out);
bool take_seconds(const char *prog, const char *name, const char *arg, double min,
                  double max, sdtls_time *out_ns);

/* Options that client and server share, and their getopt_long values; a
 * command's own values start at OPT_COMMAND. */
enum {
  OPT_CERT = 256,
  OPT_KEY,
  OPT_CA,
  OPT_MTU,
  OPT_SRTP,
  OPT_ALPN,
  OPT_FINGERPRINT,
  OPT_PSK_IDENTITY,
  OPT_PSK,
  OPT_KEYLOG,
  OPT_EXPORT,
  OPT_GROUPS,
  OPT_MAX_VERSION,
  OPT_COMMAND
};
#define CONFIG_LONG_OPTIONS                                                                 \
  {"cert", required_argument, NULL, OPT_CERT}, {"key", required_argument, NULL, OPT_KEY},   \
      {"ca", required_argument, NULL, OPT_CA}, {"mtu", required_argument, NULL, OPT_MTU},   \
      {"srtp", required_argument, NULL, OPT_SRTP},                                          \
      {"alpn", required_argument, NULL, OPT_ALPN},                                          \
      {"fingerprint", required_argument, NULL, OPT_FINGERPRINT},                            \
      {"psk-identity", required_argument, NULL, OPT_PSK_IDENTITY},                          \
      {"psk", required_argument, NULL, OPT_PSK},                                            \
      {"keylog", required_argument, NULL, OPT_KEYLOG},                                      \
      {"export", required_argument, NULL, OPT_EXPORT},                                      \
      {"groups", required_argument, NULL, OPT_GROUPS},                                      \
      {"max-version", required_argument, NULL, OPT_MAX_VERSION}

/* The usage lines of the shared --groups and --max-version. */
#define CONFIG_USAGE_VERSIONS                                                               \
  "  --groups LIST           key exchange groups, most preferred first, joined by\n"      \
  "                          ':' (X25519, P-256, X25519MLKEM768 ...; default: the\n"      \
  "                          engine's)\n"                                                 \
  "  --max-version V         newest protocol version, 1.2 or 1.3 (default: the\n"         \
  "                          newest the engine speaks)\n"

#define MAX_FINGERPRINTS 16 /* the library's limit per config */
#define PSK_MAX 64          /* bytes */
#define EXPORT_MAX 1024     /* bytes of --export */

typedef struct config_opts {
  const char *cert, *key; /* own certificate chain and key (PEM files) */
  const char *ca;         /* trust anchors (PEM file) */
  long mtu;               /* 0: the library's default */
  const char *srtp;       /* SRTP profiles, ':'-separated */
  const char *alpn;       /* ALPN protocols, ','-separated */
  const char *fingerprints[MAX_FINGERPRINTS]; /* pinned peer certificates, as given */
  size_t n_fingerprints;
  const char *psk_identity; /* with psk: a pre-shared key */
  uint8_t psk[PSK_MAX];
  size_t psk_len; /* 0: no --psk */
  const char *keylog;      /* NSS key log file */
  const char *export_spec; /* --export LABEL:LEN as given */
  char export_label[256];  /* ... and parsed by config_opts_check() */
  long export_len;
  const char *groups;     /* NULL: the engine's */
  int max_version;        /* 0: the newest the engine speaks, else SDTLS_DTLS1_* */
} config_opts;

/* For what getopt_long() returned that a command's own cases did not take:
 * returns -1 for a shared option with a good value (parsing goes on), else
 * the command's exit status: EXIT_USAGE after a message for a bad value,
 * or usage_exit()'s for anything else ('h', an unknown option). */
int config_opts_take(config_opts *o, const char *prog, usage_fn usage, int opt,
                     const char *arg);
/* The option loop of client and server: getopt_long() over `options`
 * (short options -h and -v), with argv[0] set to `prog` for its messages.
 * Takes -v (counted into *verbose, at most 2) and the shared options
 * (config_opts_take() into `copts`) itself, and returns the next of the
 * command's own options (>= OPT_COMMAND); 0 at the end, with *status -1
 * when all went well, else the exit status (after a message, or the usage
 * for -h or an unknown option). */
struct option;
int command_option(int argc, char **argv, char *prog, const struct option *options,
                   usage_fn usage, config_opts *copts, int *verbose, int *status);
/* After parsing: checks what goes together (--psk and --psk-identity,
 * --cert and --key) and the values the library judges (--srtp, --alpn,
 * --fingerprint), and parses --export. Returns -1 if all is well, else
 * EXIT_USAGE after a message. */
int config_opts_check(config_opts *o, const char *prog);
/* A new configuration with everything in `o`; NULL after an error message. */
sdtls_config *config_opts_new(const config_opts *o);

/* Prints "EXPORT <label> <hex>" on stdout for --export (nothing without
 * it). False after an error message. */
bool print_export(const config_opts *o, const sdtls_conn *conn);

/* Parses hex ("0a1B...", an even number of digits, at least one byte) into
 * out[0..max). Returns the length, or 0 for bad text or more than max. */
size_t parse_hex(const char *s, uint8_t *out, size_t max);

/* ---- files.c ----
 * Files of secrets and state. No open can wait for a FIFO's other end; the
 * tool never changes the mode of a file it is given. */

/* Flags of read_small_file(). */
#define READ_MISSING_OK 1u /* a file that does not exist is no error */
#define READ_PIPE_OK 2u    /* a pipe or FIFO is read too, not only a regular file */
/* Reads a whole small file (at most `max` bytes) into *out (malloc'd; wipe
 * and free it). Anything but a regular file (or, with READ_PIPE_OK, a pipe)
 * is refused; a FIFO with no writer is an error at once. Returns 1, 0 if it
 * does not exist (with READ_MISSING_OK), or -1 after a message naming it and
 * its role `what` ("session file"). */
int read_small_file(const char *path, const char *what, size_t max, unsigned flags,
                    uint8_t **out, size_t *len);

/* Flags of open_output(). */
#define OUT_APPEND 1u /* append, rather than replace a regular file's contents */
#define OUT_SECRET 2u /* created 0600; an existing regular file that group or
                       * others can read is refused */
/* Opens `path` for writing, created if missing (mode 0666 less the umask,
 * 0600 with OUT_SECRET); a device or FIFO is written as it is, its mode
 * untouched, and a FIFO with no reader is an error at once. Returns a
 * blocking fd, or -1 after a message naming it and its role `what`. */
int open_output(const char *path, const char *what, unsigned flags);
/* Replaces the regular file `path` with `data` atomically (a temporary file
 * in the same directory, mode 0600, renamed); an existing `path` that is not
 * a regular file is refused. False after a message naming it. */
bool write_secret_file(const char *path, const char *what, const uint8_t *data, size_t len);
/* Wipes and frees a buffer from read_small_file(). */
void wipe_free(uint8_t *buf, size_t len);

/* ---- credentials.c ----
 * The tool reads and checks each file itself before the library sees it, so
 * that a failure names the file that failed. */

/* Own certificate chain and key (PEM files); false after a message naming
 * the file at fault ("<key>: key does not match certificate <cert>" for a
 * pair that does not belong together). */
bool load_certificate(sdtls_config *config, const char *cert_path, const char *key_path);
/* Trust anchors (a PEM file); false after a message naming it. */
bool load_ca(sdtls_config *config, const char *ca_path);

/* sdtls_config_set_option(); reports "<what>: <error>" and returns false
 * when it fails. */
bool config_set(sdtls_config *config, sdtls_option option, int64_t value, const char *what);

/* ---- signals ----
 * SIGINT/SIGTERM (and, for a `server`, SIGUSR1 and SIGHUP): a self-pipe
 * whose read end becomes readable on a signal. */
int signals_install(bool server); /* returns the read end, or -1 */
bool signals_received(void);      /* true once SIGINT or SIGTERM arrived */
/* True once per SIGUSR1 (SIGHUP) burst; empty the pipe. */
bool signals_take_usr1(void);
bool signals_take_hup(void);

/* ---- event loop ---- */

typedef struct io_events {
  bool sock, input; /* readable (or an error or hang-up to read) */
  bool wake;        /* wake_fd is readable */
} io_events;
/* Waits until `sock`, `wake_fd` (signals_install()'s, or a server worker's
 * eventfd) or (with `want_input`) stdin is readable, or `deadline` passes.
 * False after reporting a poll failure. */
bool io_wait(int sock, int wake_fd, bool want_input, sdtls_time now, sdtls_time deadline,
             io_events *ev);

/* Key log: appends NSS key log lines to `path`, opened by open_output()
 * (OUT_SECRET). */
int keylog_enable(sdtls_config *config, const char *path);
void keylog_close(void);

/* Line reader over a non-blocking-friendly fd (stdin). */
#define LINE_MAX_BYTES 65536 /* longer lines are refused whole */
typedef struct line_reader {
  int fd;
  bool eof;
  size_t len;
  size_t consumed; /* the line handed out last, dropped on the next call */
  size_t skipped;  /* bytes dropped so far of a line longer than buf */
  char buf[LINE_MAX_BYTES];
} line_reader;
typedef enum line_kind {
  LINE_NONE,    /* no complete line yet */
  LINE_OK,      /* a line */
  LINE_TOO_LONG /* a line longer than LINE_MAX_BYTES ended; it was dropped */
} line_kind;
void line_reader_init(line_reader *r, int fd);
/* Reads once from the fd (call when poll says it is readable). Returns the
 * number of bytes read, 0 at EOF, -1 on error (errno set). */
long line_reader_fill(line_reader *r);
/* Takes the next line (without its '\n'); at EOF also a final unterminated
 * line. LINE_OK sets *line and *len (valid until the next call). A line
 * that does not fit the buffer is dropped as it comes in, none of it is
 * handed out, and when it ends (newline or EOF) LINE_TOO_LONG sets *len to
 * its length and *line to NULL. */
line_kind line_reader_next(line_reader *r, const char **line, size_t *len);

/* ---- net.c ---- */

typedef struct net_addr {
  struct sockaddr_storage ss;
  socklen_t len;
} net_addr;

/* Splits "HOST:PORT" or "[V6]:PORT" into host (brackets removed) and port.
 * Returns false on bad syntax. */
bool net_split_host_port(const char *spec, char *host, size_t host_len, char *port,
                         size_t port_len);

/* Resolves host/port (numeric or names) into up to `max` UDP addresses.
 * `passive` for binding. Returns the count, or -1 (message printed). */
int net_resolve(const char *host, const char *port, bool passive, net_addr *out, int max);

/* "1.2.3.4:5" or "[::1]:5". */
void net_format(const net_addr *addr, char *out, size_t out_len);

/* A non-blocking, close-on-exec UDP socket bound to `addr`, with
 * `reuse_port` SO_REUSEPORT (so that several sockets share the address and
 * the kernel spreads the peers over them by their address); -1 on error. */
int net_udp_bind(const net_addr *addr, bool reuse_port);
/* A non-blocking UDP socket connected to `addr`; -1 on error. */
int net_udp_connect(const net_addr *addr);

/* A net_addr from sockaddr bytes; false if they do not fit. */
bool net_addr_from(net_addr *out, const uint8_t *addr, size_t len);
/* "1.2.3.4:5" of the address a socket is bound to (or of `fallback`). */
void net_local_name(int fd, const net_addr *fallback, char *out, size_t out_len);

/* Receives one datagram on a connected socket (the client's). Returns its
 * length, -1 when nothing is queued, or NET_REFUSED for ECONNREFUSED: an
 * ICMP port unreachable about an earlier datagram to the connected address
 * (the kernel delivers only those to a connected socket), i.e. nothing
 * listens there. */
#define NET_REFUSED (-2)
long net_recv_connected(int fd, uint8_t *buf, size_t len);
/* Sends one datagram (to `to`, or on a connected socket if NULL). 0, or -1
 * with errno set: a lost datagram (ENOBUFS...) is DTLS's to retransmit; on a
 * connected socket ECONNREFUSED may show here instead of in a receive. */
int net_send(int fd, const uint8_t *data, size_t len, const net_addr *to);

/* ---- batched datagram I/O (the server's workers) ---- */

#define NET_BATCH 32          /* datagrams per recvmmsg()/sendmmsg() */
#define NET_DATAGRAM_MAX 65536 /* receive buffer per datagram */

/* Receives up to NET_BATCH datagrams with one recvmmsg(). */
typedef struct net_rx_batch {
  struct mmsghdr msgs[NET_BATCH];
  struct iovec iov[NET_BATCH];
  net_addr from[NET_BATCH];
  union {
    struct cmsghdr align;
    char bytes[CMSG_SPACE(sizeof(uint32_t))];
  } control[NET_BATCH];
  uint8_t *bufs;         /* NET_BATCH * NET_DATAGRAM_MAX bytes */
  uint32_t kernel_drops; /* SO_RXQ_OVFL: the socket's drops as of the last datagram */
} net_rx_batch;
/* Allocates the buffers; false when out of memory. */
bool net_rx_init(net_rx_batch *b);
void net_rx_free(net_rx_batch *b);
/* Receives what is queued (up to NET_BATCH): datagram i is bufs + i *
 * NET_DATAGRAM_MAX, msgs[i].msg_len bytes, from from[i]. Skips
 * interruptions and ICMP errors (ECONNREFUSED about one peer is no reason
 * to stop serving the others). Returns the count, 0 when nothing is queued
 * (or on another error). */
int net_recv_batch(int fd, net_rx_batch *b);

/* Datagrams queued to go out with one sendmmsg(). */
typedef struct net_tx_batch {
  int fd;
  size_t count, used;
  struct mmsghdr msgs[NET_BATCH];
  struct iovec iov[NET_BATCH];
  net_addr to[NET_BATCH];
  uint8_t buf[NET_BATCH * 2048]; /* the datagrams, back to back */
} net_tx_batch;
/* Queues a datagram for `to` (flushing first when the batch is full; one
 * larger than the batch's buffer goes out at once). */
void net_tx_queue(net_tx_batch *b, const uint8_t *data, size_t len, const net_addr *to);
/* Sends what is queued; a datagram the kernel refuses (ENOBUFS, EAGAIN...)
 * is lost, as a lost datagram is: DTLS retransmits. */
void net_tx_flush(net_tx_batch *b);

/* A server socket's buffers: asks for `rcvbuf` / `sndbuf` bytes (0: the
 * system's default), beyond net.core.rmem_max / wmem_max where the process
 * may (SO_RCVBUFFORCE, CAP_NET_ADMIN), and turns on SO_RXQ_OVFL (the
 * kernel's drop count, in net_rx_batch). Sets what the kernel granted (as
 * it reports it: twice the data, for its bookkeeping). False after an
 * error message. */
bool net_server_buffers(int fd, int rcvbuf, int sndbuf, int *got_rcvbuf, int *got_sndbuf);

/* ---- trace.c ----
 * --verbose: datagrams counted, timed and described from their DTLS record
 * headers, which the tool reads itself. */

typedef struct trace {
  int verbose;         /* 0, 1 (-v: datagrams of the handshake) or 2 (-vv: all, and records) */
  sdtls_time start;    /* times are printed from here */
  sdtls_time handshake_start; /* the handshake's time is counted from here */
  bool on_timer;       /* the library call running is sdtls_*_handle_timeout() */
  bool handshake_done; /* set by trace_handshake_done() */
  unsigned long sent, received, timer_sent; /* datagrams */
  unsigned long long sent_bytes, received_bytes;
  bool certificate_request; /* a plaintext CertificateRequest came (DTLS 1.2) */
} trace;

/* Counts a datagram sent or received at `now`; with `verbose` (and, at 1,
 * until the handshake is done) prints "* [<peer> ]<ms> ms >|< <n> bytes
 * [(timer)]: <contents>" on stderr, and at 2 one "*   >|< record ..." line
 * per record. Received datagrams of the handshake are read also without
 * `verbose`, for `certificate_request`. `peer` may be NULL. */
void trace_datagram(trace *tr, const char *peer, bool sent, const uint8_t *d, size_t len,
                    sdtls_time now);
/* Marks the handshake done; with `verbose` prints its time and counts. */
void trace_handshake_done(trace *tr, const char *peer, sdtls_time now);
/* The TLS name of an alert ("handshake_failure"). */
const char *alert_name(int alert);

/* ---- certinfo.c ---- */

/* What a DER certificate says, one "<prefix><field>: <value>" line each on
 * `out`: subject, issuer, validity, subject alt names, key (and the
 * signature algorithm); a "cannot parse" line where it stops making sense.
 * Certificate text is escaped (\xHH) to printable ASCII. */
void print_certificate(FILE *out, const char *prefix, const uint8_t *der, size_t len);

/* ---- commands ---- */
int cmd_cert(int argc, char **argv);
int cmd_client(int argc, char **argv);
int cmd_server(int argc, char **argv);

#endif
