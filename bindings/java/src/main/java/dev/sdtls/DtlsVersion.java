// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

/** The protocol versions a {@link Config} may allow (DTLS 1.0 is not available). */
public enum DtlsVersion {
  /** DTLS 1.2 (RFC 6347). */
  DTLS_1_2(0xfefd),
  /** DTLS 1.3 (RFC 9147). */
  DTLS_1_3(0xfefc);

  private final int wire;

  DtlsVersion(int wire) {
    this.wire = wire;
  }

  /** The version's wire number (0xfefd, 0xfefc). */
  public int wire() {
    return wire;
  }
}
