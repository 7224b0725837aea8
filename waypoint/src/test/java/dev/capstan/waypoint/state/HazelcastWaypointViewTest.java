package dev.capstan.waypoint.state;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.capstan.core.mesh.MeshMaps;
import dev.capstan.core.mesh.MeshVersion;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.RouteManifest;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.Workload;
import dev.capstan.waypoint.config.WaypointConfig;
import dev.capstan.waypoint.route.RequestView;
import dev.capstan.waypoint.route.RouteTable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link HazelcastWaypointView} against a real embedded Hazelcast member written as the controller
 * writes it (entries, then the version): the waypoint's view follows, keeps the last known version
 * while the member is gone, and re-syncs from a member that comes back.
 */
class HazelcastWaypointViewTest {

  private static final Duration WAIT = Duration.ofSeconds(30);

  private final String cluster = "capstan-waypoint-test-" + UUID.randomUUID();
  private final int port = freePort();
  private HazelcastInstance member;
  private HazelcastWaypointView view;
  private long sequence;

  @AfterEach
  void stop() {
    if (view != null) {
      view.close();
    }
    if (member != null) {
      member.shutdown();
    }
  }

  private HazelcastInstance startMember() {
    Config config = new Config();
    config.setInstanceName(cluster + "-" + UUID.randomUUID());
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

  private HazelcastWaypointView connect() {
    return new HazelcastWaypointView(new WaypointConfig.Controller(cluster, List.of("127.0.0.1:" + port)),
        "waypoint-" + UUID.randomUUID(), Duration.ofMillis(200));
  }

  /** Writes the snapshot's entries as the controller's publisher does (clearing what it does not hold), then its version. */
  private MeshVersion publish(MeshSnapshot snapshot) {
    MeshMaps.Entries entries = MeshMaps.Entries.of(snapshot);
    replace(member.getMap(MeshMaps.WORKLOADS), entries.workloads());
    replace(member.getMap(MeshMaps.SERVICES), entries.services());
    replace(member.getMap(MeshMaps.ROUTES), entries.routes());
    MeshVersion version = new MeshVersion(++sequence, snapshot.version(), System.currentTimeMillis(), "test",
        entries.counts());
    member.getMap(MeshMaps.META).set(MeshMaps.VERSION_KEY, version);
    return version;
  }

  private static <V> void replace(IMap<String, V> map, Map<String, V> entries) {
    map.keySet().stream().filter(k -> !entries.containsKey(k)).toList().forEach(map::delete);
    map.putAll(entries);
  }

  private static final Workload REVIEWS_1 = new Workload("uid-r1", "reviews-1", "shop", "reviews", List.of("10.0.1.1"),
      "node-1", Map.of("app", "reviews"), null);
  private static final Workload REVIEWS_2 = new Workload("uid-r2", "reviews-2", "shop", "reviews", List.of("10.0.2.1"),
      "node-2", Map.of("app", "reviews", "version", "v2"), null);

  private static Service reviews(String name, String vip, Workload... endpoints) {
    return new Service("shop", name, List.of(vip), List.of(new ServicePort("http", 9080, 9080)),
        java.util.Arrays.stream(endpoints).map(w -> new Endpoint(w.uid(), true)).toList(), "shop/waypoint");
  }

  private static RouteManifest httpRoute(String backend) {
    return new RouteManifest(RouteManifest.HTTP_ROUTE, "shop", "reviews", """
        {"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"reviews","namespace":"shop"},
         "spec":{"parentRefs":[{"group":"","kind":"Service","name":"reviews","port":9080}],
                 "rules":[{"matches":[{"path":{"type":"PathPrefix","value":"/reviews"}}],
                           "backendRefs":[{"name":"%s","port":9080}]}]}}""".formatted(backend));
  }

  private static final RouteManifest GRPC_ROUTE = new RouteManifest(RouteManifest.GRPC_ROUTE, "shop", "ratings", """
      {"apiVersion":"gateway.networking.k8s.io/v1","kind":"GRPCRoute","metadata":{"name":"ratings","namespace":"shop"},
       "spec":{"parentRefs":[{"group":"","kind":"Service","name":"reviews","port":9080}],
               "rules":[{"matches":[{"method":{"service":"shop.Ratings","method":"Rate"}}],
                         "backendRefs":[{"name":"reviews-v2","port":9080}]}]}}""");

  private static MeshSnapshot mesh(String hash, List<Service> services, List<RouteManifest> routes) {
    return new MeshSnapshot(hash, List.of(REVIEWS_1, REVIEWS_2), services, List.of(), Map.of(), List.of(), List.of(), routes);
  }

  /** A POST of this path to reviews.shop, as the protocol adapters present it. */
  private record Post(String path) implements RequestView {
    @Override
    public String method() {
      return "POST";
    }

    @Override
    public String authority() {
      return "reviews.shop";
    }

    @Override
    public String query() {
      return "";
    }

    @Override
    public List<String> headers(String name) {
      return List.of();
    }
  }

  /** Where the view routes a POST of this path to the reviews service: the backend's service key. */
  private static String backendOf(WaypointView v, String path) {
    Service reviews = v.service("shop/reviews").orElseThrow();
    RouteTable.Decision d = v.routes(reviews, 9080).route(new Post(path), bound -> 0);
    return d instanceof RouteTable.Decision.Forward f ? f.backend().service() : d.toString();
  }

  @Test
  void the_view_follows_what_the_controller_publishes() {
    member = startMember();
    MeshVersion v1 = publish(mesh("aaaaaaaaaaaa", List.of(reviews("reviews", "10.96.0.9", REVIEWS_1),
        reviews("reviews-v2", "10.96.0.10", REVIEWS_2)), List.of(httpRoute("reviews"), GRPC_ROUTE)));
    view = connect();

    eventually(() -> v1.label().equals(view.current().version()), () -> "view at " + view.current().version());
    WaypointView first = view.current();
    assertThat(view.ready()).isTrue();
    assertThat(first.routeKeys()).containsExactlyInAnyOrder("shop/reviews", "shop/ratings");
    assertThat(first.serviceByVip(new InetSocketAddress("10.96.0.9", 9080))).map(Service::name).contains("reviews");
    assertThat(first.workload("uid-r2")).contains(REVIEWS_2);
    assertThat(backendOf(first, "/reviews/1")).isEqualTo("shop/reviews");
    assertThat(backendOf(first, "/shop.Ratings/Rate")).as("the GRPCRoute's method match").isEqualTo("shop/reviews-v2");

    MeshVersion v2 = publish(mesh("bbbbbbbbbbbb", List.of(reviews("reviews", "10.96.0.9", REVIEWS_1, REVIEWS_2),
        reviews("reviews-v2", "10.96.0.10", REVIEWS_2)), List.of(httpRoute("reviews-v2"))));

    eventually(() -> v2.label().equals(view.current().version()), () -> "view at " + view.current().version());
    WaypointView second = view.current();
    assertThat(second.routeKeys()).as("the GRPCRoute removed").containsExactly("shop/reviews");
    assertThat(backendOf(second, "/reviews/1")).as("the HTTPRoute changed").isEqualTo("shop/reviews-v2");
    assertThat(second.service("shop/reviews").orElseThrow().endpoints()).hasSize(2);
    assertThat(view.version()).isEqualTo(v2);
  }

  @Test
  void the_last_known_view_is_kept_while_the_controller_is_away_and_a_new_one_resyncs_it() {
    member = startMember();
    MeshVersion v1 = publish(mesh("aaaaaaaaaaaa", List.of(reviews("reviews", "10.96.0.9", REVIEWS_1),
        reviews("reviews-v2", "10.96.0.10", REVIEWS_2)), List.of(httpRoute("reviews"), GRPC_ROUTE)));
    view = connect();
    eventually(() -> v1.label().equals(view.current().version()), () -> "view at " + view.current().version());

    member.shutdown();
    member = startMember();

    assertThat(member.getMap(MeshMaps.META).get(MeshMaps.VERSION_KEY)).as("a controller back with empty maps").isNull();
    assertThat(view.current().version()).as("nothing published yet: the last known version stays").isEqualTo(v1.label());
    assertThat(view.current().routeKeys()).hasSize(2);

    sequence = 0;
    MeshVersion fresh = publish(mesh("cccccccccccc", List.of(reviews("reviews", "10.96.0.9", REVIEWS_1)),
        List.of(httpRoute("reviews"))));

    eventually(() -> fresh.label().equals(view.current().version()), () -> "view at " + view.current().version());
    assertThat(view.current().routeKeys()).as("re-read whole: the GRPCRoute is gone").containsExactly("shop/reviews");
    assertThat(view.current().service("shop/reviews-v2")).isEmpty();
  }

  @Test
  void a_route_the_waypoint_cannot_read_is_left_out_and_the_others_go_on() {
    member = startMember();
    RouteManifest unreadable = new RouteManifest(RouteManifest.HTTP_ROUTE, "shop", "future", """
        {"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"future","namespace":"shop"},
         "spec":{"parentRefs":[{"group":"","kind":"Service","name":"reviews"}],
                 "rules":[{"filters":[{"type":"ExtensionRef","extensionRef":{"group":"x","kind":"Y","name":"z"}}]}]}}""");
    MeshVersion v1 = publish(mesh("aaaaaaaaaaaa", List.of(reviews("reviews", "10.96.0.9", REVIEWS_1)),
        List.of(httpRoute("reviews"), unreadable)));
    view = connect();

    eventually(() -> v1.label().equals(view.current().version()), () -> "view at " + view.current().version());
    assertThat(view.current().routeKeys()).containsExactly("shop/reviews");
  }

  private static void eventually(BooleanSupplier condition, Supplier<String> state) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within " + WAIT + ": " + state.get());
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
