package dev.capstan.core.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An L4 authorization policy of a namespace.
 *
 * <p>It applies to the workloads of its namespace whose labels contain every entry of {@code
 * selector} (an empty selector selects the whole namespace). DENY policies win over ALLOW
 * policies; when any ALLOW policy applies to a workload, a connection must match one of its rules.
 *
 * @param namespace namespace the policy lives in and applies to
 * @param name policy name
 * @param selector workload label selector
 * @param action allow or deny
 * @param rules the rules; an ALLOW policy with no rules allows nothing, a DENY policy with no
 *     rules denies nothing
 */
public record AuthorizationPolicy(
    String namespace, String name, Map<String, String> selector, PolicyAction action, List<PolicyRule> rules) {

  public AuthorizationPolicy {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(action, "action");
    selector = Map.copyOf(selector == null ? Map.of() : selector);
    rules = List.copyOf(rules == null ? List.of() : rules);
  }

  /** Whether this policy selects the workload. */
  public boolean selects(Workload workload) {
    return workload.namespace().equals(namespace)
        && selector.entrySet().stream()
            .allMatch(e -> e.getValue().equals(workload.labels().get(e.getKey())));
  }
}
