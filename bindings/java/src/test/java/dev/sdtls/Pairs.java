// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

/** Two connections in one test, carried by hand. */
final class Pairs {
  private Pairs() {}

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
