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
          "  sdtls --version        library and engine version\n"
          "\n"
          "Exit status: 0 success, 1 failure, 2 usage error.\n");
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
    const char *version = NULL;
    sdtls_version(&version);
    printf("sdtls %s (header %s)\n", version != NULL ? version : "?", SDTLS_VERSION_STRING);
    return EXIT_OK;
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
