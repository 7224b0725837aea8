package dev.capstan.core.model;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A waypoint declared in a namespace (Capstan's {@code capstan.dev/v1alpha1} {@code Waypoint}):
 * the L7 proxy that services of the namespace use through the label {@code
 * capstan.dev/use-waypoint=<name>}. Its own Service (same namespace and name) fronts its pods.
 *
 * @param namespace namespace of the waypoint
 * @param name name of the waypoint, and of its Service and Deployment
 * @param serviceAccount the service account its pods run as (their SPIFFE identity)
 * @param replicas how many pods it runs in a cluster
 * @param resources compute requests and limits of its container
 * @param trafficType which traffic it carries (Istio's {@code istio.io/waypoint-for})
 */
public record Waypoint(
    String namespace, String name, String serviceAccount, int replicas, Compute resources, TrafficType trafficType) {

  public Waypoint {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(serviceAccount, "serviceAccount");
    resources = resources == null ? Compute.NONE : resources;
    trafficType = trafficType == null ? TrafficType.SERVICE : trafficType;
    if (replicas < 0) {
      throw new IllegalArgumentException("replicas must not be negative, got " + replicas);
    }
  }

  /** The key {@code namespace/name}, which is also the key of its Service. */
  public String key() {
    return namespace + "/" + name;
  }

  /**
   * Which traffic a waypoint carries, as Istio's {@code istio.io/waypoint-for}. Capstan's node
   * agents send only traffic addressed to a service through a waypoint today: {@link #WORKLOAD}
   * traffic (addressed to a pod IP) is not redirected yet.
   */
  public enum TrafficType {
    /** Traffic to the services that use it (the default). */
    SERVICE,
    /** Traffic addressed to the workloads that use it. */
    WORKLOAD,
    /** Both. */
    ALL,
    /** No traffic. */
    NONE;

    /** The label value: {@code service}, {@code workload}, {@code all} or {@code none}. */
    public String value() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** The type a value names, if it names one. */
    public static Optional<TrafficType> of(String value) {
      for (TrafficType t : values()) {
        if (t.value().equals(value)) {
          return Optional.of(t);
        }
      }
      return Optional.empty();
    }

    /** Whether services may use a waypoint of this type. */
    public boolean carriesServices() {
      return this == SERVICE || this == ALL;
    }
  }

  /**
   * Compute resources of the waypoint's container, Kubernetes quantities by resource name
   * ({@code cpu}, {@code memory}).
   *
   * @param requests what the scheduler reserves
   * @param limits the most it may use
   */
  public record Compute(Map<String, String> requests, Map<String, String> limits) {
    public static final Compute NONE = new Compute(Map.of(), Map.of());

    public Compute {
      requests = sorted(requests);
      limits = sorted(limits);
    }

    private static Map<String, String> sorted(Map<String, String> map) {
      return java.util.Collections.unmodifiableMap(new TreeMap<>(map == null ? Map.of() : map));
    }
  }
}
