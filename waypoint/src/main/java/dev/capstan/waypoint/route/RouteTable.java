package dev.capstan.waypoint.route;

import dev.capstan.core.model.HttpRoute;
import dev.capstan.core.model.HttpRoute.Backend;
import dev.capstan.core.model.HttpRoute.Filter;
import dev.capstan.core.model.HttpRoute.HeaderChanges;
import dev.capstan.core.model.HttpRoute.Match;
import dev.capstan.core.model.HttpRoute.PathMatch;
import dev.capstan.core.model.HttpRoute.PathRewrite;
import dev.capstan.core.model.HttpRoute.PathType;
import dev.capstan.core.model.HttpRoute.Rule;
import dev.capstan.core.model.HttpRoute.Timeouts;
import dev.capstan.core.model.HttpRoute.ValueMatch;
import dev.capstan.core.model.HttpRoute.ValueType;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntUnaryOperator;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The HTTPRoute rules of one service port, compiled once (regular expressions, precedence order)
 * and asked per request: which rule, which backend, what to change.
 *
 * <p>Precedence, as Gateway API orders matches across rules and routes: an exact path, then a
 * regular-expression path (longer first; the spec leaves its place to the implementation), then the
 * longest path prefix; then a method match; then more header matches; then more query matches;
 * then the oldest route; then the route's {@code namespace/name}; then rule order. A rule without
 * matches matches every path (prefix {@code /}). Path prefixes match whole path elements:
 * {@code /shop} matches {@code /shop} and {@code /shop/cart}, not {@code /shopping}.
 */
public final class RouteTable {

  /** What to do with a request. */
  public sealed interface Decision {
    /**
     * Send it to {@code backend}.
     *
     * @param route the route's {@code namespace/name}
     * @param rule the rule's index in the route
     * @param backend the chosen backend
     * @param path the path to send, after any rewrite (query not included)
     * @param authority the {@code Host}/{@code :authority} to send, after any rewrite
     * @param requestHeaders header changes for the request, in order (rule's, then backend's)
     * @param responseHeaders header changes for the response, in order
     * @param mirrors copies to send (already sampled by their percentage)
     * @param timeouts the rule's timeouts
     */
    record Forward(
        String route, int rule, Backend backend, String path, String authority, List<HeaderChanges> requestHeaders,
        List<HeaderChanges> responseHeaders, List<Filter.Mirror> mirrors, Timeouts timeouts) implements Decision {}

    /** Answer with a redirect. */
    record Redirect(String route, int rule, int status, String location) implements Decision {}

    /** No rule matches: 404. */
    record NotFound() implements Decision {}

    /** The rule matched but has no backend with weight: 500, as Gateway API asks. */
    record NoBackend(String route, int rule) implements Decision {}
  }

  /** A route's rule that cannot be used (a bad regular expression), with the reason. */
  public record Rejected(String route, int rule, String reason) {}

  private final List<Entry> entries;
  private final List<Rejected> rejected;
  private final boolean readsQuery;
  /** Where a request goes when no route is attached: the service port itself. */
  private final Backend itself;

  private RouteTable(List<Entry> entries, List<Rejected> rejected, Backend itself) {
    this.itself = itself;
    this.entries = entries;
    this.rejected = List.copyOf(rejected);
    this.readsQuery = entries.stream().anyMatch(e -> !e.query.isEmpty());
  }

  /** The table of {@code service} ({@code namespace/name}) port {@code port}, from every route attached to it. */
  public static RouteTable compile(List<HttpRoute> routes, String service, int port) {
    List<Entry> entries = new ArrayList<>();
    List<Rejected> rejected = new ArrayList<>();
    for (HttpRoute route : routes) {
      boolean attached = route.parents().stream()
          .anyMatch(p -> p.service().equals(service) && (p.port() == 0 || p.port() == port));
      if (!attached) {
        continue;
      }
      for (int r = 0; r < route.rules().size(); r++) {
        Rule rule = route.rules().get(r);
        List<Match> matches = rule.matches().isEmpty() ? List.of(Match.any()) : rule.matches();
        try {
          for (int m = 0; m < matches.size(); m++) {
            entries.add(new Entry(route, r, m, rule, matches.get(m)));
          }
        } catch (PatternSyntaxException e) {
          rejected.add(new Rejected(route.key(), r, "bad regular expression: " + e.getDescription() + " in '" + e.getPattern() + "'"));
        }
      }
    }
    entries.sort(PRECEDENCE);
    return new RouteTable(List.copyOf(entries), rejected, new Backend(service, port, 1));
  }

  /** Rules left out of the table, and why (for the log and the config dump). */
  public List<Rejected> rejected() {
    return rejected;
  }

  /** Whether no route is attached (then every request goes to the service itself). */
  public boolean isEmpty() {
    return entries.isEmpty() && rejected.isEmpty();
  }

  /**
   * Routes {@code request}. {@code random} returns a number in {@code [0, bound)}: the weighted
   * backend choice and mirror sampling use it (injected so tests are deterministic).
   */
  public Decision route(RequestView request, IntUnaryOperator random) {
    if (isEmpty()) {
      // No route attached: the service itself, as a waypoint without routes does (Istio's too).
      String authority = request.authority();
      return new Decision.Forward("", 0, itself, request.path(), authority.isEmpty() ? null : authority, List.of(), List.of(),
          List.of(), Timeouts.NONE);
    }
    String host = hostOf(request.authority());
    Map<String, List<String>> query = readsQuery ? parseQuery(request.query()) : Map.of();
    for (Entry e : entries) {
      if (e.matches(request, host, query)) {
        return decide(e, request, random);
      }
    }
    return new Decision.NotFound();
  }

  private static Decision decide(Entry e, RequestView request, IntUnaryOperator random) {
    String path = request.path();
    String authority = request.authority();
    List<HeaderChanges> requestHeaders = new ArrayList<>();
    List<HeaderChanges> responseHeaders = new ArrayList<>();
    List<Filter.Mirror> mirrors = new ArrayList<>();
    for (Filter f : e.rule.filters()) {
      if (f instanceof Filter.Redirect redirect) {
        return new Decision.Redirect(e.route.key(), e.ruleIndex, redirect.status() == 0 ? 302 : redirect.status(),
            location(redirect, e.match, request));
      } else if (f instanceof Filter.Rewrite rewrite) {
        path = rewritePath(rewrite.path(), e.match, path);
        if (rewrite.hostname() != null) {
          authority = rewrite.hostname();
        }
      } else if (f instanceof Filter.RequestHeaders h) {
        requestHeaders.add(h.changes());
      } else if (f instanceof Filter.ResponseHeaders h) {
        responseHeaders.add(h.changes());
      } else if (f instanceof Filter.Mirror m
          && (m.percent() >= 100 || (m.percent() > 0 && random.applyAsInt(100) < m.percent()))) {
        mirrors.add(m);
      }
    }
    Backend backend = pick(e.rule.backends(), random);
    if (backend == null) {
      return new Decision.NoBackend(e.route.key(), e.ruleIndex);
    }
    for (Filter f : backend.filters()) {
      if (f instanceof Filter.RequestHeaders h) {
        requestHeaders.add(h.changes());
      } else if (f instanceof Filter.ResponseHeaders h) {
        responseHeaders.add(h.changes());
      }
    }
    return new Decision.Forward(e.route.key(), e.ruleIndex, backend, path, authority, List.copyOf(requestHeaders),
        List.copyOf(responseHeaders), List.copyOf(mirrors), e.rule.timeouts());
  }

  /** A backend by weight; {@code null} when no backend has weight. */
  static Backend pick(List<Backend> backends, IntUnaryOperator random) {
    if (backends.size() == 1) {
      return backends.get(0).weight() > 0 ? backends.get(0) : null; // no draw for the common case
    }
    int total = 0;
    for (Backend b : backends) {
      total += Math.max(0, b.weight());
    }
    if (total == 0) {
      return null;
    }
    int n = random.applyAsInt(total);
    for (Backend b : backends) {
      n -= Math.max(0, b.weight());
      if (n < 0) {
        return b;
      }
    }
    throw new IllegalStateException("random returned a number outside [0, " + total + ")");
  }

  private static String rewritePath(PathRewrite rewrite, Match match, String path) {
    if (rewrite == null) {
      return path;
    }
    if (rewrite.full() != null) {
      return rewrite.full();
    }
    if (rewrite.prefix() != null) {
      PathMatch pm = match.path().orElse(new PathMatch(PathType.PATH_PREFIX, "/"));
      if (pm.type() == PathType.PATH_PREFIX) {
        String prefix = trimSlash(pm.value());
        String rest = path.substring(Math.min(prefix.length(), path.length()));
        String replacement = trimSlash(rewrite.prefix());
        String joined = replacement + rest;
        return joined.isEmpty() ? "/" : joined.startsWith("/") ? joined : "/" + joined;
      }
      return rewrite.prefix(); // only valid with a prefix match; the whole path is the best reading
    }
    return path;
  }

  private static String location(Filter.Redirect redirect, Match match, RequestView request) {
    String scheme = redirect.scheme() != null ? redirect.scheme() : "http";
    String authority = request.authority();
    String host = redirect.hostname() != null ? redirect.hostname() : hostOf(authority);
    int port = redirect.port();
    if (port == 0 && redirect.scheme() == null) {
      port = portOf(authority); // the port the request came to, unless the scheme changes
    }
    boolean defaultPort = port == 0 || (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
    String path = rewritePath(redirect.path(), match, request.path());
    String query = request.query().isEmpty() ? "" : "?" + request.query();
    return scheme + "://" + host + (defaultPort ? "" : ":" + port) + path + query;
  }

  /** The host of an authority, lower case, without the port (IPv6 brackets kept). */
  static String hostOf(String authority) {
    if (authority == null || authority.isEmpty()) {
      return "";
    }
    String a = authority.toLowerCase(Locale.ROOT);
    if (a.startsWith("[")) {
      int end = a.indexOf(']');
      return end < 0 ? a : a.substring(0, end + 1);
    }
    int colon = a.lastIndexOf(':');
    return colon < 0 ? a : a.substring(0, colon);
  }

  private static int portOf(String authority) {
    if (authority == null) {
      return 0;
    }
    int colon = authority.lastIndexOf(':');
    if (colon < 0 || authority.indexOf(']', colon) >= 0) {
      return 0;
    }
    try {
      return Integer.parseInt(authority.substring(colon + 1));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static String trimSlash(String prefix) {
    return prefix.length() > 1 && prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix.equals("/") ? "" : prefix;
  }

  /** Query parameters, percent-decoded; a malformed escape keeps the raw text. */
  static Map<String, List<String>> parseQuery(String query) {
    Map<String, List<String>> params = new HashMap<>();
    if (query == null || query.isEmpty()) {
      return params;
    }
    for (String pair : query.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String name = decode(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      params.computeIfAbsent(name, k -> new ArrayList<>(1)).add(value);
    }
    return params;
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return s;
    }
  }

  private static final Comparator<Entry> PRECEDENCE = Comparator
      .comparingInt((Entry e) -> e.pathRank)
      .thenComparing(Comparator.comparingInt((Entry e) -> e.pathLength).reversed())
      .thenComparingInt(e -> e.match.method() == null ? 1 : 0)
      .thenComparing(Comparator.comparingInt((Entry e) -> e.headers.size()).reversed())
      .thenComparing(Comparator.comparingInt((Entry e) -> e.query.size()).reversed())
      .thenComparingLong(e -> e.route.createdAt())
      .thenComparing(e -> e.route.key())
      .thenComparingInt(e -> e.ruleIndex)
      .thenComparingInt(e -> e.matchIndex);

  /** One match of one rule, compiled. */
  private static final class Entry {
    final HttpRoute route;
    final int ruleIndex;
    final int matchIndex;
    final Rule rule;
    final Match match;
    final PathType pathType;
    final String pathValue;
    final Pattern pathPattern;
    final int pathRank;
    final int pathLength;
    final List<Value> headers;
    final List<Value> query;
    final List<String> hostnames;

    Entry(HttpRoute route, int ruleIndex, int matchIndex, Rule rule, Match match) {
      this.route = route;
      this.ruleIndex = ruleIndex;
      this.matchIndex = matchIndex;
      this.rule = rule;
      this.match = match;
      PathMatch path = match.path().orElse(new PathMatch(PathType.PATH_PREFIX, "/"));
      this.pathType = path.type();
      this.pathValue = path.type() == PathType.PATH_PREFIX ? trimSlash(path.value()) : path.value();
      this.pathPattern = path.type() == PathType.REGULAR_EXPRESSION ? Pattern.compile(path.value()) : null;
      this.pathRank = switch (path.type()) {
        case EXACT -> 0;
        case REGULAR_EXPRESSION -> 1;
        case PATH_PREFIX -> 2;
      };
      this.pathLength = path.value().length();
      this.headers = match.headers().stream().map(v -> new Value(v, true)).toList();
      this.query = match.query().stream().map(v -> new Value(v, false)).toList();
      this.hostnames = route.hostnames().stream().map(h -> h.toLowerCase(Locale.ROOT)).toList();
    }

    boolean matches(RequestView request, String host, Map<String, List<String>> queryParams) {
      if (!hostnames.isEmpty() && hostnames.stream().noneMatch(h -> hostMatches(h, host))) {
        return false;
      }
      String path = request.path();
      boolean pathOk = switch (pathType) {
        case EXACT -> path.equals(pathValue);
        case REGULAR_EXPRESSION -> pathPattern.matcher(path).matches();
        case PATH_PREFIX -> pathValue.isEmpty()
            || (path.startsWith(pathValue) && (path.length() == pathValue.length() || path.charAt(pathValue.length()) == '/'));
      };
      if (!pathOk) {
        return false;
      }
      if (match.method() != null && !match.method().equals(request.method())) {
        return false;
      }
      for (Value h : headers) {
        if (!h.anyMatches(request.headers(h.name))) {
          return false;
        }
      }
      for (Value q : query) {
        if (!q.anyMatches(queryParams.getOrDefault(q.name, List.of()))) {
          return false;
        }
      }
      return true;
    }

    private static boolean hostMatches(String pattern, String host) {
      if (pattern.startsWith("*.")) {
        return host.endsWith(pattern.substring(1)) && host.length() > pattern.length() - 1;
      }
      return pattern.equals(host);
    }
  }

  /** A header or query match, compiled. */
  private static final class Value {
    final String name;
    final String value;
    final Pattern pattern;

    Value(ValueMatch m, boolean header) {
      this.name = header ? m.name().toLowerCase(Locale.ROOT) : m.name();
      this.value = m.value();
      this.pattern = m.type() == ValueType.REGULAR_EXPRESSION ? Pattern.compile(m.value()) : null;
    }

    boolean anyMatches(List<String> values) {
      for (String v : values) {
        if (pattern == null ? value.equals(v) : pattern.matcher(v).matches()) {
          return true;
        }
      }
      return false;
    }
  }
}
