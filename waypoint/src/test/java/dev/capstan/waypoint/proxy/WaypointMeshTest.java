package dev.capstan.waypoint.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.capstan.core.hbone.HboneServer;
import dev.capstan.core.hbone.HboneSettings;
import dev.capstan.core.io.Transport;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.Workload;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.MeshTls;
import dev.capstan.nodeagent.testing.TwoNodeMesh;
import dev.capstan.waypoint.state.WaypointView;
import dev.capstan.waypoint.telemetry.RequestTelemetry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
  private EventLoopGroup group;
  private Channel listener;
  private Inbound waypoint;
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

    Workload r1 = new Workload("pod-r1", "reviews-1", "shop", "reviews", List.of(POD_R1), "node-b", Map.of(), null);
    Service reviews = new Service("shop", "reviews", List.of(REVIEWS_VIP), List.of(new ServicePort("http", 9080, appPort)),
        List.of(new Endpoint("pod-r1", true)), "shop/waypoint");
    WaypointView view = new WaypointView("v1", List.of(reviews), List.of(r1), List.of());
    MeshTls tls = mesh.tls();
    CertifiedKey identity = mesh.certificate("shop", "waypoint");
    SslContext client = tls.client(identity);
    SslContext server = tls.server(identity);
    Transport transport = Transport.best();
    group = transport.newGroup(1, "waypoint");
    waypoint = new Inbound(
        new Inbound.Settings("cluster.local", mesh.hbonePort(), 1 << 20, Duration.ofSeconds(5), 100, 8192, Duration.ofSeconds(5)),
        () -> view, () -> client, new Bootstrap().channel(transport.socketChannel()), HboneSettings.defaults(),
        new RequestTelemetry(new SimpleMeterRegistry()));
    listener = new ServerBootstrap().group(group).channel(transport.serverChannel())
        .childHandler(new HboneServer(local -> Optional.of(new HboneServer.ServerTls(identity.identity(), server)),
            HboneSettings.defaults(), waypoint))
        .bind(new InetSocketAddress(POD_W, mesh.hbonePort())).sync().channel();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (waypoint != null) {
      waypoint.close();
    }
    if (listener != null) {
      listener.close().sync();
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
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
  void without_a_waypoint_pod_the_connection_is_refused_with_the_reason() throws Exception {
    listener.close().sync(); // the waypoint is down: agent A cannot open the tunnel
    TwoNodeMesh.Connected connected = mesh.explicitConnect(TwoNodeMesh.POD_A, REVIEWS_VIP + ":9080");
    connected.socket().close();
    assertThat(connected.status()).as("agent A's answer: %s", connected.head()).isNotEqualTo(200);
    assertThat(appSaw).isEmpty();
  }
}
