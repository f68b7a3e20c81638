/* SPDX-License-Identifier: Apache-2.0 */
/* What a peer's certificate says, for --verbose: a small DER walker over
 * the X.509 fields a person debugging a handshake looks at first (subject,
 * issuer, validity, subject alternative names, key and signature types).
 *
 * The tool is built on the public API only, and that gives the peer's leaf
 * certificate as DER (sdtls_conn_peer_certificate()), not a parsed chain:
 * so the leaf alone is shown, read here. Nothing in it is trusted: every
 * length is checked against what encloses it, and any byte string ends in a
 * "cannot parse" line, never a read outside the buffer. Text from the
 * certificate is printed with everything but printable ASCII escaped (\xHH),
 * so that a peer cannot write escape sequences to the user's terminal. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "tool.h"

/* One DER element: its tag byte and contents. */
typedef struct der {
  uint8_t tag;
  const uint8_t *data;
  size_t len;
} der;

#define TAG_INTEGER 0x02
#define TAG_BIT_STRING 0x03
#define TAG_OCTET_STRING 0x04
#define TAG_OID 0x06
#define TAG_UTF8_STRING 0x0c
#define TAG_PRINTABLE_STRING 0x13
#define TAG_T61_STRING 0x14
#define TAG_IA5_STRING 0x16
#define TAG_UTC_TIME 0x17
#define TAG_GENERALIZED_TIME 0x18
#define TAG_SEQUENCE 0x30
#define TAG_SET 0x31
#define TAG_CONTEXT(n) (0xa0 | (n))     /* [n] constructed (EXPLICIT) */
#define TAG_CONTEXT_PRIM(n) (0x80 | (n)) /* [n] primitive (IMPLICIT) */

/* Reads the element at the start of in[0..*len) and advances past it.
 * Only the low tag numbers X.509 uses (one tag byte) and definite lengths
 * of up to four bytes; false for anything else or a length past the end. */
static bool der_next(const uint8_t **in, size_t *len, der *out) {
  const uint8_t *p = *in;
  size_t left = *len;
  if (left < 2 || (p[0] & 0x1f) == 0x1f) {
    return false;
  }
  out->tag = p[0];
  size_t n = p[1];
  p += 2;
  left -= 2;
  if (n & 0x80) {
    size_t bytes = n & 0x7f;
    if (bytes == 0 || bytes > 4 || bytes > left) {
      return false;
    }
    n = 0;
    for (size_t i = 0; i < bytes; i++) {
      n = n << 8 | p[i];
    }
    p += bytes;
    left -= bytes;
  }
  if (n > left) {
    return false;
  }
  out->data = p;
  out->len = n;
  *in = p + n;
  *len = left - n;
  return true;
}

/* Reads the next element and checks its tag. */
static bool der_expect(const uint8_t **in, size_t *len, uint8_t tag, der *out) {
  return der_next(in, len, out) && out->tag == tag;
}

/* Reads a SEQUENCE that starts with an OBJECT IDENTIFIER and one more
 * element (an AttributeTypeAndValue, an Extension): *oid and *value, and
 * in *rest what follows them inside the SEQUENCE. */
static bool der_oid_value(const uint8_t **in, size_t *len, der *oid, der *value, der *rest) {
  der seq;
  if (!der_expect(in, len, TAG_SEQUENCE, &seq)) {
    return false;
  }
  const uint8_t *p = seq.data;
  size_t left = seq.len;
  if (!der_expect(&p, &left, TAG_OID, oid) || !der_next(&p, &left, value)) {
    return false;
  }
  *rest = (der){.data = p, .len = left};
  return true;
}

/* An output line being built: text that does not fit is cut, never
 * written past the end. */
typedef struct text {
  char buf[1024];
  size_t len;
} text;

static void text_add(text *t, const char *s, size_t n) {
  size_t room = sizeof(t->buf) - 1 - t->len;
  if (n > room) {
    n = room;
  }
  memcpy(t->buf + t->len, s, n);
  t->len += n;
  t->buf[t->len] = '\0';
}

static void text_str(text *t, const char *s) { text_add(t, s, strlen(s)); }

static void text_fmt(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_fmt(text *t, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  if (n > 0) {
    text_add(t, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
  }
}

/* Certificate text, escaped: printable ASCII as it is (with `special`
 * characters preceded by a backslash), every other byte as \xHH. */
static void text_escaped(text *t, const uint8_t *s, size_t n, const char *special) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] >= 0x20 && s[i] < 0x7f) {
      if (s[i] == '\\' || strchr(special, s[i]) != NULL) {
        text_str(t, "\\");
      }
      text_add(t, (const char *)&s[i], 1);
    } else {
      text_fmt(t, "\\x%02X", s[i]);
    }
  }
}

/* ---- object identifiers ---- */

/* The dotted form of an OID's contents; false for a bad encoding. */
static bool oid_dotted(const der *oid, char *out, size_t out_len) {
  size_t used = 0;
  uint64_t arc = 0;
  size_t arc_bytes = 0;
  bool first = true;
  out[0] = '\0';
  if (oid->len == 0 || (oid->data[oid->len - 1] & 0x80) != 0) {
    return false;
  }
  for (size_t i = 0; i < oid->len; i++) {
    if (arc_bytes == 0 && oid->data[i] == 0x80) {
      return false; /* a leading zero digit: not DER */
    }
    if (++arc_bytes > 9) {
      return false; /* more than 63 bits */
    }
    arc = arc << 7 | (oid->data[i] & 0x7f);
    if (oid->data[i] & 0x80) {
      continue;
    }
    int n;
    if (first) {
      uint64_t top = arc < 40 ? 0 : arc < 80 ? 1 : 2;
      n = snprintf(out + used, out_len - used, "%llu.%llu", (unsigned long long)top,
                   (unsigned long long)(arc - top * 40));
      first = false;
    } else {
      n = snprintf(out + used, out_len - used, ".%llu", (unsigned long long)arc);
    }
    if (n < 0 || (size_t)n >= out_len - used) {
      return false;
    }
    used += (size_t)n;
    arc = 0;
    arc_bytes = 0;
  }
  return true;
}

/* Names of the OIDs shown; others are printed dotted. */
static const struct {
  const char *dotted, *name;
} oid_names[] = {
    /* attribute types of names */
    {"2.5.4.3", "CN"},
    {"2.5.4.6", "C"},
    {"2.5.4.7", "L"},
    {"2.5.4.8", "ST"},
    {"2.5.4.10", "O"},
    {"2.5.4.11", "OU"},
    {"2.5.4.5", "serialNumber"},
    {"1.2.840.113549.1.9.1", "emailAddress"},
    {"0.9.2342.19200300.100.1.25", "DC"},
    /* public keys */
    {"1.2.840.10045.2.1", "EC"},
    {"1.2.840.113549.1.1.1", "RSA"},
    {"1.2.840.113549.1.1.10", "RSA-PSS"},
    {"1.3.101.112", "Ed25519"},
    {"1.3.101.113", "Ed448"},
    /* curves */
    {"1.2.840.10045.3.1.7", "P-256"},
    {"1.3.132.0.34", "P-384"},
    {"1.3.132.0.35", "P-521"},
    /* signature algorithms */
    {"1.2.840.10045.4.3.2", "ecdsa-with-SHA256"},
    {"1.2.840.10045.4.3.3", "ecdsa-with-SHA384"},
    {"1.2.840.10045.4.3.4", "ecdsa-with-SHA512"},
    {"1.2.840.113549.1.1.5", "sha1WithRSAEncryption"},
    {"1.2.840.113549.1.1.11", "sha256WithRSAEncryption"},
    {"1.2.840.113549.1.1.12", "sha384WithRSAEncryption"},
    {"1.2.840.113549.1.1.13", "sha512WithRSAEncryption"},
};

/* The OID's short name, or its dotted form, into out. */
static const char *oid_name(const der *oid, char *out, size_t out_len) {
  if (!oid_dotted(oid, out, out_len)) {
    snprintf(out, out_len, "(bad OID)");
    return out;
  }
  for (size_t i = 0; i < sizeof(oid_names) / sizeof(oid_names[0]); i++) {
    if (strcmp(out, oid_names[i].dotted) == 0) {
      return oid_names[i].name;
    }
  }
  return out;
}

/* ---- fields ---- */

/* A Name (SEQUENCE OF SET OF {type, value}) as "CN=a, O=b", in the order
 * of the certificate. */
static bool add_name(text *t, const der *name) {
  const uint8_t *p = name->data;
  size_t left = name->len;
  bool first = true;
  while (left > 0) {
    der rdn;
    if (!der_expect(&p, &left, TAG_SET, &rdn)) {
      return false;
    }
    const uint8_t *q = rdn.data;
    size_t qleft = rdn.len;
    while (qleft > 0) {
      der type, value, rest;
      if (!der_oid_value(&q, &qleft, &type, &value, &rest)) {
        return false;
      }
      char dotted[128];
      text_str(t, first ? "" : ", ");
      text_str(t, oid_name(&type, dotted, sizeof(dotted)));
      text_str(t, "=");
      switch (value.tag) {
      case TAG_UTF8_STRING:
      case TAG_PRINTABLE_STRING:
      case TAG_T61_STRING:
      case TAG_IA5_STRING:
        text_escaped(t, value.data, value.len, ",+=");
        break;
      default: /* BMP, universal and other strings: their bytes */
        text_str(t, "#");
        for (size_t i = 0; i < value.len; i++) {
          text_fmt(t, "%02X", value.data[i]);
        }
      }
      first = false;
    }
  }
  if (first) {
    text_str(t, "(empty)");
  }
  return true;
}

/* Parses a UTCTime or GeneralizedTime ("...Z", seconds present, as RFC 5280
 * 4.1.2.5 requires) into seconds since the epoch. */
static bool parse_time(const der *d, time_t *out) {
  size_t year_digits = d->tag == TAG_UTC_TIME ? 2 : d->tag == TAG_GENERALIZED_TIME ? 4 : 0;
  if (year_digits == 0 || d->len != year_digits + 11 || d->data[d->len - 1] != 'Z') {
    return false;
  }
  int v[6]; /* year, month, day, hour, minute, second */
  size_t pos = 0;
  for (int i = 0; i < 6; i++) {
    size_t digits = i == 0 ? year_digits : 2;
    v[i] = 0;
    for (size_t k = 0; k < digits; k++, pos++) {
      uint8_t c = d->data[pos];
      if (c < '0' || c > '9') {
        return false;
      }
      v[i] = v[i] * 10 + (c - '0');
    }
  }
  if (year_digits == 2) {
    v[0] += v[0] < 50 ? 2000 : 1900; /* RFC 5280 4.1.2.5.1 */
  }
  if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60) {
    return false;
  }
  struct tm tm = {.tm_year = v[0] - 1900,
                  .tm_mon = v[1] - 1,
                  .tm_mday = v[2],
                  .tm_hour = v[3],
                  .tm_min = v[4],
                  .tm_sec = v[5]};
  *out = timegm(&tm);
  return true;
}

static void add_time(text *t, time_t when) {
  struct tm tm;
  char s[64];
  if (gmtime_r(&when, &tm) != NULL && strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S UTC", &tm) > 0) {
    text_str(t, s);
  } else {
    text_str(t, "(out of range)");
  }
}

/* GeneralNames (the subjectAltName extension's value) as "DNS:a, IP:b". */
static bool add_alt_names(text *t, const der *names) {
  const uint8_t *p = names->data;
  size_t left = names->len;
  der seq;
  if (!der_expect(&p, &left, TAG_SEQUENCE, &seq) || left != 0) {
    return false;
  }
  p = seq.data;
  left = seq.len;
  bool first = true;
  while (left > 0) {
    der name;
    if (!der_next(&p, &left, &name)) {
      return false;
    }
    text_str(t, first ? "" : ", ");
    first = false;
    if (name.tag == TAG_CONTEXT_PRIM(2)) {
      text_str(t, "DNS:");
      text_escaped(t, name.data, name.len, ",");
    } else if (name.tag == TAG_CONTEXT_PRIM(1)) {
      text_str(t, "email:");
      text_escaped(t, name.data, name.len, ",");
    } else if (name.tag == TAG_CONTEXT_PRIM(6)) {
      text_str(t, "URI:");
      text_escaped(t, name.data, name.len, ",");
    } else if (name.tag == TAG_CONTEXT_PRIM(7) && (name.len == 4 || name.len == 16)) {
      char ip[INET6_ADDRSTRLEN];
      if (inet_ntop(name.len == 4 ? AF_INET : AF_INET6, name.data, ip, sizeof(ip)) == NULL) {
        return false;
      }
      text_str(t, "IP:");
      text_str(t, ip);
    } else {
      text_fmt(t, "(other name, tag 0x%02X)", name.tag);
    }
  }
  return true;
}

/* SubjectPublicKeyInfo as "EC P-256", "RSA 2048 bits", "Ed25519". */
static bool add_key(text *t, const der *spki) {
  const uint8_t *p = spki->data;
  size_t left = spki->len;
  der alg, bits, oid;
  if (!der_expect(&p, &left, TAG_SEQUENCE, &alg) ||
      !der_expect(&p, &left, TAG_BIT_STRING, &bits)) {
    return false;
  }
  const uint8_t *a = alg.data;
  size_t aleft = alg.len;
  if (!der_expect(&a, &aleft, TAG_OID, &oid)) {
    return false;
  }
  char dotted[128];
  const char *name = oid_name(&oid, dotted, sizeof(dotted));
  text_str(t, name);
  der param;
  if (strcmp(name, "EC") == 0 && der_expect(&a, &aleft, TAG_OID, &param)) {
    char curve[128];
    text_str(t, " ");
    text_str(t, oid_name(&param, curve, sizeof(curve)));
  } else if (strcmp(name, "RSA") == 0 && bits.len > 1 && bits.data[0] == 0) {
    /* RSAPublicKey ::= SEQUENCE { modulus INTEGER, ... } in the bit string */
    const uint8_t *k = bits.data + 1;
    size_t kleft = bits.len - 1;
    der rsa, modulus;
    if (der_expect(&k, &kleft, TAG_SEQUENCE, &rsa)) {
      k = rsa.data;
      kleft = rsa.len;
      if (der_expect(&k, &kleft, TAG_INTEGER, &modulus)) {
        size_t skip = 0;
        while (skip < modulus.len && modulus.data[skip] == 0) {
          skip++;
        }
        size_t nbits = 0;
        if (skip < modulus.len) {
          nbits = (modulus.len - skip - 1) * 8;
          for (uint8_t top = modulus.data[skip]; top != 0; top >>= 1) {
            nbits++;
          }
        }
        text_fmt(t, " %zu bits", nbits);
      }
    }
  }
  return true;
}

/* The extensions' subjectAltName, if there is one, into `alt`. */
static bool find_alt_names(const der *explicit_exts, der *alt, bool *found) {
  const uint8_t *p = explicit_exts->data;
  size_t left = explicit_exts->len;
  der exts;
  *found = false;
  if (!der_expect(&p, &left, TAG_SEQUENCE, &exts)) {
    return false;
  }
  p = exts.data;
  left = exts.len;
  while (left > 0) {
    der oid, value, rest;
    if (!der_oid_value(&p, &left, &oid, &value, &rest)) {
      return false;
    }
    const uint8_t *e = rest.data;
    size_t eleft = rest.len;
    if (value.tag == 0x01 && !der_next(&e, &eleft, &value)) { /* critical BOOLEAN */
      return false;
    }
    static const uint8_t san_oid[] = {0x55, 0x1d, 0x11}; /* 2.5.29.17 */
    if (oid.len == sizeof(san_oid) && memcmp(oid.data, san_oid, sizeof(san_oid)) == 0 &&
        value.tag == TAG_OCTET_STRING) {
      *alt = value;
      *found = true;
    }
  }
  return true;
}

/* Writes the line in `t` as "<prefix><label>: <text>", and empties `t` for
 * the next. */
static void emit(FILE *out, const char *prefix, const char *label, text *t) {
  fprintf(out, "%s%s: %s\n", prefix, label, t->buf);
  t->len = 0;
  t->buf[0] = '\0';
}

void print_certificate(FILE *out, const char *prefix, const uint8_t *cert, size_t cert_len) {
  const uint8_t *p = cert;
  size_t left = cert_len;
  der certificate, tbs, field, sig_alg, issuer, validity, subject, spki;
  text t = {.len = 0};
  t.buf[0] = '\0';
  /* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, ... } */
  if (!der_expect(&p, &left, TAG_SEQUENCE, &certificate)) {
    goto bad;
  }
  p = certificate.data;
  left = certificate.len;
  if (!der_expect(&p, &left, TAG_SEQUENCE, &tbs)) {
    goto bad;
  }
  p = tbs.data;
  left = tbs.len;
  /* [0] version (optional), serialNumber, signature, issuer, validity,
   * subject, subjectPublicKeyInfo, then [1], [2], [3] extensions */
  if (!der_next(&p, &left, &field)) {
    goto bad;
  }
  if (field.tag == TAG_CONTEXT(0) && !der_next(&p, &left, &field)) {
    goto bad;
  }
  if (field.tag != TAG_INTEGER || !der_expect(&p, &left, TAG_SEQUENCE, &sig_alg) ||
      !der_expect(&p, &left, TAG_SEQUENCE, &issuer) ||
      !der_expect(&p, &left, TAG_SEQUENCE, &validity) ||
      !der_expect(&p, &left, TAG_SEQUENCE, &subject) ||
      !der_expect(&p, &left, TAG_SEQUENCE, &spki)) {
    goto bad;
  }
  if (!add_name(&t, &subject)) {
    goto bad;
  }
  emit(out, prefix, "subject", &t);
  if (!add_name(&t, &issuer)) {
    goto bad;
  }
  if (issuer.len == subject.len && memcmp(issuer.data, subject.data, subject.len) == 0) {
    text_str(&t, " (the subject: self-issued)");
  }
  emit(out, prefix, "issuer", &t);

  const uint8_t *v = validity.data;
  size_t vleft = validity.len;
  der not_before, not_after;
  time_t from, until;
  if (!der_next(&v, &vleft, &not_before) || !der_next(&v, &vleft, &not_after) ||
      !parse_time(&not_before, &from) || !parse_time(&not_after, &until)) {
    goto bad;
  }
  add_time(&t, from);
  text_str(&t, " to ");
  add_time(&t, until);
  time_t now = time(NULL);
  text_str(&t, now < from ? " (NOT YET VALID)" : now > until ? " (EXPIRED)" : "");
  emit(out, prefix, "validity", &t);

  /* Extensions: [3] EXPLICIT, after the optional unique IDs [1] and [2]. */
  der alt = {0};
  bool has_alt = false;
  while (left > 0) {
    if (!der_next(&p, &left, &field)) {
      goto bad;
    }
    if (field.tag == TAG_CONTEXT(3) && !find_alt_names(&field, &alt, &has_alt)) {
      goto bad;
    }
  }
  if (!has_alt) {
    text_str(&t, "none");
  } else if (!add_alt_names(&t, &alt)) {
    goto bad;
  }
  emit(out, prefix, "subject alt names", &t);

  if (!add_key(&t, &spki)) {
    goto bad;
  }
  const uint8_t *s = sig_alg.data;
  size_t sleft = sig_alg.len;
  der sig_oid;
  if (!der_expect(&s, &sleft, TAG_OID, &sig_oid)) {
    goto bad;
  }
  char dotted[128];
  text_str(&t, ", signed with ");
  text_str(&t, oid_name(&sig_oid, dotted, sizeof(dotted)));
  emit(out, prefix, "key", &t);
  return;

bad:
  fprintf(out, "%scannot parse the rest of the certificate (%zu bytes of DER)\n", prefix,
          cert_len);
}
