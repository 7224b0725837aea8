package dev.capstan.waypoint.route;

import static org.assertj.core.api.Assertions.assertThat;

import dev.capstan.core.model.HttpRoute;
import dev.capstan.core.model.HttpRoute.Backend;
import dev.capstan.core.model.HttpRoute.Filter;
import dev.capstan.core.model.HttpRoute.HeaderChanges;
import dev.capstan.core.model.HttpRoute.Match;
import dev.capstan.core.model.HttpRoute.ParentRef;
import dev.capstan.core.model.HttpRoute.PathMatch;
import dev.capstan.core.model.HttpRoute.PathRewrite;
import dev.capstan.core.model.HttpRoute.PathType;
import dev.capstan.core.model.HttpRoute.Rule;
import dev.capstan.core.model.HttpRoute.Timeouts;
import dev.capstan.core.model.HttpRoute.ValueMatch;
import dev.capstan.core.model.HttpRoute.ValueType;
import dev.capstan.waypoint.route.RouteTable.Decision;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Which rule and backend a request gets, table-driven, with the spec's precedence and filters. */
class RouteTableTest {

  private static final String SVC = "shop/reviews";
  private static final IntUnaryOperator FIRST = bound -> 0;

  /** A request head. */
  record Req(String method, String authority, String path, String query, Map<String, List<String>> headers)
      implements RequestView {
    static Req get(String pathAndQuery) {
      int q = pathAndQuery.indexOf('?');
      return new Req("GET", "reviews.shop:9080", q < 0 ? pathAndQuery : pathAndQuery.substring(0, q),
          q < 0 ? "" : pathAndQuery.substring(q + 1), Map.of());
    }

    Req method(String m) {
      return new Req(m, authority, path, query, headers);
    }

    Req header(String name, String value) {
      Map<String, List<String>> h = new HashMap<>(headers);
      h.computeIfAbsent(name.toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(value);
      return new Req(method, authority, path, query, h);
    }

    Req authority(String a) {
      return new Req(method, a, path, query, headers);
    }

    @Override
    public List<String> headers(String name) {
      return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
    }
  }

  // ------------------------------------------------------------------ builders

  private static HttpRoute route(String name, long createdAt, Rule... rules) {
    return new HttpRoute("shop", name, createdAt, List.of(new ParentRef(SVC, 0)), List.of(), List.of(rules));
  }

  private static Rule to(String backend, Match... matches) {
    return new Rule(List.of(matches), List.of(), List.of(new Backend("shop/" + backend, 9080, 1)), null);
  }

  private static Match path(PathType type, String value) {
    return new Match(Optional.of(new PathMatch(type, value)), List.of(), List.of(), null);
  }

  private static Match prefix(String value) {
    return path(PathType.PATH_PREFIX, value);
  }

  private static Match exact(String value) {
    return path(PathType.EXACT, value);
  }

  private static Match withHeaders(Match m, ValueMatch... headers) {
    return new Match(m.path(), List.of(headers), m.query(), m.method());
  }

  private static Match withQuery(Match m, ValueMatch... query) {
    return new Match(m.path(), m.headers(), List.of(query), m.method());
  }

  private static Match withMethod(Match m, String method) {
    return new Match(m.path(), m.headers(), m.query(), method);
  }

  private static ValueMatch eq(String name, String value) {
    return new ValueMatch(ValueType.EXACT, name, value);
  }

  private static ValueMatch re(String name, String value) {
    return new ValueMatch(ValueType.REGULAR_EXPRESSION, name, value);
  }

  private static String backendOf(List<HttpRoute> routes, Req request) {
    Decision d = RouteTable.compile(routes, SVC, 9080).route(request, FIRST);
    return d instanceof Decision.Forward f ? f.backend().service().substring("shop/".length()) : d.getClass().getSimpleName();
  }

  // ------------------------------------------------------------------ which rule

  static Stream<Arguments> precedence() {
    return Stream.of(
        Arguments.of("an exact path beats a longer prefix",
            List.of(route("r", 1, to("prefix", prefix("/api/v1/items")), to("exact", exact("/api/v1/items")))),
            Req.get("/api/v1/items"), "exact"),
        Arguments.of("the longest prefix wins",
            List.of(route("r", 1, to("short", prefix("/api")), to("long", prefix("/api/v1")))),
            Req.get("/api/v1/items"), "long"),
        Arguments.of("a prefix matches whole path elements only",
            List.of(route("r", 1, to("shop", prefix("/shop")), to("root", prefix("/")))),
            Req.get("/shopping"), "root"),
        Arguments.of("a prefix matches the path itself and below it",
            List.of(route("r", 1, to("shop", prefix("/shop/")))),
            Req.get("/shop"), "shop"),
        Arguments.of("a regular-expression path sits between exact and prefix",
            List.of(route("r", 1, to("prefix", prefix("/items")), to("regex", path(PathType.REGULAR_EXPRESSION, "/items/[0-9]+")))),
            Req.get("/items/42"), "regex"),
        Arguments.of("a regular expression must match the whole path",
            List.of(route("r", 1, to("regex", path(PathType.REGULAR_EXPRESSION, "/items/[0-9]+")), to("root", prefix("/")))),
            Req.get("/items/42/reviews"), "root"),
        Arguments.of("with equal paths, a method match wins",
            List.of(route("r", 1, to("any", prefix("/")), to("post", withMethod(prefix("/"), "POST")))),
            Req.get("/x").method("POST"), "post"),
        Arguments.of("a method match does not take other methods",
            List.of(route("r", 1, to("any", prefix("/")), to("post", withMethod(prefix("/"), "POST")))),
            Req.get("/x"), "any"),
        Arguments.of("with equal paths and methods, more header matches win",
            List.of(route("r", 1,
                to("one", withHeaders(prefix("/"), eq("x-user", "jason"))),
                to("two", withHeaders(prefix("/"), eq("x-user", "jason"), eq("x-beta", "1"))))),
            Req.get("/").header("X-User", "jason").header("x-beta", "1"), "two"),
        Arguments.of("header names are case-insensitive, values exact",
            List.of(route("r", 1, to("jason", withHeaders(prefix("/"), eq("End-User", "jason"))), to("root", prefix("/")))),
            Req.get("/").header("end-user", "Jason"), "root"),
        Arguments.of("a header regular expression matches any of the header's values",
            List.of(route("r", 1, to("mobile", withHeaders(prefix("/"), re("user-agent", ".*Mobile.*"))), to("root", prefix("/")))),
            Req.get("/").header("User-Agent", "curl/8").header("User-Agent", "Foo Mobile Safari"), "mobile"),
        Arguments.of("query parameters match after percent-decoding",
            List.of(route("r", 1, to("q", withQuery(prefix("/"), eq("name", "a b"))), to("root", prefix("/")))),
            Req.get("/search?x=1&name=a%20b"), "q"),
        Arguments.of("with equal paths, more query matches win",
            List.of(route("r", 1,
                to("one", withQuery(prefix("/"), eq("v", "2"))),
                to("two", withQuery(prefix("/"), eq("v", "2"), eq("canary", "true"))))),
            Req.get("/?canary=true&v=2"), "two"),
        Arguments.of("an exact path beats more header matches",
            List.of(route("r", 1, to("headers", withHeaders(prefix("/a"), eq("x", "1"))), to("exact", exact("/a")))),
            Req.get("/a").header("x", "1"), "exact"),
        Arguments.of("on a full tie the oldest route wins",
            List.of(route("newer", 20, to("newer", prefix("/"))), route("older", 10, to("older", prefix("/")))),
            Req.get("/"), "older"),
        Arguments.of("on a tie of age the route name decides",
            List.of(route("b", 10, to("b", prefix("/"))), route("a", 10, to("a", prefix("/")))),
            Req.get("/"), "a"),
        Arguments.of("within a route, rule order decides a tie",
            List.of(route("r", 1, to("first", prefix("/")), to("second", prefix("/")))),
            Req.get("/"), "first"),
        Arguments.of("a rule without matches takes every request",
            List.of(route("r", 1, to("all"))),
            Req.get("/anything/at/all"), "all"),
        Arguments.of("no matching rule is a 404",
            List.of(route("r", 1, to("api", prefix("/api")))),
            Req.get("/web"), "NotFound"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("precedence")
  void picks_the_rule_the_spec_says(String behaviour, List<HttpRoute> routes, Req request, String backend) {
    assertThat(backendOf(routes, request)).as(behaviour).isEqualTo(backend);
  }

  // ------------------------------------------------------------------ attachment

  @Test
  void a_route_for_another_port_or_service_is_not_in_the_table() {
    HttpRoute otherPort = new HttpRoute("shop", "p", 1, List.of(new ParentRef(SVC, 8080)), List.of(), List.of(to("p")));
    HttpRoute otherService = new HttpRoute("shop", "s", 1, List.of(new ParentRef("shop/ratings", 0)), List.of(), List.of(to("s")));
    HttpRoute thisPort = new HttpRoute("shop", "t", 1, List.of(new ParentRef(SVC, 9080)), List.of(), List.of(to("t")));

    assertThat(RouteTable.compile(List.of(otherPort, otherService), SVC, 9080).isEmpty()).isTrue();
    assertThat(backendOf(List.of(otherPort, otherService, thisPort), Req.get("/"))).isEqualTo("t");
  }

  @Test
  void hostnames_restrict_a_route_to_those_hosts_and_wildcards_take_subdomains() {
    HttpRoute hosts = new HttpRoute("shop", "h", 1, List.of(new ParentRef(SVC, 0)), List.of("reviews.shop", "*.example.com"),
        List.of(to("hosts")));
    List<HttpRoute> routes = List.of(hosts, route("fallback", 2, to("fallback")));

    assertThat(backendOf(routes, Req.get("/").authority("Reviews.Shop:9080"))).isEqualTo("hosts");
    assertThat(backendOf(routes, Req.get("/").authority("api.example.com"))).isEqualTo("hosts");
    assertThat(backendOf(routes, Req.get("/").authority("example.com"))).isEqualTo("fallback");
    assertThat(backendOf(routes, Req.get("/").authority("10.0.0.7:9080"))).isEqualTo("fallback");
  }

  @Test
  void a_bad_regular_expression_rejects_its_rule_with_the_reason_and_the_rest_still_routes() {
    HttpRoute r = route("r", 1, to("bad", path(PathType.REGULAR_EXPRESSION, "/items/[0-9")), to("root", prefix("/")));
    RouteTable table = RouteTable.compile(List.of(r), SVC, 9080);

    assertThat(table.rejected()).singleElement().satisfies(x -> {
      assertThat(x.route()).isEqualTo("shop/r");
      assertThat(x.rule()).isZero();
      assertThat(x.reason()).contains("bad regular expression").contains("/items/[0-9");
    });
    assertThat(backendOf(List.of(r), Req.get("/items/1"))).isEqualTo("root");
  }

  @Test
  void without_a_route_every_request_goes_to_the_service_itself_unchanged() {
    HttpRoute elsewhere = new HttpRoute("shop", "o", 1, List.of(new ParentRef("shop/ratings", 0)), List.of(), List.of(to("x")));
    Decision d = RouteTable.compile(List.of(elsewhere), SVC, 9080).route(Req.get("/any/path?q=1"), FIRST);

    assertThat(d).isEqualTo(new Decision.Forward("", 0, new Backend(SVC, 9080, 1), "/any/path", "reviews.shop:9080",
        List.of(), List.of(), List.of(), Timeouts.NONE));
  }

  // ------------------------------------------------------------------ weights

  @Test
  void a_90_10_canary_splits_by_weight() {
    Rule canary = new Rule(List.of(), List.of(),
        List.of(new Backend("shop/reviews-v1", 9080, 90), new Backend("shop/reviews-v2", 9080, 10)), null);
    RouteTable table = RouteTable.compile(List.of(route("canary", 1, canary)), SVC, 9080);
    AtomicInteger next = new AtomicInteger();
    Map<String, Integer> counts = new HashMap<>();

    for (int i = 0; i < 1000; i++) {
      // every number in [0, 100) in turn: the split is exactly the weights
      Decision d = table.route(Req.get("/"), bound -> next.getAndIncrement() % bound);
      counts.merge(((Decision.Forward) d).backend().service(), 1, Integer::sum);
    }

    assertThat(counts).containsEntry("shop/reviews-v1", 900).containsEntry("shop/reviews-v2", 100);
  }

  @Test
  void a_backend_with_weight_zero_gets_nothing_and_all_zero_is_a_500() {
    Rule dark = new Rule(List.of(), List.of(),
        List.of(new Backend("shop/v1", 9080, 0), new Backend("shop/v2", 9080, 5)), null);
    Rule none = new Rule(List.of(prefix("/none")), List.of(), List.of(new Backend("shop/v1", 9080, 0)), null);
    RouteTable table = RouteTable.compile(List.of(route("r", 1, dark, none)), SVC, 9080);

    for (int n = 0; n < 5; n++) {
      int fixed = n;
      assertThat(((Decision.Forward) table.route(Req.get("/"), b -> fixed)).backend().service()).isEqualTo("shop/v2");
    }
    assertThat(table.route(Req.get("/none"), FIRST)).isEqualTo(new Decision.NoBackend("shop/r", 1));
  }

  // ------------------------------------------------------------------ filters

  static Stream<Arguments> redirects() {
    return Stream.of(
        Arguments.of("a scheme change drops the request's port for the scheme's own",
            new Filter.Redirect("https", null, null, 0, 301), prefix("/"), Req.get("/cart?x=1"),
            301, "https://reviews.shop/cart?x=1"),
        Arguments.of("without a scheme the request's port stays",
            new Filter.Redirect(null, "new.shop", null, 0, 0), prefix("/"), Req.get("/a"),
            302, "http://new.shop:9080/a"),
        Arguments.of("a given port is written unless it is the scheme's default",
            new Filter.Redirect("https", null, null, 8443, 302), prefix("/"), Req.get("/a"),
            302, "https://reviews.shop:8443/a"),
        Arguments.of("the matched prefix is replaced",
            new Filter.Redirect(null, null, new PathRewrite(null, "/v2"), 80, 302), prefix("/v1"), Req.get("/v1/items/7"),
            302, "http://reviews.shop/v2/items/7"),
        Arguments.of("the full path is replaced",
            new Filter.Redirect(null, null, new PathRewrite("/moved", null), 80, 302), prefix("/"), Req.get("/old/page?q=2"),
            302, "http://reviews.shop/moved?q=2"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("redirects")
  void redirects_build_the_location_the_spec_says(String behaviour, Filter.Redirect redirect, Match match, Req request,
      int status, String location) {
    Rule rule = new Rule(List.of(match), List.of(redirect), List.of(), null);
    Decision d = RouteTable.compile(List.of(route("r", 1, rule)), SVC, 9080).route(request, FIRST);

    assertThat(d).as(behaviour).isEqualTo(new Decision.Redirect("shop/r", 0, status, location));
  }

  static Stream<Arguments> rewrites() {
    return Stream.of(
        Arguments.of("a prefix replaced by another", "/api", "/backend", "/api/users/1", "/backend/users/1"),
        Arguments.of("a prefix replaced by the root", "/api", "/", "/api/users", "/users"),
        Arguments.of("the whole path when it is the prefix", "/api", "/", "/api", "/"),
        Arguments.of("a root prefix replaced", "/", "/base", "/x/y", "/base/x/y"),
        Arguments.of("trailing slashes do not double", "/api/", "/v2/", "/api/users", "/v2/users"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rewrites")
  void url_rewrites_replace_the_matched_prefix(String behaviour, String prefix, String replacement, String path, String sent) {
    Rule rule = new Rule(List.of(prefix(prefix)), List.of(new Filter.Rewrite("internal.shop", new PathRewrite(null, replacement))),
        List.of(new Backend("shop/v1", 9080, 1)), null);
    Decision.Forward f = (Decision.Forward) RouteTable.compile(List.of(route("r", 1, rule)), SVC, 9080).route(Req.get(path), FIRST);

    assertThat(f.path()).as(behaviour).isEqualTo(sent);
    assertThat(f.authority()).isEqualTo("internal.shop");
  }

  @Test
  void header_changes_come_rule_first_then_backend_and_apply_set_add_remove_in_order() {
    HeaderChanges ruleChanges = new HeaderChanges(Map.of("x-env", "prod"), Map.of("x-trace", "rule"), List.of("x-debug"));
    HeaderChanges backendChanges = new HeaderChanges(Map.of(), Map.of("x-trace", "backend"), List.of());
    HeaderChanges response = new HeaderChanges(Map.of("cache-control", "no-store"), Map.of(), List.of());
    Rule rule = new Rule(List.of(), List.of(new Filter.RequestHeaders(ruleChanges), new Filter.ResponseHeaders(response)),
        List.of(new Backend("shop/v1", 9080, 1, List.of(new Filter.RequestHeaders(backendChanges)))),
        new Timeouts(Duration.ofSeconds(2), Duration.ofMillis(500)));
    Decision.Forward f = (Decision.Forward) RouteTable.compile(List.of(route("r", 1, rule)), SVC, 9080).route(Req.get("/"), FIRST);

    assertThat(f.requestHeaders()).containsExactly(ruleChanges, backendChanges);
    assertThat(f.responseHeaders()).containsExactly(response);
    assertThat(f.timeouts()).isEqualTo(new Timeouts(Duration.ofSeconds(2), Duration.ofMillis(500)));

    Map<String, List<String>> headers = new LinkedHashMap<>();
    headers.put("x-env", new ArrayList<>(List.of("dev", "test")));
    headers.put("x-debug", new ArrayList<>(List.of("1")));
    HeaderEditor editor = new HeaderEditor() {
      @Override
      public void set(String name, String value) {
        headers.put(name, new ArrayList<>(List.of(value)));
      }

      @Override
      public void add(String name, String value) {
        headers.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
      }

      @Override
      public void remove(String name) {
        headers.remove(name);
      }
    };
    f.requestHeaders().forEach(c -> HeaderEditor.apply(c, editor));

    assertThat(headers).containsOnly(
        Map.entry("x-env", List.of("prod")), Map.entry("x-trace", List.of("rule", "backend")));
  }

  @Test
  void mirrors_are_sampled_by_their_percentage() {
    Filter.Mirror mirror = new Filter.Mirror("shop/shadow", 9080, 25);
    Rule rule = new Rule(List.of(), List.of(mirror), List.of(new Backend("shop/v1", 9080, 1)), null);
    RouteTable table = RouteTable.compile(List.of(route("r", 1, rule)), SVC, 9080);
    AtomicInteger next = new AtomicInteger();
    int mirrored = 0;

    for (int i = 0; i < 400; i++) {
      Decision.Forward f = (Decision.Forward) table.route(Req.get("/"), bound -> next.getAndIncrement() % bound);
      mirrored += f.mirrors().size();
    }

    assertThat(mirrored).isEqualTo(100);
  }
}
