/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Java part of the SWIG interface (bindings/sdtls.i includes it before
 * the header): the Java form of the header's argument shapes. The generated
 * classes (package dev.sdtls.internal, class SdtlsNative) are the private
 * layer under bindings/java/src/main/java/dev/sdtls/, as sdtls._sdtls is Python's.
 *
 *   uint64_t, sdtls_time          long (the caller keeps it non-negative)
 *   (pointer, length) in          byte[]; null passes NULL, and the header
 *                                 refuses it with SDTLS_E_INVALID_ARGUMENT
 *   a fixed digest in             byte[32]
 *   out parameters                a one-element array the call fills in:
 *                                 X[] for a new handle X, String[] for a
 *                                 string, byte[][] for bytes, long[] for an
 *                                 int64_t; byte[] of 32 for a digest, a
 *                                 byte[] of the wanted length for the
 *                                 exporter
 *
 * No typemap throws or returns early (that would skip the release of an
 * argument already taken): a null or short array becomes a NULL argument,
 * which every sdtls function refuses with SDTLS_E_INVALID_ARGUMENT.
 */

/* Constants as compile-time Java constants; C enums as Java enums. */
%javaconst(1);

/* 64-bit unsigned values are Java longs, not BigIntegers: times in
 * nanoseconds and counters never reach 2^63 in practice, and the Java
 * layer maps SDTLS_TIME_NEVER (-1 as a long) itself. */
%apply long long { uint64_t };
%apply long long * { uint64_t * };

/* ---- (pointer, length) in ---------------------------------------------- */

%typemap(jni) (const uint8_t *BYTES, size_t BYTES_LEN) "jbyteArray"
%typemap(jtype) (const uint8_t *BYTES, size_t BYTES_LEN) "byte[]"
%typemap(jstype) (const uint8_t *BYTES, size_t BYTES_LEN) "byte[]"
%typemap(javain) (const uint8_t *BYTES, size_t BYTES_LEN) "$javainput"
%typemap(in) (const uint8_t *BYTES, size_t BYTES_LEN) {
  $1 = NULL;
  $2 = 0;
  if ($input != NULL) {
    $1 = ($1_ltype)JCALL2(GetByteArrayElements, jenv, $input, NULL);
    if ($1 != NULL) $2 = (size_t)JCALL1(GetArrayLength, jenv, $input);
  }
}
%typemap(freearg) (const uint8_t *BYTES, size_t BYTES_LEN) {
  if ($1 != NULL) JCALL3(ReleaseByteArrayElements, jenv, $input, (jbyte *)$1, JNI_ABORT);
}
/* The optional export context: null is "no context", which differs from an
 * empty one (the header's rule), so the BYTES shape fits it as it is. */
%apply (const uint8_t *BYTES, size_t BYTES_LEN) { (const uint8_t *context, size_t context_len) };

/* ---- fixed-size digests -------------------------------------------------- */

%typemap(jni) const uint8_t digest[32], uint8_t out[32] "jbyteArray"
%typemap(jtype) const uint8_t digest[32], uint8_t out[32] "byte[]"
%typemap(jstype) const uint8_t digest[32], uint8_t out[32] "byte[]"
%typemap(javain) const uint8_t digest[32], uint8_t out[32] "$javainput"
%typemap(in) const uint8_t digest[32] (uint8_t temp[32]) {
  $1 = NULL;
  if ($input != NULL && JCALL1(GetArrayLength, jenv, $input) == 32) {
    JCALL4(GetByteArrayRegion, jenv, $input, 0, 32, (jbyte *)temp);
    $1 = temp;
  }
}
/* Filled in: the caller passes a byte[32]. */
%typemap(in) uint8_t out[32] (uint8_t temp[32]) {
  memset(temp, 0, sizeof temp);
  $1 = ($input != NULL && JCALL1(GetArrayLength, jenv, $input) >= 32) ? temp : NULL;
}
%typemap(argout) uint8_t out[32] {
  if ($1 != NULL) JCALL4(SetByteArrayRegion, jenv, $input, 0, 32, (const jbyte *)$1);
}

/* ---- caller-sized output buffers ----------------------------------------- */

/* The exporter: the caller passes a byte[] of the length it wants. */
%typemap(jni) (uint8_t *out, size_t out_len) "jbyteArray"
%typemap(jtype) (uint8_t *out, size_t out_len) "byte[]"
%typemap(jstype) (uint8_t *out, size_t out_len) "byte[]"
%typemap(javain) (uint8_t *out, size_t out_len) "$javainput"
%typemap(in) (uint8_t *out, size_t out_len) {
  $1 = NULL;
  $2 = 0;
  if ($input != NULL) {
    $2 = (size_t)JCALL1(GetArrayLength, jenv, $input);
    $1 = (uint8_t *)calloc(1, $2 ? $2 : 1);
  }
}
%typemap(argout) (uint8_t *out, size_t out_len) {
  if ($1 != NULL && result == 0) JCALL4(SetByteArrayRegion, jenv, $input, 0, (jsize)$2, (const jbyte *)$1);
}
%typemap(freearg) (uint8_t *out, size_t out_len) {
  if ($1 != NULL) {
    memset($1, 0, $2); /* keying material */
    free($1);
  }
}

/* ---- one-element holders for out parameters ------------------------------- */

%fragment("sdtlsjava_holder", "header") %{
/* 1 if `array` is a Java array with at least one element. */
static int sdtlsjava_holder_ok(JNIEnv *jenv, jarray array) {
  return array != NULL && (*jenv)->GetArrayLength(jenv, array) >= 1;
}

/* Sets element 0 of a String[] (null for NULL). */
static void sdtlsjava_set_string(JNIEnv *jenv, jobjectArray array, const char *s) {
  jstring js = NULL;
  if (s != NULL && (js = (*jenv)->NewStringUTF(jenv, s)) == NULL) return; /* OutOfMemoryError */
  (*jenv)->SetObjectArrayElement(jenv, array, 0, js);
  if (js != NULL) (*jenv)->DeleteLocalRef(jenv, js);
}

/* Sets element 0 of a byte[][] to a copy of the bytes (null for NULL). */
static void sdtlsjava_set_bytes(JNIEnv *jenv, jobjectArray array, const uint8_t *p, size_t n) {
  jbyteArray b = NULL;
  if (p != NULL) {
    if ((b = (*jenv)->NewByteArray(jenv, (jsize)n)) == NULL) return; /* OutOfMemoryError */
    (*jenv)->SetByteArrayRegion(jenv, b, 0, (jsize)n, (const jbyte *)p);
  }
  (*jenv)->SetObjectArrayElement(jenv, array, 0, b);
  if (b != NULL) (*jenv)->DeleteLocalRef(jenv, b);
}
%}

/* A new handle out (sdtls_config_new ...): X[] out, element 0 set to the
 * new handle (null when the call failed). Who frees it is the header's
 * rule; the Java layer frees exactly once in close(). */
%typemap(jni) SWIGTYPE **out "jlongArray"
%typemap(jtype) SWIGTYPE **out "long[]"
%typemap(jstype) SWIGTYPE **out "$*javaclassname[]"
%typemap(javain,
         pre="    long[] ptr$javainput = new long[1];",
         post="      if ($javainput != null && $javainput.length > 0)\n"
              "        $javainput[0] = ptr$javainput[0] == 0 ? null : new $*javaclassname(ptr$javainput[0], false);")
  SWIGTYPE **out "ptr$javainput"
%typemap(in) SWIGTYPE **out ($*1_ltype temp = NULL) { $1 = &temp; }
%typemap(argout) SWIGTYPE **out {
  jlong ptr = 0;
  memcpy(&ptr, $1, sizeof *$1); /* SWIG's own pointer-in-jlong form */
  JCALL4(SetLongArrayRegion, jenv, $input, 0, 1, &ptr);
}

/* Static strings out (sdtls_version): String[] out. */
%typemap(jni) const char **string "jobjectArray"
%typemap(jtype) const char **string "String[]"
%typemap(jstype) const char **string "String[]"
%typemap(javain) const char **string "$javainput"
%typemap(in, fragment="sdtlsjava_holder") const char **string (const char *temp = NULL, int ok = 0) {
  ok = sdtlsjava_holder_ok(jenv, $input);
  $1 = ok ? ($1_ltype)&temp : NULL;
}
%typemap(argout) const char **string { if (ok$argnum) sdtlsjava_set_string(jenv, $input, *$1); }

/* A text output buffer (the fingerprint formatter): String[] out. */
%typemap(jni) (char *out, size_t out_len) "jobjectArray"
%typemap(jtype) (char *out, size_t out_len) "String[]"
%typemap(jstype) (char *out, size_t out_len) "String[]"
%typemap(javain) (char *out, size_t out_len) "$javainput"
%typemap(in, fragment="sdtlsjava_holder") (char *out, size_t out_len) (char temp[SDTLS_FINGERPRINT_MAX_TEXT], int ok = 0) {
  memset(temp, 0, sizeof temp);
  ok = sdtlsjava_holder_ok(jenv, $input);
  $1 = ok ? temp : NULL;
  $2 = sizeof temp;
}
%typemap(argout) (char *out, size_t out_len) { if (ok$argnum && result == 0) sdtlsjava_set_string(jenv, $input, $1); }

/* Library-allocated strings out (sdtls_certificate_generate): String[] out,
 * the C string released (and wiped) with sdtls_free(). */
%typemap(jni) char **cert_pem, char **key_pem "jobjectArray"
%typemap(jtype) char **cert_pem, char **key_pem "String[]"
%typemap(jstype) char **cert_pem, char **key_pem "String[]"
%typemap(javain) char **cert_pem, char **key_pem "$javainput"
%typemap(in, fragment="sdtlsjava_holder") char **cert_pem (char *temp = NULL, int ok = 0), char **key_pem (char *temp = NULL, int ok = 0) {
  ok = sdtlsjava_holder_ok(jenv, $input);
  $1 = ok ? &temp : NULL;
}
%typemap(argout) char **cert_pem, char **key_pem { if (ok$argnum) sdtlsjava_set_string(jenv, $input, *$1); }
%typemap(freearg) char **cert_pem, char **key_pem { if ($1 != NULL) sdtls_free(*$1); }

/* Borrowed (pointer, length) out (peer certificate, peer address): byte[][]
 * out, element 0 a copy (null when there is none). The shared %apply list
 * in bindings/sdtls.i names the parameters. */
%typemap(jni) (const uint8_t **PTR, size_t *LEN) "jobjectArray"
%typemap(jtype) (const uint8_t **PTR, size_t *LEN) "byte[][]"
%typemap(jstype) (const uint8_t **PTR, size_t *LEN) "byte[][]"
%typemap(javain) (const uint8_t **PTR, size_t *LEN) "$javainput"
%typemap(in, fragment="sdtlsjava_holder") (const uint8_t **PTR, size_t *LEN) (const uint8_t *p = NULL, size_t n = 0, int ok = 0) {
  ok = sdtlsjava_holder_ok(jenv, $input);
  $1 = ok ? ($1_ltype)&p : NULL;
  $2 = &n;
}
%typemap(argout) (const uint8_t **PTR, size_t *LEN) { if (ok$argnum) sdtlsjava_set_bytes(jenv, $input, *$1, *$2); }

/* A digest out (the SDTLS_1.2 fingerprint functions): byte[][] out, the
 * digest's length as the call set it. */
%typemap(jni) (uint8_t *digest, size_t *digest_len) "jobjectArray"
%typemap(jtype) (uint8_t *digest, size_t *digest_len) "byte[][]"
%typemap(jstype) (uint8_t *digest, size_t *digest_len) "byte[][]"
%typemap(javain) (uint8_t *digest, size_t *digest_len) "$javainput"
%typemap(in, fragment="sdtlsjava_holder") (uint8_t *digest, size_t *digest_len)
    (uint8_t temp[SDTLS_FINGERPRINT_MAX_DIGEST], size_t n = 0, int ok = 0) {
  ok = sdtlsjava_holder_ok(jenv, $input);
  $1 = ok ? temp : NULL;
  $2 = &n;
}
%typemap(argout) (uint8_t *digest, size_t *digest_len) {
  if (ok$argnum && result == 0) sdtlsjava_set_bytes(jenv, $input, $1, *$2);
}

/* A list of names in (the SDTLS_1.2 list setters): String[]. The C
 * function validates each name. JNI's modified UTF-8 writes U+0000 as two
 * bytes, so a Java NUL never cuts a name short: such a name reaches C and is
 * refused there or kept whole. */
%typemap(jni) (const char *const *names, size_t n) "jobjectArray"
%typemap(jtype) (const char *const *names, size_t n) "String[]"
%typemap(jstype) (const char *const *names, size_t n) "String[]"
%typemap(javain) (const char *const *names, size_t n) "$javainput"
%typemap(in) (const char *const *names, size_t n) (jsize count = 0) {
  $1 = NULL;
  $2 = 0;
  if ($input != NULL) {
    count = JCALL1(GetArrayLength, jenv, $input);
    $1 = ($1_ltype)calloc(count > 0 ? (size_t)count : 1, sizeof(char *));
    if ($1 == NULL) return SDTLS_E_NOMEM;
    $2 = (size_t)count;
    for (jsize i = 0; i < count; i++) {
      jstring js = (jstring)JCALL2(GetObjectArrayElement, jenv, $input, i);
      /* A null element stays NULL: the C function refuses it. */
      ((const char **)$1)[i] = js != NULL ? JCALL2(GetStringUTFChars, jenv, js, NULL) : NULL;
      if (js != NULL) JCALL1(DeleteLocalRef, jenv, js);
    }
  }
}
%typemap(freearg) (const char *const *names, size_t n) {
  for (jsize i = 0; $1 != NULL && i < count$argnum; i++) {
    if ($1[i] != NULL) {
      jstring js = (jstring)JCALL2(GetObjectArrayElement, jenv, $input, i);
      JCALL2(ReleaseStringUTFChars, jenv, js, $1[i]);
      JCALL1(DeleteLocalRef, jenv, js);
    }
  }
  free((void *)$1);
}

/* A library-allocated byte string out (sdtls_conn_get_session): byte[][]
 * out, the C copy released (and wiped) with sdtls_free(). */
%typemap(jni) (uint8_t **session, size_t *len) "jobjectArray"
%typemap(jtype) (uint8_t **session, size_t *len) "byte[][]"
%typemap(jstype) (uint8_t **session, size_t *len) "byte[][]"
%typemap(javain) (uint8_t **session, size_t *len) "$javainput"
%typemap(in, fragment="sdtlsjava_holder") (uint8_t **session, size_t *len) (uint8_t *p = NULL, size_t n = 0, int ok = 0) {
  ok = sdtlsjava_holder_ok(jenv, $input);
  $1 = ok ? &p : NULL;
  $2 = &n;
}
%typemap(argout) (uint8_t **session, size_t *len) { if (ok$argnum) sdtlsjava_set_bytes(jenv, $input, *$1, *$2); }
%typemap(freearg) (uint8_t **session, size_t *len) { if ($1 != NULL) sdtls_free(*$1); }

/* The shared event kinds are C enum values: read through JNI, not inlined. */
%javaconst(0) EV_CONNECT;
%javaconst(0) EV_HANDSHAKE_DONE;
%javaconst(0) EV_DATA;
%javaconst(0) EV_CLOSE;
%javaconst(0) EV_DATAGRAM;
