package dev.capstan.waypoint.authz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.argumentSet;

import dev.capstan.core.model.AuthorizationPolicy;
import dev.capstan.core.model.PolicyAction;
import dev.capstan.core.model.PolicyRule;
import dev.capstan.waypoint.authz.RequestAuthorization.Verdict;
import dev.capstan.waypoint.route.RequestView;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * L7 authorization of requests to service {@code shop/reviews} port 9080, table-driven: each case
 * names the policies, the source, the request and the verdict with the deciding policy.
 */
class RequestAuthorizationTest {

  private static final String WEB = "spiffe://cluster.local/ns/shop/sa/web";
  private static final String BATCH = "spiffe://cluster.local/ns/jobs/sa/batch";
  private static final int PORT = 9080;

  private record Request(String method, String path, Map<String, List<String>> head) implements RequestView {
    @Override
    public String authority() {
      return "reviews.shop:9080";
    }

    @Override
    public String query() {
      return "";
    }

    @Override
    public List<String> headers(String name) {
      return head.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
    }
  }

  private static Request get(String path) {
    return new Request("GET", path, Map.of());
  }

  private static Request request(String method, String path, Map<String, List<String>> headers) {
    return new Request(method, path, headers);
  }

  /** A rule: principals, then paths, methods, headers. */
  private static PolicyRule rule(List<String> principals, List<String> paths, List<String> methods,
      Map<String, List<String>> headers) {
    return new PolicyRule(principals, List.of(), List.of(), paths, methods, headers);
  }

  private static PolicyRule paths(String... paths) {
    return rule(List.of(), List.of(paths), List.of(), Map.of());
  }

  private static AuthorizationPolicy policy(String name, PolicyAction action, PolicyRule... rules) {
    return new AuthorizationPolicy("shop", name, Map.of(), action, List.of(rules), List.of("reviews"));
  }

  private static AuthorizationPolicy allow(String name, PolicyRule... rules) {
    return policy(name, PolicyAction.ALLOW, rules);
  }

  private static AuthorizationPolicy deny(String name, PolicyRule... rules) {
    return policy(name, PolicyAction.DENY, rules);
  }

  private static final Verdict NO_POLICY = new Verdict(true, "none", "no policy");
  private static final Verdict NO_ALLOW = new Verdict(false, null, "no ALLOW rule matched");

  private static Verdict allowedBy(String name) {
    return new Verdict(true, "shop/" + name, "allowed by shop/" + name);
  }

  private static Verdict deniedBy(String name) {
    return new Verdict(false, "shop/" + name, "denied by shop/" + name);
  }

  static Stream<Arguments> cases() {
    PolicyRule readsFromWeb = rule(List.of(WEB), List.of("/reviews/*"), List.of("GET", "HEAD"), Map.of());
    return Stream.of(
        argumentSet("no policy allows everything", List.of(), WEB, get("/anything"), NO_POLICY),
        argumentSet("exact path allows", List.of(allow("health", paths("/health"))), BATCH, get("/health"), allowedBy("health")),
        argumentSet("exact path refuses a longer path", List.of(allow("health", paths("/health"))), BATCH, get("/healthz"), NO_ALLOW),
        argumentSet("prefix path allows below it", List.of(allow("api", paths("/api/*"))), BATCH, get("/api/v1/items"), allowedBy("api")),
        argumentSet("prefix path refuses a sibling", List.of(allow("api", paths("/api/*"))), BATCH, get("/apix"), NO_ALLOW),
        argumentSet("suffix path allows", List.of(allow("css", paths("*.css"))), BATCH, get("/static/site.css"), allowedBy("css")),
        argumentSet("'*' path allows any path", List.of(allow("any", paths("*"))), BATCH, get("/x/y"), allowedBy("any")),
        argumentSet("the query is not part of the path", List.of(allow("health", paths("/health"))), BATCH,
            get("/health"), allowedBy("health")),
        argumentSet("principal, path and method must all match", List.of(allow("reads", readsFromWeb)), WEB,
            get("/reviews/1"), allowedBy("reads")),
        argumentSet("another method is refused", List.of(allow("reads", readsFromWeb)), WEB,
            request("DELETE", "/reviews/1", Map.of()), NO_ALLOW),
        argumentSet("another principal is refused", List.of(allow("reads", readsFromWeb)), BATCH, get("/reviews/1"), NO_ALLOW),
        argumentSet("no identity never matches a principal", List.of(allow("reads", readsFromWeb)), null, get("/reviews/1"), NO_ALLOW),
        argumentSet("'*' principal needs an identity", List.of(allow("mtls", rule(List.of("*"), List.of(), List.of(), Map.of()))),
            null, get("/"), NO_ALLOW),
        argumentSet("source namespace from the SPIFFE ID",
            List.of(allow("from-jobs", new PolicyRule(List.of(), List.of("jobs"), List.of()))), BATCH, get("/"), allowedBy("from-jobs")),
        argumentSet("service port", List.of(allow("port", new PolicyRule(List.of(), List.of(), List.of(PORT)))), BATCH,
            get("/"), allowedBy("port")),
        argumentSet("another service port is refused", List.of(allow("port", new PolicyRule(List.of(), List.of(), List.of(80)))),
            BATCH, get("/"), NO_ALLOW),
        argumentSet("header value exact", List.of(allow("gold", rule(List.of(), List.of(), List.of(), Map.of("x-tenant", List.of("gold"))))),
            BATCH, request("GET", "/", Map.of("x-tenant", List.of("gold"))), allowedBy("gold")),
        argumentSet("header value prefix, name case-insensitive",
            List.of(allow("gold", rule(List.of(), List.of(), List.of(), Map.of("X-Tenant", List.of("gold-*"))))),
            BATCH, request("GET", "/", Map.of("x-tenant", List.of("silver", "gold-eu"))), allowedBy("gold")),
        argumentSet("header absent is refused", List.of(allow("gold", rule(List.of(), List.of(), List.of(), Map.of("x-tenant", List.of("*"))))),
            BATCH, get("/"), NO_ALLOW),
        argumentSet("every header named must match",
            List.of(allow("both", rule(List.of(), List.of(), List.of(), Map.of("x-a", List.of("1"), "x-b", List.of("2"))))),
            BATCH, request("GET", "/", Map.of("x-a", List.of("1"))), NO_ALLOW),
        argumentSet("DENY wins over a matching ALLOW", List.of(allow("any", paths("*")), deny("no-admin", paths("/admin*"))),
            WEB, get("/admin/users"), deniedBy("no-admin")),
        argumentSet("DENY that does not match leaves the ALLOW decision",
            List.of(allow("any", paths("*")), deny("no-admin", paths("/admin*"))), WEB, get("/reviews"), allowedBy("any")),
        argumentSet("DENY alone allows what it does not match", List.of(deny("no-deletes", rule(List.of(), List.of(), List.of("DELETE"), Map.of()))),
            WEB, get("/reviews"), NO_POLICY),
        argumentSet("DENY of a method", List.of(deny("no-deletes", rule(List.of(), List.of(), List.of("DELETE"), Map.of()))),
            WEB, request("DELETE", "/reviews/1", Map.of()), deniedBy("no-deletes")),
        argumentSet("DENY is not evaded by a doubled slash", List.of(deny("no-admin", paths("/admin*"))), WEB, get("//admin"), deniedBy("no-admin")),
        argumentSet("DENY is not evaded by a dot segment", List.of(deny("no-admin", paths("/admin*"))), WEB,
            get("/public/../admin"), deniedBy("no-admin")),
        argumentSet("DENY is not evaded by percent-encoding", List.of(deny("no-admin", paths("/admin*"))), WEB,
            get("/%61dmin"), deniedBy("no-admin")),
        argumentSet("ALLOW with no rules allows nothing", List.of(allow("closed")), WEB, get("/"), NO_ALLOW),
        argumentSet("DENY with no rules denies nothing", List.of(deny("empty")), WEB, get("/"), NO_POLICY),
        argumentSet("any matching ALLOW policy allows", List.of(allow("a", paths("/a")), allow("b", paths("/b"))), WEB,
            get("/b"), allowedBy("b")),
        argumentSet("a policy targeting another service does not apply",
            List.of(new AuthorizationPolicy("shop", "ratings-closed", Map.of(), PolicyAction.ALLOW, List.of(), List.of("ratings"))),
            WEB, get("/"), NO_POLICY),
        argumentSet("a selector-bound policy is the node agents', not the waypoint's",
            List.of(new AuthorizationPolicy("shop", "l4-closed", Map.of(), PolicyAction.ALLOW, List.of())),
            WEB, get("/"), NO_POLICY),
        argumentSet("a policy of another namespace naming the same service does not apply",
            List.of(new AuthorizationPolicy("jobs", "closed", Map.of(), PolicyAction.ALLOW, List.of(), List.of("reviews"))),
            WEB, get("/"), NO_POLICY));
  }

  @ParameterizedTest(name = "{argumentSetName}")
  @MethodSource("cases")
  void decides(List<AuthorizationPolicy> policies, String source, RequestView request, Verdict expected) {
    assertThat(new ServiceAuthorizations(policies).forService("shop", "reviews").check(source, PORT, request))
        .isEqualTo(expected);
  }

  @ParameterizedTest(name = "{0} → {1}")
  @CsvSource({
      "/a/b, /a/b",
      "/, /",
      "//admin, /admin",
      "/a//b///c, /a/b/c",
      "/a/./b, /a/b",
      "/a/b/.., /a/",
      "/a/b/../c, /a/c",
      "/../../admin, /admin",
      "/%61dmin, /admin",
      "/%2e%2e/admin, /admin",
      "/a%2Fb, /a%2Fb",
      "/a%5C..%5Cadmin, /a%5C..%5Cadmin",
      "/100%25, /100%25",
      "/bad%zz, /bad%zz",
      "/a/, /a/",
      "/a/., /a/"
  })
  void paths_are_normalized_before_matching(String path, String normalized) {
    assertThat(RequestPaths.normalize(path)).isEqualTo(normalized);
  }

  @Test
  void a_service_without_targeted_policies_needs_no_check() {
    ServiceAuthorizations none = new ServiceAuthorizations(List.of(
        new AuthorizationPolicy("shop", "l4", Map.of(), PolicyAction.DENY, List.of(paths("/x")))));

    assertThat(none.forService("shop", "reviews")).isSameAs(RequestAuthorization.NONE);
    assertThat(RequestAuthorization.NONE.any()).isFalse();
  }
}
