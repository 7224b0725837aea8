package dev.capstan.nodeagent;

import static dev.capstan.nodeagent.testing.TwoNodeMesh.POD_A;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.POD_B1;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.POD_C;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.VIP;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.connectFrom;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.roundTrip;
import static dev.capstan.nodeagent.testing.TwoNodeMesh.sample;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.nodeagent.testing.TwoNodeMesh;
import java.io.IOException;
import java.net.Socket;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Pod to service across two node agents in one JVM: bytes, identity, accounting, pooling. */
class MeshTrafficTest {

  private TwoNodeMesh mesh;

  @BeforeEach
  void start() throws Exception {
    mesh = new TwoNodeMesh();
  }

  @AfterEach
  void stop() throws Exception {
    mesh.close();
  }

  @Test
  void pod_to_service_through_fixed_upstream_carries_bytes_both_ways() throws Exception {
    try (Socket s = connectFrom(POD_A, mesh.upstreamA())) {
      assertThat(roundTrip(s, "hello backend")).isEqualTo("hello backend");
    }
  }

  @Test
  void large_transfer_arrives_intact_with_backpressure() throws Exception {
    byte[] payload = new byte[8 * 1024 * 1024];
    new Random(42).nextBytes(payload);
    try (Socket s = connectFrom(POD_A, mesh.upstreamA())) {
      // Write from another thread while reading here, as a real client would.
      ExecutorService writer = Executors.newSingleThreadExecutor();
      Future<?> sent = writer.submit(() -> {
        s.getOutputStream().write(payload);
        s.shutdownOutput();
        return null;
      });
      byte[] back = TwoNodeMesh.readAll(s.getInputStream());
      sent.get(30, TimeUnit.SECONDS);
      writer.shutdown();
      assertThat(back.length).isEqualTo(payload.length);
      assertThat(MessageDigest.getInstance("SHA-256").digest(back))
          .isEqualTo(MessageDigest.getInstance("SHA-256").digest(payload));
    }
  }

  @Test
  void many_concurrent_half_closed_transfers_arrive_intact() throws Exception {
    int streams = 16;
    ExecutorService pool = Executors.newFixedThreadPool(streams * 2);
    List<Future<Boolean>> results = new ArrayList<>();
    for (int i = 0; i < streams; i++) {
      byte[] payload = new byte[(i + 1) * 128 * 1024];
      new Random(i).nextBytes(payload);
      results.add(pool.submit(() -> {
        try (Socket s = connectFrom(POD_A, mesh.upstreamA())) {
          Future<?> sent = pool.submit(() -> {
            s.getOutputStream().write(payload);
            s.shutdownOutput();
            return null;
          });
          byte[] back = TwoNodeMesh.readAll(s.getInputStream());
          sent.get(30, TimeUnit.SECONDS);
          return java.util.Arrays.equals(back, payload);
        }
      }));
    }
    for (int i = 0; i < streams; i++) {
      assertThat(results.get(i).get(60, TimeUnit.SECONDS)).as("stream %d", i).isTrue();
    }
    pool.shutdown();
    awaitClosedConnections(mesh.a, streams);
    assertThat(sample(mesh.metrics(mesh.a), "istio_tcp_connections_closed_total")).isEqualTo(streams);
  }

  @Test
  void destination_agent_sees_the_source_pods_identity_and_both_agents_account_bytes() throws Exception {
    try (Socket s = connectFrom(POD_A, mesh.upstreamA())) {
      assertThat(roundTrip(s, "12345")).isEqualTo("12345");
    }
    awaitClosedConnections(mesh.b, 1);
    String dst = mesh.metrics(mesh.b);
    assertThat(sample(dst, "istio_tcp_connections_opened_total", "reporter=\"destination\"",
        "source_principal=\"spiffe://cluster.local/ns/shop/sa/frontend\"",
        "destination_principal=\"spiffe://cluster.local/ns/shop/sa/backend\"")).isEqualTo(1.0);
    assertThat(sample(dst, "istio_tcp_sent_bytes_total", "reporter=\"destination\"")).isEqualTo(5.0);
    assertThat(sample(dst, "istio_tcp_received_bytes_total", "reporter=\"destination\"")).isEqualTo(5.0);
    awaitClosedConnections(mesh.a, 1);
    String src = mesh.metrics(mesh.a);
    assertThat(sample(src, "istio_tcp_connections_closed_total", "reporter=\"source\"",
        "source_workload=\"frontend-1\"", "destination_service=\"backend.shop\"")).isEqualTo(1.0);
    assertThat(sample(src, "istio_tcp_sent_bytes_total", "reporter=\"source\"")).isEqualTo(5.0);
    assertThat(sample(src, "capstan_tcp_connection_duration_seconds_count", "reporter=\"source\"")).isEqualTo(1.0);
  }

  @Test
  void service_connections_are_balanced_round_robin_over_healthy_endpoints() throws Exception {
    for (int i = 0; i < 6; i++) {
      try (Socket s = connectFrom(POD_A, mesh.upstreamA())) {
        assertThat(roundTrip(s, "x")).isEqualTo("x");
      }
    }
    assertThat(mesh.b1.accepted()).isEqualTo(3);
    assertThat(mesh.b2.accepted()).isEqualTo(3);

    mesh.writeMesh("v2", "", false);
    mesh.a.reloadNow();
    for (int i = 0; i < 4; i++) {
      try (Socket s = connectFrom(POD_A, mesh.upstreamA())) {
        assertThat(roundTrip(s, "y")).isEqualTo("y");
      }
    }
    assertThat(mesh.b1.accepted()).isEqualTo(7);
    assertThat(mesh.b2.accepted()).isEqualTo(3);
  }

  @Test
  void explicit_proxy_connects_by_vip_by_pod_ip_and_by_service_name() throws Exception {
    for (String target : List.of(VIP + ":80", POD_B1 + ":" + mesh.b1.port(), "backend.shop:80",
        "backend.shop.svc.cluster.local:80")) {
      TwoNodeMesh.Connected c = mesh.explicitConnect(POD_A, target);
      try (Socket s = c.socket()) {
        assertThat(c.status()).as(target).isEqualTo(200);
        assertThat(roundTrip(s, "via " + target)).isEqualTo("via " + target);
      }
    }
  }

  @Test
  void many_connections_share_pooled_hbone_connections() throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(16);
    List<Future<String>> replies = new ArrayList<>();
    List<Socket> open = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      Socket s = connectFrom(POD_A, mesh.upstreamA());
      open.add(s);
      int n = i;
      replies.add(clients.submit(() -> {
        s.getOutputStream().write(("conn " + n).getBytes());
        s.getOutputStream().flush();
        byte[] buf = new byte[64];
        int read = s.getInputStream().read(buf);
        return new String(buf, 0, read);
      }));
    }
    for (int i = 0; i < 40; i++) {
      assertThat(replies.get(i).get(10, TimeUnit.SECONDS)).isEqualTo("conn " + i);
    }
    // 40 concurrent tunnels, but at most one TLS connection per event loop of agent A.
    assertThat(mesh.a.pool().openConnections()).isBetween(1, 2);
    assertThat(sample(mesh.metrics(mesh.a), "capstan_hbone_connections_opened_total")).isBetween(1.0, 2.0);
    for (Socket s : open) {
      s.close();
    }
    clients.shutdown();
  }

  @Test
  void idle_pooled_connections_close_after_the_idle_timeout() throws Exception {
    try (Socket s = connectFrom(POD_A, mesh.upstreamA())) {
      assertThat(roundTrip(s, "x")).isEqualTo("x");
    }
    assertThat(mesh.a.pool().openConnections()).isEqualTo(1);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (mesh.a.pool().openConnections() > 0 && System.nanoTime() < end) {
      Thread.sleep(50);
    }
    assertThat(mesh.a.pool().openConnections()).isZero();
  }

  @Test
  void pods_of_another_tenant_on_the_same_node_get_their_own_identity() throws Exception {
    try (Socket s = connectFrom(POD_C, mesh.upstreamA())) {
      assertThat(roundTrip(s, "tenant b")).isEqualTo("tenant b");
    }
    awaitClosedConnections(mesh.b, 1);
    assertThat(sample(mesh.metrics(mesh.b), "istio_tcp_connections_opened_total",
        "source_principal=\"spiffe://cluster.local/ns/tenant-b/sa/default\"")).isEqualTo(1.0);
  }

  @Test
  void side_doors_answer_config_dump_metrics_and_readiness() throws Exception {
    var dump = mesh.get(mesh.a, 0, "/config_dump");
    assertThat(dump.statusCode()).isEqualTo(200);
    assertThat(dump.body()).contains("\"version\" : \"v1\"", "spiffe://cluster.local/ns/shop/sa/frontend", "\"node\" : \"node-a\"");
    assertThat(mesh.get(mesh.a, 2, "/healthz/ready").statusCode()).isEqualTo(200);
    assertThat(mesh.get(mesh.a, 1, "/metrics").body()).contains("capstan_hbone_pool_connections");

    mesh.writeMesh("v2", "", true);
    mesh.a.reloadNow();
    assertThat(mesh.get(mesh.a, 0, "/config_dump").body()).contains("\"version\" : \"v2\"");
  }

  static void awaitClosedConnections(NodeAgent agent, int n) throws InterruptedException, IOException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < end) {
      if (agent.activeConnections() == 0
          && sample(agent.metrics().scrape(), "istio_tcp_connections_closed_total") >= n) {
        return;
      }
      Thread.sleep(20);
    }
  }
}
