package dev.capstan.core.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An authorization policy of a namespace.
 *
 * <p>Where it is enforced, as in Istio's ambient mode:
 *
 * <ul>
 *   <li>Without {@code targets} it is bound by {@code selector} to the workloads of its namespace
 *       whose labels contain every entry (an empty selector selects the whole namespace) and the
 *       destination node agents enforce it at L4. A rule's L7 fields cannot be checked there: an
 *       ALLOW rule with L7 fields never matches, a DENY rule with L7 fields matches on its L4
 *       fields alone (both fail closed).
 *   <li>With {@code targets} (Service names of its namespace, like Istio's {@code targetRefs}) it
 *       is enforced by the waypoint of those services, per request, against the source identity
 *       the waypoint received; node agents ignore it and {@code selector} is not used.
 * </ul>
 *
 * <p>DENY policies win over ALLOW policies; when any ALLOW policy applies, a connection (or
 * request) must match one of its rules.
 *
 * @param namespace namespace the policy lives in and applies to
 * @param name policy name
 * @param selector workload label selector
 * @param action allow or deny
 * @param rules the rules; an ALLOW policy with no rules allows nothing, a DENY policy with no
 *     rules denies nothing
 * @param targets names of Services of the namespace whose waypoint enforces the policy; empty for
 *     a selector-bound policy
 */
public record AuthorizationPolicy(
    String namespace, String name, Map<String, String> selector, PolicyAction action, List<PolicyRule> rules,
    List<String> targets) {

  public AuthorizationPolicy {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(action, "action");
    selector = Map.copyOf(selector == null ? Map.of() : selector);
    rules = List.copyOf(rules == null ? List.of() : rules);
    targets = List.copyOf(targets == null ? List.of() : targets.stream().distinct().sorted().toList());
  }

  /** A selector-bound (L4, node agent) policy. */
  public AuthorizationPolicy(
      String namespace, String name, Map<String, String> selector, PolicyAction action, List<PolicyRule> rules) {
    this(namespace, name, selector, action, rules, List.of());
  }

  /** The key {@code namespace/name}. */
  public String key() {
    return namespace + "/" + name;
  }

  /** Whether a waypoint enforces this policy (it names services) rather than node agents. */
  public boolean targeted() {
    return !targets.isEmpty();
  }

  /** Whether the waypoint of service {@code namespace/name} enforces this policy. */
  public boolean targets(String serviceNamespace, String serviceName) {
    return namespace.equals(serviceNamespace) && targets.contains(serviceName);
  }

  /**
   * Whether node agents apply this policy to the workload: it is not targeted at services, and
   * its selector selects the workload.
   */
  public boolean selects(Workload workload) {
    return !targeted()
        && workload.namespace().equals(namespace)
        && selector.entrySet().stream()
            .allMatch(e -> e.getValue().equals(workload.labels().get(e.getKey())));
  }

  /** Whether a rule has L7 fields, which node agents cannot check. */
  public boolean hasL7() {
    return rules.stream().anyMatch(PolicyRule::hasL7);
  }
}
