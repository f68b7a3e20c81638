// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/** Two connections in one test, carried by hand. */
final class Pairs {
  private Pairs() {}

  /**
   * A server and a client connection (the client sends no server name), with
   * the configs they were made with; {@link #close} closes all four, client
   * first, as a try-with-resources of the four would.
   */
  record Pair(Config serverConfig, Config clientConfig, Connection server, Connection client)
      implements AutoCloseable {
    static Pair of(Config serverConfig, Config clientConfig) {
      return new Pair(serverConfig, clientConfig, Connection.server(serverConfig),
          Connection.client(clientConfig, null));
    }

    /** A server over {@code cert} and a client that pins its SHA-256 fingerprint. */
    static Pair pinned(Certificate cert) {
      return of(new Config().certificate(cert), new Config().peerFingerprint(cert.fingerprint()));
    }

    /** Starts the client and pumps the handshake at {@code now}; returns how many datagrams moved. */
    int handshake(long now) {
      client.start(now);
      return pump(client, server, now);
    }

    @Override
    public void close() {
      client.close();
      server.close();
      clientConfig.close();
      serverConfig.close();
    }
  }

  /** Every item {@code poll} hands out until it returns null, in order. */
  static <T> List<T> drain(Supplier<T> poll) {
    List<T> all = new ArrayList<>();
    for (T e; (e = poll.get()) != null; ) {
      all.add(e);
    }
    return all;
  }

  /** Moves every datagram each way until neither side has one; returns how many moved. */
  static int pump(Connection a, Connection b, long now) {
    int moved = 0;
    for (boolean any = true; any; ) {
      any = false;
      for (byte[] d; (d = a.pollDatagram()) != null; moved++, any = true) {
        b.receive(d, now);
      }
      for (byte[] d; (d = b.pollDatagram()) != null; moved++, any = true) {
        a.receive(d, now);
      }
    }
    return moved;
  }
}
