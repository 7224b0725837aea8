package dev.capstan.core.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One rule of an authorization policy. Every non-empty field must match; an empty field matches
 * anything. {@code principals}, {@code namespaces} and {@code ports} are L4 (about the
 * connection); {@code paths}, {@code methods} and {@code headers} are L7 (about the request) and
 * only a waypoint can check them — see {@link AuthorizationPolicy} for what node agents do with them.
 *
 * <p>Path and header value patterns are Istio's: an exact value, {@code prefix*}, {@code *suffix},
 * or {@code *} (any; for a header, present).
 *
 * @param principals source SPIFFE IDs ({@code spiffe://...}); {@code *} matches any
 * @param namespaces source namespaces
 * @param ports destination ports (the workload's port at a node agent, the service port at a waypoint)
 * @param paths request path patterns (the path without its query)
 * @param methods request methods, exact ({@code GET})
 * @param headers request header name (lower case) → value patterns, any of which must match a value
 *     of that header; every header named must match
 */
public record PolicyRule(
    List<String> principals, List<String> namespaces, List<Integer> ports, List<String> paths, List<String> methods,
    Map<String, List<String>> headers) {

  public PolicyRule {
    principals = List.copyOf(principals == null ? List.of() : principals);
    namespaces = List.copyOf(namespaces == null ? List.of() : namespaces);
    ports = List.copyOf(ports == null ? List.of() : ports);
    paths = List.copyOf(paths == null ? List.of() : paths);
    methods = List.copyOf(methods == null ? List.of() : methods);
    Map<String, List<String>> h = new LinkedHashMap<>();
    if (headers != null) {
      headers.forEach((k, v) -> h.merge(k.toLowerCase(Locale.ROOT), List.copyOf(v == null ? List.of() : v),
          (a, b) -> java.util.stream.Stream.concat(a.stream(), b.stream()).toList()));
    }
    headers = java.util.Collections.unmodifiableMap(h);
  }

  /** An L4 rule. */
  public PolicyRule(List<String> principals, List<String> namespaces, List<Integer> ports) {
    this(principals, namespaces, ports, List.of(), List.of(), Map.of());
  }

  /** Whether the rule has L7 fields (paths, methods, headers), which only a waypoint can check. */
  public boolean hasL7() {
    return !paths.isEmpty() || !methods.isEmpty() || !headers.isEmpty();
  }

  /** The same rule without its L7 fields. */
  public PolicyRule l4() {
    return hasL7() ? new PolicyRule(principals, namespaces, ports) : this;
  }

  /** Whether {@code value} matches an Istio pattern: exact, {@code prefix*}, {@code *suffix} or {@code *}. */
  public static boolean matches(String pattern, String value) {
    if (pattern.equals("*")) {
      return true;
    }
    if (pattern.length() > 1 && pattern.endsWith("*")) {
      return value.startsWith(pattern.substring(0, pattern.length() - 1));
    }
    if (pattern.length() > 1 && pattern.startsWith("*")) {
      return value.endsWith(pattern.substring(1));
    }
    return pattern.equals(value);
  }
}
