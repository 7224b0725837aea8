package dev.capstan.controller.ca;

import dev.capstan.core.identity.SpiffeId;
import java.util.Objects;
import java.util.Optional;

/**
 * Who an authenticated CA request comes from: a node agent, which may get the identity of any
 * workload scheduled on its node, or a waypoint pod, which may get its own identity and nothing
 * else.
 *
 * @param node the node the caller speaks for: certificates are issued only for workloads on it;
 *     for a caller with {@code ownIdentity}, the node its pod runs on (logs only), possibly empty
 * @param principal who presented the credential, for logs (a pod, a bootstrap token's node)
 * @param ownIdentity when present, the only identity the caller may get (a waypoint's own, the
 *     service account its pods run as); node authorization does not apply then
 */
public record Caller(String node, String principal, Optional<SpiffeId> ownIdentity) {

  public Caller {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(principal, "principal");
    Objects.requireNonNull(ownIdentity, "ownIdentity");
    if (ownIdentity.isEmpty() && node.isBlank()) {
      throw new IllegalArgumentException("caller node is empty");
    }
  }

  /** A node agent speaking for {@code node}. */
  public Caller(String node, String principal) {
    this(node, principal, Optional.empty());
  }

  /** A caller that may get {@code identity} only (a waypoint pod). */
  public static Caller own(SpiffeId identity, String node, String principal) {
    return new Caller(node, principal, Optional.of(identity));
  }
}
