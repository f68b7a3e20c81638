/* SPDX-License-Identifier: Apache-2.0 */
/* The caller's clock, handed to the engine.
 *
 * BoringSSL reads time through SSL_CTX_set_current_time_cb, which Debian's
 * tree calls with a NULL SSL, so the callback cannot tell connections apart.
 * Every sdtls call that enters the engine first stores its `now` in this
 * thread's slot; the engine runs on the same thread, so it reads that value.
 * The engine also stamps sessions with this time; that is harmless, since
 * only differences of one clock are ever compared. Certificate validity is
 * checked against the wall clock by X.509 verification, not through here. */
#include <sys/time.h>

#include "internal.h"

/* initial-exec here too: GCC takes the model of the definition, not of the
 * declaration in internal.h, for the accesses in this file. */
_Thread_local sdtls_time Sdtls_engine_now __attribute__((tls_model("initial-exec")));

void Sdtls_engine_time_cb(const SSL *ssl, struct timeval *out) {
  (void)ssl;
  /* An offset keeps the engine's "timer not armed" value (zero) out of
   * reach even when the caller's clock starts at 0. */
  const sdtls_time t = Sdtls_time_add(Sdtls_engine_now, 1000000000ull);
  out->tv_sec = (time_t)(t / 1000000000ull);
  out->tv_usec = (suseconds_t)((t % 1000000000ull) / 1000u);
}
