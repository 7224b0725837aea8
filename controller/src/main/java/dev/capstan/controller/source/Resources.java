package dev.capstan.controller.source;

import dev.capstan.controller.source.crd.AuthorizationPolicyResource;
import dev.capstan.controller.source.crd.TrafficPolicyResource;
import dev.capstan.controller.source.crd.WaypointResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.List;

/**
 * The Kubernetes objects a {@link dev.capstan.core.model.MeshSnapshot} is computed from, as the
 * informer caches or a manifest directory hold them. A new kind is a new component here, a line in
 * {@link Builder}, and (for manifests) a line in {@link ManifestDirectory}'s kind table.
 *
 * @param namespaces namespaces (enrollment labels)
 * @param pods pods (workloads)
 * @param services services (VIPs, ports, selectors)
 * @param endpointSlices {@code discovery.k8s.io/v1} EndpointSlices (endpoints and readiness)
 * @param authorizationPolicies Capstan {@code AuthorizationPolicy} custom resources
 * @param trafficPolicies Capstan {@code TrafficPolicy} custom resources
 * @param waypoints Capstan {@code Waypoint} custom resources
 * @param routes Gateway API {@code HTTPRoute} and {@code GRPCRoute} objects ({@code
 *     gateway.networking.k8s.io/v1}), as read: the {@link Translator} validates them
 */
public record Resources(
    List<Namespace> namespaces,
    List<Pod> pods,
    List<Service> services,
    List<EndpointSlice> endpointSlices,
    List<AuthorizationPolicyResource> authorizationPolicies,
    List<TrafficPolicyResource> trafficPolicies,
    List<WaypointResource> waypoints,
    List<GenericKubernetesResource> routes) {

  public Resources {
    namespaces = List.copyOf(namespaces == null ? List.of() : namespaces);
    pods = List.copyOf(pods == null ? List.of() : pods);
    services = List.copyOf(services == null ? List.of() : services);
    endpointSlices = List.copyOf(endpointSlices == null ? List.of() : endpointSlices);
    authorizationPolicies = List.copyOf(authorizationPolicies == null ? List.of() : authorizationPolicies);
    trafficPolicies = List.copyOf(trafficPolicies == null ? List.of() : trafficPolicies);
    waypoints = List.copyOf(waypoints == null ? List.of() : waypoints);
    routes = List.copyOf(routes == null ? List.of() : routes);
  }

  /** Objects without TrafficPolicies, waypoints and routes. */
  public Resources(List<Namespace> namespaces, List<Pod> pods, List<Service> services, List<EndpointSlice> endpointSlices,
      List<AuthorizationPolicyResource> authorizationPolicies) {
    this(namespaces, pods, services, endpointSlices, authorizationPolicies, List.of(), List.of(), List.of());
  }

  /** No objects at all. */
  public static Resources empty() {
    return new Builder().build();
  }

  /** Collects objects of any supported kind, then builds the immutable record. */
  public static final class Builder {
    private final List<Namespace> namespaces = new ArrayList<>();
    private final List<Pod> pods = new ArrayList<>();
    private final List<Service> services = new ArrayList<>();
    private final List<EndpointSlice> endpointSlices = new ArrayList<>();
    private final List<AuthorizationPolicyResource> authorizationPolicies = new ArrayList<>();
    private final List<TrafficPolicyResource> trafficPolicies = new ArrayList<>();
    private final List<WaypointResource> waypoints = new ArrayList<>();
    private final List<GenericKubernetesResource> routes = new ArrayList<>();

    public Builder namespace(Namespace namespace) {
      namespaces.add(namespace);
      return this;
    }

    public Builder pod(Pod pod) {
      pods.add(pod);
      return this;
    }

    public Builder service(Service service) {
      services.add(service);
      return this;
    }

    public Builder endpointSlice(EndpointSlice slice) {
      endpointSlices.add(slice);
      return this;
    }

    public Builder authorizationPolicy(AuthorizationPolicyResource policy) {
      authorizationPolicies.add(policy);
      return this;
    }

    public Builder trafficPolicy(TrafficPolicyResource policy) {
      trafficPolicies.add(policy);
      return this;
    }

    public Builder waypoint(WaypointResource waypoint) {
      waypoints.add(waypoint);
      return this;
    }

    /** An HTTPRoute or GRPCRoute. */
    public Builder route(GenericKubernetesResource route) {
      routes.add(route);
      return this;
    }

    public Resources build() {
      return new Resources(namespaces, pods, services, endpointSlices, authorizationPolicies, trafficPolicies, waypoints,
          routes);
    }
  }
}
