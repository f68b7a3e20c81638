/* SPDX-License-Identifier: Apache-2.0 */
/* The driver of the two sdtls_conn datagram targets (client_datagrams,
 * server_datagrams): one connection of `role`, fed the operations of
 * fuzz_common.h. */
#ifndef FUZZ_CONN_H
#define FUZZ_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "sdtls.h"

void fuzz_conn_run(sdtls_role role, const uint8_t *data, size_t size);

#endif
