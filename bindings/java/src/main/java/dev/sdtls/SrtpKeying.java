// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import java.util.Arrays;

/**
 * SRTP master keys and salts of a DTLS-SRTP handshake (RFC 5764 4.2), laid
 * out as SRTP stacks take them (libsrtp's policy key, GStreamer's
 * srtp-key): each {@code *Write} array is the master key ({@code keyLength}
 * bytes) followed by the master salt ({@code saltLength} bytes).
 * {@code localWrite} protects what this endpoint sends, {@code remoteWrite}
 * unprotects what the peer sends, whichever side was the DTLS client. The
 * arrays are secrets: {@link #toString()} leaves them out, and
 * {@link #wipe()} zeroes them.
 */
public record SrtpKeying(SrtpProfile profile, int keyLength, int saltLength, byte[] clientWrite,
    byte[] serverWrite, byte[] localWrite, byte[] remoteWrite) {

  /** Zeroes the four arrays. */
  public void wipe() {
    Arrays.fill(clientWrite, (byte) 0);
    Arrays.fill(serverWrite, (byte) 0);
    Arrays.fill(localWrite, (byte) 0);
    Arrays.fill(remoteWrite, (byte) 0);
  }

  /** Does not print the keys. */
  @Override
  public String toString() {
    return "SrtpKeying[" + profile + ", keyLength=" + keyLength + ", saltLength=" + saltLength + "]";
  }
}
