package dev.capstan.core.model;

import java.util.List;

/**
 * One L4 rule. Every non-empty field must match; an empty field matches anything.
 *
 * @param principals source SPIFFE IDs ({@code spiffe://...}); {@code *} matches any
 * @param namespaces source namespaces
 * @param ports destination ports (the workload's port)
 */
public record PolicyRule(List<String> principals, List<String> namespaces, List<Integer> ports) {

  public PolicyRule {
    principals = List.copyOf(principals == null ? List.of() : principals);
    namespaces = List.copyOf(namespaces == null ? List.of() : namespaces);
    ports = List.copyOf(ports == null ? List.of() : ports);
  }
}
