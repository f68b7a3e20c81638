/* SPDX-License-Identifier: Apache-2.0 */
/* DTLS-SRTP (RFC 5764): the profiles offered, the one negotiated, and its
 * keying material split the way SRTP stacks take it. */
#include <openssl/err.h>
#include <openssl/mem.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const struct srtp_profile {
  int id;
  const char *name;
  size_t key_len, salt_len; /* RFC 5764 4.1.2, RFC 7714 12 */
} profiles[] = {
    {SDTLS_SRTP_AES128_CM_SHA1_80, "SRTP_AES128_CM_SHA1_80", 16, 14},
    {SDTLS_SRTP_AES128_CM_SHA1_32, "SRTP_AES128_CM_SHA1_32", 16, 14},
    {SDTLS_SRTP_AEAD_AES_128_GCM, "SRTP_AEAD_AES_128_GCM", 16, 12},
    {SDTLS_SRTP_AEAD_AES_256_GCM, "SRTP_AEAD_AES_256_GCM", 32, 12},
};

#define N_PROFILES (sizeof(profiles) / sizeof(profiles[0]))

static const struct srtp_profile *profile_by_id(int id) {
  for (size_t i = 0; i < N_PROFILES; i++) {
    if (profiles[i].id == id) {
      return &profiles[i];
    }
  }
  return NULL;
}

/* The index of the profile named name[0..len), or N_PROFILES. */
static size_t profile_index(const char *name, size_t len) {
  for (size_t i = 0; i < N_PROFILES; i++) {
    if (strlen(profiles[i].name) == len && memcmp(profiles[i].name, name, len) == 0) {
      return i;
    }
  }
  return N_PROFILES;
}

const char *sdtls_srtp_profile_name(int profile) {
  const struct srtp_profile *p = profile_by_id(profile);
  return p != NULL ? p->name : NULL;
}

int sdtls_config_set_srtp_profiles(sdtls_config *config, const char *list) {
  int rc = Sdtls_config_check_mutable(config);
  if (rc != SDTLS_OK) {
    return rc;
  }
  if (list == NULL || list[0] == '\0') {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  /* Every name is checked here, so the engine (which would take part of a
   * list) only ever sees a whole, valid one. A name given twice is refused:
   * it would only lengthen the use_srtp extension (10,000 of them no
   * longer fit a ClientHello), so a list holds each profile at most once. */
  bool seen[N_PROFILES] = {false};
  for (const char *p = list;;) {
    const char *end = strchr(p, ':');
    size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
    size_t i = profile_index(p, n);
    if (i == N_PROFILES || seen[i]) {
      return SDTLS_E_INVALID_ARGUMENT;
    }
    seen[i] = true;
    if (end == NULL) {
      break;
    }
    p = end + 1;
  }
  if (!SSL_CTX_set_srtp_profiles(config->ctx, list)) {
    ERR_clear_error();
    return SDTLS_E_NOMEM;
  }
  return SDTLS_OK;
}

int sdtls_conn_srtp_profile(const sdtls_conn *conn) {
  if (!Sdtls_conn_is_done(conn)) {
    return 0;
  }
  const SRTP_PROTECTION_PROFILE *p =
      SSL_get_selected_srtp_profile(Sdtls_conn_engine((sdtls_conn *)conn));
  return p != NULL ? (int)p->id : 0;
}

/* The first version's struct ends with remote_write. */
#define KEYING_V1_SIZE (offsetof(sdtls_srtp_keying, remote_write) + SDTLS_SRTP_MAX_MASTER_LEN)

int sdtls_conn_srtp_keying(const sdtls_conn *conn, sdtls_srtp_keying *out) {
  if (conn == NULL || out == NULL || out->size < KEYING_V1_SIZE) {
    return SDTLS_E_INVALID_ARGUMENT;
  }
  const struct srtp_profile *p = profile_by_id(sdtls_conn_srtp_profile(conn));
  if (p == NULL) {
    return SDTLS_E_STATE;
  }
  /* RFC 5764 4.2: client key | server key | client salt | server salt. */
  static const char label[] = "EXTRACTOR-dtls_srtp";
  uint8_t material[2 * SDTLS_SRTP_MAX_MASTER_LEN];
  const size_t k = p->key_len, s = p->salt_len;
  int rc = sdtls_conn_export_keying_material(conn, material, 2 * (k + s), label,
                                             sizeof(label) - 1, NULL, 0);
  if (rc != SDTLS_OK) {
    return rc;
  }
  size_t size = out->size;
  memset(out, 0, KEYING_V1_SIZE);
  out->size = size;
  out->profile = p->id;
  out->key_len = k;
  out->salt_len = s;
  memcpy(out->client_write, material, k);
  memcpy(out->client_write + k, material + 2 * k, s);
  memcpy(out->server_write, material + k, k);
  memcpy(out->server_write + k, material + 2 * k + s, s);
  bool client = sdtls_conn_role(conn) == SDTLS_ROLE_CLIENT;
  memcpy(out->local_write, client ? out->client_write : out->server_write, k + s);
  memcpy(out->remote_write, client ? out->server_write : out->client_write, k + s);
  OPENSSL_cleanse(material, sizeof(material));
  return SDTLS_OK;
}
