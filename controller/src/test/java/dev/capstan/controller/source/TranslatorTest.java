package dev.capstan.controller.source;

import static dev.capstan.controller.source.Fixtures.endpoint;
import static dev.capstan.controller.source.Fixtures.namespace;
import static dev.capstan.controller.source.Fixtures.pod;
import static dev.capstan.controller.source.Fixtures.policy;
import static dev.capstan.controller.source.Fixtures.route;
import static dev.capstan.controller.source.Fixtures.rule;
import static dev.capstan.controller.source.Fixtures.service;
import static dev.capstan.controller.source.Fixtures.slice;
import static dev.capstan.controller.source.Fixtures.spec;
import static dev.capstan.controller.source.Fixtures.waypoint;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Named.named;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.capstan.controller.source.crd.AuthorizationPolicyResource;
import dev.capstan.controller.source.crd.AuthorizationPolicySpec;
import dev.capstan.controller.source.crd.WaypointResource;
import dev.capstan.controller.source.crd.WaypointSpec;
import dev.capstan.core.gateway.Routes;
import dev.capstan.core.model.HttpRoute;
import dev.capstan.core.model.RouteManifest;
import dev.capstan.core.model.Waypoint;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.PolicyAction;
import dev.capstan.core.model.PolicyRule;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.ServicePort;
import dev.capstan.core.model.Workload;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TranslatorTest {

  private static final List<Namespace> NAMESPACES = List.of(
      namespace("shop", true), namespace("plain", false),
      new io.fabric8.kubernetes.api.model.NamespaceBuilder(namespace("off", false))
          .editMetadata().addToLabels(Translator.MESH_LABEL, Translator.MESH_DISABLED).endMetadata().build());

  private static PodBuilder shopPod(String name, String app, String ip) {
    return pod("shop", name, app, ip, "node-1");
  }

  private static MeshSnapshot translate(List<Pod> pods, List<io.fabric8.kubernetes.api.model.Service> services,
      List<EndpointSlice> slices, List<AuthorizationPolicyResource> policies) {
    return Translator.translate(new Resources(NAMESPACES, pods, services, slices, policies));
  }

  // ---- which pods are workloads ----

  static Stream<Arguments> pods() {
    return Stream.of(
        arguments(named("running pod in an enrolled namespace is a workload",
            shopPod("a", "web", "10.0.0.1").build()), null),
        arguments(named("namespace without the mesh label is not enrolled",
            pod("plain", "a", "web", "10.0.0.1", "node-1").build()), "namespace not enrolled"),
        arguments(named("namespace labelled capstan.dev/mesh=disabled is not enrolled",
            pod("off", "a", "web", "10.0.0.1", "node-1").build()), "namespace not enrolled"),
        arguments(named("pod label capstan.dev/mesh=enabled does not enroll a pod of an unenrolled namespace",
            pod("plain", "a", "web", "10.0.0.1", "node-1").editMetadata()
                .addToLabels(Translator.MESH_LABEL, Translator.MESH_ENABLED).endMetadata().build()),
            "namespace not enrolled"),
        arguments(named("pod label capstan.dev/mesh=disabled opts the pod out",
            shopPod("a", "web", "10.0.0.1").editMetadata()
                .addToLabels(Translator.MESH_LABEL, Translator.MESH_DISABLED).endMetadata().build()),
            "opted out"),
        arguments(named("hostNetwork pod is not a workload",
            shopPod("a", "web", "10.0.0.1").editSpec().withHostNetwork(true).endSpec().build()), "host network"),
        arguments(named("pending pod with an IP is a workload",
            shopPod("a", "web", "10.0.0.1").editStatus().withPhase("Pending").endStatus().build()), null),
        arguments(named("pending pod without an IP is not",
            shopPod("a", "web", "10.0.0.1").editStatus().withPhase("Pending").withPodIP(null)
                .withPodIPs(List.of()).endStatus().build()), "no IP"),
        arguments(named("succeeded pod is not a workload",
            shopPod("a", "web", "10.0.0.1").editStatus().withPhase("Succeeded").endStatus().build()),
            "phase Succeeded"),
        arguments(named("failed pod is not a workload",
            shopPod("a", "web", "10.0.0.1").editStatus().withPhase("Failed").endStatus().build()), "phase Failed"),
        arguments(named("pod in phase Unknown is not a workload",
            shopPod("a", "web", "10.0.0.1").editStatus().withPhase("Unknown").endStatus().build()), "phase Unknown"),
        arguments(named("unscheduled pod (no nodeName) is not a workload",
            shopPod("a", "web", "10.0.0.1").editSpec().withNodeName(null).endSpec().build()), "not scheduled"),
        arguments(named("terminating running pod (deletionTimestamp) stays a workload",
            shopPod("a", "web", "10.0.0.1").editMetadata().withDeletionTimestamp("2026-11-22T10:00:00Z")
                .endMetadata().build()), null),
        arguments(named("pod with only status.podIP (no podIPs) is a workload",
            shopPod("a", "web", "10.0.0.1").editStatus().withPodIPs(List.of()).endStatus().build()), null),
        arguments(named("pod whose IP is not a literal IP has no IP",
            shopPod("a", "web", "not-an-ip").build()), "no IP"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pods")
  void pod_is_a_workload_only_when_enrolled_scheduled_running_and_addressed(Pod pod, String exclusion) {
    MeshSnapshot snapshot = translate(List.of(pod), List.of(), List.of(), List.of());

    assertThat(Translator.exclusion(pod, Translator.enrolledNamespaces(NAMESPACES)).orElse(null)).isEqualTo(exclusion);
    assertThat(snapshot.workloads()).hasSize(exclusion == null ? 1 : 0);
  }

  @Test
  void workload_carries_uid_name_namespace_service_account_ips_node_and_labels() {
    Pod dualStack = pod("shop", "web-1", "web", "10.0.0.1", "node-2")
        .editStatus().addNewPodIP().withIp("fd00::1").endPodIP().endStatus().build();
    Pod noAccount = shopPod("web-2", "web", "10.0.0.2").editSpec().withServiceAccountName(null).endSpec().build();

    MeshSnapshot snapshot = translate(List.of(noAccount, dualStack), List.of(), List.of(), List.of());

    assertThat(snapshot.workloads()).containsExactly(
        new Workload("uid-web-1", "web-1", "shop", "web", List.of("10.0.0.1", "fd00::1"), "node-2",
            Map.of("app", "web"), null),
        new Workload("uid-web-2", "web-2", "shop", "default", List.of("10.0.0.2"), "node-1",
            Map.of("app", "web"), null));
  }

  static Stream<Arguments> ipConflicts() {
    PodBuilder older = shopPod("older", "web", "10.0.0.1").editMetadata()
        .withCreationTimestamp("2026-01-01T00:00:00Z").endMetadata();
    PodBuilder newer = shopPod("newer", "web", "10.0.0.1").editMetadata()
        .withCreationTimestamp("2026-02-01T00:00:00Z").endMetadata();
    return Stream.of(
        arguments(named("the newer pod keeps an IP two pods claim", List.of(older.build(), newer.build())),
            Map.of("newer", List.of("10.0.0.1"))),
        arguments(named("a terminating pod yields the IP even when newer", List.of(older.build(),
            new PodBuilder(newer.build()).editMetadata().withDeletionTimestamp("2026-03-01T00:00:00Z").endMetadata().build())),
            Map.of("older", List.of("10.0.0.1"))),
        arguments(named("a dual-stack pod loses only the contested IP", List.of(
            new PodBuilder(older.build()).editStatus().addNewPodIP().withIp("fd00::1").endPodIP().endStatus().build(),
            newer.build())),
            Map.of("older", List.of("fd00::1"), "newer", List.of("10.0.0.1"))),
        arguments(named("IPv6 spellings of one address are one IP", List.of(
            shopPod("a", "web", "fd00:0:0:0:0:0:0:1").editMetadata().withCreationTimestamp("2026-01-01T00:00:00Z")
                .endMetadata().build(),
            shopPod("b", "web", "fd00::1").editMetadata().withCreationTimestamp("2026-02-01T00:00:00Z")
                .endMetadata().build())),
            Map.of("b", List.of("fd00::1"))));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("ipConflicts")
  void every_ip_belongs_to_one_workload(List<Pod> pods, Map<String, List<String>> ipsByWorkload) {
    MeshSnapshot snapshot = translate(pods, List.of(), List.of(), List.of());

    assertThat(snapshot.workloads().stream().collect(java.util.stream.Collectors.toMap(Workload::name, Workload::ips)))
        .isEqualTo(ipsByWorkload);
  }

  // ---- services: VIPs, ports, endpoints from slices or selectors ----

  private static final Pod WEB_1 = shopPod("web-1", "web", "10.0.0.1").build();
  private static final Pod WEB_2 = shopPod("web-2", "web", "10.0.0.2").build();
  private static final Pod WEB_OPTED_OUT = shopPod("web-3", "web", "10.0.0.3").editMetadata()
      .addToLabels(Translator.MESH_LABEL, Translator.MESH_DISABLED).endMetadata().build();
  private static final Pod WEB_TERMINATING = shopPod("web-4", "web", "10.0.0.4").editMetadata()
      .withDeletionTimestamp("2026-11-22T10:00:00Z").endMetadata().build();
  private static final Pod WEB_NAMED_PORT = shopPod("web-5", "web", "10.0.0.5").editSpec().editFirstContainer()
      .withPorts(new ContainerPortBuilder().withName("web").withContainerPort(8081).build()).endContainer().endSpec().build();
  private static final io.fabric8.kubernetes.api.model.Service WEB = service("shop", "web", "web", "10.96.0.10", 80, 8080).build();

  private static Service expected(List<String> vips, List<ServicePort> ports, Endpoint... endpoints) {
    return new Service("shop", "web", vips, ports, List.of(endpoints));
  }

  private static final List<ServicePort> HTTP_80_8080 = List.of(new ServicePort("http", 80, 8080));

  static Stream<Arguments> services() {
    return Stream.of(
        arguments(named("without EndpointSlices, endpoints come from the selector over the namespace's workloads",
            new ServiceCase(List.of(WEB_1, WEB_2, WEB_OPTED_OUT), WEB, List.of())),
            expected(List.of("10.96.0.10"), HTTP_80_8080, new Endpoint("uid-web-1", true), new Endpoint("uid-web-2", true))),
        arguments(named("a selected pod that is terminating is an unhealthy endpoint",
            new ServiceCase(List.of(WEB_1, WEB_TERMINATING), WEB, List.of())),
            expected(List.of("10.96.0.10"), HTTP_80_8080, new Endpoint("uid-web-1", true), new Endpoint("uid-web-4", false))),
        arguments(named("EndpointSlices win over the selector",
            new ServiceCase(List.of(WEB_1, WEB_2), WEB, List.of(slice("shop", "web-abc", "web", 8080,
                endpoint("web-2", "10.0.0.2", true))))),
            expected(List.of("10.96.0.10"), HTTP_80_8080, new Endpoint("uid-web-2", true))),
        arguments(named("an empty EndpointSlice means no endpoints, not the selector's",
            new ServiceCase(List.of(WEB_1), WEB, List.of(slice("shop", "web-abc", "web", 8080)))),
            expected(List.of("10.96.0.10"), HTTP_80_8080)),
        arguments(named("ready=false is unhealthy, ready absent is healthy",
            new ServiceCase(List.of(WEB_1, WEB_2), WEB, List.of(slice("shop", "web-abc", "web", 8080,
                endpoint("web-1", "10.0.0.1", false), endpoint("web-2", "10.0.0.2", null))))),
            expected(List.of("10.96.0.10"), HTTP_80_8080, new Endpoint("uid-web-1", false), new Endpoint("uid-web-2", true))),
        arguments(named("slice endpoints of pods that are not workloads are dropped",
            new ServiceCase(List.of(WEB_1, WEB_OPTED_OUT), WEB, List.of(slice("shop", "web-abc", "web", 8080,
                endpoint("web-1", "10.0.0.1", true), endpoint("web-3", "10.0.0.3", true),
                endpoint("gone", "10.0.0.9", true))))),
            expected(List.of("10.96.0.10"), HTTP_80_8080, new Endpoint("uid-web-1", true))),
        arguments(named("a slice endpoint naming an older uid of the pod is dropped",
            new ServiceCase(List.of(WEB_1), WEB, List.of(slice("shop", "web-abc", "web", 8080,
                new io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder(endpoint("web-1", "10.0.0.1", true))
                    .editTargetRef().withUid("uid-old").endTargetRef().build())))),
            expected(List.of("10.96.0.10"), HTTP_80_8080)),
        arguments(named("a slice endpoint without a Pod targetRef is dropped",
            new ServiceCase(List.of(WEB_1), WEB, List.of(slice("shop", "web-abc", "web", 8080,
                new io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder().withAddresses("192.0.2.1").build())))),
            expected(List.of("10.96.0.10"), HTTP_80_8080)),
        arguments(named("a pod in two slices (dual stack) is one endpoint, healthy if any slice says ready",
            new ServiceCase(List.of(WEB_1), WEB, List.of(
                slice("shop", "web-v4", "web", 8080, endpoint("web-1", "10.0.0.1", true)),
                new EndpointSliceBuilder(slice("shop", "web-v6", "web", 8080, endpoint("web-1", "fd00::1", false)))
                    .withAddressType("IPv6").build()))),
            expected(List.of("10.96.0.10"), HTTP_80_8080, new Endpoint("uid-web-1", true))),
        arguments(named("slices of another service are ignored",
            new ServiceCase(List.of(WEB_1), WEB, List.of(slice("shop", "api-abc", "api", 8080,
                endpoint("web-1", "10.0.0.1", false))))),
            expected(List.of("10.96.0.10"), HTTP_80_8080, new Endpoint("uid-web-1", true))),
        arguments(named("headless service has no VIPs",
            new ServiceCase(List.of(WEB_1), Fixtures.headless(WEB), List.of())),
            expected(List.of(), HTTP_80_8080, new Endpoint("uid-web-1", true))),
        arguments(named("dual-stack service has both cluster IPs as VIPs",
            new ServiceCase(List.of(), new ServiceBuilder(WEB).editSpec().withClusterIPs("10.96.0.10", "fd00:96::10")
                .endSpec().build(), List.of())),
            expected(List.of("10.96.0.10", "fd00:96::10"), HTTP_80_8080)),
        arguments(named("absent targetPort means the service port",
            new ServiceCase(List.of(), service("shop", "web", "web", "10.96.0.10", 80, null).build(), List.of())),
            expected(List.of("10.96.0.10"), List.of(new ServicePort("http", 80, 80)))),
        arguments(named("named targetPort resolves through the EndpointSlice port of the service port's name",
            new ServiceCase(List.of(WEB_1), service("shop", "web", "web", "10.96.0.10", 80, "web").build(),
                List.of(slice("shop", "web-abc", "web", 8082, endpoint("web-1", "10.0.0.1", true))))),
            expected(List.of("10.96.0.10"), List.of(new ServicePort("http", 80, 8082)), new Endpoint("uid-web-1", true))),
        arguments(named("named targetPort without slices resolves through the selected pods' container ports",
            new ServiceCase(List.of(WEB_NAMED_PORT), service("shop", "web", "web", "10.96.0.10", 80, "web").build(), List.of())),
            expected(List.of("10.96.0.10"), List.of(new ServicePort("http", 80, 8081)), new Endpoint("uid-web-5", true))),
        arguments(named("a named targetPort nothing resolves is left out",
            new ServiceCase(List.of(WEB_1), service("shop", "web", "web", "10.96.0.10", 80, "web").build(), List.of())),
            expected(List.of("10.96.0.10"), List.of(), new Endpoint("uid-web-1", true))),
        arguments(named("UDP ports are left out, ports sorted",
            new ServiceCase(List.of(), new ServiceBuilder(WEB).editSpec().addToPorts(
                new ServicePortBuilder().withName("dns").withPort(53).withProtocol("UDP").build(),
                new ServicePortBuilder().withName("admin").withPort(9).withTargetPort(new IntOrString(9000)).build())
                .endSpec().build(), List.of())),
            expected(List.of("10.96.0.10"), List.of(new ServicePort("admin", 9, 9000), new ServicePort("http", 80, 8080)))),
        arguments(named("ExternalName service is not in the mesh",
            new ServiceCase(List.of(), new ServiceBuilder(WEB).editSpec().withType("ExternalName").withClusterIP(null)
                .withExternalName("example.com").endSpec().build(), List.of())), null),
        arguments(named("service of an unenrolled namespace is not in the mesh",
            new ServiceCase(List.of(), service("plain", "web", "web", "10.96.0.10", 80, 8080).build(), List.of())), null),
        arguments(named("service without selector and without slices has no endpoints",
            new ServiceCase(List.of(WEB_1), new ServiceBuilder(WEB).editSpec().withSelector(Map.of()).endSpec().build(),
                List.of())),
            expected(List.of("10.96.0.10"), HTTP_80_8080)));
  }

  record ServiceCase(List<Pod> pods, io.fabric8.kubernetes.api.model.Service service, List<EndpointSlice> slices) {}

  @ParameterizedTest(name = "{0}")
  @MethodSource("services")
  void service_vips_ports_and_endpoints(ServiceCase c, Service expected) {
    MeshSnapshot snapshot = translate(c.pods(), List.of(c.service()), c.slices(), List.of());

    if (expected == null) {
      assertThat(snapshot.services()).isEmpty();
    } else {
      assertThat(snapshot.services()).containsExactly(expected);
    }
  }

  // ---- policies ----

  private static final String FRONTEND = "spiffe://cluster.local/ns/shop/sa/frontend";

  static Stream<Arguments> policies() {
    return Stream.of(
        arguments(named("ALLOW policy maps selector and rules",
            policy("shop", "p", spec(Map.of("app", "web"), "ALLOW",
                rule(List.of(FRONTEND), List.of("shop"), List.of(8080))))),
            new AuthorizationPolicy("shop", "p", Map.of("app", "web"), PolicyAction.ALLOW,
                List.of(new PolicyRule(List.of(FRONTEND), List.of("shop"), List.of(8080))))),
        arguments(named("absent action means ALLOW, absent selector selects the namespace",
            policy("shop", "p", spec(null, null, rule(null, List.of("shop"), null)))),
            new AuthorizationPolicy("shop", "p", Map.of(), PolicyAction.ALLOW,
                List.of(new PolicyRule(List.of(), List.of("shop"), List.of())))),
        arguments(named("DENY policy",
            policy("shop", "p", spec(Map.of(), "DENY", rule(List.of("*"), null, List.of(22))))),
            new AuthorizationPolicy("shop", "p", Map.of(), PolicyAction.DENY,
                List.of(new PolicyRule(List.of("*"), List.of(), List.of(22))))),
        arguments(named("empty spec is ALLOW with no rules: the deny-all idiom",
            policy("shop", "p", new AuthorizationPolicySpec(null, null, null))),
            new AuthorizationPolicy("shop", "p", Map.of(), PolicyAction.ALLOW, List.of())),
        arguments(named("missing spec is treated as an empty spec",
            policy("shop", "p", null)),
            new AuthorizationPolicy("shop", "p", Map.of(), PolicyAction.ALLOW, List.of())),
        arguments(named("unknown action fails closed: deny everything selected",
            policy("shop", "p", spec(Map.of("app", "web"), "AUDIT", rule(List.of(FRONTEND), null, null)))),
            new AuthorizationPolicy("shop", "p", Map.of("app", "web"), PolicyAction.DENY,
                List.of(new PolicyRule(List.of(), List.of(), List.of())))),
        arguments(named("ALLOW rule with an invalid value is dropped (allows nothing)",
            policy("shop", "p", spec(null, "ALLOW", rule(null, null, List.of(8080, 70000)),
                rule(List.of("frontend"), null, null), rule(null, null, List.of(9090))))),
            new AuthorizationPolicy("shop", "p", Map.of(), PolicyAction.ALLOW,
                List.of(new PolicyRule(List.of(), List.of(), List.of(9090))))),
        arguments(named("DENY rule loses its invalid values (denies more)",
            policy("shop", "p", spec(null, "DENY", rule(List.of("frontend"), null, List.of(0))))),
            new AuthorizationPolicy("shop", "p", Map.of(), PolicyAction.DENY,
                List.of(new PolicyRule(List.of(), List.of(), List.of())))),
        arguments(named("policy of an unenrolled namespace is not in the mesh",
            policy("plain", "p", spec(null, "DENY"))), null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("policies")
  void policy_resource_becomes_model_policy(AuthorizationPolicyResource resource, AuthorizationPolicy expected) {
    MeshSnapshot snapshot = translate(List.of(), List.of(), List.of(), List.of(resource));

    if (expected == null) {
      assertThat(snapshot.policies()).isEmpty();
    } else {
      assertThat(snapshot.policies()).containsExactly(expected);
    }
  }

  // ---- determinism ----

  @Test
  void input_order_changes_neither_the_snapshot_nor_its_version() {
    List<Pod> pods = new ArrayList<>(List.of(WEB_1, WEB_2, WEB_NAMED_PORT, shopPod("api-1", "api", "10.0.0.9").build()));
    List<io.fabric8.kubernetes.api.model.Service> services = new ArrayList<>(List.of(WEB,
        service("shop", "api", "api", "10.96.0.11", 80, 8080).build()));
    List<AuthorizationPolicyResource> policies = new ArrayList<>(List.of(
        policy("shop", "b", spec(null, "DENY")), policy("shop", "a", spec(Map.of("x", "1", "y", "2"), "ALLOW"))));
    MeshSnapshot first = translate(pods, services, List.of(), policies);

    Random random = new Random(7);
    for (int i = 0; i < 5; i++) {
      Collections.shuffle(pods, random);
      Collections.shuffle(services, random);
      Collections.shuffle(policies, random);
      assertThat(translate(pods, services, List.of(), policies)).isEqualTo(first);
    }
    assertThat(first.version()).matches("[0-9a-f]{12}");
    assertThat(first.workloads()).extracting(Workload::name).containsExactly("api-1", "web-1", "web-2", "web-5");
    assertThat(first.services()).extracting(Service::name).containsExactly("api", "web");
    assertThat(first.policies()).extracting(AuthorizationPolicy::name).containsExactly("a", "b");
  }

  @Test
  void any_content_change_changes_the_version() {
    MeshSnapshot base = translate(List.of(WEB_1), List.of(WEB), List.of(), List.of());
    Pod relabelled = new PodBuilder(WEB_1).editMetadata().addToLabels("version", "v2").endMetadata().build();
    Pod moved = new PodBuilder(WEB_1).editSpec().withNodeName("node-9").endSpec().build();

    Set<String> versions = Set.of(
        base.version(),
        translate(List.of(relabelled), List.of(WEB), List.of(), List.of()).version(),
        translate(List.of(moved), List.of(WEB), List.of(), List.of()).version(),
        translate(List.of(WEB_1), List.of(), List.of(), List.of()).version(),
        translate(List.of(), List.of(), List.of(), List.of()).version());
    assertThat(versions).hasSize(5);
    assertThat(translate(List.of(WEB_1), List.of(WEB), List.of(), List.of()).version()).isEqualTo(base.version());
  }

  @Test
  void buffer_weight_annotation_of_enrolled_namespaces_becomes_the_weight_and_bad_values_are_ignored() {
    Namespace gold = namespace("gold", true);
    gold.getMetadata().setAnnotations(Map.of("capstan.dev/buffer-weight", "3"));
    Namespace bad = namespace("bad", true);
    bad.getMetadata().setAnnotations(Map.of("capstan.dev/buffer-weight", "lots"));
    Namespace tooBig = namespace("toobig", true);
    tooBig.getMetadata().setAnnotations(Map.of("capstan.dev/buffer-weight", "1000"));
    Namespace one = namespace("one", true);
    one.getMetadata().setAnnotations(Map.of("capstan.dev/buffer-weight", "1"));
    Namespace notEnrolled = namespace("outside", false);
    notEnrolled.getMetadata().setAnnotations(Map.of("capstan.dev/buffer-weight", "5"));

    Map<String, Integer> weights = Translator.bufferWeights(List.of(gold, bad, tooBig, one, notEnrolled),
        Translator.enrolledNamespaces(List.of(gold, bad, tooBig, one, notEnrolled)));

    assertThat(weights).isEqualTo(Map.of("gold", 3));
  }

  @Test
  void a_changed_buffer_weight_changes_the_version() {
    Namespace gold = namespace("gold", true);
    Resources before = new Resources(List.of(gold), List.of(), List.of(), List.of(), List.of());
    String v1 = Translator.translate(before).version();
    gold.getMetadata().setAnnotations(Map.of("capstan.dev/buffer-weight", "2"));
    MeshSnapshot after = Translator.translate(before);

    assertThat(after.bufferWeights()).containsEntry("gold", 2);
    assertThat(after.version()).isNotEqualTo(v1);
  }

  // ---- waypoints ----

  static Stream<Arguments> waypoints() {
    return Stream.of(
        arguments(named("a namespace label sends every service of the namespace to its waypoint", "waypoint"),
            null, "web", "mall/waypoint"),
        arguments(named("a service label names the service's own waypoint", null), "reviews-wp", "web", "mall/reviews-wp"),
        arguments(named("a service label wins over its namespace's", "waypoint"), "reviews-wp", "web", "mall/reviews-wp"),
        arguments(named("none on a service opts it out of its namespace's waypoint", "waypoint"), "none", "web", null),
        arguments(named("the waypoint's own service is not sent to itself", "waypoint"), null, "waypoint", null),
        arguments(named("another waypoint's service is not sent to a waypoint", "waypoint"), null, "reviews-wp", null),
        arguments(named("a value that is not a DNS label is ignored", null), "Bad_Name!", "web", null),
        arguments(named("a label naming no declared Waypoint gives no waypoint", null), "ghost", "web", null),
        arguments(named("a service label naming a missing Waypoint does not fall back to the namespace's", "waypoint"),
            "ghost", "web", null),
        arguments(named("a Waypoint for workload traffic only is not used by services", null), "pods-only", "web", null),
        arguments(named("a Waypoint for no traffic is not used", null), "off-wp", "web", null),
        arguments(named("a Waypoint for all traffic is used by services", null), "all-wp", "web", "mall/all-wp"),
        arguments(named("a Waypoint whose Service does not exist yet is not used", null), "no-svc", "web", null),
        arguments(named("without labels there is no waypoint", null), null, "web", null));
  }

  /** Namespace mall: Waypoints (and their Services, but no-svc's) of every traffic type. */
  private static List<WaypointResource> mallWaypoints() {
    return List.of(
        waypoint("mall", "waypoint", null),
        waypoint("mall", "reviews-wp", new WaypointSpec(2, null, "service", null)),
        waypoint("mall", "pods-only", new WaypointSpec(null, null, "workload", null)),
        waypoint("mall", "off-wp", new WaypointSpec(null, null, "none", null)),
        waypoint("mall", "all-wp", new WaypointSpec(null, null, "all", null)),
        waypoint("mall", "no-svc", null));
  }

  @ParameterizedTest
  @MethodSource("waypoints")
  void services_get_the_waypoint_their_labels_name(String namespaceLabel, String serviceLabel, String serviceName,
      String expected) {
    var ns = new io.fabric8.kubernetes.api.model.NamespaceBuilder(namespace("mall", true));
    if (namespaceLabel != null) {
      ns.editMetadata().addToLabels(Translator.USE_WAYPOINT_LABEL, namespaceLabel).endMetadata();
    }
    var svc = service("mall", serviceName, "web", "10.96.0.20", 80, 8080);
    if (serviceLabel != null) {
      svc.editMetadata().addToLabels(Translator.USE_WAYPOINT_LABEL, serviceLabel).endMetadata();
    }
    List<io.fabric8.kubernetes.api.model.Service> services = new ArrayList<>(List.of(svc.build()));
    int vip = 30;
    for (String waypoint : List.of("waypoint", "reviews-wp", "pods-only", "off-wp", "all-wp")) {
      if (!waypoint.equals(serviceName)) {
        services.add(service("mall", waypoint, waypoint, "10.96.0." + vip++, 15008, 15008).build());
      }
    }
    MeshSnapshot snapshot = Translator.translate(new Resources(
        List.of(ns.build()), List.of(pod("mall", "web-1", "web", "10.0.1.1", "node-1").build()), services,
        List.of(), List.of(), List.of(), mallWaypoints(), List.of()));

    assertThat(snapshot.services()).filteredOn(s -> s.name().equals(serviceName))
        .singleElement().satisfies(s -> assertThat(s.waypoint()).isEqualTo(expected));
  }

  @Test
  void waypoints_of_enrolled_namespaces_are_published_with_their_defaults() {
    WaypointResource sized = waypoint("shop", "big", new WaypointSpec(3,
        new WaypointSpec.Resources(Map.of("cpu", "500m", "memory", "256Mi"), Map.of("memory", "512Mi")), "all", "l7"));
    MeshSnapshot snapshot = Translator.translate(new Resources(NAMESPACES, List.of(), List.of(), List.of(), List.of(),
        List.of(), List.of(waypoint("shop", "waypoint", null), sized, waypoint("plain", "waypoint", null),
            waypoint("shop", "odd", new WaypointSpec(null, null, "sidecars", null))), List.of()));

    assertThat(snapshot.waypoints()).as("enrolled only, sorted; an unknown traffic type is left out").containsExactly(
        new Waypoint("shop", "big", "l7", 3, new Waypoint.Compute(Map.of("cpu", "500m", "memory", "256Mi"),
            Map.of("memory", "512Mi")), Waypoint.TrafficType.ALL),
        new Waypoint("shop", "waypoint", "waypoint", 1, Waypoint.Compute.NONE, Waypoint.TrafficType.SERVICE));
  }

  // ---- routes ----

  private static final String HTTP_SPEC = """
      parentRefs: [{group: "", kind: Service, name: web, port: 80}]
      rules: [{backendRefs: [{name: web-v2, port: 80}]}]
      """;

  private static List<RouteManifest> routes(GenericKubernetesResource... routes) {
    return Translator.translate(new Resources(NAMESPACES, List.of(), List.of(), List.of(), List.of(), List.of(), List.of(),
        List.of(routes))).routes();
  }

  @Test
  void http_and_grpc_routes_become_canonical_manifests_the_waypoint_reads_back() {
    List<RouteManifest> routes = routes(
        route("HTTPRoute", "shop", "web", HTTP_SPEC),
        route("GRPCRoute", "shop", "users", """
            parentRefs: [{group: "", kind: Service, name: users}]
            rules: [{matches: [{method: {service: shop.Users, method: Get}}], backendRefs: [{name: users-v2, port: 9090}]}]
            """));

    assertThat(routes).extracting(RouteManifest::key).containsExactly("GRPCRoute/shop/users", "HTTPRoute/shop/web");
    assertThat(Routes.parse(routes.get(0)).rules().get(0).matches().get(0).path())
        .contains(new HttpRoute.PathMatch(HttpRoute.PathType.EXACT, "/shop.Users/Get"));
    assertThat(Routes.parse(routes.get(1)).rules().get(0).backends()).containsExactly(new HttpRoute.Backend("shop/web-v2", 80, 1));
    assertThat(routes.get(1).manifest()).as("canonical: sorted keys, no status")
        .startsWith("{\"apiVersion\":\"gateway.networking.k8s.io/v1\",\"kind\":\"HTTPRoute\",\"metadata\":");
  }

  @Test
  void a_route_the_waypoint_cannot_act_on_is_left_out_and_the_others_go_on() {
    List<RouteManifest> routes = routes(
        route("HTTPRoute", "shop", "extension", """
            parentRefs: [{group: "", kind: Service, name: web}]
            rules: [{filters: [{type: ExtensionRef, extensionRef: {group: x, kind: Y, name: z}}]}]
            """),
        route("HTTPRoute", "shop", "consumer", """
            parentRefs: [{group: "", kind: Service, name: web, namespace: other}]
            rules: [{backendRefs: [{name: web, namespace: other, port: 80}]}]
            """),
        route("HTTPRoute", "shop", "gateway-only", """
            parentRefs: [{name: public-gateway}]
            rules: [{backendRefs: [{name: web, port: 80}]}]
            """),
        route("HTTPRoute", "plain", "web", HTTP_SPEC),
        route("HTTPRoute", "shop", "web", HTTP_SPEC));

    assertThat(routes).as("unsupported filter, consumer route, Gateway route, unenrolled namespace: left out")
        .extracting(RouteManifest::key).containsExactly("HTTPRoute/shop/web");
  }

  @Test
  void a_route_status_update_does_not_change_the_mesh_version() {
    GenericKubernetesResource route = route("HTTPRoute", "shop", "web", HTTP_SPEC);
    MeshSnapshot before = Translator.translate(new Resources(NAMESPACES, List.of(), List.of(), List.of(), List.of(),
        List.of(), List.of(), List.of(route)));
    GenericKubernetesResource updated = route("HTTPRoute", "shop", "web", HTTP_SPEC);
    updated.getMetadata().setResourceVersion("42");
    updated.getMetadata().setGeneration(2L);
    updated.setAdditionalProperty("status", Map.of("parents", List.of(Map.of("controllerName", "capstan.dev/waypoint"))));
    MeshSnapshot after = Translator.translate(new Resources(NAMESPACES, List.of(), List.of(), List.of(), List.of(),
        List.of(), List.of(), List.of(updated)));
    GenericKubernetesResource changed = route("HTTPRoute", "shop", "web", HTTP_SPEC.replace("web-v2", "web-v3"));
    MeshSnapshot edited = Translator.translate(new Resources(NAMESPACES, List.of(), List.of(), List.of(), List.of(),
        List.of(), List.of(), List.of(changed)));

    assertThat(after.version()).isEqualTo(before.version());
    assertThat(edited.version()).as("a spec change is a new version").isNotEqualTo(before.version());
  }
}
