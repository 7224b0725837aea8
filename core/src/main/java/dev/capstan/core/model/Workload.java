package dev.capstan.core.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A pod (or any addressable workload) enrolled in the mesh.
 *
 * @param uid unique id (the pod UID in Kubernetes)
 * @param name workload name
 * @param namespace namespace, which is also the tenant
 * @param serviceAccount service account that names the workload's SPIFFE identity
 * @param ips the workload's addresses, in textual IP form
 * @param node the node that hosts the workload
 * @param labels workload labels
 * @param waypoint name of the waypoint in the namespace that serves it, or {@code null}
 */
public record Workload(
    String uid,
    String name,
    String namespace,
    String serviceAccount,
    List<String> ips,
    String node,
    Map<String, String> labels,
    String waypoint) {

  public Workload {
    Objects.requireNonNull(uid, "uid");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(serviceAccount, "serviceAccount");
    Objects.requireNonNull(node, "node");
    ips = List.copyOf(ips == null ? List.of() : ips);
    labels = Map.copyOf(labels == null ? Map.of() : labels);
  }
}
