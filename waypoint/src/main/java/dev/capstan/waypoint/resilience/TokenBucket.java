package dev.capstan.waypoint.resilience;

import dev.capstan.core.model.TrafficPolicy.RateLimit;
import java.util.function.LongSupplier;

/**
 * A local rate limit as Envoy's {@code local_ratelimit} keeps it: a bucket of {@code tokens},
 * full at start, given {@code tokensPerFill} more every {@code fillInterval} (never more than it
 * holds); a request takes one token or is refused. Thread-safe; the clock is injected.
 */
public final class TokenBucket {

  private final long capacity;
  private final long perFill;
  private final long intervalNanos;
  private final LongSupplier nanos;
  private long tokens;
  private long lastFill;
  private long refused;

  public TokenBucket(RateLimit limit, LongSupplier nanos) {
    this.capacity = limit.tokens();
    this.perFill = limit.tokensPerFill();
    this.intervalNanos = limit.fillInterval().toNanos();
    this.nanos = nanos;
    this.tokens = capacity;
    this.lastFill = nanos.getAsLong();
  }

  /** Takes a token; {@code false} means the request is over the limit (429). */
  public synchronized boolean tryAcquire() {
    fill();
    if (tokens == 0) {
      refused++;
      return false;
    }
    tokens--;
    return true;
  }

  /** Tokens left now. */
  public synchronized long available() {
    fill();
    return tokens;
  }

  /** Requests refused so far. */
  public synchronized long refused() {
    return refused;
  }

  private void fill() {
    long fills = (nanos.getAsLong() - lastFill) / intervalNanos;
    if (fills <= 0) {
      return;
    }
    tokens = fills >= capacity ? capacity : Math.min(capacity, tokens + fills * perFill);
    lastFill += fills * intervalNanos;
  }
}
