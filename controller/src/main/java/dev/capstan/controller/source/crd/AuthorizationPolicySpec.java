package dev.capstan.controller.source.crd;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The spec of an {@link AuthorizationPolicyResource}. It keeps the shape of the node agent's mesh
 * file ({@code selector}, {@code action}, flat {@code rules} of {@code principals}, {@code
 * namespaces}, {@code ports}), with the Kubernetes convention {@code selector.matchLabels}.
 *
 * <p>Fields may be null (absent in the resource); lists keep null items so that validation can
 * name them; nulls are left out when written, as the CRD's structural schema wants. The bounds
 * below are the CRD schema's ({@code maxItems}, {@code maxLength}).
 *
 * @param selector which workloads of the namespace the policy applies to; absent or empty selects
 *     all of them
 * @param action {@code ALLOW} (the default) or {@code DENY}
 * @param rules the rules; an ALLOW policy with no rules allows nothing ({@code spec: {}} is the
 *     Istio deny-all idiom)
 * @param targetRefs Services of the namespace whose waypoint enforces the policy (then {@code
 *     selector} must be absent); absent for a selector-bound L4 policy
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AuthorizationPolicySpec(Selector selector, String action, List<Rule> rules, List<TargetRef> targetRefs) {

  /** Most rules in one policy. */
  public static final int MAX_RULES = 64;
  /** Most items in one list of a rule, and most entries of {@code matchLabels}. */
  public static final int MAX_ITEMS = 64;
  /** Longest principal (a SPIFFE ID). */
  public static final int MAX_PRINCIPAL_LENGTH = 1024;
  /** Longest label value. */
  public static final int MAX_LABEL_VALUE_LENGTH = 63;

  /** Longest path pattern, header name or header value pattern. */
  public static final int MAX_L7_LENGTH = 1024;

  public AuthorizationPolicySpec {
    rules = copy(rules);
    targetRefs = copy(targetRefs);
  }

  /** A selector-bound policy. */
  public AuthorizationPolicySpec(Selector selector, String action, List<Rule> rules) {
    this(selector, action, rules, null);
  }

  /**
   * A Service of the policy's namespace, as Istio's {@code targetRefs} name it.
   *
   * @param group {@code ""} (the core group)
   * @param kind {@code Service}
   * @param name the service's name
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record TargetRef(String group, String kind, String name) {}

  /**
   * A label selector; only {@code matchLabels} is supported.
   *
   * @param matchLabels labels a workload must all carry
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Selector(Map<String, String> matchLabels) {
    public Selector {
      matchLabels = matchLabels == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(matchLabels));
    }
  }

  /**
   * One rule: every non-empty field must match the connection; an empty field matches anything.
   *
   * @param principals source SPIFFE IDs ({@code spiffe://<trust-domain>/ns/<ns>/sa/<sa>}), or
   *     {@code *}
   * @param namespaces source namespaces
   * @param ports destination ports (the workload's port at a node agent; the service port at a waypoint)
   * @param paths request paths: exact, {@code prefix*}, {@code *suffix} or {@code *} (L7)
   * @param methods request methods (L7)
   * @param headers request header name → value patterns, as paths (L7)
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Rule(
      List<String> principals, List<String> namespaces, List<Integer> ports, List<String> paths, List<String> methods,
      Map<String, List<String>> headers) {
    public Rule {
      principals = copy(principals);
      namespaces = copy(namespaces);
      ports = copy(ports);
      paths = copy(paths);
      methods = copy(methods);
      headers = headers == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    }

    /** An L4 rule. */
    public Rule(List<String> principals, List<String> namespaces, List<Integer> ports) {
      this(principals, namespaces, ports, null, null, null);
    }
  }

  private static <T> List<T> copy(List<T> list) {
    return list == null ? null : Collections.unmodifiableList(new ArrayList<>(list));
  }
}
