/* sdtls: a DTLS client, server and certificate maker on top of libsdtls. */
#include <stdio.h>
#include <string.h>

#include "tool.h"

const char *tool_name = "sdtls";

static void usage(FILE *out) {
  fprintf(out,
          "Usage: sdtls COMMAND [OPTIONS]\n"
          "\n"
          "Commands:\n"
          "  client HOST:PORT   connect to a DTLS server; stdin lines go out as datagrams\n"
          "  server             serve DTLS clients on a UDP port\n"
          "  cert               make a self-signed ECDSA P-256 certificate and key\n"
          "\n"
          "  sdtls COMMAND --help   options of a command\n"
          "  sdtls --version        library and engine version, protocol versions,\n"
          "                         features and key exchange groups\n"
          "\n"
          "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

/* --version: what the linked library and engine say of themselves. */
static void print_version(void) {
  const char *version = NULL;
  sdtls_version(&version);
  printf("sdtls %s (header %s)\n", version != NULL ? version : "?", SDTLS_VERSION_STRING);
  printf("protocols:%s%s\n", sdtls_has_feature(SDTLS_FEATURE_DTLS1_2) ? " DTLS1.2" : "",
         sdtls_has_feature(SDTLS_FEATURE_DTLS1_3) ? " DTLS1.3" : "");
  static const struct {
    sdtls_feature feature;
    const char *name;
  } features[] = {{SDTLS_FEATURE_COOKIE_EXCHANGE, "cookie-exchange"},
                  {SDTLS_FEATURE_SRTP, "srtp"},
                  {SDTLS_FEATURE_PSK, "psk"},
                  {SDTLS_FEATURE_RESUMPTION, "resumption"},
                  {SDTLS_FEATURE_ALPN, "alpn"}};
  printf("features:");
  for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
    if (sdtls_has_feature(features[i].feature)) {
      printf(" %s", features[i].name);
    }
  }
  /* The public API lists no groups: of the names BoringSSL has given its
   * DTLS groups, those that --groups is accepted with. */
  static const char *const groups[] = {"X25519MLKEM768", "X25519Kyber768Draft00", "MLKEM1024",
                                       "X25519", "P-256", "P-384", "P-521", "P-224"};
  printf("\ngroups:");
  for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
    sdtls_config *probe = NULL;
    if (sdtls_config_new(&probe) == SDTLS_OK &&
        sdtls_config_set_groups(probe, groups[i]) == SDTLS_OK) {
      printf(" %s", groups[i]);
    }
    sdtls_config_free(probe);
  }
  printf("\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
    usage(stdout);
    return EXIT_OK;
  }
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
    print_version();
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
  }
  /* Each command parses argv[1..]: its own name is argv[0] for getopt. */
  if (strcmp(cmd, "client") == 0) {
    return cmd_client(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "server") == 0) {
    return cmd_server(argc - 1, argv + 1);
  }
  if (strcmp(cmd, "cert") == 0) {
    return cmd_cert(argc - 1, argv + 1);
  }
  fprintf(stderr, "sdtls: unknown command '%s'\n\n", cmd);
  usage(stderr);
  return EXIT_USAGE;
}
