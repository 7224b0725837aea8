package dev.capstan.controller.ca;

import java.util.Objects;

/**
 * Who an authenticated CA request comes from.
 *
 * @param node the node the caller speaks for: certificates are issued only for workloads on it
 * @param principal who presented the credential, for logs (a pod, a bootstrap token's node)
 */
public record Caller(String node, String principal) {

  public Caller {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(principal, "principal");
    if (node.isBlank()) {
      throw new IllegalArgumentException("caller node is empty");
    }
  }
}
