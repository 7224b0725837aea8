package dev.capstan.controller.waypoint;

import dev.capstan.controller.source.Translator;
import dev.capstan.controller.source.crd.WaypointResource;
import dev.capstan.controller.source.crd.WaypointSpec;
import dev.capstan.controller.source.crd.WaypointStatus;
import dev.capstan.core.model.Waypoint;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The status a Waypoint should have, a pure function of what the controller sees: the resource,
 * whether its namespace is enrolled, and its Deployment and Service (docs/waypoint-control.md
 * "Status"). Gateway-API-like conditions:
 *
 * <ul>
 *   <li>{@code Accepted}: {@code True} when the spec is valid, its namespace enrolled and its
 *       traffic type one Capstan carries; {@code False} with reason {@code NamespaceNotEnrolled},
 *       {@code Invalid} (the message names the field) or {@code UnsupportedTrafficType}.
 *   <li>{@code Programmed}: {@code True} when its Deployment has a ready replica and its Service a
 *       cluster IP; {@code False} with reason {@code Invalid} (not accepted, so not run), {@code
 *       NoResources} (0 replicas asked), {@code Pending} (no Deployment yet, or no ready replica),
 *       {@code NotOwned} (an object of that name the Waypoint does not own) or {@code
 *       AddressNotAssigned} (no Service, or no cluster IP yet).
 * </ul>
 *
 * <p>A condition keeps its {@code lastTransitionTime} while its status stays the same, so the same
 * inputs give an equal status and nothing is written.
 */
public final class WaypointConditions {

  public static final String ACCEPTED = "Accepted";
  public static final String PROGRAMMED = "Programmed";

  static final String NAMESPACE_NOT_ENROLLED = "NamespaceNotEnrolled";
  static final String INVALID = "Invalid";
  static final String UNSUPPORTED_TRAFFIC_TYPE = "UnsupportedTrafficType";
  static final String NO_RESOURCES = "NoResources";
  static final String PENDING = "Pending";
  static final String NOT_OWNED = "NotOwned";
  static final String ADDRESS_NOT_ASSIGNED = "AddressNotAssigned";

  private static final String TRUE = "True";
  private static final String FALSE = "False";

  private WaypointConditions() {}

  /**
   * What the status is computed from.
   *
   * @param waypoint the resource, with the status it has now (or {@code previous})
   * @param enrolled whether its namespace is enrolled in the mesh
   * @param deployment the Deployment of its name in its namespace, if any
   * @param service the Service of its name in its namespace, if any
   * @param ownedByWaypoint whether the Deployment and Service must be owned by the Waypoint to
   *     count (the controller deploys waypoints); otherwise whoever made them
   */
  public record Inputs(WaypointResource waypoint, boolean enrolled, Optional<Deployment> deployment,
      Optional<Service> service, boolean ownedByWaypoint) {

    public Inputs {
      Objects.requireNonNull(waypoint, "waypoint");
      Objects.requireNonNull(deployment, "deployment");
      Objects.requireNonNull(service, "service");
    }
  }

  /**
   * The status {@code in} calls for at {@code now}; transition times are kept from {@code
   * previous} (what was last written, or the resource's status) where a condition's status did
   * not change.
   */
  public static WaypointStatus of(Inputs in, Optional<WaypointStatus> previous, Instant now) {
    WaypointResource r = in.waypoint();
    Long generation = r.getMetadata().getGeneration();
    String key = r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
    Optional<String> problem = Translator.waypointProblem(r);

    Verdict accepted;
    if (!in.enrolled()) {
      accepted = new Verdict(FALSE, NAMESPACE_NOT_ENROLLED, "namespace " + r.getMetadata().getNamespace()
          + " is not enrolled in the mesh (label it capstan.dev/mesh=enabled): the waypoint is neither run nor used");
    } else if (problem.isPresent()) {
      accepted = new Verdict(FALSE, INVALID, problem.get());
    } else {
      accepted = trafficType(r);
    }

    Verdict programmed;
    List<WaypointStatus.Address> addresses = new ArrayList<>();
    if (!in.enrolled() || problem.isPresent()) {
      programmed = new Verdict(FALSE, INVALID, "not run: the Waypoint is not accepted");
    } else {
      Optional<Service> service = in.service().filter(s -> !in.ownedByWaypoint() || ownedBy(s, r));
      service.ifPresent(s -> clusterIps(s).forEach(ip -> addresses.add(new WaypointStatus.Address("IPAddress", ip))));
      programmed = programmed(in, key, addresses);
    }

    List<WaypointStatus.Condition> conditions = List.of(
        condition(ACCEPTED, accepted, generation, previous, now),
        condition(PROGRAMMED, programmed, generation, previous, now));
    return new WaypointStatus(generation, conditions, addresses);
  }

  private record Verdict(String status, String reason, String message) {}

  private static Verdict trafficType(WaypointResource r) {
    WaypointSpec spec = r.getSpec();
    Waypoint.TrafficType type = spec == null || spec.trafficType() == null ? Waypoint.TrafficType.SERVICE
        : Waypoint.TrafficType.of(spec.trafficType()).orElseThrow();
    switch (type) {
      case WORKLOAD:
        return new Verdict(FALSE, UNSUPPORTED_TRAFFIC_TYPE, "trafficType workload: node agents send only traffic"
            + " addressed to a service through a waypoint yet, so this one carries nothing; use service or all");
      case NONE:
        return new Verdict(TRUE, ACCEPTED, "trafficType none: it carries no traffic");
      case ALL:
        return new Verdict(TRUE, ACCEPTED, "trafficType all: only traffic addressed to its services passes it;"
            + " traffic addressed to pods does not yet");
      default:
        return new Verdict(TRUE, ACCEPTED, "");
    }
  }

  private static Verdict programmed(Inputs in, String key, List<WaypointStatus.Address> addresses) {
    WaypointResource r = in.waypoint();
    int wanted = r.getSpec() == null || r.getSpec().replicas() == null ? 1 : r.getSpec().replicas();
    if (wanted == 0) {
      return new Verdict(FALSE, NO_RESOURCES, "spec.replicas is 0: no pod runs the waypoint");
    }
    if (in.deployment().isEmpty()) {
      return new Verdict(FALSE, PENDING, "Deployment " + key + " does not exist yet");
    }
    Deployment d = in.deployment().get();
    if (in.ownedByWaypoint() && !ownedBy(d, r)) {
      return new Verdict(FALSE, NOT_OWNED, "Deployment " + key + " is not owned by this Waypoint: the controller leaves"
          + " it alone; delete or rename it");
    }
    int ready = d.getStatus() == null || d.getStatus().getReadyReplicas() == null ? 0 : d.getStatus().getReadyReplicas();
    if (ready < 1) {
      int asked = d.getSpec() == null || d.getSpec().getReplicas() == null ? wanted : d.getSpec().getReplicas();
      return new Verdict(FALSE, PENDING, "Deployment " + key + " has no ready replica (0 of " + asked + ")");
    }
    if (in.service().isEmpty()) {
      return new Verdict(FALSE, ADDRESS_NOT_ASSIGNED, "Service " + key + " does not exist yet");
    }
    if (in.ownedByWaypoint() && !ownedBy(in.service().get(), r)) {
      return new Verdict(FALSE, NOT_OWNED, "Service " + key + " is not owned by this Waypoint: the controller leaves it"
          + " alone; delete or rename it");
    }
    if (addresses.isEmpty()) {
      return new Verdict(FALSE, ADDRESS_NOT_ASSIGNED, "Service " + key + " has no cluster IP");
    }
    return new Verdict(TRUE, PROGRAMMED, "Deployment " + key + " has ready replicas behind Service " + key);
  }

  private static WaypointStatus.Condition condition(String type, Verdict v, Long generation,
      Optional<WaypointStatus> previous, Instant now) {
    String since = previous.map(WaypointStatus::conditions).orElse(List.of()).stream()
        .filter(c -> c != null && type.equals(c.type()) && v.status().equals(c.status()) && c.lastTransitionTime() != null)
        .map(WaypointStatus.Condition::lastTransitionTime)
        .findFirst()
        .orElse(DateTimeFormatter.ISO_INSTANT.format(now.truncatedTo(ChronoUnit.SECONDS)));
    return new WaypointStatus.Condition(type, v.status(), generation, since, v.reason(), v.message());
  }

  private static boolean ownedBy(HasMetadata object, WaypointResource r) {
    String uid = r.getMetadata().getUid();
    return uid != null && object.getMetadata().getOwnerReferences() != null
        && object.getMetadata().getOwnerReferences().stream().anyMatch(o -> uid.equals(o.getUid()));
  }

  /** A Service's cluster IPs (dual stack: {@code clusterIPs}, else {@code clusterIP}); none when headless. */
  private static List<String> clusterIps(Service s) {
    if (s.getSpec() == null) {
      return List.of();
    }
    List<String> ips = s.getSpec().getClusterIPs() != null && !s.getSpec().getClusterIPs().isEmpty()
        ? s.getSpec().getClusterIPs()
        : s.getSpec().getClusterIP() == null ? List.of() : List.of(s.getSpec().getClusterIP());
    return ips.stream().filter(ip -> ip != null && !ip.isBlank() && !"None".equals(ip)).distinct().toList();
  }
}
