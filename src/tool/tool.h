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

/* CLOCK_MONOTONIC in nanoseconds: the time handed to the library. */
sdtls_time now_ns(void);

/* Milliseconds from `now` until `deadline` (rounded up), for poll(); -1 for
 * SDTLS_TIME_NEVER, capped at an hour. */
int poll_timeout_ms(sdtls_time now, sdtls_time deadline);

/* "error: ..." on stderr. */
void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reports a library failure: "error: <what>: <strerror>[: <detail>]". */
void report_sdtls_error(const char *what, int err, const char *detail);

/* Lowercase hex of `len` bytes into `out` (2*len+1 bytes). */
void hex_encode(const uint8_t *data, size_t len, char *out);

/* Parses a decimal integer in [min, max]. Returns true on success. */
bool parse_long(const char *s, long min, long max, long *out);
/* Parses a non-negative decimal number of seconds ("2", "0.5") into ns. */
bool parse_seconds(const char *s, double max_seconds, sdtls_time *out_ns);

/* Prints "<prefix>sha-256 AA:BB:..." for a digest to `stream`. */
void print_fingerprint(FILE *stream, const char *prefix, const uint8_t digest[32]);

/* SIGINT/SIGTERM: a self-pipe whose read end becomes readable on a signal. */
int signals_install(void);   /* returns the read end, or -1 */
bool signals_received(void); /* true once a signal arrived */

/* Key log: appends NSS key log lines to `path` (created 0600). */
int keylog_enable(sdtls_config *config, const char *path);
void keylog_close(void);

/* Line reader over a non-blocking-friendly fd (stdin). */
typedef struct line_reader {
  int fd;
  bool eof;
  size_t len;
  size_t consumed; /* the line handed out last, dropped on the next call */
  char buf[65536];
} line_reader;
void line_reader_init(line_reader *r, int fd);
/* Reads once from the fd (call when poll says it is readable). Returns the
 * number of bytes read, 0 at EOF, -1 on error (errno set). */
long line_reader_fill(line_reader *r);
/* Takes the next complete line (without its '\n'); at EOF also a final
 * unterminated line. Returns true and sets *line and *len (valid until the next
 * call), false when there is none. A line longer than the buffer is returned
 * in buffer-sized pieces. */
bool line_reader_next(line_reader *r, const char **line, size_t *len);

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
void net_format(const struct sockaddr *sa, socklen_t len, char *out, size_t out_len);

/* Same family, address, port (and IPv6 scope). */
bool net_addr_equal(const struct sockaddr *a, socklen_t alen, const struct sockaddr *b,
                    socklen_t blen);

/* A non-blocking, close-on-exec UDP socket bound to `addr`; -1 on error. */
int net_udp_bind(const net_addr *addr);
/* A non-blocking UDP socket connected to `addr`; -1 on error. */
int net_udp_connect(const net_addr *addr);

/* ---- commands ---- */
int cmd_cert(int argc, char **argv);
int cmd_client(int argc, char **argv);
int cmd_server(int argc, char **argv);

#endif
