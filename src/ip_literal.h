/* SPDX-License-Identifier: Apache-2.0 */
/* Whether a name is an IP address literal, for the library (conn.c: an
 * address is checked against the certificate's IP entries and never sent
 * as SNI, RFC 6066 3) and the tool (src/tool/client.c: it sends no name at
 * all for an address it does not check). Header-only, so that the tool,
 * which links nothing but the public API, shares the one definition. Not
 * installed. */
#ifndef SDTLS_IP_LITERAL_H
#define SDTLS_IP_LITERAL_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* True if `name` is an IPv4 or IPv6 address in text form. */
static inline bool Sdtls_is_ip_literal(const char *name) {
  uint8_t buf[16];
  return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

#endif
