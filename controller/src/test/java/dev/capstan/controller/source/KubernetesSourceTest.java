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
import static dev.capstan.controller.source.ManifestSourceTest.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.controller.source.crd.AuthorizationPolicyResource;
import dev.capstan.controller.source.crd.WaypointResource;
import dev.capstan.controller.source.crd.WaypointSpec;
import dev.capstan.core.model.RouteManifest;
import dev.capstan.core.model.Waypoint;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.Endpoint;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.PolicyAction;
import dev.capstan.core.model.PolicyRule;
import dev.capstan.core.model.Service;
import dev.capstan.core.model.Workload;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link KubernetesSource} against fabric8's kubernetes-server-mock in CRUD mode: a real fabric8
 * client over HTTP, real list and watch requests, objects stored and watch events sent by the mock.
 * No kube-apiserver (nor k3s, kind or Docker) can be had on this machine, so this is the closest
 * to a cluster these tests get; the mock runs no controllers (no EndpointSlice controller, no
 * kubelet), so the tests write slices and pod status themselves, as those controllers would.
 */
@EnableKubernetesMockClient(crud = true, https = false)
class KubernetesSourceTest {

  private static final KubernetesSource.Options OPTIONS =
      KubernetesSource.Options.defaults().withDebounce(Duration.ofMillis(20));

  /** The mock server logs every request through java.util.logging; kept referenced so the level sticks. */
  private static final java.util.logging.Logger MOCK_LOG = quiet("io.fabric8.mockwebserver");

  KubernetesClient client;

  private static java.util.logging.Logger quiet(String name) {
    java.util.logging.Logger logger = java.util.logging.Logger.getLogger(name);
    logger.setLevel(java.util.logging.Level.WARNING);
    return logger;
  }

  private final List<MeshSnapshot> emitted = new CopyOnWriteArrayList<>();
  private KubernetesSource source;

  @BeforeEach
  void installCrd() throws Exception {
    client.apiextensions().v1().customResourceDefinitions().resource(AuthorizationPolicyCrdTest.crd()).create();
    client.apiextensions().v1().customResourceDefinitions().resource(TrafficPolicyCrdTest.crd()).create();
    client.apiextensions().v1().customResourceDefinitions().resource(WaypointCrdTest.crd()).create();
  }

  /** The Gateway API's route CRDs, as a cluster that installed them serves them (schema left open). */
  private void installGatewayApi() {
    for (String[] kind : new String[][] {{"HTTPRoute", "httproutes"}, {"GRPCRoute", "grpcroutes"}}) {
      client.apiextensions().v1().customResourceDefinitions().resource(
          new io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder()
              .withNewMetadata().withName(kind[1] + ".gateway.networking.k8s.io").endMetadata()
              .withNewSpec().withGroup("gateway.networking.k8s.io").withScope("Namespaced")
              .withNewNames().withKind(kind[0]).withPlural(kind[1]).withSingular(kind[0].toLowerCase()).endNames()
              .addNewVersion().withName("v1").withServed(true).withStorage(true)
              .withNewSchema().withNewOpenAPIV3Schema().withType("object").withXKubernetesPreserveUnknownFields(true)
              .endOpenAPIV3Schema().endSchema().endVersion()
              .endSpec().build()).create();
    }
  }

  @AfterEach
  void close() throws InterruptedException {
    if (source != null) {
      // A watch still being opened when the source stops can hold the mock server's shutdown past
      // its 10 s limit (a test that ends at the first snapshot did, under load): let them open.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!source.watching() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      source.close();
    }
    // The client's open watches would hold the mock server's shutdown (10 s limit, missed once
    // on a loaded machine): close them before the extension stops the server.
    client.close();
  }

  private void create(HasMetadata... objects) {
    for (HasMetadata o : objects) {
      client.resource(o).create();
    }
  }

  /** Creates a pod, then writes its status as the kubelet would. */
  private void createPod(Pod pod) {
    client.resource(new PodBuilder(pod).withStatus(null).build()).create();
    client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName())
        .editStatus(p -> new PodBuilder(p).withStatus(pod.getStatus()).build());
  }

  private String uid(String namespace, String pod) {
    return client.pods().inNamespace(namespace).withName(pod).get().getMetadata().getUid();
  }

  private void start(KubernetesSource.Options options) {
    source = new KubernetesSource(client, options);
    source.start(emitted::add);
  }

  /**
   * The source's current snapshot once it matches and has reached the listener too: the source
   * updates {@code current()} before it calls the listener, so a test that compared
   * {@code emitted} right after seeing {@code current()} raced the listener's thread.
   */
  private MeshSnapshot awaitSnapshot(String what, Predicate<MeshSnapshot> condition) throws InterruptedException {
    await(what, () -> source.current().filter(condition).isPresent());
    MeshSnapshot snapshot = source.current().orElseThrow();
    await(what + " (emitted)", () -> emitted.contains(snapshot));
    return snapshot;
  }

  private static List<String> workloadNames(MeshSnapshot snapshot) {
    return snapshot.workloads().stream().map(Workload::name).toList();
  }

  private static Optional<Service> meshService(MeshSnapshot snapshot, String name) {
    return snapshot.services().stream().filter(s -> s.name().equals(name)).findFirst();
  }

  /** Namespace {@code shop} enrolled with web-1 (node-1) and web-2 (node-2) behind Service web and its slice. */
  private void shop() {
    create(namespace("shop", true));
    createPod(pod("shop", "web-1", "web", "10.0.1.1", "node-1").build());
    createPod(pod("shop", "web-2", "web", "10.0.2.1", "node-2").build());
    create(service("shop", "web", "web", "10.96.0.10", 80, 8080).build(),
        slice("shop", "web-abc", "web", 8080, podEndpoint("web-1", "10.0.1.1", true),
            podEndpoint("web-2", "10.0.2.1", false)));
  }

  /** A slice endpoint as the EndpointSlice controller writes it: targetRef with the pod's uid. */
  private io.fabric8.kubernetes.api.model.discovery.v1.Endpoint podEndpoint(String pod, String ip, boolean ready) {
    return new io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder(endpoint(pod, ip, ready))
        .editTargetRef().withNamespace("shop").withUid(uid("shop", pod)).endTargetRef().build();
  }

  @Test
  void cluster_objects_become_the_first_snapshot_once_synced() throws Exception {
    shop();
    create(namespace("plain", false));
    createPod(pod("plain", "legacy-1", "legacy", "10.0.1.9", "node-1").build());

    start(OPTIONS);

    MeshSnapshot snapshot = awaitSnapshot("first snapshot", s -> true);
    assertThat(source.hasSynced()).isTrue();
    assertThat(emitted).containsExactly(snapshot);
    assertThat(snapshot.workloads()).containsExactly(
        new Workload(uid("shop", "web-1"), "web-1", "shop", "web", List.of("10.0.1.1"), "node-1", Map.of("app", "web"), null),
        new Workload(uid("shop", "web-2"), "web-2", "shop", "web", List.of("10.0.2.1"), "node-2", Map.of("app", "web"), null));
    assertThat(snapshot.services()).singleElement().satisfies(s -> {
      assertThat(s.vips()).containsExactly("10.96.0.10");
      assertThat(s.endpoints()).containsExactlyInAnyOrder(
          new Endpoint(uid("shop", "web-1"), true), new Endpoint(uid("shop", "web-2"), false));
    });
  }

  @Test
  void labelling_a_namespace_enrolls_it() throws Exception {
    create(namespace("plain", false));
    createPod(pod("plain", "legacy-1", "legacy", "10.0.1.9", "node-1").build());
    start(OPTIONS);
    awaitSnapshot("first (empty) snapshot", s -> s.workloads().isEmpty());

    client.namespaces().withName("plain").edit(n -> new NamespaceBuilder(n).editMetadata()
        .addToLabels(Translator.MESH_LABEL, Translator.MESH_ENABLED).endMetadata().build());

    MeshSnapshot enrolled = awaitSnapshot("enrolled pod", s -> !s.workloads().isEmpty());
    assertThat(workloadNames(enrolled)).containsExactly("legacy-1");
  }

  @Test
  void opting_a_pod_out_removes_it_from_workloads_and_endpoints() throws Exception {
    shop();
    start(OPTIONS);
    awaitSnapshot("both pods", s -> s.workloads().size() == 2);

    client.pods().inNamespace("shop").withName("web-1").edit(p -> new PodBuilder(p).editMetadata()
        .addToLabels(Translator.MESH_LABEL, Translator.MESH_DISABLED).endMetadata().build());

    MeshSnapshot after = awaitSnapshot("web-1 opted out", s -> s.workloads().size() == 1);
    assertThat(workloadNames(after)).containsExactly("web-2");
    assertThat(meshService(after, "web").orElseThrow().endpoints()).containsExactly(new Endpoint(uid("shop", "web-2"), false));
  }

  @Test
  void deleting_a_pod_removes_it_from_workloads_and_endpoints() throws Exception {
    shop();
    start(OPTIONS);
    awaitSnapshot("both pods", s -> s.workloads().size() == 2);
    String web2 = uid("shop", "web-2");

    client.pods().inNamespace("shop").withName("web-1").delete();

    MeshSnapshot after = awaitSnapshot("web-1 gone", s -> s.workloads().size() == 1);
    assertThat(workloadNames(after)).containsExactly("web-2");
    // The slice still names web-1 (no EndpointSlice controller here): a deleted pod is no endpoint.
    assertThat(meshService(after, "web").orElseThrow().endpoints()).containsExactly(new Endpoint(web2, false));
    assertThat(source.pod("shop", "web-1")).isEmpty();
  }

  @Test
  void policy_create_update_and_delete_follow_the_custom_resource() throws Exception {
    shop();
    start(OPTIONS);
    awaitSnapshot("first snapshot", s -> true);
    String frontend = "spiffe://cluster.local/ns/shop/sa/frontend";

    create(policy("shop", "web-from-frontend", spec(Map.of("app", "web"), "ALLOW", rule(List.of(frontend), null, List.of(8080)))));
    MeshSnapshot created = awaitSnapshot("policy created", s -> !s.policies().isEmpty());
    assertThat(created.policies()).containsExactly(new AuthorizationPolicy("shop", "web-from-frontend",
        Map.of("app", "web"), PolicyAction.ALLOW, List.of(new PolicyRule(List.of(frontend), List.of(), List.of(8080)))));

    client.resources(AuthorizationPolicyResource.class).inNamespace("shop").withName("web-from-frontend")
        .edit(p -> {
          p.setSpec(spec(Map.of("app", "web"), "DENY", rule(null, List.of("legacy"), null)));
          return p;
        });
    MeshSnapshot updated = awaitSnapshot("policy updated",
        s -> s.policies().size() == 1 && s.policies().get(0).action() == PolicyAction.DENY);
    assertThat(updated.policies().get(0).rules()).containsExactly(new PolicyRule(List.of(), List.of("legacy"), List.of()));

    client.resources(AuthorizationPolicyResource.class).inNamespace("shop").withName("web-from-frontend").delete();
    awaitSnapshot("policy deleted", s -> s.policies().isEmpty());
  }

  @Test
  void traffic_policy_create_update_and_delete_follow_the_custom_resource() throws Exception {
    shop();
    start(OPTIONS);
    awaitSnapshot("first snapshot", s -> true);

    create(PolicyTranslationTest.trafficPolicy("shop", "web", "targetRefs: [{kind: Service, name: web}]\nlimits: {maxConcurrentRequests: 10}"),
        PolicyTranslationTest.trafficPolicy("shop", "wide", "loadBalancer: ROUND_ROBIN"));
    MeshSnapshot created = awaitSnapshot("traffic policies created", s -> s.trafficPolicies().size() == 2);
    assertThat(created.trafficPolicies().get(0).limits()).contains(new dev.capstan.core.model.TrafficPolicy.Limits(10));

    var policies = client.resources(dev.capstan.controller.source.crd.TrafficPolicyResource.class).inNamespace("shop");
    policies.withName("web").edit(p -> {
      ((com.fasterxml.jackson.databind.node.ObjectNode) p.getSpec().get("limits")).put("maxConcurrentRequests", 20);
      return p;
    });
    awaitSnapshot("traffic policy updated", s -> s.trafficPolicies().size() == 2
        && s.trafficPolicies().get(0).limits().orElseThrow().maxConcurrentRequests() == 20);

    policies.withName("web").edit(p -> {
      ((com.fasterxml.jackson.databind.node.ObjectNode) p.getSpec().get("limits")).put("maxConcurrentRequests", -1);
      return p;
    });
    MeshSnapshot bad = awaitSnapshot("bad traffic policy left out", s -> s.trafficPolicies().size() == 1);
    assertThat(bad.trafficPolicies().get(0).name()).as("the other one goes on").isEqualTo("wide");

    policies.withName("wide").delete();
    awaitSnapshot("traffic policy deleted", s -> s.trafficPolicies().isEmpty());
  }

  @Test
  void pod_lookup_reads_the_informer_cache() throws Exception {
    shop();
    createPod(pod("shop", "pending-1", "web", "10.0.1.5", "node-1").editSpec().withNodeName(null).endSpec().build());
    start(OPTIONS);
    awaitSnapshot("first snapshot", s -> true);

    assertThat(source.pod("shop", "web-1")).contains(new PodInfo(uid("shop", "web-1"), "node-1"));
    assertThat(source.pod("shop", "pending-1")).as("not scheduled").isEmpty();
    assertThat(source.pod("shop", "absent")).isEmpty();
    assertThat(source.pod("other", "web-1")).isEmpty();
  }

  @Test
  void only_content_changes_are_emitted() throws Exception {
    shop();
    start(OPTIONS);
    MeshSnapshot first = awaitSnapshot("first snapshot", s -> true);

    client.pods().inNamespace("shop").withName("web-1").edit(p -> new PodBuilder(p).editMetadata()
        .addToAnnotations("note", "not part of the mesh model").endMetadata().build());
    client.pods().inNamespace("shop").withName("web-2").edit(p -> new PodBuilder(p).editMetadata()
        .addToLabels("version", "v2").endMetadata().build());

    MeshSnapshot second = awaitSnapshot("relabelled web-2",
        s -> s.workloads().stream().anyMatch(w -> "v2".equals(w.labels().get("version"))));
    assertThat(emitted).containsExactly(first, second);
  }

  @Test
  void namespace_option_restricts_the_source_to_those_namespaces() throws Exception {
    shop();
    create(namespace("other", true));
    createPod(pod("other", "api-1", "api", "10.0.1.7", "node-1").build());
    start(OPTIONS.withNamespaces(Set.of("shop")));

    MeshSnapshot snapshot = awaitSnapshot("first snapshot", s -> true);

    assertThat(workloadNames(snapshot)).containsExactly("web-1", "web-2");
    assertThat(source.pod("other", "api-1")).isEmpty();

    createPod(pod("shop", "web-3", "web", "10.0.1.3", "node-1").build());
    assertThat(workloadNames(awaitSnapshot("web-3", s -> s.workloads().size() == 3)))
        .containsExactly("web-1", "web-2", "web-3");
  }

  @Test
  void waypoints_and_routes_follow_the_custom_resources() throws Exception {
    installGatewayApi();
    shop();
    client.namespaces().withName("shop").edit(n -> new NamespaceBuilder(n).editMetadata()
        .addToLabels(Translator.USE_WAYPOINT_LABEL, "waypoint").endMetadata().build());
    create(service("shop", "waypoint", "waypoint", "10.96.0.15", 15008, 15008).build());
    GenericKubernetesResource route = route("HTTPRoute", "shop", "web", """
        parentRefs: [{group: "", kind: Service, name: web, port: 80}]
        rules: [{backendRefs: [{name: web, port: 80}]}]
        """);
    client.genericKubernetesResources("gateway.networking.k8s.io/v1", "HTTPRoute").inNamespace("shop").resource(route).create();
    start(OPTIONS);
    MeshSnapshot first = awaitSnapshot("the route", s -> s.routes().size() == 1);
    assertThat(meshService(first, "web").orElseThrow().waypoint()).as("no Waypoint declared yet").isNull();

    create(waypoint("shop", "waypoint", new WaypointSpec(2, null, null, null)));
    MeshSnapshot declared = awaitSnapshot("the waypoint", s -> s.waypoints().size() == 1);
    assertThat(declared.waypoints()).containsExactly(
        new Waypoint("shop", "waypoint", "waypoint", 2, Waypoint.Compute.NONE, Waypoint.TrafficType.SERVICE));
    assertThat(meshService(declared, "web").orElseThrow().waypoint()).isEqualTo("shop/waypoint");
    assertThat(meshService(declared, "waypoint").orElseThrow().waypoint()).as("its own service").isNull();

    client.genericKubernetesResources("gateway.networking.k8s.io/v1", "HTTPRoute").inNamespace("shop").withName("web")
        .edit(r -> {
          r.setAdditionalProperty("spec", Fixtures.route("HTTPRoute", "shop", "web", """
              parentRefs: [{group: "", kind: Service, name: web, port: 80}]
              rules: [{backendRefs: [{name: web, port: 80, weight: 3}]}]
              """).getAdditionalProperties().get("spec"));
          return r;
        });
    MeshSnapshot edited = awaitSnapshot("the route edited", s -> s.routes().size() == 1 && s.routes().get(0).manifest().contains("\"weight\":3"));
    assertThat(edited.routes()).extracting(RouteManifest::key).containsExactly("HTTPRoute/shop/web");

    client.resources(WaypointResource.class).inNamespace("shop").withName("waypoint").delete();
    MeshSnapshot deleted = awaitSnapshot("the waypoint deleted", s -> s.waypoints().isEmpty());
    assertThat(meshService(deleted, "web").orElseThrow().waypoint()).isNull();
  }

  @Test
  void without_the_gateway_api_the_mesh_still_syncs_without_routes() throws Exception {
    shop();
    start(OPTIONS);

    MeshSnapshot snapshot = awaitSnapshot("first snapshot", s -> true);

    assertThat(snapshot.routes()).isEmpty();
    assertThat(workloadNames(snapshot)).containsExactly("web-1", "web-2");
  }
}
