package dev.capstan.waypoint.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.Workload;
import dev.capstan.waypoint.state.WaypointView;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A backend's endpoints are resolved once per view: what each request needs, built ahead. */
class EndpointsTest {

  private static final Inbound.Settings SETTINGS = new Inbound.Settings("cluster.local", 15008, 1 << 20, Duration.ofSeconds(5),
      100, 8192, Duration.ofSeconds(5), Duration.ofSeconds(30));

  private static Workload workload(String uid, String ip) {
    return new Workload(uid, "reviews-" + uid, "shop", "reviews", ip == null ? List.of() : List.of(ip), "node-b", Map.of(), null);
  }

  private static WaypointView view(String version, List<Endpoint> endpoints, Workload... workloads) {
    Service reviews = new Service("shop", "reviews", List.of("10.96.0.20"), List.of(new ServicePort("http", 9080, 8080)), endpoints);
    return new WaypointView(version, List.of(reviews), List.of(workloads), List.of());
  }

  @Test
  void healthy_endpoints_with_an_address_are_resolved_to_the_target_port_their_agent_and_identity() {
    WaypointView v = view("v1",
        List.of(new Endpoint("a", true), new Endpoint("b", false), new Endpoint("c", true), new Endpoint("gone", true)),
        workload("a", "10.0.1.1"), workload("b", "10.0.1.2"), workload("c", null));

    Endpoints e = new Endpoints.Cache(SETTINGS).get(v, "shop/reviews", 9080);

    assertThat(e.uids()).containsExactly("a");
    Endpoints.Target a = e.target("a");
    assertThat(a.address()).isEqualTo(new InetSocketAddress("10.0.1.1", 8080));
    assertThat(a.agent()).isEqualTo(new InetSocketAddress("10.0.1.1", 15008));
    assertThat(a.identity()).isEqualTo(new SpiffeId("cluster.local", "shop", "reviews"));
    assertThat(a.authority()).isEqualTo("10.0.1.1:8080");
  }

  @Test
  void the_same_view_reuses_its_endpoints_and_a_new_view_resolves_them_again() {
    Endpoints.Cache cache = new Endpoints.Cache(SETTINGS);
    WaypointView v1 = view("v1", List.of(new Endpoint("a", true)), workload("a", "10.0.1.1"));
    WaypointView v2 = view("v2", List.of(new Endpoint("a", true), new Endpoint("b", true)),
        workload("a", "10.0.1.1"), workload("b", "10.0.1.2"));

    Endpoints first = cache.get(v1, "shop/reviews", 9080);
    assertThat(cache.get(v1, "shop/reviews", 9080)).isSameAs(first);
    assertThat(cache.get(v2, "shop/reviews", 9080).uids()).containsExactly("a", "b");
  }

  @Test
  void an_unknown_service_or_a_port_it_does_not_declare_is_handled() {
    Endpoints.Cache cache = new Endpoints.Cache(SETTINGS);
    WaypointView v = view("v1", List.of(new Endpoint("a", true)), workload("a", "10.0.1.1"));

    assertThat(cache.get(v, "shop/ratings", 9080).uids()).isEmpty();
    // a port the service does not declare: the port itself, as Kubernetes does for a missing targetPort
    assertThat(cache.get(v, "shop/reviews", 7000).target("a").address()).isEqualTo(new InetSocketAddress("10.0.1.1", 7000));
  }
}
