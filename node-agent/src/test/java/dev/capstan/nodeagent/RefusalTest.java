package dev.capstan.nodeagent;

import static dev.capstan.nodeagent.testing.TwoNodeMesh.NOT_IN_MESH;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.POD_A;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.POD_B1;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.POD_B3;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.POD_C;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.VIP;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.connectFrom;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.roundTrip;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.sample;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.hbone.HboneConnection;
import dev.capstan.core.hbone.HboneException;
import dev.capstan.core.hbone.HboneSettings;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.io.Transport;
import dev.capstan.core.testing.TestCa;
import dev.capstan.nodeagent.testing.TwoNodeMesh;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Bad input is refused with the right status, a reason in the metrics, and the agent keeps serving. */
class RefusalTest {

  private TwoNodeMesh mesh;
  private EventLoopGroup group;
  private final Transport transport = Transport.best();

  @BeforeEach
  void start() throws Exception {
    mesh = new TwoNodeMesh();
    group = transport.newGroup(1, "test-client");
  }

  @AfterEach
  void stop() throws Exception {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    mesh.close();
  }

  private void assertStillServing() throws Exception {
    try (Socket s = connectFrom(POD_A, mesh.upstreamA())) {
      assertThat(roundTrip(s, "still serving")).isEqualTo("still serving");
    }
  }

  @Test
  void unknown_source_is_refused_with_403_and_counted() throws Exception {
    TwoNodeMesh.Connected c = mesh.explicitConnect(NOT_IN_MESH, VIP + ":80");
    c.socket().close();
    assertThat(c.status()).isEqualTo(403);
    assertThat(c.head()).contains("Content-Length");
    assertThat(sample(mesh.metrics(mesh.a), "capstan_tcp_connections_failed_total", "reason=\"unknown_source\"")).isEqualTo(1.0);
    assertStillServing();
  }

  @Test
  void unknown_source_through_a_fixed_upstream_is_closed_without_bytes() throws Exception {
    try (Socket s = connectFrom(NOT_IN_MESH, mesh.upstreamA())) {
      assertThat(roundTrip(s, "let me in")).isEmpty();
    } catch (java.net.SocketException reset) {
      // Closed with our bytes unread: the kernel answers with a reset. Refused either way.
      assertThat(reset).hasMessageContaining("reset");
    }
    assertThat(sample(mesh.metrics(mesh.a), "capstan_tcp_connections_failed_total", "reason=\"unknown_source\"")).isEqualTo(1.0);
  }

  @Test
  void a_pod_of_another_node_cannot_send_through_this_agent() throws Exception {
    TwoNodeMesh.Connected c = mesh.explicitConnect(POD_B1, VIP + ":80");
    c.socket().close();
    assertThat(c.status()).isEqualTo(403);
    assertThat(sample(mesh.metrics(mesh.a), "capstan_tcp_connections_failed_total", "reason=\"source_not_local\"")).isEqualTo(1.0);
  }

  @Test
  void destinations_outside_the_mesh_are_refused() throws Exception {
    TwoNodeMesh.Connected unknown = mesh.explicitConnect(POD_A, "127.0.9.9:80");
    unknown.socket().close();
    assertThat(unknown.status()).isEqualTo(502);
    TwoNodeMesh.Connected unknownService = mesh.explicitConnect(POD_A, "nothing.shop:80");
    unknownService.socket().close();
    assertThat(unknownService.status()).isEqualTo(502);
    TwoNodeMesh.Connected wrongPort = mesh.explicitConnect(POD_A, VIP + ":81");
    wrongPort.socket().close();
    assertThat(wrongPort.status()).isEqualTo(502);
    TwoNodeMesh.Connected notConnect = mesh.explicitConnect(POD_A, "/index.html");
    notConnect.socket().close();
    assertThat(notConnect.status()).isEqualTo(400);
    assertThat(sample(mesh.metrics(mesh.a), "capstan_tcp_connections_failed_total", "reason=\"unknown_destination\"")).isEqualTo(3.0);
    assertStillServing();
  }

  @Test
  void explicit_proxy_refuses_methods_other_than_connect() throws Exception {
    try (Socket s = connectFrom(POD_A, mesh.a.listening().get("explicit-proxy"))) {
      String reply = roundTrip(s, "GET http://127.0.100.1/ HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(reply).startsWith("HTTP/1.1 405");
    }
  }

  private HboneConnection dial(String podIp, SslContext tls, SpiffeId expected) throws Exception {
    Bootstrap b = new Bootstrap().group(group).channel(transport.socketChannel());
    var f = HboneConnection.connect(b, new InetSocketAddress(InetAddress.getByName(podIp), mesh.hbonePort()), tls,
        expected, HboneSettings.defaults());
    assertThat(f.await(10, TimeUnit.SECONDS)).isTrue();
    if (!f.isSuccess()) {
      throw new ExecutionException(f.cause());
    }
    return f.getNow();
  }

  private static int status(HboneConnection c, String authority) throws Exception {
    CompletableFuture<io.netty.util.concurrent.Future<Http2StreamChannel>> f = new CompletableFuture<>();
    c.channel().eventLoop().execute(() -> f.complete(c.open(authority, Map.of())));
    io.netty.util.concurrent.Future<Http2StreamChannel> open = f.get(10, TimeUnit.SECONDS);
    assertThat(open.await(10, TimeUnit.SECONDS)).isTrue();
    if (open.isSuccess()) {
      open.getNow().close();
      return 200;
    }
    assertThat(open.cause()).isInstanceOf(HboneException.class);
    return ((HboneException) open.cause()).status();
  }

  @Test
  void inbound_refuses_authorities_that_are_not_its_workloads_with_400() throws Exception {
    SpiffeId backend = SpiffeId.of("cluster.local", "shop", "backend");
    HboneConnection c = dial(POD_B1, mesh.tls().client(mesh.certificate("shop", "frontend")), backend);

    assertThat(status(c, POD_A + ":80")).as("a pod of another node").isEqualTo(400);
    assertThat(status(c, "127.0.9.9:80")).as("no workload").isEqualTo(400);
    assertThat(status(c, POD_B3 + ":80")).as("a local pod of another identity").isEqualTo(400);
    assertThat(status(c, POD_B1 + ":1")).as("nothing listening").isEqualTo(503);
    assertThat(status(c, POD_B1 + ":" + mesh.b1.port())).as("the real thing").isEqualTo(200);

    String m = mesh.metrics(mesh.b);
    assertThat(sample(m, "capstan_tcp_connections_failed_total", "reason=\"destination_not_local\"")).isEqualTo(2.0);
    assertThat(sample(m, "capstan_tcp_connections_failed_total", "reason=\"identity_mismatch\"")).isEqualTo(1.0);
    assertThat(sample(m, "capstan_tcp_connections_failed_total", "reason=\"upstream_unavailable\"")).isEqualTo(1.0);
  }

  @Test
  void inbound_refuses_methods_other_than_connect_with_400() throws Exception {
    SpiffeId backend = SpiffeId.of("cluster.local", "shop", "backend");
    HboneConnection c = dial(POD_B1, mesh.tls().client(mesh.certificate("shop", "frontend")), backend);
    CompletableFuture<String> answer = new CompletableFuture<>();
    new Http2StreamChannelBootstrap(c.channel()).handler(new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2HeadersFrame h) {
          answer.complete(String.valueOf(h.headers().status()));
        }
        ReferenceCountUtil.release(msg);
      }
    }).open().addListener(f -> ((Http2StreamChannel) f.getNow()).writeAndFlush(new DefaultHttp2HeadersFrame(
        new DefaultHttp2Headers().method("GET").path("/").scheme("https").authority(POD_B1 + ":80"), true)));

    assertThat(answer.get(10, TimeUnit.SECONDS)).isEqualTo("400");
    assertThat(sample(mesh.metrics(mesh.b), "capstan_hbone_refused_total", "reason=\"method_not_connect\"")).isEqualTo(1.0);
  }

  @Test
  void inbound_refuses_peers_of_a_foreign_ca_and_keeps_serving() throws Exception {
    TestCa foreign = new TestCa();
    // Trusts the mesh (so the agent's certificate passes) but presents a certificate of another CA.
    SslContext tls = mesh.tls().client(foreign.leaf("shop", "frontend"));
    SpiffeId backend = SpiffeId.of("cluster.local", "shop", "backend");
    int result;
    try {
      // TLS 1.3: the client may finish its handshake before the agent refuses its certificate.
      result = status(dial(POD_B1, tls, backend), POD_B1 + ":" + mesh.b1.port());
    } catch (ExecutionException refusedDuringHandshake) {
      result = -1;
    }
    assertThat(result).isNotEqualTo(200);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (sample(mesh.metrics(mesh.b), "capstan_hbone_refused_total") < 1 && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertThat(sample(mesh.metrics(mesh.b), "capstan_hbone_refused_total", "reason=\"untrusted_chain\"")).isEqualTo(1.0);
    assertStillServing();
  }

  @Test
  void deny_policy_refuses_the_source_principal_with_401_and_other_tenants_still_pass() throws Exception {
    mesh.writeMesh("deny", """
        - namespace: shop
          name: no-frontend
          action: deny
          rules: [{principals: ["spiffe://cluster.local/ns/shop/sa/frontend"]}]
        """, true);
    mesh.a.reloadNow();
    mesh.b.reloadNow();

    TwoNodeMesh.Connected denied = mesh.explicitConnect(POD_A, VIP + ":80");
    denied.socket().close();
    assertThat(denied.status()).isEqualTo(403);
    assertThat(sample(mesh.metrics(mesh.b), "capstan_tcp_connections_failed_total", "reason=\"denied\"")).isEqualTo(1.0);
    assertThat(sample(mesh.metrics(mesh.a), "capstan_tcp_connections_failed_total", "reason=\"tunnel_rejected_401\"")).isEqualTo(1.0);

    try (Socket s = connectFrom(POD_C, mesh.upstreamA())) {
      assertThat(roundTrip(s, "tenant b passes")).isEqualTo("tenant b passes");
    }
  }

  @Test
  void allow_policy_admits_only_matching_namespaces_and_ports() throws Exception {
    mesh.writeMesh("allow", """
        - namespace: shop
          name: only-tenant-b
          action: allow
          selector: {app: backend}
          rules: [{namespaces: [tenant-b], ports: [%d]}]
        """.formatted(mesh.b1.port()), true);
    mesh.a.reloadNow();
    mesh.b.reloadNow();

    try (Socket s = connectFrom(POD_A, mesh.upstreamA())) {
      assertThat(roundTrip(s, "frontend")).isEmpty();
    }
    try (Socket s = connectFrom(POD_C, mesh.upstreamA())) {
      assertThat(roundTrip(s, "tenant b")).isEqualTo("tenant b");
    }
  }

  @Test
  void a_mesh_file_that_does_not_parse_is_rejected_and_the_last_good_one_stays() throws Exception {
    java.nio.file.Files.writeString(mesh.dir().resolve("mesh.yaml"), "workloads: [ {uid: broken");
    mesh.a.reloadNow();
    assertThat(sample(mesh.metrics(mesh.a), "capstan_config_reload_errors_total", "source=\"mesh\"")).isEqualTo(1.0);
    assertThat(mesh.get(mesh.a, 0, "/config_dump").body()).contains("\"version\" : \"v1\"");
    assertStillServing();
  }
}
