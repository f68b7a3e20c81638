// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

/**
 * What a {@link Server} reports, in order, through
 * {@link Server#pollEvent()}; each event names the peer's connection.
 */
public sealed interface ServerEvent
    permits ServerEvent.PeerConnected, ServerEvent.HandshakeDone, ServerEvent.Data,
        ServerEvent.Closed {

  /** The peer's connection. */
  ServerConnection connection();

  /** A peer passed the cookie check and its connection was made; its handshake runs. */
  record PeerConnected(ServerConnection connection) implements ServerEvent {}

  /** The peer's handshake finished; the peer is authenticated. */
  record HandshakeDone(ServerConnection connection, String version, String cipher)
      implements ServerEvent {}

  /** One application datagram from the peer (one record, boundaries kept). */
  record Data(ServerConnection connection, byte[] data) implements ServerEvent {}

  /**
   * The peer's connection ended and the server dropped it: {@code reason}
   * is 0 after the peer's close_notify, {@code SDTLS_E_CLOSED} when it was
   * closed here ({@link ServerConnection#shutdown}, {@link Server#shutdown})
   * or the peer restarted, {@code SDTLS_E_TIMEOUT} for an idle or handshake
   * timeout, otherwise the error that ended it. The connection is gone
   * from then on.
   */
  record Closed(ServerConnection connection, int reason, String detail) implements ServerEvent {
    /** The failure as an exception, or null after the peer's close_notify. */
    public SdtlsException error() {
      return reason == 0 ? null : new SdtlsException(reason, detail);
    }
  }
}
