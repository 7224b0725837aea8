package dev.capstan.waypoint.authz;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.PolicyAction;
import dev.capstan.core.model.PolicyRule;
import dev.capstan.waypoint.route.RequestView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The AuthorizationPolicies targeted at one service ({@code targets}), compiled once per config
 * version and checked per request, with Istio's semantics: any matching DENY policy refuses;
 * otherwise, when the service has any ALLOW policy, a request must match one of its rules; with no
 * policy, everything is allowed. An ALLOW policy without rules allows nothing, a DENY policy
 * without rules denies nothing.
 *
 * <p>A rule matches when each of its non-empty fields does: {@code principals} (the source's
 * SPIFFE ID the waypoint received over mutual TLS, {@code *} for any identity), {@code namespaces}
 * (the source's namespace), {@code ports} (the service port the request was sent to), {@code
 * paths} (Istio patterns, against the {@linkplain RequestPaths#normalize normalized} path),
 * {@code methods} (exact) and {@code headers} (every header named has a value matching one of its
 * patterns). A source without identity matches no rule naming principals or namespaces.
 */
public final class RequestAuthorization {

  /** Allows everything: a service without targeted policies. */
  public static final RequestAuthorization NONE = new RequestAuthorization(List.of());

  /**
   * The outcome.
   *
   * @param allowed whether the request goes on (else 403)
   * @param policy {@code namespace/name} of the deciding policy; {@code none} when no policy
   *     applies; {@code null} when no ALLOW rule matched
   * @param reason for the log line
   */
  public record Verdict(boolean allowed, String policy, String reason) {
    static final Verdict NO_POLICY = new Verdict(true, "none", "no policy");
    static final Verdict NO_ALLOW_MATCHED = new Verdict(false, null, "no ALLOW rule matched");

    static Verdict allow(String policy) {
      return new Verdict(true, policy, "allowed by " + policy);
    }

    static Verdict deny(String policy) {
      return new Verdict(false, policy, "denied by " + policy);
    }
  }

  private final List<AuthorizationPolicy> deny = new ArrayList<>();
  private final List<AuthorizationPolicy> allow = new ArrayList<>();

  private RequestAuthorization(List<AuthorizationPolicy> policies) {
    for (AuthorizationPolicy p : policies) {
      (p.action() == PolicyAction.DENY ? deny : allow).add(p);
    }
  }

  /** The policies of {@code policies} that target service {@code namespace/name}, in name order. */
  public static RequestAuthorization of(List<AuthorizationPolicy> policies, String namespace, String name) {
    List<AuthorizationPolicy> mine = policies.stream().filter(p -> p.targets(namespace, name))
        .sorted(java.util.Comparator.comparing(AuthorizationPolicy::name)).toList();
    return mine.isEmpty() ? NONE : new RequestAuthorization(mine);
  }

  /** Whether any policy applies (when none does, {@link #check} always allows). */
  public boolean any() {
    return !deny.isEmpty() || !allow.isEmpty();
  }

  /**
   * The verdict for a request sent to service port {@code port} by {@code sourcePrincipal} (a
   * SPIFFE ID URI, or {@code null} when the source has no identity).
   */
  public Verdict check(String sourcePrincipal, int port, RequestView request) {
    if (!any()) {
      return Verdict.NO_POLICY;
    }
    Source source = new Source(sourcePrincipal, namespaceOf(sourcePrincipal), port, request);
    for (AuthorizationPolicy p : deny) {
      if (matchesAny(p, source, true)) {
        return Verdict.deny(p.key());
      }
    }
    if (allow.isEmpty()) {
      return Verdict.NO_POLICY;
    }
    for (AuthorizationPolicy p : allow) {
      if (matchesAny(p, source, false)) {
        return Verdict.allow(p.key());
      }
    }
    return Verdict.NO_ALLOW_MATCHED;
  }

  /**
   * The verdict for a TCP connection (not HTTP: no request to look at) to service port {@code
   * port} by {@code sourcePrincipal}. A rule's HTTP fields cannot be checked: a DENY rule that has
   * them denies on its other fields alone (fail closed, as ztunnel does with L7 rules), an ALLOW
   * rule that has them allows nothing.
   */
  public Verdict checkConnection(String sourcePrincipal, int port) {
    return check(sourcePrincipal, port, null);
  }

  /** What rules are matched against; the path is normalized once, when a rule first asks for it. */
  private static final class Source {
    final String principal;
    final String namespace;
    final int port;
    final RequestView request;
    private String path;

    Source(String principal, String namespace, int port, RequestView request) {
      this.principal = principal;
      this.namespace = namespace;
      this.port = port;
      this.request = request;
    }

    String path() {
      if (path == null) {
        path = RequestPaths.normalize(request.path());
      }
      return path;
    }
  }

  private static boolean matchesAny(AuthorizationPolicy p, Source s, boolean deny) {
    for (PolicyRule r : p.rules()) {
      if (s.request == null && r.hasL7()) { // a connection, not a request
        if (deny && matches(r.l4(), s)) {
          return true;
        }
        continue;
      }
      if (matches(r, s)) {
        return true;
      }
    }
    return false;
  }

  private static boolean matches(PolicyRule r, Source s) {
    if (!r.principals().isEmpty()
        && (s.principal == null || r.principals().stream().noneMatch(p -> p.equals("*") || p.equals(s.principal)))) {
      return false;
    }
    if (!r.namespaces().isEmpty() && (s.namespace == null || !r.namespaces().contains(s.namespace))) {
      return false;
    }
    if (!r.ports().isEmpty() && !r.ports().contains(s.port)) {
      return false;
    }
    if (!r.methods().isEmpty() && !r.methods().contains(s.request.method())) {
      return false;
    }
    if (!r.paths().isEmpty()) {
      String path = s.path();
      if (r.paths().stream().noneMatch(p -> PolicyRule.matches(p, path))) {
        return false;
      }
    }
    for (Map.Entry<String, List<String>> h : r.headers().entrySet()) {
      List<String> values = s.request.headers(h.getKey());
      if (values.stream().noneMatch(v -> h.getValue().stream().anyMatch(p -> PolicyRule.matches(p, v)))) {
        return false;
      }
    }
    return true;
  }

  private static String namespaceOf(String principal) {
    if (principal == null) {
      return null;
    }
    try {
      return SpiffeId.parse(principal).namespace();
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
