/* SPDX-License-Identifier: Apache-2.0 */
/* sdtls cert: make a self-signed ECDSA P-256 certificate and key. */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

static void cert_usage(FILE *out) {
  fprintf(out,
          "Usage: sdtls cert --cert FILE --key FILE [--cn NAME] [--days N]\n"
          "\n"
          "Writes a self-signed ECDSA P-256 certificate (PEM) for NAME (common name and\n"
          "DNS subjectAltName) and its private key (PKCS#8 PEM, file mode 0600), then\n"
          "prints the certificate's fingerprint as \"sha-256 AA:BB:...\".\n"
          "\n"
          "  --cert FILE   certificate output file (replaced)\n"
          "  --key FILE    private key output file (replaced, mode 0600); one that\n"
          "                group or others can read is refused\n"
          "  --cn NAME     common name (default: localhost)\n"
          "  --days N      validity in days, 1..36500 (default: 365)\n"
          "  --help        this help\n");
}

/* Writes `text` to `path` (replaced; see open_output() for `flags`). */
static int write_file(const char *path, const char *what, const char *text, unsigned flags) {
  int fd = open_output(path, what, flags);
  if (fd < 0) {
    return -1;
  }
  size_t len = strlen(text), off = 0;
  while (off < len) {
    ssize_t n = write(fd, text + off, len - off);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      errorf("%s: cannot write the %s: %s", path, what, strerror(errno));
      close(fd);
      return -1;
    }
    off += (size_t)n;
  }
  if (close(fd) != 0) {
    errorf("%s: cannot write the %s: %s", path, what, strerror(errno));
    return -1;
  }
  return 0;
}

int cmd_cert(int argc, char **argv) {
  static char prog[] = "sdtls cert";
  static const struct option options[] = {
      {"cert", required_argument, NULL, 'c'}, {"key", required_argument, NULL, 'k'},
      {"cn", required_argument, NULL, 'n'},   {"days", required_argument, NULL, 'd'},
      {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
  const char *cert_path = NULL, *key_path = NULL, *cn = "localhost";
  long days = 365;
  argv[0] = prog;
  int opt;
  while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    switch (opt) {
    case 'c':
      cert_path = optarg;
      break;
    case 'k':
      key_path = optarg;
      break;
    case 'n':
      cn = optarg;
      break;
    case 'd':
      if (!take_long(prog, "--days", optarg, 1, 36500, &days)) {
        return EXIT_USAGE;
      }
      break;
    default:
      return usage_exit(cert_usage, opt);
    }
  }
  if (optind < argc) {
    return usage_error(prog, cert_usage, "unexpected argument '%s'", argv[optind]);
  }
  if (cert_path == NULL || key_path == NULL) {
    return usage_error(prog, cert_usage, "--cert and --key are required");
  }
  if (strcmp(cert_path, key_path) == 0) {
    return usage_error(prog, NULL, "--cert and --key must name different files");
  }

  char *cert_pem = NULL, *key_pem = NULL;
  int rc = sdtls_certificate_generate(cn, (unsigned)days, &cert_pem, &key_pem);
  if (rc == SDTLS_E_INVALID_ARGUMENT) {
    return usage_error(prog, NULL,
                       "invalid --cn '%s' (1 to 64 visible ASCII characters, no spaces)", cn);
  }
  if (rc != SDTLS_OK) {
    report_sdtls_error("cannot generate a certificate", rc, NULL);
    return EXIT_FAIL;
  }
  uint8_t digest[SDTLS_FINGERPRINT_MAX_DIGEST];
  size_t digest_len;
  int status = EXIT_FAIL;
  /* The key first: if its file is refused, nothing is written. */
  if (write_file(key_path, "key file", key_pem, OUT_SECRET) == 0 &&
      write_file(cert_path, "certificate file", cert_pem, 0) == 0) {
    rc = sdtls_certificate_fingerprint((const uint8_t *)cert_pem, strlen(cert_pem),
                                       SDTLS_HASH_SHA256, digest, &digest_len);
    if (rc == SDTLS_OK) {
      print_fingerprint(stdout, "", SDTLS_HASH_SHA256, digest, digest_len);
      fputc('\n', stdout);
      status = fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
    } else {
      report_sdtls_error("cannot compute the fingerprint", rc, NULL);
    }
  }
  sdtls_free(cert_pem);
  sdtls_free(key_pem);
  return status;
}
