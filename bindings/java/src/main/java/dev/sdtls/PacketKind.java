// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import dev.sdtls.internal.SdtlsNative;

/**
 * What a datagram on a socket shared by several protocols is, by its first
 * byte as RFC 7983 and RFC 9443 divide it (WebRTC runs STUN, DTLS and SRTP on
 * one UDP port). {@link #classify(byte[])} is the C library's
 * {@code sdtls_classify}.
 */
public enum PacketKind {
  /** Empty, or a first byte no range names. */
  UNKNOWN(SdtlsNative.SDTLS_PACKET_UNKNOWN),
  /** 0..3: to the ICE agent. */
  STUN(SdtlsNative.SDTLS_PACKET_STUN),
  /** 16..19. */
  ZRTP(SdtlsNative.SDTLS_PACKET_ZRTP),
  /** 20..63: to a {@link Connection} or {@link Server}. */
  DTLS(SdtlsNative.SDTLS_PACKET_DTLS),
  /** 64..79: TURN ChannelData. */
  TURN_CHANNEL(SdtlsNative.SDTLS_PACKET_TURN_CHANNEL),
  /** 80..127 and 192..255 (RFC 9443). */
  QUIC(SdtlsNative.SDTLS_PACKET_QUIC),
  /** 128..191: RTP or RTCP (SRTP, SRTCP). */
  RTP(SdtlsNative.SDTLS_PACKET_RTP);

  private final int id;

  PacketKind(int id) {
    this.id = id;
  }

  /**
   * Classifies a datagram; an empty one is {@link #UNKNOWN}. Only its first
   * byte is read. Thread-safe.
   *
   * @throws NullPointerException for null
   */
  public static PacketKind classify(byte[] datagram) {
    if (datagram == null) {
      throw new NullPointerException("datagram");
    }
    int id = SdtlsNative.sdtls_classify(datagram);
    for (PacketKind k : values()) {
      if (k.id == id) {
        return k;
      }
    }
    return UNKNOWN;
  }
}
