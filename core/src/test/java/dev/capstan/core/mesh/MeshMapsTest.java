package dev.capstan.core.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.PolicyAction;
import dev.capstan.core.model.RouteManifest;
import dev.capstan.core.model.Waypoint;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The map entries a snapshot becomes: one per namespace with policies or a buffer weight. */
class MeshMapsTest {

  @Test
  void a_namespace_gets_an_entry_for_its_policies_or_its_buffer_weight() {
    AuthorizationPolicy deny = new AuthorizationPolicy("shop", "deny", Map.of(), PolicyAction.DENY, List.of());
    MeshSnapshot snapshot = new MeshSnapshot("v", List.of(), List.of(), List.of(deny), Map.of("gold", 3, "shop", 2, "plain", 1));

    MeshMaps.Entries entries = MeshMaps.Entries.of(snapshot);

    assertThat(entries.policies()).containsOnlyKeys("shop", "gold");
    assertThat(entries.policies().get("shop")).isEqualTo(new NamespacePolicies("shop", List.of(deny), 2));
    assertThat(entries.policies().get("gold")).isEqualTo(new NamespacePolicies("gold", List.of(), 3));
  }

  @Test
  void waypoints_are_keyed_by_namespace_and_name_and_routes_by_kind_too() {
    Waypoint waypoint = new Waypoint("shop", "waypoint", "waypoint", 2, null, null);
    RouteManifest http = new RouteManifest(RouteManifest.HTTP_ROUTE, "shop", "reviews", "{}");
    RouteManifest grpc = new RouteManifest(RouteManifest.GRPC_ROUTE, "shop", "reviews", "{}");
    MeshSnapshot snapshot = new MeshSnapshot("v", List.of(), List.of(), List.of(), Map.of(), List.of(),
        List.of(waypoint), List.of(http, grpc));

    MeshMaps.Entries entries = MeshMaps.Entries.of(snapshot);

    assertThat(entries.waypoints()).containsExactly(Map.entry("shop/waypoint", waypoint));
    assertThat(entries.routes()).containsOnlyKeys("HTTPRoute/shop/reviews", "GRPCRoute/shop/reviews");
    assertThat(entries.counts()).isEqualTo(new MeshVersion.Counts(0, 0, 0, 1, 2, 0));
    assertThat(waypoint.trafficType()).as("the default, as Istio's").isEqualTo(Waypoint.TrafficType.SERVICE);
  }
}
