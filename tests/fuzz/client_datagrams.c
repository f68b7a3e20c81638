/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: what a client connection receives, across a handshake
 * and after it (operations: fuzz_common.h). Seeds: make_corpus.c. */
#include "fuzz_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_conn_run(SDTLS_ROLE_CLIENT, data, size);
  return 0;
}
