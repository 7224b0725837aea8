package dev.capstan.controller.source.crd;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The spec of a {@link WaypointResource}. Fields may be null (absent in the resource); nulls are
 * left out when written, as the CRD's structural schema wants. The bounds below are the CRD
 * schema's.
 *
 * @param replicas pods to run in a cluster (default 1)
 * @param resources compute requests and limits of the waypoint container (default none)
 * @param trafficType which traffic it carries, as Istio's {@code istio.io/waypoint-for}: {@code
 *     service} (the default), {@code workload}, {@code all}, {@code none}
 * @param serviceAccount the service account its pods run as, their identity (default: the
 *     waypoint's name, which the controller creates)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record WaypointSpec(Integer replicas, Resources resources, String trafficType, String serviceAccount) {

  /** Most replicas. */
  public static final int MAX_REPLICAS = 100;
  /** Most entries of {@code requests} or {@code limits}. */
  public static final int MAX_RESOURCES = 8;

  /**
   * Compute resources, Kubernetes quantities by resource name ({@code cpu: 100m}, {@code memory: 128Mi}).
   *
   * @param requests what the scheduler reserves
   * @param limits the most the container may use
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Resources(Map<String, String> requests, Map<String, String> limits) {
    public Resources {
      requests = copy(requests);
      limits = copy(limits);
    }
  }

  private static Map<String, String> copy(Map<String, String> map) {
    return map == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(map));
  }
}
