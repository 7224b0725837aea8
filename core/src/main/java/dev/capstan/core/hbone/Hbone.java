package dev.capstan.core.hbone;

import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.util.AsciiString;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;

/** HBONE's constants and the pieces both sides share. */
public final class Hbone {

  /** The HBONE port. */
  public static final int PORT = 15008;

  /** Original source of a connection; trusted only from a waypoint. */
  public static final AsciiString FORWARDED = AsciiString.cached("forwarded");

  /** Source workload metadata (W3C baggage). */
  public static final AsciiString BAGGAGE = AsciiString.cached("baggage");

  /** Longest {@code :authority} accepted: {@code [v6-address]:port}. */
  public static final int MAX_AUTHORITY_LENGTH = 64;

  public static final int OK = 200;
  public static final int BAD_REQUEST = 400;
  public static final int UNAUTHORIZED = 401;
  public static final int SERVICE_UNAVAILABLE = 503;

  private Hbone() {}

  /** The HTTP/2 codec with Capstan's settings, for either side. */
  public static Http2FrameCodec codec(boolean server, HboneSettings settings) {
    Http2Settings initial =
        Http2Settings.defaultSettings()
            .initialWindowSize(settings.streamWindow())
            .maxFrameSize(settings.maxFrameSize());
    if (server) {
      initial.maxConcurrentStreams(settings.maxConcurrentStreams());
    } else {
      initial.pushEnabled(false);
    }
    Http2FrameCodecBuilder builder = server ? Http2FrameCodecBuilder.forServer() : Http2FrameCodecBuilder.forClient();
    return builder.initialSettings(initial).validateHeaders(true).build();
  }

  /** Formats an authority {@code ip:port} / {@code [ip]:port}. */
  public static String authority(InetSocketAddress address) {
    InetAddress ip = address.getAddress();
    String host = ip.getHostAddress();
    return (ip instanceof Inet6Address ? "[" + host + "]" : host) + ":" + address.getPort();
  }

  /**
   * Parses an authority that must be a literal IP and a port, never a name: {@code 10.0.0.1:80} or
   * {@code [fd00::1]:80}. Empty when malformed.
   */
  public static Optional<InetSocketAddress> parseAuthority(CharSequence authority) {
    return parseAddress(authority, 1);
  }

  /** Like {@link #parseAuthority}, but port 0 (an ephemeral port) is allowed: for listen addresses. */
  public static Optional<InetSocketAddress> parseBindAddress(CharSequence address) {
    return parseAddress(address, 0);
  }

  private static Optional<InetSocketAddress> parseAddress(CharSequence authority, int minPort) {
    if (authority == null || authority.length() == 0 || authority.length() > MAX_AUTHORITY_LENGTH) {
      return Optional.empty();
    }
    String s = authority.toString();
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      return Optional.empty();
    }
    String host = s.substring(0, colon);
    String portText = s.substring(colon + 1);
    if (portText.length() > 5 || !portText.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return Optional.empty();
    }
    int port = Integer.parseInt(portText);
    if (port < minPort || port > 65535) {
      return Optional.empty();
    }
    Optional<InetAddress> ip;
    if (host.startsWith("[") && host.endsWith("]")) {
      ip = literalIp(host.substring(1, host.length() - 1)).filter(a -> a instanceof Inet6Address);
    } else {
      ip = literalIp(host).filter(a -> a instanceof Inet4Address);
    }
    return ip.map(a -> new InetSocketAddress(a, port));
  }

  /** {@code for="<ip>:<port>"}: the original source of a tunnelled connection (RFC 7239). */
  public static String forwardedFor(InetSocketAddress source) {
    return "for=\"" + authority(source) + "\"";
  }

  /**
   * {@code for="<ip>"} ({@code for="[<v6>]"}): the original source's address without a port, for a
   * tunnel that carries requests of several of the client's connections (a waypoint's reused
   * upstream connection).
   */
  public static String forwardedFor(InetAddress source) {
    String ip = source.getHostAddress();
    return "for=\"" + (source instanceof Inet6Address ? "[" + ip + "]" : ip) + "\"";
  }

  /**
   * The address of a {@code Forwarded} header made by {@link #forwardedFor}: exactly one element
   * {@code for="ip:port"}, or {@code for="ip"} (then port 0). Empty when absent or anything else (a
   * list, other parameters, a name).
   */
  public static Optional<InetSocketAddress> parseForwardedFor(CharSequence header) {
    if (header == null || header.length() > MAX_AUTHORITY_LENGTH + 8) {
      return Optional.empty();
    }
    String s = header.toString().trim();
    if (!s.regionMatches(true, 0, "for=\"", 0, 5) || !s.endsWith("\"") || s.length() < 7) {
      return Optional.empty();
    }
    String node = s.substring(5, s.length() - 1);
    if (node.startsWith("[") && node.endsWith("]")) {
      return literalIp(node.substring(1, node.length() - 1)).filter(a -> a instanceof Inet6Address)
          .map(a -> new InetSocketAddress(a, 0));
    }
    if (node.indexOf(':') < 0) {
      return literalIp(node).filter(a -> a instanceof Inet4Address).map(a -> new InetSocketAddress(a, 0));
    }
    return parseAuthority(node);
  }

  /** A literal IPv4 or IPv6 address; never resolves a name. */
  public static Optional<InetAddress> literalIp(String text) {
    if (text == null || text.isEmpty() || text.length() > 45) {
      return Optional.empty();
    }
    boolean v4 = text.chars().allMatch(c -> (c >= '0' && c <= '9') || c == '.');
    boolean v6 = text.indexOf(':') >= 0 && text.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.');
    if (v4) {
      String[] parts = text.split("\\.", -1);
      if (parts.length != 4) {
        return Optional.empty();
      }
      for (String p : parts) {
        if (p.isEmpty() || p.length() > 3 || Integer.parseInt(p) > 255) {
          return Optional.empty();
        }
      }
    } else if (!v6) {
      return Optional.empty();
    }
    try {
      // Only literals reach this point, so no name resolution happens.
      return Optional.of(InetAddress.getByName(text));
    } catch (java.net.UnknownHostException e) {
      return Optional.empty();
    }
  }
}
