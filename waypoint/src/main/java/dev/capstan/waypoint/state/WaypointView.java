package dev.capstan.waypoint.state;

import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.TrafficPolicy;
import dev.capstan.waypoint.authz.ServiceAuthorizations;
import dev.capstan.waypoint.resilience.PolicyStates;
import dev.capstan.waypoint.resilience.TrafficPolicies;

import dev.capstan.core.model.HttpRoute;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.Workload;
import dev.capstan.waypoint.route.RouteTable;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * One version of what the waypoint routes by: services by VIP:port and by name, workloads by uid,
 * and the HTTPRoutes. A service port's {@link RouteTable} is compiled the first time a request
 * needs it and kept for this version, so per-request work is a lookup.
 */
public final class WaypointView {

  private final String version;
  private final Map<String, Service> byKey;
  private final Map<InetSocketAddress, Service> byVip;
  private final Map<String, Workload> workloads;
  private final List<HttpRoute> routes;
  private final Map<String, RouteTable> tables = new ConcurrentHashMap<>();
  private final List<TrafficPolicy> trafficPolicies;
  private final List<AuthorizationPolicy> authorizationPolicies;
  private volatile TrafficPolicies compiledPolicies;
  private volatile ServiceAuthorizations compiledAuthorizations;

  public WaypointView(String version, List<Service> services, List<Workload> workloads, List<HttpRoute> routes) {
    this(version, services, workloads, routes, List.of(), List.of());
  }

  /**
   * With the TrafficPolicies (per backend service) and the AuthorizationPolicies (those with
   * targets are the waypoint's to enforce) of this version.
   */
  public WaypointView(String version, List<Service> services, List<Workload> workloads, List<HttpRoute> routes,
      List<TrafficPolicy> trafficPolicies, List<AuthorizationPolicy> authorizationPolicies) {
    this.version = version;
    this.trafficPolicies = List.copyOf(trafficPolicies);
    this.authorizationPolicies = List.copyOf(authorizationPolicies);
    this.byKey = services.stream().collect(Collectors.toUnmodifiableMap(Service::key, s -> s, (a, b) -> a));
    Map<InetSocketAddress, Service> vips = new HashMap<>();
    for (Service s : services) {
      for (String vip : s.vips()) {
        s.ports().forEach(p -> vips.put(new InetSocketAddress(vip, p.port()), s));
      }
    }
    this.byVip = Map.copyOf(vips);
    this.workloads = workloads.stream().collect(Collectors.toUnmodifiableMap(Workload::uid, w -> w, (a, b) -> a));
    this.routes = List.copyOf(routes);
  }

  /** The version string, as the config dump shows it. */
  public String version() {
    return version;
  }

  /** The service behind a VIP and port. */
  public Optional<Service> serviceByVip(InetSocketAddress vip) {
    return Optional.ofNullable(byVip.get(vip));
  }

  /** A service by {@code namespace/name}. */
  public Optional<Service> service(String key) {
    return Optional.ofNullable(byKey.get(key));
  }

  /** A workload by uid. */
  public Optional<Workload> workload(String uid) {
    return Optional.ofNullable(workloads.get(uid));
  }

  /** How many HTTPRoutes this version has. */
  public int routeCount() {
    return routes.size();
  }

  /** The routes' {@code namespace/name}, for the config dump. */
  public List<String> routeKeys() {
    return routes.stream().map(HttpRoute::key).toList();
  }

  /** The TrafficPolicies of this version, resolved per service on demand; state lives in {@code states}. */
  public TrafficPolicies trafficPolicies(PolicyStates states) {
    TrafficPolicies compiled = compiledPolicies;
    if (compiled == null) {
      compiled = new TrafficPolicies(trafficPolicies, states);
      compiledPolicies = compiled;
    }
    return compiled;
  }

  /** The L7 authorization of this version's services (the AuthorizationPolicies that target them). */
  public ServiceAuthorizations authorizations() {
    ServiceAuthorizations compiled = compiledAuthorizations;
    if (compiled == null) {
      compiled = new ServiceAuthorizations(authorizationPolicies);
      compiledAuthorizations = compiled;
    }
    return compiled;
  }

  /** Whether a service of this version has {@code namespace/name} (policy state of others may go). */
  public boolean hasService(String key) {
    return byKey.containsKey(key);
  }

  /** How many TrafficPolicies this version has. */
  public int trafficPolicyCount() {
    return trafficPolicies.size();
  }

  /** The routing table of a service port, compiled once per version. */
  public RouteTable routes(Service service, int port) {
    return tables.computeIfAbsent(service.key() + ":" + port, k -> RouteTable.compile(routes, service.key(), port));
  }
}
