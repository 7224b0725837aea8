package dev.capstan.controller.ca;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
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

/**
 * Clusterless authentication: one bootstrap token per node, from a YAML file mapping node names to
 * tokens:
 *
 * <pre>
 * # node name: token (at least 16 characters; e.g. openssl rand -hex 32)
 * node-a: 3f0c6b1e9a7d4c2b8e5f1a0d9c8b7a6f
 * node-b: 9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b
 * </pre>
 *
 * Tokens are held as SHA-256 digests and a presented token is compared with every one of them in
 * constant time, so neither timing nor early exit tells how much of a token matched or which node
 * it was close to. Two nodes may not share a token.
 */
public final class BootstrapTokens implements Authenticator {

  /** The shortest token accepted in the file. */
  public static final int MIN_TOKEN_LENGTH = 16;

  private record Entry(String node, byte[] digest) {}

  private final List<Entry> entries;

  /** Tokens by node name. */
  public BootstrapTokens(Map<String, String> tokensByNode) {
    List<Entry> list = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    tokensByNode.forEach((node, token) -> {
      if (node == null || node.isBlank()) {
        throw new IllegalArgumentException("bootstrap tokens: empty node name");
      }
      if (token == null || token.strip().length() < MIN_TOKEN_LENGTH) {
        throw new IllegalArgumentException(
            "bootstrap token of node '" + node + "' is shorter than " + MIN_TOKEN_LENGTH + " characters");
      }
      if (!seen.add(token.strip())) {
        throw new IllegalArgumentException("bootstrap token of node '" + node + "' is also another node's token");
      }
      list.add(new Entry(node, sha256(token.strip())));
    });
    this.entries = List.copyOf(list);
  }

  /** Reads a token file (format above); errors name the file and the bad entry. */
  public static BootstrapTokens load(Path file) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
  }

  /** Parses token file text; {@code source} names it in errors. */
  public static BootstrapTokens parse(String yaml, String source) {
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
        throw new IllegalArgumentException(source + ": expected a map of node name to token");
      }
      for (Map.Entry<String, JsonNode> e : root.properties()) {
        if (!e.getValue().isTextual()) {
          throw new IllegalArgumentException(source + ": token of node '" + e.getKey() + "' must be a string");
        }
        tokens.put(e.getKey(), e.getValue().asText());
      }
    }
    try {
      return new BootstrapTokens(tokens);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
    }
  }

  /** How many nodes have a token. */
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
        match = entry.node();
      }
    }
    if (match == null) {
      throw new Denial(Denial.Reason.INVALID_TOKEN, "unknown bootstrap token");
    }
    return new Caller(match, "bootstrap token of node " + match);
  }

  private static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
