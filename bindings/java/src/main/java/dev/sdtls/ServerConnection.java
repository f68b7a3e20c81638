// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import dev.sdtls.internal.SWIGTYPE_p_sdtls_conn;
import dev.sdtls.internal.SdtlsNative;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.function.Function;

/**
 * One peer of a {@link Server}: a view of a connection that the server
 * owns. It goes dead when the peer's connection ends (its
 * {@link ServerEvent.Closed}) or the server is closed; then every method
 * but {@link #address()}, {@link #isAlive()} and {@link #shutdown} throws:
 * an {@link SdtlsException} of category CLOSED when the connection ended,
 * an {@link IllegalStateException} when the server was closed. Its methods
 * lock the server (one thread at a time uses the C server and its
 * connections).
 */
public final class ServerConnection {
  private final Server server;
  private final long id;
  private final InetSocketAddress address;

  ServerConnection(Server server, long id, InetSocketAddress address) {
    this.server = server;
    this.id = id;
    this.address = address;
  }

  long id() {
    return id;
  }

  /** The server that holds the connection. */
  public Server server() {
    return server;
  }

  /** The peer's address. */
  public InetSocketAddress address() {
    return address;
  }

  /** Whether the server still holds the connection. */
  public boolean isAlive() {
    synchronized (server) {
      return !server.isClosed() && server.conn(id) != null;
    }
  }

  /**
   * Sends {@code data} to the peer as one record in one datagram (then in
   * the server's {@link Server#pollDatagram}). Throws before the handshake
   * is done and for more than {@link #maxDataSize()} bytes.
   */
  public void send(byte[] data, long now) {
    Objects.requireNonNull(data, "data");
    call(c -> check(c, server.send(c, data, now)));
  }

  /** DTLS 1.3: renews this side's traffic keys (see {@link Connection#keyUpdate}). */
  public void keyUpdate(long now) {
    call(c -> check(c, SdtlsNative.sdtls_conn_key_update(c, Server.time(now))));
  }

  /**
   * Sends close_notify and removes the peer: a {@link ServerEvent.Closed}
   * with {@code SDTLS_E_CLOSED} follows. Harmless when it is gone already.
   */
  public void shutdown(long now) {
    synchronized (server) {
      if (server.isClosed()) {
        return;
      }
      SWIGTYPE_p_sdtls_conn c = server.conn(id);
      if (c != null) {
        server.closePeer(c, Server.time(now));
      }
    }
  }

  /** The connection's state. */
  public State state() {
    return call(Queries::state);
  }

  /** The negotiated protocol version ("DTLSv1.2"), or null before the handshake is done. */
  public String version() {
    return call(SdtlsNative::sdtls_conn_version);
  }

  /** The negotiated cipher suite (IANA name), or null before the handshake is done. */
  public String cipher() {
    return call(SdtlsNative::sdtls_conn_cipher);
  }

  /** The largest {@link #send} now accepts, or 0 before the handshake is done. */
  public int maxDataSize() {
    return call(c -> (int) SdtlsNative.sdtls_conn_max_data_size(c));
  }

  /** The human-readable detail of the last failure, or "". */
  public String errorDetail() {
    return call(Queries::errorDetail);
  }

  /** The peer's leaf certificate (DER), or null when it sent none. */
  public byte[] peerCertificate() {
    return call(Queries::peerCertificate);
  }

  /** The SHA-256 fingerprint of the peer's certificate ("AB:CD:..."), or null. */
  public String peerFingerprint() {
    return call(Queries::peerFingerprint);
  }

  /** The ALPN protocol the handshake selected, or null. */
  public String alpn() {
    return call(SdtlsNative::sdtls_conn_alpn);
  }

  /** The key exchange group the handshake used, or null (see {@link Connection#group}). */
  public String group() {
    return call(SdtlsNative::sdtls_conn_group);
  }

  /** The PSK identity the handshake used, or null. */
  public String pskIdentity() {
    return call(SdtlsNative::sdtls_conn_psk_identity);
  }

  /** Whether the peer resumed a session. */
  public boolean sessionResumed() {
    return call(c -> SdtlsNative.sdtls_conn_session_resumed(c) != 0);
  }

  /** The negotiated SRTP profile, or null. */
  public SrtpProfile srtpProfile() {
    return call(Queries::srtpProfile);
  }

  /** The SRTP keying material of the negotiated profile, or null when none was negotiated. */
  public SrtpKeying srtpKeying() {
    return call(Queries::srtpKeying);
  }

  /** RFC 5705 keying material (see {@link Connection#exportKeyingMaterial}). */
  public byte[] exportKeyingMaterial(String label, byte[] context, int length) {
    return call(c -> Queries.exportKeyingMaterial(c, label, context, length));
  }

  @Override
  public String toString() {
    return "ServerConnection[" + address + (isAlive() ? "" : " gone") + "]";
  }

  // ---- helpers ----------------------------------------------------------------

  /** One call on the live C connection, under the server's lock. */
  private <T> T call(Function<SWIGTYPE_p_sdtls_conn, T> f) {
    synchronized (server) {
      SWIGTYPE_p_sdtls_conn c = server.liveConn(id);
      try {
        return f.apply(c);
      } finally {
        server.fence();
      }
    }
  }

  private static Void check(SWIGTYPE_p_sdtls_conn c, int rc) {
    if (rc != 0) {
      throw new SdtlsException(rc, rc == SdtlsNative.SDTLS_E_INVALID_ARGUMENT ? "" : Queries.errorDetail(c));
    }
    return null;
  }
}
