package dev.capstan.controller.waypoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.controller.source.KubernetesSource;
import dev.capstan.controller.source.WaypointCrdAccess;
import dev.capstan.controller.source.crd.WaypointResource;
import dev.capstan.controller.source.crd.WaypointSpec;
import dev.capstan.controller.source.crd.WaypointStatus;
import dev.capstan.core.model.Workload;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.HttpURLConnection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link WaypointStatusWriter} against fabric8's kubernetes-server-mock in CRUD mode, fed by a
 * real {@link KubernetesSource}: the mock runs no controllers, so the test writes the
 * Deployment's readiness as the Deployment controller would. Writes are counted in the mock's
 * request log (PUT or PATCH of a Waypoint's status subresource).
 */
@EnableKubernetesMockClient(crud = true, https = false)
class WaypointStatusWriterTest {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-22T10:00:00Z"), ZoneOffset.UTC);
  /** The mock server logs every request through java.util.logging; kept referenced so the level sticks. */
  private static final java.util.logging.Logger MOCK_LOG = quiet("io.fabric8.mockwebserver");

  KubernetesClient client;
  KubernetesMockServer server;

  private final TestLeadership leadership = new TestLeadership();
  private final List<RecordedRequest> requests = new ArrayList<>();
  private KubernetesSource source;
  private WaypointStatusWriter writer;

  private static java.util.logging.Logger quiet(String name) {
    java.util.logging.Logger logger = java.util.logging.Logger.getLogger(name);
    logger.setLevel(java.util.logging.Level.WARNING);
    return logger;
  }

  @BeforeEach
  void setUp() throws Exception {
    client.apiextensions().v1().customResourceDefinitions().resource(WaypointCrdAccess.crd()).create();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("shop")
        .withLabels(Map.of("capstan.dev/mesh", "enabled")).endMetadata().build()).create();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("legacy").endMetadata().build()).create();
  }

  @AfterEach
  void stop() {
    if (writer != null) {
      writer.close();
    }
    if (source != null) {
      source.close();
    }
    // Open watches would hold the mock server's shutdown: close them first.
    client.close();
  }

  private void start() {
    start(Duration.ofMillis(200));
  }

  /** A source on the mock and a writer fed by it; a failed write is tried again {@code retry} later. */
  private void start(Duration retry) {
    source = new KubernetesSource(client, KubernetesSource.Options.defaults().withDebounce(Duration.ofMillis(20)));
    writer = new WaypointStatusWriter(client, leadership, WaypointStatusWriter.Caches.of(source),
        new WaypointStatusWriter.Settings(Set.of(), true, Duration.ofMinutes(5), retry), CLOCK);
    source.start(writer::offer);
  }

  private WaypointResource declare(String namespace, String name, WaypointSpec spec) {
    WaypointResource w = new WaypointResource();
    w.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    w.setSpec(spec);
    return client.resource(w).create();
  }

  private WaypointResource live(String namespace, String name) {
    return client.resources(WaypointResource.class).inNamespace(namespace).withName(name).get();
  }

  private ObjectMeta owned(String name, String ownerUid) {
    return new ObjectMetaBuilder().withNamespace("shop").withName(name)
        .withLabels(Map.of(Workload.WAYPOINT_LABEL, name))
        .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion(WaypointResource.API_VERSION)
            .withKind(WaypointResource.KIND).withName(name).withUid(ownerUid).withController(true).build())
        .build();
  }

  /** The condition of that type in the Waypoint's live status, if it has one. */
  private static Optional<WaypointStatus.Condition> condition(WaypointResource w, String type) {
    if (w == null || w.getStatus() == null || w.getStatus().conditions() == null) {
      return Optional.empty();
    }
    return w.getStatus().conditions().stream().filter(c -> type.equals(c.type())).findFirst();
  }

  private WaypointResource awaitStatus(String namespace, String name, String what, Predicate<WaypointResource> wanted)
      throws InterruptedException {
    await(what, () -> wanted.test(live(namespace, name)));
    return live(namespace, name);
  }

  /** Writes of Waypoints' status subresource seen by the mock so far. */
  private long statusWrites() throws InterruptedException {
    for (RecordedRequest r = server.takeRequest(1, TimeUnit.MILLISECONDS); r != null;
        r = server.takeRequest(1, TimeUnit.MILLISECONDS)) {
      requests.add(r);
    }
    return requests.stream()
        .filter(r -> ("PUT".equals(r.getMethod()) || "PATCH".equals(r.getMethod()))
            && r.getPath().matches("/apis/capstan\\.dev/v1alpha1/namespaces/[^/]+/waypoints/[^/]+/status(\\?.*)?"))
        .count();
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  @Test
  void programmed_once_its_deployment_has_a_ready_replica_with_its_services_address_and_a_resync_writes_nothing()
      throws Exception {
    start();
    WaypointResource waypoint = declare("shop", "waypoint", new WaypointSpec(null, null, null, null));
    String uid = waypoint.getMetadata().getUid();

    WaypointResource pending = awaitStatus("shop", "waypoint", "Programmed=False before any Deployment",
        w -> condition(w, "Programmed").filter(c -> c.message().contains("does not exist yet")).isPresent());
    assertThat(condition(pending, "Accepted")).hasValueSatisfying(c -> {
      assertThat(c.status()).isEqualTo("True");
      assertThat(c.reason()).isEqualTo("Accepted");
    });
    assertThat(condition(pending, "Programmed")).hasValueSatisfying(c -> {
      assertThat(c.status()).isEqualTo("False");
      assertThat(c.reason()).isEqualTo("Pending");
      assertThat(c.lastTransitionTime()).isEqualTo("2026-11-22T10:00:00Z");
    });

    client.resource(new ServiceBuilder().withMetadata(owned("waypoint", uid))
        .withNewSpec().withClusterIP("10.96.0.30").addNewPort().withName("hbone").withPort(15008).endPort().endSpec()
        .build()).create();
    client.resource(new DeploymentBuilder().withMetadata(owned("waypoint", uid))
        .withNewSpec().withReplicas(1).endSpec().build()).create();
    WaypointResource notReady = awaitStatus("shop", "waypoint", "no ready replica, and the Service's address",
        w -> condition(w, "Programmed").filter(c -> c.message().contains("no ready replica (0 of 1)")).isPresent()
            && w.getStatus().addresses() != null);
    assertThat(condition(notReady, "Programmed").orElseThrow().status()).isEqualTo("False");

    client.apps().deployments().inNamespace("shop").withName("waypoint")
        .editStatus(d -> new DeploymentBuilder(d).withNewStatus().withReplicas(1).withReadyReplicas(1).endStatus().build());
    WaypointResource programmed = awaitStatus("shop", "waypoint", "Programmed=True",
        w -> condition(w, "Programmed").filter(c -> c.status().equals("True")).isPresent());

    assertThat(condition(programmed, "Programmed")).hasValueSatisfying(c -> {
      assertThat(c.reason()).isEqualTo("Programmed");
      assertThat(c.observedGeneration()).isEqualTo(programmed.getMetadata().getGeneration());
    });
    assertThat(programmed.getStatus().addresses()).containsExactly(new WaypointStatus.Address("IPAddress", "10.96.0.30"));
    assertThat(programmed.getStatus().observedGeneration()).isEqualTo(programmed.getMetadata().getGeneration());
    assertThat(programmed.getSpec()).as("the spec is left as the user wrote it").isEqualTo(waypoint.getSpec());

    // Nothing changed: neither a pass nor the resync (which forgets what was written and compares
    // with the live status) writes.
    writer.awaitIdle();
    long written = statusWrites();
    assertThat(written).isBetween(3L, 4L);
    writer.trigger();
    writer.resync();
    writer.awaitIdle();
    writer.resync();
    writer.awaitIdle();
    assertThat(statusWrites()).isEqualTo(written);
    assertThat(live("shop", "waypoint").getStatus()).isEqualTo(programmed.getStatus());
  }

  @Test
  void a_status_changed_by_hand_is_put_back_at_the_resync() throws Exception {
    start();
    declare("shop", "waypoint", new WaypointSpec(null, null, null, null));
    WaypointResource pending = awaitStatus("shop", "waypoint", "a status",
        w -> condition(w, "Programmed").isPresent());
    client.resources(WaypointResource.class).inNamespace("shop").withName("waypoint").editStatus(w -> {
      WaypointResource edited = new WaypointResource();
      edited.setMetadata(w.getMetadata());
      edited.setSpec(w.getSpec());
      edited.setStatus(new WaypointStatus(1L, List.of(new WaypointStatus.Condition("Programmed", "True", 1L,
          "2026-01-01T00:00:00Z", "Programmed", "edited by hand")), null));
      return edited;
    });
    awaitStatus("shop", "waypoint", "the edit", w -> condition(w, "Accepted").isEmpty());

    writer.trigger();
    writer.awaitIdle();
    assertThat(condition(live("shop", "waypoint"), "Programmed").orElseThrow().message())
        .as("written already: not before the resync").isEqualTo("edited by hand");
    writer.resync();
    writer.awaitIdle();

    assertThat(live("shop", "waypoint").getStatus()).isEqualTo(pending.getStatus());
  }

  @Test
  void waypoints_the_mesh_leaves_out_say_why_in_accepted() throws Exception {
    start();
    declare("shop", "sometimes", new WaypointSpec(null, null, "sometimes", null));
    declare("shop", "pods", new WaypointSpec(null, null, "workload", null));
    declare("legacy", "waypoint", new WaypointSpec(null, null, null, null));

    WaypointResource invalid = awaitStatus("shop", "sometimes", "the invalid one's status",
        w -> condition(w, "Accepted").isPresent());
    WaypointResource workload = awaitStatus("shop", "pods", "the workload one's status",
        w -> condition(w, "Accepted").isPresent());
    WaypointResource outside = awaitStatus("legacy", "waypoint", "the unenrolled one's status",
        w -> condition(w, "Accepted").isPresent());

    assertThat(condition(invalid, "Accepted")).hasValueSatisfying(c -> {
      assertThat(c.status()).isEqualTo("False");
      assertThat(c.reason()).isEqualTo("Invalid");
      assertThat(c.message()).contains("spec.trafficType: 'sometimes'");
    });
    assertThat(condition(invalid, "Programmed").orElseThrow().reason()).isEqualTo("Invalid");
    assertThat(condition(workload, "Accepted")).hasValueSatisfying(c -> {
      assertThat(c.status()).isEqualTo("False");
      assertThat(c.reason()).isEqualTo("UnsupportedTrafficType");
    });
    assertThat(condition(outside, "Accepted")).hasValueSatisfying(c -> {
      assertThat(c.status()).isEqualTo("False");
      assertThat(c.reason()).isEqualTo("NamespaceNotEnrolled");
    });
  }

  @Test
  void only_the_leader_writes() throws Exception {
    leadership.set(false);
    start();
    declare("shop", "waypoint", new WaypointSpec(null, null, null, null));
    await("the source has the Waypoint", () -> source.hasSynced() && !source.waypoints().isEmpty());

    writer.trigger();
    writer.awaitIdle();
    assertThat(live("shop", "waypoint").getStatus()).isNull();
    assertThat(statusWrites()).isZero();

    leadership.set(true);
    awaitStatus("shop", "waypoint", "the new leader's write", w -> condition(w, "Programmed").isPresent());
  }

  @Test
  void a_write_refused_with_409_is_made_again_at_the_next_event() throws Exception {
    String path = "/apis/capstan.dev/v1alpha1/namespaces/shop/waypoints/waypoint/status";
    // The API server's answer when the Waypoint changed between the cache's read and the write.
    server.expect().put().withPath(path).andReturn(HttpURLConnection.HTTP_CONFLICT, new StatusBuilder()
        .withStatus("Failure").withReason("Conflict").withCode(HttpURLConnection.HTTP_CONFLICT)
        .withMessage("the object has been modified; please apply your changes to the latest version and try again")
        .build()).once();
    start(Duration.ofMinutes(5));
    declare("shop", "waypoint", new WaypointSpec(null, null, null, null));
    await("the refused write", () -> {
      try {
        return statusWrites() >= 1;
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    });

    // The change that caused the conflict reaches the cache (unless another event's pass came
    // first): a pass computes the status again and writes it.
    // (the writer may write the status between this edit's read and its patch: 409, edit again)
    for (int attempt = 1; ; attempt++) {
      try {
        client.resources(WaypointResource.class).inNamespace("shop").withName("waypoint")
            .edit(w -> {
              w.getMetadata().setLabels(Map.of("team", "payments"));
              return w;
            });
        break;
      } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
        if (e.getCode() != HttpURLConnection.HTTP_CONFLICT || attempt == 5) {
          throw e;
        }
      }
    }
    WaypointResource written = awaitStatus("shop", "waypoint", "the status, written again",
        w -> condition(w, "Programmed").isPresent());

    // Written again on an event (the retry timer is 5 minutes away): one write refused, one made.
    assertThat(statusWrites()).isEqualTo(2);
    assertThat(condition(written, "Programmed").orElseThrow().reason()).isEqualTo("Pending");
    assertThat(written.getMetadata().getLabels()).containsEntry("team", "payments");
  }
}
