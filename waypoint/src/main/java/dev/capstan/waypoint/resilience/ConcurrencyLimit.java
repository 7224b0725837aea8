package dev.capstan.waypoint.resilience;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * At most {@code max} requests in flight (Envoy's circuit breaker {@code max_requests}); one more
 * is refused at once, there is no queue. A request holds one permit from admission until its
 * answer is complete, its retries included; {@link #release()} exactly once per permit taken.
 * Lock-free; safe from every event loop.
 */
public final class ConcurrencyLimit {

  private final int max;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong refusals = new AtomicLong();

  public ConcurrencyLimit(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("max must be at least 1, got " + max);
    }
    this.max = max;
  }

  /** Takes a permit; {@code false} (counted) when {@code max} are in flight. */
  public boolean tryAcquire() {
    while (true) {
      int n = inFlight.get();
      if (n >= max) {
        refusals.incrementAndGet();
        return false;
      }
      if (inFlight.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** Gives a permit back. */
  public void release() {
    inFlight.updateAndGet(n -> Math.max(0, n - 1));
  }

  public int max() {
    return max;
  }

  public int inFlight() {
    return inFlight.get();
  }

  /** Requests refused so far. */
  public long refusals() {
    return refusals.get();
  }
}
