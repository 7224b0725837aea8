package dev.capstan.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.capstan.core.hbone.Hbone;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads typed values out of a YAML/JSON tree; every error names the field's path and value. */
public final class Fields {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
  private static final Pattern BYTES = Pattern.compile("(\\d{1,18})\\s*(KiB|MiB|GiB)?");

  private final JsonNode node;
  private final String path;

  private Fields(JsonNode node, String path) {
    this.node = node;
    this.path = path;
  }

  /** Parses a YAML (or JSON) document whose root must be a mapping. */
  public static Fields parse(String text, String source) {
    JsonNode root;
    try {
      root = YAML.readTree(text);
    } catch (IOException e) {
      throw new ConfigException(source + ": not valid YAML: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw new ConfigException(source + ": the document must be a mapping");
    }
    return new Fields(root, source + ":");
  }

  /** Where {@code key} is, for an error message. */
  public String at(String key) {
    return path.endsWith(":") ? path + " " + key : path + "." + key;
  }

  private Optional<JsonNode> value(String key) {
    JsonNode v = node.get(key);
    return v == null || v.isNull() ? Optional.empty() : Optional.of(v);
  }

  public boolean has(String key) {
    return value(key).isPresent();
  }

  public String string(String key) {
    return optionalString(key).orElseThrow(() -> new ConfigException(at(key) + " is required"));
  }

  public Optional<String> optionalString(String key) {
    return value(key).map(v -> {
      if (!v.isValueNode()) {
        throw new ConfigException(at(key) + " must be a string, got " + v.getNodeType());
      }
      return v.asText();
    });
  }

  public String string(String key, String defaultValue) {
    return optionalString(key).orElse(defaultValue);
  }

  public int integer(String key, int defaultValue, int min, int max) {
    return value(key).map(v -> {
      if (!v.canConvertToInt() || !v.isIntegralNumber()) {
        throw new ConfigException(at(key) + " must be an integer, got '" + v.asText() + "'");
      }
      int i = v.asInt();
      if (i < min || i > max) {
        throw new ConfigException(at(key) + " must be between " + min + " and " + max + ", got " + i);
      }
      return i;
    }).orElse(defaultValue);
  }

  /** A number, integral or not (such as a percentage {@code 0.5}), between {@code min} and {@code max}. */
  public double decimal(String key, double defaultValue, double min, double max) {
    return value(key).map(v -> {
      if (!v.isNumber()) {
        throw new ConfigException(at(key) + " must be a number, got '" + v.asText() + "'");
      }
      double d = v.asDouble();
      if (!(d >= min && d <= max)) {
        throw new ConfigException(at(key) + " must be between " + plain(min) + " and " + plain(max) + ", got " + v.asText());
      }
      return d;
    }).orElse(defaultValue);
  }

  private static String plain(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }

  public boolean bool(String key, boolean defaultValue) {
    return value(key).map(v -> {
      if (!v.isBoolean()) {
        throw new ConfigException(at(key) + " must be true or false, got '" + v.asText() + "'");
      }
      return v.asBoolean();
    }).orElse(defaultValue);
  }

  /** A duration such as {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}. */
  public Duration duration(String key, Duration defaultValue) {
    return optionalString(key).map(s -> {
      Matcher m = DURATION.matcher(s.trim());
      if (!m.matches()) {
        throw new ConfigException(at(key) + " must be a duration like 500ms, 30s, 5m or 1h, got '" + s + "'");
      }
      try {
        long n = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          default -> Duration.ofHours(n);
        };
        if (d.compareTo(Duration.ofDays(365)) > 0) {
          throw new ArithmeticException("too long");
        }
        return d;
      } catch (NumberFormatException | ArithmeticException e) {
        throw new ConfigException(at(key) + " must be at most a year, got '" + s + "'");
      }
    }).orElse(defaultValue);
  }

  /**
   * A size in bytes: a number, or a number with {@code KiB}, {@code MiB} or {@code GiB}; between
   * {@code min} and {@code max}.
   */
  public long bytes(String key, long defaultValue, long min, long max) {
    return optionalString(key).map(s -> {
      Matcher m = BYTES.matcher(s.trim());
      if (!m.matches()) {
        throw new ConfigException(at(key) + " must be a size like 65536, 256KiB, 64MiB or 1GiB, got '" + s + "'");
      }
      long unit = switch (m.group(2) == null ? "" : m.group(2)) {
        case "KiB" -> 1L << 10;
        case "MiB" -> 1L << 20;
        case "GiB" -> 1L << 30;
        default -> 1L;
      };
      long n;
      try {
        n = Math.multiplyExact(Long.parseLong(m.group(1)), unit);
      } catch (NumberFormatException | ArithmeticException e) {
        n = Long.MAX_VALUE;
      }
      if (n < min || n > max) {
        throw new ConfigException(at(key) + " must be between " + min + " and " + max + " bytes, got '" + s + "'");
      }
      return n;
    }).orElse(defaultValue);
  }

  /**
   * An address {@code ip:port} (literal IP; port 0 binds an ephemeral port); {@code null} disables,
   * absent gives the default.
   */
  public Optional<InetSocketAddress> address(String key, Optional<InetSocketAddress> defaultValue) {
    if (!has(key)) {
      return node.has(key) ? Optional.empty() : defaultValue;
    }
    String s = string(key);
    return Optional.of(Hbone.parseBindAddress(s).orElseThrow(() ->
        new ConfigException(at(key) + " must be <ip>:<port> with a literal IP, got '" + s + "'")));
  }

  public Fields object(String key) {
    JsonNode v = value(key).orElseThrow(() -> new ConfigException(at(key) + " is required"));
    if (!v.isObject()) {
      throw new ConfigException(at(key) + " must be a mapping");
    }
    return new Fields(v, at(key));
  }

  public Optional<Fields> optionalObject(String key) {
    return value(key).map(v -> {
      if (!v.isObject()) {
        throw new ConfigException(at(key) + " must be a mapping");
      }
      return new Fields(v, at(key));
    });
  }

  /** A list of mappings, each turned into a T. */
  public <T> List<T> list(String key, BiFunction<Fields, Integer, T> item) {
    Optional<JsonNode> v = value(key);
    if (v.isEmpty()) {
      return List.of();
    }
    if (!v.get().isArray()) {
      throw new ConfigException(at(key) + " must be a list");
    }
    List<T> out = new ArrayList<>();
    for (int i = 0; i < v.get().size(); i++) {
      JsonNode e = v.get().get(i);
      String p = at(key) + "[" + i + "]";
      if (!e.isObject()) {
        throw new ConfigException(p + " must be a mapping");
      }
      out.add(item.apply(new Fields(e, p), i));
    }
    return out;
  }

  /** A list of scalars as strings. */
  public List<String> strings(String key) {
    Optional<JsonNode> v = value(key);
    if (v.isEmpty()) {
      return List.of();
    }
    if (!v.get().isArray()) {
      throw new ConfigException(at(key) + " must be a list");
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < v.get().size(); i++) {
      JsonNode e = v.get().get(i);
      if (!e.isValueNode() || e.isNull()) {
        throw new ConfigException(at(key) + "[" + i + "] must be a string");
      }
      out.add(e.asText());
    }
    return out;
  }

  /** A mapping of strings to strings. */
  public Map<String, String> stringMap(String key) {
    Optional<JsonNode> v = value(key);
    if (v.isEmpty()) {
      return Map.of();
    }
    if (!v.get().isObject()) {
      throw new ConfigException(at(key) + " must be a mapping");
    }
    Map<String, String> out = new LinkedHashMap<>();
    v.get().properties().forEach(e -> {
      if (!e.getValue().isValueNode()) {
        throw new ConfigException(at(key) + "." + e.getKey() + " must be a string");
      }
      out.put(e.getKey(), e.getValue().asText());
    });
    return out;
  }

  /** A mapping of strings to lists of strings (a single string is a list of one). */
  public Map<String, List<String>> stringListMap(String key) {
    Optional<JsonNode> v = value(key);
    if (v.isEmpty()) {
      return Map.of();
    }
    if (!v.get().isObject()) {
      throw new ConfigException(at(key) + " must be a mapping");
    }
    Map<String, List<String>> out = new LinkedHashMap<>();
    v.get().properties().forEach(e -> {
      JsonNode values = e.getValue();
      String at = at(key) + "." + e.getKey();
      List<String> list = new ArrayList<>();
      if (values.isArray()) {
        for (int i = 0; i < values.size(); i++) {
          if (!values.get(i).isValueNode() || values.get(i).isNull()) {
            throw new ConfigException(at + "[" + i + "] must be a string");
          }
          list.add(values.get(i).asText());
        }
      } else if (values.isValueNode() && !values.isNull()) {
        list.add(values.asText());
      } else {
        throw new ConfigException(at + " must be a string or a list of strings");
      }
      out.put(e.getKey(), list);
    });
    return out;
  }

  /** Throws when a key is not one of {@code known}: a typo must not be silently ignored. */
  public Fields only(String... known) {
    List<String> allowed = List.of(known);
    node.fieldNames().forEachRemaining(k -> {
      if (!allowed.contains(k)) {
        throw new ConfigException(at(k) + " is not a known field (known: " + String.join(", ", allowed) + ")");
      }
    });
    return this;
  }

  /** The path of this object, for messages. */
  public String path() {
    return path;
  }
}
