/* SPDX-License-Identifier: Apache-2.0 */
/* What the tests of the features beyond a plain handshake share (srtp,
 * psk, session, alpn, groups, version and fingerprint_pinning tests, and
 * fingerprint_test's handshakes, in the simulator): three test
 * certificates, a handshake of two configs, and helpers for lists, keys
 * and pins. */
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

/* A handshake (no final wait) of a client with g_client's certificate and
 * a server with g_server's, both verifying by pins alone: the client's
 * config pins the `n` `client_pins`, the server's connection `server_pin`.
 * Returns whether both connected (0, with the failure recorded, when the
 * pair could not be made). */
int run_pinned_pair(fixture *fx, uint64_t seed, const char *const *client_pins, size_t n,
                    const char *server_pin);

/* A string setter of a config, such as sdtls_config_set_alpn. */
typedef int (*config_setter)(sdtls_config *config, const char *value);

/* run_pair() between a client that does not verify and a server with
 * g_server's certificate, `set` having taken `client` on the client's
 * config and `server` on the server's (NULL: not called), then refused
 * each of `refused` (NULL-terminated; may be NULL) on the server's, which
 * must change nothing. */
int run_pair_set(fixture *fx, uint64_t seed, config_setter set, const char *client,
                 const char *server, const char *const *refused);

/* A list setter (sdtls_config_set_groups, ..._srtp_profiles) on a new
 * config: refuses `name` 10000 times (joined by `sep`) and the list
 * `twice` (a name twice); takes the list `distinct`. */
void check_list_limit(config_setter set, const char *name, char sep, const char *twice,
                      const char *distinct);

void fingerprint_text(const testcert *tc, char *out, size_t len);

/* A PSK and a lookup that knows it under the identity "id". */
extern const uint8_t kKey[16];
size_t lookup(void *user, const char *identity, uint8_t *key, size_t key_max);

/* n copies of a name of name_len bytes, joined by sep (malloc'd). */
char *repeated_list(size_t n, size_t name_len, char sep, const char *name);

/* Makes the certificates, runs the tests (check_main()), frees them. */
int feature_main(const check_test *tests, size_t n, int argc, char **argv);

#endif
