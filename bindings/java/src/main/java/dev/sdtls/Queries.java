// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import dev.sdtls.internal.SWIGTYPE_p_sdtls_conn;
import dev.sdtls.internal.SdtlsNative;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The queries both kinds of connection answer, on a live C connection: the
 * caller holds the lock that serialises it and has checked that it lives.
 */
final class Queries {
  private Queries() {}

  /**
   * {@code f} applied to {@code handle}, with {@code owner} (the object
   * whose cleaner frees the handle) kept reachable until it returns.
   */
  static <H, T> T fenced(Object owner, H handle, Function<H, T> f) {
    try {
      return f.apply(handle);
    } finally {
      Reference.reachabilityFence(owner);
    }
  }

  /** {@code f} as a function for {@link #fenced}, returning null. */
  static <H> Function<H, Void> returningNull(Consumer<H> f) {
    return h -> {
      f.accept(h);
      return null;
    };
  }

  /** A next-deadline call's result: empty for SDTLS_TIME_NEVER (-1 here). */
  static OptionalLong deadline(long t) {
    return t < 0 ? OptionalLong.empty() : OptionalLong.of(t);
  }

  static State state(SWIGTYPE_p_sdtls_conn c) {
    return State.values()[SdtlsNative.sdtls_conn_state(c).swigValue()];
  }

  static String errorDetail(SWIGTYPE_p_sdtls_conn c) {
    return SdtlsNative.sdtls_conn_error_detail(c);
  }

  static byte[] peerCertificate(SWIGTYPE_p_sdtls_conn c) {
    byte[][] der = new byte[1][];
    return SdtlsNative.sdtls_conn_peer_certificate(c, der) == 0 ? der[0] : null;
  }

  static String peerFingerprint(SWIGTYPE_p_sdtls_conn c) {
    Fingerprint f = Fingerprint.ofPeer(c, Fingerprint.Hash.SHA_256);
    return f == null ? null : f.bare();
  }

  static SrtpProfile srtpProfile(SWIGTYPE_p_sdtls_conn c) {
    int p = SdtlsNative.sdtls_conn_srtp_profile(c);
    return p == 0 ? null : SrtpProfile.of(p);
  }

  /** The layout is jsrtp_keying()'s (bindings/java/holders.i). */
  static SrtpKeying srtpKeying(SWIGTYPE_p_sdtls_conn c) {
    int[] rc = new int[1];
    byte[] raw = SdtlsNative.jsrtp_keying(c, rc);
    if (raw == null) {
      if (rc[0] == 0 || rc[0] == SdtlsNative.SDTLS_E_STATE) {
        return null;
      }
      throw new SdtlsException(rc[0], "");
    }
    try {
      ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder());
      SrtpProfile profile = SrtpProfile.of(b.getInt());
      int keyLength = b.getInt();
      int saltLength = b.getInt();
      byte[][] w = new byte[4][keyLength + saltLength];
      for (byte[] a : w) {
        b.get(a);
      }
      return new SrtpKeying(profile, keyLength, saltLength, w[0], w[1], w[2], w[3]);
    } finally {
      Arrays.fill(raw, (byte) 0);
    }
  }

  /**
   * Names the cause of each failure: the C call returns
   * SDTLS_E_INVALID_ARGUMENT for a zero length as for anything the engine
   * refuses, and SDTLS_E_STATE only when not connected.
   */
  static byte[] exportKeyingMaterial(SWIGTYPE_p_sdtls_conn c, String label, byte[] context,
      int length) {
    Objects.requireNonNull(label, "label");
    if (length < 1) {
      throw new IllegalArgumentException("length " + length + ": at least 1 byte is exported");
    }
    byte[] out = new byte[length];
    int rc = SdtlsNative.sdtls_conn_export_keying_material(c, out,
        label.getBytes(StandardCharsets.UTF_8), context);
    if (rc == SdtlsNative.SDTLS_E_STATE) {
      throw new SdtlsException(rc, "keying material is exported once connected");
    }
    if (rc == SdtlsNative.SDTLS_E_INVALID_ARGUMENT) {
      throw new SdtlsException(rc, "the engine refused the label, context or length");
    }
    if (rc != 0) {
      throw new SdtlsException(rc, "");
    }
    return out;
  }
}
