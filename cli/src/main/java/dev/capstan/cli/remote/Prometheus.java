package dev.capstan.cli.remote;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The samples of a Prometheus text exposition, read just enough for the demo's summary. */
public final class Prometheus {

  /** One sample: metric name, labels, value. */
  public record Sample(String name, Map<String, String> labels, double value) {
    public String label(String key) {
      return labels.getOrDefault(key, "");
    }
  }

  private Prometheus() {}

  /** Every sample of {@code text} (comments skipped; a line that does not parse is skipped too). */
  public static List<Sample> parse(String text) {
    List<Sample> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      try {
        out.add(sample(line.strip()));
      } catch (RuntimeException skipped) {
        // not a sample the demo can read: leave it out
      }
    }
    return out;
  }

  private static Sample sample(String line) {
    int brace = line.indexOf('{');
    int space = line.lastIndexOf(' ');
    Map<String, String> labels = new LinkedHashMap<>();
    String name;
    if (brace >= 0 && brace < space) {
      name = line.substring(0, brace);
      int end = line.lastIndexOf('}');
      String body = line.substring(brace + 1, end);
      int i = 0;
      while (i < body.length()) {
        int eq = body.indexOf('=', i);
        String key = body.substring(i, eq).strip();
        int q = body.indexOf('"', eq) + 1;
        StringBuilder value = new StringBuilder();
        int j = q;
        while (body.charAt(j) != '"') {
          if (body.charAt(j) == '\\') {
            j++;
          }
          value.append(body.charAt(j));
          j++;
        }
        labels.put(key, value.toString());
        i = j + 1;
        while (i < body.length() && (body.charAt(i) == ',' || body.charAt(i) == ' ')) {
          i++;
        }
      }
    } else {
      name = line.substring(0, line.indexOf(' '));
    }
    return new Sample(name, labels, Double.parseDouble(line.substring(space + 1)));
  }
}
