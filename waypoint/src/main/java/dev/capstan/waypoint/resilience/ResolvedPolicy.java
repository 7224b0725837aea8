package dev.capstan.waypoint.resilience;

import dev.capstan.core.model.TrafficPolicy;
import dev.capstan.core.model.TrafficPolicy.LoadBalancer;
import dev.capstan.core.model.TrafficPolicy.Outlier;
import dev.capstan.waypoint.balance.OutlierDetection;
import dev.capstan.waypoint.balance.Picker;
import dev.capstan.waypoint.resilience.RetryPolicy.Outcome;
import java.util.Optional;
import java.util.function.DoubleSupplier;

/**
 * What the waypoint applies to the requests of one service, compiled once per config version from
 * the service's {@link TrafficPolicy} (or from none: no retries, no limits, no faults, default
 * outlier detection, P2C over peak EWMA). Per request:
 *
 * <ol>
 *   <li>{@link #admit} — the rate limit (429), fault injection (delay, abort), the concurrency
 *       limit (503), in that order; a request let through has taken a permit and deposited in
 *       the retry budget, and {@link #release} must follow once its answer is complete;
 *   <li>per try: pick an endpoint among {@code outliers().available(peers)} with {@link #picker},
 *       bound the try by {@code retry().perTryTimeoutNanos()}, then report it to outlier detection;
 *   <li>after a failed try: {@link #afterTry} says whether to retry and after how long.
 * </ol>
 */
public final class ResolvedPolicy {

  /** Why a request was answered by the waypoint instead of forwarded, or that it goes on. */
  public enum Verdict {
    /** Forward it (after {@code delayNanos} when a delay was injected). */
    FORWARD,
    /** Over the local rate limit: 429. */
    RATE_LIMITED,
    /** Over the concurrency limit: 503. */
    OVERFLOW,
    /** Aborted by fault injection: {@code status} (after {@code delayNanos}). */
    FAULT_ABORT
  }

  /**
   * The admission of one request.
   *
   * @param verdict what to do
   * @param status the status to answer for anything but {@code FORWARD}, else 0
   * @param delayNanos an injected delay to wait first, or 0
   * @param permit whether a concurrency permit was taken (then {@link #release} once done)
   */
  public record Admission(Verdict verdict, int status, long delayNanos, boolean permit) {
    /** The access log's flag: {@code rate_limited}, {@code overflow}, {@code fault_abort}, {@code fault_delay}, or null. */
    public String flag() {
      return switch (verdict) {
        case RATE_LIMITED -> "rate_limited";
        case OVERFLOW -> "overflow";
        case FAULT_ABORT -> "fault_abort";
        case FORWARD -> delayNanos > 0 ? "fault_delay" : null;
      };
    }
  }

  private final String service;
  private final Optional<TrafficPolicy> policy;
  private final RetryPolicy retry;
  private final RetryBudget budget;
  private final TokenBucket bucket;
  private final ConcurrencyLimit limit;
  private final FaultInjection faults;
  private final OutlierDetection outliers;
  private final LoadBalancer loadBalancer;
  private final Picker picker;

  ResolvedPolicy(String service, Optional<TrafficPolicy> policy, PolicyStates states) {
    this.service = service;
    this.policy = policy;
    TrafficPolicy p = policy.orElse(null);
    this.retry = p == null || p.retry().isEmpty() ? RetryPolicy.NONE : RetryPolicy.of(p.retry().get());
    this.budget = p == null || p.retry().isEmpty() ? null : states.budget(service, p.retry().get().budget());
    this.bucket = p == null || p.rateLimit().isEmpty() ? null : states.bucket(service, p.rateLimit().get());
    this.limit = p == null || p.limits().isEmpty() ? null : states.limit(service, p.limits().get());
    this.faults = p == null || p.faults().isEmpty() ? FaultInjection.NONE : FaultInjection.of(p.faults().get());
    Outlier outlier = p == null ? Outlier.DEFAULT : p.outlier().orElse(Outlier.DEFAULT);
    this.outliers = outlier.enabled() ? states.outliers(service, outlier) : null;
    this.loadBalancer = p == null ? LoadBalancer.PEAK_EWMA : p.loadBalancer();
    this.picker = loadBalancer == LoadBalancer.ROUND_ROBIN ? states.roundRobin(service) : states.peakEwma();
  }

  /** {@code namespace/name} of the service. */
  public String service() {
    return service;
  }

  /** The policy applied, if any. */
  public Optional<TrafficPolicy> policy() {
    return policy;
  }

  /** {@code namespace/name} of the policy applied, or {@code none}. */
  public String policyName() {
    return policy.map(TrafficPolicy::key).orElse("none");
  }

  public RetryPolicy retry() {
    return retry;
  }

  /** The service's retry budget, when it has retries. */
  public Optional<RetryBudget> budget() {
    return Optional.ofNullable(budget);
  }

  public Optional<TokenBucket> rateLimit() {
    return Optional.ofNullable(bucket);
  }

  public Optional<ConcurrencyLimit> limit() {
    return Optional.ofNullable(limit);
  }

  public FaultInjection faults() {
    return faults;
  }

  /** Outlier detection of the service's endpoints; empty when the policy turns it off. */
  public Optional<OutlierDetection> outliers() {
    return Optional.ofNullable(outliers);
  }

  public LoadBalancer loadBalancer() {
    return loadBalancer;
  }

  /** The picker of {@link #loadBalancer()}: the waypoint's shared PeakEwma or this service's RoundRobin. */
  public Picker picker() {
    return picker;
  }

  /** Admits one request (see the class comment); {@code random} gives numbers in {@code [0, 1)}. */
  public Admission admit(DoubleSupplier random) {
    if (bucket != null && !bucket.tryAcquire()) {
      return new Admission(Verdict.RATE_LIMITED, 429, 0, false);
    }
    FaultInjection.Fault fault = faults.decide(random);
    if (fault.aborted()) {
      return new Admission(Verdict.FAULT_ABORT, fault.abortStatus(), fault.delayNanos(), false);
    }
    if (limit != null && !limit.tryAcquire()) {
      return new Admission(Verdict.OVERFLOW, 503, 0, false);
    }
    if (budget != null) {
      budget.deposit();
    }
    return new Admission(Verdict.FORWARD, 0, fault.delayNanos(), limit != null);
  }

  /** The request admitted by {@code admission} is over (answered, failed or abandoned). */
  public void release(Admission admission) {
    if (admission.permit() && limit != null) {
      limit.release();
    }
  }

  /**
   * Whether to try again after try number {@code tries} (1 for the first) ended with {@code
   * outcome}; see {@link RetryPolicy#decide}.
   */
  public RetryPolicy.Decision afterTry(int tries, Outcome outcome, boolean replayable, DoubleSupplier random) {
    if (budget == null) {
      return new RetryPolicy.Decision(RetryPolicy.Reason.NOT_RETRYABLE, 0);
    }
    return retry.decide(tries, outcome, replayable, budget, random);
  }
}
