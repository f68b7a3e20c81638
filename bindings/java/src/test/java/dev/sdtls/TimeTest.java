// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Time.now() follows sdtls.h's rule: the UNIX epoch, advanced monotonically. */
class TimeTest {
  private static long wallNanos() {
    Instant w = Instant.now();
    return w.getEpochSecond() * 1_000_000_000L + w.getNano();
  }

  @Test
  void nowIsTheWallClockAdvancedMonotonically() {
    long second = 1_000_000_000L;
    long before = wallNanos();
    long now = Time.now();
    long after = wallNanos();
    assertTrue(before - second < now && now < after + second, before + " " + now + " " + after);
    long later = Time.now();
    assertTrue(later >= now, "Time.now() went backwards");
  }
}
