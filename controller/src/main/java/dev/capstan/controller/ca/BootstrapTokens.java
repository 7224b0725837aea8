package dev.capstan.controller.ca;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.capstan.core.identity.SpiffeId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Clusterless authentication: one bootstrap token per node, and optionally one per waypoint, from a
 * YAML file mapping names to tokens:
 *
 * <pre>
 * # node name: token (at least 16 characters; e.g. openssl rand -hex 32)
 * node-a: 3f0c6b1e9a7d4c2b8e5f1a0d9c8b7a6f
 * node-b: 9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b
 * # waypoint:namespace/name: token — the Waypoint's pods may get its service account's identity only
 * waypoint:reviews/waypoint: 0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f
 * </pre>
 *
 * A node's token speaks for that node (node authorization applies). A waypoint's token may get
 * exactly the identity of the service account the declared Waypoint runs as, looked up at each
 * request ({@link WaypointAccounts}; refused with {@code not_waypoint} while no such Waypoint is
 * declared). Tokens are held as SHA-256 digests and a presented token is compared with every one
 * of them in constant time, so neither timing nor early exit tells how much of a token matched or
 * which entry it was close to. Two entries may not share a token.
 */
public final class BootstrapTokens implements Authenticator {

  /** The shortest token accepted in the file. */
  public static final int MIN_TOKEN_LENGTH = 16;
  /** The prefix of a waypoint's entry: {@code waypoint:<namespace>/<name>}. */
  public static final String WAYPOINT_PREFIX = "waypoint:";

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  private record Entry(String name, byte[] digest) {}

  private final List<Entry> entries;
  private final WaypointAccounts waypoints;
  private final String trustDomain;

  /** Tokens by node name, no waypoint entries. */
  public BootstrapTokens(Map<String, String> tokensByNode) {
    this(tokensByNode, WaypointAccounts.NONE, "cluster.local");
  }

  /**
   * Tokens by entry name: a node name, or {@code waypoint:<namespace>/<name>}.
   *
   * @param waypoints the declared Waypoints, for a waypoint entry's service account
   * @param trustDomain the mesh's, for a waypoint's identity
   */
  public BootstrapTokens(Map<String, String> tokensByName, WaypointAccounts waypoints, String trustDomain) {
    this.waypoints = waypoints;
    this.trustDomain = trustDomain;
    List<Entry> list = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    tokensByName.forEach((name, token) -> {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("bootstrap tokens: empty node name");
      }
      if (name.startsWith(WAYPOINT_PREFIX)) {
        String[] parts = name.substring(WAYPOINT_PREFIX.length()).split("/", -1);
        if (parts.length != 2 || !DNS_LABEL.matcher(parts[0]).matches() || !DNS_LABEL.matcher(parts[1]).matches()) {
          throw new IllegalArgumentException("bootstrap token entry '" + name
              + "' must be waypoint:<namespace>/<name> (DNS labels)");
        }
      }
      if (token == null || token.strip().length() < MIN_TOKEN_LENGTH) {
        throw new IllegalArgumentException(
            "bootstrap token of " + entry(name) + " is shorter than " + MIN_TOKEN_LENGTH + " characters");
      }
      if (!seen.add(token.strip())) {
        throw new IllegalArgumentException("bootstrap token of " + entry(name) + " is also another entry's token");
      }
      list.add(new Entry(name, sha256(token.strip())));
    });
    this.entries = List.copyOf(list);
  }

  /** Reads a token file (format above); errors name the file and the bad entry. */
  public static BootstrapTokens load(Path file) throws IOException {
    return load(file, WaypointAccounts.NONE, "cluster.local");
  }

  /** Reads a token file whose waypoint entries are checked against {@code waypoints}. */
  public static BootstrapTokens load(Path file, WaypointAccounts waypoints, String trustDomain) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString(), waypoints, trustDomain);
  }

  /** Parses token file text; {@code source} names it in errors. */
  public static BootstrapTokens parse(String yaml, String source) {
    return parse(yaml, source, WaypointAccounts.NONE, "cluster.local");
  }

  /** Parses token file text whose waypoint entries are checked against {@code waypoints}. */
  public static BootstrapTokens parse(String yaml, String source, WaypointAccounts waypoints, String trustDomain) {
    ObjectMapper mapper = new ObjectMapper(new YAMLFactory());
    mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    JsonNode root;
    try {
      root = mapper.readTree(yaml);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(source + ": not valid YAML: " + e.getOriginalMessage(), e);
    }
    Map<String, String> tokens = new LinkedHashMap<>();
    if (root != null && !root.isMissingNode() && !root.isNull()) {
      if (!root.isObject()) {
        throw new IllegalArgumentException(source + ": expected a map of node name (or waypoint:<namespace>/<name>) to token");
      }
      for (Map.Entry<String, JsonNode> e : root.properties()) {
        if (!e.getValue().isTextual()) {
          throw new IllegalArgumentException(source + ": token of " + entry(e.getKey()) + " must be a string");
        }
        tokens.put(e.getKey(), e.getValue().asText());
      }
    }
    try {
      return new BootstrapTokens(tokens, waypoints, trustDomain);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
  }

  /** How many entries (nodes and waypoints) have a token. */
  public int size() {
    return entries.size();
  }

  @Override
  public Caller authenticate(String token) throws Denial {
    byte[] presented = sha256(token);
    String match = null;
    for (Entry entry : entries) {
      // No early exit: every entry is compared, each comparison in constant time.
      if (MessageDigest.isEqual(entry.digest(), presented)) {
        match = entry.name();
      }
    }
    if (match == null) {
      throw new Denial(Denial.Reason.INVALID_TOKEN, "unknown bootstrap token");
    }
    return match.startsWith(WAYPOINT_PREFIX) ? waypoint(match) : new Caller(match, "bootstrap token of node " + match);
  }

  /** A waypoint's entry: the identity of the service account its Waypoint runs as, and only that. */
  private Caller waypoint(String entry) throws Denial {
    String[] parts = entry.substring(WAYPOINT_PREFIX.length()).split("/", -1);
    String account = waypoints.serviceAccount(parts[0], parts[1]).orElseThrow(() -> new Denial(Denial.Reason.NOT_WAYPOINT,
        "bootstrap token of " + entry + ", but no Waypoint " + parts[0] + "/" + parts[1] + " is declared"));
    return Caller.own(SpiffeId.of(trustDomain, parts[0], account), "", "bootstrap token of " + entry);
  }

  /** How an entry is named in errors: {@code node 'a'} or {@code 'waypoint:ns/name'}. */
  private static String entry(String name) {
    return name.startsWith(WAYPOINT_PREFIX) ? "'" + name + "'" : "node '" + name + "'";
  }

  private static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
