// SPDX-License-Identifier: Apache-2.0

package dev.sdtls;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The Java side of a holder's queue (datagrams or events), as
 * {@link Connection} and {@link Server} hand it out: {@code fetch} moves
 * what the holder has queued onto it. The caller holds its object's lock.
 */
final class Queues {
  private Queues() {}

  /** The next one, fetched when none is left; null when there is none. */
  static <T> T poll(ArrayDeque<T> queue, Runnable fetch) {
    if (queue.isEmpty()) {
      fetch.run();
    }
    return queue.poll();
  }

  /** Every one, in order, after a fetch (the queue is emptied). */
  static <T> List<T> drain(ArrayDeque<T> queue, Runnable fetch) {
    fetch.run();
    List<T> all = new ArrayList<>(queue);
    queue.clear();
    return all;
  }
}
