/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the tool's commands: time, messages, parsing, command
 * lines, configuration, signals, the wait of the event loops, key logging and
 * a line reader. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

static sdtls_time timespec_ns(const struct timespec *ts) {
  return (sdtls_time)ts->tv_sec * 1000000000u + (sdtls_time)ts->tv_nsec;
}

/* sdtls.h's rule ("Time"): the UNIX epoch, read from CLOCK_REALTIME once and
 * advanced by CLOCK_MONOTONIC, so that a --session file resumes after a
 * reboot and servers sharing a ticket secret agree on tickets' times. (The
 * unsigned sum wraps back to the right value whatever the two clocks read.) */
sdtls_time now_ns(void) {
  static sdtls_time realtime_minus_monotonic;
  static bool have_offset;
  struct timespec mono;
  clock_gettime(CLOCK_MONOTONIC, &mono);
  if (!have_offset) {
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    realtime_minus_monotonic = timespec_ns(&wall) - timespec_ns(&mono);
    have_offset = true;
  }
  return realtime_minus_monotonic + timespec_ns(&mono);
}

int poll_timeout_ms(sdtls_time now, sdtls_time deadline) {
  if (deadline == SDTLS_TIME_NEVER) {
    return -1;
  }
  if (deadline <= now) {
    return 0;
  }
  sdtls_time ms = (deadline - now + 999999u) / 1000000u;
  return ms > 3600000u ? 3600000 : (int)ms;
}

/* "<who><sep><message>\n" on stderr. */
static void vmessage(const char *who, const char *sep, const char *fmt, va_list ap) {
  fprintf(stderr, "%s%s", who, sep);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void errorf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage(tool_name, ": error: ", fmt, ap);
  va_end(ap);
}

const char *error_text(int err, const char *detail, char *buf, size_t len) {
  /* Details that name their kind of failure themselves ("peer sent fatal
   * alert: ...", "certificate verify failed: ..."). */
  static const struct {
    int err;
    const char *word;
  } self_naming[] = {
      {SDTLS_E_ALERT, "alert"}, {SDTLS_E_VERIFY, "verif"}, {SDTLS_E_CLOSED, "close"}};
  if (detail == NULL || detail[0] == '\0') {
    snprintf(buf, len, "%s", sdtls_strerror(err));
    return buf;
  }
  for (size_t i = 0; i < sizeof(self_naming) / sizeof(self_naming[0]); i++) {
    if (self_naming[i].err == err && strcasestr(detail, self_naming[i].word) != NULL) {
      snprintf(buf, len, "%s", detail);
      return buf;
    }
  }
  snprintf(buf, len, "%s: %s", sdtls_strerror(err), detail);
  return buf;
}

void report_sdtls_error(const char *what, int err, const char *detail) {
  char text[512];
  errorf("%s: %s", what, error_text(err, detail, text, sizeof(text)));
}

void hex_encode(const uint8_t *data, size_t len, char *out) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = hex[data[i] >> 4];
    out[2 * i + 1] = hex[data[i] & 0x0f];
  }
  out[2 * len] = '\0';
}

bool parse_long(const char *s, long min, long max, long *out) {
  if (s == NULL || *s == '\0') {
    return false;
  }
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
    return false;
  }
  *out = v;
  return true;
}

bool parse_seconds(const char *s, double max_seconds, sdtls_time *out_ns) {
  if (s == NULL || *s == '\0') {
    return false;
  }
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0 || v > max_seconds) {
    return false;
  }
  *out_ns = (sdtls_time)(v * 1e9);
  return true;
}

void print_fingerprint(FILE *stream, const char *prefix, int hash, const uint8_t *digest,
                       size_t digest_len) {
  char text[SDTLS_FINGERPRINT_MAX_TEXT];
  if (sdtls_fingerprint_format_hash(hash, digest, digest_len, SDTLS_FINGERPRINT_SDP, text,
                                    sizeof(text)) == SDTLS_OK) {
    fprintf(stream, "%s%s", prefix, text);
  }
}

void print_session(const char *prefix, const sdtls_conn *conn, bool offered_session) {
  const char *version = sdtls_conn_version(conn);
  const char *cipher = sdtls_conn_cipher(conn);
  char fp[SDTLS_FINGERPRINT_MAX_TEXT] = "";
  uint8_t digest[SDTLS_FINGERPRINT_MAX_DIGEST];
  size_t digest_len;
  if (sdtls_conn_peer_fingerprint(conn, SDTLS_HASH_SHA256, digest, &digest_len) == SDTLS_OK &&
      sdtls_fingerprint_format_hash(SDTLS_HASH_SHA256, digest, digest_len, SDTLS_FINGERPRINT_BARE,
                                    fp, sizeof(fp)) != SDTLS_OK) {
    fp[0] = '\0';
  }
  const char *group = sdtls_conn_group(conn);
  const char *psk = sdtls_conn_psk_identity(conn);
  const char *srtp = sdtls_srtp_profile_name(sdtls_conn_srtp_profile(conn));
  const char *alpn = sdtls_conn_alpn(conn);
  const char *session = sdtls_conn_session_resumed(conn) ? " resumed"
                        : offered_session                ? " full"
                                                         : "";
  /* One write: a reader never sees half the line. */
  char line[1024];
  snprintf(line, sizeof(line), "%s %s %s%s%s%s%s%s%s%s%s%s%s%s\n", prefix,
           version != NULL ? version : "?", cipher != NULL ? cipher : "?",
           group != NULL ? " " : "", group != NULL ? group : "",
           fp[0] != '\0' ? " peer sha-256 " : "", fp, psk != NULL ? " psk " : "",
           psk != NULL ? psk : "", srtp != NULL ? " srtp " : "", srtp != NULL ? srtp : "",
           alpn != NULL ? " alpn " : "", alpn != NULL ? alpn : "", session);
  fputs(line, stderr);
}

void print_parameters(const char *peer, const sdtls_conn *conn) {
  char prefix[160];
  snprintf(prefix, sizeof(prefix), "* %s%s", peer != NULL ? peer : "", peer != NULL ? " " : "");
  const char *version = sdtls_conn_version(conn), *cipher = sdtls_conn_cipher(conn);
  const char *group = sdtls_conn_group(conn), *alpn = sdtls_conn_alpn(conn);
  const char *srtp = sdtls_srtp_profile_name(sdtls_conn_srtp_profile(conn));
  const char *psk = sdtls_conn_psk_identity(conn);
  fprintf(stderr,
          "%sversion: %s\n%scipher: %s\n%sgroup: %s\n%sALPN: %s\n%sSRTP profile: %s\n"
          "%sresumed: %s\n%sPSK identity: %s\n",
          prefix, version != NULL ? version : "?", prefix, cipher != NULL ? cipher : "?", prefix,
          group != NULL ? group : "none (no key exchange)", prefix, alpn != NULL ? alpn : "none",
          prefix, srtp != NULL ? srtp : "none", prefix,
          sdtls_conn_session_resumed(conn) ? "yes" : "no", prefix, psk != NULL ? psk : "none");
  const uint8_t *der = NULL;
  size_t len = 0;
  if (sdtls_conn_peer_certificate(conn, &der, &len) != SDTLS_OK) {
    fprintf(stderr, "%speer certificate: none%s\n", prefix,
            sdtls_conn_session_resumed(conn) ? " (a resumed session does not send it again)"
                                             : "");
    return;
  }
  /* The library hands out the leaf only, not the chain. */
  fprintf(stderr, "%speer certificate (the leaf, %zu bytes):\n", prefix, len);
  char inner[170];
  snprintf(inner, sizeof(inner), "%s  ", prefix);
  print_certificate(stderr, inner, der, len);
  uint8_t digest[32];
  char fp[96];
  if (sdtls_conn_peer_fingerprint_sha256(conn, digest) == SDTLS_OK &&
      sdtls_fingerprint_format(digest, fp, sizeof(fp)) == SDTLS_OK) {
    fprintf(stderr, "%sfingerprint: sha-256 %s\n", inner, fp);
  }
}

int failure_alert(int err, const char *detail) {
  if (err != SDTLS_E_ALERT || detail == NULL) {
    return -1;
  }
  const char *open = strrchr(detail, '(');
  long alert;
  char digits[8];
  size_t n = open != NULL ? strcspn(open + 1, ")") : 0;
  if (n == 0 || n >= sizeof(digits) || strcmp(open + 1 + n, ")") != 0) {
    return -1;
  }
  memcpy(digits, open + 1, n);
  digits[n] = '\0';
  return parse_long(digits, 0, 255, &alert) ? (int)alert : -1;
}

bool write_line(const uint8_t *data, size_t len) {
  return fwrite(data, 1, len, stdout) == len && fputc('\n', stdout) != EOF && fflush(stdout) == 0;
}

/* ---- command lines ---- */

int usage_exit(usage_fn usage, int opt) {
  if (opt == 'h') {
    usage(stdout);
    return EXIT_OK;
  }
  usage(stderr);
  return EXIT_USAGE;
}

int usage_error(const char *prog, usage_fn usage, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage(prog, ": ", fmt, ap);
  va_end(ap);
  if (usage != NULL) {
    usage(stderr);
  }
  return EXIT_USAGE;
}

bool take_long(const char *prog, const char *name, const char *arg, long min, long max,
               long *out) {
  if (parse_long(arg, min, max, out)) {
    return true;
  }
  usage_error(prog, NULL, "%s must be a whole number from %ld to %ld", name, min, max);
  return false;
}

bool take_seconds(const char *prog, const char *name, const char *arg, double min,
                  double max, sdtls_time *out_ns) {
  if (parse_seconds(arg, max, out_ns) && (double)*out_ns >= min * 1e9) {
    return true;
  }
  usage_error(prog, NULL, "%s must be a number of seconds from %g to %g", name, min, max);
  return false;
}

/* ---- configuration ---- */

int config_opts_take(config_opts *o, const char *prog, usage_fn usage, int opt,
                     const char *arg) {
  switch (opt) {
  case OPT_CERT:
    o->cert = arg;
    return -1;
  case OPT_KEY:
    o->key = arg;
    return -1;
  case OPT_CA:
    o->ca = arg;
    return -1;
  case OPT_MTU:
    return take_long(prog, "--mtu", arg, 256, 65507, &o->mtu) ? -1 : EXIT_USAGE;
  case OPT_SRTP:
    o->srtp = arg;
    return -1;
  case OPT_ALPN:
    o->alpn = arg;
    return -1;
  case OPT_FINGERPRINT:
    if (o->n_fingerprints == MAX_FINGERPRINTS) {
      return usage_error(prog, NULL, "at most %d --fingerprint options", MAX_FINGERPRINTS);
    }
    o->fingerprints[o->n_fingerprints++] = arg;
    return -1;
  case OPT_PSK_IDENTITY:
    o->psk_identity = arg;
    return -1;
  case OPT_PSK:
    o->psk_len = parse_hex(arg, o->psk, sizeof(o->psk));
    if (o->psk_len == 0) {
      return usage_error(prog, NULL, "--psk wants the key in hex, 1 to %d bytes", PSK_MAX);
    }
    return -1;
  case OPT_KEYLOG:
    o->keylog = arg;
    return -1;
  case OPT_EXPORT:
    o->export_spec = arg;
    return -1;
  case OPT_GROUPS:
    o->groups = arg;
    return -1;
  case OPT_MAX_VERSION:
    if (strcmp(arg, "1.2") == 0) {
      o->max_version = SDTLS_DTLS1_2;
    } else if (strcmp(arg, "1.3") == 0) {
      o->max_version = SDTLS_DTLS1_3;
    } else {
      return usage_error(prog, NULL, "--max-version must be 1.2 or 1.3");
    }
    return -1;
  default:
    return usage_exit(usage, opt);
  }
}

int command_option(int argc, char **argv, char *prog, const struct option *options,
                   usage_fn usage, config_opts *copts, int *verbose, int *status) {
  argv[0] = prog;
  *status = -1;
  int opt;
  while ((opt = getopt_long(argc, argv, "hv", options, NULL)) != -1) {
    if (opt == 'v') {
      *verbose += *verbose < 2 ? 1 : 0;
    } else if (opt >= OPT_COMMAND) {
      return opt;
    } else {
      *status = config_opts_take(copts, prog, usage, opt, optarg);
      if (*status >= 0) {
        return 0;
      }
    }
  }
  return 0;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

int config_opts_check(config_opts *o, const char *prog) {
  if ((o->cert == NULL) != (o->key == NULL)) {
    return usage_error(prog, NULL, "--cert and --key go together");
  }
  if ((o->psk_identity == NULL) != (o->psk_len == 0)) {
    return usage_error(prog, NULL, "--psk-identity and --psk go together");
  }
  if (o->export_spec != NULL) {
    const char *colon = strrchr(o->export_spec, ':');
    size_t label_len = colon != NULL ? (size_t)(colon - o->export_spec) : 0;
    if (colon == NULL || label_len == 0 || label_len >= sizeof(o->export_label) ||
        !parse_long(colon + 1, 1, EXPORT_MAX, &o->export_len)) {
      return usage_error(prog, NULL, "--export wants LABEL:LEN with LEN from 1 to %d",
                         EXPORT_MAX);
    }
    memcpy(o->export_label, o->export_spec, label_len);
    o->export_label[label_len] = '\0';
  }
  /* The values the library judges, tried on a scratch configuration so
   * that a bad one is a usage error. */
  sdtls_config *probe = NULL;
  if (sdtls_config_new(&probe) != SDTLS_OK) {
    return -1; /* config_opts_new() will report it */
  }
  int status = -1;
  if (o->srtp != NULL && sdtls_config_set_srtp_profiles(probe, o->srtp) != SDTLS_OK) {
    status = usage_error(prog, NULL,
                         "--srtp wants profile names joined by ':' (SRTP_AES128_CM_SHA1_80, "
                         "SRTP_AES128_CM_SHA1_32, SRTP_AEAD_AES_128_GCM, "
                         "SRTP_AEAD_AES_256_GCM), not '%s'",
                         o->srtp);
  } else if (o->alpn != NULL && sdtls_config_set_alpn(probe, o->alpn) != SDTLS_OK) {
    status = usage_error(prog, NULL,
                         "--alpn wants protocol names (1 to 255 bytes) joined by ',', not '%s'",
                         o->alpn);
  } else if (o->psk_identity != NULL &&
             sdtls_config_add_psk(probe, o->psk_identity, o->psk, o->psk_len) != SDTLS_OK) {
    status = usage_error(prog, NULL, "--psk-identity wants 1 to 128 bytes");
  }
  for (size_t i = 0; status < 0 && i < o->n_fingerprints; i++) {
    int hash;
    uint8_t digest[SDTLS_FINGERPRINT_MAX_DIGEST];
    size_t digest_len;
    int rc = sdtls_fingerprint_parse(o->fingerprints[i], &hash, digest, &digest_len);
    if (rc == SDTLS_E_UNSUPPORTED) {
      status = usage_error(prog, NULL,
                           "--fingerprint: only sha-256, sha-384 and sha-512 are supported, "
                           "not '%s'",
                           o->fingerprints[i]);
    } else if (rc != SDTLS_OK) {
      status = usage_error(prog, NULL,
                           "--fingerprint wants sha-256:AA:BB:..., \"sha-256 AA:BB:...\" or "
                           "AA:BB:... (sha-256, sha-384 or sha-512: 32, 48 or 64 hex pairs), "
                           "not '%s'",
                           o->fingerprints[i]);
    }
  }
  sdtls_config_free(probe);
  return status;
}

bool config_set(sdtls_config *config, sdtls_option option, int64_t value, const char *what) {
  int rc = sdtls_config_set_option(config, option, value);
  if (rc != SDTLS_OK) {
    report_sdtls_error(what, rc, NULL);
    return false;
  }
  return true;
}

/* Reports a failed setter for `what` and returns false. */
static bool check_rc(int rc, const char *what) {
  if (rc != SDTLS_OK) {
    report_sdtls_error(what, rc, NULL);
    return false;
  }
  return true;
}

sdtls_config *config_opts_new(const config_opts *o) {
  sdtls_config *config = NULL;
  int rc = sdtls_config_new(&config);
  if (rc != SDTLS_OK) {
    report_sdtls_error("cannot create a configuration", rc, NULL);
    return NULL;
  }
  bool ok = (o->cert == NULL || load_certificate(config, o->cert, o->key)) &&
            (o->ca == NULL || load_ca(config, o->ca)) &&
            (o->mtu == 0 || config_set(config, SDTLS_OPT_MTU, o->mtu, "--mtu")) &&
            (o->srtp == NULL ||
             check_rc(sdtls_config_set_srtp_profiles(config, o->srtp), "--srtp")) &&
            (o->alpn == NULL || check_rc(sdtls_config_set_alpn(config, o->alpn), "--alpn")) &&
            (o->psk_len == 0 ||
             check_rc(sdtls_config_add_psk(config, o->psk_identity, o->psk, o->psk_len),
                      "--psk"));
  for (size_t i = 0; ok && i < o->n_fingerprints; i++) {
    ok = check_rc(sdtls_config_add_peer_fingerprint(config, o->fingerprints[i]),
                  "--fingerprint");
  }
  if (ok && o->max_version != 0) {
    ok = config_set(config, SDTLS_OPT_MAX_VERSION, o->max_version, "--max-version");
  }
  if (ok && o->groups != NULL) {
    rc = sdtls_config_set_groups(config, o->groups);
    if (rc != SDTLS_OK) {
      report_sdtls_error("--groups", rc, "a group name this engine does not know");
      ok = false;
    }
  }
  if (ok && o->keylog != NULL) {
    ok = keylog_enable(config, o->keylog) == 0;
  }
  if (ok) {
    return config;
  }
  sdtls_config_free(config);
  return NULL;
}

bool print_export(const config_opts *o, const sdtls_conn *conn) {
  if (o->export_spec == NULL) {
    return true;
  }
  uint8_t key[EXPORT_MAX];
  char hex[2 * EXPORT_MAX + 1];
  int rc = sdtls_conn_export_keying_material(conn, key, (size_t)o->export_len,
                                             o->export_label, strlen(o->export_label), NULL, 0);
  if (rc != SDTLS_OK) {
    report_sdtls_error("cannot export keying material", rc, sdtls_conn_error_detail(conn));
    return false;
  }
  hex_encode(key, (size_t)o->export_len, hex);
  explicit_bzero(key, sizeof(key));
  /* One write: lines of several peers never mix. */
  char line[sizeof(hex) + sizeof(o->export_label) + 16];
  snprintf(line, sizeof(line), "EXPORT %s %s\n", o->export_label, hex);
  explicit_bzero(hex, sizeof(hex));
  bool ok = fputs(line, stdout) != EOF && fflush(stdout) == 0;
  explicit_bzero(line, sizeof(line));
  return ok;
}

size_t parse_hex(const char *s, uint8_t *out, size_t max) {
  size_t n = strlen(s);
  if (n == 0 || n % 2 != 0 || n / 2 > max) {
    return 0;
  }
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      explicit_bzero(out, max);
      return 0;
    }
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return n / 2;
}

/* ---- signals ---- */

static int signal_pipe[2] = {-1, -1};
static volatile sig_atomic_t signal_seen, usr1_seen, hup_seen;

static void on_signal(int sig) {
  int saved = errno;
  if (sig == SIGUSR1) {
    usr1_seen = 1;
  } else if (sig == SIGHUP) {
    hup_seen = 1;
  } else {
    signal_seen = 1;
  }
  if (signal_pipe[1] >= 0) {
    ssize_t n = write(signal_pipe[1], "x", 1);
    (void)n;
  }
  errno = saved;
}

int signals_install(bool server) {
  if (signal_pipe[0] < 0) {
    if (pipe(signal_pipe) != 0) {
      return -1;
    }
    for (int i = 0; i < 2; i++) {
      fcntl(signal_pipe[i], F_SETFL, fcntl(signal_pipe[i], F_GETFL) | O_NONBLOCK);
      fcntl(signal_pipe[i], F_SETFD, FD_CLOEXEC);
    }
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  if (server) {
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
  }
  /* A closed stdout (e.g. `| head`) is an error on write, not a kill. */
  signal(SIGPIPE, SIG_IGN);
  return signal_pipe[0];
}

bool signals_received(void) { return signal_seen != 0; }

/* True once per burst of the signal that sets *seen. */
static bool take_signal(volatile sig_atomic_t *seen) {
  if (*seen == 0) {
    return false;
  }
  /* Empty the pipe first: a signal after this wakes the next poll. */
  char buf[64];
  while (read(signal_pipe[0], buf, sizeof(buf)) > 0) {
  }
  *seen = 0;
  return true;
}

bool signals_take_usr1(void) { return take_signal(&usr1_seen); }

bool signals_take_hup(void) { return take_signal(&hup_seen); }

/* ---- event loop ---- */

bool io_wait(int sock, int wake_fd, bool want_input, sdtls_time now, sdtls_time deadline,
             io_events *ev) {
  struct pollfd fds[3];
  nfds_t nfds = 0;
  fds[nfds++] = (struct pollfd){.fd = sock, .events = POLLIN};
  fds[nfds++] = (struct pollfd){.fd = wake_fd, .events = POLLIN};
  if (want_input) {
    fds[nfds++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
  }
  ev->sock = ev->wake = ev->input = false;
  int n = poll(fds, nfds, poll_timeout_ms(now, deadline));
  if (n < 0 && errno != EINTR) {
    errorf("poll: %s", strerror(errno));
    return false;
  }
  if (n > 0) {
    ev->sock = (fds[0].revents & (POLLIN | POLLERR)) != 0;
    ev->wake = (fds[1].revents & POLLIN) != 0;
    ev->input = want_input && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
  }
  return true;
}

/* ---- key log ---- */

static FILE *keylog_file;

static void keylog_line(void *user_data, const char *line) {
  FILE *f = user_data;
  fprintf(f, "%s\n", line);
  fflush(f);
}

int keylog_enable(sdtls_config *config, const char *path) {
  /* Anyone who reads a key log can decrypt the traffic. A FIFO that
   * another program reads, and /dev/null, are fine. */
  int fd = open_output(path, "key log file", OUT_SECRET | OUT_APPEND);
  if (fd < 0) {
    return -1;
  }
  keylog_file = fdopen(fd, "a");
  if (keylog_file == NULL) {
    int err = errno;
    close(fd);
    errorf("%s: cannot write the key log file: %s", path, strerror(err));
    return -1;
  }
  int rc = sdtls_config_set_keylog(config, keylog_line, keylog_file);
  if (rc != SDTLS_OK) {
    report_sdtls_error("cannot enable key logging", rc, NULL);
    keylog_close();
    return -1;
  }
  return 0;
}

void keylog_close(void) {
  if (keylog_file != NULL) {
    fclose(keylog_file);
    keylog_file = NULL;
  }
}

/* ---- line reader ---- */

void line_reader_init(line_reader *r, int fd) {
  r->fd = fd;
  r->eof = false;
  r->len = 0;
  r->consumed = 0;
  r->skipped = 0;
}

long line_reader_fill(line_reader *r) {
  if (r->eof) {
    return 0;
  }
  if (r->len == sizeof(r->buf)) {
    return 1; /* full: the caller drains it with line_reader_next() */
  }
  ssize_t n;
  do {
    n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return 1;
    }
    return -1;
  }
  if (n == 0) {
    r->eof = true;
    return 0;
  }
  r->len += (size_t)n;
  return n;
}

line_kind line_reader_next(line_reader *r, const char **line, size_t *len) {
  if (r->consumed > 0) {
    memmove(r->buf, r->buf + r->consumed, r->len - r->consumed);
    r->len -= r->consumed;
    r->consumed = 0;
  }
  char *nl = memchr(r->buf, '\n', r->len);
  if (r->skipped > 0 || (nl == NULL && r->len == sizeof(r->buf))) {
    /* A line too long for the buffer: drop it as it comes, to its end. */
    size_t part = nl != NULL ? (size_t)(nl - r->buf) : r->len;
    r->skipped += part;
    if (nl == NULL && !r->eof) {
      r->len = 0;
      return LINE_NONE;
    }
    *line = NULL;
    *len = r->skipped;
    r->skipped = 0;
    r->consumed = nl != NULL ? part + 1 : part;
    return LINE_TOO_LONG;
  }
  if (r->len == 0) {
    return LINE_NONE;
  }
  if (nl != NULL) {
    *line = r->buf;
    *len = (size_t)(nl - r->buf);
    r->consumed = *len + 1;
    return LINE_OK;
  }
  if (r->eof) {
    *line = r->buf;
    *len = r->len;
    r->consumed = r->len;
    return LINE_OK;
  }
  return LINE_NONE;
}
