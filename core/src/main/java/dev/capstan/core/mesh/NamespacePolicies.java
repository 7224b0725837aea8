package dev.capstan.core.mesh;

import dev.capstan.core.model.AuthorizationPolicy;
import java.util.List;
import java.util.Objects;

/**
 * What the data path needs of one namespace: its authorization policies and its buffer-quota
 * weight. The value of the policies map, so a node agent evaluating a connection reads one entry
 * for the destination's namespace.
 *
 * @param namespace the namespace
 * @param policies its policies, sorted by name
 * @param bufferWeight its weight in the node agents' buffer budget (1 and up)
 */
public record NamespacePolicies(String namespace, List<AuthorizationPolicy> policies, int bufferWeight) {

  public NamespacePolicies {
    Objects.requireNonNull(namespace, "namespace");
    policies = List.copyOf(policies == null ? List.of() : policies);
    if (bufferWeight < 1) {
      throw new IllegalArgumentException("bufferWeight must be at least 1, got " + bufferWeight);
    }
  }

  /** Policies with the default weight 1. */
  public NamespacePolicies(String namespace, List<AuthorizationPolicy> policies) {
    this(namespace, policies, 1);
  }
}
