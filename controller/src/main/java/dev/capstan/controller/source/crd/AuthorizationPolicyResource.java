package dev.capstan.controller.source.crd;

import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * The {@code AuthorizationPolicy} custom resource ({@code capstan.dev/v1alpha1}, namespaced): an L4
 * policy for the workloads of its namespace. Its schema is {@code
 * charts/capstan/crds/authorizationpolicies.capstan.dev.yaml}.
 */
@Group(AuthorizationPolicyResource.GROUP)
@Version(AuthorizationPolicyResource.VERSION)
@Kind(AuthorizationPolicyResource.KIND)
@Plural(AuthorizationPolicyResource.PLURAL)
@Singular("authorizationpolicy")
public final class AuthorizationPolicyResource extends CustomResource<AuthorizationPolicySpec, Void>
    implements Namespaced {

  public static final String GROUP = "capstan.dev";
  public static final String VERSION = "v1alpha1";
  public static final String API_VERSION = GROUP + "/" + VERSION;
  public static final String KIND = "AuthorizationPolicy";
  public static final String PLURAL = "authorizationpolicies";
}
