package dev.capstan.nodeagent.quota;

import dev.capstan.nodeagent.quota.TenantBudget.Tenant;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one tenant from taking the agent's CPU from the others: while the agent's event loops run
 * late (the agent is overloaded), the heaviest readers (more than an equal share of what the agent
 * reads, and at least half of what the heaviest reads) get a read-rate limit that shrinks until the loops are on time again; once they are, the
 * limits grow back and are lifted. A tenant reading less than an equal share is never limited, and
 * a tenant alone is never limited: the limits only decide who yields when tenants compete.
 *
 * <p>The control is additive-increase, multiplicative-decrease, every {@link Settings#interval}:
 * overloaded means some event loop was later than {@link Settings#target} in at least
 * {@link #LATE_SHARE} of its samples over the interval (the agent's {@code EventLoopDelay} probe,
 * every 10 ms). A limited tenant is cut to
 * {@link #DECREASE} of the rate it read at (never below {@link Settings#floor}); not overloaded,
 * its limit grows by {@link Settings#increase} per second and is lifted
 * once the tenant has read under half of it for {@link #LIFT_AFTER} intervals in a row. Tenants
 * reading less than twice the floor are never limited. Allowances are refilled on every {@link #tick}.
 *
 * <p>Thread-safety: {@link #lateness} from any event loop; {@link #tick} from one scheduler thread.
 */
public final class LoadGovernor {
  private static final Logger LOG = LoggerFactory.getLogger(LoadGovernor.class);
  static final double DECREASE = 0.7;
  /** On-time intervals in a row, with a tenant reading under half its limit, before the limit is lifted. */
  static final int LIFT_AFTER = 20;
  /** Share of a loop's samples that must be late for the agent to count as overloaded. */
  static final double LATE_SHARE = 0.3;
  /** Event loops told apart (more are folded onto these). */
  static final int LOOPS = 64;

  /**
   * @param target event-loop lateness that counts as late (see {@link #LATE_SHARE})
   * @param interval how often limits are decided
   * @param floor the least read rate a limited tenant keeps, bytes per second
   * @param increase how fast a limit grows back while the loops are on time, bytes per second per second
   */
  public record Settings(Duration target, Duration interval, long floor, long increase) {
    public Settings {
      if (target.isNegative() || target.isZero()) {
        throw new IllegalArgumentException("target must be positive, got " + target);
      }
      if (interval.toMillis() < 10) {
        throw new IllegalArgumentException("interval must be at least 10ms, got " + interval);
      }
      if (floor < 1024) {
        throw new IllegalArgumentException("floor must be at least 1 KiB/s, got " + floor);
      }
      if (increase < 1024) {
        throw new IllegalArgumentException("increase must be at least 1 KiB/s per second, got " + increase);
      }
    }

    /** What a limit grows by in one interval. */
    long step() {
      return Math.max(1, increase * interval.toMillis() / 1000);
    }

    /**
     * Decided every 100 ms (ten samples per loop), limits never below 1 MiB/s, growing back by 4 MiB/s every second: a
     * limit cut from 50 to 35 MB/s takes about 4 s to get back, so an agent at its limit is late
     * for one interval every few seconds rather than every one.
     */
    public static Settings defaults(Duration target) {
      return new Settings(target, Duration.ofMillis(100), 1 << 20, 4 << 20);
    }
  }

  private final TenantBudget budget;
  private final Settings settings;
  /** Per event loop (index modulo {@link #LOOPS}): samples, and samples later than the target, since the last decision. */
  private final AtomicLongArray samples = new AtomicLongArray(LOOPS);
  private final AtomicLongArray lateSamples = new AtomicLongArray(LOOPS);
  private final Map<Tenant, Long> lastRead = new HashMap<>();
  private final Map<Tenant, Integer> slack = new HashMap<>();
  private long lastTick;
  private long lastDecision;
  private volatile boolean overloaded;
  private volatile long overloadedIntervals;

  public LoadGovernor(TenantBudget budget, Settings settings, long nowNanos) {
    this.budget = budget;
    this.settings = settings;
    this.lastTick = nowNanos;
    this.lastDecision = nowNanos;
  }

  /** One lateness sample of event loop {@code loop}, in nanoseconds. */
  public void lateness(int loop, long nanos) {
    samples.incrementAndGet(loop % LOOPS);
    if (nanos > settings.target().toNanos()) {
      lateSamples.incrementAndGet(loop % LOOPS);
    }
  }

  /** Whether the last decided interval was overloaded. */
  public boolean overloaded() {
    return overloaded;
  }

  /** Intervals found overloaded so far. */
  public long overloadedIntervals() {
    return overloadedIntervals;
  }

  /** Refills allowances; once per interval, decides the limits. Call every few milliseconds. */
  public void tick(long nowNanos) {
    long elapsed = nowNanos - lastTick;
    lastTick = nowNanos;
    List<Tenant> tenants = budget.tenants();
    for (Tenant t : tenants) {
      t.refill(elapsed);
    }
    long sinceDecision = nowNanos - lastDecision;
    if (sinceDecision < settings.interval().toNanos()) {
      return;
    }
    lastDecision = nowNanos;
    // Overloaded when any loop was late in at least LATE_SHARE of its samples: a tenant's
    // connections on one busy loop delay everyone else's on that loop, however idle the other
    // loops are. A share of late samples rather than the mean lateness, so that one pause (a young
    // GC stops every loop at once, one late sample each) is not taken for a busy loop.
    boolean over = false;
    for (int i = 0; i < LOOPS; i++) {
      long n = samples.getAndSet(i, 0);
      long late = lateSamples.getAndSet(i, 0);
      over |= n > 0 && late >= LATE_SHARE * n;
    }
    overloaded = over;
    if (over) {
      overloadedIntervals++;
    }
    decide(tenants, sinceDecision, over);
  }

  private void decide(List<Tenant> tenants, long intervalNanos, boolean over) {
    Map<Tenant, Long> rates = new HashMap<>();
    long total = 0;
    int reading = 0;
    for (Tenant t : tenants) {
      long read = t.readBytes();
      Long before = lastRead.put(t, read);
      long rate = before == null ? 0 : (read - before) * 1_000_000_000L / Math.max(1, intervalNanos);
      rates.put(t, rate);
      total += rate;
      if (t.connections() > 0) {
        reading++;
      }
    }
    long equalShare = reading == 0 ? Long.MAX_VALUE : total / reading;
    long heaviest = rates.values().stream().mapToLong(Long::longValue).max().orElse(0);
    for (Tenant t : tenants) {
      long rate = rates.get(t);
      long limit = t.rateLimit();
      if (over && reading > 1 && rate > equalShare && rate > 2 * settings.floor() && rate >= heaviest / 2) {
        slack.remove(t);
        long cut = Math.max(settings.floor(), (long) (Math.min(rate, limit == 0 ? rate : limit) * DECREASE));
        if (limit == 0) {
          LOG.info("agent overloaded (event loops late): limiting tenant {} to {} KiB/s (it read {} KiB/s, {} tenants active)",
              t.name(), cut / 1024, rate / 1024, reading);
        }
        t.limitRate(cut);
      } else if (!over && limit > 0) {
        // On time: the limit grows back; once it has not bound the tenant for LIFT_AFTER intervals in a row, it goes.
        int unbound = rate < limit / 2 ? slack.merge(t, 1, Integer::sum) : 0;
        if (unbound == 0) {
          slack.remove(t);
        }
        if (unbound >= LIFT_AFTER) {
          LOG.info("tenant {} no longer limited (agent on time, it reads {} KiB/s)", t.name(), rate / 1024);
          slack.remove(t);
          t.limitRate(0);
        } else {
          t.limitRate(limit + settings.step()); // additive: back to where it hurt, slowly
        }
      }
    }
    lastRead.keySet().retainAll(tenants);
    slack.keySet().retainAll(tenants);
  }
}
