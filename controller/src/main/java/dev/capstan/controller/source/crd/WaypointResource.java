package dev.capstan.controller.source.crd;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Capstan's {@code capstan.dev/v1alpha1} {@code Waypoint}: a namespace's L7 proxy, used by the
 * services (or the whole namespace) labelled {@code capstan.dev/use-waypoint=<name>}. In a cluster
 * the controller runs it as a Deployment and Service of the same name. Its schema is {@code
 * charts/capstan/crds/waypoints.capstan.dev.yaml}; its status ({@link WaypointStatus}) is written
 * by the leading controller through the status subresource.
 */
@Group(WaypointResource.GROUP)
@Version(WaypointResource.VERSION)
@Kind(WaypointResource.KIND)
@Plural(WaypointResource.PLURAL)
@Singular("waypoint")
public final class WaypointResource extends CustomResource<WaypointSpec, WaypointStatus> implements Namespaced {

  public static final String GROUP = "capstan.dev";
  public static final String VERSION = "v1alpha1";
  public static final String API_VERSION = GROUP + "/" + VERSION;
  public static final String KIND = "Waypoint";
  public static final String PLURAL = "waypoints";
}
