package dev.capstan.core.mesh;

import com.hazelcast.config.CompactSerializationConfig;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.RouteManifest;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.TrafficPolicy;
import dev.capstan.core.model.Waypoint;
import dev.capstan.core.model.Workload;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Hazelcast maps that carry the mesh, keyed for the lookups of the data path.
 *
 * <ul>
 *   <li>{@value #WORKLOADS}: workload IP (textual) → {@link Workload}; one entry per IP.
 *   <li>{@value #SERVICES}: {@code namespace/name} → {@link Service}; the agent indexes its
 *       VIP:port pairs in memory (see docs/decisions.md).
 *   <li>{@value #POLICIES}: namespace → {@link NamespacePolicies}.
 *   <li>{@value #TRAFFIC_POLICIES}: {@code namespace/name} → {@link TrafficPolicy}, for waypoints.
 *   <li>{@value #WAYPOINTS}: {@code namespace/name} → {@link Waypoint}.
 *   <li>{@value #ROUTES}: {@code kind/namespace/name} → {@link RouteManifest} (HTTPRoute, GRPCRoute).
 *   <li>{@value #META}: {@value #VERSION_KEY} → {@link MeshVersion}, written after the entries.
 * </ul>
 */
public final class MeshMaps {

  public static final String WORKLOADS = "capstan.workloads";
  public static final String SERVICES = "capstan.services";
  public static final String POLICIES = "capstan.policies";
  public static final String TRAFFIC_POLICIES = "capstan.trafficpolicies";
  public static final String WAYPOINTS = "capstan.waypoints";
  public static final String ROUTES = "capstan.routes";
  public static final String META = "capstan.meta";
  public static final String VERSION_KEY = "version";

  private MeshMaps() {}

  /** Registers the model's Compact serializers (members and clients alike). */
  /**
   * A Hazelcast client of the controller's cluster as node agents and redirects use it: starts
   * connecting in the background, reconnects forever (backoff 100 ms to 2 s), logs through SLF4J,
   * no shutdown hook of its own, the mesh serializers registered, {@code lifecycle} notified.
   */
  public static com.hazelcast.client.config.ClientConfig clientConfig(
      String instanceName, String clusterName, java.util.List<String> members, com.hazelcast.core.LifecycleListener lifecycle) {
    com.hazelcast.client.config.ClientConfig config = new com.hazelcast.client.config.ClientConfig();
    config.setInstanceName(instanceName);
    config.setClusterName(clusterName);
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.client.shutdownhook.enabled", "false");
    config.getNetworkConfig().setAddresses(new java.util.ArrayList<>(members));
    config.getConnectionStrategyConfig()
        .setAsyncStart(true)
        .setReconnectMode(com.hazelcast.client.config.ClientConnectionStrategyConfig.ReconnectMode.ASYNC);
    config.getConnectionStrategyConfig().getConnectionRetryConfig()
        .setClusterConnectTimeoutMillis(-1)
        .setInitialBackoffMillis(100)
        .setMaxBackoffMillis(2_000);
    register(config.getSerializationConfig().getCompactSerializationConfig());
    config.addListenerConfig(new com.hazelcast.config.ListenerConfig(lifecycle));
    return config;
  }

  public static void register(CompactSerializationConfig config) {
    config.addSerializer(new MeshSerializers.WorkloadSerializer());
    config.addSerializer(new MeshSerializers.ServiceSerializer());
    config.addSerializer(new MeshSerializers.PolicySerializer());
    config.addSerializer(new MeshSerializers.RuleSerializer());
    config.addSerializer(new MeshSerializers.NamespacePoliciesSerializer());
    config.addSerializer(new MeshSerializers.VersionSerializer());
    config.addSerializer(new MeshSerializers.TrafficPolicySerializer());
    config.addSerializer(new MeshSerializers.WaypointSerializer());
    config.addSerializer(new MeshSerializers.RouteSerializer());
  }

  /** The desired content of the model maps for a snapshot. */
  public record Entries(
      Map<String, Workload> workloads, Map<String, Service> services, Map<String, NamespacePolicies> policies,
      Map<String, TrafficPolicy> trafficPolicies, Map<String, Waypoint> waypoints, Map<String, RouteManifest> routes) {

    public Entries {
      trafficPolicies = trafficPolicies == null ? Map.of() : trafficPolicies;
      waypoints = waypoints == null ? Map.of() : waypoints;
      routes = routes == null ? Map.of() : routes;
    }

    /** Entries without TrafficPolicies, waypoints and routes. */
    public Entries(Map<String, Workload> workloads, Map<String, Service> services, Map<String, NamespacePolicies> policies) {
      this(workloads, services, policies, Map.of(), Map.of(), Map.of());
    }

    /** How many entries each map holds, as the published version records them. */
    public MeshVersion.Counts counts() {
      return new MeshVersion.Counts(workloads.size(), services.size(), policies.size(), waypoints.size(), routes.size(),
          trafficPolicies.size());
    }

    public static Entries of(MeshSnapshot snapshot) {
      Map<String, Workload> workloads = new TreeMap<>();
      for (Workload w : snapshot.workloads()) {
        for (String ip : w.ips()) {
          workloads.put(ip, w);
        }
      }
      Map<String, Service> services = new TreeMap<>();
      for (Service s : snapshot.services()) {
        services.put(s.key(), s);
      }
      Map<String, java.util.List<AuthorizationPolicy>> byNamespace = new TreeMap<>();
      for (AuthorizationPolicy p : snapshot.policies()) {
        byNamespace.computeIfAbsent(p.namespace(), k -> new java.util.ArrayList<>()).add(p);
      }
      // A namespace has an entry when it has policies or a buffer weight other than 1.
      snapshot.bufferWeights().forEach((ns, w) -> {
        if (w != 1) {
          byNamespace.computeIfAbsent(ns, k -> new java.util.ArrayList<>());
        }
      });
      Map<String, NamespacePolicies> policies = new TreeMap<>();
      byNamespace.forEach((ns, list) -> {
        list.sort(java.util.Comparator.comparing(AuthorizationPolicy::name));
        policies.put(ns, new NamespacePolicies(ns, list, snapshot.bufferWeights().getOrDefault(ns, 1)));
      });
      Map<String, TrafficPolicy> trafficPolicies = new TreeMap<>();
      for (TrafficPolicy p : snapshot.trafficPolicies()) {
        trafficPolicies.put(p.key(), p);
      }
      Map<String, Waypoint> waypoints = new TreeMap<>();
      snapshot.waypoints().forEach(w -> waypoints.put(w.key(), w));
      Map<String, RouteManifest> routes = new TreeMap<>();
      snapshot.routes().forEach(r -> routes.put(r.key(), r));
      return new Entries(Map.copyOf(workloads), Map.copyOf(services), Map.copyOf(policies), Map.copyOf(trafficPolicies),
          Map.copyOf(waypoints), Map.copyOf(routes));
    }
  }
}
