package dev.capstan.waypoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.capstan.core.mesh.MeshMaps;
import dev.capstan.core.mesh.MeshVersion;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.RouteManifest;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.testing.TestCa;
import dev.capstan.core.tls.CertifiedKey;
import dev.capstan.core.tls.Pem;
import dev.capstan.waypoint.config.WaypointConfig;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A waypoint started from a config that names the controller: not ready until the controller has
 * published, then routing by what it published, as its readiness probe and config dump say.
 */
class WaypointControllerTest {

  @TempDir
  Path dir;
  private HazelcastInstance member;
  private Waypoint waypoint;

  @AfterEach
  void stop() {
    if (waypoint != null) {
      waypoint.close();
    }
    if (member != null) {
      member.shutdown();
    }
  }

  @Test
  void a_waypoint_with_a_controller_is_ready_once_it_has_the_published_mesh() throws Exception {
    String cluster = "capstan-waypoint-" + UUID.randomUUID();
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    member = member(cluster, port);
    TestCa ca = new TestCa();
    CertifiedKey key = ca.leaf("shop", "waypoint");
    Path certs = Files.createDirectories(dir.resolve("certs").resolve("shop").resolve("waypoint"));
    Files.writeString(dir.resolve("certs").resolve("root-cert.pem"), Pem.encode(List.of(ca.issuer().certificate())));
    Files.writeString(certs.resolve("cert-chain.pem"), Pem.encode(key.chain()));
    Files.writeString(certs.resolve("key.pem"), Pem.encodeKey(key.key()));
    Path config = dir.resolve("waypoint.yaml");
    Files.writeString(config, """
        namespace: shop
        listen: 127.0.0.1:0
        certs: certs
        controller: {clusterName: %s, members: ["127.0.0.1:%d"]}
        admin: 127.0.0.1:0
        metrics: 127.0.0.1:0
        ready: 127.0.0.1:0
        """.formatted(cluster, port));

    waypoint = Waypoint.start(WaypointConfig.load(config));
    int readyPort = waypoint.adminPorts().get(2);
    assertThat(get(readyPort, "/healthz/ready").statusCode()).as("nothing published yet").isEqualTo(503);
    assertThat(waypoint.view().routeCount()).isZero();

    Service reviews = new Service("shop", "reviews", List.of("10.96.0.9"), List.of(new ServicePort("http", 9080, 9080)),
        List.of(), "shop/waypoint");
    RouteManifest route = new RouteManifest(RouteManifest.HTTP_ROUTE, "shop", "reviews", """
        {"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"reviews","namespace":"shop"},
         "spec":{"parentRefs":[{"group":"","kind":"Service","name":"reviews"}],"rules":[{"backendRefs":[{"name":"reviews","port":9080}]}]}}""");
    MeshMaps.Entries entries = MeshMaps.Entries.of(new MeshSnapshot("a1b2c3d4e5f6", List.of(), List.of(reviews), List.of(),
        Map.of(), List.of(), List.of(), List.of(route)));
    member.getMap(MeshMaps.SERVICES).putAll(entries.services());
    member.getMap(MeshMaps.ROUTES).putAll(entries.routes());
    MeshVersion version = new MeshVersion(1, "a1b2c3d4e5f6", System.currentTimeMillis(), "test", entries.counts());
    member.getMap(MeshMaps.META).set(MeshMaps.VERSION_KEY, version);

    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!waypoint.ready() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(waypoint.ready()).isTrue();
    assertThat(waypoint.view().version()).isEqualTo("1-a1b2c3d4e5f6");
    assertThat(waypoint.view().routeKeys()).containsExactly("shop/reviews");
    assertThat(get(readyPort, "/healthz/ready").statusCode()).isEqualTo(200);
    assertThat(get(waypoint.adminPorts().get(0), "/config_dump").body())
        .containsPattern("\"source\"\\s*:\\s*\"controller\"").contains("1-a1b2c3d4e5f6");
  }

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HazelcastInstance member(String cluster, int port) {
    Config config = new Config();
    config.setInstanceName(cluster);
    config.setClusterName(cluster);
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.getNetworkConfig().setPort(port).setPortAutoIncrement(false);
    config.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig join = config.getNetworkConfig().getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(List.of("127.0.0.1:" + port));
    MeshMaps.register(config.getSerializationConfig().getCompactSerializationConfig());
    return Hazelcast.newHazelcastInstance(config);
  }
}
