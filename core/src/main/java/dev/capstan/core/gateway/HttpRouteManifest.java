package dev.capstan.core.gateway;

import dev.capstan.core.config.ConfigException;
import dev.capstan.core.config.Fields;
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
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a Gateway API {@code HTTPRoute} (v1) manifest into {@link HttpRoute}. Parents other than
 * Services (a Gateway) are left out: the waypoint serves service-attached routes only. What the
 * waypoint cannot do (an unknown filter, a backend that is not a Service) is an error naming the
 * field, rather than a route that silently does less than it says.
 */
public final class HttpRouteManifest {

  private HttpRouteManifest() {}

  /** The route of a YAML or JSON manifest; {@code source} names it in errors. */
  public static HttpRoute parse(String text, String source) {
    Fields f = Fields.parse(text, source);
    String apiVersion = f.string("apiVersion");
    if (!apiVersion.equals("gateway.networking.k8s.io/v1") && !apiVersion.equals("gateway.networking.k8s.io/v1beta1")) {
      throw new ConfigException(f.at("apiVersion") + " must be gateway.networking.k8s.io/v1, got '" + apiVersion + "'");
    }
    if (!f.string("kind").equals("HTTPRoute")) {
      throw new ConfigException(f.at("kind") + " must be HTTPRoute, got '" + f.string("kind") + "'");
    }
    Fields meta = f.object("metadata");
    String namespace = meta.string("namespace", "default");
    String name = meta.string("name");
    long created = createdAt(meta);
    Fields spec = f.object("spec");
    List<ParentRef> parents = parents(spec, namespace);
    List<String> hostnames = spec.has("hostnames") ? spec.strings("hostnames") : List.of();
    List<Rule> rules = spec.has("rules") ? spec.list("rules", (r, i) -> rule(r, namespace)) : List.of(
        new Rule(List.of(), List.of(), List.of(), null));
    return new HttpRoute(namespace, name, created, parents, hostnames, rules);
  }

  /** {@code metadata.creationTimestamp} in epoch seconds, 0 when absent. */
  static long createdAt(Fields meta) {
    return meta.optionalString("creationTimestamp").map(t -> {
      try {
        return Instant.parse(t).getEpochSecond();
      } catch (DateTimeParseException e) {
        throw new ConfigException(meta.at("creationTimestamp") + " must be an RFC 3339 time, got '" + t + "'");
      }
    }).orElse(0L);
  }

  /** The Service parents of {@code spec.parentRefs}; a Gateway parent is left out (not the waypoint's). */
  static List<ParentRef> parents(Fields spec, String namespace) {
    return spec.list("parentRefs", (p, i) -> {
      String group = p.string("group", "gateway.networking.k8s.io");
      String kind = p.string("kind", "Gateway");
      if (!(group.isEmpty() || group.equals("core")) || !kind.equals("Service")) {
        return null; // a Gateway parent: not the waypoint's
      }
      return new ParentRef(p.string("namespace", namespace) + "/" + p.string("name"), p.integer("port", 0, 0, 65535));
    }).stream().filter(java.util.Objects::nonNull).toList();
  }

  private static Rule rule(Fields r, String namespace) {
    r.only("name", "matches", "filters", "backendRefs", "timeouts", "sessionPersistence", "retry");
    if (r.has("sessionPersistence") || r.has("retry")) {
      throw new ConfigException(r.path() + ": sessionPersistence and retry are not supported by the waypoint (use a TrafficPolicy for retries)");
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
    Timeouts timeouts = r.optionalObject("timeouts").map(t -> {
      t.only("request", "backendRequest");
      Duration request = t.duration("request", null);
      Duration backend = t.duration("backendRequest", null);
      if (request != null && backend != null && backend.compareTo(request) > 0) {
        throw new ConfigException(t.at("backendRequest") + " must not be longer than request");
      }
      return new Timeouts(zeroIsNone(request), zeroIsNone(backend));
    }).orElse(Timeouts.NONE);
    return new Rule(matches, filters, backends, timeouts);
  }

  /** Gateway API: a zero timeout means none. */
  private static Duration zeroIsNone(Duration d) {
    return d == null || d.isZero() ? null : d;
  }

  private static Match match(Fields m) {
    m.only("path", "headers", "queryParams", "method");
    Optional<PathMatch> path = m.optionalObject("path").map(p -> {
      p.only("type", "value");
      PathType type = switch (p.string("type", "PathPrefix")) {
        case "Exact" -> PathType.EXACT;
        case "PathPrefix" -> PathType.PATH_PREFIX;
        case "RegularExpression" -> PathType.REGULAR_EXPRESSION;
        default -> throw new ConfigException(p.at("type") + " must be Exact, PathPrefix or RegularExpression, got '"
            + p.string("type") + "'");
      };
      String value = p.string("value", "/");
      if (type != PathType.REGULAR_EXPRESSION && !value.startsWith("/")) {
        throw new ConfigException(p.at("value") + " must start with /, got '" + value + "'");
      }
      return new PathMatch(type, value);
    });
    List<ValueMatch> headers = m.has("headers") ? m.list("headers", (h, i) -> value(h)) : List.of();
    List<ValueMatch> query = m.has("queryParams") ? m.list("queryParams", (q, i) -> value(q)) : List.of();
    return new Match(path, headers, query, m.optionalString("method").orElse(null));
  }

  static ValueMatch value(Fields v) {
    v.only("type", "name", "value");
    ValueType type = switch (v.string("type", "Exact")) {
      case "Exact" -> ValueType.EXACT;
      case "RegularExpression" -> ValueType.REGULAR_EXPRESSION;
      default -> throw new ConfigException(v.at("type") + " must be Exact or RegularExpression, got '" + v.string("type") + "'");
    };
    return new ValueMatch(type, v.string("name"), v.string("value"));
  }

  static Filter filter(Fields x, String namespace) {
    String type = x.string("type");
    return switch (type) {
      case "RequestHeaderModifier" -> new Filter.RequestHeaders(changes(x.object("requestHeaderModifier")));
      case "ResponseHeaderModifier" -> new Filter.ResponseHeaders(changes(x.object("responseHeaderModifier")));
      case "RequestRedirect" -> {
        Fields r = x.object("requestRedirect");
        r.only("scheme", "hostname", "path", "port", "statusCode");
        int status = r.integer("statusCode", 302, 301, 302);
        yield new Filter.Redirect(r.optionalString("scheme").orElse(null), r.optionalString("hostname").orElse(null),
            r.optionalObject("path").map(HttpRouteManifest::rewrite).orElse(null), r.integer("port", 0, 0, 65535), status);
      }
      case "URLRewrite" -> {
        Fields u = x.object("urlRewrite");
        u.only("hostname", "path");
        yield new Filter.Rewrite(u.optionalString("hostname").orElse(null),
            u.optionalObject("path").map(HttpRouteManifest::rewrite).orElse(null));
      }
      case "RequestMirror" -> {
        Fields m = x.object("requestMirror");
        m.only("backendRef", "percent", "fraction");
        if (m.has("fraction")) {
          throw new ConfigException(m.at("fraction") + " is not supported; use percent");
        }
        Fields b = m.object("backendRef");
        yield new Filter.Mirror(b.string("namespace", namespace) + "/" + b.string("name"), b.integer("port", 0, 1, 65535),
            m.integer("percent", 100, 0, 100));
      }
      default -> throw new ConfigException(x.at("type") + ": filter '" + type + "' is not supported by the waypoint "
          + "(RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect, URLRewrite, RequestMirror)");
    };
  }

  private static HeaderChanges changes(Fields h) {
    h.only("set", "add", "remove");
    return new HeaderChanges(pairs(h, "set"), pairs(h, "add"), h.has("remove") ? h.strings("remove") : List.of());
  }

  private static Map<String, String> pairs(Fields h, String key) {
    Map<String, String> out = new LinkedHashMap<>();
    if (h.has(key)) {
      h.list(key, (p, i) -> {
        p.only("name", "value");
        return out.put(p.string("name"), p.string("value"));
      });
    }
    return out;
  }

  private static PathRewrite rewrite(Fields p) {
    p.only("type", "replaceFullPath", "replacePrefixMatch");
    return switch (p.string("type")) {
      case "ReplaceFullPath" -> new PathRewrite(p.string("replaceFullPath"), null);
      case "ReplacePrefixMatch" -> new PathRewrite(null, p.string("replacePrefixMatch"));
      default -> throw new ConfigException(p.at("type") + " must be ReplaceFullPath or ReplacePrefixMatch, got '"
          + p.string("type") + "'");
    };
  }
}
