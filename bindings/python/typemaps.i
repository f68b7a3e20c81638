/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Python part of the SWIG interface (bindings/sdtls.i includes it before
 * the header): typemaps that make the header's argument shapes usable from
 * Python, buffers in and out parameters returned. The shared %apply lists in
 * bindings/sdtls.i name the header's parameters; these typemaps give the
 * shapes they apply (BYTES pairs, PTR/LEN out pairs) their Python form.
 */
%{
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* The limited API has the buffer protocol from CPython 3.11: the cp39-abi3
 * wheels (python/pyproject.toml) are built without it. */
#if !defined(Py_LIMITED_API) || Py_LIMITED_API + 0 >= 0x030B0000
#define SDTLSPY_HAS_BUFFER 1
#else
#define SDTLSPY_HAS_BUFFER 0
#endif
%}

%fragment("sdtlspy_buffer", "header") %{
/* The bytes of a bytes-like argument, for the length of one call. */
typedef struct {
  const uint8_t *buf;
  Py_ssize_t len;
#if SDTLSPY_HAS_BUFFER
  Py_buffer view;
#else
  PyObject *owner; /* a bytes object */
#endif
} sdtlspy_bytes;

/* Borrow the bytes of any C-contiguous buffer (bytes, bytearray,
 * memoryview, ...): without copying where the API has the buffer protocol;
 * else bytes as they are and any other bytes-like object copied into new
 * bytes (borrowing a bytearray's storage without the protocol's export
 * lock would let a callback resize it under the call). A str, or an object
 * without the buffer protocol, is a TypeError. 0, or -1 with the
 * exception set; sdtlspy_release() after 0. */
static int sdtlspy_borrow(PyObject *obj, sdtlspy_bytes *b) {
  if (PyUnicode_Check(obj)) {
    PyErr_SetString(PyExc_TypeError, "a bytes-like object is required, not 'str'");
    return -1;
  }
#if SDTLSPY_HAS_BUFFER
  if (PyObject_GetBuffer(obj, &b->view, PyBUF_SIMPLE) != 0) return -1;
  b->buf = (const uint8_t *)b->view.buf;
  b->len = b->view.len;
#else
  if (PyBytes_Check(obj)) {
    Py_INCREF(obj);
    b->owner = obj;
  } else {
    PyObject *view = PyMemoryView_FromObject(obj); /* TypeError unless a buffer */
    b->owner = view != NULL ? PyObject_Bytes(view) : NULL;
    Py_XDECREF(view);
    if (b->owner == NULL) return -1;
  }
  char *p;
  if (PyBytes_AsStringAndSize(b->owner, &p, &b->len) != 0) {
    Py_CLEAR(b->owner);
    return -1;
  }
  b->buf = (const uint8_t *)p;
#endif
  return 0;
}

static void sdtlspy_release(sdtlspy_bytes *b) {
#if SDTLSPY_HAS_BUFFER
  PyBuffer_Release(&b->view);
#else
  Py_CLEAR(b->owner);
#endif
}
%}

/* (pointer, length) pairs in: a bytes-like object (sdtlspy_borrow). */
%typemap(in, fragment="sdtlspy_buffer") (const uint8_t *BYTES, size_t BYTES_LEN) (sdtlspy_bytes view, int got = 0) {
  if (sdtlspy_borrow($input, &view) != 0) SWIG_fail;
  got = 1;
  $1 = ($1_ltype)view.buf;
  $2 = (size_t)view.len;
}
%typemap(freearg) (const uint8_t *BYTES, size_t BYTES_LEN) { if (got$argnum) sdtlspy_release(&view$argnum); }
%typemap(typecheck) (const uint8_t *BYTES, size_t BYTES_LEN) {
#if SDTLSPY_HAS_BUFFER
  $1 = PyObject_CheckBuffer($input);
#else
  $1 = PyBytes_Check($input) || PyByteArray_Check($input) || PyMemoryView_Check($input);
#endif
}

/* An optional (pointer, length) pair: None passes NULL (export context). */
%typemap(in, fragment="sdtlspy_buffer") (const uint8_t *context, size_t context_len) (sdtlspy_bytes view, int got = 0) {
  if ($input == Py_None) {
    $1 = NULL;
    $2 = 0;
  } else {
    if (sdtlspy_borrow($input, &view) != 0) SWIG_fail;
    got = 1;
    $1 = ($1_ltype)view.buf;
    $2 = (size_t)view.len;
  }
}
%typemap(freearg) (const uint8_t *context, size_t context_len) { if (got$argnum) sdtlspy_release(&view$argnum); }

/* A fixed 32-byte digest in. */
%typemap(in, fragment="sdtlspy_buffer") const uint8_t digest[32] (sdtlspy_bytes view, int got = 0) {
  if (sdtlspy_borrow($input, &view) != 0) SWIG_fail;
  got = 1;
  if (view.len != 32) {
    PyErr_SetString(PyExc_ValueError, "a SHA-256 digest is 32 bytes");
    SWIG_fail;
  }
  $1 = ($1_ltype)view.buf;
}
%typemap(freearg) const uint8_t digest[32] { if (got$argnum) sdtlspy_release(&view$argnum); }

/* A fixed 32-byte digest out: returned as bytes after the status. */
%typemap(in, numinputs=0) uint8_t out[32] (uint8_t temp[32]) { memset(temp, 0, sizeof temp); $1 = temp; }
%typemap(argout) uint8_t out[32] {
  %append_output(PyBytes_FromStringAndSize((const char *)$1, 32));
}

/* An output buffer whose length the caller chooses: takes the length,
 * returns bytes (the exporter). At least 1 byte, as the C function takes,
 * and at most 1 MiB, which bounds what one call allocates. */
%typemap(in) (uint8_t *out, size_t out_len) {
  unsigned long long n;
  int res = SWIG_AsVal_unsigned_SS_long_SS_long($input, &n);
  if (!SWIG_IsOK(res) || n < 1 || n > (1u << 20)) {
    PyErr_SetString(PyExc_ValueError, "length must be an int in 1..1048576");
    SWIG_fail;
  }
  $2 = (size_t)n;
  $1 = (uint8_t *)calloc(1, $2);
  if ($1 == NULL) { PyErr_NoMemory(); SWIG_fail; }
}
%typemap(argout) (uint8_t *out, size_t out_len) {
  %append_output(PyBytes_FromStringAndSize((const char *)$1, (Py_ssize_t)$2));
}
%typemap(freearg) (uint8_t *out, size_t out_len) { free($1); }

/* A digest out, up to SDTLS_FINGERPRINT_MAX_DIGEST bytes (the SDTLS_1.2
 * fingerprint functions): returned as bytes of the length the call set. */
%typemap(in, numinputs=0) (uint8_t *digest, size_t *digest_len)
    (uint8_t temp[SDTLS_FINGERPRINT_MAX_DIGEST], size_t n = 0) {
  memset(temp, 0, sizeof temp);
  $1 = temp;
  $2 = &n;
}
%typemap(argout) (uint8_t *digest, size_t *digest_len) {
  %append_output(PyBytes_FromStringAndSize((const char *)$1, (Py_ssize_t)*$2));
}

/* A list of names in (the SDTLS_1.2 list setters): any sequence of str
 * (a str itself is refused: it would be a list of its characters). The C
 * function validates each name; one with a NUL byte, which C would see
 * cut short, is refused here. */
%typemap(in) (const char *const *names, size_t n) (PyObject *keep = NULL) {
  if (PyUnicode_Check($input) || PyBytes_Check($input) || !PySequence_Check($input)) {
    PyErr_SetString(PyExc_TypeError, "names must be a sequence of str");
    SWIG_fail;
  }
  Py_ssize_t count = PySequence_Size($input);
  keep = PyList_New(0); /* the UTF-8 bytes objects the array points into */
  if (count < 0 || keep == NULL) SWIG_fail;
  $2 = (size_t)count;
  $1 = ($1_ltype)calloc(count > 0 ? (size_t)count : 1, sizeof(char *));
  if ($1 == NULL) { PyErr_NoMemory(); SWIG_fail; }
  for (Py_ssize_t i = 0; i < count; i++) {
    PyObject *item = PySequence_GetItem($input, i);
    PyObject *utf8 = item != NULL && PyUnicode_Check(item) ? PyUnicode_AsUTF8String(item) : NULL;
    Py_XDECREF(item);
    char *s = NULL;
    Py_ssize_t size = 0;
    int ok = utf8 != NULL && PyList_Append(keep, utf8) == 0 &&
             PyBytes_AsStringAndSize(utf8, &s, &size) == 0 && strlen(s) == (size_t)size;
    Py_XDECREF(utf8); /* keep holds it */
    if (!ok) {
      PyErr_Clear();
      PyErr_SetString(PyExc_ValueError, "each name must be a str without NUL bytes");
      SWIG_fail;
    }
    ((const char **)$1)[i] = s;
  }
}
%typemap(freearg) (const char *const *names, size_t n) {
  free((void *)$1);
  Py_XDECREF(keep$argnum);
}

/* A text output buffer (the fingerprint formatters): returns str. */
%typemap(in, numinputs=0) (char *out, size_t out_len) (char temp[SDTLS_FINGERPRINT_MAX_TEXT]) {
  memset(temp, 0, sizeof temp);
  $1 = temp;
  $2 = sizeof temp;
}
%typemap(argout) (char *out, size_t out_len) {
  %append_output(PyUnicode_FromString($1));
}

/* New handles out (sdtls_config_new ...): returned as (borrowed-looking)
 * pointers. The pythonic layer does not use these; it makes handles through
 * the holders (bindings/python/holders.i), which own them. */
%typemap(in, numinputs=0) SWIGTYPE **out ($*1_ltype temp = NULL) { $1 = &temp; }
%typemap(argout) SWIGTYPE **out {
  %append_output(SWIG_NewPointerObj(SWIG_as_voidptr(*$1), $*1_descriptor, 0));
}

/* Static strings out (sdtls_version). */
%typemap(in, numinputs=0) const char **string (const char *temp = NULL) { $1 = ($1_ltype)&temp; }
%typemap(argout) const char **string {
  %append_output(*$1 ? PyUnicode_FromString(*$1) : (Py_INCREF(Py_None), Py_None));
}

/* Borrowed (pointer, length) out: copied into bytes (peer certificate,
 * peer address). */
%typemap(in, numinputs=0) (const uint8_t **PTR, size_t *LEN) (const uint8_t *p = NULL, size_t n = 0) {
  $1 = ($1_ltype)&p;
  $2 = &n;
}
%typemap(argout) (const uint8_t **PTR, size_t *LEN) {
  PyObject *o;
  if (*$1 != NULL) {
    o = PyBytes_FromStringAndSize((const char *)*$1, (Py_ssize_t)*$2);
  } else {
    Py_INCREF(Py_None);
    o = Py_None;
  }
  %append_output(o);
}

/* Library-allocated strings out (sdtls_certificate_generate): returned as
 * str, then released (and wiped) with sdtls_free(). */
%typemap(in, numinputs=0) char **cert_pem (char *temp = NULL), char **key_pem (char *temp = NULL) {
  $1 = &temp;
}
%typemap(argout) char **cert_pem, char **key_pem {
  PyObject *o;
  if (*$1 != NULL) {
    o = PyUnicode_FromString(*$1);
  } else {
    Py_INCREF(Py_None);
    o = Py_None;
  }
  %append_output(o);
}
%typemap(freearg) char **cert_pem, char **key_pem { sdtls_free(*$1); }

%fragment("sdtlspy_wipe", "header") %{
/* Overwrites secrets before their memory goes (not optimised away). */
static void sdtlspy_wipe(void *p, size_t n) {
  volatile uint8_t *v = (volatile uint8_t *)p;
  while (n--) *v++ = 0;
}
%}

/* A library-allocated byte string out (sdtls_conn_get_session): returned as
 * bytes (None when the call failed), then released, and wiped, with
 * sdtls_free(). */
%typemap(in, numinputs=0) (uint8_t **session, size_t *len) (uint8_t *p = NULL, size_t n = 0) {
  $1 = &p;
  $2 = &n;
}
%typemap(argout) (uint8_t **session, size_t *len) {
  PyObject *o;
  if (*$1 != NULL) {
    o = PyBytes_FromStringAndSize((const char *)*$1, (Py_ssize_t)*$2);
  } else {
    Py_INCREF(Py_None);
    o = Py_None;
  }
  %append_output(o);
}
%typemap(freearg) (uint8_t **session, size_t *len) {
  if ($1 != NULL) sdtls_free(*$1);
}

/* The SRTP keying struct out (sdtls_conn_srtp_keying): a tuple (profile,
 * key_len, salt_len, client_write, server_write, local_write, remote_write),
 * each *_write as bytes of key_len + salt_len, or None when the call failed.
 * The struct lives on the C stack and is wiped before the wrapper returns. */
%typemap(in, numinputs=0, fragment="sdtlspy_wipe") sdtls_srtp_keying *out (sdtls_srtp_keying temp) {
  memset(&temp, 0, sizeof temp);
  temp.size = sizeof temp;
  $1 = &temp;
}
%typemap(argout) sdtls_srtp_keying *out {
  PyObject *o;
  size_t n = $1->key_len + $1->salt_len;
  if (result == 0 && n <= SDTLS_SRTP_MAX_MASTER_LEN) {
    o = Py_BuildValue("(inny#y#y#y#)", $1->profile, (Py_ssize_t)$1->key_len, (Py_ssize_t)$1->salt_len,
                      (const char *)$1->client_write, (Py_ssize_t)n, (const char *)$1->server_write,
                      (Py_ssize_t)n, (const char *)$1->local_write, (Py_ssize_t)n,
                      (const char *)$1->remote_write, (Py_ssize_t)n);
    if (o == NULL) SWIG_fail;
  } else {
    Py_INCREF(Py_None);
    o = Py_None;
  }
  %append_output(o);
}
%typemap(freearg) sdtls_srtp_keying *out {
  if ($1 != NULL) sdtlspy_wipe($1, sizeof *$1);
}

