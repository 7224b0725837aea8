package dev.capstan.core.model;

import java.util.Objects;
import java.util.Set;

/**
 * A Gateway API route the controller validated, as it travels to the waypoints: its kind, where it
 * is, and its manifest as canonical JSON ({@code apiVersion}, {@code kind}, {@code metadata.name},
 * {@code metadata.namespace}, {@code metadata.creationTimestamp}, {@code spec}; keys sorted), which
 * the waypoint reads with {@code core.gateway.Routes}.
 *
 * @param kind {@value #HTTP_ROUTE} or {@value #GRPC_ROUTE}
 * @param namespace namespace of the route
 * @param name name of the route
 * @param manifest the canonical manifest
 */
public record RouteManifest(String kind, String namespace, String name, String manifest) {

  public static final String HTTP_ROUTE = "HTTPRoute";
  public static final String GRPC_ROUTE = "GRPCRoute";
  private static final Set<String> KINDS = Set.of(HTTP_ROUTE, GRPC_ROUTE);

  public RouteManifest {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(manifest, "manifest");
    if (!KINDS.contains(kind)) {
      throw new IllegalArgumentException("kind must be HTTPRoute or GRPCRoute, got '" + kind + "'");
    }
  }

  /** The key {@code kind/namespace/name}, as in the routes map. */
  public String key() {
    return kind + "/" + namespace + "/" + name;
  }
}
