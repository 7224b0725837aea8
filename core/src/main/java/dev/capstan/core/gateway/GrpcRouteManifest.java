package dev.capstan.core.gateway;

import dev.capstan.core.config.ConfigException;
import dev.capstan.core.config.Fields;
import dev.capstan.core.model.HttpRoute;
import dev.capstan.core.model.HttpRoute.Backend;
import dev.capstan.core.model.HttpRoute.Filter;
import dev.capstan.core.model.HttpRoute.Match;
import dev.capstan.core.model.HttpRoute.ParentRef;
import dev.capstan.core.model.HttpRoute.PathMatch;
import dev.capstan.core.model.HttpRoute.PathType;
import dev.capstan.core.model.HttpRoute.Rule;
import dev.capstan.core.model.HttpRoute.Timeouts;
import dev.capstan.core.model.HttpRoute.ValueMatch;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads a Gateway API {@code GRPCRoute} (v1) manifest into the {@link HttpRoute} model the
 * waypoint routes by: a gRPC call is an HTTP/2 {@code POST} to {@code /<package.Service>/<Method>},
 * so a method match becomes a path match.
 *
 * <ul>
 *   <li>{@code Exact} service and method: path {@code Exact} {@code /pkg.Service/Method};
 *   <li>{@code Exact} service only: path prefix {@code /pkg.Service} (every method of it);
 *   <li>{@code Exact} method only: the regular expression {@code /[^/]+/Method};
 *   <li>{@code RegularExpression}: the regular expression {@code /(?:service)/(?:method)}, a missing
 *       part being {@code [^/]+} (Java's dialect, matched against the whole path).
 * </ul>
 *
 * <p>Header matches, the header modifier and mirror filters and weighted Service backends read as
 * in an HTTPRoute. What the waypoint cannot do ({@code ExtensionRef} filters, {@code
 * sessionPersistence}, backends that are not Services) is an error naming the field. Gateway
 * parents are left out, as for HTTPRoutes.
 */
public final class GrpcRouteManifest {

  /** The Gateway API's rule for an {@code Exact} service: a dotted name. */
  private static final Pattern SERVICE = Pattern.compile("(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*");
  /** The Gateway API's rule for an {@code Exact} method. */
  private static final Pattern METHOD = Pattern.compile("[A-Za-z_][A-Za-z_0-9]*");
  private static final String ANY_ELEMENT = "[^/]+";

  private GrpcRouteManifest() {}

  /** The route of a YAML or JSON manifest; {@code source} names it in errors. */
  public static HttpRoute parse(String text, String source) {
    Fields f = Fields.parse(text, source);
    String apiVersion = f.string("apiVersion");
    if (!apiVersion.equals("gateway.networking.k8s.io/v1")) {
      throw new ConfigException(f.at("apiVersion") + " must be gateway.networking.k8s.io/v1, got '" + apiVersion + "'");
    }
    if (!f.string("kind").equals("GRPCRoute")) {
      throw new ConfigException(f.at("kind") + " must be GRPCRoute, got '" + f.string("kind") + "'");
    }
    Fields meta = f.object("metadata");
    String namespace = meta.string("namespace", "default");
    String name = meta.string("name");
    long created = HttpRouteManifest.createdAt(meta);
    Fields spec = f.object("spec");
    List<ParentRef> parents = HttpRouteManifest.parents(spec, namespace);
    List<String> hostnames = spec.has("hostnames") ? spec.strings("hostnames") : List.of();
    List<Rule> rules = spec.has("rules") ? spec.list("rules", (r, i) -> rule(r, namespace)) : List.of(
        new Rule(List.of(), List.of(), List.of(), null));
    return new HttpRoute(namespace, name, created, parents, hostnames, rules);
  }

  private static Rule rule(Fields r, String namespace) {
    r.only("name", "matches", "filters", "backendRefs", "sessionPersistence");
    if (r.has("sessionPersistence")) {
      throw new ConfigException(r.at("sessionPersistence") + " is not supported by the waypoint");
    }
    List<Match> matches = r.has("matches") ? r.list("matches", (m, i) -> match(m)) : List.of();
    List<Filter> filters = r.has("filters") ? r.list("filters", (x, i) -> filter(x, namespace)) : List.of();
    List<Backend> backends = r.has("backendRefs") ? r.list("backendRefs", (b, i) -> {
      b.only("group", "kind", "name", "namespace", "port", "weight", "filters");
      if (!b.string("group", "").isEmpty() || !b.string("kind", "Service").equals("Service")) {
        throw new ConfigException(b.path() + ": only Service backends are supported");
      }
      if (!b.has("port")) {
        throw new ConfigException(b.at("port") + " is required for a Service backend");
      }
      List<Filter> own = b.has("filters") ? b.list("filters", (x, j) -> filter(x, namespace)) : List.of();
      return new Backend(b.string("namespace", namespace) + "/" + b.string("name"), b.integer("port", 0, 1, 65535),
          b.integer("weight", 1, 0, 1_000_000), own);
    }) : List.of();
    return new Rule(matches, filters, backends, Timeouts.NONE);
  }

  private static Match match(Fields m) {
    m.only("method", "headers");
    Optional<PathMatch> path = m.optionalObject("method").map(GrpcRouteManifest::method);
    List<ValueMatch> headers = m.has("headers") ? m.list("headers", (h, i) -> HttpRouteManifest.value(h)) : List.of();
    return new Match(path, headers, List.of(), null);
  }

  /** A method match as the path match it stands for. */
  static PathMatch method(Fields mm) {
    mm.only("type", "service", "method");
    String type = mm.string("type", "Exact");
    String service = mm.optionalString("service").filter(s -> !s.isEmpty()).orElse(null);
    String method = mm.optionalString("method").filter(s -> !s.isEmpty()).orElse(null);
    if (service == null && method == null) {
      throw new ConfigException(mm.path() + ": one or both of service and method must be given");
    }
    switch (type) {
      case "Exact" -> {
        if (service != null && !SERVICE.matcher(service).matches()) {
          throw new ConfigException(mm.at("service") + " must be a gRPC service name like pkg.Service, got '" + service + "'");
        }
        if (method != null && !METHOD.matcher(method).matches()) {
          throw new ConfigException(mm.at("method") + " must be a gRPC method name like GetUser, got '" + method + "'");
        }
        if (method == null) {
          return new PathMatch(PathType.PATH_PREFIX, "/" + service);
        }
        if (service == null) {
          return new PathMatch(PathType.REGULAR_EXPRESSION, "/" + ANY_ELEMENT + "/" + Pattern.quote(method));
        }
        return new PathMatch(PathType.EXACT, "/" + service + "/" + method);
      }
      case "RegularExpression" -> {
        compiles(mm, "service", service);
        compiles(mm, "method", method);
        return new PathMatch(PathType.REGULAR_EXPRESSION, "/" + (service == null ? ANY_ELEMENT : "(?:" + service + ")")
            + "/" + (method == null ? ANY_ELEMENT : "(?:" + method + ")"));
      }
      default -> throw new ConfigException(mm.at("type") + " must be Exact or RegularExpression, got '" + type + "'");
    }
  }

  private static void compiles(Fields mm, String field, String regex) {
    if (regex == null) {
      return;
    }
    try {
      Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw new ConfigException(mm.at(field) + " is not a valid regular expression: " + e.getDescription()
          + " near index " + e.getIndex());
    }
  }

  private static Filter filter(Fields x, String namespace) {
    String type = x.string("type");
    return switch (type) {
      case "RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror" -> HttpRouteManifest.filter(x, namespace);
      default -> throw new ConfigException(x.at("type") + ": filter '" + type + "' is not supported by the waypoint "
          + "in a GRPCRoute (RequestHeaderModifier, ResponseHeaderModifier, RequestMirror)");
    };
  }
}
