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
import dev.capstan.core.model.HttpRoute.PathRewrite;
import dev.capstan.core.model.HttpRoute.PathType;
import dev.capstan.core.model.HttpRoute.Timeouts;
import dev.capstan.core.model.HttpRoute.ValueMatch;
import dev.capstan.core.model.HttpRoute.ValueType;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** HTTPRoute manifests as users write them for GAMMA, into the model; what the waypoint cannot do is an error naming the field. */
class HttpRouteManifestTest {

  private static final String CANARY = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata:
        name: reviews
        namespace: shop
        creationTimestamp: "2026-11-22T10:00:00Z"
      spec:
        parentRefs:
        - {group: "", kind: Service, name: reviews, port: 9080}
        - {name: public-gateway}
        hostnames: [reviews.shop]
        rules:
        - matches:
          - headers: [{name: x-canary, value: always}]
          - path: {type: RegularExpression, value: "/v2/.*"}
            method: GET
            queryParams: [{type: RegularExpression, name: page, value: "[0-9]+"}]
          backendRefs: [{name: reviews-v2, port: 9080}]
        - matches: [{path: {type: PathPrefix, value: /reviews}}]
          filters:
          - type: RequestHeaderModifier
            requestHeaderModifier: {set: [{name: x-route, value: canary}], add: [{name: x-tag, value: a}], remove: [x-debug]}
          - type: RequestMirror
            requestMirror: {backendRef: {name: shadow, port: 9080}, percent: 10}
          backendRefs:
          - {name: reviews-v1, port: 9080, weight: 90}
          - name: reviews-v2
            port: 9080
            weight: 10
            filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {set: [{name: x-version, value: v2}]}}]
          timeouts: {request: 10s, backendRequest: 2s}
        - matches: [{path: {type: Exact, value: /old}}]
          filters:
          - type: RequestRedirect
            requestRedirect: {scheme: https, path: {type: ReplaceFullPath, replaceFullPath: /reviews}, statusCode: 301}
        - matches: [{path: {value: /api}}]
          filters: [{type: URLRewrite, urlRewrite: {hostname: api.internal, path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}}]
          backendRefs: [{name: api, namespace: platform, port: 80}]
      """;

  @Test
  void a_gamma_canary_route_reads_into_the_model() {
    HttpRoute r = HttpRouteManifest.parse(CANARY, "reviews.yaml");

    assertThat(r.key()).isEqualTo("shop/reviews");
    assertThat(r.createdAt()).isEqualTo(1_795_341_600L);
    assertThat(r.parents()).as("the Gateway parent is not the waypoint's").containsExactly(new ParentRef("shop/reviews", 9080));
    assertThat(r.hostnames()).containsExactly("reviews.shop");
    assertThat(r.rules()).hasSize(4);

    var header = r.rules().get(0);
    assertThat(header.matches()).hasSize(2);
    assertThat(header.matches().get(0).headers()).containsExactly(new ValueMatch(ValueType.EXACT, "x-canary", "always"));
    assertThat(header.matches().get(1).path()).contains(new PathMatch(PathType.REGULAR_EXPRESSION, "/v2/.*"));
    assertThat(header.matches().get(1).method()).isEqualTo("GET");
    assertThat(header.matches().get(1).query()).containsExactly(new ValueMatch(ValueType.REGULAR_EXPRESSION, "page", "[0-9]+"));
    assertThat(header.backends()).containsExactly(new Backend("shop/reviews-v2", 9080, 1));

    var canary = r.rules().get(1);
    assertThat(canary.filters()).containsExactly(
        new Filter.RequestHeaders(new HeaderChanges(Map.of("x-route", "canary"), Map.of("x-tag", "a"), List.of("x-debug"))),
        new Filter.Mirror("shop/shadow", 9080, 10));
    assertThat(canary.backends()).containsExactly(
        new Backend("shop/reviews-v1", 9080, 90),
        new Backend("shop/reviews-v2", 9080, 10,
            List.of(new Filter.ResponseHeaders(new HeaderChanges(Map.of("x-version", "v2"), Map.of(), List.of())))));
    assertThat(canary.timeouts()).isEqualTo(new Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(2)));

    assertThat(r.rules().get(2).filters()).containsExactly(
        new Filter.Redirect("https", null, new PathRewrite("/reviews", null), 0, 301));
    var rewrite = r.rules().get(3);
    assertThat(rewrite.matches().get(0).path()).contains(new PathMatch(PathType.PATH_PREFIX, "/api"));
    assertThat(rewrite.filters()).containsExactly(new Filter.Rewrite("api.internal", new PathRewrite(null, "/")));
    assertThat(rewrite.backends()).containsExactly(new Backend("platform/api", 80, 1));
  }

  @Test
  void a_rule_without_matches_matches_all_and_a_zero_timeout_is_none() {
    HttpRoute r = HttpRouteManifest.parse("""
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: all, namespace: shop}
        spec:
          parentRefs: [{kind: Service, group: "", name: web}]
          rules: [{backendRefs: [{name: web-v2, port: 80}], timeouts: {request: 0s}}]
        """, "all.yaml");

    assertThat(r.parents()).containsExactly(new ParentRef("shop/web", 0));
    assertThat(r.rules().get(0).matches()).isEmpty();
    assertThat(r.rules().get(0).timeouts()).as("a zero timeout is none").isEqualTo(Timeouts.NONE);
    assertThat(r.createdAt()).isZero();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "an unsupported filter | filters: [{type: ExtensionRef, extensionRef: {name: x}}] | filter 'ExtensionRef' is not supported",
      "a backend that is not a Service | backendRefs: [{kind: ServiceImport, group: multicluster.x-k8s.io, name: a, port: 80}] | only Service backends",
      "a Service backend without a port | backendRefs: [{name: a}] | port is required",
      "a path that does not start with a slash | matches: [{path: {type: PathPrefix, value: api}}] | must start with /",
      "a path type the spec does not have | matches: [{path: {type: Glob, value: /a}}] | must be Exact, PathPrefix or RegularExpression",
      "a try timeout longer than the request's | timeouts: {request: 1s, backendRequest: 2s} | must not be longer than request",
      "a duration the waypoint cannot read | timeouts: {request: 1m30s} | must be a duration",
      "a field the waypoint does not know | matches: [{path: {value: /a}, pathPrefix: /b}] | pathPrefix",
      "a redirect status other than 301 or 302 | filters: [{type: RequestRedirect, requestRedirect: {statusCode: 307}}] | statusCode",
      "retries in the route | retry: {attempts: 3} | not supported by the waypoint"})
  void what_the_waypoint_cannot_do_is_an_error_naming_the_field(String behaviour, String rule, String message) {
    String manifest = """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: r, namespace: shop}
        spec:
          parentRefs: [{kind: Service, group: "", name: web}]
          rules:
          - %s
        """.formatted(rule);

    assertThatThrownBy(() -> HttpRouteManifest.parse(manifest, "r.yaml")).as(behaviour)
        .isInstanceOf(ConfigException.class).hasMessageContaining("r.yaml").hasMessageContaining(message);
  }

  @Test
  void only_httproutes_of_gateway_api_are_read() {
    assertThatThrownBy(() -> HttpRouteManifest.parse("apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {}\n", "s.yaml"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("apiVersion must be gateway.networking.k8s.io/v1");
    assertThatThrownBy(() -> HttpRouteManifest.parse(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GRPCRoute\nmetadata: {name: a}\nspec: {}\n", "g.yaml"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("kind must be HTTPRoute");
  }
}
