package dev.capstan.core.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A pod (or any addressable workload) the mesh knows. Most are enrolled: their traffic is captured
 * and carried by their node's agent. A waypoint's pods are known too (node agents reach them as
 * the endpoints of the waypoint's Service) but are not captured: see {@link #captured()}.
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

  /** Pod label naming the waypoint a pod runs ({@code capstan.dev/waypoint=<name>}): such a pod is not captured. */
  public static final String WAYPOINT_LABEL = "capstan.dev/waypoint";
  /** Pod label that opts a pod out of the mesh with the value {@link #MESH_DISABLED}. */
  public static final String MESH_LABEL = "capstan.dev/mesh";
  public static final String MESH_DISABLED = "disabled";

  public Workload {
    Objects.requireNonNull(uid, "uid");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(serviceAccount, "serviceAccount");
    Objects.requireNonNull(node, "node");
    ips = List.copyOf(ips == null ? List.of() : ips);
    labels = Map.copyOf(labels == null ? Map.of() : labels);
  }

  /**
   * Whether the mesh captures this workload's traffic and its node agent carries it (enrolled).
   * Not so for a waypoint's pods (label {@value #WAYPOINT_LABEL}): they speak HBONE themselves,
   * on their own address, as Istio ambient's waypoints do, so the redirect leaves them alone and
   * node agents neither take their connections nor hold their identity; they stay known as the
   * endpoints of the waypoint's Service. Nor for a pod labelled {@value #MESH_LABEL}={@value
   * #MESH_DISABLED} (the controller leaves those out altogether; a hand-written mesh file may not).
   */
  public boolean captured() {
    return !labels.containsKey(WAYPOINT_LABEL) && !MESH_DISABLED.equals(labels.get(MESH_LABEL));
  }
}
