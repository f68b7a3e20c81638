// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sdtls.internal.SdtlsNative;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The bounds of the binding's queues and of the config's lists: a call that
 * would outgrow them throws an error that names the bound, and nothing
 * already queued is lost.
 */
class LimitsTest {
  private static final long MS = 1_000_000L;
  private static final int MAX = 4096;

  @Test
  void queuesAreBoundedAndLoseNothing() {
    try (Pairs.Pair p = Pairs.Pair.pinned(Certificate.generate("server.test", 1))) {
      Connection server = p.server(), client = p.client();
      long now = 1_000 * MS;
      p.handshake(now);
      while (client.pollEvent() != null || server.pollEvent() != null) {
        // the handshake's events
      }
      // Two queues' worth of sends, each filled until refused and then taken.
      List<byte[]> sent = new ArrayList<>();
      List<byte[]> out = new ArrayList<>();
      for (int round = 0; round < 2; round++) {
        SdtlsException full = null;
        for (int i = 0; i <= MAX && full == null; i++) {
          byte[] payload = String.format("%06d", sent.size()).getBytes(StandardCharsets.US_ASCII);
          try {
            client.send(payload, now);
            sent.add(payload);
          } catch (SdtlsException e) {
            full = e;
          }
        }
        assertTrue(full != null, "the send queue is bounded");
        assertEquals(SdtlsNative.SDTLS_E_LIMIT, full.code());
        assertTrue(full.getMessage().contains("pollDatagram()") && full.getMessage().contains(String.valueOf(MAX)),
            full.getMessage());
        out.addAll(client.datagramsToSend());
        assertEquals(sent.size(), out.size(), "every accepted send was queued");
      }
      assertEquals(2 * MAX, sent.size());
      // The receiver's event queue has the same bound.
      List<byte[]> got = new ArrayList<>();
      int refusals = 0;
      for (int i = 0; i < out.size(); ) {
        try {
          server.receive(out.get(i), now);
          i++;
        } catch (SdtlsException e) {
          assertEquals(SdtlsNative.SDTLS_E_LIMIT, e.code());
          assertTrue(e.getMessage().contains("pollEvent()"), e.getMessage());
          assertEquals(MAX, i);
          refusals++;
          for (Event ev; (ev = server.pollEvent()) != null; ) {
            got.add(((Event.Data) ev).data());
          }
        }
      }
      for (Event ev; (ev = server.pollEvent()) != null; ) {
        got.add(((Event.Data) ev).data());
      }
      assertEquals(1, refusals);
      assertEquals(sent.size(), got.size());
      for (int i = 0; i < sent.size(); i++) {
        assertArrayEquals(sent.get(i), got.get(i), "record " + i);
      }
      client.send("after".getBytes(StandardCharsets.US_ASCII), now); // taken again once drained
    }
  }

  /** A server's queues have the same bound, for its peers' sends and for what it receives. */
  @Test
  void serverQueuesAreBoundedAndLoseNothing() throws Exception {
    Certificate cert = Certificate.generate("server.test", 1);
    InetSocketAddress from = new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 40001);
    try (Config serverConfig = new Config().certificate(cert);
        Config clientConfig = new Config().peerFingerprint(cert.fingerprint());
        Server server = new Server(serverConfig);
        Connection client = Connection.client(clientConfig, null)) {
      long now = 1_000 * MS;
      client.start(now);
      for (boolean any = true; any; ) {
        any = false;
        for (byte[] d; (d = client.pollDatagram()) != null; any = true) {
          server.receive(d, from, now);
        }
        for (Server.Datagram d; (d = server.pollDatagram()) != null; any = true) {
          client.receive(d.data(), now);
        }
      }
      while (server.pollEvent() != null || client.pollEvent() != null) {
        // the handshake's events
      }
      ServerConnection peer = server.connections().get(0);
      int sent = 0;
      SdtlsException full = null;
      while (full == null && sent <= MAX) {
        try {
          peer.send(String.format("%06d", sent).getBytes(StandardCharsets.US_ASCII), now);
          sent++;
        } catch (SdtlsException e) {
          full = e;
        }
      }
      assertTrue(full != null && full.code() == SdtlsNative.SDTLS_E_LIMIT, "the server's send queue is bounded");
      assertEquals(MAX, sent);
      assertTrue(full.getMessage().contains("pollDatagram()"), full.getMessage());
      int n = 0;
      for (Server.Datagram d; (d = server.pollDatagram()) != null; ) {
        client.receive(d.data(), now);
        for (Event ev; (ev = client.pollEvent()) != null; n++) {
          assertArrayEquals(String.format("%06d", n).getBytes(StandardCharsets.US_ASCII), ((Event.Data) ev).data());
        }
      }
      assertEquals(MAX, n);

      List<byte[]> out = new ArrayList<>();
      for (int i = 0; i <= MAX; i++) {
        client.send(String.format("%06d", i).getBytes(StandardCharsets.US_ASCII), now);
        out.add(client.pollDatagram());
      }
      for (int i = 0; i < MAX; i++) {
        server.receive(out.get(i), from, now);
      }
      SdtlsException e = assertThrows(SdtlsException.class, () -> server.receive(out.get(MAX), from, now));
      assertEquals(SdtlsNative.SDTLS_E_LIMIT, e.code());
      assertTrue(e.getMessage().contains("pollEvent()"), e.getMessage());
      List<byte[]> got = new ArrayList<>();
      for (ServerEvent ev; (ev = server.pollEvent()) != null; ) {
        got.add(((ServerEvent.Data) ev).data());
      }
      server.receive(out.get(MAX), from, now);
      for (ServerEvent ev; (ev = server.pollEvent()) != null; ) {
        got.add(((ServerEvent.Data) ev).data());
      }
      assertEquals(MAX + 1, got.size());
      for (int i = 0; i <= MAX; i++) {
        assertArrayEquals(String.format("%06d", i).getBytes(StandardCharsets.US_ASCII), got.get(i), "record " + i);
      }
    }
  }

  @Test
  void configListsAreHeldToWhatFitsTheWire() {
    try (Config c = new Config()) {
      String[] many = new String[10000];
      for (int i = 0; i < many.length; i++) {
        many[i] = String.format("p%05d", i);
      }
      SdtlsException e = assertThrows(SdtlsException.class, () -> c.alpn(many));
      assertTrue(e.getMessage().contains("at most " + 4095 + " bytes"), e.getMessage());
      c.alpn(Collections.nCopies(16, "a".repeat(255)).toArray(new String[0])); // 4095 bytes: the most
      assertThrows(SdtlsException.class, () -> c.alpn(Collections.nCopies(17, "a".repeat(255)).toArray(new String[0])));
      e = assertThrows(SdtlsException.class,
          () -> c.srtpProfiles(SrtpProfile.SRTP_AES128_CM_SHA1_80, SrtpProfile.SRTP_AES128_CM_SHA1_80));
      assertTrue(e.getMessage().contains("each at most once"), e.getMessage());
      e = assertThrows(SdtlsException.class, () -> c.groups(Collections.nCopies(10000, "X25519").toArray(new String[0])));
      assertTrue(e.getMessage().contains("at most " + 32), e.getMessage());
      e = assertThrows(SdtlsException.class, () -> c.psk("i".repeat(129), new byte[16]));
      assertTrue(e.getMessage().contains("1..128 bytes"), e.getMessage());
      e = assertThrows(SdtlsException.class, () -> c.pskIdentityHint("h".repeat(129)));
      assertTrue(e.getMessage().contains("1..128 bytes"), e.getMessage());
    }
  }
}
