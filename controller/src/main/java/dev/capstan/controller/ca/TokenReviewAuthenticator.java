package dev.capstan.controller.ca;

import dev.capstan.controller.waypoint.WaypointManifests;
import dev.capstan.core.identity.SpiffeId;
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
 * Kubernetes authentication of CA callers by their projected service account token (audience
 * {@code capstan-ca}), sent to the API server in a TokenReview. The review must say the token is
 * authenticated, for our audience, and bound to a pod that exists now with the token's pod uid and
 * is scheduled (on the token's node, when it names one). Then:
 *
 * <ul>
 *   <li>a token of the node agents' service account speaks for its pod's node;
 *   <li>a token of a service account some Waypoint runs as ({@link WaypointAccounts}) is a
 *       waypoint's if its pod carries {@code capstan.dev/waypoint=<name>} (the label the
 *       controller's Deployment puts on it) and the Waypoint {@code <name>} of that namespace runs
 *       as that account: the caller may get that account's identity and nothing else (istiod
 *       signs a waypoint's certificate for its own service account the same way). The pod is read
 *       from the API server, labels included;
 *   <li>any other token is refused ({@code not_node_agent}).
 * </ul>
 *
 * Every call blocks on the API server.
 */
public final class TokenReviewAuthenticator implements Authenticator {

  static final String POD_NAME = "authentication.kubernetes.io/pod-name";
  static final String POD_UID = "authentication.kubernetes.io/pod-uid";
  static final String NODE_NAME = "authentication.kubernetes.io/node-name";
  private static final String SA_USER = "system:serviceaccount:";

  private final KubernetesClient client;
  private final PodLookup pods;
  private final PodLookup livePods;
  private final WaypointAccounts waypoints;
  private final String trustDomain;
  private final String audience;
  private final String namespace;
  private final String expectedUser;

  /**
   * @param pods how node agents' pods are read (may be an informer cache)
   * @param waypoints the declared Waypoints and their service accounts
   * @param trustDomain the mesh's, for a waypoint's own identity
   * @param audience the audience tokens must be bound to
   * @param namespace the node agents' namespace
   * @param serviceAccount the node agents' service account
   */
  public TokenReviewAuthenticator(KubernetesClient client, PodLookup pods, WaypointAccounts waypoints, String trustDomain,
      String audience, String namespace, String serviceAccount) {
    this.client = client;
    this.pods = pods;
    this.livePods = new KubernetesPodLookup(client);
    this.waypoints = waypoints;
    this.trustDomain = trustDomain;
    this.audience = audience;
    this.namespace = namespace;
    this.expectedUser = SA_USER + namespace + ":" + serviceAccount;
  }

  /** The authenticator for a CA's settings, node agents only (no waypoint is accepted). */
  public static TokenReviewAuthenticator of(KubernetesClient client, PodLookup pods, CaConfig config) {
    return of(client, pods, WaypointAccounts.NONE, config);
  }

  /** The authenticator for a CA's settings: node agents, and waypoints of these Waypoints. */
  public static TokenReviewAuthenticator of(KubernetesClient client, PodLookup pods, WaypointAccounts waypoints,
      CaConfig config) {
    return new TokenReviewAuthenticator(client, pods, waypoints, config.trustDomain(), config.tokenAudience(),
        config.namespace(), config.nodeAgentServiceAccount());
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
    Map<String, List<String>> extra = user == null || user.getExtra() == null ? Map.of() : user.getExtra();
    if (expectedUser.equals(username)) {
      BoundPod pod = boundPod(extra, namespace, pods);
      return new Caller(pod.info().node(), "pod " + pod.name());
    }
    Optional<String[]> account = serviceAccount(username);
    if (account.isEmpty() || !waypoints.anyRunsAs(account.get()[0], account.get()[1])) {
      throw new Denial(Denial.Reason.NOT_NODE_AGENT, "token of " + username + ", not of " + expectedUser
          + " (the node agents) nor of a Waypoint's service account");
    }
    return waypoint(extra, account.get()[0], account.get()[1]);
  }

  /** A token of a Waypoint's service account: its pod must be that Waypoint's. */
  private Caller waypoint(Map<String, List<String>> extra, String podNamespace, String serviceAccount) throws Denial {
    BoundPod pod = boundPod(extra, podNamespace, livePods);
    String name = pod.info().labels().get(WaypointManifests.WAYPOINT_LABEL);
    if (name == null) {
      throw new Denial(Denial.Reason.NOT_WAYPOINT, "pod " + pod.name() + " runs as service account " + serviceAccount
          + ", which a Waypoint uses, but has no label " + WaypointManifests.WAYPOINT_LABEL);
    }
    Optional<String> waypointAccount = waypoints.serviceAccount(podNamespace, name);
    if (waypointAccount.isEmpty()) {
      throw new Denial(Denial.Reason.NOT_WAYPOINT, "pod " + pod.name() + " is labelled " + WaypointManifests.WAYPOINT_LABEL
          + "=" + name + " but no Waypoint " + podNamespace + "/" + name + " is declared");
    }
    if (!waypointAccount.get().equals(serviceAccount)) {
      throw new Denial(Denial.Reason.NOT_WAYPOINT, "pod " + pod.name() + " runs as service account " + serviceAccount
          + " but Waypoint " + podNamespace + "/" + name + " runs as " + waypointAccount.get());
    }
    return Caller.own(SpiffeId.of(trustDomain, podNamespace, serviceAccount), pod.info().node(),
        "waypoint pod " + pod.name() + " of Waypoint " + podNamespace + "/" + name);
  }

  private record BoundPod(String name, PodLookup.PodInfo info) {}

  /** The pod the token is bound to: it exists now, with the token's uid, scheduled on the token's node. */
  private static BoundPod boundPod(Map<String, List<String>> extra, String podNamespace, PodLookup lookup) throws Denial {
    String podName = single(extra, POD_NAME)
        .orElseThrow(() -> new Denial(Denial.Reason.INVALID_TOKEN, "token is not bound to a pod (no " + POD_NAME + ")"));
    String podUid = single(extra, POD_UID)
        .orElseThrow(() -> new Denial(Denial.Reason.INVALID_TOKEN, "token is not bound to a pod (no " + POD_UID + ")"));
    String name = podNamespace + "/" + podName;
    PodLookup.PodInfo pod;
    try {
      pod = lookup.pod(podNamespace, podName)
          .orElseThrow(() -> new Denial(Denial.Reason.UNKNOWN_POD, "pod " + name + " does not exist"));
    } catch (KubernetesClientException e) {
      throw new Denial(Denial.Reason.AUTHENTICATOR_UNAVAILABLE, "cannot read pod " + name + ": " + e.getMessage());
    }
    if (!podUid.equals(pod.uid())) {
      throw new Denial(Denial.Reason.POD_UID_MISMATCH,
          "token's pod " + name + " has uid " + podUid + " but the pod now has uid " + pod.uid());
    }
    if (pod.node() == null || pod.node().isBlank()) {
      throw new Denial(Denial.Reason.UNKNOWN_POD, "pod " + name + " is not scheduled on a node");
    }
    Optional<String> claimedNode = single(extra, NODE_NAME);
    if (claimedNode.isPresent() && !claimedNode.get().equals(pod.node())) {
      throw new Denial(Denial.Reason.NODE_MISMATCH,
          "token names node " + claimedNode.get() + " but pod " + name + " runs on " + pod.node());
    }
    return new BoundPod(name, pod);
  }

  /** {@code [namespace, name]} of a {@code system:serviceaccount:<ns>:<sa>} user. */
  private static Optional<String[]> serviceAccount(String username) {
    if (username == null || !username.startsWith(SA_USER)) {
      return Optional.empty();
    }
    String[] parts = username.substring(SA_USER.length()).split(":", -1);
    if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(parts);
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
