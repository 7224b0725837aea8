package dev.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.e2e.mesh.CapstanMesh;
import dev.capstan.e2e.mesh.CapstanMesh.AgentMode;
import dev.capstan.e2e.mesh.MeshService;
import dev.capstan.e2e.net.Command;
import dev.capstan.e2e.net.Node;
import dev.capstan.e2e.net.PodSpec;
import dev.capstan.e2e.net.TwoNodeNetwork;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The control plane over the wire: the controller in node1's namespace (Hazelcast and CA on
 * 10.0.0.1), an agent in each node's namespace in standard mode (no capture). Both agents ready
 * means the mesh came through Hazelcast and each node's pod certificate through the CA — node2's
 * across the wire.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ControlPlaneAcrossNodesTest {
  @RegisterExtension
  static final TwoNodeNetwork net = TwoNodeNetwork.create()
      .pod(PodSpec.of("shop", "client", 1))
      .pod(PodSpec.of("shop", "server", 2));

  private static CapstanMesh mesh;

  @BeforeAll
  static void startController() {
    mesh = CapstanMesh.on(net)
        .enroll("shop")
        .service(MeshService.of("shop", "server", "10.96.0.10", 80, 8080));
    mesh.startController();
  }

  @Test
  @Order(1)
  void controller_in_node1_is_ready_and_reachable_from_node2_over_the_wire() {
    Command.Result r = net.exec(net.node2().netns(), Duration.ofSeconds(15),
        "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", CapstanMesh.CONTROLLER_READY);

    assertThat(r.stdout()).as("curl from node2: %s", r.stderr()).isEqualTo("200");
    assertThat(mesh.rootCert()).isRegularFile();
  }

  @Test
  @Order(2)
  void both_agents_become_ready_with_the_controller_on_the_other_side_of_the_wire() {
    // Standard mode binds HBONE on each local pod IP:15008, and start-up fails if it cannot. In a
    // node namespace the pod IPs are not local addresses (they live in the pods' namespaces), so
    // the agent would exit with "cannot listen for HBONE ... Cannot assign requested address".
    // Non-local bind lets those listeners exist (they receive nothing: packets to pod IPs are
    // routed to the pods). Capture mode listens on 127.0.0.1 and does not need this.
    for (Node n : net.nodes()) {
      TwoNodeNetwork.sysctl(n.netns(), "net.ipv4.ip_nonlocal_bind", "1");
    }

    mesh.startAgents(AgentMode.STANDARD);

    for (Node node : net.nodes()) {
      String sa = node.index() == 1 ? "client" : "server";
      assertThat(mesh.agentConfigDump(node)).as("config dump of %s", node.name())
          .containsPattern("\"meshReady\"\\s*:\\s*true")
          .contains("spiffe://cluster.local/ns/shop/sa/" + sa);
      assertThat(mesh.agent(node).output()).as("log of the agent of %s", node.name())
          .contains("certificate for spiffe://cluster.local/ns/shop/sa/" + sa + " installed");
    }
    assertThat(List.of(mesh.agent(net.node1()).isAlive(), mesh.agent(net.node2()).isAlive())).containsOnly(true);
  }
}
