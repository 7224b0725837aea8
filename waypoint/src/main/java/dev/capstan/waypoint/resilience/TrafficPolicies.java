package dev.capstan.waypoint.resilience;

import dev.capstan.core.model.TrafficPolicy;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The TrafficPolicies of one config version, resolved per service on first use and kept for the
 * version (the lookup per request is one map read). Which policy applies to a service is {@link
 * TrafficPolicy#select}: one naming it beats a namespace-wide one, the oldest wins, never merged.
 * Stateful parts come from the waypoint's {@link PolicyStates}, so they outlive the version.
 */
public final class TrafficPolicies {

  private final List<TrafficPolicy> policies;
  private final PolicyStates states;
  private final Map<String, ResolvedPolicy> resolved = new ConcurrentHashMap<>();

  public TrafficPolicies(List<TrafficPolicy> policies, PolicyStates states) {
    this.policies = List.copyOf(policies);
    this.states = states;
  }

  /** The policy of service {@code namespace/name}. */
  public ResolvedPolicy forService(String namespace, String name) {
    return forService(namespace + "/" + name);
  }

  /** The policy of the service keyed {@code namespace/name} (per request: a lookup, the key split only the first time). */
  public ResolvedPolicy forService(String key) {
    ResolvedPolicy r = resolved.get(key);
    if (r != null) {
      return r;
    }
    return resolved.computeIfAbsent(key, k -> {
      String[] nn = k.split("/", 2);
      return new ResolvedPolicy(k, TrafficPolicy.select(policies, nn[0], nn.length > 1 ? nn[1] : ""), states);
    });
  }

  public List<TrafficPolicy> policies() {
    return policies;
  }
}
