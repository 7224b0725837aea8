package dev.capstan.core.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The whole mesh configuration at one version.
 *
 * @param version opaque version string, shown by {@code /config_dump}
 * @param workloads every workload
 * @param services every service
 * @param policies every authorization policy
 * @param bufferWeights buffer-quota weight by namespace (annotation {@code capstan.dev/buffer-weight});
 *     absent means 1
 * @param trafficPolicies every TrafficPolicy (for waypoints), sorted by namespace and name. Left
 *     out of JSON ({@code Optional} and {@code Duration} have no plain Jackson form): the
 *     controller hashes them from their records' text
 * @param waypoints every declared waypoint
 * @param routes every route the waypoints act on (HTTPRoute, GRPCRoute), validated
 */
public record MeshSnapshot(
    String version, List<Workload> workloads, List<Service> services, List<AuthorizationPolicy> policies,
    Map<String, Integer> bufferWeights,
    @com.fasterxml.jackson.annotation.JsonIgnore List<TrafficPolicy> trafficPolicies,
    List<Waypoint> waypoints, List<RouteManifest> routes) {

  public MeshSnapshot {
    Objects.requireNonNull(version, "version");
    workloads = List.copyOf(workloads == null ? List.of() : workloads);
    services = List.copyOf(services == null ? List.of() : services);
    policies = List.copyOf(policies == null ? List.of() : policies);
    bufferWeights = Map.copyOf(bufferWeights == null ? Map.of() : bufferWeights);
    trafficPolicies = List.copyOf(trafficPolicies == null ? List.of() : trafficPolicies);
    waypoints = List.copyOf(waypoints == null ? List.of() : waypoints);
    routes = List.copyOf(routes == null ? List.of() : routes);
  }

  /** A snapshot without TrafficPolicies, waypoints and routes. */
  public MeshSnapshot(String version, List<Workload> workloads, List<Service> services, List<AuthorizationPolicy> policies,
      Map<String, Integer> bufferWeights) {
    this(version, workloads, services, policies, bufferWeights, List.of(), List.of(), List.of());
  }

  /** A snapshot where every namespace has buffer weight 1. */
  public MeshSnapshot(String version, List<Workload> workloads, List<Service> services, List<AuthorizationPolicy> policies) {
    this(version, workloads, services, policies, Map.of());
  }

  /** An empty mesh. */
  public static MeshSnapshot empty() {
    return new MeshSnapshot("empty", List.of(), List.of(), List.of());
  }
}
