package dev.capstan.controller.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link TokenReviewAuthenticator} against fabric8's Kubernetes mock server: TokenReview answers
 * come from expectations, pods from its CRUD store (both modes together). No kube-apiserver can be
 * had on this machine (no binaries, no Docker), so the API server's side of a TokenReview is what
 * the Kubernetes docs specify for a bound service account token, written by hand here.
 */
@EnableKubernetesMockClient(crud = true)
class TokenReviewAuthenticatorTest {

  private static final String NS = "capstan-system";
  private static final String AGENT = "system:serviceaccount:capstan-system:capstan-node-agent";
  private static final String REVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews";

  KubernetesMockServer server;
  KubernetesClient client;

  private TokenReviewAuthenticator authenticator;
  /** The uid the API server gave the node agent's pod. */
  private String uid;

  @BeforeEach
  void setUp() {
    authenticator = TokenReviewAuthenticator.of(client, new KubernetesPodLookup(client), CaConfig.of("cluster.local", NS));
    uid = client.pods().inNamespace(NS).resource(new PodBuilder()
        .withNewMetadata().withName("agent-x1").withNamespace(NS).endMetadata()
        .withNewSpec().withNodeName("node-a").withServiceAccountName("capstan-node-agent").endSpec()
        .build()).create().getMetadata().getUid();
  }

  @Test
  void token_of_a_live_node_agent_pod_authenticates_as_its_node() throws Exception {
    reviewAnswers(authenticated(AGENT, "capstan-ca", pod("agent-x1", uid, "node-a")));

    Caller caller = authenticator.authenticate("projected-token");

    assertThat(caller.node()).isEqualTo("node-a");
    assertThat(caller.principal()).isEqualTo("pod capstan-system/agent-x1");
    RecordedRequest review = lastReview();
    assertThat(review.getUtf8Body()).contains("\"token\":\"projected-token\"").contains("\"audiences\":[\"capstan-ca\"]");
  }

  @Test
  void token_without_node_claim_is_accepted_on_the_pods_node() throws Exception {
    Map<String, List<String>> extra = pod("agent-x1", uid, null);
    reviewAnswers(authenticated(AGENT, "capstan-ca", extra));

    assertThat(authenticator.authenticate("t").node()).isEqualTo("node-a");
  }

  @Test
  void token_of_a_deleted_pod_is_refused() {
    client.pods().inNamespace(NS).withName("agent-x1").delete();
    reviewAnswers(authenticated(AGENT, "capstan-ca", pod("agent-x1", uid, "node-a")));

    assertDenied(Denial.Reason.UNKNOWN_POD, "does not exist");
  }

  @Test
  void token_of_a_recreated_pod_with_another_uid_is_refused() {
    client.pods().inNamespace(NS).withName("agent-x1").delete();
    client.pods().inNamespace(NS).resource(new PodBuilder()
        .withNewMetadata().withName("agent-x1").withNamespace(NS).endMetadata()
        .withNewSpec().withNodeName("node-a").withServiceAccountName("capstan-node-agent").endSpec()
        .build()).create();
    reviewAnswers(authenticated(AGENT, "capstan-ca", pod("agent-x1", uid, "node-a")));

    assertDenied(Denial.Reason.POD_UID_MISMATCH, uid);
  }

  @Test
  void token_of_another_service_account_is_refused() {
    reviewAnswers(authenticated("system:serviceaccount:shop:frontend", "capstan-ca", pod("agent-x1", uid, "node-a")));

    assertDenied(Denial.Reason.NOT_NODE_AGENT, "system:serviceaccount:shop:frontend");
  }

  @Test
  void unauthenticated_token_is_refused_with_the_api_servers_reason() {
    reviewAnswers(new TokenReviewBuilder().withNewStatus().withAuthenticated(false).withError("token has expired").endStatus().build());

    assertDenied(Denial.Reason.INVALID_TOKEN, "token has expired");
  }

  @Test
  void token_whose_node_claim_disagrees_with_the_pods_node_is_refused() {
    reviewAnswers(authenticated(AGENT, "capstan-ca", pod("agent-x1", uid, "node-b")));

    assertDenied(Denial.Reason.NODE_MISMATCH, "node-b");
  }

  @Test
  void token_for_another_audience_is_refused() {
    reviewAnswers(authenticated(AGENT, "https://kubernetes.default.svc", pod("agent-x1", uid, "node-a")));

    assertDenied(Denial.Reason.INVALID_TOKEN, "audience capstan-ca");
  }

  @Test
  void token_not_bound_to_a_pod_is_refused() {
    reviewAnswers(authenticated(AGENT, "capstan-ca", Map.of()));

    assertDenied(Denial.Reason.INVALID_TOKEN, "not bound to a pod");
  }

  @Test
  void unscheduled_pod_is_refused() {
    String pendingUid = client.pods().inNamespace(NS).resource(new PodBuilder()
        .withNewMetadata().withName("agent-pending").withNamespace(NS).endMetadata()
        .withNewSpec().withServiceAccountName("capstan-node-agent").endSpec()
        .build()).create().getMetadata().getUid();
    reviewAnswers(authenticated(AGENT, "capstan-ca", pod("agent-pending", pendingUid, null)));

    assertDenied(Denial.Reason.UNKNOWN_POD, "not scheduled");
  }

  @Test
  void api_server_failure_is_reported_as_unavailable() {
    server.expect().post().withPath(REVIEWS).andReturn(500, "boom").once();

    assertDenied(Denial.Reason.AUTHENTICATOR_UNAVAILABLE, "TokenReview failed");
  }

  private void assertDenied(Denial.Reason reason, String detail) {
    Denial d = catchThrowableOfType(Denial.class, () -> authenticator.authenticate("t"));
    assertThat(d).as("must be denied").isNotNull();
    assertThat(d.reason()).as(d.getMessage()).isEqualTo(reason);
    assertThat(d.getMessage()).contains(detail);
  }

  private void reviewAnswers(TokenReview answer) {
    server.expect().post().withPath(REVIEWS).andReturn(201, answer).once();
  }

  private static TokenReview authenticated(String user, String audience, Map<String, List<String>> extra) {
    return new TokenReviewBuilder()
        .withNewStatus()
          .withAuthenticated(true)
          .withAudiences(audience)
          .withNewUser().withUsername(user).withUid("sa-uid").withExtra(extra).endUser()
        .endStatus()
        .build();
  }

  private static Map<String, List<String>> pod(String name, String uid, String node) {
    Map<String, List<String>> extra = new LinkedHashMap<>();
    extra.put("authentication.kubernetes.io/pod-name", List.of(name));
    extra.put("authentication.kubernetes.io/pod-uid", List.of(uid));
    if (node != null) {
      extra.put("authentication.kubernetes.io/node-name", List.of(node));
    }
    return extra;
  }

  private RecordedRequest lastReview() throws InterruptedException {
    RecordedRequest found = null;
    for (int i = server.getRequestCount(); i > 0; i--) {
      RecordedRequest r = server.takeRequest();
      if (REVIEWS.equals(r.getPath())) {
        found = r;
      }
    }
    return found;
  }
}
