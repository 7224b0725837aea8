package dev.capstan.nodeagent.authz;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.PolicyAction;
import dev.capstan.core.model.PolicyRule;
import dev.capstan.core.model.Workload;
import java.util.List;
import java.util.Optional;

/**
 * Evaluates the L4 policies of a destination workload, as Istio does: any matching DENY refuses;
 * otherwise, if any ALLOW policy selects the workload, one of its rules must match; with no
 * policy at all, everything is allowed.
 *
 * <p>L7 fields (paths, methods, headers) cannot be checked on a connection, so as Istio's ztunnel
 * does, both fail closed: an ALLOW rule with L7 fields never matches, a DENY rule with L7 fields
 * matches on its L4 fields alone. Policies targeted at services are the waypoint's and are not
 * applied here ({@link AuthorizationPolicy#selects}).
 */
public final class Authorizer {

  /** The outcome; {@code policy} names the deciding policy, for logs. */
  public record Decision(boolean allowed, String policy) {
    static Decision allow(String policy) {
      return new Decision(true, policy);
    }

    static Decision deny(String policy) {
      return new Decision(false, policy);
    }
  }

  private Authorizer() {}

  /** A connection from a verified mesh identity. */
  public static Decision check(List<AuthorizationPolicy> namespacePolicies, Workload destination, SpiffeId peer, int port) {
    return decide(namespacePolicies, destination, peer, port);
  }

  /**
   * A plaintext connection from outside the mesh: it has no identity, so a rule naming principals
   * or namespaces never matches it. An ALLOW policy with {@code principals: ["*"]} therefore
   * requires mutual TLS (as in Istio); with no policy at all, plaintext is allowed (permissive).
   */
  public static Decision checkPlaintext(List<AuthorizationPolicy> namespacePolicies, Workload destination, int port) {
    return decide(namespacePolicies, destination, null, port);
  }

  private static Decision decide(List<AuthorizationPolicy> namespacePolicies, Workload destination, SpiffeId peer, int port) {
    boolean anyAllow = false;
    Optional<String> allowedBy = Optional.empty();
    for (AuthorizationPolicy p : namespacePolicies) {
      if (!p.selects(destination)) {
        continue;
      }
      boolean matches = p.rules().stream().anyMatch(r -> matches(r, p.action(), peer, port));
      if (p.action() == PolicyAction.DENY && matches) {
        return Decision.deny(p.namespace() + "/" + p.name());
      }
      if (p.action() == PolicyAction.ALLOW) {
        anyAllow = true;
        if (matches && allowedBy.isEmpty()) {
          allowedBy = Optional.of(p.namespace() + "/" + p.name());
        }
      }
    }
    if (!anyAllow) {
      return Decision.allow("none");
    }
    return allowedBy.map(Decision::allow).orElse(Decision.deny("no ALLOW rule matched"));
  }

  private static boolean matches(PolicyRule rule, PolicyAction action, SpiffeId peer, int port) {
    if (rule.hasL7() && action == PolicyAction.ALLOW) {
      return false; // cannot be checked at L4: allows nothing here
    }
    if (peer == null && !(rule.principals().isEmpty() && rule.namespaces().isEmpty())) {
      return false;
    }
    boolean principal = rule.principals().isEmpty()
        || rule.principals().stream().anyMatch(p -> "*".equals(p) || p.equals(peer.uri()));
    boolean namespace = rule.namespaces().isEmpty() || rule.namespaces().contains(peer.namespace());
    boolean portOk = rule.ports().isEmpty() || rule.ports().contains(port);
    return principal && namespace && portOk;
  }
}
