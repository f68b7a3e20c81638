// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One record of a holder's queue, as bindings/sdtls.i lays it out for every
 * language (qrec): int32 kind, int32 reason, int64 id, five int32 lengths
 * (address, data, detail, version, cipher), then those bytes, in native
 * byte order.
 */
record QueuedRecord(int kind, int reason, long id, byte[] address, byte[] data, String detail,
    String version, String cipher) {

  /** The records of one take of a queue (null: none). */
  static List<QueuedRecord> all(byte[] raw) {
    List<QueuedRecord> out = new ArrayList<>();
    if (raw == null) {
      return out;
    }
    ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.nativeOrder());
    while (b.hasRemaining()) {
      int kind = b.getInt();
      int reason = b.getInt();
      long id = b.getLong();
      byte[] address = new byte[b.getInt()];
      byte[] data = new byte[b.getInt()];
      byte[] detail = new byte[b.getInt()];
      byte[] version = new byte[b.getInt()];
      byte[] cipher = new byte[b.getInt()];
      b.get(address).get(data).get(detail).get(version).get(cipher);
      out.add(new QueuedRecord(kind, reason, id, address, data, ascii(detail), ascii(version), ascii(cipher)));
    }
    return out;
  }

  /** Throws for a take that reported {@code lost} (nonzero) events lost for want of memory. */
  static void checkLost(int lost) {
    if (lost != 0) {
      throw new SdtlsException(lost, "an event was lost for want of memory");
    }
  }

  private static String ascii(byte[] b) {
    return new String(b, StandardCharsets.US_ASCII);
  }
}
