// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import dev.sdtls.internal.SdtlsNative;

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
   * The SHA-256 fingerprint of the certificate, bare ("AB:CD:..."), for
   * {@link Config#peerFingerprint(String)} on the peer.
   *
   * @deprecated {@link #fingerprint(Fingerprint.Hash)} gives a
   *     {@link Fingerprint}, whose {@code toString()} is SDP's whole form.
   */
  @Deprecated
  public String fingerprint() {
    return fingerprint(Fingerprint.Hash.SHA_256).bare();
  }

  /** The certificate's fingerprint in {@code hash}. */
  public Fingerprint fingerprint(Fingerprint.Hash hash) {
    return Fingerprint.of(certificatePem, hash);
  }

  /** Does not print the private key. */
  @Override
  public String toString() {
    return "Certificate[" + fingerprint() + "]";
  }
}
