package dev.capstan.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.capstan.controller.ControllerConfig;
import dev.capstan.controller.ca.CaConfig;
import dev.capstan.nodeagent.config.AgentConfig;
import dev.capstan.redirect.config.RedirectConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The chart as {@code helm lint} and {@code helm template} see it, every rendered object read
 * strictly into fabric8's typed model, and the rendered configs read by the components' own
 * parsers (what the pods will read at start).
 */
class ChartTest {

  private static Rendered defaults;

  @BeforeAll
  static void render() {
    defaults = Rendered.parse(Helm.template());
  }

  @Test
  void helmLintFindsNothingEvenWhenStrict() {
    Helm.Result lint = Helm.helm("lint", "--strict", Helm.CHART.toString());

    assertThat(lint.exit()).as(lint.stdout() + lint.stderr()).isZero();
    assertThat(lint.stdout()).contains("0 chart(s) failed");
  }

  @Test
  void everyRenderedObjectIsAKnownKindWithNoUnknownField() {
    // Defaults, and every optional part switched on: both must read strictly (Rendered.parse throws).
    Rendered all = Rendered.parse(Helm.template("metrics.podMonitor.enabled=true", "grafanaDashboard.enabled=true",
        "controller.watchNamespaces={shop,web}", "nodeAgent.quota.budget=64MiB", "imagePullSecrets[0].name=registry"));

    assertThat(defaults.kinds()).containsExactlyInAnyOrder("CustomResourceDefinition", "ServiceAccount", "ConfigMap",
        "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service", "Deployment", "DaemonSet",
        "PodDisruptionBudget", "NetworkPolicy");
    assertThat(all.kinds()).contains("PodMonitor");
    assertThat(all.objects.size()).isEqualTo(defaults.objects.size() + 3);
  }

  @Test
  void aModelObjectWithAFieldTheModelDoesNotKnowIsCaught() {
    String typo = """
        apiVersion: v1
        kind: Service
        metadata: {name: x, namespace: capstan-system}
        spec:
          ports: [{port: 80, targetPortt: 8080}]
        """;

    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> Rendered.parse(typo)))
        .hasMessageContaining("Service x.spec.ports[0]: unknown field(s) [targetPortt]");
  }

  @Test
  void aMisspeltOrOutOfRangeValueIsRefusedByTheValuesSchema() {
    Helm.Result typo = Helm.helm("template", "capstan", Helm.CHART.toString(), "--set", "nodeAgent.drainTimout=3s");
    Helm.Result zero = Helm.helm("template", "capstan", Helm.CHART.toString(), "--set", "controller.replicas=0");
    Helm.Result mark = Helm.helm("template", "capstan", Helm.CHART.toString(), "--set", "redirect.capture.agentMark=lots");

    assertThat(typo.exit()).isNotZero();
    assertThat(typo.stderr()).contains("drainTimout");
    assertThat(zero.exit()).isNotZero();
    assertThat(zero.stderr()).contains("controller.replicas");
    assertThat(mark.exit()).isNotZero();
    assertThat(mark.stderr()).contains("agentMark");
    Helm.Result cidr = Helm.helm("template", "capstan", Helm.CHART.toString(), "--set", "networkPolicy.nodeCidrs={10.0.0.0}");
    Helm.Result peer = Helm.helm("template", "capstan", Helm.CHART.toString(), "--set", Helm.NODE_CIDRS,
        "--set", "networkPolicy.metricsFrom[0].namespaceSelectr.matchLabels.a=b");
    assertThat(cidr.exit()).isNotZero();
    assertThat(cidr.stderr()).contains("nodeCidrs");
    assertThat(peer.exit()).isNotZero();
    assertThat(peer.stderr()).contains("namespaceSelectr");
  }

  @Test
  void namespacedObjectsLandInTheReleaseNamespace() {
    for (HasMetadata o : defaults.objects) {
      if (o instanceof Namespaced) {
        assertThat(o.getMetadata().getNamespace()).as(o.getKind() + " " + o.getMetadata().getName())
            .isEqualTo(Helm.NAMESPACE);
      } else {
        assertThat(o.getMetadata().getNamespace()).as(o.getKind() + " " + o.getMetadata().getName()).isNull();
      }
    }
  }

  @Test
  void theCrdsAreInstalledWithTheirSchemasAndCelRules() {
    List<CustomResourceDefinition> crds = defaults.all(CustomResourceDefinition.class);

    assertThat(crds).extracting(c -> c.getMetadata().getName()).containsExactlyInAnyOrder(
        "authorizationpolicies.capstan.dev", "trafficpolicies.capstan.dev", "waypoints.capstan.dev");
    for (CustomResourceDefinition crd : crds) {
      assertThat(crd.getSpec().getVersions()).allSatisfy(v ->
          assertThat(v.getSchema().getOpenAPIV3Schema().getProperties()).containsKey("spec"));
    }
    String policies = defaults.one(CustomResourceDefinition.class, "trafficpolicies.capstan.dev").toString()
        + defaults.one(CustomResourceDefinition.class, "authorizationpolicies.capstan.dev");
    assertThat(policies).contains("fillInterval must be at least 50ms", "selector and targetRefs are exclusive");
  }

  @Test
  void theControllerRunsTwoReplicasKeptUpByADisruptionBudget() {
    Deployment controller = defaults.one(Deployment.class, "capstan-controller");
    Map<String, String> podLabels = controller.getSpec().getTemplate().getMetadata().getLabels();
    PodDisruptionBudget pdb = defaults.one(PodDisruptionBudget.class, "capstan-controller");

    assertThat(controller.getSpec().getReplicas()).isEqualTo(2);
    assertThat(podLabels).containsAllEntriesOf(controller.getSpec().getSelector().getMatchLabels());
    assertThat(pdb.getSpec().getMinAvailable().getIntVal()).isEqualTo(1);
    assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());
    assertThat(controller.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo("capstan-controller");
    Container c = controller.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(c.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(15021);
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/healthz/ready");
    assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(c.getSecurityContext().getCapabilities().getAdd()).isNullOrEmpty();
    assertThat(controller.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
  }

  @Test
  void servicesExposeTheCaHazelcastAndMetricsAndSelectTheControllerPods() {
    Service main = defaults.one(Service.class, "capstan-controller");
    Service headless = defaults.one(Service.class, "capstan-controller-hazelcast");
    Map<String, String> podLabels = defaults.one(Deployment.class, "capstan-controller").getSpec().getTemplate()
        .getMetadata().getLabels();
    Set<String> containerPorts = new HashSet<>();
    defaults.one(Deployment.class, "capstan-controller").getSpec().getTemplate().getSpec().getContainers().get(0)
        .getPorts().forEach(p -> containerPorts.add(p.getName()));

    assertThat(main.getSpec().getPorts()).extracting(ServicePort::getPort).containsExactlyInAnyOrder(
        CaConfig.DEFAULT_PORT, 5701, 15020);
    assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(headless.getSpec().getPublishNotReadyAddresses()).isTrue();
    assertThat(headless.getSpec().getPorts()).extracting(ServicePort::getPort).containsExactly(5701);
    for (Service s : List.of(main, headless)) {
      assertThat(podLabels).as(s.getMetadata().getName()).containsAllEntriesOf(s.getSpec().getSelector());
      assertThat(s.getSpec().getPorts()).allSatisfy(p -> assertThat(containerPorts).contains(p.getTargetPort().getStrVal()));
    }
  }

  @Test
  void theNodeAgentPodIsOnTheHostNetworkWithOnlyNetAdminAndNetRaw() {
    DaemonSet ds = defaults.one(DaemonSet.class, "capstan-node-agent");
    PodSpec pod = ds.getSpec().getTemplate().getSpec();
    List<Container> all = new ArrayList<>(pod.getContainers());
    all.addAll(pod.getInitContainers());

    assertThat(pod.getHostNetwork()).isTrue();
    assertThat(pod.getDnsPolicy()).isEqualTo("ClusterFirstWithHostNet");
    assertThat(pod.getContainers()).extracting(Container::getName).containsExactly("node-agent", "redirect");
    for (Container c : all) {
      assertThat(c.getSecurityContext().getPrivileged()).as(c.getName()).isNotEqualTo(Boolean.TRUE);
      assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).as(c.getName()).isFalse();
      assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).as(c.getName()).isTrue();
      assertThat(c.getSecurityContext().getCapabilities().getDrop()).as(c.getName()).containsExactly("ALL");
      assertThat(c.getSecurityContext().getCapabilities().getAdd()).as(c.getName()).isSubsetOf("NET_ADMIN", "NET_RAW");
      assertThat(c.getPorts()).as(c.getName() + ": ports would be hostPorts and block the surge pod").isNullOrEmpty();
    }
    Container agent = pod.getContainers().get(0);
    assertThat(agent.getSecurityContext().getCapabilities().getAdd()).containsExactlyInAnyOrder("NET_ADMIN", "NET_RAW");
    assertThat(agent.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(15021);
    assertThat(agent.getStartupProbe().getHttpGet().getPath()).isEqualTo("/healthz/ready");
    assertThat(agent.getLivenessProbe().getTcpSocket().getPort().getIntVal()).isEqualTo(15021);
    assertThat(pod.getTolerations()).anySatisfy(t -> assertThat(t.getOperator()).isEqualTo("Exists"));
    assertThat(ds.getSpec().getUpdateStrategy().getRollingUpdate().getMaxUnavailable().getIntVal()).isZero();
  }

  @Test
  void theNodeAgentGetsTimeToDrainBeforeItIsKilled() {
    PodSpec pod = defaults.one(DaemonSet.class, "capstan-node-agent").getSpec().getTemplate().getSpec();
    AgentConfig agent = agentConfig(defaults);
    PodSpec longer = Rendered.parse(Helm.template("nodeAgent.drainTimeout=2m")).one(DaemonSet.class, "capstan-node-agent")
        .getSpec().getTemplate().getSpec();

    assertThat(pod.getTerminationGracePeriodSeconds()).isGreaterThan(agent.drainTimeout().toSeconds());
    assertThat(longer.getTerminationGracePeriodSeconds()).isEqualTo(135L);
  }

  @Test
  void nodeAgentsGetNoKubernetesApiRightsOnlyATokenTheCaReviews() {
    DaemonSet ds = defaults.one(DaemonSet.class, "capstan-node-agent");
    PodSpec pod = ds.getSpec().getTemplate().getSpec();
    List<Subject> subjects = new ArrayList<>();
    defaults.all(RoleBinding.class).forEach(b -> subjects.addAll(b.getSubjects()));
    defaults.all(ClusterRoleBinding.class).forEach(b -> subjects.addAll(b.getSubjects()));
    Volume token = pod.getVolumes().stream().filter(v -> v.getProjected() != null).findFirst().orElseThrow();

    assertThat(pod.getServiceAccountName()).isEqualTo("capstan-node-agent");
    assertThat(subjects).noneMatch(s -> "capstan-node-agent".equals(s.getName()));
    assertThat(subjects).noneMatch(s -> "Group".equals(s.getKind()));
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    assertThat(defaults.one(ServiceAccount.class, "capstan-node-agent").getAutomountServiceAccountToken()).isFalse();
    assertThat(token.getProjected().getSources()).singleElement().satisfies(s -> {
      assertThat(s.getServiceAccountToken().getAudience()).isEqualTo(CaConfig.DEFAULT_AUDIENCE);
      assertThat(s.getServiceAccountToken().getExpirationSeconds()).isLessThanOrEqualTo(3600L);
    });
    assertThat(agentConfig(defaults).certs()).isInstanceOfSatisfying(AgentConfig.CertAuthority.class,
        ca -> assertThat(ca.token().toString()).startsWith(pod.getContainers().get(0).getVolumeMounts().stream()
            .filter(m -> m.getName().equals(token.getName())).findFirst().orElseThrow().getMountPath()));
  }

  @Test
  void theControllersRightsAreNamedAndNeverWildcardsOrDeletes() {
    ClusterRole cluster = defaults.one(ClusterRole.class, "capstan-controller");
    Role local = defaults.one(Role.class, "capstan-controller");
    List<PolicyRule> rules = new ArrayList<>(cluster.getRules());
    rules.addAll(local.getRules());

    for (PolicyRule r : rules) {
      assertThat(r.getVerbs()).doesNotContain("*", "delete", "deletecollection", "escalate", "bind", "impersonate");
      assertThat(r.getResources()).doesNotContain("*");
      assertThat(r.getApiGroups()).doesNotContain("*");
    }
    assertThat(cluster.getRules()).noneMatch(r -> r.getResources().contains("secrets"));
    assertThat(local.getRules()).filteredOn(r -> r.getResources().contains("secrets") && r.getVerbs().contains("get"))
        .allSatisfy(r -> assertThat(r.getResourceNames()).containsExactly("capstan-ca"));
    assertThat(grants(cluster, "authentication.k8s.io", "tokenreviews", "create")).isTrue();
    for (String watched : List.of("pods", "services", "namespaces")) {
      assertThat(grants(cluster, "", watched, "watch")).as(watched).isTrue();
    }
    for (String crd : List.of("waypoints", "authorizationpolicies", "trafficpolicies")) {
      assertThat(grants(cluster, "capstan.dev", crd, "list")).as(crd).isTrue();
    }
    assertThat(grants(cluster, "gateway.networking.k8s.io", "httproutes", "watch")).isTrue();
    assertThat(grants(cluster, "apps", "deployments", "create")).isTrue();
    assertThat(grants(cluster, "apps", "deployments", "watch")).as("Waypoints' readiness").isTrue();
    assertThat(grants(cluster, "capstan.dev", "waypoints/status", "update")).as("Waypoints' status").isTrue();
    assertThat(grants(cluster, "capstan.dev", "waypoints", "update")).as("the spec stays the user's").isFalse();
    assertThat(grants(local, "coordination.k8s.io", "leases", "update")).isTrue();
    assertThat(grants(local, "discovery.k8s.io", "endpointslices", "list")).as("Hazelcast discovery").isTrue();
  }

  @Test
  void withoutWaypointDeploymentTheControllerCanWriteNothingClusterWideButTokenReviews() {
    ClusterRole off = Rendered.parse(Helm.template("controller.waypoints.deploy=false"))
        .one(ClusterRole.class, "capstan-controller");

    for (String resource : WAYPOINT_OBJECTS.keySet()) {
      for (String verb : List.of("create", "patch", "update")) {
        assertThat(grants(off, WAYPOINT_OBJECTS.get(resource), resource, verb)).as(verb + " " + resource).isFalse();
      }
    }
    assertThat(off.getRules()).allSatisfy(r -> {
      assertThat(r.getResources()).doesNotContain("serviceaccounts", "configmaps");
      // the status writer's: Waypoints' status, whoever deploys them (read from their Deployments)
      if (!r.getResources().equals(List.of("tokenreviews")) && !r.getResources().equals(List.of("waypoints/status"))) {
        assertThat(r.getVerbs()).as(r.getResources().toString()).isSubsetOf("get", "list", "watch");
      }
    });
    assertThat(grants(off, "capstan.dev", "waypoints/status", "update")).isTrue();
  }

  @Test
  void theWaypointDeployerGetsExactlyTheVerbsItUsesOnTheObjectsItRuns() {
    ClusterRole on = defaults.one(ClusterRole.class, "capstan-controller");

    // WaypointDeployer: get by name, create when absent, edit (a JSON patch) when owned and changed.
    for (Map.Entry<String, String> object : WAYPOINT_OBJECTS.entrySet()) {
      Set<String> writing = new HashSet<>();
      on.getRules().stream()
          .filter(r -> r.getApiGroups().contains(object.getValue()) && r.getResources().contains(object.getKey()))
          .filter(r -> !Set.of("get", "list", "watch").containsAll(r.getVerbs()))
          .forEach(r -> writing.addAll(r.getVerbs()));
      assertThat(writing).as(object.getKey()).containsExactlyInAnyOrder("get", "create", "patch");
    }
    // Deployments are watched by the status writer (Waypoints' readiness), never listed for the others
    assertThat(grants(on, "apps", "deployments", "watch")).isTrue();
    for (String unread : List.of("serviceaccounts", "configmaps")) {
      assertThat(grants(on, WAYPOINT_OBJECTS.get(unread), unread, "list")).as(unread).isFalse();
      assertThat(grants(on, WAYPOINT_OBJECTS.get(unread), unread, "watch")).as(unread).isFalse();
    }
  }

  /** The kinds of object WaypointDeployer writes, by resource, with their API group. */
  private static final Map<String, String> WAYPOINT_OBJECTS = Map.of(
      "deployments", "apps", "services", "", "serviceaccounts", "", "configmaps", "");

  private static boolean grants(HasMetadata role, String group, String resource, String verb) {
    List<PolicyRule> rules = role instanceof ClusterRole c ? c.getRules() : ((Role) role).getRules();
    return rules.stream().anyMatch(r -> r.getApiGroups().contains(group) && r.getResources().contains(resource)
        && r.getVerbs().contains(verb));
  }

  @Test
  void theRenderedControllerConfigIsReadByTheControllersParser() {
    ControllerConfig config = ControllerConfig.parse(rendered(defaults, "capstan-controller-config", "controller.yaml"),
        "controller.yaml", Path.of("/etc/capstan/config"));

    assertThat(config.source()).isInstanceOf(ControllerConfig.Kubernetes.class);
    assertThat(config.namespace()).isEqualTo(Helm.NAMESPACE);
    assertThat(config.leader()).isEqualTo(ControllerConfig.Leader.LEASE);
    assertThat(config.ca().root()).isInstanceOf(ControllerConfig.RootSecret.class);
    assertThat(config.hazelcast().listen()).isEqualTo(new InetSocketAddress("10.1.2.3", 5701));
    assertThat(config.hazelcast().kubernetesService()).contains("capstan-controller-hazelcast");
    assertThat(defaults.one(Service.class, "capstan-controller-hazelcast")).isNotNull();
    assertThat(config.waypoints().deploy()).isTrue();
    assertThat(config.waypoints().image()).isEqualTo("ghcr.io/capstan-mesh/waypoint:0.1.0-SNAPSHOT");
    assertThat(config.waypoints().members()).containsExactly("capstan-controller.capstan-system.svc:5701");
  }

  @Test
  void theRenderedNodeAgentAndRedirectConfigsAreReadByTheirParsersAndAgree() {
    AgentConfig agent = agentConfig(defaults);
    RedirectConfig redirect = RedirectConfig.parse(rendered(defaults, "capstan-node-agent-config", "redirect.yaml"),
        "redirect.yaml", Path.of("/etc/capstan/config"));

    assertThat(agent.node()).isEqualTo("node-7");
    assertThat(redirect.node()).isEqualTo("node-7");
    assertThat(agent.mesh()).isEqualTo(new AgentConfig.Controller("capstan",
        List.of("capstan-controller.capstan-system.svc:5701")));
    assertThat(redirect.mesh()).isEqualTo(new RedirectConfig.Controller("capstan",
        List.of("capstan-controller.capstan-system.svc:5701")));
    assertThat(agent.certs()).isInstanceOfSatisfying(AgentConfig.CertAuthority.class, ca -> {
      assertThat(ca.host()).isEqualTo("capstan-controller.capstan-system.svc");
      assertThat(ca.port()).isEqualTo(CaConfig.DEFAULT_PORT);
      assertThat(ca.identity().toString()).isEqualTo("spiffe://cluster.local/ns/capstan-system/sa/capstan-controller");
    });
    AgentConfig.Capture capture = agent.capture().orElseThrow();
    assertThat((long) capture.mark()).isEqualTo(redirect.capture().agentMark());
    assertThat(capture.outbound().getPort()).isEqualTo(redirect.capture().outboundPort());
    assertThat(capture.inbound().getPort()).isEqualTo(redirect.capture().inboundPort());
    assertThat(capture.hbone().getPort()).isEqualTo(redirect.capture().hbonePort());
    assertThat(agent.ready().getPort()).isEqualTo(15021);
    assertThat(agent.metrics().getPort()).isEqualTo(15020);
  }

  @Test
  void quotaValuesReachTheAgentsConfig() {
    AgentConfig agent = agentConfig(Rendered.parse(Helm.template("nodeAgent.quota.budget=64MiB",
        "nodeAgent.quota.tenantMaxConnections=500")));

    assertThat(agent.quota().budget()).isEqualTo(64L << 20);
    assertThat(agent.quota().tenantMaxConnections()).isEqualTo(500);
  }

  @Test
  void everyConfigMapAPodMountsIsRenderedOrPublishedByTheController() {
    Set<String> rendered = new HashSet<>();
    defaults.all(ConfigMap.class).forEach(c -> rendered.add(c.getMetadata().getName()));
    List<PodSpec> pods = List.of(
        defaults.one(Deployment.class, "capstan-controller").getSpec().getTemplate().getSpec(),
        defaults.one(DaemonSet.class, "capstan-node-agent").getSpec().getTemplate().getSpec());

    for (PodSpec pod : pods) {
      Set<String> volumes = new HashSet<>();
      for (Volume v : pod.getVolumes()) {
        volumes.add(v.getName());
        if (v.getConfigMap() != null) {
          assertThat(v.getConfigMap().getName()).isIn(union(rendered, Set.of("capstan-ca-root")));
        }
      }
      Stream.concat(pod.getContainers().stream(), pod.getInitContainers().stream())
          .flatMap(c -> c.getVolumeMounts().stream())
          .forEach(m -> assertThat(volumes).as("volume of mount " + m.getMountPath()).contains(m.getName()));
    }
  }

  @Test
  void scrapeAnnotationsAndPodMonitorsFollowTheValues() {
    Rendered off = Rendered.parse(Helm.template("metrics.scrapeAnnotations=false"));
    Rendered monitors = Rendered.parse(Helm.template("metrics.podMonitor.enabled=true",
        "metrics.podMonitor.labels.release=prometheus"));

    assertThat(defaults.all(PodMonitor.class)).isEmpty();
    assertThat(defaults.one(DaemonSet.class, "capstan-node-agent").getSpec().getTemplate().getMetadata().getAnnotations())
        .containsEntry("prometheus.io/scrape", "true").containsEntry("prometheus.io/port", "15020");
    assertThat(off.one(Deployment.class, "capstan-controller").getSpec().getTemplate().getMetadata().getAnnotations())
        .doesNotContainKey("prometheus.io/scrape");
    assertThat(monitors.all(PodMonitor.class)).extracting(m -> m.getMetadata().getName())
        .containsExactlyInAnyOrder("capstan-controller", "capstan-node-agent", "capstan-waypoints");
    assertThat(monitors.all(PodMonitor.class)).allSatisfy(m ->
        assertThat(m.getMetadata().getLabels()).containsEntry("release", "prometheus"));
    assertThat(monitors.one(PodMonitor.class, "capstan-waypoints").getSpec().getNamespaceSelector().getAny()).isTrue();
  }

  @Test
  void theDashboardIsJsonAndChartsOnlyMetricsTheCodeExports() throws IOException {
    String json = defaults.one(ConfigMap.class, "capstan-grafana-dashboard").getData().get("capstan.json");
    JsonNode dashboard = new ObjectMapper().readTree(json);
    Set<String> exported = metricNamesInSources();
    Set<String> used = new HashSet<>();
    Matcher m = Pattern.compile("\\b((?:capstan|istio)_[a-z0-9_]+)").matcher(json);
    while (m.find()) {
      used.add(m.group(1));
    }

    assertThat(dashboard.path("panels").size()).isGreaterThan(10);
    assertThat(used).isNotEmpty();
    for (String series : used) {
      assertThat(baseNames(series)).as(series + " is not a metric any component registers").containsAnyElementsOf(exported);
    }
    assertThat(used).anyMatch(s -> s.startsWith("istio_requests_total"))
        .anyMatch(s -> s.startsWith("istio_tcp_"))
        .anyMatch(s -> s.startsWith("capstan_tenant_"));
  }

  /** A Prometheus series name and the Micrometer names it may come from (suffixes, base units included, removed one by one). */
  private static Set<String> baseNames(String series) {
    Set<String> out = new HashSet<>();
    String name = series;
    out.add(name);
    for (String suffix : List.of("_bucket", "_count", "_sum", "_max", "_total", "_seconds", "_milliseconds")) {
      if (name.endsWith(suffix)) {
        name = name.substring(0, name.length() - suffix.length());
        out.add(name);
      }
    }
    return out;
  }

  /** String literals that look like metric names in the main sources of the components. */
  private static Set<String> metricNamesInSources() throws IOException {
    Set<String> names = new HashSet<>();
    Pattern literal = Pattern.compile("\"((?:capstan|istio)_[a-z0-9_]+)\"");
    for (String module : List.of("node-agent", "waypoint", "controller", "core")) {
      try (Stream<Path> files = Files.walk(Helm.REPO.resolve(module).resolve("src/main/java"))) {
        for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
          Matcher m = literal.matcher(Files.readString(f));
          while (m.find()) {
            names.add(m.group(1));
          }
        }
      }
    }
    return names;
  }

  private static AgentConfig agentConfig(Rendered r) {
    return AgentConfig.parse(rendered(r, "capstan-node-agent-config", "agent.yaml"), "agent.yaml",
        Path.of("/etc/capstan/config"));
  }

  /** A config file as the render-config init container writes it, on node-7 with pod IP 10.1.2.3. */
  private static String rendered(Rendered r, String configMap, String key) {
    String template = r.one(ConfigMap.class, configMap).getData().get(key);
    assertThat(template).as(configMap + " " + key).isNotNull();
    return template.replace("@NODE_NAME@", "node-7").replace("@POD_IP@", "10.1.2.3");
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> out = new HashSet<>(a);
    out.addAll(b);
    return out;
  }
}
