package dev.capstan.waypoint.authz;

import dev.capstan.core.model.AuthorizationPolicy;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The targeted AuthorizationPolicies of one config version, compiled per service on first use and
 * kept for the version (a request costs one map read before its rules are checked).
 */
public final class ServiceAuthorizations {

  private final List<AuthorizationPolicy> targeted;
  private final Map<String, RequestAuthorization> byService = new ConcurrentHashMap<>();

  /** {@code policies} may hold every policy of the mesh: only the targeted ones are kept. */
  public ServiceAuthorizations(List<AuthorizationPolicy> policies) {
    this.targeted = policies.stream().filter(AuthorizationPolicy::targeted).toList();
  }

  /** The authorization of service {@code namespace/name}. */
  public RequestAuthorization forService(String namespace, String name) {
    if (targeted.isEmpty()) {
      return RequestAuthorization.NONE;
    }
    return byService.computeIfAbsent(namespace + "/" + name, k -> RequestAuthorization.of(targeted, namespace, name));
  }
}
