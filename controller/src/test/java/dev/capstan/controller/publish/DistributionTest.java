package dev.capstan.controller.publish;

import static dev.capstan.controller.testing.Replicas.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.controller.testing.Meshes;
import dev.capstan.controller.testing.Replicas;
import dev.capstan.core.mesh.MeshMaps;
import dev.capstan.core.mesh.MeshVersion;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.RouteManifest;
import dev.capstan.core.model.TrafficPolicy;
import dev.capstan.core.model.Waypoint;
import dev.capstan.core.model.Workload;
import dev.capstan.nodeagent.state.HazelcastMeshView;
import dev.capstan.nodeagent.state.MeshIndex;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Real embedded Hazelcast members (the controller replicas) and real clients (node agents) in one JVM. */
class DistributionTest {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private Replicas replicas;

  @AfterEach
  void stop() {
    if (replicas != null) {
      replicas.close();
    }
  }

  @Test
  void a_published_mesh_reaches_every_agent_with_its_version() throws Exception {
    replicas = new Replicas(1);
    Replicas.Replica r = replicas.start(0);
    List<HazelcastMeshView> agents = List.of(replicas.agent("a"), replicas.agent("b"), replicas.agent("c"));
    assertThat(agents).noneMatch(HazelcastMeshView::ready);

    replicas.offer(Meshes.mesh("h1", 40, 3));

    for (HazelcastMeshView agent : agents) {
      MeshIndex index = await(agent, i -> i.snapshot().workloads().size() == 40, WAIT);
      assertThat(agent.ready()).isTrue();
      assertThat(index.version()).isEqualTo("1-h1");
      assertThat(index.snapshot().services()).hasSize(4);
      assertThat(index.policies("ns-2")).hasSize(1);
      assertThat(index.workloadByIp(InetAddress.getByName("10.0.0.7"))).map(Workload::name).contains("app-0-7");
    }
    assertThat(r.distribution().lastResult().written()).isEqualTo(40 + 4 + 5);
  }

  @Test
  void an_update_reaches_every_agent_and_writes_only_what_changed() {
    replicas = new Replicas(1);
    Replicas.Replica r = replicas.start(0);
    List<HazelcastMeshView> agents = List.of(replicas.agent("a"), replicas.agent("b"));
    List<Workload> ws = new ArrayList<>(Meshes.mesh("h1", 30, 2).workloads());
    replicas.offer(Meshes.mesh("h1", ws));
    agents.forEach(a -> await(a, i -> i.version().equals("1-h1"), WAIT));

    Workload old = ws.get(5);
    ws.set(5, new Workload(old.uid(), old.name(), old.namespace(), old.serviceAccount(), old.ips(), old.node(),
        Map.of("app", "relabelled"), null));
    ws.remove(29);
    replicas.offer(Meshes.mesh("h2", ws));

    for (HazelcastMeshView agent : agents) {
      MeshIndex index = await(agent, i -> i.version().equals("2-h2") && i.snapshot().workloads().size() == 29, WAIT);
      assertThat(index.snapshot().workloads()).filteredOn(w -> w.uid().equals(old.uid()))
          .singleElement().extracting(Workload::labels).isEqualTo(Map.of("app", "relabelled"));
    }
    // One workload changed, one removed, and the service that lost its endpoint changed.
    Publisher.Result result = r.distribution().lastResult();
    assertThat(result.written()).isEqualTo(2);
    assertThat(result.removed()).isEqualTo(1);
  }

  @Test
  void a_namespace_buffer_weight_reaches_the_agents_and_its_removal_too() {
    replicas = new Replicas(1);
    replicas.start(0);
    HazelcastMeshView agent = replicas.agent("a");
    dev.capstan.core.model.MeshSnapshot base = Meshes.mesh("h1", 10, 2);
    replicas.offer(new dev.capstan.core.model.MeshSnapshot("h1", base.workloads(), base.services(), base.policies(),
        Map.of("ns-0", 3)));
    MeshIndex weighted = await(agent, i -> i.snapshot().bufferWeights().equals(Map.of("ns-0", 3)), WAIT);
    assertThat(weighted.policies("ns-0")).isEqualTo(base.policies().stream().filter(p -> p.namespace().equals("ns-0")).toList());

    replicas.offer(new dev.capstan.core.model.MeshSnapshot("h2", base.workloads(), base.services(), base.policies(), Map.of()));
    await(agent, i -> i.version().equals("2-h2") && i.snapshot().bufferWeights().isEmpty(), WAIT);
  }

  @Test
  void traffic_policies_are_published_by_key_then_changed_and_removed() {
    replicas = new Replicas(1);
    Replicas.Replica r = replicas.start(0);
    HazelcastMeshView agent = replicas.agent("a");
    MeshSnapshot base = Meshes.mesh("h1", 10, 2);
    TrafficPolicy rr = new TrafficPolicy("ns-0", "lb", 0, List.of("svc-0"), null, null, null, null, null,
        TrafficPolicy.LoadBalancer.ROUND_ROBIN);
    TrafficPolicy limited = new TrafficPolicy("ns-1", "limits", 0, List.of(), null, null,
        java.util.Optional.of(new TrafficPolicy.Limits(50)), null, null, null);
    var map = r.hazelcast().<String, TrafficPolicy>getMap(MeshMaps.TRAFFIC_POLICIES);

    replicas.offer(new MeshSnapshot("h1", base.workloads(), base.services(), base.policies(), Map.of(), List.of(rr, limited),
        List.of(), List.of()));
    await(agent, i -> i.version().equals("1-h1"), WAIT);
    assertThat(map.get("ns-0/lb")).isEqualTo(rr);
    assertThat(map.get("ns-1/limits")).isEqualTo(limited);
    assertThat(r.hazelcast().<String, MeshVersion>getMap(MeshMaps.META).get(MeshMaps.VERSION_KEY).entries().trafficPolicies())
        .as("the version counts the TrafficPolicy map").isEqualTo(2);

    TrafficPolicy tighter = new TrafficPolicy("ns-1", "limits", 0, List.of(), null, null,
        java.util.Optional.of(new TrafficPolicy.Limits(5)), null, null, null);
    replicas.offer(new MeshSnapshot("h2", base.workloads(), base.services(), base.policies(), Map.of(), List.of(tighter),
        List.of(), List.of()));
    await(agent, i -> i.version().equals("2-h2"), WAIT);
    assertThat(map.keySet()).containsExactly("ns-1/limits");
    assertThat(map.get("ns-1/limits")).isEqualTo(tighter);
    assertThat(r.distribution().lastResult().written()).as("only the changed policy").isEqualTo(1);
    assertThat(r.distribution().lastResult().removed()).isEqualTo(1);
  }

  @Test
  void updates_keep_flowing_after_the_leading_replica_dies() {
    replicas = new Replicas(2);
    Replicas.Replica first = replicas.start(0);
    Replicas.Replica second = replicas.start(1);
    Replicas.eventually(() -> first.hazelcast().getCluster().getMembers().size() == 2, WAIT, () -> "cluster formed");
    HazelcastMeshView agent = replicas.agent("a");
    replicas.offer(Meshes.mesh("h1", 20, 2));
    await(agent, i -> i.version().equals("1-h1"), WAIT);
    assertThat(first.leadership().isLeader()).isTrue();
    assertThat(second.leadership().isLeader()).isFalse();

    first.kill();
    Replicas.eventually(() -> second.leadership().isLeader(), WAIT, () -> "standby took over");
    replicas.offer(Meshes.mesh("h2", 25, 2));

    MeshIndex index = await(agent, i -> i.version().equals("2-h2"), WAIT);
    assertThat(index.snapshot().workloads()).hasSize(25);
    // The new leader diffed against what the old one left: only the five new workloads and their
    // service (whether its take-over or the offer wrote them first).
    Replicas.eventually(() -> second.entriesWritten() == 5 + 1, WAIT, () -> "written " + second.entriesWritten());
  }

  @Test
  void an_event_the_agent_never_got_is_repaired_by_the_version_check() {
    replicas = new Replicas(1);
    Replicas.Replica r = replicas.start(0);
    HazelcastMeshView agent = replicas.agent("a");
    replicas.offer(Meshes.mesh("h1", 20, 2));
    await(agent, i -> i.version().equals("1-h1"), WAIT);

    // Evicting fires no "removed" event, so when the publisher then deletes the entry there is
    // nothing left to delete and the agent hears nothing: a lost removal.
    r.hazelcast().getMap(dev.capstan.core.mesh.MeshMaps.WORKLOADS).evict(Meshes.ip(0));
    replicas.offer(Meshes.mesh("h2", Meshes.mesh("x", 20, 2).workloads().subList(1, 20)));

    MeshIndex index = await(agent, i -> i.version().equals("2-h2") && i.snapshot().workloads().size() == 19, WAIT);
    assertThat(index.snapshot().workloads()).noneMatch(w -> w.ips().contains(Meshes.ip(0)));
  }

  @Test
  void agents_keep_the_last_known_mesh_while_the_controller_is_down_then_catch_up() {
    replicas = new Replicas(1);
    Replicas.Replica r = replicas.start(0);
    HazelcastMeshView agent = replicas.agent("a");
    replicas.offer(Meshes.mesh("h1", 20, 2));
    await(agent, i -> i.version().equals("1-h1"), WAIT);

    r.kill();
    MeshIndex whileDown = agent.current();
    assertThat(whileDown.version()).isEqualTo("1-h1");
    assertThat(whileDown.snapshot().workloads()).hasSize(20);

    // The controller comes back with empty maps, then publishes a mesh without workload 0.
    Replicas.Replica back = replicas.start(0);
    MeshSnapshot next = Meshes.mesh("h2", Meshes.mesh("x", 22, 2).workloads().subList(1, 22));
    replicas.offer(next);

    MeshIndex index = await(agent, i -> i.version().equals("1-h2"), WAIT);
    assertThat(index.snapshot().workloads()).hasSize(21)
        .noneMatch(w -> w.ips().contains(Meshes.ip(0)));
    assertThat(back.distribution().leader()).isTrue();
  }

  @Test
  void waypoints_and_routes_are_published_with_their_counts_and_removed_when_gone() {
    replicas = new Replicas(1);
    Replicas.Replica r = replicas.start(0);
    MeshSnapshot base = Meshes.mesh("h1", 10, 2);
    Waypoint waypoint = new Waypoint("ns-0", "waypoint", "waypoint", 2,
        new Waypoint.Compute(Map.of("cpu", "100m"), Map.of("memory", "128Mi")), Waypoint.TrafficType.ALL);
    RouteManifest route = new RouteManifest(RouteManifest.GRPC_ROUTE, "ns-0", "users", "{\"kind\":\"GRPCRoute\"}");
    replicas.offer(new MeshSnapshot("h2", base.workloads(), base.services(), base.policies(), Map.of(), List.of(),
        List.of(waypoint), List.of(route)));
    java.util.concurrent.CountDownLatch connected = new java.util.concurrent.CountDownLatch(1);
    com.hazelcast.core.HazelcastInstance client = com.hazelcast.client.HazelcastClient.newHazelcastClient(
        MeshMaps.clientConfig("reader-" + java.util.UUID.randomUUID(), replicas.clusterName(),
            replicas.ports().stream().map(p -> "127.0.0.1:" + p).toList(), e -> {
              if (e.getState() == com.hazelcast.core.LifecycleEvent.LifecycleState.CLIENT_CONNECTED) {
                connected.countDown();
              }
            }));
    try {
      Replicas.eventually(() -> connected.getCount() == 0, WAIT, () -> "not connected");
      com.hazelcast.map.IMap<String, MeshVersion> meta = client.getMap(MeshMaps.META);
      Replicas.eventually(() -> meta.get(MeshMaps.VERSION_KEY) != null, WAIT, () -> "no version");
      assertThat(meta.get(MeshMaps.VERSION_KEY).entries()).isEqualTo(new MeshVersion.Counts(10, 1, 5, 1, 1, 0));
      assertThat(client.<String, Waypoint>getMap(MeshMaps.WAYPOINTS).get("ns-0/waypoint")).isEqualTo(waypoint);
      assertThat(client.<String, RouteManifest>getMap(MeshMaps.ROUTES).get("GRPCRoute/ns-0/users")).isEqualTo(route);

      replicas.offer(new MeshSnapshot("h3", base.workloads(), base.services(), base.policies(), Map.of(), List.of(), List.of(),
          List.of()));
      Replicas.eventually(() -> meta.get(MeshMaps.VERSION_KEY).hash().equals("h3"), WAIT, () -> "not h3");
      assertThat(client.getMap(MeshMaps.WAYPOINTS).isEmpty()).isTrue();
      assertThat(client.getMap(MeshMaps.ROUTES).isEmpty()).isTrue();
      assertThat(r.distribution().lastResult().removed()).isEqualTo(2);
    } finally {
      client.shutdown();
    }
  }
}
