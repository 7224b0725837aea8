package dev.capstan.controller.ca;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewStatus;
import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Kubernetes authentication of node agents: their projected service account token (audience
 * {@code capstan-ca}) is sent to the API server in a TokenReview. Accepted only if the review says
 * the token is authenticated, for our audience, of the node agents' service account, and bound to
 * a pod that exists now with the token's pod uid; the caller's node is that pod's node (and must
 * agree with the token's node-name claim when there is one). Every call blocks on the API server.
 */
public final class TokenReviewAuthenticator implements Authenticator {

  static final String POD_NAME = "authentication.kubernetes.io/pod-name";
  static final String POD_UID = "authentication.kubernetes.io/pod-uid";
  static final String NODE_NAME = "authentication.kubernetes.io/node-name";

  private final KubernetesClient client;
  private final PodLookup pods;
  private final String audience;
  private final String namespace;
  private final String expectedUser;

  /**
   * @param audience the audience tokens must be bound to
   * @param namespace the node agents' namespace
   * @param serviceAccount the node agents' service account
   */
  public TokenReviewAuthenticator(
      KubernetesClient client, PodLookup pods, String audience, String namespace, String serviceAccount) {
    this.client = client;
    this.pods = pods;
    this.audience = audience;
    this.namespace = namespace;
    this.expectedUser = "system:serviceaccount:" + namespace + ":" + serviceAccount;
  }

  /** The authenticator for a CA's settings. */
  public static TokenReviewAuthenticator of(KubernetesClient client, PodLookup pods, CaConfig config) {
    return new TokenReviewAuthenticator(
        client, pods, config.tokenAudience(), config.namespace(), config.nodeAgentServiceAccount());
  }

  @Override
  public Caller authenticate(String token) throws Denial {
    TokenReview review = new TokenReviewBuilder()
        .withNewSpec().withToken(token).withAudiences(audience).endSpec()
        .build();
    TokenReview result;
    try {
      result = client.authentication().v1().tokenReviews().create(review);
    } catch (KubernetesClientException e) {
      throw new Denial(Denial.Reason.AUTHENTICATOR_UNAVAILABLE, "TokenReview failed: " + e.getMessage());
    }
    TokenReviewStatus status = result == null ? null : result.getStatus();
    if (status == null || !Boolean.TRUE.equals(status.getAuthenticated())) {
      String why = status == null || status.getError() == null || status.getError().isBlank() ? "" : ": " + status.getError();
      throw new Denial(Denial.Reason.INVALID_TOKEN, "token not authenticated by the API server" + why);
    }
    List<String> audiences = status.getAudiences() == null ? List.of() : status.getAudiences();
    if (!audiences.contains(audience)) {
      throw new Denial(Denial.Reason.INVALID_TOKEN, "token is not bound to audience " + audience + " (has " + audiences + ")");
    }
    UserInfo user = status.getUser();
    String username = user == null ? null : user.getUsername();
    if (!expectedUser.equals(username)) {
      throw new Denial(Denial.Reason.NOT_NODE_AGENT, "token of " + username + ", not of " + expectedUser);
    }
    Map<String, List<String>> extra = user.getExtra() == null ? Map.of() : user.getExtra();
    String podName = single(extra, POD_NAME)
        .orElseThrow(() -> new Denial(Denial.Reason.INVALID_TOKEN, "token is not bound to a pod (no " + POD_NAME + ")"));
    String podUid = single(extra, POD_UID)
        .orElseThrow(() -> new Denial(Denial.Reason.INVALID_TOKEN, "token is not bound to a pod (no " + POD_UID + ")"));
    PodLookup.PodInfo pod;
    try {
      pod = pods.pod(namespace, podName)
          .orElseThrow(() -> new Denial(Denial.Reason.UNKNOWN_POD, "pod " + namespace + "/" + podName + " does not exist"));
    } catch (KubernetesClientException e) {
      throw new Denial(Denial.Reason.AUTHENTICATOR_UNAVAILABLE, "cannot read pod " + namespace + "/" + podName + ": " + e.getMessage());
    }
    if (!podUid.equals(pod.uid())) {
      throw new Denial(Denial.Reason.POD_UID_MISMATCH,
          "token's pod " + namespace + "/" + podName + " has uid " + podUid + " but the pod now has uid " + pod.uid());
    }
    if (pod.node() == null || pod.node().isBlank()) {
      throw new Denial(Denial.Reason.UNKNOWN_POD, "pod " + namespace + "/" + podName + " is not scheduled on a node");
    }
    Optional<String> claimedNode = single(extra, NODE_NAME);
    if (claimedNode.isPresent() && !claimedNode.get().equals(pod.node())) {
      throw new Denial(Denial.Reason.NODE_MISMATCH,
          "token names node " + claimedNode.get() + " but pod " + namespace + "/" + podName + " runs on " + pod.node());
    }
    return new Caller(pod.node(), "pod " + namespace + "/" + podName);
  }

  private static Optional<String> single(Map<String, List<String>> extra, String key) throws Denial {
    List<String> values = extra.get(key);
    if (values == null || values.isEmpty()) {
      return Optional.empty();
    }
    if (values.size() != 1 || values.get(0) == null || values.get(0).isBlank()) {
      throw new Denial(Denial.Reason.INVALID_TOKEN, "token has " + values.size() + " values for " + key);
    }
    return Optional.of(values.get(0));
  }
}
