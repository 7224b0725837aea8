package dev.capstan.nodeagent.authz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import dev.capstan.core.identity.SpiffeId;
import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.PolicyAction;
import dev.capstan.core.model.PolicyRule;
import dev.capstan.core.model.Workload;
import dev.capstan.nodeagent.authz.Authorizer.Decision;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * L4 authorization of a connection to {@code shop/backend} (labels {@code app=backend,
 * tier=api}) on port 8080, table-driven: each case names the policies, the peer, the port and the
 * expected decision with the policy that made it.
 */
class AuthorizerTest {

  private static final Workload BACKEND =
      new Workload("uid-backend", "backend-7d9f", "shop", "backend", List.of("10.0.0.2"), "node-1",
          Map.of("app", "backend", "tier", "api"), null);

  private static final SpiffeId FRONTEND = SpiffeId.of("cluster.local", "shop", "frontend");
  private static final SpiffeId BILLING = SpiffeId.of("cluster.local", "billing", "worker");
  private static final int PORT = 8080;

  private static final Decision NO_POLICY = new Decision(true, "none");
  private static final Decision NO_ALLOW_MATCHED = new Decision(false, "no ALLOW rule matched");

  private static AuthorizationPolicy allow(String name, PolicyRule... rules) {
    return new AuthorizationPolicy("shop", name, Map.of(), PolicyAction.ALLOW, List.of(rules));
  }

  private static AuthorizationPolicy deny(String name, PolicyRule... rules) {
    return new AuthorizationPolicy("shop", name, Map.of(), PolicyAction.DENY, List.of(rules));
  }

  private static PolicyRule principals(String... principals) {
    return new PolicyRule(List.of(principals), List.of(), List.of());
  }

  private static PolicyRule namespaces(String... namespaces) {
    return new PolicyRule(List.of(), List.of(namespaces), List.of());
  }

  private static PolicyRule ports(Integer... ports) {
    return new PolicyRule(List.of(), List.of(), List.of(ports));
  }

  private static PolicyRule anything() {
    return new PolicyRule(List.of(), List.of(), List.of());
  }

  private static PolicyRule withL7(PolicyRule l4, List<String> paths, List<String> methods) {
    return new PolicyRule(l4.principals(), l4.namespaces(), l4.ports(), paths, methods, Map.of());
  }

  private static AuthorizationPolicy targeted(String name, PolicyAction action, PolicyRule... rules) {
    return new AuthorizationPolicy("shop", name, Map.of(), action, List.of(rules), List.of("backend"));
  }

  private static Decision allowedBy(String policy) {
    return new Decision(true, "shop/" + policy);
  }

  private static Decision deniedBy(String policy) {
    return new Decision(false, "shop/" + policy);
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        argumentSet("no policy allows everything",
            List.of(), FRONTEND, PORT, NO_POLICY),
        argumentSet("ALLOW by matching principal",
            List.of(allow("frontend-only", principals(FRONTEND.uri()))), FRONTEND, PORT, allowedBy("frontend-only")),
        argumentSet("ALLOW by principal refuses another principal",
            List.of(allow("frontend-only", principals(FRONTEND.uri()))), BILLING, PORT, NO_ALLOW_MATCHED),
        argumentSet("principal must be the whole SPIFFE ID",
            List.of(allow("short-principal", principals("cluster.local/ns/shop/sa/frontend"))), FRONTEND, PORT,
            NO_ALLOW_MATCHED),
        argumentSet("principal of the same name in another trust domain does not match",
            List.of(allow("other-domain", principals("spiffe://other.example/ns/shop/sa/frontend"))), FRONTEND, PORT,
            NO_ALLOW_MATCHED),
        argumentSet("any of several principals matches",
            List.of(allow("two", principals(BILLING.uri(), FRONTEND.uri()))), FRONTEND, PORT, allowedBy("two")),
        argumentSet("'*' principal allows any peer",
            List.of(allow("anyone", principals("*"))), BILLING, PORT, allowedBy("anyone")),
        argumentSet("ALLOW by matching namespace",
            List.of(allow("same-namespace", namespaces("shop"))), FRONTEND, PORT, allowedBy("same-namespace")),
        argumentSet("ALLOW by namespace refuses another namespace",
            List.of(allow("same-namespace", namespaces("shop"))), BILLING, PORT, NO_ALLOW_MATCHED),
        argumentSet("ALLOW by matching port",
            List.of(allow("http", ports(80, PORT))), BILLING, PORT, allowedBy("http")),
        argumentSet("ALLOW by port refuses another port",
            List.of(allow("http", ports(80, PORT))), BILLING, 9090, NO_ALLOW_MATCHED),
        argumentSet("every field of a rule must match",
            List.of(allow("frontend-on-80", new PolicyRule(List.of(FRONTEND.uri()), List.of("shop"), List.of(80)))),
            FRONTEND, PORT, NO_ALLOW_MATCHED),
        argumentSet("one matching rule of several is enough",
            List.of(allow("either", principals(BILLING.uri()), ports(PORT))), FRONTEND, PORT, allowedBy("either")),
        argumentSet("ALLOW with an empty rule allows everything",
            List.of(allow("open", anything())), BILLING, 9090, allowedBy("open")),
        argumentSet("ALLOW with no rules allows nothing",
            List.of(allow("closed")), FRONTEND, PORT, NO_ALLOW_MATCHED),
        argumentSet("any ALLOW policy that matches allows",
            List.of(allow("billing-only", principals(BILLING.uri())), allow("frontend-only", principals(FRONTEND.uri()))),
            FRONTEND, PORT, allowedBy("frontend-only")),
        argumentSet("DENY wins over a matching ALLOW listed before it",
            List.of(allow("anyone", principals("*")), deny("no-frontend", principals(FRONTEND.uri()))),
            FRONTEND, PORT, deniedBy("no-frontend")),
        argumentSet("DENY wins over a matching ALLOW listed after it",
            List.of(deny("no-frontend", principals(FRONTEND.uri())), allow("anyone", principals("*"))),
            FRONTEND, PORT, deniedBy("no-frontend")),
        argumentSet("DENY alone refuses what it matches",
            List.of(deny("no-admin-port", ports(PORT))), FRONTEND, PORT, deniedBy("no-admin-port")),
        argumentSet("DENY with a non-matching rule does not deny",
            List.of(deny("no-billing", principals(BILLING.uri()))), FRONTEND, PORT, NO_POLICY),
        argumentSet("DENY with a non-matching rule leaves the ALLOW decision",
            List.of(deny("no-billing", principals(BILLING.uri())), allow("frontend-only", principals(FRONTEND.uri()))),
            FRONTEND, PORT, allowedBy("frontend-only")),
        argumentSet("DENY with no rules denies nothing",
            List.of(deny("empty-deny")), FRONTEND, PORT, NO_POLICY),
        argumentSet("ALLOW whose selector does not select the workload is ignored",
            List.of(new AuthorizationPolicy("shop", "db-only", Map.of("app", "db"), PolicyAction.ALLOW,
                List.of(principals(BILLING.uri())))),
            FRONTEND, PORT, NO_POLICY),
        argumentSet("DENY whose selector does not select the workload is ignored",
            List.of(new AuthorizationPolicy("shop", "db-deny", Map.of("app", "db"), PolicyAction.DENY, List.of(anything()))),
            FRONTEND, PORT, NO_POLICY),
        argumentSet("selector needs every label to match",
            List.of(new AuthorizationPolicy("shop", "api-db", Map.of("app", "backend", "tier", "db"), PolicyAction.DENY,
                List.of(anything()))),
            FRONTEND, PORT, NO_POLICY),
        argumentSet("selector whose labels all match applies",
            List.of(new AuthorizationPolicy("shop", "api", Map.of("app", "backend", "tier", "api"), PolicyAction.DENY,
                List.of(anything()))),
            FRONTEND, PORT, deniedBy("api")),
        argumentSet("ALLOW of another namespace is ignored",
            List.of(new AuthorizationPolicy("billing", "closed", Map.of(), PolicyAction.ALLOW, List.of())),
            FRONTEND, PORT, NO_POLICY),
        argumentSet("DENY of another namespace is ignored",
            List.of(new AuthorizationPolicy("billing", "deny-all", Map.of(), PolicyAction.DENY, List.of(anything()))),
            FRONTEND, PORT, NO_POLICY),
        argumentSet("ALLOW rule with L7 fields never matches at L4",
            List.of(allow("api-reads", withL7(principals(FRONTEND.uri()), List.of("/api/*"), List.of("GET")))),
            FRONTEND, PORT, NO_ALLOW_MATCHED),
        argumentSet("ALLOW policy with an L7 rule still allows by its L4 rule",
            List.of(allow("mixed", withL7(anything(), List.of("/admin"), List.of()), principals(FRONTEND.uri()))),
            FRONTEND, PORT, allowedBy("mixed")),
        argumentSet("DENY rule with L7 fields denies on its L4 fields alone",
            List.of(deny("no-frontend-deletes", withL7(principals(FRONTEND.uri()), List.of(), List.of("DELETE")))),
            FRONTEND, PORT, deniedBy("no-frontend-deletes")),
        argumentSet("DENY rule with L7 fields whose L4 fields do not match does not deny",
            List.of(deny("no-billing-deletes", withL7(principals(BILLING.uri()), List.of(), List.of("DELETE")))),
            FRONTEND, PORT, NO_POLICY),
        argumentSet("DENY rule with only L7 fields denies every connection",
            List.of(deny("no-admin-path", withL7(anything(), List.of("/admin*"), List.of()))),
            BILLING, PORT, deniedBy("no-admin-path")),
        argumentSet("ALLOW targeted at services is the waypoint's, not applied here",
            List.of(targeted("backend-closed", PolicyAction.ALLOW)), FRONTEND, PORT, NO_POLICY),
        argumentSet("DENY targeted at services is the waypoint's, not applied here",
            List.of(targeted("backend-deny-all", PolicyAction.DENY, anything())), FRONTEND, PORT, NO_POLICY));
  }

  @ParameterizedTest(name = "{argumentSetName}")
  @MethodSource("cases")
  void decides(List<AuthorizationPolicy> policies, SpiffeId peer, int port, Decision expected) {
    assertThat(Authorizer.check(policies, BACKEND, peer, port)).isEqualTo(expected);
  }

  static Stream<Arguments> plaintextCases() {
    return Stream.of(
        argumentSet("no policy: plaintext allowed (permissive)", List.of(), PORT, NO_POLICY),
        argumentSet("ALLOW any principal requires mutual TLS: plaintext refused",
            List.of(allow("require-mtls", principals("*"))), PORT, NO_ALLOW_MATCHED),
        argumentSet("ALLOW by namespace never matches plaintext",
            List.of(allow("from-shop", namespaces("shop"))), PORT, NO_ALLOW_MATCHED),
        argumentSet("ALLOW by port only matches plaintext on that port",
            List.of(allow("port-8080", ports(8080))), PORT, new Decision(true, "shop/port-8080")),
        argumentSet("DENY by port refuses plaintext too",
            List.of(deny("no-8080", ports(8080))), PORT, new Decision(false, "shop/no-8080")),
        argumentSet("DENY naming principals does not apply to plaintext",
            List.of(deny("no-frontend", principals(FRONTEND.uri()))), PORT, NO_POLICY),
        argumentSet("ALLOW by port with L7 fields never matches plaintext",
            List.of(allow("port-8080-gets", withL7(ports(8080), List.of(), List.of("GET")))), PORT, NO_ALLOW_MATCHED),
        argumentSet("DENY by port with L7 fields refuses plaintext on that port",
            List.of(deny("no-8080-posts", withL7(ports(8080), List.of(), List.of("POST")))), PORT,
            new Decision(false, "shop/no-8080-posts")));
  }

  @ParameterizedTest(name = "{argumentSetName}")
  @MethodSource("plaintextCases")
  void decides_plaintext_from_outside_the_mesh(List<AuthorizationPolicy> policies, int port, Decision expected) {
    assertThat(Authorizer.checkPlaintext(policies, BACKEND, port)).isEqualTo(expected);
  }
}
