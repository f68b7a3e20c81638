// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sdtls.internal.SdtlsNative;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** PSK, DTLS-SRTP, sessions, ALPN, groups, the key log, key updates, per-connection pinning. */
class FeaturesTest {
  private static final long MS = 1_000_000L;
  private static final Certificate CERT = Certificate.generate("server.test", 1);

  /** Starts the client, runs the handshake in memory, and checks that both sides are connected. */
  private static void connect(Connection client, Connection server, long now) {
    client.start(now);
    Pairs.pump(client, server, now);
    assertEquals(State.CONNECTED, client.state(), client.errorDetail());
    assertEquals(State.CONNECTED, server.state(), server.errorDetail());
  }

  /**
   * A pair pinned to CERT whose client was refused an export before the
   * handshake (SDTLS_E_STATE, with a detail that says why), then connected.
   */
  private static Pairs.Pair connectedAfterEarlyExport() {
    Pairs.Pair p = Pairs.Pair.pinned(CERT);
    try {
      SdtlsException early = assertThrows(SdtlsException.class,
          () -> p.client().exportKeyingMaterial("EXPERIMENTAL x", null, 32));
      assertEquals(SdtlsNative.SDTLS_E_STATE, early.code());
      assertTrue(early.detail().contains("connected"), early.getMessage());
      connect(p.client(), p.server(), 0);
      return p;
    } catch (RuntimeException | Error e) {
      p.close();
      throw e;
    }
  }

  /** One datagram each way. */
  private static void exchange(Connection client, Connection server, long now) {
    client.send("ping".getBytes(StandardCharsets.US_ASCII), now);
    Pairs.pump(client, server, now);
    server.send("pong".getBytes(StandardCharsets.US_ASCII), now);
    Pairs.pump(client, server, now);
  }

  @Test
  void pskHandshake() {
    byte[] key = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    try (Pairs.Pair p = Pairs.Pair.of(
        new Config().psk("other", new byte[] {9}).psk("device-7", key).pskIdentityHint("hint"),
        new Config().psk("device-7", key))) {
      Connection server = p.server(), client = p.client();
      connect(client, server, 0);
      assertEquals("device-7", server.pskIdentity());
      assertEquals("device-7", client.pskIdentity());
      assertTrue(client.cipher().contains("PSK"), client.cipher());
      assertNull(client.peerCertificate(), "no certificate with a PSK");
      exchange(client, server, MS);
      assertInstanceOf(Event.HandshakeDone.class, server.pollEvent());
      assertArrayEquals("ping".getBytes(StandardCharsets.US_ASCII),
          assertInstanceOf(Event.Data.class, server.pollEvent()).data());
    }
  }

  @Test
  void aWrongPskFails() {
    // A Finished under the wrong key does not authenticate and is dropped
    // (RFC 6347): the handshake then fails at its timeout.
    try (Pairs.Pair p = Pairs.Pair.of(
        new Config().psk("device-7", "right key".getBytes(StandardCharsets.US_ASCII)).handshakeTimeoutMillis(2000),
        new Config().psk("device-7", "wrong key".getBytes(StandardCharsets.US_ASCII)).handshakeTimeoutMillis(2000))) {
      Connection server = p.server(), client = p.client();
      client.start(0);
      long now = 0;
      for (int i = 0; i < 100 && client.state() == State.HANDSHAKING; i++) {
        Pairs.pump(client, server, now);
        now = Math.max(now, client.nextDeadline().orElse(now));
        client.handleTimeout(now);
        server.handleTimeout(now);
      }
      assertEquals(State.FAILED, client.state());
      assertTrue(server.state() != State.CONNECTED, "the server never accepts the client");
      Event.Closed closed = assertInstanceOf(Event.Closed.class, client.pollEvent());
      assertNotNull(closed.error());
      assertNull(client.pskIdentity());
      assertThrows(SdtlsException.class, () -> client.send(new byte[1], 0));
      SdtlsException e = assertThrows(SdtlsException.class, () -> new Config().psk("", new byte[1]));
      assertEquals(SdtlsException.Category.USAGE, e.category());
    }
  }

  @Test
  void srtpProfileAndKeyingAgree() {
    try (Pairs.Pair p = Pairs.Pair.of(
        new Config().certificate(CERT)
            .srtpProfiles(SrtpProfile.SRTP_AEAD_AES_128_GCM, SrtpProfile.SRTP_AES128_CM_SHA1_80),
        new Config().peerFingerprint(CERT.fingerprint())
            .srtpProfiles(SrtpProfile.SRTP_AES128_CM_SHA1_80, SrtpProfile.SRTP_AEAD_AES_128_GCM))) {
      Connection server = p.server(), client = p.client();
      assertNull(client.srtpKeying(), "none before the handshake");
      connect(client, server, 0);
      // The server picks the first of its own that the client offers.
      assertEquals(SrtpProfile.SRTP_AEAD_AES_128_GCM, client.srtpProfile());
      assertEquals(client.srtpProfile(), server.srtpProfile());
      SrtpKeying c = client.srtpKeying();
      SrtpKeying s = server.srtpKeying();
      assertEquals(SrtpProfile.SRTP_AEAD_AES_128_GCM, c.profile());
      assertEquals(16, c.keyLength());
      assertEquals(12, c.saltLength());
      assertEquals(28, c.clientWrite().length);
      assertArrayEquals(c.clientWrite(), s.clientWrite());
      assertArrayEquals(c.serverWrite(), s.serverWrite());
      assertArrayEquals(c.localWrite(), c.clientWrite());
      assertArrayEquals(c.localWrite(), s.remoteWrite());
      assertArrayEquals(c.remoteWrite(), s.localWrite());
      assertFalse(Arrays.equals(c.clientWrite(), c.serverWrite()));
      assertFalse(c.toString().contains(Arrays.toString(c.clientWrite())));
      c.wipe();
      assertArrayEquals(new byte[28], c.clientWrite());
    }
    try (Pairs.Pair p = Pairs.Pair.pinned(CERT)) {
      Connection server = p.server(), client = p.client();
      connect(client, server, 0);
      assertNull(client.srtpProfile(), "no DTLS-SRTP offered");
      assertNull(client.srtpKeying());
    }
  }

  @Test
  void aSessionIsResumed() {
    try (Config serverConfig = new Config().certificate(CERT);
        Config clientConfig = new Config().peerFingerprint(CERT.fingerprint())) {
      byte[] session;
      try (Connection server = Connection.server(serverConfig);
          Connection client = Connection.client(clientConfig, null)) {
        assertNull(client.session(), "no session before the handshake");
        connect(client, server, 0);
        exchange(client, server, MS); // a DTLS 1.3 ticket comes after the handshake
        assertFalse(client.sessionResumed());
        session = client.session();
        assertNotNull(session);
      }
      try (Connection server = Connection.server(serverConfig);
          Connection client = Connection.client(clientConfig, null)) {
        client.setSession(session);
        connect(client, server, 2 * MS);
        assertTrue(client.sessionResumed(), "the second connection resumes the session");
        assertTrue(server.sessionResumed());
        exchange(client, server, 3 * MS);
      }
      try (Connection client = Connection.client(clientConfig, null)) {
        SdtlsException e = assertThrows(SdtlsException.class, () -> client.setSession(new byte[] {1, 2, 3}));
        assertEquals(SdtlsException.Category.USAGE, e.category());
      }
    }
  }

  @Test
  void alpnAndGroupsAreNegotiated() {
    try (Pairs.Pair p = Pairs.Pair.of(new Config().certificate(CERT).alpn("webrtc", "coap").groups("P-256"),
        new Config().peerFingerprint(CERT.fingerprint()).alpn("coap", "webrtc").groups("X25519", "P-256"))) {
      Connection server = p.server(), client = p.client();
      assertNull(client.alpn());
      connect(client, server, 0);
      assertEquals("webrtc", server.alpn(), "the server's preference wins");
      assertEquals("webrtc", client.alpn());
      assertEquals("P-256", client.group());
      assertEquals("P-256", server.group());
    }
    SdtlsException e = assertThrows(SdtlsException.class, () -> new Config().groups("no-such-group"));
    assertEquals(SdtlsException.Category.USAGE, e.category());
  }

  @Test
  void exportedKeyingMaterialIsEqualOnBothSides() {
    try (Pairs.Pair p = connectedAfterEarlyExport()) {
      Connection server = p.server(), client = p.client();
      byte[] ctx = {1, 2, 3};
      byte[] a = client.exportKeyingMaterial("EXPERIMENTAL x", ctx, 64);
      assertEquals(64, a.length);
      assertArrayEquals(a, server.exportKeyingMaterial("EXPERIMENTAL x", ctx, 64));
      assertFalse(Arrays.equals(a, client.exportKeyingMaterial("EXPERIMENTAL x", null, 64)),
          "no context differs from this one");
      assertFalse(Arrays.equals(a, client.exportKeyingMaterial("EXPERIMENTAL y", ctx, 64)));
    }
  }

  /**
   * An export's error names its cause: a zero length on a connected
   * connection was reported as "exported once connected" would be, by its
   * code alone (the C call returns SDTLS_E_INVALID_ARGUMENT for it).
   */
  @Test
  void exportErrorsNameTheirCause() {
    try (Pairs.Pair p = connectedAfterEarlyExport()) {
      Connection client = p.client();
      for (int length : new int[] {0, -1}) {
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
            () -> client.exportKeyingMaterial("EXPERIMENTAL x", null, length));
        assertTrue(bad.getMessage().contains("length"), bad.getMessage());
        assertFalse(bad.getMessage().contains("connected"), bad.getMessage());
      }
      assertEquals(1, client.exportKeyingMaterial("EXPERIMENTAL x", null, 1).length);
    }
  }

  @Test
  void theKeyLogHasLines() {
    try (Config serverConfig = new Config().certificate(CERT).keyLog(true);
        Config clientConfig = new Config().peerFingerprint(CERT.fingerprint())) {
      Connection server = Connection.server(serverConfig);
      Connection client = Connection.client(clientConfig, null);
      assertTrue(serverConfig.keyLogLines().isEmpty());
      connect(client, server, 0);
      client.close();
      server.close(); // the lines stay with the config
      List<String> lines = serverConfig.keyLogLines();
      assertFalse(lines.isEmpty());
      for (String line : lines) {
        assertTrue(line.matches("[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]{64,}"), line);
      }
      assertTrue(serverConfig.keyLogLines().isEmpty(), "taken once");
      assertTrue(clientConfig.keyLogLines().isEmpty(), "the client's config logs nothing");
      assertEquals(0, serverConfig.keyLogLinesDropped());
      SdtlsException frozen = assertThrows(SdtlsException.class, () -> serverConfig.keyLog(false));
      assertEquals(SdtlsNative.SDTLS_E_FROZEN, frozen.code());
    }
  }

  /** The config's holder outlives the Java Config while a connection logs through it. */
  @Test
  void theKeyLogOfAClosedConfigIsSafe() {
    Config serverConfig = new Config().certificate(CERT).keyLog(true);
    try (Config clientConfig = new Config().peerFingerprint(CERT.fingerprint());
        Connection server = Connection.server(serverConfig);
        Connection client = Connection.client(clientConfig, null)) {
      serverConfig.close();
      assertThrows(IllegalStateException.class, serverConfig::keyLogLines);
      connect(client, server, 0); // logs into the holder nobody reads
    }
  }

  /**
   * DTLS 1.3 where the engine speaks it; where it does not, asking for it
   * is refused (both are asserted). A key update on DTLS 1.2 is refused.
   */
  @Test
  void keyUpdate() {
    if (SdtlsNative.sdtls_has_feature(dev.sdtls.internal.sdtls_feature.SDTLS_FEATURE_DTLS1_3) == 0) {
      SdtlsException e = assertThrows(SdtlsException.class, () -> new Config().minVersion(DtlsVersion.DTLS_1_3));
      assertEquals(SdtlsNative.SDTLS_E_UNSUPPORTED, e.code());
    } else {
      try (Pairs.Pair p = Pairs.Pair.of(new Config().certificate(CERT).minVersion(DtlsVersion.DTLS_1_3),
          new Config().peerFingerprint(CERT.fingerprint()).minVersion(DtlsVersion.DTLS_1_3))) {
        Connection server = p.server(), client = p.client();
        connect(client, server, 0);
        assertEquals("DTLSv1.3", client.version());
        client.keyUpdate(MS);
        Pairs.pump(client, server, MS);
        server.keyUpdate(2 * MS);
        Pairs.pump(client, server, 2 * MS);
        while (client.pollEvent() != null) { }
        while (server.pollEvent() != null) { }
        exchange(client, server, 3 * MS);
        assertInstanceOf(Event.Data.class, server.pollEvent(), "data flows after the key updates");
        assertInstanceOf(Event.Data.class, client.pollEvent());
      }
    }
    try (Pairs.Pair p = Pairs.Pair.of(new Config().certificate(CERT).maxVersion(DtlsVersion.DTLS_1_2),
        new Config().peerFingerprint(CERT.fingerprint()))) {
      Connection server = p.server(), client = p.client();
      SdtlsException early = assertThrows(SdtlsException.class, () -> client.keyUpdate(0));
      assertEquals(SdtlsNative.SDTLS_E_STATE, early.code());
      connect(client, server, 0);
      assertEquals("DTLSv1.2", client.version());
      SdtlsException e = assertThrows(SdtlsException.class, () -> client.keyUpdate(MS));
      assertEquals(SdtlsNative.SDTLS_E_UNSUPPORTED, e.code());
    }
  }

  @Test
  void aConnectionPinsItsOwnPeerFingerprint() {
    Certificate other = Certificate.generate("server.test", 1);
    // The config verifies (the default) and has no CA: only the pin lets the handshake pass.
    try (Config serverConfig = new Config().certificate(CERT); Config clientConfig = new Config()) {
      try (Connection server = Connection.server(serverConfig);
          Connection client = Connection.client(clientConfig, null)) {
        client.addPeerFingerprint(other.fingerprint());
        client.addPeerFingerprint("sha-256 " + CERT.fingerprint().toLowerCase());
        connect(client, server, 0);
        assertEquals(CERT.fingerprint(), client.peerFingerprint());
        assertNull(server.peerFingerprint(), "the client sent no certificate");
        SdtlsException late = assertThrows(SdtlsException.class, () -> client.addPeerFingerprint(CERT.fingerprint()));
        assertEquals(SdtlsNative.SDTLS_E_STATE, late.code());
      }
      try (Connection server = Connection.server(serverConfig);
          Connection client = Connection.client(clientConfig, null)) {
        client.addPeerFingerprint(other.fingerprint());
        client.start(0);
        Pairs.pump(client, server, 0);
        assertEquals(State.FAILED, client.state());
        SdtlsException e = assertInstanceOf(Event.Closed.class, client.pollEvent()).error();
        assertEquals(SdtlsException.Category.VERIFY, e.category());
      }
      try (Connection client = Connection.client(clientConfig, null)) {
        SdtlsException e = assertThrows(SdtlsException.class, () -> client.addPeerFingerprint("AB:CD"));
        assertEquals(SdtlsException.Category.USAGE, e.category());
      }
    }
  }
}
