/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Python part of the SWIG interface, after the header (bindings/sdtls.i
 * includes it): the handle holders, trampolines and queue drains that the
 * pythonic layer (python/src/sdtls/) drives, as the module sdtls._sdtls.
 *
 * Handle holders ("pyconfig", "pyconn", "pyserver"): each owns its C handle
 * through a PyCapsule whose destructor frees it exactly once, whatever order
 * the Python objects die in. The C callbacks go to trampolines here that
 * QUEUE what they produce (datagrams to send, events) in C, in the shared
 * byte queue of bindings/sdtls.i; Python takes a whole queue in one call.
 * The only callbacks that enter Python are the key log, the PSK lookup and
 * a server's on_connect hook, and only when the user set one. The GIL is
 * released around every call that does crypto.
 *
 * One thread at a time per holder: a call that finds its holder in use by
 * another thread is refused (SDTLSPY_E_BUSY), queries included, so that no
 * query reads a handle while another thread's call changes or frees it
 * (see guarded_query). Every entry settles that under the GIL, in the same
 * C call that uses the handle; raw handles are handed to Python only inside
 * such a call (the query's function, the on_connect hook).
 *
 * The holder functions return a negative SDTLS_E_* code (or SDTLSPY_E_BUSY)
 * as a Python int where the pythonic layer raises the matching sdtls.Error;
 * they raise only MemoryError, TypeError/ValueError for bad argument types,
 * and an exception that the key log, PSK lookup or on_connect callback
 * raised.
 */

/* ------------------------------------------------------------------------ */
/* Holders, trampolines and queues                                           */
/* ------------------------------------------------------------------------ */

%{
/* The holder is in use by another thread (a call is running with the GIL
 * released). Not an sdtls code: the pythonic layer raises UsageError. */
#define SDTLSPY_E_BUSY (-1000)
/* A server connection that is gone (its on_close ran, or the server was
 * freed). The pythonic layer raises ConnectionClosed. */
#define SDTLSPY_E_GONE (-1001)
/* A send or receive refused before it ran because its queue is full (see
 * bq_room): take the datagrams (OUT) or the events (EVENTS) first. The
 * pythonic layer raises UsageError naming the bound. */
#define SDTLSPY_E_OUT_FULL (-1002)
#define SDTLSPY_E_EVENTS_FULL (-1003)

/* ---- the callbacks that enter Python: key log and PSK lookup ----------- */

/* The Python callables of a config, shared by the config and every
 * connection and server made from it, so that they outlive every C call
 * that may use them (each holder drops its reference after freeing its C
 * handle). Reference counted under the GIL. A capsule's references are
 * invisible to the cycle collector: the pythonic layer passes functions
 * that reach its Config only weakly (sdtls/_config.py, _hook). */
typedef struct pyhooks {
  long refs;
  PyObject *keylog;     /* or NULL */
  PyObject *psk_lookup; /* or NULL */
} pyhooks;

/* An exception a callback raised, kept for the thread whose sdtls call is
 * running, and raised when that call returns. Per thread because the
 * callbacks run on the thread that made the call. */
static _Thread_local PyObject *pending_type, *pending_value, *pending_tb;

static pyhooks *hooks_ref(pyhooks *h) {
  h->refs++;
  return h;
}

static void hooks_unref(pyhooks *h) {
  if (h != NULL && --h->refs == 0) {
    Py_XDECREF(h->keylog);
    Py_XDECREF(h->psk_lookup);
    free(h);
  }
}

/* With the GIL held and an exception set: keeps it for raise_pending(). */
static void keep_pending(void) {
  if (pending_type == NULL) {
    PyErr_Fetch(&pending_type, &pending_value, &pending_tb);
  } else {
    PyErr_Clear(); /* the first one wins */
  }
}

static void keylog_trampoline(void *user_data, const char *line) {
  pyhooks *h = (pyhooks *)user_data;
  PyGILState_STATE g = PyGILState_Ensure();
  if (h->keylog != NULL) {
    PyObject *r = PyObject_CallFunction(h->keylog, "s", line);
    if (r == NULL) keep_pending();
    Py_XDECREF(r);
  }
  PyGILState_Release(g);
}

/* psk_lookup(identity: str) -> bytes | None. None is an unknown identity;
 * an exception, or a key of the wrong length, is one too, and the exception
 * comes out of the sdtls call that ran the handshake. The identity is
 * decoded as UTF-8 with surrogateescape (as SWIG returns strings). */
static size_t psk_lookup_trampoline(void *user_data, const char *identity, uint8_t *key, size_t key_max) {
  pyhooks *h = (pyhooks *)user_data;
  size_t n = 0;
  PyGILState_STATE g = PyGILState_Ensure();
  if (h->psk_lookup != NULL) {
    PyObject *id = PyUnicode_DecodeUTF8(identity, (Py_ssize_t)strlen(identity), "surrogateescape");
    PyObject *r = id != NULL ? PyObject_CallFunctionObjArgs(h->psk_lookup, id, NULL) : NULL;
    Py_XDECREF(id);
    if (r == NULL) {
      keep_pending();
    } else if (r != Py_None) {
      sdtlspy_bytes view;
      if (sdtlspy_borrow(r, &view) != 0) {
        keep_pending();
      } else {
        if (view.len < 1 || (size_t)view.len > key_max) {
          PyErr_Format(PyExc_ValueError, "psk_lookup returned a key of %zd bytes; a key is 1..%zu bytes",
                       view.len, key_max);
          keep_pending();
        } else {
          memcpy(key, view.buf, (size_t)view.len);
          n = (size_t)view.len;
        }
        sdtlspy_release(&view);
      }
    }
    Py_XDECREF(r);
  }
  PyGILState_Release(g);
  return n;
}

/* After a call that may have run a callback: re-raise what it raised.
 * Returns 1 if an exception is now set. */
static int raise_pending(void) {
  if (pending_type == NULL) return 0;
  PyErr_Restore(pending_type, pending_value, pending_tb);
  pending_type = pending_value = pending_tb = NULL;
  return 1;
}

/* ---- config ------------------------------------------------------------- */

typedef struct pyconfig {
  sdtls_config *cfg;
  pyhooks *hooks;
} pyconfig;

static void pyconfig_capsule_free(PyObject *cap) {
  pyconfig *c = (pyconfig *)PyCapsule_GetPointer(cap, "sdtls.config");
  if (c == NULL) return;
  sdtls_config_free(c->cfg); /* connections and servers hold their own reference */
  hooks_unref(c->hooks);
  free(c);
}

static pyconfig *get_config(PyObject *cap) {
  return (pyconfig *)PyCapsule_GetPointer(cap, "sdtls.config");
}

/* ---- connection ---------------------------------------------------------- */

typedef struct pyconn {
  sdtls_conn *conn;
  pyhooks *hooks;
  bq out; /* [uint32 len][bytes] ... */
  bq ev;  /* qrec records (bindings/sdtls.i) */
  int busy;            /* a call runs (ENGINE_CALL, guarded_query) */
  unsigned long owner; /* the thread that runs it, while busy */
  int lost; /* an event could not be queued (out of memory) */
} pyconn;

static int conn_send_cb(void *user_data, const uint8_t *datagram, size_t len) {
  pyconn *c = (pyconn *)user_data;
  return bq_datagram(&c->out, datagram, len); /* a failure counts as lost */
}

static void conn_event(pyconn *c, const qrec *r) {
  if (qrec_put(&c->ev, r) != 0) c->lost = 1;
}

static void conn_on_handshake_done(void *user_data) {
  pyconn *c = (pyconn *)user_data;
  qrec r = {.kind = EV_HANDSHAKE_DONE, .version = sdtls_conn_version(c->conn), .cipher = sdtls_conn_cipher(c->conn)};
  conn_event(c, &r);
}

static void conn_on_data(void *user_data, const uint8_t *data, size_t len) {
  qrec r = {.kind = EV_DATA, .data = data, .data_len = (uint32_t)len};
  conn_event((pyconn *)user_data, &r);
}

static void conn_on_close(void *user_data, int reason) {
  pyconn *c = (pyconn *)user_data;
  qrec r = {.kind = EV_CLOSE, .reason = reason, .detail = sdtls_conn_error_detail(c->conn)};
  conn_event(c, &r);
}

static void pyconn_capsule_free(PyObject *cap) {
  pyconn *c = (pyconn *)PyCapsule_GetPointer(cap, "sdtls.conn");
  if (c == NULL) return;
  sdtls_conn_free(c->conn); /* no callback follows a free */
  hooks_unref(c->hooks);
  bq_free(&c->out);
  bq_free(&c->ev);
  free(c);
}

static pyconn *get_conn(PyObject *cap) {
  return (pyconn *)PyCapsule_GetPointer(cap, "sdtls.conn");
}

/* ---- server -------------------------------------------------------------- */

typedef struct pyserver {
  sdtls_server *srv;
  pyhooks *hooks;
  /* on_connect(address, conn) -> bool, or NULL: the pythonic layer's
   * wrapper of the user's hook. It holds no reference to the Server (a
   * weak one), so capsule -> callable makes no cycle the GC cannot see.
   * Dropped when the capsule dies. */
  PyObject *on_connect;
  sdtls_time now; /* the running receive's time, for a refusal */
  bq out; /* EV_DATAGRAM qrec records (the address: a sockaddr) */
  bq ev;
  int busy;            /* as pyconn's */
  unsigned long owner;
  int lost;
  slot_table slots;    /* the ids of its connections (bindings/sdtls.i) */
  /* Its own UDP socket (sdtls.aio's DTLSServer; pyserver_io_attach): the
   * server reads it and sends to it from C. -1 without one: then `out`
   * queues every datagram for Python to take. */
  int fd;
  int64_t epoch_ns;   /* the clock of its io calls: epoch_ns + CLOCK_MONOTONIC */
  sdtls_time last_now; /* the latest `now` it was given: io calls never go back */
  sdtls_time reported; /* the deadline the last io call reported to Python */
  int told_blocked;    /* whether that call said that `out` waits for the socket */
  int hook_ran;        /* on_connect ran during this datagram */
  struct pyio *io;     /* its receive side, while a socket is attached */
} pyserver;

static sdtls_conn *server_lookup(const pyserver *s, uint64_t id) {
  return s->srv == NULL ? NULL : slot_conn(&s->slots, id);
}

static void server_event(pyserver *s, const qrec *r) {
  if (qrec_put(&s->ev, r) != 0) s->lost = 1;
}

static int server_send_cb(void *user_data, const uint8_t *addr, size_t addr_len, const uint8_t *datagram,
                          size_t len) {
  pyserver *s = (pyserver *)user_data;
  qrec r = {.kind = EV_DATAGRAM, .addr = addr, .addr_len = (uint32_t)addr_len, .data = datagram,
            .data_len = (uint32_t)len};
  return qrec_put(&s->out, &r) == 0 ? 0 : -1;
}

static PyObject *addr_to_py(const uint8_t *addr, size_t len);

/* Asks Python whether to keep a new peer: on_connect(address, conn), with
 * the GIL, inside the C server's on_connect, the one place where a server's
 * connection takes sdtls_conn_add_peer_fingerprint() (the wrapper pins
 * there through `conn`, a raw handle valid during the call only). True
 * keeps the peer; False, or an exception, refuses it. The exception is kept
 * and raised when the sdtls call that fed the ClientHello returns. */
static int ask_on_connect(pyserver *s, sdtls_conn *conn, const uint8_t *addr, size_t addr_len) {
  int keep = 0;
  s->hook_ran = 1;
  PyGILState_STATE g = PyGILState_Ensure();
  PyObject *fn = s->on_connect;
  Py_INCREF(fn); /* alive for the call, whatever the call does */
  PyObject *a = addr_to_py(addr, addr_len);
  PyObject *h = a != NULL ? SWIG_NewPointerObj(SWIG_as_voidptr(conn), SWIGTYPE_p_sdtls_conn, 0) : NULL;
  PyObject *r = h != NULL ? PyObject_CallFunctionObjArgs(fn, a, h, NULL) : NULL;
  if (r == NULL) {
    keep_pending();
  } else {
    keep = PyObject_IsTrue(r);
    if (keep < 0) {
      keep_pending();
      keep = 0;
    }
  }
  Py_XDECREF(r);
  Py_XDECREF(h);
  Py_XDECREF(a);
  Py_DECREF(fn);
  PyGILState_Release(g);
  return keep;
}

/* A refused peer (the hook said no, or no slot could be had) is closed
 * before its ClientHello is fed, so nothing is sent to it; it gets no slot
 * and no app data, and its on_close is not reported (server_on_close skips
 * a connection without a slot). Its client retransmits the ClientHello,
 * which asks the hook again, and eventually times out. */
static void server_on_connect(void *user_data, sdtls_conn *conn, const uint8_t *addr, size_t addr_len) {
  pyserver *s = (pyserver *)user_data;
  if (s->on_connect != NULL && !ask_on_connect(s, conn, addr, addr_len)) {
    sdtls_server_close_peer(s->srv, conn, s->now);
    return;
  }
  uint32_t i = slot_add(&s->slots, conn);
  if (i == NO_SLOT) {
    s->lost = 1;
    sdtls_server_close_peer(s->srv, conn, s->now); /* cannot track it: refuse it */
    return;
  }
  qrec r = {.kind = EV_CONNECT, .id = (int64_t)slot_id(&s->slots, i), .addr = addr, .addr_len = (uint32_t)addr_len};
  server_event(s, &r);
}

static void server_on_handshake_done(void *user_data, sdtls_conn *conn) {
  pyserver *s = (pyserver *)user_data;
  qrec r = {.kind = EV_HANDSHAKE_DONE, .id = slot_id_of(&s->slots, conn), .version = sdtls_conn_version(conn),
            .cipher = sdtls_conn_cipher(conn)};
  server_event(s, &r);
}

static void server_on_data(void *user_data, sdtls_conn *conn, const uint8_t *data, size_t len) {
  pyserver *s = (pyserver *)user_data;
  qrec r = {.kind = EV_DATA, .id = slot_id_of(&s->slots, conn), .data = data, .data_len = (uint32_t)len};
  server_event(s, &r);
}

static void server_on_close(void *user_data, sdtls_conn *conn, int reason) {
  pyserver *s = (pyserver *)user_data;
  uint32_t i = slot_of(&s->slots, conn);
  if (i == NO_SLOT) return; /* refused in on_connect: never reported */
  qrec r = {.kind = EV_CLOSE, .reason = reason, .id = (int64_t)slot_id(&s->slots, i),
            .detail = sdtls_conn_error_detail(conn)};
  server_event(s, &r);
  slot_remove(&s->slots, i); /* the server frees conn when this returns */
}

static void server_release(pyserver *s) {
  sdtls_server_free(s->srv); /* frees its connections; no callback */
  s->srv = NULL;
  slot_table_free(&s->slots);
}

static void io_detach(pyserver *s);

static void pyserver_capsule_free(PyObject *cap) {
  pyserver *s = (pyserver *)PyCapsule_GetPointer(cap, "sdtls.server");
  if (s == NULL) return;
  io_detach(s);
  server_release(s);
  hooks_unref(s->hooks);
  Py_XDECREF(s->on_connect);
  bq_free(&s->out);
  bq_free(&s->ev);
  free(s);
}

static pyserver *get_server(PyObject *cap) {
  return (pyserver *)PyCapsule_GetPointer(cap, "sdtls.server");
}

/* ---- addresses ----------------------------------------------------------- */

/* A sockaddr as Python's socket module writes it: (host, port) for IPv4,
 * (host, port, flowinfo, scope_id) for IPv6. */
static PyObject *addr_to_py(const uint8_t *addr, size_t len) {
  char host[INET6_ADDRSTRLEN];
  sa_family_t family = AF_UNSPEC; /* the bytes may sit at any alignment in a queue */
  if (len >= offsetof(struct sockaddr, sa_family) + sizeof family)
    memcpy(&family, addr + offsetof(struct sockaddr, sa_family), sizeof family);
  if (len >= sizeof(struct sockaddr_in) && family == AF_INET) {
    struct sockaddr_in a;
    memcpy(&a, addr, sizeof a);
    inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
    return Py_BuildValue("(si)", host, (int)ntohs(a.sin_port));
  }
  if (len >= sizeof(struct sockaddr_in6) && family == AF_INET6) {
    struct sockaddr_in6 a;
    memcpy(&a, addr, sizeof a);
    inet_ntop(AF_INET6, &a.sin6_addr, host, sizeof host);
    return Py_BuildValue("(siII)", host, (int)ntohs(a.sin6_port), (unsigned)ntohl(a.sin6_flowinfo),
                         (unsigned)a.sin6_scope_id);
  }
  return PyBytes_FromStringAndSize((const char *)addr, (Py_ssize_t)len);
}

/* The other way; numeric hosts only (what recvfrom() gives). */
static int addr_from_py(PyObject *obj, struct sockaddr_storage *ss, size_t *len) {
  const char *host;
  int port;
  unsigned flowinfo = 0, scope_id = 0;
  if (!PyTuple_Check(obj) || !PyArg_ParseTuple(obj, "si|II", &host, &port, &flowinfo, &scope_id)) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "address must be a (host, port) tuple");
    return -1;
  }
  if (port < 0 || port > 65535) {
    PyErr_SetString(PyExc_ValueError, "port must be 0..65535");
    return -1;
  }
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *len = sizeof *a4;
    return 0;
  }
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    a6->sin6_flowinfo = htonl(flowinfo);
    a6->sin6_scope_id = scope_id;
    *len = sizeof *a6;
    return 0;
  }
  PyErr_Format(PyExc_ValueError, "address %s is not a numeric IPv4 or IPv6 address", host);
  return -1;
}

/* ---- draining queues ---------------------------------------------------- */

/* Reads the record at `p` (written by qrec_put) into *r, pointing into the
 * queue; returns its size. */
static size_t qrec_read(const uint8_t *p, qrec *r) {
  uint32_t len[5];
  memcpy(&r->kind, p, sizeof r->kind);
  memcpy(&r->reason, p + 4, sizeof r->reason);
  memcpy(&r->id, p + 8, sizeof r->id);
  memcpy(len, p + 16, sizeof len);
  r->addr_len = len[0];
  r->data_len = len[1];
  r->detail_len = len[2];
  r->version_len = len[3];
  r->cipher_len = len[4];
  const uint8_t *at = p + QREC_HEADER_LEN;
  r->addr = at;
  at += len[0];
  r->data = at;
  at += len[1];
  r->detail = (const char *)at;
  at += len[2];
  r->version = (const char *)at;
  at += len[3];
  r->cipher = (const char *)at;
  at += len[4];
  return (size_t)(at - p);
}

static PyObject *take_datagrams(bq *q) {
  size_t n = 0;
  for (size_t off = 0; off < q->len; n++) {
    uint32_t len;
    memcpy(&len, q->buf + off, sizeof len);
    off += sizeof len + len;
  }
  PyObject *list = PyList_New((Py_ssize_t)n);
  if (list == NULL) return NULL;
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t len;
    memcpy(&len, q->buf + off, sizeof len);
    off += sizeof len;
    PyObject *b = PyBytes_FromStringAndSize((const char *)q->buf + off, (Py_ssize_t)len);
    off += len;
    if (b == NULL) {
      Py_DECREF(list);
      return NULL;
    }
    PyList_SetItem(list, (Py_ssize_t)i, b);
  }
  bq_reset(q);
  return list;
}

/* Events as tuples: (kind, id, payload, reason, detail, version, cipher)
 * where payload is the data (EV_DATA), the peer address (EV_CONNECT) or
 * None. */
static PyObject *take_events(bq *q, int with_addr) {
  PyObject *list = PyList_New(0);
  if (list == NULL) return NULL;
  size_t off = 0;
  while (off < q->len) {
    qrec r;
    off += qrec_read(q->buf + off, &r);
    PyObject *payload;
    if (r.kind == EV_DATA) {
      payload = PyBytes_FromStringAndSize((const char *)r.data, (Py_ssize_t)r.data_len);
    } else if (r.kind == EV_CONNECT && with_addr) {
      payload = addr_to_py(r.addr, r.addr_len);
    } else {
      Py_INCREF(Py_None);
      payload = Py_None;
    }
    /* The version and cipher: None unless the handshake is done. */
    PyObject *t = payload == NULL ? NULL
                                  : Py_BuildValue("(iKNis#z#z#)", (int)r.kind, (unsigned long long)r.id, payload,
                                                  (int)r.reason, r.detail, (Py_ssize_t)r.detail_len,
                                                  r.version_len ? r.version : NULL, (Py_ssize_t)r.version_len,
                                                  r.cipher_len ? r.cipher : NULL, (Py_ssize_t)r.cipher_len);
    if (t == NULL || PyList_Append(list, t) != 0) {
      Py_XDECREF(t);
      Py_DECREF(list);
      bq_reset(q); /* drop the rest rather than hand them out twice */
      return NULL;
    }
    Py_DECREF(t);
  }
  bq_reset(q);
  return list;
}

static PyObject *take_server_datagrams(bq *q) {
  PyObject *list = PyList_New(0);
  if (list == NULL) return NULL;
  size_t off = 0;
  while (off < q->len) {
    qrec r;
    off += qrec_read(q->buf + off, &r);
    PyObject *t = Py_BuildValue("(y#N)", (const char *)r.data, (Py_ssize_t)r.data_len, addr_to_py(r.addr, r.addr_len));
    if (t == NULL || PyList_Append(list, t) != 0) {
      Py_XDECREF(t);
      Py_DECREF(list);
      bq_reset(q);
      return NULL;
    }
    Py_DECREF(t);
  }
  bq_reset(q);
  return list;
}

#define BUSY_CHECK(h)                       \
  do {                                      \
    if ((h)->busy) return PyLong_FromLong(SDTLSPY_E_BUSY); \
  } while (0)

/* Wraps one engine call: busy flag on (with this thread as its owner, for
 * guarded_query), GIL released; the caller re-raises callback exceptions
 * afterwards (rc_result). */
#define ENGINE_CALL(h, rc, call)            \
  do {                                      \
    (h)->busy = 1;                          \
    (h)->owner = PyThread_get_thread_ident(); \
    Py_BEGIN_ALLOW_THREADS                  \
    rc = (call);                            \
    Py_END_ALLOW_THREADS                    \
    (h)->busy = 0;                          \
  } while (0)

static PyObject *rc_result(int rc) {
  if (raise_pending()) return NULL;
  return PyLong_FromLong(rc);
}

/* Whether a call of another thread holds the guard (busy, owner). */
static int used_by_another_thread(int busy, unsigned long owner) {
  return busy && owner != PyThread_get_thread_ident();
}

/* A query's result: (0, value), or (code, None) when it was refused. */
static PyObject *query_refused(int code) {
  return Py_BuildValue("(iO)", code, Py_None);
}

/* Runs fn(handle, *args), a call that makes no callback (a query, or a
 * setter such as sdtls_conn_set_session), under the holder's guard
 * (busy, owner). It is refused while another thread's call on the holder
 * runs, so it never reads what that call is changing or frees. It is
 * allowed from inside a callback of this thread's own running call, where
 * the C library allows queries (and refuses the rest itself). The handle
 * must have been looked up under the same GIL hold: no other thread can
 * start a call on the holder before this returns, and none can find it free
 * while fn runs (fn may be any callable, one that releases the GIL too).
 * Returns (0, fn's result) or (SDTLSPY_E_BUSY, None). */
static PyObject *guarded_query(int *busy, unsigned long *owner, void *handle, swig_type_info *type,
                               PyObject *fn, PyObject *args) {
  if (used_by_another_thread(*busy, *owner)) return query_refused(SDTLSPY_E_BUSY);
  if (!PyCallable_Check(fn) || !PyTuple_Check(args)) {
    PyErr_SetString(PyExc_TypeError, "a query is a callable and a tuple of its arguments after the handle");
    return NULL;
  }
  Py_ssize_t n = PyTuple_Size(args);
  PyObject *call = PyTuple_New(n + 1);
  if (call == NULL) return NULL;
  PyObject *h = SWIG_NewPointerObj(handle, type, 0);
  if (h == NULL) {
    Py_DECREF(call);
    return NULL;
  }
  PyTuple_SetItem(call, 0, h); /* steals */
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *a = PyTuple_GetItem(args, i);
    Py_INCREF(a);
    PyTuple_SetItem(call, i + 1, a);
  }
  int nested = *busy; /* inside this thread's own call: its guard stays as it is */
  if (!nested) {
    *busy = 1;
    *owner = PyThread_get_thread_ident();
  }
  PyObject *r = PyObject_Call(fn, call, NULL);
  if (!nested) *busy = 0;
  Py_DECREF(call);
  if (r == NULL) return NULL;
  return Py_BuildValue("(iN)", 0, r);
}
/* ---- a server's own socket (sdtls.aio's DTLSServer) --------------------- */

/* The asyncio server hands its UDP socket to the holder (pyserver_io_attach),
 * so that a datagram costs Python one loop wake-up and one call: the holder
 * reads a batch of datagrams (recvmmsg), feeds each to the server, sends
 * what the server queued (sendmmsg) and returns the events and the next
 * deadline; a handler's send encrypts and sends in the same call. Python
 * never sees a datagram of the protocol, only the application's data. */

#include <errno.h>
#include <time.h>
#include <unistd.h>

/* Datagrams one recvmmsg or sendmmsg call moves, and the most that one
 * pyserver_io_read takes from the socket: a bound per wake-up, so that a
 * busy server leaves the event loop's other work its turn. */
#define IO_BATCH 16
#define IO_MAX_READ 64
/* A receive buffer: the largest datagram the server takes (MAX_DATAGRAM in
 * src/server.c, 65535 bytes) and one byte more, so that a longer one (cut:
 * MSG_TRUNC) reaches the server too long and is dropped there as
 * malformed, counted. */
#define IO_DGRAM 65536

/* recvmmsg and sendmmsg are Linux's (the package's platform: pyproject's
 * classifiers); elsewhere the same loop runs over recvmsg and sendmsg, one
 * datagram a syscall and one more syscall per batch (its EAGAIN); the
 * same with -DSDTLSPY_NO_MMSG on Linux (to test it). */
#if defined(__linux__) && defined(_GNU_SOURCE) && !defined(SDTLSPY_NO_MMSG)
typedef struct mmsghdr io_mmsg;
static int io_recvmmsg(int fd, io_mmsg *m, unsigned n) { return recvmmsg(fd, m, n, MSG_DONTWAIT, NULL); }
static int io_sendmmsg(int fd, io_mmsg *m, unsigned n) { return sendmmsg(fd, m, n, MSG_DONTWAIT); }
#else
typedef struct io_mmsg {
  struct msghdr msg_hdr;
  unsigned msg_len;
} io_mmsg;
/* As Linux's: how many were moved, or -1 (errno) when the first one failed. */
static int io_recvmmsg(int fd, io_mmsg *m, unsigned n) {
  unsigned i = 0;
  for (; i < n; i++) {
    ssize_t r = recvmsg(fd, &m[i].msg_hdr, MSG_DONTWAIT);
    if (r < 0) break;
    m[i].msg_len = (unsigned)r;
  }
  return i > 0 ? (int)i : -1;
}
static int io_sendmmsg(int fd, io_mmsg *m, unsigned n) {
  unsigned i = 0;
  for (; i < n; i++) {
    ssize_t r = sendmsg(fd, &m[i].msg_hdr, MSG_DONTWAIT);
    if (r < 0) break;
    m[i].msg_len = (unsigned)r;
  }
  return i > 0 ? (int)i : -1;
}
#endif

/* pyserver_io_read's flags. */
#define IO_MORE 1
#define IO_HOOK 2
#define IO_BLOCKED 4

/* The receive side of an attached socket: one batch of datagrams, fed in
 * order; next..count-1 are still to be fed when a call stopped early. */
typedef struct pyio {
  io_mmsg m[IO_BATCH];
  struct iovec iov[IO_BATCH];
  struct sockaddr_storage addr[IO_BATCH];
  unsigned next, count;
  uint8_t buf[IO_BATCH][IO_DGRAM];
} pyio;

/* The io calls' clock, on the library's time: epoch_ns + CLOCK_MONOTONIC
 * (the clock of Python's _sdtls_time, whose _EPOCH_NS the attach passed),
 * never before a time the server was already given. Unsigned: an epoch
 * Python passed wraps, it does not overflow. */
static sdtls_time io_now(pyserver *s) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  sdtls_time t = (uint64_t)s->epoch_ns + (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
  if (t < s->last_now) t = s->last_now;
  s->last_now = t;
  return t;
}

static void server_saw(pyserver *s, sdtls_time now) {
  if (now > s->last_now) s->last_now = now;
}

/* Sends what `out` queues to the attached socket, in order. What the
 * socket cannot take now (EAGAIN) stays queued, first in line, until the
 * next flush (Python waits for the socket to be writable: `blocked`); a
 * datagram the socket refuses otherwise (an unreachable address, ...) is
 * dropped, as asyncio's datagram transport drops it. Holder guarded; the
 * GIL need not be held. */
static void io_flush(pyserver *s) {
  if (s->fd < 0 || s->out.len == 0) return;
  size_t off = 0, sent = 0;
  while (off < s->out.len) {
    io_mmsg m[IO_BATCH];
    struct iovec iov[IO_BATCH];
    size_t end[IO_BATCH];
    unsigned n = 0;
    for (size_t at = off; n < IO_BATCH && at < s->out.len; n++) {
      qrec r;
      at += qrec_read(s->out.buf + at, &r);
      iov[n].iov_base = (void *)(uintptr_t)r.data;
      iov[n].iov_len = r.data_len;
      memset(&m[n], 0, sizeof m[n]);
      m[n].msg_hdr.msg_name = (void *)(uintptr_t)r.addr; /* the kernel copies it: no alignment needed */
      m[n].msg_hdr.msg_namelen = (socklen_t)r.addr_len;
      m[n].msg_hdr.msg_iov = &iov[n];
      m[n].msg_hdr.msg_iovlen = 1;
      end[n] = at;
    }
    int k = io_sendmmsg(s->fd, m, n);
    if (k > 0) {
      off = end[k - 1];
      sent += (size_t)k;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    } else if (errno != EINTR) {
      off = end[0];
      sent++;
    }
  }
  if (off == s->out.len) {
    bq_reset(&s->out);
  } else if (off > 0) {
    memmove(s->out.buf, s->out.buf + off, s->out.len - off);
    s->out.len -= off;
    s->out.records -= sent;
  }
}

/* One engine call of a server, with what it queued sent at once when the
 * server has a socket of its own: ENGINE_CALL, flushed inside it. */
#define SERVER_CALL(s, rc, now, call)       \
  do {                                      \
    server_saw((s), (now));                 \
    (s)->busy = 1;                          \
    (s)->owner = PyThread_get_thread_ident(); \
    Py_BEGIN_ALLOW_THREADS                  \
    rc = (call);                            \
    io_flush(s);                            \
    Py_END_ALLOW_THREADS                    \
    (s)->busy = 0;                          \
  } while (0)

/* What pyserver_io_read stopped on: the datagram after which a callback
 * raised or the server returned an error (its address and code). */
typedef struct io_failure {
  int rc;
  socklen_t addr_len;
  struct sockaddr_storage addr;
} io_failure;

/* Reads datagrams from the attached socket (IO_MAX_READ at most, IO_BATCH
 * a syscall) and feeds each to the server, sending what each one queued.
 * Stops after a datagram whose callback raised (the exception is pending)
 * or whose receive failed (*fail), or that asked on_connect, so that Python
 * acts on the hook's answer (a close) before the next one; or before one
 * whose data the event queue has no room for. The rest of the batch waits
 * in io->buf for the next call (io->next < io->count: Python calls again).
 * A socket error (ICMP's port unreachable, from a peer gone) is taken and
 * reading goes on, as asyncio's transport goes on. Without the GIL, the
 * holder guarded. */
static void io_feed(pyserver *s, io_failure *fail) {
  pyio *io = s->io;
  unsigned taken = 0, errors = 0;
  for (;;) {
    if (io->next == io->count) {
      if (taken >= IO_MAX_READ) break;
      for (unsigned i = 0; i < IO_BATCH; i++) {
        io->m[i].msg_hdr.msg_namelen = sizeof io->addr[i];
        io->m[i].msg_hdr.msg_flags = 0;
        io->m[i].msg_hdr.msg_controllen = 0;
      }
      int n = io_recvmmsg(s->fd, io->m, IO_BATCH);
      if (n <= 0) {
        if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK || ++errors > IO_BATCH) break;
        continue; /* EINTR, or an error the socket reported: it is taken */
      }
      io->next = 0;
      io->count = (unsigned)n;
      taken += (unsigned)n;
    }
    unsigned i = io->next;
    if (s->srv == NULL) { /* the server is closed: read and dropped */
      io->next++;
      continue;
    }
    size_t len = io->m[i].msg_len;
    if (io->m[i].msg_hdr.msg_flags & MSG_TRUNC) len = IO_DGRAM;
    if (!bq_room(&s->ev, len)) break; /* Python takes the events first */
    io->next++;
    sdtls_time now = io_now(s);
    s->now = now;
    s->hook_ran = 0;
    socklen_t alen = io->m[i].msg_hdr.msg_namelen;
    if (alen > sizeof io->addr[i]) alen = sizeof io->addr[i];
    int rc = sdtls_server_receive(s->srv, (const uint8_t *)&io->addr[i], alen, io->buf[i], len, now);
    io_flush(s);
    if (rc != 0 || pending_type != NULL) {
      fail->rc = rc;
      fail->addr_len = alen;
      memcpy(&fail->addr, &io->addr[i], alen);
      break;
    }
    if (s->hook_ran) break;
  }
}

/* Closes the attached socket (after one last try at what waits to be
 * sent) and frees the receive side. */
static void io_detach(pyserver *s) {
  if (s->fd >= 0) {
    io_flush(s);
    close(s->fd);
    s->fd = -1;
    bq_reset(&s->out); /* what the socket could not take is dropped with it */
  }
  free(s->io);
  s->io = NULL;
  s->told_blocked = 0;
}

/* The next deadline as seconds of Python's time.monotonic(), or None, as
 * sdtls._connection._timer() converts it: the first double that converts
 * back (epoch + round(t * 1e9), Python's round: half to even) to no earlier
 * than the deadline, so that a timer run at it finds it due. */
static uint64_t io_round(double x) { /* 0 <= x < 2^63 */
  uint64_t i = (uint64_t)x;
  double f = x - (double)i;
  if (f > 0.5 || (f == 0.5 && (i & 1))) i++;
  return i;
}

static PyObject *io_deadline(pyserver *s) {
  sdtls_time d = s->srv != NULL ? sdtls_server_next_deadline(s->srv) : SDTLS_TIME_NEVER;
  s->reported = d;
  if (d == SDTLS_TIME_NEVER) Py_RETURN_NONE;
  uint64_t epoch = (uint64_t)s->epoch_ns;
  uint64_t rel = d > epoch ? d - epoch : 0;
  double t = (double)rel / 1e9;
  if (rel < ((uint64_t)1 << 62)) { /* (one 146 years away needs no exact nanosecond) */
    while (io_round(t * 1e9) < rel) {
      uint64_t bits;
      memcpy(&bits, &t, sizeof bits);
      bits++; /* the next double up: t is finite and not negative */
      memcpy(&t, &bits, sizeof t);
    }
  }
  return PyFloat_FromDouble(t);
}

/* Whether Python must take something after a send: events, a deadline
 * earlier than the one its timer waits for, a change of `blocked`, or
 * (without a socket) the datagrams to send. */
static int io_attention(const pyserver *s) {
  if (s->ev.len > 0 || s->lost) return 1;
  if (s->fd < 0) return s->out.len > 0;
  if ((s->out.len > 0) != s->told_blocked) return 1;
  return s->srv != NULL && sdtls_server_next_deadline(s->srv) < s->reported;
}

/* The exception a callback raised during the call, taken (normalized, its
 * traceback attached), or None. */
static PyObject *take_pending(void) {
  if (pending_type == NULL) Py_RETURN_NONE;
  PyObject *t = pending_type, *v = pending_value, *tb = pending_tb;
  pending_type = pending_value = pending_tb = NULL;
  PyErr_NormalizeException(&t, &v, &tb);
  if (v != NULL && tb != NULL) PyException_SetTraceback(v, tb);
  Py_XDECREF(t);
  Py_XDECREF(tb);
  if (v == NULL) Py_RETURN_NONE;
  return v;
}

/* The events as pyserver_take_events gives them, but an EV_DATA one as
 * (kind, id, data) only: the asyncio server hands its data to the peer
 * as it is, and builds no event object for it. */
static PyObject *server_events(pyserver *s) {
  if (s->lost) {
    s->lost = 0;
    bq_reset(&s->ev);
    return PyErr_NoMemory();
  }
  size_t n = 0, off = 0;
  int all_data = 1;
  while (off < s->ev.len) {
    qrec r;
    off += qrec_read(s->ev.buf + off, &r);
    all_data &= r.kind == EV_DATA;
    n++;
  }
  if (!all_data) return take_events(&s->ev, 1);
  PyObject *list = PyList_New((Py_ssize_t)n);
  if (list == NULL) return NULL;
  off = 0;
  for (size_t i = 0; i < n; i++) {
    qrec r;
    off += qrec_read(s->ev.buf + off, &r);
    PyObject *kind = PyLong_FromLong(EV_DATA);
    PyObject *id = PyLong_FromUnsignedLongLong((unsigned long long)r.id); /* as take_events */
    PyObject *data = PyBytes_FromStringAndSize((const char *)r.data, (Py_ssize_t)r.data_len);
    PyObject *t = kind != NULL && id != NULL && data != NULL ? PyTuple_Pack(3, kind, id, data) : NULL;
    Py_XDECREF(kind);
    Py_XDECREF(id);
    Py_XDECREF(data);
    if (t == NULL) {
      Py_DECREF(list);
      bq_reset(&s->ev);
      return NULL;
    }
    PyList_SetItem(list, (Py_ssize_t)i, t); /* steals */
  }
  bq_reset(&s->ev);
  return list;
}
%}

/* The holder API, used by python/src/sdtls/. Every function takes and
 * returns Python objects as they are. */
%typemap(in) uint64_t now_ns {
  unsigned long long v;
  int res = SWIG_AsVal_unsigned_SS_long_SS_long($input, &v);
  if (!SWIG_IsOK(res)) {
    PyErr_SetString(PyExc_TypeError, "now must be a non-negative int of nanoseconds");
    SWIG_fail;
  }
  $1 = (uint64_t)v;
}

%constant int SDTLSPY_E_BUSY = SDTLSPY_E_BUSY;
%constant int SDTLSPY_E_GONE = SDTLSPY_E_GONE;
%constant int SDTLSPY_E_OUT_FULL = SDTLSPY_E_OUT_FULL;
%constant int SDTLSPY_E_EVENTS_FULL = SDTLSPY_E_EVENTS_FULL;
%constant int SDTLSPY_QUEUE_MAX_RECORDS = BQ_MAX_RECORDS;
%constant int SDTLSPY_QUEUE_MAX_BYTES = (int)BQ_MAX_BYTES;
%constant int SDTLSPY_IO_MORE = IO_MORE;
%constant int SDTLSPY_IO_HOOK = IO_HOOK;
%constant int SDTLSPY_IO_BLOCKED = IO_BLOCKED;

%inline %{
/* A new config holder (capsule), or an int error. */
PyObject *pyconfig_new(void) {
  pyconfig *c = (pyconfig *)calloc(1, sizeof *c);
  pyhooks *k = (pyhooks *)calloc(1, sizeof *k);
  if (c == NULL || k == NULL) {
    free(c);
    free(k);
    return PyErr_NoMemory();
  }
  int rc = sdtls_config_new(&c->cfg);
  if (rc != 0) {
    free(c);
    free(k);
    return PyLong_FromLong(rc);
  }
  k->refs = 1;
  c->hooks = k;
  PyObject *cap = PyCapsule_New(c, "sdtls.config", pyconfig_capsule_free);
  if (cap == NULL) {
    sdtls_config_free(c->cfg);
    free(k);
    free(c);
  }
  return cap;
}

/* The raw handle, for the header's functions. Valid while the capsule is. */
sdtls_config *pyconfig_handle(PyObject *cap) {
  pyconfig *c = get_config(cap);
  return c ? c->cfg : NULL;
}

/* Sets (callable) or clears (None) the key log callback. Returns an int. */
PyObject *pyconfig_set_keylog(PyObject *cap, PyObject *callable) {
  pyconfig *c = get_config(cap);
  if (c == NULL) return NULL;
  int on = callable != Py_None;
  if (on && !PyCallable_Check(callable)) {
    PyErr_SetString(PyExc_TypeError, "keylog must be callable or None");
    return NULL;
  }
  int rc = sdtls_config_set_keylog(c->cfg, on ? keylog_trampoline : NULL, on ? c->hooks : NULL);
  if (rc == 0) {
    PyObject *old = c->hooks->keylog;
    if (on) Py_INCREF(callable);
    c->hooks->keylog = on ? callable : NULL;
    Py_XDECREF(old);
  }
  return PyLong_FromLong(rc);
}

/* Sets (callable) or clears (None) the PSK lookup. Returns an int. */
PyObject *pyconfig_set_psk_lookup(PyObject *cap, PyObject *callable) {
  pyconfig *c = get_config(cap);
  if (c == NULL) return NULL;
  int on = callable != Py_None;
  if (on && !PyCallable_Check(callable)) {
    PyErr_SetString(PyExc_TypeError, "psk_lookup must be callable or None");
    return NULL;
  }
  int rc = sdtls_config_set_psk_lookup(c->cfg, on ? psk_lookup_trampoline : NULL, on ? c->hooks : NULL);
  if (rc == 0) {
    PyObject *old = c->hooks->psk_lookup;
    if (on) Py_INCREF(callable);
    c->hooks->psk_lookup = on ? callable : NULL;
    Py_XDECREF(old);
  }
  return PyLong_FromLong(rc);
}

/* A new connection holder (capsule), or an int error. */
PyObject *pyconn_new(PyObject *config_cap, int role) {
  pyconfig *cfg = get_config(config_cap);
  if (cfg == NULL) return NULL;
  pyconn *c = (pyconn *)calloc(1, sizeof *c);
  if (c == NULL) return PyErr_NoMemory();
  sdtls_callbacks cb;
  memset(&cb, 0, sizeof cb);
  cb.size = sizeof cb;
  cb.send = conn_send_cb;
  cb.on_handshake_done = conn_on_handshake_done;
  cb.on_data = conn_on_data;
  cb.on_close = conn_on_close;
  int rc = sdtls_conn_new(cfg->cfg, (sdtls_role)role, &cb, c, &c->conn);
  if (rc != 0) {
    free(c);
    return PyLong_FromLong(rc);
  }
  c->hooks = hooks_ref(cfg->hooks);
  PyObject *cap = PyCapsule_New(c, "sdtls.conn", pyconn_capsule_free);
  if (cap == NULL) {
    sdtls_conn_free(c->conn);
    hooks_unref(c->hooks);
    free(c);
  }
  return cap;
}

/* fn(conn, *args) under the connection's guard (see guarded_query):
 * (0, result) or (SDTLSPY_E_BUSY, None). Every query and setter of a
 * connection goes through here. */
PyObject *pyconn_query(PyObject *cap, PyObject *fn, PyObject *args) {
  pyconn *c = get_conn(cap);
  if (c == NULL) return NULL;
  return guarded_query(&c->busy, &c->owner, c->conn, SWIGTYPE_p_sdtls_conn, fn, args);
}

PyObject *pyconn_start(PyObject *cap, uint64_t now_ns) {
  pyconn *c = get_conn(cap);
  if (c == NULL) return NULL;
  BUSY_CHECK(c);
  int rc;
  ENGINE_CALL(c, rc, sdtls_conn_start(c->conn, now_ns));
  return rc_result(rc);
}

PyObject *pyconn_receive(PyObject *cap, PyObject *data, uint64_t now_ns) {
  pyconn *c = get_conn(cap);
  if (c == NULL) return NULL;
  BUSY_CHECK(c);
  sdtlspy_bytes view;
  if (sdtlspy_borrow(data, &view) != 0) return NULL;
  if (!bq_room(&c->ev, (size_t)view.len)) {
    sdtlspy_release(&view);
    return PyLong_FromLong(SDTLSPY_E_EVENTS_FULL);
  }
  int rc;
  ENGINE_CALL(c, rc, sdtls_conn_receive(c->conn, (const uint8_t *)view.buf, (size_t)view.len, now_ns));
  sdtlspy_release(&view);
  return rc_result(rc);
}

PyObject *pyconn_send(PyObject *cap, PyObject *data, uint64_t now_ns) {
  pyconn *c = get_conn(cap);
  if (c == NULL) return NULL;
  BUSY_CHECK(c);
  sdtlspy_bytes view;
  if (sdtlspy_borrow(data, &view) != 0) return NULL;
  if (!bq_room(&c->out, (size_t)view.len)) {
    sdtlspy_release(&view);
    return PyLong_FromLong(SDTLSPY_E_OUT_FULL);
  }
  int rc;
  ENGINE_CALL(c, rc, sdtls_conn_send(c->conn, (const uint8_t *)view.buf, (size_t)view.len, now_ns));
  sdtlspy_release(&view);
  return rc_result(rc);
}

PyObject *pyconn_handle_timeout(PyObject *cap, uint64_t now_ns) {
  pyconn *c = get_conn(cap);
  if (c == NULL) return NULL;
  BUSY_CHECK(c);
  int rc;
  ENGINE_CALL(c, rc, sdtls_conn_handle_timeout(c->conn, now_ns));
  return rc_result(rc);
}

PyObject *pyconn_key_update(PyObject *cap, uint64_t now_ns) {
  pyconn *c = get_conn(cap);
  if (c == NULL) return NULL;
  BUSY_CHECK(c);
  int rc;
  ENGINE_CALL(c, rc, sdtls_conn_key_update(c->conn, now_ns));
  return rc_result(rc);
}

PyObject *pyconn_close(PyObject *cap, uint64_t now_ns) {
  pyconn *c = get_conn(cap);
  if (c == NULL) return NULL;
  BUSY_CHECK(c);
  int rc;
  ENGINE_CALL(c, rc, sdtls_conn_close(c->conn, now_ns));
  return rc_result(rc);
}

/* The next deadline in nanoseconds (SDTLS_TIME_NEVER for none). */
PyObject *pyconn_deadline(PyObject *cap) {
  pyconn *c = get_conn(cap);
  if (c == NULL) return NULL;
  BUSY_CHECK(c);
  return PyLong_FromUnsignedLongLong(sdtls_conn_next_deadline(c->conn));
}

/* Queued datagrams as a list of bytes (the queue is emptied), or an int. */
PyObject *pyconn_take_datagrams(PyObject *cap) {
  pyconn *c = get_conn(cap);
  if (c == NULL) return NULL;
  BUSY_CHECK(c);
  return take_datagrams(&c->out);
}

/* Queued events as a list of tuples (see take_events), or an int. */
PyObject *pyconn_take_events(PyObject *cap) {
  pyconn *c = get_conn(cap);
  if (c == NULL) return NULL;
  BUSY_CHECK(c);
  if (c->lost) {
    c->lost = 0;
    bq_reset(&c->ev);
    return PyErr_NoMemory();
  }
  return take_events(&c->ev, 0);
}

/* A new server holder (capsule), or an int error. on_connect is None or
 * on_connect(address, conn) -> bool (see ask_on_connect). */
PyObject *pyserver_new(PyObject *config_cap, PyObject *on_connect) {
  pyconfig *cfg = get_config(config_cap);
  if (cfg == NULL) return NULL;
  if (on_connect != Py_None && !PyCallable_Check(on_connect)) {
    PyErr_SetString(PyExc_TypeError, "on_connect must be callable or None");
    return NULL;
  }
  pyserver *s = (pyserver *)calloc(1, sizeof *s);
  if (s == NULL) return PyErr_NoMemory();
  slot_table_init(&s->slots);
  s->fd = -1;
  s->reported = SDTLS_TIME_NEVER;
  sdtls_server_callbacks cb;
  memset(&cb, 0, sizeof cb);
  cb.size = sizeof cb;
  cb.send = server_send_cb;
  cb.on_connect = server_on_connect;
  cb.on_handshake_done = server_on_handshake_done;
  cb.on_data = server_on_data;
  cb.on_close = server_on_close;
  int rc = sdtls_server_new(cfg->cfg, &cb, s, &s->srv);
  if (rc != 0) {
    free(s);
    return PyLong_FromLong(rc);
  }
  s->hooks = hooks_ref(cfg->hooks);
  if (on_connect != Py_None) {
    Py_INCREF(on_connect);
    s->on_connect = on_connect;
  }
  PyObject *cap = PyCapsule_New(s, "sdtls.server", pyserver_capsule_free);
  if (cap == NULL) {
    server_release(s);
    hooks_unref(s->hooks);
    Py_XDECREF(s->on_connect);
    free(s);
  }
  return cap;
}

/* Whether the C server is freed (pyserver_free). Reads only the holder. */
PyObject *pyserver_closed(PyObject *cap) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  return PyBool_FromLong(s->srv == NULL);
}

/* fn(server, *args) under the server's guard (see guarded_query):
 * (0, result), (SDTLSPY_E_BUSY, None) or (SDTLS_E_CLOSED, None) once the
 * server is freed. */
PyObject *pyserver_query(PyObject *cap, PyObject *fn, PyObject *args) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  if (s->srv == NULL) return query_refused(SDTLS_E_CLOSED);
  return guarded_query(&s->busy, &s->owner, s->srv, SWIGTYPE_p_sdtls_server, fn, args);
}

/* Frees the C server now (its connections too, without sending); the
 * holder stays, empty, until its capsule dies. Returns an int. */
PyObject *pyserver_free(PyObject *cap) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  BUSY_CHECK(s);
  server_release(s); /* datagrams already queued (close_notify) may still be taken */
  bq_reset(&s->ev);
  return PyLong_FromLong(0);
}

PyObject *pyserver_receive(PyObject *cap, PyObject *data, PyObject *addr, uint64_t now_ns) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  BUSY_CHECK(s);
  if (s->srv == NULL) return PyLong_FromLong(SDTLS_E_CLOSED);
  struct sockaddr_storage ss;
  size_t ss_len;
  if (addr_from_py(addr, &ss, &ss_len) != 0) return NULL;
  sdtlspy_bytes view;
  if (sdtlspy_borrow(data, &view) != 0) return NULL;
  s->now = now_ns;
  if (!bq_room(&s->ev, (size_t)view.len)) {
    sdtlspy_release(&view);
    return PyLong_FromLong(SDTLSPY_E_EVENTS_FULL);
  }
  int rc;
  SERVER_CALL(s, rc, now_ns, sdtls_server_receive(s->srv, (const uint8_t *)&ss, ss_len, (const uint8_t *)view.buf,
                                                  (size_t)view.len, now_ns));
  sdtlspy_release(&view);
  return rc_result(rc);
}

/* sdtls_server_pin_peer() for `addr` (a (host, port[, flowinfo,
 * scope_id]) tuple) and `fingerprint` (a str): an int. A str with a NUL
 * is refused whole rather than cut short. */
PyObject *pyserver_pin(PyObject *cap, PyObject *addr, PyObject *fingerprint) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  BUSY_CHECK(s);
  if (s->srv == NULL) return PyLong_FromLong(SDTLS_E_CLOSED);
  struct sockaddr_storage ss;
  size_t ss_len;
  if (addr_from_py(addr, &ss, &ss_len) != 0) return NULL;
  /* UTF-8 through a bytes object: PyUnicode_AsUTF8AndSize is in the limited
   * API from 3.10 only (the cp39-abi3 wheels). */
  PyObject *utf8 = PyUnicode_Check(fingerprint) ? PyUnicode_AsUTF8String(fingerprint) : NULL;
  char *text;
  Py_ssize_t n;
  if (utf8 == NULL || PyBytes_AsStringAndSize(utf8, &text, &n) != 0) {
    Py_XDECREF(utf8);
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "a fingerprint is a str");
    return NULL;
  }
  int rc = (size_t)n != strlen(text) ? SDTLS_E_INVALID_ARGUMENT
                                     : sdtls_server_pin_peer(s->srv, (const uint8_t *)&ss, ss_len, text);
  Py_DECREF(utf8);
  return PyLong_FromLong(rc);
}

/* sdtls_server_unpin_peer() for `addr`: how many pins it had, or an error
 * code (an int either way). */
PyObject *pyserver_unpin(PyObject *cap, PyObject *addr) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  BUSY_CHECK(s);
  if (s->srv == NULL) return PyLong_FromLong(SDTLS_E_CLOSED);
  struct sockaddr_storage ss;
  size_t ss_len;
  if (addr_from_py(addr, &ss, &ss_len) != 0) return NULL;
  return PyLong_FromLong(sdtls_server_unpin_peer(s->srv, (const uint8_t *)&ss, ss_len));
}

PyObject *pyserver_handle_timeout(PyObject *cap, uint64_t now_ns) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  BUSY_CHECK(s);
  if (s->srv == NULL) return PyLong_FromLong(SDTLS_E_CLOSED);
  int rc;
  SERVER_CALL(s, rc, now_ns, sdtls_server_handle_timeout(s->srv, now_ns));
  return rc_result(rc);
}

PyObject *pyserver_deadline(PyObject *cap) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  BUSY_CHECK(s);
  return PyLong_FromUnsignedLongLong(s->srv ? sdtls_server_next_deadline(s->srv) : SDTLS_TIME_NEVER);
}

/* Queued datagrams as a list of (bytes, address) tuples, or an int. */
PyObject *pyserver_take_datagrams(PyObject *cap) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  BUSY_CHECK(s);
  return take_server_datagrams(&s->out);
}

PyObject *pyserver_take_events(PyObject *cap) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  BUSY_CHECK(s);
  if (s->lost) {
    s->lost = 0;
    bq_reset(&s->ev);
    return PyErr_NoMemory();
  }
  return take_events(&s->ev, 1);
}

/* Whether the server still holds the connection `id`: 1 or 0, or
 * SDTLSPY_E_BUSY (the slots change under another thread's call). */
PyObject *pyserver_conn_alive(PyObject *cap, uint64_t id) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  if (used_by_another_thread(s->busy, s->owner)) return PyLong_FromLong(SDTLSPY_E_BUSY);
  return PyLong_FromLong(server_lookup(s, id) != NULL);
}

/* fn(conn, *args) on the server's connection `id`, under the server's
 * guard (see guarded_query): the lookup and the call are one step, so the
 * connection cannot be freed between them. (0, result), or
 * (SDTLSPY_E_BUSY or SDTLSPY_E_GONE, None). */
PyObject *pyserver_conn_query(PyObject *cap, uint64_t id, PyObject *fn, PyObject *args) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  if (used_by_another_thread(s->busy, s->owner)) return query_refused(SDTLSPY_E_BUSY);
  sdtls_conn *conn = server_lookup(s, id);
  if (conn == NULL) return query_refused(SDTLSPY_E_GONE);
  return guarded_query(&s->busy, &s->owner, conn, SWIGTYPE_p_sdtls_conn, fn, args);
}

PyObject *pyserver_conn_send(PyObject *cap, uint64_t id, PyObject *data, uint64_t now_ns) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  BUSY_CHECK(s);
  sdtls_conn *conn = server_lookup(s, id);
  if (conn == NULL) return PyLong_FromLong(SDTLSPY_E_GONE);
  sdtlspy_bytes view;
  if (sdtlspy_borrow(data, &view) != 0) return NULL;
  if (!bq_room(&s->out, (size_t)view.len)) {
    sdtlspy_release(&view);
    return PyLong_FromLong(SDTLSPY_E_OUT_FULL);
  }
  int rc;
  SERVER_CALL(s, rc, now_ns, sdtls_conn_send(conn, (const uint8_t *)view.buf, (size_t)view.len, now_ns));
  sdtlspy_release(&view);
  return rc_result(rc);
}

PyObject *pyserver_conn_key_update(PyObject *cap, uint64_t id, uint64_t now_ns) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  BUSY_CHECK(s);
  sdtls_conn *conn = server_lookup(s, id);
  if (conn == NULL) return PyLong_FromLong(SDTLSPY_E_GONE);
  int rc;
  SERVER_CALL(s, rc, now_ns, sdtls_conn_key_update(conn, now_ns));
  return rc_result(rc);
}

PyObject *pyserver_conn_close(PyObject *cap, uint64_t id, uint64_t now_ns) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  BUSY_CHECK(s);
  sdtls_conn *conn = server_lookup(s, id);
  if (conn == NULL) return PyLong_FromLong(0); /* already gone: closing twice is harmless */
  int rc;
  SERVER_CALL(s, rc, now_ns, sdtls_server_close_peer(s->srv, conn, now_ns));
  return rc_result(rc);
}
/* ---- a server's own socket (sdtls.aio's DTLSServer; see io_feed) -------- */

/* Gives the server its own UDP socket `fd` (bound, non-blocking), or none
 * (-1: the holder closes the one it had). On success the holder owns the
 * descriptor and closes it at the next attach, at pyserver_io_detach or
 * when the holder dies; on an error the caller still owns it. `epoch_ns`
 * sets the io calls' clock: epoch_ns + CLOCK_MONOTONIC nanoseconds (Python
 * passes sdtls._connection._EPOCH_NS). From then on every call that makes
 * the server send sends at once (the socket cannot take: it waits in the
 * queue, see io_flush). Returns an int. */
PyObject *pyserver_io_attach(PyObject *cap, int fd, long long epoch_ns) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  BUSY_CHECK(s);
  pyio *io = NULL;
  if (fd >= 0) {
    io = (pyio *)calloc(1, sizeof *io);
    if (io == NULL) return PyErr_NoMemory();
    for (unsigned i = 0; i < IO_BATCH; i++) {
      io->iov[i].iov_base = io->buf[i];
      io->iov[i].iov_len = IO_DGRAM;
      io->m[i].msg_hdr.msg_name = &io->addr[i];
      io->m[i].msg_hdr.msg_iov = &io->iov[i];
      io->m[i].msg_hdr.msg_iovlen = 1;
    }
  }
  io_detach(s);
  s->fd = fd >= 0 ? fd : -1;
  s->io = io;
  s->epoch_ns = (int64_t)epoch_ns;
  return PyLong_FromLong(0);
}

/* Closes the server's own socket, if it has one (what waits to be sent
 * gets one last try). Returns an int. */
PyObject *pyserver_io_detach(PyObject *cap) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  BUSY_CHECK(s);
  io_detach(s);
  return PyLong_FromLong(0);
}

/* What the event loop calls when the socket is readable: reads and feeds
 * a batch of datagrams (io_feed), and returns (events, deadline, flags,
 * failure): the events (server_events); the next
 * deadline in seconds of time.monotonic() when it is earlier than the one
 * reported last, else None (a timer armed for an earlier one finds out at
 * pyserver_io_drain, which always reports it); IO_MORE when datagrams
 * already read wait for another call (make it now: the socket may stay
 * quiet), IO_HOOK when on_connect ran (act on what it did, a close, before
 * the next datagram), IO_BLOCKED while datagrams wait for the socket to be
 * writable (`blocked`, see pyserver_io_drain); and None or (address, exception or None, code) for the datagram
 * after which a callback raised or the server failed. An int
 * (SDTLSPY_E_BUSY, or SDTLS_E_STATE without a socket) when nothing was
 * read. Once the server is closed, reads and drops. */
PyObject *pyserver_io_read(PyObject *cap) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  BUSY_CHECK(s);
  if (s->fd < 0 || s->io == NULL) return PyLong_FromLong(SDTLS_E_STATE);
  io_failure fail;
  fail.rc = 0;
  fail.addr_len = 0;
  s->hook_ran = 0;
  s->busy = 1;
  s->owner = PyThread_get_thread_ident();
  Py_BEGIN_ALLOW_THREADS
  io_feed(s, &fail);
  Py_END_ALLOW_THREADS
  s->busy = 0;
  PyObject *failure;
  if (pending_type != NULL || fail.rc != 0) {
    PyObject *exc = take_pending();
    PyObject *addr = addr_to_py((const uint8_t *)&fail.addr, fail.addr_len);
    failure = exc != NULL && addr != NULL ? Py_BuildValue("(NNi)", addr, exc, fail.rc) : NULL;
    if (failure == NULL) {
      Py_XDECREF(exc);
      Py_XDECREF(addr);
      return NULL;
    }
  } else {
    Py_INCREF(Py_None);
    failure = Py_None;
  }
  PyObject *events = server_events(s);
  PyObject *deadline = NULL;
  if (events != NULL) {
    if (s->srv != NULL && sdtls_server_next_deadline(s->srv) < s->reported) {
      deadline = io_deadline(s);
    } else {
      Py_INCREF(Py_None);
      deadline = Py_None;
    }
  }
  if (deadline == NULL) {
    Py_XDECREF(events);
    Py_DECREF(failure);
    return NULL;
  }
  s->told_blocked = s->out.len > 0;
  int flags = (s->io->next < s->io->count ? IO_MORE : 0) | (s->hook_ran ? IO_HOOK : 0) |
              (s->told_blocked ? IO_BLOCKED : 0);
  PyObject *f = PyLong_FromLong(flags);
  PyObject *r = f != NULL ? PyTuple_Pack(4, events, deadline, f, failure) : NULL;
  Py_DECREF(events);
  Py_DECREF(deadline);
  Py_XDECREF(f);
  Py_DECREF(failure);
  return r;
}

/* A handler's send to the connection `id`: encrypts `data` and sends it
 * (with a socket; else queues it), in one call. Returns 0 when there is
 * nothing more to do, 1 when Python must call pyserver_io_drain (see
 * io_attention), or a negative code as pyserver_conn_send's. */
PyObject *pyserver_io_send(PyObject *cap, uint64_t id, PyObject *data) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  BUSY_CHECK(s);
  sdtls_conn *conn = server_lookup(s, id);
  if (conn == NULL) return PyLong_FromLong(SDTLSPY_E_GONE);
  sdtlspy_bytes view;
  if (sdtlspy_borrow(data, &view) != 0) return NULL;
  if (s->fd < 0 && !bq_room(&s->out, (size_t)view.len)) {
    sdtlspy_release(&view);
    return PyLong_FromLong(SDTLSPY_E_OUT_FULL);
  }
  sdtls_time now = io_now(s);
  int rc;
  SERVER_CALL(s, rc, now, sdtls_conn_send(conn, (const uint8_t *)view.buf, (size_t)view.len, now));
  sdtlspy_release(&view);
  if (raise_pending()) return NULL;
  return PyLong_FromLong(rc != 0 ? rc : io_attention(s));
}

/* After a timer, a close, a send that asked for it, or when the socket
 * became writable: sends what waits (with a socket) and returns (events,
 * deadline, blocked, datagrams): the events as server_events gives them,
 * datagrams being None with a socket and
 * the (data, address) list to send without one; or an int
 * (SDTLSPY_E_BUSY) that takes nothing. */
PyObject *pyserver_io_drain(PyObject *cap) {
  pyserver *s = get_server(cap);
  if (s == NULL) return NULL;
  BUSY_CHECK(s);
  if (s->fd >= 0 && s->out.len > 0) {
    s->busy = 1;
    s->owner = PyThread_get_thread_ident();
    Py_BEGIN_ALLOW_THREADS
    io_flush(s);
    Py_END_ALLOW_THREADS
    s->busy = 0;
  }
  PyObject *events = server_events(s);
  if (events == NULL) return NULL;
  PyObject *datagrams;
  if (s->fd < 0) {
    datagrams = take_server_datagrams(&s->out);
    if (datagrams == NULL) {
      Py_DECREF(events);
      return NULL;
    }
  } else {
    Py_INCREF(Py_None);
    datagrams = Py_None;
  }
  PyObject *deadline = io_deadline(s);
  if (deadline == NULL) {
    Py_DECREF(events);
    Py_DECREF(datagrams);
    return NULL;
  }
  s->told_blocked = s->fd >= 0 && s->out.len > 0;
  return Py_BuildValue("(NNiN)", events, deadline, s->told_blocked, datagrams);
}
%}
