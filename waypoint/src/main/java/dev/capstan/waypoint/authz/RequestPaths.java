package dev.capstan.waypoint.authz;

/**
 * The path authorization compares, so that one resource cannot be reached under another
 * spelling that a DENY rule misses: percent-encoded unreserved characters decoded ({@code
 * /%61dmin} is {@code /admin}), runs of slashes merged ({@code //admin}), dot segments removed
 * ({@code /public/../admin}) — Istio's {@code MERGE_SLASHES} normalization. Encoded slashes and
 * backslashes ({@code %2F}, {@code %5C}) are kept as they are. The waypoint should forward the
 * path it authorized (the normalized one), as Envoy does.
 */
public final class RequestPaths {

  private RequestPaths() {}

  /** The normalized form of {@code path} (which starts with {@code /}). */
  public static String normalize(String path) {
    if (isPlain(path)) {
      return path;
    }
    String[] segments = decodeUnreserved(path).split("/", -1);
    java.util.ArrayDeque<String> kept = new java.util.ArrayDeque<>();
    boolean trailingSlash = false;
    // segments[0] is what precedes the first '/': empty for a path that starts with one.
    for (int k = 0; k < segments.length; k++) {
      String segment = segments[k];
      boolean last = k == segments.length - 1;
      boolean dots = segment.equals(".") || segment.equals("..");
      if (segment.equals("..")) {
        kept.pollLast();
      } else if (!segment.isEmpty() && !dots) {
        kept.addLast(segment);
      }
      trailingSlash = last && k > 0 && (segment.isEmpty() || dots);
    }
    StringBuilder out = new StringBuilder(path.length());
    for (String segment : kept) {
      out.append('/').append(segment);
    }
    if (trailingSlash || out.length() == 0) {
      out.append('/');
    }
    return out.toString();
  }

  /** Nothing to normalize: no {@code %}, no {@code //}, no dot segment. */
  private static boolean isPlain(String path) {
    if (!path.startsWith("/") || path.indexOf('%') >= 0 || path.contains("//")) {
      return false;
    }
    return !(path.contains("/./") || path.contains("/../") || path.endsWith("/.") || path.endsWith("/.."));
  }

  private static String decodeUnreserved(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%' && i + 2 < s.length()) {
        int hi = hex(s.charAt(i + 1));
        int lo = hex(s.charAt(i + 2));
        if (hi >= 0 && lo >= 0 && unreserved((char) (hi * 16 + lo))) {
          out.append((char) (hi * 16 + lo));
          i += 2;
          continue;
        }
      }
      out.append(c);
    }
    return out.toString();
  }

  private static int hex(char c) {
    return Character.digit(c, 16);
  }

  private static boolean unreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
  }
}
