package dev.capstan.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.e2e.net.NetworkExtension;
import dev.capstan.e2e.net.PodTools;
import dev.capstan.e2e.net.WireCounters;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
 * L7 through a real waypoint on a real Linux network: a client pod on node1 calls a service VIP
 * whose service uses a waypoint ({@code capstan.dev/use-waypoint}); node1's redirect captures the
 * connection, node1's agent tunnels it (HBONE, {@code :authority} = the VIP:port) to the waypoint
 * pod, which routes each request by an HTTPRoute (header {@code x-version: v2} → v2, other
 * {@code /api} requests → v1, anything else → its own 404) and opens its own HBONE tunnel, as the
 * waypoint's identity, to the chosen version's node agent on node2. The clients are stock tools:
 * {@code curl} (HTTP/2 with prior knowledge, and HTTP/1.1) and {@code nghttp}; the backends answer
 * HTTP/1.1 with their version and the path they got.
 *
 * <p>The waypoint is a pod of its own: namespace and IP (10.1.2.x, on node2, beside the backends,
 * where a redirect and an agent run), labelled {@code capstan.dev/waypoint: waypoint} as the
 * controller labels a waypoint's pods, a workload of the mesh with service account {@code
 * waypoint}, endpoint of the service {@code waypoint} exposing 15008, running {@code
 * capstan-waypoint.jar} ({@link CapstanMesh#startWaypoint}). Node2 does not capture it
 * (docs/redirect.md "Waypoint pods"): node1's tunnel reaches the waypoint itself, not node2's agent,
 * and the waypoint's own tunnels to the backends beside it reach node2's agent as inbound HBONE,
 * not captured again as the waypoint's outbound.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WaypointTransparentTest {

  private static final String BACKEND_VIP = "10.96.0.20";
  private static final String WAYPOINT_ID = "spiffe://cluster.local/ns/shop/sa/waypoint";
  private static final Duration CONVERGE = Duration.ofSeconds(30);
  /** Every client command: curl and nghttp give up after this, the process is killed a little later. */
  private static final int CLIENT_SECONDS = 10;

  static final TwoNodeNetwork net = NetworkExtension.network()
      .pod(PodSpec.of("shop", "client-1", 1))
      .pod(PodSpec.of("shop", "waypoint-1", 2).label("capstan.dev/waypoint", "waypoint"))
      .pod(backend("v1"))
      .pod(backend("v2"));

  @RegisterExtension
  static final NetworkExtension extension = new NetworkExtension(net);

  private static CapstanMesh mesh;
  private static Pod client;
  private static Pod waypoint;
  private static NetnsProcess v1;
  private static NetnsProcess v2;

  private static PodSpec backend(String version) {
    return PodSpec.of("shop", "backend-" + version + "-1", 2)
        .label("app", "backend").label("version", version).serviceAccount("backend");
  }

  @BeforeAll
  static void startMesh() {
    client = net.pod("client-1");
    waypoint = net.pod("waypoint-1");
    v1 = PodTools.startEchoServer(net.pod("backend-v1-1"), 7000, 8080, "v1");
    v2 = PodTools.startEchoServer(net.pod("backend-v2-1"), 7000, 8080, "v2");

    List<MeshService.Port> http = List.of(new MeshService.Port("http", 80, 8080));
    mesh = CapstanMesh.on(net, NetworkExtension.launcher())
        .enroll("shop")
        .service(new MeshService("shop", "backend", BACKEND_VIP, Map.of("app", "backend"), http).useWaypoint("waypoint"))
        .service(new MeshService("shop", "backend-v1", "10.96.0.21", Map.of("app", "backend", "version", "v1"), http))
        .service(new MeshService("shop", "backend-v2", "10.96.0.22", Map.of("app", "backend", "version", "v2"), http))
        .service(new MeshService("shop", "waypoint", "10.96.0.30", Map.of("app", "waypoint"),
            List.of(new MeshService.Port("hbone", 15008, 15008))));
    mesh.startController();
    // The waypoint first: issuing its certificate costs a JVM start, better not beside the agents' own.
    mesh.route(waypoint, "backend", """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata:
          name: backend
          namespace: shop
        spec:
          parentRefs:
            - {group: "", kind: Service, name: backend, port: 80}
          rules:
            - matches:
                - path: {type: PathPrefix, value: /api}
                  headers: [{name: x-version, value: v2}]
              backendRefs: [{name: backend-v2, port: 80}]
            - matches:
                - path: {type: PathPrefix, value: /api}
              backendRefs: [{name: backend-v1, port: 80}]
        """);
    mesh.startWaypoint(waypoint);
    for (Node n : net.nodes()) {
      mesh.startRedirect(n);
      mesh.startAgent(n, AgentMode.CAPTURE);
    }
    for (Node n : net.nodes()) {
      mesh.awaitAgentReady(n);
    }
    mesh.awaitWaypointReady(waypoint);
    await("node1's rules capture client-1 and node2's capture both backends", () -> mesh.captureRules(net.node1()).contains(client.ip())
        && mesh.captureRules(net.node2()).contains(net.pod("backend-v1-1").ip())
        && mesh.captureRules(net.node2()).contains(net.pod("backend-v2-1").ip()));
  }

  @Test
  @Order(0)
  void the_waypoint_pod_is_neither_captured_nor_enrolled_on_its_node() {
    String address = "(?<![0-9.])" + Pattern.quote(waypoint.ip()) + "(?![0-9])";
    assertThat(mesh.captureRules(net.node2())).as("node2's capture").contains(net.pod("backend-v1-1").ip())
        .doesNotContainPattern(address);
    // Node2's agent holds the backends' identity, not the waypoint's, and no HBONE listener on its address.
    String dump = mesh.agentConfigDump(net.node2());
    assertThat(dump).contains("spiffe://cluster.local/ns/shop/sa/backend").doesNotContain(WAYPOINT_ID)
        .doesNotContainPattern("\"hbone " + address + "\"");
  }

  @Test
  @Order(1)
  void plain_http11_reaches_v1_through_the_waypoint_and_the_backend_agent_sees_the_waypoint() {
    WireCounters wire = WireCounters.install(net.node1());
    wire.reset();

    Response r = curl("--http1.1", "http://" + BACKEND_VIP + "/api/h1");

    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    assertThat(r.httpVersion()).isEqualTo("1.1");
    assertThat(r.body()).contains("server=v1", "path=/api/h1");
    assertThat(v1.output()).contains("http GET /api/h1 HTTP/1.1");
    // The client's agent tunnelled to the waypoint pod; the backend's agent was reached by the
    // waypoint, as the waypoint's identity (the backend sees it only through its agent: the
    // request arrived).
    assertThat(mesh.agentMetrics(net.node1()))
        .containsPattern("istio_tcp_connections_opened_total\\{[^}]*destination_principal=\""
            + Pattern.quote(WAYPOINT_ID) + "\"[^}]*reporter=\"source\"");
    assertThat(mesh.agentMetrics(net.node2()))
        .containsPattern("istio_tcp_connections_opened_total\\{[^}]*reporter=\"destination\"[^}]*source_principal=\""
            + Pattern.quote(WAYPOINT_ID) + "\"");
    // The destination agent believes the waypoint's Forwarded and dials from the client's address.
    assertThat(r.body()).contains("peer=" + client.ip() + ":");
    // Between the nodes only HBONE.
    assertThat(wire.packets(WireCounters.Counter.HBONE)).isPositive();
    assertThat(wire.packets(WireCounters.Counter.POD_TCP)).as("pod TCP on the wire on ports other than 15008").isZero();
  }

  @Test
  @Order(2)
  void plain_http11_with_the_x_version_header_reaches_v2() {
    Response r = curl("--http1.1", "-H", "x-version: v2", "http://" + BACKEND_VIP + "/api/h1-v2");

    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    assertThat(r.body()).contains("server=v2", "path=/api/h1-v2");
    assertThat(v1.output()).doesNotContain("/api/h1-v2");
  }

  @Test
  @Order(3)
  void curl_with_http2_prior_knowledge_reaches_v1_over_http2() {
    Response r = curl("--http2-prior-knowledge", "http://" + BACKEND_VIP + "/api/h2");

    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    assertThat(r.httpVersion()).as("the client's side spoke HTTP/2: %s", r).isEqualTo("2");
    assertThat(r.body()).contains("server=v1", "path=/api/h2");
    assertThat(v1.output()).contains("http GET /api/h2 HTTP/1.1");
  }

  @Test
  @Order(4)
  void curl_with_http2_prior_knowledge_and_the_x_version_header_reaches_v2() {
    Response r = curl("--http2-prior-knowledge", "-H", "x-version: v2", "http://" + BACKEND_VIP + "/api/pick-me");

    assertThat(r.status()).as(r.toString()).isEqualTo(200);
    assertThat(r.httpVersion()).isEqualTo("2");
    assertThat(r.body()).contains("server=v2", "path=/api/pick-me");
    assertThat(v2.output()).contains("http GET /api/pick-me HTTP/1.1");
    assertThat(v1.output()).doesNotContain("/api/pick-me");
  }

  @Test
  @Order(5)
  void nghttp_gets_200_for_many_concurrent_streams_on_one_connection() {
    int perUri = 8;
    Command.Result r = nghttp("-m", Integer.toString(perUri),
        "http://" + BACKEND_VIP + "/api/nghttp-a", "http://" + BACKEND_VIP + "/api/nghttp-b");

    assertThat(r.ok()).as("nghttp exit %s: %s", r.exit(), r.stderr()).isTrue();
    assertThat(count(r.stdout(), "send HEADERS frame <[^>]*stream_id=\\d+>")).as("requests sent").isEqualTo(2 * perUri);
    assertThat(count(r.stdout(), "recv \\(stream_id=\\d+\\) :status: 200")).as(r.stdout()).isEqualTo(2 * perUri);
    assertThat(count(r.stdout(), "recv \\(stream_id=\\d+\\) :status: (?!200)")).as(r.stdout()).isZero();
    assertThat(count(v1.output(), "http GET /api/nghttp-a HTTP/1.1")).isEqualTo(perUri);
    assertThat(count(v1.output(), "http GET /api/nghttp-b HTTP/1.1")).isEqualTo(perUri);

    Command.Result withHeader = nghttp("-m", Integer.toString(perUri), "-H", "x-version: v2", "http://" + BACKEND_VIP + "/api/nghttp-v2");
    assertThat(withHeader.ok()).as("nghttp exit %s: %s", withHeader.exit(), withHeader.stderr()).isTrue();
    assertThat(count(withHeader.stdout(), "recv \\(stream_id=\\d+\\) :status: 200")).as(withHeader.stdout()).isEqualTo(perUri);
    assertThat(count(v2.output(), "http GET /api/nghttp-v2 HTTP/1.1")).isEqualTo(perUri);
    assertThat(v1.output()).doesNotContain("/api/nghttp-v2");
  }

  @Test
  @Order(6)
  void an_http2_client_whose_first_stream_is_1_is_served() {
    // nghttp normally opens priority streams 3..11 first and sends its first request on 13;
    // without them (--no-dep) its first request is on stream 1, as curl's, grpc-java's and
    // browsers' are.
    Command.Result r = nghttp("--no-dep", "http://" + BACKEND_VIP + "/api/stream-one");

    assertThat(r.stdout()).as("nghttp exit %s: %s", r.exit(), r.stderr()).contains("send HEADERS frame <length=")
        .containsPattern("send HEADERS frame <[^>]*stream_id=1>");
    assertThat(r.stdout()).as(r.stdout()).containsPattern("recv \\(stream_id=1\\) :status: 200");
    assertThat(v1.output()).contains("http GET /api/stream-one HTTP/1.1");
  }

  @Test
  @Order(7)
  void a_path_without_a_route_gets_the_waypoints_own_404() {
    Response h1 = curl("--http1.1", "-D", "-", "http://" + BACKEND_VIP + "/nowhere-h1");
    Command.Result h2 = nghttp("http://" + BACKEND_VIP + "/nowhere-h2");

    assertThat(h1.status()).as(h1.toString()).isEqualTo(404);
    assertThat(h1.body()).containsIgnoringCase("x-capstan-waypoint: local");
    assertThat(h2.stdout()).as("nghttp exit %s: %s", h2.exit(), h2.stderr())
        .containsPattern("recv \\(stream_id=\\d+\\) :status: 404")
        .containsPattern("recv \\(stream_id=\\d+\\) x-capstan-waypoint: local");
    assertThat(v1.output() + v2.output()).doesNotContain("/nowhere");
    assertThat(mesh.waypointMetrics(waypoint))
        .containsPattern("istio_requests_total\\{[^}]*reporter=\"waypoint\"[^}]*response_code=\"404\"")
        .containsPattern("istio_requests_total\\{[^}]*reporter=\"waypoint\"[^}]*response_code=\"200\"");
  }

  // ---------------------------------------------------------------- helpers

  /** What {@code curl} got: status, the HTTP version it spoke, and its output ({@code -D -} puts the head in it). */
  record Response(int status, String httpVersion, String body, String stderr) {}

  /** {@code curl -sS --max-time 10 <args...> -w '\n<code> <version>'} from the client pod. */
  private static Response curl(String... args) {
    List<String> argv = new ArrayList<>(List.of("curl", "-sS", "--max-time", Integer.toString(CLIENT_SECONDS)));
    argv.addAll(List.of(args));
    argv.addAll(List.of("-w", "\n%{http_code} %{http_version}"));
    Command.Result r = client.exec(Duration.ofSeconds(CLIENT_SECONDS + 10), argv.toArray(String[]::new));
    String out = r.stdout();
    int last = out.lastIndexOf('\n');
    String[] codeAndVersion = out.substring(last + 1).strip().split(" ");
    int status = codeAndVersion[0].matches("\\d+") ? Integer.parseInt(codeAndVersion[0]) : -1;
    String version = codeAndVersion.length > 1 ? codeAndVersion[1] : "";
    return new Response(status, version, last < 0 ? "" : out.substring(0, last), "exit " + r.exit() + ": " + r.stderr().strip());
  }

  /** {@code nghttp -v -n -t 10 <args...>} (HTTP/2 with prior knowledge for http URIs) from the client pod. */
  private static Command.Result nghttp(String... args) {
    List<String> argv = new ArrayList<>(List.of("nghttp", "-v", "-n", "-t", Integer.toString(CLIENT_SECONDS)));
    argv.addAll(List.of(args));
    return client.exec(Duration.ofSeconds(CLIENT_SECONDS + 10), argv.toArray(String[]::new));
  }

  private static int count(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }

  private static void await(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + CONVERGE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + CONVERGE + ": " + what);
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
