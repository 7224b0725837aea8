package dev.capstan.benchmarks.plots;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A number as RESULTS.md writes it ({@code 32648}, {@code 1,281.0}, {@code 0.696}): its value, the
 * text it was read from, and how many decimals it was rounded to, which bounds what it can stand
 * for (±half a unit of its last digit).
 *
 * @param value the number
 * @param decimals digits after the decimal point in the text
 * @param text the text as written
 */
public record Decimal(double value, int decimals, String text) {

  private static final Pattern NUMBER = Pattern.compile("-?(?:\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.(\\d+))?");

  /** The number a whole cell holds (thousands separators allowed), or empty if it holds anything else. */
  public static Optional<Decimal> parse(String text) {
    String t = text.strip();
    Matcher m = NUMBER.matcher(t);
    if (!m.matches()) {
      return Optional.empty();
    }
    int decimals = m.group(1) == null ? 0 : m.group(1).length();
    return Optional.of(new Decimal(Double.parseDouble(t.replace(",", "")), decimals, t));
  }

  /** A ratio cell such as {@code 1.54x}, or empty. */
  public static Optional<Decimal> parseRatio(String text) {
    String t = text.strip();
    if (!t.endsWith("x")) {
      return Optional.empty();
    }
    return parse(t.substring(0, t.length() - 1));
  }

  /** Half a unit of the last digit written: the rounding this number may carry. */
  public double halfUnit() {
    return 0.5 * Math.pow(10, -decimals);
  }

  /** The smallest value that rounds to this text. */
  public double low() {
    return value - halfUnit();
  }

  /** The largest value that rounds to this text. */
  public double high() {
    return value + halfUnit();
  }
}
