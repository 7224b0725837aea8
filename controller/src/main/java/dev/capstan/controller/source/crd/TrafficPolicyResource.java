package dev.capstan.controller.source.crd;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * The {@code TrafficPolicy} custom resource ({@code capstan.dev/v1alpha1}, namespaced): retries,
 * outlier detection, limits, rate limit, faults and load balancing for services of its namespace,
 * applied by their waypoint. The spec is kept as a tree and read by core's {@code
 * TrafficPolicyManifest}, the one reader of the format (the waypoint reads manifest files through
 * it too), so both paths accept and refuse the same things. Schema: {@code
 * charts/capstan/crds/trafficpolicies.capstan.dev.yaml}.
 */
@Group(TrafficPolicyResource.GROUP)
@Version(TrafficPolicyResource.VERSION)
@Kind(TrafficPolicyResource.KIND)
@Plural(TrafficPolicyResource.PLURAL)
@Singular("trafficpolicy")
public final class TrafficPolicyResource extends CustomResource<JsonNode, Void> implements Namespaced {

  public static final String GROUP = "capstan.dev";
  public static final String VERSION = "v1alpha1";
  public static final String API_VERSION = GROUP + "/" + VERSION;
  public static final String KIND = "TrafficPolicy";
  public static final String PLURAL = "trafficpolicies";
}
