package dev.capstan.waypoint.state;

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

  public WaypointView(String version, List<Service> services, List<Workload> workloads, List<HttpRoute> routes) {
    this.version = version;
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

  /** The routing table of a service port, compiled once per version. */
  public RouteTable routes(Service service, int port) {
    return tables.computeIfAbsent(service.key() + ":" + port, k -> RouteTable.compile(routes, service.key(), port));
  }
}
