package dev.capstan.core.model;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A Gateway API {@code HTTPRoute} (v1) attached to services, the GAMMA way: a waypoint routes the
 * requests for a parent service by the route's rules. Only what the waypoint acts on is kept.
 *
 * @param namespace namespace of the route
 * @param name name of the route
 * @param createdAt creation time in epoch seconds (oldest route wins a precedence tie)
 * @param parents the services the route is attached to
 * @param hostnames {@code Host} values the route applies to; empty means any
 * @param rules the rules, in the route's order
 */
public record HttpRoute(
    String namespace, String name, long createdAt, List<ParentRef> parents, List<String> hostnames, List<Rule> rules) {

  public HttpRoute {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    parents = List.copyOf(parents == null ? List.of() : parents);
    hostnames = List.copyOf(hostnames == null ? List.of() : hostnames);
    rules = List.copyOf(rules == null ? List.of() : rules);
  }

  /** The key {@code namespace/name}. */
  public String key() {
    return namespace + "/" + name;
  }

  /**
   * A parent service.
   *
   * @param service {@code namespace/name} of the service
   * @param port the service port the route is for, or 0 for every port
   */
  public record ParentRef(String service, int port) {
    public ParentRef {
      Objects.requireNonNull(service, "service");
    }
  }

  /**
   * One rule: any of its matches selects it (none means every request), then its filters apply
   * and one of its backends is picked by weight.
   *
   * @param matches the matches, any of which selects the rule
   * @param filters filters applied to every request of the rule
   * @param backends weighted backends; empty (or all weights 0) answers 500
   * @param timeouts route timeouts
   */
  public record Rule(List<Match> matches, List<Filter> filters, List<Backend> backends, Timeouts timeouts) {
    public Rule {
      matches = List.copyOf(matches == null ? List.of() : matches);
      filters = List.copyOf(filters == null ? List.of() : filters);
      backends = List.copyOf(backends == null ? List.of() : backends);
      timeouts = timeouts == null ? Timeouts.NONE : timeouts;
    }
  }

  /**
   * What a request must carry for a rule to apply; every part given must hold.
   *
   * @param path the path match; absent means prefix {@code /}
   * @param headers header matches (names case-insensitive)
   * @param query query parameter matches (names case-sensitive)
   * @param method the method, or {@code null} for any
   */
  public record Match(Optional<PathMatch> path, List<ValueMatch> headers, List<ValueMatch> query, String method) {
    public Match {
      path = path == null ? Optional.empty() : path;
      headers = List.copyOf(headers == null ? List.of() : headers);
      query = List.copyOf(query == null ? List.of() : query);
    }

    /** Matches every request. */
    public static Match any() {
      return new Match(Optional.empty(), List.of(), List.of(), null);
    }
  }

  /** How a path is compared. */
  public enum PathType { EXACT, PATH_PREFIX, REGULAR_EXPRESSION }

  /**
   * A path match.
   *
   * @param type how to compare
   * @param value the path, prefix or regular expression (whole-path match)
   */
  public record PathMatch(PathType type, String value) {
    public PathMatch {
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(value, "value");
    }
  }

  /** How a header or query value is compared. */
  public enum ValueType { EXACT, REGULAR_EXPRESSION }

  /**
   * A header or query parameter match.
   *
   * @param type how to compare
   * @param name the header or parameter name
   * @param value the value or regular expression (whole-value match)
   */
  public record ValueMatch(ValueType type, String name, String value) {
    public ValueMatch {
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(value, "value");
    }
  }

  /**
   * A backend service port with its weight.
   *
   * @param service {@code namespace/name}
   * @param port service port
   * @param weight relative weight, 0 takes no traffic
   * @param filters filters for requests sent to this backend only
   */
  public record Backend(String service, int port, int weight, List<Filter> filters) {
    public Backend {
      Objects.requireNonNull(service, "service");
      filters = List.copyOf(filters == null ? List.of() : filters);
    }

    public Backend(String service, int port, int weight) {
      this(service, port, weight, List.of());
    }
  }

  /**
   * Route timeouts (Gateway API {@code timeouts}).
   *
   * @param request the whole request, retries included; {@code null} for none
   * @param backendRequest one try to a backend; {@code null} for none
   */
  public record Timeouts(Duration request, Duration backendRequest) {
    public static final Timeouts NONE = new Timeouts(null, null);
  }

  /** A filter of a rule or backend. */
  public sealed interface Filter {
    /** Sets, adds and removes request headers. */
    record RequestHeaders(HeaderChanges changes) implements Filter {}

    /** Sets, adds and removes response headers. */
    record ResponseHeaders(HeaderChanges changes) implements Filter {}

    /**
     * Answers with a redirect instead of forwarding; each part given replaces the request's.
     *
     * @param scheme new scheme, or {@code null}
     * @param hostname new host, or {@code null}
     * @param path new path, or {@code null}
     * @param port new port, or 0
     * @param status 301 or 302
     */
    record Redirect(String scheme, String hostname, PathRewrite path, int port, int status) implements Filter {}

    /**
     * Rewrites the request before forwarding.
     *
     * @param hostname new {@code Host}, or {@code null}
     * @param path new path, or {@code null}
     */
    record Rewrite(String hostname, PathRewrite path) implements Filter {}

    /**
     * Sends a copy of each request to another backend and ignores its answer.
     *
     * @param service {@code namespace/name}
     * @param port service port
     * @param percent share of requests copied, 0–100
     */
    record Mirror(String service, int port, int percent) implements Filter {}
  }

  /**
   * Header changes, applied in this order: set (replace), add (append), remove.
   *
   * @param set headers to set
   * @param add headers to add
   * @param remove header names to remove
   */
  public record HeaderChanges(Map<String, String> set, Map<String, String> add, List<String> remove) {
    public HeaderChanges {
      set = Map.copyOf(set == null ? Map.of() : set);
      add = Map.copyOf(add == null ? Map.of() : add);
      remove = List.copyOf(remove == null ? List.of() : remove);
    }
  }

  /**
   * A path replacement.
   *
   * @param full replaces the whole path ({@code ReplaceFullPath}), or {@code null}
   * @param prefix replaces the matched prefix ({@code ReplacePrefixMatch}), or {@code null}
   */
  public record PathRewrite(String full, String prefix) {}
}
