package dev.capstan.core.mesh;

import dev.capstan.core.model.AuthorizationPolicy;
import java.util.List;
import java.util.Objects;

/**
 * The authorization policies of one namespace: the value of the policies map, so a node agent
 * evaluating a connection reads one entry for the destination's namespace.
 *
 * @param namespace the namespace
 * @param policies its policies, sorted by name
 */
public record NamespacePolicies(String namespace, List<AuthorizationPolicy> policies) {

  public NamespacePolicies {
    Objects.requireNonNull(namespace, "namespace");
    policies = List.copyOf(policies == null ? List.of() : policies);
  }
}
