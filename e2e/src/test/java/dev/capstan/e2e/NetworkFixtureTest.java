package dev.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.e2e.net.NetworkExtension;
import dev.capstan.e2e.net.PodTools;
import dev.capstan.e2e.net.WireCapture;
import dev.capstan.e2e.net.WireCounters.Counter;
import dev.capstan.e2e.net.WireCounters;
import dev.capstan.e2e.tools.ConnectLoop;
import dev.capstan.e2e.tools.TcpClient;
import dev.capstan.netlab.Command;
import dev.capstan.netlab.NetnsProcess;
import dev.capstan.netlab.Pod;
import dev.capstan.netlab.PodSpec;
import dev.capstan.netlab.TwoNodeNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The test network itself, without any mesh: plain routing between pods of two nodes, and the wire observers. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NetworkFixtureTest {
  private static final int ECHO = 7000;
  private static final int HTTP = 8080;

  static final TwoNodeNetwork net = NetworkExtension.network()
      .pod(PodSpec.of("shop", "client", 1))
      .pod(PodSpec.of("shop", "server", 2));

  @RegisterExtension
  static final NetworkExtension extension = new NetworkExtension(net);

  private static WireCounters counters;

  @BeforeAll
  static void startServer() {
    PodTools.startEchoServer(net.pod("server"), ECHO, HTTP);
    counters = WireCounters.install(net.node1());
  }

  @Test
  @Order(1)
  void http_from_a_pod_reaches_a_pod_on_the_other_node_and_the_server_sees_the_client_pod_ip() {
    Pod client = net.pod("client");
    Pod server = net.pod("server");

    Command.Result r = client.curl("http://" + server.ip() + ":" + HTTP + "/hello");

    assertThat(r.exit()).as("curl exit; stderr: %s", r.stderr()).isZero();
    assertThat(r.stdout()).contains("peer=" + client.ip() + ":").contains("local=" + server.ip() + ":" + HTTP);
  }

  @Test
  @Order(2)
  void raw_tcp_echo_crosses_the_wire_as_plaintext_counted_and_captured() {
    Pod client = net.pod("client");
    Pod server = net.pod("server");
    counters.reset();
    WireCapture capture = WireCapture.start(net, net.node1(), "plain-echo");

    Command.Result r = client.runTool(TcpClient.class, server.ip(), Integer.toString(ECHO), "plaintext-canary-4711");

    assertThat(r.exit()).as("TcpClient exit; stderr: %s", r.stderr()).isZero();
    assertThat(r.stdout().strip()).isEqualTo("plaintext-canary-4711");
    assertThat(capture.contains("plaintext-canary-4711")).as("payload in %s", capture.pcap()).isTrue();
    assertThat(capture.contains("never-sent-canary")).isFalse();
    assertThat(capture.tcpPorts()).contains(ECHO).doesNotContain(15008);
    // Both directions, both on node1's wire: at least SYN, SYN-ACK, the data and its echo.
    assertThat(counters.packets(Counter.POD_TCP)).as("%s", counters).isGreaterThanOrEqualTo(4);
    assertThat(counters.packets(Counter.TCP)).isGreaterThanOrEqualTo(counters.packets(Counter.POD_TCP));
    assertThat(counters.packets(Counter.HBONE)).isZero();
  }

  @Test
  @Order(3)
  void connect_loop_reports_every_connection() {
    Command.Result r = net.pod("client").runTool(ConnectLoop.class, net.pod("server").ip(), Integer.toString(ECHO),
        "--count", "20", "--rate", "50", "--max-seconds", "10");

    assertThat(r.exit()).as("ConnectLoop: %s %s", r.stdout(), r.stderr()).isZero();
    assertThat(r.stdout()).contains("ok=20 failed=0");
  }

  @Test
  @Order(4)
  void a_removed_pod_is_unreachable_and_its_namespace_gone() {
    Pod extra = net.addPod(PodSpec.of("other", "extra", 2));
    NetnsProcess echo = PodTools.startEchoServer(extra, ECHO, HTTP);
    assertThat(net.pod("client").curl("http://" + extra.ip() + ":" + HTTP + "/").exit()).isZero();

    net.removePod("extra");

    assertThat(echo.isAlive()).isFalse();
    assertThat(TwoNodeNetwork.netnsWithPrefix(extra.netns())).isEmpty();
    assertThat(net.pod("client").runTool(TcpClient.class, extra.ip(), Integer.toString(ECHO), "x", "--timeout-ms", "1000").exit())
        .isEqualTo(1);
  }

  @Test
  @Order(Integer.MAX_VALUE)
  void cleanup_removes_every_namespace_and_process() {
    NetnsProcess server = net.pod("server").startTool("sleeper", ConnectLoop.class,
        net.pod("client").ip(), "1", "--count", "1", "--max-seconds", "1");

    net.close(); // what afterAll does; idempotent, so afterAll is a no-op after it

    assertThat(TwoNodeNetwork.netnsWithPrefix(net.runId())).isEmpty();
    assertThat(server.isAlive()).isFalse();
  }
}
