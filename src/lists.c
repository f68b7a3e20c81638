/* SPDX-License-Identifier: Apache-2.0 */
/* The array forms of the list setters (ALPN, SRTP profiles, groups): one
 * rule for every name, then the string setter they have always had. The
 * string forms join names with ',' or ':', so a name holding either could
 * not be told from two names; such a name is refused here rather than
 * split (a binding that joined lists itself once made "a,b" two ALPN
 * protocols). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_NAME 255

/* Joins names[0..n) with `sep` into a new string, or returns NULL with
 * *rc set (SDTLS_E_INVALID_ARGUMENT or SDTLS_E_NOMEM). */
static char *join_names(const char *const *names, size_t n, char sep, int *rc) {
  *rc = SDTLS_E_INVALID_ARGUMENT;
  if (names == NULL || n == 0 || n > SIZE_MAX / (MAX_NAME + 1)) {
    return NULL;
  }
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    if (names[i] == NULL) {
      return NULL;
    }
    size_t len = strnlen(names[i], MAX_NAME + 1);
    if (len == 0 || len > MAX_NAME || strpbrk(names[i], ",:") != NULL) {
      return NULL;
    }
    total += len + 1;
  }
  char *joined = malloc(total);
  if (joined == NULL) {
    *rc = SDTLS_E_NOMEM;
    return NULL;
  }
  char *p = joined;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(names[i]);
    memcpy(p, names[i], len);
    p[len] = i + 1 < n ? sep : '\0';
    p += len + 1;
  }
  *rc = SDTLS_OK;
  return joined;
}

/* Checks the config first, so that a frozen config says so whatever the
 * names are, as the string setters do. */
static int set_list(sdtls_config *config, const char *const *names, size_t n, char sep,
                    int (*set)(sdtls_config *, const char *)) {
  int rc = Sdtls_config_check_mutable(config);
  if (rc != SDTLS_OK) {
    return rc;
  }
  char *joined = join_names(names, n, sep, &rc);
  if (joined == NULL) {
    return rc;
  }
  rc = set(config, joined);
  free(joined);
  return rc;
}

int sdtls_config_set_alpn_list(sdtls_config *config, const char *const *names, size_t n) {
  return set_list(config, names, n, ',', sdtls_config_set_alpn);
}

int sdtls_config_set_srtp_profiles_list(sdtls_config *config, const char *const *names,
                                        size_t n) {
  return set_list(config, names, n, ':', sdtls_config_set_srtp_profiles);
}

int sdtls_config_set_groups_list(sdtls_config *config, const char *const *names, size_t n) {
  return set_list(config, names, n, ':', sdtls_config_set_groups);
}
