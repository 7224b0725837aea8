package dev.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.e2e.net.NetworkExtension;
import dev.capstan.e2e.net.PodTools;
import dev.capstan.e2e.net.WireCapture;
import dev.capstan.e2e.net.WireCounters;
import dev.capstan.e2e.tools.ConnectLoop;
import dev.capstan.e2e.tools.TcpClient;
import dev.capstan.netlab.Command;
import dev.capstan.netlab.NetnsProcess;
import dev.capstan.netlab.Node;
import dev.capstan.netlab.Pod;
import dev.capstan.netlab.PodSpec;
import dev.capstan.netlab.TwoNodeNetwork;
import dev.capstan.netlab.mesh.CapstanMesh;
import dev.capstan.netlab.mesh.CapstanMesh.AgentMode;
import dev.capstan.netlab.mesh.MeshService;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The L4 mesh on a real Linux network: two nodes and their pods as network namespaces, the
 * controller (clusterless) in node1's namespace, and on each node a node agent in capture mode and
 * {@code capstan-redirect} keeping the nftables rules. Apps are plain tools in the pods (an echo
 * and HTTP server, curl, a TCP client) and change nothing.
 *
 * <p>One network for the class (every JVM start costs seconds on two CPUs); tests that change the
 * mesh run last and put it back.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TransparentMeshTest {

  private static final String SERVER_VIP = "10.96.0.10";
  private static final String CLIENT_ID = "spiffe://cluster.local/ns/shop/sa/client";
  private static final Duration CONVERGE = Duration.ofSeconds(30);

  static final TwoNodeNetwork net = NetworkExtension.network()
      .pod(PodSpec.of("shop", "client-1", 1))
      .pod(PodSpec.of("shop", "local-server-1", 1))
      .pod(PodSpec.of("shop", "intruder-1", 1))
      .pod(PodSpec.of("legacy", "legacy-client-1", 1))
      .pod(PodSpec.of("shop", "server-1", 2))
      .pod(PodSpec.of("legacy", "legacy-server-1", 2))
      .pod(PodSpec.of("shop", "optout-1", 2));

  @RegisterExtension
  static final NetworkExtension extension = new NetworkExtension(net);

  private static CapstanMesh mesh;
  private static Pod client;
  private static Pod server;
  private static Pod localServer;
  private static Pod legacyClient;
  private static Pod legacyServer;
  private static Pod optout;
  private static NetnsProcess serverEcho;
  private static NetnsProcess legacyServerEcho;
  private static NetnsProcess optoutEcho;

  @BeforeAll
  static void startMesh() {
    client = net.pod("client-1");
    server = net.pod("server-1");
    localServer = net.pod("local-server-1");
    legacyClient = net.pod("legacy-client-1");
    legacyServer = net.pod("legacy-server-1");
    optout = net.pod("optout-1");
    serverEcho = PodTools.startEchoServer(server, 7000, 8080);
    PodTools.startEchoServer(localServer, 7000, 8080);
    legacyServerEcho = PodTools.startEchoServer(legacyServer, 7000, 8080);
    optoutEcho = PodTools.startEchoServer(optout, 7000, 8080);

    mesh = CapstanMesh.on(net, NetworkExtension.launcher())
        .enroll("shop")
        .service(new MeshService("shop", "server", SERVER_VIP, Map.of("app", "server"),
            List.of(new MeshService.Port("http", 80, 8080), new MeshService.Port("echo", 7000, 7000))));
    mesh.optOut("optout-1");
    mesh.startController();
    for (Node n : net.nodes()) {
      mesh.startRedirect(n);
      mesh.startAgent(n, AgentMode.CAPTURE);
    }
    for (Node n : net.nodes()) {
      mesh.awaitAgentReady(n);
    }
    await("node1's rules capture client-1 and node2's capture server-1",
        () -> mesh.captureRules(net.node1()).contains(client.ip()) && mesh.captureRules(net.node2()).contains(server.ip()));
  }

  @Test
  @Order(1)
  void pod_to_pod_and_service_vip_across_nodes_work_unchanged_for_http_and_raw_tcp() {
    long capturedBefore = mesh.captureCounter(net.node1(), "captured_outbound");

    Command.Result toPod = client.curl("http://" + server.ip() + ":8080/hello");
    Command.Result toVip = client.curl("http://" + SERVER_VIP + "/hello");
    Command.Result rawToPod = client.runTool(TcpClient.class, server.ip(), "7000", "raw-to-pod");
    Command.Result rawToVip = client.runTool(TcpClient.class, SERVER_VIP, "7000", "raw-to-vip");
    Command.Result nc = client.exec(Duration.ofSeconds(15), "sh", "-c", "printf raw-with-nc | nc -N -w 5 " + SERVER_VIP + " 7000");

    // The server sees the client pod's own address, as without a mesh.
    assertThat(toPod.stdout()).as("curl to the pod: %s", toPod.stderr()).contains("peer=" + client.ip() + ":");
    assertThat(toVip.stdout()).as("curl to the VIP: %s", toVip.stderr()).contains("peer=" + client.ip() + ":");
    assertThat(rawToPod.stdout().strip()).as(rawToPod.stderr()).isEqualTo("raw-to-pod");
    assertThat(rawToVip.stdout().strip()).as(rawToVip.stderr()).isEqualTo("raw-to-vip");
    assertThat(nc.stdout()).as("nc: %s", nc.stderr()).isEqualTo("raw-with-nc");
    assertThat(serverEcho.output()).contains("echo connection from /" + client.ip() + ":");
    // ...and it all went through the agents: captured on node1, tunnelled, delivered on node2.
    assertThat(mesh.captureCounter(net.node1(), "captured_outbound") - capturedBefore).isGreaterThanOrEqualTo(5);
    assertThat(mesh.agentMetrics(net.node2()))
        .containsPattern("istio_tcp_connections_opened_total\\{[^}]*reporter=\"destination\"[^}]*source_principal=\""
            + Pattern.quote(CLIENT_ID) + "\"");
  }

  @Test
  @Order(2)
  void pod_to_pod_on_the_same_node_is_delivered_by_the_agent_with_the_source_address_kept() {
    Command.Result r = client.curl("http://" + localServer.ip() + ":8080/");

    assertThat(r.stdout()).as(r.stderr()).contains("peer=" + client.ip() + ":");
    assertThat(mesh.agentMetrics(net.node1()))
        .containsPattern("istio_tcp_connections_opened_total\\{[^}]*destination_workload=\"local-server-1\"");
  }

  @Test
  @Order(3)
  void between_the_nodes_only_tls_to_port_15008_is_seen() {
    WireCounters counters = WireCounters.install(net.node1());
    counters.reset();
    WireCapture capture = WireCapture.start(net, net.node1(), "mesh-traffic");
    String marker = "capstan-e2e-secret-" + UUID.randomUUID();

    Command.Result http = client.curl("http://" + server.ip() + ":8080/" + marker, "-H", "X-Secret: " + marker);
    Command.Result raw = client.runTool(TcpClient.class, SERVER_VIP, "7000", marker);
    capture.stop();

    assertThat(http.stdout()).as(http.stderr()).contains("peer=" + client.ip());
    assertThat(raw.stdout().strip()).as(raw.stderr()).isEqualTo(marker);
    assertThat(capture.contains(marker)).as("the marker in clear text on the wire (%s)", capture.pcap()).isFalse();
    assertThat(capture.tcpPorts()).contains(15008);
    assertThat(counters.packets(WireCounters.Counter.HBONE)).isPositive();
    assertThat(counters.packets(WireCounters.Counter.POD_TCP)).as("pod-to-pod TCP on ports other than 15008").isZero();
  }

  @Test
  @Order(4)
  void destination_sees_the_source_identity_and_an_l4_deny_policy_refuses_it() {
    assertThat(mesh.agent(net.node2()).output())
        .containsPattern("capstan.access - destination src.addr=\\S+ src.workload=shop/client-1 src.identity=" + Pattern.quote(CLIENT_ID));

    mesh.apply("deny-client", """
        apiVersion: capstan.dev/v1alpha1
        kind: AuthorizationPolicy
        metadata:
          name: deny-client
          namespace: shop
        spec:
          action: DENY
          rules:
            - principals: ["spiffe://cluster.local/ns/shop/sa/client"]
        """);
    try {
      await("the DENY policy refuses client-1", () -> !client.runTool(TcpClient.class, server.ip(), "7000", "denied?").ok());
      assertThat(mesh.agentMetrics(net.node2()))
          .containsPattern("capstan_tcp_connections_failed_total\\{[^}]*reason=\"denied\"");
    } finally {
      mesh.remove("deny-client");
    }
    await("client-1 allowed again", () -> client.runTool(TcpClient.class, server.ip(), "7000", "allowed").ok());
  }

  @Test
  @Order(5)
  void plaintext_from_outside_the_mesh_is_allowed_until_a_policy_requires_mutual_tls() {
    Command.Result before = legacyClient.curl("http://" + server.ip() + ":8080/");
    assertThat(before.stdout()).as(before.stderr()).contains("peer=" + legacyClient.ip() + ":");

    mesh.apply("require-mtls", """
        apiVersion: capstan.dev/v1alpha1
        kind: AuthorizationPolicy
        metadata:
          name: require-mtls
          namespace: shop
        spec:
          action: ALLOW
          rules:
            - principals: ["*"]
        """);
    try {
      await("plaintext refused", () -> !legacyClient.runTool(TcpClient.class, server.ip(), "7000", "plain?").ok());
      assertThat(client.runTool(TcpClient.class, server.ip(), "7000", "mtls").ok()).as("mesh client still allowed").isTrue();
      assertThat(mesh.agentMetrics(net.node2()))
          .containsPattern("capstan_tcp_connections_failed_total\\{[^}]*reason=\"plaintext_denied\"");
    } finally {
      mesh.remove("require-mtls");
    }
    await("plaintext allowed again", () -> legacyClient.runTool(TcpClient.class, server.ip(), "7000", "plain").ok());
  }

  @Test
  @Order(6)
  void pods_outside_the_mesh_and_opted_out_pods_are_untouched() {
    long outBefore = mesh.captureCounter(net.node1(), "captured_outbound");
    long inBefore = mesh.captureCounter(net.node2(), "captured_inbound") + mesh.captureCounter(net.node2(), "captured_hbone");
    String marker = "plain-" + UUID.randomUUID();
    WireCapture capture = WireCapture.start(net, net.node1(), "legacy-traffic");

    Command.Result legacyToLegacy = legacyClient.runTool(TcpClient.class, legacyServer.ip(), "7000", marker);
    Command.Result legacyToOptout = legacyClient.curl("http://" + optout.ip() + ":8080/");
    capture.stop();

    assertThat(legacyToLegacy.stdout().strip()).as(legacyToLegacy.stderr()).isEqualTo(marker);
    assertThat(legacyToOptout.stdout()).as(legacyToOptout.stderr()).contains("peer=" + legacyClient.ip() + ":");
    assertThat(legacyServerEcho.output()).contains("echo connection from /" + legacyClient.ip() + ":");
    assertThat(capture.contains(marker)).as("plain traffic stays plain on the wire").isTrue();
    assertThat(mesh.captureCounter(net.node1(), "captured_outbound")).isEqualTo(outBefore);
    assertThat(mesh.captureCounter(net.node2(), "captured_inbound") + mesh.captureCounter(net.node2(), "captured_hbone"))
        .isEqualTo(inBefore);
    assertThat(mesh.captureRules(net.node2())).doesNotContain(optout.ip()).doesNotContain(legacyServer.ip());
    assertThat(mesh.captureRules(net.node1())).doesNotContain(legacyClient.ip());

    // A probe from the node itself (kubelet) reaches an enrolled pod without being captured.
    long probeBefore = mesh.captureCounter(net.node2(), "captured_inbound");
    Command.Result probe = net.exec(net.node2().netns(), Duration.ofSeconds(15),
        "curl", "-sS", "--max-time", "5", "http://" + server.ip() + ":8080/healthz");
    assertThat(probe.stdout()).as("probe from node2: %s", probe.stderr()).contains("server=");
    assertThat(mesh.captureCounter(net.node2(), "captured_inbound")).isEqualTo(probeBefore);

    // A mesh pod reaches pods outside the mesh unchanged (passed through, plaintext).
    Command.Result meshToOptout = client.curl("http://" + optout.ip() + ":8080/");
    assertThat(meshToOptout.stdout()).as(meshToOptout.stderr()).contains("server=");
    assertThat(optoutEcho.output()).contains("from /" + net.node1().wireIp() + ":");
  }

  @Test
  @Order(7)
  void a_pod_spoofing_another_pods_address_gets_nothing_through() {
    Pod intruder = net.pod("intruder-1");
    long spoofedBefore = mesh.captureCounter(net.node1(), "spoofed");
    intruder.exec(Duration.ofSeconds(10), "ip", "addr", "add", client.ip() + "/32", "dev", "eth0").orThrow();
    try {
      Command.Result asClient = intruder.curl("http://" + server.ip() + ":8080/", "--interface", client.ip(), "--max-time", "3");
      Command.Result asClientToVip = intruder.curl("http://" + SERVER_VIP + "/", "--interface", client.ip(), "--max-time", "3");

      assertThat(asClient.ok()).as("spoofed connection to the pod: %s", asClient.stdout()).isFalse();
      assertThat(asClientToVip.ok()).as("spoofed connection to the VIP: %s", asClientToVip.stdout()).isFalse();
      assertThat(mesh.captureCounter(net.node1(), "spoofed")).isGreaterThan(spoofedBefore);
    } finally {
      intruder.exec(Duration.ofSeconds(10), "ip", "addr", "del", client.ip() + "/32", "dev", "eth0");
    }
    Command.Result honest = intruder.curl("http://" + server.ip() + ":8080/");
    assertThat(honest.stdout()).as("the intruder with its own address: %s", honest.stderr()).contains("peer=" + intruder.ip() + ":");
  }

  @Test
  @Order(8)
  void deleting_a_pod_or_opting_it_out_removes_its_rules() {
    Pod temp = net.addPod(PodSpec.of("shop", "temp-1", 1));
    mesh.publish();
    await("temp-1 captured", () -> mesh.captureRules(net.node1()).contains(temp.ip()));
    assertThat(mesh.captureRules(net.node1())).contains(temp.hostVeth());

    mesh.optOut("temp-1");
    await("temp-1's rules removed after opting out", () -> !mesh.captureRules(net.node1()).contains(temp.ip()));
    assertThat(mesh.captureRules(net.node1())).doesNotContain(temp.hostVeth());

    mesh.optIn("temp-1");
    await("temp-1 captured again after opting in", () -> mesh.captureRules(net.node1()).contains(temp.ip()));

    mesh.deletePod("temp-1");
    await("temp-1's rules removed after deletion", () -> !mesh.captureRules(net.node1()).contains(temp.ip()));
    assertThat(mesh.captureRules(net.node1())).contains(client.ip());
  }

  @Test
  @Order(9)
  void restarting_the_redirect_or_the_agent_recovers_without_manual_steps() {
    // The redirect crashes: the rules stay and traffic keeps flowing through the agents.
    NetnsProcess redirect = mesh.redirect(net.node2());
    Command.check(List.of("kill", "-KILL", Long.toString(redirect.pid())));
    redirect.awaitExit(Duration.ofSeconds(10));
    assertThat(mesh.captureRules(net.node2())).contains(server.ip());
    assertThat(client.runTool(TcpClient.class, server.ip(), "7000", "redirect down").ok()).isTrue();

    // Someone deletes the table; the restarted redirect puts it back.
    net.exec(net.node2().netns(), Duration.ofSeconds(10), "nft", "delete", "table", "ip", "capstan").orThrow();
    mesh.startRedirect(net.node2());
    await("node2's rules back", () -> mesh.captureRules(net.node2()).contains(server.ip()));
    long hbone = mesh.captureCounter(net.node2(), "captured_hbone");
    assertThat(client.runTool(TcpClient.class, server.ip(), "7000", "redirect back").ok()).isTrue();
    assertThat(mesh.captureCounter(net.node2(), "captured_hbone")).isGreaterThan(hbone);

    // The agent crashes (no drain): captured traffic is refused, never passed around it, until
    // the new agent is up.
    mesh.crashAgent(net.node2());
    long noAgent = mesh.captureCounter(net.node2(), "no_agent");
    Command.Result whileDown = legacyClient.runTool(TcpClient.class, server.ip(), "7000", "agent down", "--timeout-ms", "2000");
    assertThat(whileDown.ok()).as("plaintext to a captured pod with no agent").isFalse();
    assertThat(mesh.captureCounter(net.node2(), "no_agent")).isGreaterThan(noAgent);

    mesh.startAgentAgain(net.node2());
    await("traffic through the new agent", () -> client.runTool(TcpClient.class, server.ip(), "7000", "agent back").ok());
  }

  @Test
  @Order(10)
  void a_node_agent_restart_under_steady_load_fails_no_new_connection() {
    // ~30 new connections per second from client-1 to the service, through both agents, while
    // first the source node's and then the destination node's agent is replaced.
    NetnsProcess load = client.startTool("restart-load", ConnectLoop.class,
        SERVER_VIP, "7000", "--count", "2400", "--rate", "30", "--max-seconds", "150", "--timeout-ms", "5000");
    sleep(Duration.ofSeconds(3));
    mesh.restartAgent(net.node1());
    sleep(Duration.ofSeconds(3));
    mesh.restartAgent(net.node2());
    sleep(Duration.ofSeconds(3));
    Command.check(List.of("kill", "-TERM", Long.toString(load.pid())));
    load.awaitExit(Duration.ofSeconds(20));

    String out = load.output();
    Matcher m = Pattern.compile("ok=(\\d+) failed=(\\d+)").matcher(out);
    assertThat(m.find()).as("the load's summary line in:\n%s", load.tail(20)).isTrue();
    int ok = Integer.parseInt(m.group(1));
    int failed = Integer.parseInt(m.group(2));
    System.out.printf("agent restarts under load (node1 then node2): %d connections ok, %d failed%n", ok, failed);
    assertThat(ok).isGreaterThan(100);
    assertThat(failed).as("failed connections across two agent restarts:\n%s", load.tail(20)).isZero();
  }

  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + CONVERGE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + CONVERGE + ": " + what);
      }
      sleep(Duration.ofMillis(250));
    }
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
