package dev.capstan.controller.waypoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.controller.source.WaypointCrdAccess;
import dev.capstan.controller.source.crd.WaypointResource;
import dev.capstan.controller.source.crd.WaypointSpec;
import dev.capstan.controller.testing.Replicas;
import dev.capstan.core.model.MeshSnapshot;
import dev.capstan.core.model.Waypoint;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountTokenProjection;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link WaypointDeployer} against fabric8's kubernetes-server-mock in CRUD mode (a real client
 * over HTTP; the mock stores objects but runs no controllers: no garbage collector deletes owned
 * objects, so ownership is checked on the owner references themselves).
 */
@EnableKubernetesMockClient(crud = true, https = false)
class WaypointDeployerTest {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String ROOT = "-----BEGIN CERTIFICATE-----\nMIIB (the mesh root)\n-----END CERTIFICATE-----\n";
  private static final WaypointManifests.Settings SETTINGS = new WaypointManifests.Settings("example/waypoint:1",
      "IfNotPresent", "cluster.local", "capstan", List.of("capstan-controller.capstan-system.svc:5701"),
      "capstan-controller.capstan-system.svc:15012", "spiffe://cluster.local/ns/capstan-system/sa/capstan-controller", ROOT);

  KubernetesClient client;
  private final TestLeadership leadership = new TestLeadership();
  private WaypointDeployer deployer;

  @BeforeEach
  void setUp() throws Exception {
    client.apiextensions().v1().customResourceDefinitions().resource(WaypointCrdAccess.crd()).create();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("shop").endMetadata().build()).create();
  }

  @AfterEach
  void stop() {
    if (deployer != null) {
      deployer.close();
    }
  }

  private WaypointDeployer start(Duration resync) {
    deployer = new WaypointDeployer(client, SETTINGS, leadership,
        (ns, name) -> Optional.ofNullable(client.resources(WaypointResource.class).inNamespace(ns).withName(name).get()),
        resync);
    return deployer;
  }

  /** Creates the Waypoint resource (for its uid) and returns its model as the source would translate it. */
  private Waypoint declare(String name, WaypointSpec spec) {
    WaypointResource w = new WaypointResource();
    w.setMetadata(new ObjectMetaBuilder().withNamespace("shop").withName(name).build());
    w.setSpec(spec);
    client.resource(w).create();
    return new Waypoint("shop", name, spec.serviceAccount() == null ? name : spec.serviceAccount(),
        spec.replicas() == null ? 1 : spec.replicas(), spec.resources() == null ? Waypoint.Compute.NONE
            : new Waypoint.Compute(spec.resources().requests(), spec.resources().limits()), Waypoint.TrafficType.SERVICE);
  }

  private static MeshSnapshot mesh(Waypoint... waypoints) {
    return new MeshSnapshot("v", List.of(), List.of(), List.of(), Map.of(), List.of(), List.of(waypoints), List.of());
  }

  private String uid(String name) {
    return client.resources(WaypointResource.class).inNamespace("shop").withName(name).get().getMetadata().getUid();
  }

  private Deployment deployment(String name) {
    return client.apps().deployments().inNamespace("shop").withName(name).get();
  }

  private Service service(String name) {
    return client.services().inNamespace("shop").withName(name).get();
  }

  @Test
  void a_waypoint_becomes_its_deployment_and_service_owned_by_it() throws Exception {
    start(Duration.ofMinutes(5));
    Waypoint waypoint = declare("waypoint", new WaypointSpec(2, new WaypointSpec.Resources(
        Map.of("cpu", "100m", "memory", "128Mi"), Map.of("memory", "256Mi")), null, null));

    deployer.offer(mesh(waypoint));
    deployer.awaitIdle();

    Deployment d = deployment("waypoint");
    assertThat(d).isNotNull();
    assertThat(d.getSpec().getReplicas()).isEqualTo(2);
    assertThat(d.getSpec().getSelector().getMatchLabels()).containsEntry(WaypointManifests.WAYPOINT_LABEL, "waypoint");
    assertThat(d.getSpec().getTemplate().getMetadata().getLabels()).containsEntry(WaypointManifests.WAYPOINT_LABEL, "waypoint");
    assertThat(d.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo("waypoint");
    Container c = d.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(c.getImage()).isEqualTo("example/waypoint:1");
    assertThat(c.getArgs()).containsExactly("run", "--config", "/etc/capstan/config/waypoint.yaml");
    assertThat(c.getPorts()).extracting(ContainerPort::getContainerPort).containsExactly(15008, 15020, 15021);
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/healthz/ready");
    assertThat(c.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(15021);
    assertThat(c.getResources().getRequests()).isEqualTo(Map.of("cpu", new Quantity("100m"), "memory", new Quantity("128Mi")));
    assertThat(c.getResources().getLimits()).isEqualTo(Map.of("memory", new Quantity("256Mi")));

    Service s = service("waypoint");
    assertThat(s.getSpec().getType()).isEqualTo("ClusterIP");
    assertThat(s.getSpec().getSelector()).isEqualTo(Map.of(WaypointManifests.WAYPOINT_LABEL, "waypoint"));
    assertThat(s.getSpec().getPorts()).extracting(ServicePort::getName, ServicePort::getPort).containsExactly(
        org.assertj.core.groups.Tuple.tuple("hbone", 15008));

    ConfigMap config = client.configMaps().inNamespace("shop").withName("waypoint-waypoint-config").get();
    assertThat(config.getData().get("waypoint.yaml")).contains("namespace: shop", "serviceAccount: waypoint",
        "listen: 0.0.0.0:15008", "capstan-controller.capstan-system.svc:5701",
        "ca: {address: \"capstan-controller.capstan-system.svc:15012\", identity: "
            + "\"spiffe://cluster.local/ns/capstan-system/sa/capstan-controller\", root: /etc/capstan/config/root-cert.pem, "
            + "token: /var/run/secrets/capstan/token}")
        .doesNotContain("certs:");
    assertThat(config.getData()).containsEntry("root-cert.pem", ROOT);
    assertThat(client.serviceAccounts().inNamespace("shop").withName("waypoint").get()).as("its own account").isNotNull();

    String uid = uid("waypoint");
    for (var o : List.of(d, s, config, client.serviceAccounts().inNamespace("shop").withName("waypoint").get())) {
      assertThat(o.getMetadata().getOwnerReferences()).as(o.getKind() + " deleted with the Waypoint")
          .singleElement().satisfies((OwnerReference r) -> {
            assertThat(r.getUid()).isEqualTo(uid);
            assertThat(r.getKind()).isEqualTo("Waypoint");
            assertThat(r.getApiVersion()).isEqualTo("capstan.dev/v1alpha1");
            assertThat(r.getController()).isTrue();
          });
    }
  }

  @Test
  void waypoint_pods_get_a_projected_ca_token_and_the_root_and_no_secret() throws Exception {
    start(Duration.ofMinutes(5));
    deployer.offer(mesh(declare("waypoint", new WaypointSpec(null, null, null, null))));
    deployer.awaitIdle();

    PodSpec pod = deployment("waypoint").getSpec().getTemplate().getSpec();
    assertThat(pod.getAutomountServiceAccountToken()).as("no API server token in the pod").isFalse();
    assertThat(pod.getVolumes()).extracting(Volume::getName).containsExactly("config", "ca-token");
    assertThat(pod.getVolumes()).allSatisfy(v -> assertThat(v.getSecret()).as(v.getName() + " is no Secret").isNull());
    ServiceAccountTokenProjection token = pod.getVolumes().get(1).getProjected().getSources().get(0).getServiceAccountToken();
    assertThat(token.getAudience()).isEqualTo("capstan-ca");
    assertThat(token.getExpirationSeconds()).isEqualTo(3600L);
    assertThat(token.getPath()).isEqualTo("token");
    assertThat(pod.getVolumes().get(0).getConfigMap().getName()).isEqualTo("waypoint-waypoint-config");
    assertThat(pod.getContainers().get(0).getVolumeMounts()).extracting(VolumeMount::getName, VolumeMount::getMountPath)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("config", "/etc/capstan/config"),
            org.assertj.core.groups.Tuple.tuple("ca-token", "/var/run/secrets/capstan"));
  }

  @Test
  void a_new_mesh_root_rolls_the_waypoint_pods() throws Exception {
    start(Duration.ofMinutes(5));
    Waypoint waypoint = declare("waypoint", new WaypointSpec(null, null, null, null));
    WaypointResource resource = client.resources(WaypointResource.class).inNamespace("shop").withName("waypoint").get();
    WaypointManifests.Settings rotated = new WaypointManifests.Settings(SETTINGS.image(), SETTINGS.imagePullPolicy(),
        SETTINGS.trustDomain(), SETTINGS.clusterName(), SETTINGS.members(), SETTINGS.caAddress(), SETTINGS.caIdentity(),
        ROOT + ROOT);

    String before = configHash(WaypointManifests.of(resource, waypoint, SETTINGS));
    String after = configHash(WaypointManifests.of(resource, waypoint, rotated));

    assertThat(after).as("the pods read the root at start").isNotEqualTo(before);
  }

  private static String configHash(List<io.fabric8.kubernetes.api.model.HasMetadata> objects) {
    return objects.stream().filter(Deployment.class::isInstance).map(Deployment.class::cast).findFirst().orElseThrow()
        .getSpec().getTemplate().getMetadata().getAnnotations().get(WaypointManifests.CONFIG_HASH_ANNOTATION);
  }

  @Test
  void a_change_of_the_waypoint_updates_its_deployment_and_the_service_keeps_its_cluster_ip() throws Exception {
    start(Duration.ofMinutes(5));
    Waypoint waypoint = declare("waypoint", new WaypointSpec(1, null, null, "l7"));
    deployer.offer(mesh(waypoint));
    deployer.awaitIdle();
    String configHash = deployment("waypoint").getSpec().getTemplate().getMetadata().getAnnotations()
        .get(WaypointManifests.CONFIG_HASH_ANNOTATION);
    assertThat(client.serviceAccounts().inNamespace("shop").withName("l7").get()).as("the spec names its own account")
        .isNull();
    // The API server allocates the VIP; an older controller wrote the Service without the hash.
    client.services().inNamespace("shop").withName("waypoint").edit(s -> new ServiceBuilder(s).editSpec()
        .withClusterIP("10.96.0.50").endSpec().editMetadata().removeFromAnnotations(WaypointManifests.HASH_ANNOTATION)
        .endMetadata().build());

    deployer.offer(mesh(new Waypoint("shop", "waypoint", "l7", 3, Waypoint.Compute.NONE, Waypoint.TrafficType.SERVICE)));
    leadership.set(true); // a new leader re-checks every object
    deployer.awaitIdle();

    assertThat(deployment("waypoint").getSpec().getReplicas()).isEqualTo(3);
    assertThat(deployment("waypoint").getSpec().getTemplate().getMetadata().getAnnotations())
        .as("the config did not change: the pods are not rolled for it")
        .containsEntry(WaypointManifests.CONFIG_HASH_ANNOTATION, configHash);
    Service s = service("waypoint");
    assertThat(s.getSpec().getClusterIP()).isEqualTo("10.96.0.50");
    assertThat(s.getMetadata().getAnnotations()).containsKey(WaypointManifests.HASH_ANNOTATION);
  }

  @Test
  void an_object_the_waypoint_does_not_own_is_left_alone() throws Exception {
    client.services().inNamespace("shop").resource(new ServiceBuilder().withNewMetadata().withName("waypoint")
        .withNamespace("shop").endMetadata().withNewSpec().addNewPort().withName("http").withPort(80).endPort().endSpec()
        .build()).create();
    start(Duration.ofMinutes(5));

    deployer.offer(mesh(declare("waypoint", new WaypointSpec(null, null, null, null))));
    deployer.awaitIdle();

    Service s = service("waypoint");
    assertThat(s.getMetadata().getOwnerReferences()).isEmpty();
    assertThat(s.getSpec().getPorts()).extracting(ServicePort::getName).containsExactly("http");
    assertThat(deployment("waypoint")).as("the rest is made").isNotNull();
  }

  @Test
  void only_the_leader_writes() throws Exception {
    leadership.set(false);
    start(Duration.ofMinutes(5));
    Waypoint waypoint = declare("waypoint", new WaypointSpec(null, null, null, null));

    deployer.offer(mesh(waypoint));
    deployer.awaitIdle();
    assertThat(deployment("waypoint")).as("a standby writes nothing").isNull();

    leadership.set(true);
    deployer.awaitIdle();
    assertThat(deployment("waypoint")).as("written once it leads").isNotNull();
  }

  @Test
  void a_deleted_deployment_comes_back_at_the_resync() throws Exception {
    start(Duration.ofMillis(200));
    deployer.offer(mesh(declare("waypoint", new WaypointSpec(null, null, null, null))));
    deployer.awaitIdle();
    assertThat(deployment("waypoint")).isNotNull();

    client.apps().deployments().inNamespace("shop").withName("waypoint").edit(d -> {
      d.getMetadata().getLabels().put("test/deleted", "yes");
      return d;
    });
    client.apps().deployments().inNamespace("shop").withName("waypoint").delete();

    Replicas.eventually(() -> {
      Deployment d = deployment("waypoint");
      return d != null && !d.getMetadata().getLabels().containsKey("test/deleted");
    }, WAIT, () -> "deployment recreated");
  }
}
