package dev.capstan.core.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.capstan.core.config.ConfigException;
import dev.capstan.core.model.HttpRoute;
import dev.capstan.core.model.HttpRoute.Backend;
import dev.capstan.core.model.HttpRoute.Filter;
import dev.capstan.core.model.HttpRoute.HeaderChanges;
import dev.capstan.core.model.HttpRoute.ParentRef;
import dev.capstan.core.model.HttpRoute.PathMatch;
import dev.capstan.core.model.HttpRoute.PathType;
import dev.capstan.core.model.HttpRoute.Timeouts;
import dev.capstan.core.model.HttpRoute.ValueMatch;
import dev.capstan.core.model.HttpRoute.ValueType;
import dev.capstan.core.model.RouteManifest;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** GRPCRoute v1 manifests into the HTTP route model: method matches become path matches. */
class GrpcRouteManifestTest {

  private static String route(String rules) {
    return """
        apiVersion: gateway.networking.k8s.io/v1
        kind: GRPCRoute
        metadata: {name: users, namespace: shop, creationTimestamp: "2026-11-22T10:00:00Z"}
        spec:
          parentRefs:
          - {group: "", kind: Service, name: users, port: 9090}
          - {name: public-gateway}
          hostnames: [users.shop]
          rules:
        %s
        """.formatted(rules.indent(2));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "exact service and method is an exact path | {type: Exact, service: shop.v1.Users, method: GetUser} | EXACT | /shop.v1.Users/GetUser",
      "the default type is Exact | {service: shop.v1.Users, method: GetUser} | EXACT | /shop.v1.Users/GetUser",
      "an exact service alone is every method of it | {service: shop.v1.Users} | PATH_PREFIX | /shop.v1.Users",
      "an exact method alone is that method of any service | {method: GetUser} | REGULAR_EXPRESSION | /[^/]+/\\QGetUser\\E",
      "an empty service counts as absent | {service: '', method: GetUser} | REGULAR_EXPRESSION | /[^/]+/\\QGetUser\\E",
      "a service regular expression | {type: RegularExpression, service: 'shop\\.v[0-9]+\\.Users'} | REGULAR_EXPRESSION | /(?:shop\\.v[0-9]+\\.Users)/[^/]+",
      "a method regular expression | {type: RegularExpression, method: 'Get.*'} | REGULAR_EXPRESSION | /[^/]+/(?:Get.*)",
      "both regular expressions | {type: RegularExpression, service: 'shop\\..*', method: 'List.*'} | REGULAR_EXPRESSION | /(?:shop\\..*)/(?:List.*)"})
  void method_matches_become_path_matches(String behaviour, String method, PathType type, String path) {
    HttpRoute r = GrpcRouteManifest.parse(route("- matches: [{method: " + method + "}]\n  backendRefs: [{name: users, port: 9090}]"),
        "users.yaml");

    assertThat(r.rules().get(0).matches().get(0).path()).as(behaviour).contains(new PathMatch(type, path));
    assertThat(r.rules().get(0).matches().get(0).method()).as("gRPC is always POST: no method match").isNull();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "an exact method takes only that method, of any service | {method: GetUser} | /shop.v1.Users/GetUser | /shop.v1.Users/GetUsers",
      "a service regular expression takes the whole element | {type: RegularExpression, service: 'shop\\.v1\\..*'} | /shop.v1.Users/GetUser | /shop.v2.Users/GetUser",
      "a method regular expression does not cross elements | {type: RegularExpression, method: 'Get[A-Z][a-z]+'} | /a.B/GetUser | /a.B/GetUser/extra"})
  void regular_expressions_match_the_whole_path_as_the_waypoint_compares_them(String behaviour, String method, String taken,
      String notTaken) {
    PathMatch path = GrpcRouteManifest.parse(route("- matches: [{method: " + method + "}]"), "u.yaml")
        .rules().get(0).matches().get(0).path().orElseThrow();
    Pattern p = Pattern.compile(path.value());
    assertThat(p.matcher(taken).matches()).as(behaviour + ": " + taken).isTrue();
    assertThat(p.matcher(notTaken).matches()).as(behaviour + ": " + notTaken).isFalse();
  }

  @Test
  void headers_filters_and_weighted_backends_read_as_in_an_httproute() {
    HttpRoute r = GrpcRouteManifest.parse(route("""
        - matches:
          - method: {service: shop.v1.Users, method: GetUser}
            headers: [{name: x-canary, value: "yes"}, {type: RegularExpression, name: x-user, value: "[0-9]+"}]
          filters:
          - type: RequestHeaderModifier
            requestHeaderModifier: {set: [{name: x-route, value: canary}]}
          - type: RequestMirror
            requestMirror: {backendRef: {name: users-shadow, port: 9090}, percent: 5}
          backendRefs:
          - {name: users-v1, port: 9090, weight: 90}
          - name: users-v2
            namespace: next
            port: 9090
            weight: 10
            filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {add: [{name: x-version, value: v2}]}}]
        """), "users.yaml");

    assertThat(r.key()).isEqualTo("shop/users");
    assertThat(r.createdAt()).isEqualTo(1_795_341_600L);
    assertThat(r.parents()).as("the Gateway parent is not the waypoint's").containsExactly(new ParentRef("shop/users", 9090));
    assertThat(r.hostnames()).containsExactly("users.shop");
    var rule = r.rules().get(0);
    assertThat(rule.matches().get(0).headers()).containsExactly(
        new ValueMatch(ValueType.EXACT, "x-canary", "yes"), new ValueMatch(ValueType.REGULAR_EXPRESSION, "x-user", "[0-9]+"));
    assertThat(rule.filters()).containsExactly(
        new Filter.RequestHeaders(new HeaderChanges(Map.of("x-route", "canary"), Map.of(), List.of())),
        new Filter.Mirror("shop/users-shadow", 9090, 5));
    assertThat(rule.backends()).containsExactly(
        new Backend("shop/users-v1", 9090, 90),
        new Backend("next/users-v2", 9090, 10,
            List.of(new Filter.ResponseHeaders(new HeaderChanges(Map.of(), Map.of("x-version", "v2"), List.of())))));
    assertThat(rule.timeouts()).isEqualTo(Timeouts.NONE);
  }

  @Test
  void a_rule_without_matches_takes_every_call() {
    HttpRoute r = GrpcRouteManifest.parse(route("- backendRefs: [{name: users-v2, port: 9090}]"), "users.yaml");

    assertThat(r.rules().get(0).matches()).isEmpty();
    assertThat(r.rules().get(0).backends()).containsExactly(new Backend("shop/users-v2", 9090, 1));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "a method match naming neither service nor method | matches: [{method: {type: Exact}}] | one or both of service and method",
      "an exact service with a slash | matches: [{method: {service: a/b}}] | method.service must be a gRPC service name",
      "an exact method that is not a name | matches: [{method: {method: 'Get User'}}] | method.method must be a gRPC method name",
      "a regular expression that does not compile | matches: [{method: {type: RegularExpression, method: 'Get(('}}] | method.method is not a valid regular expression",
      "a match type the spec does not have | matches: [{method: {type: Prefix, service: a.B}}] | method.type must be Exact or RegularExpression",
      "a header match type the spec does not have | matches: [{headers: [{type: Prefix, name: a, value: b}]}] | must be Exact or RegularExpression",
      "a path match, which GRPCRoute does not have | matches: [{path: {value: /a}}] | path is not a known field",
      "an ExtensionRef filter | filters: [{type: ExtensionRef, extensionRef: {group: x, kind: Y, name: z}}] | filter 'ExtensionRef' is not supported",
      "a redirect, which GRPCRoute does not have | filters: [{type: RequestRedirect, requestRedirect: {statusCode: 301}}] | filter 'RequestRedirect' is not supported",
      "a backend that is not a Service | backendRefs: [{kind: ServiceImport, group: multicluster.x-k8s.io, name: a, port: 80}] | only Service backends",
      "a Service backend without a port | backendRefs: [{name: a}] | port is required",
      "session persistence | sessionPersistence: {sessionName: s} | sessionPersistence is not supported",
      "timeouts, which GRPCRoute does not have | timeouts: {request: 1s} | timeouts is not a known field"})
  void what_the_waypoint_cannot_do_is_an_error_naming_the_field(String behaviour, String rule, String message) {
    assertThatThrownBy(() -> GrpcRouteManifest.parse(route("- " + rule), "users.yaml")).as(behaviour)
        .isInstanceOf(ConfigException.class).hasMessageContaining("users.yaml").hasMessageContaining(message);
  }

  @Test
  void only_v1_grpcroutes_are_read_and_routes_dispatch_by_kind() {
    assertThatThrownBy(() -> GrpcRouteManifest.parse(
        "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: GRPCRoute\nmetadata: {name: a}\nspec: {}\n", "g.yaml"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("apiVersion must be gateway.networking.k8s.io/v1");
    assertThatThrownBy(() -> GrpcRouteManifest.parse(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: a}\nspec: {}\n", "h.yaml"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("kind must be GRPCRoute");

    HttpRoute grpc = Routes.parse(new RouteManifest(RouteManifest.GRPC_ROUTE, "shop", "users", route("- matches: [{method: {method: A}}]")));
    assertThat(grpc.rules().get(0).matches().get(0).path()).contains(new PathMatch(PathType.REGULAR_EXPRESSION, "/[^/]+/\\QA\\E"));
    assertThatThrownBy(() -> Routes.parse(new RouteManifest(RouteManifest.HTTP_ROUTE, "shop", "users", route("- {}"))))
        .as("an HTTPRoute key names a GRPCRoute manifest").isInstanceOf(ConfigException.class)
        .hasMessageContaining("HTTPRoute/shop/users").hasMessageContaining("kind must be HTTPRoute");
  }
}
