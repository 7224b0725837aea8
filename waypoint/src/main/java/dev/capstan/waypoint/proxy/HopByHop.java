package dev.capstan.waypoint.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;

/**
 * Headers that belong to one connection, not to the message (RFC 9110 §7.6.1): removed before a
 * message goes on to the next hop. {@code Transfer-Encoding} stays: the HTTP/1.1 codecs frame the
 * body by it and the HTTP/2 codecs drop it.
 */
final class HopByHop {

  private static final List<CharSequence> ALWAYS = List.of("keep-alive", "proxy-connection",
      HttpHeaderNames.UPGRADE, HttpHeaderNames.PROXY_AUTHORIZATION, HttpHeaderNames.PROXY_AUTHENTICATE, "http2-settings");

  private HopByHop() {}

  static void strip(HttpHeaders headers) {
    for (String connection : headers.getAll(HttpHeaderNames.CONNECTION)) {
      for (String token : connection.split(",")) {
        String name = token.trim();
        if (!name.isEmpty() && !name.equalsIgnoreCase("close") && !name.equalsIgnoreCase("keep-alive")) {
          headers.remove(name);
        }
      }
    }
    headers.remove(HttpHeaderNames.CONNECTION);
    ALWAYS.forEach(headers::remove);
    String te = headers.get(HttpHeaderNames.TE);
    if (te != null && !te.trim().equalsIgnoreCase("trailers")) {
      headers.remove(HttpHeaderNames.TE);
    }
  }
}
