package dev.capstan.e2e.mesh;

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
 */
public record MeshService(String namespace, String name, String clusterIp, Map<String, String> selector, List<Port> ports) {
  public MeshService {
    if (!clusterIp.startsWith("10.96.")) {
      throw new IllegalArgumentException("service VIPs are from 10.96.0.0/16, got " + clusterIp);
    }
    selector = Map.copyOf(selector);
    ports = List.copyOf(ports);
  }

  /** A service port: {@code port} on the VIP to {@code targetPort} on the pods. */
  public record Port(String name, int port, int targetPort) {}

  /** One port, selecting pods whose {@code app} label is {@code name}. */
  public static MeshService of(String namespace, String name, String clusterIp, int port, int targetPort) {
    return new MeshService(namespace, name, clusterIp, Map.of("app", name), List.of(new Port("tcp-" + port, port, targetPort)));
  }
}
