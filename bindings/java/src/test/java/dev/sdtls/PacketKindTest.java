// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** PacketKind.classify: RFC 7983 / RFC 9443 for every first byte. */
class PacketKindTest {
  /** RFC 7983 7 with RFC 9443 3, as the RFCs' figure lists the ranges. */
  private static PacketKind rfc7983(int b) {
    return b <= 3 ? PacketKind.STUN
        : b <= 15 ? PacketKind.UNKNOWN
        : b <= 19 ? PacketKind.ZRTP
        : b <= 63 ? PacketKind.DTLS
        : b <= 79 ? PacketKind.TURN_CHANNEL
        : b <= 127 ? PacketKind.QUIC
        : b <= 191 ? PacketKind.RTP
        : PacketKind.QUIC;
  }

  @Test
  void everyFirstByte() {
    for (int b = 0; b < 256; b++) {
      assertEquals(rfc7983(b), PacketKind.classify(new byte[] {(byte) b, (byte) 0xff}), "first byte " + b);
      assertEquals(rfc7983(b), PacketKind.classify(new byte[] {(byte) b}), "first byte " + b + " alone");
    }
    assertEquals(PacketKind.UNKNOWN, PacketKind.classify(new byte[0]));
    assertThrows(NullPointerException.class, () -> PacketKind.classify(null));
  }

  @Test
  void whatAConnectionSendsIsDtls() {
    try (Config config = new Config().verifyPeer(false);
        Connection client = Connection.client(config, null)) {
      client.start(1_000_000_000L);
      byte[] hello = client.pollDatagram();
      assertEquals(PacketKind.DTLS, PacketKind.classify(hello));
    }
  }
}
