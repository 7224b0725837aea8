package dev.capstan.waypoint.balance;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntUnaryOperator;
import java.util.function.LongSupplier;

/**
 * Power of two choices over peak EWMA latency, as Finagle and Linkerd balance: draw two endpoints,
 * send to the one with the lower cost = (moving average of its latency) × (its requests in flight
 * + 1). The average jumps up at once to a slower answer (peak) and decays towards faster ones with
 * time constant {@code decay}, so a slowing endpoint is avoided quickly and forgiven gradually.
 * An endpoint never measured costs {@code initial}.
 *
 * <p>State is kept per endpoint key across config versions (an endpoint that stays keeps its
 * history) and is safe to use from every event loop.
 */
public final class PeakEwma implements Picker {

  private final long decayNanos;
  private final long initialNanos;
  private final LongSupplier nanoTime;
  private final Map<String, Stats> stats = new ConcurrentHashMap<>();

  /** {@code nanoTime} is injected so tests can move time. */
  public PeakEwma(long decayNanos, long initialNanos, LongSupplier nanoTime) {
    this.decayNanos = decayNanos;
    this.initialNanos = initialNanos;
    this.nanoTime = nanoTime;
  }

  /** A request in flight to an endpoint; {@link #done()} exactly once. */
  public final class Request {
    private final Stats stats;
    private final long start;
    private boolean done;

    private Request(Stats stats, long start) {
      this.stats = stats;
      this.start = start;
    }

    /** The endpoint answered (or failed) now: its latency is observed. */
    public void done() {
      if (done) {
        return;
      }
      done = true;
      stats.finish(nanoTime.getAsLong() - start);
    }
  }

  /**
   * Picks one of {@code keys} (at least one): with one, that one; else the cheaper of two distinct
   * ones drawn with {@code random} (a number in {@code [0, bound)}).
   */
  @Override
  public int pick(List<String> keys, IntUnaryOperator random) {
    int n = keys.size();
    if (n == 1) {
      return 0;
    }
    int a = random.applyAsInt(n);
    int b = random.applyAsInt(n - 1);
    if (b >= a) {
      b++;
    }
    return cost(keys.get(a)) <= cost(keys.get(b)) ? a : b;
  }

  /** Starts a request to {@code key}. */
  public Request start(String key) {
    Stats s = stats.computeIfAbsent(key, k -> new Stats());
    s.begin();
    return new Request(s, nanoTime.getAsLong());
  }

  /** The current cost of {@code key} (for tests and the config dump). */
  public double cost(String key) {
    Stats s = stats.get(key);
    return s == null ? initialNanos : s.cost();
  }

  private final class Stats {
    private double ewma = initialNanos;
    private long stamp = nanoTime.getAsLong();
    private int pending;

    synchronized void begin() {
      pending++;
    }

    synchronized void finish(long rtt) {
      pending = Math.max(0, pending - 1);
      long now = nanoTime.getAsLong();
      if (rtt > ewma) {
        ewma = rtt;
      } else {
        double w = Math.exp(-(double) Math.max(0, now - stamp) / decayNanos);
        ewma = ewma * w + rtt * (1 - w);
      }
      stamp = now;
    }

    synchronized double cost() {
      // Decayed to now, so an endpoint that stopped being picked is forgiven as time passes.
      double w = Math.exp(-(double) Math.max(0, nanoTime.getAsLong() - stamp) / decayNanos);
      double decayed = ewma * w + initialNanos * (1 - w);
      return decayed * (pending + 1);
    }
  }
}
