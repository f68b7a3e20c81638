// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import dev.sdtls.internal.SdtlsNative;
import java.nio.charset.StandardCharsets;

/** A certificate and its private key, as PEM text. */
public record Certificate(String certificatePem, String privateKeyPem) {

  /**
   * A new self-signed ECDSA P-256 certificate for {@code commonName} (also
   * its DNS name), valid from an hour ago for {@code days} days.
   */
  public static Certificate generate(String commonName, int days) {
    NativeLibrary.load();
    String[] cert = new String[1];
    String[] key = new String[1];
    int rc = SdtlsNative.sdtls_certificate_generate(commonName, days, cert, key);
    if (rc != 0) {
      throw new SdtlsException(rc, "");
    }
    return new Certificate(cert[0], key[0]);
  }

  /**
   * The SHA-256 fingerprint of the certificate as SDP writes it
   * ("AB:CD:..."), for {@link Config#peerFingerprint(String)} on the peer.
   */
  public String fingerprint() {
    byte[] digest = new byte[32];
    int rc = SdtlsNative.sdtls_certificate_fingerprint_sha256(
        certificatePem.getBytes(StandardCharsets.US_ASCII), digest);
    String[] text = new String[1];
    if (rc == 0) {
      rc = SdtlsNative.sdtls_fingerprint_format(digest, text);
    }
    if (rc != 0) {
      throw new SdtlsException(rc, "");
    }
    return text[0];
  }

  /** Does not print the private key. */
  @Override
  public String toString() {
    return "Certificate[" + fingerprint() + "]";
  }
}
