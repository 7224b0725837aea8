package dev.capstan.nodeagent.state;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.Workload;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the agent makes of a waypoint's pods: known as their Service's endpoints, never enrolled. */
class MeshIndexTest {

  private static final String TD = "cluster.local";
  private static final Workload CLIENT = new Workload("c", "client-1", "shop", "client", List.of("10.1.0.2"), "node-a",
      Map.of("app", "client"), null);
  private static final Workload BACKEND = new Workload("b", "backend-1", "shop", "backend", List.of("10.1.0.3"), "node-a",
      Map.of("app", "backend"), null);
  /** A waypoint pod on the same node as the agent, labelled as WaypointDeployer labels them. */
  private static final Workload WAYPOINT = new Workload("w", "waypoint-5c7f", "shop", "waypoint", List.of("10.1.0.9"),
      "node-a", Map.of(Workload.WAYPOINT_LABEL, "waypoint"), null);
  private static final MeshIndex INDEX = new MeshIndex(new MeshSnapshot("v1", List.of(CLIENT, BACKEND, WAYPOINT),
      List.of(
          new Service("shop", "backend", List.of("10.96.0.20"), List.of(new ServicePort("http", 80, 8080)),
              List.of(new Endpoint("b", true)), "shop/waypoint"),
          new Service("shop", "waypoint", List.of("10.96.0.30"), List.of(new ServicePort("hbone", 15008, 15008)),
              List.of(new Endpoint("w", true)))),
      List.of()));

  @Test
  void a_waypoints_pod_is_neither_a_source_nor_a_local_destination_of_its_nodes_agent() throws Exception {
    InetAddress waypointIp = InetAddress.getByName("10.1.0.9");

    assertThat(INDEX.workloadByIp(waypointIp)).isEmpty();
    assertThat(INDEX.localWorkload(waypointIp, "node-a")).isEmpty();
    assertThat(INDEX.workloadsOn("node-a")).containsExactly(CLIENT, BACKEND);
    assertThat(INDEX.workloadByIp(InetAddress.getByName("10.1.0.2"))).contains(CLIENT);
  }

  @Test
  void a_waypoints_pod_is_still_reached_as_its_services_endpoint_and_recognised_as_the_backends_waypoint()
      throws Exception {
    Service waypointService = INDEX.service("shop/waypoint").orElseThrow();

    assertThat(INDEX.pick(waypointService, 15008)).hasValueSatisfying(t -> {
      assertThat(t.workload()).isEqualTo(WAYPOINT);
      assertThat(t.address()).isEqualTo(new InetSocketAddress("10.1.0.9", 15008));
    });
    assertThat(INDEX.isWaypointOf(BACKEND, SpiffeId.of(TD, "shop", "waypoint"), InetAddress.getByName("10.1.0.9"), TD))
        .isTrue();
  }

  @Test
  void a_pod_labelled_out_of_the_mesh_in_a_mesh_file_is_not_enrolled() throws Exception {
    Workload optedOut = new Workload("o", "legacy-1", "shop", "legacy", List.of("10.1.0.7"), "node-a",
        Map.of(Workload.MESH_LABEL, Workload.MESH_DISABLED), null);
    MeshIndex index = new MeshIndex(new MeshSnapshot("v2", List.of(CLIENT, optedOut), List.of(), List.of()));

    assertThat(index.workloadByIp(InetAddress.getByName("10.1.0.7"))).isEmpty();
    assertThat(index.workloadsOn("node-a")).containsExactly(CLIENT);
  }
}
