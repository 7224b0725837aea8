package dev.capstan.core.model;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A service: virtual IPs and ports in front of a set of endpoints.
 *
 * @param namespace namespace of the service
 * @param name name of the service
 * @param vips virtual IPs, in textual IP form
 * @param ports ports of the service
 * @param endpoints workloads backing the service
 * @param waypoint {@code namespace/name} of the waypoint that carries the service's traffic (label
 *     {@code capstan.dev/use-waypoint} on the service or its namespace), or {@code null}
 */
public record Service(
    String namespace, String name, List<String> vips, List<ServicePort> ports, List<Endpoint> endpoints, String waypoint) {

  public Service {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    vips = List.copyOf(vips == null ? List.of() : vips);
    ports = List.copyOf(ports == null ? List.of() : ports);
    endpoints = List.copyOf(endpoints == null ? List.of() : endpoints);
  }

  /** A service without a waypoint. */
  public Service(String namespace, String name, List<String> vips, List<ServicePort> ports, List<Endpoint> endpoints) {
    this(namespace, name, vips, ports, endpoints, null);
  }

  /** The key {@code namespace/name}. */
  public String key() {
    return namespace + "/" + name;
  }

  /** The service port with this number, if the service exposes it. */
  public Optional<ServicePort> port(int port) {
    for (ServicePort p : ports) { // per request in the waypoint: no stream
      if (p.port() == port) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
