package dev.capstan.waypoint.resilience;

import dev.capstan.core.model.TrafficPolicy.Budget;
import java.util.function.LongSupplier;

/**
 * A retry budget as Finagle's {@code RetryBudget} and Linkerd's (tower's {@code TpsBudget}) keep it:
 * every request {@link #deposit() deposits} {@code percent}% of a retry and every retry {@link
 * #tryWithdraw() withdraws} one; on top of that, {@code minPerSecond} retries per second are
 * always allowed (a reserve of {@code minPerSecond × ttl} retries). Deposits and withdrawals
 * count for {@code ttl}, kept in ten slots of {@code ttl / 10}, so an entry leaves the window
 * between 0.9 × and 1 × {@code ttl} after it was made.
 *
 * <p>With the defaults (20%, 10/s, 10 s), retries add at most a fifth to the load a service gets,
 * plus 10 a second when it is quiet: a failing service is not hit by a retry storm. Thread-safe;
 * the clock is injected.
 */
public final class RetryBudget {

  private static final int SLOTS = 10;
  /** One retry, in budget units; a deposit is {@code percent × 1000} units. */
  private static final long RETRY = 100_000;

  private final long deposit;
  private final long reserve;
  private final long slotNanos;
  private final LongSupplier nanos;
  private final long[] slots = new long[SLOTS];
  private int current;
  private long currentStart;

  public RetryBudget(Budget budget, LongSupplier nanos) {
    this.deposit = Math.round(budget.percent() * (RETRY / 100));
    long ttlMillis = budget.ttl().toMillis();
    this.reserve = budget.minPerSecond() * ttlMillis * RETRY / 1000;
    this.slotNanos = Math.max(1, budget.ttl().toNanos() / SLOTS);
    this.nanos = nanos;
    this.currentStart = nanos.getAsLong();
  }

  /** A request was sent (its first try): {@code percent}% of a retry is added. */
  public synchronized void deposit() {
    advance();
    slots[current] += deposit;
  }

  /** Takes one retry if the budget has one; {@code false} means do not retry. */
  public synchronized boolean tryWithdraw() {
    advance();
    if (balance() < RETRY) {
      return false;
    }
    slots[current] -= RETRY;
    return true;
  }

  /** Retries the budget would allow now (for the config dump and metrics). */
  public synchronized long available() {
    advance();
    return Math.max(0, balance() / RETRY);
  }

  private long balance() {
    long sum = reserve;
    for (long s : slots) {
      sum += s;
    }
    return sum;
  }

  /** Moves the window to now: slots whose time has passed are emptied and reused. */
  private void advance() {
    long now = nanos.getAsLong();
    long passed = (now - currentStart) / slotNanos;
    if (passed <= 0) {
      return;
    }
    if (passed >= SLOTS) {
      java.util.Arrays.fill(slots, 0);
      current = 0;
      currentStart = now;
      return;
    }
    for (long i = 0; i < passed; i++) {
      current = (current + 1) % SLOTS;
      slots[current] = 0;
    }
    currentStart += passed * slotNanos;
  }
}
