package dev.capstan.controller.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.capstan.core.ca.CertificateRequest;
import dev.capstan.core.ca.CertificateResponse;
import dev.capstan.core.ca.Csrs;
import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.tls.Pem;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.grpc.common.GrpcStatus;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A waypoint pod asks the CA for its own certificate with its projected token: the
 * {@link TokenReviewAuthenticator} on fabric8's mock API server (TokenReview answers from
 * expectations, pods from the CRUD store) in front of a real {@link CertificateAuthority}. The
 * Waypoint {@code shop/waypoint} runs as service account {@code waypoint}; {@code shop/l7} as
 * {@code l7-sa}.
 */
@EnableKubernetesMockClient(crud = true)
class WaypointCallerTest {

  private static final String TD = "cluster.local";
  private static final String REVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews";
  private static final String WAYPOINT_USER = "system:serviceaccount:shop:waypoint";
  private static final SpiffeId OWN = SpiffeId.of(TD, "shop", "waypoint");
  private static final SpiffeId FRONTEND = SpiffeId.of(TD, "shop", "frontend");

  KubernetesMockServer server;
  KubernetesClient client;

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private CertificateAuthority authority;
  private String podUid;

  /** The Waypoints the controller's model declares. */
  private static final WaypointAccounts WAYPOINTS = new WaypointAccounts() {
    private final Map<String, String> accounts = Map.of("shop/waypoint", "waypoint", "shop/l7", "l7-sa");

    @Override
    public Optional<String> serviceAccount(String namespace, String name) {
      return Optional.ofNullable(accounts.get(namespace + "/" + name));
    }

    @Override
    public boolean anyRunsAs(String namespace, String serviceAccount) {
      return accounts.entrySet().stream().anyMatch(e -> e.getKey().startsWith(namespace + "/")
          && e.getValue().equals(serviceAccount));
    }
  };

  @BeforeEach
  void setUp() {
    CaConfig config = CaConfig.of(TD, "capstan-system");
    // Node authorization would allow anything on node-a: a waypoint must still get only its own identity.
    Placement everywhere = (node, ns, sa) -> true;
    authority = new CertificateAuthority(config, SigningCa.selfSigned(TD, Clock.systemUTC(), Duration.ofDays(1)),
        TokenReviewAuthenticator.of(client, new KubernetesPodLookup(client), WAYPOINTS, config), everywhere,
        new CaMetrics(registry), Clock.systemUTC());
    podUid = pod("waypoint-7d9f-abcde", "waypoint", Map.of("capstan.dev/waypoint", "waypoint", "app", "x"));
  }

  @Test
  void a_waypoint_pods_token_gets_the_identity_of_its_service_account() throws Exception {
    reviewAnswers(authenticated(WAYPOINT_USER, bound("waypoint-7d9f-abcde", podUid)));

    CertificateResponse answer = ask(OWN);

    assertThat(SpiffeId.fromCertificate(Pem.certificates(answer.certChainPem().get(0)).get(0))).isEqualTo(OWN);
    assertThat(registry.get("capstan_ca_requests").tag("result", "issued").counter().count()).isEqualTo(1);
  }

  @Test
  void a_waypoint_asking_for_another_identity_is_permission_denied() {
    reviewAnswers(authenticated(WAYPOINT_USER, bound("waypoint-7d9f-abcde", podUid)));

    Denial d = denied(FRONTEND);

    assertThat(d.reason()).isEqualTo(Denial.Reason.NOT_OWN_IDENTITY);
    assertThat(d.reason().status()).isEqualTo(GrpcStatus.PERMISSION_DENIED);
    assertThat(d.getMessage()).contains("may get only " + OWN, "not " + FRONTEND);
  }

  @Test
  void a_pod_of_the_waypoints_service_account_without_the_waypoint_label_is_denied() {
    String uid = pod("impostor", "waypoint", Map.of("app", "impostor"));
    reviewAnswers(authenticated(WAYPOINT_USER, bound("impostor", uid)));

    Denial d = denied(OWN);

    assertThat(d.reason()).isEqualTo(Denial.Reason.NOT_WAYPOINT);
    assertThat(d.reason().status()).isEqualTo(GrpcStatus.PERMISSION_DENIED);
    assertThat(d.getMessage()).contains("shop/impostor", "no label capstan.dev/waypoint");
  }

  @Test
  void a_pod_labelled_for_a_waypoint_of_another_service_account_is_denied() {
    String uid = pod("borrowed-label", "waypoint", Map.of("capstan.dev/waypoint", "l7"));
    reviewAnswers(authenticated(WAYPOINT_USER, bound("borrowed-label", uid)));

    Denial d = denied(OWN);

    assertThat(d.reason()).isEqualTo(Denial.Reason.NOT_WAYPOINT);
    assertThat(d.getMessage()).contains("Waypoint shop/l7 runs as l7-sa");
  }

  @Test
  void a_pod_labelled_for_an_undeclared_waypoint_is_denied() {
    String uid = pod("ghost", "waypoint", Map.of("capstan.dev/waypoint", "ghost"));
    reviewAnswers(authenticated(WAYPOINT_USER, bound("ghost", uid)));

    Denial d = denied(OWN);

    assertThat(d.reason()).isEqualTo(Denial.Reason.NOT_WAYPOINT);
    assertThat(d.getMessage()).contains("no Waypoint shop/ghost is declared");
  }

  @Test
  void a_token_of_a_waypoint_pod_with_another_uid_is_denied() {
    reviewAnswers(authenticated(WAYPOINT_USER, bound("waypoint-7d9f-abcde", "0000-recreated")));

    Denial d = denied(OWN);

    assertThat(d.reason()).isEqualTo(Denial.Reason.POD_UID_MISMATCH);
    assertThat(d.reason().status()).isEqualTo(GrpcStatus.UNAUTHENTICATED);
  }

  @Test
  void a_token_of_a_service_account_no_waypoint_runs_as_is_still_not_a_node_agents() {
    String uid = pod("frontend-1", "frontend", Map.of("capstan.dev/waypoint", "waypoint"));
    reviewAnswers(authenticated("system:serviceaccount:shop:frontend", bound("frontend-1", uid)));

    Denial d = denied(FRONTEND);

    assertThat(d.reason()).isEqualTo(Denial.Reason.NOT_NODE_AGENT);
    assertThat(d.reason().status()).isEqualTo(GrpcStatus.PERMISSION_DENIED);
  }

  @Test
  void an_unscheduled_waypoint_pod_is_denied() {
    String uid = client.pods().inNamespace("shop").resource(new PodBuilder()
        .withNewMetadata().withName("pending").withNamespace("shop").addToLabels("capstan.dev/waypoint", "waypoint")
        .endMetadata().withNewSpec().withServiceAccountName("waypoint").endSpec().build()).create().getMetadata().getUid();
    reviewAnswers(authenticated(WAYPOINT_USER, bound("pending", uid)));

    assertThat(denied(OWN).reason()).isEqualTo(Denial.Reason.UNKNOWN_POD);
  }

  private CertificateResponse ask(SpiffeId id) throws Denial {
    KeyPair key = TestCsrs.p256();
    return authority.issue(Optional.of("projected-token"), new CertificateRequest(Csrs.create(id, key), 0, Map.of()),
        "10.0.0.9:41000");
  }

  private Denial denied(SpiffeId id) {
    Denial d = catchThrowableOfType(Denial.class, () -> ask(id));
    assertThat(d).as("must be denied").isNotNull();
    assertThat(registry.get("capstan_ca_requests").tag("reason", d.reason().label()).counter().count())
        .as("counted with its reason").isEqualTo(1);
    return d;
  }

  private String pod(String name, String serviceAccount, Map<String, String> labels) {
    return client.pods().inNamespace("shop").resource(new PodBuilder()
        .withNewMetadata().withName(name).withNamespace("shop").withLabels(labels).endMetadata()
        .withNewSpec().withNodeName("node-a").withServiceAccountName(serviceAccount).endSpec()
        .build()).create().getMetadata().getUid();
  }

  private void reviewAnswers(TokenReview answer) {
    server.expect().post().withPath(REVIEWS).andReturn(201, answer).once();
  }

  private static TokenReview authenticated(String user, Map<String, List<String>> extra) {
    return new TokenReviewBuilder()
        .withNewStatus()
          .withAuthenticated(true)
          .withAudiences("capstan-ca")
          .withNewUser().withUsername(user).withUid("sa-uid").withExtra(extra).endUser()
        .endStatus()
        .build();
  }

  private static Map<String, List<String>> bound(String pod, String uid) {
    Map<String, List<String>> extra = new LinkedHashMap<>();
    extra.put("authentication.kubernetes.io/pod-name", List.of(pod));
    extra.put("authentication.kubernetes.io/pod-uid", List.of(uid));
    extra.put("authentication.kubernetes.io/node-name", List.of("node-a"));
    return extra;
  }
}
