package dev.capstan.waypoint.telemetry;

import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * W3C Trace Context {@code traceparent} as a proxy handles it: keep the caller's trace id and
 * flags, start a new span id (the waypoint's hop), and start a new trace when the header is
 * missing or invalid. Only version {@code 00} is understood; a later version's first four fields
 * are read the same way, as the spec asks.
 *
 * @param traceId 32 lower-case hex digits, not all zero
 * @param spanId 16 lower-case hex digits, not all zero: this hop's id, sent as the parent id
 * @param flags 2 hex digits
 * @param continued whether the trace came from the caller
 */
public record Traceparent(String traceId, String spanId, String flags, boolean continued) {

  /** The header value to send on. */
  public String header() {
    return "00-" + traceId + "-" + spanId + "-" + flags;
  }

  /** The next hop for an incoming header value ({@code null} when absent); {@code random} gives 64 random bits. */
  public static Traceparent next(String incoming, LongSupplier random) {
    String span = hex16(random);
    if (incoming != null) {
      String[] parts = incoming.trim().toLowerCase(Locale.ROOT).split("-");
      if (parts.length >= 4 && hex(parts[0], 2) && !parts[0].equals("ff") && hex(parts[1], 32) && hex(parts[2], 16)
          && hex(parts[3], 2) && !zero(parts[1]) && !zero(parts[2]) && (parts.length == 4 || !parts[0].equals("00"))) {
        return new Traceparent(parts[1], span, parts[3], true);
      }
    }
    return new Traceparent(hex16(random) + hex16(random), span, "01", false);
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private static String hex16(LongSupplier random) {
    long v;
    do {
      v = random.getAsLong();
    } while (v == 0);
    char[] hex = new char[16];
    for (int i = 15; i >= 0; i--, v >>>= 4) {
      hex[i] = HEX[(int) (v & 0xf)];
    }
    return new String(hex);
  }

  private static boolean hex(String s, int length) {
    if (s.length() != length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  private static boolean zero(String s) {
    return s.chars().allMatch(c -> c == '0');
  }
}
