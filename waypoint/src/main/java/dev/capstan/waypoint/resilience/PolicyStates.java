package dev.capstan.waypoint.resilience;

import dev.capstan.core.model.TrafficPolicy.Budget;
import dev.capstan.core.model.TrafficPolicy.Limits;
import dev.capstan.core.model.TrafficPolicy.Outlier;
import dev.capstan.core.model.TrafficPolicy.RateLimit;
import dev.capstan.waypoint.balance.OutlierDetection;
import dev.capstan.waypoint.balance.PeakEwma;
import dev.capstan.waypoint.balance.RoundRobin;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The stateful parts of the services' policies — retry budgets, token buckets, concurrency
 * limits, outlier detection, round-robin turns — kept across config versions: one per waypoint,
 * handed to every {@link TrafficPolicies}. Each part is keyed by its service and by its own
 * settings, so a part whose settings did not change keeps its state when a new config arrives
 * (a budget is not refilled, a bucket not topped up, ejected endpoints stay out), and a part
 * whose settings changed starts afresh. Thread-safe.
 */
public final class PolicyStates {

  private final LongSupplier nanos;
  private final PeakEwma peakEwma;
  private final Part<Budget, RetryBudget> budgets = new Part<>();
  private final Part<RateLimit, TokenBucket> buckets = new Part<>();
  private final Part<Limits, ConcurrencyLimit> limits = new Part<>();
  private final Part<Outlier, OutlierDetection> outliers = new Part<>();
  private final Part<String, RoundRobin> turns = new Part<>();

  /**
   * @param nanos the clock of budgets, buckets and outlier detection
   * @param peakEwma the waypoint's latency-aware picker, shared by every service (its state is per endpoint)
   */
  public PolicyStates(LongSupplier nanos, PeakEwma peakEwma) {
    this.nanos = nanos;
    this.peakEwma = peakEwma;
  }

  RetryBudget budget(String service, Budget budget) {
    return budgets.get(service, budget, b -> new RetryBudget(b, nanos));
  }

  TokenBucket bucket(String service, RateLimit limit) {
    return buckets.get(service, limit, l -> new TokenBucket(l, nanos));
  }

  ConcurrencyLimit limit(String service, Limits l) {
    return limits.get(service, l, x -> new ConcurrencyLimit(x.maxConcurrentRequests()));
  }

  OutlierDetection outliers(String service, Outlier outlier) {
    return outliers.get(service, outlier, o -> new OutlierDetection(settings(o), nanos));
  }

  RoundRobin roundRobin(String service) {
    return turns.get(service, "", x -> new RoundRobin());
  }

  PeakEwma peakEwma() {
    return peakEwma;
  }

  /** {@link OutlierDetection}'s settings for a TrafficPolicy's {@code outlierDetection}. */
  public static OutlierDetection.Settings settings(Outlier o) {
    return new OutlierDetection.Settings(o.consecutive5xx(), o.baseEjectionTime().toNanos(),
        o.maxEjectionTime().toNanos(), o.maxEjectionPercent() / 100.0);
  }

  /**
   * Forgets the state of services that {@code known} ({@code namespace/name}) no longer accepts;
   * the waypoint calls it with its services when a new config version arrives.
   */
  public void retain(Predicate<String> known) {
    budgets.retain(known);
    buckets.retain(known);
    limits.retain(known);
    outliers.retain(known);
    turns.retain(known);
  }

  /** Services with any state (for tests and the config dump). */
  public int size() {
    return outliers.entries.size();
  }

  private static final class Part<C, S> {
    private record Entry<C, S>(C settings, S state) {}

    private final Map<String, Entry<C, S>> entries = new ConcurrentHashMap<>();

    S get(String service, C settings, Function<C, S> make) {
      return entries.compute(service, (k, e) ->
          e != null && e.settings().equals(settings) ? e : new Entry<>(settings, make.apply(settings))).state();
    }

    void retain(Predicate<String> known) {
      entries.keySet().removeIf(known.negate());
    }
  }
}
