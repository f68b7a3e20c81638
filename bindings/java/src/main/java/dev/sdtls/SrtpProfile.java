// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

/**
 * DTLS-SRTP protection profiles (RFC 5764): {@link #id()} is the IANA
 * number (libsrtp's {@code srtp_profile_t}), the name the one the C library
 * uses.
 */
public enum SrtpProfile {
  SRTP_AES128_CM_SHA1_80(0x0001),
  SRTP_AES128_CM_SHA1_32(0x0002),
  SRTP_AEAD_AES_128_GCM(0x0007),
  SRTP_AEAD_AES_256_GCM(0x0008);

  private final int id;

  SrtpProfile(int id) {
    this.id = id;
  }

  /** The profile's IANA number. */
  public int id() {
    return id;
  }

  /** The profile with this IANA number, or null for one this version does not know. */
  public static SrtpProfile of(int id) {
    for (SrtpProfile p : values()) {
      if (p.id == id) {
        return p;
      }
    }
    return null;
  }
}
