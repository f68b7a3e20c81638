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
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Smoke tests of the Java binding: two connections in memory, datagrams
 * handed from one to the other by the test, time a virtual clock.
 */
class ConnectionTest {
  private static final long MS = 1_000_000L;

  /** What a handshake with the default version range negotiates: DTLS 1.3 where the engine speaks it. */
  static String newestVersion() {
    return SdtlsNative.sdtls_has_feature(dev.sdtls.internal.sdtls_feature.SDTLS_FEATURE_DTLS1_3) != 0
        ? "DTLSv1.3" : "DTLSv1.2";
  }

  @Test
  void handshakeAndOneDatagramEachWay() {
    try (Pairs.Pair p = Pairs.Pair.pinned(Certificate.generate("server.test", 1))) {
      Connection server = p.server(), client = p.client();
      long now = 1_000 * MS;
      assertEquals(State.NEW, client.state());
      client.start(now);
      assertTrue(client.nextDeadline().isPresent(), "a started client has a retransmission timer");
      assertTrue(Pairs.pump(client, server, now) >= 4);

      assertEquals(State.CONNECTED, client.state());
      assertEquals(State.CONNECTED, server.state());
      Event.HandshakeDone done = assertInstanceOf(Event.HandshakeDone.class, client.pollEvent());
      // the newest version the engine speaks (the default range's top)
      assertEquals(newestVersion(), done.version());
      assertEquals(client.cipher(), done.cipher());
      assertInstanceOf(Event.HandshakeDone.class, server.pollEvent());
      assertNull(client.pollEvent());
      assertTrue(client.maxDataSize() > 1000);

      byte[] ping = "ping".getBytes(StandardCharsets.US_ASCII);
      client.send(ping, now + MS);
      List<byte[]> out = client.datagramsToSend();
      assertEquals(1, out.size(), "one record, one datagram");
      server.receive(out.get(0), now + MS);
      assertArrayEquals(ping, assertInstanceOf(Event.Data.class, server.pollEvent()).data());

      byte[] pong = "pong".getBytes(StandardCharsets.US_ASCII);
      server.send(pong, now + 2 * MS);
      client.receive(server.pollDatagram(), now + 2 * MS);
      assertNull(server.pollDatagram());
      assertArrayEquals(pong, assertInstanceOf(Event.Data.class, client.pollEvent()).data());

      byte[] a = client.exportKeyingMaterial("EXPERIMENTAL test", null, 32);
      assertArrayEquals(a, server.exportKeyingMaterial("EXPERIMENTAL test", null, 32));

      client.shutdown(now + 3 * MS);
      assertEquals(State.CLOSED, client.state());
      Pairs.pump(client, server, now + 3 * MS);
      Event.Closed closed = assertInstanceOf(Event.Closed.class, server.pollEvent());
      assertEquals(0, closed.reason(), "the peer's close_notify");
      assertNull(closed.error());
      assertEquals(State.CLOSED, server.state());
      assertTrue(Pairs.drain(client::pollEvent).isEmpty(), "no event for a close asked for");
    }
  }

  @Test
  void aLostFlightIsSentAgainAtTheDeadline() {
    try (Pairs.Pair p = Pairs.Pair.pinned(Certificate.generate("server.test", 1))) {
      Connection server = p.server(), client = p.client();
      client.start(0);
      assertFalse(client.datagramsToSend().isEmpty()); // lost on the way
      long deadline = client.nextDeadline().orElseThrow();
      assertEquals(1_000 * MS, deadline, "the first retransmission timeout is one second");
      client.handleTimeout(deadline - 1);
      assertNull(client.pollDatagram(), "nothing is due before the deadline");
      client.handleTimeout(deadline);
      Pairs.pump(client, server, deadline);
      assertEquals(State.CONNECTED, client.state());
      assertEquals(State.CONNECTED, server.state());
    }
  }

  @Test
  void theWrongCertificateFailsWithVerify() {
    Certificate cert = Certificate.generate("server.test", 1);
    Certificate other = Certificate.generate("server.test", 1);
    try (Pairs.Pair p = Pairs.Pair.of(new Config().certificate(cert),
        new Config().peerFingerprint(other.fingerprint()))) {
      Connection server = p.server(), client = p.client();
      client.start(0);
      Pairs.pump(client, server, 0);
      assertEquals(State.FAILED, client.state());
      Event.Closed closed = assertInstanceOf(Event.Closed.class, client.pollEvent());
      SdtlsException e = closed.error();
      assertNotNull(e);
      assertEquals(SdtlsException.Category.VERIFY, e.category());
      assertTrue(e.getMessage().contains(cert.fingerprint()), e.getMessage());
      SdtlsException thrown = assertThrows(SdtlsException.class, () -> client.send(new byte[1], 0));
      assertEquals(SdtlsException.Category.VERIFY, thrown.category());
    }
  }

  @Test
  void handlesGoInAnyOrderAndOnlyOnce() {
    Certificate cert = Certificate.generate("server.test", 1);
    Config config = new Config().certificate(cert);
    Connection server = Connection.server(config);
    config.close(); // the connection holds its own reference
    config.close();
    assertThrows(IllegalStateException.class, () -> config.mtu(1400));
    assertThrows(IllegalStateException.class, () -> Connection.server(config));
    assertEquals(State.NEW, server.state());
    server.close();
    server.close();
    assertThrows(IllegalStateException.class, server::state);

    try (Config frozen = new Config().certificate(cert); Connection c = Connection.server(frozen)) {
      SdtlsException e = assertThrows(SdtlsException.class, () -> frozen.mtu(1400));
      assertEquals(SdtlsException.Category.USAGE, e.category());
      assertEquals(dev.sdtls.internal.SdtlsNative.SDTLS_E_FROZEN, e.code());
      assertEquals(Role.SERVER, c.role());
    }
  }
}
