// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import dev.sdtls.internal.SWIGTYPE_p_jconn;
import dev.sdtls.internal.SWIGTYPE_p_sdtls_conn;
import dev.sdtls.internal.SdtlsNative;
import dev.sdtls.internal.sdtls_role;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One DTLS association with one peer, sans-I/O: it never touches a socket
 * or a clock. The application
 * <ul>
 *   <li>feeds every datagram from the peer to {@link #receive},
 *   <li>sends every datagram that {@link #pollDatagram} (or
 *       {@link #datagramsToSend}) hands out,
 *   <li>passes the time into every call that may need it, asks
 *       {@link #nextDeadline} when the connection next needs to act and
 *       calls {@link #handleTimeout} then,
 *   <li>takes what happened (handshake done, data, end) from
 *       {@link #pollEvent}.
 * </ul>
 *
 * <p>Time is a count of nanoseconds: {@link Time#now()} (sdtls.h's one
 * clock, which shared session tickets need), or a test's virtual clock;
 * never negative, never going backwards for one connection.
 *
 * <p>{@link #close()} frees the connection (without sending; call
 * {@link #shutdown} first for an orderly end); a connection that is never
 * closed is freed when it becomes unreachable. Methods are synchronized: one
 * thread at a time uses the C connection, as the library requires.
 *
 * <p>{@link #receive} and {@link #handleTimeout} throw only for misuse; the
 * end of the connection, whatever ended it, is an {@link Event.Closed}.
 */
public final class Connection implements AutoCloseable {
  static {
    NativeLibrary.load();
  }

  private static final int EV_HANDSHAKE_DONE = SdtlsNative.EV_HANDSHAKE_DONE;
  private static final int EV_DATA = SdtlsNative.EV_DATA;
  private static final int EV_CLOSE = SdtlsNative.EV_CLOSE;

  private final SWIGTYPE_p_jconn holder;
  private final SWIGTYPE_p_sdtls_conn conn;
  private final Role role;
  private final Cleaner.Cleanable cleanable;
  private final ArrayDeque<byte[]> datagrams = new ArrayDeque<>();
  private final ArrayDeque<Event> events = new ArrayDeque<>();
  private boolean closed;

  private Connection(Config config, Role role) {
    Objects.requireNonNull(config, "config");
    SWIGTYPE_p_jconn[] out = new SWIGTYPE_p_jconn[1];
    int rc;
    synchronized (config) {
      rc = SdtlsNative.jconn_new(config.holder(),
          role == Role.CLIENT ? sdtls_role.SDTLS_ROLE_CLIENT : sdtls_role.SDTLS_ROLE_SERVER, out);
      Reference.reachabilityFence(config);
    }
    if (rc != 0) {
      throw new SdtlsException(rc, "");
    }
    this.holder = out[0];
    this.conn = SdtlsNative.jconn_handle(holder);
    this.role = role;
    SWIGTYPE_p_jconn h = holder;
    this.cleanable = Config.CLEANER.register(this, () -> SdtlsNative.jconn_free(h));
  }

  /**
   * A client connection. With peer verification on (the default) the
   * server's certificate must hold {@code serverName}; null sends no name
   * (for fingerprint pinning or a config that does not verify).
   */
  public static Connection client(Config config, String serverName) {
    Connection c = new Connection(config, Role.CLIENT);
    if (serverName != null) {
      try {
        c.check(SdtlsNative.sdtls_conn_set_server_name(c.conn, serverName));
      } catch (RuntimeException e) {
        c.close();
        throw e;
      }
    }
    return c;
  }

  /** A server connection (one peer; the config needs a certificate or a PSK). */
  public static Connection server(Config config) {
    return new Connection(config, Role.SERVER);
  }

  /** Starts the handshake: a client's first flight is then ready to send; a server waits. */
  public synchronized void start(long now) {
    run(c -> check(SdtlsNative.sdtls_conn_start(c, time(now))));
  }

  /** Feeds one datagram from the peer (not retained). */
  public synchronized void receive(byte[] datagram, long now) {
    Objects.requireNonNull(datagram, "datagram");
    run(c -> checkUsage(
        limited(SdtlsNative.jconn_receive(holder, datagram, time(now)), "events", "pollEvent()")));
  }

  /**
   * Sends {@code data} as one record in one datagram (then ready to send).
   * Throws before the handshake is done, for more than
   * {@link #maxDataSize()} bytes, and the connection's error once it has
   * ended.
   */
  public synchronized void send(byte[] data, long now) {
    Objects.requireNonNull(data, "data");
    run(c -> check(
        limited(SdtlsNative.jconn_send(holder, data, time(now)), "datagrams", "pollDatagram()")));
  }

  /** When {@link #handleTimeout} must be called next, in the caller's nanoseconds; empty for never. */
  public synchronized OptionalLong nextDeadline() {
    return Queries.deadline(query(SdtlsNative::sdtls_conn_next_deadline));
  }

  /** Acts on expired timers: retransmits, or ends a handshake that took too long. */
  public synchronized void handleTimeout(long now) {
    run(c -> checkUsage(SdtlsNative.sdtls_conn_handle_timeout(c, time(now))));
  }

  /** Sends close_notify (then ready to send) when connected, and closes; twice is harmless. */
  public synchronized void shutdown(long now) {
    run(c -> checkUsage(SdtlsNative.sdtls_conn_close(c, time(now))));
  }

  /** The next datagram to send to the peer, or null when there is none. */
  public synchronized byte[] pollDatagram() {
    return Queues.poll(datagrams, this::fetchDatagrams);
  }

  /** Every datagram to send to the peer, in order (emptied). */
  public synchronized List<byte[]> datagramsToSend() {
    return Queues.drain(datagrams, this::fetchDatagrams);
  }

  /** The next event, or null when there is none. */
  public synchronized Event pollEvent() {
    return Queues.poll(events, this::fetchEvents);
  }

  /** The connection's state. */
  public synchronized State state() {
    try {
      return State.values()[SdtlsNative.sdtls_conn_state(live()).swigValue()];
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /** The role it was made with. */
  public Role role() {
    return role;
  }

  /** The negotiated protocol version ("DTLSv1.2"), or null before the handshake is done. */
  public synchronized String version() {
    try {
      return SdtlsNative.sdtls_conn_version(live());
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /** The negotiated cipher suite (IANA name), or null before the handshake is done. */
  public synchronized String cipher() {
    try {
      return SdtlsNative.sdtls_conn_cipher(live());
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /** The largest {@link #send} now accepts, or 0 before the handshake is done. */
  public synchronized int maxDataSize() {
    try {
      return (int) SdtlsNative.sdtls_conn_max_data_size(live());
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /** The human-readable detail of the last failure, or "". */
  public synchronized String errorDetail() {
    try {
      return SdtlsNative.sdtls_conn_error_detail(live());
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /** The peer's leaf certificate (DER), or null when it sent none or the handshake is not done. */
  public synchronized byte[] peerCertificate() {
    try {
      byte[][] der = new byte[1][];
      return SdtlsNative.sdtls_conn_peer_certificate(live(), der) == 0 ? der[0] : null;
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /**
   * RFC 5705 keying material: {@code length} bytes (at least 1, else an
   * IllegalArgumentException) for {@code label} and an optional
   * {@code context} (null is no context, unlike an empty one). Only once
   * connected (else an SdtlsException with SDTLS_E_STATE).
   */
  public byte[] exportKeyingMaterial(String label, byte[] context, int length) {
    return query(c -> Queries.exportKeyingMaterial(c, label, context, length));
  }

  /** The SHA-256 fingerprint of the peer's certificate ("AB:CD:..."), or null when it sent none. */
  public String peerFingerprint() {
    return query(Queries::peerFingerprint);
  }

  /** The fingerprint of the peer's certificate in {@code hash}, or null when it sent none. */
  public Fingerprint peerCertificateFingerprint(Fingerprint.Hash hash) {
    return query(c -> Fingerprint.ofPeer(c, hash));
  }

  /** The ALPN protocol the handshake selected, or null (none, or not done). */
  public String alpn() {
    return query(SdtlsNative::sdtls_conn_alpn);
  }

  /**
   * The key exchange group the handshake used ("X25519"), or null (not
   * done, or no key exchange: a resumed DTLS 1.2 session, plain PSK).
   */
  public String group() {
    return query(SdtlsNative::sdtls_conn_group);
  }

  /** The PSK identity the handshake used, or null (no PSK suite, or not done). */
  public String pskIdentity() {
    return query(SdtlsNative::sdtls_conn_psk_identity);
  }

  /** The negotiated SRTP profile, or null (no DTLS-SRTP, or not done). */
  public SrtpProfile srtpProfile() {
    return query(Queries::srtpProfile);
  }

  /** The SRTP keying material of the negotiated profile, or null when none was negotiated. */
  public SrtpKeying srtpKeying() {
    return query(Queries::srtpKeying);
  }

  /** Whether the handshake resumed a session ({@link #setSession}). */
  public boolean sessionResumed() {
    return query(c -> SdtlsNative.sdtls_conn_session_resumed(c) != 0);
  }

  /**
   * Client: the session of the finished handshake, for {@link #setSession}
   * on a later connection to the same server; null when there is none (not
   * done, or the server issued no ticket; with DTLS 1.3 the ticket comes
   * after the handshake: ask once data has flowed). The bytes hold the
   * session's master secret: keep them as secret as a key.
   */
  public byte[] session() {
    return query(c -> {
      byte[][] out = new byte[1][];
      int rc = SdtlsNative.sdtls_conn_get_session(c, out);
      if (rc == SdtlsNative.SDTLS_E_STATE) {
        return null;
      }
      check(rc);
      return out[0];
    });
  }

  /**
   * Client, before {@link #start}: offers a session from {@link #session()}
   * of an earlier connection. If the server still accepts it the handshake
   * is abbreviated ({@link #sessionResumed()}); if not, a full one follows.
   */
  public void setSession(byte[] session) {
    Objects.requireNonNull(session, "session");
    query(c -> {
      int rc = SdtlsNative.sdtls_conn_set_session(c, session);
      if (rc != 0) {
        throw new SdtlsException(rc, rc == SdtlsNative.SDTLS_E_INVALID_ARGUMENT ? "not a session" : "");
      }
      return null;
    });
  }

  /**
   * Expects the peer's certificate to have this SHA-256 fingerprint, for
   * this connection only (WebRTC: each peer's SDP brings its own), as
   * {@link Config#peerFingerprint} takes it. Before {@link #start} (a
   * server: before the first datagram).
   */
  public void addPeerFingerprint(String fingerprint) {
    Objects.requireNonNull(fingerprint, "fingerprint");
    String f = Config.fingerprintArg(fingerprint);
    query(c -> {
      int rc = SdtlsNative.sdtls_conn_add_peer_fingerprint(c, f);
      if (rc != 0) {
        throw new SdtlsException(rc, "fingerprint " + fingerprint);
      }
      return null;
    });
  }

  /**
   * DTLS 1.3: sends a KeyUpdate (then ready to send), so that this side's
   * records use fresh keys, and asks the peer to renew its own; it is
   * retransmitted until acknowledged, so keep serving {@link #nextDeadline}.
   * Throws {@code SDTLS_E_UNSUPPORTED} on a DTLS 1.2 connection and
   * {@code SDTLS_E_STATE} before the handshake is done.
   */
  public void keyUpdate(long now) {
    run(c -> check(SdtlsNative.sdtls_conn_key_update(c, time(now))));
  }

  /** One call on the live C connection, under this object's lock. */
  private synchronized <T> T query(Function<SWIGTYPE_p_sdtls_conn, T> f) {
    return Queries.fenced(this, live(), f);
  }

  /** {@link #query} for a call that returns nothing. */
  private void run(Consumer<SWIGTYPE_p_sdtls_conn> f) {
    query(Queries.returningNull(f));
  }

  /**
   * Frees the connection without sending (its keys are wiped); datagrams
   * and events not yet taken are dropped. Closing twice is harmless.
   */
  @Override
  public synchronized void close() {
    closed = true;
    datagrams.clear();
    events.clear();
    cleanable.clean();
  }

  @Override
  public String toString() {
    synchronized (this) {
      return "Connection[" + role + " " + (closed ? "freed" : state()) + "]";
    }
  }

  // ---- the queues -----------------------------------------------------------

  /** The holder's datagram queue: [uint32 len, native order][bytes] ... */
  private void fetchDatagrams() {
    byte[] raw = query(c -> SdtlsNative.jconn_take_datagrams(holder));
    if (raw == null) {
      return;
    }
    ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder());
    while (b.hasRemaining()) {
      byte[] d = new byte[b.getInt()];
      b.get(d);
      datagrams.add(d);
    }
  }

  /** The holder's event queue (records of bindings/sdtls.i: {@link QueuedRecord}). */
  private void fetchEvents() {
    int[] lost = new int[1];
    byte[] raw = query(c -> SdtlsNative.jconn_take_events(holder, lost));
    for (QueuedRecord r : QueuedRecord.all(raw)) {
      if (r.kind() == EV_DATA) {
        events.add(new Event.Data(r.data()));
      } else if (r.kind() == EV_HANDSHAKE_DONE) {
        events.add(new Event.HandshakeDone(r.version(), r.cipher()));
      } else if (r.kind() == EV_CLOSE) {
        events.add(new Event.Closed(r.reason(), r.detail()));
      }
    }
    QueuedRecord.checkLost(lost[0]);
  }

  // ---- helpers ----------------------------------------------------------------

  private SWIGTYPE_p_sdtls_conn live() {
    if (closed) {
      throw new IllegalStateException("the connection is closed (freed)");
    }
    return conn;
  }

  private static long time(long now) {
    return Time.checked(now);
  }

  /**
   * The error of a send or receive refused because the queue it adds to
   * holds {@code JQUEUE_MAX_RECORDS} records or {@code JQUEUE_MAX_BYTES}
   * bytes: nothing was sent or fed, nothing queued is lost.
   */
  static SdtlsException queueFull(String what, String drain) {
    return new SdtlsException(SdtlsNative.SDTLS_E_LIMIT,
        "queue of " + what + " full (" + SdtlsNative.JQUEUE_MAX_RECORDS + " records or "
            + (SdtlsNative.JQUEUE_MAX_BYTES >> 20) + " MiB): take them with " + drain
            + " first; nothing was sent or lost");
  }

  /** {@code rc}, unless it is {@code SDTLS_E_LIMIT}: then {@link #queueFull} is thrown. */
  static int limited(int rc, String what, String drain) {
    if (rc == SdtlsNative.SDTLS_E_LIMIT) {
      throw queueFull(what, drain);
    }
    return rc;
  }

  /** Throws the connection's error for any failure. */
  private void check(int rc) {
    if (rc != 0) {
      throw new SdtlsException(rc, rc == SdtlsNative.SDTLS_E_INVALID_ARGUMENT ? "" : errorDetail());
    }
  }

  /** Throws only for misuse and internal failures; an ended connection is an event. */
  private void checkUsage(int rc) {
    if (rc == 0) {
      return;
    }
    SdtlsException.Category c = SdtlsException.categoryOf(rc);
    if (c == SdtlsException.Category.USAGE || c == SdtlsException.Category.INTERNAL) {
      throw new SdtlsException(rc, errorDetail());
    }
  }
}
