package dev.capstan.nodeagent.quota;

import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Per-tenant caps on new connections: at most {@code maxConnections} open at once, and new ones at
 * most {@code connectionsPerSecond} on average with bursts of {@code burst} (a token bucket, kept as
 * one theoretical arrival time updated by compare-and-set: no lock on the event loop).
 */
public final class TenantLimits {

  /**
   * @param maxConnections connections a tenant may have open through this agent
   * @param connectionsPerSecond sustained rate of new connections per tenant
   * @param burst new connections a tenant may open at once above the rate
   */
  public record Settings(int maxConnections, int connectionsPerSecond, int burst) {
    public Settings {
      if (maxConnections < 1 || connectionsPerSecond < 1 || burst < 1) {
        throw new IllegalArgumentException("limits must be at least 1: " + maxConnections + ", " + connectionsPerSecond + ", " + burst);
      }
    }
  }

  /** Why a connection was refused (metric label). */
  public enum Refusal {
    CONNECTION_LIMIT("connection_limit"),
    RATE_LIMIT("rate_limit");

    private final String label;

    Refusal(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  /** An admitted connection: release it once, when the connection closes. */
  public interface Permit {
    void release();
  }

  private final Settings settings;
  private final LongSupplier nanoTime;
  private final long interval;
  private final ConcurrentHashMap<String, State> tenants = new ConcurrentHashMap<>();

  public TenantLimits(Settings settings, LongSupplier nanoTime) {
    this.settings = settings;
    this.nanoTime = nanoTime;
    this.interval = 1_000_000_000L / settings.connectionsPerSecond();
  }

  public Settings settings() {
    return settings;
  }

  /** Admits a new connection of {@code tenant}, or says why not. */
  public Admission admit(String tenant) {
    State s = tenants.computeIfAbsent(tenant, t -> new State());
    if (s.open.incrementAndGet() > settings.maxConnections()) {
      s.open.decrementAndGet();
      return new Admission(Optional.empty(), Optional.of(Refusal.CONNECTION_LIMIT));
    }
    if (!s.takeToken()) {
      s.open.decrementAndGet();
      return new Admission(Optional.empty(), Optional.of(Refusal.RATE_LIMIT));
    }
    java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
    return new Admission(Optional.of(() -> {
      if (released.compareAndSet(false, true)) {
        s.open.decrementAndGet();
      }
    }), Optional.empty());
  }

  /** Connections of {@code tenant} open now (admitted, not released). */
  public int open(String tenant) {
    State s = tenants.get(tenant);
    return s == null ? 0 : s.open.get();
  }

  /**
   * The outcome of {@link #admit}: a permit, or the refusal.
   *
   * @param permit present when admitted
   * @param refusal present when refused
   */
  public record Admission(Optional<Permit> permit, Optional<Refusal> refusal) {}

  private final class State {
    final AtomicInteger open = new AtomicInteger();
    /** Generic cell rate algorithm: the time the bucket would be empty again. */
    final AtomicLong theoreticalArrival = new AtomicLong(nanoTime.getAsLong());

    boolean takeToken() {
      long tolerance = interval * (settings.burst() - 1L);
      while (true) {
        long now = nanoTime.getAsLong();
        long tat = theoreticalArrival.get();
        long start = Math.max(tat, now);
        if (start - now > tolerance) {
          return false;
        }
        if (theoreticalArrival.compareAndSet(tat, start + interval)) {
          return true;
        }
      }
    }
  }
}
