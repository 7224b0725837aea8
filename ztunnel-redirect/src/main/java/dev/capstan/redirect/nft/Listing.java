package dev.capstan.redirect.nft;

import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code nft list table} prints, reduced to what Capstan controls: counter values are removed
 * (they change with traffic, and are no drift), as are blank-line and whitespace differences.
 */
public final class Listing {

  private static final Pattern COUNTER_VALUES = Pattern.compile("packets \\d+ bytes \\d+");
  private static final Pattern NAMED_COUNTER =
      Pattern.compile("counter\\s+(\\w+)\\s*\\{\\s*packets (\\d+) bytes (\\d+)\\s*}");

  private Listing() {}

  /** The listing without counter values, handles or layout. */
  public static String normalize(String listing) {
    String s = COUNTER_VALUES.matcher(listing).replaceAll("");
    s = s.replaceAll("# handle \\d+", "");
    StringBuilder out = new StringBuilder();
    for (String line : s.split("\n")) {
      String t = line.strip().replaceAll("\\s+", " ");
      if (!t.isEmpty()) {
        out.append(t).append('\n');
      }
    }
    return out.toString();
  }

  /** The named counters' packet counts in a listing. */
  public static Map<String, Long> packets(String listing) {
    Map<String, Long> counts = new TreeMap<>();
    Matcher m = NAMED_COUNTER.matcher(listing);
    while (m.find()) {
      counts.put(m.group(1), Long.parseLong(m.group(2)));
    }
    return counts;
  }
}
