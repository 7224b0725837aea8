package dev.capstan.redirect.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.model.Workload;
import dev.capstan.redirect.config.RedirectConfig;
import dev.capstan.redirect.reconcile.Reconciler.Action;
import dev.capstan.redirect.testing.FakeKernel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ReconcilerTest {

  static final RedirectConfig CONFIG = RedirectConfig.parse("node: node1\nmesh: mesh.yaml\n", "test", Path.of("."));

  private final FakeKernel kernel = new FakeKernel();
  private final Reconciler reconciler = new Reconciler(CONFIG, kernel);

  static Workload workload(String name, String node, String... ips) {
    return new Workload(name, name, "shop", "default", List.of(ips), node, Map.of(), null);
  }

  @BeforeEach
  void pods() {
    kernel.podRoutes.put("10.1.0.2", "vweb");
    kernel.podRoutes.put("10.1.0.3", "vdb");
  }

  @Test
  void nothing_is_touched_before_a_mesh_is_published() {
    Reconciler.Outcome outcome = reconciler.reconcile(Optional.empty());

    assertThat(outcome.action()).isEqualTo(Action.WAITING_FOR_MESH);
    assertThat(kernel.ran).isEmpty();
  }

  @Test
  void first_reconcile_applies_this_nodes_pods_and_policy_routing() {
    Reconciler.Outcome outcome = reconciler.reconcile(Optional.of(List.of(
        workload("web", "node1", "10.1.0.2"), workload("db", "node1", "10.1.0.3"), workload("far", "node2", "10.9.0.1"))));

    assertThat(outcome).isEqualTo(new Reconciler.Outcome(Action.APPLIED, 2, 0));
    assertThat(kernel.applied).hasSize(1);
    assertThat(kernel.table).contains("\"vweb\" . 10.1.0.2").contains("\"vdb\" . 10.1.0.3").doesNotContain("10.9.0.1");
    assertThat(kernel.rule).isTrue();
    assertThat(kernel.route).isTrue();
  }

  @Test
  void a_waypoints_pods_and_opted_out_pods_of_this_node_are_not_captured() {
    kernel.podRoutes.put("10.1.0.4", "vwaypoint");
    kernel.podRoutes.put("10.1.0.5", "vout");
    Workload waypoint = new Workload("wp", "waypoint-7d9f", "shop", "waypoint", List.of("10.1.0.4"), "node1",
        Map.of(Workload.WAYPOINT_LABEL, "waypoint"), null);
    Workload optedOut = new Workload("out", "out", "shop", "default", List.of("10.1.0.5"), "node1",
        Map.of(Workload.MESH_LABEL, Workload.MESH_DISABLED), null);

    Reconciler.Outcome outcome = reconciler.reconcile(Optional.of(List.of(workload("web", "node1", "10.1.0.2"), waypoint,
        optedOut)));

    assertThat(outcome).isEqualTo(new Reconciler.Outcome(Action.APPLIED, 1, 0));
    assertThat(kernel.table).contains("\"vweb\" . 10.1.0.2")
        .doesNotContain("10.1.0.4").doesNotContain("vwaypoint")
        .doesNotContain("10.1.0.5").doesNotContain("vout");
  }

  @Test
  void unchanged_mesh_is_not_reapplied_so_counters_survive() {
    List<Workload> mesh = List.of(workload("web", "node1", "10.1.0.2"));
    reconciler.reconcile(Optional.of(mesh));

    Reconciler.Outcome again = reconciler.reconcile(Optional.of(mesh));

    assertThat(again.action()).isEqualTo(Action.UNCHANGED);
    assertThat(kernel.applied).hasSize(1);
  }

  @Test
  void removed_pod_is_removed_from_the_table() {
    reconciler.reconcile(Optional.of(List.of(workload("web", "node1", "10.1.0.2"), workload("db", "node1", "10.1.0.3"))));

    Reconciler.Outcome outcome = reconciler.reconcile(Optional.of(List.of(workload("web", "node1", "10.1.0.2"))));

    assertThat(outcome.action()).isEqualTo(Action.APPLIED);
    assertThat(kernel.table).contains("10.1.0.2").doesNotContain("10.1.0.3");
  }

  @Test
  void deleted_table_is_repaired() {
    reconciler.reconcile(Optional.of(List.of(workload("web", "node1", "10.1.0.2"))));
    kernel.table = null;

    Reconciler.Outcome outcome = reconciler.reconcile(Optional.empty());

    assertThat(outcome.action()).isEqualTo(Action.REPAIRED_DRIFT);
    assertThat(kernel.table).contains("10.1.0.2");
  }

  @Test
  void mesh_unavailable_keeps_the_last_known_capture() {
    reconciler.reconcile(Optional.of(List.of(workload("web", "node1", "10.1.0.2"))));

    Reconciler.Outcome outcome = reconciler.reconcile(Optional.empty());

    assertThat(outcome).isEqualTo(new Reconciler.Outcome(Action.UNCHANGED, 1, 0));
    assertThat(kernel.table).contains("10.1.0.2");
  }

  @Test
  void pod_without_route_waits_and_is_attached_once_its_interface_appears() {
    List<Workload> mesh = List.of(workload("new", "node1", "10.1.0.7"));
    Reconciler.Outcome before = reconciler.reconcile(Optional.of(mesh));
    assertThat(before).isEqualTo(new Reconciler.Outcome(Action.APPLIED, 0, 1));
    assertThat(kernel.table).contains("elements = { 10.1.0.7 }").doesNotContain("\" . 10.1.0.7");

    kernel.podRoutes.put("10.1.0.7", "vnew");
    Reconciler.Outcome after = reconciler.reconcile(Optional.of(mesh));

    assertThat(after).isEqualTo(new Reconciler.Outcome(Action.APPLIED, 1, 0));
    assertThat(kernel.table).contains("\"vnew\" . 10.1.0.7");
  }

  @Test
  void ipv6_addresses_are_left_out() {
    Reconciler.Outcome outcome = reconciler.reconcile(Optional.of(List.of(workload("web", "node1", "10.1.0.2", "fd00::2"))));

    assertThat(outcome.captured()).isEqualTo(1);
    assertThat(kernel.table).doesNotContain("fd00");
  }

  @Test
  void uninstall_removes_table_rule_and_route_and_tolerates_their_absence() {
    reconciler.reconcile(Optional.of(List.of(workload("web", "node1", "10.1.0.2"))));

    reconciler.uninstall();
    reconciler.uninstall();

    assertThat(kernel.table).isNull();
    assertThat(kernel.rule).isFalse();
    assertThat(kernel.route).isFalse();
  }
}
