package dev.capstan.e2e.tools;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@code --name value} options and positional arguments of a tool's command line. */
final class Args {
  private final Map<String, String> options = new HashMap<>();
  private final List<String> positional;

  Args(String[] argv) {
    List<String> rest = new java.util.ArrayList<>();
    for (int i = 0; i < argv.length; i++) {
      if (argv[i].startsWith("--")) {
        if (i + 1 >= argv.length) {
          throw new IllegalArgumentException(argv[i] + " needs a value");
        }
        options.put(argv[i].substring(2), argv[++i]);
      } else {
        rest.add(argv[i]);
      }
    }
    positional = List.copyOf(rest);
  }

  String positional(int i, String what) {
    if (i >= positional.size()) {
      throw new IllegalArgumentException("missing argument " + (i + 1) + ": " + what);
    }
    return positional.get(i);
  }

  int integer(String name, int fallback, int min, int max) {
    String v = options.get(name);
    if (v == null) {
      return fallback;
    }
    int n = Integer.parseInt(v);
    if (n < min || n > max) {
      throw new IllegalArgumentException("--" + name + " must be " + min + ".." + max + ", got " + n);
    }
    return n;
  }

  String string(String name, String fallback) {
    return options.getOrDefault(name, fallback);
  }
}
