// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

/**
 * What a connection reports, in order, through {@link Connection#pollEvent()}.
 */
public sealed interface Event permits Event.HandshakeDone, Event.Data, Event.Closed {

  /** The handshake finished; the peer is authenticated. */
  record HandshakeDone(String version, String cipher) implements Event {}

  /** One application datagram from the peer (one record, boundaries kept). */
  record Data(byte[] data) implements Event {}

  /**
   * The connection ended: {@code reason} is 0 after the peer's close_notify,
   * otherwise the negative error that ended it; {@code detail} tells more.
   * Not reported for a close asked for with {@link Connection#shutdown}.
   */
  record Closed(int reason, String detail) implements Event {
    /** The failure as an exception, or null after the peer's close_notify. */
    public SdtlsException error() {
      return reason == 0 ? null : new SdtlsException(reason, detail);
    }
  }
}
