package dev.capstan.netlab.mesh;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Kubernetes Service of the test mesh.
 *
 * @param namespace Kubernetes namespace
 * @param name service name
 * @param clusterIp its VIP, from 10.96.0.0/16 (routed nowhere: only capture makes it reachable)
 * @param selector pod labels it selects
 * @param ports its ports
 * @param labels the Service's own labels (e.g. {@code capstan.dev/use-waypoint})
 */
public record MeshService(String namespace, String name, String clusterIp, Map<String, String> selector, List<Port> ports,
    Map<String, String> labels) {
  /** The label that sends a service's traffic through a waypoint of its namespace. */
  public static final String USE_WAYPOINT = "capstan.dev/use-waypoint";

  public MeshService {
    if (!clusterIp.startsWith("10.96.")) {
      throw new IllegalArgumentException("service VIPs are from 10.96.0.0/16, got " + clusterIp);
    }
    selector = Map.copyOf(selector);
    ports = List.copyOf(ports);
    labels = Map.copyOf(labels);
  }

  /** A service without labels of its own. */
  public MeshService(String namespace, String name, String clusterIp, Map<String, String> selector, List<Port> ports) {
    this(namespace, name, clusterIp, selector, ports, Map.of());
  }

  /** A service port: {@code port} on the VIP to {@code targetPort} on the pods. */
  public record Port(String name, int port, int targetPort) {}

  /** One port, selecting pods whose {@code app} label is {@code name}. */
  public static MeshService of(String namespace, String name, String clusterIp, int port, int targetPort) {
    return new MeshService(namespace, name, clusterIp, Map.of("app", name), List.of(new Port("tcp-" + port, port, targetPort)));
  }

  /** The same service with one more (or a replaced) label of its own. */
  public MeshService label(String key, String value) {
    Map<String, String> l = new LinkedHashMap<>(labels);
    l.put(key, value);
    return new MeshService(namespace, name, clusterIp, selector, ports, l);
  }

  /** The same service with its traffic sent through the waypoint {@code waypoint} of its namespace. */
  public MeshService useWaypoint(String waypoint) {
    return label(USE_WAYPOINT, waypoint);
  }

  /** Whether a pod with {@code podLabels} is one of its endpoints (every selector label matches). */
  public boolean selects(Map<String, String> podLabels) {
    return !selector.isEmpty() && selector.entrySet().stream().allMatch(e -> e.getValue().equals(podLabels.get(e.getKey())));
  }
}
