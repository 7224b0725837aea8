package dev.capstan.waypoint.state;

import dev.capstan.core.config.ConfigException;
import dev.capstan.core.gateway.Routes;
import dev.capstan.core.mesh.MeshMaps;
import dev.capstan.core.mesh.MeshMirror;
import dev.capstan.core.mesh.NamespacePolicies;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.TrafficPolicy;
import dev.capstan.core.mesh.MeshMirror.Table;
import dev.capstan.core.mesh.MeshVersion;
import dev.capstan.core.model.HttpRoute;
import dev.capstan.core.model.RouteManifest;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.Workload;
import dev.capstan.waypoint.config.WaypointConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the waypoint routes by, as the controller publishes it in Hazelcast: a {@link MeshMirror} of
 * the workload, service and route maps (events applied on one thread, a full re-read after every
 * reconnect, last known good while the controller is away, the anti-entropy check), from which
 * each change builds one new {@link WaypointView}, labelled with the published version.
 *
 * <p>Routes travel as manifests the controller already validated; each is read here with the
 * same parser ({@link Routes}) once per manifest text. One that does not read (a controller of
 * another version) is left out with a warning, the others go on.
 */
public final class HazelcastWaypointView implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(HazelcastWaypointView.class);

  private final List<Consumer<WaypointView>> listeners = new CopyOnWriteArrayList<>();
  // Owned by the mirror thread.
  private final Table<String, Workload> workloads = Table.of(MeshMaps.WORKLOADS, MeshVersion.Counts::workloads);
  private final Table<String, Service> services = Table.of(MeshMaps.SERVICES, MeshVersion.Counts::services);
  private final Table<String, RouteManifest> routes = Table.of(MeshMaps.ROUTES, MeshVersion.Counts::routes);
  private final Table<String, TrafficPolicy> trafficPolicies =
      Table.of(MeshMaps.TRAFFIC_POLICIES, MeshVersion.Counts::trafficPolicies);
  private final Table<String, NamespacePolicies> policies = Table.of(MeshMaps.POLICIES, MeshVersion.Counts::policies);
  /** Each manifest read once: the route, or empty when it does not read. */
  private Map<RouteManifest, Optional<HttpRoute>> parsed = new HashMap<>();
  private volatile WaypointView current = new WaypointView("none", List.of(), List.of(), List.of());
  /** Whether {@link #current} holds a loaded version. */
  private volatile boolean built;
  private final MeshMirror mirror;

  /** Starts connecting in the background; the view is empty and not ready until the first load. */
  public HazelcastWaypointView(WaypointConfig.Controller settings, String instanceName, Duration checkEvery) {
    this.mirror = new MeshMirror(instanceName, settings.clusterName(), settings.members(),
        List.of(workloads, services, routes, trafficPolicies, policies), this::rebuild, checkEvery, "capstan-waypoint-mesh");
  }

  /** The view in force (empty before the first load). */
  public WaypointView current() {
    return current;
  }

  /** Calls {@code listener} with each new view, on the mirror's thread. */
  public void onChange(Consumer<WaypointView> listener) {
    listeners.add(listener);
  }

  /** Whether the view holds the first version loaded from the controller. */
  public boolean ready() {
    return built;
  }

  /** Waits for the first full load. */
  public boolean awaitReady(long timeout, TimeUnit unit) throws InterruptedException {
    return mirror.awaitReady(timeout, unit);
  }

  /** The published version in force, or {@code null} before the first load. */
  public MeshVersion version() {
    return mirror.version();
  }

  private void rebuild(MeshVersion version) {
    Map<String, Workload> byUid = new LinkedHashMap<>();
    workloads.read().values().forEach(w -> byUid.putIfAbsent(w.uid(), w));
    Map<RouteManifest, Optional<HttpRoute>> next = new HashMap<>();
    List<HttpRoute> read = new ArrayList<>();
    routes.read().values().stream().sorted(Comparator.comparing(RouteManifest::key)).forEach(m -> {
      Optional<HttpRoute> route = parsed.get(m);
      if (route == null) {
        route = parse(m);
      }
      next.put(m, route);
      route.ifPresent(read::add);
    });
    parsed = next;
    List<TrafficPolicy> traffic = trafficPolicies.read().values().stream().sorted(Comparator.comparing(TrafficPolicy::key)).toList();
    List<AuthorizationPolicy> authorizations = policies.read().values().stream()
        .sorted(Comparator.comparing(NamespacePolicies::namespace)).flatMap(n -> n.policies().stream()).toList();
    WaypointView view = new WaypointView(version.label(), List.copyOf(services.read().values()),
        List.copyOf(byUid.values()), read, traffic, authorizations);
    current = view;
    built = true;
    listeners.forEach(l -> {
      try {
        l.accept(view);
      } catch (RuntimeException e) {
        LOG.error("waypoint view listener failed: {}", e.toString(), e);
      }
    });
  }

  private static Optional<HttpRoute> parse(RouteManifest manifest) {
    try {
      return Optional.of(Routes.parse(manifest));
    } catch (ConfigException | IllegalArgumentException e) {
      LOG.warn("route {} from the controller left out, the waypoint cannot read it: {}", manifest.key(), e.getMessage());
      return Optional.empty();
    }
  }

  @Override
  public void close() {
    mirror.close();
  }
}
