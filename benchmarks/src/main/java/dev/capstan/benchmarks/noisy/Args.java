package dev.capstan.benchmarks.noisy;

import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;

/** {@code --name=value} command-line arguments over defaults; an unknown name or a bad value ends the program. */
final class Args {
  private final String program;
  private final Map<String, String> values;

  private Args(String program, Map<String, String> values) {
    this.program = program;
    this.values = values;
  }

  static Args parse(String program, String[] argv, Map<String, String> defaults) {
    Map<String, String> values = new HashMap<>(defaults);
    for (String a : argv) {
      int eq = a.indexOf('=');
      if (!a.startsWith("--") || eq < 0) {
        throw usage(program, "expected --name=value, got '" + a + "'", defaults);
      }
      String name = a.substring(2, eq);
      if (!defaults.containsKey(name)) {
        throw usage(program, "unknown argument --" + name, defaults);
      }
      values.put(name, a.substring(eq + 1));
    }
    return new Args(program, values);
  }

  private static IllegalArgumentException usage(String program, String problem, Map<String, String> defaults) {
    return new IllegalArgumentException(program + ": " + problem + "; arguments (with defaults): " + defaults);
  }

  /** Whether the argument was given a non-empty value. */
  boolean has(String name) {
    String v = values.get(name);
    return v != null && !v.isEmpty();
  }

  String string(String name) {
    String v = values.get(name);
    if (v == null || v.isEmpty()) {
      throw new IllegalArgumentException(program + ": --" + name + " is required");
    }
    return v;
  }

  int integer(String name, int min) {
    String v = string(name);
    try {
      int n = Integer.parseInt(v);
      if (n < min) {
        throw new IllegalArgumentException(program + ": --" + name + " must be at least " + min + ", got " + v);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(program + ": --" + name + " must be an integer, got '" + v + "'", e);
    }
  }

  /** A byte count: a number with an optional KiB/MiB/GiB suffix. */
  long bytes(String name) {
    String v = string(name);
    long unit = 1;
    String n = v;
    if (v.endsWith("KiB")) {
      unit = 1L << 10;
      n = v.substring(0, v.length() - 3);
    } else if (v.endsWith("MiB")) {
      unit = 1L << 20;
      n = v.substring(0, v.length() - 3);
    } else if (v.endsWith("GiB")) {
      unit = 1L << 30;
      n = v.substring(0, v.length() - 3);
    }
    try {
      return Long.parseLong(n.trim()) * unit;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(program + ": --" + name + " must be a size like 2MiB, got '" + v + "'", e);
    }
  }

  /** {@code host:port}, resolved (the benchmark uses literal loopback addresses only). */
  InetSocketAddress address(String name) {
    String v = string(name);
    int colon = v.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException(program + ": --" + name + " must be host:port, got '" + v + "'");
    }
    return new InetSocketAddress(v.substring(0, colon), Integer.parseInt(v.substring(colon + 1)));
  }
}
