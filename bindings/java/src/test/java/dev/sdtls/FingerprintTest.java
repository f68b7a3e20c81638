// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sdtls.internal.SdtlsNative;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * SDTLS_1.2: fingerprints in sha-256, sha-384 and sha-512 and every text
 * form, parsed and formatted by the C library; list setters that take each
 * name as it is.
 */
class FingerprintTest {
  private static final Certificate CERT = Certificate.generate("server.test", 1);
  private static final Certificate OTHER = Certificate.generate("other.test", 1);

  @Test
  void everyFormParsesToOneFingerprint() {
    for (Fingerprint.Hash h : Fingerprint.Hash.values()) {
      Fingerprint f = CERT.fingerprint(h);
      assertEquals(h.toString() + " " + f.bare(), f.toString());
      for (String text : new String[] {f.toString(), f.bare(), h + ":" + f.bare(), f.toString().toLowerCase(Locale.ROOT)}) {
        assertEquals(f, Fingerprint.parse(text), text);
      }
    }
    assertEquals(48, CERT.fingerprint(Fingerprint.Hash.SHA_384).digest().length);
    assertEquals(CERT.fingerprint(Fingerprint.Hash.SHA_256).bare(), CERT.fingerprint());
  }

  @Test
  void malformedFingerprintsAreRefused() {
    String bare = CERT.fingerprint(Fingerprint.Hash.SHA_256).bare();
    for (String bad : new String[] {"", "nonsense", "sha-256 AB:CD", "AB:CD", bare + ":", "sha-384 " + bare}) {
      SdtlsException e = assertThrows(SdtlsException.class, () -> Fingerprint.parse(bad));
      assertEquals(SdtlsNative.SDTLS_E_INVALID_ARGUMENT, e.code(), bad);
    }
    SdtlsException e =
        assertThrows(SdtlsException.class, () -> Fingerprint.parse("sha-1 " + "AB:".repeat(19) + "AB"));
    assertEquals(SdtlsNative.SDTLS_E_UNSUPPORTED, e.code());
  }

  @Test
  void pinsInOtherHashes() {
    for (Fingerprint.Hash h : new Fingerprint.Hash[] {Fingerprint.Hash.SHA_384, Fingerprint.Hash.SHA_512}) {
      Fingerprint f = CERT.fingerprint(h);
      for (String pin : new String[] {f.toString(), f.bare()}) {
        try (Pairs.Pair p = Pairs.Pair.of(new Config().certificate(CERT),
            new Config().peerFingerprint(pin))) {
          Connection client = p.client();
          p.handshake(0);
          assertEquals(State.CONNECTED, client.state(), client.errorDetail());
          assertEquals(f, client.peerCertificateFingerprint(h));
        }
      }
      Fingerprint wrong = OTHER.fingerprint(h);
      try (Pairs.Pair p = Pairs.Pair.of(new Config().certificate(CERT),
          new Config().peerFingerprint(wrong))) {
        Connection client = p.client();
        p.handshake(0);
        assertEquals(State.FAILED, client.state());
        assertTrue(client.errorDetail().contains(wrong.toString()), client.errorDetail());
      }
    }
  }

  @Test
  void aNameWithASeparatorIsRefusedNotSplit() {
    // Once alpn("a,b") silently offered two protocols, "a" and "b".
    for (String[] names : new String[][] {{"a,b"}, {"coap", "a:b"}, {""}, {"x".repeat(256)}, {}}) {
      try (Config c = new Config()) {
        SdtlsException e = assertThrows(SdtlsException.class, () -> c.alpn(names));
        assertEquals(SdtlsNative.SDTLS_E_INVALID_ARGUMENT, e.code(), String.join("|", names));
      }
    }
    try (Config c = new Config()) {
      SdtlsException e = assertThrows(SdtlsException.class, () -> c.groups("X25519:P-256"));
      assertEquals(SdtlsNative.SDTLS_E_INVALID_ARGUMENT, e.code());
      c.alpn("x".repeat(255), "coap").groups("X25519", "P-256").srtpProfiles(SrtpProfile.SRTP_AEAD_AES_128_GCM);
    }
  }
}
