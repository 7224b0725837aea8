package dev.capstan.controller;

import static dev.capstan.nodeagent.testing.TwoNodeMesh.connectFrom;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.freePortOn;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.roundTrip;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.controller.testing.Replicas;
import dev.capstan.core.testing.EchoServer;
import dev.capstan.nodeagent.NodeAgent;
import dev.capstan.nodeagent.config.AgentConfig;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole control path in one JVM on loopback addresses: manifests in a directory → a controller
 * replica (real Hazelcast member, real gRPC CA over TLS with bootstrap tokens) → two node agents
 * (Hazelcast clients that fetch their workloads' certificates from the CA) → pod-to-pod traffic
 * over HBONE with those certificates.
 */
class ControllerEndToEndTest {

  private static final String FRONTEND = "127.0.1.1";
  private static final String BACKEND = "127.0.2.1";
  private static final String VIP = "127.0.100.1";
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir
  Path dir;
  private final List<AutoCloseable> running = new ArrayList<>();
  private EchoServer echo;
  private Controller controller;
  private String controllerYaml;
  private NodeAgent a;
  private NodeAgent b;

  @BeforeEach
  void start() throws Exception {
    echo = new EchoServer(BACKEND);
    running.add(echo);
    Files.createDirectories(dir.resolve("manifests"));
    writeManifests(false);
    Files.writeString(dir.resolve("tokens.yaml"), "node-a: " + token() + "\nnode-b: " + token() + "\n");
    String tokens = Files.readString(dir.resolve("tokens.yaml"));
    Files.writeString(dir.resolve("node-a.token"), tokens.lines().filter(l -> l.startsWith("node-a")).findFirst().orElseThrow().substring(8));
    Files.writeString(dir.resolve("node-b.token"), tokens.lines().filter(l -> l.startsWith("node-b")).findFirst().orElseThrow().substring(8));
    int hazelcastPort = freePortOn("127.0.0.1");
    String cluster = "e2e-" + UUID.randomUUID();
    controllerYaml = """
        name: controller-0
        manifests: manifests
        pollInterval: 100ms
        hazelcast: {clusterName: %s, listen: "127.0.0.1:%d"}
        ca: {listen: "127.0.0.1:%d", dir: ca, bootstrapTokens: tokens.yaml}
        admin: 127.0.0.1:0
        metrics: 127.0.0.1:0
        ready: 127.0.0.1:0
        """.formatted(cluster, hazelcastPort, freePortOn("127.0.0.1"));
    controller = Controller.start(ControllerConfig.parse(controllerYaml, "controller.yaml", dir));
    running.add(controller);
    int hbonePort = freePortOn(FRONTEND, BACKEND);
    a = NodeAgent.start(agent("node-a", cluster, hazelcastPort, hbonePort,
        "upstreams: [{listen: \"127.0.0.1:0\", service: shop/backend, port: 80}]"));
    running.add(a);
    b = NodeAgent.start(agent("node-b", cluster, hazelcastPort, hbonePort, ""));
    running.add(b);
  }

  @AfterEach
  void stop() {
    for (int i = running.size() - 1; i >= 0; i--) {
      try {
        running.get(i).close();
      } catch (Exception ignored) {
        // best effort
      }
    }
  }

  @Test
  void agents_load_the_mesh_fetch_certificates_from_the_ca_and_carry_pod_to_pod_traffic() throws Exception {
    Replicas.eventually(() -> a.ready() && b.ready(), WAIT, () -> "agents ready: a=" + a.configDump().get("certificates")
        + " b=" + b.configDump().get("certificates"));

    assertThat(certificates(a)).containsExactly("spiffe://cluster.local/ns/shop/sa/frontend");
    assertThat(certificates(b)).containsExactly("spiffe://cluster.local/ns/shop/sa/backend");
    assertThat((String) a.configDump().get("version")).startsWith("1-");
    try (Socket s = connectFrom(FRONTEND, a.listening().get("upstream shop/backend:80"))) {
      assertThat(roundTrip(s, "hello through the controller's mesh")).isEqualTo("hello through the controller's mesh");
    }
    assertThat(echo.accepted()).isEqualTo(1);
    String issued = controller.registry().scrape();
    assertThat(issued).contains("capstan_ca_requests_total{reason=\"none\",result=\"issued\"} 2.0");
  }

  @Test
  void a_workload_that_arrives_gets_its_certificate_and_loses_it_when_it_leaves() throws Exception {
    Replicas.eventually(() -> a.ready() && b.ready(), WAIT, () -> "agents ready");

    writeManifests(true);
    Replicas.eventually(() -> certificates(a).contains("spiffe://cluster.local/ns/shop/sa/reports"), WAIT,
        () -> "certificates of a: " + certificates(a));
    assertThat(a.ready()).isTrue();

    writeManifests(false);
    Replicas.eventually(() -> !certificates(a).contains("spiffe://cluster.local/ns/shop/sa/reports"), WAIT,
        () -> "certificates of a: " + certificates(a));
    assertThat(certificates(a)).containsExactly("spiffe://cluster.local/ns/shop/sa/frontend");
  }

  @Test
  void agents_keep_serving_while_the_controller_is_down_then_catch_up() throws Exception {
    Replicas.eventually(() -> a.ready() && b.ready(), WAIT, () -> "agents ready");
    String before = (String) a.configDump().get("version");

    controller.close();
    running.remove(controller);
    try (Socket s = connectFrom(FRONTEND, a.listening().get("upstream shop/backend:80"))) {
      assertThat(roundTrip(s, "while the controller is away")).isEqualTo("while the controller is away");
    }
    assertThat(a.configDump().get("version")).isEqualTo(before);
    writeManifests(true);

    // The controller comes back on the same member address, with the same persisted root.
    controller = Controller.start(ControllerConfig.parse(controllerYaml, "controller.yaml", dir));
    running.add(controller);
    Replicas.eventually(() -> certificates(a).contains("spiffe://cluster.local/ns/shop/sa/reports"), WAIT,
        () -> "agent a at " + a.configDump().get("version") + " with " + certificates(a));
    try (Socket s = connectFrom(FRONTEND, a.listening().get("upstream shop/backend:80"))) {
      assertThat(roundTrip(s, "after it came back")).isEqualTo("after it came back");
    }
  }

  @SuppressWarnings("unchecked")
  private static List<String> certificates(NodeAgent agent) {
    return ((List<Map<String, String>>) agent.configDump().get("certificates")).stream()
        .map(m -> m.get("identity")).sorted().toList();
  }

  private AgentConfig agent(String node, String cluster, int hazelcastPort, int hbonePort, String extra) {
    return AgentConfig.parse("""
        node: %s
        controller: {clusterName: %s, members: ["127.0.0.1:%d"]}
        ca: {address: "127.0.0.1:%d", root: ca/root-cert.pem, token: %s.token}
        hbonePort: %d
        admin: 127.0.0.1:0
        metrics: 127.0.0.1:0
        ready: 127.0.0.1:0
        explicitProxy: 127.0.0.1:0
        workerThreads: 1
        drainTimeout: 1s
        %s
        """.formatted(node, cluster, hazelcastPort, controller.caPort(), node, hbonePort, extra), node + ".yaml", dir);
  }

  /** The mesh: frontend on node-a, backend on node-b, and (when {@code reports}) a second frontend-side pod. */
  private void writeManifests(boolean reports) throws IOException {
    String yaml = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop, labels: {capstan.dev/mesh: enabled}}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: frontend-1, namespace: shop, uid: 6f1f0c52-0000-4000-8000-000000000001, labels: {app: frontend}}
        spec: {nodeName: node-a, serviceAccountName: frontend, containers: [{name: app, image: frontend}]}
        status: {phase: Running, podIP: %s}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: backend-1, namespace: shop, uid: 6f1f0c52-0000-4000-8000-000000000002, labels: {app: backend}}
        spec: {nodeName: node-b, serviceAccountName: backend, containers: [{name: app, image: backend}]}
        status: {phase: Running, podIP: %s}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: backend, namespace: shop}
        spec: {clusterIP: %s, selector: {app: backend}, ports: [{name: tcp, port: 80, targetPort: %d}]}
        """.formatted(FRONTEND, BACKEND, VIP, echo.port());
    if (reports) {
      yaml += """
          ---
          apiVersion: v1
          kind: Pod
          metadata: {name: reports-1, namespace: shop, uid: 6f1f0c52-0000-4000-8000-000000000003}
          spec: {nodeName: node-a, serviceAccountName: reports, containers: [{name: app, image: reports}]}
          status: {phase: Running, podIP: 127.0.1.5}
          """;
    }
    Path tmp = dir.resolve("mesh.yaml.tmp");
    Files.writeString(tmp, yaml);
    Files.move(tmp, dir.resolve("manifests").resolve("mesh.yaml"), StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  private static String token() {
    return UUID.randomUUID().toString().replace("-", "");
  }
}
