/* SPDX-License-Identifier: Apache-2.0 */
/* What the tests of the features beyond a plain handshake share (srtp,
 * psk, session, alpn, groups, version and fingerprint_pinning tests, in
 * the simulator): three test certificates, a handshake of two configs, and
 * helpers for lists and keys. */
#ifndef SDTLS_FEATURE_FIXTURE_H
#define SDTLS_FEATURE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "netsim.h"
#include "sdtls.h"
#include "simpeer.h"
#include "testcert.h"

/* The server's certificate, the client's, and another with the server's
 * name (made by feature_main()). */
extern testcert g_server, g_client, g_other;

#define START (500 * NETSIM_SEC)

/* Makes both connections from the configs (taken over), lets `prepare`
 * adjust them, and runs the handshake. Returns 1 when both connected. */
int run_pair(fixture *fx, uint64_t seed, sdtls_config *cc, sdtls_config *sc,
             const char *server_name);

sdtls_config *plain_config(void);

void fingerprint_text(const testcert *tc, char *out, size_t len);

/* A PSK and a lookup that knows it under the identity "id". */
extern const uint8_t kKey[16];
size_t lookup(void *user, const char *identity, uint8_t *key, size_t key_max);

/* n copies of a name of name_len bytes, joined by sep (malloc'd). */
char *repeated_list(size_t n, size_t name_len, char sep, const char *name);

/* Makes the certificates, runs the tests (check_main()), frees them. */
int feature_main(const check_test *tests, size_t n, int argc, char **argv);

#endif
