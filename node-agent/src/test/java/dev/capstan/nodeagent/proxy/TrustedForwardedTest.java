package dev.capstan.nodeagent.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.Workload;
import dev.capstan.nodeagent.state.MeshIndex;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Whose {@code Forwarded: for=} a destination agent believes: the source's own pods, or anyone's from its waypoint. */
class TrustedForwardedTest {

  private static final String TD = "cluster.local";
  private static final Workload CLIENT = pod("c", "10.0.0.5", "frontend");
  private static final Workload OTHER = pod("x", "10.0.0.7", "other");
  private static final Workload WAYPOINT = pod("w", "10.0.0.9", "waypoint");
  private static final Workload REVIEWS = pod("r", "10.0.1.1", "reviews");
  private static final Workload RATINGS = pod("t", "10.0.1.2", "ratings");
  private static final MeshIndex INDEX = new MeshIndex(new MeshSnapshot("v1",
      List.of(CLIENT, OTHER, WAYPOINT, REVIEWS, RATINGS),
      List.of(
          new Service("shop", "reviews", List.of("10.96.0.1"), List.of(new ServicePort("http", 80, 8080)),
              List.of(new Endpoint("r", true)), "shop/waypoint"),
          new Service("shop", "ratings", List.of("10.96.0.2"), List.of(new ServicePort("http", 80, 8080)),
              List.of(new Endpoint("t", true))),
          new Service("shop", "waypoint", List.of(), List.of(new ServicePort("hbone", 15008, 15008)),
              List.of(new Endpoint("w", true)))),
      List.of()));

  private static Workload pod(String uid, String ip, String sa) {
    return new Workload(uid, uid + "-1", "shop", sa, List.of(ip), "node-1", Map.of(), null);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', nullValues = "null", value = {
      "a source agent may name a pod of the identity it proved | r | frontend | 10.0.0.5 | 10.0.0.5:4000 | 10.0.0.5",
      "a source agent naming a pod of another identity is ignored | r | frontend | 10.0.0.5 | 10.0.0.7:4000 | null",
      "a source agent naming an address outside the mesh is ignored | r | frontend | 10.0.0.5 | 192.168.1.1:4000 | null",
      "the destination's waypoint may name any client | r | waypoint | 10.0.0.9 | 10.0.0.7:4000 | 10.0.0.7",
      "the destination's waypoint may name a client outside the mesh | r | waypoint | 10.0.0.9 | 192.168.1.1:4000 | 192.168.1.1",
      "the waypoint's identity from another address is not believed | r | waypoint | 10.0.0.7 | 10.0.0.5:4000 | null",
      "a waypoint that does not serve the destination is not believed | t | waypoint | 10.0.0.9 | 10.0.0.7:4000 | null",
      "no header names nobody | r | waypoint | 10.0.0.9 | null | null"})
  void a_forwarded_client_is_believed_only_from_whom_it_may_come(
      String behaviour, String destination, String peerAccount, String peerIp, String header, String expected) throws Exception {
    Workload dst = destination.equals("r") ? REVIEWS : RATINGS;
    String forwarded = header == null ? null : "for=\"" + header + "\"";

    Optional<InetSocketAddress> trusted = Inbound.trustedForwarded(
        INDEX, dst, SpiffeId.of(TD, "shop", peerAccount), InetAddress.getByName(peerIp), forwarded, TD);

    assertThat(trusted.map(a -> a.getAddress().getHostAddress())).as(behaviour).isEqualTo(Optional.ofNullable(expected));
  }
}
