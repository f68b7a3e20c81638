/* SPDX-License-Identifier: Apache-2.0 */
/* sdtls_free(): releases what the library hands out (PEM text, session
 * bytes), which the engine's allocator made: that allocator's free, which
 * wipes every block it releases, and not the application's. */
#include <openssl/mem.h>

#include "sdtls.h"

void sdtls_free(void *ptr) { OPENSSL_free(ptr); }
