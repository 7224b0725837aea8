package dev.capstan.controller.source.crd;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The status of a {@link WaypointResource}, as the leading controller writes it through the
 * status subresource, shaped like a Gateway API Gateway's: conditions {@code Accepted} and {@code
 * Programmed} (metav1.Condition), the generation they describe, and the addresses of the
 * waypoint's Service. Its schema is the CRD's {@code status}.
 *
 * @param observedGeneration the {@code metadata.generation} this status was computed from
 * @param conditions {@code Accepted}, then {@code Programmed}
 * @param addresses the cluster IPs of the waypoint's Service, once it has them
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record WaypointStatus(Long observedGeneration, List<Condition> conditions, List<Address> addresses) {

  public WaypointStatus {
    conditions = conditions == null ? null : List.copyOf(conditions);
    addresses = addresses == null || addresses.isEmpty() ? null : List.copyOf(addresses);
  }

  /**
   * A condition, as Kubernetes' metav1.Condition.
   *
   * @param type {@code Accepted} or {@code Programmed}
   * @param status {@code True}, {@code False} or {@code Unknown}
   * @param observedGeneration the generation it describes
   * @param lastTransitionTime when {@code status} last changed (RFC 3339, seconds)
   * @param reason a CamelCase reason
   * @param message what it means for the operator, possibly empty
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Condition(String type, String status, Long observedGeneration, String lastTransitionTime, String reason,
      String message) {

    /** The same condition with another transition time. */
    public Condition at(String time) {
      return new Condition(type, status, observedGeneration, time, reason, message);
    }
  }

  /**
   * An address the waypoint is reached at (Gateway API's GatewayStatusAddress).
   *
   * @param type {@code IPAddress}
   * @param value the address
   */
  public record Address(String type, String value) {}
}
