// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sdtls.internal.SdtlsNative;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The multi-peer server: several clients in memory behind distinct
 * addresses (IPv4 and IPv6), the test routing the datagrams.
 */
class ServerTest {
  private static final long MS = 1_000_000L;

  private static InetSocketAddress addr(String ip, int port) {
    try {
      return new InetSocketAddress(InetAddress.getByName(ip), port); // a literal: no lookup
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  /** Moves datagrams between the server and its clients until none is left. */
  private static void pump(Server server, Map<InetSocketAddress, Connection> clients, long now) {
    for (boolean any = true; any; ) {
      any = false;
      for (Map.Entry<InetSocketAddress, Connection> e : clients.entrySet()) {
        for (byte[] d; (d = e.getValue().pollDatagram()) != null; any = true) {
          server.receive(d, e.getKey(), now);
        }
      }
      for (Server.Datagram d; (d = server.pollDatagram()) != null; any = true) {
        Connection c = clients.get(d.address());
        assertNotNull(c, "a datagram for an address no client has: " + d.address());
        c.receive(d.data(), now);
      }
    }
  }

  private static List<ServerEvent> drain(Server s) {
    return Pairs.drain(s::pollEvent);
  }

  @Test
  void severalPeersHandshakeAndGetTheirEcho() {
    Certificate cert = Certificate.generate("server.test", 1);
    Map<InetSocketAddress, Connection> clients = new LinkedHashMap<>();
    try (Config serverConfig = new Config().certificate(cert).alpn("echo");
        Config clientConfig = new Config().peerFingerprint(cert.fingerprint()).alpn("echo");
        Server server = new Server(serverConfig)) {
      clients.put(addr("127.0.0.1", 40001), Connection.client(clientConfig, null));
      clients.put(addr("127.0.0.2", 40002), Connection.client(clientConfig, null));
      clients.put(addr("::1", 40003), Connection.client(clientConfig, null));
      long now = 5_000 * MS;
      for (Connection c : clients.values()) {
        c.start(now);
      }
      pump(server, clients, now);

      Set<InetSocketAddress> connected = new HashSet<>();
      Set<InetSocketAddress> done = new HashSet<>();
      for (ServerEvent e : drain(server)) {
        if (e instanceof ServerEvent.PeerConnected p) {
          connected.add(p.connection().address());
        } else if (e instanceof ServerEvent.HandshakeDone h) {
          done.add(h.connection().address());
          assertTrue(h.cipher().startsWith("TLS_"), h.cipher());
        }
      }
      assertEquals(clients.keySet(), connected, "one connection per address");
      assertEquals(clients.keySet(), done);
      assertEquals(3, server.connections().size());
      assertEquals(3, server.counter(Server.Counter.PEERS));
      assertEquals(3, server.counter(Server.Counter.CONNECTIONS_CREATED));
      assertTrue(server.counter(Server.Counter.COOKIES_SENT) >= 3, "each peer had a cookie exchange");

      // Each client says its address; the server echoes it to that peer.
      for (Map.Entry<InetSocketAddress, Connection> e : clients.entrySet()) {
        assertEquals(State.CONNECTED, e.getValue().state());
        assertInstanceOf(Event.HandshakeDone.class, e.getValue().pollEvent());
        e.getValue().send(e.getKey().toString().getBytes(StandardCharsets.UTF_8), now + MS);
      }
      pump(server, clients, now + MS);
      int echoed = 0;
      for (ServerEvent e : drain(server)) {
        ServerEvent.Data d = assertInstanceOf(ServerEvent.Data.class, e);
        assertEquals(d.connection().address().toString(), new String(d.data(), StandardCharsets.UTF_8));
        d.connection().send(d.data(), now + 2 * MS);
        echoed++;
      }
      assertEquals(3, echoed);
      pump(server, clients, now + 2 * MS);
      for (Map.Entry<InetSocketAddress, Connection> e : clients.entrySet()) {
        Event.Data d = assertInstanceOf(Event.Data.class, e.getValue().pollEvent());
        assertEquals(e.getKey().toString(), new String(d.data(), StandardCharsets.UTF_8));
      }

      // The server's view of a peer answers the queries.
      ServerConnection peer = server.connections().stream()
          .filter(v -> v.address().equals(addr("::1", 40003))).findFirst().orElseThrow();
      Connection client = clients.get(addr("::1", 40003));
      assertEquals(State.CONNECTED, peer.state());
      assertEquals("echo", peer.alpn());
      assertEquals("echo", client.alpn());
      assertEquals(client.cipher(), peer.cipher());
      assertArrayEquals(client.exportKeyingMaterial("EXPERIMENTAL java", new byte[] {1}, 48),
          peer.exportKeyingMaterial("EXPERIMENTAL java", new byte[] {1}, 48));
      assertSame(server, peer.server());

      // One peer ends its connection; the others stay.
      client.shutdown(now + 3 * MS);
      pump(server, clients, now + 3 * MS);
      ServerEvent.Closed closed = assertInstanceOf(ServerEvent.Closed.class, server.pollEvent());
      assertSame(peer, closed.connection());
      assertEquals(0, closed.reason(), "the peer's close_notify");
      assertFalse(peer.isAlive());
      SdtlsException gone = assertThrows(SdtlsException.class, () -> peer.send(new byte[1], now + 3 * MS));
      assertEquals(SdtlsException.Category.CLOSED, gone.category());
      assertThrows(SdtlsException.class, peer::state);
      peer.shutdown(now + 3 * MS); // harmless when gone
      assertEquals(2, server.connections().size());

      // The server's shutdown sends close_notify to every remaining peer.
      server.shutdown(now + 4 * MS);
      List<ServerEvent> ends = drain(server);
      assertEquals(2, ends.size());
      for (ServerEvent e : ends) {
        assertEquals(SdtlsNative.SDTLS_E_CLOSED, assertInstanceOf(ServerEvent.Closed.class, e).reason());
      }
      pump(server, clients, now + 4 * MS);
      for (Connection c : clients.values()) {
        assertEquals(State.CLOSED, c.state());
      }
      assertTrue(server.connections().isEmpty());
      assertEquals(0, server.counter(Server.Counter.PEERS));
    } finally {
      clients.values().forEach(Connection::close);
    }
  }

  @Test
  void aLostServerFlightIsSentAgainAtTheDeadline() {
    Certificate cert = Certificate.generate("server.test", 1);
    InetSocketAddress a = addr("10.0.0.1", 5684);
    try (Config serverConfig = new Config().certificate(cert);
        // Each ClientHello in one datagram (no post-quantum key share), as
        // the steps below count them.
        Config clientConfig =
            new Config().peerFingerprint(cert.fingerprint()).groups("X25519", "P-256");
        Server server = new Server(serverConfig);
        Connection client = Connection.client(clientConfig, null)) {
      assertTrue(server.nextDeadline().isEmpty(), "no peer, no timer");
      client.start(0);
      server.receive(client.pollDatagram(), a, 0); // ClientHello -> HelloVerifyRequest
      client.receive(server.pollDatagram().data(), 0);
      server.receive(client.pollDatagram(), a, 0); // with the cookie -> the server's flight
      assertFalse(server.datagramsToSend().isEmpty()); // lost on the way
      long deadline = server.nextDeadline().orElseThrow();
      server.handleTimeout(deadline);
      pump(server, Map.of(a, client), deadline);
      assertEquals(State.CONNECTED, client.state());
    }
  }

  @Test
  void aPinnedPeerMustPresentThatCertificate() {
    Certificate serverCert = Certificate.generate("server.test", 1);
    Certificate clientCert = Certificate.generate("client.test", 1);
    Certificate other = Certificate.generate("client.test", 1);
    InetSocketAddress a = addr("192.0.2.1", 5000);
    InetSocketAddress b = addr("192.0.2.2", 5000);
    InetSocketAddress c = addr("192.0.2.3", 5000);
    Map<InetSocketAddress, Connection> clients = new LinkedHashMap<>();
    try (Config serverConfig = new Config().certificate(serverCert);
        Config clientConfig = new Config().certificate(clientCert).peerFingerprint(serverCert.fingerprint());
        Server server = new Server(serverConfig)) {
      server.pinPeerFingerprint(a, clientCert.fingerprint());
      server.pinPeerFingerprint(b, "sha-256 " + other.fingerprint());
      for (InetSocketAddress x : List.of(a, b, c)) {
        Connection client = Connection.client(clientConfig, null);
        clients.put(x, client);
        client.start(0);
      }
      pump(server, clients, 0);
      assertEquals(State.CONNECTED, clients.get(a).state(), "the pinned certificate");
      assertEquals(State.FAILED, clients.get(b).state(), "another certificate than the pinned one");
      assertEquals(State.CONNECTED, clients.get(c).state(), "no pin for this address");
      Map<InetSocketAddress, ServerEvent.Closed> closed = new LinkedHashMap<>();
      for (ServerEvent e : drain(server)) {
        if (e instanceof ServerEvent.Closed x) {
          closed.put(x.connection().address(), x);
        }
      }
      assertEquals(Set.of(b), closed.keySet());
      assertEquals(SdtlsException.Category.VERIFY, closed.get(b).error().category());
      ServerConnection pinned = server.connections().stream()
          .filter(v -> v.address().equals(a)).findFirst().orElseThrow();
      assertEquals(clientCert.fingerprint(), pinned.peerFingerprint());

      SdtlsException bad = assertThrows(SdtlsException.class, () -> server.pinPeerFingerprint(a, "AB:CD"));
      assertEquals(SdtlsException.Category.USAGE, bad.category());
      server.pinPeerFingerprint(a, clientCert.fingerprint()); // already there: nothing changes
      // 15 more pins, each other's fingerprint with another first byte
      // (never other's own: the last pin below must be a new one).
      int otherFirst = Integer.parseInt(other.fingerprint().substring(0, 2), 16);
      for (int i = 1, b0 = 0; i < 16; b0++) {
        if (b0 != otherFirst) {
          server.pinPeerFingerprint(a, String.format("%02X", b0) + other.fingerprint().substring(2));
          i++;
        }
      }
      SdtlsException limit = assertThrows(SdtlsException.class,
          () -> server.pinPeerFingerprint(a, other.fingerprint()));
      assertEquals(SdtlsNative.SDTLS_E_LIMIT, limit.code());
      assertEquals(16, server.unpinPeer(a));
      assertEquals(0, server.unpinPeer(a));
      assertEquals(1, server.unpinPeer(b));

      // Unpinned, the address takes any certificate again.
      Connection again = Connection.client(clientConfig, null);
      clients.put(b, again).close();
      again.start(0);
      pump(server, clients, 0);
      assertEquals(State.CONNECTED, again.state(), "after the unpin");
    } finally {
      clients.values().forEach(Connection::close);
    }
  }

  /**
   * A WebRTC server pins one peer per expected connection: 100,000 pins and
   * unpins go through the C table (constant time each; the binding's own
   * list took 3.2 s for 40,000), and an IPv4-mapped IPv6 address is the
   * IPv4 address.
   */
  @Test
  void oneHundredThousandPinsAndUnpins() throws UnknownHostException {
    Certificate cert = Certificate.generate("server.test", 1);
    String pin = "sha-256 " + cert.fingerprint();
    try (Config serverConfig = new Config().certificate(cert); Server server = new Server(serverConfig)) {
      byte[] ip = {10, 0, 0, 0};
      for (int i = 0; i < 100_000; i++) {
        ip[2] = (byte) (i >> 8);
        ip[3] = (byte) i;
        server.pinPeerFingerprint(new InetSocketAddress(InetAddress.getByAddress(ip), 1024 + i % 7), pin);
      }
      int removed = 0;
      for (int i = 0; i < 100_000; i++) {
        ip[2] = (byte) (i >> 8);
        ip[3] = (byte) i;
        removed += server.unpinPeer(new InetSocketAddress(InetAddress.getByAddress(ip), 1024 + i % 7));
      }
      assertEquals(100_000, removed);
      server.pinPeerFingerprint(addr("::ffff:192.0.2.7", 5000), pin);
      assertEquals(1, server.unpinPeer(addr("192.0.2.7", 5000)));
    }
  }

  @Test
  void misuseAfterCloseThrowsAndNothingCrashes() {
    Certificate cert = Certificate.generate("server.test", 1);
    InetSocketAddress a = addr("127.0.0.1", 40001);
    Config serverConfig = new Config().certificate(cert);
    Server server = new Server(serverConfig);
    serverConfig.close(); // the server holds its own reference
    assertThrows(IllegalStateException.class, () -> new Server(serverConfig));
    Connection client;
    try (Config clientConfig = new Config().peerFingerprint(cert.fingerprint())) {
      client = Connection.client(clientConfig, null);
    }
    client.start(0);
    pump(server, Map.of(a, client), 0);
    ServerConnection peer = server.connections().get(0);
    assertEquals(State.CONNECTED, peer.state());

    // The server closed before its connection's view: the view throws.
    server.close();
    server.close();
    assertTrue(server.isClosed());
    assertFalse(peer.isAlive());
    assertThrows(IllegalStateException.class, peer::state);
    assertThrows(IllegalStateException.class, () -> peer.send(new byte[1], 0));
    assertThrows(IllegalStateException.class, () -> peer.exportKeyingMaterial("x", null, 16));
    peer.shutdown(0); // harmless
    assertThrows(IllegalStateException.class, () -> server.receive(new byte[1], a, 0));
    assertThrows(IllegalStateException.class, server::pollDatagram);
    assertThrows(IllegalStateException.class, server::pollEvent);
    assertThrows(IllegalStateException.class, server::nextDeadline);
    assertThrows(IllegalStateException.class, () -> server.counter(Server.Counter.PEERS));
    assertThrows(IllegalStateException.class, () -> server.shutdown(0));
    assertThrows(IllegalStateException.class, () -> server.pinPeerFingerprint(a, cert.fingerprint()));

    // The client goes on alone, and is closed and used after.
    client.send(new byte[] {1}, 0);
    client.close();
    assertThrows(IllegalStateException.class, () -> client.send(new byte[1], 0));
    assertThrows(IllegalStateException.class, client::sessionResumed);
    assertThrows(IllegalStateException.class, client::srtpKeying);
    assertThrows(IllegalStateException.class, () -> client.keyUpdate(0));
  }

  @Test
  void badArgumentsAreRefused() {
    Certificate cert = Certificate.generate("server.test", 1);
    try (Config config = new Config().certificate(cert); Server server = new Server(config)) {
      assertThrows(IllegalArgumentException.class,
          () -> server.receive(new byte[1], InetSocketAddress.createUnresolved("example.com", 1), 0));
      assertThrows(IllegalArgumentException.class, () -> server.receive(new byte[1], addr("::1", 1), -1));
      server.receive(new byte[] {1, 2, 3}, addr("127.0.0.1", 1), 0); // junk is dropped
      assertEquals(1, server.counter(Server.Counter.DROPPED_MALFORMED));
      SdtlsException e = assertThrows(SdtlsException.class, () -> server.cookieSecret(new byte[3], 0));
      assertEquals(SdtlsException.Category.USAGE, e.category());
      server.cookieSecret(new byte[32], 0);
    }
    try (Config empty = new Config()) {
      SdtlsException e = assertThrows(SdtlsException.class, () -> new Server(empty));
      assertEquals(SdtlsNative.SDTLS_E_CREDENTIALS, e.code());
    }
  }

  /** Servers and views dropped without close() are freed by the Cleaner, in whatever order. */
  @Test
  void forgottenHandlesAreCollected() throws InterruptedException {
    Certificate cert = Certificate.generate("server.test", 1);
    for (int i = 0; i < 20; i++) {
      Config serverConfig = new Config().certificate(cert);
      Server server = new Server(serverConfig);
      Connection client = Connection.client(new Config().peerFingerprint(cert.fingerprint()), null);
      client.start(0);
      pump(server, Map.of(addr("127.0.0.1", 1000 + i), client), 0);
      assertEquals(1, server.connections().size());
    }
    System.gc();
    Thread.sleep(50);
    System.gc();
  }
}
