// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import java.time.Instant;

/**
 * The clock to pass as {@code now}: the rule of sdtls.h ("Time") that every
 * binding follows. Nanoseconds since the UNIX epoch, read from the wall clock
 * once (when this class is loaded) and advanced by {@link System#nanoTime()}
 * from then on. Monotonic, so timers never jump when the wall clock is
 * stepped; on the epoch, because session tickets and cookies carry the time,
 * so that servers sharing a ticket or cookie secret (other processes, other
 * hosts) and a client keeping a session past a restart agree on it. A program
 * that shares nothing may pass any monotonic count (a test's virtual clock).
 */
public final class Time {
  /** What {@link #now()} returns when {@code System.nanoTime()} reads 0. */
  private static final long EPOCH_NS = wallNanos() - System.nanoTime();

  private Time() {}

  /**
   * The current time for sdtls's {@code now} parameters. Thread-safe; never
   * goes backwards.
   *
   * @return nanoseconds since the UNIX epoch, advanced by the monotonic clock
   */
  public static long now() {
    return EPOCH_NS + System.nanoTime();
  }

  /** {@code now} as a call takes it; throws for a negative one. */
  static long checked(long now) {
    if (now < 0) {
      throw new IllegalArgumentException("now must be a non-negative count of nanoseconds");
    }
    return now;
  }

  private static long wallNanos() {
    Instant w = Instant.now();
    return Math.addExact(Math.multiplyExact(w.getEpochSecond(), 1_000_000_000L), w.getNano());
  }
}
