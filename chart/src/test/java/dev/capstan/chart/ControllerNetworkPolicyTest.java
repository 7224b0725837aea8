package dev.capstan.chart;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.controller.waypoint.WaypointManifests;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The NetworkPolicy that keeps pods away from the controller's Hazelcast and CA ports, read
 * strictly into fabric8's model (as every rendered object) and checked peer by peer and port by
 * port: who may reach what is the whole point of it.
 */
class ControllerNetworkPolicyTest {

  private static final String CONTROLLER_PODS =
      "pods {app.kubernetes.io/instance=capstan, app.kubernetes.io/name=capstan-controller} in capstan-system";
  private static final String NODE_AGENT_PODS =
      "pods {app.kubernetes.io/instance=capstan, app.kubernetes.io/name=capstan-node-agent} in capstan-system";
  private static final String WAYPOINTS_ANYWHERE =
      "pods {" + WaypointManifests.WAYPOINT_LABEL + " Exists} in namespaces {}";
  private static final String ANY = "any source";

  private static Rendered defaults;

  @BeforeAll
  static void render() {
    defaults = Rendered.parse(Helm.template());
  }

  @Test
  void hazelcastAndTheCaAdmitOnlyTheReplicasTheNodeAgentsAndTheWaypoints() {
    NetworkPolicy policy = defaults.one(NetworkPolicy.class, "capstan-controller");
    Deployment controller = defaults.one(Deployment.class, "capstan-controller");

    assertThat(controller.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(policy.getSpec().getPodSelector().getMatchLabels());
    assertThat(policy.getSpec().getPodSelector().getMatchLabels())
        .containsAllEntriesOf(controller.getSpec().getSelector().getMatchLabels());
    assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
    assertThat(admitted(policy)).isEqualTo(Map.of(
        5701, Set.of(CONTROLLER_PODS, "ipBlock 10.0.0.0/16", "ipBlock 192.168.7.0/24", NODE_AGENT_PODS, WAYPOINTS_ANYWHERE),
        15012, Set.of("ipBlock 10.0.0.0/16", "ipBlock 192.168.7.0/24", NODE_AGENT_PODS, WAYPOINTS_ANYWHERE),
        15020, Set.of(ANY)));
  }

  @Test
  void theSelectorsMatchThePodsTheChartRuns() {
    NetworkPolicy policy = defaults.one(NetworkPolicy.class, "capstan-controller");
    Map<String, String> controllerPods = defaults.one(Deployment.class, "capstan-controller").getSpec().getTemplate()
        .getMetadata().getLabels();
    Map<String, String> agentPods = defaults.one(DaemonSet.class, "capstan-node-agent").getSpec().getTemplate()
        .getMetadata().getLabels();
    List<NetworkPolicyPeer> podPeers = policy.getSpec().getIngress().stream()
        .flatMap(r -> r.getFrom().stream())
        .filter(p -> p.getPodSelector() != null && p.getNamespaceSelector() == null)
        .toList();

    assertThat(podPeers).hasSize(2).allSatisfy(p -> assertThat(p.getPodSelector().getMatchLabels())
        .satisfiesAnyOf(l -> assertThat(controllerPods).containsAllEntriesOf(l), l -> assertThat(agentPods).containsAllEntriesOf(l)));
    assertThat(podPeers).anySatisfy(p -> assertThat(agentPods).containsAllEntriesOf(p.getPodSelector().getMatchLabels()));
  }

  @Test
  void everyPortTheControllerServesIsCoveredExceptTheProbesFromItsOwnNode() {
    NetworkPolicy policy = defaults.one(NetworkPolicy.class, "capstan-controller");
    Set<Integer> served = defaults.one(Deployment.class, "capstan-controller").getSpec().getTemplate().getSpec()
        .getContainers().stream().flatMap(c -> c.getPorts().stream()).map(ContainerPort::getContainerPort)
        .collect(Collectors.toSet());

    // 15021 is the kubelet's (readiness, liveness): a NetworkPolicy cannot block a pod's own node.
    assertThat(served).containsExactlyInAnyOrder(5701, 15012, 15020, 15021);
    assertThat(admitted(policy).keySet()).containsExactlyInAnyOrder(5701, 15012, 15020);
    assertThat(policy.getSpec().getIngress()).flatExtracting(NetworkPolicyIngressRule::getPorts)
        .allSatisfy(p -> assertThat(p.getProtocol()).isEqualTo("TCP"));
  }

  @Test
  void metricsScrapersAndWaypointNamespacesFollowTheValues() {
    NetworkPolicy policy = Rendered.parse(Helm.template(
        "networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=monitoring",
        "networkPolicy.metricsFrom[1].ipBlock.cidr=10.9.0.0/24",
        "networkPolicy.waypointNamespaceSelector.matchLabels.capstan\\.dev/waypoints=allowed",
        "networkPolicy.nodeCidrs={172.16.0.0/12}")).one(NetworkPolicy.class, "capstan-controller");
    String waypoints = "pods {" + WaypointManifests.WAYPOINT_LABEL + " Exists} in namespaces {capstan.dev/waypoints=allowed}";

    assertThat(admitted(policy)).isEqualTo(Map.of(
        5701, Set.of(CONTROLLER_PODS, "ipBlock 172.16.0.0/12", NODE_AGENT_PODS, waypoints),
        15012, Set.of("ipBlock 172.16.0.0/12", NODE_AGENT_PODS, waypoints),
        15020, Set.of("all pods in namespaces {kubernetes.io/metadata.name=monitoring}", "ipBlock 10.9.0.0/24")));
  }

  @Test
  void withoutNodeCidrsTheInstallFailsNamingTheValueAndTheWayOut() {
    Helm.Result missing = Helm.helm("template", "capstan", Helm.CHART.toString(), "--namespace", Helm.NAMESPACE);

    assertThat(missing.exit()).isNotZero();
    assertThat(missing.stderr()).contains("networkPolicy.nodeCidrs is empty", "--set networkPolicy.enabled=false",
        "host network");
  }

  @Test
  void disabledRendersNoNetworkPolicyAndNeedsNoNodeCidrs() {
    Helm.Result off = Helm.helm("template", "capstan", Helm.CHART.toString(), "--namespace", Helm.NAMESPACE,
        "--include-crds", "--set", "networkPolicy.enabled=false");

    assertThat(off.exit()).as(off.stderr()).isZero();
    Rendered rendered = Rendered.parse(off.stdout());
    assertThat(rendered.all(NetworkPolicy.class)).isEmpty();
    assertThat(rendered.objects).hasSize(defaults.objects.size() - 1);
  }

  @Test
  void theInstallNotesSayWhatThePolicyAdmitsAndWarnWhenItIsOff() throws Exception {
    String on = notes(Helm.NODE_CIDRS);
    String off = notes("networkPolicy.enabled=false", "controller.waypoints.deploy=false");

    assertThat(on).contains("10.0.0.0/16, 192.168.7.0/24", "capstan.dev/waypoint").doesNotContain("WARNING");
    assertThat(off).contains("WARNING: networkPolicy.enabled=false", "ANY pod",
        "no rights to create or patch Deployments");
  }

  /** Per port, the peers that may reach it, described ("any source" for a rule without {@code from}). */
  static Map<Integer, Set<String>> admitted(NetworkPolicy policy) {
    Map<Integer, Set<String>> out = new TreeMap<>();
    for (NetworkPolicyIngressRule rule : policy.getSpec().getIngress()) {
      assertThat(rule.getPorts()).as("a rule without ports admits every port").isNotEmpty();
      for (NetworkPolicyPort port : rule.getPorts()) {
        assertThat(port.getPort().getIntVal()).as("ports by number").isNotNull();
        Set<String> peers = out.computeIfAbsent(port.getPort().getIntVal(), p -> new TreeSet<>());
        if (rule.getFrom() == null || rule.getFrom().isEmpty()) {
          peers.add(ANY);
        } else {
          rule.getFrom().forEach(peer -> peers.add(describe(peer)));
        }
      }
    }
    return out;
  }

  private static String describe(NetworkPolicyPeer peer) {
    if (peer.getIpBlock() != null) {
      List<String> except = peer.getIpBlock().getExcept();
      return "ipBlock " + peer.getIpBlock().getCidr() + (except == null || except.isEmpty() ? "" : " except " + except);
    }
    if (peer.getNamespaceSelector() == null) {
      return "pods " + describe(peer.getPodSelector()) + " in " + Helm.NAMESPACE;
    }
    if (peer.getPodSelector() == null) {
      return "all pods in namespaces " + describe(peer.getNamespaceSelector());
    }
    return "pods " + describe(peer.getPodSelector()) + " in namespaces " + describe(peer.getNamespaceSelector());
  }

  private static String describe(LabelSelector selector) {
    Stream<String> labels = selector.getMatchLabels() == null ? Stream.empty()
        : new TreeMap<>(selector.getMatchLabels()).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue());
    Stream<String> expressions = selector.getMatchExpressions() == null ? Stream.empty()
        : selector.getMatchExpressions().stream().sorted(Comparator.comparing(LabelSelectorRequirement::getKey))
            .map(e -> e.getKey() + " " + e.getOperator() + (e.getValues() == null || e.getValues().isEmpty() ? ""
                : " " + e.getValues()));
    return Stream.concat(labels, expressions).collect(Collectors.joining(", ", "{", "}"));
  }

  /**
   * NOTES.txt as {@code helm install} prints it. {@code helm template} does not render notes and
   * {@code helm install --dry-run} needs a cluster, so a copy of the chart carries the notes as a
   * YAML block string in a template of its own.
   */
  private static String notes(String... sets) throws Exception {
    Path copy = Files.createTempDirectory("capstan-chart");
    try {
      try (Stream<Path> files = Files.walk(Helm.CHART)) {
        for (Path f : files.toList()) {
          Path target = copy.resolve(Helm.CHART.relativize(f).toString());
          if (Files.isDirectory(f)) {
            Files.createDirectories(target);
          } else {
            Files.copy(f, target);
          }
        }
      }
      Path notes = copy.resolve("templates/NOTES.txt");
      String block = Files.readAllLines(notes).stream().map(l -> "  " + l).collect(Collectors.joining("\n"));
      Files.writeString(copy.resolve("templates/notes-as-yaml.yaml"), "notes: |\n" + block + "\n");
      Files.delete(notes);
      List<String> args = new ArrayList<>(List.of("template", "capstan", copy.toString(), "--namespace",
          Helm.NAMESPACE, "--show-only", "templates/notes-as-yaml.yaml"));
      for (String set : sets) {
        args.add("--set");
        args.add(set);
      }
      return Helm.helm(args.toArray(String[]::new)).orFail("helm template (notes)").stdout();
    } finally {
      try (Stream<Path> files = Files.walk(copy)) {
        for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(f);
        }
      }
    }
  }
}
