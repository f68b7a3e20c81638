// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import dev.sdtls.internal.SWIGTYPE_p_jserver;
import dev.sdtls.internal.SWIGTYPE_p_sdtls_conn;
import dev.sdtls.internal.SWIGTYPE_p_sdtls_server;
import dev.sdtls.internal.SdtlsNative;
import dev.sdtls.internal.sdtls_server_counter;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Many DTLS peers behind one UDP socket, sans-I/O: it never touches a
 * socket or a clock. The application
 * <ul>
 *   <li>feeds every datagram the socket receives, with its source address,
 *       to {@link #receive},
 *   <li>sends every datagram that {@link #pollDatagram} (or
 *       {@link #datagramsToSend}) hands out to its address,
 *   <li>asks {@link #nextDeadline} when the server next needs to act and
 *       calls {@link #handleTimeout} then (retransmissions, handshake
 *       timeouts, idle evictions of every peer),
 *   <li>takes what happened from {@link #pollEvent}: each event names the
 *       peer's {@link ServerConnection}, through which it replies.
 * </ul>
 *
 * <p>Unknown peers get a stateless cookie exchange; a connection is made
 * only for a verified ClientHello ({@link ServerEvent.PeerConnected}). The
 * server owns its connections: one ends with its
 * {@link ServerEvent.Closed}, and all end when the server is closed.
 *
 * <p>{@link #close()} frees the server and every connection (without
 * sending; call {@link #shutdown} first for an orderly end); a server that
 * is never closed is freed when it becomes unreachable (its connections'
 * views keep it reachable). Methods are synchronized, those of its
 * connections too (on the server): one thread at a time uses the C server.
 */
public final class Server implements AutoCloseable {
  static {
    NativeLibrary.load();
  }

  private static final int EV_CONNECT = SdtlsNative.EV_CONNECT;
  private static final int EV_HANDSHAKE_DONE = SdtlsNative.EV_HANDSHAKE_DONE;
  private static final int EV_DATA = SdtlsNative.EV_DATA;
  private static final int EV_CLOSE = SdtlsNative.EV_CLOSE;

  /** One datagram to send, and where to. */
  public record Datagram(byte[] data, InetSocketAddress address) {}

  /** The server's counters (the values of {@code sdtls_server_counter}). */
  public enum Counter {
    /** HelloVerifyRequests and HelloRetryRequests sent. */
    COOKIES_SENT(sdtls_server_counter.SDTLS_COUNTER_COOKIES_SENT),
    /** ClientHellos with a bad cookie. */
    COOKIES_REJECTED(sdtls_server_counter.SDTLS_COUNTER_COOKIES_REJECTED),
    /** Connections made. */
    CONNECTIONS_CREATED(sdtls_server_counter.SDTLS_COUNTER_CONNECTIONS_CREATED),
    /** Connections ended by a close or an error. */
    CONNECTIONS_CLOSED(sdtls_server_counter.SDTLS_COUNTER_CONNECTIONS_CLOSED),
    /** Connections evicted by an idle or handshake timeout. */
    CONNECTIONS_EVICTED(sdtls_server_counter.SDTLS_COUNTER_CONNECTIONS_EVICTED),
    /** Datagrams that were not parsable DTLS. */
    DROPPED_MALFORMED(sdtls_server_counter.SDTLS_COUNTER_DROPPED_MALFORMED),
    /** Datagrams from unknown peers that were not a ClientHello. */
    DROPPED_UNKNOWN_PEER(sdtls_server_counter.SDTLS_COUNTER_DROPPED_UNKNOWN_PEER),
    /** ClientHellos dropped at the peer or handshake limit. */
    DROPPED_LIMIT(sdtls_server_counter.SDTLS_COUNTER_DROPPED_LIMIT),
    /** Connections now (a gauge). */
    PEERS(sdtls_server_counter.SDTLS_COUNTER_PEERS);

    private final sdtls_server_counter c;

    Counter(sdtls_server_counter c) {
      this.c = c;
    }
  }

  private final SWIGTYPE_p_jserver holder;
  private final SWIGTYPE_p_sdtls_server srv;
  private final Cleaner.Cleanable cleanable;
  private final ArrayDeque<Datagram> datagrams = new ArrayDeque<>();
  private final ArrayDeque<ServerEvent> events = new ArrayDeque<>();
  private final Map<Long, ServerConnection> views = new HashMap<>();
  private boolean closed;

  /**
   * A server with the config's settings (it needs a certificate or a PSK).
   * The config is frozen, and may be closed while the server lives.
   */
  public Server(Config config) {
    Objects.requireNonNull(config, "config");
    SWIGTYPE_p_jserver[] out = new SWIGTYPE_p_jserver[1];
    int rc;
    synchronized (config) {
      rc = SdtlsNative.jserver_new(config.holder(), out);
      Reference.reachabilityFence(config);
    }
    if (rc != 0) {
      throw new SdtlsException(rc, rc == SdtlsNative.SDTLS_E_CREDENTIALS ? "a server needs a certificate or a PSK" : "");
    }
    holder = out[0];
    srv = SdtlsNative.jserver_handle(holder);
    SWIGTYPE_p_jserver h = holder;
    cleanable = Config.CLEANER.register(this, () -> SdtlsNative.jserver_free(h));
  }

  /**
   * Feeds one datagram received from {@code from} (not retained). The
   * peer's handshake, data and end are events. Throws only for misuse
   * (an unresolved address ...).
   */
  public synchronized void receive(byte[] datagram, InetSocketAddress from, long now) {
    Objects.requireNonNull(datagram, "datagram");
    InetAddress ip = ip(from);
    run(s -> check(Connection.limited(
        SdtlsNative.jserver_receive(holder, ip.getAddress(), from.getPort(), scope(ip), datagram, time(now)),
        "events", "pollEvent()")));
  }

  /** The next datagram to send, or null when there is none. */
  public synchronized Datagram pollDatagram() {
    return Queues.poll(datagrams, this::fetchDatagrams);
  }

  /** Every datagram to send, in order (emptied). */
  public synchronized List<Datagram> datagramsToSend() {
    return Queues.drain(datagrams, this::fetchDatagrams);
  }

  /** The next event, or null when there is none. */
  public synchronized ServerEvent pollEvent() {
    return Queues.poll(events, this::fetchEvents);
  }

  /** When {@link #handleTimeout} must be called next, in the caller's nanoseconds; empty for never. */
  public synchronized OptionalLong nextDeadline() {
    return Queries.deadline(query(SdtlsNative::sdtls_server_next_deadline));
  }

  /** Retransmissions, handshake timeouts and idle evictions due by {@code now}. */
  public synchronized void handleTimeout(long now) {
    run(s -> check(SdtlsNative.sdtls_server_handle_timeout(s, time(now))));
  }

  /** The peers the server holds now (their events stay queued for {@link #pollEvent}). */
  public synchronized List<ServerConnection> connections() {
    fetchEvents();
    List<ServerConnection> all = new ArrayList<>();
    for (ServerConnection v : views.values()) {
      if (conn(v.id()) != null) {
        all.add(v);
      }
    }
    return all;
  }

  /** A counter's value. */
  public synchronized long counter(Counter counter) {
    return query(s -> SdtlsNative.sdtls_server_counter_get(s, counter.c));
  }

  /**
   * Replaces the cookie secret (16..64 bytes): the old one stays accepted
   * for one more cookie lifetime. Servers behind one address that share a
   * secret accept each other's cookies.
   */
  public synchronized void cookieSecret(byte[] secret, long now) {
    Objects.requireNonNull(secret, "secret");
    run(s -> {
      int rc = SdtlsNative.sdtls_server_set_cookie_secret(s, secret, time(now));
      if (rc != 0) {
        throw new SdtlsException(rc, "a cookie secret is 16..64 bytes");
      }
    });
  }

  /**
   * Expects every connection made from now on for the peer at {@code peer}
   * to present a certificate with this fingerprint (sha-256, sha-384 or
   * sha-512; "sha-256 AB:CD:..." as SDP writes it, or any form
   * {@link Fingerprint#parse} takes): WebRTC's per-peer pin, beside those of
   * the config. The check replaces the CA chain check, and the server asks
   * that peer for a certificate; a mismatch fails the handshake with
   * {@code SDTLS_E_VERIFY}. At most 16 per address (more throw
   * {@code SDTLS_E_LIMIT}); pinning one the address has already changes
   * nothing. An IPv4 address and its IPv4-mapped IPv6 form are one address
   * here. The pins stay until {@link #unpinPeer}; a connection already made
   * is not affected. The table is the C server's
   * ({@code sdtls_server_pin_peer()}): constant time per pin, however many
   * peers are pinned.
   */
  public synchronized void pinPeerFingerprint(InetSocketAddress peer, String fingerprint) {
    Objects.requireNonNull(fingerprint, "fingerprint");
    // Parsed here, by the C library, so that a bad one is refused now
    // rather than when the peer connects; handed on in SDP's form.
    String f = Fingerprint.parse(fingerprint.strip()).toString();
    InetAddress ip = ip(peer);
    run(s -> check(SdtlsNative.jserver_pin(holder, ip.getAddress(), peer.getPort(), scope(ip), f)));
  }

  /**
   * Removes the fingerprints pinned for {@code peer}; returns how many there
   * were. Connections already made keep theirs.
   */
  public synchronized int unpinPeer(InetSocketAddress peer) {
    InetAddress ip = ip(peer);
    return query(s -> {
      int n = SdtlsNative.jserver_unpin(holder, ip.getAddress(), peer.getPort(), scope(ip));
      check(Math.min(n, 0));
      return n;
    });
  }

  private static InetAddress ip(InetSocketAddress a) {
    Objects.requireNonNull(a, "address");
    InetAddress ip = a.getAddress();
    if (ip == null) {
      throw new IllegalArgumentException("an unresolved address: " + a);
    }
    return ip;
  }

  private static int scope(InetAddress ip) {
    return ip instanceof Inet6Address a6 ? a6.getScopeId() : 0;
  }

  /**
   * Sends close_notify to every peer (then ready to send) and removes them:
   * a {@link ServerEvent.Closed} follows for each. The server stays open
   * for new peers; {@link #close()} frees it.
   */
  public synchronized void shutdown(long now) {
    run(s -> check(SdtlsNative.jserver_close_all(holder, time(now))));
  }

  /**
   * Frees the server and every connection without sending; datagrams and
   * events not yet taken are dropped, and the connections' views go dead.
   * Closing twice is harmless.
   */
  @Override
  public synchronized void close() {
    closed = true;
    datagrams.clear();
    events.clear();
    views.clear();
    cleanable.clean();
  }

  /** Whether {@link #close()} was called. */
  public synchronized boolean isClosed() {
    return closed;
  }

  @Override
  public synchronized String toString() {
    return "Server[" + (closed ? "freed" : counter(Counter.PEERS) + " peers") + "]";
  }

  // ---- for ServerConnection (under this object's lock) ---------------------------

  /** The C connection named by id, or null when it has ended; the server is open. */
  SWIGTYPE_p_sdtls_conn conn(long id) {
    try {
      return SdtlsNative.jserver_conn(holder, id);
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /** The C connection named by id; throws when the server is closed or the connection ended. */
  SWIGTYPE_p_sdtls_conn liveConn(long id) {
    live();
    SWIGTYPE_p_sdtls_conn c = conn(id);
    if (c == null) {
      throw new SdtlsException(SdtlsNative.SDTLS_E_CLOSED, "the peer's connection has ended");
    }
    return c;
  }

  void closePeer(SWIGTYPE_p_sdtls_conn c, long now) {
    try {
      check(SdtlsNative.sdtls_server_close_peer(srv, c, now));
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /** A connection's send, refused when the server's queue of datagrams is full. */
  int send(SWIGTYPE_p_sdtls_conn c, byte[] data, long now) {
    return Connection.limited(
        SdtlsNative.jserver_conn_send(holder, c, data, time(now)), "datagrams", "pollDatagram()");
  }

  void fence() {
    Reference.reachabilityFence(this);
  }

  static long time(long now) {
    return Time.checked(now);
  }

  // ---- the queues --------------------------------------------------------------------

  /** EV_DATAGRAM records (bindings/sdtls.i: {@link QueuedRecord}). */
  private void fetchDatagrams() {
    byte[] raw = query(s -> SdtlsNative.jserver_take_datagrams(holder));
    InetSocketAddress last = null;
    byte[] lastRaw = null;
    for (QueuedRecord r : QueuedRecord.all(raw)) {
      byte[] a = r.address();
      if (lastRaw == null || !Arrays.equals(a, lastRaw)) { // a flight goes to one peer
        last = address(a);
        lastRaw = a;
      }
      datagrams.add(new Datagram(r.data(), last));
    }
  }

  /** The events (bindings/sdtls.i: {@link QueuedRecord}; a connect event's address is the peer's). */
  private void fetchEvents() {
    int[] lost = new int[1];
    byte[] raw = query(s -> SdtlsNative.jserver_take_events(holder, lost));
    for (QueuedRecord r : QueuedRecord.all(raw)) {
      if (r.kind() == EV_CONNECT) {
        ServerConnection v = new ServerConnection(this, r.id(), address(r.address()));
        views.put(r.id(), v);
        events.add(new ServerEvent.PeerConnected(v));
        continue;
      }
      ServerConnection v = r.kind() == EV_CLOSE ? views.remove(r.id()) : views.get(r.id());
      if (v == null) {
        continue; // a peer refused for want of memory (reported below)
      }
      if (r.kind() == EV_DATA) {
        events.add(new ServerEvent.Data(v, r.data()));
      } else if (r.kind() == EV_HANDSHAKE_DONE) {
        events.add(new ServerEvent.HandshakeDone(v, r.version(), r.cipher()));
      } else if (r.kind() == EV_CLOSE) {
        events.add(new ServerEvent.Closed(v, r.reason(), r.detail()));
      }
    }
    QueuedRecord.checkLost(lost[0]);
  }

  /** A peer address as holders.i writes it: int32 ip_len (4 or 16), 16 bytes of address, int32 port, int32 scope id. */
  private static InetSocketAddress address(byte[] raw) {
    ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder());
    int len = b.getInt();
    byte[] ip = new byte[16];
    b.get(ip);
    int port = b.getInt();
    int scope = b.getInt();
    try {
      InetAddress a = len == 4 ? InetAddress.getByAddress(Arrays.copyOf(ip, 4))
          : scope != 0 ? Inet6Address.getByAddress(null, ip, scope) : InetAddress.getByAddress(ip);
      return new InetSocketAddress(a, port);
    } catch (UnknownHostException e) {
      throw new IllegalStateException("an address the server cannot name", e);
    }
  }

  /** One call on the live C server, under this object's lock. */
  private synchronized <T> T query(Function<SWIGTYPE_p_sdtls_server, T> f) {
    return Queries.fenced(this, live(), f);
  }

  /** {@link #query} for a call that returns nothing. */
  private void run(Consumer<SWIGTYPE_p_sdtls_server> f) {
    query(Queries.returningNull(f));
  }

  private SWIGTYPE_p_sdtls_server live() {
    if (closed) {
      throw new IllegalStateException("the server is closed (freed)");
    }
    return srv;
  }

  private static void check(int rc) {
    if (rc != 0) {
      throw new SdtlsException(rc, "");
    }
  }
}
