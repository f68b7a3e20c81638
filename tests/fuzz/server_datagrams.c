/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: what a server-role sdtls_conn (no cookie exchange)
 * receives, across a handshake and after it (operations: fuzz_common.h).
 * Seeds: make_corpus.c. */
#include "fuzz_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_conn_run(SDTLS_ROLE_SERVER, data, size);
  return 0;
}
