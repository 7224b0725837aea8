package dev.capstan.core.model;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Capstan's {@code TrafficPolicy}: how a waypoint treats the requests for the services it targets —
 * retries and their budget, per-try timeout, outlier detection, limits, a local rate limit, fault
 * injection and the load balancer. Each part is optional; an absent part keeps the waypoint's
 * default (see {@code docs/traffic-policy.md}).
 *
 * <p>Which policy applies to a service ({@link #select}): a policy naming the service in {@code
 * targets} wins over a namespace-wide one (empty {@code targets}); among several of the same kind
 * the oldest wins, then the first by name. Policies are never merged: the chosen one is the whole
 * configuration of the service.
 *
 * @param namespace namespace of the policy and of the services it targets
 * @param name policy name
 * @param createdAt creation time in epoch seconds (oldest wins a tie); 0 when unknown
 * @param targets names of Services of the namespace; empty means every service of the namespace
 * @param retry retries, or empty for none
 * @param outlier outlier detection settings, or empty for the waypoint's defaults
 * @param limits request limits, or empty for none
 * @param rateLimit the local rate limit, or empty for none
 * @param faults fault injection, or empty for none
 * @param loadBalancer how an endpoint is chosen
 */
public record TrafficPolicy(
    String namespace, String name, long createdAt, List<String> targets, Optional<Retry> retry,
    Optional<Outlier> outlier, Optional<Limits> limits, Optional<RateLimit> rateLimit, Optional<Faults> faults,
    LoadBalancer loadBalancer) {

  public TrafficPolicy {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    targets = List.copyOf(targets == null ? List.of() : targets.stream().distinct().sorted().toList());
    retry = retry == null ? Optional.empty() : retry;
    outlier = outlier == null ? Optional.empty() : outlier;
    limits = limits == null ? Optional.empty() : limits;
    rateLimit = rateLimit == null ? Optional.empty() : rateLimit;
    faults = faults == null ? Optional.empty() : faults;
    loadBalancer = loadBalancer == null ? LoadBalancer.PEAK_EWMA : loadBalancer;
  }

  /** The key {@code namespace/name}. */
  public String key() {
    return namespace + "/" + name;
  }

  /** Whether this policy names {@code service} of its namespace in {@code targets}. */
  public boolean targets(String serviceNamespace, String serviceName) {
    return namespace.equals(serviceNamespace) && targets.contains(serviceName);
  }

  /** Whether this policy applies to every service of its namespace. */
  public boolean namespaceWide() {
    return targets.isEmpty();
  }

  private static final Comparator<TrafficPolicy> PRECEDENCE =
      Comparator.comparingLong(TrafficPolicy::createdAt).thenComparing(TrafficPolicy::name);

  /**
   * The policy of service {@code namespace/name} among {@code policies}: the oldest (then first by
   * name) that targets it by name; else the oldest namespace-wide policy of its namespace; else none.
   */
  public static Optional<TrafficPolicy> select(List<TrafficPolicy> policies, String namespace, String name) {
    Optional<TrafficPolicy> targeted = policies.stream().filter(p -> p.targets(namespace, name)).min(PRECEDENCE);
    if (targeted.isPresent()) {
      return targeted;
    }
    return policies.stream().filter(p -> p.namespace().equals(namespace) && p.namespaceWide()).min(PRECEDENCE);
  }

  /** How the waypoint picks an endpoint. */
  public enum LoadBalancer {
    /** Power of two choices over peak-EWMA latency (Finagle, Linkerd); the default. */
    PEAK_EWMA,
    /** Each endpoint in turn. */
    ROUND_ROBIN
  }

  /**
   * Retries.
   *
   * @param attempts retries after the first try (0 = none)
   * @param retryOn conditions, each one of {@link #CONDITIONS}, a status {@code 503} or a range
   *     {@code 500-504}; lower-case and validated ({@link #checkRetryOn})
   * @param perTryTimeout the limit of each try, or {@code null} for none (the route's timeout still
   *     bounds the whole request)
   * @param backoffBase the first retry waits a random time below this; each next one doubles it
   * @param backoffMax the longest wait
   * @param budget the share of requests that may be retried
   */
  public record Retry(
      int attempts, List<String> retryOn, Duration perTryTimeout, Duration backoffBase, Duration backoffMax,
      Budget budget) {

    /** The named conditions, as Envoy spells them. */
    public static final List<String> CONDITIONS = List.of("5xx", "gateway-error", "connect-failure", "reset");

    /** Istio's defaults: connection failures, resets and 503. */
    public static final List<String> DEFAULT_RETRY_ON = List.of("connect-failure", "reset", "503");

    public static final int DEFAULT_ATTEMPTS = 2;
    public static final Duration DEFAULT_BACKOFF_BASE = Duration.ofMillis(25);
    public static final Duration DEFAULT_BACKOFF_MAX = Duration.ofMillis(250);

    public Retry {
      if (attempts < 0) {
        throw new IllegalArgumentException("attempts must not be negative, got " + attempts);
      }
      for (String c : retryOn == null ? DEFAULT_RETRY_ON : retryOn) {
        checkRetryOn(c).ifPresent(problem -> {
          throw new IllegalArgumentException(problem);
        });
      }
      retryOn = (retryOn == null ? DEFAULT_RETRY_ON : retryOn).stream()
          .map(c -> c.trim().toLowerCase(Locale.ROOT)).distinct().toList();
      backoffBase = backoffBase == null ? DEFAULT_BACKOFF_BASE : backoffBase;
      backoffMax = backoffMax == null ? DEFAULT_BACKOFF_MAX : backoffMax;
      if (backoffBase.isNegative() || backoffBase.isZero() || backoffMax.compareTo(backoffBase) < 0) {
        throw new IllegalArgumentException("backoff must be 0 < base <= max, got " + backoffBase + " and " + backoffMax);
      }
      budget = budget == null ? Budget.DEFAULT : budget;
    }

    /** Defaults: 2 retries on connect failures, resets and 503, backoff 25 to 250 ms, Linkerd's budget. */
    public static Retry defaults() {
      return new Retry(DEFAULT_ATTEMPTS, DEFAULT_RETRY_ON, null, null, null, Budget.DEFAULT);
    }

    /**
     * Why {@code condition} is not a valid {@code retryOn} entry, or empty when it is: a named
     * condition, a status 100–599, or a range {@code low-high} of such statuses.
     */
    public static Optional<String> checkRetryOn(String condition) {
      String c = condition == null ? "" : condition.trim().toLowerCase(Locale.ROOT);
      if (CONDITIONS.contains(c)) {
        return Optional.empty();
      }
      String[] range = c.split("-", -1);
      if (range.length <= 2 && range.length >= 1) {
        try {
          int low = Integer.parseInt(range[0]);
          int high = range.length == 2 ? Integer.parseInt(range[1]) : low;
          if (low >= 100 && high <= 599 && low <= high) {
            return Optional.empty();
          }
        } catch (NumberFormatException e) {
          // not a number: reported below
        }
      }
      return Optional.of("'" + condition + "' is not a retry condition (" + String.join(", ", CONDITIONS)
          + ", a status such as 503 or a range such as 500-504)");
    }
  }

  /**
   * A retry budget as Finagle and Linkerd keep it: each request deposits {@code percent}% of a
   * retry, each retry withdraws one; besides, {@code minPerSecond} retries a second are always
   * allowed; deposits and withdrawals count for {@code ttl}.
   *
   * @param percent share of requests that may be retried, 0–100
   * @param minPerSecond retries allowed per second whatever the traffic
   * @param ttl how long a deposit counts, 1 s – 60 s
   */
  public record Budget(double percent, int minPerSecond, Duration ttl) {

    /** Linkerd's: 20% of requests, plus 10 retries a second, over 10 s. */
    public static final Budget DEFAULT = new Budget(20, 10, Duration.ofSeconds(10));

    public Budget {
      if (!(percent >= 0 && percent <= 100)) {
        throw new IllegalArgumentException("percent must be between 0 and 100, got " + percent);
      }
      if (minPerSecond < 0) {
        throw new IllegalArgumentException("minPerSecond must not be negative, got " + minPerSecond);
      }
      Objects.requireNonNull(ttl, "ttl");
      if (ttl.compareTo(Duration.ofSeconds(1)) < 0 || ttl.compareTo(Duration.ofSeconds(60)) > 0) {
        throw new IllegalArgumentException("ttl must be between 1s and 60s, got " + ttl);
      }
    }
  }

  /**
   * Outlier detection (Envoy's consecutive 5xx).
   *
   * @param consecutive5xx 5xx answers or failures in a row that eject an endpoint; 0 turns outlier
   *     detection off
   * @param baseEjectionTime the first ejection; the n-th lasts n times as long
   * @param maxEjectionTime the longest ejection
   * @param maxEjectionPercent share of a service's endpoints that may be out at once, 0–100
   */
  public record Outlier(int consecutive5xx, Duration baseEjectionTime, Duration maxEjectionTime, int maxEjectionPercent) {

    /** The waypoint's defaults: 5 in a row, 30 s growing to 300 s, half of the endpoints at most. */
    public static final Outlier DEFAULT = new Outlier(5, Duration.ofSeconds(30), Duration.ofSeconds(300), 50);

    public Outlier {
      if (consecutive5xx < 0) {
        throw new IllegalArgumentException("consecutive5xx must not be negative, got " + consecutive5xx);
      }
      Objects.requireNonNull(baseEjectionTime, "baseEjectionTime");
      Objects.requireNonNull(maxEjectionTime, "maxEjectionTime");
      if (baseEjectionTime.isNegative() || baseEjectionTime.isZero() || maxEjectionTime.compareTo(baseEjectionTime) < 0) {
        throw new IllegalArgumentException(
            "ejection times must be 0 < base <= max, got " + baseEjectionTime + " and " + maxEjectionTime);
      }
      if (maxEjectionPercent < 0 || maxEjectionPercent > 100) {
        throw new IllegalArgumentException("maxEjectionPercent must be between 0 and 100, got " + maxEjectionPercent);
      }
    }

    /** Whether outlier detection is on. */
    public boolean enabled() {
      return consecutive5xx > 0;
    }
  }

  /**
   * Request limits of the waypoint for one service (Envoy's circuit breaker {@code max_requests}).
   *
   * @param maxConcurrentRequests requests in flight to the service from one waypoint (a request
   *     holds one permit until its answer is complete, its retries included); one more is
   *     refused at once with 503 (there is no queue, so no separate pending limit)
   */
  public record Limits(int maxConcurrentRequests) {
    public Limits {
      if (maxConcurrentRequests < 1) {
        throw new IllegalArgumentException("maxConcurrentRequests must be at least 1, got " + maxConcurrentRequests);
      }
    }
  }

  /**
   * A local rate limit: a token bucket per waypoint per service, full at start; a request takes a
   * token or is answered 429.
   *
   * @param tokens the bucket's size
   * @param tokensPerFill tokens added each {@code fillInterval}
   * @param fillInterval how often tokens are added, at least 50 ms
   */
  public record RateLimit(int tokens, int tokensPerFill, Duration fillInterval) {
    public RateLimit {
      if (tokens < 1 || tokensPerFill < 1) {
        throw new IllegalArgumentException("tokens and tokensPerFill must be at least 1, got " + tokens + " and " + tokensPerFill);
      }
      Objects.requireNonNull(fillInterval, "fillInterval");
      if (fillInterval.compareTo(Duration.ofMillis(50)) < 0) {
        throw new IllegalArgumentException("fillInterval must be at least 50ms, got " + fillInterval);
      }
    }
  }

  /**
   * Fault injection; with both, a request may be delayed and then aborted.
   *
   * @param delay delays a share of requests, or {@code null}
   * @param abort answers a share of requests with a status instead of forwarding them, or {@code null}
   */
  public record Faults(Delay delay, Abort abort) {
    public Faults {
      if (delay == null && abort == null) {
        throw new IllegalArgumentException("faults need a delay, an abort or both");
      }
    }
  }

  /**
   * @param percent share of requests delayed, 0–100
   * @param duration how long
   */
  public record Delay(double percent, Duration duration) {
    public Delay {
      checkPercent(percent);
      Objects.requireNonNull(duration, "duration");
      if (duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException("delay must be positive, got " + duration);
      }
    }
  }

  /**
   * @param percent share of requests aborted, 0–100
   * @param httpStatus the status answered, 200–599
   */
  public record Abort(double percent, int httpStatus) {
    public Abort {
      checkPercent(percent);
      if (httpStatus < 200 || httpStatus > 599) {
        throw new IllegalArgumentException("httpStatus must be between 200 and 599, got " + httpStatus);
      }
    }
  }

  private static void checkPercent(double percent) {
    if (!(percent >= 0 && percent <= 100)) {
      throw new IllegalArgumentException("percent must be between 0 and 100, got " + percent);
    }
  }
}
