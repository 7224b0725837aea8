package dev.capstan.core.policy;

import dev.capstan.core.config.ConfigException;
import dev.capstan.core.config.Fields;
import dev.capstan.core.model.TrafficPolicy;
import dev.capstan.core.model.TrafficPolicy.Abort;
import dev.capstan.core.model.TrafficPolicy.Budget;
import dev.capstan.core.model.TrafficPolicy.Delay;
import dev.capstan.core.model.TrafficPolicy.Faults;
import dev.capstan.core.model.TrafficPolicy.Limits;
import dev.capstan.core.model.TrafficPolicy.LoadBalancer;
import dev.capstan.core.model.TrafficPolicy.Outlier;
import dev.capstan.core.model.TrafficPolicy.RateLimit;
import dev.capstan.core.model.TrafficPolicy.Retry;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Reads a Capstan {@code TrafficPolicy} ({@code capstan.dev/v1alpha1}) manifest into {@link
 * TrafficPolicy}. Every bad value — a negative number, a percentage over 100, an unknown retry
 * condition or load balancer, a malformed duration, an unknown field — is a {@link ConfigException}
 * naming the field, as {@code <source>: spec.retry.budget.percent must be between 0 and 100, got 120}.
 *
 * <pre>
 * apiVersion: capstan.dev/v1alpha1
 * kind: TrafficPolicy
 * metadata: {name: reviews, namespace: shop}
 * spec:
 *   targetRefs: [{kind: Service, name: reviews}]     # absent or empty: every service of the namespace
 *   retry:
 *     attempts: 2
 *     retryOn: [connect-failure, reset, "503"]     # 5xx, gateway-error, connect-failure, reset, 503, 500-504
 *     perTryTimeout: 500ms
 *     backoff: {baseInterval: 25ms, maxInterval: 250ms}
 *     budget: {percent: 20, minRetriesPerSecond: 10, ttl: 10s}
 *   outlierDetection: {consecutive5xx: 5, baseEjectionTime: 30s, maxEjectionTime: 300s, maxEjectionPercent: 50}
 *   limits: {maxConcurrentRequests: 1000}
 *   rateLimit: {tokens: 100, tokensPerFill: 10, fillInterval: 1s}
 *   faultInjection:
 *     delay: {percent: 10, fixedDelay: 2s}
 *     abort: {percent: 5, httpStatus: 503}
 *   loadBalancer: PEAK_EWMA                         # or ROUND_ROBIN
 * </pre>
 */
public final class TrafficPolicyManifest {

  public static final String API_VERSION = "capstan.dev/v1alpha1";
  public static final String KIND = "TrafficPolicy";

  private TrafficPolicyManifest() {}

  /** The policy of a YAML or JSON manifest; {@code source} names it in errors. */
  public static TrafficPolicy parse(String text, String source) {
    Fields f = Fields.parse(text, source);
    f.only("apiVersion", "kind", "metadata", "spec", "status");
    String apiVersion = f.string("apiVersion");
    if (!apiVersion.equals(API_VERSION)) {
      throw new ConfigException(f.at("apiVersion") + " must be " + API_VERSION + ", got '" + apiVersion + "'");
    }
    if (!f.string("kind").equals(KIND)) {
      throw new ConfigException(f.at("kind") + " must be " + KIND + ", got '" + f.string("kind") + "'");
    }
    Fields meta = f.object("metadata");
    String namespace = meta.string("namespace", "default");
    String name = meta.string("name");
    long created = meta.optionalString("creationTimestamp").map(t -> {
      try {
        return Instant.parse(t).getEpochSecond();
      } catch (DateTimeParseException e) {
        throw new ConfigException(meta.at("creationTimestamp") + " must be an RFC 3339 time, got '" + t + "'");
      }
    }).orElse(0L);
    Fields spec = f.optionalObject("spec").orElse(null);
    if (spec == null) {
      return new TrafficPolicy(namespace, name, created, List.of(), null, null, null, null, null, null);
    }
    return spec(spec, namespace, name, created);
  }

  /** The policy of a manifest's {@code spec} (the controller reads custom resources through this too). */
  public static TrafficPolicy spec(Fields spec, String namespace, String name, long createdAt) {
    spec.only("targetRefs", "retry", "outlierDetection", "limits", "rateLimit", "faultInjection", "loadBalancer");
    List<String> targets = spec.list("targetRefs", (t, i) -> {
      t.only("group", "kind", "name");
      String group = t.string("group", "");
      String kind = t.string("kind", "Service");
      if (!(group.isEmpty() || group.equals("core")) || !kind.equals("Service")) {
        throw new ConfigException(t.path() + ": only Services of the policy's namespace can be targeted, got "
            + (group.isEmpty() ? "" : group + "/") + kind);
      }
      return t.string("name");
    });
    Optional<Retry> retry = spec.optionalObject("retry").map(TrafficPolicyManifest::retry);
    Optional<Outlier> outlier = spec.optionalObject("outlierDetection").map(TrafficPolicyManifest::outlier);
    Optional<Limits> limits = spec.optionalObject("limits").map(l -> {
      l.only("maxConcurrentRequests");
      if (!l.has("maxConcurrentRequests")) {
        throw new ConfigException(l.at("maxConcurrentRequests") + " is required");
      }
      return new Limits(l.integer("maxConcurrentRequests", 0, 1, 1_000_000));
    });
    Optional<RateLimit> rateLimit = spec.optionalObject("rateLimit").map(TrafficPolicyManifest::rateLimit);
    Optional<Faults> faults = spec.optionalObject("faultInjection").map(TrafficPolicyManifest::faults);
    LoadBalancer lb = spec.optionalString("loadBalancer").map(s -> loadBalancer(s, spec.at("loadBalancer")))
        .orElse(LoadBalancer.PEAK_EWMA);
    return new TrafficPolicy(namespace, name, createdAt, targets, retry, outlier, limits, rateLimit, faults, lb);
  }

  private static Retry retry(Fields r) {
    r.only("attempts", "retryOn", "perTryTimeout", "backoff", "budget");
    int attempts = r.integer("attempts", Retry.DEFAULT_ATTEMPTS, 0, 10);
    List<String> retryOn = Retry.DEFAULT_RETRY_ON;
    if (r.has("retryOn")) {
      retryOn = r.strings("retryOn");
      if (retryOn.isEmpty()) {
        throw new ConfigException(r.at("retryOn") + " must name at least one condition (or leave it out for "
            + String.join(", ", Retry.DEFAULT_RETRY_ON) + ")");
      }
      for (int i = 0; i < retryOn.size(); i++) {
        String at = r.at("retryOn") + "[" + i + "]";
        Retry.checkRetryOn(retryOn.get(i)).ifPresent(problem -> {
          throw new ConfigException(at + ": " + problem);
        });
      }
    }
    Duration perTry = positiveOrNone(r, "perTryTimeout");
    Duration base = Retry.DEFAULT_BACKOFF_BASE;
    Duration max = Retry.DEFAULT_BACKOFF_MAX;
    Optional<Fields> backoff = r.optionalObject("backoff");
    if (backoff.isPresent()) {
      Fields b = backoff.get();
      b.only("baseInterval", "maxInterval");
      base = positive(b, "baseInterval", Retry.DEFAULT_BACKOFF_BASE);
      // Envoy: the longest wait is ten times the base unless given.
      max = b.duration("maxInterval", base.multipliedBy(10));
      if (max.compareTo(base) < 0) {
        throw new ConfigException(b.at("maxInterval") + " must not be shorter than baseInterval (" + base.toMillis() + "ms)");
      }
    }
    Budget budget = r.optionalObject("budget").map(b -> {
      b.only("percent", "minRetriesPerSecond", "ttl");
      double percent = b.decimal("percent", Budget.DEFAULT.percent(), 0, 100);
      int min = b.integer("minRetriesPerSecond", Budget.DEFAULT.minPerSecond(), 0, 100_000);
      Duration ttl = b.duration("ttl", Budget.DEFAULT.ttl());
      if (ttl.compareTo(Duration.ofSeconds(1)) < 0 || ttl.compareTo(Duration.ofSeconds(60)) > 0) {
        throw new ConfigException(b.at("ttl") + " must be between 1s and 60s, got '" + b.string("ttl") + "'");
      }
      return new Budget(percent, min, ttl);
    }).orElse(Budget.DEFAULT);
    List<String> on = retryOn;
    Duration b0 = base;
    Duration b1 = max;
    return build(r, () -> new Retry(attempts, on, perTry, b0, b1, budget));
  }

  private static Outlier outlier(Fields o) {
    o.only("consecutive5xx", "baseEjectionTime", "maxEjectionTime", "maxEjectionPercent");
    Outlier d = Outlier.DEFAULT;
    int consecutive = o.integer("consecutive5xx", d.consecutive5xx(), 0, 100_000);
    Duration base = positive(o, "baseEjectionTime", d.baseEjectionTime());
    Duration max = o.duration("maxEjectionTime", base.compareTo(d.maxEjectionTime()) > 0 ? base : d.maxEjectionTime());
    if (max.compareTo(base) < 0) {
      throw new ConfigException(o.at("maxEjectionTime") + " must not be shorter than baseEjectionTime ("
          + base.toMillis() + "ms)");
    }
    int percent = o.integer("maxEjectionPercent", d.maxEjectionPercent(), 0, 100);
    return build(o, () -> new Outlier(consecutive, base, max, percent));
  }

  private static RateLimit rateLimit(Fields l) {
    l.only("tokens", "tokensPerFill", "fillInterval");
    if (!l.has("tokens")) {
      throw new ConfigException(l.at("tokens") + " is required");
    }
    int tokens = l.integer("tokens", 0, 1, 1_000_000_000);
    int perFill = l.integer("tokensPerFill", tokens, 1, 1_000_000_000);
    if (!l.has("fillInterval")) {
      throw new ConfigException(l.at("fillInterval") + " is required");
    }
    Duration interval = l.duration("fillInterval", null);
    if (interval.compareTo(Duration.ofMillis(50)) < 0) {
      throw new ConfigException(l.at("fillInterval") + " must be at least 50ms, got '" + l.string("fillInterval") + "'");
    }
    return build(l, () -> new RateLimit(tokens, perFill, interval));
  }

  private static Faults faults(Fields f) {
    f.only("delay", "abort");
    Delay delay = f.optionalObject("delay").map(d -> {
      d.only("percent", "fixedDelay");
      double percent = d.decimal("percent", 100, 0, 100);
      if (!d.has("fixedDelay")) {
        throw new ConfigException(d.at("fixedDelay") + " is required");
      }
      Duration fixed = positive(d, "fixedDelay", null);
      return build(d, () -> new Delay(percent, fixed));
    }).orElse(null);
    Abort abort = f.optionalObject("abort").map(a -> {
      a.only("percent", "httpStatus");
      double percent = a.decimal("percent", 100, 0, 100);
      if (!a.has("httpStatus")) {
        throw new ConfigException(a.at("httpStatus") + " is required");
      }
      int status = a.integer("httpStatus", 0, 200, 599);
      return build(a, () -> new Abort(percent, status));
    }).orElse(null);
    if (delay == null && abort == null) {
      throw new ConfigException(f.path() + " needs a delay, an abort or both");
    }
    return new Faults(delay, abort);
  }

  private static LoadBalancer loadBalancer(String value, String at) {
    String v = value.trim().toUpperCase(Locale.ROOT).replace("_", "").replace("-", "");
    if (v.equals("PEAKEWMA")) {
      return LoadBalancer.PEAK_EWMA;
    }
    if (v.equals("ROUNDROBIN")) {
      return LoadBalancer.ROUND_ROBIN;
    }
    throw new ConfigException(at + " must be PEAK_EWMA or ROUND_ROBIN, got '" + value + "'");
  }

  /** A duration that must be more than zero. */
  private static Duration positive(Fields f, String key, Duration defaultValue) {
    Duration d = f.duration(key, defaultValue);
    if (d != null && (d.isZero() || d.isNegative())) {
      throw new ConfigException(f.at(key) + " must be more than zero, got '" + f.string(key) + "'");
    }
    return d;
  }

  /** A duration where zero (or absence) means none. */
  private static Duration positiveOrNone(Fields f, String key) {
    Duration d = f.duration(key, null);
    return d == null || d.isZero() ? null : d;
  }

  /** The model's own checks, should one catch what the parsing above let through, named by the object's path. */
  private static <T> T build(Fields at, java.util.function.Supplier<T> make) {
    try {
      return make.get();
    } catch (IllegalArgumentException e) {
      throw new ConfigException(at.path() + ": " + e.getMessage());
    }
  }
}
