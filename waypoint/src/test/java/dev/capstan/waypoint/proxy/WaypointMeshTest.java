package dev.capstan.waypoint.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.capstan.nodeagent.testing.TwoNodeMesh;
import dev.capstan.waypoint.Waypoint;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two real node agents and a waypoint, in process over loopback: a pod of node-a connects to a
 * service that uses a waypoint; agent A tunnels to the waypoint's pod with {@code :authority} =
 * the service VIP:port; the waypoint opens its own tunnel to the endpoint's agent B.
 */
class WaypointMeshTest {

  private static final String REVIEWS_VIP = "127.0.100.2";
  private static final String POD_R1 = "127.0.2.4";
  private static final String POD_W = "127.0.3.1";

  private TwoNodeMesh mesh;
  private HttpServer app;
  private Waypoint waypoint;
  private Path routes;
  private final List<String> appSaw = new CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    int appPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      appPort = s.getLocalPort();
    }
    app = HttpServer.create(new InetSocketAddress(POD_R1, appPort), 16);
    app.createContext("/", exchange -> {
      appSaw.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
      byte[] body = "reviews-1".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    app.start();
    mesh = new TwoNodeMesh("", 100, "",
        """
        - {uid: pod-r1, name: reviews-1, namespace: shop, serviceAccount: reviews, ips: ["%s"], node: node-b}
        - {uid: pod-w, name: waypoint-1, namespace: shop, serviceAccount: waypoint, ips: ["%s"], node: node-w}
        """.formatted(POD_R1, POD_W),
        """
        - {namespace: shop, name: reviews, vips: ["%s"], ports: [{name: http, port: 9080, targetPort: %d}], endpoints: [{workload: pod-r1}], waypoint: shop/waypoint}
        - {namespace: shop, name: waypoint, vips: [], ports: [{name: hbone, port: %%hbone}], endpoints: [{workload: pod-w}]}
        """.formatted(REVIEWS_VIP, appPort));

    // The waypoint as it runs: its config, the mesh file and certificates the agents use, a routes directory.
    routes = mesh.dir().resolve("routes");
    Files.createDirectories(routes);
    writeRoute("""
        - matches: [{path: {type: PathPrefix, value: /reviews}}]
          backendRefs: [{name: reviews, port: 9080}]
        """);
    waypoint = MeshWaypoint.start(mesh, POD_W, "reloadInterval: 100ms\n");
  }

  private void writeRoute(String rules) throws Exception {
    Path tmp = routes.resolve("reviews.yaml.tmp");
    Files.writeString(tmp, """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: reviews, namespace: shop}
        spec:
          parentRefs: [{group: "", kind: Service, name: reviews, port: 9080}]
          rules:
        %s""".formatted(rules.indent(2)));
    Files.move(tmp, routes.resolve("reviews.yaml"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (waypoint != null) {
      waypoint.close();
    }
    if (mesh != null) {
      mesh.close();
    }
    if (app != null) {
      app.stop(0);
    }
  }

  /** Reads one HTTP/1.1 response with a Content-Length: the head and the body. */
  private static String[] readResponse(InputStream in) throws Exception {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    while (matched < 4) {
      int c = in.read();
      if (c < 0) {
        throw new AssertionError("connection closed in the response head: " + head);
      }
      head.write(c);
      matched = (c == "\r\n\r\n".charAt(matched)) ? matched + 1 : (c == '\r' ? 1 : 0);
    }
    String h = head.toString(StandardCharsets.ISO_8859_1);
    int length = 0;
    for (String line : h.split("\r\n")) {
      if (line.toLowerCase().startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    return new String[] {h, new String(in.readNBytes(length), StandardCharsets.UTF_8)};
  }

  @Test
  void a_service_with_a_waypoint_is_reached_through_it_and_the_endpoint_agent_sees_the_waypoint() throws Exception {
    TwoNodeMesh.Connected connected = mesh.explicitConnect(TwoNodeMesh.POD_A, REVIEWS_VIP + ":9080");
    assertThat(connected.status()).as("agent A's CONNECT answer: %s", connected.head()).isEqualTo(200);
    try (Socket s = connected.socket()) {
      s.setSoTimeout(10_000);
      for (int i = 1; i <= 3; i++) {
        s.getOutputStream().write(("GET /reviews/" + i + " HTTP/1.1\r\nHost: reviews.shop:9080\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        String[] response = readResponse(s.getInputStream());
        assertThat(response[0]).startsWith("HTTP/1.1 200");
        assertThat(response[1]).isEqualTo("reviews-1");
      }
    }
    assertThat(appSaw).containsExactly("GET /reviews/1", "GET /reviews/2", "GET /reviews/3");

    // Agent A's tunnel went to the waypoint's pod; agent B's connections came from the waypoint.
    assertThat(mesh.metrics(mesh.a)).contains("destination_principal=\"spiffe://cluster.local/ns/shop/sa/waypoint\"");
    assertThat(mesh.metrics(mesh.b)).contains("source_principal=\"spiffe://cluster.local/ns/shop/sa/waypoint\"");
  }

  @Test
  void routes_come_from_the_route_files_and_a_changed_file_is_applied() throws Exception {
    TwoNodeMesh.Connected connected = mesh.explicitConnect(TwoNodeMesh.POD_A, REVIEWS_VIP + ":9080");
    try (Socket s = connected.socket()) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write("GET /ratings HTTP/1.1\r\nHost: reviews.shop\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(readResponse(s.getInputStream())[0]).as("no rule for /ratings yet").startsWith("HTTP/1.1 404");

      String before = waypoint.view().version();
      writeRoute("""
          - matches: [{path: {type: PathPrefix, value: /reviews}}, {path: {type: PathPrefix, value: /ratings}}]
            backendRefs: [{name: reviews, port: 9080}]
          """);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (waypoint.view().version().equals(before)) {
        assertThat(System.nanoTime()).as("the waypoint reloads the changed route file").isLessThan(deadline);
        Thread.sleep(20);
      }

      s.getOutputStream().write("GET /ratings HTTP/1.1\r\nHost: reviews.shop\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String[] ok = readResponse(s.getInputStream());
      assertThat(ok[0]).startsWith("HTTP/1.1 200");
      assertThat(ok[1]).isEqualTo("reviews-1");
    }
    assertThat(appSaw).containsExactly("GET /ratings");
  }

  @Test
  void without_a_waypoint_pod_the_connection_is_refused_with_the_reason() throws Exception {
    waypoint.close(); // the waypoint is down: agent A cannot open the tunnel
    waypoint = null;
    TwoNodeMesh.Connected connected = mesh.explicitConnect(TwoNodeMesh.POD_A, REVIEWS_VIP + ":9080");
    connected.socket().close();
    assertThat(connected.status()).as("agent A's answer: %s", connected.head()).isNotEqualTo(200);
    assertThat(appSaw).isEmpty();
  }
}
