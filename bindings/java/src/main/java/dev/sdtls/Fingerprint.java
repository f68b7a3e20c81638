// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import dev.sdtls.internal.SWIGTYPE_p_sdtls_conn;
import dev.sdtls.internal.SdtlsNative;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * A certificate fingerprint (RFC 8122) in sha-256, sha-384 or sha-512.
 * {@link #toString()} gives SDP's form, "sha-256 AB:CD:...", the one form
 * this package writes for it; {@link #bare()} gives "AB:CD:...". The C
 * library parses and formats ({@code sdtls_fingerprint_parse},
 * {@code sdtls_fingerprint_format_hash}).
 */
public final class Fingerprint {
  /** The hash functions, by RFC 8122's names. */
  public enum Hash {
    SHA_256("sha-256", SdtlsNative.SDTLS_HASH_SHA256),
    SHA_384("sha-384", SdtlsNative.SDTLS_HASH_SHA384),
    SHA_512("sha-512", SdtlsNative.SDTLS_HASH_SHA512);

    private final String text;
    final int id;

    Hash(String text, int id) {
      this.text = text;
      this.id = id;
    }

    /** "sha-256", as SDP writes it. */
    @Override
    public String toString() {
      return text;
    }

    static Hash of(int id) {
      for (Hash h : values()) {
        if (h.id == id) {
          return h;
        }
      }
      throw new SdtlsException(SdtlsNative.SDTLS_E_INTERNAL, "unknown hash id " + id);
    }
  }

  private final Hash hash;
  private final byte[] digest;

  private Fingerprint(Hash hash, byte[] digest) {
    this.hash = hash;
    this.digest = digest;
  }

  /**
   * Parses "sha-256 AB:...", "sha-256:AB:..." or a bare "AB:..." (the hash
   * then follows from the length: 32, 48 or 64 pairs), any case; throws
   * {@link SdtlsException} (SDTLS_E_INVALID_ARGUMENT, or
   * SDTLS_E_UNSUPPORTED for sha-1, md5...).
   */
  public static Fingerprint parse(String text) {
    Objects.requireNonNull(text, "text");
    int[] hash = new int[1];
    byte[][] digest = new byte[1][];
    int rc = SdtlsNative.sdtls_fingerprint_parse(text, hash, digest);
    if (rc != 0) {
      throw new SdtlsException(rc, "not a fingerprint: " + text);
    }
    return new Fingerprint(Hash.of(hash[0]), digest[0]);
  }

  /** The fingerprint of the first certificate in {@code pem}. */
  public static Fingerprint of(String pem, Hash hash) {
    Objects.requireNonNull(pem, "pem");
    byte[][] digest = new byte[1][];
    int rc = SdtlsNative.sdtls_certificate_fingerprint(pem.getBytes(StandardCharsets.US_ASCII), hash.id, digest);
    if (rc != 0) {
      throw new SdtlsException(rc, "no certificate in the PEM data");
    }
    return new Fingerprint(hash, digest[0]);
  }

  /** The peer's, or null when it sent no certificate. */
  static Fingerprint ofPeer(SWIGTYPE_p_sdtls_conn c, Hash hash) {
    byte[][] digest = new byte[1][];
    return SdtlsNative.sdtls_conn_peer_fingerprint(c, hash.id, digest) == 0 ? new Fingerprint(hash, digest[0]) : null;
  }

  public Hash hash() {
    return hash;
  }

  public byte[] digest() {
    return digest.clone();
  }

  private String format(int form) {
    String[] text = new String[1];
    int rc = SdtlsNative.sdtls_fingerprint_format_hash(hash.id, digest, form, text);
    if (rc != 0) {
      throw new SdtlsException(rc, "");
    }
    return text[0];
  }

  /** "AB:CD:...", without the hash's name. */
  public String bare() {
    return format(SdtlsNative.SDTLS_FINGERPRINT_BARE);
  }

  /** SDP's form: "sha-256 AB:CD:...". */
  @Override
  public String toString() {
    return format(SdtlsNative.SDTLS_FINGERPRINT_SDP);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Fingerprint f && f.hash == hash && Arrays.equals(f.digest, digest);
  }

  @Override
  public int hashCode() {
    return 31 * hash.hashCode() + Arrays.hashCode(digest);
  }
}
