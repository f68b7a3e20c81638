// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

/** A connection's state (the values of {@code sdtls_state}). */
public enum State {
  /** Created, handshake not started. */
  NEW,
  /** Handshake in progress. */
  HANDSHAKING,
  /** Handshake done; data flows. */
  CONNECTED,
  /** close_notify sent or received. */
  CLOSED,
  /** A fatal error ended it. */
  FAILED
}
